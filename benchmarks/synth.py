"""Synthetic nights with ground truth: the public entry point of the generator.

>>> night = simulate_night(seed=3, fs=100.0, hours=6.0, placement="wrist")
>>> night.t, night.xyz, night.truth["events"][0]["label"], night.info.fs
>>> t_temp, deg_c = night.temperature  # the sensor's thermometer, at its own rate


One seed is one night (:mod:`benchmarks.synth_timeline`); each placement and sample rate is one
sensor's view of it (:mod:`benchmarks.synth_render`, and
:mod:`benchmarks.synth_temperature` for its thermometer). Calling :func:`simulate_night` with the
same seed for ``wrist`` and ``ankle`` gives a two-sensor night with the same events at the same
times. Parameters and their sources are in :mod:`benchmarks.synth_params`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from hypnic.benchmarks.synth_params import SynthParams, default_params
from hypnic.benchmarks.synth_render import PLACEMENT_TRACK, Rendered, render
from hypnic.benchmarks.synth_temperature import render_temperature
from hypnic.benchmarks.synth_timeline import Timeline, make_timeline
from hypnic.recordings.samples import SampleStream, StreamInfo

GENERATOR_VERSION = "synth-1"
_EVENING = datetime(2024, 1, 15, 21, 30, tzinfo=timezone.utc)  # t = 0 minus start_offset_s


@dataclass
class SyntheticNight:
    """One sensor's recording of a synthetic night and its ground truth.

    Attributes
    ----------
    t : ndarray of float64, shape (n,)
        Seconds from the start, uniform 1/fs apart except where gaps were cut out.
    xyz : ndarray of float32, shape (n, 3)
        Acceleration in g, quantised to the sensor's LSB.
    truth : dict
        JSON-serialisable ground truth (see :func:`simulate_night`).
    info : StreamInfo
        ``source`` is ``"synthetic seed N"``.
    timeline : Timeline
        The night as the generator drew it (shared by every placement of the seed).
    temperature : (ndarray, ndarray)
        The sensor's thermometer: reading times (s) and degC (float64), one reading per block of
        samples, quantised; off the skin during non-wear (:mod:`benchmarks.synth_temperature`).
    """

    t: np.ndarray
    xyz: np.ndarray
    truth: dict[str, Any]
    info: StreamInfo
    timeline: Timeline
    temperature: tuple[np.ndarray, np.ndarray] = (np.empty(0), np.empty(0))

    def stream(self, chunk_size: int = 1 << 20, temperature: bool = False) -> SampleStream:
        """The samples as a :class:`~recordings.samples.SampleStream` (as readers hand them on);
        with ``temperature``, the chunks carry the thermometer's readings as well."""
        aux = {"temperature": self.temperature} if temperature else None
        s = SampleStream.from_arrays(self.t, self.xyz, self.info, chunk_size=chunk_size, aux=aux)
        s.gaps = [list(g) for g in self.truth["gaps"]]
        return s


def simulate_night(
    seed: int,
    fs: float,
    hours: float,
    placement: str = "wrist",
    params: SynthParams | None = None,
    *,
    noise_density: float | None = None,
    amplitude_scale: float = 1.0,
    rotation: str | np.ndarray | None = None,
    gaps: bool = False,
    nonwear: bool = False,
) -> SyntheticNight:
    """Generate one sensor's recording of night ``seed`` with its ground truth.

    Parameters
    ----------
    seed : int
        Non-negative; the same seed gives the same night for every placement and rate.
    fs : float
        Output sample rate in Hz (12.5-1600 Hz are the sensors' range; anything > 0 works).
    hours : float
        Length of the recording.
    placement : {"wrist", "ankle", "left_ankle", "right_ankle"}
        ``ankle`` is the right ankle.
    params : SynthParams, optional
        :func:`~benchmarks.synth_params.default_params` when omitted.
    noise_density : float, optional
        Sensor noise density in ug/sqrt(Hz); drawn per seed from the parameters when omitted.
    amplitude_scale : float
        Multiplies the amplitude (and tilt) of every movement.
    rotation : None, "random" or ndarray (3, 3)
        A fixed mounting rotation applied to the worn signal; ``"random"`` draws one per seed
        and placement.
    gaps : bool
        Cut a few missing spans (2-120 s) out of ``t`` and ``xyz``.
    nonwear : bool
        Take the sensor off for the timeline's non-wear spans: with the default parameters one
        span on a nightstand (start, middle or end of the night); with
        :func:`~benchmarks.synth_params.with_removals` 1-3 removals of 5-120 min where people
        take a sensor off.

    Returns
    -------
    SyntheticNight
        ``truth`` holds ``seed, fs, hours, placement, noise_density_ug, sleep_onset_s,
        sleep_end_s, gaps, nonwear, events`` and, as extras, ``params``, ``amplitude_scale``,
        ``rotation``, ``wake_bouts``, ``rem``, ``lsb_g``, ``range_g``, ``noise_sigma_g``,
        ``generator``, ``nonwear_model`` and ``temperature`` (room, reading period and step,
        each non-wear span's DETACH rates). Each event has ``onset_s, duration_s, label, kind,
        limb, amplitude_g, visible, series`` and ``peak_g`` (its peak at this sensor).
    """
    if placement not in PLACEMENT_TRACK:
        raise ValueError(f"placement must be one of {', '.join(PLACEMENT_TRACK)}")
    if not (np.isfinite(amplitude_scale) and amplitude_scale >= 0):
        raise ValueError("amplitude_scale must be >= 0")
    if noise_density is not None and not (np.isfinite(noise_density) and noise_density >= 0):
        raise ValueError("noise_density must be >= 0")
    params = default_params() if params is None else params
    tl = make_timeline(int(seed), float(hours), params)
    r = render(
        tl,
        placement,
        float(fs),
        noise_density_ug=noise_density,
        amplitude_scale=amplitude_scale,
        rotation=rotation,
        gaps=gaps,
        nonwear=nonwear,
    )
    track = PLACEMENT_TRACK[placement]
    temperature = render_temperature(tl, track, float(fs), nonwear=nonwear, gaps=r.gaps)
    truth = _truth(tl, r, placement, float(fs), amplitude_scale)
    truth["nonwear_model"] = params.nonwear_model
    truth["temperature"] = _temperature_truth(tl, track, float(fs), nonwear)
    start = _EVENING + timedelta(seconds=tl.start_offset_s)
    info = StreamInfo(
        source=f"synthetic seed {tl.seed}",
        fs=float(fs),
        start_utc=start.isoformat(),
        placement=placement,
        meta={
            "synthetic": True,
            "seed": tl.seed,
            "params": params.name,
            "noise_density_ug": r.noise_density_ug,
            "range_g": params.range_g,
            "lsb_g": params.lsb_g,
        },
    )
    return SyntheticNight(r.t, r.xyz, truth, info, tl, temperature)


def _r(x: float, nd: int = 4) -> float:
    return float(round(float(x), nd))


def _temperature_truth(tl: Timeline, track: str, fs: float, nonwear: bool) -> dict[str, Any]:
    th, p = tl.thermal, tl.params
    assert th is not None
    spans = tl.nonwear if nonwear else []
    return {
        "room_c": _r(th.room_c, 2),
        "worn_base_c": _r(th.base_c[track], 2),
        "sleep_rise_c": _r(th.rise_c[track], 2),
        "reading_period_s": _r(p.temp_block_samples / fs, 6),
        "lsb_c": p.temp_lsb_c,
        "off_rate_c_per_min": [_r(th.off_rate[k], 3) for k in range(len(spans))],
        "on_rate_c_per_min": [_r(th.on_rate[k], 3) for k in range(len(spans))],
        "nonwear_where": [sp.where for sp in spans],
    }


def _truth(tl: Timeline, r: Rendered, placement: str, fs: float, scale: float) -> dict[str, Any]:
    events = []
    for ev, peak, vis in zip(tl.events, r.peaks_g, r.visible, strict=True):
        events.append(
            {
                "onset_s": _r(ev.onset_s),
                "duration_s": _r(ev.duration_s),
                "label": ev.label,
                "kind": ev.kind,
                "limb": ev.limb,
                "amplitude_g": _r(ev.amplitude_g * scale, 5),
                "visible": bool(vis),
                "series": ev.series,
                "peak_g": _r(peak, 5),
            }
        )
    return {
        "generator": GENERATOR_VERSION,
        "seed": tl.seed,
        "fs": fs,
        "hours": tl.hours,
        "placement": placement,
        "params": tl.params.name,
        "noise_density_ug": _r(r.noise_density_ug, 3),
        "noise_sigma_g": _r(r.noise_sigma_g, 7),
        "lsb_g": tl.params.lsb_g,
        "range_g": tl.params.range_g,
        "amplitude_scale": scale,
        "rotation": None if r.rotation is None else np.round(r.rotation, 6).tolist(),
        "sleep_onset_s": _r(tl.sleep_onset_s, 2),
        "sleep_end_s": _r(tl.sleep_end_s, 2),
        "wake_bouts": [[_r(s, 2), _r(e, 2)] for s, e in tl.wake_bouts],
        "rem": [[_r(s, 2), _r(e, 2)] for s, e in tl.rem],
        "gaps": [[_r(s, 3), _r(e, 3)] for s, e in r.gaps],
        "nonwear": [[_r(s, 2), _r(e, 2)] for s, e in r.nonwear],
        "events": events,
    }
