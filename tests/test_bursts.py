"""Burst detector: numerics against the slow reference, streaming = batch, physics checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypnic.detector.bursts import (
    BurstParams,
    BurstResult,
    StreamingDetector,
    detect_bursts,
    kernel_params,
)
from tests import naive
from tests.signals import burst_signal

RATES = [12.5, 25.0, 50.0, 100.0, 200.0, 400.0]


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("gaps", [0, 3])
def test_matches_reference(fs, gaps):
    t, xyz, _ = burst_signal(seed=int(fs) + gaps, fs=fs, seconds=90, n_bursts=5, gaps=gaps)
    fast = detect_bursts(t, xyz, fs).events
    ref = naive.bursts(t, xyz, fs)
    assert len(fast) == len(ref)
    for name in ("onset_s", "offset_s", "peak_s", "peak_g", "energy_g2s", "centroid_s", "spread_s",
                 "noise_g"):
        np.testing.assert_allclose(fast[name], [r[name] for r in ref], rtol=1e-9, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("fs", RATES)
def test_finds_every_burst_onset(fs):
    t, xyz, onsets = burst_signal(seed=7, fs=fs, seconds=120, n_bursts=6)
    ev = detect_bursts(t, xyz, fs).events
    assert len(ev) == len(onsets)
    # onset within 0.1 s (issue 2's median target); the filter-delay correction may put it a few
    # ms early at high rates, never more
    err = ev["onset_s"] - onsets
    assert np.all(np.abs(err) <= 0.1), err
    assert np.all(err > -0.01), err


@pytest.mark.parametrize("fs", RATES)
@pytest.mark.parametrize("noise_ug", [90.0, 300.0])
def test_no_bursts_in_pure_sensor_noise(fs, noise_ug):
    # 10 minutes of white noise at a MEMS noise density (DOMAIN.md §5.1): per axis
    # sigma = ND * sqrt(fs / 2).
    sigma = noise_ug * 1e-6 * np.sqrt(fs / 2)
    rng = np.random.default_rng(int(fs))
    n = int(600 * fs)
    xyz = rng.normal(0, sigma, (n, 3)) + [0.0, 0.0, 1.0]
    t = np.arange(n) / fs
    assert len(detect_bursts(t, xyz, fs).events) == 0


def test_gap_restarts_filters_without_a_false_burst():
    fs = 50.0
    t = np.arange(int(60 * fs)) / fs
    xyz = np.tile([0.0, 0.0, 1.0], (t.size, 1))
    # after a 10-s gap the sensor lies in another posture: a step that must not look like movement
    xyz[t >= 30] = [0.0, 1.0, 0.0]
    keep = (t < 25) | (t >= 35)
    res = detect_bursts(t[keep], xyz[keep], fs)
    assert len(res.events) == 0
    assert len(res.gaps) == 1 and res.gaps[0][0] < 25 <= 35 <= res.gaps[0][1]


def test_epochs_hold_posture_and_counts():
    fs = 25.0
    t = np.arange(int(10 * fs)) / fs
    xyz = np.tile([0.0, 0.6, 0.8], (t.size, 1))
    ep = detect_bursts(t, xyz, fs).epochs
    assert list(ep["t_s"]) == list(np.arange(10.0))
    assert np.all(ep["n"] == 25)
    np.testing.assert_allclose(ep["y"], 0.6, rtol=1e-6)


def test_kernel_params_validate_rate():
    with pytest.raises(ValueError):
        kernel_params(0.0, BurstParams())


def test_rejects_non_increasing_time_and_nan():
    det = StreamingDetector(50.0)
    with pytest.raises(ValueError):
        det.process(np.array([0.0, 0.0]), np.zeros((2, 3)))
    det = StreamingDetector(50.0)
    with pytest.raises(ValueError):
        det.process(np.array([0.0, 0.02]), np.array([[0, 0, np.nan], [0, 0, 1.0]]))


def _run_chunked(t, xyz, fs, cuts):
    det = StreamingDetector(fs)
    parts = []
    edges = [0, *sorted(set(cuts)), len(t)]
    for a, b in zip(edges[:-1], edges[1:]):
        parts.append(det.process(t[a:b], xyz[a:b]))
    parts.append(det.finish())
    return BurstResult.concatenate(parts), det


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    fs=st.sampled_from(RATES),
    gaps=st.integers(0, 3),
    data=st.data(),
)
def test_streaming_equals_batch_for_any_chunking(seed, fs, gaps, data):
    t, xyz, _ = burst_signal(seed, fs, seconds=40, n_bursts=4, gaps=gaps)
    cuts = data.draw(st.lists(st.integers(0, len(t)), max_size=40))
    batch_det = StreamingDetector(fs)
    batch = BurstResult.concatenate([batch_det.process(t, xyz), batch_det.finish()])
    chunked, det = _run_chunked(t, xyz, fs, cuts)
    assert np.array_equal(chunked.events, batch.events)
    assert np.array_equal(chunked.epochs, batch.epochs)
    assert chunked.gaps == batch.gaps
    assert np.array_equal(det.state, batch_det.state, equal_nan=True)
    assert np.array_equal(det.ring, batch_det.ring)


@pytest.mark.parametrize("fs", RATES + [1600.0])
@pytest.mark.parametrize("fc_frac", [0.01, 0.1, 0.35])
@pytest.mark.parametrize("highpass", [True, False])
def test_butter2_matches_scipy(fs, fc_frac, highpass):
    from scipy.signal import butter

    from hypnic.detector.bursts import butter2

    fc = fc_frac * fs
    sos = butter(2, fc, btype="highpass" if highpass else "lowpass", fs=fs, output="sos")[0]
    np.testing.assert_allclose(butter2(fc, fs, highpass), sos[[0, 1, 2, 4, 5]], rtol=1e-10, atol=1e-14)
