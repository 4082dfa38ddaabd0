"""What does skmir's training cost over a plain PyTorch loop? And how fast does it predict?

Trains the same module (``skmir.nn.ArchitectureNet``, same architecture, same
initial weights) on the same data with the same batch size, optimizer and loss:

* skmir: ``NeuralClassifier.fit`` (skorch's loop, callbacks, history), with early
  stopping and augmentation off so that both loops do the same work;
* plain: ``DataLoader(TensorDataset(X, y), shuffle=True)`` and the textbook loop
  (zero_grad, forward, loss, backward, step, ``loss.item()``).

and prints the median epoch time of each and their ratio (target <= 1.10), then the
epoch time with skmir's default augmentation on, and prediction throughput
(clips/s) on whole clips.

It then times the plain loop once more on the same module with torch's own layers
where skmir's CPU blocks differ (``torch.nn.Dropout``, whose ``bernoulli_`` draws
cost about 6 ns each on a CPU, and 2D convolutions in torch's NCHW layout, where max
pooling is about ten times slower than channels-last): the speed-up of
:func:`skmir.nn.blocks.dropout` and channels-last ``c2`` blocks.

Usage::

    python benchmarks/bench_training.py                 # crnn, 512 clips of 96 x 128
    python benchmarks/bench_training.py --architecture conv1d --epochs 5
    python benchmarks/bench_training.py --quick
"""

import argparse
import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from skmir.neural import NeuralClassifier
from skmir.nn import ArchitectureNet, blocks

NO_AUGMENTATION = dict(crop_frames=None, gain=0.0, freq_mask=0, time_mask=0, mixup=0.0)


def plain_epochs(module, X, y, batch_size, lr, epochs, seed):
    """The textbook PyTorch loop; returns the duration of each epoch."""
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
                        batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    criterion = nn.CrossEntropyLoss()
    durations = []
    for _ in range(epochs):
        start = time.perf_counter()
        module.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = criterion(module(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        durations.append(time.perf_counter() - start)
    return durations


class _TorchConv2d(blocks.Conv2d):
    """A c2 block in torch's default (NCHW) layout."""

    def forward(self, x):
        return self.post(self.conv(x))


def with_torch_layers(module):
    """``module`` with torch's dropout and NCHW convolutions in place of skmir's."""
    for parent in module.modules():
        for name, child in parent.named_children():
            if isinstance(child, blocks.Dropout):
                setattr(parent, name, nn.Dropout(child.p))
            elif type(child) is blocks.Conv2d:
                child.__class__ = _TorchConv2d
    return module


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--architecture", default="crnn")
    parser.add_argument("--n-clips", type=int, default=512)
    parser.add_argument("--n-bins", type=int, default=96)
    parser.add_argument("--n-frames", type=int, default=128, help="frames per training clip")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs of each")
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_clips, args.n_bins, args.n_frames, args.epochs, args.repeats = 64, 32, 32, 2, 1

    rng = np.random.default_rng(0)
    X = rng.normal(size=(args.n_clips, args.n_bins, args.n_frames)).astype(np.float32)
    y = rng.integers(0, 8, size=args.n_clips)
    X4 = X[:, None]
    common = dict(max_epochs=args.epochs, batch_size=args.batch_size, early_stopping=False,
                  device="cpu", random_state=0)
    print(f"{args.architecture}: {args.n_clips} clips of {args.n_bins} x {args.n_frames}, "
          f"batch {args.batch_size}, {args.epochs} epochs x {args.repeats} runs, "
          f"{torch.get_num_threads()} torch threads")

    skmir_times, plain_times, augmented_times, torch_times = [], [], [], []
    for _ in range(args.repeats):  # alternate, so that load drifts hit both alike
        est = NeuralClassifier(args.architecture, **common, **NO_AUGMENTATION).fit(X, y)
        skmir_times += list(est.history_[:, "dur"])
        module = ArchitectureNet(est._layout(), est.input_shape_, est.n_outputs_)
        module.load_state_dict(est.net_.module_.state_dict())  # same module and size
        plain_times += plain_epochs(module, X4, y.astype(np.int64), args.batch_size,
                                    lr=est.lr, epochs=args.epochs, seed=0)
        reference = with_torch_layers(
            ArchitectureNet(est._layout(), est.input_shape_, est.n_outputs_))
        reference.load_state_dict(est.net_.module_.state_dict())
        torch_times += plain_epochs(reference, X4, y.astype(np.int64), args.batch_size,
                                    lr=est.lr, epochs=args.epochs, seed=0)
        aug = NeuralClassifier(args.architecture, **common).fit(X, y)
        augmented_times += list(aug.history_[:, "dur"])
    # The first epoch of each run pays for allocator and kernel warm-up: report medians.
    t_skmir, t_plain = statistics.median(skmir_times), statistics.median(plain_times)
    t_aug = statistics.median(augmented_times)
    t_torch = statistics.median(torch_times)
    print(f"epoch time  plain PyTorch        {t_plain:8.3f} s")
    print(f"epoch time  skmir (no aug.)      {t_skmir:8.3f} s   ratio {t_skmir / t_plain:.3f} "
          f"(target <= 1.10)")
    print(f"epoch time  skmir (default aug.) {t_aug:8.3f} s   ratio {t_aug / t_plain:.3f} "
          "(crops of half the clip: less compute)")
    print(f"epoch time  plain, torch's layers {t_torch:7.3f} s   skmir's CPU blocks "
          f"{t_torch / t_plain:.2f}x faster (nn.Dropout and NCHW c2 -> skmir's)")

    n_frames = 4 * args.n_frames  # prediction runs on whole clips, longer than crops
    X_long = rng.normal(size=(args.n_clips, args.n_bins, n_frames)).astype(np.float32)
    best = float("inf")
    for _ in range(max(args.repeats, 1)):
        start = time.perf_counter()
        est.predict_proba(X_long)
        best = min(best, time.perf_counter() - start)
    print(f"prediction  {args.n_clips / best:8.1f} clips/s  ({args.n_bins} x {n_frames} "
          f"per clip, batch {args.batch_size}, best of {max(args.repeats, 1)})")
    return {"plain": t_plain, "skmir": t_skmir, "augmented": t_aug, "torch_layers": t_torch,
            "ratio": t_skmir / t_plain, "clips_per_s": args.n_clips / best}


if __name__ == "__main__":
    main()
