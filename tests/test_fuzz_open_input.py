"""Choosing the reader (recordings/open_input.py), on anything: samples or one InputError line.

``open_input`` sniffs a file's first bytes (and its name) to pick a reader, and a damaged file
of one kind may well look like another. Hypothesis hands it arbitrary bytes under every name
the readers know, damaged device files, CSV and EDF (plain and gzip-compressed, so that a
damaged file can change kind), and folders: a recording folder whose signal.edf is junk, and
folders holding anything else. The device readers' own damage tests (test_devices_damage.py)
call each reader directly; this file goes through the registry as ``hypnic detect`` does.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path

from hypothesis import strategies as st

from hypnic.recordings.open_input import FORMATS, detect_format, open_input
from tests.shared import DEVICES
from tests.test_fuzz_edf import SEEDS as EDF_SEEDS
from tests.test_fuzz_mutations import fuzz_pair, mutated, one_line_naming, read_or_refuse

NAMES = (
    "input",
    "x.csv",
    "x.csv.gz",
    "x.txt",
    "x.cwa",
    "x.bin",
    "x.gt3x",
    "x.edf",
    "x.bdf",
    "x.gz",
)
CSV = ("t,x,y,z\n" + "".join(f"{i / 25!r},0.01,{-i % 7 / 10},1\n" for i in range(200))).encode()
SEEDS = {
    "csv": CSV,
    "csv_gz": gzip.compress(CSV, mtime=0),
    "edf": EDF_SEEDS["edf_plus_c"],
    "cwa": (DEVICES / "ax3_sample.cwa").read_bytes()[: 32 * 512],  # header and 31 blocks
    "bin": (DEVICES / "gnactv_sample.bin").read_bytes(),
    "gt3x": (DEVICES / "actigraph_wristpy.gt3x").read_bytes(),
}


def check_path(path: Path) -> None:
    read_or_refuse(lambda: open_input(path), path)


@st.composite
def files(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(NAMES))
    kind = draw(st.sampled_from(["random", "mutated", "mutated_gz"]))
    if kind == "random":
        return name, draw(st.binary(max_size=4096))
    data = draw(mutated(SEEDS[draw(st.sampled_from(sorted(SEEDS)))]))
    return name, gzip.compress(data, mtime=0) if kind == "mutated_gz" else data


def check_files(file: tuple[str, bytes]) -> None:
    """Arbitrary and damaged files of every kind, plain or gzip, under any name."""
    name, data = file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        check_path(path)


@st.composite
def folders(draw: st.DrawFn) -> dict[str, bytes]:
    names = st.sampled_from(["signal.edf", "meta.json", "events.jsonl", "x.csv", "a", ".hidden"])
    content = st.one_of(
        st.binary(max_size=600),
        st.sampled_from(sorted(EDF_SEEDS)).map(EDF_SEEDS.__getitem__),
        st.just(b""),
    )
    return draw(st.dictionaries(names, content, max_size=4))


def check_folders(folder_files: dict[str, bytes]) -> None:
    """Folders as input: a recording folder with a foreign or junk signal.edf, or anything."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "rec"
        folder.mkdir()
        for name, data in folder_files.items():
            (folder / name).write_bytes(data)
        check_path(folder)


def check_sniffers(head: bytes) -> None:
    """Every sniffer takes any first bytes, under any name, without raising."""
    for name in NAMES:
        for fmt in FORMATS:
            assert fmt.sniff(head, Path(name)) in (True, False)


test_files, test_files_long = fuzz_pair({"file": files()}, check_files, quick=60)
test_folders, test_folders_long = fuzz_pair({"folder_files": folders()}, check_folders)
test_sniffers, test_sniffers_long = fuzz_pair({"head": st.binary(max_size=1024)}, check_sniffers)


def test_every_seed_is_read_by_its_own_reader(tmp_path: Path) -> None:
    expected = {"csv": "csv", "csv_gz": "csv", "edf": "edf", "cwa": "cwa", "bin": "geneactiv",
                "gt3x": "gt3x"}  # fmt: skip
    for kind, data in SEEDS.items():
        path = tmp_path / f"seed_{kind}"
        path.write_bytes(data)
        assert detect_format(path).name == expected[kind]
        got = read_or_refuse(lambda p=path: open_input(p), path)
        assert not isinstance(got, Exception) and got[0].size > 0, kind


def test_a_refusal_names_the_file(tmp_path: Path) -> None:
    import pytest

    from hypnic.recordings.errors import InputError

    path = tmp_path / "x.cwa"
    path.write_bytes(b"MD" + bytes(510))  # an Axivity header block of zeros
    with pytest.raises(InputError) as err:
        list(open_input(path))
    one_line_naming(err.value, path)
