"""The feature store's on-disk format: file names, the manifest, and chunk checks.

Shared by :mod:`skmir.store.build` (which writes a store) and
:mod:`skmir.store.read` (which reads one); the format itself is described in
:mod:`skmir.store`.
"""

import json

import numpy as np

from skmir._files import sha256

FORMAT = "skmir-feature-store"
FORMAT_VERSION = 1
MANIFEST = "store.json"
ROWS = "rows.json"


def read_json(path):
    """The JSON document in ``path`` (the manifest, the rows)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def from_column(column):
    """A per-row column of ``rows.json`` (labels, groups) as an array, or None."""
    if column is None:
        return None
    return np.asarray(column["values"], dtype=column["dtype"])


def chunk_ok(root, entry):
    """Whether a finished chunk's file is there, whole and unchanged."""
    if entry["status"] != "done":
        return False
    file = root / entry["file"]
    return file.is_file() and sha256(file) == entry["sha256"]


__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "ROWS", "chunk_ok", "from_column",
           "read_json"]
