"""Clock times of a recording: its start, local times of events, evenings and lights-out.

``summary.json`` keeps times as seconds from the recording's start and the start as
``start_utc`` (ISO 8601). Clock times are shown in the recording's local time: the summary's
``utc_offset_s`` where present, else the offset written in ``start_utc`` itself.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone

from hypnic.detector.results import NightSummary
from hypnic.recordings.errors import InputError

#: Nights run from noon to noon (GGIR's convention, as in detector.night; DOMAIN.md §4.1):
#: the evening of a night is the date 12 h before its sleep onset.
EVENING_SHIFT = timedelta(hours=12)

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def recording_start(summary: NightSummary) -> datetime | None:
    """The local date and time of ``t = 0``, or ``None`` when the recording has no start time.

    Raises
    ------
    ValueError
        When ``start_utc`` is not ISO 8601 (the caller names the file).
    """
    raw = summary.start_utc
    if not raw:
        return None
    text = str(raw).strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    offset = summary.utc_offset_s
    if isinstance(offset, (int, float)) and not isinstance(offset, bool):
        when = when.astimezone(timezone(timedelta(seconds=float(offset))))
    return when


def at(start: datetime, t_s: float) -> datetime:
    """The local date and time ``t_s`` seconds after ``start``."""
    return start + timedelta(seconds=float(t_s))


def utc_offset_label(start: datetime) -> str:
    """``UTC+01:00`` for the offset of ``start``."""
    off = start.utcoffset() or timedelta(0)
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def evening_of(start: datetime, t_s: float) -> date:
    """The evening's date of the night that holds ``t_s`` (12 h earlier, then its date)."""
    return (at(start, t_s) - EVENING_SHIFT).date()


def parse_hhmm(value: str, source: str) -> time:
    """``"23:05"`` -> ``time(23, 5)``.

    Raises
    ------
    InputError
        When ``value`` is not a clock time ``HH:MM`` (``source`` names the option or file).
    """
    m = _HHMM.match(value.strip())
    if not m:
        raise InputError(source, f"{value!r} is not a clock time HH:MM (for example 23:15)")
    return time(int(m.group(1)), int(m.group(2)))


def lights_off_near(start: datetime, clock: time, onset_s: float) -> float:
    """Seconds from the start of the ``clock`` time nearest to the sleep onset.

    A lights-out time given without a date (``--lights-off``) belongs to the night being looked
    at: of the occurrences on the days around the onset, the nearest one is taken.
    """
    onset = at(start, onset_s)
    days = (onset.date() + timedelta(days=d) for d in (-1, 0, 1))
    cands = [datetime.combine(d, clock, tzinfo=onset.tzinfo) for d in days]
    best = min(cands, key=lambda c: abs(c - onset))
    return (best - start).total_seconds()


def lights_off_on_evening(start: datetime, evening: date, clock: time) -> float:
    """Seconds from the start of ``clock`` in the night of ``evening`` (before noon: next day)."""
    d = evening if clock >= time(12, 0) else evening + timedelta(days=1)
    return (datetime.combine(d, clock, tzinfo=start.tzinfo) - start).total_seconds()
