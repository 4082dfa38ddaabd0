"""Networks trained on real music as feature extractors, and fine-tuned (sec. 2.3)
===============================================================================

skmir ships the four networks of musicnn 0.1.0 (Pons and Serra, 2019), trained on
real music to tag MagnaTagATune or Million Song Dataset clips, beside
``choi2017-tags``, trained on generated music. On a target task none of them saw --
the genres of skmir's generated music, other clips, other seed -- this script
cross-validates, on the same folds:

- ``mfcc-svm``: the conventional baseline (MFCC mean and std -> SVC);
- ``choi2017-tags``, ``musicnn-msd``, ``vgg-msd``: ``TransferFeatures(name)`` ->
  StandardScaler -> SVC, each network's default layers (``layers="auto"``);
- ``musicnn-msd fine-tuned``: ``MusicnnLogMel -> NeuralClassifier("musicnn-msd")``,
  the network's weights as the start of training, a new output layer, the front
  end frozen (``freeze=2``).

A transfer network trains nothing on the target data, so its features are computed
once for all clips and only the SVC is cross-validated (the same numbers as
cross-validating the whole pipeline, in a fraction of the time). With ``--layers``
the script also compares the layer choices behind ``layers="auto"``.

Measured with ``--layers`` (240 clips of 5 s, 8 genres, 5-fold; 20 min on a 2-core
CPU, 17.5 of them fine-tuning), accuracy mean ± std over folds:

=====================================  =============
model                                  accuracy
=====================================  =============
musicnn-msd fine-tuned                 0.679 ± 0.031
vgg-msd (auto: pool1-pool5)            0.675 ± 0.055
choi2017-tags                          0.671 ± 0.055
musicnn-msd (auto: mean + max pool)    0.654 ± 0.045
musicnn-msd max_pool                   0.600 ± 0.083
musicnn-msd max_pool + penultimate     0.567 ± 0.052
MFCC + SVC                             0.558 ± 0.046
musicnn-msd penultimate                0.487 ± 0.050
=====================================  =============

Usage::

    python examples/musicnn_transfer.py             # 240 clips of 5 s, 5-fold
    python examples/musicnn_transfer.py --layers    # and the layer choices of "auto"
    python examples/musicnn_transfer.py --quick     # a smoke run
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import skmir
from skmir.datasets import make_music
from skmir.model_selection import corrected_ttest
from skmir.pretrained.musicnn import MusicnnLogMel

SR = 16000
# The choices behind TransferFeatures(layers="auto"): musicnn's authors recommend
# max_pool or penultimate; the paper's recipe concatenates every conv layer ("all").
LAYER_CHOICES = {
    "musicnn-msd": [["max_pool", "penultimate"], ["max_pool"], ["penultimate"],
                    ["mean_pool", "max_pool"], "all"],
    "vgg-msd": [["pool4", "pool5"], ["pool5"], "all"],
}


def svc():
    return make_pipeline(StandardScaler(), SVC())


def fine_tuned(quick):
    return make_pipeline(
        MusicnnLogMel(),
        skmir.NeuralClassifier("musicnn-msd", freeze=2, lr=3e-4,
                               max_epochs=2 if quick else 15, n_iter_no_change=4,
                               random_state=0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few clips, 3 folds")
    parser.add_argument("--layers", action="store_true", help="also compare layer choices")
    args = parser.parse_args(argv)
    n_clips, folds = (24, 3) if args.quick else (240, 5)
    start = time.perf_counter()
    music = make_music("genre", n_clips=n_clips, duration=5.0, sr=SR, random_state=7)
    X, y = music.data, music.target_names[music.target]
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)

    # Features of the transfer networks: fixed functions of each clip, computed once.
    features, seconds = {}, {}
    sources = {"choi2017-tags": ["auto"], "musicnn-msd": ["auto"], "vgg-msd": ["auto"]}
    if args.layers:
        sources.update({name: choices for name, choices in LAYER_CHOICES.items()})
    for name, choices in sources.items():
        for layers in choices:
            key = name if layers == "auto" else f"{name} {layers}"
            t0 = time.perf_counter()
            features[key] = skmir.TransferFeatures(name, layers=layers).fit_transform(X)
            seconds[key] = time.perf_counter() - t0
            print(f"{key}: {features[key].shape[1]} features in {seconds[key]:.0f} s",
                  flush=True)

    models = {"mfcc-svm": skmir.make_mfcc_baseline(sr=SR), **{k: svc() for k in features},
              "musicnn-msd fine-tuned": fine_tuned(args.quick)}
    inputs = {**{k: v for k, v in features.items()}, "mfcc-svm": X, "musicnn-msd fine-tuned": X}
    results = {}
    for name, model in models.items():
        t0 = time.perf_counter()
        res = skmir.compare({name: model}, inputs[name], y, cv=cv, baseline=None, verbose=0)
        results[name] = res.scores[name]
        print(f"{name}: {res.scores[name].mean():.3f} ± {res.scores[name].std():.3f} "
              f"({time.perf_counter() - t0 + seconds.get(name, 0):.0f} s)", flush=True)

    base = results["mfcc-svm"]
    n_train = len(y) * (folds - 1) / folds
    print(f"\ngenerated genre: {n_clips} clips of 5 s, {len(music.target_names)} classes "
          f"(chance {1 / len(music.target_names):.3f}), {folds}-fold CV, "
          f"{time.perf_counter() - start:.0f} s in all\n")
    print("| model | accuracy (mean ± std over folds) | vs mfcc-svm | p |")
    print("| --- | --- | --- | --- |")
    for name, s in sorted(results.items(), key=lambda kv: -kv[1].mean()):
        if name == "mfcc-svm":
            print(f"| {name} | {s.mean():.3f} ± {s.std():.3f} | baseline | |")
            continue
        _, p = corrected_ttest(s - base, n_train, len(y) - n_train)
        print(f"| {name} | {s.mean():.3f} ± {s.std():.3f} | {np.mean(s - base):+.3f} "
              f"| {p:.3f} |")
    return {name: float(s.mean()) for name, s in results.items()}


if __name__ == "__main__":
    main()
