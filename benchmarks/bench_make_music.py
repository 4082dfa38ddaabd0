"""Generation speed of make_music as a real-time factor on one core.

Real-time factor = seconds of audio generated per second of wall time (target >= 50x).
One process, n_jobs=1, BLAS/OpenMP pinned to one thread.

    python benchmarks/bench_make_music.py
    python benchmarks/bench_make_music.py --n-clips 50 --duration 30 --sr 44100
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

from skmir.datasets import TASKS, make_music  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-clips", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--sr", type=int, default=22050)
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()

    make_music("genre", n_clips=1, duration=2.0, sr=args.sr, random_state=0)  # warm-up
    audio = args.n_clips * args.duration
    print(f"make_music: {args.n_clips} clips x {args.duration:g} s at {args.sr} Hz, one core, "
          f"best of {args.repeats}")
    print(f"{'task':<28} {'wall (s)':>9} {'real-time factor':>17}")
    configs = [(task, {}) for task in TASKS] + [
        ("genre, drums=False", dict(drums=False)),
        ("melody only", dict(drums=False, accompaniment=False)),
    ]
    for name, extra in configs:
        task = name.split(",")[0] if name != "melody only" else "instrument"
        best = float("inf")
        for r in range(args.repeats):
            t0 = time.perf_counter()
            make_music(task, n_clips=args.n_clips, duration=args.duration, sr=args.sr,
                       random_state=r, **extra)
            best = min(best, time.perf_counter() - t0)
        print(f"{name:<28} {best:>9.2f} {audio / best:>16.0f}x", flush=True)


if __name__ == "__main__":
    main()
