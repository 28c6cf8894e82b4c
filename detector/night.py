"""One sensor's night stage: from its bursts and epochs to non-wear, labelled events and each
night's sleep period (:func:`score_sensor`).

Pure functions on the burst detector's output (arrays in, events and arrays out). A recording
longer than a day is split into nights from noon to noon local time (GGIR's convention) and
each night is scored on its own. The summary of the nights is :mod:`detector.summary`'s; the
entry point that puts one or two sensors together is :mod:`detector.analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from hypnic.detector import classify, vocabulary
from hypnic.detector.bursts import BurstParams, BurstResult
from hypnic.detector.epochs import ANGLE_EPOCH_S, aggregate, regular_grid
from hypnic.detector.nonwear import NonwearSpan, Temperature, find_nonwear, keep_outside_sleep
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.results import Event
from hypnic.detector.sleep_onset import SleepPeriod, Witness, find_sleep_period

#: Noon-to-noon nights (GGIR; DOMAIN.md §4.1 asleep/GGIR conventions).
NIGHT_SPLIT_HOUR = 12
SPLIT_MIN_RECORDING_S = 24 * 3600.0


@dataclass
class NightInput:
    """Everything the night-level stages need from a recording (what to do with it is the
    :class:`~detector.options.AnalysisOptions`)."""

    bursts: BurstResult
    fs: float
    duration_s: float
    #: Where the sensor is scored as worn (the option, else the file's, else unknown), and where
    #: that came from (:func:`detector.options.resolve_placement`).
    placement: str = vocabulary.UNKNOWN
    placement_source: str = vocabulary.UNKNOWN
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

    def thermometer(self) -> Temperature | None:
        """Its temperature readings, where it has any (:meth:`detector.nonwear.Temperature.of`)."""
        return Temperature.of(*self.temperature) if self.temperature is not None else None


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


def merge_events(events: np.ndarray, cls: classify.Classified) -> list[Event]:
    """One event per scored movement: bursts joined into one LM become one event."""
    rows: list[Event] = []
    order = np.argsort(cls.group, kind="stable")
    cuts = np.flatnonzero(np.diff(cls.group[order])) + 1
    for g in np.split(order, cuts) if order.size else []:
        ev = events[g]
        i = int(g[np.argmax(ev["peak_g"])])
        onset = float(ev["onset_s"].min())
        rows.append(
            Event(
                onset_s=onset,
                duration_s=float(ev["offset_s"].max() - onset),
                peak_g=float(ev["peak_g"].max()),
                label=str(cls.label[g[0]]),
                series=int(cls.series[g[0]]) or None,
                confidence=round(float(cls.confidence[g].mean()), 3),
                peak_jerk_gps=float(ev["peak_jerk_gps"].max()),
                rise_time_s=float(events["peak_s"][i] - onset),
                orientation_change_deg=round(float(cls.orientation_change_deg[g].max()), 2),
                n_bursts=int(g.size),
            )
        )
    rows.sort(key=lambda r: r.onset_s)
    return rows


@dataclass
class _Scored:
    """One pass of the night stages over given non-wear."""

    events: np.ndarray
    shapes: np.ndarray | None
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
    return _Scored(events, shapes, cls, windows, periods)


def find_spans_not_worn(
    inp: NightInput, grid: dict[str, np.ndarray], params: BurstParams
) -> list[NonwearSpan]:
    """Non-wear candidates of the whole recording (:func:`detector.nonwear.find_nonwear`)."""
    return find_nonwear(
        grid["t_s"], grid["x"], grid["y"], grid["z"], grid["rms_g"], inp.fs,
        (params.highpass_hz, params.lowpass_hz), params.floor_low_g,
        temperature=inp.thermometer(),
        idle=inp.idle,
    )


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


@dataclass
class SensorNight:
    """One sensor's night stage: what it missed, its bursts labelled, each night's sleep period.

    Attributes
    ----------
    inp : NightInput
    grid : dict of ndarray
        Its regular epoch grid (:func:`detector.epochs.regular_grid`).
    gaps : list of [start, end]
        Where it has no samples: the reader's gaps and the detector's, merged.
    nonwear : list of NonwearSpan
        Where it was not worn (the spans that stand the sleep period's judgement).
    events : ndarray of detector.bursts.EVENT_DTYPE
        Its bursts outside non-wear, sorted by onset.
    shapes : ndarray or None
        Their shapes (:attr:`detector.bursts.BurstResult.shapes`).
    cls : Classified
        Their final labels.
    windows : list of (float, float)
        The nights of the recording (noon to noon local time, or the whole recording).
    periods : list of SleepPeriod
        Each night's sleep period.
    rows : list of Event
        Its events (bursts joined into movements, :func:`merge_events`), sorted by onset.
    """

    inp: NightInput
    grid: dict[str, np.ndarray]
    gaps: list[list[float]]
    nonwear: list[NonwearSpan]
    events: np.ndarray
    shapes: np.ndarray | None
    cls: classify.Classified
    windows: list[tuple[float, float]]
    periods: list[SleepPeriod]
    rows: list[Event]

    @property
    def nonwear_spans(self) -> list[list[float]]:
        """The non-wear as ``[start, end]`` spans."""
        return [[sp.start_s, sp.end_s] for sp in self.nonwear]

    @property
    def evidence(self) -> list[tuple[list[float], list[str]]]:
        """Each non-wear span with its evidence (:func:`detector.summary.evidence_of`)."""
        return [([sp.start_s, sp.end_s], list(sp.evidence)) for sp in self.nonwear]


def score_sensor(inp: NightInput, options: AnalysisOptions) -> SensorNight:
    """One sensor's night stage: non-wear, labels, each night's sleep period.

    Non-wear whose evidence is weak (stillness, a breath that does not show) is judged against the
    sleep periods (:func:`detector.nonwear.keep_outside_sleep`); the night is scored again
    without the non-wear that stands.

    Parameters
    ----------
    inp : NightInput
    options : detector.options.AnalysisOptions
        Its rules, burst parameters and given sleep onset (on this sensor's clock).

    Returns
    -------
    SensorNight
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
    events, cls, windows, periods = scored.events, scored.cls, scored.windows, scored.periods
    classify.finalize_labels(
        cls, events,
        [(a, b, sp.onset_s, sp.end_s, sp.window_s[0] if sp.window_s else None)
         for (a, b), sp in zip(windows, periods)],
    )
    return SensorNight(
        inp, grid, gaps, kept, events, scored.shapes, cls, windows, periods,
        merge_events(events, cls),
    )
