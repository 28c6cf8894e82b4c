"""Writing synthetic nights to files: a fast CSV writer and all-or-nothing file replacement."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from hypnic.recordings.errors import InputError

_CHUNK_ROWS = 1 << 20


def write_night_csv(
    path: str | os.PathLike[str],
    t: np.ndarray,
    xyz: np.ndarray,
    temperature: tuple[np.ndarray, np.ndarray] | None = None,
) -> None:
    """Write ``t,x,y,z`` rows (CONTRACT plain CSV) with pyarrow's CSV writer, block by block.

    Floats are written in their shortest round-trip form: ``t`` (float64) keeps every digit a
    1600 Hz time needs, x/y/z (float32, quantised to the LSB) read back bit-exact.

    With ``temperature`` (reading times and degC), a fifth column ``temperature`` holds on every
    row the latest reading at or before the row's time, as device exports write a thermometer
    that reads once per block (empty before the first reading).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from hypnic.benchmarks.synth_temperature import hold

    options = pacsv.WriteOptions(include_header=False)
    with open(path, "wb") as fh:
        # pyarrow would quote the header names
        fh.write(b"t,x,y,z,temperature\n" if temperature is not None else b"t,x,y,z\n")
        for a in range(0, len(t), _CHUNK_ROWS):
            cols = np.ascontiguousarray(xyz[a : a + _CHUNK_ROWS].T)
            ta = t[a : a + _CHUNK_ROWS]
            columns = {"t": ta, "x": cols[0], "y": cols[1], "z": cols[2]}
            if temperature is not None:
                held = hold(ta, np.asarray(temperature[0]), np.asarray(temperature[1]))
                columns["temperature"] = pa.array(held, from_pandas=True)  # NaN -> empty
            pacsv.write_csv(pa.table(columns), fh, write_options=options)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_files(paths: Sequence[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield temporary files next to ``paths``; on a clean exit move each onto its target.

    The temporary files are created on entry, so an unwritable target fails before any work.
    On an error nothing is replaced and the temporary files are removed.

    Raises
    ------
    InputError
        When a target is a folder or its folder cannot be created or written.
    """
    temps: list[Path] = []
    try:
        for p in map(Path, paths):
            if p.is_dir():
                raise InputError(p, "is a folder, expected a file name")
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                fd, name = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".part")
            except OSError as exc:
                raise InputError(p, f"cannot write here ({exc.strerror})") from None
            os.close(fd)
            temps.append(Path(name))
            os.chmod(name, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual mode
        yield temps
        for tmp, p in zip(temps, map(Path, paths), strict=True):
            try:
                os.replace(tmp, p)
            except OSError as exc:
                raise InputError(p, f"cannot write here ({exc.strerror})") from None
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
