"""The skorch net behind skmir's estimators.

skorch runs the training loop (callbacks, history, early stopping, checkpoints,
device placement). :class:`SkmirNet` overrides two of its small steps:

* ``train_step_single``: applies the batch augmentation (training batches only: the
  one place where augmentation happens) and runs the forward pass under
  ``torch.autocast`` when mixed precision is on;
* ``train_step``: steps the optimizer through a ``GradScaler`` (float16 on CUDA)
  instead of skorch's closure, which a scaler cannot drive;

and writes the files of ``save_params`` atomically. :class:`ArrayDataset` hands the
DataLoader whole batches by fancy indexing instead of collating clip by clip;
"""

import math
import os
import sys
from contextlib import ExitStack

import numpy as np
import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping
from skorch.dataset import Dataset, unpack_data
from skorch.utils import TeeGenerator, to_tensor

from skmir._allocator import keep_freed_memory
from skmir._files import atomic_write
from skmir._interrupts import interrupts_propagating
from skmir._progress import report_epoch


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


class TrainingThreads(Callback):
    """The thread policy of a training run, as a skorch callback.

    Each training runs with as many torch intra-op threads as there are CPUs that
    this process may use and that other processes leave idle, measured over 50 ms
    from ``/proc/stat`` when the training starts (at least 1, at most
    ``torch.get_num_threads()``); torch's setting is restored when the training ends.
    The count used is the net's ``num_threads_``. On a machine shared with other
    CPU-bound jobs, torch's OpenMP threads wait on each other whenever one of them
    loses its core (a 2-thread fit beside one busy process ran up to 12x slower than
    alone); one thread per free core costs about the CPU share instead. The
    environment variable ``SKMIR_NUM_THREADS`` (a positive integer) fixes the count:
    torch's float sums depend on it, so fits with the same ``random_state`` are
    bitwise identical only at the same count, which the machine's load can change.

    An exception other than KeyboardInterrupt skips skorch's ``on_train_end``: the
    neural estimators restore torch's setting themselves when their fit raises.

    Examples
    --------
    >>> from skmir.nn.training import TrainingThreads
    >>> n = TrainingThreads.threads(limit=2)  # SKMIR_NUM_THREADS, else the idle CPUs
    >>> n >= 1
    True
    """

    def on_train_begin(self, net, **kwargs):
        self.before_ = torch.get_num_threads()
        net.num_threads_ = self.threads(self.before_)
        torch.set_num_threads(net.num_threads_)

    def on_train_end(self, net, **kwargs):
        torch.set_num_threads(self.before_)

    @classmethod
    def threads(cls, limit):
        """Threads for a training run: SKMIR_NUM_THREADS, else the idle CPUs (at most
        ``limit``)."""
        value = os.environ.get("SKMIR_NUM_THREADS", "").strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise ValueError(f"SKMIR_NUM_THREADS={value!r}: expected a positive integer "
                                 "(the torch threads of each training run), or unset it.")
            return int(value)
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
        if min(limit, usable) <= 1:  # nothing to choose: no need to measure
            return 1
        return max(1, min(limit, usable - cls.busy_cpus()))

    @staticmethod
    def busy_cpus(window=0.05):
        """How many of this process's CPUs other processes keep busy (niced ones too:
        their time is still taken from an OpenMP thread that shares their core);
        0 when unknown."""
        import time

        cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None

        def sample():  # per CPU: (total, idle + iowait) jiffies
            with open("/proc/stat") as f:
                rows = [line.split() for line in f if line[:3] == "cpu" and line[3].isdigit()]
            return {int(r[0][3:]): (sum(map(int, r[1:9])), int(r[4]) + int(r[5]))
                    for r in rows if cpus is None or int(r[0][3:]) in cpus}

        try:
            before, own0, start = sample(), time.process_time(), time.perf_counter()
            time.sleep(window)
            after, own1, end = sample(), time.process_time(), time.perf_counter()
        except (OSError, ValueError, IndexError):  # no /proc (macOS, Windows)
            return 0
        busy = 0.0
        for cpu, (total, idle) in after.items():
            total0, idle0 = before.get(cpu, (total, idle))
            if total > total0:
                busy += 1 - (idle - idle0) / (total - total0)
        # This thread sleeps, but this process's other threads may not (OpenMP and
        # BLAS workers spin for a while after their last parallel region): their
        # time is ours to reuse, not someone else's.
        busy -= (own1 - own0) / max(end - start, 1e-9)
        return max(0, int(round(busy)))


class InterruptPolicy(Callback):
    """What a KeyboardInterrupt (Ctrl-C) during training does, as a skorch callback.

    skorch ends the training on KeyboardInterrupt and still runs the callbacks'
    ``on_train_end``, so early stopping with ``load_best=True`` restores the best
    epoch's weights. This callback records the net's ``interrupted_`` and, when the
    net's ``verbose > 0``, says on stderr at which epoch training stopped and which
    epoch's weights it kept. Inside :func:`skmir.compare` (which runs its folds under
    :func:`skmir._interrupts.interrupts_propagate`) it re-raises the interrupt: a fold
    trained for part of its epochs must stop the run, not be scored.

    skorch's EarlyStopping ends training by raising KeyboardInterrupt too: that is
    the training finishing, told apart by the stopper having run out of patience.
    """

    def on_train_begin(self, net, **kwargs):
        self.start_ = len(net.history)
        net.interrupted_ = False

    def on_train_end(self, net, **kwargs):
        done = [row for row in net.history[self.start_:] if "train_loss" in row]
        if len(done) >= net.max_epochs or self._stopped_early(net):
            return
        net.interrupted_ = True
        if interrupts_propagating():
            raise KeyboardInterrupt
        if net.verbose:
            print(self.interruption(net), file=sys.stderr, flush=True)

    @staticmethod
    def _stopped_early(net):
        """Whether an EarlyStopping callback has just run out of patience."""
        return any(isinstance(cb, EarlyStopping) and getattr(cb, "misses_", 0) >= cb.patience
                   for _, cb in getattr(net, "callbacks_", []))

    @staticmethod
    def interruption(net):
        """What an interrupted training kept, once on_train_end has run."""
        last = net.history[-1] if len(net.history) else {}
        epoch = last.get("epoch", 0)
        done = "train_loss" in last
        stopper = next((cb for _, cb in net.callbacks_ if isinstance(cb, EarlyStopping)
                        and cb.load_best and cb.best_model_weights_ is not None), None)
        if stopper is not None and (stopper.best_epoch_ != epoch or done):
            how = ("restored by early stopping" if stopper.best_epoch_ != epoch
                   else "the last epoch")
            kept = (f"kept the weights of epoch {stopper.best_epoch_}, the best "
                    f"{stopper.monitor} ({how})")
        else:
            kept = (f"kept the weights as they were at the interruption (epoch {epoch}"
                    f"{'' if done else ', part-trained'})")
        return (f"skmir: training interrupted during epoch {epoch} of {net.max_epochs}; "
                f"{kept}.")


class EpochProgress(Callback):
    """Tells :func:`skmir._progress.report_epoch` (the progress bar of
    :func:`skmir.compare`) that an epoch finished."""

    def on_epoch_end(self, net, **kwargs):
        report_epoch(len(net.history), net.max_epochs)


class Divergence(Callback):
    """Stops a training whose loss or weights stop being finite, as a skorch callback.

    A diverging training (a learning rate or an augmentation strength too large)
    leaves NaN weights that predict NaN for every input; this callback ends it with
    a ValueError instead. It checks the loss of every batch (the float that skorch
    has already recorded: no extra device sync) and, at each epoch's end, the
    epoch's ``train_loss`` and ``valid_loss`` and the module's weights (one sync per
    epoch: the last optimizer step of an epoch can make them NaN without any loss
    showing it). The error names ``owner``, the epoch (and batch), and the
    parameters that can cause it with their values: ``lr`` and the optimizer, and
    the augmentation strengths in effect, by the estimators' parameter names.

    The error propagates out of ``fit``; skmir's estimators then keep no network
    (``net_`` is not set), so nothing predicts NaN.

    Parameters
    ----------
    owner : str, default="SkmirNet"
        Named in errors (the estimator that trains the net).

    Examples
    --------
    >>> from skmir.nn.training import Divergence, SkmirNet
    >>> Divergence.causes(SkmirNet(object, object, lr=0.1))
    'lr=0.1 (optimizer SGD)'
    """

    #: The strengths of an augmentation object that can make a training diverge:
    #: attribute -> the estimators' parameter name.
    STRENGTHS = {"gain": "gain", "gain_db": "wave_gain", "noise_snr": "noise_snr",
                 "pitch_shift": "pitch_shift", "time_stretch": "time_stretch",
                 "mixup": "mixup"}

    def __init__(self, owner="SkmirNet"):
        self.owner = owner

    def on_batch_end(self, net, training=False, **kwargs):
        batches = net.history[-1]["batches"]
        name = "train_loss" if training else "valid_loss"
        loss = batches[-1].get(name)
        if loss is not None and not math.isfinite(loss):
            where = sum(name in row for row in batches)
            self.stop(net, f"{name} = {loss}", f"batch {where} of epoch {len(net.history)}")

    def on_epoch_end(self, net, **kwargs):
        row, epoch = net.history[-1], len(net.history)
        for name in ("train_loss", "valid_loss"):
            loss = row.get(name)
            if loss is not None and not math.isfinite(loss):
                self.stop(net, f"{name} = {loss}", f"epoch {epoch}")
        params = [p.detach() for p in net.module_.parameters()]
        if params and not bool(torch.stack([p.isfinite().all() for p in params]).all()):
            bad = next(n for n, p in net.module_.named_parameters() if not p.isfinite().all())
            self.stop(net, f"weight {bad} = nan or inf", f"the optimizer steps of epoch {epoch}")

    def stop(self, net, what, where):
        """Raise the error of a diverged training."""
        raise ValueError(
            f"{self.owner}: {what} after {where}: the training diverged. What can cause "
            f"it: {self.causes(net)}; lower the learning rate (e.g. 10x) or these "
            "augmentation strengths, and check X for extreme values. The training "
            "stopped: its weights are not usable."
        )

    @classmethod
    def causes(cls, net):
        """``lr`` and the optimizer, and the augmentation strengths in effect (non-zero),
        as ``name=value`` text."""
        optimizer = getattr(net.optimizer, "__name__", net.optimizer)
        found = {}
        for augmentation in (net.augmentation, getattr(net.augmentation, "features", None)):
            for attr, name in cls.STRENGTHS.items():
                value = getattr(augmentation, attr, None)
                if value is not None and value != 0:
                    found[name] = value
        return ", ".join([f"lr={net.lr} (optimizer {optimizer})",
                          *(f"{name}={value!r}" for name, value in found.items())])


class SkmirNet(NeuralNet):
    """A skorch ``NeuralNet`` with training-time augmentation and mixed precision.

    Its training policies are callbacks that every SkmirNet has (after skorch's
    defaults): :class:`TrainingThreads` (``num_threads_``), :class:`Divergence` (a
    loss or weights that stop being finite end the training with a ValueError; its
    owner is set with ``callbacks__divergence__owner``), :class:`InterruptPolicy`
    (``interrupted_``) and :class:`EpochProgress`.

    Parameters
    ----------
    module, criterion, **kwargs
        As :class:`skorch.NeuralNet`.
    augmentation : callable or None, default=None
        ``(X, y) -> (X, y)`` on torch tensors, applied to training batches only
        (:class:`skmir.nn.augmentation.BatchAugmentation` or
        :class:`~skmir.nn.augmentation.WaveformAugmentation`). When it has a
        ``features`` transform (gain and masks on a front end's output), the
        training step hands it to the module's forward as ``augment_features``.
    mixed_precision : bool, default=False
        Run the training forward pass under ``torch.autocast`` (float16 with a
        ``GradScaler`` on CUDA, bfloat16 on the CPU).
    """

    def __init__(self, module, criterion, augmentation=None, mixed_precision=False, **kwargs):
        super().__init__(module, criterion, **kwargs)
        self.augmentation = augmentation
        self.mixed_precision = mixed_precision

    def get_default_callbacks(self):
        # Divergence before progress: an epoch that diverged is not reported as done.
        return [*super().get_default_callbacks(), ("threads", TrainingThreads()),
                ("divergence", Divergence()), ("interrupts", InterruptPolicy()),
                ("progress", EpochProgress())]

    def initialize(self):
        self.grad_scaler_ = None  # made for the device of this training run
        keep_freed_memory()  # batches reuse the heap instead of mmap/munmap each time
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
        Xi, yi = self._to_device(Xi), self._to_device(yi)
        augmentation = self.augmentation
        if augmentation is not None:
            with torch.no_grad():
                Xi, yi = augmentation(Xi, yi)
            features = getattr(augmentation, "features", None)
            if features is not None:
                fit_params = {**fit_params, "augment_features": features}
        device_type, dtype, enabled = self._amp()
        with torch.autocast(device_type, dtype=dtype, enabled=enabled):
            y_pred = self.infer(Xi, **fit_params)
            loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self._scaler().scale(loss).backward()
        return {"loss": loss, "y_pred": y_pred}

    def _to_device(self, x):
        """A batch on the training device; from pinned CPU memory to CUDA the copy is
        asynchronous, so the next batch's transfer overlaps this one's compute."""
        if isinstance(x, torch.Tensor) and torch.device(self.device).type == "cuda":
            return x.to(self.device, non_blocking=x.is_pinned())
        return to_tensor(x, device=self.device)

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
