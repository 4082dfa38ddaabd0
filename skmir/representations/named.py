"""The named front ends, defined once: the parameters of ``frontend="logmel"`` and
``"logcqt"`` (:mod:`skmir.nn.frontends`) and of
:func:`skmir.pipelines.make_logmel_frontend` that differ from the transformers'
defaults; every other parameter keeps the transformer's default.

Examples
--------
>>> from skmir.representations.named import LOGMEL
>>> from skmir import MelSpectrogram
>>> MelSpectrogram(**LOGMEL).n_mels
96
"""

#: The named log-mel front end: :class:`skmir.MelSpectrogram` with these parameters,
#: then :class:`skmir.LogCompression` with its defaults. ``n_mels=96``, the
#: small-data setting of the paper's sec. 5.1.
LOGMEL = {"n_mels": 96}
#: The named log-CQT front end: :class:`skmir.CQT` and :class:`skmir.LogCompression`
#: with their defaults.
LOGCQT = {}

__all__ = ["LOGCQT", "LOGMEL"]
