"""The sleep diary: ``date,tags,lights_off,notes`` (CONTRACT.md, ``hypnic trends``).

``date`` is the evening's date (YYYY-MM-DD, the night that starts then), ``tags`` are separated
by ``;`` (compared without regard to case), ``lights_off`` is ``HH:MM`` or empty, ``notes`` is
free text that the page shows as text. A bad row is a one-line error naming its line.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

from hypnic.recordings.errors import InputError
from hypnic.report.clock import parse_hhmm

COLUMNS = ("date", "tags", "lights_off", "notes")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class DiaryEntry:
    """One evening of the diary."""

    date: date
    tags: tuple[str, ...]
    lights_off: time | None
    notes: str
    line: int


def _date(text: str, path: Path, line: int) -> date:
    value = text.strip()
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(path, f"line {line}: date {value!r} is not a date YYYY-MM-DD") from None


def _tags(text: str) -> tuple[str, ...]:
    seen: list[str] = []
    for part in text.split(";"):
        tag = " ".join(part.split()).lower()
        if tag and tag not in seen:
            seen.append(tag)
    return tuple(seen)


def read_diary(path: str | Path) -> list[DiaryEntry]:
    """Read a diary CSV (UTF-8, an Excel byte-order mark is allowed); blank lines are skipped.

    Raises
    ------
    InputError
        Missing file, missing column, or a row with a bad date, a bad lights-out time, a date
        that is already in the diary, or more fields than the header: one line naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "no such file" if not path.exists() else "not a file")
    entries: list[DiaryEntry] = []
    seen: dict[date, int] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise InputError(path, "empty file: expected the header date,tags,lights_off,notes")
            names = [h.strip().lower() for h in header]
            missing = [c for c in COLUMNS if c not in names]
            if missing:
                raise InputError(
                    path,
                    f"line 1: the header needs the columns {','.join(COLUMNS)} (missing {', '.join(missing)})",
                )
            col = {c: names.index(c) for c in COLUMNS}
            first = reader.line_num + 1
            for fields in reader:
                line, first = first, reader.line_num + 1
                if not any(f.strip() for f in fields):
                    continue
                if len(fields) > len(names):
                    raise InputError(
                        path,
                        f"line {line}: {len(fields)} fields but the header has {len(names)} "
                        "(put notes with a comma in double quotes)",
                    )
                fields = fields + [""] * (len(names) - len(fields))
                day = _date(fields[col["date"]], path, line)
                if day in seen:
                    raise InputError(
                        path, f"line {line}: date {day.isoformat()} is already on line {seen[day]}"
                    )
                seen[day] = line
                lights = fields[col["lights_off"]].strip()
                entries.append(
                    DiaryEntry(
                        date=day,
                        tags=_tags(fields[col["tags"]]),
                        lights_off=parse_hhmm(lights, f"{path}: line {line}: lights_off")
                        if lights
                        else None,
                        notes=fields[col["notes"]].strip(),
                        line=line,
                    )
                )
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(path, f"line {reader.line_num}: {exc}") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror})") from None
    return entries
