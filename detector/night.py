"""From bursts and epochs to the night: sleep period, non-wear, labelled events, summary.

Pure functions on the burst detector's output (arrays in, dicts and arrays out). A recording
longer than a day is split into nights from noon to noon local time (GGIR's convention) and
each night is scored on its own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from hypnic.detector import classify, vocabulary
from hypnic.detector.bursts import BurstParams, BurstResult
from hypnic.detector.epochs import ANGLE_EPOCH_S, aggregate, regular_grid
from hypnic.detector.nonwear import NonwearSpan, Temperature, find_nonwear, keep_outside_sleep
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.sleep_onset import SleepPeriod, Witness, find_sleep_period

#: "Jerks while falling asleep" are counted in the classifier's jerk window around the onset.
JERK_WINDOW_S = classify.JERK_WINDOW_S
#: Noon-to-noon nights (GGIR; DOMAIN.md §4.1 asleep/GGIR conventions).
NIGHT_SPLIT_HOUR = 12
SPLIT_MIN_RECORDING_S = 24 * 3600.0
#: A night whose sleep starts within 5 min of its window's start was cut by the recording start.
COMPLETE_MARGIN_S = 300.0


@dataclass
class NightInput:
    """Everything the night-level stages need from a recording (what to do with it is the
    :class:`~detector.options.AnalysisOptions`)."""

    bursts: BurstResult
    fs: float
    duration_s: float
    #: Where the sensor is scored as worn (the option, else the file's, else unknown).
    placement: str = vocabulary.UNKNOWN
    start_utc: str | None = None
    utc_offset_s: float = 0.0
    reader_gaps: list[list[float]] = field(default_factory=list)
    #: Brief transients another sensor of the same night saw (on this sensor's clock): more
    #: witnesses of the sleep onset (:func:`onset_witnesses`).
    sleep_marks: np.ndarray | None = None
    #: The sensor's temperature as (t_s, °C), where it has one: non-wear evidence.
    temperature: tuple[np.ndarray, np.ndarray] | None = None
    #: Spans the device idled because it lay still (not gaps; filled with its last sample).
    idle: list[list[float]] = field(default_factory=list)


def onset_witnesses(
    events: np.ndarray, cls: classify.Classified, placement: str, other_marks: np.ndarray | None = None
) -> list[Witness]:
    """The movements whose rates change at sleep onset (:mod:`detector.sleep_states`).

    * small repositionings: a sustained movement that leaves the limb tilted by
      :data:`classify.SETTLED_DEG` or more, short of a turn-over. This is the fidgeting of wake in bed;
      asleep, a limb stays where it lies, returns to it after a leg movement, or moves with the
      whole body in a turn-over.
    * turn-overs: more frequent awake than asleep (median 6.8/h in healthy sleep, DOMAIN.md §1.3).
    * brief transients (twitches, jerks): sleep phenomena (DOMAIN.md §1.2-1.3).
    * at the wrist, sustained arm movements that return to their posture (reaching, scratching):
      sleep does not make them. At an ankle the same kind of movement is a leg movement, which
      happens in sleep but in runs (PLMS) that break the model's one-rate-per-state Poisson
      picture; left out (the benchmark's ankle onsets were better without it).
    * ``other_marks``: transients another sensor of the same night saw (on this clock).
    """
    on, off = events["onset_s"], events["offset_s"]
    sustained = ~cls.transient & ~cls.in_train
    large = cls.label == "large_movement"
    tilt = cls.orientation_change_deg
    repositioning = sustained & ~large & (tilt >= classify.SETTLED_DEG)
    returning = sustained & ~large & (tilt < classify.SETTLED_DEG) & (cls.series == 0)
    out = [
        Witness(on[repositioning], off[repositioning], True, "repositioning"),
        Witness(on[large], off[large], True, "turn_over"),
        Witness(on[cls.transient], off[cls.transient], False, "transient"),
    ]
    if vocabulary.placement(placement).wrist:
        out.append(Witness(on[returning], off[returning], True, "arm_movement"))
    if other_marks is not None and other_marks.size:
        m = np.sort(np.asarray(other_marks, dtype=np.float64))
        out.append(Witness(m, m, False, "other_sensor_transient"))
    return out


def night_windows(duration_s: float, start_utc: str | None, utc_offset_s: float) -> list[tuple[float, float]]:
    """Noon-to-noon windows (local time) covering a recording longer than a day."""
    if duration_s < SPLIT_MIN_RECORDING_S or start_utc is None:
        return [(0.0, duration_s)]
    start = datetime.fromisoformat(start_utc.replace("Z", "+00:00"))
    local = start.astimezone(timezone(timedelta(seconds=utc_offset_s)))
    noon = local.replace(hour=NIGHT_SPLIT_HOUR, minute=0, second=0, microsecond=0)
    if noon > local:
        noon -= timedelta(days=1)
    first = (noon - local).total_seconds()
    edges = np.arange(first, duration_s + 86400.0, 86400.0)
    wins = [(max(0.0, float(a)), min(duration_s, float(b))) for a, b in zip(edges[:-1], edges[1:])]
    return [w for w in wins if w[1] > w[0]]


def _in(t: np.ndarray, spans: list[list[float]]) -> np.ndarray:
    m = np.zeros(t.shape, dtype=bool)
    for a, b in spans:
        m |= (t >= a) & (t <= b)
    return m


def _overlaps(t0: np.ndarray, step: float, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Grid rows [t0, t0 + step) that overlap any [on, off] span (and the row after it)."""
    m = np.zeros(t0.shape[0], dtype=bool)
    if t0.size == 0:
        return m
    i0 = np.clip(np.floor((on - t0[0]) / step).astype(np.int64), 0, t0.size - 1)
    i1 = np.clip(np.floor((off - t0[0]) / step).astype(np.int64) + 1, 0, t0.size - 1)
    d = np.zeros(t0.size + 1, dtype=np.int64)
    np.add.at(d, i0, 1)
    np.add.at(d, i1 + 1, -1)
    return np.cumsum(d)[:-1] > 0


def merge_spans(spans: list[list[float]]) -> list[list[float]]:
    """Sorted union of possibly overlapping [start, end] spans (a reader's damaged blocks and the
    jumps in time they cause describe the same gap)."""
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([float(a), float(b)])
    return out


def _clip_spans(spans: list[list[float]], a: float, b: float) -> list[list[float]]:
    return [[max(s, a), min(e, b)] for s, e in spans if e > a and s < b]


def merge_events(events: np.ndarray, cls: classify.Classified) -> list[dict[str, Any]]:
    """One output row per scored movement: bursts joined into one LM become one event."""
    rows: list[dict[str, Any]] = []
    order = np.argsort(cls.group, kind="stable")
    cuts = np.flatnonzero(np.diff(cls.group[order])) + 1
    for g in np.split(order, cuts) if order.size else []:
        ev = events[g]
        i = int(g[np.argmax(ev["peak_g"])])
        onset = float(ev["onset_s"].min())
        rows.append(
            {
                "onset_s": onset,
                "duration_s": float(ev["offset_s"].max() - onset),
                "peak_g": float(ev["peak_g"].max()),
                "label": str(cls.label[g[0]]),
                "series": int(cls.series[g[0]]) or None,
                "confidence": round(float(cls.confidence[g].mean()), 3),
                "peak_jerk_gps": float(ev["peak_jerk_gps"].max()),
                "rise_time_s": float(events["peak_s"][i] - onset),
                "orientation_change_deg": round(float(cls.orientation_change_deg[g].max()), 2),
                "n_bursts": int(g.size),
            }
        )
    rows.sort(key=lambda r: r["onset_s"])
    return rows


@dataclass
class _Scored:
    """One pass of the night stages over given non-wear."""

    events: np.ndarray
    cls: classify.Classified
    windows: list[tuple[float, float]]
    periods: list[SleepPeriod]


def _score(
    inp: NightInput, options: AnalysisOptions, grid: dict[str, np.ndarray], gaps: list[list[float]],
    nonwear: list[list[float]],
) -> _Scored:
    """Classify the bursts and find each night's sleep period, non-wear excluded."""
    step = options.params.epoch_s
    events = inp.bursts.events
    # Bursts inside non-wear cannot be body movement (a knock on the nightstand).
    keep = ~_in(events["onset_s"], nonwear)
    events = events[keep]
    shapes = inp.bursts.shapes[keep] if inp.bursts.shapes is not None else None
    cls = classify.classify_bursts(events, grid, step, inp.placement, options.rules, gaps, shapes)

    factor = int(round(ANGLE_EPOCH_S / step))
    grid5 = aggregate(grid, factor)
    excluded5 = _in(grid5["t_s"] + ANGLE_EPOCH_S / 2, nonwear)
    # A leg movement returns to its posture: its tilt is not a posture change for HDCZA.
    legs = np.isin(cls.label, vocabulary.LEG_LABELS)
    returning5 = _overlaps(grid5["t_s"], ANGLE_EPOCH_S, events["onset_s"][legs], events["offset_s"][legs])
    witnesses = onset_witnesses(events, cls, inp.placement, inp.sleep_marks)
    jerk_marks = events["onset_s"][classify.jerk_like(events, cls)]
    windows = night_windows(inp.duration_s, inp.start_utc, inp.utc_offset_s)
    periods: list[SleepPeriod] = []
    for a, b in windows:
        sel = (grid5["t_s"] >= a) & (grid5["t_s"] < b)
        onset = options.sleep_onset_s
        if onset is not None and a <= onset < b:
            sp = _given_period(onset, grid5, sel, witnesses, excluded5, returning5)
        else:
            sp = find_sleep_period(
                grid5["t_s"][sel], grid5["x"][sel], grid5["y"][sel], grid5["z"][sel],
                witnesses, excluded5[sel], returning5[sel], jerk_marks,
            )
        periods.append(sp)
    return _Scored(events, cls, windows, periods)


def find_spans_not_worn(
    inp: NightInput, grid: dict[str, np.ndarray], params: BurstParams
) -> list[NonwearSpan]:
    """Non-wear candidates of the whole recording (:func:`detector.nonwear.find_nonwear`)."""
    return find_nonwear(
        grid["t_s"], grid["x"], grid["y"], grid["z"], grid["rms_g"], inp.fs,
        (params.highpass_hz, params.lowpass_hz), params.floor_low_g,
        temperature=Temperature.of(*inp.temperature) if inp.temperature is not None else None,
        idle=inp.idle,
    )


def score_night(inp: NightInput, options: AnalysisOptions) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Score a whole recording: events (dicts, CONTRACT columns plus features) and summary.

    Non-wear whose evidence is weak (stillness, a breath that does not show) is judged against the
    sleep periods (:func:`detector.nonwear.keep_outside_sleep`); the night is scored again
    without the non-wear that stands.
    """
    grid = regular_grid(inp.bursts.epochs, options.params.epoch_s, inp.duration_s)
    gaps = merge_spans(inp.reader_gaps + inp.bursts.gaps)
    spans = find_spans_not_worn(inp, grid, options.params)
    # The sleep periods are first found without the spans whose evidence is weak: a still
    # sleeper's hour would otherwise be cut out of the night and then lie outside it. Spans at the
    # recording's edges stay out (a recording starts with the sensor on the table, not asleep).
    sure = [sp for sp in spans if sp.stands == "always" or "recording_edge" in sp.evidence]
    scored = _score(inp, options, grid, gaps, [[sp.start_s, sp.end_s] for sp in sure])
    kept = keep_outside_sleep(spans, scored.periods)
    if [(k.start_s, k.end_s) for k in kept] != [(sp.start_s, sp.end_s) for sp in sure]:
        scored = _score(inp, options, grid, gaps, [[sp.start_s, sp.end_s] for sp in kept])
    spans = kept
    nonwear = [[sp.start_s, sp.end_s] for sp in spans]
    events, cls, windows, periods = scored.events, scored.cls, scored.windows, scored.periods
    classify.finalize_labels(
        cls, events,
        [(a, b, sp.onset_s, sp.end_s, sp.window_s[0] if sp.window_s else None)
         for (a, b), sp in zip(windows, periods)],
    )
    rows = merge_events(events, cls)
    nights = [
        _night_summary(rows, sp, inp, options, w, gaps, spans) for w, sp in zip(windows, periods)
    ]
    for r in rows:
        r["minutes_from_onset"] = None
        night = _night_of(r["onset_s"], nights)
        if night is not None and night["sleep_onset_s"] is not None:
            r["minutes_from_onset"] = round((r["onset_s"] - night["sleep_onset_s"]) / 60.0, 3)
    complete = [n for n in nights if n["complete"]] or nights
    summary = dict(complete[0])
    summary["gaps"] = gaps
    summary["nonwear"] = nonwear
    summary["nonwear_evidence"] = [list(sp.evidence) for sp in spans]
    summary["idle"] = merge_spans(inp.idle)
    summary["temperature_available"] = inp.temperature is not None and Temperature.of(*inp.temperature) is not None
    if not summary["temperature_available"]:
        summary["nonwear_note"] = (
            "no temperature channel: non-wear judged from movement and breathing alone; a still "
            "span inside the sleep period counts as sleep"
        )
    if len(nights) > 1:
        summary["nights"] = nights
    return rows, summary


def _lost_in(a: float, b: float, gaps: list[list[float]], spans: list[NonwearSpan]) -> dict[str, Any]:
    """A night's gaps and non-wear (with its evidence, same order), clipped to its window."""
    mine = [sp for sp in spans if sp.end_s > a and sp.start_s < b]
    return {
        "gaps": _clip_spans(gaps, a, b),
        "nonwear": _clip_spans([[sp.start_s, sp.end_s] for sp in mine], a, b),
        "nonwear_evidence": [list(sp.evidence) for sp in mine],
    }


def _night_of(t: float, nights: list[dict[str, Any]]) -> dict[str, Any] | None:
    for n in nights:
        if n["window_s"][0] <= t < n["window_s"][1]:
            return n
    return nights[-1] if nights and t >= nights[-1]["window_s"][0] else None


def _given_period(
    onset: float, grid5: dict, sel: np.ndarray, witnesses: list[Witness], excl: np.ndarray,
    returning: np.ndarray,
) -> SleepPeriod:
    """The sleep period of a night whose onset is given: the end is found as when it is not."""
    found = find_sleep_period(
        grid5["t_s"][sel], grid5["x"][sel], grid5["y"][sel], grid5["z"][sel], witnesses,
        excl[sel], returning[sel],
    )
    t_sel = grid5["t_s"][sel]
    end = found.end_s if found.end_s is not None and found.end_s > onset else float(t_sel[-1] + ANGLE_EPOCH_S)
    return SleepPeriod(onset, end, [onset, onset], reason=None)


def _night_summary(
    rows: list[dict[str, Any]],
    sp: SleepPeriod,
    inp: NightInput,
    options: AnalysisOptions,
    window: tuple[float, float],
    gaps: list[list[float]],
    spans: list[NonwearSpan],
) -> dict[str, Any]:
    a, b = window
    nonwear = [[sp.start_s, sp.end_s] for sp in spans]
    mine = [r for r in rows if a <= r["onset_s"] < b]
    counts = {lab: sum(1 for r in mine if r["label"] == lab) for lab in vocabulary.LABELS}
    out: dict[str, Any] = {
        "window_s": [a, b],
        # Complete: the sleep period lies inside the recording, not cut by its start.
        "complete": sp.onset_s is not None and sp.onset_s - a > COMPLETE_MARGIN_S,
        "sleep_onset_s": sp.onset_s,
        "sleep_onset_window_s": sp.window_s,
        "sleep_onset_source": "given" if sp.onset_s is not None and sp.onset_s == options.sleep_onset_s else "detected",
        "sleep_end_s": sp.end_s,
        "sleep_onset_reason": sp.reason,
        "placement": inp.placement,
        "rules": options.rules,
        "counts": counts,
    }
    if sp.onset_s is None or sp.end_s is None:
        out.update(jerks_first_30_min=None, sleep_period_s=None, plms_index=None,
                   plms_index_reason=sp.reason, periodicity_index=None)
        out.update(_lost_in(a, b, gaps, spans))
        return out
    lo, hi = sp.onset_s + JERK_WINDOW_S[0], sp.onset_s + JERK_WINDOW_S[1]
    out["jerks_first_30_min"] = sum(1 for r in mine if r["label"] == "hypnic_jerk" and lo <= r["onset_s"] <= hi)
    period = sp.end_s - sp.onset_s
    lost = sum(e - s for s, e in _clip_spans(gaps + nonwear, sp.onset_s, sp.end_s))
    measured = period - lost
    out["sleep_period_s"] = period
    in_sleep = [r for r in mine if sp.onset_s <= r["onset_s"] <= sp.end_s]
    n_plm = sum(1 for r in in_sleep if r["label"] == "plm")
    n_lm = sum(1 for r in in_sleep if r["label"] in vocabulary.LEG_LABELS)
    if not vocabulary.placement(inp.placement).legs:
        out["plms_index"] = None
        out["plms_index_reason"] = "wrist sensor: leg movements need an ankle sensor"
        out["periodicity_index"] = None
    elif measured <= 0:
        out["plms_index"] = None
        out["plms_index_reason"] = "no recorded, worn time in the sleep period"
        out["periodicity_index"] = None
    else:
        out["plms_index"] = round(n_plm / (measured / 3600.0), 2)
        out["plms_index_reason"] = (
            "placement unknown: scored as if the sensor were on an ankle" if not vocabulary.placement(inp.placement).known else None
        )
        out["periodicity_index"] = round(n_plm / n_lm, 3) if n_lm else None
    out.update(_lost_in(a, b, gaps, spans))
    for k in ("sleep_onset_s", "sleep_end_s", "sleep_period_s"):
        if isinstance(out.get(k), float) and math.isfinite(out[k]):
            out[k] = round(out[k], 2)
    out["sleep_onset_window_s"] = [round(v, 2) for v in out["sleep_onset_window_s"]]
    return out
