"""Reading EDF/EDF+ files record by record: header, complete records, annotations.

Only what reading our own signal files needs, written from the EDF and EDF+ specifications
(Kemp et al. 1992; Kemp & Olivan 2003, edfplus.info/specs/edfplus.html): the header is parsed
field by field with one-line errors, data records are read in blocks of whole records (bounded
memory), and the number of records is taken from the file size when the header says ``-1``
("-1 if unknown") or when the file was cut short. A torn last record is never returned.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hypnic.recordings.edf_writer import _HEADER_FIELDS, _MONTHS, _SIGNAL_FIELDS, OnsetFormatter
from hypnic.recordings.errors import InputError

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
# EDF+ §2.2.2: onset, optional duration after 0x15, texts separated by 0x14, closed by 0x14 0x00.
_TAL = re.compile(rb"([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?\x14(.*?)\x14\x00", re.S)


@dataclass(frozen=True)
class EdfSignalHeader:
    """One signal's header fields, parsed."""

    label: str
    transducer: str
    dimension: str
    physical_min: float
    physical_max: float
    digital_min: int
    digital_max: int
    prefiltering: str
    samples_per_record: int

    @property
    def gain(self) -> float:
        """Physical units per digital step."""
        return (self.physical_max - self.physical_min) / (self.digital_max - self.digital_min)

    def to_physical(self, digital: np.ndarray) -> np.ndarray:
        """Digital values to physical units (EDF's linear map), as float64."""
        return (
            np.asarray(digital, dtype=np.float64) - self.digital_min
        ) * self.gain + self.physical_min


@dataclass(frozen=True)
class EdfHeader:
    """An EDF(+) header, parsed and checked.

    Attributes
    ----------
    n_records : int
        The header's "number of data records" (``-1`` while a writer is still appending).
    duration : Fraction
        Data record duration in seconds, exactly as written.
    start : datetime
        Start date and time (naive: EDF has no time zone; the full year comes from the EDF+
        recording identification when it has one).
    """

    patient: str
    recording: str
    start: datetime
    header_bytes: int
    reserved: str
    n_records: int
    duration: Fraction
    signals: tuple[EdfSignalHeader, ...]

    @property
    def record_bytes(self) -> int:
        """Bytes of one data record (2 bytes a sample)."""
        return 2 * sum(s.samples_per_record for s in self.signals)

    def complete_records(self, file_size: int) -> tuple[int, int]:
        """Records wholly on disk, and the bytes of a torn record after them.

        When the header gives a count, no more than that are used (bytes after them are
        not data); when it says ``-1`` the file size decides.
        """
        data = max(0, file_size - self.header_bytes)
        n, torn = divmod(data, self.record_bytes)
        if self.n_records >= 0 and n > self.n_records:
            return self.n_records, 0
        return n, torn


def _text(raw: bytes, source: Path, name: str) -> str:
    try:
        return raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise InputError(source, f"corrupt EDF header: field {name} is not ASCII text") from None


def _int(text: str, source: Path, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InputError(
            source, f"corrupt EDF header: field {name} is {text!r}, not a whole number"
        ) from None


def _num(text: str, source: Path, name: str) -> Fraction:
    if not _NUMBER.match(text):
        raise InputError(source, f"corrupt EDF header: field {name} is {text!r}, not a number")
    return Fraction(text)


def _start(date: str, time: str, recording: str, source: Path) -> datetime:
    try:
        day_text, month_text, yy = date.split(".")
        day, month = int(day_text), int(month_text)
        hour, minute, second = (int(v) for v in time.split("."))
        # EDF's 1985 clipping date; "yy" after 2084, when only the EDF+ field has the year
        year = 0 if yy == "yy" else (1900 + int(yy) if int(yy) >= 85 else 2000 + int(yy))
    except ValueError:
        raise InputError(source, f"corrupt EDF header: start date/time {date!r} {time!r}") from None
    parts = recording.split()
    if len(parts) > 1 and parts[0] == "Startdate":
        _day, _, rest = parts[1].partition("-")
        mon, _, full_year = rest.partition("-")
        if mon.upper() in _MONTHS and full_year.isdigit():
            year = int(full_year)
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise InputError(source, f"corrupt EDF header: start date/time {date!r} {time!r}") from None


def read_edf_header(path: str | os.PathLike[str]) -> EdfHeader:
    """Parse and check the header of an EDF or EDF+ file.

    Raises
    ------
    InputError
        When the file is missing, too short, or any header field is malformed.
    """
    source = Path(path)
    try:
        with open(source, "rb") as fh:
            head = fh.read(256)
            if len(head) < 256:
                raise InputError(source, "not an EDF file (shorter than the 256-byte header)")
            fields: dict[str, str] = {}
            offset = 0
            for name, width in _HEADER_FIELDS:
                fields[name] = _text(head[offset : offset + width], source, name)
                offset += width
            if fields["version"] != "0":
                raise InputError(source, "not an EDF file (version field is not 0)")
            ns = _int(fields["n_signals"], source, "number of signals")
            if not 1 <= ns <= 4096:
                raise InputError(source, f"corrupt EDF header: {ns} signals")
            signal_raw = fh.read(256 * ns)
    except OSError as exc:
        raise InputError(source, f"cannot read ({exc.strerror})") from None
    if len(signal_raw) < 256 * ns:
        raise InputError(source, "corrupt EDF header: the signal headers are cut short")
    header_bytes = _int(fields["header_bytes"], source, "header bytes")
    if header_bytes != 256 * (ns + 1):
        raise InputError(
            source, f"corrupt EDF header: {header_bytes} header bytes for {ns} signals"
        )
    n_records = _int(fields["n_records"], source, "number of data records")
    if n_records < -1:
        raise InputError(source, f"corrupt EDF header: {n_records} data records")
    duration = _num(fields["duration"], source, "record duration")
    if duration <= 0:
        raise InputError(source, "corrupt EDF header: data record duration is not positive")
    columns: dict[str, list[str]] = {}
    offset = 0
    for name, width in _SIGNAL_FIELDS:
        columns[name] = [
            _text(signal_raw[offset + i * width : offset + (i + 1) * width], source, name)
            for i in range(ns)
        ]
        offset += width * ns
    signals = []
    for i in range(ns):
        c = {name: values[i] for name, values in columns.items()}
        sig = EdfSignalHeader(
            label=c["label"],
            transducer=c["transducer"],
            dimension=c["dimension"],
            physical_min=float(_num(c["physical_min"], source, "physical minimum")),
            physical_max=float(_num(c["physical_max"], source, "physical maximum")),
            digital_min=_int(c["digital_min"], source, "digital minimum"),
            digital_max=_int(c["digital_max"], source, "digital maximum"),
            prefiltering=c["prefiltering"],
            samples_per_record=_int(c["samples_per_record"], source, "samples per record"),
        )
        if sig.samples_per_record < 1 or sig.digital_min >= sig.digital_max:
            raise InputError(source, f"corrupt EDF header: signal {i + 1} ({sig.label!r}) ranges")
        if sig.physical_min == sig.physical_max:
            raise InputError(source, f"corrupt EDF header: signal {i + 1} has no physical range")
        signals.append(sig)
    return EdfHeader(
        patient=fields["patient"],
        recording=fields["recording"],
        start=_start(fields["startdate"], fields["starttime"], fields["recording"], source),
        header_bytes=header_bytes,
        reserved=fields["reserved"],
        n_records=n_records,
        duration=duration,
        signals=tuple(signals),
    )


def iter_record_blocks(
    path: str | os.PathLike[str],
    header: EdfHeader,
    stop: int,
    records_per_block: int,
    start: int = 0,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(first_record, bytes)`` blocks of whole data records ``start..stop-1``.

    ``bytes`` is a uint8 array of shape (k, record_bytes). Reads exactly the records asked
    for, so a file still being appended to can be read while it grows.
    """
    size = header.record_bytes
    per = max(1, int(records_per_block))
    try:
        fh = open(path, "rb")
    except OSError as exc:  # deleted or made unreadable since its header was read
        raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
    with fh:
        for first in range(start, stop, per):
            k = min(per, stop - first)
            try:
                fh.seek(header.header_bytes + first * size)
                raw = fh.read(k * size)
            except OSError as exc:
                raise InputError(path, f"cannot read ({exc.strerror or exc})") from None
            if len(raw) != k * size:
                raise InputError(
                    path, f"data record {first + len(raw) // size} vanished while reading"
                )
            yield first, np.frombuffer(raw, dtype=np.uint8).reshape(k, size)


class Tal(NamedTuple):
    """One time-stamped annotation list: onset and duration as written, and its texts."""

    onset: str
    duration: str | None
    texts: list[str]


def parse_tals(raw: bytes) -> list[Tal]:
    """All TALs in one record's annotation bytes (EDF+ §2.2.2), in order."""
    out = []
    for onset, duration, texts in _TAL.findall(raw):
        out.append(
            Tal(
                onset.decode("ascii"),
                duration.decode("ascii") if duration else None,
                texts.decode("utf-8", errors="replace").split("\x14"),
            )
        )
    return out


class TimekeepingCheck:
    """Tells whether records carry exactly the time-keeping TAL our writer gives them.

    A record that does not (zeros left by a power cut, overwritten bytes) is not trusted:
    a torn or damaged record is never read as samples.

    Parameters
    ----------
    first : Fraction
        Onset of record 0.
    duration : Fraction
        Data record duration.
    """

    def __init__(self, first: Fraction, duration: Fraction) -> None:
        self._onsets = OnsetFormatter(first, duration)

    def valid(self, first_record: int, annotations: np.ndarray) -> np.ndarray:
        """Boolean per record of an annotation-bytes block of shape (k, n_bytes)."""
        k, width = annotations.shape
        raw = annotations.tobytes()
        return np.fromiter(
            (
                raw.startswith(self._onsets.timekeeping_tal(first_record + j), j * width)
                for j in range(k)
            ),
            dtype=bool,
            count=k,
        )
