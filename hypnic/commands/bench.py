"""``hypnic bench accuracy`` and ``hypnic bench [--json]``: accuracy and speed benchmarks."""

from __future__ import annotations

import argparse

CONDITIONS = ("base", "amp_x0.5", "amp_x2", "rotated", "robust")
#: Also available: every night at 300 µg/√Hz (issue 2's false-burst figure); wrist+ankle pairs
#: analysed together (two sensors, issue 3); a third generator parameter set (alt) and a fourth,
#: never used to choose anything (holdout); nights with 5-120 min removals of the sensor, its
#: thermometer handed to the detector (temperature), and the same for quiet sleepers on a coarse
#: 12-bit sensor with and without the thermometer (coarse, coarse_notemp).
EXTRA_CONDITIONS = (
    "noise300", "alt", "holdout", "pairs", "robust_pairs", "temperature", "coarse", "coarse_notemp"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="accuracy on synthetic nights, or speed of every stage",
        description="Without a suite: speed of every stage (samples/s, ratios). "
        "'accuracy': precision, recall and F1 per label over a grid of synthetic nights.",
    )
    p.add_argument("suite", nargs="?", choices=("accuracy", "speed"), default="speed")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--seeds", type=int, default=3, help="seeds per rate and placement (accuracy)")
    p.add_argument(
        "--conditions",
        default=",".join(CONDITIONS),
        help=f"comma-separated accuracy conditions (default: all of {', '.join(CONDITIONS)})",
    )
    p.add_argument("--hours", type=float, default=6.5, help="length of each synthetic night")
    p.add_argument("--smoke", action="store_true", help="three short nights (for tests)")
    p.add_argument(
        "--cache", metavar="DIR",
        help="keep each night's bursts in DIR; a rerun only re-scores them (accuracy, for "
        "classifier work: the key changes with the generator and burst-stage code)",
    )
    p.add_argument("--jobs", type=int, default=1, help="nights analysed in parallel (accuracy)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.suite == "accuracy":
        return _accuracy(args)
    from hypnic.benchmarks.speed import main as speed_main

    return speed_main(as_json=args.json)


def _accuracy(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from tqdm import tqdm

    from hypnic.benchmarks.accuracy import format_table, grid, run, smoke_grid
    from hypnic.recordings.errors import InputError

    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    bad = [c for c in conditions if c not in CONDITIONS + EXTRA_CONDITIONS]
    if bad:
        choices = ", ".join(CONDITIONS + EXTRA_CONDITIONS)
        raise InputError("--conditions", f"unknown condition {bad[0]!r}: choose from {choices}")
    if args.seeds < 1:
        raise InputError("--seeds", f"must be at least 1, got {args.seeds}")
    if not args.hours > 0:
        raise InputError("--hours", f"must be positive, got {args.hours}")
    if args.jobs < 1:
        raise InputError("--jobs", f"must be at least 1, got {args.jobs}")
    cache = Path(args.cache) if args.cache else None
    if cache is not None and cache.exists() and not cache.is_dir():
        raise InputError(args.cache, "is not a folder (--cache)")
    specs = smoke_grid() if args.smoke else grid(args.seeds, conditions, args.hours)
    with tqdm(total=len(specs), desc="nights", disable=not sys.stderr.isatty(), file=sys.stderr) as bar:
        rows = run(specs, progress=lambda spec: bar.update(1), cache=cache, jobs=args.jobs)
    if args.json:
        print(json.dumps(rows, indent=1, default=float))
    else:
        print(format_table(rows))
    return 0
