"""The skorch net behind skmir's estimators.

skorch runs the training loop (callbacks, history, early stopping, checkpoints,
device placement). :class:`SkmirNet` overrides two of its small steps:

* ``train_step_single``: applies the batch augmentation (training batches only) and
  runs the forward pass under ``torch.autocast`` when mixed precision is on;
* ``train_step``: steps the optimizer through a ``GradScaler`` (float16 on CUDA)
  instead of skorch's closure, which a scaler cannot drive;

and writes the files of ``save_params`` atomically. :class:`ArrayDataset` hands the
DataLoader whole batches by fancy indexing instead of collating clip by clip;
:func:`resolve_device` turns an estimator's ``device`` parameter into a torch device.
"""

import os
from contextlib import ExitStack

import numpy as np
import torch
from skorch import NeuralNet
from skorch.dataset import Dataset, unpack_data
from skorch.utils import TeeGenerator, to_tensor

from skmir._files import atomic_write


def resolve_device(device):
    """The torch device of a ``device`` parameter: ``"auto"`` is CUDA when available.

    Parameters
    ----------
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:<index>"`` or any torch device string.

    Returns
    -------
    device : str

    Examples
    --------
    >>> from skmir.nn.training import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or "
            "'cuda:<index>'."
        ) from exc
    return device


class ArrayDataset(Dataset):
    """A skorch Dataset over numpy arrays that fetches a batch in one indexing.

    torch's DataLoader calls ``__getitems__`` with the indices of a whole batch;
    paired with :func:`collate_batch` this replaces per-clip fetching and stacking.
    """

    def __getitems__(self, indices):
        idx = np.asarray(indices)
        X = torch.from_numpy(np.ascontiguousarray(self.X[idx]))
        y = torch.zeros(len(idx)) if self.y is None else torch.from_numpy(self.y[idx])
        return X, y


def collate_batch(batch):
    """The batch from ``ArrayDataset.__getitems__`` is already collated."""
    return batch


class SkmirNet(NeuralNet):
    """A skorch ``NeuralNet`` with training-time augmentation and mixed precision.

    Parameters
    ----------
    module, criterion, **kwargs
        As :class:`skorch.NeuralNet`.
    augmentation : callable or None, default=None
        ``(X, y) -> (X, y)`` on torch tensors, applied to training batches only
        (e.g. :class:`skmir.augmentation.BatchAugmentation`).
    mixed_precision : bool, default=False
        Run the training forward pass under ``torch.autocast`` (float16 with a
        ``GradScaler`` on CUDA, bfloat16 on the CPU).
    """

    def __init__(self, module, criterion, augmentation=None, mixed_precision=False, **kwargs):
        super().__init__(module, criterion, **kwargs)
        self.augmentation = augmentation
        self.mixed_precision = mixed_precision

    def initialize(self):
        self.grad_scaler_ = None  # made for the device of this training run
        return super().initialize()

    def _amp(self):
        device_type = torch.device(self.device).type
        dtype = torch.float16 if device_type == "cuda" else torch.bfloat16
        return device_type, dtype, bool(self.mixed_precision)

    def _scaler(self):
        scaler = getattr(self, "grad_scaler_", None)
        if scaler is None:
            device_type, dtype, enabled = self._amp()
            # Loss scaling guards float16 gradients against underflow; bfloat16 has
            # float32's range and needs none.
            scaler = torch.amp.GradScaler(device_type,
                                          enabled=enabled and dtype == torch.float16)
            self.grad_scaler_ = scaler
        return scaler

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        Xi, yi = to_tensor(Xi, device=self.device), to_tensor(yi, device=self.device)
        if self.augmentation is not None:
            with torch.no_grad():
                Xi, yi = self.augmentation(Xi, yi)
        device_type, dtype, enabled = self._amp()
        with torch.autocast(device_type, dtype=dtype, enabled=enabled):
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self._scaler().scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        scaler = self._scaler()
        self._zero_grad_optimizer()
        step = self.train_step_single(batch, **fit_params)
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        for optimizer in optimizers:
            # Callbacks such as GradientNormClipping must see the true gradients.
            scaler.unscale_(optimizer)
        self.notify("on_grad_computed",
                    named_parameters=TeeGenerator(self.get_all_learnable_params()),
                    batch=batch, training=True)
        for optimizer in optimizers:
            scaler.step(optimizer)
        scaler.update()
        return step

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        return self.criterion_(y_pred.float(), y_true)

    def save_params(self, f_params=None, f_optimizer=None, f_criterion=None, f_history=None,
                    use_safetensors=False, **kwargs):
        """As skorch's ``save_params``, but each file appears whole or not at all.

        Files given by path are written to a temporary file in the same directory
        and moved into place with ``os.replace``, so an interrupted save never
        leaves a truncated checkpoint behind.
        """
        named = dict(kwargs, f_params=f_params, f_optimizer=f_optimizer,
                     f_criterion=f_criterion, f_history=f_history)
        with ExitStack() as stack:
            # Every file is moved into place only when skorch has written them all.
            args = {key: stack.enter_context(atomic_write(target))
                    if isinstance(target, (str, os.PathLike)) else target
                    for key, target in named.items()}
            super().save_params(use_safetensors=use_safetensors, **args)
