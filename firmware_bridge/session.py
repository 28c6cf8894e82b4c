"""One sensor's live session: connect, stream, survive link losses, hand on placed samples.

::

    bleak notification (sync callback on the loop)
        -> queue.put_nowait((stream epoch, host time, ..., bytes))   # full: drop + count
    consumer task:  drain queue -> decode (transport driver) -> timeline (device or host
        clock) -> grid slots and gaps -> SampleBatch -> sink (writer, detector, printer)
    supervisor task: wait for stop / link loss / device-initiated stop / battery timer;
        reconnect with back-off (re-enable notifications, re-read settings, restart the
        stream, reset the time-stamp state)

The callback never blocks and never awaits (ECOSYSTEM.md §3, BLE.md §4.2): bleak runs a
coroutine callback as one task per notification, which keeps no order and no bound. A full
queue drops the notification and counts it; the samples it held become a gap, found from the
next frame's time stamp (or host time for sensors without one). Every stream start bumps the
stream epoch carried by each notification, so the consumer resets the time-stamp state
exactly where the new stream begins. The stream is stopped in ``finally`` whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
from bleak import BleakClient
from bleak.exc import BleakCharacteristicNotFoundError, BleakError

from hypnic.firmware_bridge.clock import Clock
from hypnic.firmware_bridge.codecs.errors import CodecError
from hypnic.firmware_bridge.scan import explain
from hypnic.firmware_bridge.timeline import (
    DeviceClockTimeline,
    HostClockTimeline,
    Placement,
    SlotGrid,
)
from hypnic.firmware_bridge.transport import (
    DecodedFrame,
    SensorError,
    SensorRefused,
    StreamSettings,
    read_battery,
    read_device_info,
)

log = logging.getLogger(__name__)

#: Notifications the queue holds: at 20 notifications/s (MetaWear at 50 Hz) about a minute,
#: far more than a consumer pause of a few hundred ms needs.
QUEUE_SIZE = 1024
#: Reconnect back-off: first wait and ceiling (s), doubling in between.
BACKOFF_S = (0.5, 30.0)
_RECOVERABLE = (BleakError, SensorError, OSError, asyncio.TimeoutError, TimeoutError)
_END = None  # queue sentinel: the session is over


class Driver(Protocol):
    """What :mod:`firmware_bridge.transport` drivers offer a session."""

    protocol: str
    timing: str  # "device" (frames carry time stamps) or "host"
    data_uuid: str
    wanted_fs: float | None
    wanted_range: float | None

    async def configure(
        self, client: BleakClient, on_data: Callable[..., None]
    ) -> StreamSettings: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def decode(self, data: bytes) -> DecodedFrame | None: ...


class Connector(Protocol):
    """Makes a connected :class:`bleak.BleakClient` (real radio or simulated backend)."""

    description: str

    async def connect(self, disconnected: Callable[[BleakClient], None]) -> BleakClient: ...


@dataclass
class SampleBatch:
    """Samples placed on the recording's grid, with what happened while they arrived.

    Attributes
    ----------
    t : ndarray of float64
        Seconds from the first sample of the session, ``slot / fs`` (strictly increasing).
    xyz : ndarray of float32, shape (n, 3)
        Acceleration in g.
    gaps : list of (start_s, end_s, n_missing)
        Missing samples before or between these (``[start_s, end_s)`` on the grid).
    notes : list of dict
        Events worth logging (link lost, reconnected, device clock jump, queue overflow,
        periodic host/device clock pairs), each with ``kind`` and ``t_s``.
    arrival : float
        Clock time the first notification of the batch arrived.
    arrival_perf : float
        ``time.perf_counter()`` at that moment (latency measurements).
    start_utc : datetime or None
        Absolute time of the session's first sample (set from the host clock on the batch
        that holds it, else None).
    """

    t: np.ndarray
    xyz: np.ndarray
    gaps: list[tuple[float, float, int]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    arrival: float = 0.0
    arrival_perf: float = 0.0
    start_utc: datetime | None = None


@dataclass
class SessionStats:
    """Counters for the live status line."""

    state: str = "idle"
    samples: int = 0
    notifications: int = 0
    drops: int = 0
    duplicates: int = 0
    bad_frames: int = 0
    gaps: int = 0
    gap_s: float = 0.0
    reconnects: int = 0
    battery: int | None = None
    last_t: float = 0.0
    recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=4096))

    def rate(self, now: float, window_s: float = 10.0) -> float:
        """Samples per clock second that arrived over the last ``window_s`` before ``now``."""
        while self.recent and self.recent[0][0] < now - window_s:
            self.recent.popleft()
        if len(self.recent) < 2:
            return 0.0
        span = self.recent[-1][0] - self.recent[0][0]
        # The first notification's samples were taken before the window opened.
        return sum(n for _, n in list(self.recent)[1:]) / span if span > 0 else 0.0


async def first_of(*awaitables: Awaitable[Any]) -> None:
    """Wait until the first of ``awaitables`` is done; cancel the others."""
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()


class SensorSession:
    """A live stream from one sensor.

    Parameters
    ----------
    label : str
        Name in messages and the status line (``wrist``, ``ankle``, ...).
    connector : Connector
    driver : Driver
    clock : Clock
    queue_size : int
        Bound of the notification queue.
    backoff_s : (float, float)
        First reconnect wait and its ceiling.
    battery_every_s : float
        Clock seconds between battery reads.
    clock_note_every_s : float
        Clock seconds between ``clock`` notes pairing host and device time.
    """

    def __init__(
        self,
        label: str,
        connector: Connector,
        driver: Driver,
        clock: Clock,
        *,
        queue_size: int = QUEUE_SIZE,
        backoff_s: tuple[float, float] = BACKOFF_S,
        battery_every_s: float = 600.0,
        clock_note_every_s: float = 60.0,
    ) -> None:
        self.label = label
        self.connector = connector
        self.driver = driver
        self.clock = clock
        self.backoff_s = backoff_s
        self.battery_every_s = battery_every_s
        self.clock_note_every_s = clock_note_every_s
        self.stats = SessionStats()
        self.settings: StreamSettings | None = None
        self.device_name: str | None = None
        self.device_info: dict[str, str] = {}
        self.end_reason: str | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=queue_size)
        self._client: BleakClient | None = None
        self._link_down = asyncio.Event()
        self._device_stopped = asyncio.Event()
        self._epoch = 0
        self._placed_epoch = 0
        self._drop_pending = 0  # notifications dropped since the last one queued
        self._unplaced_drops = 0  # ... and not yet followed by placed samples
        self._closed = False
        self._notes: list[dict[str, Any]] = []
        self._timeline: DeviceClockTimeline | HostClockTimeline | None = None
        self._grid: SlotGrid | None = None
        self._start_utc: datetime | None = None
        self._last_clock_note = -float("inf")

    # -- connection and set-up

    async def open(self) -> StreamSettings:
        """Connect, enable notifications, read the settings and choose the stream's.

        Raises
        ------
        SensorError
            Not found, Bluetooth unavailable, settings not offered.
        """
        await self._connect()
        assert self._client is not None
        self.device_name = self._client.name
        try:
            self.settings = await self.driver.configure(self._client, self._on_notify)
        except BleakCharacteristicNotFoundError as exc:
            raise SensorRefused(
                f"has no characteristic {exc.char_specifier}: not a {self.driver.protocol} sensor?"
            ) from None
        except (BleakError, OSError, asyncio.TimeoutError) as exc:
            raise explain(exc) or SensorError(str(exc)) from None
        # Later reconnects must get the same stream back, or the recording would change rate.
        self.driver.wanted_fs = self.settings.fs
        self.driver.wanted_range = self.settings.range_g
        self.device_info = await read_device_info(self._client)
        self.stats.battery = await read_battery(self._client)
        fs, jitter = self.settings.fs, self.clock.jitter_s
        self._timeline = (
            DeviceClockTimeline(fs, jitter) if self.driver.timing == "device"
            else HostClockTimeline(fs, jitter)
        )  # fmt: skip
        self._grid = SlotGrid(fs)
        return self.settings

    async def start(self) -> None:
        """Start the stream (raises :class:`SensorRefused` when the sensor refuses)."""
        self._epoch += 1  # before the command: its first frame may arrive with the answer
        self._device_stopped.clear()
        try:
            await self.driver.start()
        except (BleakError, OSError, asyncio.TimeoutError) as exc:
            raise explain(exc) or SensorError(str(exc)) from None
        self.stats.state = "streaming"

    async def _connect(self) -> None:
        self._link_down = asyncio.Event()
        self._client = await self.connector.connect(self._on_disconnect)

    def _on_disconnect(self, _client: BleakClient) -> None:
        if not self._closed:
            self._link_down.set()

    def device_stopped(self) -> None:
        """The sensor ended the stream itself (the driver calls this); restarted next."""
        self._device_stopped.set()

    # -- the notification callback: synchronous, never blocks

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        item = (self._epoch, self.clock.now(), time.perf_counter(), self._drop_pending, bytes(data))
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.stats.drops += 1
            self._drop_pending += 1
        else:
            self._drop_pending = 0

    # -- running

    async def run(self, sink: Callable[[SampleBatch], None], stop: asyncio.Event) -> str:
        """Stream into ``sink`` until ``stop`` is set or the sensor is gone for good.

        Returns the reason the session ended. The stream is stopped and the link closed
        before this returns (also on errors and cancellation); every notification that
        arrived is handed to ``sink`` first.
        """
        consumer = asyncio.create_task(self._consume(sink))
        supervisor = asyncio.create_task(self._supervise(stop))
        try:
            done, _ = await asyncio.wait(
                {consumer, supervisor}, return_when=asyncio.FIRST_COMPLETED
            )
            if consumer in done:
                consumer.result()  # the sink failed: raise it
                raise RuntimeError("the consumer ended before the session")
            self.end_reason = supervisor.result()
            return self.end_reason
        finally:
            if not supervisor.done():
                supervisor.cancel()  # and let it go before closing: it may be reconnecting
                with contextlib.suppress(asyncio.CancelledError):
                    await supervisor
            await self.close()
            if not consumer.done():
                await self._queue.put(_END)
                await consumer

    async def close(self) -> None:
        """Stop the stream and disconnect (idempotent; errors only logged: the link may be gone)."""
        if self._closed:
            return
        self._closed = True
        client = self._client
        if client is not None and client.is_connected:
            self.stats.state = "stopping"
            await self.driver.stop()
            with contextlib.suppress(*_RECOVERABLE):
                await client.disconnect()
        self.stats.state = "stopped"

    async def _supervise(self, stop: asyncio.Event) -> str:
        while True:
            battery = asyncio.ensure_future(self.clock.sleep(self.battery_every_s))
            await first_of(
                stop.wait(), self._link_down.wait(), self._device_stopped.wait(), battery
            )
            if stop.is_set():
                return "stopped"
            if self._link_down.is_set():
                reason = await self._reconnect(stop)
                if reason is not None:
                    return reason
            elif self._device_stopped.is_set():
                reason = await self._restart_after_device_stop()
                if reason is not None:
                    return reason
            elif battery.done() and self._client is not None and self._client.is_connected:
                self.stats.battery = await read_battery(self._client)

    async def _restart_after_device_stop(self) -> str | None:
        self._note("device_stopped_stream")
        self.stats.state = "restarting"
        try:
            await self.start()
        except SensorRefused as exc:
            return f"the sensor stopped streaming and refused to restart: {exc}"
        except _RECOVERABLE as exc:
            log.info("%s: restart after device stop failed (%s); reconnecting", self.label, exc)
            self._link_down.set()
            return None
        self._note("stream_restarted")
        return None

    async def _reconnect(self, stop: asyncio.Event) -> str | None:
        self.stats.state = "reconnecting"
        self._note("link_lost")
        delay = self.backoff_s[0]
        while not stop.is_set():
            await first_of(self.clock.sleep(delay), stop.wait())
            if stop.is_set():
                return "stopped"
            try:
                old, self._client = self._client, None
                if old is not None:
                    with contextlib.suppress(*_RECOVERABLE):
                        await old.disconnect()
                await self._connect()
                assert self._client is not None and self.settings is not None
                settings = await self.driver.configure(self._client, self._on_notify)
                self.stats.battery = await read_battery(self._client)
                await self.start()
            except SensorRefused as exc:
                return f"the sensor refused its settings after reconnecting: {exc}"
            except _RECOVERABLE as exc:
                log.info("%s: reconnect failed (%s); next try in %.1f s", self.label, exc, delay)
                delay = min(2 * delay, self.backoff_s[1])
                continue
            self.stats.reconnects += 1
            self._note("reconnected", fs=settings.fs)
            return None
        return "stopped"

    def _note(self, kind: str, **extra: Any) -> None:
        self._notes.append(
            {"kind": kind, "t_s": round(self.stats.last_t, 6),
             "utc": self.clock.utc(self.clock.now()).isoformat(), **extra}
        )  # fmt: skip

    # -- consuming

    async def _consume(self, sink: Callable[[SampleBatch], None]) -> None:
        while True:
            items = [await self._queue.get()]
            while not self._queue.empty():
                items.append(self._queue.get_nowait())
            end = _END in items
            if end:
                items = items[: items.index(_END)]
            batch = self._place(items)
            if batch is not None:
                sink(batch)
            if end:
                return

    def _place(self, items: list[tuple[int, float, float, int, bytes]]) -> SampleBatch | None:
        assert self._timeline is not None and self.settings is not None
        out = _BatchParts(notes=self._notes)
        self._notes = []
        together: list[tuple[np.ndarray, float, float]] = []  # host-timed, arrived at once
        for epoch, arrival, perf, dropped, data in items:
            self.stats.notifications += 1
            if epoch != self._placed_epoch or dropped:
                self._place_together(together, out)
            if epoch != self._placed_epoch:
                self._timeline.restart()
                self._placed_epoch = epoch
            self._unplaced_drops += dropped
            try:
                decoded = self.driver.decode(data)
            except CodecError as exc:
                self.stats.bad_frames += 1
                log.info("%s: undecodable notification: %s", self.label, exc)
                continue
            if decoded is None:
                continue
            n = len(decoded.frame)
            if isinstance(self._timeline, DeviceClockTimeline):
                assert decoded.device_ns is not None
                placed = self._timeline.place(decoded.device_ns, n, arrival)
                self._accept(placed, [decoded.frame.g], arrival, perf, decoded.device_ns, out)
            elif self._timeline.is_duplicate(data, arrival, n):
                self.stats.duplicates += 1
            else:
                if together and arrival - together[-1][1] > 0.5 * n / self.settings.fs:
                    self._place_together(together, out)
                together.append((decoded.frame.g, arrival, perf))
        self._place_together(together, out)
        return out.batch(self.clock)

    def _place_together(
        self, together: list[tuple[np.ndarray, float, float]], out: _BatchParts
    ) -> None:
        """Place host-timed notifications that arrived together as one block."""
        if not together:
            return
        assert isinstance(self._timeline, HostClockTimeline)
        gs = [g for g, _, _ in together]
        placed = self._timeline.place(
            sum(g.shape[0] for g in gs), together[-1][1], after_drop=self._unplaced_drops > 0
        )
        self._accept(placed, gs, together[-1][1], together[0][2], None, out)
        together.clear()

    def _accept(
        self,
        placed: Placement,
        gs: list[np.ndarray],
        arrival: float,
        perf: float,
        device_ns: int | None,
        out: _BatchParts,
    ) -> None:
        """Put placed samples on the grid; count what was dropped; collect notes."""
        assert self._grid is not None and self.settings is not None
        fs = self.settings.fs
        if placed.kind == "duplicate":
            self.stats.duplicates += 1
            return
        if placed.kind != "ok":
            self.stats.bad_frames += 1
            return
        lost_before, self._unplaced_drops = self._unplaced_drops, 0
        slots, new_gaps = self._grid.place(placed.times)
        t = slots / fs
        if self._start_utc is None:
            span = float(placed.times[-1] - placed.times[0])
            self._start_utc = out.start_utc = self.clock.utc(arrival - span)
        for slot, count in new_gaps:
            out.gaps.append((slot / fs, (slot + count) / fs, count))
            self.stats.gaps += 1
            self.stats.gap_s += count / fs
        if lost_before:
            out.notes.append(
                {"kind": "queue_overflow", "t_s": float(t[0]), "notifications": lost_before}
            )
        if placed.note is not None:
            out.notes.append({**placed.note, "t_s": float(t[0])})
        if arrival - self._last_clock_note >= self.clock_note_every_s:
            self._last_clock_note = arrival
            out.notes.append(
                {"kind": "clock", "t_s": float(t[-1]), "utc": self.clock.utc(arrival).isoformat(),
                 "device_ns": device_ns}
            )  # fmt: skip
        out.t.append(t)
        out.xyz.extend(gs)
        if out.first is None:
            out.first = (arrival, perf)
        self.stats.samples += t.shape[0]
        self.stats.last_t = float(t[-1])
        self.stats.recent.append((arrival, t.shape[0]))


@dataclass
class _BatchParts:
    """What one drain of the queue produced, before it becomes a :class:`SampleBatch`."""

    notes: list[dict[str, Any]]
    t: list[np.ndarray] = field(default_factory=list)
    xyz: list[np.ndarray] = field(default_factory=list)
    gaps: list[tuple[float, float, int]] = field(default_factory=list)
    first: tuple[float, float] | None = None
    start_utc: datetime | None = None

    def batch(self, clock: Clock) -> SampleBatch | None:
        if not self.t and not self.notes:
            return None
        first = self.first or (clock.now(), time.perf_counter())
        return SampleBatch(
            t=np.concatenate(self.t) if self.t else np.empty(0),
            xyz=np.concatenate(self.xyz) if self.xyz else np.empty((0, 3), dtype=np.float32),
            gaps=self.gaps,
            notes=self.notes,
            arrival=first[0],
            arrival_perf=first[1],
            start_utc=self.start_utc,
        )
