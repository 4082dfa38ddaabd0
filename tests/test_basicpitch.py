"""basic-pitch: parity with the original package, windowing, frame times, decoding, card.

The fixtures of tests/data/basicpitch/ were written once by
``skmir/pretrained/basicpitch_reference.py``, which ran basic-pitch 0.4.0's own
``run_inference`` and ``model_output_to_notes`` with its ``nmp.onnx`` on onnxruntime;
these tests need neither. Measured on every frame of the four test clips (see
``reference.json``): windows equal; normalised log CQT max abs error 3.1e-5 (on
[0, 1]); contour 3.3e-6, note 2.5e-6, onset 3.3e-6 (posteriors in [0, 1]); note-branch
maps 4.4e-6 (4.9e-6 of their maximum).
"""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmir.pretrained.cards
from skmir import Waveforms
from skmir.nn.basicpitch import LAYERS, BasicPitch
from skmir.pretrained import basicpitch as bp
from skmir.pretrained import families, list_pretrained, load_pretrained, model_card
from skmir.pretrained.basicpitch_reference import (
    MAP_FRAMES,
    SETTINGS,
    SHORT,
    SR,
    WINDOW_FRAMES,
    make_inputs,
    make_posteriors,
)
from skmir.pretrained.convert_basicpitch import tags

DATA = Path(__file__).parent / "data" / "basicpitch"
PRETRAINED = Path(bp.__file__).parent
NAME = "basic-pitch"


def close(ours, ref):
    """The issue's tolerance: 1e-4 relative, and 1e-4 of the reference's maximum."""
    ref = np.asarray(ref)
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-4 * np.abs(ref).max())


@pytest.fixture(scope="module")
def ref():
    return np.load(DATA / "reference.npz")


@pytest.fixture(scope="module")
def summary():
    return json.loads((DATA / "reference.json").read_text())


@pytest.fixture(scope="module")
def clips():
    x = make_inputs()
    return list(x) + [x[0][SR // 4:SR // 4 + SHORT]]


@pytest.fixture(scope="module")
def network():
    return load_pretrained(NAME)


@pytest.fixture(scope="module")
def outputs(network, clips):
    return [network.frame_outputs(clip[None])[0] for clip in clips]


def test_inputs_are_the_reference_inputs(ref, clips):
    for i, clip in enumerate(clips):
        np.testing.assert_allclose(clip[:64], ref[f"clip{i}__head"], rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(np.abs(clip.astype(np.float64)).sum(),
                                   ref[f"clip{i}__sum"], rtol=1e-6)


def test_windows_are_the_originals(summary, clips):
    for clip, expected in zip(clips, summary["clips"]):
        windows = bp.basicpitch_windows(clip[None])[0]
        assert list(windows.shape) == expected["windows_shape"]
        if hashlib.sha256(clip.tobytes()).hexdigest() != expected["clip_sha256"]:
            pytest.skip("this machine's sin/exp round a sample of the test clips "
                        "differently; the windows cannot be compared bit for bit")
        assert hashlib.sha256(windows.tobytes()).hexdigest() == expected["windows_sha256"]


def test_outputs_match_the_original(ref, summary, network, outputs):
    for i, out in enumerate(outputs):
        assert out.shape == (summary["clips"][i]["n_frames"], 440) and out.dtype == np.float32
        frames = ref[f"clip{i}__frames"]
        for name, (lo, hi) in network.card["outputs"].items():
            close(out[frames, lo:hi], ref[f"clip{i}__{name}"])


def test_layers_match_the_original_graph(ref, network, clips):
    for i, clip in enumerate(clips):
        windows = torch.from_numpy(bp.basicpitch_windows(clip[None])[0])
        with torch.no_grad():
            layers = network.module(windows, layers=["cqt", "note_maps"])
        close(layers["cqt"].numpy()[:, WINDOW_FRAMES], ref[f"clip{i}__cqt"])
        close(layers["note_maps"].numpy()[:1, MAP_FRAMES], ref[f"clip{i}__note_maps"])


def test_frame_outputs_of_a_layer_and_batches(network, clips):
    clip = clips[0][None]
    maps = network.frame_outputs(clip, "note_maps")
    assert maps.shape == (1, 258, 88 * 32) == (1, 258, network.layers["note_maps"][0])
    windows = torch.from_numpy(bp.basicpitch_windows(clip)[0])
    with torch.no_grad():
        direct = network.layer_outputs(windows, ["note_maps"])["note_maps"].numpy()
    np.testing.assert_array_equal(maps[0, :142], direct[0, 15:157].reshape(142, -1))
    # another batch size is another float32 convolution in torch: its CQT differs by
    # 1e-8, which NormalizedLog's log of bins 100 dB below the loudest amplifies on
    # band-limited audio (3.6e-4 here; a float64 CQT is 1.7e-3 from onnxruntime); on
    # noise, whose bins are all loud, it stays at float32 rounding
    two = np.stack([clips[0], clips[1]])
    np.testing.assert_allclose(network.frame_outputs(two, batch_size=1),
                               network.frame_outputs(two, batch_size=8), atol=2e-3)
    noise = clips[2][None]
    np.testing.assert_allclose(network.frame_outputs(noise, batch_size=1),
                               network.frame_outputs(noise, batch_size=8), atol=1e-5)


def test_frame_times(ref, network):
    ours, original = network.frame_times(1000), ref["frame_times"]
    np.testing.assert_array_equal(bp.original_frame_times(1000), original)
    # the same inside the first window; the original's seam correction is approximate
    np.testing.assert_allclose(ours[:142], original[:142], atol=1e-12)
    assert np.abs(ours - original).max() < 0.0104
    assert np.allclose(np.diff(ours)[np.arange(999) % 142 != 141], 256 / 22050)
    assert network.frame_rate == pytest.approx(22050 * 142 / 36164)
    assert abs(ours[-1] - 999 / network.frame_rate) < 0.5 * 256 / 22050


@pytest.mark.parametrize("n_samples", [257, 1000, 36164 - 3840, 36164 - 3839, 22050 * 10])
def test_frame_counts_follow_run_inference(network, n_samples):
    out = network.frame_outputs(np.zeros((1, n_samples), np.float32))
    assert out.shape == (1, int(np.floor(n_samples * 86 / 22050)), 440)
    assert bp.n_windows(n_samples) == -(-(n_samples + 3840) // 36164)


@pytest.mark.parametrize("s", range(len(SETTINGS)))
def test_decoding_equals_the_original(ref, s):
    onset, frame, min_len, infer, melodia, fmin, fmax = SETTINGS[s]
    post = make_posteriors()
    notes = bp.notes_from_outputs(post["note"], post["onset"], onset_threshold=onset,
                                  frame_threshold=frame, min_note_frames=min_len,
                                  infer_onsets=infer, melodia_trick=melodia,
                                  min_freq=fmin, max_freq=fmax)
    np.testing.assert_array_equal(notes, ref[f"synthetic__notes{s}"])


@pytest.mark.parametrize("s", range(len(SETTINGS)))
def test_decoding_of_the_clips_equals_the_original(ref, outputs, s):
    onset, frame, min_len, infer, melodia, fmin, fmax = SETTINGS[s]
    for i, out in enumerate(outputs):
        notes = bp.notes_from_outputs(out[:, 264:352], out[:, 352:], onset_threshold=onset,
                                      frame_threshold=frame, min_note_frames=min_len,
                                      infer_onsets=infer, melodia_trick=melodia,
                                      min_freq=fmin, max_freq=fmax)
        expected = ref[f"clip{i}__notes{s}"]
        assert notes.shape == expected.shape
        np.testing.assert_array_equal(notes[:, :3], expected[:, :3])
        np.testing.assert_allclose(notes[:, 3], expected[:, 3], atol=1e-5)


def test_chord_is_transcribed(ref):
    pitches = set(ref["clip0__notes0"][:, 2].astype(int))
    assert {57, 61, 64, 67} <= pitches  # A3, C#4, E4, then G4


def test_card(network):
    card = model_card(NAME)
    assert card["architecture"] == "basicpitch" and card["level"] == "frame"
    assert card["task"] == "notes" and card["sr"] == 22050 and card["frame_offset"] == 0.0
    assert card["tags"] == tags() and len(card["tags"]) == 440
    assert card["tags"][:4] == ["contour:A0+0", "contour:A0+1", "contour:A0+2",
                                "contour:A#0+0"]
    assert card["tags"][264] == "note:A0" and card["tags"][-1] == "onset:C8"
    assert list(card["layers"]) == list(LAYERS) == list(network.layers)
    assert card["license"]["weights"] == "Apache-2.0"
    assert (PRETRAINED / card["license"]["file"]).read_text().startswith("Basic Pitch")
    assert card["source"]["sha256"] and "parity" in card
    assert isinstance(network.module, BasicPitch) and not network.module.training
    assert network.level == "frame" and set(network.auto_layers) <= set(network.layers)
    assert "basicpitch" in families() and NAME in list_pretrained(level="frame")
    assert NAME not in list_pretrained(level="clip")


@pytest.fixture()
def copy(tmp_path, monkeypatch):
    for suffix in (".json", ".safetensors"):
        shutil.copy(PRETRAINED / f"{NAME}{suffix}", tmp_path)
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
    return tmp_path


def test_edited_weights_are_refused(copy):
    path = copy / f"{NAME}.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights of 'basic-pitch' .*basic-pitch\.safetensors"
                                         r".* do not match the model card"):
        load_pretrained(NAME)


def test_edited_card_is_refused(copy):
    path = copy / f"{NAME}.json"
    card = json.loads(path.read_text())
    card["frame_rate"] = 100.0
    path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"model card of 'basic-pitch' .* edited"):
        load_pretrained(NAME)


def test_refusals(network):
    plain = np.zeros((1, 22050), np.float32)
    with pytest.raises(ValueError, match=r"BasicPitchWindows.*sr"):
        bp.BasicPitchWindows().fit_transform(plain)
    with pytest.raises(ValueError, match=r"X.sr = 16000: .*22050 Hz only"):
        network.frame_outputs(Waveforms(plain, sr=16000))
    with pytest.raises(ValueError, match=r"sr = 16000: BasicPitchWindows reads audio at "
                                         r"22050 Hz only"):
        bp.BasicPitchWindows(sr=16000).fit(plain)
    with pytest.raises(ValueError, match=r"basic-pitch.frame_outputs: clips have 256 "
                                         r"sample\(s\).*from 257 samples"):
        network.frame_outputs(np.zeros((1, 256), np.float32))
    with pytest.raises(ValueError, match=r"mono waveforms"):
        network.frame_outputs(np.zeros((1, 2, 22050), np.float32))
    with pytest.raises(ValueError, match=r"frame_outputs: layer = 'pool1': choose None"):
        network.frame_outputs(plain, "pool1")
    with pytest.raises(ValueError, match=r"batch_size = 0"):
        network.frame_outputs(plain, batch_size=0)
    with pytest.raises(ValueError, match=r"clip-level"):
        network.probabilities(torch.zeros(1, 43844))
    with pytest.raises(ValueError, match=r"layers = \['pool1'\]: unknown"):
        network.module(torch.zeros(1, 43844), layers=["pool1"])
    with pytest.raises(ValueError, match=r"n_samples >= "):
        network.module(torch.zeros(1, 1000))
    with pytest.raises(ValueError, match=r"\(n_frames, 88\)"):
        bp.notes_from_outputs(np.zeros((10, 88)), np.zeros((10, 87)))
    out = network.frame_outputs(Waveforms(plain, sr=22050))
    assert out.shape == (1, 86, 440)


@parametrize_with_checks([bp.BasicPitchWindows(sr=22050)],
                         expected_failed_checks=lambda est: {
                             # stateless: clips of any length, as MusicnnLogMel
                             "check_n_features_in_after_fitting": "takes clips of any length"})
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_tools_import_no_onnx_or_torch():
    # pytest imports every module of skmir/ for its doctests: the one-off tools must
    # import onnx, onnxruntime and basic_pitch inside their functions only
    code = ("import sys, skmir.pretrained.convert_basicpitch, "
            "skmir.pretrained.basicpitch_reference, skmir.pretrained.basicpitch; "
            "print(sorted(m for m in ('onnx', 'onnxruntime', 'basic_pitch', 'torch') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
