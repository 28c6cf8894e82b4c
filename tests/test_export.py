"""``hypnic export``: EDF+ with the events as annotations, read back by an independent reader.

The independent reader is pyedflib (a wrapper of the C library EDFlib; a test dependency), which
shares no code with edfio, the library that writes the file. The sample grid is checked against
a slow, obvious loop.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import edfio
import numpy as np
import pyedflib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic import cli
from hypnic.benchmarks.synth import simulate_night
from hypnic.detector.bursts import BurstParams, gap_threshold_s
from hypnic.detector.results import Event
from hypnic.export import export_edf
from hypnic.pipeline import analyze_stream
from hypnic.recordings import edf_export
from hypnic.recordings.edf_export import SampleGrid, events_csv_path, grid_layout
from hypnic.recordings.edf_writer import PAD_DIGITAL, to_digital
from hypnic.recordings.errors import InputError
from hypnic.recordings.recording import RecordingWriter, open_recording
from hypnic.recordings.samples import SampleChunk

FS = 25.0
START = "2025-11-25T22:10:03.250Z"
CUT = ((300.0, 312.0), (900.0, 900.08))  # a 12 s gap and one lost sample


@pytest.fixture(autouse=True)
def _commands(monkeypatch):
    # Until the lead lists them in hypnic/cli.py COMMANDS.
    extra = tuple(c for c in ("replay", "export") if c not in cli.COMMANDS)
    monkeypatch.setattr(cli, "COMMANDS", cli.COMMANDS + extra)


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    """A 30-minute synthetic ankle night with two gaps, as a recording folder."""
    sim = simulate_night(seed=5, fs=FS, hours=0.5, placement="ankle")
    keep = np.ones(sim.t.shape[0], dtype=bool)
    for a, b in CUT:
        keep &= ~((sim.t > a - 0.01) & (sim.t < b - 0.01))
    path = tmp_path_factory.mktemp("export") / "rec"
    with RecordingWriter(
        path, fs=FS, range_g=8, start_utc=START, sensor="sim", placement="ankle"
    ) as writer:
        writer.append(sim.t[keep], sim.xyz[keep])
    return path


def samples_of(rec: Path) -> tuple[np.ndarray, np.ndarray]:
    chunks = list(open_recording(rec))
    return np.concatenate([c.t for c in chunks]), np.concatenate([c.xyz for c in chunks])


def read_back(edf: Path) -> dict:
    """Everything the independent reader sees."""
    reader = pyedflib.EdfReader(str(edf))
    try:
        onsets, durations, texts = reader.readAnnotations()
        return {
            "labels": reader.getSignalLabels(),
            "fs": list(reader.getSampleFrequencies()),
            "dimension": [reader.getPhysicalDimension(i) for i in range(3)],
            # getStartdatetime() reads the sub-second part as if in 10 µs units (pyedflib
            # 0.1.42 divides its 100 ns count by 100): take the whole seconds alone.
            "start": reader.getStartdatetime().replace(microsecond=0),
            "subsecond": reader.starttime_subsecond,  # units of 100 ns
            "digital": np.stack([reader.readSignal(i, digital=True) for i in range(3)], axis=1),
            "physical": np.stack([reader.readSignal(i) for i in range(3)], axis=1),
            "annotations": sorted(
                (float(o), None if d < 0 else float(d), str(t))
                for o, d, t in zip(onsets, durations, texts, strict=True)
            ),
        }
    finally:
        reader.close()


def expected_annotations(events, gaps) -> list[tuple]:
    rows = [
        (e.onset_s, e.duration_s or None, e.label + ("" if e.series in (None, "") else f" {e.series}"))
        for e in events
    ]
    rows += [(a, b - a, "gap") for a, b in gaps]
    return sorted(rows)


def assert_same_annotations(got, want, tol=1e-6):
    assert len(got) == len(want)
    for (o1, d1, t1), (o2, d2, t2) in zip(got, want, strict=True):
        assert t1 == t2 and o1 == pytest.approx(o2, abs=tol)
        # pyedflib reports an annotation without a duration as -1 (read_back makes it None)
        assert (d1 or 0) == pytest.approx(d2 or 0, abs=tol)


# ------------------------------------------------------------------------ recording -> EDF+


def test_recording_exports_with_its_analysis_and_reads_back(rec, tmp_path, capsys):
    edf = tmp_path / "out" / "night.edf"
    assert cli.main(["export", str(rec), "--edf", str(edf)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(edf)
    assert err.count("\n") == 1 and "(from analysis)" in err and "2 gaps" in err

    back = read_back(edf)
    assert back["labels"] == ["Accel X", "Accel Y", "Accel Z"]
    assert back["fs"] == [FS] * 3 and back["dimension"] == ["g"] * 3
    assert back["start"].isoformat() == "2025-11-25T22:10:03"
    assert back["subsecond"] == 2_500_000  # 0.25 s

    # Samples: every real sample at its slot, unchanged; the gaps hold the marker.
    t, xyz = samples_of(rec)
    slots = np.rint(t * FS).astype(int)
    digital = back["digital"]
    assert np.array_equal(digital[slots], to_digital(xyz, -8, 8)[0])
    assert np.allclose(back["physical"][slots], xyz, atol=1e-6)
    padded = np.setdiff1d(np.arange(digital.shape[0]), slots)
    assert (digital[padded] == PAD_DIGITAL).all()
    assert padded.size == sum(round((b - a) * FS) for a, b in CUT) + (-slots[-1] - 1) % FS

    # Annotations: the events the analysis finds, and the gaps.
    analysis = analyze_stream(open_recording(rec))
    want = expected_annotations(analysis.events, open_recording(rec).gaps)
    # (30 min hold no sleep period, so no leg movement is scored: turn-overs, the rest, gaps)
    assert {w[2] for w in want} >= {"gap", "large_movement", "other"}
    assert_same_annotations(back["annotations"], want)
    # ... and the same again in the EDFbrowser CSV beside it.
    with open(events_csv_path(edf), newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["onset", "duration", "description"]
    assert_same_annotations(
        sorted((float(o), float(d) if d else None, s) for o, d, s in rows[1:]), want
    )


def test_edfio_reads_the_same_file(rec, tmp_path):
    edf = tmp_path / "night.edf"
    result = export_edf(rec, edf)
    back = edfio.read_edf(edf)
    assert back.num_signals == 3 and back.labels == ("Accel X", "Accel Y", "Accel Z")
    assert len(back.annotations) == result.n_events + len(result.gaps)
    assert back.signals[0].physical_range == (-8, 8)
    assert result.n_slots == round((samples_of(rec)[0][-1]) * FS) + 1
    assert result.held_slots == result.dropped_samples == result.clipped_samples == 0


def test_events_of_a_recording_live_fresh_and_stored(tmp_path):
    t = np.arange(0, 120, 1 / FS)
    xyz = np.zeros((t.size, 3))
    xyz[:, 2] = 1
    rec = tmp_path / "rec"
    with RecordingWriter(rec, fs=FS, range_g=4, start_utc=START) as writer:
        writer.append(t, xyz)
        writer.add_event({"kind": "status", "battery": 80})  # no onset: not an annotation
        writer.add_event({"onset_s": 10.5, "duration_s": 0.3, "label": "hypnic_jerk"})
        writer.add_event({"onset_s": 60.0, "text": "note, with a comma"})
    result = export_edf(rec, tmp_path / "live.edf", events="live")
    assert result.events_source == str(rec / "events.jsonl")
    assert read_back(tmp_path / "live.edf")["annotations"] == [
        (10.5, 0.3, "hypnic_jerk"), (60.0, None, "note, with a comma")
    ]
    assert events_csv_path(tmp_path / "live.edf").read_text().splitlines()[1:] == [
        "10.5,0.3,hypnic_jerk", "60,,note  with a comma"
    ]
    # By default a fresh analysis: a still night has no events at all.
    result = export_edf(rec, tmp_path / "fresh.edf")
    assert result.events_source == "analysis" and result.n_events == 0
    # The analysis `hypnic record` stores in the recording, when there is one.
    (rec / "analysis").mkdir()
    (rec / "analysis" / "events.csv").write_text(
        "onset_s,duration_s,peak_g,label,series\n5,1.5,0.2,plm,2\n7,,0.1,lm,\n"
    )
    result = export_edf(rec, tmp_path / "stored.edf")
    assert result.events_source == str(rec / "analysis" / "events.csv")
    assert read_back(tmp_path / "stored.edf")["annotations"] == [
        (5.0, 1.5, "plm 2"), (7.0, None, "lm")
    ]


# ------------------------------------------------------------------- output folder -> EDF+


def test_output_folder_exports_its_events_with_the_samples_of_its_source(rec, tmp_path, capsys):
    out = tmp_path / "det"
    assert cli.main(["detect", str(rec), "--out", str(out), "--no-report"]) == 0
    edf = tmp_path / "det.edf"
    assert cli.main(["export", str(out), "--edf", str(edf)]) == 0
    capsys.readouterr()
    with open(out / "events.csv", newline="") as fh:
        events = [
            Event(onset_s=float(r["onset_s"]), duration_s=float(r["duration_s"]),
                  label=r["label"], series=r["series"])
            for r in csv.DictReader(fh)
        ]
    want = expected_annotations(events, open_recording(rec).gaps)
    assert_same_annotations(read_back(edf)["annotations"], want)

    # The samples moved away: a one-line error that says what to do instead.
    summary = json.loads((out / "summary.json").read_text())
    moved = tmp_path / "moved"
    shutil.copytree(out, moved)
    summary["source"] = str(tmp_path / "gone")
    (moved / "summary.json").write_text(json.dumps(summary))
    assert cli.main(["export", str(moved), "--edf", str(tmp_path / "x.edf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--events" in err and "not there any more" in err
    # Other samples than the analysis saw.
    summary["source"] = str(rec)
    summary["n_samples"] += 1
    (moved / "summary.json").write_text(json.dumps(summary))
    assert cli.main(["export", str(moved), "--edf", str(tmp_path / "x.edf")]) == 2
    assert "not the samples this analysis was made from" in capsys.readouterr().err
    assert not (tmp_path / "x.edf").exists() and not (tmp_path / "x.events.csv").exists()


def test_a_csv_gets_its_start_and_an_analysis(tmp_path, capsys):
    rng = np.random.default_rng(1)
    t = np.arange(7488) / 12.48 + rng.uniform(-0.01, 0.01, 7488)  # a slow, jittery clock
    xyz = rng.normal(0, 0.003, (t.size, 3)) + [0, 0, 1]
    path = tmp_path / "night.csv"
    np.savetxt(path, np.column_stack([t - t[0], xyz]), delimiter=",", header="t,x,y,z",
               comments="", fmt="%.6f")
    edf = tmp_path / "night.edf"
    start = "2025-03-01T23:15:00+01:00"
    assert cli.main(["export", str(path), "--edf", str(edf), "--start", start]) == 0
    err = capsys.readouterr().err
    assert "slots held from the previous sample" in err
    back = read_back(edf)
    assert back["fs"] == [12.5] * 3  # the nominal rate nearest the CSV's clock
    assert back["start"].isoformat() == "2025-03-01T22:15:00"  # UTC
    assert back["annotations"] == []


# -------------------------------------------------------------------------------- the grid


def grid_reference(t, digital, fs, gap_s, reader_gaps):
    """Slot by slot in plain Python: the rules of the module docstring, nothing else."""
    out, gaps = [], []
    held = dropped = 0
    last_slot, last_t, last_row = -1, -math.inf, [PAD_DIGITAL] * 3
    for ti, row in zip(t.tolist(), digital.tolist(), strict=True):
        slot = int(np.rint(ti * fs))
        if slot <= last_slot or slot < 0:
            dropped += 1
            continue
        a, b = last_slot + 1, slot
        if b > a:
            if ti - last_t > gap_s or any(g0 < b / fs and a / fs < g1 for g0, g1 in reader_gaps):
                out += [[PAD_DIGITAL] * 3] * (b - a)
                gaps.append([a / fs, b / fs])
            else:
                out += [last_row] * (b - a)
                held += b - a
        out.append(row)
        last_slot, last_t, last_row = slot, ti, row
    return np.array(out, dtype=np.int16).reshape(-1, 3), gaps, held, dropped


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.floats(0.9, 1.1),  # jitter around one period
            st.floats(0.01, 0.6),  # too close: the same slot
            st.floats(1.6, 2.4),  # one slot missing
            st.floats(2.6, 400.0),  # a gap
        ),
        min_size=1,
        max_size=120,
    ),
    cuts=st.lists(st.integers(1, 119), max_size=6),
    reader_gap=st.booleans(),
    fs=st.sampled_from([12.5, 25.0, 100.0]),
)
def test_grid_matches_the_slow_reference(steps, cuts, reader_gap, fs):
    t = np.cumsum(steps) / fs - steps[0] / fs
    xyz = np.random.default_rng(len(steps)).uniform(-2, 2, (t.size, 3))
    digital = to_digital(xyz, -8, 8)[0]
    gap_s = gap_threshold_s(fs, BurstParams())
    reader = [[float(t[t.size // 2]) - 1.0 / fs, float(t[t.size // 2])]] if reader_gap else []
    want, gaps, held, dropped = grid_reference(t, digital, fs, gap_s, reader)
    grid = SampleGrid(fs, -8, 8, gap_s, lambda: reader)
    edges = [0, *sorted({c for c in cuts if c < t.size}), t.size]
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        grid.add(SampleChunk(t[a:b], xyz[a:b]))
    axes = grid.axes(7)
    got = np.stack(axes, axis=1)
    assert got.shape[0] % 7 == 0 and all(ax.flags.c_contiguous for ax in axes)
    assert np.array_equal(got[: want.shape[0]], want)
    assert (got[want.shape[0] :] == PAD_DIGITAL).all()
    assert grid.gaps == gaps and grid.held_slots == held and grid.dropped_samples == dropped
    assert grid.n_samples == t.size


@pytest.mark.parametrize(
    ("fs", "rate", "record_s"),
    [
        (25.000000000000533, 25.0, 1),
        (51.99999999998818, 52.0, 1),
        (625 / 6 * (1 + 1e-13), 625 / 6, 1.008),
        (12.48, 12.5, 2),
        (1000.2, 1000.0, 1),
    ],
)
def test_grid_layout_takes_the_nearest_nominal_rate(fs, rate, record_s):
    layout = grid_layout(fs)
    assert layout.fs == pytest.approx(rate, rel=1e-12)
    assert float(layout.duration) == record_s


def test_grid_layout_refuses_a_rate_no_record_holds():
    with pytest.raises(ValueError, match="near 7.77 Hz"):
        grid_layout(7.77)


def test_annotation_texts():
    assert edf_export.annotation_text("plm", "3") == "plm 3"
    assert edf_export.annotation_text("plm", 3.0) == "plm 3"
    assert edf_export.annotation_text("lm", "") == "lm"
    assert edf_export.annotation_text("a\x14b\x00c") == "a b c"  # no TAL delimiters
    assert events_csv_path("x/night.EDF").name == "night.events.csv"
    assert events_csv_path("x/night").name == "night.events.csv"


# ------------------------------------------------------------------ bad input, atomic writes


@pytest.fixture
def bad_events(tmp_path):
    path = tmp_path / "bad_events.csv"
    path.write_text("onset_s,duration_s,label\n1.0,0.5,lm\nsoon,0.5,lm\n")
    return path


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["{tmp}/nowhere", "--edf", "{tmp}/a.edf"], "no such file"),
        (["{tmp}", "--edf", "{tmp}/a.edf"], "neither a recording folder nor an output folder"),
        (["{rec}", "--edf", "{tmp}"], "is a folder"),
        (["{rec}", "--edf", "{rec}/signal.edf"], "would overwrite or write into the input"),
        (["{rec}", "--edf", "{rec}/night.edf"], "would overwrite or write into the input"),
        (["{rec}", "--edf", "{tmp}/a.edf", "--events", "{tmp}/none.csv"], "no such events file"),
        (["{rec}", "--edf", "{tmp}/a.edf", "--events", "{bad}"], "line 3: onset_s 'soon'"),
        (["{bad}", "--edf", "{tmp}/a.edf", "--events", "live"], "needs a recording folder"),
        (["{rec}", "--edf", "{tmp}/a.edf", "--sleep-onset", "1e9"], "outside the recording"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_nothing_written(
    rec, tmp_path, bad_events, capsys, args, needle
):
    before = sorted(p.name for p in rec.iterdir())
    argv = ["export"] + [a.format(tmp=tmp_path, rec=rec, bad=bad_events) for a in args]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hypnic: error: ") and needle in err
    assert not (tmp_path / "a.edf").exists() and not (tmp_path / "a.events.csv").exists()
    assert sorted(p.name for p in rec.iterdir()) == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_two_sensor_night_names_its_recordings(rec, tmp_path, capsys):
    shutil.copytree(rec, tmp_path / "night" / "ankle")
    assert cli.main(["export", str(tmp_path / "night"), "--edf", str(tmp_path / "a.edf")]) == 2
    assert "export ankle one by one" in capsys.readouterr().err


def test_a_failed_write_leaves_neither_file_nor_temporary(rec, tmp_path, monkeypatch):
    edf = tmp_path / "night.edf"
    edf.write_bytes(b"an older export")

    def broken_write(self, target):
        target.write(b"0       half a header")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(edfio.Edf, "write", broken_write)
    with pytest.raises(InputError, match="No space left on device"):
        export_edf(rec, edf)
    assert edf.read_bytes() == b"an older export"
    assert not events_csv_path(edf).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["night.edf"]
