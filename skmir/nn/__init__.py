"""The torch side of skmir: architecture language, blocks, builder and training net.

:mod:`skmir.nn.architecture` (the grammar) is pure Python and is imported here
eagerly; the torch modules load on first use, so checking an architecture string
costs no torch import.

Modules
-------
architecture
    Tokens, presets, :func:`parse_architecture` and :func:`layout`.
blocks
    Torch blocks for each token.
builder
    :class:`ArchitectureNet` and :func:`build_network`: sizes every layer from the data.
losses
    Cross-entropy, binary cross-entropy and squared error for clip and frame outputs.
training
    The skorch net that trains skmir's estimators (augmentation, AMP, seeding).
musicnn
    The musicnn and VGG networks of Pons and Serra (2019), and their fine-tuning.
representations
    STFT, mel, MFCC, CQT, chroma and log/dB as torch modules equal to librosa;
    :func:`~skmir.nn.representations.from_transformer`.
"""

from importlib import import_module

from skmir.nn.architecture import PRESETS, TOKENS, Layer, expand, layout, parse_architecture

_LAZY = {
    "ArchitectureNet": "skmir.nn.builder",
    "build_network": "skmir.nn.builder",
    "SkmirNet": "skmir.nn.training",
    "Musicnn": "skmir.nn.musicnn",
    "VGG": "skmir.nn.musicnn",
    "FineTunedMusicnn": "skmir.nn.musicnn",
}


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skmir.nn' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


__all__ = ["PRESETS", "TOKENS", "Layer", "expand", "layout", "parse_architecture", *_LAZY]
