"""Time stretch and pitch shift of a training batch: per clip against batched.

Prints, measured in one run:

- One augmentation call on ``--clips`` clips (32) of ``--seconds`` (4 s) at 16 kHz, a
  pitch shift of up to 2 semitones and a time stretch of up to 10 % per clip: the
  per-clip loop that :class:`skmir.nn.augmentation.WaveformAugmentation` ran before
  (one STFT, phase vocoder, iSTFT and FFT resampling per clip; kept here,
  :func:`per_clip_shift`, as the reference) against the batched
  :func:`skmir.nn.vocoder.shift_batch`; their ratio, and the largest difference
  between the two relative to each clip's peak. Then the batched call on the same
  draws moved to fast FFT lengths, as the augmentation runs it
  (:func:`skmir.nn.vocoder.snap_to_fast_lengths`), split into the phase vocoder
  and the resampling.
- An epoch of ``NeuralClassifier("conv1d", frontend=Chromagram(sr=16000,
  tuning=0.0), pitch_shift=2)`` against the same with ``pitch_shift=0`` on
  ``--train-clips`` (400) clips of ``--seconds``, and the same for the conv2d
  network on ``frontend=LogMel(sr=16000)``; the ratios (target, issue 26: the
  chroma case <= 2x).

Each time is the best of ``--repeat`` runs (epochs: the fastest epoch of a fit of
``--epochs``). Timings on a shared machine are indicative only. ``--quick`` runs a
few short clips once (a smoke test; its ratios mean nothing). ``--epochs-only`` times
the epochs alone, which also runs on skmir before batching (for a before/after on the
same machine). Usage::

    python benchmarks/bench_augmentation.py [--clips 32] [--seconds 4]
        [--train-clips 400] [--epochs 3] [--repeat 3] [--quick] [--epochs-only]
"""

import argparse
import math
import time

import numpy as np
import torch

from skmir import Chromagram, NeuralClassifier
from skmir.io import Waveforms
from skmir.nn.frontends import LogMel
from skmir.nn.vocoder import resample

SR = 16000


def _per_clip_phase_vocoder(D, rate, hop_length):
    """The phase vocoder before batching: one clip, phases accumulated in float64."""
    steps = torch.arange(0, D.shape[-1], rate, device=D.device, dtype=torch.float64)
    phi_advance = torch.linspace(0, math.pi * hop_length, D.shape[-2], device=D.device,
                                 dtype=torch.float64)
    D = torch.nn.functional.pad(D, (0, 2))
    i = steps.floor().long()
    alpha = (steps - i).to(torch.float32)
    a, b = D[..., i], D[..., i + 1]
    mag = (1 - alpha) * a.abs() + alpha * b.abs()
    dphase = (b.angle() - a.angle()).double() - phi_advance[:, None]
    dphase = dphase - 2 * math.pi * torch.round(dphase / (2 * math.pi))
    dphase = dphase + phi_advance[:, None]
    phase = D[..., :1].angle().double() + torch.cumsum(dphase, dim=-1) - dphase
    return torch.polar(mag, phase.float())


def per_clip_time_stretch(x, rate):
    """The time stretch before batching (librosa's algorithm), one clip."""
    n = x.shape[-1]
    n_out = int(round(n / rate))
    if rate == 1:
        return x
    n_fft = 2048
    while n_fft > 16 and n_fft > n:
        n_fft //= 2
    hop = n_fft // 4
    window = torch.hann_window(n_fft, device=x.device)
    flat = x.reshape(-1, n).float()
    D = torch.stft(flat, n_fft, hop, window=window, center=True, pad_mode="constant",
                   return_complex=True)
    D = _per_clip_phase_vocoder(D, rate, hop)
    y = torch.istft(D, n_fft, hop, window=window, center=True, length=n_out)
    return y.reshape(*x.shape[:-1], n_out)


def per_clip_shift(x, ratio, rate):
    """The stretch and shift of one clip before batching (the reference)."""
    stretched = per_clip_time_stretch(x, rate * ratio)
    if ratio == 1:
        return stretched
    return resample(stretched, int(math.ceil(stretched.shape[-1] * ratio)))


def clips(n_clips, seconds, seed=0):
    """Noise plus two decaying tones per clip, float32, (n_clips, n_samples)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = rng.uniform(110, 880, (n_clips, 2, 1))
    X = np.sin(2 * np.pi * f0 * t).sum(axis=1) * np.exp(-t)
    return (X + 0.1 * rng.normal(size=X.shape)).astype(np.float32)


def best(f, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def augmentation_call(args):
    # this part needs skmir with batching (--epochs-only also runs on older versions)
    from skmir._allocator import keep_freed_memory
    from skmir.nn.vocoder import shift_batch, snap_to_fast_lengths, time_stretch_batch

    keep_freed_memory()  # as training does: the calls are timed as training runs them

    X = torch.from_numpy(clips(args.clips, args.seconds))
    gen = torch.Generator().manual_seed(0)
    rates = torch.exp(math.log1p(0.1) * (2 * torch.rand(len(X), generator=gen) - 1)).tolist()
    steps = (4 * torch.rand(len(X), generator=gen) - 2).tolist()
    ratios = [2.0 ** (-s / 12) for s in steps]
    old = [per_clip_shift(x, q, r) for x, q, r in zip(X, ratios, rates, strict=True)]
    new, lengths = shift_batch(X, ratios, rates)
    diff = max(float((new[b, :m] - o).abs().max() / o.abs().max())
               for b, (m, o) in enumerate(zip(lengths, old, strict=True)))
    t_old = best(lambda: [per_clip_shift(x, q, r)
                          for x, q, r in zip(X, ratios, rates, strict=True)], args.repeat)
    t_new = best(lambda: shift_batch(X, ratios, rates), args.repeat)
    print(f"augmentation call, {len(X)} clips of {args.seconds:g} s, the draws as drawn: "
          f"per clip {t_old * 1e3:.0f} ms, batched {t_new * 1e3:.0f} ms, ratio "
          f"{t_old / t_new:.2f}; max |batched - per clip| / peak {diff:.1e}")
    # What WaveformAugmentation runs: each draw moved to lengths whose FFTs run fast.
    ratios, rates = snap_to_fast_lengths(X.shape[-1], ratios, rates)
    t_snapped = best(lambda: shift_batch(X, ratios, rates), args.repeat)
    stretch_rates = [r * q for r, q in zip(rates, ratios, strict=True)]
    t_stretch = best(lambda: time_stretch_batch(X, stretch_rates), args.repeat)
    print(f"  the draws snapped to fast FFT lengths (as in training): batched "
          f"{t_snapped * 1e3:.0f} ms, {t_old / t_snapped:.2f}x the per-clip loop; of it, "
          f"the phase vocoder {t_stretch * 1e3:.0f} ms, the FFT resampling the rest")


def epoch_time(estimator, X, y, epochs):
    estimator.set_params(max_epochs=epochs, random_state=0, device="cpu").fit(X, y)
    return min(estimator.net_.history[:, "dur"])


def epochs(args):
    X = Waveforms(clips(args.train_clips, args.seconds, seed=1), sr=SR)
    y = np.arange(args.train_clips) % 2
    cases = [("conv1d on Chromagram", lambda p: NeuralClassifier(
                  "conv1d", frontend=Chromagram(sr=SR, tuning=0.0), pitch_shift=p)),
             ("conv2d on LogMel", lambda p: NeuralClassifier(
                  frontend=LogMel(sr=SR), pitch_shift=p))]
    for name, make in cases:
        plain = epoch_time(make(0), X, y, args.epochs)
        shifted = epoch_time(make(2), X, y, args.epochs)
        print(f"epoch, {name}, {args.train_clips} clips of {args.seconds:g} s: "
              f"pitch_shift=0 {plain:.2f} s, pitch_shift=2 {shifted:.2f} s, "
              f"ratio {shifted / plain:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--train-clips", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs-only", action="store_true",
                        help="only the epochs (runs on skmir before batching too)")
    args = parser.parse_args()
    if args.quick:
        args.clips, args.seconds, args.train_clips, args.epochs, args.repeat = 4, 1.0, 16, 1, 1
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; timings on a "
          "shared machine are indicative only")
    if not args.epochs_only:
        augmentation_call(args)
    epochs(args)


if __name__ == "__main__":
    main()
