"""How hard is make_music? 5-fold CV accuracy of the MFCC + SVC baseline per task.

The conventional pipeline of the paper's fig. 2(a) (``skmir.make_mfcc_baseline``:
MFCC -> mean and std over time -> StandardScaler -> RBF SVC) on generated clips, next
to chance (the classes are balanced). ``genre`` is meant to land between 0.45 and
0.80: learnable, not solved.

    python benchmarks/calibrate_make_music.py                     # 600 clips of 10 s
    python benchmarks/calibrate_make_music.py --n-clips 200 --duration 5   # quicker
    python benchmarks/calibrate_make_music.py --tasks key mode --n-clips 240 --duration 8 \
        --sr 16000 --chroma --harmony rich     # key/mode: also chroma template and SVC
"""

import argparse
import time

import librosa
import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from skmir import make_mfcc_baseline
from skmir.datasets import make_music
from skmir.tonality import KeyTemplateClassifier


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["genre", "instrument", "key", "mode"])
    parser.add_argument("--n-clips", type=int, default=600)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--sr", type=int, default=22050)
    parser.add_argument("--random-state", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=1, help="clips generated / folds in parallel")
    parser.add_argument("--harmony", choices=["plain", "rich"], default="plain",
                        help="make_music's harmony (rich: chromatic chords, inversions, "
                             "non-chord tones, +-50 cent tuning)")
    parser.add_argument("--chroma", action="store_true",
                        help="key and mode: also a Krumhansl-Kessler template on mean chroma "
                             "and mean+std chroma + StandardScaler + SVC")
    args = parser.parse_args()

    print(f"make_music: {args.n_clips} clips of {args.duration:g} s at {args.sr} Hz, "
          f"random_state={args.random_state}, harmony={args.harmony!r}; make_mfcc_baseline(), "
          "5-fold stratified CV\n")
    rows, tonal = [], []
    for task in args.tasks:
        t0 = time.perf_counter()
        music = make_music(task, n_clips=args.n_clips, duration=args.duration, sr=args.sr,
                           random_state=args.random_state, n_jobs=args.n_jobs,
                           harmony=args.harmony)
        t1 = time.perf_counter()
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
        scores = cross_val_score(make_mfcc_baseline(sr=args.sr), music.data, music.target,
                                 cv=cv, n_jobs=args.n_jobs)
        t2 = time.perf_counter()
        k = len(music.target_names)
        rows.append((task, k, scores.mean(), scores.std(), 1 / k))
        if task == "genre":
            cues = single_cues(music, cv)
        if args.chroma and task in ("key", "mode"):
            tonal.append((task, *chroma_scores(music, cv)))
        print(f"  {task}: generated in {t1 - t0:.0f} s, cross-validated in {t2 - t1:.0f} s",
              flush=True)
    print()
    print("=========== ======= ================ =========")
    print("task        classes MFCC + SVC       chance")
    print("=========== ======= ================ =========")
    for task, k, mean, std, chance in rows:
        print(f"{task:<11} {k:<7} {mean:.3f} +- {std:.3f}   {chance:.3f}")
    print("=========== ======= ================ =========")
    if "genre" in args.tasks:
        print("\nNo single cue names the genre: 5-fold CV accuracy of a decision tree on one")
        print("piece of the generator's own metadata at a time (an oracle for that cue):")
        for cue, acc in cues:
            print(f"  {cue:<14} {acc:.3f}")
    if tonal:
        print("\nChroma: KK template on mean chroma (no training; accuracy over the same test")
        print("folds), mean+std chroma + StandardScaler + SVC (5-fold CV):\n")
        print("=========== ================ ================")
        print("task        KK template      chroma + SVC")
        print("=========== ================ ================")
        for task, t, c in tonal:
            print(f"{task:<11} {t.mean():.3f} +- {t.std():.3f}   {c.mean():.3f} +- {c.std():.3f}")
        print("=========== ================ ================")
    return rows


def chroma_scores(music, cv):
    """Per-fold accuracy of the KK template and of chroma statistics + SVC (key, mode)."""
    feats = []
    for x in music.data:
        # librosa's default 7 octaves from C1 pass the Nyquist frequency below 16 kHz.
        c = librosa.feature.chroma_cqt(y=np.asarray(x), sr=music.sr, hop_length=512,
                                       n_octaves=7 if music.sr >= 16000 else 6)
        feats.append(np.concatenate([c.mean(axis=1), c.std(axis=1)]))
    feats = np.array(feats)
    folds = list(cv.split(feats, music.target))
    # the Krumhansl-Kessler template on the mean chroma (the first 12 features)
    template = np.array([KeyTemplateClassifier().fit(feats[tr, :12], music.target[tr])
                         .score(feats[te, :12], music.target[te]) for tr, te in folds])
    svc = cross_val_score(make_pipeline(StandardScaler(), SVC()), feats, music.target, cv=folds)
    return template, svc


def single_cues(music, cv):
    """Accuracy of predicting the genre from each metadata field alone."""
    meta, out = music.metadata, []
    tree = DecisionTreeClassifier(min_samples_leaf=5, random_state=0)
    for cue in ["tempo", "meter", "swing", "mode", "progression", "lead", "instruments",
                "drums", "drum_pattern", "distortion", "rt60"]:
        values = meta[cue]
        if cue == "instruments":
            names = sorted({i for clip in values for i in clip})
            X = np.array([[n in clip for n in names] for clip in values], dtype=float)
        elif values.dtype.kind in "fb":
            X = values.reshape(-1, 1).astype(float)
        else:
            X = OrdinalEncoder().fit_transform(values.reshape(-1, 1).astype(str))
        out.append((cue, cross_val_score(tree, X, music.target, cv=cv).mean()))
    return out


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
