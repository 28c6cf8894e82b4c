"""A sensor session against the simulated sensor: set-up order, queue, reconnects, STOP.

The session is the real one (``firmware_bridge.session``) on the real ``BleakClient`` with
the simulated backend; the simulated sensor's log says what reached the "device".
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import timedelta

import numpy as np
import pytest

from hypnic.firmware_bridge.clock import VirtualClock
from hypnic.firmware_bridge.codecs.polar_pmd import CONTROL_POINT_UUID, DATA_UUID
from hypnic.firmware_bridge.codecs.polar_pmd_control import get_settings_request, stop_request
from hypnic.firmware_bridge.session import SensorSession
from hypnic.firmware_bridge.sim_device import (
    CONNECT_FAIL_S,
    CONNECT_S,
    Fault,
    FaultPlan,
    SimWorld,
)
from hypnic.firmware_bridge.spec import build_session, parse_sensor
from hypnic.firmware_bridge.transport import SensorRefused
from hypnic.record import night_start_utc, synthetic_night


async def open_sim(options: str = "", faults: FaultPlan | None = None, queue: int = 1024):
    """A session on a fresh simulated sensor (faults replace the spec's)."""
    spec = parse_sensor(f"sim:seed=3,hours=0.5{',' + options if options else ''}")
    clock = VirtualClock(night_start_utc(3))
    world = SimWorld(clock, synthetic_night)
    if faults is not None:
        add = world.add

        def add_with_faults(config, fs=None):
            from dataclasses import replace

            return add(replace(config, faults=faults), fs)

        world.add = add_with_faults
    session = await build_session(spec, label="wrist", clock=clock, world=world, queue_size=queue)
    device = next(iter(world.devices.values()))
    return clock, device, session


async def stream(clock, session: SensorSession, seconds: float, sink=None):
    """Run the session for ``seconds`` of clock time; the batches it handed on."""
    batches = []
    stop = asyncio.Event()

    async def stopper():
        await clock.sleep(seconds)
        stop.set()

    timer = asyncio.ensure_future(stopper())
    reason = await session.run(sink or batches.append, stop)
    timer.cancel()
    return reason, batches


def samples(batches):
    return np.concatenate([b.t for b in batches if len(b.t)])


def test_notifications_are_enabled_before_any_command_and_the_callback_is_sync():
    async def main():
        clock, device, session = await open_sim("model=h10")
        await session.open()
        await session.start()
        await stream(clock, session, 5.0)
        return device, session

    device, session = asyncio.run(main())
    first_write = device.log.writes[0]
    cp_on = [t for t, uuid in device.log.subscriptions if uuid == CONTROL_POINT_UUID]
    data_on = [t for t, uuid in device.log.subscriptions if uuid == DATA_UUID]
    assert cp_on and data_on and first_write == (CONTROL_POINT_UUID, get_settings_request())
    # bleak runs a coroutine callback as one task per notification: ours must be plain.
    assert not inspect.iscoroutinefunction(session._on_notify)
    assert device.log.writes[-1] == (CONTROL_POINT_UUID, stop_request())  # STOP at the end


def test_stop_is_sent_and_the_link_closed_when_the_sink_fails():
    async def main():
        clock, device, session = await open_sim("model=h10")
        await session.open()
        await session.start()

        def sink(batch):
            if batch.t.size and batch.t[-1] > 3.0:
                raise OSError(28, "No space left on device")

        with pytest.raises(OSError, match="No space"):
            await stream(clock, session, 60.0, sink)
        return device, session

    device, session = asyncio.run(main())
    assert device.log.writes[-1] == (CONTROL_POINT_UUID, stop_request())
    assert not device.connected and session.stats.state == "stopped"


def test_stop_is_sent_when_the_recording_is_cancelled():
    async def main():
        clock, device, session = await open_sim("model=h10")
        await session.open()
        await session.start()
        task = asyncio.ensure_future(stream(clock, session, 600.0))
        await clock.sleep(5.0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return device

    device = asyncio.run(main())
    assert device.log.writes[-1] == (CONTROL_POINT_UUID, stop_request())
    assert not device.connected


def test_rates_not_offered_and_refused_starts_are_one_line_errors():
    async def main():
        _, _, session = await open_sim("model=verity,fs=50")
        with pytest.raises(
            SensorRefused, match=r"offers sample rates 26, 52, 104, 208, 416 Hz, not 50 Hz"
        ):
            await session.open()
        await session.close()
        _, device, session = await open_sim("refuse=DEVICE_IN_CHARGER")
        await session.open()
        with pytest.raises(SensorRefused, match="DEVICE_IN_CHARGER: the device is in its charger"):
            await session.start()
        await session.close()
        return device

    asyncio.run(main())


def test_reconnect_backs_off_reenables_notifications_rereads_settings_and_restarts():
    outage = 15.0
    plan = FaultPlan([Fault(30.0, "link_loss", outage)])

    async def main():
        clock, device, session = await open_sim("model=h10", faults=plan)
        await session.open()
        await session.start()
        reason, batches = await stream(clock, session, 90.0)
        return device, session, reason, batches

    device, session, reason, batches = asyncio.run(main())
    assert reason == "stopped" and session.stats.reconnects == 1
    lost_at = next(f for f in device.log.faults if f["kind"] == "link_loss")["span"][1] / 50.0
    attempts = [round(t - lost_at, 6) for t, _ in device.log.connects[1:]]
    # Waits of 0.5, 1, 2, 4, 8 s, each attempt costing the link set-up (and failing ones the
    # time-out) until the device is back after 15 s.
    expected, t = [], 0.0
    for wait in (0.5, 1.0, 2.0, 4.0, 8.0):
        t += wait + CONNECT_S
        ok = t >= outage
        if not ok:
            t += CONNECT_FAIL_S
        expected.append(round(t, 6))
        if ok:
            break
    assert attempts == pytest.approx(expected)
    assert [ok for _, ok in device.log.connects] == [True, False, False, False, False, True]
    back = device.log.connects[-1][0]
    resubscribed = {uuid for t, uuid in device.log.subscriptions if t >= back}
    assert resubscribed == {CONTROL_POINT_UUID, DATA_UUID}
    after = [w for _, w in device.log.writes[2:]]  # after the first GET settings and START
    assert after[0] == get_settings_request() and after[1][0] == 0x02  # re-read, restart
    t = samples(batches)
    gaps = [g for b in batches for g in b.gaps]
    assert len(gaps) == 1 and gaps[0][0] == pytest.approx(
        lost_at - device.log.delivered[0][0] / 50.0 - 35 / 50, abs=0.03
    )
    assert np.all(np.diff(t) > 0)
    kinds = [n["kind"] for b in batches for n in b.notes]
    assert kinds.count("link_lost") == 1 and kinds.count("reconnected") == 1


def test_queue_overflow_is_counted_and_exactly_the_dropped_frames_become_a_gap():
    """A host stack that holds 10 notifications back and lets them go in one burst into a
    queue of 4: six are dropped, the gap is exactly theirs."""
    plan = FaultPlan([Fault(40.0, "stall", 10)])

    async def main():
        clock, device, session = await open_sim("model=h10", faults=plan, queue=4)
        await session.open()
        await session.start()
        _, batches = await stream(clock, session, 90.0)
        return device, session, batches

    device, session, batches = asyncio.run(main())
    assert session.stats.drops == 6
    gaps = [g for b in batches for g in b.gaps]
    first = device.log.delivered[0][0]
    stall = next(f for f in device.log.faults if f["kind"] == "stall")["span"][0]
    dropped_first = stall + 4 * 36  # the first four held frames got into the queue
    assert gaps == [
        ((dropped_first - first) / 50.0, (dropped_first + 6 * 36 - first) / 50.0, 6 * 36)
    ]
    notes = [n for b in batches for n in b.notes if n["kind"] == "queue_overflow"]
    assert [n["notifications"] for n in notes] == [6]


def test_device_initiated_stop_is_answered_by_a_restart():
    plan = FaultPlan([Fault(20.0, "device_stop")])

    async def main():
        clock, device, session = await open_sim("model=verity", faults=plan)
        await session.open()
        await session.start()
        reason, batches = await stream(clock, session, 60.0)
        return device, reason, batches

    device, reason, batches = asyncio.run(main())
    kinds = [n["kind"] for b in batches for n in b.notes]
    assert reason == "stopped" and "device_stopped_stream" in kinds and "stream_restarted" in kinds
    starts = [w for _, w in device.log.writes if w[0] == 0x02]
    assert len(starts) == 2
    (gap,) = [g for b in batches for g in b.gaps]
    assert gap[2] == 70  # the frame not sent, less the sample re-taken by the new stream


def test_battery_is_read_again_during_the_night():
    async def main():
        clock, device, session = await open_sim("model=h10,battery=80,hours=1.1")
        session.battery_every_s = 600.0
        await session.open()
        first = session.stats.battery
        await session.start()
        await stream(clock, session, 3700.0)
        return first, session.stats.battery

    first, last = asyncio.run(main())
    assert (first, last) == (80, 78)  # 1 % per half hour of simulated night


def test_two_sessions_share_one_loop_and_one_clock():
    async def main():
        clock = VirtualClock(night_start_utc(4) + timedelta(seconds=100.0))
        world = SimWorld(clock, synthetic_night)
        sessions = [
            await build_session(
                parse_sensor(f"sim:seed=4,hours=0.2,start=100,model=h10,offset={offset}"),
                label=label,
                clock=clock,
                world=world,
                placement=label,
            )
            for label, offset in (("wrist", 0.0), ("ankle", 2.5))
        ]
        for s in sessions:
            await s.open()
        for s in sessions:
            await s.start()
        stop = asyncio.Event()
        out = {s.label: [] for s in sessions}

        async def stopper():
            await clock.sleep(30.0)
            stop.set()

        timer = asyncio.ensure_future(stopper())
        await asyncio.gather(*(s.run(out[s.label].append, stop) for s in sessions))
        timer.cancel()
        return out

    out = asyncio.run(main())
    starts = {
        label: next(b.start_utc for b in batches if b.start_utc) for label, batches in out.items()
    }
    # The ankle's device clock is 2.5 s off; aligned through the host clock it does not show.
    assert abs((starts["wrist"] - starts["ankle"]).total_seconds()) < 1 / 50.0 + 0.06
