"""The detect use case (``hypnic detect``): one input, or two sensors of one night, in; the
outputs (events.csv, summary.json, traces.npz, report.html) out.

Opens the input(s) with whichever reader takes them (:func:`recordings.open_input.open_input`),
refuses an ``--out`` it may not write before any work, analyses one stream
(:func:`hypnic.pipeline.analyze_stream`) or a pair (:func:`hypnic.two_sensors.analyze_pair`)
with a progress bar per input, and writes the outputs all at once
(:func:`hypnic.pipeline.write_outputs`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from hypnic.detector.options import AnalysisOptions
from hypnic.pipeline import Analysis, analyze_stream, output_files, write_outputs
from hypnic.recordings.errors import InputError, printable
from hypnic.recordings.open_input import open_input
from hypnic.recordings.outputs import check_output_folder
from hypnic.two_sensors import analyze_pair


def analyze_inputs(
    inputs: Sequence[str],
    options: AnalysisOptions,
    *,
    out: str,
    start: str | None = None,
    report: bool = True,
    force: bool = False,
) -> Analysis:
    """``hypnic detect``: read the input(s), analyse, write the outputs.

    Two inputs are two sensors of one night (:func:`hypnic.two_sensors.analyze_pair`): the
    options' ``placement`` is the first one's, ``placement_b`` the second's.

    ``--out`` is checked once the input has opened and before the analysis, so that a refused
    folder (:func:`recordings.outputs.check_output_folder`) costs no work.

    Raises
    ------
    InputError
        Not one input or two, a bad ``sleep_onset``, bad input or a refused ``out``.
    """
    onset = options.sleep_onset_s
    if onset is not None and not onset >= 0:
        raise InputError("--sleep-onset", f"must be a time in seconds ≥ 0, got {onset}")
    if len(inputs) not in (1, 2):
        raise InputError(None, f"detect takes one or two inputs, got {len(inputs)}")
    streams = [open_input(p, start=start) for p in inputs]
    check_output_folder(out, force=force, names=output_files(report))
    for stream, path in zip(streams, inputs, strict=True):
        # The summary names its source absolutely, so `hypnic export DIR` finds the samples again.
        stream.info.source = str(Path(path).resolve())
    with contextlib.ExitStack() as bars:
        ticks = []
        for path in inputs:
            bar = bars.enter_context(
                tqdm(
                    total=None, desc=printable(Path(path).name), unit="s", unit_scale=True, leave=False,
                    disable=not sys.stderr.isatty(), file=sys.stderr,
                )
            )  # fmt: skip
            ticks.append(lambda t, bar=bar: bar.update(t - bar.n))
        if len(streams) == 1:
            analysis = analyze_stream(streams[0], options, on_chunk=ticks[0])
        else:
            analysis = analyze_pair(
                streams[0], streams[1], options, on_chunk_a=ticks[0], on_chunk_b=ticks[1]
            )
    write_outputs(analysis, out, report=report, force=force)
    return analysis
