"""EDF/EDF+/BDF input with three accelerometer channels (recordings.devices.edf_input).

Files are written here by edfio, by hypnic's own EDF+ writer, and by a minimal plain-EDF writer
below (the EDF header table, field by field), then read back.
"""

from __future__ import annotations

import datetime as dt
import struct
import tempfile
from pathlib import Path

import edfio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypnic.recordings.devices import HEAD_BYTES, sniff_device
from hypnic.recordings.devices.edf_input import STANDARD_GRAVITY, find_accelerometer, open_edf
from hypnic.recordings.edf_writer import EdfAppendWriter, record_layout, to_digital
from hypnic.recordings.errors import InputError
from tests.test_devices import read_all

START = dt.datetime(2024, 3, 1, 22, 30, 1, 250000)


def motion(n: int, fs: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    return np.c_[np.sin(t), np.cos(t), 1 + 0.1 * rng.standard_normal(n)]


def edfio_file(
    path: Path,
    xyz: np.ndarray,
    fs: float = 100.0,
    labels=("Accel X", "Accel Y", "Accel Z"),
    unit: str = "g",
    scale: float = 1.0,
    extra: tuple[str, ...] = (),
    bdf: bool = False,
) -> Path:
    signal_class, file_class = (edfio.BdfSignal, edfio.Bdf) if bdf else (edfio.EdfSignal, edfio.Edf)
    signals = [
        signal_class(
            np.sin(np.arange(len(xyz)) / 7),
            sampling_frequency=fs,
            label=name,
            physical_dimension="uV",
        )
        for name in extra
    ]
    bound = 8 * scale
    signals += [
        signal_class(
            xyz[:, k] * scale,
            sampling_frequency=fs,
            label=label,
            physical_dimension=unit,
            physical_range=(-bound, bound),
        )
        for k, label in enumerate(labels)
    ]
    edf = file_class(
        signals,
        starttime=START.time(),
        recording=edfio.Recording(startdate=START.date()),
        annotations=[edfio.EdfAnnotation(1.0, None, "jerk")],
    )
    edf.write(path)
    return path


def lsb(bound: float = 8.0, bits: int = 16) -> float:
    return 2 * bound / (2**bits - 1)


def test_edf_plus_from_edfio(tmp_path: Path) -> None:
    xyz = motion(1000, 100.0)
    path = edfio_file(tmp_path / "night.edf", xyz)
    assert sniff_device(path.read_bytes()[:HEAD_BYTES], path) == "edf"
    stream = open_edf(path, chunk_samples=250)
    t, got, sizes = read_all(stream)
    assert np.allclose(t, np.arange(1000) / 100.0)
    assert np.allclose(got, xyz, atol=lsb())
    assert max(sizes) <= 300 and stream.gaps == []
    info = stream.info
    assert info.fs == 100.0 and info.start_utc == "2024-03-01T22:30:01.250000+00:00"
    assert (
        info.meta["channels"] == ["Accel X", "Accel Y", "Accel Z"] and info.meta["format"] == "EDF+"
    )


@pytest.mark.parametrize(
    ("labels", "unit", "scale"),
    [
        (("ACC_X", "ACC_Y", "ACC_Z"), "mg", 1000.0),
        (("acc x", "acc y", "acc z"), "m/s2", STANDARD_GRAVITY),
        (("X", "Y", "Z"), "m/s^2", STANDARD_GRAVITY),
        (("x-axis wrist", "y-axis wrist", "z-axis wrist"), "G", 1.0),
        (("AccelerometerX", "AccelerometerY", "AccelerometerZ"), "g", 1.0),
    ],
)
def test_channels_found_by_label_and_unit_and_converted_to_g(
    tmp_path: Path, labels: tuple[str, ...], unit: str, scale: float
) -> None:
    xyz = motion(400, 50.0)
    path = edfio_file(
        tmp_path / "acc.edf",
        xyz,
        fs=50.0,
        labels=labels,
        unit=unit,
        scale=scale,
        extra=("EEG Fpz",),
    )
    t, got, _ = read_all(open_edf(path))
    assert np.allclose(got, xyz, atol=lsb())
    assert np.allclose(t, np.arange(400) / 50.0)


def test_no_accelerometer_channels_is_one_error_naming_the_signals(tmp_path: Path) -> None:
    path = edfio_file(tmp_path / "eeg.edf", motion(100, 100.0), labels=("EEG A", "EEG B", "EEG C"))
    with pytest.raises(InputError) as err:
        open_edf(path)
    assert "no x/y/z accelerometer channels" in str(err.value) and "'EEG A' [g]" in str(err.value)
    path = edfio_file(tmp_path / "uv.edf", motion(100, 100.0), unit="uV")
    with pytest.raises(InputError, match="no x/y/z accelerometer"):
        open_edf(path)


@pytest.mark.parametrize(
    ("labels", "units", "found"),
    [
        (["EEG", "Accel X", "Accel Y", "Accel Z"], ["uV", "g", "g", "g"], (1, 2, 3)),
        (["Z", "Y", "X"], ["g", "g", "g"], (2, 1, 0)),
        (["X", "Y", "Z", "acc X", "acc Y", "acc Z"], ["g"] * 6, (3, 4, 5)),  # "acc" first
        (["Accel X", "Accel Y", "Gyro Z"], ["g", "g", "deg/s"], None),
        (["Accel X", "Accel Y", "Accel Z"], ["g", "g", "V"], None),
        (["wrist acc x", "wrist acc y", "ankle acc z"], ["g"] * 3, None),
        (["sex", "Accel Y", "Accel Z"], ["g"] * 3, None),
    ],
)
def test_find_accelerometer(labels: list[str], units: list[str], found) -> None:
    assert find_accelerometer(labels, units) == found


def test_channels_at_different_rates_are_refused(tmp_path: Path) -> None:
    signals = [
        edfio.EdfSignal(
            np.zeros(200),
            sampling_frequency=100,
            label="Accel X",
            physical_dimension="g",
            physical_range=(-8, 8),
        ),
        edfio.EdfSignal(
            np.zeros(100),
            sampling_frequency=50,
            label="Accel Y",
            physical_dimension="g",
            physical_range=(-8, 8),
        ),
        edfio.EdfSignal(
            np.zeros(200),
            sampling_frequency=100,
            label="Accel Z",
            physical_dimension="g",
            physical_range=(-8, 8),
        ),
    ]
    path = tmp_path / "rates.edf"
    edfio.Edf(signals).write(path)
    with pytest.raises(InputError, match="different sample rates"):
        open_edf(path)


def test_bdf(tmp_path: Path) -> None:
    xyz = motion(600, 100.0)
    path = edfio_file(tmp_path / "night.bdf", xyz, bdf=True)
    assert sniff_device(path.read_bytes()[:HEAD_BYTES], path) == "edf"
    t, got, _ = read_all(open_edf(path, chunk_samples=100))
    assert np.allclose(got, xyz, atol=lsb(bits=24)) and len(t) == 600


def set_record_onsets(path: Path, onsets: list[float]) -> None:
    """Rewrite an edfio EDF+C file as EDF+D whose records start at ``onsets``."""
    raw = bytearray(path.read_bytes())
    ns = int(raw[252:256])
    spr = [int(raw[256 + ns * 216 + 8 * i : 256 + ns * 216 + 8 * (i + 1)]) for i in range(ns)]
    annotation = [raw[256 + 16 * i : 256 + 16 * (i + 1)].strip() for i in range(ns)].index(
        b"EDF Annotations"
    )
    record = 2 * sum(spr)
    at = 2 * sum(spr[:annotation])
    raw[192:197] = b"EDF+D"
    for k, onset in enumerate(onsets):
        start = 256 * (ns + 1) + k * record + at
        tal = f"+{onset}\x14\x14\x00".encode()
        raw[start : start + 2 * spr[annotation]] = tal.ljust(2 * spr[annotation], b"\x00")
    path.write_bytes(bytes(raw))


def test_edf_plus_d_gaps_between_records(tmp_path: Path) -> None:
    xyz = motion(1000, 100.0)
    path = edfio_file(tmp_path / "d.edf", xyz)
    onsets = [0.25 + k for k in range(5)] + [0.25 + k + 3 for k in range(5, 10)]
    set_record_onsets(path, onsets)
    stream = open_edf(path)
    t, got, _ = read_all(stream)
    expected_t = np.concatenate([np.arange(100) / 100 + onset - 0.25 for onset in onsets])
    assert np.allclose(t, expected_t) and np.allclose(got, xyz, atol=lsb())
    assert stream.gaps == [[pytest.approx(5.0), pytest.approx(8.0)]]
    assert stream.info.start_utc == "2024-03-01T22:30:01.250000+00:00"


def test_hypnic_writer_padding_is_dropped_and_reported(tmp_path: Path) -> None:
    fs = 50.0
    xyz = motion(1000, fs)
    layout = record_layout(fs)
    writer = EdfAppendWriter(
        tmp_path / "signal.edf", layout, 8.0, START.replace(tzinfo=dt.timezone.utc), equipment="sim"
    )
    digital, _ = to_digital(xyz, writer.physical_min, writer.physical_max)
    digital[300:420] = -32768  # what the recording writer puts where samples were lost
    writer.write(digital[:990])  # the last record is padded by close()
    writer.close()
    stream = open_edf(tmp_path / "signal.edf")
    t, got, _ = read_all(stream)
    keep = np.ones(990, dtype=bool)
    keep[300:420] = False
    assert np.allclose(t, (np.arange(990) / fs)[keep])
    assert np.allclose(got, xyz[:990][keep], atol=lsb())
    assert stream.gaps == [
        [pytest.approx(6.0), pytest.approx(8.4)],
        [pytest.approx(19.8), pytest.approx(20.0)],
    ]
    assert stream.info.meta["samples_padding"] == 120 + 10


def test_record_count_unknown_and_cut_short(tmp_path: Path) -> None:
    xyz = motion(1000, 100.0)
    path = edfio_file(tmp_path / "open.edf", xyz)
    raw = bytearray(path.read_bytes())
    raw[236:244] = b"-1      "  # a writer still appending (EDF spec: "-1 if unknown")
    record = (len(raw) - 1280) // 10
    path.write_bytes(bytes(raw[: 1280 + 6 * record + record // 2]))  # 6.5 records on disk
    t, got, _ = read_all(open_edf(path))
    assert len(t) == 600 and np.allclose(got, xyz[:600], atol=lsb())


def plain_edf(path: Path, xyz_digital: np.ndarray, spr: int, duration: str) -> Path:
    """A plain EDF (no EDF+), written field by field from the EDF header table."""
    n_records = len(xyz_digital) // spr
    fields = [
        ("0", 8),
        ("patient", 80),
        ("recording", 80),
        ("01.03.24", 8),
        ("22.30.00", 8),
        (str(256 * 4), 8),
        ("", 44),
        (str(n_records), 8),
        (duration, 8),
        ("3", 4),
    ]
    header = "".join(value.ljust(width) for value, width in fields)
    per_signal = [
        (["acc x", "acc y", "acc z"], 16),
        (["MEMS"] * 3, 80),
        (["mg"] * 3, 8),
        (["-4000"] * 3, 8),
        (["4000"] * 3, 8),
        (["-2048"] * 3, 8),
        (["2047"] * 3, 8),
        ([""] * 3, 80),
        ([str(spr)] * 3, 8),
        ([""] * 3, 32),
    ]
    header += "".join(value.ljust(width) for values, width in per_signal for value in values)
    records = xyz_digital[: n_records * spr].reshape(n_records, spr, 3).transpose(0, 2, 1)
    path.write_bytes(header.encode("ascii") + records.astype("<i2").tobytes())
    return path


def test_plain_edf_without_annotations(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    digital = rng.integers(-2048, 2048, size=(250, 3))
    path = plain_edf(tmp_path / "plain.edf", digital, spr=25, duration="0.5")
    stream = open_edf(path)
    t, got, _ = read_all(stream)
    g = ((digital - -2048) * (8000 / 4095) - 4000) / 1000  # EDF's linear map, mg to g
    assert np.allclose(got, g, atol=1e-6) and np.allclose(t, np.arange(250) / 50)
    assert stream.info.fs == 50.0 and stream.info.meta["format"] == "EDF"
    assert stream.info.start_utc == "2024-03-01T22:30:00.000000+00:00"


def test_ankle_in_the_labels_gives_the_placement(tmp_path: Path) -> None:
    path = edfio_file(
        tmp_path / "a.edf",
        motion(100, 100.0),
        labels=("Acc X left ankle", "Acc Y left ankle", "Acc Z left ankle"),
    )
    assert open_edf(path).info.placement == "left_ankle"


def _edf_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        return edfio_file(Path(folder) / "f.edf", motion(500, 100.0), extra=("EEG",)).read_bytes()


EDF_BYTES = _edf_bytes()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.floats(0, 1, exclude_max=True), value=st.integers(1, 255), cut=st.floats(0.05, 1))
def test_changed_or_cut_edf_gives_data_or_an_error(where: float, value: int, cut: float) -> None:
    data = bytearray(EDF_BYTES)
    data[int(where * len(data))] ^= value
    data = data[: max(1, int(cut * len(data)))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "changed.edf"
        path.write_bytes(bytes(data))
        try:
            stream = open_edf(path)
            chunks = list(stream)
        except InputError as err:
            assert "\n" not in str(err) and str(path) in str(err)
            return
    t = np.concatenate([c.t for c in chunks])
    assert np.all(np.diff(t) > 0) and all(np.isfinite(c.xyz).all() for c in chunks)


def test_struct_layout_of_the_plain_writer_matches_edfio(tmp_path: Path) -> None:
    # The hand-written header above is a valid EDF: edfio reads it too.
    digital = np.zeros((100, 3), dtype=int)
    path = plain_edf(tmp_path / "p.edf", digital, spr=50, duration="1")
    edf = edfio.read_edf(path)
    assert edf.labels == ("acc x", "acc y", "acc z") and edf.num_data_records == 2
    assert struct.unpack("<h", path.read_bytes()[1024:1026])[0] == 0
