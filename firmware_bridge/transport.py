"""Protocol drivers: configure, start and stop a sensor's acceleration stream over bleak.

A driver knows one protocol's GATT characteristics and commands; it talks to a connected
:class:`bleak.BleakClient` (a real one, or one on the simulated backend) and decodes the
stream's notifications with the pure codecs in :mod:`firmware_bridge.codecs`. Connection,
queueing, time stamps and reconnects are :mod:`firmware_bridge.session`'s job.

=====================  =========================================================
driver                 protocol
=====================  =========================================================
:class:`PolarDriver`   Polar PMD (Verity Sense, H10, OH1): control point, settings
                       negotiation, frames stamped by the device
:class:`MetaWearDriver` MbientLab MetaWear / MetaMotion (BMI160, BMI270): commands,
                       packed samples without time stamps
=====================  =========================================================

Order of operations (BLE.md §1.2, §5): notifications are enabled on the control point *and*
the data characteristic before any command is sent (the Polar SDK waits for both; BlueZ can
lose the first notifications of a fast device otherwise), then the settings are read and
the stream started with the chosen ones; ``stop`` is sent on every shutdown (an H10 left
streaming stays on until its battery is empty, BLE.md §1.8).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bleak import BleakClient
from bleak.exc import BleakError

from hypnic.firmware_bridge.clock import Clock, wait_for
from hypnic.firmware_bridge.codecs import metawear, polar_pmd
from hypnic.firmware_bridge.codecs.acc_frame import AccFrame
from hypnic.firmware_bridge.codecs.errors import CodecError
from hypnic.firmware_bridge.codecs.polar_pmd import CONTROL_POINT_UUID, MeasurementType
from hypnic.firmware_bridge.codecs.polar_pmd_control import (
    MeasurementStopped,
    PmdResponse,
    SettingType,
    get_settings_request,
    join_responses,
    parse_control_notification,
    parse_features,
    start_request,
    stop_request,
)

log = logging.getLogger(__name__)

# Standard GATT (Bluetooth SIG assigned numbers): Battery Level, Device Information strings.
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_UUIDS = {
    "manufacturer": "00002a29-0000-1000-8000-00805f9b34fb",
    "model": "00002a24-0000-1000-8000-00805f9b34fb",
    "serial": "00002a25-0000-1000-8000-00805f9b34fb",
    "firmware": "00002a26-0000-1000-8000-00805f9b34fb",
}

#: Rate chosen when none is asked for: the offered rate nearest this (Hz). 50 Hz resolves
#: jerk onsets to 20 ms and keeps an 8-hour night at 1.4 M samples.
PREFERRED_RATE_HZ = 50.0
#: Range chosen when none is asked for: ±8 g holds the largest limb jerks without clipping
#: and is offered by every supported sensor.
PREFERRED_RANGE_G = 8
#: Polar SDK waits 30 s for a control-point answer, bleakheart 10 s (BLE.md §1.3).
COMMAND_TIMEOUT_S = 10.0


class SensorError(Exception):
    """A sensor problem the user can act on; the message is one line."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


class SensorNotFound(SensorError):
    """No such sensor in range (or it is connected elsewhere)."""


class SensorRefused(SensorError):
    """The sensor refused (or does not offer) the settings or a command."""


class BluetoothUnavailable(SensorError):
    """No adapter, or no BlueZ / D-Bus to reach it."""


@dataclass
class StreamSettings:
    """The stream a driver negotiated.

    Attributes
    ----------
    fs : float
        Sample rate (Hz).
    range_g : float
        Range (±g).
    details : dict
        Protocol specifics worth keeping in the recording's metadata (JSON-ready).
    """

    fs: float
    range_g: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DecodedFrame:
    """One notification's samples and the device's time stamp of its last sample (if any)."""

    frame: AccFrame
    device_ns: int | None


def _closest(offered: list[float], wanted: float) -> float:
    return min(offered, key=lambda v: (abs(v - wanted), -v))


def _fmt(values: list[float], unit: str) -> str:
    return ", ".join(f"{v:g}" for v in sorted(values)) + f" {unit}"


def choose(
    offered: list[float], wanted: float | None, preferred: float, what: str, unit: str
) -> float:
    """Pick ``wanted`` if offered (error otherwise), else the offered value nearest ``preferred``.

    Raises
    ------
    SensorRefused
        ``wanted`` is not among the offered values.
    """
    if not offered:
        raise SensorRefused(f"offers no {what}")
    if wanted is None:
        return _closest(offered, preferred)
    match = [v for v in offered if abs(v - wanted) < 1e-9]
    if not match:
        raise SensorRefused(f"offers {what} {_fmt(offered, unit)}, not {wanted:g} {unit}")
    return match[0]


async def read_battery(client: BleakClient) -> int | None:
    """Battery level in percent (standard Battery Level 0x2A19), or None where unreadable."""
    try:
        value = await client.read_gatt_char(BATTERY_LEVEL_UUID)
    except (BleakError, OSError, asyncio.TimeoutError) as exc:
        log.debug("battery not readable: %s", exc)
        return None
    return int(value[0]) if len(value) >= 1 and value[0] <= 100 else None


async def read_device_info(client: BleakClient) -> dict[str, str]:
    """Device Information strings (manufacturer, model, serial, firmware) that can be read."""
    info: dict[str, str] = {}
    for key, uuid in DEVICE_INFO_UUIDS.items():
        try:
            raw = await client.read_gatt_char(uuid)
        except (BleakError, OSError, asyncio.TimeoutError):
            continue
        text = bytes(raw).decode("utf-8", errors="replace").strip("\x00 ")
        if text:
            info[key] = text
    return info


NotifyCallback = Callable[[Any, bytearray], None]


class PolarDriver:
    """Polar PMD acceleration (BLE.md §1; codecs in :mod:`~firmware_bridge.codecs.polar_pmd`).

    Parameters
    ----------
    clock : Clock
        For the control-point time-out.
    fs, range_g : float, optional
        Wanted rate and range; the offered values nearest 50 Hz and ±8 g otherwise.
    on_device_stop : callable, optional
        Called (on the loop) when the device ends the stream itself (ONLINE_MEASUREMENT_STOPPED).
    """

    protocol = polar_pmd.PROTOCOL
    timing = "device"
    data_uuid = polar_pmd.DATA_UUID

    def __init__(
        self,
        clock: Clock,
        *,
        fs: float | None = None,
        range_g: float | None = None,
        on_device_stop: Callable[[], None] | None = None,
        command_timeout_s: float = COMMAND_TIMEOUT_S,
    ) -> None:
        self.clock = clock
        self.wanted_fs = fs
        self.wanted_range = range_g
        self.on_device_stop = on_device_stop
        self.command_timeout_s = command_timeout_s
        self._client: BleakClient | None = None
        self._lock = asyncio.Lock()
        self._pending: tuple[int, asyncio.Future[PmdResponse], list[PmdResponse]] | None = None
        self._selected: dict[int, int] = {}
        self._factor: float | None = None
        self.settings: StreamSettings | None = None

    async def configure(self, client: BleakClient, on_data: NotifyCallback) -> StreamSettings:
        """Enable both notifications, read the features and ACC settings, choose the stream's."""
        self._client = client
        self._pending = None
        await client.start_notify(CONTROL_POINT_UUID, self._on_control)
        await client.start_notify(self.data_uuid, on_data)
        try:
            features = parse_features(await client.read_gatt_char(CONTROL_POINT_UUID))
        except CodecError as exc:
            raise SensorRefused(f"is not a Polar PMD sensor ({exc.problem})") from None
        if MeasurementType.ACC not in features:
            raise SensorRefused("offers no acceleration (ACC) stream")
        response = await self._command(get_settings_request(MeasurementType.ACC))
        if not response.ok:
            raise SensorRefused(f"does not list its acceleration settings: {response.status_text}")
        try:
            offered = response.settings()
        except CodecError as exc:
            raise SensorRefused(f"sent unreadable acceleration settings ({exc.problem})") from None
        fs = choose(
            [float(v) for v in offered.get(SettingType.SAMPLE_RATE, ())],
            self.wanted_fs,
            PREFERRED_RATE_HZ,
            "sample rates",
            "Hz",
        )
        rng = choose(
            [float(v) for v in offered.get(SettingType.RANGE, ())],
            self.wanted_range,
            PREFERRED_RANGE_G,
            "ranges",
            "g",
        )
        selected = {SettingType.SAMPLE_RATE: int(fs), SettingType.RANGE: int(rng)}
        resolutions = offered.get(SettingType.RESOLUTION, ())
        if resolutions:
            selected[SettingType.RESOLUTION] = int(16 if 16 in resolutions else max(resolutions))
        channels = offered.get(SettingType.CHANNELS, ())
        if channels:
            selected[SettingType.CHANNELS] = int(3 if 3 in channels else max(channels))
        self._selected = selected
        self.settings = StreamSettings(
            fs, rng, {"pmd_settings": {SettingType(k).name.lower(): v for k, v in selected.items()}}
        )
        return self.settings

    async def start(self) -> None:
        """REQUEST_MEASUREMENT_START with the chosen settings; keep the FACTOR it returns."""
        response = await self._command(start_request(MeasurementType.ACC, self._selected))
        if not response.ok:
            assert self.settings is not None
            raise SensorRefused(
                f"refused to stream at {self.settings.fs:g} Hz, ±{self.settings.range_g:g} g: "
                f"{response.status_text}"
            )
        try:
            factor = response.settings().get(SettingType.FACTOR)
        except CodecError:
            factor = None
        self._factor = float(factor[0]) if factor else None
        if self.settings is not None and self._factor is not None:
            self.settings.details["factor"] = self._factor

    async def stop(self) -> None:
        """STOP_MEASUREMENT (errors are logged: the link may be gone already)."""
        try:
            await self._command(stop_request(MeasurementType.ACC), timeout_s=2.0)
        except (SensorError, BleakError, OSError, asyncio.TimeoutError) as exc:
            log.info("stop not confirmed: %s", exc)

    def decode(self, data: bytes) -> DecodedFrame | None:
        """Decode one data notification (raises :class:`CodecError` on malformed bytes)."""
        if data and (data[0] & 0x3F) != MeasurementType.ACC:
            return None  # another measurement's frame: not ours
        frame = polar_pmd.decode_acc(data, factor=self._factor)
        return DecodedFrame(frame, frame.frame_time_ns)

    async def _command(self, request: bytes, timeout_s: float | None = None) -> PmdResponse:
        if self._client is None:
            raise SensorError("not connected")
        async with self._lock:
            fut: asyncio.Future[PmdResponse] = asyncio.get_running_loop().create_future()
            self._pending = (request[0], fut, [])
            try:
                await self._client.write_gatt_char(CONTROL_POINT_UUID, request, response=True)
                return await wait_for(self.clock, fut, timeout_s or self.command_timeout_s)
            except TimeoutError:
                raise SensorError(
                    f"no answer to control-point command {request[:2].hex()} "
                    f"within {timeout_s or self.command_timeout_s:g} s"
                ) from None
            finally:
                self._pending = None

    def _on_control(self, _char: Any, data: bytearray) -> None:
        try:
            message = parse_control_notification(data)
        except CodecError as exc:
            log.warning("ignored control-point notification %s: %s", bytes(data).hex(), exc)
            return
        if isinstance(message, MeasurementStopped):
            if MeasurementType.ACC in message.measurement_types and self.on_device_stop:
                self.on_device_stop()
            return
        if self._pending is None or message.op_code != self._pending[0]:
            log.info("unexpected control-point response %s", bytes(data).hex())
            return
        _, fut, parts = self._pending
        parts.append(message)
        if not message.more and not fut.done():
            try:
                fut.set_result(join_responses(parts))
            except CodecError as exc:
                fut.set_exception(SensorError(f"broken control-point response ({exc.problem})"))


class MetaWearDriver:
    """MbientLab MetaWear acceleration (BLE.md §3; :mod:`~firmware_bridge.codecs.metawear`).

    Parameters
    ----------
    clock : Clock
        Unused by the protocol (no command answers); kept for a uniform driver interface.
    fs, range_g : float, optional
        Wanted output data rate and range (the chip's table; 50 Hz and ±8 g otherwise).
    chip : {"bmi160", "bmi270"}
        The board's accelerometer (MetaMotion R/C: BMI160; MetaMotion S: BMI270). The SDK
        reads it from the board's module info; here it is given.

    Notes
    -----
    The start sequence (config, subscribe packed data, enable sampling, power on) and its
    reverse are built from the vendor's unit-test vectors (BLE.md §3); they were not checked
    against hardware. Packed notifications carry three samples and no time stamp.
    """

    protocol = metawear.PROTOCOL
    timing = "host"
    data_uuid = metawear.NOTIFY_UUID

    def __init__(
        self,
        clock: Clock,
        *,
        fs: float | None = None,
        range_g: float | None = None,
        chip: str = metawear.Chip.BMI160.value,
        on_device_stop: Callable[[], None] | None = None,
    ) -> None:
        try:
            self.chip = metawear.Chip(chip)
        except ValueError:
            raise SensorRefused(f"unknown MetaWear chip {chip!r} (bmi160 or bmi270)") from None
        self.clock = clock
        self.wanted_fs = fs
        self.wanted_range = range_g
        self.on_device_stop = on_device_stop  # never called: MetaWear announces no stop
        self._client: BleakClient | None = None
        self.settings: StreamSettings | None = None

    async def configure(self, client: BleakClient, on_data: NotifyCallback) -> StreamSettings:
        """Enable notifications and choose the rate and range from the chip's tables."""
        self._client = client
        await client.start_notify(self.data_uuid, on_data)
        rates = [r for r in metawear.ODR_CODE[self.chip] if r >= 12.5]  # CONTRACT: 12.5-1600 Hz
        fs = choose(rates, self.wanted_fs, PREFERRED_RATE_HZ, "sample rates", "Hz")
        rng = choose(
            [float(r) for r in metawear.LSB_PER_G],
            self.wanted_range,
            PREFERRED_RANGE_G,
            "ranges",
            "g",
        )
        self.settings = StreamSettings(fs, rng, {"chip": self.chip.value, "packed": True})
        return self.settings

    async def start(self) -> None:
        """Configure, subscribe to packed data, enable sampling, power the accelerometer on."""
        assert self.settings is not None
        for command in (
            metawear.config_command(self.chip, self.settings.fs, int(self.settings.range_g)),
            metawear.subscribe_command(self.chip, packed=True),
            metawear.sampling_command(True),
            metawear.start_command(),
        ):
            await self._write(command)

    async def stop(self) -> None:
        """Power off, disable sampling, unsubscribe (errors logged: the link may be gone)."""
        try:
            for command in (
                metawear.stop_command(),
                metawear.sampling_command(False),
                metawear.subscribe_command(self.chip, packed=True, subscribe=False),
            ):
                await self._write(command)
        except (SensorError, BleakError, OSError, asyncio.TimeoutError) as exc:
            log.info("stop not confirmed: %s", exc)

    def decode(self, data: bytes) -> DecodedFrame | None:
        """Decode one notification; other modules' notifications are ignored (None)."""
        if len(data) >= 1 and data[0] != metawear.MODULE_ACCELEROMETER:
            return None
        assert self.settings is not None
        frame = metawear.decode_acc(data, range_g=int(self.settings.range_g), chip=self.chip)
        return DecodedFrame(frame, None)

    async def _write(self, command: bytes) -> None:
        if self._client is None:
            raise SensorError("not connected")
        await self._client.write_gatt_char(metawear.COMMAND_UUID, command, response=True)


#: Drivers by protocol name (the ``--sensor`` kinds that can record).
DRIVERS: Mapping[str, type[PolarDriver] | type[MetaWearDriver]] = {
    "polar": PolarDriver,
    "metawear": MetaWearDriver,
}
