"""The STFT-based representations and the log compression as torch modules:
:class:`STFT`, :class:`MelSpectrogram`, :class:`MFCC`, :class:`LogCompression`."""

import numpy as np
import torch
from torch import nn

from skmir._representation_parameters import (
    LogCompressionParameters,
    MelSpectrogramParameters,
    MFCCParameters,
    STFTParameters,
)
from skmir.nn.representations.common import (
    TORCH_PAD,
    adopt,
    as_float32,
    check_waveform_batch,
    magnitude,
    no_autocast,
    params_repr,
)


def _stft_window(window, win_length, n_fft):
    import librosa

    w = librosa.filters.get_window(window, win_length, fftbins=True)
    return torch.as_tensor(librosa.util.pad_center(w, size=n_fft), dtype=torch.float32)


class STFT(nn.Module):
    """Magnitude STFT, ``|librosa.stft(y)| ** power``, as a torch module.

    Parameters
    ----------
    transformer : skmir.STFT
        Its ``n_fft``, ``hop_length``, ``win_length``, ``window``, ``center``,
        ``pad_mode`` (one of "constant", "reflect", "edge") and ``power`` are the
        module's; a transformer that extends it (e.g. :class:`skmir.MelSpectrogram`)
        gives its own values of them.

    Examples
    --------
    >>> import torch
    >>> from skmir import STFT as SklearnSTFT
    >>> from skmir.nn.representations import STFT
    >>> STFT(SklearnSTFT(n_fft=1024, hop_length=512))(torch.zeros(2, 22050)).shape
    torch.Size([2, 513, 44])
    """

    def __init__(self, transformer):
        super().__init__()
        adopt(self, transformer, STFTParameters)
        win = self.n_fft if self.win_length is None else self.win_length
        self.hop = win // 4 if self.hop_length is None else self.hop_length
        self.register_buffer("fft_window", _stft_window(self.window, win, self.n_fft))

    @property
    def n_bins(self):
        """Frequency bins of the output, ``1 + n_fft // 2``."""
        return 1 + self.n_fft // 2

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        if self.center:
            return 1 + n_samples // self.hop
        return 1 + (n_samples - self.n_fft) // self.hop

    def _min_samples(self):
        if not self.center:
            return self.n_fft
        return self.n_fft // 2 + 1 if self.pad_mode == "reflect" else 1

    def complex(self, x):
        """The complex STFT ``librosa.stft(y)`` (complex64)."""
        check_waveform_batch(type(self).__name__, x, self._min_samples())
        lead = x.shape[:-1]
        with no_autocast(x):
            D = torch.stft(as_float32(x).reshape(-1, x.shape[-1]), self.n_fft, self.hop,
                           window=self.fft_window.float(), center=self.center,
                           pad_mode=TORCH_PAD[self.pad_mode], return_complex=True)
        return D.reshape(*lead, *D.shape[-2:])

    def forward(self, x):
        D = self.complex(x)
        with no_autocast(x):
            return magnitude(D, self.power)

    def extra_repr(self):
        return params_repr(self)


class MelSpectrogram(nn.Module):
    """Mel-spectrogram, ``librosa.feature.melspectrogram``, as a torch module.

    ``mel_basis @ |stft| ** power`` with the filterbank of ``librosa.filters.mel``
    (HTK or Slaney scale, librosa's ``norm``).

    Parameters
    ----------
    transformer : skmir.MelSpectrogram
        The parameters (an :class:`skmir.MFCC` gives those of its mel-spectrogram).

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import MelSpectrogram
    >>> MelSpectrogram(skmir.MelSpectrogram(n_mels=64))(torch.zeros(2, 3, 22050)).shape
    torch.Size([2, 3, 64, 44])
    """

    def __init__(self, transformer):
        super().__init__()
        adopt(self, transformer, MelSpectrogramParameters)
        import librosa

        self.stft = STFT(transformer)
        basis = librosa.filters.mel(sr=self.sr, n_fft=self.n_fft, n_mels=self.n_mels,
                                    fmin=self.fmin, fmax=self.fmax, htk=self.htk,
                                    norm=self.norm)
        self.register_buffer("mel_basis", torch.as_tensor(basis, dtype=torch.float32))

    @property
    def n_bins(self):
        """Mel bands of the output, ``n_mels``."""
        return self.n_mels

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        return self.stft.n_frames(n_samples)

    def forward(self, x):
        S = self.stft(x)
        with no_autocast(x):
            return torch.matmul(self.mel_basis.float(), S)

    def extra_repr(self):
        return params_repr(self)


class LogCompression(nn.Module):
    """Log compression or decibels, as :class:`skmir.LogCompression`, as a torch module.

    ``method="log"``: ``log(X + eps)``; ``method="db"``: ``(20 / power) *
    log10(max(X, amin) / ref)`` (``librosa.power_to_db`` for ``power=2``,
    ``librosa.amplitude_to_db`` for ``power=1``), clipped at ``top_db`` below each
    clip's own peak (the maximum over all axes but the first). Input: non-negative
    values of any shape with the batch first; output of the same shape, float32.

    Parameters
    ----------
    transformer : skmir.LogCompression
        The parameters.

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import LogCompression
    >>> LogCompression(skmir.LogCompression(method="db"))(torch.tensor([[[1.0, 100.0]]]))
    tensor([[[ 0., 20.]]])
    """

    def __init__(self, transformer):
        super().__init__()
        adopt(self, transformer, LogCompressionParameters)

    def forward(self, x):
        if not torch.is_tensor(x) or x.ndim < 1:
            raise ValueError("LogCompression: expected a tensor with the batch axis first.")
        with no_autocast(x):
            x = as_float32(x)
            if self.method == "log":
                return torch.log(x + np.float32(self.eps))
            # The operations and float32 constants of skmir.LogCompression, in its order.
            out = torch.log10(torch.clamp(x, min=np.float32(self.amin)))
            out = out - np.float32(np.log10(max(self.amin, self.ref)))
            out = out * np.float32(20.0 / self.power)
            if self.top_db is not None:
                peak = out.reshape(len(out), -1).amax(dim=1).reshape((-1,) + (1,) * (x.ndim - 1))
                out = torch.maximum(out, peak - np.float32(self.top_db))
            return out

    def extra_repr(self):
        return params_repr(self)


class MFCC(nn.Module):
    """MFCC, ``librosa.feature.mfcc``, as a torch module.

    The DCT (``scipy.fft.dct``'s matrix) of ``power_to_db`` of the mel-spectrogram,
    with librosa's ``top_db=80`` measured from each clip's own peak, then liftering.

    Parameters
    ----------
    transformer : skmir.MFCC
        The parameters, those of the mel-spectrogram included.

    Examples
    --------
    >>> import torch
    >>> import skmir
    >>> from skmir.nn.representations import MFCC
    >>> MFCC(skmir.MFCC(n_mfcc=13))(torch.randn(2, 22050)).shape
    torch.Size([2, 13, 44])
    """

    def __init__(self, transformer):
        super().__init__()
        adopt(self, transformer, MFCCParameters)
        import scipy.fft

        self.mel = MelSpectrogram(transformer)
        # librosa.feature.mfcc's power_to_db: LogCompression's dB defaults (ref 1,
        # amin 1e-10, top_db 80).
        self.db = LogCompression(LogCompressionParameters(method="db"))
        # dct(S, axis=-2) is linear in S: its matrix is the DCT of the identity.
        dct = scipy.fft.dct(np.eye(self.n_mels), type=self.dct_type, norm=self.dct_norm,
                            axis=0)[:self.n_mfcc]
        if self.lifter > 0:
            lift = 1 + (self.lifter / 2) * np.sin(np.pi * np.arange(1, 1 + self.n_mfcc)
                                                  / self.lifter)
            dct = dct * lift[:, None]
        self.register_buffer("dct_matrix", torch.as_tensor(dct, dtype=torch.float32))

    @property
    def n_bins(self):
        """Coefficients of the output, ``n_mfcc`` (at most ``n_mels``)."""
        return self.dct_matrix.shape[0]

    def n_frames(self, n_samples):
        """Frames of the output for clips of ``n_samples`` samples."""
        return self.mel.n_frames(n_samples)

    def forward(self, x):
        S = self.db(self.mel(x))
        with no_autocast(x):
            return torch.matmul(self.dct_matrix.float(), S)

    def extra_repr(self):
        return params_repr(self)


__all__ = ["MFCC", "STFT", "LogCompression", "MelSpectrogram"]
