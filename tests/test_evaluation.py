"""compare(), its results and report, the corrected t-test and the skmir command."""

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
from conftest import write_dataset
from scipy import stats
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import cross_val_predict
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import SVC

from skmir import (
    MFCC,
    AudioLoader,
    LogCompression,
    MelSpectrogram,
    TimeSummary,
    Waveforms,
    compare,
    make_mfcc_baseline,
)
from skmir.cli import main
from skmir.model_selection import corrected_ttest
from skmir.pipelines import make_logmel_frontend, make_models

SR = 8000


@pytest.fixture(scope="module")
def sines_vs_squares():
    rng = np.random.default_rng(0)
    t = np.arange(SR // 2) / SR
    X = np.stack([np.sin(2 * np.pi * f * t) for f in rng.uniform(100, 900, 40)])
    y = np.repeat(["sine", "square"], 20)
    X[y == "square"] = np.sign(X[y == "square"])
    return X.astype(np.float32), y


def test_corrected_ttest_matches_hand_computation():
    d = np.array([0.05, 0.10, 0.02, 0.08])
    t, p = corrected_ttest(d, n_train=75, n_test=25)
    expected_t = d.mean() / np.sqrt(d.var(ddof=1) * (1 / 4 + 25 / 75))
    assert t == pytest.approx(expected_t)
    assert p == pytest.approx(2 * stats.t.sf(expected_t, df=3))
    # the correction makes it more conservative than the plain paired t-test
    assert p > stats.ttest_1samp(d, 0).pvalue


def test_compare_pairs_models_on_the_same_folds(sines_vs_squares, tmp_path):
    X, y = sines_vs_squares
    res = compare({"mfcc-svm": make_mfcc_baseline(sr=SR), "chance": DummyClassifier()},
                  X, y, cv=4, verbose=0)
    assert set(res.scores) == {"mfcc-svm", "chance"}
    assert res.scores["mfcc-svm"].shape == (4,)
    np.testing.assert_allclose(res.scores["chance"], 0.5)
    assert res.best() == "mfcc-svm"
    assert res.versus_baseline()["chance"]["verdict"] == "worse"
    # out-of-fold predictions reproduce the fold scores
    for (_, test), score in zip(res.splits, res.scores["mfcc-svm"]):
        assert np.mean(res.predictions["mfcc-svm"][test] == y[test]) == pytest.approx(score)
    table = res.to_markdown()
    assert "| mfcc-svm |" in table and "worse" in table
    written = res.save(tmp_path / "report")
    assert sorted(p.name for p in written) == ["confusion.png", "results.csv", "results.md",
                                               "scores.png"]
    rows = (tmp_path / "report" / "results.csv").read_text().splitlines()
    assert rows[0] == "model,fold,score,fit_time,score_time" and len(rows) == 1 + 2 * 4


def test_compare_with_groups_never_splits_a_group(sines_vs_squares):
    X, y = sines_vs_squares
    groups = np.arange(len(y)) // 4  # "artists" of four clips each, one class each
    res = compare({"chance": DummyClassifier()}, X, y, cv=5, groups=groups, verbose=0)
    for train, test in res.splits:
        assert not set(groups[train]) & set(groups[test])


def test_compare_errors(sines_vs_squares):
    X, y = sines_vs_squares
    with pytest.raises(ValueError, match="unknown model name.*available models are"):
        compare(["mfcc-svm", "resnet"], X, y)
    with pytest.raises(ValueError, match="40 clips but y has 39"):
        compare({"chance": DummyClassifier()}, X, y[:-1])
    assert list(make_models("mfcc-svm, mfcc-svm")) == ["mfcc-svm"]


def test_command_on_a_folder(tmp_path, capsys):
    write_dataset(tmp_path / "data", n_per_class=6)
    out = tmp_path / "report"
    code = main(["compare", str(tmp_path / "data"), "--models", "mfcc-svm", "--cv", "3",
                 "--sr", "16000", "--out", str(out), "--quiet"])
    assert code == 0
    assert (out / "results.md").read_text().startswith("| model | accuracy")
    assert (out / "confusion.png").stat().st_size > 0
    assert "AudioFileWarning: Excluded 3" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["compare", "/no/such/folder"], "neither a folder nor a CSV manifest"),
    (["compare", "--models", "mfcc-svm,resnet"], "unknown model name"),
    (["compare", "--cv", "1"], "--cv = 1: at least 2"),
    (["compare", "--task", "tempo"], "tempo (a regression) and tags (multi-label) need other"),
    # checked before the data are generated or any model is trained
    (["compare", "--out", "/dev/null/report"], "--out = '/dev/null/report': cannot be written"),
])
def test_command_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_command_on_generated_music(tmp_path):
    out = tmp_path / "report"
    code = main(["compare", "--n-clips", "24", "--duration", "2", "--models", "mfcc-svm",
                 "--cv", "3", "--out", str(out), "--quiet"])
    assert code == 0
    rows = (out / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 and rows[1].startswith("mfcc-svm,0,")


def test_feature_extractor_models_on_generated_music_at_another_rate(tmp_path):
    # transfer loads the audio at its network's 16 kHz whatever --sr the others use
    out = tmp_path / "report"
    code = main(["compare", "--n-clips", "24", "--duration", "2", "--sr", "8000", "--models",
                 "mfcc-svm,random-weights,transfer", "--cv", "3", "--out", str(out), "--quiet"])
    assert code == 0
    table = (out / "results.md").read_text()
    assert "| transfer |" in table and "| random-weights |" in table


def test_default_models_include_the_feature_extractors():
    models = make_models("default", sr=16000)
    assert list(models) == ["mfcc-svm", "random-weights", "transfer", "conv1d", "conv2d", "crnn"]
    assert models["transfer"].named_steps["audioloader"].sr == 16000
    assert models["random-weights"].named_steps["randomweightsfeatures"].random_state == 0


# ------------------------------------------------- one prediction per fold

CALLS = Counter()


class CountingClassifier(DummyClassifier):
    def predict(self, X):
        CALLS["predict"] += 1
        return super().predict(X)

    def predict_proba(self, X):
        CALLS["predict_proba"] += 1
        return super().predict_proba(X)


class CountingTransformer(FunctionTransformer):
    def transform(self, X):
        CALLS["transform"] += 1
        return super().transform(X)


@pytest.mark.parametrize("scoring, expected", [
    ("accuracy", {"predict": 4}),
    # a probability scorer: predict_proba once, predict once (for the predictions)
    ("neg_log_loss", {"predict": 4, "predict_proba": 4}),
])
def test_compare_predicts_each_test_fold_once(sines_vs_squares, scoring, expected):
    X, y = sines_vs_squares
    CALLS.clear()
    res = compare({"counting": CountingClassifier()}, X, y, cv=4, scoring=scoring, verbose=0)
    assert dict(CALLS) == expected
    assert res.predictions["counting"].shape == y.shape


def test_compare_runs_a_pipelines_transforms_once_per_test_fold(sines_vs_squares):
    X, y = sines_vs_squares
    CALLS.clear()
    pipe = make_pipeline(CountingTransformer(), CountingClassifier())
    compare({"pipe": pipe}, X, y, cv=4, scoring="neg_log_loss", verbose=0)
    # per fold: one on the training fold (fit) and one on the test fold
    assert CALLS["transform"] == 2 * 4


def test_compare_scores_are_those_of_its_predictions_for_proba_scorers(sines_vs_squares):
    from sklearn.metrics import log_loss, roc_auc_score

    X, y = sines_vs_squares
    # roc_auc reads decision_function; predictions come from predict
    res = compare({"svm": make_mfcc_baseline(sr=SR)}, X, y, cv=4, scoring="roc_auc", verbose=0)
    for (train, test), score in zip(res.splits, res.scores["svm"]):
        fitted = make_mfcc_baseline(sr=SR).fit(X[train], y[train])
        assert score == pytest.approx(
            roc_auc_score(y[test] == "square", fitted.decision_function(X[test])))
        np.testing.assert_array_equal(res.predictions["svm"][test], fitted.predict(X[test]))
    res = compare({"chance": DummyClassifier()}, X, y, cv=4, scoring="neg_log_loss", verbose=0)
    np.testing.assert_allclose(res.scores["chance"], -log_loss([0, 1], [[0.5, 0.5]] * 2))


def test_a_missing_response_method_names_the_model(sines_vs_squares):
    X, y = sines_vs_squares
    with pytest.raises(AttributeError, match="Pipeline has none of the following") as err:
        compare({"svm": make_mfcc_baseline(sr=SR)}, X, y, cv=2, scoring="neg_log_loss",
                verbose=0)
    assert "_FoldPredictions" not in str(err.value)


def test_compare_resamples_once_for_a_loader_at_another_rate(sines_vs_squares, monkeypatch):
    import librosa

    X, y = sines_vs_squares
    X = Waveforms(X, sr=SR)

    def model():
        return Pipeline([("audioloader", AudioLoader(sr=16000, resample=True)),
                         ("mfcc", MFCC(sr=16000)), ("timesummary", TimeSummary()),
                         ("classifier", SVC())])

    res = compare({"at16k": model(), "at8k": make_mfcc_baseline(sr=SR)}, X, y, cv=4,
                  verbose=0)
    # the same predictions as resampling in every fold
    expected = cross_val_predict(model(), X, y, cv=res.splits)
    np.testing.assert_array_equal(res.predictions["at16k"], expected)

    resample, rates = librosa.resample, []

    def counting(*args, **kwargs):
        rates.append((kwargs["orig_sr"], kwargs["target_sr"]))
        return resample(*args, **kwargs)

    monkeypatch.setattr(librosa, "resample", counting)
    compare({"a": model(), "b": model()}, X, y, cv=4, verbose=0)
    assert rates == [(SR, 16000)]


class CountingMel(MelSpectrogram):
    def transform(self, X):
        CALLS[f"mel {self.n_mels}"] += 1
        return super().transform(X)


class CountingLog(LogCompression):
    def transform(self, X):
        CALLS["log"] += 1
        return super().transform(X)


def test_compare_runs_each_stateless_front_end_step_once_per_distinct_data(sines_vs_squares):
    X, y = sines_vs_squares

    def model(n_mels, classifier):
        return make_pipeline(AudioLoader(sr=SR), CountingMel(sr=SR, n_mels=n_mels),
                             CountingLog(), TimeSummary(), classifier)

    CALLS.clear()
    res = compare({"svm": model(32, SVC()), "chance": model(32, DummyClassifier()),
                   "svm-16": model(16, SVC())}, X, y, cv=3, verbose=0)
    # one mel per distinct n_mels on all of X; the log of each mel's output once
    assert dict(CALLS) == {"mel 32": 1, "mel 16": 1, "log": 2}
    for name, classifier in [("svm", SVC()), ("svm-16", SVC())]:
        n_mels = 16 if name == "svm-16" else 32
        expected = cross_val_predict(model(n_mels, classifier), X, y, cv=res.splits)
        np.testing.assert_array_equal(res.predictions[name], expected)


def test_a_loader_of_files_of_any_length_runs_in_every_fold():
    from skmir.model_selection.comparison import clipwise_prefix

    paths = ["a.wav", "b.wav"]
    # duration=None pads each call's files to that call's longest: not clip by clip
    assert clipwise_prefix(make_mfcc_baseline(), paths) == 0
    assert clipwise_prefix(make_mfcc_baseline(duration=1.0), paths) == 2
    assert clipwise_prefix(make_mfcc_baseline(), np.zeros((2, SR))) == 2
    assert clipwise_prefix(DummyClassifier(), paths) == 0


def test_the_default_models_score_as_when_every_fold_runs_the_whole_pipeline(monkeypatch):
    from skmir.datasets import make_music
    from skmir.model_selection import comparison

    music = make_music("mode", n_clips=16, duration=2.0, sr=SR, random_state=0)

    def run():
        models = make_models("default", sr=SR)
        for m in models.values():
            if "classifier__max_epochs" in m.get_params():
                m.set_params(classifier__max_epochs=2)
        return compare(models, music.data, music.target, cv=2, verbose=0)

    shared = run()
    monkeypatch.setattr(comparison, "clipwise_prefix", lambda model, X: 0)
    per_fold = run()
    for name in shared.scores:
        np.testing.assert_array_equal(shared.scores[name], per_fold.scores[name])
        np.testing.assert_array_equal(shared.predictions[name], per_fold.predictions[name])

    def table(res):  # the report without its timings
        return [(r["model"], r["mean"], r["std"], r["vs_baseline"], str(r["p_value"]))
                for r in res.summary()]

    assert table(shared) == table(per_fold)


def test_report_files_are_written_without_leftovers(sines_vs_squares, tmp_path):
    X, y = sines_vs_squares
    res = compare({"chance": DummyClassifier()}, X, y, cv=2, verbose=0)
    res.save(tmp_path)
    res.save(tmp_path)  # overwriting in place
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "confusion.png", "results.csv", "results.md", "scores.png"]
    assert "±" in (tmp_path / "results.md").read_text(encoding="utf-8")


# --------------------------------------------------------------- the layout


def test_model_selection_and_pipelines_import_no_torch():
    code = ("import skmir.pipelines, skmir.model_selection, sys; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_log_mel_model_uses_the_one_frontend():
    steps = ["melspectrogram", "logcompression", "spectrogramscaler"]
    front = make_logmel_frontend(16000, n_mels=32, hop_length=256,
                                 log_compression={"eps": 1e-3})
    assert [n for n, _ in front.steps] == steps
    assert front.get_params()["melspectrogram__hop_length"] == 256
    assert front.get_params()["logcompression__eps"] == 1e-3
    for name, model in make_models(["random-weights", "conv2d"], sr=16000).items():
        assert [n for n, _ in model.steps[1:4]] == steps, name
        assert model.get_params()["melspectrogram__n_mels"] == 64


# --------------------------------------------------------------- interrupts


class _Interrupt:
    """A skorch callback that presses Ctrl-C at a given epoch (and batch), and keeps a
    copy of the weights after every complete epoch."""

    def __new__(cls, *args, **kwargs):
        from skorch.callbacks import Callback

        class Interrupt(Callback):
            def __init__(self, epoch=2, batch=None):
                self.epoch, self.batch = epoch, batch

            def initialize(self):
                self.weights_, self.batches_ = {}, 0
                return self

            def on_batch_end(self, net, training=False, **kwargs):
                self.batches_ += training
                if training and len(net.history) == self.epoch and self.batch == self.batches_:
                    raise KeyboardInterrupt

            def on_epoch_end(self, net, **kwargs):
                import copy

                self.batches_ = 0
                self.weights_[len(net.history)] = copy.deepcopy(net.module_.state_dict())
                if self.batch is None and len(net.history) == self.epoch:
                    raise KeyboardInterrupt

        return Interrupt(*args, **kwargs)


def _net(callback, verbose=1, **params):
    from skmir.neural import NeuralClassifier

    params = {"max_epochs": 6, **params}
    return NeuralClassifier(architecture="c2-p2-d2", channels=4, hidden=8, batch_size=8,
                            callbacks=[("interrupt", callback)], verbose=verbose,
                            random_state=0, **params)


@pytest.fixture(scope="module")
def clips():
    pytest.importorskip("torch")
    from conftest import banded_clips

    return banded_clips(n_per_class=8, n_classes=2, n_bins=8, n_frames=12)


def test_an_interrupted_fit_says_which_epochs_weights_it_kept(clips, capsys):
    import torch

    X, y = clips
    callback = _Interrupt(epoch=3, batch=1)  # in the middle of epoch 3
    clf = _net(callback).fit(X, y)
    net = clf.net_
    assert net.interrupted_
    best = int(np.argmin([row["valid_loss"] for row in net.history[:2]])) + 1
    err = capsys.readouterr().err
    assert (f"skmir: training interrupted during epoch 3 of 6; kept the weights of epoch "
            f"{best}, the best valid_loss (restored by early stopping)") in err
    kept = dict(net.callbacks_)["interrupt"].weights_[best]
    for name, value in net.module_.state_dict().items():
        torch.testing.assert_close(value, kept[name], msg=name)
    assert clf.predict(X).shape == y.shape  # a usable model


def test_an_interrupt_at_the_end_of_an_epoch_keeps_it_and_verbose_0_is_silent(clips, capsys):
    X, y = clips
    clf = _net(_Interrupt(epoch=2), early_stopping=False).fit(X, y)
    assert "epoch 2 of 6; kept the weights as they were at the interruption (epoch 2)." in \
        capsys.readouterr().err
    assert len(clf.net_.history) == 2
    clf = _net(_Interrupt(epoch=2), verbose=0).fit(X, y)
    assert clf.net_.interrupted_ and capsys.readouterr().err == ""


def test_compare_stops_on_an_interrupt_instead_of_scoring_a_short_fold(clips):
    X, y = clips
    with pytest.raises(KeyboardInterrupt):
        compare({"net": _net(_Interrupt(epoch=2), verbose=0)}, X, y, cv=2, verbose=0)
    # the same network outside compare ends its training and returns
    assert _net(_Interrupt(epoch=2), verbose=0).fit(X, y).net_.interrupted_


def test_early_stopping_is_no_interrupt_inside_compare_or_a_fit(clips, capsys):
    # skorch's EarlyStopping ends training by raising KeyboardInterrupt itself.
    from skmir.neural import NeuralClassifier

    X, y = clips
    net = NeuralClassifier(architecture="c2-p2-d2", channels=4, hidden=8, batch_size=8,
                           max_epochs=40, n_iter_no_change=1, lr=0.3, random_state=0,
                           verbose=1)
    fitted = net.fit(X, y).net_
    assert len(fitted.history) < 40 and not fitted.interrupted_  # stopped early
    assert "interrupted" not in capsys.readouterr().err
    results = compare({"net": net.set_params(verbose=0)}, X, y, cv=2, verbose=0)
    assert results.scores["net"].shape == (2,)


class _CtrlC(DummyClassifier):
    def fit(self, X, y):
        raise KeyboardInterrupt


def test_the_command_exits_130_and_writes_no_results(tmp_path, monkeypatch, capsys):
    import skmir.pipelines

    out = tmp_path / "report"
    monkeypatch.setattr(skmir.pipelines, "make_models", lambda *a, **k: {"m": _CtrlC()})
    code = main(["compare", "--task", "mode", "--n-clips", "12", "--duration", "1.5", "--cv", "2",
                 "--out", str(out), "--quiet"])
    assert code == 130
    assert capsys.readouterr().err.strip() == (
        f"skmir compare: interrupted: no results written to {str(out)!r}")
    assert not out.exists()  # the folder the command made is removed (issue 25)
    out.mkdir()  # a folder the user made stays
    assert main(["compare", "--task", "mode", "--n-clips", "12", "--duration", "1.5", "--cv",
                 "2", "--out", str(out), "--quiet"]) == 130
    assert out.is_dir()


def test_the_command_stops_when_a_networks_training_is_interrupted(tmp_path, monkeypatch):
    import skmir.pipelines

    make_models_ = skmir.pipelines.make_models

    def interrupted_conv2d(*args, **kwargs):
        model = make_models_(["conv2d"], sr=8000)["conv2d"]
        return {"conv2d": model.set_params(classifier__max_epochs=3, classifier__callbacks=[
            ("interrupt", _Interrupt(epoch=1))])}

    monkeypatch.setattr(skmir.pipelines, "make_models", interrupted_conv2d)
    out = tmp_path / "report"
    code = main(["compare", "--task", "mode", "--n-clips", "12", "--duration", "1.5", "--sr",
                 "8000", "--cv", "2", "--out", str(out), "--quiet"])
    assert code == 130 and not (out / "results.md").exists()


# ------------------------------------------------------- threads under load


def test_training_uses_the_idle_cpus_and_restores_torchs_threads(clips, monkeypatch):
    import os

    import torch

    from skmir.nn.training import TrainingThreads

    X, y = clips
    monkeypatch.delenv("SKMIR_NUM_THREADS", raising=False)  # conftest fixes it
    before = torch.get_num_threads()
    usable = len(os.sched_getaffinity(0))
    for busy, expected in [(usable, 1), (0, min(before, usable))]:
        monkeypatch.setattr(TrainingThreads, "busy_cpus", staticmethod(lambda busy=busy: busy))
        clf = _net(_Interrupt(epoch=99), verbose=0, max_epochs=1).fit(X, y)
        assert clf.net_.num_threads_ == expected
        assert torch.get_num_threads() == before
    monkeypatch.setenv("SKMIR_NUM_THREADS", "3")
    assert _net(_Interrupt(epoch=99), verbose=0, max_epochs=1).fit(X, y).net_.num_threads_ == 3
    assert torch.get_num_threads() == before
    monkeypatch.setenv("SKMIR_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="SKMIR_NUM_THREADS='many': expected a positive integer"):
        _net(_Interrupt(epoch=99), verbose=0, max_epochs=1).fit(X, y)


def test_busy_cpus_sees_a_busy_loop():
    import multiprocessing
    import os

    from skmir.nn.training import TrainingThreads

    if not os.path.exists("/proc/stat"):
        pytest.skip("needs /proc/stat")
    hog = multiprocessing.get_context("fork").Process(target=_spin, daemon=True)
    hog.start()
    try:
        busy = TrainingThreads.busy_cpus(window=0.2)
    finally:
        hog.terminate()
        hog.join()
    assert busy >= 1  # (other jobs may share the machine: more is possible)


def _spin():
    while True:
        pass


def test_compare_shows_each_epoch_of_a_running_fold(clips, capsys):
    from skmir.neural import NeuralClassifier

    X, y = clips
    net = NeuralClassifier(architecture="c2-p2-d2", channels=4, hidden=8, batch_size=8,
                           max_epochs=3, early_stopping=False, random_state=0)
    compare({"net": net}, X, y, cv=2, verbose=1)
    captured = capsys.readouterr()
    for fold in (1, 2):
        assert f"net fold {fold}/2 epoch 3/3" in captured.err  # the bar, while it trains
    assert "net fold 2/2: " in captured.out  # the fold's line once it is scored


def test_compare_in_parallel_equals_compare_in_this_process(clips):
    from skmir.model_selection.comparison import _dispatch_order
    from skmir.neural import NeuralClassifier

    X, y = clips
    def net(architecture):
        return NeuralClassifier(architecture=architecture, channels=4, hidden=8, batch_size=8,
                                max_epochs=3, early_stopping=False, random_state=0)

    models = {"baseline": make_pipeline(FunctionTransformer(lambda X: X.reshape(len(X), -1)),
                                        SVC()),
              "net": net("c2-p2-d2"),
              "chance": DummyClassifier(),
              "larger net": make_pipeline(FunctionTransformer(), net("c2-p2-c2-p2-d2"))}
    # workers take the networks first (the longest), the last listed first; this
    # process takes the given order
    assert _dispatch_order(models, 2) == ["larger net", "net", "baseline", "chance"]
    assert _dispatch_order(models, 1) == list(models)
    serial = compare(models, X, y, cv=4, baseline="baseline", verbose=0)
    parallel = compare(models, X, y, cv=4, baseline="baseline", n_jobs=2, verbose=0)
    assert list(parallel.scores) == list(models)  # the models' order, not the fits'
    for name in models:  # conftest fixes the threads of every fit: the same sums
        np.testing.assert_array_equal(parallel.scores[name], serial.scores[name])
        np.testing.assert_array_equal(parallel.predictions[name], serial.predictions[name])


def test_the_command_fits_a_fold_per_core_unless_a_gpu_trains(monkeypatch):
    import joblib

    from skmir import cli
    from skmir.nn import device

    assert cli._default_n_jobs(5) == min(joblib.cpu_count(), 5)
    assert cli._default_n_jobs(1) == 1
    monkeypatch.setattr(device.torch.cuda, "is_available", lambda: True)
    assert cli._default_n_jobs(5) == 1


def test_compare_raises_the_warnings_of_its_workers_fits_in_its_own_process(clips):
    from skmir.neural import NeuralClassifier

    X, y = clips  # too few clips of a class for early stopping's validation split
    net = NeuralClassifier(architecture="c2-p2-d2", channels=4, hidden=8, batch_size=8,
                           max_epochs=1, random_state=0)
    with pytest.warns(UserWarning, match="too few clips of each class"):
        compare({"net": net}, X, y, cv=2, n_jobs=2, verbose=0)
