"""Wake and sleep over a night from the movements that witness them: a hidden Markov model.

A night in bed is a left-to-right chain of four states: wake before sleep, sleep, brief
awakenings inside sleep (which return to sleep), and the wake after the final awakening. Each
witness (:class:`detector.sleep_onset.Witness`: repositionings, turn-overs, twitches, leg
movements...) is a Poisson process with one rate awake and one asleep. The rates are the
night's own, fitted by expectation-maximisation with weak Gamma priors and each witness's known
direction (a wake witness is never more frequent asleep); the transition probabilities are fixed
priors. The sleep onset is then a distribution, the posterior probability of the one transition
from the first wake into sleep at each step, and so is the final awakening.

Why a model with awakenings: a single change point from a wake rate to a sleep rate lets a wake
bout hours into the night pass for the end of the evening's wake whenever the evening was quiet;
here a bout is explained as a bout, and costs the onset nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hypnic.detector._hmm import forward_backward

#: States, in left-to-right order.
WAKE_BEFORE, SLEEP, AWAKENING, WAKE_AFTER = 0, 1, 2, 3
N_STATES = 4
#: Which rate each state emits at: 0 awake, 1 asleep.
RATE_OF_STATE = np.array([0, 1, 0, 0])
#: Step of the model (s): finer than the intervals between the movements that matter.
STEP_S = 30.0
#: Prior mean time from the search start to sleep onset (a geometric prior). Sleep onset latency
#: is 10-30 min in healthy adults (longer in insomnia); the search starts up to 30 min before
#: HDCZA's quiet block. Each hour more costs a factor e^-2, which a restless wake's movements
#: outweigh many times over. Benchmark (360 nights, 5 conditions): nights with an onset error
#: > 10 min 47 (2 h), 36 (1 h), 27 (30 min), 27 (20 min).
LATENCY_MEAN_S = 1800.0
#: Brief awakenings: a few an hour in healthy sleep (assumed: WASO bouts of a few minutes are
#: common; DOMAIN.md §4.1 Webster rescoring treats >= 4 min of wake as a real bout), lasting
#: minutes.
AWAKENINGS_PER_H = 1.0
AWAKENING_MEAN_S = 300.0
#: Prior mean time from sleep onset to the final awakening: a night's sleep.
SLEEP_MEAN_S = 7 * 3600.0
#: The recording may start asleep (a sensor switched on in bed, a nap): prior probability.
START_ASLEEP_P = 0.02
#: Weight of each rate's Gamma prior, in seconds of observation at the witness's rate over the
#: whole night: a few movements' worth.
PRIOR_S = 600.0
EM_ITERATIONS = 50
EM_TOLERANCE = 1e-6


@dataclass
class SleepStates:
    """The fitted model of one night.

    Attributes
    ----------
    t_s : ndarray of float, shape (T,)
        Start of each step.
    asleep : ndarray of float, shape (T,)
        Posterior probability of sleep (not an awakening) at each step.
    onset_p : ndarray of float, shape (T,)
        Posterior probability that sleep begins at the start of each step.
    rates_per_h : ndarray of float, shape (2, K)
        Fitted rates (per hour) of each witness awake (row 0) and asleep (row 1).
    loglik : float
    """

    t_s: np.ndarray
    asleep: np.ndarray
    onset_p: np.ndarray
    rates_per_h: np.ndarray
    loglik: float

    def quantiles(self, p: np.ndarray, q: tuple[float, ...]) -> list[float] | None:
        """Times at which the cumulative of ``p`` (such as onset_p) reaches each of ``q``; None
        when the distribution holds less than half the probability (no transition likely)."""
        total = float(p.sum())
        if total < 0.5:
            return None
        cdf = np.cumsum(p) / total
        idx = np.minimum(np.searchsorted(cdf, q), p.size - 1)
        return [float(self.t_s[i]) for i in idx]


def transition_matrix(step_s: float = STEP_S) -> np.ndarray:
    """The fixed transition probabilities per step (see the module constants)."""
    on = step_s / LATENCY_MEAN_S
    wake_up = step_s / SLEEP_MEAN_S
    bout = step_s * AWAKENINGS_PER_H / 3600.0
    back = step_s / AWAKENING_MEAN_S
    a = np.zeros((N_STATES, N_STATES))
    a[WAKE_BEFORE, WAKE_BEFORE], a[WAKE_BEFORE, SLEEP] = 1 - on, on
    a[SLEEP, SLEEP], a[SLEEP, AWAKENING], a[SLEEP, WAKE_AFTER] = 1 - bout - wake_up, bout, wake_up
    a[AWAKENING, SLEEP], a[AWAKENING, AWAKENING], a[AWAKENING, WAKE_AFTER] = back, 1 - back - wake_up, wake_up
    a[WAKE_AFTER, WAKE_AFTER] = 1.0
    return a


def fit_states(
    counts: np.ndarray, observed: np.ndarray, falls: np.ndarray, t0: float, step_s: float = STEP_S
) -> SleepStates:
    """Fit the model to one night's witness counts.

    Parameters
    ----------
    counts : ndarray of float, shape (T, K)
        Movements of each witness per step.
    observed : ndarray of float, shape (T,)
        Fraction of each step with samples from a worn sensor (0 in gaps and non-wear, where
        the observations say nothing).
    falls : ndarray of bool, shape (K,)
        True for wake witnesses (rate higher awake), False for sleep witnesses.
    t0 : float
        Start of the first step (s).
    step_s : float

    Returns
    -------
    SleepStates
    """
    counts = np.asarray(counts, dtype=np.float64)
    observed = np.clip(np.asarray(observed, dtype=np.float64), 0.0, 1.0)
    falls = np.asarray(falls, dtype=bool)
    n_t, n_k = counts.shape
    exposure = observed * step_s
    total_time = max(float(exposure.sum()), step_s)
    pooled = (counts.sum(axis=0) + 0.5) / total_time  # per second
    prior_a = pooled * PRIOR_S
    # Start from rates that differ by a factor of 4 in each witness's direction.
    rates = np.empty((2, n_k))
    rates[0] = np.where(falls, 2.0, 0.5) * pooled
    rates[1] = np.where(falls, 0.5, 2.0) * pooled
    trans = transition_matrix(step_s)
    init = np.zeros(N_STATES)
    init[WAKE_BEFORE], init[SLEEP] = 1.0 - START_ASLEEP_P, START_ASLEEP_P
    prev = -np.inf
    for _ in range(EM_ITERATIONS):
        log_emit = _log_emission(counts, exposure, rates)
        gamma, xi, loglik = forward_backward(log_emit, trans, init)
        g = np.stack([gamma[:, RATE_OF_STATE == 0].sum(axis=1), gamma[:, RATE_OF_STATE == 1].sum(axis=1)])
        for r in (0, 1):
            rates[r] = (prior_a + g[r] @ counts) / (PRIOR_S + g[r] @ exposure)
        # A wake witness is never more frequent asleep (and the reverse): where the fit says so,
        # the witness tells nothing and gets one rate.
        wrong = np.where(falls, rates[0] < rates[1], rates[0] > rates[1])
        if np.any(wrong):
            both = (2 * prior_a + counts.sum(axis=0)) / (2 * PRIOR_S + exposure.sum())
            rates[:, wrong] = both[wrong]
        if loglik - prev < EM_TOLERANCE * max(1.0, abs(loglik)):
            break
        prev = loglik
    log_emit = _log_emission(counts, exposure, rates)
    gamma, xi, loglik = forward_backward(log_emit, trans, init)
    t = t0 + step_s * np.arange(n_t)
    onset_p = xi[:, WAKE_BEFORE, SLEEP].copy()
    onset_p[0] = gamma[0, SLEEP]  # asleep from the start
    return SleepStates(t, gamma[:, SLEEP], onset_p, rates * 3600.0, float(loglik))


def _log_emission(counts: np.ndarray, exposure: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Poisson log-probability of each step's counts in each state (terms in n! dropped)."""
    lam = exposure[:, None, None] * rates[None, :, :]  # (T, 2, K)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.where(lam > 0, counts[:, None, :] * np.log(np.where(lam > 0, lam, 1.0)) - lam, 0.0)
    per_rate = ll.sum(axis=2)  # (T, 2)
    return per_rate[:, RATE_OF_STATE]


def bin_counts(times: list[np.ndarray], t0: float, t1: float, step_s: float = STEP_S) -> np.ndarray:
    """Counts of each witness's times per step over [t0, t1) (shape (T, K))."""
    n_t = max(1, int(np.ceil((t1 - t0) / step_s)))
    out = np.zeros((n_t, len(times)))
    for k, t in enumerate(times):
        t = np.asarray(t, dtype=np.float64)
        t = t[(t >= t0) & (t < t1)]
        idx = np.minimum(((t - t0) // step_s).astype(np.int64), n_t - 1)
        np.add.at(out[:, k], idx, 1.0)
    return out
