"""From skmir transformers to torch modules, and torch modules over numpy arrays:
:func:`from_transformer`, :func:`transform_array`."""

from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from skmir.nn.device import resolve_device
from skmir.nn.representations.chain import module_class

# Samples per batch in transform_array: the STFT's complex output for a batch stays
# in the hundreds of megabytes (hop 512: 2**22 / 512 frames x 1025 bins x 8 bytes).
BLOCK_SAMPLES = 2**22

def from_transformer(obj):
    """The torch module equal to a skmir representation transformer or a chain of them.

    Parameters
    ----------
    obj : transformer, sklearn Pipeline, list or tuple
        Any object with ``torch_stages()``: :class:`skmir.STFT`,
        :class:`skmir.MelSpectrogram`, :class:`skmir.CQT`, :class:`skmir.Chromagram`,
        :class:`skmir.MFCC`, :class:`skmir.LogCompression` or a new representation
        (their ``n_jobs``, ``backend`` and ``device`` are ignored); a Pipeline or a
        sequence of those ("passthrough" and None steps are skipped); a torch module
        is returned as it is.

    Returns
    -------
    module : nn.Module
        The :class:`~skmir.nn.representations.Stages` of the transformer (its named
        subclass for skmir's, e.g. :class:`~skmir.nn.representations.STFT`); an
        ``nn.Sequential`` for a chain (named after the Pipeline's steps).

    Examples
    --------
    >>> import torch
    >>> from sklearn.pipeline import make_pipeline
    >>> from skmir import LogCompression, MelSpectrogram
    >>> from skmir.nn.representations import from_transformer
    >>> net = from_transformer(make_pipeline(MelSpectrogram(n_mels=40), LogCompression()))
    >>> [type(m).__name__ for m in net]
    ['MelSpectrogram', 'LogCompression']
    >>> net(torch.zeros(1, 4096)).shape
    torch.Size([1, 40, 9])
    """
    from sklearn.pipeline import Pipeline

    if isinstance(obj, nn.Module):
        return obj
    if isinstance(obj, Pipeline):
        steps = [(name.replace(".", "_"), from_transformer(step)) for name, step in obj.steps
                 if step is not None and not (isinstance(step, str) and step == "passthrough")]
        return nn.Sequential(OrderedDict(steps))
    if isinstance(obj, (list, tuple)):
        return nn.Sequential(*[from_transformer(step) for step in obj
                               if step is not None and not (isinstance(step, str)
                                                            and step == "passthrough")])
    return module_class(obj)(obj)


def transform_array(module, X, *, device="auto", block_samples=BLOCK_SAMPLES):
    """Run a module over a numpy array of clips in batches, without gradients.

    The ``backend="torch"`` of skmir's sklearn transformers: each batch of clips (at
    most ``block_samples`` input values, at least one clip) is copied to ``device``,
    computed there and copied back into one float32 array (:func:`copy_into`).

    Parameters
    ----------
    module : nn.Module
    X : ndarray of shape (n_clips, ...)
    device : str, default="auto"
        As :func:`skmir.nn.device.resolve_device`.
    block_samples : int, default=2**22
        Input values per batch; bounds the memory of a batch on the device.

    Returns
    -------
    out : ndarray of float32, shape (n_clips, ...)

    Examples
    --------
    >>> import numpy as np
    >>> import skmir
    >>> from skmir.nn.representations import from_transformer, transform_array
    >>> module = from_transformer(skmir.STFT(n_fft=256))
    >>> transform_array(module, np.zeros((3, 1000), "float32"), device="cpu").shape
    (3, 129, 16)
    """
    device = resolve_device(device)
    module = module.to(device)
    per_clip = max(1, int(np.prod(X.shape[1:])))
    per_batch = max(1, block_samples // per_clip)
    out = None
    cuda = torch.device(device).type == "cuda"
    with torch.no_grad():
        for start in range(0, len(X), per_batch):
            batch = torch.from_numpy(np.ascontiguousarray(X[start:start + per_batch],
                                                          dtype=np.float32))
            if cuda:
                batch = batch.pin_memory()
            result = module(batch.to(device, non_blocking=cuda)).float()
            if out is None:
                out = np.empty((len(X), *result.shape[1:]), dtype=np.float32)
            copy_into(torch.from_numpy(out)[start:start + len(result)], result)
    if out is None:
        raise ValueError("transform_array: X holds no clips.")
    return out


def copy_into(dst, src):
    """Copy ``src`` (any device, any strides) into the CPU tensor ``dst``.

    On the CPU, matrix by matrix: the STFT's values come out frames-major (the FFT's
    layout) and ``dst`` is bins-major, and torch transposes a matrix in cache-sized
    blocks on all its intra-op threads, where a strided copy of the whole batch (or
    numpy's assignment, on one thread) takes about twice as long. The values are
    copied exactly.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.convert import copy_into
    >>> dst = torch.empty(2, 3, 4)
    >>> src = torch.arange(24.0).reshape(2, 4, 3).transpose(1, 2)
    >>> bool((copy_into(dst, src) == src).all())
    True
    """
    if src.device.type != "cpu" or src.ndim <= 2:
        return dst.copy_(src)
    for d, s in zip(dst.reshape(-1, *dst.shape[-2:]), src.reshape(-1, *src.shape[-2:])):
        d.copy_(s)
    return dst

__all__ = ["BLOCK_SAMPLES", "copy_into", "from_transformer", "transform_array"]
