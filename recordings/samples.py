"""Samples as every reader hands them on: chunks of time and 3-axis acceleration.

Every reader (CSV, device files, our own recordings, a live sensor) produces a
:class:`SampleStream`: metadata known up front (:class:`StreamInfo`) and an iterator of
:class:`SampleChunk`. Chunks keep memory bounded: a 7-day 100 Hz file is never in memory at once.
Time is in seconds from the recording's start (float64), acceleration in g (float32).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PLACEMENTS = ("wrist", "ankle", "left_ankle", "right_ankle", "unknown")


@dataclass
class SampleChunk:
    """Consecutive samples of one recording.

    Attributes
    ----------
    t : ndarray of float64, shape (n,)
        Seconds from the recording's start, strictly increasing (also across chunks).
    xyz : ndarray of float32, shape (n, 3)
        Acceleration in g.
    """

    t: np.ndarray
    xyz: np.ndarray

    def __post_init__(self) -> None:
        self.t = np.ascontiguousarray(self.t, dtype=np.float64)
        self.xyz = np.ascontiguousarray(self.xyz, dtype=np.float32)
        if self.t.ndim != 1 or self.xyz.shape != (self.t.shape[0], 3):
            raise ValueError(f"chunk shapes t{self.t.shape} xyz{self.xyz.shape} do not match")

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
        One of :data:`PLACEMENTS`; ``"unknown"`` where the file does not say.
    utc_offset_s : float
        Offset of local time from UTC in seconds at the start, used to split nights noon to noon.
    meta : dict
        Anything else the reader knows (device, serial, firmware, range, temperature units ...).
    """

    source: str
    fs: float
    start_utc: str | None = None
    placement: str = "unknown"
    utc_offset_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


class SampleStream:
    """A recording's metadata and its samples as an iterator of chunks.

    Readers subclass this (or build it from a generator). ``gaps`` lists spans the *reader*
    knows to be missing or damaged (for example device blocks with a bad checksum), as
    ``[start_s, end_s]``; gaps visible as jumps in ``t`` are found downstream from the times.

    Parameters
    ----------
    info : StreamInfo
    chunks : iterator of SampleChunk
    """

    def __init__(self, info: StreamInfo, chunks: Iterator[SampleChunk]) -> None:
        self.info = info
        self._chunks = chunks
        self.gaps: list[list[float]] = []

    def __iter__(self) -> Iterator[SampleChunk]:
        return self._chunks

    @classmethod
    def from_arrays(
        cls,
        t: np.ndarray,
        xyz: np.ndarray,
        info: StreamInfo,
        chunk_size: int = 1 << 20,
    ) -> SampleStream:
        """Wrap in-memory arrays (synthetic nights, tests) as a stream of chunks."""
        t = np.asarray(t, dtype=np.float64)
        xyz = np.asarray(xyz, dtype=np.float32)

        def gen() -> Iterator[SampleChunk]:
            for i in range(0, t.shape[0], chunk_size):
                yield SampleChunk(t[i : i + chunk_size], xyz[i : i + chunk_size])

        return cls(info, gen())
