"""Reference outputs of torchcrepe 0.0.24 itself, for skmir's parity tests of crepe-tiny.

A one-off tool, never run by CI: torch and torchcrepe are imported inside :func:`run`
only, and the script imports nothing of skmir, so it runs in torchcrepe's own venv::

    python3 -m venv /work/ref-crepe
    /work/ref-crepe/bin/pip install torch==2.13.0 torchcrepe==0.0.24
    /work/ref-crepe/bin/python skmir/pretrained/crepe_reference.py tests/data/crepe

It makes four 16 kHz clips of 0.6 s (plus 77 samples, so the clip length is no
multiple of the hop) with a fixed seed: a harmonic tone at 220 Hz with vibrato after
0.1 s of silence, a logarithmic sine sweep from 100 to 1000 Hz, a chord of three
harmonic tones (A3, C#4, E4) and white noise; stores them as 16-bit PCM (the values
both sides read); and writes ``crepe-tiny.npz`` (float32 unless said):

- ``pcm``: the clips, int16, ``(4, 9677)``; ``times``: the frame centres in seconds,
  from torchcrepe's framing (``WINDOW_SIZE``, the default hop ``sample_rate // 100``);
- ``frames``: ``torchcrepe.preprocess`` output at the frames ``frame_index`` (edges
  and middle), ``frames_abssum``: each frame's sum of absolute values (all frames);
- ``activations``: ``torchcrepe.infer(frames, 'tiny')`` at ``index``, and
  ``activations_full``: every frame of clip 0; ``embed``: ``torchcrepe.embed``
  (the fifth block, ``(frames, 32, 8)``) at ``index``;
- decoded by ``torchcrepe.predict(..., model='tiny', return_periodicity=True)`` with
  ``np.random.seed(SEED + clip)`` before each call (torchcrepe dithers f0 with numpy's
  global random state): ``f0_viterbi``, ``periodicity_viterbi`` (the default decoder),
  ``f0_argmax``, ``periodicity_argmax``, ``f0_weighted_argmax``,
  ``periodicity_weighted_argmax`` (its bin cents drawn after the seed),
  ``f0_viterbi_100_800``,
  ``periodicity_viterbi_100_800`` (fmin 100, fmax 800 Hz), ``f0_at_021``
  (``torchcrepe.threshold.At(0.21)`` of the viterbi f0 and periodicity).

torchaudio is stubbed before torchcrepe is imported: torchcrepe imports it only to
load audio files (``torchcrepe.load.audio``), which this script does not call, and the
torchaudio wheel pip pairs with torch 2.13 (2.11.1) fails to load its library.
"""

import json
import sys
import types
from pathlib import Path

import numpy as np

SR, LENGTH, SEED = 16000, 9677, 0
CLIPS = ("tone_vibrato", "sweep", "chord", "noise")


def make_clips(seed=SEED):
    """The four clips as int16 PCM, ``(4, LENGTH)``."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH) / SR

    def harmonic(f0_track, n=5):
        phase = 2 * np.pi * np.cumsum(f0_track) / SR
        return sum(np.sin(k * phase) / k for k in range(1, n + 1))

    vibrato = 220 * 2 ** (30 / 1200 * np.sin(2 * np.pi * 5 * t))
    tone = 0.4 * harmonic(vibrato) * (t >= 0.1)
    sweep = 0.5 * np.sin(2 * np.pi * 100 * (10 ** (t / t[-1]) - 1) * t[-1] / np.log(10))
    chord = 0.2 * sum(harmonic(np.full_like(t, f)) for f in (220.0, 277.18, 329.63))
    noise = 0.3 * rng.standard_normal(LENGTH)
    clips = np.stack([tone, sweep, chord, noise])
    return np.clip(np.round(clips * 32767), -32768, 32767).astype(np.int16)


def positions(n, count=8):
    """Frames kept of ``n``: the first two, the last two and evenly spaced ones."""
    return np.unique(np.concatenate([[0, 1, n - 2, n - 1],
                                     np.linspace(0, n - 1, count).round().astype(int)]))


def run(out_dir):
    """Run torchcrepe on the clips and write ``crepe-tiny.npz`` and ``reference.json``."""
    sys.modules.setdefault("torchaudio", types.ModuleType("torchaudio"))
    import librosa
    import torch
    import torchcrepe

    torch.set_num_threads(1)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pcm = make_clips()
    audio = torch.from_numpy(pcm.astype(np.float32) / 32768)
    hop = SR // 100  # torchcrepe's default hop_length
    frames = [next(torchcrepe.preprocess(a[None], SR)) for a in audio]
    n = frames[0].shape[0]
    times = (np.arange(n) * hop + torchcrepe.WINDOW_SIZE // 2
             - torchcrepe.WINDOW_SIZE // 2) / SR  # centre in the padded clip, less the pad
    with torch.no_grad():
        acts = [torchcrepe.infer(f, "tiny") for f in frames]
        embed = [torchcrepe.embed(a[None], SR, model="tiny")[0] for a in audio]
    frame_index, index = positions(n, 3), positions(n)

    def predict(i, **kwargs):
        # torchcrepe dithers f0 with numpy's global random state: seed that one
        np.random.seed(SEED + i)  # noqa: NPY002
        # weighted_argmax draws its dithered bin cents once per process: draw them now
        vars(torchcrepe.decode.weighted_argmax).pop("weights", None)
        f0, periodicity = torchcrepe.predict(audio[i][None], SR, model="tiny",
                                             return_periodicity=True, **kwargs)
        return f0[0].numpy(), periodicity[0].numpy()

    arrays = {"pcm": pcm, "times": times.astype(np.float32),
              "frame_index": frame_index, "index": index,
              "frames": np.stack([f.numpy()[frame_index] for f in frames]),
              "frames_abssum": np.stack([f.abs().sum(1).numpy() for f in frames]),
              "activations": np.stack([a.numpy()[index] for a in acts]),
              "activations_full": acts[0].numpy(),
              "embed": np.stack([e.numpy()[index] for e in embed])}
    decoded = {"viterbi": {}, "argmax": {"decoder": torchcrepe.decode.argmax},
               "weighted_argmax": {"decoder": torchcrepe.decode.weighted_argmax},
               "viterbi_100_800": {"fmin": 100.0, "fmax": 800.0}}
    for key, kwargs in decoded.items():
        out = [predict(i, **kwargs) for i in range(len(pcm))]
        arrays[f"f0_{key}"] = np.stack([o[0] for o in out])
        arrays[f"periodicity_{key}"] = np.stack([o[1] for o in out])
    at = torchcrepe.threshold.At(0.21)
    arrays["f0_at_021"] = np.stack([
        at(torch.from_numpy(f), torch.from_numpy(p))[None].numpy()[0]
        for f, p in zip(arrays["f0_viterbi"], arrays["periodicity_viterbi"])])
    arrays = {k: v.astype(np.float32) if v.dtype == np.float64 else v
              for k, v in arrays.items()}
    np.savez_compressed(out_dir / "crepe-tiny.npz", **arrays)
    summary = {"torchcrepe": "0.0.24", "torch": torch.__version__, "numpy": np.__version__,
               "librosa": librosa.__version__, "clips": list(CLIPS), "seed": SEED,
               "n_frames": int(n), "median_f0_viterbi": np.nanmedian(
                   arrays["f0_viterbi"], axis=1).round(2).tolist()}
    (out_dir / "reference.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary))


def main(argv=None):
    """``OUT_DIR``: run torchcrepe (in its own venv) and write the fixtures there."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    run(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
