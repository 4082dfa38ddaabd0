"""Torch building blocks for the layers of the paper's notation.

Every block takes and returns a 4-D tensor ``(batch, channels, bins, frames)`` so
that blocks chain whatever the token order; layers that see a whole frame (c1, d1,
d2, r1) fold ``channels x bins`` into features and return a single bin. The time
axis is never fixed at build time: pooling sizes are clamped to the axis length at
every call, so a clip shorter than training crops (or than the pooling) still runs.
"""

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


def _post(n_channels, batch_norm, act, dropout):
    layers = []
    if batch_norm:
        layers.append(BatchNorm2d(n_channels))
    if act is not None:
        layers.append(activation(act))
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Conv2d(nn.Module):
    """c2: a 2D convolution ('same' padding), batch norm, activation, dropout."""

    def __init__(self, n_in, n_out, kernel_size, batch_norm, act, dropout):
        super().__init__()
        self.conv = nn.Conv2d(n_in, n_out, kernel_size, padding="same", bias=not batch_norm)
        self.post = _post(n_out, batch_norm, act, dropout)

    def forward(self, x):
        return self.post(self.conv(x))


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
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()

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
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()

    def forward(self, x):
        return self.dropout(self.act(self.linear(x)))


def as_4d(x):
    """``(batch, bins, frames)`` -> ``(batch, 1, bins, frames)``; 4-D passes through."""
    return x.unsqueeze(1) if x.ndim == 3 else x


__all__ = ["BatchNorm2d", "Conv2d", "Dense", "GlobalPool", "Pool", "Recurrent",
           "TimeConv", "activation", "as_4d"]
