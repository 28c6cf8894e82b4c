"""``hypnic bench accuracy``: detection and labelling accuracy over a grid of synthetic nights.

Each night is generated from a seed (:func:`benchmarks.synth.simulate_night`), run through the
same pipeline as ``hypnic detect`` and scored against its truth (:mod:`benchmarks.scoring`).
Conditions beside the base grid check that the figures are not fitted to the generator's
defaults: amplitudes ×0.5 and ×2, an arbitrary sensor rotation, and a second, deliberately
different parameter set (``robust_params``); ``alt`` is a third set (``alt_params``) and
``holdout`` a fourth that was never used to choose anything (``holdout_params``). ``pairs`` (and
``robust_pairs``) runs a wrist and an ankle sensor of the same night together (``hypnic detect
WRIST ANKLE``).

Non-wear is scored in every condition (:func:`benchmarks.scoring.score_nonwear`): recall of true
spans of 5 min or more, precision of the detected time, false non-wear minutes per night. Three
conditions are made to fail a non-wear detector: ``temperature`` (the default nights with 1-3
removals of 5-120 min where people take a sensor off, on two nights in three, and the sensor's
thermometer handed to the detector), ``coarse`` (the same kind of nights of quiet sleepers seen by
a coarse, quiet 12-bit sensor, thermometer handed over) and ``coarse_notemp`` (the same nights as
``coarse`` without the thermometer). The other conditions hand no temperature over.
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

from hypnic.benchmarks.scoring import (
    BurstScore,
    Counts,
    NonwearScore,
    expected_labels,
    nonwear_found,
    score_bursts,
    score_labels,
    score_nonwear,
    truth_plms_index,
)
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.vocabulary import SCORED_LABELS
from hypnic.detector.vocabulary import placement as placement_info

RATES = (12.5, 25.0, 50.0, 100.0, 200.0, 400.0)
#: One sensor's placements on the grid (a wrist, and an ankle: the right one).
GRID_PLACEMENTS = ("wrist", "ankle")
NOISE_UG = (90.0, 300.0)
#: Noise densities of the coarse sensor's nights (µg/√Hz, :func:`synth_params.coarse_sensor`).
COARSE_NOISE_UG = (45.0, 90.0)
#: Conditions whose nights have removals where people take a sensor off
#: (:func:`synth_params.with_removals`).
REMOVAL_CONDITIONS = ("temperature", "coarse", "coarse_notemp")


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
    #: Non-wear as removals where people take a sensor off (synth_params.with_removals).
    removals: bool = False
    #: A quiet sleeper seen by a coarse sensor (synth_params.quiet_sleeper, coarse_sensor).
    quiet_coarse: bool = False
    #: Hand the sensor's thermometer to the detector (chunks' ``aux["temperature"]``).
    temperature: bool = False


@dataclass
class NightScore:
    spec: NightSpec
    labels: dict[str, Counts]
    bursts: BurstScore
    onset_error_min: float | None
    plms_index: float | None
    plms_index_truth: float | None
    nonwear_ok: bool | None
    nonwear: NonwearScore | None = None


def generator_params(name: str) -> Any:
    """The generator's parameter set called ``name`` (:mod:`benchmarks.synth_params`)."""
    from hypnic.benchmarks import synth_params

    sets = {"default": synth_params.default_params, "robust": synth_params.robust_params,
            "alt": synth_params.alt_params, "holdout": synth_params.holdout_params}
    if name not in sets:
        raise ValueError(f"unknown parameter set {name!r}")
    return sets[name]()


def spec_params(spec: NightSpec) -> Any:
    """The generator's parameters of one night: its set with the spec's variants applied."""
    from hypnic.benchmarks import synth_params

    p = generator_params(spec.params)
    if spec.quiet_coarse:
        p = synth_params.quiet_sleeper(synth_params.coarse_sensor(p))
    if spec.removals:
        p = synth_params.with_removals(p)
    return p


def grid(n_seeds: int = 3, conditions: Iterable[str] = ("base",), hours: float = 6.5) -> list[NightSpec]:
    """The benchmark grid: every condition × seeds × rates × placements (× noise for base)."""
    specs = []
    for cond in conditions:
        for k, (fs, place) in enumerate(itertools.product(RATES, GRID_PLACEMENTS)):
            if cond in ("pairs", "robust_pairs"):
                if place != "ankle":
                    continue  # one wrist+ankle pair per seed and rate
                place = "wrist+ankle"
            for s in range(n_seeds):
                seed = 1000 * s + k
                noise = NOISE_UG[(s + k) % len(NOISE_UG)]
                # Non-wear as people take a sensor off: awake, before sleep, in an awakening or
                # after the final awakening (synth_params.with_removals).
                extra: dict[str, Any] = {"gaps": s % 3 == 1, "nonwear": s % 3 == 2, "removals": s % 3 == 2}
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
                elif cond in REMOVAL_CONDITIONS:
                    # Removals on two nights in three (every night with one seed), gaps on the
                    # others, so that each condition has enough spans to measure recall.
                    extra = {"gaps": s % 3 == 1, "nonwear": s % 3 != 1, "removals": True,
                             "temperature": cond != "coarse_notemp"}
                    if cond != "temperature":
                        extra["quiet_coarse"] = True
                        noise = COARSE_NOISE_UG[(s + k) % len(COARSE_NOISE_UG)]
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
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.two_sensors import analyze_pair

    nights = {
        place: simulate_night(
            spec.seed, spec.fs, spec.hours, place, params=spec_params(spec),
            noise_density=spec.noise_ug, gaps=spec.gaps, nonwear=spec.nonwear,
        )
        for place in ("wrist", "ankle")
    }
    analysis = analyze_pair(
        nights["wrist"].stream(temperature=spec.temperature),
        nights["ankle"].stream(temperature=spec.temperature),
        AnalysisOptions(placement="wrist", placement_b="ankle"),
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
    if s.sleep_onset_s is not None:
        onset_err = (s.sleep_onset_s - truth["sleep_onset_s"]) / 60.0
    nw = score_nonwear(s.nonwear or [], truth["nonwear"], widen_s=spec_params(spec).handling_s)
    return NightScore(spec, labels, BurstScore(), onset_err, s.plms_index,
                      truth_plms_index(expected, truth), None, nw)


def cache_key(spec: NightSpec) -> str:
    """A file name for a night's bursts: the spec, the generator and the burst stage's code.

    Any change to the generator, the burst kernel, its parameters, the onset re-measurement or
    the pipeline module (which reads the thermometer and the sensor's step beside the bursts)
    gives another key, so a cache never hands back bursts the current code would not find.
    """
    import hashlib
    import inspect

    from hypnic import pipeline
    from hypnic.benchmarks import (
        synth,
        synth_params,
        synth_render,
        synth_temperature,
        synth_timeline,
    )
    from hypnic.detector import _kernels, bursts, onsets, snippets

    h = hashlib.sha256(repr(spec).encode())
    for mod in (synth, synth_params, synth_render, synth_temperature, synth_timeline, _kernels,
                bursts, onsets, snippets):
        h.update(inspect.getsource(mod).encode())
    h.update(inspect.getsource(pipeline).encode())  # what it reads beside the bursts, too
    h.update(repr(bursts.BurstParams()).encode())
    return f"{spec.condition}-{spec.placement}-{spec.fs:g}Hz-seed{spec.seed}-{h.hexdigest()[:16]}"


_BURST_FIELDS = ("events", "epochs", "gaps", "shapes")


def _save_input(path: Path, inp: Any, truth: dict[str, Any]) -> None:
    """Keep a ``NightInput`` in one .npz: arrays as arrays, the rest as JSON."""
    import dataclasses

    bursts = inp.bursts
    arrays: dict[str, np.ndarray] = {"events": bursts.events, "epochs": bursts.epochs,
                                     "shapes": bursts.shapes}
    for f in dataclasses.fields(bursts):
        value = getattr(bursts, f.name)
        if f.name not in _BURST_FIELDS and isinstance(value, np.ndarray):
            arrays[f"extra_{f.name}"] = value
    fields: dict[str, Any] = {}
    seqs: dict[str, int] = {}
    for f in dataclasses.fields(inp):
        value = getattr(inp, f.name)
        if f.name == "bursts" or value is None:
            continue
        if isinstance(value, np.ndarray):
            arrays[f"inp_{f.name}"] = value
        elif isinstance(value, tuple) and value and all(isinstance(v, np.ndarray) for v in value):
            for i, v in enumerate(value):
                arrays[f"inpseq_{f.name}_{i}"] = v
            seqs[f.name] = len(value)
        else:
            fields[f.name] = value
    meta = {"gaps": bursts.gaps, "truth": truth, "input": fields, "input_seqs": seqs}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays, meta=json.dumps(meta, default=float))
    os.replace(tmp, path)


def _load_input(path: Path) -> tuple[Any, dict[str, Any]]:
    from hypnic.detector.bursts import BurstResult
    from hypnic.detector.night import NightInput

    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        extra = {k[len("extra_"):]: z[k] for k in z.files if k.startswith("extra_")}
        bursts = BurstResult(z["events"], z["epochs"], meta["gaps"], z["shapes"], **extra)
        fields = dict(meta["input"])
        fields.update({k[len("inp_"):]: z[k] for k in z.files if k.startswith("inp_")})
        for name, count in meta["input_seqs"].items():
            fields[name] = tuple(z[f"inpseq_{name}_{i}"] for i in range(count))
    return NightInput(bursts=bursts, **fields), meta["truth"]


def _read(spec: NightSpec, cache: Path | None) -> tuple[Any, dict[str, Any]]:
    """The night's input to the night stage (:func:`hypnic.pipeline.read_night`: its bursts and
    whatever the pipeline read beside them, the thermometer where the spec hands it over in the
    chunks' ``aux``, the sensor's step, idle spans ...) and its truth; from the cache where it
    holds the night."""
    from hypnic import pipeline
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.recordings.samples import SampleStream

    path = cache / f"{cache_key(spec)}.npz" if cache is not None else None
    if path is not None and path.exists():
        return _load_input(path)
    night = simulate_night(
        spec.seed, spec.fs, spec.hours, spec.placement,
        params=spec_params(spec),
        noise_density=spec.noise_ug, amplitude_scale=spec.amplitude_scale,
        rotation="random" if spec.rotate else None, gaps=spec.gaps, nonwear=spec.nonwear,
    )
    aux = {"temperature": night.temperature} if spec.temperature else None
    stream = SampleStream.from_arrays(night.t, night.xyz, night.info, aux=aux)
    inp = pipeline.read_night(stream, AnalysisOptions(placement=spec.placement)).input
    if path is not None:
        _save_input(path, inp, night.truth)
    return inp, night.truth


def run_night(spec: NightSpec, cache: Path | None = None) -> NightScore:
    """Generate, analyse and score one night.

    The night is read as ``hypnic detect`` reads it (:func:`hypnic.pipeline.read_night`) and its
    night analysed by the detector's entry point (:func:`detector.analysis.analyze_night`), as
    the pipeline does. With ``cache`` (a folder), the night-stage input of each night (its bursts
    and what the pipeline read beside them) is kept there and only the night-level scoring
    (non-wear, sleep period, labels) runs again on a later call: seconds instead of minutes for a
    whole grid while working on the classifier.
    """
    from hypnic.detector.analysis import analyze_night

    if spec.placement == "wrist+ankle":
        return run_pair(spec)
    inp, truth = _read(spec, cache)
    result = analyze_night([inp], AnalysisOptions(placement=spec.placement))
    events, s = result.events, result.summary
    bursts = inp.bursts
    expected = expected_labels(truth, spec.placement)
    labels = score_labels(events, expected)
    bursts_score = score_bursts(bursts.events, truth)
    onset_err = None
    if s.sleep_onset_s is not None and truth["sleep_onset_s"] is not None:
        onset_err = (s.sleep_onset_s - truth["sleep_onset_s"]) / 60.0
    plms_truth = truth_plms_index(expected, truth) if placement_info(spec.placement).legs else None
    nw = nonwear_found(s.nonwear, truth["nonwear"]) if truth.get("nonwear") else None
    nws = score_nonwear(s.nonwear, truth["nonwear"], widen_s=spec_params(spec).handling_s)
    return NightScore(spec, labels, bursts_score, onset_err, s.plms_index, plms_truth, nw, nws)


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
    nonwear_score: NonwearScore = field(default_factory=NonwearScore)

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
        if n.nonwear is not None:
            self.nonwear_score.add(n.nonwear)

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
        nw = self.nonwear_score
        r["nonwear_spans"] = nw.spans
        r["nonwear_recall"] = nw.recall
        r["nonwear_precision"] = nw.precision
        r["false_nonwear_min_per_night"] = nw.false_min_per_night
        r["false_nonwear_min_worst_night"] = nw.false_min_worst_night
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
