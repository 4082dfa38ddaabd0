"""Property-based tests (hypothesis) of the signal side: for any input a correct result
or a ValueError that names the estimator, never another exception or a NaN from
finite input. A fixed number of derandomised examples keeps the file fast and the
same on every run."""

import csv
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from skmir import (
    CQT,
    MFCC,
    STFT,
    AudioLoader,
    LogCompression,
    MelSpectrogram,
    SpectrogramScaler,
    load_manifest,
)
from skmir.frames import events_to_frames, frames_to_segments, pick_events, segments_to_frames

SR, HOP = 8000, 128
FAST = settings(max_examples=25, deadline=None, derandomize=True)


@st.composite
def waveforms(draw):
    """(n_clips, n_samples) arrays of int16, float32 or float64 PCM, from silence to
    full scale (and beyond for float), of any length from 0 to 3000 samples."""
    n_clips = draw(st.integers(1, 3))
    n_samples = draw(st.sampled_from([0, 1, 100, 511, 512, 513, 1000, 3000]))
    dtype = draw(st.sampled_from(["int16", "float32", "float64"]))
    level = draw(st.sampled_from([0.0, 1e-6, 0.5, 1.0] + ([100.0] if dtype != "int16" else [])))
    kind = draw(st.sampled_from(["noise", "sine", "square", "impulse"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    t = np.arange(n_samples) / SR
    base = {"noise": lambda: rng.uniform(-1, 1, (n_clips, n_samples)),
            "sine": lambda: np.sin(2 * np.pi * rng.uniform(50, 3900, (n_clips, 1)) * t),
            "square": lambda: np.sign(np.sin(2 * np.pi * 440 * t)) * np.ones((n_clips, 1)),
            "impulse": lambda: np.eye(n_clips, n_samples)}[kind]()
    x = level * base
    if dtype == "int16":
        return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)
    return x.astype(dtype)


def _stft_frames(n):
    return 1 + n // HOP  # centred frames


def _cqt_frames(n):
    # librosa's CQT rounds up in its downsampled octaves: its own count
    import librosa

    return librosa.cqt(np.zeros(n), sr=SR, hop_length=HOP, n_bins=24).shape[-1]


# name: (make, bins, shortest clip accepted (n_fft or the longest filter), frames)
REPRESENTATIONS = {
    "STFT": (lambda: STFT(n_fft=512, hop_length=HOP), 257, 512, _stft_frames),
    "MelSpectrogram": (lambda: MelSpectrogram(sr=SR, n_fft=512, hop_length=HOP, n_mels=16),
                       16, 512, _stft_frames),
    "MFCC": (lambda: MFCC(sr=SR, n_fft=512, hop_length=HOP, n_mels=16, n_mfcc=8), 8, 512,
             _stft_frames),
    "CQT": (lambda: CQT(sr=SR, hop_length=HOP, n_bins=24), 24, 128, _cqt_frames),
}


@pytest.mark.parametrize("name", REPRESENTATIONS)
@settings(max_examples=20, deadline=None, derandomize=True)
@given(X=waveforms())
def test_representations_give_finite_float32_of_the_documented_shape_or_name_themselves(
        name, X):
    make, n_bins, shortest, n_frames = REPRESENTATIONS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa's tuning estimate warns on silence
        try:
            out = make().fit_transform(X)
        except ValueError as exc:
            assert str(exc).startswith(f"{name}:") or f"required by {name}" in str(exc), exc
            # the only inputs refused: clips shorter than the transform's window
            assert X.shape[1] < shortest, exc
            return
        expected = (X.shape[0], n_bins, n_frames(X.shape[1]))
    assert X.shape[1] >= shortest
    assert out.dtype == np.float32 and out.shape == expected
    assert np.isfinite(out).all()


@FAST
@given(X=waveforms(), duration=st.sampled_from([None, 0.01, 0.2]))
def test_audio_loader_scales_pcm_and_fixes_the_length(X, duration):
    try:
        out = AudioLoader(sr=SR, duration=duration).fit_transform(X)
    except ValueError as exc:
        assert X.shape[1] == 0 and "AudioLoader" in str(exc), exc
        return
    n = X.shape[1] if duration is None else int(round(duration * SR))
    assert out.shape == (X.shape[0], n) and out.dtype == np.float32 and out.sr == SR
    scale = 32768 if X.dtype == np.int16 else 1
    m = min(n, X.shape[1])
    np.testing.assert_array_equal(out[:, :m], (X[:, :m] / scale).astype(np.float32))
    assert not out[:, m:].any()


magnitudes = st.builds(
    lambda seed, shape, spread: np.random.default_rng(seed).lognormal(
        0, spread, shape).astype(np.float32) * (np.random.default_rng(seed).random(shape) > 0.2),
    st.integers(0, 2**16), st.tuples(st.integers(1, 3), st.integers(1, 6), st.integers(1, 20)),
    st.sampled_from([0.1, 1.0, 5.0]))


@FAST
@given(X=magnitudes, method=st.sampled_from(["log", "db"]),
       top_db=st.sampled_from([None, 20.0, 80.0]))
def test_log_compression_is_monotone_within_a_clip(X, method, top_db):
    Y = LogCompression(method=method, top_db=top_db).fit_transform(X)
    assert Y.shape == X.shape and np.isfinite(Y).all()
    for x, y in zip(X, Y):
        order = np.argsort(x, axis=None, kind="stable")
        assert np.all(np.diff(y.ravel()[order]) >= -1e-4 * (1 + np.abs(y).max()))


@FAST
@given(seed=st.integers(0, 2**16), n_clips=st.integers(1, 4), n_bins=st.integers(1, 6),
       n_frames=st.integers(2, 30), constant_bin=st.booleans())
def test_spectrogram_scaler_gives_each_bin_zero_mean_and_unit_std(
        seed, n_clips, n_bins, n_frames, constant_bin):
    rng = np.random.default_rng(seed)
    offset = rng.uniform(-50, 50, (1, n_bins, 1))
    scale = rng.uniform(0.01, 100, (1, n_bins, 1))
    X = (offset + scale * rng.standard_normal((n_clips, n_bins, n_frames))).astype(np.float32)
    if constant_bin:
        X[:, 0] = 3.0
    Z = SpectrogramScaler().fit_transform(X)
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    np.testing.assert_allclose(Z.mean(axis=(0, 2)), 0, atol=1e-3)
    std = Z.std(axis=(0, 2))
    if constant_bin:  # no variance to scale: left at 0 after centring
        assert std[0] == 0
        std = std[1:]
    np.testing.assert_allclose(std, 1, rtol=1e-3)


# Labels and groups as spreadsheets write them: any text but surrounding spaces
# (stripped, as the manifest reader strips cells), NUL and lone surrogates.
cells = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                min_size=1, max_size=12).filter(lambda s: s.strip() == s)


@FAST
@given(rows=st.lists(st.tuples(cells, cells), min_size=1, max_size=6))
def test_manifest_round_trips_any_label_and_group(rows):
    with tempfile.TemporaryDirectory() as root:
        root = Path(root)
        sf.write(root / "a clip, “quoted”.wav", np.zeros(800), 8000)
        with open(root / "m.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["path", "label", "group"])
            writer.writerows([["a clip, “quoted”.wav", label, group] for label, group in rows])
        paths, labels, groups = load_manifest(root / "m.csv")
    assert labels.tolist() == [label for label, _ in rows]
    assert groups.tolist() == [group for _, group in rows]
    assert all(p.endswith("a clip, “quoted”.wav") for p in paths)


@FAST
@given(gaps=st.lists(st.integers(2, 9), min_size=0, max_size=8), first=st.integers(0, 5),
       hop=st.sampled_from([64, 256, 512]), sr=st.sampled_from([8000, 22050]))
def test_events_round_trip_through_frame_targets(gaps, first, hop, sr):
    frames = first + np.cumsum([0, *gaps])
    times = frames * hop / sr
    target = events_to_frames(times, n_frames=int(frames[-1]) + 2, sr=sr, hop_length=hop)
    assert target.sum() == len(frames)
    np.testing.assert_allclose(pick_events(target, sr=sr, hop_length=hop), times)


@FAST
@given(labels=st.lists(st.sampled_from(["C:maj", "A:min", "N", "G:maj"]), min_size=1,
                       max_size=40),
       hop=st.sampled_from([64, 512]), sr=st.sampled_from([8000, 22050]))
def test_frame_labels_round_trip_through_segments(labels, hop, sr):
    intervals, segment_labels = frames_to_segments(labels, sr=sr, hop_length=hop)
    assert all(a != b for a, b in zip(segment_labels, segment_labels[1:]))
    back = segments_to_frames(intervals, segment_labels, len(labels), sr=sr, hop_length=hop)
    assert back.tolist() == labels


# ------------------------------------------------------------ architecture strings
TOKEN_ALPHABET = ["d1", "d2", "c1", "c2", "p1", "p2", "r1", "r2", "", "x3", "C2", "c2 "]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(tokens=st.lists(st.sampled_from(TOKEN_ALPHABET), min_size=0, max_size=7),
       output=st.sampled_from(["clip", "frame"]), n_bins=st.sampled_from([1, 3, 16]),
       n_frames=st.sampled_from([1, 2, 9]))
def test_any_architecture_string_builds_a_finite_network_or_names_the_problem(
        tokens, output, n_bins, n_frames):
    torch = pytest.importorskip("torch")
    from skmir.nn import ArchitectureNet, layout

    architecture = "-".join(tokens)
    try:
        layers = layout(architecture, output=output, channels=4, hidden=8)
    except ValueError as exc:
        assert f"architecture = {architecture!r}: " in str(exc)
        return
    # tokens are read case-insensitively, surrounding spaces ignored
    assert [layer.token for layer in layers if layer.token != "out"] == [
        t.strip().lower() for t in tokens]
    net = ArchitectureNet(layers, (1, n_bins), n_outputs=3, output=output).eval()
    with torch.no_grad():
        out = net(torch.randn(2, 1, n_bins, n_frames))
    # pooling never pools an axis into nothing: short inputs still give an output
    assert out.shape[0] == 2 and out.shape[-1] == 3
    if output == "frame":  # one decision per input frame
        assert out.shape[1] == n_frames
    assert torch.isfinite(out).all()
