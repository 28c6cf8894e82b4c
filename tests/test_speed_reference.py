"""The vectorised numpy/scipy reference is the same pipeline as the numba kernel: same bursts,
same epochs, same gaps, same night, on hand-made signals, synthetic nights and random ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypnic.benchmarks.reference import (
    reference_analyze,
    reference_bursts,
    reference_transients,
    running_noise,
)
from hypnic.detector.bursts import BurstParams, detect_bursts
from tests.signals import burst_signal

EVENT_FIELDS = ("onset_s", "offset_s", "duration_s", "peak_s", "peak_g", "peak_jerk_gps",
                "rise_time_s", "energy_g2s", "centroid_s", "spread_s", "noise_g")


def assert_same_bursts(fast, ref) -> None:
    assert fast.gaps == ref.gaps
    assert len(fast.events) == len(ref.events)
    for name in EVENT_FIELDS:
        # Rounding only: sums in another order, lfilter's EMA instead of the kernel's.
        np.testing.assert_allclose(ref.events[name], fast.events[name], rtol=1e-9, atol=1e-11,
                                   err_msg=name)
    assert len(fast.epochs) == len(ref.epochs)
    for name in fast.epochs.dtype.names:
        np.testing.assert_allclose(ref.epochs[name], fast.epochs[name], rtol=1e-6, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("fs", [12.5, 50.0, 100.0, 400.0])
@pytest.mark.parametrize("gaps", [0, 4])
def test_reference_gives_the_kernels_bursts(fs, gaps):
    t, xyz, onsets = burst_signal(seed=int(fs) + gaps, fs=fs, seconds=150, n_bursts=6, gaps=gaps)
    fast = detect_bursts(t, xyz, fs)
    assert len(fast.events) >= 4  # the signal does exercise the hysteresis
    assert_same_bursts(fast, reference_bursts(t, xyz, fs))


@pytest.mark.parametrize(("placement", "fs"), [("ankle", 25.0), ("wrist", 50.0)])
def test_reference_pipeline_gives_the_same_night(placement, fs):
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.pipeline import analyze_stream

    night = simulate_night(5, fs, 1.5, placement, gaps=True, nonwear=True)
    fast = analyze_stream(night.stream(chunk_size=20_000))
    events, summary = reference_analyze(night.t, night.xyz, night.info, reader_gaps=night.truth["gaps"])
    ref = reference_bursts(night.t, night.xyz, fs)
    ref.events["onset_s"], ref.shapes = reference_transients(night.t, night.xyz, ref.events, fs, BurstParams())
    assert_same_bursts(fast.bursts, ref)  # transient onsets re-measured on both sides
    np.testing.assert_allclose(fast.bursts.shapes, ref.shapes, rtol=1e-9, atol=1e-12)
    assert len(events) == len(fast.events) > 10
    for a, b in zip(events, fast.events):
        assert a.label == b.label
        assert a.onset_s == pytest.approx(b.onset_s, abs=1e-9)
    for key in ("sleep_onset_s", "sleep_end_s", "counts", "plms_index", "gaps", "nonwear",
                "jerks_first_30_min"):
        assert getattr(summary, key) == getattr(fast.summary, key), key


def _signal(draw_seed: int, fs: float, seconds: float, n_bursts: int, gaps: int, quiet: bool):
    """Noise, bursts and gaps; ``quiet`` adds a silent stretch (noise estimate at its floor)."""
    t, xyz, _ = burst_signal(seed=draw_seed, fs=fs, seconds=seconds, n_bursts=n_bursts, gaps=gaps)
    if quiet:
        xyz[: xyz.shape[0] // 4] = xyz[0]
    return t, xyz


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    fs=st.sampled_from([12.5, 25.0, 52.0, 100.0]),
    n_bursts=st.integers(0, 8),
    gaps=st.integers(0, 4),
    quiet=st.booleans(),
    k_low=st.floats(1.0, 3.0),
    k_ratio=st.floats(1.0, 3.0),
    min_quiet=st.floats(0.02, 1.5),
    window=st.sampled_from([1.0, 3.0, 10.0, 60.0]),
    q=st.floats(0.0, 1.0),
)
def test_reference_matches_kernel_on_random_signals(seed, fs, n_bursts, gaps, quiet, k_low,
                                                     k_ratio, min_quiet, window, q):
    params = BurstParams(k_low=k_low, k_high=k_low * k_ratio, floor_low_g=0.002,
                         floor_high_g=0.002 * k_ratio, min_quiet_s=min_quiet,
                         noise_window_s=window, noise_quantile=q)
    t, xyz = _signal(seed, fs, 40.0, n_bursts, gaps, quiet)
    assert_same_bursts(detect_bursts(t, xyz, fs, params), reference_bursts(t, xyz, fs, params))


def _slow_running_noise(block_e2: np.ndarray, n_keep: int, q: float) -> np.ndarray:
    out = [0.0]
    for i in range(len(block_e2)):
        recent = sorted(block_e2[max(0, i + 1 - n_keep) : i + 1])
        out.append(np.sqrt(recent[int(q * (len(recent) - 1) + 0.5)]))
    return np.array(out)


@given(
    blocks=st.lists(st.floats(0.0, 1.0, allow_subnormal=False), max_size=80),
    n_keep=st.integers(1, 30),
    q=st.floats(0.0, 1.0),
)
def test_running_noise_is_a_causal_window_quantile(blocks, n_keep, q):
    be = np.asarray(blocks, dtype=np.float64)
    np.testing.assert_array_equal(running_noise(be, n_keep, q), _slow_running_noise(be, n_keep, q))
