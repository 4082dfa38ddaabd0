"""The network of a neural estimator that learns from waveforms: a front end, its
standardisation and an :class:`~skmir.nn.builder.ArchitectureNet`
(:class:`WaveformNet`), and the statistics of that standardisation
(:func:`standardisation_statistics`). The front ends are in :mod:`skmir.nn.frontends`.
"""

import numpy as np
import torch
from torch import nn

from skmir.nn.builder import ArchitectureNet


class WaveformNet(nn.Module):
    """A front end, its standardisation and a network in the paper's notation.

    ``forward`` takes waveforms ``(batch, n_samples)`` or ``(batch, n_channels,
    n_samples)``; the front end and the standardisation run in float32 outside
    autocast, the optional spectrogram-domain ``augmentation`` (training only) and
    the :class:`~skmir.nn.builder.ArchitectureNet` after them.

    Parameters
    ----------
    frontend : Frontend
        Resolved (see :func:`~skmir.nn.frontends.resolve_frontend`).
    layers, input_shape, n_outputs, output, global_pool
        As :class:`~skmir.nn.builder.ArchitectureNet`; ``input_shape`` is the front
        end's ``(channels, bins)``.
    n_channels : int, default=1
        Channels of the waveforms.
    mean, scale : array-like of shape ``input_shape`` or None, default=None
        The standardisation (None: 0 and 1, e.g. to load saved buffers into).
    augmentation : callable or None, default=None
        ``(X, None) -> (X, None)`` on the standardised representation, applied in
        training mode only (e.g. :class:`skmir.augmentation.BatchAugmentation` with
        gain and masks).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn import layout
    >>> from skmir.nn.frontends import SampleCNN
    >>> from skmir.nn.waveform_net import WaveformNet
    >>> net = WaveformNet(SampleCNN(filters=8, n_blocks=2), layout("conv1d", channels=4,
    ...                   hidden=8), (1, 8), n_outputs=3)
    >>> net(torch.randn(2, 8100)).shape
    torch.Size([2, 3])
    """

    def __init__(self, frontend, layers, input_shape, n_outputs, output="clip",
                 global_pool="mean", n_channels=1, mean=None, scale=None, augmentation=None):
        super().__init__()
        self.frontend = frontend.build(int(n_channels))
        shape = (int(input_shape[0]), int(input_shape[1]))
        mean = torch.zeros(shape) if mean is None else torch.as_tensor(
            np.asarray(mean, dtype=np.float32).reshape(shape))
        scale = torch.ones(shape) if scale is None else torch.as_tensor(
            np.asarray(scale, dtype=np.float32).reshape(shape))
        self.register_buffer("mean", mean)
        self.register_buffer("scale", scale)
        self.augmentation = augmentation
        self.network = ArchitectureNet(layers, input_shape, n_outputs, output=output,
                                       global_pool=global_pool)

    def features(self, x):
        """The standardised representation ``(batch, channels, bins, frames)``."""
        if x.ndim == 2:
            x = x[:, None]
        with torch.autocast(x.device.type, enabled=False):
            z = self.frontend(x.float())
            return (z - self.mean[..., None]) / self.scale[..., None]

    def forward(self, x):
        z = self.features(x)
        if self.training and self.augmentation is not None:
            z, _ = self.augmentation(z, None)
        return self.network(z)


def standardisation_statistics(module, X, *, batch_size=32, device="cpu"):
    """Per (channel, bin) mean and standard deviation of a front end's output on X.

    One pass without gradients, accumulated in float64 batch by batch; bins of zero
    variance get a scale of 1 (as :class:`skmir.SpectrogramScaler`).

    Parameters
    ----------
    module : torch.nn.Module
        A built front end: ``(batch, n_channels, n_samples) -> (batch, C, bins, frames)``.
    X : ndarray of shape (n_clips, n_channels, n_samples)
    batch_size : int, default=32
    device : str, default="cpu"

    Returns
    -------
    mean, scale : ndarray of float32, shape (C, bins)
    n_frames : int
        Frames of the output for X's clips.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.nn.frontends import SampleCNN
    >>> from skmir.nn.waveform_net import standardisation_statistics
    >>> X = np.random.default_rng(0).normal(size=(4, 1, 900)).astype("float32")
    >>> mean, scale, n_frames = standardisation_statistics(SampleCNN(8, 1).build(1), X)
    >>> mean.shape, n_frames
    ((1, 8), 100)
    """
    total = total_sq = None
    count, n_frames = 0, 0
    was_training = module.training
    module.eval().to(device)
    try:
        with torch.no_grad():
            for start in range(0, len(X), batch_size):
                batch = torch.as_tensor(X[start:start + batch_size], device=device)
                z = module(batch.float()).double()
                n_frames = z.shape[-1]
                s, sq = z.sum(dim=(0, 3)), z.pow(2).sum(dim=(0, 3))
                total = s if total is None else total + s
                total_sq = sq if total_sq is None else total_sq + sq
                count += z.shape[0] * z.shape[-1]
    finally:
        module.train(was_training)
    mean = (total / count).cpu().numpy()
    var = np.maximum((total_sq / count).cpu().numpy() - mean ** 2, 0)
    std = np.sqrt(var)
    scale = np.where(std > 1e-8 * np.maximum(np.abs(mean), 1), std, 1.0)
    if not np.isfinite(mean).all():
        raise ValueError(
            "The front end's output on the training waveforms is not finite (a log of "
            "silence without an offset?); its statistics cannot standardise it."
        )
    return mean.astype(np.float32), scale.astype(np.float32), int(n_frames)


__all__ = ["WaveformNet", "standardisation_statistics"]
