"""``hypnic bench [--json]`` plumbing on a tiny configuration (the figures need the full run)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hypnic.benchmarks import speed

CONTRACT_KEYS = (
    "pipeline_samples_per_s",
    "kernel_vs_memory_pass",
    "pipeline_vs_numpy_reference",
    "pipeline_7d_100hz_s",
)


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    """``hypnic bench --json`` through the CLI, with the smoke sizes."""
    import hypnic.cli as cli

    mp = pytest.MonkeyPatch()
    mp.setattr(speed, "DEFAULT", speed.SMOKE)
    import contextlib
    import io

    buf = io.StringIO()
    try:
        with contextlib.redirect_stdout(buf):
            rc = cli.main(["bench", "--json"])
    finally:
        mp.undo()
    assert rc == 0
    return json.loads(buf.getvalue())


def test_json_has_the_contract_keys(bench_json):
    for key in CONTRACT_KEYS:
        assert isinstance(bench_json[key], float) and math.isfinite(bench_json[key]), key
        assert bench_json[key] > 0, key
    assert set(bench_json["targets"]) == {"kernel_vs_memory_pass", "pipeline_vs_numpy_reference",
                                          "pipeline_7d_100hz_s"}
    m = bench_json["machine"]
    assert m["cpu"] and m["numpy"] == np.__version__ and m["numba"] and m["scipy"]


def test_every_stage_is_measured(bench_json):
    stages = bench_json["stages"]
    for key in ("memory_pass", "csv_pyarrow", "csv_numpy_loadtxt", "burst_kernel", "classifier",
                "sleep_onset", "night_scoring", "pipeline", "reference_pipeline",
                "reference_bandpass", "reference_noise"):
        assert stages[key]["samples_per_s"] > 0, key
        assert stages[key]["min_s"] <= stages[key]["median_s"], key
    # One compiled signature: the timed calls did not recompile (ECOSYSTEM.md §6).
    assert stages["burst_kernel"]["signatures"] == 1
    st = bench_json["streaming"]
    assert st["chunk_samples"] == 25 and st["process_median_us"] > st["kernel_median_us"] > 0
    assert [m["days"] for m in bench_json["memory"]] == list(speed.SMOKE.memory_days)
    assert bench_json["replay"]["samples"] == round(speed.SMOKE.days * 86400 * 100)


def test_ratios_are_the_stage_times_divided(bench_json):
    s = bench_json["stages"]
    assert bench_json["kernel_vs_memory_pass"] == pytest.approx(
        s["burst_kernel"]["median_s"] / s["memory_pass"]["median_s"])
    assert bench_json["pipeline_vs_numpy_reference"] == pytest.approx(
        s["reference_pipeline"]["median_s"] / s["pipeline"]["median_s"])


def test_table_shows_headline_and_stages(bench_json):
    table = speed.format_table(bench_json)
    for text in (*CONTRACT_KEYS, "WHOLE PIPELINE", "REFERENCE PIPELINE", "read CSV (pyarrow",
                 "25 samples a call", "peak traced memory"):
        assert text in table


def test_tiled_replay_is_the_night_repeated():
    from hypnic.recordings.samples import StreamInfo

    class Night:
        t = np.arange(1000) / 50.0
        xyz = np.random.default_rng(0).normal(size=(1000, 3)).astype(np.float32)
        info = StreamInfo("test", 50.0)

    tiled = speed._Tiled(Night, days=2600 / (86400 * 50.0), chunk=300)
    chunks = list(tiled.chunks())
    t = np.concatenate([c.t for c in chunks])
    xyz = np.concatenate([c.xyz for c in chunks])
    assert t.size == tiled.n_total == 2600
    np.testing.assert_allclose(np.diff(t), 1 / 50.0, rtol=1e-9)
    np.testing.assert_array_equal(xyz, np.tile(Night.xyz, (3, 1))[:2600])
    assert tiled.gen_s > 0


@pytest.mark.slow
def test_compile_time_is_measured_in_fresh_processes():
    res = speed.measure_compile()
    assert res["cold"]["first_call_s"] > res["cold"]["second_call_s"]
    assert res["cached"]["first_call_s"] > 0
