"""Frame-level targets from annotations, and frame predictions back into events.

The time-varying problems of the paper's table 1 (onsets, beats, chords, melody)
are annotated as times and segments; a network predicts one vector per frame of a
representation. These functions move between the two for a representation's
``sr`` and ``hop_length`` (frame ``k`` is centred at ``k * hop_length / sr``
seconds, librosa's ``center=True`` convention), so that predictions are scored
with mir_eval.
"""

import numpy as np

from skmir._validation import entry_point

#: The 25 chord classes of major/minor chord estimation: 12 major and 12 minor
#: triads in Harte syntax, then "N" (no chord).
MAJMIN_CHORDS = tuple(
    [f"{r}:maj" for r in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")]
    + [f"{r}:min" for r in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")]
    + ["N"]
)


def _check_grid(n_frames, sr, hop_length):
    for name, value in (("n_frames", n_frames), ("sr", sr), ("hop_length", hop_length)):
        if int(value) != value or value < (0 if name == "n_frames" else 1):
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")


@entry_point
def frame_times(n_frames, sr=22050, hop_length=512):
    """Centre time in seconds of each frame.

    Parameters
    ----------
    n_frames : int
    sr : int, default=22050
    hop_length : int, default=512

    Returns
    -------
    times : ndarray of shape (n_frames,)

    Examples
    --------
    >>> from skmir.frames import frame_times
    >>> frame_times(3, sr=100, hop_length=10)
    array([0. , 0.1, 0.2])
    """
    _check_grid(n_frames, sr, hop_length)
    return np.arange(n_frames) * hop_length / sr


def _nearest_frame(times, sr, hop_length):
    return np.rint(np.asarray(times, dtype=float) * sr / hop_length).astype(int)


@entry_point
def resample_frames(values, times, target_times):
    """Values on one frame grid moved to another, by linear interpolation in time.

    A network's frames (e.g. every 10 ms for CREPE, 86 per second for basic-pitch) to
    the frames of the user's targets (:func:`frame_times` of their ``sr`` and
    ``hop_length``): each target time takes the two network frames around it,
    weighted by how near each is. Linear rather than nearest-frame: on the network's
    own times it returns the values unchanged, like nearest; between them nearest would
    repeat or skip frames and shift every value by up to half a network frame, where
    linear interpolation follows the features' change between the two frames. Times
    before the first frame take the first frame's values, after the last the last's
    (``numpy.interp``'s convention).

    Parameters
    ----------
    values : array-like of shape (..., n_frames)
        Time on the last axis (e.g. ``(n_clips, n_features, n_frames)``).
    times : array-like of shape (n_frames,)
        Time in seconds of each frame of ``values``, strictly increasing (the grid
        need not be regular: basic-pitch's is not).
    target_times : array-like of shape (n_targets,)
        Times in seconds to take values at.

    Returns
    -------
    resampled : ndarray of shape (..., n_targets)
        Float, in the dtype of ``values`` (float64 for integer values).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.frames import resample_frames
    >>> resample_frames(np.array([[0.0, 1.0, 4.0]]), [0.0, 0.1, 0.2], [0.0, 0.05, 0.15, 0.3])
    array([[0. , 0.5, 2.5, 4. ]])
    """
    values = np.asarray(values)
    if values.ndim < 1 or values.shape[-1] < 1 or not np.issubdtype(values.dtype, np.number):
        raise ValueError(f"values of shape {values.shape}: allowed: numbers with the frames "
                         "on the last axis, at least one.")
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype(np.float64)
    times = np.asarray(times, dtype=np.float64)
    target = np.asarray(target_times, dtype=np.float64)
    if times.ndim != 1 or len(times) != values.shape[-1]:
        raise ValueError(f"times of shape {times.shape}: allowed: one time per frame of "
                         f"values, shape ({values.shape[-1]},).")
    if target.ndim != 1:
        raise ValueError(f"target_times of shape {target.shape}: allowed: 1-D times (s).")
    for name, t in (("times", times), ("target_times", target)):
        if not np.isfinite(t).all():
            raise ValueError(f"{name} hold NaN or inf: allowed: finite times in seconds.")
    if np.any(np.diff(times) <= 0):
        k = int(np.flatnonzero(np.diff(times) <= 0)[0])
        raise ValueError(f"times = {times[k]!r} then {times[k + 1]!r} at frames {k} and "
                         f"{k + 1}: allowed: strictly increasing times, one per frame.")
    if len(times) == 1:
        return np.repeat(values, len(target), axis=-1)
    # the frame at or before each target, and the weight of the one after it
    left = np.clip(np.searchsorted(times, target, side="right") - 1, 0, len(times) - 2)
    weight = np.clip((target - times[left]) / (times[left + 1] - times[left]), 0.0, 1.0)
    weight = weight.astype(values.dtype)
    return values[..., left] * (1 - weight) + values[..., left + 1] * weight


@entry_point
def events_to_frames(times, n_frames, sr=22050, hop_length=512, width=0):
    """Binary target that marks the frame nearest to each event (onset, beat).

    Parameters
    ----------
    times : array-like of float
        Event times in seconds; events outside the frames are dropped.
    n_frames : int
    sr : int, default=22050
    hop_length : int, default=512
    width : int, default=0
        Also mark this many frames on each side of every event (a common way to
        soften onset targets).

    Returns
    -------
    target : ndarray of float32, shape (n_frames,)

    Examples
    --------
    >>> from skmir.frames import events_to_frames
    >>> events_to_frames([0.1, 0.32], n_frames=5, sr=100, hop_length=10)
    array([0., 1., 0., 1., 0.], dtype=float32)
    """
    _check_grid(n_frames, sr, hop_length)
    target = np.zeros(n_frames, dtype=np.float32)
    idx = _nearest_frame(times, sr, hop_length)
    for shift in range(-width, width + 1):
        k = idx + shift
        target[k[(k >= 0) & (k < n_frames)]] = 1.0
    return target


@entry_point
def segments_to_frames(intervals, labels, n_frames, sr=22050, hop_length=512,
                       classes=None, fill=None):
    """Label of the segment that holds each frame's centre (e.g. chords).

    Parameters
    ----------
    intervals : array-like of shape (n_segments, 2)
        Start and end times in seconds.
    labels : sequence of length n_segments
    n_frames : int
    sr : int, default=22050
    hop_length : int, default=512
    classes : sequence or None, default=None
        When given, return each frame's index into ``classes`` (labels not in
        ``classes`` are an error), else the labels themselves.
    fill : object, default=None
        Label of frames outside every segment; None means ``"N"`` (no chord).

    Returns
    -------
    frame_labels : ndarray of shape (n_frames,)
        Labels (object) or class indices (int64) when ``classes`` is given.

    Examples
    --------
    >>> from skmir.frames import segments_to_frames
    >>> segments_to_frames([[0, 0.25], [0.25, 0.5]], ["C:maj", "A:min"], 5, 100, 10).tolist()
    ['C:maj', 'C:maj', 'C:maj', 'A:min', 'A:min']
    """
    _check_grid(n_frames, sr, hop_length)
    intervals = np.asarray(intervals, dtype=float).reshape(-1, 2)
    if len(intervals) != len(labels):
        raise ValueError(f"{len(intervals)} intervals but {len(labels)} labels.")
    t = frame_times(n_frames, sr, hop_length)
    out = np.full(n_frames, "N" if fill is None else fill, dtype=object)
    for (start, end), label in zip(intervals, labels):
        out[(t >= start) & (t < end)] = label
    if classes is None:
        return out
    index = {c: i for i, c in enumerate(classes)}
    missing = sorted({str(v) for v in out if v not in index})
    if missing:
        raise ValueError(f"Labels {missing} are not among the classes {list(classes)}.")
    return np.array([index[v] for v in out], dtype=np.int64)


@entry_point
def reduce_to_majmin(label):
    """Map a Harte chord label onto :data:`MAJMIN_CHORDS`.

    A chord with a major third is the major triad of its root, one with a minor
    third the minor triad; chords with neither (e.g. "C:sus4") and "N"/"X" map to
    "N".

    Parameters
    ----------
    label : str

    Returns
    -------
    label : str

    Examples
    --------
    >>> from skmir.frames import reduce_to_majmin
    >>> reduce_to_majmin("G:7"), reduce_to_majmin("A:min7/b3"), reduce_to_majmin("D:sus4")
    ('G:maj', 'A:min', 'N')
    """
    import mir_eval

    root, bitmap, _ = mir_eval.chord.encode(label)
    if root < 0:
        return "N"
    if bitmap[4]:
        return MAJMIN_CHORDS[root]
    if bitmap[3]:
        return MAJMIN_CHORDS[12 + root]
    return "N"


@entry_point
def chroma_targets(intervals, labels, n_frames, sr=22050, hop_length=512):
    """Pitch classes sounding in each frame, from chord annotations (learned chroma).

    Parameters
    ----------
    intervals : array-like of shape (n_segments, 2)
    labels : sequence of Harte chord labels
    n_frames : int
    sr : int, default=22050
    hop_length : int, default=512

    Returns
    -------
    target : ndarray of float32, shape (n_frames, 12)
        1 for each pitch class (C=0) of the chord sounding at the frame.

    Examples
    --------
    >>> from skmir.frames import chroma_targets
    >>> chroma_targets([[0, 1]], ["A:min"], 1, 100, 10)[0].nonzero()[0].tolist()
    [0, 4, 9]
    """
    import mir_eval

    frame_labels = segments_to_frames(intervals, labels, n_frames, sr, hop_length)
    target = np.zeros((n_frames, 12), dtype=np.float32)
    cache = {}
    for k, label in enumerate(frame_labels):
        if label not in cache:
            root, bitmap, _ = mir_eval.chord.encode(label)
            cache[label] = np.roll(bitmap, root) if root >= 0 else np.zeros(12)
        target[k] = cache[label]
    return target


@entry_point
def f0_to_frames(times, f0, n_frames, sr=22050, hop_length=512):
    """Melody f0 at each frame centre (nearest annotation), 0 where unvoiced.

    Parameters
    ----------
    times, f0 : array-like of shape (n,)
        Annotation times (s) and f0 (Hz, 0 or negative for unvoiced).
    n_frames : int
    sr : int, default=22050
    hop_length : int, default=512

    Returns
    -------
    f0 : ndarray of float32, shape (n_frames,)

    Examples
    --------
    >>> from skmir.frames import f0_to_frames
    >>> f0_to_frames([0.0, 0.01, 0.02], [220.0, 0.0, 440.0], 3, 1000, 10)
    array([220.,   0., 440.], dtype=float32)
    """
    _check_grid(n_frames, sr, hop_length)
    times, f0 = np.asarray(times, dtype=float), np.asarray(f0, dtype=float)
    t = frame_times(n_frames, sr, hop_length)
    if len(times) == 0:
        return np.zeros(n_frames, dtype=np.float32)
    idx = np.clip(np.searchsorted(times, t), 1, len(times) - 1) if len(times) > 1 else \
        np.zeros(n_frames, dtype=int)
    if len(times) > 1:
        left_closer = (t - times[idx - 1]) < (times[idx] - t)
        idx = np.where(left_closer, idx - 1, idx)
    out = np.maximum(f0[idx], 0.0)
    out[(t < times[0] - 0.5 * hop_length / sr) | (t > times[-1] + 0.5 * hop_length / sr)] = 0
    return out.astype(np.float32)


@entry_point
def pick_events(activation, sr=22050, hop_length=512, threshold=0.5, wait=1):
    """Times of the local maxima of an activation that exceed ``threshold`` (onsets).

    Parameters
    ----------
    activation : array-like of shape (n_frames,)
        E.g. an onset probability per frame.
    sr : int, default=22050
    hop_length : int, default=512
    threshold : float, default=0.5
    wait : int, default=1
        Frames to wait after an event before the next can be picked.

    Returns
    -------
    times : ndarray of float
        Seconds.

    Examples
    --------
    >>> from skmir.frames import pick_events
    >>> pick_events([0, 0.9, 0.2, 0.1, 0.7, 0.8, 0.1], sr=100, hop_length=10)
    array([0.1, 0.5])
    """
    a = np.asarray(activation, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"activation must be 1-D (n_frames,), got shape {a.shape}.")
    padded = np.pad(a, 1, constant_values=-np.inf)
    # a plateau yields its last frame
    peaks = np.flatnonzero((a >= padded[:-2]) & (a > padded[2:]) & (a >= threshold))
    kept, last = [], -np.inf
    for k in peaks:
        if k - last > wait:
            kept.append(k)
            last = k
    return np.asarray(kept, dtype=float) * hop_length / sr


@entry_point
def frames_to_segments(frame_labels, sr=22050, hop_length=512, classes=None):
    """Merge runs of equal frame labels into segments (e.g. chords for mir_eval).

    Parameters
    ----------
    frame_labels : array-like of shape (n_frames,)
        Labels, or class indices into ``classes``.
    sr : int, default=22050
    hop_length : int, default=512
    classes : sequence or None
        Names of the class indices, when ``frame_labels`` holds indices.

    Returns
    -------
    intervals : ndarray of shape (n_segments, 2)
        Each segment runs from half a hop before its first frame's centre to half a
        hop after its last (the first starts at 0).
    labels : list

    Examples
    --------
    >>> from skmir.frames import frames_to_segments
    >>> iv, lab = frames_to_segments(["C:maj", "C:maj", "N"], sr=100, hop_length=10)
    >>> iv.round(3).tolist(), lab
    ([[0.0, 0.15], [0.15, 0.25]], ['C:maj', 'N'])
    """
    frame_labels = np.asarray(frame_labels)
    if frame_labels.ndim != 1 or len(frame_labels) == 0:
        raise ValueError(f"frame_labels must be 1-D and non-empty, got {frame_labels.shape}.")
    if classes is not None:
        frame_labels = np.asarray(classes, dtype=object)[frame_labels]
    change = np.flatnonzero(frame_labels[1:] != frame_labels[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(frame_labels)]])
    hop = hop_length / sr
    t_start = np.maximum(starts * hop - hop / 2, 0.0)
    t_end = ends * hop - hop / 2
    return np.stack([t_start, t_end], axis=1), frame_labels[starts].tolist()


@entry_point
def template_chords(chroma, median=9):
    """Major/minor chord per frame by template matching: the conventional baseline.

    Each frame of the chromagram is compared (cosine similarity) with the 24 binary
    major and minor triad templates; the scores are median-filtered over ``median``
    frames and the best one wins. A silent frame (all-zero chroma: no triad scores
    above 0) is "N".

    Parameters
    ----------
    chroma : array-like of shape (12, n_frames)
        Chromagram, pitch class C first (as :class:`skmir.Chromagram`).
    median : int, default=9
        Length in frames of the median filter over time (1 turns it off).

    Returns
    -------
    classes : ndarray of int, shape (n_frames,)
        Indices into :data:`MAJMIN_CHORDS`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.frames import MAJMIN_CHORDS, template_chords
    >>> chroma = np.zeros((12, 3))
    >>> chroma[[0, 4, 7], 0] = 1    # C E G
    >>> chroma[[9, 0, 4], 1] = 1    # A C E
    >>> [MAJMIN_CHORDS[k] for k in template_chords(chroma, median=1)]
    ['C:maj', 'A:min', 'N']
    """
    from scipy.ndimage import median_filter

    chroma = np.asarray(chroma, dtype=np.float64)
    if chroma.ndim != 2 or chroma.shape[0] != 12:
        raise ValueError(f"chroma must have shape (12, n_frames), got {chroma.shape}.")
    roots = np.arange(12)
    templates = np.zeros((25, 12))
    for offset, third in ((0, 4), (12, 3)):
        templates[offset + roots[:, None], (roots[:, None] + [0, third, 7]) % 12] = 1.0
    templates /= np.maximum(np.linalg.norm(templates, axis=1, keepdims=True), 1e-9)
    unit = chroma / np.maximum(np.linalg.norm(chroma, axis=0, keepdims=True), 1e-9)
    scores = templates @ unit
    scores[MAJMIN_CHORDS.index("N")] = 1e-3  # above 0 only where every triad scores 0
    return median_filter(scores, size=(1, median), mode="nearest").argmax(axis=0)
