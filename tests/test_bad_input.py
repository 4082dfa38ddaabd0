"""Cases of the QA pass over the public entry points that gave unclear errors or silent
wrong results: each now gets a clear error naming what was received."""

import csv
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import BAD_FILES, CORRUPT_INSIDE, write_bad_corpus, write_dataset

import skmir
import skmir.cli
from skmir import (
    AudioFileError,
    AudioFileWarning,
    AudioLoader,
    load_audio,
    load_audio_folder,
    load_manifest,
)


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
    with pytest.raises(ValueError, match=r"^NeuralClassifier.load: path = '.*notes\.pt': not a "
                                         r"file written by NeuralClassifier\.save"):
        NeuralClassifier.load(path)


def test_frame_targets_with_nan_are_named_as_y():
    pytest.importorskip("torch")
    from skmir.neural import FrameTagger

    y = np.zeros((4, 6))
    y[1, 2] = np.nan
    with pytest.raises(ValueError,
                       match=r"FrameTagger: y = float64 array of shape \(4, 6\): contains NaN"):
        FrameTagger().fit(np.zeros((4, 8, 6), dtype=np.float32), y)


# ---------------------------------------------- a corpus of bad files (#12)

def _excluded(record):
    """(relative path, reason) of every file the AudioFileWarnings excluded."""
    return {(str(Path(p).relative_to(Path(p).parents[1])), why)
            for w in record if issubclass(w.category, AudioFileWarning)
            for p, why in w.message.excluded}


@pytest.fixture
def corpus(tmp_path):
    good, bad = write_bad_corpus(tmp_path / "data")
    return tmp_path / "data", good, bad


@pytest.mark.parametrize("name", sorted({**BAD_FILES, **CORRUPT_INSIDE}))
def test_load_audio_refuses_each_bad_file_by_name(corpus, name):
    root, _, _ = corpus
    reason = {**BAD_FILES, **CORRUPT_INSIDE}[name]
    error = FileNotFoundError if name.endswith("loop.wav") else AudioFileError
    with pytest.raises(error, match=re.escape(str(root / name))) as info:
        load_audio(root / name)
    if error is AudioFileError:
        assert reason in str(info.value) and info.value.path == str(root / name)
        assert "re-export or re-download it" in str(info.value)


def test_a_truncated_wav_names_the_frames_of_its_header_and_those_decoded(corpus):
    root, _, _ = corpus
    held = ((root / "low/cut.wav").stat().st_size - 44) // 2  # 16-bit mono after a 44-byte header
    with pytest.raises(AudioFileError, match=rf"announces 4000 frames \(0\.50 s\) but the file "
                                             rf"holds {held} frames"):
        load_audio(root / "low/cut.wav", sr=None)
    # whatever part of it is asked for
    with pytest.raises(AudioFileError, match="truncated"):
        load_audio(root / "low/cut.wav", duration=0.01)


def test_the_folder_listing_excludes_exactly_the_bad_files(corpus):
    root, good, _ = corpus
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths, labels = load_audio_folder(root)
    excluded = _excluded(record)
    assert {p for p, _ in excluded} == set(BAD_FILES)
    for p, why in excluded:
        assert BAD_FILES[p] in why, (p, why)
    # the listing reads headers and the last frames only: corruption inside a FLAC
    # is left for compare's decoding
    kept = sorted(str(Path(p).relative_to(root)) for p in paths)
    assert kept == sorted([*good, *CORRUPT_INSIDE])
    assert [Path(p).parent.name for p in paths] == labels.tolist()
    message = str(record[0].message)
    assert f"Excluded {len(BAD_FILES)} of {len(BAD_FILES) + len(kept)}" in message
    assert f"{root / 'low/nan.wav'}: holds NaN or inf samples (first at 0.12 s)" in message


def test_a_manifest_excludes_exactly_the_bad_files_and_keeps_labels_aligned(corpus):
    root, good, _ = corpus
    rows = [*good, *BAD_FILES, *CORRUPT_INSIDE, "high/x.wav"]
    text = "path,label,group\n" + "".join(
        f'"{p}","{p.split("/")[0]}, ""{p}""","{p}"\n' for p in rows)  # commas, quotes
    (root / "m.csv").write_text(text, encoding="utf-8")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        paths, labels, groups = load_manifest(root / "m.csv")
    excluded = dict(_excluded(record))
    assert set(excluded) == {*BAD_FILES, "high/x.wav"}
    assert excluded["high/x.wav"] == "a folder, not a file"
    for p, g, lab in zip(paths, groups, labels):
        assert str(Path(p).relative_to(root)) == g
        assert lab == f'{g.split("/")[0]}, "{g}"'


def test_audio_loader_names_the_bad_file_among_good_ones(corpus):
    root, good, _ = corpus
    paths = [str(root / p) for p in good]
    assert AudioLoader(sr=8000, duration=0.5).transform(paths).shape == (len(good), 4000)
    for name in ["low/nan.wav", "high/cut.flac", "high/corrupt-inside.flac"]:
        with pytest.raises(AudioFileError, match=re.escape(name)):
            AudioLoader(sr=8000).transform([*paths[:2], str(root / name), *paths[2:]])


def test_compare_excludes_the_bad_files_and_goes_on(corpus, tmp_path):
    root, good, bad = corpus
    paths = np.asarray([str(root / p) for p in [*good, *bad]])
    labels = np.asarray([p.split("/")[0] for p in [*good, *bad]])
    with pytest.warns(AudioFileWarning, match=rf"excluded {len(bad)} of {len(paths)}"):
        res = skmir.compare({"mfcc-svm": skmir.make_mfcc_baseline(sr=8000)}, paths, labels,
                            cv=2, verbose=0)
    assert sorted(str(Path(p).relative_to(root)) for p, _ in res.excluded) == bad
    assert res.y.tolist() == [p.split("/")[0] for p in good]  # aligned with the kept files
    assert res.predictions["mfcc-svm"].shape == (len(good),)
    res.save(tmp_path / "report")
    rows = (tmp_path / "report" / "excluded.csv").read_text().splitlines()
    assert rows[0] == "path,reason" and len(rows) == 1 + len(bad)
    assert f"{len(bad)} file(s) that cannot be read as audio were excluded" in (
        tmp_path / "report" / "results.md").read_text()


def test_the_command_reports_the_excluded_files(corpus, tmp_path, capsys):
    root, good, bad = corpus
    out = tmp_path / "report"
    code = skmir.cli.main(["compare", str(root), "--models", "mfcc-svm", "--cv", "2",
                           "--sr", "8000", "--out", str(out)])
    assert code == 0
    captured = capsys.readouterr()
    with open(out / "excluded.csv", newline="", encoding="utf-8") as f:
        listed = {str(Path(r["path"]).relative_to(root)): r["reason"] for r in csv.DictReader(f)}
    assert sorted(listed) == bad
    assert "flac decoder" in listed["high/corrupt-inside.flac"]
    assert f"Excluded {len(bad)} file(s) that cannot be read as audio" in captured.out
    assert f"{root / 'low/text.wav'}: Format not recognised" in captured.out
    assert f"{len(bad)} file(s) that cannot be read as audio were excluded" in (
        out / "results.md").read_text()
    assert "mfcc-svm fold 2/2:" in captured.out + captured.err  # per-fold progress
