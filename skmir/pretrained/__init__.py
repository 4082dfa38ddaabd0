"""Pretrained source networks shipped with skmir, for transfer learning and tagging.

Each network is a weights file and a model card in this folder: ``<name>.json`` for
code (the sample rate and front end the network expects, its tags, training data,
scores, licence, and two SHA-256 digests, of the weights file and of the card itself,
both checked on every load) and ``<name>.md`` for people. Nothing is downloaded.

- ``choi2017-tags``: a convnet in the style of Choi et al. (2017) trained on
  :func:`skmir.datasets.make_music` by ``python -m skmir.pretrained.train``; a
  :class:`skmir.NeuralTagger` file, read with ``torch.load(..., weights_only=True)``
  by :func:`load_pretrained`.
- ``musicnn-mtt``, ``musicnn-msd``, ``vgg-mtt``, ``vgg-msd``: the four networks of
  musicnn 0.1.0 (Pons and Serra, 2019), trained on real music (MagnaTagATune, the
  Million Song Dataset), converted to safetensors by
  ``python -m skmir.pretrained.convert_musicnn``; see :mod:`skmir.pretrained.musicnn`.

Listing and reading cards needs no torch.
"""

import hashlib
import json
from pathlib import Path

from skmir._files import sha256

_HERE = Path(__file__).parent
_FORMAT = "skmir-pretrained/1"


def _cards():
    cards = {}
    for path in sorted(_HERE.glob("*.json")):
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(card, dict) and card.get("format") == _FORMAT and "name" in card:
            cards[card["name"]] = card
    return cards


def list_pretrained():
    """Names of the pretrained networks shipped with skmir.

    Returns
    -------
    names : list of str
        Each one is a valid ``source`` of :class:`skmir.TransferFeatures` and of
        :class:`skmir.PretrainedTagger`.

    Examples
    --------
    >>> from skmir import list_pretrained
    >>> list_pretrained()
    ['choi2017-tags', 'musicnn-msd', 'musicnn-mtt', 'vgg-msd', 'vgg-mtt']
    """
    return sorted(_cards())


def card_digest(card):
    """SHA-256 of a model card's canonical JSON, without its ``card_sha256`` key.

    Canonical: keys sorted, no whitespace, UTF-8. The loaders compare it with the
    card's ``card_sha256``, so an edited parameter is caught like a replaced weight.

    Parameters
    ----------
    card : dict

    Returns
    -------
    digest : str
    """
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def is_musicnn(name):
    """Whether ``name`` is one of the shipped musicnn networks (not a NeuralTagger).

    Examples
    --------
    >>> from skmir.pretrained import is_musicnn
    >>> is_musicnn("musicnn-msd"), is_musicnn("choi2017-tags")
    (True, False)
    """
    # Every neural estimator asks this of its architecture string at fit: read the one
    # card the name could be, not all of them.
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        return False
    path = _HERE / f"{name}.json"
    if not path.is_file():
        return False
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(card, dict) and card.get("format") == _FORMAT \
        and card.get("name") == name and card.get("architecture") in ("musicnn", "vgg")


def model_card(name):
    """The model card of a shipped network, as a dict.

    Parameters
    ----------
    name : str
        One of :func:`list_pretrained`.

    Returns
    -------
    card : dict
        Keys include ``"sr"``, ``"representation"`` (MelSpectrogram parameters),
        ``"log_compression"``, ``"standardisation"``, ``"network"``, ``"tags"``,
        ``"training"``, ``"scores"`` and ``"sha256"``.

    Examples
    --------
    >>> from skmir.pretrained import model_card
    >>> card = model_card("choi2017-tags")
    >>> card["sr"], card["network"]["architecture"]
    (16000, 'c2-p2-c2-p2-c2-p2-c2-p2-c2')
    """
    cards = _cards()
    if not isinstance(name, str) or name not in cards:
        raise ValueError(
            f"{name!r} is not a pretrained network shipped with skmir; "
            f"list_pretrained() gives {sorted(cards)}."
        )
    return cards[name]


def load_pretrained(name, device="cpu"):
    """Load a shipped network and the front end that computes its input.

    Parameters
    ----------
    name : str
        One of :func:`list_pretrained`.
    device : str, default="cpu"
        Torch device of the network.

    Returns
    -------
    frontend : sklearn.pipeline.Pipeline
        Fitted ``MelSpectrogram -> LogCompression -> SpectrogramScaler`` with the
        card's parameters and training statistics: waveforms at the card's ``sr`` in,
        the network's input out.
    network : skmir.NeuralTagger
        The fitted source network.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> frontend, network = load_pretrained("choi2017-tags")
    >>> S = frontend.transform(np.zeros((1, 16000), dtype="float32"))
    >>> S.shape, network.predict_proba(S).shape
    ((1, 64, 32), (1, 23))
    """
    import numpy as np

    from skmir.neural import NeuralTagger
    from skmir.pipelines import make_logmel_frontend

    if is_musicnn(name):
        raise ValueError(
            f"{name!r} is a musicnn network, not a NeuralTagger: use it through "
            "TransferFeatures or PretrainedTagger, or load it with "
            "skmir.pretrained.musicnn.load_musicnn."
        )
    card = model_card(name)
    if card.get("card_sha256") != card_digest(card):
        raise ValueError(
            f"the model card of {name!r} ({_HERE / (name + '.json')}) was edited or is "
            f"corrupt: the SHA-256 of its parameters is {card_digest(card)}, its "
            f"card_sha256 says {card.get('card_sha256')}. Reinstall skmir."
        )
    path = _HERE / card["file"]
    if not path.is_file():
        raise FileNotFoundError(f"the weights of {name!r} are missing: {path} (reinstall skmir).")
    digest = sha256(path)
    if digest != card["sha256"]:
        raise ValueError(
            f"the weights of {name!r} ({path}) do not match the model card: SHA-256 "
            f"{digest}, expected {card['sha256']}. The file is corrupt or was replaced; "
            "reinstall skmir or rerun python -m skmir.pretrained.train."
        )
    network = NeuralTagger.load(path, device=device)
    frontend = make_logmel_frontend(card["sr"], **card["representation"],
                                    log_compression=card["log_compression"])
    # The scaler is "fitted" with the source training set's statistics, from the card.
    scaler = frontend.named_steps["spectrogramscaler"]
    scaler.mean_ = np.asarray(card["standardisation"]["mean"], dtype=np.float32)
    scaler.scale_ = np.asarray(card["standardisation"]["scale"], dtype=np.float32)
    scaler.n_features_in_ = len(scaler.mean_)
    return frontend, network


__all__ = ["card_digest", "is_musicnn", "list_pretrained", "load_pretrained", "model_card"]
