"""Ready-made pipelines: the MFCC baseline, the log-mel front end, and the models of
:func:`skmir.model_selection.compare` and the ``skmir compare`` command.

The conventional MIR pipeline of the paper's fig. 2(a) (hand-designed MFCC features,
a summary over time and a shallow classifier) is :func:`make_mfcc_baseline`; every
model that learns from log-mel-spectrograms starts with :func:`make_logmel_frontend`.
Building a model imports torch only when the model needs it, so ``import
skmir.pipelines`` stays light.
"""

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skmir._validation import entry_point, refusal
from skmir.io import AudioLoader
from skmir.preprocessing import SpectrogramScaler, TimeSummary
from skmir.pretrained import model_card
from skmir.representations import MFCC, Chromagram, LogCompression, MelSpectrogram
from skmir.representations.named import LOGMEL
from skmir.tonality import KeyTemplateClassifier


@entry_point
def make_mfcc_baseline(classifier=None, *, sr=22050, duration=None, n_mfcc=20,
                       stats=("mean", "std"), **params):
    """The conventional baseline: AudioLoader -> MFCC -> TimeSummary -> StandardScaler -> SVC.

    Takes file paths or waveforms (the loader passes decoded audio through), so
    the same pipeline cross-validates a folder of audio and generated data. Every
    step stays grid-searchable by its name (``"audioloader"``, ``"mfcc"``,
    ``"timesummary"``, ``"standardscaler"``, ``"classifier"``).

    Parameters
    ----------
    classifier : estimator or None, default=None
        The shallow model; None means ``SVC()`` (RBF kernel, C=1).
    sr : int, default=22050
        Sample rate, shared by the loader and the MFCC so that they agree.
    duration : float or None, default=None
        Clip length in seconds for the loader; None: the longest training file,
        capped at 10 s (:class:`~skmir.AudioLoader`).
    n_mfcc : int, default=20
        Number of MFCCs.
    stats : sequence of str, default=("mean", "std")
        Statistics over time fed to the classifier.
    **params
        Further parameters of the pipeline's steps, as ``<step>__<param>``, e.g.
        ``mfcc__n_mels=64`` or ``classifier__C=10``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import make_mfcc_baseline
    >>> t = np.arange(22050) / 22050
    >>> X = np.stack([np.sin(2 * np.pi * f * t) for f in [220, 230, 880, 890]])
    >>> make_mfcc_baseline().fit(X, [0, 0, 1, 1]).predict(X)
    array([0, 0, 1, 1])
    """
    pipe = Pipeline([
        ("audioloader", AudioLoader(sr=sr, duration=duration)),
        ("mfcc", MFCC(sr=sr, n_mfcc=n_mfcc)),
        ("timesummary", TimeSummary(stats=stats)),
        ("standardscaler", StandardScaler()),
        ("classifier", SVC() if classifier is None else classifier),
    ])
    return pipe.set_params(**params)


@entry_point
def make_key_baseline(*, sr=22050, duration=None, profile="krumhansl", **params):
    """The conventional key baseline: AudioLoader -> Chromagram -> KeyTemplateClassifier.

    Chroma from the CQT (librosa's ``chroma_cqt`` with its per-clip tuning
    estimate), averaged over time and correlated with the 24 rotated key profiles
    (:class:`skmir.tonality.KeyTemplateClassifier`). Nothing is learnt: it is what a
    deep key or mode model must beat, as :func:`make_mfcc_baseline` is for genre.
    Steps: ``"audioloader"``, ``"chromagram"``, ``"classifier"``.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate, shared by the loader and the chromagram.
    duration : float or None, default=None
        Clip length in seconds for the loader (see :class:`~skmir.AudioLoader`).
    profile : {"krumhansl", "temperley"}, default="krumhansl"
        The key profiles.
    **params
        Further parameters of the steps, as ``<step>__<param>``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import make_key_baseline
    >>> t = np.arange(2 * 22050) / 22050
    >>> def chord(*midi):
    ...     return sum(np.sin(2 * np.pi * 440 * 2 ** ((m - 69) / 12) * t) for m in midi)
    >>> X = np.stack([chord(60, 64, 67, 72), chord(57, 60, 64, 69)])  # C major, A minor
    >>> make_key_baseline().fit(X, ["major", "minor"]).predict(X).tolist()
    ['major', 'minor']
    """
    pipe = Pipeline([
        ("audioloader", AudioLoader(sr=sr, duration=duration)),
        ("chromagram", Chromagram(source="cqt", sr=sr)),
        ("classifier", KeyTemplateClassifier(profile=profile)),
    ])
    return pipe.set_params(**params)


@entry_point
def make_logmel_frontend(sr=22050, n_mels=LOGMEL["n_mels"], *, log_compression=None,
                         **mel_params):
    """The log-mel front end: MelSpectrogram -> LogCompression -> SpectrogramScaler.

    The input every skmir network is trained on (the paper's sec. 3.2 and 3.3):
    a mel-spectrogram, log-compressed and standardised per mel bin with the
    training set's statistics. The steps are named ``"melspectrogram"``,
    ``"logcompression"`` and ``"spectrogramscaler"``, so in a longer pipeline
    their parameters are grid-searchable as e.g. ``melspectrogram__n_mels``.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate of the waveforms.
    n_mels : int, default=96
        Number of mel bands; the default is the named front end ``frontend="logmel"``'s
        (:class:`skmir.nn.frontends.LogMel`), defined once for both.
    log_compression : dict or None, default=None
        Parameters of :class:`skmir.LogCompression`; None keeps its defaults.
    **mel_params
        Further parameters of :class:`skmir.MelSpectrogram` (``n_fft``,
        ``hop_length``, ``fmax``, ...).

    Returns
    -------
    frontend : sklearn.pipeline.Pipeline
        Unfitted; fitting learns the scaler's per-bin mean and scale.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pipelines import make_logmel_frontend
    >>> frontend = make_logmel_frontend(sr=16000, n_mels=32)
    >>> [name for name, _ in frontend.steps]
    ['melspectrogram', 'logcompression', 'spectrogramscaler']
    >>> X = np.random.default_rng(0).standard_normal((2, 16000)).astype("float32")
    >>> frontend.fit_transform(X).shape
    (2, 32, 32)
    """
    return Pipeline([
        ("melspectrogram", MelSpectrogram(sr=sr, n_mels=n_mels, **mel_params)),
        ("logcompression", LogCompression(**(log_compression or {}))),
        ("spectrogramscaler", SpectrogramScaler()),
    ])


# Mel bands of the log-mel models of `compare` (the results quoted in the README were
# measured with them), passed explicitly to make_logmel_frontend.
COMPARE_N_MELS = 64


def _neural_pipeline(architecture, sr, **estimator_params):
    """Log-mel input -> standardisation -> NeuralClassifier with a fig. 13 structure."""
    from skmir.neural import NeuralClassifier

    return Pipeline([
        ("audioloader", AudioLoader(sr=sr)),
        *make_logmel_frontend(sr, n_mels=COMPARE_N_MELS).steps,
        ("classifier", NeuralClassifier(architecture=architecture, **estimator_params)),
    ])


def _random_weights_pipeline(sr, seed):
    """Log-mel input -> a random five-layer convnet's pooled outputs -> SVC."""
    from skmir.features import RandomWeightsFeatures

    return Pipeline([
        ("audioloader", AudioLoader(sr=sr)),
        *make_logmel_frontend(sr, n_mels=COMPARE_N_MELS).steps,
        ("randomweightsfeatures", RandomWeightsFeatures(random_state=seed)),
        ("standardscaler", StandardScaler()),
        ("classifier", SVC()),
    ])


def _transfer_pipeline(name="choi2017-tags"):
    """Audio at the shipped network's rate -> its layers' pooled outputs -> SVC."""
    from skmir.features import TransferFeatures

    return Pipeline([
        # The network was trained at its card's rate: load (or resample) to it,
        # whatever rate the other models use. TransferFeatures builds the network's
        # own front end from the card (load_pretrained).
        ("audioloader", AudioLoader(sr=model_card(name)["sr"], resample=True)),
        ("transferfeatures", TransferFeatures(name)),
        ("standardscaler", StandardScaler()),
        ("classifier", SVC()),
    ])


# Model names of `compare` and the `skmir compare --models` option. Each factory
# takes the sample rate and a seed and returns an unfitted pipeline from waveforms or
# paths; torch-side models import torch only when built.
MODELS = {
    "mfcc-svm": lambda sr, seed: make_mfcc_baseline(sr=sr),
    "random-weights": _random_weights_pipeline,
    "transfer": lambda sr, seed: _transfer_pipeline(),
    "musicnn": lambda sr, seed: _transfer_pipeline("musicnn-msd"),
    "conv1d": lambda sr, seed: _neural_pipeline("conv1d", sr, random_state=seed),
    "conv2d": lambda sr, seed: _neural_pipeline("conv2d", sr, random_state=seed),
    "crnn": lambda sr, seed: _neural_pipeline("crnn", sr, random_state=seed),
}
# What each model of MODELS is, in one line, for `skmir compare --help`.
MODEL_HELP = {
    "mfcc-svm": "the baseline: MFCC mean and std over time -> SVM",
    "random-weights": "pooled outputs of a convnet with random weights -> SVM",
    "transfer": "pooled layer outputs of the shipped choi2017-tags network -> SVM",
    "musicnn": "the same with the shipped musicnn (trained on the MSD) -> SVM, 16 kHz",
    "conv1d": "1D convnet on log-mel spectrograms, trained here (fig. 13)",
    "conv2d": "2D convnet on log-mel spectrograms, trained here (fig. 13)",
    "crnn": "convolutional recurrent network on log-mel spectrograms, trained here",
}
DEFAULT_MODELS = ("mfcc-svm", "random-weights", "transfer", "conv1d", "conv2d", "crnn")
BASELINE = "mfcc-svm"


@entry_point
def make_models(names=DEFAULT_MODELS, *, sr=22050, random_state=0):
    """Build the named models of :data:`MODELS` (for ``compare`` and the command).

    Parameters
    ----------
    names : sequence of str, str or "default", default=DEFAULT_MODELS
        Model names, or one comma-separated string of them; ``"default"`` means
        :data:`DEFAULT_MODELS`.
    sr : int, default=22050
        Sample rate every model's loader and representation use.
    random_state : int, default=0
        Seed of the models that have one.

    Returns
    -------
    models : dict of str to estimator

    Examples
    --------
    >>> from skmir.pipelines import make_models
    >>> list(make_models(["mfcc-svm"], sr=16000))
    ['mfcc-svm']
    """
    if isinstance(names, str):
        names = DEFAULT_MODELS if names == "default" else [n.strip() for n in names.split(",")]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise ValueError(refusal(None, "names", list(names), f"unknown model name(s) "
                                 f"{unknown or names!r}; available models are "
                                 f"{', '.join(MODELS)}."))
    return {name: MODELS[name](sr, random_state) for name in names}


__all__ = ["BASELINE", "DEFAULT_MODELS", "MODELS", "MODEL_HELP", "make_logmel_frontend",
           "make_mfcc_baseline", "make_models"]
