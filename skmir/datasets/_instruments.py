"""Synthesised instruments and drums for :func:`skmir.datasets.make_music`.

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
- modal partials (marimba) and noise/sweep models for the drums.

Each instrument also draws a few per-clip parameters (brightness, decay, vibrato,
drawbars...) so that one class is a family of sounds rather than one preset.
"""

import numpy as np
from scipy.signal import lfilter

_L = 2048  # wavetable length (one period)

LEAD_INSTRUMENTS = (
    "piano", "epiano", "guitar", "violin", "trumpet", "flute", "clarinet", "organ",
    "marimba", "synth",
)
COMP_INSTRUMENTS = ("piano", "epiano", "guitar", "organ", "marimba", "strings", "pad")
BASS_INSTRUMENTS = ("bass", "synthbass")
INSTRUMENTS = tuple(dict.fromkeys(LEAD_INSTRUMENTS + COMP_INSTRUMENTS + BASS_INSTRUMENTS))

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


def draw_params(name, rng):
    """Per-clip parameters of one instrument: the variety within a class."""
    u = rng.uniform
    if name == "piano":
        return dict(hammer=u(1 / 9, 1 / 6), tilt=u(0.6, 1.1), decay=u(0.8, 2.0),
                    bright_tau=u(0.1, 0.35), detune=u(0.5, 3.0), release=u(0.06, 0.15))
    if name == "epiano":
        return dict(index=u(1.0, 3.0), index_tau=u(0.15, 0.5), decay=u(1.0, 2.5),
                    tine=u(0.0, 0.25), release=u(0.06, 0.15))
    if name in ("guitar", "bass"):
        return dict(t60=u(1.5, 4.0) if name == "guitar" else u(2.0, 5.0),
                    bright=u(0.3, 0.9) if name == "guitar" else u(0.1, 0.5),
                    drive=0.0, release=u(0.04, 0.1))
    if name == "violin":
        return dict(attack=u(0.04, 0.12), body=u(0.5, 1.5), tilt=u(0.8, 1.2),
                    release=u(0.08, 0.2), noise=u(0.005, 0.03))
    if name == "trumpet":
        return dict(attack=u(0.02, 0.06), index=u(2.0, 4.5), release=u(0.04, 0.1),
                    mute=u(0.0, 1.0) < 0.25)
    if name == "flute":
        return dict(attack=u(0.03, 0.09), h2=u(0.1, 0.5), h3=u(0.02, 0.2),
                    noise=u(0.01, 0.05), release=u(0.05, 0.12))
    if name == "clarinet":
        return dict(attack=u(0.02, 0.06), even=u(0.0, 0.15), cutoff=u(1500, 4000),
                    release=u(0.04, 0.1))
    if name == "organ":
        presets = np.array([  # 8', 4', 2 2/3', 2', 1 3/5', 1 1/3', 1'
            [8, 0, 0, 0, 0, 0, 0], [8, 8, 8, 8, 8, 8, 8], [8, 6, 8, 0, 0, 0, 0],
            [8, 3, 0, 0, 0, 0, 0], [8, 6, 0, 0, 0, 0, 4], [8, 8, 0, 0, 0, 0, 0],
            [8, 0, 0, 0, 6, 0, 0],
        ], dtype=float)
        bars = presets[rng.integers(len(presets))] + rng.uniform(0, 2, 7)
        return dict(drawbars=bars, tremolo=u(0.0, 0.15), trem_rate=rng.choice([0.8, 6.7]),
                    release=u(0.03, 0.06))
    if name == "marimba":
        return dict(ratio2=u(3.8, 4.1), ratio3=u(9.0, 10.2), bright=u(0.3, 0.9),
                    decay=u(0.3, 0.8))
    if name == "synth":
        return dict(wave=rng.choice(["saw", "square"]), detune=u(3, 15),
                    filt_tau=u(0.05, 0.4), attack=u(0.003, 0.03), release=u(0.05, 0.2))
    if name == "strings":
        return dict(attack=u(0.15, 0.45), detune=u(5, 14), tilt=u(1.0, 1.6),
                    release=u(0.2, 0.5))
    if name == "pad":
        return dict(attack=u(0.2, 0.8), detune=u(6, 18), tilt=u(1.6, 2.4),
                    release=u(0.3, 0.8))
    if name == "synthbass":
        return dict(wave=rng.choice(["saw", "square"]), filt_tau=u(0.03, 0.2),
                    sub=u(0.0, 0.8), release=u(0.03, 0.1))
    raise ValueError(f"unknown instrument {name!r}")


def render_note(name, p, f0, dur, vel, sr, rng, vib=None, max_release=None):
    """Synthesise one note.

    Parameters
    ----------
    name : str
        Instrument.
    p : dict
        Its per-clip parameters (:func:`draw_params`).
    f0 : float
        Fundamental in Hz (before vibrato).
    dur : float
        Seconds the key is held; the note then rings for the instrument's release
        (``p["release"]``, 0.1 s where it has none).
    vel : float
        Velocity in (0, 1]; louder is also brighter where the instrument is.
    vib : tuple or None
        Vibrato (see :func:`vibrato_cents`).
    max_release : float or None
        Cap on the release in seconds (a monophonic player's note is over when the next
        one starts).

    Returns
    -------
    y : ndarray of float64, shape (n,)
    """
    n_on = max(1, int(round(dur * sr)))
    release = p.get("release", 0.1)
    if max_release is not None:
        release = min(release, max_release)
    n = n_on + int(round(release * sr))
    t = np.arange(n) / sr
    phi0 = rng.uniform()
    if name == "piano":
        k = np.arange(1, _n_harmonics(f0, sr, 40) + 1)
        bright = _wavetable(np.abs(np.sin(np.pi * k * p["hammer"])) / k ** p["tilt"])
        dull = _wavetable(1.0 / k**3)
        ph = _phase(f0, n, sr, phi0=phi0)
        ph2 = _phase(f0, n, sr, phi0=phi0 + 0.3, detune_cents=p["detune"])
        mix = np.exp(-t / (p["bright_tau"] * (0.5 + vel)))
        x = (mix * (_lookup(bright, ph) + 0.6 * _lookup(bright, ph2))
             + (1 - mix) * (_lookup(dull, ph) + 0.6 * _lookup(dull, ph2))) / 1.6
        tau = p["decay"] * (f0 / 262.0) ** -0.5
        env = np.exp(-t / tau) * np.minimum(1.0, t / 0.003)
        return vel * x * env * _release_ramp(n_on, n, sr)
    if name == "epiano":
        ph = 2 * np.pi * _phase(f0, n, sr, phi0=phi0)
        index = p["index"] * vel * np.exp(-t / p["index_tau"]) + 0.2
        x = np.sin(ph + index * np.sin(ph))
        if p["tine"] > 0 and 14 * f0 < 0.45 * sr:
            x += p["tine"] * vel * np.exp(-t / 0.04) * np.sin(14 * ph)
        env = np.exp(-t / (p["decay"] * (f0 / 262.0) ** -0.4)) * np.minimum(1.0, t / 0.002)
        return vel * x * env * _release_ramp(n_on, n, sr)
    if name in ("guitar", "bass"):
        x = _karplus_strong(f0, n, sr, rng, p["t60"] * (f0 / 196.0) ** -0.3,
                            p["bright"] * (0.6 + 0.4 * vel))
        x *= _release_ramp(n_on, n, sr)
        if p["drive"] > 0:
            x = np.tanh(p["drive"] * x) / np.tanh(p["drive"])
        return vel * x
    if name == "violin":
        k = np.arange(1, _n_harmonics(f0, sr, 40) + 1)
        fk = k * f0
        body = 1 + p["body"] * (np.exp(-0.5 * (np.log2(fk / 290) / 0.25) ** 2)
                                + 0.8 * np.exp(-0.5 * (np.log2(fk / 2800) / 0.4) ** 2))
        tab = _wavetable(body / k ** p["tilt"])
        x = _lookup(tab, _phase(f0, n, sr, vib, phi0))
        x += p["noise"] * rng.standard_normal(n)
        env = _envelope(n_on, n, sr, p["attack"], 0.1, 0.85)
        return vel * x * env
    if name == "trumpet":
        env = _envelope(n_on, n, sr, p["attack"], 0.08, 0.8)
        ph = 2 * np.pi * _phase(f0, n, sr, vib, phi0)
        index = p["index"] * (0.5 + 0.5 * vel) * env
        if p["mute"]:  # a mute cuts the top: a lower, fixed index
            index = 0.5 * index + 0.8
        return vel * env * np.sin(ph + index * np.sin(ph))
    if name == "flute":
        tab = _wavetable([1.0, p["h2"], p["h3"], 0.3 * p["h3"]][: _n_harmonics(f0, sr, 4)])
        x = _lookup(tab, _phase(f0, n, sr, vib, phi0))
        noise = rng.standard_normal(n)
        x += p["noise"] * np.diff(noise, prepend=0.0)  # breath: differentiated noise
        env = _envelope(n_on, n, sr, p["attack"], 0.1, 0.9)
        return vel * x * env
    if name == "clarinet":
        k = np.arange(1, _n_harmonics(f0, sr, 40) + 1)
        amps = np.where(k % 2 == 1, 1.0, p["even"]) / k / (1 + (k * f0 / p["cutoff"]) ** 2)
        x = _lookup(_wavetable(amps), _phase(f0, n, sr, vib, phi0))
        env = _envelope(n_on, n, sr, p["attack"], 0.05, 0.9)
        return vel * x * env
    if name == "organ":
        # Drawbars 8', 4', 2 2/3', 2', 1 3/5', 1 1/3', 1' (harmonics 1-8 of the key).
        # The 16' and 5 1/3' bars are left out: they put the period an octave below the
        # key, and the annotated melody f0 is the key's pitch.
        harm = np.array([1, 2, 3, 4, 5, 6, 8])
        amps = np.zeros(8)
        ok = harm * f0 < 0.45 * sr
        amps[harm[ok] - 1] = p["drawbars"][ok] / 8.0
        x = _lookup(_wavetable(amps), _phase(f0, n, sr, None, phi0))
        x *= 1 - p["tremolo"] * (0.5 + 0.5 * np.sin(2 * np.pi * p["trem_rate"] * t))
        env = _envelope(n_on, n, sr, 0.004, 0.01, 1.0)
        return 0.6 * vel * x * env
    if name == "marimba":
        ratios = [1.0, p["ratio2"], p["ratio3"]]
        amps = [1.0, 0.5 * p["bright"] * vel, 0.25 * p["bright"] * vel]
        taus = np.array([1.0, 0.25, 0.08]) * p["decay"] * (f0 / 262.0) ** -0.4
        x = np.zeros(n)
        for r, a, tau in zip(ratios, amps, taus):
            if r * f0 < 0.45 * sr:
                x += a * np.exp(-t / tau) * np.sin(2 * np.pi * (r * f0 * t + phi0))
        x *= np.minimum(1.0, t / 0.0015)
        return vel * x * _release_ramp(n_on, n, sr)
    if name in ("synth", "synthbass"):
        k = np.arange(1, _n_harmonics(f0, sr, 60) + 1)
        base = 1.0 / k if p["wave"] == "saw" else np.where(k % 2 == 1, 1.0 / k, 0.0)
        bright, dull = _wavetable(base), _wavetable(base / k)
        ph = _phase(f0, n, sr, vib, phi0)
        mix = np.exp(-t / p["filt_tau"])
        x = mix * _lookup(bright, ph) + (1 - mix) * _lookup(dull, ph)
        if name == "synth":
            ph2 = _phase(f0, n, sr, vib, phi0 + 0.5, p["detune"])
            x = 0.6 * (x + mix * _lookup(bright, ph2) + (1 - mix) * _lookup(dull, ph2))
            env = _envelope(n_on, n, sr, p["attack"], 0.1, 0.8)
        else:
            x += p["sub"] * np.sin(2 * np.pi * ph)
            env = _envelope(n_on, n, sr, 0.004, 0.15, 0.7)
        return vel * x * env
    if name in ("strings", "pad"):
        k = np.arange(1, _n_harmonics(f0, sr, 40) + 1)
        tab = _wavetable(1.0 / k ** p["tilt"])
        x = sum(_lookup(tab, _phase(f0, n, sr, None, phi0 + i / 3, d * p["detune"]))
                for i, d in enumerate((-1.0, 0.0, 1.0)))
        env = _envelope(n_on, n, sr, p["attack"], 0.2, 0.9)
        return 0.5 * vel * x * env
    raise ValueError(f"unknown instrument {name!r}")


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


class DrumKit:
    """One clip's drum sounds, synthesised once and reused for every hit.

    Sounds: ``kick`` (sine sweep and click), ``snare`` (tone and band-passed noise),
    ``rim``, ``hat`` (closed), ``open`` (open hat), ``ride`` (inharmonic partials and
    noise), ``crash``. Their tuning and decays are drawn per clip.
    """

    def __init__(self, sr, rng):
        u = rng.uniform
        self.sr = sr
        self.sounds = {}

        def t(seconds):
            return np.arange(int(seconds * sr)) / sr

        # Kick: a pitch sweep from f_hi down to f_lo, the thump of a bass drum.
        tk = t(0.5)
        f_lo, f_hi, sweep = u(45, 65), u(120, 200), u(0.015, 0.05)
        ph = 2 * np.pi * np.cumsum(f_lo + (f_hi - f_lo) * np.exp(-tk / sweep)) / sr
        kick = np.sin(ph) * np.exp(-tk / u(0.1, 0.35))
        kick[: int(0.003 * sr)] += u(0.1, 0.5) * rng.uniform(-1, 1, int(0.003 * sr))
        self.sounds["kick"] = kick
        # Snare: a drum-head tone and the snares' band-passed noise.
        ts = t(0.4)
        tone = np.sin(2 * np.pi * u(160, 240) * ts) * np.exp(-ts / u(0.03, 0.08))
        noise = _bandpass(rng.standard_normal(len(ts)), u(1000, 2500), u(5000, 9000), sr)
        self.sounds["snare"] = u(0.3, 0.7) * tone + noise * np.exp(-ts / u(0.06, 0.2))
        tr = t(0.08)
        self.sounds["rim"] = _bandpass(rng.standard_normal(len(tr)), 1500, 5000, sr) * np.exp(
            -tr / 0.01) + 0.5 * np.sin(2 * np.pi * u(400, 600) * tr) * np.exp(-tr / 0.015)
        # Hats, ride and crash: high-passed noise plus square-ish inharmonic partials.
        metal_f = u(300, 420) * np.array([1.0, 1.48, 1.65, 2.12, 2.67, 3.28])
        for name, dur, tau, lo in [("hat", 0.12, u(0.015, 0.05), 6000),
                                   ("open", 0.6, u(0.15, 0.35), 5000),
                                   ("ride", 1.2, u(0.4, 0.9), 3000),
                                   ("crash", 2.0, u(0.6, 1.2), 2500)]:
            tt = t(dur)
            metal = np.sign(np.sin(2 * np.pi * np.outer(tt, metal_f))).sum(axis=1) / 6
            body = _highpass(rng.standard_normal(len(tt)) + 0.5 * metal, min(lo, 0.35 * sr), sr)
            if name == "ride":
                body += 0.3 * np.sin(2 * np.pi * u(2500, 3500) * tt) * (sr > 8000)
            self.sounds[name] = body * np.exp(-tt / tau)
        gains = dict(kick=1.0, snare=0.7, rim=0.4, hat=0.25, open=0.25, ride=0.2, crash=0.3)
        for name, g in gains.items():
            s = self.sounds[name]
            self.sounds[name] = g * s / (np.abs(s).max() + 1e-9)

    def add(self, buf, name, t, vel):
        """Add one hit at time ``t`` (s) into ``buf``; hits outside the buffer are cut."""
        s = self.sounds[name]
        i = int(round(t * self.sr))
        if i >= len(buf) or i + len(s) <= 0:
            return
        a, b = max(i, 0), min(i + len(s), len(buf))
        buf[a:b] += vel * s[a - i : b - i]


def _bandpass(x, lo, hi, sr):
    hi = min(hi, 0.45 * sr)
    return _highpass(_lowpass(x, hi, sr), min(lo, 0.5 * hi), sr)


def _lowpass(x, fc, sr):
    a = np.exp(-2 * np.pi * fc / sr)
    return lfilter([1 - a], [1, -a], x)


def _highpass(x, fc, sr):
    return x - _lowpass(x, fc, sr)
