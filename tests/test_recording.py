"""Recording folders: round trips, gaps, events, reading while written, torn tails, repair,
and one-line errors. The SIGKILL test is in test_recording_kill.py."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import edfio
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic import cli
from hypnic.recordings.edf_reader import read_edf_header
from hypnic.recordings.errors import InputError
from hypnic.recordings.recording import (
    EVENTS_FILE,
    GAPS_FILE,
    META_FILE,
    SIGNAL_FILE,
    RecordingWriter,
    open_recording,
    read_events,
    repair,
    sniff_recording,
)

START = "2025-11-25T22:10:03.250Z"
STEP = 16 / 65535  # one digital step at ±8 g


def samples(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=(n, 3)).astype(np.float32)


def read_all(path: Path, **kw) -> tuple[np.ndarray, np.ndarray, object]:
    stream = open_recording(path, **kw)
    chunks = list(stream)
    if not chunks:
        return np.zeros(0), np.zeros((0, 3), np.float32), stream
    return np.concatenate([c.t for c in chunks]), np.concatenate([c.xyz for c in chunks]), stream


def write(
    path: Path, t: np.ndarray, xyz: np.ndarray, fs: float, cuts=(), close=True, **kw
) -> RecordingWriter:
    writer = RecordingWriter(path, fs=fs, range_g=8, start_utc=START, sensor="sim", **kw)
    edges = [0, *sorted(set(c for c in cuts if 0 < c < t.shape[0])), t.shape[0]]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        writer.append(t[a:b], xyz[a:b])
    if close:
        writer.close()
    return writer


def read_edfio(path: Path) -> edfio.Edf:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return edfio.read_edf(path, lazy_load_data=False)


# -------------------------------------------------------------------------------- round trip


@settings(max_examples=25, deadline=None)
@given(
    fs=st.sampled_from([12.5, 52.0, 625 / 6, 200.0]),
    n=st.integers(1, 700),
    cuts=st.lists(st.integers(1, 700), max_size=10),
    seed=st.integers(0, 1000),
    t0=st.floats(-1e6, 1e6),
)
def test_round_trip_any_chunking(tmp_path_factory, fs, n, cuts, seed, t0):
    rec = tmp_path_factory.mktemp("r") / "rec"
    xyz = samples(n, seed)
    t = t0 + np.arange(n) / fs  # the sensor's clock need not start at 0
    write(rec, t, xyz, fs, cuts)
    t_back, xyz_back, stream = read_all(rec, chunk_samples=97)
    assert np.array_equal(t_back, np.arange(n) / stream.info.fs)
    assert np.abs(xyz_back - xyz).max() <= STEP / 2 + 1e-6
    assert stream.gaps == [] and stream.info.meta["n_samples"] == n
    assert stream.info.fs == pytest.approx(fs, rel=1e-12)
    assert stream.info.start_utc == "2025-11-25T22:10:03.250000Z"


def test_chunks_are_bounded_and_agree_with_edfio(tmp_path):
    fs, n = 100.0, 5000
    xyz = samples(n)
    write(tmp_path / "rec", np.arange(n) / fs, xyz, fs, cuts=range(0, n, 333))
    stream = open_recording(tmp_path / "rec", chunk_samples=1000)
    chunks = list(stream)
    assert max(len(c) for c in chunks) <= 1000 and sum(len(c) for c in chunks) == n
    edf = read_edfio(tmp_path / "rec" / SIGNAL_FILE)
    ours = np.concatenate([c.xyz for c in chunks])
    for axis in range(3):
        assert np.abs(edf.signals[axis].data[:n] - ours[:, axis]).max() < 1e-6


def test_folder_contents_and_meta(tmp_path):
    rec = tmp_path / "rec"
    extra = {"placement": "left_ankle", "firmware": "1.2.3", "utc_offset_s": 3600}
    write(rec, np.arange(30) / 25, samples(30), 25, meta={"serial": "C1234"}, **extra)
    assert sorted(p.name for p in rec.iterdir()) == sorted(
        [SIGNAL_FILE, EVENTS_FILE, GAPS_FILE, META_FILE]
    )
    meta = json.loads((rec / META_FILE).read_text())
    assert (
        meta["state"] == "closed" and meta["software_version"] == __import__("hypnic").__version__
    )
    assert (meta["fs"], meta["range_g"], meta["placement"], meta["firmware"]) == (
        25,
        8,
        "left_ankle",
        "1.2.3",
    )
    assert meta["serial"] == "C1234" and meta["n_samples"] == 30 and meta["gaps"] == []
    stream = open_recording(rec)
    assert stream.info.placement == "left_ankle" and stream.info.utc_offset_s == 3600
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left over
    assert sniff_recording(b"", rec) and not sniff_recording(b"", rec / SIGNAL_FILE)
    given = open_recording(rec, start="2025-11-26T01:02:03+01:00")  # the --start option
    assert given.info.start_utc == "2025-11-26T00:02:03.000000Z"
    with pytest.raises(InputError, match="--start"):
        open_recording(rec, start="tonight")


# ------------------------------------------------------------------------------------ gaps


def test_gaps_are_padded_with_the_marker_and_never_read_as_samples(tmp_path):
    fs = 50.0
    idx = np.r_[0:120, 170:300, 301:400]  # 50 samples lost, then 1
    t = 1000 + idx / fs
    xyz = samples(idx.size, 3)
    rec = tmp_path / "rec"
    write(rec, t, xyz, fs, cuts=[60, 120, 121, 250])
    t_back, xyz_back, stream = read_all(rec)
    assert np.array_equal(t_back, idx / fs)  # t jumps over the gaps
    assert np.abs(xyz_back - xyz).max() <= STEP / 2 + 1e-6
    assert stream.gaps == [[120 / fs, 170 / fs], [300 / fs, 301 / fs]]
    meta = json.loads((rec / META_FILE).read_text())
    assert meta["gaps"] == stream.gaps
    lines = [json.loads(x) for x in (rec / GAPS_FILE).read_text().splitlines()]
    assert [g["n_missing"] for g in lines] == [50, 1]
    assert lines[0]["sensor_t_before_s"] == pytest.approx(119 / fs)
    assert lines[0]["sensor_t_after_s"] == pytest.approx(170 / fs)
    # an outside reader sees the padding as a flat line at the marker (-8 g), in its place
    edf = read_edfio(rec / SIGNAL_FILE)
    x = edf.signals[0].data
    assert np.all(x[120:170] == pytest.approx(-8.0)) and x[300] == pytest.approx(-8.0)
    assert np.abs(x[idx] - xyz[:, 0]).max() <= STEP / 2 + 1e-6


def test_jitter_is_not_a_gap_but_duplicates_are_dropped(tmp_path):
    fs = 100.0
    rng = np.random.default_rng(5)
    t = np.arange(400) / fs + rng.uniform(-0.2, 0.2, 400) / fs  # steps stay within 0.6-1.4 periods
    t = np.r_[t[:200], t[199:201], t[200:]]  # a repeated packet
    xyz = np.r_[samples(200), samples(2, 9), samples(202, 8)[2:]]
    rec = tmp_path / "rec"
    write(rec, t, xyz, fs, cuts=[200, 201])
    t_back, _, stream = read_all(rec)
    assert t_back.size == 400 and stream.gaps == []
    meta = json.loads((rec / META_FILE).read_text())
    assert meta["dropped_samples"] == 2


def test_clipping_is_counted(tmp_path):
    rec = tmp_path / "rec"
    xyz = np.zeros((10, 3))
    xyz[3] = [9.0, 0, 0]
    xyz[4] = [-8.0, 0, 0]  # exactly the negative limit is the marker's value: clipped by a step
    write(rec, np.arange(10) / 25, xyz, 25)
    _, back, stream = read_all(rec)
    assert json.loads((rec / META_FILE).read_text())["clipped_samples"] == 2
    assert back[3, 0] == pytest.approx(8.0) and back[4, 0] == pytest.approx(-8 + STEP)
    assert len(back) == 10 and stream.gaps == []


def test_a_clock_reset_is_refused_not_padded(tmp_path):
    writer = RecordingWriter(tmp_path / "rec", fs=25, range_g=8, max_gap_s=60)
    writer.append(np.arange(5) / 25, samples(5))
    with pytest.raises(ValueError, match="clock reset"):
        writer.append(np.array([3600.0]), samples(1))
    writer.append(np.array([5 / 25]), samples(1))
    writer.close()
    assert open_recording(tmp_path / "rec").info.meta["n_samples"] == 6


# ---------------------------------------------------------------------------------- events


def test_events_go_to_jsonl_and_edf_annotations(tmp_path):
    rec = tmp_path / "rec"
    writer = write(rec, np.arange(100) / 25, samples(100), 25, close=False)
    events = [
        {"onset_s": 1.5, "duration_s": 0.2, "label": "hypnic_jerk", "peak_g": np.float32(0.75)},
        {"kind": "sensor", "text": "battery low"},  # no onset: only in events.jsonl
        {"onset_s": 2.0, "text": "note"},
    ]
    for event in events:
        writer.add_event(event)
    with pytest.raises(TypeError):
        writer.add_event(["not", "a", "dict"])
    with pytest.raises(ValueError):
        writer.add_event({"onset_s": float("nan")})
    writer.close()
    back = read_events(rec)
    assert [e.get("label") or e.get("text") for e in back] == ["hypnic_jerk", "battery low", "note"]
    assert back[0]["peak_g"] == 0.75
    anns = sorted((a.onset, a.duration, a.text) for a in read_edfio(rec / SIGNAL_FILE).annotations)
    assert anns == [(1.5, 0.2, "hypnic_jerk"), (2.0, None, "note")]


# ------------------------------------------------------------------- live, killed, torn


def test_reading_while_the_writer_is_still_running(tmp_path):
    rec = tmp_path / "rec"
    fs = 25.0
    xyz = samples(130)
    writer = write(rec, np.arange(130) / fs, xyz, fs, close=False)
    assert read_edf_header(rec / SIGNAL_FILE).n_records == -1
    t_back, xyz_back, stream = read_all(rec)
    assert t_back.size == 125  # 5 whole records; 5 samples wait for the sixth
    assert np.abs(xyz_back - xyz[:125]).max() <= STEP / 2 + 1e-6
    assert stream.info.meta["state"] == "recording"
    with pytest.raises(InputError, match="still being recorded"):
        repair(rec)
    writer.close()
    assert read_all(rec)[0].size == 130


def killed_copy(
    tmp_path: Path, n: int = 130, fs: float = 25.0, gap: bool = True
) -> tuple[Path, np.ndarray]:
    """What SIGKILL leaves: the files as they are while the writer is running."""
    rec = tmp_path / "rec"
    idx = np.r_[0 : n // 2, n // 2 + 30 : n + 30] if gap else np.arange(n)
    xyz = samples(idx.size, 7)
    writer = write(rec, idx / fs, xyz, fs, close=False)
    writer.add_event({"onset_s": 0.5, "label": "x"})
    killed = tmp_path / "killed"
    shutil.copytree(rec, killed)
    writer.close()
    return killed, xyz


@pytest.mark.parametrize("cut", [1, 2, 77, 150, 269])
def test_torn_tail_is_dropped_then_repaired(tmp_path, cut):
    killed, xyz = killed_copy(tmp_path)
    signal = killed / SIGNAL_FILE
    record_bytes = 6 * 25 + 120
    complete = (signal.stat().st_size - 1280) // record_bytes
    with open(signal, "ab") as fh:
        fh.write(bytes(range(256))[:cut] if cut < 256 else b"\x07" * cut)
    t_before, xyz_before, stream = read_all(killed)
    assert stream.info.meta["torn_bytes"] == cut
    assert np.abs(xyz_before - xyz[: xyz_before.shape[0]]).max() <= STEP / 2 + 1e-6
    assert read_edfio(signal).num_data_records == complete
    result = repair(killed)
    assert f"dropped a torn last record ({cut} bytes)" in result.fixes
    assert f"record count set to {complete}" in result.fixes
    assert signal.stat().st_size == 1280 + complete * record_bytes
    t_after, xyz_after, stream = read_all(killed)
    assert np.array_equal(t_after, t_before) and np.array_equal(xyz_after, xyz_before)
    assert stream.gaps == [[65 / 25, 95 / 25]]
    meta = json.loads((killed / META_FILE).read_text())
    assert meta["state"] == "repaired" and meta["n_samples"] == t_after.size
    assert repair(killed).fixes == []  # idempotent
    assert read_edfio(signal).num_data_records == complete
    assert read_edf_header(signal).n_records == complete


def test_zero_filled_tail_and_damaged_middle_record(tmp_path):
    killed, xyz = killed_copy(tmp_path, gap=False)
    signal = killed / SIGNAL_FILE
    record_bytes = 6 * 25 + 120
    complete = (signal.stat().st_size - 1280) // record_bytes
    with open(signal, "ab") as fh:
        fh.write(b"\x00" * record_bytes * 2)  # a power cut can leave zeros, not data
    with open(signal, "r+b") as fh:
        fh.seek(1280 + 2 * record_bytes + 6 * 25)
        fh.write(b"garbage")  # record 2's time stamp is wrong: its samples are not trusted
    t_back, xyz_back, stream = read_all(killed)
    assert t_back.size == (complete - 1) * 25
    assert stream.gaps == [[2.0, 3.0]]
    assert stream.info.meta["damaged_records"] == 1
    keep = np.r_[0:50, 75 : complete * 25]
    assert np.abs(xyz_back - xyz[keep]).max() <= STEP / 2 + 1e-6
    result = repair(killed)
    assert "dropped 2 trailing records without a valid time stamp" in result.fixes
    assert read_all(killed)[0].size == t_back.size and repair(killed).fixes == []


def test_repair_rebuilds_meta_and_cuts_torn_lines(tmp_path):
    killed, _ = killed_copy(tmp_path)
    expected = read_all(killed)
    (killed / META_FILE).write_text(
        '{"format": "hypnic-rec'
    )  # torn by hand (our writes are atomic)
    with open(killed / EVENTS_FILE, "ab") as fh:
        fh.write(b'{"onset_s": 3, "lab')
    with open(killed / GAPS_FILE, "ab") as fh:
        fh.write(b'{"start_s"')
    (killed / ".meta.json.abc.tmp").write_text("{")
    t, xyz, stream = read_all(killed)  # opens before repair, from signal.edf alone
    assert stream.info.meta["meta_json"].startswith("missing")
    assert stream.info.start_utc == "2025-11-25T22:10:03.250000Z" and stream.info.fs == 25
    assert read_events(killed) == [{"onset_s": 0.5, "label": "x"}]
    fixes = repair(killed).fixes
    assert "rebuilt meta.json from signal.edf" in fixes
    assert any("events.jsonl" in f for f in fixes) and any("gaps.jsonl" in f for f in fixes)
    assert "removed .meta.json.abc.tmp" in fixes
    meta = json.loads((killed / META_FILE).read_text())
    assert meta["meta_rebuilt"] and meta["sensor"] == "sim" and meta["range_g"] == 8
    assert meta["gaps"] == expected[2].gaps
    assert np.array_equal(read_all(killed)[1], expected[1])
    assert repair(killed).fixes == []
    (killed / EVENTS_FILE).unlink()
    assert repair(killed).fixes == ["created a missing events.jsonl"]


def test_repair_of_a_closed_recording_changes_nothing(tmp_path):
    rec = tmp_path / "rec"
    write(rec, np.r_[0:40, 60:90] / 12.5, samples(70), 12.5)
    before = {p.name: p.read_bytes() for p in rec.iterdir()}
    assert repair(rec).summary() == f"{rec}: nothing to fix"
    assert {p.name: p.read_bytes() for p in rec.iterdir()} == before


def test_a_recording_that_never_got_a_sample(tmp_path):
    rec = tmp_path / "rec"
    writer = RecordingWriter(rec, fs=52, range_g=4)
    killed = tmp_path / "killed"
    shutil.copytree(rec, killed)
    writer.close()
    for path in (rec, killed):
        t, _, stream = read_all(path)
        assert t.size == 0 and stream.gaps == []
    assert repair(killed).fixes == [
        "record count set to 0",
        "brought meta.json up to date (state, gaps, sample count)",
    ]


# ---------------------------------------------------------------------------------- errors


def test_writer_refuses_to_overwrite_and_bad_settings(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(InputError, match="never overwritten"):
        RecordingWriter(tmp_path / "full", fs=25, range_g=8)
    assert (tmp_path / "full" / "x").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    RecordingWriter(tmp_path / "empty", fs=25, range_g=8).close()  # an empty folder is fine
    bad_settings = [
        {"fs": 0},
        {"range_g": 0},
        {"placement": "hip"},
        {"start_utc": "yesterday"},
        {"meta": {"fs": 1}},  # extra metadata may not replace the writer's own
    ]
    for kwargs in bad_settings:
        with pytest.raises(ValueError):
            RecordingWriter(tmp_path / "bad", **{"fs": 25, "range_g": 8, **kwargs})
    assert not (tmp_path / "bad").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    writer = RecordingWriter(tmp_path / "rec", fs=25, range_g=8)
    with pytest.raises(ValueError):
        writer.append(np.array([0.0, np.nan]), samples(2))
    with pytest.raises(ValueError):
        writer.append(np.zeros(3), samples(2))
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.append(np.zeros(1), samples(1))


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    cases = {}
    cases["missing"] = (tmp_path / "nope", "no such recording folder")
    (tmp_path / "file.edf").write_bytes(b"0" * 300)
    cases["file"] = (tmp_path / "file.edf", "not a recording folder")
    (tmp_path / "empty").mkdir()
    cases["empty"] = (tmp_path / "empty", "no signal.edf")
    for name, content, problem in [
        ("short", b"0       X", "shorter than the 256-byte header"),
        ("garbage", bytes(range(256)) * 8, "not ASCII"),
        ("version", b"9" + b" " * 1279, "version field"),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / SIGNAL_FILE).write_bytes(content)
        cases[name] = (tmp_path / name, problem)
    good = tmp_path / "good"
    write(good, np.arange(10) / 25, samples(10), 25)
    raw = (good / SIGNAL_FILE).read_bytes()
    for name, offset, value, problem in [
        ("records", 236, b"abc     ", "number of data records"),
        ("duration", 244, b"-1      ", "duration"),
        ("signals", 252, b"0   ", "0 signals"),
        ("physical", 256 + 4 * 104, b"x       ", "physical minimum"),
    ]:
        (tmp_path / name).mkdir()
        (tmp_path / name / SIGNAL_FILE).write_bytes(
            raw[:offset] + value + raw[offset + len(value) :]
        )
        cases[name] = (tmp_path / name, problem)
    foreign = edfio.Edf([edfio.EdfSignal(np.zeros(100), sampling_frequency=10, label="EEG Fpz-Cz")])
    (tmp_path / "foreign").mkdir()
    foreign.write(tmp_path / "foreign" / SIGNAL_FILE)
    cases["foreign"] = (tmp_path / "foreign", "not a hypnic signal file")
    return cases


def test_bad_inputs_are_one_line_errors(tmp_path):
    for name, (path, problem) in bad_inputs(tmp_path).items():
        with pytest.raises(InputError) as info:
            list(open_recording(path))
        message = info.value.one_line()
        assert problem in message, name
        assert "\n" not in message and str(path) in message, name
        with pytest.raises(InputError):
            repair(path)


def test_hypnic_repair_command(tmp_path, capsys, monkeypatch):
    # only this command, so the test does not depend on the other commands' modules
    monkeypatch.setattr(cli, "COMMANDS", ("repair",))
    killed, _ = killed_copy(tmp_path)
    assert cli.main(["repair", str(killed)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(f"{killed}: ") and "record count set to" in out[0]
    assert cli.main(["repair", str(killed)]) == 0
    assert capsys.readouterr().out == f"{killed}: nothing to fix\n"
    assert cli.main(["repair", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err == f"hypnic: error: {tmp_path / 'nope'}: no such recording folder\n"
