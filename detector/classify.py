"""Event classification: hypnic jerk, periodic leg movement, leg movement, large movement, other.

Every burst gets shape features that do not depend on the sensor's orientation (vector
magnitudes and angles only) or its rate (seconds, g): duration, peak, rise time, energy spread,
the lasting change of orientation across it, its neighbours' rhythm. The rules, each with its
source:

* **large_movement** — a lasting orientation change (turning over changes the gravity vector;
  IRLSSG large movements are 3-45 s with posture change, DOMAIN.md §1.3), or longer than any
  candidate leg movement (15 s bilateral, WASM 2016). Pieces of one turn-over are one event, with
  the weaker flickers between them (:func:`join_turn_fragments`).
* **rhythmic trains** — at least 4 bursts at 0.3-4 Hz (hypnagogic foot tremor / HFLM, DOMAIN.md
  §1.3) are ``other``: a rhythm is not a jerk, and its bursts are too short to be LMs.
* **hypnic_jerk** — a transient (energy spread below that of a 0.5-s movement, the shortest
  LM of WASM) that leaves the limb where it lay (lasting tilt below :data:`SETTLED_DEG`: a jerk is
  a brief contraction, a fidget settles the limb somewhere new) and that a small logistic model
  calls a jerk: its duration, spread, rise time, size relative to the night's transients and
  absolute size, the linearity and mean frequency of its raw movement (a jerk contracts several
  muscle groups for 75-250 ms and sets the limb ringing; a twitch is one brief push along a line;
  :func:`detector.onsets.transient_shape`), and whether it falls in the window around sleep onset
  where jerks happen (the wake→N1 transition, DOMAIN.md §1.2; twitches and fragmentary myoclonus
  are smaller and mostly in REM, §1.3). The weights are chosen by
  ``benchmarks/dev/fit_jerk_model.py``. None more than 10 min before the earliest plausible onset,
  none after the final awakening, none in a night without sleep.
* **lm / plm** — at an ankle only, bursts of 0.5-15 s that return to their posture are leg
  movements (a lasting 1-10° tilt, measured across the out-and-back pieces of one movement, is a
  repositioning, ``other``); the movement out and back of
  one LM, < 3 s apart, is one (:func:`held_offsets`); they are scored per WASM/AASM by
  :mod:`detector.plm`; those in a series are ``plm`` (so is a brief one that passed for a
  transient but beats in a series' rhythm, :func:`in_series_rhythm`); the others are ``lm`` only inside the sleep
  period and away from bouts of restless movement (:func:`restless`).
* everything else is **other** (arm movements at the wrist, twitches, knocks, tremor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hypnic.detector import plm, vocabulary
from hypnic.detector.epochs import angle_between

#: The labelling rules in one sentence (summary.json ``parameters.labelling``).
LABELLING_NOTE = (
    "detector.classify: lasting posture change >= 10 deg -> large_movement; 0.5-15 s movements at "
    "an ankle that return to their posture (out and back < 3 s apart = one) scored per WASM/AASM "
    "-> plm/lm (lm only in the sleep period, not amid restless movement; a lasting 1-10 deg tilt "
    "is a repositioning -> other); short transients (onset re-measured at 2% of their own peak "
    "energy) that leave no lasting tilt -> hypnic_jerk by a logistic model (size relative to the "
    "night, duration, linearity and mean frequency of the raw movement, timing around onset; "
    "weights from benchmarks/dev/fit_jerk_model.py), none after the final awakening; rhythms and the "
    "rest -> other"
)

#: A lasting orientation change of this many degrees is a change of posture. van Hees 2015 uses
#: 5° of z-angle between 5-s epochs; a burst's own after-effects (a limb settling) need margin.
POSTURE_CHANGE_DEG = 10.0
#: A movement that leaves the limb tilted by this much or more has moved it to a new place (a
#: repositioning when sustained; never a jerk, a brief contraction after which the limb lies where
#: it lay); less is a movement that returned. A 3-s posture mean resolves ~0.1° (1 mg of
#: breathing micro-motion against 1 g, DOMAIN.md §5.2).
SETTLED_DEG = 1.0
#: A smaller lasting change after a sustained movement makes it a repositioning: a leg movement
#: (dorsiflexion, flexion at knee and hip) returns the limb to where it was (its out-and-back
#: pieces measured as a pair, :func:`held_tilt`), fidgeting settles it somewhere new. The same
#: bound as :data:`SETTLED_DEG` (van Hees 2015's 5° of z-angle, DOMAIN.md §4.1, was the first
#: choice: it let fidgets of 1-5° pass for leg movements, 66 false LMs in the alt set's
#: awakenings; LM F1 alt .891 -> .956, base .969 -> .984).
REPOSITION_DEG = SETTLED_DEG
#: Posture is averaged over this many seconds before the onset and after the end of a burst,
#: leaving a second of margin on each side for the filters and the movement's own settling.
POSTURE_WINDOW_S = 3.0
POSTURE_MARGIN_S = 1.0
#: Large movements closer than this are one posture change: the margins and windows of the
#: posture measured after one and before the next would overlap.
TURN_JOIN_S = 2 * POSTURE_MARGIN_S + POSTURE_WINDOW_S
#: The hold of a leg movement: bursts of one leg closer than this are the movement out and the
#: movement back of one LM (see :func:`held_offsets`). 3 s: the mean PLMS lasts 3.2 s (SD 0.65;
#: DOMAIN.md §2.3, PMC4434558), so a hold is rarely longer. Benchmark (amp x0.5, where weak LMs
#: arrive in pieces): PLM F1 .930 -> .975, LM F1 .785 -> .864; 2 s gave .963 / .848; no condition
#: lost.
LM_HOLD_S = 3.0
#: Longer than any candidate LM (15 s bilateral, WASM 2016; DOMAIN.md §2.1).
LONGEST_LM_S = plm.CLM_MAX_BILATERAL_S
#: Shortest LM (WASM/AASM 0.5 s; DOMAIN.md §2.1).
SHORTEST_LM_S = plm.LM_MIN_S
#: A transient's energy spread (s): below that of a uniform movement of the shortest LM length,
#: 0.5 s / √12 (WASM LM minimum, DOMAIN.md §2.1). A jerk (EMG 75-250 ms plus ringing) and a
#: twitch are transients; fidgets, leg movements and turn-overs are not.
TRANSIENT_SPREAD_S = plm.LM_MIN_S / np.sqrt(12.0)
#: Hypnagogic foot tremor / HFLM: ≥ 4 bursts at 0.3-4 Hz (Wetter 2001, Yang & Winkelman 2010).
TRAIN_MIN_BURSTS = 4
TRAIN_PERIOD_S = (0.25, 1 / 0.3)

#: Jerks are looked for from 10 min before the estimated onset to 30 min after it: they happen at
#: the wake→N1 transition, and an accelerometer onset is uncertain by several minutes (DOMAIN.md
#: §4.2). Outside the window a transient must look like a jerk on its own.
JERK_WINDOW_S = (-600.0, 1800.0)
#: A transient without a raw snippet (at a gap) gets a twitch's shape: a line, at 60 % of the
#: detector's band.
UNMEASURED_LINEARITY = 0.99
UNMEASURED_FREQUENCY = 0.6
#: Weights of :func:`jerk_probability` over :func:`jerk_features` (last entry: intercept) and the
#: decision threshold, chosen by ``python -m hypnic.benchmarks.dev.fit_jerk_model 144`` on 144
#: default-parameter synthetic nights (seeds 500-643: every rate, both placements, amplitudes
#: ×0.5-×2, rotations, the window taken from the estimated onset; transient-level F1 0.934 there).
#: The robust and alt parameter sets, never seen by the fit, check it (``hypnic bench accuracy``).
JERK_WEIGHTS = np.array(
    [
        -0.3149, -0.5709, -0.2867, 1.1563, 0.1638, 1.1429, 1.6546, 1.4592, 0.6763,
        0.1600,
        0.2020, -0.2548, 0.0201, 0.5497, -0.3939, 0.1550, 0.6163, 0.2461, -0.1555,
        0.2443,
    ]
)
JERK_THRESHOLD = 0.57

#: A wake bout: at least this many other sustained movements within ±2 min, at least
#: ``RESTLESS_MIN_POSTURAL`` of them not leg movements (see :func:`restless`).
RESTLESS_WINDOW_S = 120.0
RESTLESS_MIN_OTHERS = 2
RESTLESS_MIN_POSTURAL = 1


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
    #: Short transients (energy spread below that of a 0.5-s movement): jerk candidates.
    transient: np.ndarray
    #: Bursts scored as leg movements at an ankle: not large, not rhythmic, not transient, not a
    #: repositioning, at least the shortest LM long.
    leg_like: np.ndarray | None = None
    #: Linearity and relative mean frequency of each transient (:func:`detector.onsets.transient_shape`),
    #: shape (n, 2); NaN where not measured.
    shape: np.ndarray | None = None
    #: Transients that may be hypnic jerks at all (:func:`finalize_labels`: in the sleep period or
    #: just before it, leaving no lasting tilt), whatever the jerk model says.
    jerk_allowed: np.ndarray | None = None


def posture_around(
    onset_s: np.ndarray,
    offset_s: np.ndarray,
    grid: dict[str, np.ndarray],
    step_s: float,
    not_before: np.ndarray | None = None,
    not_after: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean acceleration vector before each onset and after each end (NaN where unknown).

    ``not_before``/``not_after`` (s), when given, keep the windows clear of neighbouring
    movements: the posture before a burst is taken after ``not_before`` and the posture after it
    before ``not_after`` (each with the margin); a window left empty gives NaN.
    """
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

    lo_on, hi_off = i_on - w, i_off + w
    if not_before is not None:  # clipped to the grid first: inf does not cast to an index
        first = np.ceil(np.clip((not_before - t0) / step_s + m, -1.0, n + 1.0)).astype(np.int64)
        lo_on = np.maximum(lo_on, first)
    if not_after is not None:
        last = np.floor(np.clip((not_after - t0) / step_s - m, -1.0, n + 1.0)).astype(np.int64)
        hi_off = np.minimum(hi_off, last)
    return window_mean(lo_on, np.maximum(lo_on, i_on)), window_mean(i_off, np.maximum(i_off, hi_off))


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


def jerk_features(
    events: np.ndarray, transient: np.ndarray, sleep_onset_s: float | None, shape: np.ndarray | None = None
) -> np.ndarray:
    """Features of each burst for the jerk model (orientation- and rate-independent).

    Columns: log duration, log energy spread, rise time (s), log peak relative to the night's
    median transient peak (robust to the sensor's gain and the person's amplitude), log peak (g),
    log effective duration (energy / peak², s: a jerk's ringing lasts, a twitch or a knock is one
    pulse), log peak over the running noise (how far above the sensor's floor), log of one minus
    the linearity (a jerk moves the limb in more than one direction, a twitch along one line),
    log relative mean frequency (a jerk's 75-250 ms EMG burst is slower than a twitch; see
    :func:`detector.onsets.transient_shape`), whether the burst lies in
    the jerk window around sleep onset (−10 … +30 min), and the shape columns again inside the
    window only (a transient near onset is judged by other standards than one among the twitches
    of REM sleep). Unmeasured shapes (no raw snippet) count as a twitch's.
    """
    n = events.shape[0]
    peak = np.maximum(events["peak_g"], 1e-6)
    ref = float(np.median(peak[transient])) if np.any(transient) else float(np.median(peak)) if peak.size else 1.0
    lo, hi = JERK_WINDOW_S
    if sleep_onset_s is None:
        near = np.zeros(peak.shape[0])
    else:
        rel = events["onset_s"] - sleep_onset_s
        near = ((rel >= lo) & (rel <= hi)).astype(np.float64)
    if shape is None:
        shape = np.full((n, 2), np.nan)
    linearity = np.where(np.isnan(shape[:, 0]), UNMEASURED_LINEARITY, shape[:, 0])
    freq = np.where(np.isnan(shape[:, 1]), UNMEASURED_FREQUENCY, shape[:, 1])
    cols = np.column_stack(
        [
            np.log(np.maximum(events["duration_s"], 1e-3)),
            np.log(np.maximum(events["spread_s"], 1e-3)),
            np.clip(events["rise_time_s"], 0.0, 0.5),
            np.log(peak / max(ref, 1e-6)),
            np.log(peak),
            np.log(np.maximum(events["energy_g2s"], 1e-12) / peak**2),
            np.log(peak / np.maximum(events["noise_g"], 1e-6)),
            np.log(np.clip(1.0 - linearity, 1e-3, 1.0)),
            np.log(np.maximum(freq, 1e-2)),
        ]
    )
    return np.column_stack([cols, near, cols * near[:, None]])


def jerk_like(events: np.ndarray, cls: Classified) -> np.ndarray:
    """Transients the jerk model calls jerks on their own: judged as outside the onset window (no
    sleep onset known yet), leaving no lasting tilt. Markers of sleep onset
    (:func:`detector.sleep_onset.jerk_mark_likelihood`), not yet labels."""
    p = jerk_probability(jerk_features(events, cls.transient, None, cls.shape))
    return cls.transient & (p >= JERK_THRESHOLD) & (cls.orientation_change_deg < SETTLED_DEG)


def jerk_probability(features: np.ndarray) -> np.ndarray:
    """Logistic jerk model; weights chosen by ``benchmarks/dev/fit_jerk_model.py`` (see there)."""
    z = features @ JERK_WEIGHTS[:-1] + JERK_WEIGHTS[-1]
    return 1.0 / (1.0 + np.exp(-z))


def classify_bursts(
    events: np.ndarray,
    grid: dict[str, np.ndarray],
    step_s: float,
    placement: str,
    rules: str = "wasm",
    gaps: list[list[float]] | None = None,
    shapes: np.ndarray | None = None,
) -> Classified:
    """Label every burst by what needs no sleep onset (stage 1 of 2).

    Large movements, rhythmic trains, transients and leg movements scored per WASM/AASM.
    Transients stay ``other`` and leg movements are kept whatever the time until
    :func:`finalize_labels` knows the sleep period.

    Parameters
    ----------
    events : ndarray of detector.bursts.EVENT_DTYPE
        Bursts sorted by onset.
    grid : dict of ndarray
        Regular per-second grid (:func:`detector.epochs.regular_grid`).
    step_s : float
        Grid step in seconds.
    placement : str
        One of :data:`detector.vocabulary.PLACEMENTS`; leg movements are scored where it has legs
        (``unknown`` scores them as an ankle would; the summary says so).
    rules : {"wasm", "aasm"}
    gaps : list of [float, float], optional
        Spans without samples: bursts on either side of one are never joined.
    shapes : ndarray of float, shape (n, 2), optional
        Linearity and relative mean frequency of each transient (:attr:`BurstResult.shapes
        <detector.bursts.BurstResult>`); unmeasured when None.

    Returns
    -------
    Classified
    """
    n = events.shape[0]
    onset = events["onset_s"]
    offset = events["offset_s"]
    dur = events["duration_s"]
    short = events["spread_s"] < TRANSIENT_SPREAD_S
    # A transient's own posture change is measured between its neighbours: a jerk followed by
    # an arousal turn-over within seconds (DOMAIN.md §1.2) did not turn over itself.
    prev_end = np.concatenate([[-np.inf], offset[:-1]])
    next_start = np.concatenate([onset[1:], [np.inf]])
    before, after = posture_around(
        onset, offset, grid, step_s,
        not_before=np.where(short, prev_end, -np.inf), not_after=np.where(short, next_start, np.inf),
    )
    turn = np.nan_to_num(angle_between(before, after), nan=0.0)
    in_train = rhythmic_trains(onset, dur)

    label = np.full(n, "other", dtype=object)
    conf = np.full(n, 0.5)
    large = (turn >= POSTURE_CHANGE_DEG) | (dur > LONGEST_LM_S)
    label[large] = "large_movement"
    conf[large] = np.clip(0.5 + np.maximum(turn[large] / POSTURE_CHANGE_DEG - 1, 0) * 0.25, 0.5, 0.99)
    transient = ~large & ~in_train & short
    # A lasting change of posture that is too small for a turn-over is a repositioning, not a
    # leg movement: a leg movement returns to where it started.
    sustained = ~large & ~in_train & ~transient
    gap_spans = np.asarray(gaps if gaps is not None else [], dtype=np.float64).reshape(-1, 2)
    held = held_tilt(onset, offset, before, after, sustained, gap_spans)
    reposition = sustained & (turn >= REPOSITION_DEG) & ~(held < REPOSITION_DEG)

    series = np.zeros(n, dtype=np.int64)
    group = np.arange(n)
    legs = None
    lm_like = sustained & ~reposition & (dur >= SHORTEST_LM_S)
    if vocabulary.placement(placement).legs:
        idx = np.flatnonzero(lm_like | large)
        side = plm.leg_of(placement)
        legs = plm.score_leg_movements(
            onset[idx], held_offsets(onset[idx], offset[idx], large[idx], gap_spans),
            np.full(idx.size, side), large[idx], rules=rules,
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
        beat = transient & (dur >= SHORTEST_LM_S) & (turn < REPOSITION_DEG)
        in_series = in_series_rhythm(onset, series, beat, plm.IMI_RANGE_S[rules])
        fits = in_series > 0
        label[fits], series[fits], conf[fits] = "plm", in_series[fits], 0.7
        transient = transient & ~fits
    within = join_turn_fragments(onset, offset, label == "large_movement", group, gap_spans, events["peak_g"])
    # A transient inside a turn-over is a flicker of it, not a jerk or a twitch.
    label[within & transient] = "large_movement"
    transient = transient & ~within
    shape = np.full((n, 2), np.nan) if shapes is None else np.asarray(shapes, dtype=np.float64).reshape(n, 2)
    return Classified(label, conf, series, turn, in_train, legs, group, transient, lm_like, shape)


def in_series_rhythm(
    onset: np.ndarray, series: np.ndarray, which: np.ndarray, imi_s: tuple[float, float]
) -> np.ndarray:
    """The PLM series in whose rhythm each burst ``which`` sits (0: none).

    A leg movement of 0.5-0.8 s can be brief enough to pass for a transient (its energy spread
    is below that of a uniform 0.5-s movement). Inside a scored series, between two members, with
    onset-to-onset intervals to both inside the rules' IMI range, it beats with the series: it is
    one of its leg movements (PLMS, DOMAIN.md §2.1). The series itself is not rescored: adding
    transients as WASM candidates would let a twitch 5 s after a PLM end its series.
    """
    out = np.zeros(onset.shape[0], dtype=np.int64)
    members = np.flatnonzero(series > 0)
    if members.size < 2:
        return out
    lo, hi = imi_s
    t = onset[members]
    for i in np.flatnonzero(which):
        k = int(np.searchsorted(t, onset[i]))
        if k == 0 or k == t.size or series[members[k - 1]] != series[members[k]]:
            continue
        if lo <= onset[i] - t[k - 1] <= hi and lo <= t[k] - onset[i] <= hi:
            out[i] = series[members[k]]
    return out


def held_tilt(
    onset: np.ndarray,
    offset: np.ndarray,
    before: np.ndarray,
    after: np.ndarray,
    sustained: np.ndarray,
    gaps: np.ndarray,
) -> np.ndarray:
    """Lasting tilt of each sustained burst taken together with its partner of one leg movement.

    A weak leg movement reaches the detector as two bursts, the movement out and the movement
    back, less than :data:`LM_HOLD_S` apart (see :func:`held_offsets`). Measured alone, the
    movement out leaves the limb in its held position and the movement back starts from there:
    each looks like a repositioning. Measured from before the first to after the second, the
    pair returns. Returns, per burst, the smaller of the tilts across it and its previous or next
    sustained neighbour within the hold (no gap between); NaN where it has none.

    Parameters
    ----------
    onset, offset : ndarray of float
    before, after : ndarray, shape (n, 3)
        Posture before each onset and after each end (:func:`posture_around`).
    sustained : ndarray of bool
        Bursts that may be pieces of a leg movement.
    gaps : ndarray, shape (k, 2)
    """
    n = onset.shape[0]
    out = np.full(n, np.nan)
    for i in range(n - 1):
        j = i + 1
        if not (sustained[i] and sustained[j]) or onset[j] - offset[i] >= LM_HOLD_S:
            continue
        if not _no_gap_between(offset[i], onset[j], gaps):
            continue
        tilt = float(np.nan_to_num(angle_between(before[i : i + 1], after[j : j + 1]), nan=np.inf)[0])
        out[i] = tilt if np.isnan(out[i]) else min(out[i], tilt)
        out[j] = tilt
    return out


def _no_gap_between(end: float, start: float, gaps: np.ndarray) -> bool:
    return not np.any((gaps[:, 0] < start) & (gaps[:, 1] > end))


def held_offsets(onset: np.ndarray, offset: np.ndarray, large: np.ndarray, gaps: np.ndarray) -> np.ndarray:
    """Offsets of leg-movement bursts, each reaching the next one when it is the same movement.

    A leg movement is tibialis anterior activity: ankle dorsiflexion (DOMAIN.md §0), held, and a
    return. The muscle stays active through the hold, so EMG scoring sees one LM, but the
    foot is still while held: an accelerometer sees the movement out and the movement back as two
    bursts. Bursts less than :data:`LM_HOLD_S` apart are therefore given to the WASM scoring as
    one (their gap closed, so its same-leg joining merges them); the scoring still decides
    whether the whole is a candidate (at most 10 s). Never across a large movement or a gap.
    """
    out = offset.astype(np.float64, copy=True)
    for i in range(onset.shape[0] - 1):
        if large[i] or large[i + 1] or onset[i + 1] - offset[i] >= LM_HOLD_S:
            continue
        if _no_gap_between(offset[i], onset[i + 1], gaps):
            out[i] = max(out[i], onset[i + 1])
    return out


def join_turn_fragments(
    onset: np.ndarray,
    offset: np.ndarray,
    large: np.ndarray,
    group: np.ndarray,
    gaps: np.ndarray,
    peak: np.ndarray | None = None,
) -> np.ndarray:
    """One event for the bursts of one posture change, in place on ``group``.

    A slow or weak turn-over dips below the detector's threshold and arrives as several bursts.
    Two large movements less than :data:`TURN_JOIN_S` apart cannot each have been measured
    between stable postures (the posture windows of both would overlap), so they are one change,
    unless samples are missing between them (``gaps``, shape (k, 2)): nothing is joined across
    a gap. Bursts between two joined pieces belong to it when they are no stronger than the
    stronger piece (``peak``): a flicker of the same turn-over. A stronger one is a movement of
    its own (a jerk between a turn-over and the arousal turn-over it causes, DOMAIN.md §1.2), and
    the pieces around it stay apart.

    Returns
    -------
    ndarray of bool
        The bursts between two pieces of one turn-over.
    """
    inside = np.zeros(onset.shape[0], dtype=bool)
    idx = np.flatnonzero(large)
    for j, k in zip(idx[:-1], idx[1:], strict=True):
        if onset[k] - offset[j] >= TURN_JOIN_S or not _no_gap_between(offset[j], onset[k], gaps):
            continue
        if peak is not None and k > j + 1 and np.max(peak[j + 1 : k]) > max(peak[j], peak[k]):
            continue
        group[j + 1 : k + 1] = group[j]
        inside[j + 1 : k] = True
    return inside


def finalize_labels(
    cls: Classified, events: np.ndarray, periods: list[tuple[float | None, ...]]
) -> None:
    """Stage 2: labels that need the sleep period, in place.

    ``periods`` holds ``(window_start, window_end, sleep_onset, sleep_end[, earliest_onset])``
    per night; ``earliest_onset`` (the start of the onset's 95 % window) defaults to the onset.
    Transients from the jerk window's start before the earliest onset up to the end of the sleep
    period become ``hypnic_jerk`` where the jerk model says so (its confidence is the model's
    probability). Sleep starts happen falling asleep or asleep (DOMAIN.md §1.2: at the wake→sleep
    transition, in patients also later in sleep): not long before anyone fell asleep, not after
    the final awakening, and not in a night without sleep. A leg movement outside a PLM series
    and outside the sleep period is ``other``: leg movements are scored during sleep (PLMS,
    DOMAIN.md §2), and restless legs while awake in bed look the same as fidgeting.
    """
    onset = events["onset_s"]
    cls.jerk_allowed = np.zeros(onset.shape[0], dtype=bool)
    for a, b, s0, s1, *rest in periods:
        mine = (onset >= a) & (onset < b)
        idx = np.flatnonzero(mine & cls.transient)
        if idx.size:
            p = jerk_probability(
                jerk_features(events[mine], cls.transient[mine], s0, None if cls.shape is None else cls.shape[mine])
            )
            p = p[np.searchsorted(np.flatnonzero(mine), idx)]
            if s0 is None or s1 is None:
                asleep = np.zeros(idx.size, dtype=bool)
            else:
                earliest = rest[0] if rest and rest[0] is not None else s0
                asleep = (onset[idx] >= min(earliest, s0) + JERK_WINDOW_S[0]) & (onset[idx] <= s1)
            allowed = asleep & (cls.orientation_change_deg[idx] < SETTLED_DEG)
            cls.jerk_allowed[idx] = allowed
            jerk = (p >= JERK_THRESHOLD) & allowed
            cls.label[idx[jerk]] = "hypnic_jerk"
            cls.confidence[idx] = np.where(jerk, p, 1 - p)
        if s0 is not None and s1 is not None:
            awake = mine & (cls.label == "lm") & ((onset < s0) | (onset > s1))
            cls.label[awake] = "other"
    cls.label[(cls.label == "lm") & restless(events, cls)] = "other"


def restless(events: np.ndarray, cls: Classified) -> np.ndarray:
    """Movements among others: within ±2 min, at least 2 more sustained movements outside PLM
    series, of which at least one is not a leg movement (a turn-over, a repositioning, a fidget).

    Awake in bed, people fidget and turn 20-60 times an hour; in sleep, turn-overs are sparse
    (median 6.8/h, DOMAIN.md §1.3). A wake bout shows the legs fidgeting together with the body
    changing posture; in sleep, leg movements come alone or in (possibly thinned) periodic runs,
    which are judged by the PLM rules, so leg movements alone are not company enough. (Requiring
    two non-leg movements, as before, left 17-81 fidgets in wake bouts per 36 ankle nights labelled
    LM; one of the two raised LM F1 on every benchmark condition, e.g. .844 -> .871 on alt.)
    """
    sustained = (cls.series == 0) & ~cls.transient & ~cls.in_train
    postural = sustained & (cls.label != "lm")
    on = events["onset_s"]

    def company(mask: np.ndarray) -> np.ndarray:
        t = on[mask]
        lo = np.searchsorted(t, on - RESTLESS_WINDOW_S, side="left")
        hi = np.searchsorted(t, on + RESTLESS_WINDOW_S, side="right")
        return hi - lo - mask.astype(np.int64)

    return (company(sustained) >= RESTLESS_MIN_OTHERS) & (company(postural) >= RESTLESS_MIN_POSTURAL)
