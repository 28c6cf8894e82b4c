"""Every real device file runs through `hypnic detect`; damaged blocks give gaps, never events."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from hypnic.cli import main
from tests.shared import DEVICES

FILES = ["ax3_sample.cwa", "ax6_sample.cwa", "gnactv_sample.bin", "actigraph_wristpy.gt3x", "ax3_damaged.cwa"]


@pytest.mark.parametrize("name", FILES)
def test_detect_runs_on_every_device_file(name, tmp_path):
    out = tmp_path / "out"
    assert main(["detect", str(DEVICES / name), "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_samples"] > 0 and summary["fs_hz"] > 0


def test_damaged_blocks_are_gaps_with_no_event_inside(tmp_path):
    out = tmp_path / "out"
    assert main(["detect", str(DEVICES / "ax3_damaged.cwa"), "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    gaps = summary["gaps"]
    # the damaged blocks hold samples 1200-1439 and 24000-24119 (shared/data/devices/README.md)
    t = np.load(DEVICES / "ax3_data.npz")["time"]
    t = t - t[0]
    for first, last in ((1200, 1439), (24000, 24119)):
        assert any(a < t[first] and b > t[last] for a, b in gaps), (t[first], t[last], gaps)
    with open(out / "events.csv", newline="") as fh:
        events = list(csv.DictReader(fh))
    for ev in events:
        on = float(ev["onset_s"])
        end = on + float(ev["duration_s"])
        for a, b in gaps:
            assert end <= a or on >= b, (ev, a, b)
