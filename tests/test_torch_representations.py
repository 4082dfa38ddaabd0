"""The torch representations (skmir.nn.representations) against librosa, and the
``backend="torch"`` of the sklearn transformers.

Values are compared relative to the maximum of librosa's result, on generated music
(skmir.datasets.make_music) and white noise, float32."""

import librosa
import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

import skmir
from skmir import NeuralClassifier
from skmir.datasets import make_music
from skmir.io import Waveforms
from skmir.nn import representations as R
from skmir.representations import base
from skmir.representations.base import EXECUTION, Representation, stft_stage, store

SR = 22050
TOL = 1e-4


@pytest.fixture(scope="module")
def clips():
    """Three clips of generated music and one of white noise, 1.5 s each."""
    X = make_music(task="genre", n_clips=3, duration=1.5, sr=SR, random_state=0,
                   return_X_y=True)[0]
    noise = 0.1 * np.random.default_rng(1).standard_normal((1, X.shape[1]))
    return np.concatenate([np.asarray(X), noise]).astype(np.float32)


def _rel(a, b):
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max() / np.abs(b).max())


def _torch(module, X):
    with torch.no_grad():
        return module(torch.from_numpy(X)).numpy()


TRANSFORMERS = [
    skmir.STFT(),
    skmir.STFT(n_fft=1024, hop_length=256, win_length=800, power=2.0, pad_mode="reflect"),
    skmir.STFT(n_fft=512, window="hamming", center=False),
    skmir.STFT(n_fft=512, hop_length=128, pad_mode="edge", power=0.5),
    skmir.MelSpectrogram(),
    skmir.MelSpectrogram(n_mels=40, fmin=50.0, fmax=8000.0, htk=True, norm=None),
    skmir.MelSpectrogram(n_mels=64, norm=2.0, power=1.0, n_fft=1024, hop_length=256),
    skmir.MFCC(),
    skmir.MFCC(n_mfcc=13, lifter=22, dct_type=3, dct_norm=None, htk=True, n_mels=64),
    skmir.MFCC(n_mfcc=30, dct_type=1, dct_norm=None, n_mels=40),
    skmir.CQT(),
    skmir.CQT(n_bins=48),  # early downsampling: soxr at ratio 1/8 before the octaves
    skmir.CQT(hop_length=256, n_bins=60, bins_per_octave=24, fmin=55.0, power=2.0,
              scale=False, tuning=0.2),
    skmir.Chromagram(tuning=0.0),
    skmir.Chromagram(tuning=0.0, n_octaves=5, fmin=65.0, norm=None, threshold=0.01),
    skmir.Chromagram(source="stft", tuning=0.0),
    skmir.Chromagram(source="stft", tuning=0.1, n_chroma=24, norm=2.0, n_fft=1024),
    # tuning=None: each clip's tuning estimated, as librosa does.
    skmir.Chromagram(),
    skmir.Chromagram(source="stft"),
    skmir.Chromagram(source="stft", n_chroma=24, n_fft=1024),
    skmir.CQT(tuning=None, n_bins=48),
]


@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
def test_module_equals_the_librosa_transformer(clips, transformer):
    ref = transformer.fit_transform(clips)
    module = R.from_transformer(transformer)
    out = _torch(module, clips)
    assert out.dtype == np.float32
    assert _rel(out, ref) < TOL
    assert out.shape[-2:] == (module.n_bins, module.n_frames(clips.shape[-1]))


def test_modules_equal_direct_librosa_calls(clips):
    y = clips[0]
    cases = [
        (R.STFT(skmir.STFT(n_fft=1024)), np.abs(librosa.stft(y, n_fft=1024, pad_mode="constant"))),
        (R.MelSpectrogram(skmir.MelSpectrogram(htk=True, norm=None)),
         librosa.feature.melspectrogram(y=y, sr=SR, htk=True, norm=None, pad_mode="constant")),
        (R.MelSpectrogram(skmir.MelSpectrogram()),
         librosa.feature.melspectrogram(y=y, sr=SR, pad_mode="constant")),
        (R.MFCC(skmir.MFCC(n_mfcc=13)),
         librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, pad_mode="constant")),
        (R.CQT(skmir.CQT()), np.abs(librosa.cqt(y, sr=SR))),
        (R.Chromagram(skmir.Chromagram(tuning=0.0)),
         librosa.feature.chroma_cqt(y=y, sr=SR, tuning=0.0)),
        (R.Chromagram(skmir.Chromagram(source="stft", tuning=0.0)),
         librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0, pad_mode="constant")),
    ]
    for module, ref in cases:
        assert _rel(_torch(module, y[None])[0], ref) < TOL, module


def test_log_compression_equals_librosa_and_skmir():
    rng = np.random.default_rng(0)
    S = rng.gamma(0.3, 1.0, (3, 2, 16, 20)).astype(np.float32) * 10.0 ** rng.uniform(
        -6, 2, (3, 1, 1, 1)).astype(np.float32)
    S[0, 0, :3] = 0.0  # silence reaches amin
    for params in [dict(), dict(eps=1e-3), dict(method="db"),
                   dict(method="db", power=1.0, ref=0.5, amin=1e-5, top_db=40.0),
                   dict(method="db", top_db=None, ref=2.0)]:
        sk = skmir.LogCompression(**params)
        ref = sk.fit_transform(S)
        out = _torch(R.from_transformer(sk), S)
        assert _rel(out, ref) < TOL, params
    # librosa itself, clip by clip (top_db from each clip's own peak)
    power = np.stack([librosa.power_to_db(s, ref=2.0, amin=1e-8, top_db=60.0) for s in S])
    amp = np.stack([librosa.amplitude_to_db(s, ref=0.5, amin=1e-5, top_db=50.0) for s in S])
    assert _rel(_torch(R.LogCompression(skmir.LogCompression("db", power=2.0, ref=2.0, amin=1e-8,
                                                         top_db=60.0)),
                       S), power) < TOL
    assert _rel(_torch(R.LogCompression(skmir.LogCompression("db", power=1.0, ref=0.5, amin=1e-5,
                                                         top_db=50.0)),
                       S), amp) < TOL


@pytest.mark.parametrize("factor", [2, 8])
def test_decimator_reproduces_soxr(factor):
    x = 0.1 * np.random.default_rng(factor).standard_normal(12345).astype(np.float32)
    ref = librosa.resample(x, orig_sr=factor, target_sr=1, res_type="soxr_hq", scale=True)
    assert _rel(R.decimate(torch.from_numpy(x), factor).numpy(), ref) < 1e-5


def test_channels_and_batch_shapes(clips):
    stereo = np.stack([clips[:2], clips[2:]], axis=1)  # (2 clips, 2 channels, n)
    for module in [R.STFT(skmir.STFT(n_fft=512)),
                   R.MelSpectrogram(skmir.MelSpectrogram(n_mels=32)),
                   R.MFCC(skmir.MFCC(n_mfcc=8)), R.CQT(skmir.CQT(n_bins=36)),
                   R.Chromagram(skmir.Chromagram(source="stft", tuning=0.0))]:
        out = _torch(module, stereo)
        assert out.shape == (2, 2, module.n_bins, module.n_frames(stereo.shape[-1]))
        mono = _torch(module, stereo[:, 1])
        if isinstance(module, R.MFCC):
            # dB clipping is measured from the clip's peak over both channels, as
            # librosa does for one multichannel clip.
            ref = librosa.feature.mfcc(y=stereo[0], sr=SR, n_mfcc=8, pad_mode="constant")
            assert _rel(out[0], ref) < TOL
        else:
            assert _rel(out[:, 1], mono) < 1e-6
    with pytest.raises(ValueError, match=r"\(batch, n_samples\)"):
        R.STFT(skmir.STFT())(torch.zeros(4096))
    with pytest.raises(ValueError, match="fewer than the 2048"):
        R.STFT(skmir.STFT(center=False))(torch.zeros(1, 1000))


@pytest.mark.parametrize("module", [
    R.STFT(skmir.STFT(n_fft=256)),
    R.MelSpectrogram(skmir.MelSpectrogram(n_fft=256, hop_length=64, n_mels=16)),
    R.MFCC(skmir.MFCC(n_fft=256, hop_length=64, n_mels=16, n_mfcc=5)),
    R.CQT(skmir.CQT(n_bins=24, fmin=220.0)),
    R.Chromagram(skmir.Chromagram(n_octaves=2, fmin=220.0, tuning=0.0)),
    R.Chromagram(skmir.Chromagram(source="stft", n_fft=256, tuning=0.0)),
    R.Chromagram(skmir.Chromagram(n_octaves=2, fmin=220.0)),  # tuning estimated
    R.Chromagram(skmir.Chromagram(source="stft", n_fft=256)),
    R.LogCompression(skmir.LogCompression()),
    R.LogCompression(skmir.LogCompression(method="db")),
], ids=lambda m: type(m).__name__)
def test_gradients_reach_the_waveform(module):
    torch.manual_seed(0)
    x = torch.randn(2, 2048, requires_grad=True)
    inp = torch.stft(x, 256, 64, window=torch.hann_window(256), return_complex=True).abs() \
        if isinstance(module, R.LogCompression) else x
    module(inp).square().sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_gradient_matches_finite_differences():
    module = R.MelSpectrogram(skmir.MelSpectrogram(n_fft=256, hop_length=64, n_mels=8))
    torch.manual_seed(0)
    x = torch.randn(1, 1024, dtype=torch.float32, requires_grad=True)
    direction = torch.randn_like(x)
    module(x).sum().backward()
    analytic = float((x.grad * direction).sum())
    eps = 1e-2
    with torch.no_grad():
        numeric = float((module(x + eps * direction).sum() - module(x - eps * direction).sum())
                        / (2 * eps))
    assert abs(analytic - numeric) < 1e-3 * abs(numeric)


def test_buffers_follow_the_module_and_autocast_keeps_float32(clips):
    module = R.CQT(skmir.CQT(n_bins=48)).to("cpu")
    assert {name for name, _ in module.named_buffers()} >= {"basis0", "inv_sqrt_length",
                                                            "decimator_taps"}
    assert all(b.device.type == "cpu" for b in module.buffers())
    mel = R.MelSpectrogram(skmir.MelSpectrogram())
    plain = _torch(mel, clips)
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        mixed = mel(torch.from_numpy(clips))
    assert mixed.dtype == torch.float32
    assert _rel(mixed.numpy(), plain) < 1e-6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_equals_cpu(clips):
    for module in [R.from_transformer(t) for t in (skmir.MelSpectrogram(), skmir.CQT(),
                                                   skmir.MFCC())]:
        cpu = _torch(module, clips)
        with torch.no_grad():
            gpu = module.to("cuda")(torch.from_numpy(clips).cuda()).cpu().numpy()
        assert _rel(gpu, cpu) < TOL


@pytest.mark.parametrize("transformer", [
    skmir.STFT(n_fft=512), skmir.MelSpectrogram(n_mels=40), skmir.MFCC(),
    skmir.CQT(n_bins=48), skmir.Chromagram(tuning=0.0, n_octaves=4, fmin=110.0),
    skmir.Chromagram(source="stft", tuning=0.0), skmir.Chromagram(source="stft"),
], ids=repr)
def test_torch_backend_gives_the_librosa_arrays(clips, transformer, monkeypatch):
    # Small batches, so that several are computed and stitched together.
    monkeypatch.setattr(base, "torch_block_samples", lambda t, d: clips.shape[1] * 2)
    ref = transformer.fit_transform(clips)
    fast = clone(transformer).set_params(backend="torch", device="cpu")
    out = fast.fit(clips).transform(clips)
    assert out.dtype == np.float32 and _rel(out, ref) < TOL
    stereo = np.stack([clips[:1], clips[1:2]], axis=1)
    assert fast.transform(stereo).shape == (1, 2, *ref.shape[1:])


def test_torch_backend_of_a_pipeline(clips):
    pipe = make_pipeline(skmir.MelSpectrogram(n_mels=32), skmir.LogCompression(method="db"))
    ref = pipe.fit_transform(clips)
    pipe.set_params(melspectrogram__backend="torch", logcompression__backend="torch")
    assert _rel(pipe.fit_transform(clips), ref) < TOL
    net = R.from_transformer(pipe)
    assert list(dict(net.named_children())) == ["melspectrogram", "logcompression"]
    assert net[0].n_mels == 32 and net[1].method == "db"
    assert _rel(_torch(net, clips), ref) < TOL
    assert [type(m) for m in R.from_transformer([skmir.STFT(), "passthrough"])] == [R.STFT]
    assert R.from_transformer(net) is net


def test_clone_and_get_params_keep_backend_and_device():
    est = skmir.CQT(n_bins=24, backend="torch", device="cpu")
    params = clone(est).get_params()
    assert params["backend"] == "torch" and params["device"] == "cpu"
    assert skmir.LogCompression().get_params()["backend"] == "librosa"
    assert "backend" not in repr(skmir.MFCC())  # defaults stay out of the repr


def test_mfcc_clip_does_not_depend_on_its_block():
    # librosa clips dB at top_db below the peak of the whole array it gets; skmir
    # measures it per clip, so a quiet clip keeps its MFCC next to loud ones.
    X = 0.1 * np.random.default_rng(0).standard_normal((3, 8192)).astype(np.float32)
    X[2] *= 1e-4
    alone = skmir.MFCC().fit_transform(X[2:])[0]
    assert _rel(skmir.MFCC().fit_transform(X)[2], alone) < 1e-6
    assert _rel(skmir.MFCC(backend="torch", device="cpu").fit_transform(X)[2], alone) < TOL


@pytest.mark.parametrize("transformer, match", [
    (skmir.STFT(backend="gpu"), "'backend' parameter of STFT"),
    (skmir.MelSpectrogram(backend="torch", device="gpu"), "device='gpu' is not a torch"),
    (skmir.CQT(backend="torch", res_type="fft"), "res_type='fft'"),
    (skmir.STFT(backend="torch", pad_mode="symmetric"), "pad_mode='symmetric'"),
    (skmir.LogCompression(backend="torch", device=3), "'device' parameter"),
], ids=lambda v: v if isinstance(v, str) else type(v).__name__)
def test_bad_backend_values_are_refused_clearly(clips, transformer, match):
    with pytest.raises(ValueError, match=match):
        transformer.fit(clips)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_is_refused():
    with pytest.raises(ValueError, match="CUDA is not available"):
        skmir.STFT(backend="torch", device="cuda").fit(np.zeros((1, 4096), np.float32))


def test_from_transformer_refuses_other_objects():
    with pytest.raises(ValueError, match="SpectrogramScaler has no torch module"):
        R.from_transformer(skmir.SpectrogramScaler())
    with pytest.raises(ValueError, match="n_fft"):
        R.STFT(skmir.STFT(n_fft=0))
    with pytest.raises(ValueError, match="bins_per_octave=30 must be a multiple"):
        R.Chromagram(skmir.Chromagram(bins_per_octave=30, n_chroma=12, n_octaves=2,
                                      tuning=0.0))


@pytest.mark.parametrize("transformer, block", [
    (skmir.STFT(n_fft=512), base.BLOCK_SAMPLES),
    (skmir.MelSpectrogram(n_mels=40), base.BLOCK_SAMPLES),
    (skmir.CQT(n_bins=48), base.CQT_BLOCK_SAMPLES),
    (skmir.Chromagram(source="stft", tuning=0.0), base.BLOCK_SAMPLES),
], ids=repr)
def test_torch_backend_on_the_cpu_takes_the_librosa_blocks(clips, transformer, block,
                                                           monkeypatch):
    # Cache-sized blocks on the CPU (the STFT's temporaries of a 2**22-sample block
    # spill out of cache); on a GPU, the larger batches that bound device memory.
    seen = []
    real = R.transform_array

    def spy(module, X, *, device, block_samples):
        seen.append(block_samples)
        return real(module, X, device=device, block_samples=block_samples)

    monkeypatch.setattr(R, "transform_array", spy)
    transformer.set_params(backend="torch", device="cpu").fit(clips).transform(clips)
    assert seen == [block]
    assert base.torch_block_samples(transformer, "cuda") == base.TORCH_BLOCK_SAMPLES


# ------------------------------------------- a new representation is one class


class LinearBands(Representation):
    """Power spectrum summed into ``n_bands`` equal-width frequency bands."""

    _parameter_constraints = {"sr": [int], "n_fft": [int], "hop_length": [int],
                              "n_bands": [int], **EXECUTION}

    def __init__(self, sr=22050, n_fft=1024, hop_length=256, n_bands=32, n_jobs=None,
                 backend="librosa", device="auto"):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_bands = n_bands
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device

    def _bands(self):
        edges = np.linspace(0, 1 + self.n_fft // 2, self.n_bands + 1).astype(int)
        bins = np.arange(1 + self.n_fft // 2)
        return ((bins >= edges[:-1, None]) & (bins < edges[1:, None])).astype(np.float32)

    def _compute(self, X, out=None):
        S = np.abs(librosa.stft(X, n_fft=self.n_fft, hop_length=self.hop_length)) ** 2
        return store(np.einsum("bf,...ft->...bt", self._bands(), S), out)

    def torch_stages(self):
        return [stft_stage(self.n_fft, self.hop_length, None, "hann", True, "constant"),
                ("magnitude", {"power": 2.0}), ("matmul", {"matrix": self._bands()})]


def test_a_new_representation_is_one_class(clips):
    rep = LinearBands(n_bands=24)
    ref = rep.fit_transform(clips)
    assert ref.shape[1] == 24
    out = clone(rep).set_params(backend="torch", device="cpu").fit_transform(clips)
    assert _rel(out, ref) < TOL
    module = R.from_transformer(rep)
    assert type(module) is R.Stages and module.n_bins == 24
    assert module.n_frames(clips.shape[-1]) == ref.shape[-1]
    assert _rel(_torch(module, clips), ref) < TOL
    # ... and a neural estimator computes it per batch as its front end.
    X = Waveforms(clips[:, :8192], sr=SR)
    clf = NeuralClassifier("c1-d1", frontend=LinearBands(n_fft=512, hop_length=256,
                                                         n_bands=16),
                           channels=4, hidden=8, max_epochs=1, device="cpu", random_state=0)
    assert clf.fit(X, [0, 1, 0, 1]).predict(X).shape == (4,)
    assert clf.input_shape_ == (1, 16)


def test_state_dicts_of_the_nested_modules_still_load():
    # Before the stages, MFCC nested its mel-spectrogram and that its STFT.
    module = R.MFCC(skmir.MFCC(n_mels=32, n_fft=512))
    state = module.state_dict()
    old = {"mel.stft.fft_window": state["fft_window"], "mel.mel_basis": state["mel_basis"],
           "dct_matrix": state["dct_matrix"]}
    module.load_state_dict(old)
    assert set(state) == {"fft_window", "mel_basis", "dct_matrix"}


def test_transform_array_gives_the_module_values_exactly(clips):
    # The batches are copied into the output as they are: no value changes.
    for transformer in (skmir.STFT(n_fft=512), skmir.MelSpectrogram(n_mels=40)):
        module = R.from_transformer(transformer)
        for X in (clips, np.stack([clips[:2], clips[2:]], axis=1)):
            out = R.transform_array(module, X, device="cpu", block_samples=clips.shape[1])
            assert np.array_equal(out, _torch(module, X))
            assert out.flags["C_CONTIGUOUS"]


def _detuned_tones(n_clips=6, seconds=1.0, seed=0):
    """Two-note tones whose tuning is a known fraction of a semitone."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    rows = []
    for k, detune in enumerate(rng.uniform(-0.5, 0.5, n_clips)):
        f0 = 440.0 * 2 ** ((detune + k) / 12)
        rows.append(np.sin(2 * np.pi * f0 * t) + 0.5 * np.sin(2 * np.pi * 1.5 * f0 * t))
    return np.asarray(rows, dtype=np.float32)


def test_tuning_estimates_equal_librosa(clips):
    # Measured: the same histogram bin as librosa's estimate_tuning on every clip
    # (music, noise, detuned tones); one bin (resolution 0.01) is allowed, as the
    # STFTs differ in their last float32 bits.
    from skmir.nn.representations.tuning import (
        estimate_tuning,
        estimate_tuning_of_waveforms,
        piptrack,
    )

    window = torch.from_numpy(librosa.filters.get_window("hann", 2048, fftbins=True))
    for X in (clips, _detuned_tones()):
        S = np.abs(librosa.stft(X)) ** 2  # chroma_stft: the power STFT, n_chroma bins
        ref = [librosa.estimate_tuning(S=s, sr=SR, bins_per_octave=12) for s in S]
        D = torch.stft(torch.from_numpy(X), 2048, 512, window=window.float(),
                       pad_mode="constant", return_complex=True)
        assert np.allclose(estimate_tuning(D.abs() ** 2, SR, 12), ref, atol=0.0101)
        assert np.array_equal(estimate_tuning(torch.from_numpy(S), SR, 12), ref)
        pitches, mags = librosa.piptrack(S=S, sr=SR)
        got = piptrack(torch.from_numpy(S), SR, 2048)
        assert np.array_equal(got[0].numpy(), pitches) and np.array_equal(got[1].numpy(), mags)
        # chroma_cqt: from the waveform, at the CQT's bins_per_octave
        ref = [librosa.estimate_tuning(y=y, sr=SR, bins_per_octave=36) for y in X]
        got = estimate_tuning_of_waveforms(torch.from_numpy(X), SR, 36)
        assert np.allclose(got, ref, atol=0.0101)


def test_chroma_with_estimated_tuning_equals_librosa():
    X = _detuned_tones(n_clips=4)
    silent = np.zeros((1, X.shape[1]), np.float32)  # no pitch: tuning 0, as librosa's
    with pytest.warns(UserWarning, match="empty frequency set"):
        ref = skmir.Chromagram(source="stft").fit_transform(silent)
    fast = skmir.Chromagram(source="stft", backend="torch", device="cpu")
    assert np.array_equal(fast.fit_transform(silent), ref)
    # stereo: a clip's channels share one estimate, as librosa's on (channels, samples)
    stereo = np.stack([X[:2], X[2:]], axis=1)
    for transformer in (skmir.Chromagram(source="stft"), skmir.Chromagram(n_octaves=5)):
        fast = clone(transformer).set_params(backend="torch", device="cpu")
        assert _rel(fast.fit_transform(X), transformer.fit_transform(X)) < TOL
        assert _rel(fast.transform(stereo), transformer.transform(stereo)) < TOL
    y = X[1]
    module = R.Chromagram(skmir.Chromagram(source="stft"))
    ref = librosa.feature.chroma_stft(y=y, sr=SR, pad_mode="constant")
    assert _rel(_torch(module, y[None])[0], ref) < TOL
