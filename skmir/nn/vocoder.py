"""Time stretch and pitch shift of waveform batches in torch, as librosa does them.

:func:`time_stretch_batch` is the phase vocoder of :func:`librosa.effects.time_stretch`
for a whole batch at once, a rate per clip: one STFT of the batch, the vocoder's
steps of every clip padded to the longest and masked, one overlap-add. A pitch shift
(:func:`shift_batch`, :func:`librosa.effects.pitch_shift`) follows it with
band-limited (FFT) resampling, :func:`resample`, per clip (their lengths differ).
:func:`time_stretch`, :func:`pitch_shift` and :func:`shift` are the one-clip forms.
They run on the tensor's device; :class:`skmir.nn.augmentation.WaveformAugmentation`
draws their rates per clip while training and moves each draw to the nearest one
whose FFT lengths run fast (:func:`snap_to_fast_lengths`).

The phase is librosa's accumulated phase, carried as a running product of unit
phasors (the expected advance of each bin cancels modulo 2 pi), so no phase grows
past what float32 holds on any device.
"""

import bisect
import functools
import math

import torch

__all__ = ["pitch_shift", "resample", "shift", "shift_batch", "snap_to_fast_lengths",
           "time_stretch", "time_stretch_batch"]

# FFTs (MKL, pocketfft, cuFFT) of lengths with no prime factor above 13 run at full
# speed; a length with a large prime factor ran 2-10x slower on a 2-core machine.
_FAST_PRIMES = (2, 3, 5, 7, 11, 13)


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
    if n_out == x.shape[-1]:
        return x
    return torch.fft.irfft(_resampled_spectrum(x, n_out), n=n_out, dim=-1)


def _resampled_spectrum(x, n_out):
    """The spectrum of ``x`` resampled to ``n_out`` samples: its rfft truncated or
    zero-padded to ``n_out // 2 + 1`` bins and scaled, for an irfft of ``n_out``."""
    n_in = x.shape[-1]
    spec = torch.fft.rfft(x.float(), dim=-1)
    k = min(spec.shape[-1], n_out // 2 + 1)
    out = spec.new_zeros((*spec.shape[:-1], n_out // 2 + 1))
    out[..., :k] = spec[..., :k] * (n_out / n_in)
    if n_out < n_in and n_out % 2 == 0:
        # The output's Nyquist bin stands for the input's bins +-n_out/2 (as scipy).
        out[..., -1] *= 2
    return out


def _phase_vocoder(D, rates):
    """librosa.phase_vocoder of (batch, channels, frames, freq) complex STFTs, a rate
    per clip; returns the stretched STFTs padded to the longest and their frame counts.

    Output frame ``k`` of clip ``b`` interpolates the magnitudes of input frames
    ``i = floor(k * rate_b)`` and ``i + 1``; steps past a clip's end are masked
    (magnitude zero). Its phase is librosa's accumulated phase: the first frame's
    plus, for each step ``j < k``, the expected advance of each bin and the wrapped
    deviation from it, which sum to the phase difference of frames ``i_j + 1`` and
    ``i_j`` modulo 2 pi. So the phase is carried as unit phasors, a running product
    of ``D[i_j + 1] conj(D[i_j])`` normalised: no angle, no sine or cosine, and no
    phase that grows past what float32 holds.
    """
    n_frames, dev = D.shape[-2], D.device
    counts = [math.ceil(n_frames / rate) for rate in rates]  # len(arange(0, T, rate))
    # The steps in float64 on the CPU (exact floors; float64 is not on every device).
    k = torch.arange(max(counts), dtype=torch.float64)
    steps = k * torch.tensor(rates, dtype=torch.float64)[:, None]
    valid = (k < torch.tensor(counts)[:, None]).to(dev)
    i = steps.floor().long().clamp(max=n_frames - 1)
    alpha = (steps - i).to(dev, torch.float32)
    i = i.to(dev)
    D = torch.nn.functional.pad(D, (0, 0, 0, 1))
    parts = torch.view_as_real(D)
    mag = torch.hypot(parts[..., 0], parts[..., 1])  # D.abs() took 3x as long
    # A bin of magnitude 0 has phase 0, as np.angle(0).
    unit = torch.sgn(D).masked_fill_(mag == 0, 1)
    conj = unit.clone()  # a physical conjugate: a product with a lazy one took 6x as long
    torch.view_as_real(conj)[..., 1].neg_()
    turn = unit[..., 1:, :] * conj[..., :-1, :]

    def take(values, index):
        index = index[:, None, :, None].expand(*values.shape[:2], index.shape[-1],
                                               values.shape[-1])
        return values.gather(-2, index)

    alpha, valid = alpha[:, None, :, None], valid[:, None, :, None]
    out_mag = torch.lerp(take(mag, i), take(mag, i + 1), alpha).masked_fill_(~valid, 0)
    # Output frame k turns the first frame's phasor by the turns of the steps before k.
    phasor = unit.new_empty(out_mag.shape)
    phasor[..., :1, :] = unit[..., :1, :]
    index = i[:, None, :-1, None].expand(*turn.shape[:2], i.shape[-1] - 1, turn.shape[-1])
    torch.gather(turn, -2, index, out=phasor[..., 1:, :])
    phasor.cumprod_(dim=-2)
    torch.view_as_real(phasor).mul_(out_mag[..., None])  # no complex copy of out_mag
    return phasor, counts


def _overlap_add(D, n_fft, window, counts, lengths):
    """torch.istft (centered, hop ``n_fft // 4``) of (batch, channels, frames, freq)
    STFTs with ``counts[b]`` frames in clip ``b``, to ``lengths[b]`` samples."""
    B, C, L, _ = D.shape
    hop, dev = n_fft // 4, D.device
    start, n_out = n_fft // 2, max(lengths)
    rows = max(L + 3, -(-(start + n_out) // hop))  # blocks of hop samples, padded
    quarters = torch.fft.irfft(D, n=n_fft, dim=-1).mul_(window).view(B, C, L, 4, hop)
    # With a hop of a quarter frame, block m of the output sums quarter j of frame
    # m - j for j = 0..3.
    signal = quarters.new_zeros(B, C, rows, hop)
    for j in range(4):
        signal[:, :, j:j + L] += quarters[..., j, :]
    valid = (torch.arange(L, device=dev) < torch.as_tensor(counts, device=dev)[:, None])
    # The window's overlap-add envelope over each clip's own frames only.
    shifted = torch.stack([torch.nn.functional.pad(valid.float(), (j, rows - L - j))
                           for j in range(4)], dim=1)
    envelope = torch.einsum("bjm,jh->bmh", shifted, window.pow(2).reshape(4, hop))
    envelope = envelope.reshape(B, 1, rows * hop)[..., start:start + n_out]
    # torch.istft's clip ends where its frames end and is zero-padded to the length.
    ends = [min(n, hop * (c - 1) + n_fft // 2) for n, c in zip(lengths, counts, strict=True)]
    cut = (torch.arange(n_out, device=dev) >= torch.as_tensor(ends, device=dev)[:, None])
    cut = cut[:, None]
    signal = signal.view(B, C, rows * hop)[..., start:start + n_out]
    return signal.div(envelope.masked_fill(cut, 1.0)).masked_fill_(cut, 0.0)


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
                                   [rates[b] for b in moved])
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
    n_outs = [int(math.ceil(m * ratio)) for m, ratio in zip(lengths, ratios, strict=True)]
    out = y.new_zeros((*y.shape[:-1], max(n_outs)))
    groups = {}  # output length -> the clips resampled to it
    for b, (m, n_out) in enumerate(zip(lengths, n_outs, strict=True)):
        if n_out == m:
            out[b, ..., :m] = y[b, ..., :m]
        else:
            groups.setdefault(n_out, []).append(b)
    # A forward FFT per clip (their lengths differ, and an FFT of a padded clip would
    # not be the clip's spectrum), one inverse FFT for the clips of each output length.
    for n_out, group in groups.items():
        spectra = torch.stack([_resampled_spectrum(y[b, ..., :lengths[b]], n_out)
                               for b in group])
        out[group, ..., :n_out] = torch.fft.irfft(spectra, n=n_out, dim=-1)
    return out, n_outs


@functools.lru_cache(maxsize=4)
def _fast_lengths(bits):
    """The sorted lengths below ``2 ** bits`` with no prime factor above 13 (11,620
    below 2 ** 25). Not scipy.fft.next_fast_len: it only looks up, and the nearest
    length below needs prev_fast_len (scipy >= 1.15; skmir supports 1.10)."""
    lengths = [1]
    for prime in _FAST_PRIMES:
        grown = []
        for n in lengths:
            while n < 2 ** bits:
                grown.append(n)
                n *= prime
        lengths = grown
    return sorted(lengths)


def _fast_length(target, up=False):
    """The fast length nearest to ``target`` (ties go up), or the smallest one >=
    ``target`` if ``up``."""
    table = _fast_lengths(max(int(math.ceil(target)), 2).bit_length() + 1)
    i = bisect.bisect_left(table, target)
    if up or i == 0 or table[i] - target <= target - table[i - 1]:
        return table[i]
    return table[i - 1]


def snap_to_fast_lengths(n_samples, ratios, rates):
    """Move each clip's shift to the nearest one whose FFT lengths run fast.

    :func:`shift_batch` resamples a clip stretched to ``m`` samples into ``n_out``
    samples with an FFT of each length; for lengths drawn at random these usually
    have a large prime factor and take several times as long as the phase vocoder
    before them. This returns the ratios and rates whose ``m`` and ``n_out`` have no
    prime factor above 13: ``n_out`` is the smallest such length of at least
    ``round(n_samples / rate)`` (a clip is slowed, never sped up, so a crop still
    fits), ``m`` the nearest to ``n_out / ratio``. A clip whose ratio is 1 (no pitch
    shift: no resampling) is returned as it is, and so is a rate of 1 when
    ``n_samples`` is itself a fast length, as ``sr`` times whole seconds usually is.

    The pitch moves by at most half the gap between fast lengths, the tempo by at
    most the whole gap: 9 cents and 1 % for lengths of 11,000 samples or more (clips
    of 1 s at 16 kHz), 5 cents and 0.6 % from 60,000, 18 cents and 2 % at 1,000.

    Parameters
    ----------
    n_samples : int
        The clips' length.
    ratios, rates : sequences of float, one per clip
        As :func:`shift_batch`'s.

    Returns
    -------
    ratios, rates : lists of float
        The moved ones, for :func:`shift_batch`.

    Examples
    --------
    >>> import math
    >>> import torch
    >>> from skmir.nn.vocoder import shift_batch, snap_to_fast_lengths
    >>> ratios, rates = snap_to_fast_lengths(64000, [2 ** (-1.3 / 12)], [1.0])
    >>> round(-12 * math.log2(ratios[0]), 4), rates  # 1.3 semitones up: 1.3003
    (1.3003, [1.0])
    >>> shift_batch(torch.randn(1, 64000), ratios, rates)[1]  # via 68,992 samples
    [64000]
    """
    ratios = [float(ratio) for ratio in ratios]
    rates = [float(rate) for rate in rates]
    for b, (ratio, rate) in enumerate(zip(ratios, rates, strict=True)):
        if ratio == 1:
            continue
        n_out = _fast_length(round(n_samples / rate), up=True)
        m = _fast_length(n_out / ratio)
        ratio = n_out / m
        # shift_batch resamples to ceil(m * ratio) samples: keep that n_out.
        while math.ceil(m * ratio) > n_out:
            ratio = math.nextafter(ratio, 0.0)
        ratios[b], rates[b] = ratio, n_samples / n_out
    return ratios, rates


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
