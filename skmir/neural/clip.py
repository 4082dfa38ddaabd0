"""Clip-level neural estimators: classifier, tagger and regressor (time-invariant, the
paper's table 1: genre, tags, mood, key, tempo).

A network is written in the paper's notation (``architecture="c2-p2-c2-p2-r1-r2-d1"``
or a preset such as ``"crnn"``), sized from the data at ``fit``, trained by skorch and
used as a plain scikit-learn estimator: it drops into ``Pipeline``, ``GridSearchCV``
and ``cross_validate``, and every hyper-parameter (the architecture string included)
is grid-searchable.

Input: with ``frontend=None`` (the default), spectrogram-like float32 arrays
``(n_clips, n_bins, n_frames)``, with channels
``(n_clips, n_channels, n_bins, n_frames)``, or 2-D ``(n_clips, n_features)`` read as
one frame per clip (so tabular data and sklearn's checks work too). The networks end
in global pooling over time, so clips of any length are predicted, including clips
longer than the random crops used in training. With a ``frontend`` (``"logmel"``,
``"logcqt"``, a learned front end, a representation transformer), the input is
waveforms and the representation is the network's first layers
(:mod:`skmir.nn.frontends`), augmented per batch on the device
(:mod:`skmir.nn.augmentation`).

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

from sklearn.base import ClassifierMixin, RegressorMixin

from skmir.neural.base import CLIP, BaseNeuralEstimator, ThresholdMixin
from skmir.neural.docstrings import fill_parameters
from skmir.neural.targets import ClassLabels, LabelIndicators, StandardisedTargets

__all__ = ["NeuralClassifier", "NeuralRegressor", "NeuralTagger"]


@fill_parameters
class NeuralClassifier(ClassifierMixin, BaseNeuralEstimator):
    """Single-label clip classifier: a network in the paper's notation with a softmax.

    Trained with cross-entropy (soft targets under mixup); labels of any type are
    encoded with a LabelEncoder.

    Parameters
    ----------
    {architecture}
    {frontend}
    {channels}
    {kernel_size}
    {pool}
    {hidden}
    {context}
    {activation}
    {batch_norm}
    {dropout}
    {cell}
    {bidirectional}
    {global_pool}
    {freeze}
    {crop_frames}
    {gain}
    {freq_mask}
    {time_mask}
    {mixup}
        "auto" is 0.2 (classes become soft targets).
    {wave_gain}
    {noise_snr}
    {pitch_shift}
    {time_stretch}
    {optimizer}
    {lr}
    {weight_decay}
    {batch_size}
    {max_epochs}
    {early_stopping}
        The held-out clips are stratified by class.
    {validation_fraction}
    {n_iter_no_change}
    {callbacks}
    {device}
    {mixed_precision}
    {random_state}
    {verbose}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    net_ : skmir.nn.training.SkmirNet
        The trained skorch net (its ``module_`` is the torch network).
    history_ : skorch.history.History
        Per-epoch losses (and validation accuracy with early stopping).
    architecture_ : str
        The architecture trained (``architecture`` with "auto" resolved).
    input_shape_ : tuple
        ``(n_channels, n_bins)`` of the training clips.
    n_outputs_ : int
    n_features_in_ : int
        ``X.shape[1]`` at fit.
    store_frontend_ : dict or None
        The front end of the :class:`skmir.FeatureStore` fitted on (None: arrays); a
        store made by another front end is refused.
    sr_ : int or None
        With a frontend: the sample rate it runs at (Waveforms at another rate are
        refused, and plain arrays too when the rate came from the training
        Waveforms); None for a raw-waveform front end fitted on plain arrays.
    n_audio_channels_ : int
        With a frontend: channels of the training waveforms.
    frontend_mean_, frontend_scale_ : ndarray of shape ``input_shape_``
        With a frontend: the standardisation of its output (0 and 1 for the
        raw-waveform front ends, which end in batch normalisation).

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

    _time_scale = CLIP
    _codec = ClassLabels()

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
        verbose="auto",
    ):
        super().__init__(
            architecture, frontend=frontend, channels=channels, kernel_size=kernel_size, pool=pool,
            hidden=hidden, context=context, activation=activation, batch_norm=batch_norm,
            dropout=dropout, cell=cell, bidirectional=bidirectional, global_pool=global_pool,
            freeze=freeze, crop_frames=crop_frames, gain=gain, freq_mask=freq_mask,
            time_mask=time_mask, mixup=mixup, wave_gain=wave_gain, noise_snr=noise_snr,
            pitch_shift=pitch_shift, time_stretch=time_stretch, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, callbacks=callbacks, device=device,
            mixed_precision=mixed_precision, random_state=random_state, verbose=verbose)

    def predict_proba(self, X):
        """Class probabilities, ``(n_clips, n_classes)`` in the order of ``classes_``."""
        return self._output(X)


@fill_parameters
class NeuralTagger(ThresholdMixin, ClassifierMixin, BaseNeuralEstimator):
    """Multi-label clip tagger: a network in the paper's notation with one sigmoid per tag.

    Trained with binary cross-entropy on a multi-label indicator ``y`` of shape
    ``(n_clips, n_tags)``. Like :class:`sklearn.multiclass.OneVsRestClassifier`, it
    also accepts 1-D labels: binary ``y`` gets one tag, multiclass ``y`` one tag per
    class (predicting the most probable class, with probabilities normalised to sum
    to 1).

    Parameters
    ----------
    {architecture}
    {threshold}
        A tag is predicted when its probability is at least this; for 1-D binary
        labels, the second class is predicted.
    {frontend}
    {channels}
    {kernel_size}
    {pool}
    {hidden}
    {context}
    {activation}
    {batch_norm}
    {dropout}
    {cell}
    {bidirectional}
    {global_pool}
    {freeze}
    {crop_frames}
    {gain}
    {freq_mask}
    {time_mask}
    {mixup}
        "auto" is 0.2 (tags become soft targets).
    {wave_gain}
    {noise_snr}
    {pitch_shift}
    {time_stretch}
    {optimizer}
    {lr}
    {weight_decay}
    {batch_size}
    {max_epochs}
    {early_stopping}
    {validation_fraction}
    {n_iter_no_change}
    {callbacks}
    {device}
    {mixed_precision}
    {random_state}
    {verbose}

    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_tags)`` for an indicator ``y``, else the labels.
    y_type_ : {"multilabel-indicator", "binary", "multiclass"}
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_, \
    store_frontend_
        As :class:`NeuralClassifier`.
    sr_, n_audio_channels_, frontend_mean_, frontend_scale_
        With a frontend, as :class:`NeuralClassifier`.

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

    _time_scale = CLIP
    _codec = LabelIndicators()

    def __init__(
        self,
        architecture="auto",
        *,
        threshold=0.5,
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
        verbose="auto",
    ):
        super().__init__(
            architecture, frontend=frontend, channels=channels, kernel_size=kernel_size, pool=pool,
            hidden=hidden, context=context, activation=activation, batch_norm=batch_norm,
            dropout=dropout, cell=cell, bidirectional=bidirectional, global_pool=global_pool,
            freeze=freeze, crop_frames=crop_frames, gain=gain, freq_mask=freq_mask,
            time_mask=time_mask, mixup=mixup, wave_gain=wave_gain, noise_snr=noise_snr,
            pitch_shift=pitch_shift, time_stretch=time_stretch, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, callbacks=callbacks, device=device,
            mixed_precision=mixed_precision, random_state=random_state, verbose=verbose)
        self.threshold = threshold

    def predict_proba(self, X):
        """Probability of each tag, ``(n_clips, n_tags)``.

        For 1-D binary training labels: ``(n_clips, 2)`` (negative, positive); for
        1-D multiclass labels: one column per class, normalised to sum to 1.
        """
        return self._output(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags


@fill_parameters
class NeuralRegressor(RegressorMixin, BaseNeuralEstimator):
    """Clip regressor (e.g. tempo): a network in the paper's notation with a linear output.

    Trained with the mean squared error on targets standardised internally (each
    output to zero mean and unit variance), so the default learning rate suits
    targets of any scale; predictions are returned in the original units. Single
    (``y`` 1-D) or multiple outputs (``y`` 2-D).

    Parameters
    ----------
    {architecture}
    {frontend}
    {channels}
    {kernel_size}
    {pool}
    {hidden}
    {context}
    {activation}
    {batch_norm}
    {dropout}
    {cell}
    {bidirectional}
    {global_pool}
    {freeze}
    {crop_frames}
    {gain}
    {freq_mask}
    {time_mask}
    {mixup}
        "auto" is 0 (off; targets would be mixed linearly).
    {wave_gain}
    {noise_snr}
    {pitch_shift}
    {time_stretch}
    {optimizer}
    {lr}
    {weight_decay}
    {batch_size}
    {max_epochs}
    {early_stopping}
    {validation_fraction}
    {n_iter_no_change}
    {callbacks}
    {device}
    {mixed_precision}
    {random_state}
    {verbose}

    Attributes
    ----------
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        The target standardisation.
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_, \
    store_frontend_
        As :class:`NeuralClassifier`.
    sr_, n_audio_channels_, frontend_mean_, frontend_scale_
        With a frontend, as :class:`NeuralClassifier`.

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

    _time_scale = CLIP
    _codec = StandardisedTargets()

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
        verbose="auto",
    ):
        super().__init__(
            architecture, frontend=frontend, channels=channels, kernel_size=kernel_size, pool=pool,
            hidden=hidden, context=context, activation=activation, batch_norm=batch_norm,
            dropout=dropout, cell=cell, bidirectional=bidirectional, global_pool=global_pool,
            freeze=freeze, crop_frames=crop_frames, gain=gain, freq_mask=freq_mask,
            time_mask=time_mask, mixup=mixup, wave_gain=wave_gain, noise_snr=noise_snr,
            pitch_shift=pitch_shift, time_stretch=time_stretch, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay, batch_size=batch_size, max_epochs=max_epochs,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, callbacks=callbacks, device=device,
            mixed_precision=mixed_precision, random_state=random_state, verbose=verbose)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
