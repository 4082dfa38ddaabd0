"""Convert basic-pitch 0.4.0's network to skmir's safetensors and model card.

Run once by a developer, never at run time or in CI, in an environment with the
``onnx`` package (not a skmir dependency), torch and safetensors::

    pip download --no-deps basic-pitch==0.4.0 -d /tmp/basicpitch
    python -m skmir.pretrained.convert_basicpitch --package-dir /tmp/basicpitch

``--package-dir`` holds the wheel (as ``pip download`` leaves it) or the unpacked
package. The weights are the initializers of ``basic_pitch/saved_models/icassp_2022/
nmp.onnx`` (tf2onnx's export of the Keras model), read with ``onnx`` (protobuf, no
code runs). Each convolution's Keras layer is read off the graph (the
``model_1/<layer>/BiasAdd/ReadVariableOp`` its bias is named after) and becomes that
layer of :class:`skmir.nn.basicpitch.BasicPitch`; its strides and paddings are checked
against the module's. The CQT's constants in the graph (the 36 kernels, the low-pass
filter, the per-bin scale) are not stored: the module computes them from nnaudio.py's
formulas, and the conversion fails unless they match the graph's (float32).

Writes, next to this file: ``basic-pitch.safetensors`` (float32), ``basic-pitch.json``
(the card :func:`skmir.pretrained.load_pretrained` reads), ``basic-pitch.md`` and
``LICENSE-basicpitch`` (basic-pitch's NOTICE and its Apache-2.0 licence, as the wheel
ships them).
"""

import argparse
import io
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

from skmir._files import sha256_bytes

HERE = Path(__file__).parent
NAME = "basic-pitch"
VERSION = "0.4.0"
WHEEL = f"basic_pitch-{VERSION}-py2.py3-none-any.whl"
ONNX = "basic_pitch/saved_models/icassp_2022/nmp.onnx"
DIST = f"basic_pitch-{VERSION}.dist-info"
# Keras layer -> (module attribute, batch norm folded into it in the graph)
CONVOLUTIONS = {
    "conv2d_1": ("conv2d_1", "batch_normalization_2"),
    "contours-reduced": ("contours_reduced", None),
    "conv2d_2": ("conv2d_2", None),
    "conv2d_3": ("conv2d_3", None),
    "conv2d_4": ("conv2d_4", "batch_normalization_3"),
    "conv2d_5": ("conv2d_5", None),
}

FRONTEND = {
    "sr": 22050,
    "mono": True,
    "window_samples": 43844,
    "overlap_frames": 30,
    "window_hop_samples": 36164,
    "front_padding_samples": 3840,
    "windowing": ("basic_pitch.inference.run_inference: 3840 zeros before the audio, "
                  "windows of 43844 samples every 36164 (the last one zero-padded), "
                  "15 frames cut from each end of each window's 172 output frames, the "
                  "rest concatenated and cut to floor(n_samples * 86 / 22050) frames"),
    "cqt": {"hop_length": 256, "fmin": 27.5, "n_bins": 309, "bins_per_octave": 36,
            "implementation": "nnaudio CQT2010v2 as basic_pitch/layers/nnaudio.py, "
                              "reflect padding, librosa normalisation, magnitude",
            "normalisation": "basic_pitch/layers/signal.py NormalizedLog: 10 log10(|C|^2 "
                             "+ 1e-10), min-max scaled to [0, 1] over each window"},
    "harmonics": [0.5, 1, 2, 3, 4, 5, 6, 7],
    "inside_module": "the CQT, its normalisation and the harmonic stacking are layers of "
                     "skmir.nn.basicpitch.BasicPitch; the front end only cuts windows",
}

TRAINING = {
    "datasets": ["GuitarSet", "iKala", "MAESTRO", "MedleyDB-Pitch", "Slakh"],
    "source": "Bittner et al. (2022), section 4; basic_pitch/constants.py "
              "DATASET_SAMPLING_FREQUENCY",
    "training_audio": (
        "GuitarSet: CC BY 4.0; MAESTRO: CC BY-NC-SA 4.0; Slakh2100: CC BY 4.0; "
        "MedleyDB-Pitch: CC BY-NC-SA 4.0; iKala: research use, not openly licensed. "
        "Some of the training audio is non-commercial; the weights are distributed by "
        "Spotify under Apache-2.0. These terms are the datasets' published ones as "
        "recalled when converting, not checked against their sites offline."),
}

SCORES = {
    "citation": ("Bittner, R. M., Bosch, J. J., Rubinstein, D., Meseguer-Brocal, G. and "
                 "Ewert, S. (2022). A lightweight instrument-agnostic model for polyphonic "
                 "note transcription and multipitch estimation. ICASSP 2022. "
                 "arXiv:2203.09893"),
    "reported": ("note-level F-measure (onset, mir_eval) and frame-level multipitch "
                 "accuracy on the test splits of GuitarSet, MAESTRO, Slakh, MedleyDB-Pitch "
                 "and iKala and on the held-out Molina (vocals) set, against MI-AMT and "
                 "instrument-specific systems: see the paper's tables"),
    "note": "not re-measured here; skmir tests parity with the original only",
}

TAG_NOTES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _note(midi):
    return f"{TAG_NOTES[midi % 12]}{midi // 12 - 1}"


def tags():
    """Column names of ``frame_outputs``: 264 contour bins (thirds of a semitone from
    A0), then 88 note and 88 onset keys (A0 to C8)."""
    contour = [f"contour:{_note(21 + b // 3)}+{b % 3}" for b in range(264)]
    return (contour + [f"note:{_note(21 + k)}" for k in range(88)]
            + [f"onset:{_note(21 + k)}" for k in range(88)])


class ConversionError(ValueError):
    """The package is not the one this script converts."""



def read_package(package_dir):
    """(onnx bytes, NOTICE text, LICENSE text, wheel sha256 or None) from the folder."""
    package_dir = Path(package_dir)
    wheel = package_dir / WHEEL
    if wheel.is_file():
        data = wheel.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            missing = [m for m in (ONNX, f"{DIST}/NOTICE", f"{DIST}/LICENSE") if m not in names]
            if missing:
                raise ConversionError(f"{wheel} has no {missing}: is it basic-pitch {VERSION}?")
            return (zf.read(ONNX), zf.read(f"{DIST}/NOTICE").decode("utf-8"),
                    zf.read(f"{DIST}/LICENSE").decode("utf-8"), sha256_bytes(data))
    onnx_path = package_dir / ONNX
    if not onnx_path.is_file():
        raise ConversionError(f"--package-dir = {package_dir}: neither {WHEEL} nor {ONNX} "
                              f"is there; run pip download --no-deps basic-pitch=={VERSION} "
                              f"-d {package_dir}.")
    dist = package_dir / DIST
    return (onnx_path.read_bytes(), (dist / "NOTICE").read_text(encoding="utf-8"),
            (dist / "LICENSE").read_text(encoding="utf-8"), None)


def onnx_weights(onnx_bytes):
    """The graph's weights by module key, and its CQT constants by buffer name.

    Returns
    -------
    state : dict of str to ndarray
        :class:`~skmir.nn.basicpitch.BasicPitch` state-dict keys -> float32 arrays.
    constants : dict of str to ndarray
        ``kernel_real``, ``kernel_imag``, ``lowpass``, ``sqrt_lengths`` of the CQT.
    convs : dict of str to dict
        Per module attribute: the Keras layer, its folded batch norm, strides and pads.
    """
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(onnx_bytes)
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consumers = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    state, constants, convs = {}, {}, {}
    for node in model.graph.node:
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "Conv" and "/cq_t2010v2" in node.output[0]:
            kernel = inits[node.input[1]]
            if kernel.shape == (1, 1, 1, 256):
                key = "lowpass"
            else:
                negated = any(c.op_type == "Neg" for c in consumers.get(node.output[0], []))
                key = "kernel_imag" if negated else "kernel_real"
            if key in constants and not np.array_equal(constants[key], kernel):
                raise ConversionError(f"two different CQT constants for {key}")
            constants[key] = kernel
            if len(node.input) > 2 and np.any(inits[node.input[2]]):
                raise ConversionError(f"a CQT convolution ({node.output[0]}) has a bias")
        elif node.op_type == "Conv":
            found = re.findall(r"model_1/([\w-]+)/BiasAdd/ReadVariableOp", node.input[2])
            if len(set(found)) != 1 or found[0] not in CONVOLUTIONS:
                raise ConversionError(f"cannot tell the Keras layer of {node.input[2]!r}")
            attr, folded = CONVOLUTIONS[found[0]]
            if folded and f"/{folded}/" not in node.input[2]:
                raise ConversionError(f"{found[0]}: batch norm {folded} not folded as expected")
            state[f"{attr}.weight"] = inits[node.input[1]]
            state[f"{attr}.bias"] = inits[node.input[2]]
            convs[attr] = {"keras": found[0], "folded_batch_norm": folded,
                           "strides": list(attrs["strides"]), "pads": list(attrs["pads"])}
        elif node.op_type == "Mul" and any(n in inits and inits[n].shape == (309, 1, 1)
                                           for n in node.input):
            constants["sqrt_lengths"] = next(inits[n] for n in node.input if n in inits)[:, 0, 0]
        elif node.op_type in ("Mul", "Add") and "model_1/batch_normalization/" in node.output[0]:
            value = next(inits[n] for n in node.input if n in inits)
            state["batch_normalization." + ("scale" if node.op_type == "Mul" else "shift")] = value
    return state, constants, convs


def check_against_module(module, state, constants, convs):
    """Fail unless the graph's weights fit the module and its CQT constants equal the
    module's computed ones."""
    import torch

    expected = set(module.state_dict())
    if set(state) != expected:
        raise ConversionError(f"keys differ: {sorted(set(state) ^ expected)}")
    for key, value in state.items():
        if tuple(module.state_dict()[key].shape) != value.shape:
            raise ConversionError(f"{key}: graph {value.shape}, module "
                                  f"{tuple(module.state_dict()[key].shape)}")
    for attr, conv in convs.items():
        layer = getattr(module, attr)
        pads = [layer.padding[0], layer.padding[1], layer.padding[0], layer.padding[1]]
        if conv["strides"] != list(layer.stride) or conv["pads"] != pads:
            raise ConversionError(f"{attr}: graph strides {conv['strides']} pads {conv['pads']}, "
                                  f"module {list(layer.stride)} {pads}")
    cqt = module.cqt
    ours = {"kernel_real": cqt.kernel_real, "kernel_imag": cqt.kernel_imag,
            "lowpass": cqt.lowpass, "sqrt_lengths": cqt.sqrt_lengths}
    errors = {}
    for key, value in ours.items():
        graph = constants[key].reshape(tuple(value.shape))
        err = float(np.abs(value.numpy() - graph).max())
        if err > 1e-6 * max(1.0, float(np.abs(graph).max())):
            raise ConversionError(f"CQT {key}: max difference {err} from the graph's")
        errors[key] = err
    with torch.no_grad():
        module.load_state_dict({k: torch.from_numpy(np.array(v, dtype=np.float32))
                                for k, v in state.items()})
    return errors


def _markdown(card, n_params, size):
    fe = card["frontend"]
    lines = [
        f"# {card['name']}", "",
        card["description"], "",
        "## Use", "",
        "```python",
        "from skmir.pretrained import load_pretrained",
        f'network = load_pretrained("{card["name"]}")',
        "out = network.frame_outputs(waveforms)  # 22.05 kHz mono -> (clips, frames, 440)",
        "times = network.frame_times(out.shape[1])",
        "```", "",
        "## Network", "",
        "- Module: `skmir.nn.basicpitch.BasicPitch` (the CQT, its normalisation and the "
        "harmonic stacking are layers of it)",
        f"- {n_params:,} parameters, float32, `{card['file']}` ({size:,} bytes, SHA-256 "
        f"`{card['sha256']}`)",
        "- Layers: " + ", ".join(f"`{k}` ({v} per frame)" for k, v in card["layers"].items()),
        "- The batch norms after `conv2d_1` and `conv2d_4` are folded into them, as in the "
        "shipped ONNX graph; models.py's dead first contour convolution is absent.", "",
        "## Input and frames", "",
        f"- {fe['sr']} Hz mono; {fe['windowing']}.",
        f"- Outputs: {card['frame_rate']:.4f} frames per second on average; frame i lies "
        "at `network.frame_times(n)[i]` (256-sample hops inside a window, 188 samples less "
        "at each of the window seams of basic-pitch's windowing).",
        f"- Columns: 264 contour bins (`{card['tags'][0]}` ... `{card['tags'][263]}`, "
        "thirds of a semitone from A0), 88 note (`note:A0` ... `note:C8`) and 88 onset "
        "posteriors.", "",
        "## Training and scores", "",
        f"- Data: {', '.join(card['training']['datasets'])}",
        f"- Training audio: {card['training']['training_audio']}",
        f"- Scores: {card['scores']['reported']} ({card['scores']['citation']}); "
        f"{card['scores']['note']}.", "",
        "## Parity", "",
        f"- {card['parity']}", "",
        "## Source", "",
        f"- {card['source']['package']} {card['source']['version']}, `{card['source']['file']}` "
        f"(SHA-256 `{card['source']['sha256']}`)", "",
        "## Licence", "",
        f"{card['license']['weights']}; {card['license']['copyright']}. "
        f"{card['license']['notice']} (`{card['license']['file']}`)", "",
        card["attribution"], "",
    ]
    return "\n".join(lines)


# measured by basicpitch_reference.py (reference.json) and tests/test_basicpitch.py
PARITY = ("against basic-pitch 0.4.0's run_inference (nmp.onnx on onnxruntime 1.32.0, "
          "float32), on every frame of four clips (a decaying chord, a sine sweep and "
          "noise, 3 s each, and a 1000-sample excerpt; tests/data/basicpitch): windows "
          "equal; normalised log CQT max abs error 3.1e-5 (values in [0, 1]); contour "
          "3.3e-6 (8.9e-6 of its max), note 2.5e-6 (5.0e-6), onset 3.3e-6 (3.7e-6); note-"
          "branch maps 4.4e-6 (4.9e-6 of their max); note events of model_output_to_notes "
          "equal. Caveat: NormalizedLog takes the log of CQT bins up to 100 dB below a "
          "window's loudest, so float32 rounding of 1e-8 in the CQT (another batch size, "
          "another CPU kernel) moves the posteriors of band-limited audio by up to about "
          "2e-3 (torch with one window per batch: 3.6e-4; a float64 CQT: 1.7e-3 from "
          "onnxruntime); on noise, 2e-6. The original shares this: it is its arithmetic.")


def convert(package_dir, out_dir=HERE, parity=PARITY):
    """Convert the network of a downloaded basic-pitch 0.4.0 into ``out_dir``.

    Returns
    -------
    card : dict
    """
    import torch
    from safetensors.torch import save

    from skmir._files import atomic_write, atomic_write_text
    from skmir.nn.basicpitch import LAYERS, BasicPitch
    from skmir.pretrained.cards import FORMAT, write_card

    out_dir = Path(out_dir)
    onnx_bytes, notice, licence, wheel_sha = read_package(package_dir)
    state, constants, convs = onnx_weights(onnx_bytes)
    module = BasicPitch().eval()
    cqt_errors = check_against_module(module, state, constants, convs)
    tensors = {k: torch.from_numpy(np.array(v, dtype=np.float32))
               for k, v in sorted(state.items())}
    weights = save(tensors, metadata={"format": "pt"})
    with atomic_write(out_dir / f"{NAME}.safetensors") as tmp:
        tmp.write_bytes(weights)
    atomic_write_text(out_dir / "LICENSE-basicpitch", notice.rstrip() + "\n\n" + "=" * 72
                      + "\n\n" + licence)
    with torch.no_grad():
        probe = module(torch.zeros(1, module.min_samples), layers=LAYERS)
    widths = {k: int(np.prod(v.shape[2:])) for k, v in probe.items()}
    card = {
        "format": FORMAT,
        "name": NAME,
        "architecture": "basicpitch",
        "description": ("basic-pitch (Spotify; Bittner et al., ICASSP 2022): a lightweight "
                        "instrument-agnostic polyphonic transcription network, harmonic CQT "
                        "to pitch-contour (3 bins per semitone), note and onset posteriors "
                        "per frame (88 keys). Converted to PyTorch from the package's ONNX "
                        "graph; parity with the original is tested."),
        "file": f"{NAME}.safetensors",
        "sha256": sha256_bytes(weights),
        "sr": 22050,
        "level": "frame",
        "task": "notes",
        "frame_rate": 22050 * 142 / 36164,
        "frame_offset": 0.0,
        "frame_rate_note": ("each window gives 142 frames 256 samples apart and windows "
                            "start 36164 samples apart (141.27 hops), so the frames are "
                            "not on one grid: frame_times gives each frame's centre; "
                            "frame_rate is their mean rate (22050 * 142 / 36164)"),
        "tags": tags(),
        "outputs": {"contour": [0, 264], "note": [264, 352], "onset": [352, 440]},
        "layers": widths,
        # the three posteriors: 440 values per frame, what the network was trained to
        # give; the maps are 2112-2816 wide
        "auto_layers": ["contour", "note", "onset"],
        "frontend": FRONTEND,
        "network": {"n_filters_contour": 8, "n_filters_notes": 32, "n_filters_onsets": 32,
                    "convolutions": convs, "cqt_constants_max_error": cqt_errors},
        "license": {
            "weights": "Apache-2.0",
            "code": "Apache-2.0 (basic-pitch); MIT (nnAudio, ported in nnaudio.py)",
            "copyright": "Copyright 2022 Spotify AB",
            "notice": "The Apache-2.0 licence requires its NOTICE to be kept with "
                      "redistributions; skmir ships it with the licence text",
            "file": "LICENSE-basicpitch",
        },
        "attribution": ("Basic Pitch, Copyright 2022 Spotify AB, Apache License 2.0 "
                        "(https://github.com/spotify/basic-pitch); weights converted from "
                        f"basic-pitch {VERSION}'s nmp.onnx."),
        "training": TRAINING,
        "scores": SCORES,
        "parity": parity,
        "source": {"package": "basic-pitch", "version": VERSION, "file": ONNX,
                   "sha256": sha256_bytes(onnx_bytes), "wheel_sha256": wheel_sha},
    }
    n_params = sum(int(v.numel()) for v in tensors.values())
    write_card(out_dir, card, lambda c: _markdown(c, n_params, len(weights)))
    print(f"{NAME}: {ONNX} -> {NAME}.safetensors ({len(weights):,} bytes, {n_params:,} "
          f"parameters); CQT constants within {max(cqt_errors.values()):.2e} of the graph's")
    return card


def main(argv=None):
    """Command line: ``python -m skmir.pretrained.convert_basicpitch --package-dir DIR``."""
    parser = argparse.ArgumentParser(prog="python -m skmir.pretrained.convert_basicpitch",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--package-dir", required=True,
                        help=f"folder with {WHEEL} or the unpacked package")
    parser.add_argument("--out-dir", default=str(HERE))
    parser.add_argument("--parity", default=PARITY, help="the card's parity sentence")
    args = parser.parse_args(argv)
    convert(args.package_dir, args.out_dir, args.parity)
    return 0


if __name__ == "__main__":
    sys.exit(main())
