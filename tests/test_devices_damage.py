"""Damaged, cut-short and wrong device files: good data and gaps, or one InputError line.

Never another exception, never a hang. Built from the real files in shared/data/devices by
cutting, flipping bytes and editing fields the format documents describe.
"""

from __future__ import annotations

import io
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypnic.recordings.devices import HEAD_BYTES, READERS, sniff_device
from hypnic.recordings.devices.actigraph import open_gt3x
from hypnic.recordings.devices.axivity import open_cwa
from hypnic.recordings.devices.geneactiv import open_bin
from hypnic.recordings.errors import InputError
from tests.test_devices import DATA, expected, read_all

OPENERS = {name: opener for name, _, opener in READERS}
SOURCES = {
    "ax3_sample.cwa": "cwa",
    "ax6_sample.cwa": "cwa",
    "gnactv_sample.bin": "geneactiv",
    "actigraph_wristpy.gt3x": "gt3x",
}
ORIGINAL = {name: (DATA / name).read_bytes() for name in SOURCES}
CWA_XYZ = {name: read_all(open_cwa(DATA / name))[1] for name in SOURCES if name.endswith(".cwa")}


def outcome(path: Path, reader: str):
    """Read a whole file; return (t, xyz, gaps) or the InputError. Any other error fails."""
    try:
        stream = OPENERS[reader](path, chunk_samples=500)
        chunks = list(stream)
    except InputError as err:
        message = str(err)
        assert "\n" not in message and str(path) in message
        return err
    last = -np.inf
    for c in chunks:
        assert c.t.dtype == np.float64 and c.xyz.dtype == np.float32 and c.xyz.shape == (len(c), 3)
        assert c.t[0] > last and np.all(np.diff(c.t) > 0)
        assert np.isfinite(c.t).all() and np.isfinite(c.xyz).all()
        last = c.t[-1]
    for start, end in stream.gaps:
        assert 0 <= start < end
    t = np.concatenate([c.t for c in chunks])
    xyz = np.concatenate([c.xyz for c in chunks])
    return t, xyz, stream.gaps


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def minus_one_run(original: np.ndarray, got: np.ndarray) -> bool:
    """Whether ``got`` is ``original`` with one contiguous run of rows (maybe none) removed."""
    if len(got) > len(original):
        return False
    differ = np.flatnonzero(np.any(original[: len(got)] != got, axis=1))
    k = differ[0] if len(differ) else len(got)
    removed = len(original) - len(got)
    return np.array_equal(got[k:], original[k + removed :])


# --- cut short ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_cut_short_anywhere_gives_a_prefix_or_an_error(tmp_path: Path, name: str) -> None:
    data = ORIGINAL[name]
    _, xyz_full, _ = read_all(OPENERS[SOURCES[name]](DATA / name))
    cuts = sorted(
        {0, 1, 4, 30, 200, 512, 1023, 1024, 1100, 1536, 2000, 4000}
        | {len(data) * k // 7 for k in range(1, 7)}
        | {len(data) - 1}
    )
    for cut in cuts:
        if cut >= len(data):
            continue
        result = outcome(write(tmp_path, f"cut{cut}", data[:cut]), SOURCES[name])
        if isinstance(result, InputError):
            continue
        _, xyz, _ = result
        # What a cut file gives is the start of what the whole file gives.
        assert np.array_equal(xyz, xyz_full[: len(xyz)]), cut


# --- bytes changed -----------------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SOURCES)),
    where=st.floats(0, 1, exclude_max=True),
    value=st.integers(1, 255),
)
def test_one_changed_byte_gives_data_or_an_error(name: str, where: float, value: int) -> None:
    data = bytearray(ORIGINAL[name])
    at = int(where * len(data))
    data[at] ^= value  # always a different byte
    with tempfile.TemporaryDirectory() as folder:
        result = outcome(write(Path(folder), "changed", bytes(data)), SOURCES[name])
    if name.endswith(".cwa") and not isinstance(result, InputError):
        # Every data block is checksummed: one changed byte costs at most that block, and no
        # sample is ever made up.
        original = CWA_XYZ[name]
        assert minus_one_run(original, result[1])
        if at >= 1024:
            assert len(original) - len(result[1]) in (0, 120 if "ax3" in name else 40)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(sorted(SOURCES)),
    where=st.floats(0, 1, exclude_max=True),
    junk=st.binary(min_size=1, max_size=2000),
)
def test_overwritten_stretches_give_data_or_an_error(name: str, where: float, junk: bytes) -> None:
    data = bytearray(ORIGINAL[name])
    at = int(where * len(data))
    data[at : at + len(junk)] = junk
    with tempfile.TemporaryDirectory() as folder:
        outcome(write(Path(folder), "overwritten", bytes(data)), SOURCES[name])


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.sampled_from(
        [
            b"MD\xfc\x03",
            b"MD\xfc\x03\x00",
            b"Device Identity\r\nDevice Type:GENEActiv\r\n",
            b"PK\x03\x04",
            b"0       ",
        ]
    ),
    body=st.binary(min_size=0, max_size=3000),
)
def test_random_bytes_behind_a_magic_number(prefix: bytes, body: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "random.dat", prefix + body)
        reader = sniff_device((prefix + body)[:HEAD_BYTES], path)
        for name in [reader] if reader else list(OPENERS):
            outcome(path, name)


@settings(max_examples=200, deadline=None)
@given(
    head=st.binary(max_size=600),
    magic=st.sampled_from([b"", b"MD", b"PK\x03\x04", b"0       ", b"\xffBIOSEMI"]),
)
def test_sniffers_never_raise(head: bytes, magic: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder), "head.dat", magic + head)
        assert sniff_device(magic + head, path) in (None, *OPENERS)


# --- Axivity -----------------------------------------------------------------------------------


def cwa_blocks(data: bytes) -> list[bytearray]:
    return [bytearray(data[at : at + 512]) for at in range(1024, len(data), 512)]


def fix_checksum(block: bytearray) -> bytearray:
    """Set the last word so that the block's 16-bit word sum is zero (cwa.h)."""
    block[510:512] = b"\x00\x00"
    total = sum(struct.unpack("<256H", bytes(block))) % 65536
    block[510:512] = struct.pack("<H", (65536 - total) % 65536)
    return block


def test_cwa_of_another_data_format_is_refused(tmp_path: Path) -> None:
    data = ORIGINAL["ax3_sample.cwa"]
    blocks = cwa_blocks(data)
    for block in blocks:
        block[24] = 0x00  # rate code 0: the pre-2012 layout
        fix_checksum(block)
    path = write(tmp_path, "old.cwa", data[:1024] + b"".join(blocks))
    with pytest.raises(InputError, match="unsupported .cwa data format"):
        open_cwa(path)
    for block in blocks:
        block[24], block[25] = 0x4B, 0x51  # five axes: no such device
        fix_checksum(block)
    path = write(tmp_path, "odd.cwa", data[:1024] + b"".join(blocks))
    with pytest.raises(InputError, match="unsupported .cwa data format"):
        open_cwa(path)


def test_cwa_with_no_valid_block_is_refused(tmp_path: Path) -> None:
    data = bytearray(ORIGINAL["ax3_sample.cwa"])
    for at in range(1024 + 100, len(data), 512):
        data[at] ^= 0xFF
    with pytest.raises(InputError, match="no valid data blocks"):
        open_cwa(write(tmp_path, "all_bad.cwa", bytes(data)))
    with pytest.raises(InputError, match="cut short inside its header"):
        open_cwa(write(tmp_path, "header.cwa", ORIGINAL["ax3_sample.cwa"][:600]))


def test_cwa_missing_block_is_a_gap(tmp_path: Path) -> None:
    data = ORIGINAL["ax3_sample.cwa"]
    blocks = cwa_blocks(data)
    del blocks[50]
    stream = open_cwa(write(tmp_path, "missing.cwa", data[:1024] + b"".join(blocks)))
    t, xyz, _ = read_all(stream)
    t_ref, xyz_ref = expected("ax3_data.npz")
    keep = np.ones(len(t_ref), dtype=bool)
    keep[50 * 120 : 51 * 120] = False
    assert np.array_equal(xyz, xyz_ref[keep].astype(np.float32))
    assert len(stream.gaps) == 1
    g0, g1 = stream.gaps[0]
    assert g0 == pytest.approx(t_ref[6000], abs=0.011) and g1 == pytest.approx(
        t_ref[6120], abs=0.011
    )
    # Without a header to follow, the next block starts at its own whole-second estimate: its
    # times move by at most two sample periods at 200 Hz ... and no later block moves.
    assert np.allclose(t[6000:], t_ref[keep][6000:], atol=0.0101)
    assert np.allclose(t[6120:], t_ref[keep][6120:], atol=5e-5)


def test_cwa_block_whose_clock_goes_back_is_dropped(tmp_path: Path) -> None:
    data = ORIGINAL["ax3_sample.cwa"]
    blocks = cwa_blocks(data)
    stamp = struct.unpack_from("<I", blocks[100], 14)[0]
    struct.pack_into("<I", blocks[100], 14, stamp - (1 << 17))  # one day earlier
    fix_checksum(blocks[100])
    result = outcome(write(tmp_path, "back.cwa", data[:1024] + b"".join(blocks)), "cwa")
    assert not isinstance(result, InputError)
    stream = open_cwa(tmp_path / "back.cwa")
    read_all(stream)
    assert stream.info.meta["blocks_dropped_clock"] == 1 and len(stream.gaps) == 1


def test_cwa_time_zone_field_gives_the_utc_offset(tmp_path: Path) -> None:
    data = bytearray(ORIGINAL["ax3_sample.cwa"])
    data[42:44] = struct.pack("<h", 60)  # +01:00 in minutes
    info = open_cwa(write(tmp_path, "tz.cwa", bytes(data))).info
    assert info.utc_offset_s == 3600.0 and info.start_utc == "2020-02-12T08:03:37.480000+00:00"


def test_cwa_body_location_gives_the_placement(tmp_path: Path) -> None:
    data = bytearray(ORIGINAL["ax3_sample.cwa"])
    note = b"_p=Left%20Ankle&_sc=0001"
    data[64 : 64 + len(note)] = note
    info = open_cwa(write(tmp_path, "ankle.cwa", bytes(data))).info
    assert info.placement == "left_ankle" and info.meta["device_metadata"]["_sc"] == "0001"


# --- GENEActiv ---------------------------------------------------------------------------------


def test_geneactiv_damaged_page_is_a_gap(tmp_path: Path) -> None:
    text = ORIGINAL["gnactv_sample.bin"].decode("latin-1").split("\n")
    data_lines = [i for i, line in enumerate(text) if len(line.strip()) > 1000]
    line = text[data_lines[1]]
    text[data_lines[1]] = line[:100] + "ZZ" + line[102:]  # not hex: page 2 is unusable
    stream = open_bin(write(tmp_path, "page.bin", "\n".join(text).encode("latin-1")))
    t, xyz, _ = read_all(stream)
    t_ref, xyz_ref = expected("gnactv_data.npz")
    assert np.allclose(xyz, np.r_[xyz_ref[:300], xyz_ref[600:]], atol=5e-5)
    assert np.allclose(t, np.r_[t_ref[:300], t_ref[600:]], atol=5e-5)
    assert stream.gaps == [[pytest.approx(t_ref[299] + 0.02), pytest.approx(t_ref[600])]]
    assert stream.info.meta["pages_damaged"] == 1


def _page_times(shift: dict[int, str]) -> bytes:
    """The sample .bin with the Page Time lines of some pages (0-based) replaced."""
    lines = ORIGINAL["gnactv_sample.bin"].decode("latin-1").split("\n")
    at = [i for i, line in enumerate(lines) if line.startswith("Page Time:")]
    for page, value in shift.items():
        lines[at[page]] = f"Page Time:{value}\r"
    return "\n".join(lines).encode("latin-1")


def test_geneactiv_page_with_a_damaged_clock_is_dropped(tmp_path: Path) -> None:
    stream = open_bin(write(tmp_path, "clock.bin", _page_times({1: "2029-05-21 16:16:50:000"})))
    t, xyz, _ = read_all(stream)
    t_ref, xyz_ref = expected("gnactv_data.npz")
    assert np.allclose(t, np.r_[t_ref[:300], t_ref[600:]], atol=5e-5)
    assert np.allclose(xyz, np.r_[xyz_ref[:300], xyz_ref[600:]], atol=5e-5)
    assert len(stream.gaps) == 1 and stream.info.meta["pages_damaged_clock"] == 1


def test_geneactiv_clock_that_really_jumps_is_kept(tmp_path: Path) -> None:
    later = {1: "2019-05-21 17:16:50:000", 2: "2019-05-21 17:16:56:000"}  # an hour on
    stream = open_bin(write(tmp_path, "jump.bin", _page_times(later)))
    t, _, _ = read_all(stream)
    t_ref, _ = expected("gnactv_data.npz")
    assert np.allclose(t, np.r_[t_ref[:300], t_ref[300:] + 3600], atol=5e-5)
    assert stream.gaps == [] and "pages_damaged_clock" not in stream.info.meta


def test_geneactiv_header_without_calibration_or_pages_is_refused(tmp_path: Path) -> None:
    text = ORIGINAL["gnactv_sample.bin"].decode("latin-1")
    with pytest.raises(InputError, match="calibration for the y axis"):
        open_bin(
            write(tmp_path, "nocal.bin", text.replace("y gain:", "y gainz:").encode("latin-1"))
        )
    header = text[: text.index("Recorded Data")]
    with pytest.raises(InputError, match="no data pages"):
        open_bin(write(tmp_path, "header.bin", header.encode("latin-1")))


# --- ActiGraph ---------------------------------------------------------------------------------


def rezip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def gt3x_members() -> dict[str, bytes]:
    with zipfile.ZipFile(DATA / "actigraph_wristpy.gt3x") as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def activity_offsets(log: bytes) -> list[int]:
    at, found = 0, []
    while at < len(log):
        kind, size = log[at + 1], struct.unpack_from("<H", log, at + 6)[0]
        if kind == 0 and size > 1:
            found.append(at)
        at += 9 + size
    return found


def test_gt3x_damaged_record_is_a_one_second_gap(tmp_path: Path) -> None:
    members = gt3x_members()
    log = bytearray(members["log.bin"])
    log[activity_offsets(bytes(log))[10] + 50] ^= 0x5A  # payload byte of the 11th second
    members["log.bin"] = bytes(log)
    stream = open_gt3x(write(tmp_path, "record.gt3x", rezip(members)))
    t, xyz, _ = read_all(stream)
    t_ref, xyz_ref = expected("actigraph_wristpy_data.npz")
    keep = np.ones(len(t_ref), dtype=bool)
    keep[600:660] = False
    assert np.allclose(t, t_ref[keep], atol=5e-5) and np.array_equal(
        xyz, xyz_ref[keep].astype(np.float32)
    )
    assert stream.gaps == [[pytest.approx(10.0), pytest.approx(11.0)]]


def test_gt3x_compressed_and_missing_seconds(tmp_path: Path) -> None:
    members = gt3x_members()
    log = members["log.bin"]
    offsets = activity_offsets(log)
    # Seconds 20-29 never recorded (as in idle sleep mode): t jumps, no gap is claimed.
    members["log.bin"] = log[: offsets[20]] + log[offsets[30] :]
    stream = open_gt3x(write(tmp_path, "idle.gt3x", rezip(members, zipfile.ZIP_DEFLATED)))
    t, xyz, _ = read_all(stream)
    t_ref, xyz_ref = expected("actigraph_wristpy_data.npz")
    keep = (t_ref < 20) | (t_ref >= 30)
    assert np.allclose(t, t_ref[keep], atol=5e-5) and np.array_equal(
        xyz, xyz_ref[keep].astype(np.float32)
    )
    assert stream.gaps == [] and stream.info.meta["seconds_without_records"] == 10


def test_gt3x_damaged_deflate_stream_keeps_what_came_before(tmp_path: Path) -> None:
    data = bytearray(rezip(gt3x_members(), zipfile.ZIP_DEFLATED))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("log.bin")
    start = info.header_offset + 30 + len(info.filename)
    data[start + info.compress_size // 2 : start + info.compress_size // 2 + 64] = b"\xff" * 64
    result = outcome(write(tmp_path, "deflate.gt3x", bytes(data)), "gt3x")
    if not isinstance(result, InputError):
        t, xyz, gaps = result
        _, xyz_ref = expected("actigraph_wristpy_data.npz")
        assert np.array_equal(xyz, xyz_ref[: len(xyz)].astype(np.float32))


def test_gt3x_nhanes_layout_decodes_the_documented_example(tmp_path: Path) -> None:
    # NHANES-GT3X-File-Format, activity.bin.md: "00 60 08 EB D0 07 00 9E BF 00 70 08 EB F0"
    # holds three samples (Y, X, Z) = (6, 8, -323), (7, 9, -321), (7, 8, -321) counts.
    info = (
        "Serial Number: NEO1C16110020\r\nFirmware: 2.2.0\r\nSample Rate: 30\r\n"
        "Start Date: 633423888000000000\r\nStop Date: 0\r\n"
    )
    activity = bytes.fromhex("006008EBD007009EBF007008EBF0")
    path = write(
        tmp_path, "nhanes.gt3x", rezip({"info.txt": info.encode(), "activity.bin": activity})
    )
    stream = open_gt3x(path)
    t, xyz, _ = read_all(stream)
    assert np.allclose(xyz * 341, [[8, 6, -323], [9, 7, -321], [8, 7, -321]], atol=1e-3)
    assert np.allclose(t, [0, 1 / 30, 2 / 30])
    assert stream.info.start_utc == "2008-03-29T12:00:00.000000+00:00"  # the doc's start


def test_gt3x_archive_zipfile_will_not_open_is_refused(tmp_path: Path) -> None:
    data = bytearray(ORIGINAL["actigraph_wristpy.gt3x"])
    central = data.rindex(b"PK\x01\x02")  # the last central directory entry
    data[central + 6] = 99  # "version needed to extract": 9.9, newer than zipfile reads
    path = write(tmp_path, "version.gt3x", bytes(data))
    assert sniff_device(bytes(data[:HEAD_BYTES]), path) == "gt3x"
    with pytest.raises(InputError, match="not a complete .gt3x"):
        open_gt3x(path)


def test_gt3x_archive_without_its_parts_is_refused(tmp_path: Path) -> None:
    members = gt3x_members()
    with pytest.raises(InputError, match="neither log.bin nor activity.bin"):
        open_gt3x(write(tmp_path, "nolog.gt3x", rezip({"info.txt": members["info.txt"]})))
    with pytest.raises(InputError, match="no info.txt"):
        open_gt3x(write(tmp_path, "noinfo.gt3x", rezip({"log.bin": members["log.bin"]})))
    info = members["info.txt"].replace(b"Sample Rate: 60", b"Sample Rate: fast")
    with pytest.raises(InputError, match="bad Sample Rate"):
        open_gt3x(write(tmp_path, "rate.gt3x", rezip({**members, "info.txt": info})))
    with pytest.raises(InputError, match="not a complete .gt3x"):
        open_gt3x(write(tmp_path, "cut.gt3x", ORIGINAL["actigraph_wristpy.gt3x"][:-30]))
