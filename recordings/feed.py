"""Feeding a stream as a sensor would have delivered it: sensor-sized frames, paced or not.

:func:`frames` re-cuts any stream into frames of :data:`FRAME_S` seconds (the size of a BLE
sensor's notification batches), :func:`paced` hands each frame on when the recording's own clock
says the sensor would have, and :func:`tapped` shows every chunk to observers on its way (a
progress bar, a live burst display, the EDF export's grid). All three return a
:class:`DerivedStream`: the original's metadata, gaps, idle spans and auxiliary channels, with
new chunks. ``hypnic replay`` (:mod:`hypnic.replay`) feeds a recording this way.

The burst detector carries all its state in arrays and gives the same result for any chunking
(:class:`detector.bursts.StreamingDetector`), so a stream fed in frames gives the same events as
the stream read whole. Gap padding never reaches the detector: the readers
(:func:`recordings.recording.open_recording`) leave it out and list the gaps in ``stream.gaps``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np

from hypnic.recordings.samples import SampleChunk, SampleStream

#: Frame length fed to the detector: one second of samples, the order of a BLE sensor's
#: notification batches (Polar PMD ACC frames hold ~36-72 samples at 25-52 Hz, BLE.md) and of
#: the 1-2 s data records of a recording folder (recordings/edf_writer.py).
FRAME_S = 1.0
#: The clock and the wait that pace ``--realtime`` (module attributes, so tests can fake them).
wall_clock: Callable[[], float] = time.monotonic
wait: Callable[[float], None] = time.sleep


class DerivedStream(SampleStream):
    """A stream with another stream's metadata, gaps, idle spans and auxiliary channels, and
    chunks made from its chunks.

    ``gaps`` and ``idle`` are read from the original on every access, because some readers
    (device files) complete their lists only while they are read.

    Parameters
    ----------
    original : SampleStream
    chunks : iterator of SampleChunk
        Usually a generator over ``original``.
    """

    def __init__(self, original: SampleStream, chunks: Iterator[SampleChunk]) -> None:
        # SampleStream.__init__ would reset ``gaps``; the original's list is the one that counts.
        self.info = original.info
        self._chunks = chunks
        self._original = original

    @property
    def gaps(self) -> list[list[float]]:  # type: ignore[override]
        """The original stream's gaps (``[start_s, end_s]``)."""
        return self._original.gaps

    @property
    def idle(self) -> list[list[float]]:  # type: ignore[override]
        """The original stream's idle spans (``[start_s, end_s]``)."""
        return getattr(self._original, "idle", [])

    @property
    def aux_channels(self) -> tuple[str, ...]:  # type: ignore[override]
        """The original stream's auxiliary channels."""
        return getattr(self._original, "aux_channels", ())


def frame_samples(fs: float, frame_s: float = FRAME_S) -> int:
    """Samples in one frame of ``frame_s`` seconds at ``fs`` Hz (at least one)."""
    if not (math.isfinite(frame_s) and frame_s > 0):
        raise ValueError(f"frame length must be a positive number of seconds, got {frame_s!r}")
    return max(1, round(fs * frame_s))


class _AuxQueue:
    """Auxiliary readings between the chunks they came in and the frames they go out in."""

    def __init__(self) -> None:
        self.parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(self, aux: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
        for name, values in aux.items():
            self.parts.setdefault(name, []).append(values)

    def take(self, until: float | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Readings up to ``until`` (s), or all when None."""
        out = {}
        for name, parts in list(self.parts.items()):
            ta = np.concatenate([a for a, _ in parts]) if len(parts) > 1 else parts[0][0]
            va = np.concatenate([v for _, v in parts]) if len(parts) > 1 else parts[0][1]
            k = ta.size if until is None else int(np.searchsorted(ta, until, side="right"))
            if k:
                out[name] = (ta[:k], va[:k])
            if k < ta.size:
                self.parts[name] = [(ta[k:], va[k:])]
            else:
                del self.parts[name]
        return out


def frames(stream: SampleStream, n: int) -> DerivedStream:
    """Re-cut a stream into chunks of exactly ``n`` samples (the last one may be shorter).

    Auxiliary readings go out in order, each in the first frame whose last sample is at or
    after it (those after the last sample in the last frame): the same readings, in the same
    order, whatever the frame length.

    Parameters
    ----------
    stream : SampleStream
    n : int
        Samples per frame, ≥ 1.
    """
    if n < 1:
        raise ValueError(f"a frame holds at least one sample, got {n}")

    queue = _AuxQueue()

    def cut() -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The samples as frames of ``n`` (the last one shorter), each chunk's readings queued
        before its frames go out."""
        t_left = np.empty(0, dtype=np.float64)
        x_left = np.empty((0, 3), dtype=np.float32)
        for chunk in stream:
            queue.add(chunk.aux)
            if t_left.shape[0]:
                t = np.concatenate([t_left, chunk.t])
                xyz = np.concatenate([x_left, chunk.xyz])
            else:
                t, xyz = chunk.t, chunk.xyz
            whole = t.shape[0] - t.shape[0] % n
            for i in range(0, whole, n):
                yield t[i : i + n], xyz[i : i + n]
            t_left, x_left = t[whole:], xyz[whole:]
        if t_left.shape[0]:
            yield t_left, x_left

    def plain() -> Iterator[SampleChunk]:
        for t, xyz in cut():
            yield SampleChunk(t, xyz)

    def gen() -> Iterator[SampleChunk]:
        held: tuple[np.ndarray, np.ndarray] | None = None  # the last frame so far
        for frame in cut():
            if held is not None:
                yield SampleChunk(held[0], held[1], queue.take(float(held[0][-1])))
            # Held back one frame: only once another follows is it known not to be the last,
            # which takes every reading left.
            held = frame
        if held is not None:
            yield SampleChunk(held[0], held[1], queue.take(None))

    # A stream without auxiliary channels is cut without holding a frame back.
    return DerivedStream(stream, gen() if getattr(stream, "aux_channels", ()) else plain())


def paced(
    stream: SampleStream,
    speed: float = 1.0,
    *,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> DerivedStream:
    """Hand on each chunk when the sensor would have: paced by the recording's own clock.

    A chunk is due once its last sample is complete, ``1/fs`` after that sample's time; the
    first chunk's first sample is the moment replay starts. Gaps pass as the time they took.

    Parameters
    ----------
    stream : SampleStream
    speed : float
        Recording seconds per wall-clock second (1 = real time).
    clock, sleep : callable, optional
        Wall clock and wait; by default this module's :data:`wall_clock` and :data:`wait`,
        looked up when the replay starts (tests swap them for fakes).
    """
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be a positive number, got {speed!r}")
    period = 1.0 / stream.info.fs
    clock = clock or wall_clock
    sleep = sleep or wait

    def gen() -> Iterator[SampleChunk]:
        origin: float | None = None
        for chunk in stream:
            if len(chunk):
                if origin is None:
                    origin = clock() - float(chunk.t[0]) / speed
                delay = origin + (float(chunk.t[-1]) + period) / speed - clock()
                if delay > 0:
                    sleep(delay)
            yield chunk

    return DerivedStream(stream, gen())


def tapped(stream: SampleStream, *taps: Callable[[SampleChunk], None]) -> DerivedStream:
    """Call every tap with each chunk before handing the chunk on."""

    def gen() -> Iterator[SampleChunk]:
        for chunk in stream:
            for tap in taps:
                tap(chunk)
            yield chunk

    return DerivedStream(stream, gen())


def expected_duration_s(stream: SampleStream) -> float | None:
    """The recording's length where its metadata tells it (real samples plus gaps), else None."""
    n = stream.info.meta.get("n_samples")
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        return None
    gaps = sum(max(0.0, float(b) - float(a)) for a, b in stream.gaps)
    return n / stream.info.fs + gaps
