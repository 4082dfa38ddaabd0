"""The parameters of the representations, defined once: names, defaults, constraints.

Each class here is the signature of one sklearn transformer of
:mod:`skmir.representations` (``STFTParameters`` is :class:`skmir.STFT`'s, and so
on): the transformer inherits it and adds the computation, and the torch module of
:mod:`skmir.nn.representations` is built from any instance of it (the transformer
itself, or, in the named front ends of :mod:`skmir.nn.frontends`, a bare instance of
this class). So a default or a check changed here changes both sides, and the torch
side needs no import of the signal side. Parameters are validated by
``_validate_params``: sklearn's constraints, then the relations between parameters.

The named front ends (``frontend="logmel"``, ``"logcqt"``, and
:func:`skmir.pipelines.make_logmel_frontend`) are these transformers with the
parameters of :data:`LOGMEL` and :data:`LOGCQT`; the rest keep their defaults.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, Options, StrOptions

WINDOW = [str, tuple, callable, np.ndarray]
INT_POS = Interval(Integral, 1, None, closed="left")
POSITIVE = Interval(Real, 0, None, closed="neither")
PAD_MODES = StrOptions({"constant", "edge", "linear_ramp", "reflect", "symmetric", "empty"})
EXECUTION = {"backend": [StrOptions({"librosa", "torch"})], "device": [str]}
#: Parameters that say how, not what, to compute: the torch modules ignore them.
EXECUTION_PARAMETERS = ("n_jobs", "backend", "device")

#: The named log-mel front end: MelSpectrogram's parameters that differ from its
#: defaults (LogCompression keeps all of its own). ``n_mels=96``, the small-data
#: setting of the paper's sec. 5.1.
LOGMEL = {"n_mels": 96}
#: The named log-CQT front end: CQT and LogCompression with their defaults.
LOGCQT = {}


class STFTParameters(BaseEstimator):
    """Parameters of :class:`skmir.STFT`."""

    _parameter_constraints = {
        "n_fft": [INT_POS],
        "hop_length": [INT_POS, None],
        "win_length": [INT_POS, None],
        "window": WINDOW,
        "center": ["boolean"],
        "pad_mode": [PAD_MODES],
        "power": [POSITIVE],
        "n_jobs": [Integral, None],
        **EXECUTION,
    }

    def __init__(self, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=1.0, n_jobs=None, backend="librosa",
                 device="auto"):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device

    def _validate_params(self):
        super()._validate_params()
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(
                f"{type(self).__name__}: win_length={self.win_length} must be at most "
                f"n_fft={self.n_fft}.")


class MelSpectrogramParameters(STFTParameters):
    """Parameters of :class:`skmir.MelSpectrogram`."""

    _parameter_constraints = {
        **STFTParameters._parameter_constraints,
        "sr": [INT_POS],
        "hop_length": [INT_POS],
        "n_mels": [INT_POS],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [POSITIVE, None],
        "htk": ["boolean"],
        "norm": [StrOptions({"slaney"}), Real, None],
    }

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
                 fmax=None, htk=False, norm="slaney", n_jobs=None, backend="librosa",
                 device="auto"):
        super().__init__(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode, power=power,
                         n_jobs=n_jobs, backend=backend, device=device)
        self.sr = sr
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.norm = norm


class MFCCParameters(MelSpectrogramParameters):
    """Parameters of :class:`skmir.MFCC`."""

    _parameter_constraints = {
        **MelSpectrogramParameters._parameter_constraints,
        "n_mfcc": [INT_POS],
        "dct_type": [Options(Integral, {1, 2, 3})],
        "dct_norm": [StrOptions({"ortho"}), None],
        "lifter": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, sr=22050, n_mfcc=20, dct_type=2, dct_norm="ortho", lifter=0,
                 n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney", n_jobs=None, backend="librosa", device="auto"):
        super().__init__(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode, power=power,
                         n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
                         n_jobs=n_jobs, backend=backend, device=device)
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.dct_norm = dct_norm
        self.lifter = lifter


class CQTParameters(BaseEstimator):
    """Parameters of :class:`skmir.CQT`."""

    _parameter_constraints = {
        "sr": [INT_POS],
        "hop_length": [INT_POS],
        "fmin": [POSITIVE, None],
        "n_bins": [INT_POS],
        "bins_per_octave": [INT_POS],
        "tuning": [Real, None],
        "filter_scale": [POSITIVE],
        "norm": [POSITIVE, None],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "window": WINDOW,
        "scale": ["boolean"],
        "pad_mode": [str],
        "res_type": [str],
        "power": [POSITIVE],
        "n_jobs": [Integral, None],
        **EXECUTION,
    }

    def __init__(self, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12,
                 tuning=0.0, filter_scale=1, norm=1, sparsity=0.01, window="hann", scale=True,
                 pad_mode="constant", res_type="soxr_hq", power=1.0, n_jobs=None,
                 backend="librosa", device="auto"):
        self.sr = sr
        self.hop_length = hop_length
        self.fmin = fmin
        self.n_bins = n_bins
        self.bins_per_octave = bins_per_octave
        self.tuning = tuning
        self.filter_scale = filter_scale
        self.norm = norm
        self.sparsity = sparsity
        self.window = window
        self.scale = scale
        self.pad_mode = pad_mode
        self.res_type = res_type
        self.power = power
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device


class ChromagramParameters(BaseEstimator):
    """Parameters of :class:`skmir.Chromagram`."""

    _parameter_constraints = {
        "source": [StrOptions({"cqt", "stft"})],
        "sr": [INT_POS],
        "hop_length": [INT_POS],
        "n_chroma": [INT_POS],
        "norm": [POSITIVE, Options(Real, {np.inf}), None],
        "tuning": [Real, None],
        "fmin": [POSITIVE, None],
        "n_octaves": [INT_POS],
        "bins_per_octave": [INT_POS],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "n_fft": [INT_POS],
        "window": WINDOW,
        "center": ["boolean"],
        "pad_mode": [PAD_MODES],
        "n_jobs": [Integral, None],
        **EXECUTION,
    }

    def __init__(self, source="cqt", sr=22050, hop_length=512, n_chroma=12, norm=np.inf,
                 tuning=None, fmin=None, n_octaves=7, bins_per_octave=36, threshold=0.0,
                 n_fft=2048, window="hann", center=True, pad_mode="constant", n_jobs=None,
                 backend="librosa", device="auto"):
        self.source = source
        self.sr = sr
        self.hop_length = hop_length
        self.n_chroma = n_chroma
        self.norm = norm
        self.tuning = tuning
        self.fmin = fmin
        self.n_octaves = n_octaves
        self.bins_per_octave = bins_per_octave
        self.threshold = threshold
        self.n_fft = n_fft
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device

    def _validate_params(self):
        super()._validate_params()
        if self.source == "cqt" and self.bins_per_octave % self.n_chroma:
            raise ValueError(
                f"{type(self).__name__}: bins_per_octave={self.bins_per_octave} must be a "
                f"multiple of n_chroma={self.n_chroma} with source='cqt'.")


class LogCompressionParameters(BaseEstimator):
    """Parameters of :class:`skmir.LogCompression`."""

    _parameter_constraints = {
        "method": [StrOptions({"log", "db"})],
        "eps": [POSITIVE],
        "power": [POSITIVE],
        "ref": [POSITIVE],
        "amin": [POSITIVE],
        "top_db": [Interval(Real, 0, None, closed="left"), None],
        **EXECUTION,
    }

    def __init__(self, method="log", eps=1e-6, power=2.0, ref=1.0, amin=1e-10, top_db=80.0,
                 backend="librosa", device="auto"):
        self.method = method
        self.eps = eps
        self.power = power
        self.ref = ref
        self.amin = amin
        self.top_db = top_db
        self.backend = backend
        self.device = device
