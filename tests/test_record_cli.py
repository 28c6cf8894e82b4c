"""``hypnic record`` end to end: the simulated sensor, outputs, errors, signals, two sensors.

Done-when of issue 4: ``hypnic record --sensor sim --duration 20 --out REC`` works, and the
night's final events are those of ``hypnic detect`` on the generator's samples.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

import hypnic.cli
from hypnic.benchmarks.synth import simulate_night
from hypnic.detector.options import AnalysisOptions
from hypnic.firmware_bridge import scan as scan_module
from hypnic.record import LivePrinter, night_start_utc
from hypnic.recordings.edf_writer import to_digital
from hypnic.recordings.recording import open_recording

REPO = Path(__file__).resolve().parents[1]
ADAPTER = Path("/sys/class/bluetooth").exists()
SYSTEM_BUS = Path("/run/dbus/system_bus_socket").exists()


@pytest.fixture
def hypnic_cli(monkeypatch, capsys):
    """``hypnic`` with record (and detect, replay) registered; returns (status, out, err)."""
    names = ("record", "detect") + (
        ("replay",) if importlib.util.find_spec("hypnic.commands.replay") else ()
    )
    monkeypatch.setattr(hypnic.cli, "COMMANDS", names)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = hypnic.cli.main(list(argv))
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return status, out, err

    return run


@pytest.fixture
def no_fsync(monkeypatch):
    """Durability is the writer's own test; fsync here would only cost time."""
    monkeypatch.setattr(os, "fsync", lambda fd: None)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_record_sim_for_20_seconds(tmp_path, hypnic_cli):
    rec = tmp_path / "REC"
    status, out, err = hypnic_cli(
        "record", "--sensor", "sim", "--duration", "20", "--out", str(rec)
    )
    assert status == 0
    assert out.strip().splitlines()[-1] == str(rec / "analysis")
    meta = json.loads((rec / "meta.json").read_text())
    assert meta["state"] == "closed" and meta["fs"] == 52.0 and meta["protocol"] == "polar_pmd"
    assert 19.0 * 52 <= meta["n_samples"] <= 21.0 * 52
    assert (rec / "analysis" / "events.csv").is_file() and (
        rec / "analysis" / "summary.json"
    ).is_file()
    status_lines = [line for line in err.splitlines() if line.startswith("wrist ")]
    assert status_lines and "samples" in status_lines[-1] and "battery 90%" in status_lines[-1]
    assert "simulated sensor" in err


def test_final_events_are_those_of_detect_on_the_generators_samples(tmp_path, hypnic_cli, no_fsync):
    rec = tmp_path / "REC"
    status, out, _ = hypnic_cli(
        "record",
        "--sensor",
        "sim:seed=3,start=2400",
        "--duration",
        "1800",
        "--out",
        str(rec),
        "--no-report",
    )
    assert status == 0
    stream = open_recording(rec)
    meta, fs = stream.info.meta, stream.info.fs
    recorded = np.concatenate([c.xyz for c in stream])
    start = datetime.fromisoformat(stream.info.start_utc.replace("Z", "+00:00"))
    first = round((start - night_start_utc(3)).total_seconds() * fs)
    night = simulate_night(3, fs, 8.0, "wrist")
    generated = night.xyz[first : first + meta["n_samples"]]
    # The recording holds the generator's samples, to the EDF's resolution (16/65535 g).
    np.testing.assert_array_equal(to_digital(recorded, -8, 8)[0], to_digital(generated, -8, 8)[0])

    live = read_csv(rec / "analysis" / "events.csv")
    assert len(live) >= 10
    for name, xyz in (("exact", generated), ("as_recorded", recorded)):
        csv_path = tmp_path / f"{name}.csv"
        with open(csv_path, "w") as fh:
            fh.write("t,x,y,z\n")
            for i, (x, y, z) in enumerate(xyz.astype(np.float64).tolist()):
                fh.write(f"{i / fs!r},{x!r},{y!r},{z!r}\n")
        status, _, _ = hypnic_cli(
            "detect", str(csv_path), "--out", str(tmp_path / name), "--placement", "wrist",
            "--start", stream.info.start_utc, "--no-report",
        )  # fmt: skip
        assert status == 0
        detected = read_csv(tmp_path / name / "events.csv")
        assert len(detected) == len(live)
        for a, b in zip(live, detected, strict=True):
            for key in ("onset_s", "duration_s", "label", "series", "minutes_from_onset"):
                assert a[key] == b[key], (name, key, a, b)
            if name == "as_recorded":
                assert a == b  # the same samples: the same events, every column
            else:  # the EDF's 0.24 mg steps move peaks by less than a milli-g
                assert float(a["peak_g"]) == pytest.approx(float(b["peak_g"]), abs=1e-3)

    if "replay" in hypnic.cli.COMMANDS:
        status, _, _ = hypnic_cli(
            "replay", str(rec), "--out", str(tmp_path / "replayed"), "--no-report"
        )
        assert status == 0
        assert read_csv(tmp_path / "replayed" / "events.csv") == live

    # Every burst printed live is in events.jsonl and is a burst of the final analysis.
    printed = [line for line in out.splitlines() if line.startswith("burst ")]
    logged = [json.loads(x) for x in (rec / "events.jsonl").read_text().splitlines()]
    bursts = [e for e in logged if e["kind"] == "burst"]
    assert len(printed) == len(bursts) >= len(live)
    from hypnic.detector.classify import TRANSIENT_SPREAD_S
    from hypnic.pipeline import analyze_stream

    final = analyze_stream(open_recording(rec)).bursts.events
    live_on = np.array([b["onset_s"] for b in bursts])
    final_on = np.round(final["onset_s"], 4)
    short = final["spread_s"] < TRANSIENT_SPREAD_S
    assert live_on.shape == final_on.shape
    np.testing.assert_array_equal(live_on[~short], final_on[~short])
    # A transient's onset is re-measured on its raw samples once it has closed: never earlier
    # than the one printed live, and within the burst's first half second.
    assert np.all(final_on[short] >= live_on[short]) and np.all(final_on[short] - live_on[short] < 0.5)


@pytest.mark.parametrize(
    ("argv", "source", "problem"),
    [
        (["--sensor", "sim:seed=x"], "--sensor", "sim:seed=x: seed=x is not an integer"),
        (["--sensor", "sim:fs=51"], "--sensor", "no simulated sensor offers 51 Hz"),
        (["--sensor", "sim:colour=red"], "--sensor", "unknown option 'colour'"),
        (
            ["--sensor", "sim:model=verity,fs=50"],
            "sim:model=verity,fs=50",
            "offers sample rates 26, 52, 104, 208, 416 Hz, not 50 Hz",
        ),
        (
            ["--sensor", "sim:refuse=DEVICE_IN_CHARGER"],
            "sim:refuse=DEVICE_IN_CHARGER",
            "DEVICE_IN_CHARGER: the device is in its charger",
        ),
        (["--sensor", "sim", "--sensor", "sim"], "--sensor", "two sensors named 'wrist'"),
        (
            ["--sensor", "sim", "--sensor", "polar:AA:BB:CC:DD:EE:FF"],
            "--sensor",
            "simulated and real sensors",
        ),
        (["--sensor", "polar"], "--sensor", "give the sensor's address or name"),
        (["--sensor", "sim", "--duration", "-3"], "--duration", "must be a positive number"),
        (
            ["--sensor", "sim", "--speed", "fast"],
            "--speed",
            "positive factor of real time or 'max'",
        ),
        (
            ["--sensor", "sim:seed=1,placement=ankle", "--sensor", "sim:seed=2,placement=wrist"],
            "--sensor",
            "share one night",
        ),
    ],
)
def test_bad_options_and_refusals_are_one_line_with_nothing_written(
    tmp_path, hypnic_cli, argv, source, problem
):
    rec = tmp_path / "REC"
    duration = [] if "--duration" in argv else ["--duration", "5"]
    status, out, err = hypnic_cli("record", *argv, *duration, "--out", str(rec))
    assert status == 2
    lines = err.strip().splitlines()
    assert lines[-1].startswith(f"hypnic: error: {source}: ") and problem in lines[-1]
    assert not rec.exists() and list(tmp_path.iterdir()) == []


def test_an_existing_recording_is_never_overwritten(tmp_path, hypnic_cli):
    rec = tmp_path / "REC"
    rec.mkdir()
    (rec / "signal.edf").write_bytes(b"last night")
    status, _, err = hypnic_cli("record", "--sensor", "sim", "--duration", "5", "--out", str(rec))
    assert status == 2 and "already exists and is not an empty folder" in err
    assert (rec / "signal.edf").read_bytes() == b"last night"


@pytest.mark.skipif(ADAPTER, reason="this machine has a Bluetooth adapter")
def test_a_real_sensor_without_an_adapter_is_one_line(tmp_path, hypnic_cli):
    status, _, err = hypnic_cli(
        "record", "--sensor", "polar:AA:BB:CC:DD:EE:FF", "--out", str(tmp_path / "R")
    )
    assert status == 2
    assert err.strip() == (
        "hypnic: error: bluetooth: no Bluetooth adapter (/sys/class/bluetooth is absent: no "
        "radio, or its driver is not loaded)"
    )
    assert not (tmp_path / "R").exists()


@pytest.mark.skipif(SYSTEM_BUS, reason="this machine has a system D-Bus")
def test_missing_bluez_or_dbus_is_one_line(tmp_path, hypnic_cli, monkeypatch):
    """Past the adapter check bleak itself fails (FileNotFoundError for the bus socket)."""
    monkeypatch.setattr(scan_module, "check_adapter", lambda: None)
    status, _, err = hypnic_cli(
        "record", "--sensor", "Polar Sense 1234", "--out", str(tmp_path / "R"), "--timeout", "1"
    )
    assert status == 2
    assert err.strip().splitlines()[-1] == (
        "hypnic: error: Polar Sense 1234: BlueZ / the system D-Bus is not available (no "
        "system bus socket); install and start bluez and dbus"
    )


def test_two_sensors_make_two_aligned_recordings(tmp_path, hypnic_cli, no_fsync):
    rec = tmp_path / "REC"
    status, out, err = hypnic_cli(
        "record", "--sensor", "sim:seed=4,start=3000,placement=wrist,offset=2.5",
        "--sensor", "sim:seed=4,start=3000,placement=ankle,model=h10,fs=50",
        "--duration", "300", "--out", str(rec), "--no-report",
    )  # fmt: skip
    assert status == 0
    assert sorted(p.name for p in rec.iterdir()) == ["ankle", "wrist"]
    assert out.strip().splitlines()[-2:] == [
        str(rec / "wrist" / "analysis"),
        str(rec / "ankle" / "analysis"),
    ]
    starts = {}
    for label, fs in (("wrist", 52.0), ("ankle", 50.0)):
        stream = open_recording(rec / label)
        assert stream.info.placement == label and stream.info.fs == fs
        starts[label] = datetime.fromisoformat(stream.info.start_utc.replace("Z", "+00:00"))
        # Sample k of the recording is night sample first + k: the same night, aligned.
        first = (starts[label] - night_start_utc(4)).total_seconds() * fs
        assert first == pytest.approx(round(first), abs=1e-3)
        x = np.concatenate([c.xyz for c in stream])
        night = simulate_night(4, fs, 8.0, label).xyz[round(first) : round(first) + len(x)]
        if label == "ankle":  # an H10 sends whole milli-g
            night = np.rint(night.astype(np.float64) * 1000) / 1000
        np.testing.assert_array_equal(to_digital(x, -8, 8)[0], to_digital(night, -8, 8)[0])
    # The wrist's device clock is 2.5 s off; the host clock aligns both within a sample.
    assert abs((starts["wrist"] - starts["ankle"]).total_seconds()) < 0.1
    assert " || " in [line for line in err.splitlines() if line.startswith("wrist ")][-1]


def test_a_real_sensor_path_over_the_simulated_radio(tmp_path, monkeypatch, no_fsync):
    """The real-sensor path (scan by name, protocol from the advertisement, the host clock,
    the suspend warning), with the simulated backend standing in for the radio."""
    import asyncio

    from hypnic.firmware_bridge.clock import RealClock
    from hypnic.firmware_bridge.sim_backend import SimBleakClient, SimBleakScanner
    from hypnic.firmware_bridge.sim_device import SimConfig, SimWorld
    from hypnic.record import SUSPEND_WARNING, LiveRecorder, plan_recording, synthetic_night
    from hypnic.recordings.errors import InputError

    monkeypatch.setattr(scan_module, "check_adapter", lambda: None)
    world = SimWorld(RealClock(), synthetic_night)
    world.add(SimConfig(seed=6, start_s=3000.0, model="h10"))

    def record(sensor: str, out: Path):
        # hypnic record --sensor SENSOR --out OUT --duration 3 --timeout 1 --placement ankle
        plan = plan_recording(
            [sensor], out, AnalysisOptions(placement="ankle"), duration_s=3.0, timeout_s=1.0
        )
        err = io.StringIO()
        recorder = LiveRecorder(
            plan, LivePrinter(io.StringIO(), err, tty=False),
            scanner_kwargs={"backend": SimBleakScanner, "world": world},
            client_kwargs={"backend": SimBleakClient, "world": world},
        )  # fmt: skip
        return asyncio.run(recorder.run()), err.getvalue()

    (rec,), err = record("Polar H10 51000001", tmp_path / "REC")
    assert SUSPEND_WARNING in err
    meta = json.loads((tmp_path / "REC" / "meta.json").read_text())
    assert meta["protocol"] == "polar_pmd" and meta["fs"] == 50.0 and meta["placement"] == "ankle"
    assert meta["sensor"] == "Polar H10 51000001" and meta["timing"] == "device clock"
    assert 36 <= meta["n_samples"] <= 4.0 * 50  # real time: at least one frame in 3 s
    with pytest.raises(InputError, match="AA:BB:CC:DD:EE:FF: not found within 1 s"):
        record("polar:AA:BB:CC:DD:EE:FF", tmp_path / "R2")
    assert not (tmp_path / "R2").exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "ctrl-c"])
def test_a_signal_stops_the_night_cleanly_and_finalises_it(tmp_path, sig):
    rec = tmp_path / "REC"
    code = (
        "import sys, hypnic.cli as c; c.COMMANDS = ('record',); "
        "raise SystemExit(c.main(sys.argv[1:]))"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "record", "--sensor", "sim:seed=2,hours=1", "--speed", "5",
         "--out", str(rec), "--no-report"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not (rec / "signal.edf").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert out.strip().splitlines()[-1] == str(rec / "analysis")
    meta = json.loads((rec / "meta.json").read_text())
    assert meta["state"] == "closed" and meta["n_samples"] > 52 * 5


def test_status_line_redraws_in_place_on_a_terminal_and_is_plain_otherwise():
    out, err = io.StringIO(), io.StringIO()
    tty = LivePrinter(out, err, tty=True)
    tty.status("wrist 00:00:01 | 52 samples")
    tty.burst("burst  wrist ...")
    tty.status("wrist 00:00:02 | 104 samples")
    tty.close()
    assert out.getvalue() == "burst  wrist ...\n"
    assert err.getvalue() == (
        "\r\x1b[Kwrist 00:00:01 | 52 samples"
        "\r\x1b[K"
        "wrist 00:00:01 | 52 samples"  # cleared for the burst line, then redrawn
        "\r\x1b[Kwrist 00:00:02 | 104 samples\n"
    )
    out, err = io.StringIO(), io.StringIO()
    pipe = LivePrinter(out, err, tty=False)
    pipe.status("a")
    pipe.burst("b")
    pipe.status("c")
    assert (out.getvalue(), err.getvalue()) == ("b\n", "a\nc\n")
    assert pipe.status_every_s == 60.0 and tty.status_every_s == 0.5
