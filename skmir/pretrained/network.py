"""What a loaded shipped network is: :class:`ShippedNetwork`, one class for every family.

A family (musicnn, choi2017, ...) subclasses it with how its network is built from a
card, cuts a clip's spectrogram into the network's inputs and exposes named layers;
the consumers (:class:`skmir.TransferFeatures`, :class:`skmir.PretrainedTagger`, the
fine-tuning of the neural estimators) only call the methods here.
"""

from dataclasses import dataclass
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval

from skmir._validation import NamedRefusals, check_fixed_rate_mono, refusal


class NetworkFrontend(NamedRefusals, TransformerMixin, BaseEstimator):
    """The front end of a shipped network as a stateless transformer: mono waveforms at
    the one rate the network was trained at (:attr:`RATE`) in, the network's input out.

    A subclass sets :attr:`RATE` (and :attr:`MIN_SAMPLES`, the shortest clip it
    takes), has an ``sr`` parameter (None: X must say its rate, as
    :class:`skmir.Waveforms`; or :attr:`RATE`, declaring that plain arrays are at it,
    the sample-rate contract of :func:`skmir._validation.fixed_rate_input`) and
    defines ``transform``, which calls :meth:`check`. ``fit`` only checks the input.
    """

    #: The sample rate the network was trained at, in Hz.
    RATE = None
    #: The shortest clip the front end takes, in samples.
    MIN_SAMPLES = 1

    _parameter_constraints = {"sr": [Interval(Integral, 1, None, closed="left"), None]}

    def __init__(self, sr=None):
        self.sr = sr

    def check(self, X, reset=None):
        """X validated as mono waveforms at :attr:`RATE`, float32 ``(n_clips, n_samples)``;
        ``reset`` as in :func:`skmir._validation.check_waveforms`."""
        return check_fixed_rate_mono(self, X, self.sr, self.RATE, reset=reset,
                                     min_samples=self.MIN_SAMPLES)

    def fit(self, X, y=None):
        """Check X (mono waveforms at :attr:`RATE`); nothing is learned."""
        self._validate_params()
        self.check(X, reset=True)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def load_weights(module, name, weights, device):
    """Read a checked safetensors weights file into ``module``, the one reader of every
    family's weights: nothing in the file runs, and a file that cannot be read or does
    not fit the module is refused by name (only batch norms' ``num_batches_tracked``
    counters, which inference never reads, may be absent).

    Parameters
    ----------
    module : torch.nn.Module
        The family's network, built from the card.
    name : str
        The network's name, for errors.
    weights : pathlib.Path
        The ``.safetensors`` file (:func:`skmir.pretrained.cards.checked_weights`).
    device : str

    Returns
    -------
    module : torch.nn.Module
        On ``device``, in eval mode.
    """
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(weights, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"the weights of {name!r} ({weights}) cannot be read: {exc}") from exc
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ValueError(f"the weights of {name!r} ({weights}) do not fit its network: "
                         f"{exc}") from exc
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ValueError(f"the weights of {name!r} ({weights}) do not fit its network: "
                         f"missing {missing}, unexpected {result.unexpected_keys}.")
    return module.to(torch.device(device)).eval()


@dataclass(frozen=True, eq=False)
class ShippedNetwork:
    """A shipped network, loaded by :func:`skmir.pretrained.load_pretrained`.

    Parameters
    ----------
    name : str
        Its name (:func:`skmir.pretrained.list_pretrained`).
    card : dict
        Its model card.
    frontend : sklearn transformer
        Fitted: mono waveforms at :attr:`sr` in, spectrograms ``(n_clips, n_bins,
        n_frames)`` out, the values the network was trained on.
    module : torch.nn.Module
        The network with its weights, in eval mode, on ``device``.
    layers : dict of str to (int, bool)
        The layers that give features, in order: their number of channels and
        whether their output has axes (time, mel) to pool over.
    auto_layers : tuple of str
        The layers :class:`skmir.TransferFeatures` takes for ``layers="auto"``.
    input_shape : (int, int)
        ``(n_channels, n_bins)`` of one clip of the front end's output.
    device : str
        Torch device of ``module``.
    min_samples : int, default=1
        Shortest clip the front end takes, in samples.
    patch_frames : int or None, default=None
        Frames of the patches the network tags one by one; None: it takes a whole
        clip at once.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("vgg-mtt")
    >>> network.sr, network.tags[:2], list(network.layers)[:2]
    (16000, ['guitar', 'classical'], ['pool1', 'pool2'])
    >>> network.run(np.zeros((2, 16000 * 7), "float32"), network.probabilities).shape
    (2, 2, 50)
    """

    name: str
    card: dict
    frontend: object
    module: object
    layers: dict
    auto_layers: tuple
    input_shape: tuple
    device: str
    min_samples: int = 1
    patch_frames: int | None = None

    #: How the loader's errors call a network of this family.
    noun: ClassVar[str] = "network"

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the network of a checked card from its checked weights file."""
        raise NotImplementedError

    @property
    def sr(self):
        """Sample rate of the input waveforms (the card's)."""
        return int(self.card["sr"])

    @property
    def tags(self):
        """The tag of each output, in order."""
        return list(self.card["tags"])

    @property
    def level(self):
        """``"clip"``: one output per clip (or per patch of one), tags or keys, as
        :class:`skmir.TransferFeatures` and :class:`skmir.PretrainedTagger` take; or
        ``"frame"``: outputs per frame of a time grid (chords, beats, notes, f0), read
        with :meth:`frame_outputs`. The card's ``level``, ``"clip"`` when absent."""
        return self.card.get("level", "clip")

    def require_level(self, level, owner):
        """Refuse, naming ``owner``, a network of another :attr:`level` than ``level``."""
        if self.level != level:
            use = ("its frame_outputs (skmir.pretrained.load_pretrained(name))"
                   if self.level == "frame" else "a frame-level network")
            raise ValueError(
                f"{owner}: source = {self.name!r}: a {self.level}-level network "
                f"({self.card.get('task', 'tags')}), and {owner} takes {level}-level "
                f"ones only (skmir.list_pretrained(level={level!r})); use {use}."
            )

    @property
    def frame_rate(self):
        """Frames per second of a frame-level network's outputs (the card's
        ``frame_rate``); None for a clip-level network."""
        rate = self.card.get("frame_rate")
        return None if rate is None else float(rate)

    def frame_times(self, n_frames):
        """Time in seconds of each of ``n_frames`` output frames of a frame-level
        network: ``frame_offset + i / frame_rate`` (the card's, offset 0 when absent)."""
        self.require_level("frame", f"{self.name}.frame_times")
        return float(self.card.get("frame_offset", 0.0)) + np.arange(n_frames) / self.frame_rate

    def frame_outputs(self, waveforms, layer=None, *, batch_size=8):
        """Per-frame outputs of a frame-level network over mono waveforms at :attr:`sr`.

        Parameters
        ----------
        waveforms : ndarray of shape (n_clips, n_samples)
            Mono audio at :attr:`sr`, validated by the caller.
        layer : str or None, default=None
            None: the network's output activations (the card's ``tags`` name their
            columns); otherwise one of :attr:`layers`.
        batch_size : int, default=8
            Clips per forward pass.

        Returns
        -------
        outputs : ndarray of float32, shape (n_clips, n_frames, k)
            Frame ``i`` lies at ``frame_times(n_frames)[i]``.
        """
        self._frame_request(layer, batch_size)
        raise NotImplementedError

    def _frame_request(self, layer, batch_size):
        """The checks every family's :meth:`frame_outputs` makes of its arguments: a
        frame-level network, ``layer`` None or one of :attr:`layers`, ``batch_size``
        an int >= 1. Returns the owner its refusals name."""
        owner = f"{self.name}.frame_outputs"
        self.require_level("frame", owner)
        if layer is not None and layer not in self.layers:
            raise ValueError(refusal(owner, "layer", layer,
                                     "choose None (the network's output activations, "
                                     f"the card's tags) or one of {list(self.layers)}."))
        if not isinstance(batch_size, Integral) or isinstance(batch_size, bool) \
                or batch_size < 1:
            raise ValueError(refusal(owner, "batch_size", batch_size, "an int >= 1."))
        return owner

    def n_patches(self, n_samples, patch_hop=None):
        """How many network inputs :meth:`patches` cuts from a clip of ``n_samples``."""
        return 1

    def patches(self, spectrograms, patch_hop=None):
        """The network's inputs for a batch of front-end outputs.

        Parameters
        ----------
        spectrograms : ndarray of shape (n_clips, n_bins, n_frames)
        patch_hop : int or None
            Frames between patch starts (None: the card's); ignored by networks that
            take the whole clip.

        Returns
        -------
        inputs : ndarray of float32, shape (n_clips, n_patches, ...)
        """
        # one input per clip, with the channel axis of skmir's (batch, 1, bins, frames)
        return np.ascontiguousarray(spectrograms, dtype=np.float32)[:, None, None]

    def layer_outputs(self, batch, names):
        """Outputs of the named layers for a batch of network inputs.

        Returns
        -------
        outputs : dict of str to torch.Tensor
            ``(batch, ..., channels)``: channels last, after any time and mel axes.
        """
        raise NotImplementedError

    def probabilities(self, batch):
        """Tag probabilities of a batch of network inputs, ``(batch, n_tags)``."""
        import torch

        return torch.sigmoid(self.module(batch))

    def run(self, waveforms, outputs, *, patch_hop=None, batch_size=64):
        """Run the network over every input (patch) of every clip, a few clips at a time.

        Memory stays bounded by ``batch_size`` network inputs whatever the number of
        clips: the front end runs on as many clips as fill a batch.

        Parameters
        ----------
        waveforms : ndarray of shape (n_clips, n_samples)
            Mono audio at :attr:`sr`, validated by the caller.
        outputs : callable
            ``outputs(batch) -> tensor (batch, k)``, e.g. :meth:`probabilities` or a
            pooling of :meth:`layer_outputs`; called without gradients.
        patch_hop : int or None, default=None
            See :meth:`patches`.
        batch_size : int, default=64
            Network inputs per forward pass.

        Returns
        -------
        out : ndarray of float32, shape (n_clips, n_patches, k)
        """
        import torch

        X = np.asarray(waveforms, dtype=np.float32)
        clips = max(1, batch_size // self.n_patches(X.shape[1], patch_hop))
        was_training = self.module.training
        self.module.eval()
        out = []
        try:
            with torch.no_grad():
                for start in range(0, len(X), clips):
                    inputs = self.patches(self.frontend.transform(X[start:start + clips]),
                                          patch_hop)
                    c, p = inputs.shape[:2]
                    flat = torch.from_numpy(inputs.reshape(c * p, *inputs.shape[2:]))
                    flat = flat.to(self.device)
                    res = [outputs(flat[i:i + batch_size])
                           for i in range(0, len(flat), batch_size)]
                    out.append(torch.cat(res).float().cpu().numpy().reshape(c, p, -1))
        finally:
            self.module.train(was_training)
        return np.concatenate(out)

    def frozen_output(self, X, freeze, *, batch_size=32):
        """The output of the first ``freeze`` blocks for the network's input ``X``,
        computed once to train the rest on (fine-tuning with frozen blocks), or None
        when this family cannot cache them (the default).

        Parameters
        ----------
        X : ndarray
            The network's input (its front end's output), as the estimators take it.
        freeze : int
            The frozen blocks.
        batch_size : int, default=32

        Returns
        -------
        ndarray of float32 or None
        """
        return None

    def fine_tuning(self, n_outputs, freeze=0, *, from_frozen=False):
        """The module that fine-tunes this network, as skorch takes it.

        Parameters
        ----------
        n_outputs : int
            Units of the new output layer.
        freeze : int, default=0
            How many of the first blocks keep their weights.
        from_frozen : bool, default=False
            Whether the module trains on :meth:`frozen_output` (and predicts from the
            network's input once its ``from_maps`` is reset).

        Returns
        -------
        module : type
            A torch module class.
        params : dict
            Its parameters (skorch's ``module__*``), a fresh copy of the weights
            included.
        """
        raise ValueError(
            f"{self.name!r} cannot be fine-tuned in this version of skmir (its family, "
            f"{type(self).__name__}, has no fine-tuning module); take its features with "
            f"TransferFeatures({self.name!r})."
        )


__all__ = ["NetworkFrontend", "ShippedNetwork", "load_weights"]
