"""A simulated BLE accelerometer that speaks the real bytes: Polar PMD and MetaWear.

The device plays the night it is handed (a :class:`SimNight`, rendered at the rate the client
asks for; :mod:`hypnic.record` hands it a synthetic night of :mod:`hypnic.benchmarks`) through
its GATT characteristics exactly as the real sensor would:

- **Polar** (models ``verity`` and ``h10``): the control point answers feature reads,
  GET_MEASUREMENT_SETTINGS, START and STOP through the codecs' device-side server
  (:class:`~firmware_bridge.codecs.polar_pmd_control.PmdControlPointServer`); acceleration
  goes out as PMD frames stamped with the device clock (ns since 2000, the frame's last
  sample) -- delta-compressed type-0 frames of 71 samples for the Verity Sense (the count
  seen in polar-ble-sdk #317), raw int16 mG frames of 36 samples for the H10 (the 226-byte
  frame of BLE.md §1.4).
- **MetaWear** (model ``metawear``, BMI160): commands on the command characteristic, packed
  three-sample notifications without time stamps.
- Battery Level and Device Information characteristics for both.

A frame is sent when its last sample has been taken, on a :mod:`~firmware_bridge.clock`
shared with the client, so a night can be fast-forwarded. A :class:`FaultPlan` injects link
losses (with an outage during which the device cannot be reached), dropped, duplicated and
truncated notifications, device clock resets (the H10 falls back to 2019-01-01, BLE.md §1.7),
stalls (notifications held back and then delivered in one burst, as a busy host stack does)
and device-initiated stops. :class:`SimLog` records what was really delivered, so tests can
check every reported gap against the faults.

The GATT plumbing to bleak is :mod:`firmware_bridge.sim_backend`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from bleak.exc import BleakDeviceNotFoundError, BleakError

from hypnic.firmware_bridge.clock import Clock
from hypnic.firmware_bridge.codecs import metawear, polar_pmd
from hypnic.firmware_bridge.codecs.polar_pmd import (
    CONTROL_POINT_UUID,
    POLAR_EPOCH_UNIX_NS,
    AccFrameType,
    MeasurementType,
)
from hypnic.firmware_bridge.codecs.polar_pmd_control import (
    OpCode,
    PmdControlPointServer,
    SettingType,
    Status,
    build_response,
    parse_request,
)
from hypnic.firmware_bridge.transport import (
    BATTERY_LEVEL_UUID,
    DEVICE_INFO_UUIDS,
    PREFERRED_RATE_HZ,
    choose,
)

BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_SERVICE_UUID = "0000180a-0000-1000-8000-00805f9b34fb"
#: Where the H10's clock falls back to when left alone (TimeSystemExplained.md, BLE.md §1.7).
H10_DEFAULT_TIME_NS = 599_616_000_000_000_000
#: Time a connection takes to set up on the simulated link (clock seconds).
CONNECT_S = 0.05
#: Time a connection attempt to an unreachable device takes to fail (clock seconds).
CONNECT_FAIL_S = 1.0

FAULT_KINDS = (
    "drop", "duplicate", "truncate", "link_loss", "clock_reset", "stall", "device_stop",
)  # fmt: skip


@dataclass(frozen=True)
class SimModel:
    """One simulated product: what it offers and how it frames its samples."""

    key: str
    protocol: str  # "polar" or "metawear"
    name: str
    rates: tuple[float, ...]
    ranges: tuple[int, ...]
    samples_per_frame: int
    frame_type: int  # Polar AccFrameType; unused for MetaWear
    mtu: int
    manufacturer: str
    model_number: str


MODELS: dict[str, SimModel] = {
    # Verity Sense in SDK mode (BLE.md §1.4); MTU 512 so a 71-sample frame always fits.
    "verity": SimModel(
        "verity", "polar", "Polar Sense", (26.0, 52.0, 104.0, 208.0, 416.0), (2, 4, 8, 16),
        71, AccFrameType.DELTA_G, 512, "Polar Electro Oy", "Polar Sense",
    ),
    # H10: 25-200 Hz, ±2/4/8 g, raw int16 mG frames of 36 samples (226 bytes, MTU 232).
    "h10": SimModel(
        "h10", "polar", "Polar H10", (25.0, 50.0, 100.0, 200.0), (2, 4, 8),
        36, AccFrameType.RAW_INT16, 232, "Polar Electro Oy", "Polar H10",
    ),
    # MetaMotion R (BMI160): the codec's ODR table from 12.5 Hz, packed 3-sample packets.
    "metawear": SimModel(
        "metawear", "metawear", "MetaWear",
        tuple(r for r in sorted(metawear.ODR_CODE[metawear.Chip.BMI160]) if r >= 12.5),
        (2, 4, 8, 16), metawear.PACKED_SAMPLES, 0, 23, "MbientLab Inc", "5",
    ),
}  # fmt: skip


def pick_model(model: str, fs: float | None) -> SimModel:
    """The model asked for, or (``auto``) the first of Verity, H10, MetaWear that offers ``fs``.

    Raises
    ------
    ValueError
        Unknown model, or no model (or not the given one) offers ``fs``.
    """
    if model != "auto":
        if model not in MODELS:
            raise ValueError(f"unknown sim model {model!r} (auto, {', '.join(MODELS)})")
        return MODELS[model]
    if fs is None:
        return MODELS["verity"]
    for m in MODELS.values():
        if any(abs(r - fs) < 1e-9 for r in m.rates):
            return m
    offers = "; ".join(f"{m.key}: {', '.join(f'{r:g}' for r in m.rates)}" for m in MODELS.values())
    raise ValueError(f"no simulated sensor offers {fs:g} Hz ({offers} Hz)")


class SimNight(Protocol):
    """The night a simulated sensor plays, handed to it by whoever makes the
    :class:`SimWorld` (the sensor knows how to send samples, not where nights come from)."""

    @property
    def start_utc(self) -> datetime:
        """Absolute time of the night's t = 0 (timezone-aware); the device clock starts there."""
        ...

    def render(self, fs: float) -> np.ndarray:
        """The night's acceleration (g, shape (n, 3)) as a sensor worn where the night's
        configuration says samples it at ``fs`` Hz, from t = 0."""
        ...


# ----------------------------------------------------------------------------------- faults


@dataclass(frozen=True)
class Fault:
    """One injected fault, applied to the first frame whose last sample is at or after ``at_s``.

    Attributes
    ----------
    at_s : float
        Night time (s).
    kind : str
        One of :data:`FAULT_KINDS`.
    value : float
        ``link_loss``: outage in seconds; ``stall``: notifications held back; else unused.
    """

    at_s: float
    kind: str
    value: float = 0.0


@dataclass
class FaultPlan:
    """Faults to inject, in time order."""

    faults: list[Fault] = field(default_factory=list)

    def __post_init__(self) -> None:
        bad = sorted({f.kind for f in self.faults} - set(FAULT_KINDS))
        if bad:
            raise ValueError(f"unknown fault kinds {bad}; known: {', '.join(FAULT_KINDS)}")
        self.faults.sort(key=lambda f: f.at_s)

    @classmethod
    def random(
        cls,
        seed: int,
        count: int,
        start_s: float,
        *,
        kinds: tuple[str, ...] = ("drop", "duplicate", "truncate", "link_loss", "clock_reset"),
        spacing_s: tuple[float, float] = (8.0, 40.0),
        outage_s: tuple[float, float] = (0.5, 20.0),
        stall_frames: tuple[int, int] = (2, 6),
    ) -> FaultPlan:
        """``count`` faults from ``start_s`` on, ``spacing_s`` apart (more after an outage).

        After a link loss of ``D`` s the next fault comes at least ``2 D + 10`` s later, so
        that it does not fall into the reconnection (whose back-off can double the outage).
        """
        rng = np.random.default_rng([int(seed), 0x5EED])
        faults = []
        t = float(start_s)
        for _ in range(int(count)):
            t += float(rng.uniform(*spacing_s))
            kind = str(rng.choice(kinds))
            value = 0.0
            if kind == "link_loss":
                value = float(rng.uniform(*outage_s))
            elif kind == "stall":
                value = float(rng.integers(stall_frames[0], stall_frames[1] + 1))
            faults.append(Fault(t, kind, value))
            if kind == "link_loss":
                t += 2 * value + 10.0
            elif kind == "stall":
                t += 60.0  # held frames must all go out before the next fault
        return cls(faults)


@dataclass
class SimLog:
    """What the simulated device really did (for tests and the latency benchmark).

    Attributes
    ----------
    delivered : list of (first, last)
        Night sample indices of every frame handed to the client intact (once, even when
        duplicated), in order.
    faults : list of dict
        Each fault applied: kind, night time, the frame's sample span, details.
    writes : list of (characteristic uuid, bytes)
        Every write the client made.
    sent_at : list of float
        Clock time each delivered frame was sent (parallel to ``delivered``).
    connects : list of (float, bool)
        Clock time of every connection attempt's outcome, and whether it succeeded.
    subscriptions : list of (float, str)
        Clock time and characteristic of every notification enabled.
    """

    delivered: list[tuple[int, int]] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    writes: list[tuple[str, bytes]] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    connects: list[tuple[float, bool]] = field(default_factory=list)
    subscriptions: list[tuple[float, str]] = field(default_factory=list)


# ----------------------------------------------------------------------------------- config


@dataclass(frozen=True)
class SimConfig:
    """What ``--sensor sim:...`` sets on the simulated device.

    Attributes
    ----------
    seed : int
        The synthetic night (one seed = one night, for every placement).
    hours : float
        Length of the night.
    start_s : float
        Night time at which the device is switched on (clock time 0).
    placement : str
        Where the simulated sensor is worn (wrist, ankle, left_ankle, right_ankle).
    model : str
        ``auto``, ``verity``, ``h10`` or ``metawear``.
    clock_offset_s : float
        How far the device clock is off the true time (alignment tests).
    faults : FaultPlan
    refuse : str or None
        A PMD status name (e.g. ``DEVICE_IN_CHARGER``) the device answers every START with.
    battery_pct : int
        Battery level at switch-on; it drops 1 % per half hour.
    """

    seed: int = 1
    hours: float = 8.0
    start_s: float = 0.0
    placement: str = "wrist"
    model: str = "auto"
    clock_offset_s: float = 0.0
    faults: FaultPlan = field(default_factory=FaultPlan)
    refuse: str | None = None
    battery_pct: int = 90


# ----------------------------------------------------------------------------------- device

Notify = Callable[[bytearray], None]


class SimLink:
    """What the device needs from the connected client backend (:mod:`sim_backend`)."""

    def link_lost(self) -> None:  # pragma: no cover - interface
        """The device dropped the link (unsolicited disconnect)."""
        raise NotImplementedError


@dataclass
class _Stream:
    fs: float
    range_g: int
    counts: np.ndarray  # (n, 3) int, the night at this rate and range
    next_index: int
    task: asyncio.Task[None] | None = None


class SimSensor:
    """One simulated sensor (base class: link, GATT, night, frame timing and faults).

    Parameters
    ----------
    clock : Clock
        Shared with the client.
    address : str
        Its BLE address.
    model : SimModel
    config : SimConfig
    serial : str
        Serial number (also the tail of its advertised name).
    origin : float
        Clock time at which it is switched on (night time ``config.start_s``).
    night : SimNight, optional
        What it plays; without one it advertises and answers reads, but cannot stream.
    """

    def __init__(
        self,
        clock: Clock,
        address: str,
        model: SimModel,
        config: SimConfig,
        serial: str,
        origin: float = 0.0,
        night: SimNight | None = None,
    ) -> None:
        self.clock = clock
        self.origin = origin  # clock time at which the sensor was switched on
        self.address = address
        self.model = model
        self.config = config
        self.night = night
        self.serial = serial
        self.name = f"{model.name} {serial}"
        self.log = SimLog()
        self._link: SimLink | None = None
        self._subs: dict[str, Notify] = {}
        self._rendered: dict[float, np.ndarray] = {}
        self._stream: _Stream | None = None
        self._last_stream: _Stream | None = None
        self._unreachable_until = -math.inf
        self._retired = False  # the night is over: back in the charger
        self._faults = list(config.faults.faults)
        self._held: list[tuple[int, int, bytes]] = []
        self._hold_left = 0
        self._fresh_stream = True
        self._rng = np.random.default_rng([config.seed, int(serial[-4:], 16), 7])
        self._clock_anchor: tuple[int, int] | None = None  # (night index, device ns there)
        self.expected_fs = model.rates[0]  # the rate a client will probably choose

    # -- what the scanner and the backend see

    @property
    def services(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        """GATT layout: services with their characteristics and properties."""
        common = [
            (BATTERY_SERVICE_UUID, [(BATTERY_LEVEL_UUID, ["read", "notify"])]),
            (DEVICE_INFO_SERVICE_UUID, [(u, ["read"]) for u in DEVICE_INFO_UUIDS.values()]),
        ]
        return self._own_services() + common

    def _own_services(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        raise NotImplementedError

    @property
    def advertised_services(self) -> list[str]:
        """Service UUIDs in its advertisement."""
        return [self._own_services()[0][0]]

    @property
    def connected(self) -> bool:
        return self._link is not None

    def battery_pct(self) -> int:
        """Battery level now (1 % less per half hour of clock time)."""
        return max(1, self.config.battery_pct - int((self.clock.now() - self.origin) // 1800.0))

    # -- link

    async def accept(self, link: SimLink) -> None:
        """A client connects (after the link set-up time), or fails to find the device."""
        await self.clock.sleep(CONNECT_S)
        if self._retired or self.clock.now() < self._unreachable_until:
            await self.clock.sleep(CONNECT_FAIL_S)
            self.log.connects.append((self.clock.now(), False))
            raise BleakDeviceNotFoundError(self.address, f"Device {self.address} was not found")
        if self._link is not None:
            raise BleakError(f"{self.address} is already connected")
        self._link = link
        self.log.connects.append((self.clock.now(), True))

    def release(self, link: SimLink) -> None:
        """The client disconnected (solicited): the device stops streaming."""
        if self._link is link:
            self._end_link()

    def _end_link(self) -> None:
        self._link = None
        self._subs.clear()
        self._stop_stream()
        self._on_link_end()

    def _on_link_end(self) -> None:
        """Protocol state to clear when the link goes (streams stop with the connection)."""

    def _lose_link(self, outage_s: float) -> None:
        link = self._link
        self._unreachable_until = self.clock.now() + outage_s
        self._end_link()
        if link is not None:
            link.link_lost()

    # -- GATT operations (called by the backend)

    def read(self, uuid: str) -> bytes:
        if uuid == BATTERY_LEVEL_UUID:
            return bytes((self.battery_pct(),))
        info = {
            "manufacturer": self.model.manufacturer,
            "model": self.model.model_number,
            "serial": self.serial,
            "firmware": "hypnic-sim-1",
        }
        for key, char in DEVICE_INFO_UUIDS.items():
            if uuid == char:
                return info[key].encode()
        return self._read(uuid)

    def _read(self, uuid: str) -> bytes:
        raise BleakError(f"characteristic {uuid} cannot be read")

    def write(self, uuid: str, data: bytes) -> None:
        self.log.writes.append((uuid, bytes(data)))
        self._write(uuid, bytes(data))

    def _write(self, uuid: str, data: bytes) -> None:
        raise BleakError(f"characteristic {uuid} cannot be written")

    def subscribe(self, uuid: str, callback: Notify) -> None:
        self._subs[uuid] = callback
        self.log.subscriptions.append((self.clock.now(), uuid))
        if uuid == self._data_uuid and self.night is not None:
            # Render the night now, at the rate the client is likely to ask for, not when it
            # starts the stream: rendering takes a second the first frames would wait for.
            self.night_g(self.expected_fs)

    def unsubscribe(self, uuid: str) -> None:
        self._subs.pop(uuid, None)

    def _notify(self, uuid: str, data: bytes) -> bool:
        callback = self._subs.get(uuid)
        if callback is None or self._link is None:
            return False
        callback(bytearray(data))
        return True

    def _notify_later(self, uuid: str, messages: list[bytes]) -> None:
        # A response follows the write's acknowledgement, as on a real link.
        loop = asyncio.get_running_loop()
        for message in messages:
            loop.call_soon(self._notify, uuid, message)

    # -- the night

    def night_g(self, fs: float) -> np.ndarray:
        """The night's acceleration (g) as this sensor samples it at ``fs``.

        Raises
        ------
        ValueError
            The sensor was given no night.
        """
        if fs not in self._rendered:
            self._rendered[fs] = self._night().render(fs)
        return self._rendered[fs]

    def _night(self) -> SimNight:
        if self.night is None:
            raise ValueError(f"simulated sensor {self.name} has no night to play")
        return self.night

    def _sample_time(self, index: int, fs: float) -> float:
        """Clock time at which night sample ``index`` is taken."""
        return self.origin + index / fs - self.config.start_s

    def _device_ns(self, index: int, fs: float) -> int:
        """The device clock (Polar epoch ns) at night sample ``index``."""
        if self._clock_anchor is None:
            epoch = self._night().start_utc.timestamp() + self.config.clock_offset_s
            self._clock_anchor = (0, round(epoch * 1e9) - POLAR_EPOCH_UNIX_NS)
        base_index, base_ns = self._clock_anchor
        return base_ns + round((index - base_index) * 1e9 / fs)

    def _reset_clock(self, index: int) -> None:
        self._clock_anchor = (index, H10_DEFAULT_TIME_NS)

    # -- streaming

    def _start_stream(self, fs: float, range_g: int) -> None:
        g = np.clip(self.night_g(fs), -range_g, range_g)
        elapsed = self.clock.now() - self.origin
        first = max(0, math.ceil((elapsed + self.config.start_s) * fs - 1e-9))
        stream = _Stream(fs, range_g, self._counts(g, fs, range_g), first)
        self._stream = self._last_stream = stream
        self._fresh_stream = True
        stream.task = asyncio.get_running_loop().create_task(self._produce(stream))

    def _stop_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._held.clear()
        self._hold_left = 0
        if stream is not None and stream.task is not None and not stream.task.done():
            if stream.task is not asyncio.current_task():
                stream.task.cancel()

    def _counts(self, g: np.ndarray, fs: float, range_g: int) -> np.ndarray:
        raise NotImplementedError

    def _g(self, counts: np.ndarray, range_g: int) -> np.ndarray:
        raise NotImplementedError

    def transmitted_g(self, indices: np.ndarray) -> np.ndarray:
        """Acceleration (g) the sensor sent for night samples ``indices`` in its last stream,
        as its decoder reads it (after the device's quantisation)."""
        stream = self._last_stream
        if stream is None:
            raise ValueError("the sensor has not streamed")
        return self._g(stream.counts[np.asarray(indices)], stream.range_g)

    def _frame(self, stream: _Stream, first: int, last: int) -> bytes:
        raise NotImplementedError

    async def _produce(self, stream: _Stream) -> None:
        n = self.model.samples_per_frame
        while self._stream is stream:
            first = stream.next_index
            last = first + n - 1
            if last >= stream.counts.shape[0]:
                self._night_over()
                return
            await self.clock.sleep(self._sample_time(last, stream.fs) - self.clock.now())
            if self._stream is not stream:
                return
            stream.next_index = last + 1
            self._emit(stream, first, last, self._frame(stream, first, last))

    def _night_over(self) -> None:
        """The night has been played: the sensor goes back to its charger."""
        self._retired = True
        self._stop_stream()

    def _due_fault(self, stream: _Stream, first: int, last: int) -> Fault | None:
        """The fault this frame suffers, if one is due (logged as applied or skipped)."""
        if self._hold_left > 0 or not self._faults or self._faults[0].at_s > last / stream.fs:
            return None  # a fault due during a stall waits until the burst has gone out
        fault = self._faults.pop(0)
        if fault.kind == "truncate" and self._fresh_stream:
            # A truncated first frame of a stream cannot be told from a short one
            # (timeline.py): truncate the next frame instead.
            self._faults.insert(0, fault)
            return None
        entry = {"kind": fault.kind, "at_s": fault.at_s, "span": [first, last]}
        if not self._applies(fault):
            self.log.faults.append({**entry, "skipped": True})
            return None
        self.log.faults.append({**entry, "value": fault.value})
        return fault

    def _emit(self, stream: _Stream, first: int, last: int, frame: bytes) -> None:
        fault = self._due_fault(stream, first, last)
        kind, value = (fault.kind, fault.value) if fault is not None else (None, 0.0)
        if kind == "clock_reset":
            self._reset_clock(first)
            frame = self._frame(stream, first, last)
        elif kind == "stall":
            self._hold_left = int(value)
        if self._hold_left > 0:
            self._held.append((first, last, frame))
            self._hold_left -= 1
            if self._hold_left == 0:  # the host stack lets the backlog go in one burst
                held, self._held = self._held, []
                for f, la, fr in held:
                    self._deliver(f, la, fr)
        elif kind == "truncate":
            self._notify(self._data_uuid, frame[: int(self._rng.integers(1, len(frame)))])
        elif kind == "link_loss":
            self._lose_link(value)
        elif kind == "device_stop":
            self._device_stop()
        elif kind != "drop":
            self._deliver(first, last, frame)
            if kind == "duplicate":
                self._notify(self._data_uuid, frame)

    def _applies(self, fault: Fault) -> bool:
        """Whether this sensor can suffer ``fault`` (protocol limits are the subclasses')."""
        return True

    def _deliver(self, first: int, last: int, frame: bytes) -> None:
        if self._notify(self._data_uuid, frame):
            self.log.delivered.append((first, last))
            self.log.sent_at.append(self.clock.now())
            self._fresh_stream = False

    def _device_stop(self) -> None:
        raise NotImplementedError

    @property
    def _data_uuid(self) -> str:
        raise NotImplementedError


class SimPolar(SimSensor):
    """A Polar Verity Sense or H10 (PMD over its control point and data characteristics)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self.model
        acc_settings: dict[int, tuple[int, ...]] = {
            SettingType.SAMPLE_RATE: tuple(int(r) for r in model.rates),
            SettingType.RESOLUTION: (16,),
            SettingType.RANGE: model.ranges,
        }
        if model.key != "h10":  # the H10's observed settings list no channels (BLE.md §1.4)
            acc_settings[SettingType.CHANNELS] = (3,)
        self.server = PmdControlPointServer(
            available={MeasurementType.ACC: acc_settings},
            max_notification_length=model.mtu - 3,
        )
        self._refuse = Status[self.config.refuse] if self.config.refuse else None

    def _own_services(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        return [
            (
                polar_pmd.SERVICE_UUID,
                [
                    (CONTROL_POINT_UUID, ["read", "write", "indicate"]),
                    (polar_pmd.DATA_UUID, ["notify"]),
                ],
            )
        ]

    @property
    def _data_uuid(self) -> str:
        return polar_pmd.DATA_UUID

    def _read(self, uuid: str) -> bytes:
        if uuid == CONTROL_POINT_UUID:
            return self.server.features()
        return super()._read(uuid)

    def _write(self, uuid: str, data: bytes) -> None:
        if uuid != CONTROL_POINT_UUID:
            super()._write(uuid, data)
        if not data:
            raise BleakError("empty write")
        start = len(data) >= 2 and data[0] == OpCode.REQUEST_MEASUREMENT_START
        refusal = self._refuse if not self._retired else Status.DEVICE_IN_CHARGER
        if start and refusal is not None:
            answer = [build_response(data[0], data[1] & 0x3F, refusal)]
        else:
            if start:
                self._set_factor(data)
            answer = self.server.handle(data)
        running = self.server.running.get(MeasurementType.ACC)
        if running is not None and self._stream is None:
            self._start_stream(
                float(running[SettingType.SAMPLE_RATE]), int(running[SettingType.RANGE])
            )
        elif running is None and self._stream is not None:
            self._stop_stream()
        self._notify_later(CONTROL_POINT_UUID, answer)

    def _set_factor(self, request: bytes) -> None:
        # Compressed type-0 frames carry counts x FACTOR = g; the full int16 span covers the
        # range (an assumption: Polar documents the FACTOR field, not its value per range).
        if self.model.frame_type != AccFrameType.DELTA_G:
            return
        with contextlib.suppress(Exception):
            chosen = parse_request(request).settings().get(SettingType.RANGE)
            if chosen:
                self.server.factors = {MeasurementType.ACC: chosen[0] / 32768.0}

    def _on_link_end(self) -> None:
        self.server.running.clear()

    def _counts(self, g: np.ndarray, fs: float, range_g: int) -> np.ndarray:
        factor = self.server.factors.get(MeasurementType.ACC)
        counts = polar_pmd.counts_from_g(g, self.model.frame_type, factor)
        return np.clip(counts, -(1 << 15), (1 << 15) - 1)

    def _g(self, counts: np.ndarray, range_g: int) -> np.ndarray:
        multiplier, divisor = polar_pmd.acc_scale_g(
            self.model.frame_type, self.server.factors.get(MeasurementType.ACC)
        )
        g = counts.astype(np.float32) * multiplier
        return g if divisor == 1.0 else (g / np.float32(divisor)).astype(np.float32)

    def _frame(self, stream: _Stream, first: int, last: int) -> bytes:
        return polar_pmd.encode_acc(
            stream.counts[first : last + 1],
            self._device_ns(last, stream.fs),
            self.model.frame_type,
        )

    def _device_stop(self) -> None:
        message = self.server.stop_all()
        self._stop_stream()
        if message is not None:
            self._notify(CONTROL_POINT_UUID, message)

    def _night_over(self) -> None:
        super()._night_over()
        self._device_stop()


class SimMetaWear(SimSensor):
    """A MetaMotion R (BMI160): commands in, packed acceleration notifications out."""

    chip = metawear.Chip.BMI160

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._state: dict[str, Any] = {}

    def _own_services(self) -> list[tuple[str, list[tuple[str, list[str]]]]]:
        return [
            (
                metawear.SERVICE_UUID,
                [
                    (metawear.COMMAND_UUID, ["write", "write-without-response"]),
                    (metawear.NOTIFY_UUID, ["notify"]),
                ],
            )
        ]

    @property
    def _data_uuid(self) -> str:
        return metawear.NOTIFY_UUID

    def _write(self, uuid: str, data: bytes) -> None:
        if uuid != metawear.COMMAND_UUID:
            super()._write(uuid, data)
        command = metawear.parse_command(data, self.chip)  # CodecError: a bug in the client
        if command.kind == "config":
            self._state["config"] = (command.odr_hz, command.range_g)
        elif command.kind == "subscribe" and command.packed:
            self._state["subscribed"] = command.on
        elif command.kind == "sampling":
            self._state["sampling"] = command.on
        elif command.kind == "power":
            self._state["power"] = command.on
        ready = all(self._state.get(k) for k in ("config", "subscribed", "sampling", "power"))
        if ready and self._stream is None:
            odr, rng = self._state["config"]
            self._start_stream(float(odr), int(rng))
        elif not ready and self._stream is not None:
            self._stop_stream()

    def _on_link_end(self) -> None:
        self._state.clear()

    def _counts(self, g: np.ndarray, fs: float, range_g: int) -> np.ndarray:
        return metawear.counts_from_g(g, range_g)

    def _g(self, counts: np.ndarray, range_g: int) -> np.ndarray:
        return counts.astype(np.float32) / np.float32(metawear.LSB_PER_G[range_g])

    def _frame(self, stream: _Stream, first: int, last: int) -> bytes:
        return metawear.encode_acc(stream.counts[first : last + 1], self.chip, packed=True)

    def _applies(self, fault: Fault) -> bool:
        # No time stamps: a clock reset means nothing; no control point to announce a stop.
        return fault.kind not in ("clock_reset", "device_stop") and super()._applies(fault)

    def _night_over(self) -> None:
        super()._night_over()
        self._lose_link(math.inf)


class SimWorld:
    """The simulated sensors within reach of one host, sharing one clock.

    Parameters
    ----------
    clock : Clock
    nights : callable ``(SimConfig) -> SimNight``, optional
        The night each sensor switched on plays (one seed is one night, seen as the
        configuration's placement sees it). Without it the sensors advertise and answer reads
        (``hypnic scan --sim``) but cannot stream.
    """

    ADDRESS_PREFIX = "5A:1D:00:00:00:"

    def __init__(
        self, clock: Clock, nights: Callable[[SimConfig], SimNight] | None = None
    ) -> None:
        self.clock = clock
        self.nights = nights
        self.origin = clock.now()  # every sensor is switched on when the world is made
        self.devices: dict[str, SimSensor] = {}

    def add(self, config: SimConfig, fs: float | None = None) -> SimSensor:
        """Switch on a simulated sensor; ``fs`` (the rate the client will ask for) picks the
        model when ``config.model`` is ``auto``.

        Raises
        ------
        ValueError
            No model offers ``fs``, or an unknown model or refusal status.
        """
        model = pick_model(config.model, fs)
        if config.refuse is not None and config.refuse not in Status.__members__:
            raise ValueError(
                f"unknown PMD status {config.refuse!r} (one of {', '.join(Status.__members__)})"
            )
        number = len(self.devices) + 1
        address = f"{self.ADDRESS_PREFIX}{number:02X}"
        serial = f"5100{number:04X}"
        cls = SimPolar if model.protocol == "polar" else SimMetaWear
        night = self.nights(config) if self.nights is not None else None
        device = cls(self.clock, address, model, config, serial, self.origin, night)
        offered = fs is not None and any(abs(r - fs) < 1e-9 for r in model.rates)
        device.expected_fs = float(
            fs if offered else choose(list(model.rates), None, PREFERRED_RATE_HZ, "", "")
        )
        self.devices[address] = device
        return device

    def device(self, address: str) -> SimSensor | None:
        """The sensor at ``address`` (case-insensitive), if any."""
        return self.devices.get(address.upper())
