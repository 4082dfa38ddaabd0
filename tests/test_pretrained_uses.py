"""What a user does with the shipped networks: list them, transfer their features,
tag audio (the class and the command), plot a taggram, fine-tune musicnn."""

import json
import shutil
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import soundfile as sf  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import skmir  # noqa: E402
import skmir.pretrained  # noqa: E402
import skmir.pretrained.cards  # noqa: E402
from skmir import PretrainedTagger, TransferFeatures  # noqa: E402
from skmir.cli import main  # noqa: E402
from skmir.io import Waveforms  # noqa: E402
from skmir.neural import NeuralClassifier  # noqa: E402
from skmir.pretrained import load_pretrained  # noqa: E402
from skmir.pretrained.musicnn import (  # noqa: E402
    MusicnnLogMel,
    musicnn_logmel,
    musicnn_patches,
)

SR = 16000


def _audio(n_clips=3, seconds=7.0, seed=0):
    """Clips of a few harmonic tones with noise (different per clip)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    clips = []
    for _ in range(n_clips):
        f0 = rng.uniform(100, 600)
        x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
        clips.append(0.2 * x + 0.05 * rng.standard_normal(len(t)))
    return Waveforms(np.asarray(clips, dtype=np.float32), sr=SR)


def test_every_shipped_network_is_listed_and_has_a_card():
    names = skmir.list_pretrained(level="clip")
    assert names == ["choi2017-tags", "keycnn-key", "musicnn-msd", "musicnn-mtt", "vgg-msd",
                     "vgg-mtt"]
    for name in names:
        card = skmir.pretrained.model_card(name)
        # keycnn-key names the 24 keys, at 22.05 kHz; the taggers 23 tags or more
        assert card["sr"] == (22050 if name == "keycnn-key" else SR)
        assert len(card["tags"]) >= 23
        assert card["card_sha256"] == skmir.pretrained.card_digest(card)
    # one loader for every card kind (it used to refuse the musicnn networks)
    loaded = skmir.pretrained.load_pretrained("musicnn-msd")
    assert loaded.tags == skmir.pretrained.model_card("musicnn-msd")["tags"]


def test_an_edited_card_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "pretrained"
    shutil.copytree(skmir.pretrained.cards.FOLDER, folder,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    card = json.loads((folder / "choi2017-tags.json").read_text())
    card["log_compression"]["eps"] = 1.0  # changes every feature, not the weights
    (folder / "choi2017-tags.json").write_text(json.dumps(card))
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", folder)
    with pytest.raises(ValueError, match="was edited or is corrupt"):
        skmir.pretrained.load_pretrained("choi2017-tags")


def test_the_loader_dispatches_on_the_card_family(tmp_path, monkeypatch):
    for name in skmir.list_pretrained():
        network = skmir.pretrained.load_pretrained(name)
        assert isinstance(network, skmir.pretrained.ShippedNetwork) and network.name == name
        assert not network.module.training and network.layers
    for suffix in (".json", ".safetensors"):
        shutil.copy(skmir.pretrained.cards.FOLDER / f"vgg-mtt{suffix}", tmp_path)
    card = json.loads((tmp_path / "vgg-mtt.json").read_text())
    card["architecture"] = "wavenet"
    card["card_sha256"] = skmir.pretrained.card_digest(card)
    (tmp_path / "vgg-mtt.json").write_text(json.dumps(card))
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
    with pytest.raises(ValueError, match="network family 'wavenet'.*cannot load"):
        skmir.pretrained.load_pretrained("vgg-mtt")


def _manual_features(name, X, layers, pooling):
    """The features of TransferFeatures, computed from the network directly."""
    net = load_pretrained(name).module
    patches = musicnn_patches(musicnn_logmel(X))
    rows = []
    with torch.no_grad():
        for clip in patches:
            f = net.features(torch.from_numpy(clip))
            cols = []
            for layer in layers:
                h = f[layer]
                axes = tuple(range(1, h.ndim - 1))
                cols.append(h if h.ndim == 2 else
                            (h.mean(dim=axes) if pooling == "avg" else h.amax(dim=axes)))
            rows.append(torch.cat(cols, 1).mean(0).numpy())
    return np.asarray(rows)


@pytest.mark.parametrize("name, layers, pooling", [
    ("musicnn-msd", ["max_pool", "penultimate"], "avg"),
    ("musicnn-mtt", ["cnn1", "timbral"], "max"),
    ("vgg-msd", ["pool2", "pool5"], "avg"),
])
def test_transfer_features_are_the_pooled_layers_averaged_over_patches(name, layers, pooling):
    X = _audio()
    tf = TransferFeatures(name, layers=layers, pooling=pooling, batch_size=2)
    F = tf.fit_transform(X)
    np.testing.assert_allclose(F, _manual_features(name, X, layers, pooling),
                               rtol=1e-5, atol=1e-5)
    names = tf.get_feature_names_out()
    assert len(names) == F.shape[1] and names[0].startswith(layers[0] + "_")
    assert tf.feature_layers_ == layers


def test_transfer_features_layers_auto_all_and_errors():
    X = _audio(2, seconds=3.5)
    auto = TransferFeatures("musicnn-msd").fit(X)
    assert auto.feature_layers_ == ["mean_pool", "max_pool"]
    assert auto.transform(X).shape == (2, 753 + 753)
    assert TransferFeatures("vgg-msd").fit(X).feature_layers_ == [f"pool{k}" for k in range(1, 6)]
    every = TransferFeatures("vgg-mtt", layers="all", pooling="both").fit(X)
    assert every.feature_layers_ == ["pool1", "pool2", "pool3", "pool4", "pool5"]
    assert every.transform(X).shape == (2, 5 * 2 * 128)
    assert TransferFeatures("musicnn-mtt", layers=-1).fit(X).feature_layers_ == ["penultimate"]
    with pytest.raises(ValueError, match=r"layer 'conv9' does not exist.*'timbral'"):
        TransferFeatures("musicnn-msd", layers=["conv9"]).fit(X)
    with pytest.raises(ValueError, match=r"X.sr = 22050: .*reads audio at 16000 Hz only"):
        TransferFeatures("musicnn-msd").fit(Waveforms(np.zeros((1, 22050), "float32"), 22050))
    with pytest.raises(ValueError, match=r"mono waveforms \(n_clips, n_samples\)"):
        TransferFeatures("vgg-msd").fit(np.zeros((1, 2, 16000), "float32"))
    with pytest.raises(ValueError, match="NaN"):
        TransferFeatures("vgg-msd").fit(Waveforms(np.full((1, 16000), np.nan, "float32"), SR))


def test_pretrained_tagger_averages_the_patches_tag_probabilities():
    X = _audio(2)
    tagger = PretrainedTagger("musicnn-mtt").fit(X)
    loaded = load_pretrained("musicnn-mtt")
    net, card = loaded.module, loaded.card
    with torch.no_grad():
        expected = np.stack([torch.sigmoid(net(torch.from_numpy(p))).mean(0).numpy()
                             for p in musicnn_patches(musicnn_logmel(X))])
    P = tagger.predict_proba(X)
    np.testing.assert_allclose(P, expected, atol=1e-6)
    assert tagger.tags_.tolist() == card["tags"]
    np.testing.assert_array_equal(tagger.predict(X), (P >= 0.5).astype(int))
    assert tagger.taggram(X).shape == (2, 2, 50)  # 7 s: two patches of 3 s
    top = tagger.top_tags(P, k=3)
    assert [t for t, _ in top[0]] == [card["tags"][j] for j in np.argsort(-P[0])[:3]]
    assert tagger.get_feature_names_out()[0] == "tag_" + card["tags"][0]


def test_top_tags_refuses_a_bad_k_and_columns_that_are_not_its_tags():
    tagger = PretrainedTagger("choi2017-tags").fit()
    P = np.random.default_rng(0).uniform(size=(2, 23))
    assert len(tagger.top_tags(P, k=100)[0]) == 23  # at most every tag
    for k in (-1, 0, 2.5):
        with pytest.raises(ValueError, match=rf"^PretrainedTagger.top_tags: k = {k!r}: "
                                             "allowed: an integer >= 1"):
            tagger.top_tags(P, k=k)
    with pytest.raises(ValueError, match=r"^PretrainedTagger.top_tags: proba of shape "
                                         r"\(2, 7\): allowed: \(n_clips, 23\)"):
        tagger.top_tags(P[:, :7])


def test_pretrained_tagger_on_choi2017_and_its_errors():
    X = _audio(2)
    tagger = PretrainedTagger("choi2017-tags").fit(X)
    assert tagger.predict_proba(X).shape == (2, 23)
    with pytest.raises(ValueError, match="a taggram needs a network that tags patches"):
        tagger.taggram(X)
    with pytest.raises(ValueError, match="not a pretrained network shipped"):
        PretrainedTagger("nope").fit(X)
    with pytest.raises(ValueError, match=r"X.sr = 8000: .*reads audio at 16000 Hz only"):
        PretrainedTagger().fit(Waveforms(np.zeros((1, 8000), "float32"), 8000))


def test_loud_and_short_audio_give_finite_tags():
    tagger = PretrainedTagger("musicnn-msd").fit()
    loud = 50 * _audio(1)  # far beyond full scale: float16 would overflow
    short = _audio(1, seconds=0.5)  # shorter than one patch: repeat-padded
    for X in (loud, short):
        assert np.isfinite(tagger.predict_proba(X)).all()


def test_skmir_tag_tags_a_folder_and_reports_a_bad_file(tmp_path, capsys):
    X = _audio(2, seconds=3.5)
    for i, clip in enumerate(X):
        sf.write(tmp_path / f"clip{i}.wav", clip, SR)
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wave file")
    assert main(["tag", str(tmp_path), "--model", "musicnn-mtt", "--top", "3", "--quiet"]) == 0
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 2 and all(line.count(",") == 2 for line in lines)
    assert "clip0.wav" in lines[0] and "broken.wav" in err and "skipped" in err
    assert main(["tag", str(tmp_path), "--model", "nope"]) == 2
    assert "not a shipped tagging network" in capsys.readouterr().err


def test_plot_taggram_renders_headless():
    from skmir.plot import plot_taggram

    tagger = PretrainedTagger("musicnn-mtt").fit()
    T = tagger.taggram(_audio(1, seconds=10.0))[0]
    ax = plot_taggram(T, tagger.tags_, top=10)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 10 and set(labels) <= set(tagger.tags_)
    assert ax.get_xlabel() == "time (s)" and len(ax.figure.axes) == 2  # the colour bar
    with pytest.raises(ValueError, match="one tag name per column"):
        plot_taggram(T, tagger.tags_[:5])


def _logmel_clips(n_per_class=8):
    """Two classes of clips: low and high tones."""
    rng = np.random.default_rng(1)
    t = np.arange(int(SR * 2.0)) / SR
    X, y = [], []
    for label, (lo, hi) in enumerate([(100, 200), (1500, 3000)]):
        for _ in range(n_per_class):
            f = rng.uniform(lo, hi)
            X.append(0.3 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(len(t)))
            y.append(label)
    return (MusicnnLogMel().fit_transform(Waveforms(np.asarray(X, dtype=np.float32), sr=SR)),
            np.asarray(y))


def test_fine_tuned_musicnn_keeps_its_frozen_blocks_and_learns(tmp_path):
    S, y = _logmel_clips()
    assert S.shape[1:] == (96, 126)
    clf = NeuralClassifier("musicnn-msd", freeze=5, max_epochs=8, early_stopping=False,
                           lr=1e-2, batch_size=8, random_state=0, device="cpu").fit(S, y)
    assert clf.score(S, y) >= 0.9
    body = clf.net_.module_.body
    source = load_pretrained("musicnn-msd").module
    for name, p in source.state_dict().items():
        q = body.state_dict()[name]
        if name.startswith(("input_bn", "timbral", "temporal", "midend")):
            assert torch.equal(p, q), name  # frozen, batch-norm statistics included
    assert not torch.equal(source.dense.weight, body.dense.weight)  # block 6 trained
    assert clf.predict_proba(S).shape == (16, 2)
    clf.save(tmp_path / "ft.pt")
    again = NeuralClassifier.load(tmp_path / "ft.pt")
    np.testing.assert_array_equal(again.predict_proba(S), clf.predict_proba(S))


def test_frozen_blocks_run_once_per_clip_and_fine_tune_as_without_the_cache(monkeypatch):
    from skmir.neural.inputs import ShippedInput
    from skmir.nn.musicnn import Musicnn

    S, y = _logmel_clips()
    clips = []
    front = Musicnn._front

    def counting_front(self, x):
        clips.append(len(x))
        return front(self, x)

    monkeypatch.setattr(Musicnn, "_front", counting_front)
    # no augmentation of the spectrograms: nothing reaches the frozen blocks
    params = dict(freeze=3, max_epochs=3, early_stopping=False, lr=1e-2, batch_size=8,
                  random_state=0, device="cpu", crop_frames=None, gain=0.0, freq_mask=0,
                  time_mask=0, mixup=0.0)
    cached = NeuralClassifier("musicnn-msd", **params).fit(S, y)
    # the front end ran once per clip, not once per epoch (plus any 1-clip shape probe)
    probe = sum(n for n in clips if n == 1)
    assert sum(clips) - probe == len(S)
    assert cached.net_.module_.from_maps is False  # and it predicts spectrograms
    monkeypatch.setattr(ShippedInput, "caches", lambda self: False)
    clips.clear()
    plain = NeuralClassifier("musicnn-msd", **params).fit(S, y)
    assert sum(clips) - probe == 3 * len(S)
    np.testing.assert_allclose(cached.predict_proba(S), plain.predict_proba(S), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(cached.history_[:, "train_loss"],
                               plain.history_[:, "train_loss"], rtol=1e-4)
    # with augmentation on (the default), the spectrograms change every epoch: no cache
    clips.clear()
    monkeypatch.undo()
    monkeypatch.setattr(Musicnn, "_front", counting_front)
    NeuralClassifier("musicnn-msd", **dict(params, gain=0.5)).fit(S, y)
    assert sum(clips) - probe == 3 * len(S)


def test_fine_tuning_errors():
    S, y = _logmel_clips(2)
    with pytest.raises(ValueError, match="VGG network"):
        NeuralClassifier("vgg-msd", max_epochs=1, early_stopping=False).fit(S, y)
    with pytest.raises(ValueError, match="freeze = 2: keeps the first layers"):
        NeuralClassifier("conv1d", freeze=2).fit(S, y)
    with pytest.raises(ValueError, match=r"\(1, 96\) per clip.*MusicnnLogMel.*\(1, 40\)"):
        NeuralClassifier("musicnn-mtt").fit(S[:, :40], y)
    with pytest.raises(ValueError, match="freeze must be at most 6"):
        NeuralClassifier("musicnn-mtt", freeze=7, max_epochs=1,
                         early_stopping=False).fit(S, y)
    clf = NeuralClassifier("musicnn-mtt", max_epochs=1, early_stopping=False).fit(S, y)
    with pytest.raises(ValueError, match="fine-tunes a shipped network"):
        TransferFeatures(clf).fit(S)


def test_a_network_without_fine_tuning_says_so():
    S, y = np.zeros((4, 64, 20), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match="'choi2017-tags' cannot be fine-tuned"):
        NeuralClassifier("choi2017-tags", max_epochs=1, early_stopping=False).fit(S, y)


_ANY_LENGTH = "stateless in the clip length: clips of any length are valid after fit"


def _expected(estimator):
    failures = {"check_n_features_in_after_fitting": _ANY_LENGTH}
    if isinstance(estimator, PretrainedTagger):
        failures.update({
            "check_transformer_general": _ANY_LENGTH,
            "check_transformer_general(readonly_memmap=True)": _ANY_LENGTH,
        })
    return failures


# vgg-mtt: the same code path as the musicnn networks, at a quarter of the cost
@parametrize_with_checks([PretrainedTagger("vgg-mtt", device="cpu", sr=16000),
                          MusicnnLogMel(sr=16000)],
                         expected_failed_checks=_expected)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(estimator)


def test_write_card_writes_a_card_the_loader_accepts(tmp_path, monkeypatch):
    from skmir.pretrained.cards import write_card

    card = skmir.pretrained.model_card("keycnn-key")
    del card["card_sha256"]
    shutil.copy(skmir.pretrained.cards.FOLDER / card["file"], tmp_path)
    written = write_card(tmp_path, card, lambda c: f"# Model card: {c['name']}\n")
    assert json.loads((tmp_path / "keycnn-key.json").read_text()) == written
    assert written["card_sha256"] == skmir.pretrained.card_digest(written)
    assert (tmp_path / "keycnn-key.md").read_text() == "# Model card: keycnn-key\n"
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", tmp_path)
    assert skmir.pretrained.load_pretrained("keycnn-key").tags == written["tags"]


def test_a_frame_level_network_is_listed_apart_and_refused_by_the_clip_consumers(
        tmp_path, monkeypatch):
    shipped_frame = skmir.list_pretrained(level="frame")  # the real frame-level ones
    folder = tmp_path / "pretrained"
    shutil.copytree(skmir.pretrained.cards.FOLDER, folder,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    card = json.loads((folder / "choi2017-tags.json").read_text())
    card.update(level="frame", task="chords", frame_rate=10.0, frame_offset=0.05)
    card["card_sha256"] = skmir.pretrained.card_digest(card)
    (folder / "choi2017-tags.json").write_text(json.dumps(card))
    monkeypatch.setattr(skmir.pretrained.cards, "FOLDER", folder)
    assert skmir.list_pretrained(level="frame") == sorted(["choi2017-tags", *shipped_frame])
    assert "choi2017-tags" not in skmir.list_pretrained(level="clip")
    assert len(skmir.list_pretrained()) == (len(skmir.list_pretrained(level="clip")) + 1
                                            + len(shipped_frame))
    with pytest.raises(ValueError, match="level = 'beats'"):
        skmir.list_pretrained(level="beats")
    network = load_pretrained("choi2017-tags")
    np.testing.assert_allclose(network.frame_times(3), [0.05, 0.15, 0.25])
    message = (r"{}: source = 'choi2017-tags': a frame-level network \(chords\), and {} "
               r"takes clip-level ones only")
    X = _audio(1, 1.0)
    with pytest.raises(ValueError, match=message.format("TransferFeatures", "TransferFeatures")):
        TransferFeatures("choi2017-tags").fit(X)
    with pytest.raises(ValueError, match=message.format("PretrainedTagger", "PretrainedTagger")):
        PretrainedTagger("choi2017-tags").fit()
    clip = load_pretrained("vgg-mtt")
    with pytest.raises(ValueError, match="vgg-mtt.frame_outputs: source = 'vgg-mtt': a "
                                         "clip-level network"):
        clip.frame_outputs(X)
    assert clip.level == "clip" and clip.frame_rate is None
