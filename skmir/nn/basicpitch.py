"""basic-pitch's note transcription network (Bittner et al., 2022), as a torch module.

:class:`BasicPitch` rebuilds the network of basic-pitch 0.4.0 from the package's own
Keras code, ``basic_pitch/models.py`` (``model()`` and ``get_cqt()``),
``basic_pitch/nn.py`` (``HarmonicStacking``), ``basic_pitch/layers/signal.py``
(``NormalizedLog``) and ``basic_pitch/layers/nnaudio.py`` (``CQT2010v2``, basic-pitch's
TensorFlow port of nnAudio's CQT), layer by layer, with Keras's layer names (``-``
spelled ``_``) so that the weights of the shipped ``nmp.onnx``, converted by
:mod:`skmir.pretrained.convert_basicpitch`, map one to one:

1. ``cqt``: :class:`BasicPitchCQT`, 309 bins of 3 per semitone from A0 (27.5 Hz), hop
   256 at 22.05 kHz: the top octave's 36 kernels applied to the signal halved 8
   times by a 256-tap low-pass filter (nnAudio's CQT2010v2, no early downsampling,
   reflect padding, librosa's normalisation), then ``NormalizedLog``: power in dB,
   scaled to [0, 1] per window (min and max over the whole window);
2. ``batch_normalization``: the batch norm of the one CQT channel, as the shipped
   graph stores it in eval mode (a scale and a shift);
3. ``harmonic_stacking``: the CQT shifted by 0.5, 1, ..., 7 harmonics (-36, 0, 36, 57,
   72, 84, 93, 101 bins), 8 channels of the first 264 bins;
4. ``conv2d_1`` (8 filters, 3 x 39, with ``batch_normalization_2`` folded in) and ReLU;
   ``contours_reduced`` (1 filter, 5 x 5) and sigmoid: the **contour** output, 264
   bins;
5. ``conv2d_2`` (32 filters, 7 x 7, stride 3 in frequency) and ReLU on the contour;
   ``conv2d_3`` (1 filter, 7 x 3) and sigmoid: the **note** output, 88 keys;
6. ``conv2d_4`` (32 filters, 5 x 5, stride 3 in frequency, with
   ``batch_normalization_3`` folded in) and ReLU on the harmonic stack, concatenated
   after the note layer's pre-flatten output; ``conv2d_5`` (1 filter, 3 x 3) and
   sigmoid: the **onset** output, 88 keys.

Two differences from ``models.py``, both the shipped graph's: the batch norms after
``conv2d_1`` and ``conv2d_4`` are folded into those convolutions (the ONNX graph keeps
only the folded weights, which equal them in eval mode), and the first 32-filter 5 x 5
convolution of the contour branch (``conv2d`` and ``batch_normalization_1``), whose
output ``models.py`` overwrites before use, is absent (it is in no inference graph).
Maps are (batch, channels, time, frequency) inside; :meth:`BasicPitch.forward` returns
them time first and channels last, as Keras lays them out.

Licence: basic-pitch is Copyright 2022 Spotify AB, Apache License 2.0 (the NOTICE is
shipped as ``skmir/pretrained/LICENSE-basicpitch``); its ``nnaudio.py`` is a port of
nnAudio (Cheuk et al.), MIT licence.

References
----------
Bittner, R. M., Bosch, J. J., Rubinstein, D., Meseguer-Brocal, G. and Ewert, S.
(2022). A lightweight instrument-agnostic model for polyphonic note transcription and
multipitch estimation. ICASSP. https://github.com/spotify/basic-pitch
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["BasicPitch", "BasicPitchCQT", "cqt_kernels", "lowpass_filter"]

SR = 22050  # basic_pitch.constants.AUDIO_SAMPLE_RATE
HOP = 256  # FFT_HOP
FMIN = 27.5  # ANNOTATIONS_BASE_FREQUENCY
BINS_PER_SEMITONE = 3  # CONTOURS_BINS_PER_SEMITONE
N_SEMITONES = 88  # ANNOTATIONS_N_SEMITONES
N_HARMONICS = 8
# models.get_cqt: min(ceil(12 log2(n_harmonics)) + 88, floor(12 log2(sr / 2 / fmin)))
N_CQT_SEMITONES = min(int(np.ceil(12.0 * np.log2(N_HARMONICS)) + N_SEMITONES),
                      int(np.floor(12.0 * np.log2(0.5 * SR / FMIN))))
N_CQT_BINS = N_CQT_SEMITONES * BINS_PER_SEMITONE  # 309
N_CONTOUR_BINS = N_SEMITONES * BINS_PER_SEMITONE  # 264
HARMONICS = (0.5,) + tuple(range(1, N_HARMONICS))
LAYERS = ("cqt", "harmonic_stacking", "contour_maps", "contour", "note_maps", "note",
          "onset_maps", "onset")
OUTPUTS = ("contour", "note", "onset")


def lowpass_filter(band_center=0.5, kernel_length=256, transition_bandwidth=0.001):
    """The FIR low-pass filter of nnaudio.py's ``create_lowpass_filter`` (float32).

    Examples
    --------
    >>> from skmir.nn.basicpitch import lowpass_filter
    >>> lowpass_filter().shape
    (256,)
    """
    import scipy.signal

    passband_max = band_center / (1 + transition_bandwidth)
    stopband_min = band_center * (1 + transition_bandwidth)
    kernel = scipy.signal.firwin2(kernel_length, [0.0, passband_max, stopband_min, 1.0],
                                  [1.0, 1.0, 0.0, 0.0])
    return kernel.astype(np.float32)


def cqt_kernels(Q, fs, fmin, n_bins, bins_per_octave):
    """The time-domain CQT kernels of nnaudio.py's ``create_cqt_kernels`` (hann window,
    L1 norm), complex64, ``(n_bins, fft_len)``.

    Examples
    --------
    >>> from skmir.nn.basicpitch import cqt_kernels
    >>> cqt_kernels(51.44, 22050, 6915.0, 36, 36).shape
    (36, 256)
    """
    import scipy.signal

    fft_len = 2 ** int(np.ceil(np.log2(np.ceil(Q * fs / fmin))))
    freqs = fmin * 2.0 ** (np.r_[0:n_bins] / float(bins_per_octave))
    kernels = np.zeros((int(n_bins), int(fft_len)), dtype=np.complex64)
    for k, freq in enumerate(freqs):
        length = np.ceil(Q * fs / freq)
        # centred, with the extra zero on the right, as nnAudio
        start = int(np.ceil(fft_len / 2.0 - length / 2.0)) - int(length % 2)
        sig = (scipy.signal.get_window("hann", int(length), fftbins=True)
               * np.exp(np.r_[-length // 2:length // 2] * 1j * 2 * np.pi * freq / fs)
               / length)
        kernels[k, start:start + int(length)] = sig / np.linalg.norm(sig, 1)
    return kernels


class BasicPitchCQT(nn.Module):
    """basic-pitch's CQT (nnaudio.py's ``CQT2010v2`` with models.py's parameters),
    magnitude, ``(batch, n_samples)`` -> ``(batch, n_frames, 309)``.

    The kernels are computed, not stored (buffers outside the state dict): the top
    octave's 36 kernels (``fmin_t`` = the 21st bin of the top octave over 2^(35/36)),
    scaled by ``sqrt(ceil(Q sr / f))`` per bin (``normalization_type="librosa"``).

    Parameters
    ----------
    sr, hop_length, fmin, n_bins, bins_per_octave : as basic-pitch's ``get_cqt``.

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.basicpitch import BasicPitchCQT
    >>> BasicPitchCQT()(torch.zeros(1, 43844)).shape
    torch.Size([1, 172, 309])
    """

    def __init__(self, sr=SR, hop_length=HOP, fmin=FMIN, n_bins=N_CQT_BINS,
                 bins_per_octave=12 * BINS_PER_SEMITONE):
        super().__init__()
        Q = 1.0 / (2 ** (1 / bins_per_octave) - 1)
        self.n_bins, self.hop_length = int(n_bins), int(hop_length)
        self.n_octaves = int(np.ceil(float(n_bins) / bins_per_octave))
        fmin_t = fmin * 2 ** (self.n_octaves - 1)
        remainder = n_bins % bins_per_octave
        top = bins_per_octave - 1 if remainder == 0 else remainder - 1
        fmax_t = fmin_t * 2 ** (top / bins_per_octave)
        fmin_t = fmax_t / 2 ** (1 - 1 / bins_per_octave)
        if fmax_t > sr / 2:
            raise ValueError(f"BasicPitchCQT: n_bins = {n_bins}: the top bin, {fmax_t:.1f} Hz, "
                             f"is above the Nyquist frequency ({sr / 2} Hz).")
        # basic-pitch's parameters never downsample early (its count is 0); nor does this
        kernels = cqt_kernels(Q, sr, fmin_t, min(bins_per_octave, n_bins), bins_per_octave)
        self.n_fft = kernels.shape[1]
        freqs = fmin * 2.0 ** (np.r_[0:n_bins] / float(bins_per_octave))
        # sqrt of the float64 lengths, cast once: the graph's constant, bit for bit
        sqrt_lengths = np.sqrt(np.ceil(Q * sr / freqs)).astype(np.float32)
        self.register_buffer("kernel_real", torch.from_numpy(kernels.real.copy())[:, None],
                             persistent=False)
        self.register_buffer("kernel_imag", torch.from_numpy(kernels.imag.copy())[:, None],
                             persistent=False)
        self.register_buffer("lowpass", torch.from_numpy(lowpass_filter())[None, None],
                             persistent=False)
        self.register_buffer("sqrt_lengths", torch.from_numpy(sqrt_lengths), persistent=False)
        # the reflect padding of the lowest octave needs more samples than n_fft // 2
        self.min_samples = (self.n_fft // 2 + 1) * 2 ** (self.n_octaves - 1)

    def _octave(self, x, hop):
        x = F.pad(x, (self.n_fft // 2, self.n_fft // 2), mode="reflect")
        real = F.conv1d(x, self.kernel_real, stride=hop)
        imag = -F.conv1d(x, self.kernel_imag, stride=hop)
        return real, imag

    def forward(self, x):
        if x.ndim != 2 or x.shape[-1] < self.min_samples:
            raise ValueError(f"BasicPitchCQT: x has shape {tuple(x.shape)}; it takes "
                             f"(batch, n_samples) with n_samples >= {self.min_samples}.")
        x = x[:, None]
        real, imag = self._octave(x, self.hop_length)
        hop, down = self.hop_length, x
        for _ in range(self.n_octaves - 1):
            hop //= 2
            # downsampling_by_n with match_torch_exactly: zero padding, then stride 2
            pad = (self.lowpass.shape[-1] - 1) // 2
            down = F.conv1d(F.pad(down, (pad, pad)), self.lowpass, stride=2)
            lower = self._octave(down, hop)
            real, imag = torch.cat((lower[0], real), 1), torch.cat((lower[1], imag), 1)
        scale = self.sqrt_lengths[:, None]
        real, imag = real[:, -self.n_bins:] * scale, imag[:, -self.n_bins:] * scale
        return torch.sqrt(real * real + imag * imag).transpose(1, 2)


def normalized_log(magnitude):
    """signal.py's ``NormalizedLog``: power in dB scaled to [0, 1] over each item's
    (time, frequency) plane; an item with a constant plane gives zeros."""
    log_power = 10 * (torch.log(magnitude * magnitude + 1e-10) / math.log(10))
    low = log_power.amin(dim=(1, 2), keepdim=True)
    offset = log_power - low
    high = offset.amax(dim=(1, 2), keepdim=True)
    # divide_no_nan
    return torch.where(high == 0, torch.zeros_like(offset),
                       offset / torch.where(high == 0, torch.ones_like(high), high))


class ScaleShift(nn.Module):
    """A batch norm in eval mode, as the shipped graph stores it: ``x * scale + shift``
    per channel (axis 1)."""

    def __init__(self, n_channels):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(n_channels))
        self.shift = nn.Parameter(torch.zeros(n_channels))

    def forward(self, x):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return x * self.scale.view(shape) + self.shift.view(shape)


class HarmonicStacking(nn.Module):
    """nn.py's ``HarmonicStacking``: one channel per harmonic, the frequency axis
    (last) shifted by ``round(12 bins_per_semitone log2(h))`` bins with zeros, the first
    ``n_output_freqs`` bins kept. ``(batch, 1, time, freq) -> (batch, n_harmonics,
    time, n_output_freqs)``."""

    def __init__(self, bins_per_semitone=BINS_PER_SEMITONE, harmonics=HARMONICS,
                 n_output_freqs=N_CONTOUR_BINS):
        super().__init__()
        self.shifts = tuple(int(round(12.0 * bins_per_semitone * math.log2(float(h))))
                            for h in harmonics)
        self.n_output_freqs = int(n_output_freqs)

    def forward(self, x):
        channels = []
        for shift in self.shifts:
            if shift > 0:
                channels.append(F.pad(x[..., shift:], (0, shift)))
            elif shift < 0:
                channels.append(F.pad(x[..., :shift], (-shift, 0)))
            else:
                channels.append(x)
        return torch.cat(channels, 1)[..., :self.n_output_freqs]


class BasicPitch(nn.Module):
    """basic-pitch's network (ICASSP 2022): audio windows to contour, note and onset
    posteriors.

    Parameters
    ----------
    n_filters_contour : int, default=8
        Filters of ``conv2d_1`` (models.py hard-codes 8; its ``n_filters_contour``
        went to the dead ``conv2d``).
    n_filters_notes, n_filters_onsets : int, default=32

    Attributes
    ----------
    layers : tuple of str
        The names :meth:`forward` takes, in order: ``cqt`` (batch, time, 309), the
        normalised log CQT; ``harmonic_stacking`` (batch, time, 264, 8), after the batch
        norm; ``contour_maps`` (batch, time, 264, 8), Keras's ``re_lu_1``; ``contour``
        (batch, time, 264); ``note_maps`` (batch, time, 88, 32), ``re_lu_2``; ``note``
        (batch, time, 88); ``onset_maps`` (batch, time, 88, 32), ``re_lu_3``; ``onset``
        (batch, time, 88).

    Examples
    --------
    >>> import torch
    >>> from skmir.nn.basicpitch import BasicPitch
    >>> out = BasicPitch().eval()(torch.zeros(2, 43844))
    >>> {k: tuple(v.shape) for k, v in out.items()}
    {'contour': (2, 172, 264), 'note': (2, 172, 88), 'onset': (2, 172, 88)}
    """

    def __init__(self, n_filters_contour=8, n_filters_notes=32, n_filters_onsets=32):
        super().__init__()
        n_h = len(HARMONICS)
        self.cqt = BasicPitchCQT()
        self.batch_normalization = ScaleShift(1)
        self.harmonic_stacking = HarmonicStacking()
        self.conv2d_1 = nn.Conv2d(n_h, n_filters_contour, (3, 39), padding=(1, 19))
        self.contours_reduced = nn.Conv2d(n_filters_contour, 1, (5, 5), padding=(2, 2))
        # TensorFlow's "same" with stride 3 over 264 bins pads (k - 3) / 2 each side
        self.conv2d_2 = nn.Conv2d(1, n_filters_notes, (7, 7), stride=(1, 3), padding=(3, 2))
        self.conv2d_3 = nn.Conv2d(n_filters_notes, 1, (7, 3), padding=(3, 1))
        self.conv2d_4 = nn.Conv2d(n_h, n_filters_onsets, (5, 5), stride=(1, 3),
                                  padding=(2, 1))
        self.conv2d_5 = nn.Conv2d(n_filters_onsets + 1, 1, (3, 3), padding=(1, 1))
        self.layers = LAYERS

    @property
    def min_samples(self):
        """Shortest window the CQT takes (basic-pitch's windows have 43844 samples)."""
        return self.cqt.min_samples

    def forward(self, x, layers=None):
        """Run the network on windows ``(batch, n_samples)`` of 22.05 kHz audio.

        Parameters
        ----------
        x : torch.Tensor of shape (batch, n_samples)
            basic-pitch was trained on windows of 43844 samples; the CQT and its
            per-window normalisation take any ``n_samples >= min_samples``.
        layers : sequence of str or None, default=None
            Names of :attr:`layers` to return; None: the three outputs.

        Returns
        -------
        outputs : dict of str to torch.Tensor
            ``contour``, ``note``, ``onset`` (or the named layers), time first and
            channels last.
        """
        wanted = OUTPUTS if layers is None else tuple(layers)
        unknown = [name for name in wanted if name not in LAYERS]
        if unknown:
            raise ValueError(f"BasicPitch: layers = {unknown}: unknown; choose from {LAYERS}.")
        out = {}

        def keep(name, value):
            if name in wanted:
                out[name] = value.permute(0, 2, 3, 1) if value.ndim == 4 else value
            return len(out) == len(set(wanted))

        cqt = normalized_log(self.cqt(x))  # (batch, time, freq)
        if keep("cqt", cqt):
            return out
        stack = self.harmonic_stacking(self.batch_normalization(cqt[:, None]))
        if keep("harmonic_stacking", stack):
            return out
        maps = F.relu(self.conv2d_1(stack))
        if keep("contour_maps", maps):
            return out
        contour = torch.sigmoid(self.contours_reduced(maps))  # (batch, 1, time, 264)
        if keep("contour", contour[:, 0]):
            return out
        maps = F.relu(self.conv2d_2(contour))
        if keep("note_maps", maps):
            return out
        note = torch.sigmoid(self.conv2d_3(maps))  # (batch, 1, time, 88)
        if keep("note", note[:, 0]):
            return out
        maps = F.relu(self.conv2d_4(stack))
        if keep("onset_maps", maps):
            return out
        onset = torch.sigmoid(self.conv2d_5(torch.cat((note, maps), 1)))
        keep("onset", onset[:, 0])
        return out
