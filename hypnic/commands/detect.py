"""``hypnic detect INPUT [INPUT2] --out DIR``: events.csv and summary.json for a night."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

# The vocabulary imports nothing the parser has not (typing): --help stays light.
from hypnic.detector.vocabulary import KNOWN_PLACEMENTS, RULES

if TYPE_CHECKING:
    from hypnic.detector.options import AnalysisOptions

FORCE_HELP = (
    "write into an existing folder that hypnic did not write (files of the same name are "
    "replaced, no other file is touched); without it such a folder is refused"
)


def add_analysis_options(p: argparse.ArgumentParser, *, force: bool = False) -> None:
    """Options shared by every command that ends in events and a summary (detect, replay, record).

    ``force`` adds ``--force`` (for commands whose ``--out`` may be an existing folder).
    """
    p.add_argument("--out", required=True, metavar="DIR", help="folder for events.csv, summary.json")
    if force:
        p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument(
        "--sleep-onset",
        type=float,
        metavar="SECONDS",
        help="use this sleep onset (seconds from the recording's start) instead of detecting it",
    )
    p.add_argument(
        "--placement",
        choices=KNOWN_PLACEMENTS,
        help="where the sensor was worn (default: the file's metadata, else unknown)",
    )
    p.add_argument("--rules", choices=RULES, default=RULES[0], help="PLM scoring rules")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")


def analysis_options(args: argparse.Namespace) -> AnalysisOptions:
    """The :class:`~detector.options.AnalysisOptions` of a command's parsed arguments:
    ``--placement`` and ``--rules``, and ``--sleep-onset`` and ``--placement-b`` where the
    command has them."""
    from hypnic.detector.options import AnalysisOptions  # numpy: not at --help

    return AnalysisOptions(
        sleep_onset_s=getattr(args, "sleep_onset", None),
        placement=args.placement,
        placement_b=getattr(args, "placement_b", None),
        rules=args.rules,
    )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "detect",
        help="find jerks, leg movements and turn-overs in a recording",
        description="Find hypnic jerks, leg movements and turn-overs in one night "
        "(or two sensors of one night) and write events.csv and summary.json.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="CSV, device file or recording")
    add_analysis_options(p, force=True)
    p.add_argument("--start", metavar="ISO8601", help="absolute start time of a CSV's first sample")
    p.add_argument(
        "--placement-b",
        choices=KNOWN_PLACEMENTS,
        help="with two inputs: where the second sensor was worn (--placement is the first's)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.detect import analyze_inputs

    result = analyze_inputs(
        args.inputs,
        analysis_options(args),
        out=args.out,
        start=args.start,
        report=not args.no_report,
        force=args.force,
    )
    print(result.out_dir)
    return 0
