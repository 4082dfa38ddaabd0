"""Musical material for :func:`skmir.datasets.make_music`: keys, scales, chords, progressions.

Pitches are MIDI numbers (60 = middle C); pitch classes are 0..11 from C. Chord
labels follow Harte et al. (2005) as read by :mod:`mir_eval.chord` ("C:maj",
"A:min7", "N") and key labels follow :mod:`mir_eval.key` ("C major", "A minor").
"""

import numpy as np

from skmir.tonality import PITCH_NAMES

SCALES = {
    "major": np.array([0, 2, 4, 5, 7, 9, 11]),
    "minor": np.array([0, 2, 3, 5, 7, 8, 10]),
}

# Chord qualities as semitones above the root, keyed by their Harte shorthand.
QUALITIES = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "hdim7": (0, 3, 6, 10),
}

# Progressions as (semitones above the tonic, quality) per chord. Each style picks
# from these with its own weights (see _styles.py); the names say what they are.
PROGRESSIONS = {
    "major": {
        "I-IV-V-I": [(0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")],
        "I-V-vi-IV": [(0, "maj"), (7, "maj"), (9, "min"), (5, "maj")],
        "I-vi-IV-V": [(0, "maj"), (9, "min"), (5, "maj"), (7, "maj")],
        "I-IV-I-V": [(0, "maj"), (5, "maj"), (0, "maj"), (7, "maj")],
        "I-ii-V-I": [(0, "maj"), (2, "min"), (7, "7"), (0, "maj")],
        "I-IV-ii-V": [(0, "maj"), (5, "maj"), (2, "min"), (7, "maj")],
        "I-bVII-IV-I": [(0, "maj"), (10, "maj"), (5, "maj"), (0, "maj")],
        "pachelbel": [(0, "maj"), (7, "maj"), (9, "min"), (4, "min"),
                      (5, "maj"), (0, "maj"), (5, "maj"), (7, "maj")],
        "ii7-V7-Imaj7": [(2, "min7"), (7, "7"), (0, "maj7"), (0, "maj7")],
        "Imaj7-vi7-ii7-V7": [(0, "maj7"), (9, "min7"), (2, "min7"), (7, "7")],
        "blues": [(0, "7")] * 4 + [(5, "7")] * 2 + [(0, "7")] * 2
                 + [(7, "7"), (5, "7"), (0, "7"), (7, "7")],
        "I-I-IV-V": [(0, "maj"), (0, "maj"), (5, "maj"), (7, "maj")],
    },
    "minor": {
        "i-iv-V-i": [(0, "min"), (5, "min"), (7, "maj"), (0, "min")],
        "i-VI-III-VII": [(0, "min"), (8, "maj"), (3, "maj"), (10, "maj")],
        "i-VII-VI-V": [(0, "min"), (10, "maj"), (8, "maj"), (7, "maj")],
        "i-iv-VII-III": [(0, "min"), (5, "min"), (10, "maj"), (3, "maj")],
        "i-VI-iv-V": [(0, "min"), (8, "maj"), (5, "min"), (7, "maj")],
        "i-iv-i-V": [(0, "min"), (5, "min"), (0, "min"), (7, "7")],
        "i-v-iv-i": [(0, "min"), (7, "min"), (5, "min"), (0, "min")],
        "i-i-iv-iv": [(0, "min"), (0, "min"), (5, "min"), (5, "min")],
        "iiø7-V7-i7": [(2, "hdim7"), (7, "7"), (0, "min7"), (0, "min7")],
        "i7-iv7-v7-i7": [(0, "min7"), (5, "min7"), (7, "min7"), (0, "min7")],
        "blues": [(0, "min7")] * 4 + [(5, "min7")] * 2 + [(0, "min7")] * 2
                 + [(8, "7"), (7, "7"), (0, "min7"), (7, "7")],
        "i-VII-i-VII": [(0, "min"), (10, "maj"), (0, "min"), (10, "maj")],
    },
}


def chord_label(root, quality):
    """The Harte label of a chord ("Bb:min7")."""
    return f"{PITCH_NAMES[root % 12]}:{quality}"


def midi_to_hz(midi, tuning_cents=0.0):
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69 + tuning_cents / 100) / 12)


def chord_tones(root, quality):
    """Pitch classes of a chord."""
    return [(root + i) % 12 for i in QUALITIES[quality]]


def voice_chord(root, quality, center, previous=None):
    """Close-position voicing near ``center`` (MIDI), moving as little as possible.

    Each inversion is placed with its lowest note in the octave below ``center``; the
    one nearest the previous voicing wins (nearest ``center`` for the first chord), the
    smooth voice leading of a keyboard or guitar comping part.
    """
    pcs = chord_tones(root, quality)
    best, best_cost = None, np.inf
    target = np.mean(previous) if previous is not None else center
    for inv in range(len(pcs)):
        order = pcs[inv:] + pcs[:inv]
        low = center - 6 + ((order[0] - (center - 6)) % 12)
        notes = [low]
        for pc in order[1:]:
            notes.append(notes[-1] + ((pc - notes[-1]) % 12 or 12))
        cost = abs(np.mean(notes) - target)
        if cost < best_cost:
            best, best_cost = notes, cost
    return best


def nearest_in(pcs, midi, lo, hi):
    """The MIDI pitch of one of the pitch classes ``pcs`` nearest ``midi`` in [lo, hi]."""
    cands = np.array([m for m in range(lo, hi + 1) if m % 12 in pcs])
    return int(cands[np.argmin(np.abs(cands - midi))])
