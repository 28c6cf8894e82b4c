"""``hypnic batch``: a cohort of recordings on dask.distributed, one task per file.

Each file is analysed as ``hypnic detect`` does (``DIR/<name>/events.csv`` and ``summary.json``)
on a dask worker: a :class:`~dask.distributed.LocalCluster` of worker processes by default, an
existing scheduler when one is given, so the same command runs on a laptop or a cluster.

* **Failures are isolated.** A task catches everything its file raises and returns a one-line
  error; a worker that dies takes only its task with it. Failures go to ``DIR/errors.csv``, never
  stop the batch.
* **Reruns skip finished work.** A file is finished when ``DIR/<name>/summary.json`` exists and
  names that file as its source (``summary.json`` is moved into place last, so its presence means
  the outputs are whole). A file whose content was rejected (a one-line input error) is not tried
  again while its size and modification time are unchanged; crashes and lost workers are.
* **The tables are rebuilt from the outputs.** ``DIR/nights.csv`` has one row per night of every
  finished file (GGIR part-4 style), whether it ran now or before.
* **numba's cache.** Worker processes share one on-disk cache (``NUMBA_CACHE_DIR``, set for them
  when unset); the client compiles the kernels into it once and every worker loads them before
  the first task, so N workers do not compile the same kernels N times over, or race writing them.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypnic.detector.options import AnalysisOptions
from hypnic.detector.results import NightSummary
from hypnic.detector.vocabulary import LABELS
from hypnic.recordings.errors import InputError

#: One count column per label (``n_<label>``), in the vocabulary's order.
NIGHT_COLUMNS = (
    "file", "output", "night", "window_start_s", "window_end_s", "complete",
    "sleep_onset_s", "sleep_onset_source", "sleep_end_s", "sleep_period_s",
    "jerks_around_onset", "plms_index", "periodicity_index",
    *(f"n_{lab}" for lab in LABELS),
    "n_gaps", "gaps_s", "nonwear_s", "valid_fraction", "placement", "rules", "quality",
)
ERROR_COLUMNS = ("file", "error")
#: Rejected inputs (content errors) by absolute path, with the size and mtime they had.
FAILED_STATE = ".hypnic-batch-failed.json"
#: A night with less recorded, worn time than this fraction of its window is flagged.
MIN_VALID_FRACTION = 0.9


@dataclass(frozen=True)
class Job:
    """One input file and where its outputs go."""

    path: str
    out: str
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    force: bool = False  # --force: write into an existing folder hypnic did not write


@dataclass
class BatchResult:
    """What a batch did.

    Attributes
    ----------
    ran, skipped : list of str
        Files analysed now, and files finished by an earlier run.
    errors : list of (str, str)
        ``(file, one-line error)`` for every file that failed, now or before.
    nights : int
        Rows written to ``nights.csv``.
    """

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    nights: int = 0


# --- names and markers -------------------------------------------------------------------------


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".csv", ".cwa", ".bin", ".gt3x", ".edf"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
    return name or "input"


def output_names(paths: Sequence[str]) -> list[str]:
    """A folder name per input: its file name without extensions, made unique if needed.

    Two inputs with the same name (``a/night.csv``, ``b/night.csv``) get a short hash of their
    absolute path appended, so a name never depends on the order of the inputs (reruns with the
    files listed differently find the same folders).
    """
    stems = [_stem(Path(p)) for p in paths]
    count: dict[str, int] = {}
    for s in stems:
        count[s] = count.get(s, 0) + 1
    out = []
    for p, s in zip(paths, stems):
        if count[s] > 1:
            s = f"{s}-{hashlib.sha1(str(Path(p).resolve()).encode()).hexdigest()[:8]}"
        out.append(s)
    return out


def finished(job: Job) -> bool:
    """Whether ``job`` has complete outputs from an earlier run (its marker: summary.json)."""
    try:
        summary = json.loads((Path(job.out) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(summary, dict) or not isinstance(summary.get("source"), str):
        return False
    try:
        return Path(summary["source"]).resolve() == Path(job.path).resolve()
    except OSError:
        return False


def _file_key(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _load_failed(out_dir: Path) -> dict[str, Any]:
    try:
        state = json.loads((out_dir / FAILED_STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


# --- the task ------------------------------------------------------------------------------------


def process_file(job: Job) -> dict[str, Any]:
    """Analyse one file on a worker; never raises for the file's sake.

    Returns
    -------
    dict
        ``file``, ``ok`` (bool), ``error`` (one line, or None), ``kind`` (``input`` for a rejected
        file, ``internal`` for anything else), ``seconds``.
    """
    t0 = time.perf_counter()
    try:
        from hypnic.pipeline import analyze_stream, write_outputs
        from hypnic.recordings.open_input import open_input

        analysis = analyze_stream(open_input(job.path), job.options)
        write_outputs(analysis, job.out, report=False, force=job.force)
        error, kind = None, None
    except InputError as exc:
        error, kind = exc.one_line(), "input"
    except Exception as exc:  # noqa: BLE001 - one file's failure must not end the batch
        error, kind = " ".join(f"{job.path}: {type(exc).__name__}: {exc}".split()), "internal"
    return {"file": job.path, "ok": error is None, "error": error, "kind": kind,
            "seconds": time.perf_counter() - t0}


def warm_up() -> float:
    """Compile (or load from the cache) the burst kernels in this process; return seconds."""
    import numpy as np

    from hypnic.detector.bursts import detect_bursts

    t0 = time.perf_counter()
    t = np.arange(256) / 32.0
    detect_bursts(t, np.zeros((256, 3), dtype=np.float32), 32.0)
    return time.perf_counter() - t0


# --- the tables ----------------------------------------------------------------------------------


def _span_s(spans: Iterable[Sequence[float]]) -> float:
    return float(sum(max(0.0, float(b) - float(a)) for a, b in spans))


def night_rows(file: str, output: str, summary: NightSummary) -> list[dict[str, Any]]:
    """One ``nights.csv`` row per night of a summary (the summary itself for a single night)."""
    rows = []
    for i, night in enumerate(summary.night_list(), start=1):
        a, b = night.window_s or [0.0, summary.duration_s or 0.0]
        gaps, nonwear = night.gaps or [], night.nonwear or []
        length = max(float(b) - float(a), 0.0)
        valid = 1.0 - (_span_s(gaps) + _span_s(nonwear)) / length if length > 0 else 0.0
        notes = [n for n in (night.sleep_onset_reason, night.plms_index_reason) if n]
        # Older summaries do not say whether the night is complete: taken as complete.
        complete = True if night.complete is None else night.complete
        if not complete:
            notes.insert(0, "incomplete night (recording starts or ends inside it)")
        if valid < MIN_VALID_FRACTION:
            notes.insert(0, f"only {valid:.0%} of the night recorded and worn")
        counts = night.counts or {}
        rows.append({
            "file": file, "output": output, "night": i,
            "window_start_s": a, "window_end_s": b, "complete": complete,
            "sleep_onset_s": night.sleep_onset_s,
            "sleep_onset_source": night.sleep_onset_source,
            "sleep_end_s": night.sleep_end_s,
            "sleep_period_s": night.sleep_period_s,
            "jerks_around_onset": night.jerks_first_30_min,
            "plms_index": night.plms_index,
            "periodicity_index": night.periodicity_index,
            **{f"n_{lab}": counts.get(lab, 0) for lab in LABELS},
            "n_gaps": len(gaps), "gaps_s": round(_span_s(gaps), 3),
            "nonwear_s": round(_span_s(nonwear), 3), "valid_fraction": round(valid, 4),
            "placement": night.placement, "rules": night.rules,
            "quality": "; ".join(notes) if notes else "ok",
        })
    return rows


def _write_table(path: Path, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})


def write_tables(
    out_dir: Path,
    jobs: Sequence[Job],
    errors: Sequence[tuple[str, str]],
    failed: dict[str, Any],
    force: bool = False,
) -> int:
    """Write ``nights.csv`` (from every finished job's summary), ``errors.csv`` and the state of
    rejected files, all at once; return the number of nights."""
    from hypnic.recordings.outputs import staged_output

    rows: list[dict[str, Any]] = []
    for job in jobs:
        if finished(job):
            summary = json.loads((Path(job.out) / "summary.json").read_text(encoding="utf-8"))
            rows.extend(night_rows(job.path, Path(job.out).name, NightSummary.from_dict(summary)))
    with staged_output(out_dir, force=force) as stage:
        _write_table(stage / "nights.csv", NIGHT_COLUMNS, rows)
        _write_table(stage / "errors.csv", ERROR_COLUMNS, ({"file": f, "error": e} for f, e in errors))
        (stage / FAILED_STATE).write_text(json.dumps(failed, indent=1) + "\n", encoding="utf-8")
    return len(rows)


# --- the batch -----------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where worker processes share numba's compiled kernels when NUMBA_CACHE_DIR is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "hypnic" / "numba"


def _client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        _check_tls_settings(scheduler)
        try:
            # The client takes its TLS certificates from dask's own settings (Security() reads
            # distributed.comm.tls.*), as every dask tool does: nothing to pass here.
            return Client(scheduler, timeout="15s"), None
        except Exception as exc:  # noqa: BLE001 - any failure to connect is a bad --scheduler
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise InputError("--scheduler", f"cannot connect to {scheduler}: {detail}") from None
    # No dashboard, and the scheduler's HTTP endpoint on a free port rather than 8787 (which
    # another cluster may hold).
    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster


def _check_tls_settings(scheduler: str) -> None:
    """A ``tls://`` address needs dask's TLS settings; say which, rather than dask's TypeError."""
    import dask
    from distributed.security import Security

    if not scheduler.lower().startswith("tls://"):
        return
    if dask.config.get("distributed.client.security-loader", None):
        return  # the loader hands the client its credentials
    if Security().get_connection_args("client")["ssl_context"] is None:
        raise InputError(
            "--scheduler",
            f"{scheduler} is a TLS address but dask has no TLS settings: set "
            "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and "
            "distributed.comm.tls.client.key (in ~/.config/dask/*.yaml or as "
            "DASK_DISTRIBUTED__COMM__TLS__CA_FILE ... variables)",
        )


def plan(inputs: Sequence[str], out_dir: Path, options: AnalysisOptions,
         retry_failed: bool, force: bool = False,
         ) -> tuple[list[Job], list[Job], list[tuple[str, str]]]:
    """All jobs, the ones to run now, and the errors known without running them (missing
    files, files rejected by an earlier run and unchanged since)."""
    paths = list(dict.fromkeys(str(p) for p in inputs))  # drop repeats, keep the order
    jobs = [Job(p, str(out_dir / name), options, force)
            for p, name in zip(paths, output_names(paths), strict=True)]
    failed = {} if retry_failed else _load_failed(out_dir)
    todo, carried = [], []
    for job in jobs:
        if finished(job):
            continue
        if not os.path.exists(job.path):  # no worker needed to say so
            carried.append((job.path, InputError(job.path, "no such file").one_line()))
            continue
        old = failed.get(str(Path(job.path).resolve()))
        if old is not None and old.get("key") == _file_key(job.path) and _file_key(job.path):
            carried.append((job.path, old["error"]))
            continue
        todo.append(job)
    return jobs, todo, carried


def run_batch(
    inputs: Sequence[str],
    out_dir: str | os.PathLike[str],
    options: AnalysisOptions | None = None,
    *,
    scheduler: str | None = None,
    workers: int = 2,
    retry_failed: bool = False,
    progress: bool | None = None,
    force: bool = False,
) -> BatchResult:
    """Analyse many recordings on dask.distributed; write the per-file outputs and the tables.

    Parameters
    ----------
    inputs : sequence of str
        Recordings (any input ``hypnic detect`` takes).
    out_dir : path
        ``DIR``: one folder per input, ``nights.csv`` and ``errors.csv``.
    options : detector.options.AnalysisOptions, optional
        As ``hypnic detect``'s options, for every file (the defaults where None).
    scheduler : str, optional
        Address of a running dask scheduler (``tcp://host:8786``); a LocalCluster otherwise.
    workers : int
        Worker processes of the LocalCluster (one thread each: the pipeline holds the GIL
        outside its kernels).
    retry_failed : bool
        Try again the files rejected in an earlier run even if unchanged.
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    force : bool
        ``--force``: write into an existing folder hypnic did not write (and into per-file
        folders of the same names), replacing files of the same name only.

    Returns
    -------
    BatchResult

    Raises
    ------
    InputError
        Bad arguments only (an unusable ``out_dir``, an unreachable scheduler), never a file's
        failure.
    """
    from hypnic.recordings.outputs import check_output_folder

    out = Path(out_dir)
    check_output_folder(out, force=force)
    jobs, todo, carried = plan(inputs, out, options or AnalysisOptions(), retry_failed, force)
    result = BatchResult(errors=list(carried))
    todo_paths = {j.path for j in todo}
    known_bad = {f for f, _ in carried}
    result.skipped = [j.path for j in jobs if j.path not in todo_paths and j.path not in known_bad]
    failed_state = {} if retry_failed else _load_failed(out)
    if todo:
        for r in _run_jobs(todo, out, scheduler, workers, progress, force):
            result.ran.append(r["file"])
            if not r["ok"]:
                result.errors.append((r["file"], r["error"]))
                if r["kind"] == "input":
                    failed_state[str(Path(r["file"]).resolve())] = {
                        "key": _file_key(r["file"]), "error": r["error"]}
    # Forget rejections of files that have since been analysed (or are no longer inputs).
    still_bad = {str(Path(p).resolve()) for p, _ in result.errors}
    failed_state = {k: v for k, v in failed_state.items() if k in still_bad}
    order = {j.path: i for i, j in enumerate(jobs)}
    result.errors.sort(key=lambda fe: order.get(fe[0], len(order)))
    result.nights = write_tables(out, jobs, result.errors, failed_state, force)
    return result


def _run_jobs(
    todo: Sequence[Job], out: Path, scheduler: str | None, workers: int, progress: bool | None,
    force: bool = False,
) -> Iterator[dict[str, Any]]:
    """Run the jobs on dask, yielding each result (see :func:`process_file`) as it completes."""
    from distributed import as_completed
    from tqdm import tqdm

    from hypnic.recordings.outputs import claim_output_folder

    if scheduler is None:
        os.environ.setdefault("NUMBA_CACHE_DIR", str(default_cache_dir()))
        warm_up()  # fills the shared cache before the workers start: they only load it
    client, cluster = _client(scheduler, workers)
    try:
        # Only now: a bad --scheduler leaves no output folder behind. The marker goes in first,
        # so a batch killed half-way leaves a folder the rerun recognises as its own.
        claim_output_folder(out, force=force)
        client.run(warm_up)
        futures = [client.submit(process_file, job, pure=False) for job in todo]
        path_of = {f.key: job.path for f, job in zip(futures, todo)}
        show = sys.stderr.isatty() if progress is None else progress
        with tqdm(total=len(futures), desc="files", unit="file", file=sys.stderr,
                  disable=not show) as bar:
            for fut in as_completed(futures):
                try:
                    r = fut.result()
                except Exception as exc:  # noqa: BLE001 - a lost worker fails one file
                    path = path_of[fut.key]
                    r = {"file": path, "ok": False, "kind": "internal", "error": " ".join(
                        f"{path}: worker failed: {type(exc).__name__}: {exc}".split())}
                bar.update(1)
                yield r
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
