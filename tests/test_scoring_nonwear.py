"""Non-wear figures of ``hypnic bench accuracy`` on hand-made spans."""

from __future__ import annotations

import math

import pytest

from hypnic.benchmarks.accuracy import ConditionResult, NightScore, NightSpec
from hypnic.benchmarks.scoring import (
    NONWEAR_MIN_SPAN_S,
    BurstScore,
    NonwearScore,
    merge_spans,
    score_nonwear,
)


def test_spans_of_4_9_min_do_not_count_in_recall_and_of_5_1_min_do():
    assert NONWEAR_MIN_SPAN_S == 300.0
    short, long = [0.0, 294.0], [1000.0, 1306.0]
    missed = score_nonwear([], [short, long])
    assert (missed.spans, missed.found) == (1, 0)
    assert missed.recall == 0.0
    found = score_nonwear([[1000.0, 1306.0]], [short, long])
    assert (found.spans, found.found) == (1, 1) and found.recall == 1.0
    # A 4.9-min span covered or not does not change the recall.
    assert score_nonwear([short], [short]).spans == 0
    assert math.isnan(score_nonwear([short], [short]).recall)


def test_half_coverage_is_found_and_less_is_not():
    truth = [[0.0, 600.0]]
    assert score_nonwear([[0.0, 300.0]], truth).found == 1
    assert score_nonwear([[300.0, 600.0]], truth).found == 1
    assert score_nonwear([[0.0, 299.0]], truth).found == 0
    # Coverage adds up over several detected pieces, and overlapping detections count once.
    assert score_nonwear([[0.0, 160.0], [450.0, 600.0]], truth).found == 1
    assert score_nonwear([[0.0, 200.0], [100.0, 290.0]], truth).found == 0


def test_widening_by_the_handling_time():
    truth = [[1000.0, 2000.0]]
    # Detected 3 s early and 3 s late: inside the widened span, no false non-wear.
    s = score_nonwear([[997.0, 2003.0]], truth, widen_s=3.0)
    assert s.detected_s == pytest.approx(1006.0)
    assert s.inside_s == pytest.approx(1006.0) and s.precision == pytest.approx(1.0)
    assert s.false_s == [pytest.approx(0.0)]
    # Without the widening those 6 s are false non-wear.
    s = score_nonwear([[997.0, 2003.0]], truth)
    assert s.false_s == [pytest.approx(6.0)]
    # 60 s too early at the start: 57 s of them are false.
    s = score_nonwear([[940.0, 2000.0]], truth, widen_s=3.0)
    assert s.false_s == [pytest.approx(57.0)]
    assert s.precision == pytest.approx(1003.0 / 1060.0)
    # Widened neighbours that touch merge, and time between them is inside.
    s = score_nonwear([[2000.0, 2006.0]], [[1000.0, 2000.0], [2006.0, 2600.0]], widen_s=3.0)
    assert s.false_s == [pytest.approx(0.0)]


def test_detections_without_truth_are_all_false():
    s = score_nonwear([[100.0, 160.0], [500.0, 740.0]], [], widen_s=3.0)
    assert s.spans == 0 and math.isnan(s.recall)
    assert s.precision == 0.0
    assert s.false_s == [pytest.approx(300.0)]
    empty = score_nonwear([], [])
    assert math.isnan(empty.precision) and empty.false_s == [0.0]


def test_merge_spans():
    assert merge_spans([[5, 6], [0, 2], [1, 3], [7, 7]]) == [[0.0, 3.0], [5.0, 6.0]]
    assert merge_spans([]) == []


def test_figures_sum_over_nights():
    total = NonwearScore()
    total.add(score_nonwear([[0.0, 600.0]], [[0.0, 600.0]], widen_s=3.0))
    total.add(score_nonwear([[5000.0, 5120.0]], [[0.0, 400.0]], widen_s=3.0))
    total.add(score_nonwear([], []))
    assert (total.spans, total.found) == (2, 1)
    assert total.precision == pytest.approx(600.0 / 720.0)
    assert total.false_min_per_night == pytest.approx(120.0 / 60.0 / 3.0)
    assert total.false_min_worst_night == pytest.approx(2.0)


def test_condition_row_reports_the_non_wear_figures():
    res = ConditionResult("x")
    spec = NightSpec("x", 1, 25.0, "wrist")
    for detected, truth in (([[0.0, 600.0]], [[0.0, 600.0]]), ([[9000.0, 9060.0]], [])):
        res.add(NightScore(spec, {}, BurstScore(), None, None, None, None,
                           score_nonwear(detected, truth, widen_s=3.0)))
    row = res.row()
    assert row["nonwear_spans"] == 1 and row["nonwear_recall"] == 1.0
    assert row["nonwear_precision"] == pytest.approx(600.0 / 660.0)
    assert row["false_nonwear_min_per_night"] == pytest.approx(0.5)
    assert row["false_nonwear_min_worst_night"] == pytest.approx(1.0)
    assert math.isnan(row["nonwear_found_frac"])  # unchanged: only nights scored for it
