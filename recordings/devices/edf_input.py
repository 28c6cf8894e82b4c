"""EDF, EDF+ and BDF(+) files holding three accelerometer channels, read in blocks of records.

The header is parsed and checked by edfio (labels, units, ranges, samples per record, record
duration, the EDF+ start date); the data records are then read straight from the file in
blocks of whole records through a memory map, so a week of 100 Hz data is never in memory at
once (edfio loads whole BDF files and does not expose per-record onsets, which EDF+D needs).

Channels: the first three signals whose labels name the axes x, y and z around a common rest
(``Accel X``, ``ACC_Y``, ``accelerometer z``, ``AccX``, ``X``, ``Acc Z left ankle`` ...) and whose
physical dimension is an acceleration: ``g``, ``mg`` or ``m/s2`` (converted with standard
gravity, 9.80665 m/s^2, the 1901 CGPM value). Labels with ``acc`` are preferred.

Time: EDF+C and plain EDF records follow each other every record duration; EDF+D records start
at the onset of their time-keeping annotation (EDF+ spec, Kemp & Olivan 2003, section 2.2.4), and
the space between two records is a gap. The start date and time in the header are local time by
the EDF spec and carry no UTC offset, so they are taken as UTC (our own writer writes UTC there).

Auxiliary channels: a signal whose physical dimension is a temperature (``degC``, ``°C``, ``C``,
``degF``; kelvin only with a label naming temperature) or whose label names one (a word starting
with ``temp``, not ``tempor...``) with no other dimension becomes the ``temperature`` channel in
degC; one whose dimension is ``lux``/``lx`` or whose label says ``light``/``lux`` becomes
``light`` (its dimension in ``meta["light_unit"]``). Each is handed on at its own rate (its own
samples per record), the first of each kind. A temperature at the digital minimum when that is
the format's lowest value (-32768, BDF -8388608) is NaN: hypnic's export writes it for "no
reading", and a temperature at the very bottom of a signal's range is no skin reading anyway
(light keeps it: 0 lux at the bottom of the range is real darkness).

Padding: a sample whose three axes all hold the digital value -32768 is the gap padding of
hypnic's own writer (:data:`recordings.edf_writer.PAD_DIGITAL`); it is dropped and its span
reported as a gap (a real sample at negative full scale on all three axes at once does not
happen).
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import edfio
import numpy as np

from hypnic.recordings.devices._stream import (
    CHUNK_SAMPLES,
    Batch,
    DecodeState,
    device_stream,
    placement_from_text,
)
from hypnic.recordings.edf_reader import parse_tals
from hypnic.recordings.edf_writer import PAD_DIGITAL
from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

_EDF_MAGIC = b"0       "
_BDF_MAGIC = b"\xffBIOSEMI"
_ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")
STANDARD_GRAVITY = 9.80665  # m/s^2 per g (3rd CGPM, 1901)
#: A record onset (s from the header's start) beyond this is damage, not time: about 31 years.
#: EDF+ writes onsets as decimal text of any length, so a damaged TAL can say 10^400.
_MAX_ONSET_S = 1e9
_F32_MAX = float(np.finfo(np.float32).max)
_UNITS = {
    "g": 1.0,
    "gn": 1.0,
    "mg": 1e-3,
    "m/s2": 1 / STANDARD_GRAVITY,
    "m/s^2": 1 / STANDARD_GRAVITY,
    "m/s²": 1 / STANDARD_GRAVITY,
    "m/s/s": 1 / STANDARD_GRAVITY,
    "ms-2": 1 / STANDARD_GRAVITY,
    "ms^-2": 1 / STANDARD_GRAVITY,
    "m.s-2": 1 / STANDARD_GRAVITY,
    "m*s^-2": 1 / STANDARD_GRAVITY,
}
# Words an axis letter may be glued to (``AccX``, ``accelerometerz``).
_ACC_WORDS = ("a", "acc", "accel", "accelerometer", "acceleration")
# EDF header layout (EDF spec, header record): fixed-width ASCII fields.
_START_DATE = slice(168, 176)
_START_TIME = slice(176, 184)
_SIGNAL_HEADER_WIDTHS = (16, 80, 8, 8, 8, 8, 8, 80, 8, 32)  # label ... samples/record, reserved
_SPR_FIELD = 8  # index of "number of samples in each data record" among the signal fields


def sniff(head: bytes, path: Path | None = None) -> bool:
    """Whether ``head`` starts like an EDF/EDF+ (``"0"`` + 7 spaces) or BDF file."""
    if len(head) < 256 or head[:8] not in (_EDF_MAGIC, _BDF_MAGIC):
        return False
    try:
        return int(head[184:192]) >= 512 and int(head[252:256]) >= 1
    except ValueError:
        return False


def _unit_factor(dimension: str) -> float | None:
    return _UNITS.get(dimension.strip().replace(" ", "").lower().replace("ms⁻²", "ms-2"))


def _axis_key(label: str) -> tuple[str, str] | None:
    """``(rest of the label, axis)`` when the label names one of the axes x, y, z."""
    tokens = re.sub(r"[^0-9a-z]+", " ", label.lower()).split()
    axes = [i for i, token in enumerate(tokens) if token in ("x", "y", "z")]
    if len(axes) == 1:
        i = axes[0]
        rest = tokens[:i] + tokens[i + 1 :]
        if rest[i : i + 1] == ["axis"]:
            del rest[i]
        return " ".join(rest), tokens[i]
    if not axes and tokens and tokens[-1][-1:] in ("x", "y", "z") and tokens[-1][:-1] in _ACC_WORDS:
        return " ".join(tokens[:-1] + [tokens[-1][:-1]]), tokens[-1][-1]
    return None


def find_accelerometer(labels: list[str], dimensions: list[str]) -> tuple[int, int, int] | None:
    """Indices of the x, y and z accelerometer signals among ``labels``, or None.

    Parameters
    ----------
    labels, dimensions : list of str
        Label and physical dimension of each ordinary signal, in file order.

    Returns
    -------
    tuple of int or None
        The first complete x/y/z triple sharing the rest of its label, all in an acceleration
        unit; triples whose labels mention ``acc`` come first.
    """
    groups: dict[str, dict[str, int]] = {}
    for i, (label, dimension) in enumerate(zip(labels, dimensions, strict=True)):
        found = _axis_key(label)
        if found is None or _unit_factor(dimension) is None:
            continue
        key, axis = found
        groups.setdefault(key, {}).setdefault(axis, i)
    complete = [(key, g) for key, g in groups.items() if len(g) == 3]
    if not complete:
        return None
    complete.sort(key=lambda kg: ("acc" not in kg[0], min(kg[1].values())))
    g = complete[0][1]
    return g["x"], g["y"], g["z"]


# Physical dimensions of a temperature, as (offset, factor) to degC; kelvin needs a label too.
_TEMPERATURE_UNITS = {
    "degc": (0.0, 1.0),
    "°c": (0.0, 1.0),
    "ºc": (0.0, 1.0),
    "c": (0.0, 1.0),
    "celsius": (0.0, 1.0),
    "degf": (-32.0, 5.0 / 9.0),
    "°f": (-32.0, 5.0 / 9.0),
    "ºf": (-32.0, 5.0 / 9.0),
    "k": (-273.15, 1.0),
}
_LIGHT_UNITS = ("lux", "lx")


def _words(label: str) -> list[str]:
    return re.sub(r"[^0-9a-z]+", " ", label.lower()).split()


def aux_kind(label: str, dimension: str) -> tuple[str, float, float] | None:
    """Whether a signal is an auxiliary channel: ``(channel, offset, factor)`` that turn its
    physical values into the channel's unit (``(value + offset) * factor``), or None.

    Parameters
    ----------
    label, dimension : str
        The signal's label and physical dimension.
    """
    unit = dimension.strip().replace(" ", "").replace(".", "").lower()
    words = _words(label)
    says_temperature = any(
        w.startswith("temp") and not w.startswith("tempor") for w in words
    )
    if unit in _TEMPERATURE_UNITS and (unit != "k" or says_temperature):
        offset, factor = _TEMPERATURE_UNITS[unit]
        return "temperature", offset, factor
    if says_temperature and unit == "":
        return "temperature", 0.0, 1.0
    if unit in _LIGHT_UNITS or ({"light", "lux"} & set(words) and _unit_factor(dimension) is None):
        return "light", 0.0, 1.0
    return None


def _header_bytes(source: Path, fh) -> tuple[bytes, bool]:
    head = fh.read(256)
    if not sniff(head + b" " * (256 - len(head))) or len(head) < 256:
        raise InputError(source, "not an EDF/BDF file (no valid 256-byte header)")
    try:
        ns = int(head[252:256])
    except ValueError:
        raise InputError(source, "corrupt EDF header: number of signals is not a number") from None
    if not 1 <= ns <= 4096:
        raise InputError(source, f"corrupt EDF header: {ns} signals")
    signals = fh.read(256 * ns)
    if len(signals) < 256 * ns:
        raise InputError(source, "EDF file cut short inside its signal headers")
    return head + signals, head[:8] == _BDF_MAGIC


@dataclass(frozen=True)
class _Signal:
    """One ordinary signal's header fields."""

    label: str
    dimension: str
    transducer: str
    physical_min: float
    physical_max: float
    digital_min: int
    digital_max: int


@dataclass(frozen=True)
class _Aux:
    """An auxiliary signal to read: its channel, index in the file and unit conversion."""

    channel: str
    index: int
    signal: _Signal
    offset: float
    factor: float


@dataclass(frozen=True)
class _Parsed:
    """The header fields this reader uses, as edfio parsed them."""

    reserved: str
    duration: float
    recording: str
    startdate: date | None
    signals: list[_Signal]


def _parse_with_edfio(source: Path, header: bytes, bdf: bool) -> _Parsed:
    """Parse the header with edfio, reading every field used here (edfio decodes lazily)."""
    with warnings.catch_warnings():
        # edfio warns that a header-only buffer holds no records; the count is taken below.
        warnings.simplefilter("ignore")
        try:
            edf = edfio.read_bdf(header) if bdf else edfio.read_edf(header)
            signals = [
                _Signal(
                    label=s.label,
                    dimension=s.physical_dimension,
                    transducer=s.transducer_type,
                    physical_min=float(s.physical_min),
                    physical_max=float(s.physical_max),
                    digital_min=int(s.digital_min),
                    digital_max=int(s.digital_max),
                )
                for s in edf.signals
            ]
            reserved = edf.reserved.strip()
            duration = float(edf.data_record_duration)
            recording = edf.local_recording_identification
        except Exception as exc:  # noqa: BLE001 - edfio on damaged headers raises anything
            # (ValueError, ZeroDivisionError, OverflowError ... and, on a record duration of 0
            # with no samples per record, UnboundLocalError from edfio 0.4): all mean the same.
            detail = " ".join(str(exc).split())
            raise InputError(source, f"corrupt EDF header ({detail})") from None
        try:
            startdate = edf.recording.startdate
        except Exception:  # anonymised or not EDF+: the legacy date field is used instead
            startdate = None
    return _Parsed(reserved, duration, recording, startdate, signals)


def _finite_in_g(signal: _Signal, bdf: bool) -> bool:
    """Whether every value the file can hold maps to a finite float32 in g.

    A damaged range field can read "nan" or "9e999999", or a tiny digital range can scale the
    int16 (int24) extremes past 3.4e38: such a channel would give NaN or inf samples.
    """
    bits = 24 if bdf else 16
    gain = (signal.physical_max - signal.physical_min) / (signal.digital_max - signal.digital_min)
    factor = _unit_factor(signal.dimension) or 1.0
    ends = [((d - signal.digital_min) * gain + signal.physical_min) * factor
            for d in (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)]  # fmt: skip
    return all(abs(v) < _F32_MAX for v in ends)  # False for NaN too


def _signal_fields(header: bytes, ns: int, index: int) -> list[bytes]:
    """Field ``index`` (0 = label ... 8 = samples per record) of every signal header."""
    at = 256 + ns * sum(_SIGNAL_HEADER_WIDTHS[:index])
    width = _SIGNAL_HEADER_WIDTHS[index]
    return [header[at + i * width : at + (i + 1) * width] for i in range(ns)]


def _start(source: Path, header: bytes, startdate: date | None) -> datetime:
    """Header start date and time (naive), the year from the EDF+ recording field if any."""
    day = startdate
    if day is None:
        try:
            dd, mm, yy = (int(v) for v in header[_START_DATE].decode("ascii").split("."))
            day = date(1900 + yy if yy >= 85 else 2000 + yy, mm, dd)  # EDF's 1985 clipping date
        except (ValueError, UnicodeDecodeError):
            raise InputError(source, "corrupt EDF header: start date") from None
    try:
        hh, mi, ss = (int(v) for v in header[_START_TIME].decode("ascii").split("."))
        return datetime(day.year, day.month, day.day, hh, mi, ss)
    except (ValueError, UnicodeDecodeError):
        raise InputError(source, "corrupt EDF header: start time") from None


class _Layout:
    """Where each signal sits in a data record."""

    def __init__(self, source: Path, header: bytes, bdf: bool) -> None:
        ns = int(header[252:256])
        self.width = 3 if bdf else 2
        try:
            spr = [int(v) for v in _signal_fields(header, ns, _SPR_FIELD)]
        except ValueError:
            raise InputError(source, "corrupt EDF header: samples per record") from None
        if min(spr) < 0 or sum(spr) == 0:
            raise InputError(source, "corrupt EDF header: samples per record")
        labels = [v.decode("latin-1").strip() for v in _signal_fields(header, ns, 0)]
        self.spr = spr
        self.offsets = np.concatenate(([0], np.cumsum(spr)[:-1])) * self.width
        self.record_bytes = sum(spr) * self.width
        self.ordinary = [i for i, label in enumerate(labels) if label not in _ANNOTATION_LABELS]
        self.annotation = next(
            (i for i, label in enumerate(labels) if label in _ANNOTATION_LABELS), None
        )

    def columns(self, records: np.ndarray, signal: int) -> np.ndarray:
        """Digital values of ``signal`` in a block of records (uint8, (k, record_bytes))."""
        at = int(self.offsets[signal])
        raw = records[:, at : at + self.spr[signal] * self.width]
        if self.width == 2:
            return np.ascontiguousarray(raw).view("<i2").reshape(-1).astype(np.int32)
        b = raw.reshape(-1, 3).astype(np.int32)
        value = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return np.where(value >= 1 << 23, value - (1 << 24), value)

    def onset(self, record: np.ndarray) -> float | None:
        """The time-keeping onset of one record (first TAL of the annotation signal)."""
        at = int(self.offsets[self.annotation])
        tals = parse_tals(record[at : at + self.spr[self.annotation] * self.width].tobytes())
        try:
            value = float(tals[0].onset) if tals else None
        except ValueError:
            return None
        return value if value is not None and abs(value) < _MAX_ONSET_S else None


class _Decoder:
    """Blocks of data records to batches of samples, with the gaps between records and padding."""

    def __init__(
        self,
        source: Path,
        layout: _Layout,
        axes: list,
        n_records: int,
        duration: float,
        onset0: float | None,
        state: DecodeState,
        chunk_samples: int,
        aux: list[_Aux] | None = None,
        bdf: bool = False,
    ) -> None:
        self.source = source
        self.layout = layout
        self.aux = aux or []
        self.lowest = -(1 << 23) if bdf else -(1 << 15)  # the format's lowest digital value
        self.axes = axes  # (signal index in the file, edfio signal, unit factor) for x, y, z
        self.n_records = n_records
        self.duration = duration
        self.onset0 = onset0  # None: records follow each other (EDF, EDF+C); else EDF+D
        self.state = state
        self.spr = layout.spr[axes[0][0]]
        self.fs = self.spr / duration
        self.per_block = max(1, chunk_samples // self.spr)
        self.pad_open: float | None = None  # start of a run of padding that may go on

    def _physical(self, records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        digital = [self.layout.columns(records, index) for index, _, _ in self.axes]
        pad = (
            (digital[0] == PAD_DIGITAL) & (digital[1] == PAD_DIGITAL) & (digital[2] == PAD_DIGITAL)
        )
        xyz = np.empty((len(digital[0]), 3), dtype=np.float32)
        for k, (_, signal, factor) in enumerate(self.axes):
            gain = (signal.physical_max - signal.physical_min) / (
                signal.digital_max - signal.digital_min
            )
            xyz[:, k] = ((digital[k] - signal.digital_min) * gain + signal.physical_min) * factor
        return xyz, pad

    def _aux(self, records: np.ndarray, starts: np.ndarray) -> dict:
        """Each auxiliary signal of a block of records at its own rate, in its channel's unit."""
        out = {}
        for a in self.aux:
            spr = self.layout.spr[a.index]
            if spr <= 0:
                continue
            digital = self.layout.columns(records, a.index)
            s = a.signal
            gain = (s.physical_max - s.physical_min) / (s.digital_max - s.digital_min)
            values = ((digital - s.digital_min) * gain + s.physical_min + a.offset) * a.factor
            if a.channel == "temperature" and s.digital_min == self.lowest:
                values = np.where(digital == self.lowest, np.nan, values)
            t = (starts[:, None] + np.arange(spr)[None, :] * (self.duration / spr)).ravel()
            out[a.channel] = (t, values.astype(np.float64))
        return out

    def _padding_gaps(self, t: np.ndarray, pad: np.ndarray) -> None:
        """Runs of padding become gaps ``[first padded sample, next real sample]``."""
        if self.pad_open is not None and not pad[0]:
            self.state.gaps.append([self.pad_open, t[0]])
            self.pad_open = None
        edges = np.diff(np.concatenate(([0], pad.astype(np.int8), [0])))
        for begin, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            opened = self.pad_open if begin == 0 and self.pad_open is not None else float(t[begin])
            self.pad_open = None
            if end == len(t):
                self.pad_open = opened
            else:
                self.state.gaps.append([opened, float(t[end])])
        self.state.count("samples_padding", int(pad.sum()))

    def _starts(self, first: int, records: np.ndarray) -> np.ndarray:
        """Record start times (s from the origin); NaN where an EDF+D onset is unreadable."""
        if self.onset0 is None:
            return (first + np.arange(len(records))) * self.duration
        base = self.onset0 // 1
        onsets = [self.layout.onset(record) for record in records]
        return np.array([np.nan if o is None else o - base for o in onsets], dtype=np.float64)

    def batches(self, data_offset: int, first_fraction: float) -> Iterator[Batch]:
        records_map = np.memmap(
            self.source,
            dtype=np.uint8,
            mode="r",
            offset=data_offset,
            shape=(self.n_records, self.layout.record_bytes),
        )
        within = np.arange(self.spr) / self.fs
        floor: float | None = None
        for first in range(0, self.n_records, self.per_block):
            records = np.asarray(records_map[first : first + self.per_block])
            starts = self._starts(first, records)
            if self.onset0 is None:
                starts = starts + first_fraction
            keep = np.zeros(len(records), dtype=bool)
            for j, begin in enumerate(starts.tolist()):
                if begin != begin:  # NaN
                    self.state.count("records_without_onset")
                    continue
                if floor is not None and begin < floor - 1e-9:
                    self.state.count("records_dropped_overlap")
                    continue
                if floor is not None and begin > floor + 1e-9:
                    self.state.gaps.append([floor, begin])
                floor = begin + self.duration
                keep[j] = True
            if not keep.any():
                continue
            xyz, pad = self._physical(records[keep])
            t = (starts[keep][:, None] + within[None, :]).ravel()
            if pad.any() or self.pad_open is not None:
                self._padding_gaps(t, pad)
            aux = self._aux(records[keep], starts[keep]) if self.aux else {}
            yield Batch(t[~pad], xyz[~pad], aux)
        if self.pad_open is not None and floor is not None:
            self.state.gaps.append([self.pad_open, floor])


def open_edf(
    path: str | os.PathLike[str], *, start: str | None = None, chunk_samples: int = CHUNK_SAMPLES
) -> SampleStream:
    """Open an EDF/EDF+/BDF file's three accelerometer channels as a stream of samples.

    Parameters
    ----------
    path : str or path-like
        The file (recognised by content, any name).
    start : str, optional
        ``--start``: ISO 8601 start overriding the header's start date and time.
    chunk_samples : int
        About how many samples each chunk holds (whole data records).

    Returns
    -------
    SampleStream
        ``t`` from the first sample; ``gaps`` the spaces between EDF+D records and the spans of
        hypnic's padding (complete once the stream is read).

    Raises
    ------
    InputError
        Not an EDF/BDF file, a corrupt header, no x/y/z accelerometer channels in g, mg or
        m/s2, axes at different rates, or no data records.
    """
    source = Path(path)
    try:
        size = source.stat().st_size
        with open(source, "rb") as fh:
            header, bdf = _header_bytes(source, fh)
    except IsADirectoryError:
        raise InputError(source, "is a folder, not an EDF file") from None
    except OSError as exc:
        raise InputError(source, f"cannot read the file ({exc.strerror or exc})") from None
    edf = _parse_with_edfio(source, header, bdf)
    layout = _Layout(source, header, bdf)
    signals = edf.signals
    if len(signals) != len(layout.ordinary):
        raise InputError(
            source, "corrupt EDF header: signal count does not match the signal headers"
        )
    labels = [s.label for s in signals]
    found = find_accelerometer(labels, [s.dimension for s in signals])
    if found is None:
        shown = ", ".join(
            f"{label!r} [{s.dimension}]" for label, s in zip(labels, signals, strict=True)
        )
        raise InputError(
            source, f"no x/y/z accelerometer channels in g, mg or m/s2 among the signals: {shown}"
        )
    axes = [(layout.ordinary[i], signals[i]) for i in found]
    spr = {layout.spr[index] for index, _ in axes}
    if len(spr) != 1:
        raise InputError(source, "the x, y and z channels have different sample rates")
    for _, signal in axes:
        if (
            signal.digital_max <= signal.digital_min
            or signal.physical_max == signal.physical_min
            or not _finite_in_g(signal, bdf)
        ):
            raise InputError(source, f"channel {signal.label!r} has no usable calibration range")
    duration = edf.duration
    if not 0 < duration < 1e6:
        raise InputError(source, f"EDF record duration {duration} s: no samples")
    try:
        header_records = int(header[236:244].strip() or b"-1")
    except ValueError:
        raise InputError(source, "corrupt EDF header: number of data records") from None
    n_records = (size - len(header)) // layout.record_bytes
    if header_records >= 0:
        n_records = min(n_records, header_records)
    if n_records <= 0:
        raise InputError(source, "no complete data records in the EDF file")
    reserved = edf.reserved
    discontinuous = reserved.startswith("EDF+D") or reserved.startswith("BDF+D")
    if discontinuous and layout.annotation is None:
        raise InputError(source, "EDF+D file without an annotation signal for record onsets")
    start_local = _start(source, header, edf.startdate)
    first_onset = 0.0
    if layout.annotation is not None:
        with open(source, "rb") as fh:
            fh.seek(len(header))
            record = np.frombuffer(fh.read(layout.record_bytes), dtype=np.uint8)
        onset = layout.onset(record)
        first_onset = onset if onset is not None else 0.0
    try:
        origin_dt = start_local + timedelta(seconds=int(first_onset // 1))
    except OverflowError:  # a start near the year 9999 plus the onset
        raise InputError(source, "corrupt EDF: the first record's onset is beyond the calendar") from None
    origin = int((origin_dt - datetime(1970, 1, 1)).total_seconds())
    state = DecodeState(origin=origin)
    axes = [(index, signal, _unit_factor(signal.dimension)) for index, signal in axes]
    aux = _aux_signals(layout, signals, found)
    decoder = _Decoder(
        source,
        layout,
        axes,
        n_records,
        duration,
        first_onset if discontinuous else None,
        state,
        chunk_samples,
        aux,
        bdf,
    )
    text = " ".join([edf.recording] + [s.label + " " + s.transducer for _, s, _ in axes])
    meta = {
        "format": "BDF" if bdf else ("EDF+" if reserved.startswith("EDF+") else "EDF"),
        "edf_reserved": reserved,
        "device": axes[0][1].transducer,
        "channels": [s.label for _, s, _ in axes],
        "units": [s.dimension for _, s, _ in axes],
        "range_g": max(max(abs(s.physical_min), abs(s.physical_max)) * f for _, s, f in axes),
        "record_duration_s": duration,
        "records": n_records,
        "clock": "EDF header start date/time (local time by the EDF spec, no UTC offset); treated as UTC",
    }
    for a in aux:
        meta[f"{a.channel}_signal"] = a.signal.label
        if a.channel == "light":
            meta["light_unit"] = a.signal.dimension.strip() or "device units"
    return device_stream(
        source,
        decoder.batches(len(header), first_onset % 1),
        state,
        fs=decoder.fs,
        utc_offset_s=0.0,
        placement=placement_from_text(text),
        meta=meta,
        start=start,
        aux_channels=tuple(a.channel for a in aux),
    )


def _aux_signals(layout: _Layout, signals: list[_Signal], accel: tuple) -> list[_Aux]:
    """The first temperature and the first light signal, with a usable calibration."""
    found: dict[str, _Aux] = {}
    for i, signal in enumerate(signals):
        kind = aux_kind(signal.label, signal.dimension)
        if i in accel or kind is None or kind[0] in found:
            continue
        if signal.digital_max <= signal.digital_min or signal.physical_max == signal.physical_min:
            continue
        if not np.all(np.isfinite([signal.physical_min, signal.physical_max])):
            continue
        found[kind[0]] = _Aux(kind[0], layout.ordinary[i], signal, kind[1], kind[2])
    return sorted(found.values(), key=lambda a: a.channel)
