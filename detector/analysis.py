"""The detector's entry point: a night's analysis from its bursts, one sensor or two.

:func:`analyze_night` takes what reading each sensor gave (:class:`detector.night.NightInput`:
bursts, epochs, gaps, thermometer ...) and, with two sensors, their clock alignment
(:func:`detector.alignment.align`), and returns the night's events and summary.

* one sensor: its night stage (:func:`detector.night.score_sensor`) and its summary.
* two sensors: each sensor's night stage once, on its own clock (its non-wear, its sleep period,
  its own view for the summary's ``sensors``); the wrist's sleep period found again with the
  ankle's transients as more witnesses of the onset; each night's period chosen
  (:func:`detector.two_sensors.choose_periods`); the bursts of both labelled together
  (:func:`detector.two_sensors.score_pair`).

Either way the nights are summarised by one builder (:mod:`detector.summary`), from the period
each night is counted over and the time the legs were seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from hypnic.detector import classify, vocabulary
from hypnic.detector.alignment import Alignment, ClockMap
from hypnic.detector.bursts import BurstResult
from hypnic.detector.night import NightInput, SensorNight, merge_spans, score_sensor
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.results import Event, Night, NightSummary, SensorView
from hypnic.detector.summary import (
    UNKNOWN_PLACEMENT_REASON,
    LegTime,
    night_figures,
    period_of,
    set_minutes_from_onset,
    summarise,
)
from hypnic.detector.two_sensors import (
    ALONE_LIKELIHOOD_RATIO,
    PAIR_LIKELIHOOD_RATIO,
    PAIR_WINDOW_S,
    SensorBursts,
    choose_periods,
    leg_sides,
    lost_spans,
    night_on_a,
    prefers_b,
    score_pair,
    sensor_names,
)

#: What the placement note says where a sensor's placement is unknown (one sensor, two).
PLACEMENT_NOTE = (
    "placement unknown: every label is scored (leg movements as if on an ankle); give "
    "--placement for a wrist recording",
    "placement unknown for a sensor: it is scored as if on an ankle; give the placement of both "
    "sensors",
)


@dataclass
class NightAnalysis:
    """A night's events and summary, as the detector finds them.

    Attributes
    ----------
    events : list of Event
        One per movement, sorted by onset (two sensors: with ``sensors``, which saw it).
    summary : NightSummary
        The nights (the first complete one on top), the recording's gaps, non-wear and idle
        time, the parameters and the placement note; with two sensors ``alignment``,
        ``sensors`` (each one's own view, own clock: the reader adds where each came from) and
        ``jerks_seen_by_both``. Where the recording came from (``source``, ``fs_hz`` ...) is the
        reader's to fill in.
    bursts : BurstResult
        The bursts behind the events (two sensors: both, on A's clock).
    own_events : list of list of Event
        Each sensor's events as it alone would report them.
    """

    events: list[Event]
    summary: NightSummary
    bursts: BurstResult
    own_events: list[list[Event]] = field(default_factory=list)


@dataclass
class Alone:
    """One sensor's night stage and its summary as if it were alone."""

    night: SensorNight
    events: list[Event]
    nights: list[Night]
    summary: NightSummary


def analyze_night(
    sensors: list[NightInput] | tuple[NightInput, ...],
    options: AnalysisOptions,
    alignment: Alignment | None = None,
) -> NightAnalysis:
    """Analyse a night from its bursts: one sensor, or two with their clock alignment.

    Parameters
    ----------
    sensors : sequence of NightInput
        One sensor, or two (A first: its clock is the pair's time line).
    options : detector.options.AnalysisOptions
        Rules, burst parameters, and a given sleep onset (A's clock); the placements are the
        inputs' own (resolved by whoever read them).
    alignment : detector.alignment.Alignment, optional
        With two sensors: B's clock on A's (:func:`detector.alignment.align`).

    Returns
    -------
    NightAnalysis

    Raises
    ------
    ValueError
        Not one sensor or two, two without an alignment, or two on the same ankle.
    """
    if len(sensors) == 1:
        return _one(sensors[0], options)
    if len(sensors) != 2 or alignment is None:
        raise ValueError("a night is one sensor, or two with their alignment")
    return _two(sensors[0], sensors[1], options, alignment)


def alone_of(night: SensorNight, options: AnalysisOptions) -> Alone:
    """One sensor's events and summary, as if it were the night's only sensor."""
    inp = night.inp
    place = vocabulary.placement(inp.placement)
    legs = LegTime(
        lost=night.gaps + night.nonwear_spans if place.legs else None,
        note=None if place.known else UNKNOWN_PLACEMENT_REASON,
    )
    events = [replace(r) for r in night.rows]  # its own: minutes from its own onsets
    nights = [
        night_figures(
            events, period_of(sp, w, options.sleep_onset_s), placement=inp.placement,
            rules=options.rules, legs=legs, gaps=night.gaps, nonwear=night.nonwear_spans,
            evidence=night.evidence,
        )
        for w, sp in zip(night.windows, night.periods, strict=True)
    ]
    set_minutes_from_onset(events, nights)
    summary = summarise(
        nights, gaps=night.gaps, nonwear=night.nonwear_spans, evidence=night.evidence,
        idle=merge_spans(inp.idle), temperature_available=inp.thermometer() is not None,
    )
    return Alone(night, events, nights, summary)


def _one(inp: NightInput, options: AnalysisOptions) -> NightAnalysis:
    alone = alone_of(score_sensor(inp, options), options)
    summary = replace(
        alone.summary,
        parameters={
            "burst_detector": options.params.as_dict(),
            "labelling": classify.LABELLING_NOTE,
            "rules": options.rules,
            "placement_source": inp.placement_source,
        },
        placement_note=None if vocabulary.placement(inp.placement).known else PLACEMENT_NOTE[0],
    )
    return NightAnalysis(alone.events, summary, inp.bursts, [alone.events])


def _two(a: NightInput, b: NightInput, options: AnalysisOptions, alignment: Alignment) -> NightAnalysis:
    clock = alignment.clock
    names = sensor_names(a.placement, b.placement)
    sides = leg_sides(a.placement, b.placement)
    # A given onset is on A's clock: B is scored without it.
    opts = (options, replace(options, sleep_onset_s=None))
    alone = [alone_of(score_sensor(inp, o), o) for inp, o in zip((a, b), opts, strict=True)]
    nights = sleep_nights(alone, sides, clock, opts)
    periods = choose_periods(
        nights[0], [night_on_a(n, clock) for n in nights[1]], names,
        prefers_b(a.placement, b.placement), options.sleep_onset_s, a.duration_s,
    )
    sa, sb = alone[0].night, alone[1].night
    result = score_pair(
        *(
            SensorBursts(name, s.inp.placement, s.events, s.grid, clk, s.gaps + s.nonwear_spans, s.shapes)
            for name, s, clk in ((names[0], sa, ClockMap()), (names[1], sb, clock))
        ),
        [(*p.window_s, p.onset_s, p.end_s, (p.onset_window_s or [None])[0]) for p in periods],
        options.params.epoch_s, options.rules,
    )
    # The pair's time line is A's recording: what B saw before A started or after it ended
    # belongs to no night of the summary and is left out.
    events = [r for r in result.rows if 0.0 <= r.onset_s < a.duration_s]

    def on_a(spans: list[list[float]]) -> list[list[float]]:
        return [[float(clock.to_a(s)), float(clock.to_a(e))] for s, e in spans]

    gaps_b, nonwear_b = on_a(sb.gaps), on_a(sb.nonwear_spans)
    gaps = lost_spans(sa.gaps, gaps_b, both=True)
    nonwear = lost_spans(sa.nonwear_spans, nonwear_b, both=True)
    evidence = sa.evidence + [(span, ev) for span, (_, ev) in zip(nonwear_b, sb.evidence, strict=True)]
    # The PLMS index is measured over the time an ankle recorded and was worn.
    leg_a, leg_b = (s is not None for s in sides)
    legs_lost: list[list[float]] | None = None
    if leg_a and leg_b:
        legs_lost = lost_spans(sa.gaps + sa.nonwear_spans, gaps_b + nonwear_b, both=True)
    elif leg_b:
        legs_lost = gaps_b + nonwear_b
    elif leg_a:
        legs_lost = sa.gaps + sa.nonwear_spans
    legs = LegTime(lost=legs_lost, sensors=2)
    placement = f"{names[0]}+{names[1]}"
    pair_nights = [
        night_figures(events, p, placement=placement, rules=options.rules, legs=legs, gaps=gaps,
                      nonwear=nonwear, evidence=evidence)
        for p in periods
    ]
    set_minutes_from_onset(events, pair_nights)
    parameters = {
        "burst_detector": options.params.as_dict(),
        "labelling": classify.LABELLING_NOTE + "; two sensors: detector.two_sensors",
        "rules": options.rules,
        "placement_source": [a.placement_source, b.placement_source],
        "two_sensors": {
            "pair_window_s": PAIR_WINDOW_S,
            "pair_likelihood_ratio": PAIR_LIKELIHOOD_RATIO,
            "alone_likelihood_ratio": ALONE_LIKELIHOOD_RATIO,
        },
    }
    unknown = not all(vocabulary.placement(p).known for p in (a.placement, b.placement))
    summary = summarise(
        pair_nights, gaps=gaps, nonwear=nonwear, evidence=evidence, idle=merge_spans(a.idle),
        temperature_available=a.thermometer() is not None and b.thermometer() is not None,
        parameters=parameters,
        placement_note=PLACEMENT_NOTE[1] if unknown else None,
        alignment=alignment.as_dict(),
        sensors=[
            _own_view(name, one, None if k == 0 else clock)
            for k, (name, one) in enumerate(zip(names, alone, strict=True))
        ],
        jerks_seen_by_both=sum(
            r.label == "hypnic_jerk" and "+" in (r.sensors or "") for r in events
        ),
    )
    order = np.argsort(result.events["onset_s"], kind="stable")
    bursts = BurstResult(result.events[order], a.bursts.epochs, gaps)
    return NightAnalysis(events, summary, bursts, [alone[0].events, alone[1].events])


def sleep_nights(
    alone: list[Alone],
    sides: tuple[int | None, int | None],
    clock: ClockMap,
    options: tuple[AnalysisOptions, AnalysisOptions],
) -> list[list[Night]]:
    """Each sensor's nights to choose the sleep period from: the wrist's found again with the
    ankle's transients where one sensor is at a wrist and the other sees legs.

    The wrist's fidgeting tells wake from sleep best; the twitches and jerks the ankle sees start
    with sleep and witness the onset too (:func:`detector.night.onset_witnesses`). On 36
    wrist+ankle nights this took the onset error's 90th percentile from 14 to 10 min (robust
    parameters 25 to 21 min). Other pairs keep their own nights.

    Parameters
    ----------
    alone : list of Alone
        Each sensor's night stage and summary as if alone (A, B).
    sides : (int or None, int or None)
        The leg each sensor sees, None at a wrist (:func:`detector.two_sensors.leg_sides`).
    clock : ClockMap
        B's clock on A's.
    options : (AnalysisOptions, AnalysisOptions)
        Each sensor's (a given onset is A's only).
    """
    nights = [alone[0].nights, alone[1].nights]
    wrists = [k for k in (0, 1) if sides[k] is None]
    if len(wrists) != 1:
        return nights
    w = wrists[0]
    wrist, ankle = alone[w].night, alone[1 - w].night
    ev = ankle.events  # its bursts outside its non-wear
    t = ev["onset_s"][ev["spread_s"] < classify.TRANSIENT_SPREAD_S]
    marks = np.asarray(clock.to_a(t) if w == 0 else clock.to_b(t), dtype=np.float64)  # wrist's clock
    again = replace(wrist.inp, sleep_marks=marks)
    nights[w] = alone_of(score_sensor(again, options[w]), options[w]).nights
    return nights


def _own_view(name: str, one: Alone, clock: ClockMap | None) -> SensorView:
    """One sensor's own view for the pair's summary (its clock; the reader adds where it came
    from: source, rate, start, samples, length, device)."""
    return SensorView(
        name=name,
        placement=one.night.inp.placement,
        clock=None if clock is None else {
            "offset_s": round(clock.offset_s, 4), "drift_ppm": round(clock.drift_ppm, 2)
        },
        sleep_onset_s=one.summary.sleep_onset_s,
        counts=one.summary.counts,
        gaps=one.night.gaps,
        nonwear=one.night.nonwear_spans,
    )
