"""The generic stages that every torch representation is a chain of.

A stage is one step of a representation's torch computation, built from plain
values and numpy arrays (the ``kwargs`` of a transformer's ``torch_stages()``): its
arrays become buffers of the chain module (:class:`~skmir.nn.representations.chain.Stages`),
so ``.to(device)`` moves them. Each stage does the operations of the librosa call
it stands for, in float32 and librosa's order, so the numbers agree with the
transformer's (see the tests).

================  ==================================================================
name              computes
================  ==================================================================
``stft``          the complex ``librosa.stft`` (kwargs ``n_fft``, ``hop_length``,
                  ``window`` (array of ``n_fft``), ``center``, ``pad_mode``)
``cqt``           the complex ``librosa.cqt`` (:mod:`~skmir.nn.representations.constant_q`)
``magnitude``     ``|x| ** power``
``matmul``        ``matrix @ x`` over the bins (``matrix``; ``name``: its buffer's name)
``tuned_matmul``  ``filters(tuning) @ x``, each clip's tuning estimated from ``x``
                  (:mod:`~skmir.nn.representations.tuning`)
``log``           ``log(x + eps)``
``db``            decibels, clipped at ``top_db`` below each clip's peak
``threshold``     values below ``threshold`` set to 0
``normalize``     ``librosa.util.normalize(x, norm, axis=-2)``
================  ==================================================================
"""

import numpy as np
import torch

from skmir.nn.representations.common import (
    TORCH_PAD,
    as_float32,
    check_waveform_batch,
    magnitude,
)


class Stage:
    """One step of a chain: ``forward(x, buffers, owner)`` on the previous output.

    ``arrays`` (name -> numpy array) become buffers of the chain (which then empties
    ``arrays``), handed back to ``forward`` by the same names. A stage that takes
    waveforms (``waveform=True``) sets the output's frames; the others keep them.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.stages import Magnitude
    >>> Magnitude(power=2.0).forward(torch.tensor([3 + 4j]), {}, "owner")
    tensor([25.])
    """

    waveform = False

    def __init__(self, **kwargs):
        self.params = kwargs
        self.arrays = {}

    def forward(self, x, buffers, owner):
        raise NotImplementedError

    def n_bins(self, n_in):
        """Bins of the output for ``n_in`` bins of input."""
        return n_in

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples (waveform stages)."""
        raise NotImplementedError

    def min_samples(self):
        """The shortest clip a waveform stage takes."""
        return 1


class STFTKernel(Stage):
    """``librosa.stft``: complex64 ``(..., 1 + n_fft // 2, frames)``."""

    waveform = True

    def __init__(self, n_fft, hop_length, window, center, pad_mode):
        super().__init__(n_fft=n_fft, hop_length=hop_length, center=center,
                         pad_mode=pad_mode)
        self.n_fft, self.hop, self.center, self.pad_mode = n_fft, hop_length, center, pad_mode
        self.arrays = {"fft_window": np.asarray(window, dtype=np.float32)}

    def n_bins(self, n_in):
        return 1 + self.n_fft // 2

    def n_frames(self, n_samples):
        if self.center:
            return 1 + n_samples // self.hop
        return 1 + (n_samples - self.n_fft) // self.hop

    def min_samples(self):
        if not self.center:
            return self.n_fft
        return self.n_fft // 2 + 1 if self.pad_mode == "reflect" else 1

    def forward(self, x, buffers, owner):
        check_waveform_batch(owner, x, self.min_samples())
        lead = x.shape[:-1]
        D = torch.stft(as_float32(x).reshape(-1, x.shape[-1]), self.n_fft, self.hop,
                       window=buffers["fft_window"].float(), center=self.center,
                       pad_mode=TORCH_PAD[self.pad_mode], return_complex=True)
        return D.reshape(*lead, *D.shape[-2:])


class Magnitude(Stage):
    """``|x| ** power`` (:func:`~skmir.nn.representations.magnitude`)."""

    def forward(self, x, buffers, owner):
        return magnitude(x, self.params["power"])


class MatMul(Stage):
    """``matrix @ x``: a filterbank or a linear transform of the bins."""

    def __init__(self, matrix, name="matrix"):
        super().__init__()
        self.name = name
        self.arrays = {name: np.asarray(matrix, dtype=np.float32)}
        self.rows = self.arrays[name].shape[0]

    def n_bins(self, n_in):
        return self.rows

    def forward(self, x, buffers, owner):
        return torch.matmul(buffers[self.name].float(), x)


class Log(Stage):
    """``log(x + eps)``, :class:`skmir.LogCompression`'s ``method="log"``."""

    def forward(self, x, buffers, owner):
        return torch.log(as_float32(x) + np.float32(self.params["eps"]))


class Decibels(Stage):
    """``(20 / power) * log10(max(x, amin) / ref)``, clipped at ``top_db`` below each
    clip's own peak (the maximum over all axes but the first):
    :class:`skmir.LogCompression`'s ``method="db"``."""

    def forward(self, x, buffers, owner):
        p = self.params
        x = as_float32(x)
        # The operations and float32 constants of skmir.LogCompression, in its order.
        out = torch.log10(torch.clamp(x, min=np.float32(p["amin"])))
        out = out - np.float32(np.log10(max(p["amin"], p["ref"])))
        out = out * np.float32(20.0 / p["power"])
        if p["top_db"] is not None:
            peak = out.reshape(len(out), -1).amax(dim=1).reshape((-1,) + (1,) * (x.ndim - 1))
            out = torch.maximum(out, peak - np.float32(p["top_db"]))
        return out


class Threshold(Stage):
    """Values below ``threshold`` set to 0 (``librosa.feature.chroma_cqt``'s)."""

    def forward(self, x, buffers, owner):
        return torch.where(x < self.params["threshold"], torch.zeros_like(x), x)


class Normalize(Stage):
    """``librosa.util.normalize(x, norm=norm, axis=-2)``: frames whose norm is below
    the smallest float32 are left as they are."""

    def forward(self, x, buffers, owner):
        norm = self.params["norm"]
        if norm is None:
            return x
        mag = x.abs()
        if norm == np.inf:
            length = mag.amax(dim=-2, keepdim=True)
        else:
            length = (mag**norm).sum(dim=-2, keepdim=True) ** (1.0 / norm)
        tiny = torch.finfo(x.dtype).tiny
        return x / torch.where(length < tiny, torch.ones_like(length), length)


__all__ = ["Decibels", "Log", "Magnitude", "MatMul", "Normalize", "STFTKernel", "Stage",
           "Threshold"]
