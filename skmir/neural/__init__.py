"""The sklearn estimators over skmir's torch networks.

Modules
-------
base
    :class:`BaseNeuralEstimator`: parameters, validation, building, training,
    prediction, persistence and the device, for every estimator; the two time scales
    :data:`CLIP` and :data:`FRAME`.
validation
    Input checks: spectrogram-like X, frame targets aligned to X's frames.
persistence
    :meth:`~PersistenceMixin.save` and :meth:`~PersistenceMixin.load`: one file of
    plain values and tensors, read with ``torch.load(weights_only=True)``.
targets
    Target codecs: class labels, label indicators, standardised targets.
clip
    :class:`NeuralClassifier`, :class:`NeuralTagger`, :class:`NeuralRegressor`.
frame
    :class:`FrameClassifier`, :class:`FrameTagger`.
"""

from skmir.neural.clip import NeuralClassifier, NeuralRegressor, NeuralTagger
from skmir.neural.frame import FrameClassifier, FrameTagger

__all__ = ["FrameClassifier", "FrameTagger", "NeuralClassifier", "NeuralRegressor",
           "NeuralTagger"]
