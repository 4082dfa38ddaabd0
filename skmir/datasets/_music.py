"""Generated music with exact ground truth: :func:`make_music`.

The built-in data of skmir. Nothing is downloaded: every clip is composed (style,
key, chords, melody, bass line, drum pattern) and synthesised in numpy, so its labels
are known exactly, for every task of the paper's table 1 at once.
"""

import math
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from scipy.signal import fftconvolve
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from skmir._validation import entry_point
from skmir.datasets._compose import compose
from skmir.datasets._drums import DrumKit, highpass, lowpass
from skmir.datasets._harmony import chord_label, midi_to_hz
from skmir.datasets._instruments import (
    BASS_INSTRUMENTS,
    COMP_INSTRUMENTS,
    LEAD_INSTRUMENTS,
    get_instrument,
    vibrato_cents,
)
from skmir.datasets._rich_harmony import (
    TIMBRE,
    TUNING,
    TUNING_CENTS,
    bass_label,
    colour,
    streams,
    uses,
)
from skmir.datasets._styles import GENRES, TEMPO_RANGE, draw_clip_plan
from skmir.io import Waveforms
from skmir.tonality import KEY_NAMES, MODES, key_name

TASKS = ("genre", "instrument", "key", "mode", "tempo", "tags")
# The tag columns name every instrument the composer can play, in the order of its roles.
_PLAYED = tuple(dict.fromkeys(LEAD_INSTRUMENTS + COMP_INSTRUMENTS + BASS_INSTRUMENTS))
TAGS = (
    *GENRES, *_PLAYED, "drums", "major", "minor", "slow", "fast", "swing",
    "triple_meter", "compound_meter", "distortion",
)
MIN_SR = 8000
# The shortest clip that holds a whole bar at the fastest tempo (4 beats at 180 BPM).
MIN_DURATION = 4 * 60.0 / TEMPO_RANGE[1]
MELODY_HOP = 0.01  # seconds between melody f0 frames (the MIREX convention)
ONSET_MERGE = 0.03  # onsets closer than this are one event (a strum, a chord, a hit)

DESCR = """\
.. _make_music_dataset:

Generated music with ground truth (skmir.datasets.make_music)
-------------------------------------------------------------

Every clip is composed and synthesised in numpy, so every label is exact.

**Composition.** A style (genre) is a distribution, not a preset: tempo (60-180 BPM),
meter (4/4, 3/4, 6/8, 12/8), swing, mode, chord progression (in any of the 24 keys),
harmonic rhythm, lead / accompaniment / bass instruments, accompaniment pattern (pad,
block chords, strumming, arpeggios, off-beat skank, jazz comping, boom-chick), bass
pattern (root, root-fifth, quarters, eighths, walking, octaves, syncopated), drum
pattern (rock, pop, four-on-the-floor, breakbeat, swing ride, one drop, train, waltz,
6/8, shuffle...), melody rhythm cells, articulation, distortion, room. Each choice is
mixed with a uniform one, so styles overlap and no single cue names the style. The
melody is built from one- or two-bar rhythm motifs in 4-bar phrases, with chord tones
on strong beats and scale steps between; clips start anywhere in a bar, like an
excerpt of a longer piece.

**Synthesis.** Ten lead instruments (piano, epiano, guitar, violin, trumpet, flute,
clarinet, organ, marimba, synth), two more accompaniment ones (strings, pad), two
basses (bass, synthbass): band-limited wavetables, FM, Karplus-Strong strings, modal
partials; drums (kick, snare, rim, hats, ride, crash) synthesised per clip. Per clip:
part levels, a reverb (exponentially decaying noise, RT60 0.3-3 s), an equaliser
tilt, a noise floor, tuning (+-10 cents) and the peak level (0.3-0.9) vary.

**Harmony.** ``harmony="plain"`` (the default, the clips of earlier releases bit for
bit) writes diatonic chords in root position and melodies of scale tones with chord
tones on strong beats. ``harmony="rich"`` keeps the key and writes the way tonal music
blurs it: chords borrowed from the parallel mode (iv, bVI in major; IV, major V in
minor), secondary dominants (V7/V, V7/vi, V7/iv...), cadences (V-I, half cadences),
inversions (the bass on the third or fifth), open voicings, appoggiaturas and chromatic
neighbours in the melody, tuning within +-50 cents and parts with strong (soft-clipped)
or weak (low-passed) harmonics. The key and mode labels are the piece's; the chord
labels name the chords played, inversions included ("G:7", "F:min", "C:maj/3").

**Targets** (``target``, one per ``task``):

- ``"genre"``: index into ``target_names`` (8 styles, balanced).
- ``"instrument"``: the lead (predominant) instrument, 10 classes, balanced; the lead
  is mixed at least 3 dB above each accompaniment part.
- ``"key"``: 24 classes "C major" ... "B minor" (mir_eval.key syntax), balanced.
- ``"mode"``: "major" / "minor", balanced.
- ``"tempo"``: BPM (float) of the annotated beats.
- ``"tags"``: indicator matrix (n_clips, n_tags) over ``target_names``: the style, every
  sounding instrument, "drums", "major"/"minor", "slow" (< 90 BPM), "fast" (>= 140 BPM),
  "swing", "triple_meter" (3/4), "compound_meter" (6/8, 12/8), "distortion".

**Annotations** (``annotations[i]``, a dict per clip, times in seconds of the clip):

- ``"onsets"``: starts of every sounding note and drum hit; events closer than 30 ms (a
  strum, a chord, simultaneous hits) are one onset.
- ``"beats"``, ``"downbeats"``: the metrical grid (beats of the meter; dotted quarters
  in 6/8 and 12/8).
- ``"chords"``: ``{"intervals": (n, 2), "labels": [...]}`` in Harte syntax ("C:maj",
  "A:min7", "G:7", "B:hdim7", "C:maj/3" for an inversion); the harmony the clip is
  built on (also when ``accompaniment=False``, when only the melody implies it).
- ``"melody"``: ``{"times", "f0"}`` every 10 ms, f0 in Hz including vibrato, 0 where the
  lead is silent (mir_eval.melody convention).
- ``"notes"``: the melody notes, ``{"intervals": (n, 2), "pitches": Hz}``
  (mir_eval.transcription convention), non-chord tones included.

**Metadata** (``metadata``, a dict of arrays over clips): genre, key, tonic, mode, tempo,
meter, swing, progression, lead, instruments (tuple of the sounding instruments),
drums, drum_pattern, distortion, rt60, tuning (cents off A = 440 Hz), so one generated
set serves several tasks.

**Calibration** (5-fold cross-validated accuracy of ``skmir.make_mfcc_baseline()``, mean
+- std over the folds, 600 clips of 10 s at 22050 Hz, ``random_state=0``; reproduce with
``python benchmarks/calibrate_make_music.py``). Timbre statistics get part of the genre
and of the lead instrument, and nothing of key or mode:

{calibration}
"""

CALIBRATION = """\
=========== ======= ================ =========
task        classes MFCC + SVC       chance
=========== ======= ================ =========
genre       8       0.573 +- 0.025   0.125
instrument  10      0.325 +- 0.040   0.100
key         24      0.062 +- 0.014   0.042
mode        2       0.532 +- 0.028   0.500
=========== ======= ================ ========="""


@entry_point
@validate_params(
    {
        "task": [StrOptions(set(TASKS))],
        "n_clips": [Interval(Integral, 1, None, closed="left")],
        "duration": [Interval(Real, 0, None, closed="neither")],
        "sr": [Interval(Integral, 1, None, closed="left")],
        "drums": ["boolean"],
        "accompaniment": ["boolean"],
        "random_state": ["random_state"],
        "return_X_y": ["boolean"],
        "n_jobs": [Integral, None],
        "harmony": [StrOptions({"plain", "rich"})],
    },
    prefer_skip_nested_validation=True,
)
def make_music(task="genre", n_clips=200, duration=10.0, sr=22050, *, drums=True,
               accompaniment=True, random_state=None, return_X_y=False, n_jobs=None,
               harmony="plain"):
    """Generate music clips with exact labels for every task of the paper's table 1.

    The music is composed and synthesised (no download, no white-noise classes): a
    style chooses tempo, meter, swing, key, chord progression, instruments, comping,
    bass and drum patterns, melody rhythm, articulation and room from overlapping
    distributions; ten synthesised instruments play the lead, the accompaniment and
    the bass over synthesised drums. Every clip carries frame-level annotations
    (onsets, beats, chords, melody f0) whatever the task. Hard on purpose: an MFCC +
    SVM baseline does not solve it (table below). See ``bunch.DESCR`` for details.

    Clip ``i`` depends only on the seed, ``i`` and the arguments other than
    ``n_clips``, so 10 clips are the first 10 of 200, and ``n_jobs`` does not change
    the result.

    Parameters
    ----------
    task : {"genre", "instrument", "key", "mode", "tempo", "tags"}, default="genre"
        Which label is ``target``. Classification tasks are balanced: classes are
        dealt in shuffled rounds, so any ``n_clips`` that is a multiple of the number
        of classes has the same number of clips per class ("tempo" and "tags" deal
        the genres). The task decides which attribute is dealt (the others follow the
        styles), so two tasks with the same seed give different clips; ``metadata``
        holds every label anyway.
    n_clips : int, default=200
        Number of clips.
    duration : float, default=10.0
        Seconds per clip; at least 1.33 s (a 4/4 bar at 180 BPM).
    sr : int, default=22050
        Sample rate in Hz, at least 8000.
    drums : bool, default=True
        Render the drum part (False: a drum-less mix; the tags then say so).
    accompaniment : bool, default=True
        Render the accompaniment and bass. ``drums=False, accompaniment=False`` gives
        a monophonic melody, for onset and f0 studies.
    random_state : int, RandomState instance or None, default=None
        Seeds the generation (a seed is drawn once from a RandomState); an int gives
        the same clips at every call.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    n_jobs : int or None, default=None
        Clips synthesised in parallel (joblib; None means 1).
    harmony : {"plain", "rich"}, default="plain"
        How the music states its key. "plain": diatonic chords in root position,
        chord tones on the melody's strong beats, tuning within +-10 cents (the clips
        of earlier releases, sample for sample). "rich" adds what real tonal music
        has: borrowed chords (iv, bVI in major; IV, major V in minor), secondary
        dominants, cadences, inversions, open voicings, appoggiaturas and chromatic
        neighbours in the melody, tuning within +-50 cents and parts with strong or
        weak harmonics. Labels stay exact: the key and mode are the piece's, the
        chord labels name the chords played ("D:7", "F:min", "C:maj/3"), the notes
        include the non-chord tones, ``metadata["tuning"]`` the tuning. Key and mode
        get harder from chroma (table in Notes).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        With the attributes:

        data : Waveforms of float32, shape (n_clips, n_samples)
            The clips (``data.sr == sr``), each peak-normalised to 0.3-0.9.
        target : ndarray, shape (n_clips,) or (n_clips, n_tags)
            int class indices (genre, instrument, key, mode), float BPM (tempo) or a
            0/1 int indicator matrix (tags).
        target_names : ndarray of str or None
            Class names (classification), tag names (tags), None (tempo).
        sr : int
            The sample rate in Hz.
        task : str
            The ``task`` argument.
        annotations : list of dict
            Per clip: "onsets", "beats", "downbeats", "chords" (intervals, Harte
            labels), "melody" (times, f0 with 0 for unvoiced), "notes" (melody notes
            as intervals and Hz), in seconds.
        metadata : dict of ndarray
            Per clip: genre, key, tonic, mode, tempo, meter, swing, progression,
            lead, instruments, drums, drum_pattern, distortion, rt60, tuning (cents).
        DESCR : str
            A description of the generator.
    (X, y) : tuple
        With ``return_X_y=True``: ``X`` the Waveforms, ``y`` the target.

    Notes
    -----
    Calibration: 5-fold cross-validated accuracy (mean +- std over the folds) of
    :func:`skmir.make_mfcc_baseline` (MFCC mean and std, StandardScaler, RBF SVC), 600
    clips of 10 s at 22050 Hz, ``random_state=0``
    (``python benchmarks/calibrate_make_music.py``):

    =========== ======= ================ =========
    task        classes MFCC + SVC       chance
    =========== ======= ================ =========
    genre       8       0.573 +- 0.025   0.125
    instrument  10      0.325 +- 0.040   0.100
    key         24      0.062 +- 0.014   0.042
    mode        2       0.532 +- 0.028   0.500
    =========== ======= ================ =========

    Key and mode with ``harmony="plain"`` and ``"rich"``, measured on generated music
    (240 clips of 8 s at 16000 Hz, ``random_state=0``; mean +- std over 5 stratified
    folds): a Krumhansl-Kessler template on mean chroma (librosa ``chroma_cqt``; no
    training, scored on the same test folds), :func:`skmir.make_mfcc_baseline`, and
    mean+std chroma + StandardScaler + SVC (``python benchmarks/calibrate_make_music.py
    --tasks key mode --n-clips 240 --duration 8 --sr 16000 --chroma --harmony rich``,
    and ``--harmony plain``):

    ===== ======= ============== ============== ============== ======
    task  harmony KK template    MFCC + SVC     chroma + SVC   chance
    ===== ======= ============== ============== ============== ======
    key   plain   0.508 +- 0.068 0.033 +- 0.021 0.525 +- 0.060 0.042
    key   rich    0.408 +- 0.067 0.071 +- 0.039 0.408 +- 0.075 0.042
    mode  plain   0.696 +- 0.075 0.500 +- 0.026 0.604 +- 0.046 0.500
    mode  rich    0.683 +- 0.076 0.492 +- 0.043 0.533 +- 0.067 0.500
    ===== ======= ============== ============== ============== ======

    No single cue names the genre: a decision tree on one field of ``metadata`` at a
    time (an oracle for that cue) reaches at best 0.61 (the drum pattern), then 0.54
    (the progression, or the set of instruments) and 0.33 (the lead instrument).

    Examples
    --------
    >>> from skmir.datasets import make_music
    >>> music = make_music("genre", n_clips=4, duration=2.0, sr=16000, random_state=0)
    >>> music.data.shape, music.data.dtype, music.data.sr
    ((4, 32000), dtype('float32'), 16000)
    >>> music.annotations[0]["chords"]["labels"][:1]  # doctest: +SKIP
    ['F#:min']
    >>> X, y = make_music("tempo", n_clips=2, duration=2.0, sr=16000, random_state=0,
    ...                   return_X_y=True)
    >>> bool(60 <= y.min() and y.max() <= 180)
    True
    """
    if duration < MIN_DURATION:
        raise ValueError(
            f"make_music: duration={duration} s is too short; a clip must hold a whole bar "
            f"at the fastest tempo (4 beats at {TEMPO_RANGE[1]:.0f} BPM), so duration >= "
            f"{MIN_DURATION:.2f} s."
        )
    if sr < MIN_SR:
        raise ValueError(
            f"make_music: sr={sr} Hz is too low; the instruments and drums need sr >= "
            f"{MIN_SR} Hz (16000 or 22050 are usual)."
        )
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    forced = _deal(task, n_clips, seed)
    args = (seed, float(duration), int(sr), bool(drums), bool(accompaniment), harmony)
    if n_jobs in (None, 1):
        clips = (_make_clip(i, f, *args) for i, f in enumerate(forced))
    else:
        clips = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(_make_clip)(i, f, *args) for i, f in enumerate(forced))
    # Filled clip by clip: the waveforms are held once, not once more in a list.
    X = Waveforms(np.empty((n_clips, int(round(duration * sr))), dtype=np.float32), sr)
    annotations, meta = [], []
    for i, (audio, ann, m) in enumerate(clips):
        X[i] = audio
        annotations.append(ann)
        meta.append(m)
    metadata = {k: _column([m[k] for m in meta]) for k in meta[0]}
    y, target_names = _target(task, metadata)
    if return_X_y:
        return X, y
    return Bunch(
        data=X, target=y, target_names=target_names, sr=int(sr), task=task,
        annotations=annotations, metadata=metadata,
        DESCR=DESCR.replace("{calibration}", CALIBRATION),
    )


def _column(values):
    if all(isinstance(v, tuple) for v in values):
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    return np.asarray(values)


def _classes(task):
    return {"genre": GENRES, "instrument": LEAD_INSTRUMENTS, "key": KEY_NAMES,
            "mode": MODES}.get(task, GENRES)


def _deal(task, n_clips, seed):
    """The attribute each clip is forced to have so that the task's classes are balanced.

    Classes are dealt in rounds, each a permutation drawn from (seed, round): clip i
    gets class perm[i // K][i % K] whatever n_clips is.
    """
    classes = _classes(task)
    K = len(classes)
    perms = [np.random.default_rng([seed, 3, b]).permutation(K)
             for b in range(math.ceil(n_clips / K))]
    out = []
    for i in range(n_clips):
        c = classes[perms[i // K][i % K]]
        if task == "instrument":
            out.append({"lead": c})
        elif task == "key":
            tonic_name, mode = c.split()
            out.append({"tonic": KEY_NAMES.index(f"{tonic_name} major"), "mode": mode})
        elif task == "mode":
            out.append({"mode": c})
        else:
            out.append({"genre": c})
    return out


def _target(task, meta):
    if task == "tempo":
        return meta["tempo"].astype(np.float64), None
    if task == "tags":
        names = np.asarray(TAGS)
        y = np.zeros((len(meta["genre"]), len(TAGS)), dtype=np.int64)
        index = {t: j for j, t in enumerate(TAGS)}
        for i in range(len(y)):
            tags = {meta["genre"][i], meta["mode"][i], *meta["instruments"][i]}
            tempo = meta["tempo"][i]
            tags |= {"drums"} if meta["drums"][i] else set()
            tags |= {"slow"} if tempo < 90 else ({"fast"} if tempo >= 140 else set())
            tags |= {"swing"} if meta["swing"][i] else set()
            tags |= {"triple_meter"} if meta["meter"][i] == "3/4" else set()
            tags |= {"compound_meter"} if meta["meter"][i] in ("6/8", "12/8") else set()
            tags |= {"distortion"} if meta["distortion"][i] else set()
            y[i, [index[t] for t in tags]] = 1
        return y, names
    classes = _classes(task)
    column = {"genre": "genre", "instrument": "lead", "key": "key", "mode": "mode"}[task]
    index = {c: j for j, c in enumerate(classes)}
    return np.array([index[v] for v in meta[column]], dtype=np.int64), np.asarray(classes)


def _make_clip(i, forced, seed, duration, sr, drums, accompaniment, harmony):
    """Compose, synthesise, mix and annotate clip i; depends on (seed, i) only.

    Separate random streams for the plan, each part and the mix keep a part's notes
    and sound the same whether or not the other parts are rendered.
    """
    rng = np.random.default_rng([seed, 0, i])
    genre = forced.get("genre") or GENRES[rng.integers(len(GENRES))]
    plan = draw_clip_plan(genre, rng, forced)
    # Rich harmony draws from streams of its own (seed, 5, i, ...): the plain clips,
    # which never touch them, stay bit-identical to those of earlier releases.
    plan["rich"] = streams(seed, i) if harmony == "rich" else None
    if uses(plan, "tuning"):
        plan["tuning"] = plan["rich"](TUNING).triangular(-TUNING_CENTS, 0, TUNING_CENTS)
    score = compose(plan, duration, rng)
    n = int(round(duration * sr))
    n_pre = int(math.ceil(score["grid"].t_pre * sr)) + int(0.05 * sr)
    n_buf = n_pre + n
    tuning = plan["tuning"]

    parts, sounding, onsets = {}, [plan["lead"]], [score["melody"]]
    parts["melody"] = _render_part(score["melody"], plan["lead"], plan, sr, n_pre, n_buf,
                                   np.random.default_rng([seed, 1, i, 0]), tuning,
                                   monophonic=True)
    if uses(plan, "timbre"):
        parts["melody"] = colour(parts["melody"], sr, plan["rich"](TIMBRE, 0))
    if accompaniment:
        for k, (inst, notes) in enumerate(zip(plan["comp"], score["comp"])):
            parts[f"comp{k}"] = _render_part(notes, inst, plan, sr, n_pre, n_buf,
                                             np.random.default_rng([seed, 1, i, 1 + k]), tuning)
            if uses(plan, "timbre"):
                parts[f"comp{k}"] = colour(parts[f"comp{k}"], sr, plan["rich"](TIMBRE, 1 + k))
            sounding.append(inst)
            onsets.append(notes)
        if plan["bass"]:
            parts["bass"] = _render_part(score["bass"], plan["bass"], plan, sr, n_pre, n_buf,
                                         np.random.default_rng([seed, 1, i, 3]), tuning)
            sounding.append(plan["bass"])
            onsets.append(score["bass"])
    has_drums = drums and plan["drums"]
    if has_drums:
        kit = DrumKit(sr, np.random.default_rng([seed, 1, i, 4]))
        buf = np.zeros(n_buf)
        for t, name, vel in score["drums"]:
            kit.add(buf, name, t + n_pre / sr, vel)
        parts["drums"] = buf
        onsets.append([(t, 0, 0, 0, None) for t, _, _ in score["drums"]])

    y = _mix(parts, plan, sr, np.random.default_rng([seed, 2, i]))[n_pre:n_pre + n]
    annotations = _annotate(score, onsets, duration, tuning)
    distorted = plan["drive"] > 0 and "guitar" in sounding
    meta = dict(
        genre=genre, key=key_name(plan["tonic"], plan["mode"]), tonic=plan["tonic"],
        mode=plan["mode"], tempo=float(plan["tempo"]), meter=plan["meter"],
        swing=bool(plan["swing"] > 0.5 or plan["meter"] in ("6/8", "12/8")),
        progression=plan["progression"], lead=plan["lead"],
        instruments=tuple(dict.fromkeys(sounding)), drums=bool(has_drums),
        drum_pattern=plan["drum_pattern"] if has_drums else "", distortion=bool(distorted),
        rt60=float(plan["rt60"]), tuning=float(tuning),
    )
    return y.astype(np.float32), annotations, meta


def _render_part(notes, instrument, plan, sr, n_pre, n_buf, rng, tuning, monophonic=False):
    """Synthesise a part; in a monophonic one each note's release ends by the next note
    (at least 15 ms of it, so that no note is cut with a click)."""
    voice = get_instrument(instrument)
    params = voice.draw(rng)
    if instrument == "guitar":
        params["drive"] = plan["drive"]
    buf = np.zeros(n_buf)
    for k, (on, dur, midi, vel, vib) in enumerate(notes):
        start = int(round(on * sr)) + n_pre
        if start >= n_buf:
            continue
        max_release = None
        if monophonic and k + 1 < len(notes):
            max_release = max(0.015, notes[k + 1][0] - on - dur)
        dur = min(dur, (n_buf - start) / sr)  # nothing is synthesised past the clip
        y = voice.render(params, float(midi_to_hz(midi, tuning)), dur, vel, sr, rng, vib,
                         max_release)
        a, b = max(start, 0), min(start + len(y), n_buf)
        if b > a:
            buf[a:b] += y[a - start : b - start]
    return buf


def _mix(parts, plan, sr, rng):
    """Balance the parts, then room, equaliser, noise floor (the plan's) and peak level."""
    gains_db = plan["levels"]
    mix = np.zeros_like(next(iter(parts.values())))
    for name, buf in parts.items():
        rms = np.sqrt(np.mean(buf**2))
        if rms > 0:
            mix += buf * (10 ** (gains_db[name] / 20) / rms)
    # Room: exponentially decaying noise (-60 dB at rt60), darker as it decays.
    rt60 = plan["rt60"]
    n_ir = int(min(rt60, 2.5) * sr)
    t = np.arange(n_ir) / sr
    ir = lowpass(rng.standard_normal(n_ir), rng.uniform(2000, 7000), sr)
    ir *= np.exp(-6.91 * t / rt60)
    ir = np.concatenate([np.zeros(int(rng.uniform(0.005, 0.03) * sr)), ir])
    ir /= np.sqrt(np.sum(ir**2))
    wet = plan["wet"]
    mix = (1 - wet) * mix + wet * fftconvolve(mix, ir)[: len(mix)]
    # Equaliser: random low and high shelves, sometimes a band limit (recording chain).
    mix = (mix + plan["eq_low"] * lowpass(mix, 250, sr)
           + plan["eq_high"] * highpass(mix, 2500, sr))
    if plan["band_limit"] is not None:
        mix = lowpass(mix, min(plan["band_limit"], 0.45 * sr), sr)
    rms = np.sqrt(np.mean(mix**2)) + 1e-12
    noise = rng.standard_normal(len(mix))
    noise = 0.3 * noise + lowpass(noise, 1000, sr)
    mix += noise * rms * 10 ** (-plan["noise_db"] / 20) / (np.std(noise) + 1e-12)
    return mix * (rng.uniform(0.3, 0.9) / (np.abs(mix).max() + 1e-12))


def _annotate(score, onsets, duration, tuning):
    times = np.concatenate([np.asarray([n[0] for n in part]) for part in onsets if part] or
                           [np.zeros(0)])
    times = np.sort(times[(times >= 0) & (times < duration)])
    keep = []
    for t in times:
        if not keep or t - keep[-1] >= ONSET_MERGE:
            keep.append(t)
    beats = score["beats"][(score["beats"] >= 0) & (score["beats"] < duration)]
    downbeats = score["downbeats"][(score["downbeats"] >= 0) & (score["downbeats"] < duration)]
    intervals, labels = [], []
    for a, b, root, q, bass in score["chords"]:
        a, b = max(a, 0.0), min(b, duration)
        if b > a:
            intervals.append((a, b))
            labels.append(chord_label(root, q) + bass_label(bass))
    frames = np.arange(int(math.ceil(duration / MELODY_HOP))) * MELODY_HOP
    f0 = np.zeros(len(frames))
    note_iv, note_hz = [], []
    for on, dur, midi, _, vib in score["melody"]:
        hz = float(midi_to_hz(midi, tuning))
        on_clip, off_clip = max(on, 0.0), min(on + dur, duration)
        if off_clip <= on_clip:
            continue
        note_iv.append((on_clip, off_clip))
        note_hz.append(hz)
        sel = (frames >= on) & (frames < on + dur)
        f0[sel] = hz * 2.0 ** (vibrato_cents(frames[sel] - on, vib) / 1200)
    return dict(
        onsets=np.asarray(keep), beats=beats, downbeats=downbeats,
        chords=dict(intervals=np.asarray(intervals).reshape(-1, 2), labels=labels),
        melody=dict(times=frames, f0=f0),
        notes=dict(intervals=np.asarray(note_iv).reshape(-1, 2), pitches=np.asarray(note_hz)),
    )
