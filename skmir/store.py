"""Feature stores: a front end's output for a whole dataset, on disk, chunk by chunk.

The paper's sec. 5.1 weighs computing the input representation on the fly against
"pre-computing and storing" it. For a dataset larger than memory, :func:`build_store`
runs a fitted front end (a representation pipeline, :class:`~skmir.TransferFeatures`,
:class:`skmir.pretrained.musicnn.MusicnnLogMel`) over the files once and writes the
result to a folder; :class:`FeatureStore` reads it back batch by batch, so a neural
estimator trains on it with memory that does not grow with the number of clips.

The format is a folder of plain ``.npy`` files, one per chunk of ``chunk_size``
clips (float32), and two JSON files: ``store.json`` (shape, dtype, chunk size, the
front end's class, repr, parameters and a fingerprint of its fitted state, the skmir
version, and per chunk its status, SHA-256 and the rows whose file could not be
read, with the reason) and ``rows.json`` (the paths, labels and groups, written once).
Why this and not zarr or HDF5:

* no extra dependency, and every chunk is a ``.npy`` file any numpy reads
  (``np.load(mmap_mode="r")``), with or without skmir; zarr's API changed from its
  version 2 to 3;
* every file is written to a temporary name and renamed into place
  (:func:`skmir._files.atomic_write`), and ``store.json`` is rewritten the same way
  after each finished chunk: an interruption (Ctrl-C, a crash, a killed job) never
  leaves a half-written chunk that reads as valid, and a rerun with the same
  arguments skips the finished chunks;
* the per-chunk SHA-256 detects a chunk damaged after it was written: a rerun
  recomputes it, :meth:`FeatureStore.verify` reports it.

The workers only compute (joblib, so also on a Dask cluster through
``joblib.parallel_config(backend="dask")``); the calling process writes every file,
so a cluster needs no shared file system and no two processes write one manifest.

A file that cannot be decoded is reported (an :class:`~skmir.AudioFileWarning` that
names it and why); its row stays in place, all zeros, with ``ok`` False, so labels
never shift. :attr:`FeatureStore.good` is the store without those rows; the
estimators refuse a store that still holds them (their zeros are no clip).
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
from skmir.io import AudioFileError, AudioFileWarning, is_paths, load_manifest

FORMAT = "skmir-feature-store"
FORMAT_VERSION = 1
MANIFEST = "store.json"
ROWS = "rows.json"
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


def _from_column(column):
    if column is None:
        return None
    return np.asarray(column["values"], dtype=column["dtype"])


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


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


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


def _chunk_ok(root, entry):
    """Whether a finished chunk's file is there, whole and unchanged."""
    if entry["status"] != "done":
        return False
    file = root / entry["file"]
    return file.is_file() and sha256(file) == entry["sha256"]


def build_store(frontend, X, path, *, y=None, groups=None, chunk_size=256, n_jobs=None,
                verbose=1):
    """Run a fitted front end over a dataset and write its output to a feature store.

    The clips are processed ``chunk_size`` at a time; each finished chunk is written
    whole (or not at all) and recorded in the store's manifest, so a rerun with the
    same arguments after an interruption skips the finished chunks (their SHA-256
    checked) and computes only the missing or damaged ones. A rerun with other
    arguments is refused. See the module docstring for the format.

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
    import skmir

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
    import joblib

    identity_input = "paths" if paths is not None else _hash(
        X, f"{type(X).__qualname__} of shape {tuple(getattr(X, 'shape', (n,)))}")
    root = Path(path)
    n_chunks = -(-n // chunk_size)
    described = _describe(frontend)
    if (root / MANIFEST).is_file():
        manifest = _read_json(root / MANIFEST)
        if manifest.get("format") != FORMAT:
            raise ValueError(f"build_store: {str(root / MANIFEST)!r} is not a feature store.")
        wanted = dict(manifest, chunk_size=chunk_size, frontend=described,
                      input=identity_input, shape=[n, *manifest["shape"][1:]],
                      rows={"file": ROWS, "sha256": joblib.hash(rows_text)})
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
        if root.exists() and (not root.is_dir() or any(
                p.name not in (ROWS,) and not p.name.startswith((".", "chunk-"))
                for p in root.iterdir())):
            raise ValueError(
                f"build_store: {str(root)!r} exists and is not a feature store (no "
                f"{MANIFEST}); pass a new or empty folder."
            )
        root.mkdir(parents=True, exist_ok=True)
        tail = tuple(int(s) for s in _probe(frontend, X))
        atomic_write_text(root / ROWS, rows_text)
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "skmir_version": skmir.__version__,
            "shape": [n, *tail],
            "dtype": "float32",
            "chunk_size": chunk_size,
            "frontend": described,
            "input": identity_input,
            "rows": {"file": ROWS, "sha256": joblib.hash(rows_text)},
            "chunks": [{"file": _chunk_name(k), "start": k * chunk_size,
                        "stop": min(n, (k + 1) * chunk_size), "status": "pending",
                        "sha256": None, "bad": {}} for k in range(n_chunks)],
            "complete": False,
        }
        _write_manifest(root, manifest)
    if not (root / ROWS).is_file() or joblib.hash((root / ROWS).read_text(
            encoding="utf-8")) != manifest["rows"]["sha256"]:
        atomic_write_text(root / ROWS, rows_text)  # lost or damaged: it is rewritten whole
    chunks = manifest["chunks"]
    todo = [k for k, entry in enumerate(chunks) if not _chunk_ok(root, entry)]
    damaged = [chunks[k]["file"] for k in todo if chunks[k]["status"] == "done"]
    if damaged:
        warnings.warn(
            f"build_store: {len(damaged)} finished chunk(s) of {str(root)!r} are missing or "
            f"damaged (SHA-256 mismatch) and are recomputed: {', '.join(damaged[:10])}",
            UserWarning, stacklevel=2,
        )
    for k in todo:
        chunks[k].update(status="pending", sha256=None, bad={})
    if todo or not manifest["complete"]:
        manifest["complete"] = False
        _write_manifest(root, manifest)

    bar = tqdm(total=n_chunks, initial=n_chunks - len(todo), desc="build_store",
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


class FeatureStore:
    """A feature store on disk (made by :func:`build_store`), read batch by batch.

    Indexing reads only the chunks the rows live in: ``store[i]`` (one clip),
    ``store[a:b]``, ``store[[i, j, ...]]`` and boolean masks return float32 numpy
    arrays; ``np.asarray(store)`` reads it all (for small stores). Each read copies
    the rows asked for straight from the chunk files (each file's header is read
    once), in file order whatever the order of the indices
    (:attr:`random_access`), so the process holds only those rows; the operating
    system's page cache keeps recently read chunks fast.

    skmir's neural estimators and :class:`~skmir.TransferFeatures` take a store as X
    and read it batch by batch (``est.fit(store.good, store.good.y)``).
    Cross-validation splitters index X through sklearn, which reads each fold into
    memory: for data beyond memory rely on the estimator's own validation split
    (``early_stopping``) or pass ``store.take(train)``.

    Parameters
    ----------
    path : str or os.PathLike
        The store's folder.

    Attributes
    ----------
    shape : tuple of int
    dtype : numpy.dtype
        float32.
    y, groups, paths : ndarray or None
        Labels, groups and source files of the rows (None when not recorded).
    ok : ndarray of bool
        False for rows whose file could not be computed (they hold zeros).
    reasons : dict of int to str
        Why, for every row that is not ok.
    params : dict
        The front end that made the store: ``class``, ``repr``, ``params``,
        ``fingerprint``; and ``skmir_version``.
    random_access : bool
        True: integer indices in any order, repeats included, are read as given
        (what :class:`~skmir.neural.NeuralClassifier`'s shuffled batches need),
        without sorting them first.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skmir import FeatureStore, build_store
    >>> X = np.arange(5 * 2 * 3, dtype="float32").reshape(5, 2, 3)
    >>> path = tempfile.mkdtemp() + "/s"
    >>> _ = build_store(FunctionTransformer(), X, path, y=[0, 1, 0, 1, 1],
    ...                 chunk_size=2, verbose=0)
    >>> store = FeatureStore(path)
    >>> len(store), store.shape, bool((store[[4, 0]] == X[[4, 0]]).all())
    (5, (5, 2, 3), True)
    >>> store.take([1, 3]).y.tolist()
    [1, 1]
    """

    random_access = True

    def __init__(self, path):
        root = Path(path)
        if not (root / MANIFEST).is_file():
            raise FileNotFoundError(
                f"FeatureStore: {str(root)!r} is not a feature store (no {MANIFEST}); make "
                "one with skmir.build_store."
            )
        manifest = _read_json(root / MANIFEST)
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"FeatureStore: {str(root / MANIFEST)!r} is not a version-{FORMAT_VERSION} "
                "skmir feature store."
            )
        if not manifest["complete"]:
            done = sum(c["status"] == "done" for c in manifest["chunks"])
            raise ValueError(
                f"FeatureStore: the store at {str(root)!r} is incomplete ({done} of "
                f"{len(manifest['chunks'])} chunks built); rerun build_store with the same "
                "arguments to finish it."
            )
        missing = [c["file"] for c in manifest["chunks"] if not (root / c["file"]).is_file()]
        if missing:
            raise ValueError(
                f"FeatureStore: chunk file(s) {', '.join(missing[:5])} of {str(root)!r} are "
                "missing; rerun build_store with the same arguments to recompute them."
            )
        rows = _read_json(root / manifest["rows"]["file"])
        self.path = root.resolve()
        self._manifest = manifest
        self._chunk_size = int(manifest["chunk_size"])
        self._tail = tuple(manifest["shape"][1:])
        self._n = int(manifest["shape"][0])
        self._paths = None if rows["paths"] is None else np.asarray(rows["paths"])
        self._y = _from_column(rows["y"])
        self._groups = _from_column(rows["groups"])
        self._reasons = {int(i): reason for c in manifest["chunks"]
                         for i, reason in c["bad"].items()}
        self._rows = None  # a view's rows of the whole store (take)
        self._offsets = {}  # chunk -> where its data starts in the .npy file

    # ---------------------------------------------------------------- shape
    def __len__(self):
        return self._n if self._rows is None else len(self._rows)

    @property
    def shape(self):
        return (len(self), *self._tail)

    @property
    def ndim(self):
        return 1 + len(self._tail)

    @property
    def dtype(self):
        return np.dtype(np.float32)

    # ---------------------------------------------------------------- rows
    def _column(self, values):
        if values is None or self._rows is None:
            return values
        return values[self._rows]

    @property
    def y(self):
        return self._column(self._y)

    @property
    def groups(self):
        return self._column(self._groups)

    @property
    def paths(self):
        return self._column(self._paths)

    @property
    def ok(self):
        ok = np.ones(self._n, dtype=bool)
        ok[list(self._reasons)] = False
        return self._column(ok)

    @property
    def reasons(self):
        if self._rows is None:
            return dict(self._reasons)
        return {i: self._reasons[int(r)] for i, r in enumerate(self._rows)
                if int(r) in self._reasons}

    @property
    def params(self):
        return dict(self._manifest["frontend"], skmir_version=self._manifest["skmir_version"])

    def take(self, indices):
        """A view of some rows (read lazily, with their labels, groups and paths).

        Parameters
        ----------
        indices : array-like of int or bool
            Rows of this store (a boolean mask of its length, or positions).

        Returns
        -------
        view : FeatureStore
        """
        view = object.__new__(FeatureStore)
        view.__dict__.update(self.__dict__)
        view._rows = self._global(self._index(indices))
        return view

    @property
    def good(self):
        """The rows that are ok (a view, as :meth:`take`)."""
        return self.take(self.ok)

    # ---------------------------------------------------------------- reading
    def _index(self, key):
        """Positions (into this view) of an int array, a bool mask or a slice."""
        n = len(self)
        if isinstance(key, slice):
            return np.arange(n)[key]
        key = np.asarray(key)
        if key.dtype == bool:
            if key.shape != (n,):
                raise IndexError(
                    f"FeatureStore: a boolean index must have the store's length {n}; got "
                    f"shape {key.shape}."
                )
            return np.flatnonzero(key)
        if key.dtype.kind not in "iu" or key.ndim != 1:
            if key.size == 0:
                return np.zeros(0, dtype=np.intp)
            raise IndexError(
                "FeatureStore: index with an int, a slice, a 1-D array of ints or a boolean "
                f"mask; got {key.dtype} of shape {key.shape}."
            )
        if key.size and (key.max() >= n or key.min() < -n):
            bad = key[(key >= n) | (key < -n)][0]
            raise IndexError(f"FeatureStore: index {int(bad)} is out of range for {n} rows.")
        return np.where(key < 0, key + n, key).astype(np.intp)

    def _global(self, positions):
        return positions if self._rows is None else self._rows[positions]

    def _data_offset(self, k):
        """Where chunk ``k``'s data starts in its .npy file (the header is read once
        and checked against the manifest, then cached)."""
        offset = self._offsets.get(k)
        if offset is not None:
            return offset
        entry = self._manifest["chunks"][k]
        file = self.path / entry["file"]
        expected = (entry["stop"] - entry["start"], *self._tail)
        with open(file, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read(f)
            offset = f.tell()
        if shape != expected or dtype != np.float32 or fortran:
            raise ValueError(
                f"FeatureStore: {str(file)!r} holds {dtype} of shape {shape}, not "
                f"float32 of shape {expected}: the chunk is damaged; rerun build_store "
                "with the same arguments to recompute it."
            )
        self._offsets[k] = offset
        return offset

    def _read(self, rows):
        out = np.empty((len(rows), *self._tail), dtype=np.float32)
        if not len(rows):
            return out
        row_bytes = out[0].nbytes
        chunk = rows // self._chunk_size
        order = np.argsort(chunk, kind="stable")
        ks, first = np.unique(chunk[order], return_index=True)
        for k, sel in zip(ks, np.split(order, first[1:])):
            k = int(k)
            offset = self._data_offset(k)
            local = rows[sel] - k * self._chunk_size
            rank = np.argsort(local, kind="stable")
            # Plain reads into the output, rows in file order: one copy from the page
            # cache and nothing mapped, so the process holds only the rows asked for
            # (a kept memory map would count every page it read as resident).
            with open(self.path / self._manifest["chunks"][k]["file"], "rb",
                      buffering=0) as f:
                for i in sel[rank]:
                    f.seek(offset + int(rows[i] - k * self._chunk_size) * row_bytes)
                    view = memoryview(out[i]).cast("B")
                    if f.readinto(view) != row_bytes:
                        raise ValueError(
                            f"FeatureStore: {str(f.name)!r} is shorter than its header "
                            "says: the chunk is damaged; rerun build_store with the same "
                            "arguments to recompute it."
                        )
        return out

    def __getitem__(self, key):
        rest = ()
        if isinstance(key, tuple):
            key, rest = (key[0], key[1:]) if key else (slice(None), ())
        if key is Ellipsis:
            key, rest = slice(None), (Ellipsis, *rest)
        if isinstance(key, Integral) and not isinstance(key, bool):
            n = len(self)
            if not -n <= key < n:
                raise IndexError(f"FeatureStore: index {key} is out of range for {n} rows.")
            out = self._read(self._global(np.array([key % n])))[0]
            return out[rest] if rest else out
        out = self._read(self._global(self._index(key)))
        return out[(slice(None), *rest)] if rest else out

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __iter__(self):
        for start in range(0, len(self), self._chunk_size):
            yield from self[start:start + self._chunk_size]

    def verify(self):
        """Check every chunk file against the SHA-256 recorded when it was written.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Naming the damaged chunk files (rerun :func:`build_store` to recompute them).
        """
        bad = [c["file"] for c in self._manifest["chunks"]
               if not _chunk_ok(self.path, c)]
        if bad:
            raise ValueError(
                f"FeatureStore: chunk file(s) {', '.join(bad[:10])} of {str(self.path)!r} "
                "do not match their recorded SHA-256 (damaged after they were written); "
                "rerun build_store with the same arguments to recompute them."
            )
        return self

    def __repr__(self):
        view = "" if self._rows is None else f", view of {self._n} rows"
        return (f"FeatureStore({str(self.path)!r}, shape={self.shape}, "
                f"ok={int(self.ok.sum())}/{len(self)}{view})")


__all__ = ["FeatureStore", "build_store"]
