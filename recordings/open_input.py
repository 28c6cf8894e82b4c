"""Open any input the commands take, choosing the reader by the file's content.

A small registry: each :class:`InputFormat` has a ``sniff(head, path)`` that looks at the first
:data:`recordings.reader_common.HEAD_BYTES` bytes (empty for a folder) and the path, and an
``open(path, *, start)`` that returns a :class:`~recordings.samples.SampleStream`. The first
format whose sniff says yes opens the input. Formats with magic bytes (device files, our own recording folders) go before ``csv``:
its sniff accepts any text, and any name ending in ``.csv``, so that a damaged CSV gets the CSV
reader's precise message rather than "not a recognised recording".
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from hypnic.recordings.csv_input import open_csv, sniff_csv
from hypnic.recordings.devices import READERS
from hypnic.recordings.errors import InputError
from hypnic.recordings.reader_common import read_head
from hypnic.recordings.recording import open_recording, sniff_recording
from hypnic.recordings.samples import SampleStream

UNKNOWN_FORMAT = (
    "not a recognised recording: expected CSV (t,x,y,z), .cwa, .bin, .gt3x, EDF+ "
    "or a recording folder"
)


class InputFormat(NamedTuple):
    """One kind of input.

    Attributes
    ----------
    name : str
        Short name, for messages and metadata (``csv``, ``cwa`` ...).
    sniff : callable ``(head: bytes, path: Path) -> bool``
        Whether this reader takes the input; ``head`` is empty for a folder. Must be cheap and
        must not raise.
    open : callable ``(path: Path, *, start: str | None) -> SampleStream``
        Opens the input; raises :class:`~hypnic.recordings.errors.InputError` on bad content.
    """

    name: str
    sniff: Callable[[bytes, Path], bool]
    open: Callable[..., SampleStream]


# Tried in order; csv last (see the module docstring).
FORMATS: list[InputFormat] = [
    InputFormat("recording", sniff_recording, open_recording),
    *(InputFormat(name, sniff, opener) for name, sniff, opener in READERS),
    InputFormat("csv", sniff_csv, open_csv),
]


def detect_format(path: str | os.PathLike[str]) -> InputFormat:
    """Return the format that takes ``path``.

    Raises
    ------
    InputError
        ``path`` does not exist, cannot be read, is empty, or no format takes it.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        head = b""
    else:
        head = read_head(path)
        if not head:
            raise InputError(path, "empty file")
    for fmt in FORMATS:
        if fmt.sniff(head, path):
            return fmt
    if path.is_dir():
        raise InputError(path, f"a folder, {UNKNOWN_FORMAT}")
    raise InputError(path, UNKNOWN_FORMAT)


def open_input(path: str | os.PathLike[str], *, start: str | None = None) -> SampleStream:
    """Open a recording of any supported kind as a :class:`~recordings.samples.SampleStream`.

    Parameters
    ----------
    path : str or path-like
        A file (CSV, plain or gzip, for now) or a recording folder.
    start : str, optional
        ``--start``: ISO 8601 time of ``t = 0``, for inputs that do not carry one.

    Raises
    ------
    InputError
        The input is missing, unreadable, of no known kind, or bad in its content.
    """
    fmt = detect_format(path)
    return fmt.open(Path(path), start=start)
