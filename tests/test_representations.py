"""Representations equal the librosa function called with the same parameters."""

import librosa
import numpy as np
import pytest

from skmir import CQT, MFCC, STFT, Chromagram, MelSpectrogram, Waveforms

SR = 22050


@pytest.fixture(scope="module")
def clips():
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    tones = [np.sin(2 * np.pi * f * t) for f in (220.0, 330.0, 440.0)]
    noise = 0.1 * rng.standard_normal((3, SR))
    return (np.stack(tones) + noise).astype(np.float32)


CASES = [
    (STFT(), lambda y: np.abs(librosa.stft(y))),
    (STFT(n_fft=512, hop_length=128, power=2.0, window="hamming"),
     lambda y: np.abs(librosa.stft(y, n_fft=512, hop_length=128, window="hamming")) ** 2),
    (MelSpectrogram(), lambda y: librosa.feature.melspectrogram(y=y, sr=SR)),
    (MelSpectrogram(n_mels=40, htk=True, fmax=8000.0, norm=None),
     lambda y: librosa.feature.melspectrogram(y=y, sr=SR, n_mels=40, htk=True, fmax=8000.0,
                                              norm=None)),
    (CQT(), lambda y: np.abs(librosa.cqt(y, sr=SR))),
    (CQT(n_bins=48, bins_per_octave=24, fmin=110.0),
     lambda y: np.abs(librosa.cqt(y, sr=SR, n_bins=48, bins_per_octave=24, fmin=110.0))),
    (Chromagram(), lambda y: librosa.feature.chroma_cqt(y=y, sr=SR)),
    (Chromagram(source="stft", n_chroma=24),
     lambda y: librosa.feature.chroma_stft(y=y, sr=SR, n_chroma=24)),
    (MFCC(), lambda y: librosa.feature.mfcc(y=y, sr=SR)),
    (MFCC(n_mfcc=13, n_mels=40, lifter=22, dct_type=3),
     lambda y: librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_mels=40, lifter=22, dct_type=3)),
]


@pytest.mark.parametrize("transformer, reference", CASES, ids=lambda c: repr(c)[:60])
def test_values_equal_librosa(clips, transformer, reference):
    S = transformer.fit_transform(clips)
    assert S.dtype == np.float32
    expected = np.stack([reference(y) for y in clips])
    assert S.shape == expected.shape
    scale = np.abs(expected).max()
    np.testing.assert_allclose(S, expected, rtol=1e-4, atol=1e-5 * scale)


def test_parallel_result_matches_serial(clips):
    X = np.concatenate([clips] * 4)  # 12 clips: several blocks
    # equal up to BLAS summation order (workers run single-threaded BLAS)
    np.testing.assert_allclose(MelSpectrogram(n_jobs=2).fit_transform(X),
                               MelSpectrogram(n_jobs=1).fit_transform(X), rtol=1e-5)


def test_multichannel_adds_a_channel_axis(clips):
    stereo = np.stack([clips, clips[::-1]], axis=1)  # (3, 2, n)
    S = MelSpectrogram(n_mels=32).fit_transform(stereo)
    assert S.shape[:3] == (3, 2, 32)
    np.testing.assert_allclose(S[:, 1], MelSpectrogram(n_mels=32).fit_transform(clips[::-1]),
                               rtol=1e-6)


def test_clip_length_is_free_after_fit(clips):
    mel = MelSpectrogram().fit(clips)
    assert mel.transform(clips[:, : SR // 2]).shape[-1] == 1 + (SR // 2) // 512


def test_transform_without_fit_works(clips):
    assert STFT().transform(clips).shape == (3, 1025, 44)


@pytest.mark.parametrize("bad, match", [
    (np.full((2, SR), np.nan, np.float32), "NaN"),
    (np.array([[0.0, np.inf] * 2048]), "inf"),
    (np.zeros((2, 1000), np.float32), r"1000 sample\(s\).*n_fft"),
    (np.zeros((2, 3, 4, SR), np.float32), r"shape \(2, 3, 4, 22050\)"),
    (np.zeros(SR, np.float32), "2D array"),
    (np.zeros((0, SR), np.float32), "0 sample"),
])
def test_bad_waveforms_are_refused_clearly(bad, match):
    with pytest.raises(ValueError, match=match):
        MelSpectrogram().fit_transform(bad)


def test_bad_parameter_names_parameter_and_value(clips):
    with pytest.raises(ValueError, match="'n_mels' parameter of MelSpectrogram.*Got 0"):
        MelSpectrogram(n_mels=0).fit(clips)
    with pytest.raises(ValueError, match="'source' parameter of Chromagram"):
        Chromagram(source="fft").fit(clips)


def test_librosa_parameter_error_becomes_value_error(clips):
    # fmax above Nyquist with too many bins: librosa raises ParameterError
    with pytest.raises(ValueError, match="CQT:"):
        CQT(n_bins=200).fit_transform(clips)


def test_mismatched_sample_rate_is_an_error(clips):
    X = Waveforms(clips, sr=16000)
    with pytest.raises(ValueError, match="sr = 22050: the waveforms were loaded at sr=16000"):
        MelSpectrogram(sr=SR).fit(X)
    assert MelSpectrogram(sr=16000).fit_transform(X).shape[0] == 3
