"""The live-latency benchmark runs the real recording path and reports its figures.

No timing is asserted (the machine is shared); only what the simulated clock makes exact.
"""

from __future__ import annotations

import json
import math

from hypnic.benchmarks.dev.latency import describe, main, measure_latency
from hypnic.detector.bursts import BurstParams


def test_latency_benchmark_measures_bursts_on_the_live_path():
    result = measure_latency(seed=3, start_s=2400.0, duration_s=600.0, speed=math.inf)
    assert result["bursts"] >= 3
    assert result["fs"] == 52.0 and result["samples_per_frame"] == 71
    assert result["frame_delay_s"] == round(71 / 52, 4)
    host = result["host_latency_ms"]
    assert 0 < host["median"] <= host["p95"] <= host["max"]
    # A burst is closed by a sample after the detector's quiet time, and the notification
    # carrying it holds at most one frame of samples more.
    end = result["burst_end_to_closing_sample_s"]
    assert BurstParams().min_quiet_s <= end["median"] <= end["max"] <= result["frame_delay_s"] + 1.0
    lines = describe(result)
    assert lines[1].startswith("  notification arrival -> printed burst: median ")
    assert "device frame delay: 71 samples per frame = 1.365 s" in lines[2]


def test_latency_benchmark_command_line_prints_json(capsys):
    assert main(["--speed", "max", "--duration", "120", "--start", "2400", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["speed"] == "max" and result["seconds_recorded"] == 120.0
