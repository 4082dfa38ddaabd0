"""Audio decoding, fixed-length loading, and dataset listing with bad files."""

import io
import os
import pickle
import sys
import warnings

import numpy as np
import pytest
import soundfile as sf
from conftest import tone, write_dataset
from sklearn.model_selection import cross_val_score

from skmir import (
    AudioFileError,
    AudioFileWarning,
    AudioLoader,
    MelSpectrogram,
    Waveforms,
    load_audio,
    load_audio_folder,
    load_manifest,
    make_mfcc_baseline,
)


def test_load_audio_resamples_and_downmixes(tmp_path):
    left, right = tone(440, 1.0, 44100), np.zeros(44100, np.float32)
    sf.write(tmp_path / "s.wav", np.stack([left, right], axis=1), 44100, subtype="FLOAT")
    y, sr = load_audio(tmp_path / "s.wav", sr=22050)
    assert (sr, y.shape, y.dtype) == (22050, (22050,), np.float32)
    y_stereo, _ = load_audio(tmp_path / "s.wav", sr=None, mono=False)
    assert y_stereo.shape == (2, 44100)
    np.testing.assert_allclose(load_audio(tmp_path / "s.wav", sr=None)[0], left / 2, atol=1e-7)


def test_load_audio_offset_and_duration(tmp_path):
    y = np.arange(8000, dtype=np.float32) / 8000
    sf.write(tmp_path / "ramp.wav", y, 8000, subtype="FLOAT")
    out, _ = load_audio(tmp_path / "ramp.wav", sr=None, offset=0.25, duration=0.5)
    np.testing.assert_array_equal(out, y[2000:6000])


def test_load_audio_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        load_audio(tmp_path / "nope.wav")
    (tmp_path / "bad.wav").write_bytes(b"RIFF garbage that is no wave file")
    with pytest.raises(AudioFileError, match="bad.wav"):
        load_audio(tmp_path / "bad.wav")


def test_audio_loader_fixed_length_from_paths(tmp_path):
    paths = []
    for i, seconds in enumerate([0.5, 1.5]):
        paths.append(str(tmp_path / f"{i}.flac"))
        sf.write(paths[-1], tone(300, seconds, 16000), 16000)
    X = AudioLoader(sr=8000, duration=1.0).fit_transform(paths)
    assert isinstance(X, Waveforms) and X.sr == 8000
    assert X.shape == (2, 8000) and X.dtype == np.float32
    assert np.all(X[0, 4000:] == 0)  # zero-padded
    assert AudioLoader(sr=8000).fit_transform(paths).shape == (2, 12000)  # longest
    np.testing.assert_array_equal(AudioLoader(sr=8000, n_jobs=2).fit_transform(paths),
                                  AudioLoader(sr=8000).fit_transform(paths))


def test_audio_loader_multichannel(tmp_path):
    sf.write(tmp_path / "st.wav", np.zeros((800, 2)), 8000)
    sf.write(tmp_path / "mono.wav", np.zeros(800), 8000)
    X = AudioLoader(sr=8000, mono=False).transform([tmp_path / "st.wav"])
    assert X.shape == (1, 2, 800)
    with pytest.raises(ValueError, match="different numbers of channels"):
        AudioLoader(sr=8000, mono=False).transform([tmp_path / "st.wav", tmp_path / "mono.wav"])


def test_audio_loader_passes_waveforms_through():
    X = np.ones((3, 100), np.float32)
    out = AudioLoader(sr=100, duration=1.5).fit_transform(X)
    assert out.shape == (3, 150) and out.sr == 100 and out[:, 100:].sum() == 0
    stereo = np.ones((3, 2, 100))
    assert AudioLoader(sr=100).fit_transform(stereo).shape == (3, 100)
    with pytest.raises(ValueError, match="sr = 100: the waveforms were loaded at sr=8000"):
        AudioLoader(sr=100).fit_transform(Waveforms(X, sr=8000))


def test_loader_resamples_waveforms_only_when_asked():
    t = np.arange(8000) / 8000
    X = Waveforms(np.sin(2 * np.pi * 440 * t)[None], sr=8000)
    out = AudioLoader(sr=16000, resample=True).fit_transform(X)
    assert out.sr == 16000 and out.shape == (1, 16000)
    expected = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    np.testing.assert_allclose(out[0, 100:-100], expected[100:-100], atol=0.02)


def test_audio_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="single path"):
        AudioLoader().fit_transform(str(tmp_path / "a.wav"))
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        AudioLoader().fit_transform([str(tmp_path / "missing.wav")])
    with pytest.raises(ValueError, match="NaN"):
        AudioLoader().fit_transform(np.full((2, 10), np.nan))


def test_waveforms_keep_sr_through_slicing_and_pickle():
    X = Waveforms(np.zeros((4, 10)), sr=16000)
    assert X[[0, 2]].sr == 16000
    Y = pickle.loads(pickle.dumps(X))
    assert isinstance(Y, Waveforms) and Y.sr == 16000 and Y.shape == (4, 10)


def test_folder_with_bad_files_cross_validates_the_baseline(tmp_path):
    write_dataset(tmp_path)
    with pytest.warns(AudioFileWarning) as record:
        paths, labels = load_audio_folder(tmp_path)
    message = str(record[0].message)
    for name in ("corrupt.wav", "corrupt.flac", "notes.txt"):
        assert name in message
    assert "Excluded 3 of 19" in message
    assert len(paths) == 16 and sorted(set(labels)) == ["high", "low"]
    scores = cross_val_score(make_mfcc_baseline(sr=16000), paths, labels, cv=4)
    assert scores.mean() >= 0.9


def test_folder_skips_hidden_files_such_as_a_write_in_progress(tmp_path):
    write_dataset(tmp_path, n_per_class=2)
    # what atomic_write leaves while a file is being written, and a macOS fork
    (tmp_path / "low" / ".low9-tmp-abc.wav").write_bytes(b"RIFF")
    (tmp_path / "high" / "._high0.wav").write_bytes(b"\x00\x05")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioFileWarning)  # the dataset's own bad files
        paths, _ = load_audio_folder(tmp_path)
    assert not any(os.path.basename(p).startswith(".") for p in paths)
    assert len(paths) == 4


def test_load_manifest(tmp_path):
    write_dataset(tmp_path, n_per_class=2)
    (tmp_path / "m.csv").write_text(
        "path,label,group\nlow/low0.flac,low,a\nhigh/high1.wav,high,b\nlow/corrupt.wav,low,c\n"
    )
    with pytest.warns(AudioFileWarning, match="corrupt.wav"):
        paths, labels, groups = load_manifest(tmp_path / "m.csv")
    assert list(labels) == ["low", "high"] and list(groups) == ["a", "b"]
    assert all(p.startswith(str(tmp_path)) for p in paths)
    (tmp_path / "n.csv").write_text("path,label\nlow/low0.flac,low\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_manifest(tmp_path / "n.csv")[2] is None
    (tmp_path / "bad.csv").write_text("file,genre\nx.wav,rock\n")
    with pytest.raises(ValueError, match="columns path,label"):
        load_manifest(tmp_path / "bad.csv")


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_audio_folder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="root/<label>/<file>"):
        load_audio_folder(tmp_path)


def test_integer_pcm_arrays_are_scaled_as_decoders_scale_them():
    # int16 PCM taken as float audio would be 32768 times too loud (mel power 1e9x)
    rng = np.random.default_rng(0)
    pcm = (rng.uniform(-0.5, 0.5, size=(2, 4000)) * 32768).astype(np.int16)
    expected = pcm.astype(np.float32) / 32768
    out = AudioLoader(sr=8000).fit_transform(pcm)
    np.testing.assert_array_equal(out, expected)
    mel = MelSpectrogram(sr=8000, n_mels=16)
    np.testing.assert_allclose(mel.fit_transform(pcm), mel.fit_transform(expected), rtol=1e-6)
    u8 = np.array([[0, 64, 128, 192, 255] * 200], dtype=np.uint8)  # 8-bit WAV: unsigned
    np.testing.assert_allclose(AudioLoader(sr=8000).fit_transform(u8)[0, :5],
                               [-1.0, -0.5, 0.0, 0.5, 127 / 128])
    # what soundfile gives for the same samples written as a 16-bit WAV
    buf = io.BytesIO()
    sf.write(buf, pcm[0], 8000, subtype="PCM_16", format="WAV")
    buf.seek(0)
    np.testing.assert_array_equal(sf.read(buf, dtype="float32")[0], expected[0])


def test_the_mp3_decoders_own_messages_do_not_reach_the_user(tmp_path, capfd):
    # libmpg123 prints "[src/libmpg123/layer3.c...] error: part2_3_length ..." to the
    # process's stderr while it decodes such a file, which reads fine.
    t = np.arange(22050 * 3) / 22050
    try:
        sf.write(tmp_path / "tone.mp3", (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"),
                 22050, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError):
        pytest.skip("this libsndfile writes no MP3")
    capfd.readouterr()
    from skmir.io import check_audio_files

    assert check_audio_files([tmp_path / "tone.mp3"], decode=True) == []
    y, sr = load_audio(tmp_path / "tone.mp3")
    assert sr == 22050 and abs(len(y) - len(t)) <= 2 * 1152  # an MP3 frame of slack
    print("skmir's own output still reaches stderr", file=sys.stderr)
    err = capfd.readouterr().err
    assert "libmpg123" not in err and "skmir's own output still reaches stderr" in err
