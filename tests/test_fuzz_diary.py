"""The diary CSV of ``hypnic trends`` (hypnic/report/diary.py): entries or one InputError line.

Inputs: arbitrary bytes, a valid diary with byte edits, and CSV text hypothesis builds from
fields that the csv module finds hard (quotes, commas, CR/LF inside fields, a byte-order mark,
NUL, very long fields, columns in any order, extra and missing columns). Whatever is accepted
keeps the reader's promises: one entry per date, dates in the file's order, tags lower case,
unique and non-empty, lights-out a time or None, notes without surrounding blanks, and line
numbers that increase. tests/test_trends.py checks the meaning of chosen rows; this file only
checks that no input makes the reader fail any other way.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from hypnic.recordings.errors import InputError
from hypnic.report.diary import COLUMNS, read_diary
from tests.test_fuzz_mutations import fuzz_pair, mutated, one_line_naming

VALID = (
    "\ufeffdate,tags,lights_off,notes\r\n"
    "2025-11-20,caffeine;stress,22:00,\"<script>alert('x')</script> & more\"\r\n"
    '2025-11-21,caffeine,23:00,"late coffee, ""strong"""\r\n'
    "2025-11-22,,22:15,quiet\r\n"
    "\r\n"
    "2025-11-23,Caffeine;late_shift,,\r\n"
).encode("utf-8")


def check_diary(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "diary.csv"
        path.write_bytes(data)
        try:
            entries = read_diary(path)
        except InputError as err:
            one_line_naming(err, path)
            return
    days = [e.date for e in entries]
    assert len(set(days)) == len(days), "a date twice"
    assert all(isinstance(d, dt.date) for d in days)
    lines = [e.line for e in entries]
    assert lines == sorted(lines) and len(set(lines)) == len(lines)
    for e in entries:
        assert all(tag and tag == tag.lower() and tag == " ".join(tag.split()) for tag in e.tags)
        assert len(set(e.tags)) == len(e.tags)
        assert e.lights_off is None or isinstance(e.lights_off, dt.time)
        assert e.notes == e.notes.strip()


def check_random_bytes(data: bytes) -> None:
    """Arbitrary bytes as a diary."""
    check_diary(data)


def check_edited_diary(data: bytes) -> None:
    """A valid diary with one to three byte edits."""
    check_diary(data)


# --- CSV text from hard fields ---------------------------------------------------------------

hard_fields = st.one_of(
    st.sampled_from(["", " ", '"', '""', ",", ";", "\r", "\n", "\r\n", "\x00", "\ufeff", "\t"]),
    st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
    st.sampled_from(["2025-02-29", "2025-13-01", "25-11-20", "2025-11-20T22:00"]),
    st.sampled_from(["２０２５-11-20", "２２:００"]),  # digits int() takes, the reader must not
    st.sampled_from(["22:00", "24:00", "23:60", "7:5", "22:00:00", "-1:00", "22h00"]),
    st.text(max_size=30),
    st.integers(0, 200_000).map(lambda n: "x" * n),  # past the csv module's field limit
)


@st.composite
def csv_texts(draw: st.DrawFn) -> bytes:
    header = draw(
        st.permutations(
            list(COLUMNS) + draw(st.lists(st.sampled_from(["extra", "Date", ""]), max_size=2))
        )
    )
    header = (
        draw(st.lists(st.sampled_from(header), min_size=0, max_size=len(header), unique=True))
        if draw(st.integers(0, 9)) == 0
        else header
    )
    rows = draw(st.lists(st.lists(hard_fields, max_size=len(header) + 2), max_size=6))

    def quote(field: str) -> str:
        if draw(st.booleans()):
            return '"' + field.replace('"', '""') + '"'
        return field

    text = (
        ",".join(header)
        + "\n"
        + "".join(
            ",".join(quote(f) for f in row) + draw(st.sampled_from(["\n", "\r\n", "\r"]))
            for row in rows
        )
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return text.encode(encoding, errors="replace")


def check_csv_text(data: bytes) -> None:
    """CSV built from quotes, separators, line ends, NUL, BOM, bad dates and times, huge fields."""
    check_diary(data)


test_random_bytes, test_random_bytes_long = fuzz_pair(
    {"data": st.binary(max_size=2000)}, check_random_bytes
)
test_edited_diary, test_edited_diary_long = fuzz_pair({"data": mutated(VALID)}, check_edited_diary)
test_csv_text, test_csv_text_long = fuzz_pair({"data": csv_texts()}, check_csv_text)


def test_the_valid_diary_reads_whole() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "d.csv"
        path.write_bytes(VALID)
        entries = read_diary(path)
    assert [e.date.day for e in entries] == [20, 21, 22, 23]
    assert entries[3].tags == ("caffeine", "late_shift") and entries[3].line == 6
