"""BeatNet (Heydari, Cwitkowitz and Duan, 2021): beat and downbeat activations of
real music, with its exact front end and a peak-picking decoder.

BeatNet 1.1.3 (CC BY 4.0, Mojtaba Heydari; see ``LICENSE-beatnet`` and the card's
attribution) ships three trained CRNNs; :mod:`skmir.pretrained.convert_beatnet`
converted model 1, the one trained without GTZAN (``BeatNet.py``: "GTZAN out trained
model"), to ``beatnet-1.safetensors`` for :class:`skmir.nn.beatnet.BeatNet`. The
package itself does not install on current Python (it needs madmom), so the tests
check the front end against madmom-infer 0.2.0 (which reimplements madmom's) and the
network against the original ``BDA`` class loaded from the package's source. Nothing
is downloaded.

- :class:`BeatNetFrontend`: BeatNet's ``LOG_SPECT`` as ``BeatNet.py`` configures it,
  :class:`skmir.LogFilteredSpectrogram` at 22.05 kHz with 1411-sample frames (64 ms)
  every 441 samples (20 ms, 50 frames per second), 24 bands per octave from 30 Hz to
  17 kHz, ``log10(1 + S)`` and the positive first difference: 272 values per frame.
- :class:`BeatNetNetwork`: the loaded network (``load_pretrained("beatnet-1")``), a
  frame-level :class:`~skmir.pretrained.network.ShippedNetwork`: ``frame_outputs``
  gives the beat, downbeat and no-beat probabilities of every frame (or a layer's
  output), running long clips block by block with the LSTM's state carried over.
- :func:`decode_beats`: beat and downbeat times from the activations by peak picking.

BeatNet's own decoders are not ported: its particle filter (online) and madmom's
dynamic Bayesian network (``DBNDownBeatTrackingProcessor``, offline); the peak picking
here is skmir's rule (:func:`decode_beats`).
"""

from numbers import Integral, Real

import numpy as np

from skmir.pretrained.network import NetworkFrontend, ShippedNetwork, load_weights

NAME = "beatnet-1"
SR = 22050
#: BeatNet.py's ``int(64 * 0.001 * 22050)`` and ``int(20 * 0.001 * 22050)``.
FRAME_SIZE, HOP_SIZE = 1411, 441
FRAME_RATE = SR / HOP_SIZE
#: :class:`skmir.LogFilteredSpectrogram`'s parameters for BeatNet's ``LOG_SPECT``.
SPECTROGRAM = {"sr": SR, "frame_size": FRAME_SIZE, "hop_size": HOP_SIZE, "num_bands": 24,
               "fmin": 30.0, "fmax": 17000.0, "norm_filters": True, "mul": 1.0, "add": 1.0,
               "stack_diffs": True, "diff_ratio": 0.5, "positive_diffs": True}
#: Frames per forward pass of a clip when none is given: the LSTM's state is carried
#: from one block to the next, so blocks only bound memory (60 s).
BLOCK_FRAMES = 3000
#: The decoder's defaults: the smallest summed beat + downbeat probability of a beat,
#: and the shortest time between two beats (s; 0.25 s: up to 240 BPM).
THRESHOLD, MIN_INTERVAL = 0.4, 0.25
AUTO_LAYERS = ("lstm",)

__all__ = ["BeatNetFrontend", "BeatNetNetwork", "beatnet_features", "decode_beats",
           "n_frames"]


def n_frames(n_samples):
    """Frames BeatNet's front end gives a clip of ``n_samples``: ``ceil(n / 441)``.

    Examples
    --------
    >>> from skmir.pretrained.beatnet import n_frames
    >>> n_frames(22050), n_frames(441), n_frames(442), n_frames(1)
    (50, 1, 2, 1)
    """
    return -(-int(n_samples) // HOP_SIZE)


def _spectrogram(n_jobs=None):
    from skmir.representations.spectral import LogFilteredSpectrogram

    return LogFilteredSpectrogram(**SPECTROGRAM, n_jobs=n_jobs)


def beatnet_features(waveforms, start=0, stop=None):
    """BeatNet's input frames ``start`` to ``stop - 1`` of mono 22.05 kHz waveforms.

    The frames of :class:`BeatNetFrontend` (frame ``i`` centred on sample ``441 i``),
    computed from the audio they need only: each frame's 1411 samples and, for the
    difference, the frame before it. Long clips are computed block by block this way,
    equal to one pass within float32 rounding (the filterbank's product).

    Parameters
    ----------
    waveforms : ndarray of float32, shape (n_clips, n_samples)
        Validated mono audio at 22.05 kHz.
    start, stop : int, default=0 and None
        The frames, ``0 <= start <= stop <= n_frames(n_samples)`` (None: the last).

    Returns
    -------
    features : ndarray of float32, shape (n_clips, stop - start, 272)
        Frames in rows (as the network takes them).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.beatnet import beatnet_features
    >>> y = np.random.default_rng(0).uniform(-0.5, 0.5, (1, 22050)).astype("float32")
    >>> whole = beatnet_features(y)
    >>> whole.shape, bool(np.allclose(beatnet_features(y, 20, 30), whole[:, 20:30], atol=1e-6))
    ((1, 50, 272), True)
    """
    X = np.asarray(waveforms, dtype=np.float32)
    total = n_frames(X.shape[1])
    stop = total if stop is None else stop
    if not (isinstance(start, Integral) and isinstance(stop, Integral)
            and 0 <= start <= stop <= total):
        raise ValueError(f"beatnet_features: start = {start!r}, stop = {stop!r}: need "
                         f"0 <= start <= stop <= {total} (the clips' frames).")
    rep = _spectrogram()
    if stop == start:
        return np.zeros((len(X), 0, 2 * rep.filterbank().shape[1]), np.float32)
    # context: half a frame of audio on each side, and the frames the difference reads
    context = -(-(FRAME_SIZE // 2) // HOP_SIZE) + rep.diff_frames()
    f0 = max(0, start - context)
    end = min(X.shape[1], (stop + context) * HOP_SIZE)
    # the segment starts on frame f0's centre: its frames lie on the clip's grid
    S = rep.transform(X[:, f0 * HOP_SIZE:end])
    return np.ascontiguousarray(S[:, :, start - f0:stop - f0].transpose(0, 2, 1))


class BeatNetFrontend(NetworkFrontend):
    """BeatNet's front end: 272 values per 20-ms frame of 22.05 kHz mono waveforms.

    BeatNet's ``LOG_SPECT`` as ``BeatNet.py`` builds it, computed by
    :class:`skmir.LogFilteredSpectrogram` with :data:`SPECTROGRAM`: 136 log-filtered
    bands (``log10(1 + S)``, 24 per octave from 30 Hz to 17 kHz, 1411-sample Hann
    frames) and their positive difference with the frame before. Output ``(n_clips,
    272, n_frames)``, ``n_frames = ceil(n_samples / 441)``, frame ``i`` centred on
    sample ``441 i``. Stateless: ``fit`` only checks the input.

    Parameters
    ----------
    sr : {None, 22050}, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns), 22050 declares
        that plain arrays are at 22.05 kHz. BeatNet was trained at 22.05 kHz only, and
        skmir never resamples silently.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.beatnet import BeatNetFrontend
    >>> BeatNetFrontend(sr=22050).fit_transform(np.zeros((2, 22050), "float32")).shape
    (2, 272, 50)
    """

    RATE = SR

    def spectrogram(self):
        """The :class:`skmir.LogFilteredSpectrogram` that computes it."""
        return _spectrogram()

    def transform(self, X):
        """The 272 values of every frame, ``(n_clips, 272, n_frames)`` float32."""
        self._validate_params()
        X = self.check(X)
        return self.spectrogram().transform(X)


class BeatNetNetwork(ShippedNetwork):
    """BeatNet's CRNN (:class:`skmir.nn.beatnet.BeatNet`), loaded with its front end: a
    frame-level network.

    Made by :func:`skmir.pretrained.load_pretrained` for the cards whose
    ``architecture`` is ``"beatnet"``. :meth:`frame_outputs` gives, for every 20-ms
    frame of :class:`BeatNetFrontend`, the probabilities of beat, downbeat and no beat
    (the card's ``tags``; they sum to 1) or a layer's output (:attr:`layers`:
    ``linear0``, the LSTM's input, and ``lstm``, its output, 150 each); frame ``i`` at
    ``frame_times(n)[i] = i / 50`` s. The LSTM is causal: a frame's outputs depend on
    the frames before it only.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("beatnet-1")
    >>> act = network.frame_outputs(np.zeros((1, 22050), "float32"))
    >>> act.shape, network.tags, network.frame_rate
    ((1, 50, 3), ['beat', 'downbeat', 'no beat'], 50.0)
    >>> network.frame_outputs(np.zeros((1, 22050), "float32"), "lstm").shape
    (1, 50, 150)
    """

    noun = "beatnet network"

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the card's network and read its safetensors weights (checked)."""
        from skmir.nn.beatnet import BeatNet

        name = card["name"]
        module = load_weights(BeatNet(**card["network"]), name, weights, device)
        layers = {layer: (int(width), True) for layer, width in card["layers"].items()}
        return cls(name=name, card=card, frontend=BeatNetFrontend(sr=SR), module=module,
                   layers=layers, auto_layers=tuple(card["auto_layers"]),
                   input_shape=(1, card["network"]["dim_in"]), device=device,
                   min_samples=1)

    def patches(self, spectrograms, patch_hop=None):
        """The network's input per clip, ``(n_clips, 1, n_frames, 272)``: the whole
        clip, frames in rows."""
        S = np.asarray(spectrograms, dtype=np.float32)
        return np.ascontiguousarray(np.swapaxes(S, 1, 2))[:, None]

    def probabilities(self, batch):
        """Beat, downbeat and no-beat probabilities, ``(batch, n_frames, 3)``."""
        return self.module(batch)

    def layer_outputs(self, batch, names):
        """The named layers' per-frame outputs ``(batch, n_frames, width)`` for a batch
        of network inputs ``(batch, n_frames, 272)``."""
        return self.module(batch, layers=names)

    def frame_outputs(self, waveforms, layer=None, *, batch_size=8, block_frames=BLOCK_FRAMES):
        """Per-frame probabilities (or a layer's output) of mono 22.05 kHz waveforms.

        Parameters
        ----------
        waveforms : array-like of shape (n_clips, n_samples)
            Mono audio at 22.05 kHz (a plain array is read at that rate; a
            :class:`skmir.Waveforms` must say so).
        layer : str or None, default=None
            None: the probabilities of beat, downbeat and no beat (:attr:`tags`);
            otherwise one of :attr:`layers`.
        batch_size : int, default=8
            Clips whose front end is computed at once; the network runs each clip on
            its own (a clip's outputs never depend on the clips beside it).
        block_frames : int or None, default=3000
            Frames per forward pass of a clip (60 s): the front end and the network
            run block by block, the LSTM's state carried from one to the next, so the
            outputs are those of one pass (within float rounding) in memory bounded by
            the block. None: one pass.

        Returns
        -------
        outputs : ndarray of float32, shape (n_clips, n_frames, k)
            ``n_frames = ceil(n_samples / 441)``; frame ``i`` centred at
            ``frame_times(n_frames)[i]`` (``i / 50`` s).
        """
        import torch

        from skmir._validation import check_fixed_rate_mono

        owner = self._frame_request(layer, batch_size)
        if block_frames is not None and (not isinstance(block_frames, Integral)
                                         or isinstance(block_frames, bool)
                                         or block_frames < 1):
            raise ValueError(f"{owner}: block_frames = {block_frames!r}: an int >= 1 or "
                             "None.")
        X = check_fixed_rate_mono(self.frontend, waveforms, SR, SR, reset=None, owner=owner)
        total = n_frames(X.shape[1])
        step = total if block_frames is None else int(block_frames)
        name = "probabilities" if layer is None else layer
        was_training = self.module.training
        self.module.eval()
        out = []
        try:
            with torch.no_grad():
                for c0 in range(0, len(X), batch_size):
                    clips = X[c0:c0 + batch_size]
                    states, blocks = [None] * len(clips), []
                    for b0 in range(0, total, step):
                        features = beatnet_features(clips, b0, min(total, b0 + step))
                        # one clip per forward pass: a clip's outputs do not depend on
                        # the clips beside it (BLAS rounds by the batch's shape)
                        values = []
                        for i, clip in enumerate(features):
                            value, states[i] = self.module(
                                torch.from_numpy(clip[None]).to(self.device), [name],
                                state=states[i], return_state=True)
                            values.append(value[name].float().cpu().numpy())
                        blocks.append(np.concatenate(values))
                    out.append(np.concatenate(blocks, axis=1))
        finally:
            self.module.train(was_training)
        return np.concatenate(out)


def decode_beats(activations, *, threshold=THRESHOLD, min_interval=MIN_INTERVAL,
                 frame_rate=FRAME_RATE, frame_offset=0.0):
    """Beat and downbeat times from BeatNet's activations, by peak picking.

    The rule: a beat is a peak of the summed beat and downbeat probabilities ``p =
    act[:, 0] + act[:, 1]`` (the probability of any beat) found by
    :func:`scipy.signal.find_peaks` with ``height=threshold`` and ``distance =
    max(1, round(min_interval * frame_rate))`` frames (a local maximum at least
    ``threshold`` high; of two peaks closer than ``distance``, the lower is dropped);
    it is a downbeat when its downbeat probability exceeds its beat probability
    (``act[i, 1] > act[i, 0]``). Its time is its frame's, ``frame_offset + i /
    frame_rate``. No tempo or meter model: BeatNet's particle filter and madmom's DBN
    are not ported.

    Parameters
    ----------
    activations : array-like of shape (n_frames, 2 or 3)
        Beat, downbeat (and no-beat) probabilities per frame, e.g. one clip of
        :meth:`BeatNetNetwork.frame_outputs`.
    threshold : float, default=0.4
        Smallest summed probability of a beat.
    min_interval : float, default=0.25
        Shortest time between two beats in seconds (240 BPM); 0: any two peaks.
    frame_rate : float, default=50.0
        Frames per second.
    frame_offset : float, default=0.0
        Time of frame 0 in seconds.

    Returns
    -------
    beats : ndarray of float64, shape (n_beats,)
        Every beat's time in seconds (downbeats included), increasing, as
        ``mir_eval.beat`` takes them.
    downbeats : ndarray of float64, shape (n_downbeats,)
        The downbeats among them.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.beatnet import decode_beats
    >>> act = np.zeros((100, 3))
    >>> act[:, 2] = 1
    >>> act[[10, 35, 60, 85], :2] = [[0.1, 0.8], [0.7, 0.1], [0.6, 0.1], [0.2, 0.7]]
    >>> act[[11, 36], 0] = 0.5  # lower than their neighbours before: no peaks
    >>> beats, downbeats = decode_beats(act)
    >>> beats.tolist(), downbeats.tolist()
    ([0.2, 0.7, 1.2, 1.7], [0.2, 1.7])
    """
    from scipy.signal import find_peaks

    A = np.asarray(activations)
    if A.ndim != 2 or A.shape[1] not in (2, 3) or not np.issubdtype(A.dtype, np.number):
        raise ValueError(f"decode_beats: activations of shape {A.shape}: expected (n_frames, "
                         "3) (beat, downbeat, no beat) or (n_frames, 2) probabilities.")
    for label, value, low in (("threshold", threshold, None), ("min_interval", min_interval, 0),
                              ("frame_rate", frame_rate, None), ("frame_offset", frame_offset,
                                                                  None)):
        if not isinstance(value, Real) or isinstance(value, bool) or not np.isfinite(value) \
                or (low is not None and value < low) \
                or (label == "frame_rate" and value <= 0):
            allowed = {"threshold": "a number", "min_interval": "seconds >= 0",
                       "frame_rate": "frames per second > 0",
                       "frame_offset": "seconds"}[label]
            raise ValueError(f"decode_beats: {label} = {value!r}: {allowed}.")
    A = A.astype(np.float64)
    beat = A[:, 0] + A[:, 1]
    distance = max(1, round(min_interval * frame_rate))
    peaks, _ = find_peaks(beat, height=threshold, distance=distance)
    times = frame_offset + peaks / float(frame_rate)
    return times, times[A[peaks, 1] > A[peaks, 0]]
