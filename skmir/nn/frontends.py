"""Front ends: the first layers of a network that learns from waveforms (the paper's
sec. 3.2, 5.1 and fig. 9).

A neural estimator with ``frontend=`` takes waveforms ``(n_clips, n_samples)`` (or
``(n_clips, n_channels, n_samples)``) and computes its input representation per
batch, on the training device, as the first layers of its network
(:class:`skmir.nn.waveform_net.WaveformNet`: front end, standardisation, then the
:class:`skmir.nn.builder.ArchitectureNet` of its ``architecture``). Only waveforms
are held in memory, and the representation's parameters are grid-searchable.

Front ends (a preset name, or an instance to set and search their parameters):

================  ==========================================  ============================
name              class                                       output per clip
================  ==========================================  ============================
``"logmel"``      :class:`LogMel` (fixed, librosa's numbers)  (channels, n_mels, frames)
``"logcqt"``      :class:`LogCQT` (fixed, librosa's numbers)  (channels, n_bins, frames)
``"learned-mel"`` :class:`LearnedMel`: trainable mel filters  (channels, n_mels, frames)
``"dieleman2014"`` :class:`Dieleman2014`: strided 1-D conv     (1, filters, frames)
``"samplecnn"``   :class:`SampleCNN`: Lee et al. (2017)       (1, filters, frames)
================  ==========================================  ============================

The fixed front ends are the sklearn transformers' torch modules: "logmel" is
:class:`skmir.MelSpectrogram` then :class:`skmir.LogCompression` with their defaults
but ``n_mels=96`` (``skmir.representations.named.LOGMEL``, the one definition
that :func:`skmir.pipelines.make_logmel_frontend` uses too), "logcqt"
:class:`skmir.CQT` then :class:`skmir.LogCompression` with their defaults.

A skmir representation transformer (:class:`skmir.MelSpectrogram`, :class:`skmir.CQT`,
...), :class:`skmir.LogCompression`, or a Pipeline of them also works: it is turned
into the equal torch module by :func:`skmir.nn.representations.from_transformer`.

The fixed and learned-mel front ends are standardised per (channel, bin) with the
mean and standard deviation of their output on the training waveforms, estimated
at fit in one pass without gradients and kept as buffers (the role
:class:`skmir.SpectrogramScaler` plays in a numpy pipeline), so the network sees
input of zero mean and unit variance; the raw-waveform front ends end in batch
normalisation instead. Front ends run in float32 outside ``torch.autocast`` (a
logarithm in float16 loses the quiet bins), the network after them under it.

The raw-waveform front ends put their filters on the frequency axis of the
network's input: ``(batch, 1, filters, frames)``, read by the architecture like a
spectrogram of ``filters`` bins. ``architecture="conv1d"`` (c1 spans every filter)
continues them with 1-D convolutions over time, as both papers do.
"""

from numbers import Integral

import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import Interval
from torch import nn

from skmir.nn.augmentation import FrameGrid
from skmir.nn.representations import from_transformer
from skmir.representations.compression import LogCompression
from skmir.representations.constant_q import CQT
from skmir.representations.named import LOGCQT, LOGMEL
from skmir.representations.spectral import STFT, MelSpectrogram

__all__ = ["FRONTENDS", "Dieleman2014", "Frontend", "LearnedMel", "LogCQT", "LogMel",
           "SampleCNN", "TransformerFrontend", "declares_sr", "resolve_frontend"]

# The named front ends' transformers, whose values are the front ends' defaults.
_MEL = MelSpectrogram(**LOGMEL)
_CQT = CQT(**LOGCQT)
_LOG = LogCompression()

#: The sample rate of a front end whose ``sr`` is None and whose waveforms carry none
#: (the transformers' default, librosa's).
DEFAULT_SR = _MEL.sr


def _constraints(spec, names):
    """The transformer's own constraints of the parameters a front end exposes."""
    return {name: spec._parameter_constraints[name] for name in names}


class Frontend(BaseEstimator):
    """Base of the front-end specifications: plain parameters, and :meth:`build`.

    A front end is a parameter holder (an sklearn estimator, so that
    ``frontend__n_mels`` reaches it through ``get_params``/``set_params``); the
    torch module is built from it at fit.
    """

    #: Whether the output is standardised with statistics of the training data.
    standardize = True
    #: Whether the front end has no sample rate of its own (raw waveforms).
    sr_free = False

    def build(self, n_channels):
        """The torch module: ``(batch, n_channels, n_samples)`` -> ``(batch, C, bins, frames)``."""
        raise NotImplementedError

    def grid(self):
        """The :class:`~skmir.nn.augmentation.FrameGrid` of its frames."""
        raise NotImplementedError

    def _check(self):
        self._validate_params()


class _PerChannel(nn.Module):
    """Apply a ``(batch, n_samples) -> (batch, bins, frames)`` module to every channel."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        B, C, n = x.shape
        z = self.inner(x.reshape(B * C, n))
        return z.reshape(B, C, *z.shape[1:])


_SR = [Interval(Integral, 1, None, closed="left"), None]
_MEL_NAMES = ("n_mels", "n_fft", "hop_length", "fmin", "fmax", "htk")


class LogMel(Frontend):
    """Log-mel spectrogram front end, equal to ``MelSpectrogram`` + ``LogCompression``.

    :class:`skmir.MelSpectrogram` then :class:`skmir.LogCompression`, computed by their
    torch modules (:func:`skmir.nn.representations.from_transformer`); the defaults
    are theirs, but 96 mel bands (small data, sec. 5.1): a 2048-point STFT hopped by
    512 samples (23 ms at 22.05 kHz), natural log.

    Parameters
    ----------
    sr : int or None, default=None
        Sample rate in Hz; None takes the waveforms' (``X.sr``) at fit, else 22050.
    n_mels : int, default=96
    n_fft : int, default=2048
    hop_length : int, default=512
    fmin : float, default=0.0
    fmax : float or None, default=None
        None is ``sr / 2``.
    htk : bool, default=False
        HTK mel scale instead of Slaney's.
    method : {"log", "db"}, default="log"
        :class:`skmir.LogCompression`'s method (``log(X + 1e-6)`` or decibels).
    standardize : bool, default=True
        Standardise each bin with the training data's statistics.

    Examples
    --------
    >>> from skmir.nn.frontends import LogMel
    >>> LogMel(sr=16000, n_mels=64).grid().n_frames(16000)
    32
    >>> [type(t).__name__ for t in LogMel().transformers()]
    ['MelSpectrogram', 'LogCompression']
    """

    _parameter_constraints = {
        "sr": _SR, **_constraints(MelSpectrogram, _MEL_NAMES),
        **_constraints(LogCompression, ["method"]), "standardize": ["boolean"],
    }

    def __init__(self, sr=None, n_mels=_MEL.n_mels, n_fft=_MEL.n_fft,
                 hop_length=_MEL.hop_length, fmin=_MEL.fmin, fmax=_MEL.fmax, htk=_MEL.htk,
                 method=_LOG.method, standardize=True):
        self.sr = sr
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.method = method
        self.standardize = standardize

    def transformers(self):
        """The mel-spectrogram and the log compression computed."""
        mel = clone(_MEL).set_params(sr=self.sr or DEFAULT_SR,
                                     **{name: getattr(self, name) for name in _MEL_NAMES})
        return [mel, clone(_LOG).set_params(method=self.method)]

    def build(self, n_channels):
        self._check()
        return _PerChannel(from_transformer(self.transformers()))

    def grid(self):
        return FrameGrid(self.hop_length, window=self.n_fft, centered=True)


class LogCQT(Frontend):
    """Log constant-Q front end, equal to ``CQT`` + ``LogCompression``.

    :class:`skmir.CQT` then :class:`skmir.LogCompression`, computed by their torch
    modules, with their defaults.

    Parameters
    ----------
    sr : int or None, default=None
        Sample rate in Hz; None takes the waveforms' (``X.sr``) at fit, else 22050.
    hop_length : int, default=512
    fmin : float or None, default=None
        Lowest bin's frequency; None is C1 (32.70 Hz), as librosa.
    n_bins : int, default=84
        Seven octaves of semitones from ``fmin``.
    bins_per_octave : int, default=12
    method : {"log", "db"}, default="log"
    standardize : bool, default=True

    Examples
    --------
    >>> from skmir.nn.frontends import LogCQT
    >>> LogCQT(sr=16000).grid().hop_length
    512
    """

    _names = ("hop_length", "fmin", "n_bins", "bins_per_octave")
    _parameter_constraints = {
        "sr": _SR, **_constraints(CQT, _names),
        **_constraints(LogCompression, ["method"]), "standardize": ["boolean"],
    }

    def __init__(self, sr=None, hop_length=_CQT.hop_length, fmin=_CQT.fmin, n_bins=_CQT.n_bins,
                 bins_per_octave=_CQT.bins_per_octave, method=_LOG.method, standardize=True):
        self.sr = sr
        self.hop_length = hop_length
        self.fmin = fmin
        self.n_bins = n_bins
        self.bins_per_octave = bins_per_octave
        self.method = method
        self.standardize = standardize

    def transformers(self):
        """The CQT and the log compression computed."""
        cqt = clone(_CQT).set_params(sr=self.sr or DEFAULT_SR,
                                     **{name: getattr(self, name) for name in self._names})
        return [cqt, clone(_LOG).set_params(method=self.method)]

    def build(self, n_channels):
        self._check()
        return _PerChannel(from_transformer(self.transformers()))

    def grid(self):
        return FrameGrid(self.hop_length, centered=True)


class _LearnedMelLayer(nn.Module):
    """Power STFT, then a trainable filterbank, then ``log(max(W S, 0) + eps)``.

    Each filter is trained on its band only (the bins where librosa's filter is
    non-zero), in units of its initial peak: ``W = peak * band * V`` with ``V``
    starting in [0, 1]. Slaney-normalised filters peak at 1e-3 to 1e-2, so with raw
    weights one Adam step (lr 1e-3) rewrote a filter, and free weights outside the
    band smeared every filter over the whole spectrum: on the 4-instrument task of
    examples/waveform_frontend.py that scored 0.30-0.33 against 0.93 for the fixed
    filters; trained on their bands in these units, 0.93-0.97.
    """

    def __init__(self, stft, filters, eps):
        super().__init__()
        self.stft = stft
        filters = torch.as_tensor(filters, dtype=torch.float32)
        peak = filters.amax(dim=1, keepdim=True)
        # A filter with no bin (too many mels for the FFT) stays zero.
        self.register_buffer("peak", torch.where(peak > 0, peak, torch.ones_like(peak)))
        self.register_buffer("band", (filters > 0).to(torch.float32))
        self.relative = nn.Parameter(filters / self.peak)
        self.eps = eps

    @property
    def weight(self):
        """The filters, ``(n_mels, 1 + n_fft // 2)``."""
        return self.relative * self.peak * self.band

    def forward(self, x):
        S = self.stft(x)  # (batch, freq, frames)
        mel = torch.matmul(self.weight, S)
        # The weights may leave [0, inf) while training; the energies must not.
        return torch.log(mel.clamp_min(0) + self.eps)


class LearnedMel(Frontend):
    """A trainable mel filterbank on a fixed power STFT (sec. 3.2: learned front ends).

    The filters start as ``librosa.filters.mel`` (Slaney's normalisation) and are
    trained with the network, each on its band (the frequency bins where librosa's
    filter is non-zero), with steps relative to its initial peak so that the
    optimiser's learning rate means the same for a narrow low filter and a wide high
    one.

    Parameters
    ----------
    sr : int or None, default=None
        Sample rate in Hz; None takes the waveforms' (``X.sr``) at fit, else 22050.
    n_mels : int, default=96
    n_fft : int, default=2048
    hop_length : int, default=512
    fmin : float, default=0.0
    fmax : float or None, default=None
    htk : bool, default=False
    eps : float, default=1e-6
        Offset of the log.
    standardize : bool, default=True
        Standardise each band with the statistics of the initial filters' output.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.frontends import LearnedMel
    >>> layer = LearnedMel(sr=8000, n_mels=16, n_fft=256, hop_length=128).build(1)
    >>> layer(torch.randn(2, 1, 4000)).shape
    torch.Size([2, 1, 16, 32])
    """

    _parameter_constraints = {
        **{k: v for k, v in LogMel._parameter_constraints.items() if k != "method"},
        **_constraints(LogCompression, ["eps"]),
    }

    def __init__(self, sr=None, n_mels=_MEL.n_mels, n_fft=_MEL.n_fft,
                 hop_length=_MEL.hop_length, fmin=_MEL.fmin, fmax=_MEL.fmax, htk=_MEL.htk,
                 eps=_LOG.eps, standardize=True):
        self.sr = sr
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.eps = eps
        self.standardize = standardize

    def filters(self):
        """The initial filters, ``librosa.filters.mel`` of the parameters."""
        import librosa

        return librosa.filters.mel(sr=self.sr or DEFAULT_SR, n_fft=self.n_fft,
                                   n_mels=self.n_mels, fmin=self.fmin, fmax=self.fmax,
                                   htk=self.htk)

    def build(self, n_channels):
        self._check()
        stft = from_transformer(STFT(n_fft=self.n_fft, hop_length=self.hop_length, power=2.0))
        return _PerChannel(_LearnedMelLayer(stft, self.filters(), self.eps))

    def grid(self):
        return FrameGrid(self.hop_length, window=self.n_fft, centered=True)


class _StridedConv(nn.Module):
    def __init__(self, n_channels, filters, kernel_size, stride):
        super().__init__()
        self.conv = nn.Conv1d(n_channels, filters, kernel_size, stride=stride, bias=False)
        self.norm = nn.BatchNorm1d(filters)

    def forward(self, x):
        # A log-like compression of the rectified responses, the counterpart of a
        # log-magnitude spectrogram; batch norm standardises each filter.
        return self.norm(torch.log1p(self.conv(x).abs())).unsqueeze(1)


class Dieleman2014(Frontend):
    """A strided 1-D convolution on the samples, as Dieleman and Schrauwen (2014).

    ``filters`` kernels of ``kernel_size`` samples hopped by ``stride`` (by default
    non-overlapping frames, their best setting), then ``log(1 + |response|)`` and
    batch normalisation: ``(batch, 1, filters, frames)``. The kernels learn
    frequency-selective filters (the paper's fig. 9; see
    :func:`skmir.plot.plot_frontend_kernels`).

    Parameters
    ----------
    filters : int, default=64
    kernel_size : int, default=256
        Samples per kernel (16 ms at 16 kHz).
    stride : int or None, default=None
        Hop in samples; None is ``kernel_size``.
    sr : int or None, default=None
        Not used by the layers; recorded so that predictions refuse waveforms at
        another rate (None takes ``X.sr`` at fit, if any).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.frontends import Dieleman2014
    >>> Dieleman2014(filters=8).build(1)(torch.randn(2, 1, 4096)).shape
    torch.Size([2, 1, 8, 16])
    """

    standardize = False
    sr_free = True
    _parameter_constraints = {
        "filters": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "stride": [Interval(Integral, 1, None, closed="left"), None], "sr": _SR,
    }

    def __init__(self, filters=64, kernel_size=256, stride=None, sr=None):
        self.filters = filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.sr = sr

    def build(self, n_channels):
        self._check()
        return _StridedConv(n_channels, self.filters, self.kernel_size,
                            self.stride or self.kernel_size)

    def grid(self):
        return FrameGrid(self.stride or self.kernel_size, window=self.kernel_size)


class _SampleLevel(nn.Module):
    def __init__(self, n_channels, filters, n_blocks):
        super().__init__()
        layers = [nn.Conv1d(n_channels, filters, 3, stride=3, bias=False),
                  nn.BatchNorm1d(filters), nn.ReLU()]
        for _ in range(n_blocks):
            layers += [nn.Conv1d(filters, filters, 3, padding=1, bias=False),
                       nn.BatchNorm1d(filters), nn.ReLU(), nn.MaxPool1d(3)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(x).unsqueeze(1)


class SampleCNN(Frontend):
    """A sample-level front end, as Lee et al. (2017): stacked 1-D convolutions of
    size 3 with pooling by 3.

    A strided convolution of 3 samples, then ``n_blocks`` blocks of a size-3
    convolution, batch normalisation, ReLU and max pooling by 3: a frame every
    ``3 ** (n_blocks + 1)`` samples, each seeing as many (the "3^n" models; Lee et
    al.'s 3^9 network is this front end with 8 blocks and a classifier on top).
    Output ``(batch, 1, filters, frames)``.

    Parameters
    ----------
    filters : int, default=64
    n_blocks : int, default=5
        A frame every 3^6 = 729 samples (46 ms at 16 kHz).
    sr : int or None, default=None
        Recorded for checking predictions' rate, as :class:`Dieleman2014`.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.frontends import SampleCNN
    >>> SampleCNN(filters=8, n_blocks=2).build(1)(torch.randn(2, 1, 2700)).shape
    torch.Size([2, 1, 8, 100])
    """

    standardize = False
    sr_free = True
    _parameter_constraints = {
        "filters": [Interval(Integral, 1, None, closed="left")],
        "n_blocks": [Interval(Integral, 0, None, closed="left")], "sr": _SR,
    }

    def __init__(self, filters=64, n_blocks=5, sr=None):
        self.filters = filters
        self.n_blocks = n_blocks
        self.sr = sr

    def build(self, n_channels):
        self._check()
        return _SampleLevel(n_channels, self.filters, self.n_blocks)

    def grid(self):
        hop = 3 ** (self.n_blocks + 1)
        return FrameGrid(hop, window=hop)


def _steps(transformer):
    steps = getattr(transformer, "steps", None)
    return [s for _, s in steps] if steps is not None else [transformer]


class TransformerFrontend(Frontend):
    """A representation transformer (or a Pipeline of them) as a front end.

    Any object with ``torch_stages()``: skmir's representations, LogCompression, or
    a new :class:`skmir.representations.base.Representation`.

    Built by :func:`skmir.nn.representations.from_transformer`, so the network sees
    the numbers the transformer computes; standardised per bin like the presets.

    Parameters
    ----------
    transformer : skmir transformer or Pipeline
        E.g. ``make_pipeline(MelSpectrogram(sr=16000), LogCompression())``.
    standardize : bool, default=True
    """

    def __init__(self, transformer, standardize=True):
        self.transformer = transformer
        self.standardize = standardize

    @property
    def sr(self):
        rates = [s.sr for s in _steps(self.transformer) if hasattr(s, "sr")]
        return rates[0] if rates else None

    def build(self, n_channels):
        try:
            module = from_transformer(clone(self.transformer))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"frontend={self.transformer!r} cannot run as a front end: {exc}"
            ) from exc
        return _PerChannel(module)

    def grid(self):
        first = _steps(self.transformer)[0]
        n_fft = getattr(first, "n_fft", None)
        hop = getattr(first, "hop_length", None) or (n_fft // 4 if n_fft else 512)
        if getattr(first, "center", True):
            return FrameGrid(int(hop), window=int(n_fft or 0), centered=True)
        return FrameGrid(int(hop), window=int(n_fft or hop))


#: The preset names of ``frontend=`` and their classes.
FRONTENDS = {
    "logmel": LogMel,
    "logcqt": LogCQT,
    "learned-mel": LearnedMel,
    "dieleman2014": Dieleman2014,
    "samplecnn": SampleCNN,
}


def declares_sr(frontend):
    """Whether a ``frontend`` parameter fixes its sample rate itself (an ``sr`` given to
    a front end, or a representation transformer's ``sr``), rather than taking it from
    the waveforms at fit (a preset name, or a front end with ``sr=None``).

    Examples
    --------
    >>> from skmir import MelSpectrogram
    >>> from skmir.nn.frontends import LogMel, declares_sr
    >>> declares_sr("logmel"), declares_sr(LogMel(sr=16000)), declares_sr(MelSpectrogram())
    (False, True, True)
    """
    if isinstance(frontend, str):
        return False
    if isinstance(frontend, Frontend) and "sr" in frontend.get_params(deep=False):
        return frontend.get_params(deep=False)["sr"] is not None
    return True


def resolve_frontend(frontend, sr=None, owner="frontend"):
    """The front end that a ``frontend`` parameter names, with its sample rate set.

    Parameters
    ----------
    frontend : str, Frontend, skmir transformer or Pipeline
        A name of :data:`FRONTENDS`, a :class:`Frontend` instance, or a skmir
        representation transformer / LogCompression / Pipeline of them.
    sr : int or None, default=None
        The waveforms' sample rate: fills a front end's ``sr=None`` (22050 when None
        too, for front ends that need one).
    owner : str
        Named in errors.

    Returns
    -------
    Frontend
        A new object (the parameter is left as it is).

    Examples
    --------
    >>> from skmir.nn.frontends import resolve_frontend
    >>> resolve_frontend("logmel", sr=16000)
    LogMel(sr=16000)
    """
    if isinstance(frontend, str):
        key = frontend.strip().lower()
        if key not in FRONTENDS:
            raise ValueError(
                f"{owner}: frontend = {frontend!r}: is not a front end; allowed: None, "
                f"{', '.join(repr(k) for k in FRONTENDS)}, a skmir.nn.frontends.Frontend "
                "instance, or a skmir representation transformer (or Pipeline of them)."
            )
        spec = FRONTENDS[key]()
    elif isinstance(frontend, Frontend):
        spec = clone(frontend)
    elif hasattr(frontend, "get_params") and all(
            type(s).__module__.startswith("skmir.") or hasattr(s, "torch_stages")
            for s in _steps(frontend)):
        spec = TransformerFrontend(clone(frontend))
    else:
        raise ValueError(
            f"{owner}: frontend = {frontend!r}: is not a front end; allowed: None, "
            f"{', '.join(repr(k) for k in FRONTENDS)}, a skmir.nn.frontends.Frontend "
            "instance, or a skmir representation transformer (or Pipeline of them)."
        )
    if "sr" in spec.get_params(deep=False) and spec.get_params(deep=False)["sr"] is None:
        if sr is not None or not spec.sr_free:
            spec.set_params(sr=int(sr) if sr is not None else DEFAULT_SR)
    return spec
