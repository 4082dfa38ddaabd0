"""CREPE, the monophonic pitch tracker of Kim et al. (2018), as a torch module.

:class:`Crepe` rebuilds ``torchcrepe.Crepe`` (``torchcrepe/model.py`` of torchcrepe
0.0.24, MIT licence, Copyright (c) 2020 Max Morrison; see
``skmir/pretrained/LICENSE-crepe``) with the same layers under the same names and in
the same order (``conv1``... ``conv6``, ``conv1_BN``... ``conv6_BN``,
``classifier``), so torchcrepe's state dicts load 1:1. It takes a batch of 1024-sample
frames of 16 kHz audio, each normalised to zero mean and unit standard deviation
(:func:`skmir.pretrained.crepe.crepe_frames`), and returns the 360 sigmoid
activations of its pitch bins (20 cents apart).

Each of the six blocks is zero padding, a convolution along time, a ReLU, batch
normalisation (after the ReLU, as the Keras original; eps and momentum as torchcrepe
converted them) and max pooling by 2. :meth:`Crepe.forward` returns any block's output
by name (``layers=``), so a block can serve as a per-frame feature.

References
----------
Kim, J. W., Salamon, J., Li, P. and Bello, J. P. (2018). CREPE: a convolutional
representation for pitch estimation. ICASSP. https://github.com/marl/crepe;
Morrison, M. torchcrepe. https://github.com/maxrmorrison/torchcrepe
"""

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Crepe"]

#: Frame length (samples at 16 kHz) and number of pitch bins of every CREPE.
WINDOW_SIZE = 1024
PITCH_BINS = 360
# torchcrepe's capacities: the channels of the six blocks
CAPACITIES = {"full": (1024, 128, 128, 128, 256, 512), "tiny": (128, 16, 16, 16, 32, 64)}
# the first block's padding, kernel and stride; the other five's padding
FIRST = ((254, 254), 512, 4)
OTHERS = ((31, 32), 64, 1)


class Crepe(nn.Module):
    """CREPE (Kim et al., 2018), layer for layer as ``torchcrepe.Crepe``.

    Parameters
    ----------
    capacity : {"tiny", "full"}, default="tiny"
        torchcrepe's model sizes (the channels of the six blocks).

    Attributes
    ----------
    layers : tuple of str
        The blocks :meth:`forward` returns by name, in order: ``conv1``... ``conv6``,
        each ``(batch, channels, positions, 1)`` after its max pooling, as torchcrepe
        computes it (``conv5`` is torchcrepe's ``embed``); and ``probabilities``,
        the network's output.
    channels : dict of str to int
        Channels of each block.
    positions : dict of str to int
        Length of each block's output along the frame (128, 64, 32, 16, 8, 4).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.crepe import Crepe
    >>> net = Crepe().eval()
    >>> with torch.no_grad():
    ...     out = net(torch.randn(3, 1024), layers=["conv5", "probabilities"])
    >>> out["conv5"].shape, out["probabilities"].shape
    (torch.Size([3, 32, 8, 1]), torch.Size([3, 360]))
    """

    def __init__(self, capacity="tiny"):
        super().__init__()
        if capacity not in CAPACITIES:
            raise ValueError(f"Crepe: capacity = {capacity!r}: choose one of "
                             f"{sorted(CAPACITIES)} (torchcrepe's model sizes).")
        self.capacity = capacity
        out_channels = CAPACITIES[capacity]
        in_channels = (1,) + out_channels[:-1]
        # as torchcrepe: MMdnn's conversion of Keras' eps; momentum 0 freezes the
        # running statistics should the module ever be put in training mode
        for i, (c_in, c_out) in enumerate(zip(in_channels, out_channels), 1):
            kernel, stride = (FIRST if i == 1 else OTHERS)[1:]
            setattr(self, f"conv{i}", nn.Conv2d(c_in, c_out, (kernel, 1), (stride, 1)))
            setattr(self, f"conv{i}_BN", nn.BatchNorm2d(c_out, eps=0.0010000000474974513,
                                                         momentum=0.0))
        positions, n = {}, WINDOW_SIZE
        for i in range(1, 7):
            (before, after), kernel, stride = FIRST if i == 1 else OTHERS
            n = ((n + before + after - kernel) // stride + 1) // 2
            positions[f"conv{i}"] = n
        self.in_features = out_channels[-1] * positions["conv6"]
        self.classifier = nn.Linear(self.in_features, PITCH_BINS)
        self.channels = {f"conv{i}": c for i, c in enumerate(out_channels, 1)}
        self.positions = positions
        self.layers = tuple(self.channels) + ("probabilities",)

    def _block(self, x, i):
        padding = (FIRST if i == 1 else OTHERS)[0]
        x = F.pad(x, (0, 0) + padding)
        x = F.relu(getattr(self, f"conv{i}")(x))
        x = getattr(self, f"conv{i}_BN")(x)
        return F.max_pool2d(x, (2, 1), (2, 1))

    def forward(self, x, layers=None):
        """The pitch-bin activations of normalised frames, or the named layers.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, 1024)
            Frames of 16 kHz audio, each of zero mean and unit standard deviation.
        layers : sequence of str or None, default=None
            None: the output only; otherwise names of :attr:`layers`.

        Returns
        -------
        probabilities : torch.Tensor of shape (batch, 360)
            Sigmoid activations of the pitch bins (when ``layers`` is None).
        outputs : dict of str to torch.Tensor
            The named layers (when ``layers`` is given), in :attr:`layers` order.
        """
        if x.ndim != 2 or x.shape[1] != WINDOW_SIZE:
            raise ValueError(f"Crepe: x of shape {tuple(x.shape)}: expected (batch, "
                             f"{WINDOW_SIZE}) normalised frames of 16 kHz audio.")
        wanted = None if layers is None else list(layers)
        if wanted is not None:
            unknown = [name for name in wanted if name not in self.layers]
            if unknown:
                raise ValueError(f"Crepe: layers = {unknown}: not layers of this network; "
                                 f"choose among {list(self.layers)}.")
        outputs = {}
        h = x[:, None, :, None]
        for i in range(1, 7):
            h = self._block(h, i)
            outputs[f"conv{i}"] = h
            if wanted is not None and "probabilities" not in wanted \
                    and all(name in outputs for name in wanted):
                break  # the later blocks are not asked for
        else:
            # classifier input position-major, as torchcrepe flattens it
            flat = h.permute(0, 2, 1, 3).reshape(-1, self.in_features)
            outputs["probabilities"] = torch.sigmoid(self.classifier(flat))
        if wanted is None:
            return outputs["probabilities"]
        return {name: outputs[name] for name in self.layers if name in wanted}
