"""The one base of skmir's neural estimators.

:class:`BaseNeuralEstimator` owns what every neural estimator shares: the
parameters (one signature), their validation, laying out and building the network
from the architecture string, training with skorch, prediction, persistence and the
device. A public estimator is a thin class that chooses two things:

* a **time scale** (the paper's table 1), its ``_time_scale`` attribute: :data:`CLIP`
  (one decision per clip: the network ends in global pooling over time) or
  :data:`FRAME` (one decision per frame: pooling over frequency only, targets with a
  frame axis that crops and mixup keep aligned); the defaults that differ between
  the two (``"auto"`` parameters) are resolved from it in :meth:`_resolved`;
* a **target codec** (:mod:`skmir.neural.targets`), its ``_codec`` attribute: class
  labels, label indicators or standardised continuous targets.

The skorch net is built in ``fit`` and kept as ``net_`` (composition rather than
subclassing skorch): ``__init__`` only stores the parameters, as sklearn requires,
every parameter (the architecture string included) is a plain value that
GridSearchCV can set, and the layer sizes, which depend on the data, are only known
in ``fit``.
"""

import copy
import inspect
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmir.augmentation import BatchAugmentation
from skmir.neural.persistence import PersistenceMixin
from skmir.neural.validation import InputValidationMixin, ndim
from skmir.nn.architecture import ACTIVATIONS, CELLS, layout

_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}


@dataclass(frozen=True)
class TimeScale:
    """What the decision time scale (clip or frame) changes in an estimator."""

    name: str
    #: What the ``"auto"`` parameters resolve to (``mixup`` for clips: the codec's).
    defaults: dict
    #: Whether ``y`` has a frame axis aligned to X's frames (crops cut it too).
    frame_targets: bool


CLIP = TimeScale("clip", {"architecture": "conv2d", "channels": 32, "crop_frames": 0.5,
                          "time_mask": 0.1}, frame_targets=False)
# Crops and mixup are off for frames: see skmir.neural.frame's notes.
FRAME = TimeScale("frame", {"architecture": "dnn", "channels": 16, "crop_frames": None,
                            "time_mask": 0.0, "mixup": 0.0}, frame_targets=True)

_auto = StrOptions({"auto"})
_per_layer_int = [Interval(Integral, 1, None, closed="left"), list, tuple]


def _accuracy(net, X, y):
    """Validation accuracy for the epoch table (a module-level function: picklable)."""
    return float(np.mean(net.predict_proba(X).argmax(axis=1) == np.asarray(y)))


class BaseNeuralEstimator(InputValidationMixin, PersistenceMixin, BaseEstimator):
    """Shared machinery of the neural estimators; see the module docstring.

    A class that adds parameters writes ``__init__(self, architecture="auto", *,
    <its own>, **params)`` (as :class:`ThresholdMixin`); its signature, which
    sklearn's ``get_params`` and ``clone`` read, becomes its own parameters plus
    this one's, so the shared parameters are written once.
    """

    _time_scale = CLIP
    _codec = None

    _parameter_constraints = {
        "architecture": [str],
        "frontend": [None, str, HasMethods(["get_params"])],
        "channels": [_auto, *_per_layer_int],
        "kernel_size": _per_layer_int,
        "pool": _per_layer_int,
        "hidden": _per_layer_int,
        "context": _per_layer_int,
        "activation": [StrOptions(set(ACTIVATIONS)), list, tuple],
        "batch_norm": ["boolean", list, tuple],
        "dropout": [Interval(Real, 0, 1, closed="left"), list, tuple],
        "cell": [StrOptions(set(CELLS)), list, tuple],
        "bidirectional": ["boolean", StrOptions({"auto"}), list, tuple],
        "global_pool": [StrOptions({"mean", "max"})],
        "freeze": [Interval(Integral, 0, None, closed="left")],
        "crop_frames": [_auto, Interval(Integral, 1, None, closed="left"),
                        Interval(Real, 0, 1, closed="right"), None],
        "gain": [Interval(Real, 0, None, closed="left")],
        "freq_mask": [Interval(Integral, 0, None, closed="left"),
                      Interval(Real, 0, 1, closed="left")],
        "time_mask": [_auto, Interval(Integral, 0, None, closed="left"),
                      Interval(Real, 0, 1, closed="left")],
        "mixup": [_auto, Interval(Real, 0, None, closed="left")],
        "wave_gain": [Interval(Real, 0, None, closed="left")],
        "noise_snr": [None, Real, tuple, list],
        "pitch_shift": [Interval(Real, 0, None, closed="left")],
        "time_stretch": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions(set(_OPTIMIZERS)), type],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, None],
        "device": [str],
        "mixed_precision": ["boolean", StrOptions({"auto"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        architecture="auto",
        *,
        frontend=None,
        channels="auto",
        kernel_size=3,
        pool=2,
        hidden=64,
        context=3,
        activation="relu",
        batch_norm=True,
        dropout=0.1,
        cell="gru",
        bidirectional="auto",
        global_pool="mean",
        freeze=0,
        crop_frames="auto",
        gain=0.5,
        freq_mask=0.1,
        time_mask="auto",
        mixup="auto",
        wave_gain=0.0,
        noise_snr=None,
        pitch_shift=0.0,
        time_stretch=0.0,
        optimizer="adam",
        lr=1e-3,
        weight_decay=0.0,
        batch_size=32,
        max_epochs=100,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        callbacks=None,
        device="auto",
        mixed_precision="auto",
        random_state=None,
        verbose=0,
    ):
        self.architecture = architecture
        self.frontend = frontend
        self.channels = channels
        self.kernel_size = kernel_size
        self.pool = pool
        self.hidden = hidden
        self.context = context
        self.activation = activation
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.cell = cell
        self.bidirectional = bidirectional
        self.global_pool = global_pool
        self.freeze = freeze
        self.crop_frames = crop_frames
        self.gain = gain
        self.freq_mask = freq_mask
        self.time_mask = time_mask
        self.mixup = mixup
        self.wave_gain = wave_gain
        self.noise_snr = noise_snr
        self.pitch_shift = pitch_shift
        self.time_stretch = time_stretch
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.device = device
        self.mixed_precision = mixed_precision
        self.random_state = random_state
        self.verbose = verbose

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__init__
        own = list(inspect.signature(init).parameters.values())
        if init is BaseNeuralEstimator.__init__ or own[-1].kind is not own[-1].VAR_KEYWORD:
            return
        names = {p.name for p in own}
        shared = [p for p in inspect.signature(BaseNeuralEstimator.__init__).parameters.values()
                  if p.name not in names]
        init.__signature__ = inspect.Signature(own[:-1] + shared)

    # ------------------------------------------------------------- parameters
    def _resolved(self, name):
        """A parameter's value, with ``"auto"`` resolved for the time scale and task."""
        value = getattr(self, name)
        if not (isinstance(value, str) and value == "auto"):
            return value
        if name in self._time_scale.defaults:
            return self._time_scale.defaults[name]
        if name == "mixup":
            return self._codec.clip_mixup
        if name == "bidirectional":  # the birnn preset is bidirectional
            return self._resolved("architecture").strip().lower() == "birnn"
        return value

    def _pretrained(self):
        """The shipped network that ``architecture`` names (to fine-tune), or None."""
        from skmir.pretrained import is_shipped

        name = self._resolved("architecture")
        return name if is_shipped(name) else None

    def _layout(self):
        """Parse the architecture and lay out per-layer parameters (pure Python); None
        for a pretrained network, which brings its own layers."""
        owner = type(self).__name__
        if self._pretrained() is not None:
            if self._time_scale.frame_targets:
                raise ValueError(
                    f"{owner}: architecture={self.architecture!r} is a clip-level network "
                    "(it pools over time); frame estimators take architecture strings."
                )
            return None
        if self.freeze:
            raise ValueError(
                f"{owner}: freeze={self.freeze} keeps the first layers' weights, which only "
                "means something for a pretrained architecture (e.g. 'musicnn-msd'); "
                f"architecture={self.architecture!r} starts from random weights."
            )
        params = ("channels", "kernel_size", "pool", "hidden", "context", "activation",
                  "batch_norm", "dropout", "cell", "bidirectional")
        return layout(self._resolved("architecture"), output=self._time_scale.name,
                      **{name: self._resolved(name) for name in params})

    def _module(self, seed=0):
        """The torch module class and its parameters (skorch's ``module__*``)."""
        if self.frontend is not None:
            from skmir.nn.frontends import WaveformNet

            return WaveformNet, dict(
                frontend=self._frontend_spec(), layers=self._layout(),
                input_shape=tuple(self.input_shape_), n_outputs=self.n_outputs_,
                output=self._time_scale.name, global_pool=self.global_pool,
                n_channels=self.n_audio_channels_, mean=self.frontend_mean_,
                scale=self.frontend_scale_, augmentation=self._feature_augmentation(seed))
        source = self._pretrained()
        if source is not None:
            from skmir.pretrained import load_pretrained

            return load_pretrained(source).fine_tuning(self.n_outputs_, self.freeze)
        from skmir.nn.builder import ArchitectureNet

        return ArchitectureNet, dict(layers=self._layout(), input_shape=tuple(self.input_shape_),
                                     n_outputs=self.n_outputs_, output=self._time_scale.name,
                                     global_pool=self.global_pool)

    # -------------------------------------------------------------------- data
    def _prepare(self, X, y):
        """Validate everything, set the fitted attributes; return X4, encoded y, seed."""
        self._validate_params()
        self._layout()  # an invalid architecture fails here, before any torch work
        if self.frontend is not None:
            return self._prepare_waveforms(X, y)
        self._check_no_waveform_augmentation()
        if self._time_scale.frame_targets:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is "
                    "None: frame targets (n_clips, n_frames) aligned to X's frames."
                )
            X4 = self._check_X(X, reset=True)
            y = self._check_frame_y(X, y, X4)
            frames = not self.single_frame_
        else:
            X4, y = self._check_X(X, y, reset=True)
            y = self._codec.as_labels(np.asarray(y))
            frames = False
        self.input_shape_ = tuple(int(s) for s in X4.shape[1:3])
        if self._pretrained() is not None:
            from skmir.pretrained import load_pretrained

            shipped = load_pretrained(self._pretrained())
            frontend = type(shipped.frontend)
            if self.input_shape_ != shipped.input_shape:
                raise ValueError(
                    f"{type(self).__name__}: architecture={self.architecture!r} takes "
                    f"(channels, bins) = {shipped.input_shape} per clip, the spectrograms "
                    f"of {frontend.__module__}.{frontend.__qualname__}; got "
                    f"{self.input_shape_}."
                )
        self.architecture_ = self._resolved("architecture")
        y_enc, self.n_outputs_ = self._codec.encode(self, y, frames)
        if self._time_scale.frame_targets and self.single_frame_:
            y_enc = y_enc[:, None]  # the one frame of each clip
        return X4, y_enc, self._seed()

    # ------------------------------------------------------- waveforms, frontend
    _WAVEFORM_AUGMENTATION = ("wave_gain", "noise_snr", "pitch_shift", "time_stretch")

    def _check_no_waveform_augmentation(self):
        for name in self._WAVEFORM_AUGMENTATION:
            value = getattr(self, name)
            if value is not None and value != 0:
                raise ValueError(
                    f"{type(self).__name__}: {name}={value!r} augments waveforms, which "
                    "needs a frontend (then X is waveforms); with frontend=None X is "
                    "spectrograms. Set frontend (e.g. frontend='logmel'), or augment the "
                    "waveforms offline with skmir.augment before computing spectrograms."
                )

    def _check_noise_snr(self):
        snr = self.noise_snr
        pair = [snr, snr] if isinstance(snr, Real) else list(snr) if snr is not None else []
        ok = len(pair) == 2 and all(isinstance(v, Real) and np.isfinite(v) for v in pair)
        if snr is not None and not (ok and pair[0] <= pair[1]):
            raise ValueError(
                f"{type(self).__name__}: noise_snr={snr!r}; allowed: None (no noise), a "
                "signal-to-noise ratio in dB, or a (low, high) range of them, e.g. (10, 30)."
            )

    def _frontend_spec(self):
        """The front end of ``frontend``, with the sample rate it was fitted at."""
        from skmir.nn.frontends import resolve_frontend

        return resolve_frontend(self.frontend, sr=getattr(self, "sr_", None),
                                owner=type(self).__name__)

    def _prepare_waveforms(self, X, y):
        """:meth:`_prepare` with a frontend: X is waveforms; the front end's output
        shape and standardisation are measured on them (one pass, no gradients)."""
        from skmir.nn.frontends import resolve_frontend, standardisation_statistics
        from skmir.nn.training import resolve_device

        owner = type(self).__name__
        if self._pretrained() is not None:
            raise ValueError(
                f"{owner}: architecture={self.architecture!r} brings its own input (the "
                "spectrograms of skmir.pretrained.load_pretrained(architecture).frontend) "
                f"and cannot follow frontend={self.frontend!r}; use frontend=None with "
                "those spectrograms, or an architecture string."
            )
        self._check_noise_snr()
        frame = self._time_scale.frame_targets
        if frame and y is None:
            raise ValueError(
                f"{owner} requires y to be passed, but the target y is None: frame "
                "targets (n_clips, n_frames) aligned to the front end's frames."
            )
        spec = resolve_frontend(self.frontend, sr=getattr(X, "sr", None), owner=owner)
        sr = getattr(spec, "sr", None)
        if frame:
            X3 = self._check_waveforms(X, reset=True, sr=sr)
        else:
            X3, y = self._check_waveforms(X, y, reset=True, sr=sr)
            y = self._codec.as_labels(np.asarray(y))
        module = spec.build(X3.shape[1])
        device = resolve_device(self.device)
        # The raw-waveform front ends end in batch norm: one clip gives their shape.
        sample = X3 if spec.standardize else X3[:1]
        try:
            mean, scale, n_frames = standardisation_statistics(
                module, sample, batch_size=self.batch_size, device=device)
        except RuntimeError as exc:  # e.g. a convolution longer than the clips
            raise ValueError(
                f"{owner}: frontend={self.frontend!r} cannot run on clips of "
                f"{X3.shape[-1]} samples ({exc})."
            ) from exc
        if not spec.standardize:
            mean, scale = np.zeros_like(mean), np.ones_like(scale)
        n_samples = X3.shape[-1]
        if n_frames < 1:
            raise ValueError(
                f"{owner}: frontend={self.frontend!r} gives no frame for clips of "
                f"{n_samples} samples; use longer clips."
            )
        if spec.grid().n_frames(n_samples) != n_frames and (
                self._resolved("crop_frames") is not None or self.time_stretch
                or self.pitch_shift):
            raise ValueError(
                f"{owner}: crop_frames, time_stretch and pitch_shift cut waveforms on the "
                f"front end's frames, but frontend={self.frontend!r} gives {n_frames} "
                f"frames for {n_samples} samples, not the {spec.grid().n_frames(n_samples)} "
                "of its hop; set crop_frames=None, time_stretch=0 and pitch_shift=0."
            )
        self.sr_ = None if sr is None else int(sr)
        self.n_audio_channels_ = int(X3.shape[1])
        self.frontend_mean_, self.frontend_scale_ = mean, scale
        self.input_shape_ = tuple(int(v) for v in mean.shape)
        self.architecture_ = self._resolved("architecture")
        if frame:
            self.single_frame_ = False
            shape = np.shape(y)
            if len(shape) >= 2 and shape[1] != n_frames:
                raise ValueError(
                    f"{owner}: y has {shape[1]} frames but frontend={self.frontend!r} gives "
                    f"{n_frames} frames for clips of {n_samples} samples (hop "
                    f"{spec.grid().hop_length}); frame targets must be aligned to them."
                )
            frames_like = np.empty((len(X3), 1, 1, n_frames), np.float32)
            y = self._check_frame_y(frames_like, y, frames_like)
        y_enc, self.n_outputs_ = self._codec.encode(self, y, frame)
        seed = self._seed()
        self._waveform_augmentation(seed).check_room(n_samples, owner)
        return X3, y_enc, seed

    def _waveform_augmentation(self, seed):
        from skmir.nn.waveform_augmentation import WaveformAugmentation

        return WaveformAugmentation(
            self._frontend_spec().grid(), crop_frames=self._resolved("crop_frames"),
            gain_db=self.wave_gain, noise_snr=self.noise_snr, pitch_shift=self.pitch_shift,
            time_stretch=self.time_stretch, mixup=self._resolved("mixup"),
            n_classes=self._codec.mixup_classes(self),
            frame_targets=self._time_scale.frame_targets, random_state=seed + 1)

    def _feature_augmentation(self, seed):
        """With a frontend: gain and masks on its output, inside the network."""
        augmentation = BatchAugmentation(gain=self.gain, freq_mask=self.freq_mask,
                                         time_mask=self._resolved("time_mask"),
                                         random_state=seed + 3)
        return augmentation if augmentation.active else None

    def _encode_y(self, y):
        """``y`` encoded for the network, as at fit (for ``net_.partial_fit``)."""
        frames = self._time_scale.frame_targets and not self.single_frame_
        y_enc, _ = self._codec.encode(self, self._codec.as_labels(np.asarray(y)), frames)
        return y_enc[:, None] if self._time_scale.frame_targets and not frames else y_enc

    def _check_split(self, n):
        if not self.early_stopping:
            return
        n_valid = int(np.ceil(self.validation_fraction * n))
        if n - n_valid < 1:
            raise ValueError(
                f"{type(self).__name__}: early_stopping=True holds out "
                f"validation_fraction={self.validation_fraction} of the {n} sample(s) "
                f"for validation ({n_valid}), leaving none to train on; pass more clips "
                "or early_stopping=False."
            )

    def _per_class_split(self):
        """Whether the validation split is stratified and scored by accuracy: for one
        class per clip (a clip of frames holds many classes)."""
        return self._codec.single_label and not self._time_scale.frame_targets

    def _stratify(self, y_enc):
        if not self._per_class_split():
            return False
        counts = np.bincount(y_enc)
        n = len(y_enc)
        n_valid = int(np.ceil(self.validation_fraction * n))
        k = len(counts)
        # StratifiedShuffleSplit needs two clips per class and room for every class
        # on both sides; with fewer, the split is a plain random one.
        return bool(counts.min() >= 2 and n_valid >= k and n - n_valid >= k)

    # ------------------------------------------------------------- the network
    def _net_kwargs(self, seed, stratify):
        """Callbacks and split: early stopping on a held-out part, or no split."""
        from skorch.callbacks import EarlyStopping, EpochScoring
        from skorch.dataset import ValidSplit

        callbacks = []
        train_split = None
        if self.early_stopping:
            train_split = ValidSplit(cv=self.validation_fraction, stratified=stratify,
                                     random_state=seed)
            if self._per_class_split():
                callbacks.append(("valid_acc", EpochScoring(
                    _accuracy, name="valid_acc", lower_is_better=False, use_caching=True)))
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="valid_loss", patience=self.n_iter_no_change, load_best=True)))
        # Copies: skorch initializes (mutates) the callbacks it is given, and fit must
        # leave the estimator's parameters as the user set them.
        callbacks += copy.deepcopy(list(self.callbacks or []))
        # Without early stopping there is no hidden split: plain skorch would hold out
        # 20% of every training set (and of every grid-search fold) by default.
        return dict(train_split=train_split, callbacks=callbacks)

    def _augmentation(self, seed):
        """The training-batch augmentation of the parameters (of the waveforms, with a
        frontend)."""
        if self.frontend is not None:
            return self._waveform_augmentation(seed)
        return BatchAugmentation(
            crop_frames=self._resolved("crop_frames"), gain=self.gain,
            freq_mask=self.freq_mask, time_mask=self._resolved("time_mask"),
            mixup=self._resolved("mixup"), random_state=seed + 1,
            n_classes=self._codec.mixup_classes(self),
            frame_targets=self._time_scale.frame_targets,
        )

    def _build_net(self, seed, stratify=False):
        from skmir.nn import losses
        from skmir.nn.training import ArrayDataset, SkmirNet, collate_batch, resolve_device

        device = resolve_device(self.device)
        cuda = torch.device(device).type == "cuda"
        mixed = cuda if self.mixed_precision == "auto" else self.mixed_precision
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer])
        augmentation = self._augmentation(seed)
        module, module_params = self._module(seed)
        return SkmirNet(
            module=module,
            **{f"module__{k}": v for k, v in module_params.items()},
            criterion=getattr(losses, self._codec.loss),
            optimizer=optimizer,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            dataset=ArrayDataset,
            iterator_train__shuffle=True,
            # The shuffling order comes from its own generator, so it is reproducible
            # and independent of anything else that draws from torch's global RNG.
            iterator_train__generator=torch.Generator().manual_seed(seed + 2),
            iterator_train__collate_fn=collate_batch,
            iterator_valid__collate_fn=collate_batch,
            iterator_train__pin_memory=cuda,
            iterator_valid__pin_memory=cuda,
            augmentation=augmentation if augmentation.active else None,
            mixed_precision=mixed,
            predict_nonlinearity=None,
            device=device,
            verbose=self.verbose,
            torch_load_kwargs={"weights_only": True},
            **self._net_kwargs(seed, stratify),
        )

    def _seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max - 3))

    def _fork_rng(self, device):
        cuda = torch.device(device).type == "cuda"
        # Seeding inside fork_rng makes the fit reproducible without touching the
        # caller's global torch RNG state.
        return torch.random.fork_rng(devices=[torch.device(device)] if cuda else [])

    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, [n_channels,] n_bins, n_frames) or (n_clips, n_features)
            Spectrogram-like clips (a 2-D X is one frame per clip); with a
            ``frontend``, waveforms (n_clips, [n_channels,] n_samples).
        y : array-like
            Targets, as the class's docstring describes.

        Returns
        -------
        self
        """
        X4, y_enc, seed = self._prepare(X, y)
        self._check_split(len(X4))
        net = self._build_net(seed, self._stratify(y_enc))
        with self._fork_rng(net.device):
            torch.manual_seed(seed)
            net.fit(X4, y_enc)
        self.net_ = net
        self.history_ = net.history
        return self

    def initialize(self, X, y):
        """Build the untrained network for data like ``X, y`` (no training).

        Sets every fitted attribute from ``X`` and ``y`` and ``net_`` with fresh
        weights, e.g. to load weights saved with ``net_.save_params``::

            est = NeuralClassifier(**params).initialize(X, y)
            est.net_.load_params(f_params="weights.pt")

        Parameters
        ----------
        X : array-like
            Clips shaped as for :meth:`fit` (only their shape is used).
        y : array-like
            Targets as for :meth:`fit` (the classes, tags or number of outputs).

        Returns
        -------
        self
        """
        _, _, seed = self._prepare(X, y)
        self._initialize_net(seed)
        return self

    def _initialize_net(self, seed, stratify=False):
        self.net_ = self._build_net(seed, stratify)
        with self._fork_rng(self.net_.device):
            torch.manual_seed(seed)
            self.net_.initialize()
        self.history_ = self.net_.history

    # -------------------------------------------------------------- prediction
    def _raw_predict(self, X):
        """The network's raw outputs (logits, or standardised targets) as float64."""
        check_is_fitted(self, "net_")
        if self.frontend is not None:
            X4 = self._check_waveforms(X, reset=False, sr=self.sr_)
        else:
            X4 = self._check_X(X, reset=False)
        return self.net_.predict_proba(X4).astype(np.float64)

    def _output(self, X):
        """The codec's output for X (probabilities or values).

        After a single-frame fit (2-D X, 1-D y), a 2-D X is predicted without the
        frame axis; spectrograms keep it: every frame gets its prediction.
        """
        out = self._codec.output(self, self._raw_predict(X))
        if self._time_scale.frame_targets and self.single_frame_ and ndim(X) == 2:
            return out[:, 0]
        return out

    def predict(self, X):
        """Predict the targets of X (classes, tags or values; per frame for frame
        estimators), in the form of the training ``y``.

        Parameters
        ----------
        X : array-like
            Clips shaped as for :meth:`fit`; any number of frames.

        Returns
        -------
        y_pred : ndarray
        """
        return self._codec.decide(self, self._output(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def set_params(self, **params):
        frontend = params.get("frontend", self.frontend)
        nested = sorted(k for k in params if k.startswith("frontend__"))
        if nested and (frontend is None or isinstance(frontend, str)):
            raise ValueError(
                f"{type(self).__name__}: {nested[0]} sets a parameter of the front end, "
                f"but frontend={frontend!r} is {'None' if frontend is None else 'a name'}; "
                "pass the front end as an instance to reach its parameters, e.g. "
                "frontend=skmir.nn.frontends.LogMel(n_mels=64)."
            )
        return super().set_params(**params)

    # ------------------------------------------------------------ persistence
    def save(self, path):
        if self.frontend is not None and not isinstance(self.frontend, str):
            raise ValueError(
                f"{type(self).__name__}.save: frontend={self.frontend!r} is an object, "
                "which the file (plain values only) cannot hold; save models whose "
                "frontend is a preset name (e.g. 'logmel'), or pickle this one."
            )
        return super().save(path)

    save.__doc__ = PersistenceMixin.save.__doc__

    def _fitted_names(self):
        arrays, values = super()._fitted_names()
        if self.frontend is not None:
            arrays = (*arrays, "frontend_mean_", "frontend_scale_")
            values = (*values, "sr_", "n_audio_channels_")
        return arrays, values


class ThresholdMixin:
    """The ``threshold`` parameter of the taggers, added to the shared ones."""

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, architecture="auto", *, threshold=0.5, **params):
        super().__init__(architecture, **params)
        self.threshold = threshold
