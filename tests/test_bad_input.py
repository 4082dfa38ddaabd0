"""Cases of the QA pass over the public entry points that gave unclear errors or silent
wrong results: each now gets a clear error naming what was received."""

import warnings

import numpy as np
import pytest
from conftest import write_dataset

import skmir
from skmir import AudioFileWarning, load_audio_folder, load_manifest


def test_a_missing_file_in_a_manifest_is_named_with_the_reason(tmp_path):
    write_dataset(tmp_path, n_per_class=2)
    (tmp_path / "m.csv").write_text("path,label\nlow/low0.flac,low\ngone.wav,high\n")
    with pytest.warns(AudioFileWarning, match=r"gone\.wav: no such file"):
        paths, _, _ = load_manifest(tmp_path / "m.csv")
    assert len(paths) == 1


def test_a_manifest_exported_with_a_byte_order_mark_is_read(tmp_path):
    write_dataset(tmp_path, n_per_class=2)
    text = "path,label\nlow/low0.flac,low\nhigh/high1.wav,high\n"
    (tmp_path / "m.csv").write_bytes(text.encode("utf-8-sig"))
    _, labels, _ = load_manifest(tmp_path / "m.csv")
    assert labels.tolist() == ["low", "high"]


@pytest.mark.parametrize("body, column, lines", [
    ("low/low0.flac,low\nhigh/high1.wav,\n", "label", "3"),
    ("low/low0.flac,low,a\nhigh/high1.wav,high,\n", "group", "3"),
    (",low\n", "path", "2"),
])
def test_empty_manifest_cells_are_refused(tmp_path, body, column, lines):
    write_dataset(tmp_path, n_per_class=2)
    header = "path,label,group\n" if column == "group" else "path,label\n"
    (tmp_path / "m.csv").write_text(header + body)
    with pytest.raises(ValueError, match=rf"the {column} cell is empty on line\(s\) {lines}"):
        load_manifest(tmp_path / "m.csv")


def test_folder_extensions_as_one_string(tmp_path):
    write_dataset(tmp_path, n_per_class=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioFileWarning)
        paths, _ = load_audio_folder(tmp_path, extensions="wav")
        dotted, _ = load_audio_folder(tmp_path, extensions=[".WAV"])
    assert len(paths) > 0 and all(p.endswith(".wav") for p in paths)
    assert list(paths) == list(dotted)


@pytest.mark.parametrize("make", [
    lambda: skmir.SpectrogramScaler(), lambda: skmir.SpectralWhitening(),
    lambda: skmir.TimeSummary(),
])
def test_spectrograms_without_frames_are_refused(make):
    with pytest.raises(ValueError, match=r"0 frames \(shape \(4, 8, 0\)\)"):
        make().fit(np.zeros((4, 8, 0), dtype=np.float32))


def test_neural_estimators_refuse_spectrograms_without_frames():
    pytest.importorskip("torch")
    from skmir.neural import NeuralClassifier

    with pytest.raises(ValueError, match="NeuralClassifier: X has 0 frames"):
        NeuralClassifier().fit(np.zeros((4, 8, 0), dtype=np.float32), [0, 1, 0, 1])


def test_clips_of_different_lengths_say_how_to_make_one_batch():
    clips = [np.zeros(1000, np.float32), np.zeros(1200, np.float32)]
    for transformer in (skmir.MelSpectrogram(sr=8000), skmir.AudioLoader(sr=8000)):
        with pytest.raises(ValueError, match=r"different shapes.*AudioLoader\(duration=\.\.\.\)"):
            transformer.fit_transform(clips)


def test_loading_a_file_that_is_not_a_saved_estimator(tmp_path):
    pytest.importorskip("torch")
    from skmir.neural import NeuralClassifier

    path = tmp_path / "notes.pt"
    path.write_text("not a model")
    with pytest.raises(ValueError, match=r"notes\.pt' is not a file written by "
                                         r"NeuralClassifier\.save"):
        NeuralClassifier.load(path)


def test_frame_targets_with_nan_are_named_as_y():
    pytest.importorskip("torch")
    from skmir.neural import FrameTagger

    y = np.zeros((4, 6))
    y[1, 2] = np.nan
    with pytest.raises(ValueError, match="FrameTagger: y contains NaN"):
        FrameTagger().fit(np.zeros((4, 8, 6), dtype=np.float32), y)
