"""Plain CSV input: a header ``t,x,y,z`` and one sample a row (CONTRACT.md, "Plain input: CSV").

The file is parsed by pyarrow's streaming CSV reader, block by block, so a 7-day 100 Hz file
(60 M rows, ~2.5 GB) is never in memory at once. gzip-compressed files are recognised by their
magic bytes, not by their name.

Every problem in the file becomes a one-line :class:`~hypnic.recordings.errors.InputError` naming the file
and, where there is one, the line. pyarrow reports *what* is wrong in a block but not on which
line, so on an error the file is scanned again, line by line in Python, from the first row of the
failing block to find the line (:func:`_diagnose`). That slow scan only runs on the error path.

An optional column named ``temperature`` (degC, any case) is read as the skin temperature
channel (``SampleChunk.aux["temperature"]``, at the times of the rows that have a value; an empty
cell means no reading on that row, as does ``NaN``). Every other extra column is ignored.

Times are handed on from the recording's start (CONTRACT: seconds from the start), so the
file's first ``t`` becomes 0; ``StreamInfo.meta["t0_s"]`` keeps the file's own first value (a
file may count in Unix seconds). ``--start`` gives the absolute time of the first sample. Gaps
in ``t`` are passed through untouched, never interpolated (gap finding is downstream).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import math
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from hypnic.recordings.errors import InputError
from hypnic.recordings.reader_common import parse_start, read_head
from hypnic.recordings.samples import SampleChunk, SampleStream, StreamInfo

REQUIRED_COLUMNS = ("t", "x", "y", "z")
#: The optional column read as the temperature channel (degC).
TEMPERATURE_COLUMN = "temperature"
GZIP_MAGIC = b"\x1f\x8b"
# Enough bytes to hold the header and a few hundred rows: the header is parsed and the text
# checked (NUL bytes, UTF-8) from this head before pyarrow sees the file.
HEAD_BYTES = 1 << 16
# StreamInfo.fs is 1 / median interval of at most this many first samples (the brief's rule).
FS_SAMPLES = 10_000
# pyarrow parses this many bytes at a time (~30 000 rows). Measured on a 620 MB file: 1, 4 and
# 16 MiB blocks parse equally fast (within noise), but peak RSS was 164, 287 and ~360 MiB, as
# pyarrow's memory pool keeps what the larger blocks needed. Chunk size is set apart (_rechunk).
BLOCK_BYTES = 1 << 20
# Largest acceleration that survives the cast to float32 (SampleChunk.xyz) as a finite number.
_F32_MAX = float(np.finfo(np.float32).max)
_ARROW_BAD_VALUE = re.compile(r"invalid value '(.*)'", re.DOTALL)


def is_gzip(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a file) starts with gzip's magic bytes (RFC 1952)."""
    return head[:2] == GZIP_MAGIC


def _gunzip_head(head: bytes, limit: int = HEAD_BYTES) -> bytes:
    """Decompress as much of a gzip file's first bytes as they hold (at most ``limit`` bytes)."""
    try:
        return zlib.decompressobj(wbits=16 + zlib.MAX_WBITS).decompress(head, limit)
    except zlib.error:
        return b""


def _text_problem(head: bytes, complete: bool) -> str | None:
    """Why ``head`` is not the start of a UTF-8 text file, or None when it is."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "not a CSV file: UTF-16 text (save it as UTF-8)"
    nul = head.find(b"\x00")
    if nul >= 0:
        return f"not a CSV file: binary data (NUL byte at byte {nul})"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError as exc:
        return f"not a CSV file: not UTF-8 text (byte 0x{head[exc.start]:02x} at byte {exc.start})"
    return None


def sniff_csv(head: bytes, path: Path) -> bool:
    """Whether a file looks like (possibly gzip-compressed) CSV text.

    Used by :func:`recordings.open_input.open_input`. Any UTF-8 text without NUL bytes counts,
    so that a text file with a wrong header gets the CSV reader's precise message; a name ending
    in ``.csv``, ``.csv.gz``, ``.txt`` or ``.tsv`` counts too, for the same reason with binary data.
    """
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".tsv", ".txt.gz")):
        return True
    if not head:
        return False
    if is_gzip(head):
        head = _gunzip_head(head)
        if not head:
            return False
    return _text_problem(head, complete=False) is None


@dataclass(frozen=True)
class _Layout:
    """What the head of the file told us before pyarrow reads it."""

    path: Path
    gzip: bool
    header_line: int  # 1-based line of the header (blank lines before it are skipped)
    names: tuple[str, ...]  # the header's column names, stripped
    index: dict[str, int]  # position of t, x, y, z in a row
    temperature: int | None = None  # position of the temperature column, if there is one


def _read_head(path: Path) -> bytes:
    """The first bytes of ``path``, with missing files, folders and permissions as InputError."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a folder, not a CSV file")
    return read_head(path, HEAD_BYTES)


def _inspect(path: Path) -> _Layout:
    """Check the file's head: text, header, at least one row. Raise InputError if not."""
    raw = _read_head(path)
    if not raw:
        raise InputError(path, "empty file")
    compressed = is_gzip(raw)
    if compressed:
        with gzip.open(path, "rb") as fh:
            try:
                head = fh.read(HEAD_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                raise InputError(path, f"damaged gzip data ({exc})") from None
        if not head:
            raise InputError(path, "empty file (gzip holds no data)")
        whole = len(head) < HEAD_BYTES
    else:
        head = raw
        whole = len(raw) < HEAD_BYTES
    problem = _text_problem(head, complete=whole)
    if problem:
        raise InputError(path, problem)
    text = head.decode("utf-8", errors="ignore").removeprefix("\ufeff")
    # Universal newlines: \r, \n and \r\n end a line, as for pyarrow (str.splitlines knows more).
    lines = io.StringIO(text, newline=None).readlines()
    if not whole:
        lines = lines[:-1]  # the last line may be cut off by HEAD_BYTES
    blank = 0
    while blank < len(lines) and not lines[blank].strip():
        blank += 1
    if blank == len(lines):
        if whole:
            raise InputError(path, "no header and no samples (only blank lines)")
        raise InputError(path, f"not a CSV file: no line break in the first {HEAD_BYTES} bytes")
    header = lines[blank].strip()
    names = tuple(n.strip() for n in next(csv.reader([header]), []))
    lowered = [n.lower() for n in names]
    missing = [c for c in REQUIRED_COLUMNS if c not in lowered]
    if missing:
        hint = ""
        if "," not in header and ("\t" in header or ";" in header):
            hint = "; columns must be separated by commas"
        raise InputError(
            path,
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} in the header "
            f"(line {blank + 1} is {header[:60]!r}; expected t,x,y,z{hint})",
        )
    repeated = [c for c in (*REQUIRED_COLUMNS, TEMPERATURE_COLUMN) if lowered.count(c) > 1]
    if repeated:
        raise InputError(path, f"column {repeated[0]} appears twice in the header")
    rows = [ln for ln in lines[blank + 1 :] if ln.strip("\r\n")]
    if whole and not rows:
        raise InputError(path, "header only, no samples")
    return _Layout(
        path=path,
        gzip=compressed,
        header_line=blank + 1,
        names=names,
        index={c: lowered.index(c) for c in REQUIRED_COLUMNS},
        temperature=lowered.index(TEMPERATURE_COLUMN) if TEMPERATURE_COLUMN in lowered else None,
    )


# ---------------------------------------------------------------- error path: find the line


def _data_lines(layout: _Layout) -> Iterator[tuple[int, str]]:
    """Yield ``(line_number, text)`` for every data row, as pyarrow counts rows.

    pyarrow skips empty lines and treats ``\\r``, ``\\n`` and ``\\r\\n`` as line ends; universal
    newlines do the same. latin-1 decodes any byte, so binary lines reach the caller intact.
    """
    opener = gzip.open if layout.gzip else open
    with opener(layout.path, "rb") as raw:  # type: ignore[operator]
        text = io.TextIOWrapper(raw, encoding="latin-1", newline=None)
        for number, line in enumerate(text, start=1):
            if number <= layout.header_line:
                continue
            line = line.rstrip("\n")
            if line:
                yield number, line


def _locate(layout: _Layout, row: int) -> tuple[int, str]:
    """Line number and text of data row ``row`` (0-based)."""
    for k, (number, line) in enumerate(_data_lines(layout)):
        if k == row:
            return number, line
    raise AssertionError(f"row {row} is past the end of {layout.path}")  # rows came from the file


def _number_problem(text: str, arrow_bad: str | None) -> str | None:
    """Why a field is not a usable finite number, or None."""
    value = text.strip()
    if not value:
        return "empty value"
    try:
        number = float(value)
    except ValueError:
        return f"{value[:40]!r} is not a number"
    if value == arrow_bad:  # Python's float() is laxer than pyarrow's (e.g. '1_000')
        return f"{value[:40]!r} is not a number"
    if not math.isfinite(number):
        return f"{value[:40]!r} is not a finite number"
    if abs(number) > _F32_MAX:
        return f"{value[:40]!r} is out of range"
    return None


def _line_problem(layout: _Layout, line: str, arrow_bad: str | None) -> tuple[str, str] | None:
    """What is wrong with one data line, as ``(where, problem)``, or None if it is a sample."""
    if "\x00" in line:
        return "", "not a CSV file: binary data (NUL byte)"
    if len(line) >= BLOCK_BYTES:  # pyarrow cannot parse a row longer than a block
        return "", f"longer than {BLOCK_BYTES} bytes: not a CSV file"
    try:
        line = line.encode("latin-1").decode("utf-8")
    except UnicodeDecodeError:
        return "", "not a CSV file: not UTF-8 text"
    fields = next(csv.reader([line]), [])
    if len(fields) != len(layout.names):
        return "", f"ragged row: {len(fields)} fields, the header has {len(layout.names)}"
    for column in REQUIRED_COLUMNS:
        problem = _number_problem(fields[layout.index[column]], arrow_bad)
        if problem:
            return f", column {layout.names[layout.index[column]]}", problem
    if layout.temperature is not None:
        value = fields[layout.temperature]
        problem = None
        if value and not value.strip():
            problem = "blank value (leave the cell empty where there is no reading)"
        elif value.strip():
            try:
                float(value)
            except ValueError:
                problem = f"{value.strip()[:40]!r} is not a number"
            if value.strip() == arrow_bad:
                problem = f"{value.strip()[:40]!r} is not a number"
        if problem:
            return f", column {layout.names[layout.temperature]}", problem
    return None


def _error_at(layout: _Layout, number: int, found: tuple[str, str]) -> InputError:
    where, problem = found
    return InputError(layout.path, f"line {number}{where}: {problem}")


def _diagnose(layout: _Layout, first_row: int, exc: Exception) -> InputError:
    """Turn a pyarrow error in the block starting at data row ``first_row`` into an InputError."""
    match = _ARROW_BAD_VALUE.search(str(exc))
    arrow_bad = match.group(1).strip() if match else None
    for k, (number, line) in enumerate(_data_lines(layout)):
        if k < first_row:
            continue
        found = _line_problem(layout, line, arrow_bad)
        if found:
            return _error_at(layout, number, found)
    # The scan and pyarrow disagree on what is wrong; pyarrow's own words are still one line.
    return InputError(layout.path, f"after data row {first_row}: {exc}")


# ---------------------------------------------------------------- the fast path


def _arrow_reader(layout: _Layout) -> pacsv.CSVStreamingReader:
    # Our own names: the header's may be empty, repeated or padded with spaces.
    columns = [f"c{i}" for i in range(len(layout.names))]
    wanted = [columns[layout.index[c]] for c in REQUIRED_COLUMNS]
    if layout.temperature is not None:
        wanted.append(columns[layout.temperature])
    # A stream, not the path: given a path pyarrow would pick the compression by the name.
    stream = pa.OSFile(str(layout.path))
    if layout.gzip:
        stream = pa.CompressedInputStream(stream, "gzip")
    return pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(
            column_names=columns, skip_rows=layout.header_line, block_size=BLOCK_BYTES
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.float64() for c in wanted},
            include_columns=wanted,
            # "NaN", "NA" and empty values would become nulls; we want errors. With a
            # temperature column an empty cell is a missing reading: empty cells become nulls
            # (NaN), and an empty t/x/y/z is then caught as a non-finite value (_check_batch).
            null_values=[""] if layout.temperature is not None else [],
            strings_can_be_null=False,
        ),
    )


def _check_batch(
    layout: _Layout, first_row: int, cols: list[np.ndarray], prev_t: float | None
) -> None:
    """Raise InputError at the first row with a non-finite value or a t that does not increase."""
    t = cols[0]
    bad_rows = []
    for col in cols[1:4]:
        ok = np.abs(col) <= _F32_MAX  # False for NaN and inf too
        if not ok.all():
            bad_rows.append(int(np.argmin(ok)))
    finite = np.isfinite(t)
    if not finite.all():
        bad_rows.append(int(np.argmin(finite)))
    step = np.diff(t, prepend=-np.inf if prev_t is None else prev_t) > 0
    if not step.all():
        bad_rows.append(int(np.argmin(step)))
    if not bad_rows:
        return
    k = min(bad_rows)
    number, line = _locate(layout, first_row + k)
    found = _line_problem(layout, line, None)
    if found:
        raise _error_at(layout, number, found)
    before = prev_t if k == 0 else float(t[k - 1])
    how = "repeats" if t[k] == before else "goes back from"
    raise InputError(
        layout.path,
        f"line {number}: t = {float(t[k])!r} {how} the previous sample's t = {before!r} "
        "(t must increase)",
    )


def _checked_columns(layout: _Layout) -> Iterator[list[np.ndarray]]:
    """Yield ``[t, x, y, z]`` float64 arrays per pyarrow block, validated."""
    try:
        reader = _arrow_reader(layout)
    except (pa.ArrowInvalid, OSError) as exc:
        raise _arrow_failure(layout, 0, exc) from None
    rows = 0
    prev_t: float | None = None
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError) as exc:
                raise _arrow_failure(layout, rows, exc) from None
            if batch.num_rows == 0:
                continue
            cols = [
                batch.column(i).to_numpy(zero_copy_only=False) for i in range(batch.num_columns)
            ]
            _check_batch(layout, rows, cols, prev_t)
            prev_t = float(cols[0][-1])
            rows += batch.num_rows
            yield cols
    finally:
        reader.close()


def _arrow_failure(layout: _Layout, first_row: int, exc: Exception) -> InputError:
    if layout.gzip and not isinstance(exc, pa.ArrowInvalid):
        # No row number: pyarrow decompresses ahead of the rows it has handed over.
        return InputError(layout.path, f"damaged gzip data ({exc})")
    if isinstance(exc, pa.ArrowInvalid):
        return _diagnose(layout, first_row, exc)
    return InputError(layout.path, f"cannot read the file: {exc}")


def _temperature_aux(t: np.ndarray, temperature: np.ndarray | None) -> dict:
    """The rows with a temperature reading, as the chunk's ``temperature`` channel."""
    if temperature is None:
        return {}
    has = np.isfinite(temperature)
    return {"temperature": (t[has], temperature[has])} if has.any() else {}


def _rechunk(blocks: Iterator[list[np.ndarray]], chunk_rows: int) -> Iterator[SampleChunk]:
    """Re-cut blocks of any size into chunks of exactly ``chunk_rows`` (the last one shorter).

    Every sample is copied once, from pyarrow's float64 columns into the chunk's own arrays;
    a fifth column (temperature) goes with the rows' times into the chunk's auxiliary channel.
    """
    t_buf = xyz_buf = temp_buf = None
    fill = 0
    for cols in blocks:
        n = cols[0].shape[0]
        i = 0
        while i < n:
            if t_buf is None:
                t_buf = np.empty(chunk_rows, dtype=np.float64)
                xyz_buf = np.empty((chunk_rows, 3), dtype=np.float32)
                temp_buf = np.empty(chunk_rows, dtype=np.float64) if len(cols) > 4 else None
                fill = 0
            k = min(chunk_rows - fill, n - i)
            t_buf[fill : fill + k] = cols[0][i : i + k]
            for axis in range(3):
                xyz_buf[fill : fill + k, axis] = cols[axis + 1][i : i + k]
            if temp_buf is not None:
                temp_buf[fill : fill + k] = cols[4][i : i + k]
            fill += k
            i += k
            if fill == chunk_rows:
                yield SampleChunk(t_buf, xyz_buf, _temperature_aux(t_buf, temp_buf))
                t_buf = xyz_buf = temp_buf = None
    if t_buf is not None:
        t_buf = t_buf[:fill].copy()
        temp = temp_buf[:fill] if temp_buf is not None else None
        yield SampleChunk(t_buf, xyz_buf[:fill].copy(), _temperature_aux(t_buf, temp))


def open_csv(
    path: str | os.PathLike[str], *, start: str | None = None, chunk_rows: int = 1_000_000
) -> SampleStream:
    """Open a CSV recording (header ``t,x,y,z``; plain or gzip) as a stream of chunks.

    Parameters
    ----------
    path : str or path-like
        The CSV file. Columns ``t``, ``x``, ``y``, ``z`` in any order (case and surrounding
        whitespace ignored) and optionally ``temperature`` (degC; empty cells are rows without
        a reading); other columns are ignored. ``t`` in seconds, strictly increasing
        (any origin: the stream counts from the first sample); x, y, z in g. gzip is
        recognised by content.
    start : str, optional
        ISO 8601 time of the first sample (``--start``); naive values are taken as UTC.
    chunk_rows : int
        Chunks hold exactly this many samples, the last one fewer.

    Returns
    -------
    SampleStream
        ``info.fs`` is 1 / the median interval of the first up to 10 000 samples;
        ``info.meta`` holds ``format`` (``"csv"``), ``compression`` (``"gzip"`` or None),
        ``columns`` (the header) and ``t0_s`` (the first ``t``); ``aux_channels`` is
        ``("temperature",)`` when the file has that column. The first chunks are read
        here, so errors at the start of the file are raised before any other work; later
        errors are raised while iterating.

    Raises
    ------
    InputError
        The file is missing, a folder, unreadable, empty, not UTF-8 CSV text, lacks a column,
        has no samples or a bad value (non-numeric, NaN, inf, t not increasing, ragged row),
        or ``start`` is not ISO 8601.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be positive, got {chunk_rows}")
    start_utc, utc_offset_s = parse_start(start) if start is not None else (None, 0.0)
    layout = _inspect(Path(path))
    chunks = _rechunk(_checked_columns(layout), chunk_rows)

    first: list[SampleChunk] = []
    seen = 0
    for chunk in chunks:
        first.append(chunk)
        seen += len(chunk)
        if seen >= FS_SAMPLES:
            break
    if seen == 0:
        raise InputError(layout.path, "header only, no samples")
    if seen == 1:
        raise InputError(layout.path, "only one sample: the sample rate cannot be known")
    t_head = np.concatenate([c.t[:FS_SAMPLES] for c in first])[:FS_SAMPLES]
    fs = 1.0 / float(np.median(np.diff(t_head)))

    info = StreamInfo(
        source=str(layout.path),
        fs=fs,
        start_utc=start_utc,
        utc_offset_s=utc_offset_s,
        meta={
            "format": "csv",
            "compression": "gzip" if layout.gzip else None,
            "columns": list(layout.names),
            "t0_s": float(first[0].t[0]),
        },
    )

    t0 = float(first[0].t[0])

    def shifted(c: SampleChunk) -> SampleChunk:
        aux = {name: (ta - t0, va) for name, (ta, va) in c.aux.items()}
        return SampleChunk(c.t - t0, c.xyz, aux)

    def stream() -> Iterator[SampleChunk]:
        while first:
            yield shifted(first.pop(0))  # popped, so the consumer alone decides when they are freed
        for c in chunks:
            yield shifted(c)

    result = SampleStream(info, stream())
    if layout.temperature is not None:
        result.aux_channels = ("temperature",)
    return result
