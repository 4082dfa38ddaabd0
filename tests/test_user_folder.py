"""A user's own folder of music: one clip length, decided once, said aloud, and a
report with chance levels and per-class counts (issue 25)."""

import numpy as np
from conftest import write_mixed_lengths_folder

from skmir.cli import main
from skmir.io import AudioLoader, load_audio_folder
from skmir.model_selection import compare
from skmir.pipelines import make_mfcc_baseline


def _scores(path):
    return [row.split(",")[2] for row in path.read_text().splitlines()[1:]]


def test_mixed_lengths_get_one_clip_length_in_the_command_and_in_python(tmp_path, capsys):
    root = tmp_path / "music"
    write_mixed_lengths_folder(root)
    paths, y = load_audio_folder(root)
    # fixed at fit from the files, capped at 10 s: not the longest of one call
    assert AudioLoader(sr=8000).fit(paths).duration_ == 10.0
    short = [p for p in paths if AudioLoader().fit([p]).duration_ < 1]
    assert AudioLoader(sr=8000).fit(paths).transform(short).shape == (len(short), 80000)

    argv = ["compare", str(root), "--models", "mfcc-svm", "--cv", "3", "--sr", "8000", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "auto")]) == 0
    out = capsys.readouterr().out
    assert "Clip length: 10 s (the longest file, capped at 10 s" in out
    assert "Files: 18 files, 0.5-15.0 s" in out
    assert "| chance: majority class |" in out and "Clips per class: high 6" in out
    report = (tmp_path / "auto" / "results.md").read_text()
    assert "Clip length: 10 s" in report and "| chance: uniform | 0.333" in report

    # scores like a fixed 10-s run, and like the Python path on the same files
    assert main([*argv, "--duration", "10", "--out", str(tmp_path / "ten")]) == 0
    auto = _scores(tmp_path / "auto" / "results.csv")
    assert auto == _scores(tmp_path / "ten" / "results.csv")
    res = compare({"mfcc-svm": make_mfcc_baseline(sr=8000)}, paths, y, cv=3, verbose=0)
    np.testing.assert_allclose(res.scores["mfcc-svm"], np.asarray(auto, dtype=float),
                               atol=1e-6)


def test_the_report_warns_about_small_test_folds_and_chance(tmp_path, capsys):
    root = tmp_path / "music"
    write_mixed_lengths_folder(root, n_per_class=4, longest=3.0)
    assert main(["compare", str(root), "--models", "mfcc-svm", "--cv", "4", "--sr", "8000",
                 "--quiet", "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "Warning: A test fold holds only 1 clip(s) of class" in out
    assert "Clip length: 3 s" in out
    assert "paired t-test over folds means little" in (tmp_path / "r" / "results.md").read_text()


def test_opus_and_m4a_are_judged_by_decoding_not_by_extension(tmp_path):
    import warnings

    import soundfile as sf

    (tmp_path / "a").mkdir()
    sf.write(tmp_path / "a" / "x.opus", np.zeros(48000), 48000, format="OGG", subtype="OPUS")
    (tmp_path / "a" / "y.m4a").write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths, _ = load_audio_folder(tmp_path)
    assert [p.rsplit("/", 1)[1] for p in paths] == ["x.opus"]
    reason = dict(caught[0].message.excluded)[str(tmp_path / "a" / "y.m4a")]
    assert "extension" not in reason  # the decoder's own reason
