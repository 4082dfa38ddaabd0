"""Files: writing them so that an interrupted write never leaves a file that reads as
valid, and their SHA-256 (which model cards record and loaders check).

Every file skmir writes (saved estimators and checkpoints, reports, figures, generated
audio, model cards) goes through :func:`atomic_write`: the content is written to a
temporary file in the target's folder and moved into place with ``os.replace``, which
is atomic on POSIX and Windows. A crash or Ctrl-C mid-write leaves the previous file
(or none) and no stray temporary file.
"""

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path):
    """Yield a temporary path to write to; it replaces ``path`` when the block ends.

    The temporary file sits in the target's folder (so the final rename never
    crosses file systems) and keeps the target's suffix (so writers that choose the
    format from the extension, such as matplotlib or soundfile, choose the right
    one). If the block raises, the temporary file is removed and ``path`` is
    untouched.

    Parameters
    ----------
    path : str or os.PathLike
        The file to (re)write.

    Yields
    ------
    tmp : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmir._files import atomic_write
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> with atomic_write(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text(), sorted(p.name for p in target.parent.iterdir())
    ('hello', ['notes.txt'])
    """
    path = Path(path)
    # Hidden, so that folder listings skip it; but not when the target has no suffix:
    # torch.save names its archive after the file name up to the last dot and refuses
    # a name (".model-tmp-x") whose only dot is the first character.
    prefix = f".{path.stem}-tmp-" if path.suffix else f"{path.name.lstrip('.')}-tmp-"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp)
    # mkstemp makes the file private (0600); the result gets the mode a plain open()
    # would give it: the old file's, or the default under the umask.
    try:
        mode = path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8).

    Parameters
    ----------
    path : str or os.PathLike
    text : str

    Returns
    -------
    path : pathlib.Path
    """
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def sha256(path):
    """The SHA-256 of a file's bytes, as a hex string (read in 1 MiB blocks).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    digest : str
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data):
    """The SHA-256 of bytes in memory, as a hex string (:func:`sha256` for a file's).

    Examples
    --------
    >>> from skmir._files import sha256_bytes
    >>> sha256_bytes(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def dist_info(package_dir, package):
    """The version and licence text (bytes) of ``package`` in a folder holding it and
    its ``.dist-info`` (an unpacked wheel, a site-packages), or None for each that is
    not found: what the weight converters check before they convert."""
    infos = sorted(Path(package_dir).glob(f"{package}-*.dist-info"))
    if not infos:
        return None, None
    metadata = (infos[-1] / "METADATA").read_text(encoding="utf-8")
    version = re.search(r"^Version:\s*(\S+)", metadata, re.M)
    licences = sorted(infos[-1].rglob("LICENSE*"))
    return (version.group(1) if version else None,
            licences[0].read_bytes() if licences else None)
