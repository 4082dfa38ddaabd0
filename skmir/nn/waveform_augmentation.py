"""Per-batch augmentation of waveforms on the training device (the paper's sec. 2.3 and
5.1, on the fly).

:class:`WaveformAugmentation` transforms every training batch of waveforms before an
on-device front end (:mod:`skmir.nn.frontends`) turns it into a spectrogram, so each
epoch sees new versions of every clip and nothing but the waveforms is stored. It is
the on-line, batched counterpart of :func:`skmir.augment` (which runs librosa once,
offline). The transforms, in the order applied:

* **time stretch**: a phase vocoder on ``torch.stft`` (the algorithm of
  ``librosa.phase_vocoder`` / ``librosa.effects.time_stretch``, vectorised over
  frames): the tempo changes, the pitch does not. A resampling stretch would couple
  the two (a 10% faster clip would also be 1.65 semitones higher);
* **pitch shift**: as ``librosa.effects.pitch_shift``: a phase-vocoder stretch by
  ``2 ** (n_steps / 12)`` followed by band-limited (FFT) resampling back to the
  clip's duration, so the pitch changes and the timing does not. (Resampling alone
  shifts pitch by changing the duration, which would then have to be re-cropped);
* **crop**: a random crop on frame boundaries of the front end (the crop starts at
  a multiple of its hop), so frame ``t`` of the crop is frame ``s + t`` of the clip;
* **gain**: a random loudness change in dB;
* **noise**: white Gaussian noise at a random signal-to-noise ratio;
* **mixup**: each waveform mixed with another of the batch, and the targets with it.

Frame targets (``frame_targets=True``: ``y`` of shape (batch, frames[, labels]),
frame ``t`` of ``y`` the target of the front end's frame ``t``) stay aligned: a crop
cuts the same frames, a time stretch by rate ``a`` maps output frame ``j`` to the
target of frame ``round(j * a)``, and mixup mixes them with the waveforms' weight.
A stretched clip shorter than the output cannot be padded with targets that do not
exist, so frame targets refuse it (:meth:`WaveformAugmentation.check_room`).

The random draws come from a ``torch.Generator`` seeded by ``random_state`` (the
per-clip values on the CPU, the noise on the batch's device), so a seeded fit is
reproducible and every call (every batch, every epoch) draws new values.
"""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch

__all__ = ["FrameGrid", "WaveformAugmentation", "pitch_shift", "resample", "time_stretch"]


@dataclass(frozen=True)
class FrameGrid:
    """Where a front end's frames sit on the samples: ``hop_length`` samples apart.

    ``centered`` frames (an STFT with ``center=True``) are centred on sample
    ``t * hop_length`` and a clip of ``n`` samples has ``1 + n // hop_length``; the
    others start at ``t * hop_length`` and span ``window`` samples (a strided
    convolution): ``(n - window) // hop_length + 1``.

    Examples
    --------
    >>> from skmir.nn.waveform_augmentation import FrameGrid
    >>> FrameGrid(512, centered=True).n_frames(22050), FrameGrid(256, 256).n_frames(22050)
    (44, 86)
    """

    hop_length: int
    window: int = 0
    centered: bool = False

    def n_frames(self, n_samples):
        """Frames of a clip of ``n_samples``."""
        if self.centered:
            return 1 + n_samples // self.hop_length
        return max(0, (n_samples - self.window) // self.hop_length + 1)

    def crop_length(self, n_frames):
        """The samples of a crop of ``n_frames`` frames that starts on a frame."""
        if self.centered:
            return n_frames * self.hop_length - 1  # 1 + (L*hop - 1) // hop == L
        return (n_frames - 1) * self.hop_length + self.window


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
    >>> from skmir.nn.waveform_augmentation import resample
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
    >>> from skmir.nn.waveform_augmentation import time_stretch
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
    >>> from skmir.nn.waveform_augmentation import pitch_shift
    >>> pitch_shift(torch.randn(8000), 2.0).shape
    torch.Size([8000])
    """
    if n_steps == 0:
        return x
    n = x.shape[-1]
    y = _shift(x, 2.0 ** (-n_steps / 12), 1.0)
    return y[..., :n] if y.shape[-1] >= n else torch.nn.functional.pad(y, (0, n - y.shape[-1]))


def _shift(x, ratio, rate):
    """Stretch by ``rate * ratio``, then resample by ``ratio`` as librosa does (to
    ``ceil(n * ratio)`` samples): the pitch moves by ``1 / ratio``, the tempo by ``rate``."""
    stretched = time_stretch(x, rate * ratio)
    return resample(stretched, int(math.ceil(stretched.shape[-1] * ratio)))


def _width(value, size):
    """An int is a size in frames; a float in (0, 1] is a fraction of ``size``."""
    if value is None:
        return size
    if isinstance(value, Integral):
        return min(int(value), size)
    return max(1, int(round(value * size)))


def _snr_range(noise_snr):
    if noise_snr is None:
        return None
    if isinstance(noise_snr, Real):
        return float(noise_snr), float(noise_snr)
    lo, hi = (float(v) for v in noise_snr)
    return lo, hi


class WaveformAugmentation:
    """Random transforms of a training batch of waveforms, on the batch's device.

    skmir's neural estimators with a ``frontend`` build one from their parameters
    and apply it to every training batch (never to validation or prediction
    batches), before the front end. Each transform is off at its neutral value;
    the order is time stretch and pitch shift, crop, gain, noise, mixup (see the
    module docstring for the methods).

    Parameters
    ----------
    grid : FrameGrid
        The front end's frames: crops start on them, frame targets follow them.
    crop_frames : int, float or None, default=None
        Train on random crops of this many frames (an int) or of this fraction of
        the clip's frames (a float in (0, 1]), cut from the waveform on frame
        boundaries; None keeps whole clips.
    gain_db : float, default=0.0
        Multiply each clip by a gain drawn uniformly from ``[-gain_db, gain_db]`` dB.
    noise_snr : float, (float, float) or None, default=None
        Add white Gaussian noise at a signal-to-noise ratio (dB, of each clip's own
        power) drawn uniformly from this range; a number is a fixed SNR.
    pitch_shift : float, default=0.0
        Shift each clip by a number of semitones drawn uniformly from
        ``[-pitch_shift, pitch_shift]`` (duration kept).
    time_stretch : float, default=0.0
        Stretch each clip by a rate drawn log-uniformly from ``[1 / (1 +
        time_stretch), 1 + time_stretch]`` (pitch kept). A lengthened clip is cut
        back to the output length at a random frame; a shortened one is zero-padded
        (clip targets) or refused (frame targets, see :meth:`check_room`).
    mixup : float, default=0.0
        Mixup's alpha, on the waveforms: each clip is mixed with another of the
        batch with a weight from Beta(alpha, alpha), and so are the targets (classes
        become soft targets). 0 is off.
    n_classes : int or None, default=None
        With mixup, integer class targets are one-hot encoded to this many classes.
    frame_targets : bool, default=False
        Whether ``y`` has a frame axis (axis 1) aligned to the front end's frames.
    random_state : int or None, default=None
        Seeds the draws.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.waveform_augmentation import FrameGrid, WaveformAugmentation
    >>> aug = WaveformAugmentation(FrameGrid(256, centered=True), crop_frames=10,
    ...                            gain_db=6, noise_snr=(10, 30), pitch_shift=1,
    ...                            time_stretch=0.1, random_state=0)
    >>> X, y = aug(torch.randn(4, 8000), torch.tensor([0, 1, 0, 1]))
    >>> X.shape, aug.grid.n_frames(X.shape[-1])
    (torch.Size([4, 2559]), 10)
    """

    def __init__(self, grid, *, crop_frames=None, gain_db=0.0, noise_snr=None,
                 pitch_shift=0.0, time_stretch=0.0, mixup=0.0, n_classes=None,
                 frame_targets=False, random_state=None):
        self.grid = grid
        self.crop_frames = crop_frames
        self.gain_db = gain_db
        self.noise_snr = noise_snr
        self.pitch_shift = pitch_shift
        self.time_stretch = time_stretch
        self.mixup = mixup
        self.n_classes = n_classes
        self.frame_targets = frame_targets
        self.random_state = random_state
        seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
        self.seed_ = seed
        self.generator_ = torch.Generator().manual_seed(seed)
        self.rng_ = np.random.default_rng(seed + 2)
        self.device_generators_ = {}

    @property
    def active(self):
        """Whether any transform is on."""
        return bool(self.crop_frames is not None or self.gain_db or self.noise_snr is not None
                    or self.pitch_shift or self.time_stretch or self.mixup)

    def output_frames(self, n_samples):
        """Frames of every augmented clip of a batch of ``n_samples``-sample clips."""
        total = self.grid.n_frames(n_samples)
        length = _width(self.crop_frames, total)
        while length < total and self.grid.crop_length(length) < 1:
            length += 1  # a hop of 1: one centred frame would be a crop of 0 samples
        return length

    def check_room(self, n_samples, owner="WaveformAugmentation"):
        """Refuse a time stretch that can shorten a clip below the output length when
        the targets have frames: frames without a target cannot be padded in."""
        if not (self.frame_targets and self.time_stretch):
            return
        rate = 1 + self.time_stretch
        shortest = self.grid.n_frames(int(n_samples / rate))
        needed = self.output_frames(n_samples)
        if shortest < needed:
            total = self.grid.n_frames(n_samples)
            raise ValueError(
                f"{owner}: time_stretch={self.time_stretch} speeds clips up by as much "
                f"as {rate:g}x, which leaves {shortest} of their {total} frames, fewer "
                f"than the {needed} frames trained on; frame targets cannot be padded. "
                f"Train on crops (crop_frames <= {shortest / total:.2f}) or lower "
                "time_stretch."
            )

    def _device_generator(self, device):
        key = str(device)
        if key not in self.device_generators_:
            gen = torch.Generator(device=device)
            gen.manual_seed(self.seed_ + 1)
            self.device_generators_[key] = gen
        return self.device_generators_[key]

    def _uniform(self, lo, hi, n):
        return lo + (hi - lo) * torch.rand(n, generator=self.generator_, dtype=torch.float64)

    def __call__(self, X, y):
        """Transform a batch of waveforms ``X`` (batch, [channels,] samples) and its ``y``.

        Returns the augmented ``X`` (with the same leading axes; the samples of a crop)
        and ``y`` (cropped and stretched with ``X`` for frame targets; soft under mixup).
        """
        mono = X.ndim == 2
        X = X[:, None] if mono else X
        B, _, n = X.shape
        dev = X.device
        total = self.grid.n_frames(n)
        if self.frame_targets and (y.ndim < 2 or y.shape[:2] != (B, total)):
            raise ValueError(
                f"WaveformAugmentation: frame targets must be (batch, frames[, labels]) "
                f"with the front end's {total} frames of clips of {n} samples; got y of "
                f"shape {tuple(y.shape)}."
            )
        length = self.output_frames(n)
        if self.time_stretch or self.pitch_shift:
            X, y = self._stretch_and_shift(X, y, length, total)
        elif length < total:
            X, y = self._crop(X, y, length, total)
        if self.gain_db:
            gain = 10.0 ** (self._uniform(-self.gain_db, self.gain_db, B) / 20)
            X = X * gain.to(dev, torch.float32)[:, None, None]
        snr = _snr_range(self.noise_snr)
        if snr is not None:
            snr_db = self._uniform(*snr, B).to(dev, torch.float32)
            power = X.float().pow(2).mean(dim=(1, 2))
            sigma = torch.sqrt(power / 10.0 ** (snr_db / 10))
            noise = torch.randn(X.shape, generator=self._device_generator(dev), device=dev)
            X = X + sigma[:, None, None] * noise
        if self.mixup:
            if not torch.is_floating_point(y):
                y = torch.nn.functional.one_hot(y.long(), self.n_classes).float()
            # torch's Beta takes no generator: the weights come from a NumPy one
            # seeded from the same random_state.
            lam = torch.as_tensor(self.rng_.beta(self.mixup, self.mixup, B),
                                  dtype=torch.float32, device=dev)
            perm = torch.randperm(B, generator=self.generator_).to(dev)
            X = lam[:, None, None] * X + (1 - lam[:, None, None]) * X[perm]
            lam_y = lam.reshape(-1, *([1] * (y.ndim - 1))).to(y.dtype)
            y = lam_y * y + (1 - lam_y) * y[perm]
        return (X[:, 0] if mono else X), y

    def _crop(self, X, y, length, total):
        B, _, n = X.shape
        hop, size = self.grid.hop_length, self.grid.crop_length(length)
        last = min(total - length, (n - size) // hop)
        start = torch.randint(0, last + 1, (B,), generator=self.generator_)
        idx = (start * hop)[:, None] + torch.arange(size)
        idx = idx.to(X.device)
        X = X.gather(2, idx[:, None, :].expand(B, X.shape[1], size))
        if self.frame_targets:
            frames = (start[:, None] + torch.arange(length)).to(y.device)
            frames = frames.reshape(B, length, *([1] * (y.ndim - 2)))
            y = y.gather(1, frames.expand(B, length, *y.shape[2:]))
        return X, y

    def _stretch_and_shift(self, X, y, length, total):
        B, C, n = X.shape
        hop, size = self.grid.hop_length, self.grid.crop_length(length)
        if length == total:
            size = n  # whole clips keep their length
        t = math.log1p(self.time_stretch)
        rates = torch.exp(self._uniform(-t, t, B))
        steps = self._uniform(-self.pitch_shift, self.pitch_shift, B)
        clips, targets = [], []
        for i in range(B):
            rate, shift = float(rates[i]), float(steps[i])
            x = X[i]
            if shift:
                x = _shift(x, 2.0 ** (-shift / 12), rate)
            else:
                x = time_stretch(x, rate)
            n_i = x.shape[-1]
            frames_i = self.grid.n_frames(n_i)
            last = max(min(frames_i - length, (n_i - size) // hop), 0)
            start = int(torch.randint(0, last + 1, (1,), generator=self.generator_))
            x = x[:, start * hop:start * hop + size]
            if x.shape[-1] < size:  # a clip sped up: zero-padded (clip targets only)
                x = torch.nn.functional.pad(x, (0, size - x.shape[-1]))
            clips.append(x.to(X.dtype))
            if self.frame_targets:
                if frames_i < length:
                    raise ValueError(
                        f"WaveformAugmentation: a clip stretched by {rate:.3f} has "
                        f"{frames_i} frames, fewer than the {length} trained on; frame "
                        "targets cannot be padded (see check_room)."
                    )
                src = torch.round((start + torch.arange(length)) * rate).long()
                targets.append(y[i, src.clamp(max=total - 1).to(y.device)])
        X = torch.stack(clips)
        if self.frame_targets:
            y = torch.stack(targets)
        return X, y
