"""Live latency of ``hypnic record``: notification arrival to printed burst.

Runs the real recording path (:class:`hypnic.record.LiveRecorder`: bleak client on
the simulated backend, queue, decoding, time stamps, writer, streaming detector, printer)
against the simulated sensor playing a stretch of a synthetic night, and reports

- **host latency**: from the moment the notification that closes a burst arrives (the
  synchronous bleak callback) to the moment the burst line is printed and flushed -- the
  software's own delay (target < 100 ms);
- **device frame delay**, separately: a sensor sends a frame only once its last sample is
  taken, so the first sample of a frame is ``samples per frame / rate`` old when it leaves
  the sensor (1.37 s for a Verity Sense's 71-sample frames at 52 Hz);
- **burst end to closing sample**: how long after a burst's end the sample came whose
  notification let the detector close it (its quiet time, and the rest of that frame).

``python -m hypnic.benchmarks.dev.latency [--speed X|max] [--duration S] [--model verity|h10|metawear]
[--json]``. With ``--speed max`` the night plays as fast as the host can; each notification is
still processed as soon as it arrives, so the host latency is measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from hypnic.firmware_bridge.clock import ScaledClock, VirtualClock
from hypnic.firmware_bridge.sim_device import MODELS, SimWorld
from hypnic.record import (
    BurstSeen,
    LivePrinter,
    LiveRecorder,
    night_start_utc,
    plan_recording,
    synthetic_night,
)


def measure_latency(
    *,
    seed: int = 3,
    start_s: float = 2400.0,
    duration_s: float = 600.0,
    speed: float = 20.0,
    model: str = "verity",
    fs: float | None = None,
) -> dict[str, Any]:
    """Record a stretch of night ``seed`` from the simulated sensor; latency figures.

    Parameters
    ----------
    seed, start_s, duration_s : night, where in it to start (s), how long to record (s).
    speed : float
        Clock speed (``math.inf`` = as fast as possible).
    model : str
        Simulated sensor model.
    fs : float, optional
        Sample rate to ask for (the model's default otherwise).

    Returns
    -------
    dict
        ``bursts``, ``host_latency_ms`` (median, p95, max), ``frame_delay_s``,
        ``samples_per_frame``, ``fs``, ``burst_end_to_closing_sample_s`` (median, p95,
        max; on the sensor's clock), ``speed``, ``model``.
    """
    seen: list[BurstSeen] = []
    options = f"seed={seed},start={start_s:g},model={model}" + (f",fs={fs:g}" if fs else "")
    with tempfile.TemporaryDirectory(prefix="hypnic-latency-") as tmp:
        plan = plan_recording(
            [f"sim:{options}"], Path(tmp) / "rec", duration_s=duration_s, report=False
        )
        utc0 = night_start_utc(seed) + timedelta(seconds=start_s)
        clock = VirtualClock(utc0) if math.isinf(speed) else ScaledClock(speed, utc0)
        printer = LivePrinter(io.StringIO(), io.StringIO(), tty=False, status_every_s=3600.0)
        world = SimWorld(clock, synthetic_night)
        recorder = LiveRecorder(plan, printer, clock=clock, world=world, on_burst=seen.append)
        (rec,) = asyncio.run(recorder.run())
        rate = rec.fs
    host_ms = np.array([(b.printed_perf - b.arrival_perf) * 1e3 for b in seen])
    end_to_close = np.array([b.closed_at_s - b.offset_s for b in seen])
    per_frame = MODELS[model].samples_per_frame
    return {
        "model": model,
        "fs": rate,
        "speed": "max" if math.isinf(speed) else speed,
        "seconds_recorded": duration_s,
        "bursts": len(seen),
        "host_latency_ms": _summary(host_ms),
        "samples_per_frame": per_frame,
        "frame_delay_s": round(per_frame / rate, 4),
        "burst_end_to_closing_sample_s": _summary(end_to_close),
    }


def _summary(values: np.ndarray) -> dict[str, float | None]:
    if not values.size:
        return {"median": None, "p95": None, "max": None}
    return {
        "median": round(float(np.median(values)), 4),
        "p95": round(float(np.percentile(values, 95)), 4),
        "max": round(float(values.max()), 4),
    }


def describe(result: dict[str, Any]) -> list[str]:
    """The figures as lines of text."""
    h, e = result["host_latency_ms"], result["burst_end_to_closing_sample_s"]
    speed = result["speed"]
    lines = [
        f"live latency, simulated {result['model']} at {result['fs']:g} Hz, "
        f"{result['seconds_recorded']:g} s of night at {speed}{'' if speed == 'max' else 'x'} "
        f"speed, {result['bursts']} bursts",
    ]
    if h["median"] is None:
        return lines + ["  no bursts: nothing to measure (record more of the night)"]
    lines += [
        f"  notification arrival -> printed burst: median {h['median']:.2f} ms, "
        f"p95 {h['p95']:.2f} ms, max {h['max']:.2f} ms (target < 100 ms)",
        f"  device frame delay: {result['samples_per_frame']} samples per frame = "
        f"{result['frame_delay_s']:.3f} s from a frame's first sample to its notification",
        f"  burst end -> last sample of the notification that closed it: median "
        f"{e['median']:.2f} s, p95 {e['p95']:.2f} s (detector quiet time + rest of the frame)",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures (or one JSON object with ``--json``)."""
    p = argparse.ArgumentParser(
        prog="python -m hypnic.benchmarks.dev.latency", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--speed", default="20", help="clock speed factor or 'max' (default 20)")
    p.add_argument("--duration", type=float, default=600.0, help="seconds of night (default 600)")
    p.add_argument("--start", type=float, default=2400.0, help="night second to start at")
    p.add_argument("--seed", type=int, default=3)
    p.add_argument("--model", default="verity", choices=("verity", "h10", "metawear"))
    p.add_argument("--fs", type=float, help="sample rate to ask for")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    speed = math.inf if args.speed == "max" else float(args.speed)
    result = measure_latency(
        seed=args.seed, start_s=args.start, duration_s=args.duration, speed=speed,
        model=args.model, fs=args.fs,
    )  # fmt: skip
    if args.json:
        print(json.dumps(result))
    else:
        print("\n".join(describe(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
