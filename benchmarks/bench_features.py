"""How fast do the shipped networks turn audio into features on the CPU?

``TransferFeatures(name).fit_transform`` on generated clips (10 s at 16 kHz by
default), as a real-time factor (seconds of audio per second of wall time), split
into the front end (the network's log-mel, librosa) and the network; then the network
alone under the CPU options of PyTorch's performance guide, each against skmir's
default (``torch.no_grad``, float32) in the same process:

* ``torch.inference_mode`` instead of ``no_grad``;
* channels-last memory format for the 2-D convolutions;
* bfloat16 autocast (and the largest difference it makes to the features);
* ``torch.compile`` (and what compiling costs).

It also times ``TransferFeatures.transform`` in a child process with glibc's malloc
defaults (``SKMIR_MALLOC_TUNING=0``): loading a shipped network raises glibc's mmap
and trim thresholds (:mod:`skmir._allocator`), so that each batch reuses the heap
instead of page-faulting fresh ``mmap`` memory in; a process cannot lower them again.

Usage::

    python benchmarks/bench_features.py                     # musicnn-msd, 32 clips
    python benchmarks/bench_features.py --network vgg-msd
    python benchmarks/bench_features.py --quick
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import torch

from skmir.datasets import make_music
from skmir.features import TransferFeatures
from skmir.pretrained import load_pretrained


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--network", default="musicnn-msd")
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--transform-only", action="store_true",
                        help="time TransferFeatures.transform alone (the child process)")
    args = parser.parse_args(argv)
    n, duration, repeat = (4, 4.0, 1) if args.quick else (args.clips, args.duration,
                                                          args.repeat)
    X = make_music("genre", n_clips=n, duration=duration, sr=16000, random_state=0,
                   return_X_y=True)[0]
    audio = n * duration
    print(f"{args.network}: {n} clips of {duration:g} s at 16 kHz, "
          f"{torch.get_num_threads()} torch threads")

    model = TransferFeatures(args.network).fit(X[:1])
    total, features = best_of(lambda: model.transform(X), repeat)
    if args.transform_only:
        print(f"TRANSFORM {audio / total}")
        return
    child = subprocess.run(
        [sys.executable, __file__, "--network", args.network, "--clips", str(args.clips),
         "--duration", str(args.duration), "--repeat", str(args.repeat),
         *(["--quick"] if args.quick else []), "--transform-only"],
        env={**os.environ, "SKMIR_MALLOC_TUNING": "0"}, capture_output=True, text=True,
        check=True)
    untuned = float(child.stdout.split("TRANSFORM")[-1])
    net = load_pretrained(args.network)
    front, S = best_of(lambda: net.frontend.transform(X), repeat)
    P = net.patches(S, None)
    inputs = torch.from_numpy(np.ascontiguousarray(P.reshape(-1, *P.shape[2:])))
    print(f"TransferFeatures.transform: {audio / total:7.1f}x real time "
          f"(front end alone {audio / front:.1f}x; with glibc's malloc defaults "
          f"{untuned:.1f}x)")

    def forward(module, context):
        def run():
            with context():
                return torch.cat([module(inputs[i:i + 64]).float()
                                  for i in range(0, len(inputs), 64)])
        return run

    module = net.module.eval()
    base, ref = best_of(forward(module, torch.no_grad), repeat)
    rows = [("no_grad, float32 (skmir's default)", base, 0.0)]
    t, out = best_of(forward(module, torch.inference_mode), repeat)
    rows.append(("inference_mode", t, float((out - ref).abs().max())))
    module.to(memory_format=torch.channels_last)
    t, out = best_of(forward(module, torch.no_grad), repeat)
    rows.append(("channels_last", t, float((out - ref).abs().max())))
    module.to(memory_format=torch.contiguous_format)

    def bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)

    with torch.no_grad():
        t, out = best_of(forward(module, bf16), repeat)
    rows.append(("bfloat16 autocast", t, float((out - ref).abs().max())))
    if not args.no_compile:
        start = time.perf_counter()
        compiled = torch.compile(module)
        forward(compiled, torch.no_grad)()  # the first call compiles
        cost = time.perf_counter() - start
        t, out = best_of(forward(compiled, torch.no_grad), repeat)
        rows.append((f"torch.compile (compiling took {cost:.0f} s)", t,
                     float((out - ref).abs().max())))
    print(f"the network alone on {len(inputs)} inputs:")
    print(f"  {'':44}{'x real time':>12}{'vs default':>11}{'max |diff|':>11}")
    for name, t, diff in rows:
        print(f"  {name:44}{audio / t:12.1f}{base / t:11.2f}{diff:11.1e}")
    assert np.isfinite(features).all()


if __name__ == "__main__":
    main()
