"""Baselines that deep models are measured against.

The conventional MIR pipeline of the paper's fig. 2(a): hand-designed features
(MFCC), a summary over time and a shallow classifier.
"""

from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skmir.io import AudioLoader
from skmir.preprocessing import TimeSummary
from skmir.representations import MFCC


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
        Clip length in seconds for the loader (None keeps the longest clip).
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
