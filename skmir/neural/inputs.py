"""How X reaches a neural estimator's network: the three input modes.

An estimator's parameters decide, once per ``fit``, which of these carries its input
(:func:`input_mode`); the estimator itself never branches on it:

* :class:`SpectrogramInput`: X is spectrogram-like clips ``(n_clips, [n_channels,]
  n_bins, n_frames)`` (a 2-D X is one frame per clip); the network is an
  :class:`~skmir.nn.builder.ArchitectureNet` of the architecture string, trained
  with :class:`~skmir.nn.augmentation.BatchAugmentation`;
* :class:`WaveformInput` (``frontend`` set): X is waveforms; the front end is
  resolved and built once, its output shape measured on one clip, its
  standardisation at the start of training
  (:class:`~skmir.nn.frontends.FrontendStatistics`); the network is a
  :class:`~skmir.nn.frontends.WaveformNet`, trained with
  :class:`~skmir.nn.augmentation.WaveformAugmentation`;
* :class:`ShippedInput` (``architecture`` names a shipped network): X is that
  network's own input (e.g. musicnn's log-mel), and a new output layer is trained on
  it (fine-tuning).

Each mode validates X at fit and at prediction, sets the fitted attributes of its
input, and names the network's module and its parameters. What differs between clip
and frame estimators (the time scale) stays with the estimator and its target codec.
"""

from numbers import Real

import numpy as np
import torch

from skmir._validation import refusal
from skmir.neural.targets import key_head_targets
from skmir.nn.augmentation import BatchAugmentation, WaveformAugmentation
from skmir.nn.builder import ArchitectureNet
from skmir.nn.frontends import declares_sr, resolve_frontend
from skmir.nn.waveform_net import FrontendStatistics, WaveformNet
from skmir.pretrained import is_shipped, load_pretrained

#: Parameters that augment waveforms: they need a front end.
WAVEFORM_AUGMENTATION = ("wave_gain", "noise_snr", "pitch_shift", "time_stretch")

#: The signal-to-noise ratios (dB) that ``noise_snr`` may draw: below -20 dB the noise
#: has 100x the clip's power (the clip is noise), and above 100 dB it is below 16-bit
#: audio's quantisation noise (96 dB), no augmentation; far outside, the noise level
#: overflows float32 (-1000 dB: a factor 1e50 on the amplitude) and the loss is NaN.
NOISE_SNR_DB = (-20, 100)


def input_mode(est):
    """The input mode that ``est``'s parameters choose (see the module docstring).

    Examples
    --------
    >>> from skmir.neural import NeuralClassifier
    >>> from skmir.neural.inputs import input_mode
    >>> type(input_mode(NeuralClassifier(frontend="logmel"))).__name__
    'WaveformInput'
    """
    if est.frontend is not None:
        return WaveformInput(est)
    if is_shipped(est._resolved("architecture")):
        return ShippedInput(est)
    return SpectrogramInput(est)


class SpectrogramInput:
    """X is spectrograms; see the module docstring.

    Parameters
    ----------
    est : BaseNeuralEstimator
    """

    def __init__(self, est):
        self.est = est
        self.owner = type(est).__name__

    def prepare(self, X, y):
        """Validate X and y at fit and set the input's fitted attributes; return X as
        float32 ``(n_clips, n_channels, n_bins, n_frames)`` and the targets with a
        flag saying whether they have a frame axis."""
        est = self.est
        for name in WAVEFORM_AUGMENTATION:
            value = getattr(est, name)
            if value is not None and value != 0:
                raise ValueError(
                    f"{self.owner}: {name}={value!r} augments waveforms, which needs a "
                    "frontend (then X is waveforms); with frontend=None X is spectrograms. "
                    "Set frontend (e.g. frontend='logmel'), or augment the waveforms "
                    "offline with skmir.augment before computing spectrograms."
                )
        if est._time_scale.frame_targets:
            est._require_y(y, "X's frames")
            X4 = est._check_X(X, reset=True)
            y = est._check_frame_y(X, y, X4)
            frames = not est.single_frame_
        else:
            X4, y = est._check_X(X, y, reset=True)
            y = est._codec.as_labels(np.asarray(y))
            frames = False
        est.input_shape_ = tuple(int(s) for s in X4.shape[1:3])
        return X4, y, frames

    def check(self, X):
        """Validate X at prediction."""
        return self.est._check_X(X, reset=False)

    def build(self, X, y):
        """Build what the network needs before skorch makes it (nothing here); return
        X and y as the network trains on them."""
        return X, y

    def module(self, seed):
        """The torch module class and its parameters (skorch's ``module__*``)."""
        est = self.est
        layers = est._layout()
        return ArchitectureNet, dict(
            layers=layers, input_shape=tuple(est.input_shape_),
            n_outputs=est.n_outputs_, output=est._time_scale.name,
            global_pool=est.global_pool, key_targets=key_head_targets(est, layers))

    def augmentation(self, seed):
        """The training-batch augmentation of the parameters."""
        est = self.est
        return BatchAugmentation(
            crop_frames=est._resolved("crop_frames"), gain=est.gain,
            freq_mask=est.freq_mask, time_mask=est._resolved("time_mask"),
            mixup=est._resolved("mixup"), random_state=seed + 1,
            n_classes=est._codec.mixup_classes(est),
            frame_targets=est._time_scale.frame_targets)

    def callbacks(self):
        """Callbacks of the training net that this input needs."""
        return []

    #: Fitted attributes of this input, beyond the estimator's (arrays, values).
    fitted_names = ((), ())

    def finish(self, net):
        """Read back what the trained (or loaded) network holds."""


class ShippedInput(SpectrogramInput):
    """X is the input of the shipped network that ``architecture`` names, which is
    fine-tuned with a new output layer (see the module docstring)."""

    def prepare(self, X, y):
        est = self.est
        if est._time_scale.frame_targets:
            raise ValueError(
                f"{self.owner}: architecture = {est.architecture!r}: is a clip-level network "
                "(it pools over time); frame estimators take architecture strings."
            )
        X4, y, frames = super().prepare(X, y)
        shipped = self.network
        frontend = type(shipped.frontend)
        if est.input_shape_ != shipped.input_shape:
            raise ValueError(
                f"{self.owner}: architecture = {est.architecture!r}: takes (channels, bins) = "
                f"{shipped.input_shape} per clip, the spectrograms of "
                f"{frontend.__module__}.{frontend.__qualname__}; got {est.input_shape_}."
            )
        return X4, y, frames

    def caches(self):
        """Whether the frozen blocks' output is computed once per clip: with ``freeze >=
        2`` and no augmentation of the spectrograms (which would reach the frozen
        blocks), they give the same output in every epoch."""
        est = self.est
        augmented = (est._resolved("crop_frames") is not None or est.gain or est.freq_mask
                     or est._resolved("time_mask") or est._resolved("mixup"))
        return est.freeze >= 2 and not augmented

    def build(self, X, y):
        """With :meth:`caches`, X becomes the frozen blocks' output (computed once per
        clip by the shipped network, when its family can): the network trains on it
        from its first trained block, and predicts from spectrograms as before."""
        maps = self.network.frozen_output(X, self.est.freeze) if self.caches() else None
        self.cached_ = maps is not None
        return (X, y) if maps is None else (maps, y)

    @property
    def network(self):
        """The shipped network (:func:`skmir.pretrained.load_pretrained`), loaded once."""
        if getattr(self, "network_", None) is None:
            self.network_ = load_pretrained(self.est._resolved("architecture"))
            self.network_.require_level("clip", type(self.est).__name__)
        return self.network_

    def module(self, seed):
        est = self.est
        return self.network.fine_tuning(est.n_outputs_, est.freeze,
                                        from_frozen=getattr(self, "cached_", False))

    def finish(self, net):
        net.module_.from_maps = False  # trained on cached maps, it predicts spectrograms


class WaveformInput(SpectrogramInput):
    """X is waveforms and ``frontend`` makes the network's input (see the module
    docstring). The front end is resolved here, once."""

    def __init__(self, est):
        super().__init__(est)
        self.resolved_ = self.built_ = self.X_ = None
        self.waveforms_ = False

    @property
    def frontend(self):
        """The resolved front end (:func:`~skmir.nn.frontends.resolve_frontend`), at
        the rate of the data (at fit: ``X.sr``; after it: ``sr_``)."""
        if self.resolved_ is None:
            est = self.est
            sr = getattr(self.X_, "sr", None) if self.X_ is not None else getattr(
                est, "sr_", None)
            self.resolved_ = resolve_frontend(est.frontend, sr=sr, owner=self.owner)
        return self.resolved_

    def prepare(self, X, y):
        est = self.est
        if is_shipped(est._resolved("architecture")):
            raise ValueError(
                f"{self.owner}: architecture = {est.architecture!r}: brings its own input (the "
                "spectrograms of skmir.pretrained.load_pretrained(architecture).frontend) "
                f"and cannot follow frontend={est.frontend!r}; use frontend=None with "
                "those spectrograms, or an architecture string."
            )
        self._check_noise_snr()
        frame = est._time_scale.frame_targets
        if frame:
            est._require_y(y, "the front end's frames")
        self.X_ = X  # X.sr, if any, sets the rate of a front end whose sr is None
        sr = getattr(self.frontend, "sr", None)
        if frame:
            X3 = est._check_waveforms(X, reset=True, sr=sr)
        else:
            X3, y = est._check_waveforms(X, y, reset=True, sr=sr)
        self.waveforms_ = getattr(X, "sr", None) is not None  # skmir.Waveforms: audio
        if not (declares_sr(est.frontend) or self.waveforms_ or self.frontend.sr_free):
            raise ValueError(
                f"{self.owner}: frontend = {est.frontend!r}: takes its sample rate from the "
                "waveforms, but X is a plain array, which does not say its rate; pass "
                "skmir.Waveforms(X, sr=...) (skmir.AudioLoader returns them), or give "
                "the front end its rate, e.g. frontend=skmir.nn.frontends.LogMel(sr=22050)."
            )
            y = est._codec.as_labels(np.asarray(y))
        est.sr_ = None if sr is None else int(sr)
        est.n_audio_channels_ = int(X3.shape[1])
        self.X_ = X3
        return X3, y, frame

    def build(self, X, y):
        """Build the front end (once; inside the fit's seeded RNG, so its random
        weights are reproducible) and measure its output on one clip: the network's
        ``input_shape_`` and the frames that frame targets must match; return X and
        the targets, checked against those frames."""
        est = self.est
        try:
            self.built_ = self.frontend.build(est.n_audio_channels_)
        except ValueError as exc:
            if not isinstance(est.frontend, str):
                raise
            # a preset's numbers cannot be changed through its name: say which
            # instance to pass instead
            spec = self.frontend
            raise ValueError(refusal(
                self.owner, "frontend", est.frontend,
                f"the preset {spec!r} cannot run at this rate ({str(exc).rstrip('.')}); pass "
                f"frontend=skmir.nn.frontends.{type(spec).__name__}(...) with the numbers "
                "changed, or audio at another rate.")) from exc
        X3 = self.X_
        n_samples = X3.shape[-1]
        window = self.frontend.grid().window
        if n_samples < window and not (self.waveforms_ or self.frontend.sr_free):
            raise ValueError(
                f"{self.owner}: X has clips of {n_samples} sample(s) ({n_samples} "
                f"feature(s) per clip), fewer than the {window} of "
                f"frontend={est.frontend!r}'s window: with a frontend, X must "
                "be waveforms (n_clips, [n_channels,] n_samples); are these spectrograms? "
                "They are the input of frontend=None. (Short clips given as skmir.Waveforms "
                "are padded as librosa pads them.)"
            )
        try:
            with torch.no_grad():
                was_training = self.built_.training
                # Eval mode: the raw-waveform front ends end in batch norm, whose
                # training statistics one clip cannot give.
                z = self.built_.eval()(torch.as_tensor(X3[:1]).float())
                self.built_.train(was_training)
        except RuntimeError as exc:  # e.g. a convolution longer than the clips
            raise ValueError(
                f"{self.owner}: frontend = {est.frontend!r}: cannot run on clips of "
                f"{n_samples} samples ({exc})."
            ) from exc
        n_frames = int(z.shape[-1])
        if n_frames < 1:
            raise ValueError(
                f"{self.owner}: frontend = {est.frontend!r}: gives no frame for clips of "
                f"{n_samples} samples; use longer clips."
            )
        grid = self.frontend.grid()
        if grid.n_frames(n_samples) != n_frames and (
                est._resolved("crop_frames") is not None or est.time_stretch
                or est.pitch_shift):
            raise ValueError(
                f"{self.owner}: crop_frames, time_stretch and pitch_shift cut waveforms on "
                f"the front end's frames, but frontend={est.frontend!r} gives {n_frames} "
                f"frames for {n_samples} samples, not the {grid.n_frames(n_samples)} of "
                "its hop; set crop_frames=None, time_stretch=0 and pitch_shift=0."
            )
        est.input_shape_ = (int(z.shape[1]), int(z.shape[2]))
        if not est._time_scale.frame_targets:
            return X, y
        shape = np.shape(y)
        if len(shape) >= 2 and shape[1] != n_frames:
            raise ValueError(
                f"{self.owner}: y has {shape[1]} frames but frontend={est.frontend!r} "
                f"gives {n_frames} frames for clips of {n_samples} samples (hop "
                f"{self.frontend.grid().hop_length}); frame targets must be aligned to them."
            )
        frames_like = np.empty((len(X3), 1, 1, n_frames), np.float32)
        est.single_frame_ = False
        return X, est._check_frame_y(frames_like, y, frames_like)

    def check(self, X):
        # A rate taken from the waveforms at fit cannot vouch for a plain array now.
        return self.est._check_waveforms(X, reset=False, sr=self.est.sr_,
                                         sr_declared=declares_sr(self.est.frontend))

    def module(self, seed):
        est = self.est
        if self.built_ is None:  # a network to load weights into: no data to measure
            self.built_ = self.frontend.build(est.n_audio_channels_)
        layers = est._layout()
        return WaveformNet, dict(
            frontend=self.built_, layers=layers,
            input_shape=tuple(est.input_shape_), n_outputs=est.n_outputs_,
            output=est._time_scale.name, global_pool=est.global_pool,
            key_targets=key_head_targets(est, layers))

    def augmentation(self, seed):
        est = self.est
        features = BatchAugmentation(gain=est.gain, freq_mask=est.freq_mask,
                                     time_mask=est._resolved("time_mask"),
                                     random_state=seed + 3)
        augmentation = WaveformAugmentation(
            self.frontend.grid(), crop_frames=est._resolved("crop_frames"),
            gain_db=est.wave_gain, noise_snr=est.noise_snr, pitch_shift=est.pitch_shift,
            time_stretch=est.time_stretch, mixup=est._resolved("mixup"),
            n_classes=est._codec.mixup_classes(est),
            frame_targets=est._time_scale.frame_targets, random_state=seed + 1,
            features=features if features.active else None)
        if self.X_ is not None:  # at fit: refuse a stretch the frame targets cannot follow
            augmentation.check_room(self.X_.shape[-1], self.owner)
        return augmentation

    def callbacks(self):
        if not self.frontend.standardize:
            return []
        return [("frontend_statistics", FrontendStatistics(owner=self.owner))]

    fitted_names = ((), ("sr_", "n_audio_channels_"))

    def finish(self, net):
        module = net.module_
        self.est.frontend_mean_ = module.mean.detach().cpu().numpy().copy()
        self.est.frontend_scale_ = module.scale.detach().cpu().numpy().copy()

    def _check_noise_snr(self):
        snr = self.est.noise_snr
        pair = [snr, snr] if isinstance(snr, Real) else list(snr) if snr is not None else []
        lo, hi = NOISE_SNR_DB
        ok = len(pair) == 2 and all(isinstance(v, Real) and lo <= v <= hi for v in pair)
        if snr is not None and not (ok and pair[0] <= pair[1]):
            raise ValueError(
                f"{self.owner}: noise_snr = {snr!r}: allowed: None (no noise), a "
                f"signal-to-noise ratio in dB within [{lo}, {hi}], or a (low, high) range "
                "of them, e.g. (10, 30)."
            )
