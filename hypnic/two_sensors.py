"""``hypnic detect A B``: two sensors of one night, analysed together.

Each stream goes through the one-sensor pipeline (:func:`hypnic.pipeline.analyze_stream`: bursts,
non-wear, its own sleep period), the two are aligned (:mod:`detector.alignment`: UTC starts, then
movement cross-correlation, then offset and drift from matched bursts), and their bursts are
labelled and combined on sensor A's time line (:mod:`detector.two_sensors`). The result is one
:class:`~hypnic.pipeline.Analysis` whose ``events.csv`` has a ``sensors`` column and whose
``summary.json`` has the one-sensor fields plus ``alignment`` and ``sensors``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

if TYPE_CHECKING:
    from hypnic.detector.alignment import ClockMap
    from hypnic.detector.options import AnalysisOptions
    from hypnic.pipeline import Analysis

#: The sleep period of a wrist sensor is preferred: HDCZA was developed and validated on wrist
#: data (van Hees et al. 2018, DOMAIN.md §4.1).
PREFERRED_SLEEP_PLACEMENT = "wrist"


def sensor_names(place_a: str, place_b: str) -> tuple[str, str]:
    """Names for the ``sensors`` column: the placements, with the sides two ankles are scored as,
    made distinct when both are the same."""
    from hypnic.detector import plm, vocabulary
    from hypnic.detector.two_sensors import leg_sides

    sides = leg_sides(place_a, place_b)
    side_name = {plm.LEFT: vocabulary.ankle_placement("left"), plm.RIGHT: vocabulary.ankle_placement("right")}

    def named(p: str, side: int | None) -> str:
        info = vocabulary.placement(p)
        # An ankle of no given side is named by the side it is scored as; an unknown place keeps
        # its name.
        return side_name[side] if info.limb == "ankle" and info.side is None and side in side_name else p

    names = [named(p, s) for p, s in zip((place_a, place_b), sides)]
    if names[0] == names[1]:
        names = [f"{names[0]}_1", f"{names[1]}_2"]
    return names[0], names[1]


def _nights(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return summary.get("nights") or [summary]


def _mapped_night(night: dict[str, Any], clock: ClockMap) -> dict[str, Any]:
    """A one-sensor night summary's times on the pair's time line."""
    out = dict(night)
    for k in ("sleep_onset_s", "sleep_end_s"):
        if out.get(k) is not None:
            out[k] = float(clock.to_a(out[k]))
    for k in ("sleep_onset_window_s", "window_s"):
        if out.get(k) is not None:
            out[k] = [float(clock.to_a(v)) for v in out[k]]
    return out


def choose_periods(
    nights_a: list[dict[str, Any]],
    nights_b: list[dict[str, Any]],
    prefer_b: bool,
    sleep_onset: float | None,
    duration_a: float,
) -> list[dict[str, Any]]:
    """The sleep period of each of A's nights: the preferred sensor's, else the other's.

    ``nights_b`` must already be on A's time line. A given ``sleep_onset`` replaces the onset of
    the night it falls in; its end is the detected end when that is later, else the night's end.
    """
    out = []
    for night in nights_a:
        a, b = night["window_s"]
        found = [n for n in nights_b if n.get("sleep_onset_s") is not None]
        other = next((n for n in found if a <= n["sleep_onset_s"] < b), None)
        order = [("B", other), ("A", night)] if prefer_b else [("A", night), ("B", other)]
        usable = [(s, n) for s, n in order if n is not None and n.get("sleep_onset_s") is not None]
        src, chosen = usable[0] if usable else ("A", night)
        p = {
            "window_s": [a, b],
            "complete": night.get("complete", True),
            "sleep_onset_s": chosen.get("sleep_onset_s"),
            "sleep_onset_window_s": chosen.get("sleep_onset_window_s"),
            "sleep_onset_source": "detected",
            "sleep_end_s": chosen.get("sleep_end_s"),
            "sleep_onset_reason": chosen.get("sleep_onset_reason"),
            "sleep_onset_sensor": src if chosen.get("sleep_onset_s") is not None else None,
        }
        if sleep_onset is not None and a <= sleep_onset < b:
            end = p["sleep_end_s"]
            p.update(
                sleep_onset_s=sleep_onset,
                sleep_onset_window_s=[sleep_onset, sleep_onset],
                sleep_onset_source="given",
                sleep_end_s=end if end is not None and end > sleep_onset else min(b, duration_a),
                sleep_onset_reason=None,
                sleep_onset_sensor=None,
            )
        for k in ("sleep_onset_s", "sleep_end_s"):
            if p[k] is not None:
                p[k] = round(float(p[k]), 2)
        if p["sleep_onset_window_s"] is not None:
            p["sleep_onset_window_s"] = [round(float(v), 2) for v in p["sleep_onset_window_s"]]
        out.append(p)
    return out


def _wrist_with_leg_marks(
    ones: tuple[Analysis, Analysis],
    summaries: tuple[dict[str, Any], dict[str, Any]],
    sides: tuple[int | None, int | None],
    clock: ClockMap,
    options: AnalysisOptions,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sensors' summaries, the wrist's sleep period found again with the ankle's transients.

    The wrist's fidgeting tells wake from sleep best; the twitches and jerks the ankle sees start
    with sleep and witness the onset too (:func:`detector.night.onset_witnesses`). On 36
    wrist+ankle nights this took the onset error's 90th percentile from 14 to 10 min (robust
    parameters 25 to 21 min). Other pairs are returned as they are.
    """
    from dataclasses import replace

    from hypnic.detector.classify import TRANSIENT_SPREAD_S
    from hypnic.detector.night import NightInput, score_night
    from hypnic.detector.two_sensors import covered

    wrists = [k for k in (0, 1) if sides[k] is None]
    if len(wrists) != 1:
        return summaries
    w, leg = wrists[0], 1 - wrists[0]
    ev = ones[leg].bursts.events
    keep = (ev["spread_s"] < TRANSIENT_SPREAD_S) & covered(ev["onset_s"], summaries[leg]["nonwear"])
    t = ev["onset_s"][keep]
    marks = clock.to_a(t) if leg == 1 else clock.to_b(t)  # onto the wrist's clock
    s = summaries[w]
    _, again = score_night(
        NightInput(
            bursts=ones[w].bursts, fs=s["fs_hz"], duration_s=s["duration_s"],
            placement=s["placement"], start_utc=s["start_utc"], utc_offset_s=s["utc_offset_s"],
            reader_gaps=s["gaps"], sleep_marks=np.asarray(marks, dtype=np.float64),
        ),
        options if w == 0 else replace(options, sleep_onset_s=None),  # a given onset is A's
    )
    out = [summaries[0], summaries[1]]
    out[w] = {**s, **again}
    return out[0], out[1]


def _clip(spans: list[list[float]], a: float, b: float) -> list[list[float]]:
    return [[max(s, a), min(e, b)] for s, e in spans if e > a and s < b]


def _evidence_of(spans: list[list[float]], sources: list[tuple[list[float], list[str]]]) -> list[list[str]]:
    """Each span's non-wear evidence: that of every sensor's span overlapping it, in order."""
    out = []
    for s, e in spans:
        names: list[str] = []
        for (s1, e1), ev in sources:
            if min(e, e1) > max(s, s1):
                names += [n for n in ev if n not in names]
        out.append(names)
    return out


def _pair_traces(
    traces_a: dict[str, np.ndarray] | None,
    traces_b: dict[str, np.ndarray] | None,
    clock: ClockMap,
    jerk_onsets: np.ndarray,
    window_s: float,
) -> dict[str, np.ndarray] | None:
    """A's epoch traces, and one raw snippet per jerk of the pair from whichever sensor kept one
    (the one-sensor runs keep snippets around their own jerks; A's first)."""
    if traces_a is None:
        return None
    out = {k: v for k, v in traces_a.items() if not k.startswith("snippet_")}
    found: list[tuple[float, np.ndarray, np.ndarray]] = []
    sources = [(traces_a, lambda t: t)]
    if traces_b is not None:
        sources.append((traces_b, clock.to_a))
    for t0 in jerk_onsets:
        for tr, to_a in sources:
            on = np.asarray(to_a(tr["snippet_onset_s"]), dtype=np.float64)
            if on.size and np.min(np.abs(on - t0)) <= window_s:
                k = int(np.argmin(np.abs(on - t0)))
                found.append((float(on[k]), tr["snippet_t_s"][k], tr["snippet_xyz_g"][k]))
                break
    m = max((f[1].size for f in found), default=0)
    tt = np.full((len(found), m), np.nan)
    xx = np.full((len(found), m, 3), np.nan, dtype=np.float32)
    for i, (_, t, x) in enumerate(found):
        tt[i, : t.size] = t
        xx[i, : t.size] = x
    out["snippet_onset_s"] = np.array([f[0] for f in found], dtype=np.float64)
    out["snippet_t_s"] = tt
    out["snippet_xyz_g"] = xx
    return out


def analyze_pair(
    stream_a: SampleStream,
    stream_b: SampleStream,
    options: AnalysisOptions | None = None,
    *,
    on_chunk_a: Callable[[float], None] | None = None,
    on_chunk_b: Callable[[float], None] | None = None,
) -> Analysis:
    """Analyse two sensors of one night together.

    Parameters
    ----------
    stream_a, stream_b : SampleStream
        The two recordings; A's clock is the pair's time line (events, sleep onset, given
        sleep onset).
    options : detector.options.AnalysisOptions, optional
        A given sleep onset is on A's clock; ``placement`` and ``placement_b`` override the
        streams' placement metadata (two ``ankle`` sensors are the left and the right ankle, in
        that order; ``unknown`` is scored as an ankle). The defaults where None.
    on_chunk_a, on_chunk_b : callable, optional
        Progress of reading each stream (the time reached, s), as for ``analyze_stream``.

    Returns
    -------
    hypnic.pipeline.Analysis
        Events with a ``sensors`` column (``wrist``, ``right_ankle``, ``wrist+right_ankle`` ...);
        the summary has the one-sensor fields (``placement`` names both sensors), plus
        ``alignment`` (``offset_s``, ``drift_ppm``, ``method``, ``matched_bursts`` ...) and
        ``sensors`` (each sensor's source, rate, start, gaps, non-wear and own sleep onset, on
        its own clock).

    Raises
    ------
    InputError
        Either input is bad, both sensors are on the same ankle, or the two recordings do not
        overlap in time or cannot be aligned.
    """
    from dataclasses import replace

    from hypnic import __version__
    from hypnic.detector.alignment import AlignmentError, ClockMap, align, utc_offset_s
    from hypnic.detector.bursts import BurstResult
    from hypnic.detector.epochs import regular_grid
    from hypnic.detector.options import AnalysisOptions, resolve_placement
    from hypnic.detector.two_sensors import (
        ALONE_LIKELIHOOD_RATIO,
        PAIR_LIKELIHOOD_RATIO,
        PAIR_WINDOW_S,
        SensorBursts,
        covered,
        leg_sides,
        lost_spans,
        pair_summary,
        score_pair,
    )
    from hypnic.pipeline import LABELLING_NOTE, Analysis, analyze_stream

    options = options or AnalysisOptions()
    params = options.params
    src_a, src_b = stream_a.info.source, stream_b.info.source
    # As analyze_stream resolves it: the option, else the file's metadata, else unknown.
    place_a, _ = resolve_placement(options.placement, stream_a.info.placement)
    place_b, _ = resolve_placement(options.placement_b, stream_b.info.placement)
    try:
        sides = leg_sides(place_a, place_b)
    except ValueError as exc:
        raise InputError("--placement", f"{exc}: give the other one as the other ankle") from None
    name_a, name_b = sensor_names(place_a, place_b)
    one_a = analyze_stream(stream_a, replace(options, placement_b=None), on_chunk=on_chunk_a)
    one_b = analyze_stream(
        stream_b, replace(options, placement=options.placement_b, placement_b=None, sleep_onset_s=None),
        on_chunk=on_chunk_b,
    )
    sa, sb = one_a.summary, one_b.summary

    try:
        al = align(
            one_a.bursts.events, one_a.bursts.epochs, one_b.bursts.events, one_b.bursts.epochs,
            fs_a=sa["fs_hz"], fs_b=sb["fs_hz"], epoch_s=params.epoch_s,
            prior_offset_s=utc_offset_s(sa["start_utc"], sb["start_utc"]),
        )
    except AlignmentError as exc:
        raise InputError(f"{src_a} + {src_b}", str(exc)) from None
    clock = al.clock

    sensors = []
    for name, one, s, clk in ((name_a, one_a, sa, ClockMap()), (name_b, one_b, sb, clock)):
        ev = one.bursts.events
        worn = covered(ev["onset_s"], s["nonwear"])  # as score_night drops them
        sensors.append(
            SensorBursts(
                name=name,
                placement=s["placement"],
                events=ev[worn],
                grid=regular_grid(one.bursts.epochs, params.epoch_s, s["duration_s"]),
                clock=clk,
                absent=s["gaps"] + s["nonwear"],
                shapes=None if one.bursts.shapes is None else one.bursts.shapes[worn],
            )
        )
    period_a, period_b = _wrist_with_leg_marks((one_a, one_b), (sa, sb), sides, clock, options)
    nights_b = [_mapped_night(n, clock) for n in _nights(period_b)]
    prefer_b = place_b == PREFERRED_SLEEP_PLACEMENT and place_a != PREFERRED_SLEEP_PLACEMENT
    periods = choose_periods(
        _nights(period_a), nights_b, prefer_b, options.sleep_onset_s, sa["duration_s"]
    )
    result = score_pair(
        sensors[0], sensors[1],
        [(*p["window_s"], p["sleep_onset_s"], p["sleep_end_s"],
          (p.get("sleep_onset_window_s") or [None])[0]) for p in periods],
        params.epoch_s, options.rules,
    )
    # The pair's time line is A's recording: what B saw before A started or after it ended
    # belongs to no night of the summary and is left out.
    rows = [r for r in result.rows if 0.0 <= r["onset_s"] < sa["duration_s"]]

    def on_a(spans: list[list[float]]) -> list[list[float]]:
        return [[float(clock.to_a(s)), float(clock.to_a(e))] for s, e in spans]

    gaps_b, nonwear_b = on_a(sb["gaps"]), on_a(sb["nonwear"])
    gaps = lost_spans(sa["gaps"], gaps_b, both=True)
    nonwear = lost_spans(sa["nonwear"], nonwear_b, both=True)
    evidence_sources = list(zip(sa["nonwear"], sa.get("nonwear_evidence") or [], strict=False)) + list(
        zip(nonwear_b, sb.get("nonwear_evidence") or [], strict=False)
    )
    leg_sensors = [s is not None for s in sides]
    if all(leg_sensors):
        legs_lost = lost_spans(sa["gaps"] + sa["nonwear"], gaps_b + nonwear_b, both=True)
    elif leg_sensors[1]:
        legs_lost = gaps_b + nonwear_b
    else:
        legs_lost = sa["gaps"] + sa["nonwear"]

    placement = f"{name_a}+{name_b}"
    nights = []
    for p in periods:
        a, b = p["window_s"]
        night = dict(p)
        night.update(placement=placement, rules=options.rules)
        sensor = {"A": name_a, "B": name_b, None: None}[p["sleep_onset_sensor"]]
        night["sleep_onset_sensor"] = sensor
        night.update(
            pair_summary(rows, (a, b), p["sleep_onset_s"], p["sleep_end_s"],
                         legs_lost=legs_lost, wrist_only=not any(leg_sensors))
        )
        if night["sleep_onset_s"] is None and p["sleep_onset_reason"]:
            night["plms_index_reason"] = p["sleep_onset_reason"]
        night["gaps"] = _clip(gaps, a, b)
        night["nonwear"] = _clip(nonwear, a, b)
        night["nonwear_evidence"] = _evidence_of(night["nonwear"], evidence_sources)
        nights.append(night)
    summary = dict(next((n for n in nights if n["complete"]), nights[0]))
    summary["gaps"] = gaps
    summary["nonwear"] = nonwear
    summary["nonwear_evidence"] = _evidence_of(nonwear, evidence_sources)
    summary["idle"] = sa.get("idle", [])
    summary["temperature_available"] = bool(sa.get("temperature_available") and sb.get("temperature_available"))
    if not summary["temperature_available"]:
        summary["nonwear_note"] = sa.get("nonwear_note") or sb.get("nonwear_note")
    if len(nights) > 1:
        summary["nights"] = nights
    summary.update(
        {
            "software": "hypnic",
            "version": __version__,
            # The top level describes sensor A's recording (the pair's time line), so that
            # `hypnic export DIR` finds its samples; both sensors are under "sensors".
            "source": src_a,
            "start_utc": sa["start_utc"],
            "fs_hz": sa["fs_hz"],
            "n_samples": sa["n_samples"],
            "duration_s": sa["duration_s"],
            "device": sa.get("device"),
            "alignment": al.as_dict(),
            "sensors": [
                _sensor_entry(name, s, None if k == 0 else clock)
                for k, (name, s) in enumerate(((name_a, sa), (name_b, sb)))
            ],
            "jerks_seen_by_both": sum(
                r["label"] == "hypnic_jerk" and "+" in r["sensors"] for r in rows
            ),
            "parameters": {
                "burst_detector": params.as_dict(),
                "labelling": LABELLING_NOTE + "; two sensors: detector.two_sensors",
                "rules": options.rules,
                "placement_source": [
                    s["parameters"]["placement_source"] for s in (sa, sb)
                ],
                "two_sensors": {
                    "pair_window_s": PAIR_WINDOW_S,
                    "pair_likelihood_ratio": PAIR_LIKELIHOOD_RATIO,
                    "alone_likelihood_ratio": ALONE_LIKELIHOOD_RATIO,
                },
            },
        }
    )
    if "unknown" in (place_a, place_b):
        summary["placement_note"] = (
            "placement unknown for a sensor: it is scored as if on an ankle; "
            "give the placement of both sensors"
        )
    order = np.argsort(result.events["onset_s"], kind="stable")
    bursts = BurstResult(result.events[order], one_a.bursts.epochs, gaps)
    jerks = np.array([r["onset_s"] for r in rows if r["label"] == "hypnic_jerk"])
    traces = _pair_traces(one_a.traces, one_b.traces, clock, jerks, PAIR_WINDOW_S)
    return Analysis(rows, summary, bursts=bursts, traces=traces)


def _sensor_entry(name: str, s: dict[str, Any], clock: ClockMap | None) -> dict[str, Any]:
    """One sensor's own view (own clock) for the pair's summary."""
    return {
        "name": name,
        "placement": s["placement"],
        "source": s["source"],
        "fs_hz": s["fs_hz"],
        "start_utc": s["start_utc"],
        "n_samples": s["n_samples"],
        "duration_s": s["duration_s"],
        "clock": None if clock is None else {
            "offset_s": round(clock.offset_s, 4), "drift_ppm": round(clock.drift_ppm, 2)
        },
        "sleep_onset_s": s["sleep_onset_s"],
        "counts": s["counts"],
        "gaps": s["gaps"],
        "nonwear": s["nonwear"],
        "device": s.get("device"),
    }
