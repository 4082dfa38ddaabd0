"""Tests of the frame-level estimators (FrameClassifier, FrameTagger)."""
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmir.neural import FrameClassifier, FrameTagger

FAST = dict(hidden=8, max_epochs=1, early_stopping=False, device="cpu", random_state=0,
            batch_size=64)

# Enough training for check_classifiers_train's accuracy bar on its tabular data.
CHECK = dict(FAST, hidden=16, max_epochs=30, lr=1e-2)

_Y2D = ("with 2-D X (one frame per clip) a y of shape (n_clips, 1) is a valid frame "
        "target, not a column vector to warn about")
XFAIL = {"FrameClassifier": {"check_supervised_y_2d": _Y2D}, "FrameTagger": {}}


@parametrize_with_checks(
    [FrameClassifier(**CHECK), FrameTagger(**CHECK)],
    expected_failed_checks=lambda est: XFAIL[type(est).__name__],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def _bright(n_clips, n_frames=24, n_bins=8, seed=0, shift=0):
    """Noise with bin 3 lit at random frames; the target is 1 at the lit frames."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0, 0.3, size=(n_clips, n_bins, n_frames)).astype(np.float32)
    y = (rng.random((n_clips, n_frames)) < 0.3).astype(int)
    X[:, 3, :] += 2.0 * y
    return X, np.roll(y, shift, axis=1)


TRAIN = dict(architecture="d1-d1", hidden=16, max_epochs=40, lr=1e-2,
             early_stopping=False, device="cpu", random_state=0, gain=0.0, freq_mask=0.0)


def _accuracy(est, shift):
    X, y = _bright(32, seed=0, shift=shift)
    Xt, yt = _bright(16, seed=1, shift=shift)
    est = clone(est).fit(X, y)
    return np.mean(est.predict(Xt) == yt)


@pytest.mark.parametrize("Est", [FrameTagger, FrameClassifier])
def test_frame_alignment_is_exact(Est):
    aligned = _accuracy(Est(**TRAIN), 0)
    shifted = _accuracy(Est(**TRAIN), 1)
    assert aligned > 0.97  # chance (all zeros) is about 0.7
    assert shifted < 0.8 < aligned


def test_frame_tagger_multi_label_and_threshold():
    X, y = _bright(32)
    y3 = np.stack([y, 1 - y], axis=-1)
    est = FrameTagger(**TRAIN).fit(X, y3)
    p = est.predict_proba(X[:4])
    assert p.shape == (4, 24, 2)
    assert est.predict(X[:4]).shape == (4, 24, 2)
    assert np.mean(est.predict(X) == y3) > 0.95
    est.set_params(threshold=1.0)
    assert est.predict(X[:4]).sum() <= (p >= 1.0).sum()


def test_shapes_classes_and_4d_input():
    X, y = _bright(8)
    labels = np.where(y == 1, "on", "off")
    clf = FrameClassifier(**FAST).fit(X[:, None], labels)
    assert list(clf.classes_) == ["off", "on"]
    assert clf.predict_proba(X[:, None]).shape == (8, 24, 2)
    assert clf.predict(X[:, None]).shape == (8, 24)
    # frames may differ at predict, and predictions stay aligned with them
    assert clf.predict(X[:, None, :, :10]).shape == (8, 10)


@pytest.mark.parametrize("arch", ["dnn", "birnn", "c2-p2-c2-p2-d1"])
def test_time_varying_presets(arch):
    X, y = _bright(6, n_frames=11)
    est = FrameTagger(arch, channels=4, hidden=4, max_epochs=1, early_stopping=False,
                      device="cpu", random_state=0).fit(X, y)
    assert est.predict_proba(X).shape == (6, 11, 1)


def test_errors():
    X, y = _bright(6)
    with pytest.raises(ValueError, match="y has 23 frames but X has 24 frames"):
        FrameTagger(**FAST).fit(X, y[:, :23])
    with pytest.raises(ValueError, match="r2"):
        FrameTagger("c2-r2-d1", **FAST).fit(X, y)
    Xn = X.copy()
    Xn[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="(?i)nan"):
        FrameTagger(**FAST).fit(Xn, y)
    yn = y.astype(float)
    yn[0, 0] = np.nan
    with pytest.raises(ValueError):
        FrameClassifier(**FAST).fit(X, yn)
    with pytest.raises(ValueError, match="shape"):
        FrameTagger(**FAST).fit(X, y[:, :, None, None])
    with pytest.raises(ValueError, match="0 and 1"):
        FrameTagger(**FAST).fit(X, y * 2)
    with pytest.raises(ValueError, match="FrameTagger"):
        FrameClassifier(**FAST).fit(X, y[..., None])
    for est in (FrameClassifier(), FrameTagger()):
        with pytest.raises(NotFittedError):
            est.predict(X)


AUG = dict(TRAIN, crop_frames=0.5, mixup=0.2)


@pytest.mark.parametrize("Est", [FrameTagger, FrameClassifier])
def test_crops_and_mixup_train_on_aligned_frames(Est):
    est = Est(**AUG)
    aligned = _accuracy(est, 0)
    shifted = _accuracy(est, 1)
    assert aligned > 0.95  # chance (all zeros) is about 0.7
    assert shifted < 0.8 < aligned  # the cropped targets are the frames' own
    X, y = _bright(32)
    est = clone(est).fit(X, y)
    aug = est.net_.augmentation
    assert aug.frame_targets and aug.crop_frames == 0.5 and aug.mixup == 0.2
    assert aug.n_classes == (2 if Est is FrameClassifier else None)
    seen = []

    def spy(Xb, yb):
        out = aug(Xb, yb)
        seen.append((tuple(out[0].shape), tuple(out[1].shape)))
        return out

    est.net_.augmentation = spy
    # prediction: whole clips, no augmentation, one prediction per frame
    assert est.predict(X).shape == (32, 24) and seen == []
    est.net_.partial_fit(est._check_X(X, reset=False), est._encode_y(y))
    soft = (12, 2) if Est is FrameClassifier else (12, 1)  # (frames, classes/labels)
    assert seen and all(xs[-1] == 12 and ys[1:] == soft for xs, ys in seen)


@pytest.mark.parametrize("arch", ["dnn", "birnn", "c2-p2-c2-p2-d1"])
@pytest.mark.parametrize("Est", [FrameTagger, FrameClassifier])
def test_int_crops_shorter_than_the_context_train(Est, arch):
    X, y = _bright(6, n_frames=11)
    for crop in (4, 1):
        est = Est(arch, channels=4, hidden=4, max_epochs=1, early_stopping=False,
                  device="cpu", random_state=0, crop_frames=crop, mixup=0.2).fit(X, y)
        assert est.predict_proba(X).shape[:2] == (6, 11)


@pytest.mark.parametrize("Est", [FrameTagger, FrameClassifier])
@pytest.mark.parametrize("crop", [0.5, 3])
def test_single_frame_fit_with_crops_and_mixup(Est, crop):
    # 2-D X: one frame per clip, so the crop is a no-op; mixup still mixes the clips
    X, codes = _tabular()
    y = np.array(["bass", "drums", "voice"])[codes]
    est = Est(**dict(TRAIN, crop_frames=crop, mixup=0.2)).fit(X, y)
    assert est.predict_proba(X).shape == (90, 3)
    assert np.mean(est.predict(X) == y) > 0.85


@pytest.mark.parametrize("Est", [FrameTagger, FrameClassifier])
def test_augmented_fit_is_reproducible(Est):
    X, y = _bright(12)
    kw = dict(FAST, max_epochs=3, crop_frames=0.5, mixup=0.2, time_mask=2)
    a = Est(**kw).fit(X, y)
    b = Est(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = Est(**dict(kw, random_state=1)).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_frame_losses_take_soft_targets_and_keep_the_hard_numbers():
    import torch

    from skmir.nn.losses import BinaryCrossEntropy as _FrameBCE
    from skmir.nn.losses import CrossEntropy as _FrameCrossEntropy

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 5, 4, generator=gen)
    hard = torch.randint(0, 4, (3, 5), generator=gen)
    ce = _FrameCrossEntropy()
    expected = torch.nn.functional.cross_entropy(logits.reshape(-1, 4), hard.reshape(-1))
    torch.testing.assert_close(ce(logits, hard), expected)  # as before
    one_hot = torch.nn.functional.one_hot(hard, 4).float()
    torch.testing.assert_close(ce(logits, one_hot), expected)
    soft = 0.3 * one_hot + 0.7 * one_hot.flip(0)
    mixed = 0.3 * ce(logits, hard) + 0.7 * ce(logits, hard.flip(0))
    torch.testing.assert_close(ce(logits, soft), mixed)
    bce, t = _FrameBCE(), torch.rand(3, 5, 2, generator=gen)
    torch.testing.assert_close(
        bce(logits[..., :2], t),
        torch.nn.functional.binary_cross_entropy_with_logits(logits[..., :2], t))


def test_pickle_and_reproducibility():
    X, y = _bright(12)
    a = FrameTagger(**dict(FAST, max_epochs=3)).fit(X, y)
    b = FrameTagger(**dict(FAST, max_epochs=3)).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(a.predict_proba(X), c.predict_proba(X))


def test_onsets_on_make_music_far_above_baseline():
    mir_eval = pytest.importorskip("mir_eval")
    from sklearn.pipeline import make_pipeline

    from skmir import LogCompression, MelSpectrogram, SpectrogramScaler
    from skmir.datasets import make_music
    from skmir.frames import events_to_frames, pick_events

    sr, hop = 16000, 256
    bunch = make_music(task="mode", n_clips=24, duration=3, sr=sr, drums=False,
                       accompaniment=False, random_state=0)
    feat = make_pipeline(MelSpectrogram(sr=sr, n_fft=1024, hop_length=hop, n_mels=40),
                         LogCompression(), SpectrogramScaler())
    S = feat.fit_transform(bunch.data)
    n_frames = S.shape[-1]
    Y = np.stack([events_to_frames(a["onsets"], n_frames, sr, hop, width=1)
                  for a in bunch.annotations])
    est = FrameTagger("dnn", hidden=32, max_epochs=60, lr=3e-3, early_stopping=False,
                      batch_size=8, device="cpu", random_state=0).fit(S[:18], Y[:18])
    P = est.predict_proba(S[18:])[..., 0]
    f, f_grid = [], []
    for p, ann in zip(P, bunch.annotations[18:]):
        ref = np.asarray(ann["onsets"])
        found = np.asarray(pick_events(p, sr, hop, threshold=0.5))
        f.append(mir_eval.onset.f_measure(ref, found)[0])
        # trivial baseline: an onset on every quarter second
        f_grid.append(mir_eval.onset.f_measure(ref, np.arange(0, 3, 0.25))[0])
    assert np.mean(f) > 0.6
    assert np.mean(f) > np.mean(f_grid) + 0.3


def test_save_load_round_trip(tmp_path):
    X, y = _bright(8)
    clf = FrameClassifier(**FAST).fit(X, np.where(y == 1, "on", "off"))
    clf.save(tmp_path / "clf.skmir")
    back = FrameClassifier.load(tmp_path / "clf.skmir")
    np.testing.assert_array_equal(clf.predict_proba(X), back.predict_proba(X))
    np.testing.assert_array_equal(clf.predict(X), back.predict(X))


def _tabular(n_clips=90, n_features=6, seed=0):
    """2-D X (one frame per clip); the class is the largest of the first 3 features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_clips, n_features)).astype(np.float32)
    return X, X[:, :3].argmax(axis=1)


def test_tagger_1d_binary_labels():
    X, _ = _tabular()
    y = (X[:, 0] > X[:, 1]).astype(int)
    est = FrameTagger(**TRAIN).fit(X, y)
    assert est.y_type_ == "binary" and list(est.classes_) == [0, 1]
    assert est.n_outputs_ == 1  # one sigmoid, as OneVsRestClassifier for binary y
    p = est.predict_proba(X)
    assert p.shape == (90, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    pred = est.predict(X)
    assert pred.shape == (90,)
    np.testing.assert_array_equal(pred, (p[:, 1] >= 0.5).astype(int))
    assert np.mean(pred == y) > 0.9
    assert est.set_params(threshold=1.0).predict(X).sum() <= (p[:, 1] >= 1.0).sum()


def test_tagger_1d_multiclass_string_labels():
    X, codes = _tabular()
    names = np.array(["bass", "drums", "voice"])
    y = names[codes]
    est = FrameTagger(**TRAIN).fit(X, y)
    assert est.y_type_ == "multiclass" and list(est.classes_) == list(names)
    p = est.predict_proba(X)
    assert p.shape == (90, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    pred = est.predict(X)
    assert pred.shape == (90,) and pred.dtype == y.dtype
    np.testing.assert_array_equal(pred, names[p.argmax(axis=1)])
    assert np.mean(pred == y) > 0.9
    Xt, ct = _tabular(30, seed=1)
    assert np.mean(est.predict(Xt) == names[ct]) > 0.8
    # a column vector of labels (not 0/1 frame targets) warns and is read as 1-D
    with pytest.warns(DataConversionWarning, match="column-vector"):
        col = FrameTagger(**TRAIN).fit(X, y[:, None])
    np.testing.assert_array_equal(col.predict(X), pred)
    with pytest.raises(ValueError, match="1 class"):
        FrameTagger(**FAST).fit(X, np.full(90, "bass"))
    with pytest.raises(ValueError, match="Unknown label type"):
        FrameTagger(**FAST).fit(X, X[:, 0])


@pytest.mark.parametrize("Est", [FrameTagger, FrameClassifier])
def test_single_frame_fit_predicts_every_frame_of_a_spectrogram(Est):
    X, codes = _tabular()
    est = Est(**TRAIN).fit(X, np.array(["bass", "drums", "voice"])[codes])
    S = np.random.default_rng(2).normal(size=(4, 6, 7)).astype(np.float32)
    frames = S.transpose(0, 2, 1).reshape(-1, 6)  # the same frames as 2-D X
    assert est.predict_proba(S).shape == (4, 7, 3)
    np.testing.assert_allclose(est.predict_proba(S),
                               est.predict_proba(frames).reshape(4, 7, 3), atol=1e-5)
    np.testing.assert_array_equal(est.predict(S), est.predict(frames).reshape(4, 7))


@pytest.mark.parametrize("labels", [np.array([3, 7]), np.array(["bass", "drums", "voice"])])
def test_tagger_1d_labels_save_load(tmp_path, labels):
    X, codes = _tabular(40)
    y = labels[codes % len(labels)]
    est = FrameTagger(**FAST).fit(X, y)
    est.save(tmp_path / "tagger.skmir")
    back = FrameTagger.load(tmp_path / "tagger.skmir")
    assert back.y_type_ == est.y_type_
    assert back.classes_.dtype == est.classes_.dtype
    np.testing.assert_array_equal(back.classes_, labels)
    np.testing.assert_array_equal(est.predict_proba(X), back.predict_proba(X))
    np.testing.assert_array_equal(est.predict(X), back.predict(X))
    assert set(back.predict(X)) <= set(labels)
