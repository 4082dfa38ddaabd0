"""Former home of the model comparison and its models; kept so old imports work.

Everything here now lives by concept:

- :mod:`skmir.model_selection`: :func:`~skmir.model_selection.compare`,
  :class:`~skmir.model_selection.ComparisonResults` and
  :func:`~skmir.model_selection.corrected_ttest`;
- :mod:`skmir.pipelines`: :func:`~skmir.pipelines.make_mfcc_baseline`,
  :func:`~skmir.pipelines.make_logmel_frontend`, the model registry
  :data:`~skmir.pipelines.MODELS`, :data:`~skmir.pipelines.DEFAULT_MODELS`,
  :data:`~skmir.pipelines.BASELINE` and :func:`~skmir.pipelines.make_models`.

Import from those modules in new code.

Examples
--------
>>> import skmir.evaluation, skmir.model_selection
>>> skmir.evaluation.compare is skmir.model_selection.compare
True
"""

from skmir.model_selection import ComparisonResults, compare, corrected_ttest
from skmir.pipelines import (
    BASELINE,
    DEFAULT_MODELS,
    MODELS,
    make_logmel_frontend,
    make_mfcc_baseline,
    make_models,
)

__all__ = [
    "BASELINE",
    "DEFAULT_MODELS",
    "MODELS",
    "ComparisonResults",
    "compare",
    "corrected_ttest",
    "make_logmel_frontend",
    "make_mfcc_baseline",
    "make_models",
]
