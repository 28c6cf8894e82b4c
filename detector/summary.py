"""A night's figures and the recording's summary, built once for one sensor or two.

Whatever found the events and the sleep periods (one sensor, :mod:`detector.night`; two,
:mod:`detector.two_sensors`), a night is summarised the same way (:func:`night_figures`): the
counts per label in its window, the jerks around the onset, the sleep period, the PLMS index over
the time an ankle recorded and was worn, and the gaps and non-wear in its window with their
evidence. :func:`summarise` puts the nights together: the first complete night on top, the
recording's gaps, non-wear and idle time, and every night where there are several. What differs
between one sensor and two is only what is given: the period each night is counted over
(:class:`NightPeriod`) and the time the legs were seen (:class:`LegTime`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypnic.detector import classify, vocabulary
from hypnic.detector.results import Event, Night, NightSummary
from hypnic.detector.sleep_onset import SleepPeriod

#: A night whose sleep starts within 5 min of its window's start was cut by the recording start.
COMPLETE_MARGIN_S = 300.0
#: Said where no sensor had a thermometer.
NONWEAR_NOTE = (
    "no temperature channel: non-wear judged from movement and breathing alone; a still span "
    "inside the sleep period counts as sleep"
)
#: Why a night has no PLMS index, with one sensor and with two (the report translates each).
NO_ANKLE_REASON = "wrist sensor: leg movements need an ankle sensor"
NO_ANKLE_PAIR_REASON = "wrist sensors only: leg movements need an ankle sensor"
NO_ANKLE_TIME_REASON = "no recorded, worn time in the sleep period"
NO_ANKLE_TIME_PAIR_REASON = "no recorded, worn time at an ankle in the sleep period"
NO_PERIOD_REASON = "no sleep period found"
#: Said beside the PLMS index of one sensor whose placement is unknown.
UNKNOWN_PLACEMENT_REASON = "placement unknown: scored as if the sensor were on an ankle"


@dataclass(frozen=True)
class NightPeriod:
    """The sleep period a night's figures are counted over.

    Attributes
    ----------
    window_s : (float, float)
        The night (noon to noon local time, or the whole recording).
    complete : bool
        The sleep period lies inside the recording (not cut by its start).
    onset_s, end_s : float or None
        Sleep onset and final awakening; None when no sleep period was found.
    onset_window_s : list of float or None
        ``[earliest, latest]`` plausible onset.
    source : {"detected", "given"}
    reason : str or None
        Why there is no sleep period.
    sensor : str or None
        With two sensors, the one whose sleep period it is (None: given, or none found); None
        and not reported with one.
    """

    window_s: tuple[float, float]
    complete: bool
    onset_s: float | None
    onset_window_s: list[float] | None
    source: str
    end_s: float | None
    reason: str | None
    sensor: str | None = None


def period_of(sp: SleepPeriod, window: tuple[float, float], given_onset: float | None) -> NightPeriod:
    """The :class:`NightPeriod` of one sensor's night from its :class:`SleepPeriod`."""
    return NightPeriod(
        window_s=window,
        complete=sp.onset_s is not None and sp.onset_s - window[0] > COMPLETE_MARGIN_S,
        onset_s=sp.onset_s,
        onset_window_s=sp.window_s,
        source="given" if sp.onset_s is not None and sp.onset_s == given_onset else "detected",
        end_s=sp.end_s,
        reason=sp.reason,
    )


@dataclass(frozen=True)
class LegTime:
    """What a night's PLMS index is measured from.

    Attributes
    ----------
    lost : list of [start, end] or None
        Time no sensor at an ankle recorded or was worn; None when no sensor sees the legs.
    sensors : int
        How many sensors the night has (the reasons are worded for one or for two).
    note : str or None
        Said beside an index that was measured (one sensor at an unknown place).
    """

    lost: list[list[float]] | None
    sensors: int = 1
    note: str | None = None


def clip_spans(spans: list[list[float]], a: float, b: float) -> list[list[float]]:
    """The parts of ``spans`` inside ``[a, b]``."""
    return [[max(s, a), min(e, b)] for s, e in spans if e > a and s < b]


def evidence_of(
    spans: list[list[float]], sources: list[tuple[list[float], list[str]]]
) -> list[list[str]]:
    """Each span's non-wear evidence: that of every sensor's span overlapping it, in order."""
    out = []
    for s, e in spans:
        names: list[str] = []
        for (s1, e1), ev in sources:
            if min(e, e1) > max(s, s1):
                names += [n for n in ev if n not in names]
        out.append(names)
    return out


def night_figures(
    events: list[Event],
    period: NightPeriod,
    *,
    placement: str,
    rules: str,
    legs: LegTime,
    gaps: list[list[float]],
    nonwear: list[list[float]],
    evidence: list[tuple[list[float], list[str]]],
) -> Night:
    """One night's summary.

    Parameters
    ----------
    events : list of Event
        The recording's events (those in the night's window count).
    period : NightPeriod
    placement : str
        Where the sensor was worn (two sensors: ``A+B``, their names).
    rules : {"wasm", "aasm"}
    legs : LegTime
    gaps, nonwear : list of [start, end]
        The recording's (clipped to the night's window here).
    evidence : list of (span, names)
        Every sensor's non-wear spans with their evidence (:func:`evidence_of`).

    Returns
    -------
    Night
        With two sensors (``legs.sensors``), ``sleep_onset_sensor`` too.
    """
    a, b = period.window_s
    mine = [r for r in events if a <= r.onset_s < b]
    night = Night(
        window_s=[a, b],
        complete=period.complete,
        sleep_onset_s=period.onset_s,
        sleep_onset_window_s=period.onset_window_s,
        sleep_onset_source=period.source,
        sleep_end_s=period.end_s,
        sleep_onset_reason=period.reason,
        sleep_onset_sensor=period.sensor,
        placement=placement,
        rules=rules,
        counts={lab: sum(1 for r in mine if r.label == lab) for lab in vocabulary.LABELS},
        gaps=clip_spans(gaps, a, b),
        nonwear=clip_spans(nonwear, a, b),
    )
    night.nonwear_evidence = evidence_of(night.nonwear, evidence)
    onset, end = period.onset_s, period.end_s
    if onset is None or end is None:
        night.plms_index_reason = period.reason or NO_PERIOD_REASON
        return night
    pair = legs.sensors > 1
    # "Jerks while falling asleep" are counted in the classifier's jerk window.
    lo, hi = onset + classify.JERK_WINDOW_S[0], onset + classify.JERK_WINDOW_S[1]
    night.jerks_first_30_min = sum(
        1 for r in mine if r.label == "hypnic_jerk" and lo <= r.onset_s <= hi
    )
    in_sleep = [r for r in mine if onset <= r.onset_s <= end]
    n_plm = sum(1 for r in in_sleep if r.label == "plm")
    n_lm = sum(1 for r in in_sleep if r.label in vocabulary.LEG_LABELS)
    if legs.lost is None:
        night.plms_index_reason = NO_ANKLE_PAIR_REASON if pair else NO_ANKLE_REASON
    else:
        measured = end - onset - sum(e - s for s, e in clip_spans(legs.lost, onset, end))
        if measured <= 0:
            night.plms_index_reason = NO_ANKLE_TIME_PAIR_REASON if pair else NO_ANKLE_TIME_REASON
        else:
            night.plms_index = round(n_plm / (measured / 3600.0), 2)
            night.plms_index_reason = legs.note
            night.periodicity_index = round(n_plm / n_lm, 3) if n_lm else None
    # Times to 10 ms, as the summary has always given them (a pair's period is rounded already).
    night.sleep_onset_s, night.sleep_end_s = _r2(onset), _r2(end)
    night.sleep_period_s = _r2(end - onset)
    if night.sleep_onset_window_s is not None:
        night.sleep_onset_window_s = [round(v, 2) for v in night.sleep_onset_window_s]
    return night


def _r2(t: Any) -> Any:
    return round(t, 2) if isinstance(t, float) and math.isfinite(t) else t


def night_of(t: float, nights: list[Night]) -> Night | None:
    """The night whose window holds ``t`` (the last one for a time after its start)."""
    for n in nights:
        if n.window_s[0] <= t < n.window_s[1]:
            return n
    return nights[-1] if nights and t >= nights[-1].window_s[0] else None


def set_minutes_from_onset(events: list[Event], nights: list[Night]) -> None:
    """Each event's ``minutes_from_onset``: from its night's sleep onset (None without one)."""
    for r in events:
        r.minutes_from_onset = None
        night = night_of(r.onset_s, nights)
        if night is not None and night.sleep_onset_s is not None:
            r.minutes_from_onset = round((r.onset_s - night.sleep_onset_s) / 60.0, 3)


def summarise(
    nights: list[Night],
    *,
    gaps: list[list[float]],
    nonwear: list[list[float]],
    evidence: list[tuple[list[float], list[str]]],
    idle: list[list[float]],
    temperature_available: bool,
    **about: Any,
) -> NightSummary:
    """The recording's summary: its first complete night (else its first) on top, the
    recording's gaps, non-wear (with evidence) and idle time, whether a thermometer was there,
    every night where there are several, and ``about`` (any other :class:`NightSummary` field:
    ``parameters``, the pair's ``alignment`` ...)."""
    complete = [n for n in nights if n.complete] or nights
    return NightSummary.of(
        complete[0],
        gaps=gaps,
        nonwear=nonwear,
        nonwear_evidence=evidence_of(nonwear, evidence),
        idle=idle,
        temperature_available=temperature_available,
        nonwear_note=None if temperature_available else NONWEAR_NOTE,
        nights=nights if len(nights) > 1 else None,
        **about,
    )
