"""Any representation as one torch module: :class:`Stages`, the chain of the
generic stages that a transformer's ``torch_stages()`` names, and its named
subclasses (:class:`STFT`, :class:`MelSpectrogram`, ...), which add nothing but
their name.

Built by duck typing: any object with ``torch_stages()`` (and sklearn's
``get_params``) is accepted, so the torch side imports nothing of the signal side.
"""

import torch
from torch import nn

from skmir.nn.representations.common import (
    EXECUTION_PARAMETERS,
    check_torch_exceptions,
    no_autocast,
    params_repr,
)
from skmir.nn.representations.constant_q import CQTKernel
from skmir.nn.representations.stages import (
    Decibels,
    Log,
    Magnitude,
    MatMul,
    Normalize,
    STFTKernel,
    Threshold,
)
from skmir.nn.representations.tuning import TunedMatMul

#: The stages a transformer's ``torch_stages()`` may name, by name.
STAGES = {"stft": STFTKernel, "cqt": CQTKernel, "magnitude": Magnitude, "matmul": MatMul,
          "log": Log, "db": Decibels, "threshold": Threshold, "normalize": Normalize,
          "tuned_matmul": TunedMatMul}


def transformer_stages(transformer):
    """The validated ``(name, kwargs)`` stages of ``transformer`` and its parameters.

    The transformer validates its parameters (sklearn's ``_validate_params``), the
    values torch cannot follow are refused (:data:`TORCH_EXCEPTIONS`, but for the
    names its optional ``torch_unused()`` lists), then ``torch_stages()`` is called.

    Examples
    --------
    >>> import skmir
    >>> from skmir.nn.representations.chain import transformer_stages
    >>> [name for name, _ in transformer_stages(skmir.MelSpectrogram())[0]]
    ['stft', 'magnitude', 'matmul']
    """
    owner = type(transformer).__name__
    if not callable(getattr(transformer, "torch_stages", None)):
        raise ValueError(
            f"from_transformer: {owner} has no torch module; expected an object with "
            "torch_stages() (a skmir representation or LogCompression), a Pipeline or a "
            "list of them, or a torch module.")
    validate = getattr(transformer, "_validate_params", None)
    if validate is not None:
        validate()
    params = {name: value for name, value in transformer.get_params(deep=False).items()
              if name not in EXECUTION_PARAMETERS}
    unused = getattr(transformer, "torch_unused", lambda: ())()
    check_torch_exceptions(transformer, {n: v for n, v in params.items() if n not in unused})
    stages = list(transformer.torch_stages())
    for name, _ in stages:
        if name not in STAGES:
            raise ValueError(
                f"{owner}.torch_stages(): stage {name!r} is not a torch stage; allowed: "
                f"{', '.join(map(repr, STAGES))}.")
    return stages, params


class Stages(nn.Module):
    """A representation as a torch module: the chain of its transformer's stages.

    Computes, on any device and differentiably, the values of the transformer's
    librosa computation: float32, with autocast disabled inside. Its parameters
    (``get_params`` but ``n_jobs``, ``backend``, ``device``) are attributes of the
    module and its repr; the stages' arrays are its buffers.

    Parameters
    ----------
    transformer : object with ``torch_stages()``
        A skmir representation transformer, :class:`skmir.LogCompression`, or a new
        representation (:class:`skmir.representations.base.Representation`).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import Stages
    >>> module = Stages(skmir.MelSpectrogram(n_mels=40))
    >>> module(torch.zeros(2, 22050)).shape, module.n_bins, module.n_frames(22050)
    (torch.Size([2, 40, 44]), 40, 44)
    """

    def __init__(self, transformer):
        super().__init__()
        stages, params = transformer_stages(transformer)
        for name, value in params.items():
            # A name the class defines (n_bins) stays the class's.
            if not hasattr(type(self), name):
                setattr(self, name, value)
        self.transformer_params = params
        self.stages, self.buffer_names = [], []
        for name, kwargs in stages:
            stage = STAGES[name](**kwargs)
            names = {}
            for key, array in stage.arrays.items():
                unique, i = key, 1
                while unique in dict(self.named_buffers(recurse=False)):
                    unique, i = f"{key}{i}", i + 1
                self.register_buffer(unique, torch.as_tensor(array))
                names[key] = unique
            stage.arrays = {}  # the buffers hold them now
            self.stages.append(stage)
            self.buffer_names.append(names)

    @property
    def n_bins(self):
        """Bins of the output (the last stage's that sets them)."""
        n = None
        for stage in self.stages:
            n = stage.n_bins(n)
        return n

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        kernels = [s for s in self.stages if s.waveform]
        if not kernels:
            raise ValueError(f"{type(self).__name__}: takes no waveforms, so has no frames.")
        return kernels[0].n_frames(n_samples)

    def forward(self, x):
        owner = type(self).__name__
        if not self.stages[0].waveform and (not torch.is_tensor(x) or x.ndim < 1):
            raise ValueError(f"{owner}: expected a tensor with the batch axis first.")
        with no_autocast(x):
            for stage, names in zip(self.stages, self.buffer_names):
                x = stage.forward(x, {k: getattr(self, v) for k, v in names.items()}, owner)
        return x

    def extra_repr(self):
        return params_repr(self)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The modules before the stages nested their parts (MelSpectrogram's
        # "stft.fft_window", MFCC's "mel.mel_basis", Chromagram's "spectrum.basis0"):
        # a saved network's buffers load under their flat names.
        own = dict(self.named_buffers(recurse=False))
        for key in [k for k in state_dict if k.startswith(prefix)]:
            name = key.rsplit(".", 1)[-1]
            if "." in key[len(prefix):] and name in own and prefix + name not in state_dict:
                state_dict[prefix + name] = state_dict.pop(key)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


class STFT(Stages):
    """:class:`skmir.STFT` as a torch module (a named :class:`Stages`).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import STFT
    >>> STFT(skmir.STFT(n_fft=1024, hop_length=512))(torch.zeros(2, 22050)).shape
    torch.Size([2, 513, 44])
    """


class MelSpectrogram(Stages):
    """:class:`skmir.MelSpectrogram` as a torch module (a named :class:`Stages`).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import MelSpectrogram
    >>> MelSpectrogram(skmir.MelSpectrogram(n_mels=64))(torch.zeros(2, 3, 22050)).shape
    torch.Size([2, 3, 64, 44])
    """


class MFCC(Stages):
    """:class:`skmir.MFCC` as a torch module (a named :class:`Stages`).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import MFCC
    >>> MFCC(skmir.MFCC(n_mfcc=13))(torch.randn(2, 22050)).shape
    torch.Size([2, 13, 44])
    """


class CQT(Stages):
    """:class:`skmir.CQT` as a torch module (a named :class:`Stages`).

    Its ``res_type`` must be "soxr_hq", ``hybrid`` False and ``pad_mode`` one of
    "constant", "reflect", "edge" (:data:`~skmir.nn.representations.TORCH_EXCEPTIONS`);
    see :class:`~skmir.nn.representations.constant_q.CQTKernel` for how it follows
    librosa (within 3e-6 of the maximum, measured).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import CQT
    >>> CQT(skmir.CQT(n_bins=48))(torch.zeros(2, 22050)).shape
    torch.Size([2, 48, 44])
    """


class Chromagram(Stages):
    """:class:`skmir.Chromagram` as a torch module (a named :class:`Stages`).

    With ``tuning=None`` (the default) each clip's tuning is estimated as librosa
    does (:mod:`~skmir.nn.representations.tuning`).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import Chromagram
    >>> Chromagram(skmir.Chromagram(source="stft", tuning=0.0))(torch.randn(2, 22050)).shape
    torch.Size([2, 12, 44])
    """


class LogCompression(Stages):
    """:class:`skmir.LogCompression` as a torch module (a named :class:`Stages`).

    Input: non-negative values of any shape with the batch first; output of the same
    shape, float32.

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import LogCompression
    >>> LogCompression(skmir.LogCompression(method="db"))(torch.tensor([[[1.0, 100.0]]]))
    tensor([[[ 0., 20.]]])
    """


#: The named modules of skmir's transformers, by the transformer's class name.
NAMED = {cls.__name__: cls for cls in (STFT, MelSpectrogram, MFCC, CQT, Chromagram,
                                       LogCompression)}


def module_class(transformer):
    """The module class of ``transformer``: the named one of its (nearest) skmir
    class, else :class:`Stages`.

    Examples
    --------
    >>> import skmir
    >>> from skmir.nn.representations.chain import module_class
    >>> module_class(skmir.MFCC()).__name__
    'MFCC'
    """
    for cls in type(transformer).__mro__:
        if cls.__module__.startswith("skmir.") and cls.__name__ in NAMED:
            return NAMED[cls.__name__]
    return Stages


__all__ = ["CQT", "MFCC", "NAMED", "STAGES", "STFT", "Chromagram", "LogCompression",
           "MelSpectrogram", "Stages", "module_class", "transformer_stages"]
