"""The feature store's on-disk format: file names, the manifest, and its checks.

Shared by :mod:`skmir.store.build` (which writes a store) and
:mod:`skmir.store.read` (which reads one); the format itself is described in
:mod:`skmir.store`.
"""

import json
from pathlib import Path

import numpy as np

from skmir._files import sha256, sha256_bytes

FORMAT = "skmir-feature-store"
# 2: rows.json's digest is the SHA-256 of its bytes (1 recorded a joblib hash).
FORMAT_VERSION = 2
MANIFEST = "store.json"
ROWS = "rows.json"


def read_json(path):
    """The JSON document in ``path`` (the manifest)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_manifest(root, owner, what_to_do):
    """The manifest of the store at ``root``, refused unless it is a feature store's of
    this skmir's format version (``what_to_do`` ends the errors: the caller's advice).

    Examples
    --------
    >>> import tempfile
    >>> from skmir.store.format import read_manifest
    >>> root = tempfile.mkdtemp()
    >>> _ = open(f"{root}/store.json", "w").write('{"format": "other"}')
    >>> read_manifest(root, "f", "pass a new folder.")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: f: store.json = '.../store.json' is not a feature store's manifest; pass ...
    """
    root = Path(root)
    try:
        manifest = read_json(root / MANIFEST)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{owner}: {MANIFEST} = {str(root / MANIFEST)!r}: is not valid JSON "
                         f"({exc}): the file was edited or cut; {what_to_do}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValueError(f"{owner}: {MANIFEST} = {str(root / MANIFEST)!r} is not a feature "
                         f"store's manifest; {what_to_do}")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{owner}: path = {str(root)!r} holds a store of format version "
            f"{manifest.get('format_version')}, and this skmir uses version "
            f"{FORMAT_VERSION}; {what_to_do}")
    return manifest


def rows_digest(data):
    """The SHA-256 of ``rows.json``'s bytes, as the manifest records it."""
    return sha256_bytes(data)


def read_rows(root, manifest, owner):
    """The paths, labels and groups in ``rows.json``, after checking its SHA-256
    against the manifest's (the same bytes are hashed and parsed).

    Raises
    ------
    ValueError
        Naming the file, the digest recorded and the one found.
    """
    file = root / manifest["rows"]["file"]
    data = file.read_bytes()
    expected, actual = manifest["rows"]["sha256"], rows_digest(data)
    if actual != expected:
        raise ValueError(
            f"{owner}: {ROWS} = {str(file)!r}: its SHA-256 is {actual}, but {MANIFEST} "
            f"records {expected}: the paths, labels and groups were changed after the "
            "store was built. Rerun build_store with the same arguments (it rewrites "
            f"{ROWS}), or build a new store for other labels."
        )
    return json.loads(data.decode("utf-8"))


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
           "read_json", "read_rows", "rows_digest"]
