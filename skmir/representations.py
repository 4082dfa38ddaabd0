"""Time-frequency representations of the paper's sec. 3.2 as sklearn transformers.

Each transformer takes waveforms ``(n_clips, n_samples)`` (or with a channel axis,
``(n_clips, n_channels, n_samples)``) and returns float32
``(n_clips, n_bins, n_frames)`` (``(n_clips, n_channels, n_bins, n_frames)``), the
values of the librosa function of the same name called with the same parameters.
Parameter names and defaults are librosa's. The transforms are stateless: ``fit``
only checks its input, and a fitted transformer accepts clips of any length.
"""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, Options, StrOptions
from threadpoolctl import threadpool_limits

from skmir._validation import check_waveforms, librosa_errors

# Samples per librosa call: small enough that a block's temporaries (the complex STFT)
# stay in cache-friendly megabytes instead of growing with the dataset, large enough to
# amortise librosa's per-call costs. The CQT builds its filters at every call, so it
# takes larger blocks (measured in benchmarks/bench_representations.py).
_BLOCK_SAMPLES = 2**20
_CQT_BLOCK_SAMPLES = 2**22

_window = [str, tuple, callable, np.ndarray]
_int_pos = Interval(Integral, 1, None, closed="left")
_pad_modes = StrOptions({"constant", "edge", "linear_ramp", "reflect", "symmetric", "empty"})


class _Representation(TransformerMixin, BaseEstimator):
    """Shared machinery: validation, blocking over clips, joblib parallelism."""

    def fit(self, X, y=None):
        """Check the parameters and the waveforms; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
            Waveforms.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        check_waveforms(self, X, reset=True, min_samples=self._min_samples(), sr=self._sr())
        return self

    def transform(self, X):
        """Compute the representation of every clip.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or (n_clips, n_channels, n_samples)
            Waveforms (float32 is used as is; other dtypes are converted).

        Returns
        -------
        S : ndarray of float32, shape (n_clips, [n_channels,] n_bins, n_frames)
        """
        self._validate_params()
        X = check_waveforms(self, X, reset=None, min_samples=self._min_samples(), sr=self._sr())
        name = type(self).__name__
        # The first clip runs here: it tells the output's shape before any worker starts.
        first = _compute_block(self, X[:1], name)
        out = np.empty((len(X), *first.shape[1:]), dtype=np.float32)
        out[0] = first[0]
        n_jobs = effective_n_jobs(self.n_jobs)
        blocks = _blocks(1, len(X), X[0].size, n_jobs, self._block_samples())
        if n_jobs == 1 or len(blocks) < 2:
            for s in blocks:
                _compute_block(self, X[s], name, out[s])
            return out
        # Threads, not processes: librosa's FFTs, filterbanks and resamplers release
        # the GIL, and threads write straight into `out`, where processes would copy
        # every input and output across (measured in benchmarks/). One BLAS thread
        # per worker keeps n_jobs threads from each starting a BLAS pool.
        with threadpool_limits(1):
            Parallel(n_jobs=n_jobs, require="sharedmem")(
                delayed(_compute_block)(self, X[s], name, out[s]) for s in blocks
            )
        return out

    def _sr(self):
        return getattr(self, "sr", None)

    def _min_samples(self):
        return self.n_fft

    def _block_samples(self):
        return _BLOCK_SAMPLES

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _blocks(start, stop, n_samples, n_jobs, block_samples=_BLOCK_SAMPLES):
    """Split clips [start, stop) into blocks of at most block_samples samples, and at
    least one block per job."""
    per_block = max(1, block_samples // max(n_samples, 1))
    n_blocks = max(-(-(stop - start) // per_block), min(stop - start, n_jobs))
    bounds = np.linspace(start, stop, n_blocks + 1).astype(int)
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def _compute_block(rep, X, name, out=None):
    """The representation of the clips X, written into ``out`` when given."""
    with librosa_errors(name), np.errstate(divide="ignore", invalid="ignore"):
        if getattr(rep, "tuning", 0.0) is None:
            # librosa estimates one tuning for the whole array it is given: clip by
            # clip, so that a clip's values never depend on its neighbours.
            if out is None:
                return np.stack([rep._compute(x[None])[0] for x in X])
            for i in range(len(X)):
                rep._compute(X[i:i + 1], out[i:i + 1])
            return out
        return rep._compute(X, out)


def _store(result, out):
    if out is None:
        return np.asarray(result, dtype=np.float32)
    out[...] = result
    return out


def _magnitude(S, power, out):
    """``|S| ** power`` as float32, computed in place in ``out`` when given."""
    mag = np.abs(S, out=out) if out is not None else np.abs(S).astype(np.float32, copy=False)
    if power != 1:
        mag **= power
    return mag


_stft_constraints = {
    "n_fft": [_int_pos],
    "hop_length": [_int_pos, None],
    "win_length": [_int_pos, None],
    "window": _window,
    "center": ["boolean"],
    "pad_mode": [_pad_modes],
    "power": [Interval(Real, 0, None, closed="neither")],
    "n_jobs": [Integral, None],
}


class STFT(_Representation):
    """Magnitude short-time Fourier transform, ``|librosa.stft(y)| ** power``.

    The paper's STFT representation (sec. 3.2): linear frequency, ``1 + n_fft // 2``
    bins.

    Parameters
    ----------
    n_fft : int, default=2048
        FFT size; clips must have at least this many samples.
    hop_length : int or None, default=None
        Samples between frames; None means ``win_length // 4``.
    win_length : int or None, default=None
        Window length; None means ``n_fft``.
    window : str, tuple, callable or ndarray, default="hann"
        Window, as :func:`scipy.signal.get_window` takes it.
    center : bool, default=True
        Pad so that frame ``t`` is centred at ``t * hop_length``.
    pad_mode : str, default="constant"
        Padding used when ``center``.
    power : float, default=1.0
        Exponent of the magnitude: 1 for magnitude, 2 for power.
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import STFT
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> STFT(n_fft=1024, hop_length=512).fit_transform(X).shape
    (2, 513, 44)
    """

    _parameter_constraints = dict(_stft_constraints)

    def __init__(self, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=1.0, n_jobs=None):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.n_jobs = n_jobs

    def _compute(self, X, out=None):
        import librosa

        S = librosa.stft(X, n_fft=self.n_fft, hop_length=self.hop_length,
                         win_length=self.win_length, window=self.window,
                         center=self.center, pad_mode=self.pad_mode)
        return _magnitude(S, self.power, out)


class MelSpectrogram(_Representation):
    """Mel-scaled power spectrogram, ``librosa.feature.melspectrogram``.

    The paper's mel-spectrogram (sec. 3.2), the most common input of deep MIR
    models. ``htk=True`` uses the HTK formula ``m = 2595 log10(1 + f / 700)``;
    ``htk=False`` the Slaney (auditory toolbox) scale, linear below 1 kHz.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate of the waveforms (checked against ``X.sr`` when X carries one).
    n_fft : int, default=2048
        FFT size; clips must have at least this many samples.
    hop_length : int, default=512
        Samples between frames.
    win_length : int or None, default=None
        Window length; None means ``n_fft``.
    window : str, tuple, callable or ndarray, default="hann"
        Window function.
    center : bool, default=True
        Centre the frames.
    pad_mode : str, default="constant"
        Padding used when ``center``.
    power : float, default=2.0
        Exponent of the magnitude before the mel filterbank (2 = power).
    n_mels : int, default=128
        Number of mel bands.
    fmin : float, default=0.0
        Lowest frequency (Hz).
    fmax : float or None, default=None
        Highest frequency (Hz); None means ``sr / 2``.
    htk : bool, default=False
        HTK formula instead of Slaney's.
    norm : {"slaney"}, float or None, default="slaney"
        Normalisation of the mel filters.
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import MelSpectrogram
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> MelSpectrogram(n_mels=64).fit_transform(X).shape
    (2, 64, 44)
    """

    _parameter_constraints = {
        **_stft_constraints,
        "sr": [_int_pos],
        "hop_length": [_int_pos],
        "power": [Interval(Real, 0, None, closed="neither")],
        "n_mels": [_int_pos],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [Interval(Real, 0, None, closed="neither"), None],
        "htk": ["boolean"],
        "norm": [StrOptions({"slaney"}), Real, None],
    }

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
                 fmax=None, htk=False, norm="slaney", n_jobs=None):
        self.sr = sr
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.norm = norm
        self.n_jobs = n_jobs

    def _mel_kwargs(self):
        return dict(sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                    win_length=self.win_length, window=self.window, center=self.center,
                    pad_mode=self.pad_mode, power=self.power, n_mels=self.n_mels,
                    fmin=self.fmin, fmax=self.fmax, htk=self.htk, norm=self.norm)

    def _compute(self, X, out=None):
        import librosa

        return _store(librosa.feature.melspectrogram(y=X, **self._mel_kwargs()), out)


class MFCC(MelSpectrogram):
    """Mel-frequency cepstral coefficients, ``librosa.feature.mfcc``.

    The conventional feature of the paper's fig. 2(a) and the baseline every deep
    model here is compared with: the DCT of the log-power mel-spectrogram.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate of the waveforms.
    n_mfcc : int, default=20
        Number of coefficients.
    dct_type : {1, 2, 3}, default=2
        DCT type.
    dct_norm : {"ortho"} or None, default="ortho"
        DCT normalisation (librosa's ``norm`` argument of ``mfcc``).
    lifter : float, default=0
        Cepstral liftering coefficient; 0 disables it.
    n_fft, hop_length, win_length, window, center, pad_mode, power, n_mels, fmin, fmax, htk
        The mel-spectrogram's parameters, as in :class:`MelSpectrogram`.
    norm : {"slaney"}, float or None, default="slaney"
        Normalisation of the mel filters (librosa's ``mel_norm``).
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import MFCC
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> MFCC(n_mfcc=13).fit_transform(X).shape
    (2, 13, 44)
    """

    _parameter_constraints = {
        **MelSpectrogram._parameter_constraints,
        "n_mfcc": [_int_pos],
        "dct_type": [Options(Integral, {1, 2, 3})],
        "dct_norm": [StrOptions({"ortho"}), None],
        "lifter": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, sr=22050, n_mfcc=20, dct_type=2, dct_norm="ortho", lifter=0,
                 n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney", n_jobs=None):
        super().__init__(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode, power=power,
                         n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
                         n_jobs=n_jobs)
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.dct_norm = dct_norm
        self.lifter = lifter

    def _compute(self, X, out=None):
        import librosa

        kwargs = self._mel_kwargs()
        mel_norm = kwargs.pop("norm")
        return _store(librosa.feature.mfcc(y=X, n_mfcc=self.n_mfcc, dct_type=self.dct_type,
                                           norm=self.dct_norm, lifter=self.lifter,
                                           mel_norm=mel_norm, **kwargs), out)


class CQT(_Representation):
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
        Clips processed in parallel (joblib; None means 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import CQT
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> CQT(n_bins=48).fit_transform(X).shape
    (2, 48, 44)
    """

    _parameter_constraints = {
        "sr": [_int_pos],
        "hop_length": [_int_pos],
        "fmin": [Interval(Real, 0, None, closed="neither"), None],
        "n_bins": [_int_pos],
        "bins_per_octave": [_int_pos],
        "tuning": [Real, None],
        "filter_scale": [Interval(Real, 0, None, closed="neither")],
        "norm": [Interval(Real, 0, None, closed="neither"), None],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "window": _window,
        "scale": ["boolean"],
        "pad_mode": [str],
        "res_type": [str],
        "power": [Interval(Real, 0, None, closed="neither")],
        "n_jobs": [Integral, None],
    }

    def __init__(self, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12,
                 tuning=0.0, filter_scale=1, norm=1, sparsity=0.01, window="hann", scale=True,
                 pad_mode="constant", res_type="soxr_hq", power=1.0, n_jobs=None):
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
        self.n_jobs = n_jobs

    def _min_samples(self):
        return self.hop_length

    def _block_samples(self):
        return _CQT_BLOCK_SAMPLES

    def _compute(self, X, out=None):
        import librosa

        C = librosa.cqt(X, sr=self.sr, hop_length=self.hop_length, fmin=self.fmin,
                        n_bins=self.n_bins, bins_per_octave=self.bins_per_octave,
                        tuning=self.tuning, filter_scale=self.filter_scale, norm=self.norm,
                        sparsity=self.sparsity, window=self.window, scale=self.scale,
                        pad_mode=self.pad_mode, res_type=self.res_type)
        return _magnitude(C, self.power, out)


class Chromagram(_Representation):
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
        Clips processed in parallel (joblib; None means 1).

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
        "sr": [_int_pos],
        "hop_length": [_int_pos],
        "n_chroma": [_int_pos],
        "norm": [Interval(Real, 0, None, closed="neither"), Options(Real, {np.inf}), None],
        "tuning": [Real, None],
        "fmin": [Interval(Real, 0, None, closed="neither"), None],
        "n_octaves": [_int_pos],
        "bins_per_octave": [_int_pos],
        "threshold": [Interval(Real, 0, None, closed="left")],
        "n_fft": [_int_pos],
        "window": _window,
        "center": ["boolean"],
        "pad_mode": [_pad_modes],
        "n_jobs": [Integral, None],
    }

    def __init__(self, source="cqt", sr=22050, hop_length=512, n_chroma=12, norm=np.inf,
                 tuning=None, fmin=None, n_octaves=7, bins_per_octave=36, threshold=0.0,
                 n_fft=2048, window="hann", center=True, pad_mode="constant", n_jobs=None):
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

    def _min_samples(self):
        return self.n_fft if self.source == "stft" else self.hop_length

    def _block_samples(self):
        return _BLOCK_SAMPLES if self.source == "stft" else _CQT_BLOCK_SAMPLES

    def _compute(self, X, out=None):
        import librosa

        if self.source == "stft":
            return _store(librosa.feature.chroma_stft(
                y=X, sr=self.sr, hop_length=self.hop_length, n_fft=self.n_fft,
                window=self.window, center=self.center, pad_mode=self.pad_mode,
                tuning=self.tuning, n_chroma=self.n_chroma, norm=self.norm), out)
        return _store(librosa.feature.chroma_cqt(
            y=X, sr=self.sr, hop_length=self.hop_length, fmin=self.fmin, norm=self.norm,
            threshold=self.threshold, tuning=self.tuning, n_chroma=self.n_chroma,
            n_octaves=self.n_octaves, bins_per_octave=self.bins_per_octave), out)
