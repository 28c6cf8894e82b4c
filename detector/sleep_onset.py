"""Sleep onset and the sleep period from the accelerometer alone.

The sleep period is found with HDCZA (van Hees et al., Sci Rep 2018; GGIR ``HASPT.R``, DOMAIN.md
§4.1) on the z-angle of 5-s epochs: the 5-min rolling median of the absolute z-angle change is
compared with a per-recording threshold (10th percentile × 15, clamped to 0.13-0.50°); quiet
blocks longer than 30 min joined across breaks shorter than 60 min; the longest is the sleep
period. A brief burst (a jerk, a twitch) does not change the posture, so it does not break the
quiet.

HDCZA finds the time in bed rather than sleep (quiet wake counts as no movement) and its edges
have the resolution of its 5-min median. The onset is then refined to the end of the last
wake-like movement (fidgeting, turning over) before the movements thin out to what sleep shows:
a person who fidgets is not asleep yet, and a person lying still with only brief jerks is
falling asleep.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import median_filter

from detector.epochs import ANGLE_EPOCH_S, z_angle

# DOMAIN.md §4.1, GGIR HASPT.R (HDCZA defaults).
HDCZA_ROLL_S = 300.0
HDCZA_PERCENTILE = 10.0
HDCZA_MULTIPLIER = 15.0
HDCZA_CLAMP_DEG = (0.13, 0.50)
MIN_BLOCK_S = 30 * 60.0
MAX_BREAK_S = 60 * 60.0
#: The onset is searched from 30 min before the HDCZA start to 90 min after it (HDCZA counts
#: quiet wake in bed as no movement, so its start is often early, but rarely by more than that;
#: a wider range lets a wake bout later in the night pass for the onset). The sleep side of each
#: candidate is measured to the end of the sleep period: cutting it at the search range leaves
#: too few sleep movements to tell the sleep rate (the benchmark's onset p90 fell from 40 to
#: 16 min when the sleep side was extended, ``hypnic bench accuracy``).
SEARCH_BEFORE_S = 30 * 60.0
SEARCH_AFTER_S = 90 * 60.0
#: The sleep side of a change point must span at least 30 min (HDCZA's own minimum block).
MIN_AFTER_S = MIN_BLOCK_S
#: Half the 95 % chi-square(1) quantile: the likelihood-ratio interval of the change point.
LR_INTERVAL = 3.84 / 2
#: The final awakening is searched over the last 30 min of the HDCZA period: HDCZA's sleep period
#: runs 3-11 min longer than diaries on average (van Hees 2018, DOMAIN.md §4.2); 30 min covers that
#: bias about three times over without reaching back to wake bouts in the last sleep cycle (45 and
#: 60 min did, ``hypnic bench accuracy``).
END_SEARCH_S = 30 * 60.0


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
    """

    onset_s: float | None
    end_s: float | None
    window_s: list[float] | None
    hdcza_start_s: float | None = None
    threshold_deg: float | None = None
    reason: str | None = None


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
    wake_spans: np.ndarray,
    exclude: np.ndarray | None = None,
    returning: np.ndarray | None = None,
    sleep_marks: np.ndarray | None = None,
) -> SleepPeriod:
    """Find the main sleep period on a regular grid of 5-s epochs.

    Parameters
    ----------
    t_s : ndarray of float
        Epoch starts on a regular 5-s grid.
    x, y, z : ndarray of float
        Mean acceleration per epoch (NaN where no samples).
    wake_spans : ndarray of float, shape (k, 2)
        Onset and end (s) of wake-like movements: sustained movements and posture changes, not
        brief bursts and not periodic leg movements.
    exclude : ndarray of bool, optional
        Epochs that cannot be sleep (non-wear).
    returning : ndarray of bool, optional
        Epochs whose z-angle change belongs to a movement that returns to its posture (a leg
        movement): not a posture change.
    sleep_marks : ndarray of float, optional
        Times of brief transients, more frequent asleep (see :func:`refine_onset`).

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
    wake_spans = np.asarray(wake_spans, dtype=np.float64).reshape(-1, 2)
    search_from = max(float(t_s[0]), start - SEARCH_BEFORE_S)
    if exclude is not None:  # not from inside non-wear: the sensor was not on anyone
        i = int(np.searchsorted(t_s, search_from))
        while i < n and exclude[i]:
            i += 1
        search_from = float(t_s[min(i, n - 1)])
    refined = refine_onset(
        wake_spans[:, 0], wake_spans[:, 1], search_from, end, latest=start + SEARCH_AFTER_S,
        sleep_marks=sleep_marks,
    )
    if refined is None:
        half = HDCZA_ROLL_S / 2  # HDCZA's own resolution: half its rolling median
        onset, window = start, [max(float(t_s[0]), start - half), start + half]
    else:
        onset, window = refined[0], [refined[1], refined[2]]
    end = refine_end(wake_spans[:, 0], wake_spans[:, 1], onset, end)
    return SleepPeriod(onset, end, window, hdcza_start_s=start, threshold_deg=thr)


def refine_end(wake_on: np.ndarray, wake_off: np.ndarray, onset: float, hdcza_end: float) -> float:
    """Final awakening: the onset's change point mirrored in time.

    HDCZA's end, like its start, counts quiet wake in bed as sleep. The end is moved back to the
    start of the first wake-like movement after which they keep the wake rate, searched over the
    last :data:`END_SEARCH_S` of the HDCZA period; it is never moved later than HDCZA's end.
    """
    if hdcza_end - onset <= MIN_AFTER_S:
        return hdcza_end
    found = refine_onset(-wake_off, -wake_on, -hdcza_end, -onset, latest=-(hdcza_end - END_SEARCH_S))
    return hdcza_end if found is None else -found[0]


def _poisson_ll(k: int, t: float) -> float:
    """Log-likelihood of ``k`` events in ``t`` seconds at their own rate (terms in k! dropped)."""
    return k * np.log(k / t) if k > 0 else 0.0


def refine_onset(
    wake_on: np.ndarray, wake_off: np.ndarray, search_from: float, search_to: float,
    latest: float | None = None, sleep_marks: np.ndarray | None = None,
) -> tuple[float, float, float] | None:
    """Sleep onset: where wake-like movements change from a wake rate to a sleep rate.

    Wake-like movements (see :func:`detector.night.wake_movements`) are treated as a Poisson
    process whose rate drops at sleep onset (healthy sleep has a median of 6.8 large movements
    per hour, DOMAIN.md §1.3; wake in bed is restless). The onset is the maximum-likelihood
    change point of a two-rate model over the search range, placed at the end of the last
    wake-like movement before the drop. Parameter-free apart from the search range, so it adapts
    to restless and quiet sleepers alike.

    Parameters
    ----------
    wake_on, wake_off : ndarray of float
        Onset and end (s) of the wake-like movements.
    search_from, search_to : float
        The span the two-rate model is fitted over (s).
    latest : float, optional
        The last change point considered (default ``search_to``).
    sleep_marks : ndarray of float, optional
        Times of brief transients (twitches, jerks): a second Poisson stream in the same
        likelihood, whose rate may rise at sleep onset but not fall (fragmentary myoclonus and
        twitches belong to sleep, DOMAIN.md §1.3; jerks to its onset). Where they do not rise,
        they count at one rate and move nothing.

    Returns
    -------
    (onset, earliest, latest) or None
        ``earliest``/``latest`` bound the change points whose likelihood is within the 95 %
        likelihood-ratio interval of the best (log-likelihood within 1.92 of it).
    """
    a, b = float(search_from), float(search_to)
    if b <= a:
        return None
    keep = (wake_off >= a) & (wake_on <= b)
    ends = np.sort(np.clip(wake_off[keep], a, b))
    n = ends.size
    if n == 0:
        return a, a, a
    marks = np.sort(np.asarray(sleep_marks if sleep_marks is not None else [], dtype=np.float64))
    marks = marks[(marks >= a) & (marks <= b)]
    m = marks.size
    one_rate_marks = _poisson_ll(m, b - a)
    cands = [a]
    lls = [_poisson_ll(n, b - a) + one_rate_marks]
    for k in range(n):
        c = ends[k]
        n1, t1 = k + 1, c - a
        n2, t2 = n - k - 1, b - c
        if t1 <= 0 or t2 < MIN_AFTER_S:  # a short empty tail would look like perfect sleep
            continue
        if latest is not None and c > latest:
            break
        if n1 / t1 <= n2 / t2:
            continue
        m1 = int(np.searchsorted(marks, c, side="right"))
        marks_ll = (
            _poisson_ll(m1, t1) + _poisson_ll(m - m1, t2) if m1 / t1 <= (m - m1) / t2 else one_rate_marks
        )
        cands.append(float(c))
        lls.append(_poisson_ll(n1, t1) + _poisson_ll(n2, t2) + marks_ll)
    ll = np.asarray(lls)
    best = int(np.argmax(ll))
    near = np.asarray(cands)[ll >= ll[best] - LR_INTERVAL]
    return cands[best], float(near.min()), float(near.max())
