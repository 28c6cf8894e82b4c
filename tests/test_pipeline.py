"""`hypnic detect` end to end on a synthetic night, and the accuracy smoke grid."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from hypnic.cli import main
from hypnic.detector.options import AnalysisOptions

CONTRACT_COLUMNS = ["onset_s", "duration_s", "peak_g", "label", "series", "confidence", "minutes_from_onset"]
SUMMARY_KEYS = {
    "sleep_onset_s", "sleep_onset_window_s", "sleep_onset_source", "placement", "rules", "counts",
    "jerks_first_30_min", "plms_index", "periodicity_index", "sleep_period_s", "gaps", "nonwear",
    "version", "parameters",
}
LABELS = {"hypnic_jerk", "plm", "lm", "large_movement", "other"}


@pytest.fixture(scope="module")
def night_csv(tmp_path_factory):
    d = tmp_path_factory.mktemp("night")
    path = d / "night.csv"
    assert main(["simulate", "--seed", "5", "--fs", "12.5", "--hours", "3", "--placement", "ankle",
                 "--out", str(path)]) == 0
    return path


def read_events(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_detect_writes_the_contract_outputs(night_csv, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["detect", str(night_csv), "--placement", "ankle", "--out", str(out), "--no-report"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    rows = read_events(out / "events.csv")
    with open(out / "events.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header[: len(CONTRACT_COLUMNS)] == CONTRACT_COLUMNS
    assert rows, "a night has events"
    onsets = [float(r["onset_s"]) for r in rows]
    assert onsets == sorted(onsets)
    assert {r["label"] for r in rows} <= LABELS
    summary = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= summary.keys()
    assert summary["sleep_onset_source"] == "detected"
    lo, hi = summary["sleep_onset_window_s"]
    assert lo <= summary["sleep_onset_s"] <= hi
    assert summary["counts"] == {lab: sum(r["label"] == lab for r in rows) for lab in LABELS}
    for r in rows:
        if r["label"] == "plm":
            assert int(r["series"]) >= 1
        else:
            assert r["series"] == ""


def test_given_onset_and_wrist_placement(night_csv, tmp_path):
    out = tmp_path / "out"
    assert main(["detect", str(night_csv), "--placement", "wrist", "--sleep-onset", "1800",
                 "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sleep_onset_source"] == "given" and summary["sleep_onset_s"] == 1800
    assert summary["plms_index"] is None and "wrist" in summary["plms_index_reason"]
    rows = read_events(out / "events.csv")
    assert not any(r["label"] in ("plm", "lm") for r in rows)
    for r in rows:
        assert float(r["minutes_from_onset"]) == pytest.approx((float(r["onset_s"]) - 1800) / 60, abs=1e-3)


def test_unknown_placement_scores_every_label_and_says_so(night_csv, tmp_path):
    out = tmp_path / "out"
    assert main(["detect", str(night_csv), "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["placement"] == "unknown" and "placement unknown" in summary["placement_note"]


def test_chunked_reading_gives_the_same_events(night_csv):
    from hypnic.pipeline import analyze_stream
    from hypnic.recordings.csv_input import open_csv

    a = analyze_stream(open_csv(night_csv, chunk_rows=4096), AnalysisOptions(placement="ankle"))
    b = analyze_stream(open_csv(night_csv, chunk_rows=10**7), AnalysisOptions(placement="ankle"))
    assert a.events == b.events
    assert np.array_equal(a.bursts.events, b.bursts.events)


def test_accuracy_smoke_grid(capsys):
    assert main(["bench", "accuracy", "--smoke"]) == 0
    table = capsys.readouterr().out
    for key in ("jerk_burst_recall", "hypnic_jerk_f1", "plm_f1", "onset_err_median_min"):
        assert key in table


def test_the_pairs_condition_is_one_wrist_and_ankle_pair_per_seed_and_rate():
    from hypnic.benchmarks.accuracy import RATES, NightSpec, grid, run_night

    specs = grid(3, ["pairs", "robust_pairs"])
    assert len(specs) == 2 * 3 * len(RATES)
    assert {s.placement for s in specs} == {"wrist+ankle"}
    score = run_night(NightSpec("pairs", 1, 12.5, "wrist+ankle", hours=2.0))
    assert set(score.labels) >= {"hypnic_jerk", "plm", "lm", "large_movement"}
    assert score.onset_error_min is not None


def test_accuracy_cache_rescoring_gives_the_same_figures(tmp_path, monkeypatch, capsys):
    import hypnic.benchmarks.synth

    argv = ["bench", "accuracy", "--smoke", "--json", "--cache", str(tmp_path / "c")]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert len(list((tmp_path / "c").glob("*.npz"))) == 3

    def no_generation(*a, **k):
        raise AssertionError("a cached night was generated again")

    monkeypatch.setattr(hypnic.benchmarks.synth, "simulate_night", no_generation)
    assert main(argv + ["--jobs", "1"]) == 0
    assert json.loads(capsys.readouterr().out) == first


def test_accuracy_in_two_processes_gives_the_same_figures(capsys):
    assert main(["bench", "accuracy", "--smoke", "--json"]) == 0
    serial = json.loads(capsys.readouterr().out)
    assert main(["bench", "accuracy", "--smoke", "--json", "--jobs", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == serial
