"""Input validation shared by skmir's transformers and estimators.

One place decides what counts as valid audio and valid time-frequency input, in the
spirit of ``librosa.util.valid_audio`` and ``sklearn.utils.validation``: every error
names the estimator, the parameter or input, the value received and what is allowed.
"""

import functools
import re
from contextlib import contextmanager
from contextvars import ContextVar
from os import PathLike

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

# "<owner>: ..." where owner is a name, optionally called or dotted:
# "STFT", "TransferFeatures('vgg-mtt')", "PretrainedTagger.top_tags"
_NAMED = re.compile(r"^[A-Za-z_][\w.]*(\([^)]*\))?(\.\w+)?: ")
_SKLEARN_PARAM = re.compile(r"^The '(\w+)' parameter of \S+ must be (.*)\. Got (.*) instead\.$",
                            re.DOTALL)
# the methods whose refusals are named by the class alone, as sklearn's are
_VERBS = frozenset({"fit", "transform", "fit_transform", "predict", "predict_proba",
                    "predict_log_proba", "decision_function", "score", "inverse_transform",
                    "partial_fit", "fit_predict"})


def shown(value, limit=80):
    """A value as a refusal shows it: arrays by shape and dtype, paths and strings
    quoted and whole (a file's name is what the user needs), anything else by its
    repr, cut at ``limit`` characters.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir._validation import shown
    >>> shown(np.zeros((8, 16, 20), "float32")), shown("c2-zz"), shown(-1)
    ('float32 array of shape (8, 16, 20)', "'c2-zz'", '-1')
    """
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"{value.dtype} array of shape {tuple(value.shape)}"
    if isinstance(value, str | PathLike):
        return repr(str(value))
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def refusal(owner, what, value, allowed):
    """The one form of skmir's refusals: ``<owner>: <what> = <value>: <allowed>``.

    Parameters
    ----------
    owner : str or None
        The estimator or function that refuses (``"STFT"``,
        ``"PretrainedTagger.top_tags"``); None in a helper whose caller's entry
        point (:func:`entry_point`, :class:`NamedRefusals`) names the owner.
    what : str
        The parameter, input or file refused (``"n_fft"``, ``"X"``, ``"file"``).
    value : object
        What was received, shown by :func:`shown`.
    allowed : str
        What is allowed, or what to do.

    Returns
    -------
    message : str

    Examples
    --------
    >>> from skmir._validation import refusal
    >>> refusal("STFT", "n_fft", -1, "an integer >= 1.")
    'STFT: n_fft = -1: an integer >= 1.'
    """
    body = f"{what} = {shown(value)}: {allowed}"
    return body if owner is None else f"{owner}: {body}"


def _named_error(err, owner):
    """``err`` with its message in the refusal form, naming ``owner``; None when it
    names an owner already (the innermost skmir step that refused keeps its name)."""
    from sklearn.utils._param_validation import InvalidParameterError

    message = str(err.args[0]) if len(err.args) == 1 else str(err)
    if _NAMED.match(message):
        return None
    parameter = _SKLEARN_PARAM.match(message)
    if isinstance(err, InvalidParameterError) and parameter:
        # sklearn's own sentence stays: its estimator checks look for it
        name, _, value = parameter.groups()
        return InvalidParameterError(f"{owner}: {name} = {value}: {message}")
    message = f"{owner}: {message}"
    import librosa

    if isinstance(err, librosa.util.exceptions.ParameterError):
        return ValueError(message)  # librosa's is no ValueError; sklearn expects one
    if not isinstance(err, OSError) and type(err).__str__ is BaseException.__str__ \
            and not isinstance(err, KeyError):
        err.args = (message,)  # same object: its type, attributes and traceback stay
        return err
    try:
        return type(err)(message)
    except Exception:  # an exception type that takes other arguments
        return ValueError(message)


# Whether the code runs inside an entry point: only the outermost names the owner,
# the function or estimator the user called.
_INSIDE = ContextVar("skmir_inside_entry_point", default=False)


@contextmanager
def refusals(owner):
    """Name ``owner`` in any error raised inside: an error from numpy, torch, librosa,
    sklearn, joblib or the OS, or one of skmir's that names no owner, gets the form
    of :func:`refusal` (``<owner>: <message>``), keeping its type where it can
    (librosa's ParameterError becomes a ValueError); an error that already names
    its owner passes unchanged. Nested entry points leave the naming to the
    outermost: the function or estimator the user called.

    Examples
    --------
    >>> from skmir._validation import refusals
    >>> with refusals("load_thing"):  # doctest: +ELLIPSIS
    ...     int("fast")
    Traceback (most recent call last):
    ...
    ValueError: load_thing: invalid literal for int() with base 10: 'fast'
    """
    if _INSIDE.get():
        yield
        return
    token = _INSIDE.set(True)
    try:
        yield
    except Exception as err:
        named = _named_error(err, owner)
        if named is None or named is err:
            raise
        raise named from err
    finally:
        _INSIDE.reset(token)


def entry_point(func=None, *, owner=None):
    """Decorate a public function so that its refusals name it (:func:`refusals`).

    Examples
    --------
    >>> from skmir._validation import entry_point
    >>> @entry_point
    ... def parse(text):
    ...     return int(text)
    >>> parse("x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: parse: invalid literal for int() with base 10: 'x'
    """
    if func is None:
        return functools.partial(entry_point, owner=owner)
    name = owner or func.__name__

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with refusals(name):
            return func(*args, **kwargs)

    return wrapper


def _method_entry(func, classmethod_=False):
    verb = func.__name__ in _VERBS

    @functools.wraps(func)
    def wrapper(first, *args, **kwargs):
        cls = first if classmethod_ else type(first)
        with refusals(cls.__name__ if verb else f"{cls.__name__}.{func.__name__}"):
            return func(first, *args, **kwargs)

    wrapper.__skmir_entry__ = True
    return wrapper


class NamedRefusals:
    """Mixin: every public method of a subclass names its owner when it refuses
    (:func:`refusals`): ``"<Class>"`` for sklearn's verbs (fit, transform,
    predict, ...), ``"<Class>.<method>"`` for the others.

    Examples
    --------
    >>> from sklearn.base import BaseEstimator
    >>> from skmir._validation import NamedRefusals
    >>> class Halver(NamedRefusals, BaseEstimator):
    ...     def fit(self, X, y=None):
    ...         self.n_ = len(X) // 0
    >>> Halver().fit([1, 2])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ZeroDivisionError: Halver: integer division or modulo by zero
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name, attr in list(vars(cls).items()):
            if name.startswith("_"):
                continue
            if isinstance(attr, classmethod):
                if not getattr(attr.__func__, "__skmir_entry__", False):
                    setattr(cls, name, classmethod(_method_entry(attr.__func__, True)))
            elif callable(attr) and type(attr).__name__ == "function" \
                    and not getattr(attr, "__skmir_entry__", False):
                setattr(cls, name, _method_entry(attr))


def check_finite(X, owner, what="X"):
    """Raise a ValueError naming the first clip that holds NaN or inf values."""
    # min and max propagate NaN and expose inf without a boolean copy of X
    if X.size == 0 or (np.isfinite(X.min()) and np.isfinite(X.max())):
        return
    finite = np.isfinite(X)
    bad = np.flatnonzero(~finite.reshape(len(X), -1).all(axis=1)) if X.ndim > 1 else [0]
    kind = "NaN" if np.isnan(X).any() else "inf"
    raise ValueError(refusal(
        owner, what, X, f"contains {kind} values (NaN or inf) in {len(bad)} clip(s), "
        f"first at index {int(bad[0])}; audio and spectrograms must be finite. "
        "Check the decoding, or clean the clips with np.nan_to_num."))


def check_sr(X, sr, owner, *, declared=True):
    """The sample-rate contract: refuse waveforms whose rate is not ``sr``, or unknown.

    A step whose result depends on the sample rate must know the rate of its input:
    from the input itself (:class:`skmir.Waveforms`, which :class:`skmir.AudioLoader`
    and :mod:`skmir.datasets` return, carries it as ``X.sr``) or from a rate the user
    declared (an ``sr`` parameter, its default included, as librosa's). When both are
    known they must agree: skmir never resamples silently. A plain array is read at a
    declared ``sr``; a rate the user did not declare (one fixed by a shipped network,
    or taken from the waveforms at fit) cannot vouch for a plain array, which is
    refused with how to say its rate.

    Parameters
    ----------
    X : array-like
    sr : int or None
        The step's rate; None: any (a step whose result does not depend on it).
    owner : str
        Named in errors.
    declared : bool, default=True
        Whether the user declared ``sr`` (a parameter), so a plain array is read at it.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import Waveforms
    >>> from skmir._validation import check_sr
    >>> check_sr(Waveforms(np.zeros((1, 100)), sr=16000), 16000, "f", declared=False)
    >>> check_sr(np.zeros((1, 100)), 16000, "f", declared=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: f: X = float64 array of shape (1, 100): a plain array, which does not say ...
    """
    x_sr = getattr(X, "sr", None)
    if x_sr is not None and sr is not None and int(x_sr) != int(sr):
        raise ValueError(refusal(
            owner, "sr", sr, f"the waveforms were loaded at sr={x_sr}, and skmir never "
            f"resamples silently: set sr={x_sr} here, or load the audio at sr={sr}."))
    if x_sr is None and sr is not None and not declared:
        raise ValueError(refusal(
            owner, "X", X, f"a plain array, which does not say its sample rate, and "
            f"{owner} reads audio at sr={sr} Hz; pass skmir.Waveforms(X, sr={sr}) if "
            f"that is its rate, or load the audio with skmir.AudioLoader(sr={sr})."))


def fixed_rate_input(X, sr, rate, owner):
    """The sample-rate contract (:func:`check_sr`) for a step whose rate is fixed by
    its network (``rate``, e.g. a shipped network's 16000 Hz) and whose ``sr``
    parameter only declares the rate of plain arrays: None (no declaration: X must be
    :class:`skmir.Waveforms`) or ``rate`` itself; skmir never resamples silently.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir._validation import fixed_rate_input
    >>> fixed_rate_input(np.zeros((1, 10)), 16000, 16000, "f")
    >>> fixed_rate_input(np.zeros((1, 10)), 22050, 16000, "f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: f: sr = 22050: f reads audio at 16000 Hz only ...
    """
    if sr is not None and int(sr) != int(rate):
        raise ValueError(refusal(
            owner, "sr", sr, f"{owner} reads audio at {rate} Hz only (the rate its "
            f"network was trained at), and skmir never resamples silently; load the audio "
            f"at {rate} Hz (skmir.AudioLoader(sr={rate})) and pass sr={rate} or None."))
    x_sr = getattr(X, "sr", None)
    if x_sr is not None and int(x_sr) != int(rate):
        raise ValueError(refusal(
            owner, "X.sr", x_sr, f"the waveforms were loaded at sr={x_sr}, but {owner} "
            f"reads audio at {rate} Hz only (its model card); load them with "
            f"AudioLoader(sr={rate})."))
    check_sr(X, rate, owner, declared=sr is not None)


def check_fixed_rate_mono(estimator, X, sr, rate, *, reset, min_samples=1, owner=None):
    """Mono waveforms for a step whose rate is fixed by its network (``rate``): the
    sample-rate contract of :func:`fixed_rate_input` (``sr`` declares the rate of plain
    arrays), :func:`check_waveforms`, then one channel.

    Returns
    -------
    X : ndarray of float32, shape (n_clips, n_samples)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skmir._validation import check_fixed_rate_mono
    >>> check_fixed_rate_mono(BaseEstimator(), np.zeros((1, 2, 8)), 16000, 16000,
    ...                       reset=None, owner="f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: f: X = float32 array of shape (1, 2, 8): mono waveforms (n_clips, n_samples) ...
    """
    owner = owner or type(estimator).__name__
    fixed_rate_input(X, sr, rate, owner)
    X = check_waveforms(estimator, X, reset=reset, min_samples=min_samples)
    if X.ndim != 2:
        raise ValueError(refusal(owner, "X", X, f"mono waveforms (n_clips, n_samples) at "
                                 f"{rate} Hz; load the audio with AudioLoader(sr={rate}, "
                                 "mono=True)."))
    return X


def pcm_to_float(X):
    """Integer PCM samples as float32 in [-1, 1), as soundfile decodes them; any
    other input is returned as it is.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir._validation import pcm_to_float
    >>> pcm_to_float(np.array([[-32768, 0, 16384]], dtype=np.int16))
    array([[-1. ,  0. ,  0.5]], dtype=float32)
    >>> pcm_to_float(np.array([[0, 128, 255]], dtype=np.uint8))
    array([[-1.       ,  0.       ,  0.9921875]], dtype=float32)
    """
    if not isinstance(X, np.ndarray) or X.dtype.kind not in "iu":
        return X
    half = 2.0 ** (8 * X.dtype.itemsize - 1)
    centred = X.astype(np.float64) - half if X.dtype.kind == "u" else X
    return (centred / half).astype(np.float32)


def check_waveforms(estimator, X, *, reset=True, min_samples=1, sr=None, sr_declared=True):
    """Validate a batch of waveforms and return it as float32.

    Parameters
    ----------
    estimator : estimator
        The estimator that validates (named in errors; gets ``n_features_in_`` when
        ``reset``).
    X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
        The waveforms. An integer NumPy array is read as PCM samples and scaled to
        [-1, 1) as soundfile decodes them (int16 by 1/32768; unsigned 8-bit centred
        on 128 first), so that int16 audio is not taken for float audio 32768 times
        too loud.
    reset : bool or None, default=True
        True sets ``n_features_in_`` (fit); False checks X against it; None checks
        neither (stateless transforms, which take clips of any length).
    min_samples : int, default=1
        Shortest clip allowed, in samples (e.g. ``n_fft``).
    sr : int or None
        The estimator's sample rate, checked against ``X.sr`` by :func:`check_sr`.
    sr_declared : bool, default=True
        Whether the user declared ``sr`` (see :func:`check_sr`): if not, a plain array
        is refused.

    Returns
    -------
    X : ndarray of float32
    """
    owner = type(estimator).__name__
    check_sr(X, sr, owner, declared=sr_declared)
    X = validate_array(estimator, pcm_to_float(X), reset=reset, owner=owner)
    if X.ndim not in (2, 3):
        raise ValueError(refusal(
            owner, "X", X, "expected waveforms of shape (n_clips, n_samples) or "
            "(n_clips, n_channels, n_samples)."))
    n_samples = X.shape[-1]
    if n_samples < min_samples:
        raise ValueError(refusal(
            owner, "X", X, f"clips have {n_samples} sample(s) ({n_samples} feature(s) "
            f"per clip), fewer than the {min_samples} this transform needs (n_fft or the "
            "longest filter). Use longer clips (AudioLoader(duration=...) pads) or a "
            "smaller n_fft."))
    check_finite(X, owner)
    return X


def check_frames(X, owner):
    """Refuse spectrograms without frames: their statistics would be NaN."""
    if X.ndim >= 3 and X.shape[-1] == 0:
        raise ValueError(
            f"{owner}: X has 0 frames (shape {X.shape}); each clip needs at least one "
            "frame. Is the audio shorter than the hop length?"
        )


def check_spectrograms(estimator, X, *, reset=True, allowed_ndim=(2, 3, 4)):
    """Validate time-frequency input: (n_clips, n_bins, n_frames), optionally with a
    channel axis after the clip axis; 2-D input is read as one frame per clip.

    ``reset`` is as in :func:`check_waveforms`."""
    owner = type(estimator).__name__
    check_not_waveforms(X, owner)
    X = validate_array(estimator, X, reset=reset, owner=owner)
    if X.ndim not in allowed_ndim:
        raise ValueError(
            f"{owner}: expected an array of shape (n_clips, n_bins, n_frames) or "
            f"(n_clips, n_channels, n_bins, n_frames) (2-D is read as one frame per "
            f"clip), got an array of shape {X.shape}."
        )
    check_frames(X, owner)
    check_finite(X, owner)
    return X


def check_not_waveforms(X, owner, hint=""):
    """Refuse :class:`skmir.Waveforms` where time-frequency input is expected: a 2-D
    array of waveforms would otherwise be read as one frame of ``n_samples`` bins per
    clip. (A plain array says nothing of what it holds, and is taken as given.)"""
    sr = getattr(X, "sr", None)
    if sr is not None:
        raise ValueError(
            f"{owner}: X is waveforms (skmir.Waveforms at sr={sr}, shape {np.shape(X)}), "
            f"but {owner} takes spectrograms (n_clips, [n_channels,] n_bins, n_frames) "
            "here; compute a representation first, e.g. make_pipeline(MelSpectrogram("
            f"sr={sr}), LogCompression(), {owner}(...)){hint}."
        )


def validate_array(estimator, X, *, reset, owner):
    """Validate X as float32 of any dimension (finiteness is checked apart); with
    ``reset=None`` nothing of X is recorded or enforced."""
    kwargs = dict(dtype=np.float32, allow_nd=True, ensure_all_finite=False)
    if isinstance(X, (list, tuple)) and len({np.shape(x) for x in X}) > 1:
        raise ValueError(
            f"{owner}: the clips have different shapes ({sorted({np.shape(x) for x in X})[:3]}"
            "...); a batch must be one array. Load files with AudioLoader(duration=...), "
            "which crops or pads every clip to one length, or pad them yourself."
        )
    if reset is None:
        # Stateless transforms: a clip of any length (any number of bins) is valid at
        # transform, so n_features_in_ is recorded at fit but not enforced.
        return check_array(X, estimator=estimator, **kwargs)
    return validate_data(estimator, X, reset=reset, **kwargs)


def is_lazy(X):
    """Whether X is read on demand rather than held in memory: a numpy memmap, or an
    array-like with ``shape``, a numpy ``dtype`` and indexing that is no numpy array
    (a :class:`skmir.FeatureStore`, an h5py or zarr dataset, a dask array)."""
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, (np.ndarray, list, tuple, str)) or hasattr(X, "iloc"):
        return False
    if type(X).__module__.split(".")[0] in ("torch", "scipy"):
        return False
    shape = getattr(X, "shape", None)
    if not isinstance(shape, tuple) or not hasattr(X, "__getitem__"):
        return False
    try:
        np.dtype(X.dtype)
    except (AttributeError, TypeError):
        return False
    return True


class LazyClips:
    """A lazy X seen as float32 clips ``(n_clips, n_channels, n_bins, n_frames)``.

    Indexing (an int, a slice, an array of ints) reads only those rows, as a
    contiguous float32 array with the axes a 2-D or 3-D X lacks (a 2-D X is one
    frame per clip); what the estimators' batches and feature extraction read.
    """

    def __init__(self, X):
        self.X = X
        shape = tuple(int(s) for s in X.shape)
        # (n, features) -> (n, 1, features, 1); (n, bins, frames) -> (n, 1, bins, frames)
        self._axes = {2: (1, 3), 3: (1,), 4: ()}[len(shape)]
        for axis in self._axes:
            shape = shape[:axis] + (1,) + shape[axis:]
        self.shape = shape

    @property
    def ndim(self):
        return 4

    @property
    def dtype(self):
        return np.dtype(np.float32)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        if isinstance(key, slice):
            rows = self.X[key]
        elif np.ndim(key) == 0:
            return self[np.asarray([key])][0]
        else:
            idx = np.asarray(key)
            if idx.dtype == bool:
                idx = np.flatnonzero(idx)
            idx = np.where(idx < 0, idx + len(self), idx)
            if isinstance(self.X, np.memmap) or getattr(self.X, "random_access", False):
                rows = self.X[idx]
            else:
                # h5py and zarr read increasing indices only; each row is read once
                unique, inverse = np.unique(idx, return_inverse=True)
                rows = np.asarray(self.X[unique])[inverse]
        rows = np.ascontiguousarray(np.asarray(rows), dtype=np.float32)
        return np.expand_dims(rows, self._axes) if self._axes else rows


def check_lazy(X, owner, *, block_bytes=1 << 22):
    """Validate a lazy X without holding it: shape and dtype, then its values block
    by block (``block_bytes`` at a time); refuse a store's rows that are not ok.

    Returns
    -------
    X4 : LazyClips
    """
    shape = tuple(int(s) for s in X.shape)
    if len(shape) not in (2, 3, 4):
        raise ValueError(
            f"{owner}: X must be (n_clips, n_bins, n_frames), (n_clips, n_channels, "
            f"n_bins, n_frames), or 2-D (n_clips, n_features) read as one frame per "
            f"clip; got an array of shape {shape}."
        )
    dtype = np.dtype(X.dtype)
    if dtype.kind not in "biuf":
        raise ValueError(f"{owner}: X must hold numbers; got dtype {dtype}.")
    if shape[0] == 0:
        raise ValueError(f"{owner}: X holds 0 clips (shape {shape}); pass at least one.")
    if len(shape) >= 3 and shape[-1] == 0:
        raise ValueError(
            f"{owner}: X has 0 frames (shape {shape}); each clip needs at least one frame."
        )
    ok = getattr(X, "ok", None)
    if ok is not None and not np.all(ok):
        bad = np.flatnonzero(~np.asarray(ok, dtype=bool))
        raise ValueError(
            f"{owner}: X has {len(bad)} row(s) whose file could not be computed (ok is "
            f"False, first at index {int(bad[0])}): their zeros are no clip. Pass "
            "store.good and store.good.y."
        )
    per_row = max(1, int(np.prod(shape[1:])) * dtype.itemsize)
    step = max(1, block_bytes // per_row)
    for start in range(0, shape[0], step):
        block = np.asarray(X[start:start + step])
        if block.size and not (np.isfinite(block.min()) and np.isfinite(block.max())):
            first = start + int(np.flatnonzero(
                ~np.isfinite(block.reshape(len(block), -1)).all(axis=1))[0])
            raise ValueError(
                f"{owner}: X contains NaN or inf values, first in the clip at index "
                f"{first}; audio and spectrograms must be finite."
            )
    return LazyClips(X)
