"""Reference outputs of BeatNet 1.1.3's network and front end, for skmir's parity tests
of beatnet-1.

A one-off tool, never run by CI. BeatNet itself cannot be installed on current Python
(it needs madmom, whose build fails on 3.10 and later), so this script takes its two
parts from where they can run:

- the front end: BeatNet's ``LOG_SPECT`` (``BeatNet/log_spect.py``) as ``BeatNet.py``
  builds it (22.05 kHz, ``win_length = int(64e-3 * 22050) = 1411``, ``hop_size =
  int(20e-3 * 22050) = 441``, ``n_bands=[24]``, mode "online"/"offline"), processor
  for processor, from madmom-infer 0.2.0 (BSD-2), which reimplements madmom's;
- the network: the original ``BDA`` class, loaded from the unpacked wheel's
  ``BeatNet/model.py`` by path (it imports torch and numpy only), with
  ``models/model_1_weights.pt`` loaded as ``BeatNet.py`` loads it, run as
  ``BeatNet.activation_extractor_online`` runs it (one clip of ``(1, frames, 272)``;
  ``final_pred``: softmax over the three outputs); a fresh LSTM state per clip.

The script imports nothing of skmir, so it runs in its own venv::

    python3 -m venv /work/ref-beatnet
    /work/ref-beatnet/bin/pip install torch==2.13.0 numpy scipy \\
        madmom_infer-0.2.0-py3-none-any.whl
    unzip BeatNet-1.1.3-py3-none-any.whl -d /tmp/bn/beatnet
    /work/ref-beatnet/bin/python skmir/pretrained/beatnet_reference.py \\
        --beatnet-dir /tmp/bn/beatnet tests/data/beatnet

It makes three 22.05 kHz clips of 1.5 s (plus 2 samples, so the length is no multiple
of the hop) with a fixed seed: a drum pattern at 120 BPM (kick on the bar's first
beat, snare, hi-hat), a sequence of decaying harmonic tones every 0.5 s, and white
noise after 0.5 s of silence; stores them as 16-bit PCM; the float input of both sides
is ``pcm / 32768`` (float32, as ``librosa.load`` gives BeatNet), and writes
``beatnet-1.npz`` (float32 unless said):

- ``pcm``: int16 ``(3, 33077)``; ``index``: the frames kept of the large arrays;
- ``features``: ``LOG_SPECT.process_audio(audio).T`` at ``index``, ``(3, k, 272)``;
  ``features_abssum``: every frame's sum of absolute values, ``(3, 76)``;
- ``activations``: ``final_pred`` of every frame, ``(3, 76, 3)`` (BeatNet returns
  its first two columns, beat and downbeat); ``linear0`` and ``lstm``: the outputs
  of those layers at ``index``, ``(3, k, 150)``.
"""

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

SR, LENGTH, SEED = 22050, 33077, 0
CLIPS = ("drums_120bpm", "tones", "silence_then_noise")
WEIGHTS = "BeatNet/models/model_1_weights.pt"


def make_clips(seed=SEED):
    """The three clips as int16 PCM, ``(3, LENGTH)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH) / SR
    drums = np.zeros(LENGTH)
    for k, onset in enumerate(np.arange(0, LENGTH / SR, 0.25)):  # eighths at 120 BPM
        n = int(onset * SR)
        seg = t[:LENGTH - n]
        if k % 8 == 0:  # kick on the first beat of each bar
            drums[n:] += 0.9 * np.sin(2 * np.pi * 60 * seg) * np.exp(-seg / 0.08)
        if k % 4 == 2:  # snare on beats 2 and 4
            drums[n:] += 0.4 * rng.standard_normal(len(seg)) * np.exp(-seg / 0.05)
        drums[n:] += 0.1 * rng.standard_normal(len(seg)) * np.exp(-seg / 0.01)  # hi-hat
    tones = np.zeros(LENGTH)
    for k, f in enumerate((220.0, 330.0, 277.18)):
        n = int(0.5 * k * SR)
        seg = t[:LENGTH - n]
        tones[n:] += 0.3 * sum(np.sin(2 * np.pi * f * h * seg) / h for h in range(1, 6)) \
            * np.exp(-seg / 0.3)
    noise = 0.2 * rng.standard_normal(LENGTH) * (t >= 0.5)
    clips = np.stack([drums, tones, noise])
    return np.clip(np.round(clips * 32767), -32768, 32767).astype(np.int16)


def positions(n, count=8):
    """Frames kept of ``n``: the first two, the last two and evenly spaced ones."""
    return np.unique(np.concatenate([[0, 1, n - 2, n - 1],
                                     np.linspace(0, n - 1, count).round().astype(int)]))


def log_spect():
    """BeatNet's ``LOG_SPECT(sample_rate=22050, win_length=1411, hop_size=441,
    n_bands=[24], mode="offline")``, with madmom-infer's processors for madmom's."""
    from madmom_infer.audio.signal import FramedSignalProcessor, SignalProcessor
    from madmom_infer.audio.spectrogram import (
        FilteredSpectrogramProcessor,
        LogarithmicSpectrogramProcessor,
        SpectrogramDifferenceProcessor,
    )
    from madmom_infer.audio.stft import ShortTimeFourierTransformProcessor
    from madmom_infer.processors import ParallelProcessor, SequentialProcessor

    win_length, hop_size = int(64 * 0.001 * SR), int(20 * 0.001 * SR)
    sig = SignalProcessor(num_channels=1, win_length=win_length, sample_rate=SR)
    multi = ParallelProcessor([])
    frames = FramedSignalProcessor(frame_size=win_length, hop_size=hop_size)
    stft = ShortTimeFourierTransformProcessor()
    filt = FilteredSpectrogramProcessor(num_bands=24, fmin=30, fmax=17000,
                                        norm_filters=True)
    spec = LogarithmicSpectrogramProcessor(mul=1, add=1)
    diff = SpectrogramDifferenceProcessor(diff_ratio=0.5, positive_diffs=True,
                                          stack_diffs=np.hstack)
    multi.append(SequentialProcessor((frames, stft, filt, spec, diff)))
    return SequentialProcessor((sig, multi, np.hstack))


def run(beatnet_dir, out_dir):
    """Run the front end and the original network; write the fixtures."""
    import madmom_infer
    import torch

    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location(
        "beatnet_model", Path(beatnet_dir) / "BeatNet" / "model.py")
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)
    model = original.BDA(272, 150, 2, "cpu")
    model.load_state_dict(torch.load(Path(beatnet_dir) / WEIGHTS, weights_only=True),
                          strict=False)
    model.eval()
    captured = {}
    model.linear0.register_forward_hook(
        lambda m, i, o: captured.__setitem__("linear0", o.detach().numpy()))
    model.lstm.register_forward_hook(
        lambda m, i, o: captured.__setitem__("lstm", o[0][0].detach().numpy()))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pcm = make_clips()
    audio = pcm.astype(np.float32) / 32768
    features, activations, linear0, lstm = [], [], [], []
    for clip in audio:
        feats = log_spect().process(clip)  # (frames, 272), as process_audio(...).T
        # a fresh BeatNet object's LSTM state (BDA keeps its last call's)
        model.hidden = torch.zeros(2, 1, 150)
        model.cell = torch.zeros(2, 1, 150)
        with torch.no_grad():
            preds = model.final_pred(model(torch.from_numpy(feats).unsqueeze(0))[0])
        features.append(feats)
        activations.append(preds.numpy().T)
        linear0.append(captured["linear0"])
        lstm.append(captured["lstm"])
    n = features[0].shape[0]
    index = positions(n, 10)
    arrays = {"pcm": pcm, "index": index,
              "features": np.stack([f[index] for f in features]),
              "features_abssum": np.stack([np.abs(f).sum(1) for f in features]),
              "activations": np.stack(activations),
              "linear0": np.stack([x[index] for x in linear0]),
              "lstm": np.stack([x[index] for x in lstm])}
    arrays = {k: v.astype(np.float32) if v.dtype == np.float64 else v
              for k, v in arrays.items()}
    np.savez_compressed(out_dir / "beatnet-1.npz", **arrays)
    summary = {"beatnet": "1.1.3 (model.py and model_1_weights.pt of the wheel)",
               "madmom_infer": madmom_infer.__version__, "torch": torch.__version__,
               "numpy": np.__version__, "clips": list(CLIPS), "seed": SEED,
               "n_frames": int(n), "feature_dtype": str(features[0].dtype),
               "beat_frames_above_0.5": [np.flatnonzero(a[:, 0] > 0.5).tolist()
                                         for a in activations]}
    (out_dir / "reference.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


def main(argv=None):
    """``--beatnet-dir DIR OUT_DIR``: write the fixtures to OUT_DIR."""
    parser = argparse.ArgumentParser(prog="beatnet_reference.py",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--beatnet-dir", required=True,
                        help="the unpacked BeatNet 1.1.3 wheel (holding BeatNet/model.py)")
    parser.add_argument("out_dir")
    args = parser.parse_args(argv)
    run(args.beatnet_dir, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
