"""The time-frequency representations of the paper's sec. 3.2 as torch modules.

Each module computes, on any device and differentiably, the values of the librosa
call that the sklearn transformer of the same name (:mod:`skmir.representations`,
:class:`skmir.LogCompression`) makes: the windows, mel, chroma and constant-Q filters
are built with librosa's own functions and kept as buffers, so ``.to(device)`` moves
them and the numbers agree by construction. Constructor parameters are the sklearn
transformers' (librosa's names and defaults).

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
there.
"""

import math
from collections import OrderedDict
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from skmir import preprocessing, representations

# librosa (np.pad) padding modes that torch's padding computes identically.
_TORCH_PAD = {"constant": "constant", "reflect": "reflect", "edge": "replicate"}

# Samples per batch in transform_array: the STFT's complex output for a batch stays
# in the hundreds of megabytes (hop 512: 2**22 / 512 frames x 1025 bins x 8 bytes).
BLOCK_SAMPLES = 2**22


def _validate(sk_class, params):
    """Check the parameters with the sklearn transformer's own constraints, so a bad
    value gets the same message on both sides."""
    sk_class(**params)._validate_params()


def _check_pad_mode(owner, pad_mode):
    if pad_mode not in _TORCH_PAD:
        raise ValueError(
            f"{owner}: pad_mode={pad_mode!r} is not available in the torch "
            f"representations (backend='torch'); use one of {sorted(_TORCH_PAD)}, or "
            "backend='librosa'."
        )


def _check_waveforms(owner, x, min_samples):
    if not torch.is_tensor(x):
        raise ValueError(f"{owner}: expected a torch tensor of waveforms, got {type(x).__name__}.")
    if x.ndim not in (2, 3):
        raise ValueError(
            f"{owner}: expected waveforms of shape (batch, n_samples) or (batch, n_channels, "
            f"n_samples), got a tensor of shape {tuple(x.shape)}."
        )
    if x.shape[-1] < min_samples:
        raise ValueError(
            f"{owner}: clips have {x.shape[-1]} samples, fewer than the {min_samples} "
            "this transform needs (n_fft, or the padding of pad_mode='reflect')."
        )


def _float32(x):
    return x if x.dtype == torch.float32 else x.float()


def _no_autocast(x):
    return torch.autocast(x.device.type, enabled=False)


def _stft_window(window, win_length, n_fft):
    import librosa

    w = librosa.filters.get_window(window, win_length, fftbins=True)
    return torch.as_tensor(librosa.util.pad_center(w, size=n_fft), dtype=torch.float32)


def _normalize(S, norm):
    """``librosa.util.normalize(S, norm, axis=-2)``: frames whose norm is below the
    smallest float32 are left as they are."""
    if norm is None:
        return S
    mag = S.abs()
    if norm == np.inf:
        length = mag.amax(dim=-2, keepdim=True)
    else:
        length = (mag**norm).sum(dim=-2, keepdim=True) ** (1.0 / norm)
    tiny = torch.finfo(S.dtype).tiny
    return S / torch.where(length < tiny, torch.ones_like(length), length)


def magnitude(D, power):
    """``|D| ** power`` of a complex tensor.

    Without gradients, ``sqrt(re**2 + im**2)`` in place (torch's complex ``abs``, which
    guards against overflow that float32 audio never reaches, is about 5 times
    slower on the CPU); with gradients, ``abs``, whose gradient at 0 is 0 rather than
    NaN.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import magnitude
    >>> magnitude(torch.tensor([3 + 4j]), 1.0), magnitude(torch.tensor([3 + 4j]), 2.0)
    (tensor([5.]), tensor([25.]))
    """
    if power == 2:
        return D.real.square() + D.imag.square()
    if D.requires_grad and torch.is_grad_enabled():
        mag = D.abs()
        return mag if power == 1 else mag**power
    mag = D.real.square().addcmul_(D.imag, D.imag).sqrt_()
    return mag if power == 1 else mag.pow_(power)


def _params_repr(module, names):
    return ", ".join(f"{n}={getattr(module, n)!r}" for n in names)


class STFT(nn.Module):
    """Magnitude STFT, ``|librosa.stft(y)| ** power``, as a torch module.

    Parameters
    ----------
    n_fft, hop_length, win_length, window, center, pad_mode, power
        As :class:`skmir.STFT`. ``pad_mode`` is one of "constant", "reflect", "edge".

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import STFT
    >>> STFT(n_fft=1024, hop_length=512)(torch.zeros(2, 22050)).shape
    torch.Size([2, 513, 44])
    """

    _names = ("n_fft", "hop_length", "win_length", "window", "center", "pad_mode", "power")

    def __init__(self, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=1.0):
        super().__init__()
        _validate(representations.STFT, dict(
            n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
            center=center, pad_mode=pad_mode, power=power))
        _check_pad_mode("STFT", pad_mode)
        win = n_fft if win_length is None else win_length
        if win > n_fft:
            raise ValueError(f"STFT: win_length={win_length} must be at most n_fft={n_fft}.")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.hop = win // 4 if hop_length is None else hop_length
        self.register_buffer("fft_window", _stft_window(window, win, n_fft))

    @property
    def n_bins(self):
        """Frequency bins of the output, ``1 + n_fft // 2``."""
        return 1 + self.n_fft // 2

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        if self.center:
            return 1 + n_samples // self.hop
        return 1 + (n_samples - self.n_fft) // self.hop

    def _min_samples(self):
        if not self.center:
            return self.n_fft
        return self.n_fft // 2 + 1 if self.pad_mode == "reflect" else 1

    def complex(self, x):
        """The complex STFT ``librosa.stft(y)`` (complex64)."""
        _check_waveforms(type(self).__name__, x, self._min_samples())
        lead = x.shape[:-1]
        with _no_autocast(x):
            D = torch.stft(_float32(x).reshape(-1, x.shape[-1]), self.n_fft, self.hop,
                           window=self.fft_window.float(), center=self.center,
                           pad_mode=_TORCH_PAD[self.pad_mode], return_complex=True)
        return D.reshape(*lead, *D.shape[-2:])

    def forward(self, x):
        D = self.complex(x)
        with _no_autocast(x):
            return magnitude(D, self.power)

    def extra_repr(self):
        return _params_repr(self, self._names)


class MelSpectrogram(nn.Module):
    """Mel-spectrogram, ``librosa.feature.melspectrogram``, as a torch module.

    ``mel_basis @ |stft| ** power`` with the filterbank of ``librosa.filters.mel``
    (HTK or Slaney scale, librosa's ``norm``).

    Parameters
    ----------
    sr, n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels, fmin, \
    fmax, htk, norm
        As :class:`skmir.MelSpectrogram`.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import MelSpectrogram
    >>> MelSpectrogram(n_mels=64)(torch.zeros(2, 3, 22050)).shape
    torch.Size([2, 3, 64, 44])
    """

    _names = ("sr", "n_fft", "hop_length", "win_length", "window", "center", "pad_mode",
              "power", "n_mels", "fmin", "fmax", "htk", "norm")

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
                 fmax=None, htk=False, norm="slaney"):
        super().__init__()
        params = dict(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                      window=window, center=center, pad_mode=pad_mode, power=power,
                      n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
        _validate(representations.MelSpectrogram, params)
        for name, value in params.items():
            setattr(self, name, value)
        import librosa

        self.stft = STFT(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode, power=power)
        basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax,
                                    htk=htk, norm=norm)
        self.register_buffer("mel_basis", torch.as_tensor(basis, dtype=torch.float32))

    @property
    def n_bins(self):
        """Mel bands of the output, ``n_mels``."""
        return self.n_mels

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        return self.stft.n_frames(n_samples)

    def forward(self, x):
        S = self.stft(x)
        with _no_autocast(x):
            return torch.matmul(self.mel_basis.float(), S)

    def extra_repr(self):
        return _params_repr(self, self._names)


class LogCompression(nn.Module):
    """Log compression or decibels, as :class:`skmir.LogCompression`, as a torch module.

    ``method="log"``: ``log(X + eps)``; ``method="db"``: ``(20 / power) *
    log10(max(X, amin) / ref)`` (``librosa.power_to_db`` for ``power=2``,
    ``librosa.amplitude_to_db`` for ``power=1``), clipped at ``top_db`` below each
    clip's own peak (the maximum over all axes but the first). Input: non-negative
    values of any shape with the batch first; output of the same shape, float32.

    Parameters
    ----------
    method, eps, power, ref, amin, top_db
        As :class:`skmir.LogCompression`.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import LogCompression
    >>> LogCompression(method="db")(torch.tensor([[[1.0, 100.0]]]))
    tensor([[[ 0., 20.]]])
    """

    _names = ("method", "eps", "power", "ref", "amin", "top_db")

    def __init__(self, method="log", eps=1e-6, power=2.0, ref=1.0, amin=1e-10, top_db=80.0):
        super().__init__()
        params = dict(method=method, eps=eps, power=power, ref=ref, amin=amin, top_db=top_db)
        _validate(preprocessing.LogCompression, params)
        for name, value in params.items():
            setattr(self, name, value)

    def forward(self, x):
        if not torch.is_tensor(x) or x.ndim < 1:
            raise ValueError("LogCompression: expected a tensor with the batch axis first.")
        with _no_autocast(x):
            x = _float32(x)
            if self.method == "log":
                return torch.log(x + np.float32(self.eps))
            # The operations and float32 constants of skmir.LogCompression, in its order.
            out = torch.log10(torch.clamp(x, min=np.float32(self.amin)))
            out = out - np.float32(np.log10(max(self.amin, self.ref)))
            out = out * np.float32(20.0 / self.power)
            if self.top_db is not None:
                peak = out.reshape(len(out), -1).amax(dim=1).reshape((-1,) + (1,) * (x.ndim - 1))
                out = torch.maximum(out, peak - np.float32(self.top_db))
            return out

    def extra_repr(self):
        return _params_repr(self, self._names)


class MFCC(nn.Module):
    """MFCC, ``librosa.feature.mfcc``, as a torch module.

    The DCT (``scipy.fft.dct``'s matrix) of ``power_to_db`` of the mel-spectrogram,
    with librosa's ``top_db=80`` measured from each clip's own peak, then liftering.

    Parameters
    ----------
    sr, n_mfcc, dct_type, dct_norm, lifter
        As :class:`skmir.MFCC`.
    n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels, fmin, fmax, htk, norm
        The mel-spectrogram's, as :class:`MelSpectrogram`.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import MFCC
    >>> MFCC(n_mfcc=13)(torch.randn(2, 22050)).shape
    torch.Size([2, 13, 44])
    """

    _names = ("sr", "n_mfcc", "dct_type", "dct_norm", "lifter", "n_fft", "hop_length",
              "win_length", "window", "center", "pad_mode", "power", "n_mels", "fmin",
              "fmax", "htk", "norm")

    def __init__(self, sr=22050, n_mfcc=20, dct_type=2, dct_norm="ortho", lifter=0,
                 n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney"):
        super().__init__()
        mel = dict(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                   window=window, center=center, pad_mode=pad_mode, power=power,
                   n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
        params = dict(n_mfcc=n_mfcc, dct_type=dct_type, dct_norm=dct_norm, lifter=lifter)
        _validate(representations.MFCC, {**mel, **params})
        for name, value in {**mel, **params}.items():
            setattr(self, name, value)
        import scipy.fft

        self.mel = MelSpectrogram(**mel)
        self.db = LogCompression(method="db", power=2.0, ref=1.0, amin=1e-10, top_db=80.0)
        # dct(S, axis=-2) is linear in S: its matrix is the DCT of the identity.
        dct = scipy.fft.dct(np.eye(n_mels), type=dct_type, norm=dct_norm, axis=0)[:n_mfcc]
        if lifter > 0:
            lift = 1 + (lifter / 2) * np.sin(np.pi * np.arange(1, 1 + n_mfcc) / lifter)
            dct = dct * lift[:, None]
        self.register_buffer("dct_matrix", torch.as_tensor(dct, dtype=torch.float32))

    @property
    def n_bins(self):
        """Coefficients of the output, ``n_mfcc`` (at most ``n_mels``)."""
        return self.dct_matrix.shape[0]

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        return self.mel.n_frames(n_samples)

    def forward(self, x):
        S = self.db(self.mel(x))
        with _no_autocast(x):
            return torch.matmul(self.dct_matrix.float(), S)

    def extra_repr(self):
        return _params_repr(self, self._names)


def _relative_bandwidth(freqs, bins_per_octave):
    """librosa's relative bandwidths ``alpha`` of the constant-Q filters (its
    ``filters._relative_bandwidth``, and ``__et_relative_bw`` for one bin), computed
    with the same operations so that the filters are librosa's to the last bit."""
    if len(freqs) == 1:
        r = 2 ** (1 / bins_per_octave)
        return np.atleast_1d((r**2 - 1) / (r**2 + 1))
    bpo = np.empty_like(freqs)
    logf = np.log2(freqs)
    bpo[0] = 1 / (logf[1] - logf[0])
    bpo[-1] = 1 / (logf[-1] - logf[-2])
    bpo[1:-1] = 2 / (logf[2:] - logf[:-2])
    return (2.0 ** (2 / bpo) - 1) / (2.0 ** (2 / bpo) + 1)


def _soxr(x, factor):
    import librosa

    return librosa.resample(x, orig_sr=factor, target_sr=1, res_type="soxr_hq", scale=False)


@lru_cache(maxsize=8)
def soxr_decimator(factor):
    """The linear map of librosa's ``resample(orig_sr=factor, target_sr=1,
    res_type="soxr_hq")``, read off soxr's responses to impulses.

    For an integer ratio soxr is a time-invariant decimator (filter, then keep every
    ``factor``-th sample) except near the start, where for ``factor >= 4`` its first
    stages see the first few samples differently; the map is the FIR ``taps`` plus a
    small matrix ``head`` for those samples. Applied by :func:`decimate`, they
    reproduce soxr within 2e-6 of the signal's maximum (measured on noise; soxr
    computes in float32), edges included.

    Parameters
    ----------
    factor : int
        Decimation factor: 2 between the CQT's octaves, ``2 ** k`` for its early
        downsampling.

    Returns
    -------
    taps : ndarray of float64, shape (2 * K + 1,)
        Centred: output ``m`` is ``sum_j taps[K + j] * x[factor * m - j]``.
    head : ndarray of float64, shape (n_head_in, n_head_out)
        Added to the first outputs: ``out[:n_head_out] += x[:n_head_in] @ head``.

    Examples
    --------
    >>> from skmir.nn.representations import soxr_decimator
    >>> taps, head = soxr_decimator(2)
    >>> len(taps) % 2, bool(abs(taps.sum() - 1) < 1e-4), head.shape
    (1, True, (0, 0))
    """
    n = 8192 * factor
    mid = n // 2
    lag_taps = {}
    for phase in range(factor):
        delta = np.zeros(n)
        delta[mid + phase] = 1.0
        for m, value in enumerate(_soxr(delta, factor)):
            lag_taps[factor * m - mid - phase] = value
    lags = np.array(sorted(lag_taps))
    values = np.array([lag_taps[k] for k in lags])
    # soxr's filter is long but its far taps are tiny: keep the centre, dropping taps
    # whose absolute sum (a bound on the error, relative to the signal's maximum)
    # stays below 1e-5.
    mag = np.abs(values)
    outside = mag.sum() - np.cumsum(np.bincount(np.abs(lags), weights=mag))
    k = int(np.argmax(outside < 1e-5))
    taps = values[(lags >= -k) & (lags <= k)]
    # The start: responses to impulses at the first positions minus the full FIR's.
    rows = []
    for p in range(16 * factor):
        delta = np.zeros(n)
        delta[p] = 1.0
        response = _soxr(delta, factor)
        fir = values[np.clip(factor * np.arange(len(response)) - p - lags[0], 0, len(lags) - 1)]
        rows.append(response - fir)
    head = np.array(rows)
    # soxr computes in float32: deviations below 1e-7 are its rounding, not its edge.
    big = np.abs(head) > 1e-7 * np.abs(taps).max()
    if not big.any():
        return taps, np.zeros((0, 0))
    n_in = np.flatnonzero(big.any(axis=1)).max() + 1
    n_out = np.flatnonzero(big.any(axis=0)).max() + 1
    return taps, head[:n_in, :n_out]


def decimate(y, factor):
    """``librosa.resample(y, orig_sr=factor, target_sr=1, res_type="soxr_hq",
    scale=True)`` in torch, along the last axis, on ``y``'s device.

    soxr's own linear map (:func:`soxr_decimator`) applied as an FFT convolution:
    differentiable, and within 2e-6 of librosa's result relative to its maximum.

    Parameters
    ----------
    y : Tensor of shape (..., n_samples)
    factor : int
        Decimation factor.

    Returns
    -------
    Tensor of float32, shape (..., ceil(n_samples / factor))

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import decimate
    >>> decimate(torch.ones(2, 1001), 2).shape
    torch.Size([2, 501])
    """
    taps, head = (torch.as_tensor(a, dtype=torch.float32, device=y.device)
                  for a in soxr_decimator(int(factor)))
    lead = y.shape[:-1]
    out = _decimate(_float32(y).reshape(-1, y.shape[-1]), taps, head, int(factor))
    return out.reshape(*lead, out.shape[-1])


def _decimate(y, taps, head, factor):
    """``librosa.resample(y, orig_sr=factor, target_sr=1, res_type="soxr_hq",
    scale=True)`` along the last axis: FFT convolution with soxr's taps, its start
    correction, and the zero that librosa's ``fix_length`` appends when soxr returns
    ``round(n / factor)`` samples, one short of ``ceil(n / factor)``."""
    import scipy.fft

    n = y.shape[-1]
    k = (len(taps) - 1) // 2
    size = scipy.fft.next_fast_len(n + 2 * k, real=True)
    full = torch.fft.irfft(torch.fft.rfft(y, size) * torch.fft.rfft(taps, size), size)
    out = full[..., k:k + n:factor]
    n_in, n_out = min(head.shape[0], n), min(head.shape[1], out.shape[-1])
    if n_in and n_out:
        out = torch.cat([out[..., :n_out] + torch.matmul(y[..., :n_in], head[:n_in, :n_out]),
                         out[..., n_out:]], dim=-1)
    if (2 * n + factor) // (2 * factor) < out.shape[-1]:
        out = torch.cat([out[..., :-1], torch.zeros_like(out[..., -1:])], dim=-1)
    return out * math.sqrt(factor)


class CQT(nn.Module):
    """Magnitude constant-Q transform, ``|librosa.cqt(y)| ** power``, as a torch module.

    librosa's algorithm, step by step, rather than a full-rate convolution that would
    only approximate it: the same early downsampling, then octave by octave from the
    top, an STFT with a rectangular window times librosa's own sparse
    frequency-domain filters of that octave (``librosa.filters.wavelet``, FFT,
    ``librosa.util.sparsify_rows``, built at the octave's sample rate), and a
    decimation by 2 before the next octave; the responses are trimmed, stacked and
    scaled by ``1 / sqrt(length)`` as in ``librosa.vqt``. librosa decimates with soxr
    (``res_type="soxr_hq"``); this module applies soxr's own linear map, read off
    its impulse responses (:func:`soxr_decimator`), as an FFT convolution, which is
    differentiable and runs on the device. The decimator matters: the octaves'
    rectangular-window STFTs leak what lies near the Nyquist frequency into the
    filters, and a generic 120 dB half-band FIR left differences of 2e-3 to 3e-2.

    Measured difference from :class:`skmir.CQT` (librosa 0.11, float32; music of
    :func:`skmir.datasets.make_music` and white noise, 22.05 kHz; 84 bins, 48 bins
    with early downsampling, 24 bins per octave at hop 256): at most 3e-6 of the
    maximum of librosa's magnitudes; the tests assert 1e-4.

    Parameters
    ----------
    sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, \
    sparsity, window, scale, pad_mode, res_type, power
        As :class:`skmir.CQT`, except that ``tuning`` must be a number (no per-clip
        estimation), ``res_type`` must be "soxr_hq" (the one whose decimator is
        reproduced) and ``pad_mode`` one of "constant", "reflect", "edge".

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import CQT
    >>> CQT(n_bins=48)(torch.zeros(2, 22050)).shape
    torch.Size([2, 48, 44])
    """

    _names = ("sr", "hop_length", "fmin", "n_bins", "bins_per_octave", "tuning",
              "filter_scale", "norm", "sparsity", "window", "scale", "pad_mode", "res_type",
              "power")

    def __init__(self, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12,
                 tuning=0.0, filter_scale=1, norm=1, sparsity=0.01, window="hann", scale=True,
                 pad_mode="constant", res_type="soxr_hq", power=1.0):
        super().__init__()
        params = dict(sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
                      bins_per_octave=bins_per_octave, tuning=tuning,
                      filter_scale=filter_scale, norm=norm, sparsity=sparsity, window=window,
                      scale=scale, pad_mode=pad_mode, res_type=res_type, power=power)
        _validate(representations.CQT, params)
        for name, value in params.items():
            setattr(self, name, value)
        owner = type(self).__name__
        if tuning is None:
            raise ValueError(
                f"{owner}: tuning=None (estimate the tuning of each clip) is not available "
                "in the torch CQT (backend='torch'); pass a number, e.g. tuning=0.0, or "
                "use backend='librosa'."
            )
        if res_type != "soxr_hq":
            raise ValueError(
                f"{owner}: res_type={res_type!r} is not available in the torch CQT "
                "(backend='torch'), whose decimator stands in for res_type='soxr_hq'; use "
                "res_type='soxr_hq' or backend='librosa'."
            )
        _check_pad_mode(owner, pad_mode)
        self._build()

    def _build(self):
        import librosa

        bpo = self.bins_per_octave
        n_octaves = int(np.ceil(float(self.n_bins) / bpo))
        n_filters = min(bpo, self.n_bins)
        fmin = librosa.note_to_hz("C1") if self.fmin is None else self.fmin
        fmin = fmin * 2.0 ** (self.tuning / bpo)
        freqs = librosa.interval_frequencies(n_bins=self.n_bins, fmin=fmin, intervals="equal",
                                             bins_per_octave=bpo, sort=True)
        alpha = _relative_bandwidth(freqs, bpo)
        wl = dict(window=self.window, filter_scale=self.filter_scale, gamma=0, alpha=alpha)
        sr = float(self.sr)
        _, cutoff = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr, **wl)
        nyquist = sr / 2.0
        if cutoff > nyquist:
            raise ValueError(
                f"CQT: the filters reach {cutoff:.1f} Hz, above the Nyquist frequency "
                f"{nyquist:.1f} Hz of sr={self.sr}: reduce n_bins or fmin."
            )
        # librosa's early downsampling (constantq.__early_downsample_count).
        count1 = max(0, int(np.ceil(np.log2(nyquist / cutoff)) - 1) - 1)
        hop = self.hop_length
        twos = (hop & -hop).bit_length() - 1
        self.n_early = min(count1, max(0, twos - n_octaves + 1))
        if self.n_early:
            hop //= 2**self.n_early
            sr /= 2**self.n_early
        for name, factor in (("decimator", 2), ("early_decimator", 2**self.n_early)):
            taps, head = soxr_decimator(factor) if factor > 1 else (np.ones(1), np.zeros((0, 0)))
            self.register_buffer(f"{name}_taps", torch.as_tensor(taps, dtype=torch.float32))
            self.register_buffer(f"{name}_head", torch.as_tensor(head, dtype=torch.float32))
        fft = librosa.get_fftlib()
        self.octaves = []  # (n_fft, hop, first bin, last bin, downsample after)
        my_sr, my_hop = sr, hop
        for i in range(n_octaves):
            sl = slice(-n_filters, None) if i == 0 else slice(-n_filters * (i + 1), -n_filters * i)
            # librosa's __vqt_filter_fft, through its public pieces.
            basis, lengths = librosa.filters.wavelet(
                freqs=freqs[sl], sr=my_sr, filter_scale=self.filter_scale, norm=self.norm,
                pad_fft=True, window=self.window, gamma=0, alpha=alpha[sl])
            n_fft = basis.shape[1]
            basis *= lengths[:, np.newaxis] / float(n_fft)
            fft_basis = fft.fft(basis, n=n_fft, axis=1)[:, : (n_fft // 2) + 1]
            fft_basis = librosa.util.sparsify_rows(fft_basis, quantile=self.sparsity,
                                                   dtype=np.complex64).toarray()
            fft_basis *= np.sqrt(sr / my_sr)
            # Only the FFT bins some filter of the octave uses enter the product.
            used = np.flatnonzero(np.abs(fft_basis).sum(axis=0) > 0)
            lo, hi = (int(used[0]), int(used[-1]) + 1) if used.size else (0, 1)
            self.register_buffer(f"basis{i}", torch.as_tensor(fft_basis[:, lo:hi]))
            down = my_hop % 2 == 0
            self.octaves.append((n_fft, my_hop, lo, hi, down))
            if down:
                my_hop //= 2
                my_sr /= 2.0
        if self.scale:
            lengths, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr, **wl)
            inv = 1.0 / np.sqrt(lengths)
        else:
            inv = np.ones(self.n_bins)
        self.register_buffer("inv_sqrt_length", torch.as_tensor(inv, dtype=torch.float32)[:, None])
        self.n_filters = n_filters

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        n_samples = -(-n_samples // 2**self.n_early)
        frames = []
        for _, hop, _, _, down in self.octaves:
            frames.append(1 + n_samples // hop)
            if down:
                n_samples = -(-n_samples // 2)
        return min(frames)

    def complex(self, x):
        """The complex CQT, ``librosa.cqt(y)`` (complex64)."""
        owner = type(self).__name__
        _check_waveforms(owner, x, 2**self.n_early)
        lead = x.shape[:-1]
        with _no_autocast(x):
            y = _float32(x).reshape(-1, x.shape[-1])
            if self.n_early:
                y = _decimate(y, self.early_decimator_taps.float(),
                              self.early_decimator_head.float(), 2**self.n_early)
                if not self.scale:
                    y = y * math.sqrt(2**self.n_early)
            responses = []
            for i, (n_fft, hop, lo, hi, down) in enumerate(self.octaves):
                if self.pad_mode == "reflect" and y.shape[-1] <= n_fft // 2:
                    raise ValueError(
                        f"{owner}: clips of {x.shape[-1]} samples are too short for "
                        f"pad_mode='reflect' in octave {i}; use longer clips or "
                        "pad_mode='constant'.")
                D = torch.stft(y, n_fft, hop, window=torch.ones(n_fft, device=y.device),
                               center=True, pad_mode=_TORCH_PAD[self.pad_mode],
                               return_complex=True)
                basis = getattr(self, f"basis{i}").to(torch.complex64)
                responses.append(torch.matmul(basis, D[:, lo:hi]))
                if down and i + 1 < len(self.octaves):
                    y = _decimate(y, self.decimator_taps.float(), self.decimator_head.float(), 2)
            n_frames = min(r.shape[-1] for r in responses)
            # librosa's __trim_stack: octaves from the top down, the last one keeping
            # its highest bins when n_bins is not a whole number of octaves.
            parts, end = [], self.n_bins
            for r in responses:
                take = min(end, r.shape[-2])
                parts.append(r[:, r.shape[-2] - take:, :n_frames])
                end -= take
            C = torch.cat(parts[::-1], dim=-2) * self.inv_sqrt_length.float()
        return C.reshape(*lead, *C.shape[-2:])

    def forward(self, x):
        C = self.complex(x)
        with _no_autocast(x):
            return magnitude(C, self.power)

    def extra_repr(self):
        return _params_repr(self, self._names)


class Chromagram(nn.Module):
    """Chromagram, ``librosa.feature.chroma_cqt`` or ``chroma_stft``, as a torch module.

    ``source="cqt"``: the magnitude :class:`CQT` (``n_octaves * bins_per_octave`` bins)
    folded by ``librosa.filters.cq_to_chroma``, thresholded; ``source="stft"``: the
    power STFT mapped by ``librosa.filters.chroma``. Then each frame is normalised as
    ``librosa.util.normalize(norm=norm, axis=-2)``. Measured difference from
    :class:`skmir.Chromagram` (``tuning=0``) on generated music and noise: within 3e-6
    of the maximum for both sources; the tests assert 1e-4.

    Parameters
    ----------
    source, sr, hop_length, n_chroma, norm, fmin, n_octaves, bins_per_octave, \
    threshold, n_fft, window, center, pad_mode
        As :class:`skmir.Chromagram`.
    tuning : float, default=0.0
        Tuning offset in fractions of a bin. Unlike :class:`skmir.Chromagram`, whose
        default None estimates it from each clip, the module needs a number.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations import Chromagram
    >>> Chromagram(source="stft")(torch.randn(2, 22050)).shape
    torch.Size([2, 12, 44])
    """

    _names = ("source", "sr", "hop_length", "n_chroma", "norm", "tuning", "fmin",
              "n_octaves", "bins_per_octave", "threshold", "n_fft", "window", "center",
              "pad_mode")

    def __init__(self, source="cqt", sr=22050, hop_length=512, n_chroma=12, norm=np.inf,
                 tuning=0.0, fmin=None, n_octaves=7, bins_per_octave=36, threshold=0.0,
                 n_fft=2048, window="hann", center=True, pad_mode="constant"):
        super().__init__()
        params = dict(source=source, sr=sr, hop_length=hop_length, n_chroma=n_chroma,
                      norm=norm, tuning=tuning, fmin=fmin, n_octaves=n_octaves,
                      bins_per_octave=bins_per_octave, threshold=threshold, n_fft=n_fft,
                      window=window, center=center, pad_mode=pad_mode)
        _validate(representations.Chromagram, params)
        for name, value in params.items():
            setattr(self, name, value)
        if tuning is None:
            raise ValueError(
                "Chromagram: tuning=None (estimate the tuning of each clip) is not "
                "available in the torch chromagram (backend='torch'); pass a number, e.g. "
                "tuning=0.0, or use backend='librosa'."
            )
        import librosa

        if source == "stft":
            self.spectrum = STFT(n_fft=n_fft, hop_length=hop_length, window=window,
                                 center=center, pad_mode=pad_mode, power=2.0)
            fb = librosa.filters.chroma(sr=sr, n_fft=n_fft, tuning=tuning, n_chroma=n_chroma)
        else:
            n_bins = n_octaves * bins_per_octave
            if bins_per_octave % n_chroma:
                raise ValueError(
                    f"Chromagram: bins_per_octave={bins_per_octave} must be a multiple of "
                    f"n_chroma={n_chroma} with source='cqt'.")
            self.spectrum = CQT(sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
                                bins_per_octave=bins_per_octave, tuning=tuning)
            fb = librosa.filters.cq_to_chroma(n_bins, bins_per_octave=bins_per_octave,
                                              n_chroma=n_chroma, fmin=fmin)
        self.register_buffer("chroma_basis", torch.as_tensor(fb, dtype=torch.float32))

    @property
    def n_bins(self):
        """Pitch classes of the output, ``n_chroma``."""
        return self.n_chroma

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        return self.spectrum.n_frames(n_samples)

    def forward(self, x):
        S = self.spectrum(x)
        with _no_autocast(x):
            chroma = torch.matmul(self.chroma_basis.float(), S)
            if self.source == "cqt" and self.threshold is not None:
                chroma = torch.where(chroma < self.threshold, torch.zeros_like(chroma), chroma)
            return _normalize(chroma, self.norm)

    def extra_repr(self):
        return _params_repr(self, self._names)


# The sklearn transformer -> torch module pairs; MFCC first, a subclass of
# skmir.MelSpectrogram on the sklearn side.
def _pairs():
    return [(representations.MFCC, MFCC), (representations.MelSpectrogram, MelSpectrogram),
            (representations.STFT, STFT), (representations.CQT, CQT),
            (representations.Chromagram, Chromagram),
            (preprocessing.LogCompression, LogCompression)]


# Parameters of the sklearn transformers that say how, not what, to compute.
_EXECUTION = ("n_jobs", "backend", "device")


def from_transformer(obj):
    """The torch module equal to a skmir representation transformer or a chain of them.

    Parameters
    ----------
    obj : transformer, sklearn Pipeline, list or tuple
        :class:`skmir.STFT`, :class:`skmir.MelSpectrogram`, :class:`skmir.CQT`,
        :class:`skmir.Chromagram`, :class:`skmir.MFCC` or :class:`skmir.LogCompression`
        (their ``n_jobs``, ``backend`` and ``device`` are ignored); a Pipeline or a
        sequence of those ("passthrough" and None steps are skipped); a torch module
        is returned as it is.

    Returns
    -------
    module : nn.Module
        The module with the same parameters; an ``nn.Sequential`` for a chain (named
        after the Pipeline's steps).

    Examples
    --------
    >>> import torch
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmir import LogCompression, MelSpectrogram
    >>> from skmir.nn.representations import from_transformer
    >>> net = from_transformer(make_pipeline(MelSpectrogram(n_mels=40), LogCompression()))
    >>> [type(m).__name__ for m in net]
    ['MelSpectrogram', 'LogCompression']
    >>> net(torch.zeros(1, 4096)).shape
    torch.Size([1, 40, 9])
    """
    from sklearn.pipeline import Pipeline

    if isinstance(obj, nn.Module):
        return obj
    if isinstance(obj, Pipeline):
        steps = [(name.replace(".", "_"), from_transformer(step)) for name, step in obj.steps
                 if step is not None and not (isinstance(step, str) and step == "passthrough")]
        return nn.Sequential(OrderedDict(steps))
    if isinstance(obj, (list, tuple)):
        return nn.Sequential(*[from_transformer(step) for step in obj
                               if step is not None and not (isinstance(step, str)
                                                            and step == "passthrough")])
    for sk_class, module in _pairs():
        if isinstance(obj, sk_class):
            params = {k: v for k, v in obj.get_params(deep=False).items() if k not in _EXECUTION}
            return module(**params)
    names = ", ".join(sk.__name__ for sk, _ in _pairs())
    raise ValueError(
        f"from_transformer: {type(obj).__name__} has no torch module; expected one of "
        f"{names}, a Pipeline or a list of them, or a torch module."
    )


def resolve_device(device):
    """The torch device for a representation's ``device`` parameter.

    ``"auto"`` is CUDA when available, else the CPU; a CUDA device when CUDA is not
    available is refused with a ValueError rather than failing inside torch.

    Examples
    --------
    >>> from skmir.nn.representations import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    from skmir.nn import training

    resolved = training.resolve_device(device)
    if torch.device(resolved).type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available here "
            "(torch.cuda.is_available() is False); use device='auto' or 'cpu'."
        )
    return resolved


def transform_array(module, X, *, device="auto", block_samples=BLOCK_SAMPLES):
    """Run a module over a numpy array of clips in batches, without gradients.

    The ``backend="torch"`` of skmir's sklearn transformers: each batch of clips (at
    most ``block_samples`` input values, at least one clip) is copied to ``device``,
    computed there and copied back into one float32 array.

    Parameters
    ----------
    module : nn.Module
    X : ndarray of shape (n_clips, ...)
    device : str, default="auto"
        As :func:`resolve_device`.
    block_samples : int, default=2**22
        Input values per batch; bounds the memory of a batch on the device.

    Returns
    -------
    out : ndarray of float32, shape (n_clips, ...)

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.nn.representations import STFT, transform_array
    >>> transform_array(STFT(n_fft=256), np.zeros((3, 1000), "float32"), device="cpu").shape
    (3, 129, 16)
    """
    device = resolve_device(device)
    module = module.to(device)
    per_clip = max(1, int(np.prod(X.shape[1:])))
    per_batch = max(1, block_samples // per_clip)
    out = None
    cuda = torch.device(device).type == "cuda"
    with torch.no_grad():
        for start in range(0, len(X), per_batch):
            batch = torch.from_numpy(np.ascontiguousarray(X[start:start + per_batch],
                                                          dtype=np.float32))
            if cuda:
                batch = batch.pin_memory()
            result = module(batch.to(device, non_blocking=cuda)).float().cpu().numpy()
            if out is None:
                out = np.empty((len(X), *result.shape[1:]), dtype=np.float32)
            out[start:start + len(result)] = result
    if out is None:
        raise ValueError("transform_array: X holds no clips.")
    return out


__all__ = ["CQT", "MFCC", "STFT", "Chromagram", "LogCompression", "MelSpectrogram",
           "decimate", "from_transformer", "magnitude", "resolve_device", "soxr_decimator",
           "transform_array"]
