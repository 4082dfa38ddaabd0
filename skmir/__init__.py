"""skmir: deep learning for music information retrieval, as scikit-learn estimators.

skmir turns "A Tutorial on Deep Learning for Music Information Retrieval"
(Choi, Fazekas, Cho and Sandler, 2017) into transformers and estimators that drop
into :class:`sklearn.pipeline.Pipeline`, :class:`sklearn.model_selection.GridSearchCV`
and :func:`sklearn.model_selection.cross_validate`.

Every name and submodule here is imported on first use (``lazy_loader``, as in
librosa), so ``import skmir`` is instant and loads no torch; the signal side
(audio loading, representations, preprocessing, generated data, baselines) never
needs torch, the neural side imports it when first touched.
"""

import lazy_loader

from skmir._version import __version__ as __version__

# Public names, by the submodule that defines each.
_NAMES = {
    "io": ["AudioFileError", "AudioFileWarning", "AudioLoader", "Waveforms", "load_audio",
           "load_audio_folder", "load_manifest"],
    "model_selection": ["ComparisonResults", "compare"],
    "pipelines": ["make_key_baseline", "make_mfcc_baseline"],
    "preprocessing": ["SpectralWhitening", "SpectrogramScaler", "TimeSummary"],
    "pretrained": ["list_pretrained"],
    "representations": ["CQT", "MFCC", "STFT", "Chromagram", "LogCompression",
                        "LogFilteredSpectrogram", "MelSpectrogram"],
    "store": ["FeatureStore", "build_store"],
    "augmentation": ["augment"],
    "neural": ["NeuralClassifier", "NeuralRegressor", "NeuralTagger", "FrameClassifier",
               "FrameTagger"],
    "tagging": ["PretrainedTagger"],
    "annotation": ["BeatTracker", "ChordRecognizer", "NoteTranscriber", "PitchTracker"],
    "features": ["FrameTransferFeatures", "RandomWeightsFeatures", "TransferFeatures"],
    "tonality": ["KeyTemplateClassifier", "weighted_key_score"],
}
# Reachable as attributes (``skmir.plot.plot_kernels``); the command (skmir.cli) is not.
_SUBMODULES = ["annotation", "augmentation", "datasets", "features", "frames", "io",
               "model_selection", "neural", "nn", "pipelines", "plot", "preprocessing",
               "pretrained", "representations", "store", "tagging", "tonality"]

__getattr__, __dir__, _ = lazy_loader.attach(__name__, submodules=_SUBMODULES,
                                             submod_attrs=_NAMES)

# What ``from skmir import *`` gives: the public names, not every submodule (that
# would import torch).
__all__ = sorted([name for names in _NAMES.values() for name in names] + ["datasets"])
