"""Key and mode: key labels, key profiles, the key-template baseline and key scoring.

Key and mode are clip-level tasks of the paper's table 1. This module holds what
every key task shares, defined once: the 24 key labels in :mod:`mir_eval.key`'s
syntax (``"C major"``, ``"F# minor"``) and how a task's labels are read as keys or
modes (:func:`key_targets`), the Krumhansl-Kessler and Temperley key profiles, the
conventional baseline (:class:`KeyTemplateClassifier`: a pitch-class profile
correlated with the 24 rotated key profiles, Krumhansl 1990) and the MIREX weighted
key score (:func:`weighted_key_score`, :func:`mir_eval.key.weighted_score` over
clips). It is to key what :func:`skmir.make_mfcc_baseline` is to genre.

Labels are read as keys or modes in one of these forms:

- key strings in mir_eval's syntax, any spelling (``"C# major"``, ``"db minor"``);
- ``"major"`` / ``"minor"`` (a mode task);
- integers: ``0..23`` index :data:`KEY_NAMES` (C major ... B major, C minor ... B
  minor), the targets of ``make_music("key")``; a task whose integer labels are
  ``{0, 1}`` indexes :data:`MODES` (``make_music("mode")``).
"""

from numbers import Integral

import mir_eval
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from skmir._validation import NamedRefusals, entry_point

# One spelling per pitch class, the common one for key signatures, so that every
# label of a class is the same string.
PITCH_NAMES = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MODES = ("major", "minor")
#: The 24 keys, tonic-major first: index ``tonic + 12 * mode``.
KEY_NAMES = tuple(f"{p} {m}" for m in MODES for p in PITCH_NAMES)

#: Key profiles (weight of each pitch class above the tonic), major then minor:
#: Krumhansl & Kessler's probe-tone ratings (Krumhansl 1990, p. 30) and Temperley's
#: revised profiles (Temperley 1999, "What's key for key?").
PROFILES = {
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
    "temperley": (
        (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
        (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0),
    ),
}


@entry_point
def key_name(tonic, mode):
    """The mir_eval key label of a tonic pitch class and a mode.

    Examples
    --------
    >>> from skmir.tonality import key_name
    >>> key_name(9, "minor")
    'A minor'
    """
    return f"{PITCH_NAMES[int(tonic) % 12]} {mode}"


def _parse(label, kind, owner):
    """(tonic, mode index) of one label of a ``kind`` ("key" or "mode") task."""
    if isinstance(label, np.generic):  # a numpy scalar from an array of labels
        label = label.item()
    if isinstance(label, float) and label.is_integer():  # 1.0 from a float y
        label = int(label)
    if isinstance(label, (Integral, np.integer)) and not isinstance(label, bool):
        limit = 2 if kind == "mode" else 24
        if 0 <= label < limit:
            return (None, int(label)) if kind == "mode" else (int(label) % 12, int(label) // 12)
    elif isinstance(label, str):
        text = label.strip()
        if kind == "mode" and text.lower() in MODES:
            return None, MODES.index(text.lower())
        if kind == "key":
            parts = text.split()
            if (len(parts) == 2 and parts[1].lower() in MODES
                    and parts[0].lower() in mir_eval.key.KEY_TO_SEMITONE):
                return (mir_eval.key.KEY_TO_SEMITONE[parts[0].lower()],
                        MODES.index(parts[1].lower()))
    raise ValueError(
        f"{owner}: y = {label!r} is not a {kind} label. Allowed: key strings in "
        "mir_eval's syntax ('C major', 'F# minor'), 'major' / 'minor', or integers "
        "0..23 indexing skmir.tonality.KEY_NAMES (make_music('key') targets; 0 and 1 "
        "alone index MODES, make_music('mode') targets)."
    )


@entry_point
def key_targets(classes, owner="key_targets"):
    """Read a task's classes as keys or as modes.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        The distinct labels, in the order of the estimator's outputs (``classes_``).
    owner : str
        Who asks (named in errors).

    Returns
    -------
    kind : {"key", "mode"}
        A mode task when every label is a mode (``"major"``, ``"minor"``, or the
        integers 0 and 1 alone); otherwise a key task.
    index : tuple of int
        Per class: its key's index in :data:`KEY_NAMES` (key task) or its mode's in
        :data:`MODES` (mode task).

    Raises
    ------
    ValueError
        If a label is neither, or two labels name the same key.

    Examples
    --------
    >>> from skmir.tonality import key_targets
    >>> key_targets(["A minor", "C major", "C# major"])
    ('key', (21, 0, 1))
    >>> key_targets([0, 1])
    ('mode', (0, 1))
    """
    classes = list(np.asarray(classes, dtype=object).ravel())
    strings = [c.strip().lower() for c in classes if isinstance(c, str)]
    numbers = [c for c in classes if not isinstance(c, str)]  # 0 == 0.0 in the set test
    if (len(strings) == len(classes) and set(strings) <= set(MODES)) or (
            not strings and set(numbers) <= {0, 1}):
        kind = "mode"
    else:
        kind = "key"
    seen = {}  # index -> the label that named it
    for c in classes:
        tonic, mode = _parse(c, kind, owner)
        i = mode if kind == "mode" else tonic + 12 * mode
        if i in seen:
            raise ValueError(
                f"{owner}: y holds {seen[i]!r} and {c!r}, two spellings of one {kind}; "
                f"use one label per {kind}."
            )
        seen[i] = c
    return kind, tuple(seen)


@entry_point
def key_templates(profile, n_bins=12):
    """The 24 key profiles, rotated to every tonic, on a pitch-class axis of ``n_bins``.

    Parameters
    ----------
    profile : {"krumhansl", "temperley"}
        Which key profiles (:data:`PROFILES`).
    n_bins : int, default=12
        Bins per octave of the chroma they are matched to (``n_chroma``); with other
        than 12, the profiles are interpolated circularly between semitones.

    Returns
    -------
    templates : ndarray of shape (24, n_bins)
        Row ``k`` is key ``KEY_NAMES[k]``'s profile over absolute pitch (bin 0 = C).

    Examples
    --------
    >>> from skmir.tonality import key_templates
    >>> key_templates("temperley")[7].argmax()  # G major peaks on its tonic, G
    np.int64(7)
    """
    semitones = 12.0 * np.arange(n_bins) / n_bins
    rows = []
    for p in PROFILES[profile]:
        p = np.asarray(p, dtype=np.float64)
        for tonic in range(12):
            pos = (semitones - tonic) % 12  # pitch above the tonic, in semitones
            low = np.floor(pos).astype(int)
            frac = pos - low
            rows.append((1 - frac) * p[low % 12] + frac * p[(low + 1) % 12])
    return np.stack(rows)


@entry_point
def key_scores(profile, chroma):
    """Pearson correlation of pitch-class profiles with the 24 rotated key profiles.

    Parameters
    ----------
    profile : {"krumhansl", "temperley"}
        Which key profiles (:data:`PROFILES`).
    chroma : ndarray of shape (n_clips, n_bins)
        One pitch-class profile per clip (e.g. mean chroma), ``n_bins`` bins per
        octave from C (12: one per semitone).

    Returns
    -------
    scores : ndarray of shape (n_clips, 24)
        Column ``k`` is the correlation with key ``KEY_NAMES[k]``; 0 for a clip whose
        profile is flat (silence has no key).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.tonality import KEY_NAMES, PROFILES, key_scores
    >>> a_minor = np.roll(PROFILES["krumhansl"][1], 9)[None]
    >>> KEY_NAMES[key_scores("krumhansl", a_minor).argmax()]
    'A minor'
    """
    x = np.asarray(chroma, dtype=np.float64)
    templates = key_templates(profile, x.shape[1])
    templates = templates - templates.mean(axis=1, keepdims=True)
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    x = np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)
    return x @ templates.T


@entry_point
def weighted_key_score(y_true, y_pred):
    """Mean MIREX weighted key score (:func:`mir_eval.key.weighted_score`) over clips.

    1 for the right key, 0.5 for a fifth above, 0.3 for the relative, 0.2 for the
    parallel key, 0 otherwise. Labels as in :func:`key_targets` (key strings or
    ``make_music("key")`` indices). As a scorer: ``sklearn.metrics.make_scorer(
    weighted_key_score)``, e.g. in :func:`skmir.compare`'s ``scoring``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_clips,)

    Returns
    -------
    score : float

    Examples
    --------
    >>> from skmir.tonality import weighted_key_score
    >>> weighted_key_score(["C major", "A minor"], ["G major", "C major"])
    0.4
    """
    y_true, y_pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"weighted_key_score: y_true and y_pred must be 1-D of one length; got shapes "
            f"{y_true.shape} and {y_pred.shape}."
        )
    names = []
    for y in (y_true, y_pred):
        pairs = [_parse(v, "key", "weighted_key_score") for v in y]
        names.append([key_name(t, MODES[m]) for t, m in pairs])
    return float(np.mean([mir_eval.key.weighted_score(r, e)
                          for r, e in zip(*names, strict=True)]))


class KeyTemplateClassifier(NamedRefusals, ClassifierMixin, BaseEstimator):
    """Key or mode by template matching: the conventional key baseline.

    Each clip's pitch-class profile (its chroma averaged over time) is correlated
    with the 24 key profiles, rotated to every tonic; the best key wins (Krumhansl
    1990). Nothing is learnt: ``fit`` reads which labels the task uses, so that
    ``predict`` answers among them (keys, or modes: the mode of the best key). The
    usual input is :class:`skmir.Chromagram` (``source="cqt"``) of the audio; see
    :func:`skmir.pipelines.make_key_baseline`.

    Parameters
    ----------
    profile : {"krumhansl", "temperley"}, default="krumhansl"
        Krumhansl & Kessler's probe-tone profiles, or Temperley's revised ones
        (:data:`PROFILES`).

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in fit (keys or modes, read by :func:`key_targets`).
    kind_ : {"key", "mode"}
        Whether the task is key or mode.
    n_features_in_ : int
        Bins per octave of the chroma seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.tonality import PROFILES, KeyTemplateClassifier
    >>> major, minor = PROFILES["krumhansl"]
    >>> X = np.stack([np.roll(major, 7), np.roll(minor, 4)])  # G major, E minor
    >>> clf = KeyTemplateClassifier().fit(X, ["major", "minor"])
    >>> clf.predict(X).tolist(), clf.predict_key(X).tolist()
    (['major', 'minor'], ['G major', 'E minor'])
    """

    _parameter_constraints = {"profile": [StrOptions(set(PROFILES))]}

    def __init__(self, profile="krumhansl"):
        self.profile = profile

    def _profiles(self, X, y=None, reset=False):
        """Validate X (and y at fit); return one pitch-class profile per clip."""
        if not hasattr(X, "tocsr"):  # sparse X is refused by validate_data, with its message
            X = np.asarray(X)
        if X.ndim == 3:  # chroma over time: its profile is the mean
            X = check_array(X, allow_nd=True, dtype=np.float64,
                            input_name=f"{type(self).__name__} X").mean(axis=2)
        if reset:  # one bin per octave has no pitch-class profile to correlate
            return validate_data(self, X, y, reset=True, dtype=np.float64,
                                 ensure_min_features=2)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def fit(self, X, y):
        """Read the task's labels (keys or modes); nothing is learnt.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_bins, n_frames) or (n_clips, n_bins)
            Chroma (e.g. :class:`skmir.Chromagram`), or one pitch-class profile per
            clip; ``n_bins`` bins per octave from C (12 for librosa's default).
        y : array-like of shape (n_clips,)
            Keys or modes (see :func:`key_targets`).

        Returns
        -------
        self
        """
        self._validate_params()
        _, y = self._profiles(X, y, reset=True)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        self.kind_, _ = key_targets(self.classes_, type(self).__name__)
        return self

    def decision_function(self, X):
        """Each class's template correlation (for a mode, its best key's).

        Returns
        -------
        scores : ndarray of shape (n_clips, n_classes)
        """
        check_is_fitted(self)
        scores = key_scores(self.profile, self._profiles(X))
        if self.kind_ == "mode":
            scores = scores.reshape(-1, 2, 12).max(axis=2)
        _, index = key_targets(self.classes_, type(self).__name__)
        return scores[:, list(index)]

    def predict(self, X):
        """The best class among ``classes_``.

        Returns
        -------
        y : ndarray of shape (n_clips,)
        """
        best = self.decision_function(X).argmax(axis=1)
        return self.classes_[best]

    def predict_key(self, X):
        """The best of all 24 keys, as mir_eval key strings (``"Eb minor"``).

        Returns
        -------
        keys : ndarray of str, shape (n_clips,)
        """
        check_is_fitted(self)
        best = key_scores(self.profile, self._profiles(X)).argmax(axis=1)
        return np.asarray(KEY_NAMES)[best]

    def predict_mode(self, X):
        """The mode of the best key (``"major"`` or ``"minor"``).

        Returns
        -------
        modes : ndarray of str, shape (n_clips,)
        """
        check_is_fitted(self)
        best = key_scores(self.profile, self._profiles(X)).argmax(axis=1)
        return np.asarray(MODES)[best // 12]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


__all__ = ["KEY_NAMES", "MODES", "PITCH_NAMES", "PROFILES", "KeyTemplateClassifier",
           "key_name", "key_templates", "key_scores", "key_targets", "weighted_key_score"]
