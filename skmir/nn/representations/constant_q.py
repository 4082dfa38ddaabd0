"""The constant-Q stage: :class:`CQTKernel`, librosa's CQT algorithm octave by
octave, with soxr's decimator (:func:`soxr_decimator`, :func:`decimate`)."""

import math
from functools import lru_cache

import numpy as np
import torch

from skmir.nn.representations.common import TORCH_PAD, as_float32, check_waveform_batch
from skmir.nn.representations.stages import Stage
from skmir.nn.representations.tuning import estimate_tuning_of_waveforms


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
    out = _decimate(as_float32(y).reshape(-1, y.shape[-1]), taps, head, int(factor))
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


class CQTKernel(Stage):
    """The complex constant-Q transform, ``librosa.cqt(y)``, as a stage (``"cqt"``).

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
    sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, norm, sparsity, \
window, scale, pad_mode
        As :class:`skmir.CQT`'s (its ``torch_stages()``); ``pad_mode`` one of
        "constant", "reflect", "edge" (see
        :data:`~skmir.nn.representations.TORCH_EXCEPTIONS`). ``tuning=None``
        estimates each clip's tuning as ``librosa.cqt`` does
        (:func:`~skmir.nn.representations.tuning.estimate_tuning_of_waveforms`, at
        ``bins_per_octave``); the clips of one tuning are computed together, by the
        kernel of that tuning, built on first use and kept (the estimates take the
        100 values of librosa's histogram, so a batch has few groups).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.constant_q import CQTKernel
    >>> kernel = CQTKernel(sr=22050, hop_length=512, fmin=None, n_bins=48, bins_per_octave=12,
    ...                    tuning=0.0, filter_scale=1, norm=1, sparsity=0.01, window="hann",
    ...                    scale=True, pad_mode="constant")
    >>> kernel.n_bins(None), kernel.n_frames(22050)
    (48, 44)
    """

    waveform = True

    def __init__(self, sr, hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale,
                 norm, sparsity, window, scale, pad_mode):
        super().__init__(sr=sr, hop_length=hop_length, fmin=fmin, n_bins=n_bins,
                         bins_per_octave=bins_per_octave, tuning=tuning,
                         filter_scale=filter_scale, norm=norm, sparsity=sparsity,
                         window=window, scale=scale, pad_mode=pad_mode)
        for name, value in self.params.items():
            # n_bins is the method of every stage: the kernel's own is n_out.
            setattr(self, "n_out" if name == "n_bins" else name, value)
        if tuning is None:
            # Kernels per estimated tuning, outside the module's buffers; the one
            # of tuning 0 tells the shapes.
            self.tuned = {}
            self.template = self._tuned_kernel(0.0)
            self.n_early, self.octaves = self.template.n_early, self.template.octaves
        else:
            self._build()

    def _tuned_kernel(self, tuning):
        if tuning not in self.tuned:
            self.tuned[tuning] = (CQTKernel(**{**self.params, "tuning": tuning}), {})
        return self.tuned[tuning][0]

    def _forward_estimated(self, x, owner):
        check_waveform_batch(owner, x, self.min_samples())
        tunings = estimate_tuning_of_waveforms(x, self.sr, self.bins_per_octave)
        order = sorted(range(len(x)), key=tunings.__getitem__)
        parts = []
        for tuning in sorted(set(tunings)):
            rows = [i for i in order if tunings[i] == tuning]
            kernel = self._tuned_kernel(tuning)
            buffers = self.tuned[tuning][1].setdefault(str(x.device), {
                name: torch.as_tensor(a, device=x.device) for name, a in kernel.arrays.items()})
            parts.append(kernel.forward(x[rows], buffers, owner))
        inverse = torch.empty(len(x), dtype=torch.long)
        inverse[order] = torch.arange(len(x))
        return torch.cat(parts)[inverse.to(x.device)]

    def _build(self):
        import librosa

        bpo = self.bins_per_octave
        n_octaves = int(np.ceil(float(self.n_out) / bpo))
        n_filters = min(bpo, self.n_out)
        fmin = librosa.note_to_hz("C1") if self.fmin is None else self.fmin
        fmin = fmin * 2.0 ** (self.tuning / bpo)
        freqs = librosa.interval_frequencies(n_bins=self.n_out, fmin=fmin, intervals="equal",
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
            self.arrays[f"{name}_taps"] = np.asarray(taps, dtype=np.float32)
            self.arrays[f"{name}_head"] = np.asarray(head, dtype=np.float32)
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
            self.arrays[f"basis{i}"] = np.ascontiguousarray(fft_basis[:, lo:hi])
            down = my_hop % 2 == 0
            self.octaves.append((n_fft, my_hop, lo, hi, down))
            if down:
                my_hop //= 2
                my_sr /= 2.0
        if self.scale:
            lengths, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr, **wl)
            inv = 1.0 / np.sqrt(lengths)
        else:
            inv = np.ones(self.n_out)
        self.arrays["inv_sqrt_length"] = np.asarray(inv, dtype=np.float32)[:, None]
        self.n_filters = n_filters

    def n_bins(self, n_in):
        return self.n_out

    def min_samples(self):
        return 2**self.n_early

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        n_samples = -(-n_samples // 2**self.n_early)
        frames = []
        for _, hop, _, _, down in self.octaves:
            frames.append(1 + n_samples // hop)
            if down:
                n_samples = -(-n_samples // 2)
        return min(frames)

    def forward(self, x, buffers, owner):
        if self.tuning is None:
            return self._forward_estimated(x, owner)
        check_waveform_batch(owner, x, 2**self.n_early)
        lead = x.shape[:-1]
        y = as_float32(x).reshape(-1, x.shape[-1])
        if self.n_early:
            y = _decimate(y, buffers["early_decimator_taps"].float(),
                          buffers["early_decimator_head"].float(), 2**self.n_early)
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
                           center=True, pad_mode=TORCH_PAD[self.pad_mode],
                           return_complex=True)
            basis = buffers[f"basis{i}"].to(torch.complex64)
            responses.append(torch.matmul(basis, D[:, lo:hi]))
            if down and i + 1 < len(self.octaves):
                y = _decimate(y, buffers["decimator_taps"].float(),
                              buffers["decimator_head"].float(), 2)
        n_frames = min(r.shape[-1] for r in responses)
        # librosa's __trim_stack: octaves from the top down, the last one keeping
        # its highest bins when n_bins is not a whole number of octaves.
        parts, end = [], self.n_out
        for r in responses:
            take = min(end, r.shape[-2])
            parts.append(r[:, r.shape[-2] - take:, :n_frames])
            end -= take
        C = torch.cat(parts[::-1], dim=-2) * buffers["inv_sqrt_length"].float()
        return C.reshape(*lead, *C.shape[-2:])


__all__ = ["CQTKernel", "decimate", "soxr_decimator"]
