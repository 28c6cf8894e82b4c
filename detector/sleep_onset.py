"""Sleep onset and the sleep period from the accelerometer alone.

The sleep period is found with HDCZA (van Hees et al., Sci Rep 2018; GGIR ``HASPT.R``, DOMAIN.md
§4.1) on the z-angle of 5-s epochs: the 5-min rolling median of the absolute z-angle change is
compared with a per-recording threshold (10th percentile × 15, clamped to 0.13-0.50°); quiet
blocks longer than 30 min joined across breaks shorter than 60 min; the longest is the sleep
period. A brief burst (a jerk, a twitch) does not change the posture, so it does not break the
quiet.

HDCZA's edges have the resolution of its 5-min median. The onset is then refined to the end of
the last posture change or sustained movement near the HDCZA start: a person who turns over is
not asleep yet, and a person lying still with only brief jerks is falling asleep.
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
# van Hees 2015 (GGIR HASIB): a posture change is |Δanglez| > 5°.
POSTURE_CHANGE_DEG = 5.0
#: A movement lasting this long (s) is a sign of wake, not a jerk; the shortest turn-over is 3 s
#: (IRLSSG large-movement rule, DOMAIN.md §1.3).
SUSTAINED_MOVEMENT_S = 3.0
REFINE_SEARCH_S = 10 * 60.0


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
    moving_s: np.ndarray,
    exclude: np.ndarray | None = None,
) -> SleepPeriod:
    """Find the main sleep period on a regular grid of 5-s epochs.

    Parameters
    ----------
    t_s : ndarray of float
        Epoch starts on a regular 5-s grid.
    x, y, z : ndarray of float
        Mean acceleration per epoch (NaN where no samples).
    moving_s : ndarray of float
        Seconds of sustained movement in each epoch (movement that is not a brief burst).
    exclude : ndarray of bool, optional
        Epochs that cannot be sleep (non-wear).

    Returns
    -------
    SleepPeriod
    """
    n = t_s.shape[0]
    if n < 3:
        return SleepPeriod(None, None, None, reason="the recording is too short to find sleep")
    angle = z_angle(x, y, z)
    dangle = np.abs(np.diff(angle, prepend=angle[0]))
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
    onset = refine_onset(t_s, dangle, moving_s, a)
    half = HDCZA_ROLL_S / 2
    window = [max(float(t_s[0]), min(onset, start) - half), max(onset, start) + half]
    return SleepPeriod(onset, end, window, hdcza_start_s=start, threshold_deg=thr)


def refine_onset(t_s: np.ndarray, dangle: np.ndarray, moving_s: np.ndarray, start: int) -> float:
    """End of the last posture change or sustained movement within ±10 min of the HDCZA start.

    Searches backwards from 10 min after the HDCZA start for the last epoch with a posture
    change (> 5°) or sustained movement (≥ 3 s), stopping at the first stretch of 10 quiet
    minutes after such a movement. Falls back to the HDCZA start when nothing moves nearby.
    """
    step = ANGLE_EPOCH_S
    span = int(REFINE_SEARCH_S / step)
    lo = max(0, start - span)
    hi = min(t_s.shape[0], start + span)
    active = (np.nan_to_num(dangle, nan=0.0) > POSTURE_CHANGE_DEG) | (moving_s >= SUSTAINED_MOVEMENT_S)
    idx = np.flatnonzero(active[lo:hi]) + lo
    if idx.size == 0:
        return float(t_s[start])
    # The last activity that is followed by at least 10 quiet minutes (persistent sleep,
    # DOMAIN.md §4.1) inside the search range; otherwise the last activity before the start.
    persistent = int(round(600.0 / step))
    for i in idx[::-1]:
        after = active[i + 1 : i + 1 + persistent]
        if after.size and not after.any():
            last = i
            break
    else:
        before = idx[idx <= start]
        if before.size == 0:
            return float(t_s[start])
        last = int(before[-1])
    return float(t_s[last] + step)
