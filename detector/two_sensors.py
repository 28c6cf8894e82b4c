"""Two sensors of one night: bilateral leg movements and whole-body jerks.

Each sensor's bursts are labelled as for one sensor (:mod:`detector.classify`, stage 1 on its own
posture grid and clock), put on the pair's time line (sensor A's clock, :mod:`detector.
alignment`) and combined:

* **two ankles** — the leg movements of both legs are scored together, each with its side, so
  that WASM's bilateral rule (LMs of the two legs overlapping or < 0.5 s apart are one LM, a
  candidate up to 15 s; DOMAIN.md §2.2) or AASM's (onsets < 5 s apart count as one) applies and
  a PLM series can run across the legs. A bilateral LM is one event.
* **wrist and an ankle** — leg movements come from the ankle only.
* **whole-body jerks** — a transient that both sensors see within :data:`PAIR_WINDOW_S` is one
  movement of the whole body: hypnic jerks are "often on wrist *and* ankle together" (DOMAIN.md
  §0) while twitches, knocks and arm or foot flicks move one limb. The pair is one event, and the
  jerk model's odds (:func:`detector.classify.jerk_probability`, the better of the two sensors')
  are multiplied by :data:`PAIR_LIKELIHOOD_RATIO`; a transient only one sensor saw while the other
  was recording has its odds multiplied by :data:`ALONE_LIKELIHOOD_RATIO`. The decision is then
  the one-sensor rule (``classify.JERK_THRESHOLD``) on the updated probability, which is also the
  event's confidence.
* a movement both sensors see with the same label (a turn-over, a fidget) is one event; the
  ``sensors`` of every event says which sensors saw it.
* **the sleep period** of each night is the wrist's where one sensor is at the wrist (HDCZA was
  developed and validated on wrist data), else sensor A's; the other's where the preferred one
  found none (:func:`choose_periods`). The wrist's is found with the ankle's transients as more
  witnesses of the onset (:func:`detector.analysis.analyze_night`).

Pure functions: arrays in, events and nights out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from hypnic.detector import classify, plm, vocabulary
from hypnic.detector.alignment import ClockMap, match_onsets
from hypnic.detector.night import merge_events
from hypnic.detector.results import Event, Night
from hypnic.detector.summary import NightPeriod

#: Two sensors' transients whose onsets are this close are one movement. 0.25 s is the longest
#: hypnic-jerk EMG burst (75-250 ms, DOMAIN.md §1.2): the limbs of one jerk start moving within
#: one EMG burst, and a jerk's onset tolerance is the same 0.25 s (detector.vocabulary).
PAIR_WINDOW_S = 0.25
#: How much more likely a hypnic jerk is than another transient to show on both sensors at once
#: (a likelihood ratio on the jerk model's odds), and on one sensor only while the other records.
#: Synthetic nights give ~1000 and ~0.04 (81 of 82 two-sensor transients were jerks, 3 of 84
#: jerks showed on one sensor; benchmarks.synth moves every limb in a jerk and one limb in a
#: twitch). Real jerks may move one segment only and a knock on the bed reaches every limb
#: (DOMAIN.md §1.1-1.2: "one or more body segments", "often asymmetric"), so far milder values
#: are assumed: with the one-sensor threshold of 0.67 (detector.classify.JERK_THRESHOLD) a pair
#: needs p ≥ 0.17 and a lone transient p ≥ 0.89 (tests/test_two_sensors.py derives both).
PAIR_LIKELIHOOD_RATIO = 10.0
ALONE_LIKELIHOOD_RATIO = 0.25
#: Stage-1 confidences of scored leg movements, as :func:`detector.classify.classify_bursts` gives.
PLM_CONFIDENCE = 0.8
LM_CONFIDENCE = 0.6


@dataclass
class SensorBursts:
    """One sensor's contribution to a two-sensor night.

    Attributes
    ----------
    name : str
        How events name the sensor (``wrist``, ``left_ankle`` ...).
    placement : str
        Where it was worn; ``unknown`` is scored as an ankle (as for one sensor).
    events : ndarray of detector.bursts.EVENT_DTYPE
        Bursts on the sensor's own clock, non-wear removed, sorted by onset.
    grid : dict of ndarray
        The sensor's regular epoch grid (:func:`detector.epochs.regular_grid`), own clock.
    clock : ClockMap
        The sensor's clock on the pair's time line (identity for sensor A).
    absent : list of [start, end]
        Where the sensor did not record or was not worn (gaps, non-wear), own clock.
    shapes : ndarray of float, shape (n, 2), optional
        Linearity and relative mean frequency of each transient (:attr:`detector.bursts.BurstResult.shapes`).
    """

    name: str
    placement: str
    events: np.ndarray
    grid: dict[str, np.ndarray]
    clock: ClockMap = ClockMap()
    absent: list[list[float]] = field(default_factory=list)
    shapes: np.ndarray | None = None


def leg_sides(placement_a: str, placement_b: str) -> tuple[int | None, int | None]:
    """Which leg each sensor sees: ``plm.LEFT``/``plm.RIGHT``/``plm.UNKNOWN_LEG``, None for a wrist.

    Two ankle sensors always see two legs: ``ankle`` (or ``unknown``, which is scored as an
    ankle) is the side the other is not, and two of them are left then right, in input order.

    Raises
    ------
    ValueError
        Both sensors on the same ankle.
    """
    other = {plm.LEFT: plm.RIGHT, plm.RIGHT: plm.LEFT}
    legs_a, legs_b = (vocabulary.placement(p).legs for p in (placement_a, placement_b))
    if not (legs_a and legs_b):
        side = plm.UNKNOWN_LEG
        return (side if legs_a else None), (side if legs_b else None)
    sa, sb = (plm.leg_of(p) for p in (placement_a, placement_b))
    sa, sb = (None if s == plm.UNKNOWN_LEG else s for s in (sa, sb))  # the sides given
    if sa is not None and sa == sb:
        raise ValueError(f"both sensors are on the same ankle ({placement_a})")
    if sa is None and sb is None:
        return plm.LEFT, plm.RIGHT
    return (other[sb] if sa is None else sa), (other[sa] if sb is None else sb)


def sensor_names(place_a: str, place_b: str) -> tuple[str, str]:
    """Names for the ``sensors`` column: the placements, with the side two ankles are scored as,
    made distinct when both are the same (``wrist_1``, ``wrist_2``).

    Raises
    ------
    ValueError
        Both sensors on the same ankle (:func:`leg_sides`).
    """
    sides = leg_sides(place_a, place_b)
    side_name = {plm.LEFT: vocabulary.ankle_placement("left"),
                 plm.RIGHT: vocabulary.ankle_placement("right")}

    def named(p: str, side: int | None) -> str:
        info = vocabulary.placement(p)
        # An ankle of no given side is named by the side it is scored as; an unknown place keeps
        # its name.
        if info.limb == "ankle" and info.side is None and side in side_name:
            return side_name[side]
        return p

    names = [named(p, s) for p, s in zip((place_a, place_b), sides, strict=True)]
    if names[0] == names[1]:
        names = [f"{names[0]}_1", f"{names[1]}_2"]
    return names[0], names[1]


def prefers_b(place_a: str, place_b: str) -> bool:
    """Whether sensor B's sleep period goes first: B is at a wrist and A is not. HDCZA was developed
    and validated on wrist data (van Hees et al. 2018, DOMAIN.md §4.1)."""
    return vocabulary.placement(place_b).wrist and not vocabulary.placement(place_a).wrist


def night_on_a(night: Night, clock: ClockMap) -> Night:
    """A night of sensor B with its times on the pair's time line (sensor A's clock)."""

    def on_a(t: float | None) -> float | None:
        return None if t is None else float(clock.to_a(t))

    def spans_on_a(ts: list[float] | None) -> list[float] | None:
        return None if ts is None else [float(clock.to_a(v)) for v in ts]

    return replace(
        night, sleep_onset_s=on_a(night.sleep_onset_s), sleep_end_s=on_a(night.sleep_end_s),
        sleep_onset_window_s=spans_on_a(night.sleep_onset_window_s),
        window_s=spans_on_a(night.window_s),
    )


def choose_periods(
    nights_a: list[Night],
    nights_b: list[Night],
    names: tuple[str, str],
    prefer_b: bool,
    given_onset: float | None,
    duration_a: float,
) -> list[NightPeriod]:
    """The sleep period of each of A's nights: the preferred sensor's, else the other's.

    Parameters
    ----------
    nights_a, nights_b : list of Night
        Each sensor's nights, B's already on A's time line (:func:`night_on_a`).
    names : (str, str)
        The sensors' names (:func:`sensor_names`): ``NightPeriod.sensor``.
    prefer_b : bool
        B's period goes first (:func:`prefers_b`).
    given_onset : float, optional
        A given sleep onset (A's clock): it replaces the onset of the night it falls in; the end is
        the detected end when that is later, else the night's end.
    duration_a : float
        The length of A's recording.

    Returns
    -------
    list of NightPeriod
        One per night of A, times rounded to 10 ms as the summaries give them.
    """
    out = []
    for night in nights_a:
        a, b = night.window_s
        found = [n for n in nights_b if n.sleep_onset_s is not None]
        other = next((n for n in found if a <= n.sleep_onset_s < b), None)
        order = [(1, other), (0, night)] if prefer_b else [(0, night), (1, other)]
        usable = [(k, n) for k, n in order if n is not None and n.sleep_onset_s is not None]
        k, chosen = usable[0] if usable else (0, night)
        onset, end = chosen.sleep_onset_s, chosen.sleep_end_s
        window, reason = chosen.sleep_onset_window_s, chosen.sleep_onset_reason
        source, sensor = "detected", names[k] if onset is not None else None
        if given_onset is not None and a <= given_onset < b:
            end = end if end is not None and end > given_onset else min(b, duration_a)
            onset, window, source, reason, sensor = given_onset, [given_onset, given_onset], "given", None, None
        out.append(
            NightPeriod(
                window_s=(a, b),
                complete=True if night.complete is None else night.complete,
                onset_s=None if onset is None else round(float(onset), 2),
                onset_window_s=None if window is None else [round(float(v), 2) for v in window],
                source=source,
                end_s=None if end is None else round(float(end), 2),
                reason=reason,
                sensor=sensor,
            )
        )
    return out


def map_events(events: np.ndarray, clock: ClockMap) -> np.ndarray:
    """Bursts with their times on the pair's time line (durations scaled by the clock rate)."""
    out = events.copy()
    for f in ("onset_s", "offset_s", "peak_s"):
        out[f] = clock.to_a(events[f])
    for f in ("duration_s", "rise_time_s", "centroid_s", "spread_s"):
        out[f] = events[f] * clock.rate
    return out


def _concat(parts: list[classify.Classified], sizes: list[int]) -> classify.Classified:
    """One Classified over the concatenated bursts (groups renumbered to stay apart)."""
    offsets = np.cumsum([0] + sizes[:-1])
    return classify.Classified(
        label=np.concatenate([p.label for p in parts]),
        confidence=np.concatenate([p.confidence for p in parts]),
        series=np.concatenate([p.series for p in parts]),
        orientation_change_deg=np.concatenate([p.orientation_change_deg for p in parts]),
        in_train=np.concatenate([p.in_train for p in parts]),
        legs=None,
        group=np.concatenate([p.group + o for p, o in zip(parts, offsets)]),
        transient=np.concatenate([p.transient for p in parts]),
        leg_like=np.concatenate([p.leg_like for p in parts]),
        shape=np.concatenate([p.shape for p in parts]),
    )


def _view(cls: classify.Classified, sl: slice) -> classify.Classified:
    """The bursts ``sl`` of a Classified as views: labels set on it land in ``cls``."""
    return classify.Classified(
        cls.label[sl], cls.confidence[sl], cls.series[sl], cls.orientation_change_deg[sl],
        cls.in_train[sl], None, cls.group[sl], cls.transient[sl], cls.leg_like[sl], cls.shape[sl],
    )


def _subset(cls: classify.Classified, idx: np.ndarray) -> classify.Classified:
    return classify.Classified(
        cls.label[idx], cls.confidence[idx], cls.series[idx], cls.orientation_change_deg[idx],
        cls.in_train[idx], None, cls.group[idx], cls.transient[idx], cls.leg_like[idx], cls.shape[idx],
    )


def leg_movement_like(events: np.ndarray, cls: classify.Classified) -> np.ndarray:
    """Bursts stage 1 treats as leg movements (``Classified.leg_like``: not large, not in a
    rhythmic train, not a transient, not a repositioning, at least the shortest LM long)."""
    if cls.leg_like is not None:
        return cls.leg_like & (cls.label != "large_movement")
    large = cls.label == "large_movement"
    long_enough = events["duration_s"] >= classify.SHORTEST_LM_S
    return ~large & ~cls.in_train & ~cls.transient & long_enough


def bilateral_legs(
    events: np.ndarray,
    cls: classify.Classified,
    side: np.ndarray,
    rules: str,
    gaps: list[list[float]] | None = None,
) -> None:
    """Score the leg movements of two ankles together (in place on the combined bursts).

    Parameters
    ----------
    events : ndarray of EVENT_DTYPE
        Both sensors' bursts on the pair's time line.
    cls : Classified
        Their stage-1 labels; the one-leg scoring of each sensor is replaced.
    side : ndarray of int
        The leg of each burst's sensor.
    rules : {"wasm", "aasm"}
    gaps : list of [float, float], optional
        Where either sensor has no samples (pair time line): no leg movement is held across.
    """
    legs_before = np.isin(cls.label, vocabulary.LEG_LABELS) | (cls.series > 0)
    cls.label[legs_before] = "other"
    cls.series[:] = 0
    cls.confidence[legs_before] = 0.5
    cls.group[:] = np.arange(cls.group.size)
    large = cls.label == "large_movement"
    idx = np.flatnonzero(leg_movement_like(events, cls) | large)
    on, off = events["onset_s"][idx], events["offset_s"][idx].astype(np.float64)
    gap_spans = np.asarray(gaps or [], dtype=np.float64).reshape(-1, 2)
    for leg in np.unique(side[idx]):  # the hold of one leg's movement (classify.held_offsets)
        mine = np.flatnonzero(side[idx] == leg)
        order = mine[np.argsort(on[mine], kind="stable")]
        off[order] = classify.held_offsets(on[order], off[order], large[idx][order], gap_spans)
    legs = plm.score_leg_movements(on, off, side[idx], large[idx], rules=rules)
    for k, members in enumerate(legs.members):
        orig = idx[members]
        cls.group[orig] = orig.min()
        if legs.series[k] > 0:
            cls.label[orig] = "plm"
            cls.series[orig] = legs.series[k]
            cls.confidence[orig] = PLM_CONFIDENCE
        elif legs.candidate[k]:
            cls.label[orig] = "lm"
            cls.confidence[orig] = LM_CONFIDENCE


def update_odds(p: np.ndarray, likelihood_ratio: float) -> np.ndarray:
    """Probability after multiplying the odds ``p / (1 - p)`` by a likelihood ratio (Bayes)."""
    p = np.asarray(p, dtype=np.float64)
    return likelihood_ratio * p / (1.0 - p + likelihood_ratio * p)


def covered(t: np.ndarray, absent: list[list[float]]) -> np.ndarray:
    """Times not inside any ``absent`` span."""
    out = np.ones(np.shape(t), dtype=bool)
    for a, b in absent:
        out &= ~((t >= a) & (t <= b))
    return out


def _overlaps_any(t: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Which times fall inside any [start, end] interval (intervals sorted by start)."""
    if start.size == 0:
        return np.zeros(t.shape, dtype=bool)
    order = np.argsort(start, kind="stable")
    start, end = start[order], np.maximum.accumulate(end[order])
    k = np.searchsorted(start, t, side="right") - 1
    return (k >= 0) & (end[np.maximum(k, 0)] >= t)


def jerk_probabilities(cls: classify.Classified) -> np.ndarray:
    """The jerk model's probability of each transient after :func:`classify.finalize_labels`
    (which keeps ``p`` as the confidence of a jerk and ``1 - p`` of a transient that is not);
    NaN for bursts that are not transients."""
    p = np.where(cls.label == "hypnic_jerk", cls.confidence, 1.0 - cls.confidence)
    return np.where(cls.transient, p, np.nan)


class _Groups:
    """Union-find over burst indices: bursts in one set become one event."""

    def __init__(self, group: np.ndarray) -> None:
        self.parent = np.asarray(group, dtype=np.int64).copy()

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = int(self.parent[root])
        while self.parent[i] != root:
            self.parent[i], i = root, int(self.parent[i])
        return root

    def union(self, i: int, j: int) -> None:
        ri, rj = self.find(int(i)), self.find(int(j))
        if ri != rj:
            self.parent[max(ri, rj)] = min(ri, rj)

    def roots(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(self.parent.size)], dtype=np.int64)


def _shared_movements(
    events: np.ndarray, label: np.ndarray, group: np.ndarray, sensor: np.ndarray
) -> list[tuple[int, int]]:
    """One-to-one pairs of one-sensor events (groups) of A and B with the same shared label whose
    spans overlap, the largest overlaps first."""
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    if order.size == 0:
        return []
    starts = np.flatnonzero(np.r_[True, g_sorted[1:] != g_sorted[:-1]])
    gid = g_sorted[starts]
    on = np.minimum.reduceat(events["onset_s"][order], starts)
    off = np.maximum.reduceat(events["offset_s"][order], starts)
    s_min = np.minimum.reduceat(sensor[order], starts)
    s_max = np.maximum.reduceat(sensor[order], starts)
    lab = label[order][starts]
    # A turn-over or another movement of the body that both sensors saw is reported once.
    shared = (s_min == s_max) & np.isin(lab, vocabulary.MOVEMENT_LABELS)
    ka = np.flatnonzero(shared & (s_min == 0))
    kb = np.flatnonzero(shared & (s_min == 1))
    cands = []
    for i in ka:
        ov = np.minimum(off[i], off[kb]) - np.maximum(on[i], on[kb])
        for j in kb[(ov >= 0) & (lab[kb] == lab[i])]:
            cands.append((-(min(off[i], off[j]) - max(on[i], on[j])), int(gid[i]), int(gid[j])))
    used_a: set[int] = set()
    used_b: set[int] = set()
    pairs = []
    for _, ga, gb in sorted(cands):
        if ga not in used_a and gb not in used_b:
            used_a.add(ga)
            used_b.add(gb)
            pairs.append((ga, gb))
    return pairs


@dataclass
class PairResult:
    """The combined events of a two-sensor night.

    Attributes
    ----------
    rows : list of Event
        Events as :func:`detector.night.merge_events` makes them, plus ``sensors``, sorted by
        onset (``minutes_from_onset`` is added by :func:`detector.summary.set_minutes_from_onset`).
    events : ndarray of EVENT_DTYPE
        Both sensors' bursts on the pair's time line (A's first).
    cls : Classified
        Their final labels; ``group`` joins the bursts of one event.
    sensor : ndarray of int
        0 for A's bursts, 1 for B's.
    jerk_pairs : int
        Transients seen on both sensors.
    """

    rows: list[Event]
    events: np.ndarray
    cls: classify.Classified
    sensor: np.ndarray
    jerk_pairs: int


def score_pair(
    a: SensorBursts,
    b: SensorBursts,
    periods: list[tuple[float, float, float | None, float | None]],
    step_s: float,
    rules: str = "wasm",
) -> PairResult:
    """Label the bursts of two sensors of one night and combine them into events.

    Parameters
    ----------
    a, b : SensorBursts
    periods : list of (window_start, window_end, sleep_onset, sleep_end)
        Nights on the pair's time line, as :func:`classify.finalize_labels` takes them.
    step_s : float
        The grids' step (the burst detector's ``epoch_s``).
    rules : {"wasm", "aasm"}

    Returns
    -------
    PairResult
    """
    side_a, side_b = leg_sides(a.placement, b.placement)
    parts, evs = [], []
    for s, side in ((a, side_a), (b, side_b)):
        # Stage 1 on the sensor's own clock and grid (posture before and after each burst).
        place = "wrist" if side is None else s.placement
        parts.append(classify.classify_bursts(s.events, s.grid, step_s, place, rules, s.absent, s.shapes))
        evs.append(map_events(s.events, s.clock))
    n_a = evs[0].shape[0]
    events = np.concatenate(evs)
    sensor = np.repeat(np.array([0, 1]), [n_a, evs[1].shape[0]])
    cls = _concat(parts, [n_a, evs[1].shape[0]])
    if side_a is not None and side_b is not None:
        absent = list(a.absent) + [[float(b.clock.to_a(x)), float(b.clock.to_a(y))] for x, y in b.absent]
        bilateral_legs(events, cls, np.where(sensor == 0, side_a, side_b), rules, absent)

    # Stage 2 per sensor: the jerk model's reference is each sensor's own transients.
    cls.jerk_allowed = np.zeros(events.shape[0], dtype=bool)
    for sl in (slice(0, n_a), slice(n_a, None)):
        view = _view(cls, sl)
        classify.finalize_labels(view, events[sl], periods)
        cls.jerk_allowed[sl] = view.jerk_allowed
    _settle_bilateral(cls)
    groups = _Groups(cls.group)

    ia, ib = _whole_body_jerks(events, cls, sensor, (a, b), step_s)
    for i, j in zip(ia, ib):
        groups.union(i, j)

    root = groups.roots()
    for ga, gb in _shared_movements(events, cls.label, root, sensor):
        groups.union(ga, gb)
    cls.group[:] = groups.roots()

    rows = []
    seen = np.zeros(cls.group.max() + 1 if cls.group.size else 0, dtype=np.int64)
    np.bitwise_or.at(seen, cls.group, np.where(sensor == 0, 1, 2))
    which = seen[cls.group]
    names = {1: a.name, 2: b.name, 3: f"{a.name}+{b.name}"}
    for code, name in names.items():
        idx = np.flatnonzero(which == code)
        for r in merge_events(events[idx], _subset(cls, idx)):
            r.sensors = name
            rows.append(r)
    rows.sort(key=lambda r: r.onset_s)
    return PairResult(rows, events, cls, sensor, int(ia.size))


def _whole_body_jerks(
    events: np.ndarray,
    cls: classify.Classified,
    sensor: np.ndarray,
    sensors: tuple[SensorBursts, SensorBursts],
    step_s: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Pair the transients both sensors saw and decide every transient anew (in place).

    Returns
    -------
    ia, ib : ndarray of int
        The pairs (indices into the combined bursts).
    """
    tr = [np.flatnonzero(cls.transient & (sensor == k)) for k in (0, 1)]
    ia, ib = match_onsets(events["onset_s"][tr[0]], events["onset_s"][tr[1]], PAIR_WINDOW_S)
    ia, ib = tr[0][ia], tr[1][ib]
    p = jerk_probabilities(cls)
    post = p.copy()
    best = np.maximum(p[ia], p[ib])
    post[ia] = post[ib] = update_odds(best, PAIR_LIKELIHOOD_RATIO)
    lone = cls.transient.copy()
    lone[ia] = lone[ib] = False
    for k, other in ((0, sensors[1]), (1, sensors[0])):
        mine = np.flatnonzero(lone & (sensor == k))
        t = events["onset_s"][mine]
        # Alone only where the other sensor recorded, was worn and showed no movement at all.
        rec = other.grid["t_s"][other.grid["n"] > 0]
        span = (
            [float(other.clock.to_a(rec.min())), float(other.clock.to_a(rec.max() + step_s))]
            if rec.size
            else [0.0, -1.0]
        )
        absent = [[float(other.clock.to_a(s)), float(other.clock.to_a(e))] for s, e in other.absent]
        theirs = events[sensor != k]
        moved = _overlaps_any(
            t, theirs["onset_s"] - PAIR_WINDOW_S, theirs["offset_s"] + PAIR_WINDOW_S
        )
        alone = (t >= span[0]) & (t <= span[1]) & covered(t, absent) & ~moved
        post[mine[alone]] = update_odds(p[mine[alone]], ALONE_LIKELIHOOD_RATIO)
    idx = np.flatnonzero(cls.transient)
    # The one-sensor rules (in or just before the sleep period, no lasting tilt) hold for a pair.
    allowed = cls.jerk_allowed[idx] if cls.jerk_allowed is not None else np.ones(idx.size, bool)
    jerk = (post[idx] >= classify.JERK_THRESHOLD) & allowed
    cls.label[idx] = np.where(jerk, "hypnic_jerk", "other")
    cls.confidence[idx] = np.where(jerk, post[idx], 1.0 - post[idx])
    return ia, ib


def _settle_bilateral(cls: classify.Classified) -> None:
    """One label per leg movement seen by two ankles: stage 2 judges each sensor's bursts by their
    own surroundings (sleep period, a wake bout nearby), and a leg movement that either sensor
    places in wake is not a sleep leg movement."""
    lm = cls.label == "lm"
    other = cls.label == "other"
    size = cls.group.max() + 1 if cls.group.size else 0
    has_lm = np.bincount(cls.group[lm], minlength=size) > 0
    has_other = np.bincount(cls.group[other], minlength=size) > 0
    cls.label[lm & (has_lm & has_other)[cls.group]] = "other"


def lost_spans(
    spans_a: list[list[float]], spans_b: list[list[float]], both: bool
) -> list[list[float]]:
    """Time the pair did not record: where both sensors miss (``both``), else where A misses."""
    if not both:
        return [list(s) for s in spans_a]
    out = []
    for s0, e0 in spans_a:
        for s1, e1 in spans_b:
            lo, hi = max(s0, s1), min(e0, e1)
            if hi > lo:
                out.append([lo, hi])
    return sorted(out)
