"""``--sensor`` specifications, and the sessions (connector + driver) they open.

A specification is ``KIND[:TARGET][,key=value...]``:

- ``sim``, ``sim:seed=3,fs=50`` -- a simulated sensor (never touches the scanner or D-Bus);
- ``polar:AA:BB:CC:DD:EE:FF``, ``polar:Polar Sense B5A3F72C``, ``metawear:ADDR,chip=bmi270``
  -- a real sensor by address or advertised name (a name may be just its serial tail);
- ``AA:BB:CC:DD:EE:FF`` or a name without a kind -- the protocol is taken from the scan.

Options for every kind: ``fs`` (Hz) and ``range`` (g) to ask for, ``placement`` (wrist,
ankle, left_ankle, right_ankle), ``label`` (the name in messages and of the sensor's folder
when recording two). MetaWear: ``chip`` (bmi160, bmi270). Simulated sensor: ``seed``,
``hours``, ``start`` (night second at switch-on), ``model`` (auto, verity, h10, metawear),
``faults`` (that many random faults), ``offset`` (device clock error, s), ``refuse`` (a PMD
status every START is answered with, e.g. ``DEVICE_IN_CHARGER``), ``battery`` (%).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from hypnic.detector.vocabulary import KNOWN_PLACEMENTS
from hypnic.firmware_bridge.clock import Clock
from hypnic.firmware_bridge.scan import RECORDABLE, classify, one_line_errors
from hypnic.firmware_bridge.session import QUEUE_SIZE, SensorSession
from hypnic.firmware_bridge.sim_backend import SimBleakClient
from hypnic.firmware_bridge.sim_device import FaultPlan, SimConfig, SimWorld
from hypnic.firmware_bridge.transport import DRIVERS, SensorNotFound, SensorRefused

KINDS = ("sim", "polar", "metawear")
_COMMON = {"fs", "range", "placement", "label"}
_OPTIONS = {
    "sim": _COMMON | {"seed", "hours", "start", "model", "faults", "offset", "refuse", "battery"},
    "polar": _COMMON,
    "metawear": _COMMON | {"chip"},
    "auto": _COMMON | {"chip"},
}
_ADDRESS = re.compile(
    r"^(?:[0-9a-f]{2}:){5}[0-9a-f]{2}$|^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$", re.I
)
_LABEL = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


@dataclass(frozen=True)
class SensorSpec:
    """One parsed ``--sensor`` value."""

    text: str
    kind: str  # "sim", "polar", "metawear" or "auto"
    target: str | None
    options: dict[str, str]

    def number(self, key: str, *, integer: bool = False, positive: bool = False) -> float | None:
        """A numeric option, or None when not given.

        Raises
        ------
        ValueError
            Not a (finite, positive where required) number.
        """
        raw = self.options.get(key)
        if raw is None:
            return None
        try:
            value = int(raw) if integer else float(raw)
        except ValueError:
            raise ValueError(
                f"{key}={raw} is not {'an integer' if integer else 'a number'}"
            ) from None
        if not math.isfinite(value) or (positive and value <= 0) or value < 0:
            raise ValueError(f"{key}={raw} must be {'positive' if positive else '>= 0'}")
        return value

    @property
    def placement(self) -> str | None:
        return self.options.get("placement")

    @property
    def is_address(self) -> bool:
        return bool(self.target and _ADDRESS.match(self.target))


def parse_sensor(text: str) -> SensorSpec:
    """Parse a ``--sensor`` value (see the module docstring).

    Raises
    ------
    ValueError
        With a one-line reason.
    """
    text = text.strip()
    head, sep, rest = text.partition(":")
    if head.lower() in KINDS:
        kind = head.lower()
    elif not sep and text.lower() in KINDS:
        kind, rest = text.lower(), ""
    else:
        kind, rest = "auto", text
    target = None
    options: dict[str, str] = {}
    for item in (p.strip() for p in rest.split(",")) if rest else ():
        if not item:
            continue
        key, eq, value = item.partition("=")
        if eq:
            key = key.strip().lower()
            if key not in _OPTIONS[kind]:
                known = ", ".join(sorted(_OPTIONS[kind]))
                raise ValueError(f"unknown option {key!r} for {kind} (known: {known})")
            options[key] = value.strip()
        elif target is None:
            target = item
        else:
            raise ValueError(f"two sensors named in one --sensor ({target!r} and {item!r})")
    if kind == "sim" and target is not None:
        raise ValueError(f"sim takes options (key=value), not {target!r}")
    if kind != "sim" and not target:
        raise ValueError(
            f"{kind}: give the sensor's address or name, e.g. {kind}:AA:BB:CC:DD:EE:FF"
        )
    spec = SensorSpec(text, kind, target, options)
    if spec.placement is not None and spec.placement not in KNOWN_PLACEMENTS:
        raise ValueError(
            f"placement={spec.placement} is not one of {', '.join(KNOWN_PLACEMENTS)}"
        )
    if "label" in options and not _LABEL.match(options["label"]):
        raise ValueError(f"label={options['label']} must be 1-40 letters, digits, '_', '-' or '.'")
    for key in ("fs", "range"):
        spec.number(key, positive=True)
    return spec


def sim_config(spec: SensorSpec, placement: str) -> SimConfig:
    """The simulated sensor a ``sim`` spec describes (worn at ``placement``).

    Raises
    ------
    ValueError
        A bad option value.
    """
    seed = spec.number("seed", integer=True)
    hours = spec.number("hours", positive=True)
    start = spec.number("start") or 0.0
    count = spec.number("faults", integer=True) or 0
    battery = spec.number("battery", integer=True)
    offset_raw = spec.options.get("offset", "0")
    try:
        offset = float(offset_raw)
    except ValueError:
        raise ValueError(f"offset={offset_raw} is not a number") from None
    hours = 8.0 if hours is None else hours
    if start >= hours * 3600.0:
        raise ValueError(f"start={start:g} s is past the end of the {hours:g}-hour night")
    seed = 1 if seed is None else int(seed)
    refuse = spec.options.get("refuse")
    return SimConfig(
        seed=seed,
        hours=hours,
        start_s=start,
        placement=placement,
        model=spec.options.get("model", "auto").lower(),
        clock_offset_s=offset if math.isfinite(offset) else 0.0,
        faults=FaultPlan.random(seed, int(count), start + 10.0) if count else FaultPlan(),
        refuse=refuse.upper() if refuse else None,
        battery_pct=min(100, int(battery)) if battery is not None else 90,
    )


class SimConnector:
    """Connects to a simulated sensor through the simulated bleak backend."""

    def __init__(self, world: SimWorld, address: str) -> None:
        self.world = world
        self.address = address
        self.description = f"simulated sensor {address}"

    async def connect(self, disconnected: Callable[[BleakClient], None]) -> BleakClient:
        client = BleakClient(
            self.address, disconnected, backend=SimBleakClient, world=self.world, timeout=10.0
        )
        with one_line_errors():
            await client.connect()
        return client


class BleakConnector:
    """Finds a real sensor by address or name (rescanning before every connection, as
    reconnecting after a long outage needs, BLE.md §5) and connects to it.

    Parameters
    ----------
    target : str
        Address, or advertised name (or its last word, the serial).
    timeout_s : float
        Scan and connection time-out.
    scanner_kwargs, client_kwargs : dict, optional
        Passed to ``BleakScanner`` / ``BleakClient``.
    """

    def __init__(
        self,
        target: str,
        *,
        timeout_s: float = 20.0,
        scanner_kwargs: dict[str, Any] | None = None,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.target = target
        self.timeout_s = timeout_s
        self.description = target
        self._scanner_kwargs = scanner_kwargs or {}
        self._client_kwargs = client_kwargs or {}
        self.advertisement: AdvertisementData | None = None

    def _matches(self, device: BLEDevice, adv: AdvertisementData) -> bool:
        if _ADDRESS.match(self.target):
            return device.address.lower() == self.target.lower()
        name = (adv.local_name or device.name or "").lower()
        wanted = self.target.lower()
        return bool(name) and (name == wanted or name.endswith(" " + wanted))

    async def find(self) -> BLEDevice:
        """Scan until the sensor is heard (keeps its advertisement for the protocol)."""

        def match(device: BLEDevice, adv: AdvertisementData) -> bool:
            if self._matches(device, adv):
                self.advertisement = adv
                return True
            return False

        with one_line_errors():
            device = await BleakScanner.find_device_by_filter(
                match, timeout=self.timeout_s, **self._scanner_kwargs
            )
        if device is None:
            raise SensorNotFound(
                f"not found within {self.timeout_s:g} s (is it switched on, in range, and "
                "not connected to a phone?)"
            )
        return device

    async def connect(self, disconnected: Callable[[BleakClient], None]) -> BleakClient:
        device = await self.find()
        client = BleakClient(device, disconnected, timeout=self.timeout_s, **self._client_kwargs)
        with one_line_errors():
            await client.connect()
        return client


async def build_session(
    spec: SensorSpec,
    *,
    label: str,
    clock: Clock,
    world: SimWorld | None = None,
    placement: str = "wrist",
    queue_size: int = QUEUE_SIZE,
    timeout_s: float = 20.0,
    scanner_kwargs: dict[str, Any] | None = None,
    client_kwargs: dict[str, Any] | None = None,
) -> SensorSession:
    """A session for ``spec``: the simulated sensor is switched on in ``world``; a real
    sensor of unknown protocol is scanned for first.

    Raises
    ------
    ValueError
        A bad option value (the caller names the ``--sensor``).
    SensorError
        Not found, Bluetooth unavailable, not a sensor ``record`` can stream.
    """
    fs = spec.number("fs", positive=True)
    range_g = spec.number("range", positive=True)
    connector: SimConnector | BleakConnector
    if spec.kind == "sim":
        if world is None:
            raise ValueError("a simulated sensor needs a simulated world")
        device = world.add(sim_config(spec, placement), fs=fs)
        connector = SimConnector(world, device.address)
        protocol = device.model.protocol
    else:
        assert spec.target is not None
        connector = BleakConnector(
            spec.target, timeout_s=timeout_s, scanner_kwargs=scanner_kwargs,
            client_kwargs=client_kwargs,
        )  # fmt: skip
        protocol = spec.kind
        if protocol == "auto":
            device_found = await connector.find()
            adv = connector.advertisement
            protocol = classify(
                adv.local_name if adv else device_found.name, adv.service_uuids if adv else []
            )
            if protocol not in RECORDABLE:
                raise SensorRefused(
                    f"is {'a ' + protocol if protocol else 'not a known'} sensor; hypnic record "
                    f"streams {' and '.join(RECORDABLE)} sensors"
                )
    kwargs: dict[str, Any] = {"fs": fs, "range_g": range_g}
    if protocol == "metawear" and "chip" in spec.options:
        kwargs["chip"] = spec.options["chip"].lower()
    driver = DRIVERS[protocol](clock, **kwargs)
    session = SensorSession(label, connector, driver, clock, queue_size=queue_size)
    driver.on_device_stop = session.device_stopped
    return session
