"""Tests of skmir.datasets: make_music's clips, labels and annotations, write_audio_folder.

The annotation tests check the ground truth against what standard MIR tools hear in
the audio (librosa onsets, pYIN f0, chroma key templates), so a wrong annotation
cannot hide behind a self-consistent generator. Clips are short and at 8-16 kHz to
keep the file fast.
"""

import hashlib
import json
import os

import librosa
import mir_eval
import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skmir import AudioLoader, Waveforms, load_audio_folder
from skmir.datasets import TAGS, TASKS, make_music, write_audio_folder
from skmir.datasets._harmony import SCALES
from skmir.datasets._instruments import (
    BASS_INSTRUMENTS,
    COMP_INSTRUMENTS,
    INSTRUMENTS,
    LEAD_INSTRUMENTS,
    LEAD_RANGES,
    Instrument,
    get_instrument,
)

SMALL = dict(n_clips=3, duration=1.5, sr=8000, random_state=0)


@pytest.fixture(scope="module")
def melody_only():
    """Monophonic melodies (no drums, no accompaniment): one per lead instrument."""
    return make_music("instrument", n_clips=10, duration=4.0, sr=16000, drums=False,
                      accompaniment=False, random_state=1)


# --- shapes, types, targets ---------------------------------------------------------

def test_bunch_contents():
    music = make_music("genre", n_clips=3, duration=2.0, sr=16000, random_state=0)
    X = music.data
    assert isinstance(X, Waveforms) and X.sr == 16000 == music.sr
    assert X.shape == (3, 32000) and X.dtype == np.float32
    assert np.isfinite(X).all()
    peaks = np.abs(X).max(axis=1)
    assert np.all(peaks <= 0.9 + 1e-6) and np.all(peaks > 0.1)  # peak-normalised, no clipping
    assert music.task == "genre" and len(music.annotations) == 3
    assert "make_music" in music.DESCR and "Calibration" in music.DESCR
    for key in ["genre", "key", "tonic", "mode", "tempo", "meter", "lead", "instruments",
                "drums"]:
        assert len(music.metadata[key]) == 3, key
    assert list(music.target_names[music.target]) == list(music.metadata["genre"])


@pytest.mark.parametrize("task", TASKS)
def test_target_per_task(task):
    X, y = make_music(task, return_X_y=True, **SMALL)
    assert isinstance(X, Waveforms) and X.sr == 8000 and X.shape == (3, 12000)
    music = make_music(task, **SMALL)
    np.testing.assert_array_equal(music.target, y)
    if task == "tempo":
        assert y.dtype.kind == "f" and y.shape == (3,)
        assert np.all((y >= 60) & (y <= 180))
        assert music.target_names is None
    elif task == "tags":
        assert y.shape == (3, len(TAGS)) and set(np.unique(y)) <= {0, 1}
        assert list(music.target_names) == list(TAGS)
        named = [set(music.target_names[row == 1]) for row in y]
        for tags, meta_genre, mode, lead in zip(named, music.metadata["genre"],
                                                music.metadata["mode"], music.metadata["lead"]):
            assert {meta_genre, mode, lead} <= tags
            assert len(tags & {"major", "minor"}) == 1
    else:
        n_classes = {"genre": 8, "instrument": 10, "key": 24, "mode": 2}[task]
        assert y.dtype.kind == "i" and y.shape == (3,)
        assert len(music.target_names) == n_classes and 0 <= y.min() and y.max() < n_classes
        column = {"genre": "genre", "instrument": "lead", "key": "key", "mode": "mode"}[task]
        assert list(music.target_names[y]) == list(music.metadata[column])


def test_classes_are_balanced():
    music = make_music("mode", n_clips=6, duration=1.5, sr=8000, random_state=3)
    assert np.bincount(music.target).tolist() == [3, 3]
    music = make_music("genre", n_clips=8, duration=1.5, sr=8000, random_state=3)
    assert sorted(music.target) == list(range(8))


def test_tempo_range_and_all_keys():
    music = make_music("key", n_clips=24, duration=1.5, sr=8000, random_state=0)
    assert sorted(music.target) == list(range(24))
    tempo = music.metadata["tempo"]
    assert np.all((tempo >= 60) & (tempo <= 180)) and tempo.std() > 5


def test_drums_and_accompaniment_switches():
    music = make_music("tags", n_clips=4, duration=1.5, sr=8000, drums=False,
                       accompaniment=False, random_state=0)
    assert not music.metadata["drums"].any()
    assert all(inst == (lead,) for inst, lead in zip(music.metadata["instruments"],
                                                     music.metadata["lead"]))
    assert music.target[:, TAGS.index("drums")].sum() == 0


# --- determinism and independence of clips --------------------------------------------

def test_same_seed_same_clips_other_seed_other_clips():
    a = make_music("genre", **SMALL)
    b = make_music("genre", **SMALL)
    np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_array_equal(a.annotations[0]["onsets"], b.annotations[0]["onsets"])
    c = make_music("genre", **{**SMALL, "random_state": 1})
    assert not np.array_equal(a.data, c.data)
    d = make_music("genre", **{**SMALL, "random_state": np.random.RandomState(0)})
    e = make_music("genre", **{**SMALL, "random_state": np.random.RandomState(0)})
    np.testing.assert_array_equal(d.data, e.data)


def test_clips_do_not_depend_on_n_clips_or_n_jobs():
    few = make_music("key", n_clips=2, duration=1.5, sr=8000, random_state=7)
    many = make_music("key", n_clips=5, duration=1.5, sr=8000, random_state=7)
    np.testing.assert_array_equal(few.data, many.data[:2])
    np.testing.assert_array_equal(few.target, many.target[:2])
    assert few.annotations[1]["chords"]["labels"] == many.annotations[1]["chords"]["labels"]
    parallel = make_music("key", n_clips=5, duration=1.5, sr=8000, random_state=7, n_jobs=2)
    np.testing.assert_array_equal(parallel.data, many.data)


# --- annotations ----------------------------------------------------------------------

def test_annotations_are_consistent():
    duration = 4.0
    music = make_music("tempo", n_clips=4, duration=duration, sr=8000, random_state=2)
    for ann, tempo, key in zip(music.annotations, music.target, music.metadata["key"]):
        mir_eval.key.validate_key(key)
        onsets = ann["onsets"]
        assert np.all(np.diff(onsets) >= 0.03 - 1e-9)
        assert onsets.min() >= 0 and onsets.max() < duration
        beats = ann["beats"]
        np.testing.assert_allclose(np.diff(beats), 60 / tempo)
        assert np.isin(ann["downbeats"], beats).all() and len(ann["downbeats"]) >= 1
        iv, labels = ann["chords"]["intervals"], ann["chords"]["labels"]
        assert iv[0, 0] == 0 and iv[-1, 1] == duration
        np.testing.assert_allclose(iv[1:, 0], iv[:-1, 1])  # contiguous
        mir_eval.chord.encode_many(labels)  # valid Harte syntax
        times, f0 = ann["melody"]["times"], ann["melody"]["f0"]
        np.testing.assert_allclose(np.diff(times), 0.01)
        assert f0.min() >= 0 and (f0 > 0).mean() > 0.2
        notes = ann["notes"]
        assert notes["intervals"].shape == (len(notes["pitches"]), 2)
        mir_eval.transcription.validate(notes["intervals"], notes["pitches"],
                                        notes["intervals"], notes["pitches"])


def test_onsets_match_detected_onsets(melody_only):
    """SuperFlux onsets (librosa) find the annotated note starts: mean F >= 0.8.

    A 64 ms window (n_fft=1024) resolves sixteenths at 180 BPM (83 ms); librosa's
    default 128 ms window merges them. lag=2, max_size=3 (SuperFlux) ignore vibrato.
    """
    sr, hop = melody_only.sr, 160
    scores = []
    for x, ann in zip(melody_only.data, melody_only.annotations):
        env = librosa.onset.onset_strength(y=np.asarray(x), sr=sr, hop_length=hop, lag=2,
                                           max_size=3, n_fft=1024)
        est = librosa.onset.onset_detect(onset_envelope=env, sr=sr, hop_length=hop,
                                         units="time", backtrack=True, delta=0.1, wait=5)
        scores.append(mir_eval.onset.f_measure(ann["onsets"], est)[0])
    assert np.mean(scores) >= 0.8, np.round(scores, 2)


def test_melody_f0_matches_pyin(melody_only):
    """pYIN agrees with the annotated f0 within 50 cents on >= 90 % of voiced frames."""
    sr, hop = melody_only.sr, 160
    hits = voiced = 0
    for x, ann in zip(melody_only.data[:6], melody_only.annotations[:6]):
        f0, _, _ = librosa.pyin(np.asarray(x), fmin=100, fmax=2000, sr=sr, frame_length=1024,
                                hop_length=hop, fill_na=None)
        times = librosa.times_like(f0, sr=sr, hop_length=hop)
        ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(
            ann["melody"]["times"], ann["melody"]["f0"], times, f0)
        n = ref_v.sum()
        hits += mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c) * n
        voiced += n
    assert voiced > 500
    assert hits / voiced >= 0.9


def test_key_label_matches_chroma_templates():
    """Krumhansl-Kessler profiles on mean chroma find the key far above chance (1/24)."""
    sr = 16000
    music = make_music("key", n_clips=36, duration=5.0, sr=sr, random_state=0)
    major = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
    minor = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
    # Row k is key k of target_names: 12 major keys from C, then 12 minor keys.
    templates = np.array([np.roll(p, k) for p in (major, minor) for k in range(12)])
    templates = (templates - templates.mean(1, keepdims=True)) / templates.std(1, keepdims=True)
    chroma = np.stack([
        librosa.feature.chroma_cqt(y=np.asarray(x), sr=sr, fmin=librosa.note_to_hz("C2"),
                                   n_octaves=6).mean(axis=1)
        for x in music.data
    ])
    chroma = (chroma - chroma.mean(1, keepdims=True)) / chroma.std(1, keepdims=True)
    estimate = np.argmax(chroma @ templates.T, axis=1)
    assert music.target_names[0] == "C major" and music.target_names[21] == "A minor"
    accuracy = np.mean(estimate == music.target)
    assert accuracy >= 0.25, accuracy  # chance is 0.042


# --- harmony: plain stays as published, rich keeps its labels exact -------------------

# SHA-256 of make_music(task, n_clips=4, duration=2.0, sr=8000, random_state=0): the
# waveforms' bytes and the JSON of the chord labels. Fixed because the README's
# published figures were measured on harmony="plain" clips: adding harmony="rich" (or
# anything later) must not change a single plain sample. Recorded with numpy 2.4 and
# scipy 1.17 before "rich" existed; a numpy/scipy whose floating point differs would
# change them without any change to skmir.
PLAIN_DIGESTS = {
    "genre": ("a3f40731b7a9634a106c861f3418bceb8d71891e12408f4bf99ba859615c356c",
              "7154874ff759069567767157ca914c4f4859615420198105278502f1d243aaaf"),
    "key": ("25ec874252505f0d9c6e45a1a62ad73df9e85a56446f7f46967a39d3c210b699",
            "1df572466369f4327e893a36649d0de7c4147d664285b7bb387ca8640c37761e"),
    "mode": ("106f86da440ac72a24d13c484357c19663d4f8f95210ce85cf068386afa2f7db",
             "2b5032797c0ebdc883504a9224ee0f0f74d6f37b91d0d0cf6e906a0907206874"),
}


# Which numpy and scipy the digests were recorded with (major.minor).
DIGEST_VERSIONS = {"numpy": "2.4", "scipy": "1.17"}


def _other_floating_point():
    import scipy

    found = {"numpy": np.__version__, "scipy": scipy.__version__}
    return any(not found[k].startswith(v + ".") for k, v in DIGEST_VERSIONS.items())


@pytest.mark.skipif(_other_floating_point(),
                    reason="digests recorded with numpy 2.4 / scipy 1.17; other versions "
                           "may round differently without any change to skmir")
@pytest.mark.parametrize("task", sorted(PLAIN_DIGESTS))
def test_plain_harmony_is_bit_identical_to_the_published_clips(task):
    music = make_music(task, n_clips=4, duration=2.0, sr=8000, random_state=0)
    labels = [ann["chords"]["labels"] for ann in music.annotations]
    data = hashlib.sha256(music.data.tobytes()).hexdigest()
    chords = hashlib.sha256(json.dumps(labels).encode()).hexdigest()
    assert (data, chords) == PLAIN_DIGESTS[task]
    explicit = make_music(task, n_clips=4, duration=2.0, sr=8000, random_state=0,
                          harmony="plain")
    np.testing.assert_array_equal(explicit.data, music.data)


@pytest.fixture(scope="module")
def rich_pair():
    """The same dealt keys with plain and rich harmony (no drums: cleaner chroma)."""
    kw = dict(n_clips=24, duration=4.0, sr=8000, drums=False, random_state=5)
    return make_music("key", **kw), make_music("key", harmony="rich", **kw)


def _chord_tones(label):
    root, bitmap, bass = mir_eval.chord.encode(label)
    return {int(root + k) % 12 for k in np.flatnonzero(bitmap)}, (root + bass) % 12


def _chord_at(ann, t):
    iv, labels = ann["chords"]["intervals"], ann["chords"]["labels"]
    k = np.searchsorted(iv[:, 0], t, side="right") - 1
    return labels[max(k, 0)]


def test_rich_harmony_keeps_the_key_label_and_tunes_within_50_cents(rich_pair):
    plain, rich = rich_pair
    np.testing.assert_array_equal(rich.target, plain.target)
    assert list(rich.metadata["key"]) == list(plain.metadata["key"])
    assert list(rich.metadata["mode"]) == list(plain.metadata["mode"])
    assert np.all(np.abs(plain.metadata["tuning"]) <= 10)
    tuning = rich.metadata["tuning"]
    assert np.all(np.abs(tuning) <= 50) and np.abs(tuning).max() > 10
    for ann, cents in zip(rich.annotations, tuning):  # the notes carry the tuning
        midi = 69 + 12 * np.log2(ann["notes"]["pitches"] / 440) - cents / 100
        np.testing.assert_allclose(midi, np.round(midi), atol=1e-6)


def test_rich_chord_labels_parse_and_are_the_chords_played(rich_pair):
    """Each chord's tones hold more chroma over its span than the other pitch classes."""
    _, rich = rich_pair
    hop, sr = 256, rich.sr
    hits = spans = 0
    for x, ann, cents in zip(rich.data, rich.annotations, rich.metadata["tuning"]):
        mir_eval.chord.encode_many(ann["chords"]["labels"])
        chroma = librosa.feature.chroma_cqt(y=np.asarray(x), sr=sr, hop_length=hop,
                                            fmin=librosa.note_to_hz("C2"), n_octaves=5,
                                            tuning=cents / 100)
        for (a, b), label in zip(ann["chords"]["intervals"], ann["chords"]["labels"]):
            frames = chroma[:, int(a * sr / hop) + 1 : int(b * sr / hop)]
            if frames.shape[1] < 3:
                continue
            tones, _ = _chord_tones(label)
            mean = frames.mean(axis=1)
            others = [pc for pc in range(12) if pc not in tones]
            spans += 1
            hits += mean[sorted(tones)].mean() > mean[others].mean()
    assert spans > 50 and hits / spans >= 0.9, (hits, spans)


def _progressions(music):
    """Per clip: the key (tonic, mode) and the chords as (root, tones, bass, label)."""
    for ann, tonic, mode in zip(music.annotations, music.metadata["tonic"],
                                music.metadata["mode"]):
        chords = []
        for label in ann["chords"]["labels"]:
            tones, bass = _chord_tones(label)
            chords.append((mir_eval.chord.encode(label)[0], tones, bass, label))
        yield tonic, mode, chords


def test_rich_harmony_plays_secondary_dominants_borrowed_chords_and_inversions(rich_pair):
    counts = []
    for music in rich_pair:
        secondary = borrowed = inverted = 0
        for tonic, mode, chords in _progressions(music):
            scale = set((tonic + SCALES[mode]) % 12)
            if mode == "minor":  # the raised leading tone of V is no borrowing
                scale.add((tonic + 11) % 12)
            for (root, tones, bass, _), nxt in zip(chords, chords[1:] + [None]):
                major = (root + 4) % 12 in tones
                # V/x: a chromatic major chord a fifth above the next chord (not I).
                secondary += bool(nxt and tones - scale and major and nxt[0] != tonic
                                  and (root - nxt[0]) % 12 == 7)
                degree = (root - tonic) % 12
                borrowed += bool(tones - scale) and (
                    (mode == "major" and (degree, major) in {(5, False), (8, True)})
                    or (mode == "minor" and (degree, major) == (5, True)))
                inverted += bass != root
        counts.append((secondary, borrowed, inverted))
    (plain_sec, plain_bor, plain_inv), (sec, bor, inv) = counts
    assert plain_sec == plain_bor == plain_inv == 0, counts
    assert sec >= 3 and bor >= 3 and inv >= 5, counts


def test_rich_melody_has_non_chord_tones():
    """The notes annotation holds chromatic non-chord tones; plain melodies have none.

    Chromatic: outside both the key's scale and the chord under the note (the
    diatonic passing and neighbour tones that plain melodies have are not counted).
    """
    counts = []
    for harmony in ("plain", "rich"):
        music = make_music("key", n_clips=24, duration=8.0, sr=8000, drums=False,
                           accompaniment=False, random_state=5, harmony=harmony)
        chromatic = 0
        for ann, tonic, mode, cents in zip(music.annotations, music.metadata["tonic"],
                                           music.metadata["mode"], music.metadata["tuning"]):
            scale = set((tonic + SCALES[mode]) % 12)
            for (on, _), hz in zip(ann["notes"]["intervals"], ann["notes"]["pitches"]):
                pc = int(round(69 + 12 * np.log2(hz / 440) - cents / 100)) % 12
                tones, _ = _chord_tones(_chord_at(ann, on))
                chromatic += pc not in scale | tones
        counts.append(chromatic)
    assert counts[0] == 0 and counts[1] >= 5, counts


# --- errors ---------------------------------------------------------------------------

def test_harmony_is_validated_by_sklearn():
    with pytest.raises(InvalidParameterError, match="'harmony' parameter"):
        make_music(harmony="x", **SMALL)


@pytest.mark.parametrize("kwargs, match", [
    (dict(task="chords"), r"'task' parameter .*'genre'.*Got 'chords'"),
    (dict(n_clips=0), r"'n_clips' parameter .* range \[1, inf\)\. Got 0"),
    (dict(duration=0.0), r"'duration' parameter .* range \(0.0, inf\). Got 0.0"),
    (dict(duration=1.0), r"duration=1.0 s is too short.*>= 1.33 s"),
    (dict(sr=4000), r"sr=4000 Hz is too low.*sr >= 8000"),
    (dict(drums="yes"), r"'drums' parameter"),
    (dict(harmony="x"), r"'harmony' parameter .*'plain'.*Got 'x'"),
])
def test_errors_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):  # InvalidParameterError is a ValueError
        make_music(**{**SMALL, **kwargs})


# --- write_audio_folder ---------------------------------------------------------------

def test_write_audio_folder_round_trip(tmp_path):
    music = make_music("mode", n_clips=4, duration=1.5, sr=8000, random_state=0)
    names = music.target_names[music.target]
    paths = write_audio_folder(music.data, names, tmp_path)
    assert len(paths) == 4 and all(os.path.isfile(p) for p in paths)
    assert not [f for d in tmp_path.iterdir() for f in os.listdir(d) if f.endswith(".tmp")]
    found, labels = load_audio_folder(tmp_path)
    assert sorted(found) == sorted(paths)
    assert sorted(labels) == sorted(names)
    X = AudioLoader(sr=8000).fit_transform(paths)
    np.testing.assert_allclose(X, music.data, atol=1e-4)  # PCM_16 quantisation
    paths = write_audio_folder(music.data, names, tmp_path / "float", subtype="FLOAT")
    np.testing.assert_array_equal(AudioLoader(sr=8000).fit_transform(paths), music.data)


def test_write_audio_folder_errors(tmp_path):
    tags = make_music("tags", **SMALL)
    with pytest.raises(ValueError, match=r"y must be 1-D .* shape \(3, \d+\).*tags"):
        write_audio_folder(tags.data, tags.target, tmp_path)
    with pytest.raises(ValueError, match="sr=16000 but the waveforms are at sr=8000"):
        write_audio_folder(tags.data, [0, 1, 2], tmp_path, sr=16000)
    with pytest.raises(ValueError, match="X carries no sample rate"):
        write_audio_folder(np.asarray(tags.data), [0, 1, 2], tmp_path)
    with pytest.raises(ValueError, match="cannot be a folder name"):
        write_audio_folder(tags.data, ["a/b", "c", "d"], tmp_path)
    with pytest.raises(ValueError, match=r"peaks at [\d.]+ > 1, which PCM_16 cannot store"):
        write_audio_folder(Waveforms(5 * np.asarray(tags.data), 8000), [0, 1, 2], tmp_path)
    with pytest.raises(ValueError, match="one row per label"):
        write_audio_folder(tags.data, [0, 1], tmp_path)
    assert not any(tmp_path.iterdir())


def test_write_audio_folder_lives_in_io():
    from skmir import io

    assert write_audio_folder is io.write_audio_folder


def test_interrupted_write_audio_folder_leaves_no_file(tmp_path, monkeypatch):
    import soundfile as sf

    def write_then_fail(path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"RIFF")  # a truncated WAV header, as a crash mid-write leaves
        raise KeyboardInterrupt

    music = make_music("mode", **SMALL)
    monkeypatch.setattr(sf, "write", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        write_audio_folder(music.data, music.target_names[music.target], tmp_path)
    assert not [f for d in tmp_path.iterdir() for f in d.iterdir()]


# --- instrument registry --------------------------------------------------------------

def test_every_instrument_the_composer_plays_is_registered():
    played = set(LEAD_INSTRUMENTS + COMP_INSTRUMENTS + BASS_INSTRUMENTS)
    assert played <= set(INSTRUMENTS)
    assert set(LEAD_RANGES) == set(LEAD_INSTRUMENTS)
    assert {name for name in TAGS if name in INSTRUMENTS} == played
    for name, instrument in INSTRUMENTS.items():
        assert isinstance(instrument, Instrument) and instrument.name == name


@pytest.mark.parametrize("name", sorted(INSTRUMENTS))
def test_instrument_renders_a_note(name):
    instrument = get_instrument(name)
    rng = np.random.default_rng(0)
    p = instrument.draw(rng)
    y = instrument.render(p, 220.0, 0.2, 0.8, 8000, rng, vib=(20, 5.5, 0.0, 0.0))
    assert y.dtype == np.float64 and len(y) == 1600 + round(p.get("release", 0.1) * 8000)
    assert np.isfinite(y).all() and np.abs(y).max() > 0.05
    short = instrument.render(p, 220.0, 0.2, 0.8, 8000, rng, max_release=0.01)
    assert len(short) == 1600 + round(min(p.get("release", 0.1), 0.01) * 8000)


def test_unknown_instrument_names_the_registered_ones():
    with pytest.raises(ValueError, match=r"unknown instrument 'kazoo'.*bass, clarinet.*violin"):
        get_instrument("kazoo")
    with pytest.raises(ValueError, match="unknown instrument"):
        get_instrument(["piano"])
