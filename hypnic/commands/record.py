"""``hypnic record --sensor SPEC [--sensor SPEC] --out REC [--duration S]``: a night, live.

The options; the engine is the record use case, :mod:`hypnic.record`.
"""

from __future__ import annotations

import argparse

from hypnic.commands.detect import add_analysis_options, analysis_options
from hypnic.extras import require


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record a night from one or two BLE sensors (or the simulated one), live",
        description="Stream acceleration into the recording folder --out REC, printing bursts "
        "as they are found and a live status line; at the end (--duration, Ctrl-C or "
        "SIGTERM) write events.csv and summary.json into REC/analysis (two sensors: "
        "REC/<label> and REC/<label>/analysis). SPEC is sim[:key=value,...], "
        "polar:ADDRESS|NAME, metawear:ADDRESS|NAME, or an address or name alone; options: "
        "fs, range, placement, label (every sensor), chip (metawear), seed, hours, start, "
        "model, faults, offset, refuse, battery (sim). Keep the computer from suspending "
        "while it records.",
    )
    p.add_argument(
        "--sensor", action="append", required=True, metavar="SPEC",
        help="a sensor to record; give it twice for two sensors (e.g. wrist and ankle)",
    )  # fmt: skip
    add_analysis_options(p)
    for action in p._actions:  # the shared --out means the recording folder here
        if action.dest == "out":
            action.metavar = "REC"
            action.help = "recording folder to create (must not exist, or be empty)"
    p.add_argument(
        "--duration", type=float, metavar="S",
        help="stop after S seconds of recording (default: at Ctrl-C or SIGTERM; a simulated "
        "sensor: at the end of its night)",
    )  # fmt: skip
    p.add_argument(
        "--speed", metavar="X|max", default="max",
        help="simulated sensors: clock speed as a factor of real time, or 'max' for as fast "
        "as the host can (default max)",
    )  # fmt: skip
    p.add_argument(
        "--timeout", type=float, default=20.0, metavar="S",
        help="how long to look for a real sensor before giving up (default 20 s)",
    )  # fmt: skip
    p.add_argument(
        "--queue", type=int, default=1024, metavar="N",
        help="notifications held per sensor before new ones are dropped (default 1024)",
    )  # fmt: skip
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    require("ble", "record")  # before the use case, which imports bleak
    from hypnic.record import record_night

    return record_night(
        args.sensor,
        args.out,
        analysis_options(args),
        duration_s=args.duration,
        speed=args.speed,
        timeout_s=args.timeout,
        queue_size=args.queue,
        report=not args.no_report,
    )
