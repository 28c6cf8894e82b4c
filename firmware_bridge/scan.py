"""Finding sensors: adapter checks, BLE errors in plain words, protocol by advertisement.

:func:`scan` lists the accelerometers in range with their protocol (from the advertised
service UUIDs, else the name) and, where it can be read, their battery. :func:`check_adapter`
and :func:`explain` turn the ways a Linux host can lack Bluetooth into one-line
:class:`~firmware_bridge.transport.SensorError` messages (BLE.md §4.1, §5): no adapter
(``/sys/class/bluetooth`` absent), no BlueZ or system D-Bus (bleak raises
``FileNotFoundError`` for the missing bus socket, or ``BleakDBusError``), Bluetooth off.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from hypnic.firmware_bridge.codecs import (
    metawear,
    microbit,
    movesense,
    polar_pmd,
    thingy52,
    witmotion,
)
from hypnic.firmware_bridge.transport import (
    BluetoothUnavailable,
    SensorError,
    SensorNotFound,
    read_battery,
)

#: Where Linux lists its Bluetooth adapters (one entry per hci device).
BLUETOOTH_SYSFS = Path("/sys/class/bluetooth")
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"

#: Protocol by advertised service UUID (BLE.md §1.2, §3).
SERVICE_PROTOCOLS = {
    polar_pmd.SERVICE_UUID: "polar",
    metawear.SERVICE_UUID: "metawear",
    movesense.SERVICE_UUID: "movesense",
    thingy52.MOTION_SERVICE_UUID: "thingy52",
    microbit.SERVICE_UUID: "microbit",
    witmotion.SERVICE_UUID: "witmotion",
}
#: Protocol by advertised name, for sensors that do not advertise their service (a Polar
#: H10 advertises heart rate only; names as the vendors' apps and docs show them).
NAME_PROTOCOLS = (
    ("Polar ", "polar"),
    ("MetaWear", "metawear"),
    ("MetaMotion", "metawear"),
    ("Movesense", "movesense"),
    ("Thingy", "thingy52"),
    ("BBC micro:bit", "microbit"),
    ("WT901", "witmotion"),
)
#: Protocols ``hypnic record`` can stream (transport drivers exist for these).
RECORDABLE = ("polar", "metawear")


@dataclass
class FoundSensor:
    """One sensor heard during a scan."""

    address: str
    name: str
    protocol: str | None
    rssi: int | None
    battery: int | None
    device: BLEDevice | None = None

    @property
    def recordable(self) -> bool:
        return self.protocol in RECORDABLE


def classify(name: str | None, service_uuids: list[str] | None) -> str | None:
    """The sensor protocol an advertisement announces, or None for anything else."""
    for uuid in service_uuids or ():
        protocol = SERVICE_PROTOCOLS.get(uuid.lower())
        if protocol:
            return protocol
    for prefix, protocol in NAME_PROTOCOLS:
        if name and name.startswith(prefix):
            return protocol
    return None


def check_adapter() -> None:
    """Raise :class:`BluetoothUnavailable` when a Linux host has no Bluetooth adapter.

    Other systems report a missing radio through bleak (:func:`explain`).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        adapters = [p.name for p in BLUETOOTH_SYSFS.iterdir()]
    except OSError:
        adapters = None
    if adapters is None:
        raise BluetoothUnavailable(
            f"no Bluetooth adapter ({BLUETOOTH_SYSFS} is absent: no radio, or its driver "
            "is not loaded)"
        )
    if not any(name.startswith("hci") for name in adapters):
        raise BluetoothUnavailable(f"no Bluetooth adapter ({BLUETOOTH_SYSFS} lists none)")


def explain(exc: BaseException) -> SensorError | None:
    """A one-line :class:`SensorError` for a bleak/OS error on the way to a sensor, else None."""
    if isinstance(exc, SensorError):
        return exc
    if isinstance(exc, BleakDBusError):
        return BluetoothUnavailable(
            f"BlueZ refused the request ({exc.dbus_error}"
            + (f": {exc.dbus_error_details}" if exc.dbus_error_details else "")
            + "); is bluetoothd running and the adapter powered on?"
        )
    if isinstance(exc, FileNotFoundError):
        return BluetoothUnavailable(
            "BlueZ / the system D-Bus is not available (no system bus socket); install and "
            "start bluez and dbus"
        )
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return BluetoothUnavailable(f"Bluetooth is not available ({exc.reason.name.lower()})")
    if isinstance(exc, BleakDeviceNotFoundError):
        return SensorNotFound(
            "sensor not found (is it switched on, in range, and not connected to a phone?)"
        )
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return SensorNotFound("sensor did not answer in time (out of range, or busy?)")
    if isinstance(exc, BleakError):
        text = " ".join(str(exc).split()) or type(exc).__name__
        if "adapter" in text.lower() and ("not found" in text.lower() or "no " in text.lower()):
            return BluetoothUnavailable(text)
        return SensorError(f"Bluetooth error: {text}")
    return None


@contextlib.contextmanager
def one_line_errors() -> Iterator[None]:
    """Re-raise what :func:`explain` knows as its one-line :class:`SensorError`."""
    try:
        yield
    except Exception as exc:  # every backend error the user can act on becomes one line
        explained = explain(exc)
        if explained is None or explained is exc:
            raise
        raise explained from None


def _battery_from_advert(adv: AdvertisementData) -> int | None:
    value = adv.service_data.get(BATTERY_SERVICE_UUID)
    return int(value[0]) if value and value[0] <= 100 else None


async def scan(
    timeout_s: float = 5.0,
    *,
    everything: bool = False,
    read_batteries: bool = False,
    scanner_kwargs: dict[str, Any] | None = None,
    client_kwargs: dict[str, Any] | None = None,
) -> list[FoundSensor]:
    """Listen for ``timeout_s`` and list the sensors heard (strongest signal first).

    Parameters
    ----------
    timeout_s : float
        How long to listen.
    everything : bool
        List every BLE device, not only known accelerometers.
    read_batteries : bool
        Connect to each recordable sensor to read its Battery Level (slower; the battery is
        otherwise shown only where the advertisement carries it).
    scanner_kwargs, client_kwargs : dict, optional
        Passed to ``BleakScanner`` / ``BleakClient`` (a ``backend=`` for the simulation).

    Raises
    ------
    SensorError
        Bluetooth unavailable (see :func:`explain`).
    """
    with one_line_errors():
        heard = await BleakScanner.discover(
            timeout=timeout_s, return_adv=True, **(scanner_kwargs or {})
        )
    found = []
    for device, adv in heard.values():
        name = adv.local_name or device.name or ""
        protocol = classify(name, adv.service_uuids)
        if protocol is None and not everything:
            continue
        found.append(
            FoundSensor(device.address, name, protocol, adv.rssi, _battery_from_advert(adv), device)
        )
    if read_batteries:
        for sensor in found:
            if sensor.recordable and sensor.battery is None and sensor.device is not None:
                sensor.battery = await _read_battery(sensor.device, client_kwargs or {})
    found.sort(key=lambda s: (-(s.rssi if s.rssi is not None else -999), s.address))
    return found


async def _read_battery(device: BLEDevice, client_kwargs: dict[str, Any]) -> int | None:
    try:
        async with BleakClient(device, timeout=10.0, **client_kwargs) as client:
            return await read_battery(client)
    except (BleakError, OSError, asyncio.TimeoutError):
        return None


def format_table(sensors: list[FoundSensor]) -> list[str]:
    """One line per sensor: address, protocol, RSSI, battery, name."""
    rows = [("ADDRESS", "PROTOCOL", "RSSI", "BATTERY", "NAME")]
    for s in sensors:
        protocol = s.protocol or "-"
        if s.protocol and not s.recordable:
            protocol += " (no recording yet)"
        rows.append(
            (
                s.address,
                protocol,
                "-" if s.rssi is None else f"{s.rssi} dBm",
                "-" if s.battery is None else f"{s.battery}%",
                s.name or "-",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ["  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4] for r in rows]
