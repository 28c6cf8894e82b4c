"""The sensor's temperature on its way through the pipeline: any chunking, the same night."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.detector.options import AnalysisOptions
from hypnic.pipeline import SecondMeans, analyze_stream


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3000), max_size=12), st.integers(0, 2**32 - 1))
def test_second_means_are_the_same_for_any_chunking(cuts, seed):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 60, 3000))
    v = rng.normal(31.0, 0.5, 3000)
    v[rng.random(3000) < 0.05] = np.nan  # readings the device marked invalid
    whole = SecondMeans()
    whole.feed(t, v)
    parts = SecondMeans()
    edges = [0, *sorted(cuts), 3000]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        parts.feed(t[a:b], v[a:b])
    ref, got = whole.result(), parts.result()
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_allclose(got[1], ref[1], rtol=0, atol=1e-12)
    sec = np.floor(t[np.isfinite(v)])
    assert got[0].size == np.unique(sec).size
    for k in (0, got[0].size - 1):
        mine = np.floor(t) == np.floor(got[0][k])
        assert got[1][k] == pytest.approx(np.mean(v[mine & np.isfinite(v)]), abs=1e-12)


def test_a_night_with_a_thermometer_gives_the_same_non_wear_in_any_chunking():
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.benchmarks.synth_params import default_params, with_removals

    night = simulate_night(2, 12.5, 6.5, "wrist", params=with_removals(default_params()), nonwear=True)
    summaries = [
        analyze_stream(night.stream(chunk_size=n, temperature=True), AnalysisOptions(placement="wrist")).summary
        for n in (1 << 20, 40_000, 7_777)
    ]
    assert summaries[0].nonwear, "the night must have non-wear to compare"
    for s in summaries[1:]:
        for k in ("nonwear", "nonwear_evidence", "sleep_onset_s", "counts"):
            assert getattr(s, k) == getattr(summaries[0], k), k
