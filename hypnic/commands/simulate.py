"""``hypnic simulate --seed N --fs HZ --hours H --out FILE.csv``: a night and its truth.

The CSV has the columns ``t,x,y,z`` and, unless ``--no-temperature``, ``temperature``: the
sensor's thermometer (degC), on every row the latest reading (one reading per block of samples).
"""

from __future__ import annotations

import argparse

from hypnic.detector.vocabulary import KNOWN_PLACEMENTS

# Limits that keep a night in memory (t float64 + xyz float32 = 20 bytes a sample, plus
# temporaries): 7 days at 100 Hz fit, a week at 1600 Hz does not.
MAX_SAMPLES = 200_000_000
FS_RANGE = (1.0, 3200.0)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "simulate",
        help="write a synthetic night (CSV) and its ground truth (FILE.truth.json)",
        description="Generate one synthetic night as one sensor records it, with every event "
        "the generator placed in FILE.truth.json. One seed is one night: the same seed at "
        "another placement is the second sensor of the same night.",
    )
    p.add_argument("--seed", type=int, required=True, metavar="N", help="night number (>= 0)")
    p.add_argument("--fs", type=float, required=True, metavar="HZ", help="sample rate in Hz")
    p.add_argument("--hours", type=float, required=True, metavar="H", help="length of the night")
    p.add_argument(
        "--placement",
        choices=KNOWN_PLACEMENTS,
        default="wrist",
        help="sensor position (default wrist; ankle is the right ankle)",
    )
    p.add_argument(
        "--out", required=True, metavar="FILE.csv", help="CSV to write (t,x,y,z,temperature)"
    )
    p.add_argument("--gaps", action="store_true", help="cut a few missing spans out of the data")
    p.add_argument(
        "--nonwear", action="store_true", help="leave the sensor on a nightstand for a while"
    )
    p.add_argument(
        "--noise",
        type=float,
        metavar="UG_PER_SQRT_HZ",
        help="sensor noise density in ug/sqrt(Hz) (default: drawn per seed, 90-300)",
    )
    p.add_argument(
        "--robust", action="store_true", help="use the second (robustness) parameter set"
    )
    p.add_argument(
        "--amplitude-scale",
        type=float,
        default=1.0,
        metavar="K",
        help="multiply every movement's amplitude by K (default 1)",
    )
    p.add_argument(
        "--rotate", action="store_true", help="mount the sensor at a random fixed rotation"
    )
    p.add_argument(
        "--removals",
        action="store_true",
        help="take the sensor off 1-3 times for 5-120 min where people do (before sleep, in an "
        "awakening, after waking); implies --nonwear",
    )
    p.add_argument(
        "--coarse",
        action="store_true",
        help="a quiet sleeper on a coarse 12-bit sensor (3.9 mg steps at +-8 g, 45-90 ug/sqrt(Hz))",
    )
    p.add_argument(
        "--no-temperature",
        dest="temperature",
        action="store_false",
        help="write only t,x,y,z (no temperature column)",
    )
    p.set_defaults(run=run)


def truth_path(out: str) -> str:
    """``night.csv`` -> ``night.truth.json`` (any other name gets ``.truth.json`` appended)."""
    return (out[:-4] if out.lower().endswith(".csv") else out) + ".truth.json"


def _check(args: argparse.Namespace) -> None:
    import math

    from hypnic.recordings.errors import InputError

    if args.seed < 0:
        raise InputError("--seed", f"must be >= 0, got {args.seed}")
    if not (math.isfinite(args.fs) and FS_RANGE[0] <= args.fs <= FS_RANGE[1]):
        raise InputError(
            "--fs", f"must be between {FS_RANGE[0]:g} and {FS_RANGE[1]:g} Hz, got {args.fs:g}"
        )
    if not (math.isfinite(args.hours) and args.hours > 0):
        raise InputError("--hours", f"must be a positive number, got {args.hours:g}")
    n = args.hours * 3600.0 * args.fs
    if n > MAX_SAMPLES:
        raise InputError(
            "--hours", f"{n:.3g} samples at {args.fs:g} Hz, at most {MAX_SAMPLES:.0e} fit in memory"
        )
    if args.noise is not None and not (math.isfinite(args.noise) and args.noise >= 0):
        raise InputError("--noise", f"must be >= 0 ug/sqrt(Hz), got {args.noise:g}")
    if not (math.isfinite(args.amplitude_scale) and args.amplitude_scale >= 0):
        raise InputError("--amplitude-scale", f"must be >= 0, got {args.amplitude_scale:g}")


def run(args: argparse.Namespace) -> int:
    _check(args)
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.benchmarks.synth_io import atomic_files, write_night_csv
    from hypnic.benchmarks.synth_params import (
        coarse_sensor,
        default_params,
        quiet_sleeper,
        robust_params,
        with_removals,
    )
    from hypnic.recordings.outputs import write_json

    params = robust_params() if args.robust else default_params()
    if args.coarse:
        params = quiet_sleeper(coarse_sensor(params))
    if args.removals:
        params = with_removals(params)
    csv_path, json_path = args.out, truth_path(args.out)
    with atomic_files([csv_path, json_path]) as tmp:  # fails before generating if unwritable
        night = simulate_night(
            args.seed,
            args.fs,
            args.hours,
            args.placement,
            params,
            noise_density=args.noise,
            amplitude_scale=args.amplitude_scale,
            rotation="random" if args.rotate else None,
            gaps=args.gaps,
            nonwear=args.nonwear or args.removals,
        )
        temperature = night.temperature if args.temperature else None
        write_night_csv(tmp[0], night.t, night.xyz, temperature)
        write_json(tmp[1], night.truth)
    print(csv_path)
    print(json_path)
    return 0
