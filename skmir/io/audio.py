"""Audio input: decoding files into fixed-length waveforms.

The raw-audio representation of the paper's sec. 3.2: downmixed, resampled, fixed
length. Decoding uses soundfile (WAV, FLAC, OGG/Vorbis, MP3 through libsndfile) and
resampling uses librosa (soxr).
"""

import os
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from tqdm.auto import tqdm

from skmir._validation import check_finite, check_sr, check_waveforms

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".au")


class AudioFileError(ValueError):
    """A file could not be decoded as audio; the message names the file and why."""


class AudioFileWarning(UserWarning):
    """Files were excluded from a dataset because they could not be read as audio."""


class Waveforms(np.ndarray):
    """A float32 array of waveforms that remembers its sample rate.

    :class:`AudioLoader` and :mod:`skmir.datasets` return this subclass of
    :class:`numpy.ndarray` so that a transformer with another ``sr`` further down a
    pipeline raises an error instead of silently reading the audio at the wrong rate.
    Slicing (as cross-validation does) keeps ``sr``; ``np.asarray`` drops it.

    Parameters
    ----------
    data : array-like
        The waveforms, ``(n_clips, n_samples)`` or ``(n_clips, n_channels, n_samples)``.
    sr : int
        Their sample rate in Hz.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import Waveforms
    >>> X = Waveforms(np.zeros((2, 22050)), sr=22050)
    >>> X.sr, X.dtype, X[:1].sr
    (22050, dtype('float32'), 22050)
    """

    def __new__(cls, data, sr):
        obj = np.asarray(data, dtype=np.float32).view(cls)
        obj.sr = int(sr)
        return obj

    def __array_finalize__(self, obj):
        self.sr = getattr(obj, "sr", None)

    def __reduce__(self):
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.sr)

    def __setstate__(self, state):
        array_state, self.sr = state
        super().__setstate__(array_state)


def load_audio(path, sr=22050, mono=True, offset=0.0, duration=None):
    """Decode one audio file, downmix and resample it.

    Parameters
    ----------
    path : str or os.PathLike
        A WAV, FLAC, OGG or MP3 file (anything libsndfile reads).
    sr : int or None, default=22050
        Target sample rate; None keeps the file's own rate.
    mono : bool, default=True
        Average the channels into one.
    offset : float, default=0.0
        Start reading this many seconds in.
    duration : float or None, default=None
        Read at most this many seconds.

    Returns
    -------
    y : ndarray of float32, shape (n_samples,) or (n_channels, n_samples)
        The waveform (channels first, as librosa).
    sr : int
        Its sample rate.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    AudioFileError
        The file exists but cannot be decoded; the message names it and says why.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from skmir import load_audio
    >>> path = tempfile.mkdtemp() + "/tone.wav"
    >>> sf.write(path, np.sin(np.arange(44100) / 10), 44100)
    >>> y, sr = load_audio(path, sr=22050)
    >>> y.shape, y.dtype, sr
    ((22050,), dtype('float32'), 22050)
    """
    import librosa
    import soundfile as sf

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"Audio file {path!r} does not exist.")
    if offset < 0 or (duration is not None and duration < 0):
        raise ValueError(
            f"offset and duration must be >= 0 seconds, got offset={offset}, "
            f"duration={duration}."
        )
    try:
        with sf.SoundFile(path) as f:
            native_sr = f.samplerate
            start = int(round(offset * native_sr))
            if start:
                f.seek(min(start, f.frames))
            frames = -1 if duration is None else int(round(duration * native_sr))
            y = f.read(frames=frames, dtype="float32", always_2d=True).T
    except Exception as exc:  # libsndfile reports every decoding failure as its own type
        raise AudioFileError(f"Cannot decode audio file {path!r}: {exc}") from exc
    if not np.isfinite(y).all():
        raise AudioFileError(f"Audio file {path!r} decodes to NaN or inf samples.")
    if mono:
        y = y.mean(axis=0)
    elif y.shape[0] == 1:
        y = y[0]
    if sr is not None and sr != native_sr and y.shape[-1] > 0:
        y = librosa.resample(y, orig_sr=native_sr, target_sr=sr).astype(np.float32)
    return np.ascontiguousarray(y, dtype=np.float32), int(sr or native_sr)


def _fix_length(y, n_samples):
    """Crop or zero-pad the last axis to n_samples."""
    if y.shape[-1] >= n_samples:
        return y[..., :n_samples]
    pad = [(0, 0)] * (y.ndim - 1) + [(0, n_samples - y.shape[-1])]
    return np.pad(y, pad)


class AudioLoader(TransformerMixin, BaseEstimator):
    """Decode audio files into a fixed-length float32 waveform matrix.

    The first step of every skmir pipeline that starts from files: the paper's raw
    audio representation (sec. 3.2), downmixed, resampled to ``sr`` and cropped or
    zero-padded to ``duration``. Waveforms that are already decoded (a numeric
    array) pass through the same cropping, padding and downmixing, so one pipeline
    serves files and generated data alike.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate to resample every file to, in Hz.
    mono : bool, default=True
        Downmix to one channel. With False, every file must have the same number of
        channels and the output is ``(n_clips, n_channels, n_samples)``.
    duration : float or None, default=None
        Length of every output clip in seconds (crop or zero-pad). None pads every
        clip of a call to the longest clip of that call.
    offset : float, default=0.0
        Start reading each file this many seconds in.
    n_jobs : int or None, default=None
        Files decoded in parallel (joblib; None means 1).
    verbose : int, default=0
        Show a progress bar when > 0.
    resample : bool, default=False
        Decoded waveforms that carry another sample rate (:class:`Waveforms`, e.g.
        from :func:`skmir.datasets.make_music`) are resampled to ``sr`` instead of
        refused. Off by default: skmir never resamples without being asked. Files
        are always resampled to ``sr``.

    Attributes
    ----------
    n_features_in_ : int
        Clip length seen in ``fit`` when fitted on waveforms (not set for paths).

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from skmir import AudioLoader
    >>> root = tempfile.mkdtemp()
    >>> for i, n in enumerate([8000, 16000]):
    ...     sf.write(f"{root}/{i}.wav", np.zeros(n), 16000)
    >>> X = AudioLoader(sr=8000, duration=0.5).fit_transform([f"{root}/0.wav", f"{root}/1.wav"])
    >>> X.shape, X.dtype, X.sr
    ((2, 4000), dtype('float32'), 8000)
    """

    _parameter_constraints = {
        "sr": [Interval(Integral, 1, None, closed="left")],
        "mono": ["boolean"],
        "duration": [Interval(Real, 0, None, closed="neither"), None],
        "offset": [Interval(Real, 0, None, closed="left")],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "resample": ["boolean"],
    }

    def __init__(self, sr=22050, mono=True, duration=None, offset=0.0, n_jobs=None, verbose=0,
                 resample=False):
        self.sr = sr
        self.mono = mono
        self.duration = duration
        self.offset = offset
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.resample = resample

    def fit(self, X, y=None):
        """Check the parameters and the input; nothing is learned.

        Parameters
        ----------
        X : array-like of paths, or array of waveforms
            1-D array of file paths, or decoded waveforms.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        if not is_paths(X):
            check_waveforms(self, X, reset=True, sr=None if self.resample else self.sr)
        return self

    def transform(self, X):
        """Decode (or pass through) the clips and bring them to one length.

        Parameters
        ----------
        X : array-like of paths, or array of waveforms
            1-D array of file paths, or decoded waveforms
            ``(n_clips, n_samples)`` / ``(n_clips, n_channels, n_samples)``.

        Returns
        -------
        X : Waveforms of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
            float32, with ``X.sr == self.sr``.
        """
        self._validate_params()
        if is_paths(X):
            clips = self._load_files(list(np.asarray(X).tolist()))
        else:
            x_sr = getattr(X, "sr", None)
            if not self.resample:
                check_sr(X, self.sr, type(self).__name__)
            X = check_waveforms(self, X, reset=None)
            if x_sr is not None and int(x_sr) != self.sr and X.shape[-1] > 0:
                import librosa

                X = librosa.resample(X, orig_sr=int(x_sr), target_sr=self.sr, axis=-1)
                X = X.astype(np.float32, copy=False)
            clips = X.mean(axis=1) if (self.mono and X.ndim == 3) else X
            return Waveforms(self._to_length(clips, clips.shape[-1]), self.sr)
        n_samples = max(c.shape[-1] for c in clips)
        channels = {c.shape[0] for c in clips if c.ndim == 2}
        if not self.mono and (len(channels) > 1 or any(c.ndim == 1 for c in clips)):
            raise ValueError(
                "AudioLoader(mono=False): the files have different numbers of channels "
                f"({sorted(channels | ({1} if any(c.ndim == 1 for c in clips) else set()))}); "
                "use mono=True to downmix them."
            )
        if not self.mono and not channels:  # all files are mono: keep a channel axis
            clips = [c[None] for c in clips]
        out = np.zeros((len(clips), *clips[0].shape[:-1], self._length(n_samples)), np.float32)
        for i, c in enumerate(clips):
            out[i] = _fix_length(c, out.shape[-1])
        return Waveforms(out, self.sr)

    def _length(self, longest):
        return longest if self.duration is None else int(round(self.duration * self.sr))

    def _to_length(self, X, longest):
        return _fix_length(X, self._length(longest))

    def _load_files(self, paths):
        if len(paths) == 0:
            raise ValueError("AudioLoader: X is an empty list of paths; pass at least one file.")
        jobs = (
            delayed(load_audio)(p, sr=self.sr, mono=self.mono, offset=self.offset,
                                duration=self.duration)
            for p in tqdm(paths, desc="AudioLoader", disable=not self.verbose, unit="file")
        )
        clips = [y for y, _ in Parallel(n_jobs=self.n_jobs)(jobs)]
        empty = [p for p, c in zip(paths, clips) if c.shape[-1] == 0]
        if empty:
            raise AudioFileError(
                f"AudioLoader: {len(empty)} file(s) hold no samples after offset={self.offset}"
                f" s, e.g. {os.fspath(empty[0])!r}."
            )
        for p, c in zip(paths, clips):
            check_finite(c[None], f"AudioLoader ({os.fspath(p)!r})")
        return clips

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def is_paths(X):
    """True for a 1-D array-like of str / PathLike, False for numeric input."""
    if isinstance(X, (str, os.PathLike)):
        raise ValueError(
            f"Expected a 1-D array-like of paths, got a single path {os.fspath(X)!r}; "
            "wrap it in a list."
        )
    if issparse(X):
        return False
    try:
        arr = np.asarray(X)
    except ValueError:  # ragged nested lists: neither paths nor a waveform matrix
        return False
    if arr.dtype.kind not in "OUS" or arr.ndim != 1 or arr.size == 0:
        return False
    return all(isinstance(p, (str, os.PathLike)) for p in arr.tolist())
