"""Richer tonal writing for :func:`skmir.datasets.make_music` (``harmony="rich"``).

The plain generator states its key very plainly: diatonic triads in root position,
a melody of scale tones with chord tones on every strong beat. Real tonal music
keeps its key while blurring that picture, and each device here is one way it does:

- ``"mixture"``: chords borrowed from the parallel mode (iv, bVI in major; IV and a
  major V in minor);
- ``"secondary"``: secondary dominants (V7/x) tonicising the next chord;
- ``"cadence"``: phrases end on cadences (V - I, or a half cadence on V), the
  melody's phrase-final note on the tonic or the dominant;
- ``"inversion"``: first and second inversions (the bass on the third or fifth,
  annotated "C:maj/3", "C:maj/5");
- ``"voicing"``: open (spread) voicings in the accompaniment;
- ``"nct"``: non-chord tones in the melody: appoggiaturas on strong beats (a step
  above the chord tone, resolved down) and chromatic lower neighbours on weak ones;
- ``"tuning"``: the reference off 440 Hz by up to +-50 cents (triangular: three
  clips in four within +-25; plain: uniform within +-10);
- ``"timbre"``: per part, harmonics made strong (soft clipping) or weak (low-pass).

Every random draw here comes from its own stream, ``default_rng([seed, 5, i,
stream])``, so the plain clips (which never draw from them) stay bit-identical, and
switching one device off (:data:`FEATURES`, for ablations) leaves the others' draws
as they were.
"""

import numpy as np

from skmir.datasets._drums import lowpass
from skmir.datasets._harmony import QUALITIES, chord_tones

DEVICES = ("mixture", "secondary", "cadence", "inversion", "voicing", "nct", "tuning",
           "timbre")
# The devices harmony="rich" uses; measurement scripts narrow it to ablate one.
FEATURES = set(DEVICES)
TUNING_CENTS = 50.0

# Stream numbers of default_rng([seed, 5, i, stream]).
CHORDS, MELODY, COMP, TIMBRE, TUNING = range(5)

# Borrowed chords: (semitones above the tonic, quality in the piece's mode) ->
# replacement from the parallel mode.
_MIXTURE = {
    "major": {(5, "maj"): (5, "min"), (9, "min"): (8, "maj"), (2, "min"): (2, "hdim7")},
    "minor": {(5, "min"): (5, "maj"), (7, "min"): (7, "maj"), (7, "min7"): (7, "7"),
              (5, "min7"): (5, "7")},
}
# Rates per chord (or note): set so that a Krumhansl-Kessler template on mean chroma
# still finds about 0.4 of 24 keys (0.5 on plain clips; make_music's Notes): real
# music blurs its key, it does not hide it.
P_MIXTURE = 0.15
P_SECONDARY = 0.1
P_CADENCE = 0.4
P_INVERSION = 0.25
P_OPEN = 0.5
P_APPOGGIATURA = 0.15
P_CHROMATIC = 0.1
# Harte interval names of the chord tones a bass can take.
_DEGREE = {3: "b3", 4: "3", 6: "b5", 7: "5", 10: "b7", 11: "7"}


def streams(seed, i):
    """The clip's rich-harmony random streams: ``streams(seed, i)(stream, *more)``."""
    return lambda *stream: np.random.default_rng([seed, 5, i, *stream])


def uses(plan, device):
    """Whether the clip's plan uses ``device`` (only ever with harmony="rich")."""
    return plan.get("rich") is not None and device in FEATURES


def enrich_chords(chords, plan, per_bar, n_beats):
    """Rewrite a progression: cadences, borrowed chords, secondary dominants, inversions.

    ``chords`` are ``(start beat, end beat, root pc, quality, bass interval)``; the
    result has the same spans, so the harmonic rhythm is unchanged.
    """
    rng = plan["rich"](CHORDS)
    tonic, mode = plan["tonic"], plan["mode"]
    chords = [list(c) for c in chords]
    # Draws happen whether or not a device is on, so an ablation keeps the rest.
    u = rng.uniform(size=(len(chords), 6))
    if uses(plan, "cadence"):
        tonic_q = "maj" if mode == "major" else "min"
        for k in range(len(chords)):
            bar = k // per_bar
            if bar % 4 != 3 or k % per_bar or u[k, 0] >= P_CADENCE:
                continue
            authentic = u[k, 1] < 0.75
            last = chords[k:k + per_bar]
            before = chords[k - 1] if k > 0 else None
            if authentic:
                for x in last:
                    x[2:4] = [tonic, tonic_q]
                if before is not None:
                    before[2:4] = [(tonic + 7) % 12, "7" if u[k, 2] < 0.5 else "maj"]
            else:
                for x in last:
                    x[2:4] = [(tonic + 7) % 12, "maj"]
    if uses(plan, "mixture"):
        for k, c in enumerate(chords):
            alt = _MIXTURE[mode].get(((c[2] - tonic) % 12, c[3]))
            if alt and u[k, 3] < P_MIXTURE:
                c[2:4] = [(tonic + alt[0]) % 12, alt[1]]
    if uses(plan, "secondary"):
        for k in range(len(chords) - 1):
            nxt, c = chords[k + 1], chords[k]
            # Tonicise a consonant chord other than the tonic (V/I is just V), unless
            # the chord already is that dominant.
            target = (nxt[2] - tonic) % 12
            if target == 0 or nxt[3] in ("dim", "hdim7") or c[2] == (nxt[2] + 7) % 12:
                continue
            if u[k, 4] < P_SECONDARY:
                c[2:4] = [(nxt[2] + 7) % 12, "7" if u[k, 5] < 0.7 else "maj"]
    inv = rng.uniform(size=len(chords))
    pick = rng.integers(2, size=len(chords))
    if uses(plan, "inversion") and (plan["bass"] or plan["comp"]):  # someone plays it
        for k, c in enumerate(chords):
            if inv[k] < P_INVERSION:
                c[4] = QUALITIES[c[3]][1 + pick[k]]  # the third or the fifth
    return [tuple(c) for c in chords]


def bass_label(bass):
    """The Harte suffix of a chord's bass ("" in root position, "/3", "/b5"...)."""
    return f"/{_DEGREE[bass]}" if bass else ""


def melody_pcs(scale, root, quality):
    """Pitch classes a melody may step through over a chord, possibly a chromatic one.

    The key's scale, with each chromatic chord tone replacing its scale neighbours (so
    F# over V/V in C, not F or G).
    """
    tones = set(chord_tones(root, quality))
    out = set(scale)
    for t in tones - set(scale):
        out -= {(t - 1) % 12, (t + 1) % 12}
    return out | tones


def open_voicing(voicing, bass_pc, rng):
    """An accompaniment voicing: the bass pitch class lowest, sometimes spread open."""
    notes = sorted(voicing)
    if bass_pc is not None:
        while notes[0] % 12 != bass_pc:
            notes = sorted(notes[1:] + [notes[0] + 12])
    if "voicing" in FEATURES and len(notes) >= 3 and rng.uniform() < P_OPEN:
        notes[1] += 12  # open position: the middle voice an octave up
        notes.sort()
    return notes


def ornament(pitch, strong, tones, allowed, dur_beats, rng):
    """Non-chord tones: the notes to play instead of ``pitch``, as (pitch, fraction).

    An appoggiatura replaces the first half of a long strong-beat chord tone by the
    scale step above it (resolved down to the chord tone); a weak-beat note sometimes
    becomes the chromatic lower neighbour of the nearest chord tone.
    """
    u = rng.uniform(size=2)
    if "nct" not in FEATURES:
        return [(pitch, 1.0)]
    if strong and pitch % 12 in tones and dur_beats >= 0.5 and u[0] < P_APPOGGIATURA:
        above = next(p for p in range(pitch + 1, pitch + 3)
                     if p % 12 in allowed or p == pitch + 2)
        return [(above, 0.5), (pitch, 0.5)]
    if not strong and u[1] < P_CHROMATIC:
        target = min((p for p in range(pitch - 6, pitch + 7) if p % 12 in tones),
                     key=lambda p: abs(p - pitch))
        if (target - 1) % 12 not in tones:
            return [(target - 1, 1.0)]
    return [(pitch, 1.0)]


def colour(buf, sr, rng):
    """Make a part's harmonics strong (soft clipping) or weak (a low-pass), or neither."""
    choice, amount = rng.integers(3), rng.uniform()
    if "timbre" not in FEATURES or choice == 2:
        return buf
    peak = np.abs(buf).max()
    if peak == 0:
        return buf
    if choice == 0:
        drive = 1.5 + 3 * amount
        return np.tanh(drive * buf / peak) * peak / np.tanh(drive)
    return lowpass(buf, 500 + 1500 * amount, sr)
