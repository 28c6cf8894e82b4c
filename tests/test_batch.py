"""``hypnic batch``: a cohort on dask.distributed, isolated failures, reruns that do no work."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hypnic.batch as batch
import hypnic.cli as cli
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.results import NightSummary

N_GOOD = 10


@pytest.fixture(autouse=True)
def _batch_command(monkeypatch):
    """The command is wired into the CLI (the lead adds it to COMMANDS; harmless once there)."""
    if "batch" not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, "batch"))


def hypnic(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> tuple[list[Path], list[Path]]:
    """Ten 1-h nights at 12.5 Hz (wrist and ankle) as CSV, and two corrupt files."""
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.benchmarks.synth_io import write_night_csv

    d = tmp_path_factory.mktemp("cohort")
    good = []
    for seed in range(N_GOOD):
        night = simulate_night(seed, 12.5, 1.0, "ankle" if seed % 2 else "wrist")
        good.append(d / f"night{seed:02d}.csv")
        write_night_csv(good[-1], night.t, night.xyz)
    truncated = d / "truncated.csv"  # a copy that ends in the middle of a row, then garbage
    text = good[0].read_text()
    truncated.write_text(text[: len(text) // 2].rsplit(",", 1)[0] + ",0.1,oops\n")
    garbage = d / "garbage.csv"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return good, [truncated, garbage]


def test_batch_on_a_local_cluster_then_a_rerun_that_does_no_work(cohort, tmp_path, monkeypatch):
    good, bad = cohort
    out = tmp_path / "out"
    rc, stdout, stderr = hypnic("batch", *good, *bad, "--out", out, "--workers", 2)
    assert rc == 0, stderr
    assert stdout.split() == [str(out / "nights.csv"), str(out / "errors.csv")]

    nights = read_csv(out / "nights.csv")
    assert [r["file"] for r in nights] == [str(p) for p in good]  # one night each, input order
    assert list(nights[0]) == list(batch.NIGHT_COLUMNS)
    for row, path in zip(nights, good):
        summary = json.loads((out / path.stem / "summary.json").read_text())
        assert (out / path.stem / "events.csv").is_file()
        assert row["night"] == "1"
        assert float(row["sleep_onset_s"]) == summary["sleep_onset_s"]
        assert row["jerks_around_onset"] == str(summary["jerks_first_30_min"])
        for label, count in summary["counts"].items():
            assert int(row[f"n_{label}"]) == count
        assert row["placement"] == summary["placement"]

    errors = read_csv(out / "errors.csv")
    assert [e["file"] for e in errors] == [str(p) for p in bad]
    for e, path in zip(errors, bad):
        # The same one-line error as the file gives when analysed on its own.
        alone = batch.process_file(batch.Job(str(path), str(tmp_path / "alone")))
        assert e["error"] == alone["error"]
        assert "\n" not in e["error"] and e["error"].startswith(f"{path}: ")
        assert not (out / path.stem).exists()  # nothing half-written for a failed file

    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}

    def no_work(*args, **kwargs):
        raise AssertionError("the rerun started work")

    monkeypatch.setattr(batch, "_run_jobs", no_work)
    rc, _, stderr = hypnic("batch", *good, *bad, "--out", out, "--workers", 2)
    assert rc == 0, stderr
    assert f"0 file(s) analysed now, {N_GOOD} skipped" in stderr
    for p, mtime in before.items():
        if p.name not in ("nights.csv", "errors.csv", batch.FAILED_STATE):
            assert p.stat().st_mtime_ns == mtime, p  # the per-night outputs were left alone
    assert read_csv(out / "nights.csv") == nights
    assert read_csv(out / "errors.csv") == errors


def test_existing_scheduler(cohort, tmp_path):
    from distributed import LocalCluster

    good, bad = cohort
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                      scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"}) as cluster:
        rc, _, stderr = hypnic("batch", good[3], bad[1], "--out", tmp_path, "--scheduler",
                               cluster.scheduler_address)
    assert rc == 0, stderr
    assert [r["file"] for r in read_csv(tmp_path / "nights.csv")] == [str(good[3])]
    assert [r["file"] for r in read_csv(tmp_path / "errors.csv")] == [str(bad[1])]


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--workers", "0"], "--workers: must be at least 1"),
        (["--scheduler", "no-port-here"], "--scheduler: cannot connect"),
        (["--scheduler", "tcp://127.0.0.1:1", "--workers", "2"], "--workers: sets the local"),
    ],
)
def test_bad_arguments_exit_2_with_one_line_and_no_output(cohort, tmp_path, argv, problem):
    out = tmp_path / "out"
    rc, stdout, stderr = hypnic("batch", cohort[0][0], "--out", out, *argv)
    assert rc == 2 and stdout == ""
    assert stderr.startswith(f"hypnic: error: {problem}") and stderr.count("\n") == 1
    assert not out.exists()


def test_out_that_is_a_file_is_a_bad_argument(cohort, tmp_path):
    out = tmp_path / "taken"
    out.write_text("x")
    rc, _, stderr = hypnic("batch", cohort[0][0], "--out", out)
    assert rc == 2 and "--out exists and is not a folder" in stderr


def test_plan_skips_finished_and_unchanged_rejected_files(cohort, tmp_path):
    good, bad = cohort
    out = tmp_path / "out"
    done = out / good[0].stem
    done.mkdir(parents=True)
    (done / "summary.json").write_text(json.dumps({"source": str(good[0])}))
    other = out / good[1].stem  # a summary from another file is not this file's marker
    other.mkdir()
    (other / "summary.json").write_text(json.dumps({"source": "/elsewhere/night01.csv"}))
    key = batch._file_key(str(bad[0]))
    (out / batch.FAILED_STATE).write_text(json.dumps(
        {str(bad[0].resolve()): {"key": key, "error": "old error"},
         str(bad[1].resolve()): {"key": [0, 0], "error": "file changed since"}}))
    missing = tmp_path / "missing.csv"
    inputs = [str(p) for p in (good[0], good[1], bad[0], bad[1], missing)]
    jobs, todo, carried = batch.plan(inputs, out, AnalysisOptions(), retry_failed=False)
    assert [j.path for j in jobs] == inputs
    assert [j.path for j in todo] == [str(good[1]), str(bad[1])]
    assert carried == [(str(bad[0]), "old error"), (str(missing), f"{missing}: no such file")]
    _, todo, _ = batch.plan(inputs, out, AnalysisOptions(), retry_failed=True)
    assert [j.path for j in todo] == [str(good[1]), str(bad[0]), str(bad[1])]


def test_a_crash_in_one_file_is_an_error_row_not_an_exception(cohort, tmp_path, monkeypatch):
    import hypnic.pipeline

    def boom(*args, **kwargs):
        raise RuntimeError("kernel exploded\nwith a second line")

    monkeypatch.setattr(hypnic.pipeline, "analyze_stream", boom)
    r = batch.process_file(batch.Job(str(cohort[0][0]), str(tmp_path / "o")))
    assert r["ok"] is False and r["kind"] == "internal"
    assert r["error"] == f"{cohort[0][0]}: RuntimeError: kernel exploded with a second line"


@given(st.lists(st.sampled_from(["a/n.csv", "b/n.csv", "n.csv.gz", "c/m.CSV", "m", "d/n.cwa"]),
                min_size=1, max_size=6, unique=True))
def test_output_names_are_unique_and_do_not_depend_on_order(paths):
    names = batch.output_names(paths)
    assert len(set(names)) == len(names)
    rev = batch.output_names(paths[::-1])[::-1]
    assert rev == names
    assert all(n and "/" not in n for n in names)


def test_night_rows_one_per_night_with_quality():
    night = {
        "window_s": [0.0, 86400.0], "complete": True, "sleep_onset_s": 3600.0,
        "sleep_onset_source": "detected", "sleep_end_s": 30000.0, "sleep_period_s": 26400.0,
        "jerks_first_30_min": 2, "plms_index": 5.5, "periodicity_index": 0.4,
        "counts": {"hypnic_jerk": 2, "plm": 10, "lm": 3, "large_movement": 7, "other": 1},
        "gaps": [[100.0, 200.0]], "nonwear": [[1000.0, 9000.0]], "placement": "ankle",
        "rules": "wasm", "sleep_onset_reason": None, "plms_index_reason": None,
    }
    second = {**night, "window_s": [86400.0, 100000.0], "complete": False, "gaps": [],
              "nonwear": [], "sleep_onset_s": None, "sleep_onset_reason": "no sleep found"}
    rows = batch.night_rows("f.csv", "f", NightSummary.from_dict({**night, "nights": [night, second]}))
    assert [r["night"] for r in rows] == [1, 2]
    assert rows[0]["n_plm"] == 10 and rows[0]["gaps_s"] == 100.0 and rows[0]["nonwear_s"] == 8000.0
    assert rows[0]["valid_fraction"] == pytest.approx(1 - 8100 / 86400, abs=1e-4)
    assert rows[0]["quality"] == "ok"
    assert rows[1]["quality"] == "incomplete night (recording starts or ends inside it); no sleep found"
    single = batch.night_rows("g.csv", "g", NightSummary.from_dict({**night, "nonwear": [[0.0, 20000.0]]}))
    assert len(single) == 1 and single[0]["quality"].startswith("only 77% of the night")


def test_batch_module_needs_no_dask_until_it_runs():
    # `hypnic --help` and every other command never import dask.
    import subprocess
    import sys

    code = "import hypnic.commands.batch, hypnic.batch, sys; print('distributed' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1], env={**os.environ}, timeout=60)
    assert res.stdout.strip() == "False", res.stderr
