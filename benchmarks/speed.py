"""``hypnic bench [--json]``: throughput of every stage, side by side with the machine's floor.

All figures come from one run on one synthetic night (:func:`benchmarks.synth.simulate_night`)
and are measured against, in the same run:

* one memory pass over the same array (``np.sum`` over the float32 (n, 3) samples): the floor;
* :mod:`benchmarks.reference`, the same pipeline written with whole-array numpy/scipy;
* the first call in a fresh process with an empty numba cache (compile time), and again with
  the cache just written (what every later ``hypnic`` run pays);
* a 7-day 100 Hz replay streamed in chunks through :func:`hypnic.pipeline.analyze_stream`: its
  time (the generator's own time taken off) and its peak traced memory against a 1-day one.

Conventions follow ECOSYSTEM.md §6: throughput in samples/s (and × real time), the median of
``repeats`` runs after a warm-up with the exact dtypes and layouts, compile time apart, CPU model
and library versions in the output. The machine may be shared: the ratios, measured side by side
within seconds of each other, are the headline; the minimum is kept beside each median.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: CONTRACT.md (``hypnic bench --json``) keys, and issue 7's targets for them.
TARGETS = {
    "kernel_vs_memory_pass": ("<=", 10.0),
    "pipeline_vs_numpy_reference": (">=", 10.0),
    "pipeline_7d_100hz_s": ("<", 2.0),
}
REPO = Path(__file__).resolve().parents[1]

_COMPILE_SCRIPT = """
import json, time
t0 = time.perf_counter()
import numpy as np
from hypnic.detector.bursts import detect_bursts
t1 = time.perf_counter()
import scipy.signal  # imported lazily by the first call (filter design): timed apart
t2 = time.perf_counter()
t = np.arange(2000) / 100.0
xyz = np.zeros((2000, 3), dtype=np.float32)
detect_bursts(t, xyz, 100.0)
t3 = time.perf_counter()
detect_bursts(t, xyz, 100.0)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "scipy_signal_import_s": t2 - t1,
                  "first_call_s": t3 - t2, "second_call_s": t4 - t3}))
"""


@dataclass(frozen=True)
class SpeedConfig:
    """Sizes of a speed run.

    Attributes
    ----------
    fs, hours, seed, placement
        The synthetic night every stage is measured on (8 h at 100 Hz: 2.9 M samples).
    repeats : int
        Timed runs per measurement (after one warm-up); the median is reported.
    csv_hours : float
        Length of the night's start written to a temporary CSV for the reader's figure.
    days : float
        Length of the streamed replay (CONTRACT ``pipeline_7d_100hz_s``: 7 days at 100 Hz).
    memory_days : tuple of float
        Replays whose peak traced memory is compared (flat memory: the longer one needs no more).
    stream_chunk : int
        Samples per call for the streaming latency (25: a BLE notification's worth).
    stream_calls : int
        Calls timed for the streaming latency.
    compile_time : bool
        Measure the first call in fresh processes (two interpreter starts).
    """

    fs: float = 100.0
    hours: float = 8.0
    seed: int = 1
    placement: str = "ankle"
    repeats: int = 5
    csv_hours: float = 1.0
    days: float = 7.0
    memory_days: tuple[float, float] = (1.0, 7.0)
    stream_chunk: int = 25
    stream_calls: int = 20_000
    compile_time: bool = True


#: What ``hypnic bench`` measures (about a minute here).
DEFAULT = SpeedConfig()
#: A few seconds in all; for tests of the benchmark's plumbing, not for figures.
SMOKE = SpeedConfig(
    hours=0.1, repeats=2, csv_hours=0.02, days=0.05, memory_days=(0.02, 0.05), stream_calls=200,
    compile_time=False,
)


def _say(msg: str) -> None:
    if sys.stderr.isatty():
        print(f"bench: {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median and minimum wall time of ``fn`` over ``repeats`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"median_s": float(np.median(times)), "min_s": float(np.min(times))}


def machine_info() -> dict[str, Any]:
    """CPU model, cores and the versions that decide the figures."""
    import numba
    import pyarrow
    import scipy

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "pyarrow": pyarrow.__version__,
    }


def _rate(n: int, seconds: float) -> float:
    return float(n / seconds) if seconds > 0 else float("inf")


def _stage(n: int, fs: float, timing: dict[str, float], **extra: Any) -> dict[str, Any]:
    sps = _rate(n, timing["median_s"])
    return {**timing, "samples_per_s": sps, "x_realtime": sps / fs, **extra}


# --- the night in memory ------------------------------------------------------------------------


def measure_in_memory(night: Any, cfg: SpeedConfig) -> dict[str, dict[str, Any]]:
    """Every stage on the night held in memory, the floor and the reference beside them."""
    from hypnic.benchmarks.reference import STAGES, reference_analyze, reference_bursts
    from hypnic.detector import _kernels as k
    from hypnic.detector.bursts import BurstParams, StreamingDetector, detect_bursts
    from hypnic.pipeline import analyze_stream
    from hypnic.recordings.samples import SampleStream

    t, xyz, fs, info = night.t, night.xyz, night.info.fs, night.info
    n = t.shape[0]
    r = cfg.repeats
    out: dict[str, dict[str, Any]] = {}

    _say("memory pass")
    mp = timed(lambda: np.sum(xyz), r)
    out["memory_pass"] = _stage(n, fs, mp, bytes_per_s=xyz.nbytes / mp["median_s"])

    _say("burst kernel")
    det = StreamingDetector(fs)
    cap_ev = int((t[-1] - t[0]) / det.params.min_quiet_s) + 2
    ev = np.empty((cap_ev, k.N_EVENT_COLS))
    ep = np.empty((int(t[-1] - t[0]) + 2, k.N_EPOCH_COLS))

    def kernel() -> None:
        state, ring = det.state.copy(), det.ring.copy()
        k._burst_kernel(t, xyz, det._p, state, ring, ev, ep)

    out["burst_kernel"] = _stage(n, fs, timed(kernel, r))
    # A second signature would mean a recompilation inside the timed calls (ECOSYSTEM.md §6).
    out["burst_kernel"]["signatures"] = len(k._burst_kernel.signatures)
    out["burst_detector"] = _stage(n, fs, timed(lambda: detect_bursts(t, xyz, fs), r))

    _say("night scoring")
    bursts = detect_bursts(t, xyz, fs)
    out.update(_night_stages(bursts, night, cfg))

    _say("whole pipeline")

    def pipeline() -> None:
        stream = SampleStream.from_arrays(t, xyz, info)
        stream.gaps = [list(g) for g in night.truth["gaps"]]
        analyze_stream(stream)

    out["pipeline"] = _stage(n, fs, timed(pipeline, r))

    _say("numpy/scipy reference")
    stage_times: dict[str, list[float]] = {}

    def reference() -> None:
        tm: dict[str, float] = {}
        reference_analyze(t, xyz, info, reader_gaps=night.truth["gaps"], timings=tm)
        for key, v in tm.items():
            stage_times.setdefault(key, []).append(v)

    out["reference_pipeline"] = _stage(n, fs, timed(reference, r))
    for key in (*STAGES, "night"):
        sec = float(np.median(stage_times[key][1:] or stage_times[key]))  # warm-up left out
        out[f"reference_{key}"] = _stage(n, fs, {"median_s": sec, "min_s": min(stage_times[key])})
    out["reference_bursts"] = _stage(n, fs, timed(lambda: reference_bursts(t, xyz, fs, BurstParams()), r))
    return out


#: Epoch-level stages inside :func:`detector.analysis.analyze_night`: (module, function it calls).
NIGHT_PARTS = {
    "nonwear": ("hypnic.detector.night", "find_nonwear"),
    "classifier": ("hypnic.detector.classify", "classify_bursts"),
    "sleep_onset": ("hypnic.detector.night", "find_sleep_period"),
}


@contextlib.contextmanager
def _clocked(parts: dict[str, tuple[str, str]], spent: dict[str, float]) -> Iterator[None]:
    """Time the functions ``parts`` names wherever the night stage calls them (restored after).

    Wrapping the calls the night scoring really makes keeps these figures true to it whatever
    arguments the stages take; a part that no longer exists is left out.
    """
    import importlib

    saved = []
    for key, (mod_name, fn_name) in parts.items():
        mod = importlib.import_module(mod_name)
        fn = getattr(mod, fn_name, None)
        if fn is None:
            continue

        def wrapper(*a: Any, _fn: Callable[..., Any] = fn, _key: str = key, **kw: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _fn(*a, **kw)
            finally:
                spent[_key] = spent.get(_key, 0.0) + time.perf_counter() - t0

        saved.append((mod, fn_name, fn))
        setattr(mod, fn_name, wrapper)
    try:
        yield
    finally:
        for mod, fn_name, fn in saved:
            setattr(mod, fn_name, fn)


def _night_stages(bursts: Any, night: Any, cfg: SpeedConfig) -> dict[str, dict[str, Any]]:
    """The epoch-level stages on the detector's output: what runs after the samples are done."""
    from hypnic.detector.analysis import analyze_night
    from hypnic.detector.night import NightInput
    from hypnic.detector.options import AnalysisOptions

    n, fs = night.t.shape[0], night.info.fs
    inp = NightInput(
        bursts=bursts, fs=fs, duration_s=float(night.t[-1]) + 1.0 / fs,
        placement=cfg.placement, start_utc=night.info.start_utc,
        reader_gaps=[list(g) for g in night.truth["gaps"]],
    )
    runs: list[dict[str, float]] = []

    def scored() -> None:
        spent: dict[str, float] = {}
        with _clocked(NIGHT_PARTS, spent):
            analyze_night([inp], AnalysisOptions())
        runs.append(spent)

    out = {"night_scoring": _stage(n, fs, timed(scored, cfg.repeats))}
    for key in NIGHT_PARTS:
        sec = [r[key] for r in runs[1:] if key in r]  # the warm-up run left out
        if sec:
            out[key] = _stage(n, fs, {"median_s": float(np.median(sec)), "min_s": min(sec)})
    return out


# --- reading CSV ---------------------------------------------------------------------------------


def measure_csv(night: Any, cfg: SpeedConfig) -> dict[str, dict[str, Any]]:
    """The CSV reader (pyarrow, streaming) against ``np.loadtxt`` on the same temporary file."""
    from hypnic.benchmarks.synth_io import write_night_csv
    from hypnic.recordings.csv_input import open_csv

    m = min(night.t.shape[0], int(cfg.csv_hours * 3600 * night.info.fs))
    fs = night.info.fs
    with tempfile.TemporaryDirectory(prefix="hypnic-bench-") as tmp:
        path = Path(tmp) / "night.csv"
        write_night_csv(path, night.t[:m], night.xyz[:m])
        size = path.stat().st_size

        def read() -> None:
            for _ in open_csv(path):
                pass

        # np.loadtxt runs once: at ~1 M rows/s it would dominate the run.
        timings = {
            "csv_pyarrow": timed(read, cfg.repeats),
            "csv_numpy_loadtxt": timed(lambda: np.loadtxt(path, delimiter=",", skiprows=1), 1, 0),
        }
    return {
        key: _stage(m, fs, tm, bytes_per_s=size / tm["median_s"], rows=m)
        for key, tm in timings.items()
    }


# --- first call, streaming latency ---------------------------------------------------------------


def measure_compile() -> dict[str, Any]:
    """First call of the burst detector in a new process: empty numba cache, then a cache hit."""
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hypnic-numba-cache-") as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        for key in ("cold", "cached"):
            proc = subprocess.run(
                [sys.executable, "-c", _COMPILE_SCRIPT], env=env, cwd=REPO,
                capture_output=True, text=True, timeout=300,
            )
            if proc.returncode != 0:
                out[key] = {"error": proc.stderr.strip().splitlines()[-1:]}
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["compile_s"] = r["first_call_s"] - r["second_call_s"]
            out[key] = r
    return out


def measure_streaming(night: Any, cfg: SpeedConfig) -> dict[str, Any]:
    """Latency of one call with ``stream_chunk`` samples: the wrapper, and the kernel alone."""
    from hypnic.detector import _kernels as k
    from hypnic.detector.bursts import StreamingDetector

    c = cfg.stream_chunk
    calls = min(cfg.stream_calls, night.t.shape[0] // c)
    t, xyz = night.t[: calls * c], night.xyz[: calls * c]
    det = StreamingDetector(night.info.fs)
    det.process(t[:c], xyz[:c])  # warm-up (and compile) with the exact layouts
    lat = np.empty(calls - 1)
    for i in range(1, calls):
        a = i * c
        t0 = time.perf_counter()
        det.process(t[a : a + c], xyz[a : a + c])
        lat[i - 1] = time.perf_counter() - t0
    raw = StreamingDetector(night.info.fs)
    ev = np.empty((c + 2, k.N_EVENT_COLS))
    ep = np.empty((c + 2, k.N_EPOCH_COLS))
    klat = np.empty(calls)
    for i in range(calls):
        a = i * c
        t0 = time.perf_counter()
        k._burst_kernel(t[a : a + c], xyz[a : a + c], raw._p, raw.state, raw.ring, ev, ep)
        klat[i] = time.perf_counter() - t0
    return {
        "chunk_samples": c,
        "chunk_duration_s": c / night.info.fs,
        "calls": int(calls),
        "process_median_us": float(np.median(lat) * 1e6),
        "process_p99_us": float(np.percentile(lat, 99) * 1e6),
        "kernel_median_us": float(np.median(klat) * 1e6),
        "kernel_p99_us": float(np.percentile(klat, 99) * 1e6),
        "samples_per_s": _rate(c, float(np.median(lat))),
    }


# --- long replays ---------------------------------------------------------------------------------


class _Tiled:
    """A long recording made by repeating a night end to end, streamed in chunks.

    The time spent making each chunk (adding the offset to ``t``) is added up in ``gen_s`` so the
    pipeline's time can be measured without it.
    """

    def __init__(self, night: Any, days: float, chunk: int = 1 << 20) -> None:
        self.night = night
        self.n_total = int(round(days * 86400 * night.info.fs))
        self.chunk = chunk
        self.gen_s = 0.0

    def chunks(self) -> Iterator[Any]:
        from hypnic.recordings.samples import SampleChunk

        t, xyz = self.night.t, self.night.xyz
        n = t.shape[0]
        period = n / self.night.info.fs  # t is uniform from 0 (no gaps in the tiled night)
        done = 0
        while done < self.n_total:
            t0 = time.perf_counter()
            rep, a = divmod(done, n)
            b = min(n, a + self.chunk, a + self.n_total - done)
            c = SampleChunk(t[a:b] + rep * period, xyz[a:b])
            done += b - a
            self.gen_s += time.perf_counter() - t0
            yield c

    def stream(self) -> Any:
        from hypnic.recordings.samples import SampleStream

        return SampleStream(self.night.info, self.chunks())


def measure_replay(night: Any, days: float) -> dict[str, Any]:
    """Seconds for a ``days``-long replay through the whole pipeline, generation excluded."""
    from hypnic.pipeline import analyze_stream

    tiled = _Tiled(night, days)
    t0 = time.perf_counter()
    analysis = analyze_stream(tiled.stream())
    total = time.perf_counter() - t0
    sec = total - tiled.gen_s
    return {
        "days": days,
        "samples": tiled.n_total,
        "seconds": sec,
        "generator_s": tiled.gen_s,
        "samples_per_s": _rate(tiled.n_total, sec),
        "nights": len(analysis.summary.night_list()),
    }


def measure_memory(night: Any, days: float) -> dict[str, Any]:
    """Peak traced memory (tracemalloc, numpy buffers included) of a streamed replay."""
    from hypnic.pipeline import analyze_stream

    tiled = _Tiled(night, days)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        analyze_stream(tiled.stream())
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    raw = tiled.n_total * (8 + 12)  # t float64 + xyz float32: the samples held at once
    return {"days": days, "samples": tiled.n_total, "peak_bytes": int(peak), "raw_samples_bytes": raw}


# --- the run --------------------------------------------------------------------------------------


def run(cfg: SpeedConfig | None = None) -> dict[str, Any]:
    """Measure everything; return one JSON-serialisable dict (CONTRACT keys at the top level)."""
    from hypnic.benchmarks.synth import simulate_night

    cfg = cfg or DEFAULT
    _say(f"synthetic night: {cfg.hours:g} h at {cfg.fs:g} Hz")
    night = simulate_night(cfg.seed, cfg.fs, cfg.hours, cfg.placement)
    n = int(night.t.shape[0])
    stages = measure_in_memory(night, cfg)
    _say("CSV reader")
    stages.update(measure_csv(night, cfg))
    _say("streaming latency")
    streaming = measure_streaming(night, cfg)
    compile_ = None
    if cfg.compile_time:
        _say("compile time (fresh processes)")
        compile_ = measure_compile()
    week_night = night if cfg.fs == 100.0 else simulate_night(cfg.seed, 100.0, cfg.hours, cfg.placement)
    _say(f"{cfg.days:g}-day replay at 100 Hz")
    replay = measure_replay(week_night, cfg.days)
    _say("peak memory of streamed replays")
    memory = [measure_memory(week_night, d) for d in cfg.memory_days]

    med = {key: v["median_s"] for key, v in stages.items()}
    result: dict[str, Any] = {
        "pipeline_samples_per_s": stages["pipeline"]["samples_per_s"],
        "kernel_vs_memory_pass": med["burst_kernel"] / med["memory_pass"],
        "pipeline_vs_numpy_reference": med["reference_pipeline"] / med["pipeline"],
        "pipeline_7d_100hz_s": replay["seconds"] * 7.0 / cfg.days,
        "detector_vs_numpy_reference": med["reference_bursts"] / med["burst_detector"],
        "csv_pyarrow_vs_loadtxt": med["csv_numpy_loadtxt"] / med["csv_pyarrow"],
        "memory_7d_vs_1d": memory[-1]["peak_bytes"] / max(memory[0]["peak_bytes"], 1),
        "data": {"samples": n, "fs_hz": cfg.fs, "hours": cfg.hours, "placement": cfg.placement,
                 "seed": cfg.seed, "repeats": cfg.repeats},
        "machine": machine_info(),
        "stages": stages,
        "streaming": streaming,
        "compile": compile_,
        "replay": replay,
        "memory": memory,
    }
    if cfg.days != 7.0:
        result["pipeline_7d_100hz_note"] = f"scaled from a {cfg.days:g}-day replay"
    result["targets"] = {
        key: {"target": f"{op} {bound:g}", "met": _met(result[key], op, bound)}
        for key, (op, bound) in TARGETS.items()
    }
    return result


def _met(value: float, op: str, bound: float) -> bool:
    return {"<=": value <= bound, ">=": value >= bound, "<": value < bound}[op]


# --- output ---------------------------------------------------------------------------------------

_ROWS = (
    ("memory_pass", "one memory pass (np.sum over float32 xyz)"),
    ("csv_pyarrow", "read CSV (pyarrow, streaming)"),
    ("csv_numpy_loadtxt", "read CSV (np.loadtxt, for comparison)"),
    ("burst_kernel", "burst kernel (filters+envelope+noise+hysteresis+epochs)"),
    ("burst_detector", "burst detector (kernel + wrapper)"),
    ("nonwear", "non-wear (1-s epochs)"),
    ("classifier", "classifier (per burst)"),
    ("sleep_onset", "sleep onset (HDCZA on 5-s epochs + the night's hidden Markov model)"),
    ("night_scoring", "night scoring (all epoch-level stages)"),
    ("pipeline", "WHOLE PIPELINE (analyze_stream)"),
    ("reference_bandpass", "reference: band-pass (sosfilt per axis)"),
    ("reference_envelope", "reference: envelope (lfilter)"),
    ("reference_noise", "reference: running noise (ndimage.rank_filter)"),
    ("reference_hysteresis", "reference: hysteresis + burst features"),
    ("reference_epochs", "reference: 1-s epochs (bincount)"),
    ("reference_night", "reference: night scoring (shared)"),
    ("reference_bursts", "reference: bursts (all per-sample stages)"),
    ("reference_pipeline", "REFERENCE PIPELINE (numpy/scipy)"),
)


def _si(x: float) -> str:
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.1f} {unit}"
    return f"{x:.0f} "


def format_table(res: dict[str, Any]) -> str:
    """The result as a readable table: ratios first, then every stage."""
    d, m = res["data"], res["machine"]
    lines = [
        f"hypnic bench: {d['samples']:,} samples ({d['hours']:g} h at {d['fs_hz']:g} Hz, "
        f"{d['placement']}), median of {d['repeats']} runs",
        f"machine: {m['cpu']}, {m['cores']} cores (load {m['load_1min']:.1f}); "
        f"python {m['python']}, numpy {m['numpy']}, scipy {m['scipy']}, numba {m['numba']}, "
        f"pyarrow {m['pyarrow']}",
        "",
        f"{'headline':44} {'value':>12}  target",
    ]
    for key in ("kernel_vs_memory_pass", "pipeline_vs_numpy_reference", "pipeline_7d_100hz_s"):
        tgt = res["targets"][key]
        lines.append(f"{key:44} {res[key]:12.2f}  {tgt['target']} ({'met' if tgt['met'] else 'MISSED'})")
    lines.append(f"{'pipeline_samples_per_s':44} {_si(res['pipeline_samples_per_s']):>12}")
    for key in ("detector_vs_numpy_reference", "csv_pyarrow_vs_loadtxt", "memory_7d_vs_1d"):
        lines.append(f"{key:44} {res[key]:12.2f}")
    lines += ["", f"{'stage':58} {'samples/s':>11} {'x real time':>12} {'median ms':>10}"]
    for key, label in _ROWS:
        s = res["stages"].get(key)
        if s is not None:
            lines.append(f"{label:58} {_si(s['samples_per_s']):>11} {s['x_realtime']:12.0f} "
                         f"{s['median_s'] * 1e3:10.1f}")
    for key in ("csv_pyarrow", "csv_numpy_loadtxt"):
        s = res["stages"][key]
        lines.append(f"  {key}: {_si(s['samples_per_s'])}rows/s, {s['bytes_per_s'] / 2**20:.0f} MiB/s")
    st = res["streaming"]
    lines += [
        "",
        f"streaming, {st['chunk_samples']} samples a call ({st['chunk_duration_s'] * 1e3:.0f} ms of "
        f"data): process() median {st['process_median_us']:.1f} us (p99 {st['process_p99_us']:.1f}), "
        f"kernel alone {st['kernel_median_us']:.1f} us (p99 {st['kernel_p99_us']:.1f})",
    ]
    if res["compile"]:
        for key, c in res["compile"].items():
            if "error" in c:
                lines.append(f"first call, {key} numba cache: failed ({c['error']})")
            else:
                lines.append(f"first call, {key} numba cache: {c['first_call_s']:.2f} s (then "
                             f"{c['second_call_s'] * 1e3:.1f} ms; imports before it: detector "
                             f"{c['import_s']:.2f} s, scipy.signal {c['scipy_signal_import_s']:.2f} s)")
    rp = res["replay"]
    lines.append(f"{rp['days']:g}-day replay at 100 Hz ({rp['samples']:,} samples, {rp['nights']} "
                 f"nights): {rp['seconds']:.2f} s, {_si(rp['samples_per_s'])}samples/s")
    for mem in res["memory"]:
        lines.append(f"peak traced memory, {mem['days']:g}-day streamed replay: "
                     f"{mem['peak_bytes'] / 2**20:.1f} MiB (the samples alone: "
                     f"{mem['raw_samples_bytes'] / 2**20:.0f} MiB)")
    return "\n".join(lines)


def main(as_json: bool, config: SpeedConfig | None = None) -> int:
    """Entry point of ``hypnic bench`` (speed): print the JSON object or the table; return 0."""
    res = run(config)
    if as_json:
        print(json.dumps(res, indent=1))
    else:
        print(format_table(res))
    return 0

