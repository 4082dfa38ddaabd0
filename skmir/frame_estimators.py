"""Frame-level neural estimators: one decision per frame (fig. 13, time-varying).

:class:`FrameClassifier` (one class per frame, e.g. chords) and :class:`FrameTagger`
(several binary labels per frame, e.g. onsets, voicing) reuse the clip-level
machinery of :mod:`skmir.estimators` (training, early stopping, device, persistence);
the network is laid out with ``output="frame"`` (pooling over frequency only), so its
output ``(n_clips, n_frames, n_outputs)`` is aligned frame for frame with the input,
and the loss is computed per frame.

The training batches are augmented as for the clip-level estimators
(:class:`skmir.augmentation.BatchAugmentation`, with ``frame_targets=True``): a time
crop cuts the same frames from the input and the targets, so they stay aligned frame
for frame, and mixup mixes the frame targets with the input's weight (class frames
become soft targets, one probability vector per frame). Gain and masking only touch
the input. Time crops and mixup are nevertheless off by default (``crop_frames=None``,
``mixup=0``), unlike the clip-level estimators. Their reasons there do not carry
over: a crop makes a clip-level network hear a different part of the clip each
epoch, but a frame-level network already gets one decision per frame, each from a
different window, and a crop only adds edges where frames see padding instead of the
context they have at prediction (a recurrent layer sees less of the clip, too).
Mixup blends every frame of two clips, so each frame's decision is trained against
a soft target; its benefit is established for clip labels, not for sparse frame
events such as onsets or chord boundaries. The networks are small and the frame
tasks these estimators were checked on learn well without either; set them when
validation says they help.
"""
import warnings
from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

from skmir._validation import check_finite
from skmir.estimators import (
    _binarize_labels,
    _classes_restore,
    _classes_state,
    _label_predict,
    _label_proba,
    _NeuralEstimator,
    _sigmoid,
    _softmax,
)
from skmir.nn.architecture import layout

__all__ = ["FrameClassifier", "FrameTagger"]


class _FrameCrossEntropy(torch.nn.Module):
    """Cross-entropy per frame: logits (batch, frames, C), targets (batch, frames).

    Targets (batch, frames, C) are class probabilities per frame (mixup's soft
    targets); the mean over frames is then taken the same way.
    """

    def __init__(self):
        super().__init__()
        self.loss = torch.nn.CrossEntropyLoss()

    def forward(self, y_pred, y_true):
        n_classes = y_pred.shape[-1]
        logits = y_pred.reshape(-1, n_classes)
        if y_true.ndim == y_pred.ndim:  # soft targets: a distribution per frame
            return self.loss(logits, y_true.reshape(-1, n_classes).to(logits.dtype))
        return self.loss(logits, y_true.reshape(-1).long())


class _FrameBCE(torch.nn.Module):
    """Binary cross-entropy per frame and label: (batch, frames, L) both.

    Targets may be soft (mixup's weights in [0, 1]) as well as 0/1.
    """

    def __init__(self):
        super().__init__()
        self.loss = torch.nn.BCEWithLogitsLoss()

    def forward(self, y_pred, y_true):
        return self.loss(y_pred.reshape(-1, y_pred.shape[-1]),
                         y_true.reshape(-1, y_pred.shape[-1]).float())


def _ndim(X):
    ndim = getattr(X, "ndim", None)
    return np.asarray(X).ndim if ndim is None else ndim


def _indicator(y):
    """Whether y holds only 0 and 1 (frame indicators)."""
    return y.dtype.kind in "biuf" and bool(np.isin(y, (0, 1)).all())


class _FrameEstimator(_NeuralEstimator):
    """Frame-level variant of the shared machinery."""

    _task = "frame"  # no clip-level accuracy callback; frame-aware augmentation

    def __init__(
        self,
        architecture="dnn",
        *,
        channels=16,
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
        crop_frames=None,
        gain=0.5,
        freq_mask=0.1,
        time_mask=0.0,
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

    def _layout(self):
        bidirectional = self.bidirectional
        if isinstance(bidirectional, str):
            bidirectional = self.architecture.strip().lower() == "birnn"
        return layout(
            self.architecture, output="frame", channels=self.channels,
            kernel_size=self.kernel_size, pool=self.pool, hidden=self.hidden,
            context=self.context, activation=self.activation, batch_norm=self.batch_norm,
            dropout=self.dropout, cell=self.cell, bidirectional=bidirectional,
        )

    def _build_net(self, seed, stratify=False):
        net = super()._build_net(seed, stratify)
        net.set_params(module__output="frame")
        return net

    def _augmentation(self, seed, **kwargs):
        # The targets have a frame axis: crops cut it, mixup mixes it frame by frame.
        return super()._augmentation(seed, n_classes=self._n_classes(), frame_targets=True)

    def _n_classes(self):
        """Hook: the number of classes mixup one-hot encodes integer targets to."""
        return None

    def _prepare(self, X, y):
        self._validate_params()
        owner = type(self).__name__
        self._layout()
        if y is None:
            raise ValueError(
                f"{owner} requires y to be passed, but the target y is None: frame "
                "targets (n_clips, n_frames) aligned to X's frames."
            )
        two_d = _ndim(X) == 2
        X4 = self._check_X(X, reset=True)
        y = self._column_y(np.asarray(y), two_d)
        # A 2-D X is read as one frame per clip (as by the clip-level estimators), so
        # a 1-D y is then one target per clip: y becomes (n_clips, 1).
        self.single_frame_ = bool(two_d and y.ndim == 1)
        if self.single_frame_:
            y = y[:, None]
        if y.ndim not in (2, 3):
            raise ValueError(
                f"{owner}: y must be (n_clips, n_frames){self._y3} aligned to X's "
                f"frames; got y of shape {y.shape}."
            )
        if y.shape[0] != X4.shape[0]:
            raise ValueError(f"{owner}: X has {X4.shape[0]} clips but y has {y.shape[0]}.")
        if y.shape[1] != X4.shape[3]:
            raise ValueError(
                f"{owner}: y has {y.shape[1]} frames but X has {X4.shape[3]} frames; "
                "frame targets must be aligned to X's frames."
            )
        if y.dtype.kind in "fc":
            check_finite(y, owner)
        self.input_shape_ = tuple(int(s) for s in X4.shape[1:3])
        y_enc = self._encode_y(y)
        return X4, y_enc, self._seed()

    def _column_y(self, y, two_d):
        """Hook: a column-vector y that is not a frame target becomes 1-D."""
        return y

    def _fit(self, X, y):
        X4, y_enc, seed = self._prepare(X, y)
        self._check_split(len(X4))
        net = self._build_net(seed, False)
        with self._fork_rng(net.device):
            torch.manual_seed(seed)
            net.fit(X4, y_enc)
        self.net_ = net
        self.history_ = net.history
        return self

    def initialize(self, X, y):
        """Build the untrained network for data like ``X, y`` (no training)."""
        X4, y_enc, seed = self._prepare(X, y)
        self._initialize_net(seed)
        return self

    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, [n_channels,] n_bins, n_frames)
        y : array-like of shape (n_clips, n_frames) or (n_clips, n_frames, n_labels)
            Frame targets aligned to X's frames.

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def _raw_predict(self, X):
        check_is_fitted(self, "net_")
        X4 = self._check_X(X, reset=False)
        return self.net_.predict_proba(X4).astype(np.float64)

    def _per_clip(self, p, X):
        """Drop the frame axis for a single-frame fit (2-D X, 1-D y) and a 2-D X.

        A 3-D or 4-D X (spectrograms) keeps it: every frame gets its prediction.
        """
        return p[:, 0] if self.single_frame_ and _ndim(X) == 2 else p


class FrameClassifier(ClassifierMixin, _FrameEstimator):
    """One class per frame (e.g. chords): softmax and cross-entropy per frame.

    The network keeps every frame (``output="frame"``: pooling over frequency only,
    no r2), so predictions are aligned frame for frame with the input. Parameters are
    those of :class:`skmir.NeuralClassifier`, with a time-varying default
    architecture (``"dnn"``: d2-d2-d2-d1; also ``"birnn"``: r1-r1-d1, or strings of
    c2/p2/d1/d2/r1 tokens) and ``crop_frames=None``, ``mixup=0`` by default (see the
    module's notes). When set, a crop cuts the same frames from the input and the
    targets, and mixup trains on soft targets (cross-entropy against a class
    distribution per frame); prediction always runs over the whole clip.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    net_ : skorch.NeuralNet
    history_ : skorch.History

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.frame_estimators import FrameClassifier
    >>> X = np.random.default_rng(0).normal(size=(8, 6, 10)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = FrameClassifier(hidden=8, max_epochs=2, early_stopping=False,
    ...                       device="cpu", random_state=0).fit(X, y)
    >>> clf.predict(X).shape, clf.predict_proba(X).shape
    ((8, 10), (8, 10, 2))
    """

    _y3 = ""

    def _encode_y(self, y):
        owner = type(self).__name__
        if y.ndim != 2:
            raise ValueError(
                f"{owner}: y must be (n_clips, n_frames) of class labels; got shape "
                f"{y.shape} (use FrameTagger for several labels per frame)."
            )
        check_classification_targets(y.ravel())
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"{owner}: y has 1 class ({self.classes_[0]!r}); need 2.")
        return codes.reshape(y.shape).astype(np.int64)

    def _criterion(self):
        return _FrameCrossEntropy

    def _n_classes(self):
        return self.n_outputs_

    def _prepare(self, X, y):
        out = super()._prepare(X, y)
        self.n_outputs_ = len(self.classes_)
        return out

    def predict_proba(self, X):
        """Class probabilities per frame, ``(n_clips, n_frames, n_classes)``.

        After a fit on 2-D X and 1-D y (one frame per clip): ``(n_clips, n_classes)``.
        """
        z = self._raw_predict(X)
        p = _softmax(z.reshape(-1, z.shape[-1])).reshape(z.shape)
        return self._per_clip(p, X)

    def predict(self, X):
        """The most probable class per frame, ``(n_clips, n_frames)``."""
        check_is_fitted(self, "net_")
        return self.classes_[self.predict_proba(X).argmax(axis=-1)]

    def _fitted_state(self):
        return {**super()._fitted_state(), **_classes_state(self.classes_),
                "single_frame_": self.single_frame_}

    def _restore_state(self, state):
        super()._restore_state(state)
        self.classes_ = _classes_restore(state)
        self.single_frame_ = state["single_frame_"]


class FrameTagger(ClassifierMixin, _FrameEstimator):
    """Several binary labels per frame (e.g. onset, voicing): sigmoid and BCE per frame.

    ``y`` is ``(n_clips, n_frames, n_labels)`` of 0/1, or ``(n_clips, n_frames)`` of
    0/1 read as one label. Parameters are those of :class:`FrameClassifier` plus
    ``threshold``; with ``mixup``, the targets become weights in [0, 1] per frame
    and label (binary cross-entropy takes them as they are).

    A 2-D ``X`` (one frame per clip) with a 1-D ``y`` of class labels is handled like
    :class:`sklearn.multiclass.OneVsRestClassifier` (and :class:`skmir.NeuralTagger`):
    binary labels get one sigmoid and ``predict_proba`` of shape ``(n_clips, 2)``,
    multiclass labels one sigmoid per class with probabilities normalised to sum to 1,
    and :meth:`predict` returns the labels.

    Parameters
    ----------
    threshold : float, default=0.5
        Probability at or above which :meth:`predict` sets a label (or, for 1-D
        binary labels, predicts the second class).

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_labels)`` for frame targets, else the labels of a 1-D ``y``.
    y_type_ : {"frames", "binary", "multiclass"}
        Frame targets of 0/1, or 1-D binary or multiclass labels.
    net_ : skorch.NeuralNet

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.frame_estimators import FrameTagger
    >>> X = np.random.default_rng(0).normal(size=(8, 6, 10)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> tagger = FrameTagger(hidden=8, max_epochs=2, early_stopping=False,
    ...                      device="cpu", random_state=0).fit(X, y)
    >>> tagger.predict(X).shape, tagger.predict_proba(X).shape
    ((8, 10), (8, 10, 1))
    """

    _y3 = " or (n_clips, n_frames, n_labels)"
    _parameter_constraints = {
        **_FrameEstimator._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        architecture="dnn",
        *,
        threshold=0.5,
        channels=16,
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
        crop_frames=None,
        gain=0.5,
        freq_mask=0.1,
        time_mask=0.0,
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
            architecture,
            channels=channels, kernel_size=kernel_size, pool=pool,
            hidden=hidden, context=context, activation=activation,
            batch_norm=batch_norm, dropout=dropout, cell=cell,
            bidirectional=bidirectional, global_pool=global_pool,
            crop_frames=crop_frames, gain=gain, freq_mask=freq_mask,
            time_mask=time_mask, mixup=mixup, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay, batch_size=batch_size,
            max_epochs=max_epochs, early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, callbacks=callbacks,
            device=device, mixed_precision=mixed_precision,
            random_state=random_state, verbose=verbose,
        )
        self.threshold = threshold

    def fit(self, X, y):
        """Train the network.

        Parameters
        ----------
        X : array-like of shape (n_clips, [n_channels,] n_bins, n_frames) or (n_clips, n_features)
        y : array-like of shape (n_clips, n_frames) or (n_clips, n_frames, n_labels)
            Frame targets of 0/1 aligned to X's frames; with a 2-D X also
            ``(n_clips,)`` of class labels (see above).

        Returns
        -------
        self
        """
        return self._fit(X, y)

    def _column_y(self, y, two_d):
        # With a 2-D X, y (n_clips, 1) of 0/1 is a frame target (one frame, one
        # label); of other labels it can only be a column vector of class labels.
        if two_d and y.ndim == 2 and y.shape[1] == 1 and not _indicator(y):
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. Please "
                "change the shape of y to (n_samples,), for example using ravel().",
                DataConversionWarning, stacklevel=5,
            )
            return y.ravel()
        return y

    def _encode_y(self, y):
        owner = type(self).__name__
        if self.single_frame_:
            # 2-D X and 1-D labels (now (n_clips, 1)): one-vs-rest, as NeuralTagger.
            labels = y[:, 0]
            binarizer = _binarize_labels(
                labels, owner, "pass labels of at least 2 classes, or 0/1 frame targets "
                "(n_clips, n_frames).")
            self.y_type_ = binarizer.y_type_
            self.y_ndim_ = 1
            self.classes_ = binarizer.classes_
            y_bin = binarizer.transform(labels)
            self.n_outputs_ = int(y_bin.shape[1])
            return y_bin[:, None, :].astype(np.float32)
        if not _indicator(y):
            raise ValueError(
                f"{owner}: y must hold only 0 and 1 (frame indicators); Unknown label "
                f"type: {type_of_target(y.reshape(len(y), -1))!r} (use FrameClassifier "
                "for one class per frame)."
            )
        self.y_type_ = "frames"
        self.y_ndim_ = int(y.ndim)
        y3 = y[..., None] if y.ndim == 2 else y
        self.classes_ = np.arange(y3.shape[2])
        self.n_outputs_ = int(y3.shape[2])
        return y3.astype(np.float32)

    def _criterion(self):
        return _FrameBCE

    def predict_proba(self, X):
        """Probability of each label per frame, ``(n_clips, n_frames, n_labels)``.

        After a fit on 2-D X and 1-D labels, for a 2-D X: ``(n_clips, 2)`` (negative,
        positive class) for binary labels, ``(n_clips, n_classes)`` summing to 1 for
        multiclass labels.
        """
        return self._per_clip(_label_proba(_sigmoid(self._raw_predict(X)), self.y_type_), X)

    def predict(self, X):
        """0/1 per frame (and label, for a 3-D training y) at ``threshold``.

        After a fit on 1-D labels: the predicted label of each clip.
        """
        check_is_fitted(self, "net_")
        p = self.predict_proba(X)
        if self.y_type_ != "frames":
            return _label_predict(p, self.y_type_, self.classes_, self.threshold)
        p = (p >= self.threshold).astype(int)
        return p[..., 0] if self.y_ndim_ == 2 else p

    def _fitted_state(self):
        return {**super()._fitted_state(), **_classes_state(self.classes_),
                "y_type_": self.y_type_, "y_ndim_": self.y_ndim_,
                "single_frame_": self.single_frame_}

    def _restore_state(self, state):
        super()._restore_state(state)
        self.classes_ = _classes_restore(state)
        self.y_type_ = state["y_type_"]
        self.y_ndim_ = state["y_ndim_"]
        self.single_frame_ = state["single_frame_"]
