"""The torch side of skmir: architecture language, blocks, builder and training net.

Every name and submodule loads on first use (``lazy_loader``), so checking an
architecture string (:mod:`skmir.nn.architecture`, pure Python) costs no torch
import.

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
basicpitch
    basic-pitch's note transcription network (Bittner et al., 2022), CQT included.
crepe
    CREPE, the pitch network of Kim et al. (2018), as torchcrepe builds it.
beatnet
    BeatNet's beat and downbeat CRNN (Heydari et al., 2021), stateless.
representations
    STFT, mel, MFCC, CQT, chroma and log/dB as torch modules equal to librosa;
    :func:`~skmir.nn.representations.from_transformer`.
device
    :func:`~skmir.nn.device.resolve_device`: a ``device`` parameter, checked once.
frontends
    Front ends: the representation as the network's first layers, named or learned.
waveform_net
    :class:`~skmir.nn.waveform_net.WaveformNet`: a front end, its standardisation and
    a network; the callback that measures the standardisation.
augmentation
    Augmentation of training batches of spectrograms and waveforms.
vocoder
    Time stretch and pitch shift in torch, as librosa does them.
"""

import lazy_loader

# Public names, by the submodule that defines each.
_NAMES = {
    "architecture": ["PRESETS", "TOKENS", "Layer", "expand", "layout", "parse_architecture"],
    "builder": ["ArchitectureNet", "build_network"],
    "training": ["SkmirNet"],
    "musicnn": ["Musicnn", "VGG", "FineTunedMusicnn"],
    "crepe": ["Crepe"],
    "basicpitch": ["BasicPitch"],
}
_SUBMODULES = ["architecture", "augmentation", "basicpitch", "blocks", "builder", "crepe",
               "device", "frontends", "losses", "musicnn", "representations", "training",
               "vocoder", "waveform_net"]

__getattr__, __dir__, _ = lazy_loader.attach(__name__, submodules=_SUBMODULES,
                                             submod_attrs=_NAMES)

__all__ = [name for names in _NAMES.values() for name in names]
