"""Non-wear at its rules' edges: GGIR's stillness, DETACH's temperature, breathing where the
sensor can show it, and the sleep-period rule.

The signals are sample-level (a sensor's noise and quantisation), run through the real burst
detector, so the 1-s grid the rules see is the one a recording gives.
"""

from __future__ import annotations

import numpy as np
import pytest

from hypnic.detector.bursts import BurstParams, BurstResult, StreamingDetector
from hypnic.detector.epochs import regular_grid
from hypnic.detector.nonwear import (
    LONG_STILL_S,
    SLEEP_PERIOD_SHARE,
    NonwearSpan,
    Temperature,
    breathing_peak,
    find_nonwear,
    keep_outside_sleep,
)

PARAMS = BurstParams()


def still_limb(
    minutes: float,
    *,
    fs: float = 25.0,
    breath_mg: float = 2.0,
    noise_mg: float = 1.0,
    step_g: float = 16.0 / 65536,
    seed: int = 0,
    sway_mg: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """A still sensor: gravity along a random direction, breathing at 0.25 Hz along another,
    white noise, a slow posture sway (SD ``sway_mg`` on two axes), then quantisation."""
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * fs)
    t = np.arange(n) / fs
    g = rng.normal(size=3)
    g /= np.linalg.norm(g)
    d = rng.normal(size=3)
    d /= np.linalg.norm(d)
    xyz = g + rng.normal(0.0, noise_mg * 1e-3, (n, 3))
    xyz += breath_mg * 1e-3 * np.sin(2 * np.pi * 0.25 * t)[:, None] * d
    if sway_mg:
        # A sway at 0.1 Hz on x and y, below the movement band and the breathing band, whose SD
        # over any minute (six whole periods) is sway_mg.
        xyz[:, :2] += np.sqrt(2) * sway_mg * 1e-3 * np.sin(2 * np.pi * 0.1 * t)[:, None]
    return t, (np.round(xyz / step_g) * step_g).astype(np.float32)


def grid_of(t: np.ndarray, xyz: np.ndarray, fs: float) -> dict[str, np.ndarray]:
    det = StreamingDetector(fs, PARAMS)
    res = BurstResult.concatenate([det.process(t, xyz), det.finish()])
    return regular_grid(res.epochs, PARAMS.epoch_s, float(t[-1]) + 1.0 / fs)


def nonwear_of(t, xyz, fs, **kw) -> list[NonwearSpan]:
    g = grid_of(t, xyz, fs)
    return find_nonwear(
        g["t_s"], g["x"], g["y"], g["z"], g["rms_g"], fs, (PARAMS.highpass_hz, PARAMS.lowpass_hz),
        PARAMS.floor_low_g, **kw,
    )


def worn_off_worn(off_min: float, *, fs: float = 25.0, lead_min: float = 10.0, tail_min: float = 10.0, **kw):
    """A breathing limb, a table for ``off_min`` minutes (a turn of the sensor to another face
    at each end: the handling), and the limb again (none with ``tail_min`` 0: the recording ends
    on the table)."""
    _, a = still_limb(lead_min, fs=fs, **kw)
    _, b = still_limb(off_min, fs=fs, breath_mg=0.0, seed=1, **{k: v for k, v in kw.items() if k != "breath_mg"})
    _, c = still_limb(tail_min, fs=fs, seed=2, **kw)
    xyz = np.concatenate([a, b, c])
    t = np.arange(xyz.shape[0]) / fs
    edges = (a.shape[0], a.shape[0] + b.shape[0]) if tail_min > 0 else (a.shape[0],)
    for edge in edges:  # handling: 2 s of large movement
        k = np.arange(int(2 * fs))
        xyz[edge - k.size : edge] += (0.5 * np.sin(2 * np.pi * 3 * k / fs))[:, None].astype(np.float32)
    return t, xyz, (lead_min * 60.0, (lead_min + off_min) * 60.0)


def test_a_sensor_on_the_nightstand_is_nonwear_and_a_breathing_limb_is_not():
    t, xyz, (a, b) = worn_off_worn(20.0)
    spans = nonwear_of(t, xyz, 25.0)
    assert len(spans) == 1
    assert spans[0].start_s == pytest.approx(a, abs=3.0) and spans[0].end_s == pytest.approx(b, abs=3.0)
    assert "no_breathing" in spans[0].evidence and "no_movement" in spans[0].evidence
    assert spans[0].stands == "unless_asleep"  # breathing that does not show is weak evidence


@pytest.mark.parametrize("breath_mg", [0.5, 2.0])
@pytest.mark.parametrize("fs", [12.5, 100.0])
def test_a_still_breathing_limb_on_a_fine_sensor_is_worn(breath_mg, fs):
    t, xyz = still_limb(40.0, fs=fs, breath_mg=breath_mg, noise_mg=0.3 * np.sqrt(fs / 25))
    assert nonwear_of(t, xyz, fs) == []


@pytest.mark.parametrize("off_min, found", [(4.9, False), (5.1, True)])
def test_inside_the_recording_non_wear_needs_5_min(off_min, found):
    t, xyz, _ = worn_off_worn(off_min)
    assert bool(nonwear_of(t, xyz, 25.0)) is found


@pytest.mark.parametrize("off_min, found", [(4.9, False), (5.1, True)])
def test_at_the_recording_edge_non_wear_needs_5_min_too(off_min, found):
    t, xyz, _ = worn_off_worn(off_min, tail_min=0.0)
    spans = nonwear_of(t, xyz, 25.0)
    assert bool(spans) is found, spans
    if found:
        assert "recording_edge" in spans[0].evidence


@pytest.mark.parametrize("sway_mg, still", [(12.0, True), (14.0, False)])
def test_ggir_sd_criterion_decides_what_moves(sway_mg, still):
    # A sensor at room temperature (so the temperature, not the breath, decides once it is still)
    # that sways with an SD of 12 vs 14 mg on two axes over every minute: GGIR's 13 mg. The z
    # axis alone stays still: 2 of 3 axes are needed.
    t, xyz = still_limb(30.0, breath_mg=0.0, sway_mg=sway_mg, noise_mg=0.3)
    room = _temperature(30.0, lambda t: np.full(t.shape, 21.0))
    spans = nonwear_of(t, xyz, 25.0, temperature=room)
    assert bool(spans) is still


def test_a_twitch_breaks_the_stillness():
    t, xyz, (a, b) = worn_off_worn(20.0)
    mid = int(20 * 60 * 25)  # 10 min into the table: a knock of 50 mg
    xyz[mid : mid + 5] += np.float32(0.05)
    room = _temperature(40.0, lambda t: np.where((t >= a) & (t < b), 20.0, 33.0))  # decides
    spans = nonwear_of(t, xyz, 25.0, temperature=room)
    assert len(spans) == 2 and all(sp.end_s - sp.start_s > 280 for sp in spans)


def _temperature(minutes: float, shape) -> Temperature:
    """One reading a second, quantised to 0.1 °C, from ``shape(t_s)``."""
    t = np.arange(0.0, minutes * 60.0, 1.0)
    return Temperature(t, np.round(shape(t) * 10) / 10)


def _cooling(a: float, b: float, rate: float, skin: float = 33.0, room: float = 20.0):
    """Skin temperature, then from ``a`` to ``b`` an exponential approach to the room whose mean
    rate over the first 5 min is ``rate`` °C/min (DETACH: 0.40 ± 0.17), then back."""
    from scipy.optimize import brentq

    tau = brentq(lambda x: (skin - room) * (1 - np.exp(-5.0 / x)) / 5.0 - rate, 0.01, 1e5)

    def shape(t):
        out = np.full(t.shape, skin)
        off = (t >= a) & (t < b)
        out[off] = room + (skin - room) * np.exp(-(t[off] - a) / 60.0 / tau)
        at_b = room + (skin - room) * np.exp(-(b - a) / 60.0 / tau)
        on = t >= b
        out[on] = skin - (skin - at_b) * np.exp(-(t[on] - b) / 60.0 / tau)
        return out

    return shape


@pytest.mark.parametrize("rate, off", [(0.09, False), (0.11, True), (0.25, True)])
def test_detach_start_rate_decides_a_short_removal(rate, off):
    # 8 min off the skin, fine sensor: the temperature decides, with the breath the table does not
    # show where the fall is slower than DETACH's -0.2 °C/min (its spread reaches below half of
    # that); under 0.1 °C/min the sensor is at skin temperature, worn.
    t, xyz, (a, b) = worn_off_worn(8.0)
    temp = _temperature(28.0, _cooling(a, b, rate))
    spans = nonwear_of(t, xyz, 25.0, temperature=temp)
    assert bool(spans) is off
    if off:
        # Still above 30 °C when put back on, and rewarming slowly (the gap is small): the breath
        # it did not show decides with the drop.
        assert "no_breathing" in spans[0].evidence and spans[0].stands == "always"
        assert ("temperature_drop" in spans[0].evidence) is (rate > 0.2)


@pytest.mark.parametrize("rate", [0.15, 0.25])
def test_a_cooling_limb_that_breathes_is_worn(rate):
    # A limb uncovered in a cold room cools like a short removal, but it breathes.
    t, xyz = still_limb(28.0)
    temp = _temperature(28.0, _cooling(600.0, 1080.0, rate))
    assert nonwear_of(t, xyz, 25.0, temperature=temp) == []


def test_a_warm_sensor_that_does_not_cool_is_worn_whatever_its_breath():
    # A coarse-looking still table signal, but at skin temperature all along: a still sleeper.
    t, xyz, _ = worn_off_worn(30.0)
    temp = _temperature(50.0, lambda t: 33.5 + 0.01 * np.sin(t / 600))
    assert nonwear_of(t, xyz, 25.0, temperature=temp) == []


@pytest.mark.parametrize("room, off", [(25.9, True), (26.1, False)])
def test_below_26_degrees_a_sensor_is_off_the_skin_whatever_its_rate(room, off):
    # Slow cooling (0.1 °C/min, under DETACH's start rate) but ending in the room: a long removal.
    t, xyz, (a, b) = worn_off_worn(90.0)
    temp = _temperature(110.0, lambda t: np.where((t >= a) & (t < b), room, 33.0))
    spans = nonwear_of(t, xyz, 25.0, temperature=temp)
    assert bool(spans) is off
    if off:
        assert "temperature_low" in spans[0].evidence


def test_a_missing_breath_is_evidence_only_where_the_night_shows_one():
    # The same table between two stretches of a still limb: where the limb's breath shows (a fine
    # sensor), the table misses it; where it does not (3.9 mg steps, no noise to dither them, a
    # limb lying between two steps), nothing tells the table from the limb: only the recording's
    # edges (the limb itself, here) and GGIR's hour could make it non-wear.
    t, xyz, (a, b) = worn_off_worn(20.0)
    spans = nonwear_of(t, xyz, 25.0)
    assert len(spans) == 1 and "no_breathing" in spans[0].evidence
    t, xyz, (a, b) = worn_off_worn(20.0, step_g=16 / 4096, noise_mg=0.1, breath_mg=0.5)
    spans = nonwear_of(t, xyz, 25.0)
    assert [sp.start_s for sp in spans] == [0.0, pytest.approx(b, abs=3.0)]  # the limb, at the edges
    assert all("recording_edge" in sp.evidence and "no_breathing" not in sp.evidence for sp in spans)


def test_a_coarse_sensor_dithered_by_its_noise_shows_breath():
    # The same steps with 3 mg of noise at 100 Hz: a second's mean resolves 0.3 mg.
    t, xyz = still_limb(30.0, fs=100.0, step_g=16 / 4096, noise_mg=3.0, breath_mg=1.5)
    assert nonwear_of(t, xyz, 100.0) == []


def test_an_hour_still_is_non_wear_unless_asleep_where_no_breath_can_show():
    t, xyz, _ = worn_off_worn(LONG_STILL_S / 60 + 1, step_g=16 / 4096, noise_mg=0.1, breath_mg=0.5)
    spans = nonwear_of(t, xyz, 25.0)
    assert len(spans) == 3 and "no_movement_60min" in spans[1].evidence and spans[1].stands == "unless_asleep"


class _Period:
    def __init__(self, onset, end, asleep):
        self.onset_s, self.end_s, self._asleep = onset, end, asleep

    def asleep_between(self, a, b):
        return self._asleep(a, b)


@pytest.mark.parametrize("share, kept", [(SLEEP_PERIOD_SHARE - 0.01, False), (SLEEP_PERIOD_SHARE + 0.01, True)])
def test_weak_non_wear_inside_the_sleep_period_is_sleep_below_75_percent(share, kept):
    period = _Period(0.0, 36000.0, lambda a, b: 0.9)
    span = NonwearSpan(1000.0, 1000.0 + share * 36000.0, ["no_movement", "no_breathing"], "unless_asleep")
    assert bool(keep_outside_sleep([span], [period])) is kept


def test_non_wear_in_an_awakening_stands_and_outside_the_period_too():
    asleep = lambda a, b: 0.1 if 8800 <= a <= 12200 else 0.95  # noqa: E731 - awake around 9100-12000
    period = _Period(3600.0, 30000.0, asleep)
    in_awakening = NonwearSpan(9100.0, 12000.0, ["no_movement", "no_breathing"], "unless_asleep")
    in_sleep = NonwearSpan(20000.0, 21000.0, ["no_movement", "no_breathing"], "unless_asleep")
    before = NonwearSpan(0.0, 1800.0, ["no_movement", "recording_edge"], "unless_asleep")
    temp = NonwearSpan(25000.0, 25600.0, ["no_movement", "temperature_drop"], "always")
    out = keep_outside_sleep([before, in_awakening, in_sleep, temp], [period])
    assert [(s.start_s, s.end_s) for s in out] == [(0.0, 1800.0), (9100.0, 12000.0), (25000.0, 25600.0)]
    assert "awake_around" in out[1].evidence


def test_white_noise_rarely_passes_for_breath():
    # The threshold is set for one false "breathing" in 1000 spans; over 300 tables of 5-30 min
    # at most a handful may pass (binomial: P(>4 | p = 0.001) < 1e-4 at the design rate).
    rng = np.random.default_rng(7)
    passed = 0
    for _ in range(300):
        k = int(rng.integers(5, 31))
        resid = rng.normal(size=(k, 60, 3))
        resid -= resid.mean(axis=1, keepdims=True)
        peak, threshold = breathing_peak(resid, np.ones((k, 60), bool))
        passed += peak >= threshold
    assert passed <= 4


@pytest.mark.parametrize("rotation_seed", [0, 1, 2])
def test_a_table_is_non_wear_in_any_orientation(rotation_seed):
    from scipy.spatial.transform import Rotation

    t, xyz, (a, b) = worn_off_worn(15.0)
    rot = Rotation.random(random_state=rotation_seed).as_matrix().astype(np.float32)
    spans = nonwear_of(t, xyz @ rot.T, 25.0)
    assert len(spans) == 1 and spans[0].start_s == pytest.approx(a, abs=3.0)
