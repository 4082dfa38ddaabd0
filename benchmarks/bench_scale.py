"""Beyond one machine's memory: fitting from a feature store, building it in parallel.

Three measurements, printed as tables:

1. **Fit memory and epoch time**, from a store vs from the same clips in memory, for
   500 / 1,000 / 2,000 / 4,000 synthetic log-mel clips of 96 x 313 (10 s at 16 kHz,
   ~120 kB each; written straight to a store to keep the benchmark short). Each fit
   runs in a fresh process, which reports its peak resident memory
   (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and the median epoch time from
   skorch's history. Targets: the store's peak stays flat (within 20 %) while the
   in-memory one grows with the clips; the store's epoch time is at most 1.25x the
   in-memory one (the page cache is warm: the store was just written and is read
   once by the input check before training). The store checks each chunk's SHA-256
   the first time a process reads it, which happens in the fit's input check, before
   the first epoch; so the epoch ratio is the same with and without the checks, and
   their cost shows in the whole fit: fit time store/memory is printed with the
   checks (a fresh process) and without them (every chunk read once before the fit,
   so the fit finds them checked), with the checks' time per 1,000 clips.
2. **Store build throughput** from audio files (generated music, 5 s at 16 kHz,
   log-mel front end): ``n_jobs=1``, ``n_jobs=2`` (loky) and ``n_jobs=2`` on a
   2-worker Dask ``LocalCluster``; parallel efficiency = speed-up / 2.
3. **The whole pipeline** (build a store from audio, fit from it, predict it) vs the
   number of clips, each size in a fresh process: time and peak memory, with the
   slope of a least-squares line (``np.polyfit``) and its R^2 (linear: R^2 near 1).

Usage::

    python benchmarks/bench_scale.py            # the full run (idle machine, ~5 min)
    python benchmarks/bench_scale.py --quick    # smoke run with tiny sizes
    python benchmarks/bench_scale.py --fit-only --repeat 3  # part 1, best of 3
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 16000
CHUNK = 256
FIT = dict(architecture="conv1d", channels=8, hidden=16, batch_size=64,
           early_stopping=False, crop_frames=None, gain=0.0, freq_mask=0, time_mask=0,
           mixup=0.0, random_state=0)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Synthetic:
    """Log-mel-like clips made on request (seeded per slice), so that a store is
    written without holding the clips; two classes apart in a band of bins."""

    dtype = np.dtype(np.float32)

    def __init__(self, n, bins, frames):
        self.shape = (n, bins, frames)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        rng = np.random.default_rng(rows.start)
        X = rng.standard_normal((rows.stop - rows.start, *self.shape[1:]), dtype=np.float32)
        y = np.arange(rows.start, rows.stop) % 2
        X[y == 1, :8] += 1.0
        return X


def _frontend():
    from sklearn.pipeline import make_pipeline

    from skmir import AudioLoader, LogCompression, MelSpectrogram

    return make_pipeline(AudioLoader(sr=SR, duration=5.0), MelSpectrogram(sr=SR, n_mels=96),
                         LogCompression())


# ---------------------------------------------------------------- worker processes
def worker_fit(store_path, mode, epochs):
    """One fit in this (fresh) process; ``mode``: "memory", "store" (its chunks are
    checked on their first read, in the fit) or "store-checked" (read once before)."""
    from skmir import FeatureStore
    from skmir.neural import NeuralClassifier

    store = FeatureStore(store_path)
    warm = NeuralClassifier(max_epochs=1, **FIT)
    # torch's own start-up, before the baseline (on clips not from the store, whose
    # chunks stay unread)
    warm.fit(Synthetic(64, *store.shape[1:])[0:64], np.arange(64) % 2)
    check_s = 0.0
    if mode == "store-checked":
        start = time.perf_counter()
        store[::CHUNK]  # one row per chunk: each chunk's SHA-256 is checked
        check_s = time.perf_counter() - start
    before = peak_mb()
    X = store if mode.startswith("store") else np.asarray(store)
    start = time.perf_counter()
    est = NeuralClassifier(max_epochs=epochs, **FIT).fit(X, store.y)
    fit_s = time.perf_counter() - start
    durations = est.history_[:, "dur"]
    return {"before_mb": before, "peak_mb": peak_mb(), "fit_s": fit_s, "check_s": check_s,
            "epoch_s": float(np.median(durations[1:] if len(durations) > 1 else durations))}


def worker_pipeline(audio_dir, n, work):
    from skmir import build_store, load_audio_folder
    from skmir.neural import NeuralClassifier

    paths, labels = load_audio_folder(audio_dir)
    # The listing is sorted by label folder: take every k-th file so that n clips
    # still hold every genre.
    keep = np.linspace(0, len(paths) - 1, n).round().astype(int)
    paths, labels = paths[keep], labels[keep]
    start = time.perf_counter()
    store = build_store(_frontend(), paths, Path(work) / f"pipe{n}", y=labels, chunk_size=32,
                        verbose=0)
    built = time.perf_counter()
    est = NeuralClassifier(max_epochs=1, **FIT).fit(store, store.y)
    est.predict(store)
    end = time.perf_counter()
    return {"build_s": built - start, "fit_predict_s": end - built, "total_s": end - start,
            "peak_mb": peak_mb()}


def _run_worker(*args):
    out = subprocess.run([sys.executable, __file__, "--worker", *map(str, args)],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"worker {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the three parts
def fit_memory(sizes, frames, epochs, work, repeat=1):
    from sklearn.preprocessing import FunctionTransformer

    from skmir import build_store

    rows = []
    for n in sizes:
        data = Synthetic(n, 96, frames)
        path = Path(work) / f"fit{n}"
        build_store(FunctionTransformer(), data, path, y=np.arange(n) % 2, chunk_size=CHUNK,
                    verbose=0)
        size_mb = n * 96 * frames * 4 / 2 ** 20
        runs = {mode: [] for mode in ("store", "memory", "store-checked")}
        for _ in range(repeat):  # interleaved, so that a busy spell hits every mode
            for mode, done in runs.items():
                done.append(_run_worker("fit", path, mode, epochs))
        # the best of the repeats: noise (other processes) only ever adds time
        store, memory, checked = ({key: min(r[key] for r in done) for key in done[0]}
                                  for done in runs.values())
        rows.append((n, size_mb, store, memory, checked))
    print(f"\n1. Fit from a store vs in memory ({96} x {frames} clips, {epochs} epochs, "
          f"best of {repeat})")
    print(f"{'clips':>6} {'data MB':>8} {'store peak MB':>14} {'memory peak MB':>15} "
          f"{'store +MB':>10} {'memory +MB':>11} {'epoch s store':>14} {'epoch s mem':>12} "
          f"{'ratio':>6}")
    for n, size_mb, s, m, _ in rows:
        print(f"{n:>6} {size_mb:>8.0f} {s['peak_mb']:>14.0f} {m['peak_mb']:>15.0f} "
              f"{s['peak_mb'] - s['before_mb']:>10.0f} {m['peak_mb'] - m['before_mb']:>11.0f} "
              f"{s['epoch_s']:>14.3f} {m['epoch_s']:>12.3f} {s['epoch_s'] / m['epoch_s']:>6.2f}")
    peaks = [s["peak_mb"] for _, _, s, _, _ in rows]
    print(f"store peak: max/min = {max(peaks) / min(peaks):.2f} (target <= 1.20); "
          f"epoch ratio store/memory at {rows[-1][0]} clips = "
          f"{rows[-1][2]['epoch_s'] / rows[-1][3]['epoch_s']:.2f} (target <= 1.25)")
    print("\n   The chunks' SHA-256 checks (once per process, in the fit's input check): "
          "fit time store/memory")
    print(f"{'clips':>6} {'with checks':>12} {'without':>8} {'epoch with':>11} "
          f"{'epoch without':>14} {'checks s / 1000 clips':>22}")
    for n, _, s, m, c in rows:
        print(f"{n:>6} {s['fit_s'] / m['fit_s']:>12.2f} {c['fit_s'] / m['fit_s']:>8.2f} "
              f"{s['epoch_s'] / m['epoch_s']:>11.2f} {c['epoch_s'] / m['epoch_s']:>14.2f} "
              f"{c['check_s'] / n * 1000:>22.3f}")


def write_audio(n, work):
    from skmir.datasets import make_music, write_audio_folder

    music = make_music("genre", n_clips=n, duration=5.0, sr=SR, random_state=0, n_jobs=-1)
    root = Path(work) / "audio"
    write_audio_folder(music.data, music.target_names[music.target], root)
    return root


def build_throughput(audio_dir, n, work):
    import joblib

    from skmir import build_store, load_audio_folder

    paths, labels = load_audio_folder(audio_dir)
    paths, labels = paths[:n], labels[:n]
    chunk = max(1, n // 8)

    def timed(name, n_jobs):
        start = time.perf_counter()
        build_store(_frontend(), paths, Path(work) / f"build-{name}", y=labels,
                    chunk_size=chunk, n_jobs=n_jobs, verbose=0)
        return n / (time.perf_counter() - start)

    # Warm-ups, not timed: librosa's first call here, loky's worker start-up
    _frontend().transform(paths[:1])
    timed("warm-loky", 2)
    results = {"n_jobs=1": timed("1", 1), "n_jobs=2 (loky)": timed("2", 2)}
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=40) as cluster, Client(cluster):
        with joblib.parallel_config(backend="dask"):
            timed("warm", 2)  # the workers' imports, once
            results["n_jobs=2 (Dask LocalCluster, 2 workers)"] = timed("dask", 2)
    print(f"\n2. Store build throughput ({n} clips of 5 s, log-mel, chunks of {chunk})")
    print(f"{'':<42} {'clips/s':>8} {'speed-up':>9} {'efficiency':>11}")
    base = results["n_jobs=1"]
    for name, rate in results.items():
        jobs = 1 if name == "n_jobs=1" else 2
        print(f"{name:<42} {rate:>8.1f} {rate / base:>9.2f} {rate / base / jobs:>11.2f}")


def pipeline_scaling(audio_dir, sizes, work):
    rows = [(n, _run_worker("pipeline", audio_dir, n, work)) for n in sizes]
    print("\n3. The whole pipeline (build a store from audio, fit 1 epoch, predict)")
    print(f"{'clips':>6} {'build s':>8} {'fit+predict s':>14} {'total s':>8} {'peak MB':>8}")
    for n, r in rows:
        print(f"{n:>6} {r['build_s']:>8.2f} {r['fit_predict_s']:>14.2f} {r['total_s']:>8.2f} "
              f"{r['peak_mb']:>8.0f}")
    n = np.array([n for n, _ in rows], dtype=float)
    for key, unit in (("total_s", "s"), ("peak_mb", "MB")):
        v = np.array([r[key] for _, r in rows])
        slope, intercept = np.polyfit(n, v, 1)
        fitted = slope * n + intercept
        r2 = 1 - ((v - fitted) ** 2).sum() / max(((v - v.mean()) ** 2).sum(), 1e-12)
        print(f"{key}: slope {slope * 1000:.2f} {unit} per 1000 clips, intercept "
              f"{intercept:.2f} {unit}, R^2 {r2:.3f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="part 1: fits per size and mode; the best is kept")
    parser.add_argument("--fit-only", action="store_true",
                        help="only part 1 (fit from a store vs in memory, and the checks)")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "fit":
            result = worker_fit(rest[0], rest[1], int(rest[2]))
        else:
            result = worker_pipeline(rest[0], int(rest[1]), rest[2])
        print(json.dumps(result))
        return
    if args.quick:
        fit_sizes, frames, epochs, n_audio, pipe_sizes = [64, 128], 32, 2, 8, [4, 8]
    else:
        fit_sizes, frames, epochs, n_audio, pipe_sizes = [500, 1000, 2000, 4000], 313, 3, 800, \
            [100, 200, 400, 800]
    print(f"bench_scale: {os.cpu_count()} CPU(s)" + (" (--quick)" if args.quick else ""))
    with tempfile.TemporaryDirectory() as work:
        fit_memory(fit_sizes, frames, epochs, work, args.repeat)
        if args.fit_only:
            return
        audio = write_audio(n_audio, work)
        build_throughput(audio, n_audio, work)
        pipeline_scaling(audio, pipe_sizes, work)


if __name__ == "__main__":
    main()
