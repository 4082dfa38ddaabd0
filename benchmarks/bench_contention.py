"""How much slower is a fit beside another CPU-bound process? (issue #12, "Under load")

Times a small ``NeuralClassifier.fit`` and a ``MelSpectrogram`` transform

* alone (idle machine),
* beside one CPU-bound process (a busy loop),
* beside one niced CPU-bound process (``nice 19``),

for several torch intra-op thread settings, each measured in a fresh Python process
so that the settings apply before torch starts its OpenMP runtime:

* ``1`` and ``2``: ``SKMIR_NUM_THREADS=1`` / ``2``, fixed;
* ``auto``: skmir's default (:class:`skmir.nn.training.SkmirNet` picks the CPUs that
  other processes leave idle at the start of each fit);
* ``2-passive``: two threads with ``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads
  sleep instead of spinning).

and prints, per setting, the seconds and the ratio loaded / idle, then each
loaded time over the best idle time of all settings. The target for skmir's
default: a fit beside one CPU-bound process on 2 cores at most 2.5x slower than
idle. Run it on an otherwise idle machine: other jobs make every ratio meaningless.

Usage::

    python benchmarks/bench_contention.py            # ~3-5 min on 2 cores
    python benchmarks/bench_contention.py --quick    # smoke run, ~1 min
    python benchmarks/bench_contention.py --settings 1,auto --repeats 3
"""

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {
    "1": {"SKMIR_NUM_THREADS": "1"},
    "2": {"SKMIR_NUM_THREADS": "2"},
    "auto": {},
    "2-passive": {"SKMIR_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
}
CONDITIONS = ("idle", "busy", "busy-niced")


def _spin(niced):
    if niced:
        os.nice(19)
    while True:  # CPU-bound: a researcher's other experiment
        pass


def worker(quick):
    """Time one fit and one transform in this process; print them as JSON."""
    import numpy as np

    from skmir import MelSpectrogram
    from skmir.neural import NeuralClassifier

    rng = np.random.default_rng(0)
    n, bins, frames, epochs = (32, 32, 64, 2) if quick else (128, 64, 128, 4)
    y = np.tile([0, 1], n // 2)
    X = rng.standard_normal((n, bins, frames)).astype(np.float32)
    X[y == 1, : bins // 2] += 1.0  # an easy task: the time, not the score, matters
    clf = NeuralClassifier(architecture="conv2d", max_epochs=epochs, early_stopping=False,
                           random_state=0)
    clf.fit(X[:8], y[:8])  # warm-up: lazy imports, first allocations
    start = time.perf_counter()
    clf.fit(X, y)
    fit = time.perf_counter() - start
    waves = rng.standard_normal((8 if quick else 32, 16000 * 5)).astype(np.float32)
    mel = MelSpectrogram(sr=16000, n_mels=64)
    mel.fit_transform(waves[:1])
    start = time.perf_counter()
    mel.fit_transform(waves)
    transform = time.perf_counter() - start
    import torch

    print(json.dumps({"fit": fit, "transform": transform,
                      "threads_after_fit": torch.get_num_threads(),
                      "threads_in_fit": getattr(clf.net_, "num_threads_", None)}))


def measure(setting, condition, quick):
    env = {k: v for k, v in os.environ.items()
           if k not in ("SKMIR_NUM_THREADS", "OMP_WAIT_POLICY")}
    env.update(SETTINGS[setting])
    hog = None
    if condition != "idle":
        hog = multiprocessing.Process(target=_spin, args=(condition == "busy-niced",),
                                      daemon=True)
        hog.start()
        time.sleep(0.5)  # let the scheduler see it
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--worker"] + (["--quick"] if quick else []),
            env=env, check=True, capture_output=True, text=True).stdout
    finally:
        if hog is not None:
            hog.terminate()
            hog.join()
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny workload, fewer runs")
    parser.add_argument("--settings", default=None,
                        help=f"comma-separated, from {','.join(SETTINGS)} (default: all; "
                             "--quick: 1,auto)")
    parser.add_argument("--conditions", default=None,
                        help=f"comma-separated, from {','.join(CONDITIONS)} (default: all; "
                             "--quick: idle,busy)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="runs per cell, median reported (default: 2; --quick: 1)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.quick)
    settings = (args.settings or ("1,auto" if args.quick else ",".join(SETTINGS))).split(",")
    conditions = (args.conditions or ("idle,busy" if args.quick else ",".join(CONDITIONS))
                  ).split(",")
    repeats = args.repeats or (1 if args.quick else 2)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"{cpus} CPUs, load average {os.getloadavg()[0]:.2f} before the runs "
          "(should be ~0: other jobs spoil every ratio)")
    results = {}
    for setting in settings:
        for condition in conditions:
            runs = [measure(setting, condition, args.quick) for _ in range(repeats)]
            results[setting, condition] = {
                key: statistics.median(r[key] for r in runs) for key in ("fit", "transform")}
            threads = runs[-1]["threads_in_fit"]
            print(f"  {setting:>9} {condition:>10}: fit {results[setting, condition]['fit']:6.2f}"
                  f" s (threads in fit: {threads}), transform "
                  f"{results[setting, condition]['transform']:5.2f} s", flush=True)
    print("\nratio to the same setting idle (fit / transform):")
    for setting in settings:
        idle = results.get((setting, "idle"))
        if idle is None:
            continue
        cells = [f"{c} {results[setting, c]['fit'] / idle['fit']:.2f}x / "
                 f"{results[setting, c]['transform'] / idle['transform']:.2f}x"
                 for c in conditions if c != "idle"]
        print(f"  {setting:>9}: " + ", ".join(cells))
    best = min((r["fit"] for (s, c), r in results.items() if c == "idle"), default=None)
    if best is not None:
        print("\nfit ratio to the best idle fit (target for 'auto' beside one busy process: "
              "<= 2.5x):")
        for setting in settings:
            print(f"  {setting:>9}: " + ", ".join(
                f"{c} {results[setting, c]['fit'] / best:.2f}x" for c in conditions))


if __name__ == "__main__":
    sys.exit(main())
