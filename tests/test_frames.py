"""Annotations to frame targets and back, exactly aligned with librosa's frames."""

import librosa
import mir_eval
import numpy as np
import pytest

from skmir.frames import (
    MAJMIN_CHORDS,
    chroma_targets,
    events_to_frames,
    f0_to_frames,
    frame_times,
    frames_to_segments,
    pick_events,
    reduce_to_majmin,
    segments_to_frames,
    template_chords,
)

SR, HOP = 22050, 512


def test_frame_times_are_librosas():
    np.testing.assert_allclose(frame_times(100, SR, HOP),
                               librosa.frames_to_time(np.arange(100), sr=SR, hop_length=HOP))


def test_events_round_trip_within_half_a_hop():
    rng = np.random.default_rng(0)
    onsets = np.sort(rng.uniform(0.1, 9.9, 30))
    onsets = onsets[np.diff(onsets, prepend=-1) > 0.1]  # at least a few frames apart
    n_frames = 1 + int(10 * SR) // HOP
    target = events_to_frames(onsets, n_frames, SR, HOP)
    assert target.sum() == len(onsets)
    picked = pick_events(target, SR, HOP)
    assert np.max(np.abs(picked - onsets)) <= 0.5 * HOP / SR + 1e-9
    assert mir_eval.onset.f_measure(onsets, picked, window=0.0117)[0] == 1.0


def test_a_one_frame_shift_is_detected():
    onsets = np.arange(0.5, 9.5, 0.5)
    n_frames = 1 + int(10 * SR) // HOP
    exact = pick_events(events_to_frames(onsets, n_frames, SR, HOP), SR, HOP)
    shifted = pick_events(np.roll(events_to_frames(onsets, n_frames, SR, HOP), 1), SR, HOP)
    tight = 0.5 * HOP / SR  # half a frame
    assert mir_eval.onset.f_measure(onsets, exact, window=tight)[0] == 1.0
    assert mir_eval.onset.f_measure(onsets, shifted, window=tight)[0] < 0.5


def test_event_width_and_out_of_range():
    target = events_to_frames([0.0, 0.5, 99.0], 10, sr=10, hop_length=1, width=1)
    assert target.tolist() == [1, 1, 0, 0, 1, 1, 1, 0, 0, 0]


def test_chord_segments_round_trip_with_mir_eval():
    intervals = np.array([[0.0, 1.0], [1.0, 2.5], [2.5, 4.0]])
    labels = ["C:maj", "A:min", "G:maj"]
    n_frames = 1 + int(4 * SR) // HOP
    idx = segments_to_frames(intervals, labels, n_frames, SR, HOP, classes=MAJMIN_CHORDS)
    est_iv, est_lab = frames_to_segments(idx, SR, HOP, classes=MAJMIN_CHORDS)
    assert est_lab == labels
    # boundaries move by at most half a hop
    assert np.max(np.abs(est_iv[1:, 0] - intervals[1:, 0])) <= 0.5 * HOP / SR + 1e-9
    scores = mir_eval.chord.evaluate(intervals, labels, est_iv, est_lab)
    assert scores["majmin"] > 0.99


def test_segments_errors():
    with pytest.raises(ValueError, match="2 intervals but 1 labels"):
        segments_to_frames([[0, 1], [1, 2]], ["C:maj"], 10)
    with pytest.raises(ValueError, match=r"\['C:maj7'\] are not among the classes"):
        segments_to_frames([[0, 1]], ["C:maj7"], 10, classes=MAJMIN_CHORDS)


def test_majmin_reduction_and_chroma_targets():
    assert len(MAJMIN_CHORDS) == 25
    assert [reduce_to_majmin(c) for c in ["C:maj7", "Eb:min", "F#:7", "N", "B:dim"]] == \
        ["C:maj", "D#:min", "F#:maj", "N", "B:min"]
    target = chroma_targets([[0, 1], [1, 2]], ["G:7", "N"], 4, sr=2, hop_length=1)
    assert target[0].nonzero()[0].tolist() == [2, 5, 7, 11]  # G B D F
    assert target[2].sum() == 0


def test_f0_to_frames_follows_the_annotation():
    times = np.arange(0, 2, 0.01)
    f0 = np.where(times < 1, 220.0, 0.0)
    out = f0_to_frames(times, f0, 1 + 2 * SR // HOP, SR, HOP)
    t = frame_times(len(out), SR, HOP)
    assert np.all(out[t < 0.99] == 220.0) and np.all(out[t > 1.01] == 0)


def test_template_chords_recognise_triads_in_real_chroma():
    # librosa's chroma of synthesised triads, not hand-made vectors
    sr = 16000
    t = np.arange(sr) / sr
    notes = {"C:maj": (60, 64, 67), "A:min": (57, 60, 64), "F#:maj": (66, 70, 73)}
    for label, midi in notes.items():
        y = sum(np.sin(2 * np.pi * librosa.midi_to_hz(m) * t) for m in midi)
        chroma = librosa.feature.chroma_cqt(y=y, sr=sr)
        classes = template_chords(chroma)
        assert MAJMIN_CHORDS[np.bincount(classes).argmax()] == label
    assert MAJMIN_CHORDS[template_chords(np.zeros((12, 4)))[0]] == "N"
    with pytest.raises(ValueError, match=r"\(12, n_frames\)"):
        template_chords(np.zeros((24, 4)))
