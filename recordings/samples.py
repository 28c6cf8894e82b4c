"""Samples as every reader hands them on: chunks of time and 3-axis acceleration.

Every reader (CSV, device files, our own recordings, a live sensor) produces a
:class:`SampleStream`: metadata known up front (:class:`StreamInfo`) and an iterator of
:class:`SampleChunk`. Chunks keep memory bounded: a 7-day 100 Hz file is never in memory at once.
Time is in seconds from the recording's start (float64), acceleration in g (float32).

Auxiliary channels (skin temperature, light) travel in the same chunks at their own rate: each
chunk carries the auxiliary samples whose times fall in it, so a streaming consumer sees them in
time order beside the acceleration, never the whole recording at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hypnic.detector.vocabulary import UNKNOWN

#: Auxiliary channels a reader may hand on beside the acceleration, with their unit. Temperature
#: is the sensor's own (on the skin when worn: the non-wear evidence of DETACH, Vert et al. 2022);
#: light is in the device's unit (lux for GENEActiv, the raw log-scale count for Axivity), named
#: in ``StreamInfo.meta["light_unit"]``.
AUX_UNITS = {"temperature": "degC", "light": "device"}


@dataclass
class SampleChunk:
    """Consecutive samples of one recording.

    Attributes
    ----------
    t : ndarray of float64, shape (n,)
        Seconds from the recording's start, strictly increasing (also across chunks).
    xyz : ndarray of float32, shape (n, 3)
        Acceleration in g.
    aux : dict of str to (ndarray, ndarray)
        Auxiliary channels (keys of :data:`AUX_UNITS`) as ``(t, values)``: their own sample
        times (s from the recording's start, float64, increasing across chunks) and values
        (float64, NaN where the device's value is invalid). Empty when the chunk holds none.
    """

    t: np.ndarray
    xyz: np.ndarray
    aux: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.t = np.ascontiguousarray(self.t, dtype=np.float64)
        self.xyz = np.ascontiguousarray(self.xyz, dtype=np.float32)
        if self.t.ndim != 1 or self.xyz.shape != (self.t.shape[0], 3):
            raise ValueError(f"chunk shapes t{self.t.shape} xyz{self.xyz.shape} do not match")
        for name, (ta, va) in list(self.aux.items()):
            if name not in AUX_UNITS:
                raise ValueError(f"unknown auxiliary channel {name!r}")
            ta = np.ascontiguousarray(ta, dtype=np.float64)
            va = np.ascontiguousarray(va, dtype=np.float64)
            if ta.ndim != 1 or va.shape != ta.shape:
                raise ValueError(f"auxiliary channel {name} shapes t{ta.shape} v{va.shape} do not match")
            self.aux[name] = (ta, va)

    def __len__(self) -> int:
        return int(self.t.shape[0])


@dataclass
class StreamInfo:
    """What is known about a recording before its samples are read.

    Attributes
    ----------
    source : str
        The file or device the samples come from (used in error messages).
    fs : float
        Nominal sample rate in Hz (the device's setting, or the median interval of the first
        samples for a plain CSV).
    start_utc : str or None
        Absolute start time of ``t = 0`` (UTC, ISO 8601), where known.
    placement : str
        One of :data:`detector.vocabulary.PLACEMENTS`; ``"unknown"`` where the file does not say.
    utc_offset_s : float
        Offset of local time from UTC in seconds at the start, used to split nights noon to noon.
    meta : dict
        Anything else the reader knows (device, serial, firmware, range, temperature units ...).
    """

    source: str
    fs: float
    start_utc: str | None = None
    placement: str = UNKNOWN
    utc_offset_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


class SampleStream:
    """A recording's metadata and its samples as an iterator of chunks.

    Readers subclass this (or build it from a generator). ``gaps`` lists spans the *reader*
    knows to be missing or damaged (for example device blocks with a bad checksum), as
    ``[start_s, end_s]``; gaps visible as jumps in ``t`` are found downstream from the times.
    ``idle`` lists spans in which the device sampled nothing because it lay still (ActiGraph's
    idle sleep mode): not lost data, so the reader fills them with the last sample and they are
    never gaps. ``aux_channels`` names the auxiliary channels the chunks may carry.

    Parameters
    ----------
    info : StreamInfo
    chunks : iterator of SampleChunk
    """

    def __init__(self, info: StreamInfo, chunks: Iterator[SampleChunk]) -> None:
        self.info = info
        self._chunks = chunks
        self.gaps: list[list[float]] = []
        self.idle: list[list[float]] = []
        self.aux_channels: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[SampleChunk]:
        return self._chunks

    @classmethod
    def from_arrays(
        cls,
        t: np.ndarray,
        xyz: np.ndarray,
        info: StreamInfo,
        chunk_size: int = 1 << 20,
        aux: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> SampleStream:
        """Wrap in-memory arrays (synthetic nights, tests) as a stream of chunks.

        ``aux`` (channel -> (t, values)) is cut at the chunks' boundaries in time: each chunk
        carries the auxiliary samples from its first sample's time to the next chunk's; the
        first chunk also those before it, the last those after it.
        """
        t = np.asarray(t, dtype=np.float64)
        xyz = np.asarray(xyz, dtype=np.float32)
        aux = {k: (np.asarray(a, np.float64), np.asarray(v, np.float64)) for k, (a, v) in (aux or {}).items()}

        def gen() -> Iterator[SampleChunk]:
            starts = list(range(0, t.shape[0], chunk_size))
            for j, i in enumerate(starts):
                lo = -np.inf if j == 0 else t[i]
                hi = np.inf if j == len(starts) - 1 else t[starts[j + 1]]
                part = {}
                for k, (ta, va) in aux.items():
                    a, b = np.searchsorted(ta, [lo, hi], side="left")
                    if b > a:
                        part[k] = (ta[a:b], va[a:b])
                yield SampleChunk(t[i : i + chunk_size], xyz[i : i + chunk_size], part)

        stream = cls(info, gen())
        stream.aux_channels = tuple(aux)
        return stream
