"""Datasets on disk: folders of audio (one sub-folder per label) and CSV manifests.

:func:`load_audio_folder` and :func:`load_manifest` list the files and their labels,
screening each file's header so that unreadable ones are excluded with one warning;
:func:`write_audio_folder` writes clips in the layout that :func:`load_audio_folder`
reads.
"""

import csv
import os
import warnings
from pathlib import Path

import numpy as np

from skmir._files import atomic_write
from skmir._validation import entry_point, refusal
from skmir.io.audio import AUDIO_EXTENSIONS, AudioFileWarning, check_audio_files


def _absolute(path):
    try:
        return str(path.resolve())
    except (RuntimeError, OSError):  # a symbolic link loop: reported by _screen
        return os.path.abspath(path)


def _screen(paths, where, extensions=AUDIO_EXTENSIONS):
    """Drop files that cannot be read as audio, with one warning listing each and why.

    The checks are :func:`check_audio_files`'s cheap ones (header, frame count, last
    frames, finite samples of float files): a listing of thousands of files stays
    fast, and truncated and NaN files never reach training.
    """
    bad_ext = {p for p in paths if Path(p).suffix.lower() not in extensions}
    reasons = dict(check_audio_files([p for p in paths if p not in bad_ext]))
    allowed = f"not an audio file extension (allowed: {', '.join(extensions)})"
    reasons.update({p: allowed for p in bad_ext})
    bad = [(p, reasons[p]) for p in paths if p in reasons]
    if bad:
        lines = "\n".join(f"  {p}: {reason}" for p, reason in bad)
        warnings.warn(
            AudioFileWarning(
                f"Excluded {len(bad)} of {len(paths)} file(s) under {where} that cannot be "
                f"read as audio:\n{lines}", excluded=bad),
            stacklevel=3,
        )
    return [p for p in paths if p not in reasons]


@entry_point
def load_audio_folder(root, extensions=None):
    """List the audio files of a ``root/<label>/<file>`` tree (GTZAN layout).

    Every file in a label folder is checked by :func:`skmir.io.check_audio_files`
    (header, frame count, last frames; every sample of float files): files that are
    not audio, cannot be read, are truncated or hold NaN samples are excluded with
    one :class:`AudioFileWarning` that lists each and why (its ``excluded``
    attribute holds the same list).

    Parameters
    ----------
    root : str or os.PathLike
        Folder with one sub-folder per label.
    extensions : sequence of str or None
        Audio file extensions to accept; None means :data:`AUDIO_EXTENSIONS`.

    Returns
    -------
    paths : ndarray of str, shape (n_files,)
        Sorted by label then file name.
    labels : ndarray of str, shape (n_files,)
        The name of each file's folder.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf, os
    >>> from skmir import load_audio_folder
    >>> root = tempfile.mkdtemp()
    >>> for label in ["jazz", "rock"]:
    ...     os.makedirs(f"{root}/{label}")
    ...     sf.write(f"{root}/{label}/a.wav", np.zeros(100), 8000)
    >>> paths, labels = load_audio_folder(root)
    >>> labels.tolist()
    ['jazz', 'rock']
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(refusal(None, "root", root, "does not exist or is not a "
                                        "folder."))
    if isinstance(extensions, str):  # "wav" is one extension, not the letters w, a, v
        extensions = [extensions]
    allowed = AUDIO_EXTENSIONS if extensions is None else tuple(
        e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
    labels_dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    paths, labels = [], []
    for d in labels_dirs:
        # Hidden files are skipped: editors' and atomic writers' temporary files,
        # macOS's "._" resource forks.
        # Broken links are listed so that the warning names them.
        for f in sorted(p for p in d.rglob("*") if (p.is_file() or p.is_symlink())
                        and not p.name.startswith(".")):
            paths.append(str(f))
            labels.append(d.name)
    if not paths:
        raise ValueError(
            f"No files found in {str(root)!r}: expected the layout root/<label>/<file> "
            f"with audio files ({', '.join(allowed)})."
        )
    keep = set(_screen(paths, repr(str(root)), allowed))
    if not keep:
        raise ValueError(f"None of the {len(paths)} files under {str(root)!r} is readable audio.")
    mask = [p in keep for p in paths]
    return np.asarray(paths)[mask], np.asarray(labels)[mask]


@entry_point
def write_audio_folder(X, y, root, sr=None, *, subtype="PCM_16"):
    """Write clips as a ``root/<label>/<file>.wav`` tree, the layout of
    :func:`skmir.load_audio_folder`.

    Each file is written under a temporary name in its folder and then renamed
    (:func:`skmir._files.atomic_write`), so a reader never sees a half-written file
    and an interrupted call leaves no truncated WAV behind.

    Parameters
    ----------
    X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
        Waveforms in [-1, 1] (e.g. ``make_music(...).data``).
    y : array-like of shape (n_clips,)
        One label per clip, used as its folder name (``str(label)``); use
        ``target_names[target]`` for names rather than class indices. A 2-D
        (multi-label) y is refused: a folder tree holds one label per file.
    root : str or os.PathLike
        Folder to write into (created if needed).
    sr : int or None, default=None
        Sample rate; None uses ``X.sr`` (Waveforms).
    subtype : str, default="PCM_16"
        soundfile subtype, e.g. "PCM_16", "PCM_24" or "FLOAT".

    Returns
    -------
    paths : list of str
        The written files, in the order of X (``<root>/<label>/<label>_<index>.wav``).

    Examples
    --------
    >>> import tempfile
    >>> from skmir import load_audio_folder
    >>> from skmir.datasets import make_music, write_audio_folder
    >>> music = make_music("mode", n_clips=4, duration=2.0, sr=16000, random_state=0)
    >>> root = tempfile.mkdtemp()
    >>> paths = write_audio_folder(music.data, music.target_names[music.target], root)
    >>> paths_read, labels = load_audio_folder(root)
    >>> len(paths_read), sorted(set(labels.tolist()))
    (4, ['major', 'minor'])
    """
    import soundfile as sf

    x_sr = getattr(X, "sr", None)
    if sr is None and x_sr is None:
        raise ValueError(
            "write_audio_folder: sr=None and X carries no sample rate; pass sr=... "
            "(or Waveforms, e.g. make_music(...).data)."
        )
    if sr is not None and x_sr is not None and int(sr) != int(x_sr):
        raise ValueError(
            f"write_audio_folder: sr={sr} but the waveforms are at sr={x_sr}; skmir never "
            f"resamples silently: pass sr={x_sr} or sr=None."
        )
    sr = int(sr if sr is not None else x_sr)
    X = np.asarray(X)
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(
            f"write_audio_folder: y must be 1-D (one label per clip), got shape {y.shape}; a "
            "2-D y (a multi-label indicator matrix such as make_music(task='tags') gives) "
            "cannot be written as one folder per label. Pick one label per clip."
        )
    if X.ndim not in (2, 3) or len(X) != len(y):
        raise ValueError(
            f"write_audio_folder: X must be (n_clips, n_samples) or (n_clips, n_channels, "
            f"n_samples) with one row per label; got X of shape {X.shape} and {len(y)} labels."
        )
    if not np.isfinite(X).all():
        raise ValueError("write_audio_folder: X contains NaN or inf values.")
    peak = float(np.abs(X).max()) if X.size else 0.0
    if subtype.upper().startswith("PCM") and peak > 1.0:
        raise ValueError(
            f"write_audio_folder: X peaks at {peak:.3g} > 1, which {subtype} cannot store "
            "(samples would clip); normalise X or use subtype='FLOAT'."
        )
    labels = [str(v) for v in y.tolist()]
    for lab in set(labels):
        if not lab or lab in (".", "..") or lab.startswith(".") or "/" in lab or os.sep in lab:
            raise ValueError(
                f"write_audio_folder: label {lab!r} cannot be a folder name (it must be "
                "non-empty, not start with '.', and hold no path separator)."
            )
    width = max(4, len(str(len(labels) - 1)))
    paths = []
    for i, (clip, lab) in enumerate(zip(X, labels)):
        folder = os.path.join(os.fspath(root), lab)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"{lab}_{i:0{width}d}.wav")
        with atomic_write(path) as tmp:
            sf.write(tmp, clip.T if clip.ndim == 2 else clip, sr, subtype=subtype, format="WAV")
        paths.append(path)
    return paths


@entry_point
def load_manifest(csv_path):
    """Read a CSV manifest with columns ``path,label[,group]``.

    Relative paths are resolved against the CSV file's folder. Files that cannot be
    read as audio (see :func:`load_audio_folder`) are excluded with one
    :class:`AudioFileWarning`.

    Parameters
    ----------
    csv_path : str or os.PathLike
        The CSV file, with a header row naming at least ``path`` and ``label``.

    Returns
    -------
    paths : ndarray of str
    labels : ndarray of str
    groups : ndarray of str or None
        The ``group`` column (e.g. artist, for honest splits with ``GroupKFold``),
        None when the CSV has none.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from skmir import load_manifest
    >>> root = tempfile.mkdtemp()
    >>> sf.write(f"{root}/a.wav", np.zeros(100), 8000)
    >>> with open(f"{root}/m.csv", "w") as f:
    ...     _ = f.write("path,label,group\\na.wav,jazz,artist1\\n")
    >>> paths, labels, groups = load_manifest(f"{root}/m.csv")
    >>> labels.tolist(), groups.tolist()
    (['jazz'], ['artist1'])
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(refusal(None, "file", csv_path, "does not exist."))
    # utf-8-sig: spreadsheet programs start their CSV exports with a byte-order mark
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = [c.strip().lower() for c in (reader.fieldnames or [])]
        if "path" not in fields or "label" not in fields:
            raise ValueError(refusal(
                None, "file", csv_path, f"a manifest must have a header with columns "
                f"path,label[,group]; found columns {reader.fieldnames}."))
        rows = [{k.strip().lower(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    has_group = "group" in fields
    for column in ("path", "label", "group") if has_group else ("path", "label"):
        empty = [i + 2 for i, r in enumerate(rows) if not r.get(column)]  # line 1: header
        if empty:
            raise ValueError(
                f"Manifest {str(csv_path)!r}: the {column} cell is empty on line(s) "
                f"{', '.join(map(str, empty[:10]))}{' ...' if len(empty) > 10 else ''}; "
                f"every row needs a {column} (an empty label would become a class '')."
            )
    paths = [_absolute(csv_path.parent / r["path"]) for r in rows]
    if not paths:
        raise ValueError(f"Manifest {str(csv_path)!r} lists no files.")
    keep = set(_screen(paths, repr(str(csv_path))))
    idx = [i for i, p in enumerate(paths) if p in keep]
    if not idx:
        raise ValueError(f"None of the {len(paths)} files in {str(csv_path)!r} is readable audio.")
    labels = np.asarray([rows[i]["label"] for i in idx])
    groups = np.asarray([rows[i]["group"] for i in idx]) if has_group else None
    return np.asarray([paths[i] for i in idx]), labels, groups
