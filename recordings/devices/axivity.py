"""Axivity AX3 / AX6 ``.cwa`` files, every data block validated before its samples are used.

Format (Open Movement, ``Docs/ax3/cwa.h`` and ``ax3-technical.md`` in the openmovement
repository): a header block ``"MD"`` (1024 bytes), then 512-byte data blocks ``"AX"``, each with
its own sequence number, session id, whole-second RTC timestamp, the index of the sample that
timestamp belongs to (``timestampOffset``), sample count, rate code, packing and a 16-bit
checksum (the word-wise sum of the whole block is zero). Samples are either packed (3 x 10 bits +
2-bit exponent in 32 bits, AX3) or 16-bit signed (3, 6 or 9 axes: gyro, accel, magnetometer).
Accelerometer units are 1/2^(8+n) g with n in the top three bits of the light field.

Written here rather than taken from a library: scikit-digital-health reads ``.cwa`` but pulls
~180 MB of dependencies and returns damaged blocks as samples; actfast (Rust, MIT) reads whole
files into memory; Open Movement's own loader needs pandas. None streams a week with bounded
memory while keeping damaged blocks out.

Damaged data: a block whose checksum, marker, session, rate or packing is wrong never gives
samples. The span it would have covered goes into ``stream.gaps`` and ``t`` jumps over it.

Timing: each block's samples run from the previous block's end to its own end, its end being
``timestamp - timestampOffset / fs + count / fs`` (whole-second timestamp; the firmware adjusts
``timestampOffset`` so this holds for the nominal rate). A block starts at its own estimate instead
when it does not follow on (sequence gap, clock jump of 1 s or more, implausible span). This is
the scheme of scikit-digital-health, whose decoded values the project compares against (times
agree to the 5e-5 s of shared/data/devices/README.md); newer firmware's fractional timestamps
would refine sample times by less than one sample period and are not used. A damaged block's
header, when it agrees with its neighbours (next sequence number, same session and format, an
end 0.5-2 block spans after the previous end), still marks where the next good block starts, so
the samples after a damaged block keep the times they would have had.

Temperature and light: every data block carries the device's last temperature and light
readings; each good block hands on one value of each, at the time of its first sample
(``stream.aux``, channels ``temperature`` in degC and ``light`` as the raw 10-bit reading, see
:func:`temperature_c` and :func:`light_raw`). scikit-digital-health converts the same raw
temperature as ``(raw - 171) / 3.142``, which reads about 2 degC warmer near skin temperature
than the MCP9700 conversion of the device maker's own loader used here; the raw values agree.

The device clock is naive local time; the header's time-zone field (originally reserved, -1 when
unset) is used when it holds a plausible offset, otherwise the times are taken as UTC.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hypnic.recordings.devices._stream import (
    CHUNK_SAMPLES,
    CLOCK_NAIVE,
    Batch,
    DecodeState,
    device_stream,
    placement_from_text,
)
from hypnic.recordings.errors import InputError
from hypnic.recordings.samples import SampleStream

BLOCK_BYTES = 512
_MD = 0x444D  # "MD" little-endian (cwa.h)
_AX = 0x5841  # "AX" little-endian (cwa.h)
_DATA_LENGTH = 508  # packetLength of a data block (cwa.h)
# Hardware types (cwa.h): 0x00/0xff/0x17 AX3, 0x64 AX6.
_HARDWARE = {0x00: "AX3", 0xFF: "AX3", 0x17: "AX3", 0x64: "AX6"}
# cwa_data_t, field by field (cwa.h); all little-endian, tightly packed, 512 bytes.
_BLOCK = np.dtype(
    [
        ("marker", "<u2"),
        ("length", "<u2"),
        ("device_fractional", "<u2"),
        ("session", "<u4"),
        ("sequence", "<u4"),
        ("timestamp", "<u4"),
        ("light_scale", "<u2"),
        ("temperature", "<u2"),
        ("events", "u1"),
        ("battery", "u1"),
        ("rate", "u1"),
        ("axes_packing", "u1"),
        ("timestamp_offset", "<i2"),
        ("sample_count", "<u2"),
        ("data", "V480"),
        ("checksum", "<u2"),
    ]
)
assert _BLOCK.itemsize == BLOCK_BYTES
_DATA_OFFSET = 30
_DATA_BYTES = 480
# A block follows on from the previous one when its own start is less than this after the
# previous end (the same 1 s rule as scikit-digital-health) ...
_FOLLOW_ON_S = 1.0
# ... and its span from that end is this fraction to multiple of count / fs.
_SPAN_RANGE = (0.5, 2.0)
_BLANK_BYTES = (0x00, 0xFF)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0, 0, 0], np.int64)
# Open Movement's metadata shorthand for the body location (cwa_load.py).
_LOCATION_KEYS = ("_p", "Body Location")


@dataclass(frozen=True)
class _Format:
    """The data format of a file, from its first valid data block."""

    session: int
    rate_code: int
    axes_packing: int
    fs: float
    range_g: int
    axes: int
    packed: bool
    capacity: int  # samples a full block holds
    accel_axis: int  # index of the accelerometer x axis within a 16-bit sample


def sniff(head: bytes, path: Path | None = None) -> bool:
    """Whether ``head`` starts like a ``.cwa`` file: an ``"MD"`` header block of sane length."""
    if len(head) < 4 or head[:2] != b"MD":
        return False
    length = int.from_bytes(head[2:4], "little")
    return 508 <= length <= 0xFFFF - 4


def _epoch_seconds(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Packed RTC timestamps (YYYYYYMM MMDDDDDh hhhhmmmm mmssssss, years from 2000, cwa.h)
    as epoch seconds of that naive time, and whether each is a valid date and time."""
    v = packed.astype(np.int64)
    year = ((v >> 26) & 0x3F) + 2000
    month = (v >> 22) & 0x0F
    day = (v >> 17) & 0x1F
    hour = (v >> 12) & 0x1F
    minute = (v >> 6) & 0x3F
    second = v & 0x3F
    # Every 4th year is a leap year across the representable 2000-2063.
    month_days = _DAYS_IN_MONTH[month] + ((month == 2) & (year % 4 == 0))
    ok = (day >= 1) & (day <= month_days) & (hour < 24) & (minute < 60) & (second < 60)
    # Days since 1970-01-01 of a proleptic Gregorian date: H. Hinnant, "chrono-Compatible
    # Low-Level Date Algorithms", days_from_civil (years here are >= 2000, so no negative era).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    return days * 86400 + hour * 3600 + minute * 60 + second, ok


def _format_of(block: np.void) -> _Format | None:
    """The data format a checksum-valid block declares, or None when it is not one we read."""
    rate = int(block["rate"])
    axes_packing = int(block["axes_packing"])
    axes, packing = axes_packing >> 4, axes_packing & 0x0F
    if rate & 0x0F == 0:
        # Rate code 0 is the pre-2012 format that kept the rate in timestampOffset.
        return None
    if packing == 0 and axes == 3:
        packed, capacity = True, _DATA_BYTES // 4
    elif packing == 2 and axes in (3, 6, 9):
        packed, capacity = False, _DATA_BYTES // (2 * axes)
    else:
        return None
    return _Format(
        session=int(block["session"]),
        rate_code=rate,
        axes_packing=axes_packing,
        fs=3200.0 / (1 << (15 - (rate & 0x0F))),
        range_g=16 >> (rate >> 6),
        axes=axes,
        packed=packed,
        capacity=capacity,
        accel_axis=0 if axes == 3 else 3,
    )


def _checksum_ok(buf: bytes, n: int) -> np.ndarray:
    words = np.frombuffer(buf, dtype="<u2", count=n * BLOCK_BYTES // 2).reshape(n, -1)
    return (words.sum(axis=1, dtype=np.uint32) & 0xFFFF) == 0


def _metadata(raw: bytes) -> dict[str, str]:
    """The header's annotation: URL-encoded ``name=value`` pairs joined by ``&`` (cwa.h)."""
    text = raw.rstrip(b"\x20\x00\xff").decode("latin-1")
    return dict(urllib.parse.parse_qsl(text, keep_blank_values=True, errors="replace"))


class _Header:
    """The ``"MD"`` header block, parsed."""

    def __init__(self, source: Path, head: bytes, size: int) -> None:
        if not sniff(head):
            raise InputError(source, "not an Axivity .cwa file (no 'MD' header block)")
        length = int.from_bytes(head[2:4], "little")
        self.data_offset = -(-(length + 4) // BLOCK_BYTES) * BLOCK_BYTES
        if size < self.data_offset or len(head) < 64:
            raise InputError(source, ".cwa file cut short inside its header block")
        self.hardware = head[4]
        device_id = int.from_bytes(head[5:7], "little")
        upper = int.from_bytes(head[11:13], "little")
        if upper != 0xFFFF:  # "if 0xffff is read, treat as 0x0000" (cwa.h)
            device_id |= upper << 16
        self.device_id = device_id
        self.firmware = head[41]
        self.time_zone_min = int.from_bytes(head[42:44], "little", signed=True)
        self.metadata = _metadata(head[64:512])


class _Chain:
    """Gives each good block its start and end time, and finds the gaps between them."""

    def __init__(self, fmt: _Format, state: DecodeState) -> None:
        self.fmt = fmt
        self.state = state
        self.ref_end: float | None = None  # end of the last block that timing follows on from
        self.ref_seq: int | None = None
        self.floor: float | None = None  # end of the last block whose samples were handed on
        self.last_seq: int | None = None
        self.damaged = 0  # damaged blocks since the last good one

    def _follows(self, seq: int, own_start: float, own_end: float, span: float) -> bool:
        if self.ref_seq is None or self.ref_end is None or seq != (self.ref_seq + 1) & 0xFFFFFFFF:
            return False
        lo, hi = _SPAN_RANGE
        return (
            own_start - self.ref_end < _FOLLOW_ON_S
            and lo * span <= own_end - self.ref_end <= hi * span
        )

    def good(
        self, seq: int, own_start: float, own_end: float, count: int
    ) -> tuple[float, float] | None:
        """Start and end time of a good block, or None when its clock makes it unusable."""
        span = count / self.fmt.fs
        start = own_start
        if self._follows(seq, own_start, own_end, span) and self.ref_end is not None:
            start = self.ref_end
        end = own_end
        if self.floor is not None and start < self.floor:
            start = self.floor  # never overlap samples already handed on
        if end - start < _SPAN_RANGE[0] * span:
            # The clock went back (or jumped): times for this block cannot be trusted.
            self.state.count("blocks_dropped_clock")
            self.damaged += 1
            return None
        if self.floor is not None and start > self.floor:
            if self.damaged or self.last_seq is None or seq != (self.last_seq + 1) & 0xFFFFFFFF:
                self.state.gaps.append([self.floor, start])
        self.ref_end = self.floor = end
        self.ref_seq = self.last_seq = seq
        self.damaged = 0
        return start, end

    def bad(self, seq: int, own_start: float, own_end: float, count: int, header_ok: bool) -> None:
        """A damaged block: no samples; its header may still carry the timing on."""
        self.state.count("blocks_damaged")
        self.damaged += 1
        if header_ok and self._follows(seq, own_start, own_end, count / self.fmt.fs):
            self.ref_end, self.ref_seq = own_end, seq

    def finish(self) -> None:
        """A gap for damaged blocks at the very end of the file."""
        if self.damaged and self.floor is not None:
            if self.ref_end is not None and self.ref_end > self.floor:
                end = self.ref_end  # damaged blocks whose headers carried the timing on
            else:
                end = self.floor + self.damaged * self.fmt.capacity / self.fmt.fs
            self.state.gaps.append([self.floor, end])


def _decode(fmt: _Format, raw: np.ndarray, light_scale: np.ndarray) -> np.ndarray:
    """Accelerometer samples of blocks ``raw`` (uint8, (m, 480)) as float32 g, (m, capacity, 3)."""
    if fmt.packed:
        v = raw.view("<u4")
        exponent = (v >> 30).astype(np.int32)
        axes = []
        for shift in (0, 10, 20):
            # 10-bit two's complement, then the shared binary exponent (cwa.h).
            value = (((v >> shift) & 0x3FF).astype(np.int32) ^ 0x200) - 0x200
            axes.append(value << exponent)
        counts = np.stack(axes, axis=-1)
    else:
        per = raw.view("<i2").reshape(raw.shape[0], fmt.capacity, fmt.axes)
        counts = per[:, :, fmt.accel_axis : fmt.accel_axis + 3]
    scale = np.ldexp(np.float32(1), -(8 + (light_scale.astype(np.int32) >> 13)))
    return counts.astype(np.float32) * scale.astype(np.float32)[:, None, None]


def temperature_c(raw: np.ndarray) -> np.ndarray:
    """Block temperature fields as degrees C (NaN where the field says none).

    The lower 10 bits are the ADC reading of an MCP9700 (10 mV/degC, 500 mV at 0 degC) against
    a 3 V reference: ``raw * 3000 / 1024 mV`` gives ``raw * 75 / 256 - 50`` degC, the conversion
    of Open Movement's own loader (cwa_load.py) and cwa.h. A raw 0 means no reading (cwa.h).

    Parameters
    ----------
    raw : ndarray of int
        The blocks' ``temperature`` fields.

    Returns
    -------
    ndarray of float64
    """
    value = np.asarray(raw).astype(np.int64) & 0x3FF
    return np.where(value == 0, np.nan, value * (75.0 / 256.0) - 50.0)


def light_raw(light_scale: np.ndarray) -> np.ndarray:
    """The light sensor's raw reading of each block: the lower 10 bits of the light field
    (the upper 6 hold the accelerometer and gyroscope scales); NaN where it is 0, "none" in
    cwa.h. The raw value is a log-scale ADC count, handed on unconverted."""
    value = np.asarray(light_scale).astype(np.int64) & 0x3FF
    return np.where(value == 0, np.nan, value.astype(np.float64))


def _block_aux(t0: np.ndarray, temperature: np.ndarray, light_scale: np.ndarray) -> dict:
    # One value per good block, at the block's first sample: the device writes the last reading
    # into each block, so a damaged block gives neither samples nor readings.
    t0 = np.asarray(t0, dtype=np.float64)
    return {"temperature": (t0, temperature_c(temperature)), "light": (t0, light_raw(light_scale))}


def _batches(
    source: Path, header: _Header, fmt: _Format, state: DecodeState, blocks_per_read: int
) -> Iterator[Batch]:
    chain = _Chain(fmt, state)
    span_index = np.arange(fmt.capacity)
    with open(source, "rb") as fh:
        fh.seek(header.data_offset)
        while True:
            buf = fh.read(blocks_per_read * BLOCK_BYTES)
            n = len(buf) // BLOCK_BYTES
            if len(buf) % BLOCK_BYTES:
                state.count("bytes_after_last_whole_block", len(buf) % BLOCK_BYTES)
            if n == 0:
                break
            blocks = np.frombuffer(buf, dtype=_BLOCK, count=n)
            u8 = np.frombuffer(buf, dtype=np.uint8, count=n * BLOCK_BYTES).reshape(n, BLOCK_BYTES)
            seconds, date_ok = _epoch_seconds(blocks["timestamp"])
            count = blocks["sample_count"].astype(np.int64)
            header_ok = (
                (blocks["marker"] == _AX)
                & (blocks["length"] == _DATA_LENGTH)
                & (blocks["session"] == fmt.session)
                & (blocks["rate"] == fmt.rate_code)
                & (blocks["axes_packing"] == fmt.axes_packing)
                & (count >= 1)
                & (count <= fmt.capacity)
                & date_ok
            )
            good = header_ok & _checksum_ok(buf, n)
            blank = (u8 == u8[:, :1]).all(axis=1) & np.isin(u8[:, 0], _BLANK_BYTES)
            own_start = (seconds - state.origin) - blocks["timestamp_offset"] / fmt.fs
            own_end = own_start + count / fmt.fs

            kept: list[int] = []
            starts: list[float] = []
            ends: list[float] = []
            for i, (is_good, is_blank, ok, seq, s0, s1, c) in enumerate(
                zip(
                    good.tolist(),
                    blank.tolist(),
                    header_ok.tolist(),
                    blocks["sequence"].tolist(),
                    own_start.tolist(),
                    own_end.tolist(),
                    count.tolist(),
                    strict=True,
                )
            ):
                if is_good:
                    times = chain.good(seq, s0, s1, c)
                    if times is not None:
                        kept.append(i)
                        starts.append(times[0])
                        ends.append(times[1])
                elif not is_blank:
                    chain.bad(seq, s0, s1, c, ok)
            if kept:
                idx = np.asarray(kept)
                t0 = np.asarray(starts)
                step = (np.asarray(ends) - t0) / count[idx]
                t = t0[:, None] + span_index[None, :] * step[:, None]
                xyz = _decode(
                    fmt,
                    u8[idx, _DATA_OFFSET : _DATA_OFFSET + _DATA_BYTES],
                    blocks["light_scale"][idx],
                )
                aux = _block_aux(t0, blocks["temperature"][idx], blocks["light_scale"][idx])
                full = count[idx] == fmt.capacity
                if full.all():
                    yield Batch(t.ravel(), xyz.reshape(-1, 3), aux)
                else:
                    mask = span_index[None, :] < count[idx][:, None]
                    yield Batch(t[mask], xyz[mask], aux)
    chain.finish()


def _first_valid_block(source: Path, fh, data_offset: int) -> np.void:
    fh.seek(data_offset)
    while True:
        buf = fh.read(4096 * BLOCK_BYTES)
        n = len(buf) // BLOCK_BYTES
        if n == 0:
            raise InputError(source, "no valid data blocks in the .cwa file (empty or all damaged)")
        blocks = np.frombuffer(buf, dtype=_BLOCK, count=n)
        valid = (
            (blocks["marker"] == _AX) & (blocks["length"] == _DATA_LENGTH) & _checksum_ok(buf, n)
        )
        valid &= _epoch_seconds(blocks["timestamp"])[1]
        hits = np.flatnonzero(valid)
        if len(hits):
            return blocks[hits[0]]


def open_cwa(
    path: str | os.PathLike[str], *, start: str | None = None, chunk_samples: int = CHUNK_SAMPLES
) -> SampleStream:
    """Open an Axivity ``.cwa`` file (AX3, AX6) as a stream of accelerometer samples.

    Parameters
    ----------
    path : str or path-like
        The ``.cwa`` file (recognised by content, any name).
    start : str, optional
        ``--start``: ISO 8601 start overriding the device clock.
    chunk_samples : int
        About how many samples each chunk holds (whole blocks).

    Returns
    -------
    SampleStream
        ``t`` from the first good sample; ``gaps`` the spans of damaged or missing blocks
        (complete once the stream is read); ``info.meta`` device, serial, firmware, range,
        temperature and the tallies of damaged blocks.

    Raises
    ------
    InputError
        Not a ``.cwa`` file, cut short in its header, a data format this reader does not
        know (other device generations), or no valid data block.
    """
    source = Path(path)
    try:
        size = source.stat().st_size
        with open(source, "rb") as fh:
            header = _Header(source, fh.read(1024), size)
            first = _first_valid_block(source, fh, header.data_offset)
    except IsADirectoryError:
        raise InputError(source, "is a folder, not a .cwa file") from None
    except OSError as exc:
        raise InputError(source, f"cannot read the file ({exc.strerror or exc})") from None
    fmt = _format_of(first)
    if fmt is None:
        raise InputError(
            source,
            f"unsupported .cwa data format (axes/packing 0x{int(first['axes_packing']):02x}, "
            f"rate code 0x{int(first['rate']):02x}): not an AX3/AX6 recording this reader knows",
        )
    seconds = int(_epoch_seconds(np.asarray([first["timestamp"]]))[0][0])
    state = DecodeState(origin=seconds)
    tz = header.time_zone_min
    if tz != -1 and -12 * 60 <= tz <= 14 * 60:
        utc_offset_s, clock = (
            60.0 * tz,
            "device local time; UTC offset from the header's time-zone field",
        )
    else:
        utc_offset_s, clock = 0.0, CLOCK_NAIVE
    location = next((header.metadata[k] for k in _LOCATION_KEYS if k in header.metadata), "")
    channels = {
        3: "accelerometer",
        6: "gyroscope + accelerometer",
        9: "gyroscope + accelerometer + magnetometer",
    }
    meta = {
        "format": "Axivity .cwa",
        "device": f"Axivity {_HARDWARE.get(header.hardware, f'(hardware type 0x{header.hardware:02x})')}",
        "serial": str(header.device_id),
        "session_id": fmt.session,
        "firmware": str(header.firmware),
        "range_g": fmt.range_g,
        "channels": channels[fmt.axes],
        "clock": clock,
        # Temperature and battery conversions from cwa.h (MCP9700 sensor: 10 mV/C, 0.5 V at 0 C).
        "temperature_c_start": round(int(first["temperature"]) % 1024 * 75.0 / 256 - 50, 2),
        "light_unit": "raw 10-bit light sensor reading (log scale, unconverted)",
        "aux_timing": "temperature and light: one value per good data block, at its first sample",
        "battery_v_start": round((int(first["battery"]) + 512.0) * 6000 / 1024 / 1000, 3),
        "timing": "block whole-second timestamps and timestampOffset, chained block to block",
        "device_metadata": header.metadata,
    }
    blocks_per_read = max(1, chunk_samples // fmt.capacity)
    return device_stream(
        source,
        _batches(source, header, fmt, state, blocks_per_read),
        state,
        fs=fmt.fs,
        utc_offset_s=utc_offset_s,
        placement=placement_from_text(location),
        meta=meta,
        start=start,
        aux_channels=("temperature", "light"),
    )
