"""The synthetic sensor's thermometer: DETACH's rates, the warming of sleep, device sampling."""

from __future__ import annotations

import numpy as np
import pytest

from hypnic.benchmarks.synth import simulate_night
from hypnic.benchmarks.synth_params import (
    alt_params,
    coarse_sensor,
    default_params,
    holdout_params,
    quiet_sleeper,
    robust_params,
    with_removals,
)
from hypnic.benchmarks.synth_temperature import (
    device_temperature,
    hold,
    reading_times,
    tau_for_rate,
)
from hypnic.benchmarks.synth_timeline import make_timeline

ALL_SETS = [default_params(), robust_params(), alt_params(), holdout_params()]


def test_every_parameter_set_describes_the_thermometer():
    fields = [f for f in default_params().__dataclass_fields__ if f.startswith("temp_")]
    assert len(fields) >= 10
    for p in ALL_SETS:
        assert 16.0 <= p.temp_room_c[0] < p.temp_room_c[1] <= 24.0  # a bedroom
        assert p.temp_off_rate == (0.40, 0.17) and p.temp_on_rate == (0.36, 0.21)  # DETACH
        assert 0.8 <= p.temp_sleep_rise_c[0] and p.temp_sleep_rise_c[1] <= 2.2
        assert p.temp_block_samples >= 1 and 0.0 < p.temp_lsb_c <= 0.3
    # The holdout set has values of its own.
    h, others = holdout_params(), ALL_SETS[:3]
    assert all(h.temp_block_samples != p.temp_block_samples for p in others)
    assert all(h.temp_lsb_c != p.temp_lsb_c for p in others)


def test_tau_for_rate_gives_the_mean_rate_over_five_minutes():
    for rate, delta in ((0.4, 10.0), (0.17, 6.0), (0.9, 12.0)):
        tau = tau_for_rate(rate, delta)
        assert delta * (1 - np.exp(-300.0 / tau)) / 5.0 == pytest.approx(rate)
    # A rate the sensor cannot keep up for 5 min covers 90 % of the way in them.
    tau = tau_for_rate(2.0, 5.0)
    assert 1 - np.exp(-300.0 / tau) == pytest.approx(0.9)


def test_readings_are_per_block_quantised_and_deterministic():
    for p, fs in ((default_params(), 100.0), (robust_params(), 12.5), (holdout_params(), 50.0)):
        night = simulate_night(4, fs, 1.0, "wrist", params=p)
        t, v = night.temperature
        np.testing.assert_allclose(t, reading_times(3600.0, fs, p.temp_block_samples))
        np.testing.assert_allclose(np.diff(t), p.temp_block_samples / fs)
        k = v / p.temp_lsb_c
        np.testing.assert_allclose(k, np.round(k), atol=1e-4)
        again = simulate_night(4, fs, 1.0, "wrist", params=p).temperature
        np.testing.assert_array_equal(v, again[1])
    # GENEActiv-like: one reading per 300-sample page.
    assert robust_params().temp_block_samples == 300


def test_worn_sensor_warms_around_sleep_onset_and_cools_after_waking():
    rises = []
    for seed in range(12):
        night = simulate_night(seed, 12.5, 7.0, "wrist")
        t, v = night.temperature
        tr = night.truth
        on, end = tr["sleep_onset_s"], tr["sleep_end_s"]
        evening = v[t < min(600.0, on / 2)].mean()
        asleep = v[(t > on + 3600.0) & (t < end)].mean()
        rises.append(asleep - evening)
        assert 26.0 < evening < 34.0 and 27.0 < asleep < 36.0
        assert tr["temperature"]["room_c"] < evening
        if t[-1] - end > 1200.0:
            assert v[t > end + 1200.0].mean() < asleep
    rises = np.array(rises)
    assert np.all(rises > 0.2) and 0.8 < np.median(rises) < 2.2  # Kräuchi: roughly 1-2 degC


def test_detach_rates_off_and_back_on_the_skin():
    """Noise-free: the mean rates over the first 5 min off the skin and after donning are the
    drawn ones (unless that asks for more than 90 % of the way); the drawn rates follow DETACH's
    -0.40 +- 0.17 and +0.36 +- 0.21 degC/min."""
    p = with_removals(default_params())
    off_rates, on_rates, checked_off, checked_on = [], [], 0, 0
    for seed in range(40):
        tl = make_timeline(seed, 6.5, p)
        th = tl.thermal
        spans = [[sp.start_s, sp.end_s] for sp in tl.nonwear]
        off_rates += th.off_rate
        on_rates += th.on_rate
        for k, (s, e) in enumerate(spans):
            t = np.array([s - 1e-6, s + 300.0, e, e + 300.0])
            v = device_temperature(tl, "wrist", t, spans)
            if s > 0.0 and e - s >= 300.0:
                share = 5.0 * th.off_rate[k] / (v[0] - th.room_c)
                expected = th.off_rate[k] if share <= 0.9 else 0.9 * (v[0] - th.room_c) / 5.0
                assert (v[0] - v[1]) / 5.0 == pytest.approx(expected, rel=1e-3)
                checked_off += 1
            if e < tl.duration_s - 300.0:
                skin = th.skin_c("wrist", np.array([e, e + 300.0]))
                gap = skin[0] - v[2]
                assert gap > 0.0
                expected = min(th.on_rate[k], 0.9 * gap / 5.0)
                drift = (skin[1] - skin[0]) / 5.0  # plus whatever the skin did meanwhile
                assert (v[3] - v[2]) / 5.0 == pytest.approx(expected + drift, abs=1e-6)
                checked_on += 1
    off_rates, on_rates = np.array(off_rates), np.array(on_rates)
    assert len(off_rates) > 40 and checked_off > 20 and checked_on > 20
    assert abs(off_rates.mean() - 0.40) < 0.06 and 0.1 < off_rates.std() < 0.22
    assert abs(on_rates.mean() - 0.36) < 0.07 and 0.1 < on_rates.std() < 0.26
    assert off_rates.min() >= 0.08 and on_rates.min() >= 0.08


def test_off_the_skin_the_sensor_approaches_the_room():
    p = with_removals(default_params())
    seen = 0
    for seed in range(20):
        night = simulate_night(seed, 12.5, 6.5, "ankle", params=p, nonwear=True)
        t, v = night.temperature
        room = night.truth["temperature"]["room_c"]
        for s, e in night.truth["nonwear"]:
            inside = v[(t >= s) & (t < e)]
            if s == 0.0:  # put on after the recording started: at room temperature
                assert abs(inside.mean() - room) < 0.5
            elif e - s > 30 * 60:
                assert inside[-1] < inside[0] - 3.0 and inside[-1] > room - 0.5
            worn_after = v[(t > e + 90 * 60) & (t < e + 100 * 60)]
            if len(worn_after) and e - s > 20 * 60:
                assert worn_after.mean() > inside[-1] + 2.0  # warmed up again
            seen += 1
    assert seen > 20
    # Without non-wear the same night never leaves the skin.
    night = simulate_night(5, 25.0, 6.5, "ankle", params=p)
    assert night.temperature[1].min() > 26.0


def test_gaps_drop_readings_and_the_stream_carries_them_when_asked():
    night = simulate_night(10, 25.0, 1.0, "ankle", gaps=True)
    t, v = night.temperature
    for s, e in night.truth["gaps"]:
        assert not np.any((t >= s) & (t < e))
    plain = next(iter(night.stream()))
    assert plain.aux == {}
    chunks = list(night.stream(chunk_size=10_000, temperature=True))
    assert len(chunks) > 3
    tt = np.concatenate([c.aux["temperature"][0] for c in chunks if "temperature" in c.aux])
    vv = np.concatenate([c.aux["temperature"][1] for c in chunks if "temperature" in c.aux])
    np.testing.assert_array_equal(tt, t)
    np.testing.assert_array_equal(vv, v)


def test_two_placements_share_the_thermal_night():
    p = with_removals(default_params())
    w = simulate_night(3, 25.0, 6.5, "wrist", params=p, nonwear=True)
    a = simulate_night(3, 50.0, 6.5, "left_ankle", params=p, nonwear=True)
    assert w.truth["nonwear"] == a.truth["nonwear"]
    assert w.truth["temperature"]["room_c"] == a.truth["temperature"]["room_c"]
    tw, ta = w.truth["temperature"], a.truth["temperature"]
    assert tw["off_rate_c_per_min"] == ta["off_rate_c_per_min"]
    assert tw["reading_period_s"] == 2 * ta["reading_period_s"]


def test_hold_gives_each_row_the_latest_reading():
    rows = np.array([-1.0, 0.0, 0.5, 1.0, 2.5])
    out = hold(rows, np.array([0.0, 1.0, 2.0]), np.array([30.0, 31.0, 32.0]))
    np.testing.assert_array_equal(out[1:], [30.0, 30.0, 31.0, 32.0])
    assert np.isnan(out[0])


def test_coarse_quiet_sleeper():
    p = quiet_sleeper(coarse_sensor(default_params()))
    assert p.name == "default+coarse+quiet"
    assert p.lsb_g == pytest.approx(0.0039, abs=1e-4) and p.range_g == 8.0
    assert p.breath_amp_mg == (0.5, 1.5) and p.turn_per_h[1] <= 4.0
    night = simulate_night(2, 12.5, 2.0, "wrist", params=p)
    k = night.xyz / p.lsb_g
    np.testing.assert_array_equal(k, np.round(k))
    assert 45.0 <= night.truth["noise_density_ug"] <= 90.0
    # Quiet: fewer turn-overs than the default nights of the same seeds.
    def turns(params):
        return sum(
            ev.kind == "turn_over" for s in range(10) for ev in make_timeline(s, 7.0, params).events
        )

    quiet, base = turns(p), turns(default_params())
    assert quiet < 0.6 * base
