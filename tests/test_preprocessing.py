"""Log compression, standardisation, whitening and time summaries."""

import librosa
import numpy as np
import pytest
from sklearn.pipeline import make_pipeline

from skmir import (
    STFT,
    LogCompression,
    MelSpectrogram,
    SpectralWhitening,
    SpectrogramScaler,
    TimeSummary,
)


@pytest.fixture(scope="module")
def mel():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 22050)).astype(np.float32) * np.array([[1], [0.1], [3], [0]])
    X[3, :100] = 1.0  # nearly silent clip: exercises top_db and eps
    return MelSpectrogram(n_mels=32).fit_transform(X.astype(np.float32))


def test_log_is_log_plus_eps(mel):
    np.testing.assert_allclose(LogCompression(eps=1e-3).fit_transform(mel),
                               np.log(mel + 1e-3), rtol=1e-6)


def test_db_equals_librosa_per_clip(mel):
    out = LogCompression(method="db", top_db=60.0).fit_transform(mel)
    expected = np.stack([librosa.power_to_db(S, top_db=60.0) for S in mel])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)
    mag = np.sqrt(mel)
    np.testing.assert_allclose(
        LogCompression(method="db", power=1.0, amin=1e-5).fit_transform(mag),
        np.stack([librosa.amplitude_to_db(S) for S in mag]), rtol=1e-5, atol=1e-4)


def test_log_compression_refuses_negative_input():
    with pytest.raises(ValueError, match="Negative values in data passed to LogCompression"):
        LogCompression().fit(-np.ones((2, 3, 4)))


def test_scaler_standardises_each_bin(mel):
    L = LogCompression().fit_transform(mel)
    scaler = SpectrogramScaler().fit(L)
    Z = scaler.transform(L)
    np.testing.assert_allclose(Z.mean(axis=(0, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(Z.std(axis=(0, 2)), 1, atol=1e-4)
    np.testing.assert_allclose(scaler.mean_, L.mean(axis=(0, 2)), rtol=1e-5)
    np.testing.assert_allclose(scaler.inverse_transform(Z), L, rtol=1e-4, atol=1e-4)
    # any number of frames at transform, but the same bins
    assert scaler.transform(L[:, :, :5]).shape == (4, 32, 5)
    with pytest.raises(ValueError, match="32"):
        scaler.transform(L[:, :16])


def test_scaler_with_channels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 2, 3, 7)).astype(np.float32) * [[[1]], [[10]]]
    Z = SpectrogramScaler().fit_transform(X)
    assert SpectrogramScaler().fit(X).mean_.shape == (2, 3)
    np.testing.assert_allclose(Z.std(axis=(0, 3)), 1, atol=1e-4)
    with pytest.raises(ValueError, match="SpectrogramScaler is expecting 2"):
        SpectrogramScaler().fit(X).transform(X[:, 0])


def test_whitening_decorrelates_bins():
    rng = np.random.default_rng(0)
    mix = np.array([[1.0, 0.0, 0.0], [0.8, 0.6, 0.0], [0.5, 0.5, 0.7]])
    X = np.einsum("ij,njt->nit", mix, rng.standard_normal((10, 3, 200))).astype(np.float32)
    for method in ("zca", "pca"):
        Z = SpectralWhitening(method=method, eps=0).fit_transform(X)
        cov = np.cov(Z.transpose(1, 0, 2).reshape(3, -1))
        np.testing.assert_allclose(cov, np.eye(3), atol=1e-3)
    # ZCA stays close to the original bins: the diagonal of the map dominates
    W = SpectralWhitening().fit(X).whitening_
    assert np.all(np.abs(np.diag(W)) > np.abs(W - np.diag(np.diag(W))).max(axis=1) / 2)


def test_time_summary_stats_and_names():
    X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    ts = TimeSummary(stats=("mean", "std", "max")).fit(X)
    out = ts.transform(X)
    np.testing.assert_allclose(out, np.concatenate([X.mean(2), X.std(2), X.max(2)], axis=1))
    assert list(ts.get_feature_names_out()[:2]) == ["mean_bin0", "mean_bin1"]
    X4 = np.zeros((2, 2, 3, 4), np.float32)
    assert TimeSummary().fit(X4).get_feature_names_out()[-1] == "std_ch1_bin2"
    with pytest.raises(ValueError, match="allowed statistics"):
        TimeSummary(stats=("mean", "kurtosis")).fit(X)


def test_chain_in_a_pipeline():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 8192)).astype(np.float32)
    pipe = make_pipeline(STFT(n_fft=512), LogCompression(method="db", power=1.0),
                         SpectrogramScaler(), TimeSummary())
    assert pipe.fit_transform(X).shape == (3, 2 * 257)
