"""Deep features for shallow classifiers: random-weights and transfer-learning extractors.

With little labelled data (the paper's sec. 2.3) a network can still help as a fixed
feature extractor in front of a shallow classifier such as an SVM:

- :class:`RandomWeightsFeatures`: a network of the paper's notation with random
  weights, never trained; its layers' outputs pooled over time are the features.
- :class:`TransferFeatures`: a network trained on a source task (by the user, or the
  one shipped with skmir, see :func:`skmir.list_pretrained`); as in Choi et al.
  (2017, "Transfer learning for music classification and regression tasks"), the
  global average of every convolutional layer's output, concatenated.

Both are transformers: ``make_pipeline(AudioLoader(sr=16000),
TransferFeatures("choi2017-tags"), StandardScaler(), SVC())`` is a whole transfer
learning recipe, cross-validated like any sklearn model. Feature names say which layer
and channel every column comes from (``"layer3_c2_avg17"``).


Modules
-------
base
    Layer choice, pooling, batched extraction and feature names.
random_weights
    :class:`RandomWeightsFeatures`.
transfer
    :class:`TransferFeatures`.
frame_transfer
    :class:`FrameTransferFeatures`: per-frame features of a shipped frame-level
    network on the frame grid of the user's targets.
"""

from skmir.features.frame_transfer import FrameTransferFeatures
from skmir.features.random_weights import RandomWeightsFeatures
from skmir.features.transfer import TransferFeatures

__all__ = ["FrameTransferFeatures", "RandomWeightsFeatures", "TransferFeatures"]
