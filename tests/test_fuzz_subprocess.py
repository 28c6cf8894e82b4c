"""No reader can take the process down: every reader on random and damaged bytes, in a child.

The readers are Python and numpy, with pyarrow (C++) parsing CSV, zlib and zipfile inflating
gzip and .gt3x, and edfio parsing EDF headers. A crash there (a segfault, an abort, memory
without bound, a hang) would not be an exception the in-process fuzz tests could catch, so
this test runs them in a child process: this file run as a script, with its address space
limited (:data:`MEMORY_LIMIT`) and a wall-clock timeout. The child reads every input as
``hypnic detect`` would (``open_input`` and every chunk; the diary through ``read_diary``),
prints each name before reading it, and exits 0 when every input gave samples, 2 when some
were refused with an InputError, 1 on any other exception; a signal means a crash.

Inputs (fixed seeds, :data:`PER_KIND` of each kind): random bytes, and damaged copies of a
valid file (flipped bytes, cut short, junk written over a stretch) for CSV, gzip CSV, Axivity
.cwa, GENEActiv .bin, ActiGraph .gt3x, EDF+, BDF+, a recording folder and a diary.
"""

from __future__ import annotations

import gzip
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

#: Address space of the child: the imports take ~1.5 GB of it (mostly reserved, not used);
#: reading a damaged file of a few kB may use a few MB more, never a gigabyte.
MEMORY_LIMIT = 3 << 30
TIMEOUT_S = 600.0
#: Inputs of each kind: in the normal suite, and behind ``-m fuzz``.
PER_KIND = 12
PER_KIND_LONG = 2000


def _seeds(base: Path) -> dict[str, tuple[str, bytes]]:
    """kind -> (file name, valid content)."""
    from tests.shared import DEVICES
    from tests.test_fuzz_edf import SEEDS as EDF
    from tests.test_fuzz_recording import SEEDS as REC

    csv = ("t,x,y,z\n" + "".join(f"{i / 25!r},0.01,0.5,1\n" for i in range(300))).encode()
    return {
        "csv": ("x.csv", csv),
        "csv_gz": ("x.csv.gz", gzip.compress(csv, mtime=0)),
        "cwa": ("x.cwa", (DEVICES / "ax3_sample.cwa").read_bytes()[: 24 * 512]),
        "bin": ("x.bin", (DEVICES / "gnactv_sample.bin").read_bytes()),
        "gt3x": ("x.gt3x", (DEVICES / "actigraph_wristpy.gt3x").read_bytes()),
        "edf": ("x.edf", EDF["edf_plus_d"]),
        "bdf": ("x.bdf", EDF["bdf_plus"]),
        "recording": ("signal.edf", REC["closed_25hz"]["signal.edf"]),
        "diary": ("diary.csv", b'date,tags,lights_off,notes\n2025-11-20,a;b,22:00,"x, y"\n'),
    }


def _damage(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    kind = rng.integers(4)
    if kind == 0:  # random bytes
        return rng.integers(0, 256, int(rng.integers(0, 4096)), np.uint8).tobytes()
    if kind == 1:  # cut short
        return bytes(buf[: int(rng.integers(0, len(buf)))])
    if kind == 2:  # flipped bytes
        for at in rng.integers(0, len(buf), int(rng.integers(1, 9))):
            buf[at] ^= int(rng.integers(1, 256))
        return bytes(buf)
    at = int(rng.integers(0, len(buf)))  # junk over a stretch
    junk = rng.integers(0, 256, int(rng.integers(1, 300)), np.uint8).tobytes()
    buf[at : at + len(junk)] = junk
    return bytes(buf[: len(data)])


def make_inputs(base: Path, per_kind: int, seed: int) -> list[Path]:
    """Write the inputs under ``base`` (one folder per input); return them in order."""
    rng = np.random.default_rng(seed)
    inputs = []
    for kind, (name, data) in _seeds(base).items():
        for i in range(per_kind):
            folder = base / f"{kind}-{i:03d}"
            folder.mkdir()
            if kind == "recording":
                from tests.test_fuzz_recording import SEEDS as REC

                for file, content in REC["closed_25hz"].items():
                    (folder / file).write_bytes(content)
                (folder / name).write_bytes(_damage(data, rng))
                inputs.append(folder)
            else:
                (folder / name).write_bytes(_damage(data, rng))
                inputs.append(folder / name)
    return inputs


def child(paths: list[str]) -> int:
    """Read every input; 0 all read, 2 some refused (InputError); anything else propagates."""
    from hypnic.recordings.errors import InputError
    from hypnic.recordings.open_input import open_input
    from hypnic.report.diary import read_diary

    refused = 0
    for path in paths:
        print(path, flush=True)
        try:
            if path.endswith("diary.csv"):
                read_diary(path)
            else:
                for _ in open_input(path):
                    pass
        except InputError as err:
            assert "\n" not in str(err)
            refused += 1
    print(f"done: {len(paths)} inputs, {refused} refused", flush=True)
    return 2 if refused else 0


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def read_in_a_child(tmp_path: Path, per_kind: int, seed: int) -> None:
    inputs = make_inputs(tmp_path, per_kind, seed)
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [sys.executable, __file__, "child", *map(str, inputs)],
        capture_output=True, timeout=TIMEOUT_S, preexec_fn=_limit_memory, env=env, cwd=root,
    )  # fmt: skip
    out = proc.stdout.decode().splitlines()
    last = out[-1] if out else "(none)"
    assert proc.returncode >= 0, (
        f"the child died of signal {signal.Signals(-proc.returncode).name} while reading {last} "
        f"(inputs of seed {seed})"
    )
    assert proc.returncode in (0, 2), (
        f"reading {last} (inputs of seed {seed}):\n{proc.stderr.decode()[-3000:]}"
    )
    assert out[-1].startswith(f"done: {len(inputs)} inputs, ")
    assert proc.returncode == 2  # some of so many damaged inputs are surely refused
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_no_reader_takes_the_process_down(tmp_path):
    read_in_a_child(tmp_path, PER_KIND, seed=20251125)


@pytest.mark.fuzz
@pytest.mark.slow
def test_no_reader_takes_the_process_down_long(tmp_path):
    read_in_a_child(tmp_path, PER_KIND_LONG, seed=int.from_bytes(os.urandom(4), "little"))


if __name__ == "__main__" and len(sys.argv) > 2 and sys.argv[1] == "child":
    sys.exit(child(sys.argv[2:]))
