"""Time-frequency representations of the paper's sec. 3.2 as sklearn transformers.

Each transformer takes waveforms ``(n_clips, n_samples)`` (or with a channel axis,
``(n_clips, n_channels, n_samples)``) and returns float32
``(n_clips, n_bins, n_frames)`` (``(n_clips, n_channels, n_bins, n_frames)``), the
values of the librosa function of the same name called with the same parameters.
Parameter names and defaults are librosa's. The transforms are stateless: ``fit``
only checks its input, and a fitted transformer accepts clips of any length.

Modules
-------
base
    :class:`Representation`: validation, blocking over clips, parallelism.
spectral
    :class:`STFT`, :class:`MelSpectrogram`, :class:`MFCC`, and madmom's
    :class:`LogFilteredSpectrogram` (numpy only).
constant_q
    :class:`CQT`, :class:`Chromagram`.
compression
    :class:`LogCompression`: log or decibels of their magnitudes.
named
    ``LOGMEL``, ``LOGCQT``: the parameters of the named front ends.

Each transformer is the one definition of its representation: its signature,
defaults and constraints, its librosa computation, and its torch computation as a
chain of the generic stages of :mod:`skmir.nn.representations` (``torch_stages()``).
"""

from skmir.representations.compression import LogCompression
from skmir.representations.constant_q import CQT, Chromagram
from skmir.representations.spectral import MFCC, STFT, LogFilteredSpectrogram, MelSpectrogram

__all__ = ["CQT", "MFCC", "STFT", "Chromagram", "LogCompression", "LogFilteredSpectrogram",
           "MelSpectrogram"]
