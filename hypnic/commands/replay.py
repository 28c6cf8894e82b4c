"""``hypnic replay REC --out DIR [--fast|--realtime]``: a recording through the live path."""

from __future__ import annotations

import argparse

from hypnic.commands.detect import add_analysis_options, analysis_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="feed a recording through the live streaming path, as during the night",
        description="Feed a recording to the detector frame by frame (1 s frames), as a sensor "
        "would during the night, and write the same events.csv and summary.json as "
        "'hypnic detect'. --realtime paces the frames by the recording's clock and prints "
        "bursts as they are found; --fast (the default) goes as fast as the machine can.",
    )
    p.add_argument("recording", metavar="REC", help="recording folder (or any input detect takes)")
    add_analysis_options(p, force=True)
    pace = p.add_mutually_exclusive_group()
    pace.add_argument(
        "--fast", dest="realtime", action="store_false", help="no pacing (the default)"
    )
    pace.add_argument(
        "--realtime",
        action="store_true",
        help="pace by the recording's clock (a night takes a night) and print bursts as found",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="print provisional bursts as they are found"
    )
    p.set_defaults(run=run, realtime=False)


def run(args: argparse.Namespace) -> int:
    from hypnic.replay import replay_inputs

    analysis = replay_inputs(
        args.recording,
        analysis_options(args),
        out=args.out,
        report=not args.no_report,
        speed=1.0 if args.realtime else None,
        show_bursts=args.realtime or args.verbose,
        force=args.force,
    )
    print(analysis.out_dir)
    return 0
