"""Audio and spectrograms that the tests synthesise, and audio folders they write."""

import numpy as np
import soundfile as sf


def tone(freq, seconds, sr, harmonics=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    return (0.5 * y / np.abs(y).max() + 0.01 * rng.standard_normal(t.size)).astype(np.float32)



def write_dataset(root, n_per_class=8, sr=16000):
    """Two audibly distinct classes (low pure tones, bright high tones) plus junk."""
    rng = np.random.default_rng(1)
    for label, (low, high, harmonics) in {"low": (100, 200, 1), "high": (1500, 3000, 8)}.items():
        (root / label).mkdir(parents=True)
        for i in range(n_per_class):
            y = tone(rng.uniform(low, high), rng.uniform(0.6, 1.0), sr, harmonics, seed=i)
            ext = "wav" if i % 2 else "flac"
            sf.write(root / label / f"{label}{i}.{ext}", y, sr)
    (root / "low" / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    (root / "high" / "corrupt.flac").write_bytes(np.random.default_rng(0).bytes(3000))
    (root / "high" / "notes.txt").write_text("not audio")


def banded_clips(n_per_class=16, n_classes=3, n_bins=16, n_frames=24, seed=0):
    """Noise "spectrograms" where each class is louder in its own band of bins: easy
    for any architecture. Returns X (n_clips, n_bins, n_frames) float32 and y."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    X = rng.normal(size=(len(y), n_bins, n_frames)).astype(np.float32)
    band = n_bins // n_classes
    for c in range(n_classes):
        X[y == c, c * band:(c + 1) * band] += 1.5
    return X, y
