"""Train the pretrained source network ``choi2017-tags``, and write its model card.

A developer's tool, not part of the package (it trains with the neural estimators,
which sit above :mod:`skmir.pretrained`). Reproduces
``skmir/pretrained/choi2017-tags.pt`` and its model card (``choi2017-tags.json``,
read by :func:`skmir.pretrained.load_pretrained`, and ``choi2017-tags.md`` for
people)::

    python tools/train_choi2017.py              # the shipped network (CPU, ~20 min)
    python tools/train_choi2017.py --quick --out /tmp/pretrained   # a smoke run

The source task follows Choi et al. (2017, "Transfer learning for music classification
and regression tasks"): a convnet of five 3x3 convolutional layers of 32 channels,
each followed by batch normalisation, ReLU and 2x2 max pooling, trained for multi-label
tagging of log-mel-spectrograms. The clips come from :func:`skmir.datasets.make_music`
(task ``"tags"``) with the genre tags removed: the network learns instruments,
drums, mode, tempo class, meter, swing and distortion, never genre, so that genre is a
target task whose labels it has not seen.

Each run is reproducible on a CPU: fixed seeds for the data and the network.
"""

import argparse
import platform
import time
from pathlib import Path

import numpy as np

NAME = "choi2017-tags"
SR = 16000
DURATION = 5.0
# Input representation: the network computes nothing itself, so the loader
# (skmir.pretrained.native) rebuilds exactly this front end from the card.
MEL = dict(sr=SR, n_fft=1024, hop_length=512, n_mels=64, fmin=0.0, fmax=SR / 2, htk=False,
           norm="slaney", power=2.0)
LOG = dict(method="log", eps=1e-6)
NETWORK = dict(architecture="c2-p2-c2-p2-c2-p2-c2-p2-c2", channels=32, kernel_size=3,
               pool=2, dropout=0.1, global_pool="mean")
TRAIN = dict(n_clips=4000, random_state=2017)
# where the shipped files are: skmir/pretrained of this repository
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "skmir" / "pretrained"
TEST = dict(n_clips=600, random_state=2018)


def source_tags():
    """The tags of make_music's "tags" task minus the genres."""
    from skmir.datasets import GENRES, TAGS

    return [t for t in TAGS if t not in GENRES]


def make_data(n_clips, random_state, tags, n_jobs):
    from skmir.datasets import make_music

    music = make_music("tags", n_clips=n_clips, duration=DURATION, sr=SR,
                       random_state=random_state, n_jobs=n_jobs)
    keep = [list(music.target_names).index(t) for t in tags]
    return music.data, music.target[:, keep]


def card_markdown(card):
    """The model card for people, from the card's JSON."""
    s = card["scores"]
    per_tag = "\n".join(f"| {t} | {card['tag_frequency'][t]:.3f} | {a:.3f} |"
                        for t, a in s["roc_auc_per_tag"].items())
    return f"""# Model card: {card['name']}

{card['description']}

## Input
Mono waveforms at **{card['sr']} Hz** (load audio with `AudioLoader(sr={card['sr']})`).
`TransferFeatures("{card['name']}")` computes the representation itself:
`MelSpectrogram({', '.join(f'{k}={v!r}' for k, v in card['representation'].items())})`
-> `LogCompression({', '.join(f'{k}={v!r}' for k, v in card['log_compression'].items())})`
-> standardisation per mel bin with the training set's mean and standard deviation
(stored in the card). Any clip length works (global pooling).

## Network
`{card['network']['architecture']}`, {card['network']['channels']} channels, 3x3 kernels,
2x2 max pooling, batch normalisation, ReLU, dropout {card['network']['dropout']}; global
average pooling and a sigmoid output per tag. {card['n_parameters']} parameters.
Features for transfer: the global average of each of the 5 conv layers' 32 channels
(160 features), as in Choi et al. (2017).

## Training data
`make_music("tags", n_clips={card['training']['train']['n_clips']}, duration={DURATION},
sr={SR}, random_state={card['training']['train']['random_state']})`, genre tags removed
({len(card['tags'])} tags). NeuralTagger defaults otherwise (Adam 1e-3, random crops of
half the clip, gain, SpecAugment, mixup 0.2, early stopping on a tenth, patience
{card['training']['n_iter_no_change']}, at most {card['training']['max_epochs']} epochs);
{card['training']['epochs']} epochs run, the best one's weights kept;
{card['training']['fit_seconds']:.0f} s on {card['training']['machine']}.

## Scores on the source task
Held-out clips: `make_music("tags", n_clips={card['training']['test']['n_clips']},
random_state={card['training']['test']['random_state']})`.
Macro ROC-AUC {s['roc_auc_macro']:.3f}, micro ROC-AUC {s['roc_auc_micro']:.3f},
macro F1 at 0.5 {s['f1_macro']:.3f}.

| tag | positive rate (test) | ROC-AUC |
| --- | --- | --- |
{per_tag}

## Limits
Generated music only: the instruments are synthesised and the mixes simple, so the
network is a small, honest source model for experiments and tests, not a tagger for
real recordings. Reproduce with `{card['training']['command']}`.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few clips and epochs")
    parser.add_argument("--out", default=str(PACKAGE_DATA),
                        help="folder for the weights and the model card")
    parser.add_argument("--n-jobs", type=int, default=2, help="processes for the data")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads for training (default: torch's choice)")
    args = parser.parse_args(argv)

    import torch
    from sklearn.metrics import f1_score, roc_auc_score

    import skmir
    from skmir._files import sha256
    from skmir.neural import NeuralTagger
    from skmir.pipelines import make_logmel_frontend
    from skmir.pretrained.cards import FORMAT, write_card

    train = dict(TRAIN, n_clips=60) if args.quick else TRAIN
    test = dict(TEST, n_clips=30) if args.quick else TEST
    if args.threads:
        torch.set_num_threads(args.threads)
    tags = source_tags()
    t0 = time.perf_counter()
    X_train, Y_train = make_data(train["n_clips"], train["random_state"], tags, args.n_jobs)
    X_test, Y_test = make_data(test["n_clips"], test["random_state"], tags, args.n_jobs)
    print(f"data: {len(X_train)} + {len(X_test)} clips in {time.perf_counter() - t0:.0f} s")

    front = make_logmel_frontend(**MEL, log_compression=LOG, n_jobs=args.n_jobs)
    S_train = front.fit_transform(X_train)
    S_test = front.transform(X_test)
    tagger = NeuralTagger(**NETWORK, max_epochs=3 if args.quick else 40, random_state=0,
                          verbose=1)
    t0 = time.perf_counter()
    tagger.fit(S_train, Y_train)
    fit_seconds = time.perf_counter() - t0

    P = tagger.predict_proba(S_test)
    scored = [j for j in range(len(tags)) if 0 < Y_test[:, j].sum() < len(Y_test)]
    per_tag = {tags[j]: float(roc_auc_score(Y_test[:, j], P[:, j])) for j in scored}
    scores = {
        "roc_auc_macro": float(np.mean(list(per_tag.values()))),
        "roc_auc_micro": float(roc_auc_score(Y_test[:, scored], P[:, scored],
                                             average="micro")),
        "f1_macro": float(f1_score(Y_test, P >= 0.5, average="macro", zero_division=0)),
        "roc_auc_per_tag": per_tag,
    }
    print(f"test macro ROC-AUC {scores['roc_auc_macro']:.3f}, "
          f"micro {scores['roc_auc_micro']:.3f}, macro F1 {scores['f1_macro']:.3f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / f"{NAME}.pt"
    tagger.save(weights)
    scaler = front[-1]
    card = {
        "format": FORMAT,
        "name": NAME,
        "description": (
            "A convnet in the style of Choi et al. (2017) trained to tag generated music "
            "(make_music) with instruments, drums, mode, tempo class, meter, swing and "
            "distortion; never genre. A source network for TransferFeatures."
        ),
        "file": weights.name,
        "sha256": sha256(weights),
        "estimator": "NeuralTagger",
        "sr": SR,
        "representation": {k: v for k, v in MEL.items() if k != "sr"},
        "log_compression": LOG,
        "standardisation": {"mean": [float(v) for v in scaler.mean_],
                            "scale": [float(v) for v in scaler.scale_]},
        "network": NETWORK,
        "n_parameters": int(sum(p.numel() for p in tagger.net_.module_.parameters())),
        "tags": tags,
        "tag_frequency": {t: float(f) for t, f in zip(tags, Y_test.mean(axis=0))},
        "training": {
            "train": {"task": "tags", "duration": DURATION, **train},
            "test": {"task": "tags", "duration": DURATION, **test},
            "epochs": len(tagger.history_),
            "max_epochs": tagger.max_epochs,
            "n_iter_no_change": tagger.n_iter_no_change,
            "fit_seconds": fit_seconds,
            "machine": f"{platform.machine()} CPU, {torch.get_num_threads()} threads",
            "versions": {"skmir": skmir.__version__, "torch": torch.__version__},
            "command": "python tools/train_choi2017.py" + (" --quick" if args.quick else ""),
        },
        "scores": scores,
    }
    write_card(out, card, card_markdown)
    print(f"wrote {weights} ({weights.stat().st_size / 1e3:.0f} kB) and its model card")
    return card


if __name__ == "__main__":
    main()
