"""Target codecs: what a neural estimator's ``y`` means to its network.

A codec owns everything that depends on the task and not on the network: how ``y``
is validated and encoded for training, the loss, the output activation, the decision
that turns outputs into predictions, and which fitted attributes are saved. It is
stateless (like the loss objects of ``sklearn._loss``): the fitted values
(``classes_``, ``y_mean_``...) are attributes of the estimator, set by
:meth:`TargetCodec.encode`.

- :class:`ClassLabels`: one class per clip or frame; softmax; cross-entropy.
- :class:`LabelIndicators`: 0/1 per tag (or per frame and label), 1-D labels
  one-vs-rest; a sigmoid per output and a threshold; binary cross-entropy.
- :class:`StandardisedTargets`: continuous targets; linear; mean squared error.

Targets with a frame axis (``frames=True`` in :meth:`TargetCodec.encode`) are
``(n_clips, n_frames[, n_labels])``; clip targets are ``(n_clips[, n_outputs])``.
"""

import warnings

import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer, LabelEncoder
from sklearn.utils.multiclass import check_classification_targets, type_of_target

from skmir.tonality import key_targets


def softmax(z):
    """Softmax over the last axis (float64 logits in, probabilities out)."""
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sigmoid(z):
    """The logistic function, element-wise."""
    return 1.0 / (1.0 + np.exp(-z))


def is_indicator(y):
    """Whether ``y`` holds only 0 and 1."""
    return y.dtype.kind in "biuf" and bool(np.isin(y, (0, 1)).all())


class TargetCodec:
    """Interface of a codec; see the module docstring.

    Attributes
    ----------
    loss : str
        Name of the loss module in :mod:`skmir.nn.losses` (imported with torch, when
        a network is built).
    multi_output, numeric : bool
        How ``sklearn.utils.validation.validate_data`` checks a clip-level ``y``.
    clip_mixup : float
        What ``mixup="auto"`` resolves to for clip targets.
    single_label : bool
        Whether each target is one class (a stratified validation split and
        accuracy apply to clips).
    fitted_arrays, fitted_values : tuple of str
        The fitted attributes that :meth:`encode` sets: arrays and plain values.
    """

    loss = None
    single_label = False
    multi_output = False
    numeric = False
    clip_mixup = 0.0
    fitted_arrays = ()
    fitted_values = ()

    def as_labels(self, y):
        """A column vector ``(n, 1)`` of labels, as sklearn's estimators read it."""
        return y

    def encode(self, est, y, frames):
        """Validate and encode ``y``; set the estimator's fitted target attributes.

        Returns
        -------
        y_enc : ndarray
            int64 class indices or float32 targets.
        n_outputs : int
            Width of the network's output layer.
        """
        raise NotImplementedError

    def mixup_classes(self, est):
        """How many classes mixup one-hot encodes integer targets to (or None)."""
        return None

    def output(self, est, z):
        """The estimator's output (probabilities, values) from the network's."""
        raise NotImplementedError

    def decide(self, est, out):
        """Predictions from :meth:`output`."""
        return out


def _one_class_error(owner, classes, hint="a classifier needs at least 2 classes."):
    return ValueError(f"{owner}: y has 1 class ({classes[0]!r}); {hint}")


def _column_warning():
    warnings.warn(
        "A column-vector y was passed when a 1d array was expected. Please change the "
        "shape of y to (n_samples,), for example using ravel().",
        DataConversionWarning, stacklevel=5,
    )


class ClassLabels(TargetCodec):
    """One class per clip or per frame: softmax outputs and cross-entropy.

    Labels of any type are encoded with a LabelEncoder into ``classes_``; mixup turns
    them into soft targets.
    """

    loss = "CrossEntropy"
    single_label = True
    clip_mixup = 0.2
    fitted_arrays = ("classes_",)

    def encode(self, est, y, frames):
        owner = type(est).__name__
        if frames and y.ndim != 2:
            raise ValueError(
                f"{owner}: y must be (n_clips, n_frames) of class labels; got shape "
                f"{y.shape} (use FrameTagger for several labels per frame)."
            )
        check_classification_targets(y.ravel() if frames else y)
        encoder = LabelEncoder().fit(y.ravel())
        if len(encoder.classes_) < 2:
            raise _one_class_error(owner, encoder.classes_)
        est.classes_ = encoder.classes_
        codes = encoder.transform(y.ravel()).reshape(y.shape).astype(np.int64)
        return codes, len(est.classes_)

    def mixup_classes(self, est):
        return est.n_outputs_

    def output(self, est, z):
        return softmax(z)

    def decide(self, est, out):
        return est.classes_[out.argmax(axis=-1)]


def key_head_targets(est, layers):
    """What the outputs of a network ending in the key head ``k1`` are: ``(kind,
    index)`` from :func:`skmir.tonality.key_targets` of ``est.classes_``; None for any
    other network."""
    if not layers or layers[-1].token != "k1":
        return None
    owner = type(est).__name__
    if not isinstance(est._codec, ClassLabels):
        raise ValueError(
            f"{owner}: architecture = {est.architecture!r}: ends in the key head 'k1', which "
            "scores one key or mode per clip; use NeuralClassifier with key or mode labels."
        )
    return key_targets(est.classes_, owner)


class LabelIndicators(TargetCodec):
    """Several binary labels per clip (tags) or per frame: sigmoids and binary
    cross-entropy, decided at the estimator's ``threshold``.

    Like :class:`sklearn.multiclass.OneVsRestClassifier`, 1-D class labels are also
    accepted: binary labels get one sigmoid (``predict_proba`` gives both columns),
    multiclass labels one sigmoid per class (probabilities normalised to sum to 1,
    the prediction is the most probable class). ``y_type_`` says which:
    ``"multilabel-indicator"`` (tags), ``"frames"`` (0/1 per frame), ``"binary"`` or
    ``"multiclass"``.
    """

    loss = "BinaryCrossEntropy"
    multi_output = True
    clip_mixup = 0.2
    fitted_arrays = ("classes_",)
    fitted_values = ("y_type_", "y_ndim_")

    def as_labels(self, y):
        # (n, 1) of 0/1 is one tag; of other labels it can only be a column of labels.
        if y.ndim == 2 and y.shape[1] == 1 and not is_indicator(y):
            _column_warning()
            return y.ravel()
        return y

    def encode(self, est, y, frames):
        owner = type(est).__name__
        est.y_ndim_ = int(y.ndim)
        if frames:
            if not is_indicator(y):
                raise ValueError(
                    f"{owner}: y must hold only 0 and 1 (frame indicators); Unknown label "
                    f"type: {type_of_target(y.reshape(len(y), -1))!r} (use FrameClassifier "
                    "for one class per frame)."
                )
            y3 = y[..., None] if y.ndim == 2 else y
            est.y_type_ = "frames"
            est.classes_ = np.arange(y3.shape[2])
            return y3.astype(np.float32), int(y3.shape[2])
        if y.ndim == 2:
            if not is_indicator(y):
                raise ValueError(
                    f"{owner}: a 2-D y must be a binary indicator matrix (n_clips, "
                    f"n_tags) of 0 and 1 (type_of_target {type_of_target(y)!r} received); "
                    "for one label per clip pass a 1-D y or use NeuralClassifier."
                )
            est.y_type_ = "multilabel-indicator"
            est.classes_ = np.arange(y.shape[1])
            return y.astype(np.float32), int(y.shape[1])
        if y.ndim != 1:
            raise ValueError(f"{owner}: y must be 1-D or 2-D, got shape {y.shape}.")
        check_classification_targets(y)
        binarizer = LabelBinarizer().fit(y)
        if len(binarizer.classes_) < 2:
            raise _one_class_error(
                owner, binarizer.classes_, "pass an indicator matrix (n_clips, n_tags) or "
                "labels of at least 2 classes.")
        est.y_type_ = binarizer.y_type_
        est.classes_ = binarizer.classes_
        y_bin = binarizer.transform(y).astype(np.float32)
        return y_bin, int(y_bin.shape[1])

    def output(self, est, z):
        p = sigmoid(z)
        if est.y_type_ == "binary":
            return np.concatenate([1 - p, p], axis=-1)
        if est.y_type_ == "multiclass":
            return p / p.sum(axis=-1, keepdims=True)
        return p

    def decide(self, est, out):
        if est.y_type_ == "binary":
            return est.classes_[(out[..., 1] >= est.threshold).astype(int)]
        if est.y_type_ == "multiclass":
            return est.classes_[out.argmax(axis=-1)]
        decided = (out >= est.threshold).astype(int)
        # a (n_clips, n_frames) y of one label is predicted in its own shape
        return decided[..., 0] if est.y_type_ == "frames" and est.y_ndim_ == 2 else decided


class StandardisedTargets(TargetCodec):
    """Continuous targets, standardised per output for training (so the default
    learning rate suits targets of any scale) and returned in their own units."""

    loss = "MeanSquaredError"
    multi_output = True
    numeric = True
    fitted_arrays = ("y_mean_", "y_scale_")
    fitted_values = ("y_ndim_",)

    def encode(self, est, y, frames):
        y = np.asarray(y, dtype=np.float64)
        est.y_ndim_ = int(y.ndim)
        y2 = y.reshape(len(y), -1)
        est.y_mean_ = y2.mean(axis=0)
        scale = y2.std(axis=0)
        est.y_scale_ = np.where(scale > 0, scale, 1.0)
        return ((y2 - est.y_mean_) / est.y_scale_).astype(np.float32), int(y2.shape[1])

    def output(self, est, z):
        y = z * est.y_scale_ + est.y_mean_
        return y.ravel() if est.y_ndim_ == 1 else y
