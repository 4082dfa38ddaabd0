"""Clip-level neural estimators: classifier, regressor and tagger.

A network is written in the paper's notation (``architecture="c2-p2-c2-p2-r1-r2-d1"``
or a preset such as ``"crnn"``), sized from the data at ``fit``, trained by skorch and
used as a plain scikit-learn estimator: it drops into ``Pipeline``, ``GridSearchCV``
and ``cross_validate``, and every hyper-parameter (the architecture string included)
is grid-searchable.

Input: spectrogram-like float32 arrays ``(n_clips, n_bins, n_frames)``, with channels
``(n_clips, n_channels, n_bins, n_frames)``, or 2-D ``(n_clips, n_features)`` read as
one frame per clip (so tabular data and sklearn's checks work too). The networks end
in global pooling over time, so clips of any length are predicted, including clips
longer than the random crops used in training.

Defaults are chosen for small datasets on a CPU (the paper's sec. 2.3): the paper's
time-invariant 2D CNN (``"conv2d"``, c2-p2-c2-p2-c2-p2-d2) of modest width
(``channels=32``, ``hidden=64``), augmentation on (random crops of half the clip,
gain, SpecAugment masks, mixup for classes and tags), Adam at 1e-3, early stopping
on a held-out tenth (patience 10) with the best weights restored. Measured on 320
generated clips of 10 s, 8 genres, 5-fold CV (``examples/compare_architectures.py``):
conv2d 0.63, crnn 0.59, conv1d 0.53, MFCC + SVC 0.53; without augmentation conv2d
lost about 4 points, lr=3e-3 and max global pooling did worse, and a longer patience
on a larger validation part cost twice the time for the same accuracy.
"""

import copy
import json
import os
import tempfile
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer, LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from skmir._validation import check_finite
from skmir.augmentation import BatchAugmentation
from skmir.nn.architecture import ACTIVATIONS, CELLS, PRESETS, layout

_FORMAT = "skmir-neural-estimator/1"
_per_layer_int = [Interval(Integral, 1, None, closed="left"), list, tuple]
_OPTIMIZERS = {"adam": "Adam", "adamw": "AdamW", "sgd": "SGD"}


def _accuracy(net, X, y):
    """Validation accuracy for the epoch table (a module-level function: picklable)."""
    return float(np.mean(net.predict_proba(X).argmax(axis=1) == np.asarray(y)))


def _resolve_device(device):
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


def _plain(value):
    """Whether a parameter value survives ``torch.load(weights_only=True)``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return False


class _NeuralEstimator(BaseEstimator):
    """Shared machinery of the neural estimators (parameters, fit, persistence)."""

    # The skorch net is built in fit and kept as net_ (composition rather than
    # subclassing skorch): __init__ only stores the parameters, as sklearn requires,
    # every parameter (the architecture string included) is a plain value that
    # GridSearchCV can set, and the layer sizes, which depend on the data, are only
    # known in fit.

    _parameter_constraints = {
        "architecture": [str],
        "channels": _per_layer_int,
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
        "crop_frames": [Interval(Integral, 1, None, closed="left"),
                        Interval(Real, 0, 1, closed="right"), None],
        "gain": [Interval(Real, 0, None, closed="left")],
        "freq_mask": [Interval(Integral, 0, None, closed="left"),
                      Interval(Real, 0, 1, closed="left")],
        "time_mask": [Interval(Integral, 0, None, closed="left"),
                      Interval(Real, 0, 1, closed="left")],
        "mixup": [Interval(Real, 0, None, closed="left")],
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
        architecture="conv2d",
        *,
        channels=32,
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
        crop_frames=0.5,
        gain=0.5,
        freq_mask=0.1,
        time_mask=0.1,
        mixup=0.2,
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
        self.crop_frames = crop_frames
        self.gain = gain
        self.freq_mask = freq_mask
        self.time_mask = time_mask
        self.mixup = mixup
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

    # ------------------------------------------------------------------ layers
    def _layout(self):
        """Parse the architecture and lay out per-layer parameters (pure Python)."""
        bidirectional = self.bidirectional
        if isinstance(bidirectional, str):  # "auto": the birnn preset is bidirectional
            bidirectional = self.architecture.strip().lower() == "birnn"
        return layout(
            self.architecture, output="clip", channels=self.channels,
            kernel_size=self.kernel_size, pool=self.pool, hidden=self.hidden,
            context=self.context, activation=self.activation, batch_norm=self.batch_norm,
            dropout=self.dropout, cell=self.cell, bidirectional=bidirectional,
        )

    # -------------------------------------------------------------------- data
    def _check_X(self, X, y="no_validation", *, reset):
        """Validate X (and y at fit); return X as float32 (n, channels, bins, frames)."""
        owner = type(self).__name__
        kwargs = dict(dtype=np.float32, allow_nd=True, ensure_all_finite=False)
        fit = not (isinstance(y, str) and y == "no_validation")
        if not fit:
            shape = getattr(X, "shape", ())
            if len(shape) in (3, 4) and hasattr(self, "input_shape_"):
                # Say it in spectrogram terms: sklearn's "X has 2 features" would
                # count channels as features when a 4-D X meets a 3-D fit.
                per_clip = (1, shape[1]) if len(shape) == 3 else tuple(shape[1:3])
                self._check_shape(per_clip)
            X = validate_data(self, X, reset=reset, **kwargs)
        else:
            X, y = validate_data(self, X, y, multi_output=self._multi_output_y,
                                 y_numeric=self._numeric_y, **kwargs)
        if X.ndim not in (2, 3, 4):
            raise ValueError(
                f"{owner}: X must be (n_clips, n_bins, n_frames), (n_clips, n_channels, "
                f"n_bins, n_frames), or 2-D (n_clips, n_features) read as one frame per "
                f"clip; got an array of shape {X.shape}."
            )
        check_finite(X, owner)
        X4 = X[:, None, :, None] if X.ndim == 2 else X[:, None] if X.ndim == 3 else X
        if not reset:
            self._check_shape(X4.shape[1:3])
        X4 = np.ascontiguousarray(X4, dtype=np.float32)
        return (X4, y) if fit else X4

    def _check_shape(self, per_clip):
        if tuple(per_clip) != tuple(self.input_shape_):
            raise ValueError(
                f"{type(self).__name__}: X has (channels, bins) = {tuple(per_clip)} per "
                f"clip, but the network was fitted on {tuple(self.input_shape_)}; only "
                "the number of frames may differ."
            )

    _multi_output_y = False
    _numeric_y = False

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
            if self._task == "classifier":
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

    def _augmentation(self, seed, **kwargs):
        """The training-batch augmentation of the parameters (mixup one-hot encodes
        class indices to ``n_outputs_`` classes)."""
        kwargs.setdefault("n_classes", self.n_outputs_ if self._task == "classifier" else None)
        return BatchAugmentation(
            crop_frames=self.crop_frames, gain=self.gain, freq_mask=self.freq_mask,
            time_mask=self.time_mask, mixup=self.mixup, random_state=seed + 1, **kwargs,
        )

    def _build_net(self, seed, stratify=False):
        from skmir.nn.builder import ArchitectureNet
        from skmir.nn.training import ArrayDataset, SkmirNet, collate_batch

        device = _resolve_device(self.device)
        mixed = self.mixed_precision
        if mixed == "auto":
            mixed = torch.device(device).type == "cuda"
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer])
        cuda = torch.device(device).type == "cuda"
        augmentation = self._augmentation(seed)
        return SkmirNet(
            module=ArchitectureNet,
            module__layers=self._layout(),
            module__input_shape=tuple(self.input_shape_),
            module__n_outputs=self.n_outputs_,
            module__global_pool=self.global_pool,
            criterion=self._criterion(),
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

    def _prepare(self, X, y):
        """Validate everything, set the fitted attributes; return X4, encoded y, seed."""
        self._validate_params()
        self._layout()  # an invalid architecture fails here, before any torch work
        X4, y = self._check_X(X, y, reset=True)
        self.input_shape_ = tuple(int(s) for s in X4.shape[1:3])
        y_enc = self._encode_y(y)
        self.n_outputs_ = int(y_enc.shape[1]) if y_enc.ndim == 2 else len(self.classes_)
        return X4, y_enc, self._seed()

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

    def _stratify(self, y_enc):
        return False

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
        X4, y_enc, seed = self._prepare(X, y)
        self._initialize_net(seed)
        return self

    def _initialize_net(self, seed, stratify=False):
        self.net_ = self._build_net(seed, stratify)
        with self._fork_rng(self.net_.device):
            torch.manual_seed(seed)
            self.net_.initialize()
        self.history_ = self.net_.history

    def _fit(self, X, y):
        X4, y_enc, seed = self._prepare(X, y)
        self._check_split(len(X4))
        net = self._build_net(seed, self._stratify(y_enc))
        with self._fork_rng(net.device):
            torch.manual_seed(seed)
            net.fit(X4, y_enc)
        self.net_ = net
        self.history_ = net.history
        return self

    def _raw_predict(self, X):
        """The network's raw outputs (logits, or standardised targets) as float64."""
        check_is_fitted(self, "net_")
        X4 = self._check_X(X, reset=False)
        out = self.net_.predict_proba(X4)
        return out.astype(np.float64)

    # ------------------------------------------------------------- persistence
    def save(self, path):
        """Save the fitted estimator to one file, atomically.

        The file holds the parameters, the fitted attributes and the network's
        weights as plain Python values and tensors, so :meth:`load` reads it with
        ``torch.load(..., weights_only=True)`` (no arbitrary code runs on loading).
        ``callbacks`` and an ``optimizer`` given as a class are not saved (they
        are not plain values); the loaded estimator uses the defaults instead.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        self
        """
        check_is_fitted(self, "net_")
        params = {k: v for k, v in self.get_params(deep=False).items() if _plain(v)}
        fitted = dict(self._fitted_state())
        fitted["history"] = json.dumps(list(self.history_), default=float)
        state = {
            "format": _FORMAT,
            "estimator": type(self).__name__,
            "params": params,
            "fitted": fitted,
            "weights": {k: v.detach().cpu() for k, v in self.net_.module_.state_dict().items()},
        }
        path = os.fspath(path)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".skmir-",
                                   suffix=".tmp")
        os.close(fd)
        try:
            torch.save(state, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return self

    @classmethod
    def load(cls, path, device=None):
        """Load an estimator written by :meth:`save`.

        Parameters
        ----------
        path : str or os.PathLike
        device : str or None, default=None
            Override the saved ``device`` (e.g. ``"cpu"`` for a model trained on GPU).

        Returns
        -------
        estimator
            Fitted, predicting exactly as the saved one.
        """
        from skorch.history import History

        state = torch.load(os.fspath(path), map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"{os.fspath(path)!r} is not a file written by {cls.__name__}.save.")
        if state["estimator"] != cls.__name__:
            raise ValueError(
                f"{os.fspath(path)!r} holds a {state['estimator']}, not a {cls.__name__}; "
                f"load it with {state['estimator']}.load."
            )
        params = dict(state["params"])
        if device is not None:
            params["device"] = device
        est = cls(**params)
        fitted = dict(state["fitted"])
        history = History(json.loads(fitted.pop("history")))
        est._restore_state(fitted)
        est._initialize_net(seed=0)
        est.net_.module_.load_state_dict(state["weights"])
        est.net_.history = history
        est.history_ = history
        return est

    def _fitted_state(self):
        state = {"n_features_in_": int(self.n_features_in_),
                 "input_shape_": list(self.input_shape_), "n_outputs_": int(self.n_outputs_)}
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(f) for f in self.feature_names_in_]
        return state

    def _restore_state(self, state):
        self.n_features_in_ = state["n_features_in_"]
        self.input_shape_ = tuple(state["input_shape_"])
        self.n_outputs_ = state["n_outputs_"]
        if "feature_names_in_" in state:
            self.feature_names_in_ = np.asarray(state["feature_names_in_"], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags


def _binarize_labels(y, owner, hint):
    """One-vs-rest encoding of 1-D class labels for sigmoid outputs (taggers)."""
    check_classification_targets(y)
    binarizer = LabelBinarizer().fit(y)
    if len(binarizer.classes_) < 2:
        raise ValueError(f"{owner}: y has 1 class ({binarizer.classes_[0]!r}); {hint}")
    return binarizer


def _label_proba(p, y_type):
    """Sigmoid outputs of one-vs-rest labels as class probabilities (last axis): both
    columns for binary labels, rows that sum to 1 for multiclass ones."""
    if y_type == "binary":
        return np.concatenate([1 - p, p], axis=-1)
    if y_type == "multiclass":
        return p / p.sum(axis=-1, keepdims=True)
    return p


def _label_predict(p, y_type, classes, threshold):
    """The labels of :func:`_label_proba`'s probabilities."""
    if y_type == "binary":
        return classes[(p[..., 1] >= threshold).astype(int)]
    return classes[p.argmax(axis=-1)]


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _classes_state(classes):
    return {"classes_": classes.tolist(), "classes_dtype": classes.dtype.str
            if classes.dtype.kind != "O" else "O"}


def _classes_restore(state):
    return np.asarray(state["classes_"], dtype=state["classes_dtype"])


_DOC_PARAMS = """
    Parameters
    ----------
    architecture : str, default="conv2d"
        The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
        p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
        fig. 13:
        {presets}.
        The last token, when dense, is the output layer; otherwise one is
        appended. Checked before any training; see :mod:`skmir.nn.architecture`.
    channels : int or sequence of int, default=32
        Filters of each convolution (c1, c2): one value, or one per conv layer.
    kernel_size : int, (int, int) or sequence, default=3
        Kernel of each convolution: frames for c1 (which spans all bins); an int or
        a (bins, frames) pair for c2. A tuple or list is always one value per conv
        layer, e.g. ``[(3, 7), 3]``.
    pool : int, (int, int) or sequence, default=2
        Max-pooling size of each p1 (frames) and p2 (an int or a (bins, frames)
        pair). Sizes are clamped to the input: a short clip is never pooled away.
    hidden : int or sequence of int, default=64
        Units of each hidden dense (d1, d2) and recurrent (r1, r2) layer.
    context : int or sequence of int, default=3
        Frames each d2 layer sees.
    activation : {{"relu", "leaky_relu", "tanh", "sigmoid"}} or sequence, default="relu"
        Of each convolution and hidden dense layer.
    batch_norm : bool or sequence of bool, default=True
        Batch normalisation after each convolution.
    dropout : float or sequence of float, default=0.1
        After each convolution and hidden dense or recurrent layer.
    cell : {{"gru", "lstm"}} or sequence, default="gru"
        Of each recurrent layer.
    bidirectional : bool, "auto" or sequence of bool, default="auto"
        Of each recurrent layer; "auto" is True for the ``"birnn"`` preset only.
    global_pool : {{"mean", "max"}}, default="mean"
        How the frames left before the dense head are pooled into one vector per
        clip (frequency is kept as features).
    crop_frames : int, float or None, default=0.5
        Train on random crops of this many frames (int) or this fraction of each clip
        (float); None trains on whole clips. Prediction uses whole clips.
    gain : float, default=0.5
        Random gain: an offset in ``[-gain, gain]`` added to each training clip,
        which on log-compressed input is a loudness change (0.5 on a natural-log
        spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
        deviation). Set 0 for input that is not log-compressed.
    freq_mask, time_mask : int or float, default=0.1
        SpecAugment: mask one band of up to this many bins / frames (int) or this
        fraction (float) of each training clip.
    mixup : float, default={mixup}
        Mixup's alpha (0 is off){mixup_note}.
    optimizer : {{"adam", "adamw", "sgd"}} or torch optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
    batch_size : int, default=32
    max_epochs : int, default=100
        Upper bound; early stopping usually ends training well before.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training data{stratified}, stop when
        its loss has not improved for ``n_iter_no_change`` epochs and restore the
        best weights (also when training is interrupted with Ctrl-C). With False,
        all the data is trained on for ``max_epochs`` (no hidden split).
    validation_fraction : float, default=0.1
    n_iter_no_change : int, default=10
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (or ``(name, callback)`` pairs), e.g.
        ``skorch.callbacks.LRScheduler``; copied at each fit.
    device : str, default="auto"
        "auto" uses CUDA when available, else the CPU; or any torch device string.
    mixed_precision : bool or "auto", default="auto"
        Train under ``torch.autocast`` (float16 with loss scaling on CUDA, bfloat16
        on the CPU); "auto" is on for CUDA only.
    random_state : int, RandomState instance or None, default=None
        Seeds the weights, the split, the shuffling and the augmentation: the same
        value gives the same model and predictions on the CPU, bit for bit.
    verbose : int, default=0
        > 0 prints skorch's epoch table.
"""


def _doc(mixup, mixup_note, stratified):
    return _DOC_PARAMS.format(presets=", ".join(f'``"{p}"``' for p in PRESETS),
                              mixup=mixup, mixup_note=mixup_note, stratified=stratified)


class NeuralClassifier(ClassifierMixin, _NeuralEstimator):
    __doc__ = (
        """Single-label clip classifier: a network in the paper's notation with a softmax.

    Trained with cross-entropy (soft targets under mixup); labels of any type are
    encoded with a LabelEncoder.
    """
        + _doc(0.2, "; classes become soft targets", ", stratified by class")
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    net_ : skmir.nn.training.SkmirNet
        The trained skorch net (its ``module_`` is the torch network).
    history_ : skorch.history.History
        Per-epoch losses (and validation accuracy with early stopping).
    input_shape_ : tuple
        ``(n_channels, n_bins)`` of the training clips.
    n_outputs_ : int
    n_features_in_ : int
        ``X.shape[1]`` at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import NeuralClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 20)
    >>> X = rng.normal(size=(40, 16, 20)).astype("float32")
    >>> X[y == 1, :8] += 1.0  # class 1 is louder in the low bins
    >>> clf = NeuralClassifier("c1-p1-d1", channels=8, max_epochs=20, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    """
    )

    _task = "classifier"

    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, [n_channels,] n_bins, n_frames) or (n_clips, n_features)
        y : array-like of shape (n_clips,)

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def _encode_y(self, y):
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__}: y has 1 class ({encoder.classes_[0]!r}); a "
                "classifier needs at least 2 classes."
            )
        self.classes_ = encoder.classes_
        return encoder.transform(y).astype(np.int64)

    def _stratify(self, y_enc):
        counts = np.bincount(y_enc)
        n = len(y_enc)
        n_valid = int(np.ceil(self.validation_fraction * n))
        k = len(counts)
        # StratifiedShuffleSplit needs two clips per class and room for every class
        # on both sides; with fewer, the split is a plain random one.
        return bool(counts.min() >= 2 and n_valid >= k and n - n_valid >= k)

    def _criterion(self):
        return torch.nn.CrossEntropyLoss

    def predict_proba(self, X):
        """Class probabilities, ``(n_clips, n_classes)`` in the order of ``classes_``."""
        return _softmax(self._raw_predict(X))

    def predict(self, X):
        """The most probable class of each clip."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def _fitted_state(self):
        return {**super()._fitted_state(), **_classes_state(self.classes_)}

    def _restore_state(self, state):
        super()._restore_state(state)
        self.classes_ = _classes_restore(state)


class NeuralTagger(ClassifierMixin, _NeuralEstimator):
    __doc__ = (
        """Multi-label clip tagger: a network in the paper's notation with one sigmoid per tag.

    Trained with binary cross-entropy on a multi-label indicator ``y`` of shape
    ``(n_clips, n_tags)``. Like :class:`sklearn.multiclass.OneVsRestClassifier`, it
    also accepts 1-D labels: binary ``y`` gets one tag, multiclass ``y`` one tag per
    class (predicting the most probable class, with probabilities normalised to sum
    to 1).
    """
        + _doc(0.2, "; tags become soft targets", "")
        + """    threshold : float, default=0.5
        A tag is predicted when its probability is at least this (a decision
        parameter: change it after fitting without refitting).

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_tags)`` for an indicator ``y``, else the labels.
    net_, history_, input_shape_, n_outputs_, n_features_in_
        As :class:`NeuralClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import NeuralTagger
    >>> rng = np.random.default_rng(0)
    >>> Y = rng.integers(0, 2, size=(60, 2))
    >>> X = rng.normal(size=(60, 8, 10)).astype("float32")
    >>> X[:, :4] += 2 * Y[:, :1, None]  # tag 0 lives in the low bins,
    >>> X[:, 4:] += 2 * Y[:, 1:, None]  # tag 1 in the high ones
    >>> tagger = NeuralTagger("c1-d1", channels=8, max_epochs=30, random_state=0).fit(X, Y)
    >>> tagger.predict_proba(X).shape, bool((tagger.predict(X) == Y).mean() > 0.9)
    ((60, 2), True)
    """
    )

    _task = "tagger"
    _multi_output_y = True

    def __init__(
        self,
        architecture="conv2d",
        *,
        channels=32,
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
        crop_frames=0.5,
        gain=0.5,
        freq_mask=0.1,
        time_mask=0.1,
        mixup=0.2,
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
        threshold=0.5,
    ):
        super().__init__(
            architecture, channels=channels, kernel_size=kernel_size, pool=pool,
            hidden=hidden, context=context, activation=activation, batch_norm=batch_norm,
            dropout=dropout, cell=cell, bidirectional=bidirectional,
            global_pool=global_pool, crop_frames=crop_frames, gain=gain,
            freq_mask=freq_mask, time_mask=time_mask, mixup=mixup, optimizer=optimizer,
            lr=lr, weight_decay=weight_decay, batch_size=batch_size,
            max_epochs=max_epochs, early_stopping=early_stopping,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            callbacks=callbacks, device=device, mixed_precision=mixed_precision,
            random_state=random_state, verbose=verbose,
        )
        self.threshold = threshold

    _parameter_constraints = {
        **_NeuralEstimator._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, [n_channels,] n_bins, n_frames) or (n_clips, n_features)
        y : array-like of shape (n_clips, n_tags)
            Binary indicator matrix (1-D labels are accepted, see above).

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def _encode_y(self, y):
        y = np.asarray(y)
        owner = type(self).__name__
        if y.ndim == 2 and y.shape[1] == 1 and not np.isin(y, (0, 1)).all():
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning, stacklevel=4,
            )
            y = y.ravel()
        if y.ndim == 2:
            if y.dtype.kind not in "biuf" or not np.isin(y, (0, 1)).all():
                raise ValueError(
                    f"{owner}: a 2-D y must be a binary indicator matrix (n_clips, "
                    f"n_tags) of 0 and 1 (type_of_target {type_of_target(y)!r} received); "
                    "for one label per clip pass a 1-D y or use NeuralClassifier."
                )
            self.y_type_ = "multilabel-indicator"
            self.classes_ = np.arange(y.shape[1])
            return y.astype(np.float32)
        if y.ndim != 1:
            raise ValueError(f"{owner}: y must be 1-D or 2-D, got shape {y.shape}.")
        binarizer = _binarize_labels(
            y, owner, "pass an indicator matrix (n_clips, n_tags) or labels of at least 2 "
            "classes.")
        self.y_type_ = binarizer.y_type_
        self.classes_ = binarizer.classes_
        return binarizer.transform(y).astype(np.float32)

    def _criterion(self):
        return torch.nn.BCEWithLogitsLoss

    def predict_proba(self, X):
        """Probability of each tag, ``(n_clips, n_tags)``.

        For 1-D binary training labels: ``(n_clips, 2)`` (negative, positive); for
        1-D multiclass labels: one column per class, normalised to sum to 1.
        """
        return _label_proba(_sigmoid(self._raw_predict(X)), self.y_type_)

    def predict(self, X):
        """Tags with probability >= ``threshold`` (indicator matrix), or labels for 1-D y."""
        p = self.predict_proba(X)
        if self.y_type_ == "multilabel-indicator":
            return (p >= self.threshold).astype(int)
        return _label_predict(p, self.y_type_, self.classes_, self.threshold)

    def _fitted_state(self):
        return {**super()._fitted_state(), **_classes_state(self.classes_),
                "y_type_": self.y_type_}

    def _restore_state(self, state):
        super()._restore_state(state)
        self.classes_ = _classes_restore(state)
        self.y_type_ = state["y_type_"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags


class NeuralRegressor(RegressorMixin, _NeuralEstimator):
    __doc__ = (
        """Clip regressor (e.g. tempo): a network in the paper's notation with a linear output.

    Trained with the mean squared error on targets standardised internally (each
    output to zero mean and unit variance), so the default learning rate suits
    targets of any scale; predictions are returned in the original units. Single
    (``y`` 1-D) or multiple outputs (``y`` 2-D).
    """
        + _doc(0.0, " (targets are mixed linearly)", "")
        + """
    Attributes
    ----------
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        The target standardisation.
    net_, history_, input_shape_, n_outputs_, n_features_in_
        As :class:`NeuralClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import NeuralRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(80, 8, 10)).astype("float32")
    >>> level = rng.normal(size=80)
    >>> X[:, :4] += level[:, None, None]  # louder low bins,
    >>> y = 100 + 20 * level  # faster tempo
    >>> reg = NeuralRegressor("c1-d1", channels=8, gain=0, lr=0.01, max_epochs=50,
    ...                       random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.8
    True
    """
    )

    _task = "regressor"
    _multi_output_y = True
    _numeric_y = True

    def __init__(
        self,
        architecture="conv2d",
        *,
        channels=32,
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
        crop_frames=0.5,
        gain=0.5,
        freq_mask=0.1,
        time_mask=0.1,
        mixup=0.0,
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
        super().__init__(
            architecture, channels=channels, kernel_size=kernel_size, pool=pool,
            hidden=hidden, context=context, activation=activation, batch_norm=batch_norm,
            dropout=dropout, cell=cell, bidirectional=bidirectional,
            global_pool=global_pool, crop_frames=crop_frames, gain=gain,
            freq_mask=freq_mask, time_mask=time_mask, mixup=mixup, optimizer=optimizer,
            lr=lr, weight_decay=weight_decay, batch_size=batch_size,
            max_epochs=max_epochs, early_stopping=early_stopping,
            validation_fraction=validation_fraction, n_iter_no_change=n_iter_no_change,
            callbacks=callbacks, device=device, mixed_precision=mixed_precision,
            random_state=random_state, verbose=verbose,
        )

    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, [n_channels,] n_bins, n_frames) or (n_clips, n_features)
        y : array-like of shape (n_clips,) or (n_clips, n_outputs)

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def _encode_y(self, y):
        y = np.asarray(y, dtype=np.float64)
        self.y_ndim_ = y.ndim
        y2 = y.reshape(len(y), -1)
        self.y_mean_ = y2.mean(axis=0)
        scale = y2.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        return ((y2 - self.y_mean_) / self.y_scale_).astype(np.float32)

    def _criterion(self):
        return torch.nn.MSELoss

    def predict(self, X):
        """Predicted targets (float64), 1-D when ``y`` was 1-D."""
        y = self._raw_predict(X) * self.y_scale_ + self.y_mean_
        return y.ravel() if self.y_ndim_ == 1 else y

    def _fitted_state(self):
        return {**super()._fitted_state(), "y_ndim_": int(self.y_ndim_),
                "y_mean_": self.y_mean_.tolist(), "y_scale_": self.y_scale_.tolist()}

    def _restore_state(self, state):
        super()._restore_state(state)
        self.y_ndim_ = state["y_ndim_"]
        self.y_mean_ = np.asarray(state["y_mean_"])
        self.y_scale_ = np.asarray(state["y_scale_"])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
