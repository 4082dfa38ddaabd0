"""The batched phase vocoder (skmir.nn.vocoder, issue 26 item 2): each clip of a
batch as the per-clip vocoder before batching (benchmarks/bench_augmentation.py keeps
it as the reference) and as librosa, and the waveform augmentation built on it."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
librosa = pytest.importorskip("librosa")

from skmir.nn.augmentation import FrameGrid, WaveformAugmentation  # noqa: E402
from skmir.nn.vocoder import (  # noqa: E402
    _fast_lengths,
    pitch_shift,
    shift,
    shift_batch,
    snap_to_fast_lengths,
    time_stretch,
    time_stretch_batch,
)

SR = 16000
_BENCH = Path(__file__).parents[1] / "benchmarks" / "bench_augmentation.py"
_spec = importlib.util.spec_from_file_location("bench_augmentation", _BENCH)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

# The old vocoder cast phases accumulated in float64 (up to ~1e5 rad) to float32,
# an error of up to ~1e-2 rad per bin; the batched one keeps them small. Measured
# max |batched - old| / peak: 2.4e-3 on noise, 4e-5 on tones (rates 0.67 to 1.5).
TOL_OLD = 5e-3
# Against librosa in float64 the batched vocoder (phases as unit phasors) is within
# 3e-6 of the peak on noise, with or without digital silence (the old one: up to 7e-4),
# within 7.6e-4 at the tail of a steady chord (the old one: 4.5e-4); a pitch shift
# within 8.6e-4 (FFT resampling).
TOL_LIBROSA = 2e-3


def signals(n_samples, seed=0):
    """Two noise clips and two decaying tones, (4, n_samples) float32."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(n_samples) / SR
    tone = torch.sin(2 * math.pi * 440 * t) * torch.exp(-2 * t)
    chord = tone + torch.sin(2 * math.pi * 660 * t + 1.0)
    return torch.stack([torch.randn(n_samples, generator=g),
                        torch.randn(n_samples, generator=g) * t, tone, chord])


def relative(got, ref):
    return float((got - ref).abs().max() / ref.abs().max())


RATES = [1.5, 0.67, 1.0, 1.1]
STEPS = [2.0, -2.0, 0.0, 0.7]


@pytest.mark.parametrize("n_samples", [SR, 2 * SR + 123, 1000])
def test_batched_stretch_equals_the_per_clip_vocoder(n_samples):
    X = signals(n_samples)
    y, lengths = time_stretch_batch(X, RATES)
    assert lengths == [round(n_samples / r) for r in RATES]
    assert y.shape == (4, max(lengths))
    for b, rate in enumerate(RATES):
        ref = reference.per_clip_time_stretch(X[b], rate)
        assert relative(y[b, :lengths[b]], ref) <= TOL_OLD
        assert torch.all(y[b, lengths[b]:] == 0)
        # a batch of one is the same computation
        assert torch.allclose(time_stretch(X[b], rate), y[b, :lengths[b]], atol=1e-5)
    assert torch.equal(y[2, :n_samples], X[2])  # rate 1: the clip itself


def test_batched_shift_equals_the_per_clip_vocoder_mono_and_multichannel():
    X = signals(SR + 77)
    ratios = [2.0 ** (-s / 12) for s in STEPS]
    rates = [1.0, 1.1, 0.9, 0.67]
    y, lengths = shift_batch(X, ratios, rates)
    for b in range(4):
        ref = reference.per_clip_shift(X[b], ratios[b], rates[b])
        assert lengths[b] == ref.shape[-1]
        assert relative(y[b, :lengths[b]], ref) <= TOL_OLD
        assert torch.allclose(shift(X[b], ratios[b], rates[b]), y[b, :lengths[b]],
                              atol=1e-5)
    stereo = torch.stack([X, X.flip(0)], dim=1)  # (4, 2, n)
    y2, lengths2 = shift_batch(stereo, ratios, rates)
    assert lengths2 == lengths and y2.shape == (4, 2, y.shape[-1])
    for b in range(4):
        ref = reference.per_clip_shift(stereo[b], ratios[b], rates[b])
        assert relative(y2[b, :, :lengths[b]], ref) <= TOL_OLD
        assert torch.allclose(y2[b, 0], y[b], atol=1e-5)


def test_batched_vocoder_equals_librosa():
    X = signals(SR).double()
    y, lengths = time_stretch_batch(X.float(), RATES)
    for b, rate in enumerate(RATES):
        ref = librosa.effects.time_stretch(X[b].numpy(), rate=rate)
        assert lengths[b] == len(ref)
        assert np.abs(y[b, :lengths[b]].numpy() - ref).max() <= TOL_LIBROSA * np.abs(ref).max()
    for b, steps in enumerate(STEPS):
        ref = librosa.effects.pitch_shift(X[b].numpy(), sr=SR, n_steps=steps, res_type="fft")
        got = pitch_shift(X[b].float(), steps).numpy()
        assert np.abs(got - ref).max() <= TOL_LIBROSA * np.abs(ref).max()


def test_batched_vocoder_equals_librosa_on_silence_and_on_rational_rates():
    # A bin of magnitude 0 has phase 0 (np.angle), so digital silence must not stop
    # the phase; the rates snap_to_fast_lengths returns are often ratios of small
    # integers (8/7), whose steps land on whole frames.
    X = signals(SR).double()
    X[:, :4000] = 0
    X[:, 9000:11000] = 0
    rates = [8 / 7, 4 / 3, 0.75, 0.9]
    y, lengths = time_stretch_batch(X.float(), rates)
    for b, rate in enumerate(rates):
        ref = librosa.effects.time_stretch(X[b].numpy(), rate=rate)
        assert lengths[b] == len(ref)
        assert np.abs(y[b, :lengths[b]].numpy() - ref).max() <= TOL_LIBROSA * np.abs(ref).max()
        if b < 2:  # noise: the vocoder is exact to float32
            assert np.abs(y[b, :lengths[b]].numpy() - ref).max() <= 1e-5 * np.abs(ref).max()
    assert torch.all(y[:, :1000] == 0)  # the silent start stays silent


def _factors_at_most_13(n):
    for p in (2, 3, 5, 7, 11, 13):
        while n % p == 0:
            n //= p
    return n == 1


def test_the_fast_lengths_are_every_length_without_a_prime_factor_above_13():
    assert _fast_lengths(16) == [n for n in range(1, 2 ** 16) if _factors_at_most_13(n)]


@pytest.mark.parametrize("n_samples", [1000, 3 * SR, 4 * SR, 4 * SR + 1, 10 * 22050])
def test_snap_to_fast_lengths(n_samples):
    g = torch.Generator().manual_seed(n_samples)
    steps = (4 * torch.rand(64, generator=g, dtype=torch.float64) - 2).tolist()
    ratios = [2.0 ** (-s / 12) for s in steps] + [1.0, 1.0, 2 ** (-1 / 12)]
    rates = torch.exp(0.2 * (2 * torch.rand(64, generator=g, dtype=torch.float64) - 1))
    rates = rates.tolist() + [1.1, 1.0, 1.0]
    snapped, snapped_rates = snap_to_fast_lengths(n_samples, ratios, rates)
    X = torch.zeros(len(ratios), n_samples)
    stretched = time_stretch_batch(X, [q * r for q, r in zip(snapped, snapped_rates)])[1]
    lengths = shift_batch(X, snapped, snapped_rates)[1]
    for q, r, q2, r2, m, n_out in zip(ratios, rates, snapped, snapped_rates, stretched,
                                      lengths, strict=True):
        if q == 1:  # no pitch shift, no resampling: nothing to snap
            assert (q2, r2) == (q, r)
            continue
        assert _factors_at_most_13(m) and _factors_at_most_13(n_out)
        assert n_out >= round(n_samples / r)  # slowed, never sped up
        assert n_out / m == pytest.approx(q2, rel=1e-12) and r2 == n_samples / n_out
        # the pitch moves by at most 18 cents (9 from 11,000 samples up), the tempo
        # by at most 2 %
        cents = abs(1200 * math.log2(q2 / q))
        assert cents <= (9 if n_samples >= 16000 else 18)
        assert r2 <= n_samples / round(n_samples / r) and r / r2 <= 1.021
        if r == 1 and _factors_at_most_13(n_samples):
            assert r2 == 1.0 and n_out == n_samples


def test_bad_rates():
    with pytest.raises(ValueError, match=r"time_stretch_batch: rates needs one rate > 0 "
                                         r"for each of the 2 clips; got \[1.0\]"):
        time_stretch_batch(torch.zeros(2, 100), [1.0])
    with pytest.raises(ValueError, match="time_stretch_batch: .* got \\[1.0, 0.0\\]"):
        time_stretch_batch(torch.zeros(2, 100), [1.0, 0.0])
    with pytest.raises(ValueError, match="shift_batch: ratios and rates need one value"):
        shift_batch(torch.zeros(2, 100), [1.0], [1.0, 1.0])


def _per_clip_augmentation(aug, X, y, length, total):
    """WaveformAugmentation's stretch and shift one clip at a time: the same draws."""
    B, _, n = X.shape
    hop, size = aug.grid.hop_length, aug.grid.crop_length(length)
    size = n if length == total else size
    t = math.log1p(aug.time_stretch)
    rates = torch.exp(aug._uniform(-t, t, B))
    steps = aug._uniform(-aug.pitch_shift, aug.pitch_shift, B)
    ratios, rates = snap_to_fast_lengths(n, [2.0 ** (-float(s) / 12) for s in steps],
                                         rates.tolist())
    clips, targets = [], []
    for i in range(B):
        rate = rates[i]
        x = shift(X[i], ratios[i], rate)
        n_i = x.shape[-1]
        last = max(min(aug.grid.n_frames(n_i) - length, (n_i - size) // hop), 0)
        start = int(torch.randint(0, last + 1, (1,), generator=aug.generator_))
        x = x[:, start * hop:start * hop + size]
        clips.append(torch.nn.functional.pad(x, (0, size - x.shape[-1])))
        src = torch.round((start + torch.arange(length)) * rate).long()
        targets.append(y[i, src.clamp(max=total - 1)])
    return torch.stack(clips), torch.stack(targets)


@pytest.mark.parametrize("channels", [None, 2])
def test_augmentation_keeps_the_draws_and_the_frame_targets(channels):
    grid = FrameGrid(512, centered=True)
    n = 3 * SR
    X = signals(n).repeat(2, 1)
    if channels:
        X = torch.stack([X, 0.5 * X], dim=1)
    total = grid.n_frames(n)
    y = torch.arange(total).repeat(8, 1)  # each frame's target is its index
    kw = dict(crop_frames=40, pitch_shift=2, time_stretch=0.2, frame_targets=True)
    got, y_got = WaveformAugmentation(grid, random_state=3, **kw)(X, y)
    again, y_again = WaveformAugmentation(grid, random_state=3, **kw)(X, y)
    assert torch.equal(got, again) and torch.equal(y_got, y_again)
    # The same draws as the per-clip loop: the same crops, the same targets.
    old = WaveformAugmentation(grid, random_state=3, **kw)
    X3 = X if channels else X[:, None]
    ref, y_ref = _per_clip_augmentation(old, X3, y, 40, total)
    assert torch.equal(y_got, y_ref)
    ref = ref if channels else ref[:, 0]
    for b in range(8):
        assert relative(got[b], ref[b]) <= 1e-5  # batched as one clip at a time
    assert y_got.shape == (8, 40) and got.shape[-1] == grid.crop_length(40)
    # the targets follow the stretch: frame j of a clip stretched by a maps to round(j a)
    assert (y_got[:, 1:] >= y_got[:, :-1]).all()
