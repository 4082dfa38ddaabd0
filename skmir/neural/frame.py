"""Frame-level neural estimators: one decision per frame (fig. 13, time-varying; the
paper's table 1: onsets, beats, melody, chords, singing voice).

:class:`FrameClassifier` (one class per frame, e.g. chords) and :class:`FrameTagger`
(several binary labels per frame, e.g. onsets, voicing) are the clip-level
estimators' machinery (:class:`skmir.neural.base.BaseNeuralEstimator`) at the frame
time scale: the network is laid out with ``output="frame"`` (pooling over frequency
only), so its output ``(n_clips, n_frames, n_outputs)`` is aligned frame for frame
with the input, and the loss is computed per frame.

The training batches are augmented as for the clip-level estimators
(:class:`skmir.nn.augmentation.BatchAugmentation`, with ``frame_targets=True``): a time
crop cuts the same frames from the input and the targets, so they stay aligned frame
for frame, and mixup mixes the frame targets with the input's weight (class frames
become soft targets, one probability vector per frame). Gain and masking only touch
the input. Time crops and mixup are nevertheless off by default (``crop_frames`` and
``mixup`` "auto" resolve to None and 0), unlike the clip-level estimators. Their
reasons there do not carry over: a crop makes a clip-level network hear a different
part of the clip each epoch, but a frame-level network already gets one decision per
frame, each from a different window, and a crop only adds edges where frames see
padding instead of the context they have at prediction (a recurrent layer sees less
of the clip, too). Mixup blends every frame of two clips, so each frame's decision is
trained against a soft target; its benefit is established for clip labels, not for
sparse frame events such as onsets or chord boundaries. The networks are small and
the frame tasks these estimators were checked on learn well without either; set them
when validation says they help.
"""

from sklearn.base import ClassifierMixin

from skmir.neural.base import FRAME, BaseNeuralEstimator, ThresholdMixin
from skmir.neural.docstrings import fill_parameters
from skmir.neural.targets import ClassLabels, LabelIndicators

__all__ = ["FrameClassifier", "FrameTagger"]


@fill_parameters
class FrameClassifier(ClassifierMixin, BaseNeuralEstimator):
    """One class per frame (e.g. chords): softmax and cross-entropy per frame.

    ``y`` is ``(n_clips, n_frames)`` of class labels aligned to X's frames. The
    network keeps every frame (pooling over frequency only, no r2), so predictions
    are aligned frame for frame with the input. When set, a time crop cuts the same
    frames from the input and the targets, and mixup trains on soft targets
    (cross-entropy against a class distribution per frame); prediction always runs
    over the whole clip. A 2-D ``X`` with a 1-D ``y`` is one frame per clip.

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
        "auto" is 0 (off; when set, frame targets become soft targets).
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
    classes_ : ndarray of shape (n_classes,)
    single_frame_ : bool
        Whether the fit was on a 2-D X and a 1-D y (one frame per clip).
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_, \
    store_frontend_
        As :class:`skmir.NeuralClassifier`.
    sr_, n_audio_channels_, frontend_mean_, frontend_scale_
        With a frontend, as :class:`skmir.NeuralClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import FrameClassifier
    >>> X = np.random.default_rng(0).normal(size=(8, 6, 10)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> clf = FrameClassifier(hidden=8, max_epochs=2, early_stopping=False,
    ...                       device="cpu", random_state=0).fit(X, y)
    >>> clf.predict(X).shape, clf.predict_proba(X).shape
    ((8, 10), (8, 10, 2))
    """

    _time_scale = FRAME
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
        """Class probabilities per frame, ``(n_clips, n_frames, n_classes)``.

        After a fit on 2-D X and 1-D y (one frame per clip): ``(n_clips, n_classes)``.
        """
        return self._output(X)


@fill_parameters
class FrameTagger(ThresholdMixin, ClassifierMixin, BaseNeuralEstimator):
    """Several binary labels per frame (e.g. onset, voicing): sigmoid and BCE per frame.

    ``y`` is ``(n_clips, n_frames, n_labels)`` of 0/1, or ``(n_clips, n_frames)`` of
    0/1 read as one label; with ``mixup``, the targets become weights in [0, 1] per
    frame and label (binary cross-entropy takes them as they are).

    A 2-D ``X`` (one frame per clip) with a 1-D ``y`` of class labels is handled like
    :class:`sklearn.multiclass.OneVsRestClassifier` (and :class:`skmir.NeuralTagger`):
    binary labels get one sigmoid and ``predict_proba`` of shape ``(n_clips, 2)``,
    multiclass labels one sigmoid per class with probabilities normalised to sum to 1,
    and :meth:`predict` returns the labels.

    Parameters
    ----------
    {architecture}
    {threshold}
        A label is set on a frame when its probability is at least this; for
        1-D binary labels, the second class is predicted.
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
        "auto" is 0 (off; when set, frame targets become weights in [0, 1]).
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
        ``arange(n_labels)`` for frame targets, else the labels of a 1-D ``y``.
    y_type_ : {"frames", "binary", "multiclass"}
        Frame targets of 0/1, or 1-D binary or multiclass labels.
    single_frame_ : bool
        Whether the fit was on a 2-D X and a 1-D y (one frame per clip).
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_, \
    store_frontend_
        As :class:`skmir.NeuralClassifier`.
    sr_, n_audio_channels_, frontend_mean_, frontend_scale_
        With a frontend, as :class:`skmir.NeuralClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import FrameTagger
    >>> X = np.random.default_rng(0).normal(size=(8, 6, 10)).astype("float32")
    >>> y = (X[:, 0] > 0).astype(int)
    >>> tagger = FrameTagger(hidden=8, max_epochs=2, early_stopping=False,
    ...                      device="cpu", random_state=0).fit(X, y)
    >>> tagger.predict(X).shape, tagger.predict_proba(X).shape
    ((8, 10), (8, 10, 1))
    """

    _time_scale = FRAME
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
        """Probability of each label per frame, ``(n_clips, n_frames, n_labels)``.

        After a fit on 2-D X and 1-D labels, for a 2-D X: ``(n_clips, 2)`` (negative,
        positive class) for binary labels, ``(n_clips, n_classes)`` summing to 1 for
        multiclass labels.
        """
        return self._output(X)
