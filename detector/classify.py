"""Event classification: hypnic jerk, periodic leg movement, leg movement, large movement, other.

Every burst gets shape features that do not depend on the sensor's orientation (vector
magnitudes and angles only) or its rate (seconds, g): duration, peak, rise time, crest factor,
the lasting change of orientation across it, its neighbours' rhythm. The rules, each with its
source:

* **large_movement** — a lasting orientation change (turning over changes the gravity vector;
  IRLSSG large movements are 3-45 s with posture change, DOMAIN.md §1.3), or longer than any
  candidate leg movement (15 s bilateral, WASM 2016).
* **rhythmic trains** — at least 4 bursts at 0.3-4 Hz (hypnagogic foot tremor / HFLM, DOMAIN.md
  §1.3) are ``other``: a rhythm is not a jerk, and its bursts are too short to be LMs.
* **hypnic_jerk** — a single short transient: shorter than the shortest leg movement (0.5 s,
  WASM) at the accelerometer, with the peak early (EMG 75-250 ms, DOMAIN.md §1.2), and large
  enough to be a body jerk rather than a twitch (fragmentary myoclonus is usually invisible,
  DOMAIN.md §1.3).
* **lm / plm** — at an ankle only, bursts of 0.5-15 s without a lasting posture change are leg
  movements, scored per WASM/AASM by :mod:`detector.plm`; those in a series are ``plm``.
* everything else is **other** (arm movements at the wrist, twitches, knocks, tremor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector import plm
from detector.epochs import angle_between

LABELS = ("hypnic_jerk", "plm", "lm", "large_movement", "other")

#: A lasting orientation change of this many degrees is a change of posture. van Hees 2015 uses
#: 5° of z-angle between 5-s epochs; a burst's own after-effects (a limb settling) need margin.
POSTURE_CHANGE_DEG = 10.0
#: Posture is averaged over this many seconds before the onset and after the end of a burst,
#: leaving a second of margin on each side for the filters and the movement's own settling.
POSTURE_WINDOW_S = 3.0
POSTURE_MARGIN_S = 1.0
#: Longer than any candidate LM (15 s bilateral, WASM 2016; DOMAIN.md §2.1).
LONGEST_LM_S = plm.CLM_MAX_BILATERAL_S
#: Shortest LM (WASM/AASM 0.5 s; DOMAIN.md §2.1).
SHORTEST_LM_S = plm.LM_MIN_S
#: A transient's energy spread (s): below that of a uniform movement of the shortest LM length,
#: 0.5 s / √12 (WASM LM minimum, DOMAIN.md §2.1). A jerk (EMG 75-250 ms plus ringing) and a
#: twitch are transients; fidgets, leg movements and turn-overs are not.
TRANSIENT_SPREAD_S = plm.LM_MIN_S / np.sqrt(12.0)
#: Smallest peak (g, gravity removed) called a jerk. No published accelerometer amplitude exists
#: (DOMAIN.md §1.2); a body jerk moves a limb by centimetres in ~0.1 s (≥ ~0.05 g), while
#: twitches and fragmentary myoclonus are at or below the detection floor.
JERK_MIN_PEAK_G = 0.05
#: Hypnagogic foot tremor / HFLM: ≥ 4 bursts at 0.3-4 Hz (Wetter 2001, Yang & Winkelman 2010).
TRAIN_MIN_BURSTS = 4
TRAIN_PERIOD_S = (0.25, 1 / 0.3)

PLACEMENT_LEG = {"left_ankle": plm.LEFT, "right_ankle": plm.RIGHT, "ankle": plm.UNKNOWN_LEG}


@dataclass
class Classified:
    """Labels and features of every burst (same order as the bursts)."""

    label: np.ndarray
    confidence: np.ndarray
    series: np.ndarray
    orientation_change_deg: np.ndarray
    in_train: np.ndarray
    legs: plm.LegMovements | None
    #: Bursts with the same group number are one movement (joined into one scored LM).
    group: np.ndarray


def posture_around(
    onset_s: np.ndarray, offset_s: np.ndarray, grid: dict[str, np.ndarray], step_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Mean acceleration vector before each onset and after each end (NaN where unknown)."""
    xyz = np.stack([grid["x"], grid["y"], grid["z"]], axis=1)
    n = xyz.shape[0]
    w = max(1, int(round(POSTURE_WINDOW_S / step_s)))
    m = int(round(POSTURE_MARGIN_S / step_s))
    t0 = grid["t_s"][0]
    i_on = np.floor((onset_s - t0) / step_s).astype(np.int64) - m
    i_off = np.floor((offset_s - t0) / step_s).astype(np.int64) + 1 + m
    valid = ~np.isnan(xyz[:, 0])
    csum = np.concatenate([np.zeros((1, 3)), np.cumsum(np.where(valid[:, None], xyz, 0.0), axis=0)])
    ccnt = np.concatenate([[0], np.cumsum(valid)])

    def window_mean(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = np.clip(a, 0, n)
        b = np.clip(b, 0, n)
        cnt = ccnt[b] - ccnt[a]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (csum[b] - csum[a]) / cnt[:, None]
        out[cnt == 0] = np.nan
        return out

    return window_mean(i_on - w, i_on), window_mean(i_off, i_off + w)


def rhythmic_trains(onset_s: np.ndarray, duration_s: np.ndarray) -> np.ndarray:
    """Mark bursts in trains of ≥ 4 short bursts with onset intervals of 0.25-3.3 s (0.3-4 Hz)."""
    n = onset_s.shape[0]
    out = np.zeros(n, dtype=bool)
    lo, hi = TRAIN_PERIOD_S
    start = 0
    for i in range(1, n + 1):
        ok = i < n and lo <= onset_s[i] - onset_s[i - 1] <= hi and duration_s[i] < LONGEST_LM_S
        if not ok:
            if i - start >= TRAIN_MIN_BURSTS:
                out[start:i] = True
            start = i
    return out


def classify_bursts(
    events: np.ndarray,
    grid: dict[str, np.ndarray],
    step_s: float,
    placement: str,
    rules: str = "wasm",
) -> Classified:
    """Label every burst.

    Parameters
    ----------
    events : ndarray of detector.bursts.EVENT_DTYPE
        Bursts sorted by onset.
    grid : dict of ndarray
        Regular per-second grid (:func:`detector.epochs.regular_grid`).
    step_s : float
        Grid step in seconds.
    placement : str
        ``wrist``, ``ankle``, ``left_ankle``, ``right_ankle`` or ``unknown`` (``unknown`` scores
        leg movements as an ankle would; the summary says so).
    rules : {"wasm", "aasm"}

    Returns
    -------
    Classified
    """
    n = events.shape[0]
    onset = events["onset_s"]
    offset = events["offset_s"]
    dur = events["duration_s"]
    before, after = posture_around(onset, offset, grid, step_s)
    turn = angle_between(before, after)
    turn_known = ~np.isnan(turn)
    turn = np.nan_to_num(turn, nan=0.0)
    in_train = rhythmic_trains(onset, dur)

    label = np.full(n, "other", dtype=object)
    conf = np.full(n, 0.5)
    large = (turn >= POSTURE_CHANGE_DEG) | (dur > LONGEST_LM_S)
    label[large] = "large_movement"
    conf[large] = np.clip(0.5 + np.maximum(turn[large] / POSTURE_CHANGE_DEG - 1, 0) * 0.25, 0.5, 0.99)

    short = ~large & ~in_train & (dur < SHORTEST_LM_S)
    jerk = short & (events["peak_g"] >= JERK_MIN_PEAK_G)
    label[jerk] = "hypnic_jerk"
    margin = np.minimum(events["peak_g"][jerk] / JERK_MIN_PEAK_G - 1, 2) / 2
    conf[jerk] = 0.5 + 0.45 * margin * np.where(turn_known[jerk], 1.0, 0.6)

    series = np.zeros(n, dtype=np.int64)
    group = np.arange(n)
    legs = None
    if placement != "wrist":
        lm_like = ~large & ~in_train & (dur >= SHORTEST_LM_S)
        idx = np.flatnonzero(lm_like | large)
        side = PLACEMENT_LEG.get(placement, plm.UNKNOWN_LEG)
        legs = plm.score_leg_movements(
            onset[idx], offset[idx], np.full(idx.size, side), large[idx], rules=rules
        )
        for k, members in enumerate(legs.members):
            orig = idx[members]
            group[orig] = orig.min()
            if legs.series[k] > 0:
                label[orig] = "plm"
                series[orig] = legs.series[k]
                conf[orig] = 0.8
            elif legs.candidate[k]:
                label[orig] = "lm"
                conf[orig] = 0.6
    return Classified(label, conf, series, turn, in_train, legs, group)
