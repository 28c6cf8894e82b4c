"""``hypnic replay``: frames, pacing, provisional bursts, and the same events as ``hypnic detect``
on the same samples (issue 5 §2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic import cli
from hypnic.benchmarks.synth import simulate_night
from hypnic.detector.bursts import detect_bursts
from hypnic.recordings import feed
from hypnic.recordings.recording import RecordingWriter, open_recording
from hypnic.recordings.samples import SampleChunk, SampleStream, StreamInfo

FS = 25.0


@pytest.fixture(autouse=True)
def _commands(monkeypatch):
    # Until the lead lists them in hypnic/cli.py COMMANDS.
    extra = tuple(c for c in ("replay", "export") if c not in cli.COMMANDS)
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + extra)


def write_csv(path: Path, t: np.ndarray, xyz: np.ndarray) -> None:
    """The samples exactly: t as shortest round-trip float64, x/y/z as float32 digits."""
    with open(path, "w") as fh:
        fh.write("t,x,y,z\n")
        for ti, row in zip(t.tolist(), xyz.astype(np.float32), strict=True):
            axes = ",".join(np.format_float_positional(v) for v in row)
            fh.write(f"{ti!r},{axes}\n")


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    """A synthetic ankle night (with gaps) kept as a recording folder, and its samples as CSV."""
    base = tmp_path_factory.mktemp("night")
    sim = simulate_night(seed=3, fs=FS, hours=1.0, placement="ankle", gaps=True)
    rec = base / "rec"
    with RecordingWriter(
        rec, fs=FS, range_g=8, start_utc=sim.info.start_utc, sensor="sim", placement="ankle"
    ) as writer:
        for i in range(0, sim.t.shape[0], 997):  # blocks that do not line up with frames
            writer.append(sim.t[i : i + 997], sim.xyz[i : i + 997])
    chunks = list(open_recording(rec))
    t = np.concatenate([c.t for c in chunks])
    xyz = np.concatenate([c.xyz for c in chunks])  # quantised as the recording holds them
    write_csv(base / "night.csv", t, xyz)
    return {"base": base, "rec": rec, "csv": base / "night.csv", "t": t, "xyz": xyz, "sim": sim}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A still minute at 12.5 Hz: enough for errors found only once the samples are read."""
    base = tmp_path_factory.mktemp("tiny")
    t = np.arange(750) / 12.5
    xyz = np.tile(np.float32([0, 0, 1]), (750, 1))
    with RecordingWriter(base / "rec", fs=12.5, range_g=8, start_utc="2025-01-02T23:00:00Z") as w:
        w.append(t, xyz)
    return {"base": base, "rec": base / "rec"}


def stream_of(t, xyz, cuts, fs=FS):
    edges = [0, *sorted(set(cuts)), len(t)]
    chunks = (SampleChunk(t[a:b], xyz[a:b]) for a, b in zip(edges[:-1], edges[1:], strict=True))
    return SampleStream(StreamInfo(source="test", fs=fs), chunks)


# -------------------------------------------------------------------------- the main promise


def test_replay_gives_the_same_events_as_detect(night, capsys):
    base = night["base"]
    start = night["sim"].info.start_utc
    assert cli.main(["detect", str(night["csv"]), "--out", str(base / "det"),
                     "--placement", "ankle", "--start", start, "--no-report"]) == 0
    assert cli.main(["replay", str(night["rec"]), "--out", str(base / "rep"), "--no-report"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == str(base / "rep")
    detected = (base / "det" / "events.csv").read_text().splitlines()
    replayed = (base / "rep" / "events.csv").read_text().splitlines()
    assert len(detected) > 10  # header + a night's worth of events of several labels
    assert replayed == detected
    labels = {row.split(",")[3] for row in detected[1:]}
    assert len(labels) >= 3 and "large_movement" in labels  # not a trivially empty comparison
    det = json.loads((base / "det" / "summary.json").read_text())
    rep = json.loads((base / "rep" / "summary.json").read_text())
    for key in ("counts", "sleep_onset_s", "plms_index", "n_samples", "jerks_first_30_min"):
        assert rep[key] == det[key], key
    assert rep["replay"] == {"pacing": "fast", "frame_samples": 25, "frame_s": 1.0}
    assert rep["source"] == str(night["rec"])


def test_verbose_prints_every_burst_as_it_closes(night, capsys):
    out = night["base"] / "rep_v"
    assert cli.main(["replay", str(night["rec"]), "--out", str(out), "-v", "--no-report"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == str(out)
    shown = [line for line in lines if "burst" in line]
    bursts = detect_bursts(night["t"], night["xyz"], FS).events
    assert len(shown) == len(bursts) > 0
    # Clock time from the recording's start (22:07:00 UTC) and the onset in seconds.
    first = shown[0].split()
    assert first[0] == "22:07:30"
    assert float(first[1]) == pytest.approx(bursts["onset_s"][0], abs=0.01)
    assert all(line.endswith("(provisional)") for line in shown)


def test_realtime_paces_by_the_recording_clock(tmp_path, monkeypatch, capsys):
    now = [1000.0]
    waits: list[float] = []

    def fake_wait(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(feed, "wall_clock", lambda: now[0])
    monkeypatch.setattr(feed, "wait", fake_wait)
    fs = 12.5
    n = int(60 * fs)
    t = np.arange(n) / fs
    xyz = np.zeros((n, 3), np.float32)
    xyz[:, 2] = 1
    xyz[375:380, 0] = [0.3, -0.4, 0.5, -0.3, 0.2]  # one jerk at 30 s
    rec = tmp_path / "rec"
    with RecordingWriter(rec, fs=fs, range_g=8, start_utc="2025-01-02T23:00:00Z") as writer:
        writer.append(t, xyz)
    out = tmp_path / "out"
    assert cli.main(["replay", str(rec), "--out", str(out), "--realtime", "--no-report"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(waits) == 63  # one wait per frame of 12 samples (0.96 s at 12.5 Hz)
    assert sum(waits) == pytest.approx(60.0)  # the night takes as long as it lasted
    assert [line.split()[0] for line in lines if "burst" in line] == ["23:00:29"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replay"]["pacing"] == "realtime"


def test_a_killed_recording_replays_as_it_is(night, tmp_path):
    """Writer killed mid-record: count still -1, a torn last record; nothing to repair first."""
    rec = tmp_path / "killed"
    shutil.copytree(night["rec"], rec)
    signal = rec / "signal.edf"
    with open(signal, "r+b") as fh:
        fh.seek(236)
        fh.write(b"-1      ")
        fh.truncate(signal.stat().st_size - 100)
    out = tmp_path / "out"
    assert cli.main(["replay", str(rec), "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    lost = night["t"].shape[0] - summary["n_samples"]
    assert 0 < lost <= 2 * FS  # the torn record and the padded tail of the last one
    assert cli.main(["detect", str(rec), "--out", str(tmp_path / "det"), "--no-report"]) == 0
    events = (out / "events.csv").read_text()
    assert events == (tmp_path / "det" / "events.csv").read_text() and events.count("\n") > 10


# ------------------------------------------------------------------------------ the pieces


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 400),
    frame=st.integers(1, 60),
    cuts=st.lists(st.integers(1, 399), max_size=12),
)
def test_frames_keep_every_sample_in_order_in_whole_frames(n, frame, cuts):
    t = np.arange(n) / FS
    xyz = np.random.default_rng(n).normal(size=(n, 3)).astype(np.float32)
    got = list(feed.frames(stream_of(t, xyz, [c for c in cuts if c < n]), frame))
    assert [len(c) for c in got[:-1]] == [frame] * (len(got) - 1)
    assert 0 < len(got[-1]) <= frame
    assert np.array_equal(np.concatenate([c.t for c in got]), t)
    assert np.array_equal(np.concatenate([c.xyz for c in got]), xyz)


@settings(max_examples=30, deadline=None)
@given(
    speed=st.sampled_from([0.5, 1.0, 4.0]),
    gap=st.floats(0, 30),
    frame=st.integers(1, 40),
)
def test_pacing_releases_each_frame_when_its_last_sample_is_complete(speed, gap, frame):
    t = np.arange(100) / FS
    t[50:] += gap
    xyz = np.zeros((100, 3), np.float32)
    now = [0.0]
    released = []

    def sleep(seconds: float) -> None:
        assert seconds > 0
        now[0] += seconds

    for chunk in feed.paced(
        feed.frames(stream_of(t, xyz, []), frame), speed, clock=lambda: now[0], sleep=sleep
    ):
        released.append((now[0], chunk.t[-1]))
    for wall, last in released:
        assert wall == pytest.approx((last + 1 / FS) / speed)


def test_a_derived_stream_sees_gaps_the_reader_finds_while_read():
    info = StreamInfo(source="device", fs=FS)

    def chunks():
        yield SampleChunk(np.arange(10) / FS, np.zeros((10, 3)))
        stream.gaps.append([1.0, 2.0])  # a damaged block found on the way
        yield SampleChunk(2 + np.arange(10) / FS, np.zeros((10, 3)))

    stream = SampleStream(info, chunks())
    derived = feed.frames(feed.paced(stream, 1e9), 4)
    assert derived.info is info
    assert sum(len(c) for c in derived) == 20
    assert derived.gaps == [[1.0, 2.0]]


def test_frame_samples_and_expected_duration(night):
    assert feed.frame_samples(12.5) == 12
    assert feed.frame_samples(625 / 6) == 104
    assert feed.frame_samples(1.0, 0.25) == 1
    with pytest.raises(ValueError):
        feed.frame_samples(25.0, 0.0)
    stream = open_recording(night["rec"])
    total = feed.expected_duration_s(stream)
    assert total == pytest.approx(night["t"][-1] + 1 / FS)


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["replay", "{base}/nowhere", "--out", "{base}/o1"], "no such file"),
        (["replay", "{rec}", "--out", "{base}/o2", "--sleep-onset", "-5"], "--sleep-onset"),
        (["replay", "{rec}", "--out", "{base}/o3", "--sleep-onset", "99999"], "outside"),
        (["replay", "{rec}", "--out", "{rec}/signal.edf"], "not a folder"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tiny, capsys, argv, needle):
    argv = [a.format(base=tiny["base"], rec=tiny["rec"]) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hypnic: error: ") and needle in err
    out = Path(argv[argv.index("--out") + 1])
    assert not out.is_dir()
    assert not list(out.parent.glob(f".{out.name}.staging-*"))


def test_realtime_and_fast_exclude_each_other(tiny, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["replay", str(tiny["rec"]), "--out", "x", "--fast", "--realtime"])
    assert exc.value.code == 2
    assert "not allowed with" in capsys.readouterr().err
