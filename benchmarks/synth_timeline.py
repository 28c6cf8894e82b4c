"""The timeline of a synthetic night: what the body does and when, before any sensor sees it.

A timeline depends only on the seed, the length of the night and the parameters, never on the
sample rate or the sensor's placement, so two placements of one seed are two sensors of one
night. It holds the sleep structure (onset, final awakening, brief awakenings, REM periods),
every movement with its shape (:mod:`benchmarks.synth_waveforms`), the posture of each limb
over the night, the breathing and pulse micro-motion and the sensor's noise density.

Each family of events draws from its own random stream, so changing how, say, twitches are
drawn leaves the jerks and leg movements of every seed where they were.

Non-wear comes in two models (``SynthParams.nonwear_model``). ``nightstand`` is the first
benchmark's: one span at the start, in the middle or at the end, drawn without regard to sleep.
``removals`` takes the sensor off where people do (before falling asleep, inside an awakening,
after the final awakening) for 5-120 min, and changes the sleep structure so that the person is
awake around every removal (:func:`_removals`). The thermal course of the night (skin temperature
at each sensor, the room, DETACH's rates off and back on the skin) is drawn from its own stream
(:class:`ThermalCourse`) and rendered per sensor by :mod:`benchmarks.synth_temperature`.
"""

from __future__ import annotations

import bisect
import zlib
from dataclasses import dataclass, field

import numpy as np

from hypnic.benchmarks.synth_params import Range, SynthParams
from hypnic.benchmarks.synth_waveforms import (
    TRACKS,
    BandNoise,
    Motion,
    TrackMotion,
    jerk_track_duration,
)

KIND_LABEL = {
    "hypnic_jerk": "hypnic_jerk",
    "turn_over": "large_movement",
    "arousal_turn_over": "large_movement",
    "foot_tremor": "other",
    "tremor": "other",
    "twitch": "other",
    "knock": "other",
    "fidget": "other",
}  # leg_movement is plm inside a series, lm outside one

LIMB_TRACKS = {
    "body": TRACKS,
    "arm": ("wrist",),
    "left_leg": ("left_ankle",),
    "right_leg": ("right_ankle",),
    "both_legs": ("left_ankle", "right_ankle"),
}  # "sensor" (a knock) moves only the sensor it hits

# Stream ids for np.random.default_rng([stream, seed]); fixed forever so seeds stay stable.
(
    _S_STRUCTURE,
    _S_JERK,
    _S_PLM,
    _S_LM,
    _S_TURN,
    _S_FOOT_TREMOR,
    _S_TREMOR,
    _S_FIDGET,
    _S_KNOCK,
    _S_TWITCH,
    _S_POSTURE,
    _S_MICRO,
    _S_SENSOR,
    _S_NONWEAR,
    _S_CLOCK,
    _S_THERMAL,
    _S_REMOVAL,
) = range(1, 18)
S_GAPS, S_NOISE, S_MOUNT, S_TEMP = 101, 102, 103, 104  # per-placement streams of the renderers

# Canonical "up" direction in each track's sensor frame per posture (supine, left side, right
# side, prone). Sensor frames: wrist x along the forearm, z out of the back of the hand; ankle
# x along the shank, z out of the front of the shin. A resting accelerometer reads +1 g "up".
_POSTURES = {
    "wrist": np.array([[0.0, 0.0, 1.0], [0.3, 0.9, 0.3], [0.3, -0.9, 0.3], [0.0, 0.5, -0.85]]),
    "left_ankle": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]),
    "right_ankle": np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]]),
}
_SLERP_STEPS = 8  # knots per orientation change: piecewise-linear between them stays near unit
_MICRO_KNOT_S = 60.0  # breathing and pulse rates drift minute by minute

# Minimum spacing (s) between events. LMs are kept > 90 s from any LM outside their own
# series and from any other sustained movement, so every series is exactly what WASM 2016
# would score (IMI 10-90 s ends a series on either side, a non-CLM breaks it; DOMAIN §2.2).
_GAP_SHORT = 1.0
_GAP_EVENT = 2.0
_GAP_SERIES = 95.0


@dataclass
class SynthEvent:
    """One movement of the night as the generator meant it."""

    onset_s: float
    duration_s: float
    label: str
    kind: str
    limb: str
    amplitude_g: float
    motion: Motion
    series: int | None = None
    invisible: bool = False  # muscle activity without limb movement (Terrill 2013, DOMAIN §3.1)
    target: str | None = None  # the sensor track a knock hits

    def tracks(self) -> tuple[str, ...]:
        """The sensor tracks this event moves."""
        if self.limb == "sensor":
            return (self.target,) if self.target else ()
        return LIMB_TRACKS[self.limb]


@dataclass
class MicroMotion:
    """Breathing or pulse: a slowly drifting periodic micro-motion."""

    knot_t: np.ndarray
    knot_hz: np.ndarray
    knot_amp: np.ndarray  # relative amplitude modulation
    amp_g: dict[str, float]  # per track, peak
    direction: dict[str, np.ndarray]  # per track, unit vector in the sensor frame
    harmonics: tuple[float, ...]  # relative amplitudes of the 1st, 2nd, ... harmonic
    harmonic_phase: tuple[float, ...]


@dataclass
class NonwearSpan:
    """A span where the sensor lies still on a nightstand."""

    start_s: float
    end_s: float
    table_up: np.ndarray  # sensor-frame "up" while lying flat
    handling: Motion  # picking the sensor up or putting it on (first/last handling_s)
    where: str = "nightstand"  # removals model: start, evening, night or end


@dataclass
class ThermalCourse:
    """Skin temperature under each sensor over the night, the room, and the rates of removals.

    While worn a sensor reads ``base + rise * S(t) + wander(t)``: ``S`` a logistic step from 0 to 1
    centred ``rise_mid_s`` (before sleep onset) of width ``rise_width_s``, decaying after the final
    awakening with ``fall_tau_s`` (distal warming of sleep, Kräuchi et al.); ``wander`` a slow
    Ornstein-Uhlenbeck course on minute knots. ``off_rate`` and ``on_rate`` (degC/min, one per
    non-wear span of the timeline, in order) are the mean rates over the first 5 min off the skin
    and after donning, drawn from DETACH's.
    """

    room_c: float
    base_c: dict[str, float]
    rise_c: dict[str, float]
    rise_mid_s: float
    rise_width_s: float
    sleep_end_s: float
    fall_tau_s: float
    wander_t: np.ndarray
    wander_c: dict[str, np.ndarray]
    off_rate: list[float]
    on_rate: list[float]

    def skin_c(self, track: str, t: np.ndarray) -> np.ndarray:
        """Temperature (degC) a sensor on ``track`` reads at times ``t`` when fully warmed."""
        t = np.asarray(t, dtype=np.float64)
        x = np.clip((t - self.rise_mid_s) / self.rise_width_s, -50.0, 50.0)
        step = 1.0 / (1.0 + np.exp(-x))
        xe = np.clip((self.sleep_end_s - self.rise_mid_s) / self.rise_width_s, -50.0, 50.0)
        at_end = 1.0 / (1.0 + np.exp(-xe))
        after = t > self.sleep_end_s
        fall = at_end * np.exp(-np.clip(t - self.sleep_end_s, 0.0, None) / self.fall_tau_s)
        step = np.where(after, fall, step)
        wander = np.interp(t, self.wander_t, self.wander_c[track])
        return self.base_c[track] + self.rise_c[track] * step + wander


@dataclass
class Timeline:
    """Everything about one night that does not depend on the sensor."""

    seed: int
    hours: float
    duration_s: float
    params: SynthParams
    sleep_onset_s: float
    sleep_end_s: float
    wake_bouts: list[list[float]]
    rem: list[list[float]]
    events: list[SynthEvent]
    posture: dict[str, tuple[np.ndarray, np.ndarray]]  # track -> (knot times, unit vectors)
    breathing: MicroMotion
    cardiac: MicroMotion
    noise_density_ug: float
    start_offset_s: float  # clock time of t = 0 after the synthetic evening's 21:30 UTC
    nonwear: list[NonwearSpan] = field(default_factory=list)
    thermal: ThermalCourse | None = None

    def posture_at(self, track: str, t: float | np.ndarray) -> np.ndarray:
        """Unit "up" vector(s) of ``track`` at time(s) ``t`` (shape (3,) or (n, 3))."""
        kt, kv = self.posture[track]
        tt = np.atleast_1d(np.asarray(t, dtype=np.float64))
        g = np.stack([np.interp(tt, kt, kv[:, i]) for i in range(3)], axis=1)
        g /= np.sqrt(np.einsum("ij,ij->i", g, g))[:, None]
        return g[0] if np.ndim(t) == 0 else g


def rng_for(stream: int, seed: int, *more: int) -> np.random.Generator:
    """The random generator of one stream of one seed (deterministic, independent streams)."""
    return np.random.default_rng([stream, seed, *more])


def _loguniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
    lo, hi = lo_hi
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(3)
    return v / np.linalg.norm(v)


def _lognormal_clipped(rng: np.random.Generator, median: float, sigma: float, lim) -> float:
    return float(np.clip(median * np.exp(sigma * rng.standard_normal()), lim[0], lim[1]))


class _Occupancy:
    """Disjoint busy intervals, sorted; answers "is [s, e] at least ``margin`` from all?"."""

    def __init__(self) -> None:
        self._s: list[float] = []
        self._e: list[float] = []

    def free(self, s: float, e: float, margin: float) -> bool:
        i = bisect.bisect_left(self._s, s)
        if i > 0 and self._e[i - 1] + margin > s:
            return False
        return not (i < len(self._s) and e + margin > self._s[i])

    def add(self, s: float, e: float) -> None:
        i = bisect.bisect_left(self._s, s)
        self._s.insert(i, s)
        self._e.insert(i, e)


class _Night:
    """Sleep structure and the bookkeeping used while placing events."""

    def __init__(self, duration: float, onset: float, end: float, bouts, rem) -> None:
        self.duration = duration
        self.onset = onset
        self.end = end
        self.bouts = bouts
        self.rem = rem
        self.all = _Occupancy()  # every event
        self.lm = _Occupancy()  # leg movements (series and isolated)
        self.long = _Occupancy()  # other sustained (>= 0.5 s) movements
        self.events: list[SynthEvent] = []

    def state(self, t: float) -> str:
        if t < self.onset or t >= self.end or any(s <= t < e for s, e in self.bouts):
            return "wake"
        return "rem" if any(s <= t < e for s, e in self.rem) else "nrem"

    def wake_spans(self) -> list[tuple[float, float]]:
        spans = [(0.0, self.onset)] + [tuple(b) for b in self.bouts] + [(self.end, self.duration)]
        return [(s, e) for s, e in spans if e - s > 1.0]

    def asleep_s(self) -> float:
        return self.end - self.onset - sum(e - s for s, e in self.bouts)

    def try_add(self, ev: SynthEvent) -> bool:
        """Add ``ev`` if it keeps its distance from everything already placed."""
        s, e = ev.onset_s, ev.onset_s + ev.duration_s
        if s < 0.0 or e > self.duration:
            return False
        if ev.kind == "leg_movement":
            ok = self.all.free(s, e, _GAP_EVENT) and self.lm.free(s, e, _GAP_SERIES)
            ok = ok and self.long.free(s, e, _GAP_SERIES)
        elif ev.duration_s >= 0.5:
            ok = self.all.free(s, e, _GAP_EVENT) and self.lm.free(s, e, _GAP_SERIES)
        else:
            ok = self.all.free(s, e, _GAP_SHORT)
        if ok:
            self.commit(ev)
        return ok

    def commit(self, ev: SynthEvent) -> None:
        s, e = ev.onset_s, ev.onset_s + ev.duration_s
        self.all.add(s, e)
        if ev.kind == "leg_movement":
            self.lm.add(s, e)
        elif ev.duration_s >= 0.5:
            self.long.add(s, e)
        self.events.append(ev)

    def random_wake_time(self, rng: np.random.Generator) -> float:
        spans = self.wake_spans()
        lengths = np.array([e - s for s, e in spans])
        s, e = spans[int(rng.choice(len(spans), p=lengths / lengths.sum()))]
        return float(rng.uniform(s, e))


def make_timeline(seed: int, hours: float, params: SynthParams) -> Timeline:
    """Draw one night.

    Parameters
    ----------
    seed : int
        Non-negative; one seed is one night.
    hours : float
        Length of the recording (> 0).
    params : SynthParams

    Returns
    -------
    Timeline
    """
    if seed < 0:
        raise ValueError("seed must be >= 0")
    if not (hours > 0 and np.isfinite(hours)):
        raise ValueError("hours must be a positive number")
    # Another parameter set draws other nights from the same seeds, not warped copies of them.
    salt = zlib.crc32(params.name.encode())

    def rng(stream: int, *more: int) -> np.random.Generator:
        return rng_for(stream, seed, salt, *more)

    removals: list[dict[str, float | str]] = []
    if params.nonwear_model == "removals":
        draws = rng(_S_REMOVAL)

        def adjust(onset: float, end: float) -> tuple[float, float, list[list[float]]]:
            return _removals(draws, hours * 3600.0, onset, end, params, removals)

        night = _structure(rng(_S_STRUCTURE), hours * 3600.0, params, adjust)
        _removal_movements(night, rng(_S_REMOVAL, 1), params, removals)
    elif params.nonwear_model == "nightstand":
        night = _structure(rng(_S_STRUCTURE), hours * 3600.0, params)
    else:
        raise ValueError(f"unknown nonwear_model {params.nonwear_model!r}")
    _jerks(night, rng(_S_JERK), params)
    _plm_series(night, rng(_S_PLM), params)
    _isolated_lms(night, rng(_S_LM), params)
    _turn_overs(night, rng(_S_TURN), params)
    _foot_tremor(night, rng(_S_FOOT_TREMOR), params)
    _tremor(night, rng(_S_TREMOR), params)
    _fidgets(night, rng(_S_FIDGET), params)
    _knocks(night, rng(_S_KNOCK), params)
    _twitches(night, rng(_S_TWITCH), params)
    events = sorted(night.events, key=lambda ev: ev.onset_s)
    _number_series(events)
    if params.nonwear_model == "removals":
        nonwear = _removal_spans(rng(_S_REMOVAL, 2), params, removals)
    else:
        nonwear = _nonwear(night, rng(_S_NONWEAR), params)
    return Timeline(
        seed=seed,
        hours=hours,
        duration_s=night.duration,
        params=params,
        sleep_onset_s=night.onset,
        sleep_end_s=night.end,
        wake_bouts=[list(b) for b in night.bouts],
        rem=[list(r) for r in night.rem],
        events=events,
        posture=_posture(events, night.duration, rng(_S_POSTURE), params),
        breathing=_micro(rng(_S_MICRO, 0), night.duration, params, breathing=True),
        cardiac=_micro(rng(_S_MICRO, 1), night.duration, params, breathing=False),
        noise_density_ug=float(rng(_S_SENSOR).uniform(*params.noise_density_ug)),
        start_offset_s=float(np.round(rng(_S_CLOCK).uniform(0.0, 120.0)) * 60.0),
        nonwear=nonwear,
        thermal=_thermal(rng(_S_THERMAL), rng(_S_THERMAL, 1), night, params, len(nonwear)),
    )


def _structure(rng: np.random.Generator, duration: float, p: SynthParams, adjust=None) -> _Night:
    """Sleep onset, final awakening, brief awakenings and REM periods.

    ``adjust(onset, end) -> (onset, end, bouts)`` (the removals model) may move the onset and the
    final awakening and add awakenings before the other awakenings and the cycles are drawn.
    """
    if rng.random() < p.long_wake_start_p:
        onset_min = rng.uniform(*p.long_onset_min)
    else:
        onset_min = rng.uniform(*p.onset_min)
    # Short test nights keep onset and final awakening inside the recording.
    onset = min(onset_min * 60.0, 0.4 * duration)
    end = duration - min(rng.uniform(*p.final_wake_min) * 60.0, 0.1 * duration)
    bouts: list[list[float]] = []
    if adjust is not None:
        onset, end, bouts = adjust(onset, end)
    lo, hi = onset + 20 * 60.0, end - 10 * 60.0
    for _ in range(int(rng.poisson(p.wake_bouts_per_h * (end - onset) / 3600.0))):
        d = rng.uniform(*p.wake_bout_min) * 60.0
        if hi - d <= lo:
            break
        s = rng.uniform(lo, hi - d)
        if all(s + d + 300.0 < b[0] or s > b[1] + 300.0 for b in bouts):
            bouts.append([s, s + d])
    bouts.sort()
    rem: list[list[float]] = []
    t, cycle = onset, 0
    n_cycles = max(1.0, (end - onset) / (95 * 60.0))
    while t < end:
        length = rng.uniform(*p.cycle_min) * 60.0
        frac = min(cycle / max(n_cycles - 1.0, 1.0), 1.0)
        rem_len = (p.rem_min[0] + frac * (p.rem_min[1] - p.rem_min[0])) * 60.0
        s, e = t + length - rem_len, min(t + length, end)
        if e - s > 60.0:
            rem.append([s, e])
        t += length
        cycle += 1
    return _Night(duration, onset, end, bouts, rem)


def _turn_motion(rng: np.random.Generator, kind: str, dur: float, band) -> Motion:
    # Every limb moves while turning over, each with its own share of the movement.
    tracks = {
        tr: TrackMotion(gain=float(rng.uniform(0.5, 1.0)), noise=BandNoise.draw(rng, *band))
        for tr in TRACKS
    }
    return Motion(kind, dur, {}, tracks)


def _turn_event(rng: np.random.Generator, p: SynthParams, onset: float, kind: str) -> SynthEvent:
    dur = _lognormal_clipped(rng, p.turn_dur_median_s, p.turn_dur_sigma, p.turn_dur_s)
    return SynthEvent(
        onset_s=onset,
        duration_s=dur,
        label="large_movement",
        kind=kind,
        limb="body",
        amplitude_g=_loguniform(rng, p.turn_amp_g),
        motion=_turn_motion(rng, kind, dur, p.turn_band_hz),
    )


def _jerks(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    n = int(rng.choice(len(p.jerk_count_p), p=np.asarray(p.jerk_count_p) / sum(p.jerk_count_p))) + 1
    for _ in range(n):
        for _attempt in range(50):
            late_lo = night.onset + p.jerk_window_s[1]
            if rng.random() < p.jerk_late_p and night.end - late_lo > 60.0:
                t = rng.uniform(late_lo, night.end)
            else:
                t = night.onset + rng.uniform(*p.jerk_window_s)
            t = float(np.clip(t, 1.0, night.duration - 2.0))
            ev = _jerk_event(rng, p, t)
            if night.try_add(ev):
                break
        else:
            continue
        if rng.random() < p.jerk_arousal_p:
            start = ev.onset_s + ev.duration_s + rng.uniform(*p.jerk_arousal_delay_s)
            arousal = _turn_event(rng, p, start, "arousal_turn_over")
            s, e = arousal.onset_s, arousal.onset_s + arousal.duration_s
            # Right after its jerk by design, so only the other events keep their distance.
            if (
                e < night.duration
                and night.all.free(s, e, 0.2)
                and night.lm.free(s, e, _GAP_SERIES)
            ):
                night.commit(arousal)


def _jerk_event(rng: np.random.Generator, p: SynthParams, t: float) -> SynthEvent:
    shape = {
        "emg_s": float(rng.uniform(*p.jerk_emg_s)),
        "osc_hz": float(rng.uniform(*p.jerk_osc_hz)),
        "osc_s": float(rng.uniform(*p.jerk_osc_s)),
        "ring_rel": float(rng.uniform(*p.jerk_ring_rel)),
    }
    gains = rng.uniform(*p.jerk_limb_gain, len(TRACKS))
    gains /= gains.max()  # the strongest limb carries the event's amplitude
    delays = rng.uniform(*p.jerk_limb_delay_s, len(TRACKS))
    delays -= delays.min()  # the onset is the first limb to move
    tracks = {
        tr: TrackMotion(
            gain=float(g),
            delay_s=float(d),
            u=_unit(rng),
            v=_unit(rng),
            noise=BandNoise.draw(rng, 20.0, 60.0),
        )
        for tr, g, d in zip(TRACKS, gains, delays, strict=True)
    }
    dur = float(delays.max()) + jerk_track_duration(shape)
    return SynthEvent(
        onset_s=t,
        duration_s=dur,
        label="hypnic_jerk",
        kind="hypnic_jerk",
        limb="body",
        amplitude_g=_loguniform(rng, p.jerk_amp_g),
        motion=Motion("hypnic_jerk", dur, shape, tracks),
    )


def _lm_event(
    rng: np.random.Generator,
    p: SynthParams,
    t: float,
    dur: float,
    limb: str,
    invisible: bool,
    label: str,
) -> SynthEvent:
    tracks = {}
    for tr in LIMB_TRACKS[limb]:
        tracks[tr] = TrackMotion(
            gain=float(rng.uniform(0.6, 1.0)) if limb == "both_legs" else 1.0,
            noise=BandNoise.draw(rng, *p.lm_band_hz),
            tilt_rad=float(np.deg2rad(rng.uniform(*p.lm_tilt_deg))),
            tilt_axis=_unit(rng),
        )
    shape = {
        "ramp_up_s": float(rng.uniform(0.15, 0.4)),
        "ramp_down_s": float(rng.uniform(0.2, 0.5)),
    }
    shape["ramp_up_s"] = min(shape["ramp_up_s"], dur / 3)
    shape["ramp_down_s"] = min(shape["ramp_down_s"], dur / 3)
    return SynthEvent(
        onset_s=t,
        duration_s=dur,
        label=label,
        kind="leg_movement",
        limb=limb,
        amplitude_g=_loguniform(rng, p.lm_amp_g),
        motion=Motion("leg_movement", dur, shape, tracks),
        invisible=invisible,
    )


def _lm_limb(rng: np.random.Generator, p: SynthParams, side: str) -> str:
    if rng.random() < p.lm_bilateral_p:
        return "both_legs"
    if rng.random() < p.lm_dominant_side_p:
        return side
    return "left_leg" if side == "right_leg" else "right_leg"


def _plm_series(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    if rng.random() >= p.plm_night_p:
        return
    index = _loguniform(rng, p.plm_index_per_h)
    target = int(round(index * night.asleep_s() / 3600.0))
    invisible_frac = float(rng.uniform(*p.lm_invisible_frac))
    lo = night.onset + 300.0  # PLMS start once sleep is established (N1/N2, DOMAIN §0)
    placed, tries = 0, 0
    while placed < target and tries < 400 and night.end - lo > 120.0:
        tries += 1
        want = max(4, min(int(round(_loguniform(rng, p.plm_series_len))), target - placed))
        t = lo + rng.beta(*p.plm_start_beta) * (night.end - lo)
        rls = rng.random() < p.plm_imi_rls_p
        imi_median = rng.uniform(*(p.plm_imi_rls_s if rls else p.plm_imi_other_s))
        side = "left_leg" if rng.random() < 0.5 else "right_leg"
        lms: list[SynthEvent] = []
        for _ in range(want):
            dur = _lognormal_clipped(rng, p.lm_dur_median_s, p.lm_dur_sigma, p.lm_dur_s)
            if night.state(t) != "nrem" or night.state(t + dur) != "nrem":
                break
            ev = _lm_event(
                rng, p, t, dur, _lm_limb(rng, p, side), rng.random() < invisible_frac, "plm"
            )
            s, e = t, t + dur
            if not (
                night.all.free(s, e, _GAP_EVENT)
                and night.lm.free(s, e, _GAP_SERIES)
                and night.long.free(s, e, _GAP_SERIES)
            ):
                break
            lms.append(ev)
            # WASM IMI 10-90 s (DOMAIN §2.1), kept clear of both limits so that onset errors of
            # a detector do not move an LM across them.
            t += float(
                np.clip(imi_median * np.exp(p.plm_imi_jitter * rng.standard_normal()), 10.5, 88.0)
            )
        if len(lms) >= 4:
            for ev in lms:
                ev.series = -1  # numbered in time order once every event is placed
                night.commit(ev)
            placed += len(lms)


def _number_series(events: list[SynthEvent]) -> None:
    # Series are > 90 s apart by construction, so an IMI > 90 s starts the next one (WASM).
    n, last_onset = 0, -np.inf
    for ev in events:
        if ev.series is None:
            continue
        if ev.onset_s - last_onset > 90.0:
            n += 1
        ev.series = n
        last_onset = ev.onset_s


def _isolated_lms(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    rate = rng.uniform(*p.lm_isolated_per_h)
    invisible_frac = float(rng.uniform(*p.lm_invisible_frac))
    side = "left_leg" if rng.random() < 0.5 else "right_leg"
    for _ in range(int(rng.poisson(rate * night.asleep_s() / 3600.0))):
        for _attempt in range(20):
            t = rng.uniform(night.onset, night.end)
            dur = _lognormal_clipped(rng, p.lm_dur_median_s, p.lm_dur_sigma, p.lm_dur_s)
            if night.state(t) == "wake" or night.state(t + dur) == "wake":
                continue
            ev = _lm_event(
                rng, p, t, dur, _lm_limb(rng, p, side), rng.random() < invisible_frac, "lm"
            )
            if night.try_add(ev):
                break


def _turn_overs(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    rate = rng.uniform(*p.turn_per_h)
    f = p.turn_wake_factor
    # Candidates at the wake rate; those falling in sleep are kept with probability 1/f.
    for _ in range(int(rng.poisson(rate * f * night.duration / 3600.0))):
        t = rng.uniform(0.0, night.duration)
        keep = night.state(t) == "wake" or rng.random() < 1.0 / f
        ev = _turn_event(rng, p, t, "turn_over")
        if keep:
            night.try_add(ev)


def _foot_tremor(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    if rng.random() >= p.foot_tremor_night_p:
        return
    for _ in range(int(rng.integers(p.foot_tremor_series[0], p.foot_tremor_series[1] + 1))):
        t = night.onset + rng.uniform(*p.foot_tremor_window_s)
        long = rng.random() < p.foot_tremor_long_p
        dur = rng.uniform(*(p.foot_tremor_long_s if long else p.foot_tremor_dur_s))
        # HFLM mean 1.6 Hz, range 0.3-4 Hz (Yang & Winkelman 2010, DOMAIN §1.3).
        hz = float(np.clip(1.6 * np.exp(0.35 * rng.standard_normal()), *p.foot_tremor_hz))
        period = 1.0 / hz
        starts, lengths, s = [], [], 0.0
        while True:
            length = min(rng.uniform(*p.foot_tremor_burst_s), 0.8 * period)
            if s + length > dur and len(starts) >= 4:
                break
            starts.append(s)
            lengths.append(length)
            s += period * (1.0 + 0.05 * rng.standard_normal())
        dur = starts[-1] + lengths[-1]
        limb = "left_leg" if rng.random() < 0.5 else "right_leg"
        tm = TrackMotion(u=_unit(rng), bursts=np.column_stack([starts, lengths]))
        ev = SynthEvent(
            onset_s=float(t),
            duration_s=float(dur),
            label="other",
            kind="foot_tremor",
            limb=limb,
            amplitude_g=_loguniform(rng, p.foot_tremor_amp_g),
            motion=Motion("foot_tremor", float(dur), {"hz": hz}, {LIMB_TRACKS[limb][0]: tm}),
        )
        night.try_add(ev)


def _tremor(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    if rng.random() >= p.tremor_night_p:
        return
    for _ in range(int(rng.integers(p.tremor_episodes[0], p.tremor_episodes[1] + 1))):
        t = night.random_wake_time(rng) if rng.random() < 0.7 else rng.uniform(0, night.duration)
        dur = float(rng.uniform(*p.tremor_dur_s))
        shape = {"hz": float(rng.uniform(*p.tremor_hz)), "phase": float(rng.uniform(0, 2 * np.pi))}
        ev = SynthEvent(
            onset_s=float(t),
            duration_s=dur,
            label="other",
            kind="tremor",
            limb="arm",
            amplitude_g=_loguniform(rng, p.tremor_amp_g),
            motion=Motion("tremor", dur, shape, {"wrist": TrackMotion(u=_unit(rng))}),
        )
        night.try_add(ev)


def _fidgets(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    rate = rng.uniform(*p.fidget_per_h)
    wake_s = sum(e - s for s, e in night.wake_spans())
    for _ in range(int(rng.poisson(rate * wake_s / 3600.0))):
        t = night.random_wake_time(rng)
        night.try_add(_fidget_event(rng, p, t))


def _fidget_event(rng: np.random.Generator, p: SynthParams, t: float) -> SynthEvent:
    limbs = ("arm", "left_leg", "right_leg", "body")
    dur = float(rng.uniform(*p.fidget_dur_s))
    limb = limbs[int(rng.choice(4, p=[0.4, 0.2, 0.2, 0.2]))]
    tracks = {
        tr: TrackMotion(noise=BandNoise.draw(rng, *p.fidget_band_hz)) for tr in LIMB_TRACKS[limb]
    }
    shape = {"tilt_deg": float(rng.uniform(*p.fidget_tilt_deg))}
    return SynthEvent(
        onset_s=float(t),
        duration_s=dur,
        label="other",
        kind="fidget",
        limb=limb,
        amplitude_g=_loguniform(rng, p.fidget_amp_g),
        motion=Motion("fidget", dur, shape, tracks),
    )


def _knocks(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    for _ in range(int(rng.integers(p.knocks[0], p.knocks[1] + 1))):
        t = float(rng.uniform(0.0, night.duration))
        dur = float(rng.uniform(*p.knock_dur_s))
        target = TRACKS[int(rng.integers(3))]
        ev = SynthEvent(
            onset_s=t,
            duration_s=dur,
            label="other",
            kind="knock",
            limb="sensor",
            amplitude_g=_loguniform(rng, p.knock_amp_g),
            motion=Motion(
                "knock",
                dur,
                {"hz": float(rng.uniform(*p.knock_hz))},
                {target: TrackMotion(u=_unit(rng))},
            ),
            target=target,
        )
        night.try_add(ev)


def _twitches(night: _Night, rng: np.random.Generator, p: SynthParams) -> None:
    rate = rng.uniform(*p.twitch_per_h)
    f = p.twitch_rem_factor
    limbs = ("arm", "left_leg", "right_leg")
    # Candidates at the REM rate; NREM keeps 1/f of them, wake none.
    for _ in range(int(rng.poisson(rate * f * (night.end - night.onset) / 3600.0))):
        t = float(rng.uniform(night.onset, night.end))
        dur = float(rng.uniform(*p.twitch_dur_s))
        limb = limbs[int(rng.integers(3))]
        amp = _loguniform(rng, p.twitch_amp_g)
        tm = TrackMotion(u=_unit(rng))
        state = night.state(t)
        if state == "wake" or (state == "nrem" and rng.random() >= 1.0 / f):
            continue
        ev = SynthEvent(
            t,
            dur,
            "other",
            "twitch",
            limb,
            amp,
            Motion("twitch", dur, {}, {LIMB_TRACKS[limb][0]: tm}),
        )
        night.try_add(ev)


def _rotate_towards(v: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotate unit ``v`` by ``angle`` about ``axis`` made perpendicular to ``v``."""
    a = axis - v * (axis @ v)
    n = np.linalg.norm(a)
    if n < 1e-9:
        a = np.cross(v, [1.0, 0.0, 0.0])
        n = np.linalg.norm(a)
        if n < 1e-9:
            a = np.cross(v, [0.0, 1.0, 0.0])
            n = np.linalg.norm(a)
    a /= n
    return v * np.cos(angle) + np.cross(a, v) * np.sin(angle)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b, -1.0, 1.0))))


def _slerp(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    omega = np.arccos(np.clip(a @ b, -1.0, 1.0))
    if omega < 1e-6:
        return np.repeat(a[None, :], len(x), axis=0)
    if np.pi - omega < 1e-3:  # antiparallel: go round through any perpendicular direction
        mid = _rotate_towards(a, np.array([0.3, 0.5, 0.8]), np.pi / 2)
        half = x < 0.5
        out = np.empty((len(x), 3))
        out[half] = _slerp(a, mid, 2 * x[half])
        out[~half] = _slerp(mid, b, 2 * x[~half] - 1)
        return out
    s = np.sin(omega)
    return (np.sin((1 - x) * omega)[:, None] * a + np.sin(x * omega)[:, None] * b) / s


def _posture_vectors(
    rng: np.random.Generator, p: SynthParams, category: int
) -> dict[str, np.ndarray]:
    out = {}
    for tr in TRACKS:
        base = _POSTURES[tr][category] / np.linalg.norm(_POSTURES[tr][category])
        jitter = p.posture_jitter_deg[0] if tr == "wrist" else p.posture_jitter_deg[1]
        out[tr] = _rotate_towards(base, _unit(rng), np.deg2rad(rng.uniform(0.0, jitter)))
    return out


def _posture(events: list[SynthEvent], duration: float, rng: np.random.Generator, p: SynthParams):
    habits = np.asarray(p.posture_habits) / sum(p.posture_habits)
    category = int(rng.choice(4, p=habits))
    current = _posture_vectors(rng, p, category)
    knots: dict[str, list[tuple[float, np.ndarray]]] = {tr: [(0.0, current[tr])] for tr in TRACKS}
    steps = np.linspace(0.0, 1.0, _SLERP_STEPS + 1)
    smooth = steps * steps * (3 - 2 * steps)
    for ev in events:
        if ev.kind in ("turn_over", "arousal_turn_over"):
            # A new habitual posture with a lasting change of tens of degrees at every limb
            # (turning over moves >= 2 body segments, IRLSSG; DOMAIN §1.3).
            for _ in range(30):
                choice = habits.copy()
                choice[category] = 0.0
                new_cat = int(rng.choice(4, p=choice / choice.sum()))
                new = _posture_vectors(rng, p, new_cat)
                if all(
                    _angle_deg(new[tr], current[tr]) >= p.posture_min_change_deg for tr in TRACKS
                ):
                    break
            category = new_cat
            moved = TRACKS
        elif ev.kind == "fidget":
            new = dict(current)
            for tr in ev.tracks():
                new[tr] = _rotate_towards(
                    current[tr], _unit(rng), np.deg2rad(ev.motion.p["tilt_deg"])
                )
            moved = ev.tracks()
        else:
            continue
        for tr in moved:
            path = _slerp(current[tr], new[tr], smooth)
            for x, v in zip(steps, path, strict=True):
                knots[tr].append((ev.onset_s + x * ev.duration_s, v))
            current[tr] = new[tr]
    out = {}
    for tr in TRACKS:
        kt = np.array([k[0] for k in knots[tr]] + [max(duration, knots[tr][-1][0]) + 1.0])
        kv = np.array([k[1] for k in knots[tr]] + [knots[tr][-1][1]])
        out[tr] = (kt, kv)
    return out


def _micro(
    rng: np.random.Generator, duration: float, p: SynthParams, breathing: bool
) -> MicroMotion:
    hz_range = p.breath_hz if breathing else p.cardiac_hz
    amp_range = p.breath_amp_mg if breathing else p.cardiac_amp_mg
    n = int(np.ceil(duration / _MICRO_KNOT_S)) + 2
    kt = np.arange(n) * _MICRO_KNOT_S
    base = rng.uniform(*hz_range)
    drift = np.exp(np.cumsum(rng.normal(0.0, 0.02, n)))
    knot_hz = np.clip(base * np.clip(drift, 0.85, 1.15), *hz_range)
    amp, direction = {}, {}
    for tr in TRACKS:
        gain = 1.0 if tr == "wrist" else p.micro_ankle_gain
        amp[tr] = float(rng.uniform(*amp_range)) * 1e-3 * gain
        direction[tr] = _unit(rng)
    if breathing:
        harmonics, phases = (1.0, 0.25), (0.0, float(rng.uniform(0, 2 * np.pi)))
    else:  # ballistocardiogram: a sharp systolic beat has strong harmonics
        harmonics, phases = (1.0, 0.5, 0.25), tuple(float(x) for x in rng.uniform(0, 2 * np.pi, 3))
    return MicroMotion(kt, knot_hz, rng.uniform(0.8, 1.2, n), amp, direction, harmonics, phases)


def _nonwear(night: _Night, rng: np.random.Generator, p: SynthParams) -> list[NonwearSpan]:
    T = night.duration
    where = int(rng.choice(3, p=np.asarray(p.nonwear_where_p) / sum(p.nonwear_where_p)))
    dur = min(rng.uniform(*p.nonwear_min) * 60.0, 0.3 * T)
    if where == 0:  # put on a while after the recording started, before falling asleep
        s, e = 0.0, min(dur, max(night.onset - 300.0, 0.5 * night.onset))
    elif where == 1:  # taken off in the middle of the night
        s = rng.uniform(0.35, 0.65) * T - dur / 2
        e = s + dur
    else:  # taken off after the final awakening
        s, e = max(T - dur, min(night.end + 60.0, T - 1.0)), T
    table_up = _rotate_towards(
        np.array([0.0, 0.0, 1.0]), _unit(rng), np.deg2rad(rng.uniform(0.0, 2.0))
    )
    hs = p.handling_s
    tracks = {tr: TrackMotion(noise=BandNoise.draw(rng, 0.5, 8.0)) for tr in TRACKS}
    handling = Motion("handling", hs, {"amp_g": _loguniform(rng, p.handling_amp_g)}, tracks)
    if e - s < 2 * hs + 1.0:
        return []
    return [NonwearSpan(float(s), float(e), table_up, handling)]


_WHERE = ("start", "evening", "night", "end")
_PAD_WINDOW_S = 240.0  # the movements of getting up / lying down fall this close to a removal
_REMOVAL_MAX_FRAC = 0.35  # of the recording: short test nights keep some worn time
_SPACING_S = 300.0  # between awakenings (as between the brief awakenings of _structure)


def _removals(
    rng: np.random.Generator,
    duration: float,
    onset: float,
    end: float,
    p: SynthParams,
    out: list[dict],
) -> tuple[float, float, list[list[float]]]:
    """Place the night's removals and make the person awake around each (``_structure`` hook).

    At most one removal before sleep (``start``: put on only after the recording started;
    ``evening``: off and on again before going to sleep) and one after the final awakening
    (``end``: left off until the recording stops); the others fall inside an awakening in the
    sleep period that spans the removal and ``removal_awake_min`` on each side. Sleep onset moves
    later than a removal before sleep by a sleep latency drawn like the night's own, the final
    awakening earlier than a removal at the end. Removals that do not fit a short night are
    dropped. Appends ``{where, start_s, end_s, before_s, after_s}`` to ``out`` (time order) and
    returns the new onset, final awakening and the awakenings it made.
    """
    cp = np.asarray(p.removal_count_p, dtype=np.float64)
    wp = np.asarray(p.removal_where_p, dtype=np.float64)
    n = int(rng.choice(len(cp), p=cp / cp.sum())) + 1
    draws = []
    for _ in range(n):  # every draw is made whatever happens to it, so the stream stays aligned
        draws.append(
            {
                "where": _WHERE[int(rng.choice(4, p=wp / wp.sum()))],
                "dur": min(_loguniform(rng, p.removal_min) * 60.0, _REMOVAL_MAX_FRAC * duration),
                "before": float(rng.uniform(*p.removal_awake_min)) * 60.0,
                "after": float(rng.uniform(*p.removal_awake_min)) * 60.0,
                "latency": float(rng.uniform(*p.onset_min)) * 60.0,
                "u": float(rng.random()),
            }
        )
    seen: set[str] = set()
    for d in draws:  # a second removal before sleep or after waking happens in the night
        key = {"start": "pre", "evening": "pre", "end": "end"}.get(d["where"])
        if key is not None:
            if key in seen:
                d["where"] = "night"
            seen.add(key)
    placed: list[dict] = []
    bouts: list[list[float]] = []
    for d in draws:
        if d["where"] not in ("start", "evening"):
            continue
        if d["where"] == "start":
            s = 0.0
        else:  # somewhere in the evening if it fits before the drawn onset, else sleep waits
            room = max(0.0, onset - d["before"] - d["dur"] - d["latency"])
            s = d["before"] + d["u"] * room
        e = s + d["dur"]
        new_onset = max(onset, e + d["latency"])
        if new_onset > 0.5 * duration:
            continue
        onset = new_onset
        placed.append({"where": d["where"], "start_s": s, "end_s": e, "before_s": d["before"],
                       "after_s": min(d["after"], onset - e)})
    min_sleep = min(3600.0, 0.2 * duration)
    for d in draws:
        if d["where"] != "end":
            continue
        s = duration - d["dur"]
        new_end = min(end, s - d["before"])
        if new_end - onset < min_sleep:
            continue
        end = new_end
        placed.append({"where": "end", "start_s": s, "end_s": duration,
                       "before_s": min(d["before"], s - end), "after_s": 0.0})
    lo, hi = onset + 20 * 60.0, end - 10 * 60.0
    for d in draws:
        if d["where"] != "night":
            continue
        length = d["before"] + d["dur"] + d["after"]
        free = hi - lo - length
        if free <= 0:
            continue
        for shift in (0.0, 1.0 / 3.0, 2.0 / 3.0):  # a few places, deterministic
            b0 = lo + ((d["u"] + shift) % 1.0) * free
            if all(b0 + length + _SPACING_S < a or b0 > b + _SPACING_S for a, b in bouts):
                bouts.append([b0, b0 + length])
                s = b0 + d["before"]
                placed.append({"where": "night", "start_s": s, "end_s": s + d["dur"],
                               "before_s": d["before"], "after_s": d["after"]})
                break
    out.extend(sorted(placed, key=lambda r: r["start_s"]))
    return onset, end, sorted(bouts)


def _removal_movements(
    night: _Night, rng: np.random.Generator, p: SynthParams, removals: list[dict]
) -> None:
    """Getting up before a removal and lying down after it: a turn-over and two fidgets on each
    worn side, within a few minutes (the person is awake there; placed before any other event).
    """
    for r in removals:
        sides = []
        if r["start_s"] > 0.0:
            sides.append((r["start_s"] - min(r["before_s"], _PAD_WINDOW_S), r["start_s"] - 5.0))
        if r["end_s"] < night.duration:
            sides.append((r["end_s"] + 5.0, r["end_s"] + min(r["after_s"], _PAD_WINDOW_S)))
        for a, b in sides:
            kinds = ("turn_over", "fidget", "fidget")
            for kind in kinds:
                for _attempt in range(10):
                    t = float(rng.uniform(a, b)) if b > a else a
                    if kind == "turn_over":
                        ev = _turn_event(rng, p, t, "turn_over")
                    else:
                        ev = _fidget_event(rng, p, t)
                    if ev.onset_s + ev.duration_s <= b + 5.0 and night.try_add(ev):
                        break


def _removal_spans(
    rng: np.random.Generator, p: SynthParams, removals: list[dict]
) -> list[NonwearSpan]:
    out = []
    hs = p.handling_s
    for r in removals:
        face = int(rng.integers(6))  # the device may lie on any face
        up = np.zeros(3)
        up[face % 3] = 1.0 if face < 3 else -1.0
        table_up = _rotate_towards(up, _unit(rng), np.deg2rad(rng.uniform(0.0, p.removal_tilt_deg)))
        tracks = {tr: TrackMotion(noise=BandNoise.draw(rng, 0.5, 8.0)) for tr in TRACKS}
        handling = Motion("handling", hs, {"amp_g": _loguniform(rng, p.handling_amp_g)}, tracks)
        if r["end_s"] - r["start_s"] >= 2 * hs + 1.0:
            s, e = float(r["start_s"]), float(r["end_s"])
            out.append(NonwearSpan(s, e, table_up, handling, str(r["where"])))
    return out


def _truncated_normal(rng: np.random.Generator, mean_sd: tuple[float, float], lim: Range) -> float:
    for _ in range(100):
        x = float(rng.normal(*mean_sd))
        if lim[0] <= x <= lim[1]:
            return x
    return float(np.clip(mean_sd[0], *lim))


_THERMAL_KNOT_S = 60.0
_LOGISTIC_10_90 = 2.0 * np.log(9.0)  # a logistic of scale w rises from 10 % to 90 % in 4.39 w


def _thermal(
    rng: np.random.Generator,
    rates: np.random.Generator,
    night: _Night,
    p: SynthParams,
    n_spans: int,
) -> ThermalCourse:
    room = float(rng.uniform(*p.temp_room_c))
    wrist = float(rng.uniform(*p.temp_worn_c))
    ankle = wrist + float(rng.uniform(*p.temp_ankle_offset_c))
    base = {"wrist": wrist}
    for tr in ("left_ankle", "right_ankle"):
        base[tr] = ankle + float(rng.uniform(-0.3, 0.3))
    rise = float(rng.uniform(*p.temp_sleep_rise_c))
    rise_c = {tr: rise * float(rng.uniform(0.8, 1.2)) for tr in TRACKS}
    mid = night.onset - float(rng.uniform(*p.temp_rise_lead_min)) * 60.0
    width = float(rng.uniform(*p.temp_rise_width_min)) * 60.0 / _LOGISTIC_10_90
    fall = float(rng.uniform(*p.temp_fall_tau_min)) * 60.0
    sigma = float(rng.uniform(*p.temp_wander_c))
    tau = float(rng.uniform(*p.temp_wander_tau_min)) * 60.0
    n = int(np.ceil(night.duration / _THERMAL_KNOT_S)) + 2
    a = np.exp(-_THERMAL_KNOT_S / tau)
    wander = {}
    for tr in TRACKS:
        z = rng.standard_normal(n)
        x = np.empty(n)
        x[0] = sigma * z[0]
        for k in range(1, n):
            x[k] = a * x[k - 1] + np.sqrt(1.0 - a * a) * sigma * z[k]
        wander[tr] = x
    off, on = [], []
    for _ in range(n_spans):
        off.append(_truncated_normal(rates, p.temp_off_rate, p.temp_rate_limits))
        on.append(_truncated_normal(rates, p.temp_on_rate, p.temp_rate_limits))
    return ThermalCourse(
        room_c=room, base_c=base, rise_c=rise_c, rise_mid_s=mid, rise_width_s=width,
        sleep_end_s=night.end, fall_tau_s=fall, wander_t=np.arange(n) * _THERMAL_KNOT_S,
        wander_c=wander, off_rate=off, on_rate=on,
    )
