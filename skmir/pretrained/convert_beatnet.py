"""Convert BeatNet 1.1.3's model 1 to skmir's safetensors and model card.

Run once by a developer, never at run time or in CI::

    pip download --no-deps BeatNet==1.1.3 -d /tmp/bn
    unzip /tmp/bn/BeatNet-1.1.3-py3-none-any.whl -d /tmp/bn/beatnet
    python -m skmir.pretrained.convert_beatnet --package-dir /tmp/bn/beatnet

(``--package-dir`` holds ``BeatNet/`` and its ``.dist-info``; the package is never
installed, and cannot be on current Python: it needs madmom.) It reads
``BeatNet/models/model_1_weights.pt``, a legacy ``torch.save`` of a plain state dict,
with ``torch.load(..., weights_only=True)`` (no code in the file runs), checks that its
keys and shapes are exactly those of :class:`skmir.nn.beatnet.BeatNet` (BDA's own
names, so nothing is renamed; ``BeatNet.py`` loads it with ``strict=False``, which
would hide a mismatch), and writes next to this file:

``beatnet-1.safetensors`` (float32), ``beatnet-1.json`` (the card loaded by
:func:`skmir.pretrained.load_pretrained`), ``beatnet-1.md``, and ``LICENSE-beatnet``
(the package's CC BY 4.0 licence text as the wheel ships it).

Model 1 is the one trained without GTZAN: ``BeatNet.py`` loads ``model_1_weights.pt``
for ``model == 1`` with the comment "GTZAN out trained model" (2: "Ballroom out", 3:
"Rock_corpus out"), and the paper evaluates on GTZAN, "unseen during training".
"""

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
NAME = "beatnet-1"
PACKAGE, VERSION, MODEL = "BeatNet", "1.1.3", 1
WEIGHTS = f"BeatNet/models/model_{MODEL}_weights.pt"

# BeatNet.py (BeatNet.__init__, activation_extractor_online) and log_spect.py
FRONTEND = {
    "transform": ("skmir.LogFilteredSpectrogram(sr=22050, frame_size=1411, hop_size=441, "
                  "num_bands=24, stack_diffs=True, positive_diffs=True), "
                  "skmir.pretrained.beatnet.BeatNetFrontend"),
    "original": ("BeatNet.log_spect.LOG_SPECT(sample_rate=22050, win_length=1411, "
                 "hop_size=441, n_bands=[24], mode='offline'): madmom's SignalProcessor, "
                 "FramedSignalProcessor(frame_size=1411, hop_size=441), "
                 "ShortTimeFourierTransformProcessor(), FilteredSpectrogramProcessor("
                 "num_bands=24, fmin=30, fmax=17000, norm_filters=True), "
                 "LogarithmicSpectrogramProcessor(mul=1, add=1), "
                 "SpectrogramDifferenceProcessor(diff_ratio=0.5, positive_diffs=True, "
                 "stack_diffs=np.hstack)"),
    "sr": 22050,
    "frame_size": 1411,
    "hop_size": 441,
    "window": "np.hanning(1411), frames centred on sample 441 i, zeros outside the clip",
    "n_frames": "ceil(n_samples / 441)",
    "fft_bins": "the first 705 (frame_size // 2), madmom's bin frequencies k * 22050 / 1410",
    "filterbank": ("madmom's LogarithmicFilterbank: 24 bands per octave from 30 Hz to "
                   "17 kHz around 440 Hz, unique bins, each filter normalised to sum 1: "
                   "136 bands"),
    "log": "log10(1 * S + 1)",
    "difference": ("positive difference with the frame before (diff_frames 1), 0 for "
                   "frame 0; stacked after the 136 bands"),
    "n_features": 272,
    "input": "float32 audio in [-1, 1] (librosa.load's); integer PCM is scaled by 1/32768",
}

DECODING = {
    "function": "skmir.pretrained.beatnet.decode_beats",
    "rule": ("beats: scipy.signal.find_peaks of p(beat) + p(downbeat) with height "
             "threshold (0.4) and distance round(min_interval * 50) frames (0.25 s); "
             "downbeats: the beats whose p(downbeat) > p(beat)"),
    "original": ("BeatNet's decoders are not ported: its particle filter (modes 'stream', "
                 "'realtime', 'online') and madmom's DBNDownBeatTrackingProcessor("
                 "beats_per_bar=[2, 3, 4], fps=50) ('offline')"),
    "outputs": ("softmax over the network's three outputs per frame (BeatNet's "
                "final_pred); BeatNet passes the first two columns, beat and downbeat, "
                "to its decoders"),
}

TRAINING = {
    "model": ("model 1 of the three BeatNet 1.1.3 ships: 'GTZAN out trained model' "
              "(BeatNet.py), i.e. trained without GTZAN, on which the paper evaluates"),
    "dataset": ["Ballroom", "Beatles", "Hainsworth", "Rock Corpus", "others"],
    "dataset_source": ("neither the package nor its README lists the training sets; the "
                       "list is issue #23's survey of the paper, not checked against the "
                       "paper here. Model 2 holds out Ballroom, model 3 Rock Corpus"),
    "audio": "22.05 kHz mono, mastered commercial recordings",
    "training_audio_terms": (
        "Not stated for the weights. The datasets' audio is copyrighted commercial music "
        "distributed for research (e.g. Ballroom's excerpts from ballroomdancers.com, the "
        "Beatles' CDs); the weights' CC BY 4.0 licence does not remove whatever these "
        "terms impose on models trained on them."),
}

SCORES = {
    "citation": ("Heydari, M., Cwitkowitz, F. and Duan, Z. (2021). BeatNet: CRNN and "
                 "particle filtering for online joint beat downbeat and meter tracking. "
                 "ISMIR 2021. arXiv:2108.03576"),
    "metric": "F-measure (70 ms tolerance) of beats and downbeats",
    "figures": {"GTZAN beats (online, particle filtering)": 75.44,
                "GTZAN downbeats (online, particle filtering)": 46.49},
    "figures_source": ("Papers with Code's transcription of the paper's results; not "
                       "checked against the paper's table here. They are for BeatNet's "
                       "own particle-filter decoder, not skmir's peak picking"),
}

LICENSE = {
    "code": ("CC BY 4.0 (BeatNet 1.1.3, Mojtaba Heydari): skmir.nn.beatnet rebuilds its "
             "BDA module"),
    "weights": "CC BY 4.0: shipped in the BeatNet package under its licence",
    "file": "LICENSE-beatnet",
}

# Measured (and checked by tests/test_beatnet.py) on the fixtures of beatnet_reference.py:
# the largest absolute error and that error relative to the reference's largest
# absolute value, rounded up
PARITY = {
    "inputs": ("3 clips of 33077 samples at 22.05 kHz, int16 read as pcm / 32768 "
               "(skmir/pretrained/beatnet_reference.py): a drum pattern at 120 BPM, "
               "decaying harmonic tones every 0.5 s, white noise after 0.5 s of silence; "
               "76 frames each"),
    "reference": ("front end: BeatNet's LOG_SPECT built from madmom-infer 0.2.0's "
                  "processors; network: the original BDA class loaded from the wheel's "
                  "BeatNet/model.py by path (BeatNet itself cannot install: it needs "
                  "madmom), model_1_weights.pt; torch 2.13.0 (CPU), numpy 2.4.6"),
    "errors": {
        "frontend": {"max_abs": 2.4e-7, "max_rel": 1.1e-7,
                     "of": ("LOG_SPECT's 272 values (12 of 76 frames per clip; every frame's "
                            "sum of absolute values)")},
        "activations": {"max_abs": 4.8e-7, "max_rel": 4.8e-7,
                        "of": "final_pred, every frame of every clip"},
        "linear0": {"max_abs": 4.8e-7, "max_rel": 9.2e-8,
                    "of": "BDA.linear0's output (12 of 76 frames per clip)"},
        "lstm": {"max_abs": 1.7e-6, "max_rel": 1.8e-6,
                 "of": "BDA.lstm's output (12 of 76 frames per clip)"},
    },
}


def _markdown(card, n_params, size):
    fe, sc, lic, tr = card["frontend"], card["scores"], card["license"], card["training"]
    lines = [
        f"# {card['name']}",
        "",
        card["description"],
        "",
        "## Use",
        "",
        "```python",
        "import skmir",
        "tracker = skmir.BeatTracker().fit()",
        "beats, downbeats = tracker.predict_events(waveforms)[0]  # 22.05 kHz mono",
        "",
        "from skmir.pretrained import load_pretrained",
        "from skmir.pretrained.beatnet import decode_beats",
        f'network = load_pretrained("{card["name"]}")',
        "act = network.frame_outputs(waveforms)  # (clips, frames, 3): beat, downbeat, no beat",
        "times = network.frame_times(act.shape[1])  # i / 50 s",
        "beats, downbeats = decode_beats(act[0])",
        "```",
        "",
        "## Network",
        "",
        "- Module: `skmir.nn.beatnet.BeatNet` (BeatNet's `BDA`: conv1d of 2 kernels of 10 "
        "along the features, ReLU, max pooling by 2, dense to 150, a causal 2-layer LSTM of "
        "150 cells, dense to 3, softmax)",
        f"- {n_params:,} parameters, float32, `{card['file']}` ({size:,} bytes, SHA-256 "
        f"`{card['sha256']}`)",
        "- Layers: " + ", ".join(f"`{k}` ({v} per frame)" for k, v in card["layers"].items()),
        "- Stateless: every clip starts from a zero LSTM state (BeatNet's `BDA` keeps the "
        "state of its last call, so a second file run by the same BeatNet object starts "
        "where the first ended); long clips run in blocks carry the state over.",
        "",
        "## Input and output",
        "",
        f"- {fe['sr']} Hz mono; {fe['frame_size']}-sample frames every {fe['hop_size']} "
        f"(50 per second): {fe['window']}; {fe['n_frames']} frames, frame i at i / 50 s",
        f"- {fe['fft_bins']}; {fe['filterbank']}; {fe['log']}; {fe['difference']}: "
        f"{fe['n_features']} values",
        f"- computed by {fe['transform']}; the original: {fe['original']}",
        f"- output: {card['decoding']['outputs']}; tags {card['tags']}",
        f"- decoding: `{card['decoding']['function']}`: {card['decoding']['rule']}. "
        f"{card['decoding']['original']}.",
        "",
        "## Training and scores",
        "",
        f"- Model: {tr['model']}",
        f"- Data: {', '.join(tr['dataset'])} ({tr['dataset_source']})",
        f"- Training audio: {tr['training_audio_terms']}",
        f"- Scores ({sc['metric']}): "
        + "; ".join(f"{k} {v}" for k, v in sc["figures"].items())
        + f". {sc['figures_source']}. {sc['citation']}.",
        "",
        "## Parity",
        "",
        *(f"- {k}: max abs {v['max_abs']:.3g}, max rel {v['max_rel']:.3g} ({v['of']})"
          for k, v in card.get("parity", {}).get("errors", {}).items()),
        *([f"- inputs: {card['parity']['inputs']}", f"- reference: "
           f"{card['parity']['reference']}"] if "parity" in card else []),
        "",
        "## Licence",
        "",
        f"Code: {lic['code']}. Weights: {lic['weights']}. Licence text: `{lic['file']}`.",
        "",
        card["attribution"],
        "",
    ]
    return "\n".join(lines)


def convert(package_dir, out_dir=HERE):
    """Convert model 1 of an unpacked BeatNet 1.1.3 into ``out_dir``.

    Parameters
    ----------
    package_dir : path
        A folder holding ``BeatNet/models/model_1_weights.pt`` and its ``.dist-info``.
    out_dir : path, default=this folder

    Returns
    -------
    card : dict
    """
    import torch
    from safetensors.torch import save

    from skmir._files import atomic_write, dist_info, sha256_bytes
    from skmir.nn.beatnet import BeatNet
    from skmir.pretrained.beatnet import AUTO_LAYERS
    from skmir.pretrained.cards import FORMAT, write_card

    package_dir, out_dir = Path(package_dir), Path(out_dir)
    source = package_dir / WEIGHTS
    if not source.is_file():
        raise FileNotFoundError(f"convert_beatnet: --package-dir {package_dir} has no "
                                f"{WEIGHTS}: unpack BeatNet=={VERSION} there.")
    version, licence = dist_info(package_dir, PACKAGE)
    if version not in (None, VERSION):
        raise ValueError(f"convert_beatnet: {package_dir} holds BeatNet {version}; this "
                         f"script converts {VERSION}.")
    if licence is None:
        raise FileNotFoundError(f"convert_beatnet: {package_dir} has no BeatNet "
                                "dist-info LICENSE to ship as LICENSE-beatnet.")
    text = licence.decode("utf-8")
    if not text.startswith("Attribution 4.0 International"):
        raise ValueError(f"convert_beatnet: unexpected licence text: {text[:80]!r}")
    raw = source.read_bytes()
    state = torch.load(source, map_location="cpu", weights_only=True)
    tensors = {k: v.float().contiguous() for k, v in state.items()}
    module = BeatNet()
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if got != expected:
        raise ValueError(f"convert_beatnet: {WEIGHTS} does not fit skmir.nn.beatnet.BeatNet: "
                         f"{sorted(set(got.items()) ^ set(expected.items()))}")
    module.load_state_dict(tensors)
    # one metadata key: a dict of several is written in no fixed order
    weights = save(tensors, metadata={"format": "pt"})
    with atomic_write(out_dir / f"{NAME}.safetensors") as tmp:
        tmp.write_bytes(weights)
    with atomic_write(out_dir / LICENSE["file"]) as tmp:
        tmp.write_bytes(licence)
    card = {
        "format": FORMAT,
        "name": NAME,
        "architecture": "beatnet",
        "description": ("BeatNet (Heydari, Cwitkowitz and Duan, 2021), model 1: a causal "
                        "CRNN (convolution, dense layer, 2-layer LSTM) on madmom's "
                        "log-filtered spectrogram and its positive difference at 50 frames "
                        "per second, giving beat, downbeat and no-beat probabilities of "
                        "real music; trained without GTZAN. BeatNet 1.1.3's weights; parity "
                        "tested against the original BDA class loaded from the package's "
                        "source (the package cannot install) and the front end against "
                        "madmom-infer."),
        "file": f"{NAME}.safetensors",
        "sha256": sha256_bytes(weights),
        "sr": FRONTEND["sr"],
        "level": "frame",
        "task": "beats",
        "frame_rate": FRONTEND["sr"] / FRONTEND["hop_size"],
        "frame_offset": 0.0,
        "tags": ["beat", "downbeat", "no beat"],
        "network": {"dim_in": module.dim_in, "num_cells": module.num_cells,
                    "num_layers": module.num_layers},
        "layers": {"linear0": module.num_cells, "lstm": module.num_cells},
        "auto_layers": list(AUTO_LAYERS),
        "frontend": FRONTEND,
        "decoding": DECODING,
        "license": LICENSE,
        "attribution": (
            "BeatNet (https://github.com/mjhydri/BeatNet), version 1.1.3, by Mojtaba "
            "Heydari, licensed under the Creative Commons Attribution 4.0 International "
            "licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/; text in "
            "LICENSE-beatnet). Paper: Heydari, Cwitkowitz and Duan (2021), BeatNet: CRNN "
            "and particle filtering for online joint beat downbeat and meter tracking, "
            "ISMIR 2021. Changes made by skmir: the weights of "
            "BeatNet/models/model_1_weights.pt converted to safetensors (values unchanged); "
            "the BDA module rewritten as skmir.nn.beatnet.BeatNet (same layers, stateless, "
            "softmax over the outputs inside); the front end recomputed by "
            "skmir.LogFilteredSpectrogram; a peak-picking decoder in place of BeatNet's. "
            "No warranties are given."),
        "training": TRAINING,
        "scores": SCORES,
        "source": {
            "package": PACKAGE,
            "version": VERSION,
            "file": WEIGHTS,
            "sha256": sha256_bytes(raw),
            "format": "legacy torch.save state dict, read with weights_only=True",
        },
    }
    if PARITY["errors"]:
        card["parity"] = PARITY
    n_params = int(sum(np.prod(v.shape) for v in tensors.values()))
    write_card(out_dir, card, lambda c: _markdown(c, n_params, len(weights)))
    print(f"{NAME}: {WEIGHTS} -> {NAME}.safetensors ({len(weights):,} bytes, "
          f"{n_params:,} parameters)")
    return card


def main(argv=None):
    """Command line: ``python -m skmir.pretrained.convert_beatnet --package-dir DIR``."""
    parser = argparse.ArgumentParser(prog="python -m skmir.pretrained.convert_beatnet",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--package-dir", required=True,
                        help="folder holding BeatNet/ (an unpacked wheel)")
    parser.add_argument("--out-dir", default=str(HERE))
    args = parser.parse_args(argv)
    convert(args.package_dir, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
