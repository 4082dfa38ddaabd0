"""Cross-validating several models on the same folds: :func:`compare`."""

import time
import warnings

import joblib
import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils.multiclass import type_of_target

from skmir._allocator import release_freed_memory
from skmir._interrupts import interrupts_propagate
from skmir._progress import epoch_progress
from skmir._validation import entry_point
from skmir.io import AudioFileWarning, AudioLoader, check_audio_files, is_paths
from skmir.model_selection.results import ComparisonResults
from skmir.pipelines import BASELINE, make_models
from skmir.representations import LogCompression
from skmir.representations.base import Representation

_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function")


class _FoldPredictions:
    """A fitted model seen through its test fold: each prediction method runs once.

    The scorer and the out-of-fold predictions both read from it, so the test fold
    is predicted once whatever the scorer asks for. Everything else (``classes_``,
    the estimator tags that scorers inspect) is the model's own.
    """

    def __init__(self, estimator, X):
        self.estimator = estimator
        self.X = X
        self.outputs = {}
        self._Xt = None

    def __sklearn_tags__(self):
        return get_tags(self.estimator)

    def __getattr__(self, name):
        if name not in _RESPONSE_METHODS:
            if name == "estimator":  # not set yet (copy, pickle): no recursion
                raise AttributeError(name)
            return getattr(self.estimator, name)
        # Raises AttributeError when the model has no such method, which is how
        # scorers choose between decision_function and predict_proba.
        method = getattr(self._final_step(), name)

        def cached(X):
            if X is not self.X:
                return getattr(self.estimator, name)(X)
            if name not in self.outputs:
                self.outputs[name] = method(self._transformed())
            return self.outputs[name]

        cached.__name__ = name  # scorers read the method's name to interpret its output
        return cached

    def _final_step(self):
        est = self.estimator
        return est.steps[-1][1] if isinstance(est, Pipeline) else est

    def _transformed(self):
        # A pipeline's transforms run once for all its final step's methods: what
        # Pipeline.predict and Pipeline.predict_proba would each recompute.
        if self._Xt is None:
            Xt = self.X
            if isinstance(self.estimator, Pipeline):
                for _, step in self.estimator.steps[:-1]:
                    if step is not None and not (isinstance(step, str) and step == "passthrough"):
                        Xt = step.transform(Xt)
            self._Xt = (Xt,)
        return self._Xt[0]


def _params_named(model, name):
    """The parameters of ``model`` called ``name``, at any depth (``step__name``)."""
    return {key: value for key, value in model.get_params().items()
            if key.rsplit("__", 1)[-1] == name}


def _quiet(model):
    """``model`` with every ``verbose="auto"`` parameter set to 0: compare's own bar
    counts the epochs, and a fold in a worker process cannot tell who is watching."""
    auto = {k: 0 for k, v in _params_named(model, "verbose").items()
            if isinstance(v, str) and v == "auto"}
    return model.set_params(**auto)


def _fit_and_score(model, X, y, train, test, scorer, key):
    """Fit on the training fold, predict the test fold once, score that prediction;
    returns ``key``, (score, predictions, fit seconds, predict seconds) and the
    warnings raised, for :func:`compare` to raise again in its own process."""
    # Recorded, not shown: in a joblib worker they would print as source excerpts
    # from each worker, past the command's formatting and the caller's filters.
    with warnings.catch_warnings(record=True) as caught:
        X_train, X_test = _safe_indexing(X, train), _safe_indexing(X, test)
        start = time.perf_counter()
        # A Ctrl-C stops the run instead of ending one fold's training early. Set
        # here, not around Parallel, so that it holds in joblib's worker processes.
        with interrupts_propagate():
            model.fit(X_train, y[train])
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        fold = _FoldPredictions(model, X_test)
        try:
            score = scorer(fold, X_test, y[test])
        except AttributeError as exc:
            # e.g. "has none of the following attributes: predict_proba" should name
            # the model, not the wrapper the user never made
            wrapper = type(fold).__name__
            if wrapper not in str(exc):
                raise
            raise AttributeError(str(exc).replace(wrapper, type(model).__name__)) from None
        predicted = np.asarray(fold.predict(X_test))
        seconds = time.perf_counter() - start
    # The memory the fit freed goes back to the system before the next fit in this
    # process (a worker's resident size would otherwise read as a leak to joblib:
    # see release_freed_memory).
    release_freed_memory()
    return key, (float(score), predicted, fit_time, seconds), [w.message for w in caught]


def clipwise_prefix(model, X):
    """How many leading steps of a pipeline compute each clip alone and learn nothing.

    Such steps (an :class:`~skmir.AudioLoader`, a representation, a
    :class:`~skmir.LogCompression`; librosa backend) give every clip the same output
    whichever fold it lands in and whichever clips share its call, so :func:`compare`
    runs them once on all of X, not in every fold of every model. A loader of files
    with ``duration=None`` is not one: it learns its clip length from the training files.
    The final step is never counted.

    Parameters
    ----------
    model : estimator
        A pipeline or any estimator (0 for one that is no pipeline).
    X : array-like
        The input of the model's first step.

    Returns
    -------
    n_steps : int

    Examples
    --------
    >>> from skmir import make_mfcc_baseline
    >>> from skmir.model_selection.comparison import clipwise_prefix
    >>> clipwise_prefix(make_mfcc_baseline(), ["a.wav", "b.wav"])  # loader learns its length
    0
    >>> clipwise_prefix(make_mfcc_baseline(duration=30), ["a.wav", "b.wav"])  # + MFCC
    2
    """
    if not isinstance(model, Pipeline):
        return 0
    n = 0
    for _, step in model.steps[:-1]:
        if isinstance(step, AudioLoader):
            ok = step.duration is not None or (n > 0 or not is_paths(X))
        else:
            ok = (isinstance(step, (Representation, LogCompression))
                  and step.backend == "librosa")  # torch kernels batch: rounding may differ
        if not ok:
            break
        n += 1
    return n


class _SharedFrontEnds:
    """The models' leading clip-wise steps, each distinct chain run once on all of X.

    A chain is keyed by the hashes of its unfitted steps (class and parameters), so
    models that start alike (the default models' loader and log-mel) share their
    output. Only the chains that a model still to come needs are kept in memory.
    """

    def __init__(self, models, X):
        self.X = X
        self.chains = {name: tuple(joblib.hash(clone(step)) for _, step in
                                   model.steps[:clipwise_prefix(model, X)])
                       if isinstance(model, Pipeline) else ()
                       for name, model in models.items()}
        self.outputs, self.seconds = {(): X}, {(): 0.0}

    def split(self, name, model):
        """(X through the model's shared steps, the rest of the model, their seconds)."""
        chain = self.chains[name]
        for k in range(1, len(chain) + 1):
            if chain[:k] not in self.outputs:
                step = clone(model.steps[k - 1][1])
                start = time.perf_counter()
                self.outputs[chain[:k]] = step.fit(self.outputs[chain[:k - 1]]) \
                    .transform(self.outputs[chain[:k - 1]])
                self.seconds[chain[:k]] = time.perf_counter() - start
        if not chain:
            return self.X, model, 0.0
        rest = clone(model)
        rest.steps = rest.steps[len(chain):]
        return (self.outputs[chain], rest,
                sum(self.seconds[chain[:k]] for k in range(1, len(chain) + 1)))

    def done(self, name):
        """Forget the outputs that no model after ``name`` needs."""
        later = list(self.chains)[list(self.chains).index(name) + 1:]
        needed = {self.chains[m][:k] for m in later for k in range(len(self.chains[m]) + 1)}
        # a snapshot of the keys: joblib may dispatch (and so split) from its own thread
        for key in [key for key in list(self.outputs) if key not in needed and key]:
            del self.outputs[key]


def _dispatch_order(models, n_jobs):
    """The models in the order their fits are dispatched.

    In this process, the models' own order. With parallel workers, the longest fits
    go first and the short ones fill the workers at the end, instead of one long fit
    running alone at the end while the other workers idle: first the models trained
    for epochs (a ``max_epochs`` parameter: skmir's networks, skorch nets), last
    listed first (a list of models tends to grow from the baseline to the largest
    network), then the others in their own order.
    """
    if joblib.effective_n_jobs(n_jobs) == 1:
        return list(models)

    epochs = {name for name, model in models.items() if _params_named(model, "max_epochs")}
    return [m for m in reversed(models) if m in epochs] + [m for m in models if m not in epochs]


def _default_cv(cv, y, groups, classification, random_state):
    from sklearn.model_selection import (
        GroupKFold,
        KFold,
        StratifiedGroupKFold,
        StratifiedKFold,
        check_cv,
    )

    if isinstance(cv, int):
        if groups is not None:
            cv = StratifiedGroupKFold(cv, shuffle=True, random_state=random_state) \
                if classification else GroupKFold(cv)
        else:
            cv = StratifiedKFold(cv, shuffle=True, random_state=random_state) \
                if classification else KFold(cv, shuffle=True, random_state=random_state)
    return check_cv(cv, y, classifier=classification)


@entry_point
def compare(models, X, y, *, cv=5, groups=None, scoring=None, baseline=BASELINE,
            sr=22050, n_jobs=None, random_state=0, verbose=1):
    """Cross-validate several models on the same folds and test them against a baseline.

    The experiment the paper's sec. 2.3 asks for: do deep models beat the
    conventional MFCC pipeline on *this* data? Every model sees the same folds, so
    fold scores are paired, and each is compared with the baseline by a corrected
    paired t-test (:func:`corrected_ttest`).

    Each fold's fitted model predicts its test fold once; that prediction gives both
    the fold's score and :attr:`ComparisonResults.predictions`.

    When X is file paths, every file is decoded once before any training
    (:func:`drop_unreadable_files`): files that cannot be read, are truncated or
    hold NaN samples are excluded with one :class:`skmir.AudioFileWarning` naming
    each and why, and listed in :attr:`ComparisonResults.excluded`; the comparison
    goes on with the others.

    The leading steps of a pipeline that compute each clip alone and learn nothing
    (:func:`clipwise_prefix`: the loader, the representation, the log compression)
    run once on all of X, shared by the models whose steps are equal, instead of in
    every fold of every model; the rest of each pipeline is fitted fold by fold.
    The scores and predictions are those of fitting every whole pipeline in every
    fold; each fold's times include its share (by clips) of the shared steps' time.

    A KeyboardInterrupt (Ctrl-C) stops the comparison: it propagates out of the
    training of skmir's networks (which end a plain ``fit`` early instead) and
    nothing is returned.

    Parameters
    ----------
    models : dict of str to estimator, sequence of names, or "default"
        Estimators or pipelines taking X; or names from
        :data:`skmir.pipelines.MODELS` (``"default"`` is
        :data:`skmir.pipelines.DEFAULT_MODELS`), built with ``sr``.
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
    scoring : str, callable or None, default=None
        sklearn scorer name (or a scorer callable); None means accuracy for
        classification, R² otherwise. For keys, the MIREX weighted key score:
        ``sklearn.metrics.make_scorer(skmir.weighted_key_score)``.
    baseline : str or None, default="mfcc-svm"
        Model tested against; ignored when not among the models.
    sr : int, default=22050
        Sample rate for models given by name.
    n_jobs : int or None, default=None
        Fits run in parallel (joblib; None means 1). Every (model, fold) fit joins
        one queue, the networks first (the last listed first), so that few workers
        idle while another trains a model's last fold. On a CPU this is usually
        the faster way to use several cores: a small network trained on one
        thread does about 1.4 times the work per core of one trained on two.
        joblib's processes start with ``cpu_count // n_jobs`` threads each, and
        torch's float sums depend on the thread count: scores equal those of
        ``n_jobs=1`` when the fits run on as many threads (``SKMIR_NUM_THREADS``).
    random_state : int, default=0
        Seed of the folds and of models given by name.
    verbose : int, default=1
        When > 0: a progress bar over models and folds, a line per fold (model,
        fold, score, seconds) and one per model.

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
    from sklearn.metrics import get_scorer
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
    excluded = None
    if is_paths(X):
        X, y, groups, excluded = drop_unreadable_files(X, y, groups, n_jobs=n_jobs,
                                                       verbose=verbose)
    classification = type_of_target(y) in ("binary", "multiclass")
    cv = _default_cv(cv, y, groups, classification, random_state)
    splits = list(cv.split(X, y, groups))
    if scoring is None:
        scoring = "accuracy" if classification or any(
            is_classifier(m) for m in models.values()) else "r2"
    scorer = get_scorer(scoring)
    scores, fit_time, score_time, predictions = {}, {}, {}, {}
    order = _dispatch_order(models, n_jobs)
    shared = _SharedFrontEnds({name: models[name] for name in order}, X)
    shared_seconds = {}
    bar = tqdm(total=len(models) * len(splits), desc="compare", disable=not verbose,
               unit="fold")
    running = []  # (name, fold) of the fit dispatched last: the one running when n_jobs=1

    def fits():
        # Every (model, fold) fit in one stream, so that parallel workers stay busy
        # across models. A model's shared steps run when its first fold is dispatched.
        for name in order:
            X_model, rest, shared_seconds[name] = shared.split(name, models[name])
            for k, (train, test) in enumerate(splits):
                running[:] = [(name, k)]
                # Errors propagate (error_score="raise"): a model that fails is a bug.
                yield delayed(_fit_and_score)(_quiet(clone(rest)), X_model, y, train, test,
                                              scorer, key=(name, k))

    def show_epoch(epoch, max_epochs):
        name, k = running[0]
        bar.set_postfix_str(f"{name} fold {k + 1}/{len(splits)} epoch {epoch}/{max_epochs}")

    # Results arrive as fits end, for the progress lines.
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    except ValueError:  # a backend that returns all results at once (multiprocessing)
        parallel = Parallel(n_jobs=n_jobs)
    folds = {name: {} for name in models}
    bar.set_postfix_str(order[0])
    with epoch_progress(show_epoch if verbose else None):
        for (name, k), fold, caught in parallel(fits()):
            for message in caught:
                warnings.warn(message, stacklevel=2)
            folds[name][k] = fold
            bar.update()
            if verbose:
                bar.write(f"{name} fold {k + 1}/{len(splits)}: {fold[0]:.3f} "
                          f"({fold[2]:.0f} s)")
            if len(folds[name]) < len(splits):
                continue
            shared.done(name)
            mine = [folds[name][k] for k in range(len(splits))]
            scores[name] = np.asarray([f[0] for f in mine], dtype=float)
            # each fold's share of the shared steps: what it would have spent on its clips
            share = shared_seconds[name] / len(y)
            fit_time[name] = np.asarray([f[2] + share * len(train)
                                         for f, (train, _) in zip(mine, splits)])
            score_time[name] = np.asarray([f[3] + share * len(test)
                                           for f, (_, test) in zip(mine, splits)])
            # result_type: string labels of different lengths in different folds
            pred = np.empty((len(y), *mine[0][1].shape[1:]),
                            dtype=np.result_type(*[f[1] for f in mine]))
            for (_, test), (_, p, _, _) in zip(splits, mine):
                pred[test] = p
            predictions[name] = pred
            if verbose:
                bar.write(f"{name}: {scoring} {scores[name].mean():.3f} ± "
                          f"{scores[name].std():.3f}")
    # the models' own order, whatever order their fits ended in
    scores, fit_time, score_time, predictions = (
        {name: d[name] for name in models} for d in (scores, fit_time, score_time, predictions))
    bar.close()
    return ComparisonResults(scores, fit_time, score_time, predictions, y,
                             baseline if baseline in models else None,
                             scoring if isinstance(scoring, str) else "score", splits,
                             excluded=excluded)


def drop_unreadable_files(X, y, groups=None, *, n_jobs=None, verbose=0, caller="compare"):
    """Decode every file once and leave out those that cannot be read as audio.

    :func:`skmir.io.check_audio_files` with ``decode=True`` finds what only a full
    decode shows (corruption inside a compressed file, NaN samples) before any
    training. The files left out are named with the reason in one
    :class:`~skmir.AudioFileWarning`; used by :func:`compare` and ``skmir compare``.

    Parameters
    ----------
    X : array-like of paths
        Audio files.
    y : ndarray
        Targets, aligned with X.
    groups : array-like or None, default=None
        Groups, aligned with X.
    n_jobs : int or None, default=None
        Files checked in parallel threads.
    verbose : int, default=0
        Progress bar when > 0.
    caller : str, default="compare"
        Who is asking, for the messages.

    Returns
    -------
    X, y, groups
        Without the unreadable files (X indexed as sklearn does).
    excluded : list of (str, str)
        Each file left out, and why.

    Raises
    ------
    ValueError
        When no file can be read.

    Examples
    --------
    >>> import tempfile, numpy as np, soundfile as sf
    >>> from skmir.model_selection.comparison import drop_unreadable_files
    >>> root = tempfile.mkdtemp()
    >>> sf.write(f"{root}/good.wav", np.zeros(800), 8000)
    >>> _ = open(f"{root}/bad.wav", "wb").write(b"RIFF")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True):  # the warning names bad.wav
    ...     X, y, _, excluded = drop_unreadable_files(
    ...         [f"{root}/good.wav", f"{root}/bad.wav"], np.array([0, 1]))
    >>> y.tolist(), len(excluded)
    ([0], 1)
    """
    paths = [str(p) for p in np.asarray(X).tolist()]
    bad = check_audio_files(paths, decode=True, n_jobs=n_jobs, verbose=verbose)
    if not bad:
        return X, y, groups, []
    if len(bad) == len(paths):
        raise ValueError(f"{caller}: none of the {len(paths)} files can be read as audio, "
                         f"e.g. {bad[0][0]}: {bad[0][1]}.")
    lines = "\n".join(f"  {p}: {reason}" for p, reason in bad)
    warnings.warn(AudioFileWarning(
        f"{caller}: excluded {len(bad)} of {len(paths)} file(s) that cannot be read as "
        f"audio:\n{lines}", excluded=bad), stacklevel=3)
    unreadable = {p for p, _ in bad}
    keep = np.asarray([p not in unreadable for p in paths])
    groups = None if groups is None else np.asarray(groups)[keep]
    return _safe_indexing(X, keep), np.asarray(y)[keep], groups, bad


__all__ = ["clipwise_prefix", "compare", "drop_unreadable_files"]
