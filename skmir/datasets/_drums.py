"""Synthesised drums for :func:`skmir.datasets.make_music`, and the one-pole filters
the drums and the mix share.

Each sound is a small model of the drum: a pitch sweep (kick), a tone plus band-passed
noise (snare, rim), high-passed noise plus square-ish inharmonic partials (hats, ride,
crash), its tuning and decays drawn per clip.
"""

import numpy as np
from scipy.signal import lfilter


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
        noise = bandpass(rng.standard_normal(len(ts)), u(1000, 2500), u(5000, 9000), sr)
        self.sounds["snare"] = u(0.3, 0.7) * tone + noise * np.exp(-ts / u(0.06, 0.2))
        tr = t(0.08)
        self.sounds["rim"] = bandpass(rng.standard_normal(len(tr)), 1500, 5000, sr) * np.exp(
            -tr / 0.01) + 0.5 * np.sin(2 * np.pi * u(400, 600) * tr) * np.exp(-tr / 0.015)
        # Hats, ride and crash: high-passed noise plus square-ish inharmonic partials.
        metal_f = u(300, 420) * np.array([1.0, 1.48, 1.65, 2.12, 2.67, 3.28])
        for name, dur, tau, lo in [("hat", 0.12, u(0.015, 0.05), 6000),
                                   ("open", 0.6, u(0.15, 0.35), 5000),
                                   ("ride", 1.2, u(0.4, 0.9), 3000),
                                   ("crash", 2.0, u(0.6, 1.2), 2500)]:
            tt = t(dur)
            metal = np.sign(np.sin(2 * np.pi * np.outer(tt, metal_f))).sum(axis=1) / 6
            body = highpass(rng.standard_normal(len(tt)) + 0.5 * metal, min(lo, 0.35 * sr), sr)
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


def bandpass(x, lo, hi, sr):
    hi = min(hi, 0.45 * sr)
    return highpass(lowpass(x, hi, sr), min(lo, 0.5 * hi), sr)


def lowpass(x, fc, sr):
    a = np.exp(-2 * np.pi * fc / sr)
    return lfilter([1 - a], [1, -a], x)


def highpass(x, fc, sr):
    return x - lowpass(x, fc, sr)
