"""Bluetooth SIG Heart Rate Measurement (characteristic 0x2A37), as the Polar H10 sends it.

Layout (Bluetooth SIG Heart Rate Service 1.0, §3.1): a flags byte, then
- bit 0 clear: heart rate u8, set: u16 LE (bpm);
- bits 1-2: sensor contact (bit 2 = contact detection supported, bit 1 = contact detected);
- bit 3: energy expended u16 LE (kJ) present;
- bit 4: one or more RR intervals u16 LE in 1/1024 s follow.
Reserved flag bits 5-7 are ignored, as the specification asks of receivers. Test vectors:
``L0rek/polar_h10:tests/test_utils.py`` (``vectors/peer_python_polar_h10_L0rek.json``).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "heart_rate"

SERVICE_UUID = "0000180d-0000-1000-8000-00805f9b34fb"
MEASUREMENT_UUID = "00002a37-0000-1000-8000-00805f9b34fb"

_HR_UINT16 = 0x01
_CONTACT_DETECTED = 0x02
_CONTACT_SUPPORTED = 0x04
_ENERGY_PRESENT = 0x08
_RR_PRESENT = 0x10
RR_UNITS_PER_S = 1024


@dataclass(frozen=True)
class HeartRateMeasurement:
    """One Heart Rate Measurement notification.

    Attributes
    ----------
    bpm : int
    sensor_contact : bool or None
        ``None`` when the sensor does not report contact.
    energy_expended_kj : int or None
    rr_intervals : tuple of int
        RR intervals in 1/1024 s, oldest first.
    """

    bpm: int
    sensor_contact: bool | None = None
    energy_expended_kj: int | None = None
    rr_intervals: tuple[int, ...] = ()

    @property
    def rr_s(self) -> tuple[float, ...]:
        """RR intervals in seconds."""
        return tuple(rr / RR_UNITS_PER_S for rr in self.rr_intervals)


def decode(data: bytes | bytearray | memoryview) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement notification.

    Raises
    ------
    CodecError
        Fields the flags announce are missing, RR data is not whole u16 values, RR announced
        but absent, or bytes left over without RR announced.
    """
    data = bytes(data)
    if not data:
        raise CodecError(PROTOCOL, "empty heart rate measurement")
    flags = data[0]
    hr_size = 2 if flags & _HR_UINT16 else 1
    need = 1 + hr_size + (2 if flags & _ENERGY_PRESENT else 0)
    if len(data) < need:
        raise CodecError(PROTOCOL, f"measurement of {len(data)} bytes, its flags need {need}")
    bpm = int.from_bytes(data[1 : 1 + hr_size], "little")
    offset = 1 + hr_size
    energy = None
    if flags & _ENERGY_PRESENT:
        energy = int.from_bytes(data[offset : offset + 2], "little")
        offset += 2
    rest = data[offset:]
    if flags & _RR_PRESENT:
        if not rest or len(rest) % 2:
            raise CodecError(PROTOCOL, f"RR intervals announced but {len(rest)} bytes follow")
        rr = tuple(int.from_bytes(rest[i : i + 2], "little") for i in range(0, len(rest), 2))
    elif rest:
        raise CodecError(PROTOCOL, f"{len(rest)} bytes follow that no flag announces")
    else:
        rr = ()
    contact = bool(flags & _CONTACT_DETECTED) if flags & _CONTACT_SUPPORTED else None
    return HeartRateMeasurement(bpm, contact, energy, rr)


def encode(measurement: HeartRateMeasurement) -> bytes:
    """Build a Heart Rate Measurement notification (device side)."""
    m = measurement
    if not 0 <= m.bpm <= 0xFFFF:
        raise ValueError(f"heart rate {m.bpm} bpm does not fit 16 bits")
    flags = 0
    body = bytearray()
    if m.bpm > 0xFF:
        flags |= _HR_UINT16
        body += m.bpm.to_bytes(2, "little")
    else:
        body.append(m.bpm)
    if m.sensor_contact is not None:
        flags |= _CONTACT_SUPPORTED | (_CONTACT_DETECTED if m.sensor_contact else 0)
    if m.energy_expended_kj is not None:
        flags |= _ENERGY_PRESENT
        body += int(m.energy_expended_kj).to_bytes(2, "little")
    if m.rr_intervals:
        flags |= _RR_PRESENT
        for rr in m.rr_intervals:
            body += int(rr).to_bytes(2, "little")
    return bytes((flags,)) + bytes(body)
