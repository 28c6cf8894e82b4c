"""pytest-benchmark cases: the burst kernel, the detector and the numpy/scipy reference.

Not collected by the normal run (the file name is not ``test_*``) and disabled there anyway
(``--benchmark-disable``). Run them with::

    .venv/bin/pytest tests/bench_kernels.py --benchmark-enable

Every case warms up with the exact dtypes and layouts it is timed with (ECOSYSTEM.md §6), so no
call inside the timing compiles.
"""

from __future__ import annotations

import numpy as np
import pytest

from hypnic.benchmarks.reference import reference_bursts
from hypnic.detector import _kernels as k
from hypnic.detector.bursts import StreamingDetector, detect_bursts
from tests.signals import burst_signal

FS = 100.0
SECONDS = 3600.0  # 360 000 samples: larger than the caches, as a night is


@pytest.fixture(scope="module")
def signal():
    t, xyz, _ = burst_signal(seed=1, fs=FS, seconds=SECONDS, n_bursts=200, gaps=2)
    return np.ascontiguousarray(t), np.ascontiguousarray(xyz, dtype=np.float32)


def test_memory_pass(benchmark, signal):
    benchmark(np.sum, signal[1])


def test_burst_kernel(benchmark, signal):
    t, xyz = signal
    det = StreamingDetector(FS)
    ev = np.empty((int(SECONDS / det.params.min_quiet_s) + 8, k.N_EVENT_COLS))
    ep = np.empty((int(SECONDS) + 8, k.N_EPOCH_COLS))

    def run():
        return k._burst_kernel(t, xyz, det._p, det.state.copy(), det.ring.copy(), ev, ep)

    run()
    benchmark(run)
    assert len(k._burst_kernel.signatures) == 1


def test_detect_bursts(benchmark, signal):
    benchmark(detect_bursts, *signal, FS)


def test_reference_bursts(benchmark, signal):
    benchmark(reference_bursts, *signal, FS)


@pytest.mark.parametrize("chunk", [25, 250, 4096])
def test_streaming_chunks(benchmark, signal, chunk):
    t, xyz = signal
    n = min(t.size, 400 * chunk)

    def run():
        det = StreamingDetector(FS)
        for a in range(0, n, chunk):
            det.process(t[a : a + chunk], xyz[a : a + chunk])

    benchmark(run)
