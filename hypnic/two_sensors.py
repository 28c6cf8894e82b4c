"""``hypnic detect A B``: two sensors of one night, analysed together.

Each stream is read once through the burst detector (:func:`hypnic.pipeline.read_night`), the
two are aligned (:mod:`detector.alignment`: UTC starts, then movement cross-correlation, then
offset and drift from matched bursts), and the night is analysed from both sensors' bursts on
sensor A's time line (:func:`detector.analysis.analyze_night`). The result is one
:class:`~hypnic.pipeline.Analysis` whose ``events.csv`` has a ``sensors`` column and whose
``summary.json`` has the one-sensor fields plus ``alignment`` and ``sensors``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

if TYPE_CHECKING:
    from hypnic.detector.alignment import ClockMap
    from hypnic.detector.options import AnalysisOptions
    from hypnic.detector.results import SensorView
    from hypnic.pipeline import Analysis, StreamNight


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
    from hypnic.detector.alignment import AlignmentError, align, utc_offset_s
    from hypnic.detector.analysis import analyze_night
    from hypnic.detector.options import AnalysisOptions, resolve_placement
    from hypnic.detector.two_sensors import PAIR_WINDOW_S, leg_sides
    from hypnic.pipeline import Analysis, jerk_onsets, read_night

    options = options or AnalysisOptions()
    params = options.params
    # Before reading an hour of samples: two sensors on one ankle cannot be scored.
    places = [
        resolve_placement(options.placement_given(k), s.info.placement)[0]
        for k, s in enumerate((stream_a, stream_b))
    ]
    try:
        leg_sides(*places)
    except ValueError as exc:
        raise InputError("--placement", f"{exc}: give the other one as the other ankle") from None
    na = read_night(stream_a, options, sensor=0, on_chunk=on_chunk_a)
    nb = read_night(stream_b, options, sensor=1, on_chunk=on_chunk_b)
    a, b = na.input, nb.input
    try:
        al = align(
            a.bursts.events, a.bursts.epochs, b.bursts.events, b.bursts.epochs,
            fs_a=a.fs, fs_b=b.fs, epoch_s=params.epoch_s,
            prior_offset_s=utc_offset_s(a.start_utc, b.start_utc),
        )
    except AlignmentError as exc:
        raise InputError(f"{na.info.source} + {nb.info.source}", str(exc)) from None
    result = analyze_night([a, b], options, al)
    # The top level describes sensor A's recording (the pair's time line), so that
    # `hypnic export DIR` finds its samples; both sensors are under "sensors". A pair's summary
    # has never said A's offset from UTC (each sensor's start_utc is there).
    summary = replace(
        result.summary,
        **{**na.provenance(), "utc_offset_s": None},
        sensors=[
            _where_from(view, night)
            for view, night in zip(result.summary.sensors, (na, nb), strict=True)
        ],
    )
    traces = _pair_traces(
        na.traces(params, jerk_onsets(result.own_events[0])),
        nb.traces(params, jerk_onsets(result.own_events[1])),
        al.clock, jerk_onsets(result.events), PAIR_WINDOW_S,
    )
    return Analysis(result.events, summary, bursts=result.bursts, traces=traces)


def _where_from(view: SensorView, night: StreamNight) -> SensorView:
    """One sensor's own view (own clock) for the pair's summary, with where it came from."""
    about = night.provenance()
    return replace(view, **{k: about[k] for k in (
        "source", "fs_hz", "start_utc", "n_samples", "duration_s", "device")})
