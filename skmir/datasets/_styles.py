"""The styles ("genres") of :func:`skmir.datasets.make_music`, as distributions.

A style is not a preset: it is a distribution over tempo, meter, swing, mode,
progression, harmonic rhythm, instrumentation (lead, accompaniment, bass, drums),
accompaniment/bass/drum patterns, melody rhythm, articulation, distortion, room and
production (levels of the parts, equaliser shelves, band limit, noise floor).
Every categorical distribution is mixed with the uniform one (``OVERLAP``), and the
tempo with a uniform draw over the whole range, so that each cue is shared by
several styles and no single cue names the style: a classifier has to combine them.
``OVERLAP`` was tuned so that an MFCC + SVM baseline lands mid-range (see the
calibration table in ``make_music``'s docstring).
"""

import numpy as np

from skmir.datasets._harmony import PROGRESSIONS
from skmir.datasets._instruments import BASS_INSTRUMENTS, COMP_INSTRUMENTS, LEAD_INSTRUMENTS

OVERLAP = 0.05
TEMPO_RANGE = (60.0, 180.0)

# meter -> (beats per bar, steps per beat); 4 steps are sixteenths (swing shifts the
# off-beat eighth), 3 steps are the eighths of a compound meter.
METERS = {"4/4": (4, 4), "3/4": (3, 4), "6/8": (2, 3), "12/8": (4, 3)}

# Drum patterns, one character per step of a bar: x hit, X accent, g ghost, o open hat.
DRUM_PATTERNS = {
    "rock": ("4/4", dict(kick="x.......x.x.....", snare="....X.......X...",
                         hat="x.x.x.x.x.x.x.x.")),
    "rock2": ("4/4", dict(kick="x.x.....x.x...x.", snare="....X.......X...",
                          hat="x.x.x.x.x.x.x.x.")),
    "halftime": ("4/4", dict(kick="x.........x.....", snare="........X.......",
                             hat="x.x.x.x.x.x.x.x.")),
    "pop": ("4/4", dict(kick="x.....x.x.......", snare="....X.......X...",
                        hat="xxxxxxxxxxxxxxxx")),
    "ballad": ("4/4", dict(kick="x.......x.......", rim="....x.......x...",
                           hat="x.x.x.x.x.x.x.x.")),
    "four": ("4/4", dict(kick="x...x...x...x...", snare="....X.......X...",
                         hat="xxo.xxo.xxo.xxo.")),
    "breakbeat": ("4/4", dict(kick="x.........x.....", snare="....X..g.x..X...",
                              hat="xxxxxxxxxxxxxxxx")),
    "swing": ("4/4", dict(ride="x...x.x.x...x.x.", hat="....x.......x...",
                          kick="g...g...g...g...", snare="......g.......g.")),
    "onedrop": ("4/4", dict(kick="........x.......", rim="........X.......",
                            hat="x.x.x.x.x.x.x.x.")),
    "train": ("4/4", dict(kick="x.......x.......", snare="g.x.g.x.g.x.g.x.")),
    "waltz": ("3/4", dict(kick="x...........", snare="....x...x...", hat="x.x.x.x.x.x.")),
    "jazzwaltz": ("3/4", dict(ride="x...x.x.x.x.", hat="....x.......", kick="g...........")),
    "sixeight": ("6/8", dict(kick="x.....", snare="...X..", hat="xxxxxx")),
    "shuffle": ("12/8", dict(kick="x.....x.....", snare="...X.....X..",
                             hat="x.xx.xx.xx.x")),
    "slowblues": ("12/8", dict(kick="x.....x.....", snare="...X.....X..",
                               ride="xxxxxxxxxxxx")),
}
COMP_PATTERNS = ("pad", "block", "strum", "arp", "offbeat", "comp", "boomchick")
BASS_PATTERNS = ("root", "rootfifth", "quarters", "eighths", "walking", "octaves",
                 "syncopated")
# Melody rhythm cells: (start, duration) in beats; "h" spans two beats.
CELLS = {
    4: {"q": [(0, 1)], "ee": [(0, .5), (.5, .5)], "re": [(.5, .5)],
        "ssss": [(0, .25), (.25, .25), (.5, .25), (.75, .25)],
        "ess": [(0, .5), (.5, .25), (.75, .25)], "sse": [(0, .25), (.25, .25), (.5, .5)],
        "dot": [(0, .75), (.75, .25)], "h": [(0, 2)], "rest": [],
        "trip": [(0, 1 / 3), (1 / 3, 1 / 3), (2 / 3, 1 / 3)]},
    3: {"q": [(0, 1)], "qe": [(0, 2 / 3), (2 / 3, 1 / 3)],
        "eee": [(0, 1 / 3), (1 / 3, 1 / 3), (2 / 3, 1 / 3)], "eq": [(0, 1 / 3), (1 / 3, 2 / 3)],
        "h": [(0, 2)], "rest": []},
}

STYLES = {
    "classical": dict(
        tempo=(95, 25), meter={"4/4": .45, "3/4": .35, "6/8": .2}, swing=(0.0, (.5, .5)),
        major=.55,
        prog_major={"I-IV-V-I": .25, "I-ii-V-I": .2, "pachelbel": .2, "I-IV-ii-V": .2,
                    "I-vi-IV-V": .15},
        prog_minor={"i-iv-V-i": .4, "i-VI-iv-V": .3, "i-iv-i-V": .3},
        chords_per_bar={1: .7, 2: .3},
        lead={"violin": .3, "flute": .25, "clarinet": .2, "piano": .2, "trumpet": .05},
        comp={"strings": .5, "piano": .4, "pad": .05, "organ": .05}, n_comp={0: .1, 1: .7, 2: .2},
        bass={None: .5, "bass": .5}, drums=.05,
        drum_patterns={"ballad": 1, "waltz": 1, "sixeight": 1},
        comp_patterns={"pad": .3, "arp": .4, "block": .3},
        bass_patterns={"root": .5, "rootfifth": .3, "quarters": .2},
        cells={"q": .3, "ee": .3, "h": .15, "dot": .1, "ssss": .05, "rest": .05, "qe": .3,
               "eee": .3, "eq": .1},
        legato=(.8, .98), drive=0.0, rt60=(1.2, 3.0), wet=(.2, .45), humanise=(.005, .015),
        eq=(.2, -.2, .2, (45, 65)),
        levels=(-5, -8, -12),
    ),
    "jazz": dict(
        tempo=(135, 30), meter={"4/4": .85, "3/4": .15}, swing=(.85, (.6, .67)), major=.65,
        prog_major={"ii7-V7-Imaj7": .35, "Imaj7-vi7-ii7-V7": .35, "blues": .2, "I-ii-V-I": .1},
        prog_minor={"iiø7-V7-i7": .5, "i7-iv7-v7-i7": .3, "blues": .2},
        chords_per_bar={1: .6, 2: .4},
        lead={"trumpet": .3, "piano": .2, "clarinet": .15, "guitar": .15, "epiano": .1,
              "flute": .05, "synth": .05},
        comp={"piano": .45, "epiano": .3, "guitar": .25}, n_comp={0: .05, 1: .85, 2: .1},
        bass={"bass": .9, None: .1}, drums=.85,
        drum_patterns={"swing": .85, "jazzwaltz": 1, "ballad": .15},
        comp_patterns={"comp": .7, "block": .3},
        bass_patterns={"walking": .8, "rootfifth": .2},
        cells={"ee": .45, "q": .2, "trip": .1, "re": .1, "rest": .1, "ssss": .05},
        legato=(.6, .9), drive=0.0, rt60=(.5, 1.5), wet=(.1, .3), humanise=(.005, .015),
        eq=(.3, -.3, .5, (40, 60)),
        levels=(-6, -5, -8),
    ),
    "rock": dict(
        tempo=(125, 22), meter={"4/4": .9, "12/8": .1}, swing=(.1, (.55, .6)), major=.55,
        prog_major={"I-bVII-IV-I": .3, "I-IV-V-I": .25, "I-V-vi-IV": .2, "I-IV-I-V": .15,
                    "blues": .1},
        prog_minor={"i-VII-VI-V": .3, "i-VI-III-VII": .3, "i-v-iv-i": .2, "i-VII-i-VII": .2},
        chords_per_bar={1: .85, 2: .15},
        lead={"guitar": .45, "organ": .15, "synth": .15, "piano": .1, "violin": .05,
              "trumpet": .05, "clarinet": .05},
        comp={"guitar": .65, "organ": .2, "piano": .15}, n_comp={0: 0, 1: .7, 2: .3},
        bass={"bass": .9, "synthbass": .1}, drums=.97,
        drum_patterns={"rock": .5, "rock2": .3, "halftime": .2, "shuffle": 1},
        comp_patterns={"strum": .6, "block": .3, "pad": .1},
        bass_patterns={"eighths": .6, "rootfifth": .2, "quarters": .2},
        cells={"q": .3, "ee": .35, "h": .15, "rest": .1, "ssss": .1, "qe": .5, "eee": .5},
        legato=(.5, .9), drive=.8, rt60=(.3, 1.2), wet=(.05, .25), humanise=(.003, .012),
        eq=(.3, .3, .1, (40, 60)),
        levels=(-3, -5, -2),
    ),
    "pop": dict(
        tempo=(112, 18), meter={"4/4": .95, "6/8": .05}, swing=(.05, (.55, .6)), major=.7,
        prog_major={"I-V-vi-IV": .4, "I-vi-IV-V": .25, "I-IV-I-V": .1, "I-I-IV-V": .15,
                    "I-IV-ii-V": .1},
        prog_minor={"i-VI-III-VII": .5, "i-VI-iv-V": .3, "i-iv-VII-III": .2},
        chords_per_bar={1: .8, 2: .2},
        lead={"synth": .25, "piano": .25, "epiano": .15, "guitar": .15, "flute": .05,
              "marimba": .1, "violin": .05},
        comp={"piano": .35, "guitar": .25, "pad": .2, "epiano": .2}, n_comp={0: 0, 1: .6, 2: .4},
        bass={"bass": .6, "synthbass": .4}, drums=.9,
        drum_patterns={"pop": .6, "ballad": .2, "four": .2, "sixeight": 1},
        comp_patterns={"block": .35, "strum": .25, "arp": .2, "pad": .2},
        bass_patterns={"quarters": .3, "eighths": .3, "root": .2, "syncopated": .2},
        cells={"ee": .35, "q": .25, "dot": .1, "sse": .1, "rest": .1, "h": .1, "qe": .5,
               "eee": .5},
        legato=(.6, .95), drive=.1, rt60=(.6, 1.8), wet=(.1, .3), humanise=(0, .008),
        eq=(.3, .5, 0., (50, 65)),
        levels=(-6, -5, -3),
    ),
    "electronic": dict(
        tempo=(126, 10), meter={"4/4": 1.0}, swing=(.1, (.55, .6)), major=.3,
        prog_major={"I-V-vi-IV": .5, "I-vi-IV-V": .5},
        prog_minor={"i-VI-III-VII": .35, "i-iv-VII-III": .25, "i-i-iv-iv": .2, "i-VII-i-VII": .2},
        chords_per_bar={1: .9, 2: .1},
        lead={"synth": .65, "marimba": .1, "epiano": .1, "piano": .05, "flute": .05,
              "organ": .05},
        comp={"pad": .5, "strings": .15, "epiano": .1, "marimba": .15, "organ": .1},
        n_comp={0: .05, 1: .6, 2: .35},
        bass={"synthbass": .85, "bass": .15}, drums=.98,
        drum_patterns={"four": .7, "breakbeat": .3},
        comp_patterns={"arp": .4, "pad": .4, "offbeat": .2},
        bass_patterns={"octaves": .4, "eighths": .3, "syncopated": .3},
        cells={"ssss": .3, "ee": .3, "ess": .15, "rest": .15, "q": .1},
        legato=(.3, .8), drive=0.0, rt60=(.3, 1.5), wet=(.1, .3), humanise=(0, .002),
        eq=(.6, .5, 0., (55, 65)),
        levels=(-6, -2, 0),
    ),
    "folk": dict(
        tempo=(105, 25), meter={"4/4": .5, "3/4": .3, "6/8": .2}, swing=(.1, (.55, .62)),
        major=.7,
        prog_major={"I-IV-V-I": .35, "I-IV-I-V": .3, "I-V-vi-IV": .15, "I-I-IV-V": .2},
        prog_minor={"i-VII-VI-V": .3, "i-iv-i-V": .3, "i-VII-i-VII": .2, "i-iv-V-i": .2},
        chords_per_bar={1: .8, 2: .2},
        lead={"violin": .3, "flute": .25, "guitar": .2, "clarinet": .1, "piano": .05,
              "marimba": .05, "trumpet": .05},
        comp={"guitar": .75, "piano": .15, "organ": .1}, n_comp={0: .05, 1: .85, 2: .1},
        bass={"bass": .7, None: .3}, drums=.35,
        drum_patterns={"train": .6, "ballad": .4, "waltz": 1, "sixeight": 1},
        comp_patterns={"strum": .6, "boomchick": .3, "arp": .1},
        bass_patterns={"rootfifth": .6, "root": .2, "quarters": .2},
        cells={"ee": .35, "q": .3, "dot": .1, "h": .1, "rest": .05, "ssss": .1, "qe": .4,
               "eee": .4, "eq": .2},
        legato=(.6, .95), drive=0.0, rt60=(.4, 1.5), wet=(.1, .3), humanise=(.005, .015),
        eq=(0., 0., .3, (40, 60)),
        levels=(-3, -8, -9),
    ),
    "blues": dict(
        tempo=(95, 20), meter={"4/4": .55, "12/8": .45}, swing=(.9, (.62, .67)), major=.7,
        prog_major={"blues": .7, "I-IV-I-V": .3},
        prog_minor={"blues": .7, "i-iv-i-V": .3},
        chords_per_bar={1: 1.0},
        lead={"guitar": .4, "trumpet": .15, "piano": .15, "organ": .15, "clarinet": .1,
              "synth": .05},
        comp={"piano": .35, "organ": .3, "guitar": .35}, n_comp={0: .05, 1: .8, 2: .15},
        bass={"bass": .9, "synthbass": .05, None: .05}, drums=.85,
        drum_patterns={"shuffle": .6, "slowblues": .4, "swing": .5, "rock": .5},
        comp_patterns={"block": .4, "comp": .3, "strum": .3},
        bass_patterns={"walking": .4, "rootfifth": .3, "quarters": .3},
        cells={"ee": .3, "trip": .15, "q": .2, "re": .1, "h": .1, "rest": .15, "qe": .4,
               "eee": .3, "eq": .3},
        legato=(.5, .9), drive=.35, rt60=(.5, 1.5), wet=(.1, .3), humanise=(.005, .015),
        eq=(.2, -.2, .6, (35, 50)),
        levels=(-5, -5, -5),
    ),
    "reggae": dict(
        tempo=(80, 10), meter={"4/4": 1.0}, swing=(.4, (.55, .62)), major=.5,
        prog_major={"I-IV-I-V": .3, "I-V-vi-IV": .2, "I-I-IV-V": .3, "I-IV-ii-V": .2},
        prog_minor={"i-i-iv-iv": .4, "i-VII-i-VII": .3, "i-iv-VII-III": .3},
        chords_per_bar={1: .8, 2: .2},
        lead={"organ": .2, "trumpet": .2, "guitar": .15, "synth": .15, "piano": .1,
              "flute": .1, "epiano": .1},
        comp={"guitar": .4, "organ": .35, "piano": .25}, n_comp={0: 0, 1: .6, 2: .4},
        bass={"bass": .85, "synthbass": .15}, drums=.95,
        drum_patterns={"onedrop": .8, "four": .2},
        comp_patterns={"offbeat": .85, "block": .15},
        bass_patterns={"syncopated": .8, "root": .2},
        cells={"ee": .3, "q": .25, "re": .15, "rest": .15, "dot": .15},
        legato=(.3, .7), drive=0.0, rt60=(.5, 2.0), wet=(.15, .4), humanise=(.003, .01),
        eq=(.6, -.1, .3, (40, 60)),
        levels=(-7, 0, -4),
    ),
}
GENRES = tuple(sorted(STYLES))


def choose(rng, weights, options=None, overlap=None):
    """Draw one option: the style's weights mixed with the uniform over ``options``."""
    overlap = OVERLAP if overlap is None else overlap
    options = list(weights) if options is None else list(options)
    for k in weights:
        if k not in options:
            options.append(k)
    p = np.array([weights.get(o, 0.0) for o in options], dtype=float)
    p = (1 - overlap) * p / p.sum() + overlap / len(options)
    return options[rng.choice(len(options), p=p)]


def draw_clip_plan(genre, rng, forced=None):
    """Draw every high-level choice of one clip from its style.

    ``forced`` overrides some choices (``lead``, ``tonic``, ``mode``) so that a task
    can balance its classes; the rest still follows the style.
    """
    forced = forced or {}
    s = STYLES[genre]
    u = rng.uniform
    plan = {"genre": genre}
    if u() < OVERLAP:
        tempo = u(*TEMPO_RANGE)
    else:
        tempo = float(np.clip(rng.normal(*s["tempo"]), *TEMPO_RANGE))
    plan["tempo"] = round(tempo, 2)
    meter = choose(rng, s["meter"], METERS)
    plan["meter"] = meter
    n_beats, steps = METERS[meter]
    p_swing, (sw_lo, sw_hi) = s["swing"]
    plan["swing"] = u(sw_lo, sw_hi) if (steps == 4 and u() < p_swing) else 0.5
    plan["mode"] = forced.get("mode", "major" if u() < s["major"] else "minor")
    plan["tonic"] = int(forced.get("tonic", rng.integers(12)))
    plan["tuning"] = u(-10, 10)  # cents: real bands are rarely at exactly 440 Hz
    prog_w = s["prog_major"] if plan["mode"] == "major" else s["prog_minor"]
    plan["progression"] = choose(rng, prog_w, PROGRESSIONS[plan["mode"]])
    plan["chords_per_bar"] = choose(rng, s["chords_per_bar"], [1, 2])
    plan["lead"] = forced.get("lead") or choose(rng, s["lead"], LEAD_INSTRUMENTS)
    n_comp = choose(rng, s["n_comp"], [0, 1, 2], overlap=OVERLAP / 2)
    comp = []
    for _ in range(n_comp):
        options = [c for c in COMP_INSTRUMENTS if c != plan["lead"] and c not in comp]
        w = {k: v for k, v in s["comp"].items() if k in options} or {options[0]: 1.0}
        comp.append(choose(rng, w, options))
    plan["comp"] = comp
    plan["comp_patterns"] = [choose(rng, s["comp_patterns"], COMP_PATTERNS) for _ in comp]
    plan["bass"] = choose(rng, s["bass"], (*BASS_INSTRUMENTS, None))
    plan["bass_pattern"] = choose(rng, s["bass_patterns"], BASS_PATTERNS)
    plan["drums"] = bool(u() < (1 - OVERLAP) * s["drums"] + OVERLAP * 0.5)
    fits = {k: w for k, w in s["drum_patterns"].items() if DRUM_PATTERNS[k][0] == meter}
    every = [k for k, (m, _) in DRUM_PATTERNS.items() if m == meter]
    plan["drum_pattern"] = choose(rng, fits or {every[0]: 1.0}, every)
    cell_set = CELLS[steps]
    w = {k: v for k, v in s["cells"].items() if k in cell_set}
    plan["cell_weights"] = {k: (1 - OVERLAP) * w.get(k, 0.0) / sum(w.values())
                            + OVERLAP / len(cell_set) for k in cell_set}
    plan["legato"] = u(*s["legato"])
    plan["drive"] = u(2.0, 8.0) if u() < s["drive"] else 0.0
    plan["rt60"] = u(*s["rt60"]) if u() > OVERLAP else u(0.3, 3.0)
    plan["wet"] = u(*s["wet"])
    plan["humanise"] = u(*s["humanise"])
    # Production: low and high shelves around the style's, a band limit, a noise floor.
    low, high, p_band, noise = s["eq"] if u() > OVERLAP else (.2, .1, .25, (35, 65))
    plan["eq_low"] = low + u(-0.3, 0.3)
    plan["eq_high"] = high + u(-0.3, 0.3)
    plan["band_limit"] = u(3000, 11000) if u() < p_band else None
    plan["noise_db"] = u(*noise)
    # Mix: accompaniment, bass and drums levels (dB) relative to the lead.
    comp, bass, drums = s["levels"] if u() > OVERLAP else (-5, -5, -5)
    # The lead stays predominant: at least 3 dB above each accompaniment part.
    plan["levels"] = dict(melody=0.0, comp0=min(-3.0, comp + u(-3, 3)),
                          comp1=min(-3.0, comp - 3 + u(-3, 3)),
                          bass=bass + u(-3, 3), drums=drums + u(-3, 3))
    return plan
