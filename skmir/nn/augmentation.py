"""Augmentation of training batches, on the training device (the paper's sec. 2.3).

skmir's neural estimators build one object from their parameters, and their training
step (:meth:`skmir.nn.training.SkmirNet.train_step_single`, the one place where
augmentation is applied) runs it on every training batch, never on validation or
prediction batches; each epoch sees new versions of every clip:

* :class:`BatchAugmentation`, on spectrogram batches: random time crops, random gain
  (an offset of the log-magnitude), SpecAugment masking and mixup;
* :class:`WaveformAugmentation`, on waveform batches before an on-device front end
  (:mod:`skmir.nn.frontends`): time stretch and pitch shift (:mod:`skmir.nn.vocoder`),
  crops on the front end's frames, gain in dB, noise and mixup; its ``features``
  transform (gain and masks of the front end's output) runs inside the network's
  forward, where the training step hands it over.

A crop, a stretch and mixup keep frame targets (``frame_targets=True``: ``y`` of shape
(batch, frames[, labels]), frame ``t`` of ``y`` the target of frame ``t``) aligned
with the input: both augmentations cut them with :func:`crop` and mix them with
:func:`mix`, written once. A time stretch by rate ``a`` maps output frame ``j`` to
the target of frame ``round(j * a)``; a stretched clip shorter than the output
cannot be padded with targets that do not exist, so frame targets refuse it
(:meth:`WaveformAugmentation.check_room`). The offline counterpart, librosa once
before training, is :func:`skmir.augment`.

The random draws are seeded by ``random_state``, so a seeded fit is reproducible and
every call (every batch, every epoch) draws new values.
"""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch

from skmir.nn.vocoder import shift_batch, snap_to_fast_lengths

__all__ = ["BatchAugmentation", "FrameGrid", "WaveformAugmentation", "crop", "mix", "width"]


@dataclass(frozen=True)
class FrameGrid:
    """Where a front end's frames sit on the samples: ``hop_length`` samples apart.

    ``centered`` frames (an STFT with ``center=True``) are centred on sample
    ``t * hop_length`` and a clip of ``n`` samples has ``1 + n // hop_length``; the
    others start at ``t * hop_length`` and span ``window`` samples (a strided
    convolution): ``(n - window) // hop_length + 1``.

    Examples
    --------
    >>> from skmir.nn.augmentation import FrameGrid
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


def width(value, size):
    """A width along an axis of ``size``: an int is a count (at most ``size``), a float
    in (0, 1] a fraction of ``size`` (at least 1), None all of it and 0 nothing.

    Examples
    --------
    >>> from skmir.nn.augmentation import width
    >>> width(4, 10), width(0.25, 10), width(None, 10), width(0.0, 10)
    (4, 2, 10, 0)
    """
    if value is None:
        return size
    if isinstance(value, Integral):
        return min(int(value), size)
    return max(1, int(round(value * size))) if value > 0 else 0


def crop(X, y, starts, size, hop, length, frame_targets):
    """Cut ``size`` items of X's last axis from ``starts * hop`` and, for frame targets,
    the ``length`` frames of ``y`` from ``starts``: target frame ``t`` stays the target
    of the crop's frame ``t``.

    ``starts`` is one frame index per clip (a tensor of shape (batch,)); for
    spectrograms ``hop`` is 1 and ``size == length``; for waveforms ``hop`` is the
    front end's hop length in samples.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.augmentation import crop
    >>> X, y = torch.arange(10.0).reshape(1, 1, 1, 10), torch.arange(10).reshape(1, 10)
    >>> Xc, yc = crop(X, y, torch.tensor([3]), 4, 1, 4, frame_targets=True)
    >>> Xc.flatten().tolist(), yc.flatten().tolist()
    ([3.0, 4.0, 5.0, 6.0], [3, 4, 5, 6])
    """
    B = X.shape[0]
    idx = (starts.to(X.device) * hop)[:, None] + torch.arange(size, device=X.device)
    idx = idx.reshape(B, *([1] * (X.ndim - 2)), size).expand(*X.shape[:-1], size)
    X = X.gather(-1, idx)
    if frame_targets:
        frames = (starts.to(y.device)[:, None] + torch.arange(length, device=y.device))
        frames = frames.reshape(B, length, *([1] * (y.ndim - 2)))
        y = y.gather(1, frames.expand(B, length, *y.shape[2:]))
    return X, y


def mix(X, y, lam, perm, n_classes):
    """Mixup: clip ``i`` becomes ``lam[i] * X[i] + (1 - lam[i]) * X[perm[i]]``, and its
    targets likewise (integer classes one-hot encoded to ``n_classes`` first, so they
    become soft targets; frame targets are mixed frame by frame with the clip's weight).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.augmentation import mix
    >>> X, y = torch.tensor([[0.0], [1.0]]), torch.tensor([0, 1])
    >>> Xm, ym = mix(X, y, torch.tensor([0.75, 0.75]), torch.tensor([1, 0]), 2)
    >>> Xm.flatten().tolist(), ym.tolist()
    ([0.25, 0.75], [[0.75, 0.25], [0.25, 0.75]])
    """
    if not torch.is_floating_point(y):
        y = torch.nn.functional.one_hot(y.long(), n_classes).to(X.dtype)
    lam = lam.to(X.device, X.dtype)
    perm = perm.to(X.device)
    lam_x = lam.reshape(-1, *([1] * (X.ndim - 1)))
    X = lam_x * X + (1 - lam_x) * X[perm]
    lam_y = lam.to(y.device).reshape(-1, *([1] * (y.ndim - 1))).to(y.dtype)
    y = lam_y * y + (1 - lam_y) * y[perm.to(y.device)]
    return X, y


def _check_frame_targets(owner, y, batch, n_frames, what):
    if y.ndim < 2 or y.shape[:2] != (batch, n_frames):
        raise ValueError(
            f"{owner}: frame targets must be (batch, frames[, labels]) aligned to {what}; "
            f"got y of shape {tuple(y.shape)}."
        )


class BatchAugmentation:
    """Random transforms of a training batch of spectrograms, in the training step.

    skmir's neural estimators build one from their parameters and apply it to every
    training batch (never to validation or prediction batches). Each transform is
    off at its neutral value. Order: crop, gain, masks, mixup.

    Clip targets ``y`` (one row per clip) are only touched by mixup. Frame targets
    (``frame_targets=True``: ``y`` of shape (batch, frames) of class indices or
    (batch, frames, labels), frame ``t`` of ``y`` the target of frame ``t`` of ``X``)
    are cropped with the same frames as ``X`` and mixed with the same weights, so
    they stay aligned frame for frame; gain and masks leave them as they are.

    Parameters
    ----------
    crop_frames : int, float or None, default=None
        Train on random crops of this many frames (an int) or of this fraction of
        the clip (a float in (0, 1]); None trains on whole clips. Clip-level networks
        end in global pooling and frame-level networks keep every frame, so
        prediction still runs over whole clips.
    gain : float, default=0.0
        Add to each clip an offset drawn uniformly from ``[-gain, gain]``. On a
        log-magnitude spectrogram a gain ``g`` of the audio is the additive offset
        ``log g`` (in dB for ``LogCompression(method="db")``), so this is a random
        loudness change, in the units of the network's input. The assumption is that
        the input is log-compressed; after :class:`skmir.SpectrogramScaler` the offset
        is in units of each bin's standard deviation, so the same gain moves the bins
        by slightly different amounts.
    freq_mask, time_mask : int or float, default=0
        SpecAugment: mask one random band of up to this many bins / frames (an int)
        or this fraction of them (a float) in each clip, with the clip's mean value.
    mixup : float, default=0.0
        Mixup's alpha: each clip is mixed with another clip of the batch with a
        weight drawn from Beta(alpha, alpha), and so are the targets (classes
        become soft targets; frame targets are mixed frame by frame with the
        clip's weight). 0 is off.
    n_classes : int or None, default=None
        With mixup, integer class targets are one-hot encoded to this many classes
        (per frame for frame targets).
    frame_targets : bool, default=False
        Whether ``y`` has a frame axis (axis 1) aligned to the frames of ``X``
        (axis 3), which crops must cut with ``X``.
    random_state : int or None, default=None
        Seeds the draws, so a seeded estimator trains reproducibly.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.augmentation import BatchAugmentation
    >>> aug = BatchAugmentation(crop_frames=8, time_mask=2, mixup=0.2, n_classes=3,
    ...                         random_state=0)
    >>> X, y = aug(torch.randn(4, 1, 16, 20), torch.tensor([0, 1, 2, 0]))
    >>> X.shape, y.shape
    (torch.Size([4, 1, 16, 8]), torch.Size([4, 3]))

    Frame targets, one class per frame, cropped and mixed with the input:

    >>> aug = BatchAugmentation(crop_frames=8, mixup=0.2, n_classes=3,
    ...                         frame_targets=True, random_state=0)
    >>> X, y = aug(torch.randn(4, 1, 16, 20), torch.randint(0, 3, (4, 20)))
    >>> X.shape, y.shape
    (torch.Size([4, 1, 16, 8]), torch.Size([4, 8, 3]))
    """

    def __init__(self, crop_frames=None, gain=0.0, freq_mask=0, time_mask=0, mixup=0.0,
                 n_classes=None, random_state=None, *, frame_targets=False):
        self.crop_frames = crop_frames
        self.gain = gain
        self.freq_mask = freq_mask
        self.time_mask = time_mask
        self.mixup = mixup
        self.n_classes = n_classes
        self.frame_targets = frame_targets
        self.random_state = random_state
        self.rng_ = np.random.default_rng(random_state)

    @property
    def active(self):
        """Whether any transform is on."""
        return bool(self.crop_frames is not None or self.gain or self.freq_mask
                    or self.time_mask or self.mixup)

    def __call__(self, X, y):
        """Transform a batch ``X`` of shape (batch, channels, bins, frames) and its ``y``.

        With ``frame_targets``, ``y`` is (batch, frames[, labels]) with X's frames.
        """
        rng, (B, _, n_bins, n_frames) = self.rng_, X.shape
        dev = X.device
        if self.frame_targets:
            _check_frame_targets("BatchAugmentation", y, B, n_frames,
                                 f"X of shape {tuple(X.shape)}")
        length = width(self.crop_frames, n_frames)
        if length < n_frames:
            starts = torch.as_tensor(rng.integers(0, n_frames - length + 1, B))
            X, y = crop(X, y, starts, length, 1, length, self.frame_targets)
            n_frames = length
        if self.gain:
            offset = rng.uniform(-self.gain, self.gain, B).astype(np.float32)
            X = X + torch.as_tensor(offset, device=dev)[:, None, None, None]
        fill = X.mean(dim=(1, 2, 3), keepdim=True) if self.freq_mask or self.time_mask else None
        for value, axis, size in ((self.freq_mask, 2, n_bins), (self.time_mask, 3, n_frames)):
            w_max = width(value, size) if value else 0
            if w_max:
                w = rng.integers(0, w_max + 1, B)
                start = rng.integers(0, size - w + 1)
                pos = torch.arange(size, device=dev)
                lo = torch.as_tensor(start, device=dev)[:, None]
                hi = lo + torch.as_tensor(w, device=dev)[:, None]
                band = (pos >= lo) & (pos < hi)  # (B, size)
                band = band[:, None, :, None] if axis == 2 else band[:, None, None, :]
                X = torch.where(band, fill, X)
        if self.mixup:
            lam = torch.as_tensor(rng.beta(self.mixup, self.mixup, B).astype(np.float32))
            X, y = mix(X, y, lam, torch.as_tensor(rng.permutation(B)), self.n_classes)
        return X, y


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
        ``[-pitch_shift, pitch_shift]`` (duration kept), then moved to the nearest
        shift whose resampling FFTs run fast (by at most 9 cents on clips of 1 s or
        more at 16 kHz; :func:`skmir.nn.vocoder.snap_to_fast_lengths`).
    time_stretch : float, default=0.0
        Stretch each clip by a rate drawn log-uniformly from ``[1 / (1 +
        time_stretch), 1 + time_stretch]`` (pitch kept; under a pitch shift slowed
        by up to 1 % for the same reason). A lengthened clip is cut
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
    features : BatchAugmentation or None, default=None
        Gain and masks of the front end's (standardised) output, which the training
        step hands to the network's forward as ``augment_features``.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.augmentation import FrameGrid, WaveformAugmentation
    >>> aug = WaveformAugmentation(FrameGrid(256, centered=True), crop_frames=10,
    ...                            gain_db=6, noise_snr=(10, 30), pitch_shift=1,
    ...                            time_stretch=0.1, random_state=0)
    >>> X, y = aug(torch.randn(4, 8000), torch.tensor([0, 1, 0, 1]))
    >>> X.shape, aug.grid.n_frames(X.shape[-1])
    (torch.Size([4, 2559]), 10)
    """

    def __init__(self, grid, *, crop_frames=None, gain_db=0.0, noise_snr=None,
                 pitch_shift=0.0, time_stretch=0.0, mixup=0.0, n_classes=None,
                 frame_targets=False, random_state=None, features=None):
        self.grid = grid
        self.features = features
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
                    or self.pitch_shift or self.time_stretch or self.mixup
                    or self.features is not None)

    def output_frames(self, n_samples):
        """Frames of every augmented clip of a batch of ``n_samples``-sample clips."""
        total = self.grid.n_frames(n_samples)
        length = width(self.crop_frames, total)
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
                f"{owner}: time_stretch = {self.time_stretch}: speeds clips up by as much "
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
        if self.frame_targets:
            _check_frame_targets("WaveformAugmentation", y, B, total,
                                 f"the front end's {total} frames of clips of {n} samples")
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
            # torch's Beta takes no generator: the weights come from a NumPy one
            # seeded from the same random_state.
            lam = torch.as_tensor(self.rng_.beta(self.mixup, self.mixup, B),
                                  dtype=torch.float32)
            perm = torch.randperm(B, generator=self.generator_)
            X, y = mix(X, y, lam, perm, self.n_classes)
        return (X[:, 0] if mono else X), y

    def _crop(self, X, y, length, total):
        B, _, n = X.shape
        hop, size = self.grid.hop_length, self.grid.crop_length(length)
        last = min(total - length, (n - size) // hop)
        starts = torch.randint(0, last + 1, (B,), generator=self.generator_)
        return crop(X, y, starts, size, hop, length, self.frame_targets)

    def _stretch_and_shift(self, X, y, length, total):
        B, C, n = X.shape
        hop, size = self.grid.hop_length, self.grid.crop_length(length)
        if length == total:
            size = n  # whole clips keep their length
        t = math.log1p(self.time_stretch)
        rates = torch.exp(self._uniform(-t, t, B))
        steps = self._uniform(-self.pitch_shift, self.pitch_shift, B)
        # One phase vocoder for the batch; a clip without a pitch shift has a ratio of 1.
        # Each draw moves by a few cents to lengths whose FFTs run fast: the resampling
        # of arbitrary lengths took longer than the vocoder itself.
        ratios, rates = snap_to_fast_lengths(
            n, [2.0 ** (-float(n_steps) / 12) for n_steps in steps], rates.tolist())
        stretched, lengths = shift_batch(X, ratios, rates)
        clips, targets = [], []
        for i in range(B):
            rate, n_i = rates[i], lengths[i]
            x = stretched[i, :, :n_i]
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
