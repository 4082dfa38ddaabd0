"""The conventional pipeline of the paper's fig. 2(a) on generated music
=====================================================================

Cross-validates AudioLoader -> MFCC -> TimeSummary -> StandardScaler -> SVC on a
genre task that skmir.datasets.make_music generates, then grid-searches the number
of MFCCs and the SVM's C, every step of the pipeline being an sklearn estimator.

    python examples/mfcc_baseline.py [--quick]
"""

import argparse

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from skmir import make_mfcc_baseline
from skmir.datasets import make_music


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter clips")
    args = parser.parse_args(argv)
    n_clips, duration = (64, 3.0) if args.quick else (240, 5.0)
    music = make_music(task="genre", n_clips=n_clips, duration=duration, random_state=0)
    X, y = music.data, music.target
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    print(f"{n_clips} clips of {duration:g} s, {len(music.target_names)} genres "
          f"(chance {1 / len(music.target_names):.2f})")

    pipe = make_mfcc_baseline(sr=music.sr)
    scores = cross_val_score(pipe, X, y, cv=cv)
    print(f"MFCC + SVM accuracy: {scores.mean():.3f} ± {scores.std():.3f}")

    grid = GridSearchCV(pipe, {"mfcc__n_mfcc": [13, 20], "classifier__C": [1.0, 10.0]}, cv=cv)
    grid.fit(X, y)
    print(f"best of grid: {grid.best_params_} -> {grid.best_score_:.3f}")
    return float(np.mean(scores))


if __name__ == "__main__":
    main()
