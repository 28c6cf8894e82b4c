"""GENEActiv ``.bin`` files: a text header, then pages of 300 samples written as hex.

Format (GENEActiv instructions manual, "Binary file format"; also read in
scikit-digital-health's and actfast's readers): ``Key:Value`` lines in sections (``Device
Identity``, ``Configuration Info`` with ``Measurement Frequency`` and ``Time Zone``, ``Calibration
Data`` with per-axis ``gain`` and ``offset`` ...), then pages. A page is ``Recorded Data``, its own
``Key:Value`` lines (``Sequence Number``, ``Page Time`` as ``YYYY-MM-DD hh:mm:ss:mmm``,
``Temperature``, ``Measurement Frequency`` ...) and one line of hex, 12 hex digits a sample:
x, y, z as 12-bit two's complement, then 10 bits of light, the button and a spare bit.
Acceleration in g is ``(raw * 100 - offset) / gain``.

Written here: the format is small, and the libraries that read it (scikit-digital-health, actfast)
either pull large dependencies or read the whole file into memory.

Sample times are ``Page Time + i / fs`` within each page (the page clock, as the reference values
in shared/data/devices were made). A page with a broken data line (not hex, wrong length) or no
usable ``Page Time`` gives no samples; its span goes into ``stream.gaps``, as does a jump in the
page sequence numbers. The file has no checksums, so page clocks are checked against each other:
a page more than a minute off from where the one before it ended is kept only if the next page
follows it (the clock really jumped), otherwise its time field is taken as damaged and the page
dropped. A page whose clock would go back a little before the previous page's end starts at
that end instead (tallied in the metadata). Page times are the device's local time; the
header's ``Time Zone`` (``GMT -04:00``) gives the UTC offset.

Temperature and light (``stream.aux``): each page's ``Temperature`` field, one value per usable
page at its first sample (the device measures it once a page; scikit-digital-health repeats it
for every sample of the page). Light is measured with every sample (10 bits, converted to lux
with the header's ``Lux / Volts``, :func:`light_lux`) but handed on as each page's mean, at the
same time as its temperature: light matters here as wear and daylight evidence over minutes, the
sensor's resolution is several lux, and one value per page (a few seconds) keeps a week of light
small beside the acceleration instead of doubling the data handed on. A file whose header has no
usable ``Lux``/``Volts`` has no light channel.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hypnic.recordings.devices._packing import unpack12
from hypnic.recordings.devices._stream import (
    CHUNK_SAMPLES,
    Batch,
    DecodeState,
    device_stream,
    placement_from_text,
)
from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

_PAGE_MARK = b"Recorded Data"
_HEX_PER_SAMPLE = 12
_SAMPLES_PER_PAGE = 300  # every page of a GENEActiv file (manual), used only to size end gaps
_HEADER_MAX_BYTES = 1 << 20
_EPOCH = datetime(1970, 1, 1)
# A page's clock may differ this much from where the previous page ended before it is doubted:
# page times jitter by about half a second and drift by seconds a week (the header notes the
# drift), so only a damaged date or time field moves a page further.
_CLOCK_TOLERANCE_S = 60.0
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d*)?")
_PAGE_TIME = re.compile(
    rb"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{1,2}):(\d{1,2})(?:[:.](\d{1,3}))?$"
)
_TIME_ZONE = re.compile(r"(?:GMT|UTC)?\s*([+-])?\s*(\d{1,2})(?::?(\d{2}))?")


def sniff(head: bytes, path: Path | None = None) -> bool:
    """Whether ``head`` starts like a GENEActiv ``.bin`` file (its ``Device Identity`` section)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"Device Identity") and (
        b"GENEActiv" in head or b"Device Unique Serial Code" in head
    )


def _number(text: str | None) -> float | None:
    match = _NUMBER.search(text or "")
    return float(match.group()) if match else None


def _utc_offset_s(text: str) -> float | None:
    match = _TIME_ZONE.fullmatch(text.strip())
    if not match or not text.strip():
        return None
    sign = -1 if match.group(1) == "-" else 1
    return sign * (int(match.group(2)) * 3600 + int(match.group(3) or 0) * 60)


def _page_seconds(value: bytes) -> float | None:
    """``Page Time`` as epoch seconds of the naive local time, or None when malformed."""
    match = _PAGE_TIME.match(value)
    if not match:
        return None
    y, mo, d, h, mi, s, ms = match.groups()
    try:
        when = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    except ValueError:
        return None
    delta = when - _EPOCH
    return delta.days * 86400 + delta.seconds + (int(ms) / 1000.0 if ms else 0.0)


class _Header:
    """The text header up to the first page, parsed and checked."""

    def __init__(self, source: Path, fh) -> None:
        self.fields: dict[str, str] = {}
        consumed = 0
        for line in fh:
            if line.strip() == _PAGE_MARK:
                break
            consumed += len(line)
            if consumed > _HEADER_MAX_BYTES:
                raise InputError(
                    source, "GENEActiv header has no 'Recorded Data' page in its first 1 MiB"
                )
            key, sep, value = line.decode("latin-1").partition(":")
            if sep:
                self.fields.setdefault(key.strip().lower(), value.strip())
        else:
            raise InputError(source, "GENEActiv file has a header but no data pages")
        self.data_offset = consumed
        f = self.fields
        fs = _number(f.get("measurement frequency"))
        if fs is None or not 0 < fs <= 10_000:
            raise InputError(
                source,
                f"GENEActiv header: bad Measurement Frequency {f.get('measurement frequency')!r}",
            )
        self.fs = fs
        self.gain = np.empty(3)
        self.offset = np.empty(3)
        for i, axis in enumerate("xyz"):
            gain = _number(f.get(f"{axis} gain"))
            offset = _number(f.get(f"{axis} offset"))
            if gain is None or gain == 0 or offset is None:
                raise InputError(
                    source, f"GENEActiv header: no usable calibration for the {axis} axis"
                )
            self.gain[i], self.offset[i] = gain, offset
        self.utc_offset_s = _utc_offset_s(f.get("time zone", ""))
        # Light: lux per count of the 10-bit light reading, from the calibration's "Lux" and
        # "Volts" (GENEActiv's own conversion, as in scikit-digital-health and GGIR).
        lux, volts = _number(f.get("lux")), _number(f.get("volts"))
        self.lux_per_count = (
            lux / volts if lux is not None and volts and np.isfinite(lux / volts) else None
        )
        range_text = f.get("accelerometer range", "")
        limits = [abs(float(v)) for v in _NUMBER.findall(range_text)]
        self.range_g = max(limits) if limits else None


class _Page:
    __slots__ = ("fields", "data", "complete")

    def __init__(self) -> None:
        self.fields: dict[bytes, bytes] = {}
        self.data: bytes | None = None
        self.complete = True


def _pages(fh) -> Iterator[_Page | None]:
    """Pages in file order; None for stray lines between pages (damage)."""
    page: _Page | None = None
    for line in fh:
        text = line.strip()
        if text == _PAGE_MARK:
            if page is not None:
                yield page  # a page without a data line
            page = _Page()
        elif page is None:
            if text:
                yield None
        elif b":" in text:
            key, _, value = text.partition(b":")
            page.fields[key.strip().lower()] = value.strip()
        elif text:
            page.data = text
            page.complete = line.endswith(b"\n")
            yield page
            page = None
    if page is not None:
        yield page


class _Usable(NamedTuple):
    """A page that decoded: start (s from the origin), rate, sequence number, sample bytes and
    the page's temperature (degC, NaN when the field is missing or not a number)."""

    start: float
    fs: float
    seq: int | None
    raw: bytes
    temperature: float = float("nan")

    @property
    def span(self) -> float:
        return len(self.raw) // 6 / self.fs


class _Decoder:
    def __init__(
        self, source: Path, header: _Header, state: DecodeState, chunk_samples: int
    ) -> None:
        self.source = source
        self.header = header
        self.state = state
        self.chunk_samples = chunk_samples
        self.floor: float | None = None  # end of the last page handed on (s from origin)
        self.last_seq: int | None = None
        self.damaged = 0
        self.last_span = _SAMPLES_PER_PAGE / header.fs
        self.waiting: _Usable | None = None  # a page whose clock awaits the next page's word

    def _page_samples(self, page: _Page) -> _Usable | None:
        """The start, rate, sequence number and raw bytes of a usable page, else None."""
        seconds = _page_seconds(page.fields.get(b"page time", b""))
        if seconds is None or page.data is None:
            return None
        fs = _number(page.fields.get(b"measurement frequency", b"").decode("latin-1"))
        if fs is None or not 0 < fs <= 10_000:
            fs = self.header.fs
        data = page.data
        whole = len(data) - len(data) % _HEX_PER_SAMPLE
        if whole != len(data):
            if page.complete:
                return None  # a line of the wrong length inside the file: damaged
            self.state.count("samples_cut_short_at_end")
            data = data[:whole]
        try:
            raw = bytes.fromhex(data.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            return None
        if not raw:
            return None
        seq_text = page.fields.get(b"sequence number", b"")
        seq = int(seq_text) if seq_text.isdigit() else None
        temperature = _number(page.fields.get(b"temperature", b"").decode("latin-1"))
        if temperature is None or not -60.0 <= temperature <= 130.0:
            temperature = float("nan")  # a damaged field, not a reading
        return _Usable(seconds - self.state.origin, fs, seq, raw, temperature)

    def _fits(self, start: float, seq: int | None, after: _Usable | None) -> bool:
        """Whether a page's clock agrees with the page before it (``after``, else the last
        page handed on), allowing for the pages the sequence numbers say are missing."""
        if after is not None:
            end, last_seq, span = after.start + after.span, after.seq, after.span
        elif self.floor is not None:
            end, last_seq, span = self.floor, self.last_seq, self.last_span
        else:
            return True
        missing = (
            seq - last_seq - 1 if seq is not None and last_seq is not None and seq > last_seq else 0
        )
        return abs(start - (end + missing * span)) <= _CLOCK_TOLERANCE_S

    def _offer(self, page: _Usable) -> list[_Usable]:
        """Pages to hand on, in order, once the clock of ``page`` has been checked.

        A page whose clock disagrees with the one before waits for the next page: if that one
        follows it, the clock really jumped and both are kept; otherwise the page's time field
        is damaged and the page is dropped.
        """
        waiting, self.waiting = self.waiting, None
        if waiting is None:
            if self._fits(page.start, page.seq, None):
                return [self._place(page)]
            self.waiting = page
            return []
        if self._fits(page.start, page.seq, waiting):
            return [self._place(waiting), self._place(page)]
        self.state.count("pages_damaged_clock")
        self.damaged += 1
        if self._fits(page.start, page.seq, None):
            return [self._place(page)]
        self.waiting = page
        return []

    def _place(self, page: _Usable) -> _Usable:
        start = page.start
        if self.floor is not None:
            if start < self.floor:
                self.state.count("pages_clock_adjusted")
                start = self.floor
            follows = (
                page.seq is not None and self.last_seq is not None and page.seq == self.last_seq + 1
            )
            if start > self.floor and (self.damaged or not follows):
                self.state.gaps.append([self.floor, start])
        self.floor = start + page.span
        self.last_seq = page.seq
        self.last_span = page.span
        self.damaged = 0
        return _Usable(start, page.fs, page.seq, page.raw, page.temperature)

    def _batch(self, pages: list[_Usable]) -> Batch:
        counts = np.fromiter((len(p.raw) // 6 for p in pages), dtype=np.int64, count=len(pages))
        raw = np.frombuffer(b"".join(p.raw for p in pages), dtype=np.uint8).reshape(-1, 6)
        values = unpack12(raw)
        xyz = (values[:, :3] * 100.0 - self.header.offset) / self.header.gain
        first = np.repeat(np.cumsum(counts) - counts, counts)
        index = np.arange(len(values)) - first
        page_starts = np.fromiter((p.start for p in pages), dtype=np.float64, count=len(pages))
        starts = np.repeat(page_starts, counts)
        rates = np.repeat(np.fromiter((p.fs for p in pages), dtype=np.float64), counts)
        aux = {
            "temperature": (
                page_starts,
                np.fromiter((p.temperature for p in pages), dtype=np.float64, count=len(pages)),
            )
        }
        if self.header.lux_per_count is not None:
            lux = light_lux(values[:, 3], self.header.lux_per_count)
            aux["light"] = (page_starts, np.add.reduceat(lux, np.cumsum(counts) - counts) / counts)
        return Batch(starts + index / rates, xyz.astype(np.float32), aux)

    def batches(self) -> Iterator[Batch]:
        ready: list[_Usable] = []
        pending = 0
        with open(self.source, "rb") as fh:
            fh.seek(self.header.data_offset)
            for page in _pages(fh):
                found = None if page is None else self._page_samples(page)
                if found is None:
                    self.state.count("pages_damaged" if page is not None else "stray_lines")
                    self.damaged += 1
                    continue
                for usable in self._offer(found):
                    ready.append(usable)
                    pending += len(usable.raw) // 6
                if pending >= self.chunk_samples:
                    yield self._batch(ready)
                    ready, pending = [], 0
        if self.waiting is not None:
            # The last page disagrees with the one before and nothing follows to tell why:
            # its clock is kept (a real jump cannot be told from a damaged field here).
            ready.append(self._place(self.waiting))
            self.waiting = None
        if ready:
            yield self._batch(ready)
        if self.damaged and self.floor is not None:
            self.state.gaps.append([self.floor, self.floor + self.damaged * self.last_span])


def light_lux(packed: np.ndarray, lux_per_count: float) -> np.ndarray:
    """Light in lux of each sample from the 12 bits after its three axes.

    The 12 bits hold 10 bits of light, then the button and a spare bit; lux is the light
    reading times ``Lux / Volts`` of the header's calibration (GENEActiv's conversion;
    scikit-digital-health also floors the result to whole lux, which is not done here).

    Parameters
    ----------
    packed : ndarray of int
        The fourth 12-bit value of each sample (signed or not: only its 12 bits are used).
    lux_per_count : float
        ``Lux / Volts`` from the header.

    Returns
    -------
    ndarray of float64
    """
    bits = np.asarray(packed).astype(np.int64) & 0xFFF
    return (bits >> 2) * float(lux_per_count)


def _first_page_seconds(source: Path, header: _Header) -> tuple[int, dict[bytes, bytes]]:
    with open(source, "rb") as fh:
        fh.seek(header.data_offset)
        for page in _pages(fh):
            if page is not None:
                seconds = _page_seconds(page.fields.get(b"page time", b""))
                if seconds is not None:
                    return int(seconds), page.fields
    raise InputError(source, "GENEActiv file has no page with a readable Page Time")


def open_bin(
    path: str | os.PathLike[str], *, start: str | None = None, chunk_samples: int = CHUNK_SAMPLES
) -> SampleStream:
    """Open a GENEActiv ``.bin`` file as a stream of accelerometer samples.

    Parameters
    ----------
    path : str or path-like
        The ``.bin`` file (recognised by content, any name).
    start : str, optional
        ``--start``: ISO 8601 start overriding the device clock.
    chunk_samples : int
        About how many samples each chunk holds (whole pages).

    Returns
    -------
    SampleStream
        ``t`` from the first sample; ``gaps`` the spans of damaged or missing pages (complete
        once the stream is read).

    Raises
    ------
    InputError
        Not a GENEActiv file, a header without frequency or calibration, or no usable page.
    """
    source = Path(path)
    try:
        with open(source, "rb") as fh:
            if not sniff(fh.read(4096)):
                raise InputError(source, "not a GENEActiv .bin file (no 'Device Identity' header)")
            fh.seek(0)
            header = _Header(source, fh)
        origin, first_fields = _first_page_seconds(source, header)
    except IsADirectoryError:
        raise InputError(source, "is a folder, not a GENEActiv .bin file") from None
    except OSError as exc:
        raise InputError(source, f"cannot read the file ({exc.strerror or exc})") from None
    state = DecodeState(origin=origin)
    f = header.fields
    if header.utc_offset_s is None:
        clock, utc_offset_s = (
            "device local time; no readable Time Zone in the header, treated as UTC",
            0.0,
        )
    else:
        clock, utc_offset_s = (
            f"device local time, Time Zone {f.get('time zone')}",
            header.utc_offset_s,
        )
    temperature = _number(first_fields.get(b"temperature", b"").decode("latin-1"))
    meta = {
        "format": "GENEActiv .bin",
        "device": " ".join(
            v for v in (f.get("device type", "GENEActiv"), f.get("device model", "")) if v
        ),
        "serial": f.get("device unique serial code", ""),
        "firmware": f.get("device firmware version", ""),
        "range_g": header.range_g,
        "clock": clock,
        "temperature_c_start": temperature,
        "light_unit": "lux",
        "aux_timing": (
            "temperature: each page's Temperature field, at the page's first sample; light: "
            "the page's mean lux (Lux / Volts of the calibration), at the same time"
        ),
        "location": f.get("device location code", ""),
        "calibration": {"gain": header.gain.tolist(), "offset": header.offset.tolist()},
        "extract_notes": f.get("extract notes", ""),
    }
    return device_stream(
        source,
        _Decoder(source, header, state, max(1, chunk_samples)).batches(),
        state,
        fs=header.fs,
        utc_offset_s=utc_offset_s,
        placement=placement_from_text(f.get("device location code", "")),
        meta=meta,
        start=start,
        aux_channels=("temperature",) + (("light",) if header.lux_per_count is not None else ()),
    )
