"""The musicnn and VGG taggers of Pons and Serra (2019), as torch modules.

:class:`Musicnn` and :class:`VGG` rebuild the four networks of the musicnn 0.1.0
package (MTT_musicnn, MSD_musicnn, MTT_vgg, MSD_vgg) so that the weights converted by
:mod:`skmir.pretrained.convert_musicnn` reproduce the original TensorFlow graphs:
both take a batch of log-mel patches ``(batch, n_frames, n_mels)``, time x mel as
musicnn lays them out, and return the 50 tag logits (before the sigmoid).
:meth:`Musicnn.features` and :meth:`VGG.features` return every layer musicnn exposes,
under musicnn's names and in musicnn's layout (time first, channels last).

Three TensorFlow conventions are kept: batch normalisation comes after the ReLU, the
"same" padding of an even kernel puts the extra zero at the end (``k // 2`` after,
``(k - 1) // 2`` before), and features are flattened channels last.

References
----------
Pons, J. and Serra, X. (2019). musicnn: pre-trained convolutional neural networks for
music audio tagging. Late-breaking/demo, ISMIR. https://github.com/jordipons/musicnn
"""

from numbers import Integral, Real

import torch
import torch.nn.functional as F
from torch import nn

# Dropout here is torch's, not skmir.nn.blocks.dropout: it acts on pooled maps and
# dense vectors, where its cost is negligible, and the fine-tuning figures quoted for
# these networks were measured with torch's random stream.

__all__ = ["FineTunedMusicnn", "Musicnn", "VGG"]


def _same(k):
    """TensorFlow's "same" padding of a stride-1 kernel of length k: (before, after)."""
    return (k - 1) // 2, k // 2


def _check_int(name, value, low=1):
    if not isinstance(value, Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    return int(value)


def _check_pairs(name, value, n=None):
    try:
        pairs = [tuple(int(v) for v in pair) for pair in value]
    except (TypeError, ValueError):
        pairs = None
    if (pairs is None or any(len(p) != 2 or min(p) < 1 for p in pairs)
            or (n is not None and len(pairs) != n) or not pairs):
        size = f"{n} " if n is not None else ""
        raise ValueError(f"{name} must be a sequence of {size}(int, int) pairs >= 1, "
                         f"got {value!r}.")
    return pairs


def _check_rate(name, value):
    if not isinstance(value, Real) or isinstance(value, bool) or not 0 <= value < 1:
        raise ValueError(f"{name} must be a float in [0, 1), got {value!r}.")
    return float(value)


def _check_input(owner, x, n_mels, n_frames=None):
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != n_mels:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{owner}: x must be a tensor of log-mel patches of shape (batch, "
                         f"n_frames, {n_mels}) (time x mel), got {shape}.")
    if n_frames is not None and x.shape[1] != n_frames:
        raise ValueError(f"{owner}: x must have n_frames={n_frames} frames per patch "
                         f"(the dense layer is sized for them), got {x.shape[1]}.")
    if x.shape[1] < 1:
        raise ValueError(f"{owner}: x has no frames.")


class _FrontBranch(nn.Module):
    # conv over (time x mel), "same" in time and "valid" in mel, ReLU, batch norm,
    # then the maximum over the remaining mel bins: (B, 1, T, F) -> (B, C, T)
    def __init__(self, kernel, filters, eps):
        super().__init__()
        self.pad = _same(kernel[0])
        self.conv = nn.Conv2d(1, filters, kernel)
        self.bn = nn.BatchNorm2d(filters, eps=eps)

    def forward(self, x):
        z = self.conv(F.pad(x, (0, 0, *self.pad)))
        if self.training:
            return self.bn(F.relu(z)).amax(3)
        # In eval mode ReLU and batch norm are per-channel monotonic maps, so they
        # commute with the maximum over mel: applied after it, to a map (mel bins)
        # times smaller, with the same numbers (a channel whose batch-norm scale is
        # negative takes the minimum instead).
        bn = self.bn
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        pooled = torch.where(scale[:, None] >= 0, z.amax(3), z.amin(3))
        return F.batch_norm(F.relu(pooled), bn.running_mean, bn.running_var, bn.weight,
                            bn.bias, False, 0.0, bn.eps)


class _MidLayer(nn.Module):
    # TF writes this as a 2-D conv whose kernel spans all channels; it is a 1-D conv
    def __init__(self, n_in, filters, kernel, eps):
        super().__init__()
        self.pad = _same(kernel)
        self.conv = nn.Conv1d(n_in, filters, kernel)
        self.bn = nn.BatchNorm1d(filters, eps=eps)

    def forward(self, x):
        return self.bn(F.relu(self.conv(F.pad(x, self.pad))))


class Musicnn(nn.Module):
    """musicnn: musically motivated front end, dense mid end, pooled dense back end.

    The front end normalises the log-mel patch (one batch norm over the whole input)
    and runs timbral filters (time x mel kernels) and temporal filters (time kernels,
    one mel bin wide), each followed by ReLU, batch norm and the maximum over mel. The
    mid end is a stack of 1-D convolutions over time on the concatenated front-end
    channels, all but the first with a residual connection; the back end pools every
    front- and mid-end channel over time (maximum and mean, interleaved channel by
    channel as TensorFlow flattens them), then batch norm, a dense ReLU layer, batch
    norm ("penultimate") and the dense output.

    Parameters
    ----------
    n_mels : int, default=96
        Mel bins of the input.
    n_tags : int, default=50
        Outputs.
    timbral_kernels : sequence of (int, int), default=((7, 38), (7, 67))
        (time, mel) kernel of each timbral branch.
    timbral_filters : int, default=204
        Filters of each timbral branch.
    temporal_kernels : sequence of int, default=(128, 64, 32)
        Time length of each temporal branch (one mel bin wide).
    temporal_filters : int, default=51
        Filters of each temporal branch.
    midend_filters : int, default=64
        Filters of each mid-end convolution.
    midend_kernel : int, default=7
        Time length of the mid-end convolutions.
    midend_layers : int, default=3
        Mid-end convolutions.
    backend_units : int, default=200
        Units of the penultimate dense layer.
    dropout : float, default=0.5
        Dropout before each back-end dense layer (training only).
    eps : float, default=0.001
        Epsilon of every batch norm (TensorFlow's default, not torch's).

    Attributes
    ----------
    layers : tuple of str
        Names of the entries of :meth:`features`, in order.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.musicnn import Musicnn
    >>> net = Musicnn().eval()
    >>> net(torch.zeros(2, 187, 96)).shape
    torch.Size([2, 50])
    >>> {name: tuple(a.shape) for name, a in net.features(torch.zeros(1, 187, 96)).items()}
    ... # doctest: +NORMALIZE_WHITESPACE
    {'timbral': (1, 187, 408), 'temporal': (1, 187, 153), 'cnn1': (1, 187, 64),
     'cnn2': (1, 187, 64), 'cnn3': (1, 187, 64), 'mean_pool': (1, 753),
     'max_pool': (1, 753), 'penultimate': (1, 200), 'logits': (1, 50),
     'taggram': (1, 50)}
    """

    def __init__(self, n_mels=96, n_tags=50, timbral_kernels=((7, 38), (7, 67)),
                 timbral_filters=204, temporal_kernels=(128, 64, 32), temporal_filters=51,
                 midend_filters=64, midend_kernel=7, midend_layers=3, backend_units=200,
                 dropout=0.5, eps=0.001):
        super().__init__()
        self.n_mels = _check_int("n_mels", n_mels)
        n_tags = _check_int("n_tags", n_tags)
        timbral_kernels = _check_pairs("timbral_kernels", timbral_kernels)
        if max(kf for _, kf in timbral_kernels) > n_mels:
            raise ValueError(f"timbral_kernels must be at most n_mels={n_mels} mel bins wide, "
                             f"got {timbral_kernels}.")
        temporal_kernels = [_check_int("temporal_kernels", k) for k in temporal_kernels]
        timbral_filters = _check_int("timbral_filters", timbral_filters)
        temporal_filters = _check_int("temporal_filters", temporal_filters)
        midend_filters = _check_int("midend_filters", midend_filters)
        midend_kernel = _check_int("midend_kernel", midend_kernel)
        midend_layers = _check_int("midend_layers", midend_layers)
        backend_units = _check_int("backend_units", backend_units)
        self.dropout = _check_rate("dropout", dropout)
        if not isinstance(eps, Real) or not eps > 0:
            raise ValueError(f"eps must be a float > 0, got {eps!r}.")

        self.input_bn = nn.BatchNorm2d(1, eps=eps)
        self.timbral = nn.ModuleList(
            _FrontBranch(k, timbral_filters, eps) for k in timbral_kernels)
        self.temporal = nn.ModuleList(
            _FrontBranch((k, 1), temporal_filters, eps) for k in temporal_kernels)
        n_front = timbral_filters * len(timbral_kernels) + temporal_filters * len(temporal_kernels)
        self.midend = nn.ModuleList(
            _MidLayer(n_front if i == 0 else midend_filters, midend_filters, midend_kernel, eps)
            for i in range(midend_layers))
        n_pooled = n_front + midend_filters * midend_layers
        self.pool_bn = nn.BatchNorm1d(2 * n_pooled, eps=eps)
        self.dense = nn.Linear(2 * n_pooled, backend_units)
        self.dense_bn = nn.BatchNorm1d(backend_units, eps=eps)
        self.output = nn.Linear(backend_units, n_tags)
        self.layers = ("timbral", "temporal") + tuple(
            f"cnn{i + 1}" for i in range(midend_layers)) + (
            "mean_pool", "max_pool", "penultimate", "logits", "taggram")

    def _front(self, x):
        """Blocks 1 and 2: input batch norm, then the timbral and temporal branches."""
        _check_input(type(self).__name__, x, self.n_mels)
        h = self.input_bn(x.unsqueeze(1))
        return [branch(h) for branch in self.timbral], [branch(h) for branch in self.temporal]

    def _mid(self, maps, stop):
        """Mid-end layers ``len(maps) - 1`` to ``stop - 1`` (blocks 3...), on the list of
        maps so far (the front end's, then each mid-end layer's); extends and returns it."""
        y = maps[-1]
        for i in range(len(maps) - 1, stop):
            y = self.midend[i](y) if i == 0 else self.midend[i](y) + y
            maps.append(y)
        return maps

    def _back(self, maps):
        """The back end over every front- and mid-end map: pooled, penultimate, logits."""
        maps = torch.cat(maps, 1)
        max_pool, mean_pool = maps.amax(2), maps.mean(2)
        # TF concatenates (channels, 1) maps on the last axis before flattening
        pooled = torch.stack([max_pool, mean_pool], 2).flatten(1)
        h = F.dropout(self.pool_bn(pooled), self.dropout, self.training)
        penultimate = self.dense_bn(F.relu(self.dense(h)))
        logits = self.output(F.dropout(penultimate, self.dropout, self.training))
        return max_pool, mean_pool, penultimate, logits

    def _run(self, x, keep):
        timbral, temporal = self._front(x)
        maps = self._mid([torch.cat(timbral + temporal, 1)], len(self.midend))
        max_pool, mean_pool, penultimate, logits = self._back(maps)
        if not keep:
            return logits
        out = {"timbral": torch.cat(timbral, 1).transpose(1, 2),
               "temporal": torch.cat(temporal, 1).transpose(1, 2)}
        for i, m in enumerate(maps[1:]):
            out[f"cnn{i + 1}"] = m.transpose(1, 2)
        out.update(mean_pool=mean_pool, max_pool=max_pool, penultimate=penultimate,
                   logits=logits, taggram=torch.sigmoid(logits))
        return out

    def forward(self, x):
        """Tag logits of a batch of log-mel patches.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_frames, n_mels)
            Log-mel patches, time x mel; any n_frames >= 1 (musicnn was trained on 187).

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_tags)
            Before the sigmoid.
        """
        return self._run(x, keep=False)

    def features(self, x):
        """Every exposed layer for a batch of log-mel patches, named as musicnn does.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_frames, n_mels)

        Returns
        -------
        features : dict of str to torch.Tensor
            In :attr:`layers` order: ``timbral`` (batch, n_frames, timbral channels),
            ``temporal`` (batch, n_frames, temporal channels), ``cnn1``... (batch,
            n_frames, midend_filters; from cnn2 on, the residual sums), ``mean_pool``
            and ``max_pool`` (batch, all front- and mid-end channels), ``penultimate``
            (batch, backend_units), ``logits`` and ``taggram`` (the sigmoid of the
            logits), both (batch, n_tags).
        """
        return self._run(x, keep=True)


class VGG(nn.Module):
    """The VGG-like baseline of musicnn: blocks of 3x3 conv, ReLU, batch norm, max pool.

    The input is batch-normalised, then each block applies a "same" convolution, ReLU,
    batch norm and a "valid" max pooling; the last pooled map is flattened channels
    last and fed to the dense output.

    Parameters
    ----------
    n_frames : int, default=187
        Frames per patch: the dense layer is sized for them.
    n_mels : int, default=96
        Mel bins of the input.
    n_tags : int, default=50
        Outputs.
    filters : int, default=128
        Filters of every convolution.
    kernel_size : (int, int), default=(3, 3)
        (time, mel) kernel of every convolution.
    pool_sizes : sequence of (int, int), default=((4, 1), (2, 2), (2, 2), (2, 2), (4, 4))
        (time, mel) max-pooling window of each block; one block per entry.
    pool_strides : sequence of (int, int), default=((2, 2), (2, 2), (2, 2), (2, 2), (4, 4))
        (time, mel) stride of each pooling.
    conv_dropout : float, default=0.25
        Dropout after every pooling but the last (training only).
    dense_dropout : float, default=0.5
        Dropout before the dense output (training only).
    eps : float, default=0.001
        Epsilon of every batch norm (TensorFlow's default).

    Attributes
    ----------
    layers : tuple of str
        Names of the entries of :meth:`features`, in order.
    pooled_shapes : list of (int, int)
        (time, mel) size of each pooled map.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.musicnn import VGG
    >>> net = VGG().eval()
    >>> net(torch.zeros(1, 187, 96)).shape
    torch.Size([1, 50])
    >>> net.pooled_shapes
    [(92, 48), (46, 24), (23, 12), (11, 6), (2, 1)]
    """

    def __init__(self, n_frames=187, n_mels=96, n_tags=50, filters=128, kernel_size=(3, 3),
                 pool_sizes=((4, 1), (2, 2), (2, 2), (2, 2), (4, 4)),
                 pool_strides=((2, 2), (2, 2), (2, 2), (2, 2), (4, 4)), conv_dropout=0.25,
                 dense_dropout=0.5, eps=0.001):
        super().__init__()
        self.n_frames = _check_int("n_frames", n_frames)
        self.n_mels = _check_int("n_mels", n_mels)
        n_tags = _check_int("n_tags", n_tags)
        filters = _check_int("filters", filters)
        (kernel,) = _check_pairs("kernel_size", [kernel_size])
        pool_sizes = _check_pairs("pool_sizes", pool_sizes)
        pool_strides = _check_pairs("pool_strides", pool_strides, n=len(pool_sizes))
        self.conv_dropout = _check_rate("conv_dropout", conv_dropout)
        self.dense_dropout = _check_rate("dense_dropout", dense_dropout)
        if not isinstance(eps, Real) or not eps > 0:
            raise ValueError(f"eps must be a float > 0, got {eps!r}.")

        self.pad = (*_same(kernel[1]), *_same(kernel[0]))
        self.input_bn = nn.BatchNorm2d(1, eps=eps)
        self.convs = nn.ModuleList(
            nn.Conv2d(1 if i == 0 else filters, filters, kernel) for i in range(len(pool_sizes)))
        self.bns = nn.ModuleList(nn.BatchNorm2d(filters, eps=eps) for _ in pool_sizes)
        self.pools = nn.ModuleList(nn.MaxPool2d(s, t) for s, t in zip(pool_sizes, pool_strides))
        self.pooled_shapes = []
        shape = (self.n_frames, self.n_mels)
        for size, stride in zip(pool_sizes, pool_strides):
            shape = tuple((n - k) // s + 1 for n, k, s in zip(shape, size, stride))
            if min(shape) < 1:
                raise ValueError(f"pool_sizes={pool_sizes} with pool_strides={pool_strides} "
                                 f"pool a ({n_frames}, {n_mels}) patch to nothing.")
            self.pooled_shapes.append(shape)
        self.output = nn.Linear(shape[0] * shape[1] * filters, n_tags)
        self.layers = tuple(f"pool{i + 1}" for i in range(len(pool_sizes))) + (
            "logits", "taggram")

    def _run(self, x, keep):
        _check_input(type(self).__name__, x, self.n_mels, self.n_frames)
        h = self.input_bn(x.unsqueeze(1))
        out = {}
        for i, (conv, bn, pool) in enumerate(zip(self.convs, self.bns, self.pools)):
            if i:
                h = F.dropout(h, self.conv_dropout, self.training)
            h = pool(bn(F.relu(conv(F.pad(h, self.pad)))))
            if keep:
                out[f"pool{i + 1}"] = h.permute(0, 2, 3, 1)
        # TF flattens (time, mel, channels): channels vary fastest
        flat = F.dropout(h.permute(0, 2, 3, 1).flatten(1), self.dense_dropout, self.training)
        logits = self.output(flat)
        if not keep:
            return logits
        out.update(logits=logits, taggram=torch.sigmoid(logits))
        return out

    def forward(self, x):
        """Tag logits of a batch of log-mel patches.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_frames, n_mels)
            Log-mel patches, time x mel.

        Returns
        -------
        logits : torch.Tensor of shape (batch, n_tags)
            Before the sigmoid.
        """
        return self._run(x, keep=False)

    def features(self, x):
        """Every exposed layer for a batch of log-mel patches, named as musicnn does.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_frames, n_mels)

        Returns
        -------
        features : dict of str to torch.Tensor
            In :attr:`layers` order: ``pool1``... (batch, time, mel, filters), as
            :attr:`pooled_shapes`; ``logits`` and ``taggram`` (the sigmoid), (batch,
            n_tags).
        """
        return self._run(x, keep=True)


def musicnn_maps(body, x, blocks):
    """The front end's and the first ``blocks - 2`` mid-end layers' maps of a
    :class:`Musicnn`, concatenated: ``(batch, channels, n_frames)`` for spectrograms
    ``(batch, 1, n_mels, n_frames)`` (the input of :class:`FineTunedMusicnn`).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.musicnn import Musicnn, musicnn_maps
    >>> musicnn_maps(Musicnn().eval(), torch.zeros(2, 1, 96, 50), blocks=3).shape
    torch.Size([2, 625, 50])
    """
    timbral, temporal = body._front(x[:, 0].transpose(1, 2))
    return torch.cat(body._mid([torch.cat(timbral + temporal, 1)], blocks - 2), 1)


class FineTunedMusicnn(nn.Module):
    """A musicnn network with a new output layer, to train on a new task.

    The network keeps its weights up to the penultimate layer; its output layer is
    replaced by a fresh one with ``n_outputs`` units. Musicnn pools over time, so any
    number of frames works (the VGG networks need patches of exactly 187 frames and
    are not offered here). Input and output follow skmir's estimators: spectrograms
    ``(batch, 1, n_mels, n_frames)`` (mel x time, as
    :class:`skmir.pretrained.musicnn.MusicnnLogMel` gives them), logits ``(batch, n_outputs)``.
    The neural estimators build it for ``architecture="musicnn-msd"`` (or
    ``"musicnn-mtt"``) from the shipped network
    (:meth:`skmir.pretrained.network.ShippedNetwork.fine_tuning`).

    Parameters
    ----------
    body : Musicnn
        The network whose weights start the training; it becomes a submodule
        (``body``) and its output layer is replaced.
    n_outputs : int
        Units of the new output layer.
    freeze : int, default=0
        How many of the first blocks keep their weights (and batch-norm statistics):
        1 the input normalisation, 2 also the timbral and temporal front end, 3-5 the
        mid-end convolutions cnn1-cnn3, 6 the dense back end up to the penultimate
        layer (only the new output layer is trained).
    from_maps : bool, default=False
        Whether :meth:`forward` takes the output of :meth:`frozen_maps` instead of
        spectrograms (training on the frozen blocks' output, computed once per clip).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.musicnn import FineTunedMusicnn, Musicnn
    >>> net = FineTunedMusicnn(Musicnn(), n_outputs=3, freeze=2).eval()
    >>> net(torch.zeros(2, 1, 96, 100)).shape
    torch.Size([2, 3])
    """

    #: The blocks whose output can be cached when frozen: up to the mid end (the back
    #: end's dropout draws anew in every training batch).
    CACHED_BLOCKS = 5

    def __init__(self, body, n_outputs, freeze=0, from_maps=False):
        super().__init__()
        self.from_maps = bool(from_maps)
        if isinstance(body, VGG):
            raise ValueError(
                "FineTunedMusicnn: body is a VGG network, whose dense output needs patches "
                "of exactly 187 frames: fine-tune 'musicnn-msd' or 'musicnn-mtt', or take "
                "its features with TransferFeatures."
            )
        if not isinstance(body, Musicnn):
            raise ValueError(f"FineTunedMusicnn: body must be a Musicnn network, got "
                             f"{type(body).__name__}.")
        body.output = nn.Linear(body.output.in_features, _check_int("n_outputs", n_outputs))
        self.body = body
        self.blocks = [[body.input_bn], [*body.timbral, *body.temporal],
                       *[[m] for m in body.midend], [body.pool_bn, body.dense, body.dense_bn]]
        self.freeze = _check_int("freeze", freeze, low=0)
        if self.freeze > len(self.blocks):
            raise ValueError(f"freeze must be at most {len(self.blocks)} (the blocks before the "
                             f"output layer), got {freeze}.")
        for block in self.blocks[:self.freeze]:
            for module in block:
                module.requires_grad_(False)

    def train(self, mode=True):
        super().train(mode)
        for block in self.blocks[:self.freeze]:  # frozen: batch norm keeps its statistics
            for module in block:
                module.eval()
        return self

    @property
    def cacheable(self):
        """How many of the first blocks give the same output for a clip in every epoch:
        the frozen ones, up to :attr:`CACHED_BLOCKS`; 0 below 2 (caching the input
        batch norm alone saves nothing)."""
        blocks = min(self.freeze, self.CACHED_BLOCKS)
        return blocks if blocks >= 2 else 0

    def frozen_maps(self, x):
        """The output of the :attr:`cacheable` blocks for spectrograms ``(batch, 1,
        n_mels, n_frames)``: the front end's and the frozen mid-end layers' maps
        concatenated, ``(batch, channels, n_frames)``; :meth:`forward` continues from it
        when ``from_maps`` is set."""
        return musicnn_maps(self.body, x, self.cacheable)

    def forward(self, x):
        """Logits of spectrograms ``(batch, 1, n_mels, n_frames)``, or of the output of
        :meth:`frozen_maps` when ``from_maps`` is True (the estimators set it while
        they train on cached maps)."""
        if not self.from_maps:
            return self.body(x[:, 0].transpose(1, 2))
        body = self.body
        sizes = [sum(b.conv.out_channels for b in [*body.timbral, *body.temporal])]
        sizes += [body.midend[i].conv.out_channels for i in range(self.cacheable - 2)]
        maps = body._mid(list(torch.split(x, sizes, dim=1)), len(body.midend))
        return body._back(maps)[-1]
