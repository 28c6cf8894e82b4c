"""Outputs that must not change when the code is reorganised: the events and summaries of a set
of synthetic nights (one sensor and pairs, with removals and a thermometer), of every shared device
file, and the accuracy table of the smoke grid.

The expected outputs live in ``tests/golden/``. After a change that is *meant* to change them,
write them anew (and say why in the commit)::

    python -m tests.test_golden --write
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest

from hypnic.detector.options import AnalysisOptions

GOLDEN = Path(__file__).parent / "golden"
DEVICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "devices"
#: Summary keys that name the machine, the path or the software rather than the night, and the
#: method's description in words.
VOLATILE = {"source", "version", "device", "labelling"}
DEVICE_FILES = (
    "ax3_sample.cwa", "ax6_sample.cwa", "ax3_damaged.cwa", "gnactv_sample.bin",
    "actigraph_wristpy.gt3x", "actigraph_link_idlesleep.gt3x",
)
#: (seed, fs, placement or "pair", removals + thermometer)
NIGHTS = (
    (7, 12.5, "ankle", False),
    (8, 25.0, "wrist", True),
    (9, 50.0, "ankle", True),
    (10, 25.0, "pair", False),
)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    return value


def _analysis_of(name: str) -> Any:
    from benchmarks.synth import simulate_night
    from benchmarks.synth_params import default_params, with_removals
    from hypnic.pipeline import analyze_stream
    from hypnic.two_sensors import analyze_pair
    from recordings.open_input import open_input

    if name.startswith("device-"):
        return analyze_stream(open_input(DEVICES / name[len("device-"):]))
    seed, fs, place, removals = next(n for n in NIGHTS if f"night-{n[0]}" == name)
    params = with_removals(default_params()) if removals else default_params()

    def night(p: str) -> Any:
        return simulate_night(seed, fs, 6.5, p, params=params, nonwear=removals, gaps=seed % 2 == 0)

    if place == "pair":
        a, b = night("wrist"), night("right_ankle")
        return analyze_pair(
            a.stream(), b.stream(), AnalysisOptions(placement="wrist", placement_b="right_ankle")
        )
    return analyze_stream(night(place).stream(temperature=removals), AnalysisOptions(placement=place))


def _cases() -> list[str]:
    return [f"night-{n[0]}" for n in NIGHTS] + [f"device-{f}" for f in DEVICE_FILES]


def outputs(name: str) -> dict[str, Any]:
    """What a case writes, as JSON would hold it."""
    a = _analysis_of(name)
    events = [e.as_dict(a.columns) for e in a.events]
    return json.loads(json.dumps(_clean({"summary": a.summary.as_dict(), "events": events}), default=float))


def bench_table() -> list[dict[str, Any]]:
    from benchmarks.accuracy import run, smoke_grid

    return json.loads(json.dumps(_clean(run(smoke_grid())), default=float))


def _same(a: Any, b: Any, where: str = "") -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), f"{where}: keys {sorted(a.keys() ^ b.keys())}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: {len(a)} items, expected {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-12, abs=1e-12), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize("name", _cases())
def test_outputs_are_unchanged(name):
    if name.startswith("device-") and not (DEVICES / name[len("device-"):]).exists():
        pytest.skip("shared device files are not beside this checkout")
    expected = json.loads((GOLDEN / f"{name}.json").read_text())
    _same(outputs(name), expected, name)


def test_the_smoke_bench_table_is_unchanged():
    _same(bench_table(), json.loads((GOLDEN / "bench-smoke.json").read_text()), "bench")


def write() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name in _cases():
        (GOLDEN / f"{name}.json").write_text(json.dumps(outputs(name), sort_keys=True) + "\n")
    (GOLDEN / "bench-smoke.json").write_text(json.dumps(bench_table(), indent=1, sort_keys=True) + "\n")


if __name__ == "__main__" and "--write" in sys.argv:
    write()
