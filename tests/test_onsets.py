"""Relative onsets of transients: independent of size, not fooled by a decimation filter's ripple."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from detector.bursts import BurstParams, detect_bursts
from detector.onsets import relative_onset

P = BurstParams()


def jerk_night(fs: float, amp_g: float, onset_s: float = 20.0, seconds: float = 40.0, noise_g: float = 2e-4):
    """A 150-ms jerk with 10-Hz ringing, drawn at 400 Hz and decimated zero-phase to ``fs``."""
    hi = 400.0
    t = np.arange(int(seconds * hi)) / hi
    rel = t - onset_s
    pulse = np.where((rel >= 0) & (rel < 0.15), np.sin(np.pi * rel / 0.15), 0.0)
    ring = np.where(rel >= 0.15, 0.5 * np.sin(2 * np.pi * 10 * (rel - 0.15)) * np.exp(-(rel - 0.15) / 0.08), 0.0)
    move = amp_g * (pulse + ring)
    xyz = np.column_stack([0.6 * move, 0.8 * move, 1.0 + 0 * move])
    up = int(round(hi / fs * 2))
    out = resample_poly(xyz, 2, up, axis=0)  # zero-phase FIR: ripple ahead of the edge
    tt = np.arange(out.shape[0]) / fs
    rng = np.random.default_rng(0)
    return tt, out + rng.normal(0, noise_g, out.shape)


@pytest.mark.parametrize("fs", [12.5, 25.0, 100.0])
@pytest.mark.parametrize("amp_g", [0.3, 1.2, 3.0])
def test_a_large_jerk_opens_where_it_starts_not_where_the_ripple_does(fs, amp_g):
    t, xyz = jerk_night(fs, amp_g)
    ev = detect_bursts(t, xyz, fs, P).events
    k = int(np.argmin(np.abs(ev["onset_s"] - 20.0)))
    on = relative_onset(t, xyz, ev["onset_s"][k], ev["offset_s"][k], fs, P)
    assert abs(on - 20.0) <= 0.06 + 1 / fs
    assert on >= ev["onset_s"][k]


def test_at_12_5_hz_the_noise_threshold_alone_opens_a_large_jerk_early():
    # the reason for the module: the larger the jerk, the earlier its ripple crosses the threshold
    t, xyz = jerk_night(12.5, 3.0)
    ev = detect_bursts(t, xyz, 12.5, P).events
    k = int(np.argmin(np.abs(ev["onset_s"] - 20.0)))
    assert ev["onset_s"][k] < 20.0 - 0.15


@settings(max_examples=30)
@given(st.floats(0.05, 20.0), st.sampled_from([12.5, 50.0, 200.0]))
def test_the_onset_does_not_depend_on_the_size_of_the_movement(scale, fs):
    t, xyz = jerk_night(fs, 0.5, noise_g=0.0)
    ev = detect_bursts(t, xyz, fs, P).events
    k = int(np.argmin(np.abs(ev["onset_s"] - 20.0)))
    on, off = ev["onset_s"][k] - 1.0, ev["offset_s"][k] + 1.0  # a wide burst: same for both sizes
    base = relative_onset(t, xyz, on, off, fs, P)
    scaled = np.column_stack([xyz[:, 0] * scale, xyz[:, 1] * scale, 1.0 + (xyz[:, 2] - 1.0) * scale])
    assert relative_onset(t, scaled, on, off, fs, P) == pytest.approx(base, abs=1e-9)


def test_a_gap_just_before_the_burst_leaves_the_onset_as_detected():
    t, xyz = jerk_night(50.0, 0.5)
    keep = (t < 19.5) | (t > 19.8)  # 0.3 s lost 0.2 s before the jerk: the filters restart
    ev = detect_bursts(t[keep], xyz[keep], 50.0, P).events
    k = int(np.argmin(np.abs(ev["onset_s"] - 20.0)))
    on = relative_onset(t[keep], xyz[keep], ev["onset_s"][k], ev["offset_s"][k], 50.0, P)
    assert on == ev["onset_s"][k]
