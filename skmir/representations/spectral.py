"""Representations computed from the STFT: magnitude STFT, mel-spectrogram and MFCC
(the paper's sec. 3.2)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from skmir.representations.base import (
    EXECUTION,
    INT_POS,
    PAD_MODES,
    POSITIVE,
    WINDOW,
    Representation,
    magnitude,
    stft_stage,
    store,
)
from skmir.representations.compression import LogCompression


class STFT(Representation):
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
        Clips processed in parallel (joblib; None means 1); librosa backend only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"`` calls librosa on the CPU; ``"torch"`` computes the same values
        (within 1e-4 of the maximum, float32) with
        :class:`skmir.nn.representations.STFT` on ``device``, batch by batch.
    device : str, default="auto"
        Torch backend only: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import STFT
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> STFT(n_fft=1024, hop_length=512).fit_transform(X).shape
    (2, 513, 44)
    """

    _parameter_constraints = {
        "n_fft": [INT_POS],
        "hop_length": [INT_POS, None],
        "win_length": [INT_POS, None],
        "window": WINDOW,
        "center": ["boolean"],
        "pad_mode": [PAD_MODES],
        "power": [POSITIVE],
        **EXECUTION,
    }

    def __init__(self, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=1.0, n_jobs=None, backend="librosa",
                 device="auto"):
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.win_length = win_length
        self.window = window
        self.center = center
        self.pad_mode = pad_mode
        self.power = power
        self.n_jobs = n_jobs
        self.backend = backend
        self.device = device

    def _validate_params(self):
        super()._validate_params()
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(
                f"{type(self).__name__}: win_length={self.win_length} must be at most "
                f"n_fft={self.n_fft}.")

    def _stft_stages(self):
        return [stft_stage(self.n_fft, self.hop_length, self.win_length, self.window,
                           self.center, self.pad_mode), ("magnitude", {"power": self.power})]

    def torch_stages(self):
        """The torch computation: ``[stft, magnitude]``."""
        return self._stft_stages()

    def _compute(self, X, out=None):
        import librosa

        S = librosa.stft(X, n_fft=self.n_fft, hop_length=self.hop_length,
                         win_length=self.win_length, window=self.window,
                         center=self.center, pad_mode=self.pad_mode)
        return magnitude(S, self.power, out)


class MelSpectrogram(STFT):
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
        Clips processed in parallel (joblib; None means 1); librosa backend only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"`` calls librosa on the CPU; ``"torch"`` computes the same values
        (within 1e-4 of the maximum, float32) with
        :class:`skmir.nn.representations.MelSpectrogram` on ``device``, batch by batch.
    device : str, default="auto"
        Torch backend only: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import MelSpectrogram
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> MelSpectrogram(n_mels=64).fit_transform(X).shape
    (2, 64, 44)
    """

    _parameter_constraints = {
        **STFT._parameter_constraints,
        "sr": [INT_POS],
        "hop_length": [INT_POS],
        "n_mels": [INT_POS],
        "fmin": [Interval(Real, 0, None, closed="left")],
        "fmax": [POSITIVE, None],
        "htk": ["boolean"],
        "norm": [StrOptions({"slaney"}), Real, None],
    }

    def __init__(self, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
                 fmax=None, htk=False, norm="slaney", n_jobs=None, backend="librosa",
                 device="auto"):
        super().__init__(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode, power=power,
                         n_jobs=n_jobs, backend=backend, device=device)
        self.sr = sr
        self.n_mels = n_mels
        self.fmin = fmin
        self.fmax = fmax
        self.htk = htk
        self.norm = norm

    def _mel_stages(self):
        import librosa

        basis = librosa.filters.mel(sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels,
                                    fmin=self.fmin, fmax=self.fmax, htk=self.htk,
                                    norm=self.norm)
        return [*self._stft_stages(), ("matmul", {"matrix": basis, "name": "mel_basis"})]

    def torch_stages(self):
        """The torch computation: ``[stft, magnitude, matmul(mel filterbank)]``."""
        return self._mel_stages()

    def _mel_kwargs(self):
        return dict(sr=self.sr, n_fft=self.n_fft, hop_length=self.hop_length,
                    win_length=self.win_length, window=self.window, center=self.center,
                    pad_mode=self.pad_mode, power=self.power, n_mels=self.n_mels,
                    fmin=self.fmin, fmax=self.fmax, htk=self.htk, norm=self.norm)

    def _compute(self, X, out=None):
        import librosa

        return store(librosa.feature.melspectrogram(y=X, **self._mel_kwargs()), out)


class MFCC(MelSpectrogram):
    """Mel-frequency cepstral coefficients, ``librosa.feature.mfcc``.

    The conventional feature of the paper's fig. 2(a) and the baseline every deep
    model here is compared with: the DCT of the log-power mel-spectrogram. Its dB
    step clips at 80 dB below each clip's own peak (``librosa.feature.mfcc`` measures
    from the peak of the whole array it is given), so a clip's MFCC never depends on
    the clips next to it.

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
        Clips processed in parallel (joblib; None means 1); librosa backend only.
    backend : {"librosa", "torch"}, default="librosa"
        ``"librosa"`` calls librosa on the CPU; ``"torch"`` computes the same values
        (within 1e-4 of the maximum, float32) with
        :class:`skmir.nn.representations.MFCC` on ``device``, batch by batch.
    device : str, default="auto"
        Torch backend only: "cpu", "cuda", "cuda:N", or "auto" (CUDA when available).

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
        "n_mfcc": [INT_POS],
        "dct_type": [Options(Integral, {1, 2, 3})],
        "dct_norm": [StrOptions({"ortho"}), None],
        "lifter": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, sr=22050, n_mfcc=20, dct_type=2, dct_norm="ortho", lifter=0,
                 n_fft=2048, hop_length=512, win_length=None, window="hann", center=True,
                 pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney", n_jobs=None, backend="librosa", device="auto"):
        super().__init__(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                         window=window, center=center, pad_mode=pad_mode, power=power,
                         n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm,
                         n_jobs=n_jobs, backend=backend, device=device)
        self.n_mfcc = n_mfcc
        self.dct_type = dct_type
        self.dct_norm = dct_norm
        self.lifter = lifter

    def torch_stages(self):
        """The torch computation: the mel stages, ``db`` (LogCompression's dB defaults,
        those of ``librosa.feature.mfcc``'s ``power_to_db``), ``matmul(DCT)``."""
        import scipy.fft

        # dct(S, axis=-2) is linear in S: its matrix is the DCT of the identity.
        dct = scipy.fft.dct(np.eye(self.n_mels), type=self.dct_type, norm=self.dct_norm,
                            axis=0)[:self.n_mfcc]
        if self.lifter > 0:
            lift = 1 + (self.lifter / 2) * np.sin(np.pi * np.arange(1, 1 + self.n_mfcc)
                                                  / self.lifter)
            dct = dct * lift[:, None]
        return [*self._mel_stages(), *LogCompression(method="db").torch_stages(),
                ("matmul", {"matrix": dct, "name": "dct_matrix"})]

    def _compute(self, X, out=None):
        import librosa

        # librosa.feature.mfcc(y=X) clips power_to_db at top_db=80 below the peak of
        # the whole block it is given, so a quiet clip's MFCC would depend on its
        # neighbours: the same steps here, with each clip's own peak.
        S = librosa.power_to_db(librosa.feature.melspectrogram(y=X, **self._mel_kwargs()),
                                top_db=None)
        peak = S.reshape(len(S), -1).max(axis=1).reshape((-1,) + (1,) * (S.ndim - 1))
        np.maximum(S, peak - 80.0, out=S)
        return store(librosa.feature.mfcc(S=S, n_mfcc=self.n_mfcc, dct_type=self.dct_type,
                                           norm=self.dct_norm, lifter=self.lifter), out)
