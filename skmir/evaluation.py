"""Baselines that deep models are measured against.

The conventional MIR pipeline of the paper's fig. 2(a): hand-designed features
(MFCC), a summary over time and a shallow classifier.
"""

import os
from pathlib import Path

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.multiclass import type_of_target

from skmir.io import AudioLoader
from skmir.preprocessing import TimeSummary
from skmir.representations import MFCC


def make_mfcc_baseline(classifier=None, *, sr=22050, duration=None, n_mfcc=20,
                       stats=("mean", "std"), **params):
    """The conventional baseline: AudioLoader -> MFCC -> TimeSummary -> StandardScaler -> SVC.

    Takes file paths or waveforms (the loader passes decoded audio through), so
    the same pipeline cross-validates a folder of audio and generated data. Every
    step stays grid-searchable by its name (``"audioloader"``, ``"mfcc"``,
    ``"timesummary"``, ``"standardscaler"``, ``"classifier"``).

    Parameters
    ----------
    classifier : estimator or None, default=None
        The shallow model; None means ``SVC()`` (RBF kernel, C=1).
    sr : int, default=22050
        Sample rate, shared by the loader and the MFCC so that they agree.
    duration : float or None, default=None
        Clip length in seconds for the loader (None keeps the longest clip).
    n_mfcc : int, default=20
        Number of MFCCs.
    stats : sequence of str, default=("mean", "std")
        Statistics over time fed to the classifier.
    **params
        Further parameters of the pipeline's steps, as ``<step>__<param>``, e.g.
        ``mfcc__n_mels=64`` or ``classifier__C=10``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import make_mfcc_baseline
    >>> t = np.arange(22050) / 22050
    >>> X = np.stack([np.sin(2 * np.pi * f * t) for f in [220, 230, 880, 890]])
    >>> make_mfcc_baseline().fit(X, [0, 0, 1, 1]).predict(X)
    array([0, 0, 1, 1])
    """
    pipe = Pipeline([
        ("audioloader", AudioLoader(sr=sr, duration=duration)),
        ("mfcc", MFCC(sr=sr, n_mfcc=n_mfcc)),
        ("timesummary", TimeSummary(stats=stats)),
        ("standardscaler", StandardScaler()),
        ("classifier", SVC() if classifier is None else classifier),
    ])
    return pipe.set_params(**params)


def _neural_pipeline(architecture, sr, **estimator_params):
    """Log-mel input -> standardisation -> NeuralClassifier with a fig. 13 structure."""
    from skmir.estimators import NeuralClassifier
    from skmir.preprocessing import LogCompression, SpectrogramScaler
    from skmir.representations import MelSpectrogram

    return Pipeline([
        ("audioloader", AudioLoader(sr=sr)),
        ("melspectrogram", MelSpectrogram(sr=sr, n_mels=64)),
        ("logcompression", LogCompression()),
        ("spectrogramscaler", SpectrogramScaler()),
        ("classifier", NeuralClassifier(architecture=architecture, **estimator_params)),
    ])


def _random_weights_pipeline(sr, seed):
    """Log-mel input -> a random five-layer convnet's pooled outputs -> SVC."""
    from skmir.features import RandomWeightsFeatures
    from skmir.preprocessing import LogCompression, SpectrogramScaler
    from skmir.representations import MelSpectrogram

    return Pipeline([
        ("audioloader", AudioLoader(sr=sr)),
        ("melspectrogram", MelSpectrogram(sr=sr, n_mels=64)),
        ("logcompression", LogCompression()),
        ("spectrogramscaler", SpectrogramScaler()),
        ("randomweightsfeatures", RandomWeightsFeatures(random_state=seed)),
        ("standardscaler", StandardScaler()),
        ("classifier", SVC()),
    ])


def _transfer_pipeline(name="choi2017-tags"):
    """Audio at the shipped network's rate -> its conv layers' averages -> SVC."""
    from skmir.features import TransferFeatures
    from skmir.pretrained import model_card

    return Pipeline([
        # The network was trained at its card's rate: load (or resample) to it,
        # whatever rate the other models use.
        ("audioloader", AudioLoader(sr=model_card(name)["sr"], resample=True)),
        ("transferfeatures", TransferFeatures(name)),
        ("standardscaler", StandardScaler()),
        ("classifier", SVC()),
    ])


# Model names of `compare` and the `skmir compare --models` option. Each factory
# takes the sample rate and a seed and returns an unfitted pipeline from waveforms or
# paths; torch-side models import torch only when built.
MODELS = {
    "mfcc-svm": lambda sr, seed: make_mfcc_baseline(sr=sr),
    "random-weights": _random_weights_pipeline,
    "transfer": lambda sr, seed: _transfer_pipeline(),
    "conv1d": lambda sr, seed: _neural_pipeline("conv1d", sr, random_state=seed),
    "conv2d": lambda sr, seed: _neural_pipeline("conv2d", sr, random_state=seed),
    "crnn": lambda sr, seed: _neural_pipeline("crnn", sr, random_state=seed),
}
DEFAULT_MODELS = ("mfcc-svm", "random-weights", "transfer", "conv1d", "conv2d", "crnn")
BASELINE = "mfcc-svm"


def make_models(names=DEFAULT_MODELS, *, sr=22050, random_state=0):
    """Build the named models of :data:`MODELS` (for :func:`compare` and the command).

    Parameters
    ----------
    names : sequence of str or "default", default=DEFAULT_MODELS
        Model names; ``"default"`` means :data:`DEFAULT_MODELS`.
    sr : int, default=22050
        Sample rate every model's loader and representation use.
    random_state : int, default=0
        Seed of the models that have one.

    Returns
    -------
    models : dict of str to estimator

    Examples
    --------
    >>> from skmir.evaluation import make_models
    >>> list(make_models(["mfcc-svm"], sr=16000))
    ['mfcc-svm']
    """
    if isinstance(names, str):
        names = DEFAULT_MODELS if names == "default" else [n.strip() for n in names.split(",")]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise ValueError(
            f"Unknown model name(s) {unknown or names!r}; available models are "
            f"{', '.join(MODELS)}."
        )
    return {name: MODELS[name](sr, random_state) for name in names}


def corrected_ttest(differences, n_train, n_test):
    """Paired t-test over cross-validation folds with Nadeau and Bengio's correction.

    Fold scores are not independent (training sets overlap), which makes the plain
    paired t-test too optimistic; the corrected variance
    ``(1 / k + n_test / n_train) * var(d)`` accounts for it (Nadeau & Bengio, 2003).

    Parameters
    ----------
    differences : array-like of shape (k,)
        Per-fold score of a model minus the baseline's, on the same folds.
    n_train, n_test : int
        Training and test set sizes of a fold.

    Returns
    -------
    t : float
    p_value : float
        Two-sided.

    Examples
    --------
    >>> from skmir.evaluation import corrected_ttest
    >>> t, p = corrected_ttest([0.10, 0.12, 0.08, 0.11, 0.09], n_train=80, n_test=20)
    >>> round(t, 2), p < 0.01
    (9.43, True)
    """
    from scipy import stats

    d = np.asarray(differences, dtype=float)
    k = len(d)
    if k < 2:
        return np.nan, np.nan
    var = d.var(ddof=1) * (1.0 / k + n_test / n_train)
    if var == 0:
        return (np.inf * np.sign(d.mean()) if d.mean() else np.nan), (0.0 if d.mean() else 1.0)
    t = d.mean() / np.sqrt(var)
    return float(t), float(2 * stats.t.sf(abs(t), df=k - 1))


class ComparisonResults:
    """Cross-validated scores of several models on the same folds.

    Returned by :func:`compare`.

    Attributes
    ----------
    scores : dict of str to ndarray of shape (n_folds,)
        Test score of each model on each fold.
    fit_time, score_time : dict of str to ndarray of shape (n_folds,)
        Seconds per fold.
    predictions : dict of str to ndarray
        Out-of-fold prediction of every clip by each model.
    y : ndarray
        The targets.
    baseline : str or None
        The model every other is tested against.
    scoring : str
        Name of the score.
    splits : list of (ndarray, ndarray)
        Training and test indices of every fold.
    """

    def __init__(self, scores, fit_time, score_time, predictions, y, baseline, scoring,
                 splits):
        self.scores = scores
        self.fit_time = fit_time
        self.score_time = score_time
        self.predictions = predictions
        self.y = y
        self.baseline = baseline
        self.scoring = scoring
        self.splits = splits
        # Mean fold sizes, for the corrected t-test
        self.n_train = float(np.mean([len(train) for train, _ in splits]))
        self.n_test = float(np.mean([len(test) for _, test in splits]))

    def versus_baseline(self, alpha=0.05):
        """Paired comparison of every model with the baseline over the folds.

        Parameters
        ----------
        alpha : float, default=0.05
            Significance level of the corrected paired t-test.

        Returns
        -------
        rows : dict of str to dict
            Per model: ``difference`` (mean score minus the baseline's), ``t``,
            ``p_value`` and ``verdict`` ("better", "worse" or "no significant
            difference"); empty when there is no baseline.
        """
        if self.baseline not in self.scores:
            return {}
        base = self.scores[self.baseline]
        rows = {}
        for name, s in self.scores.items():
            if name == self.baseline:
                continue
            t, p = corrected_ttest(s - base, self.n_train, self.n_test)
            diff = float(np.mean(s - base))
            verdict = "no significant difference"
            if p < alpha:
                verdict = "better" if diff > 0 else "worse"
            rows[name] = {"difference": diff, "t": t, "p_value": p, "verdict": verdict}
        return rows

    def summary(self):
        """One row per model: mean and std of the score, times, test against baseline.

        Returns
        -------
        rows : list of dict
            Sorted by mean score, best first.
        """
        tests = self.versus_baseline()
        rows = []
        for name, s in self.scores.items():
            test = tests.get(name, {})
            rows.append({
                "model": name,
                "mean": float(np.mean(s)),
                "std": float(np.std(s)),
                "fit_time": float(np.mean(self.fit_time[name])),
                "score_time": float(np.mean(self.score_time[name])),
                "vs_baseline": "baseline" if name == self.baseline else test.get("verdict", ""),
                "p_value": test.get("p_value", np.nan),
            })
        return sorted(rows, key=lambda r: -r["mean"])

    def best(self):
        """Name of the model with the highest mean score."""
        return self.summary()[0]["model"]

    def to_markdown(self):
        """The summary as a Markdown table.

        Returns
        -------
        table : str
        """
        lines = [
            f"| model | {self.scoring} (mean ± std) | fit s/fold | predict s/fold "
            f"| vs {self.baseline or 'baseline'} | p |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for r in self.summary():
            p = "" if np.isnan(r["p_value"]) else f"{r['p_value']:.3f}"
            lines.append(
                f"| {r['model']} | {r['mean']:.3f} ± {r['std']:.3f} | {r['fit_time']:.1f} "
                f"| {r['score_time']:.2f} | {r['vs_baseline']} | {p} |"
            )
        return "\n".join(lines)

    def to_csv(self, path):
        """Write per-fold scores and times as CSV (one row per model and fold).

        Parameters
        ----------
        path : str or os.PathLike
        """
        rows = ["model,fold,score,fit_time,score_time"]
        for name, s in self.scores.items():
            for k, v in enumerate(s):
                rows.append(f"{name},{k},{v:.6f},{self.fit_time[name][k]:.3f},"
                            f"{self.score_time[name][k]:.3f}")
        _atomic_write_text(path, "\n".join(rows) + "\n")

    def save(self, out_dir):
        """Write results.csv, results.md, scores.png and confusion.png into out_dir.

        Parameters
        ----------
        out_dir : str or os.PathLike
            Created if missing.

        Returns
        -------
        paths : list of pathlib.Path
            The files written.
        """
        from skmir import plot

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        self.to_csv(out / "results.csv")
        _atomic_write_text(out / "results.md", self.to_markdown() + "\n")
        paths = [out / "results.csv", out / "results.md"]
        fig = plot.plot_scores(self).figure
        paths.append(plot.save_figure(fig, out / "scores.png"))
        if type_of_target(self.y) in ("binary", "multiclass"):
            best = self.best()
            fig = plot.plot_confusion_matrix(self.y, self.predictions[best],
                                             title=f"{best}: out-of-fold predictions").figure
            paths.append(plot.save_figure(fig, out / "confusion.png"))
        return paths

    def __repr__(self):
        return self.to_markdown()


def _atomic_write_text(path, text):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def compare(models, X, y, *, cv=5, groups=None, scoring=None, baseline=BASELINE,
            sr=22050, n_jobs=None, random_state=0, verbose=1):
    """Cross-validate several models on the same folds and test them against a baseline.

    The experiment the paper's sec. 2.3 asks for: do deep models beat the
    conventional MFCC pipeline on *this* data? Every model sees the same folds, so
    fold scores are paired, and each is compared with the baseline by a corrected
    paired t-test (:func:`corrected_ttest`).

    Parameters
    ----------
    models : dict of str to estimator, sequence of names, or "default"
        Estimators or pipelines taking X; or names from :data:`MODELS`
        (``"default"`` is :data:`DEFAULT_MODELS`), built with ``sr``.
    X : array-like
        File paths or waveforms.
    y : array-like
        Targets.
    cv : int or cross-validation splitter, default=5
        An int means stratified k-fold (shuffled with ``random_state``) for
        classification, k-fold otherwise; with ``groups``, (stratified) group k-fold
        so that no group (e.g. artist) is split across training and test.
    groups : array-like or None, default=None
        Group labels for the splitter.
    scoring : str or None, default=None
        sklearn scorer name; None means accuracy for classification, R² otherwise.
    baseline : str or None, default="mfcc-svm"
        Model tested against; ignored when not among the models.
    sr : int, default=22050
        Sample rate for models given by name.
    n_jobs : int or None, default=None
        Folds fitted in parallel (``cross_validate``'s ``n_jobs``).
    random_state : int, default=0
        Seed of the folds and of models given by name.
    verbose : int, default=1
        Progress bar over models when > 0.

    Returns
    -------
    results : ComparisonResults

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skmir import compare, make_mfcc_baseline
    >>> rng = np.random.default_rng(0)
    >>> t = np.arange(8000) / 8000
    >>> X = np.stack([np.sin(2 * np.pi * f * t) for f in rng.uniform(100, 900, 40)])
    >>> y = np.repeat([0, 1], 20)
    >>> X[y == 1] = np.sign(X[y == 1])  # square waves: a brighter timbre
    >>> res = compare({"mfcc-svm": make_mfcc_baseline(sr=8000),
    ...                "chance": DummyClassifier()}, X, y, cv=4, verbose=0)
    >>> res.best(), res.versus_baseline()["chance"]["verdict"]
    ('mfcc-svm', 'worse')
    """
    from sklearn.base import is_classifier
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        StratifiedGroupKFold,
        StratifiedKFold,
        check_cv,
        cross_validate,
    )
    from tqdm.auto import tqdm

    if isinstance(models, (str, list, tuple)):
        models = make_models(models, sr=sr, random_state=random_state)
    if not isinstance(models, dict) or not models:
        raise ValueError(
            f"models must be a non-empty dict name -> estimator, a list of names or "
            f"'default'; got {type(models).__name__}."
        )
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} clips but y has {len(y)} targets.")
    classification = type_of_target(y) in ("binary", "multiclass")
    if isinstance(cv, int):
        if groups is not None:
            cv = StratifiedGroupKFold(cv, shuffle=True, random_state=random_state) \
                if classification else GroupKFold(cv)
        else:
            cv = StratifiedKFold(cv, shuffle=True, random_state=random_state) \
                if classification else KFold(cv, shuffle=True, random_state=random_state)
    cv = check_cv(cv, y, classifier=classification)
    splits = list(cv.split(X, y, groups))
    if scoring is None:
        scoring = "accuracy" if classification or any(
            is_classifier(m) for m in models.values()) else "r2"
    scores, fit_time, score_time, predictions = {}, {}, {}, {}
    bar = tqdm(models.items(), desc="compare", disable=not verbose, unit="model")
    for name, model in bar:
        bar.set_postfix_str(name)
        res = cross_validate(model, X, y, cv=splits, scoring=scoring, n_jobs=n_jobs,
                             return_estimator=True, error_score="raise")
        scores[name] = np.asarray(res["test_score"], dtype=float)
        fit_time[name] = np.asarray(res["fit_time"])
        score_time[name] = np.asarray(res["score_time"])
        pred = None
        for est, (_, test) in zip(res["estimator"], splits):
            p = np.asarray(est.predict(_take(X, test)))
            if pred is None:
                pred = np.empty((len(y), *p.shape[1:]), dtype=p.dtype)
            pred[test] = p
        predictions[name] = pred
        if verbose:
            tqdm.write(f"{name}: {scoring} {scores[name].mean():.3f} ± {scores[name].std():.3f}")
    return ComparisonResults(scores, fit_time, score_time, predictions, y,
                             baseline if baseline in models else None,
                             scoring if isinstance(scoring, str) else "score", splits)


def _take(X, idx):
    from sklearn.utils import _safe_indexing

    return _safe_indexing(X, idx)
