"""Torch building blocks for the layers of the paper's notation.

Every block takes and returns a 4-D tensor ``(batch, channels, bins, frames)`` so
that blocks chain whatever the token order; layers that see a whole frame (c1, d1,
d2, r1) fold ``channels x bins`` into features and return a single bin. The time
axis is never fixed at build time: pooling sizes are clamped to the axis length at
every call, so a clip shorter than training crops (or than the pooling) still runs.
"""

import sys

import torch
import torch.nn.functional as F
from torch import nn

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


def activation(name):
    """The torch module for an activation name (relu, leaky_relu, tanh, sigmoid)."""
    return _ACTIVATIONS[name]()


class BatchNorm2d(nn.BatchNorm2d):
    """Batch normalisation that tolerates one value per channel in training.

    A batch of one clip whose feature map is 1 x 1 (a last, short batch; sklearn's
    one-sample checks) has no batch statistics; torch raises on it. Such a batch is
    normalised with the running statistics instead.
    """

    def forward(self, x):
        if self.training and x.shape[0] * x.shape[2] * x.shape[3] == 1:
            return F.batch_norm(x, self.running_mean, self.running_var, self.weight,
                                self.bias, False, 0.0, self.eps)
        return super().forward(x)


# The 16-bit slice of a random int64 word that holds its sign bit, which random_()
# leaves 0 (it draws from [0, 2**63)).
_TOP_SLICE = 3 if sys.byteorder == "little" else 0


def _dropout_mask(n, p, dtype):
    """``n`` independent draws, each 0 with probability ``p`` (to 1/32768) and
    ``1 / (1 - p)`` otherwise, as a 1-D tensor of ``dtype``.

    torch's CPU ``bernoulli_`` costs about 6 ns a draw, which made it the largest
    cost of training a small convnet on a CPU (38 % of a conv2d fit). Slicing 64-bit
    random words into four 16-bit uniforms costs under 1 ns a draw. The comparisons
    write their 0 and 1 straight into ``dtype``: a boolean mask converted afterwards
    took a fifth longer.
    """
    words = torch.empty((n + 3) // 4, dtype=torch.int64).random_()
    slices = words.view(torch.int16)
    mask = torch.empty(len(slices), dtype=dtype)
    torch.ge(slices, round(p * 65536) - 32768, out=mask)  # int16 spans [-32768, 32768)
    top = slices.view(-1, 4)[:, _TOP_SLICE]  # 15 random bits: [0, 32768)
    torch.ge(top, round(p * 32768), out=mask.view(-1, 4)[:, _TOP_SLICE])
    return mask[:n].mul_(1.0 / (1.0 - p))


class _CPUDropout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        # One mask of scale-or-zero serves both passes; its layout is x's own (the
        # draws are independent, so any order of them is as random).
        mask = _dropout_mask(x.numel(), p, x.dtype).as_strided(x.shape, x.stride())
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None


def dropout(x, p, training=True):
    """Dropout (Srivastava et al., 2014): ``torch.nn.functional.dropout``, cheaper on a CPU.

    On a CPU in training, each element is zeroed with probability ``p`` (rounded to
    a multiple of 1/65536, or 1/32768 for a quarter of the elements) and the rest
    scaled by ``1 / (1 - p)``, from torch's default generator, so that a seeded fit
    repeats; elsewhere this is torch's dropout.

    Parameters
    ----------
    x : torch.Tensor
        Any shape.
    p : float
        Probability of zeroing an element, in [0, 1).
    training : bool, default=True
        False returns ``x`` unchanged.

    Returns
    -------
    torch.Tensor
        Same shape (and memory layout) as ``x``.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.blocks import dropout
    >>> _ = torch.manual_seed(0)
    >>> y = dropout(torch.ones(100_000), 0.25)
    >>> round((y == 0).float().mean().item(), 2), round(y.max().item(), 4)
    (0.25, 1.3333)
    """
    if not training or p == 0:
        return x
    if x.device.type != "cpu" or not 0 < p < 1:
        return F.dropout(x, p, training)
    if not (x.is_contiguous() or x.is_contiguous(memory_format=torch.channels_last)):
        x = x.contiguous()
    return _CPUDropout.apply(x, p)


class Dropout(nn.Dropout):
    """:class:`torch.nn.Dropout` through :func:`dropout` (cheaper on a CPU)."""

    def forward(self, x):
        return dropout(x, self.p, self.training)


def _post(n_channels, batch_norm, act, dropout):
    layers = []
    if batch_norm:
        layers.append(BatchNorm2d(n_channels))
    if act is not None:
        layers.append(activation(act))
    if dropout:
        layers.append(Dropout(dropout))
    return nn.Sequential(*layers)


class Conv2d(nn.Module):
    """c2: a 2D convolution ('same' padding), batch norm, activation, dropout."""

    def __init__(self, n_in, n_out, kernel_size, batch_norm, act, dropout):
        super().__init__()
        self.conv = nn.Conv2d(n_in, n_out, kernel_size, padding="same", bias=not batch_norm)
        self.post = _post(n_out, batch_norm, act, dropout)

    def forward(self, x):
        weight = self.conv.weight
        if x.device.type == "cpu":
            # Channels-last (NHWC) layout on a CPU: torch's max pooling is about ten
            # times faster in it than in NCHW, and oneDNN's convolution and batch norm
            # run in it natively. A weight with one input channel is laid out
            # explicitly (.contiguous() keeps its ambiguous NCHW strides), so that
            # the first layer's output, the largest, is channels-last too.
            weight = torch.empty_like(weight, memory_format=torch.channels_last).copy_(weight)
            x = x.contiguous(memory_format=torch.channels_last)
        return self.post(self.conv._conv_forward(x, weight, self.conv.bias))


class TimeConv(nn.Module):
    """c1, d1 and d2: a convolution over time whose kernel spans every bin.

    With ``width=1`` this is a dense layer applied to every frame (d1); with a
    context of frames it is d2; with a kernel of ``kernel_size`` frames and batch
    norm it is the paper's c1. Output: ``(batch, n_out, 1, frames)``.
    """

    def __init__(self, n_in, n_out, width, batch_norm=False, act=None, dropout=0.0):
        super().__init__()
        self.conv = nn.Conv1d(n_in, n_out, width, padding="same", bias=not batch_norm)
        self.post = _post(n_out, batch_norm, act, dropout)

    def forward(self, x):
        return self.post(self.conv(x.flatten(1, 2)).unsqueeze(2))


class Pool(nn.Module):
    """p1 and p2: max pooling, clamped so that no axis is pooled into nothing."""

    def __init__(self, size_bins, size_frames):
        super().__init__()
        self.size = (int(size_bins), int(size_frames))

    def forward(self, x):
        kf, kt = min(self.size[0], x.shape[2]), min(self.size[1], x.shape[3])
        if kf == kt == 1:
            return x
        return F.max_pool2d(x, (kf, kt))

    def extra_repr(self):
        return f"size={self.size}, clamped to the input"


class Recurrent(nn.Module):
    """r1 (many-to-many) and r2 (many-to-one): one GRU or LSTM layer over frames.

    r2 returns the final state (forward and backward states concatenated when
    bidirectional) as ``(batch, n_out, 1, 1)``.
    """

    def __init__(self, n_in, hidden, cell, bidirectional, many_to_one, dropout):
        super().__init__()
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.rnn = rnn(n_in, hidden, batch_first=True, bidirectional=bidirectional)
        self.many_to_one = many_to_one
        self.dropout = Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x):
        seq, state = self.rnn(x.flatten(1, 2).transpose(1, 2))
        if self.many_to_one:
            h = state[0] if isinstance(state, tuple) else state  # LSTM: (h, c)
            out = h.transpose(0, 1).flatten(1)[:, :, None, None]
        else:
            out = seq.transpose(1, 2).unsqueeze(2)
        return self.dropout(out)


class GlobalPool(nn.Module):
    """Pool the remaining frames away: ``(batch, C, F, T) -> (batch, C * F)``.

    Frequency is kept (flattened into features): where a pattern lies in frequency
    matters for timbre and key, whereas where it lies in time does not for a clip
    label.
    """

    def __init__(self, mode="mean"):
        super().__init__()
        self.mode = mode

    def forward(self, x):
        x = x.amax(dim=3) if self.mode == "max" else x.mean(dim=3)
        return x.flatten(1)

    def extra_repr(self):
        return f"mode={self.mode!r}"


class Dense(nn.Module):
    """A d1 layer after global pooling: linear, activation, dropout on ``(batch, n)``."""

    def __init__(self, n_in, n_out, act=None, dropout=0.0):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.act = activation(act) if act is not None else nn.Identity()
        self.dropout = Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x):
        return self.dropout(self.act(self.linear(x)))


class KeyHead(nn.Module):
    """k1: key and mode scores that share one set of weights across the 12 tonics.

    The frequency axis is read as semitones and folded by octave into 12 pitch
    classes; time and octaves are pooled, giving ``h`` of shape ``(batch, C, 12)``.
    Key ``(t, m)`` (tonic pitch class ``t``, mode ``m``) scores ``<W_m, roll(h, -t)>
    + b_m``: the same weights read ``h`` from every tonic, so transposing the input by
    a semitone rotates the 24 scores by one tonic (equivariance), and a mode's score,
    the log-sum-exp over its 12 tonics, does not change (invariance).

    Parameters
    ----------
    n_channels, n_bins : int
        Shape of the input (``n_bins`` a multiple of 12).
    kind : {"key", "mode"}
        Whether the outputs are keys or modes.
    index : sequence of int
        Per output: its key (``tonic + 12 * mode``) or mode (0 major, 1 minor).
    pool : {"mean", "max"}, default="mean"
        How time is pooled.
    """

    def __init__(self, n_channels, n_bins, kind, index, pool="mean"):
        super().__init__()
        self.kind, self.pool = kind, pool
        self.weight = nn.Parameter(torch.empty(2, n_channels, 12))
        self.bias = nn.Parameter(torch.zeros(2))
        nn.init.kaiming_uniform_(self.weight.view(2, -1), a=5 ** 0.5)  # as nn.Linear
        self.register_buffer("index", torch.as_tensor(list(index), dtype=torch.long),
                             persistent=False)
        # rotation[t, p] = (t + p) % 12: pitch class p above tonic t
        rotation = (torch.arange(12)[:, None] + torch.arange(12)[None, :]) % 12
        self.register_buffer("rotation", rotation, persistent=False)
        self.n_octaves = n_bins // 12

    def forward(self, x):
        x = x.amax(dim=3) if self.pool == "max" else x.mean(dim=3)
        h = x.unflatten(2, (self.n_octaves, 12)).mean(dim=2)  # (batch, C, 12)
        # Only each channel's profile over pitch classes tells keys apart, as in a
        # key template's Pearson correlation: its mean and scale are the same for every
        # tonic, and would leave the 12 tonics' scores nearly equal at the start.
        h = h - h.mean(dim=2, keepdim=True)
        h = h / (h.square().mean(dim=2, keepdim=True) + 1e-5).sqrt()
        relative = h[:, :, self.rotation]  # (batch, C, tonic, pitch above the tonic)
        scores = torch.einsum("bctp,mcp->bmt", relative, self.weight) + self.bias[:, None]
        if self.kind == "mode":
            return scores.logsumexp(dim=2)[:, self.index]
        return scores.flatten(1)[:, self.index]  # key index = tonic + 12 * mode

    def extra_repr(self):
        return f"kind={self.kind!r}, n_outputs={len(self.index)}, pool={self.pool!r}"


def as_4d(x):
    """``(batch, bins, frames)`` -> ``(batch, 1, bins, frames)``; 4-D passes through."""
    return x.unsqueeze(1) if x.ndim == 3 else x


__all__ = ["BatchNorm2d", "Conv2d", "Dense", "Dropout", "GlobalPool", "KeyHead", "Pool",
           "Recurrent", "TimeConv", "activation", "as_4d", "dropout"]
