"""The night's hidden Markov model: the kernel against brute force, the onset on known nights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.detector._hmm import forward_backward
from hypnic.detector.epochs import ANGLE_EPOCH_S
from hypnic.detector.sleep_onset import Witness, change_point, night_states
from hypnic.detector.sleep_states import STEP_S, bin_counts, fit_states, transition_matrix


def brute_force(log_emit: np.ndarray, trans: np.ndarray, init: np.ndarray):
    """Posteriors by summing over every state path (the obvious, exponential reference)."""
    n_t, n_s = log_emit.shape
    gamma = np.zeros((n_t, n_s))
    xi = np.zeros((n_t, n_s, n_s))
    total = 0.0
    for path in itertools.product(range(n_s), repeat=n_t):
        p = init[path[0]] * np.exp(log_emit[0, path[0]])
        for t in range(1, n_t):
            p *= trans[path[t - 1], path[t]] * np.exp(log_emit[t, path[t]])
        total += p
        for t in range(n_t):
            gamma[t, path[t]] += p
            if t:
                xi[t, path[t - 1], path[t]] += p
    return gamma / total, xi / total, np.log(total)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_t=st.integers(1, 6),
    n_s=st.integers(1, 3),
    scale=st.floats(0.1, 30.0),
)
def test_forward_backward_matches_the_sum_over_every_path(seed, n_t, n_s, scale):
    rng = np.random.default_rng(seed)
    trans = rng.dirichlet(np.ones(n_s), size=n_s)
    init = rng.dirichlet(np.ones(n_s))
    log_emit = -scale * rng.random((n_t, n_s)) - 50.0  # far below 1: the scaling must cope
    gamma, xi, ll = forward_backward(log_emit, trans, init)
    g_ref, xi_ref, ll_ref = brute_force(log_emit, trans, init)
    np.testing.assert_allclose(gamma, g_ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(xi, xi_ref, rtol=1e-9, atol=1e-12)
    assert ll == pytest.approx(ll_ref, rel=1e-9)


def test_the_model_only_moves_forward_and_awakenings_return():
    a = transition_matrix()
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    assert np.all(np.tril(a, -1)[[0, 1, 3]] == 0) and a[2, 1] > 0  # awakening -> sleep only back step
    assert a[3, 3] == 1.0


def test_counts_fall_in_their_steps():
    c = bin_counts([np.array([0.0, 29.9, 30.0, 95.0, 200.0])], 0.0, 90.0)
    assert c[:, 0].tolist() == [2.0, 1.0, 0.0]


def _night(wake_min: float, sleep_h: float, seed: int, bout_at_h: float | None = None):
    """Witnesses of a night: repositionings 20/h and turn-overs 15/h awake, then sleep with
    turn-overs 5/h and twitches 15/h; optionally a 6-min awakening with fidgeting."""
    rng = np.random.default_rng(seed)
    onset = wake_min * 60.0
    end = onset + sleep_h * 3600.0

    def poisson(rate_h, a, b):
        return np.sort(rng.uniform(a, b, rng.poisson(rate_h * (b - a) / 3600.0)))

    repos = poisson(20, 0, onset)
    turns = np.concatenate([poisson(15, 0, onset), poisson(5, onset, end)])
    twitches = poisson(15, onset + 60, end)
    if bout_at_h is not None:
        b0 = onset + bout_at_h * 3600.0
        repos = np.concatenate([repos, poisson(60, b0, b0 + 360.0)])
    w = [
        Witness(repos - 2, repos, True, "repositioning"),
        Witness(np.sort(turns) - 10, np.sort(turns), True, "turn_over"),
        Witness(twitches, twitches + 0.1, False, "transient"),
    ]
    return w, onset, end


def _states(w, end):
    t = np.arange(0.0, end, ANGLE_EPOCH_S)
    return night_states(t, np.ones(t.size, bool), w, 0.0, end)


@pytest.mark.parametrize("wake_min", [10.0, 35.0, 90.0])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_onset_is_where_fidgeting_stops_and_twitches_start(wake_min, seed):
    w, onset, end = _night(wake_min, 6.0, seed)
    s = _states(w, end)
    med, lo, hi = s.quantiles(s.onset_p, (0.5, 0.025, 0.975))
    assert lo <= onset <= hi
    if wake_min >= 30:  # long enough a wake to show its rate (10 min holds ~3 repositionings)
        assert abs(med - onset) < 6 * 60
    assert s.rates_per_h[0, 0] > 5 * s.rates_per_h[1, 0]  # repositionings: awake >> asleep
    assert s.rates_per_h[1, 2] > s.rates_per_h[0, 2]  # twitches: asleep > awake (a short
    # wake's rate stays near the prior, the night's mean)


def test_an_awakening_late_in_the_night_does_not_move_the_onset():
    # A single change point takes a restless bout 3 h in for the end of the evening's wake when
    # the evening was quiet; the model explains it as an awakening.
    w, onset, end = _night(20.0, 6.0, 4, bout_at_h=3.0)
    s = _states(w, end)
    med = s.quantiles(s.onset_p, (0.5,))[0]
    assert abs(med - onset) < 6 * 60
    bout = (s.t_s > onset + 3 * 3600 + 60) & (s.t_s < onset + 3 * 3600 + 300)
    assert s.asleep[bout].mean() < 0.5


def test_steps_without_a_worn_sensor_say_nothing():
    # The same night with an hour of non-wear in the middle of sleep: the onset stays put and the
    # hour without samples is not taken as wake or sleep evidence.
    w, onset, end = _night(30.0, 6.0, 5)
    t = np.arange(0.0, end, ANGLE_EPOCH_S)
    valid = np.ones(t.size, bool)
    valid[(t > onset + 2 * 3600) & (t < onset + 3 * 3600)] = False
    a = night_states(t, np.ones(t.size, bool), w, 0.0, end)
    b = night_states(t, valid, w, 0.0, end)
    qa, qb = a.quantiles(a.onset_p, (0.5,))[0], b.quantiles(b.onset_p, (0.5,))[0]
    assert abs(qa - qb) <= STEP_S


def test_twitches_another_sensor_saw_help_place_the_onset():
    # One sensor barely sees the wake thin out; the other sensor's twitches start with sleep.
    rng = np.random.default_rng(7)
    onset, end = 3600.0, 6 * 3600.0
    turns = np.sort(np.concatenate([rng.uniform(0, onset, 12), rng.uniform(onset, end, 40)]))
    own = [Witness(turns - 5, turns, True, "turn_over")]
    twitches = np.sort(rng.uniform(onset + 60, end, 150))
    alone = _states(own, end)
    both = _states(own + [Witness(twitches, twitches, False, "other_sensor_transient")], end)
    q_alone = alone.quantiles(alone.onset_p, (0.5,))
    q_both = both.quantiles(both.onset_p, (0.5,))[0]
    assert abs(q_both - onset) < 600
    assert q_alone is None or abs(q_both - onset) < abs(q_alone[0] - onset)


def test_a_night_without_any_movement_gives_no_onset_distribution():
    s = fit_states(np.zeros((100, 2)), np.ones(100), np.array([True, False]), 0.0)
    assert s.quantiles(s.onset_p, (0.5,)) is None or np.isfinite(s.loglik)


def test_the_change_point_without_a_change_returns_the_search_start():
    w = [Witness(np.array([600.0]), np.array([603.0]), True, "fidget")]  # only after any candidate
    assert change_point(w, 0.0, 6 * 3600.0, latest=300.0) == (0.0, 0.0, 0.0)
    assert change_point([], 0.0, 6 * 3600.0) is None


def test_a_jerk_says_the_onset_lies_within_the_jerk_window_around_it():
    from hypnic.detector.classify import JERK_WINDOW_S
    from hypnic.detector.sleep_onset import JERK_LATE_SHARE, jerk_mark_likelihood

    c = np.arange(0.0, 7200.0, 30.0)
    like = jerk_mark_likelihood(c, np.array([3000.0]), 7200.0)
    inside = (3000.0 - c >= JERK_WINDOW_S[0]) & (3000.0 - c <= JERK_WINDOW_S[1])
    assert np.all(like[inside] == like.max()) and np.all(like[~inside] == like.min())
    width = JERK_WINDOW_S[1] - JERK_WINDOW_S[0]
    ratio = ((1 - JERK_LATE_SHARE) / width + JERK_LATE_SHARE / 7200.0) / (JERK_LATE_SHARE / 7200.0)
    assert like.max() / like.min() == pytest.approx(ratio)


def test_a_jerk_like_transient_settles_an_onset_the_movements_leave_open():
    # A quiet evening with few repositionings: the movements alone leave the onset uncertain over
    # tens of minutes; a jerk at 41 min narrows it to the jerk window around the jerk.
    from hypnic.detector.sleep_onset import find_sleep_period

    rng = np.random.default_rng(11)
    onset, end = 40 * 60.0, 6 * 3600.0
    repos = np.sort(rng.uniform(0, onset, 3))
    turns = np.sort(np.concatenate([rng.uniform(0, onset, 4), rng.uniform(onset, end, 25)]))
    w = [Witness(repos - 2, repos, True, "repositioning"), Witness(turns - 8, turns, True, "turn_over")]
    t = np.arange(0.0, end, ANGLE_EPOCH_S)
    flat = np.zeros(t.size)
    alone = find_sleep_period(t, flat, flat, flat + 1.0, w)
    marked = find_sleep_period(t, flat, flat, flat + 1.0, w, jerk_marks=np.array([onset + 60.0]))
    from hypnic.detector.classify import JERK_WINDOW_S

    lo, hi = onset + 60.0 - JERK_WINDOW_S[1], onset + 60.0 - JERK_WINDOW_S[0]
    assert alone.window_s[0] < lo and alone.window_s[1] > hi  # the movements alone: wide open
    assert lo <= marked.window_s[0] <= onset <= marked.window_s[1] <= hi
