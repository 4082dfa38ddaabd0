"""glibc's malloc thresholds (skmir._allocator): freed batch memory stays in the heap."""

import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="glibc's mallopt only")

# A 64 MiB malloc: served by mmap at glibc's defaults (mallinfo2's hblkhd grows by it),
# from the heap once the thresholds are raised (hblkhd does not move).
PROBE = """
import ctypes, sys
from skmir._allocator import keep_freed_memory

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks",
                "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.mallinfo2.restype = MallInfo2
raised = keep_freed_memory()
before = libc.mallinfo2().hblkhd
block = libc.malloc(64 << 20)
mmapped = libc.mallinfo2().hblkhd - before
libc.free(ctypes.c_void_p(block))
print(raised, mmapped >= 64 << 20)
"""


def _run(env):
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def test_large_blocks_come_from_the_heap_once_the_thresholds_are_raised(monkeypatch):
    import os

    env = {k: v for k, v in os.environ.items() if k != "SKMIR_MALLOC_TUNING"}
    assert _run(env) == ["True", "False"]
    assert _run({**env, "SKMIR_MALLOC_TUNING": "0"}) == ["False", "True"]


def test_training_raises_them():
    code = ("import skmir._allocator as a, numpy as np; from skmir.neural import "
            "NeuralClassifier; X = np.random.default_rng(0).normal(size=(8, 4, 6))"
            ".astype('float32'); NeuralClassifier('c2-d2', channels=2, hidden=4, "
            "max_epochs=1, early_stopping=False).fit(X, [0, 1] * 4); print(a._state)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert "'set': True" in out.stdout


@pytest.mark.parametrize("code", [
    # a shipped network, loaded for features, annotation or fine-tuning
    "from skmir.pretrained import load_pretrained; load_pretrained('choi2017-tags')",
    # features of a network built here
    "import numpy as np; from skmir.features import RandomWeightsFeatures; "
    "RandomWeightsFeatures(random_state=0).fit_transform("
    "np.random.default_rng(0).normal(size=(4, 16, 20)).astype('float32'))",
])
def test_feature_extraction_raises_them(code):
    out = subprocess.run([sys.executable, "-c", "import skmir._allocator as a; "
                          f"{code}; print(a._state)"], capture_output=True, text=True,
                         check=True)
    assert "'set': True" in out.stdout


# 256 blocks of 1 MiB, written and freed: with the thresholds raised the heap keeps
# them (resident); release_freed_memory gives them back.
RELEASE = """
import ctypes, os
from skmir._allocator import keep_freed_memory, release_freed_memory

def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
keep_freed_memory()
blocks = [libc.malloc(1 << 20) for _ in range(256)]
for block in blocks:
    ctypes.memset(block, 1, 1 << 20)
held = resident()
for block in reversed(blocks):
    libc.free(ctypes.c_void_p(block))
kept = resident()
released = release_freed_memory()
print(released, held - kept < 64 << 20, kept - resident() > 192 << 20)
"""


def test_release_freed_memory_gives_the_kept_heap_back():
    import os

    env = {k: v for k, v in os.environ.items() if k != "SKMIR_MALLOC_TUNING"}
    out = subprocess.run([sys.executable, "-c", RELEASE], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["True", "True", "True"]
    out = subprocess.run([sys.executable, "-c", RELEASE],
                         env={**env, "SKMIR_MALLOC_TUNING": "0"}, capture_output=True,
                         text=True, check=True)
    assert out.stdout.split()[0] == "False"  # glibc's defaults: nothing kept to release
