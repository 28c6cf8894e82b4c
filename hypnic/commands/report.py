"""``hypnic report DIR [--lang nl|en] [--lights-off HH:MM] [--out FILE.html]``: the night report."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write the HTML report of a night (English or Dutch)",
        description="Write a self-contained HTML report of one detect output folder: the night "
        "in numbers and plots, what they mean, signs worth discussing with a GP, and how they "
        "were found. Prints the path of the report.",
    )
    p.add_argument("dir", metavar="DIR", help="folder written by hypnic detect --out")
    p.add_argument("--lang", choices=("en", "nl"), default="en", help="language (default en)")
    p.add_argument(
        "--lights-off",
        metavar="HH:MM",
        help="when the lights went out (local time): the report adds the time to fall asleep",
    )
    p.add_argument("--out", metavar="FILE.html", help="where to write (default DIR/report.html)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.report.clock import parse_hhmm
    from hypnic.report.night import write_night_report

    if args.lights_off is not None:
        parse_hhmm(args.lights_off, "--lights-off")  # a bad option fails before any work
    print(write_night_report(args.dir, lang=args.lang, lights_off=args.lights_off, out=args.out))
    return 0
