"""Sleep onset and the sleep period from the accelerometer alone.

The sleep period is found with HDCZA (van Hees et al., Sci Rep 2018; GGIR ``HASPT.R``, DOMAIN.md
§4.1) on the z-angle of 5-s epochs: the 5-min rolling median of the absolute z-angle change is
compared with a per-recording threshold (10th percentile × 15, clamped to 0.13-0.50°); quiet
blocks longer than 30 min joined across breaks shorter than 60 min; the longest is the sleep
period. A brief burst (a jerk, a twitch) does not change the posture, so it does not break the
quiet.

HDCZA finds the time in bed rather than sleep (quiet wake counts as no movement), its edges have
the resolution of its 5-min median, and at an ankle, which barely tilts while a person lies
awake, it often starts with the recording. The onset is therefore found from the movements
themselves: witnesses whose rates differ awake and asleep (:class:`Witness`: small
repositionings and turn-overs awake, twitches asleep...) in a hidden Markov model of the night
(:mod:`detector.sleep_states`), from 30 min before HDCZA's start to its end. The final awakening
is the same question asked backwards over HDCZA's last 30 min (:func:`refine_end`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter
from scipy.special import gammaln

from hypnic.detector.classify import JERK_WINDOW_S
from hypnic.detector.epochs import ANGLE_EPOCH_S, z_angle
from hypnic.detector.sleep_states import STEP_S, SleepStates, bin_counts, fit_states

# DOMAIN.md §4.1, GGIR HASPT.R (HDCZA defaults).
HDCZA_ROLL_S = 300.0
HDCZA_PERCENTILE = 10.0
HDCZA_MULTIPLIER = 15.0
HDCZA_CLAMP_DEG = (0.13, 0.50)
MIN_BLOCK_S = 30 * 60.0
MAX_BREAK_S = 60 * 60.0
#: The onset is searched from 30 min before the HDCZA start (HDCZA counts quiet wake in bed as
#: no movement, so its start is often early, rarely late) to the HDCZA end.
SEARCH_BEFORE_S = 30 * 60.0
#: The sleep side of a change point must span at least 30 min (HDCZA's own minimum block).
MIN_AFTER_S = MIN_BLOCK_S
#: Weight of the prior on each side's rate, in seconds of observation at the witness's rate over
#: the whole span: a few movements' worth, so that one movement right after the search start does
#: not make a "wake rate" of its own.
PRIOR_S = 600.0
#: Candidate change points are this far apart: finer than any movement interval that matters.
CANDIDATE_STEP_S = 15.0
#: The final awakening is searched over the last 30 min of the HDCZA period: HDCZA's sleep period
#: runs 3-11 min longer than diaries on average (van Hees 2018, DOMAIN.md §4.2); 30 min covers that
#: bias about three times over without reaching back to wake bouts in the last sleep cycle (45 and
#: 60 min did, ``hypnic bench accuracy``). The night's model (:mod:`detector.sleep_states`) is not
#: used for the end: over a whole night of weak evidence its final awakening drifted by hours.
END_SEARCH_S = 30 * 60.0
#: Share of jerk-like transients taken to lie anywhere in the night rather than around the
#: onset (:func:`jerk_mark_likelihood`). Patients' jerks occur "randomly throughout the night"
#: (DOMAIN.md §1.2) and the jerk model errs too; a half keeps each mark to about ten-to-one
#: evidence. Benchmark (360 nights, 5 conditions): nights > 10 min off 36 without marks, 13-14
#: with a share of 0.35-0.5 (27 at 0.2: too sure of each mark on the set with 30 % late jerks).
JERK_LATE_SHARE = 0.5
#: Witnesses count at most once per model step: movements that come in clusters (a restless
#: minute, a run of leg movements) would otherwise outweigh everything else.
MAX_PER_STEP = 1.0


@dataclass
class SleepPeriod:
    """The night's main sleep period.

    Attributes
    ----------
    onset_s, end_s : float or None
        Sleep onset and final awakening (s from the recording's start); None when no sleep
        period is found (``reason`` says why).
    window_s : list of float or None
        ``[earliest, latest]`` plausible onset.
    hdcza_start_s : float or None
        Unrefined HDCZA start.
    threshold_deg : float or None
    reason : str or None
    states : SleepStates or None
        The night's model, where it was fitted: its posterior of sleep at each 30-s step tells
        brief awakenings inside the period (non-wear in an awakening stands, :mod:`detector.nonwear`).
    """

    onset_s: float | None
    end_s: float | None
    window_s: list[float] | None
    hdcza_start_s: float | None = None
    threshold_deg: float | None = None
    reason: str | None = None
    states: SleepStates | None = None

    def asleep_between(self, a: float, b: float) -> float | None:
        """Mean posterior probability of sleep over [a, b), or None where the model says nothing."""
        if self.states is None:
            return None
        t = self.states.t_s
        m = (t + STEP_S > a) & (t < b)
        return float(self.states.asleep[m].mean()) if np.any(m) else None


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index pairs of the True runs of a boolean array."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def quiet_blocks(nomove: np.ndarray, step_s: float) -> list[tuple[int, int]]:
    """HDCZA steps 3-4: runs of no movement > 30 min, joined across breaks < 60 min."""
    blocks = [(a, b) for a, b in _runs(nomove) if (b - a) * step_s > MIN_BLOCK_S]
    joined: list[tuple[int, int]] = []
    for a, b in blocks:
        if joined and (a - joined[-1][1]) * step_s < MAX_BREAK_S:
            joined[-1] = (joined[-1][0], b)
        else:
            joined.append((a, b))
    return joined


def find_sleep_period(
    t_s: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    witnesses: list[Witness],
    exclude: np.ndarray | None = None,
    returning: np.ndarray | None = None,
    jerk_marks: np.ndarray | None = None,
) -> SleepPeriod:
    """Find the main sleep period on a regular grid of 5-s epochs.

    Parameters
    ----------
    t_s : ndarray of float
        Epoch starts on a regular 5-s grid.
    x, y, z : ndarray of float
        Mean acceleration per epoch (NaN where no samples).
    witnesses : list of Witness
        Movements whose rate changes at sleep onset (:func:`change_point`).
    exclude : ndarray of bool, optional
        Epochs that cannot be sleep (non-wear).
    returning : ndarray of bool, optional
        Epochs whose z-angle change belongs to a movement that returns to its posture (a leg
        movement): not a posture change.
    jerk_marks : ndarray of float, optional
        Times of transients that look like hypnic jerks on their own: markers of the wake→sleep
        transition (:func:`jerk_mark_likelihood`).

    Returns
    -------
    SleepPeriod
    """
    n = t_s.shape[0]
    if n < 3:
        return SleepPeriod(None, None, None, reason="the recording is too short to find sleep")
    angle = z_angle(x, y, z)
    dangle = np.abs(np.diff(angle, prepend=angle[0]))
    if returning is not None:
        dangle[returning] = 0.0
    k = max(1, int(round(HDCZA_ROLL_S / ANGLE_EPOCH_S)))
    # NaN (missing data) must not count as quiet: treat as a large change inside the median.
    filled = np.where(np.isnan(dangle), 1e3, dangle)
    roll = median_filter(filled, size=k, mode="nearest")
    valid = ~np.isnan(dangle)
    if exclude is not None:
        valid &= ~exclude
    if not np.any(valid):
        return SleepPeriod(None, None, None, reason="no worn, recorded time to look for sleep in")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p10 = float(np.nanpercentile(roll[valid], HDCZA_PERCENTILE))
    thr = float(np.clip(p10 * HDCZA_MULTIPLIER, *HDCZA_CLAMP_DEG))
    nomove = (roll < thr) & valid
    blocks = quiet_blocks(nomove, ANGLE_EPOCH_S)
    if not blocks:
        return SleepPeriod(
            None, None, None, threshold_deg=thr,
            reason="no sustained quiet period of at least 30 minutes (no sleep found)",
        )
    a, b = max(blocks, key=lambda ab: ab[1] - ab[0])
    start = float(t_s[a])
    end = float(t_s[b - 1] + ANGLE_EPOCH_S)
    search_from = max(float(t_s[0]), start - SEARCH_BEFORE_S)
    if exclude is not None:  # not from inside non-wear: the sensor was not on anyone
        i = int(np.searchsorted(t_s, search_from))
        while i < n and exclude[i]:
            i += 1
        search_from = float(t_s[min(i, n - 1)])
    states = night_states(t_s, valid, witnesses, search_from, end)
    if states is not None and jerk_marks is not None and len(jerk_marks):
        mass = float(states.onset_p.sum())
        weighted = states.onset_p * jerk_mark_likelihood(states.t_s, jerk_marks, end - search_from)
        if weighted.sum() > 0:
            states.onset_p = weighted * (mass / weighted.sum())
    on_q = states.quantiles(states.onset_p, (0.5, 0.025, 0.975)) if states is not None else None
    if on_q is None:
        half = HDCZA_ROLL_S / 2  # HDCZA's own resolution: half its rolling median
        onset, window = start, [max(float(t_s[0]), start - half), start + half]
    else:
        onset, window = on_q[0], [on_q[1], on_q[2]]
    end = refine_end(witnesses, onset, end)
    return SleepPeriod(onset, end, window, hdcza_start_s=start, threshold_deg=thr, states=states)


def refine_end(witnesses: list[Witness], onset: float, hdcza_end: float) -> float:
    """Final awakening: the onset's change point mirrored in time.

    HDCZA's end, like its start, counts quiet wake in bed as sleep. The end is moved back to where
    the witnesses change from their sleep rates to their wake rates, searched over the last
    :data:`END_SEARCH_S` of the HDCZA period; it is never moved later than HDCZA's end.
    """
    if hdcza_end - onset <= MIN_AFTER_S:
        return hdcza_end
    mirrored = [w.mirrored() for w in witnesses]
    found = change_point(mirrored, -hdcza_end, -onset, latest=-(hdcza_end - END_SEARCH_S))
    return hdcza_end if found is None else -found[0]


@dataclass(frozen=True)
class Witness:
    """One kind of movement whose rate differs between wake and sleep.

    Attributes
    ----------
    onset_s, end_s : ndarray of float
        Onset and end of each movement (s).
    falls : bool
        True when the rate is higher awake than asleep (fidgeting, turning over), False when it
        is higher asleep (twitches, leg movements).
    name : str
    """

    onset_s: np.ndarray
    end_s: np.ndarray
    falls: bool
    name: str = ""

    def times(self) -> np.ndarray:
        """When each movement tells the state: a wake movement's end (awake at least until then),
        a sleep movement's onset (asleep from then), sorted."""
        return np.sort(np.asarray(self.end_s if self.falls else self.onset_s, dtype=np.float64))

    def mirrored(self) -> Witness:
        """The same witness with time reversed (for the final awakening)."""
        return Witness(-np.asarray(self.end_s), -np.asarray(self.onset_s), self.falls, self.name)


def _log_marginal(n: np.ndarray, t: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """log P(n events in t seconds) for a Poisson rate with a Gamma(alpha, beta) prior (terms in
    n! dropped: they are the same for every change point)."""
    return gammaln(alpha + n) - gammaln(alpha) + alpha * np.log(beta) - (alpha + n) * np.log(beta + t)


def change_point(
    witnesses: list[Witness], search_from: float, search_to: float, latest: float | None = None
) -> tuple[float, float, float] | None:
    """Where the witnesses change from their wake rates to their sleep rates, once.

    Used backwards in time for the final awakening (:func:`refine_end`); the onset uses the
    night's model, which also knows brief awakenings (:mod:`detector.sleep_states`).

    Each witness is a Poisson process whose rate changes once, at the onset, in its own
    direction: fidgeting and small repositionings stop (wake in bed is restless; in sleep a limb
    either stays, returns to where it lay after a leg movement, or moves with a turn-over, whose
    rate also falls: median 6.8/h in healthy sleep, DOMAIN.md §1.3), while twitches, jerks and
    leg movements are sleep phenomena (DOMAIN.md §1.2-1.3, §2). A witness whose rates do not
    change in its direction at a candidate counts at one rate there and moves nothing.

    Each side's rate has a Gamma prior centred on the witness's rate over the whole span and
    worth :data:`PRIOR_S` of observation, and is integrated out: a candidate right after the
    first movement is not a spike of likelihood, as it is when the rates are estimated (the
    profile likelihood). With a flat prior over candidates every :data:`CANDIDATE_STEP_S`, the
    onset is the posterior median (it minimises the expected absolute error) and the window the
    central 95 % of the posterior.

    Parameters
    ----------
    witnesses : list of Witness
    search_from, search_to : float
        The span the two-rate model is fitted over (s).
    latest : float, optional
        The last change point considered (default: :data:`MIN_AFTER_S` before ``search_to``).

    Returns
    -------
    (onset, earliest, latest) or None
        The posterior median and the central 95 %; ``(search_from,) * 3`` when no witness
        changes its rate the right way at any candidate; None when the span leaves no candidate
        or holds no movement.
    """
    a, b = float(search_from), float(search_to)
    last = b - MIN_AFTER_S  # a short empty tail would look like perfect sleep
    if latest is not None:
        last = min(last, float(latest))
    if last <= a:
        return None
    in_span = []  # (falls, times inside the span) per witness
    for w in witnesses:
        t = w.times()
        in_span.append((w.falls, t[(t >= a) & (t <= b)]))
    if not any(times.size for _, times in in_span):
        return None  # nothing moved: no evidence for any candidate
    c = np.arange(a, last + 1e-9, CANDIDATE_STEP_S)
    ll = np.zeros(c.shape)
    evidence = np.zeros(c.shape, dtype=bool)
    t1, t2 = c - a, b - c
    for falls, times in in_span:
        total = times.size
        alpha = (total + 0.5) / (b - a) * PRIOR_S
        n1 = np.searchsorted(times, c, side="right").astype(np.float64)
        n2 = total - n1
        two = _log_marginal(n1, t1, alpha, PRIOR_S) + _log_marginal(n2, t2, alpha, PRIOR_S)
        one = _log_marginal(np.float64(total), np.float64(b - a), alpha, PRIOR_S)
        # The direction is judged on the observed rates (n1/t1 against n2/t2): the prior's
        # smoothing would make an empty stretch at the search start look like a drop.
        right_way = n1 * t2 > n2 * t1 if falls else n1 * t2 < n2 * t1
        ll += np.where(right_way, two, one)
        evidence |= right_way
    if not np.any(evidence):
        return a, a, a  # no witness changes its rate the right way anywhere: no change
    p = np.exp(ll - ll.max())
    cdf = np.cumsum(p) / p.sum()
    q = np.searchsorted(cdf, [0.5, 0.025, 0.975])
    q = np.minimum(q, c.size - 1)
    return float(c[q[0]]), float(c[q[1]]), float(c[q[2]])


def night_states(
    t_s: np.ndarray, valid: np.ndarray, witnesses: list[Witness], a: float, b: float
) -> SleepStates | None:
    """The night's model (:mod:`detector.sleep_states`) fitted to the witnesses over [a, b).

    Parameters
    ----------
    t_s : ndarray of float
        Starts of a regular 5-s epoch grid.
    valid : ndarray of bool
        Epochs with samples from a worn sensor; the rest say nothing about the state.
    witnesses : list of Witness
    a, b : float
        The span (s).

    Returns
    -------
    SleepStates or None
        None when the span is shorter than two steps.
    """
    if b - a < 2 * STEP_S:
        return None
    counts = np.minimum(bin_counts([w.times() for w in witnesses], a, b), MAX_PER_STEP)
    n_t = counts.shape[0]
    edges = a + STEP_S * np.arange(n_t + 1)
    idx = np.searchsorted(edges, t_s, side="right") - 1
    inside = (idx >= 0) & (idx < n_t)
    observed = np.bincount(idx[inside], weights=valid[inside].astype(np.float64), minlength=n_t)
    observed = observed * ANGLE_EPOCH_S / STEP_S
    falls = np.array([w.falls for w in witnesses], dtype=bool)
    return fit_states(counts, observed, falls, a)


def jerk_mark_likelihood(c: np.ndarray, marks: np.ndarray, span_s: float) -> np.ndarray:
    """How likely the jerk-like transients ``marks`` are if sleep began at each of ``c``.

    Hypnic jerks happen at the wake→N1 transition (DOMAIN.md §1.2): a jerk at ``t`` says the
    onset lies within the jerk window around it (:data:`detector.classify.JERK_WINDOW_S`, 10 min
    before to 30 min after the onset), unless it is one of the jerks that come anywhere in the
    night (:data:`JERK_LATE_SHARE`). Each mark contributes
    ``(1 - share) · 1[t - c in window] / window + share / span``; the marks are independent.

    Parameters
    ----------
    c : ndarray of float
        Candidate onsets (s).
    marks : ndarray of float
        Onsets of the jerk-like transients (s).
    span_s : float
        Length of the span searched (s).

    Returns
    -------
    ndarray of float
        The likelihood at each candidate, up to a constant factor.
    """
    lo, hi = JERK_WINDOW_S
    width = hi - lo
    out = np.ones(np.shape(c))
    for t in np.asarray(marks, dtype=np.float64):
        inside = (t - c >= lo) & (t - c <= hi)
        out *= (1 - JERK_LATE_SHARE) * inside / width + JERK_LATE_SHARE / max(span_s, width)
        out /= out.max()  # keep the product away from underflow over many marks
    return out
