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
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import EarlyStopping, EpochScoring
from skorch.dataset import ValidSplit

from skmir._progress import resolve_verbose
from skmir.neural.inputs import input_mode
from skmir.neural.persistence import PersistenceMixin
from skmir.neural.validation import InputValidationMixin, ndim
from skmir.nn import losses
from skmir.nn.architecture import ACTIVATIONS, CELLS, layout
from skmir.nn.device import resolve_device
from skmir.nn.training import ArrayDataset, SkmirNet, collate_batch
from skmir.pretrained import is_shipped

_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}
# Fewest validation clips of each class that early stopping decides from (see the
# early_stopping entry of skmir.neural.docstrings).
MIN_VALID_PER_CLASS = 3


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

    A public estimator writes its whole signature, with the defaults, and passes
    every parameter to this ``__init__`` (as sklearn's ``MLPClassifier`` does over
    ``BaseMultilayerPerceptron``); its docstring's Parameters are filled in from
    :mod:`skmir.neural.docstrings`.
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
        # The augmentation strengths' bounds (why: the Parameters text,
        # skmir.neural.docstrings) keep a training finite and its memory near the
        # batch's; noise_snr's range is checked by the waveform input mode.
        "gain": [Interval(Real, 0, 100, closed="both")],
        "freq_mask": [Interval(Integral, 0, None, closed="left"),
                      Interval(Real, 0, 1, closed="left")],
        "time_mask": [_auto, Interval(Integral, 0, None, closed="left"),
                      Interval(Real, 0, 1, closed="left")],
        "mixup": [_auto, Interval(Real, 0, None, closed="left")],
        "wave_gain": [Interval(Real, 0, 60, closed="both")],
        "noise_snr": [None, Real, tuple, list],
        "pitch_shift": [Interval(Real, 0, 12, closed="both")],
        "time_stretch": [Interval(Real, 0, 1, closed="both")],
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
        "verbose": ["verbose", StrOptions({"auto"})],
    }

    def __init__(
        self,
        architecture,
        *,
        frontend,
        channels,
        kernel_size,
        pool,
        hidden,
        context,
        activation,
        batch_norm,
        dropout,
        cell,
        bidirectional,
        global_pool,
        freeze,
        crop_frames,
        gain,
        freq_mask,
        time_mask,
        mixup,
        wave_gain,
        noise_snr,
        pitch_shift,
        time_stretch,
        optimizer,
        lr,
        weight_decay,
        batch_size,
        max_epochs,
        early_stopping,
        validation_fraction,
        n_iter_no_change,
        callbacks,
        device,
        mixed_precision,
        random_state,
        verbose,
    ):
        # No defaults here: each public estimator's signature gives them (sklearn's
        # get_params and clone read that signature), checked against the one
        # Parameters text (skmir.neural.docstrings) by the tests.
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

    def _layout(self):
        """Parse the architecture and lay out per-layer parameters (pure Python); None
        for a shipped network, which brings its own layers."""
        owner = type(self).__name__
        if is_shipped(self._resolved("architecture")):
            return None
        if self.freeze:
            raise ValueError(
                f"{owner}: freeze = {self.freeze}: keeps the first layers' weights, which only "
                "means something for a pretrained architecture (e.g. 'musicnn-msd'); "
                f"architecture={self.architecture!r} starts from random weights."
            )
        params = ("channels", "kernel_size", "pool", "hidden", "context", "activation",
                  "batch_norm", "dropout", "cell", "bidirectional")
        return layout(self._resolved("architecture"), output=self._time_scale.name,
                      **{name: self._resolved(name) for name in params})

    # -------------------------------------------------------------------- data
    def _prepare(self, X, y):
        """Validate everything and set the fitted attributes (inside the fit's seeded
        RNG: a front end is built here); return the input mode, X and encoded y."""
        self._layout()  # an invalid architecture fails here, before any torch work
        mode = input_mode(self)
        X, y, frames = mode.prepare(X, y)
        X, y = mode.build(X, y)
        self.architecture_ = self._resolved("architecture")
        y_enc, self.n_outputs_ = self._codec.encode(self, y, frames)
        if self._time_scale.frame_targets and self.single_frame_:
            y_enc = y_enc[:, None]  # the one frame of each clip
        return mode, X, y_enc

    def _require_y(self, y, aligned_to):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is "
                f"None: frame targets (n_clips, n_frames) aligned to {aligned_to}."
            )

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
        """The validation split of a fit: False (plain random split of
        ``validation_fraction``), or for one class per clip ``(stratified, cv)`` where
        ``cv`` is the held-out fraction, None when the data are too few to hold out
        :data:`MIN_VALID_PER_CLASS` clips of every class."""
        if not self._per_class_split():
            return False
        counts = np.bincount(y_enc)
        n, k = len(y_enc), len(counts)
        n_valid = int(np.ceil(self.validation_fraction * n))
        # A few validation clips make the stopping epoch a coin toss (4 clips of 4
        # classes once kept epoch 1 of 11): hold out MIN_VALID_PER_CLASS of each class,
        # up to a third of the data, whatever validation_fraction says.
        wanted = max(n_valid, min(MIN_VALID_PER_CLASS * k, n // 3))
        if wanted < 2 * k or counts.min() < 3:
            return (False, None)
        cv = self.validation_fraction if wanted == n_valid else (wanted - 0.5) / n
        return (True, cv)

    # ------------------------------------------------------------- the network
    def _callbacks(self, mode, seed, stratify):
        """Callbacks and split: early stopping on a held-out part; on data too small
        for one, on the training loss (as sklearn's MLP without early_stopping);
        without early stopping, no split."""
        callbacks = list(mode.callbacks())
        train_split = None
        stratified, cv = stratify if stratify else (False, self.validation_fraction)
        if self.early_stopping and cv is None:
            warnings.warn(
                f"{type(self).__name__}(early_stopping=True): too few clips of each class "
                "for a validation split that can choose the stopping epoch (2 held-out "
                "clips of every class at least); training on all of them until the "
                "training loss has not improved for "
                f"n_iter_no_change={self.n_iter_no_change} epochs. Pass "
                "early_stopping=False to train for max_epochs.", UserWarning, stacklevel=5)
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="train_loss", patience=self.n_iter_no_change, load_best=True)))
        elif self.early_stopping:
            train_split = ValidSplit(cv=cv, stratified=stratified, random_state=seed)
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

    def _build_net(self, mode, seed, device, stratify=False):
        cuda = torch.device(device).type == "cuda"
        mixed = cuda if self.mixed_precision == "auto" else self.mixed_precision
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer])
        augmentation = mode.augmentation(seed)
        module, module_params = mode.module(seed)
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
            verbose=resolve_verbose(self.verbose),
            torch_load_kwargs={"weights_only": True},
            callbacks__divergence__owner=type(self).__name__,
            **self._callbacks(mode, seed, stratify),
        )

    def _seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max - 3))

    def _net(self, X, y, *, train):
        """Validate, build the network and train it (``train``) or only initialize it,
        all under one seeded RNG that leaves the caller's global torch RNG as it was."""
        self._validate_params()
        seed = self._seed()
        device = resolve_device(self.device, owner=type(self).__name__)
        cuda = torch.device(device).type == "cuda"
        # The fitted attributes change from here: a fit that raises (a training that
        # diverges, skmir.nn.training.Divergence) leaves no network to predict with.
        self.__dict__.pop("net_", None)
        with torch.random.fork_rng(devices=[torch.device(device)] if cuda else []):
            torch.manual_seed(seed)
            mode, X, y_enc = self._prepare(X, y)
            if train:
                self._check_split(len(X))
            net = self._build_net(mode, seed, device, train and self._stratify(y_enc))
            threads = torch.get_num_threads()
            try:
                if train:
                    net.fit(X, y_enc)
                else:
                    net.initialize()
            finally:
                # An error during training skips skorch's on_train_end, where the
                # thread policy (TrainingThreads) gives torch its setting back.
                torch.set_num_threads(threads)
        mode.finish(net)
        self.net_ = net
        self.history_ = net.history
        return self

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
        return self._net(X, y, train=True)

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
        return self._net(X, y, train=False)

    def _initialize_net(self, seed):
        """The network of the fitted attributes, untrained (to load weights into)."""
        device = resolve_device(self.device, owner=type(self).__name__)
        cuda = torch.device(device).type == "cuda"
        mode = input_mode(self)
        with torch.random.fork_rng(devices=[torch.device(device)] if cuda else []):
            torch.manual_seed(seed)
            self.net_ = self._build_net(mode, seed, device)
            self.net_.initialize()
        self.history_ = self.net_.history
        return mode

    # -------------------------------------------------------------- prediction
    def _raw_predict(self, X):
        """The network's raw outputs (logits, or standardised targets) as float64."""
        check_is_fitted(self, "net_")
        X = input_mode(self).check(X)
        out = self.net_.predict_proba(X).astype(np.float64)
        finite = np.isfinite(out.reshape(len(out), -1)).all(axis=1)
        if not finite.all():  # finite X and weights can still overflow float32
            first = int(np.argmin(finite))
            raise ValueError(
                f"{type(self).__name__}: the network's output is not finite (NaN or inf) for "
                f"{int((~finite).sum())} clip(s) of X, first at index {first}, whose "
                f"largest magnitude is {float(np.abs(np.asarray(X[first])).max()):.3g}: "
                "scale X as the training data was, or check the weights (loaded from a "
                "training that diverged?)."
            )
        return out

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
        extra_arrays, extra_values = input_mode(self).fitted_names
        return (*arrays, *extra_arrays), (*values, *extra_values)


class ThresholdMixin:
    """The constraint of the taggers' ``threshold`` parameter, added to the shared ones
    (the taggers' ``__init__`` stores it)."""

    _parameter_constraints = {
        **BaseNeuralEstimator._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }
