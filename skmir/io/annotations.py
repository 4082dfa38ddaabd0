"""Annotation files, in the formats MIR tools read: chord ``.lab`` files, f0 CSV, MIDI
notes and beat files.

Each writer takes events in mir_eval's formats (what the ready estimators'
``predict_events`` return, see :mod:`skmir.annotation`) and writes its file
atomically, so an interrupted run never leaves a file that reads as whole.

- :func:`write_lab`: ``start end label`` per line, tab-separated, times in seconds
  (the ``.lab`` format of Isophonics and MIREX, which ``mir_eval.io.load_labeled_intervals``
  reads);
- :func:`write_f0_csv`: ``time,frequency`` (and ``confidence`` when given) per frame,
  with a header, as CREPE writes it; 0 Hz marks an unvoiced frame (mir_eval.melody);
- :func:`write_midi`: one instrument of notes, through pretty_midi;
- :func:`write_beats`: ``time position`` per beat, tab-separated, madmom's ``.beats``
  format (position 1 is a downbeat), which ``mir_eval.io.load_labeled_events`` and
  madmom's ``load_beats`` read.
"""

from pathlib import Path

import numpy as np

from skmir._files import atomic_write, atomic_write_text
from skmir._validation import entry_point, refusal

__all__ = ["write_beats", "write_f0_csv", "write_lab", "write_midi"]


def _checked_intervals(intervals, n, owner):
    intervals = np.asarray(intervals, dtype=float).reshape(-1, 2)
    if len(intervals) != n:
        raise ValueError(refusal(owner, "intervals", intervals,
                                 f"one (start, end) row per event: {n} event(s) given."))
    if len(intervals) and (not np.isfinite(intervals).all() or (intervals[:, 0] < 0).any()
                           or (intervals[:, 1] < intervals[:, 0]).any()):
        raise ValueError(refusal(owner, "intervals", intervals,
                                 "finite times in seconds, 0 <= start <= end."))
    return intervals


@entry_point
def write_lab(path, intervals, labels):
    """Write chord (or any labelled) segments as a ``.lab`` file.

    Parameters
    ----------
    path : path-like
    intervals : array-like of shape (n_segments, 2)
        Start and end of each segment in seconds.
    labels : sequence of str
        One label per segment (e.g. Harte chord labels).

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, mir_eval
    >>> from skmir.io.annotations import write_lab
    >>> path = write_lab(tempfile.mkdtemp() + "/song.lab", [[0, 1.5], [1.5, 3]],
    ...                  ["C:maj", "A:min"])
    >>> mir_eval.io.load_labeled_intervals(str(path))[1]
    ['C:maj', 'A:min']
    """
    labels = [str(label) for label in labels]
    intervals = _checked_intervals(intervals, len(labels), "write_lab")
    for label in labels:
        if not label or any(c.isspace() for c in label):
            raise ValueError(refusal("write_lab", "labels", label,
                                     "non-empty labels without white space."))
    text = "".join(f"{a:.6f}\t{b:.6f}\t{label}\n"
                   for (a, b), label in zip(intervals, labels, strict=True))
    atomic_write_text(path, text)
    return Path(path)


@entry_point
def write_f0_csv(path, times, f0, confidence=None):
    """Write an f0 track as CSV: ``time,frequency[,confidence]`` per frame.

    Parameters
    ----------
    path : path-like
    times : array-like of shape (n_frames,)
        Frame times in seconds, increasing.
    f0 : array-like of shape (n_frames,)
        Frequency in Hz; 0 (or NaN, written as 0) where the frame is unvoiced.
    confidence : array-like of shape (n_frames,) or None, default=None
        E.g. CREPE's periodicity.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from skmir.io.annotations import write_f0_csv
    >>> path = write_f0_csv(tempfile.mkdtemp() + "/song.f0.csv", [0.0, 0.01], [440.0, 0.0])
    >>> print(path.read_text().strip())
    time,frequency
    0.000000,440.000
    0.010000,0.000
    """
    times = np.asarray(times, dtype=float).ravel()
    f0 = np.nan_to_num(np.asarray(f0, dtype=float).ravel(), nan=0.0)
    columns = [times, f0] if confidence is None else [
        times, f0, np.asarray(confidence, dtype=float).ravel()]
    if len({len(c) for c in columns}) != 1:
        raise ValueError(refusal("write_f0_csv", "f0", f0, f"one value per time: "
                                 f"{len(times)} times given."))
    if len(times) > 1 and not (np.diff(times) > 0).all():
        raise ValueError(refusal("write_f0_csv", "times", times, "increasing times."))
    if (f0 < 0).any() or not np.isfinite(f0).all():
        raise ValueError(refusal("write_f0_csv", "f0", f0, "frequencies >= 0 Hz."))
    if confidence is None:
        rows = ["time,frequency"] + [f"{t:.6f},{f:.3f}" for t, f in zip(times, f0)]
    else:
        rows = ["time,frequency,confidence"] + [
            f"{t:.6f},{f:.3f},{c:.6f}" for t, f, c in zip(*columns, strict=True)]
    atomic_write_text(path, "\n".join(rows) + "\n")
    return Path(path)


@entry_point
def write_midi(path, intervals, pitches, velocities=None, *, program=0):
    """Write notes as a MIDI file (one instrument), through pretty_midi.

    Parameters
    ----------
    path : path-like
    intervals : array-like of shape (n_notes, 2)
        Onset and offset of each note in seconds.
    pitches : array-like of shape (n_notes,)
        Frequencies in Hz (mir_eval.transcription's format), rounded to the nearest
        MIDI note.
    velocities : array-like of shape (n_notes,) or None, default=None
        MIDI velocities 1..127; None: 100.
    program : int, default=0
        General MIDI program (0: acoustic grand piano).

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pretty_midi
    >>> from skmir.io.annotations import write_midi
    >>> path = write_midi(tempfile.mkdtemp() + "/song.mid", [[0.0, 0.5]], [440.0], [90])
    >>> [(n.pitch, n.velocity) for n in pretty_midi.PrettyMIDI(str(path)).instruments[0].notes]
    [(69, 90)]
    """
    import pretty_midi

    pitches = np.asarray(pitches, dtype=float).ravel()
    intervals = _checked_intervals(intervals, len(pitches), "write_midi")
    if (pitches <= 0).any() or not np.isfinite(pitches).all():
        raise ValueError(refusal("write_midi", "pitches", pitches, "frequencies > 0 Hz."))
    velocities = np.full(len(pitches), 100) if velocities is None else np.clip(
        np.round(np.asarray(velocities, dtype=float).ravel()), 1, 127).astype(int)
    midi = pretty_midi.PrettyMIDI()
    instrument = pretty_midi.Instrument(program=program)
    for (start, end), hz, velocity in zip(intervals, pitches, velocities, strict=True):
        note = int(np.clip(np.round(pretty_midi.hz_to_note_number(hz)), 0, 127))
        instrument.notes.append(pretty_midi.Note(velocity=int(velocity), pitch=note,
                                                 start=float(start), end=float(end)))
    midi.instruments.append(instrument)
    with atomic_write(path) as tmp:
        midi.write(str(tmp))
    return Path(path)


@entry_point
def write_beats(path, beats, downbeats=()):
    """Write beats as a ``.beats`` file: ``time<TAB>position`` per beat.

    madmom's format for beats with downbeats: the position of a beat in its bar, 1 at
    each downbeat, then 2, 3, ... up to the next downbeat; beats before the first
    downbeat, whose bar is not known, get position 0. ``mir_eval.io.load_labeled_events``
    reads it (times and positions as labels), as does madmom's ``load_beats``.

    Parameters
    ----------
    path : path-like
    beats : array-like of shape (n_beats,)
        Every beat's time in seconds, downbeats included, increasing (mir_eval.beat's
        format, what :meth:`skmir.BeatTracker.predict_events` returns).
    downbeats : array-like of shape (n_downbeats,), default=()
        The downbeats among them.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, mir_eval
    >>> from skmir.io.annotations import write_beats
    >>> path = write_beats(tempfile.mkdtemp() + "/song.beats", [0.2, 0.7, 1.2, 1.7, 2.2],
    ...                    [0.7, 2.2])
    >>> path.read_text().splitlines()[:2]
    ['0.200000\\t0', '0.700000\\t1']
    >>> mir_eval.io.load_labeled_events(str(path))[1]
    ['0', '1', '2', '3', '1']
    """
    beats = np.asarray(beats, dtype=float).ravel()
    downbeats = np.asarray(downbeats, dtype=float).ravel()
    if not np.isfinite(beats).all() or (beats < 0).any() \
            or (len(beats) > 1 and not (np.diff(beats) > 0).all()):
        raise ValueError(refusal("write_beats", "beats", beats,
                                 "increasing finite times in seconds, >= 0."))
    is_down = np.isin(beats, downbeats)
    if is_down.sum() != len(np.unique(downbeats)):
        raise ValueError(refusal("write_beats", "downbeats", downbeats,
                                 "times among the beats (every downbeat is a beat)."))
    positions, position = [], 0
    for down in is_down:
        position = 1 if down else (position + 1 if position else 0)
        positions.append(position)
    atomic_write_text(path, "".join(f"{t:.6f}\t{k}\n" for t, k in zip(beats, positions)))
    return Path(path)
