"""Throughput of the torch representations (skmir.nn.representations) against librosa.

For each representation, on 32 clips of 30 s at 22050 Hz (noise plus tones, as in
bench_representations.py), prints, measured in one run:

- CPU rows at 1 and 2 threads: the time of the librosa call that skmir's transformer
  makes, on the whole (n_clips, n_samples) array, with ``threadpoolctl`` limiting
  BLAS to that many threads, and of the same transformer with ``backend="torch",
  device="cpu"`` on the same numpy array (its torch module over batches of the
  librosa backend's block sizes, numpy in and out) with ``torch.set_num_threads``;
  ``ratio`` is librosa's time over torch's (throughput; > 1 means torch is faster).
  Targets (issue #13): STFT, mel, MFCC >= 1.5 at 2 threads; CQT and chroma as they are.
  The chroma rows with ``tuning=None`` time skmir's transformers (librosa backend,
  which estimates the tuning clip by clip, against the torch backend).
- CUDA rows, when a GPU is available: librosa on one CPU core against the module on
  the GPU, end to end (the transformer with ``device="cuda"``: numpy in and out,
  copies included) and resident (the clips
  already on the GPU, as in training; ``torch.cuda.synchronize`` around, after a
  warm-up). Targets: mel >= 100, CQT >= 30.

- Training rows: one epoch of the same network (conv2d, defaults) from waveforms with
  the on-device front end (``frontend=LogMel(sr=16000)``) against from log-mel
  spectrograms precomputed by the librosa pipeline (MelSpectrogram, LogCompression,
  SpectrogramScaler), on ``--train-clips`` clips of 5 s at 16 kHz; each fit in a fresh
  process, which reports its median epoch time and its peak resident memory
  (``ru_maxrss``). Target (issue #13): at most 1.3x on the CPU.

Each time is the best of ``--repeat`` runs, interleaved so that a busy machine
penalises both sides alike. ``--quick`` runs 2 clips of 2 s once (a smoke test; its
ratios mean nothing). Usage::

    python benchmarks/bench_frontends.py [--clips 32] [--seconds 30] [--repeat 3]
        [--train-clips 256] [--train-epochs 4] [--quick] [--cases STFT,MFCC]
"""

import argparse
import json
import resource
import subprocess
import sys
import time

import librosa
import numpy as np
import torch
from sklearn.base import clone
from threadpoolctl import threadpool_limits

import skmir
from skmir.nn import representations as R

SR = 22050

# name, the librosa call skmir's transformer makes, the transformer
CASES = [
    ("STFT", lambda X: np.abs(librosa.stft(X)), skmir.STFT()),
    ("MelSpectrogram", lambda X: librosa.feature.melspectrogram(y=X, sr=SR),
     skmir.MelSpectrogram(sr=SR)),
    ("MFCC", lambda X: librosa.feature.mfcc(y=X, sr=SR), skmir.MFCC(sr=SR)),
    ("CQT", lambda X: np.abs(librosa.cqt(X, sr=SR)), skmir.CQT(sr=SR)),
    ("Chroma (CQT)", lambda X: librosa.feature.chroma_cqt(y=X, sr=SR, tuning=0.0),
     skmir.Chromagram(sr=SR, tuning=0.0)),
    ("Chroma (STFT)", lambda X: librosa.feature.chroma_stft(y=X, sr=SR, tuning=0.0),
     skmir.Chromagram(sr=SR, source="stft", tuning=0.0)),
    # tuning estimated per clip: the transformer's librosa backend, clip by clip (as
    # librosa would estimate one tuning for the whole array).
    ("Chroma (STFT) tuning=None", lambda X: skmir.Chromagram(sr=SR, source="stft").transform(X),
     skmir.Chromagram(sr=SR, source="stft")),
    ("Chroma (CQT) tuning=None", lambda X: skmir.Chromagram(sr=SR).transform(X),
     skmir.Chromagram(sr=SR)),
]


def on(transformer, device):
    """The transformer with the torch backend on ``device``."""
    return clone(transformer).set_params(backend="torch", device=device)
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


def cpu_rows(X, repeat, threads, cases):
    rows = []
    for name, direct, transformer in cases:
        torch_cpu = on(transformer, "cpu")
        direct(X[:1])  # librosa's caches (windows, filters) outside the timings
        torch_cpu.fit_transform(X[:1])
        best = {}
        for _ in range(repeat):
            for n in threads:
                with threadpool_limits(n):
                    t = timed(lambda f=direct: f(X))
                best[("librosa", n)] = min(best.get(("librosa", n), np.inf), t)
                torch.set_num_threads(n)
                t = timed(lambda m=torch_cpu: m.fit_transform(X))
                best[("torch", n)] = min(best.get(("torch", n), np.inf), t)
        for n in threads:
            rows.append((name, f"cpu x{n}", best[("librosa", n)], best[("torch", n)]))
    return rows


def gpu_rows(X, repeat, cases):
    rows = []
    resident = torch.from_numpy(X[: max(1, R.BLOCK_SAMPLES // X.shape[1])]).cuda()
    n_resident = len(resident)
    for name, direct, transformer in cases:
        if name not in GPU_CASES:
            continue
        torch_gpu = on(transformer, "cuda")
        module = R.from_transformer(transformer).cuda()
        with torch.no_grad():
            module(resident)  # warm-up: kernels, cuFFT plans
        torch_gpu.fit_transform(X[:1])
        best = {}
        for _ in range(repeat):
            with threadpool_limits(1):
                best["librosa"] = min(best.get("librosa", np.inf), timed(lambda f=direct: f(X)))
            best["end"] = min(best.get("end", np.inf), cuda_timed(
                lambda m=torch_gpu: m.fit_transform(X)))
            with torch.no_grad():
                t = cuda_timed(lambda m=module: m(resident))
            # per clip, scaled to all clips: the resident batch is one transform batch
            best["resident"] = min(best.get("resident", np.inf), t * len(X) / n_resident)
        rows.append((name, "cuda end-to-end", best["librosa"], best["end"]))
        rows.append((name, "cuda resident", best["librosa"], best["resident"]))
    return rows


TRAIN_SR = 16000


def train_worker(kind, n_clips, epochs):
    """One fit in this (fresh) process: median epoch time and peak memory."""
    from sklearn.pipeline import make_pipeline

    from skmir import LogCompression, MelSpectrogram, NeuralClassifier, SpectrogramScaler
    from skmir.nn.frontends import LogMel

    rng = np.random.default_rng(0)
    t = np.arange(5 * TRAIN_SR) / TRAIN_SR
    freqs = rng.uniform(100, 2000, size=(n_clips, 1))
    X = (np.sin(2 * np.pi * freqs * t) + 0.1 * rng.standard_normal((n_clips, t.size))
         ).astype(np.float32)
    y = (freqs[:, 0] > 1000).astype(int)  # a task with an answer: high or low tone
    kw = dict(max_epochs=epochs, early_stopping=False, random_state=0, device="cpu")
    start = time.perf_counter()
    if kind == "spectrogram":
        X = make_pipeline(MelSpectrogram(sr=TRAIN_SR, n_mels=96, hop_length=512),
                          LogCompression(), SpectrogramScaler()).fit_transform(X)
        est = NeuralClassifier("conv2d", **kw)
    else:
        est = NeuralClassifier("conv2d", frontend=LogMel(sr=TRAIN_SR), **kw)
    prepared = time.perf_counter() - start
    est.fit(X, y)
    dur = est.history_[:, "dur"]
    return {"epoch_s": float(np.median(dur[1:] if len(dur) > 1 else dur)),
            "prepare_s": prepared, "input_mb": X.nbytes / 2**20,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def training_rows(n_clips, epochs):
    out = {}
    for kind in ("spectrogram", "waveform"):
        run = subprocess.run([sys.executable, __file__, "--train-worker", kind, str(n_clips),
                              str(epochs)], capture_output=True, text=True)
        if run.returncode:
            raise RuntimeError(f"{kind} worker failed:\n{run.stderr[-3000:]}")
        out[kind] = json.loads(run.stdout.strip().splitlines()[-1])
    s, w = out["spectrogram"], out["waveform"]
    print(f"\ntraining conv2d on {n_clips} clips of 5 s at {TRAIN_SR} Hz ({epochs} epochs, "
          "each fit in a fresh process)")
    print(f"{'input':<34}{'epoch s':>9}{'input MB':>10}{'peak MB':>9}{'precompute s':>14}")
    print(f"{'log-mel precomputed (librosa)':<34}{s['epoch_s']:>9.2f}{s['input_mb']:>10.0f}"
          f"{s['peak_mb']:>9.0f}{s['prepare_s']:>14.2f}")
    print(f"{'waveforms, frontend=LogMel':<34}{w['epoch_s']:>9.2f}{w['input_mb']:>10.0f}"
          f"{w['peak_mb']:>9.0f}{w['prepare_s']:>14.2f}")
    print(f"epoch time waveform / spectrogram: {w['epoch_s'] / s['epoch_s']:.2f} "
          f"(target on the CPU <= 1.3); peak memory ratio {w['peak_mb'] / s['peak_mb']:.2f}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--train-worker":
        kind, n_clips, epochs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        print(json.dumps(train_worker(kind, n_clips, epochs)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--train-clips", type=int, default=256)
    parser.add_argument("--train-epochs", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="2 clips of 2 s, once")
    parser.add_argument("--cases", default="",
                        help="comma-separated names of the representations to time (all "
                             "by default), e.g. STFT,MFCC; --train-clips 0 skips training")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.seconds, args.repeat = 2, 2.0, 1
        args.train_clips, args.train_epochs = 16, 2
    X = make_clips(args.clips, args.seconds)
    print(f"{args.clips} clips x {args.seconds:g} s at {SR} Hz, best of {args.repeat}; "
          f"torch {torch.__version__}, librosa {librosa.__version__}")
    wanted = {c.strip() for c in args.cases.split(",") if c.strip()}
    cases = [case for case in CASES if not wanted or case[0] in wanted]
    rows = cpu_rows(X, args.repeat, (1, 2), cases)
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name()}; librosa on one CPU core")
        rows += gpu_rows(X, args.repeat, cases)
    else:
        print("no CUDA device: CPU rows only")
    print(f"{'representation':<28}{'where':<18}{'librosa s':>10}{'torch s':>10}{'ratio':>9}")
    for name, where, t_ref, t_torch in rows:
        print(f"{name:<28}{where:<18}{t_ref:>10.3f}{t_torch:>10.4f}{t_ref / t_torch:>9.2f}")
    if args.train_clips > 0:
        training_rows(args.train_clips, args.train_epochs)


if __name__ == "__main__":
    main()
