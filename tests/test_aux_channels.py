"""Auxiliary channels (skin temperature, light) from every reader, through the streaming path.

References: the temperature (and GENEActiv light) that scikit-digital-health stored beside the
shared device files (shared/data/devices/*.npz), hand decoding of the bytes from the format
documents, and synthetic files for the record types no shared file holds (ActiGraph SENSOR_DATA,
TEMPERATURE and LUX records, EDF temperature signals, CSV, recording folders).

Tolerances. scikit-digital-health stores one temperature per Axivity block (GENEActiv page),
repeated for every sample of it; ours is one value per block (page) at its first sample, so the
two are compared at our times, matched to the reference's sample within the README's 5e-5 s.
GENEActiv temperatures are the same decimal text, so equal exactly. Axivity temperatures are
the same raw readings in two conversions: skdh's ``(raw - 171) / 3.142`` against the device
maker's MCP9700 ``raw * 75 / 256 - 50`` used here; skdh's values are turned back into raw
readings (whole numbers to 1e-4) and ours must be exactly those readings converted (1e-9: float
rounding). GENEActiv light: skdh floors each sample's lux; our per-sample lux floored must equal
it exactly, and our page value is the mean of the unfloored lux.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.recordings.csv_input import open_csv
from hypnic.recordings.devices.actigraph import open_gt3x
from hypnic.recordings.devices.axivity import open_cwa
from hypnic.recordings.devices.edf_input import aux_kind, open_edf
from hypnic.recordings.devices.geneactiv import light_lux, open_bin
from hypnic.recordings.errors import InputError
from hypnic.recordings.feed import frames
from hypnic.recordings.recording import AUX_FILE, META_FILE, RecordingWriter, open_recording, repair
from hypnic.recordings.samples import SampleStream, StreamInfo
from tests.shared import DEVICES

DATA = DEVICES


def aux_of(stream) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every chunk's auxiliary readings joined per channel; checks they only increase and
    that a chunk never carries one after the next chunk's first sample."""
    parts: dict[str, list] = {}
    chunks = list(stream)
    for k, chunk in enumerate(chunks):
        assert set(chunk.aux) <= set(stream.aux_channels)
        for name, (ta, va) in chunk.aux.items():
            assert ta.dtype == np.float64 and va.dtype == np.float64 and ta.shape == va.shape
            if k + 1 < len(chunks) and len(chunks[k + 1]):
                assert ta[-1] < chunks[k + 1].t[0] + 1e-9
            parts.setdefault(name, []).append((ta, va))
    out = {
        name: (np.concatenate([a for a, _ in p]), np.concatenate([v for _, v in p]))
        for name, p in parts.items()
    }
    for ta, _ in out.values():
        assert (np.diff(ta) > 0).all()
    return out


def nearest(times: np.ndarray, at: np.ndarray) -> np.ndarray:
    i = np.clip(np.searchsorted(times, at), 1, len(times) - 1)
    return np.where(np.abs(times[i - 1] - at) <= np.abs(times[i] - at), i - 1, i)


# --- Axivity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "npz"), [("ax3_sample.cwa", "ax3_data.npz"), ("ax6_sample.cwa", "ax6_data.npz")]
)
def test_cwa_temperature_is_the_reference_reading_once_per_block(name: str, npz: str) -> None:
    stream = open_cwa(DATA / name)
    assert stream.aux_channels == ("temperature", "light")
    aux = aux_of(stream)
    ta, va = aux["temperature"]
    blocks = ((DATA / name).stat().st_size - 1024) // 512
    assert len(ta) == blocks and len(aux["light"][0]) == blocks
    ref = np.load(DATA / npz)
    t_ref = ref["time"] - ref["time"][0]
    i = nearest(t_ref, ta)
    assert np.allclose(t_ref[i], ta, atol=5e-5)
    raw = ref["temperature"][i] * 3.142 + 171  # skdh's conversion, undone
    assert np.allclose(raw, np.round(raw), atol=1e-4)
    assert np.allclose(va, np.round(raw) * 75 / 256 - 50, rtol=0, atol=1e-9)
    assert 20 < va.min() and va.max() < 35  # a device on a desk or a wrist
    # By hand: the first data block's fields at bytes 18 (light) and 20 (temperature), cwa.h.
    block = (DATA / name).read_bytes()[1024:1536]
    light_field, temperature_field = struct.unpack_from("<HH", block, 18)
    assert va[0] == (temperature_field & 0x3FF) * 75 / 256 - 50
    assert aux["light"][1][0] == light_field & 0x3FF
    assert stream.info.meta["light_unit"].startswith("raw")


def test_damaged_cwa_blocks_give_no_readings() -> None:
    good = aux_of(open_cwa(DATA / "ax3_sample.cwa"))["temperature"]
    stream = open_cwa(DATA / "ax3_damaged.cwa")
    ta, va = aux_of(stream)["temperature"]
    assert len(ta) == len(good[0]) - 3  # blocks 10, 11 and 200
    keep = np.ones(len(good[0]), dtype=bool)
    keep[[10, 11, 200]] = False
    assert np.array_equal(ta, good[0][keep]) and np.array_equal(va, good[1][keep])
    for start, end in stream.gaps:
        assert not ((ta >= start) & (ta < end)).any()


# --- GENEActiv --------------------------------------------------------------------------------


def geneactiv_pages(path: Path) -> tuple[list[float], list[list[int]], float]:
    """Each page's Temperature field and its samples' 12-bit light words; Lux / Volts."""
    lines = path.read_text(encoding="latin-1").splitlines()
    fields = dict(line.split(":", 1) for line in lines if ":" in line and len(line) < 80)
    temperatures, light = [], []
    for i, line in enumerate(lines):
        if line.strip() == "Recorded Data":
            temperatures.append(float(lines[i + 5].split(":")[1]))
            data = lines[i + 9].strip()
            light.append([int(data[s + 9 : s + 12], 16) for s in range(0, len(data), 12)])
    return temperatures, light, int(fields["Lux"]) / int(fields["Volts"])


def test_geneactiv_temperature_and_light_equal_the_reference() -> None:
    path = DATA / "gnactv_sample.bin"
    stream = open_bin(path)
    assert stream.aux_channels == ("temperature", "light")
    assert stream.info.meta["light_unit"] == "lux"
    aux = aux_of(stream)
    ref = np.load(DATA / "gnactv_data.npz")
    t_ref = ref["time"] - ref["time"][0]
    ta, va = aux["temperature"]
    i = nearest(t_ref, ta)
    assert i.tolist() == [0, 300, 600]  # one reading per page, at its first sample
    assert np.allclose(t_ref[i], ta, atol=5e-5)
    assert np.array_equal(va, ref["temperature"][i])
    temperatures, words, lux_per_count = geneactiv_pages(path)
    assert va.tolist() == temperatures == [28.2, 28.1, 29.1]  # the Temperature lines by hand
    per_sample = [light_lux(np.asarray(w), lux_per_count) for w in words]
    assert np.array_equal(np.floor(np.concatenate(per_sample)), ref["light"])
    lt, lv = aux["light"]
    assert np.array_equal(lt, ta)
    assert np.allclose(lv, [p.mean() for p in per_sample], rtol=0, atol=1e-9)
    assert np.allclose(lv, [ref["light"][k : k + 300].mean() for k in (0, 300, 600)], atol=1.0)


def test_geneactiv_without_light_calibration_has_no_light(tmp_path: Path) -> None:
    data = (DATA / "gnactv_sample.bin").read_bytes().replace(b"Volts:42", b"Volts:")
    (tmp_path / "g.bin").write_bytes(data)
    stream = open_bin(tmp_path / "g.bin")
    assert stream.aux_channels == ("temperature",)
    assert set(aux_of(stream)) == {"temperature"}


# --- the same readings whatever the chunking --------------------------------------------------

READERS = [
    ("ax3_sample.cwa", open_cwa),
    ("ax6_sample.cwa", open_cwa),
    ("ax3_damaged.cwa", open_cwa),
    ("gnactv_sample.bin", open_bin),
    ("actigraph_wristpy.gt3x", open_gt3x),
]


@pytest.mark.parametrize(("name", "opener"), READERS)
@pytest.mark.parametrize("chunk", [1, 97, 250, 4096])
def test_any_chunking_gives_the_same_readings(name: str, opener, chunk: int) -> None:
    whole = aux_of(opener(DATA / name))
    cut = aux_of(opener(DATA / name, chunk_samples=chunk))
    assert whole.keys() == cut.keys() and whole
    for channel in whole:
        for a, b in zip(whole[channel], cut[channel], strict=True):
            assert np.array_equal(a, b, equal_nan=True)


@settings(max_examples=25)
@given(n=st.integers(1, 3000))
def test_frames_of_any_length_carry_the_same_readings(n: int) -> None:
    whole = aux_of(open_cwa(DATA / "ax6_sample.cwa"))
    framed = frames(open_cwa(DATA / "ax6_sample.cwa"), n)
    assert framed.aux_channels == ("temperature", "light")
    chunks = list(framed)
    got = aux_of(_Replay(framed, chunks))
    for channel in whole:
        assert np.array_equal(whole[channel][0], got[channel][0])
        assert np.array_equal(whole[channel][1], got[channel][1], equal_nan=True)
    # each reading travels in the first frame whose last sample is at or after it
    for k, chunk in enumerate(chunks[:-1]):
        for ta, _ in chunk.aux.values():
            assert ta[-1] <= chunk.t[-1] and (k == 0 or ta[0] > chunks[k - 1].t[-1])


class _Replay(SampleStream):
    """Chunks already read, with a stream's channels (for aux_of)."""

    def __init__(self, stream, chunks) -> None:
        super().__init__(stream.info, iter(chunks))
        self.aux_channels = stream.aux_channels


@settings(max_examples=40)
@given(
    n=st.integers(1, 400),
    chunk=st.integers(1, 500),
    every=st.floats(0.05, 20.0),
    offset=st.floats(-5.0, 5.0),
)
def test_from_arrays_cuts_readings_at_chunk_boundaries(n, chunk, every, offset) -> None:
    t = np.arange(n) / 10.0
    ta = np.arange(offset, n / 10.0 + 5.0, every)
    va = np.sin(ta)
    info = StreamInfo(source="synthetic", fs=10.0)
    aux = {"temperature": (ta, va)}
    stream = SampleStream.from_arrays(t, np.zeros((n, 3)), info, chunk, aux=aux)
    got = {}
    for c in stream:
        for name, (a, v) in c.aux.items():
            got.setdefault(name, []).append((a, v))
    if len(ta):
        joined = np.concatenate([a for a, _ in got["temperature"]])
        assert np.array_equal(joined, ta)


# --- ActiGraph: SENSOR_DATA, TEMPERATURE and LUX records --------------------------------------


def record(kind: int, second: int, payload: bytes) -> bytes:
    head = struct.pack("<BBIH", 0x1E, kind, second, len(payload))
    checksum = 0
    for byte in head + payload:
        checksum ^= byte
    return head + payload + bytes([~checksum & 0xFF])


def ssp(value: float) -> int:
    """A PARAMETERS float (LogRecords/Parameters.md, SspCodec.Encode)."""
    significand, exponent = abs(value), 0
    while significand >= 1.0:
        significand, exponent = significand / 2, exponent + 1
    while significand < 0.5:
        significand, exponent = significand * 2, exponent - 1
    code = int(significand * 8388608.0)
    if value < 0:
        code = -code
    return (code & 0xFFFFFF) | ((exponent & 0xFF) << 24)


def wristpy_members() -> dict[str, bytes]:
    with zipfile.ZipFile(DATA / "actigraph_wristpy.gt3x") as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def walk(log: bytes):
    at = 0
    while at + 8 <= len(log):
        _, kind, second, size = struct.unpack_from("<BBIH", log, at)
        yield at, kind, second, log[at + 8 : at + 8 + size]
        at += 9 + size


def gt3x_with(tmp_path: Path, extra: dict[int, bytes], members: dict[str, bytes] | None = None,
              params: bytes = b"") -> Path:
    """The wristpy file with records added after the records of some seconds
    (``extra[k]``: bytes to insert after the k-th ACTIVITY record) and PARAMETERS entries."""
    members = {**wristpy_members(), **(members or {})}
    out, k = b"", 0
    for _, kind, second, payload in walk(members["log.bin"]):
        if kind == 0x15 and params:
            payload = payload + params
        out += record(kind, second, payload)
        if kind == 0 and len(payload) > 1:
            out += extra.get(k, b"")
            k += 1
    members["log.bin"] = out
    path = tmp_path / "aux.gt3x"
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def seconds() -> list[int]:
    return [s for _, k, s, p in walk(wristpy_members()["log.bin"]) if k == 0 and len(p) > 1]


def test_gt3x_imu_temperature_from_sensor_data(tmp_path: Path) -> None:
    secs = seconds()
    scale = 333.87
    columns = [  # flags (bit 1 signed), bit offset, bit size, scale, label
        (2, 0, 16, 16.4, "Gyroscope X"),
        (3, 16, 16, scale, "Temperature"),  # big-endian, signed
    ]
    schema = struct.pack("<hhh", 7, len(columns), 100) + b"".join(
        struct.pack("<BBBI", f, o, s, ssp(sc)) + label.encode().ljust(16)
        for f, o, s, sc, label in columns
    )
    rng = np.random.default_rng(3)
    raw = rng.integers(-3000, 3000, size=(len(secs), 100))
    extra = {0: record(0x18, secs[0], schema)}
    for k, second in enumerate(secs):
        rows = b"".join(struct.pack("<h", 5) + struct.pack(">h", int(v)) for v in raw[k])
        extra[k] = extra.get(k, b"") + record(0x19, second, struct.pack("<h", 7) + rows)
    path = gt3x_with(tmp_path, extra, params=struct.pack("<HHI", 0, 58, ssp(25.0)))
    stream = open_gt3x(path)
    assert stream.aux_channels == ("temperature", "light")
    ta, va = aux_of(stream)["temperature"]
    assert np.array_equal(ta, np.asarray(secs, dtype=float) - secs[0])
    decoded_scale = round(((ssp(scale) & 0xFFFFFF) / 8388608.0) * 2.0 ** (ssp(scale) >> 24), 6)
    assert np.allclose(va, (raw / decoded_scale).mean(axis=1) + 25.0, rtol=0, atol=1e-9)


def test_gt3x_temperature_records_through_their_calibration(tmp_path: Path) -> None:
    secs = seconds()
    calibration = {"calibrationMethod": 1, "isCalibrated": False, "mcuTempLow": 970,
                   "mcuTempHigh": 1075, "adxlTempLow": 68, "adxlTempHigh": 536,
                   "tempLow": 10, "tempHigh": 40}  # fmt: skip
    extra = {}
    for k in range(0, len(secs), 4):  # one reading every 4 s, as the Insight Watch writes them
        payload = struct.pack("<BHBh", 0, 1034 + k, 1, 200 + 3 * k)
        extra[k] = record(0x1E, secs[k], payload)
    members = {"temperature_calibration.json": json.dumps(calibration).encode()}
    path = gt3x_with(tmp_path, extra, members)
    ta, va = aux_of(open_gt3x(path))["temperature"]
    k = np.arange(0, len(secs), 4)
    assert np.array_equal(ta, np.asarray(secs, float)[k] - secs[0])
    # the accelerometer chip's sensor, linear between the two chamber temperatures
    assert np.allclose(va, 10 + (200 + 3 * k - 68) * 30 / (536 - 68), rtol=0, atol=1e-12)


def test_gt3x_lux_records(tmp_path: Path) -> None:
    stream = open_gt3x(DATA / "actigraph_wristpy.gt3x")
    assert stream.aux_channels == ("light",) and stream.info.meta["light_unit"] == "lux"
    lt, lv = aux_of(stream)["light"]
    assert lt.tolist() == [73.0, 74.0] and lv.tolist() == [0.0, 0.0]  # counts below 20 read 0
    secs = seconds()
    extra = {10: record(0x05, secs[10], struct.pack("<H", 1000)),
             11: record(0x05, secs[11], struct.pack("<H", 3000))}  # fmt: skip
    lt, lv = aux_of(open_gt3x(gt3x_with(tmp_path, extra)))["light"]
    assert lv.tolist() == [2050.0, 5000.0, 0.0, 0.0]  # MOS2: 2.05 lux a count, 5000 at most


def test_gt3x_without_auxiliary_records_has_no_channels() -> None:
    stream = open_gt3x(DATA / "actigraph_link_idlesleep.gt3x", chunk_samples=100_000)
    assert stream.aux_channels == ()
    assert all(not c.aux for c in stream)


# --- EDF / BDF --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "unit", "kind"),
    [
        ("Skin Temp", "degC", "temperature"),
        ("Temperature", "", "temperature"),
        ("T wrist", "°C", "temperature"),
        ("Body temperature", "K", "temperature"),
        ("Temp", "degF", "temperature"),
        ("Light", "lux", "light"),
        ("Ambient", "lx", "light"),
        ("light", "a.u.", "light"),
        ("EEG Temporal", "uV", None),
        ("Accel X", "g", None),
        ("Kelvin", "K", None),
        ("Light X", "g", None),
    ],
)
def test_edf_signals_taken_as_auxiliary(label: str, unit: str, kind) -> None:
    found = aux_kind(label, unit)
    assert (found[0] if found else None) == kind


def test_edf_temperature_and_light_at_their_own_rate(tmp_path: Path) -> None:
    import edfio

    n, fs = 50 * 60, 50.0
    rng = np.random.default_rng(1)
    xyz = np.c_[np.zeros(n), np.zeros(n), np.ones(n)] + 0.01 * rng.standard_normal((n, 3))
    temp = 30 + np.linspace(0, 2, 60)
    light = np.linspace(0, 500, 60)
    eeg = np.sin(np.arange(n) / 9)
    signals = [edfio.EdfSignal(eeg, fs, label="EEG Temporal", physical_dimension="uV")]
    signals += [edfio.EdfSignal(xyz[:, k], fs, label=f"Accel {a}", physical_dimension="g",
                                physical_range=(-8, 8)) for k, a in enumerate("XYZ")]  # fmt: skip
    signals += [
        edfio.EdfSignal(temp * 9 / 5 + 32, 1.0, label="Skin temp", physical_dimension="degF",
                        physical_range=(32, 212)),
        edfio.EdfSignal(light, 1.0, label="Light", physical_dimension="lux",
                        physical_range=(0, 1000)),
    ]  # fmt: skip
    path = tmp_path / "aux.edf"
    edfio.Edf(signals).write(path)
    for chunk in (50, 512, 1 << 20):
        stream = open_edf(path, chunk_samples=chunk)
        assert stream.aux_channels == ("light", "temperature")
        assert stream.info.meta["light_unit"] == "lux"
        aux = aux_of(stream)
        assert np.array_equal(aux["temperature"][0], np.arange(60.0))
        assert np.allclose(aux["temperature"][1], temp, atol=180 / 65535)
        assert np.allclose(aux["light"][1], light, atol=1000 / 65535)


# --- CSV --------------------------------------------------------------------------------------


def test_csv_with_and_without_a_temperature_column(tmp_path: Path) -> None:
    rows = ["t,x,y,z,Temperature,note"]
    for i in range(25):
        temp = f"{30 + i / 10:.1f}" if i % 5 == 0 else ("NaN" if i == 7 else "")
        rows.append(f"{100 + i / 10:.1f},0,0,1,{temp},n{i}")
    path = tmp_path / "with.csv"
    path.write_text("\n".join(rows) + "\n")
    for chunk in (1, 3, 7, 1000):
        stream = open_csv(path, chunk_rows=chunk)
        assert stream.aux_channels == ("temperature",)
        ta, va = aux_of(stream)["temperature"]
        assert np.allclose(ta, [0, 0.5, 1.0, 1.5, 2.0])
        assert np.allclose(va, [30, 30.5, 31, 31.5, 32])
    without = tmp_path / "without.csv"
    without.write_text("t,x,y,z,skin\n0,0,0,1,30\n0.1,0,0,1,31\n")
    stream = open_csv(without)
    assert stream.aux_channels == () and all(not c.aux for c in stream)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("0,0,0,1,30\n0.1,0,0,1,warm\n", "line 3, column temperature: 'warm' is not a number"),
        ("0,0,0,1,30\n0.1,0,0,1, \n", "line 3, column temperature: blank value"),
        ("0,0,0,1,30\n0.1,0,,1,31\n", "line 3, column y: empty value"),
        ("0,0,0,1,30\n,0,0,1,31\n", "line 3, column t: empty value"),
    ],
)
def test_csv_bad_temperature_and_empty_samples_are_one_line_errors(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("t,x,y,z,temperature\n" + body)
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        list(open_csv(path))


def test_csv_with_two_temperature_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text("t,x,y,z,temperature,Temperature\n0,0,0,1,30,31\n0.1,0,0,1,30,31\n")
    with pytest.raises(InputError, match="column temperature appears twice"):
        open_csv(path)


# --- recording folders ------------------------------------------------------------------------


def feed(fs: float = 25.0, seconds_: int = 120, seed: int = 0):
    """Sensor-clock samples with lost packets, and temperature readings every 2 s that arrive
    a little after the samples of their time, as a BLE sensor would send them."""
    rng = np.random.default_rng(seed)
    t = 1000.0 + np.arange(int(seconds_ * fs)) / fs
    t = np.delete(t, np.s_[300:340])  # lost packets: a gap
    xyz = np.c_[np.sin(t), np.cos(t), np.ones_like(t)] * 0.5
    ta = 1000.0 + np.arange(0, seconds_, 2.0) + 0.3
    va = 31 + 0.01 * np.arange(ta.size) + 0.001 * rng.standard_normal(ta.size)
    va[5] = np.nan  # a reading the sensor marked invalid
    return t, xyz, ta, va


def write_recording(path: Path, fs: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    t, xyz, ta, va = feed(fs)
    with RecordingWriter(path, fs=fs, range_g=8, start_utc="2025-11-25T23:00:00Z",
                         aux_channels=("temperature",)) as writer:  # fmt: skip
        j = 0
        for i in range(0, t.size, 50):
            writer.append(t[i : i + 50], xyz[i : i + 50])
            while j < ta.size and ta[j] <= t[min(i + 49, t.size - 1)]:
                writer.append_aux("temperature", ta[j : j + 1], va[j : j + 1])
                j += 1
        writer.append_aux("temperature", ta[j:], va[j:])
    return ta - t[0], va


def test_recording_keeps_aux_and_replays_it(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    ta, va = write_recording(rec)
    meta = json.loads((rec / META_FILE).read_text())
    assert meta["aux_channels"] == ["temperature"] and (rec / AUX_FILE).is_file()
    for chunk in (25, 100, 1 << 20):
        stream = open_recording(rec, chunk_samples=chunk)
        assert stream.aux_channels == ("temperature",)
        got_t, got_v = aux_of(stream)["temperature"]
        # the sensor clock runs at the nominal rate here, so grid time = sensor time - first
        assert np.allclose(got_t, ta, atol=1e-9) and np.array_equal(got_v, va, equal_nan=True)
    framed = frames(open_recording(rec), 25)
    got_t, got_v = aux_of(_Replay(framed, list(framed)))["temperature"]
    assert np.allclose(got_t, ta, atol=1e-9) and np.array_equal(got_v, va, equal_nan=True)


def test_recording_aux_follows_the_grid_when_the_sensor_clock_drifts(tmp_path: Path) -> None:
    fs, drift = 50.0, 1.001  # the sensor's clock runs 0.1 % slow against its own samples
    t = np.arange(50 * 600) / fs * drift
    with RecordingWriter(tmp_path / "rec", fs=fs, range_g=8, aux_channels=("temperature",)) as w:
        for i in range(0, t.size, 500):
            w.append(t[i : i + 500], np.zeros((t[i : i + 500].size, 3)))
            w.append_aux("temperature", [t[i + 499]], [30.0])  # a reading at the last sample
    got_t, _ = aux_of(open_recording(tmp_path / "rec"))["temperature"]
    assert np.allclose(got_t, np.arange(499, t.size, 500) / fs, atol=1e-9)


def test_readings_before_the_first_sample_wait_for_it(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "rec", fs=25, range_g=8, aux_channels=("light",)) as w:
        w.append_aux("light", [9.5], [120.0])
        assert (tmp_path / "rec" / AUX_FILE).read_bytes() == b""  # no time base yet
        w.append(10 + np.arange(50) / 25, np.zeros((50, 3)))
        w.append_aux("light", [10.5, 10.5, 10.25], [1.0, 2.0, 3.0])  # not later: dropped
    lt, lv = aux_of(open_recording(tmp_path / "rec"))["light"]
    assert np.allclose(lt, [-0.5, 0.5]) and lv.tolist() == [120.0, 1.0]
    assert json.loads((tmp_path / "rec" / META_FILE).read_text())["aux_dropped_samples"] == 2
    with RecordingWriter(tmp_path / "none", fs=25, range_g=8, aux_channels=("light",)) as w:
        w.append_aux("light", [1.0], [5.0])  # the writer stops before any sample: no time base
    assert (tmp_path / "none" / AUX_FILE).read_bytes() == b""


def test_recording_without_aux_has_no_aux_file_and_refuses_undeclared(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "rec", fs=25, range_g=8) as writer:
        writer.append(np.arange(50) / 25, np.zeros((50, 3)))
        with pytest.raises(ValueError, match="not declared"):
            writer.append_aux("temperature", [0.5], [30.0])
    assert not (tmp_path / "rec" / AUX_FILE).exists()
    assert open_recording(tmp_path / "rec").aux_channels == ()
    with pytest.raises(ValueError, match="auxiliary channels"):
        RecordingWriter(tmp_path / "rec2", fs=25, range_g=8, aux_channels=("humidity",))


def test_torn_aux_line_is_skipped_then_cut_and_meta_rebuilt(tmp_path: Path) -> None:
    rec = tmp_path / "rec"
    ta, va = write_recording(rec)
    with open(rec / AUX_FILE, "ab") as fh:
        fh.write(b'{"channel": "temperature", "t_s": [1e6], "val')
    (rec / META_FILE).unlink()
    stream = open_recording(rec)
    assert stream.aux_channels == ("temperature",)  # from aux.jsonl itself
    got_t, got_v = aux_of(stream)["temperature"]
    assert np.allclose(got_t, ta) and np.array_equal(got_v, va, equal_nan=True)
    fixes = repair(rec).fixes
    assert any("aux.jsonl" in f for f in fixes) and "rebuilt meta.json from signal.edf" in fixes
    assert json.loads((rec / META_FILE).read_text())["aux_channels"] == ["temperature"]
    assert repair(rec).fixes == []
    (rec / AUX_FILE).write_bytes(b"not json\n")
    with pytest.raises(InputError, match="line 1"):
        list(open_recording(rec))


@pytest.fixture(scope="module")
def aux_recording(tmp_path_factory) -> Path:
    rec = tmp_path_factory.mktemp("aux") / "rec"
    write_recording(rec)
    return rec


@settings(max_examples=60)
@given(
    lines=st.lists(
        st.one_of(
            st.binary(max_size=60),
            st.sampled_from([b"[]", b"1e999", b'{"channel": 1}', b'{"channel": "light"}']),
            st.builds(
                lambda c, t, v: json.dumps({"channel": c, "t_s": t, "values": v}).encode(),
                st.sampled_from(["temperature", "light", "x"]),
                st.lists(st.one_of(st.floats(allow_nan=True), st.integers(-10**30, 10**30),
                                   st.integers(-5, 200)), max_size=3),
                st.lists(st.one_of(st.none(), st.floats(), st.text(max_size=2)), max_size=3),
            ),
        ),
        max_size=5,
    ),
    torn=st.binary(max_size=20),
)
def test_any_aux_file_gives_readings_or_one_error(aux_recording: Path, lines, torn) -> None:
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "rec"
        shutil.copytree(aux_recording, rec)
        body = b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines)
        (rec / AUX_FILE).write_bytes(body + torn.replace(b"\n", b" "))
        try:
            aux = aux_of(open_recording(rec))
        except InputError as exc:
            assert "aux.jsonl" in str(exc) and "\n" not in str(exc)
        else:
            assert set(aux) <= {"temperature"}


def test_export_of_a_recording_with_temperature(tmp_path: Path) -> None:
    from hypnic.export import export_edf

    rec = tmp_path / "rec"
    ta, va = write_recording(rec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = export_edf(rec, tmp_path / "night.edf", events="live")
    assert result.temperature_readings == np.isfinite(va).sum()
    stream = open_edf(tmp_path / "night.edf")
    assert stream.aux_channels == ("temperature",)
    got_t, got_v = aux_of(stream)["temperature"]
    # one value a record (1 s at 25 Hz): the reading of that second, else the last one held
    assert np.array_equal(got_t, np.arange(got_t.size, dtype=float))
    assert np.isfinite(got_v).all()  # readings every 2 s: each record has one or holds one
    valid = np.isfinite(va)
    last = np.searchsorted(ta[valid], got_t + 1, side="left") - 1  # last reading by record end
    assert np.abs(got_v - va[valid][last]).max() <= 125 / 65535


# --- a writer killed while it writes aux ------------------------------------------------------


def child(rec: str, progress: str) -> None:
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT, 0o644)
    writer = RecordingWriter(rec, fs=50.0, range_g=8, aux_channels=("temperature", "light"),
                             light_unit="lux")  # fmt: skip
    print("ready", flush=True)
    for k in range(1_000_000):
        t = k + np.arange(50) / 50
        writer.append(t, np.zeros((50, 3)))
        writer.append_aux("temperature", [k + 0.25, k + 0.75], [30 + k / 100, 30 + k / 100 + 0.005])
        writer.append_aux("light", [k + 0.5], [float(k)])
        os.pwrite(fd, f"{k + 1:020d}".encode(), 0)  # seconds whose readings are on disk
        time.sleep(0.001)


def test_sigkill_while_writing_aux_then_repair(tmp_path: Path) -> None:
    for delay in (0.15, 0.4):
        rec, progress = tmp_path / f"rec{delay}", tmp_path / f"progress{delay}"
        code = f"from tests.test_aux_channels import child; child({str(rec)!r}, {str(progress)!r})"
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=Path(__file__).parents[1]
        )
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        done = int(progress.read_bytes().strip() or b"0")
        assert done > 0

        def readings(rec=rec):
            stream = open_recording(rec, chunk_samples=64)
            aux = aux_of(stream)
            return aux, stream

        before, stream = readings()
        assert stream.aux_channels == ("temperature", "light")
        n = len(before.get("temperature", ([],))[0])
        assert 2 * done <= n <= 2 * done + 2  # everything written, at most the call under way
        k = np.arange(n // 2)
        assert np.allclose(before["temperature"][0][: 2 * k.size : 2], k + 0.25)
        assert np.allclose(before["light"][1], np.arange(before["light"][1].size))
        repair(rec)
        after, stream = readings()
        assert after.keys() == before.keys()
        for channel in before:
            assert np.array_equal(after[channel][0], before[channel][0])
        assert stream.info.meta["light_unit"] == "lux"
        framed = frames(open_recording(rec), 50)  # replay's frames hand on the same readings
        replayed = aux_of(_Replay(framed, list(framed)))
        for channel in before:
            assert np.array_equal(replayed[channel][1], before[channel][1])
        assert repair(rec).fixes == []

