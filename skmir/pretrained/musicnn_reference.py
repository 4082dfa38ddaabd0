"""Reference outputs of the original musicnn graphs, for skmir's parity tests.

A one-off tool, never run by CI: TensorFlow is imported inside :func:`run` only and
never becomes a dependency of skmir. It writes the fixtures of
``tests/data/musicnn/`` that ``tests/test_musicnn.py`` compares skmir against::

    # 1. in skmir's environment: a fixed clip of generated music, as 16-bit PCM
    python -m skmir.pretrained.musicnn_reference waveform /tmp/musicnn_waveform.npy
    # 2. in a throw-away TensorFlow environment (it needs no skmir)
    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu numpy librosa
    /tmp/tfvenv/bin/python skmir/pretrained/musicnn_reference.py run \\
        /tmp/musicnn/musicnn-0.1.0-py3-none-any.whl /tmp/musicnn_waveform.npy tests/data/musicnn

Step 2 computes the clip's log-mel the musicnn way (librosa's mel spectrogram with
the parameters of musicnn's ``extractor.py``, float16, ``log10(10000 S + 1)``), runs
the four training graphs of the wheel (``import_meta_graph`` of the ``.meta`` without
its stale ``_output_shapes``, restored by TensorFlow's own ``Saver``, so the weights
do not go through skmir's checkpoint reader) with ``is_training`` False on two
patches, the first 187 frames of the clip and a random one, and saves the inputs,
the tag probabilities, the logits and every exposed layer (large maps at fixed time
and mel positions, edges included, with the whole map's maximum absolute value).
"""

import json
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

NETWORKS = {
    "musicnn-mtt": "MTT_musicnn",
    "musicnn-msd": "MSD_musicnn",
    "vgg-mtt": "MTT_vgg",
    "vgg-msd": "MSD_vgg",
}
SR, N_FFT, HOP, N_MELS, N_FRAMES = 16000, 512, 256, 96, 187

# tensors of the training graphs (read off their .meta) that musicnn's extractor
# exposes; lists are concatenated on the channel axis as musicnn's models.py does
MUSICNN_LAYERS = {
    "timbral": ["model/Squeeze:0", "model/Squeeze_1:0"],
    "temporal": ["model/Squeeze_2:0", "model/Squeeze_3:0", "model/Squeeze_4:0"],
    "cnn1": ["model/transpose:0"],
    "cnn2": ["model/Add:0"],
    "cnn3": ["model/Add_1:0"],
    "mean_pool": ["model/moments/Squeeze:0"],
    "max_pool": ["model/Max:0"],
    "penultimate": ["model/batch_normalization_10/batchnorm/add_1:0"],
    "logits": ["model/dense_1/BiasAdd:0"],
    "taggram": ["model/Sigmoid:0"],
}
VGG_LAYERS = {
    **{f"pool{i + 1}": [f"model/max_pooling2d{'_' + str(i) if i else ''}/MaxPool:0"]
       for i in range(5)},
    "logits": ["model/dense/BiasAdd:0"],
    "taggram": ["model/Sigmoid:0"],
}
INPUT, IS_TRAINING = "model/Placeholder:0", "model/Placeholder_2:0"


def positions(n, edge=3, middle=6):
    """Indices kept of an axis of length n: all if short, else both edges and the middle.

    Examples
    --------
    >>> positions(8).tolist()
    [0, 1, 2, 3, 4, 5, 6, 7]
    >>> positions(187).tolist()
    [0, 1, 2, 29, 54, 80, 106, 132, 157, 184, 185, 186]
    """
    if n <= 2 * edge + middle:
        return np.arange(n)
    inner = np.linspace(edge, n - edge - 1, middle + 2).round().astype(int)[1:-1]
    return np.concatenate([np.arange(edge), inner, np.arange(n - edge, n)])


def musicnn_logmel_reference(y, pad_mode="reflect"):
    """The log-mel of musicnn's ``batch_data`` with librosa (time x mel).

    The mel power is quantised to float16; the log is taken in float32, as numpy 1
    computed ``10000 * S`` (the scalar promoted float16 to float32). numpy 2 keeps the
    product in float16, which overflows to inf above S = 6.55.
    """
    import librosa

    S = librosa.feature.melspectrogram(y=y, sr=SR, hop_length=HOP, n_fft=N_FFT,
                                       n_mels=N_MELS, pad_mode=pad_mode).T
    S = S.astype(np.float16)
    return np.log10(10000 * S.astype(np.float32) + 1)


def make_waveform(path, seconds=5.0, seed=7):
    """Write a fixed clip of :func:`skmir.datasets.make_music` as int16 (skmir's venv)."""
    from skmir.datasets import make_music

    music = make_music("tags", n_clips=1, duration=seconds, sr=SR, random_state=seed)
    y = np.asarray(music.data[0], dtype=np.float64)
    pcm = np.clip(np.round(y * 32767), -32768, 32767).astype(np.int16)
    np.save(path, pcm)
    print(f"{path}: {pcm.size} samples at {SR} Hz, peak {np.abs(pcm).max()}")


def _graph(tf, meta_bytes):
    from tensorflow.core.protobuf import meta_graph_pb2

    meta = meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(meta_bytes)
    # TF 1.11/1.12 recorded output shapes that newer importers reject on gradient nodes
    for node in meta.graph_def.node:
        node.attr.pop("_output_shapes", None)
    return meta


def _run_network(tf, folder, files, patches, layers):
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        graph = tf.Graph()
        with graph.as_default():
            saver = tf.compat.v1.train.import_meta_graph(_graph(tf, files[".meta"]),
                                                         clear_devices=True)
            with tf.compat.v1.Session(graph=graph) as sess:
                saver.restore(sess, tmp + "/")
                fetches = {k: [graph.get_tensor_by_name(t) for t in v]
                           for k, v in layers.items()}
                out = sess.run(fetches, {graph.get_tensor_by_name(INPUT): patches,
                                         graph.get_tensor_by_name(IS_TRAINING): False})
    result = {}
    for name, parts in out.items():
        parts = [np.asarray(p, np.float32) for p in parts]
        # (batch, 753, 1) pooled maps and (batch, time, channels, 1) mid-end maps
        parts = [p[..., 0] if p.ndim in (3, 4) and p.shape[-1] == 1
                 else p for p in parts]
        result[name] = np.concatenate(parts, axis=-1)
    return result


def run(wheel, waveform, out_dir, seed=0):
    """Run the original graphs and write the fixtures (TensorFlow's venv)."""
    import librosa
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pcm = np.load(waveform)
    y = pcm.astype(np.float32) / 32768
    logmel = musicnn_logmel_reference(y)
    logmel_zero = musicnn_logmel_reference(y, pad_mode="constant")
    rng = np.random.default_rng(seed)
    patches = np.stack([logmel[:N_FRAMES],
                        rng.uniform(0, 4, (N_FRAMES, N_MELS))]).astype(np.float32)
    np.savez_compressed(out_dir / "frontend.npz", waveform=pcm, logmel=logmel,
                        logmel_constant=logmel_zero)
    np.savez_compressed(out_dir / "patches.npz", patches=patches)
    summary = {"tensorflow": tf.__version__, "librosa": librosa.__version__,
               "numpy": np.__version__, "networks": {}}
    n_clip = len(logmel) // N_FRAMES
    clip = {"reflect": logmel, "constant": logmel_zero}
    clip = {k: v[:n_clip * N_FRAMES].reshape(n_clip, N_FRAMES, N_MELS) for k, v in clip.items()}

    with zipfile.ZipFile(wheel) as zf:
        for name, folder in NETWORKS.items():
            files = {f: zf.read(f"musicnn/{folder}/{f}")
                     for f in (".index", ".data-00000-of-00001", ".meta", "checkpoint")}
            layers = VGG_LAYERS if "vgg" in name else MUSICNN_LAYERS
            out = _run_network(tf, folder, files, patches, layers)
            arrays = {}
            for layer, value in out.items():
                arrays[f"{layer}__absmax"] = np.float32(np.abs(value).max())
                for axis, key in ((1, "t"), (2, "f")):
                    if value.ndim > axis + 1:
                        idx = positions(value.shape[axis])
                        arrays[f"{layer}__{key}"] = idx
                        value = np.take(value, idx, axis=axis)
                arrays[layer] = value
                arrays[f"{layer}__shape"] = np.asarray(out[layer].shape)
            np.savez_compressed(out_dir / f"{name}.npz", **arrays)
            # the front end's choices, measured on the whole clip's patches
            tags = {k: _run_network(tf, folder, files, v, {"taggram": ["model/Sigmoid:0"]})
                    ["taggram"] for k, v in clip.items()}
            summary["networks"][name] = {
                "folder": folder,
                "taggram_patches": out["taggram"].round(6).tolist(),
                "reflect_vs_constant_padding_max_tag_diff":
                    float(np.abs(tags["reflect"] - tags["constant"]).max()),
            }
            print(name, json.dumps({k: v for k, v in summary["networks"][name].items()
                                    if k != "taggram_patches"}))
    summary["logmel_reflect_vs_constant_max_diff"] = float(np.abs(logmel - logmel_zero).max())
    (out_dir / "reference.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "networks"}))


def main(argv=None):
    """``waveform OUT.npy`` (skmir's venv) or ``run WHEEL WAVEFORM.npy OUT_DIR`` (TF's)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["waveform"] and len(argv) == 2:
        make_waveform(argv[1])
    elif argv[:1] == ["run"] and len(argv) == 4:
        run(*argv[1:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
