"""Device-file readers (recordings.devices) on the real files in shared/data/devices.

Two references: the decoded values stored next to each file (made by scikit-digital-health and
pygt3x; compared as shared/data/devices/README.md says: time relative to the first sample and
acceleration with ``np.allclose(actual, expected, atol=5e-5)``), and slow, obvious decoders
written here from the format documents, sample by sample with Python integers.
"""

from __future__ import annotations

import datetime as dt
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.recordings.devices import HEAD_BYTES, READERS, sniff_device
from hypnic.recordings.devices._stream import placement_from_text
from hypnic.recordings.devices.actigraph import decode_parameter_float, open_gt3x
from hypnic.recordings.devices.axivity import _epoch_seconds, open_cwa
from hypnic.recordings.devices.geneactiv import open_bin
from hypnic.recordings.errors import InputError
from tests.shared import DEVICES

DATA = DEVICES
OPENERS = {name: opener for name, _, opener in READERS}
# file, reader name, expected values
FILES = [
    ("ax3_sample.cwa", "cwa", "ax3_data.npz"),
    ("ax6_sample.cwa", "cwa", "ax6_data.npz"),
    ("gnactv_sample.bin", "geneactiv", "gnactv_data.npz"),
    ("actigraph_wristpy.gt3x", "gt3x", "actigraph_wristpy_data.npz"),
]


def read_all(stream) -> tuple[np.ndarray, np.ndarray, list[int]]:
    chunks = list(stream)
    t = np.concatenate([c.t for c in chunks])
    xyz = np.concatenate([c.xyz for c in chunks])
    return t, xyz, [len(c) for c in chunks]


def expected(npz: str) -> tuple[np.ndarray, np.ndarray]:
    ref = np.load(DATA / npz)
    return ref["time"] - ref["time"][0], ref["accel"]


# --- the README comparison -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reader", "npz"), FILES)
def test_every_file_matches_its_reference_values(name: str, reader: str, npz: str) -> None:
    t, xyz, _ = read_all(OPENERS[reader](DATA / name))
    t_ref, xyz_ref = expected(npz)
    assert t.shape == t_ref.shape
    assert np.allclose(t, t_ref, atol=5e-5)
    assert np.allclose(xyz, xyz_ref, atol=5e-5)
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)


@pytest.mark.parametrize(("name", "reader", "npz"), FILES)
def test_chunks_are_bounded_and_chunking_does_not_change_samples(
    name: str, reader: str, npz: str
) -> None:
    t_one, xyz_one, _ = read_all(OPENERS[reader](DATA / name))
    t_many, xyz_many, sizes = read_all(OPENERS[reader](DATA / name, chunk_samples=250))
    assert np.array_equal(t_one, t_many) and np.array_equal(xyz_one, xyz_many)
    # Whole blocks / pages, so a chunk may pass the size by one block (120) or page (300).
    if reader != "gt3x":  # gt3x reads in byte buffers of at least 64 KiB (the whole file here)
        assert len(sizes) > 1 and max(sizes) < 250 + 300


def test_metadata_from_the_files() -> None:
    ax3 = open_cwa(DATA / "ax3_sample.cwa").info
    assert (ax3.fs, ax3.meta["device"], ax3.meta["serial"], ax3.meta["range_g"]) == (
        200.0,
        "Axivity AX3",
        "51888",
        8,
    )
    assert ax3.start_utc == "2020-02-12T09:03:37.480000+00:00" and ax3.utc_offset_s == 0.0
    assert "treated as UTC" in ax3.meta["clock"] and ax3.placement == "unknown"
    assert 0 < ax3.meta["temperature_c_start"] < 45
    ax6 = open_cwa(DATA / "ax6_sample.cwa").info
    assert (ax6.fs, ax6.meta["device"], ax6.meta["range_g"]) == (100.0, "Axivity AX6", 16)
    gene = open_bin(DATA / "gnactv_sample.bin").info
    assert (gene.fs, gene.meta["serial"], gene.meta["range_g"], gene.utc_offset_s) == (
        50.0,
        "051386",
        8.0,
        -4 * 3600.0,
    )
    assert gene.start_utc == "2019-05-21T20:16:43.500000+00:00"  # 16:16:43.5 at GMT -04:00
    assert gene.meta["temperature_c_start"] == 28.2
    acti = open_gt3x(DATA / "actigraph_wristpy.gt3x").info
    assert (acti.fs, acti.meta["serial"], acti.meta["acceleration_scale"], acti.utc_offset_s) == (
        60.0,
        "MOS2E17210537",
        256.0,
        -5 * 3600.0,
    )
    assert acti.start_utc == "2024-04-30T19:53:00.000000+00:00"
    assert acti.meta["acceleration_scale_source"] == "PARAMETERS record"


def test_start_option_overrides_the_device_clock() -> None:
    info = open_cwa(DATA / "ax3_sample.cwa", start="2024-03-01T22:30:00+01:00").info
    assert info.start_utc == "2024-03-01T21:30:00+00:00" and info.utc_offset_s == 3600.0
    assert info.meta["device_start_utc"] == "2020-02-12T09:03:37.480000+00:00"
    with pytest.raises(InputError) as err:
        open_bin(DATA / "gnactv_sample.bin", start="yesterday")
    assert err.value.source == "--start"


# --- slow, obvious decoders from the format documents ----------------------------------------


def cwa_reference(path: Path) -> np.ndarray:
    """Accelerometer samples of every block whose checksum is good (cwa.h, Python ints)."""
    raw = path.read_bytes()
    out = []
    for at in range(1024, len(raw) - 511, 512):
        block = raw[at : at + 512]
        if block[:2] != b"AX" or sum(struct.unpack("<256H", block)) % 65536:
            continue
        light, count, axes_packing = (
            struct.unpack_from("<H", block, 18)[0],
            *struct.unpack_from("<H", block, 28),
            block[25],
        )
        unit = 2 ** (8 + (light >> 13))
        axes = axes_packing >> 4
        for i in range(count):
            if axes_packing & 0x0F == 0:
                value = struct.unpack_from("<I", block, 30 + 4 * i)[0]
                e = value >> 30
                xyz = []
                for shift in (0, 10, 20):
                    v = (value >> shift) & 0x3FF
                    xyz.append((v - 1024 if v >= 512 else v) * 2**e)
            else:
                sample = struct.unpack_from(f"<{axes}h", block, 30 + 2 * axes * i)
                xyz = list(sample[0:3] if axes == 3 else sample[3:6])
            out.append([v / unit for v in xyz])
    return np.array(out)


def geneactiv_reference(path: Path) -> np.ndarray:
    """(raw * 100 - offset) / gain of the 12-bit x, y, z of every sample (GENEActiv manual)."""
    lines = path.read_text(encoding="latin-1").splitlines()
    cal = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in ("x gain", "x offset", "y gain", "y offset", "z gain", "z offset"):
            cal[key] = int(value)
    out = []
    for i, line in enumerate(lines):
        if line.strip() != "Recorded Data":
            continue
        data = lines[i + 9].strip()
        for s in range(0, len(data), 12):
            row = []
            for k, axis in enumerate("xyz"):
                v = int(data[s + 3 * k : s + 3 * k + 3], 16)
                v = v - 4096 if v >= 2048 else v
                row.append((v * 100 - cal[f"{axis} offset"]) / cal[f"{axis} gain"])
            out.append(row)
    return np.array(out)


def gt3x_reference(path: Path) -> np.ndarray:
    """ACTIVITY records: 12-bit big-endian values in YXZ order, read as a bit string."""
    with zipfile.ZipFile(path) as zf:
        log = zf.read("log.bin")
    out = []
    at = 0
    while at < len(log):
        kind, size = log[at + 1], struct.unpack_from("<H", log, at + 6)[0]
        payload = log[at + 8 : at + 8 + size]
        if kind == 0 and size > 1:
            bits = "".join(f"{b:08b}" for b in payload)
            for s in range(size * 8 // 36):
                y, x, z = (int(bits[36 * s + 12 * k : 36 * s + 12 * k + 12], 2) for k in range(3))
                out.append([(v - 4096 if v >= 2048 else v) / 256 for v in (x, y, z)])
        at += 9 + size
    return np.array(out)


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("ax3_sample.cwa", cwa_reference),
        ("ax6_sample.cwa", cwa_reference),
        ("ax3_damaged.cwa", cwa_reference),
        ("gnactv_sample.bin", geneactiv_reference),
        ("actigraph_wristpy.gt3x", gt3x_reference),
    ],
)
def test_values_equal_a_sample_by_sample_decoder(name: str, reference) -> None:
    reader = sniff_device((DATA / name).read_bytes()[:HEAD_BYTES], DATA / name)
    _, xyz, _ = read_all(OPENERS[reader](DATA / name))
    ref = reference(DATA / name)
    assert xyz.shape == ref.shape
    assert np.allclose(xyz, ref, rtol=0, atol=1e-6)


def test_parameter_floats_decode_as_documented() -> None:
    # Examples in ActiGraph's LogRecords/Parameters.md.
    assert decode_parameter_float(0x09400000) == 256.0  # ACCEL_SCALE
    assert decode_parameter_float(0x0C400000) == 2048.0  # IMU_ACCEL_SCALE
    assert decode_parameter_float(0x03419581) == pytest.approx(4.1, abs=2e-3)  # BATTERY_VOLTAGE
    assert decode_parameter_float(0x05418937) == pytest.approx(16.384, abs=1e-3)  # IMU_GYRO_SCALE
    assert decode_parameter_float(0) == 0.0


# --- the damaged .cwa --------------------------------------------------------------------------


def test_damaged_cwa_returns_good_samples_unchanged_and_damage_as_gaps() -> None:
    stream = open_cwa(DATA / "ax3_damaged.cwa")
    t, xyz, _ = read_all(stream)
    t_ref, xyz_ref = expected("ax3_data.npz")
    damaged = np.zeros(len(t_ref), dtype=bool)
    damaged[1200:1440] = True
    damaged[24000:24120] = True
    assert np.allclose(t, t_ref[~damaged], atol=5e-5)
    assert np.allclose(xyz, xyz_ref[~damaged], atol=5e-5)
    # No sample inside a damaged span, and each span is a gap from the first missing sample
    # to the next good one.
    for first, stop in ((1200, 1440), (24000, 24120)):
        assert not np.any((t >= t_ref[first] - 1e-4) & (t < t_ref[stop] - 1e-4))
    assert len(stream.gaps) == 2
    for (g0, g1), (first, stop) in zip(stream.gaps, ((1200, 1440), (24000, 24120)), strict=True):
        assert g0 == pytest.approx(t_ref[first], abs=5e-5)
        assert g1 == pytest.approx(t_ref[stop], abs=5e-5)
    assert stream.info.meta["blocks_damaged"] == 3


# --- recognised by content -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reader", "npz"), FILES)
@pytest.mark.parametrize("suffix", [".txt", ".csv", ".cwa", ""])
def test_recognised_by_content_whatever_the_name(
    tmp_path: Path, name: str, reader: str, npz: str, suffix: str
) -> None:
    renamed = tmp_path / f"recording{suffix}"
    shutil.copy(DATA / name, renamed)
    assert sniff_device(renamed.read_bytes()[:HEAD_BYTES], renamed) == reader
    t, _, _ = read_all(OPENERS[reader](renamed))
    assert len(t) == len(expected(npz)[0])


@pytest.mark.parametrize("suffix", [".cwa", ".bin", ".gt3x", ".edf"])
def test_text_with_a_device_extension_is_not_recognised(tmp_path: Path, suffix: str) -> None:
    fake = tmp_path / f"notes{suffix}"
    fake.write_text("t,x,y,z\n0,0,0,1\nMD this is not a header\n" * 20)
    assert sniff_device(fake.read_bytes()[:HEAD_BYTES], fake) is None
    for _, _, opener in READERS:
        with pytest.raises(InputError) as err:
            opener(fake)
        assert str(fake) in str(err.value) and "\n" not in str(err.value)


def test_readers_refuse_a_folder_and_a_missing_file(tmp_path: Path) -> None:
    for _, _, opener in READERS:
        for bad in (tmp_path, tmp_path / "missing.cwa"):
            with pytest.raises(InputError):
                opener(bad)


# --- small pieces against the obvious ------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2063, 12, 31, 23, 59, 59))
)
def test_cwa_packed_timestamps_against_datetime(when: dt.datetime) -> None:
    packed = (
        (when.year - 2000) << 26
        | when.month << 22
        | when.day << 17
        | when.hour << 12
        | when.minute << 6
        | when.second
    )
    seconds, ok = _epoch_seconds(np.array([packed], dtype=np.uint32))
    assert ok[0]
    assert seconds[0] == (when.replace(microsecond=0) - dt.datetime(1970, 1, 1)).total_seconds()


def test_cwa_packed_timestamps_reject_impossible_dates() -> None:
    def pack(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> int:
        return (y - 2000) << 26 | mo << 22 | d << 17 | h << 12 | mi << 6 | s

    bad = [
        0,
        pack(2021, 2, 29),
        pack(2020, 13, 1),
        pack(2020, 4, 31),
        pack(2020, 1, 1, 24),
        pack(2020, 1, 1, 0, 0, 60),
    ]
    _, ok = _epoch_seconds(np.array(bad, dtype=np.uint32))
    assert not ok.any()
    assert _epoch_seconds(np.array([pack(2020, 2, 29)], dtype=np.uint32))[1][0]


@pytest.mark.parametrize(
    ("text", "placement"),
    [
        ("left wrist", "wrist"),
        ("Left Ankle", "left_ankle"),
        ("R ankle", "right_ankle"),
        ("ankle", "ankle"),
        ("back", "unknown"),
        ("", "unknown"),
    ],
)
def test_placement_from_the_file_text(text: str, placement: str) -> None:
    assert placement_from_text(text) == placement
