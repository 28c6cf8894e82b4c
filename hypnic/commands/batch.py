"""``hypnic batch INPUT… --out DIR [--scheduler ADDRESS] [--workers N]``: a cohort on dask."""

from __future__ import annotations

import argparse

from hypnic.commands.detect import FORCE_HELP, analysis_options
from hypnic.detector.vocabulary import KNOWN_PLACEMENTS, RULES


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="analyse many recordings on dask.distributed (nights.csv, errors.csv)",
        description="Analyse every INPUT as 'hypnic detect' does, in parallel on dask.distributed "
        "(a local cluster of worker processes, or an existing scheduler), into DIR/<name>/. "
        "DIR/nights.csv gets one row per night, DIR/errors.csv one line per file that failed; "
        "a failed file never stops the batch, and a rerun skips the files already done.",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="CSV, device file or recording")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the outputs and tables")
    p.add_argument(
        "--scheduler", metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://10.0.0.5:8786 (default: start a "
        "local cluster)",
    )
    p.add_argument(
        "--workers", type=int, metavar="N",
        help="worker processes of the local cluster (default: the number of CPU cores)",
    )
    p.add_argument(
        "--placement", choices=KNOWN_PLACEMENTS,
        help="where the sensors were worn (default: each file's metadata, else unknown)",
    )
    p.add_argument("--rules", choices=RULES, default=RULES[0], help="PLM scoring rules")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)
    p.add_argument(
        "--retry-failed", action="store_true",
        help="try again the files an earlier run rejected, even if they have not changed",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from hypnic.extras import require

    require("cohort", "batch")
    import os
    import sys

    from hypnic.batch import run_batch
    from hypnic.recordings.errors import InputError

    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers < 1:
        raise InputError("--workers", f"must be at least 1, got {workers}")
    if args.scheduler is not None and args.workers is not None:
        raise InputError("--workers", "sets the local cluster's size: not with --scheduler")
    res = run_batch(
        args.inputs, args.out, analysis_options(args), scheduler=args.scheduler, workers=workers,
        retry_failed=args.retry_failed,
        force=args.force,
    )
    print(
        f"hypnic batch: {len(res.ran)} file(s) analysed now, {len(res.skipped)} skipped (done "
        f"before), {len(res.errors)} failed; {res.nights} night(s) in nights.csv",
        file=sys.stderr,
    )
    print(os.path.join(args.out, "nights.csv"))
    print(os.path.join(args.out, "errors.csv"))
    return 0
