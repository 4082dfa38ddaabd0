"""One builder per store: an exclusive lock on the store's folder while it is built.

Two processes running :func:`skmir.store.build_store` on one folder at once would
interleave their chunks and manifests (each serving the other's data and labels).
The lock is ``flock(2)`` on the folder itself, not a lock file: the folder holds no
extra file, and the operating system releases the lock when the process that holds
it ends, however it ends (a killed build never leaves a stale lock). A second builder
waits, with a warning that says why, until the first is done; it then continues the
finished store (same arguments) or refuses it (other arguments).

Where a folder cannot be locked (Windows, which has no ``fcntl``; a network file
system that does not lock directories), the build goes on unlocked with a warning
saying so: there, build a store from one process at a time.
"""

import os
import warnings
from contextlib import contextmanager

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def _unlocked(root, reason):
    warnings.warn(
        f"build_store: path = {str(root)!r}: the folder cannot be locked ({reason}), so "
        "a second process building this store at the same time is not kept out; build "
        "it from one process at a time.",
        UserWarning, stacklevel=5,
    )


@contextmanager
def build_lock(root):
    """Hold an exclusive lock on the folder ``root`` (which exists) for the block.

    Waits, with a :class:`UserWarning`, while another process holds it.

    Parameters
    ----------
    root : pathlib.Path
        The store's folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmir.store.lock import build_lock
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with build_lock(root):
    ...     pass
    >>> list(root.iterdir())
    []
    """
    if fcntl is None:
        _unlocked(root, "no fcntl on this platform")
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            warnings.warn(
                f"build_store: path = {str(root)!r}: another process is building this "
                "store; waiting for it to finish (one process builds a store at a time; "
                "if that process ends, however it ends, its lock goes with it).",
                UserWarning, stacklevel=4,
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:  # e.g. NFS: no flock on a directory
            _unlocked(root, exc.strerror or type(exc).__name__)
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["build_lock"]
