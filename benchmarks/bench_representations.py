"""Time and memory of skmir's representations against direct librosa calls.

For each representation, on 32 clips of 30 s at 22050 Hz (noise plus tones), prints

- ``skmir/librosa``: time of ``Transformer(n_jobs=1).transform(X)`` over the time of
  the faster of two direct uses of librosa in the same process: one call on the
  whole (n_clips, n_samples) array, or a loop calling it clip by clip and stacking
  the results (target <= 1.05);
- ``speed-up n_jobs=2``: time with ``n_jobs=1`` over time with ``n_jobs=2``
  (target >= 1.7 on 2 cores);
- ``peak/output``: peak memory allocated during ``transform`` (tracemalloc, which
  sees numpy's buffers; n_jobs=1) over the size of the returned float32 array.

Each time is the best of ``--repeat`` runs, interleaved so that a busy machine
penalises both sides alike. Usage::

    python benchmarks/bench_representations.py [--clips 32] [--seconds 30] [--repeat 3]
"""

import argparse
import time
import tracemalloc
from functools import partial

import librosa
import numpy as np

from skmir import CQT, MFCC, STFT, Chromagram, MelSpectrogram

SR = 22050

CASES = [
    ("STFT", STFT, lambda X: np.abs(librosa.stft(X))),
    ("MelSpectrogram", MelSpectrogram, lambda X: librosa.feature.melspectrogram(y=X, sr=SR)),
    ("CQT", CQT, lambda X: np.abs(librosa.cqt(X, sr=SR))),
    ("Chromagram", Chromagram, lambda X: librosa.feature.chroma_cqt(y=X, sr=SR, tuning=0.0)),
    ("MFCC", MFCC, lambda X: librosa.feature.mfcc(y=X, sr=SR)),
]


def make_clips(n_clips, seconds):
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    freqs = rng.uniform(100, 1000, size=(n_clips, 1))
    return (np.sin(2 * np.pi * freqs * t) + 0.1 * rng.standard_normal((n_clips, t.size))
            ).astype(np.float32)


def best_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    X = make_clips(args.clips, args.seconds)
    print(f"{args.clips} clips x {args.seconds:g} s at {SR} Hz, best of {args.repeat}")
    print(f"{'representation':<16}{'batch s':>9}{'loop s':>8}{'skmir s':>9}"
          f"{'skmir/librosa':>15}{'n_jobs=2 s':>12}{'speed-up':>10}{'peak/output':>13}")
    for name, cls, direct in CASES:
        # Chromagram: fixed tuning, so that librosa's batch call and skmir's agree
        kwargs = {"tuning": 0.0} if cls is Chromagram else {}
        serial, parallel = cls(n_jobs=1, **kwargs), cls(n_jobs=2, **kwargs)
        serial.transform(X[:2])  # first-call costs (imports, caches) outside the timings
        direct(X[:2])  # librosa's caches (window, filters) outside the timings
        runs = {
            "batch": partial(direct, X),
            "loop": partial(lambda f: np.stack([f(x) for x in X]), direct),
            "one": partial(serial.transform, X),
            "two": partial(parallel.transform, X),
        }
        times = {key: [] for key in runs}
        for _ in range(args.repeat):
            for key, run in runs.items():
                times[key].append(best_time(run, 1))
        t_batch, t_loop, t_one, t_two = (min(times[k]) for k in runs)
        t_ref = min(t_batch, t_loop)
        tracemalloc.start()
        out = serial.transform(X)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(f"{name:<16}{t_batch:>9.2f}{t_loop:>8.2f}{t_one:>9.2f}{t_one / t_ref:>15.3f}"
              f"{t_two:>12.2f}{t_one / t_two:>10.2f}{peak / out.nbytes:>13.2f}")


if __name__ == "__main__":
    main()
