"""Convert the four musicnn 0.1.0 networks to skmir's safetensors, without TensorFlow.

Run once by a developer, never at run time or in CI::

    pip download --no-deps musicnn==0.1.0 -d /tmp/musicnn
    python -m skmir.pretrained.convert_musicnn /tmp/musicnn/musicnn-0.1.0-py3-none-any.whl

For each of MTT_musicnn, MSD_musicnn, MTT_vgg and MSD_vgg it reads the TensorFlow 1
checkpoint inside the wheel by hand (the ``.index`` SSTable of ``BundleEntryProto``
records, the raw little-endian ``.data`` shard, the ``MetaGraphDef`` of ``.meta``),
checks every block and every kept tensor against its masked CRC-32C, and reads the
layer structure (kernels, paddings, poolings, batch-norm epsilons, dropout rates,
which tensor feeds which op) from the graph's inference path, not from musicnn's
``models.py`` (which is wrong for MSD_vgg). The weights become a
:class:`skmir.nn.musicnn.Musicnn` or :class:`skmir.nn.musicnn.VGG` state dict,
written with its model card next to this file:

``musicnn-mtt``, ``musicnn-msd``, ``vgg-mtt``, ``vgg-msd``
    ``<name>.safetensors`` (float32), ``<name>.json`` (the card loaded by
    :func:`skmir.pretrained.load_pretrained`) and ``<name>.md``; and
    ``LICENSE-musicnn``, musicnn's ISC licence as the wheel ships it.

Adam's slots (``*/Adam``, ``*/Adam_1``, ``beta1_power``, ``beta2_power``) are the
optimiser's state, not weights, and are skipped; any other variable the inference
path does not use is an error, so nothing is dropped silently.
"""

import ast
import io
import json
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from skmir._files import sha256_bytes
from skmir.pretrained.musicnn_graph import convert_checkpoint
from skmir.pretrained.tf_checkpoint import ConversionError

HERE = Path(__file__).parent

# name -> (folder in the wheel, architecture, dataset, tag list in configuration.py)
NETWORKS = {
    "musicnn-mtt": ("MTT_musicnn", "musicnn", "MagnaTagATune", "MTT_LABELS"),
    "musicnn-msd": ("MSD_musicnn", "musicnn", "Million Song Dataset", "MSD_LABELS"),
    "vgg-mtt": ("MTT_vgg", "vgg", "MagnaTagATune", "MTT_LABELS"),
    "vgg-msd": ("MSD_vgg", "vgg", "Million Song Dataset", "MSD_LABELS"),
}
CHECKPOINT_FILES = (".index", ".data-00000-of-00001", ".meta")
OTHER_FILES = ("config.json", "experiment.result", "checkpoint")

# musicnn's extractor.py and configuration.py; librosa's defaults of 2019 (0.6/0.7)
# for the rest: reflect padding, Slaney mel scale with Slaney (area) norm, 0 to sr/2
FRONTEND = {
    "sr": 16000,
    "n_fft": 512,
    "hop_length": 256,
    "win_length": 512,
    "window": "hann",
    "center": True,
    "pad_mode": "reflect",
    "pad_mode_note": ("musicnn ran on librosa < 0.10, which padded by reflection; zero "
                      "padding (pad_mode='constant', librosa >= 0.10) changes the tags of "
                      "a clip's first patch by up to 0.03 (8 clips of make_music)"),
    "power": 2.0,
    "n_mels": 96,
    "fmin": 0.0,
    "fmax": 8000.0,
    "htk": False,
    "norm": "slaney",
    "quantisation": "float16",
    "log_compression": "log10(10000 * S + 1), in float32 on the float16 mel power",
    "layout": "time x mel",
    "patch_frames": 187,
    "patch_hop": 187,
    "remainder": "dropped (musicnn's batch_data)",
    "pad_short": "repeat-pad",
}

DESCRIPTIONS = {
    "musicnn": ("musicnn's {folder}: musically motivated timbral and temporal filters, a "
                "residual mid end and a max- and mean-pooled dense back end, trained by Pons "
                "and Serra (2019) to tag {dataset} clips with 50 tags. Converted to PyTorch; "
                "parity with the TensorFlow graph is tested."),
    "vgg": ("musicnn's {folder}: the VGG-like baseline (five blocks of 3x3 convolution, "
            "batch norm and max pooling), trained by Pons and Serra (2019) to tag {dataset} "
            "clips with 50 tags. Converted to PyTorch; parity with the TensorFlow graph is "
            "tested."),
}

TRAINING_AUDIO = (
    "MTT audio (Magnatune clips of the MagnaTagATune dataset, Law et al. 2009) is CC "
    "BY-NC-SA 3.0 Unported (tagatune.org); MSD previews are copyrighted (7digital) and "
    "not openly licensed: use of the weights may be limited by them."
)



# --- cards and files ----------------------------------------------------------------


def write_atomic(path, data):
    """Write bytes to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; the package's files are world-readable
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _scores(text, filename):
    # MTT_musicnn labels its two figures; the other three print "AUC:" twice, the
    # ROC-AUC first and the PR-AUC second as in MTT_musicnn's file and musicnn's README
    values = [float(v) for v in re.findall(r"AUC:\s*([0-9.]+)", text)]
    if len(values) != 2:
        raise ConversionError(f"{filename}: expected two AUC figures, got {text!r}")
    return {"roc_auc": values[0], "pr_auc": values[1], "split": "test",
            "source_file": filename, "text": text.strip()}


def _licence(text):
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines[0].startswith("Copyright"):
        raise ConversionError(f"unexpected licence text: {lines[0]!r}")
    return lines[0], "\n\n".join(lines[1:])


def _tags(configuration, variable):
    for node in ast.parse(configuration).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] \
                == [variable]:
            return [str(t) for t in ast.literal_eval(node.value)]
    raise ConversionError(f"configuration.py defines no {variable}")


def _markdown(card, n_params, size):
    net, fe, sc = card["network"], card["frontend"], card["scores"]
    lines = [
        f"# {card['name']}",
        "",
        card["description"],
        "",
        "## Use",
        "",
        "```python",
        "from skmir.pretrained import load_pretrained",
        f'network = load_pretrained("{card["name"]}")  # network.module, network.card',
        "tags = network.run(waveforms, network.probabilities)  # 16 kHz mono, per patch",
        "```",
        "",
        "## Network",
        "",
        f"- Module: `skmir.nn.musicnn.{'Musicnn' if card['architecture'] == 'musicnn' else 'VGG'}`"
        f" with `{json.dumps(net)}`",
        f"- {n_params:,} parameters, float32, `{card['file']}` ({size:,} bytes, "
        f"SHA-256 `{card['sha256']}`)",
        f"- Exposed layers: {', '.join(f'`{x}`' for x in card['layers'])}",
        "",
        "## Input",
        "",
        f"- {fe['sr']} Hz mono; mel power spectrogram: n_fft {fe['n_fft']}, hop "
        f"{fe['hop_length']}, {fe['window']} window, centred with `{fe['pad_mode']}` padding, "
        f"{fe['n_mels']} Slaney mels with Slaney norm, {fe['fmin']:g}-{fe['fmax']:g} Hz, "
        f"power {fe['power']:g}",
        f"- quantised to {fe['quantisation']}, then {fe['log_compression']}",
        f"- patches of {fe['patch_frames']} frames (3 s), time x mel, hop {fe['patch_hop']}; "
        f"remainder {fe['remainder']}; clips shorter than a patch are repeat-padded",
        "",
        "## Training and scores",
        "",
        f"- Data: {card['training']['dataset']}; weights from the {card['training']['source']} "
        f"(`{card['training']['folder']}`, TensorFlow {card['training']['tensorflow']})",
        f"- Test ROC-AUC {sc['roc_auc']:.4f}, PR-AUC {sc['pr_auc']:.4f} "
        f"(`{sc['source_file']}`, as published; not re-measured here)",
        "",
        "## Tags (output order)",
        "",
        ", ".join(card["tags"]),
        "",
        "## Licence",
        "",
        f"Weights: {card['license']['weights']}, {card['license']['copyright']}",
        "",
        card["license"]["notice"],
        "",
        f"Training audio: {card['license']['training_audio']}",
        "",
    ]
    return "\n".join(lines)


def convert(wheel, out_dir=HERE):
    """Convert the four networks of a musicnn 0.1.0 wheel into ``out_dir``.

    Parameters
    ----------
    wheel : path
        ``musicnn-0.1.0-py3-none-any.whl``.
    out_dir : path, default=this folder

    Returns
    -------
    cards : dict of str to dict
    """
    import torch
    from safetensors.torch import save

    from skmir.nn.musicnn import VGG, Musicnn
    from skmir.pretrained.cards import FORMAT, write_card

    wheel, out_dir = Path(wheel), Path(out_dir)
    wheel_bytes = wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as zf:
        members = set(zf.namelist())

        def read(member):
            if member not in members:
                raise FileNotFoundError(f"{wheel} has no {member}: is it musicnn 0.1.0?")
            return zf.read(member)

        licence_text = read("musicnn-0.1.0.dist-info/LICENSE.md").decode("utf-8")
        configuration = read("musicnn/configuration.py").decode("utf-8")
        folders = {}
        for name, (folder, *_) in NETWORKS.items():
            folders[name] = {f: read(f"musicnn/{folder}/{f}")
                             for f in CHECKPOINT_FILES + OTHER_FILES}
    copyright_line, notice = _licence(licence_text)
    write_atomic(out_dir / "LICENSE-musicnn", licence_text.encode("utf-8"))

    cards = {}
    for name, (folder, architecture, dataset, labels) in NETWORKS.items():
        files = folders[name]
        kwargs, n_frames, state, tf_version = convert_checkpoint(files, architecture)
        if n_frames != FRONTEND["patch_frames"] or kwargs["n_mels"] != FRONTEND["n_mels"]:
            raise ConversionError(f"{folder}: input ({n_frames}, {kwargs['n_mels']}) does "
                                  "not match the front end")
        config = json.loads(files["config.json"])
        if config["n_frames"] != n_frames or config.get("pad_short") != "repeat-pad":
            raise ConversionError(f"{folder}/config.json disagrees with the graph")
        module = (Musicnn if architecture == "musicnn" else VGG)(**kwargs)
        tensors = {k: torch.from_numpy(v) for k, v in state.items()}
        expected = {k for k in module.state_dict() if not k.endswith("num_batches_tracked")}
        if set(tensors) != expected:
            raise ConversionError(f"{folder}: keys {sorted(set(tensors) ^ expected)} differ")
        module.load_state_dict(tensors, strict=False)
        tags = _tags(configuration, labels)
        if len(tags) != kwargs["n_tags"]:
            raise ConversionError(f"{folder}: {len(tags)} tags, {kwargs['n_tags']} outputs")
        # one metadata key: safetensors writes a dict of several in no fixed order,
        # and the file must be the same at every conversion
        weights = save(tensors, metadata={"format": "pt"})
        write_atomic(out_dir / f"{name}.safetensors", weights)
        card = {
            "format": FORMAT,
            "name": name,
            "description": DESCRIPTIONS[architecture].format(folder=folder, dataset=dataset),
            "file": f"{name}.safetensors",
            "sha256": sha256_bytes(weights),
            "architecture": architecture,
            "network": kwargs,
            "sr": FRONTEND["sr"],
            "frontend": FRONTEND,
            "tags": tags,
            "layers": list(module.layers),
            "training": {
                "dataset": dataset,
                "source": "musicnn 0.1.0 wheel",
                "folder": f"musicnn/{folder}",
                "wheel_sha256": sha256_bytes(wheel_bytes),
                "tensorflow": tf_version,
                "source_files": {f"musicnn/{folder}/{f}": sha256_bytes(files[f])
                                 for f in CHECKPOINT_FILES + OTHER_FILES},
                "config": {k: config[k] for k in (
                    "n_frames", "pre_processing", "pad_short", "train_sampling", "epochs",
                    "batch_size", "weight_decay", "learning_rate", "optimizer", "patience")},
            },
            "scores": _scores(files["experiment.result"].decode("utf-8"),
                              f"musicnn/{folder}/experiment.result"),
            "license": {
                "weights": "ISC",
                "copyright": copyright_line,
                "notice": notice,
                "file": "LICENSE-musicnn",
                "training_audio": TRAINING_AUDIO,
            },
        }
        n_params = sum(int(np.prod(v.shape)) for v in state.values())
        size = len(weights)
        write_card(out_dir, card, lambda c, n=n_params, size=size: _markdown(c, n, size))
        cards[name] = card
        print(f"{name}: {folder} -> {name}.safetensors ({len(weights):,} bytes, "
              f"{n_params:,} parameters)")
    return cards


def main(argv=None):
    """Command line: ``python -m skmir.pretrained.convert_musicnn WHEEL [OUT_DIR]``."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2) or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    convert(argv[0], argv[1] if len(argv) == 2 else HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
