"""What a sensor records of a synthetic night: noise, gravity, jerks, filters, gaps, non-wear."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.signal import resample_poly

from hypnic.benchmarks.synth import simulate_night
from hypnic.benchmarks.synth_params import default_params
from hypnic.benchmarks.synth_render import _micro_wave, noise_sigma, random_rotation, render_motion
from hypnic.benchmarks.synth_timeline import make_timeline
from hypnic.benchmarks.synth_waveforms import BandNoise, Motion, TrackMotion


def _quiet_mask(night, pad_s=3.0):
    """Samples at least ``pad_s`` away from every event and outside gaps/non-wear."""
    t = night.t
    quiet = np.ones(len(t), dtype=bool)
    spans = [(e["onset_s"], e["onset_s"] + e["duration_s"]) for e in night.truth["events"]]
    spans += [tuple(s) for s in night.truth["nonwear"]]
    for s, e in spans:
        quiet[np.searchsorted(t, s - pad_s) : np.searchsorted(t, e + pad_s)] = False
    return quiet


@pytest.mark.parametrize("fs", [12.5, 100.0, 400.0])
def test_noise_matches_density_on_the_nightstand(fs):
    nd = 200.0
    night = simulate_night(3, fs, 1.0, "wrist", noise_density=nd, nonwear=True)
    ((s, e),) = night.truth["nonwear"]
    hs = default_params().handling_s
    seg = night.xyz[(night.t > s + hs + 2.0) & (night.t < e - hs - 2.0)].astype(np.float64)
    assert len(seg) > 1000
    expected = noise_sigma(nd, fs)
    np.testing.assert_allclose(expected, nd * 1e-6 * np.sqrt(fs / 2.0))
    np.testing.assert_allclose(seg.std(axis=0), expected, rtol=0.1)
    # Lying flat and still: about +1 g on z, no breathing or pulse (1 s means are constant).
    mean = seg.mean(axis=0)
    assert mean[2] > 0.99 and abs(np.linalg.norm(mean) - 1.0) < 2e-3
    k = int(fs)
    means = seg[: len(seg) // k * k].reshape(-1, k, 3).mean(axis=1)
    assert np.all(means.std(axis=0) < 3 * expected / np.sqrt(k) + 1e-4)


def test_events_on_the_nightstand_are_not_visible():
    for seed in range(6):
        night = simulate_night(seed, 25.0, 2.0, "wrist", nonwear=True)
        for s, e in night.truth["nonwear"]:
            for ev in night.truth["events"]:
                if s + 1.0 < ev["onset_s"] and ev["onset_s"] + ev["duration_s"] < e - 1.0:
                    assert not ev["visible"]


@pytest.mark.parametrize("placement", ["wrist", "left_ankle"])
def test_gravity_is_one_g_at_rest(placement):
    night = simulate_night(5, 100.0, 1.0, placement, noise_density=100.0)
    quiet = _quiet_mask(night)
    assert quiet.mean() > 0.5
    mag = np.linalg.norm(night.xyz[quiet].astype(np.float64), axis=1)
    assert abs(np.median(mag) - 1.0) < 3e-3
    assert np.percentile(np.abs(mag - 1.0), 99.9) < 0.02


def test_jerks_are_seen_by_wrist_and_ankle_at_once():
    checked = 0
    for seed in range(3):
        nights = [
            simulate_night(seed, 400.0, 0.5, p, noise_density=150.0) for p in ("wrist", "ankle")
        ]
        tl = nights[0].timeline
        for i, ev in enumerate(nights[0].truth["events"]):
            if ev["kind"] != "hypnic_jerk":
                continue
            assert all(n.truth["events"][i]["visible"] for n in nights)
            delays = [tm.delay_s for tm in tl.events[i].motion.tracks.values()]
            assert max(delays) - min(delays) <= 0.020
            starts = []
            for n in nights:
                i0 = np.searchsorted(n.t, ev["onset_s"] - 2.0)
                seg = n.xyz[i0 : i0 + int(3.0 * 400)].astype(np.float64)
                dev = np.linalg.norm(seg - np.median(seg[:400], axis=0), axis=1)
                starts.append(n.t[i0 + np.argmax(dev > 0.2 * dev.max())])
            assert abs(starts[0] - starts[1]) <= 0.030
            assert abs(starts[0] - ev["onset_s"]) <= 0.1
            checked += 1
    assert checked >= 4


def _night_with_all_leg_movements() -> int:
    """The first seed with LMs on each leg and on both, some of them invisible."""
    for seed in range(50):
        events = make_timeline(seed, 4.0, default_params()).events
        limbs = {ev.limb for ev in events if ev.kind == "leg_movement"}
        if (
            limbs >= {"left_leg", "right_leg", "both_legs"}
            and sum(ev.invisible for ev in events) > 2
        ):
            return seed
    raise AssertionError("no such night in the first 50 seeds")


def test_visibility_follows_the_limb():
    seed = _night_with_all_leg_movements()
    nights = {p: simulate_night(seed, 25.0, 4.0, p) for p in ("wrist", "left_ankle", "right_ankle")}
    tl = nights["wrist"].timeline
    sees = {
        "wrist": {"body", "arm"},
        "left_ankle": {"body", "left_leg", "both_legs"},
        "right_ankle": {"body", "right_leg", "both_legs"},
    }
    n_lm = n_invisible = 0
    for i, ev in enumerate(tl.events):
        for p, night in nights.items():
            vis = night.truth["events"][i]["visible"]
            if ev.invisible or (ev.limb != "sensor" and ev.limb not in sees[p]):
                assert not vis
            if ev.kind in ("hypnic_jerk", "turn_over") or (
                ev.kind == "leg_movement" and not ev.invisible and ev.limb in sees[p]
            ):
                assert vis, (p, ev.kind, ev.onset_s)
        n_lm += ev.kind == "leg_movement"
        n_invisible += ev.invisible
    assert n_lm > 20 and 0 < n_invisible < n_lm


def _jerk_motion(seed=0):
    tl = make_timeline(seed, 1.0, default_params())
    return next(ev for ev in tl.events if ev.kind == "hypnic_jerk")


@pytest.mark.parametrize("fs", [12.5, 50.0])
def test_local_rendering_equals_whole_signal_decimation(fs):
    """Slow reference: evaluate the whole 20 s on the fast grid and decimate it at once."""
    ev = _jerk_motion()
    m, onset, n = ev.motion, 7.3, int(20 * fs)
    i0, sig = render_motion(m, "wrist", onset, 0.5, fs, n)
    local = np.zeros((n, 3))
    local[i0 : i0 + len(sig)] = sig
    up = int(np.ceil(4 * m.f_max() / fs))
    assert up > 1
    t_hi = np.arange(n * up) / (fs * up)
    reference = resample_poly(m.linear("wrist", t_hi - onset) * 0.5, 1, up, axis=0)
    np.testing.assert_allclose(local, reference, atol=1e-5)


def test_slow_movements_at_high_rate_match_direct_evaluation():
    rng = np.random.default_rng(1)
    m = Motion("turn_over", 12.0, {}, {"wrist": TrackMotion(noise=BandNoise.draw(rng, 0.3, 5.0))})
    fs, onset = 1600.0, 3.0
    i0, sig = render_motion(m, "wrist", onset, 0.3, fs, int(20 * fs))
    t = (i0 + np.arange(len(sig))) / fs
    direct = m.linear("wrist", t - onset) * 0.3
    np.testing.assert_allclose(sig, direct, atol=0.003 * 0.3)


def test_anti_alias_filter_hides_fast_transients_at_low_rates():
    rng = np.random.default_rng(2)
    knock = Motion(
        "knock", 0.01, {"hz": 250.0}, {"wrist": TrackMotion(u=np.array([0.0, 0.0, 1.0]))}
    )
    peaks = {}
    for fs in (12.5, 100.0, 1600.0):
        _, sig = render_motion(knock, "wrist", 1.0, 3.0, fs, int(3 * fs))
        peaks[fs] = np.abs(sig).max()
    assert peaks[1600.0] > 2.0  # a 3 g knock is seen at 1600 Hz
    assert peaks[12.5] < 0.05 * peaks[1600.0]  # ... and almost filtered out at 12.5 Hz
    assert peaks[100.0] < 0.3 * peaks[1600.0]
    # A slow movement passes a slow sensor's filter almost unchanged.
    slow = Motion("fidget", 4.0, {}, {"wrist": TrackMotion(noise=BandNoise.draw(rng, 0.5, 2.0))})
    _, sig = render_motion(slow, "wrist", 1.0, 0.1, 12.5, 100)
    assert 0.09 < np.linalg.norm(sig, axis=1).max() <= 0.101


def test_breathing_phase_integrates_the_drifting_rate():
    tl = make_timeline(9, 0.5, default_params())
    mm = tl.breathing
    t = np.arange(0.0, 1800.0, 0.01)
    f = np.interp(t, mm.knot_t, mm.knot_hz)
    phase = 2 * np.pi * np.concatenate([[0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * 0.01)])
    wave = sum(
        a * np.sin((h + 1) * phase + ph)
        for h, (a, ph) in enumerate(zip(mm.harmonics, mm.harmonic_phase, strict=True))
    )
    wave *= np.interp(t, mm.knot_t, mm.knot_amp) / sum(mm.harmonics)
    np.testing.assert_allclose(_micro_wave(mm, t), wave, atol=1e-6)
    assert 0.2 <= mm.knot_hz.min() and mm.knot_hz.max() <= 0.33


def test_micro_motion_is_in_the_published_ranges():
    night = simulate_night(8, 50.0, 0.5, "wrist", noise_density=0.0)
    quiet = _quiet_mask(night)
    seg = night.xyz[quiet][: 50 * 120].astype(np.float64)  # two quiet minutes (if present)
    dev = np.linalg.norm(seg - seg.mean(axis=0), axis=1)
    assert 0.3e-3 < dev.max() < 6e-3  # breathing 1-3 mg plus pulse 0.5-2 mg
    spec = np.abs(np.fft.rfft(seg - seg.mean(axis=0), axis=0)).sum(axis=1)
    freqs = np.fft.rfftfreq(len(seg), 1 / 50.0)
    assert 0.15 < freqs[np.argmax(spec[1:]) + 1] < 4.0


def test_mounting_rotation_rotates_the_worn_signal():
    plain = simulate_night(7, 25.0, 0.3, "wrist", noise_density=0.0)
    rot = simulate_night(7, 25.0, 0.3, "wrist", noise_density=0.0, rotation="random")
    r = np.array(rot.truth["rotation"])
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-5)
    lsb = default_params().lsb_g
    np.testing.assert_allclose(rot.xyz, plain.xyz @ r.T.astype(np.float32), atol=2.5 * lsb)
    other = simulate_night(7, 25.0, 0.3, "ankle", noise_density=0.0, rotation="random")
    assert not np.allclose(other.truth["rotation"], r)
    given = simulate_night(7, 25.0, 0.3, "wrist", noise_density=0.0, rotation=r)
    np.testing.assert_allclose(given.xyz, rot.xyz, atol=2 * lsb)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_random_rotation_is_proper(seed):
    r = random_rotation(np.random.default_rng(seed))
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_gaps_are_cut_out_of_the_samples():
    full = simulate_night(10, 25.0, 1.0, "ankle")
    cut = simulate_night(10, 25.0, 1.0, "ankle", gaps=True)
    gaps = cut.truth["gaps"]
    assert 2 <= len(gaps) <= 6
    jumps = np.flatnonzero(np.diff(cut.t) > 1.5 / 25.0)
    assert len(jumps) == len(gaps)
    for j, (s, e) in zip(jumps, gaps, strict=True):
        assert cut.t[j] < s <= cut.t[j] + 0.04 + 1e-9 and e <= cut.t[j + 1] < e + 0.04 + 1e-9
    keep = np.isin(full.t, cut.t)
    np.testing.assert_array_equal(full.xyz[keep], cut.xyz)
    assert cut.stream().gaps == gaps


def test_amplitude_scale_zero_leaves_only_posture_breathing_and_noise():
    night = simulate_night(1, 25.0, 0.5, "left_ankle", amplitude_scale=0.0)
    assert not any(e["visible"] for e in night.truth["events"])
    loud = simulate_night(1, 25.0, 0.5, "left_ankle", amplitude_scale=2.0)
    base = simulate_night(1, 25.0, 0.5, "left_ankle")
    for a, b in zip(loud.truth["events"], base.truth["events"], strict=True):
        assert a["amplitude_g"] == pytest.approx(2 * b["amplitude_g"], rel=1e-3)


@pytest.mark.parametrize("fs", [12.5, 1600.0])
def test_extreme_rates(fs):
    night = simulate_night(2, fs, 0.05, "right_ankle")
    assert night.xyz.shape == (int(round(0.05 * 3600 * fs)), 3) and night.xyz.dtype == np.float32
    np.testing.assert_allclose(np.diff(night.t), 1.0 / fs)
    lsb = default_params().lsb_g
    np.testing.assert_array_equal(np.round(night.xyz / lsb) * lsb, night.xyz)
    assert night.info.fs == fs and night.truth["fs"] == fs
