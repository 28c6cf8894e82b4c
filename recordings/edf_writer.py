"""Append-only EDF+C writer: a signal file that stays readable however abruptly its writer stops.

Layout (EDF: Kemp et al. 1992; EDF+: Kemp & Olivan, Clin Neurophysiol 2003;114:1755-61,
edfplus.info/specs/edfplus.html; ECOSYSTEM.md §2.1 and §2.3):

* the header and the four signal headers are written and fsynced first, with the number of data
  records at ``-1`` ("-1 if unknown" in the EDF header table); :meth:`EdfAppendWriter.close`
  rewrites that field (bytes 236-244) with the true count;
* three int16 accelerometer signals in g (``Accel X/Y/Z``) and one ``EDF Annotations`` signal;
* every data record carries the EDF+ time-keeping TAL ``+<onset>\\x14\\x14\\x00`` first, then any
  event TALs queued with :meth:`EdfAppendWriter.annotate`, then NUL bytes;
* records are built whole in memory and handed to the kernel in one ``write`` (several whole
  records at once when one call completes several), then fsynced before
  :meth:`EdfAppendWriter.write` returns, so a killed writer leaves complete records plus at most
  one torn record at the end, which readers drop (edfio does, ECOSYSTEM.md §2.2).

The data record duration is the shortest that holds a whole number of samples (see
:func:`record_layout`). The digital value -32768 (the digital minimum) is reserved as the
padding marker :data:`PAD_DIGITAL`: :func:`to_digital` never produces it for a real sample, so
padding can always be told from data, by our reader and by anyone reading the EDF alone.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np

try:  # advisory lock so `repair` can refuse a file whose writer is alive; POSIX only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

#: Digital range of EDF's 16-bit samples (EDF spec: "digital minimum/maximum").
DIGITAL_MIN = -32768
DIGITAL_MAX = 32767
#: Marker written in all three axes of a sample that was lost (gap padding, end padding).
PAD_DIGITAL = DIGITAL_MIN
ACCEL_LABELS = ("Accel X", "Accel Y", "Accel Z")
ANNOTATIONS_LABEL = "EDF Annotations"
#: Bytes of the "EDF Annotations" signal in every record: the time-keeping TAL needs at most
#: ~20 bytes; the rest holds a few short event TALs (more wait for the following records).
ANNOTATION_BYTES = 120
#: Bytes a time-keeping TAL may take; event TALs are cut to fit in what is left of a record.
TIMEKEEPING_RESERVE = 32
#: Offset and width of "number of data records" in the EDF header (EDF spec header table).
N_RECORDS_OFFSET = 236
N_RECORDS_WIDTH = 8
#: Longest record: a killed writer loses at most the samples buffered towards one record.
MAX_RECORD_S = 2
#: Records handed to one write() at most (whole records only), to bound memory on long pads.
_RECORDS_PER_WRITE_BYTES = 1 << 20

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_HEADER_FIELDS = (
    ("version", 8),
    ("patient", 80),
    ("recording", 80),
    ("startdate", 8),
    ("starttime", 8),
    ("header_bytes", 8),
    ("reserved", 44),
    ("n_records", 8),
    ("duration", 8),
    ("n_signals", 4),
)
_SIGNAL_FIELDS = (
    ("label", 16),
    ("transducer", 80),
    ("dimension", 8),
    ("physical_min", 8),
    ("physical_max", 8),
    ("digital_min", 8),
    ("digital_max", 8),
    ("prefiltering", 80),
    ("samples_per_record", 8),
    ("signal_reserved", 32),
)


def decimal_str(q: Fraction) -> str:
    """Exact positional decimal of a fraction whose denominator is 2**a * 5**b.

    Raises
    ------
    ValueError
        When ``q`` has no finite decimal expansion.
    """
    den = q.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        raise ValueError(f"{q} has no finite decimal expansion")
    text = format(Decimal(q.numerator) / Decimal(q.denominator), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _fits_duration_field(q: Fraction) -> bool:
    try:
        return len(decimal_str(q)) <= 8
    except ValueError:
        return False


def _as_fraction(fs: float) -> Fraction:
    # Nominal rates are small ratios (625/6 Hz) or short decimals (12.5 Hz); a float carries
    # either only approximately, so take the simplest fraction that gives back the same float.
    approx = Fraction(fs).limit_denominator(1000)
    if float(approx) == fs:
        return approx
    return Fraction(repr(float(fs)))


@dataclass(frozen=True)
class RecordLayout:
    """Shape of one EDF data record for a given sample rate.

    Attributes
    ----------
    duration : Fraction
        Data record duration in seconds (exact).
    samples_per_record : int
        Samples of each accelerometer signal in one record.
    annotation_bytes : int
        Bytes of the "EDF Annotations" signal in one record (even: EDF samples are 2 bytes).
    """

    duration: Fraction
    samples_per_record: int
    annotation_bytes: int = ANNOTATION_BYTES

    @property
    def duration_str(self) -> str:
        """The header's "duration of a data record" field value."""
        return decimal_str(self.duration)

    @property
    def fs(self) -> float:
        """Sample rate in Hz as readers compute it: samples per record / record duration."""
        return fs_from_layout(self.samples_per_record, self.duration)

    @property
    def record_bytes(self) -> int:
        """Bytes of one data record: three int16 signals and the annotations."""
        return 3 * 2 * self.samples_per_record + self.annotation_bytes


def fs_from_layout(samples_per_record: int, duration: Fraction) -> float:
    """Sample rate from an EDF record layout (shared by writer and reader so times agree)."""
    return float(Fraction(samples_per_record) / duration)


def record_layout(fs: float) -> RecordLayout:
    """Choose the data record duration for a sample rate.

    The shortest whole number of seconds (1 or 2) that holds a whole number of samples is
    preferred, as EDF tools expect (1 s is EDFlib's default; 2 s at 12.5 Hz). Rates where
    neither does (625/6 Hz, 25.6 Hz) get the shortest record of at least 1 s whose duration is
    an exact decimal that fits the 8-character header field (1.008 s, 1.015625 s). A record is
    never longer than :data:`MAX_RECORD_S`, which bounds what a killed writer loses.

    Parameters
    ----------
    fs : float
        Nominal sample rate in Hz.

    Raises
    ------
    ValueError
        When ``fs`` is not a positive finite number or no such record exists.
    """
    if not (isinstance(fs, (int, float, np.floating, np.integer)) and math.isfinite(fs) and fs > 0):
        raise ValueError(f"sample rate must be a positive number of Hz, got {fs!r}")
    rate = _as_fraction(float(fs))
    for seconds in range(1, MAX_RECORD_S + 1):
        n = rate * seconds
        if n.denominator == 1:
            return RecordLayout(Fraction(seconds), int(n))
    for n in range(math.ceil(rate), math.floor(rate * MAX_RECORD_S) + 1):
        duration = Fraction(n) / rate
        if _fits_duration_field(duration):
            return RecordLayout(duration, n)
    raise ValueError(
        f"no EDF data record of at most {MAX_RECORD_S} s holds a whole number of samples at "
        f"{fs} Hz with a duration that fits the header (give the sensor's nominal rate)"
    )


class OnsetFormatter:
    """Exact onsets of data records: ``first + k * duration`` as EDF+ TAL onset text.

    Integer arithmetic on a power-of-ten scale keeps every onset exact (``+7200.032``, never
    ``+7200.0319999``) and fast enough to check every record of a week-long file.

    Parameters
    ----------
    first : Fraction
        Onset of record 0: the sub-second part of the start time (EDF+ §2.2.4 allows the
        first record to start after the header's whole-second start time).
    duration : Fraction
        Data record duration.
    """

    def __init__(self, first: Fraction, duration: Fraction) -> None:
        decimals = max(len(decimal_str(q).partition(".")[2]) for q in (first, duration))
        self._scale = 10**decimals
        self._decimals = decimals
        self._first = int(first * self._scale)
        self._step = int(duration * self._scale)

    def onset(self, k: int) -> str:
        """Onset text of record ``k``, with its sign (``+0``, ``+2``, ``+1.008``)."""
        whole, part = divmod(self._first + k * self._step, self._scale)
        if part == 0:
            return f"+{whole}"
        return f"+{whole}." + f"{part:0{self._decimals}d}".rstrip("0")

    def timekeeping_tal(self, k: int) -> bytes:
        """The time-keeping TAL of record ``k`` (onset, empty annotation, terminator)."""
        return self.onset(k).encode("ascii") + b"\x14\x14\x00"


def _clean_text(text: str, max_bytes: int) -> bytes:
    # TAL delimiters (NUL, 0x14, 0x15) cannot occur inside an annotation (EDF+ §2.2.2).
    cleaned = "".join(" " if ch in "\x00\x14\x15" else ch for ch in str(text))
    raw = cleaned.encode("utf-8")[:max_bytes]
    return raw.decode("utf-8", errors="ignore").encode("utf-8")


def _seconds_text(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def event_tal(onset_s: float, duration_s: float | None, text: str, max_bytes: int) -> bytes:
    """An EDF+ TAL for one annotation, its text cut so the whole TAL fits ``max_bytes``.

    Parameters
    ----------
    onset_s : float
        Seconds from the file's start time (header start + sub-second offset included).
    duration_s : float or None
        Duration in seconds, or None for none.
    text : str
        Annotation text (UTF-8; TAL delimiters are replaced by spaces).
    max_bytes : int
        Room for the TAL in one record.
    """
    if not math.isfinite(onset_s):
        raise ValueError(f"annotation onset must be finite, got {onset_s!r}")
    head = ("+" if onset_s >= 0 else "-") + _seconds_text(abs(onset_s))
    if duration_s is not None:
        if not (math.isfinite(duration_s) and duration_s >= 0):
            raise ValueError(f"annotation duration must be >= 0, got {duration_s!r}")
        head += "\x15" + _seconds_text(duration_s)
    head_raw = head.encode("ascii") + b"\x14"
    room = max_bytes - len(head_raw) - 2
    if room < 0:
        raise ValueError("annotation onset and duration do not fit in one data record")
    return head_raw + _clean_text(text, room) + b"\x14\x00"


def _ascii_field(value: str, width: int, name: str) -> bytes:
    raw = value.encode("ascii")
    if len(raw) > width:
        raise ValueError(f"EDF header field {name} {value!r} is longer than {width} characters")
    return raw.ljust(width, b" ")


def _number_text(value: float) -> str:
    """Shortest text of a physical range limit that fits an 8-character field."""
    if float(value).is_integer() and abs(value) < 1e7:
        return str(int(value))
    for digits in range(7, 0, -1):
        text = f"{value:.{digits}g}"
        if len(text) <= 8 and "e" not in text:
            return text
    raise ValueError(f"{value!r} does not fit an 8-character EDF field")


def physical_range_text(range_g: float) -> tuple[str, str]:
    """Header texts of the physical minimum and maximum for a sensor range of ±``range_g``."""
    if not (math.isfinite(range_g) and 0 < range_g < 1e6):
        raise ValueError(f"sensor range must be a positive number of g, got {range_g!r}")
    high = _number_text(float(range_g))
    return _number_text(-float(high)), high


def _ascii_subfield(value: str) -> str:
    # EDF+ subfields are ASCII without spaces; unknown is "X" (EDF+ §2.1.3.2).
    text = "".join(ch if 33 <= ord(ch) <= 126 else "_" for ch in str(value)).strip("_")
    return text or "X"


def build_header(
    layout: RecordLayout,
    range_g: float,
    start_utc: datetime,
    *,
    equipment: str = "X",
    n_records: int = -1,
) -> bytes:
    """The EDF+C header record (256 bytes + 256 per signal) of a hypnic signal file.

    Patient identification is all unknown (``X X X X``); the recording identification is
    ``Startdate dd-MMM-yyyy X X <equipment>``. The header's start date and time are the UTC
    start, to the whole second; the sub-second part is the first record's onset.
    """
    start = start_utc.astimezone(timezone.utc)
    pmin, pmax = physical_range_text(range_g)
    year_2 = f"{start.year % 100:02d}" if 1985 <= start.year <= 2084 else "yy"
    recording = (
        f"Startdate {start.day:02d}-{_MONTHS[start.month - 1]}-{start.year:04d} X X "
        f"{_ascii_subfield(equipment)}"
    )[:80]
    n_signals = 4
    main = {
        "version": "0",
        "patient": "X X X X",
        "recording": recording,
        "startdate": f"{start.day:02d}.{start.month:02d}.{year_2}",
        "starttime": f"{start.hour:02d}.{start.minute:02d}.{start.second:02d}",
        "header_bytes": str(256 * (n_signals + 1)),
        "reserved": "EDF+C",
        "n_records": str(n_records),
        "duration": layout.duration_str,
        "n_signals": str(n_signals),
    }
    accel = {
        "transducer": "MEMS accelerometer",
        "dimension": "g",
        "physical_min": pmin,
        "physical_max": pmax,
        "digital_min": str(DIGITAL_MIN),
        "digital_max": str(DIGITAL_MAX),
        "prefiltering": "",
        "samples_per_record": str(layout.samples_per_record),
        "signal_reserved": "",
    }
    annotations = {
        "label": ANNOTATIONS_LABEL,
        "transducer": "",
        "dimension": "",
        "physical_min": "-1",
        "physical_max": "1",
        "digital_min": str(DIGITAL_MIN),
        "digital_max": str(DIGITAL_MAX),
        "prefiltering": "",
        "samples_per_record": str(layout.annotation_bytes // 2),
        "signal_reserved": "",
    }
    signals = [{**accel, "label": label} for label in ACCEL_LABELS] + [annotations]
    parts = [_ascii_field(main[name], width, name) for name, width in _HEADER_FIELDS]
    for name, width in _SIGNAL_FIELDS:
        parts.extend(_ascii_field(sig[name], width, name) for sig in signals)
    return b"".join(parts)


def to_digital(
    xyz_g: np.ndarray, physical_min: float, physical_max: float
) -> tuple[np.ndarray, int]:
    """Quantise acceleration in g to EDF digital values, keeping clear of the pad marker.

    Uses the EDF mapping of [physical_min, physical_max] onto [-32768, 32767] (round to
    nearest), then clips to [-32767, 32767] so that no real sample equals :data:`PAD_DIGITAL`.

    Returns
    -------
    digital : ndarray of int16, shape (n, 3)
    n_clipped : int
        Samples (rows) with an axis outside the representable range (clipped to it).
    """
    xyz = np.asarray(xyz_g, dtype=np.float64)
    scale = (DIGITAL_MAX - DIGITAL_MIN) / (physical_max - physical_min)
    dig = np.rint((xyz - physical_min) * scale + DIGITAL_MIN)
    low, high = PAD_DIGITAL + 1, DIGITAL_MAX
    n_clipped = int(np.count_nonzero(((dig < low) | (dig > high)).any(axis=-1)))
    return np.clip(dig, low, high).astype(np.int16), n_clipped


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def set_record_count(fd: int, n_records: int) -> None:
    """Overwrite the header's "number of data records" field in place and fsync."""
    field = str(int(n_records)).encode("ascii").ljust(N_RECORDS_WIDTH, b" ")
    if len(field) != N_RECORDS_WIDTH:
        raise ValueError(f"{n_records} data records do not fit the EDF header")
    os.pwrite(fd, field, N_RECORDS_OFFSET)
    os.fsync(fd)


class EdfAppendWriter:
    """Write an EDF+C signal file record by record; every record is durable when written.

    Parameters
    ----------
    path : path-like
        The file to create (it must not exist).
    layout : RecordLayout
        From :func:`record_layout`.
    range_g : float
        Sensor range: the physical range is ``[-range_g, +range_g]`` g over the int16 range
        (±8 g gives 16/65535 g = 0.244 mg per step, ECOSYSTEM.md §2.2).
    start_utc : datetime
        Absolute time of the first sample (timezone-aware; microseconds kept in the first
        record's onset).
    equipment : str
        Written in the EDF+ recording identification (sensor name).

    Notes
    -----
    The path is used only to create the file; afterwards the writer works on its descriptor,
    so the folder holding it may be renamed while it is open.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        layout: RecordLayout,
        range_g: float,
        start_utc: datetime,
        *,
        equipment: str = "X",
    ) -> None:
        if start_utc.tzinfo is None:
            raise ValueError("start_utc must be timezone-aware")
        self.layout = layout
        pmin_text, pmax_text = physical_range_text(range_g)
        self.physical_min = float(pmin_text)
        self.physical_max = float(pmax_text)
        header = build_header(layout, range_g, start_utc, equipment=equipment)
        first = Fraction(start_utc.astimezone(timezone.utc).microsecond, 1_000_000)
        self._onsets = OnsetFormatter(first, layout.duration)
        self.first_onset = first
        self._fd = os.open(Path(path), os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        self._data_start = len(header)
        try:
            if fcntl is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            _write_all(self._fd, header)
            os.fsync(self._fd)
        except BaseException:
            os.close(self._fd)
            raise
        self._buffer = np.empty((layout.samples_per_record, 3), dtype=np.int16)
        self._fill = 0
        self._records = 0
        self._pending: deque[bytes] = deque()
        self._closed = False

    @property
    def records_written(self) -> int:
        """Complete data records on disk."""
        return self._records

    def fileno(self) -> int:
        """The open file's descriptor (to notice a file deleted while it is written)."""
        return self._fd

    @property
    def samples_buffered(self) -> int:
        """Samples waiting for their record to fill up (lost if the process dies now)."""
        return self._fill

    def annotate(self, onset_s: float, duration_s: float | None, text: str) -> None:
        """Queue an event annotation; it goes into the next record(s) written.

        ``onset_s`` is seconds from the first sample. EDF+ lets a TAL sit in any data record,
        so an event detected a few seconds late is still placed at its true onset.
        """
        self._check_open()
        room = self.layout.annotation_bytes - TIMEKEEPING_RESERVE
        self._pending.append(event_tal(float(self.first_onset) + onset_s, duration_s, text, room))

    def write(self, digital: np.ndarray) -> int:
        """Append samples (int16, shape (n, 3)); write and fsync every record they complete.

        Returns
        -------
        int
            Records written by this call.
        """
        self._check_open()
        dig = np.asarray(digital)
        if dig.ndim != 2 or dig.shape[1] != 3:
            raise ValueError(f"digital samples must have shape (n, 3), got {dig.shape}")
        dig = dig.astype(np.int16, copy=False)
        spr = self.layout.samples_per_record
        n = dig.shape[0]
        blocks: list[np.ndarray] = []
        i = 0
        if self._fill:
            take = min(spr - self._fill, n)
            self._buffer[self._fill : self._fill + take] = dig[:take]
            self._fill += take
            i = take
            if self._fill == spr:
                blocks.append(self._buffer[None].copy())
                self._fill = 0
        whole = (n - i) // spr
        if whole:
            blocks.append(dig[i : i + whole * spr].reshape(whole, spr, 3))
            i += whole * spr
        if i < n:
            self._buffer[: n - i] = dig[i:]
            self._fill = n - i
        written = 0
        for block in blocks:
            written += self._write_records(block)
        return written

    def _annotation_block(self, k: int) -> np.ndarray:
        size = self.layout.annotation_bytes
        out = np.zeros((k, size), dtype=np.uint8)
        for j in range(k):
            raw = self._onsets.timekeeping_tal(self._records + j)
            while self._pending and len(raw) + len(self._pending[0]) <= size:
                raw += self._pending.popleft()
            out[j, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        return out

    def _write_records(self, block: np.ndarray) -> int:
        spr = self.layout.samples_per_record
        per_write = max(1, _RECORDS_PER_WRITE_BYTES // self.layout.record_bytes)
        for start in range(0, block.shape[0], per_write):
            part = block[start : start + per_write]
            k = part.shape[0]
            records = np.empty((k, self.layout.record_bytes), dtype=np.uint8)
            # EDF stores each signal's samples of a record contiguously: x..., y..., z...
            signals = np.ascontiguousarray(part.transpose(0, 2, 1), dtype="<i2")
            records[:, : 6 * spr] = signals.reshape(k, 3 * spr).view(np.uint8)
            records[:, 6 * spr :] = self._annotation_block(k)
            try:
                _write_all(self._fd, records.tobytes())
                os.fsync(self._fd)
            except OSError:
                # A full disk mid-record leaves part of it written: cut back to the last whole
                # record, so the file stays readable and a later write starts on a record.
                end = self._data_start + self._records * self.layout.record_bytes
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, end)
                    os.lseek(self._fd, end, os.SEEK_SET)
                raise
            self._records += k
        return block.shape[0]

    def close(self) -> int:
        """Pad the last record with the marker, write queued annotations, set the count.

        Returns
        -------
        int
            Number of data records in the finished file.
        """
        if self._closed:
            return self._records
        try:
            spr = self.layout.samples_per_record
            if self._fill:
                self._buffer[self._fill :] = PAD_DIGITAL
                self._fill = 0
                self._write_records(self._buffer[None].copy())
            while self._pending:
                self._write_records(np.full((1, spr, 3), PAD_DIGITAL, dtype=np.int16))
            set_record_count(self._fd, self._records)
        finally:
            self._closed = True
            os.close(self._fd)
        return self._records

    def abort(self) -> None:
        """Close the file as it is, without padding or the record count (as if killed)."""
        if not self._closed:
            self._closed = True
            os.close(self._fd)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the EDF writer is closed")
