"""Writing a command's output files all at once, or not at all.

Outputs are first written into a hidden staging folder next to the target, then moved into
place file by file with :func:`os.replace`. An error before the move leaves ``--out`` as it was;
the staging folder is always removed. Files that were in ``--out`` before and that we do not
write are never touched.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hypnic.errors import InputError

EVENT_COLUMNS = (
    "onset_s",
    "duration_s",
    "peak_g",
    "label",
    "series",
    "confidence",
    "minutes_from_onset",
)


@contextlib.contextmanager
def staged_output(out_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a staging folder; on a clean exit move its files into ``out_dir``.

    Raises
    ------
    InputError
        When ``out_dir`` exists and is not a folder, or cannot be created.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out exists and is not a folder")
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=parent))
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder ({exc.strerror})") from None
    try:
        yield stage
        out.mkdir(parents=True, exist_ok=True)
        for item in sorted(stage.iterdir()):
            os.replace(item, out / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.6g}" if abs(v) < 1e5 else f"{v:.3f}"
    return v


def write_events_csv(path: Path, events: Sequence[dict[str, Any]], extra: Sequence[str] = ()) -> None:
    """Write ``events.csv``: the CONTRACT columns first, then ``extra`` feature columns."""
    columns = list(EVENT_COLUMNS) + [c for c in extra if c not in EVENT_COLUMNS]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for ev in events:
            writer.writerow([_csv_value(ev.get(c)) for c in columns])


def _json_default(o: Any) -> Any:
    # numpy scalars and arrays end up in summaries; JSON has no NaN, so NaN becomes null.
    if hasattr(o, "tolist"):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def write_json(path: Path, obj: Any) -> None:
    """Write strict JSON (no NaN/Infinity: they become ``null``)."""
    text = json.dumps(_finite(json.loads(json.dumps(obj, default=_json_default))), indent=2)
    path.write_text(text + "\n", encoding="utf-8")
