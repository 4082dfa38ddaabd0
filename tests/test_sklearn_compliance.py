"""Every public transformer of the signal side through sklearn's estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skmir import (
    CQT,
    MFCC,
    STFT,
    AudioLoader,
    Chromagram,
    LogCompression,
    LogFilteredSpectrogram,
    MelSpectrogram,
    SpectralWhitening,
    SpectrogramScaler,
    TimeSummary,
)

# sklearn's checks feed tabular arrays of 1 to 10 "samples per clip"; the
# representations run with transform sizes that such clips can hold.
ESTIMATORS = [
    AudioLoader(),
    STFT(n_fft=2, hop_length=1),
    MelSpectrogram(sr=8, n_fft=2, hop_length=1, n_mels=2),
    MFCC(sr=8, n_fft=2, hop_length=1, n_mels=2, n_mfcc=2),
    CQT(sr=8000, hop_length=1, n_bins=2, fmin=2000.0),
    Chromagram(source="stft", sr=8, n_fft=2, hop_length=1),
    Chromagram(source="cqt", sr=8000, hop_length=1, fmin=1000.0, n_octaves=1),
    LogCompression(),
    LogCompression(method="db"),
    LogFilteredSpectrogram(sr=8000, frame_size=16, hop_size=1, stack_diffs=True),
    # the torch backend (all representations pass; three keep the suite short)
    MelSpectrogram(sr=8, n_fft=2, hop_length=1, n_mels=2, backend="torch", device="cpu"),
    CQT(sr=8000, hop_length=1, n_bins=2, fmin=2000.0, backend="torch", device="cpu"),
    LogCompression(method="db", backend="torch", device="cpu"),
    SpectrogramScaler(),
    SpectralWhitening(),
    TimeSummary(),
]

# A neural estimator that learns from waveforms (frontend=): sklearn's tabular rows
# are its waveforms, one sample per feature, through a tiny log-mel front end.
try:
    import torch  # noqa: F401
except ImportError:  # the neural side is optional in this file
    WAVEFORM_ESTIMATORS = ()
else:
    from skmir import NeuralClassifier
    from skmir.nn.frontends import LogMel

    WAVEFORM_ESTIMATORS = (NeuralClassifier(
        "c1-d1", frontend=LogMel(sr=8, n_fft=2, hop_length=1, n_mels=2), channels=4,
        hidden=8, max_epochs=5, lr=0.01, random_state=0, device="cpu"),)
    ESTIMATORS.extend(WAVEFORM_ESTIMATORS)


# The one real conflict with sklearn's tabular assumptions: these transforms are
# stateless and a fitted one takes clips of any length (a longer clip has more
# frames; LogCompression is elementwise), so they record n_features_in_ at fit but,
# by design, do not refuse a different length at transform.
STATELESS = (AudioLoader, STFT, MelSpectrogram, CQT, Chromagram, LogCompression,
             LogFilteredSpectrogram)


def expected_failures(estimator):
    if getattr(estimator, "frontend", None) is not None:
        return {
            "check_n_features_in_after_fitting": (
                "waveforms of any length are valid after fit (the network pools over "
                "the front end's frames), as for the stateless representations"
            ),
            "check_classifiers_train": (
                "a 2-feature row is a 2-sample waveform: its (log-mel) power spectrum "
                "cannot tell x from -x, which is what separates sklearn's centred blobs"
            ),
        }
    if isinstance(estimator, STATELESS):
        return {
            "check_n_features_in_after_fitting": (
                "stateless transform: clips of any length are valid after fit"
            )
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)
