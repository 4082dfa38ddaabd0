"""Onset detection: a frame-level network against librosa's spectral-flux detector
===============================================================================

A :class:`skmir.FrameTagger` with the paper's time-varying DNN (``"dnn"``:
d2-d2-d2-d1, every d2 a dense layer over 5 frames) reads log-mel frames and their
positive first difference (the spectral flux that conventional detectors threshold)
and outputs an onset probability per frame, trained on targets that mark the frame
of every annotated onset and its two neighbours (``events_to_frames(..., width=1)``).
Peaks above 0.5 are the onsets (``pick_events``). The conventional baseline is
``librosa.onset.onset_detect`` (spectral flux and adaptive peak picking) at the same
10 ms hop. Both are scored on unseen generated clips (full mixes: lead,
accompaniment, bass, drums) with ``mir_eval.onset.f_measure`` (50 ms window),
averaged over clips.

Measured (80 training clips of 6 s, 20 unseen ones, 40 epochs; 23 s on a 2-core CPU):
F-measure learned 0.882 (precision 0.898, recall 0.879), librosa 0.790 (precision
0.932, recall 0.709): the gain is in recall, at a small cost in precision. Figures
are for torch's default 2 threads; another thread count sums in another order and
moves them by about 0.01.

    python examples/onset_detection.py [--quick]
"""

import argparse

import librosa
import mir_eval
import numpy as np

import skmir
from skmir.datasets import make_music
from skmir.frames import events_to_frames, pick_events
from skmir.neural import FrameTagger

SR, HOP = 16000, 160  # 10 ms frames: fine enough for the 50 ms tolerance window


def features(music):
    """Log-mel frames stacked over their positive first difference (bins x 2)."""
    mel = skmir.MelSpectrogram(sr=SR, n_fft=1024, hop_length=HOP, n_mels=80, fmin=30.0)
    S = skmir.LogCompression().transform(mel.transform(music.data))
    # The rise in energy is what marks an onset; handing it to the network directly
    # spares it learning a difference filter from a few dozen clips.
    flux = np.maximum(np.diff(S, axis=2, prepend=S[:, :, :1]), 0.0)
    return np.concatenate([S, flux], axis=1)


def onset_scores(found, music):
    """Mean F-measure, precision, recall over the clips (mir_eval, 50 ms window)."""
    scores = [mir_eval.onset.f_measure(np.asarray(ann["onsets"]), np.asarray(est), window=0.05)
              for est, ann in zip(found, music.annotations)]
    return np.mean(scores, axis=0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer clips and epochs")
    args = parser.parse_args(argv)
    n_train, n_test, epochs = (8, 4, 10) if args.quick else (80, 20, 40)
    kwargs = dict(task="genre", duration=6.0, sr=SR)
    train = make_music(n_clips=n_train, random_state=0, **kwargs)
    test = make_music(n_clips=n_test, random_state=1, **kwargs)

    X_train, X_test = features(train), features(test)
    n_frames = X_train.shape[2]
    # width=1 triples the rare positive frames (about one in 20), and a frame either
    # side of an onset is well within the 50 ms that the scoring tolerates.
    y_train = np.stack([events_to_frames(ann["onsets"], n_frames, SR, HOP, width=1)
                        for ann in train.annotations])
    print(f"{n_train} training clips, {n_test} test clips, {n_frames} frames of "
          f"{1000 * HOP / SR:g} ms each, {int(y_train.sum())} positive training frames")

    scaler = skmir.SpectrogramScaler().fit(X_train)
    tagger = FrameTagger("dnn", hidden=128, context=5, max_epochs=epochs, lr=3e-3,
                         batch_size=8, early_stopping=False, gain=0.0, freq_mask=0.0,
                         device="cpu", random_state=0)
    tagger.fit(scaler.transform(X_train), y_train)
    activation = tagger.predict_proba(scaler.transform(X_test))[..., 0]
    # wait=3 frames (30 ms): the annotations merge events closer than that into one
    learned = onset_scores([pick_events(a, SR, HOP, threshold=0.5, wait=3)
                            for a in activation], test)

    # librosa's default hop (512 samples, 32 ms at 16 kHz) is too coarse for a 50 ms
    # window (F-measure 0.45 in the full run); it gets the network's hop.
    conventional = onset_scores(
        [librosa.onset.onset_detect(y=np.asarray(y), sr=SR, hop_length=HOP,
                                    backtrack=False, units="time") for y in test.data], test)
    for name, (f, p, r) in (("learned (FrameTagger)", learned),
                            ("librosa onset_detect", conventional)):
        print(f"{name:22s} F-measure {f:.3f}  precision {p:.3f}  recall {r:.3f}")
    return learned, conventional


if __name__ == "__main__":
    main()
