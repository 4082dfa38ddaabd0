"""Figures: the paper's representations (fig. 4), learned kernels (figs. 9-10),
training history, comparison box plots, confusion matrices and taggrams.

matplotlib with librosa.display for spectrograms; every function takes an optional
``ax`` (or ``fig``) and returns what it drew on, and works headless (Agg backend when
no display is set).

Labels in any script: text falls back, glyph by glyph, from ``rcParams["font.family"]``
to installed fonts covering more scripts (DejaVu Sans: Latin, Greek, Cyrillic; Noto Sans
CJK and similar: Chinese, Japanese, Korean). Characters that no installed font has
draw, with one warning naming the font to install.
"""

import functools
import os
import unicodedata
import warnings
from pathlib import Path

import numpy as np

from skmir._validation import entry_point, refusal


def _pyplot():
    import matplotlib

    if not os.environ.get("DISPLAY") and matplotlib.get_backend().lower() != "agg":
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# Tried in order after the user's own families for the glyphs those lack (matplotlib
# falls back glyph by glyph along font.family). Only installed ones are used.
_FALLBACK_FONTS = (
    "DejaVu Sans", "Noto Sans", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC",
    "Noto Sans CJK KR", "Source Han Sans", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
    "Droid Sans Fallback", "IPAGothic", "IPAexGothic", "Noto Sans Arabic",
    "Noto Sans Hebrew", "Noto Sans Devanagari", "Noto Sans Thai", "Arial Unicode MS",
    "Microsoft YaHei", "SimHei", "Hiragino Sans", "PingFang SC", "Apple SD Gothic Neo",
    "Malgun Gothic",
)
_CJK_PREFIXES = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO", "IDEOGRAPHIC",
                 "FULLWIDTH", "HALFWIDTH")
_WARNED = set()  # the font suggestions already made: each is made once per process


def _font_families():
    """The user's font families followed by the installed fallback fonts."""
    import matplotlib
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    families = list(matplotlib.rcParams["font.family"])
    # a fallback that is already the font of a family before it adds nothing
    paths = {_font_path(f) for f in families}
    for family in _FALLBACK_FONTS:
        if family in installed and family not in families:
            path = _font_path(family)
            if path not in paths:
                families.append(family)
                paths.add(path)
    return families


def _font_path(family, fallback_to_default=True):
    """The file of a family name or generic family ("sans-serif"); ValueError if none."""
    from matplotlib import font_manager

    return font_manager.findfont(font_manager.FontProperties(family=[family]),
                                 fallback_to_default=fallback_to_default)


@functools.cache
def _charmap(path):
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


def _missing_glyphs(texts, families):
    """The characters of ``texts`` that none of ``families`` can draw."""
    chars = {c for t in texts for c in t if ord(c) > 0x24F and c.isprintable()
             and not c.isspace()}  # Latin, which DejaVu Sans (always a fallback) has
    if not chars:
        return []
    maps = []
    for family in families:
        try:
            maps.append(_charmap(_font_path(family, fallback_to_default=False)))
        except ValueError:
            continue
    return sorted(c for c in chars if not any(ord(c) in m for m in maps))


def _fonts_covering(chars, families):
    """Installed font families, not among ``families``, that have some of ``chars``."""
    from matplotlib import font_manager

    found, left = [], {ord(c) for c in chars}
    for entry in font_manager.fontManager.ttflist:
        # Last Resort draws every character as a placeholder box: not a glyph
        if not left or entry.name in families or entry.name in found \
                or entry.name.startswith("Last Resort"):
            continue
        covered = left & _charmap(entry.fname)
        if covered:
            found.append(entry.name)
            left -= covered
    return found


def _warn_missing_glyphs(missing, families):
    if not missing:
        return
    cjk = [c for c in missing if unicodedata.name(c, "").startswith(_CJK_PREFIXES)]
    for chars, font, package in (
            (cjk, "Noto Sans CJK", "fonts-noto-cjk"),
            ([c for c in missing if c not in cjk], "Noto Sans", "fonts-noto-core")):
        if not chars or font in _WARNED:
            continue
        _WARNED.add(font)
        import matplotlib

        warnings.warn(
            f"skmir.plot: no installed font has the characters {''.join(chars[:10])!r} "
            f"of these labels (fonts tried: {', '.join(families)}), so they draw as empty "
            f"boxes. Install {font} (Debian/Ubuntu: apt install {package}) and delete "
            f"matplotlib's font cache ({matplotlib.get_cachedir()}/fontlist-*.json).",
            UserWarning, stacklevel=3)


def _font_fallback(plot):
    """Draw ``plot``'s figure with the fallback fonts; warn once about glyphs none has."""
    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        import matplotlib
        from matplotlib.figure import Figure
        from matplotlib.text import Text

        default = list(matplotlib.rcParams["font.family"])
        families = _font_families()
        with matplotlib.rc_context({"font.family": families}):
            drawn = plot(*args, **kwargs)
        fig = drawn if isinstance(drawn, Figure) else drawn.figure
        texts = fig.findobj(Text)
        strings = [t.get_text() for t in texts]
        # a script that none of the known fallbacks covers: any installed font that does
        more = _fonts_covering(_missing_glyphs(strings, families), families)
        for text in texts:
            # texts made before this call (a caller's axes) get the fallbacks too,
            # unless their family was chosen by hand
            if text.get_fontfamily() in (default, families):
                text.set_fontfamily(families + more)
        _warn_missing_glyphs(_missing_glyphs(strings, families + more), families + more)
        return drawn

    return wrapper


@entry_point
def save_figure(fig, path, dpi=120, close=True):
    """Save a figure atomically (temporary file, then rename), and close it.

    A failed save leaves no temporary file and the previous ``path``, if any.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Target file; the format follows its extension.
    dpi : int, default=120
    close : bool, default=True
        Close the figure after saving (False keeps it open, e.g. to show it).

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
        if close:
            plt.close(fig)
    return path


@entry_point
@_font_fallback
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

    from skmir.representations import CQT, STFT, Chromagram, LogCompression, MelSpectrogram

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
        fig.colorbar(img, cax=cax, label="dB" if "dB" in title else "energy (frame max = 1)")
    for ax in axes[:, 0]:
        ax.set_xlim(0, len(y) / sr)
    return fig


@entry_point
@_font_fallback
def plot_scores(results, ax=None):
    """Box plot of the per-fold scores of every model of a :func:`skmir.compare` run.

    One box per model, best mean first, every model scored on the same folds. Each
    dot is one fold's score; the box spans the middle half of the folds (25th to
    75th percentile), the orange line is the median, the green triangle the mean,
    and the whiskers reach the lowest and highest folds within 1.5 box heights of
    the box. Each model's tick label gives its mean ± standard deviation over the
    folds, a dashed line marks the baseline's mean and red lines the chance levels
    (:meth:`~skmir.model_selection.ComparisonResults.chance_levels`). A legend to the
    right of the axes, clear of the data, says all this.

    Parameters
    ----------
    results : skmir.model_selection.ComparisonResults
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.model_selection import ComparisonResults
    >>> from skmir.plot import plot_scores
    >>> scores = {"cnn": np.array([0.7, 0.8, 0.75]), "mfcc-svm": np.array([0.6, 0.65, 0.5])}
    >>> seconds = {name: np.ones(3) for name in scores}
    >>> res = ComparisonResults(scores, seconds, seconds, {}, np.zeros(6), baseline="mfcc-svm",
    ...                         scoring="accuracy", splits=[(np.arange(4), np.arange(4, 6))] * 3)
    >>> ax = plot_scores(res)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['cnn\\n0.750 ± 0.041', 'mfcc-svm\\n0.583 ± 0.062']
    >>> [t.get_text() for t in ax.get_legend().get_texts()][1:3]
    ['median', 'mean']
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    plt = _pyplot()
    rows = results.summary()
    names = [r["model"] for r in rows]
    n_folds = len(results.scores[names[0]])
    if ax is None:
        ax = plt.figure(figsize=(4.5 + 1.1 * len(names), 4.2), layout="constrained").gca()
    median = {"color": "tab:orange", "linewidth": 2}
    mean = {"marker": "^", "markerfacecolor": "tab:green", "markeredgecolor": "tab:green",
            "markersize": 8}
    ax.boxplot([results.scores[n] for n in names], showmeans=True, showfliers=False,
               widths=0.5, medianprops=median, meanprops=mean)
    # the dots fan out a little so that folds with equal scores stay visible
    offsets = np.linspace(-0.12, 0.12, n_folds) if n_folds > 1 else np.zeros(1)
    for i, n in enumerate(names, start=1):
        ax.scatter(i + offsets, results.scores[n], s=14, color="0.3", alpha=0.7, zorder=3)
    ax.set_xticks(range(1, len(names) + 1),
                  [f"{r['model']}\n{r['mean']:.3f} ± {r['std']:.3f}" for r in rows])
    handles = [
        Line2D([], [], ls="none", marker="o", markersize=4, color="0.3", alpha=0.7,
               label="one fold's score"),
        Line2D([], [], **median, label="median"),
        Line2D([], [], ls="none", **mean, label="mean"),
        Patch(facecolor="none", edgecolor="black",
              label="box: middle half of the folds\n(25th to 75th percentile)"),
        Line2D([], [], color="black", linewidth=1,
               label="whiskers: lowest and highest fold\nwithin 1.5 box heights"),
    ]
    if results.baseline:
        line = ax.axhline(np.mean(results.scores[results.baseline]), ls="--", lw=1,
                          color="gray", label=f"{results.baseline} mean (baseline)")
        handles.append(line)
    for (label, s), style in zip(results.chance_levels().items(), (":", "-.")):
        handles.append(ax.axhline(np.mean(s), ls=style, lw=1, color="tab:red",
                                  label=f"{label} ({np.mean(s):.3f})"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0,
              fontsize="small", title="Reading the boxes", title_fontsize="small")
    ax.set(ylabel=results.scoring, xlabel="model: mean ± standard deviation over the folds",
           title=f"{results.scoring} of each of {n_folds} cross-validation folds")
    return ax


# What the colours and numbers of a confusion matrix are, for each ``normalize``
_NORMALISATION = {
    "true": ("fraction of true class (each row sums to 1)", "rows normalised: recall"),
    "pred": ("fraction of predicted class (each column sums to 1)",
             "columns normalised: precision"),
    "all": ("fraction of all clips (all cells sum to 1)", "normalised over all clips"),
    None: ("number of clips", "counts"),
}


@entry_point
@_font_fallback
def plot_confusion_matrix(y_true, y_pred, labels=None, normalize="true", title=None, ax=None):
    """Confusion matrix, rows normalised by default, with a colour bar.

    With ``normalize="true"`` (the default) each row is divided by the number of
    clips of its true class, so a row reads as the fractions of that class's clips
    given each label and the diagonal is each class's recall; the colour bar says
    so ("fraction of true class"). Every cell is annotated with its value.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_clips,)
    labels : sequence or None
        Class order; None means sorted unique labels.
    normalize : {"true", "pred", "all"} or None, default="true"
        Normalise over true classes (rows), predicted classes (columns), all clips,
        or not at all (counts).
    title : str or None
        None: "Confusion matrix" and the normalisation.
    ax : matplotlib.axes.Axes or None

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> from skmir.plot import plot_confusion_matrix
    >>> ax = plot_confusion_matrix(["a", "b", "b"], ["a", "b", "a"])
    >>> ax.get_xlabel(), ax.get_title()
    ('Predicted label', 'Confusion matrix (rows normalised: recall)')
    >>> ax.figure.axes[-1].get_ylabel()
    'fraction of true class (each row sums to 1)'
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    if normalize not in _NORMALISATION:
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}.")
    plt = _pyplot()
    n = len(labels) if labels is not None else len(
        np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)])))
    ax = ax or plt.figure(figsize=(3 + 0.6 * n, 2 + 0.55 * n), layout="constrained").gca()
    meaning, short = _NORMALISATION[normalize]
    # fractions share one scale, 0 to 1, so that two matrices' colours compare
    display = ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, labels=labels, normalize=normalize, ax=ax, colorbar=False,
        values_format=".2f" if normalize else "d", xticks_rotation=45,
        im_kw={"vmin": 0, "vmax": 1} if normalize else None,
        text_kw={"fontsize": 10 if n <= 8 else max(5, 80 / n)})  # numbers fit their cells
    ax.figure.colorbar(display.im_, ax=ax, label=meaning)
    ax.set_title(title if title is not None else f"Confusion matrix ({short})")
    return ax


@entry_point
@_font_fallback
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


@entry_point
@_font_fallback
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
    >>> ax = plot_history(est)
    >>> legend = [t.get_text() for t in ax.get_legend().get_texts()]
    >>> ax.get_ylabel(), legend[:2], legend[-1]
    ('loss', ['training loss', 'validation loss'], 'validation accuracy')
    """
    plt = _pyplot()
    history = _fitted_net(estimator).history
    ax = ax or plt.figure(figsize=(7.5, 4), layout="constrained").gca()
    epochs = history[:, "epoch"]
    ax.plot(epochs, history[:, "train_loss"], label="training loss")
    if "valid_loss" in history[-1]:
        valid = history[:, "valid_loss"]
        ax.plot(epochs, valid, label="validation loss")
        best = int(np.argmin(valid))
        ax.axvline(epochs[best], ls=":", color="gray", label=f"best epoch ({epochs[best]})")
    handles = ax.get_lines()
    if "valid_acc" in history[-1]:
        acc_ax = ax.twinx()
        handles += acc_ax.plot(epochs, history[:, "valid_acc"], color="tab:green", alpha=0.6,
                               label="validation accuracy")
        acc_ax.set_ylabel("validation accuracy", color="tab:green")
    ax.set(xlabel="epoch", ylabel="loss", title="Training history")
    # right of the axes (and of the accuracy axis's labels), clear of the curves
    ax.legend(handles=handles, loc="upper left", borderaxespad=0, fontsize="small",
              bbox_to_anchor=(1.16 if len(handles) > len(ax.get_lines()) else 1.02, 1))
    return ax


@entry_point
@_font_fallback
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
    fig = fig or plt.figure(figsize=(1.6 * cols + 1.2, 1.6 * rows + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    lim = np.abs(kernels).max() or 1.0
    for ax, k in zip(axes, kernels):
        image = ax.imshow(k, origin="lower", aspect="auto", cmap="coolwarm", vmin=-lim,
                          vmax=lim)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.set_axis_off()
    # one scale for every kernel, centred on 0: red excites, blue inhibits
    fig.colorbar(image, ax=axes.tolist(), label="weight", shrink=0.8)
    kind = "c2 (first input channel)" if W.ndim == 4 else "c1 (all bins)"
    fig.suptitle(f"First-layer kernels, {kind}: frequency up, time right")
    return fig


@entry_point
@_font_fallback
def plot_frontend_kernels(estimator, max_kernels=16, fig=None):
    """The learned first layer of a waveform front end and its frequency responses
    (the paper's fig. 9: 1-D kernels learned on samples).

    For a raw-waveform front end (``frontend="dieleman2014"`` or ``"samplecnn"``):
    the first convolution's kernels over time (left) and the magnitude responses of
    all its kernels in dB, sorted by the frequency of their peak (right), in Hz when
    the front end's sample rate is known. For ``frontend="learned-mel"``: the
    learned filters over frequency, dashed over the mel filters they started from.

    Parameters
    ----------
    estimator : fitted skmir neural estimator with a frontend, or Pipeline ending in one
    max_kernels : int, default=16
        Kernels drawn over time (the responses show every kernel).
    fig : matplotlib.figure.Figure or None

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import NeuralClassifier
    >>> from skmir.plot import plot_frontend_kernels
    >>> X = np.random.default_rng(0).normal(size=(20, 2048)).astype("float32")
    >>> est = NeuralClassifier("conv1d", frontend="dieleman2014", channels=4, hidden=8,
    ...                        max_epochs=1).fit(X, np.repeat([0, 1], 10))
    >>> [ax.get_title() for ax in plot_frontend_kernels(est).axes[:2]]
    ['First-layer kernels', 'Frequency responses']
    """
    import torch

    plt = _pyplot()
    final = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    frontend = getattr(_fitted_net(estimator).module_, "frontend", None)
    if frontend is None:
        raise ValueError(
            f"{type(final).__name__} has no waveform front end (frontend=None): fit it "
            "with frontend='dieleman2014', 'samplecnn' or 'learned-mel' to see what it learned."
        )
    sr = getattr(final, "sr_", None)
    weight = next((m.weight for m in frontend.modules() if isinstance(m, torch.nn.Conv1d)), None)
    mel = next((m for m in frontend.modules() if type(m).__name__ == "_LearnedMelLayer"), None)
    if weight is None and mel is None:
        raise ValueError(
            f"{type(final).__name__}'s front end ({type(frontend).__name__}) has no learned "
            "first layer: fixed front ends (logmel, logcqt, transformers) learn nothing."
        )
    fig = fig or plt.figure(figsize=(11, 4.5), layout="constrained")
    if mel is not None:
        import librosa

        W = mel.weight.detach().cpu().float().numpy()
        from skmir.nn.frontends import resolve_frontend

        spec = resolve_frontend(final.frontend, sr=sr)
        freqs = librosa.fft_frequencies(sr=spec.sr, n_fft=spec.n_fft)
        ax = fig.subplots()
        step = max(1, len(W) // max_kernels)
        for i, (learned, start) in enumerate(zip(W[::step], spec.filters()[::step])):
            (line,) = ax.plot(freqs, learned, lw=1)
            ax.plot(freqs, start, ls="--", lw=0.8, color=line.get_color(),
                    label="initial (librosa)" if i == 0 else None)
        ax.set(xlabel="frequency (Hz)", ylabel="weight",
               title=f"Learned mel filters (every {step}. of {len(W)})")
        ax.legend(loc="upper right")
        return fig
    K = weight.detach().cpu().float().numpy()[:, 0]  # (filters, samples), first channel
    n_fft = max(512, 1 << int(np.ceil(np.log2(K.shape[1]))))
    response = 20 * np.log10(np.abs(np.fft.rfft(K, n=n_fft, axis=1)) + 1e-9)
    peak = response.argmax(axis=1)
    order = np.argsort(peak, kind="stable")
    response = response[order] - response.max()
    ax_k, ax_f = fig.subplots(1, 2)
    shown = K[order][:: max(1, len(K) // max_kernels)][:max_kernels]
    scale = np.abs(shown).max() or 1.0
    t = np.arange(K.shape[1]) / sr * 1000 if sr else np.arange(K.shape[1])
    for i, k in enumerate(shown):
        ax_k.plot(t, i + 0.45 * k / scale, lw=0.8)
    ax_k.set(xlabel="time (ms)" if sr else "sample", ylabel="kernel (by peak frequency)",
             title="First-layer kernels")
    top = sr / 2 if sr else 0.5
    image = ax_f.imshow(response, origin="lower", aspect="auto", cmap="magma", vmin=-60,
                        vmax=0, extent=(0, top, 0, len(K)))
    ax_f.set(xlabel="frequency (Hz)" if sr else "frequency (cycles per sample)",
             ylabel="kernel (sorted by peak frequency)", title="Frequency responses")
    fig.colorbar(image, ax=ax_f, label="magnitude (dB)")
    return fig


@entry_point
def plot_annotation(estimator, y, fig=None):
    """A frame-level network at work on one clip: its spectrogram, the network's
    activations over time, and the events decoded from them (chord segments, the f0
    track, notes as a piano roll, or beat and downbeat lines over the beat
    probability).

    Parameters
    ----------
    estimator : ChordRecognizer, PitchTracker, NoteTranscriber or BeatTracker
        Fitted (:mod:`skmir.annotation`).
    y : array-like of shape (n_samples,)
        One mono clip at the network's rate (``estimator.network_.sr``).
    fig : matplotlib.figure.Figure or None
        Drawn into when given.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.annotation import PitchTracker
    >>> from skmir.plot import plot_annotation
    >>> tracker = PitchTracker(sr=16000).fit()
    >>> y = 0.5 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000).astype("float32")
    >>> [ax.get_title() for ax in plot_annotation(tracker, y).axes]
    ['Mel-spectrogram (dB)', 'Activations of crepe-tiny', 'f0 (decoded)']
    """
    import librosa.display

    from skmir.io import Waveforms
    from skmir.representations import LogCompression, MelSpectrogram

    plt = _pyplot()
    network = getattr(estimator, "network_", None)
    if network is None or getattr(network, "level", "clip") != "frame":
        raise ValueError(refusal("plot_annotation", "estimator", type(estimator).__name__,
                                 "a fitted ChordRecognizer, PitchTracker, NoteTranscriber or "
                                 "BeatTracker "
                                 "(skmir.annotation)."))
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(refusal("plot_annotation", "y", y, "one mono clip (1-D)."))
    sr, task = network.sr, network.card["task"]
    X = Waveforms(y[None], sr=sr)
    proba = estimator.predict_proba(X)  # the network runs once, for both panels
    activations, events = proba[0], estimator.events_from_proba(proba)[0]
    times = estimator.frame_times(len(activations))
    duration = len(y) / sr
    fig = fig or plt.figure(figsize=(9, 8), layout="constrained")
    spec_ax, act_ax, event_ax = fig.subplots(3, 1, sharex=True)
    hop = 512 if sr > 16000 else 256
    S = LogCompression(method="db").transform(MelSpectrogram(sr=sr, hop_length=hop).transform(X))
    librosa.display.specshow(S[0], sr=sr, hop_length=hop, x_axis="time", y_axis="mel",
                             ax=spec_ax)
    spec_ax.set(title="Mel-spectrogram (dB)", xlabel="")
    step = times[1] - times[0] if len(times) > 1 else 1.0 / network.frame_rate
    act_ax.imshow(activations.T, aspect="auto", origin="lower", interpolation="nearest",
                  cmap="magma", extent=(times[0] - step / 2, times[-1] + step / 2, -0.5,
                                        activations.shape[1] - 0.5))
    act_ax.set(title=f"Activations of {network.name}", ylabel="output", xlabel="")
    if task == "chords":
        intervals, labels = events
        for (start, end), label in zip(intervals, labels, strict=True):
            event_ax.axvspan(start, end, alpha=0.25, color="C0" if label != "N" else "0.8")
            event_ax.text((start + end) / 2, 0.5, label, ha="center", va="center",
                          rotation=90 if end - start < 0.1 * duration else 0, fontsize=8)
        event_ax.set(title="Chords (decoded)", yticks=[])
    elif task == "f0":
        track_times, f0 = events
        event_ax.plot(track_times, np.where(np.asarray(f0) > 0, f0, np.nan), color="C3")
        event_ax.set(title="f0 (decoded)", ylabel="Hz", yscale="log")
    elif task == "beats":
        beats, downbeats = events
        # the probability of any beat (beat + downbeat), which the decoder peak-picks
        event_ax.plot(times, activations[:, 0] + activations[:, 1], color="0.4", lw=1)
        for t in beats:
            down = t in downbeats
            event_ax.axvline(t, color="C3" if down else "C0", lw=2 if down else 1)
        event_ax.set(title="Beats (blue) and downbeats (red), decoded", ylim=(0, 1.05),
                     ylabel="p(beat)")
    else:
        intervals, pitches = events[0], events[1]
        for (start, end), hz in zip(intervals, pitches, strict=True):
            midi = librosa.hz_to_midi(hz)
            event_ax.add_patch(plt.Rectangle((start, midi - 0.4), end - start, 0.8,
                                             color="C2"))
        if len(pitches):
            midis = librosa.hz_to_midi(np.asarray(pitches))
            event_ax.set_ylim(midis.min() - 2, midis.max() + 2)
        event_ax.set(title="Notes (decoded)", ylabel="MIDI note")
    event_ax.set(xlabel="Time (s)", xlim=(0, duration))
    return fig
