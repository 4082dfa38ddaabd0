"""Frame-level neural estimators (now in :mod:`skmir.neural.frame`; importable here too)."""

from skmir.neural.frame import FrameClassifier, FrameTagger

__all__ = ["FrameClassifier", "FrameTagger"]
