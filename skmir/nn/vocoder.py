"""Time stretch and pitch shift of waveform batches in torch, as librosa does them.

:func:`time_stretch_batch` is the phase vocoder of :func:`librosa.effects.time_stretch`
for a whole batch at once, a rate per clip: one STFT of the batch, the vocoder's
steps of every clip padded to the longest and masked, one overlap-add. A pitch shift
(:func:`shift_batch`, :func:`librosa.effects.pitch_shift`) follows it with
band-limited (FFT) resampling, :func:`resample`, per clip (their lengths differ).
:func:`time_stretch`, :func:`pitch_shift` and :func:`shift` are the one-clip forms.
They run on the tensor's device; :class:`skmir.nn.augmentation.WaveformAugmentation`
draws their rates per clip while training.

The phase is accumulated as librosa's (the expected advance of each bin plus the
wrapped deviation from it), with the expected part reduced modulo 2 pi before it is
added, so the phases stay small enough for float32 on every device.
"""

import math

import torch

__all__ = ["pitch_shift", "resample", "shift", "shift_batch", "time_stretch",
           "time_stretch_batch"]


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


def _wrap(phase):
    """Phase to [-pi, pi)."""
    return torch.remainder(phase + math.pi, 2 * math.pi) - math.pi


def _phase_vocoder(D, rates, hop_length):
    """librosa.phase_vocoder of (batch, channels, frames, freq) complex STFTs, a rate
    per clip; returns the stretched STFTs padded to the longest and their frame counts.

    Output frame ``k`` of clip ``b`` interpolates input frames ``floor(k * rate_b)``
    and the next; steps past a clip's end are masked (magnitude zero).
    """
    n_frames, dev = D.shape[-2], D.device
    counts = [math.ceil(n_frames / rate) for rate in rates]  # len(arange(0, T, rate))
    # The steps and the expected phases in float64 on the CPU (exact floors; float64
    # is not on every device), then moved.
    k = torch.arange(max(counts), dtype=torch.float64)
    steps = k * torch.tensor(rates, dtype=torch.float64)[:, None]
    valid = (k < torch.tensor(counts)[:, None]).to(dev)
    i = steps.floor().long().clamp(max=n_frames - 1)
    alpha = (steps - i).to(dev, torch.float32)
    i = i.to(dev)
    # The expected phase advance of each bin over one hop (librosa's phi_advance).
    advance = torch.linspace(0, math.pi * hop_length, D.shape[-1], dtype=torch.float64)
    D = torch.nn.functional.pad(D, (0, 0, 0, 1))
    mag, angle = D.abs(), D.angle()
    # Each input frame's deviation from the expected advance to the next, wrapped.
    deviation = _wrap(angle[..., 1:, :] - angle[..., :-1, :]
                      - torch.remainder(advance, 2 * math.pi).to(dev, torch.float32))

    def take(values, index):
        index = index[:, None, :, None].expand(*values.shape[:2], index.shape[-1],
                                               values.shape[-1])
        return values.gather(-2, index)

    alpha, valid = alpha[:, None, :, None], valid[:, None, :, None]
    out_mag = torch.where(valid, torch.lerp(take(mag, i), take(mag, i + 1), alpha), 0)
    # Output frame k takes the phase accumulated over the steps before it: k expected
    # advances (reduced modulo 2 pi in float64) plus the deviations before k.
    expected = torch.remainder(k[:, None] * advance, 2 * math.pi).to(dev, torch.float32)
    deviation = take(deviation, i)
    before = torch.cumsum(deviation, dim=-2) - deviation
    phase = angle[..., :1, :] + expected + before
    return torch.polar(out_mag, phase), counts


def _overlap_add(D, n_fft, window, counts, lengths):
    """torch.istft (centered, hop ``n_fft // 4``) of (batch, channels, frames, freq)
    STFTs with ``counts[b]`` frames in clip ``b``, to ``lengths[b]`` samples."""
    B, C, L, _ = D.shape
    hop, dev = n_fft // 4, D.device
    frames = torch.fft.irfft(D, n=n_fft, dim=-1) * window
    # With a hop of a quarter frame, block m of the output sums quarter j of frame
    # m - j for j = 0..3.
    quarters = frames.reshape(B, C, L, 4, hop)
    signal = sum(torch.nn.functional.pad(quarters[..., j, :], (0, 0, j, 3 - j))
                 for j in range(4)).reshape(B, C, (L + 3) * hop)
    valid = (torch.arange(L, device=dev) < torch.as_tensor(counts, device=dev)[:, None])
    # The window's overlap-add envelope over each clip's own frames only.
    shifted = torch.stack([torch.nn.functional.pad(valid.float(), (j, 3 - j))
                           for j in range(4)], dim=1)
    envelope = torch.einsum("bjm,jh->bmh", shifted, window.pow(2).reshape(4, hop))
    envelope = envelope.reshape(B, 1, (L + 3) * hop)
    start, n_out = n_fft // 2, max(lengths)
    pad = max(0, start + n_out - (L + 3) * hop)
    signal = torch.nn.functional.pad(signal, (0, pad))[..., start:start + n_out]
    envelope = torch.nn.functional.pad(envelope, (0, pad))[..., start:start + n_out]
    # torch.istft's clip ends where its frames end and is zero-padded to the length.
    ends = [min(n, hop * (c - 1) + n_fft // 2) for n, c in zip(lengths, counts, strict=True)]
    keep = (torch.arange(n_out, device=dev) < torch.as_tensor(ends, device=dev)[:, None])
    keep = keep[:, None]
    return torch.where(keep, signal / torch.where(keep, envelope, 1.0), 0.0)


def time_stretch_batch(x, rates):
    """Stretch each clip of ``x`` by its own rate (> 1 is faster), keeping the pitch.

    The phase vocoder of :func:`librosa.effects.time_stretch` (STFT of 2048 samples,
    a hop of a quarter of it, Hann window) for the whole batch at once, on ``x``'s
    device. Clip ``b`` becomes ``round(n_samples / rates[b])`` samples long.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, [channels,] n_samples)
        The clips.
    rates : sequence of float, one per clip
        The stretch rates, > 0; a rate of 1 leaves its clip as it is.

    Returns
    -------
    y : torch.Tensor of shape (batch, [channels,] max(lengths)), float32
        The stretched clips, each zero-padded after its length.
    lengths : list of int
        The number of samples of each stretched clip.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import time_stretch_batch
    >>> y, lengths = time_stretch_batch(torch.randn(3, 8000), [0.8, 1.0, 1.25])
    >>> y.shape, lengths
    (torch.Size([3, 10000]), [10000, 8000, 6400])
    """
    rates = [float(rate) for rate in rates]
    if len(rates) != x.shape[0] or min(rates, default=1.0) <= 0:
        raise ValueError(f"time_stretch_batch: rates needs one rate > 0 for each of the "
                         f"{x.shape[0]} clips; got {rates}.")
    n = x.shape[-1]
    lengths = [n if rate == 1 else int(round(n / rate)) for rate in rates]
    x3 = x.reshape(x.shape[0], -1, n).float()
    y = x3.new_zeros((*x3.shape[:2], max(lengths, default=n)))
    moved = [b for b, rate in enumerate(rates) if rate != 1]
    for b, rate in enumerate(rates):
        if rate == 1:  # as librosa's rate 1: the clip itself
            y[b, :, :n] = x3[b]
    if moved:
        n_fft = _fft_size(n)
        hop = n_fft // 4
        window = torch.hann_window(n_fft, device=x.device)
        part = x3[moved]
        D = torch.stft(part.reshape(-1, n), n_fft, hop, window=window, center=True,
                       pad_mode="constant", return_complex=True).transpose(-1, -2)
        D, counts = _phase_vocoder(D.reshape(*part.shape[:2], *D.shape[-2:]),
                                   [rates[b] for b in moved], hop)
        out = _overlap_add(D, n_fft, window, counts, [lengths[b] for b in moved])
        y[moved, :, :out.shape[-1]] = out
    return y.reshape(*x.shape[:-1], y.shape[-1]), lengths


def shift_batch(x, ratios, rates):
    """Move the pitch of each clip by ``1 / ratios[b]`` and its tempo by ``rates[b]``.

    As :func:`librosa.effects.pitch_shift` with the stretch rate ``rates[b] *
    ratios[b]``: the phase vocoder (:func:`time_stretch_batch`) then FFT resampling
    by ``ratios[b]`` (:func:`resample`) to ``ceil(m * ratios[b])`` samples, ``m`` the
    stretched length. A semitone shift of ``s`` is a ratio of ``2 ** (-s / 12)``.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, [channels,] n_samples)
        The clips.
    ratios, rates : sequences of float, one per clip
        The resampling ratios (a ratio of 1 keeps the pitch) and the tempo changes
        (a rate of 1 keeps the duration), > 0.

    Returns
    -------
    y : torch.Tensor of shape (batch, [channels,] max(lengths)), float32
        The shifted clips, each zero-padded after its length.
    lengths : list of int
        The number of samples of each shifted clip.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import shift_batch
    >>> y, lengths = shift_batch(torch.randn(2, 8000), [0.5, 1.0], [1.0, 1.25])
    >>> y.shape, lengths  # an octave up; a quarter faster
    (torch.Size([2, 8000]), [8000, 6400])
    """
    ratios = [float(ratio) for ratio in ratios]
    rates = [float(rate) for rate in rates]
    if len(ratios) != len(rates):
        raise ValueError(f"shift_batch: ratios and rates need one value per clip; got "
                         f"{len(ratios)} ratios and {len(rates)} rates.")
    y, lengths = time_stretch_batch(x, [rate * ratio for rate, ratio in
                                        zip(rates, ratios, strict=True)])
    if all(ratio == 1 for ratio in ratios):
        return y, lengths
    # FFT resampling per clip: their lengths differ, and an FFT of a padded clip would
    # not be the clip's spectrum.
    clips = [resample(y[b, ..., :m], int(math.ceil(m * ratio)))
             for b, (m, ratio) in enumerate(zip(lengths, ratios, strict=True))]
    lengths = [clip.shape[-1] for clip in clips]
    out = y.new_zeros((*y.shape[:-1], max(lengths)))
    for b, clip in enumerate(clips):
        out[b, ..., :clip.shape[-1]] = clip
    return out, lengths


def time_stretch(x, rate):
    """Stretch the last axis of ``x`` by ``rate`` (> 1 is faster), keeping the pitch.

    One clip (all of ``x``'s leading axes are its channels) through
    :func:`time_stretch_batch`. The result has ``round(n_samples / rate)`` samples.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import time_stretch
    >>> time_stretch(torch.randn(2, 8000), 1.25).shape
    torch.Size([2, 6400])
    """
    if rate == 1:
        return x
    return time_stretch_batch(x[None], [rate])[0][0]


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
    ``ceil(n * ratio)`` samples): the pitch moves by ``1 / ratio``, the tempo by
    ``rate``. One clip through :func:`shift_batch`.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.vocoder import shift
    >>> shift(torch.randn(8000), 0.5, 1.0).shape  # an octave up
    torch.Size([8000])
    """
    return shift_batch(x[None], [ratio], [rate])[0][0]
