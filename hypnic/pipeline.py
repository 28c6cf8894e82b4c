"""The main job: samples in, events.csv and summary.json out.

bytes/files (``recordings``) -> samples (:class:`recordings.samples.SampleStream`) -> bursts
(:class:`detector.bursts.StreamingDetector`, chunk by chunk, bounded memory) -> night scoring
(:mod:`detector.night`) -> outputs (written all at once by :func:`recordings.outputs.staged_output`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hypnic import __version__
from hypnic.errors import InputError
from recordings.samples import SampleStream

LABELLING_NOTE = (
    "rule-based classifier (detector.classify): posture change -> large_movement; short early-peaking "
    "transient -> hypnic_jerk; 0.5-15 s movements at an ankle scored per WASM/AASM -> plm/lm"
)


@dataclass
class Analysis:
    """Result of analysing one night (or recording)."""

    events: list[dict[str, Any]]
    summary: dict[str, Any]
    out_dir: Path | None = None
    #: The raw bursts, epochs and gaps (detector.bursts.BurstResult) behind the events.
    bursts: Any = None
    #: Arrays for the report (traces.npz): 5-s epochs and raw traces around each jerk.
    traces: dict[str, Any] | None = None


def _progress(total: float | None, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, desc=desc, unit="s", unit_scale=True, leave=False,
        disable=not sys.stderr.isatty(), file=sys.stderr,
    )


def analyze_stream(
    stream: SampleStream,
    *,
    sleep_onset: float | None = None,
    placement: str | None = None,
    rules: str = "wasm",
    params: Any = None,
    on_chunk: Callable[[float], None] | None = None,
) -> Analysis:
    """Run the detector over a stream and score the night.

    Parameters
    ----------
    stream : SampleStream
    sleep_onset : float, optional
        Given sleep onset (s from the start), overrides detection.
    placement : str, optional
        Overrides the stream's placement metadata.
    rules : {"wasm", "aasm"}
    params : detector.bursts.BurstParams, optional
    on_chunk : callable, optional
        Called with the time (s) reached after each chunk (progress).
    """
    from detector.bursts import BurstParams, BurstResult, StreamingDetector
    from detector.classify import TRANSIENT_SPREAD_S
    from detector.night import NightInput, score_night
    from detector.snippets import SnippetCollector

    params = params or BurstParams()
    info = stream.info
    det = StreamingDetector(info.fs, params)
    snippets = SnippetCollector()

    def transients(res: BurstResult) -> Any:
        return res.events["onset_s"][res.events["spread_s"] < TRANSIENT_SPREAD_S]

    parts = []
    n = 0
    t_first = t_last = None
    source = info.source
    for chunk in stream:
        try:
            parts.append(det.process(chunk.t, chunk.xyz))
        except ValueError as exc:
            raise InputError(source, str(exc)) from None
        snippets.feed(chunk.t, chunk.xyz, transients(parts[-1]))
        n += len(chunk)
        if len(chunk):
            t_first = chunk.t[0] if t_first is None else t_first
            t_last = chunk.t[-1]
            if on_chunk is not None:
                on_chunk(float(t_last))
    parts.append(det.finish())
    snippets.feed(np.empty(0), np.empty((0, 3)), transients(parts[-1]))
    snippets.finish()
    if n == 0 or t_last is None or t_first is None:
        raise InputError(source, "no samples")
    bursts = BurstResult.concatenate(parts)
    duration = float(t_last) + 1.0 / info.fs
    if sleep_onset is not None and not (0 <= sleep_onset <= duration):
        raise InputError("--sleep-onset", f"{sleep_onset} s is outside the recording (0-{duration:.0f} s)")
    place = placement or info.placement or "unknown"
    events, summary = score_night(
        NightInput(
            bursts=bursts, fs=info.fs, duration_s=duration, params=params, placement=place,
            rules=rules, sleep_onset_s=sleep_onset, start_utc=info.start_utc,
            utc_offset_s=info.utc_offset_s, reader_gaps=list(stream.gaps),
        )
    )
    summary.update(
        {
            "software": "hypnic",
            "version": __version__,
            "source": source,
            "start_utc": info.start_utc,
            "utc_offset_s": info.utc_offset_s,
            "fs_hz": info.fs,
            "n_samples": n,
            "duration_s": round(duration, 3),
            "parameters": {
                "burst_detector": params.as_dict(),
                "labelling": LABELLING_NOTE,
                "rules": rules,
                "placement_source": "option" if placement else ("file" if info.placement != "unknown" else "unknown"),
            },
            "device": info.meta,
        }
    )
    if place == "unknown":
        summary["placement_note"] = (
            "placement unknown: every label is scored (leg movements as if on an ankle); "
            "give --placement for a wrist recording"
        )
    jerks = np.array([e["onset_s"] for e in events if e["label"] == "hypnic_jerk"])
    return Analysis(events, summary, bursts=bursts, traces=night_traces(bursts, params, snippets, jerks))


def night_traces(bursts: Any, params: Any, snippets: Any, jerk_onsets: np.ndarray) -> dict[str, np.ndarray]:
    """What the report plots: 5-s posture and movement, raw traces around each hypnic jerk."""
    from detector.epochs import ANGLE_EPOCH_S, aggregate, regular_grid, z_angle

    grid5 = aggregate(regular_grid(bursts.epochs, params.epoch_s), int(round(ANGLE_EPOCH_S / params.epoch_s)))
    on, tt, xx = snippets.arrays(jerk_onsets)
    return {
        "epoch_t_s": grid5["t_s"],
        "epoch_angle_z_deg": z_angle(grid5["x"], grid5["y"], grid5["z"]).astype(np.float32),
        "epoch_rms_g": grid5["rms_g"].astype(np.float32),
        "snippet_onset_s": on,
        "snippet_t_s": tt,
        "snippet_xyz_g": xx,
    }


def write_outputs(analysis: Analysis, out: str | Path, report: bool = True) -> Path:
    """Write events.csv, summary.json, traces.npz and report.html into ``out``, all or nothing."""
    from recordings.outputs import staged_output, write_events_csv, write_json

    extra = ("peak_jerk_gps", "rise_time_s", "orientation_change_deg", "n_bursts")
    with staged_output(out) as stage:
        write_events_csv(stage / "events.csv", analysis.events, extra=extra)
        write_json(stage / "summary.json", analysis.summary)
        if analysis.traces is not None:
            np.savez_compressed(stage / "traces.npz", **analysis.traces)
        if report:
            from hypnic.report import write_night_report

            write_night_report(stage, analysis)
    analysis.out_dir = Path(out)
    return Path(out)


def analyze_inputs(
    inputs: Sequence[str],
    *,
    out: str,
    sleep_onset: float | None = None,
    placement: str | None = None,
    rules: str = "wasm",
    start: str | None = None,
    report: bool = True,
) -> Analysis:
    """``hypnic detect``: read the input(s), analyse, write the outputs."""
    from recordings.open_input import open_input

    if sleep_onset is not None and not sleep_onset >= 0:
        raise InputError("--sleep-onset", f"must be a time in seconds ≥ 0, got {sleep_onset}")
    if len(inputs) != 1:
        raise InputError(None, "two-sensor nights are not supported yet: give one input")
    stream = open_input(inputs[0], start=start)
    # The summary names its source absolutely, so `hypnic export DIR` finds the samples again.
    stream.info.source = str(Path(inputs[0]).resolve())
    with _progress(None, Path(inputs[0]).name) as bar:
        def tick(t: float) -> None:
            bar.update(t - bar.n)

        analysis = analyze_stream(
            stream, sleep_onset=sleep_onset, placement=placement, rules=rules, on_chunk=tick
        )
    write_outputs(analysis, out, report=report)
    return analysis
