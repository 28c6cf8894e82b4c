"""What every device reader shares: turning decoded batches into a :class:`SampleStream`.

A device reader decodes its file into *batches*: times in seconds from an integer ``origin``
(the device clock's epoch seconds, naive local time), acceleration in g and, where the device
records them, auxiliary channels (skin temperature, light) at their own times. This module turns
them into the project's stream: ``t`` from the first sample, the absolute start in UTC, gaps and
idle spans moved into ``stream.gaps`` and ``stream.idle`` as the reader finds them, each batch's
auxiliary samples handed on in the chunk made from that batch, and every decoding failure as one
:class:`~hypnic.recordings.errors.InputError` line, never a traceback.

Times stay relative to an integer origin while decoding so float64 keeps sub-microsecond
resolution (epoch seconds ~1.7e9 would leave ~2e-7 s).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from hypnic.detector.vocabulary import PLACEMENTS, UNKNOWN, ankle_placement
from hypnic.recordings.errors import InputError
from hypnic.recordings.reader_common import parse_start
from hypnic.recordings.samples import AUX_UNITS, SampleChunk, SampleStream, StreamInfo

#: Default size of a chunk handed on (samples). 2^20 samples are ~20 MB as t + xyz.
CHUNK_SAMPLES = 1 << 20

#: Errors a decoder may raise on damaged bytes that the readers do not foresee one by one;
#: they become one InputError line naming the file.
DECODE_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    OverflowError,
    struct.error,
    zipfile.BadZipFile,
    zlib.error,
)

CLOCK_NAIVE = "device local time without a UTC offset in the file; treated as UTC"


@dataclass
class Batch:
    """Decoded samples of one stretch of a device file.

    Attributes
    ----------
    t : ndarray of float64
        Seconds from the decoder's ``origin``, increasing.
    xyz : ndarray, shape (n, 3)
        Acceleration in g.
    aux : dict of str to (ndarray, ndarray)
        Auxiliary channels decoded from the same stretch of the file: ``(t, values)`` with ``t``
        in seconds from ``origin`` (increasing) and values in the units of
        :data:`recordings.samples.AUX_UNITS` (NaN where the device's value is invalid).
    """

    t: np.ndarray
    xyz: np.ndarray
    aux: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass
class DecodeState:
    """What a decoder reports besides samples.

    Attributes
    ----------
    origin : int
        Epoch seconds (device clock, naive local time) that batch times count from.
    gaps : list of [float, float]
        Spans (seconds from ``origin``) the decoder knows are missing or damaged; appended
        while decoding, moved into the stream as chunks are handed on.
    idle : list of [float, float]
        Spans (seconds from ``origin``) in which the device did not sample because it lay still
        (ActiGraph idle sleep mode); the decoder fills them with the last sample before the
        pause. Moved into ``stream.idle`` (merged where they touch) as chunks are handed on.
    counts : dict
        Tallies for the metadata (damaged blocks, dropped records ...), complete at the end.
    """

    origin: int = 0
    gaps: list[list[float]] = field(default_factory=list)
    idle: list[list[float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        """Add ``n`` to the tally ``name``."""
        self.counts[name] = self.counts.get(name, 0) + n


def iso_utc(epoch_s: float) -> str:
    """Epoch seconds as ISO 8601 in UTC with an explicit ``+00:00`` (microseconds)."""
    when = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=float(epoch_s))
    return when.isoformat(timespec="microseconds")


def placement_from_text(*texts: str) -> str:
    """Map free text a device file holds about where it was worn to one of
    :data:`detector.vocabulary.PLACEMENTS`.

    ``"left ankle"`` -> ``left_ankle``, ``"R ankle"`` -> ``right_ankle``, ``"ankle"`` ->
    ``ankle``, anything with ``wrist`` -> ``wrist``; otherwise ``unknown``.
    """
    words = set(re.split(r"[^a-z]+", " ".join(t for t in texts if t).lower()))
    if "ankle" in words:
        if words & {"left", "l"}:
            return ankle_placement("left")
        if words & {"right", "r"}:
            return ankle_placement("right")
        return "ankle"
    if "wrist" in words:
        return "wrist"
    return UNKNOWN


def _first_batch(source: Path, batches: Iterator[Batch]) -> Batch:
    for batch in batches:
        if len(batch.t):
            return batch
    raise InputError(source, "no samples: the file holds no readable accelerometer data")


def _decode_failure(source: Path, exc: BaseException) -> InputError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return InputError(source, f"cannot decode the file, it is damaged or cut short ({detail})")


def device_stream(
    source: Path,
    batches: Iterator[Batch],
    state: DecodeState,
    *,
    fs: float,
    utc_offset_s: float,
    placement: str,
    meta: dict[str, Any],
    start: str | None,
    aux_channels: tuple[str, ...] = (),
) -> SampleStream:
    """Build the stream of a device file from its decoder.

    The first batch is decoded here, so a file with no samples, or damaged at its start,
    fails at open time, and the start time is known before any sample is handed on.

    Parameters
    ----------
    source : Path
        The file (named in errors and in ``StreamInfo.source``).
    batches : iterator of Batch
        The decoder's output; may raise :data:`DECODE_ERRORS` or InputError.
    state : DecodeState
        The decoder's origin, gaps and tallies (filled while ``batches`` runs).
    fs : float
        Nominal sample rate.
    utc_offset_s : float
        Local device time minus UTC, from the file (0 when the file does not say).
    placement : str
        From the file's metadata, one of :data:`detector.vocabulary.PLACEMENTS`.
    meta : dict
        Device, serial, firmware, range ... ; tallies are added to it while reading, so they
        are complete once the stream is exhausted.
    start : str or None
        ``--start``: overrides the device clock's start (ISO 8601; naive means UTC).
    aux_channels : tuple of str
        The auxiliary channels the file holds (keys of :data:`recordings.samples.AUX_UNITS`);
        batches' auxiliary values of any other channel are not handed on.

    Returns
    -------
    SampleStream
        ``t`` in seconds from the first sample, strictly increasing; ``gaps`` and ``idle``
        filled as the chunks are read (complete once the stream is exhausted); each chunk
        carries the auxiliary samples of the batches it was made from, their times on the same
        clock as ``t`` and increasing across chunks.
    """
    try:
        first = _first_batch(source, batches)
    except DECODE_ERRORS as exc:
        raise _decode_failure(source, exc) from None
    t_first = float(first.t[0])
    device_start_utc = iso_utc(state.origin + t_first - utc_offset_s)
    meta = dict(meta)
    meta["device_start_utc"] = device_start_utc
    start_utc = device_start_utc
    if start is not None:
        start_utc, utc_offset_s = parse_start(start)
        meta["start_source"] = "--start (overrides the device clock)"
    else:
        meta["start_source"] = "device clock"
    info = StreamInfo(
        source=str(source),
        fs=float(fs),
        start_utc=start_utc,
        placement=placement if placement in PLACEMENTS else UNKNOWN,
        utc_offset_s=float(utc_offset_s),
        meta=meta,
    )
    gaps: list[list[float]] = []
    idle: list[list[float]] = []
    channels = tuple(c for c in aux_channels if c in AUX_UNITS)
    stream = SampleStream(
        info, _chunks(source, first, batches, state, t_first, (gaps, idle), meta, channels)
    )
    stream.gaps = gaps
    stream.idle = idle
    stream.aux_channels = channels
    return stream


def _move_gaps(state: DecodeState, t_first: float, spans: tuple[list, list]) -> None:
    gaps, idle = spans
    for start, end in state.gaps:
        if end > start:
            gaps.append([max(0.0, start - t_first), end - t_first])
    state.gaps.clear()
    for start, end in state.idle:
        if end <= start:
            continue
        start, end = max(0.0, start - t_first), end - t_first
        # Idle spans one after the other (the device woke for a second and slept again, or
        # one pause reported in pieces) are one span for the consumer.
        if idle and start <= idle[-1][1] + 1e-6:
            idle[-1][1] = max(idle[-1][1], end)
        else:
            idle.append([start, end])
    state.idle.clear()


class _AuxOrder:
    """Shifts a batch's auxiliary samples to stream time and keeps each channel increasing."""

    def __init__(self, channels: tuple[str, ...], t_first: float) -> None:
        self.channels = channels
        self.t_first = t_first
        self.last = {name: -np.inf for name in channels}
        self.dropped = 0

    def __call__(self, aux: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict:
        out = {}
        for name, (ta, va) in aux.items():
            if name not in self.last:
                continue  # a channel the reader did not declare up front
            ta = np.asarray(ta, dtype=np.float64) - self.t_first
            va = np.asarray(va, dtype=np.float64)
            # The same safety net as for the samples: a damaged clock never makes time go back.
            before = np.maximum.accumulate(np.concatenate(([self.last[name]], ta[:-1])))
            keep = ta > before
            if not keep.all():
                self.dropped += int((~keep).sum())
                ta, va = ta[keep], va[keep]
            if len(ta):
                self.last[name] = float(ta[-1])
                out[name] = (ta, va)
        return out


def _chunks(
    source: Path,
    first: Batch,
    batches: Iterator[Batch],
    state: DecodeState,
    t_first: float,
    spans: tuple[list, list],
    meta: dict[str, Any],
    channels: tuple[str, ...],
) -> Iterator[SampleChunk]:
    last = -np.inf
    dropped = 0
    order = _AuxOrder(channels, t_first)
    pending: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    batch: Batch | None = first
    while batch is not None:
        t = np.asarray(batch.t, dtype=np.float64) - t_first
        xyz = batch.xyz
        # A safety net under every reader: t strictly increasing across all chunks, whatever
        # a damaged clock field claimed (readers already order their blocks).
        before = np.maximum.accumulate(np.concatenate(([last], t[:-1])))
        keep = t > before
        if not keep.all():
            dropped += int((~keep).sum())
            t, xyz = t[keep], xyz[keep]
        for name, values in order(batch.aux).items():
            pending.setdefault(name, []).append(values)
        if len(t):
            last = float(t[-1])
            _move_gaps(state, t_first, spans)
            aux = {
                name: (np.concatenate([a for a, _ in parts]), np.concatenate([v for _, v in parts]))
                for name, parts in pending.items()
            }
            pending = {}
            yield SampleChunk(t, xyz, aux)
        try:
            batch = next(batches, None)
        except DECODE_ERRORS as exc:
            raise _decode_failure(source, exc) from None
    _move_gaps(state, t_first, spans)
    if dropped:
        state.count("samples_dropped_time_not_increasing", dropped)
    lost = order.dropped + sum(len(a) for parts in pending.values() for a, _ in parts)
    if lost:
        state.count("aux_samples_dropped", lost)
    meta.update(state.counts)
