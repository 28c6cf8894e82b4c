"""Two sensors of one night: bilateral legs, whole-body jerks, one events table (detector.two_sensors,
hypnic.two_sensors)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.detector import classify, plm, summary, vocabulary
from hypnic.detector import two_sensors as ts
from hypnic.detector.alignment import ClockMap
from hypnic.detector.bursts import EPOCH_DTYPE, EVENT_DTYPE
from hypnic.detector.epochs import regular_grid
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.results import CONTRACT_COLUMNS, Event, Night, NightSummary
from hypnic.recordings.errors import InputError

NIGHT_S = 4000.0
ASLEEP = [(0.0, NIGHT_S, 0.0, NIGHT_S)]  # one night, asleep throughout


def flat_grid(duration_s: float = NIGHT_S) -> dict[str, np.ndarray]:
    """A still sensor lying flat: posture never changes, so nothing is a turn-over by tilt."""
    ep = np.zeros(int(duration_s), dtype=EPOCH_DTYPE)
    ep["t_s"] = np.arange(ep.size, dtype=np.float64)
    ep["n"] = 25
    ep["z"] = 1.0
    ep["rms_g"] = ep["noise_g"] = ep["max_g"] = 0.002
    return regular_grid(ep, 1.0, duration_s)


def bursts(*rows: tuple[float, float, str]) -> np.ndarray:
    """Bursts from (onset, duration, kind): kind 'jerk' (a sharp transient), 'weak' (a small
    transient), 'leg' (a 0.5-10 s movement) or 'turn' (longer than any leg movement)."""
    shape = {  # spread_s, rise_time_s, peak_g
        "jerk": (0.04, 0.04, 0.8),
        "weak": (0.05, 0.1, 0.03),
        "leg": (0.6, 0.4, 0.1),
        "turn": (5.0, 3.0, 0.3),
    }
    ev = np.zeros(len(rows), dtype=EVENT_DTYPE)
    for i, (on, dur, kind) in enumerate(sorted(rows)):
        spread, rise, peak = shape[kind]
        ev[i] = (on, on + dur, dur, on + rise, peak, peak * 20, rise, peak**2 * dur, dur / 2, spread, 0.002)
    return ev


def sensor(name, placement, ev, clock=ClockMap()):
    return ts.SensorBursts(name, placement, ev, flat_grid(), clock)


def by_label(rows, label):
    return [r for r in rows if r.label == label]


# ---------------------------------------------------------------------------------------------
# Which legs


@pytest.mark.parametrize(
    "a, b, want",
    [
        ("wrist", "right_ankle", (None, plm.UNKNOWN_LEG)),
        ("ankle", "wrist", (plm.UNKNOWN_LEG, None)),
        ("wrist", "wrist", (None, None)),
        ("left_ankle", "right_ankle", (plm.LEFT, plm.RIGHT)),
        ("right_ankle", "left_ankle", (plm.RIGHT, plm.LEFT)),
        ("ankle", "ankle", (plm.LEFT, plm.RIGHT)),
        ("ankle", "left_ankle", (plm.RIGHT, plm.LEFT)),
        ("right_ankle", "unknown", (plm.RIGHT, plm.LEFT)),
        ("unknown", "unknown", (plm.LEFT, plm.RIGHT)),
        ("unknown", "wrist", (plm.UNKNOWN_LEG, None)),
    ],
)
def test_leg_sides(a, b, want):
    assert ts.leg_sides(a, b) == want


def test_two_sensors_on_one_ankle_is_an_error():
    with pytest.raises(ValueError, match="same ankle"):
        ts.leg_sides("left_ankle", "left_ankle")


def test_map_events_puts_times_on_the_pair_clock():
    ev = bursts((100.0, 2.0, "leg"), (200.0, 0.3, "jerk"))
    c = ClockMap(-12.5, 40.0)
    m = ts.map_events(ev, c)
    for f in ("onset_s", "offset_s", "peak_s"):
        np.testing.assert_allclose(m[f], -12.5 + ev[f] * (1 + 40e-6))
    np.testing.assert_allclose(m["duration_s"], m["offset_s"] - m["onset_s"])
    np.testing.assert_array_equal(ts.map_events(ev, ClockMap()), ev)


# ---------------------------------------------------------------------------------------------
# Two ankles: WASM/AASM bilateral scoring


def test_overlapping_leg_movements_of_two_legs_are_one_bilateral_lm():
    left = bursts((1000.0, 2.0, "leg"))
    right = bursts((1002.3, 1.7, "leg"))  # starts 0.3 s after the left one ends (< 0.5 s)
    res = ts.score_pair(sensor("left_ankle", "left_ankle", left), sensor("right_ankle", "right_ankle", right),
                        ASLEEP, 1.0)
    assert [(r.label, r.sensors, r.n_bursts) for r in res.rows] == [
        ("lm", "left_ankle+right_ankle", 2)
    ]
    assert res.rows[0].onset_s == 1000.0
    assert res.rows[0].duration_s == pytest.approx(4.0)


def test_a_plm_series_can_mix_legs():
    # Four LMs 20 s apart, alternating legs: each leg alone has two LMs 40 s apart (no series),
    # together they are one series of four (WASM: ≥ 4 candidate LMs, IMI 10-90 s).
    left = bursts((1000.0, 2.0, "leg"), (1040.0, 2.0, "leg"))
    right = bursts((1020.0, 2.0, "leg"), (1060.0, 2.0, "leg"))
    res = ts.score_pair(sensor("left_ankle", "left_ankle", left), sensor("right_ankle", "right_ankle", right),
                        ASLEEP, 1.0)
    plms = by_label(res.rows, "plm")
    assert len(plms) == 4 and {r.series for r in plms} == {1}
    assert [r.sensors for r in plms] == ["left_ankle", "right_ankle", "left_ankle", "right_ankle"]


@pytest.mark.parametrize("rules, rows", [("wasm", 2), ("aasm", 1)])
def test_aasm_counts_legs_within_5_s_as_one(rules, rows):
    left = bursts((1000.0, 1.0, "leg"))
    right = bursts((1003.0, 1.0, "leg"))  # 2 s after the left one ended: apart for WASM
    res = ts.score_pair(sensor("l", "left_ankle", left), sensor("r", "right_ankle", right), ASLEEP, 1.0, rules)
    assert len([r for r in res.rows if r.label == "lm"]) == rows


def test_a_turn_over_breaks_a_series_from_either_ankle():
    left = bursts((1000.0, 2.0, "leg"), (1040.0, 2.0, "leg"))
    right = bursts((1020.0, 2.0, "leg"), (1048.0, 20.0, "turn"), (1080.0, 2.0, "leg"))
    res = ts.score_pair(sensor("l", "left_ankle", left), sensor("r", "right_ankle", right), ASLEEP, 1.0)
    assert not by_label(res.rows, "plm")


# ---------------------------------------------------------------------------------------------
# Wrist and ankle


def single_p(ev, placement, periods=ASLEEP):
    """The jerk model's probability of each transient, scoring the sensor alone."""
    cls = classify.classify_bursts(ev, flat_grid(), 1.0, placement)
    classify.finalize_labels(cls, ev, periods)
    return ts.jerk_probabilities(cls)


def test_a_transient_on_both_sensors_is_one_event():
    wrist = bursts((500.0, 0.3, "jerk"), (900.0, 0.3, "weak"), (1500.0, 0.3, "jerk"))
    ankle = bursts((500.1, 0.3, "jerk"), (900.2, 0.3, "weak"), (1500.4, 0.3, "jerk"))  # last: 0.4 s apart
    res = ts.score_pair(sensor("wrist", "wrist", wrist), sensor("right_ankle", "right_ankle", ankle),
                        [(0.0, NIGHT_S, 600.0, NIGHT_S)], 1.0)
    assert res.jerk_pairs == 2
    assert [(r.onset_s, r.sensors) for r in res.rows] == [
        (500.0, "wrist+right_ankle"), (900.0, "wrist+right_ankle"), (1500.0, "wrist"), (1500.4, "right_ankle")
    ]
    # The pair's decision: the better one-sensor odds times the pair's likelihood ratio.
    pw = single_p(wrist, "wrist", [(0.0, NIGHT_S, 600.0, NIGHT_S)])
    pa = single_p(ankle, "right_ankle", [(0.0, NIGHT_S, 600.0, NIGHT_S)])
    for k in range(2):
        post = odds_update(max(pw[k], pa[k]), ts.PAIR_LIKELIHOOD_RATIO)
        want = "hypnic_jerk" if post >= classify.JERK_THRESHOLD else "other"
        assert res.rows[k].label == want
        assert res.rows[k].confidence == pytest.approx(post if want == "hypnic_jerk" else 1 - post, abs=1e-3)


@pytest.mark.parametrize("at_s, jerk", [(1000.0, True), (3990.0, False)])
def test_a_pair_cannot_make_a_jerk_where_one_sensor_could_not(at_s, jerk):
    # Both sensors see a strong transient; after the final awakening (3900 s) it is no sleep
    # start however sure the pair is.
    wrist = bursts((at_s, 0.3, "jerk"), *[(200.0 + 30 * k, 0.2, "weak") for k in range(20)])
    ankle = bursts((at_s + 0.05, 0.3, "jerk"))
    res = ts.score_pair(sensor("wrist", "wrist", wrist), sensor("right_ankle", "right_ankle", ankle),
                        [(0.0, NIGHT_S, 600.0, 3900.0)], 1.0)
    row = next(r for r in res.rows if r.onset_s == at_s)
    assert row.sensors == "wrist+right_ankle"
    assert (row.label == "hypnic_jerk") is jerk


def odds_update(p, lr):
    """Reference: Bayes' rule in odds form, posterior odds = likelihood ratio x prior odds."""
    odds = lr * p / (1 - p)
    return odds / (1 + odds)


@given(st.floats(0.0, 0.999), st.floats(0.01, 100.0))
def test_update_odds_is_bayes_rule(p, lr):
    assert ts.update_odds(p, lr) == pytest.approx(odds_update(p, lr), abs=1e-12)


def test_jerk_decisions_pair_alone_and_unseen():
    rng = np.random.default_rng(5)
    on = np.sort(rng.choice(np.arange(100.0, 3000.0, 7.0), 40, replace=False))
    wrist = bursts(*[(t, 0.3, "jerk" if k % 3 else "weak") for k, t in enumerate(on)],
                   (3500.0, 0.3, "jerk"), (3600.0, 0.3, "jerk"))
    ankle = bursts(*[(t + 0.05, 0.3, "weak" if k % 2 else "jerk") for k, t in enumerate(on[::2])],
                   (3599.5, 3.0, "leg"))
    for ev in (wrist, ankle):  # transients of every strength and shape, near the onset and far
        tr = ev["spread_s"] < 0.1
        ev["peak_g"][tr] = np.exp(rng.uniform(np.log(0.02), np.log(1.5), tr.sum()))
        ev["rise_time_s"][tr] = rng.uniform(0.02, 0.25, tr.sum())
        ev["duration_s"][tr] = rng.uniform(0.12, 0.45, tr.sum())
        ev["offset_s"][tr] = ev["onset_s"][tr] + ev["duration_s"][tr]
        ev["energy_g2s"][tr] = ev["peak_g"][tr] ** 2 * rng.uniform(0.01, 0.2, tr.sum())
    periods = [(0.0, NIGHT_S, 1200.0, NIGHT_S)]
    # The ankle was off from 3400 to 3550 s: the wrist's jerk at 3500 s is not "alone"; at 3600 s
    # the ankle moved (a longer movement), which is not "alone" either.
    res = ts.score_pair(sensor("wrist", "wrist", wrist),
                        ts.SensorBursts("ankle", "ankle", ankle, flat_grid(), absent=[[3400.0, 3550.0]]),
                        periods, 1.0)
    p = {("wrist", t): x for t, x in zip(wrist["onset_s"], single_p(wrist, "wrist", periods))}
    p |= {("ankle", t): x for t, x in zip(ankle["onset_s"], single_p(ankle, "ankle", periods))}
    assert ts.PAIR_LIKELIHOOD_RATIO > 1 > ts.ALONE_LIKELIHOOD_RATIO
    assert res.jerk_pairs == on[::2].size
    checked, labels = 0, set()
    for r in res.rows:
        if r.sensors == "wrist+ankle":
            post = odds_update(max(p[("wrist", r.onset_s)], p[("ankle", r.onset_s + 0.05)]),
                               ts.PAIR_LIKELIHOOD_RATIO)
        elif r.sensors == "wrist" and r.onset_s >= 3500.0:
            post = p[("wrist", r.onset_s)]  # the one-sensor rule
        elif r.sensors == "wrist":
            post = odds_update(p[("wrist", r.onset_s)], ts.ALONE_LIKELIHOOD_RATIO)
        else:
            continue
        checked += 1
        labels.add(r.label)
        # and the one-sensor rules: no jerk more than 10 min before the onset
        allowed = r.onset_s >= 1200.0 + classify.JERK_WINDOW_S[0]
        assert (r.label == "hypnic_jerk") == (post >= classify.JERK_THRESHOLD and allowed), r
    assert checked == on.size + 2  # every wrist transient, paired or not
    assert labels == {"hypnic_jerk", "other"}
    # Jerks that pass alone but not once "alone" is known (between the two thresholds) exist here.
    thr = classify.JERK_THRESHOLD
    odds_needed = thr / (1 - thr) / ts.ALONE_LIKELIHOOD_RATIO
    assert any(thr <= x < odds_needed / (1 + odds_needed) for x in p.values())


def test_leg_movements_come_from_the_ankle_only():
    wrist = bursts((1000.0, 2.0, "leg"), (1020.0, 2.0, "leg"))
    ankle = bursts((1000.2, 2.0, "leg"), (1020.0, 2.0, "leg"), (1040.0, 2.0, "leg"), (1060.0, 2.0, "leg"))
    res = ts.score_pair(sensor("wrist", "wrist", wrist), sensor("right_ankle", "right_ankle", ankle),
                        ASLEEP, 1.0)
    legs = [r for r in res.rows if r.label in ("plm", "lm")]
    assert len(legs) == 4 and all(r.sensors == "right_ankle" for r in legs)
    assert len(by_label(res.rows, "plm")) == 4


def test_a_large_movement_seen_by_both_counts_once():
    wrist = bursts((1000.0, 20.0, "turn"), (2000.0, 18.0, "turn"))
    ankle = bursts((1000.4, 19.0, "turn"), (2500.0, 18.0, "turn"))
    res = ts.score_pair(sensor("wrist", "wrist", wrist), sensor("right_ankle", "right_ankle", ankle),
                        ASLEEP, 1.0)
    large = by_label(res.rows, "large_movement")
    assert [(r.onset_s, r.sensors) for r in large] == [
        (1000.0, "wrist+right_ankle"), (2000.0, "wrist"), (2500.0, "right_ankle")
    ]
    assert large[0].duration_s == pytest.approx(20.0)


kinds = st.sampled_from(["jerk", "weak", "leg", "turn"])
event_list = st.lists(
    st.tuples(st.integers(0, 3800), st.floats(0.1, 25.0), kinds), max_size=25,
    unique_by=lambda x: x[0] // 30,
).map(lambda v: bursts(*[(30.0 * (k // 30) + 1.0, d if kind in ("leg", "turn") else 0.3, kind)
                          for k, d, kind in v]))


@settings(max_examples=40)
@given(event_list, event_list, st.sampled_from([("wrist", "right_ankle"), ("left_ankle", "right_ankle"),
                                                 ("ankle", "ankle"), ("wrist", "wrist")]),
       st.sampled_from(["wasm", "aasm"]), st.floats(-0.4, 0.4))
def test_every_burst_is_in_one_event(ev_a, ev_b, places, rules, shift):
    ev_b = ev_b.copy()
    for f in ("onset_s", "offset_s", "peak_s"):
        ev_b[f] += shift
    sides = ts.leg_sides(*places)
    res = ts.score_pair(sensor("a", places[0], ev_a), sensor("b", places[1], ev_b),
                        [(0.0, NIGHT_S, 300.0, 3700.0)], 1.0, rules)
    assert sum(r.n_bursts for r in res.rows) == ev_a.size + ev_b.size
    assert [r.onset_s for r in res.rows] == sorted(r.onset_s for r in res.rows)
    assert {r.sensors for r in res.rows} <= {"a", "b", "a+b"}
    assert {r.label for r in res.rows} <= set(vocabulary.LABELS)
    legs = [r for r in res.rows if r.label in ("plm", "lm")]
    for r in legs:  # leg movements only from a sensor at an ankle
        for name, side in zip("ab", sides):
            if side is None:
                assert name not in r.sensors.split("+")
    if None in sides:
        return
    for r0, r1 in zip(legs, legs[1:]):
        after_end = r1.onset_s >= r0.onset_s + r0.duration_s + plm.JOIN_SAME_LEG_S - 1e-6
        if rules == "wasm":  # LMs of either leg closer than 0.5 s are one
            assert after_end
        else:  # AASM: the two legs' onsets < 5 s apart are one; one leg joins below 0.5 s
            apart = r1.onset_s - r0.onset_s >= plm.AASM_BILATERAL_ONSET_S - 1e-6
            assert apart or (after_end and r0.sensors == r1.sensors and "+" not in r0.sensors)


# ---------------------------------------------------------------------------------------------
# Night summary of a pair


def row(onset, label, dur=1.0):
    return Event(onset_s=onset, duration_s=dur, label=label)


def pair_night(rows, window, onset, end, lost):
    """One night of a pair, summarised by the one builder (:func:`detector.summary.night_figures`)."""
    period = summary.NightPeriod(window, True, onset, None if onset is None else [onset, onset],
                                 "detected", end, None if onset is not None else "no sleep", "B")
    legs = summary.LegTime(lost, sensors=2)
    return summary.night_figures(rows, period, placement="wrist+right_ankle", rules="wasm", legs=legs,
                                 gaps=[], nonwear=[], evidence=[])


def test_pair_summary_counts_and_plms_index():
    rows = [row(100, "hypnic_jerk"), row(1000, "hypnic_jerk"), row(2500, "hypnic_jerk"),
            row(1200, "plm"), row(1230, "plm"), row(1260, "plm"), row(1290, "plm"), row(3000, "lm"),
            row(5000, "plm")]
    s = pair_night(rows, (0.0, 4000.0), 900.0, 3600.0, [[3400.0, 3700.0]])
    later = pair_night(rows, (4000.0, 8000.0), None, None, [])
    summary.set_minutes_from_onset(rows, [s, later])
    assert s.counts == {"hypnic_jerk": 3, "plm": 4, "lm": 1, "large_movement": 0, "other": 0}
    assert s.jerks_first_30_min == 2  # 100 s is 800 s before the onset: outside −10 … +30 min
    assert s.plms_index == pytest.approx(4 / ((3600 - 900 - 200) / 3600), abs=0.01)
    assert s.periodicity_index == pytest.approx(0.8)
    assert s.sleep_period_s == 2700.0
    assert s.sleep_onset_sensor == "B"
    assert rows[0].minutes_from_onset == pytest.approx(-800 / 60, abs=1e-3)
    assert rows[-1].minutes_from_onset is None  # another night's event (no sleep found in it)


def test_pair_summary_without_ankles_or_sleep():
    s = pair_night([row(10, "other")], (0.0, 100.0), 5.0, 90.0, None)
    assert s.plms_index is None and "ankle" in s.plms_index_reason
    s = pair_night([row(10, "other")], (0.0, 100.0), None, None, [])
    assert s.plms_index is None and s.jerks_first_30_min is None


spans = st.lists(st.tuples(st.integers(0, 90), st.integers(1, 10)), max_size=5).map(
    lambda v: [[float(s), float(s + d)] for s, d in v]
)


@given(spans, spans)
def test_lost_spans_is_the_time_both_miss(a, b):
    both = ts.lost_spans(a, b, both=True)
    t = np.arange(0, 100, 0.25) + 0.125
    inside = lambda sp: np.any([(t > s) & (t < e) for s, e in sp], axis=0) if sp else np.zeros(t.size, bool)  # noqa: E731
    np.testing.assert_array_equal(inside(both), inside(a) & inside(b))
    assert ts.lost_spans(a, b, both=False) == a


# ---------------------------------------------------------------------------------------------
# hypnic.two_sensors.analyze_pair on synthetic two-sensor nights

HOURS = 2.0
FS = 12.5


def pair_streams(seed, place_a, place_b, offset=37.4, drift_ppm=30.0, utc=True, seed_b=None, fs_b=FS,
                 utc_shift=0.0):
    """Sensors A and B of night ``seed`` (B of ``seed_b`` when given), B's clock offset and drifting,
    B's UTC start 1.5 s off (plus ``utc_shift``)."""
    from datetime import datetime, timedelta

    from hypnic.benchmarks.synth import simulate_night
    from hypnic.recordings.samples import SampleStream, StreamInfo

    d = drift_ppm * 1e-6
    a = simulate_night(seed, FS, HOURS, place_a)
    b = simulate_night(seed if seed_b is None else seed_b, fs_b / (1 + d), HOURS, place_b)
    a0, b0 = (0.0, offset) if offset >= 0 else (-offset, 0.0)
    ka, kb = a.t >= a0, b.t >= b0
    start = datetime.fromisoformat(a.info.start_utc)
    info_a = StreamInfo("a.csv", FS, start_utc=(start + timedelta(seconds=a0)).isoformat(), placement=place_a)
    info_b = StreamInfo("b.csv", fs_b, placement=place_b,
                        start_utc=(start + timedelta(seconds=b0 + 1.5 + utc_shift)).isoformat() if utc else None)
    sa = SampleStream.from_arrays(a.t[ka] - a0, a.xyz[ka], info_a)
    sb = SampleStream.from_arrays((b.t[kb] - b0) / (1 + d), b.xyz[kb], info_b)
    return sa, sb, a.truth


@pytest.fixture(scope="module")
def wrist_ankle_analysis():
    from hypnic.two_sensors import analyze_pair

    sa, sb, truth = pair_streams(31, "wrist", "right_ankle")
    return analyze_pair(sa, sb), truth


CONTRACT_SUMMARY = {
    "sleep_onset_s", "sleep_onset_window_s", "sleep_onset_source", "placement", "rules", "counts",
    "jerks_first_30_min", "plms_index", "periodicity_index", "sleep_period_s", "gaps", "nonwear",
    "version", "parameters",
}


def test_pair_analysis_follows_the_contract(wrist_ankle_analysis, tmp_path):
    from hypnic.recordings.outputs import write_events_csv, write_json

    an, _ = wrist_ankle_analysis
    s = an.summary
    assert CONTRACT_SUMMARY <= s.as_dict().keys()
    assert s.placement == "wrist+right_ankle"
    assert s.alignment.keys() >= {"offset_s", "drift_ppm", "method", "matched_bursts"}
    assert s.alignment["method"] == "utc+xcorr+bursts"
    # A 2-h night pins the offset to tens of ms; the drift needs a whole night (tests/test_alignment).
    assert s.alignment["offset_s"] == pytest.approx(37.4, abs=0.15)
    assert [x.name for x in s.sensors] == ["wrist", "right_ankle"]
    assert s.counts == {lab: sum(r.label == lab for r in an.events) for lab in vocabulary.LABELS}
    assert [r.onset_s for r in an.events] == sorted(r.onset_s for r in an.events)
    assert {r.sensors for r in an.events} <= {"wrist", "right_ankle", "wrist+right_ankle"}
    assert all("wrist" not in r.sensors.split("+") or r.label not in ("plm", "lm") or
               "right_ankle" in r.sensors for r in an.events)
    assert all(r.minutes_from_onset == pytest.approx(round((r.onset_s - s.sleep_onset_s) / 60, 3))
               for r in an.events)
    write_events_csv(tmp_path / "events.csv", an.events, an.columns)
    header = (tmp_path / "events.csv").read_text().splitlines()[0].split(",")
    assert header[:8] == [*CONTRACT_COLUMNS, "sensors"]
    write_json(tmp_path / "summary.json", s.as_dict())
    assert json.loads((tmp_path / "summary.json").read_text())["alignment"]["matched_bursts"] > 10
    assert an.traces["snippet_onset_s"].size <= s.counts["hypnic_jerk"]


def test_pair_finds_the_jerks_both_sensors_saw(wrist_ankle_analysis):
    an, truth = wrist_ankle_analysis
    jerks = [e["onset_s"] for e in truth["events"] if e["label"] == "hypnic_jerk"]
    found = [r.onset_s for r in an.events if r.label == "hypnic_jerk"]
    both = [r for r in an.events if r.label == "hypnic_jerk" and r.sensors == "wrist+right_ankle"]
    assert both, "synthetic jerks move every limb"
    assert all(min(abs(t - j) for j in jerks) <= 0.25 for t in found)


def test_two_ankles_given_as_ankle_are_left_then_right():
    from hypnic.two_sensors import analyze_pair

    sa, sb, _ = pair_streams(32, "left_ankle", "right_ankle", offset=-20.3, drift_ppm=-25.0, utc=False)
    an = analyze_pair(
        sa, sb, AnalysisOptions(placement="ankle", placement_b="ankle", rules="aasm", sleep_onset_s=1800.0)
    )
    s = an.summary
    assert s.placement == "left_ankle+right_ankle" and s.rules == "aasm"
    assert s.alignment["method"] == "xcorr+bursts"
    assert s.sleep_onset_source == "given" and s.sleep_onset_s == 1800.0
    assert s.plms_index is not None
    # B started 20.3 s before A: the pair's events lie on A's recording, each in the counts.
    assert all(0 <= r.onset_s < s.duration_s for r in an.events)
    assert all(r.minutes_from_onset == pytest.approx(round((r.onset_s - 1800.0) / 60, 3)) for r in an.events)
    assert s.counts == {lab: sum(r.label == lab for r in an.events) for lab in vocabulary.LABELS}
    legs = sorted((r for r in an.events if r.label in ("plm", "lm")), key=lambda r: r.onset_s)
    assert all(b.onset_s - a.onset_s >= plm.AASM_BILATERAL_ONSET_S - 1e-6 or
               a.sensors == b.sensors for a, b in zip(legs, legs[1:]))


def test_two_wrists_score_no_legs():
    from hypnic.two_sensors import analyze_pair

    sa, sb, _ = pair_streams(33, "wrist", "wrist", offset=5.0)
    an = analyze_pair(sa, sb)
    assert an.summary.placement == "wrist_1+wrist_2"
    assert an.summary.plms_index is None
    assert not [r for r in an.events if r.label in ("plm", "lm")]


def test_bad_pairs_are_one_line_input_errors():
    from hypnic.two_sensors import analyze_pair

    sa, sb, _ = pair_streams(34, "wrist", "right_ankle", seed_b=35)
    with pytest.raises(InputError) as e:
        analyze_pair(sa, sb)
    assert "cannot align" in str(e.value) and "a.csv" in str(e.value) and "\n" not in str(e.value)

    sa, sb, _ = pair_streams(34, "wrist", "right_ankle", seed_b=35, utc_shift=6 * 3600.0)
    with pytest.raises(InputError, match="do not overlap in time"):
        analyze_pair(sa, sb)

    sa, sb, _ = pair_streams(34, "left_ankle", "right_ankle")
    with pytest.raises(InputError, match="same ankle"):
        analyze_pair(sa, sb, AnalysisOptions(placement_b="left_ankle"))


def test_the_wrist_gives_the_sleep_period_and_a_given_onset_wins():
    night_a = Night(window_s=[0.0, 30000.0], sleep_onset_s=1000.0, sleep_end_s=25000.0,
                    sleep_onset_window_s=[900.0, 1100.0], sleep_onset_reason=None)
    night_b = replace(night_a, sleep_onset_s=1500.0, sleep_onset_window_s=[1400.0, 1600.0])
    none_b = replace(night_a, sleep_onset_s=None, sleep_end_s=None, sleep_onset_reason="no sleep")
    names = ("A", "B")
    assert ts.prefers_b("right_ankle", "wrist") and not ts.prefers_b("wrist", "wrist")
    (p,) = ts.choose_periods([night_a], [night_b], names, True, None, 30000.0)
    assert (p.onset_s, p.sensor, p.source) == (1500.0, "B", "detected")
    (p,) = ts.choose_periods([night_a], [none_b], names, True, None, 30000.0)
    assert (p.onset_s, p.sensor) == (1000.0, "A")
    (p,) = ts.choose_periods([night_a], [night_b], names, False, 2000.0, 30000.0)
    assert (p.onset_s, p.source, p.end_s) == (2000.0, "given", 25000.0)
    (p,) = ts.choose_periods([night_a], [night_b], names, False, 26000.0, 30000.0)
    assert p.end_s == 30000.0  # the detected end lies before the given onset


def _alone(ev, place, nonwear, onset):
    """A sensor's night stage as :func:`detector.night.score_sensor` leaves it: its bursts outside
    its non-wear, and its nights (onset ``onset``)."""
    from hypnic.detector.analysis import Alone
    from hypnic.detector.bursts import BurstResult
    from hypnic.detector.night import NightInput, SensorNight
    from hypnic.detector.nonwear import NonwearSpan

    inp = NightInput(BurstResult(ev, np.zeros(0, EPOCH_DTYPE), []), 50.0, NIGHT_S, placement=place,
                     temperature=(np.arange(3.0), np.full(3, 33.0)), idle=[[10.0, 20.0]])
    worn = ~np.any([(ev["onset_s"] >= a) & (ev["onset_s"] <= b) for a, b in nonwear], axis=0) \
        if nonwear else np.ones(ev.shape[0], bool)
    night = SensorNight(inp, {}, [], [NonwearSpan(a, b, ["no_movement"]) for a, b in nonwear], ev[worn],
                        None, None, [(0.0, NIGHT_S)], [], [])
    return Alone(night, [], [Night(sleep_onset_s=onset)], NightSummary())


@pytest.mark.parametrize("wrist_first", [True, False])
def test_the_wrists_sleep_period_hears_the_ankles_transients_on_its_own_clock(wrist_first, monkeypatch):
    from hypnic.detector import analysis
    from hypnic.detector.sleep_onset import SleepPeriod

    clock = ClockMap(offset_s=100.0, drift_ppm=50.0)  # B's time on A's line
    ankle_ev = bursts((1000.0, 0.3, "jerk"), (2000.0, 3.0, "leg"), (3000.0, 0.3, "jerk"))
    wrist_ev = bursts((1500.0, 0.3, "jerk"))
    # The ankle's burst at 3000 s lies in its non-wear: not a witness of the wrist's sleep.
    alone = [_alone(wrist_ev, "wrist", [], 1.0), _alone(ankle_ev, "ankle", [[2900.0, 3100.0]], 1.0)]
    if not wrist_first:
        alone.reverse()
    seen = {}

    def fake_score(inp, options):
        seen["marks"], seen["placement"] = inp.sleep_marks, inp.placement
        seen["thermometer"], seen["idle"] = inp.temperature, inp.idle
        period = SleepPeriod(42.0, 5000.0, [40.0, 44.0])
        return analysis.SensorNight(inp, {}, [], [], inp.bursts.events, None, None,
                                    [(0.0, NIGHT_S)], [period], [])

    monkeypatch.setattr(analysis, "score_sensor", fake_score)
    sides = ts.leg_sides(*(a.night.inp.placement for a in alone))
    out_a, out_b = analysis.sleep_nights(alone, sides, clock, (AnalysisOptions(), AnalysisOptions()))
    # the ankle's transients outside its non-wear (the one at 3000 s is inside it), mapped
    expected = clock.to_b([1000.0]) if wrist_first is False else clock.to_a([1000.0])
    assert seen["placement"] == "wrist"
    np.testing.assert_allclose(seen["marks"], expected)
    # the wrist's thermometer and idle spans judge its non-wear on this pass as on its first
    wrist_inp = alone[0 if wrist_first else 1].night.inp
    assert seen["thermometer"] is wrist_inp.temperature and seen["idle"] == wrist_inp.idle
    wrist_out, ankle_out = (out_a, out_b) if wrist_first else (out_b, out_a)
    assert wrist_out[0].sleep_onset_s == 42.0 and ankle_out[0].sleep_onset_s == 1.0


def test_two_ankles_keep_their_own_sleep_periods(monkeypatch):
    from hypnic.detector import analysis

    def fake_score(inp, options):
        raise AssertionError("two ankles are not scored again")

    monkeypatch.setattr(analysis, "score_sensor", fake_score)
    alone = [_alone(bursts((1000.0, 0.3, "jerk")), p, [], 1.0) for p in ("left_ankle", "right_ankle")]
    nights = analysis.sleep_nights(alone, (plm.LEFT, plm.RIGHT), ClockMap(), (AnalysisOptions(),) * 2)
    assert nights == [alone[0].nights, alone[1].nights]
