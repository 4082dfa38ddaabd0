"""The paper's fig. 4: one clip as waveform, STFT, mel-spectrogram, CQT and chromagram
===================================================================================

Generates a clip with skmir.datasets.make_music and writes
representations.png (or the path given with --out).

    python examples/plot_representations.py [--out representations.png] [--quick]
"""

import argparse

from skmir.datasets import make_music
from skmir.plot import plot_representations, save_figure


def main(argv=None):
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--out", default="representations.png")
    parser.add_argument("--quick", action="store_true", help="a 3 s clip instead of 10 s")
    args = parser.parse_args(argv)
    music = make_music(task="genre", n_clips=1, duration=3.0 if args.quick else 10.0,
                       random_state=3)
    fig = plot_representations(music.data[0], sr=music.sr)
    meta = {k: v[0] for k, v in music.metadata.items()}
    fig.suptitle(f"Generated {meta['genre']} clip in {meta['key']}, {meta['tempo']:.0f} BPM, "
                 f"lead: {meta['lead']}")
    # left open for whoever runs this to show it (the documentation's gallery does)
    print(f"wrote {save_figure(fig, args.out, close=False)}")


if __name__ == "__main__":
    main()
