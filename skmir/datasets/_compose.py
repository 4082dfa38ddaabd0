"""Composition for :func:`skmir.datasets.make_music`: from a clip plan to a score.

A score is the list of notes of every part (melody, accompaniment, bass) and drum
hits, with the beat grid and the chords, in seconds of clip time (0 = the clip's
first sample). The piece starts up to one bar before the clip, so clips begin
anywhere in a bar like an excerpt of a longer recording, and notes may ring into it.
"""

import math

import numpy as np

from skmir.datasets._harmony import (
    PROGRESSIONS,
    QUALITIES,
    SCALES,
    chord_tones,
    nearest_in,
    voice_chord,
)
from skmir.datasets._instruments import LEAD_RANGES, VIBRATO
from skmir.datasets._rich_harmony import (
    COMP,
    MELODY,
    enrich_chords,
    melody_pcs,
    open_voicing,
    ornament,
    uses,
)
from skmir.datasets._styles import CELLS, DRUM_PATTERNS, METERS

DRUM_VELOCITY = {"x": 0.8, "X": 1.0, "g": 0.3, "o": 0.8}


class _Grid:
    """Musical time (bar, beat) to clip seconds, with swing on the off-beat eighth."""

    def __init__(self, tempo, meter, swing, t_pre):
        self.beat = 60.0 / tempo
        self.n_beats, self.steps = METERS[meter]
        self.bar = self.n_beats * self.beat
        self.swing = swing
        self.t_pre = t_pre

    def time(self, beats):
        """Clip time of a position counted in beats from the start of the piece."""
        beats = np.asarray(beats, dtype=float)
        whole = np.floor(beats + 1e-9)
        f = beats - whole
        if self.steps == 4 and self.swing != 0.5:
            # Piecewise-linear: the first half of the beat is stretched to `swing`.
            s = self.swing
            f = np.where(f < 0.5, f * 2 * s, s + (f - 0.5) * 2 * (1 - s))
        return (whole + f) * self.beat - self.t_pre


def compose(plan, duration, rng):
    """Write the score of one clip (see the module docstring)."""
    tempo, meter = plan["tempo"], plan["meter"]
    n_beats, steps = METERS[meter]
    bar = n_beats * 60.0 / tempo
    t_pre = rng.uniform(0, bar)
    grid = _Grid(tempo, meter, plan["swing"], t_pre)
    n_bars = math.ceil((duration + t_pre) / bar) + 1
    total_beats = n_bars * n_beats

    beats_pos = np.arange(total_beats)
    beat_times = grid.time(beats_pos)
    down = beat_times[beats_pos % n_beats == 0]

    # Harmony: the progression looped, one or two chords per bar.
    prog = PROGRESSIONS[plan["mode"]][plan["progression"]]
    per_bar = 1 if plan["progression"] == "blues" else plan["chords_per_bar"]
    if n_beats % per_bar:
        per_bar = 1
    span = n_beats // per_bar
    start = int(rng.integers(len(prog))) if rng.uniform() < 0.3 else 0
    chords = []  # (start beat, end beat, root pc, quality, bass interval above the root)
    for k in range(n_bars * per_bar):
        deg, q = prog[(start + k) % len(prog)]
        chords.append((k * span, (k + 1) * span, (plan["tonic"] + deg) % 12, q, 0))
    if plan.get("rich") is not None:
        chords = enrich_chords(chords, plan, per_bar, n_beats)

    jitter = plan["humanise"]

    def humanise(t):
        return t + (rng.normal(0, jitter) if jitter > 0 else 0.0)

    melody = _melody(plan, grid, chords, n_bars, rng, humanise)
    comp = [_comp(plan, grid, chords, pat, rng, humanise) for pat in plan["comp_patterns"]]
    bass = _bass(plan, grid, chords, rng, humanise) if plan["bass"] else []
    drums = _drums(plan, grid, n_bars, rng, humanise)
    return dict(
        grid=grid, duration=duration, beats=beat_times, downbeats=down,
        chords=[(grid.time(a), grid.time(b), r, q, inv) for a, b, r, q, inv in chords],
        melody=melody, comp=comp, bass=bass, drums=drums,
    )


def _chord_at(chords, beat):
    for c in chords:
        if c[0] <= beat < c[1]:
            return c
    return chords[-1]


def _melody(plan, grid, chords, n_bars, rng, humanise):
    """A lead line: motif-based rhythm, chord tones on strong beats, steps between."""
    n_beats, steps = grid.n_beats, grid.steps
    cells = CELLS[steps]
    names = list(plan["cell_weights"])
    p = np.array([plan["cell_weights"][k] for k in names])

    def bar_rhythm():
        out, b = [], 0
        while b < n_beats:
            name = names[rng.choice(len(names), p=p)]
            if name == "h" and b + 2 > n_beats:
                name = "q"
            out += [(b + s, d) for s, d in cells[name]]
            b += 2 if name == "h" else 1
        return out

    motifs = {"A": bar_rhythm(), "B": bar_rhythm()}
    forms = ["AAAB", "ABAB", "AABA", "ABAC", "AAAA"]
    form = "".join(forms[rng.integers(len(forms))] for _ in range(n_bars // 4 + 1))
    lo, hi = LEAD_RANGES[plan["lead"]]
    center = int(rng.integers(lo + 5, hi - 5))
    lo, hi = max(lo, center - 10), min(hi, center + 10)
    tonic, mode = plan["tonic"], plan["mode"]
    scale = {int(x) for x in (tonic + SCALES[mode]) % 12}
    vib_range = VIBRATO.get(plan["lead"])
    vib_clip = None
    if vib_range and vib_range[1] > 0:
        vib_clip = (rng.uniform(*vib_range), rng.uniform(4.5, 6.5), rng.uniform(0.08, 0.3))

    rich = plan.get("rich") is not None
    ornaments = plan["rich"](MELODY) if rich else None
    notes = []
    prev = nearest_in({tonic}, center, lo, hi)
    for b in range(n_bars):
        letter = form[b]
        rhythm = bar_rhythm() if letter == "C" else motifs[letter]
        phrase_end = b % 4 == 3
        if phrase_end and rhythm:  # end a phrase on a held note
            keep = [r for r in rhythm if r[0] < n_beats / 2] or rhythm[:1]
            s0, _ = keep[-1]
            rhythm = keep[:-1] + [(s0, max(1.0, n_beats - 1 - s0))]
        for i, (s, d) in enumerate(rhythm):
            beat = b * n_beats + s
            _, _, root, q, _ = _chord_at(chords, beat)
            tones = set(chord_tones(root, q))
            allowed = set(scale)
            if rich:
                allowed = melody_pcs(scale, root, q)
            elif mode == "minor" and (root - tonic) % 12 == 7 and 4 in QUALITIES[q]:
                allowed = (allowed - {(tonic + 10) % 12}) | {(tonic + 11) % 12}
            strong = abs(s - round(s)) < 1e-6
            last = phrase_end and i == len(rhythm) - 1
            if last and uses(plan, "cadence"):  # the phrase closes on the tonic or dominant
                ends = tones & {tonic} or tones & {(tonic + 7) % 12} or tones & {root} or tones
                pitch = nearest_in(ends, prev, lo, hi)
            elif last:
                pitch = nearest_in(tones & {tonic, root} or tones, prev, lo, hi)
            elif strong and rng.uniform() < 0.7:
                pitch = nearest_in(tones, prev + rng.integers(-4, 5), lo, hi)
            else:
                cands = [m for m in range(lo, hi + 1) if m % 12 in allowed]
                idx = int(np.argmin(np.abs(np.array(cands) - prev)))
                step = rng.choice([-3, -2, -1, 0, 1, 2, 3],
                                  p=[.05, .15, .3, .05, .3, .1, .05])
                if prev > center + 6:  # gravity back to the middle of the range
                    step = -abs(step)
                elif prev < center - 6:
                    step = abs(step)
                pitch = cands[int(np.clip(idx + step, 0, len(cands) - 1))]
            prev = pitch
            played = [(pitch, 1.0)]
            if rich and not last:
                played = ornament(pitch, strong, tones, allowed, d, ornaments)
            frac = 0.0
            for pitch, f in played:
                t_on = grid.time(beat + frac * d)
                t_off = grid.time(beat + (frac + f) * d)
                frac += f
                dur = max(0.04, (t_off - t_on) * plan["legato"])
                dur = min(dur, t_off - t_on - 0.02) if t_off - t_on > 0.08 else dur
                vel = float(np.clip(0.75 + (0.12 if strong else 0) + rng.normal(0, 0.05),
                                    .3, 1))
                vib = None
                if vib_clip is not None and dur > 0.25:
                    vib = (*vib_clip, rng.uniform(0, 2 * np.pi))
                notes.append((humanise(t_on), dur, pitch, vel, vib))
    # Monophonic: a note ends before the next one starts, whatever the jitter did.
    notes.sort(key=lambda n: n[0])
    out = []
    for k, (on, dur, pitch, vel, vib) in enumerate(notes):
        if k + 1 < len(notes):
            dur = max(0.03, min(dur, notes[k + 1][0] - on - 0.01))
        out.append((on, dur, pitch, vel, vib))
    return out


def _comp(plan, grid, chords, pattern, rng, humanise):
    """Accompaniment: chord voicings played in one of the comping patterns."""
    n_beats, steps = grid.n_beats, grid.steps
    center = int(rng.integers(55, 65))
    notes, prev = [], None
    voicings = plan["rich"](COMP) if plan.get("rich") is not None else None
    legato = plan["legato"]
    strum_spread = rng.uniform(0.008, 0.025)
    # Jazz comping: a few syncopated stabs per bar, the same rhythm for the whole clip.
    options = [x for x in (0, .5, 1.5, 2, 2.5, 3.5) if x < n_beats]
    stabs = sorted(rng.choice(options, size=min(3, len(options)), replace=False))
    for a, b, root, q, inv in chords:
        voicing = voice_chord(root, q, center, prev)
        prev = voicing
        if voicings is not None:
            voicing = open_voicing(voicing, (root + inv) % 12 if inv else None, voicings)
        length = b - a
        hits = []  # (start beat, length in beats, strum direction)
        if pattern == "pad":
            hits = [(a, length * 0.98, 0)]
        elif pattern == "block":
            hits = [(a + k, 0.9 * legato, 0) for k in range(length)]
        elif pattern == "strum":
            sub = 1 / 2 if steps == 4 else 1 / 3
            hits = [(a + k * sub, sub * 0.95, k % 2) for k in range(int(round(length / sub)))]
        elif pattern == "arp":
            sub = (1 / 4 if 60 / grid.beat < 110 else 1 / 2) if steps == 4 else 1 / 3
            for k in range(int(round(length / sub))):
                note = voicing[k % len(voicing)] if (k // len(voicing)) % 2 == 0 else \
                    voicing[-1 - k % len(voicing)]
                notes.append(_note(grid, a + k * sub, sub * 1.5, note, 0.6, humanise))
            continue
        elif pattern == "offbeat":
            offs = [0.5] if steps == 4 else [1 / 3, 2 / 3]
            hits = [(a + k + o, 0.3, 0) for k in range(length) for o in offs]
        elif pattern == "comp":
            bar_start = a - (a % n_beats)
            hits = [(bar_start + s, 0.4, 0) for s in stabs if a <= bar_start + s < b]
        elif pattern == "boomchick":
            if steps == 4:
                hits = [(a + k, 0.45, 0) for k in range(length) if (a + k) % n_beats != 0]
            else:
                hits = [(a + k + 1 / 3, 0.3, 0) for k in range(length)] + \
                       [(a + k + 2 / 3, 0.3, 0) for k in range(length)]
        for start, dur, up in hits:
            order = voicing[::-1] if up else voicing
            t0 = humanise(grid.time(start))
            d = grid.time(start + dur) - grid.time(start)
            accent = 0.1 if abs(start - round(start)) < 1e-6 else 0.0
            for j, m in enumerate(order):
                spread = j * strum_spread / len(order) if pattern == "strum" else 0.0
                vel = float(np.clip(0.55 + accent + rng.normal(0, 0.04), 0.2, 1.0))
                notes.append((t0 + spread, max(0.05, d - spread), m, vel, None))
    return notes


def _note(grid, start, length, midi, vel, humanise):
    t0 = grid.time(start)
    return (humanise(t0), max(0.05, grid.time(start + length) - t0), midi, vel, None)


def _bass(plan, grid, chords, rng, humanise):
    """A bass line in one of the bass patterns, on the chord roots."""
    n_beats, steps = grid.n_beats, grid.steps
    pattern = plan["bass_pattern"]
    center = int(rng.integers(36, 44))
    lo, hi = 28, 52
    legato = max(0.5, plan["legato"])
    sync = sorted(rng.choice(np.arange(0, n_beats, 0.5), size=min(n_beats + 1, 2 * n_beats),
                             replace=False))
    if 0 not in sync:
        sync = [0.0] + list(sync[1:])
    notes = []
    for ci, (a, b, root, q, inv) in enumerate(chords):
        r = nearest_in({root}, center, lo, hi)
        fifth = r + 7 if r + 7 <= hi else r - 5
        if inv:  # an inversion: the chord's third or fifth where the root would be
            r = nearest_in({(root + inv) % 12}, center, lo, hi)
        tones = chord_tones(root, q)
        nxt = chords[ci + 1][2] if ci + 1 < len(chords) else root
        length = b - a
        sub = 1 / 2 if steps == 4 else 1 / 3
        seq = []  # (start beat, length in beats, pitch)
        if pattern == "root":
            seq = [(a, length * legato, r)]
        elif pattern == "rootfifth":
            half = max(1, length // 2)
            seq = [(a, half * legato, r)] + ([(a + half, half * legato, fifth)]
                                             if length > 1 else [])
        elif pattern == "quarters":
            seq = [(a + k, legato, r if k % 2 == 0 or rng.uniform() < .5 else fifth)
                   for k in range(length)]
        elif pattern == "eighths":
            seq = [(a + k * sub, sub * legato, r) for k in range(int(round(length / sub)))]
        elif pattern == "octaves":
            seq = [(a + k * sub, sub * 0.7, r + 12 * (k % 2))
                   for k in range(int(round(length / sub)))]
        elif pattern == "walking":
            pitch = r
            for k in range(length):
                if k == 0:
                    pitch = r
                elif k == length - 1:  # approach the next root from a semitone away
                    target = nearest_in({nxt}, pitch, lo, hi)
                    pitch = target + (1 if rng.uniform() < .5 else -1)
                else:
                    pitch = nearest_in(set(tones), pitch + rng.integers(-5, 6), lo, hi)
                seq.append((a + k, 0.9, pitch))
        elif pattern == "syncopated":
            bar_start = a - (a % n_beats)
            for s in sync:
                if a <= bar_start + s < b:
                    seq.append((bar_start + s, 0.45, r if rng.uniform() < .7 else fifth))
        for start, dur, pitch in seq:
            notes.append(_note(grid, start, dur, pitch, float(np.clip(
                0.8 + rng.normal(0, 0.05), .3, 1)), humanise))
    return notes


def _drums(plan, grid, n_bars, rng, humanise):
    """Drum hits (time, sound, velocity) from the clip's pattern, with fills and crashes."""
    meter, pattern = DRUM_PATTERNS[plan["drum_pattern"]]
    n_beats, steps = grid.n_beats, grid.steps
    hits = []
    crash_next = rng.uniform() < 0.5
    for b in range(n_bars):
        fill = b % 4 == 3 and rng.uniform() < 0.4
        for sound, line in pattern.items():
            for j, ch in enumerate(line):
                if ch == ".":
                    continue
                beat = b * n_beats + j / steps
                if fill and j >= (n_beats - 1) * steps and sound != "kick":
                    continue
                name = "open" if ch == "o" else sound
                vel = float(np.clip(DRUM_VELOCITY[ch] + rng.normal(0, 0.06), 0.1, 1.1))
                hits.append((humanise(grid.time(beat)), name, vel))
        if b % 4 == 0 and crash_next:
            hits.append((humanise(grid.time(b * n_beats)), "crash", 0.8))
        if fill:  # the last beat becomes a snare run
            for j in range(steps):
                beat = b * n_beats + n_beats - 1 + j / steps
                hits.append((humanise(grid.time(beat)), "snare", 0.5 + 0.15 * j))
        if rng.uniform() < 0.15:  # an extra kick somewhere in the bar
            j = int(rng.integers(n_beats * steps))
            hits.append((humanise(grid.time(b * n_beats + j / steps)), "kick", 0.6))
    return hits
