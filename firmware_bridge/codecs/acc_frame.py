"""The decoded form every codec hands on: one notification's acceleration samples."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class AccFrame:
    """Acceleration samples decoded from one notification (or one PMD frame).

    Attributes
    ----------
    g : ndarray of float32, shape (n, 3)
        Acceleration in g (x, y, z in the sensor's own axes).
    counts : ndarray of int32, shape (n, 3), or None
        The integers as transmitted (after delta decoding), before scaling; ``None`` for
        protocols that send floats (Movesense).
    timestamps_ns : ndarray of int64, shape (n,), or None
        Time of each sample in ns on the *device* clock (epoch as the protocol defines it:
        Polar counts from 2000-01-01 UTC, Movesense from its own boot); ``None`` when the
        protocol carries no time or the caller gave too little to spread it over the samples.
    frame_time_ns : int or None
        The frame's own time stamp in ns on the device clock, as sent.
    frame_time_index : int or None
        The sample ``frame_time_ns`` belongs to: ``n - 1`` for Polar (the last sample),
        ``0`` for Movesense (the first).
    sample_rate : float or None
        Sample rate in Hz where the caller's settings give it.
    frame_type : int
        Protocol-specific kind of frame: the Polar frame-type byte with its 0x80
        compression bit, the MetaWear register, the WitMotion flag, 0 where there is one kind.
    protocol : str
        Codec that produced the frame, e.g. ``"polar_pmd"``.
    """

    g: np.ndarray
    counts: np.ndarray | None
    timestamps_ns: np.ndarray | None
    frame_time_ns: int | None
    frame_time_index: int | None
    sample_rate: float | None
    frame_type: int
    protocol: str

    def __post_init__(self) -> None:
        g = np.ascontiguousarray(self.g, dtype=np.float32)
        if g.ndim != 2 or g.shape[1] != 3:
            raise ValueError(f"AccFrame.g must have shape (n, 3), got {g.shape}")
        n = g.shape[0]
        object.__setattr__(self, "g", g)
        if self.counts is not None:
            counts = np.ascontiguousarray(self.counts, dtype=np.int32)
            if counts.shape != (n, 3):
                raise ValueError(f"AccFrame.counts shape {counts.shape} does not match g {g.shape}")
            object.__setattr__(self, "counts", counts)
        if self.timestamps_ns is not None:
            ts = np.ascontiguousarray(self.timestamps_ns, dtype=np.int64)
            if ts.shape != (n,):
                raise ValueError(f"AccFrame.timestamps_ns shape {ts.shape} does not match n={n}")
            object.__setattr__(self, "timestamps_ns", ts)
        if self.frame_time_index is not None and not 0 <= self.frame_time_index < n:
            raise ValueError(
                f"AccFrame.frame_time_index {self.frame_time_index} outside 0..{n - 1}"
            )

    def __len__(self) -> int:
        return int(self.g.shape[0])
