"""Synthesised instruments for :func:`skmir.datasets.make_music`.

Every voice is a small, fast model of how the instrument makes its sound, chosen so
that timbres differ the way real ones do (spectral envelope, its evolution over the
note, attack, decay, vibrato, inharmonicity, noise), not merely in loudness:

- band-limited wavetables read with a phase accumulator (piano, violin, flute,
  clarinet, organ, synth, strings, pad, synth bass): any number of harmonics for the
  price of one table look-up per sample, two tables cross-faded where the spectrum
  evolves over the note;
- FM (Chowning 1973) where the brightness follows the loudness (trumpet) or decays
  (electric piano);
- Karplus-Strong plucked strings (guitar, bass), computed one period at a time in
  numpy, with a fractional delay so that every pitch is in tune;
- modal partials (marimba).

Each instrument also draws a few per-clip parameters (brightness, decay, vibrato,
drawbars...) so that one class is a family of sounds rather than one preset. Each is
one :class:`Instrument` subclass, registered by name in :data:`INSTRUMENTS`; the drums
are in :mod:`skmir.datasets._drums`.
"""

from typing import NamedTuple

import numpy as np
from scipy.signal import lfilter

_L = 2048  # wavetable length (one period)

LEAD_INSTRUMENTS = (
    "piano", "epiano", "guitar", "violin", "trumpet", "flute", "clarinet", "organ",
    "marimba", "synth",
)
COMP_INSTRUMENTS = ("piano", "epiano", "guitar", "organ", "marimba", "strings", "pad")
BASS_INSTRUMENTS = ("bass", "synthbass")

# Comfortable melody ranges (MIDI), inside the real instruments' ranges.
LEAD_RANGES = {
    "piano": (55, 84), "epiano": (55, 81), "guitar": (55, 81), "violin": (57, 88),
    "trumpet": (55, 82), "flute": (62, 91), "clarinet": (52, 84), "organ": (55, 84),
    "marimba": (55, 86), "synth": (55, 84),
}
# Instruments whose melody notes carry vibrato (the annotated f0 includes it).
VIBRATO = {"violin": (12, 30), "flute": (8, 20), "trumpet": (0, 10), "synth": (0, 25),
           "strings": (0, 0)}


def _wavetable(amps):
    """One period of sum_k amps[k-1] sin(2 pi k x), with a guard sample for interpolation."""
    spec = np.zeros(_L // 2 + 1, dtype=complex)
    amps = np.asarray(amps, dtype=float)[: _L // 2 - 1]
    spec[1 : len(amps) + 1] = -0.5j * _L * amps
    tab = np.fft.irfft(spec, _L)
    return np.append(tab, tab[0])


def _lookup(tab, phase):
    """Read a wavetable at ``phase`` (in cycles) with linear interpolation."""
    x = (phase - np.floor(phase)) * _L
    i = x.astype(np.intp)
    frac = x - i
    return tab[i] + frac * (tab[i + 1] - tab[i])


def vibrato_cents(t, vib):
    """Pitch deviation in cents at note times ``t`` (s) for a vibrato spec or None.

    ``vib`` is (depth in cents, rate in Hz, delay in s, phase in rad); the depth fades in
    over 0.2 s after the delay, as players do. The melody annotation uses the same
    function, so the annotated f0 is the synthesised one.
    """
    if vib is None or vib[0] == 0:
        return np.zeros_like(t)
    depth, rate, delay, phase = vib
    ramp = np.clip((t - delay) / 0.2, 0.0, 1.0)
    return depth * ramp * np.sin(2 * np.pi * rate * t + phase)


def _phase(f0, n, sr, vib=None, phi0=0.0, detune_cents=0.0):
    """Phase in cycles of an oscillator at ``f0`` (optionally with vibrato)."""
    f = f0 * 2.0 ** (detune_cents / 1200)
    if vib is None or vib[0] == 0:
        return phi0 + (f / sr) * np.arange(n)
    inst = f * 2.0 ** (vibrato_cents(np.arange(n) / sr, vib) / 1200)
    return phi0 + np.cumsum(inst) / sr


def _n_harmonics(f0, sr, limit=60):
    """Harmonics below 0.45 sr (with room for vibrato): no aliasing."""
    return int(max(1, min(limit, 0.45 * sr / (f0 * 1.03))))


def _envelope(n_on, n_tot, sr, attack, decay=0.0, sustain=1.0):
    """ADSR over n_tot samples with the key released at sample n_on (linear attack and
    decay; the release fills the n_tot - n_on samples after the key-off)."""
    t_off = n_on / sr
    a, d = max(attack, 1e-3), max(decay, 1e-3)
    level_off = np.interp(t_off, [0, a, a + d], [0, 1, sustain])
    pts_t = [0.0, a, a + d]
    pts_v = [0.0, 1.0, sustain]
    keep = [i for i, x in enumerate(pts_t) if x < t_off]
    pts_t = [pts_t[i] for i in keep] + [t_off]
    pts_v = [pts_v[i] for i in keep] + [level_off]
    env = np.interp(np.arange(n_tot) / sr, pts_t, pts_v)
    return env * _release_ramp(n_on, n_tot, sr)


def _release_ramp(n_on, n_tot, sr):
    """1 while the key is down, then a fade to 0 over the remaining samples (damper)."""
    r = np.ones(n_tot)
    if n_tot > n_on:
        # A squared raised cosine: fast (-12 dB half-way) yet without a corner, which
        # would splatter energy across the spectrum and read as an onset at note-off.
        x = np.linspace(0.0, 1.0, n_tot - n_on)
        r[n_on:] = (0.5 + 0.5 * np.cos(np.pi * x)) ** 2
    return r


INSTRUMENTS = {}  # name -> Instrument, filled as the classes below are defined


class Note(NamedTuple):
    """One note as the voices see it: pitch, loudness and its length in samples.

    Built by :meth:`Instrument.render`; its methods are the building blocks that
    several voices share, so that each voice reads as its sound model only.
    """

    f0: float  # Hz, before vibrato
    vel: float
    sr: int
    n_on: int  # samples while the key is down
    n: int  # samples in all, release included
    t: np.ndarray  # times (s) of the n samples
    phi0: float  # start phase (cycles), random so that the notes of a chord do not lock
    vib: tuple | None  # always None for a voice without vibrato (Instrument.vibrato)

    def harmonics(self, limit):
        """Harmonic numbers 1..K below the alias limit, K at most ``limit``."""
        return np.arange(1, _n_harmonics(self.f0, self.sr, limit) + 1)

    def phase(self, offset=0.0, detune=0.0):
        """Oscillator phase (cycles) from ``phi0 + offset``, detuned by ``detune`` cents."""
        return _phase(self.f0, self.n, self.sr, self.vib, self.phi0 + offset, detune)

    def adsr(self, attack, decay, sustain):
        """Envelope of a held note, released at key-off (:func:`_envelope`)."""
        return _envelope(self.n_on, self.n, self.sr, attack, decay, sustain)

    def struck(self, tau, attack):
        """Envelope of a struck note: an ``attack``-second ramp, then a free decay."""
        return np.exp(-self.t / tau) * np.minimum(1.0, self.t / attack)

    def damper(self):
        """The fade after key-off of a struck or plucked note (:func:`_release_ramp`)."""
        return _release_ramp(self.n_on, self.n, self.sr)


class Instrument:
    """A synthesised instrument: its per-clip parameter draw and its note renderer.

    A subclass that sets :attr:`name` is registered in :data:`INSTRUMENTS` under it
    when it is defined; with its parameters' ranges (or its own :meth:`draw`) and its
    :meth:`voice`, that is all a new instrument takes. The composer plays it once it
    has a role in the ``*_INSTRUMENTS`` tuples.
    """

    name = ""  # set by each registered instrument, left empty by shared bases
    vibrato = False  # whether the tone follows the vibrato the composer asks for
    ranges = {}  # parameter -> (low, high) of its uniform draw, drawn in this order

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "name" in vars(cls):  # not the bases that only share a voice
            if cls.name in INSTRUMENTS:
                raise TypeError(f"two instruments are called {cls.name!r}")
            INSTRUMENTS[cls.name] = cls()

    def draw(self, rng):
        """Per-clip parameters: the variety within the class.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        p : dict
            Read by :meth:`render`; ``p["release"]`` (s), where present, is how long
            the note rings after key-off (0.1 s otherwise).
        """
        return {key: rng.uniform(lo, hi) for key, (lo, hi) in self.ranges.items()}

    def render(self, p, f0, dur, vel, sr, rng, vib=None, max_release=None):
        """Synthesise one note.

        Parameters
        ----------
        p : dict
            The clip's parameters (:meth:`draw`).
        f0 : float
            Fundamental in Hz (before vibrato).
        dur : float
            Seconds the key is held; the note then rings for ``p["release"]``.
        vel : float
            Velocity in (0, 1]; louder is also brighter where the instrument is.
        sr : int
            Sample rate in Hz.
        rng : numpy.random.Generator
            Draws the start phase, then whatever noise the voice needs.
        vib : tuple or None
            Vibrato (see :func:`vibrato_cents`); ignored unless :attr:`vibrato`.
        max_release : float or None
            Cap on the release in seconds (a monophonic player's note is over when the
            next one starts).

        Returns
        -------
        y : ndarray of float64, shape (n,)
        """
        n_on = max(1, int(round(dur * sr)))
        release = p.get("release", 0.1)
        if max_release is not None:
            release = min(release, max_release)
        n = n_on + int(round(release * sr))
        note = Note(f0, vel, sr, n_on, n, np.arange(n) / sr, rng.uniform(),
                    vib if self.vibrato else None)
        return self.voice(p, note, rng)

    def voice(self, p, note, rng):
        """The sound model: the samples of ``note`` (a :class:`Note`) with parameters ``p``."""
        raise NotImplementedError


def get_instrument(name):
    """The registered :class:`Instrument` called ``name``.

    Raises
    ------
    ValueError
        If no instrument of that name is registered; the message lists those that are.
    """
    try:
        return INSTRUMENTS[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ValueError(f"unknown instrument {name!r}; the registered instruments are "
                         f"{', '.join(sorted(INSTRUMENTS))}.") from None


class Piano(Instrument):
    """Two detuned strings whose hammer-shaped spectrum dulls as the note decays."""

    name = "piano"
    ranges = dict(hammer=(1 / 9, 1 / 6), tilt=(0.6, 1.1), decay=(0.8, 2.0),
                  bright_tau=(0.1, 0.35), detune=(0.5, 3.0), release=(0.06, 0.15))

    def voice(self, p, note, rng):
        k = note.harmonics(40)
        bright = _wavetable(np.abs(np.sin(np.pi * k * p["hammer"])) / k ** p["tilt"])
        dull = _wavetable(1.0 / k**3)
        ph, ph2 = note.phase(), note.phase(0.3, p["detune"])
        mix = np.exp(-note.t / (p["bright_tau"] * (0.5 + note.vel)))
        x = (mix * (_lookup(bright, ph) + 0.6 * _lookup(bright, ph2))
             + (1 - mix) * (_lookup(dull, ph) + 0.6 * _lookup(dull, ph2))) / 1.6
        env = note.struck(p["decay"] * (note.f0 / 262.0) ** -0.5, 0.003)
        return note.vel * x * env * note.damper()


class EPiano(Instrument):
    """FM tine piano: the modulation index, hence the brightness, decays with the note."""

    name = "epiano"
    ranges = dict(index=(1.0, 3.0), index_tau=(0.15, 0.5), decay=(1.0, 2.5),
                  tine=(0.0, 0.25), release=(0.06, 0.15))

    def voice(self, p, note, rng):
        f0, t, vel = note.f0, note.t, note.vel
        ph = 2 * np.pi * note.phase()
        index = p["index"] * vel * np.exp(-t / p["index_tau"]) + 0.2
        x = np.sin(ph + index * np.sin(ph))
        if p["tine"] > 0 and 14 * f0 < 0.45 * note.sr:
            x += p["tine"] * vel * np.exp(-t / 0.04) * np.sin(14 * ph)
        env = note.struck(p["decay"] * (f0 / 262.0) ** -0.4, 0.002)
        return vel * x * env * note.damper()


class _PluckedString(Instrument):
    """Karplus-Strong string; a subclass sets the ranges of its T60 and brightness."""

    def draw(self, rng):
        p = super().draw(rng)
        p["drive"] = 0.0  # the clip plan sets the guitar's overdrive afterwards
        return p

    def voice(self, p, note, rng):
        f0 = note.f0
        x = _karplus_strong(f0, note.n, note.sr, rng, p["t60"] * (f0 / 196.0) ** -0.3,
                            p["bright"] * (0.6 + 0.4 * note.vel))
        x *= note.damper()
        if p["drive"] > 0:
            x = np.tanh(p["drive"] * x) / np.tanh(p["drive"])
        return note.vel * x


class Guitar(_PluckedString):
    """Plucked steel string, bright and fairly short."""

    name = "guitar"
    ranges = dict(t60=(1.5, 4.0), bright=(0.3, 0.9), release=(0.04, 0.1))


class Bass(_PluckedString):
    """Plucked bass string, duller and longer than the guitar's."""

    name = "bass"
    ranges = dict(t60=(2.0, 5.0), bright=(0.1, 0.5), release=(0.04, 0.1))


class Violin(Instrument):
    """Bowed string: a sawtooth-like tone through the body's two resonances, bow noise."""

    name, vibrato = "violin", True
    ranges = dict(attack=(0.04, 0.12), body=(0.5, 1.5), tilt=(0.8, 1.2),
                  release=(0.08, 0.2), noise=(0.005, 0.03))

    def voice(self, p, note, rng):
        k = note.harmonics(40)
        fk = k * note.f0
        body = 1 + p["body"] * (np.exp(-0.5 * (np.log2(fk / 290) / 0.25) ** 2)
                                + 0.8 * np.exp(-0.5 * (np.log2(fk / 2800) / 0.4) ** 2))
        x = _lookup(_wavetable(body / k ** p["tilt"]), note.phase())
        x += p["noise"] * rng.standard_normal(note.n)
        return note.vel * x * note.adsr(p["attack"], 0.1, 0.85)


class Trumpet(Instrument):
    """FM brass: the index follows the envelope, so louder is brighter (Chowning)."""

    name, vibrato = "trumpet", True
    ranges = dict(attack=(0.02, 0.06), index=(2.0, 4.5), release=(0.04, 0.1),
                  mute=(0.0, 1.0))

    def draw(self, rng):
        p = super().draw(rng)
        p["mute"] = p["mute"] < 0.25  # a quarter of the trumpets play muted
        return p

    def voice(self, p, note, rng):
        env = note.adsr(p["attack"], 0.08, 0.8)
        ph = 2 * np.pi * note.phase()
        index = p["index"] * (0.5 + 0.5 * note.vel) * env
        if p["mute"]:  # a mute cuts the top: a lower, fixed index
            index = 0.5 * index + 0.8
        return note.vel * env * np.sin(ph + index * np.sin(ph))


class Flute(Instrument):
    """A nearly sinusoidal tone with a few low harmonics, and breath noise."""

    name, vibrato = "flute", True
    ranges = dict(attack=(0.03, 0.09), h2=(0.1, 0.5), h3=(0.02, 0.2),
                  noise=(0.01, 0.05), release=(0.05, 0.12))

    def voice(self, p, note, rng):
        amps = [1.0, p["h2"], p["h3"], 0.3 * p["h3"]][: _n_harmonics(note.f0, note.sr, 4)]
        x = _lookup(_wavetable(amps), note.phase())
        noise = rng.standard_normal(note.n)
        x += p["noise"] * np.diff(noise, prepend=0.0)  # breath: differentiated noise
        return note.vel * x * note.adsr(p["attack"], 0.1, 0.9)


class Clarinet(Instrument):
    """A closed pipe: odd harmonics strong, even ones weak, rolled off above a cutoff."""

    name, vibrato = "clarinet", True
    ranges = dict(attack=(0.02, 0.06), even=(0.0, 0.15), cutoff=(1500, 4000),
                  release=(0.04, 0.1))

    def voice(self, p, note, rng):
        k = note.harmonics(40)
        amps = np.where(k % 2 == 1, 1.0, p["even"]) / k / (1 + (k * note.f0 / p["cutoff"]) ** 2)
        x = _lookup(_wavetable(amps), note.phase())
        return note.vel * x * note.adsr(p["attack"], 0.05, 0.9)


_DRAWBAR_PRESETS = np.array([  # 8', 4', 2 2/3', 2', 1 3/5', 1 1/3', 1'
    [8, 0, 0, 0, 0, 0, 0], [8, 8, 8, 8, 8, 8, 8], [8, 6, 8, 0, 0, 0, 0],
    [8, 3, 0, 0, 0, 0, 0], [8, 6, 0, 0, 0, 0, 4], [8, 8, 0, 0, 0, 0, 0],
    [8, 0, 0, 0, 6, 0, 0],
], dtype=float)


class Organ(Instrument):
    """Drawbar organ: a common registration, varied, with a slow or fast tremolo."""

    name = "organ"

    def draw(self, rng):
        u = rng.uniform
        bars = _DRAWBAR_PRESETS[rng.integers(len(_DRAWBAR_PRESETS))] + rng.uniform(0, 2, 7)
        return dict(drawbars=bars, tremolo=u(0.0, 0.15), trem_rate=rng.choice([0.8, 6.7]),
                    release=u(0.03, 0.06))

    def voice(self, p, note, rng):
        # Drawbars 8', 4', 2 2/3', 2', 1 3/5', 1 1/3', 1' (harmonics 1-8 of the key).
        # The 16' and 5 1/3' bars are left out: they put the period an octave below the
        # key, and the annotated melody f0 is the key's pitch.
        harm = np.array([1, 2, 3, 4, 5, 6, 8])
        amps = np.zeros(8)
        ok = harm * note.f0 < 0.45 * note.sr
        amps[harm[ok] - 1] = p["drawbars"][ok] / 8.0
        x = _lookup(_wavetable(amps), note.phase())
        x *= 1 - p["tremolo"] * (0.5 + 0.5 * np.sin(2 * np.pi * p["trem_rate"] * note.t))
        return 0.6 * note.vel * x * note.adsr(0.004, 0.01, 1.0)


class Marimba(Instrument):
    """Three modal partials of a tuned bar (about 1 : 4 : 10), the upper ones short."""

    name = "marimba"
    ranges = dict(ratio2=(3.8, 4.1), ratio3=(9.0, 10.2), bright=(0.3, 0.9), decay=(0.3, 0.8))

    def voice(self, p, note, rng):
        f0, t, vel = note.f0, note.t, note.vel
        ratios = [1.0, p["ratio2"], p["ratio3"]]
        amps = [1.0, 0.5 * p["bright"] * vel, 0.25 * p["bright"] * vel]
        taus = np.array([1.0, 0.25, 0.08]) * p["decay"] * (f0 / 262.0) ** -0.4
        x = np.zeros(note.n)
        for r, a, tau in zip(ratios, amps, taus):
            if r * f0 < 0.45 * note.sr:
                x += a * np.exp(-t / tau) * np.sin(2 * np.pi * (r * f0 * t + note.phi0))
        x *= np.minimum(1.0, t / 0.0015)
        return vel * x * note.damper()


class _Subtractive(Instrument):
    """A saw or square wave through a closing low-pass filter; subclasses add to it."""

    vibrato = True

    def draw(self, rng):
        return dict(wave=rng.choice(["saw", "square"]), **super().draw(rng))

    def filtered(self, p, note, ph):
        """The wave at phase ``ph``, filtered by a fade from its full spectrum to one
        6 dB/octave duller; and the two tables and the fade, to read them again."""
        k = note.harmonics(60)
        base = 1.0 / k if p["wave"] == "saw" else np.where(k % 2 == 1, 1.0 / k, 0.0)
        bright, dull = _wavetable(base), _wavetable(base / k)
        mix = np.exp(-note.t / p["filt_tau"])
        return mix * _lookup(bright, ph) + (1 - mix) * _lookup(dull, ph), bright, dull, mix


class Synth(_Subtractive):
    """Subtractive lead: two detuned oscillators."""

    name = "synth"
    ranges = dict(detune=(3, 15), filt_tau=(0.05, 0.4), attack=(0.003, 0.03),
                  release=(0.05, 0.2))

    def voice(self, p, note, rng):
        x, bright, dull, mix = self.filtered(p, note, note.phase())
        ph2 = note.phase(0.5, p["detune"])
        x = 0.6 * (x + mix * _lookup(bright, ph2) + (1 - mix) * _lookup(dull, ph2))
        return note.vel * x * note.adsr(p["attack"], 0.1, 0.8)


class SynthBass(_Subtractive):
    """Subtractive bass: one oscillator, and a sine that fattens the fundamental."""

    name = "synthbass"
    ranges = dict(filt_tau=(0.03, 0.2), sub=(0.0, 0.8), release=(0.03, 0.1))

    def voice(self, p, note, rng):
        ph = note.phase()
        x = self.filtered(p, note, ph)[0] + p["sub"] * np.sin(2 * np.pi * ph)
        return note.vel * x * note.adsr(0.004, 0.15, 0.7)


class _Ensemble(Instrument):
    """Three detuned voices of one tone, a section; a subclass sets the draw ranges."""

    def voice(self, p, note, rng):
        tab = _wavetable(1.0 / note.harmonics(40) ** p["tilt"])
        x = sum(_lookup(tab, note.phase(i / 3, d * p["detune"]))
                for i, d in enumerate((-1.0, 0.0, 1.0)))
        return 0.5 * note.vel * x * note.adsr(p["attack"], 0.2, 0.9)


class Strings(_Ensemble):
    """String section: a slow bowed attack, a bright tone."""

    name = "strings"
    ranges = dict(attack=(0.15, 0.45), detune=(5, 14), tilt=(1.0, 1.6), release=(0.2, 0.5))


class Pad(_Ensemble):
    """Synth pad: slower, more detuned and darker than the strings."""

    name = "pad"
    ranges = dict(attack=(0.2, 0.8), detune=(6, 18), tilt=(1.6, 2.4), release=(0.3, 0.8))


def _karplus_strong(f0, n, sr, rng, t60, bright):
    """Plucked string: a noise burst circulating in a damped delay line of one period.

    The loop filter (two-point average times a linear-interpolation fractional delay)
    is a 3-tap FIR, so one whole period depends only on earlier periods: each period
    is computed with one vector operation, a Python loop over f0 * duration periods.
    The delay N + 1/2 (average) + frac (interpolation) equals sr / f0, so the pitch is
    exact instead of rounded to a whole number of samples.
    """
    period = sr / f0
    N = max(2, int(np.floor(period - 0.5)))
    frac = period - 0.5 - N
    c0, c1, c2 = 0.5 * (1 - frac), 0.5, 0.5 * frac
    g = 10.0 ** (-3.0 / (t60 * f0))  # per-period loss that gives the wanted T60
    burst = rng.uniform(-1, 1, N)
    # A one-pole low-pass on the burst sets how bright the pluck is.
    burst = lfilter([bright], [1, -(1 - bright)], burst)
    burst -= burst.mean()
    pad = N + 2
    y = np.zeros(pad + n)
    y[pad : pad + min(N, n)] = burst[: min(N, n)]
    for s in range(pad, pad + n, N):
        e = min(s + N, pad + n)
        m = e - s
        y[s:e] += g * (c0 * y[s - N : s - N + m] + c1 * y[s - N - 1 : s - N - 1 + m]
                       + c2 * y[s - N - 2 : s - N - 2 + m])
    out = y[pad:]
    return out / (np.abs(burst).max() + 1e-9)
