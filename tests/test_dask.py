"""The same pipelines on a Dask cluster: joblib's dask backend on a 2-worker
LocalCluster (worker processes on loopback) gives the results of a local run."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

from conftest import banded_clips  # noqa: E402

from skmir import (  # noqa: E402
    AudioLoader,
    LogCompression,
    MelSpectrogram,
    build_store,
    compare,
    make_mfcc_baseline,
)
from skmir.datasets import make_music, write_audio_folder  # noqa: E402

SR = 8000


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def music():
    return make_music("mode", n_clips=12, duration=1.5, sr=SR, random_state=0)


def _on_cluster(fn):
    with joblib.parallel_config(backend="dask"):
        return fn()


def test_grid_search_of_the_mfcc_baseline(client, music):
    def search(n_jobs):
        grid = GridSearchCV(make_mfcc_baseline(sr=SR), {"classifier__C": [0.1, 10.0]}, cv=3,
                            n_jobs=n_jobs)
        return grid.fit(music.data, music.target).cv_results_["mean_test_score"]

    local = search(1)
    np.testing.assert_array_equal(_on_cluster(lambda: search(2)), local)


def test_grid_search_of_a_neural_classifier(client):
    from skmir.neural import NeuralClassifier

    X, y = banded_clips(n_per_class=8, n_frames=12)
    clf = NeuralClassifier(channels=4, hidden=8, max_epochs=2, random_state=0)

    def search(n_jobs):
        grid = GridSearchCV(clf, {"lr": [0.003, 0.03]}, cv=2, n_jobs=n_jobs)
        return grid.fit(X, y).cv_results_["mean_test_score"]

    # torch's CPU kernels may sum in another order with another thread count
    np.testing.assert_allclose(_on_cluster(lambda: search(2)), search(1), atol=1e-6)


def test_compare_and_transforms(client, music):
    models = {"mfcc-svm": make_mfcc_baseline(sr=SR),
              "mel-svm": make_mfcc_baseline(sr=SR).set_params(mfcc__n_mfcc=8)}
    local = compare(models, music.data, music.target, cv=3, verbose=0, n_jobs=1)
    remote = _on_cluster(lambda: compare(models, music.data, music.target, cv=3, verbose=0,
                                         n_jobs=2))
    for name in models:
        np.testing.assert_array_equal(remote.scores[name], local.scores[name])
        np.testing.assert_array_equal(remote.predictions[name], local.predictions[name])
    # A representation's n_jobs are threads (joblib require="sharedmem"), on any backend:
    # the same blocks as a local run; the blocks of n_jobs=1 sum in another order.
    mel = MelSpectrogram(sr=SR, n_mels=16, n_jobs=2)
    on_cluster = _on_cluster(lambda: mel.transform(music.data))
    np.testing.assert_array_equal(on_cluster, mel.transform(music.data))
    np.testing.assert_allclose(on_cluster, mel.set_params(n_jobs=1).transform(music.data),
                               rtol=1e-5)


def test_build_store_on_the_cluster(client, music, tmp_path):
    paths = write_audio_folder(music.data, music.target_names[music.target], tmp_path / "a")
    frontend = make_pipeline(AudioLoader(sr=SR, duration=1.5),
                             MelSpectrogram(sr=SR, n_mels=16), LogCompression())
    local = build_store(frontend, paths, tmp_path / "local", y=music.target, chunk_size=4,
                        verbose=0)
    remote = _on_cluster(lambda: build_store(frontend, paths, tmp_path / "remote",
                                             y=music.target, chunk_size=4, n_jobs=2, verbose=0))
    # Dask's workers run one BLAS thread: the mel filterbank's sums may round apart
    np.testing.assert_allclose(np.asarray(remote), np.asarray(local), rtol=1e-5, atol=1e-5)
    assert remote.y.tolist() == local.y.tolist() and remote.paths.tolist() == paths
    # an array input is sent to the workers chunk by chunk
    X = np.random.default_rng(0).normal(size=(9, 4)).astype(np.float32)
    store = _on_cluster(lambda: build_store(FunctionTransformer(), X, tmp_path / "x",
                                            chunk_size=2, n_jobs=2, verbose=0))
    np.testing.assert_array_equal(np.asarray(store), X)
    assert [c["sha256"] for c in store._manifest["chunks"]] == [
        c["sha256"] for c in build_store(FunctionTransformer(), X, tmp_path / "x1",
                                         chunk_size=2, verbose=0)._manifest["chunks"]]


def test_cli_runs_its_folds_on_a_scheduler(client, capsys, tmp_path):
    import dask

    from skmir import cli

    args = ["compare", "--n-clips", "12", "--duration", "1.5", "--sr", str(SR), "--cv", "2",
            "--quiet", "--models", "mfcc-svm"]
    assert cli.main([*args, "--out", str(tmp_path / "local")]) in (0, None)
    assert cli.main([*args, "--out", str(tmp_path / "dask"),
                     "--scheduler", client.scheduler.address]) in (0, None)
    assert (tmp_path / "dask" / "results.md").read_text().splitlines()[2].split("|")[2] == \
        (tmp_path / "local" / "results.md").read_text().splitlines()[2].split("|")[2]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = cli.main([*args, "--out", str(tmp_path / "x"), "--scheduler",
                         "tcp://127.0.0.1:9"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--scheduler = 'tcp://127.0.0.1:9'" in err and "cannot reach" in err


def test_cli_scheduler_errors_are_one_line_and_a_silent_port_times_out(capsys, tmp_path,
                                                                         monkeypatch):
    import socket

    from skmir import cli

    monkeypatch.setattr(cli, "CONNECT_TIMEOUT", 2)
    args = ["compare", "--n-clips", "12", "--duration", "1.5", "--sr", str(SR), "--cv", "2",
            "--quiet", "--models", "mfcc-svm", "--out", str(tmp_path / "x")]
    # a TLS address without security settings: distributed raised past _connect before
    assert cli.main([*args, "--scheduler", "tls://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(
        "skmir compare: error: --scheduler = 'tls://127.0.0.1:1': cannot reach")
    # a port that accepts the connection and never answers: it used to hang for good
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        assert cli.main([*args, "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert f"--scheduler = '{address}': cannot reach a Dask scheduler there within 2 s" in err
    assert not (tmp_path / "x").exists()


def test_skmir_tag_fails_when_it_cannot_write_its_output(tmp_path):
    import subprocess
    import sys

    import soundfile as sf

    sf.write(tmp_path / "a.wav", np.zeros(16000, np.float32), 16000)
    run = subprocess.run(f"'{sys.executable}' -m skmir.cli tag '{tmp_path / 'a.wav'}' >&-",
                         shell=True, capture_output=False, stderr=subprocess.PIPE, text=True)
    assert run.returncode == 2
    assert "skmir tag: error: standard output is closed" in run.stderr
