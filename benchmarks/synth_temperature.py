"""What one sensor's thermometer records of a synthetic night.

The night's thermal course (:class:`~benchmarks.synth_timeline.ThermalCourse`) says how warm the
skin under each sensor is; this module turns it into the readings of one sensor:

* worn: the skin course (the distal warming around sleep onset, a slow wander);
* off the body (a non-wear span of the timeline, when the night is rendered with non-wear): an
  exponential approach to room temperature from the temperature at removal, and after donning an
  exponential approach back to the skin course. Each removal's two time constants make its mean
  rates over the first 5 min off the skin and after donning the ``off_rate`` and ``on_rate`` drawn
  for it from DETACH's measured rates (Vert et al. 2022: -0.40 +- 0.17 and +0.36 +- 0.21 degC/min
  over the first 5 min of real removals and donnings, most of them shorter than an hour): the
  drawn rate is the rate seen, whatever the distance to cover. Where it asks for more than 90 %
  of the distance in 5 min (a short removal barely cooled the sensor), 90 % is covered. A span at
  the recording's start (put on after the recording started) begins at room temperature;
* sampled once per block of ``temp_block_samples`` accelerometer samples (Axivity: one reading
  per data block; GENEActiv: one per 300-sample page), with a little white noise, quantised to
  ``temp_lsb_c``; readings inside the night's gaps are lost with the samples.

The handling at each end of a removal (3 s) is left out of the thermal course: the rates and
time constants are minutes.
"""

from __future__ import annotations

import numpy as np

from hypnic.benchmarks.synth_timeline import S_TEMP, Timeline, rng_for

_TRACK_CODE = {"wrist": 0, "left_ankle": 1, "right_ankle": 2}
#: A drawn rate may ask for more than the sensor can fall or rise in 5 min; the time constant is
#: then the one that covers this share of the way in 5 min.
_MAX_SHARE_5MIN = 0.9


def tau_for_rate(rate_c_per_min: float, delta_c: float) -> float:
    """Time constant (s) of an exponential approach across ``delta_c`` whose mean rate over the
    first 5 min is ``rate_c_per_min``: ``delta * (1 - exp(-5 min / tau)) / 5 min = rate``.
    """
    share = min(5.0 * abs(rate_c_per_min) / max(abs(delta_c), 1e-6), _MAX_SHARE_5MIN)
    return -300.0 / np.log1p(-share)


def reading_times(duration_s: float, fs: float, block_samples: int) -> np.ndarray:
    """Times of the readings: the first sample of every block of ``block_samples`` samples."""
    n = max(1, int(round(duration_s * fs)))
    return np.arange(0, n, int(block_samples), dtype=np.float64) / fs


def device_temperature(
    tl: Timeline, track: str, t: np.ndarray, spans: list[list[float]]
) -> np.ndarray:
    """Noise-free temperature (degC) of the sensor on ``track`` at times ``t`` (sorted).

    ``spans`` are the non-wear spans ``[start_s, end_s]`` in force (the timeline's, in order,
    or none); the k-th uses ``tl.thermal``'s k-th rates.
    """
    th = tl.thermal
    if th is None:
        raise ValueError("the timeline has no thermal course")
    t = np.asarray(t, dtype=np.float64)
    skin = th.skin_c(track, t)
    out = skin.copy()
    room = th.room_c
    deficit, since = 0.0, 0.0  # worn: skin - device at ``since``, decaying with ``tau_on``
    tau_on = np.inf
    for k, (s, e) in enumerate(spans):
        # Worn before this span (re-warming after the previous one).
        worn = (t >= since) & (t < s)
        if deficit and np.isfinite(tau_on):
            out[worn] = skin[worn] - deficit * np.exp(-(t[worn] - since) / tau_on)
        skin_s = float(th.skin_c(track, np.array([s]))[0])
        if s <= 0.0:
            at_removal = room
        else:
            decay = np.exp(-(s - since) / tau_on) if np.isfinite(tau_on) else 0.0
            at_removal = skin_s - deficit * decay
        tau_off = tau_for_rate(th.off_rate[k], at_removal - room)
        off = (t >= s) & (t < e)
        out[off] = room + (at_removal - room) * np.exp(-(t[off] - s) / tau_off)
        skin_e = float(th.skin_c(track, np.array([e]))[0])
        at_donning = room + (at_removal - room) * np.exp(-(e - s) / tau_off)
        tau_on = tau_for_rate(th.on_rate[k], skin_e - at_donning)
        deficit, since = skin_e - at_donning, e
    worn = t >= since
    if deficit and np.isfinite(tau_on):
        out[worn] = skin[worn] - deficit * np.exp(-(t[worn] - since) / tau_on)
    return out


def render_temperature(
    tl: Timeline,
    placement_track: str,
    fs: float,
    *,
    nonwear: bool = False,
    gaps: list[list[float]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The thermometer readings ``(t, degC)`` of one sensor (float64 arrays).

    Parameters
    ----------
    tl : Timeline
    placement_track : str
        ``wrist``, ``left_ankle`` or ``right_ankle``.
    fs : float
        The accelerometer's rate: one reading per ``temp_block_samples`` samples.
    nonwear : bool
        Take the sensor off for the timeline's non-wear spans.
    gaps : list of [start_s, end_s], optional
        Spans whose readings are lost.
    """
    p = tl.params
    t = reading_times(tl.duration_s, fs, p.temp_block_samples)
    spans = [[sp.start_s, sp.end_s] for sp in tl.nonwear] if nonwear else []
    v = device_temperature(tl, placement_track, t, spans)
    rng = rng_for(S_TEMP, tl.seed, _TRACK_CODE[placement_track])
    v = v + rng.standard_normal(v.shape) * p.temp_noise_c
    v = np.round(np.round(v / p.temp_lsb_c) * p.temp_lsb_c, 6)
    if gaps:
        keep = np.ones(t.shape, dtype=bool)
        for s, e in gaps:
            keep &= ~((t >= s) & (t < e))
        t, v = t[keep], v[keep]
    return t, v


def hold(t_rows: np.ndarray, t_read: np.ndarray, v_read: np.ndarray) -> np.ndarray:
    """The latest reading at or before each row's time (NaN before the first): a one-column
    view of the readings beside the samples, as device exports write it."""
    i = np.searchsorted(t_read, t_rows, side="right") - 1
    out = np.full(t_rows.shape, np.nan)
    ok = i >= 0
    out[ok] = v_read[i[ok]]
    return out
