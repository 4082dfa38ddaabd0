"""The neural estimators' Parameters text, written once and filled in at import.

The five estimators take the same parameters, so their descriptions live here, not
in five docstrings. A class docstring names each parameter by a placeholder line,
``{name}`` alone on its line, in the order of its signature; :func:`fill_parameters`
replaces it with the entry below, followed by the entry's tail for the class's time
scale (what differs between clips and frames, e.g. what "auto" resolves to). The
class can continue an entry with its own indented lines after the placeholder (what
only it says, e.g. what mixup does to its targets). The filled docstring is plain
numpydoc; nothing is assembled when an estimator runs.
"""

import re

__all__ = ["fill_parameters"]


def _entries(text):
    """``{name: entry}`` from numpydoc-style text: a line at column 0 starts an entry
    (``name : type``, or a bare name for a tail), indented lines continue it."""
    entries = {}
    name = None
    for line in text.strip("\n").splitlines():
        if line and not line[0].isspace():
            name = line.split(" : ")[0]
            entries[name] = [line] if " : " in line else []
        else:
            entries[name].append(line)
    return {name: "\n".join(lines) for name, lines in entries.items()}


PARAMETERS = _entries('''
architecture : str, default="auto"
    The network in the paper's notation (sec. 5.4-5.7): tokens ``d1 d2 c1 c2 p1
    p2 r1 r2`` joined by ``-`` (e.g. ``"c2-p2-c2-p2-r1-r2-d1"``), or a preset of
    fig. 13: ``"dnn"``, ``"conv2d_tv"``, ``"birnn"`` (time-varying), ``"conv1d"``,
    ``"conv2d"``, ``"crnn"`` (time-invariant). The last token, when dense, is the
    output layer; otherwise one is appended. Checked before any training; see
    :mod:`skmir.nn.architecture`.
threshold : float, default=0.5
    A decision parameter: change it after fitting without refitting.
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
freeze : int, default=0
crop_frames : int, float, None or "auto", default="auto"
    Train on random crops of this many frames (int) or this fraction of each clip
    (float); None trains on whole clips. Prediction uses whole clips.
gain : float, default=0.5
    Random gain: an offset in ``[-gain, gain]`` added to each training clip,
    which on log-compressed input is a loudness change (0.5 on a natural-log
    spectrogram is about +-4.3 dB; after SpectrogramScaler, half a standard
    deviation). Set 0 for input that is not log-compressed. At most 100, in the
    input's units: the whole range of a dB spectrogram (librosa's ``top_db`` is
    80); a larger offset is no loudness change, and far larger drowns the input in
    float32.
freq_mask : int or float, default=0.1
    SpecAugment: mask one band of up to this many bins (int) or this fraction
    (float) of each training clip.
time_mask : int, float or "auto", default="auto"
    The same over frames.
mixup : float or "auto", default="auto"
    Mixup's alpha (0 is off).
wave_gain : float, default=0.0
    With a frontend: multiply each training waveform by a random gain of up to
    +-``wave_gain`` dB. 0 is off. At most 60 dB: a factor of 1000 on the amplitude
    (1e6 on the power) keeps the spectrogram of full-scale audio far below
    float32's largest value (3.4e38), which ``wave_gain=1e6`` overflows (NaN loss).
noise_snr : float, (float, float) or None, default=None
    With a frontend: add white noise to each training waveform at a
    signal-to-noise ratio in dB drawn from this range (a number: a fixed SNR).
    None is off. Each within [-20, 100] dB: at -20 dB the noise has 100 times the
    clip's power; above 100 dB it is below 16-bit audio's quantisation noise (96
    dB), no augmentation; far outside, the noise's level overflows float32.
pitch_shift : float, default=0.0
    With a frontend: shift each training waveform by up to +-``pitch_shift``
    semitones (phase vocoder and FFT resampling, as ``librosa.effects.pitch_shift``;
    the duration is kept). Each drawn shift is moved by at most 9 cents (clips of
    1 s or more at 16 kHz) to one whose FFT lengths run fast
    (:func:`skmir.nn.vocoder.snap_to_fast_lengths`). Targets that depend on pitch
    (key, chords) are not shifted with it. 0 is off. At most 12 (an octave): the
    shift resamples a clip stretched by up to 2x, so its memory stays a small
    multiple of the clip's.
time_stretch : float, default=0.0
    With a frontend: stretch each training waveform by a rate drawn between
    ``1 / (1 + time_stretch)`` and ``1 + time_stretch`` (phase vocoder; the pitch
    is kept). 0 is off. At most 1 (rates from 1/2 to 2): a slowed clip, and its
    phase vocoder's spectrogram, is then at most twice as long (4x with
    ``pitch_shift=12``); ``time_stretch=1e6`` would ask for a clip a million times
    as long. With a pitch shift, a rate is lowered by up to 1 % (clips of 1 s or
    more at 16 kHz) for the FFT lengths, as the shift is moved.
optimizer : {"adam", "adamw", "sgd"} or torch optimizer class, default="adam"
    The optimizer of the network's weights.
lr : float, default=1e-3
    Learning rate. A training whose loss or weights stop being finite (too large a
    learning rate or augmentation) stops with a ValueError naming the epoch, ``lr``
    and the augmentation strengths (:class:`skmir.nn.training.Divergence`), and
    ``fit`` keeps no network; a finite loss that grows is left to early stopping,
    which restores the best epoch's weights.
weight_decay : float, default=0.0
    The optimizer's weight decay (L2 penalty; decoupled for ``"adamw"``).
batch_size : int, default=32
    Clips per batch, in training and prediction.
max_epochs : int, default=100
    Upper bound; early stopping usually ends training well before.
early_stopping : bool, default=True
    Hold out ``validation_fraction`` of the training clips, stop when its loss has
    not improved for ``n_iter_no_change`` epochs and restore the best weights
    (also when training is interrupted with Ctrl-C). With False, all the data is
    trained on for ``max_epochs`` (no hidden split).
validation_fraction : float, default=0.1
    The fraction of the training clips held out with ``early_stopping``. With one
    class per clip the split is stratified and holds at least 3 clips of every
    class (up to a third of the data), because a stopping epoch chosen from one or
    two clips a class is chance; data too few for 2 a class are all trained on,
    stopping when the training loss stalls (as sklearn's ``MLPClassifier``), with
    a warning.
n_iter_no_change : int, default=10
    Epochs without a lower validation loss before early stopping ends training.
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
verbose : int or "auto", default="auto"
    > 0 prints skorch's epoch table, one line per epoch, and says where early
    stopping stopped; 0 is silent. "auto" prints when someone is watching: a
    terminal or a Jupyter notebook, not a log, a test run or a docs build, and
    not inside :func:`skmir.compare`, whose progress bar counts the epochs.
''')

# What an entry says at each time scale (skmir.neural.base.CLIP, FRAME): the
# values "auto" resolves to there, and what the time scale changes.
TIME_SCALE_TAILS = {
    "clip": _entries('''
architecture
    "auto" is ``"conv2d"`` (c2-p2-c2-p2-c2-p2-d2). Or a shipped network to
    fine-tune, ``"musicnn-msd"`` or ``"musicnn-mtt"`` (trained on real music): its
    weights start the training and its output layer is replaced; it takes
    :class:`skmir.pretrained.musicnn.MusicnnLogMel` spectrograms, and the layer
    sizes below do not apply.
channels
    "auto" is 32.
global_pool
    How the frames left before the dense head are pooled into one vector
    per clip (frequency is kept as features).
freeze
    For a pretrained architecture: how many of its first blocks keep their
    weights while the rest trains (see :class:`skmir.nn.musicnn.FineTunedMusicnn`);
    0 trains every layer. Must be 0 for an architecture string.
crop_frames
    "auto" is 0.5 (half of each clip).
time_mask
    "auto" is 0.1.
time_stretch
    The clip is then cropped back to the training length (a clip sped up is
    zero-padded).
'''),
    "frame": _entries('''
architecture
    "auto" is ``"dnn"`` (d2-d2-d2-d1); frame-level networks take c2, p2, d1,
    d2 and r1 tokens (no r2, no pooling over time).
frontend
    Frame targets have the front end's frames: ``1 + n_samples // hop_length``
    for the spectrogram presets.
channels
    "auto" is 16.
global_pool
    Unused by frame-level networks, which pool nothing over time (kept
    so that clip and frame estimators share their parameters).
freeze
    Must be 0: the pretrained architectures that it applies to are clip-level
    (see :class:`skmir.NeuralClassifier`).
crop_frames
    "auto" is None (see the module's notes).
time_mask
    "auto" is 0 (off).
time_stretch
    Its frame targets are stretched by the same rate. A clip sped up must keep
    the frames trained on (frame targets cannot be padded): with whole clips,
    refused at fit; train on crops (``crop_frames``).
'''),
}

_PLACEHOLDER = re.compile(r"^( *)\{(\w+)\}$", re.MULTILINE)


def fill_parameters(cls):
    """Class decorator: fill the ``{name}`` placeholder lines of ``cls.__doc__``.

    Each placeholder becomes the entry of :data:`PARAMETERS` with the tail for
    ``cls._time_scale`` (:data:`TIME_SCALE_TAILS`), indented as the placeholder.

    Parameters
    ----------
    cls : type
        A neural estimator class, with a ``_time_scale``.

    Returns
    -------
    cls : type
        The same class, its docstring filled in.

    Examples
    --------
    >>> from skmir.neural.base import FRAME
    >>> @fill_parameters
    ... class Estimator:
    ...     "{channels}"
    ...     _time_scale = FRAME
    >>> print(Estimator.__doc__)
    channels : int, sequence of int or "auto", default="auto"
        Filters of each convolution (c1, c2): one value, or one per conv layer.
        "auto" is 16.
    """
    tails = TIME_SCALE_TAILS[cls._time_scale.name]

    def entry(match):
        indent, name = match.groups()
        if name not in PARAMETERS:
            raise ValueError(f"fill_parameters: {cls.__name__}'s docstring names {{{name}}}, "
                           f"which is not one of the shared parameters {sorted(PARAMETERS)}.")
        text = "\n".join(part for part in (PARAMETERS[name], tails.get(name)) if part)
        return "\n".join(indent + line if line else line for line in text.splitlines())

    cls.__doc__ = _PLACEHOLDER.sub(entry, cls.__doc__)
    return cls
