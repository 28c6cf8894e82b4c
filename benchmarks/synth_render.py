"""What one sensor records of a synthetic night.

The renderer turns a :class:`~benchmarks.synth_timeline.Timeline` into samples of one
placement at one rate: gravity from the limb's posture, breathing and pulse micro-motion, every
movement that moves this limb, an optional mounting rotation, non-wear spans on a nightstand,
MEMS white noise, range clipping and quantisation, and optional gaps.

Fast movements are evaluated on a fast grid around each event (an integer multiple of the
output rate) and decimated through a zero-phase anti-alias filter (``scipy.signal.
resample_poly``), so a 12.5 Hz night looks like a 12.5 Hz sensor's output, not like a 1 kHz
signal picked every 80 ms. The filter is zero-phase so that sensors at different rates see an
event at the same time (a real sensor's filter delay is a fixed offset it reports separately).
Slow movements at a high output rate are evaluated on a coarser grid and interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import resample_poly

from hypnic.benchmarks.synth_timeline import (
    S_GAPS,
    S_MOUNT,
    S_NOISE,
    MicroMotion,
    SynthEvent,
    Timeline,
    rng_for,
)
from hypnic.benchmarks.synth_waveforms import Motion
from hypnic.detector.vocabulary import PLACEMENT_INFO

#: The track of the synthetic body (:data:`benchmarks.synth_waveforms.TRACKS`) that a sensor at
#: each placement a person can name records: its limb and side; a single ankle sensor whose side
#: is not given is on the right leg.
PLACEMENT_TRACK = {
    p.name: "wrist" if p.wrist else f"{p.side or 'right'}_ankle" for p in PLACEMENT_INFO if p.known
}
_TRACK_CODE = {"wrist": 0, "left_ankle": 1, "right_ankle": 2}

_BLOCK = 1 << 20  # samples per block of the whole-night passes (bounded memory at 1600 Hz)
_OVERSAMPLE = 4  # fast grid >= 4x the highest frequency of a movement
_MAX_UP = 4096
_AA_HALF_TAPS = 10  # resample_poly's default filter half-length, in output samples
_SLOW_GRID = 40  # samples per period when evaluating slow movements coarsely
_MIN_GAPPED_S = 60.0  # shorter nights get no gaps (there would be nothing left around them)
_BASE_RATE = 100.0  # Hz, grid of posture, breathing and pulse before interpolation

# An event counts as visible where its peak exceeds both 10 mg (several times breathing and
# pulse, DOMAIN §5.2 / brief H1) and 4 sigma of the white noise: a convention of this generator.
_VISIBLE_FLOOR_G = 0.01
_VISIBLE_SIGMA = 4.0


@dataclass
class Rendered:
    """One sensor's samples of a night and what it saw of each event."""

    t: np.ndarray  # float64 (n,)
    xyz: np.ndarray  # float32 (n, 3)
    peaks_g: list[float]  # per timeline event: peak of its acceleration at this sensor
    visible: list[bool]
    gaps: list[list[float]]
    nonwear: list[list[float]]
    noise_density_ug: float
    noise_sigma_g: float
    rotation: np.ndarray | None


def noise_sigma(noise_density_ug: float, fs: float) -> float:
    """Per-axis white-noise sigma in g: ND * sqrt(fs / 2), bandwidth ODR/2 (DOMAIN §5.1)."""
    return noise_density_ug * 1e-6 * np.sqrt(fs / 2.0)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation matrix uniformly distributed over SO(3) (normalised Gaussian quaternion)."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def check_rotation(r: np.ndarray) -> np.ndarray:
    """Return ``r`` as a float 3x3 proper rotation, or raise ValueError."""
    r = np.asarray(r, dtype=np.float64)
    if r.shape != (3, 3) or not np.allclose(r @ r.T, np.eye(3), atol=1e-6) or np.linalg.det(r) < 0:
        raise ValueError("rotation must be a 3x3 proper rotation matrix")
    return r


def gap_spans(tl: Timeline, placement: str) -> list[list[float]]:
    """Missing spans of one sensor (drop-outs are per sensor, so per placement)."""
    p, duration_s = tl.params, tl.duration_s
    rng = rng_for(S_GAPS, tl.seed, _TRACK_CODE[PLACEMENT_TRACK[placement]])
    spans: list[list[float]] = []
    if duration_s < _MIN_GAPPED_S:
        return spans
    for _ in range(int(rng.integers(p.gap_count[0], p.gap_count[1] + 1))):
        d = float(np.exp(rng.uniform(np.log(p.gap_s[0]), np.log(p.gap_s[1]))))
        d = min(d, 0.02 * duration_s)  # short test nights keep most of their samples
        s = float(rng.uniform(1.0, duration_s - d - 1.0))
        if all(s + d + 30.0 < a or s > b + 30.0 for a, b in spans):
            spans.append([s, s + d])
    return sorted(spans)


def _micro_wave(mm: MicroMotion, t: np.ndarray) -> np.ndarray:
    """Breathing or pulse waveform (peak ~1 before the per-track amplitude) at times ``t``."""
    kt, kf = mm.knot_t, mm.knot_hz
    cum = 2 * np.pi * np.concatenate([[0.0], np.cumsum(0.5 * (kf[1:] + kf[:-1]) * np.diff(kt))])
    i = np.clip(np.searchsorted(kt, t, side="right") - 1, 0, len(kt) - 2)
    dt = t - kt[i]
    slope = (kf[i + 1] - kf[i]) / (kt[i + 1] - kt[i])
    phase = cum[i] + 2 * np.pi * (kf[i] * dt + 0.5 * slope * dt * dt)
    wave = np.zeros_like(t)
    for h, (a, ph) in enumerate(zip(mm.harmonics, mm.harmonic_phase, strict=True)):
        wave += a * np.sin((h + 1) * phase + ph)
    return wave * (np.interp(t, kt, mm.knot_amp) / sum(mm.harmonics))


def micro_motion(tl: Timeline, track: str, t: np.ndarray) -> np.ndarray:
    """Breathing plus pulse acceleration (n, 3) of ``track`` at times ``t``."""
    db = tl.breathing.direction[track] * tl.breathing.amp_g[track]
    dc = tl.cardiac.direction[track] * tl.cardiac.amp_g[track]
    return _micro_wave(tl.breathing, t)[:, None] * db + _micro_wave(tl.cardiac, t)[:, None] * dc


def _body_signal(tl: Timeline, track: str, t: np.ndarray) -> np.ndarray:
    """Gravity from posture plus micro-motion at uniformly spaced times ``t`` (n, 3)."""
    step = t[1] - t[0] if len(t) > 1 else 1.0
    if len(t) < 3 or step >= 1.0 / _BASE_RATE:
        return tl.posture_at(track, t) + micro_motion(tl, track, t)
    # Posture moves only in slow turns and breathing and pulse stay below 4 Hz (third pulse
    # harmonic): evaluate at _BASE_RATE and interpolate (error < 1 % of a milli-g signal).
    tc = np.arange(np.floor(t[0] * _BASE_RATE), np.ceil(t[-1] * _BASE_RATE) + 1) / _BASE_RATE
    base = tl.posture_at(track, tc) + micro_motion(tl, track, tc)
    out = np.empty((len(t), 3))
    for j in range(3):
        out[:, j] = np.interp(t, tc, base[:, j])
    return out


def render_motion(
    motion: Motion,
    track: str,
    onset: float,
    amp: float,
    fs: float,
    n: int,
    g0: np.ndarray | None = None,
    tilt_scale: float = 1.0,
):
    """Samples of one movement at one track as the sensor's filter lets them through.

    Parameters
    ----------
    motion : Motion
    track : str
        ``wrist``, ``left_ankle`` or ``right_ankle``; must be one of ``motion.tracks``.
    onset : float
        Event onset in seconds from the start of the recording.
    amp : float
        Peak linear acceleration in g at this track.
    fs : float
        Output sample rate in Hz.
    n : int
        Number of output samples of the whole recording (the window is clipped to it).
    g0 : ndarray, shape (3,), optional
        The limb's "up" vector at the onset; needed for movements that tilt the limb.
    tilt_scale : float
        Multiplies the tilt angle (the night's ``amplitude_scale``).

    Returns
    -------
    (i0, ndarray float32 of shape (m, 3)) or None
        The first output sample index and the contribution to add from there.
    """
    s_rel, e_rel = motion.span(track)
    f_max = motion.f_max()
    up = min(_MAX_UP, max(1, int(np.ceil(_OVERSAMPLE * f_max / fs))))
    pad = (_AA_HALF_TAPS + 2) / fs if up > 1 else 2.0 / fs
    i0 = max(0, int(np.floor((onset + s_rel - pad) * fs)))
    i1 = min(n, int(np.ceil((onset + e_rel + pad) * fs)) + 1)
    if i1 <= i0:
        return None
    t_out = np.arange(i0, i1) / fs
    coarse = up == 1 and fs > 2 * _SLOW_GRID * f_max
    if coarse:
        fc = _SLOW_GRID * f_max
        t_eval = np.arange(np.floor(t_out[0] * fc), np.ceil(t_out[-1] * fc) + 1) / fc
    else:
        t_eval = (i0 * up + np.arange((i1 - i0) * up)) / (fs * up)
    tau = t_eval - onset
    sig = motion.linear(track, tau) * amp
    theta = motion.tilt(track, tau)
    if theta is not None and g0 is not None:
        tm = motion.tracks[track]
        a = tm.tilt_axis - g0 * (tm.tilt_axis @ g0)
        a /= np.linalg.norm(a)
        th = theta * tilt_scale
        # Rodrigues with the axis perpendicular to gravity: R g0 - g0.
        sig += np.cos(th)[:, None] * g0 - g0 + np.sin(th)[:, None] * np.cross(a, g0)
    if coarse:
        sig = np.stack([np.interp(t_out, t_eval, sig[:, j]) for j in range(3)], axis=1)
    elif up > 1:
        sig = resample_poly(sig, 1, up, axis=0)[: i1 - i0]
    return i0, sig.astype(np.float32)


def _event_contribution(ev: SynthEvent, track: str, tl: Timeline, fs: float, n: int, scale: float):
    if ev.invisible or track not in ev.tracks():
        return None
    tm = ev.motion.tracks[track]
    g0 = tl.posture_at(track, ev.onset_s) if tm.tilt_rad else None
    return render_motion(
        ev.motion, track, ev.onset_s, ev.amplitude_g * tm.gain * scale, fs, n, g0, scale
    )


def _nonwear_weight(spans, handling_s: float, duration: float, t: np.ndarray) -> np.ndarray:
    """0 where worn, 1 on the nightstand, ramps over the handling at each end of a span."""
    w = np.zeros_like(t)
    for s, e in spans:
        rise = np.ones_like(t) if s <= 0.0 else np.clip((t - s) / handling_s, 0.0, 1.0)
        fall = np.ones_like(t) if e >= duration else np.clip((e - t) / handling_s, 0.0, 1.0)
        w = np.maximum(w, np.minimum(rise, fall))
    return w


def render(
    tl: Timeline,
    placement: str,
    fs: float,
    *,
    noise_density_ug: float | None = None,
    amplitude_scale: float = 1.0,
    rotation: str | np.ndarray | None = None,
    gaps: bool = False,
    nonwear: bool = False,
) -> Rendered:
    """Render one sensor of ``tl``; see :func:`benchmarks.synth.simulate_night` for the options."""
    if placement not in PLACEMENT_TRACK:
        raise ValueError(f"placement must be one of {', '.join(PLACEMENT_TRACK)}")
    if not (np.isfinite(fs) and fs > 0):
        raise ValueError("fs must be a positive number")
    track = PLACEMENT_TRACK[placement]
    code = _TRACK_CODE[track]
    p = tl.params
    T = tl.duration_s
    n = max(1, int(round(T * fs)))
    nd = tl.noise_density_ug if noise_density_ug is None else float(noise_density_ug)
    sigma = noise_sigma(nd, fs)
    if isinstance(rotation, str):
        if rotation != "random":
            raise ValueError("rotation must be None, 'random' or a 3x3 matrix")
        rot = random_rotation(rng_for(S_MOUNT, tl.seed, code))
    else:
        rot = None if rotation is None else check_rotation(rotation)

    xyz = np.empty((n, 3), dtype=np.float32)
    for a in range(0, n, _BLOCK):
        t = np.arange(a, min(a + _BLOCK, n)) / fs
        xyz[a : a + len(t)] = _body_signal(tl, track, t)

    contributions = []
    for ev in tl.events:
        c = _event_contribution(ev, track, tl, fs, n, amplitude_scale)
        if c is not None:
            i0, sig = c
            xyz[i0 : i0 + len(sig)] += sig
        contributions.append(c)

    if rot is not None:
        for a in range(0, n, _BLOCK):
            xyz[a : a + _BLOCK] = xyz[a : a + _BLOCK] @ rot.T.astype(np.float32)

    spans = tl.nonwear if nonwear else []
    nonwear_list = [[sp.start_s, sp.end_s] for sp in spans]
    for sp in spans:
        i0, i1 = int(np.ceil(sp.start_s * fs)), min(n, int(np.ceil(sp.end_s * fs)))
        t = np.arange(i0, i1) / fs
        w = _nonwear_weight([[sp.start_s, sp.end_s]], p.handling_s, T, t)[:, None]
        xyz[i0:i1] = (1.0 - w) * xyz[i0:i1] + w * sp.table_up
        for edge, present in (
            (sp.start_s, sp.start_s > 0.0),
            (sp.end_s - p.handling_s, sp.end_s < T),
        ):
            c = (
                render_motion(sp.handling, track, edge, sp.handling.p["amp_g"], fs, n)
                if present
                else None
            )
            if c is not None:
                xyz[c[0] : c[0] + len(c[1])] += c[1]

    rng = rng_for(S_NOISE, tl.seed, code)
    lsb, rng_g = p.lsb_g, p.range_g
    for a in range(0, n, _BLOCK):
        blk = xyz[a : a + _BLOCK]
        blk += rng.standard_normal(blk.shape, dtype=np.float32) * np.float32(sigma)
        np.clip(np.round(blk / lsb) * lsb, -rng_g, rng_g - lsb, out=blk)

    gap_list = gap_spans(tl, placement) if gaps else []
    peaks, visible = [], []
    threshold = max(_VISIBLE_FLOOR_G, _VISIBLE_SIGMA * sigma)
    for c in contributions:
        if c is None:
            peaks.append(0.0)
            visible.append(False)
            continue
        i0, sig = c
        t = np.arange(i0, i0 + len(sig)) / fs
        mag = np.sqrt((sig.astype(np.float64) ** 2).sum(1))
        mag *= 1.0 - _nonwear_weight(nonwear_list, p.handling_s, T, t)
        for s, e in gap_list:
            mag[(t >= s) & (t < e)] = 0.0
        peak = float(mag.max()) if len(mag) else 0.0
        peaks.append(peak)
        visible.append(peak >= threshold)

    t = np.arange(n) / fs
    if gap_list:
        keep = np.ones(n, dtype=bool)
        for s, e in gap_list:
            keep[int(np.ceil(s * fs)) : int(np.ceil(e * fs))] = False
        t, xyz = t[keep], xyz[keep]
    return Rendered(t, xyz, peaks, visible, gap_list, nonwear_list, nd, sigma, rot)
