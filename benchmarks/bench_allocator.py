"""How much of a CPU fit does the kernel take, with and without skmir's malloc tuning?

``NeuralClassifier("conv2d", max_epochs=3).fit`` on 256 log-mel-shaped clips (96 bins x
187 frames, the shape of 5 s at 22.05 kHz, hop 512), the estimator's defaults
otherwise, run in two fresh processes: one with ``SKMIR_MALLOC_TUNING=0`` (glibc's
own thresholds: every large batch tensor is mmap'd and unmapped), one with skmir's
default (thresholds raised, :mod:`skmir._allocator`). Prints the wall, user and system
time of each fit, their ratios, and whether the two predict the same probabilities.

Usage::

    python benchmarks/bench_allocator.py             # 256 clips, 3 epochs
    python benchmarks/bench_allocator.py --quick     # 64 clips, 1 epoch
"""

import argparse
import json
import os
import subprocess
import sys

FIT = """
import json, resource, sys, time
import numpy as np
from skmir.neural import NeuralClassifier

n, epochs = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
y = np.arange(n) % 4
X = rng.normal(size=(n, 96, 187)).astype(np.float32) + y[:, None, None] * 0.1
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
clf = NeuralClassifier("conv2d", max_epochs=epochs, random_state=0).fit(X, y)
wall = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
proba = clf.predict_proba(X[:16])
print(json.dumps({"wall": wall, "user": after.ru_utime - before.ru_utime,
                  "sys": after.ru_stime - before.ru_stime,
                  "minflt": after.ru_minflt - before.ru_minflt,
                  "proba": proba.tolist()}))
"""


def run(n, epochs, tuning):
    env = dict(os.environ)
    env.pop("SKMIR_MALLOC_TUNING", None)
    if not tuning:
        env["SKMIR_MALLOC_TUNING"] = "0"
    out = subprocess.run([sys.executable, "-c", FIT, str(n), str(epochs)], env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n, epochs = (64, 1) if args.quick else (args.clips, args.epochs)
    print(f"NeuralClassifier('conv2d', max_epochs={epochs}).fit on {n} clips of 96 x 187, "
          f"{os.cpu_count()} CPUs")
    off, on = run(n, epochs, tuning=False), run(n, epochs, tuning=True)
    print(f"{'':24}{'wall s':>9}{'user s':>9}{'system s':>10}{'page faults':>13}")
    for name, r in (("glibc defaults", off), ("skmir malloc tuning", on)):
        print(f"{name:24}{r['wall']:9.2f}{r['user']:9.2f}{r['sys']:10.2f}{r['minflt']:13d}")
    print(f"{'ratio (tuned / default)':24}{on['wall'] / off['wall']:9.2f}"
          f"{on['user'] / off['user']:9.2f}{on['sys'] / max(off['sys'], 1e-9):10.2f}"
          f"{on['minflt'] / max(off['minflt'], 1):13.2f}")
    same = off["proba"] == on["proba"]
    print(f"same predicted probabilities: {same}")


if __name__ == "__main__":
    main()
