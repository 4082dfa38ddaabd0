"""NeuralClassifier, NeuralRegressor, NeuralTagger: sklearn contract, training, persistence."""

import ast
import copy
import inspect
import os
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skorch = pytest.importorskip("skorch")

from conftest import banded_clips  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from skmir.neural import (  # noqa: E402
    FrameClassifier,
    FrameTagger,
    NeuralClassifier,
    NeuralRegressor,
    NeuralTagger,
)
from skmir.neural.docstrings import PARAMETERS, TIME_SCALE_TAILS  # noqa: E402

TINY = dict(channels=4, hidden=8, random_state=0)

# ------------------------------------------------------------ sklearn contract
#
# Every estimator runs sklearn's whole suite with the default architecture (the
# paper's conv2d, which reads sklearn's tabular (n_samples, n_features) arrays as one
# frame of n_features bins) and the default augmentation, only smaller and shorter.
# skmir fails none of the checks: there is no expected failure to list. (sklearn
# 1.9 runs 55 checks on the classifier, 60 on the tagger, which also gets the
# multi-label checks, and 53 on the regressor; check_array_api_input and the pandas
# checks skip when SCIPY_ARRAY_API or pandas are missing, and the tagger's
# decision_function check skips because it has none.) Plain skorch fails 22 of 55.
# What it took: 2-D input is one frame; float64 probabilities that sum to 1 exactly;
# seeding in fit (check_fit_idempotent); y of one column warned and raveled; the
# tagger accepts 1-D labels like OneVsRestClassifier; early stopping refuses a
# training set too small to split ("1 sample"), as check_fit2d_1sample accepts.
COMPLIANCE = [
    NeuralClassifier(max_epochs=10, lr=0.01, **TINY),
    NeuralTagger(max_epochs=10, lr=0.01, **TINY),
    # sklearn wants R^2 > 0.5 on the training set after fit: 30 short epochs without
    # the regularisers (dropout, augmentation, early stopping) that keep the tiny
    # network from fitting its training set (R^2 0.53 to 0.79 over seeds 0-11; with
    # them 0.0 to 0.56).
    NeuralRegressor(max_epochs=30, lr=0.01, dropout=0.0, gain=0, freq_mask=0,
                    early_stopping=False, **TINY),
]


def _no_expected_failures(estimator):
    return {}


@parametrize_with_checks(COMPLIANCE, expected_failed_checks=_no_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ----------------------------------------------------------- signatures, docs

ESTIMATORS = [NeuralClassifier, NeuralTagger, NeuralRegressor, FrameClassifier, FrameTagger]


def _default(entry_type, where):
    value = entry_type.rpartition("default=")[2]
    assert value, f"{where}: no default in {entry_type!r}"
    return ast.literal_eval(value)


@pytest.mark.parametrize("Est", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_signature_is_documented_in_order_with_the_one_table_of_defaults(Est):
    docscrape = pytest.importorskip("numpydoc.docscrape")
    signature = inspect.signature(Est).parameters
    documented = docscrape.ClassDoc(Est)["Parameters"]
    assert [p.name for p in documented] == list(signature)
    assert set(TIME_SCALE_TAILS[Est._time_scale.name]) <= set(signature)
    for p in documented:
        default = signature[p.name].default
        # The docstring's defaults come from skmir.neural.docstrings.PARAMETERS, the
        # one table: the five signatures, which write the defaults, cannot drift.
        table = _default(PARAMETERS[p.name].splitlines()[0], p.name)
        for expected in (_default(p.type, f"{Est.__name__}.{p.name}"), table):
            assert (default, type(default)) == (expected, type(expected)), p.name


def test_signature_params_and_clone_are_the_estimators_own():
    tagger = FrameTagger("c2-d1", threshold=0.3, channels=4)
    params = tagger.get_params()
    assert list(params) == sorted(inspect.signature(FrameTagger).parameters)
    assert (params["architecture"], params["threshold"], params["channels"]) == ("c2-d1", 0.3, 4)
    assert params["crop_frames"] == "auto"  # "auto" is resolved at fit, per time scale
    assert clone(tagger).get_params() == params
    assert repr(tagger) == "FrameTagger(architecture='c2-d1', channels=4, threshold=0.3)"
    with pytest.raises(TypeError):
        NeuralClassifier("c2-d1", 3)  # all but the architecture are keyword-only


# ----------------------------------------------------------------- fixtures


X3, Y3 = banded_clips()


# ------------------------------------------------------------------ training


@pytest.mark.parametrize("architecture", ["conv1d", "conv2d", "crnn", "dnn", "birnn"])
def test_every_fig13_preset_learns_an_easy_task(architecture):
    clf = NeuralClassifier(architecture, max_epochs=15, lr=0.01, **TINY).fit(X3, Y3)
    assert clf.score(X3, Y3) >= 0.9


def test_same_random_state_same_model_bit_for_bit():
    kw = dict(max_epochs=3, crop_frames=12, gain=0.5, freq_mask=2, time_mask=2, mixup=0.2,
              **TINY)
    a = NeuralClassifier(**kw).fit(X3, Y3).predict_proba(X3)
    torch.manual_seed(123)  # the caller's global RNG state must not matter
    np.random.seed(7)  # noqa: NPY002 (the legacy global state must not matter either)
    b = NeuralClassifier(**kw).fit(X3, Y3).predict_proba(X3)
    np.testing.assert_array_equal(a, b)
    c = NeuralClassifier(**{**kw, "random_state": 1}).fit(X3, Y3).predict_proba(X3)
    assert not np.array_equal(a, c)


def test_fit_leaves_the_global_torch_rng_alone():
    state = torch.get_rng_state()
    NeuralClassifier(max_epochs=1, **TINY).fit(X3, Y3)
    assert torch.equal(state, torch.get_rng_state())


def test_input_shapes_2d_3d_4d_and_any_number_of_frames():
    clf = NeuralClassifier("c2-p2-c2-p2-r1-r2-d1", max_epochs=2, **TINY)
    X4 = np.stack([X3, X3[:, ::-1]], axis=1)  # two channels
    assert clf.fit(X4, Y3).predict(X4).shape == (48,)
    assert clf.input_shape_ == (2, 16) and clf.n_features_in_ == 2
    X2 = X3.mean(axis=2)
    assert clf.fit(X2, Y3).predict_proba(X2).shape == (48, 3)
    assert clf.input_shape_ == (1, 16)
    clf.fit(X3, Y3)  # trained on crops of half the clip (the default)
    for n_frames in (1, 5, 24, 100):  # shorter than the pooling, longer than training
        long = np.tile(X3, (1, 1, 5))[..., :n_frames]
        assert clf.predict_proba(long).shape == (48, 3)


def test_string_labels_and_classes():
    y = np.array(["rock", "jazz", "pop"])[Y3]
    clf = NeuralClassifier("c1-d1", max_epochs=15, lr=0.01, **TINY).fit(X3, y)
    assert clf.classes_.tolist() == ["jazz", "pop", "rock"]
    assert set(clf.predict(X3)) <= set(y) and clf.score(X3, y) >= 0.9
    proba = clf.predict_proba(X3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


def test_regressor_standardises_targets_single_and_multi_output():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 8, 10)).astype(np.float32)
    level = rng.normal(size=80)
    X[:, :4] += level[:, None, None]  # a level held over the whole clip (crops see it)
    y = 120 + 30 * level  # BPM-like scale: the default lr works on standardised targets
    reg = NeuralRegressor("c1-d1", gain=0, lr=0.01, max_epochs=60, **TINY).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (80,) and pred.dtype == np.float64
    assert reg.score(X, y) > 0.8
    assert reg.y_mean_ == pytest.approx([y.mean()]) and reg.y_scale_ == pytest.approx([y.std()])
    Y = np.column_stack([y, -level])
    reg.fit(X, Y)
    assert reg.predict(X).shape == (80, 2) and reg.score(X, Y) > 0.7


def test_tagger_indicator_threshold_and_1d_labels():
    rng = np.random.default_rng(0)
    Y = rng.integers(0, 2, size=(60, 3))
    X = rng.normal(size=(60, 12, 10)).astype(np.float32)
    for k in range(3):
        X[:, 4 * k:4 * k + 4] += 2 * Y[:, k:k + 1, None]
    tagger = NeuralTagger("c1-d1", max_epochs=30, lr=0.01, mixup=0, **TINY).fit(X, Y)
    proba = tagger.predict_proba(X)
    assert proba.shape == (60, 3) and ((proba >= 0) & (proba <= 1)).all()
    assert (tagger.predict(X) == Y).mean() > 0.9
    tagger.set_params(threshold=1.0)  # a decision parameter: no refit
    assert tagger.predict(X).sum() == (proba >= 1.0).sum()
    tagger.set_params(threshold=0.0)
    assert tagger.predict(X).all()
    # 1-D labels, as OneVsRestClassifier: binary and multiclass
    tagger.set_params(threshold=0.5).fit(X3, Y3)
    assert tagger.predict(X3).shape == (48,) and tagger.predict_proba(X3).shape == (48, 3)
    tagger.fit(X3, Y3 == 1)
    assert tagger.predict_proba(X3).shape == (48, 2)


def test_mixed_precision_path_runs_on_the_cpu():
    # The CUDA path is the same code with float16 and a live GradScaler; on the CPU
    # autocast runs in bfloat16 and the scaler is a no-op.
    clf = NeuralClassifier("crnn", max_epochs=8, lr=0.01, mixed_precision=True, **TINY)
    clf.fit(X3, Y3)
    assert clf.net_.mixed_precision and not clf.net_.grad_scaler_.is_enabled()
    assert clf.score(X3, Y3) >= 0.8
    assert NeuralClassifier(max_epochs=1, **TINY).fit(X3, Y3).net_.mixed_precision is False


def test_device_auto_is_cpu_here():
    clf = NeuralClassifier(max_epochs=1, **TINY).fit(X3, Y3)
    assert clf.net_.device == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="device='gpu0' is not a torch device"):
        NeuralClassifier(device="gpu0", max_epochs=1).fit(X3, Y3)


# ---------------------------------------------- early stopping, split, callbacks


def test_no_hidden_split_without_early_stopping():
    clf = NeuralClassifier(max_epochs=2, early_stopping=False, batch_size=8, **TINY)
    clf.fit(X3, Y3)
    assert clf.net_.train_split is None
    assert clf.history_[-1, "train_batch_count"] == 48 // 8  # every clip is trained on
    assert "valid_loss" not in clf.history_[-1]


def test_early_stopping_splits_stratified_stops_and_restores_the_best_weights():
    clf = NeuralClassifier("c1-d1", max_epochs=200, lr=0.05, n_iter_no_change=3,
                           validation_fraction=0.25, **TINY).fit(X3, Y3)
    split = clf.net_.train_split
    assert split.stratified and split.cv == 0.25
    history = clf.history_
    assert len(history) < 200
    assert history[-1, "train_batch_count"] == 2  # 36 training clips: batches of 32 and 4
    best = int(np.argmin(history[:, "valid_loss"]))
    assert len(history) == best + 1 + 3
    # the restored network has the best epoch's validation loss
    ds_valid = split(clf.net_.get_dataset(clf._check_X(X3, reset=False), Y3), Y3)[1]
    idx = ds_valid.indices
    proba = clf.predict_proba(X3[idx])
    loss = -np.log(proba[np.arange(len(idx)), Y3[idx]]).mean()
    assert loss == pytest.approx(history[best, "valid_loss"], rel=1e-4)


def test_small_data_validation_holds_three_clips_a_class_or_none():
    # 48 training clips of 4 classes: 10% would be 5 clips, one or two a class (issue 25)
    X, y = banded_clips(n_per_class=12, n_classes=4)
    clf = NeuralClassifier("c1-d1", max_epochs=2, **TINY).fit(X, y)
    split = clf.net_.train_split
    _, valid = split(clf.net_.get_dataset(clf._check_X(X, reset=False), y), y)
    assert split.stratified and np.bincount(y[valid.indices]).tolist() == [3, 3, 3, 3]
    # 2 clips a class: no split that can decide, train on all and stop on train_loss
    X, y = banded_clips(n_per_class=2, n_classes=4)
    with pytest.warns(UserWarning, match="too few clips of each class"):
        clf = NeuralClassifier("c1-d1", max_epochs=2, **TINY).fit(X, y)
    assert clf.net_.train_split is None and "valid_loss" not in clf.history_[-1]
    assert dict(clf.net_.callbacks_)["early_stopping"].monitor == "train_loss"


class _Interrupt(Callback):
    """Record the weights after every epoch and press Ctrl-C after ``at`` epochs."""

    def __init__(self, at):
        self.at = at

    def on_train_begin(self, net, **kwargs):
        self.weights_ = []

    def on_epoch_end(self, net, **kwargs):
        self.weights_.append(copy.deepcopy(net.module_.state_dict()))
        if len(net.history) == self.at:
            raise KeyboardInterrupt


def test_interrupted_training_keeps_the_best_weights():
    clf = NeuralClassifier("c1-d1", max_epochs=50, lr=0.2, callbacks=[_Interrupt(6)], **TINY)
    clf.fit(X3, Y3)
    assert len(clf.history_) == 6
    best = int(np.argmin(clf.history_[:, "valid_loss"]))
    recorder = dict(clf.net_.callbacks_)["_Interrupt"]
    state = clf.net_.module_.state_dict()
    for name, value in recorder.weights_[best].items():
        assert torch.equal(state[name], value), name


def test_callbacks_are_used_but_not_mutated():
    from skorch.callbacks import LRScheduler

    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    before = copy.deepcopy(scheduler.__dict__)
    clf = NeuralClassifier(max_epochs=3, callbacks=[scheduler], **TINY).fit(X3, Y3)
    assert scheduler.__dict__.keys() == before.keys()
    assert clf.net_.optimizer_.param_groups[0]["lr"] == pytest.approx(1e-3 / 8)


def test_verbose_prints_the_epoch_table_and_zero_is_silent(capsys):
    NeuralClassifier(max_epochs=2, verbose=0, **TINY).fit(X3, Y3)
    assert capsys.readouterr().out == ""
    NeuralClassifier(max_epochs=2, verbose=1, **TINY).fit(X3, Y3)
    out = capsys.readouterr().out
    assert "epoch" in out and "train_loss" in out and "valid_acc" in out


def test_progress_by_default_when_someone_watches(capsys, monkeypatch):
    import sys

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    from skmir.model_selection import compare

    NeuralClassifier(max_epochs=2, **TINY).fit(X3, Y3)  # a test run: nobody watches
    assert capsys.readouterr().out == ""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    NeuralClassifier(max_epochs=2, **TINY).fit(X3, Y3)  # a terminal: epoch lines
    assert "train_loss" in capsys.readouterr().out
    # compare counts the epochs on its own bar: no epoch table from its folds
    model = make_pipeline(FunctionTransformer(), NeuralClassifier(max_epochs=2, **TINY))
    compare({"net": model}, X3, Y3, cv=2, verbose=0)
    assert "train_loss" not in capsys.readouterr().out


# --------------------------------------------------------------------- errors


def test_bad_architecture_fails_before_any_data_or_torch_work():
    with pytest.raises(ValueError, match=r"architecture = 'c2-p2-x1': token 'x1' at position 3"):
        NeuralClassifier("c2-p2-x1").fit(None, None)
    with pytest.raises(ValueError, match=r"channels=\(8, 8, 8\) has 3 values but "):
        NeuralClassifier("crnn", channels=(8, 8, 8)).fit(X3, Y3)
    with pytest.raises(ValueError, match=r"comes after the recurrent layer 'r1'"):
        NeuralRegressor("r1-c2").fit(X3, Y3)


@pytest.mark.parametrize("Est", [NeuralClassifier, NeuralRegressor, NeuralTagger])
def test_input_errors(Est):
    est = Est(max_epochs=1, **TINY)
    with pytest.raises(NotFittedError):
        est.predict(X3)
    bad = X3.copy()
    bad[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, Y3)
    bad[3, 2, 1] = np.inf
    with pytest.raises(ValueError, match="inf"):
        est.fit(bad, Y3)
    with pytest.raises(ValueError, match=r"shape \(48, 1, 1, 16, 24\)"):
        est.fit(X3[:, None, None], Y3)
    est.fit(X3, Y3)
    with pytest.raises(ValueError, match=r"\(channels, bins\) = \(2, 16\).*fitted on \(1, 16\)"):
        est.predict(np.stack([X3, X3], axis=1))
    with pytest.raises(ValueError, match=r"\(channels, bins\) = \(1, 8\).*fitted on \(1, 16\)"):
        est.predict(X3[:, :8])
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 16"):
        est.predict(X3[:, :3, 0])  # tabular input keeps sklearn's message
    with pytest.raises(ValueError, match="NaN"):
        est.predict(np.full_like(X3, np.nan))
    with pytest.raises(ValueError, match="lr"):
        Est(lr=-1.0).fit(X3, Y3)


def test_tagger_refuses_y_that_is_not_an_indicator():
    with pytest.raises(ValueError, match=r"2-D y must be a binary indicator matrix .*"
                                         r"'multiclass-multioutput'"):
        NeuralTagger(max_epochs=1).fit(X3, np.column_stack([Y3, Y3]))
    with pytest.raises(ValueError, match=r"dim 3, while dim <= 2 is required by NeuralTagger"):
        NeuralTagger(max_epochs=1).fit(X3, np.zeros((48, 2, 1)))


def test_classifier_errors_on_y():
    with pytest.raises(ValueError, match="y has 1 class"):
        NeuralClassifier(max_epochs=1).fit(X3, np.zeros(48))
    with pytest.raises(ValueError, match="Unknown label type"):
        NeuralClassifier(max_epochs=1).fit(X3, np.linspace(0, 1, 48))


def test_early_stopping_needs_something_to_train_on():
    with pytest.raises(ValueError, match=r"validation_fraction=0.5 of the 1 sample.*"
                                         r"early_stopping=False"):
        NeuralRegressor(validation_fraction=0.5, max_epochs=1).fit(X3[:1], [1.0])
    NeuralRegressor(early_stopping=False, max_epochs=1, **TINY).fit(X3[:1], [1.0])


# ---------------------------------------------------------------- persistence


@pytest.fixture(params=["classifier", "tagger", "regressor"])
def fitted(request):
    y = np.array(["a", "b", "c"])[Y3]
    if request.param == "tagger":
        y = np.eye(3, dtype=int)[Y3]
        y[::5, 0] = 1
    elif request.param == "regressor":
        y = np.column_stack([Y3 * 10.0, -Y3 + 0.5])
    Est = {"classifier": NeuralClassifier, "tagger": NeuralTagger,
           "regressor": NeuralRegressor}[request.param]
    est = Est("crnn", max_epochs=2, **TINY).fit(X3, y)
    return est, y


def _out(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def test_pickle_round_trip(fitted):
    est, _ = fitted
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_out(est, X3), _out(again, X3))
    np.testing.assert_array_equal(est.predict(X3), again.predict(X3))


def test_save_load_round_trip_reads_with_weights_only(fitted, tmp_path):
    est, _ = fitted
    path = tmp_path / "model.pt"
    est.save(path)
    assert os.listdir(tmp_path) == ["model.pt"]  # no temporary file left behind
    torch.load(path, weights_only=True)  # only tensors and plain values inside
    again = type(est).load(path)
    np.testing.assert_array_equal(_out(est, X3), _out(again, X3))
    np.testing.assert_array_equal(est.predict(X3), again.predict(X3))
    assert again.get_params() == est.get_params()
    assert len(again.history_) == len(est.history_)
    with pytest.raises(ValueError, match="holds a"):
        (NeuralRegressor if type(est) is not NeuralRegressor else NeuralTagger).load(path)


@pytest.mark.parametrize("name", ["model", ".model", "model.v2"])
def test_save_to_a_name_without_the_usual_suffix(fitted, tmp_path, name):
    # torch.save refuses to write a file named like ".model-tmp-x"; the temporary
    # file of an atomic save must not be named so.
    est, _ = fitted
    est.save(tmp_path / name)
    est.net_.save_params(f_params=tmp_path / f"{name}-weights")
    assert sorted(os.listdir(tmp_path)) == sorted([name, f"{name}-weights"])
    np.testing.assert_array_equal(_out(est, X3), _out(type(est).load(tmp_path / name), X3))


def test_loading_weights_that_do_not_fit_the_network(fitted, tmp_path):
    # A file whose layers differ from what this version builds (renamed or reshaped
    # parameters) is refused by name, not with torch's load_state_dict traceback.
    est, _ = fitted
    path = tmp_path / "model.pt"
    est.save(path)
    state = torch.load(path, weights_only=True)
    name = next(iter(state["weights"]))
    state["weights"][name + "_renamed"] = state["weights"].pop(name)
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"model.pt'.*weights do not fit.*refit"):
        type(est).load(path)


def test_skorch_save_params_load_params_round_trip(fitted, tmp_path):
    est, y = fitted
    est.net_.save_params(f_params=tmp_path / "w.pt", f_history=tmp_path / "h.json")
    assert sorted(os.listdir(tmp_path)) == ["h.json", "w.pt"]
    torch.load(tmp_path / "w.pt", weights_only=True)
    assert est.net_.torch_load_kwargs == {"weights_only": True}
    again = clone(est).initialize(X3, y)
    assert not np.array_equal(_out(est, X3), _out(again, X3))  # fresh weights
    again.net_.load_params(f_params=tmp_path / "w.pt")
    np.testing.assert_array_equal(_out(est, X3), _out(again, X3))


def test_saves_are_atomic(fitted, tmp_path, monkeypatch):
    est, _ = fitted
    path = tmp_path / "model.pt"
    est.save(path)
    before = path.read_bytes()

    def crash(obj, f, *args, **kwargs):
        with open(f, "wb") as fh:
            fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        est.save(path)
    with pytest.raises(OSError, match="disk full"):
        est.net_.save_params(f_params=path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.pt"]


# ------------------------------------------------------ pipelines and searches


def test_grid_search_over_architecture_strings_in_a_pipeline():
    from skmir import SpectrogramScaler

    pipe = make_pipeline(SpectrogramScaler(),
                         NeuralClassifier(max_epochs=4, lr=0.01, **TINY))
    grid = GridSearchCV(pipe, {"neuralclassifier__architecture": ["c1-p1-c1-p1-d1-d1-d1",
                                                                  "c2-p2-c2-p2-r1-r2-d1"],
                               "neuralclassifier__channels": [4, (4, 8)]}, cv=2)
    grid.fit(X3, Y3)
    assert grid.best_score_ > 0.5
    assert set(grid.cv_results_["param_neuralclassifier__architecture"]) == {
        "c1-p1-c1-p1-d1-d1-d1", "c2-p2-c2-p2-r1-r2-d1"}


# ----------------------------------------------------------- real(istic) audio


def test_pipeline_learns_generated_music_within_a_minute():
    """The issue's pipeline on make_music: the predominant instrument of solo clips.

    An easy setting: four timbrally distinct instruments (piano, guitar, organ,
    marimba) playing alone, 2 s clips at 16 kHz, 90 clips to train on. (The full
    ten-instrument task is hard on purpose: MFCC + SVC scores about 0.75 there.)
    Here a small CRNN scores 28/30 on held-out clips in a few seconds.
    """
    datasets = pytest.importorskip("skmir.datasets")
    from sklearn.model_selection import train_test_split

    from skmir import LogCompression, MelSpectrogram, SpectrogramScaler

    start = time.perf_counter()
    music = datasets.make_music("instrument", n_clips=300, duration=2.0, sr=16000,
                                drums=False, accompaniment=False, random_state=0)
    names = music.target_names[music.target]
    keep = np.isin(names, ["piano", "guitar", "organ", "marimba"])
    X_train, X_test, y_train, y_test = train_test_split(
        music.data[keep], names[keep], test_size=0.25, stratify=names[keep], random_state=0)
    pipe = make_pipeline(MelSpectrogram(sr=16000, n_mels=64), LogCompression(),
                         SpectrogramScaler(),
                         NeuralClassifier("crnn", channels=16, max_epochs=30, random_state=0))
    accuracy = pipe.fit(X_train, y_train).score(X_test, y_test)
    elapsed = time.perf_counter() - start
    assert accuracy >= 0.9, accuracy
    assert elapsed < 60, elapsed


def test_docstring_examples():
    import doctest

    import skmir
    import skmir.augmentation
    import skmir.neural.clip
    import skmir.nn.architecture
    import skmir.nn.builder

    modules = [skmir.nn.architecture, skmir.nn.builder, skmir.augmentation]
    # The estimators' examples import from the package: skmir.NeuralClassifier.
    if hasattr(skmir, "NeuralClassifier"):
        modules.append(skmir.neural.clip)
    for module in modules:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__


# ------------------------------------------------- package, example, benchmark

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*args):
    return subprocess.run([sys.executable, *args], check=True, capture_output=True,
                          text=True, cwd=ROOT).stdout


def test_package_exports_the_neural_side_lazily():
    _run("-c", "import sys, skmir; assert 'torch' not in sys.modules, 'torch on import';"
               "skmir.NeuralClassifier, skmir.NeuralRegressor, skmir.NeuralTagger, skmir.augment")


def test_compare_architectures_example_quick():
    out = _run(os.path.join("examples", "compare_architectures.py"), "--quick")
    for name in ("mfcc + svc", "conv1d", "conv2d", "crnn", "3-fold accuracy"):
        assert name in out


def test_training_benchmark_quick():
    out = _run(os.path.join("benchmarks", "bench_training.py"), "--quick")
    assert "ratio" in out and "clips/s" in out
