"""Figures draw what they say, headless: every plot function renders, its legend,
labels, titles and colour bars exist, legends sit clear of the data, and labels in
other scripts than Latin draw (or warn once which font to install)."""

import inspect
import warnings

import matplotlib
import numpy as np
import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from sklearn.pipeline import make_pipeline

from skmir import LogCompression, MelSpectrogram, NeuralClassifier, SpectrogramScaler, plot
from skmir.model_selection import ComparisonResults
from skmir.plot import (
    plot_confusion_matrix,
    plot_frontend_kernels,
    plot_history,
    plot_kernels,
    plot_representations,
    plot_scores,
    plot_taggram,
    save_figure,
)

matplotlib.use("Agg")
SR = 8000
# Every public plot function and the test below that renders it.
RENDERED = {"plot_representations", "plot_scores", "plot_confusion_matrix", "plot_taggram",
            "plot_history", "plot_kernels", "plot_frontend_kernels", "plot_annotation"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    t = np.arange(SR // 2) / SR
    X = np.stack([np.sin(2 * np.pi * f * t) for f in rng.uniform(200, 1000, 24)])
    y = np.repeat([0, 1], 12)
    X[y == 1] = np.sign(X[y == 1])
    return {
        arch: make_pipeline(MelSpectrogram(sr=SR, n_fft=512, hop_length=256, n_mels=16),
                            LogCompression(), SpectrogramScaler(),
                            NeuralClassifier(arch, channels=6, hidden=8, max_epochs=4,
                                             random_state=0)).fit(X.astype("float32"), y)
        for arch in ("conv2d", "conv1d")
    }


@pytest.fixture
def results():
    rng = np.random.default_rng(1)
    names = ["mfcc-svm", "conv2d", "crnn"]
    scores = {n: rng.uniform(0.3, 0.8, 5) for n in names}
    seconds = {n: np.ones(5) for n in names}
    splits = [(np.arange(8), np.arange(8, 10))] * 5
    return ComparisonResults(scores, seconds, seconds, {}, np.zeros(10), "mfcc-svm",
                             "accuracy", splits)


def _clear_of_data(legend, ax):
    """Whether the drawn legend lies outside the axes' data area."""
    ax.figure.canvas.draw()
    return not legend.get_window_extent().overlaps(ax.get_window_extent())


def _colour_bar_labels(fig, image_axes):
    return [a.get_ylabel() for a in fig.axes if a not in image_axes and a.get_ylabel()]


def test_every_public_plot_function_is_rendered_here():
    public = {name for name, f in inspect.getmembers(plot, inspect.isfunction)
              if name.startswith("plot_")}
    assert public <= RENDERED, f"add a rendering test for {sorted(public - RENDERED)}"


def test_scores_explain_their_markers_outside_the_data(results):
    ax = plot_scores(results)
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert {"median", "mean", "one fold's score", "mfcc-svm mean (baseline)"} <= set(texts)
    assert any(t.startswith("box: middle half") for t in texts)
    assert any(t.startswith("whiskers") for t in texts)
    assert _clear_of_data(legend, ax)
    assert ax.get_ylabel() == "accuracy" and ax.get_xlabel() and "5" in ax.get_title()
    # the spread of each model, best mean first, in its tick label
    order = sorted(results.scores, key=lambda n: -results.scores[n].mean())
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks == [f"{n}\n{results.scores[n].mean():.3f} ± {results.scores[n].std():.3f}"
                     for n in order]
    # one dot per fold and model
    assert sum(len(c.get_offsets()) for c in ax.collections) == 15


def test_scores_on_a_given_axes_keep_the_legend_clear(results):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 4), layout="constrained")
    ax = plot_scores(results, ax=axes[0])
    assert ax is axes[0] and _clear_of_data(ax.get_legend(), ax)


def test_confusion_matrix_is_row_normalised_with_a_colour_bar():
    y_true = ["a", "a", "a", "a", "b", "b"]
    y_pred = ["a", "a", "a", "b", "b", "a"]
    ax = plot_confusion_matrix(y_true, y_pred)
    assert np.allclose(ax.images[0].get_array(), [[0.75, 0.25], [0.5, 0.5]])
    assert ax.images[0].get_clim() == (0, 1)
    assert _colour_bar_labels(ax.figure, [ax]) == ["fraction of true class (each row sums to 1)"]
    assert "rows normalised" in ax.get_title()
    assert ax.get_xlabel() == "Predicted label" and ax.get_ylabel() == "True label"
    cells = sorted(t.get_text() for t in ax.texts)
    assert cells == ["0.25", "0.50", "0.50", "0.75"]


def test_confusion_matrix_counts_and_a_bad_normalisation():
    ax = plot_confusion_matrix([0, 0, 1], [0, 1, 1], normalize=None, title="mine")
    assert sorted(t.get_text() for t in ax.texts) == ["0", "1", "1", "1"]
    assert _colour_bar_labels(ax.figure, [ax]) == ["number of clips"] and ax.get_title() == "mine"
    with pytest.raises(ValueError, match="normalize must be 'true', 'pred', 'all' or None"):
        plot_confusion_matrix([0, 1], [0, 1], normalize="rows")


def test_taggram_labels_and_colour_bar():
    T = np.random.default_rng(0).random((5, 3))
    ax = plot_taggram(T, ["rock", "pop", "jazz"], top=2)
    kept = [t.get_text() for t in ax.get_yticklabels()]
    assert kept == [["rock", "pop", "jazz"][i] for i in np.argsort(-T.mean(axis=0))[:2]]
    assert ax.get_xlabel() == "time (s)" and ax.get_title()
    assert _colour_bar_labels(ax.figure, [ax]) == ["probability"]


def test_representations_have_titles_and_labelled_colour_bars():
    y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype("float32")
    fig = plot_representations(y, n_mels=32)
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == [
        "Waveform", "STFT (dB)", "Mel-spectrogram (dB)", "CQT (dB)", "Chromagram"]
    assert _colour_bar_labels(fig, titled) == ["dB", "dB", "dB", "energy (frame max = 1)"]


def test_kernels_of_c2_and_c1(fitted, tmp_path):
    fig = plot_kernels(fitted["conv2d"])
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 6 and images[0].shape == (3, 3)
    assert fig.get_suptitle().startswith("First-layer kernels")
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()] == ["weight"]
    fig = plot_kernels(fitted["conv1d"], max_kernels=4)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 4 and images[0].shape == (16, 3)  # a c1 kernel spans all bins
    import matplotlib.pyplot as plt

    assert save_figure(fig, tmp_path / "k.png", close=False).stat().st_size > 0
    assert plt.fignum_exists(fig.number)  # kept open, e.g. for a gallery to show
    assert save_figure(fig, tmp_path / "k.png").stat().st_size > 0
    assert not plt.fignum_exists(fig.number)


def test_history_has_one_point_per_epoch_and_its_legend_clear(fitted):
    ax = plot_history(fitted["conv2d"])
    epochs = fitted["conv2d"][-1].history_[:, "epoch"]
    assert list(ax.lines[0].get_xdata()) == epochs
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss" and ax.get_title()
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()][:2] == ["training loss", "validation loss"]
    assert _clear_of_data(legend, ax)
    twins = [a for a in ax.figure.axes if a is not ax]
    renderer = ax.figure.canvas.get_renderer()
    assert all(not legend.get_window_extent().overlaps(a.get_tightbbox(renderer))
               for a in twins)  # nor over the accuracy axis's labels


def test_frontend_kernels_and_their_responses_are_labelled():
    X = np.random.default_rng(0).normal(size=(20, 2048)).astype("float32")
    est = NeuralClassifier("conv1d", frontend="dieleman2014", channels=4, hidden=8,
                           max_epochs=1, random_state=0).fit(X, np.repeat([0, 1], 10))
    fig = plot_frontend_kernels(est)
    kernels, responses = fig.axes[:2]
    assert (kernels.get_title(), responses.get_title()) == ("First-layer kernels",
                                                            "Frequency responses")
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in (kernels, responses))
    assert _colour_bar_labels(fig, [kernels, responses]) == ["magnitude (dB)"]


def test_plots_refuse_an_unfitted_model():
    with pytest.raises(ValueError, match="no trained network"):
        plot_kernels(NeuralClassifier())


def _covered(char):
    """Whether any installed font has a glyph for char (Last Resort's boxes are none)."""
    return any(ord(char) in FT2Font(f.fname).get_charmap()
               for f in font_manager.fontManager.ttflist if not f.name.startswith("Last Resort"))


def test_greek_and_cyrillic_labels_render_without_missing_glyphs():
    labels = ["Μουσική", "Музыка", "café"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plot_confusion_matrix(labels, labels[::-1], title="Жанр / Είδος")
        ax.figure.canvas.draw()
    assert not [str(w.message) for w in caught if "missing" in str(w.message).lower()
                or "no installed font" in str(w.message)]


def test_a_label_no_font_has_warns_once_which_font_to_install(monkeypatch):
    monkeypatch.setattr(plot, "_WARNED", set())
    tags = ["音楽", "rock"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            ax = plot_taggram(np.full((2, 2), 0.5), tags)
            ax.figure.canvas.draw()  # draws, whatever the fonts
    ours = [str(w.message) for w in caught if "skmir.plot" in str(w.message)]
    if _covered("音"):
        assert not ours
    else:
        assert len(ours) == 1 and "Noto Sans CJK" in ours[0] and "fonts-noto-cjk" in ours[0]


def test_annotation_shows_the_decoded_f0_on_the_time_axis_of_the_activations(tmp_path):
    from skmir.annotation import PitchTracker
    from skmir.plot import plot_annotation, save_figure

    tracker = PitchTracker(sr=16000).fit()
    y = (0.5 * np.sin(2 * np.pi * 220 * np.arange(8000) / 16000)).astype(np.float32)
    fig = plot_annotation(tracker, y)
    spec, act, events = fig.axes[:3]
    assert [a.get_title() for a in (spec, act, events)] == [
        "Mel-spectrogram (dB)", "Activations of crepe-tiny", "f0 (decoded)"]
    assert events.get_xlabel() == "Time (s)" and events.get_ylabel() == "Hz"
    assert events.get_xlim() == pytest.approx((0, 0.5))
    left, right, _, top = act.images[0].get_extent()
    assert left < 0.01 and right == pytest.approx(0.5, abs=0.02) and top == 359.5
    f0 = events.lines[0].get_ydata()
    assert np.nanmedian(f0) == pytest.approx(220, rel=0.01)  # the tone, within 17 cents
    save_figure(fig, tmp_path / "annotation.png")
    assert (tmp_path / "annotation.png").stat().st_size > 10_000


def test_annotation_draws_beatnet_activations_and_a_line_per_beat(tmp_path):
    from skmir.annotation import BeatTracker
    from skmir.plot import plot_annotation, save_figure

    sr = 22050
    t = np.arange(3 * sr) / sr
    clicks = sum(np.exp(-(t - b) / 0.02) * (t >= b) * np.sin(2 * np.pi * 1000 * t)
                 for b in np.arange(0.25, 3, 0.5)).astype(np.float32) / 2  # 120 BPM
    tracker = BeatTracker(sr=sr).fit()
    fig = plot_annotation(tracker, clicks)
    spec, act, events = fig.axes[:3]
    assert act.get_title() == "Activations of beatnet-1" and act.images[0].get_extent()[3] == 2.5
    assert events.get_title().startswith("Beats") and events.get_ylabel() == "p(beat)"
    beats, downbeats = tracker.predict_events(clicks[None])[0]
    lines = events.lines[1:]  # after the beat probability, one line per beat
    assert len(lines) == len(beats) >= 3
    assert [line.get_xdata()[0] for line in lines] == pytest.approx(list(beats))
    assert sum(line.get_color() == "C3" for line in lines) == len(downbeats)
    save_figure(fig, tmp_path / "beats.png")
    assert (tmp_path / "beats.png").stat().st_size > 10_000
