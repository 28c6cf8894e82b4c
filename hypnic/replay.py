"""The replay use case (``hypnic replay``): a recording through the live streaming path.

``hypnic replay`` hands a recording to the analysis ``hypnic detect`` runs
(:func:`hypnic.pipeline.analyze_stream`), but as a sensor would have delivered it during the
night: in frames of :data:`recordings.feed.FRAME_S` seconds (:func:`recordings.feed.frames`),
optionally paced by the recording's own clock (:func:`recordings.feed.paced`), with the bursts
the streaming detector closes in each frame reported as they are found (:class:`BurstWatch`),
as ``hypnic record`` shows them live.

The burst detector gives the same result for any chunking, so replay's ``events.csv`` equals
``detect``'s on the same samples; only ``summary.json`` gains a ``replay`` entry saying how the
samples were fed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from hypnic.detector.bursts import StreamingDetector
from hypnic.detector.options import AnalysisOptions
from hypnic.pipeline import Analysis, analyze_stream, output_files, write_outputs
from hypnic.recordings.errors import InputError, printable
from hypnic.recordings.feed import (
    FRAME_S,
    expected_duration_s,
    frame_samples,
    frames,
    paced,
    tapped,
)
from hypnic.recordings.open_input import open_input
from hypnic.recordings.outputs import check_output_folder
from hypnic.recordings.samples import SampleChunk, SampleStream


class BurstWatch:
    """Finds bursts frame by frame, as the live path does, and reports each as it closes.

    The bursts are provisional: their labels (jerk, leg movement, turn-over) need the whole
    night and come from the analysis at the end. Use an instance as a tap of
    :func:`recordings.feed.tapped`.

    Parameters
    ----------
    fs : float
        The stream's nominal rate.
    report : callable
        Called with each burst (a row of :data:`detector.bursts.EVENT_DTYPE`).
    source : str
        The input, named in the error when the detector refuses a chunk.
    params : detector.bursts.BurstParams, optional
    """

    def __init__(
        self, fs: float, report: Callable[[np.void], None], *, source: str = "", params: Any = None
    ) -> None:
        self._detector = StreamingDetector(fs, params)
        self._source = source
        self._report = report

    def __call__(self, chunk: SampleChunk) -> None:
        try:
            found = self._detector.process(chunk.t, chunk.xyz)
        except ValueError as exc:  # the analysis would refuse the same chunk in the same words
            raise InputError(self._source, str(exc)) from None
        for row in found.events:
            self._report(row)


def format_burst(row: np.void, start_utc: str | None = None, utc_offset_s: float = 0.0) -> str:
    """One line for a provisional burst: local clock time (where known), onset, length, peak."""
    onset = float(row["onset_s"])
    when = f"{onset:10.2f} s"
    if start_utc:
        start = datetime.fromisoformat(start_utc.replace("Z", "+00:00"))
        if start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        local = start + timedelta(seconds=onset + utc_offset_s)
        when = f"{local:%H:%M:%S}  {when}"
    return (
        f"{when}  burst  {float(row['duration_s']):5.2f} s  peak {float(row['peak_g']):.3f} g"
        "  (provisional)"
    )


def replay_inputs(
    path: str,
    options: AnalysisOptions,
    *,
    out: str,
    report: bool = True,
    speed: float | None = None,
    show_bursts: bool = False,
    frame_s: float = FRAME_S,
    echo: Callable[[str], None] | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> Analysis:
    """``hypnic replay``: feed a recording frame by frame to the analysis and write its outputs.

    Parameters
    ----------
    path : str
        A recording folder (or any input :func:`recordings.open_input.open_input` takes).
    options : detector.options.AnalysisOptions
        As for ``hypnic detect``.
    out : str
        Output folder: events.csv, summary.json (and the report), written all at once.
    report : bool
        Write the HTML report too.
    speed : float, optional
        Recording seconds per wall-clock second (1 = ``--realtime``); None replays as fast as
        the machine goes (``--fast``).
    show_bursts : bool
        Report provisional bursts as they are found (through ``echo``).
    frame_s : float
        Frame length in seconds (:data:`FRAME_S`).
    echo : callable, optional
        Prints one line; defaults to writing stdout without breaking the progress bar.
    progress : bool, optional
        Show a progress bar; default: when stderr is a terminal.
    force : bool
        ``--force``: write into a folder hypnic did not write
        (:func:`recordings.outputs.staged_output`).

    Returns
    -------
    hypnic.pipeline.Analysis
        With ``out_dir`` set.

    Raises
    ------
    InputError
        Bad input or option (one line naming the file), before anything is written.
    """
    onset = options.sleep_onset_s
    if onset is not None and not onset >= 0:
        raise InputError("--sleep-onset", f"must be a time in seconds ≥ 0, got {onset}")
    original = open_input(path)
    # Before the replay, which may take a night.
    check_output_folder(out, force=force, names=output_files(report))
    fs = original.info.fs
    n = frame_samples(fs, frame_s)
    stream: SampleStream = frames(original, n)
    if speed is not None:
        stream = paced(stream, speed)
        total = expected_duration_s(original)
        length = f"{total / 3600:.1f} h" if total else "the recording"
        print(f"{path}: replaying {length} at {speed:g}x real time (Ctrl-C stops it)",
              file=sys.stderr)
    enabled = sys.stderr.isatty() if progress is None else progress
    with tqdm(
        total=expected_duration_s(original), desc=printable(Path(path).name), unit="s", unit_scale=True,
        leave=False, disable=not enabled, file=sys.stderr,
    ) as bar:
        say = echo or (lambda line: bar.write(line, file=sys.stdout))
        if show_bursts:
            info = original.info
            watch = BurstWatch(
                fs,
                lambda row: say(format_burst(row, info.start_utc, info.utc_offset_s)),
                source=info.source,
            )
            stream = tapped(stream, watch)

        def tick(t: float) -> None:
            bar.update(t - bar.n)

        analysis = analyze_stream(stream, options, on_chunk=tick)
    analysis.summary.replay = {
        "pacing": "fast" if speed is None else ("realtime" if speed == 1 else f"x{speed:g}"),
        "frame_samples": n,
        "frame_s": n / fs,
    }
    write_outputs(analysis, out, report=report, force=force)
    return analysis

