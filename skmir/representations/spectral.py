"""Representations computed from the STFT: magnitude STFT, mel-spectrogram and MFCC
(the paper's sec. 3.2), and madmom's logarithmically filtered spectrogram (the input of
BeatNet and of madmom's beat networks)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, Options, StrOptions

from skmir._validation import refusal
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


def logarithmic_filterbank(sr, frame_size, num_bands=12, fmin=30.0, fmax=17000.0, fref=440.0,
                           norm_filters=True, unique_filters=True):
    """madmom's ``LogarithmicFilterbank`` for the STFT of ``frame_size``-sample frames.

    Overlapping triangular filters centred on the FFT bins nearest to the frequencies
    ``fref * 2 ** (k / num_bands)`` between ``fmin`` and ``fmax`` (``num_bands`` per
    octave), as madmom builds them (``madmom.audio.filters``, re-derived by
    madmom-infer 0.2.0): the FFT bins are madmom's, ``frame_size // 2`` of them at
    ``k * sr / (2 * (frame_size // 2))`` Hz (for an odd ``frame_size`` a little above
    the true ``k * sr / frame_size``, as madmom computes them); bins that two
    frequencies share are merged (``unique_filters``); each filter is float32 and,
    with ``norm_filters``, divided by its sum in float32.

    Parameters
    ----------
    sr : int
    frame_size : int
    num_bands : int, default=12
        Bands per octave.
    fmin, fmax, fref : float, default=30.0, 17000.0 and 440.0
        Hz.
    norm_filters, unique_filters : bool, default=True

    Returns
    -------
    filterbank : ndarray of float32, shape (frame_size // 2, n_bands)

    Examples
    --------
    >>> from skmir.representations.spectral import logarithmic_filterbank
    >>> logarithmic_filterbank(22050, 1411, 24).shape
    (705, 136)
    """
    n_bins = int(frame_size) >> 1
    bin_frequencies = np.fft.fftfreq(n_bins * 2, 1.0 / sr)[:n_bins]
    left = np.floor(np.log2(float(fmin) / fref) * num_bands)
    right = np.ceil(np.log2(float(fmax) / fref) * num_bands)
    frequencies = fref * 2.0 ** (np.arange(left, right) / float(num_bands))
    frequencies = frequencies[np.searchsorted(frequencies, fmin):]
    frequencies = frequencies[:np.searchsorted(frequencies, fmax, "right")]
    # the nearest bin of each frequency (madmom's frequencies2bins)
    bins = np.clip(bin_frequencies.searchsorted(frequencies), 1, n_bins - 1)
    bins = bins - (frequencies - bin_frequencies[bins - 1] < bin_frequencies[bins] - frequencies)
    if unique_filters:
        bins = np.unique(bins)
    filterbank = np.zeros((n_bins, max(0, len(bins) - 2)), np.float32)
    for band, (start, center, stop) in enumerate(zip(bins[:-2], bins[1:-1], bins[2:])):
        if stop - start < 2:
            center, stop = start, start + 1
        data = np.zeros(stop - start)
        data[:center - start] = np.linspace(0, 1, center - start, endpoint=False)
        data[center - start:] = np.linspace(1, 0, stop - center, endpoint=False)
        data = data.astype(np.float32)  # madmom normalises in float32
        if norm_filters:
            data = data / np.sum(data)
        filterbank[start:stop, band] = data[:n_bins - start]
    return filterbank


class LogFilteredSpectrogram(Representation):
    """madmom's logarithmically filtered log-magnitude spectrogram, optionally with its
    positive first difference: the input of BeatNet and of madmom's beat networks.

    As madmom's ``FramedSignalProcessor`` -> ``ShortTimeFourierTransformProcessor`` ->
    ``FilteredSpectrogramProcessor`` -> ``LogarithmicSpectrogramProcessor`` (->
    ``SpectrogramDifferenceProcessor(stack_diffs=np.hstack)``), in numpy (re-derived
    from madmom-infer 0.2.0, BSD-2, and tested against it within 1e-4):

    1. frames of ``frame_size`` samples every ``hop_size``, frame ``i`` centred on
       sample ``i * hop_size`` (zeros outside the clip), ``ceil(n_samples /
       hop_size)`` frames (madmom's ``end="normal"``);
    2. a Hann window (``np.hanning(frame_size)``), the FFT's first ``frame_size // 2``
       bins, their magnitude;
    3. :func:`logarithmic_filterbank` (``num_bands`` triangular filters per octave);
    4. ``log10(mul * S + add)``;
    5. with ``stack_diffs``: the difference of each frame with the frame
       ``diff_frames`` before it (0 for the first ``diff_frames`` frames), where
       ``diff_frames = max(1, round((frame_size / 2 - first window sample above
       diff_ratio of its peak) / hop_size))`` (1 for BeatNet's), clipped at 0 with
       ``positive_diffs``, stacked after the bands.

    Parameters
    ----------
    sr : int, default=22050
        Sample rate of the waveforms (checked against ``X.sr`` when X carries one).
    frame_size : int, default=2048
        Samples per frame (madmom's default; BeatNet's 64 ms at 22.05 kHz is 1411).
    hop_size : int, default=441
        Samples between frames (BeatNet's 20 ms at 22.05 kHz).
    num_bands : int, default=12
        Bands per octave.
    fmin, fmax : float, default=30.0 and 17000.0
        Frequency range in Hz.
    fref : float, default=440.0
        Reference frequency of the bands in Hz.
    norm_filters : bool, default=True
        Each filter sums to 1.
    unique_filters : bool, default=True
        Merge the bands that fall on the same FFT bins.
    mul, add : float, default=1.0 and 1.0
        ``log10(mul * S + add)``.
    stack_diffs : bool, default=False
        Append the first difference (as many rows again).
    diff_ratio : float, default=0.5
        How far back the difference reaches (see above).
    positive_diffs : bool, default=False
        Keep the positive part of the difference only (BeatNet: True).
    n_jobs : int or None, default=None
        Clips processed in parallel (joblib; None means 1).

    Notes
    -----
    numpy only (no ``backend="torch"``). For an odd ``frame_size`` the FFT keeps
    ``frame_size // 2`` bins and madmom's bin frequencies, as madmom does.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import LogFilteredSpectrogram
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> beatnet = LogFilteredSpectrogram(frame_size=1411, num_bands=24, stack_diffs=True,
    ...                                  positive_diffs=True)
    >>> beatnet.fit_transform(X).shape  # 136 bands and their differences, 50 frames/s
    (2, 272, 50)
    """

    _parameter_constraints = {
        "sr": [INT_POS],
        "frame_size": [Interval(Integral, 2, None, closed="left")],
        "hop_size": [INT_POS],
        "num_bands": [INT_POS],
        "fmin": [POSITIVE],
        "fmax": [POSITIVE],
        "fref": [POSITIVE],
        "norm_filters": ["boolean"],
        "unique_filters": ["boolean"],
        "mul": [POSITIVE],
        "add": [Interval(Real, 0, None, closed="left")],
        "stack_diffs": ["boolean"],
        "diff_ratio": [Interval(Real, 0, 1, closed="both")],
        "positive_diffs": ["boolean"],
        "n_jobs": EXECUTION["n_jobs"],
    }
    #: numpy only: :class:`Representation` runs torch stages for ``backend="torch"``
    backend = "numpy"
    # frames per FFT call: bounds the float64 frames of a long clip (1411 samples x
    # 2048 frames = 23 MB)
    _FRAMES_PER_FFT = 2048

    def __init__(self, sr=22050, frame_size=2048, hop_size=441, num_bands=12, fmin=30.0,
                 fmax=17000.0, fref=440.0, norm_filters=True, unique_filters=True, mul=1.0,
                 add=1.0, stack_diffs=False, diff_ratio=0.5, positive_diffs=False,
                 n_jobs=None):
        self.sr = sr
        self.frame_size = frame_size
        self.hop_size = hop_size
        self.num_bands = num_bands
        self.fmin = fmin
        self.fmax = fmax
        self.fref = fref
        self.norm_filters = norm_filters
        self.unique_filters = unique_filters
        self.mul = mul
        self.add = add
        self.stack_diffs = stack_diffs
        self.diff_ratio = diff_ratio
        self.positive_diffs = positive_diffs
        self.n_jobs = n_jobs

    def _validate_params(self):
        super()._validate_params()
        owner = type(self).__name__
        if not self.fmin < self.fmax:
            raise ValueError(refusal(owner, "fmin", self.fmin,
                                     f"must be below fmax = {self.fmax!r} (Hz)."))
        if self.filterbank().shape[1] < 1:
            raise ValueError(refusal(owner, "num_bands", self.num_bands,
                                     f"no band between fmin = {self.fmin!r} and fmax = "
                                     f"{self.fmax!r} Hz at frame_size = {self.frame_size} "
                                     "(three distinct FFT bins are needed for one band)."))

    def torch_stages(self):
        """Refused: this representation is computed by numpy only."""
        raise ValueError(refusal(type(self).__name__, "backend", "torch",
                                 "numpy only: this representation has no torch stages."))

    def _min_samples(self):
        return 1

    def filterbank(self):
        """The filterbank (:func:`logarithmic_filterbank`), ``(frame_size // 2, n_bands)``."""
        return logarithmic_filterbank(self.sr, self.frame_size, self.num_bands, self.fmin,
                                      self.fmax, self.fref, self.norm_filters,
                                      self.unique_filters)

    def diff_frames(self):
        """Frames between a frame and the one it is differenced with (madmom's rule)."""
        window = np.hanning(self.frame_size)
        sample = np.argmax(window > float(self.diff_ratio) * np.max(window))
        return int(max(1, round((len(window) / 2 - sample) / self.hop_size)))

    def n_frames(self, n_samples):
        """Frames of a clip of ``n_samples``: ``ceil(n_samples / hop_size)``."""
        return -(-int(n_samples) // int(self.hop_size))

    def _compute(self, X, out=None):
        n_samples = X.shape[-1]
        flat = X.reshape(-1, n_samples)
        hop, size = int(self.hop_size), int(self.frame_size)
        n_frames = self.n_frames(n_samples)
        filterbank = self.filterbank()
        window = np.hanning(size)
        # frame i spans samples [i * hop - size // 2, ... + size), zeros outside the clip
        left = size // 2
        right = max(0, (n_frames - 1) * hop - left + size - n_samples)
        padded = np.zeros((len(flat), left + n_samples + right), np.float32)
        padded[:, left:left + n_samples] = flat
        frames = np.lib.stride_tricks.sliding_window_view(padded, size, axis=1)[:, ::hop]
        spec = np.empty((len(flat), n_frames, filterbank.shape[1]), np.float32)
        for a in range(0, n_frames, self._FRAMES_PER_FFT):
            b = min(n_frames, a + self._FRAMES_PER_FFT)
            magnitude = np.abs(np.fft.rfft(frames[:, a:b] * window, axis=-1)[..., :size >> 1])
            spec[:, a:b] = magnitude.astype(np.float32) @ filterbank
        spec *= np.float32(self.mul)
        spec += np.float32(self.add)
        np.log10(spec, out=spec)
        if self.stack_diffs:
            d = self.diff_frames()
            diff = np.zeros_like(spec)
            diff[:, d:] = spec[:, d:] - spec[:, :-d]
            if self.positive_diffs:
                np.maximum(diff, 0, out=diff)
            spec = np.concatenate([spec, diff], axis=2)
        result = spec.transpose(0, 2, 1).reshape(*X.shape[:-1], spec.shape[2], n_frames)
        return store(result, out)
