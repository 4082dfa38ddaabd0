"""Frame-level neural estimators: one decision per frame (fig. 13, time-varying; the
paper's table 1: onsets, beats, melody, chords, singing voice).

:class:`FrameClassifier` (one class per frame, e.g. chords) and :class:`FrameTagger`
(several binary labels per frame, e.g. onsets, voicing) are the clip-level
estimators' machinery (:class:`skmir.neural.base.BaseNeuralEstimator`) at the frame
time scale: the network is laid out with ``output="frame"`` (pooling over frequency
only), so its output ``(n_clips, n_frames, n_outputs)`` is aligned frame for frame
with the input, and the loss is computed per frame.

The training batches are augmented as for the clip-level estimators
(:class:`skmir.augmentation.BatchAugmentation`, with ``frame_targets=True``): a time
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
from skmir.neural.targets import ClassLabels, LabelIndicators

__all__ = ["FrameClassifier", "FrameTagger"]


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
    architecture : str, default="auto"
        The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
        p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
        fig. 13: ``"dnn"``, ``"conv2d_tv"``, ``"birnn"`` (time-varying), ``"conv1d"``,
        ``"conv2d"``, ``"crnn"`` (time-invariant). The last token, when dense, is the
        output layer; otherwise one is appended. Checked before any training; see
        :mod:`skmir.nn.architecture`.
        "auto" is ``"dnn"`` (d2-d2-d2-d1); frame-level networks take c2, p2, d1,
        d2 and r1 tokens (no r2, no pooling over time).
    frontend : str, skmir.nn.frontends.Frontend, skmir transformer or None, default=None
        None: X is spectrogram-like, as above. Otherwise X is waveforms ``(n_clips,
        n_samples)`` or ``(n_clips, n_channels, n_samples)`` (skmir Waveforms are
        checked against the front end's ``sr``), and the representation is computed
        per batch on the training device as the network's first layers (see
        :mod:`skmir.nn.frontends`); only the waveforms are held in memory. Presets:
        ``"logmel"`` (96 bands, hop 512) and ``"logcqt"`` (84 semitones), with
        librosa's numbers and standardised per bin with the training data's
        statistics; ``"learned-mel"`` (trainable mel filters); ``"dieleman2014"``
        (a strided 1-D convolution on the samples) and ``"samplecnn"`` (Lee et al.'s
        size-3 convolutions), which give ``(1, filters)`` per frame and suit
        ``architecture="conv1d"``. A preset's ``sr`` is the waveforms' (``X.sr``), else
        22050. Or a front end instance, e.g. ``LogMel(sr=16000, n_mels=64)``, whose
        parameters are grid-searchable (``frontend__n_mels``), or a skmir
        representation transformer or Pipeline of them. With a frontend,
        ``crop_frames`` crops the waveforms on the front end's frames, ``mixup`` mixes
        waveforms, and ``gain`` and the masks act on the standardised representation.
        Frame targets have the front end's frames: ``1 + n_samples // hop_length``
        for the spectrogram presets.
    channels : int, sequence of int or "auto", default="auto"
        Filters of each convolution (c1, c2): one value, or one per conv layer.
        "auto" is 16.
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
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"} or sequence, default="relu"
        Of each convolution and hidden dense layer.
    batch_norm : bool or sequence of bool, default=True
        Batch normalisation after each convolution.
    dropout : float or sequence of float, default=0.1
        After each convolution and hidden dense or recurrent layer.
    cell : {"gru", "lstm"} or sequence, default="gru"
        Of each recurrent layer.
    bidirectional : bool, "auto" or sequence of bool, default="auto"
        Of each recurrent layer; "auto" is True for the ``"birnn"`` preset only.
    global_pool : {"mean", "max"}, default="mean"
        Unused by frame-level networks, which pool nothing over time (kept
        so that clip and frame estimators share their parameters).
    freeze : int, default=0
        Must be 0: the pretrained architectures that it applies to are clip-level
        (see :class:`skmir.NeuralClassifier`).
    crop_frames : int, float, None or "auto", default="auto"
        Train on random crops of this many frames (int) or this fraction of each clip
        (float); None trains on whole clips. Prediction uses whole clips. "auto" is
        None (see the module's notes).
    gain : float, default=0.5
        Random gain: an offset in ``[-gain, gain]`` added to each training clip,
        which on log-compressed input is a loudness change (0.5 on a natural-log
        spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
        deviation). Set 0 for input that is not log-compressed.
    freq_mask : int or float, default=0.1
        SpecAugment: mask one band of up to this many bins (int) or this fraction
        (float) of each training clip.
    time_mask : int, float or "auto", default="auto"
        The same over frames; "auto" is 0 (off).
    mixup : float or "auto", default="auto"
        Mixup's alpha (0 is off); "auto" is 0 (off; when set, frame targets become soft targets).
    wave_gain : float, default=0.0
        With a frontend: multiply each training waveform by a random gain of up to
        +-``wave_gain`` dB. 0 is off.
    noise_snr : float, (float, float) or None, default=None
        With a frontend: add white noise to each training waveform at a
        signal-to-noise ratio in dB drawn from this range (a number: a fixed SNR).
        None is off.
    pitch_shift : float, default=0.0
        With a frontend: shift each training waveform by up to +-``pitch_shift``
        semitones (phase vocoder and FFT resampling, as ``librosa.effects.pitch_shift``;
        the duration is kept). Targets that depend on pitch (key, chords) are not
        shifted with it. 0 is off.
    time_stretch : float, default=0.0
        With a frontend: stretch each training waveform by a rate drawn between
        ``1 / (1 + time_stretch)`` and ``1 + time_stretch`` (phase vocoder; the pitch
        is kept), with its frame targets stretched by the same rate. A clip sped up
        must keep the frames trained on (frame targets cannot be padded): with
        whole clips, refused at fit; train on crops (``crop_frames``). 0 is off.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
    batch_size : int, default=32
    max_epochs : int, default=100
        Upper bound; early stopping usually ends training well before.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training clips, stop when
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
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    single_frame_ : bool
        Whether the fit was on a 2-D X and a 1-D y (one frame per clip).
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_
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

    def predict_proba(self, X):
        """Class probabilities per frame, ``(n_clips, n_frames, n_classes)``.

        After a fit on 2-D X and 1-D y (one frame per clip): ``(n_clips, n_classes)``.
        """
        return self._output(X)


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
    architecture : str, default="auto"
        The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
        p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
        fig. 13: ``"dnn"``, ``"conv2d_tv"``, ``"birnn"`` (time-varying), ``"conv1d"``,
        ``"conv2d"``, ``"crnn"`` (time-invariant). The last token, when dense, is the
        output layer; otherwise one is appended. Checked before any training; see
        :mod:`skmir.nn.architecture`.
        "auto" is ``"dnn"`` (d2-d2-d2-d1); frame-level networks take c2, p2, d1,
        d2 and r1 tokens (no r2, no pooling over time).
    threshold : float, default=0.5
        A label is set on a frame when its probability is at least this; for
        1-D binary labels, the second class is predicted
        (a decision parameter: change it after fitting without refitting).
    frontend : str, skmir.nn.frontends.Frontend, skmir transformer or None, default=None
        None: X is spectrogram-like, as above. Otherwise X is waveforms ``(n_clips,
        n_samples)`` or ``(n_clips, n_channels, n_samples)`` (skmir Waveforms are
        checked against the front end's ``sr``), and the representation is computed
        per batch on the training device as the network's first layers (see
        :mod:`skmir.nn.frontends`); only the waveforms are held in memory. Presets:
        ``"logmel"`` (96 bands, hop 512) and ``"logcqt"`` (84 semitones), with
        librosa's numbers and standardised per bin with the training data's
        statistics; ``"learned-mel"`` (trainable mel filters); ``"dieleman2014"``
        (a strided 1-D convolution on the samples) and ``"samplecnn"`` (Lee et al.'s
        size-3 convolutions), which give ``(1, filters)`` per frame and suit
        ``architecture="conv1d"``. A preset's ``sr`` is the waveforms' (``X.sr``), else
        22050. Or a front end instance, e.g. ``LogMel(sr=16000, n_mels=64)``, whose
        parameters are grid-searchable (``frontend__n_mels``), or a skmir
        representation transformer or Pipeline of them. With a frontend,
        ``crop_frames`` crops the waveforms on the front end's frames, ``mixup`` mixes
        waveforms, and ``gain`` and the masks act on the standardised representation.
        Frame targets have the front end's frames: ``1 + n_samples // hop_length``
        for the spectrogram presets.
    channels : int, sequence of int or "auto", default="auto"
        Filters of each convolution (c1, c2): one value, or one per conv layer.
        "auto" is 16.
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
    activation : {"relu", "leaky_relu", "tanh", "sigmoid"} or sequence, default="relu"
        Of each convolution and hidden dense layer.
    batch_norm : bool or sequence of bool, default=True
        Batch normalisation after each convolution.
    dropout : float or sequence of float, default=0.1
        After each convolution and hidden dense or recurrent layer.
    cell : {"gru", "lstm"} or sequence, default="gru"
        Of each recurrent layer.
    bidirectional : bool, "auto" or sequence of bool, default="auto"
        Of each recurrent layer; "auto" is True for the ``"birnn"`` preset only.
    global_pool : {"mean", "max"}, default="mean"
        Unused by frame-level networks, which pool nothing over time (kept
        so that clip and frame estimators share their parameters).
    freeze : int, default=0
        Must be 0: the pretrained architectures that it applies to are clip-level
        (see :class:`skmir.NeuralClassifier`).
    crop_frames : int, float, None or "auto", default="auto"
        Train on random crops of this many frames (int) or this fraction of each clip
        (float); None trains on whole clips. Prediction uses whole clips. "auto" is
        None (see the module's notes).
    gain : float, default=0.5
        Random gain: an offset in ``[-gain, gain]`` added to each training clip,
        which on log-compressed input is a loudness change (0.5 on a natural-log
        spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
        deviation). Set 0 for input that is not log-compressed.
    freq_mask : int or float, default=0.1
        SpecAugment: mask one band of up to this many bins (int) or this fraction
        (float) of each training clip.
    time_mask : int, float or "auto", default="auto"
        The same over frames; "auto" is 0 (off).
    mixup : float or "auto", default="auto"
        Mixup's alpha (0 is off); "auto" is 0 (off; when set, frame targets become
        weights in [0, 1]).
    wave_gain : float, default=0.0
        With a frontend: multiply each training waveform by a random gain of up to
        +-``wave_gain`` dB. 0 is off.
    noise_snr : float, (float, float) or None, default=None
        With a frontend: add white noise to each training waveform at a
        signal-to-noise ratio in dB drawn from this range (a number: a fixed SNR).
        None is off.
    pitch_shift : float, default=0.0
        With a frontend: shift each training waveform by up to +-``pitch_shift``
        semitones (phase vocoder and FFT resampling, as ``librosa.effects.pitch_shift``;
        the duration is kept). Targets that depend on pitch (key, chords) are not
        shifted with it. 0 is off.
    time_stretch : float, default=0.0
        With a frontend: stretch each training waveform by a rate drawn between
        ``1 / (1 + time_stretch)`` and ``1 + time_stretch`` (phase vocoder; the pitch
        is kept), with its frame targets stretched by the same rate. A clip sped up
        must keep the frames trained on (frame targets cannot be padded): with
        whole clips, refused at fit; train on crops (``crop_frames``). 0 is off.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
    batch_size : int, default=32
    max_epochs : int, default=100
        Upper bound; early stopping usually ends training well before.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training clips, stop when
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
    Attributes
    ----------
    classes_ : ndarray
        ``arange(n_labels)`` for frame targets, else the labels of a 1-D ``y``.
    y_type_ : {"frames", "binary", "multiclass"}
        Frame targets of 0/1, or 1-D binary or multiclass labels.
    single_frame_ : bool
        Whether the fit was on a 2-D X and a 1-D y (one frame per clip).
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_
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

    def predict_proba(self, X):
        """Probability of each label per frame, ``(n_clips, n_frames, n_labels)``.

        After a fit on 2-D X and 1-D labels, for a 2-D X: ``(n_clips, 2)`` (negative,
        positive class) for binary labels, ``(n_clips, n_classes)`` summing to 1 for
        multiclass labels.
        """
        return self._output(X)
