"""Sleep period, onset change point, non-wear in whole nights and noon-to-noon nights at their rule
edges (the non-wear rules themselves: tests/test_nonwear.py)."""

from __future__ import annotations

import numpy as np
import pytest

from hypnic.detector.epochs import ANGLE_EPOCH_S
from hypnic.detector.night import merge_spans, night_windows
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.sleep_onset import Witness, quiet_blocks, refine_end


def _wake(on: np.ndarray, off: np.ndarray) -> Witness:
    return Witness(on, off, True, "wake")


def minutes(m: float) -> int:
    return int(round(m * 60 / ANGLE_EPOCH_S))


@pytest.mark.parametrize("block_min, kept", [(29.9, False), (30.1, True)])
def test_hdcza_keeps_quiet_blocks_longer_than_30_min(block_min, kept):
    nomove = np.zeros(minutes(120), bool)
    nomove[minutes(10) : minutes(10) + minutes(block_min)] = True
    assert bool(quiet_blocks(nomove, ANGLE_EPOCH_S)) is kept


@pytest.mark.parametrize("break_min, joined", [(59.9, True), (60.1, False)])
def test_hdcza_joins_blocks_across_breaks_shorter_than_60_min(break_min, joined):
    nomove = np.zeros(minutes(300), bool)
    nomove[: minutes(40)] = True
    nomove[minutes(40) + minutes(break_min) : minutes(40) + minutes(break_min) + minutes(40)] = True
    assert (len(quiet_blocks(nomove, ANGLE_EPOCH_S)) == 1) is joined


@pytest.mark.parametrize("placement", ["wrist", "ankle"])
def test_removals_on_a_coarse_sensor_with_a_thermometer_are_found_and_nothing_else(placement):
    # A coarse quiet sleeper (3.9 mg steps, little breath) who takes the sensor off: the skin's
    # temperature finds every removal, and no still stretch of sleep is taken for one.
    from hypnic.benchmarks.scoring import score_nonwear
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.benchmarks.synth_params import (
        coarse_sensor,
        default_params,
        quiet_sleeper,
        with_removals,
    )
    from hypnic.pipeline import analyze_stream

    params = with_removals(quiet_sleeper(coarse_sensor(default_params())))
    night = simulate_night(5001, 25.0, 6.5, placement, params=params, nonwear=True)
    assert night.truth["nonwear"]
    s = analyze_stream(night.stream(temperature=True), AnalysisOptions(placement=placement)).summary
    score = score_nonwear(s.nonwear, night.truth["nonwear"], widen_s=params.handling_s)
    assert score.found == score.spans and score.false_s[0] < 60.0, (s.nonwear, night.truth["nonwear"])
    assert all(ev and ev[0] == "no_movement" for ev in s.nonwear_evidence)


def test_recordings_over_a_day_split_noon_to_noon_local_time():
    # starts 20:00 local (UTC+1) on a Monday, lasts 50 h
    wins = night_windows(50 * 3600.0, "2026-11-23T19:00:00+00:00", 3600.0)
    assert wins[0] == (0.0, 16 * 3600.0)  # until Tuesday noon
    assert wins[1] == (16 * 3600.0, 40 * 3600.0)
    assert wins[-1][1] == 50 * 3600.0
    assert night_windows(8 * 3600.0, "2026-11-23T19:00:00+00:00", 0.0) == [(0.0, 8 * 3600.0)]


def test_overlapping_gaps_merge():
    assert merge_spans([[5, 7], [1, 2], [6, 9], [9, 10]]) == [[1, 2], [5, 10]]


def test_two_days_give_two_nights():
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.pipeline import analyze_stream
    from hypnic.recordings.samples import SampleStream, StreamInfo

    a = simulate_night(21, 12.5, 24.0, "wrist")
    b = simulate_night(22, 12.5, 24.0, "wrist")
    t = np.concatenate([a.t, b.t + 24 * 3600.0])
    xyz = np.concatenate([a.xyz, b.xyz])
    info = StreamInfo("two days", 12.5, start_utc="2026-11-23T11:00:00+00:00", utc_offset_s=3600.0)
    s = analyze_stream(SampleStream.from_arrays(t, xyz, info), AnalysisOptions(placement="wrist")).summary
    assert len(s.nights) == 2
    for night, truth in zip(s.nights, (a.truth, b.truth)):
        assert night.sleep_onset_s is not None
        offset = night.window_s[0]
        assert abs(night.sleep_onset_s - offset - truth["sleep_onset_s"]) < 30 * 60
    assert s.sleep_onset_s == s.nights[0].sleep_onset_s


def test_the_final_awakening_is_where_restless_movements_start_again():
    sleep = np.arange(300.0, 6 * 3600 - 600, 720.0)  # 5/h
    wake = np.sort(np.random.default_rng(5).uniform(6 * 3600 + 60, 6 * 3600 + 1200, 25))
    on = np.concatenate([sleep, wake])
    end = refine_end([_wake(on, on + 3.0)], 0.0, 6 * 3600 + 1200.0)
    assert end == pytest.approx(wake[0], abs=120.0)


@pytest.mark.parametrize("restless_min", [29.0, 31.0, 60.0])
def test_the_final_awakening_moves_back_by_at_most_30_min(restless_min):
    hdcza_end = 6 * 3600.0
    wake = np.arange(hdcza_end - restless_min * 60, hdcza_end, 20.0)  # 3 a minute
    end = refine_end([_wake(wake, wake + 2.0)], 0.0, hdcza_end)
    assert hdcza_end - 30 * 60 <= end < hdcza_end
    if restless_min < 30:
        assert end == pytest.approx(wake[0], abs=120.0)


def test_a_quiet_morning_keeps_the_hdcza_end():
    assert refine_end([_wake(np.array([600.0]), np.array([603.0]))], 0.0, 6 * 3600.0) == 6 * 3600.0


def test_a_given_onset_finds_the_same_sleep_end_as_a_detected_one():
    # An ankle night with periodic leg movements: their tilts must not count as posture changes
    # for the end whether the onset is detected or given (same `returning` mask on both paths).
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.pipeline import analyze_stream

    for seed in range(40):
        sim = simulate_night(seed, 12.5, 5.0, "ankle")
        if any(e["label"] == "plm" for e in sim.truth["events"]):
            break
    detected = analyze_stream(sim.stream(), AnalysisOptions(placement="ankle")).summary
    given = analyze_stream(
        sim.stream(), AnalysisOptions(placement="ankle", sleep_onset_s=detected.sleep_onset_s)
    ).summary
    assert given.sleep_onset_source == "given"
    assert given.sleep_end_s == detected.sleep_end_s
