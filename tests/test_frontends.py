"""Neural estimators that learn from waveforms: frontend=, on-device waveform
augmentation, learned front ends (issue #13, items 3-5)."""

import pickle
import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
librosa = pytest.importorskip("librosa")

from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skmir import (  # noqa: E402
    FrameClassifier,
    FrameTagger,
    LogCompression,
    MelSpectrogram,
    NeuralClassifier,
    NeuralRegressor,
    NeuralTagger,
    SpectrogramScaler,
)
from skmir.io import Waveforms  # noqa: E402
from skmir.nn.augmentation import FrameGrid, WaveformAugmentation  # noqa: E402
from skmir.nn.frontends import (  # noqa: E402
    FRONTENDS,
    Dieleman2014,
    LearnedMel,
    LogCQT,
    LogMel,
    SampleCNN,
)
from skmir.nn.vocoder import pitch_shift, time_stretch  # noqa: E402
from skmir.nn.waveform_net import WaveformNet  # noqa: E402

SR = 8000
TINY = dict(channels=8, hidden=16, lr=0.01, random_state=0, device="cpu")


def tones(n_per_class=12, seconds=0.5, seed=0):
    """Sine tones of three pitches (the known answer), random phase, level and noise."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n_per_class)
    f0 = np.array([220.0, 440.0, 880.0])[y] * rng.uniform(0.98, 1.02, len(y))
    t = np.arange(int(seconds * SR)) / SR
    level = rng.uniform(0.1, 0.5, (len(y), 1))
    X = level * np.sin(2 * np.pi * f0[:, None] * t + rng.uniform(0, 6.3, (len(y), 1)))
    X += 0.02 * rng.normal(size=X.shape)
    return Waveforms(X.astype(np.float32), sr=SR), y


X, Y = tones()
X_TEST, Y_TEST = tones(4, seed=1)


@pytest.fixture(scope="module")
def logmel_model():
    return NeuralClassifier("c1-p1-d1", frontend="logmel", max_epochs=12, **TINY).fit(X, Y)


# ------------------------------------------------------------------ learning


def test_logmel_frontend_learns_pitch_from_waveforms(logmel_model):
    clf = logmel_model
    assert clf.sr_ == SR  # the preset took the waveforms' rate
    assert clf.input_shape_ == (1, 96) and clf.n_audio_channels_ == 1
    assert clf.score(X_TEST, Y_TEST) >= 0.9
    proba = clf.predict_proba(X_TEST)
    assert proba.shape == (12, 3) and np.allclose(proba.sum(axis=1), 1)
    # any length predicts (global pooling), and the network stores no spectrogram
    assert clf.predict(X_TEST[:, :3000]).shape == (12,)


def test_frontend_inside_the_network_equals_the_sklearn_pipeline(logmel_model):
    pipe = make_pipeline(MelSpectrogram(sr=SR, n_mels=96), LogCompression(), SpectrogramScaler())
    expected = pipe.fit(X).transform(X_TEST)
    module = logmel_model.net_.module_.eval()
    with torch.no_grad():
        got = module.features(torch.from_numpy(np.asarray(X_TEST))).numpy()[:, 0]
    scaler = pipe[-1]
    np.testing.assert_allclose(logmel_model.frontend_mean_[0], scaler.mean_, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(logmel_model.frontend_scale_[0], scaler.scale_, rtol=1e-4)
    assert np.abs(got - expected).max() <= 1e-3 * np.abs(expected).max()


def test_a_fit_resolves_and_builds_its_front_end_once(monkeypatch):
    import skmir.neural.inputs
    from skmir.nn.frontends import Frontend

    calls = {"resolve": 0, "build": 0}
    resolve = skmir.neural.inputs.resolve_frontend

    def counting_resolve(*args, **kwargs):
        calls["resolve"] += 1
        spec = resolve(*args, **kwargs)
        build = spec.build

        def counting_build(n_channels):
            calls["build"] += 1
            return build(n_channels)

        monkeypatch.setattr(spec, "build", counting_build, raising=False)
        return spec

    monkeypatch.setattr(skmir.neural.inputs, "resolve_frontend", counting_resolve)
    assert issubclass(LogMel, Frontend)
    clf = NeuralClassifier("c1-d1", frontend="logmel", pitch_shift=2, max_epochs=2,
                           **TINY).fit(X[::3], Y[::3])
    assert calls == {"resolve": 1, "build": 1}
    clf.predict(X_TEST)  # prediction runs the fitted network: nothing is resolved again
    assert calls == {"resolve": 1, "build": 1}


def test_grid_search_reaches_the_frontends_parameters():
    est = NeuralClassifier("c1-d1", frontend=LogMel(sr=SR, n_mels=16), max_epochs=3,
                           early_stopping=False, **TINY)
    assert est.get_params()["frontend__n_mels"] == 16
    search = GridSearchCV(est, {"frontend__n_mels": [8, 24]}, cv=2).fit(X, Y)
    assert len(search.cv_results_["params"]) == 2
    best = search.best_params_["frontend__n_mels"]
    assert search.best_estimator_.input_shape_ == (1, best)
    assert est.frontend.n_mels == 16  # the search cloned, never set, the original
    # a preset name has no parameters to reach: say how to get them
    with pytest.raises(ValueError, match="frontend__n_mels sets a parameter .* instance"):
        NeuralClassifier(frontend="logmel").set_params(frontend__n_mels=8)


def test_logcqt_and_transformer_frontends():
    # six octaves from C1 fit below 4 kHz (the default's seven need sr >= 16 kHz)
    clf = NeuralClassifier("c1-d1", frontend=LogCQT(n_bins=72), max_epochs=8,
                           **TINY).fit(X, Y)
    assert clf.input_shape_ == (1, 72) and clf.score(X_TEST, Y_TEST) >= 0.9
    pipe = make_pipeline(MelSpectrogram(sr=SR, n_fft=512, hop_length=256, n_mels=20),
                         LogCompression(method="db"))
    est = NeuralClassifier("c1-d1", frontend=pipe, max_epochs=2, **TINY).fit(X, Y)
    assert est.input_shape_ == (1, 20)
    assert est.get_params()["frontend__melspectrogram__n_mels"] == 20


def test_frame_estimators_take_waveforms_with_aligned_targets():
    # a burst of noise at a known frame: the target of that frame is 1
    rng = np.random.default_rng(0)
    n, hop = 4096, 256
    Xf = 0.01 * rng.normal(size=(24, n)).astype(np.float32)
    frames = 1 + n // hop
    yf = np.zeros((24, frames), dtype=int)
    for i in range(24):
        j = rng.integers(2, frames - 2)
        Xf[i, j * hop - 64:j * hop + 64] += rng.normal(size=128)
        yf[i, j] = 1
    fe = LogMel(sr=SR, n_fft=512, hop_length=hop, n_mels=16)
    tagger = FrameTagger("c2-d1", frontend=fe, max_epochs=2, **TINY).fit(Xf, yf)
    assert tagger.predict_proba(Xf).shape == (24, frames, 1)
    assert tagger.predict(Xf).shape == (24, frames)
    with pytest.raises(ValueError, match=r"y has 10 frames but frontend=.* gives 17 frames"):
        FrameClassifier(frontend=fe, max_epochs=1, **TINY).fit(Xf, yf[:, :10])


# -------------------------------------------------------------- augmentation


def test_waveform_augmentation_is_seeded_and_new_every_batch():
    grid = FrameGrid(256, centered=True)
    kw = dict(crop_frames=0.5, gain_db=6, noise_snr=(10, 30), pitch_shift=1, time_stretch=0.1,
              mixup=0.2, n_classes=3)
    batch, y = torch.from_numpy(np.asarray(X[:8])), torch.from_numpy(Y[:8])
    a = WaveformAugmentation(grid, random_state=0, **kw)
    b = WaveformAugmentation(grid, random_state=0, **kw)
    first, y1 = a(batch, y)
    torch.manual_seed(1)  # the global RNG must not matter
    again, y2 = b(batch, y)
    assert torch.equal(first, again) and torch.equal(y1, y2)
    second, _ = a(batch, y)  # the next batch (or epoch) draws anew
    assert first.shape == second.shape == (8, grid.crop_length(8))
    assert not torch.equal(first, second)
    assert y1.shape == (8, 3) and torch.allclose(y1.sum(dim=1), torch.ones(8))
    other, _ = WaveformAugmentation(grid, random_state=1, **kw)(batch, y)
    assert not torch.equal(first, other)


def test_gain_and_noise_have_the_asked_for_levels():
    batch = torch.from_numpy(np.asarray(X[:8]))
    gained, _ = WaveformAugmentation(FrameGrid(256, centered=True), gain_db=6,
                                     random_state=0)(batch, None)
    db = 20 * torch.log10(gained.abs().amax(dim=1) / batch.abs().amax(dim=1))
    assert db.abs().max() <= 6 + 1e-4 and db.abs().max() > 1
    noisy, _ = WaveformAugmentation(FrameGrid(256, centered=True), noise_snr=20,
                                    random_state=0)(batch, None)
    snr = 10 * torch.log10(batch.pow(2).mean(dim=1) / (noisy - batch).pow(2).mean(dim=1))
    assert torch.allclose(snr, torch.full((8,), 20.0), atol=0.5)


def test_crops_and_stretches_keep_frame_targets_aligned():
    hop, n = 512, 40960
    grid = FrameGrid(hop, centered=True)
    total = grid.n_frames(n)
    # a tone burst centred on frame 40 of every clip, and its target (an onset)
    Xc = torch.zeros(8, n)
    burst = torch.hann_window(1024) * torch.sin(torch.arange(1024) * 0.3)
    Xc[:, 40 * hop - 512:40 * hop + 512] = burst
    yc = torch.zeros(8, total)
    yc[:, 40] = 1
    for stretch in (0.0, 0.25):
        aug = WaveformAugmentation(grid, crop_frames=50, time_stretch=stretch,
                                   frame_targets=True, random_state=0)
        out, y_out = aug(Xc, yc)
        assert y_out.shape == (8, 50) and grid.n_frames(out.shape[-1]) == 50
        seen = 0
        for x, target in zip(out, y_out, strict=True):
            # the burst's energy is centred on the frame whose target is 1
            energy = torch.nn.functional.pad(x.pow(2), (hop // 2, hop // 2))
            energy = energy.unfold(0, hop, hop)[:50].sum(dim=1)
            if target.sum() == 0:  # the burst was cropped away
                assert energy.max() < 0.1 * burst.pow(2).sum()
                continue
            seen += 1
            assert abs(int(energy.argmax()) - int(target.argmax())) <= 1
        assert seen >= 4


def test_frame_targets_refuse_a_stretch_that_leaves_too_few_frames():
    Xf, yf = Waveforms(np.asarray(X[:12]), sr=SR), np.zeros((12, 1 + X.shape[1] // 512), dtype=int)
    yf[:, ::2] = 1
    with pytest.raises(ValueError, match="frame targets cannot be padded"):
        FrameClassifier("c2-d1", frontend="logmel", time_stretch=0.2, **TINY).fit(Xf, yf)
    # crops leave room: allowed
    FrameClassifier("c2-d1", frontend="logmel", time_stretch=0.2, crop_frames=0.5,
                    max_epochs=1, **TINY).fit(Xf, yf)


def test_phase_vocoder_equals_librosa():
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    y = (np.sin(2 * np.pi * 440 * t) * np.exp(-2 * t) + 0.1 * rng.normal(size=SR))
    y = y.astype(np.float32)
    for rate in (0.8, 1.25):
        ref = librosa.effects.time_stretch(y, rate=rate)
        got = time_stretch(torch.from_numpy(y), rate).numpy()
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() <= 1e-2 * np.abs(ref).max()
    for steps in (2, -3):
        ref = librosa.effects.pitch_shift(y, sr=SR, n_steps=steps, res_type="fft")
        got = pitch_shift(torch.from_numpy(y), steps).numpy()
        assert np.abs(got - ref).max() <= 1e-2 * np.abs(ref).max()


def test_estimator_augmentation_reproducible_and_applied():
    kw = dict(frontend="logmel", pitch_shift=1, time_stretch=0.1, wave_gain=3,
              noise_snr=(20, 40), max_epochs=2, **TINY)
    a = NeuralClassifier("c1-d1", **kw).fit(X, Y)
    b = NeuralClassifier("c1-d1", **kw).fit(X, Y)
    np.testing.assert_array_equal(a.predict_proba(X_TEST), b.predict_proba(X_TEST))
    assert isinstance(a.net_.augmentation, WaveformAugmentation)
    assert a.net_.augmentation.pitch_shift == 1
    c = NeuralClassifier("c1-d1", **{**kw, "random_state": 1}).fit(X, Y)
    assert not np.array_equal(a.predict_proba(X_TEST), c.predict_proba(X_TEST))


# ----------------------------------------------------------- learned front ends


def test_learned_mel_starts_at_librosas_filters_and_trains():
    spec = LearnedMel(sr=SR, n_mels=32, n_fft=512, hop_length=256)
    net = WaveformNet(spec.build(1), NeuralClassifier("c1-d1")._layout(), (1, 32), n_outputs=3)
    layer = net.frontend.inner
    ref = librosa.filters.mel(sr=SR, n_fft=512, n_mels=32)
    np.testing.assert_allclose(layer.weight.detach().numpy(), ref, rtol=1e-6, atol=0)
    out = net(torch.from_numpy(np.asarray(X[:4])))
    torch.nn.functional.cross_entropy(out, torch.from_numpy(Y[:4])).backward()
    grad = layer.relative.grad
    assert grad is not None and grad[ref > 0].abs().sum() > 0
    # each filter learns on its own band only; outside it the weights stay zero
    assert (grad[ref == 0] == 0).all()
    # and in units of its initial peak, so every filter starts at a maximum of 1
    np.testing.assert_allclose(layer.relative.detach().amax(dim=1).numpy(), 1.0, rtol=1e-6)


def test_learned_mel_filters_move_and_keep_their_bands():
    clf = NeuralClassifier("c1-d1", frontend=LearnedMel(sr=SR, n_mels=16, n_fft=512),
                           max_epochs=3, **TINY).fit(X, Y)
    W = clf.net_.module_.frontend.inner.weight.detach().numpy()
    ref = librosa.filters.mel(sr=SR, n_fft=512, n_mels=16)
    assert not np.allclose(W, ref)
    assert (W[ref == 0] == 0).all()
    # An Adam step moves a weight by at most about lr, here in units of its filter's
    # peak: the narrow low filters are not rewritten by the first steps.
    steps = sum("train_loss" in b for epoch in clf.history_ for b in epoch["batches"])
    moved = (np.abs(W - ref) / ref.max(axis=1, keepdims=True)).max()
    assert 0 < moved <= 1.05 * steps * TINY["lr"]


@pytest.mark.parametrize("spec, hop", [(Dieleman2014(filters=8), 256),
                                       (SampleCNN(filters=8, n_blocks=3), 81)])
def test_raw_waveform_presets_shapes(spec, hop):
    module = spec.build(1)
    out = module(torch.randn(2, 1, 4000))
    assert out.shape == (2, 1, 8, 4000 // hop)
    assert spec.grid().hop_length == hop and spec.grid().n_frames(4000) == out.shape[-1]
    stereo = spec.build(2)(torch.randn(2, 2, 4000))
    assert stereo.shape == out.shape


def test_raw_waveform_preset_learns_above_chance():
    clf = NeuralClassifier("conv1d", frontend=Dieleman2014(filters=16, kernel_size=64),
                           max_epochs=15, **TINY).fit(X, Y)
    assert clf.input_shape_ == (1, 16)
    assert clf.sr_ == SR  # recorded from X.sr, and checked at predict
    assert clf.score(X_TEST, Y_TEST) > 0.6  # chance: 1/3
    np.testing.assert_array_equal(clf.frontend_mean_, 0)


def test_every_preset_builds_a_network():
    X16 = Waveforms(np.asarray(X[::6]), sr=16000)  # logcqt's seven octaves need 16 kHz
    for name in FRONTENDS:
        est = NeuralClassifier("c1-d1", frontend=name, max_epochs=1, early_stopping=False,
                               **TINY).fit(X16, Y[::6])
        assert est.predict(X16[:2]).shape == (2,)


# --------------------------------------------------------------------- errors


def test_clear_errors():
    with pytest.raises(ValueError, match=r"X must be waveforms .*frontend=None"):
        NeuralClassifier(frontend="logmel").fit(np.zeros((6, 1, 16, 20), np.float32), Y[:6])
    with pytest.raises(ValueError,
                       match="frontend = 'lgomel': is not a front end; allowed: .*'logmel'"):
        NeuralClassifier(frontend="lgomel").fit(X, Y)
    with pytest.raises(ValueError, match="sr = 16000: the waveforms were loaded at sr=8000"):
        NeuralClassifier(frontend=LogMel(sr=16000)).fit(X, Y)
    with pytest.raises(ValueError, match="pitch_shift=2 augments waveforms, which needs a "
                                         "frontend"):
        NeuralClassifier(pitch_shift=2).fit(np.zeros((6, 16, 20), np.float32), Y[:6])
    with pytest.raises(ValueError, match=re.escape("noise_snr = (30, 10)")):
        NeuralClassifier(frontend="logmel", noise_snr=(30, 10)).fit(X, Y)
    with pytest.raises(ValueError, match="cannot follow frontend"):
        NeuralClassifier("musicnn-msd", frontend="logmel").fit(X, Y)
    with pytest.raises(ValueError, match="cannot run on clips of 100 samples"):
        NeuralClassifier(frontend="dieleman2014").fit(np.zeros((6, 100), np.float32), Y[:6])


def test_predict_refuses_another_rate_and_other_channels(logmel_model):
    with pytest.raises(ValueError, match="sr = 8000: the waveforms were loaded at sr=16000"):
        logmel_model.predict(Waveforms(np.asarray(X_TEST), sr=16000))
    with pytest.raises(ValueError, match="2 audio channel"):
        logmel_model.predict(np.stack([X_TEST, X_TEST], axis=1))


# ------------------------------------------------ persistence, clone, pickle


def test_save_load_clone_pickle(logmel_model, tmp_path):
    expected = logmel_model.predict_proba(X_TEST)
    path = tmp_path / "model.pt"
    loaded = NeuralClassifier.load(logmel_model.save(path) and path)
    np.testing.assert_array_equal(loaded.predict_proba(X_TEST), expected)
    assert loaded.sr_ == SR and loaded.frontend == "logmel"
    again = pickle.loads(pickle.dumps(logmel_model))
    np.testing.assert_array_equal(again.predict_proba(X_TEST), expected)
    est = NeuralClassifier(frontend=LogMel(sr=SR, n_mels=8), max_epochs=1, **TINY)
    copy = clone(est)
    assert copy.frontend is not est.frontend and copy.frontend.n_mels == 8
    with pytest.raises(ValueError, match="cannot hold; save models whose frontend is a preset"):
        copy.fit(X, Y).save(tmp_path / "other.pt")


# ---------------------------------------------------------------- plot, docs


def test_plot_frontend_kernels(monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    from skmir.plot import plot_frontend_kernels

    clf = NeuralClassifier("conv1d", frontend=Dieleman2014(filters=8, kernel_size=64),
                           max_epochs=1, **TINY).fit(X, Y)
    fig = plot_frontend_kernels(clf)
    k, f = fig.axes[:2]
    assert (k.get_title(), f.get_title()) == ("First-layer kernels", "Frequency responses")
    assert k.get_xlabel() == "time (ms)" and f.get_xlabel() == "frequency (Hz)"
    assert len(k.lines) == 8
    mel = NeuralClassifier("c1-d1", frontend=LearnedMel(sr=SR, n_mels=16, n_fft=512),
                           max_epochs=1, **TINY).fit(X, Y)
    ax = plot_frontend_kernels(mel).axes[0]
    assert ax.get_title().startswith("Learned mel filters") and ax.get_xlabel()
    with pytest.raises(ValueError, match="learn nothing"):
        plot_frontend_kernels(NeuralClassifier("c1-d1", frontend=LogMel(sr=SR, n_mels=8),
                                               max_epochs=1, **TINY).fit(X, Y))
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("cls", [NeuralClassifier, NeuralTagger, NeuralRegressor,
                                 FrameClassifier, FrameTagger])
def test_new_parameters_documented(cls):
    doc = cls.__doc__.split("Parameters\n")[1].split("Attributes\n")[0]
    for name in ("frontend", "wave_gain", "noise_snr", "pitch_shift", "time_stretch"):
        assert re.search(rf"^    {name} :", doc, re.M), (cls.__name__, name)
