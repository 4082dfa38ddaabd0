"""Throughput of the torch representations (skmir.nn.representations) against librosa.

For each representation, on 32 clips of 30 s at 22050 Hz (noise plus tones, as in
bench_representations.py), prints, measured in one run:

- CPU rows at 1 and 2 threads: the time of the librosa call that skmir's transformer
  makes, on the whole (n_clips, n_samples) array, with ``threadpoolctl`` limiting
  BLAS to that many threads, and of the torch module run over the same numpy array
  by :func:`skmir.nn.representations.transform_array` (``backend="torch"``: batches of
  2**22 samples, numpy in and out) with ``torch.set_num_threads``; ``ratio`` is
  librosa's time over torch's (throughput; > 1 means torch is faster). Targets
  (issue #13): STFT, mel, MFCC >= 1.5 at 2 threads; CQT and chroma as they are.
- CUDA rows, when a GPU is available: librosa on one CPU core against the module on
  the GPU, end to end (numpy in and out, copies included) and resident (the clips
  already on the GPU, as in training; ``torch.cuda.synchronize`` around, after a
  warm-up). Targets: mel >= 100, CQT >= 30.

Each time is the best of ``--repeat`` runs, interleaved so that a busy machine
penalises both sides alike. ``--quick`` runs 2 clips of 2 s once (a smoke test; its
ratios mean nothing). Usage::

    python benchmarks/bench_frontends.py [--clips 32] [--seconds 30] [--repeat 3] [--quick]
"""

import argparse
import time

import librosa
import numpy as np
import torch
from threadpoolctl import threadpool_limits

from skmir.nn import representations as R

SR = 22050

# name, the librosa call skmir's transformer makes, the equal torch module
CASES = [
    ("STFT", lambda X: np.abs(librosa.stft(X)), R.STFT),
    ("MelSpectrogram", lambda X: librosa.feature.melspectrogram(y=X, sr=SR), R.MelSpectrogram),
    ("MFCC", lambda X: librosa.feature.mfcc(y=X, sr=SR), R.MFCC),
    ("CQT", lambda X: np.abs(librosa.cqt(X, sr=SR)), R.CQT),
    ("Chroma (CQT)", lambda X: librosa.feature.chroma_cqt(y=X, sr=SR, tuning=0.0),
     lambda: R.Chromagram(tuning=0.0)),
    ("Chroma (STFT)", lambda X: librosa.feature.chroma_stft(y=X, sr=SR, tuning=0.0),
     lambda: R.Chromagram(source="stft", tuning=0.0)),
]
GPU_CASES = ("MelSpectrogram", "CQT", "MFCC", "STFT")


def make_clips(n_clips, seconds):
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    freqs = rng.uniform(100, 1000, size=(n_clips, 1))
    return (np.sin(2 * np.pi * freqs * t) + 0.1 * rng.standard_normal((n_clips, t.size))
            ).astype(np.float32)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cuda_timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def cpu_rows(X, repeat, threads):
    rows = []
    for name, direct, make in CASES:
        module = make()
        direct(X[:1])  # librosa's caches (windows, filters) outside the timings
        R.transform_array(module, X[:1], device="cpu")
        best = {}
        for _ in range(repeat):
            for n in threads:
                with threadpool_limits(n):
                    t = timed(lambda f=direct: f(X))
                best[("librosa", n)] = min(best.get(("librosa", n), np.inf), t)
                torch.set_num_threads(n)
                t = timed(lambda m=module: R.transform_array(m, X, device="cpu"))
                best[("torch", n)] = min(best.get(("torch", n), np.inf), t)
        for n in threads:
            rows.append((name, f"cpu x{n}", best[("librosa", n)], best[("torch", n)]))
    return rows


def gpu_rows(X, repeat):
    rows = []
    resident = torch.from_numpy(X[: max(1, R.BLOCK_SAMPLES // X.shape[1])]).cuda()
    n_resident = len(resident)
    for name, direct, make in CASES:
        if name not in GPU_CASES:
            continue
        module = make().cuda()
        with torch.no_grad():
            module(resident)  # warm-up: kernels, cuFFT plans
        R.transform_array(module, X[:1], device="cuda")
        best = {}
        for _ in range(repeat):
            with threadpool_limits(1):
                best["librosa"] = min(best.get("librosa", np.inf), timed(lambda f=direct: f(X)))
            best["end"] = min(best.get("end", np.inf), cuda_timed(
                lambda m=module: R.transform_array(m, X, device="cuda")))
            with torch.no_grad():
                t = cuda_timed(lambda m=module: m(resident))
            # per clip, scaled to all clips: the resident batch is one transform batch
            best["resident"] = min(best.get("resident", np.inf), t * len(X) / n_resident)
        rows.append((name, "cuda end-to-end", best["librosa"], best["end"]))
        rows.append((name, "cuda resident", best["librosa"], best["resident"]))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 clips of 2 s, once")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.seconds, args.repeat = 2, 2.0, 1
    X = make_clips(args.clips, args.seconds)
    print(f"{args.clips} clips x {args.seconds:g} s at {SR} Hz, best of {args.repeat}; "
          f"torch {torch.__version__}, librosa {librosa.__version__}")
    rows = cpu_rows(X, args.repeat, (1, 2))
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}; librosa on one CPU core")
        rows += gpu_rows(X, args.repeat)
    else:
        print("no CUDA device: CPU rows only")
    print(f"{'representation':<16}{'where':<18}{'librosa s':>10}{'torch s':>10}{'ratio':>9}")
    for name, where, t_ref, t_torch in rows:
        print(f"{name:<16}{where:<18}{t_ref:>10.3f}{t_torch:>10.4f}{t_ref / t_torch:>9.2f}")


if __name__ == "__main__":
    main()
