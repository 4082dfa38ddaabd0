"""Comparing models on the same cross-validation folds.

:func:`compare` cross-validates several models on one set of folds and tests each
against a baseline with :func:`corrected_ttest`; it returns a
:class:`ComparisonResults` (scores, times, out-of-fold predictions, report). The
models that :func:`compare` knows by name live in :mod:`skmir.pipelines`.
"""

from skmir.model_selection.comparison import compare
from skmir.model_selection.results import ComparisonResults, corrected_ttest

__all__ = ["ComparisonResults", "compare", "corrected_ttest"]
