"""Bad input at every CLI command: exit 2, one line naming the problem, nothing written.

One table, at least three bad inputs per command (wrong arguments, missing files, wrong
formats, out-of-range options), each run through ``hypnic.cli.main`` in this process. For every
row: the exit status is 2; stderr is exactly one line, ``hypnic: error: ...`` (or argparse's
``hypnic COMMAND: error: ...``), holding the words that name the problem; no traceback; and not
one file or folder appears, changes or disappears anywhere in the work space (so nothing under
``--out``, and no staging folder beside it).

The table must cover every command module in hypnic/commands/ (``record`` and ``scan`` too,
while they are not yet listed in ``hypnic.cli.COMMANDS``). test_cli_bad_input.py goes deeper
into ``detect``'s inputs; the commands' own test files check their messages in detail.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

import hypnic.cli

COMMANDS_DIR = Path(hypnic.cli.__file__).with_name("commands")
ALL_COMMANDS = tuple(
    sorted(p.stem for p in COMMANDS_DIR.glob("*.py") if not p.stem.startswith("_"))
)

# command -> rows of (argv, words the one line must hold). In argv, {name} is a path in the
# work space (see ``space``); {out} is a path that must not come to exist.
TABLE: dict[str, list[tuple[list[str], list[str]]]] = {
    "detect": [
        (["{missing}", "--out", "{out}"], ["{missing}", "no such file"]),
        (["{junk}", "--out", "{out}"], ["{junk}", "not a recognised recording"]),
        (["{csv}", "--out", "{out}", "--sleep-onset", "-5"], ["--sleep-onset"]),
        (["{csv}", "--out", "{out}", "--placement", "knee"], ["--placement", "invalid choice"]),
        (["{csv}", "--out", "{out}", "--start", "yesterday"], ["--start"]),
        (["{csv}", "--out", "{foreign}"], ["{foreign}", "hypnic did not write", "--force"]),
        (["{csv}", "--out", "{a_file}"], ["{a_file}", "not a folder"]),
        (["{csv}", "{csv}", "{csv}", "--out", "{out}"], ["one or two inputs"]),
        (["{csv}"], ["--out"]),
    ],
    "replay": [
        (["{missing}", "--out", "{out}"], ["{missing}", "no such file"]),
        (["{empty}", "--out", "{out}"], ["{empty}", "not a recognised recording"]),
        (["{rec_junk}", "--out", "{out}"], ["{rec_junk}", "signal.edf"]),
        (["{csv}", "--out", "{out}", "--sleep-onset", "-5"], ["--sleep-onset"]),
        (["{csv}", "--out", "{out}", "--fast", "--realtime"], ["--realtime", "not allowed"]),
        (["{csv}", "--out", "{foreign}"], ["{foreign}", "hypnic did not write"]),
    ],
    "export": [
        (["{missing}", "--edf", "{out}.edf"], ["{missing}", "no such file"]),
        (["{csv}", "--edf", "{empty}"], ["{empty}", "--edf is a folder"]),
        (
            ["{csv}", "--edf", "{out}.edf", "--events", "{missing}"],
            ["{missing}", "no such events file"],
        ),
        (["{csv}", "--edf", "{out}.edf", "--events", "live"], ["--events", "recording folder"]),
        (["{junk}", "--edf", "{out}.edf"], ["{junk}", "not a recognised recording"]),
        (["{csv}", "--edf", "{out}.edf", "--start", "soon"], ["--start"]),
    ],
    "report": [
        (["{missing}"], ["{missing}", "no such folder"]),
        (["{empty}"], ["{empty}", "no summary.json"]),
        (["{night}", "--lang", "fr"], ["--lang", "invalid choice"]),
        (["{night}", "--lights-off", "25:00"], ["--lights-off", "25:00"]),
        (["{night}", "--out", "{empty}"], ["{empty}", "is a folder"]),
        (["{night}", "--out", "{missing}/r.html"], ["does not exist"]),
    ],
    "trends": [
        (["{missing}", "--out", "{out}.html"], ["{missing}", "no such folder"]),
        (
            ["{night}", "--diary", "{bad_diary}", "--out", "{out}.html"],
            ["{bad_diary}", "line 2", "2025-13-01"],
        ),
        (
            ["{night}", "--diary", "{latin1_diary}", "--out", "{out}.html"],
            ["{latin1_diary}", "UTF-8"],
        ),
        (["{night}", "--diary", "{missing}", "--out", "{out}.html"], ["{missing}", "no such file"]),
        (["{night}", "--lang", "fr", "--out", "{out}.html"], ["--lang", "invalid choice"]),
        (["{empty}", "--out", "{out}.html"], ["{empty}", "no summary.json"]),
        (["{night}", "--out", "{empty}"], ["{empty}", "is a folder"]),
    ],
    "simulate": [
        (["--seed", "1", "--fs", "0", "--hours", "1", "--out", "{out}.csv"], ["--fs", "got 0"]),
        (
            ["--seed", "1", "--fs", "25", "--hours", "-1", "--out", "{out}.csv"],
            ["--hours", "got -1"],
        ),
        (["--seed", "-1", "--fs", "25", "--hours", "1", "--out", "{out}.csv"], ["--seed"]),
        (["--seed", "1", "--fs", "nan", "--hours", "1", "--out", "{out}.csv"], ["--fs", "nan"]),
        (
            ["--seed", "1", "--fs", "abc", "--hours", "1", "--out", "{out}.csv"],
            ["--fs", "invalid float"],
        ),
        (["--seed", "1", "--fs", "25", "--hours", "1", "--out", "{empty}"], ["{empty}", "folder"]),
        (
            ["--seed", "1", "--fs", "25", "--hours", "1", "--noise", "-3", "--out", "{out}.csv"],
            ["--noise"],
        ),
    ],
    "repair": [
        (["{missing}"], ["{missing}", "no such recording folder"]),
        (["{empty}"], ["{empty}", "no signal.edf"]),
        (["{a_file}"], ["{a_file}", "not a recording folder"]),
        (["{rec_junk}"], ["{rec_junk}", "signal.edf"]),
    ],
    "batch": [
        (["{csv}", "--out", "{out}", "--workers", "0"], ["--workers", "at least 1"]),
        (
            ["{csv}", "--out", "{out}", "--scheduler", "no-port-here"],
            ["--scheduler", "cannot connect"],
        ),
        (
            ["{csv}", "--out", "{out}", "--scheduler", "tls://127.0.0.1:1"],
            ["--scheduler", "TLS settings"],
        ),
        (["{csv}", "--out", "{a_file}"], ["{a_file}", "not a folder"]),
        (["{csv}", "--out", "{foreign}"], ["{foreign}", "hypnic did not write"]),
        (
            ["{csv}", "--out", "{out}", "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"],
            ["--workers"],
        ),
        (["{csv}"], ["--out"]),
    ],
    "bench": [
        (["accuracy", "--hours", "-1"], ["--hours", "positive"]),
        (["accuracy", "--hours", "nan"], ["--hours", "positive"]),
        (["accuracy", "--seeds", "0"], ["--seeds", "at least 1"]),
        (["accuracy", "--conditions", "bogus"], ["--conditions", "bogus"]),
        (["accuracy", "--jobs", "0"], ["--jobs", "at least 1"]),
        (["accuracy", "--cache", "{a_file}"], ["{a_file}", "not a folder"]),
        (["fast"], ["suite", "invalid choice"]),
    ],
    "record": [
        (["--sensor", "sim", "--out", "{out}", "--duration", "-5"], ["--duration"]),
        (["--sensor", "sim", "--out", "{out}", "--speed", "0"], ["--speed"]),
        (["--sensor", "sim", "--out", "{out}", "--queue", "0"], ["--queue"]),
        (
            ["--sensor", "sim", "--out", "{foreign}", "--duration", "5"],
            ["{foreign}", "never overwritten"],
        ),
        (["--sensor", "sim", "--out", "{out}", "--sleep-onset", "-5"], ["--sleep-onset"]),
        (["--sensor", "sim:fs=0", "--out", "{out}", "--duration", "5"], ["--sensor", "fs=0"]),
        (
            ["--sensor", "sim", "--sensor", "sim", "--sensor", "sim", "--out", "{out}"],
            ["--sensor", "at most two"],
        ),
    ],
    "scan": [
        (["--timeout", "0"], ["--timeout", "positive"]),
        (["--timeout", "nan"], ["--timeout", "positive"]),
        (["--timeout", "-1"], ["--timeout", "positive"]),
        (["--bogus"], ["unrecognized arguments", "--bogus"]),
    ],
}


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> dict[str, Path]:
    """The work space: good and bad inputs, a detect output folder, folders not ours."""
    base = tmp_path_factory.mktemp("table")
    t = np.arange(0, 600, 1 / 12.5)
    paths = {name: base / name for name in (
        "csv", "junk", "night", "foreign", "empty", "a_file", "bad_diary", "latin1_diary",
        "rec_junk", "missing", "out")}  # fmt: skip
    paths["csv"] = base / "good.csv"
    paths["csv"].write_text("t,x,y,z\n" + "".join(f"{v:.2f},0.01,-0.02,1\n" for v in t))
    paths["junk"].write_bytes(np.random.default_rng(8).integers(0, 256, 5000, np.uint8).tobytes())
    assert run("detect", paths["csv"], "--out", paths["night"], "--no-report")[0] == 0
    paths["foreign"].mkdir()
    (paths["foreign"] / "notes.txt").write_text("mine\n")
    paths["empty"].mkdir()
    paths["a_file"].write_text("a file\n")
    paths["bad_diary"].write_text("date,tags,lights_off,notes\n2025-13-01,,,\n")
    paths["latin1_diary"].write_bytes(
        "date,tags,lights_off,notes\n2025-11-20,,,Besançon\n".encode("latin-1")
    )
    paths["rec_junk"].mkdir()
    (paths["rec_junk"] / "signal.edf").write_bytes(b"0       " + bytes(300))
    return paths


def run(*argv: object) -> tuple[int, str]:
    """``hypnic ARGV`` in this process, with every command module registered: (status, stderr)."""
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        extra = tuple(c for c in ALL_COMMANDS if c not in hypnic.cli.COMMANDS)
        mp.setattr(hypnic.cli, "COMMANDS", hypnic.cli.COMMANDS + extra)
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                rc = hypnic.cli.main([str(a) for a in argv])
            except SystemExit as exc:  # argparse's usage errors
                rc = exc.code
    return rc, err.getvalue()


def snapshot(base: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(base)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in base.rglob("*")}  # fmt: skip


def fill(text: str, space: dict[str, Path]) -> str:
    return text.format(**{k: str(v) for k, v in space.items()})


ROWS = [(command, argv, words) for command, rows in TABLE.items() for argv, words in rows]


def test_the_table_covers_every_command_three_times_or_more():
    assert set(TABLE) == set(ALL_COMMANDS) >= set(hypnic.cli.COMMANDS)
    assert all(len(rows) >= 3 for rows in TABLE.values())


@pytest.mark.parametrize(
    ("command", "argv", "words"), ROWS, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(ROWS)]
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(space, command, argv, words):
    base = space["csv"].parent
    before = snapshot(base)
    rc, err = run(command, *(fill(a, space) for a in argv))
    assert "Traceback" not in err, err
    assert rc == 2, (rc, err)
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(("hypnic: error: ", f"hypnic {command}: error: ")), lines[0]
    for word in words:
        assert fill(word, space) in lines[0], (word, lines[0])
    assert snapshot(base) == before, "something was written, changed or removed"
