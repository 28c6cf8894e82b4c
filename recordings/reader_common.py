"""What every reader of an input shares: the first bytes of a file and the ``--start`` time.

The format registry (:mod:`recordings.open_input`) reads a file's head to choose a reader, and
the CSV reader reads it again to check its header; the CSV and device readers all take
``--start``. Both pieces live here, below the registry and the readers, so that neither imports
the other.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from hypnic.recordings.errors import InputError

#: Bytes of a file's start read by default: enough for every sniffer and the CSV header.
HEAD_BYTES = 1 << 16


def read_head(path: Path, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a file, with unreadable files as one-line InputErrors."""
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except PermissionError:
        raise InputError(path, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror or exc}") from None


def parse_start(start: str) -> tuple[str, float]:
    """Parse ``--start`` (ISO 8601, with or without a UTC offset; naive means UTC).

    Parameters
    ----------
    start : str
        For example ``2024-03-01T22:30:00+01:00``, ``2024-03-01T21:30:00Z`` or
        ``2024-03-01 21:30``.

    Returns
    -------
    start_utc : str
        The same instant in UTC, ISO 8601 with an explicit ``+00:00``.
    utc_offset_s : float
        The offset the value was given in (local time minus UTC), 0 for a naive value.

    Raises
    ------
    InputError
        ``--start`` is not an ISO 8601 date and time.
    """
    text = start.strip()
    if text[-1:] in ("Z", "z"):  # Python 3.10's fromisoformat does not take "Z"
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            "--start",
            f"{start!r} is not an ISO 8601 date and time (for example 2024-03-01T22:30:00+01:00)",
        ) from None
    offset = when.utcoffset()
    if offset is None:
        when, offset = when.replace(tzinfo=timezone.utc), timedelta(0)
    return when.astimezone(timezone.utc).isoformat(), offset.total_seconds()
