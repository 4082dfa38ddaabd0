"""The network of a neural estimator that learns from waveforms: a front end, its
standardisation and an :class:`~skmir.nn.builder.ArchitectureNet`
(:class:`WaveformNet`), the statistics of that standardisation
(:func:`standardisation_statistics`) and the callback that measures them when training
begins (:class:`FrontendStatistics`). The front ends are in :mod:`skmir.nn.frontends`.
"""

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

from skmir.nn.builder import ArchitectureNet


class WaveformNet(nn.Module):
    """A front end, its standardisation and a network in the paper's notation.

    ``forward`` takes waveforms ``(batch, n_samples)`` or ``(batch, n_channels,
    n_samples)``; the front end and the standardisation run in float32 outside
    autocast, then the optional ``augment_features`` that the training step passes
    (gain and masks of the standardised representation, training batches only) and
    the :class:`~skmir.nn.builder.ArchitectureNet`.

    Parameters
    ----------
    frontend : torch.nn.Module
        A built front end (:meth:`Frontend.build`): ``(batch, n_channels, n_samples) ->
        (batch, C, bins, frames)``.
    layers, input_shape, n_outputs, output, global_pool
        As :class:`~skmir.nn.builder.ArchitectureNet`; ``input_shape`` is the front
        end's ``(channels, bins)``.

    Attributes
    ----------
    mean, scale : torch.Tensor of shape ``input_shape``
        The standardisation, buffers (0 and 1 until :class:`FrontendStatistics`
        measures them at the start of training, or a state dict is loaded).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn import layout
    >>> from skmir.nn.frontends import SampleCNN
    >>> from skmir.nn.waveform_net import WaveformNet
    >>> net = WaveformNet(SampleCNN(filters=8, n_blocks=2).build(1),
    ...                   layout("conv1d", channels=4, hidden=8), (1, 8), n_outputs=3)
    >>> net(torch.randn(2, 8100)).shape
    torch.Size([2, 3])
    """

    def __init__(self, frontend, layers, input_shape, n_outputs, output="clip",
                 global_pool="mean", key_targets=None):
        super().__init__()
        self.frontend = frontend
        shape = (int(input_shape[0]), int(input_shape[1]))
        self.register_buffer("mean", torch.zeros(shape))
        self.register_buffer("scale", torch.ones(shape))
        self.network = ArchitectureNet(layers, input_shape, n_outputs, output=output,
                                       global_pool=global_pool, key_targets=key_targets)

    def features(self, x):
        """The standardised representation ``(batch, channels, bins, frames)``."""
        if x.ndim == 2:
            x = x[:, None]
        with torch.autocast(x.device.type, enabled=False):
            z = self.frontend(x.float())
            return (z - self.mean[..., None]) / self.scale[..., None]

    def forward(self, x, augment_features=None):
        z = self.features(x)
        if augment_features is not None:
            z, _ = augment_features(z, None)
        return self.network(z)


class FrontendStatistics(Callback):
    """Measures a :class:`WaveformNet`'s standardisation on the training waveforms when
    training begins (as skorch's ``InputShapeSetter`` sets a shape), and sets them as
    the module's ``mean`` and ``scale`` buffers.

    Parameters
    ----------
    owner : str, default="FrontendStatistics"
        Named in errors.
    """

    def __init__(self, owner="FrontendStatistics"):
        self.owner = owner

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        module = net.module_
        mean, scale, _ = standardisation_statistics(
            module.frontend, X, batch_size=net.batch_size, device=net.device, owner=self.owner)
        with torch.no_grad():
            module.mean.copy_(torch.as_tensor(mean))
            module.scale.copy_(torch.as_tensor(scale))


def standardisation_statistics(module, X, *, batch_size=32, device="cpu",
                               owner="standardisation_statistics"):
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
    owner : str, default="standardisation_statistics"
        Named in errors.

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
            f"{owner}: the front end's output on the training waveforms is not finite "
            "(a log of silence without an offset?); its statistics cannot standardise it."
        )
    return mean.astype(np.float32), scale.astype(np.float32), int(n_frames)
