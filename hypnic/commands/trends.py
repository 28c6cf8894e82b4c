"""``hypnic trends DIR... [--diary FILE.csv] [--out FILE.html]``: many nights of one person."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "trends",
        help="compare many nights, optionally with a sleep diary",
        description="Write an HTML page over many detect output folders (nights of one person): "
        "nights over time and, with a diary (date,tags,lights_off,notes), sleep starts and the "
        "PLMS index per tag with their uncertainty. Prints the path of the page.",
    )
    p.add_argument("dirs", nargs="+", metavar="DIR", help="folders written by hypnic detect --out")
    p.add_argument("--diary", metavar="FILE.csv", help="diary CSV: date,tags,lights_off,notes")
    p.add_argument("--lang", choices=("en", "nl"), default="en", help="language (default en)")
    p.add_argument(
        "--out",
        metavar="FILE.html",
        default="trends.html",
        help="where to write (default trends.html)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.report.trends import write_trends_report

    print(write_trends_report(args.dirs, args.out, diary=args.diary, lang=args.lang))
    return 0
