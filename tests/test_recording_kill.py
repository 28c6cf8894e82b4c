"""SIGKILL a recording writer at random moments and check what is left.

A child process (this file run as a script) writes synthetic samples on a fast-forwarded sensor
clock, with lost-sample gaps, either flat out or paced (a short sleep after each ``append``, so
that kills land between appends as they would with a live sensor). It logs how many samples it
is handing over before each ``append`` and how many it has handed over after. The parent kills
it after a random delay, then checks that the folder opens before and after ``repair``, that the
samples read back are exactly the first ones handed over (within one digital step), that the
gaps are where the feed put them, and that less than one record (at most 2 s) of what was
handed over is lost. Run with ``-s`` to see the losses and file sizes.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

STEP = 16 / 65535  # one digital step at ±8 g
RATES = (12.5, 52.0, 625 / 6, 104.0, 200.0, 1600.0)
KILLS = 24


def values(idx: np.ndarray) -> np.ndarray:
    """The sample at grid position ``idx``: a deterministic function the parent can recompute."""
    x = 0.9 * np.sin(idx * 0.0137)
    y = 0.9 * np.cos(idx * 0.0071)
    z = ((idx * 7919) % 2001 - 1000) / 1111.0
    return np.stack([x, y, z], axis=1).astype(np.float32)


def feed(seed: int, fs: float):
    """Chunks as a sensor bridge would hand them over: grid positions, with gaps now and then."""
    rng = np.random.default_rng(seed)
    slot = 0
    first = True
    while True:
        if not first and rng.random() < 0.05:
            slot += int(rng.integers(1, int(3 * fs)))  # lost packets
        first = False
        n = int(rng.integers(1, int(1.5 * fs) + 2))
        yield np.arange(slot, slot + n)
        slot += n


def child(rec: str, progress: str, seed: int, fs: float, pace: float) -> None:
    from hypnic.recordings.recording import RecordingWriter

    fd = os.open(progress, os.O_WRONLY | os.O_CREAT, 0o644)
    print("ready", flush=True)
    writer = RecordingWriter(rec, fs=fs, range_g=8, start_utc="2025-11-25T23:00:00Z", sensor="sim")
    handed = 0
    for k, idx in enumerate(feed(seed, fs)):
        os.pwrite(fd, f"{handed + idx.size:020d}".encode(), 21)  # offered: append under way
        writer.append(idx / fs, values(idx))
        handed += idx.size
        os.pwrite(fd, f"{handed:020d}".encode(), 0)  # append returned: handed over
        if k % 7 == 0:
            writer.add_event({"onset_s": float(idx[0] / fs), "label": "tick", "handed": handed})
        if pace:  # like a live sensor: most of the time is spent waiting for the next packet
            time.sleep(pace)


def expected_until(seed: int, fs: float, n_real: int, handed: int) -> tuple[np.ndarray, int]:
    """Grid positions of the first ``n_real`` samples, and how many the next chunk could add."""
    parts, total, last_chunk = [], 0, 0
    for idx in feed(seed, fs):
        if total >= max(n_real, handed):
            last_chunk = idx.size
            break
        parts.append(idx)
        total += idx.size
    return np.concatenate(parts)[:n_real] if parts else np.zeros(0, np.int64), total + last_chunk


def progress_of(progress: Path) -> tuple[int, int]:
    """(handed over, handed over or being handed over) as the child last logged them."""
    text = progress.read_bytes().replace(b"\x00", b" ").split() if progress.exists() else []
    return (int(text[0]) if len(text) > 1 else 0), (int(text[-1]) if text else 0)


def check_one(
    tmp: Path, seed: int, fs: float, delay: float, after_first: bool, pace: float
) -> dict[str, float]:
    from hypnic.recordings.recording import open_recording, read_events, repair

    rec, progress = tmp / f"rec{seed}", tmp / f"progress{seed}"
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "child",
            str(rec),
            str(progress),
            str(seed),
            repr(fs),
            repr(pace),
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    if after_first:  # wait for the first append to return, however slow the machine is
        while progress_of(progress)[0] == 0 and proc.poll() is None:
            time.sleep(0.001)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, "the child must still be writing when killed"
    handed, offered = progress_of(progress)
    if not rec.exists():  # killed while the folder was being created: nothing was handed over
        assert offered == 0
        return {"rate": fs, "loss_s": 0, "offered_loss_s": 0, "records": 0, "bytes": 0, "handed": 0}

    def read():
        stream = open_recording(rec, chunk_samples=4096)
        chunks = list(stream)
        t = np.concatenate([c.t for c in chunks]) if chunks else np.zeros(0)
        xyz = np.concatenate([c.xyz for c in chunks]) if chunks else np.zeros((0, 3), np.float32)
        return t, xyz, stream

    t, xyz, stream = read()
    n_real = t.size
    grid, most = expected_until(seed, fs, n_real, handed)
    assert n_real <= most, "more samples read than were handed over"
    assert np.array_equal(t, grid / stream.info.fs)
    if n_real:
        assert np.abs(xyz - values(grid)).max() <= STEP / 2 + 1e-6
    expected_gaps = [
        [(a + 1) / stream.info.fs, b / stream.info.fs]
        for a, b in zip(grid[:-1].tolist(), grid[1:].tolist(), strict=True)
        if b - a > 1
    ]
    assert stream.gaps == expected_gaps
    loss = max(0, handed - n_real)
    spr = stream.info.meta["samples_per_record"]
    assert loss < spr and loss / fs <= 2.0, f"lost {loss} samples at {fs} Hz"
    events = read_events(rec)
    assert all(e["handed"] <= handed for e in events)  # logged before each event

    import edfio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        edf = edfio.read_edf(rec / "signal.edf", lazy_load_data=False)
    if n_real:
        x = edf.signals[0].data
        assert np.abs(x[grid] - values(grid)[:, 0]).max() <= STEP / 2 + 1e-6

    result = repair(rec)
    t2, xyz2, stream2 = read()
    assert np.array_equal(t2, t) and np.array_equal(xyz2, xyz) and stream2.gaps == stream.gaps
    assert repair(rec).fixes == []
    meta = json.loads((rec / "meta.json").read_text())
    assert meta["n_samples"] == n_real and meta["gaps"] == expected_gaps
    size = (rec / "signal.edf").stat().st_size
    return {
        "rate": fs,
        "loss_s": loss / fs,
        "offered_loss_s": max(0, offered - n_real) / fs,
        "records": stream2.info.meta["records"],
        "bytes": size,
        "handed": handed,
        "fixes": len(result.fixes),
    }


def test_sigkill_at_random_moments(tmp_path):
    rnd = random.Random(20251125)
    results = []
    for i in range(KILLS):
        fs = RATES[i % len(RATES)]
        # the first kills land while the folder is being created, the others while writing
        delay = [0.0, 0.002, 0.01][i] if i < 3 else rnd.uniform(0.0, 0.25)
        pace = 0.002 if (i // len(RATES)) % 2 else 0.0  # every rate both flat out and paced
        results.append((pace, check_one(tmp_path, 1000 + i, fs, delay, i >= 3, pace)))
    written = [(pace, r) for pace, r in results if r["handed"]]
    assert len(written) >= 20
    assert max(r["loss_s"] for _, r in written) <= 2.0
    lines = [f"{len(results)} kills, {len(written)} after the first append returned"]
    for name, group in (
        ("flat out", [r for p, r in written if not p]),
        ("paced", [r for p, r in written if p]),
    ):
        lost = [r["loss_s"] for r in group]
        lost_any = [r["offered_loss_s"] for r in group]
        lines.append(
            f"{name} ({len(group)}): lost of what append had returned max {max(lost):.3f} s "
            f"median {np.median(lost):.3f} s; of that plus the append under way max "
            f"{max(lost_any):.3f} s median {np.median(lost_any):.3f} s"
        )
    lines.append(
        ", ".join(f"{r['rate']:g} Hz {r['records']} rec {r['bytes']} B" for _, r in results)
    )
    print("\n" + "\n".join(lines))


if __name__ == "__main__" and len(sys.argv) == 7 and sys.argv[1] == "child":
    child(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
