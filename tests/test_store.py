"""Feature stores: build, read back, resume after a crash, damage, bad files, and
training and prediction from a store with bounded memory."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skmir import (
    AudioFileWarning,
    AudioLoader,
    FeatureStore,
    LogCompression,
    MelSpectrogram,
    build_store,
)
from skmir._files import sha256
from skmir.datasets import make_music, write_audio_folder

SR = 8000
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _frontend(n_mels=16):
    return make_pipeline(AudioLoader(sr=SR, duration=1.5), MelSpectrogram(sr=SR, n_mels=n_mels),
                         LogCompression())


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    music = make_music("mode", n_clips=10, duration=1.5, sr=SR, random_state=0)
    root = tmp_path_factory.mktemp("audio")
    paths = write_audio_folder(music.data, music.target_names[music.target], root)
    return paths, music.target


def _hashes(path):
    manifest = json.loads((path / "store.json").read_text())
    return [sha256(path / c["file"]) for c in manifest["chunks"]]


def test_store_reads_back_the_front_end_output(audio, tmp_path):
    paths, y = audio
    expected = _frontend().transform(paths)
    store = build_store(_frontend(), paths, tmp_path / "s", y=y, groups=np.arange(10) % 3,
                        chunk_size=4, verbose=0)
    assert store.shape == expected.shape and len(store) == 10 and store.dtype == np.float32
    np.testing.assert_allclose(np.asarray(store), expected, rtol=1e-6, atol=1e-6)
    assert store.y.tolist() == y.tolist() and store.groups.tolist() == (np.arange(10) % 3).tolist()
    assert store.paths.tolist() == paths and store.ok.all() and store.reasons == {}
    assert store.params["params"]["melspectrogram__n_mels"] == 16
    # the chunks are plain .npy files any numpy reads, recorded with their SHA-256
    manifest = json.loads((tmp_path / "s" / "store.json").read_text())
    assert [(c["start"], c["stop"]) for c in manifest["chunks"]] == [(0, 4), (4, 8), (8, 10)]
    for c in manifest["chunks"]:
        assert c["sha256"] == sha256(tmp_path / "s" / c["file"])
        np.testing.assert_array_equal(np.load(tmp_path / "s" / c["file"]),
                                      store[c["start"]:c["stop"]])
    assert FeatureStore(tmp_path / "s").verify().shape == expected.shape
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [
        "chunk-00000.npy", "chunk-00001.npy", "chunk-00002.npy", "rows.json", "store.json"]


def test_indexing_matches_numpy(tmp_path):
    X = np.random.default_rng(0).normal(size=(11, 3, 5)).astype(np.float32)
    store = build_store(FunctionTransformer(), X, tmp_path / "s", y=np.arange(11),
                        chunk_size=4, verbose=0)
    mask = np.arange(11) % 3 == 0
    for key in [3, -1, slice(2, 9), slice(None, None, -3), [9, 0, 4, 4, 10], np.array([-2, 5]),
                mask, (slice(1, 3), 0), (np.array([7, 1]), Ellipsis), (Ellipsis, 1)]:
        np.testing.assert_array_equal(store[key], X[key])
    assert store[np.array([], dtype=int)].shape == (0, 3, 5)
    with pytest.raises(IndexError, match="index 11 is out of range for 11 rows"):
        store[[0, 11]]
    with pytest.raises(IndexError, match="boolean index must have the store's length 11"):
        store[np.ones(3, bool)]
    view = store.take([8, 2, 5])
    assert view.shape == (3, 3, 5) and view.y.tolist() == [8, 2, 5]
    np.testing.assert_array_equal(view[1:], X[[2, 5]])
    np.testing.assert_array_equal(view.take([2])[0], X[5])
    again = pickle.loads(pickle.dumps(view))
    np.testing.assert_array_equal(np.asarray(again), X[[8, 2, 5]])


def test_resume_after_a_kill_gives_the_identical_store(audio, tmp_path):
    paths, y = audio
    reference = build_store(_frontend(), paths, tmp_path / "ref", y=y, chunk_size=2, verbose=0)
    script = tmp_path / "build.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {REPO!r})
        from sklearn.base import BaseEstimator, TransformerMixin
        from sklearn.pipeline import make_pipeline
        from skmir import AudioLoader, LogCompression, MelSpectrogram, build_store

        class Slow(TransformerMixin, BaseEstimator):
            def fit(self, X, y=None):
                return self
            def __sklearn_is_fitted__(self):
                return True
            def transform(self, X):
                time.sleep(0.2)
                return X

        frontend = make_pipeline(AudioLoader(sr={SR}, duration=1.5),
                                 MelSpectrogram(sr={SR}, n_mels=16), LogCompression(), Slow())
        build_store(frontend, {paths!r}, sys.argv[1], y={y.tolist()!r}, chunk_size=2, verbose=0)
    """))
    target = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), str(target)])
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline and done < 1 and proc.poll() is None:
        time.sleep(0.05)
        try:
            manifest = json.loads((target / "store.json").read_text())
        except (OSError, ValueError):
            continue
        done = sum(c["status"] == "done" for c in manifest["chunks"])
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    manifest = json.loads((target / "store.json").read_text())
    finished = [c["status"] == "done" for c in manifest["chunks"]]
    assert 1 <= sum(finished) < len(finished), "the kill came after the first chunk"
    with pytest.raises(ValueError, match="incomplete .* rerun build_store"):
        FeatureStore(target)
    # no stray temporary file and no chunk file that is not recorded as finished
    # (a chunk is renamed into place whole, then recorded)
    assert not any(p.name.startswith(".") for p in target.iterdir())
    subprocess.run([sys.executable, str(script), str(target)], check=True)
    assert _hashes(target) == _hashes(tmp_path / "ref")
    np.testing.assert_array_equal(np.asarray(FeatureStore(target)), np.asarray(reference))


class _FailsOnce:
    """A front end whose third call fails (the count lives on the class, outside the
    fitted state that the store fingerprints)."""

    calls = 0
    fail_at = 3

    def transform(self, X):
        type(self).calls += 1
        if type(self).calls == self.fail_at:
            raise RuntimeError("the machine went down")
        return np.asarray(X, dtype=np.float32) * 2


def test_rerun_computes_only_the_missing_chunks(tmp_path):
    X = np.arange(10 * 4, dtype=np.float32).reshape(10, 4)
    _FailsOnce.calls = 0
    with pytest.raises(RuntimeError, match="went down"):
        build_store(_FailsOnce(), X, tmp_path / "s", chunk_size=3, verbose=0)
    # probe (1 call) + chunk 0 (1 call) then chunk 1 failed
    calls = _FailsOnce.calls
    store = build_store(_FailsOnce(), X, tmp_path / "s", chunk_size=3, verbose=0)
    assert _FailsOnce.calls - calls == 3  # chunks 1, 2 and 3; chunk 0 was kept
    np.testing.assert_array_equal(np.asarray(store), 2 * X)


def test_a_damaged_chunk_is_detected_and_recomputed(tmp_path):
    X = np.random.default_rng(1).normal(size=(9, 6)).astype(np.float32)
    build_store(FunctionTransformer(), X, tmp_path / "s", chunk_size=4, verbose=0)
    before = _hashes(tmp_path / "s")
    chunk = tmp_path / "s" / "chunk-00001.npy"
    data = bytearray(chunk.read_bytes())
    data[-5] ^= 0xFF  # one flipped byte: still a valid .npy file of the right shape
    chunk.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="chunk-00001.npy .* do not match their recorded SHA"):
        FeatureStore(tmp_path / "s").verify()
    with pytest.warns(UserWarning, match="1 finished chunk.* recomputed: chunk-00001.npy"):
        store = build_store(FunctionTransformer(), X, tmp_path / "s", chunk_size=4, verbose=0)
    assert _hashes(tmp_path / "s") == before
    np.testing.assert_array_equal(np.asarray(store.verify()), X)


def test_other_arguments_are_refused(audio, tmp_path):
    paths, y = audio
    build_store(_frontend(), paths[:4], tmp_path / "s", y=y[:4], chunk_size=2, verbose=0)
    with pytest.raises(ValueError, match="other arguments .*front end parameters"):
        build_store(_frontend(n_mels=20), paths[:4], tmp_path / "s", y=y[:4], chunk_size=2,
                    verbose=0)
    with pytest.raises(ValueError, match="differ in: chunk_size"):
        build_store(_frontend(), paths[:4], tmp_path / "s", y=y[:4], chunk_size=3, verbose=0)
    with pytest.raises(ValueError, match="differ in: paths, labels and groups"):
        build_store(_frontend(), paths[:4], tmp_path / "s", y=1 - y[:4], chunk_size=2,
                    verbose=0)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="exists and is not a feature store"):
        build_store(_frontend(), paths[:4], tmp_path / "other", verbose=0)
    with pytest.raises(FileNotFoundError, match="is not a feature store"):
        FeatureStore(tmp_path / "other")
    with pytest.raises(ValueError, match="y has 3 rows but X has 4 clips"):
        build_store(_frontend(), paths[:4], tmp_path / "new", y=y[:3], verbose=0)


def test_unreadable_files_keep_their_rows(audio, tmp_path):
    paths, y = audio
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    missing = str(tmp_path / "gone.wav")
    files = paths[:3] + [str(corrupt)] + paths[3:6] + [missing] + paths[6:]
    labels = np.concatenate([y[:3], [7], y[3:6], [8], y[6:]])
    with pytest.warns(AudioFileWarning, match=r"2 of 12 clip\(s\)[\s\S]*corrupt.wav[\s\S]*gone"):
        store = build_store(_frontend(), files, tmp_path / "s", y=labels, chunk_size=4,
                            verbose=0)
    assert np.flatnonzero(~store.ok).tolist() == [3, 7]
    assert sorted(store.reasons) == [3, 7] and "cannot be decoded" in store.reasons[3]
    assert store.y.tolist() == labels.tolist()  # aligned: nothing shifted
    assert not store[3].any() and not store[7].any()
    good = store.good
    assert good.y.tolist() == y.tolist() and good.paths.tolist() == paths
    np.testing.assert_allclose(np.asarray(good), _frontend().transform(paths), atol=1e-6)


def test_a_manifest_gives_labels_and_groups(audio, tmp_path):
    paths, y = audio
    csv = tmp_path / "m.csv"
    csv.write_text("path,label,group\n" + "".join(
        f"{p},{lab},a{i % 2}\n" for i, (p, lab) in enumerate(zip(paths[:4], "abab"))))
    store = build_store(_frontend(), csv, tmp_path / "s", verbose=0)
    assert store.y.tolist() == list("abab") and store.groups.tolist() == ["a0", "a1"] * 2


# ----------------------------------------------------------- stores that never lie

class _Slow:
    """A front end that takes its time (so that two builds overlap): twice X."""

    def transform(self, X):
        time.sleep(0.5)
        return np.asarray(X, dtype=np.float32) * 2


def _build_in_child(barrier, results, path, seed):
    import warnings

    X = np.full((6, 4), seed, dtype=np.float32)
    barrier.wait()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            store = build_store(_Slow(), X, path, y=[seed] * 6, chunk_size=2, verbose=0)
            outcome = ("store", np.asarray(store).tolist(), store.y.tolist())
        except ValueError as exc:
            outcome = ("refused", str(exc), None)
    results.put((seed, outcome, [str(w.message) for w in caught]))


def test_two_builders_racing_on_one_path_give_one_store(tmp_path):
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_build_in_child, args=(barrier, results, tmp_path / "s", seed))
             for seed in (1, 2)]
    for proc in procs:
        proc.start()
    out = {seed: (outcome, warned) for seed, outcome, warned in
           (results.get(timeout=120) for _ in procs)}
    for proc in procs:
        proc.join(timeout=60)
    built = [seed for seed, ((kind, _, _), _) in out.items() if kind == "store"]
    assert len(built) == 1, out
    winner, loser = built[0], 3 - built[0]
    (_, data, labels), _ = out[winner]
    # the store holds the winner's data and labels, and reads back so
    assert data == (2 * np.full((6, 4), winner)).tolist() and labels == [winner] * 6
    store = FeatureStore(tmp_path / "s")
    assert np.asarray(store).tolist() == data and store.y.tolist() == labels
    # the other one waited for it with a message, then refused the finished store
    (kind, message, _), warned = out[loser]
    assert kind == "refused" and "built with other arguments" in message, message
    assert any("another process is building this store; waiting" in w for w in warned), warned
    assert sorted(p.name for p in (tmp_path / "s").iterdir())[-2:] == ["rows.json",
                                                                         "store.json"]


def test_an_edited_rows_json_is_refused(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(6, 2)
    build_store(FunctionTransformer(), X, tmp_path / "s", y=[0, 1, 0, 1, 0, 1], verbose=0)
    rows = tmp_path / "s" / "rows.json"
    expected = sha256(rows)
    rows.write_text(rows.read_text().replace("[0, 1, 0, 1, 0, 1]", "[1, 1, 0, 1, 0, 1]"))
    with pytest.raises(ValueError) as info:
        FeatureStore(tmp_path / "s")
    message = str(info.value)
    assert message.startswith(f"FeatureStore: rows.json = {str(rows)!r}: its SHA-256 is "
                              f"{sha256(rows)}, but store.json records {expected}")
    assert "Rerun build_store with the same arguments" in message
    # a rerun rewrites it
    store = build_store(FunctionTransformer(), X, tmp_path / "s", y=[0, 1, 0, 1, 0, 1],
                        verbose=0)
    assert store.y.tolist() == [0, 1, 0, 1, 0, 1]


def test_a_damaged_chunk_is_refused_when_first_read(tmp_path, monkeypatch):
    import skmir.store.read

    X = np.random.default_rng(2).normal(size=(9, 6)).astype(np.float32)
    build_store(FunctionTransformer(), X, tmp_path / "s", chunk_size=4, verbose=0)
    chunk = tmp_path / "s" / "chunk-00001.npy"
    expected = sha256(chunk)
    data = bytearray(chunk.read_bytes())
    data[-5] ^= 0xFF  # still a valid .npy file of the right shape
    chunk.write_bytes(bytes(data))
    store = FeatureStore(tmp_path / "s")
    np.testing.assert_array_equal(store[:4], X[:4])  # chunk 0 is whole
    with pytest.raises(ValueError) as info:
        store[5]
    assert str(info.value).startswith(
        f"FeatureStore: chunk file = {str(chunk)!r}: its SHA-256 is {sha256(chunk)}, but "
        f"store.json records {expected}")
    assert "store.verify()" in str(info.value)
    with pytest.raises(ValueError, match="chunk-00001.npy'?: its SHA-256"):
        np.asarray(FeatureStore(tmp_path / "s").take([8, 4]))
    # each chunk is hashed once per process, then read without a check
    counted = []
    monkeypatch.setattr(skmir.store.read, "sha256", lambda f: counted.append(f) or sha256(f))
    fresh = build_store(FunctionTransformer(), X, tmp_path / "t", chunk_size=4, verbose=0)
    for _ in range(3):
        np.testing.assert_array_equal(np.asarray(FeatureStore(tmp_path / "t")), X)
        np.testing.assert_array_equal(fresh[[8, 0, 5]], X[[8, 0, 5]])
    assert sorted(os.path.basename(f) for f in counted) == [
        "chunk-00000.npy", "chunk-00001.npy", "chunk-00002.npy"]


# ----------------------------------------------------------- estimators on a store

torch = pytest.importorskip("torch")

from conftest import banded_clips  # noqa: E402


def test_fit_and_predict_from_a_store_equal_in_memory(tmp_path):
    from skmir.neural import NeuralClassifier

    X, y = banded_clips(n_per_class=12)
    store = build_store(FunctionTransformer(), X, tmp_path / "s", y=y, chunk_size=10, verbose=0)
    kw = dict(channels=4, hidden=8, max_epochs=2, lr=0.01, random_state=0)
    from_store = NeuralClassifier(**kw).fit(store, store.y)
    in_memory = NeuralClassifier(**kw).fit(X, y)
    # the same batches in the same order, the same stratified validation split
    np.testing.assert_array_equal(from_store.history_[:, "valid_loss"],
                                  in_memory.history_[:, "valid_loss"])
    # Equal to float32 rounding, not bit for bit: oneDNN's CPU kernels may take another
    # vector path for another memory alignment of the same batch (seen: 2e-8).
    np.testing.assert_allclose(from_store.predict_proba(store), in_memory.predict_proba(X),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(from_store.predict(store), from_store.predict(X))
    # a memmap streams the same way
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                   shape=X.shape)
    mm[:] = X
    np.testing.assert_allclose(from_store.predict_proba(mm), in_memory.predict_proba(X),
                               rtol=1e-6, atol=1e-7)


def test_transfer_features_from_a_store(tmp_path):
    from skmir import TransferFeatures
    from skmir.neural import NeuralClassifier

    X, y = banded_clips(n_per_class=6)
    store = build_store(FunctionTransformer(), X, tmp_path / "s", y=y, chunk_size=7, verbose=0)
    source = NeuralClassifier(channels=4, hidden=8, max_epochs=1, random_state=0).fit(X, y)
    tf = TransferFeatures(source, batch_size=5).fit(store)
    np.testing.assert_allclose(tf.transform(store), TransferFeatures(source).fit(X).transform(X),
                               rtol=1e-5, atol=1e-6)
    narrow = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                       shape=(3, 8, 24))
    with pytest.raises(ValueError, match=r"X has \(channels, bins\) = \(1, 8\) per clip"):
        tf.transform(narrow)


def test_a_store_of_another_front_end_is_refused(audio, tmp_path):
    from skmir import TransferFeatures
    from skmir.neural import NeuralClassifier

    paths, y = audio
    db = make_pipeline(AudioLoader(sr=SR, duration=1.5), MelSpectrogram(sr=SR, n_mels=16),
                       LogCompression(method="db"))
    log_store = build_store(_frontend(), paths, tmp_path / "log", y=y, verbose=0)
    db_store = build_store(db, paths, tmp_path / "db", y=y, verbose=0)
    assert log_store.shape == db_store.shape
    clf = NeuralClassifier(channels=4, hidden=8, max_epochs=1, random_state=0)
    clf.fit(log_store, log_store.y)
    assert clf.store_frontend_["fingerprint"] == log_store.params["fingerprint"]
    assert clf.predict(FeatureStore(tmp_path / "log").take([3, 1])).shape == (2,)
    with pytest.raises(ValueError) as info:
        clf.predict(db_store)
    message = str(info.value)
    assert message.startswith(f"NeuralClassifier: X = {db_store!r}: made by the front end ")
    assert "LogCompression(method='db')" in message
    assert f"fitted on a store made by {' '.join(log_store.params['repr'].split())}" in message
    # arrays carry no front end: taken as they are
    assert clf.predict(np.asarray(db_store)).shape == (10,)
    with pytest.raises(ValueError, match="TransferFeatures: X = FeatureStore.* made by the "
                                         "front end .*method='db'"):
        TransferFeatures(clf).fit(db_store)
    tf = TransferFeatures(clf).fit(log_store)
    assert tf.transform(log_store).shape[0] == 10
    with pytest.raises(ValueError, match="TransferFeatures: X = FeatureStore.*method='db'"):
        tf.transform(db_store)
    # a refit on arrays forgets the store
    clf.fit(np.asarray(log_store), y)
    assert clf.store_frontend_ is None and clf.predict(db_store).shape == (10,)


def test_estimators_refuse_bad_rows_and_bad_values(tmp_path):
    from skmir.neural import NeuralClassifier

    X, y = banded_clips(n_per_class=4)
    X[5, 2, 3] = np.nan
    with pytest.warns(AudioFileWarning, match="1 of 12"):
        store = build_store(FunctionTransformer(), X, tmp_path / "s", y=y, chunk_size=5,
                            verbose=0)
    assert store.ok.tolist() == [i != 5 for i in range(12)]
    clf = NeuralClassifier(channels=4, hidden=8, max_epochs=1, random_state=0)
    with pytest.raises(ValueError, match=r"1 row\(s\) whose file could not be computed .* "
                                         "first at index 5.*store.good"):
        clf.fit(store, store.y)
    clf.fit(store.good, store.good.y)
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32,
                                   shape=X.shape)
    mm[:] = np.nan_to_num(X)
    mm[9, 0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf values, first in the clip at index 9"):
        clf.predict(mm)
    with pytest.raises(ValueError, match="X has 11 clips but y has 12"):
        clf.fit(store.good.take(np.arange(11)), y)


class Generated:
    """Random clips made on request: a store is written without holding them."""

    dtype = np.dtype(np.float32)

    def __init__(self, shape):
        self.shape = shape

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        rng = np.random.default_rng(rows.start)
        return rng.random((rows.stop - rows.start, *self.shape[1:]), dtype=np.float32)


_RSS_SCRIPT = """
import resource, sys, time
sys.path.insert(0, {repo!r})
import numpy as np
from skmir import FeatureStore
from skmir.neural import NeuralClassifier

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

store = FeatureStore(sys.argv[1])
est = NeuralClassifier("d1", hidden=4, batch_size=64, max_epochs=1, early_stopping=False,
                       gain=0, freq_mask=0, crop_frames=None, time_mask=0, random_state=0)
est.fit(store[:64], store.y[:64])  # torch's own start-up, before the baseline
before = peak_mb()
est.fit(store, store.y)
pred = est.predict(store)
print(before, peak_mb(), len(pred))
"""


def test_fit_from_a_store_needs_less_memory_than_the_data(tmp_path):
    """The store is larger than the memory a fit from it may add.

    Peak resident memory (``ru_maxrss``) is measured in a fresh process, before and
    after fit + predict; a limit on address space (RLIMIT_AS) would mostly measure
    torch's own reservations (hundreds of MB of mapped libraries), not the data.
    glibc's mmap threshold is fixed at 1 MB: by default it rises after the first
    large free, and freed batch buffers then linger in the heap for a while, a
    transient of 0-100 MB that varies from run to run and is no data held.
    """

    data = Generated((1600, 16384))
    y = np.arange(len(data)) % 2
    build_store(FunctionTransformer(), data, tmp_path / "s", y=y, chunk_size=200, verbose=0)
    size_mb = np.prod(data.shape) * 4 / 2 ** 20  # 100 MB
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(2 ** 20))
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT.format(repo=REPO), str(tmp_path / "s")],
                         check=True, capture_output=True, text=True, env=env).stdout.split()
    before, after, n_pred = float(out[0]), float(out[1]), int(out[2])
    assert n_pred == len(data)
    # An in-memory fit holds X (100 MB) at least once; from the store, the batches
    # (measured: +7 MB; in memory, +160 MB for 150 MB of clips).
    assert after - before < size_mb / 3, (before, after, size_mb)
