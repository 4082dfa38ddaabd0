"""``skmir annotate`` and what it writes: the annotation files (.lab, f0 CSV, MIDI,
.beats) read
back by the tools that read them, the command on a folder with the bad-file corpus in
it, and the plot of a frame-level network at work."""

import csv

import mir_eval
import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from conftest import BAD_FILES, write_bad_corpus

from skmir.cli import main
from skmir.io.annotations import write_beats, write_f0_csv, write_lab, write_midi


def test_a_lab_file_reads_back_with_mir_eval(tmp_path):
    intervals = np.array([[0.0, 1.25], [1.25, 2.5], [2.5, 4.0]])
    labels = ["N", "C:maj", "A:min7/b3"]
    path = write_lab(tmp_path / "song.lab", intervals, labels)
    read, read_labels = mir_eval.io.load_labeled_intervals(str(path))
    np.testing.assert_allclose(read, intervals)
    assert read_labels == labels
    with pytest.raises(ValueError, match=r"^write_lab: labels = 'C maj': non-empty labels"):
        write_lab(tmp_path / "x.lab", [[0, 1]], ["C maj"])
    with pytest.raises(ValueError, match=r"^write_lab: intervals = .*: one \(start, end\) row"):
        write_lab(tmp_path / "x.lab", [[0, 1]], ["N", "N"])
    with pytest.raises(ValueError, match=r"^write_lab: intervals = .*0 <= start <= end"):
        write_lab(tmp_path / "x.lab", [[1, 0]], ["N"])
    assert not (tmp_path / "x.lab").exists()


def test_an_f0_csv_holds_every_frame_with_0_for_unvoiced(tmp_path):
    times = np.arange(4) * 0.01
    path = write_f0_csv(tmp_path / "a.f0.csv", times, [440.0, np.nan, 0.0, 220.5],
                        confidence=[0.9, 0.1, 0.0, 0.8])
    rows = list(csv.DictReader(path.open()))
    assert [float(r["frequency"]) for r in rows] == [440.0, 0.0, 0.0, 220.5]
    assert [float(r["time"]) for r in rows] == pytest.approx(times)
    assert float(rows[0]["confidence"]) == pytest.approx(0.9)
    with pytest.raises(ValueError, match=r"^write_f0_csv: times = .*: increasing times"):
        write_f0_csv(tmp_path / "b.csv", [0.1, 0.0], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"^write_f0_csv: f0 = .*: one value per time"):
        write_f0_csv(tmp_path / "b.csv", [0.0, 0.1], [1.0])


def test_midi_notes_keep_their_times_pitches_and_velocities(tmp_path):
    intervals = np.array([[0.0, 0.5], [0.5, 1.25]])
    hz = 440.0 * 2 ** ((np.array([60, 64]) - 69) / 12)  # MIDI 60 and 64
    path = write_midi(tmp_path / "n.mid", intervals, hz, [64, 127])
    notes = pretty_midi.PrettyMIDI(str(path)).instruments[0].notes
    assert [(n.pitch, n.velocity) for n in notes] == [(60, 64), (64, 127)]
    np.testing.assert_allclose([[n.start, n.end] for n in notes], intervals, atol=1e-3)
    with pytest.raises(ValueError, match=r"^write_midi: pitches = .*frequencies > 0 Hz"):
        write_midi(tmp_path / "m.mid", intervals, [0.0, hz[0]])


def test_a_beats_file_reads_back_with_mir_eval(tmp_path):
    beats, downbeats = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0], [1.0, 3.0]
    path = write_beats(tmp_path / "song.beats", beats, downbeats)
    times, positions = mir_eval.io.load_labeled_events(str(path))
    np.testing.assert_allclose(times, beats)
    assert positions == ["0", "1", "2", "3", "4", "1"]
    assert write_beats(tmp_path / "none.beats", []).read_text() == ""
    with pytest.raises(ValueError, match=r"^write_beats: beats = .*: increasing finite"):
        write_beats(tmp_path / "x.beats", [1.0, 0.5])
    with pytest.raises(ValueError, match=r"^write_beats: downbeats = .*: times among"):
        write_beats(tmp_path / "x.beats", [0.5, 1.0], [0.7])
    assert not (tmp_path / "x.beats").exists()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The bad-file corpus, plus two generated music clips at 22.05 kHz (one in a
    sub-folder)."""
    from skmir.datasets import make_music

    root = tmp_path_factory.mktemp("annotate") / "music"
    write_bad_corpus(root)
    music = make_music("genre", n_clips=2, duration=3.0, sr=22050, random_state=0)
    (root / "songs").mkdir()
    sf.write(root / "songs" / "one.wav", music.data[0], 22050)
    sf.write(root / "two.wav", music.data[1], 22050)
    return root, music


@pytest.mark.parametrize("task, suffix", [("chords", ".lab"), ("f0", ".f0.csv"),
                                          ("notes", ".mid"), ("beats", ".beats")])
def test_annotate_writes_every_readable_file_and_names_each_bad_one(
        folder, tmp_path, capsys, task, suffix):
    root, _ = folder
    out = tmp_path / "out"
    assert main(["annotate", "--task", task, str(root), "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    for name in BAD_FILES:  # one line each, naming the file
        if name != "high/loop.wav":  # a link loop is not listed as a file
            assert sum(name in line for line in err.splitlines()) == 1, (name, err)
    assert (out / "songs" / f"one{suffix}").is_file() and (out / f"two{suffix}").is_file()
    if task == "chords":
        intervals, labels = mir_eval.io.load_labeled_intervals(str(out / "two.lab"))
        for label in labels:
            mir_eval.chord.validate_chord_label(label)
        assert intervals[0, 0] == 0 and intervals[-1, 1] == pytest.approx(3.0, abs=0.05)
    elif task == "f0":
        rows = list(csv.DictReader((out / "two.f0.csv").open()))
        assert len(rows) == 1 + 3 * 16000 // 160 and float(rows[1]["time"]) == 0.01
    elif task == "notes":
        assert pretty_midi.PrettyMIDI(str(out / "two.mid")).instruments[0].notes
    else:
        times, positions = mir_eval.io.load_labeled_events(str(out / "two.beats"))
        mir_eval.beat.validate(times, times)
        assert len(times) >= 3 and "1" in positions and times[-1] < 3.0


def test_annotate_refuses_with_one_line(tmp_path, capsys):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    assert main(["annotate", "--task", "notes", str(text), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "notes.wav" in err[0] and err[-1].startswith("skmir annotate: error: none of")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder_ in ("a", "b"):
        sf.write(tmp_path / folder_ / "x.wav", np.zeros(22050), 22050)
    assert main(["annotate", "--task", "chords", str(tmp_path / "a"), str(tmp_path / "b"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "would be annotated in the same file" in capsys.readouterr().err


@pytest.mark.parametrize("task", ["chords", "f0", "notes", "beats"])
def test_plot_annotation_shows_spectrogram_activations_and_events(folder, task):
    from skmir.annotation import BeatTracker, ChordRecognizer, NoteTranscriber, PitchTracker
    from skmir.plot import plot_annotation

    _, music = folder
    estimator = {"chords": ChordRecognizer, "f0": PitchTracker, "notes": NoteTranscriber,
                 "beats": BeatTracker}[task]().fit()
    y = music.data[0]
    if task == "f0":
        import librosa

        y = librosa.resample(y, orig_sr=22050, target_sr=16000)
    fig = plot_annotation(estimator, y)
    spec, act, events = fig.axes[:3]
    assert act.get_title().startswith("Activations of ") and events.get_xlim()[1] == \
        pytest.approx(len(y) / estimator.network_.sr)
    n_outputs = estimator.predict_proba(_waveforms(y, estimator)).shape[2]
    assert len(act.images) == 1 and act.images[0].get_array().shape[0] == n_outputs
    if task == "chords":
        assert events.texts  # the chord labels
    elif task == "f0":
        assert events.lines
    elif task == "beats":  # the beat probability, and a line per beat
        beats = estimator.predict_events(_waveforms(y, estimator))[0][0]
        assert len(events.lines) == 1 + len(beats) and len(beats) >= 3
    else:
        assert events.patches
    with pytest.raises(ValueError, match=r"^plot_annotation: y = .*one mono clip"):
        plot_annotation(estimator, np.zeros((2, 100)))


def _waveforms(y, estimator):
    from skmir.io import Waveforms

    return Waveforms(np.asarray(y, dtype=np.float32)[None], sr=estimator.network_.sr)
