"""Train the shipped key network ``keycnn-key``, and write its model card.

A developer's tool, not part of the package (it trains with the neural estimators,
which sit above :mod:`skmir.pretrained`). Reproduces ``skmir/pretrained/keycnn-key.pt``
and its model card (``keycnn-key.json``, read by
:func:`skmir.pretrained.load_pretrained`, and ``keycnn-key.md`` for people)::

    python tools/train_keycnn.py              # the shipped network (2-core CPU, ~8 min)
    python tools/train_keycnn.py --quick --out /tmp/pretrained   # a smoke run

The network is the ``keycnn`` preset (c2-c2-p1-c2-c2-p1-c2-k1: 3x3 convolutions that
keep the pitch axis of a 12-bin-per-octave log-CQT, and the key head ``k1`` whose
weights are shared by the 12 tonics), trained as a :class:`skmir.NeuralClassifier` of
the 24 keys on :func:`skmir.datasets.make_music` (``task="key"``,
``harmony="rich"``). Only clips of five of the eight styles are kept for training
(:data:`TRAIN_GENRES`): the other three are styles it never saw, on which its
transfer to mode is measured (``examples/key_and_mode.py``). Its held-out scores
are on new clips of the training styles and of the unseen ones.

Each run is reproducible on a CPU: fixed seeds for the data and the network.
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np

NAME = "keycnn-key"
SR = 22050
DURATION = 8.0
#: The network computes nothing itself, so the loader (skmir.pretrained.native)
#: rebuilds exactly this front end from the card: CQT (84 bins from C1, 12 per
#: octave, frames of 4096 samples: key needs no finer time) and log compression.
CQT_PARAMS = dict(hop_length=4096, n_bins=84, bins_per_octave=12)
LOG = dict(method="log", eps=1e-6)
NETWORK = dict(architecture="keycnn", channels=16, kernel_size=3, pool=2,
               global_pool="mean")
FIT = dict(max_epochs=40, lr=3e-3, freq_mask=0, mixup=0, crop_frames=None, early_stopping=False,
           random_state=0)
TRAIN = dict(n_clips=2400, random_state=2024)
TEST = dict(n_clips=480, random_state=2025)
#: The styles of make_music whose clips train the network; the rest stay unseen.
TRAIN_GENRES = ("rock", "pop", "jazz", "folk", "electronic")
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "skmir" / "pretrained"


def make_data(n_clips, random_state, n_jobs):
    """Waveforms, key labels (mir_eval strings) and genres of generated key clips."""
    from skmir.datasets import make_music

    music = make_music("key", n_clips=n_clips, duration=DURATION, sr=SR,
                       harmony="rich", random_state=random_state, n_jobs=n_jobs)
    return music.data, music.target_names[music.target], music.metadata["genre"]


def card_markdown(card):
    """The model card for people, from the card's JSON."""
    s, t = card["scores"], card["training"]
    return f"""# Model card: {card['name']}

{card['description']}

## Input
Mono waveforms at **{card['sr']} Hz** (load audio with `AudioLoader(sr={card['sr']})`).
`PretrainedTagger("{card['name']}")` and `TransferFeatures("{card['name']}")` compute
the representation themselves:
`CQT({', '.join(f'{k}={v!r}' for k, v in card['representation'].items())})`
-> `LogCompression({', '.join(f'{k}={v!r}' for k, v in card['log_compression'].items())})`.
Any clip length works (global pooling).

## Network
`keycnn` = `c2-c2-p1-c2-c2-p1-c2-k1`: five 3x3 convolutions of
{card['network']['channels']} channels (batch norm, ReLU) that keep the pitch axis,
2x pooling over time, and the key head `k1`: the pitch axis folded into 12 pitch
classes, time and octaves averaged, and each (tonic, mode) scored by one set of
weights rotated to the tonic, so the network is equivariant to transposition.
Softmax over the 24 keys ({card['n_parameters']} parameters). Features for transfer:
the global average of each convolution's channels.

## Training data
`make_music("key", n_clips={t['train']['n_clips']}, duration={DURATION}, sr={SR},
harmony="rich", random_state={t['train']['random_state']})`, keeping the clips of the
styles {', '.join(t['train_genres'])} ({t['train']['kept']} clips). Labels: the 24
keys in mir_eval's syntax. NeuralClassifier with Adam 3e-3, no augmentation (a band
mask can hide the third that makes the mode), {t['epochs']} epochs;
{t['fit_seconds']:.0f} s on {t['machine']}.

## Scores
Held-out clips: `make_music("key", n_clips={t['test']['n_clips']}, harmony="rich",
random_state={t['test']['random_state']})`. Generated music only: a claim about
generated music.

| clips | n | accuracy | MIREX weighted score | mode accuracy |
| --- | --- | --- | --- | --- |
{_row("styles seen in training", s["seen"])}
{_row("styles never seen", s["unseen"])}

The key template (`make_key_baseline()`) on the same clips: accuracy
{s['template']['accuracy']:.3f}, weighted score {s['template']['weighted']:.3f}, mode
accuracy {s['template']['mode_accuracy']:.3f}.

## Licence
Weights: BSD-3-Clause, as skmir (trained by skmir on audio skmir generates; no third-
party audio).

## Limits
The instruments are synthesised and the harmony generated: an honest source model for
experiments on key and mode, not a key estimator for real recordings. Reproduce with
`{t['command']}`.
"""


def _row(what, s):
    return (f"| {what} | {s['n']} | {s['accuracy']:.3f} | {s['weighted']:.3f} | "
            f"{s['mode_accuracy']:.3f} |")


def _scores(y_true, y_pred):
    from skmir.tonality import weighted_key_score

    mode = np.array([k.split()[1] for k in y_true]) == np.array([k.split()[1] for k in y_pred])
    return {"n": int(len(y_true)), "accuracy": float(np.mean(y_true == y_pred)),
            "weighted": weighted_key_score(y_true, y_pred),
            "mode_accuracy": float(np.mean(mode))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few clips and epochs")
    parser.add_argument("--out", default=str(PACKAGE_DATA),
                        help="folder for the weights and the model card")
    parser.add_argument("--n-jobs", type=int, default=2, help="processes for the data")
    args = parser.parse_args(argv)

    import torch
    from sklearn.pipeline import make_pipeline

    import skmir
    from skmir._files import sha256
    from skmir.pretrained.cards import FORMAT, write_card

    train = dict(TRAIN, n_clips=96) if args.quick else TRAIN
    test = dict(TEST, n_clips=48) if args.quick else TEST
    fit = dict(FIT, max_epochs=2) if args.quick else FIT
    t0 = time.perf_counter()
    X_train, y_train, g_train = make_data(train["n_clips"], train["random_state"], args.n_jobs)
    X_test, y_test, g_test = make_data(test["n_clips"], test["random_state"], args.n_jobs)
    keep = np.isin(g_train, TRAIN_GENRES)
    X_train, y_train = X_train[keep], y_train[keep]
    print(f"data: {len(X_train)} training clips ({', '.join(TRAIN_GENRES)}), "
          f"{len(X_test)} test clips, in {time.perf_counter() - t0:.0f} s")

    front = make_pipeline(skmir.CQT(sr=SR, **CQT_PARAMS), skmir.LogCompression(**LOG))
    S_train, S_test = front.fit_transform(X_train), front.transform(X_test)
    clf = skmir.NeuralClassifier(**NETWORK, **fit, verbose=1)
    t0 = time.perf_counter()
    clf.fit(S_train, y_train)
    fit_seconds = time.perf_counter() - t0

    pred = clf.predict(S_test)
    seen = np.isin(g_test, TRAIN_GENRES)
    template = skmir.make_key_baseline(sr=SR).fit(X_test, y_test).predict(X_test)
    scores = {"seen": _scores(y_test[seen], pred[seen]),
              "unseen": _scores(y_test[~seen], pred[~seen]),
              "template": _scores(y_test, template)}
    for k, v in scores.items():
        print(f"{k}: {v}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{NAME}.pt"
    clf.save(weights)
    card = {
        "format": FORMAT,
        "name": NAME,
        "architecture": "skmir",
        "description": (
            "The transposition-equivariant keycnn (convolutions over a log-CQT that keep "
            "the pitch axis, and a key head shared by the 12 tonics) trained on generated "
            "music (make_music, harmony='rich') to name the key of a clip among 24. A "
            "source network for key and mode: PretrainedTagger gives the 24 key "
            "probabilities, TransferFeatures its channels' averages."
        ),
        "file": weights.name,
        "sha256": sha256(weights),
        "estimator": "NeuralClassifier",
        "sr": SR,
        "representation_kind": "cqt",
        "representation": CQT_PARAMS,
        "log_compression": LOG,
        "network": NETWORK,
        "n_parameters": int(sum(p.numel() for p in clf.net_.module_.parameters())),
        "tags": [str(c) for c in clf.classes_],
        "training": {
            "train": {"task": "key", "duration": DURATION, "harmony": "rich", **train,
                      "kept": int(keep.sum())},
            "train_genres": list(TRAIN_GENRES),
            "test": {"task": "key", "duration": DURATION, "harmony": "rich", **test},
            "epochs": len(clf.history_),
            "fit_seconds": fit_seconds,
            "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
            "versions": {"skmir": skmir.__version__, "torch": torch.__version__},
            "command": "python tools/train_keycnn.py" + (" --quick" if args.quick else ""),
        },
        "scores": scores,
        "license": {"weights": "BSD-3-Clause (skmir's licence)",
                    "training_audio": "generated by skmir.datasets.make_music"},
    }
    write_card(out, card, card_markdown)
    print(f"wrote {weights} ({weights.stat().st_size / 1e3:.0f} kB) and its model card")
    return card


if __name__ == "__main__":
    main()
