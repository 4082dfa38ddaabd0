"""basic-pitch's note transcription network, with the original's windowing and decoding.

basic-pitch 0.4.0 (Bittner et al., 2022; Spotify, Apache-2.0, see
``LICENSE-basicpitch``) ships one network trained on GuitarSet, iKala, MAESTRO,
MedleyDB-Pitch and Slakh: from 22.05 kHz mono audio it gives, per frame of 256
samples, a pitch contour (264 bins, 3 per semitone from A0), note and onset posteriors
(88 keys). :mod:`skmir.pretrained.convert_basicpitch` converted its ONNX graph for
:class:`skmir.nn.basicpitch.BasicPitch`, whose CQT, normalisation and harmonic stacking
are layers of the module; ``tests/test_basicpitch.py`` checks it against the original
run by onnxruntime.

The audio goes to the network as basic-pitch's ``run_inference`` cuts it
(:func:`basicpitch_windows`): 3840 zeros (15 frames) before the audio, windows of
43844 samples every 36164 samples, each normalised on its own by the network; from
each window's 172 frames the 15 at each end are dropped and the rest are joined
(:func:`unwrap_windows`). A window's hop is not a whole number of frames (141.27), so
the frames lie 256 samples apart inside a window and 188 samples closer at each seam:
:func:`frame_times` gives each frame's centre. :func:`notes_from_outputs` is the
original's note creation (``basic_pitch.note_creation.model_output_to_notes``).

:func:`skmir.pretrained.load_pretrained` loads the network as a
:class:`BasicPitchNetwork` (``"basic-pitch"``): :meth:`~BasicPitchNetwork.frame_outputs`
runs the whole chain.
"""

from numbers import Integral

import numpy as np

from skmir.pretrained.network import NetworkFrontend, ShippedNetwork, load_weights

__all__ = ["BasicPitchNetwork", "BasicPitchWindows", "basicpitch_windows", "frame_times",
           "n_output_frames", "n_windows", "notes_from_outputs", "original_frame_times",
           "unwrap_windows"]

SR = 22050  # basic_pitch.constants.AUDIO_SAMPLE_RATE
HOP = 256  # FFT_HOP
WINDOW = SR * 2 - HOP  # AUDIO_N_SAMPLES: 43844
WINDOW_FRAMES = 1 + WINDOW // HOP  # 172 frames per window (ANNOT_N_FRAMES)
OVERLAP_FRAMES = 30  # run_inference's n_overlapping_frames
EDGE = OVERLAP_FRAMES // 2  # frames dropped at each end of a window
KEPT = WINDOW_FRAMES - 2 * EDGE  # 142
PAD = OVERLAP_FRAMES * HOP // 2  # 3840 zeros before the audio
WINDOW_HOP = WINDOW - OVERLAP_FRAMES * HOP  # 36164 samples between windows
ANNOTATIONS_FPS = SR // HOP  # 86: run_inference cuts the output with this whole number
MIDI_OFFSET = 21
MIN_SAMPLES = -(-SR // ANNOTATIONS_FPS)  # 257: shortest clip with one output frame


def n_windows(n_samples):
    """How many windows :func:`basicpitch_windows` cuts from a clip of ``n_samples``.

    Examples
    --------
    >>> from skmir.pretrained.basicpitch import n_windows
    >>> n_windows(22050), n_windows(22050 * 10)
    (1, 7)
    """
    return max(1, -(-(int(n_samples) + PAD) // WINDOW_HOP))


def n_output_frames(n_samples):
    """Output frames of a clip of ``n_samples``: ``floor(n_samples * 86 / 22050)``, as
    ``run_inference`` cuts them (its whole-number frame rate, 86, not 22050 / 256).

    Examples
    --------
    >>> from skmir.pretrained.basicpitch import n_output_frames
    >>> n_output_frames(22050), n_output_frames(256)
    (86, 0)
    """
    return int(np.floor(int(n_samples) * (ANNOTATIONS_FPS / SR)))


def basicpitch_windows(waveforms, start=0, stop=None):
    """Cut waveforms into basic-pitch's network inputs, as ``run_inference`` does.

    Parameters
    ----------
    waveforms : ndarray of shape (n_clips, n_samples)
        Mono audio at 22.05 kHz.
    start, stop : int, default=0 and None
        The windows to cut, ``start`` to ``stop - 1`` (None: to the last,
        :func:`n_windows`): each window is computed on its own by the network, so a
        long clip is run a few windows at a time this way, with the same result.

    Returns
    -------
    windows : ndarray of float32, shape (n_clips, stop - start, 43844)
        3840 zeros, then the audio, cut every 36164 samples; the last window is
        zero-padded.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.basicpitch import basicpitch_windows
    >>> w = basicpitch_windows(np.ones((2, 50000), "float32"))
    >>> w.shape, w[0, 0, 3839:3841].tolist(), float(w[0, 1, 0])
    ((2, 2, 43844), [0.0, 1.0], 1.0)
    >>> bool((basicpitch_windows(np.ones((2, 50000)), 1)[:, 0] == w[:, 1]).all())
    True
    """
    X = np.asarray(waveforms, dtype=np.float32)
    count = n_windows(X.shape[1])
    stop = count if stop is None else stop
    if not (isinstance(start, Integral) and isinstance(stop, Integral)
            and 0 <= start <= stop <= count):
        raise ValueError(f"basicpitch_windows: start = {start!r}, stop = {stop!r}: need "
                         f"0 <= start <= stop <= {count} (the clips' windows).")
    # the padded audio of windows start..stop-1 only, as audio sample indices
    lo = start * WINDOW_HOP - PAD
    hi = lo + max(stop - start - 1, 0) * WINDOW_HOP + WINDOW
    padded = np.zeros((X.shape[0], hi - lo), dtype=np.float32)
    a, b = max(lo, 0), min(hi, X.shape[1])
    if b > a:
        padded[:, a - lo:b - lo] = X[:, a:b]
    starts = np.arange(stop - start) * WINDOW_HOP
    if not len(starts):
        return np.zeros((X.shape[0], 0, WINDOW), np.float32)
    return np.stack([padded[:, s:s + WINDOW] for s in starts], axis=1)


def unwrap_windows(outputs, n_samples):
    """Join per-window outputs into one sequence per clip, as ``run_inference``'s
    ``unwrap_output``: 15 frames dropped at each end of each window, the rest
    concatenated and cut to :func:`n_output_frames`.

    Parameters
    ----------
    outputs : ndarray of shape (n_clips, n_windows, 172, ...)
    n_samples : int
        Samples of the clips.

    Returns
    -------
    frames : ndarray of shape (n_clips, n_output_frames(n_samples), ...)

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.basicpitch import unwrap_windows
    >>> unwrap_windows(np.zeros((1, 7, 172, 88)), 22050 * 10).shape
    (1, 860, 88)
    """
    out = np.asarray(outputs)[:, :, EDGE:-EDGE]
    out = out.reshape(out.shape[0], out.shape[1] * out.shape[2], *out.shape[3:])
    return out[:, :n_output_frames(n_samples)]


def frame_times(n_frames):
    """Centre in seconds of each output frame of :func:`unwrap_windows`.

    Frame ``j`` is frame ``j % 142 + 15`` of window ``j // 142``, whose sample ``k *
    256`` is audio sample ``w * 36164 + k * 256 - 3840``. (The original's
    ``note_creation.model_frames_to_time`` approximates this with a per-172-frame
    correction and a fitted 1.8 ms; it differs by up to 10.5 ms over ten minutes,
    less than a frame, slowly more beyond.)

    Examples
    --------
    >>> from skmir.pretrained.basicpitch import frame_times
    >>> (frame_times(144) * 22050).round().astype(int)[[0, 1, 141, 142, 143]].tolist()
    [0, 256, 36096, 36164, 36420]
    """
    j = np.arange(int(n_frames))
    return ((j // KEPT) * WINDOW_HOP + (j % KEPT) * HOP) / SR


class BasicPitchWindows(NetworkFrontend):
    """basic-pitch's front end: 22.05 kHz mono waveforms to the network's windows.

    The CQT, its normalisation and the harmonic stacking are layers of the network
    (:class:`skmir.nn.basicpitch.BasicPitch`), so the front end only checks the audio
    and cuts it as ``run_inference`` does (:func:`basicpitch_windows`): ``(n_clips,
    n_windows, 43844)`` float32 out. Stateless: ``fit`` only checks the input.

    Parameters
    ----------
    sr : {None, 22050}, default=None
        The rate of plain-array input: None takes no plain array (X must say its rate:
        :class:`skmir.Waveforms`, as :class:`skmir.AudioLoader` returns), 22050
        declares that plain arrays are at 22.05 kHz. basic-pitch was trained at
        22.05 kHz only, and skmir never resamples silently.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.basicpitch import BasicPitchWindows
    >>> BasicPitchWindows(sr=22050).fit_transform(np.zeros((2, 22050), "float32")).shape
    (2, 1, 43844)
    """

    RATE = SR

    def transform(self, X):
        """The network's windows, ``(n_clips, n_windows, 43844)``."""
        return basicpitch_windows(self.check(X))


class BasicPitchNetwork(ShippedNetwork):
    """basic-pitch's network (:class:`skmir.nn.basicpitch.BasicPitch`), loaded with its
    windowing.

    Made by :func:`skmir.pretrained.load_pretrained` for cards whose ``architecture``
    is ``"basicpitch"``. Frame-level: :meth:`frame_outputs` gives, per output frame,
    the 264 contour, 88 note and 88 onset posteriors (the card's ``tags``), all three
    because basic-pitch's note creation reads all three
    (:func:`notes_from_outputs`); or one named layer. ``layers`` maps each layer to
    its width per frame (frequency x channels, channels last).

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained import load_pretrained
    >>> network = load_pretrained("basic-pitch")
    >>> out = network.frame_outputs(np.zeros((1, 22050), "float32"))
    >>> out.shape, network.tags[264], network.frame_times(out.shape[1])[:2].round(4)
    ((1, 86, 440), 'note:A0', array([0.    , 0.0116]))
    """

    noun = "basic-pitch network"

    @classmethod
    def from_card(cls, card, weights, device):
        """Build the network of a checked card from its checked safetensors weights."""
        from skmir.nn.basicpitch import BasicPitch

        name, network = card["name"], card["network"]
        module = load_weights(BasicPitch(n_filters_contour=network["n_filters_contour"],
                                         n_filters_notes=network["n_filters_notes"],
                                         n_filters_onsets=network["n_filters_onsets"]),
                              name, weights, device)
        layers = {layer: (int(width), True) for layer, width in card["layers"].items()}
        return cls(name=name, card=card, frontend=BasicPitchWindows(sr=SR), module=module,
                   layers=layers, auto_layers=tuple(card["auto_layers"]),
                   input_shape=(1, WINDOW), device=device, min_samples=MIN_SAMPLES,
                   patch_frames=WINDOW_FRAMES)

    def n_patches(self, n_samples, patch_hop=None):
        """How many 43844-sample windows a clip of ``n_samples`` gives."""
        return n_windows(n_samples)

    def patches(self, spectrograms, patch_hop=None):
        """The front end's windows are the network's inputs: ``(n_clips, n_windows,
        43844)`` float32."""
        return np.ascontiguousarray(spectrograms, dtype=np.float32)

    def layer_outputs(self, batch, names):
        """The named layers of a batch of windows, time first and channels last."""
        return self.module(batch, layers=names)

    def probabilities(self, batch):
        """Refused: basic-pitch has no clip-level tags; see :meth:`frame_outputs`."""
        self.require_level("clip", f"{self.name}.probabilities")

    def frame_times(self, n_frames):
        """Centre in seconds of each of ``n_frames`` output frames (:func:`frame_times`):
        256 samples apart inside a window, 188 samples less across a window seam."""
        return frame_times(n_frames)

    def frame_outputs(self, waveforms, layer=None, *, batch_size=8):
        """Per-frame outputs over 22.05 kHz mono waveforms, as basic-pitch's
        ``run_inference`` computes them.

        Parameters
        ----------
        waveforms : array-like of shape (n_clips, n_samples)
            Mono audio at 22.05 kHz (a plain array is taken as such; a
            :class:`skmir.Waveforms` at another rate is refused), at least 257 samples
            (one output frame).
        layer : str or None, default=None
            None: the 440 posteriors (contour, note, onset; the card's ``tags``);
            otherwise one of :attr:`layers`, flattened per frame (frequency x
            channels, channels last).
        batch_size : int, default=8
            Windows (2 s each) per forward pass.

        Returns
        -------
        outputs : ndarray of float32, shape (n_clips, n_frames, k)
            ``n_frames = floor(n_samples * 86 / 22050)``; frame ``i`` at
            ``frame_times(n_frames)[i]``.
        """

        owner = self._frame_request(layer, batch_size)
        X = self.frontend.check(waveforms)
        if X.shape[1] < MIN_SAMPLES:
            raise ValueError(f"{owner}: clips have {X.shape[1]} sample(s); basic-pitch gives "
                             f"floor(n_samples * 86 / 22050) frames, the first from "
                             f"{MIN_SAMPLES} samples; use longer clips.")
        out = self.window_outputs(X, layer, batch_size=batch_size)
        return np.ascontiguousarray(unwrap_windows(out, X.shape[1]), dtype=np.float32)

    def window_outputs(self, waveforms, layer=None, start=0, stop=None, *, batch_size=8):
        """The network's outputs of windows ``start`` to ``stop - 1`` of validated
        waveforms, all 172 frames of each (:meth:`frame_outputs` keeps the middle 142).

        Parameters
        ----------
        waveforms : ndarray of float32, shape (n_clips, n_samples)
            Mono audio at 22.05 kHz, validated by the caller.
        layer : str or None, default=None
            As in :meth:`frame_outputs`.
        start, stop : int, default=0 and None
            Windows of :func:`basicpitch_windows`.
        batch_size : int, default=8

        Returns
        -------
        outputs : ndarray of float32, shape (n_clips, stop - start, 172, k)
        """
        import torch

        names = ("contour", "note", "onset") if layer is None else (layer,)
        windows = basicpitch_windows(waveforms, start, stop)
        n_clips, count = windows.shape[:2]
        flat = windows.reshape(n_clips * count, WINDOW)
        was_training = self.module.training
        self.module.eval()
        out = []
        try:
            with torch.no_grad():
                for first in range(0, len(flat), batch_size):
                    batch = torch.from_numpy(flat[first:first + batch_size]).to(self.device)
                    res = self.module(batch, layers=names)
                    out.append(torch.cat([res[n].reshape(len(batch), WINDOW_FRAMES, -1)
                                          for n in names], -1).float().cpu().numpy())
        finally:
            self.module.train(was_training)
        return np.concatenate(out).reshape(n_clips, count, WINDOW_FRAMES, -1)


def original_frame_times(n_frames):
    """The frame times basic-pitch's note creation uses (its
    ``model_frames_to_time``): ``i * 256 / 22050`` less 10.3 ms per 172 frames (a
    correction for the window seams with a fitted 1.8 ms). Within 10.5 ms of the
    frames' centres (:func:`frame_times`) over ten minutes.

    Examples
    --------
    >>> from skmir.pretrained.basicpitch import original_frame_times
    >>> original_frame_times(173)[[1, 172]].round(4).tolist()
    [0.0116, 1.9866]
    """
    i = np.arange(int(n_frames))
    offset = (HOP / SR) * (WINDOW_FRAMES - (WINDOW / HOP)) + 0.0018
    return (i * HOP) / float(SR) - offset * np.floor(i / WINDOW_FRAMES)


def notes_from_outputs(note, onset, *, onset_threshold=0.5, frame_threshold=0.3,
                       min_note_frames=11, infer_onsets=True, melodia_trick=True,
                       min_freq=None, max_freq=None, energy_tol=11, times=None):
    """basic-pitch's note creation: note events from the note and onset posteriors.

    A port of ``basic_pitch.note_creation.model_output_to_notes`` with pitch bends off
    (``output_to_notes_polyphonic``, ``get_infered_onsets``, ``constrain_frequency``;
    Apache-2.0, Spotify AB): onsets are the local maxima in time of the onset
    posteriors (or of the rises of the note posteriors, ``infer_onsets``) above
    ``onset_threshold``, latest first; each note lasts while its key's note posterior
    stays above ``frame_threshold`` (up to ``energy_tol`` frames below), is dropped if
    not longer than ``min_note_frames``, and clears its key and the two next to it;
    the melodia trick then makes notes around the strongest remaining frames. Equal to
    the original's events for the same float32 posteriors (tested).

    Parameters
    ----------
    note, onset : ndarray of shape (n_frames, 88)
        Posteriors of keys A0 (MIDI 21) to C8, e.g. columns 264:352 and 352:440 of
        :meth:`BasicPitchNetwork.frame_outputs`.
    onset_threshold, frame_threshold : float, default=0.5, 0.3
        basic-pitch's ``onset_threshold`` and ``frame_threshold``.
    min_note_frames : int, default=11
        Shortest note kept is ``min_note_frames + 1`` frames; basic-pitch's default,
        127.70 ms, is ``round(0.1277 * 22050 / 256) = 11``.
    infer_onsets, melodia_trick : bool, default=True
    min_freq, max_freq : float or None, default=None
        Keys outside are cleared (Hz, rounded to the nearest key as the original).
    energy_tol : int, default=11
        Frames below ``frame_threshold`` a note may span.
    times : ndarray of shape (n_frames,) or None, default=None
        Time of each frame; None: the original's (:func:`original_frame_times`);
        :func:`frame_times` gives the frames' centres.

    Returns
    -------
    notes : ndarray of float64, shape (n_notes, 4)
        ``(start_s, end_s, midi_pitch, amplitude)``, in the original's order (onset
        notes latest first, then the melodia notes); amplitude is the mean note
        posterior over the note.

    Examples
    --------
    >>> import numpy as np
    >>> from skmir.pretrained.basicpitch import notes_from_outputs
    >>> note, onset = np.zeros((100, 88), "float32"), np.zeros((100, 88), "float32")
    >>> note[10:60, 48] = 0.9  # MIDI 69, A4
    >>> onset[10, 48] = 0.8
    >>> notes_from_outputs(note, onset).round(3).tolist()
    [[0.116, 0.697, 69.0, 0.9]]
    """
    import scipy.signal

    frames, onsets = np.array(note), np.array(onset)
    if frames.ndim != 2 or frames.shape != onsets.shape or frames.shape[1] != 88:
        raise ValueError(f"notes_from_outputs: note and onset must both be (n_frames, 88) "
                         f"posteriors; got shapes {np.shape(note)} and {np.shape(onset)}.")
    n_frames = frames.shape[0]
    times = original_frame_times(n_frames) if times is None else np.asarray(times)
    if max_freq is not None:
        idx = int(np.round(_hz_to_midi(max_freq) - MIDI_OFFSET))
        onsets[:, idx:] = 0
        frames[:, idx:] = 0
    if min_freq is not None:
        idx = int(np.round(_hz_to_midi(min_freq) - MIDI_OFFSET))
        onsets[:, :idx] = 0
        frames[:, :idx] = 0
    if infer_onsets:
        onsets = _inferred_onsets(onsets, frames)

    peaks = np.zeros(onsets.shape)
    where = scipy.signal.argrelmax(onsets, axis=0)
    peaks[where] = onsets[where]
    onset_idx = np.where(peaks >= onset_threshold)
    remaining = np.zeros(frames.shape)
    remaining[:, :] = frames[:, :]
    last_key = 87
    events = []
    for start, key in zip(onset_idx[0][::-1], onset_idx[1][::-1]):
        if start >= n_frames - 1:
            continue
        i, k = start + 1, 0
        while i < n_frames - 1 and k < energy_tol:
            k = k + 1 if remaining[i, key] < frame_threshold else 0
            i += 1
        i -= k
        if i - start <= min_note_frames:
            continue
        remaining[start:i, key] = 0
        if key < last_key:
            remaining[start:i, key + 1] = 0
        if key > 0:
            remaining[start:i, key - 1] = 0
        events.append((start, i, key + MIDI_OFFSET, np.mean(frames[start:i, key])))

    if melodia_trick:
        # the original takes the max and argmax of the whole array for every note,
        # which grows with the square of the clip's length (a 10-minute clip spent
        # more time here than in the network); each frame's max, updated where a note
        # clears frames, gives the same frame and key: np.argmax's first maximum in
        # row-major order is in the first frame whose max is the largest
        frame_max = remaining.max(axis=1)
        while frame_max.max() > frame_threshold:
            mid = int(np.argmax(frame_max))
            key = int(np.argmax(remaining[mid]))
            remaining[mid, key] = 0
            ends, cleared = [], [mid, mid]
            for step in (1, -1):
                i, k = mid + step, 0
                while (i < n_frames - 1 if step > 0 else i > 0) and k < energy_tol:
                    k = k + 1 if remaining[i, key] < frame_threshold else 0
                    remaining[i, key] = 0
                    if key < last_key:
                        remaining[i, key + 1] = 0
                    if key > 0:
                        remaining[i, key - 1] = 0
                    cleared = [min(cleared[0], i), max(cleared[1], i)]
                    i += step
                ends.append(i - step - step * k)
            frame_max[cleared[0]:cleared[1] + 1] = \
                remaining[cleared[0]:cleared[1] + 1].max(axis=1)
            end, begin = ends
            if end - begin <= min_note_frames:
                continue
            events.append((begin, end, key + MIDI_OFFSET, np.mean(frames[begin:end, key])))
    return np.array([[times[s], times[e], float(p), float(a)] for s, e, p, a in events],
                    dtype=np.float64).reshape(-1, 4)


def _hz_to_midi(freq):
    """librosa.hz_to_midi's formula, so keys round as in the original."""
    return 12 * (np.log2(np.asanyarray(freq)) - np.log2(440.0)) + 69


def _inferred_onsets(onsets, frames, n_diff=2):
    """note_creation.get_infered_onsets: the onsets, or the rises of the note
    posteriors over 1 and 2 frames scaled to the onsets' maximum, whichever is larger."""
    diffs = []
    for n in range(1, n_diff + 1):
        appended = np.concatenate([np.zeros((n, frames.shape[1])), frames])
        diffs.append(appended[n:, :] - appended[:-n, :])
    diff = np.min(diffs, axis=0)
    diff[diff < 0] = 0
    diff[:n_diff, :] = 0
    with np.errstate(invalid="ignore", divide="ignore"):  # all-zero rises: NaN, as the original
        diff = np.max(onsets) * diff / np.max(diff)
    return np.max([onsets, diff], axis=0)
