"""``hypnic simulate``: CSV and truth round trip, bad options, nothing half-written."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow.csv as pacsv
import pytest

import hypnic.cli as cli
from hypnic.benchmarks.synth import simulate_night
from hypnic.benchmarks.synth_io import atomic_files, write_night_csv
from hypnic.benchmarks.synth_params import (
    coarse_sensor,
    default_params,
    quiet_sleeper,
    robust_params,
    with_removals,
)
from hypnic.benchmarks.synth_temperature import hold
from hypnic.recordings.errors import InputError


@pytest.fixture
def hypnic(monkeypatch):
    """Run the real CLI entry point with only this command registered (others may be absent)."""
    monkeypatch.setattr(cli, "COMMANDS", ("simulate",))
    return cli.main


def _read_csv(path, temperature=True):
    table = pacsv.read_csv(path)
    assert table.column_names == ["t", "x", "y", "z"] + (["temperature"] if temperature else [])
    t = table["t"].to_numpy()
    xyz = np.column_stack([table[c].to_numpy() for c in "xyz"]).astype(np.float32)
    return t, xyz


def _read_temperature(path):
    return pacsv.read_csv(path)["temperature"].to_numpy(zero_copy_only=False)


def test_round_trip(hypnic, tmp_path, capsys):
    out = tmp_path / "night.csv"
    args = [
        "simulate",
        "--seed",
        "5",
        "--fs",
        "1600",
        "--hours",
        "0.02",
        "--placement",
        "left_ankle",
        "--out",
        str(out),
        "--gaps",
        "--noise",
        "120",
        "--rotate",
        "--amplitude-scale",
        "1.5",
    ]
    assert hypnic(args) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(out), str(tmp_path / "night.truth.json")]
    night = simulate_night(
        5,
        1600.0,
        0.02,
        "left_ankle",
        noise_density=120.0,
        rotation="random",
        amplitude_scale=1.5,
        gaps=True,
    )
    t, xyz = _read_csv(out)
    np.testing.assert_array_equal(t, night.t)  # shortest round-trip text: bit-exact
    np.testing.assert_array_equal(xyz, night.xyz)
    assert out.read_text().startswith("t,x,y,z,temperature\n")
    # The thermometer: every row holds the latest reading (one per block of samples).
    temp = _read_temperature(out)
    tr, vr = night.temperature
    np.testing.assert_array_equal(temp, hold(night.t, tr, vr))
    assert set(np.unique(temp)) == set(np.unique(vr))
    truth = json.loads((tmp_path / "night.truth.json").read_text())
    assert truth == json.loads(json.dumps(night.truth))
    assert truth["noise_density_ug"] == 120.0 and truth["placement"] == "left_ankle"
    assert sorted(os.listdir(tmp_path)) == ["night.csv", "night.truth.json"]


def test_robust_and_nonwear_options(hypnic, tmp_path):
    out = tmp_path / "sub" / "r.csv"
    assert (
        hypnic(
            [
                "simulate",
                "--seed",
                "3",
                "--fs",
                "12.5",
                "--hours",
                "0.5",
                "--robust",
                "--nonwear",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    truth = json.loads((tmp_path / "sub" / "r.truth.json").read_text())
    assert truth["params"] == "robust" and truth["nonwear"]
    expected = simulate_night(3, 12.5, 0.5, "wrist", robust_params(), nonwear=True)
    np.testing.assert_array_equal(_read_csv(out)[1], expected.xyz)


def test_removals_coarse_and_no_temperature(hypnic, tmp_path):
    out = tmp_path / "c.csv"
    argv = ["simulate", "--seed", "4", "--fs", "12.5", "--hours", "6.5", "--placement", "ankle",
            "--removals", "--coarse", "--out", str(out)]
    assert hypnic(argv) == 0
    truth = json.loads((tmp_path / "c.truth.json").read_text())
    p = with_removals(quiet_sleeper(coarse_sensor(default_params())))
    expected = simulate_night(4, 12.5, 6.5, "ankle", p, nonwear=True)
    assert truth["params"] == "default+coarse+quiet" and truth["nonwear_model"] == "removals"
    assert truth["nonwear"] == expected.truth["nonwear"] and truth["nonwear"]
    assert truth["lsb_g"] == pytest.approx(16.0 / 4096.0)
    t, xyz = _read_csv(out)
    np.testing.assert_array_equal(xyz, expected.xyz)
    # Off the skin the sensor cools towards the room.
    temp = _read_temperature(out)
    s, e = truth["nonwear"][0]
    inside = temp[(t >= s) & (t < e)]
    assert inside.min() < temp.max() - 2.0
    plain = tmp_path / "p.csv"
    assert hypnic(argv[:-2] + ["--no-temperature", "--out", str(plain)]) == 0
    np.testing.assert_array_equal(_read_csv(plain, temperature=False)[1], expected.xyz)
    assert plain.read_text().startswith("t,x,y,z\n")


@pytest.mark.parametrize(
    "bad, where",
    [
        (["--fs", "0"], "--fs"),
        (["--fs", "nan"], "--fs"),
        (["--hours", "-1"], "--hours"),
        (["--hours", "1e6"], "--hours"),
        (["--seed", "-3"], "--seed"),
        (["--noise", "-5"], "--noise"),
        (["--amplitude-scale", "inf"], "--amplitude-scale"),
    ],
)
def test_bad_options_fail_cleanly(hypnic, tmp_path, capsys, bad, where):
    base = {"--seed": "1", "--fs": "25", "--hours": "0.01"}
    opts = dict(base)
    opts.update(dict(zip(bad[::2], bad[1::2], strict=True)))
    argv = ["simulate", "--out", str(tmp_path / "n.csv")] + [x for kv in opts.items() for x in kv]
    assert hypnic(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hypnic: error: {where}: ") and err.count("\n") == 1
    assert os.listdir(tmp_path) == []


def test_unwritable_out_fails_before_work(hypnic, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert (
        hypnic(
            [
                "simulate",
                "--seed",
                "1",
                "--fs",
                "25",
                "--hours",
                "0.01",
                "--out",
                str(blocker / "n.csv"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert (
        err.startswith(f"hypnic: error: {blocker / 'n.csv'}: cannot write here")
        and err.count("\n") == 1
    )
    (tmp_path / "dir.csv").mkdir()
    assert (
        hypnic(
            [
                "simulate",
                "--seed",
                "1",
                "--fs",
                "25",
                "--hours",
                "0.01",
                "--out",
                str(tmp_path / "dir.csv"),
            ]
        )
        == 2
    )
    assert "is a folder" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["dir.csv", "file"]


def test_usage_errors_exit_2(hypnic, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        hypnic(["simulate", "--seed", "1", "--fs", "25", "--out", str(tmp_path / "n.csv")])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        hypnic(
            [
                "simulate",
                "--seed",
                "1",
                "--fs",
                "25",
                "--hours",
                "1",
                "--placement",
                "hip",
                "--out",
                str(tmp_path / "n.csv"),
            ]
        )
    assert exc.value.code == 2
    assert os.listdir(tmp_path) == []


def test_failure_mid_write_leaves_nothing(tmp_path):
    target = tmp_path / "n.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_files([target, tmp_path / "n.truth.json"]) as tmp:
        write_night_csv(tmp[0], np.arange(3.0), np.zeros((3, 3), np.float32))
        raise RuntimeError("generator failed")
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["n.csv"]
    with pytest.raises(InputError):
        with atomic_files([tmp_path / "n.csv" / "x.csv"]):
            pass
