"""The synthetic night's timeline: determinism, independence from the sensor, WASM series."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.benchmarks.synth import simulate_night
from hypnic.benchmarks.synth_params import default_params, robust_params
from hypnic.benchmarks.synth_timeline import _Occupancy, make_timeline

LABELS = {"hypnic_jerk", "plm", "lm", "large_movement", "other"}
KINDS = {
    "hypnic_jerk",
    "leg_movement",
    "turn_over",
    "arousal_turn_over",
    "foot_tremor",
    "tremor",
    "twitch",
    "knock",
    "fidget",
}
LIMBS = {"body", "left_leg", "right_leg", "both_legs", "arm", "sensor"}
TIMELINE_KEYS = ("onset_s", "duration_s", "label", "kind", "limb", "amplitude_g", "series")


def _timeline_view(truth):
    return [tuple(e[k] for k in TIMELINE_KEYS) for e in truth["events"]]


def test_same_seed_same_night():
    a = simulate_night(11, 50.0, 0.5, "ankle", gaps=True, nonwear=True, rotation="random")
    b = simulate_night(11, 50.0, 0.5, "ankle", gaps=True, nonwear=True, rotation="random")
    np.testing.assert_array_equal(a.t, b.t)
    np.testing.assert_array_equal(a.xyz, b.xyz)
    assert a.truth == b.truth
    c = simulate_night(12, 50.0, 0.5, "ankle")
    assert _timeline_view(c.truth) != _timeline_view(a.truth)


def test_timeline_does_not_depend_on_rate_or_placement():
    views = []
    for fs, placement in (
        (12.5, "wrist"),
        (100.0, "ankle"),
        (400.0, "left_ankle"),
        (25.0, "right_ankle"),
    ):
        night = simulate_night(4, fs, 0.75, placement)
        views.append(
            (_timeline_view(night.truth), night.truth["sleep_onset_s"], night.truth["sleep_end_s"])
        )
    assert all(v == views[0] for v in views[1:])


def test_ankle_is_the_right_ankle():
    a = simulate_night(6, 25.0, 0.5, "ankle")
    r = simulate_night(6, 25.0, 0.5, "right_ankle")
    np.testing.assert_array_equal(a.xyz, r.xyz)
    assert [e["visible"] for e in a.truth["events"]] == [e["visible"] for e in r.truth["events"]]


def test_truth_is_json_and_complete():
    night = simulate_night(2, 25.0, 1.0, "wrist", gaps=True, nonwear=True)
    truth = json.loads(json.dumps(night.truth))
    for key in (
        "seed",
        "fs",
        "hours",
        "placement",
        "noise_density_ug",
        "sleep_onset_s",
        "sleep_end_s",
        "gaps",
        "nonwear",
        "events",
    ):
        assert key in truth
    onsets = [e["onset_s"] for e in truth["events"]]
    assert onsets == sorted(onsets)
    for e in truth["events"]:
        assert e["label"] in LABELS and e["kind"] in KINDS and e["limb"] in LIMBS
        assert isinstance(e["visible"], bool)
        assert (e["series"] is not None) == (e["label"] == "plm")
    assert night.info.source == "synthetic seed 2" and night.info.placement == "wrist"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), hours=st.floats(0.005, 9.0))
def test_any_night_is_well_formed(seed, hours):
    tl = make_timeline(seed, hours, default_params())
    T = hours * 3600.0
    assert 0.0 < tl.sleep_onset_s < tl.sleep_end_s <= T
    onsets = [ev.onset_s for ev in tl.events]
    assert onsets == sorted(onsets)
    assert all(0.0 <= ev.onset_s and ev.onset_s + ev.duration_s <= T for ev in tl.events)
    # Events never overlap (margins are what keep the truth unambiguous).
    ends = np.array([ev.onset_s + ev.duration_s for ev in tl.events])
    assert np.all(np.array(onsets[1:]) >= ends[:-1])
    # Posture knots are in time order and unit length.
    for kt, kv in tl.posture.values():
        assert np.all(np.diff(kt) >= 0)
        np.testing.assert_allclose(np.linalg.norm(kv, axis=1), 1.0, atol=1e-9)


def _wasm_runs(lms):
    """Slow reference: WASM 2016 runs of >= 4 LMs with onset-to-onset IMI 10-90 s (DOMAIN §2.2)."""
    runs, cur = [], [lms[0]] if lms else []
    for prev, ev in zip(lms, lms[1:], strict=False):
        if 10.0 <= ev["onset_s"] - prev["onset_s"] <= 90.0:
            cur.append(ev)
        else:
            runs.append(cur)
            cur = [ev]
    runs.append(cur)
    return [r for r in runs if len(r) >= 4]


@pytest.mark.parametrize("params", [default_params(), robust_params()], ids=["default", "robust"])
def test_plm_series_obey_wasm(params):
    n_series = 0
    for seed in range(12):
        tl = make_timeline(seed, 7.0, params)
        lms = [
            {
                "onset_s": ev.onset_s,
                "duration_s": ev.duration_s,
                "series": ev.series,
                "label": ev.label,
            }
            for ev in tl.events
            if ev.kind == "leg_movement"
        ]
        for ev in lms:
            assert 0.5 <= ev["duration_s"] <= 10.0
        by_series: dict[int, list] = {}
        for ev in lms:
            if ev["series"] is not None:
                by_series.setdefault(ev["series"], []).append(ev)
        for series in by_series.values():
            assert len(series) >= 4
            imi = np.diff([e["onset_s"] for e in series])
            assert np.all((imi >= 10.0) & (imi <= 90.0))
            assert all(e["label"] == "plm" for e in series)
        # Scoring every LM of the night with WASM finds exactly the generated series.
        runs = _wasm_runs(lms)
        assert sorted(tuple(e["onset_s"] for e in r) for r in runs) == sorted(
            tuple(e["onset_s"] for e in s) for s in by_series.values()
        )
        assert sorted(by_series) == list(range(1, len(by_series) + 1))
        n_series += len(by_series)
        # Other sustained movements keep out of series (a non-CLM would break them, WASM).
        for ev in tl.events:
            if ev.kind != "leg_movement" and ev.duration_s >= 0.5:
                for s in by_series.values():
                    assert not (s[0]["onset_s"] - 90 < ev.onset_s < s[-1]["onset_s"] + 90)
    assert n_series > 5  # the grid does contain PLM nights


def test_night_statistics_follow_the_literature():
    onsets, jerks, near_onset, plm_nights, turn_durations = [], [], 0, 0, []
    for seed in range(30):
        tl = make_timeline(seed, 7.0, default_params())
        onsets.append(tl.sleep_onset_s / 60.0)
        js = [ev for ev in tl.events if ev.kind == "hypnic_jerk"]
        jerks.append(len(js))
        near_onset += sum(-300.0 <= ev.onset_s - tl.sleep_onset_s <= 900.0 for ev in js)
        plm_nights += any(ev.label == "plm" for ev in tl.events)
        turn_durations += [ev.duration_s for ev in tl.events if ev.kind == "turn_over"]
    onsets = np.array(onsets)
    assert np.mean((onsets >= 10) & (onsets <= 60)) > 0.7 and onsets.max() <= 120
    assert set(jerks) <= {1, 2, 3, 4}
    assert near_onset / sum(jerks) > 0.7
    assert 5 <= plm_nights <= 35  # many nights without PLMS, some with
    assert 3.0 <= min(turn_durations) and max(turn_durations) <= 45.0
    assert 8.0 < np.median(turn_durations) < 17.0  # healthy median 12.4 s (DOMAIN §1.3)


def test_robust_params_differ():
    d, r = default_params(), robust_params()
    assert d != r and r.name == "robust"
    assert d.jerk_amp_g != r.jerk_amp_g and d.turn_dur_median_s != r.turn_dur_median_s
    assert d.posture_habits != r.posture_habits and d.noise_density_ug != r.noise_density_ug


@settings(max_examples=60, deadline=None)
@given(
    spans=st.lists(st.tuples(st.floats(0, 1000), st.floats(0.1, 20)), max_size=12),
    probe=st.tuples(st.floats(0, 1000), st.floats(0.1, 20)),
    margin=st.floats(0, 30),
)
def test_occupancy_matches_brute_force(spans, probe, margin):
    occ, kept = _Occupancy(), []
    for s, d in spans:
        if all(s + d <= a or s >= b for a, b in kept):  # the generator only adds disjoint spans
            occ.add(s, s + d)
            kept.append((s, s + d))
    s, e = probe[0], probe[0] + probe[1]
    expected = all(e + margin <= a or s >= b + margin for a, b in kept)
    assert occ.free(s, e, margin) == expected


def test_bad_arguments():
    with pytest.raises(ValueError):
        simulate_night(1, 25.0, 0.1, "hip")
    with pytest.raises(ValueError):
        simulate_night(-1, 25.0, 0.1)
    with pytest.raises(ValueError):
        simulate_night(1, 25.0, 0.0)
    with pytest.raises(ValueError):
        simulate_night(1, 0.0, 0.1)
    with pytest.raises(ValueError):
        simulate_night(1, 25.0, 0.1, rotation=np.eye(3) * 2)
