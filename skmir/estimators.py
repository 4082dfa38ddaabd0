"""Clip-level neural estimators (now in :mod:`skmir.neural.clip`; importable here too)."""

from skmir.neural.clip import NeuralClassifier, NeuralRegressor, NeuralTagger

__all__ = ["NeuralClassifier", "NeuralRegressor", "NeuralTagger"]
