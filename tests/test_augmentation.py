"""Offline waveform augmentation (augment) and on-line batch augmentation."""

import numpy as np
import pytest

from skmir.augmentation import augment
from skmir.io import Waveforms
from skmir.nn.augmentation import BatchAugmentation

SR = 8000


def _tones(n=3, n_samples=4000):
    t = np.arange(n_samples) / SR
    return np.stack([np.sin(2 * np.pi * (220 + 110 * i) * t) for i in range(n)]).astype(
        np.float32)


# --------------------------------------------------------------------- augment


def test_augment_returns_originals_then_copies_with_repeated_labels():
    X, y = _tones(), np.array(["a", "b", "c"])
    X_aug, y_aug, groups = augment(X, y, SR, time_stretch=(0.8, 1.25), pitch_shift=(2,),
                                   random_state=0, return_groups=True)
    assert X_aug.shape == (12, 4000) and X_aug.dtype == np.float32
    assert isinstance(X_aug, Waveforms) and X_aug.sr == SR
    np.testing.assert_array_equal(X_aug[:3], X)
    assert y_aug.tolist() == ["a", "b", "c"] * 4
    assert groups.tolist() == [0, 1, 2] * 4
    assert np.isfinite(X_aug).all()
    # the copies differ from the originals
    for k in range(1, 4):
        assert not np.allclose(X_aug[3 * k:3 * k + 3], X)


def test_pitch_shift_moves_the_pitch():
    X = _tones(1, 8000)
    X_aug, _ = augment(X, [0], SR, time_stretch=None, pitch_shift=(12,))
    spectrum = np.abs(np.fft.rfft(X_aug[1]))
    freqs = np.fft.rfftfreq(8000, 1 / SR)
    assert freqs[spectrum.argmax()] == pytest.approx(440, abs=5)  # one octave up


def test_stretch_shorter_is_zero_padded_longer_is_cropped():
    X = np.ones((1, 4000), dtype=np.float32) * _tones(1)
    X_aug, _ = augment(X, [0], SR, time_stretch=(2.0, 0.5), pitch_shift=None,
                       random_state=0)
    faster, slower = X_aug[1], X_aug[2]
    assert np.abs(faster[-1000:]).max() < 1e-3  # half as long, then zero padding
    assert np.abs(slower[-1000:]).max() > 0.1  # twice as long, cropped to 4000


def test_augment_is_reproducible_and_handles_multichannel_and_2d_labels():
    X = np.stack([_tones(2), _tones(2)[::-1]], axis=1)  # (2 clips, 2 channels, n)
    Y = np.array([[1, 0], [0, 1]])
    a, ya = augment(X, Y, SR, time_stretch=(0.7,), pitch_shift=(), random_state=1)
    b, _ = augment(X, Y, SR, time_stretch=(0.7,), pitch_shift=(), random_state=1)
    assert a.shape == (4, 2, 4000) and ya.shape == (4, 2)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(time_stretch=(0.0,)), r"time_stretch=\[0.0\] holds 0.0; allowed: rates > 0"),
        (dict(time_stretch=("fast",)), r"time_stretch must be a sequence of numbers"),
        (dict(pitch_shift=(np.nan,)), r"pitch_shift=.* holds nan; allowed: finite"),
    ],
)
def test_augment_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        augment(_tones(1), [0], SR, **kwargs)


def test_augment_input_errors():
    X = _tones(2)
    with pytest.raises(ValueError, match="sr = 16000: the waveforms were loaded at sr=8000"):
        augment(Waveforms(X, sr=SR), [0, 1], 16000)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        augment(X, [0], SR)
    X[1, 5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        augment(X, [0, 1], SR)
    with pytest.raises(ValueError, match="expected waveforms"):
        augment(np.zeros(10), [0], SR)
    with pytest.raises(ValueError, match="sr must be an int"):
        augment(_tones(1), [0], 0)


# ---------------------------------------------------------- BatchAugmentation

torch = pytest.importorskip("torch")


def _batch(B=4, F=6, T=10):
    X = torch.arange(B * F * T, dtype=torch.float32).reshape(B, 1, F, T)
    return X, torch.arange(B) % 3


def test_off_by_default():
    aug = BatchAugmentation()
    X, y = _batch()
    assert not aug.active
    X2, y2 = aug(X, y)
    assert torch.equal(X, X2) and torch.equal(y, y2)


def test_random_crops_are_windows_of_each_clip():
    X, y = _batch()
    Xc, _ = BatchAugmentation(crop_frames=4, random_state=0)(X, y)
    assert Xc.shape == (4, 1, 6, 4)
    for i in range(4):
        start = int(Xc[i, 0, 0, 0] - X[i, 0, 0, 0])
        assert torch.equal(Xc[i], X[i, ..., start:start + 4])
    assert BatchAugmentation(crop_frames=0.5)(X, y)[0].shape[-1] == 5
    assert BatchAugmentation(crop_frames=50)(X, y)[0].shape[-1] == 10  # never longer


def test_gain_adds_one_offset_per_clip():
    X, y = _batch()
    Xg, _ = BatchAugmentation(gain=1.0, random_state=0)(X, y)
    offset = (Xg - X).reshape(4, -1)
    assert torch.allclose(offset, offset[:, :1].expand_as(offset))
    assert offset.abs().max() <= 1.0 and offset.abs().max() > 0


def test_masks_set_bands_to_the_clip_mean():
    X, y = _batch(B=64)
    Xm, _ = BatchAugmentation(freq_mask=3, time_mask=0.3, random_state=0)(X, y)
    changed = Xm != X
    mean = X.mean(dim=(1, 2, 3), keepdim=True).expand_as(X)
    assert torch.equal(Xm[changed], mean[changed])
    assert changed.any()
    # a frequency band covers whole rows, a time band whole columns
    freq_rows = changed.all(dim=3)
    assert freq_rows.sum(dim=(1, 2)).max() <= 3
    time_cols = changed.all(dim=2)
    assert time_cols.sum(dim=(1, 2)).max() <= 3


def test_mixup_gives_soft_targets():
    X, y = _batch()
    Xm, ym = BatchAugmentation(mixup=0.4, n_classes=3, random_state=0)(X, y)
    assert ym.shape == (4, 3) and torch.allclose(ym.sum(dim=1), torch.ones(4))
    assert (ym >= 0).all() and Xm.shape == X.shape
    # multi-label indicators stay in [0, 1]
    _, yt = BatchAugmentation(mixup=0.4, random_state=0)(X, torch.eye(4)[:, :2])
    assert yt.shape == (4, 2) and ((yt >= 0) & (yt <= 1)).all()


def test_seeded_augmentation_is_reproducible():
    X, y = _batch()
    kw = dict(crop_frames=5, gain=0.5, freq_mask=2, time_mask=2, mixup=0.2, n_classes=3)
    a = BatchAugmentation(**kw, random_state=3)(X, y)
    b = BatchAugmentation(**kw, random_state=3)(X, y)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_estimators_augment_training_batches_only():
    from skmir.neural import NeuralClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 8, 12)).astype(np.float32)
    y = np.repeat([0, 1], 12)
    clf = NeuralClassifier("c1-d1", channels=4, crop_frames=6, mixup=0.2, max_epochs=2,
                           early_stopping=False, random_state=0).fit(X, y)
    calls = []
    original = clf.net_.augmentation

    def spy(Xb, yb):
        out = original(Xb, yb)
        calls.append(out[0].shape)
        return out

    clf.net_.augmentation = spy
    proba = clf.predict_proba(X)  # whole clips, no augmentation
    assert calls == [] and proba.shape == (24, 2)
    np.testing.assert_array_equal(proba, clf.predict_proba(X))
    clf.net_.partial_fit(clf._check_X(X, reset=False), y)
    assert calls and all(shape[-1] == 6 for shape in calls)  # training batches are crops


# ------------------------------------------------------------ frame targets


def _frame_batch(B=5, n_bins=3, T=12):
    """X and y whose values are the clip (hundreds) and the frame (units)."""
    code = 100 * torch.arange(B)[:, None] + torch.arange(T)  # (B, T)
    X = code[:, None, None, :].expand(B, 1, n_bins, T).float()
    return X, code


@pytest.mark.parametrize("crop", [5, 0.5, 1])
def test_frame_crops_cut_the_same_frames_from_x_and_y(crop):
    X, y = _frame_batch()
    aug = BatchAugmentation(crop_frames=crop, frame_targets=True, random_state=0)
    Xc, yc = aug(X, y)
    length = Xc.shape[-1]
    assert length == (6 if crop == 0.5 else crop) and yc.shape == (5, length)
    assert yc.dtype == y.dtype
    torch.testing.assert_close(Xc[:, 0, 0, :], yc.float())  # frame for frame
    for i in range(5):  # a window of clip i, not of another clip
        start = int(yc[i, 0]) - 100 * i
        assert torch.equal(yc[i], y[i, start:start + length])
    # starts vary across the batch
    assert len({int(yc[i, 0]) % 100 for i in range(5)}) > 1
    # multi-label frame targets (batch, frames, labels): every label follows
    y3 = torch.stack([y, -y], dim=-1)
    _, y3c = BatchAugmentation(crop_frames=crop, frame_targets=True, random_state=0)(X, y3)
    assert torch.equal(y3c, torch.stack([yc, -yc], dim=-1))


def test_frame_crop_of_a_single_frame_is_a_no_op():
    X, y = _frame_batch(T=1)
    for crop in (0.5, 4):
        Xc, yc = BatchAugmentation(crop_frames=crop, frame_targets=True)(X, y[..., None])
        assert torch.equal(Xc, X) and torch.equal(yc, y[..., None])


def test_frame_mixup_mixes_targets_with_the_weights_of_x():
    B, C, T = 6, 6, 7
    # X: clip b is the one-hot vector of b in every frame, so mixed X reads out the
    # pair and the weight; y: frame t of clip b has class (b + t) % C
    X = torch.eye(B)[:, None, :, None].expand(B, 1, B, T).contiguous()
    y = (torch.arange(B)[:, None] + torch.arange(T)) % C
    aug = BatchAugmentation(mixup=0.4, n_classes=C, frame_targets=True, random_state=1)
    Xm, ym = aug(X, y)
    assert ym.shape == (B, T, C) and ym.dtype == torch.float32
    torch.testing.assert_close(ym.sum(dim=-1), torch.ones(B, T))
    assert (ym >= 0).all()
    for t in range(T):
        # class (k + t) % C of frame t carries the weight X gives clip k
        torch.testing.assert_close(torch.roll(ym[:, t], -t, dims=1), Xm[:, 0, :, t])
    assert ((Xm > 0) & (Xm < 1)).any()  # something was mixed
    # 0/1 label targets (batch, frames, labels) are mixed the same way
    y3 = torch.stack([y % 2, 1 - y % 2], dim=-1).float()
    aug = BatchAugmentation(mixup=0.4, frame_targets=True, random_state=1)
    Xm3, ym3 = aug(X, y3)
    torch.testing.assert_close(Xm3, Xm)
    lam = Xm.diagonal(dim1=0, dim2=2)[0, 0]  # weight of each clip itself, frame 0
    perm = Xm[:, 0, :, 0].clone()
    perm[torch.arange(B), torch.arange(B)] -= lam
    partner = torch.where(perm.sum(1) > 0, perm.argmax(1), torch.arange(B))
    torch.testing.assert_close(ym3, lam[:, None, None] * y3
                               + (1 - lam[:, None, None]) * y3[partner])


def test_frame_crop_and_mixup_together_stay_aligned_and_reproducible():
    X, y = _frame_batch(B=8, T=16)
    kw = dict(crop_frames=0.5, gain=0.5, freq_mask=1, time_mask=2, mixup=0.3,
              n_classes=1600, frame_targets=True)
    a = BatchAugmentation(**kw, random_state=3)(X, y)
    b = BatchAugmentation(**kw, random_state=3)(X, y)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    Xc, yc = BatchAugmentation(crop_frames=0.5, mixup=0.3, n_classes=1600,
                               frame_targets=True, random_state=3)(X, y)
    # the expected class of each frame, under the soft targets, is its mixed X value
    codes = torch.arange(1600, dtype=torch.float32)
    torch.testing.assert_close((yc * codes).sum(-1), Xc[:, 0, 0, :])


def test_frame_targets_must_match_the_frames_of_x():
    X, y = _frame_batch()
    with pytest.raises(ValueError, match="aligned"):
        BatchAugmentation(crop_frames=4, frame_targets=True)(X, y[:, :-1])
    with pytest.raises(ValueError, match="aligned"):
        BatchAugmentation(crop_frames=4, frame_targets=True)(X, y[:, 0])
