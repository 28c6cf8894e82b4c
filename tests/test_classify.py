"""Classifier rules at their edges: posture change, repositioning, transients beside turn-overs."""

from __future__ import annotations

import numpy as np
import pytest

from hypnic.detector import classify
from hypnic.detector.bursts import EVENT_DTYPE


def posture_grid(minutes: float, changes: list[tuple[float, float]]) -> dict[str, np.ndarray]:
    """A 1-s grid of mean acceleration: lying still, tilted by ``deg`` about x at each ``t``."""
    t = np.arange(int(minutes * 60), dtype=np.float64)
    tilt = np.zeros_like(t)
    for at, deg in changes:
        tilt[t >= at] += deg
    a = np.radians(tilt)
    return {"t_s": t, "x": np.zeros_like(t), "y": np.sin(a), "z": np.cos(a)}


def bursts(rows: list[tuple[float, float, float]]) -> np.ndarray:
    """Bursts from (onset, duration, energy spread) with a peak of 0.2 g."""
    ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, (on, dur, spread) in enumerate(rows):
        ev[i]["onset_s"], ev[i]["duration_s"], ev[i]["offset_s"] = on, dur, on + dur
        ev[i]["peak_s"], ev[i]["peak_g"], ev[i]["spread_s"] = on + 0.05, 0.2, spread
        ev[i]["centroid_s"] = on + dur / 2
    return ev


def test_a_jerk_followed_by_an_arousal_turn_over_is_not_itself_a_turn_over():
    # jerk at 300 s (0.3 s), turn-over 1.5 s after its end, lasting 6 s and turning 40°
    grid = posture_grid(10, [(303.0, 40.0)])
    ev = bursts([(300.0, 0.3, 0.05), (301.8, 6.0, 1.5)])
    cls = classify.classify_bursts(ev, grid, 1.0, "wrist")
    assert cls.label[1] == "large_movement"
    assert cls.label[0] != "large_movement" and cls.transient[0]


def test_a_long_movement_is_measured_across_its_neighbours():
    # two parts of one turn-over 1.5 s apart: each part's posture window spans the other
    grid = posture_grid(10, [(303.0, 40.0)])
    ev = bursts([(300.0, 2.0, 0.5), (303.5, 3.0, 0.8)])
    cls = classify.classify_bursts(ev, grid, 1.0, "wrist")
    assert list(cls.label) == ["large_movement", "large_movement"]


@pytest.mark.parametrize("deg, label", [(0.9, "lm"), (1.1, "other"), (9.9, "other"), (10.1, "large_movement")])
def test_a_lasting_tilt_of_1_degree_makes_a_leg_movement_a_repositioning(deg, label):
    grid = posture_grid(10, [(301.0, deg)])
    ev = bursts([(300.0, 2.0, 0.5)])
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle")
    assert cls.label[0] == label


def test_a_leg_movement_that_returns_to_its_posture_is_a_leg_movement():
    grid = posture_grid(10, [(300.5, 15.0), (301.5, -15.0)])  # dorsiflexion and back
    ev = bursts([(300.0, 2.0, 0.5)])
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle")
    assert cls.label[0] == "lm"


@pytest.mark.parametrize("gap_s, events", [(4.9, 1), (5.1, 2)])
def test_fragments_of_one_turn_over_are_one_event(gap_s, events):
    from hypnic.detector.night import merge_events

    second = 302.0 + gap_s
    grid = posture_grid(10, [(301.0, 20.0), (second + 1.0, 20.0)])  # each part turns 20°
    ev = bursts([(300.0, 2.0, 0.5), (second, 3.0, 0.8)])
    cls = classify.classify_bursts(ev, grid, 1.0, "wrist")
    assert list(cls.label) == ["large_movement", "large_movement"]
    assert len(merge_events(ev, cls)) == events


def test_turn_over_fragments_are_not_joined_across_missing_samples():
    from hypnic.detector.night import merge_events

    grid = posture_grid(10, [(301.0, 20.0), (305.0, 20.0)])
    ev = bursts([(300.0, 2.0, 0.5), (304.0, 3.0, 0.8)])
    joined = classify.classify_bursts(ev, grid, 1.0, "wrist")
    assert len(merge_events(ev, joined)) == 1
    cut = classify.classify_bursts(ev, grid, 1.0, "wrist", gaps=[[302.4, 303.6]])  # 1.2 s lost
    assert len(merge_events(ev, cut)) == 2


def _jerk_among_twitches() -> np.ndarray:
    """One large transient (0.6 g, 0.45 s, ringing) among twenty small ones (0.02 g, 0.15 s)."""
    rows = [(100.0 + 20 * k, 0.15, 0.03) for k in range(20)] + [(330.0, 0.45, 0.06)]
    ev = bursts(sorted(rows))
    big = ev["duration_s"] > 0.3
    ev["peak_g"] = np.where(big, 0.6, 0.02)
    ev["rise_time_s"] = np.where(big, 0.06, 0.03)
    ev["energy_g2s"] = ev["peak_g"] ** 2 * np.where(big, 0.12, 0.03)
    ev["noise_g"] = 0.002
    return ev


@pytest.mark.parametrize(
    "period, jerks",
    [
        ((300.0, 900.0), 1),
        ((929.0, 1500.0), 1),  # the jerk (330 s) 9 min 59 s before the onset: falling asleep
        ((931.0, 1500.0), 0),  # 10 min 1 s before: awake
        ((931.0, 1500.0, 700.0), 1),  # ... unless the onset may have been as early as 700 s
        (None, 0),
        ((0.0, 320.0), 0),
        ((0.0, 330.0), 1),
    ],
)
def test_hypnic_jerks_are_found_from_10_min_before_the_earliest_onset_to_the_final_awakening(period, jerks):
    # Sleep starts happen while falling asleep or asleep: not long before the earliest plausible
    # onset, not after the final awakening, not in a night without a sleep period.
    ev = _jerk_among_twitches()
    cls = classify.classify_bursts(ev, posture_grid(30, []), 1.0, "wrist")
    s0, s1, *earliest = period if period else (None, None)
    classify.finalize_labels(cls, ev, [(0.0, 1800.0, s0, s1, *earliest)])
    assert int(np.sum(cls.label == "hypnic_jerk")) == jerks


@pytest.mark.parametrize("peak_g, label", [(0.1, "large_movement"), (0.6, "hypnic_jerk")])
def test_a_transient_inside_a_turn_over_is_a_flicker_of_it_unless_it_is_stronger(peak_g, label):
    # Two pieces of one turn-over 3 s apart with a brief burst between them: a dip and rise of
    # the same movement, unless the burst is stronger than the turn-over (a jerk, then the
    # arousal turn-over it causes).
    ev = _jerk_among_twitches()
    rows = [(1000.0, 4.0, 1.0), (1005.5, 0.3, 0.04), (1007.0, 5.0, 1.2)]
    extra = bursts(rows)
    extra["peak_g"] = [0.3, peak_g, 0.3]
    extra["rise_time_s"], extra["noise_g"] = 0.06, 0.002
    extra["energy_g2s"] = extra["peak_g"] ** 2 * [2.0, 0.12, 2.0]
    ev = np.sort(np.concatenate([ev, extra]), order="onset_s")
    cls = classify.classify_bursts(ev, posture_grid(30, [(1003.0, 30.0), (1010.0, 30.0)]), 1.0, "wrist")
    classify.finalize_labels(cls, ev, [(0.0, 1800.0, 900.0, 1700.0)])
    i = int(np.flatnonzero(ev["onset_s"] == 1005.5)[0])
    assert cls.label[i] == label


@pytest.mark.parametrize("before_s, label", [(10.1, "plm"), (9.9, "other")])
def test_a_brief_leg_movement_in_the_rhythm_of_a_series_is_one_of_its_plms(before_s, label):
    # Five 2-s LMs 40 s apart form a series; a 0.6-s burst with the spread of a transient sits
    # between the 3rd and 4th. 10-90 s from both neighbours (WASM IMI) it beats with the series.
    rows = [(300.0 + 40 * k, 2.0, 0.5) for k in range(5)] + [(380.0 + before_s, 0.6, 0.1)]
    ev = bursts(sorted(rows))
    cls = classify.classify_bursts(ev, posture_grid(20, []), 1.0, "ankle")
    i = int(np.flatnonzero(ev["duration_s"] == 0.6)[0])
    assert cls.label[i] == label
    assert bool(cls.series[i] == cls.series[i - 1] > 0) == (label == "plm")
    assert bool(cls.transient[i]) == (label != "plm")


@pytest.mark.parametrize("gap_s, scored", [(2.9, 1), (3.1, 2)])
def test_the_movement_out_and_back_of_one_leg_movement_is_one_lm(gap_s, scored):
    # dorsiflexion 1 s, held (no acceleration), return 1 s: two bursts, one LM
    grid = posture_grid(10, [])
    ev = bursts([(300.0, 1.0, 0.28), (301.0 + gap_s, 1.0, 0.28)])
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle")
    assert list(cls.label) == ["lm", "lm"]
    assert cls.legs.onset_s.size == scored


def test_a_held_leg_movement_is_not_joined_across_a_gap():
    grid = posture_grid(10, [])
    ev = bursts([(300.0, 1.0, 0.28), (303.0, 1.0, 0.28)])
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle", gaps=[[301.5, 302.5]])
    assert cls.legs.onset_s.size == 2


@pytest.mark.parametrize(
    "company, label",
    [
        ([], "lm"),
        (["turn"], "lm"),  # one turn-over nearby: sleep has those
        (["leg", "leg"], "lm"),  # legs alone: a thinned periodic run in sleep
        (["turn", "leg"], "other"),  # the body and the legs restless together: a wake bout
        (["turn", "turn"], "other"),
    ],
)
def test_a_leg_movement_amid_body_and_leg_movements_is_wake(company, label):
    changes, rows = [], [(1000.0, 2.0, 0.5)]
    for k, kind in enumerate(company):
        at = 1000.0 + 30.0 * (k + 1) * (-1) ** k  # within ±2 min
        rows.append((at, 4.0, 1.0))
        if kind == "turn":
            changes.append((at + 2.0, 30.0))
    grid = posture_grid(40, changes)
    ev = bursts(sorted(rows))
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle")
    classify.finalize_labels(cls, ev, [(0.0, 2400.0, 100.0, 2300.0)])
    i = int(np.flatnonzero(ev["onset_s"] == 1000.0)[0])
    assert cls.label[i] == label


@pytest.mark.parametrize("gap_s, label", [(2.5, "lm"), (3.5, "other")])
def test_the_movement_out_and_back_of_one_leg_movement_is_measured_as_a_pair(gap_s, label):
    # A weak LM arrives in two pieces: out (tilt 6°, held) and back. Alone each piece leaves a
    # lasting tilt; across the pair the leg returns. Pieces further apart than the 3-s hold are
    # two repositionings.
    grid = posture_grid(10, [(301.0, 6.0), (302.0 + gap_s, -6.0)])
    ev = bursts([(300.0, 1.5, 0.4), (301.5 + gap_s, 1.5, 0.4)])
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle")
    assert cls.orientation_change_deg[0] > 2 * classify.REPOSITION_DEG  # each piece alone
    assert set(cls.label) == {label}


def test_two_pieces_that_each_settle_further_stay_repositionings():
    grid = posture_grid(10, [(301.0, 3.0), (303.5, 3.0)])  # 3° and 3° more: no return
    ev = bursts([(300.0, 1.5, 0.4), (303.0, 1.5, 0.4)])
    cls = classify.classify_bursts(ev, grid, 1.0, "ankle")
    assert list(cls.label) == ["other", "other"]
