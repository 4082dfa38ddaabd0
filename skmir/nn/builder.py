"""Build a torch module from parsed layers, sizing every layer from the input shape.

The user never types ``n_mels`` or ``n_frames``: the builder follows the shape
``(channels, bins)`` of the data through the layers and gives each one the input
size it will see. The number of frames stays free, so a network trained on crops
predicts over whole clips of any length.

Clip-level networks (``output="clip"``) end in one vector per clip: unless an r2
layer has already collapsed time, a global pooling over the remaining frames is
placed before the dense head (the trailing run of d1 layers), or after the output
layer when that is a d2 (a fully convolutional head whose scores are pooled over
time). Frame-level networks (``output="frame"``) keep every frame: pooling then acts
on frequency only and the output is ``(batch, frames, n_outputs)``.
"""

from torch import nn

from skmir.nn import blocks
from skmir.nn.architecture import OUTPUTS

# Defaults for a layer parameter that the caller did not give.
_DEFAULTS = {
    "channels": 16,
    "kernel_size": 3,
    "pool": 2,
    "hidden": 64,
    "context": 3,
    "activation": "relu",
    "batch_norm": True,
    "dropout": 0.0,
    "cell": "gru",
    "bidirectional": False,
}


def _get(layer, name):
    value = layer.params.get(name, _DEFAULTS[name])
    if name in ("kernel_size", "pool") and layer.token in ("c2", "p2") \
            and not isinstance(value, tuple):
        value = (value, value)
    return value


def _head_start(layers):
    """Index of the first layer of the dense head (the trailing run of d1 layers)."""
    i = len(layers)
    while i > 0 and layers[i - 1].token in ("d1", "out"):
        i -= 1
    return i


class ArchitectureNet(nn.Module):
    """A network in the paper's notation, sized for inputs of a given shape.

    Parameters
    ----------
    layers : list of skmir.nn.architecture.Layer
        From :func:`skmir.nn.architecture.layout`.
    input_shape : tuple of int
        ``(n_channels, n_bins)`` or ``(n_channels, n_bins, n_frames)`` of one clip
        (the frame count, if given, is ignored: any length works).
    n_outputs : int
        Width of the output layer (classes, tags or regression targets).
    output : {"clip", "frame"}, default="clip"
    global_pool : {"mean", "max"}, default="mean"
        How clip-level networks pool the remaining frames.
    key_targets : tuple (kind, index) or None, default=None
        For a network ending in the key head ``k1``: whether its outputs are keys or
        modes and which (from :func:`skmir.tonality.key_targets` of the classes).

    Attributes
    ----------
    shapes : list of (str, tuple)
        Each layer's token and its output shape ``(channels, bins)`` (or
        ``(features,)`` after global pooling), for inspection.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn import ArchitectureNet, layout
    >>> net = ArchitectureNet(layout("crnn", channels=8, hidden=16), (1, 32), n_outputs=3)
    >>> net(torch.zeros(2, 1, 32, 50)).shape, net(torch.zeros(2, 1, 32, 3)).shape
    (torch.Size([2, 3]), torch.Size([2, 3]))
    """

    def __init__(self, layers, input_shape, n_outputs, output="clip", global_pool="mean",
                 key_targets=None):
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}.")
        channels, bins = int(input_shape[0]), int(input_shape[1])
        clip = output == "clip"
        head = _head_start(layers) if clip else len(layers)
        modules, self.shapes, flat = [], [], None  # flat: features after global pooling
        for i, layer in enumerate(layers):
            tok = layer.token
            if clip and i == head:
                modules.append(blocks.GlobalPool(global_pool))
                flat = channels * bins
                self.shapes.append(("global pool", (flat,)))
            act = None if layer.output else _get(layer, "activation")
            dropout = 0.0 if layer.output else _get(layer, "dropout")
            width = n_outputs if layer.output else None
            if tok == "k1":
                modules.append(_key_head(layers, channels, bins, n_outputs, key_targets,
                                         global_pool))
                flat = n_outputs
            elif tok == "c2":
                width = _get(layer, "channels")
                modules.append(blocks.Conv2d(channels, width, _get(layer, "kernel_size"),
                                             _get(layer, "batch_norm"), act, dropout))
                channels = width
            elif tok in ("p1", "p2"):
                size = _get(layer, "pool")
                if tok == "p1":
                    size = (size, 1) if not clip else (1, size)
                elif not clip:
                    size = (size[0], 1)
                modules.append(blocks.Pool(*size))
                bins = bins // min(size[0], bins)
            elif flat is not None:  # d1 / out after global pooling: the dense head
                width = width or _get(layer, "hidden")
                modules.append(blocks.Dense(flat, width, act, dropout))
                flat = width
            elif tok in ("c1", "d1", "d2", "out"):
                if tok == "c1":
                    width, kernel, bn = (_get(layer, "channels"), _get(layer, "kernel_size"),
                                         _get(layer, "batch_norm"))
                else:
                    width = width or _get(layer, "hidden")
                    kernel, bn = (_get(layer, "context") if tok == "d2" else 1), False
                modules.append(blocks.TimeConv(channels * bins, width, kernel, bn, act,
                                               dropout))
                channels, bins = width, 1
            else:  # r1, r2
                bidirectional = _get(layer, "bidirectional")
                hidden = _get(layer, "hidden")
                modules.append(blocks.Recurrent(channels * bins, hidden, _get(layer, "cell"),
                                                bidirectional, tok == "r2", dropout))
                channels, bins = hidden * (2 if bidirectional else 1), 1
            self.shapes.append((tok, (flat,) if flat is not None else (channels, bins)))
        if clip and flat is None:  # the output layer was a d2: pool its scores over time
            modules.append(blocks.GlobalPool(global_pool))
            self.shapes.append(("global pool", (n_outputs,)))
        self.layers = nn.Sequential(*modules)
        self.output = output

    def forward(self, x):
        y = self.layers(blocks.as_4d(x))
        if self.output == "frame":  # (batch, n_outputs, 1, frames) -> (batch, frames, n_out)
            y = y.squeeze(2).transpose(1, 2)
        return y


def _key_head(layers, channels, bins, n_outputs, key_targets, global_pool):
    string = "-".join(layer.token for layer in layers)
    if bins % 12:
        raise ValueError(
            f"architecture = {string!r}: the key head 'k1' reads its input's frequency axis "
            f"as semitones, 12 bins per octave, but it receives {bins} bins (not a multiple "
            "of 12); give the network a CQT with bins_per_octave=12 (n_bins a multiple of "
            "12) or a chromagram, and pool time only (p1) before k1."
        )
    if key_targets is None or len(key_targets[1]) != n_outputs:
        raise ValueError(
            f"architecture = {string!r}: the key head 'k1' needs key_targets (kind, index) "
            f"for its {n_outputs} outputs (skmir.tonality.key_targets of the classes)."
        )
    return blocks.KeyHead(channels, bins, *key_targets, pool=global_pool)


def build_network(architecture, input_shape, n_outputs, *, output="clip", global_pool="mean",
                  key_targets=None, **params):
    """Parse ``architecture`` and build the module for inputs of ``input_shape``.

    Parameters
    ----------
    architecture : str
        Token string or preset name.
    input_shape : tuple of int
        ``(n_bins, n_frames)`` or ``(n_channels, n_bins, n_frames)`` of one clip.
    n_outputs : int
    output : {"clip", "frame"}, default="clip"
    global_pool : {"mean", "max"}, default="mean"
    key_targets : tuple (kind, index) or None, default=None
        For an architecture ending in ``k1`` (see :class:`ArchitectureNet`).
    **params
        Layer hyper-parameters, one value or one per layer (see
        :func:`skmir.nn.architecture.layout`).

    Returns
    -------
    ArchitectureNet

    Examples
    --------
    >>> import torch
    >>> from skmir.nn import build_network
    >>> net = build_network("conv1d", (40, 100), n_outputs=5, channels=8, hidden=16)
    >>> net(torch.zeros(4, 40, 100)).shape
    torch.Size([4, 5])
    """
    from skmir.nn.architecture import layout

    if len(input_shape) == 2:
        input_shape = (1, *input_shape)
    layers = layout(architecture, output=output, **params)
    return ArchitectureNet(layers, input_shape, n_outputs, output=output,
                           global_pool=global_pool, key_targets=key_targets)
