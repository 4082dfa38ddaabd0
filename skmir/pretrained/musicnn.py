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
187 frames (3 s) time x mel. Use :func:`musicnn_logmel`, then :func:`musicnn_patches`,
then the network of :func:`load_musicnn`.

Mind the training audio: MagnaTagATune is CC BY-NC-SA, the MSD previews are
copyrighted; the cards' ``license`` says what this may mean for the weights.
"""

import json
from numbers import Integral
from pathlib import Path

import librosa
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import StrOptions

from skmir._files import sha256
from skmir._validation import check_waveforms
from skmir.pretrained import card_digest

_HERE = Path(__file__).parent
_FORMAT = "skmir-pretrained/1"
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

__all__ = ["MusicnnLogMel", "list_musicnn", "load_musicnn", "musicnn_logmel", "musicnn_patches",
           "n_patches", "patch_outputs"]


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


class MusicnnLogMel(TransformerMixin, BaseEstimator):
    """musicnn's log-mel front end as a transformer, for fine-tuning a musicnn network.

    Waveforms at 16 kHz in, ``(n_clips, 96, n_frames)`` float32 out: the values of
    :func:`musicnn_logmel` in skmir's (and librosa's) frequency-then-time order, the
    input of ``NeuralClassifier(architecture="musicnn-msd")`` and its siblings.
    Stateless: ``fit`` only checks the input.

    Parameters
    ----------
    pad_mode : {"reflect", "constant"}, default="reflect"
        See :func:`musicnn_logmel`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.musicnn import MusicnnLogMel
    >>> MusicnnLogMel().fit_transform(np.zeros((2, 16000), dtype=np.float32)).shape
    (2, 96, 63)
    """

    _parameter_constraints = {"pad_mode": [StrOptions(set(PAD_MODES))]}

    def __init__(self, pad_mode="reflect"):
        self.pad_mode = pad_mode

    def _check(self, X, reset):
        X = check_waveforms(self, X, reset=reset, sr=SR)
        if X.ndim != 2:
            raise ValueError(f"{type(self).__name__} takes mono waveforms (n_clips, n_samples) "
                             f"at {SR} Hz; got an array of shape {X.shape}.")
        return X

    def fit(self, X, y=None):
        """Check X (mono waveforms at 16 kHz); nothing is learned."""
        self._validate_params()
        self._check(X, reset=True)
        return self

    def transform(self, X):
        """musicnn's log-mel spectrogram, ``(n_clips, 96, n_frames)``."""
        X = self._check(X, reset=None)
        return np.ascontiguousarray(musicnn_logmel(X, self.pad_mode).transpose(0, 2, 1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


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


def patch_outputs(network, waveforms, outputs, *, patch_hop=PATCH_FRAMES, batch_size=64,
                  device="cpu", pad_mode="reflect"):
    """Run a musicnn network over every patch of every clip, a few clips at a time.

    Memory stays bounded by ``batch_size`` patches whatever the number of clips:
    the log-mel spectrograms are computed for as many clips as fill a batch.

    Parameters
    ----------
    network : skmir.nn.musicnn.Musicnn or skmir.nn.musicnn.VGG
        From :func:`load_musicnn`; run in eval mode, without gradients.
    waveforms : ndarray of shape (n_clips, n_samples)
        Mono audio at 16 kHz, validated by the caller.
    outputs : callable
        ``outputs(features) -> tensor (batch, k)``, from the dict of
        ``network.features`` for a batch of patches.
    patch_hop : int, default=187
    batch_size : int, default=64
        Patches per forward pass.
    device : str, default="cpu"
        The network's device.
    pad_mode : {"reflect", "constant"}, default="reflect"
        See :func:`musicnn_logmel`.

    Returns
    -------
    out : ndarray of float32, shape (n_clips, n_patches, k)
    """
    import torch

    X = np.asarray(waveforms, dtype=np.float32)
    per_clip = n_patches(X.shape[1], patch_hop)
    clips = max(1, batch_size // per_clip)
    was_training = network.training
    network.eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(X), clips):
                patches = musicnn_patches(musicnn_logmel(X[start:start + clips], pad_mode),
                                          patch_hop)
                c, p = patches.shape[:2]
                flat = torch.from_numpy(patches.reshape(c * p, PATCH_FRAMES, -1)).to(device)
                res = [outputs(network.features(flat[i:i + batch_size]))
                       for i in range(0, len(flat), batch_size)]
                out.append(torch.cat(res).float().cpu().numpy().reshape(c, p, -1))
    finally:
        network.train(was_training)
    return np.concatenate(out)


def _read_card(path):
    try:
        card = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(card, dict) and card.get("format") == _FORMAT \
            and card.get("architecture") in ARCHITECTURES:
        return card
    return None


def list_musicnn(folder=None):
    """Names of the musicnn networks shipped with skmir (or in ``folder``).

    Parameters
    ----------
    folder : path or None, default=None
        Where the cards are; None is skmir's own ``skmir/pretrained``.

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skmir.pretrained.musicnn import list_musicnn
    >>> list_musicnn()
    ['musicnn-msd', 'musicnn-mtt', 'vgg-msd', 'vgg-mtt']
    """
    folder = _HERE if folder is None else Path(folder)
    return sorted(card["name"] for path in folder.glob("*.json")
                  if (card := _read_card(path)) is not None and "name" in card)


def load_musicnn(name, device="cpu", folder=None):
    """Load a musicnn network, checking its weights and its card.

    Parameters
    ----------
    name : str
        One of :func:`list_musicnn`: "musicnn-mtt", "musicnn-msd", "vgg-mtt",
        "vgg-msd".
    device : str or torch.device, default="cpu"
    folder : path or None, default=None
        Where ``<name>.json`` and its weights are; None is skmir's own folder.

    Returns
    -------
    network : skmir.nn.musicnn.Musicnn or skmir.nn.musicnn.VGG
        In eval mode. ``network(patches)`` gives the tag logits; ``torch.sigmoid``
        of them, musicnn's tag probabilities; ``network.features(patches)`` every
        layer (``card["layers"]``).
    card : dict
        The model card: ``tags`` in output order, ``frontend``, ``scores``,
        ``training``, ``license``...

    Raises
    ------
    FileNotFoundError
        The card or the weights are missing.
    ValueError
        Unknown name; a card or weights file that is corrupt, edited or replaced
        (their SHA-256 differ from the card's ``sha256`` and ``card_sha256``).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from skmir.pretrained.musicnn import load_musicnn, musicnn_logmel, musicnn_patches
    >>> network, card = load_musicnn("musicnn-mtt")
    >>> patches = musicnn_patches(musicnn_logmel(np.zeros((1, 48000), dtype=np.float32)))
    >>> with torch.no_grad():
    ...     tags = torch.sigmoid(network(torch.from_numpy(patches[0])))
    >>> tags.shape, card["tags"][:3]
    (torch.Size([1, 50]), ['guitar', 'classical', 'slow'])
    """
    import torch
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from skmir.nn.musicnn import VGG, Musicnn

    folder = _HERE if folder is None else Path(folder)
    if not isinstance(name, str) or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"name must be the name of a musicnn network, got {name!r}; "
                         f"available: {list_musicnn(folder)}.")
    path = folder / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no model card for musicnn network {name!r}: {path} is "
                                f"missing; available: {list_musicnn(folder)}.")
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"the model card of {name!r} ({path}) is not valid JSON ({exc}); "
                         "reinstall skmir.") from exc
    if not isinstance(card, dict) or card.get("format") != _FORMAT \
            or card.get("architecture") not in ARCHITECTURES or card.get("name") != name:
        raise ValueError(f"{path} is not the model card of the musicnn network {name!r} "
                         f"(format {_FORMAT!r}, architecture one of {ARCHITECTURES}).")
    digest = card_digest(card)
    if card.get("card_sha256") != digest:
        raise ValueError(f"the model card of {name!r} ({path}) was edited or is corrupt: the "
                         f"SHA-256 of its parameters is {digest}, its card_sha256 says "
                         f"{card.get('card_sha256')}. Reinstall skmir.")
    weights = folder / str(card.get("file"))
    if not weights.is_file():
        raise FileNotFoundError(f"the weights of musicnn network {name!r} are missing: "
                                f"{weights} (reinstall skmir).")
    digest = sha256(weights)
    if digest != card.get("sha256"):
        raise ValueError(f"the weights of {name!r} ({weights}) do not match the model card: "
                         f"SHA-256 {digest}, expected {card.get('sha256')}. The file is "
                         "corrupt or was replaced; reinstall skmir.")
    try:
        state = load_file(weights, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"the weights of {name!r} ({weights}) cannot be read: {exc}") from exc
    module = (Musicnn if card["architecture"] == "musicnn" else VGG)(**card["network"])
    try:
        result = module.load_state_dict(state, strict=False)
    except RuntimeError as exc:
        raise ValueError(f"the weights of {name!r} ({weights}) do not fit its network: "
                         f"{exc}") from exc
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ValueError(f"the weights of {name!r} ({weights}) do not fit its network: "
                         f"missing {missing}, unexpected {result.unexpected_keys}.")
    return module.to(torch.device(device)).eval(), card
