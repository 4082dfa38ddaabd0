"""Data augmentation for small music datasets (the paper's sec. 2.3).

Two kinds:

* :func:`augment`, offline and on waveforms: time stretching and pitch shifting
  with librosa, returning the original clips plus transformed copies (numpy only).
* :class:`BatchAugmentation`, on-line and on spectrogram batches: random time crops,
  random gain, SpecAugment masking and mixup, applied by skmir's neural estimators
  in their training step only (never at prediction). It works on torch tensors but
  imports torch only when called, so ``import skmir.augmentation`` stays light. With
  ``frame_targets=True`` (the frame-level estimators) the targets have a frame axis
  aligned to the input's: a crop cuts the same frames from both, and mixup mixes the
  targets frame by frame with the input's weight.
"""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed

from skmir._validation import check_finite, check_sr, librosa_errors

# Clips per librosa call: one STFT over a block of clips, small enough to keep the
# complex intermediate of a block modest.
_BLOCK = 8


def _crop_or_pad(y, n_samples, offsets):
    """Crop (at the given offsets) or zero-pad every clip of a block to n_samples."""
    if y.shape[-1] < n_samples:
        pad = [(0, 0)] * (y.ndim - 1) + [(0, n_samples - y.shape[-1])]
        return np.pad(y, pad)
    return np.stack([clip[..., o:o + n_samples] for clip, o in zip(y, offsets, strict=True)])


def _transform_block(block, kind, value, sr, offsets):
    import librosa

    with librosa_errors("augment"):
        if kind == "time_stretch":
            out = librosa.effects.time_stretch(block, rate=value)
        else:
            out = librosa.effects.pitch_shift(block, sr=sr, n_steps=value)
    n = block.shape[-1]
    # Stretching by rate < 1 lengthens the clip: crop it back at a random offset, so
    # every part of the stretched clip can be seen; rate > 1 shortens it: zero-pad.
    offs = [min(o, max(out.shape[-1] - n, 0)) for o in offsets]
    return _crop_or_pad(out, n, offs).astype(np.float32, copy=False)


def _check_values(name, values, positive):
    if values is None:
        return []
    if isinstance(values, (Real, np.number)):
        values = [values]
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise ValueError(
            f"augment: {name} must be a sequence of numbers (one augmented copy per "
            f"value) or None, got {values!r}."
        ) from None
    for v in values:
        if not np.isfinite(v) or (positive and v <= 0):
            allowed = "rates > 0 (e.g. (0.9, 1.1))" if positive else "finite semitones"
            raise ValueError(f"augment: {name}={values!r} holds {v!r}; allowed: {allowed}.")
    return values


def augment(X, y, sr, *, time_stretch=(0.9, 1.1), pitch_shift=(-1, 1), random_state=None,
            n_jobs=None, return_groups=False):
    """Augment waveforms offline by time stretching and pitch shifting.

    Every clip is transformed once per value of ``time_stretch`` and once per value
    of ``pitch_shift`` (``librosa.effects.time_stretch`` and
    ``librosa.effects.pitch_shift``); the copies keep the input's length (a clip
    lengthened by stretching is cropped at a random offset, a shortened one is
    zero-padded) and their clip's label.

    Augment only the training part of a split: copies of a clip in both the training
    and the test part leak. Pass ``return_groups=True`` and a group-aware splitter
    (e.g. :class:`sklearn.model_selection.GroupKFold`) to cross-validate augmented
    data. Pitch shifting changes the key and time stretching the tempo: for key,
    chord or tempo labels, transform the labels too or leave that augmentation out.

    Parameters
    ----------
    X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
        Waveforms at ``sr``.
    y : array-like of shape (n_clips,) or (n_clips, n_outputs)
        Their labels, repeated for the copies.
    sr : int
        Sample rate of ``X`` in Hz (checked against ``X.sr`` when X carries one).
    time_stretch : sequence of float or None, default=(0.9, 1.1)
        Stretch rates (> 1 is faster); one copy per rate. None or () for none.
    pitch_shift : sequence of float or None, default=(-1, 1)
        Shifts in semitones; one copy per value. None or () for none.
    random_state : int, RandomState instance or None, default=None
        Draws the offsets at which lengthened copies are cropped.
    n_jobs : int or None, default=None
        Blocks of clips processed in parallel (joblib; None means 1).
    return_groups : bool, default=False
        Also return the index of each output clip's original clip.

    Returns
    -------
    X_aug : Waveforms of float32, shape (n_clips * (1 + n_copies), ...)
        The original clips first, then the copies of every clip for each value
        (``time_stretch`` values first), each block in the input's order.
    y_aug : ndarray
        ``y`` repeated ``1 + n_copies`` times.
    groups : ndarray of int, shape (n_clips * (1 + n_copies),)
        Only with ``return_groups=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.augmentation import augment
    >>> X = np.random.default_rng(0).normal(size=(2, 4096)).astype("float32")
    >>> X_aug, y_aug = augment(X, [0, 1], sr=8000, time_stretch=(1.2,), pitch_shift=(2,))
    >>> X_aug.shape, y_aug.tolist()
    ((6, 4096), [0, 1, 0, 1, 0, 1])
    """
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_consistent_length

    from skmir.io import Waveforms

    if not isinstance(sr, Integral) or isinstance(sr, bool) or sr < 1:
        raise ValueError(f"augment: sr must be an int >= 1 (Hz), got {sr!r}.")
    check_sr(X, sr, "augment")
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y)
    if X.ndim not in (2, 3) or X.size == 0:
        raise ValueError(
            "augment: expected waveforms X of shape (n_clips, n_samples) or "
            f"(n_clips, n_channels, n_samples), got an array of shape {X.shape}."
        )
    check_consistent_length(X, y)
    check_finite(X, "augment")
    jobs = [("time_stretch", v) for v in _check_values("time_stretch", time_stretch, True)]
    jobs += [("pitch_shift", v) for v in _check_values("pitch_shift", pitch_shift, False)]
    rng = check_random_state(random_state)
    n, n_samples = len(X), X.shape[-1]
    tasks = []
    for kind, value in jobs:
        # A stretched clip is at most n_samples / rate long: draw offsets in that range.
        extra = int(np.ceil(n_samples / value)) - n_samples if kind == "time_stretch" else 0
        offsets = rng.randint(0, max(extra, 0) + 1, size=n)
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            tasks.append(delayed(_transform_block)(X[start:stop], kind, value, sr,
                                                   offsets[start:stop]))
    blocks = Parallel(n_jobs=n_jobs)(tasks)
    X_aug = Waveforms(np.concatenate([X, *blocks]) if blocks else X, sr=sr)
    reps = 1 + len(jobs)
    y_aug = np.concatenate([y] * reps)
    if return_groups:
        return X_aug, y_aug, np.tile(np.arange(n), reps)
    return X_aug, y_aug


def _width(value, size):
    """An int is a size in bins/frames; a float in (0, 1] is a fraction of ``size``."""
    if value is None:
        return size
    if isinstance(value, Integral):
        return min(int(value), size)
    return max(1, int(round(value * size))) if value > 0 else 0


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
    >>> from skmir.augmentation import BatchAugmentation
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
        import torch

        rng, (B, _, n_bins, n_frames) = self.rng_, X.shape
        dev = X.device
        if self.frame_targets and (y.ndim < 2 or y.shape[:2] != (B, n_frames)):
            raise ValueError(
                f"BatchAugmentation: frame targets must be (batch, frames[, labels]) "
                f"aligned to X of shape {tuple(X.shape)}; got y of shape {tuple(y.shape)}."
            )
        length = _width(self.crop_frames, n_frames)
        if length < n_frames:
            start = torch.as_tensor(rng.integers(0, n_frames - length + 1, B), device=dev)
            idx = start[:, None] + torch.arange(length, device=dev)
            X = X.gather(3, idx[:, None, None, :].expand(*X.shape[:3], length))
            if self.frame_targets:
                # The same frames as X's: target frame t stays the target of frame t.
                idx_y = idx.reshape(B, length, *([1] * (y.ndim - 2)))
                y = y.gather(1, idx_y.expand(B, length, *y.shape[2:]))
            n_frames = length
        if self.gain:
            offset = rng.uniform(-self.gain, self.gain, B).astype(np.float32)
            X = X + torch.as_tensor(offset, device=dev)[:, None, None, None]
        fill = X.mean(dim=(1, 2, 3), keepdim=True) if self.freq_mask or self.time_mask else None
        for width, axis, size in ((self.freq_mask, 2, n_bins), (self.time_mask, 3, n_frames)):
            w_max = _width(width, size) if width else 0
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
            if not torch.is_floating_point(y):
                y = torch.nn.functional.one_hot(y.long(), self.n_classes).to(X.dtype)
            lam = rng.beta(self.mixup, self.mixup, B).astype(np.float32)
            perm = torch.as_tensor(rng.permutation(B), device=dev)
            lam_t = torch.as_tensor(lam, device=dev)
            X = lam_t[:, None, None, None] * X + (1 - lam_t[:, None, None, None]) * X[perm]
            lam_y = lam_t.reshape(-1, *([1] * (y.ndim - 1))).to(y.dtype)
            y = lam_y * y + (1 - lam_y) * y[perm]
        return X, y
