"""What does caching the frozen blocks save when fine-tuning a shipped network?

``NeuralClassifier("musicnn-msd", freeze=2)`` on musicnn log-mel spectrograms of
generated clips (8 s at 16 kHz by default), with the spectrogram augmentation off so
that nothing reaches the frozen blocks: their output is computed once per clip and
the rest of the network trains on it. The same fit with the cache switched off (the
frozen blocks run in every epoch, as before) is the reference, in the same process.
Prints the median epoch time of each, their ratio, the one-off cost of the cache, and
the largest difference between the two fits' predicted probabilities.

Usage::

    python benchmarks/bench_finetuning.py              # 120 clips of 8 s, 4 epochs
    python benchmarks/bench_finetuning.py --freeze 5
    python benchmarks/bench_finetuning.py --quick      # 24 clips of 4 s, 2 epochs
"""

import argparse
import statistics
import time

import numpy as np

from skmir.datasets import make_music
from skmir.neural import NeuralClassifier
from skmir.neural.inputs import ShippedInput
from skmir.pretrained.musicnn import MusicnnLogMel

NO_AUGMENTATION = dict(crop_frames=None, gain=0.0, freq_mask=0, time_mask=0, mixup=0.0)


def fit(S, y, freeze, epochs, cache):
    caches = ShippedInput.caches
    if not cache:
        ShippedInput.caches = lambda self: False
    try:
        start = time.perf_counter()
        clf = NeuralClassifier("musicnn-msd", freeze=freeze, max_epochs=epochs,
                               early_stopping=False, lr=3e-4, random_state=0,
                               device="cpu", **NO_AUGMENTATION).fit(S, y)
        total = time.perf_counter() - start
    finally:
        ShippedInput.caches = caches
    epoch = statistics.median(clf.history_[:, "dur"])
    return clf, epoch, total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=120)
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--freeze", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    n, duration, epochs = (24, 4.0, 2) if args.quick else (args.clips, args.duration,
                                                            args.epochs)
    X, y = make_music("genre", n_clips=n, duration=duration, sr=16000, random_state=0,
                      return_X_y=True)
    S = MusicnnLogMel().fit_transform(X)
    print(f"fine-tuning musicnn-msd, freeze={args.freeze}: {n} clips of {duration:g} s "
          f"({S.shape[-1]} frames), {epochs} epochs, no spectrogram augmentation")
    plain, plain_epoch, plain_total = fit(S, y, args.freeze, epochs, cache=False)
    cached, cached_epoch, cached_total = fit(S, y, args.freeze, epochs, cache=True)
    print(f"{'':34}{'epoch s':>9}{'fit s':>9}")
    print(f"{'frozen blocks in every epoch':34}{plain_epoch:9.2f}{plain_total:9.2f}")
    print(f"{'frozen blocks once (cached)':34}{cached_epoch:9.2f}{cached_total:9.2f}")
    print(f"ratio cached / every epoch: epoch {cached_epoch / plain_epoch:.2f}, "
          f"fit {cached_total / plain_total:.2f} (the cache's one-off cost: "
          f"{cached_total - epochs * cached_epoch:.2f} s)")
    diff = np.abs(cached.predict_proba(S) - plain.predict_proba(S)).max()
    print(f"largest difference between the two fits' probabilities: {diff:.1e}")


if __name__ == "__main__":
    main()
