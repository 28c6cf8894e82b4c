"""Reading what ``hypnic detect --out DIR`` wrote: summary.json, events.csv and traces.npz.

Problems become one-line :class:`~hypnic.recordings.errors.InputError` s naming the file. ``traces.npz`` is
optional (older outputs have none): without it the report leaves its plots of movement and
posture out.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hypnic.detector.results import Event, NightSummary
from hypnic.recordings.errors import InputError
from hypnic.recordings.outputs import read_events_csv

#: Columns of events.csv the report cannot do without (CONTRACT.md, outputs).
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
    summary : NightSummary
        ``summary.json`` as written (fields it lacks are None).
    events : list of Event
        ``events.csv`` rows in file order (columns it lacks, and empty cells, are None).
    traces : dict of ndarray or None
        ``traces.npz`` where present.
    """

    path: Path
    summary: NightSummary
    events: list[Event]
    traces: dict[str, np.ndarray] | None


def read_summary(path: Path) -> NightSummary:
    """Load ``summary.json`` (a JSON object with the keys the pages need).

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
    return NightSummary.from_dict(obj)


def read_events(path: Path) -> list[Event]:
    """Load ``events.csv`` (:func:`recordings.outputs.read_events_csv`).

    Raises
    ------
    InputError
        When the file is missing, lacks a required column or holds a value that is not a number.
    """
    if not path.is_file():
        raise InputError(path.parent, "no events.csv here: not a folder written by hypnic detect")
    return read_events_csv(path, required=REQUIRED_COLUMNS)


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
