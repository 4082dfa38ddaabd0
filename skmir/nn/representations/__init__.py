"""The time-frequency representations of the paper's sec. 3.2 as torch modules.

Each module computes, on any device and differentiably, the values of the librosa
call that the sklearn transformer of the same name (:mod:`skmir.representations`,
:class:`skmir.LogCompression`) makes. A module is the chain of generic stages
(STFT, CQT, magnitude, matrix product, log, dB, normalisation; with ``tuning=None``
the tuning of each clip estimated as librosa does) that the
transformer's ``torch_stages()`` describes, with the windows, mel, chroma, DCT and
constant-Q filters built with librosa's own functions and kept as buffers, so
``.to(device)`` moves them and the numbers agree by construction. It is built from
a transformer, ``STFT(skmir.STFT(n_fft=1024))`` (any transformer:
``Stages(transformer)``), and has no signature, default or check of its own: the
transformer validates its parameters. What torch cannot follow is one table,
:data:`TORCH_EXCEPTIONS`.

Shapes: waveforms ``(batch, n_samples)`` give ``(batch, n_bins, n_frames)``;
``(batch, n_channels, n_samples)`` gives ``(batch, n_channels, n_bins, n_frames)``.
Computation is float32 with autocast disabled inside the modules, so a network
trained with mixed precision still sees float32 representations and logarithms.

:func:`from_transformer` turns a skmir transformer, or a pipeline of them, into the
equal module; :func:`transform_array` runs a module over a numpy array in batches
(the ``backend="torch"`` of the sklearn transformers).

Measured agreement with librosa 0.11 (float32, ``tests/test_torch_representations.py``):
STFT, mel, MFCC, log and dB within 1e-6 of the maximum of the librosa result, CQT and
chroma within 3e-6 (the tests assert 1e-4); see :class:`CQT` for how the CQT gets
there. With ``tuning=None`` the estimated tuning of every clip measured (music,
noise, detuned tones; both chroma sources) is librosa's own.

Modules
-------
common
    :data:`TORCH_EXCEPTIONS`, :func:`magnitude`, the checks of the input.
stages
    The generic stages: ``stft``, ``magnitude``, ``matmul``, ``log``, ``db``,
    ``threshold``, ``normalize``.
constant_q
    The ``cqt`` stage, :func:`decimate`, :func:`soxr_decimator`.
chain
    :class:`Stages` (a transformer's ``torch_stages()`` as one module), the
    registry ``STAGES``, the named :class:`STFT`, :class:`MelSpectrogram`,
    :class:`MFCC`, :class:`CQT`, :class:`Chromagram`, :class:`LogCompression`.
tuning
    librosa's tuning estimate per clip (``estimate_tuning``, for ``tuning=None``) and
    the ``tuned_matmul`` stage.
convert
    :func:`from_transformer`, :func:`transform_array`.

The representation transformers reach the torch side through this package only
(their ``backend="torch"``); :func:`skmir.nn.device.resolve_device` is importable from
here for them.
"""

from skmir.nn.device import resolve_device  # noqa: F401  (for the transformers)
from skmir.nn.representations.chain import (
    CQT,
    MFCC,
    STFT,
    Chromagram,
    LogCompression,
    MelSpectrogram,
    Stages,
)
from skmir.nn.representations.common import TORCH_EXCEPTIONS, magnitude
from skmir.nn.representations.constant_q import decimate, soxr_decimator
from skmir.nn.representations.convert import BLOCK_SAMPLES, from_transformer, transform_array

__all__ = ["BLOCK_SAMPLES", "CQT", "MFCC", "STFT", "TORCH_EXCEPTIONS", "Chromagram",
           "LogCompression", "MelSpectrogram", "Stages", "decimate", "from_transformer",
           "magnitude", "soxr_decimator", "transform_array"]
