"""Every refusal names its owner: the one form ``<owner>: <parameter or file> = <value>:
<what to do>`` (skmir._validation.refusal), the entry points that put numpy, torch,
librosa, sklearn and OS errors into it, and property tests (hypothesis) over the
entry points where wrong input is most varied: the waveform front ends and their
augmentation, stores, shipped networks and the commands. The only outcomes allowed
are a correct result or an error whose message names the owner and the offending
parameter or file."""

import json
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import InvalidParameterError

import skmir
from skmir import (
    STFT,
    AudioLoader,
    FeatureStore,
    LogCompression,
    MelSpectrogram,
    PretrainedTagger,
    TransferFeatures,
    build_store,
    load_audio,
)
from skmir._validation import NamedRefusals, entry_point, refusal, refusals, shown
from skmir.cli import main
from skmir.io import Waveforms
from skmir.neural import NeuralClassifier

FORM = re.compile(r"^(?P<owner>[A-Za-z_][\w.]*(\([^)]*\))?(\.\w+)?): (?P<body>.+)$", re.S)
FEW = settings(max_examples=12, deadline=None, derandomize=True,
               suppress_health_check=[HealthCheck.function_scoped_fixture,
                                      HealthCheck.too_slow])


def assert_refusal(err, owner, *named):
    """The message of ``err`` starts with ``owner:`` (a name or a tuple of the names
    allowed) and names one of ``named``."""
    message = str(err.value if hasattr(err, "value") else err)
    form = FORM.match(message)
    assert form, f"no owner in: {message!r}"
    owners = (owner,) if isinstance(owner, str) else owner
    assert form["owner"].split("(")[0].split(".")[0] in owners, message
    assert any(name in form["body"] for name in named), (named, message)


# -- the form and the mechanism -------------------------------------------------------

def test_refusal_shows_arrays_by_shape_and_cuts_long_values():
    assert refusal("f", "X", np.zeros((2, 3), "float32"), "do this.") == (
        "f: X = float32 array of shape (2, 3): do this.")
    assert refusal(None, "file", "a.wav", "missing.") == "file = 'a.wav': missing."
    long = shown(list(range(100)))
    assert len(long) == 80 and long.endswith("...")
    path = "/a/long/folder/" * 10 + "song.wav"  # a file's name is never cut
    assert shown(path) == repr(path)


def test_foreign_errors_get_the_owner_and_keep_their_type():
    import librosa

    with pytest.raises(ZeroDivisionError, match=r"^f: division by zero$"):
        with refusals("f"):
            1 / 0  # noqa: B018
    with pytest.raises(ValueError, match=r"^f: bad bins$") as err:
        with refusals("f"):  # librosa's ParameterError is no ValueError: it becomes one
            raise librosa.util.exceptions.ParameterError("bad bins")
    assert isinstance(err.value.__cause__, librosa.util.exceptions.ParameterError)
    with pytest.raises(FileNotFoundError, match=r"^f: \[Errno 2\]"):
        with refusals("f"):
            open("/nonexistent/skmir/file")  # noqa: SIM115
    with pytest.raises(ValueError, match=r"^g: x = 1: named already$"):
        with refusals("f"):
            raise ValueError("g: x = 1: named already")


def test_the_outermost_entry_point_names_the_refusal():
    @entry_point
    def inner(x):
        return int(x)

    @entry_point
    def outer(x):
        return inner(x)

    with pytest.raises(ValueError, match=r"^outer: invalid literal"):
        outer("x")
    with pytest.raises(ValueError, match=r"^inner: invalid literal"):
        inner("x")


def test_named_refusals_wrap_public_methods_and_classmethods_only():
    class Thing(NamedRefusals, BaseEstimator):
        def fit(self, X, y=None):
            return int(X)

        def top(self, k):
            return [][k]

        @classmethod
        def load(cls, path):
            return open(path)  # noqa: SIM115

        def _private(self):
            return 1 / 0

    with pytest.raises(ValueError, match=r"^Thing: invalid literal"):
        Thing().fit("x")
    with pytest.raises(IndexError, match=r"^Thing.top: list index out of range"):
        Thing().top(3)
    with pytest.raises(FileNotFoundError, match=r"^Thing.load: "):
        Thing.load("/nonexistent/skmir")
    with pytest.raises(ZeroDivisionError, match=r"^division by zero$"):
        Thing()._private()


def test_sklearn_parameter_errors_keep_their_sentence_after_the_owner():
    with pytest.raises(InvalidParameterError) as err:
        STFT(n_fft=-1).fit(np.zeros((1, 1000)))
    assert str(err.value).startswith("STFT: n_fft = -1: The 'n_fft' parameter of STFT")
    with pytest.raises(InvalidParameterError) as err:
        skmir.datasets.make_music(n_clips=0)
    assert_refusal(err, "make_music", "n_clips = 0")


@pytest.mark.parametrize("make, owner, named", [
    # each of these was a bare numpy, sklearn, librosa or torch message
    (lambda: STFT(window="nonsense").fit_transform(np.zeros((1, 4096))), "STFT",
     ["window"]),
    (lambda: STFT(n_fft=256, window=np.ones(10), backend="torch").fit_transform(
        np.zeros((1, 4096))), "STFT", ["Window size mismatch"]),
    (lambda: STFT().fit_transform(np.array([[1, "a"]], dtype=object)), "STFT",
     ["could not convert"]),
    (lambda: skmir.SpectrogramScaler().fit(np.ones((2, 16, 5))).transform(
        np.ones((2, 8, 5))), "SpectrogramScaler", ["8 features"]),
    (lambda: Waveforms(np.zeros((1, 10)), sr="fast"), "Waveforms", ["sr = 'fast'"]),
    (lambda: NeuralClassifier("c2", max_epochs=1, verbose=0).fit(
        np.ones((4, 16, 8)), [0, 1, 0]), "NeuralClassifier", ["inconsistent numbers"]),
    (lambda: NeuralClassifier.load("/nonexistent/model.pt"), "NeuralClassifier",
     ["path = '/nonexistent/model.pt'"]),
])
def test_foreign_messages_name_the_entry_point(make, owner, named):
    with pytest.raises(Exception) as err:  # noqa: PT011 (the type is theirs; the form ours)
        make()
    assert_refusal(err, owner, *named)


def test_a_file_refusal_names_the_entry_point_the_user_called(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF1234WAVEfmt garbage")
    for call, owner in ((lambda: AudioLoader(sr=8000).fit_transform([str(bad)]), "AudioLoader"),
                        (lambda: load_audio(bad, sr=8000), "load_audio")):
        with pytest.raises(skmir.AudioFileError) as err:
            call()
        assert_refusal(err, owner, f"file = '{bad}'")
        assert err.value.path == bad or str(err.value.path) == str(bad)


# -- property tests ---------------------------------------------------------------

SR = 16000


def _clips(seed, n=4, seconds=0.25):
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    f0 = rng.uniform(200, 800, (n, 1))
    return (0.3 * np.sin(2 * np.pi * f0 * t) + 0.01 * rng.standard_normal((n, t.size))
            ).astype(np.float32)


AUGMENTATION = {
    "pitch_shift": st.sampled_from([0.0, 1.0, 12.0, 13.0, -1.0, float("nan"), "up"]),
    "time_stretch": st.sampled_from([0.0, 0.1, 1.0, 1.5, -0.2, float("inf")]),
    "noise_snr": st.sampled_from([None, 20.0, (10.0, 30.0), -1000.0, (30.0, 10.0), "x"]),
    "wave_gain": st.sampled_from([0.0, 6.0, 60.0, 1e6, -3.0]),
}


def _documented(name, value):
    """Whether ``value`` lies within the bounds the Parameters text documents."""
    if name == "noise_snr":
        if value is None:
            return True
        lo, hi = (value, value) if isinstance(value, float) else (
            value if isinstance(value, tuple) else (None, None))
        return isinstance(lo, float) and isinstance(hi, float) and -20 <= lo <= hi <= 100
    top = {"pitch_shift": 12, "time_stretch": 1, "wave_gain": 60}[name]
    return isinstance(value, float) and 0 <= value <= top


@FEW
@given(frontend=st.sampled_from(["logmel", "logcqt"]),
       augmentation=st.fixed_dictionaries({}, optional=AUGMENTATION),
       kind=st.sampled_from(["waveforms", "other_rate", "plain", "short", "nan",
                             "spectrograms"]),
       seed=st.integers(0, 2**16))
def test_frontend_estimators_learn_or_name_the_parameter(frontend, augmentation, kind, seed):
    X = _clips(seed)
    data = {"waveforms": Waveforms(X, SR), "plain": X, "other_rate": Waveforms(X, 22050),
            "short": Waveforms(X[:, :40], SR), "spectrograms": np.abs(X).reshape(4, 16, -1),
            "nan": Waveforms(np.where(np.arange(X.shape[1]) == 7, np.nan, X), SR)}[kind]
    est = NeuralClassifier("c1", frontend=frontend, max_epochs=1, batch_size=2, verbose=0,
                           random_state=0, **augmentation)
    # a short clip said to be audio is audio: the centred front ends pad it
    valid = kind in ("waveforms", "other_rate", "short") and all(
        _documented(name, value) for name, value in augmentation.items())
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = est.fit(data, [0, 1, 0, 1]).predict_proba(data)
    except (ValueError, TypeError) as err:
        assert not valid, err
        bad = [name for name, value in augmentation.items() if not _documented(name, value)]
        # the estimator, or the front end's step that refused inside it
        assert_refusal(err, ("NeuralClassifier", "MelSpectrogram", "CQT"), *(bad or ["X"]))
        return
    assert valid, f"{kind} input with {augmentation} was accepted"
    assert proba.shape == (4, 2) and np.isfinite(proba).all()


STORE_DAMAGE = ["none", "flip_chunk_byte", "edit_rows", "truncate_store_json",
                "delete_chunk", "garbage_rows"]


@pytest.fixture(scope="module")
def clean_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    X = Waveforms(np.vstack([_clips(s, n=3) for s in range(2)]), SR)
    frontend = MelSpectrogram(sr=SR, n_fft=256, hop_length=128, n_mels=8).fit(X)
    build_store(frontend, X, root / "s", y=np.arange(6) % 2, chunk_size=2, verbose=0)
    return root / "s", frontend.transform(X)


@FEW
@given(damage=st.sampled_from(STORE_DAMAGE), where=st.integers(0, 10**6))
def test_a_store_serves_what_it_wrote_or_names_the_damaged_file(
        clean_store, tmp_path_factory, damage, where):
    import shutil

    source, expected = clean_store
    path = tmp_path_factory.mktemp("damaged") / "s"
    shutil.copytree(source, path)
    chunks = sorted(p for p in path.iterdir() if p.suffix == ".npy")
    victim = {"flip_chunk_byte": chunks[where % len(chunks)],
              "delete_chunk": chunks[where % len(chunks)],
              "edit_rows": path / "rows.json", "garbage_rows": path / "rows.json",
              "truncate_store_json": path / "store.json"}.get(damage)
    if damage in ("flip_chunk_byte",):
        data = bytearray(victim.read_bytes())
        at = len(data) - 1 - where % 64  # in the samples, past the header
        data[at] ^= 0xFF
        victim.write_bytes(bytes(data))
    elif damage == "delete_chunk":
        victim.unlink()
    elif damage == "edit_rows":
        rows = json.loads(victim.read_text())
        rows["y"]["values"] = [1 - v for v in rows["y"]["values"]]
        victim.write_text(json.dumps(rows))
    elif damage == "garbage_rows":
        victim.write_text("{not json")
    elif damage == "truncate_store_json":
        victim.write_text(victim.read_text()[: 10 + where % 20])
    try:
        store = FeatureStore(path)
        values = np.asarray(store[:])
        labels = np.asarray(store.y)
    except (ValueError, OSError) as err:
        assert damage != "none", err
        assert_refusal(err, "FeatureStore", victim.name, str(victim))
        return
    assert damage == "none", f"{damage} was served"
    np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)  # chunk by chunk
    np.testing.assert_array_equal(labels, np.arange(6) % 2)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(name=st.sampled_from(skmir.list_pretrained(level="clip")),
       use=st.sampled_from(["features", "tags", "top_tags"]),
       kind=st.sampled_from(["right", "plain", "other_rate", "short", "nan", "3d"]),
       k=st.sampled_from([1, 3, 0, -1]))
def test_shipped_networks_describe_audio_or_name_the_problem(name, use, kind, k):
    sr = skmir.pretrained.model_card(name)["sr"]
    rng = np.random.default_rng(0)
    X = (0.1 * rng.standard_normal((1, sr * 3))).astype(np.float32)
    data = {"right": Waveforms(X, sr), "plain": X, "other_rate": Waveforms(X, sr // 2),
            "short": Waveforms(X[:, :100], sr), "3d": Waveforms(X[:, None], sr),
            "nan": Waveforms(np.where(np.arange(X.shape[1]) == 3, np.nan, X), sr)}[kind]
    owner = "TransferFeatures" if use == "features" else "PretrainedTagger"
    try:
        if use == "features":
            out = TransferFeatures(name).fit_transform(data)
        else:
            tagger = PretrainedTagger(name).fit()
            out = tagger.predict_proba(data)
            if use == "top_tags":
                owner = "PretrainedTagger"
                top = tagger.top_tags(out, k=k)
                assert len(top) == 1 and len(top[0]) == min(k, len(tagger.tags_))
    except ValueError as err:
        # a clip shorter than the front end's window may be refused (choi2017-tags);
        # musicnn pads a clip shorter than its 3-s patch, as musicnn does
        assert kind != "right" or use == "top_tags" and k < 1, err
        assert_refusal(err, owner, "X", "k = ", "sr")
        return
    assert kind in ("right", "short") and (use != "top_tags" or k >= 1), kind
    assert np.isfinite(out).all() and out.shape[0] == 1


COMMAND_FAULTS = {
    "tag": ["missing_file", "not_audio", "bad_model", "bad_top", "empty_folder"],
    "compare": ["missing_file", "bad_models", "bad_cv", "empty_folder", "bad_scheduler",
                "bad_out"],
}


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=st.sampled_from([(c, f) for c, faults in COMMAND_FAULTS.items() for f in faults]))
def test_commands_exit_2_with_one_line_naming_the_option_or_file(
        case, tmp_path_factory, capsys):
    command, fault = case
    root = tmp_path_factory.mktemp("cmd")
    text = root / "notes.wav"
    text.write_text("not audio")
    (root / "empty").mkdir()
    argv, named = {
        "missing_file": ([str(root / "nope.wav")], "nope.wav"),
        "not_audio": ([str(text)], "notes.wav"),
        "bad_model": ([str(text), "--model", "wavenet"], "--model = 'wavenet'"),
        "bad_top": ([str(text), "--top", "0"], "--top = 0"),
        "empty_folder": ([str(root / "empty")], "empty"),
        "bad_models": (["--models", "mfcc-svm,wavenet"], "wavenet"),
        "bad_cv": (["--cv", "1"], "--cv = 1"),
        "bad_scheduler": ([str(root / "empty"), "--scheduler", "tls://127.0.0.1:1"],
                          "--scheduler = 'tls://127.0.0.1:1'"),
        "bad_out": (["--out", str(text / "report")], "--out = "),
    }[fault]
    if command == "compare" and fault != "bad_out":
        argv += ["--out", str(root / "out")]
    capsys.readouterr()
    code = main([command, *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2, (fault, err)
    # the last line is the error; a file skipped on the way is named on its own line
    assert err[-1].startswith(f"skmir {command}: error: "), err
    assert any(named in line for line in err), (fault, err)


def test_log_compression_names_its_input():
    with pytest.raises(ValueError) as err:
        LogCompression().fit_transform(-np.ones((1, 4, 4)))
    assert_refusal(err, "LogCompression", "X", "Negative")


def test_a_preset_front_end_that_cannot_run_at_the_rate_names_what_to_pass():
    # the preset's CQT reaches above 4 kHz: its n_bins cannot be changed through the
    # name, so the refusal says which instance to pass
    X = Waveforms(np.random.default_rng(0).standard_normal((4, 8000)).astype("float32"),
                  sr=8000)
    with pytest.raises(ValueError) as err:
        NeuralClassifier("conv1d", frontend="logcqt", max_epochs=1, verbose=0).fit(
            X, [0, 1, 0, 1])
    message = str(err.value)
    assert message.startswith("NeuralClassifier: frontend = 'logcqt': the preset LogCQT(")
    assert "Nyquist" in message and "frontend=skmir.nn.frontends.LogCQT(...)" in message
