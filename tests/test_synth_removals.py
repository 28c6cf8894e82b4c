"""Removals of the sensor where people take it off, and the bench conditions built on them."""

from __future__ import annotations

import numpy as np
import pytest

from hypnic.benchmarks.accuracy import REMOVAL_CONDITIONS, grid, spec_params
from hypnic.benchmarks.synth import simulate_night
from hypnic.benchmarks.synth_params import (
    default_params,
    holdout_params,
    robust_params,
    with_removals,
)
from hypnic.benchmarks.synth_timeline import make_timeline


@pytest.fixture(scope="module")
def removal_nights():
    p = with_removals(default_params())
    return [make_timeline(seed, 6.5, p) for seed in range(60)]


def test_removals_are_5_to_120_min_where_people_take_a_sensor_off(removal_nights):
    durations, where = [], []
    for tl in removal_nights:
        assert 1 <= len(tl.nonwear) <= 3
        for sp in tl.nonwear:
            d = (sp.end_s - sp.start_s) / 60.0
            durations.append(d)
            where.append(sp.where)
            if sp.where == "start":
                assert sp.start_s == 0.0
            if sp.where in ("start", "evening"):
                assert sp.end_s + 5 * 60.0 <= tl.sleep_onset_s  # put on, then falls asleep
            elif sp.where == "end":
                assert sp.end_s == tl.duration_s and tl.sleep_end_s + 60.0 <= sp.start_s
            else:  # in the night: inside an awakening, awake for minutes on each side
                assert sp.where == "night"
                assert tl.sleep_onset_s < sp.start_s and sp.end_s < tl.sleep_end_s
                bout = [b for b in tl.wake_bouts if b[0] <= sp.start_s and sp.end_s <= b[1]]
                assert len(bout) == 1
                assert sp.start_s - bout[0][0] >= 110.0 and bout[0][1] - sp.end_s >= 110.0
        spans = sorted((sp.start_s, sp.end_s) for sp in tl.nonwear)
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:]))
    durations = np.array(durations)
    assert durations.min() >= 5.0 and durations.max() <= 120.0
    # log-uniform over 5-120 min: median near sqrt(5 * 120) = 24.5 min
    assert 14.0 < np.median(durations) < 40.0 and (durations > 60).mean() < 0.35
    assert set(where) == {"start", "evening", "night", "end"}


def test_nobody_takes_a_sensor_off_asleep(removal_nights):
    for tl in removal_nights:
        for sp in tl.nonwear:
            for t in np.linspace(sp.start_s - 100.0, sp.end_s + 100.0, 50):
                if 0 <= t < tl.duration_s:
                    asleep = tl.sleep_onset_s <= t < tl.sleep_end_s and not any(
                        a <= t < b for a, b in tl.wake_bouts
                    )
                    assert not asleep


def test_getting_up_and_lying_down_move_the_limbs_around_a_removal(removal_nights):
    for tl in removal_nights[:20]:
        for sp in tl.nonwear:
            if sp.start_s > 0:
                near = [ev.kind for ev in tl.events if sp.start_s - 250 < ev.onset_s < sp.start_s]
                assert "turn_over" in near
            if sp.end_s < tl.duration_s:
                near = [ev.kind for ev in tl.events if sp.end_s < ev.onset_s < sp.end_s + 250]
                assert "turn_over" in near


def test_on_the_nightstand_the_device_lies_level_on_any_face(removal_nights):
    faces = set()
    for tl in removal_nights:
        for sp in tl.nonwear:
            up = sp.table_up
            assert np.linalg.norm(up) == pytest.approx(1.0)
            axis = int(np.argmax(np.abs(up)))
            tilt = np.degrees(np.arccos(abs(up[axis])))
            assert tilt <= default_params().removal_tilt_deg + 1e-6
            faces.add((axis, np.sign(up[axis])))
    assert len(faces) == 6


def test_the_removals_model_changes_only_its_own_nights():
    p = default_params()
    for seed in (0, 7):
        plain = make_timeline(seed, 6.5, p)
        again = make_timeline(seed, 6.5, p)
        assert [sp.where for sp in plain.nonwear] == ["nightstand"] * len(plain.nonwear)
        assert [e.onset_s for e in plain.events] == [e.onset_s for e in again.events]
    # The variant keeps the set's name (and so its seeds' streams).
    assert with_removals(p).name == "default" and with_removals(p).nonwear_model == "removals"
    with pytest.raises(ValueError):
        make_timeline(1, 1.0, p.replace(nonwear_model="drawer"))


@pytest.mark.parametrize("params", [robust_params(), holdout_params()], ids=["robust", "holdout"])
def test_other_sets_have_removals_too(params):
    p = with_removals(params)
    n = sum(len(make_timeline(seed, 6.5, p).nonwear) for seed in range(10))
    assert n >= 10


def test_short_nights_stay_well_formed():
    p = with_removals(default_params())
    for seed in range(10):
        for hours in (0.05, 0.3, 1.0):
            tl = make_timeline(seed, hours, p)
            T = hours * 3600.0
            assert 0.0 < tl.sleep_onset_s < tl.sleep_end_s <= T
            for sp in tl.nonwear:
                assert 0.0 <= sp.start_s < sp.end_s <= T
            night = simulate_night(seed, 12.5, hours, "wrist", params=p, nonwear=True)
            assert len(night.temperature[0]) > 0


def test_the_new_conditions_have_enough_removals_to_measure_recall():
    for cond in REMOVAL_CONDITIONS:
        specs = grid(6, [cond])
        with_nonwear = [s for s in specs if s.nonwear]
        assert len(with_nonwear) >= len(specs) / 2
        assert all(s.removals for s in specs)
        assert all(s.temperature == (cond != "coarse_notemp") for s in specs)
        spans = sum(
            len(make_timeline(s.seed, s.hours, spec_params(s)).nonwear) for s in with_nonwear
        )
        assert spans >= 20
    # coarse and coarse_notemp are the same nights.
    a, b = grid(2, ["coarse"]), grid(2, ["coarse_notemp"])
    strip = [(s.seed, s.fs, s.placement, s.noise_ug, s.nonwear, s.gaps) for s in a]
    assert strip == [(s.seed, s.fs, s.placement, s.noise_ug, s.nonwear, s.gaps) for s in b]
    assert spec_params(a[0]) == spec_params(b[0])
    assert spec_params(a[0]).lsb_g == pytest.approx(16.0 / 4096.0)
    assert spec_params(grid(1, ["temperature"])[0]).name == "default"
    # The other conditions take the sensor off as people do too (on their non-wear nights), hand
    # no temperature over and keep their sensor.
    for s in grid(3, ["base", "robust", "holdout", "noise300"]):
        assert s.removals == s.nonwear and not (s.quiet_coarse or s.temperature)
