"""Reading a feature store: :class:`FeatureStore`, batch by batch.

The format is described in :mod:`skmir.store`; a store is made by
:func:`skmir.store.build_store`.
"""

import os
from numbers import Integral
from pathlib import Path

import numpy as np

from skmir._files import sha256
from skmir._validation import NamedRefusals, entry_point, refusals
from skmir.store.format import (
    MANIFEST,
    chunk_ok,
    from_column,
    read_manifest,
    read_rows,
)

# The chunk files whose SHA-256 this process has checked, by (digest recorded, device,
# inode, size, modification time): a file replaced or rewritten since is checked again.
_CHECKED = set()


def _file_key(expected, st):
    return (expected, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class FeatureStore(NamedRefusals):
    """A feature store on disk (made by :func:`build_store`), read batch by batch.

    Indexing reads only the chunks the rows live in: ``store[i]`` (one clip),
    ``store[a:b]``, ``store[[i, j, ...]]`` and boolean masks return float32 numpy
    arrays; ``np.asarray(store)`` reads it all (for small stores). Each read copies
    the rows asked for straight from the chunk files (each file's header is read
    once), in file order whatever the order of the indices
    (:attr:`random_access`), so the process holds only those rows; the operating
    system's page cache keeps recently read chunks fast.

    Nothing is served unchecked: ``rows.json`` is checked against the SHA-256 that
    ``store.json`` records when the store is opened, and each chunk file the first
    time this process reads from it (the result is kept for the process, so later
    reads and epochs cost nothing); a mismatch raises a ValueError naming the file,
    both digests and what to do. :meth:`verify` checks every chunk at once.

    skmir's neural estimators and :class:`~skmir.TransferFeatures` take a store as X
    and read it batch by batch (``est.fit(store.good, store.good.y)``). A fitted
    estimator records the front end of the store it was fitted on
    (``store_frontend_``, see :func:`frontend_of`) and refuses a store made by
    another front end (:func:`check_frontend`); arrays carry no front end and are
    taken as they are.
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
        with refusals("FeatureStore"):  # a constructor is no NamedRefusals method
            self._open(Path(path))

    def _open(self, root):
        if not (root / MANIFEST).is_file():
            raise FileNotFoundError(
                f"FeatureStore: {str(root)!r} is not a feature store (no {MANIFEST}); make "
                "one with skmir.build_store."
            )
        manifest = read_manifest(root, "FeatureStore", "delete the folder and rebuild it "
                                 "with skmir.build_store.")
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
        rows = read_rows(root, manifest, "FeatureStore")
        self.path = root.resolve()
        self._manifest = manifest
        self._chunk_size = int(manifest["chunk_size"])
        self._tail = tuple(manifest["shape"][1:])
        self._n = int(manifest["shape"][0])
        self._paths = None if rows["paths"] is None else np.asarray(rows["paths"])
        self._y = from_column(rows["y"])
        self._groups = from_column(rows["groups"])
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

    def _check_chunk(self, f, k):
        """Check chunk ``k``'s file (open as ``f``) against its recorded SHA-256, the
        first time this process reads it (the result is kept for the process, by the
        file's inode, size and modification time)."""
        expected = self._manifest["chunks"][k]["sha256"]
        key = _file_key(expected, os.fstat(f.fileno()))
        if key in _CHECKED:
            return
        actual = sha256(f.name)
        # The digest is of the file this process reads from: the same inode, unchanged
        # while it was hashed.
        if _file_key(expected, os.stat(f.name)) != key:
            raise ValueError(
                f"FeatureStore: chunk file = {str(f.name)!r} changed while it was read (is "
                "build_store rewriting it?); read the store again once the build is done."
            )
        if actual != expected:
            raise ValueError(
                f"FeatureStore: chunk file = {str(f.name)!r}: its SHA-256 is {actual}, but "
                f"{MANIFEST} records {expected}: the chunk was damaged after it was "
                "written. Rerun build_store with the same arguments to recompute it "
                "(store.verify() lists every damaged chunk)."
            )
        _CHECKED.add(key)

    def _data_offset(self, f, k):
        """Where chunk ``k``'s data starts in its .npy file ``f`` (the header is read
        once and checked against the manifest, then cached)."""
        offset = self._offsets.get(k)
        if offset is not None:
            return offset
        entry = self._manifest["chunks"][k]
        expected = (entry["stop"] - entry["start"], *self._tail)
        f.seek(0)
        version = np.lib.format.read_magic(f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(f)
        offset = f.tell()
        if shape != expected or dtype != np.float32 or fortran:
            raise ValueError(
                f"FeatureStore: chunk file = {str(f.name)!r} holds {dtype} of shape {shape}, "
                f"not float32 of shape {expected}: the chunk is damaged; rerun build_store "
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
            local = rows[sel] - k * self._chunk_size
            rank = np.argsort(local, kind="stable")
            # Plain reads into the output, rows in file order: one copy from the page
            # cache and nothing mapped, so the process holds only the rows asked for
            # (a kept memory map would count every page it read as resident).
            with open(self.path / self._manifest["chunks"][k]["file"], "rb",
                      buffering=0) as f:
                self._check_chunk(f, k)
                offset = self._data_offset(f, k)
                for i in sel[rank]:
                    f.seek(offset + int(rows[i] - k * self._chunk_size) * row_bytes)
                    view = memoryview(out[i]).cast("B")
                    if f.readinto(view) != row_bytes:
                        raise ValueError(
                            f"FeatureStore: chunk file = {str(f.name)!r} is shorter than "
                            "its header says: the chunk is damaged; rerun build_store with "
                            "the same arguments to recompute it."
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
               if not chunk_ok(self.path, c)]
        if bad:
            raise ValueError(
                f"FeatureStore.verify: chunk files = {', '.join(bad[:10])} (in "
                f"{str(self.path)!r}): they do not match their recorded SHA-256 (damaged "
                "after they were written); rerun build_store with the same arguments to "
                "recompute them."
            )
        return self

    def __repr__(self):
        view = "" if self._rows is None else f", view of {self._n} rows"
        return (f"FeatureStore({str(self.path)!r}, shape={self.shape}, "
                f"ok={int(self.ok.sum())}/{len(self)}{view})")


@entry_point
def frontend_of(X):
    """The front end that made a feature store, as an estimator records it at fit.

    Parameters
    ----------
    X : FeatureStore or any other input
        A store or a view of one (:meth:`FeatureStore.take`).

    Returns
    -------
    frontend : dict or None
        ``class``, ``repr`` (on one line) and ``fingerprint`` (the store's
        ``joblib.hash`` of the fitted front end, parameters included; for a front end
        that cannot be pickled, its class) of the front end recorded in the store;
        None for anything that is not a store (arrays carry no front end).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skmir.store import build_store, frontend_of
    >>> store = build_store(FunctionTransformer(), np.zeros((2, 3), "float32"),
    ...                     tempfile.mkdtemp() + "/s", verbose=0)
    >>> frontend_of(store)["repr"], frontend_of(np.zeros((2, 3))) is None
    ('FunctionTransformer()', True)
    """
    if not isinstance(X, FeatureStore):
        return None
    recorded = X.params
    return {"class": recorded["class"], "repr": " ".join(recorded["repr"].split()),
            "fingerprint": recorded["fingerprint"]}


@entry_point
def check_frontend(X, fitted, owner):
    """Refuse a feature store made by another front end than the fit's store.

    Parameters
    ----------
    X : FeatureStore or any other input
        What the estimator is given.
    fitted : dict or None
        What :func:`frontend_of` gave for the fit's X (None: the fit's X was no
        store, and nothing is checked).
    owner : str
        The estimator, named in the error.

    Raises
    ------
    ValueError
        When ``X`` is a store whose front end is not ``fitted``, naming both.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer, StandardScaler
    >>> from skmir.store import build_store, check_frontend, frontend_of
    >>> X = np.arange(6, dtype="float32").reshape(3, 2)
    >>> a = build_store(FunctionTransformer(), X, tempfile.mkdtemp() + "/a", verbose=0)
    >>> b = build_store(StandardScaler().fit(X), X, tempfile.mkdtemp() + "/b", verbose=0)
    >>> check_frontend(a, frontend_of(a), "Est")
    >>> check_frontend(b, frontend_of(a), "Est")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: Est: X = FeatureStore(...): made by the front end StandardScaler() ...
    """
    made = frontend_of(X)
    if fitted is None or made is None or (
            made["fingerprint"] == fitted["fingerprint"] and made["class"] == fitted["class"]):
        return

    def name(frontend):
        return f"{frontend['repr']} (fingerprint {frontend['fingerprint'][:12]})"

    raise ValueError(
        f"{owner}: X = {X!r}: made by the front end {name(made)}, but the estimator was "
        f"fitted on a store made by {name(fitted)}; give it a store built with the "
        "fit's front end (build_store(frontend, ...)), or refit it on this one."
    )


__all__ = ["FeatureStore", "check_frontend", "frontend_of"]
