"""Reference outputs of the original basic-pitch 0.4.0, for skmir's parity tests.

A one-off tool, never run by CI: basic-pitch, onnx and onnxruntime are imported
inside :func:`run` only and never become skmir dependencies. It writes the fixtures
of ``tests/data/basicpitch/`` that ``tests/test_basicpitch.py`` compares skmir with::

    python3 -m venv /tmp/bp && /tmp/bp/bin/pip install torch==2.13.0
    /tmp/bp/bin/pip install --no-deps basic-pitch==0.4.0
    /tmp/bp/bin/pip install librosa mir-eval pretty-midi "resampy<0.4.3" scikit-learn \\
        scipy onnxruntime onnx safetensors "setuptools<81"
    PYTHONPATH=. /tmp/bp/bin/python skmir/pretrained/basicpitch_reference.py run \\
        tests/data/basicpitch

It makes three 3-second clips (:func:`make_inputs`: a decaying chord of harmonic
tones, a sine sweep, uniform noise; no random stream that numpy may change) and a
1000-sample clip, writes them as float32 WAV files and runs the original
``basic_pitch.inference.run_inference`` on them with the package's ``nmp.onnx`` on
onnxruntime. It saves the original's windows (their SHA-256), its outputs at fixed
frames (seams and edges included), two intermediate tensors of the ONNX graph (the
normalised log CQT and the note branch's ReLU maps), ``model_frames_to_time``, and
the note events of ``note_creation.model_output_to_notes`` (pitch bends off) on the
clips and on synthetic posteriors (:func:`make_posteriors`), for several settings.
Where skmir imports (``PYTHONPATH=.``), it also measures skmir against the original
on every frame and writes the figures into ``reference.json``.
"""

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

SR = 22050
SECONDS = 3
# frames of the outputs kept (258 per clip): both ends and the window seam at 142
FRAMES = np.array([0, 1, 2, 3, 40, 100, 139, 140, 141, 142, 143, 144, 200, 254, 255, 256, 257])
# frames of a window kept of the intermediate layers (172 per window)
WINDOW_FRAMES = np.array([0, 1, 14, 15, 16, 85, 155, 156, 157, 170, 171])
MAP_FRAMES = np.array([15, 85])
SHORT = 1000
# decoding settings: (onset_thresh, frame_thresh, min_note_len, infer_onsets,
# melodia_trick, min_freq, max_freq); the first is basic-pitch's predict() default
SETTINGS = [
    (0.5, 0.3, 11, True, True, None, None),
    (0.3, 0.2, 5, True, False, None, None),
    (0.4, 0.25, 3, False, True, 100.0, 2000.0),
]


def make_inputs():
    """The three 3-second test clips at 22.05 kHz, float32 ``(3, 66150)``.

    Examples
    --------
    >>> from skmir.pretrained.basicpitch_reference import make_inputs
    >>> make_inputs().shape
    (3, 66150)
    """
    n = SR * SECONDS
    t = np.arange(n) / SR
    chord = np.zeros(n)
    for f0, start in ((220.0, 0.25), (277.18, 0.25), (329.63, 0.25), (392.0, 1.5)):
        env = np.where(t >= start, np.exp(-(t - start) * 1.2), 0.0)
        for h in range(1, 7):
            chord += env * np.sin(2 * np.pi * f0 * h * (t - start)) / h
    chord *= 0.15
    # log sweep 110 -> 1760 Hz
    f1, f2 = 110.0, 1760.0
    k = np.log(f2 / f1) / SECONDS
    sweep = 0.3 * np.sin(2 * np.pi * f1 * (np.exp(k * t) - 1) / k)
    # the legacy RandomState stream is frozen by numpy's policy
    noise = np.random.RandomState(7).uniform(-0.2, 0.2, n)
    return np.stack([chord, sweep, noise]).astype(np.float32)


def make_posteriors(n_frames=300, seed=3):
    """Synthetic note, onset and contour posteriors ``(n_frames, 88/88/264)`` for the
    decoding fixture: low noise, held notes with onset peaks, a fading note.

    Examples
    --------
    >>> from skmir.pretrained.basicpitch_reference import make_posteriors
    >>> {k: v.shape for k, v in make_posteriors().items()}
    {'note': (300, 88), 'onset': (300, 88), 'contour': (300, 264)}
    """
    rs = np.random.RandomState(seed)
    note = rs.uniform(0, 0.25, (n_frames, 88))
    onset = rs.uniform(0, 0.2, (n_frames, 88))
    for _ in range(25):
        key, start = rs.randint(0, 88), rs.randint(0, n_frames - 5)
        length = rs.randint(3, 60)
        level = rs.uniform(0.35, 0.95)
        end = min(start + length, n_frames)
        note[start:end, key] = np.maximum(note[start:end, key],
                                          level - rs.uniform(0, 0.1, end - start))
        onset[start, key] = rs.uniform(0.3, 1.0)
    # a note that swells without an onset (the melodia trick's case)
    note[150:190, 40] = np.linspace(0.2, 0.8, 40)
    contour = rs.uniform(0, 0.5, (n_frames, 264))
    return {"note": note.astype(np.float32), "onset": onset.astype(np.float32),
            "contour": contour.astype(np.float32)}


def _notes(events):
    """Note events as an ``(n, 4)`` float64 array (start, end, pitch, amplitude)."""
    return np.array([[float(s), float(e), float(p), float(a)] for s, e, p, a, *_ in events],
                    dtype=np.float64).reshape(-1, 4)


def _decode(outputs, setting):
    from basic_pitch.note_creation import model_output_to_notes

    onset, frame, min_len, infer, melodia, fmin, fmax = setting
    copy = {k: np.array(v) for k, v in outputs.items()}  # the original edits in place
    _, events = model_output_to_notes(copy, onset_thresh=onset, frame_thresh=frame,
                                      infer_onsets=infer, min_note_len=min_len,
                                      min_freq=fmin, max_freq=fmax,
                                      include_pitch_bends=False, melodia_trick=melodia)
    return _notes(events)


def _graph_with_outputs(onnx_path):
    """The ONNX graph with its normalised log CQT and note-branch maps as outputs."""
    import onnx

    model = onnx.load(str(onnx_path))
    names = {}
    for node in model.graph.node:
        if node.op_type == "Where" and "normalized_log" in node.output[0]:
            names["cqt"] = node.output[0]
        if node.op_type == "Relu" and "/re_lu_2/" in node.input[0]:
            names["note_maps"] = node.output[0]
    for name in names.values():
        model.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    return model.SerializeToString(), names


def run(out_dir):
    """Run the original on the test clips and write the fixtures (basic-pitch's venv)."""
    import basic_pitch
    import librosa
    import onnxruntime as ort
    import soundfile as sf
    from basic_pitch import inference
    from basic_pitch.constants import AUDIO_N_SAMPLES, FFT_HOP
    from basic_pitch.note_creation import model_frames_to_time

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = Path(basic_pitch.__file__).parent / "saved_models/icassp_2022/nmp.onnx"
    model = inference.Model(onnx_path)
    assert model.model_type == inference.Model.MODEL_TYPES.ONNX, model.model_type
    graph, names = _graph_with_outputs(onnx_path)
    session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
    overlap = 30 * FFT_HOP
    hop = AUDIO_N_SAMPLES - overlap

    clips = make_inputs()
    clips = list(clips) + [clips[0][SR // 4:SR // 4 + SHORT]]
    arrays, summary = {}, {"basic_pitch": "0.4.0", "onnxruntime": ort.__version__,
                           "librosa": librosa.__version__, "numpy": np.__version__,
                           "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
                           "clips": []}
    full = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, clip in enumerate(clips):
            path = Path(tmp) / f"clip{i}.wav"
            sf.write(path, clip, SR, subtype="FLOAT")
            loaded, _ = librosa.load(str(path), sr=SR, mono=True)
            assert np.array_equal(loaded, clip), "the WAV round trip changed the audio"
            output = inference.run_inference(path, model)
            windows = np.concatenate([w for w, _, _ in inference.get_audio_input(
                path, overlap, hop)])[..., 0].astype(np.float32)
            extra = dict(zip(names, session.run(list(names.values()),
                                                {"serving_default_input_2:0": windows[..., None]})))
            full.append({"output": output, "windows": windows, "extra": extra})
            key = f"clip{i}"
            arrays[f"{key}__head"] = clip[:64]
            arrays[f"{key}__sum"] = np.float64(np.abs(clip.astype(np.float64)).sum())
            frames = FRAMES[FRAMES < len(output["note"])] if i < 3 else \
                np.arange(len(output["note"]))
            arrays[f"{key}__frames"] = frames
            for name in ("contour", "note", "onset"):
                arrays[f"{key}__{name}"] = output[name][frames].astype(np.float32)
            cqt = extra["cqt"].reshape(len(windows), -1, extra["cqt"].shape[-1])
            arrays[f"{key}__cqt"] = cqt[:, WINDOW_FRAMES].astype(np.float32)
            # (window, 32, time, 88) in the ONNX graph: time first, channels last
            maps = np.transpose(extra["note_maps"], (0, 2, 3, 1))
            arrays[f"{key}__note_maps"] = maps[:1, MAP_FRAMES].astype(np.float32)
            summary["clips"].append({
                "n_samples": int(len(clip)),
                "clip_sha256": hashlib.sha256(np.ascontiguousarray(clip).tobytes()).hexdigest(),
                "n_frames": int(len(output["note"])),
                "windows_shape": list(windows.shape),
                "windows_sha256": hashlib.sha256(windows.tobytes()).hexdigest(),
            })
            for s, setting in enumerate(SETTINGS):
                arrays[f"{key}__notes{s}"] = _decode(output, setting)
    posteriors = make_posteriors()
    for s, setting in enumerate(SETTINGS):
        arrays[f"synthetic__notes{s}"] = _decode(posteriors, setting)
    arrays["frame_times"] = model_frames_to_time(1000)
    np.savez_compressed(out_dir / "reference.npz", **arrays)
    summary["settings"] = SETTINGS
    summary["parity"] = _measure(clips, full)
    (out_dir / "reference.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary["parity"], indent=1))


def _measure(clips, full):
    """skmir against the original on every frame (when skmir imports), else None."""
    try:
        import torch

        from skmir.pretrained import load_pretrained
        from skmir.pretrained.basicpitch import basicpitch_windows
    except ImportError:
        return None
    network = load_pretrained("basic-pitch")
    errors = {}

    def record(name, ours, ref):
        ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
        err = np.abs(ours - ref)
        old = errors.get(name, {"max_abs": 0.0, "max_rel_to_max": 0.0})
        errors[name] = {"max_abs": max(old["max_abs"], float(err.max())),
                        "max_rel_to_max": max(old["max_rel_to_max"],
                                              float(err.max() / np.abs(ref).max()))}

    for clip, ref in zip(clips, full):
        windows = basicpitch_windows(clip[None])[0]
        record("windows", windows, ref["windows"])
        out = network.frame_outputs(clip[None])[0]
        record("contour", out[:, :264], ref["output"]["contour"])
        record("note", out[:, 264:352], ref["output"]["note"])
        record("onset", out[:, 352:], ref["output"]["onset"])
        with torch.no_grad():
            layers = network.module(torch.from_numpy(windows), layers=["cqt", "note_maps"])
        record("cqt", layers["cqt"].numpy(),
               ref["extra"]["cqt"].reshape(layers["cqt"].shape))
        record("note_maps", layers["note_maps"].numpy(),
               np.transpose(ref["extra"]["note_maps"], (0, 2, 3, 1)))
    return errors


def main(argv=None):
    """``run OUT_DIR`` (in basic-pitch's venv)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"] and len(argv) == 2:
        run(argv[1])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
