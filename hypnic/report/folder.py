"""Reading what ``hypnic detect --out DIR`` wrote: summary.json, events.csv and traces.npz.

Problems become one-line :class:`~hypnic.recordings.errors.InputError` s naming the file. ``traces.npz`` is
optional (older outputs have none): without it the report leaves its plots of movement and
posture out.
"""

from __future__ import annotations

import csv
import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hypnic.recordings.errors import InputError

#: Columns of events.csv the report reads (CONTRACT.md, outputs; features from pipeline.py).
FLOAT_COLUMNS = (
    "onset_s",
    "duration_s",
    "peak_g",
    "confidence",
    "minutes_from_onset",
    "peak_jerk_gps",
    "rise_time_s",
    "orientation_change_deg",
)
REQUIRED_COLUMNS = ("onset_s", "duration_s", "peak_g", "label")
#: What every summary.json holds (CONTRACT.md) and the pages cannot do without.
SUMMARY_KEYS = ("sleep_onset_s", "counts", "duration_s")
TRACE_KEYS = (
    "epoch_t_s",
    "epoch_angle_z_deg",
    "epoch_rms_g",
    "snippet_onset_s",
    "snippet_t_s",
    "snippet_xyz_g",
)
#: Arrays of traces.npz that only some recordings have (a sensor with a thermometer).
OPTIONAL_TRACE_KEYS = ("temperature_t_s", "temperature_c")


@dataclass
class NightFolder:
    """A detect output folder as the report uses it.

    Attributes
    ----------
    path : Path
    summary : dict
        ``summary.json`` as written.
    events : list of dict
        ``events.csv`` rows in file order; numbers as float (``None`` where empty), ``label`` str,
        ``series`` int or ``None``.
    traces : dict of ndarray or None
        ``traces.npz`` where present.
    """

    path: Path
    summary: dict[str, Any]
    events: list[dict[str, Any]]
    traces: dict[str, np.ndarray] | None


def read_summary(path: Path) -> dict[str, Any]:
    """Load ``summary.json`` (a JSON object).

    Raises
    ------
    InputError
        When the file is missing, not JSON or not an object.
    """
    if not path.is_file():
        raise InputError(path.parent, "no summary.json here: not a folder written by hypnic detect")
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror})") from None
    if not isinstance(obj, dict):
        raise InputError(path, "not a hypnic summary (the JSON is not an object)")
    missing = [k for k in SUMMARY_KEYS if k not in obj]
    if missing:
        raise InputError(path, f"not a hypnic summary (missing {', '.join(missing)})")
    if not isinstance(obj["duration_s"], (int, float)) or not obj["duration_s"] > 0:
        raise InputError(path, "duration_s is not a positive number")
    return obj


def _number(text: str, path: Path, line: int, column: str) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"line {line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(path, f"line {line}: {column} {text!r} is not a finite number")
    return value


def read_events(path: Path) -> list[dict[str, Any]]:
    """Load ``events.csv``.

    Raises
    ------
    InputError
        When the file is missing, lacks a required column or holds a value that is not a number.
    """
    if not path.is_file():
        raise InputError(path.parent, "no events.csv here: not a folder written by hypnic detect")
    rows: list[dict[str, Any]] = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise InputError(path, f"line 1: missing column(s) {', '.join(missing)}")
            for raw in reader:
                line = reader.line_num
                row: dict[str, Any] = {"label": (raw.get("label") or "").strip()}
                for col in FLOAT_COLUMNS:
                    if col in raw:
                        row[col] = _number(raw[col], path, line, col)
                if row["onset_s"] is None:
                    raise InputError(path, f"line {line}: onset_s is empty")
                series = _number(raw.get("series") or "", path, line, "series")
                row["series"] = None if series is None else int(series)
                rows.append(row)
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror})") from None
    return rows


def read_traces(path: Path) -> dict[str, np.ndarray] | None:
    """Load ``traces.npz``; ``None`` when the folder has none.

    Raises
    ------
    InputError
        When the file is damaged or lacks an array the report needs.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in TRACE_KEYS if k not in npz.files]
            if missing:
                raise InputError(path, f"missing array(s) {', '.join(missing)}")
            out = {k: np.asarray(npz[k]) for k in TRACE_KEYS}
            # The sensor's temperature is there only where the sensor has a thermometer.
            if all(k in npz.files for k in OPTIONAL_TRACE_KEYS):
                out.update({k: np.asarray(npz[k]) for k in OPTIONAL_TRACE_KEYS})
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise InputError(path, f"cannot read the traces ({exc})") from None
    if "temperature_t_s" in out and (
        out["temperature_t_s"].ndim != 1 or out["temperature_t_s"].shape != out["temperature_c"].shape
    ):
        raise InputError(path, "temperature arrays differ in length")
    n = out["epoch_t_s"].shape
    if out["epoch_angle_z_deg"].shape != n or out["epoch_rms_g"].shape != n:
        raise InputError(path, "epoch arrays differ in length")
    k = out["snippet_onset_s"].shape[0]
    if (
        out["snippet_t_s"].shape[0] != k
        or out["snippet_xyz_g"].shape[:2] != out["snippet_t_s"].shape
    ):
        raise InputError(path, "snippet arrays do not match in shape")
    return out


def read_folder(path: str | Path) -> NightFolder:
    """Read a detect output folder.

    Raises
    ------
    InputError
        When ``path`` is not a folder, or one of its files is missing or damaged.
    """
    folder = Path(path)
    if not folder.is_dir():
        what = "no such folder" if not folder.exists() else "not a folder"
        raise InputError(folder, f"{what} (give the folder written by hypnic detect --out)")
    return NightFolder(
        folder,
        read_summary(folder / "summary.json"),
        read_events(folder / "events.csv"),
        read_traces(folder / "traces.npz"),
    )
