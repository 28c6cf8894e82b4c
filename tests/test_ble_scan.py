"""``hypnic scan``, finding sensors by address or name, and Bluetooth errors in one line.

Without a radio the scanner runs on the simulated backend (``SimBleakScanner``), through
bleak's own ``BleakScanner`` API.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

import pytest
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

import hypnic.cli
from hypnic.firmware_bridge import scan as scan_module
from hypnic.firmware_bridge.clock import VirtualClock
from hypnic.firmware_bridge.codecs import metawear, polar_pmd
from hypnic.firmware_bridge.scan import classify, explain
from hypnic.firmware_bridge.sim_backend import SimBleakClient, SimBleakScanner
from hypnic.firmware_bridge.sim_device import SimConfig, SimWorld
from hypnic.firmware_bridge.spec import BleakConnector, build_session, parse_sensor
from hypnic.firmware_bridge.transport import BluetoothUnavailable, SensorNotFound, SensorRefused

ADAPTER = Path("/sys/class/bluetooth").exists()
SYSTEM_BUS = Path("/run/dbus/system_bus_socket").exists()


@pytest.fixture
def scan_cli(monkeypatch, capsys):
    monkeypatch.setattr(hypnic.cli, "COMMANDS", ("scan",))

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = hypnic.cli.main(["scan", *argv])
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return status, out, err

    return run


@pytest.mark.skipif(ADAPTER, reason="this machine has a Bluetooth adapter")
def test_scan_without_an_adapter_is_one_line_and_exit_2(scan_cli):
    status, out, err = scan_cli()
    assert status == 2 and out == ""
    assert err == (
        "hypnic: error: bluetooth: no Bluetooth adapter (/sys/class/bluetooth is absent: no "
        "radio, or its driver is not loaded)\n"
    )


@pytest.mark.skipif(SYSTEM_BUS, reason="this machine has a system D-Bus")
def test_scan_without_bluez_or_dbus_is_one_line_and_exit_2(scan_cli, monkeypatch):
    monkeypatch.setattr(scan_module, "check_adapter", lambda: None)  # as if an adapter existed
    status, out, err = scan_cli("--timeout", "0.5")
    assert status == 2
    assert err == (
        "hypnic: error: bluetooth: BlueZ / the system D-Bus is not available (no system bus "
        "socket); install and start bluez and dbus\n"
    )


def test_scan_lists_the_simulated_sensors_with_protocol_and_battery(scan_cli):
    status, out, _ = scan_cli("--sim")
    assert status == 0
    header, *rows = out.strip().splitlines()
    assert header.split() == ["ADDRESS", "PROTOCOL", "RSSI", "BATTERY", "NAME"]
    assert [r.split()[1] for r in rows] == ["polar", "polar", "metawear"]
    assert [r.split()[-2] + " " + r.split()[-1] for r in rows[:2]] == [
        "Sense 51000001",
        "H10 51000002",
    ]
    assert all(" - " in r for r in rows)  # battery unknown without connecting
    status, out, _ = scan_cli("--sim", "--battery")
    assert [r.split()[4] for r in out.strip().splitlines()[1:]] == ["90%", "83%", "76%"]


def test_scan_bad_timeout_is_one_line(scan_cli):
    status, _, err = scan_cli("--timeout", "0")
    assert status == 2 and err.startswith("hypnic: error: --timeout: must be a positive")


@pytest.mark.parametrize(
    ("name", "uuids", "protocol"),
    [
        ("Polar H10 8C4F2D21", ["0000180d-0000-1000-8000-00805f9b34fb"], "polar"),
        ("Polar Sense B5A3F72C", [], "polar"),
        ("", [polar_pmd.SERVICE_UUID.upper()], "polar"),
        ("MetaWear", [metawear.SERVICE_UUID], "metawear"),
        ("MetaMotion S", [], "metawear"),
        ("Movesense 174630000192", [], "movesense"),
        ("BBC micro:bit [tupov]", [], "microbit"),
        ("WT901BLE68", ["0000ffe5-0000-1000-8000-00805f9a34fb"], "witmotion"),
        ("Kitchen speaker", ["0000110b-0000-1000-8000-00805f9b34fb"], None),
        (None, None, None),
    ],
)
def test_protocol_from_advertisement(name, uuids, protocol):
    assert classify(name, uuids) == protocol


def test_bluetooth_errors_become_one_line_messages():
    assert isinstance(
        explain(FileNotFoundError(2, "No such file or directory")), BluetoothUnavailable
    )
    dbus = explain(BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]))
    assert isinstance(
        dbus, BluetoothUnavailable
    ) and "org.bluez.Error.NotReady: Resource Not Ready" in str(dbus)
    off = explain(
        BleakBluetoothNotAvailableError("off", BleakBluetoothNotAvailableReason.POWERED_OFF)
    )
    assert str(off) == "Bluetooth is not available (powered_off)"
    assert isinstance(explain(BleakDeviceNotFoundError("AA", "gone")), SensorNotFound)
    assert isinstance(explain(asyncio.TimeoutError()), SensorNotFound)
    assert isinstance(explain(BleakError("No Bluetooth adapters found.")), BluetoothUnavailable)
    assert str(explain(BleakError("le-connection-abort-by-local\n"))) == (
        "Bluetooth error: le-connection-abort-by-local"
    )
    assert explain(ValueError("not ours")) is None
    for exc in (FileNotFoundError(), BleakError("x"), asyncio.TimeoutError()):
        assert "\n" not in str(explain(exc))


def world_with_sensors() -> SimWorld:
    world = SimWorld(VirtualClock(datetime(2024, 1, 1, tzinfo=timezone.utc)))
    world.add(SimConfig(model="verity", hours=0.2))
    world.add(SimConfig(model="metawear", hours=0.2))
    return world


@pytest.mark.parametrize("target", ["5a:1d:00:00:00:02", "MetaWear 51000002", "51000002"])
def test_a_real_sensor_is_found_by_address_or_name_and_its_protocol_by_its_advertisement(target):
    async def main():
        world = world_with_sensors()
        kwargs = {
            "scanner_kwargs": {"backend": SimBleakScanner, "world": world},
            "client_kwargs": {"backend": SimBleakClient, "world": world},
        }
        session = await build_session(
            parse_sensor(target), label="ankle", clock=world.clock, timeout_s=1.0, **kwargs
        )
        settings = await session.open()
        await session.close()
        return session.driver.protocol, settings.fs, session.device_name

    assert asyncio.run(main()) == ("metawear", 50.0, "MetaWear 51000002")


def test_a_sensor_not_in_range_is_not_found():
    async def main():
        world = world_with_sensors()
        connector = BleakConnector(
            "Polar H10 00000000", timeout_s=0.2,
            scanner_kwargs={"backend": SimBleakScanner, "world": world},
        )  # fmt: skip
        with pytest.raises(SensorNotFound, match="not found within 0.2 s"):
            await connector.connect(lambda client: None)

    asyncio.run(main())


def test_a_device_that_is_no_sensor_is_refused():
    async def main():
        world = world_with_sensors()
        speaker = world.devices["5A:1D:00:00:00:01"]
        speaker.name = "Kitchen speaker"  # advertising an audio service, not the PMD one
        speaker._own_services = lambda: [("0000110b-0000-1000-8000-00805f9b34fb", [])]
        with pytest.raises(SensorRefused, match="is not a known sensor"):
            await build_session(
                parse_sensor("Kitchen speaker"), label="x", clock=world.clock, timeout_s=1.0,
                scanner_kwargs={"backend": SimBleakScanner, "world": world},
            )  # fmt: skip

    asyncio.run(main())
