"""beatnet-1: parity with BeatNet 1.1.3's network and madmom-infer's front end, the
LogFilteredSpectrogram representation, blocks, decoding, card and refusals.

The fixtures of tests/data/beatnet/ were written once by
``skmir/pretrained/beatnet_reference.py``: BeatNet's ``LOG_SPECT`` built from
madmom-infer 0.2.0's processors, and the original ``BDA`` class loaded from BeatNet
1.1.3's ``model.py`` (the package cannot install: it needs madmom) with
``model_1_weights.pt``, torch 2.13.0 CPU, on three clips of 1.5 s (drums at 120 BPM,
tones, noise after silence); these tests need neither. Measured on them: front end
max abs error 2.4e-7 (relative to the largest value 1.0e-7), probabilities 4.8e-7,
``linear0`` 4.8e-7 (9.2e-8), ``lstm`` 1.7e-6 (1.7e-6).
"""

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmir.pretrained.cards
from skmir import LogFilteredSpectrogram, Waveforms
from skmir.nn.beatnet import BeatNet
from skmir.pretrained import beatnet as bn
from skmir.pretrained import card_digest, families, list_pretrained, load_pretrained
from skmir.pretrained.convert_beatnet import FRONTEND, PARITY
from skmir.representations.spectral import logarithmic_filterbank

DATA = Path(__file__).parent / "data" / "beatnet"
PRETRAINED = Path(bn.__file__).parent
NAME = "beatnet-1"
RTOL = 1e-4  # the tolerance, relative to the reference's largest value


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(DATA / "beatnet-1.npz"))


@pytest.fixture(scope="module")
def audio(ref):
    return ref["pcm"].astype(np.float32) / 32768


@pytest.fixture(scope="module")
def network():
    return load_pretrained(NAME)


@pytest.fixture(scope="module")
def activations(network, audio):
    return network.frame_outputs(audio)


def _close(ours, reference):
    np.testing.assert_allclose(ours, reference, rtol=RTOL,
                               atol=RTOL * np.abs(reference).max())


def _errors(ours, reference):
    diff = float(np.abs(ours - reference).max())
    return diff, diff / float(np.abs(reference).max())


def test_frontend_matches_madmom_infer(ref, audio):
    features = bn.beatnet_features(audio)
    assert features.dtype == np.float32 and features.shape == (3, 76, 272)
    _close(features[:, ref["index"]], ref["features"])
    _close(np.abs(features).sum(axis=2), ref["features_abssum"])
    # the representation and the front end are the same values, bands first; PCM is
    # read as skmir reads it (int16 / 32768)
    X = bn.BeatNetFrontend(sr=22050).fit_transform(ref["pcm"])
    np.testing.assert_array_equal(X, features.transpose(0, 2, 1))
    rep = LogFilteredSpectrogram(**bn.SPECTROGRAM)
    np.testing.assert_array_equal(rep.fit_transform(audio), X)
    # the noise clip's first 0.5 s is silence: log10(1 + 0) = 0, and no difference
    assert not features[2, :20].any()


def test_filterbank_and_difference_are_madmoms():
    fb = logarithmic_filterbank(22050, 1411, 24)
    assert fb.shape == (705, 136) and fb.dtype == np.float32
    np.testing.assert_allclose(fb.sum(axis=0), 1, rtol=1e-6)  # norm_filters
    assert LogFilteredSpectrogram(**bn.SPECTROGRAM).diff_frames() == 1
    assert LogFilteredSpectrogram(frame_size=2048, hop_size=441).diff_frames() == 1
    assert LogFilteredSpectrogram(frame_size=4096, hop_size=441).diff_frames() == 2
    # madmom's defaults: 12 bands per octave at 2048 samples, no difference
    y = np.random.default_rng(0).standard_normal((1, 4410)).astype(np.float32)
    S = LogFilteredSpectrogram().fit_transform(y)
    assert S.shape == (1, logarithmic_filterbank(22050, 2048).shape[1], 10)
    # positive_diffs=False keeps the negative differences
    signed = LogFilteredSpectrogram(stack_diffs=True).fit_transform(y)
    assert (signed[0, S.shape[1]:] < 0).any()
    np.testing.assert_array_equal(signed[:, :S.shape[1]], S)


def test_n_frames_is_madmoms_ceil():
    rep = LogFilteredSpectrogram(**bn.SPECTROGRAM)
    for n in (1, 440, 441, 442, 882, 22050):
        y = np.zeros((1, n), np.float32)
        assert rep.fit_transform(y).shape[2] == bn.n_frames(n) == -(-n // 441)


def test_activations_match_the_original_module(ref, activations):
    assert activations.dtype == np.float32 and activations.shape == (3, 76, 3)
    _close(activations, ref["activations"])
    np.testing.assert_allclose(activations.sum(axis=2), 1, rtol=1e-5)


@pytest.mark.parametrize("layer", ["linear0", "lstm"])
def test_layers_match_the_original_module(ref, network, audio, layer):
    out = network.frame_outputs(audio, layer)
    assert out.shape == (3, 76, 150)
    _close(out[:, ref["index"]], ref[layer])


def test_the_card_records_the_measured_parity(ref, network, audio, activations):
    parity = network.card["parity"]["errors"]
    measured = {
        "frontend": _errors(bn.beatnet_features(audio)[:, ref["index"]], ref["features"]),
        "activations": _errors(activations, ref["activations"]),
        "linear0": _errors(network.frame_outputs(audio, "linear0")[:, ref["index"]],
                           ref["linear0"]),
        "lstm": _errors(network.frame_outputs(audio, "lstm")[:, ref["index"]], ref["lstm"]),
    }
    for key, (abs_err, rel_err) in measured.items():
        assert rel_err <= RTOL, key
        # the card's figures are these (another BLAS may round differently)
        assert abs_err <= 10 * parity[key]["max_abs"] + 1e-7, key
    assert parity == PARITY["errors"]


def test_blocks_carry_the_lstm_state_and_equal_one_pass(network):
    y = np.random.default_rng(3).uniform(-0.5, 0.5, (2, 441 * 230 + 17)).astype(np.float32)
    whole = bn.beatnet_features(y)
    # the front end: any frames, from the audio they need; the same inputs, float32
    # rounding of the filterbank's product over other block shapes (1.8e-7 seen)
    for a, b in ((70, 150), (1, 2), (229, 231), (0, 3)):
        np.testing.assert_allclose(bn.beatnet_features(y, a, b), whole[:, a:b], rtol=0,
                                   atol=1e-6)
    assert bn.beatnet_features(y, 5, 5).shape == (2, 0, 272)
    one = network.frame_outputs(y, block_frames=None)
    for block in (1, 7, 100):
        np.testing.assert_allclose(network.frame_outputs(y, block_frames=block), one,
                                   rtol=0, atol=1e-5)
    # without the carried state, the seam would show: a fresh LSTM differs
    fresh = network.frame_outputs(y[:, 441 * 100:], block_frames=None)
    assert np.abs(fresh[:, :5] - one[:, 100:105]).max() > 1e-3
    # clips in batches of one or of two: the same
    np.testing.assert_allclose(network.frame_outputs(y, batch_size=1), one, rtol=0, atol=1e-6)


def test_decode_beats_rule():
    act = np.zeros((200, 3))
    act[:, 2] = 1.0
    act[[10, 60, 110, 160], 1] = 0.9  # downbeats
    act[[35, 85, 135, 185], 0] = 0.8  # beats
    act[[36, 86], 0] = 0.7
    act[140, 0] = 0.5  # 0.1 s after a beat: closer than min_interval, lower
    act[100, 0] = 0.3  # below the threshold
    beats, downbeats = bn.decode_beats(act)
    np.testing.assert_allclose(beats, np.array([10, 35, 60, 85, 110, 135, 160, 185]) / 50)
    np.testing.assert_allclose(downbeats, np.array([10, 60, 110, 160]) / 50)
    beats, _ = bn.decode_beats(act, threshold=0.2, min_interval=0.0, frame_offset=1.0)
    assert {2.0, 2.8} <= set(np.round(beats - 1.0, 6))
    # BeatNet's two columns are taken as well as the three
    np.testing.assert_array_equal(bn.decode_beats(act[:, :2])[0], bn.decode_beats(act)[0])
    assert bn.decode_beats(np.zeros((0, 3)))[0].shape == (0,)


def test_frame_times_are_beatnets(network, activations):
    np.testing.assert_allclose(network.frame_times(4), [0, 0.02, 0.04, 0.06])
    assert network.frame_rate == 50.0 and network.level == "frame"


def test_shipped_network_fields(network):
    assert isinstance(network, bn.BeatNetNetwork) and isinstance(network.module, BeatNet)
    assert not network.module.training
    assert network.layers == {"linear0": (150, True), "lstm": (150, True)}
    assert network.auto_layers == ("lstm",) and network.input_shape == (1, 272)
    assert network.sr == 22050 and network.tags == ["beat", "downbeat", "no beat"]
    assert isinstance(network.frontend, bn.BeatNetFrontend) and network.frontend.sr == 22050
    with torch.no_grad():
        out = network.layer_outputs(torch.zeros(2, 5, 272), ["linear0", "probabilities"])
    assert out["linear0"].shape == (2, 5, 150) and out["probabilities"].shape == (2, 5, 3)
    # run() as the clip consumers call it: one input per clip
    assert network.run(np.zeros((1, 4410), np.float32), network.probabilities).shape == (
        1, 1, 30)


def test_card():
    card = json.loads((PRETRAINED / f"{NAME}.json").read_text())
    assert card["card_sha256"] == card_digest(card)
    assert card["format"] == "skmir-pretrained/1" and card["name"] == NAME
    assert card["architecture"] == "beatnet" and "beatnet" in families()
    assert (card["level"], card["task"], card["frame_rate"], card["frame_offset"]) == (
        "frame", "beats", 50.0, 0.0)
    assert card["file"] == f"{NAME}.safetensors" and card["sr"] == 22050
    assert card["frontend"] == FRONTEND and card["tags"] == ["beat", "downbeat", "no beat"]
    assert card["source"]["package"] == "BeatNet" and card["source"]["version"] == "1.1.3"
    assert card["source"]["file"] == "BeatNet/models/model_1_weights.pt"
    assert "GTZAN out" in card["training"]["model"]
    licence = (PRETRAINED / card["license"]["file"]).read_text()
    assert licence.startswith("Attribution 4.0 International")
    for part in ("Mojtaba Heydari", "CC BY 4.0", "github.com/mjhydri/BeatNet", "Changes"):
        assert part in card["attribution"]
    assert "original BDA class" in card["parity"]["reference"]
    assert "cannot install" in card["parity"]["reference"]
    assert (PRETRAINED / f"{NAME}.md").read_text().startswith(f"# {NAME}\n")
    assert NAME in list_pretrained(level="frame") and NAME not in list_pretrained(level="clip")


@pytest.fixture()
def copy(tmp_path, monkeypatch):
    for suffix in (".json", ".safetensors"):
        shutil.copy(PRETRAINED / f"{NAME}{suffix}", tmp_path)
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
    return tmp_path


def test_load_from_an_intact_copy(copy):
    assert isinstance(load_pretrained(NAME).module, BeatNet)


def test_edited_weights_are_refused(copy):
    path = copy / f"{NAME}.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights of 'beatnet-1' .*beatnet-1\.safetensors"
                                         r".* do not match the model card"):
        load_pretrained(NAME)


def test_edited_card_is_refused(copy):
    path = copy / f"{NAME}.json"
    card = json.loads(path.read_text())
    card["frame_rate"] = 100.0
    path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"model card of 'beatnet-1' .* edited"):
        load_pretrained(NAME)


def test_missing_weights(copy):
    (copy / f"{NAME}.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"weights of beatnet network 'beatnet-1'"):
        load_pretrained(NAME)


@pytest.mark.parametrize("call, match", [
    (lambda n: bn.BeatNetFrontend().fit_transform(np.zeros((1, 1600))), "plain array"),
    (lambda n: bn.BeatNetFrontend(sr=16000).fit_transform(np.zeros((1, 1600))),
     "sr = 16000: BeatNetFrontend reads audio at 22050 Hz only"),
    (lambda n: n.frame_outputs(Waveforms(np.zeros((1, 1600)), sr=16000)),
     r"beatnet-1\.frame_outputs: X\.sr = 16000"),
    (lambda n: n.frame_outputs(np.zeros((1, 0))), "0 feature"),
    (lambda n: n.frame_outputs(np.zeros((1, 2, 1600))), "mono"),
    (lambda n: n.frame_outputs(np.full((1, 1600), np.nan)), "NaN"),
    (lambda n: n.frame_outputs(np.zeros((1, 1600)), "conv1"), "layer = 'conv1'"),
    (lambda n: n.frame_outputs(np.zeros((1, 1600)), batch_size=0), "batch_size"),
    (lambda n: n.frame_outputs(np.zeros((1, 1600)), block_frames=0), "block_frames"),
    (lambda n: bn.beatnet_features(np.zeros((1, 1600)), 2, 100), "stop"),
    (lambda n: bn.decode_beats(np.zeros((10, 4))), "activations of shape"),
    (lambda n: bn.decode_beats(np.zeros((10, 3)), min_interval=-1), "min_interval"),
    (lambda n: bn.decode_beats(np.zeros((10, 3)), threshold="high"), "threshold"),
    (lambda n: bn.decode_beats(np.zeros((10, 3)), frame_rate=0), "frame_rate"),
    (lambda n: n.module(torch.zeros(2, 5, 128)), r"\(batch, frames, 272\)"),
    (lambda n: n.module(torch.zeros(2, 5, 272), layers=["conv1"]), "'conv1'"),
    (lambda n: LogFilteredSpectrogram(fmin=500.0, fmax=100.0).fit(np.zeros((1, 100))),
     "LogFilteredSpectrogram: fmin = 500.0"),
    (lambda n: LogFilteredSpectrogram(frame_size=4, fmin=100.0, fmax=200.0).fit(
        np.zeros((1, 100))), "LogFilteredSpectrogram: num_bands = 12: no band"),
    (lambda n: LogFilteredSpectrogram(hop_size=0).fit(np.zeros((1, 100))), "hop_size"),
    (lambda n: LogFilteredSpectrogram(sr=16000).fit(Waveforms(np.zeros((1, 100)), sr=22050)),
     "LogFilteredSpectrogram: sr = 16000"),
])
def test_bad_input_is_refused_by_name(network, call, match):
    with pytest.raises(ValueError, match=match):
        call(network)


def test_tools_import_no_torch():
    # pytest imports every module of skmir/ for its doctests: the one-off tools and
    # the family module import torch inside their functions only
    code = ("import sys, skmir.pretrained.convert_beatnet, skmir.pretrained.beatnet_reference, "
            "skmir.pretrained.beatnet; "
            "print(sorted(m for m in ('torch', 'madmom_infer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@parametrize_with_checks([bn.BeatNetFrontend(sr=22050)], expected_failed_checks=lambda e: {
    "check_n_features_in_after_fitting":
        "stateless in the clip length: clips of any length are valid after fit"})
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
