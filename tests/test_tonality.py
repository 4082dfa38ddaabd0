"""Key and mode: labels, templates, the key-template baseline, the weighted key score,
and the transposition-equivariant key head k1 of the architecture language."""

import mir_eval
import numpy as np
import pytest
import torch
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmir import NeuralClassifier, NeuralRegressor, make_key_baseline
from skmir.datasets import make_music
from skmir.nn import build_network
from skmir.tonality import (
    KEY_NAMES,
    MODES,
    PROFILES,
    KeyTemplateClassifier,
    key_scores,
    key_targets,
    key_templates,
    weighted_key_score,
)

SR = 16000


def _chord_audio(midis, duration=1.0, sr=SR):
    t = np.arange(int(duration * sr)) / sr
    return sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t) for m in midis) / len(midis)


# --- labels -------------------------------------------------------------------------

def test_key_targets_reads_every_spelling_and_the_make_music_indices():
    assert key_targets(["C major", "c# minor", "Db MAJOR", "Bb minor"]) == (
        "key", (0, 13, 1, 22))
    assert key_targets(np.arange(24)) == ("key", tuple(range(24)))
    assert key_targets(["minor", "major"]) == ("mode", (1, 0))
    assert key_targets(np.array([0.0, 1.0])) == ("mode", (0, 1))
    # make_music's own labels agree with the module's key names
    music = make_music("key", n_clips=24, duration=1.5, sr=8000, random_state=0)
    assert tuple(music.target_names) == KEY_NAMES
    assert tuple(make_music("mode", n_clips=2, duration=1.5, sr=8000,
                            random_state=0).target_names) == MODES


@pytest.mark.parametrize("classes, match", [
    (["C major", "H major"], "y = 'H major' is not a key label"),
    (["major", "dorian"], "y = 'major' is not a key label"),  # a mode among keys
    ([0, 24], "y = 24 is not a key label"),
    (["C# major", "Db major"], "'C# major' and 'Db major', two spellings of one key"),
])
def test_key_targets_refuses_what_is_not_a_key(classes, match):
    with pytest.raises(ValueError, match=match):
        key_targets(classes, owner="X")


# --- templates and scores -----------------------------------------------------------

@pytest.mark.parametrize("profile", list(PROFILES))
def test_each_rotated_profile_is_its_own_best_key(profile):
    major, minor = PROFILES[profile]
    X = np.stack([np.roll(p, t) for p in (major, minor) for t in range(12)])
    np.testing.assert_array_equal(key_scores(profile, X).argmax(axis=1), np.arange(24))
    np.testing.assert_allclose(key_scores(profile, X).max(axis=1), 1.0)


def test_templates_on_finer_chroma_interpolate_between_semitones():
    t12, t36 = key_templates("krumhansl", 12), key_templates("krumhansl", 36)
    np.testing.assert_allclose(t36[:, ::3], t12)  # the semitones are the profile's
    np.testing.assert_allclose(t36[:, 1], (2 * t12[:, 0] + t12[:, 1]) / 3)
    X36 = np.repeat(np.roll(PROFILES["krumhansl"][1], 4), 3)[None]  # E minor, 36 bins
    assert KEY_NAMES[key_scores("krumhansl", X36).argmax()] == "E minor"


def test_a_flat_profile_scores_zero():
    np.testing.assert_array_equal(key_scores("krumhansl", np.ones((1, 12))), 0.0)


def test_weighted_key_score_is_mir_evals_mean():
    ref = ["C major", "C major", "C major", "C major", "A minor"]
    est = ["C major", "G major", "A minor", "C minor", "F# major"]
    expected = np.mean([mir_eval.key.weighted_score(r, e) for r, e in zip(ref, est)])
    assert weighted_key_score(ref, est) == pytest.approx(expected) == pytest.approx(0.4)
    # make_music indices: 0 = C major, 7 = G major (a fifth above), 21 = A minor
    assert weighted_key_score([0, 0, 0], [0, 7, 21]) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="weighted_key_score: y_true and y_pred"):
        weighted_key_score(["C major"], ["C major", "D major"])


# --- the baseline -------------------------------------------------------------------

def test_template_classifier_predicts_keys_and_modes_of_chords():
    # I-IV-V-I cadences: C major and A minor (A-C-E, D-F-A, E-G#-B, A-C-E)
    c_major = np.concatenate([_chord_audio(c) for c in ([60, 64, 67], [65, 69, 72],
                                                        [67, 71, 74], [60, 64, 67])])
    a_minor = np.concatenate([_chord_audio(c) for c in ([57, 60, 64], [62, 65, 69],
                                                        [64, 68, 71], [57, 60, 64])])
    X = np.stack([c_major, a_minor]).astype(np.float32)
    keys = make_key_baseline(sr=SR).fit(X, ["C major", "A minor"])
    assert keys.predict(X).tolist() == ["C major", "A minor"]
    modes = make_key_baseline(sr=SR).fit(X, ["major", "minor"])
    assert modes.predict(X).tolist() == ["major", "minor"]
    assert modes[-1].predict_key(modes[:-1].transform(X)).tolist() == ["C major", "A minor"]


def test_template_classifier_equals_the_correlation_computed_by_hand():
    rng = np.random.default_rng(0)
    chroma = rng.random((6, 12, 30))
    clf = KeyTemplateClassifier(profile="temperley").fit(chroma, np.arange(6))
    major, minor = PROFILES["temperley"]
    by_hand = []
    for x in chroma.mean(axis=2):
        r = [np.corrcoef(x, np.roll(p, t))[0, 1] for p in (major, minor) for t in range(12)]
        by_hand.append(KEY_NAMES[int(np.argmax(r))])
    assert clf.predict_key(chroma).tolist() == by_hand
    # predict answers among the classes seen in fit (C major ... F major here)
    assert set(clf.predict(chroma)) <= set(range(6))


def test_template_classifier_hears_generated_keys():
    music = make_music("key", n_clips=48, duration=4.0, sr=SR, random_state=0)
    baseline = make_key_baseline(sr=SR).fit(music.data, music.target)
    accuracy = np.mean(baseline.predict(music.data) == music.target)
    assert accuracy > 0.3  # chance is 1/24
    assert weighted_key_score(music.target, baseline.predict(music.data)) > accuracy


@pytest.mark.parametrize("X, match", [
    (np.zeros((3, 1)), "1 feature"),
    (np.full((3, 12), np.nan), "NaN"),
])
def test_template_classifier_refuses_bad_chroma(X, match):
    with pytest.raises(ValueError, match=match):
        KeyTemplateClassifier().fit(X, ["major", "minor", "major"])


def _template_expected(estimator):
    return {
        "check_classifiers_train": (
            "nothing is learnt: the templates are the Krumhansl/Temperley key profiles, "
            "which cannot separate sklearn's Gaussian blobs"),
        "check_classifiers_classes": (
            "labels must name keys or modes; sklearn's 'one', 'two', 'three' do not"),
    }


@parametrize_with_checks([KeyTemplateClassifier()], expected_failed_checks=_template_expected)
def test_template_classifier_is_sklearn_compatible(estimator, check):
    check(estimator)


# --- the key head k1 ----------------------------------------------------------------

def test_key_head_is_equivariant_to_transposition():
    torch.manual_seed(0)
    net = build_network("keycnn", (1, 84, 20), 24, key_targets=key_targets(range(24)),
                        channels=4).eval()
    x = torch.zeros(2, 1, 84, 20)
    x[:, :, 24:60] = torch.rand(2, 1, 36, 20)  # three middle octaves, away from the edges
    up = torch.roll(x, 1, dims=2)  # one semitone higher
    with torch.no_grad():
        scores, shifted = net(x).view(2, 2, 12), net(up).view(2, 2, 12)
    # (key scores are tonic-major then tonic-minor): every tonic moves up by one
    torch.testing.assert_close(torch.roll(scores, 1, dims=2), shifted, atol=1e-5, rtol=1e-5)
    assert (scores - shifted).abs().max() > 1e-3  # ... and did change

    mode_net = build_network("k1", (1, 12, 20), 2, key_targets=key_targets(MODES)).eval()
    chroma = torch.rand(3, 1, 12, 20)
    with torch.no_grad():
        torch.testing.assert_close(mode_net(chroma), mode_net(torch.roll(chroma, 5, dims=2)))


@pytest.mark.parametrize("architecture, match", [
    ("k1-c2", "'c2' at position 2 comes after the key head 'k1'"),
    ("c2-d1-k1", "'d1' removes"),
    ("c2-p2-k1", "receives 42 bins"),
])
def test_key_head_explains_a_bad_place(architecture, match):
    with pytest.raises(ValueError, match=match):
        build_network(architecture, (1, 84, 20), 24, key_targets=key_targets(range(24)))


def test_key_head_is_clip_level_only():
    with pytest.raises(ValueError, match="one key per clip"):
        build_network("c2-k1", (1, 84, 20), 24, output="frame")


def _template_chroma(n, rng, noise=0.15):
    """Chroma (n, 12, 8) of rotated Krumhansl profiles in random keys, plus noise."""
    keys = rng.integers(24, size=n)
    profiles = np.stack([np.roll(PROFILES["krumhansl"][k // 12], k % 12) for k in keys])
    X = profiles[:, :, None] / 6.4 + noise * rng.random((n, 12, 8))
    return X.astype(np.float32), keys


def test_a_k1_network_learns_mode_in_keys_it_never_saw():
    rng = np.random.default_rng(0)
    X, keys = _template_chroma(240, rng)
    train = keys % 12 < 4  # tonics C, Db, D, Eb only
    y = np.asarray(MODES)[keys // 12]
    clf = NeuralClassifier("k1", max_epochs=30, lr=0.03, freq_mask=0, mixup=0,
                           early_stopping=False, random_state=0, verbose=0)
    clf.fit(X[train], y[train])
    assert clf.classes_.tolist() == ["major", "minor"]
    assert np.mean(clf.predict(X[~train]) == y[~train]) > 0.9  # unseen tonics


def test_a_k1_network_predicts_the_key_labels_it_was_given(tmp_path):
    rng = np.random.default_rng(1)
    X, keys = _template_chroma(120, rng, noise=0.05)
    y = np.asarray(KEY_NAMES)[keys]
    clf = NeuralClassifier("k1", max_epochs=40, lr=0.03, freq_mask=0, mixup=0,
                           early_stopping=False, random_state=0, verbose=0).fit(X, y)
    assert np.mean(clf.predict(X) == y) > 0.9
    clf.save(tmp_path / "key.pt")
    again = NeuralClassifier.load(tmp_path / "key.pt")
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_k1_needs_key_or_mode_labels():
    X = np.random.default_rng(0).random((8, 12, 4)).astype(np.float32)
    with pytest.raises(ValueError, match="NeuralClassifier: y = 'cat' is not a key label"):
        NeuralClassifier("k1", max_epochs=1, early_stopping=False).fit(X, ["cat", "dog"] * 4)
    with pytest.raises(ValueError, match="NeuralRegressor: architecture = 'k1': ends in the key"):
        NeuralRegressor("k1", max_epochs=1, early_stopping=False).fit(X, np.arange(8.0))


# --- the shipped key network --------------------------------------------------------

def _cadence(tonic_midi, minor, sr=22050):
    """I-IV-V-I (i-iv-V-i in minor) as triads with the root doubled below, 4 s."""
    third = 3 if minor else 4
    chords = [(0, third, 7), (5, 5 + third, 12), (7, 11, 14), (0, third, 7)]
    return np.concatenate([_chord_audio([tonic_midi + c[0] - 12] + [tonic_midi + i
                                                                    for i in c],
                                        duration=1.0, sr=sr) for c in chords])


def test_the_shipped_key_network_is_equivariant_to_transposition():
    from skmir import PretrainedTagger, TransferFeatures, Waveforms
    from skmir.pretrained import load_pretrained

    network = load_pretrained("keycnn-key")
    assert sorted(network.tags) == sorted(KEY_NAMES) and network.sr == 22050
    X = Waveforms(np.stack([_cadence(60 + s, minor) for minor in (False, True)
                            for s in (0, 2, 7)]).astype(np.float32), 22050)
    tagger = PretrainedTagger("keycnn-key").fit(X)
    proba = tagger.predict_proba(X)
    assert proba.shape == (6, 24)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    best = [key_targets([k])[1][0] for k in tagger.tags_[proba.argmax(axis=1)]]
    for i in (0, 3):  # each cadence moved up 2 and 7 semitones moves its key with it
        tonic, mode = best[i] % 12, best[i] // 12
        assert [b % 12 for b in best[i:i + 3]] == [tonic, (tonic + 2) % 12, (tonic + 7) % 12]
        assert [b // 12 for b in best[i:i + 3]] == [mode] * 3
    features = TransferFeatures("keycnn-key").fit_transform(X)
    assert features.shape == (6, sum(c for c, _ in network.layers.values()))


def test_the_shipped_key_network_hears_mode_in_styles_it_never_saw():
    from skmir import PretrainedTagger
    from skmir.pretrained import model_card

    trained_on = model_card("keycnn-key")["training"]["train_genres"]
    music = make_music("mode", n_clips=64, duration=6.0, sr=22050, harmony="rich",
                       random_state=7)
    keep = ~np.isin(music.metadata["genre"], trained_on)  # 23 clips; 20 right here
    tagger = PretrainedTagger("keycnn-key").fit(music.data[:1])
    keys = tagger.tags_[tagger.predict_proba(music.data[keep]).argmax(axis=1)]
    modes = np.array([k.split()[1] for k in keys])
    truth = music.target_names[music.target[keep]]
    assert keep.sum() >= 16 and np.mean(modes == truth) > 0.75
