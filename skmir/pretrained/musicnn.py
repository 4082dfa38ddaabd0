"""The four musicnn networks trained on real music, with their exact front end.

musicnn 0.1.0 (Pons and Serra, 2019; ISC licence, see ``LICENSE-musicnn``) ships
four TensorFlow 1 taggers trained on real music: ``musicnn-mtt`` and ``vgg-mtt``
(MagnaTagATune, 50 tags), ``musicnn-msd`` and ``vgg-msd`` (Million Song Dataset, 50
tags). :mod:`skmir.pretrained.convert_musicnn` converted them to safetensors for
:class:`skmir.nn.musicnn.Musicnn` and :class:`skmir.nn.musicnn.VGG`; the tests check
every exposed layer against the original graphs. Nothing is downloaded.

The front end is musicnn's: 16 kHz mono, a mel power spectrogram (n_fft 512, hop
256, Hann, centred, 96 Slaney mels with Slaney norm, 0-8 kHz), quantised to float16
as musicnn stored it, then ``log10(10000 S + 1)`` in float32, cut into patches of
187 frames (3 s) time x mel: :class:`MusicnnLogMel` (or :func:`musicnn_logmel`), then
:func:`musicnn_patches`. :func:`skmir.pretrained.load_pretrained` loads a network as a
:class:`MusicnnNetwork`, which runs the whole chain.

Mind the training audio: MagnaTagATune is CC BY-NC-SA, the MSD previews are
copyrighted; the cards' ``license`` says what this may mean for the weights.
"""

import copy
from numbers import Integral

import librosa
import numpy as np
from sklearn.utils._param_validation import StrOptions

from skmir.pretrained.network import NetworkFrontend, ShippedNetwork, load_weights

ARCHITECTURES = ("musicnn", "vgg")
SR = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187
PAD_MODES = ("reflect", "constant")
# mel powers beyond float16's range (only reached far above full scale) saturate
# instead of turning into inf
_FLOAT16_MAX = float(np.finfo(np.float16).max)

# The layers TransferFeatures(layers="auto") takes: the best of the choices compared by
# examples/musicnn_transfer.py --layers (generated genre, 240 clips, 5-fold + SVC):
# musicnn-msd mean_pool+max_pool 0.654, all 0.625, max_pool 0.600, max_pool+penultimate
# 0.567, penultimate 0.487; vgg-msd all (pool1-pool5) 0.675, pool4+pool5 0.629.
AUTO_LAYERS = {"musicnn": ("mean_pool", "max_pool"), "vgg": None}  # None: all of them

__all__ = ["MusicnnLogMel", "MusicnnNetwork", "list_musicnn", "musicnn_logmel",
           "musicnn_patches", "n_patches"]


def musicnn_logmel(waveforms, pad_mode="reflect"):
    """musicnn's log-mel spectrogram of 16 kHz mono waveforms.

    Parameters
    ----------
    waveforms : array-like of shape (n_clips, n_samples)
        Mono audio at 16 kHz (musicnn resamples to 16 kHz first; so must you).
    pad_mode : {"reflect", "constant"}, default="reflect"
        Padding of the centred frames. musicnn ran on librosa < 0.10, which padded by
        reflection (the cards' ``frontend["pad_mode"]``); newer librosa pads with
        zeros, which changes the first and last frames: up to 0.03 on a tag
        probability of a clip's first patch (measured on generated music).

    Returns
    -------
    logmel : ndarray of float32, shape (n_clips, n_frames, 96)
        Time x mel, ``n_frames = 1 + n_samples // 256``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.musicnn import musicnn_logmel
    >>> musicnn_logmel(np.zeros((2, 16000), dtype=np.float32)).shape
    (2, 63, 96)
    """
    if pad_mode not in PAD_MODES:
        raise ValueError(f"pad_mode must be one of {PAD_MODES}, got {pad_mode!r}.")
    X = np.asarray(waveforms)
    if X.ndim != 2 or X.shape[1] < 1 or not np.issubdtype(X.dtype, np.number):
        raise ValueError("waveforms must be a numeric array of shape (n_clips, n_samples) "
                         f"of mono 16 kHz audio, got shape {X.shape} and dtype {X.dtype}.")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError("waveforms contain NaN or inf values; audio must be finite.")
    S = librosa.feature.melspectrogram(
        y=X, sr=SR, n_fft=N_FFT, hop_length=HOP_LENGTH, win_length=N_FFT, window="hann",
        center=True, pad_mode=pad_mode, power=2.0, n_mels=N_MELS, fmin=0.0, fmax=SR / 2,
        htk=False, norm="slaney")
    S = np.minimum(S, _FLOAT16_MAX).astype(np.float16)
    # float32 as in numpy 1 (10000 promoted float16): numpy 2 would stay in float16
    # and overflow to inf for S > 6.55, i.e. for most music
    logmel = np.log10(np.float32(10000) * S.astype(np.float32) + np.float32(1))
    return np.ascontiguousarray(logmel.transpose(0, 2, 1))


def musicnn_patches(logmel, patch_hop=PATCH_FRAMES):
    """Cut log-mel spectrograms into musicnn's 187-frame patches.

    As musicnn's ``batch_data``: patches start every ``patch_hop`` frames and the
    frames after the last whole patch are dropped. A spectrogram shorter than one
    patch is repeated end to end and cut to one patch (musicnn's training
    ``"pad_short": "repeat-pad"``; musicnn's own tagger crashes on such clips), so
    every clip gives at least one patch.

    Parameters
    ----------
    logmel : array-like of shape (n_clips, n_frames, n_mels)
        From :func:`musicnn_logmel`.
    patch_hop : int, default=187
        Frames between patch starts; 187 (musicnn's default) means no overlap.

    Returns
    -------
    patches : ndarray of float32, shape (n_clips, n_patches, 187, n_mels)
        ``n_patches = 1 + (n_frames - 187) // patch_hop`` for ``n_frames >= 187``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.musicnn import musicnn_patches
    >>> musicnn_patches(np.zeros((2, 400, 96))).shape
    (2, 2, 187, 96)
    >>> musicnn_patches(np.zeros((1, 400, 96)), patch_hop=93).shape
    (1, 3, 187, 96)
    >>> musicnn_patches(np.zeros((1, 50, 96))).shape  # repeat-padded
    (1, 1, 187, 96)
    """
    if not isinstance(patch_hop, Integral) or isinstance(patch_hop, bool) or patch_hop < 1:
        raise ValueError(f"patch_hop must be an int >= 1 (frames), got {patch_hop!r}.")
    L = np.asarray(logmel, dtype=np.float32)
    if L.ndim != 3 or L.shape[1] < 1:
        raise ValueError("logmel must be an array of shape (n_clips, n_frames, n_mels) with "
                         f"n_frames >= 1, got shape {L.shape}.")
    if L.shape[1] < PATCH_FRAMES:
        L = np.tile(L, (1, -(-PATCH_FRAMES // L.shape[1]), 1))[:, :PATCH_FRAMES]
    windows = np.lib.stride_tricks.sliding_window_view(L, PATCH_FRAMES, axis=1)
    # a copy: the view would be read-only and could share memory with logmel
    return windows[:, ::patch_hop].transpose(0, 1, 3, 2).copy()


class MusicnnLogMel(NetworkFrontend):
    """musicnn's log-mel front end as a transformer, for fine-tuning a musicnn network.

    Waveforms at 16 kHz in, ``(n_clips, 96, n_frames)`` float32 out: the values of
    :func:`musicnn_logmel` in skmir's (and librosa's) frequency-then-time order, the
    input of ``NeuralClassifier(architecture="musicnn-msd")`` and its siblings.
    Stateless: ``fit`` only checks the input.

    Parameters
    ----------
    pad_mode : {"reflect", "constant"}, default="reflect"
        See :func:`musicnn_logmel`.
    sr : {None, 16000}, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns), 16000 declares
        that plain arrays are at 16 kHz. musicnn was trained at 16 kHz only, and skmir
        never resamples silently.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.musicnn import MusicnnLogMel
    >>> MusicnnLogMel(sr=16000).fit_transform(np.zeros((2, 16000), dtype=np.float32)).shape
    (2, 96, 63)
    """

    RATE = SR

    _parameter_constraints = {**NetworkFrontend._parameter_constraints,
                              "pad_mode": [StrOptions(set(PAD_MODES))]}

    def __init__(self, pad_mode="reflect", sr=None):
        self.pad_mode = pad_mode
        self.sr = sr

    def transform(self, X):
        """musicnn's log-mel spectrogram, ``(n_clips, 96, n_frames)``."""
        X = self.check(X)
        return np.ascontiguousarray(musicnn_logmel(X, self.pad_mode).transpose(0, 2, 1))

def n_patches(n_samples, patch_hop=PATCH_FRAMES):
    """How many patches :func:`musicnn_patches` cuts from a clip of ``n_samples``.

    Examples
    --------
    >>> from skmir.pretrained.musicnn import n_patches
    >>> n_patches(16000 * 10), n_patches(100)
    (3, 1)
    """
    n_frames = 1 + n_samples // HOP_LENGTH
    return 1 if n_frames < PATCH_FRAMES else 1 + (n_frames - PATCH_FRAMES) // patch_hop

def list_musicnn():
    """Names of the musicnn networks shipped with skmir.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skmir.pretrained.musicnn import list_musicnn
    >>> list_musicnn()
    ['musicnn-msd', 'musicnn-mtt', 'vgg-msd', 'vgg-mtt']
    """
    from skmir.pretrained.cards import family, list_pretrained, model_card

    return [name for name in list_pretrained() if family(model_card(name)) in ARCHITECTURES]


class MusicnnNetwork(ShippedNetwork):
    """A musicnn network (:class:`skmir.nn.musicnn.Musicnn` or
    :class:`~skmir.nn.musicnn.VGG`), loaded with its front end.

    Made by :func:`skmir.pretrained.load_pretrained` for the cards whose
    ``architecture`` is ``"musicnn"`` or ``"vgg"``. Each clip is cut into patches of
    187 frames (3 s; :func:`musicnn_patches`) that the network tags one by one; its
    layers are musicnn's (``card["layers"]``, the output layers left out).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("musicnn-mtt")
    >>> patches = network.patches(network.frontend.transform(np.zeros((1, 48000), "float32")))
    >>> with torch.no_grad():
    ...     tags = network.probabilities(torch.from_numpy(patches[0]))
    >>> tags.shape, network.tags[:3]
    (torch.Size([1, 50]), ['guitar', 'classical', 'slow'])
    """

    noun = "musicnn network"

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the card's network and read its safetensors weights (checked)."""
        import torch

        from skmir.nn.musicnn import VGG, Musicnn

        name = card["name"]
        module = load_weights((Musicnn if card["architecture"] == "musicnn" else VGG)(
            **card["network"]), name, weights, device)
        n_mels = card["network"]["n_mels"]
        with torch.no_grad():  # the width of each layer, from one silent patch
            probe = module.features(torch.zeros(1, PATCH_FRAMES, n_mels, device=device))
        layers = {layer: (int(probe[layer].shape[-1]), probe[layer].ndim > 2)
                  for layer in card["layers"] if layer not in ("logits", "taggram")}
        auto = AUTO_LAYERS[card["architecture"]] or tuple(layers)
        return cls(name=name, card=card, frontend=MusicnnLogMel(card["frontend"]["pad_mode"],
                                                                  sr=SR),
                   module=module, layers=layers, auto_layers=auto, input_shape=(1, n_mels),
                   device=device, min_samples=1,
                   patch_frames=card["frontend"]["patch_frames"])

    def _hop(self, patch_hop):
        return self.card["frontend"]["patch_hop"] if patch_hop is None else patch_hop

    def n_patches(self, n_samples, patch_hop=None):
        """How many patches of 187 frames a clip of ``n_samples`` gives."""
        return n_patches(n_samples, self._hop(patch_hop))

    def patches(self, spectrograms, patch_hop=None):
        """Patches ``(n_clips, n_patches, 187, n_mels)``, time x mel as musicnn takes them."""
        return musicnn_patches(np.swapaxes(spectrograms, 1, 2), self._hop(patch_hop))

    def layer_outputs(self, batch, names):
        """musicnn's named layers, time first and channels last (``module.features``)."""
        features = self.module.features(batch)
        return {name: features[name] for name in names}

    def frozen_output(self, X, freeze, *, batch_size=32):
        """The maps of the frozen front and mid end (:func:`skmir.nn.musicnn.musicnn_maps`)
        for musicnn log-mel spectrograms ``(n_clips, 1, 96, n_frames)``; None for VGG
        (not fine-tuned) or fewer than 2 frozen blocks."""
        import torch

        from skmir.nn.musicnn import FineTunedMusicnn, Musicnn, musicnn_maps

        blocks = min(freeze, FineTunedMusicnn.CACHED_BLOCKS)
        if not isinstance(self.module, Musicnn) or blocks < 2:
            return None
        device = next(self.module.parameters()).device
        with torch.no_grad():
            out = [musicnn_maps(self.module, torch.as_tensor(X[i:i + batch_size],
                                                             device=device), blocks)
                   .cpu().numpy() for i in range(0, len(X), batch_size)]
        return np.concatenate(out)

    def fine_tuning(self, n_outputs, freeze=0, *, from_frozen=False):
        """:class:`skmir.nn.musicnn.FineTunedMusicnn` over a copy of this network."""
        from skmir.nn.musicnn import FineTunedMusicnn

        body = copy.deepcopy(self.module).cpu()
        return FineTunedMusicnn, dict(body=body, n_outputs=n_outputs, freeze=freeze,
                                      from_maps=from_frozen)
