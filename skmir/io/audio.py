"""Audio input: decoding files into fixed-length waveforms.

The raw-audio representation of the paper's sec. 3.2: downmixed, resampled, fixed
length. Decoding uses soundfile (WAV, FLAC, OGG/Vorbis, MP3 through libsndfile) and
resampling uses librosa (soxr).
"""

import os
import struct
import sys
import threading
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from tqdm.auto import tqdm

from skmir._validation import (
    NamedRefusals,
    check_finite,
    check_sr,
    check_waveforms,
    entry_point,
    refusal,
    refusals,
)
from skmir.io.lengths import audio_durations, auto_duration

# Listed by extension, then checked by decoding: an .opus or .m4a file the installed
# libsndfile cannot read is excluded with its decoder's reason, not for its name.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aiff", ".aif",
                    ".au")


class AudioFileError(ValueError):
    """A file could not be decoded as audio; the message names the file and why.

    Attributes
    ----------
    path : str or None
        The file.
    reason : str or None
        Why it cannot be read, e.g. ``"truncated: ..."``.
    """

    def __init__(self, message, path=None, reason=None):
        super().__init__(message)
        self.path = path
        self.reason = reason


class AudioFileWarning(UserWarning):
    """Files were excluded from a dataset because they could not be read as audio.

    Attributes
    ----------
    excluded : list of (str, str)
        Each excluded file and the reason, as :func:`check_audio_files` returns them.
    """

    def __init__(self, message, excluded=()):
        super().__init__(message)
        self.excluded = list(excluded)


# Sample formats that can hold NaN or inf; integer PCM, FLAC and the lossy codecs
# decode to finite samples by construction.
_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
# mpg123 counts an MP3's frames from its Xing/LAME header or, without one, from the
# file size: allow two MPEG frames of slack before calling a file truncated.
_MPEG_SLACK = 2 * 1152
_TAIL = 4096
# Bytes per sample of the AU encodings libsndfile reads
_AU_SAMPLE_BYTES = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 4, 7: 8, 27: 1}


def _chunks(f, order):
    """(id, size, offset of the data) of the chunks of a RIFF/IFF body, in order."""
    while True:
        head = f.read(8)
        if len(head) < 8:
            return
        size = struct.unpack(order + "I", head[4:])[0]
        start = f.tell()
        yield head[:4], size, start
        f.seek(start + size + (size % 2))  # chunks are padded to an even size


def _declared_frames(path):
    """The frame count that a WAV, AIFF or AU header announces, or None.

    libsndfile trusts the file length over the header of these formats: a WAV cut
    short decodes to its remaining samples with no error, and ``soundfile.info``
    reports the shorter count. The header keeps the count that was written. None
    for other formats and for streamed headers that leave the size unset.
    """
    with open(path, "rb") as f:
        head = f.read(12)
        if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
            order = "<" if head[:4] == b"RIFF" else ">"
            block = None
            for cid, size, start in _chunks(f, order):
                if cid == b"fmt ":
                    f.seek(start + 12)
                    raw = f.read(2)
                    block = struct.unpack(order + "H", raw)[0] if len(raw) == 2 else None
                elif cid == b"data":
                    # 0 and 0xFFFFFFFF: written by a stream that never knew its length
                    if not block or size in (0, 0xFFFFFFFF):
                        return None
                    return size // block
            return None
        if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            for cid, _, start in _chunks(f, ">"):
                if cid == b"COMM":
                    f.seek(start + 2)
                    raw = f.read(4)
                    return struct.unpack(">I", raw)[0] if len(raw) == 4 else None
            return None
        if head[:4] == b".snd":
            f.seek(0)
            raw = f.read(24)
            if len(raw) < 24:
                return None
            _, size, encoding, _, channels = struct.unpack(">5I", raw[4:24])
            width = _AU_SAMPLE_BYTES.get(encoding)
            if size == 0xFFFFFFFF or not width or not channels:
                return None
            return size // (width * channels)
    return None


_MUTED = {"lock": threading.Lock(), "depth": 0, "saved": None, "sink": None}


@contextmanager
def _decoder_messages_muted():
    """Send the C decoders' own messages to /dev/null while a file is open.

    libmpg123 (inside libsndfile) prints a line such as ``[src/libmpg123/layer3.c:...]
    error: part2_3_length (128) too large for available bit count`` to the process's
    standard error (file descriptor 2, out of Python's reach) whenever it resyncs over
    an MP3 frame, about twenty per folder of MP3s, although the files decode fine; a
    file that really cannot be read makes libsndfile raise, and skmir reports it, once
    and by name. Descriptor 2 is shared by the process: the first file to open mutes
    it, the last to close restores it, so threads that read files at once do not undo
    each other (anything else written to it meanwhile is muted too)."""
    state = _MUTED
    with state["lock"]:
        if state["depth"] == 0:
            try:
                sys.stderr.flush()
                state["saved"] = os.dup(2)
                state["sink"] = os.open(os.devnull, os.O_WRONLY)
                os.dup2(state["sink"], 2)
            except (OSError, ValueError, AttributeError):  # no descriptor 2 to mute
                state["saved"] = None
        state["depth"] += 1
    try:
        yield
    finally:
        with state["lock"]:
            state["depth"] -= 1
            if state["depth"] == 0 and state["saved"] is not None:
                os.dup2(state["saved"], 2)
                os.close(state["saved"])
                os.close(state["sink"])
                state["saved"] = None


def _seconds(frames, sr):
    return f"{frames} frames ({frames / sr:.2f} s)"


def _integrity_problem(f, path):
    """Why an open SoundFile is truncated, or None; cheap: the header and the last
    few thousand frames, never the whole file."""
    declared = _declared_frames(path)
    if declared is not None:
        if f.frames < declared:
            return (f"truncated: its header announces {_seconds(declared, f.samplerate)} "
                    f"but the file holds {_seconds(f.frames, f.samplerate)}")
        return None
    if f.frames <= 0 or not f.seekable():
        return None
    # Compressed formats (FLAC, MP3, ...) count their frames in the header: a file
    # cut short fails to seek to, or decode, its last frames.
    tail = min(f.frames, _TAIL)
    try:
        f.seek(f.frames - tail)
        got = len(f.read(tail, dtype="float32", always_2d=True))
    except Exception:  # libsndfile: "Internal psf_fseek() failed", "lost sync", ...
        got = 0
    finally:
        try:
            f.seek(0)
        except Exception:
            pass
    slack = _MPEG_SLACK if f.format == "MPEG" else 0
    if got < tail - slack:
        return (f"truncated or corrupt: its header announces "
                f"{_seconds(f.frames, f.samplerate)} but its last frames cannot be decoded")
    return None


def _file_problem(path, decode=False):
    """None if the file reads as audio, else why not (see :func:`check_audio_files`)."""
    import soundfile as sf

    path = os.fspath(path)
    if not os.path.exists(path):  # soundfile would only say "System error"
        return "a broken symbolic link (or a link loop)" if os.path.islink(path) else "no such file"
    if os.path.isdir(path):
        return "a folder, not a file"
    if os.path.getsize(path) == 0:
        return "an empty file (0 bytes)"
    try:
        with _decoder_messages_muted(), sf.SoundFile(path) as f:
            problem = _integrity_problem(f, path)
            if f.frames == 0 and not problem:
                return "holds no samples"
            if problem or not (decode or f.subtype in _FLOAT_SUBTYPES):
                return problem
            read = 0
            for block in f.blocks(65536, dtype="float32", always_2d=True):
                if not np.isfinite(block).all():
                    at = read + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
                    return f"holds NaN or inf samples (first at {at / f.samplerate:.2f} s)"
                read += len(block)
            slack = _MPEG_SLACK if f.format == "MPEG" else 0
            if read < f.frames - slack:
                return (f"truncated: its header announces {_seconds(f.frames, f.samplerate)}"
                        f" but decoding stops after {_seconds(read, f.samplerate)}")
    except Exception as exc:  # libsndfile reports every decoding failure as its own type
        return _decoding_error(exc)
    return None


def _decoding_error(exc):
    """libsndfile's message without the "Error opening '<path>': " that repeats the path."""
    text = str(exc).strip()
    if text.startswith("Error opening ") and "': " in text:
        text = text.split("': ", 1)[1]
    return text.removeprefix("Error : ").rstrip(".") or type(exc).__name__


@entry_point
def check_audio_files(paths, *, decode=False, n_jobs=None, verbose=0):
    """Find the files that cannot be read as audio, and say why.

    What :func:`skmir.load_audio_folder` and :func:`skmir.load_manifest` run on every
    file they list (``decode=False``), and what :func:`skmir.compare` and
    ``skmir compare`` run before training (``decode=True``), so that one bad file
    among thousands is excluded and named instead of aborting a run.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The files.
    decode : bool, default=False
        False: cheap checks, about 0.1-0.3 ms a file: the file exists and is not
        empty, libsndfile opens it and finds samples, its header's frame count
        matches the samples present (WAV, AIFF, AU) or its last frames decode (FLAC,
        MP3, OGG), and, for float WAV/AIFF files (the only ones that can store NaN),
        every sample is finite. True also decodes every sample of every file, which
        finds corruption inside compressed files (about 10 ms for 30 s of FLAC).
    n_jobs : int or None, default=None
        Files checked in parallel threads (None means 1).
    verbose : int, default=0
        Show a progress bar when > 0.

    Returns
    -------
    bad : list of (str, str)
        Each file that cannot be read and why, in the order of ``paths``.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from skmir.io import check_audio_files
    >>> root = tempfile.mkdtemp()
    >>> sf.write(f"{root}/good.wav", np.zeros(8000), 8000)
    >>> sf.write(f"{root}/nan.wav", np.full(8000, np.nan), 8000, subtype="FLOAT")
    >>> data = open(f"{root}/good.wav", "rb").read()
    >>> _ = open(f"{root}/cut.wav", "wb").write(data[:len(data) // 2])
    >>> for path, why in check_audio_files([f"{root}/{n}.wav" for n in ["good", "nan", "cut"]]):
    ...     print(path.rsplit("/", 1)[1], "-", why.split(" but ")[0])
    nan.wav - holds NaN or inf samples (first at 0.00 s)
    cut.wav - truncated: its header announces 8000 frames (1.00 s)
    """
    paths = [os.fspath(p) for p in paths]
    progress = tqdm(paths, desc="checking audio files", disable=not verbose, unit="file")
    reasons = Parallel(n_jobs=n_jobs, prefer="threads")(
        delayed(_file_problem)(p, decode) for p in progress)
    return [(p, r) for p, r in zip(paths, reasons) if r]



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
        if isinstance(sr, bool) or not isinstance(sr, Integral | np.integer) or sr < 1:
            raise ValueError(refusal("Waveforms", "sr", sr, "the sample rate in Hz, an "
                                     "integer >= 1."))
        with refusals("Waveforms"):
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


@entry_point
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
        The file exists but cannot be decoded, is truncated (fewer samples than its
        header announces) or holds NaN or inf samples; the message names it and
        says why.

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
        raise FileNotFoundError(refusal(None, "file", path, "does not exist."))
    for name, value in (("offset", offset), ("duration", duration)):
        if value is not None and value < 0:
            raise ValueError(refusal(None, name, value, "seconds, >= 0."))
    advice = ("re-export or re-download it, or leave it out (load_audio_folder, "
              "load_manifest and compare exclude such files with a warning)")
    try:
        with _decoder_messages_muted(), sf.SoundFile(path) as f:
            native_sr = f.samplerate
            problem = _integrity_problem(f, path)
            if problem is None:
                start = min(int(round(offset * native_sr)), f.frames)
                if start:
                    f.seek(start)
                frames = -1 if duration is None else int(round(duration * native_sr))
                expected = f.frames - start if frames < 0 else min(frames, f.frames - start)
                y = f.read(frames=frames, dtype="float32", always_2d=True).T
                slack = _MPEG_SLACK if f.format == "MPEG" else 0
                if y.shape[1] < expected - slack:
                    problem = (f"truncated: its header announces "
                               f"{_seconds(f.frames, native_sr)} but decoding stops after "
                               f"{_seconds(start + y.shape[1], native_sr)}")
    except Exception as exc:  # libsndfile reports every decoding failure as its own type
        reason = _decoding_error(exc)
        raise AudioFileError(refusal(None, "file", path,
                                     f"cannot be decoded ({reason}); {advice}."),
                             path=path, reason=reason) from exc
    if problem is not None:
        raise AudioFileError(refusal(None, "file", path, f"is {problem}; {advice}."),
                             path=path, reason=problem)
    if not np.isfinite(y).all():
        at = int(np.flatnonzero(~np.isfinite(y).all(axis=0))[0])
        reason = f"holds NaN or inf samples (first at {at / native_sr:.2f} s)"
        raise AudioFileError(refusal(None, "file", path, f"{reason}; {advice}."), path=path,
                             reason=reason)
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


class AudioLoader(NamedRefusals, TransformerMixin, BaseEstimator):
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
        Length of every output clip in seconds: files are read from ``offset`` for
        this long, and zero-padded when shorter. None fixes it at ``fit`` to the
        longest fitted file, capped at 10 s (:func:`skmir.io.auto_duration`, from
        the headers), so that training and test clips share one length whatever
        the number of files in a call; decoded waveforms keep their length.
        ``transform`` before ``fit`` takes it from the files it is given.
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
    duration_ : float
        The clip length in seconds: ``duration``, or the one chosen at ``fit``.
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
        if is_paths(X):
            self.duration_ = self.duration or auto_duration(
                audio_durations(np.asarray(X).tolist(), self.offset))
        else:
            x_sr = getattr(X, "sr", None) or self.sr
            X = check_waveforms(self, X, reset=True, sr=None if self.resample else self.sr)
            self.duration_ = self.duration or X.shape[-1] / x_sr
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
            paths = list(np.asarray(X).tolist())
            duration = self.duration or getattr(self, "duration_", None) or auto_duration(
                audio_durations(paths, self.offset))
            clips = self._load_files(paths, duration)
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
            if self.duration is not None:
                clips = _fix_length(clips, int(round(self.duration * self.sr)))
            return Waveforms(clips, self.sr)
        channels = {c.shape[0] for c in clips if c.ndim == 2}
        if not self.mono and (len(channels) > 1 or any(c.ndim == 1 for c in clips)):
            raise ValueError(
                "AudioLoader(mono=False): the files have different numbers of channels "
                f"({sorted(channels | ({1} if any(c.ndim == 1 for c in clips) else set()))}); "
                "use mono=True to downmix them."
            )
        if not self.mono and not channels:  # all files are mono: keep a channel axis
            clips = [c[None] for c in clips]
        out = np.zeros((len(clips), *clips[0].shape[:-1], int(round(duration * self.sr))),
                       np.float32)
        for i, c in enumerate(clips):
            out[i] = _fix_length(c, out.shape[-1])
        return Waveforms(out, self.sr)

    def _load_files(self, paths, duration):
        if len(paths) == 0:
            raise ValueError("AudioLoader: X is an empty list of paths; pass at least one file.")
        jobs = (
            delayed(load_audio)(p, sr=self.sr, mono=self.mono, offset=self.offset,
                                duration=duration)
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
