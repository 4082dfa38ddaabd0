"""How long does ``skmir compare`` take, with its folds side by side and one after another?

Runs the command as a user would, in fresh processes, one after the other: with its
default ``--n-jobs`` (a fit per CPU core, at most one per fold, on a CPU) and with
``--n-jobs 1`` (every fit in one process, on the threads that the machine's load
leaves: skmir's default before the fits ran side by side). Prints each run's wall
time as the command reports it (from the data's generation to the written report,
without Python's start-up), the ratio, and each model's mean accuracy in both runs:
torch's float sums depend on the thread count, so the networks' scores differ at
the level of rounding between the two, as between two machines.

Usage::

    python benchmarks/bench_compare.py                 # the defaults: 240 clips of 5 s
    python benchmarks/bench_compare.py --n-clips 48 --models mfcc-svm,conv2d   # quick
"""

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path


def run(extra, out):
    env = dict(os.environ)
    env.pop("SKMIR_NUM_THREADS", None)  # the command's own thread policy
    cmd = [sys.executable, "-m", "skmir.cli", "compare", "--out", str(out), *extra]
    text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    seconds = float(re.search(r" in (\d+) s\.", text).group(1))
    scores = defaultdict(list)
    with open(Path(out) / "results.csv") as f:
        for row in csv.DictReader(f):
            scores[row["model"]].append(float(row["score"]))
    return seconds, {m: sum(s) / len(s) for m, s in scores.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-clips", type=int, default=None)
    parser.add_argument("--models", default=None)
    args = parser.parse_args(argv)
    extra = []
    if args.n_clips:
        extra += ["--n-clips", str(args.n_clips)]
    if args.models:
        extra += ["--models", args.models]
    with tempfile.TemporaryDirectory() as tmp:
        print(" ".join(["skmir compare", *extra, f"on {os.cpu_count()} CPUs"]))
        default, default_scores = run(extra, Path(tmp) / "default")
        print(f"  default --n-jobs: {default:.0f} s")
        serial, serial_scores = run([*extra, "--n-jobs", "1"], Path(tmp) / "serial")
        print(f"  --n-jobs 1:       {serial:.0f} s")
    print(f"  ratio (--n-jobs 1 / default): {serial / default:.2f}x")
    print("  mean accuracy      default  --n-jobs 1")
    for model in default_scores:
        print(f"    {model:<16} {default_scores[model]:.3f}    {serial_scores[model]:.3f}")


if __name__ == "__main__":
    main()
