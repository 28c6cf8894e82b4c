"""Relative onsets of transients: independent of size, not fooled by a decimation filter's ripple."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from hypnic.detector.bursts import BurstParams, detect_bursts
from hypnic.detector.onsets import relative_onset

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


# --- transient_shape: linearity and relative mean frequency -------------------------------------

from hypnic.detector.onsets import transient_shape  # noqa: E402


def _pulse(fs: float, width_s: float, ring: float = 0.0, onset_s: float = 5.0, seconds: float = 10.0):
    """A biphasic pulse along x, optionally followed by 8-Hz ringing along y; on 1 g of gravity."""
    t = np.arange(int(seconds * fs)) / fs
    x = (t - onset_s) / width_s
    pulse = np.where((x >= 0) & (x < 1), np.sin(2 * np.pi * x) * np.sin(np.pi * x), 0.0)
    y_rel = t - onset_s - width_s
    ringing = np.where(y_rel >= 0, ring * np.sin(2 * np.pi * 8 * y_rel) * np.exp(-y_rel / 0.1), 0.0)
    xyz = np.column_stack([pulse, ringing, np.ones_like(t)])
    return t, xyz


def _rotation(seed: int) -> np.ndarray:
    q = np.random.default_rng(seed).normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.05, 3.0), fs=st.sampled_from([25.0, 100.0, 400.0]))
def test_shape_does_not_depend_on_size_or_orientation(seed, scale, fs):
    t, xyz = _pulse(fs, 0.15, ring=0.5)
    move = (xyz - [0, 0, 1]) * scale
    turned = move @ _rotation(seed).T + _rotation(seed) @ [0, 0, 1]
    a = transient_shape(t, move + [0, 0, 1], 5.0, 5.6, fs, P)
    b = transient_shape(t, turned, 5.0, 5.6, fs, P)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("fs", [50.0, 100.0, 400.0])
def test_a_movement_along_one_line_is_linear_and_ringing_across_it_is_not(fs):
    line, _ = transient_shape(*_pulse(fs, 0.15), 5.0, 5.4, fs, P)
    rung, _ = transient_shape(*_pulse(fs, 0.15, ring=0.6), 5.0, 5.6, fs, P)
    assert line > 0.97 and rung < 0.9


@pytest.mark.parametrize("fs", [50.0, 100.0, 400.0])
def test_a_briefer_pulse_has_the_higher_relative_frequency(fs):
    _, brief = transient_shape(*_pulse(fs, 0.06), 5.0, 5.3, fs, P)
    _, long_ = transient_shape(*_pulse(fs, 0.25), 5.0, 5.5, fs, P)
    assert brief > long_ and 0 < long_ < 1.5


def test_a_snippet_that_starts_at_the_burst_has_no_shape():
    t, xyz = _pulse(100.0, 0.15, onset_s=0.2)
    assert np.isnan(transient_shape(t, xyz, 0.2, 0.6, 100.0, P)).all()
