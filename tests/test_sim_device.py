"""The simulated sensor through bleak's own client API (custom backend, BLE.md §4.2).

Everything goes through ``BleakClient(address, backend=SimBleakClient, world=...)``: UUID
resolution, callback wrapping, control-point writes and notifications, on the real bytes.
The H10's settings block is the one observed on a real H10 (L0rek/polar_h10
``tests/test_utils.py``, MIT, via ``vectors/peer_python_polar_h10_L0rek.json``).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

import numpy as np
import pytest
from bleak import BleakClient
from bleak.exc import BleakDeviceNotFoundError

from hypnic.benchmarks.synth import simulate_night
from hypnic.firmware_bridge.clock import ScaledClock, VirtualClock, wait_for
from hypnic.firmware_bridge.codecs import metawear, polar_pmd
from hypnic.firmware_bridge.codecs.polar_pmd import CONTROL_POINT_UUID, DATA_UUID, AccFrameType
from hypnic.firmware_bridge.codecs.polar_pmd_control import (
    SettingType,
    Status,
    get_settings_request,
    parse_control_notification,
    parse_features,
    start_request,
    stop_request,
)
from hypnic.firmware_bridge.sim_backend import SimBleakClient
from hypnic.firmware_bridge.sim_device import (
    CONNECT_FAIL_S,
    CONNECT_S,
    Fault,
    FaultPlan,
    SimConfig,
    SimWorld,
)
from hypnic.record import night_start_utc, synthetic_night
from tests.shared import VECTORS

UTC0 = datetime(2024, 1, 15, 22, 0, tzinfo=timezone.utc)


def run(coro):
    return asyncio.run(coro)


class Recorder:
    """Collects notifications with the clock time they arrived."""

    def __init__(self, clock):
        self.clock = clock
        self.items: list[tuple[float, bytes]] = []

    def __call__(self, _char, data: bytearray) -> None:  # a sync callback, as the session's
        self.items.append((self.clock.now(), bytes(data)))


async def command(client, cp: Recorder, request: bytes):
    before = len(cp.items)
    await client.write_gatt_char(CONTROL_POINT_UUID, request, response=True)
    await asyncio.sleep(0)  # the answer follows the write's acknowledgement
    assert len(cp.items) == before + 1
    return parse_control_notification(cp.items[-1][1])


def test_h10_answers_like_the_real_one_and_streams_the_night_in_raw_frames():
    vector = json.loads((VECTORS / "peer_python_polar_h10_L0rek.json").read_text())

    async def main():
        clock = VirtualClock(UTC0)
        world = SimWorld(clock, synthetic_night)
        dev = world.add(SimConfig(seed=3, hours=0.2, model="h10"))
        cp, data = Recorder(clock), Recorder(clock)
        async with BleakClient(dev.address, backend=SimBleakClient, world=world) as client:
            assert client.name.startswith("Polar H10 ")
            await client.start_notify(CONTROL_POINT_UUID, cp)
            await client.start_notify(DATA_UUID, data)
            assert parse_features(await client.read_gatt_char(CONTROL_POINT_UUID)) == {2}
            settings = await command(client, cp, get_settings_request())
            assert settings.ok and settings.parameters.hex() == vector["pmd_settings_params"]["hex"]
            request = start_request(
                2, {SettingType.SAMPLE_RATE: 200, SettingType.RESOLUTION: 16, SettingType.RANGE: 8}
            )
            assert request.hex() == "020200 01c800 010110 00020108 00".replace(" ", "")
            started = await command(client, cp, request)
            assert started.ok and started.parameters == b""  # the H10 sends no FACTOR
            await clock.sleep(3.0)
            stopped = await command(client, cp, stop_request())
            assert stopped.ok
            n_frames = len(data.items)
            await clock.sleep(3.0)
            assert len(data.items) == n_frames  # STOP stops
        return data.items

    items = run(main())
    night = simulate_night(3, 200.0, 0.2, "wrist")
    first = None
    prev_ts = None
    for sent, frame in items:
        assert len(frame) == 226  # 10-byte header + 36 x int16 x,y,z (BLE.md §1.4)
        acc = polar_pmd.decode_acc(frame)
        assert acc.frame_type == AccFrameType.RAW_INT16 and len(acc) == 36
        ts = acc.frame_time_ns
        if prev_ts is not None:
            assert ts - prev_ts == pytest.approx(36 * 5e6, abs=1)  # 36 samples at 200 Hz
        prev_ts = ts
        index = round(sent * 200.0)  # the frame leaves when its last sample is taken
        first = index - 35 if first is None else first
        expected = np.rint(night.xyz[index - 35 : index + 1].astype(np.float64) * 1000) / 1000
        np.testing.assert_allclose(acc.g, expected, atol=1e-6)
    assert len(items) == pytest.approx(3.0 * 200 / 36, abs=1.5)
    # The device clock is the night's UTC time (ns since 2000).
    utc = night_start_utc(3).timestamp() + (first + 35) / 200.0
    assert items[0] and polar_pmd.decode_acc(items[0][1]).frame_time_ns == pytest.approx(
        utc * 1e9 - polar_pmd.POLAR_EPOCH_UNIX_NS, abs=1e3
    )


def test_verity_start_returns_a_factor_and_delta_frames_carry_the_night_exactly():
    async def main():
        clock = VirtualClock(UTC0)
        world = SimWorld(clock, synthetic_night)
        dev = world.add(SimConfig(seed=5, hours=0.2), fs=52.0)
        assert dev.model.key == "verity"
        cp, data = Recorder(clock), Recorder(clock)
        async with BleakClient(dev.address, backend=SimBleakClient, world=world) as client:
            await client.start_notify(CONTROL_POINT_UUID, cp)
            await client.start_notify(DATA_UUID, data)
            request = start_request(2, {SettingType.SAMPLE_RATE: 52, SettingType.RANGE: 8})
            started = await command(client, cp, request)
            factor = started.settings()[SettingType.FACTOR][0]
            await clock.sleep(10.0)
        return factor, data.items

    factor, items = run(main())
    assert factor == 8 / 32768  # counts x FACTOR = g over the int16 span
    night = simulate_night(5, 52.0, 0.2, "wrist")
    assert len(items) == 7  # 71-sample frames every 1.365 s
    for sent, frame in items:
        acc = polar_pmd.decode_acc(frame, factor=factor)
        assert acc.frame_type == AccFrameType.DELTA_G and len(acc) == 71
        last = round(sent * 52.0)
        np.testing.assert_array_equal(acc.g, night.xyz[last - 70 : last + 1])


def test_control_point_answers_only_once_its_notifications_are_enabled():
    """The Polar SDK enables both notifications before any command (BLE.md §1.2)."""

    async def main():
        clock = VirtualClock(UTC0)
        world = SimWorld(clock, synthetic_night)
        dev = world.add(SimConfig(model="h10"))
        data = Recorder(clock)
        async with BleakClient(dev.address, backend=SimBleakClient, world=world) as client:
            await client.start_notify(DATA_UUID, data)
            await client.write_gatt_char(CONTROL_POINT_UUID, get_settings_request(), response=True)
            await asyncio.sleep(0)
        return dev.log.writes

    writes = run(main())
    assert writes == [(CONTROL_POINT_UUID, bytes.fromhex("0102"))]


def test_refusal_and_night_over_are_sent_as_pmd_statuses():
    async def main():
        out = []
        for config in (
            SimConfig(model="h10", refuse="INVALID_RANGE"),
            SimConfig(model="h10", hours=0.002),  # 7.2 s of night
        ):
            clock = VirtualClock(UTC0)
            world = SimWorld(clock, synthetic_night)
            dev = world.add(config)
            cp = Recorder(clock)
            async with BleakClient(dev.address, backend=SimBleakClient, world=world) as client:
                await client.start_notify(CONTROL_POINT_UUID, cp)
                await client.start_notify(DATA_UUID, Recorder(clock))
                out.append(await command(client, cp, start_request(2, {0: 50, 2: 8})))
                await clock.sleep(10.0)
                out.append([parse_control_notification(d) for _, d in cp.items[1:]])
                out.append(await command(client, cp, start_request(2, {0: 50, 2: 8})))
        return out

    refused, nothing, _, started, stop_messages, restart = run(main())
    assert refused.status == Status.INVALID_RANGE and nothing == []
    assert started.ok
    assert [m.measurement_types for m in stop_messages] == [(2,)]  # ONLINE_MEASUREMENT_STOPPED
    assert restart.status == Status.DEVICE_IN_CHARGER


def test_metawear_streams_packed_samples_after_its_start_sequence():
    async def main():
        clock = VirtualClock(UTC0)
        world = SimWorld(clock, synthetic_night)
        dev = world.add(SimConfig(seed=2, hours=0.1, model="metawear"))
        data = Recorder(clock)
        async with BleakClient(dev.address, backend=SimBleakClient, world=world) as client:
            await client.start_notify(metawear.NOTIFY_UUID, data)
            for cmd in (
                metawear.config_command("bmi160", 50.0, 8),
                metawear.subscribe_command("bmi160", packed=True),
                metawear.sampling_command(True),
            ):
                await client.write_gatt_char(metawear.COMMAND_UUID, cmd, response=True)
                await clock.sleep(1.0)
                assert data.items == []  # nothing before the accelerometer is powered on
            await client.write_gatt_char(
                metawear.COMMAND_UUID, metawear.start_command(), response=True
            )
            await clock.sleep(2.0)
            await client.write_gatt_char(
                metawear.COMMAND_UUID, metawear.stop_command(), response=True
            )
            n = len(data.items)
            await clock.sleep(2.0)
            assert len(data.items) == n
        return data.items

    items = run(main())
    night = simulate_night(2, 50.0, 0.1, "wrist")
    assert len(items) == pytest.approx(2.0 * 50 / 3, abs=1)
    for sent, packet in items:
        acc = metawear.decode_acc(packet, range_g=8, chip="bmi160")
        last = round((sent) * 50.0)
        np.testing.assert_array_equal(acc.g, night.xyz[last - 2 : last + 1])


def test_link_loss_drops_the_link_and_the_device_stays_away_for_the_outage():
    async def main():
        clock = VirtualClock(UTC0)
        world = SimWorld(clock, synthetic_night)
        dev = world.add(SimConfig(model="h10", faults=FaultPlan([Fault(2.0, "link_loss", 5.0)])))
        lost = []
        client = BleakClient(
            dev.address, lambda c: lost.append(clock.now()), backend=SimBleakClient, world=world
        )
        await client.connect()
        cp = Recorder(clock)
        await client.start_notify(CONTROL_POINT_UUID, cp)
        await client.start_notify(DATA_UUID, Recorder(clock))
        await command(client, cp, start_request(2, {0: 50, 2: 8}))
        await clock.sleep(4.0)
        assert lost and not client.is_connected
        t_lost = lost[0]
        again = BleakClient(dev.address, backend=SimBleakClient, world=world)
        t_try = clock.now()
        with pytest.raises(BleakDeviceNotFoundError):
            await again.connect()
        assert clock.now() == pytest.approx(t_try + CONNECT_S + CONNECT_FAIL_S)
        await clock.sleep(t_lost + 5.0 - clock.now())
        await again.connect()
        await again.disconnect()
        return t_lost, dev.log.faults

    t_lost, faults = run(main())
    # Streaming began with sample 3 (0.05 s after switch-on): the first frame to end at or
    # after 2 s ends with sample 3 + 3 x 36 - 1 = 110, at 2.2 s.
    assert t_lost == pytest.approx(110 / 50)
    assert [f["kind"] for f in faults] == ["link_loss"]


def test_virtual_clock_wakes_in_time_order_after_ready_work():
    async def main():
        clock = VirtualClock(UTC0)
        order = []

        async def sleeper(name, dt):
            await clock.sleep(dt)
            order.append((name, clock.now()))

        async def busy():
            for _ in range(5):  # ready work runs before time moves on
                order.append(("busy", clock.now()))
                await asyncio.sleep(0)

        await asyncio.gather(sleeper("b", 2.0), sleeper("a", 1.0), busy(), sleeper("c", 2.0))
        with pytest.raises(TimeoutError):
            await wait_for(clock, asyncio.get_running_loop().create_future(), 30.0)
        return order, clock.now()

    order, end = run(main())
    assert order[:5] == [("busy", 0.0)] * 5
    assert order[5:] == [("a", 1.0), ("b", 2.0), ("c", 2.0)]
    assert end == 32.0  # a 30 s time-out costs no wall time


def test_scaled_clock_runs_at_its_speed():
    async def main():
        clock = ScaledClock(200.0, UTC0)
        t0 = clock.now()
        await clock.sleep(10.0)  # 50 ms of real time
        return clock.now() - t0

    # Never early beyond the loop clock resolution (1 ms x 200); how late depends on the load.
    assert run(main()) >= 10.0 - 0.2


def test_random_fault_plans_leave_room_for_reconnection():
    plan = FaultPlan.random(7, 200, 10.0, kinds=("link_loss", "drop", "stall"))
    assert plan == FaultPlan.random(7, 200, 10.0, kinds=("link_loss", "drop", "stall"))
    for a, b in zip(plan.faults, plan.faults[1:], strict=False):
        if a.kind == "link_loss":
            assert b.at_s - a.at_s >= 2 * a.value + 10.0
    with pytest.raises(ValueError, match="unknown fault"):
        FaultPlan([Fault(1.0, "meteor")])
