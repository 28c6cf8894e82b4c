"""The main job: samples in, events.csv and summary.json out.

bytes/files (``recordings``) -> samples (:class:`recordings.samples.SampleStream`) -> bursts
(:class:`detector.bursts.StreamingDetector`, chunk by chunk, bounded memory: :func:`read_night`)
-> the night's events and summary (:func:`detector.analysis.analyze_night`) -> where it came from
and the report's traces (:func:`analyze_stream`) -> outputs (written all at once by
:func:`recordings.outputs.staged_output`). Two sensors of one night: :mod:`hypnic.two_sensors`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hypnic import __version__
from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

if TYPE_CHECKING:
    from hypnic.detector.options import AnalysisOptions
    from hypnic.detector.results import Event, NightSummary

#: Longest span of time analysed at once. Night scoring keeps a 1-s grid over the whole span
#: (detector.night), ~180 bytes a second at its peak, so the span, not the number of samples,
#: sets the memory: 45 days (about 0.7 GB) covers the longest actigraphy recordings (GENEActiv
#: at 10 Hz runs about 45 days on a charge; UK Biobank AX3 7 days, DOMAIN.md) and refuses a
#: file whose clock jumped by years instead of taking gigabytes.
MAX_SPAN_S = 45 * 86400.0


def check_span(source: str, t_s: float) -> None:
    """Refuse a sample more than :data:`MAX_SPAN_S` after the start (one line naming ``source``).

    Raises
    ------
    InputError
        When ``t_s`` (seconds from the start) is beyond :data:`MAX_SPAN_S`.
    """
    if t_s > MAX_SPAN_S:
        raise InputError(
            source,
            f"the samples span {t_s / 86400:.3g} days, more than the {MAX_SPAN_S / 86400:.0f} "
            "days analysed at once (a clock that jumped?); split the recording",
        )


@dataclass
class Analysis:
    """Result of analysing one night (or recording): what events.csv, summary.json and
    traces.npz hold."""

    events: list[Event]
    summary: NightSummary
    out_dir: Path | None = None
    #: The raw bursts, epochs and gaps (detector.bursts.BurstResult) behind the events.
    bursts: Any = None
    #: Arrays for the report (traces.npz): 5-s epochs and raw traces around each jerk.
    traces: dict[str, Any] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns of its events.csv (:func:`detector.results.event_columns`)."""
        from hypnic.detector.results import event_columns

        return event_columns(self.summary.two_sensors)


@dataclass
class StreamNight:
    """One stream read for the night stage (:func:`read_night`).

    Attributes
    ----------
    input : detector.night.NightInput
        What the detector's night stage takes: bursts, epochs, gaps, thermometer, idle time,
        the resolved placement.
    info : recordings.samples.StreamInfo
    n_samples : int
    snippets : detector.snippets.SnippetCollector
        Raw samples around every transient (the report's close-ups of the jerks).
    """

    input: Any
    info: Any
    n_samples: int
    snippets: Any

    def provenance(self) -> dict[str, Any]:
        """Where the night came from: these fields of the summary (:class:`NightSummary
        <detector.results.NightSummary>`)."""
        return {
            "software": "hypnic",
            "version": __version__,
            "source": self.info.source,
            "start_utc": self.info.start_utc,
            "utc_offset_s": self.info.utc_offset_s,
            "fs_hz": self.info.fs,
            "n_samples": self.n_samples,
            "duration_s": round(self.input.duration_s, 3),
            "device": self.info.meta,
        }

    def traces(self, params: Any, jerk_onsets: np.ndarray) -> dict[str, np.ndarray]:
        """The report's arrays (:func:`night_traces`), raw traces around ``jerk_onsets``."""
        return night_traces(
            self.input.bursts, params, self.snippets, jerk_onsets, temperature=self.input.temperature
        )


def read_night(
    stream: SampleStream,
    options: AnalysisOptions,
    *,
    sensor: int = 0,
    on_chunk: Callable[[float], None] | None = None,
) -> StreamNight:
    """Read a stream through the burst detector, chunk by chunk, into the night stage's input.

    This is all of the analysis that sees samples; :func:`detector.analysis.analyze_night` does
    the rest from what this returns (the accuracy benchmark keeps it to score a night again).

    Parameters
    ----------
    stream : SampleStream
    options : detector.options.AnalysisOptions
        Burst parameters, and the placement given for this sensor (else the stream's metadata).
    sensor : int
        Which sensor of the night the stream is (0 = A, whose clock a given sleep onset is on; 1
        = B, whose placement is ``options.placement_b``).
    on_chunk : callable, optional
        Called with the time (s) reached after each chunk (progress).

    Raises
    ------
    InputError
        The stream is bad, holds no samples or spans more than :data:`MAX_SPAN_S`, or a given
        sleep onset lies outside sensor A's recording.
    """
    from hypnic.detector.bursts import BurstResult, StreamingDetector
    from hypnic.detector.classify import TRANSIENT_SPREAD_S
    from hypnic.detector.night import NightInput
    from hypnic.detector.onsets import measure_transients
    from hypnic.detector.options import resolve_placement
    from hypnic.detector.snippets import SnippetCollector

    params = options.params
    info = stream.info
    det = StreamingDetector(info.fs, params)
    snippets = SnippetCollector()

    def transients(res: BurstResult) -> Any:
        return res.events["onset_s"][res.events["spread_s"] < TRANSIENT_SPREAD_S]

    parts = []
    n = 0
    t_first = t_last = None
    source = info.source
    temperature = SecondMeans()
    for chunk in stream:
        try:
            parts.append(det.process(chunk.t, chunk.xyz))
        except ValueError as exc:
            raise InputError(source, str(exc)) from None
        if "temperature" in chunk.aux:
            temperature.feed(*chunk.aux["temperature"])
        snippets.feed(chunk.t, chunk.xyz, transients(parts[-1]))
        n += len(chunk)
        if len(chunk):
            t_first = chunk.t[0] if t_first is None else t_first
            t_last = chunk.t[-1]
            check_span(source, float(t_last))
            if on_chunk is not None:
                on_chunk(float(t_last))
    parts.append(det.finish())
    snippets.feed(np.empty(0), np.empty((0, 3)), transients(parts[-1]))
    snippets.finish()
    if n == 0 or t_last is None or t_first is None:
        raise InputError(source, "no samples")
    bursts = BurstResult.concatenate(parts)
    short = bursts.events["spread_s"] < TRANSIENT_SPREAD_S
    onsets, bursts.shapes = measure_transients(bursts.events, short, snippets.done, info.fs, params)
    moved = zip(bursts.events["onset_s"][short], onsets[short], strict=True)
    snippets.rekey({float(a): float(b) for a, b in moved})
    bursts.events["onset_s"] = onsets
    duration = float(t_last) + 1.0 / info.fs
    onset = options.sleep_onset_s
    if sensor == 0 and onset is not None and not (0 <= onset <= duration):
        raise InputError("--sleep-onset", f"{onset} s is outside the recording (0-{duration:.0f} s)")
    place, place_source = resolve_placement(options.placement_given(sensor), info.placement)
    night = NightInput(
        bursts=bursts, fs=info.fs, duration_s=duration, placement=place,
        placement_source=place_source, start_utc=info.start_utc, utc_offset_s=info.utc_offset_s,
        reader_gaps=list(stream.gaps), temperature=temperature.result(),
        idle=list(getattr(stream, "idle", [])),
    )
    return StreamNight(night, info, n, snippets)


def jerk_onsets(events: list[Event]) -> np.ndarray:
    """The onsets of the hypnic jerks among ``events`` (the report's close-ups)."""
    return np.array([e.onset_s for e in events if e.label == "hypnic_jerk"])


def analyze_stream(
    stream: SampleStream,
    options: AnalysisOptions | None = None,
    *,
    on_chunk: Callable[[float], None] | None = None,
) -> Analysis:
    """Analyse one stream: read it (:func:`read_night`), analyse its night
    (:func:`detector.analysis.analyze_night`), and say where it came from.

    Parameters
    ----------
    stream : SampleStream
    options : detector.options.AnalysisOptions, optional
        The given sleep onset, placement (over the stream's metadata), rules and burst
        parameters; the defaults where None.
    on_chunk : callable, optional
        Called with the time (s) reached after each chunk (progress).

    Raises
    ------
    InputError
        As :func:`read_night`.
    """
    from hypnic.detector.analysis import analyze_night
    from hypnic.detector.options import AnalysisOptions

    options = options or AnalysisOptions()
    night = read_night(stream, options, on_chunk=on_chunk)
    result = analyze_night([night.input], options)
    summary = replace(result.summary, **night.provenance())
    traces = night.traces(options.params, jerk_onsets(result.events))
    return Analysis(result.events, summary, bursts=result.bursts, traces=traces)


def night_traces(
    bursts: Any, params: Any, snippets: Any, jerk_onsets: np.ndarray,
    temperature: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """What the report plots: 5-s posture and movement, raw traces around each hypnic jerk, and
    the sensor's temperature as 1-min medians where it has one (``temperature_t_s``, ``_c``)."""
    from hypnic.detector.epochs import ANGLE_EPOCH_S, aggregate, regular_grid, z_angle

    grid5 = aggregate(regular_grid(bursts.epochs, params.epoch_s), int(round(ANGLE_EPOCH_S / params.epoch_s)))
    on, tt, xx = snippets.arrays(jerk_onsets)
    out = {
        "epoch_t_s": grid5["t_s"],
        "epoch_angle_z_deg": z_angle(grid5["x"], grid5["y"], grid5["z"]).astype(np.float32),
        "epoch_rms_g": grid5["rms_g"].astype(np.float32),
        "snippet_onset_s": on,
        "snippet_t_s": tt,
        "snippet_xyz_g": xx,
    }
    if temperature is not None:
        out["temperature_t_s"], out["temperature_c"] = minute_medians(*temperature)
    return out


class SecondMeans:
    """An auxiliary channel's readings as the mean of each second, fed chunk by chunk.

    A CSV repeats the latest reading on every row: one mean a second is all non-wear needs, and
    keeps a week at 100 Hz from holding 60 million readings. The last second of a chunk waits for
    the next chunk, so any chunking gives the same means.
    """

    def __init__(self) -> None:
        self._done: list[tuple[np.ndarray, np.ndarray]] = []
        self._open = (np.empty(0), np.empty(0))

    def feed(self, t_s: np.ndarray, values: np.ndarray) -> None:
        ok = np.isfinite(t_s) & np.isfinite(values)
        t = np.concatenate([self._open[0], t_s[ok]])
        v = np.concatenate([self._open[1], values[ok]])
        if t.size == 0:
            return
        sec = np.floor(t).astype(np.int64)
        last = int(np.searchsorted(sec, sec[-1]))
        self._open = (t[last:], v[last:])
        if last:
            self._done.append(self._means(t[:last], v[:last], sec[:last]))

    def result(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(mean reading time in s, mean value) of each second, or None without readings."""
        parts = list(self._done)
        if self._open[0].size:
            parts.append(self._means(*self._open, np.floor(self._open[0]).astype(np.int64)))
        if not parts:
            return None
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    @staticmethod
    def _means(t: np.ndarray, v: np.ndarray, sec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        starts = np.concatenate([[0], np.flatnonzero(np.diff(sec)) + 1])
        n = np.diff(np.append(starts, t.size))
        return np.add.reduceat(t, starts) / n, np.add.reduceat(v, starts) / n


def minute_medians(t_s: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of each minute that holds finite values: (minute starts in s, medians as float32)."""
    ok = np.isfinite(t_s) & np.isfinite(values)
    t_s, values = t_s[ok], values[ok]
    if t_s.size == 0:
        return np.empty(0), np.empty(0, np.float32)
    minute = np.floor(t_s / 60.0).astype(np.int64)
    order = np.lexsort((values, minute))
    minute, values = minute[order], values[order]
    starts = np.flatnonzero(np.diff(minute, prepend=minute[0] - 1))
    ends = np.append(starts[1:], minute.size)
    med = 0.5 * (values[(starts + ends - 1) // 2] + values[(starts + ends) // 2])
    return minute[starts] * 60.0, med.astype(np.float32)


def output_files(report: bool = True) -> tuple[str, ...]:
    """The files :func:`write_outputs` writes into ``--out``."""
    return ("events.csv", "summary.json", "traces.npz") + (("report.html",) if report else ())


def write_outputs(
    analysis: Analysis, out: str | Path, report: bool = True, force: bool = False
) -> Path:
    """Write events.csv, summary.json, traces.npz and report.html into ``out``, all or nothing.

    ``force`` writes into a folder hypnic did not write (:func:`recordings.outputs.staged_output`).
    """
    from hypnic.recordings.outputs import staged_output, write_events_csv, write_json

    with staged_output(out, force=force) as stage:
        write_events_csv(stage / "events.csv", analysis.events, analysis.columns)
        write_json(stage / "summary.json", analysis.summary.as_dict())
        if analysis.traces is not None:
            np.savez_compressed(stage / "traces.npz", **analysis.traces)
        if report:
            from hypnic.report import write_night_report

            write_night_report(stage, analysis)
    analysis.out_dir = Path(out)
    return Path(out)
