"""``hypnic repair REC``: make a recording whose writer was killed whole again."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "repair",
        help="make a recording whose writer was killed whole again",
        description="Fix the record count of REC/signal.edf from its size, drop a torn last "
        "record and torn last lines of events.jsonl and gaps.jsonl, and rebuild or update "
        "meta.json. Prints what it fixed on one line; running it twice changes nothing.",
    )
    p.add_argument("recording", metavar="REC", help="recording folder (holds signal.edf)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.recordings.recording import repair

    print(repair(args.recording).summary())
    return 0
