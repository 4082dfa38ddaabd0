"""glibc's malloc thresholds, raised so that a training loop reuses its batch memory.

glibc serves an allocation above its mmap threshold (128 KiB at start, adjusted up to
32 MiB) with a fresh ``mmap`` and returns it with ``munmap`` when freed, and gives the
top of the heap back to the kernel above its trim threshold. A training or feature
loop frees and allocates the same large batch tensors every batch, so every batch
page-faults its memory in again: measured on a 2-core machine, a third of a CPU fit's
time was kernel time. :func:`keep_freed_memory` raises both thresholds to 1 GiB
(``mallopt``), once per process, when skmir first trains, loads a shipped network
(``load_pretrained``) or extracts features from a network built here, on Linux with
glibc: freed batches stay in the heap for the next batch. The cost is that
the process keeps memory it freed (up to its peak) instead of returning it to the
system, until :func:`release_freed_memory` (which :func:`skmir.compare` calls after
each fit). Set the environment variable ``SKMIR_MALLOC_TUNING=0`` to leave glibc's
defaults; on other C libraries and systems nothing happens. jemalloc or tcmalloc
loaded with ``LD_PRELOAD`` (Intel's advice for PyTorch on CPUs) make this moot: they
keep freed memory themselves and never read glibc's thresholds.
"""

import ctypes
import ctypes.util
import os
import platform

# mallopt parameters of glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 30

_state = {"done": False, "set": False, "libc": None}


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds to :data:`THRESHOLD`, once per process.

    Returns
    -------
    set : bool
        Whether the thresholds are raised (False: opted out, not Linux with glibc, or
        not glibc's allocator).

    Examples
    --------
    >>> from skmir._allocator import keep_freed_memory
    >>> isinstance(keep_freed_memory(), bool)
    True
    """
    if _state["done"]:
        return _state["set"]
    _state["done"] = True
    opted_out = os.environ.get("SKMIR_MALLOC_TUNING", "").strip().lower() in (
        "0", "false", "no", "off")
    if opted_out or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = (libc.mallopt(_M_MMAP_THRESHOLD, THRESHOLD) == 1
              and libc.mallopt(_M_TRIM_THRESHOLD, THRESHOLD) == 1)
    except (OSError, AttributeError):
        ok = False
    _state["set"] = bool(ok)
    _state["libc"] = libc if ok else None
    return _state["set"]


def release_freed_memory():
    """Give the memory that the raised thresholds keep back to the system (``malloc_trim``).

    For a process that goes on after a job that trained: a worker of
    :func:`skmir.compare` between fits, so that its resident size is what it holds,
    not its peak (joblib's loky workers restart when their resident size grows by
    300 MB, which the retained memory of a larger fit than the first triggered).
    Nothing happens when :func:`keep_freed_memory` did not raise the thresholds.

    Returns
    -------
    released : bool
        Whether memory was given back.

    Examples
    --------
    >>> from skmir._allocator import release_freed_memory
    >>> isinstance(release_freed_memory(), bool)
    True
    """
    if _state["libc"] is None:
        return False
    return _state["libc"].malloc_trim(0) == 1
