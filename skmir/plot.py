"""Figures: the paper's representations (fig. 4), learned kernels (figs. 9-10),
training history, comparison box plots, confusion matrices and taggrams.

matplotlib with librosa.display for spectrograms; every function takes an optional
``ax`` (or ``fig``) and returns what it drew on, and works headless (Agg backend when
no display is set).
"""

import os
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=120):
    """Save a figure atomically (temporary file, then rename) and close it.

    A failed save leaves no temporary file and the previous ``path``, if any.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Target file; the format follows its extension.
    dpi : int, default=120

    Returns
    -------
    path : pathlib.Path
    """
    from skmir._files import atomic_write

    plt = _pyplot()
    path = Path(path)
    try:
        # the temporary file keeps path's suffix, from which matplotlib picks the format
        with atomic_write(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def plot_representations(y, sr=22050, hop_length=512, n_mels=128, fig=None):
    """The paper's fig. 4 for one clip: waveform, STFT, mel-spectrogram, CQT, chromagram.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        One mono waveform.
    sr : int, default=22050
    hop_length : int, default=512
    n_mels : int, default=128
    fig : matplotlib.figure.Figure or None
        Drawn into when given.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.plot import plot_representations
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype("float32")
    >>> [ax.get_title() for ax in plot_representations(y).axes if ax.get_title()]
    ['Waveform', 'STFT (dB)', 'Mel-spectrogram (dB)', 'CQT (dB)', 'Chromagram']
    """
    import librosa
    import librosa.display

    from skmir.preprocessing import LogCompression
    from skmir.representations import CQT, STFT, Chromagram, MelSpectrogram

    plt = _pyplot()
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"plot_representations takes one mono clip (1-D), got shape {y.shape}.")
    X = y[None]
    db = LogCompression(method="db", power=1.0)
    panels = [
        ("STFT (dB)", db.transform(STFT(hop_length=hop_length).transform(X))[0], "linear"),
        ("Mel-spectrogram (dB)", LogCompression(method="db").transform(
            MelSpectrogram(sr=sr, hop_length=hop_length, n_mels=n_mels).transform(X))[0], "mel"),
        ("CQT (dB)", db.transform(CQT(sr=sr, hop_length=hop_length).transform(X))[0], "cqt_note"),
        ("Chromagram", Chromagram(sr=sr, hop_length=hop_length).transform(X)[0], "chroma"),
    ]
    fig = fig or plt.figure(figsize=(9, 11), layout="constrained")
    # Colorbars get their own column so that every time axis has the same width.
    axes = fig.subplots(5, 2, gridspec_kw={"width_ratios": [40, 1]})
    librosa.display.waveshow(y, sr=sr, ax=axes[0, 0])
    axes[0, 0].set(title="Waveform", ylabel="amplitude", xlabel="")
    axes[0, 1].axis("off")
    for (ax, cax), (title, S, y_axis) in zip(axes[1:], panels):
        img = librosa.display.specshow(S, sr=sr, hop_length=hop_length, x_axis="time",
                                       y_axis=y_axis, ax=ax)
        ax.set(title=title, xlabel="" if title != panels[-1][0] else "Time (s)")
        fig.colorbar(img, cax=cax)
    for ax in axes[:, 0]:
        ax.set_xlim(0, len(y) / sr)
    return fig


def plot_scores(results, ax=None):
    """Box plot of per-fold scores of every model of a :func:`skmir.compare` run.

    Parameters
    ----------
    results : skmir.evaluation.ComparisonResults
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    plt = _pyplot()
    ax = ax or plt.figure(figsize=(1.5 + 1.2 * len(results.scores), 4)).gca()
    names = [r["model"] for r in results.summary()]
    ax.boxplot([results.scores[n] for n in names], showmeans=True)
    ax.set_xticks(range(1, len(names) + 1), names, rotation=20)
    for i, n in enumerate(names, start=1):
        ax.scatter(np.full(len(results.scores[n]), i), results.scores[n], s=12, alpha=0.6)
    if results.baseline:
        ax.axhline(np.mean(results.scores[results.baseline]), ls="--", lw=1, color="gray",
                   label=f"{results.baseline} mean")
        ax.legend(loc="lower right")
    ax.set(ylabel=results.scoring, title=f"{len(next(iter(results.scores.values())))}-fold "
           "cross-validation")
    return ax


def plot_confusion_matrix(y_true, y_pred, labels=None, normalize="true", title=None, ax=None):
    """Confusion matrix, rows normalised to recall by default.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_clips,)
    labels : sequence or None
        Class order; None means sorted unique labels.
    normalize : {"true", "pred", "all"} or None, default="true"
    title : str or None
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> from skmir.plot import plot_confusion_matrix
    >>> ax = plot_confusion_matrix(["a", "b", "b"], ["a", "b", "a"])
    >>> ax.get_xlabel()
    'Predicted label'
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    plt = _pyplot()
    n = len(np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)])))
    ax = ax or plt.figure(figsize=(2 + 0.6 * n, 1.5 + 0.6 * n)).gca()
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=labels, normalize=normalize,
                                            ax=ax, colorbar=False, values_format=".2f",
                                            xticks_rotation=45)
    if title:
        ax.set_title(title)
    return ax


def plot_taggram(taggram, tags, seconds_per_patch=187 * 256 / 16000, top=None, ax=None):
    """A taggram: the tag probabilities of a clip over time, as musicnn's demos show.

    Parameters
    ----------
    taggram : array-like of shape (n_patches, n_tags)
        One clip's row of :meth:`skmir.PretrainedTagger.taggram`.
    tags : sequence of str
        The tag of each column (``PretrainedTagger.tags_``).
    seconds_per_patch : float, default=2.99
        Time between patch starts (``patch_hop * 256 / 16000``; 187 frames by default).
    top : int or None, default=None
        Show only the ``top`` tags of highest mean probability (None: all).
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.plot import plot_taggram
    >>> ax = plot_taggram(np.random.default_rng(0).random((4, 3)), ["rock", "pop", "jazz"])
    >>> ax.get_xlabel(), [t.get_text() for t in ax.get_yticklabels()]
    ('time (s)', ['rock', 'pop', 'jazz'])
    """
    plt = _pyplot()
    T = np.asarray(taggram, dtype=float)
    tags = np.asarray(tags, dtype=object)
    if T.ndim != 2 or T.shape[1] != len(tags):
        raise ValueError(f"taggram must be (n_patches, n_tags) with one tag name per column; "
                         f"got shape {T.shape} and {len(tags)} tags.")
    keep = np.arange(len(tags)) if top is None else np.argsort(-T.mean(axis=0))[:top]
    ax = ax or plt.figure(figsize=(2 + 0.5 * len(T), 1 + 0.22 * len(keep)),
                          layout="constrained").gca()
    extent = (0, len(T) * seconds_per_patch, len(keep) - 0.5, -0.5)
    image = ax.imshow(T[:, keep].T, aspect="auto", interpolation="nearest", cmap="Blues",
                      vmin=0, vmax=1, extent=extent)
    ax.set_yticks(np.arange(len(keep)), [str(t) for t in tags[keep]])
    ax.set_xlabel("time (s)")
    ax.set_title("Taggram: tag probability per patch")
    ax.figure.colorbar(image, ax=ax, label="probability")
    return ax


def _fitted_net(estimator):
    """The skorch net of a fitted skmir neural estimator, or of a pipeline's last step."""
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    net = getattr(final, "net_", None)
    if net is None:
        raise ValueError(
            f"{type(final).__name__} has no trained network (net_): pass a fitted "
            "skmir neural estimator, or a fitted pipeline that ends in one."
        )
    return net


def plot_history(estimator, ax=None):
    """Training and validation loss per epoch (and validation accuracy when recorded).

    Parameters
    ----------
    estimator : fitted skmir neural estimator or Pipeline ending in one
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import NeuralClassifier
    >>> from skmir.plot import plot_history
    >>> X = np.random.default_rng(0).normal(size=(40, 8, 10)).astype("float32")
    >>> y = np.repeat([0, 1], 20)
    >>> X[y == 1, 2] += 2
    >>> est = NeuralClassifier("conv1d", channels=4, hidden=8, max_epochs=3).fit(X, y)
    >>> plot_history(est).get_ylabel()
    'loss'
    """
    plt = _pyplot()
    history = _fitted_net(estimator).history
    ax = ax or plt.figure(figsize=(6, 4)).gca()
    epochs = history[:, "epoch"]
    ax.plot(epochs, history[:, "train_loss"], label="training loss")
    if "valid_loss" in history[-1]:
        valid = history[:, "valid_loss"]
        ax.plot(epochs, valid, label="validation loss")
        best = int(np.argmin(valid))
        ax.axvline(epochs[best], ls=":", color="gray", label=f"best epoch ({epochs[best]})")
    if "valid_acc" in history[-1]:
        acc_ax = ax.twinx()
        acc_ax.plot(epochs, history[:, "valid_acc"], color="tab:green", alpha=0.6)
        acc_ax.set_ylabel("validation accuracy", color="tab:green")
    ax.set(xlabel="epoch", ylabel="loss", title="Training history")
    ax.legend(loc="upper right")
    return ax


def plot_kernels(estimator, max_kernels=32, fig=None):
    """The first convolutional layer's kernels (the paper's figs. 9 and 10).

    For ``c2`` layers each kernel is a small (frequency x time) patch of the first
    input channel; for ``c1`` layers, whose kernels span every frequency bin, each
    is a (bins x time) image.

    Parameters
    ----------
    estimator : fitted skmir neural estimator or Pipeline ending in one
    max_kernels : int, default=32
    fig : matplotlib.figure.Figure or None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    import torch

    plt = _pyplot()
    module = _fitted_net(estimator).module_
    conv = next((m for m in module.modules()
                 if isinstance(m, (torch.nn.Conv1d, torch.nn.Conv2d))), None)
    if conv is None:
        raise ValueError("The network has no convolutional layer (c1 or c2) to show.")
    W = conv.weight.detach().cpu().float().numpy()
    kernels = W[:, 0] if W.ndim == 4 else W  # (out, freq, time)
    kernels = kernels[:max_kernels]
    n = len(kernels)
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    fig = fig or plt.figure(figsize=(1.6 * cols, 1.6 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    lim = np.abs(kernels).max() or 1.0
    for ax, k in zip(axes, kernels):
        ax.imshow(k, origin="lower", aspect="auto", cmap="coolwarm", vmin=-lim, vmax=lim)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    kind = "c2 (first input channel)" if W.ndim == 4 else "c1 (all bins)"
    fig.suptitle(f"First-layer kernels, {kind}: frequency up, time right")
    return fig
