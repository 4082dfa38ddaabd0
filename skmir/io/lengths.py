"""Clip length: the one rule that decides it when the user does not, and its report.

A model needs clips of one length, a folder holds files of many. Without a
``duration``, :class:`~skmir.AudioLoader` (at ``fit``), every pipeline factory and
``skmir compare`` take the length of the longest file, capped at
:data:`MAX_AUTO_DURATION` seconds: files of one length (a generated dataset, a
folder of 3-s one-shots) lose nothing, and a folder of songs gives 10-s excerpts
from their start (the AudioSet convention) instead of padding every clip with zeros
to the longest song, which buries short clips in silence and multiplies memory.
"""

import os

import numpy as np

from skmir._validation import entry_point

# 10 s: AudioSet's clip length, and long enough for the sec. 4 networks' 3-s patches.
MAX_AUTO_DURATION = 10.0
# A clip more than half zeros is "mostly padding"; a file cut to less than half of
# itself is "mostly cropped".
_HALF = 0.5


@entry_point
def audio_durations(paths, offset=0.0):
    """Seconds of audio in each file after ``offset``, read from the headers only.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The files.
    offset : float, default=0.0
        Seconds skipped at the start of each file.

    Returns
    -------
    durations : ndarray of float, shape (n_files,)
        NaN for a file whose header cannot be read (decoding it reports why).

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from skmir.io import audio_durations
    >>> path = tempfile.mkdtemp() + "/a.wav"
    >>> sf.write(path, np.zeros(12000), 8000)
    >>> audio_durations([path], offset=0.5)
    array([1.])
    """
    import soundfile as sf

    out = np.full(len(paths), np.nan)
    for i, path in enumerate(paths):
        try:
            out[i] = max(sf.info(os.fspath(path)).duration - offset, 0.0)
        except Exception:  # libsndfile raises its own types; load_audio names the problem
            pass
    return out


@entry_point
def auto_duration(durations):
    """The clip length, in seconds, used when none is given.

    The longest of ``durations``, capped at :data:`MAX_AUTO_DURATION`.

    Parameters
    ----------
    durations : array-like of float
        Seconds of each file (NaN entries are ignored).

    Returns
    -------
    duration : float

    Examples
    --------
    >>> from skmir.io import auto_duration
    >>> auto_duration([1.0, 2.5]), auto_duration([1.0, 60.0])
    (2.5, 10.0)
    """
    durations = np.asarray(durations, dtype=float)
    if durations.size == 0 or np.isnan(durations).all():
        return MAX_AUTO_DURATION
    return float(min(np.nanmax(durations), MAX_AUTO_DURATION))


@entry_point
def describe_lengths(durations, duration):
    """What cropping and padding to ``duration`` seconds does to files of ``durations``.

    Parameters
    ----------
    durations : array-like of float
        Seconds of each file (NaN entries are ignored).
    duration : float
        The clip length.

    Returns
    -------
    summary : str
        One line: the length distribution and how many files are cropped or padded.
    warning : str or None
        Set when more than a quarter of the clips are mostly zero padding, or more
        than half of the files lose more than half of their audio.

    Examples
    --------
    >>> from skmir.io import describe_lengths
    >>> summary, warning = describe_lengths([1.0, 2.0, 30.0, 60.0], 10.0)
    >>> print(summary)
    4 files, 1.0-60.0 s (median 16.0 s): 2 cropped to 10 s, 2 zero-padded (2 over half)
    >>> print(warning)
    2 of 4 clips are over half zero padding: pass a shorter duration or drop short files
    """
    d = np.asarray(durations, dtype=float)
    d = d[~np.isnan(d)]
    if d.size == 0:
        return f"clip length {duration:g} s", None
    n, cropped, padded = d.size, int((d > duration).sum()), int((d < duration).sum())
    mostly_pad = int((d < _HALF * duration).sum())
    mostly_cut = int((d * _HALF > duration).sum())
    summary = (f"{n} files, {d.min():.1f}-{d.max():.1f} s (median {np.median(d):.1f} s): "
               f"{cropped} cropped to {duration:g} s, {padded} zero-padded "
               f"({mostly_pad} over half)")
    warning = None
    if mostly_pad > n / 4:
        warning = (f"{mostly_pad} of {n} clips are over half zero padding: pass a shorter "
                   "duration or drop short files")
    elif mostly_cut > n / 2:
        warning = (f"{mostly_cut} of {n} files keep less than half of their audio: pass a "
                   "longer duration to use more of each file")
    return summary, warning


__all__ = ["MAX_AUTO_DURATION", "audio_durations", "auto_duration", "describe_lengths"]
