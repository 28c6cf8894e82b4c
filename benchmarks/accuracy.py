"""``hypnic bench accuracy``: detection and labelling accuracy over a grid of synthetic nights.

Each night is generated from a seed (:func:`benchmarks.synth.simulate_night`), run through the
same pipeline as ``hypnic detect`` and scored against its truth (:mod:`benchmarks.scoring`).
Conditions beside the base grid check that the figures are not fitted to the generator's
defaults: amplitudes ×0.5 and ×2, an arbitrary sensor rotation, and a second, deliberately
different parameter set (``robust_params``); ``alt`` is a third set (``alt_params``) and
``holdout`` a fourth that was never used to choose anything (``holdout_params``). ``pairs`` (and
``robust_pairs``) runs a wrist and an ankle sensor of the same night together (``hypnic detect
WRIST ANKLE``).
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.scoring import (
    SCORED_LABELS,
    BurstScore,
    Counts,
    expected_labels,
    nonwear_found,
    score_bursts,
    score_labels,
    truth_plms_index,
)

RATES = (12.5, 25.0, 50.0, 100.0, 200.0, 400.0)
PLACEMENTS = ("wrist", "ankle")
NOISE_UG = (90.0, 300.0)


@dataclass(frozen=True)
class NightSpec:
    """One synthetic night of the grid."""

    condition: str
    seed: int
    fs: float
    placement: str
    hours: float = 6.5
    noise_ug: float = 300.0
    amplitude_scale: float = 1.0
    rotate: bool = False
    #: The generator's parameter set: default, robust, alt or holdout (benchmarks.synth_params).
    params: str = "default"
    gaps: bool = False
    nonwear: bool = False


@dataclass
class NightScore:
    spec: NightSpec
    labels: dict[str, Counts]
    bursts: BurstScore
    onset_error_min: float | None
    plms_index: float | None
    plms_index_truth: float | None
    nonwear_ok: bool | None


def generator_params(name: str) -> Any:
    """The generator's parameter set called ``name`` (:mod:`benchmarks.synth_params`)."""
    from benchmarks import synth_params

    sets = {"default": synth_params.default_params, "robust": synth_params.robust_params,
            "alt": synth_params.alt_params, "holdout": synth_params.holdout_params}
    if name not in sets:
        raise ValueError(f"unknown parameter set {name!r}")
    return sets[name]()


def grid(n_seeds: int = 3, conditions: Iterable[str] = ("base",), hours: float = 6.5) -> list[NightSpec]:
    """The benchmark grid: every condition × seeds × rates × placements (× noise for base)."""
    specs = []
    for cond in conditions:
        for k, (fs, place) in enumerate(itertools.product(RATES, PLACEMENTS)):
            if cond in ("pairs", "robust_pairs"):
                if place != "ankle":
                    continue  # one wrist+ankle pair per seed and rate
                place = "wrist+ankle"
            for s in range(n_seeds):
                seed = 1000 * s + k
                noise = NOISE_UG[(s + k) % len(NOISE_UG)]
                extra: dict[str, Any] = {"gaps": s % 3 == 1, "nonwear": s % 3 == 2}
                if cond == "amp_x0.5":
                    extra["amplitude_scale"] = 0.5
                elif cond == "amp_x2":
                    extra["amplitude_scale"] = 2.0
                elif cond == "rotated":
                    extra["rotate"] = True
                elif cond in ("robust", "alt", "holdout"):
                    extra["params"] = cond
                elif cond == "noise300":
                    noise = 300.0
                    extra = {}
                elif cond in ("pairs", "robust_pairs"):
                    extra["params"] = "robust" if cond == "robust_pairs" else "default"
                elif cond != "base":
                    raise ValueError(f"unknown condition {cond!r}")
                specs.append(NightSpec(cond, seed, fs, place, hours, noise, **extra))
    return specs


def smoke_grid() -> list[NightSpec]:
    """Three short nights for the test suite (one wrist, two ankle, three rates)."""
    return [
        NightSpec("smoke", 11, 25.0, "wrist", hours=6.0, noise_ug=300.0),
        NightSpec("smoke", 12, 50.0, "ankle", hours=6.0, noise_ug=90.0, nonwear=True),
        NightSpec("smoke", 13, 12.5, "ankle", hours=6.0, noise_ug=300.0, gaps=True),
    ]


def run_pair(spec: NightSpec) -> NightScore:
    """A wrist and an ankle sensor on the same night, analysed together (``hypnic detect A B``).

    Expected labels are the ankle's (leg movements need it), with every hypnic jerk that either
    sensor could see.
    """
    from benchmarks.synth import simulate_night
    from hypnic.two_sensors import analyze_pair

    nights = {
        place: simulate_night(
            spec.seed, spec.fs, spec.hours, place, params=generator_params(spec.params),
            noise_density=spec.noise_ug, gaps=spec.gaps, nonwear=spec.nonwear,
        )
        for place in ("wrist", "ankle")
    }
    analysis = analyze_pair(
        nights["wrist"].stream(), nights["ankle"].stream(), placement_a="wrist", placement_b="ankle"
    )
    truth = nights["ankle"].truth
    expected = [e for e in expected_labels(truth, "ankle") if e["expected"] != "hypnic_jerk"]
    seen = {e["onset_s"] for t in nights.values() for e in t.truth["events"]
            if e["label"] == "hypnic_jerk" and e["visible"]}
    expected += [dict(e, expected="hypnic_jerk") for e in truth["events"]
                 if e["label"] == "hypnic_jerk" and e["onset_s"] in seen]
    expected.sort(key=lambda e: e["onset_s"])
    labels = score_labels(analysis.events, expected)
    s = analysis.summary
    onset_err = None
    if s["sleep_onset_s"] is not None:
        onset_err = (s["sleep_onset_s"] - truth["sleep_onset_s"]) / 60.0
    return NightScore(spec, labels, BurstScore(), onset_err, s["plms_index"],
                      truth_plms_index(expected, truth), None)


def cache_key(spec: NightSpec) -> str:
    """A file name for a night's bursts: the spec, the generator and the burst stage's code.

    Any change to the generator, the burst kernel, its parameters or the onset re-measurement
    gives another key, so a cache never hands back bursts the current code would not find.
    """
    import hashlib
    import inspect

    from benchmarks import synth, synth_params, synth_render, synth_timeline
    from detector import _kernels, bursts, onsets, snippets
    from hypnic import pipeline

    h = hashlib.sha256(repr(spec).encode())
    for mod in (synth, synth_params, synth_render, synth_timeline, _kernels, bursts, onsets, snippets):
        h.update(inspect.getsource(mod).encode())
    h.update(inspect.getsource(pipeline.analyze_stream).encode())
    h.update(repr(bursts.BurstParams()).encode())
    return f"{spec.condition}-{spec.placement}-{spec.fs:g}Hz-seed{spec.seed}-{h.hexdigest()[:16]}"


def _detect(spec: NightSpec, cache: Path | None) -> tuple[Any, dict[str, Any], Any]:
    """The night's bursts (after the burst stage of ``analyze_stream``), truth and stream info."""
    from benchmarks.synth import simulate_night
    from detector.bursts import BurstResult
    from hypnic.pipeline import analyze_stream
    from recordings.samples import SampleStream, StreamInfo

    path = cache / f"{cache_key(spec)}.npz" if cache is not None else None
    if path is not None and path.exists():
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            bursts = BurstResult(z["events"], z["epochs"], meta["gaps"], z["shapes"])
        info = StreamInfo(source=meta["source"], fs=meta["fs"], start_utc=meta["start_utc"],
                          utc_offset_s=meta["utc_offset_s"])
        return bursts, meta["truth"], (info, meta["duration_s"])
    night = simulate_night(
        spec.seed, spec.fs, spec.hours, spec.placement,
        params=generator_params(spec.params),
        noise_density=spec.noise_ug, amplitude_scale=spec.amplitude_scale,
        rotation="random" if spec.rotate else None, gaps=spec.gaps, nonwear=spec.nonwear,
    )
    stream = SampleStream.from_arrays(night.t, night.xyz, night.info)
    bursts = analyze_stream(stream, placement=spec.placement).bursts
    duration = float(night.t[-1]) + 1.0 / night.info.fs
    if path is not None:
        meta = {"gaps": bursts.gaps, "truth": night.truth, "source": night.info.source,
                "fs": night.info.fs, "start_utc": night.info.start_utc,
                "utc_offset_s": night.info.utc_offset_s, "duration_s": duration}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, events=bursts.events, epochs=bursts.epochs, shapes=bursts.shapes, meta=json.dumps(meta))
        os.replace(tmp, path)
    return bursts, night.truth, (night.info, duration)


def run_night(spec: NightSpec, cache: Path | None = None) -> NightScore:
    """Generate, analyse and score one night.

    With ``cache`` (a folder), the bursts of each night are kept there and only the night-level
    scoring (sleep period, labels) runs again on a later call: seconds instead of minutes for a
    whole grid while working on the classifier.
    """
    from detector.bursts import BurstParams
    from detector.night import NightInput, score_night

    if spec.placement == "wrist+ankle":
        return run_pair(spec)
    bursts, truth, (info, duration) = _detect(spec, cache)
    events, s = score_night(
        NightInput(
            bursts=bursts, fs=info.fs, duration_s=duration, params=BurstParams(),
            placement=spec.placement, start_utc=info.start_utc, utc_offset_s=info.utc_offset_s,
        )
    )
    expected = expected_labels(truth, spec.placement)
    labels = score_labels(events, expected)
    bursts_score = score_bursts(bursts.events, truth)
    onset_err = None
    if s["sleep_onset_s"] is not None and truth["sleep_onset_s"] is not None:
        onset_err = (s["sleep_onset_s"] - truth["sleep_onset_s"]) / 60.0
    plms_truth = None if spec.placement == "wrist" else truth_plms_index(expected, truth)
    nw = nonwear_found(s["nonwear"], truth["nonwear"]) if truth.get("nonwear") else None
    return NightScore(spec, labels, bursts_score, onset_err, s["plms_index"], plms_truth, nw)


@dataclass
class ConditionResult:
    condition: str
    nights: int = 0
    labels: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in SCORED_LABELS})
    bursts: BurstScore = field(default_factory=BurstScore)
    onset_errors_min: list[float] = field(default_factory=list)
    onset_missing: int = 0
    plms_errors: list[float] = field(default_factory=list)
    nonwear: list[bool] = field(default_factory=list)

    def add(self, n: NightScore) -> None:
        self.nights += 1
        for k, c in n.labels.items():
            self.labels[k].add(c)
        self.bursts.add(n.bursts)
        if n.onset_error_min is None:
            self.onset_missing += 1
        else:
            self.onset_errors_min.append(n.onset_error_min)
        if n.plms_index_truth is not None and n.plms_index is not None:
            self.plms_errors.append(n.plms_index - n.plms_index_truth)
        if n.nonwear_ok is not None:
            self.nonwear.append(n.nonwear_ok)

    def row(self) -> dict[str, Any]:
        oe = np.abs(self.onset_errors_min)
        pe = np.abs(self.plms_errors)
        r: dict[str, Any] = {
            "condition": self.condition,
            "nights": self.nights,
            "jerk_burst_recall": self.bursts.jerk_recall,
            "jerk_onset_median_s": self.bursts.median_onset_error_s,
            "false_bursts_per_h": self.bursts.false_per_hour,
        }
        for k, c in self.labels.items():
            r[f"{k}_precision"] = c.precision
            r[f"{k}_recall"] = c.recall
            r[f"{k}_f1"] = c.f1
        r["onset_err_median_min"] = float(np.median(oe)) if oe.size else math.nan
        r["onset_err_p90_min"] = float(np.percentile(oe, 90)) if oe.size else math.nan
        r["onset_not_found"] = self.onset_missing
        r["plms_within_2_frac"] = float(np.mean(pe <= 2.0)) if pe.size else math.nan
        r["nonwear_found_frac"] = float(np.mean(self.nonwear)) if self.nonwear else math.nan
        return r


def run(
    specs: list[NightSpec],
    progress: Callable[[NightSpec], None] | None = None,
    cache: Path | None = None,
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """Run a grid; one row per condition, plus ``all`` when there are several.

    ``jobs`` > 1 runs nights in that many processes; the result is the same in any order.
    """
    results: dict[str, ConditionResult] = {}
    total = ConditionResult("all")
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(jobs)
        scores = pool.map(run_night, specs, [cache] * len(specs))
    else:
        pool = None
        scores = (run_night(spec, cache) for spec in specs)
    try:
        for spec, n in zip(specs, scores):
            results.setdefault(spec.condition, ConditionResult(spec.condition)).add(n)
            total.add(n)
            if progress is not None:
                progress(spec)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    rows = [r.row() for r in results.values()]
    if len(results) > 1:
        rows.append(total.row())
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    """A plain-text table: one column per condition, one line per figure."""
    keys = [k for k in rows[0] if k != "condition"]
    width = max(len(k) for k in keys) + 2
    col = max(11, *(len(r["condition"]) + 2 for r in rows))
    lines = ["".ljust(width) + "".join(r["condition"].rjust(col) for r in rows)]
    for k in keys:
        cells = []
        for r in rows:
            v = r[k]
            cells.append(("—" if isinstance(v, float) and math.isnan(v) else
                          f"{v:.3f}" if isinstance(v, float) else str(v)).rjust(col))
        lines.append(k.ljust(width) + "".join(cells))
    return "\n".join(lines)
