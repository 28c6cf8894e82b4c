"""The export use case (``hypnic export``): a recording, or an output folder's samples, and its
events as one EDF+ file and ``FILE.events.csv``.

Chooses the samples and the events (:func:`recordings.edf_export.plan_export`), reads the
samples once, placing them on the EDF grid as they pass (:class:`recordings.edf_export.EdfExport`)
while the analysis of ``hypnic detect`` (:func:`hypnic.pipeline.analyze_stream`) finds the events
where they come from a fresh analysis, and writes both files, all or nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tqdm import tqdm

from hypnic.detector.options import AnalysisOptions
from hypnic.pipeline import analyze_stream, check_span
from hypnic.recordings.edf_export import (
    EdfExport,
    ExportResult,
    annotations_of,
    plan_export,
)
from hypnic.recordings.errors import printable
from hypnic.recordings.feed import tapped
from hypnic.recordings.open_input import open_input
from hypnic.recordings.samples import SampleChunk


def export_edf(
    path: str | os.PathLike[str],
    edf_path: str | os.PathLike[str],
    *,
    events: str = "auto",
    start: str | None = None,
    options: AnalysisOptions | None = None,
) -> ExportResult:
    """Write ``edf_path`` (EDF+ with the events as annotations) and ``FILE.events.csv``.

    A progress bar on stderr while the samples are read, where stderr is a terminal.

    Parameters
    ----------
    path : path-like
        A recording folder, an output folder of detect/replay, or any input ``detect`` takes.
    edf_path : path-like
        The EDF file to write; its folder is created if missing.
    events : str
        ``"auto"`` (see :mod:`recordings.edf_export`), ``"analysis"`` (analyse the samples
        now), ``"live"`` (a recording's events.jsonl) or the path of an events.csv.
    start : str, optional
        ISO 8601 time of the first sample, for inputs without one (``--start``).
    options : detector.options.AnalysisOptions, optional
        Options of the analysis, when the events come from one (the defaults where None).

    Raises
    ------
    InputError
        Bad input, events or target; nothing is written then.
    """
    plan = plan_export(path, events, edf_path)
    annotations = plan.annotations()
    stream = open_input(plan.samples, start=start)
    export = EdfExport(plan, stream)

    def bounded(chunk: SampleChunk) -> None:
        # The grid is held in memory and padded across gaps: a clock that jumped by years
        # would ask for terabytes. Refused as the analysis refuses it, before the grid grows.
        if len(chunk):
            check_span(str(plan.samples), float(chunk.t[-1]))

    with tqdm(
        desc=printable(Path(path).name), unit="s", unit_scale=True, leave=False,
        disable=not sys.stderr.isatty(), file=sys.stderr,
    ) as bar:  # fmt: skip

        def progress(chunk: SampleChunk) -> None:
            if len(chunk):
                bar.update(float(chunk.t[-1]) - bar.n)

        fed = tapped(stream, bounded, export.add, progress)
        if annotations is None:
            analysis = analyze_stream(fed, options)
            annotations = annotations_of(analysis.events)
            events_source = "analysis"
        else:
            for _ in fed:
                pass
            events_source = str(plan.events)
    return export.write(edf_path, annotations, events_source)
