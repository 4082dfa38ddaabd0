"""The musicnn networks: parity with the original TensorFlow graphs, front end, cards.

The fixtures of tests/data/musicnn/ were written once by
``skmir/pretrained/musicnn_reference.py`` with TensorFlow running musicnn 0.1.0's own
graphs and checkpoints; these tests need no TensorFlow.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import skmir.pretrained.cards
from skmir.nn.musicnn import VGG, Musicnn
from skmir.pretrained import card_digest, load_pretrained, model_card
from skmir.pretrained import musicnn as mn
from skmir.pretrained.convert_musicnn import FRONTEND
from skmir.pretrained.tf_checkpoint import crc32c, masked_crc32c

DATA = Path(__file__).parent / "data" / "musicnn"
NAMES = ["musicnn-mtt", "musicnn-msd", "vgg-mtt", "vgg-msd"]
PRETRAINED = Path(mn.__file__).parent

# tolerances of the issue: tag probabilities absolute, layers relative to their max
TAG_ATOL = 1e-5
LAYER_RTOL = 1e-4
FRONTEND_ATOL = 1e-3


@pytest.fixture(scope="module")
def patches():
    return torch.from_numpy(np.load(DATA / "patches.npz")["patches"])


@pytest.fixture(scope="module", params=NAMES)
def network(request, patches):
    loaded = load_pretrained(request.param)
    net, card = loaded.module, loaded.card
    with torch.no_grad():
        features = {k: v.numpy() for k, v in net.features(patches).items()}
    return request.param, net, card, features


def _subsample(value, ref, layer):
    for axis, key in ((1, "t"), (2, "f")):
        if f"{layer}__{key}" in ref:
            value = np.take(value, ref[f"{layer}__{key}"], axis=axis)
    return value


def test_parity_with_tensorflow(network):
    name, net, card, features = network
    ref = np.load(DATA / f"{name}.npz")
    assert list(features) == list(net.layers) == card["layers"]
    for layer in net.layers:
        full = features[layer]
        assert list(full.shape) == ref[f"{layer}__shape"].tolist(), layer
        value = _subsample(full, ref, layer)
        assert value.shape == ref[layer].shape, layer
        scale = float(ref[f"{layer}__absmax"])
        assert scale > 0, layer
        rel = np.abs(value - ref[layer]).max() / scale
        assert rel <= LAYER_RTOL, f"{name} {layer}: relative error {rel:.3g}"
        # the stored positions are a sample; the maximum covers the whole map
        assert abs(np.abs(full).max() - scale) <= LAYER_RTOL * scale, layer
    tags = np.abs(features["taggram"] - ref["taggram"]).max()
    assert tags <= TAG_ATOL, f"{name}: tag probabilities differ by {tags:.3g}"


def test_forward_is_the_logits_of_features(network, patches):
    _, net, _, features = network
    with torch.no_grad():
        logits = net(patches).numpy()
    np.testing.assert_array_equal(logits, features["logits"])
    np.testing.assert_allclose(features["taggram"], 1 / (1 + np.exp(-logits)), rtol=1e-6)


def test_vgg_pooled_shapes_follow_the_graphs():
    shapes = {name: VGG(**model_card(name)["network"]).pooled_shapes
              for name in ("vgg-mtt", "vgg-msd")}
    assert shapes["vgg-mtt"] == [(92, 48), (46, 24), (23, 12), (11, 6), (2, 1)]
    assert shapes["vgg-msd"] == [(46, 96), (46, 24), (23, 12), (11, 6), (2, 1)]


def test_frontend_matches_the_musicnn_reference():
    ref = np.load(DATA / "frontend.npz")
    y = ref["waveform"].astype(np.float32)[None] / 32768
    for pad_mode, key in (("reflect", "logmel"), ("constant", "logmel_constant")):
        logmel = mn.musicnn_logmel(y, pad_mode=pad_mode)
        assert logmel.dtype == np.float32 and logmel.shape == (1, *ref[key].shape)
        assert np.abs(logmel[0] - ref[key]).max() <= FRONTEND_ATOL, pad_mode
    # the two paddings differ only at the edges
    diff = np.abs(ref["logmel"] - ref["logmel_constant"]).max(axis=1)
    assert diff[2:-2].max() == 0 and diff[0] > 0


def test_frontend_patches_feed_the_networks(patches):
    # the fixture's first patch is the first 187 frames of the reference clip
    ref = np.load(DATA / "frontend.npz")
    y = ref["waveform"].astype(np.float32)[None] / 32768
    P = mn.musicnn_patches(mn.musicnn_logmel(y))
    assert P.shape == (1, 1, 187, 96)
    assert np.abs(P[0, 0] - patches[0].numpy()).max() <= FRONTEND_ATOL


def test_loud_audio_gives_finite_tags():
    t = np.arange(3 * mn.SR) / mn.SR
    rng = np.random.default_rng(0)
    loud = np.stack([
        np.sign(np.sin(2 * np.pi * 110 * t)),  # full-scale square wave
        np.clip(rng.standard_normal(t.size), -1, 1),  # full-scale noise
        100 * np.sin(2 * np.pi * 60 * t),  # far beyond full scale
    ]).astype(np.float32)
    logmel = mn.musicnn_logmel(loud)
    assert np.isfinite(logmel).all()
    # the mel power does pass float16's 6.55, where a float16 product would overflow
    assert logmel.max() > np.log10(10000 * 6.55 + 1)
    net = load_pretrained("musicnn-mtt").module
    with torch.no_grad():
        tags = torch.sigmoid(net(torch.from_numpy(mn.musicnn_patches(logmel)[:, 0])))
    assert torch.isfinite(tags).all()


def test_short_clip_is_repeat_padded():
    y = np.random.default_rng(1).uniform(-0.5, 0.5, (2, mn.SR)).astype(np.float32)
    logmel = mn.musicnn_logmel(y)
    assert logmel.shape == (2, 63, 96)
    P = mn.musicnn_patches(logmel)
    assert P.shape == (2, 1, 187, 96)
    expected = np.concatenate([logmel] * 3, axis=1)[:, :187]
    np.testing.assert_array_equal(P[:, 0], expected)
    # a single frame is repeated too
    one = mn.musicnn_patches(logmel[:, :1])
    np.testing.assert_array_equal(one[:, 0], np.repeat(logmel[:, :1], 187, axis=1))


@pytest.mark.parametrize("n_frames, patch_hop, n_patches", [
    (187, 187, 1), (373, 187, 1), (374, 187, 2), (1000, 187, 5),
    (1000, 93, 9), (188, 1, 2), (500, 400, 1), (100, 10, 1),
])
def test_patch_count_and_starts(n_frames, patch_hop, n_patches):
    logmel = np.arange(n_frames * 96, dtype=np.float32).reshape(1, n_frames, 96)
    P = mn.musicnn_patches(logmel, patch_hop=patch_hop)
    assert P.shape == (1, n_patches, 187, 96)
    if n_frames >= 187:
        assert n_patches == 1 + (n_frames - 187) // patch_hop
        for i in range(n_patches):
            np.testing.assert_array_equal(P[0, i], logmel[0, i * patch_hop:i * patch_hop + 187])


@pytest.mark.filterwarnings("ignore:n_fft=512 is too large:UserWarning")
def test_logmel_frame_count():
    for n in (1, 255, 256, 48000):
        assert mn.musicnn_logmel(np.zeros((1, n), np.float32)).shape == (1, 1 + n // 256, 96)


@pytest.mark.parametrize("call, match", [
    (lambda: mn.musicnn_logmel(np.zeros(100)), "shape"),
    (lambda: mn.musicnn_logmel(np.zeros((1, 100)), pad_mode="edge"), "pad_mode"),
    (lambda: mn.musicnn_logmel(np.full((1, 100), np.nan)), "NaN"),
    (lambda: mn.musicnn_patches(np.zeros((1, 200, 96)), patch_hop=0), "patch_hop"),
    (lambda: mn.musicnn_patches(np.zeros((200, 96))), "shape"),
    (lambda: mn.musicnn_patches(np.zeros((1, 0, 96))), "n_frames"),
    (lambda: Musicnn()(torch.zeros(1, 187, 64)), "96"),
    (lambda: VGG()(torch.zeros(1, 100, 96)), "n_frames=187"),
    (lambda: VGG(pool_sizes=[(4, 1)], pool_strides=[(2, 2), (2, 2)]), "pool_strides"),
    (lambda: Musicnn(timbral_kernels=[(7, 200)]), "timbral_kernels"),
])
def test_errors_name_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_musicnn_takes_other_patch_lengths():
    net = Musicnn().eval()
    with torch.no_grad():
        assert net(torch.zeros(2, 100, 96)).shape == (2, 50)


def test_cards():
    assert mn.list_musicnn() == sorted(NAMES)
    licence = (PRETRAINED / "LICENSE-musicnn").read_text()
    assert licence.startswith("Copyright (c) Music Technology Group, Universitat Pompeu "
                              "Fabra 2019.")
    for name in NAMES:
        card = json.loads((PRETRAINED / f"{name}.json").read_text())
        assert card["card_sha256"] == card_digest(card)
        assert card["format"] == "skmir-pretrained/1" and card["name"] == name
        assert card["file"] == f"{name}.safetensors" and card["sr"] == mn.SR == 16000
        assert card["architecture"] == name.split("-")[0]
        assert card["frontend"] == FRONTEND
        fe = card["frontend"]
        assert (fe["n_fft"], fe["hop_length"], fe["n_mels"], fe["patch_frames"]) == (
            mn.N_FFT, mn.HOP_LENGTH, mn.N_MELS, mn.PATCH_FRAMES)
        assert len(card["tags"]) == card["network"]["n_tags"] == 50
        assert card["license"]["weights"] == "ISC"
        assert card["license"]["copyright"] in licence
        assert card["license"]["notice"].split()[:3] == ["Permission", "to", "use,"]
        assert " ".join(card["license"]["notice"].split()) in " ".join(licence.split())
        assert "CC BY-NC-SA" in card["license"]["training_audio"]
        assert "7digital" in card["license"]["training_audio"]
        files = card["training"]["source_files"]
        assert all(len(sha) == 64 for sha in files.values()) and len(files) >= 3
        assert (PRETRAINED / f"{name}.md").read_text().startswith(f"# {name}\n")
    scores = {n: json.loads((PRETRAINED / f"{n}.json").read_text())["scores"] for n in NAMES}
    # as printed in the wheel's experiment.result files
    assert "ROC-AUC: 0.9066769123674747" in scores["musicnn-mtt"]["text"]
    assert scores["musicnn-mtt"]["pr_auc"] == 0.38310571748763617
    assert scores["vgg-msd"]["roc_auc"] == 0.8767615259520635
    assert json.loads((PRETRAINED / "musicnn-mtt.json").read_text())["tags"][:2] == [
        "guitar", "classical"]


@pytest.fixture()
def copy(tmp_path, monkeypatch):
    def make(name):
        for suffix in (".json", ".safetensors"):
            shutil.copy(PRETRAINED / f"{name}{suffix}", tmp_path)
        monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
        return tmp_path
    return make


def test_load_from_an_intact_copy(copy):
    copy("vgg-msd")
    loaded = load_pretrained("vgg-msd")
    net, card = loaded.module, loaded.card
    assert isinstance(net, VGG) and not net.training and card["name"] == "vgg-msd"


def test_flipped_weight_byte_is_refused(copy):
    folder = copy("musicnn-msd")
    path = folder / "musicnn-msd.safetensors"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"weights of 'musicnn-msd' .*musicnn-msd\.safetensors"
                                         r".* do not match the model card"):
        load_pretrained("musicnn-msd")


@pytest.mark.parametrize("edit", [
    lambda c: c["network"].update(eps=0.01),
    lambda c: c["tags"].reverse(),
    lambda c: c["frontend"].update(pad_mode="constant"),
    lambda c: c.update(sha256="0" * 64),
])
def test_edited_card_is_refused(copy, edit):
    folder = copy("vgg-mtt")
    path = folder / "vgg-mtt.json"
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match=r"model card of 'vgg-mtt' .*vgg-mtt\.json.* edited"):
        load_pretrained("vgg-mtt")


def test_missing_and_unknown_files(copy):
    folder = copy("vgg-mtt")
    (folder / "vgg-mtt.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"weights of musicnn network 'vgg-mtt'"):
        load_pretrained("vgg-mtt")
    with pytest.raises(FileNotFoundError, match=r"'musicnn-big'.*available"):
        load_pretrained("musicnn-big")
    with pytest.raises(ValueError, match="name"):
        load_pretrained("../choi2017-tags")
    (folder / "vgg-mtt.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_pretrained("vgg-mtt")


def test_crc32c():
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value
    assert masked_crc32c(b"") == 0xA282EAD8


def test_tools_import_no_tensorflow():
    # pytest imports every module of skmir/ for its doctests: the one-off tools must
    # import TensorFlow and protobuf inside their functions only
    code = ("import sys, skmir.pretrained.convert_musicnn, skmir.pretrained.musicnn_reference, "
            "skmir.pretrained.musicnn; "
            "print(sorted(m for m in ('tensorflow', 'google.protobuf', 'torch') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
