"""Scoring detections against synthetic ground truth.

Events are matched one to one by optimal (bipartite) assignment on onset distance within a
tolerance, as sed_eval's event-based metrics do (DOMAIN.md §6), with each label's onset tolerance
(:data:`detector.vocabulary.ONSET_TOLERANCE_S`: jerk 0.25 s, leg movement 0.5 s, the Mobilise-D
wearable tolerance, large movement 2 s); the labels scored are the vocabulary's
(:data:`detector.vocabulary.SCORED_LABELS`).
The expected labels are the scoring rules applied to the truth events the sensor could see:
a leg movement is ``plm`` only if the *visible* leg movements form a WASM/AASM series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from hypnic.benchmarks.synth_render import PLACEMENT_TRACK
from hypnic.benchmarks.synth_timeline import LIMB_TRACKS
from hypnic.detector.plm import score_leg_movements
from hypnic.detector.results import Event
from hypnic.detector.vocabulary import LEG_LABELS, ONSET_TOLERANCE_S, SCORED_LABELS
from hypnic.detector.vocabulary import placement as placement_info

#: A detection within this margin of a truth event's span is explained by it (not a false burst).
EXPLAIN_MARGIN_S = 0.5


def match(detected: np.ndarray, truth: np.ndarray, tolerance_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Optimal one-to-one matching of onsets within a tolerance.

    Returns
    -------
    det_idx, truth_idx : ndarray of int
        Matched pairs (same length).
    """
    detected = np.asarray(detected, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if detected.size == 0 or truth.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # Only pairs within the tolerance can match; sort both and build a sparse cost over the
    # band of candidate pairs so that long nights stay cheap.
    cost = np.abs(detected[:, None] - truth[None, :])
    big = 1e9
    cost = np.where(cost <= tolerance_s, cost, big)
    rows, cols = linear_sum_assignment(cost)
    ok = cost[rows, cols] <= tolerance_s
    return rows[ok], cols[ok]


@dataclass
class Counts:
    """True positives, false positives and false negatives, summable over nights."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: Counts) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def f1(self) -> float:
        d = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / d if d else float("nan")


def expected_labels(truth: dict[str, Any], placement: str, rules: str = "wasm") -> list[dict[str, Any]]:
    """Truth events this placement can see, with the label the scoring rules give them."""
    out = []
    legs = []
    for ev in truth["events"]:
        if not ev["visible"]:
            continue
        label = ev["label"]
        if label in LEG_LABELS:
            if not placement_info(placement).legs:
                continue
            # A leg movement shows where it moves the sensor's track (a placement of unknown
            # side sees every leg).
            track = PLACEMENT_TRACK.get(placement)
            if track is not None and track not in LIMB_TRACKS[ev["limb"]]:
                continue
            legs.append(ev)
            continue
        out.append(dict(ev, expected=label))
    if legs:
        on = np.array([e["onset_s"] for e in legs])
        off = on + np.array([e["duration_s"] for e in legs])
        brk_on = np.array([e["onset_s"] for e in out if e["expected"] == "large_movement"])
        brk_off = brk_on + np.array([e["duration_s"] for e in out if e["expected"] == "large_movement"])
        scored = score_leg_movements(
            np.concatenate([on, brk_on]), np.concatenate([off, brk_off]),
            breaks=np.concatenate([np.zeros(on.size, bool), np.ones(brk_on.size, bool)]),
            rules=rules,
        )
        for k, members in enumerate(scored.members):
            first = legs[int(members.min())]
            lab = "plm" if scored.series[k] > 0 else ("lm" if scored.candidate[k] else "other")
            out.append(dict(first, onset_s=float(scored.onset_s[k]),
                            duration_s=float(scored.offset_s[k] - scored.onset_s[k]), expected=lab))
    out.sort(key=lambda e: e["onset_s"])
    return out


def score_labels(
    events: Sequence[Event], expected: Sequence[dict[str, Any]], labels: Iterable[str] = SCORED_LABELS
) -> dict[str, Counts]:
    """Per label counts of matched detections (the analysis's events) against expected events
    (truth dicts, :func:`expected_labels`)."""
    out = {}
    for lab in labels:
        det = np.array([e.onset_s for e in events if e.label == lab])
        tru = np.array([e["onset_s"] for e in expected if e["expected"] == lab])
        d, t = match(det, tru, ONSET_TOLERANCE_S[lab])
        out[lab] = Counts(tp=d.size, fp=det.size - d.size, fn=tru.size - t.size)
    return out


@dataclass
class BurstScore:
    """How well raw bursts find the hypnic jerks, and how many bursts nothing explains."""

    jerks: int = 0
    jerks_found: int = 0
    onset_errors: list[float] = field(default_factory=list)
    false_bursts: int = 0
    quiet_sleep_h: float = 0.0

    def add(self, o: BurstScore) -> None:
        self.jerks += o.jerks
        self.jerks_found += o.jerks_found
        self.onset_errors += o.onset_errors
        self.false_bursts += o.false_bursts
        self.quiet_sleep_h += o.quiet_sleep_h

    @property
    def jerk_recall(self) -> float:
        return self.jerks_found / self.jerks if self.jerks else float("nan")

    @property
    def median_onset_error_s(self) -> float:
        return float(np.median(np.abs(self.onset_errors))) if self.onset_errors else float("nan")

    @property
    def false_per_hour(self) -> float:
        return self.false_bursts / self.quiet_sleep_h if self.quiet_sleep_h else float("nan")


def score_bursts(bursts: np.ndarray, truth: dict[str, Any]) -> BurstScore:
    """Jerk recall and onset error of raw bursts; unexplained bursts per hour of sleep."""
    jerks = [e for e in truth["events"] if e["label"] == "hypnic_jerk" and e["visible"]]
    j_on = np.array([e["onset_s"] for e in jerks])
    d, t = match(bursts["onset_s"], j_on, ONSET_TOLERANCE_S["hypnic_jerk"])
    errors = list(bursts["onset_s"][d] - j_on[t])
    on = np.array([e["onset_s"] for e in truth["events"]])
    off = on + np.array([e["duration_s"] for e in truth["events"]])
    explained = np.zeros(bursts.shape[0], dtype=bool)
    for a, b in zip(on - EXPLAIN_MARGIN_S, off + EXPLAIN_MARGIN_S):
        explained |= (bursts["offset_s"] >= a) & (bursts["onset_s"] <= b)
    s0, s1 = truth["sleep_onset_s"], truth["sleep_end_s"]
    excluded = [(a, b) for a, b in truth.get("nonwear", []) + truth.get("gaps", [])]
    in_sleep = (bursts["onset_s"] >= s0) & (bursts["onset_s"] <= s1)
    for a, b in excluded:
        in_sleep &= ~((bursts["onset_s"] >= a) & (bursts["onset_s"] <= b))
    lost = sum(max(0.0, min(b, s1) - max(a, s0)) for a, b in excluded)
    return BurstScore(
        jerks=len(jerks), jerks_found=int(d.size), onset_errors=errors,
        false_bursts=int(np.count_nonzero(in_sleep & ~explained)),
        quiet_sleep_h=max(0.0, (s1 - s0 - lost) / 3600.0),
    )


def truth_plms_index(expected: Sequence[dict[str, Any]], truth: dict[str, Any]) -> float:
    """PLM per hour of the true sleep period (worn, recorded time), from the expected labels."""
    s0, s1 = truth["sleep_onset_s"], truth["sleep_end_s"]
    n = sum(1 for e in expected if e["expected"] == "plm" and s0 <= e["onset_s"] <= s1)
    lost = sum(max(0.0, min(b, s1) - max(a, s0)) for a, b in truth.get("nonwear", []) + truth.get("gaps", []))
    hours = (s1 - s0 - lost) / 3600.0
    return n / hours if hours > 0 else float("nan")


#: True non-wear spans at least this long count in the non-wear recall.
NONWEAR_MIN_SPAN_S = 300.0


def merge_spans(spans: Iterable[Sequence[float]]) -> list[list[float]]:
    """Union of ``[start, end]`` spans as sorted, disjoint spans (empty ones dropped)."""
    out: list[list[float]] = []
    for a, b in sorted((float(a), float(b)) for a, b in spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return out


def overlap_s(a: float, b: float, spans: Sequence[Sequence[float]]) -> float:
    """Seconds of ``[a, b]`` covered by disjoint ``spans``."""
    return float(sum(max(0.0, min(b, e) - max(a, s)) for s, e in spans))


@dataclass
class NonwearScore:
    """Detected non-wear against the true spans, summable over nights.

    ``spans``/``found``: true spans of at least :data:`NONWEAR_MIN_SPAN_S` and those at least half
    covered by detected non-wear. ``detected_s``/``inside_s``: detected non-wear time and the part
    of it inside a true span widened by the handling time at each end. ``false_s``: per night,
    detected non-wear seconds outside the widened true spans.
    """

    spans: int = 0
    found: int = 0
    detected_s: float = 0.0
    inside_s: float = 0.0
    false_s: list[float] = field(default_factory=list)

    def add(self, o: NonwearScore) -> None:
        self.spans += o.spans
        self.found += o.found
        self.detected_s += o.detected_s
        self.inside_s += o.inside_s
        self.false_s += o.false_s

    @property
    def recall(self) -> float:
        return self.found / self.spans if self.spans else float("nan")

    @property
    def precision(self) -> float:
        return self.inside_s / self.detected_s if self.detected_s > 0 else float("nan")

    @property
    def false_min_per_night(self) -> float:
        return float(np.mean(self.false_s)) / 60.0 if self.false_s else float("nan")

    @property
    def false_min_worst_night(self) -> float:
        return float(np.max(self.false_s)) / 60.0 if self.false_s else float("nan")


def score_nonwear(
    detected: Sequence[Sequence[float]],
    truth_spans: Sequence[Sequence[float]],
    widen_s: float = 0.0,
    min_span_s: float = NONWEAR_MIN_SPAN_S,
) -> NonwearScore:
    """Score one night's detected non-wear spans against its true ones.

    A true span of at least ``min_span_s`` is found when detected non-wear covers at least half
    of its time. Detected time counts as correct inside a true span (of any length) widened by
    ``widen_s`` (the handling time) at each end, and as false non-wear everywhere else.
    """
    det = merge_spans(detected)
    long = [(float(a), float(b)) for a, b in truth_spans if b - a >= min_span_s]
    found = sum(overlap_s(a, b, det) >= 0.5 * (b - a) for a, b in long)
    widened = merge_spans([(a - widen_s, b + widen_s) for a, b in truth_spans])
    detected_s = float(sum(b - a for a, b in det))
    inside = float(sum(overlap_s(a, b, widened) for a, b in det))
    return NonwearScore(
        spans=len(long), found=int(found), detected_s=detected_s, inside_s=inside,
        false_s=[max(0.0, detected_s - inside)],
    )


def nonwear_found(detected: Sequence[Sequence[float]], truth_spans: Sequence[Sequence[float]]) -> bool:
    """Every true non-wear span is at least half covered by detected non-wear."""
    for a, b in truth_spans:
        cover = sum(max(0.0, min(b, d1) - max(a, d0)) for d0, d1 in detected)
        if cover < 0.5 * (b - a):
            return False
    return True
