"""Clocks for a live session: the host's real clock, and the simulated sensor's fast ones.

Everything time-dependent in a BLE session (reconnect back-off, command time-outs, the
recording's duration, the host time stamp of each notification) goes through one
:class:`Clock`, so a simulated night can run faster than real time with every timing rule
unchanged:

=====================  ==========================================================
clock                  used for
=====================  ==========================================================
:class:`RealClock`     real sensors: the event loop's monotonic clock
:class:`ScaledClock`   the simulated sensor at ``speed`` times real time
:class:`VirtualClock`  the simulated sensor as fast as the host can go: time jumps
                       to the next sleeper as soon as the loop has nothing else to do
=====================  ==========================================================

A clock's ``now()`` is in seconds on its own scale; ``utc(now)`` maps it to absolute time
(for the recording's start), and ``jitter_s`` says how far a notification's host time stamp
may be off (which bounds the gaps that can be found from host time alone, e.g. MetaWear).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
import weakref
from collections.abc import Awaitable
from datetime import datetime, timedelta, timezone
from typing import Protocol, TypeVar

T = TypeVar("T")


class Clock(Protocol):
    """What a session needs from a clock."""

    #: How far a host time stamp may be from the true moment of arrival, in clock seconds.
    jitter_s: float

    def now(self) -> float:
        """Seconds on this clock's scale."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on this clock's scale."""
        ...

    def utc(self, moment: float) -> datetime:
        """Absolute (UTC) time of a moment of this clock."""
        ...


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout: float) -> T:
    """``asyncio.wait_for`` with the time-out measured on ``clock``.

    Raises
    ------
    TimeoutError
        When ``timeout`` clock seconds pass first.
    """
    task = asyncio.ensure_future(awaitable)
    timer = asyncio.ensure_future(clock.sleep(timeout))
    try:
        done, _ = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            return task.result()
        raise TimeoutError(f"no answer within {timeout:g} s")
    finally:
        for fut in (task, timer):
            if not fut.done():
                fut.cancel()


class RealClock:
    """The host's monotonic clock (the running loop's), tied to UTC once at creation.

    ``jitter_s`` is 0.25 s: BLE connection intervals (7.5-50 ms), notifications delivered in
    bursts by the host stack, and BlueZ/D-Bus latency (BLE.md §5) put a notification's host
    arrival up to a few hundred ms after the sensor sent it.
    """

    jitter_s = 0.25

    def __init__(self) -> None:
        self._mono0 = time.monotonic()
        self._utc0 = datetime.now(timezone.utc)

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def utc(self, moment: float) -> datetime:
        return self._utc0 + timedelta(seconds=moment - self._mono0)


class ScaledClock:
    """Real time times ``speed``, starting at 0 when created.

    Parameters
    ----------
    speed : float
        Clock seconds per real second (> 0).
    utc0 : datetime
        Absolute time of clock time 0.

    Notes
    -----
    ``jitter_s`` is 20 ms of real scheduling delay seen at ``speed``: a notification's host
    time stamp is taken when the loop gets round to it.
    """

    def __init__(self, speed: float, utc0: datetime) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.speed = float(speed)
        self.jitter_s = 0.02 * self.speed
        self._t0 = time.monotonic()
        self._utc0 = utc0

    def now(self) -> float:
        return (time.monotonic() - self._t0) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)

    def utc(self, moment: float) -> datetime:
        return self._utc0 + timedelta(seconds=moment)


class VirtualClock:
    """Discrete-event time: a sleeper wakes as soon as every earlier sleeper has woken.

    Time advances only in :meth:`sleep`, and only when the event loop has nothing else ready
    to run: work already queued on the loop -- a consumer woken by a notification, a
    command's response -- runs at the current time before time moves on. A night plays as
    fast as the host processes it, and timing is exact: a notification's host time stamp is
    the moment the simulated sensor sent it, and no consumer ever falls behind the sensor.

    "Nothing else ready" is read from the default asyncio loop's ready queue (``_ready``, a
    private attribute; loops without it, such as uvloop, advance one iteration after the
    wake-up was scheduled, which lets a busy consumer fall behind).

    Parameters
    ----------
    utc0 : datetime
        Absolute time of clock time 0.
    """

    jitter_s = 0.0

    def __init__(self, utc0: datetime) -> None:
        self._utc0 = utc0
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._wake_scheduled = False

    def now(self) -> float:
        return self._now

    def utc(self, moment: float) -> datetime:
        return self._utc0 + timedelta(seconds=moment)

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        due = self._now + max(0.0, seconds)
        heapq.heappush(self._sleepers, (due, next(self._order), fut))
        self._schedule(loop)
        await fut

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self._wake_scheduled:
            self._wake_scheduled = True
            _PENDING_WAKES[loop] = _PENDING_WAKES.get(loop, 0) + 1
            loop.call_soon(self._wake_next, loop)

    def _wake_next(self, loop: asyncio.AbstractEventLoop) -> None:
        while self._sleepers and self._sleepers[0][2].done():  # cancelled sleepers
            heapq.heappop(self._sleepers)
        ready = getattr(loop, "_ready", None)
        # Other callbacks first: time stands still for them (other clocks' wake-ups aside,
        # or two clocks on one loop would wait for each other forever).
        if self._sleepers and ready is not None and len(ready) > _PENDING_WAKES[loop] - 1:
            loop.call_soon(self._wake_next, loop)
            return
        self._wake_scheduled = False
        _PENDING_WAKES[loop] -= 1
        if not self._sleepers:
            return
        due, _, fut = heapq.heappop(self._sleepers)
        self._now = max(self._now, due)
        fut.set_result(None)
        if self._sleepers:
            self._schedule(loop)


#: Wake-ups of virtual clocks waiting in each loop's ready queue.
_PENDING_WAKES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = (
    weakref.WeakKeyDictionary()
)
