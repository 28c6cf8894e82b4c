"""WASM 2016 / AASM leg-movement rules at their published edges (DOMAIN.md §2.1-2.2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.detector.plm import LEFT, RIGHT, score_leg_movements


def series_of(onsets, duration=2.0, **kw):
    on = np.asarray(onsets, dtype=float)
    return score_leg_movements(on, on + duration, **kw)


def test_four_movements_make_a_series_three_do_not():
    assert series_of([0, 20, 40, 60]).n_plm == 4
    assert series_of([0, 20, 40]).n_plm == 0


@pytest.mark.parametrize("imi, plm", [(9.9, 0), (10.0, 4), (10.1, 4), (90.0, 4), (90.1, 0)])
def test_wasm_imi_edges(imi, plm):
    assert series_of(np.arange(4) * imi).n_plm == plm


@pytest.mark.parametrize("imi, plm", [(4.9, 0), (5.0, 4), (9.9, 4), (90.0, 4), (90.1, 0)])
def test_aasm_imi_edges(imi, plm):
    assert series_of(np.arange(4) * imi, duration=1.0, rules="aasm").n_plm == plm


@pytest.mark.parametrize("dur, kept", [(0.49, 0), (0.5, 1)])
def test_lm_minimum_duration(dur, kept):
    assert series_of([0.0], duration=dur).onset_s.size == kept


@pytest.mark.parametrize("dur, candidate", [(10.0, True), (10.1, False)])
def test_monolateral_candidate_maximum(dur, candidate):
    assert bool(series_of([0.0], duration=dur).candidate[0]) is candidate


def test_long_movement_breaks_a_series():
    on = np.array([0, 20, 40, 60, 80, 100.0])
    off = on + 2
    off[2] = on[2] + 12  # not a candidate: ends the run of 2, the next run has 3
    assert score_leg_movements(on, off).n_plm == 0


def test_large_movement_breaks_a_series():
    on = np.array([0, 20, 40, 60, 80, 100, 120, 50.0])
    off = on + 2
    brk = np.zeros(8, bool)
    brk[-1] = True
    lm = score_leg_movements(on, off, breaks=brk)
    assert lm.n_plm == 4  # 60..120 after the break; 0..40 is only three


@pytest.mark.parametrize("gap, joined", [(0.49, True), (0.5, False)])
def test_same_leg_joining(gap, joined):
    on = np.array([0.0, 1.0 + gap])
    lm = score_leg_movements(on, on + np.array([1.0, 1.0]))
    assert lm.onset_s.size == (1 if joined else 2)


def test_wasm_bilateral_merge_and_15_s_limit():
    # left 0-8 s, right 7-14 s overlap -> one bilateral LM of 14 s: still a candidate (<= 15 s)
    lm = score_leg_movements([0.0, 7.0], [8.0, 14.0], leg=[LEFT, RIGHT])
    assert lm.onset_s.size == 1 and lm.candidate[0]
    lm = score_leg_movements([0.0, 7.0], [8.0, 15.1], leg=[LEFT, RIGHT])
    assert not lm.candidate[0]


def test_aasm_two_legs_within_5_s_count_once():
    lm = score_leg_movements([0.0, 4.9], [1.0, 5.9], leg=[LEFT, RIGHT], rules="aasm")
    assert lm.onset_s.size == 1
    lm = score_leg_movements([0.0, 5.1], [1.0, 6.1], leg=[LEFT, RIGHT], rules="aasm")
    assert lm.onset_s.size == 2


def test_periodicity_index():
    lm = series_of([0, 20, 40, 60, 200, 500])
    assert lm.periodicity_index() == pytest.approx(4 / 6)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 5000, allow_nan=False), max_size=60), st.sampled_from(["wasm", "aasm"]))
def test_series_invariants(onsets, rules):
    on = np.sort(np.asarray(onsets))
    lm = score_leg_movements(on, on + 1.0, rules=rules)
    lo = 10.0 if rules == "wasm" else 5.0
    for s in np.unique(lm.series[lm.series > 0]):
        members = lm.onset_s[lm.series == s]
        assert members.size >= 4
        imi = np.diff(members)
        assert np.all((imi >= lo - 1e-6) & (imi <= 90 + 1e-6))
