"""Writing a command's output files all at once, or not at all, and never over files not ours.

Outputs are first written into a hidden staging folder next to the target, then moved into
place file by file with :func:`os.replace`. An error before the move leaves ``--out`` as it was;
the staging folder is always removed (a staging folder left by a killed process is removed by
the next run that writes the same ``--out``).

``--out`` never deletes or overwrites a file hypnic did not write. Every output folder holds a
marker, :data:`MARKER` (``.hypnic-output.json``), listing the files hypnic wrote into it:

* a new or empty folder is written and gets the marker;
* a folder with our marker is updated in place: the files we write replace ours, files of an
  earlier run that this run does not write are removed (the folder then holds one run's
  outputs), and every other file is left untouched;
* a non-empty folder without the marker, or a file of ours that would replace a file not
  listed in the marker, is refused with one line, unless ``force`` (``--force``) is given: then
  our files replace files of the same name and nothing else is touched.

Folders written by hypnic before the marker existed are recognised by their ``summary.json``
(``"software": "hypnic"``) or a batch's state file, and taken as ours.

The night's files themselves: ``events.csv`` is written from the detector's events
(:class:`detector.results.Event`, in their declared columns) and read back into them
(:func:`read_events_csv`); ``summary.json`` is the strict JSON of a
:class:`detector.results.NightSummary` (:func:`write_json`).

Ctrl-C and SIGTERM wait while the outputs are written and moved (in the main thread): an
interrupt in the middle of a writer can break that writer's own clean-up (numpy's zip file),
and one between creating the staging folder and the ``try`` that removes it would leave it
behind. A second interrupt acts at once. docs/reliability.md lists what is guaranteed.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import re
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from hypnic.detector.results import Event
from hypnic.recordings.errors import InputError
from hypnic.recordings.provenance import VERSION

#: The hidden file that makes a folder an output folder of hypnic, listing what we wrote there.
MARKER = ".hypnic-output.json"
#: Moved into place after every other file, so that its presence means the others are in place
#: (``hypnic batch`` takes a summary.json naming the input as the mark of a finished file).
COMMIT_LAST = ("summary.json",)
#: What a detect/replay folder or a batch folder written before the marker existed holds.
_LEGACY_FILES = ("events.csv", "summary.json", "traces.npz", "report.html")
_LEGACY_BATCH_FILES = ("nights.csv", "errors.csv", ".hypnic-batch-failed.json")
#: ``.<name>.staging-<pid>-<random>``: the pid lets a later run remove what a killed run left.
_STAGE = re.compile(r"^\.(?P<name>.+)\.staging-(?P<pid>\d+)-[^/]*$")


# ---------------------------------------------------------------------------- the marker


def read_marker(folder: str | os.PathLike[str]) -> frozenset[str] | None:
    """Names of the files hypnic wrote into ``folder``, or None when it is not ours.

    A missing, unreadable or damaged marker means "not ours" (the safe side), except for the
    folders hypnic wrote before the marker existed (see the module docstring).
    """
    folder = Path(folder)
    if not (folder / MARKER).exists():
        return _legacy_owned(folder)
    return _marker_files(folder)


def _marker_files(folder: Path) -> frozenset[str] | None:
    """The names in ``folder``'s marker file; None when it is missing or damaged."""
    try:
        obj = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = (
        obj.get("files") if isinstance(obj, dict) and obj.get("written_by") == "hypnic" else None
    )
    if not isinstance(files, list) or not all(isinstance(f, str) and _plain_name(f) for f in files):
        return None
    return frozenset(files)


def _plain_name(name: str) -> bool:
    return bool(name) and name not in (".", "..", MARKER) and "/" not in name and "\\" not in name


def _legacy_owned(folder: Path) -> frozenset[str] | None:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = None
    if isinstance(summary, dict) and summary.get("software") == "hypnic":
        return frozenset(n for n in _LEGACY_FILES if (folder / n).is_file())
    if (folder / _LEGACY_BATCH_FILES[-1]).is_file():
        return frozenset(n for n in _LEGACY_BATCH_FILES if (folder / n).is_file())
    return None


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_marker(folder: Path, files: Iterable[str]) -> None:
    """Write the marker atomically; left as it is when it already lists exactly ``files``.

    Temporary markers a killed run left (``.hypnic-output.json.*.tmp``) are removed first.
    """
    for stale in folder.glob(f"{MARKER}.*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    files = frozenset(files)
    if _marker_files(folder) == files:
        return
    text = json.dumps(
        {"written_by": "hypnic", "version": VERSION, "files": sorted(files)}, indent=1
    )
    fd, tmp = tempfile.mkstemp(prefix=f"{MARKER}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; the marker is an ordinary file
        os.replace(tmp, folder / MARKER)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def note_written(folder: str | os.PathLike[str], names: Iterable[str]) -> None:
    """Add ``names`` to the marker of an output folder of ours (no-op for any other folder).

    For outputs written into such a folder outside :func:`staged_output` (``hypnic report
    DIR`` writes ``DIR/report.html``), so that a later run may replace them.
    """
    folder = Path(folder)
    owned = _marker_files(folder)  # a real marker only: a staging folder has none
    if owned is None:
        return
    with contextlib.suppress(OSError):  # the report is written; the marker is a courtesy
        _write_marker(folder, owned | set(names))


# ---------------------------------------------------------------------- checking --out


def check_output_folder(
    out_dir: str | os.PathLike[str], *, force: bool = False, names: Iterable[str] = ()
) -> frozenset[str]:
    """Whether hypnic may write into ``out_dir``; the names it wrote there before.

    Cheap, and writes nothing: commands call it before their work, so that a refusal does not
    come after an hour of analysis. :func:`staged_output` checks again before it moves files.

    Parameters
    ----------
    out_dir : path-like
        The ``--out`` folder (it need not exist).
    force : bool
        ``--force``: accept a non-empty folder that hypnic did not write.
    names : iterable of str
        Files the command will write, if known: one that exists and is not ours is refused now.

    Returns
    -------
    frozenset of str
        The files our marker lists (empty for a new folder, or a foreign one with ``force``).

    Raises
    ------
    InputError
        ``out_dir`` exists and is not a folder, cannot be read, or is a non-empty folder that
        hypnic did not write, or holds one of ``names`` that is not ours (without ``force``).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out exists and is not a folder")
    if not out.exists():
        return frozenset()
    owned = read_marker(out)
    if owned is not None:
        if not force:
            _refuse_clash(out, owned, names)
        return owned
    try:
        entries = sum(1 for _ in out.iterdir())
    except OSError as exc:
        raise InputError(out, f"cannot read the output folder ({exc.strerror})") from None
    if entries and not force:
        raise InputError(
            out,
            f"--out is a folder hypnic did not write and holds {entries} item(s): give a new or "
            "empty folder, or --force to write into it (files of the same name are replaced, "
            "nothing else is touched)",
        )
    return frozenset()


def claim_output_folder(out_dir: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Create ``out_dir`` (or take a folder hypnic may write) and give it our marker.

    For commands that fill a folder piece by piece (``hypnic batch``: one subfolder per input,
    then the tables), so that a run killed half-way leaves a folder the next run recognises.

    Raises
    ------
    InputError
        As :func:`check_output_folder`, or when the folder cannot be created.
    """
    out = Path(out_dir)
    owned = check_output_folder(out, force=force)
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not (out / MARKER).is_file():
            _write_marker(out, owned)
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder ({exc.strerror})") from None
    return out


# ------------------------------------------------------------------------ staged output


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): alive
        return True
    return True


def _sweep_stale_stages(parent: Path, name: str) -> None:
    """Remove staging folders of ``name`` left by processes that no longer run (killed)."""
    with contextlib.suppress(OSError):
        for item in parent.iterdir():
            m = _STAGE.match(item.name)
            if m and m["name"] == name and item.is_dir() and not _alive(int(m["pid"])):
                shutil.rmtree(item, ignore_errors=True)


def _write_error(out: Path, stage: Path, exc: OSError) -> InputError:
    where = exc.filename
    inside = where is None or Path(os.fsdecode(where)).resolve().is_relative_to(stage.resolve())
    problem = exc.strerror or str(exc)
    if inside:
        return InputError(out, f"cannot write the outputs ({problem}); --out is as it was")
    return InputError(os.fsdecode(where), f"cannot write ({problem}); --out is as it was")


@contextlib.contextmanager
def staged_output(out_dir: str | os.PathLike[str], *, force: bool = False) -> Iterator[Path]:
    """Yield a staging folder; on a clean exit move its files into ``out_dir``.

    The files are fsynced, our marker is written (listing old and new names), then the files
    are moved, :data:`COMMIT_LAST` last; files of an earlier run of ours that this run did not
    write are removed and the marker is set to this run's files. See the module docstring
    for what may be written where, and for Ctrl-C and SIGTERM, which wait until this is done.

    Parameters
    ----------
    out_dir : path-like
        The ``--out`` folder.
    force : bool
        ``--force``: write into a folder hypnic did not write, replacing files of the same name.

    Raises
    ------
    InputError
        When ``out_dir`` may not be written (:func:`check_output_folder`), a file of ours would
        replace one that is not ours, or writing fails (a full disk, a read-only or vanished
        folder): one line, and ``out_dir`` as it was (a failure while moving can leave some
        files of the new run beside the rest of the old one, never a torn file).
    """
    out = Path(out_dir)
    check_output_folder(out, force=force)
    parent = out.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        _sweep_stale_stages(parent, out.name)
    except OSError as exc:
        raise InputError(out, f"cannot create the output folder ({exc.strerror})") from None
    with _interrupts_deferred():
        try:
            stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-{os.getpid()}-", dir=parent))
        except OSError as exc:
            raise InputError(out, f"cannot create the output folder ({exc.strerror})") from None
        try:
            try:
                yield stage
                names = sorted(
                    (p.name for p in stage.iterdir() if p.name != MARKER),
                    key=lambda n: (n in COMMIT_LAST, n),
                )
                for name in names:
                    if (stage / name).is_file():
                        with open(stage / name, "rb") as fh:
                            os.fsync(fh.fileno())
            except OSError as exc:
                raise _write_error(out, stage, exc) from None
            _move_into_place(out, stage, names, force)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the outputs are written and moved (or given up).

    An interrupt raised in the middle of writing can strike where clean-up fails in turn (a
    zip file of numpy's half written refuses to close, and that error replaces the interrupt)
    or between creating the staging folder and the ``try`` that removes it. Writing takes a
    second or two, so the first interrupt waits for it; a second one acts at once. Only the
    main thread can set signal handlers: elsewhere (dask workers) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous: dict[int, Any] = {}

    def defer(signum: int, frame: Any) -> None:
        if pending:  # a second interrupt: act now
            _restore(previous)
            _deliver(signum, previous[signum])
        pending.append(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not None:  # None: a handler set outside Python, kept
            previous[signum] = signal.signal(signum, defer)
    try:
        yield
    finally:
        _restore(previous)
    for signum in pending[:1]:
        _deliver(signum, previous[signum])


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def _deliver(signum: int, handler: Any) -> None:
    """Act on a held signal as its own handler would have."""
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        signal.raise_signal(signum)


def _refuse_clash(out: Path, owned: frozenset[str], names: Iterable[str]) -> None:
    clash = [n for n in names if n not in owned and os.path.lexists(out / n)]
    if clash:
        raise InputError(
            out / clash[0],
            "is not a file hypnic wrote and would be replaced: move it away, or give --force",
        )


def _move_into_place(out: Path, stage: Path, names: Sequence[str], force: bool) -> None:
    owned = check_output_folder(out, force=force)  # again: the folder may have changed meanwhile
    if not force:
        _refuse_clash(out, owned, names)
    try:
        out.mkdir(parents=True, exist_ok=True)
        _write_marker(out, owned | set(names))  # first: a run killed while moving left ours
        for name in names:
            os.replace(stage / name, out / name)
        for name in sorted(owned - set(names)):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                (out / name).unlink()
        _write_marker(out, names)
        _fsync_dir(out)
    except OSError as exc:
        raise InputError(out, f"cannot write the outputs ({exc.strerror or exc})") from None


def _csv_value(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return ""
        return f"{v:.6g}" if abs(v) < 1e5 else f"{v:.3f}"
    return v


def write_events_csv(path: Path, events: Sequence[Event], columns: Sequence[str]) -> None:
    """Write ``events.csv``: one row per event, in ``columns``
    (:func:`detector.results.event_columns`: the CONTRACT's first, then the features)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for ev in events:
            writer.writerow([_csv_value(getattr(ev, c)) for c in columns])


_EVENT_FIELDS = tuple(f.name for f in fields(Event))
#: The columns of events.csv that hold numbers, and those of them that are counts.
_NUMBER_COLUMNS = tuple(f.name for f in fields(Event) if f.metadata.get("unit") is not None)
_COUNT_COLUMNS = tuple(f.name for f in fields(Event) if str(f.type).startswith("int"))


def _number(text: str | None, path: Path, line: int, column: str) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"line {line}: {column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(path, f"line {line}: {column} {text!r} is not a finite number")
    return value


def read_events_csv(path: Path, required: Sequence[str] = ("onset_s", "label")) -> list[Event]:
    """Read an ``events.csv`` of detect/replay/record back into events, in file order.

    Columns it lacks, and empty cells, are None; columns it has that events do not are ignored.

    Parameters
    ----------
    path : Path
    required : sequence of str
        Columns the caller cannot do without.

    Raises
    ------
    InputError
        The file is missing or unreadable, lacks a ``required`` column, a row has more or fewer
        fields than the header, a number column holds something that is not a finite number, or
        an onset is empty.
    """
    path = Path(path)
    events = []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise InputError(path, f"line 1: missing column(s) {', '.join(missing)}")
            known = [(i, c) for i, c in enumerate(header) if c in _EVENT_FIELDS]
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise InputError(
                        path, f"line {line}: {len(row)} fields, the header has {len(header)}"
                    )
                values: dict[str, Any] = {}
                for i, c in known:
                    if c in _NUMBER_COLUMNS:
                        number = _number(row[i], path, line, c)
                        values[c] = int(number) if number is not None and c in _COUNT_COLUMNS else number
                    else:
                        values[c] = row[i].strip() or None
                if values.get("onset_s") is None:
                    raise InputError(path, f"line {line}: onset_s is empty")
                values["label"] = values.get("label") or ""
                events.append(Event.from_dict(values))
    except FileNotFoundError:
        raise InputError(path, "no such events file") from None
    except UnicodeDecodeError:
        raise InputError(path, "not UTF-8 text") from None
    except OSError as exc:
        raise InputError(path, f"cannot read the file ({exc.strerror})") from None
    return events


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
