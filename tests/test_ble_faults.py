"""Done-when of issue 4: under 100 injected link losses and drops, no sample is lost outside
the gaps the recording reports, and each reported gap matches an injected fault.

The whole live path runs: simulated sensor (real bytes, bleak backend) -> session (queue,
decoding, time stamps, reconnects) -> RecordingWriter + streaming detector; the recording is
then read back with ``open_recording``. The simulated sensor's log is the truth: which frames
(night sample spans) reached the client intact, and which faults it applied where.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from hypnic.firmware_bridge.clock import VirtualClock
from hypnic.firmware_bridge.sim_device import FaultPlan, SimWorld
from hypnic.firmware_bridge.spec import sim_config
from hypnic.record import (
    LivePrinter,
    LiveRecorder,
    night_start_utc,
    plan_recording,
    synthetic_night,
)
from hypnic.recordings.edf_writer import to_digital
from hypnic.recordings.recording import GAPS_FILE, open_recording

LOSSY = {"drop", "truncate", "link_loss", "device_stop"}  # faults whose samples never arrive
HARMLESS = {"duplicate", "clock_reset"}  # faults that must leave no gap


@pytest.fixture
def no_fsync(monkeypatch):
    """Durability is the writer's own test; here fsync would only cost minutes."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def record_sim(
    out, spec: str, faults: FaultPlan, *, queue: int = 1024, duration: float | None = None
):
    """Run ``hypnic record --sensor SPEC --out OUT --no-report --queue QUEUE [--duration D]`` on
    a simulated world whose sensor has ``faults``."""
    plan = plan_recording([spec], out, report=False, queue_size=queue, duration_s=duration)
    config = sim_config(plan.sensors[0].spec, plan.sensors[0].placement)
    clock = VirtualClock(night_start_utc(config.seed) + timedelta(seconds=config.start_s))
    world = SimWorld(clock, synthetic_night)
    add = world.add
    world.add = lambda cfg, fs=None: add(replace(cfg, faults=faults), fs)
    printer = LivePrinter(io.StringIO(), io.StringIO(), tty=False)
    recorder = LiveRecorder(plan, printer, clock=clock, world=world)
    (recording,) = asyncio.run(recorder.run())
    return recording, next(iter(world.devices.values()))


def runs(indices: np.ndarray) -> list[tuple[int, int]]:
    """Missing runs ``(first, last)`` between consecutive indices."""
    jumps = np.flatnonzero(np.diff(indices) > 1)
    return [(int(indices[j] + 1), int(indices[j + 1] - 1)) for j in jumps]


def check_recording_against_truth(folder, device, recording):
    stream = open_recording(folder)
    chunks = list(stream)
    t = np.concatenate([c.t for c in chunks])
    xyz = np.concatenate([c.xyz for c in chunks])
    fs = stream.info.fs
    delivered = device.log.delivered
    first = delivered[0][0]
    truth = np.concatenate([np.arange(a, b + 1) for a, b in delivered])
    got = np.rint(t * fs).astype(np.int64) + first

    # 1. Every sample the sensor delivered intact is in the recording at its true place,
    #    and nothing else is: no sample lost outside the reported gaps.
    np.testing.assert_array_equal(got, truth)
    rng = float(stream.info.meta["range_g"])  # the values too, up to the EDF's resolution
    np.testing.assert_array_equal(
        to_digital(xyz.astype(np.float64), -rng, rng)[0],
        to_digital(device.transmitted_g(truth).astype(np.float64), -rng, rng)[0],
    )

    # 2. The reported gaps are exactly the missing runs (EDF marker, gaps.jsonl, meta.json).
    missing = runs(truth)
    expected = [[(a - first) / fs, (b + 1 - first) / fs] for a, b in missing]
    np.testing.assert_allclose(
        np.array(stream.gaps).reshape(-1, 2), np.array(expected).reshape(-1, 2), atol=1e-9
    )
    logged = [json.loads(line) for line in (folder / GAPS_FILE).read_text().splitlines()]
    assert [g["n_missing"] for g in logged] == [b - a + 1 for a, b in missing]

    # 3. Each gap matches an injected fault, each lossy fault lies in a gap, and faults
    #    that lose nothing (duplicates, clock resets, held-back bursts) leave none.
    applied = [f for f in device.log.faults if not f.get("skipped")]
    for a, b in missing:
        causes = [
            f for f in applied if f["kind"] in LOSSY and a <= f["span"][1] and f["span"][0] <= b
        ]
        assert causes, f"gap {a}..{b} matches no injected fault"
    for f in applied:
        lo, hi = f["span"]
        if f["kind"] == "device_stop":
            hi -= 1  # the restarted stream takes the unsent frame's last sample again
        inside = any(a <= lo and hi <= b for a, b in missing)
        if f["kind"] in LOSSY:
            assert inside, f"{f['kind']} at {f['at_s']:.1f} s left no gap"
        else:
            assert not any(a <= hi and lo <= b for a, b in missing), f"{f['kind']} made a gap"
    return applied, missing


@pytest.mark.parametrize(
    ("spec", "kinds"),
    [
        (
            "sim:seed=11,hours=0.7,model=verity",
            ("drop", "duplicate", "truncate", "link_loss", "clock_reset", "device_stop", "stall"),
        ),
        (
            "sim:seed=12,hours=0.7,model=metawear,fs=12.5",
            ("drop", "duplicate", "truncate", "link_loss", "stall"),
        ),
    ],
    ids=["polar-verity", "metawear"],
)
def test_hundred_faults_lose_no_sample_outside_reported_gaps(tmp_path, no_fsync, spec, kinds):
    faults = FaultPlan.random(
        5, 100, 10.0, kinds=kinds, spacing_s=(4.0, 12.0), outage_s=(0.5, 12.0)
    )
    assert faults.faults[-1].at_s < 0.7 * 3600 - 60  # all within the night
    folder = tmp_path / "rec"
    recording, device = record_sim(folder, spec, faults)
    applied, missing = check_recording_against_truth(folder, device, recording)
    kinds_applied = {f["kind"] for f in applied}
    assert len(applied) == 100 and kinds_applied == set(kinds)
    assert sum(f["kind"] == "link_loss" for f in applied) >= 10
    stats = recording.session.stats
    assert stats.reconnects == sum(f["kind"] == "link_loss" for f in applied)
    assert stats.duplicates == sum(f["kind"] == "duplicate" for f in applied)
    assert stats.gaps == len(missing) and stats.drops == 0
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["state"] == "closed" and meta["n_samples"] == stats.samples


def test_queue_overflow_drops_are_gaps_at_the_dropped_frames(tmp_path, no_fsync):
    """Three bursts of 12 held-back notifications into a queue of 5: 7 dropped each time."""
    from hypnic.firmware_bridge.sim_device import Fault

    faults = FaultPlan([Fault(t, "stall", 12) for t in (60.0, 200.0, 400.0)])
    folder = tmp_path / "rec"
    recording, device = record_sim(folder, "sim:seed=2,hours=0.2,model=h10", faults, queue=5)
    stream = open_recording(folder)
    t = np.concatenate([c.t for c in stream])
    first = device.log.delivered[0][0]
    got = np.rint(t * 50.0).astype(np.int64) + first
    missing = runs(got)
    starts = [f["span"][0] + 5 * 36 for f in device.log.faults]  # 5 got in, 7 did not
    assert missing == [(s, s + 7 * 36 - 1) for s in starts]
    assert recording.session.stats.drops == 21
    notes = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    assert [n["notifications"] for n in notes if n["kind"] == "queue_overflow"] == [7, 7, 7]
