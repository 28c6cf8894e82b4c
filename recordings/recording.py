"""A recording folder: how hypnic keeps a night from a live sensor so that a crash costs seconds.

``REC/`` holds

* ``signal.edf`` -- EDF+C written append-only by :class:`recordings.edf_writer.EdfAppendWriter`:
  three int16 accelerometer signals in g and an "EDF Annotations" signal; every record is
  fsynced as it is written, the record count stays ``-1`` until the writer closes;
* ``events.jsonl`` -- one JSON object a line, each line fsynced as it is added;
* ``gaps.jsonl`` -- one line per gap in the sensor's samples, fsynced before its padding;
* ``aux.jsonl`` -- only when the sensor supplies auxiliary channels (skin temperature, light):
  one JSON line per :meth:`RecordingWriter.append_aux` call, ``{"channel", "t_s", "values"}``
  (times in recording seconds, on the acceleration's grid; ``null`` for no reading), each line
  fsynced as it is added, like events.jsonl: append-only, a killed writer leaves at most a torn
  last line, which readers skip and :func:`repair` cuts. The channels are listed in meta.json
  ``aux_channels``. A separate file rather than more EDF signals: auxiliary readings come at
  their own, often irregular, times and may arrive later than the samples beside them, while an
  EDF record holds a fixed number of samples per signal written once; signal.edf keeps the
  layout every hypnic version and EDF viewer reads;
* ``meta.json`` -- sensor, firmware, placement, rate, range, UTC start, software version and
  gaps; replaced atomically (temporary file + ``os.replace``) whenever it changes.

Lost samples (a jump in the sensor's time) are padded in the EDF with the marker value
:data:`~recordings.edf_writer.PAD_DIGITAL` on all three axes, which no real sample can take, so
the file keeps one sample every ``1/fs`` and any EDF viewer shows a flat line there. Readers here
never hand padding on as samples: :func:`open_recording` yields only real samples (``t`` jumps
over a gap) and lists the gaps in ``stream.gaps``, taken from the marker in the EDF itself.

The folder is created whole (built in a hidden staging folder, then renamed into place), so it
either does not exist or opens. A writer killed at any later moment loses at most the samples
waiting for their record to fill (less than one record, at most 2 s); :func:`open_recording`
reads such a folder as it is, and :func:`repair` makes it whole again.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from hypnic.detector.vocabulary import PLACEMENTS, UNKNOWN
from hypnic.recordings.edf_reader import (
    EdfHeader,
    TimekeepingCheck,
    iter_record_blocks,
    parse_tals,
    read_edf_header,
)
from hypnic.recordings.edf_writer import (
    ACCEL_LABELS,
    ANNOTATIONS_LABEL,
    PAD_DIGITAL,
    EdfAppendWriter,
    fcntl,
    fs_from_layout,
    physical_range_text,
    record_layout,
    set_record_count,
    to_digital,
)
from hypnic.recordings.errors import InputError
from hypnic.recordings.provenance import VERSION
from hypnic.recordings.samples import AUX_UNITS, SampleChunk, SampleStream, StreamInfo

SIGNAL_FILE = "signal.edf"
EVENTS_FILE = "events.jsonl"
GAPS_FILE = "gaps.jsonl"
AUX_FILE = "aux.jsonl"
META_FILE = "meta.json"
FORMAT = "hypnic-recording"
FORMAT_VERSION = 1
#: A jump in the sensor's time longer than this is refused rather than padded: it is a clock
#: reset, not lost packets, and padding it would write gigabytes of marker.
DEFAULT_MAX_GAP_S = 24 * 3600.0
#: Rows of padding handed to the EDF writer at once (bounded memory on long gaps).
_PAD_ROWS = 1 << 16
#: meta.json keys kept up to date by the writer and repair, besides those of :func:`_base_meta`.
_COUNT_KEYS = frozenset(
    {"n_samples", "dropped_samples", "clipped_samples", "meta_rebuilt", "aux_dropped_samples"}
)


# ---------------------------------------------------------------- small durable-file helpers


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, obj: Mapping[str, Any]) -> None:
    text = json.dumps(obj, indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _json_scalar(o: Any) -> Any:
    # numpy scalars reach events from the detector; JSON has no other use for them.
    if isinstance(o, (np.generic, np.ndarray)):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _json_line(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, allow_nan=False, ensure_ascii=False, default=_json_scalar)


class _LineLog:
    """An append-only JSON-lines file; every line is one write, fsynced before returning."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)

    def append(self, obj: Mapping[str, Any]) -> None:
        self.append_line(_json_line(obj))

    def append_line(self, line: str) -> None:
        data = (line + "\n").encode("utf-8")
        view = memoryview(data)
        size = os.fstat(self._fd).st_size
        try:
            while view:
                view = view[os.write(self._fd, view) :]
            os.fsync(self._fd)
        except OSError:
            # A full disk mid-line: cut the torn line off, or every line after it would be
            # read as one damaged line in the middle of the file.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    abort = close  # nothing is buffered: every line is on disk already


def _parse_start(start_utc: datetime | str | None) -> datetime:
    if start_utc is None:
        return datetime.now(timezone.utc)
    if isinstance(start_utc, str):
        try:
            start_utc = datetime.fromisoformat(start_utc.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"start_utc {start_utc!r} is not an ISO 8601 time") from None
    if start_utc.tzinfo is None:  # naive times are UTC here, as everywhere in hypnic
        start_utc = start_utc.replace(tzinfo=timezone.utc)
    return start_utc.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _finite_number(value: Any) -> float | None:
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        number = float(value)
        return number if math.isfinite(number) else None
    return None


def _keep_increasing(t: np.ndarray, previous: float, half_period: float) -> np.ndarray:
    """Mask of samples later than the last kept one by more than half a period."""
    if t[0] > previous + half_period and bool(np.all(np.diff(t) > half_period)):
        return np.ones(t.shape[0], dtype=bool)
    keep = np.zeros(t.shape[0], dtype=bool)
    last = previous
    for i, ti in enumerate(t.tolist()):  # rare path: duplicated or reordered packets
        if ti > last + half_period:
            keep[i] = True
            last = ti
    return keep


# ---------------------------------------------------------------------------------- writer


class RecordingWriter:
    """Write a recording folder while samples arrive.

    Parameters
    ----------
    path : path-like
        The folder to create. It must not exist, or be an empty folder.
    fs : float
        The sensor's nominal sample rate in Hz.
    range_g : float
        The sensor's range (±g); sets the EDF physical range and resolution.
    start_utc : datetime or str or None
        Absolute time of the first sample handed to :meth:`append` (naive = UTC); now if None.
    sensor, firmware : str
        Written to meta.json (the sensor name also into the EDF+ recording identification).
    placement : str
        One of :data:`detector.vocabulary.PLACEMENTS`.
    utc_offset_s : float
        Local time minus UTC at the start, in seconds.
    meta : mapping, optional
        Extra JSON-serialisable metadata (serial number, host, ...) kept in meta.json.
    max_gap_s : float
        Longest jump in the sensor's time that is padded (see :data:`DEFAULT_MAX_GAP_S`).
    aux_channels : sequence of str
        Auxiliary channels the sensor supplies (keys of :data:`recordings.samples.AUX_UNITS`),
        handed over with :meth:`append_aux`; with none, no aux.jsonl is made.
    light_unit : str, optional
        The unit of the ``light`` channel (``meta.json`` ``light_unit``).

    Raises
    ------
    InputError
        When the folder exists and is not empty, or cannot be created.
    ValueError
        For a bad rate, range, placement or start time.

    Notes
    -----
    Time in the recording is ``t - t_first`` (the first sample is at 0); ``meta.json`` keeps
    ``sensor_t0_s``. Samples sit on the EDF's regular grid of ``1/fs``: the sensor's clock
    decides only where gaps are, and the grid time read back is ``index / fs``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        fs: float,
        range_g: float,
        start_utc: datetime | str | None = None,
        sensor: str = "unknown",
        firmware: str | None = None,
        placement: str = UNKNOWN,
        utc_offset_s: float = 0.0,
        meta: Mapping[str, Any] | None = None,
        max_gap_s: float = DEFAULT_MAX_GAP_S,
        aux_channels: Sequence[str] = (),
        light_unit: str | None = None,
    ) -> None:
        if placement not in PLACEMENTS:
            raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {placement!r}")
        channels = tuple(dict.fromkeys(aux_channels))
        unknown = [c for c in channels if c not in AUX_UNITS]
        if unknown:
            raise ValueError(
                f"auxiliary channels must be among {', '.join(AUX_UNITS)}, got {unknown[0]!r}"
            )
        self.layout = record_layout(fs)
        self.fs = float(fs)
        self._grid_fs = self.layout.fs
        self._max_gap_s = float(max_gap_s)
        start = _parse_start(start_utc)
        self._meta: dict[str, Any] = _base_meta(
            state="recording",
            sensor=sensor,
            firmware=firmware,
            placement=placement,
            fs=self.fs,
            range_g=float(physical_range_text(range_g)[1]),
            start=start,
            utc_offset_s=float(utc_offset_s),
            duration=self.layout.duration,
            samples_per_record=self.layout.samples_per_record,
        )
        extra = dict(meta or {})
        clash = sorted(set(extra) & (set(self._meta) | _COUNT_KEYS))
        if clash:
            raise ValueError(f"extra metadata may not set {', '.join(clash)}")
        self._meta.update(extra)
        if channels:
            self._meta["aux_channels"] = list(channels)
            if "light" in channels and light_unit:
                self._meta["light_unit"] = str(light_unit)
        self.path = Path(path)
        stage = self._make_stage()
        opened: list[EdfAppendWriter | _LineLog] = []
        self._aux_log: _LineLog | None = None
        try:
            self._edf = EdfAppendWriter(
                stage / SIGNAL_FILE, self.layout, range_g, start, equipment=sensor
            )
            opened.append(self._edf)
            self._events = _LineLog(stage / EVENTS_FILE)
            opened.append(self._events)
            self._gap_log = _LineLog(stage / GAPS_FILE)
            opened.append(self._gap_log)
            if channels:
                self._aux_log = _LineLog(stage / AUX_FILE)
                opened.append(self._aux_log)
            _write_json_atomic(stage / META_FILE, self._meta)
            os.rename(stage, self.path)  # the folder appears whole, or not at all
            _fsync_dir(self.path.parent)
        except BaseException as exc:
            for item in opened:
                item.abort()
            self._discard_stage(stage)
            if isinstance(exc, OSError):  # a full disk, a folder made read-only meanwhile
                raise InputError(
                    self.path, f"cannot create the recording ({exc.strerror or exc})"
                ) from None
            raise
        self._t_first: float | None = None
        self._t_last = -math.inf
        self._slots = 0
        self._n_real = 0
        self._n_dropped = 0
        self._n_clipped = 0
        self._closed = False
        self._failed: str | None = None  # why writing stopped (a full disk ...), once it did
        self._aux_channels = channels
        self._aux_last = {name: -math.inf for name in channels}  # last time kept, grid seconds
        self._aux_waiting: list[tuple[str, np.ndarray, np.ndarray]] = []  # before any sample
        self._n_aux_dropped = 0
        self._anchor: tuple[float, int] | None = None  # (sensor time, slot) of the last sample

    @contextlib.contextmanager
    def _disk(self) -> Iterator[None]:
        """Make a failed write (a full disk, a vanished folder) one line, and stop writing.

        What was written before stays readable: the EDF writer cuts a torn record back and
        the line logs a torn line, so the folder holds whole records and lines only.
        """
        try:
            yield
        except OSError as exc:
            self._failed = exc.strerror or str(exc)
            raise InputError(self.path, self._failure()) from None

    def _failure(self) -> str:
        kept = self._edf.records_written * float(self.layout.duration)
        return (
            f"cannot write the recording ({self._failed}): recording stopped; the samples of "
            f"the first {kept:.0f} s are kept (hypnic repair makes the folder whole)"
        )

    def _make_stage(self) -> Path:
        target = self.path
        if target.exists() and not (target.is_dir() and not any(target.iterdir())):
            raise InputError(
                target,
                "already exists and is not an empty folder (a recording is never overwritten)",
            )
        try:
            parent = target.resolve().parent
            parent.mkdir(parents=True, exist_ok=True)
            return Path(tempfile.mkdtemp(prefix=f".{target.name}.creating-", dir=parent))
        except OSError as exc:
            raise InputError(
                target, f"cannot create the recording folder ({exc.strerror})"
            ) from None

    @staticmethod
    def _discard_stage(stage: Path) -> None:
        for item in stage.iterdir() if stage.exists() else ():
            with contextlib.suppress(OSError):
                item.unlink()
        with contextlib.suppress(OSError):
            stage.rmdir()

    # -- samples

    def append(self, t_s: np.ndarray, xyz_g: np.ndarray) -> None:
        """Add samples: times on the sensor's clock (s) and acceleration (g), shape (n, 3).

        A step in ``t`` of more than 1.5 sample periods means samples were lost: the missing
        ones are padded with the marker and the gap is logged. Samples not later than the
        previous one by half a period (duplicated or reordered packets) are dropped and
        counted in meta.json ``dropped_samples``; values beyond the range are clipped to it
        and counted in ``clipped_samples`` (both counts are brought up to date on gaps and at
        close). Every record the samples complete is on disk when this returns.

        Raises
        ------
        InputError
            When writing fails (a full disk, the folder deleted or made read-only): one line
            saying how much is kept; the folder then holds whole records only, and every later
            call raises the same.
        ValueError
            For samples of the wrong shape, not finite, or a clock reset (see ``max_gap_s``).
        """
        self._check_open()
        t = np.asarray(t_s, dtype=np.float64).reshape(-1)
        xyz = np.asarray(xyz_g, dtype=np.float64)
        if xyz.shape != (t.shape[0], 3):
            raise ValueError(f"t{t.shape} and xyz{xyz.shape} do not match (xyz must be (n, 3))")
        if not t.shape[0]:
            return
        if not (np.isfinite(t).all() and np.isfinite(xyz).all()):
            raise ValueError("samples must be finite (no NaN or inf in t or xyz)")
        with self._disk():
            if os.fstat(self._edf.fileno()).st_nlink == 0:  # writes would go nowhere
                raise OSError(errno.ENOENT, "the recording folder was deleted")
            self._append(t, xyz)

    def _append(self, t: np.ndarray, xyz: np.ndarray) -> None:
        keep = _keep_increasing(t, self._t_last, 0.5 / self.fs)
        if not keep.all():
            self._n_dropped += int(t.shape[0] - np.count_nonzero(keep))
            t, xyz = t[keep], xyz[keep]
            if not t.shape[0]:
                return
        if self._t_first is None:
            self._t_first = float(t[0])
            self._meta["sensor_t0_s"] = self._t_first
            previous = t[0] - 1.0 / self.fs
        else:
            previous = self._t_last
        dt = np.diff(t, prepend=previous)
        if float(dt.max()) > self._max_gap_s:
            where = int(np.argmax(dt))
            raise ValueError(
                f"sensor time jumps by {dt[where]:.1f} s at t = {t[where]:.3f} s "
                f"(more than max_gap_s = {self._max_gap_s:g} s): a clock reset, not a gap"
            )
        missing = np.maximum(np.rint(dt * self.fs).astype(np.int64) - 1, 0)
        digital, clipped = to_digital(xyz, self._edf.physical_min, self._edf.physical_max)
        self._n_clipped += clipped
        start = 0
        gap_rows = np.flatnonzero(missing).tolist()
        for row in gap_rows:
            self._write_real(digital[start:row])
            before = float(t[row - 1]) if row else float(previous)
            self._write_gap(int(missing[row]), before, float(t[row]))
            start = row
        self._write_real(digital[start:])
        self._t_last = float(t[-1])
        self._anchor = (self._t_last, self._slots - 1)
        if self._aux_waiting:
            waiting, self._aux_waiting = self._aux_waiting, []
            for channel, ta, va in waiting:
                self._append_aux(channel, ta, va)
        if gap_rows:
            self._write_meta()

    def _write_real(self, digital: np.ndarray) -> None:
        if digital.shape[0]:
            self._edf.write(digital)
            self._slots += digital.shape[0]
            self._n_real += digital.shape[0]

    def _write_gap(self, n_missing: int, t_before: float, t_after: float) -> None:
        first = self._slots
        span = [first / self._grid_fs, (first + n_missing) / self._grid_fs]
        assert self._t_first is not None
        # The log line is durable before the padding it explains.
        self._gap_log.append(
            {
                "start_s": span[0],
                "end_s": span[1],
                "n_missing": n_missing,
                "sensor_t_before_s": t_before - self._t_first,
                "sensor_t_after_s": t_after - self._t_first,
            }
        )
        self._meta["gaps"].append(span)
        for done in range(0, n_missing, _PAD_ROWS):
            rows = min(_PAD_ROWS, n_missing - done)
            self._edf.write(np.full((rows, 3), PAD_DIGITAL, dtype=np.int16))
        self._slots += n_missing

    # -- auxiliary channels

    def append_aux(self, channel: str, t_s: np.ndarray, values: np.ndarray) -> None:
        """Add auxiliary readings (skin temperature in degC, light): times on the sensor's
        clock (s, as for :meth:`append`) and values (NaN for no reading).

        The times are moved onto the recording's grid through the latest sample handed to
        :meth:`append` (the grid time read back is ``slot / fs``, so a sensor clock running a
        little fast or slow would otherwise drift from the samples beside it). Readings before
        the first sample wait in memory for it (lost if the writer stops before it). A reading
        not later than the channel's previous one is dropped and counted in meta.json
        ``aux_dropped_samples``. The line is on disk when this returns.

        Raises
        ------
        InputError
            When writing fails (see :meth:`append`).
        ValueError
            For a channel not declared in ``aux_channels``, shapes that differ, or times that
            are not finite.
        """
        self._check_open()
        if channel not in self._aux_channels:
            declared = ", ".join(self._aux_channels) or "none"
            raise ValueError(f"auxiliary channel {channel!r} not declared (declared: {declared})")
        ta = np.asarray(t_s, dtype=np.float64).reshape(-1)
        va = np.asarray(values, dtype=np.float64).reshape(-1)
        if ta.shape != va.shape:
            raise ValueError(f"t{ta.shape} and values{va.shape} do not match")
        if not ta.shape[0]:
            return
        if not np.isfinite(ta).all():
            raise ValueError("auxiliary times must be finite")
        if self._anchor is None:
            self._aux_waiting.append((channel, ta, va))
            return
        with self._disk():
            self._append_aux(channel, ta, va)

    def _append_aux(self, channel: str, ta: np.ndarray, va: np.ndarray) -> None:
        assert self._anchor is not None and self._aux_log is not None
        sensor_t, slot = self._anchor
        grid_t = (slot + (ta - sensor_t) * self.fs) / self._grid_fs
        keep = grid_t > np.maximum.accumulate(
            np.concatenate(([self._aux_last[channel]], grid_t[:-1]))
        )
        if not keep.all():
            self._n_aux_dropped += int((~keep).sum())
            grid_t, va = grid_t[keep], va[keep]
        if not grid_t.shape[0]:
            return
        self._aux_log.append(
            {
                "channel": channel,
                "t_s": grid_t.tolist(),
                "values": [v if math.isfinite(v) else None for v in va.tolist()],
            }
        )
        self._aux_last[channel] = float(grid_t[-1])

    # -- events and metadata

    def add_event(self, event: Mapping[str, Any]) -> None:
        """Append one event to events.jsonl (durable when this returns).

        An event with a numeric ``onset_s`` (seconds from the first sample) is also written
        into the EDF as an annotation (text: its ``label`` or ``text``; duration:
        ``duration_s`` if given), in the next data record.
        """
        self._check_open()
        if not isinstance(event, Mapping):
            raise TypeError(f"an event is a dict, got {type(event).__name__}")
        line = _json_line(event)  # refuses what JSON cannot hold before anything is written
        onset = _finite_number(event.get("onset_s"))
        if onset is not None:
            duration = _finite_number(event.get("duration_s"))
            text = str(event.get("label") or event.get("text") or "event")
            self._edf.annotate(onset, duration if duration and duration > 0 else None, text)
        with self._disk():
            self._events.append_line(line)

    def _write_meta(self) -> None:
        self._meta["n_samples"] = self._n_real
        self._meta["dropped_samples"] = self._n_dropped
        self._meta["clipped_samples"] = self._n_clipped
        if self._aux_channels:
            self._meta["aux_dropped_samples"] = self._n_aux_dropped
        _write_json_atomic(self.path / META_FILE, self._meta)

    @property
    def n_samples(self) -> int:
        """Real samples handed over so far (padding not counted)."""
        return self._n_real

    @property
    def gaps(self) -> list[list[float]]:
        """Gaps so far as ``[start_s, end_s]`` in recording time."""
        return [list(g) for g in self._meta["gaps"]]

    def close(self) -> None:
        """Write the last partial record (padded), set the EDF record count, finish meta.json.

        After a failed write (see :meth:`append`) it closes the files as they are and raises
        nothing: the failure was reported once. A failure while closing raises
        :class:`~hypnic.recordings.errors.InputError`; the folder is then as a killed writer leaves it.
        """
        if self._closed:
            return
        self._closed = True
        failed_before = self._failed is not None
        problems: list[OSError] = []
        logs = (self._events, self._gap_log) + ((self._aux_log,) if self._aux_log else ())
        for step in (self._edf.close, *(log.close for log in logs)):
            try:
                step()
            except OSError as exc:
                problems.append(exc)
        if not failed_before and not problems:
            self._meta["state"] = "closed"
            try:
                self._write_meta()
            except OSError as exc:
                problems.append(exc)
        if problems and not failed_before:
            self._failed = problems[0].strerror or str(problems[0])
            raise InputError(self.path, self._failure())

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._failed is not None:
            raise InputError(self.path, self._failure())
        if self._closed:
            raise ValueError(f"{self.path}: the recording is closed")


# ---------------------------------------------------------------------------------- reading


def _locate(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    folder = Path(path)
    if not folder.exists():
        raise InputError(folder, "no such recording folder")
    if not folder.is_dir():
        raise InputError(
            folder, "not a recording folder (a recording is a folder holding signal.edf)"
        )
    signal = folder / SIGNAL_FILE
    if not signal.is_file():
        raise InputError(folder, "not a recording folder (no signal.edf in it)")
    return folder, signal


def _check_layout(header: EdfHeader, signal: Path) -> int:
    """Samples per record of a hypnic signal file, or a one-line error for any other EDF."""
    sigs = header.signals
    accel = sigs[:3]
    ok = (
        len(sigs) == 4
        and header.reserved.startswith("EDF+C")
        and tuple(s.label for s in accel) == ACCEL_LABELS
        and all(s.dimension == "g" for s in accel)
        and len({(s.samples_per_record, s.physical_min, s.physical_max) for s in accel}) == 1
        and all(s.digital_min == PAD_DIGITAL for s in accel)
        and sigs[3].label == ANNOTATIONS_LABEL
    )
    if not ok:
        raise InputError(
            signal,
            "not a hypnic signal file (expected EDF+C with Accel X/Y/Z in g and EDF Annotations)",
        )
    return accel[0].samples_per_record


@dataclass
class _Scan:
    """What one pass over the data records found (all positions in samples, "slots")."""

    records: int = 0  # records worth reading (trailing records without a valid TAL dropped)
    end_slot: int = 0  # one past the last real sample
    excluded: list[tuple[int, int]] = field(default_factory=list)  # padding / damaged, < end_slot
    n_real: int = 0
    damaged_records: int = 0
    first_onset: Fraction = Fraction(0)

    def gaps(self, grid_fs: float) -> list[list[float]]:
        return [[a / grid_fs, b / grid_fs] for a, b in self.excluded]


def _first_onset(signal: Path, header: EdfHeader, spr: int) -> Fraction:
    block = next(iter_record_blocks(signal, header, 1, 1))[1]
    tals = parse_tals(block[0, 6 * spr :].tobytes())
    if tals:
        with contextlib.suppress(ValueError, ZeroDivisionError):
            onset = Fraction(tals[0].onset)
            if 0 <= onset < 1:
                return onset
    return Fraction(0)


def _scan(signal: Path, header: EdfHeader, spr: int, n_records: int, block_samples: int) -> _Scan:
    """Find padding (the marker on all axes) and records whose time-keeping TAL is wrong."""
    if n_records <= 0:
        return _Scan()
    first = _first_onset(signal, header, spr)
    check = TimekeepingCheck(first, header.duration)
    runs: list[tuple[int, int]] = []
    in_run, run_start = False, 0
    last_real, last_valid, n_invalid = -1, -1, 0
    for r0, block in iter_record_blocks(signal, header, n_records, max(1, block_samples // spr)):
        k = block.shape[0]
        digital = block[:, : 6 * spr].view("<i2").reshape(k, 3, spr)
        pad = (digital == PAD_DIGITAL).all(axis=1)
        valid = check.valid(r0, block[:, 6 * spr :])
        if not valid.all():
            pad[~valid] = True
            n_invalid += int(k - np.count_nonzero(valid))
        if valid.any():
            last_valid = r0 + int(np.flatnonzero(valid)[-1])
        mask = pad.ravel()
        base = r0 * spr
        real = np.flatnonzero(~mask)
        if real.size:
            last_real = base + int(real[-1])
        edges = np.flatnonzero(np.diff(mask.view(np.int8), prepend=np.int8(in_run)))
        for p in edges.tolist():  # one entry per start or end of a padded span
            if in_run:
                runs.append((run_start, base + p))
            else:
                run_start = base + p
            in_run = not in_run
    if in_run:
        runs.append((run_start, n_records * spr))
    end_slot = last_real + 1
    excluded = [(a, b) for a, b in runs if a < end_slot]
    return _Scan(
        records=last_valid + 1,
        end_slot=end_slot,
        excluded=excluded,
        n_real=end_slot - sum(b - a for a, b in excluded),
        damaged_records=n_invalid - (n_records - 1 - last_valid),  # all after it are invalid
        first_onset=first,
    )


def _load_meta(folder: Path) -> dict[str, Any] | None:
    try:
        # NaN and Infinity are not JSON and our writer never writes them; Python's parser
        # takes them, and repair could then not write the file back: they are read as null.
        meta = json.loads(
            (folder / META_FILE).read_text(encoding="utf-8"), parse_constant=lambda name: None
        )
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def _base_meta(
    *,
    state: str,
    sensor: str,
    firmware: str | None,
    placement: str,
    fs: float,
    range_g: float,
    start: datetime,
    utc_offset_s: float,
    duration: Fraction,
    samples_per_record: int,
) -> dict[str, Any]:
    """The fields every meta.json has (the writer's, and repair's when it rebuilds one)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state": state,
        "sensor": sensor,
        "firmware": firmware,
        "placement": placement,
        "fs": fs,
        "range_g": range_g,
        "start_utc": _iso(start),
        "utc_offset_s": utc_offset_s,
        "software_version": VERSION,
        "record_duration_s": float(duration),
        "samples_per_record": samples_per_record,
        "pad_value": PAD_DIGITAL,
        "edf_start_time": "UTC",  # the EDF header's start date/time are UTC, not local time
        "sensor_t0_s": None,
        "gaps": [],
    }


def _meta_from_header(header: EdfHeader, scan: _Scan, spr: int) -> dict[str, Any]:
    """meta.json as far as signal.edf alone tells (when meta.json is missing or unreadable)."""
    fields = header.recording.split()
    known = len(fields) > 4 and fields[0] == "Startdate" and fields[4] != "X"
    meta = _base_meta(
        state="repaired",
        sensor=fields[4] if known else "unknown",
        firmware=None,
        placement="unknown",
        fs=fs_from_layout(spr, header.duration),
        range_g=header.signals[0].physical_max,
        start=header.start.replace(tzinfo=timezone.utc)
        + timedelta(seconds=float(scan.first_onset)),
        utc_offset_s=0.0,
        duration=header.duration,
        samples_per_record=spr,
    )
    meta["meta_rebuilt"] = True
    return meta


def _samples(
    signal: Path, header: EdfHeader, spr: int, scan: _Scan, block_samples: int
) -> Iterator[SampleChunk]:
    grid_fs = fs_from_layout(spr, header.duration)
    accel = header.signals[:3]
    spans = np.asarray(scan.excluded, dtype=np.int64).reshape(-1, 2)
    last_record = -(-scan.end_slot // spr)
    per_block = max(1, block_samples // spr)
    for r0, block in iter_record_blocks(signal, header, last_record, per_block):
        k = block.shape[0]
        lo, hi = r0 * spr, (r0 + k) * spr
        digital = block[:, : 6 * spr].view("<i2").reshape(k, 3, spr)
        keep = np.ones(k * spr, dtype=bool)
        keep[max(0, scan.end_slot - lo) :] = False
        for a, b in spans[np.searchsorted(spans[:, 1], lo, side="right") :].tolist():
            if a >= hi:
                break
            keep[max(a, lo) - lo : min(b, hi) - lo] = False
        slots = np.arange(lo, hi, dtype=np.int64)[keep]
        if not slots.size:
            continue
        xyz = np.empty((slots.size, 3), dtype=np.float32)
        for axis, sig in enumerate(accel):
            xyz[:, axis] = sig.to_physical(digital[:, axis, :].reshape(-1)[keep])
        yield SampleChunk(slots / grid_fs, xyz)


class _AuxLines:
    """Reads aux.jsonl line by line, in step with the samples: bounded memory.

    Only whole lines count (a torn last line of a killed writer is not data); a line that is not
    the writer's JSON is a one-line :class:`~hypnic.recordings.errors.InputError`.
    """

    def __init__(self, file: Path, channels: tuple[str, ...]) -> None:
        self.file = file
        self.channels = channels
        self.buffers: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {c: [] for c in channels}
        self.last_start = -math.inf  # first time of the last line read
        self.last: dict[str, float] = {}  # last reading kept per channel
        self.number = 0
        try:
            self.fh = open(file, "rb")  # noqa: SIM115 - closed by close(), in step with samples
        except FileNotFoundError:
            self.fh = None
        except OSError as exc:
            raise InputError(file, f"cannot read ({exc.strerror or exc})") from None

    def _read_line(self) -> bool:
        if self.fh is None:
            return False
        line = self.fh.readline()
        if not line.endswith(b"\n"):
            self.close()  # end of the file, or a torn last line
            return False
        self.number += 1
        parsed = _aux_line(line)
        if parsed is None:
            self.close()
            raise InputError(self.file, f"line {self.number} is not auxiliary data of hypnic")
        channel, ta, va = parsed
        if ta.size:
            self.last_start = float(ta[0])
        if channel in self.buffers:
            # The writer keeps each channel increasing; a file that does not is cut to do so.
            keep = ta > self.last.get(channel, -math.inf)
            if keep.any():
                ta, va = ta[keep], va[keep]
                self.buffers[channel].append((ta, va))
                self.last[channel] = float(ta[-1])
        return True

    def take(self, until: float | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The readings up to ``until`` (s), or all that are left when ``until`` is None."""
        while (until is None or self.last_start <= until) and self._read_line():
            pass
        out = {}
        for channel, parts in self.buffers.items():
            if not parts:
                continue
            ta = np.concatenate([a for a, _ in parts])
            va = np.concatenate([v for _, v in parts])
            n = ta.size if until is None else int(np.searchsorted(ta, until, side="right"))
            self.buffers[channel] = [(ta[n:], va[n:])] if n < ta.size else []
            if n:
                out[channel] = (ta[:n], va[:n])
        return out

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()
            self.fh = None


def _aux_line(line: bytes) -> tuple[str, np.ndarray, np.ndarray] | None:
    """``(channel, t, values)`` of one aux.jsonl line, or None when it is not one."""
    try:
        obj = json.loads(line)
        channel, ta, va = obj["channel"], obj["t_s"], obj["values"]
        if not isinstance(channel, str) or len(ta) != len(va):
            return None
        t = np.asarray(ta, dtype=np.float64).reshape(-1)
        v = np.asarray([np.nan if x is None else x for x in va], dtype=np.float64).reshape(-1)
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError):
        return None
    if not np.isfinite(t).all() or not (np.diff(t) > 0).all():
        return None
    return channel, t, v


def _with_aux(chunks: Iterator[SampleChunk], aux: _AuxLines) -> Iterator[SampleChunk]:
    """Give each chunk the readings up to its last sample; the last chunk also those after it.

    One chunk is held back until the next exists, so that the last one is known.
    """
    held: SampleChunk | None = None
    try:
        for chunk in chunks:
            if held is not None:
                yield SampleChunk(held.t, held.xyz, aux.take(float(held.t[-1])))
            held = chunk
        if held is not None:
            yield SampleChunk(held.t, held.xyz, aux.take(None))
    finally:
        aux.close()


def _aux_channels(folder: Path, meta: dict[str, Any]) -> tuple[str, ...]:
    """The recording's auxiliary channels: meta.json's list, else those aux.jsonl holds."""
    listed = meta.get("aux_channels")
    if isinstance(listed, list):
        return tuple(c for c in dict.fromkeys(listed) if c in AUX_UNITS)
    file = folder / AUX_FILE
    if not file.is_file():
        return ()
    found: dict[str, None] = {}
    with open(file, "rb") as fh:
        for line in fh:
            parsed = _aux_line(line) if line.endswith(b"\n") else None
            if parsed is not None and parsed[0] in AUX_UNITS:
                found[parsed[0]] = None
    return tuple(found)


def open_recording(
    path: str | os.PathLike[str], *, start: str | None = None, chunk_samples: int = 1 << 20
) -> SampleStream:
    """Open a recording folder as a :class:`~recordings.samples.SampleStream`.

    Works on a finished recording, on one whose writer was killed (before or after
    :func:`repair`) and on one still being written (its complete records at the time of the
    call are read). Only real samples are yielded: padding and damaged records are left out
    (``t`` jumps there) and listed as ``[start_s, end_s]`` in ``stream.gaps``; a torn last
    record is dropped. Chunks hold at most ``max(chunk_samples, samples per record)`` samples.
    ``t`` is ``index / fs`` from the first sample; ``info.start_utc`` is that sample's time,
    from meta.json, unless ``start`` (ISO 8601, naive = UTC; the ``--start`` option) replaces it.

    Raises
    ------
    InputError
        When the path is not a recording folder or signal.edf is not a readable hypnic
        signal file, or ``start`` is not a time.
    """
    if start is not None:
        try:
            start = _iso(_parse_start(start))
        except ValueError as exc:
            raise InputError("--start", str(exc)) from None
    folder, signal = _locate(path)
    header = read_edf_header(signal)
    spr = _check_layout(header, signal)
    n_records, torn = header.complete_records(signal.stat().st_size)
    scan = _scan(signal, header, spr, n_records, chunk_samples)
    grid_fs = fs_from_layout(spr, header.duration)
    meta = _load_meta(folder)
    meta_ok = meta is not None
    if meta is None:
        meta = _meta_from_header(header, scan, spr)
    fs = meta.get("fs")
    if not (isinstance(fs, (int, float)) and math.isclose(fs, grid_fs, rel_tol=1e-9)):
        fs = grid_fs
    placement = meta.get("placement")
    offset = meta.get("utc_offset_s")
    info_meta = {
        **meta,
        "n_samples": scan.n_real,
        "gaps": scan.gaps(grid_fs),
        "records": scan.records,
        "torn_bytes": torn + (n_records - scan.records) * header.record_bytes,
        "damaged_records": scan.damaged_records,
        "meta_json": "ok" if meta_ok else "missing or unreadable (rebuilt from signal.edf)",
        "events_file": str(folder / EVENTS_FILE),
    }
    info = StreamInfo(
        source=str(folder),
        fs=float(fs),
        start_utc=start or (meta["start_utc"] if isinstance(meta.get("start_utc"), str) else None),
        placement=placement if placement in PLACEMENTS else UNKNOWN,
        utc_offset_s=float(offset) if isinstance(offset, (int, float)) else 0.0,
        meta=info_meta,
    )
    chunks = _samples(signal, header, spr, scan, chunk_samples)
    channels = _aux_channels(folder, meta)
    if channels:
        chunks = _with_aux(chunks, _AuxLines(folder / AUX_FILE, channels))
    stream = SampleStream(info, chunks)
    stream.gaps = scan.gaps(grid_fs)
    stream.aux_channels = channels
    return stream


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The events of a recording folder, in the order they were added.

    A torn last line (writer killed mid-line) is skipped; any other line that is not a JSON
    object is a one-line :class:`~hypnic.recordings.errors.InputError`.
    """
    folder, _ = _locate(path)
    file = folder / EVENTS_FILE
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(file, f"cannot read ({exc.strerror})") from None
    complete = raw[: raw.rfind(b"\n") + 1]
    events = []
    for number, line in enumerate(complete.splitlines(), start=1):
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        if not isinstance(obj, dict):
            raise InputError(file, f"line {number} is not a JSON object")
        events.append(obj)
    return events


def sniff_recording(head: bytes, path: str | os.PathLike[str]) -> bool:
    """True for a recording folder (for the input registry; ``head`` is unused: a folder)."""
    folder = Path(path)
    return folder.is_dir() and (folder / SIGNAL_FILE).is_file()


# ----------------------------------------------------------------------------------- repair


@dataclass
class RepairResult:
    """What :func:`repair` changed: one short phrase per fix (empty when nothing was wrong)."""

    path: Path
    fixes: list[str]

    def summary(self) -> str:
        """One line: the folder and what was fixed."""
        what = "; ".join(self.fixes) if self.fixes else "nothing to fix"
        return f"{self.path}: {what}"


@contextlib.contextmanager
def _no_live_writer(folder: Path, signal: Path) -> Iterator[int]:
    try:
        fd = os.open(signal, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise InputError(signal, f"cannot open for repair ({exc.strerror})") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise InputError(
                    folder, "is still being recorded (its writer is running); stop it first"
                ) from None
        yield fd
    finally:
        os.close(fd)


def _repair_lines(file: Path) -> str | None:
    """Drop a torn last line of an append-only JSON-lines file; create it if missing."""
    if not file.exists():
        file.touch()
        return f"created a missing {file.name}"
    raw = file.read_bytes()
    keep = raw.rfind(b"\n") + 1
    if keep == len(raw):
        return None
    with open(file, "r+b") as fh:
        fh.truncate(keep)
        os.fsync(fh.fileno())
    return f"dropped a torn last line of {file.name} ({len(raw) - keep} bytes)"


def repair(path: str | os.PathLike[str], *, chunk_samples: int = 1 << 20) -> RepairResult:
    """Make a recording whose writer was killed whole again.

    Sets the EDF record count from the file size, cuts a torn last record (and trailing
    records without a valid time-keeping TAL), drops torn last lines of events.jsonl and
    gaps.jsonl, rebuilds meta.json from signal.edf when it is missing or unreadable and
    brings its gaps, sample count and state up to date, and removes temporary files left by
    an interrupted meta.json update. Running it again changes nothing.

    Raises
    ------
    InputError
        When the folder is not a recording, its header is unreadable, a writer is still
        recording into it, or a fix cannot be written (a full disk, a read-only folder).
    """
    folder, signal = _locate(path)
    try:
        return _repair(folder, signal, chunk_samples)
    except OSError as exc:
        raise InputError(
            folder, f"cannot repair ({exc.strerror or exc}): free some space or make the folder "
            "writable, and run it again"
        ) from None


def _repair(folder: Path, signal: Path, chunk_samples: int) -> RepairResult:
    fixes: list[str] = []
    with _no_live_writer(folder, signal) as fd:
        header = read_edf_header(signal)
        spr = _check_layout(header, signal)
        size = os.fstat(fd).st_size
        on_disk, torn = divmod(max(0, size - header.header_bytes), header.record_bytes)
        scan = _scan(signal, header, spr, on_disk, chunk_samples)
        new_size = header.header_bytes + scan.records * header.record_bytes
        if size > new_size:
            os.ftruncate(fd, new_size)
            if torn:
                fixes.append(f"dropped a torn last record ({torn} bytes)")
            if on_disk > scan.records:
                fixes.append(
                    f"dropped {on_disk - scan.records} trailing records without a valid time stamp"
                )
        if header.n_records != scan.records:
            set_record_count(fd, scan.records)
            fixes.append(f"record count set to {scan.records}")
        os.fsync(fd)
    for name in (EVENTS_FILE, GAPS_FILE):
        fix = _repair_lines(folder / name)
        if fix:
            fixes.append(fix)
    if (folder / AUX_FILE).exists():  # only recordings of sensors with auxiliary channels
        fix = _repair_lines(folder / AUX_FILE)
        if fix:
            fixes.append(fix)
    for leftover in sorted(folder.glob(f".{META_FILE}.*.tmp")):
        leftover.unlink()
        fixes.append(f"removed {leftover.name}")
    grid_fs = fs_from_layout(spr, header.duration)
    meta = _load_meta(folder)
    rebuilt = meta is None
    if meta is None:
        meta = _meta_from_header(header, scan, spr)
        channels = _aux_channels(folder, meta)
        if channels:
            meta["aux_channels"] = list(channels)
        fixes.append("rebuilt meta.json from signal.edf")
    updated = {
        **meta,
        "gaps": scan.gaps(grid_fs),
        "n_samples": scan.n_real,
        "state": "closed" if meta.get("state") == "closed" else "repaired",
    }
    if rebuilt or updated != meta:
        if not rebuilt:
            fixes.append("brought meta.json up to date (state, gaps, sample count)")
        _write_json_atomic(folder / META_FILE, updated)
    return RepairResult(folder, fixes)
