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
(:mod:`skmir.nn.waveform_augmentation`).

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
from skmir.neural.targets import ClassLabels, LabelIndicators, StandardisedTargets

__all__ = ["NeuralClassifier", "NeuralRegressor", "NeuralTagger"]


class NeuralClassifier(ClassifierMixin, BaseNeuralEstimator):
    """Single-label clip classifier: a network in the paper's notation with a softmax.

    Trained with cross-entropy (soft targets under mixup); labels of any type are
    encoded with a LabelEncoder.

    Parameters
    ----------
    architecture : str, default="auto"
        The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
        p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
        fig. 13: ``"dnn"``, ``"conv2d_tv"``, ``"birnn"`` (time-varying), ``"conv1d"``,
        ``"conv2d"``, ``"crnn"`` (time-invariant). The last token, when dense, is the
        output layer; otherwise one is appended. Checked before any training; see
        :mod:`skmir.nn.architecture`.
        "auto" is ``"conv2d"`` (c2-p2-c2-p2-c2-p2-d2). Or a shipped network to
        fine-tune, ``"musicnn-msd"`` or ``"musicnn-mtt"`` (trained on real music): its
        weights start the training and its output layer is replaced; it takes
        :class:`skmir.pretrained.musicnn.MusicnnLogMel` spectrograms, and the layer
        sizes below do not apply.
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
    channels : int, sequence of int or "auto", default="auto"
        Filters of each convolution (c1, c2): one value, or one per conv layer.
        "auto" is 32.
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
        How the frames left before the dense head are pooled into one vector
        per clip (frequency is kept as features).
    freeze : int, default=0
        For a pretrained architecture: how many of its first blocks keep their
        weights while the rest trains (see :class:`skmir.nn.musicnn.FineTunedMusicnn`);
        0 trains every layer. Must be 0 for an architecture string.
    crop_frames : int, float, None or "auto", default="auto"
        Train on random crops of this many frames (int) or this fraction of each clip
        (float); None trains on whole clips. Prediction uses whole clips. "auto" is
        0.5 (half of each clip).
    gain : float, default=0.5
        Random gain: an offset in ``[-gain, gain]`` added to each training clip,
        which on log-compressed input is a loudness change (0.5 on a natural-log
        spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
        deviation). Set 0 for input that is not log-compressed.
    freq_mask : int or float, default=0.1
        SpecAugment: mask one band of up to this many bins (int) or this fraction
        (float) of each training clip.
    time_mask : int, float or "auto", default="auto"
        The same over frames; "auto" is 0.1.
    mixup : float or "auto", default="auto"
        Mixup's alpha (0 is off); "auto" is 0.2 (classes become soft targets).
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
        is kept), then crop it back to the training length (a clip sped up is
        zero-padded). 0 is off.
    optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
    lr : float, default=1e-3
        Learning rate.
    weight_decay : float, default=0.0
    batch_size : int, default=32
    max_epochs : int, default=100
        Upper bound; early stopping usually ends training well before.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training clips, stratified by class, stop when
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
    sr_ : int or None
        With a frontend: the sample rate it runs at (Waveforms at another rate are
        refused); None for a raw-waveform front end fitted on plain arrays.
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

    def predict_proba(self, X):
        """Class probabilities, ``(n_clips, n_classes)`` in the order of ``classes_``."""
        return self._output(X)


class NeuralTagger(ThresholdMixin, ClassifierMixin, BaseNeuralEstimator):
    """Multi-label clip tagger: a network in the paper's notation with one sigmoid per tag.

    Trained with binary cross-entropy on a multi-label indicator ``y`` of shape
    ``(n_clips, n_tags)``. Like :class:`sklearn.multiclass.OneVsRestClassifier`, it
    also accepts 1-D labels: binary ``y`` gets one tag, multiclass ``y`` one tag per
    class (predicting the most probable class, with probabilities normalised to sum
    to 1).

    Parameters
    ----------
    architecture : str, default="auto"
        The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
        p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
        fig. 13: ``"dnn"``, ``"conv2d_tv"``, ``"birnn"`` (time-varying), ``"conv1d"``,
        ``"conv2d"``, ``"crnn"`` (time-invariant). The last token, when dense, is the
        output layer; otherwise one is appended. Checked before any training; see
        :mod:`skmir.nn.architecture`.
        "auto" is ``"conv2d"`` (c2-p2-c2-p2-c2-p2-d2). Or a shipped network to
        fine-tune, ``"musicnn-msd"`` or ``"musicnn-mtt"`` (trained on real music): its
        weights start the training and its output layer is replaced; it takes
        :class:`skmir.pretrained.musicnn.MusicnnLogMel` spectrograms, and the layer
        sizes below do not apply.
    threshold : float, default=0.5
        A tag is predicted when its probability is at least this; for 1-D binary
        labels, the second class is predicted
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
    channels : int, sequence of int or "auto", default="auto"
        Filters of each convolution (c1, c2): one value, or one per conv layer.
        "auto" is 32.
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
        How the frames left before the dense head are pooled into one vector
        per clip (frequency is kept as features).
    freeze : int, default=0
        For a pretrained architecture: how many of its first blocks keep their
        weights while the rest trains (see :class:`skmir.nn.musicnn.FineTunedMusicnn`);
        0 trains every layer. Must be 0 for an architecture string.
    crop_frames : int, float, None or "auto", default="auto"
        Train on random crops of this many frames (int) or this fraction of each clip
        (float); None trains on whole clips. Prediction uses whole clips. "auto" is
        0.5 (half of each clip).
    gain : float, default=0.5
        Random gain: an offset in ``[-gain, gain]`` added to each training clip,
        which on log-compressed input is a loudness change (0.5 on a natural-log
        spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
        deviation). Set 0 for input that is not log-compressed.
    freq_mask : int or float, default=0.1
        SpecAugment: mask one band of up to this many bins (int) or this fraction
        (float) of each training clip.
    time_mask : int, float or "auto", default="auto"
        The same over frames; "auto" is 0.1.
    mixup : float or "auto", default="auto"
        Mixup's alpha (0 is off); "auto" is 0.2 (tags become soft targets).
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
        is kept), then crop it back to the training length (a clip sped up is
        zero-padded). 0 is off.
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
        ``arange(n_tags)`` for an indicator ``y``, else the labels.
    y_type_ : {"multilabel-indicator", "binary", "multiclass"}
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_
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


class NeuralRegressor(RegressorMixin, BaseNeuralEstimator):
    """Clip regressor (e.g. tempo): a network in the paper's notation with a linear output.

    Trained with the mean squared error on targets standardised internally (each
    output to zero mean and unit variance), so the default learning rate suits
    targets of any scale; predictions are returned in the original units. Single
    (``y`` 1-D) or multiple outputs (``y`` 2-D).

    Parameters
    ----------
    architecture : str, default="auto"
        The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
        p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
        fig. 13: ``"dnn"``, ``"conv2d_tv"``, ``"birnn"`` (time-varying), ``"conv1d"``,
        ``"conv2d"``, ``"crnn"`` (time-invariant). The last token, when dense, is the
        output layer; otherwise one is appended. Checked before any training; see
        :mod:`skmir.nn.architecture`.
        "auto" is ``"conv2d"`` (c2-p2-c2-p2-c2-p2-d2). Or a shipped network to
        fine-tune, ``"musicnn-msd"`` or ``"musicnn-mtt"`` (trained on real music): its
        weights start the training and its output layer is replaced; it takes
        :class:`skmir.pretrained.musicnn.MusicnnLogMel` spectrograms, and the layer
        sizes below do not apply.
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
    channels : int, sequence of int or "auto", default="auto"
        Filters of each convolution (c1, c2): one value, or one per conv layer.
        "auto" is 32.
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
        How the frames left before the dense head are pooled into one vector
        per clip (frequency is kept as features).
    freeze : int, default=0
        For a pretrained architecture: how many of its first blocks keep their
        weights while the rest trains (see :class:`skmir.nn.musicnn.FineTunedMusicnn`);
        0 trains every layer. Must be 0 for an architecture string.
    crop_frames : int, float, None or "auto", default="auto"
        Train on random crops of this many frames (int) or this fraction of each clip
        (float); None trains on whole clips. Prediction uses whole clips. "auto" is
        0.5 (half of each clip).
    gain : float, default=0.5
        Random gain: an offset in ``[-gain, gain]`` added to each training clip,
        which on log-compressed input is a loudness change (0.5 on a natural-log
        spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
        deviation). Set 0 for input that is not log-compressed.
    freq_mask : int or float, default=0.1
        SpecAugment: mask one band of up to this many bins (int) or this fraction
        (float) of each training clip.
    time_mask : int, float or "auto", default="auto"
        The same over frames; "auto" is 0.1.
    mixup : float or "auto", default="auto"
        Mixup's alpha (0 is off); "auto" is 0 (off; targets would be mixed linearly).
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
        is kept), then crop it back to the training length (a clip sped up is
        zero-padded). 0 is off.
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
    y_mean_, y_scale_ : ndarray of shape (n_outputs,)
        The target standardisation.
    net_, history_, architecture_, input_shape_, n_outputs_, n_features_in_
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
