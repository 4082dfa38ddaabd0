"""Audio and spectrograms that the tests synthesise, and audio folders they write."""

import os

import numpy as np
import soundfile as sf
import torch

# Each fit's torch threads are fixed for the whole run (commands run as subprocesses
# inherit it): by default skmir gives a fit the CPUs other processes leave idle, and
# torch's float sums depend on the thread count, so sklearn's checks that fit twice
# and compare (data_not_an_array, fit_idempotent, ...) failed whenever the machine's
# load changed between the two fits. test_evaluation.py tests that policy itself.
os.environ.setdefault("SKMIR_NUM_THREADS", str(torch.get_num_threads()))


def tone(freq, seconds, sr, harmonics=1, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    return (0.5 * y / np.abs(y).max() + 0.01 * rng.standard_normal(t.size)).astype(np.float32)



def write_mixed_lengths_folder(root, n_per_class=6, longest=15.0):
    """A user's folder in miniature: three classes of tones that overlap in pitch, files
    of 0.5 s to ``longest`` s (a scaled-down 1-60 s) in WAV, FLAC and OGG, mono and
    stereo, at 8-16 kHz. Each class has its lengths spread evenly, so that every
    training fold of a 3-fold split holds files longer than 10 s."""
    rng = np.random.default_rng(0)
    classes = {"low": (150, 400, 2), "mid": (300, 800, 4), "high": (600, 1600, 6)}
    for label, (low, high, harmonics) in classes.items():
        (root / label).mkdir(parents=True)
        for i, seconds in enumerate(rng.permutation(np.linspace(0.5, longest, n_per_class))):
            sr = (8000, 11025, 16000)[i % 3]
            y = tone(rng.uniform(low, high), seconds, sr, harmonics, seed=i)
            y = np.stack([y, 0.8 * y], axis=1) if i % 2 else y
            sf.write(root / label / f"{label}{i}.{('wav', 'flac', 'ogg')[i % 3]}", y, sr)


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


# Files of write_bad_corpus that no reader may accept, and the word its reason holds.
BAD_FILES = {
    "low/cut.wav": "truncated",  # a WAV cut to a third: decodes short with no error
    "high/cut.flac": "truncated",  # a FLAC cut in half: fails near the end
    "low/nan.wav": "NaN",  # a float WAV with NaN samples: its header is fine
    "high/empty.wav": "empty",  # 0 bytes
    "low/header-only.wav": "truncated",  # a WAV header announcing samples, no data
    "low/text.wav": "Format not recognised",  # text with an audio extension
    "high/loop.wav": "link",  # a symbolic link loop
}
# Read by the listing's cheap checks but not decodable: what compare's decoding finds
CORRUPT_INSIDE = {"high/corrupt-inside.flac": "flac decoder"}


def write_bad_corpus(root, n_per_class=4, sr=8000):
    """A root/<label>/<file> folder of good clips (two classes, one with a non-ASCII
    name) and the bad files of BAD_FILES and CORRUPT_INSIDE, plus a folder named
    x.wav; returns (good, bad) relative paths, each sorted."""
    import os

    rng = np.random.default_rng(2)
    good = []
    for label, (freq, harmonics) in {"low": (150, 1), "high": (2000, 8)}.items():
        (root / label).mkdir(parents=True)
        for i in range(n_per_class):
            name = f"{label}/{'ünïcødé-' if i == 0 else ''}{label}{i}.{'wav' if i % 2 else 'flac'}"
            sf.write(root / name, tone(freq * rng.uniform(0.9, 1.1), 0.5, sr, harmonics, i), sr)
            good.append(name)
    clip = tone(300, 0.5, sr)
    sf.write(root / "full.wav", clip, sr)
    data = (root / "full.wav").read_bytes()
    (root / "low/cut.wav").write_bytes(data[: len(data) // 3])
    (root / "low/header-only.wav").write_bytes(data[:44])
    (root / "full.wav").unlink()
    sf.write(root / "full.flac", np.tile(clip, 4), sr)
    data = (root / "full.flac").read_bytes()
    (root / "high/cut.flac").write_bytes(data[: len(data) // 2])
    inside = bytearray(data)  # a few flipped bytes a third of the way in
    inside[len(data) // 3: len(data) // 3 + 8] = bytes(b ^ 0xFF for b in
                                                       inside[len(data) // 3: len(data) // 3 + 8])
    (root / "high/corrupt-inside.flac").write_bytes(bytes(inside))
    (root / "full.flac").unlink()
    nan = clip.copy()
    nan[1000:1010] = np.nan
    sf.write(root / "low/nan.wav", nan, sr, subtype="FLOAT")
    (root / "high/empty.wav").write_bytes(b"")
    (root / "low/text.wav").write_text("not audio, whatever the extension says\n" * 20)
    os.symlink(root / "high/loop.wav", root / "high/loop.wav")
    (root / "high/x.wav").mkdir()  # a folder is not a file: not listed, never read
    return sorted(good), sorted([*BAD_FILES, *CORRUPT_INSIDE])
