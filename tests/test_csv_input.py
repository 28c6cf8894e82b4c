"""CSV reader (recordings.csv_input) and input dispatch (recordings.open_input).

The reference for values is the obvious one: Python's csv module and float(), row by row.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hypnic.recordings.csv_input as csv_input
from hypnic.recordings.csv_input import open_csv
from hypnic.recordings.errors import InputError
from hypnic.recordings.open_input import (
    FORMATS,
    UNKNOWN_FORMAT,
    InputFormat,
    detect_format,
    open_input,
)
from hypnic.recordings.reader_common import parse_start


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def read_all(stream) -> tuple[np.ndarray, np.ndarray, list[int]]:
    chunks = list(stream)
    t = np.concatenate([c.t for c in chunks]) if chunks else np.empty(0)
    xyz = np.concatenate([c.xyz for c in chunks]) if chunks else np.empty((0, 3), np.float32)
    return t, xyz, [len(c) for c in chunks]


def reference(text: str) -> tuple[np.ndarray, np.ndarray]:
    """t and xyz read the slow, obvious way: csv module, header names, float() per value."""
    lines = [ln for ln in io.StringIO(text, newline=None) if ln.strip("\n")]
    rows = list(csv.reader(lines))
    names = [n.strip().lower() for n in rows[0]]
    cols = {c: names.index(c) for c in "txyz"}
    t = np.array([float(r[cols["t"]]) for r in rows[1:]], dtype=np.float64)
    xyz = np.array([[float(r[cols[c]]) for c in "xyz"] for r in rows[1:]], dtype=np.float32)
    return t, xyz.reshape(-1, 3)


def regular_csv(n: int, fs: float = 100.0, t0: float = 0.0) -> str:
    rows = [f"{t0 + i / fs!r},{0.001 * i:.4f},-0.5,{1 + 1e-4 * (i % 7):.4f}" for i in range(n)]
    return "t,x,y,z\n" + "\n".join(rows) + "\n"


@contextlib.contextmanager
def tiny_blocks(nbytes: int = 256):
    """Make pyarrow parse a few rows per block, so block boundaries fall everywhere.

    A block must hold the longest line (pyarrow's limit), here at most ~120 bytes.
    """
    saved = csv_input.BLOCK_BYTES
    csv_input.BLOCK_BYTES = nbytes
    try:
        yield
    finally:
        csv_input.BLOCK_BYTES = saved


# ---------------------------------------------------------------- values and layout


def test_values_match_the_file(tmp_path):
    text = "t,x,y,z\n0,0.5,-1,1.25\n0.01,1e-3,+2,.5\n0.02,-0.0,3.5E1,1\n"
    stream = open_csv(write(tmp_path, "a.csv", text))
    t, xyz, _ = read_all(stream)
    ref_t, ref_xyz = reference(text)
    assert t.dtype == np.float64 and xyz.dtype == np.float32
    np.testing.assert_array_equal(t, ref_t)
    np.testing.assert_array_equal(xyz, ref_xyz)
    assert stream.info.fs == pytest.approx(100.0)
    assert stream.info.source == str(tmp_path / "a.csv")
    assert stream.info.meta["format"] == "csv" and stream.info.meta["compression"] is None
    assert stream.info.start_utc is None and stream.info.utc_offset_s == 0.0
    assert stream.gaps == []


def test_column_order_extra_columns_whitespace_case_and_quotes(tmp_path):
    text = (
        '\ufeff  Z ,"note", t ,X,y,temp\r\n'
        '1.0,"a, b",0,0.1,0.2,20\r\n'
        "\r\n"
        '0.9,c,0.02,0.11,0.21,21\r\n'
    )
    stream = open_csv(write(tmp_path, "odd.csv", text))
    t, xyz, _ = read_all(stream)
    np.testing.assert_array_equal(t, [0.0, 0.02])
    np.testing.assert_array_equal(xyz, np.float32([[0.1, 0.2, 1.0], [0.11, 0.21, 0.9]]))
    assert stream.info.meta["columns"] == ["Z", "note", "t", "X", "y", "temp"]


def test_blank_lines_before_the_header_and_old_mac_line_ends(tmp_path):
    t, xyz, _ = read_all(open_csv(write(tmp_path, "b.csv", "\n\nt,x,y,z\r0,1,2,3\r1,4,5,6\r")))
    np.testing.assert_array_equal(t, [0.0, 1.0])
    np.testing.assert_array_equal(xyz, [[1, 2, 3], [4, 5, 6]])


def test_t_counts_from_the_first_sample_and_gaps_pass_through(tmp_path):
    text = "t,x,y,z\n1000.5,0,0,1\n1000.51,0,0,1\n1000.52,0,0,1\n1060,0,0,1\n1060.01,0,0,1\n"
    stream = open_csv(write(tmp_path, "gap.csv", text))
    t, _, _ = read_all(stream)
    np.testing.assert_array_equal(t, np.array([1000.5, 1000.51, 1000.52, 1060.0, 1060.01]) - 1000.5)
    assert stream.info.meta["t0_s"] == 1000.5
    assert stream.info.fs == pytest.approx(100.0)


@pytest.mark.parametrize("chunk_rows", [1, 3, 7, 50, 1000])
def test_chunks_are_bounded_and_concatenate_to_the_whole(tmp_path, chunk_rows):
    text = regular_csv(50)
    path = write(tmp_path, "c.csv", text)
    with tiny_blocks(100):
        t, xyz, sizes = read_all(open_csv(path, chunk_rows=chunk_rows))
    ref_t, ref_xyz = reference(text)
    np.testing.assert_array_equal(t, ref_t)
    np.testing.assert_array_equal(xyz, ref_xyz)
    assert all(s <= chunk_rows for s in sizes)
    assert all(s == chunk_rows for s in sizes[:-1])  # only the last one is short
    assert sum(sizes) == 50


def test_many_pyarrow_blocks(tmp_path):
    text = regular_csv(80_000)  # ~2.5 MB: several real 1 MiB blocks
    path = write(tmp_path, "long.csv", text)
    t, xyz, sizes = read_all(open_csv(path, chunk_rows=30_000))
    assert sizes == [30_000, 30_000, 20_000]
    ref_t, ref_xyz = reference(text)
    np.testing.assert_array_equal(t, ref_t)
    np.testing.assert_array_equal(xyz, ref_xyz)


@pytest.mark.parametrize("name", ["g.csv", "g.csv.gz", "g.dat"])
def test_gzip_is_recognised_by_content_not_name(tmp_path, name):
    text = regular_csv(30)
    stream = open_input(write(tmp_path, name, gzip.compress(text.encode())))
    t, xyz, _ = read_all(stream)
    ref_t, ref_xyz = reference(text)
    np.testing.assert_array_equal(t, ref_t)
    np.testing.assert_array_equal(xyz, ref_xyz)
    assert stream.info.meta["compression"] == "gzip"


def test_plain_csv_named_gz_is_read_as_plain(tmp_path):
    t, _, _ = read_all(open_input(write(tmp_path, "plain.csv.gz", regular_csv(5))))
    assert len(t) == 5


def test_concatenated_gzip_members(tmp_path):
    text = regular_csv(20)
    head, tail = text[:100], text[100:]
    data = gzip.compress(head.encode()) + gzip.compress(tail.encode())
    t, _, _ = read_all(open_csv(write(tmp_path, "multi.gz", data)))
    np.testing.assert_array_equal(t, reference(text)[0])


def test_fs_is_the_median_interval_of_the_first_10000_samples(tmp_path):
    t = np.concatenate([np.arange(10_000) / 50.0, 200 + np.arange(5_000) / 25.0])
    t[5] += 0.004  # a jittered sample does not move the median
    lines = "".join(f"{float(v)!r},0,0,1\n" for v in t)
    stream = open_csv(write(tmp_path, "fs.csv", "t,x,y,z\n" + lines), chunk_rows=777)
    assert stream.info.fs == pytest.approx(50.0)
    assert len(read_all(stream)[0]) == 15_000


# ---------------------------------------------------------------- --start


@pytest.mark.parametrize(
    ("given", "utc", "offset"),
    [
        ("2024-03-01T22:30:00+01:00", "2024-03-01T21:30:00+00:00", 3600.0),
        ("2024-03-01T21:30:00Z", "2024-03-01T21:30:00+00:00", 0.0),
        ("2024-03-01 21:30", "2024-03-01T21:30:00+00:00", 0.0),
        ("2024-03-01T21:30:00.250", "2024-03-01T21:30:00.250000+00:00", 0.0),
        ("2024-07-01T00:15:00-04:30", "2024-07-01T04:45:00+00:00", -16200.0),
        ("2024-03-01", "2024-03-01T00:00:00+00:00", 0.0),
    ],
)
def test_start_is_normalised_to_utc(tmp_path, given, utc, offset):
    assert parse_start(given) == (utc, offset)
    stream = open_csv(write(tmp_path, "s.csv", regular_csv(3)), start=given)
    assert (stream.info.start_utc, stream.info.utc_offset_s) == (utc, offset)


@pytest.mark.parametrize("bad", ["yesterday", "", "2024-13-01T00:00", "22:30", "2024-03-01T25:00"])
def test_bad_start_names_the_option(tmp_path, bad):
    with pytest.raises(InputError) as err:
        open_csv(write(tmp_path, "s.csv", regular_csv(3)), start=bad)
    assert err.value.source == "--start"
    assert "ISO 8601" in err.value.problem


# ---------------------------------------------------------------- bad input

GOOD_ROWS = "0,0,0,1\n0.01,0,0,1\n"


def after_good_rows(row: str) -> str:
    """Two good samples (lines 2 and 3), then ``row`` on line 4."""
    return "t,x,y,z\n" + GOOD_ROWS + row + "\n"


NOISE = bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8))

# (file name, content, words the problem must hold)
BAD_FILES = [
    ("empty.csv", b"", ["empty file"]),
    ("header_only.csv", "t,x,y,z\n", ["header only", "no samples"]),
    ("header_blank_lines.csv", "t,x,y,z\n\n\n", ["header only"]),
    ("blank.csv", "\n\n  \n", ["only blank lines"]),
    ("one_sample.csv", "t,x,y,z\n0,0,0,1\n", ["only one sample"]),
    ("missing.csv", "t,x,q\n0,1,2\n", ["missing columns y, z"]),
    ("no_header.csv", GOOD_ROWS, ["missing columns t, x, y, z"]),
    ("tabs.csv", "t\tx\ty\tz\n0\t0\t0\t1\n", ["missing columns", "separated by commas"]),
    ("twice.csv", "t,x,y,z,x\n0,0,0,1,2\n", ["column x appears twice"]),
    ("word.csv", after_good_rows("0.02,abc,0,1"), ["line 4, column x", "'abc' is not a number"]),
    ("underscore.csv", after_good_rows("0.02,1_000,0,1"), ["line 4, column x", "not a number"]),
    ("nan.csv", after_good_rows("0.02,0,NaN,1"), ["line 4, column y", "not a finite number"]),
    ("inf.csv", after_good_rows("0.02,0,0,-inf"), ["line 4, column z", "not a finite number"]),
    ("t_nan.csv", after_good_rows("nan,0,0,1"), ["line 4, column t", "not a finite"]),
    ("huge.csv", after_good_rows("0.02,1e39,0,1"), ["line 4, column x", "out of range"]),
    ("empty_value.csv", after_good_rows("0.02,0,,1"), ["line 4, column y", "empty value"]),
    ("dup.csv", after_good_rows("0.01,0,0,1"), ["line 4", "repeats", "t must increase"]),
    ("back.csv", after_good_rows("0.005,0,0,1"), ["line 4", "goes back", "t must increase"]),
    ("short_row.csv", after_good_rows("0.02,0,1"), ["line 4", "ragged row", "3 fields"]),
    ("long_row.csv", after_good_rows("0.02,0,1,1,5"), ["line 4", "ragged row", "5 fields"]),
    ("long_line.csv", after_good_rows("1" * (2 << 20)), ["line 4", "longer than"]),
    ("nul_head.csv", b"t,x,y,z\n0,0\x00,0,1\n", ["not a CSV file", "NUL"]),
    ("garbage.csv", NOISE, ["not a CSV file"]),
    ("latin1.csv", "t,x,y,z,note\n0,0,0,1,café\n".encode("latin-1"), ["not UTF-8"]),
    ("utf16.csv", "t,x,y,z\n0,0,0,1\n".encode("utf-16"), ["not a CSV file", "UTF-16"]),
    ("one_line.csv", b"t" * 100_000, ["not a CSV file", "no line break"]),
    ("gzip_truncated.csv", gzip.compress(regular_csv(2000).encode())[:3000], ["gzip"]),
    ("gzip_damaged.csv", b"\x1f\x8b\x08\x00" + b"\xff" * 200, ["gzip"]),
]


@pytest.mark.parametrize(("name", "content", "words"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_is_one_line_naming_the_file(tmp_path, name, content, words):
    path = write(tmp_path, name, content)
    with pytest.raises(InputError) as err:
        read_all(open_csv(path))
    assert err.value.source == str(path)
    for word in words:
        assert word in err.value.problem
    assert "\n" not in str(err.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        open_csv(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        open_csv(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    path = write(tmp_path, "locked.csv", regular_csv(3))
    path.chmod(0)
    with pytest.raises(InputError, match="permission denied"):
        open_csv(path)


def test_permission_error_is_an_input_error(tmp_path, monkeypatch):
    # The same path as test_unreadable_file, for runs as root (where chmod 0 does not bite).
    path = write(tmp_path, "locked.csv", regular_csv(3))
    real_open = open

    def guarded(file, *args, **kwargs):
        if Path(file) == path:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", guarded)
    with pytest.raises(InputError, match="permission denied"):
        open_csv(path)


@pytest.mark.parametrize(
    ("bad_line", "words"),
    [
        (b"9999,abc,0,1", ["line 20002, column x", "not a number"]),
        (b"9999,0,0", ["line 20002", "ragged"]),
        (b"1,0,0,1", ["line 20002", "goes back"]),
        (b"9999,0,inf,1", ["line 20002, column y", "not a finite"]),
        (b"9999,0,\x00,1", ["line 20002", "NUL"]),
        (b"9999,0,\xff\xfe,1", ["line 20002", "not UTF-8"]),
    ],
)
def test_errors_late_in_the_file_come_while_iterating(tmp_path, bad_line, words):
    path = write(tmp_path, "late.csv", regular_csv(20_000).encode() + bad_line + b"\n")
    with tiny_blocks(64 << 10):
        stream = open_csv(path, chunk_rows=10_000)  # the start of the file is fine
        with pytest.raises(InputError) as err:
            read_all(stream)
    for word in words:
        assert word in err.value.problem


def test_late_error_in_gzip(tmp_path):
    text = regular_csv(20_000) + "9999,0,0,oops\n"
    path = write(tmp_path, "late.gz", gzip.compress(text.encode()))
    with tiny_blocks(64 << 10):
        stream = open_csv(path, chunk_rows=10_000)
        with pytest.raises(InputError, match="line 20002, column z: 'oops' is not a number"):
            read_all(stream)


def test_gzip_cut_short_late_in_the_file(tmp_path):
    data = gzip.compress(regular_csv(20_000).encode())
    path = write(tmp_path, "cut.csv.gz", data[: len(data) * 3 // 5])
    with pytest.raises(InputError, match="damaged gzip data") as err:
        read_all(open_csv(path, chunk_rows=1_000))
    assert err.value.source == str(path)


# ---------------------------------------------------------------- properties

finite32 = st.floats(-1e6, 1e6, allow_nan=False, width=32)


@st.composite
def tables(draw):
    n = draw(st.integers(2, 60))
    steps = draw(st.lists(st.floats(1e-4, 10.0), min_size=n - 1, max_size=n - 1))
    t0 = draw(st.floats(-1e5, 1e5))
    t = np.concatenate([[t0], t0 + np.cumsum(steps)])
    assert np.all(np.diff(t) > 0)  # steps >= 1e-4 s survive rounding at |t| <= 1e5 s
    triples = st.tuples(finite32, finite32, finite32)
    xyz = np.array(draw(st.lists(triples, min_size=len(t), max_size=len(t))))
    extra = draw(st.integers(0, 2))
    names = ["t", "x", "y", "z"] + [f"e{i}" for i in range(extra)]
    order = draw(st.permutations(names))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    blanks = draw(st.lists(st.booleans(), min_size=len(t), max_size=len(t)))
    rows = []
    for i in range(len(t)):
        values = {"t": repr(float(t[i])), "x": repr(float(xyz[i, 0])), "y": repr(float(xyz[i, 1])),
                  "z": repr(float(xyz[i, 2]))}
        rows.append(",".join(values.get(c, "note") for c in order))
        if blanks[i]:
            rows.append("")
    text = ",".join(order) + newline + newline.join(rows) + newline
    return text, t, xyz


def scratch_file(content: bytes) -> contextlib.AbstractContextManager[Path]:
    @contextlib.contextmanager
    def cm():
        with tempfile.TemporaryDirectory() as d:
            yield write(Path(d), "h.csv", content)

    return cm()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.integers(1, 70), st.booleans(), st.sampled_from([256, 1000, 1 << 20]))
def test_random_valid_tables_round_trip(table, chunk_rows, compress, block):
    text, t, xyz = table
    data = gzip.compress(text.encode()) if compress else text.encode()
    with scratch_file(data) as path, tiny_blocks(block):
        got_t, got_xyz, sizes = read_all(open_csv(path, chunk_rows=chunk_rows))
    np.testing.assert_array_equal(got_t, t - t[0])  # counted from the first sample
    np.testing.assert_array_equal(got_xyz, xyz.astype(np.float32))
    assert max(sizes) <= chunk_rows and sum(sizes) == len(t)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tables(),
    st.data(),
    st.sampled_from(["abc", "nan", "", "ragged", "repeat"]),
    st.sampled_from([256, 1 << 20]),
)
def test_a_bad_row_is_reported_on_its_own_line(table, data, kind, block):
    text, _, _ = table
    lines = text.splitlines()
    header = [c.strip() for c in lines[0].split(",")]
    data_lines = [i for i, ln in enumerate(lines) if i > 0 and ln]
    victim = data.draw(st.sampled_from(data_lines[1:]))  # keep one good sample before it
    fields = lines[victim].split(",")
    column = data.draw(st.sampled_from("xyz"))
    if kind == "ragged":
        fields = fields[:-1]
    elif kind == "repeat":
        previous = max(i for i in data_lines if i < victim)
        fields[header.index("t")] = lines[previous].split(",")[header.index("t")]
    else:
        fields[header.index(column)] = kind
    lines[victim] = ",".join(fields)
    with scratch_file(("\n".join(lines) + "\n").encode()) as path, tiny_blocks(block):
        with pytest.raises(InputError) as err:
            read_all(open_csv(path, chunk_rows=5))
    assert err.value.problem.startswith(f"line {victim + 1}")


# ---------------------------------------------------------------- dispatch by content


def test_open_input_dispatches_csv_by_content(tmp_path):
    assert detect_format(write(tmp_path, "recording.dat", regular_csv(3))).name == "csv"
    gz = write(tmp_path, "recording", gzip.compress(regular_csv(3).encode()))
    assert detect_format(gz).name == "csv"


def test_open_input_unknown_binary(tmp_path):
    path = write(tmp_path, "mystery.dat", b"\x00\x01\x02MAGIC" * 100)
    with pytest.raises(InputError) as err:
        open_input(path)
    assert err.value.source == str(path) and err.value.problem == UNKNOWN_FORMAT


def test_open_input_binary_named_csv_gets_the_csv_message(tmp_path):
    with pytest.raises(InputError, match="not a CSV file"):
        open_input(write(tmp_path, "x.csv", b"\x00\x01\x02" * 100))


def test_open_input_missing_empty_and_folder(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        open_input(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="empty file"):
        open_input(write(tmp_path, "e.bin", b""))
    with pytest.raises(InputError, match="a folder, not a recognised recording"):
        open_input(tmp_path)


def test_registry_first_sniff_wins(tmp_path, monkeypatch):
    seen = []

    def opener(path, *, start=None):
        seen.append((path, start))
        return "opened"

    fake = InputFormat("fake", lambda head, path: head.startswith(b"FAKE"), opener)
    monkeypatch.setattr("hypnic.recordings.open_input.FORMATS", [fake, *FORMATS])
    path = write(tmp_path, "r.csv", b"FAKE t,x,y,z\n")
    assert open_input(path, start="2024-01-01") == "opened"
    assert seen == [(path, "2024-01-01")]
    assert detect_format(write(tmp_path, "s.csv", regular_csv(3))).name == "csv"
