"""``hypnic export REC|DIR --edf FILE.edf``: EDF+ with the events as annotations."""

from __future__ import annotations

import argparse
import sys

from hypnic.commands.detect import analysis_options
from hypnic.detector.vocabulary import KNOWN_PLACEMENTS, RULES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a recording and its events as EDF+ (for EDFbrowser and PSG tools)",
        description="Write EDF+ with the three accelerometer axes in g and the events as "
        "annotations ('label' or 'plm SERIES'; gaps padded and annotated 'gap'), and "
        "FILE.events.csv beside it (onset,duration,description: EDFbrowser's ASCII/CSV "
        "import). REC is a recording folder (or any input detect takes); DIR an output "
        "folder of detect/replay, whose samples are found through summary.json's 'source'.",
    )
    p.add_argument("input", metavar="REC|DIR", help="recording, other input, or output folder")
    p.add_argument("--edf", required=True, metavar="FILE.edf", help="the EDF+ file to write")
    p.add_argument(
        "--events",
        default="auto",
        metavar="auto|analysis|live|FILE.csv",
        help="where the events come from: auto (DIR/events.csv; a recording's stored analysis, "
        "REC/analysis/events.csv, else a fresh analysis), analysis (analyse the samples now), "
        "live (a recording's events.jsonl: provisional bursts logged while recording) or an "
        "events.csv",
    )
    p.add_argument("--start", metavar="ISO8601", help="absolute start time of a CSV's t = 0")
    analysis = p.add_argument_group("analysis (when the events come from a fresh analysis)")
    analysis.add_argument(
        "--placement", choices=KNOWN_PLACEMENTS, help="where the sensor was worn"
    )
    analysis.add_argument("--rules", choices=RULES, default=RULES[0], help="PLM rules")
    analysis.add_argument(
        "--sleep-onset", type=float, metavar="SECONDS", help="use this sleep onset"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.export import export_edf

    result = export_edf(
        args.input,
        args.edf,
        events=args.events,
        start=args.start,
        options=analysis_options(args),
    )
    print(result.summary(), file=sys.stderr)
    print(result.edf_path)
    return 0
