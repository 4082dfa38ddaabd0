"""Constant-Q representations: the CQT and the chromagram (the paper's sec. 3.2)."""

from skmir._representation_parameters import ChromagramParameters, CQTParameters
from skmir.representations.base import (
    BLOCK_SAMPLES,
    CQT_BLOCK_SAMPLES,
    Representation,
    magnitude,
    store,
)


class CQT(Representation, CQTParameters):
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
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1); librosa backend only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"`` calls ``librosa.cqt`` on the CPU; ``"torch"`` computes the same
        values with :class:`skmir.nn.representations.CQT` on ``device``, batch by
        batch (within 3e-6 of the maximum measured, 1e-4 tested). It needs a number
        for ``tuning``, ``res_type="soxr_hq"`` and a ``pad_mode`` among "constant",
        "reflect", "edge"; other values raise a ValueError.
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

    def _min_samples(self):
        return self.hop_length

    def _block_samples(self):
        return CQT_BLOCK_SAMPLES

    def _compute(self, X, out=None):
        import librosa

        C = librosa.cqt(X, sr=self.sr, hop_length=self.hop_length, fmin=self.fmin,
                        n_bins=self.n_bins, bins_per_octave=self.bins_per_octave,
                        tuning=self.tuning, filter_scale=self.filter_scale, norm=self.norm,
                        sparsity=self.sparsity, window=self.window, scale=self.scale,
                        pad_mode=self.pad_mode, res_type=self.res_type)
        return magnitude(C, self.power, out)


class Chromagram(Representation, ChromagramParameters):
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
        batch (within 3e-6 of the maximum measured, 1e-4 tested). It needs a number
        for ``tuning`` (the default None estimates it per clip with librosa and raises
        a ValueError with the torch backend) and a ``pad_mode`` among "constant",
        "reflect", "edge".
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
