"""Where each streamed sample belongs in time, and where samples are missing.

A live stream arrives as notifications of a few samples each. This module turns them into
positions on the recording's grid (one slot every ``1/fs``, slot 0 = the first sample) and
finds the gaps, without BLE or I/O:

- :class:`DeviceClockTimeline` for sensors that stamp their frames (Polar PMD: the time of
  the frame's **last** sample, ns on the device clock, BLE.md §1.7). Samples are spread over
  ``(previous frame time, frame time]`` as the Polar SDK does (``PmdTimeStampUtils``), or
  back from the frame time at the nominal rate when samples are missing before the frame
  (BLE.md §1.7 "Implication": never interpolate across a gap). Duplicated frames are
  dropped; a device clock that jumps (the H10 falls back to 2019-01-01 when left alone,
  BLE.md §1.7) is re-anchored to the host clock.
- :class:`HostClockTimeline` for sensors whose stream carries no time (MetaWear, BLE.md §3):
  samples follow each other at the nominal rate, and the host arrival time says where
  samples were lost (after a queue overflow, a reconnect, or when the host clock runs ahead
  of the samples by more than its jitter).
- :class:`SlotGrid` puts times on the grid: consecutive samples take consecutive slots
  unless the time between them is 1.5 periods or more, the rule
  :meth:`recordings.recording.RecordingWriter.append` uses to pad gaps.

Times here are seconds on the session's *axis*: 0 at the first sample, advancing with the
device clock (or the host clock when re-anchored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hypnic.firmware_bridge.codecs.polar_pmd import TimestampError, sample_timestamps


@dataclass
class Placement:
    """What a timeline decided about one notification.

    Attributes
    ----------
    kind : str
        ``"ok"`` (samples placed), ``"duplicate"`` (a frame seen before: dropped) or
        ``"suspect"`` (a frame whose length contradicts its time stamp, e.g. truncated:
        dropped, its span becomes part of a gap).
    times : ndarray of float64
        Axis time of each sample (empty unless ``kind == "ok"``).
    note : dict or None
        Something worth logging (a device clock jump), as a JSON-ready dict.
    """

    kind: str
    times: np.ndarray = field(default_factory=lambda: np.empty(0))
    note: dict[str, Any] | None = None


class SlotGrid:
    """Assign grid slots to increasing sample times; report the missing slots.

    Parameters
    ----------
    fs : float
        Nominal sample rate (Hz).
    """

    def __init__(self, fs: float) -> None:
        self.fs = float(fs)
        self.last_slot: int | None = None
        self.last_time: float | None = None

    def place(self, times: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """Slots for ``times`` and the gaps before them.

        Returns
        -------
        slots : ndarray of int64
        gaps : list of (first missing slot, number missing)
        """
        times = np.asarray(times, dtype=np.float64)
        if not times.shape[0]:
            return np.empty(0, dtype=np.int64), []
        if self.last_time is None:
            prev_time, prev_slot = times[0] - 1.0 / self.fs, -1
        else:
            assert self.last_slot is not None
            prev_time, prev_slot = self.last_time, self.last_slot
        step = np.maximum(np.rint(np.diff(times, prepend=prev_time) * self.fs), 1).astype(np.int64)
        slots = prev_slot + np.cumsum(step)
        gaps = [(int(slots[i] - step[i] + 1), int(step[i] - 1)) for i in np.flatnonzero(step > 1)]
        self.last_slot = int(slots[-1])
        self.last_time = float(times[-1])
        return slots, gaps


class DeviceClockTimeline:
    """Sample times from frame time stamps (the last sample's, in device ns).

    Parameters
    ----------
    fs : float
        The stream's nominal sample rate (Hz).
    jitter_s : float
        How far a host arrival time may be off (see :mod:`firmware_bridge.clock`).
    jump_tolerance_s : float
        The device clock is taken to have jumped when it went back, or advanced by more than
        this (plus ``jitter_s`` and 0.1 % of the elapsed time, for drift) beyond the host
        clock between two frames. 10 s is far above BLE delivery delays and far below the
        H10's reset to 2019 (years).

    Notes
    -----
    A frame whose time stamp says more samples elapsed than it carries is either preceded by
    lost frames or is itself short (a truncated notification that still decodes). It is
    taken as truncated -- and dropped -- when it is shorter than the frame before and its
    time stamp is exactly one such frame after the previous one; otherwise its samples are
    placed back from its time stamp. A short frame right after lost frames, or a truncated
    first frame after a (re)start, cannot be told from a genuine one.
    """

    def __init__(self, fs: float, jitter_s: float = 0.0, jump_tolerance_s: float = 10.0) -> None:
        self.fs = float(fs)
        self.period_ns = 1e9 / self.fs
        self.jitter_s = float(jitter_s)
        self.jump_tolerance_s = float(jump_tolerance_s)
        self._anchor_ns = 0  # device time ...
        self._anchor_s = 0.0  # ... and the axis time it maps to
        self._prev_ns = 0  # previous frame time in this stream (0 after a (re)start, as the SDK)
        self._last_ns: int | None = None  # previous frame time, kept across restarts
        self._last_arrival = 0.0
        self._last_sample_s: float | None = None
        self._prev_count = 0

    def restart(self) -> None:
        """The stream was (re)started: forget the previous frame time (SDK: stop/disconnect)."""
        self._prev_ns = 0

    def place(self, frame_ns: int, n: int, arrival: float) -> Placement:
        """Place one frame's ``n`` samples.

        Parameters
        ----------
        frame_ns : int
            The frame's time stamp: its last sample, device ns.
        n : int
            Samples in the frame.
        arrival : float
            Host clock time the notification arrived.
        """
        ts = int(frame_ns)
        note = None
        if self._last_ns is None:
            times_ns = self._spread_back(ts, n)
            if times_ns is None:
                return Placement("suspect")
            self._anchor_ns, self._anchor_s = int(times_ns[0]), 0.0
        elif ts == self._last_ns:
            return Placement("duplicate")
        elif self._clock_jumped(ts, arrival):
            assert self._last_sample_s is not None
            host_s = self._axis(self._last_ns) + (arrival - self._last_arrival)
            last_s = max(host_s, self._last_sample_s + n / self.fs)
            note = {
                "kind": "device_clock_jump",
                "from_device_ns": self._last_ns,
                "to_device_ns": ts,
                "host_elapsed_s": round(arrival - self._last_arrival, 6),
            }
            self._anchor_ns, self._anchor_s = ts, last_s
            times_ns = self._spread_back(ts, n)
            if times_ns is None:
                return Placement("suspect")
        elif self._prev_ns:
            periods = (ts - self._prev_ns) / self.period_ns
            if (
                periods > n + 0.5
                and n < self._prev_count
                and abs(periods - self._prev_count) <= 0.5
            ):
                self._advance(ts, arrival, n=self._prev_count)
                return Placement("suspect")
            if periods > n + 0.5:
                times_ns = self._spread_back(ts, n)
            else:
                times_ns = sample_timestamps(ts, n, prev_timestamp_ns=self._prev_ns)
        else:
            times_ns = self._spread_back(ts, n)
        if times_ns is None:
            return Placement("suspect")
        times = self._anchor_s + (times_ns - self._anchor_ns) / 1e9
        if self._last_sample_s is not None and times[0] <= self._last_sample_s + 0.5 / self.fs:
            # Overlaps what was placed already (a frame repeated after a restart): drop.
            self._advance(ts, arrival, n)
            return Placement("duplicate")
        self._advance(ts, arrival, n)
        self._last_sample_s = float(times[-1])
        return Placement("ok", times, note)

    def _axis(self, device_ns: int) -> float:
        return self._anchor_s + (device_ns - self._anchor_ns) / 1e9

    def _clock_jumped(self, ts: int, arrival: float) -> bool:
        assert self._last_ns is not None
        if ts <= self._last_ns:
            return True
        # Only a device clock running ahead of the host is suspect: one that advanced less
        # than the host means late delivery (a host stack's backlog let go in a burst).
        host = arrival - self._last_arrival
        device = (ts - self._last_ns) / 1e9
        return device - host > self.jump_tolerance_s + self.jitter_s + 1e-3 * abs(host)

    def _spread_back(self, ts: int, n: int) -> np.ndarray | None:
        try:
            return sample_timestamps(ts, n, sample_rate=self.fs)
        except TimestampError:  # a frame time too close to the device epoch for n samples
            return None

    def _advance(self, ts: int, arrival: float, n: int) -> None:
        self._prev_ns = self._last_ns = ts  # after a jump back the new clock rules
        self._last_arrival = arrival
        self._prev_count = n


class HostClockTimeline:
    """Sample times for a stream without time stamps: nominal rate, host time for gaps.

    Parameters
    ----------
    fs : float
        The stream's nominal sample rate (Hz).
    jitter_s : float
        How far a host arrival time may be off; samples are taken as missing when the host
        clock is ahead of the samples by more than ``max(jitter_s, 1.5 / fs)``.

    Notes
    -----
    A sensor sampling slightly faster than its nominal rate drifts ahead of the host clock
    and is never corrected (its recording runs a little slow against wall time); one slower
    than nominal shows a short gap whenever the lag exceeds the tolerance. Lost notifications
    shorter than the tolerance cannot be seen at all. Notifications that arrived together (a
    host stack's backlog let go in one burst) must be placed in one call, or the first of
    them would be taken for samples after a loss; the session groups them.
    """

    def __init__(self, fs: float, jitter_s: float = 0.0) -> None:
        self.fs = float(fs)
        self.tolerance_s = max(float(jitter_s), 1.5 / self.fs)
        self._offset: float | None = None  # host time minus axis time
        self._last_sample_s = 0.0
        self._last_arrival = -np.inf
        self._last_data = b""
        self._resync = False

    def restart(self) -> None:
        """The stream was (re)started: the next notification is placed by host time."""
        self._resync = True

    def is_duplicate(self, data: bytes, arrival: float, n: int) -> bool:
        """Whether a notification repeats the previous one (same bytes, arrived at once).

        Remembers ``data`` and ``arrival`` as the previous notification when it is not.
        """
        repeat = data == self._last_data and arrival - self._last_arrival < 0.5 * n / self.fs
        if not repeat:
            self._last_data, self._last_arrival = bytes(data), arrival
        return repeat

    def place(self, n: int, arrival: float, after_drop: bool = False) -> Placement:
        """Place ``n`` samples whose last arrived at host time ``arrival``.

        Notifications that arrived together (a host stack's burst) are placed as one block
        ending at the last one's arrival: only the freshest tells the time. ``after_drop``
        says notifications were lost on the host just before these.
        """
        step = 1.0 / self.fs
        if self._offset is None:
            self._offset = arrival - (n - 1) * step
            times = np.arange(n) * step
        else:
            host_last = arrival - self._offset
            reckoned = self._last_sample_s + np.arange(1, n + 1) * step
            behind = host_last - reckoned[-1]
            if (self._resync or after_drop or behind > self.tolerance_s) and behind > 0.5 * step:
                times = host_last - np.arange(n - 1, -1, -1) * step
            else:
                times = reckoned
        self._resync = False
        self._last_sample_s = float(times[-1])
        return Placement("ok", np.asarray(times, dtype=np.float64))
