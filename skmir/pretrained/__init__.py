"""Pretrained source networks shipped with skmir, for transfer learning.

Each network is two files in this folder: the weights (``<name>.pt``, written by
:meth:`skmir.NeuralTagger.save` and read with ``torch.load(..., weights_only=True)``)
and a model card (``<name>.json``: the sample rate and the representation the network
expects, its training data and scores, and the SHA-256 of the weights, checked on
every load; ``<name>.md`` is the same card for people). Nothing is downloaded: the
networks are small and trained on :func:`skmir.datasets.make_music` by
``python -m skmir.pretrained.train``.

Listing and reading cards needs no torch; :func:`load_pretrained` imports it.
"""

import json
from pathlib import Path

from skmir._files import sha256

_HERE = Path(__file__).parent
_FORMAT = "skmir-pretrained/1"


def list_pretrained():
    """Names of the pretrained networks shipped with skmir.

    Returns
    -------
    names : list of str
        Each one is a valid ``source`` of :class:`skmir.TransferFeatures`.

    Examples
    --------
    >>> from skmir import list_pretrained
    >>> list_pretrained()
    ['choi2017-tags']
    """
    names = []
    for path in sorted(_HERE.glob("*.json")):
        try:
            card = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(card, dict) and card.get("format") == _FORMAT:
            names.append(card["name"])
    return names


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
    names = list_pretrained()
    if not isinstance(name, str) or name not in names:
        raise ValueError(
            f"{name!r} is not a pretrained network shipped with skmir; "
            f"list_pretrained() gives {names}."
        )
    return json.loads((_HERE / f"{name}.json").read_text())


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

    card = model_card(name)
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


__all__ = ["list_pretrained", "load_pretrained", "model_card"]
