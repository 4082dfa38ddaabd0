"""The results of :func:`skmir.model_selection.compare`, and the corrected t-test."""

import csv
import io
from pathlib import Path

import numpy as np
from sklearn.utils.multiclass import type_of_target

from skmir._files import atomic_write_text
from skmir._validation import NamedRefusals, entry_point


@entry_point
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
    >>> from skmir.model_selection import corrected_ttest
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


class ComparisonResults(NamedRefusals):
    """Cross-validated scores of several models on the same folds.

    Returned by :func:`compare`.

    Attributes
    ----------
    scores : dict of str to ndarray of shape (n_folds,)
        Test score of each model on each fold.
    fit_time, score_time : dict of str to ndarray of shape (n_folds,)
        Seconds per fold; ``score_time`` covers predicting the test fold and scoring.
    predictions : dict of str to ndarray
        Out-of-fold prediction of every clip by each model: the very predictions
        the fold scores were computed from.
    y : ndarray
        The targets.
    baseline : str or None
        The model every other is tested against.
    scoring : str
        Name of the score.
    splits : list of (ndarray, ndarray)
        Training and test indices of every fold.
    excluded : list of (str, str) or None
        Files left out because they cannot be read as audio, each with the reason;
        None when the clips were not files.
    notes : list of str
        Lines for the report about the data, e.g. the clip length ``skmir compare``
        chose and the files' length distribution.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.model_selection import ComparisonResults
    >>> splits = [(np.arange(2, 4), np.arange(2)), (np.arange(2), np.arange(2, 4))]
    >>> res = ComparisonResults(
    ...     scores={"a": np.array([1.0, 0.5]), "b": np.array([0.5, 0.5])},
    ...     fit_time={"a": np.ones(2), "b": np.ones(2)},
    ...     score_time={"a": np.ones(2), "b": np.ones(2)},
    ...     predictions={"a": np.array([0, 1, 1, 1]), "b": np.array([1, 1, 1, 1])},
    ...     y=np.array([0, 1, 0, 1]), baseline="b", scoring="accuracy", splits=splits)
    >>> res.best(), res.versus_baseline()["a"]["difference"]
    ('a', 0.25)
    """

    def __init__(self, scores, fit_time, score_time, predictions, y, baseline, scoring,
                 splits, excluded=None, notes=()):
        self.scores = scores
        self.fit_time = fit_time
        self.score_time = score_time
        self.predictions = predictions
        self.y = y
        self.baseline = baseline
        self.scoring = scoring
        self.splits = splits
        self.excluded = excluded
        self.notes = list(notes)
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

    def chance_levels(self):
        """Scores of two guessers on the same folds, the floor any model must beat.

        "majority class" always answers the most frequent class of the training
        fold; "uniform" guesses uniformly at random (expected score 1 / n_classes).
        Defined for single-label classification scored by accuracy or balanced
        accuracy; empty otherwise.

        Returns
        -------
        levels : dict of str to ndarray of shape (n_folds,)

        Examples
        --------
        >>> import numpy as np
        >>> from skmir.model_selection import ComparisonResults
        >>> y = np.array([0, 0, 0, 1, 0, 0, 0, 1])
        >>> splits = [(np.arange(4, 8), np.arange(4)), (np.arange(4), np.arange(4, 8))]
        >>> res = ComparisonResults({}, {}, {}, {}, y, None, "accuracy", splits)
        >>> {k: v.tolist() for k, v in res.chance_levels().items()}
        {'chance: majority class': [0.75, 0.75], 'chance: uniform': [0.5, 0.5]}
        """
        y = np.asarray(self.y)
        if (self.scoring not in ("accuracy", "balanced_accuracy")
                or type_of_target(y) not in ("binary", "multiclass")):
            return {}
        n_classes = len(np.unique(y))
        majority = []
        for train, test in self.splits:
            values, counts = np.unique(y[train], return_counts=True)
            hit = np.mean(y[test] == values[np.argmax(counts)])
            # a constant answer recalls one class fully and no other
            majority.append(hit if self.scoring == "accuracy"
                            else 1 / len(np.unique(y[test])))
        return {"chance: majority class": np.array(majority),
                "chance: uniform": np.full(len(self.splits), 1 / n_classes)}

    def class_counts(self):
        """Clips per class in all the data and in the smallest test fold.

        Returns
        -------
        total : dict
            Class to number of clips.
        smallest : dict
            Class to its fewest clips in any test fold.
        """
        y = np.asarray(self.y)
        if type_of_target(y) not in ("binary", "multiclass"):
            return {}, {}
        classes, counts = np.unique(y, return_counts=True)
        smallest = {c: min(int(np.sum(y[test] == c)) for _, test in self.splits)
                    for c in classes}
        return {c: int(n) for c, n in zip(classes, counts)}, smallest

    def warnings(self, min_per_class=5):
        """What makes these results weak evidence, as sentences for the report.

        Parameters
        ----------
        min_per_class : int, default=5
            Fewer clips of a class in a test fold than this gives a warning: fold
            scores then move in coarse steps and the paired test over folds says
            little.

        Returns
        -------
        lines : list of str
        """
        lines = []
        _, smallest = self.class_counts()
        if smallest and min(smallest.values()) < min_per_class:
            label = min(smallest, key=smallest.get)
            lines.append(
                f"A test fold holds only {smallest[label]} clip(s) of class '{label}' "
                f"(fewer than {min_per_class}): fold scores move in coarse steps and the "
                "paired t-test over folds means little; use more clips per class or "
                "fewer folds.")
        chance = self.chance_levels()
        if chance:
            floor = max(float(np.mean(v)) for v in chance.values())
            below = [n for n, s in self.scores.items() if np.mean(s) <= floor]
            if below:
                lines.append(f"At or below chance ({floor:.3f}): {', '.join(below)}.")
        return lines

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
        for name, s in self.chance_levels().items():
            lines.append(f"| {name} | {np.mean(s):.3f} ± {np.std(s):.3f} | | | | |")
        return "\n".join(lines)

    def to_csv(self, path):
        """Write per-fold scores and times as CSV (one row per model and fold), atomically.

        Parameters
        ----------
        path : str or os.PathLike
        """
        rows = ["model,fold,score,fit_time,score_time"]
        for name, s in self.scores.items():
            for k, v in enumerate(s):
                rows.append(f"{name},{k},{v:.6f},{self.fit_time[name][k]:.3f},"
                            f"{self.score_time[name][k]:.3f}")
        atomic_write_text(path, "\n".join(rows) + "\n")

    def report_lines(self):
        """The lines results.md gives below the table: :attr:`notes`, clips per class
        and :meth:`warnings`.

        Returns
        -------
        lines : list of str
        """
        total, smallest = self.class_counts()
        lines = list(self.notes)
        if total:
            lines.append("Clips per class: " + ", ".join(f"{c} {n}" for c, n in total.items())
                         + f"; fewest of a class in a test fold: {min(smallest.values())}.")
        return lines + [f"Warning: {w}" for w in self.warnings()]

    def _excluded_note(self):
        if self.excluded is None:
            return ""
        if not self.excluded:
            return "\nNo files were excluded.\n"
        return (f"\n{len(self.excluded)} file(s) that cannot be read as audio were excluded "
                "(listed with the reason in excluded.csv).\n")

    def save(self, out_dir):
        """Write results.csv, results.md, scores.png and confusion.png into out_dir.

        When files were excluded (:attr:`excluded`), excluded.csv lists them with
        the reason, and results.md says how many; an excluded.csv of an earlier
        report that excluded files is removed otherwise. Every file is written
        atomically: an interrupted save leaves the previous report's file, never
        half of one.

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
        atomic_write_text(out / "results.md", self.to_markdown() + "\n"
                          + "".join(f"\n{line}\n" for line in self.report_lines())
                          + self._excluded_note())
        paths = [out / "results.csv", out / "results.md"]
        if self.excluded:
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(["path", "reason"])
            writer.writerows(self.excluded)
            atomic_write_text(out / "excluded.csv", buf.getvalue())
            paths.append(out / "excluded.csv")
        else:
            (out / "excluded.csv").unlink(missing_ok=True)  # an earlier run's list
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


__all__ = ["ComparisonResults", "corrected_ttest"]
