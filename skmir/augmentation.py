"""Offline data augmentation for small music datasets (the paper's sec. 2.3).

:func:`augment` time-stretches and pitch-shifts waveforms with librosa, once, before
training, and returns the original clips plus the transformed copies (numpy only:
``import skmir.augmentation`` loads no torch). The on-line counterpart, new versions of
every clip in every epoch on the training device, is :mod:`skmir.nn.augmentation`,
which the neural estimators apply in their training step.
"""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed

from skmir._validation import check_finite, check_sr, entry_point, refusals

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

    with refusals("augment"):
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


@entry_point
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
