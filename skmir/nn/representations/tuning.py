"""librosa's tuning estimate per clip, in torch: :func:`estimate_tuning` (of a
spectrogram, ``librosa.estimate_tuning(S=...)``), :func:`estimate_tuning_of_waveforms`
(``librosa.estimate_tuning(y=...)``), and the stage ``"tuned_matmul"``
(:class:`TunedMatMul`) that applies the filterbank of each clip's tuning.

librosa's steps, in its dtypes and order: ``piptrack`` (parabolic interpolation of
the local maxima of each frame above a tenth of its peak, between 150 and 4000 Hz),
the median magnitude of the pitches found, then ``pitch_tuning``: the histogram, at
a resolution of 0.01 bin, of the deviations of the pitches at or above that median
from the nearest bin, whose fullest bin's left edge is the tuning.
"""

from functools import lru_cache

import numpy as np
import torch

from skmir.nn.representations.common import as_float32
from skmir.nn.representations.stages import Stage

#: ``librosa.pitch_tuning``'s resolution (fraction of a bin) in ``estimate_tuning``.
RESOLUTION = 0.01


def tuning_edges(resolution=RESOLUTION):
    """The edges of ``librosa.pitch_tuning``'s histogram: a tuning is one of their
    left edges.

    Examples
    --------
    >>> from skmir.nn.representations.tuning import tuning_edges
    >>> edges = tuning_edges()
    >>> len(edges), float(edges[0]), float(edges[-1])
    (101, -0.5, 0.5)
    """
    return np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)


def peaks(S, sr, n_fft, fmin=150.0, fmax=4000.0, threshold=0.1):
    """The peaks ``librosa.piptrack(S=S, sr=sr, n_fft=n_fft)`` finds, as lists.

    Only the bins between ``fmin`` and ``fmax`` and their neighbours are read, and
    the interpolation is computed at the peaks only, with librosa's operations.

    Parameters
    ----------
    S : Tensor of shape (..., 1 + n_fft // 2, n_frames)
        A magnitude or power spectrogram.
    sr : number
    n_fft : int
        Even, as librosa's ``piptrack`` of a spectrogram.
    fmin, fmax, threshold : float
        As librosa's.

    Returns
    -------
    index : tuple of Tensor
        The peaks' indices into ``S`` (as ``nonzero(as_tuple=True)``).
    pitches, mags : Tensor of float32
        librosa's interpolated frequency and magnitude of each peak.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.tuning import peaks
    >>> S = torch.zeros(1025, 1)
    >>> S[20:23, 0] = torch.tensor([0.5, 1.0, 0.5])
    >>> index, pitches, mags = peaks(S, 22050, 2048)
    >>> index[0].tolist(), pitches.tolist(), mags.tolist()
    ([21], [226.0986328125], [1.0])
    """
    S = as_float32(S).abs()
    freqs = np.fft.rfftfreq(n_fft, d=1.0 / sr)
    band = np.flatnonzero((max(fmin, 0) <= freqs) & (freqs < min(fmax, float(sr) / 2)))
    band = band[band > 0]  # librosa's local maximum is never at the first bin
    empty = S.new_zeros(0)
    if not band.size:
        return tuple(empty.long() for _ in range(S.ndim)), empty, empty
    # The band stops below sr / 2, the last bin for an even n_fft (librosa's, from a
    # spectrogram): each bin of it has two neighbours.
    lo, hi = int(band[0]), min(int(band[-1]) + 1, S.shape[-2] - 1)
    ref = threshold * S.amax(dim=-2, keepdim=True)
    near = S[..., lo - 1:hi + 1, :]
    Sm = near * (near > ref)
    centre = Sm[..., 1:-1, :]
    index = list(((centre > Sm[..., :-2, :]) & (centre >= Sm[..., 2:, :])).nonzero(
        as_tuple=True))
    k = index[-2] + lo
    left, mid, right = (S[(*index[:-2], k + j, index[-1])] for j in (-1, 0, 1))
    avg = (right - left) / 2.0  # np.gradient's central difference
    # librosa's numba stencil adds in float32 and doubles and halves in float64.
    a = (right + left).double() - 2 * mid.double()
    b = (right - left).double() / 2
    shift = torch.where(b.abs() >= a.abs(), torch.zeros_like(a), -b / a).float()
    pitch = ((k.double() + shift.double()) * float(sr) / n_fft).float()
    index[-2] = k
    return tuple(index), pitch, mid + 0.5 * avg * shift


def piptrack(S, sr, n_fft, fmin=150.0, fmax=4000.0, threshold=0.1):
    """``librosa.piptrack(S=S, sr=sr, n_fft=n_fft)``: pitches and magnitudes, dense.

    Returns
    -------
    pitches, mags : Tensor of float32, shaped like S
        Zero except at the peaks (:func:`peaks`).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.tuning import piptrack
    >>> S = torch.zeros(1025, 1)
    >>> S[20:23, 0] = torch.tensor([0.5, 1.0, 0.5])
    >>> pitches, mags = piptrack(S, 22050, 2048)
    >>> float(pitches[21, 0]), float(mags[21, 0])
    (226.0986328125, 1.0)
    """
    index, pitch, mag = peaks(S, sr, n_fft, fmin, fmax, threshold)
    pitches, mags = torch.zeros_like(as_float32(S)), torch.zeros_like(as_float32(S))
    pitches[index], mags[index] = pitch, mag
    return pitches, mags


@torch.no_grad()
def estimate_tuning(S, sr, bins_per_octave=12, resolution=RESOLUTION):
    """``librosa.estimate_tuning(S=S[i], sr=sr, bins_per_octave=...)`` for each clip i.

    Parameters
    ----------
    S : Tensor of shape (n_clips, ..., 1 + n_fft // 2, n_frames)
        Magnitude or power spectrograms; a clip's channels share its estimate.
    sr : number
    bins_per_octave : int, default=12
    resolution : float, default=0.01

    Returns
    -------
    tunings : list of float
        One per clip, a left edge of :func:`tuning_edges` (0.0 where no pitch is
        found, as librosa, without its warning). The estimate is a choice, not a
        function of ``S`` with a gradient: none flows through it.

    Examples
    --------
    >>> import librosa, numpy as np, torch
    >>> from skmir.nn.representations.tuning import estimate_tuning
    >>> t = np.arange(22050) / 22050
    >>> y = np.sin(2 * np.pi * 440 * 2 ** (0.2 / 12) * t).astype("float32")
    >>> S = np.abs(librosa.stft(y))  # a tone 0.2 semitone sharp
    >>> estimate_tuning(torch.from_numpy(S)[None], 22050)
    [0.17000000000000004]
    >>> librosa.estimate_tuning(S=S, sr=22050)
    np.float64(0.17000000000000004)
    """
    n = len(S)
    index, pitch, mag = peaks(S, sr, 2 * (S.shape[-2] - 1))
    clip = index[0]
    found = pitch > 0
    keep = torch.zeros_like(found)
    for i in range(n):  # the median of a varying number of values per clip
        mine = found & (clip == i)
        values = mag[mine].sort().values
        if len(values):
            k = len(values)
            threshold = (values[(k - 1) // 2] + values[k // 2]) / 2
            keep |= mine & (mag >= threshold)
    clip, pitch = clip[keep], pitch[keep]
    # pitch_tuning, in its float32 then (np.histogram) float64 steps.
    octs = torch.log2(pitch / (440.0 / 16))
    residual = torch.remainder(bins_per_octave * octs, 1.0)
    residual = torch.where(residual >= 0.5, residual - 1.0, residual)
    edges = tuning_edges(resolution)
    n_bins = len(edges) - 1
    index = torch.searchsorted(torch.as_tensor(edges, device=S.device), residual.double(),
                               right=True) - 1
    index = index.clamp(0, n_bins - 1)
    counts = torch.bincount(clip * n_bins + index, minlength=n * n_bins).reshape(n, n_bins)
    best = counts.argmax(dim=1).tolist()
    found_any = (counts.sum(dim=1) > 0).tolist()
    return [float(edges[b]) if any_ else 0.0 for b, any_ in zip(best, found_any)]


@lru_cache(maxsize=4)
def _hann(n_fft):
    import librosa

    return torch.as_tensor(librosa.filters.get_window("hann", n_fft, fftbins=True),
                           dtype=torch.float32)


def estimate_tuning_of_waveforms(y, sr, bins_per_octave=12, n_fft=2048):
    """``librosa.estimate_tuning(y=y[i], sr=sr, bins_per_octave=...)`` for each clip i:
    :func:`estimate_tuning` of the magnitude STFT librosa's ``piptrack`` computes
    (hann window of ``n_fft``, hop ``n_fft // 4``, centred, zero padding).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.representations.tuning import estimate_tuning_of_waveforms
    >>> t = torch.arange(22050) / 22050
    >>> estimate_tuning_of_waveforms(torch.sin(2 * torch.pi * 440 * t)[None], 22050)
    [0.010000000000000009]
    """
    y = as_float32(y)
    D = torch.stft(y.reshape(-1, y.shape[-1]), n_fft, n_fft // 4,
                   window=_hann(n_fft).to(y.device), center=True, pad_mode="constant",
                   return_complex=True)
    return estimate_tuning(D.abs().reshape(*y.shape[:-1], *D.shape[-2:]), sr,
                           bins_per_octave)


class TunedMatMul(Stage):
    """``filters(tuning=t) @ x`` with each clip's own tuning ``t``, estimated from
    ``x`` (``librosa.feature.chroma_stft(tuning=None)``): stage ``"tuned_matmul"``.

    The clips' matrices are stacked and applied in one batched product; each
    tuning's matrix is built once (by ``filters``) and kept.

    Parameters
    ----------
    filters : callable
        ``filters(tuning=t)``: the matrix for tuning ``t``, e.g. a partial of
        ``librosa.filters.chroma``.
    sr : number
        Sample rate of the spectrogram ``x``.
    bins_per_octave : int
        Of the tuning estimate.

    Examples
    --------
    >>> import functools, librosa, torch
    >>> from skmir.nn.representations.tuning import TunedMatMul
    >>> stage = TunedMatMul(functools.partial(librosa.filters.chroma, sr=22050, n_fft=2048),
    ...                     sr=22050, bins_per_octave=12)
    >>> stage.forward(torch.rand(2, 1025, 5), {}, "doc").shape
    torch.Size([2, 12, 5])
    """

    def __init__(self, filters, sr, bins_per_octave):
        super().__init__(sr=sr, bins_per_octave=bins_per_octave)
        self.filters = filters
        self.matrices = {}
        self.rows = self.matrix(0.0, "cpu").shape[0]

    def matrix(self, tuning, device):
        key = (tuning, str(device))
        if key not in self.matrices:
            self.matrices[key] = torch.as_tensor(
                np.asarray(self.filters(tuning=tuning), dtype=np.float32), device=device)
        return self.matrices[key]

    def n_bins(self, n_in):
        return self.rows

    def forward(self, x, buffers, owner):
        x = as_float32(x)
        tunings = estimate_tuning(x, self.params["sr"], self.params["bins_per_octave"])
        mats = torch.stack([self.matrix(t, x.device) for t in tunings])
        return torch.matmul(mats.reshape(len(x), *(1,) * (x.ndim - 3), *mats.shape[1:]), x)


__all__ = ["RESOLUTION", "TunedMatMul", "estimate_tuning", "estimate_tuning_of_waveforms",
           "peaks", "piptrack", "tuning_edges"]
