"""Building a feature store: :func:`build_store` runs a front end chunk by chunk.

The format is described in :mod:`skmir.store`; reading it back is
:class:`skmir.store.FeatureStore`.
"""

import json
import os
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from tqdm.auto import tqdm

from skmir._files import atomic_write, atomic_write_text, sha256
from skmir._validation import entry_point
from skmir._version import __version__
from skmir.io import AudioFileError, AudioFileWarning, is_paths, load_manifest
from skmir.store.format import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ROWS,
    chunk_ok,
    read_manifest,
    rows_digest,
)
from skmir.store.lock import build_lock
from skmir.store.read import FeatureStore

# A file that cannot be decoded; anything else a front end raises is a bug to see.
_FILE_ERRORS = (AudioFileError, OSError)


def _jsonable(value):
    """A JSON value for a parameter: plain values as they are, anything else by repr."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, float) or isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)


def _describe(frontend):
    """What identifies a front end: class, parameters and its fitted state's hash."""
    params = frontend.get_params(deep=True) if hasattr(frontend, "get_params") else {}
    kind = type(frontend)
    return {
        "class": f"{kind.__module__}.{kind.__qualname__}",
        "repr": repr(frontend),
        "params": json.loads(json.dumps(_jsonable(params))),
        # The parameters miss the fitted state (a network's weights, a scaler's
        # statistics): two front ends with the same parameters may differ.
        "fingerprint": _hash(frontend, f"{kind.__qualname__} (cannot be pickled)"),
    }


def _hash(obj, fallback):
    """joblib.hash of an object, or ``fallback`` for one that cannot be pickled (a
    lambda, an h5py dataset): then its parameters or shape identify it."""
    import joblib

    try:
        return joblib.hash(obj)
    except Exception:  # pickling errors have no common type
        return fallback


def _column(values, name, n):
    """A per-row column (labels, groups) as JSON, or None."""
    if values is None:
        return None
    arr = np.asarray(values)
    if len(arr) != n:
        raise ValueError(f"build_store: {name} has {len(arr)} rows but X has {n} clips.")
    if arr.dtype.kind not in "biufUS" and not all(
            isinstance(v, (str, int, float, bool, np.generic)) for v in arr.ravel().tolist()):
        raise ValueError(
            f"build_store: {name} must hold numbers or strings (it is stored as JSON); "
            f"got dtype {arr.dtype}."
        )
    if arr.dtype.kind == "S":
        arr = arr.astype(str)
    dtype = arr.dtype.str if arr.dtype.kind != "O" else None
    return {"values": arr.tolist(), "dtype": dtype}


def _as_input(X, y, groups):
    """(X, paths or None, y, groups): a manifest CSV read, paths as a list."""
    if isinstance(X, (str, os.PathLike)) and str(X).lower().endswith(".csv"):
        paths, labels, manifest_groups = load_manifest(X)
        return list(paths), list(paths), labels if y is None else y, \
            manifest_groups if groups is None else groups
    # Only what can hold paths is asked: np.asarray of a lazy array would read it all.
    if isinstance(X, (list, tuple)) or hasattr(X, "iloc") or (
            isinstance(X, np.ndarray) and X.dtype.kind in "OUS"):
        if is_paths(X):
            paths = [os.fspath(p) for p in np.asarray(X).tolist()]
            return paths, paths, y, groups
        X = np.asarray(X)
    if not hasattr(X, "__len__") or not hasattr(X, "__getitem__"):
        raise ValueError(
            "build_store: X must be a list of audio files, a manifest CSV "
            "(columns path,label[,group]) or an array of clips; got "
            f"{type(X).__name__}."
        )
    return X, None, y, groups


def _transform(frontend, X):
    return np.asarray(frontend.transform(X), dtype=np.float32)


def _bad_rows(out):
    """Rows of a front end's output that hold NaN or inf."""
    return np.flatnonzero(~np.isfinite(out.reshape(len(out), -1)).all(axis=1))


def _check_tail(shape, tail, start):
    if tuple(shape) != tuple(tail):
        raise ValueError(
            f"build_store: the front end gives clips of shape {tuple(shape)} from row "
            f"{start} on, but {tuple(tail)} for the first clip; a store holds clips of "
            "one shape. Give every clip the same length (e.g. AudioLoader(duration=...))."
        )


def _compute_chunk(frontend, X, start, tail):
    """The front end's output for one chunk, and the rows it could not compute.

    The whole chunk goes through the front end at once; only when a file in it
    cannot be decoded is it redone clip by clip, to find which.
    """
    try:
        out = _transform(frontend, X)
    except _FILE_ERRORS:
        out = None
    bad = {}
    if out is None:
        out = np.zeros((len(X), *tail), np.float32)
        for i in range(len(X)):
            try:
                row = _transform(frontend, X[i:i + 1])
            except _FILE_ERRORS as exc:
                bad[start + i] = str(exc).strip() or type(exc).__name__
                continue
            _check_tail(row.shape[1:], tail, start + i)
            out[i] = row[0]
    else:
        _check_tail(out.shape[1:], tail, start)
        if len(out) != len(X):
            raise ValueError(
                f"build_store: the front end returned {len(out)} rows for {len(X)} clips; "
                "a front end must give one row per clip."
            )
    for i in _bad_rows(out):
        bad[start + int(i)] = "the front end's output holds NaN or inf"
        out[i] = 0.0
    return start, out, bad


def _probe(frontend, X):
    """The per-clip output shape, from the first clip the front end can compute."""
    reasons = []
    for i in range(len(X)):
        try:
            return _transform(frontend, X[i:i + 1]).shape[1:]
        except _FILE_ERRORS as exc:
            reasons.append(f"  row {i}: {exc}")
            if len(reasons) >= 20:
                break
    raise ValueError(
        f"build_store: the front end could not compute any of the first {len(reasons)} "
        "clip(s):\n" + "\n".join(reasons)
    )


def _chunk_name(k):
    return f"chunk-{k:05d}.npy"


def _write_manifest(root, manifest):
    atomic_write_text(root / MANIFEST, json.dumps(manifest, indent=1) + "\n")


def _identity(manifest):
    """What must match for a rerun to continue a store."""
    return {
        "chunk_size": manifest["chunk_size"],
        "n_clips": manifest["shape"][0],
        "front end parameters": manifest["frontend"]["params"],
        "front end class": manifest["frontend"]["class"],
        "front end fitted state (joblib.hash)": manifest["frontend"]["fingerprint"],
        "paths, labels and groups (rows.json)": manifest["rows"]["sha256"],
        "input clips": manifest["input"],
    }


def _start(root, frontend, X, chunk_size, identity_input, rows_text):
    """The manifest of the store at ``root``: the existing one, checked against these
    arguments, or a new one (the first clip probed for the shape); and the per-clip
    shape. ``rows.json`` is (re)written when missing or damaged."""
    n = len(X)
    rows = {"file": ROWS, "sha256": rows_digest(rows_text.encode("utf-8"))}
    described = _describe(frontend)
    if (root / MANIFEST).is_file():
        manifest = read_manifest(root, "build_store", "delete the folder to rebuild it, "
                                 "or pass a new or empty folder.")
        wanted = dict(manifest, chunk_size=chunk_size, frontend=described,
                      input=identity_input, shape=[n, *manifest["shape"][1:]], rows=rows)
        old, new = _identity(manifest), _identity(wanted)
        differ = [key for key in old if old[key] != new[key]]
        if differ:
            raise ValueError(
                f"build_store: the store at {str(root)!r} was built with other arguments "
                f"(they differ in: {', '.join(differ)}). Pass another path, or delete "
                "this store to rebuild it."
            )
        tail = tuple(manifest["shape"][1:])
    else:
        if any(p.name not in (ROWS,) and not p.name.startswith((".", "chunk-"))
               for p in root.iterdir()):
            raise ValueError(
                f"build_store: {str(root)!r} exists and is not a feature store (no "
                f"{MANIFEST}); pass a new or empty folder."
            )
        tail = tuple(int(s) for s in _probe(frontend, X))
        atomic_write_text(root / ROWS, rows_text)
        n_chunks = -(-n // chunk_size)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "skmir_version": __version__,
            "shape": [n, *tail],
            "dtype": "float32",
            "chunk_size": chunk_size,
            "frontend": described,
            "input": identity_input,
            "rows": rows,
            "chunks": [{"file": _chunk_name(k), "start": k * chunk_size,
                        "stop": min(n, (k + 1) * chunk_size), "status": "pending",
                        "sha256": None, "bad": {}} for k in range(n_chunks)],
            "complete": False,
        }
        _write_manifest(root, manifest)
    file = root / ROWS
    if not file.is_file() or rows_digest(file.read_bytes()) != rows["sha256"]:
        atomic_write_text(file, rows_text)  # lost or damaged: it is rewritten whole
    return manifest, tail


def _fill(root, manifest, frontend, X, tail, n_jobs, verbose):
    """Compute and write the chunks that are not finished and whole; return the rows
    that could not be computed, with the reasons."""
    chunks, chunk_size = manifest["chunks"], manifest["chunk_size"]
    todo = [k for k, entry in enumerate(chunks) if not chunk_ok(root, entry)]
    damaged = [chunks[k]["file"] for k in todo if chunks[k]["status"] == "done"]
    if damaged:
        warnings.warn(
            f"build_store: {len(damaged)} finished chunk(s) of {str(root)!r} are missing or "
            f"damaged (SHA-256 mismatch) and are recomputed: {', '.join(damaged[:10])}",
            UserWarning, stacklevel=3,
        )
    for k in todo:
        chunks[k].update(status="pending", sha256=None, bad={})
    if todo or not manifest["complete"]:
        manifest["complete"] = False
        _write_manifest(root, manifest)

    bar = tqdm(total=len(chunks), initial=len(chunks) - len(todo), desc="build_store",
               unit="chunk", disable=not verbose)
    jobs = (delayed(_compute_chunk)(frontend, X[chunks[k]["start"]:chunks[k]["stop"]],
                                    chunks[k]["start"], tail) for k in todo)
    new_bad = {}
    try:
        for start, out, bad in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
            k = start // chunk_size
            file = root / chunks[k]["file"]
            with atomic_write(file) as tmp:
                np.save(tmp, out)
            chunks[k].update(status="done", sha256=sha256(file),
                             bad={str(i): reason for i, reason in bad.items()})
            # After each chunk: a rerun continues from here.
            _write_manifest(root, manifest)
            new_bad.update(bad)
            bar.update(1)
    finally:
        bar.close()
    manifest["complete"] = True
    _write_manifest(root, manifest)
    return new_bad


@entry_point
def build_store(frontend, X, path, *, y=None, groups=None, chunk_size=256, n_jobs=None,
                verbose=1):
    """Run a fitted front end over a dataset and write its output to a feature store.

    The clips are processed ``chunk_size`` at a time; each finished chunk is written
    whole (or not at all) and recorded in the store's manifest, so a rerun with the
    same arguments after an interruption skips the finished chunks (their SHA-256
    checked) and computes only the missing or damaged ones. A rerun with other
    arguments is refused. See the module docstring for the format.

    One process builds a store at a time: the folder is locked while it is built
    (:mod:`skmir.store.lock`), and a second ``build_store`` of the same path waits,
    with a warning, for the first to finish, then continues the finished store (same
    arguments: nothing is recomputed) or refuses it (other arguments). The lock ends
    with the process that holds it, however it ends, so a killed build never blocks.

    Parameters
    ----------
    frontend : fitted transformer
        What turns a batch of ``X`` into arrays of one shape per clip, e.g.
        ``make_pipeline(AudioLoader(duration=10), MelSpectrogram(), LogCompression())``,
        a fitted :class:`~skmir.TransferFeatures` or
        :class:`skmir.pretrained.musicnn.MusicnnLogMel` after an ``AudioLoader``.
    X : list of paths, manifest CSV, or array-like of clips
        Audio files (what the front end's first step takes); a CSV manifest
        (:func:`skmir.load_manifest`: its labels and groups become ``y`` and
        ``groups`` unless given); or clips (waveforms, spectrograms) to transform.
    path : str or os.PathLike
        The store's folder (created; an existing store there is continued).
    y, groups : array-like of shape (n_clips, ...) or None, default=None
        Labels and groups kept with the store (:attr:`FeatureStore.y`,
        :attr:`FeatureStore.groups`); numbers or strings.
    chunk_size : int, default=256
        Clips per chunk file (the unit of work, of parallelism and of resuming).
    n_jobs : int or None, default=None
        Chunks computed in parallel (joblib; None means 1). Under
        ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster; this
        process writes the files.
    verbose : int, default=1
        Progress bar over chunks when > 0.

    Returns
    -------
    store : FeatureStore

    Warns
    -----
    AudioFileWarning
        Files that could not be decoded, each with the reason; their rows are zeros
        with ``store.ok`` False.
    UserWarning
        When another process is building the same store (this one waits for it), or
        when the folder cannot be locked (see :mod:`skmir.store.lock`).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmir import AudioLoader, MelSpectrogram, LogCompression, build_store
    >>> from skmir.datasets import make_music, write_audio_folder
    >>> music = make_music("mode", n_clips=4, duration=2.0, sr=16000, random_state=0)
    >>> paths = write_audio_folder(music.data, music.target_names[music.target],
    ...                            tempfile.mkdtemp())
    >>> frontend = make_pipeline(AudioLoader(sr=16000, duration=2.0),
    ...                          MelSpectrogram(sr=16000, n_mels=32), LogCompression())
    >>> store = build_store(frontend, paths, tempfile.mkdtemp() + "/mel",
    ...                     y=music.target, chunk_size=3, verbose=0)
    >>> store.shape, store.y.tolist(), store[1:3].shape
    ((4, 32, 63), [0, 1, 0, 1], (2, 32, 63))
    """
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, Integral) or chunk_size < 1:
        raise ValueError(f"build_store: chunk_size must be an int >= 1, got {chunk_size!r}.")
    if not hasattr(frontend, "transform"):
        raise ValueError(
            f"build_store: frontend must be a fitted transformer (with transform); got "
            f"{type(frontend).__name__}."
        )
    X, paths, y, groups = _as_input(X, y, groups)
    n = len(X)
    if n == 0:
        raise ValueError("build_store: X holds no clips.")
    rows = {"paths": paths, "y": _column(y, "y", n), "groups": _column(groups, "groups", n)}
    rows_text = json.dumps(rows) + "\n"
    identity_input = "paths" if paths is not None else _hash(
        X, f"{type(X).__qualname__} of shape {tuple(getattr(X, 'shape', (n,)))}")
    root = Path(path)
    if root.exists() and not root.is_dir():
        raise ValueError(
            f"build_store: path = {str(root)!r} is a file, not a folder; pass a new or empty "
            "folder."
        )
    root.mkdir(parents=True, exist_ok=True)
    # Everything from reading the manifest to the last chunk happens under the lock: a
    # second builder then finds a finished store (and continues or refuses it).
    with build_lock(root):
        manifest, tail = _start(root, frontend, X, chunk_size, identity_input, rows_text)
        new_bad = _fill(root, manifest, frontend, X, tail, n_jobs, verbose)
    if new_bad:
        lines = "\n".join(
            f"  row {i}: {paths[i] if paths is not None else ''}: {reason}"
            for i, reason in sorted(new_bad.items())[:50])
        warnings.warn(
            f"build_store: {len(new_bad)} of {n} clip(s) could not be computed; their rows "
            f"hold zeros and store.ok is False for them (use store.good):\n{lines}",
            AudioFileWarning, stacklevel=2,
        )
    return FeatureStore(root)


__all__ = ["build_store"]
