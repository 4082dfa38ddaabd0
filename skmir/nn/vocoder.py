"""Time stretch and pitch shift of waveform batches in torch, as librosa does them.

:func:`time_stretch` is the phase vocoder of :func:`librosa.effects.time_stretch`
(vectorised over frames); :func:`pitch_shift` is :func:`librosa.effects.pitch_shift`:
a stretch followed by band-limited (FFT) resampling, :func:`resample`. They run on the
tensor's device; :class:`skmir.nn.augmentation.WaveformAugmentation` draws their
rates per clip while training.
"""

import math

import torch

__all__ = ["pitch_shift", "resample", "shift", "time_stretch"]


def _fft_size(n_samples, n_fft=2048):
    """The vocoder's FFT size: librosa's 2048, smaller for clips shorter than that."""
    while n_fft > 16 and n_fft > n_samples:
        n_fft //= 2
    return n_fft


def resample(x, n_out):
    """Band-limited resampling of the last axis to ``n_out`` samples (FFT method).

    The spectrum is truncated (fewer samples: no aliasing) or zero-padded (more
    samples), as :func:`scipy.signal.resample` and librosa's ``res_type="fft"``.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import resample
    >>> t = torch.arange(800) / 800
    >>> y = resample(torch.sin(2 * torch.pi * 5 * t), 400)
    >>> y.shape, bool(torch.allclose(y, torch.sin(2 * torch.pi * 5 * t[::2]), atol=1e-4))
    (torch.Size([400]), True)
    """
    n_in = x.shape[-1]
    if n_out == n_in:
        return x
    spec = torch.fft.rfft(x.float(), dim=-1)
    k = min(spec.shape[-1], n_out // 2 + 1)
    out = spec.new_zeros((*spec.shape[:-1], n_out // 2 + 1))
    out[..., :k] = spec[..., :k]
    if n_out < n_in and n_out % 2 == 0:
        # The output's Nyquist bin stands for the input's bins +-n_out/2 (as scipy).
        out[..., -1] *= 2
    return torch.fft.irfft(out, n=n_out, dim=-1) * (n_out / n_in)


def _phase_vocoder(D, rate, hop_length):
    """librosa.phase_vocoder on (..., freq, frames) complex STFTs, vectorised."""
    steps = torch.arange(0, D.shape[-1], rate, device=D.device, dtype=torch.float64)
    # The expected phase advance of each bin over one hop (librosa's phi_advance).
    phi_advance = torch.linspace(0, math.pi * hop_length, D.shape[-2], device=D.device,
                                 dtype=torch.float64)
    D = torch.nn.functional.pad(D, (0, 2))
    i = steps.floor().long()
    alpha = (steps - i).to(torch.float32)
    a, b = D[..., i], D[..., i + 1]
    mag = (1 - alpha) * a.abs() + alpha * b.abs()
    dphase = (b.angle() - a.angle()).double() - phi_advance[:, None]
    dphase = dphase - 2 * math.pi * torch.round(dphase / (2 * math.pi))
    dphase = dphase + phi_advance[:, None]
    # Output frame k takes the phase accumulated over the steps before it.
    phase = D[..., :1].angle().double() + torch.cumsum(dphase, dim=-1) - dphase
    return torch.polar(mag, phase.float())


def time_stretch(x, rate):
    """Stretch the last axis of ``x`` by ``rate`` (> 1 is faster), keeping the pitch.

    A phase vocoder as :func:`librosa.effects.time_stretch` (STFT of 2048 samples,
    a hop of a quarter of it, Hann window), on ``x``'s device. The result has
    ``round(n_samples / rate)`` samples.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import time_stretch
    >>> time_stretch(torch.randn(2, 8000), 1.25).shape
    torch.Size([2, 6400])
    """
    n = x.shape[-1]
    n_out = int(round(n / rate))
    if rate == 1:
        return x
    n_fft = _fft_size(n)
    hop = n_fft // 4
    window = torch.hann_window(n_fft, device=x.device)
    flat = x.reshape(-1, n).float()
    D = torch.stft(flat, n_fft, hop, window=window, center=True, pad_mode="constant",
                   return_complex=True)
    D = _phase_vocoder(D, rate, hop)
    y = torch.istft(D, n_fft, hop, window=window, center=True, length=n_out)
    return y.reshape(*x.shape[:-1], n_out)


def pitch_shift(x, n_steps):
    """Shift the pitch of ``x`` by ``n_steps`` semitones, keeping the duration.

    As :func:`librosa.effects.pitch_shift`: a phase-vocoder stretch by ``2 **
    (-n_steps / 12)`` then FFT resampling back to ``x``'s number of samples.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import pitch_shift
    >>> pitch_shift(torch.randn(8000), 2.0).shape
    torch.Size([8000])
    """
    if n_steps == 0:
        return x
    n = x.shape[-1]
    y = shift(x, 2.0 ** (-n_steps / 12), 1.0)
    return y[..., :n] if y.shape[-1] >= n else torch.nn.functional.pad(y, (0, n - y.shape[-1]))


def shift(x, ratio, rate):
    """Stretch by ``rate * ratio``, then resample by ``ratio`` as librosa does (to
    ``ceil(n * ratio)`` samples): the pitch moves by ``1 / ratio``, the tempo by ``rate``."""
    stretched = time_stretch(x, rate * ratio)
    return resample(stretched, int(math.ceil(stretched.shape[-1] * ratio)))
