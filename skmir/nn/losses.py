"""Losses of skmir's networks, for clip outputs ``(batch, n)`` and frame outputs
``(batch, frames, n)`` alike.

Every leading axis is flattened into one, so the same loss serves both decision time
scales of the paper's table 1: a frame-level network's loss is the mean over all its
frames, a clip-level network's the mean over its clips. Both losses take soft targets
(mixup's), as well as hard ones.
"""

from torch import nn


class CrossEntropy(nn.Module):
    """Softmax cross-entropy over the last axis.

    ``y_true`` holds class indices (one axis fewer than ``y_pred``) or class
    probabilities (the same shape as ``y_pred``, e.g. mixup's soft targets).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.losses import CrossEntropy
    >>> logits = torch.zeros(2, 5, 3)  # 2 clips, 5 frames, 3 classes
    >>> round(float(CrossEntropy()(logits, torch.zeros(2, 5, dtype=torch.long))), 4)
    1.0986
    """

    def __init__(self):
        super().__init__()
        self.loss = nn.CrossEntropyLoss()

    def forward(self, y_pred, y_true):
        n_classes = y_pred.shape[-1]
        logits = y_pred.reshape(-1, n_classes)
        if y_true.ndim == y_pred.ndim:  # soft targets: a distribution per clip or frame
            return self.loss(logits, y_true.reshape(-1, n_classes).to(logits.dtype))
        return self.loss(logits, y_true.reshape(-1).long())


class BinaryCrossEntropy(nn.Module):
    """Sigmoid binary cross-entropy of every output (tags, or labels per frame).

    Targets are 0/1 or weights in [0, 1] (mixup's), the shape of ``y_pred``.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.losses import BinaryCrossEntropy
    >>> round(float(BinaryCrossEntropy()(torch.zeros(4, 2), torch.ones(4, 2))), 4)
    0.6931
    """

    def __init__(self):
        super().__init__()
        self.loss = nn.BCEWithLogitsLoss()

    def forward(self, y_pred, y_true):
        width = y_pred.shape[-1]
        return self.loss(y_pred.reshape(-1, width), y_true.reshape(-1, width).float())


class MeanSquaredError(nn.MSELoss):
    """Mean squared error of every output (standardised regression targets).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.losses import MeanSquaredError
    >>> float(MeanSquaredError()(torch.zeros(4, 2), torch.ones(4, 2)))
    1.0
    """


__all__ = ["BinaryCrossEntropy", "CrossEntropy", "MeanSquaredError"]
