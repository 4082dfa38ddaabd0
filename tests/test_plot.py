"""Figures draw what they say, headless."""

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skmir import LogCompression, MelSpectrogram, NeuralClassifier, SpectrogramScaler
from skmir.plot import plot_history, plot_kernels, save_figure

SR = 8000


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


def test_kernels_of_c2_and_c1(fitted, tmp_path):
    fig = plot_kernels(fitted["conv2d"])
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 6 and images[0].shape == (3, 3)
    fig = plot_kernels(fitted["conv1d"], max_kernels=4)
    images = [ax.images[0].get_array() for ax in fig.axes if ax.images]
    assert len(images) == 4 and images[0].shape == (16, 3)  # a c1 kernel spans all bins
    assert save_figure(fig, tmp_path / "k.png").stat().st_size > 0


def test_history_has_one_point_per_epoch(fitted):
    ax = plot_history(fitted["conv2d"])
    epochs = fitted["conv2d"][-1].history_[:, "epoch"]
    assert list(ax.lines[0].get_xdata()) == epochs


def test_plots_refuse_an_unfitted_model():
    with pytest.raises(ValueError, match="no trained network"):
        plot_kernels(NeuralClassifier())
