"""Continuous-time waveforms of synthetic movements.

Every movement is a function of time since its onset that can be evaluated on any grid, so one
seed gives the same movement whatever the sample rate: the renderer evaluates it on a fast grid
around the event and lets the sensor's anti-alias filter decide what a slow sensor sees.

A :class:`Motion` holds the kind's scalar parameters and one :class:`TrackMotion` for every
body-worn sensor track the movement moves (``wrist``, ``left_ankle``, ``right_ankle``). Linear
waveforms are returned with unit peak (the largest vector norm of the acceleration is 1 at
gain 1), so an event's ``amplitude_g`` is its peak linear acceleration at the limb. Tilts (a
limb rotating relative to gravity) are returned separately as an angle over time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TRACKS = ("wrist", "left_ankle", "right_ankle")

# Sinusoids in one band-limited noise: enough for a noise-like, non-periodic look over 45 s,
# few enough to evaluate cheaply around each event.
_BAND_COMPONENTS = 24

# Reference grid for the unit-peak normalisation: this many samples per period of the highest
# frequency in the waveform (the peak is then found to within about 1 %).
_REF_SAMPLES_PER_PERIOD = 20


@dataclass(frozen=True)
class BandNoise:
    """Band-limited noise as a fixed sum of sinusoids, a continuous function of time.

    Attributes
    ----------
    freqs : ndarray, shape (m,)
        Frequencies in Hz, uniform in the band.
    phases : ndarray, shape (m,)
        Phases in radians.
    weights : ndarray, shape (m, 3)
        Contribution of each sinusoid to each axis.
    """

    freqs: np.ndarray
    phases: np.ndarray
    weights: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, lo_hz: float, hi_hz: float) -> BandNoise:
        """Draw a band ``[lo_hz, hi_hz]`` realisation."""
        m = _BAND_COMPONENTS
        return cls(
            freqs=rng.uniform(lo_hz, hi_hz, m),
            phases=rng.uniform(0.0, 2.0 * np.pi, m),
            weights=rng.standard_normal((m, 3)) / np.sqrt(m),
        )

    @property
    def f_max(self) -> float:
        """Highest frequency in the band realisation (Hz)."""
        return float(self.freqs.max())

    def __call__(self, tau: np.ndarray) -> np.ndarray:
        """Values (n, 3) at times ``tau`` (s); not normalised (a norm of order 1)."""
        arg = (2.0 * np.pi) * tau[:, None] * self.freqs[None, :] + self.phases[None, :]
        return np.sin(arg) @ self.weights


@dataclass(frozen=True)
class TrackMotion:
    """How one sensor track moves during an event.

    Attributes
    ----------
    gain : float
        Amplitude at this track relative to the event's ``amplitude_g``.
    delay_s : float
        Start of this track's motion after the event's onset.
    u, v : ndarray, shape (3,)
        Unit directions (sensor frame) of the main pulse and of a secondary component.
    noise : BandNoise or None
        Band-limited component, where the kind has one.
    tilt_rad : float
        Peak tilt of the limb relative to gravity (returns to zero at the end).
    tilt_axis : ndarray, shape (3,)
        Rotation axis of the tilt (made perpendicular to gravity when rendered).
    bursts : ndarray, shape (k, 2)
        ``[start_s, length_s]`` of each burst (foot tremor).
    """

    gain: float = 1.0
    delay_s: float = 0.0
    u: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))
    v: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))
    noise: BandNoise | None = None
    tilt_rad: float = 0.0
    tilt_axis: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))
    bursts: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))


@dataclass(frozen=True)
class Motion:
    """A movement's shape: kind, duration, scalar parameters and per-track motions."""

    kind: str
    duration_s: float
    p: dict[str, float]
    tracks: dict[str, TrackMotion]
    _peaks: dict[str, float] = field(default_factory=dict, compare=False, repr=False)

    def f_max(self) -> float:
        """Highest frequency (Hz) with appreciable energy in this movement."""
        k, p = self.kind, self.p
        if k == "hypnic_jerk":
            # Broadband muscle component up to 60 Hz; pulse harmonics ~3/EMG duration.
            return max(60.0, 3.0 / p["emg_s"], p["osc_hz"] * 1.5)
        if k == "twitch":
            return 3.0 / self.duration_s
        if k == "knock":
            return 2.0 * p["hz"]
        if k == "tremor":
            return 1.3 * p["hz"]
        if k == "foot_tremor":
            return 3.0 / min(float(tm.bursts[:, 1].min()) for tm in self.tracks.values())
        return max(tm.noise.f_max for tm in self.tracks.values() if tm.noise is not None)

    def span(self, track: str) -> tuple[float, float]:
        """``(start, end)`` of this track's motion relative to the onset."""
        tm = self.tracks[track]
        if self.kind == "hypnic_jerk":
            return tm.delay_s, tm.delay_s + jerk_track_duration(self.p)
        return tm.delay_s, tm.delay_s + self.duration_s

    def linear(self, track: str, tau: np.ndarray) -> np.ndarray:
        """Unit-peak linear acceleration (shape (n, 3)) of ``track`` at times ``tau``."""
        raw = _linear_raw(self, self.tracks[track], tau)
        return raw / self.unit_peak(track)

    def unit_peak(self, track: str) -> float:
        """Largest norm of the raw waveform on a fine reference grid (fixed per motion)."""
        cache = self._peaks
        if track not in cache:
            s, e = self.span(track)
            rate = _REF_SAMPLES_PER_PERIOD * self.f_max()
            tau = np.linspace(s, e, max(int((e - s) * rate), 64) + 1)
            peak = float(np.sqrt((_linear_raw(self, self.tracks[track], tau) ** 2).sum(1)).max())
            cache[track] = peak if peak > 0 else 1.0
        return float(cache[track])

    def tilt(self, track: str, tau: np.ndarray) -> np.ndarray | None:
        """Tilt angle in radians over ``tau`` (None when this kind does not tilt the limb)."""
        tm = self.tracks[track]
        if tm.tilt_rad == 0.0:
            return None
        d = self.duration_s
        up = _smoothstep((tau - tm.delay_s) / self.p["ramp_up_s"])
        down = _smoothstep((tm.delay_s + d - tau) / self.p["ramp_down_s"])
        return tm.tilt_rad * up * down


def jerk_track_duration(p: dict[str, float]) -> float:
    """Length of one limb's jerk: the EMG pulse and the ringing that starts half-way through it."""
    return max(p["emg_s"], 0.5 * p["emg_s"] + p["osc_s"])


def biphasic(x: np.ndarray) -> np.ndarray:
    """A smooth push-pull pulse on ``[0, 1]`` with zero net velocity change (zero elsewhere)."""
    inside = (x >= 0.0) & (x < 1.0)
    return np.where(inside, np.sin(2.0 * np.pi * x) * np.sin(np.pi * x), 0.0)


def tukey(tau: np.ndarray, duration: float, ramp: float) -> np.ndarray:
    """1 inside ``[ramp, duration - ramp]``, cosine ramps at both ends, 0 outside."""
    ramp = max(min(ramp, duration / 2.0), 1e-9)
    rise = 0.5 * (1.0 - np.cos(np.pi * np.clip(tau / ramp, 0.0, 1.0)))
    fall = 0.5 * (1.0 - np.cos(np.pi * np.clip((duration - tau) / ramp, 0.0, 1.0)))
    return rise * fall


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _hann_tail(x: np.ndarray) -> np.ndarray:
    # 1 at x = 0 falling smoothly to 0 at x = 1: ends a decaying oscillation without a step.
    return np.where((x >= 0.0) & (x < 1.0), 0.5 * (1.0 + np.cos(np.pi * x)), 0.0)


def _linear_raw(m: Motion, tm: TrackMotion, tau: np.ndarray) -> np.ndarray:
    k, p = m.kind, m.p
    x = tau - tm.delay_s
    if k == "hypnic_jerk":
        emg = p["emg_s"]
        out = biphasic(x / emg)[:, None] * tm.u
        y = x - 0.5 * emg
        ring = np.exp(-3.0 * np.clip(y, 0.0, None) / p["osc_s"]) * np.sin(
            2 * np.pi * p["osc_hz"] * y
        )
        out += (p["ring_rel"] * ring * _hann_tail(y / p["osc_s"]))[:, None] * tm.v
        inside = (x >= 0.0) & (x < emg)
        muscle = np.where(inside, np.sin(np.pi * np.clip(x / emg, 0.0, 1.0)) ** 2, 0.0)
        return out + 0.2 * muscle[:, None] * tm.noise(x)
    if k == "twitch":
        return biphasic(x / m.duration_s)[:, None] * tm.u
    if k == "knock":
        d = m.duration_s
        env = np.exp(-4.0 * np.clip(x, 0.0, None) / d) * _hann_tail(x / d)
        return (env * np.sin(2 * np.pi * p["hz"] * x))[:, None] * tm.u
    if k == "tremor":
        d = m.duration_s
        phase = 2 * np.pi * p["hz"] * x + 0.3 * np.sin(2 * np.pi * 0.25 * x) + p["phase"]
        am = 1.0 + 0.2 * np.sin(2 * np.pi * 0.5 * x)
        return (np.sin(phase) * am * tukey(x, d, min(0.5, d / 4)))[:, None] * tm.u
    if k == "foot_tremor":
        out = np.zeros((x.shape[0], 3))
        for start, length in tm.bursts:
            lo, hi = np.searchsorted(x, [start, start + length])
            out[lo:hi] += biphasic((x[lo:hi] - start) / length)[:, None] * tm.u
        return out
    # Band-limited movements: leg movements, turn-overs, fidgets, sensor handling.
    d = m.duration_s
    ramp = min(0.15, d / 4) if k == "leg_movement" else min(1.0, d / 4)
    return tm.noise(x) * tukey(x, d, ramp)[:, None]
