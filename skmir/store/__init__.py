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
version, the SHA-256 of ``rows.json``, and per chunk its status, SHA-256 and the rows
whose file could not be read, with the reason) and ``rows.json`` (the paths, labels and
groups, written once).
Why this and not zarr or HDF5:

* no extra dependency, and every chunk is a ``.npy`` file any numpy reads
  (``np.load(mmap_mode="r")``), with or without skmir; zarr's API changed from its
  version 2 to 3;
* every file is written to a temporary name and renamed into place
  (:func:`skmir._files.atomic_write`), and ``store.json`` is rewritten the same way
  after each finished chunk: an interruption (Ctrl-C, a crash, a killed job) never
  leaves a half-written chunk that reads as valid, and a rerun with the same
  arguments skips the finished chunks;
* the SHA-256 of ``rows.json`` and of every chunk detects a file edited or damaged
  after it was written: :class:`FeatureStore` checks ``rows.json`` when it opens the
  store and each chunk the first time the process reads it, and refuses a mismatch;
  :meth:`FeatureStore.verify` checks every chunk; a rerun recomputes a damaged chunk;
* one process builds a store at a time: the folder is locked while it is built
  (:mod:`skmir.store.lock`); a second builder waits, then continues or refuses the
  finished store.

The workers only compute (joblib, so also on a Dask cluster through
``joblib.parallel_config(backend="dask")``); the calling process writes every file,
so a cluster needs no shared file system and no two processes write one manifest.

A file that cannot be decoded is reported (an :class:`~skmir.AudioFileWarning` that
names it and why); its row stays in place, all zeros, with ``ok`` False, so labels
never shift. :attr:`FeatureStore.good` is the store without those rows; the
estimators refuse a store that still holds them (their zeros are no clip), and a
store made by another front end than the one they were fitted on
(:func:`check_frontend`).
"""

from skmir.store.build import build_store
from skmir.store.read import FeatureStore, check_frontend, frontend_of

__all__ = ["FeatureStore", "build_store", "check_frontend", "frontend_of"]
