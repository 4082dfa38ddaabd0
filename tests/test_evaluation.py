"""compare(), its results and report, the corrected t-test and the skmir command."""

import numpy as np
import pytest
from conftest import write_dataset
from scipy import stats
from sklearn.dummy import DummyClassifier

from skmir import compare, make_mfcc_baseline
from skmir.cli import main
from skmir.evaluation import corrected_ttest, make_models

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
    with pytest.raises(ValueError, match="Unknown model name.*available models are"):
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
    (["compare", "--models", "mfcc-svm,resnet"], "Unknown model name"),
    (["compare", "--cv", "1"], "--cv must be at least 2"),
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
