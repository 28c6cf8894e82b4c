"""EDF+ export: a recording's samples and its events as one EDF+ file, for EDF viewers and PSG
tools. Which samples and events (:func:`plan_export`), the samples on the EDF grid and the file
written (:class:`EdfExport`); the use case that runs it, analysing the samples where the events
come from a fresh analysis, is :mod:`hypnic.export` (``hypnic export``).

The file is written by edfio (the EDF library MNE's export uses; ECOSYSTEM.md §2.1): EDF+C
with the three accelerometer axes in g (``Accel X/Y/Z``, int16 over the sensor's range) and one
``EDF Annotations`` signal holding the events (onset, duration, ``label`` or ``label series``
for PLM series) and the gaps (``gap``). Beside it, ``FILE.events.csv`` holds the same annotations
as ``onset,duration,description`` rows (seconds from the file's start), which EDFbrowser's
*Tools > Import annotations/events > ASCII/CSV* reads with separator ``,``, data from line 2,
onset column 1, duration column 2, description column 3, onset coded as seconds relative to
the start (EDFbrowser import dialog; ECOSYSTEM.md §2.3).

Samples on the EDF grid. EDF has one sample every ``1/fs``; each sample goes to slot
``round(t * fs)``. A hole between two samples that the analysis also calls a gap (an interval
longer than :func:`detector.bursts.gap_threshold_s`, or one the reader lists in
``stream.gaps``) is padded with the marker :data:`recordings.edf_writer.PAD_DIGITAL` on all three
axes, as our recording folders are, and annotated ``gap``; EDF+D would say it better, but edfio
reads +D as contiguous and viewers support it poorly (ECOSYSTEM.md §2.3). A shorter hole (an
irregular clock, a rate a little below nominal) is filled by repeating the previous sample, and
a sample landing on an already used slot is left out; both are counted in :class:`ExportResult`.
A recording folder has neither: its samples are on the grid already. The last data record is
completed with the marker (not annotated).

Events. ``DIR`` (an output folder of ``detect``/``replay``) gives ``DIR/events.csv``, and its
samples come from ``summary.json``'s ``source`` (the input as it was named to ``detect``: taken
as is, else relative to ``DIR``'s parent folder); their count must match the summary's. A
recording folder gives the analysis stored in it (``REC/analysis/events.csv``, where
``hypnic record`` writes it, or ``REC/events.csv``) if there is one, else the events of a fresh
analysis (the same as ``hypnic replay`` finds, run by :mod:`hypnic.export` while the samples
are read); its live log
``REC/events.jsonl`` (provisional, unlabelled bursts and timed notes) only on request
(``--events live``). Any other input (CSV, device file) gets a fresh analysis.

Memory. edfio builds the whole file in memory: the int16 signals and edfio's record array take
about 12 bytes per sample (0.4 GB for a 9-hour night at 1 kHz); the samples are read and
converted chunk by chunk. Measured: 8 h at 100 Hz from an output folder, 130 MB peak for the
whole process, 1.4 s.

Temperature. An input with a temperature channel (``stream.aux_channels``) gets a fourth
signal, ``Temperature`` in degC, one sample per data record (EDF holds a fixed number of samples
per record; skin temperature changes over minutes, so one a record, 1-2 s, loses nothing): the
mean of the readings in that record, else the last reading if it is at most
:data:`TEMPERATURE_HOLD_S` old, else the digital minimum, which hypnic's EDF reader reads as "no
reading" (NaN). ``hypnic detect`` on the exported file reads it back as the temperature channel.

The EDF and the CSV are written to temporary files beside the targets and moved into place with
:func:`os.replace`: a failed export leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from edfio import Edf, EdfAnnotation, EdfSignal, Patient, Recording

from hypnic.detector.bursts import BurstParams, gap_threshold_s
from hypnic.detector.results import Event, NightSummary
from hypnic.recordings.edf_writer import (
    ACCEL_LABELS,
    DIGITAL_MAX,
    DIGITAL_MIN,
    PAD_DIGITAL,
    RecordLayout,
    _ascii_subfield,
    physical_range_text,
    record_layout,
    to_digital,
)
from hypnic.recordings.errors import InputError
from hypnic.recordings.outputs import read_events_csv
from hypnic.recordings.recording import EVENTS_FILE, read_events, sniff_recording
from hypnic.recordings.samples import SampleChunk, SampleStream

#: Range assumed when the input does not say (a plain CSV): ±16 g is the largest range of the
#: commodity MEMS accelerometers hypnic reads (0.49 mg per step); larger values are clipped.
DEFAULT_RANGE_G = 16.0
GAP_TEXT = "gap"
#: Samples converted at once (bounds the temporaries of :meth:`SampleGrid.add`).
_PIECE = 1 << 16
#: ``--events`` values besides a path to an events.csv.
EVENT_SOURCES = ("auto", "analysis", "live")
SUMMARY_FILE = "summary.json"
EVENTS_CSV = "events.csv"
#: Where an analysis is kept inside a recording folder (``hypnic record`` writes ``analysis``).
RECORDING_ANALYSIS_DIRS = ("analysis", ".")
#: EDF+ TAL delimiters (NUL, 0x14, 0x15) and other control characters may not sit in a text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: EDFbrowser's CSV import splits on the separator and knows no quoting.
_CSV_UNSAFE = re.compile(r"[,\"]")
#: A record without a temperature reading repeats the last one up to this old (s); beyond, the
#: record says "no reading". Devices give one every 1-30 s (a block, a page, a second).
TEMPERATURE_HOLD_S = 300.0
#: Physical range of the temperature signal (degC): the operating range of the sensors read
#: here (MCP9700 -40..125, accelerometer dies -40..85) at 0.002 degC per digital step.
TEMPERATURE_RANGE_C = (-40.0, 85.0)
TEMPERATURE_LABEL = "Temperature"


class Annotation(NamedTuple):
    """One EDF+ annotation: onset and duration in seconds from the start, and its text."""

    onset_s: float
    duration_s: float | None
    text: str


@dataclass
class ExportResult:
    """What :meth:`EdfExport.write` wrote and how the samples were placed on the EDF grid.

    Attributes
    ----------
    edf_path, events_csv_path : Path
    events_source : str
        Where the events came from (a file, or ``"analysis"``).
    n_events : int
        Event annotations (gap annotations not counted).
    gaps : list of [float, float]
        Padded spans, ``[start_s, end_s]``.
    n_samples : int
        Samples read from the input.
    n_slots : int
        Samples per axis in the EDF (real, held, padded, and the last record's completion).
    held_slots, dropped_samples, clipped_samples : int
        Slots filled by repeating the previous sample, samples left out because their slot was
        taken, and samples clipped to the physical range.
    temperature_readings : int
        Temperature readings that went into the ``Temperature`` signal (0: no such signal).
    """

    edf_path: Path
    events_csv_path: Path
    events_source: str
    n_events: int
    gaps: list[list[float]]
    n_samples: int
    n_slots: int
    held_slots: int = 0
    dropped_samples: int = 0
    clipped_samples: int = 0
    temperature_readings: int = 0

    def summary(self) -> str:
        """One line: what went into the file."""
        parts = [
            f"{self.edf_path}: {self.n_samples} samples, {self.n_events} events "
            f"(from {self.events_source}), {len(self.gaps)} gaps"
        ]
        for count, what in (
            (self.held_slots, "slots held from the previous sample"),
            (self.dropped_samples, "samples dropped on a taken slot"),
            (self.clipped_samples, "samples clipped to the range"),
            (self.temperature_readings, "temperature readings"),
        ):
            if count:
                parts.append(f"{count} {what}")
        return "; ".join(parts)


# ------------------------------------------------------------------------------ annotations


def _finite(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def annotation_text(label: Any, series: Any = None) -> str:
    """``label`` or ``label series`` (a PLM's series number), without control characters."""
    text = str(label).strip() or "event"
    if series is not None and str(series).strip() != "":
        number = _finite(series)
        text += f" {int(number) if number is not None and number.is_integer() else series}"
    return _CONTROL.sub(" ", text)


def annotations_of(events: Iterable[Event]) -> list[Annotation]:
    """Annotations of a night's events (an analysis's, or an events.csv read back).

    Events without a finite onset are skipped; the text is the label plus the PLM series; a
    duration that is missing or not positive is none.
    """
    out = []
    for event in events:
        onset = _finite(event.onset_s)
        if onset is None:
            continue
        duration = _finite(event.duration_s)
        out.append(
            Annotation(
                onset,
                duration if duration is not None and duration > 0 else None,
                annotation_text(event.label or "event", event.series),
            )
        )
    return out


def annotations_of_log(lines: Iterable[Mapping[str, Any]]) -> list[Annotation]:
    """Annotations of a live recording's ``events.jsonl`` lines (provisional bursts and notes).

    Lines without a finite ``onset_s`` (status lines) are skipped; the text is ``label`` (else
    ``text``, else ``event``) plus a PLM series where one is given.
    """
    return annotations_of(
        Event(
            onset_s=line.get("onset_s"), duration_s=line.get("duration_s"),
            label=str(line.get("label") or line.get("text") or "event"), series=line.get("series"),
        )
        for line in lines
    )


def write_annotations_csv(path: Path, annotations: Sequence[Annotation]) -> None:
    """EDFbrowser's ASCII/CSV annotation format: ``onset,duration,description``, seconds."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("onset,duration,description\n")
        for a in annotations:
            duration = "" if a.duration_s is None else _seconds(a.duration_s)
            text = _CSV_UNSAFE.sub(" ", a.text)
            fh.write(f"{_seconds(a.onset_s)},{duration},{text}\n")


def _seconds(value: float) -> str:
    # Microseconds, as in EDF+ TALs written by edfio; no exponent, no trailing zeros.
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


# ---------------------------------------------------------------------------- samples grid


@dataclass
class SampleGrid:
    """Places samples on the EDF's regular grid, chunk by chunk, as int16 digital values.

    Parameters
    ----------
    fs : float
        The grid's rate (the layout's, see :func:`recordings.edf_writer.record_layout`).
    physical_min, physical_max : float
        Physical range in g.
    gap_s : float
        A hole between samples longer than this is a gap (padded); shorter ones are held.
    reader_gaps : callable
        Returns the reader's gaps so far (``stream.gaps``); a hole overlapping one is a gap.
    """

    fs: float
    physical_min: float
    physical_max: float
    gap_s: float
    reader_gaps: Callable[[], list[list[float]]] = list
    n_samples: int = 0
    held_slots: int = 0
    dropped_samples: int = 0
    clipped_samples: int = 0
    gaps: list[list[float]] = field(default_factory=list)
    _blocks: list[np.ndarray] = field(default_factory=list)
    _last_slot: int = -1
    _last_t: float = -math.inf
    _last_row: np.ndarray | None = None

    @property
    def n_slots(self) -> int:
        """Slots filled so far."""
        return self._last_slot + 1

    def add(self, chunk: SampleChunk) -> None:
        """Place one chunk's samples (times strictly increasing, also across chunks)."""
        self.n_samples += len(chunk)
        # Readers hand on up to a million samples at once; the float64 temporaries of the
        # conversion would take ~100 MB for such a chunk, so it is placed piece by piece.
        for i in range(0, len(chunk), _PIECE):
            self._place(chunk.t[i : i + _PIECE], chunk.xyz[i : i + _PIECE])

    def _place(self, t: np.ndarray, xyz: np.ndarray) -> None:
        n = t.shape[0]
        slots = np.rint(t * self.fs).astype(np.int64)
        previous = np.concatenate([[self._last_slot], slots[:-1]])
        keep = (slots > previous) & (slots >= 0)
        if not keep.all():
            self.dropped_samples += int(n - np.count_nonzero(keep))
            slots, t, xyz = slots[keep], t[keep], xyz[keep]
            if not slots.shape[0]:
                return
        digital, clipped = to_digital(xyz, self.physical_min, self.physical_max)
        self.clipped_samples += clipped
        first = self._last_slot + 1
        holes = np.diff(slots, prepend=self._last_slot) - 1
        # Each slot takes the latest sample at or before it (index 0: the previous chunk's last
        # sample, or padding before the first one); gaps are then overwritten with the marker.
        rows = np.concatenate(
            [
                self._last_row[None]
                if self._last_row is not None
                else np.full((1, 3), PAD_DIGITAL, dtype=np.int16),
                digital,
            ]
        )
        source = np.zeros(int(slots[-1]) - first + 1, dtype=np.int64)
        source[slots - first] = np.arange(1, slots.shape[0] + 1)
        block = rows[np.maximum.accumulate(source)]
        dt = np.diff(t, prepend=self._last_t)
        for i in np.flatnonzero(holes > 0).tolist():
            a, b = int(slots[i] - holes[i]), int(slots[i])
            if dt[i] > self.gap_s or self._in_reader_gap(a / self.fs, b / self.fs):
                block[a - first : b - first] = PAD_DIGITAL
                self.gaps.append([a / self.fs, b / self.fs])
            else:
                self.held_slots += b - a
        self._blocks.append(block)
        self._last_slot = int(slots[-1])
        self._last_t = float(t[-1])
        self._last_row = digital[-1].copy()

    def _in_reader_gap(self, start: float, end: float) -> bool:
        return any(g0 < end and start < g1 for g0, g1 in self.reader_gaps())

    def axes(self, samples_per_record: int) -> list[np.ndarray]:
        """The three axes (contiguous int16), completed to whole records with the marker."""
        tail = -self.n_slots % samples_per_record
        if tail or not self._blocks:
            self._blocks.append(
                np.full((tail or samples_per_record, 3), PAD_DIGITAL, dtype=np.int16)
            )
        axes = [np.concatenate([b[:, k] for b in self._blocks]) for k in range(3)]
        self._blocks = []
        return axes


@dataclass
class RecordTemperature:
    """Temperature readings gathered chunk by chunk into one value per EDF data record.

    Parameters
    ----------
    duration : float
        Data record duration (s).
    """

    duration: float
    _sums: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _latest: np.ndarray = field(default_factory=lambda: np.zeros(0))  # last reading's time
    n_readings: int = 0

    def add(self, chunk: SampleChunk) -> None:
        """Take the chunk's temperature readings (NaN readings are not readings)."""
        if "temperature" not in chunk.aux:
            return
        t, v = chunk.aux["temperature"]
        ok = np.isfinite(v) & (t >= 0)
        if not ok.any():
            return
        t, v = t[ok], v[ok]
        k = np.floor(t / self.duration).astype(np.int64)
        need = int(k.max()) + 1
        if need > self._sums.size:
            grow = max(need, 2 * self._sums.size)
            self._sums = np.concatenate([self._sums, np.zeros(grow - self._sums.size)])
            self._counts = np.concatenate(
                [self._counts, np.zeros(grow - self._counts.size, dtype=np.int64)]
            )
            self._latest = np.concatenate(
                [self._latest, np.full(grow - self._latest.size, -np.inf)]
            )
        np.add.at(self._sums, k, v)
        np.add.at(self._counts, k, 1)
        np.maximum.at(self._latest, k, t)
        self.n_readings += int(v.size)

    def digital(self, n_records: int) -> np.ndarray:
        """int16 per record over :data:`TEMPERATURE_RANGE_C`; the digital minimum where there
        is no reading (none in the record and none in the :data:`TEMPERATURE_HOLD_S` before)."""
        sums = np.zeros(n_records)
        counts = np.zeros(n_records, dtype=np.int64)
        latest = np.full(n_records, -np.inf)
        m = min(n_records, self._sums.size)
        sums[:m], counts[:m], latest[:m] = self._sums[:m], self._counts[:m], self._latest[:m]
        has = counts > 0
        value = np.where(has, sums / np.maximum(counts, 1), np.nan)
        # Hold the last reading forward: index of the last record with one, at or before each.
        last = np.maximum.accumulate(np.where(has, np.arange(n_records), -1))
        start = np.arange(n_records) * self.duration
        held = (last >= 0) & ~has
        ok_hold = held & (start - latest[np.maximum(last, 0)] <= TEMPERATURE_HOLD_S)
        value[ok_hold] = value[last[ok_hold]]
        low, high = TEMPERATURE_RANGE_C
        scale = (DIGITAL_MAX - DIGITAL_MIN) / (high - low)
        digital = np.rint((np.clip(value, low, high) - low) * scale + DIGITAL_MIN)
        digital = np.clip(digital, DIGITAL_MIN + 1, DIGITAL_MAX)  # the minimum means no reading
        return np.where(np.isfinite(value), digital, DIGITAL_MIN).astype(np.int16)


# ------------------------------------------------------------------------------ the EDF file


#: How far the EDF's rate may be from the input's (median-interval) rate. A CSV's rate is
#: 1 / its median interval, never exactly the nominal one; 1 % keeps a 12.48 Hz clock on a
#: 12.5 Hz grid, where the one extra slot in 500 is held from the sample before.
RATE_TOLERANCE = 0.01


def grid_layout(fs: float) -> RecordLayout:
    """The EDF record layout for an input rate: the nominal rate closest to ``fs``.

    First the simplest ratio equal to ``fs`` up to float noise (25.0000000000005 -> 25,
    104.1666... -> 625/6), then ``fs`` rounded to 3, 2, 1 and 0 decimals, each within
    :data:`RATE_TOLERANCE`; the first one an EDF data record holds
    (:func:`recordings.edf_writer.record_layout`) wins.

    Raises
    ------
    ValueError
        When no such rate exists.
    """
    candidates = [float(Fraction(fs).limit_denominator(1000))]
    candidates += [round(fs, digits) for digits in (3, 2, 1, 0)]
    for rate in candidates:
        close = abs(rate - fs) <= (1e-9 if rate == candidates[0] else RATE_TOLERANCE) * fs
        if rate > 0 and close:
            with contextlib.suppress(ValueError):
                return record_layout(rate)
    raise ValueError(f"no EDF data record holds a whole number of samples at a rate near {fs:g} Hz")


def _start(start_utc: str | None) -> datetime | None:
    if not start_utc:
        return None
    try:
        moment = datetime.fromisoformat(start_utc.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _equipment(meta: Mapping[str, Any]) -> str:
    name = meta.get("sensor") or meta.get("device")
    return "X" if not name or str(name).lower() == "unknown" else str(name)


def build_edf(
    axes: Sequence[np.ndarray],
    layout: RecordLayout,
    physical: tuple[float, float],
    annotations: Sequence[Annotation],
    *,
    start_utc: str | None,
    equipment: str = "X",
    temperature: np.ndarray | None = None,
) -> Any:
    """The :class:`edfio.Edf` of three int16 axes and the annotations.

    The header's start date and time are the UTC start (EDF has no time zone; hypnic's own
    recordings do the same), with microseconds in the first record's time-keeping TAL. Without
    a start, the EDF+ start date is unknown (``Startdate X``, header date 01.01.85).
    ``temperature`` (int16, one value per data record, see :class:`RecordTemperature`) adds a
    ``Temperature`` signal in degC.
    """
    signals = [
        EdfSignal.from_digital(
            axis,
            layout.fs,
            label=label,
            transducer_type="accelerometer",
            physical_dimension="g",
            physical_range=physical,
            digital_range=(DIGITAL_MIN, DIGITAL_MAX),
        )
        for label, axis in zip(ACCEL_LABELS, axes, strict=True)
    ]
    if temperature is not None:
        signals.append(
            EdfSignal.from_digital(
                temperature,
                1.0 / float(layout.duration),
                label=TEMPERATURE_LABEL,
                transducer_type="device temperature sensor",
                physical_dimension="degC",
                physical_range=TEMPERATURE_RANGE_C,
                digital_range=(DIGITAL_MIN, DIGITAL_MAX),
            )
        )
    start = _start(start_utc)
    return Edf(
        signals,
        patient=Patient(),
        recording=Recording(
            startdate=start.date() if start else None, equipment_code=_ascii_subfield(equipment)
        ),
        starttime=start.time() if start else None,
        data_record_duration=float(layout.duration),
        annotations=[EdfAnnotation(a.onset_s, a.duration_s, a.text) for a in annotations],
    )


@contextlib.contextmanager
def _replaced(targets: Sequence[Path]) -> Iterator[list[Path]]:
    """Temporary files beside ``targets``; moved onto them on a clean exit, else removed."""
    temps: list[Path] = []
    try:
        for target in targets:
            temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
            # os.open with 0o666 keeps the user's umask (mkstemp would make the file private).
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666))
            temps.append(temp)
        yield temps
        for temp in temps:
            with open(temp, "rb+") as fh:
                os.fsync(fh.fileno())
        for temp, target in zip(temps, targets, strict=True):
            os.replace(temp, target)
    finally:
        for temp in temps:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def events_csv_path(edf_path: str | os.PathLike[str]) -> Path:
    """``FILE.events.csv`` beside ``FILE.edf`` (any other name gets ``.events.csv`` added)."""
    path = Path(edf_path)
    stem = path.name[:-4] if path.name.lower().endswith(".edf") else path.name
    return path.with_name(stem + ".events.csv")


# ------------------------------------------------------------------------- inputs and events


@dataclass
class ExportPlan:
    """Where the samples and the events of an export come from (:func:`plan_export`).

    Attributes
    ----------
    samples : Path
        The input whose samples go into the EDF.
    events : str or Path
        ``"analysis"`` (the events come from analysing the samples) or the file holding them
        (an events.csv, or a recording's events.jsonl).
    summary : NightSummary, optional
        The summary.json of an output folder: the start, and the sample count checked.
    summary_file : Path, optional
        Where that summary was read (named in errors).
    """

    samples: Path
    events: str | Path
    summary: NightSummary | None = None
    summary_file: Path | None = None

    def annotations(self) -> list[Annotation] | None:
        """The events file's annotations; None when the events come from an analysis.

        Raises
        ------
        InputError
            The events file is missing or not an events.csv / events.jsonl.
        """
        if self.events == "analysis":
            return None
        file = Path(self.events)
        if file.name == EVENTS_FILE:
            return annotations_of_log(read_events(file.parent))
        return annotations_of(read_events_csv(file))


def _load_summary(folder: Path) -> NightSummary:
    file = folder / SUMMARY_FILE
    try:
        summary = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(file, f"cannot read the summary ({exc})") from None
    if not isinstance(summary, dict):
        raise InputError(file, "not a summary.json of hypnic detect/replay")
    return NightSummary.from_dict(summary)


def _summary_source(folder: Path, summary: NightSummary) -> Path:
    source = summary.source
    if not isinstance(source, str) or not source:
        raise InputError(folder / SUMMARY_FILE, "has no 'source': give the recording instead")
    path = Path(source)
    candidates = [path] if path.is_absolute() else [path, folder.resolve().parent / path]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise InputError(
        folder / SUMMARY_FILE,
        f"its samples ({source}) are not there any more: give the recording, "
        f"with --events {folder / EVENTS_CSV}",
    )


def _plan(path: Path, events: str) -> ExportPlan:
    if not path.exists():
        raise InputError(path, "no such file or folder")
    chosen: str | Path | None = None if events == "auto" else events
    if chosen not in (None, "analysis", "live"):
        chosen = Path(chosen)  # an events.csv
    is_recording = sniff_recording(b"", path)
    if chosen == "live":
        if not is_recording:
            raise InputError("--events", "'live' needs a recording folder (its events.jsonl)")
        chosen = path / EVENTS_FILE
    if path.is_dir() and not is_recording:
        if not (path / SUMMARY_FILE).is_file():
            sensors = sorted(p.name for p in path.iterdir() if sniff_recording(b"", p))
            hint = f" (a night of several sensors: export {', '.join(sensors)} one by one)"
            raise InputError(
                path,
                "neither a recording folder nor an output folder of detect/replay"
                + (hint if sensors else ""),
            )
        summary = _load_summary(path)
        samples = _summary_source(path, summary)
        events_from = chosen if chosen is not None else path / EVENTS_CSV
        return ExportPlan(samples, events_from, summary, path / SUMMARY_FILE)
    if chosen is None and is_recording:
        for sub in RECORDING_ANALYSIS_DIRS:
            if (path / sub / EVENTS_CSV).is_file():
                chosen = path / sub / EVENTS_CSV
                break
    return ExportPlan(path, chosen if chosen is not None else "analysis")


def _check_target(edf: Path, protected: Iterable[Path]) -> None:
    """Refuse an --edf whose files would replace the input or land inside a recording."""
    if edf.is_dir():
        raise InputError(edf, "--edf is a folder; give a file name such as night.edf")
    for target in (edf, events_csv_path(edf)):
        resolved = target.resolve()
        for item in protected:
            item = item.resolve()
            if resolved == item or (item.is_dir() and item in resolved.parents):
                raise InputError(
                    target, f"would overwrite or write into the input {item}: choose another --edf"
                )


def plan_export(
    path: str | os.PathLike[str], events: str, edf_path: str | os.PathLike[str]
) -> ExportPlan:
    """Where the samples and events of an export of ``path`` come from, with ``edf_path``
    checked: it may not replace the input or the events, nor land inside a recording.

    Parameters
    ----------
    path : path-like
        A recording folder, an output folder of detect/replay, or any input ``detect`` takes.
    events : str
        ``"auto"`` (see the module docstring), ``"analysis"`` (analyse the samples),
        ``"live"`` (a recording's events.jsonl) or the path of an events.csv.
    edf_path : path-like
        The EDF file to write.

    Raises
    ------
    InputError
        No such input, an output folder whose samples are gone, ``live`` without a recording,
        or a refused ``edf_path``; nothing is written then.
    """
    plan = _plan(Path(path), events)
    protected = [plan.samples] + ([] if plan.events == "analysis" else [Path(plan.events)])
    _check_target(Path(edf_path), protected)
    return plan


# ------------------------------------------------------------------------------ the export


class EdfExport:
    """One stream's samples placed on the EDF grid as they are read, then written out with
    the events as one EDF+ file and its ``FILE.events.csv``.

    Give :meth:`add` every chunk while the stream is read (a tap of
    :func:`recordings.feed.tapped`: the analysis that finds the events may read it at the same
    time), then call :meth:`write`.

    Parameters
    ----------
    plan : ExportPlan
    stream : SampleStream
        ``plan.samples``, opened.

    Raises
    ------
    InputError
        No EDF data record holds a whole number of samples at the stream's rate.
    """

    def __init__(self, plan: ExportPlan, stream: SampleStream) -> None:
        info = stream.info
        self.plan = plan
        self.meta = info.meta
        self.start_utc = info.start_utc or (plan.summary.start_utc if plan.summary else None)
        try:
            self.layout = grid_layout(info.fs)
        except ValueError as exc:
            raise InputError(plan.samples, str(exc)) from None
        range_g = _finite(info.meta.get("range_g"))
        low, high = physical_range_text(range_g if range_g and range_g > 0 else DEFAULT_RANGE_G)
        self.physical = (float(low), float(high))
        self.grid = SampleGrid(
            self.layout.fs, self.physical[0], self.physical[1],
            gap_threshold_s(info.fs, BurstParams()), lambda: stream.gaps,
        )  # fmt: skip
        self.temperature = (
            RecordTemperature(float(self.layout.duration))
            if "temperature" in getattr(stream, "aux_channels", ())
            else None
        )

    def add(self, chunk: SampleChunk) -> None:
        """Place one chunk's samples (and temperature readings) on the grid."""
        self.grid.add(chunk)
        if self.temperature is not None:
            self.temperature.add(chunk)

    def write(
        self,
        edf_path: str | os.PathLike[str],
        annotations: Sequence[Annotation],
        events_source: str,
    ) -> ExportResult:
        """Write ``edf_path`` (the samples added, the annotations and the gaps) and
        ``FILE.events.csv``; both or neither.

        ``events_source`` says where the annotations came from (:class:`ExportResult`).

        Raises
        ------
        InputError
            No samples were added, not as many as the output folder's summary says, or the
            files cannot be written.
        """
        plan, grid, layout, temperature = self.plan, self.grid, self.layout, self.temperature
        edf = Path(edf_path)
        if grid.n_samples == 0:
            raise InputError(plan.samples, "no samples")
        expected = plan.summary.n_samples if plan.summary else None
        if isinstance(expected, int) and expected != grid.n_samples:
            raise InputError(
                plan.summary_file,
                f"says {expected} samples but {plan.samples} has {grid.n_samples}: "
                "not the samples this analysis was made from",
            )
        n_events = len(annotations)
        every = sorted(
            [*annotations, *(Annotation(a, b - a, GAP_TEXT) for a, b in grid.gaps)],
            key=lambda a: (a.onset_s, a.text),
        )
        n_slots = grid.n_slots
        axes = grid.axes(layout.samples_per_record)
        temperature_digital = (
            temperature.digital(axes[0].size // layout.samples_per_record)
            if temperature is not None and temperature.n_readings
            else None
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # edfio's notes on EDF+C for sub-second starts
            document = build_edf(
                axes, layout, self.physical, every, start_utc=self.start_utc,
                equipment=_equipment(self.meta), temperature=temperature_digital,
            )  # fmt: skip
        del axes
        csv_path = events_csv_path(edf)
        try:
            edf.parent.mkdir(parents=True, exist_ok=True)
            with _replaced([edf, csv_path]) as (edf_tmp, csv_tmp):
                with open(edf_tmp, "wb") as fh:
                    document.write(fh)
                write_annotations_csv(csv_tmp, every)
        except OSError as exc:
            raise InputError(edf, f"cannot write ({exc.strerror or exc})") from None
        return ExportResult(
            edf_path=edf,
            events_csv_path=csv_path,
            events_source=events_source,
            n_events=n_events,
            gaps=grid.gaps,
            n_samples=grid.n_samples,
            n_slots=n_slots,
            held_slots=grid.held_slots,
            dropped_samples=grid.dropped_samples,
            clipped_samples=grid.clipped_samples,
            temperature_readings=temperature.n_readings if temperature_digital is not None else 0,
        )
