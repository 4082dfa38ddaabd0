"""skmir: deep learning for music information retrieval, as scikit-learn estimators.

skmir turns "A Tutorial on Deep Learning for Music Information Retrieval"
(Choi, Fazekas, Cho and Sandler, 2017) into transformers and estimators that drop
into :class:`sklearn.pipeline.Pipeline`, :class:`sklearn.model_selection.GridSearchCV`
and :func:`sklearn.model_selection.cross_validate`.

The signal side (audio loading, representations, preprocessing, generated data,
baselines) is imported eagerly and needs no torch; the neural side is imported on
first use, so ``import skmir`` stays light.
"""

from importlib import import_module

from skmir import datasets
from skmir.io import (
    AudioFileError,
    AudioFileWarning,
    AudioLoader,
    Waveforms,
    load_audio,
    load_audio_folder,
    load_manifest,
)
from skmir.model_selection import ComparisonResults, compare
from skmir.pipelines import make_mfcc_baseline
from skmir.preprocessing import SpectralWhitening, SpectrogramScaler, TimeSummary
from skmir.pretrained import list_pretrained
from skmir.representations import CQT, MFCC, STFT, Chromagram, LogCompression, MelSpectrogram
from skmir.store import FeatureStore, build_store

__version__ = "0.1.0.dev0"

# Public names that live on the torch side: imported when first touched.
_LAZY = {
    "NeuralClassifier": "skmir.neural",
    "NeuralRegressor": "skmir.neural",
    "NeuralTagger": "skmir.neural",
    "augment": "skmir.augmentation",
    "FrameClassifier": "skmir.neural",
    "FrameTagger": "skmir.neural",
    "PretrainedTagger": "skmir.tagging",
    "RandomWeightsFeatures": "skmir.features",
    "TransferFeatures": "skmir.features",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skmir' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "AudioFileError",
    "AudioFileWarning",
    "AudioLoader",
    "CQT",
    "Chromagram",
    "ComparisonResults",
    "FeatureStore",
    "LogCompression",
    "MFCC",
    "MelSpectrogram",
    "STFT",
    "SpectralWhitening",
    "SpectrogramScaler",
    "TimeSummary",
    "Waveforms",
    "build_store",
    "compare",
    "datasets",
    "load_audio",
    "load_audio_folder",
    "list_pretrained",
    "load_manifest",
    "make_mfcc_baseline",
    *_LAZY,
]
