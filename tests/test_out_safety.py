"""What users hand in stays safe: ``--out`` folders, TLS schedulers, text shown in HTML.

* ``--out`` never deletes or overwrites a file hypnic did not write (recordings/outputs.py): a
  non-empty folder without our marker is refused before any work unless ``--force``; a folder
  of ours is updated in place; ``summary.json`` moves last; a killed run's staging folder is
  removed by the next run, a running one's is not.
* ``hypnic batch --scheduler tls://...`` connects with dask's own TLS settings (a real
  TLS cluster on loopback, certificates made by openssl for the test).
* A diary note with a ``<script>`` tag and a night folder named like markup go through
  ``hypnic trends`` as text. (Escaping of every field is tested in test_report_night.py and
  test_trends.py; this is the command end to end.)
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hypnic.cli
import hypnic.recordings.outputs as outputs
from hypnic.recordings.errors import InputError
from hypnic.recordings.outputs import MARKER, check_output_folder, staged_output

OURS = {"events.csv", "summary.json", "traces.npz"}


def run(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = hypnic.cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("in") / "night.csv"
    t = np.arange(0, 900, 1 / 12.5)
    path.write_text("t,x,y,z\n" + "".join(f"{v:.2f},0.01,{0.02 * np.sin(v):.4f},1\n" for v in t))
    return path


def marker_files(folder: Path) -> set[str]:
    return set(json.loads((folder / MARKER).read_text())["files"])


def write(out: Path, files: dict[str, str], **kw) -> None:
    with staged_output(out, **kw) as stage:
        for name, text in files.items():
            (stage / name).write_text(text)


# --- the marker ------------------------------------------------------------------------------


def test_a_new_folder_gets_our_files_and_a_marker_listing_them(tmp_path, csv):
    out = tmp_path / "out"
    assert run("detect", csv, "--out", out, "--no-report")[0] == 0
    assert {p.name for p in out.iterdir()} == OURS | {MARKER}
    assert marker_files(out) == OURS
    assert oct((out / MARKER).stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_folder_not_ours_is_refused_before_the_analysis(tmp_path, csv, monkeypatch):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")

    def analyse(*args, **kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    monkeypatch.setattr("hypnic.detect.analyze_stream", analyse)
    rc, _, err = run("detect", csv, "--out", out)
    assert rc == 2 and err.count("\n") == 1
    assert err.startswith(f"hypnic: error: {out}: --out is a folder hypnic did not write")
    assert "--force" in err
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]
    assert [p.name for p in tmp_path.iterdir()] == ["theirs"]


def test_force_writes_our_files_and_touches_nothing_else(tmp_path, csv):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "thesis.docx").write_text("years of work")
    (out / "events.csv").write_text("their own events\n")
    rc, _, err = run("detect", csv, "--out", out, "--no-report", "--force")
    assert rc == 0, err
    assert (out / "thesis.docx").read_text() == "years of work"
    assert (out / "events.csv").read_text().startswith("onset_s,")
    assert marker_files(out) == OURS  # from now on the folder is ours, thesis.docx is not


def test_a_folder_of_ours_is_updated_in_place(tmp_path, csv):
    out = tmp_path / "out"
    assert run("detect", csv, "--out", out)[0] == 0  # with report.html
    (out / "my notes.txt").write_text("keep me")
    old = (out / "summary.json").read_text()
    assert run("detect", csv, "--out", out, "--no-report", "--rules", "aasm")[0] == 0
    assert (out / "my notes.txt").read_text() == "keep me"
    assert (out / "summary.json").read_text() != old  # replaced
    assert not (out / "report.html").exists()  # ours, of the earlier run, and stale now
    assert marker_files(out) == OURS


def test_a_file_not_ours_under_one_of_our_names_is_refused_early(tmp_path, csv):
    out = tmp_path / "out"
    assert run("detect", csv, "--out", out, "--no-report")[0] == 0
    (out / "report.html").write_text("<p>my own report</p>")
    rc, _, err = run("detect", csv, "--out", out)
    assert rc == 2 and err == (
        f"hypnic: error: {out / 'report.html'}: is not a file hypnic wrote and would be "
        "replaced: move it away, or give --force\n"
    )
    assert (out / "report.html").read_text() == "<p>my own report</p>"
    assert run("detect", csv, "--out", out, "--force")[0] == 0
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_hypnic_report_lists_the_report_it_adds(tmp_path, csv):
    out = tmp_path / "out"
    assert run("detect", csv, "--out", out, "--no-report")[0] == 0
    assert run("report", out)[0] == 0
    assert marker_files(out) == OURS | {"report.html"}
    assert run("detect", csv, "--out", out)[0] == 0  # may replace it: it is ours


@pytest.mark.parametrize(
    "marker",
    ["", "{", "[]", '{"written_by": "someone", "files": []}', '{"written_by": "hypnic", "files": "x"}',
     '{"written_by": "hypnic", "files": ["../x"]}', '{"written_by": "hypnic"}'],
)  # fmt: skip
def test_a_damaged_marker_means_not_ours(tmp_path, marker):
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER).write_text(marker)
    with pytest.raises(InputError, match="hypnic did not write"):
        check_output_folder(out)


def test_folders_written_before_the_marker_are_ours(tmp_path):
    out = tmp_path / "old"
    out.mkdir()
    (out / "summary.json").write_text('{"software": "hypnic", "version": "0.1.0"}')
    (out / "events.csv").write_text("onset_s\n")
    (out / "mine.txt").write_text("x")
    assert check_output_folder(out) == {"summary.json", "events.csv"}
    write(out, {"summary.json": "{}", "events.csv": "onset_s\n"})
    assert (out / "mine.txt").read_text() == "x" and marker_files(out) == {
        "summary.json",
        "events.csv",
    }
    (out / "summary.json").write_text('{"software": "other"}')
    (out / MARKER).unlink()
    with pytest.raises(InputError, match="hypnic did not write"):
        check_output_folder(out)


def test_summary_json_is_moved_last(tmp_path, monkeypatch):
    moved = []
    real = os.replace

    def replace(src, dst):
        moved.append(Path(dst).name)
        real(src, dst)

    monkeypatch.setattr(outputs.os, "replace", replace)
    write(tmp_path / "out", {n: n for n in ("a.csv", "summary.json", "traces.npz", "z.html")})
    files = [n for n in moved if n != MARKER]
    assert files[-1] == "summary.json" and sorted(files) == [
        "a.csv",
        "summary.json",
        "traces.npz",
        "z.html",
    ]


def test_an_error_while_writing_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    write(out, {"summary.json": "1"})
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(RuntimeError), staged_output(out) as stage:
        (stage / "summary.json").write_text("2")
        raise RuntimeError("the report failed")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_killed_runs_staging_folder_is_removed_a_running_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".out.staging-{dead.pid}-abc"
    running = tmp_path / f".out.staging-{os.getppid()}-def"  # pytest's parent: alive
    other = tmp_path / f".other.staging-{dead.pid}-ghi"  # another --out's: not ours to judge
    for folder in (left, running, other):
        folder.mkdir()
        (folder / "events.csv").write_text("half")
    write(tmp_path / "out", {"events.csv": "whole"})
    assert not left.exists() and running.exists() and other.exists()


def test_replay_and_batch_refuse_a_folder_not_ours(tmp_path, csv):
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "a.txt").write_text("x")
    for argv in (["replay", csv, "--out", theirs], ["batch", csv, "--out", theirs]):
        rc, _, err = run(*argv)
        assert rc == 2 and err.startswith(f"hypnic: error: {theirs}: --out is a folder"), err
    assert [p.name for p in theirs.iterdir()] == ["a.txt"]


# --- batch on a TLS scheduler -----------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory) -> dict[str, str]:
    """A CA and a certificate for 127.0.0.1 signed by it (openssl; the test is skipped without)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=hypnic test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "req.csr",
         "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
         "-out", "cert.pem", "-days", "2", "-extfile", "ext.cnf"],
    ]  # fmt: skip
    for step in steps:
        subprocess.run(["openssl", *step], cwd=d, check=True, capture_output=True)
    return {name: str(d / f"{name}.pem") for name in ("ca", "cert", "key")}


def test_batch_on_a_tls_scheduler_with_dasks_own_settings(tmp_path, csv, certificates):
    import dask
    from distributed import LocalCluster
    from distributed.security import Security

    ca, cert, key = certificates["ca"], certificates["cert"], certificates["key"]
    security = Security(
        tls_ca_file=ca, tls_scheduler_cert=cert, tls_scheduler_key=key, tls_worker_cert=cert,
        tls_worker_key=key, tls_client_cert=cert, tls_client_key=key, require_encryption=True,
    )  # fmt: skip
    out = tmp_path / "theirs"  # also: --force into a folder that is not ours
    out.mkdir()
    (out / "keep.txt").write_text("x")
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tls", security=security,
        dashboard_address=None, scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"},
    )  # fmt: skip
    with cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        # Without dask's TLS settings: one line saying which are missing.
        rc, _, err = run("batch", csv, "--out", out, "--scheduler", address, "--force")
        assert rc == 2 and "TLS settings" in err and err.count("\n") == 1, err
        settings = {"distributed.comm.tls.ca-file": ca, "distributed.comm.tls.client.cert": cert,
                    "distributed.comm.tls.client.key": key}  # fmt: skip
        with dask.config.set(settings):
            rc, _, err = run("batch", csv, "--out", out, "--scheduler", address, "--force")
    assert rc == 0, err
    assert (out / "keep.txt").read_text() == "x"
    assert (out / "night" / "summary.json").is_file()
    assert (out / "nights.csv").read_text().count("\n") == 2  # header and the night


# --- text from files in the HTML of hypnic trends ----------------------------------------------


def test_a_script_in_a_diary_note_and_a_folder_name_stay_text_through_hypnic_trends(tmp_path, csv):
    night = tmp_path / "<img src=x onerror=alert(1)>"
    assert (
        run("detect", csv, "--out", night, "--no-report", "--start", "2025-11-20T22:30:00+01:00")[0]
        == 0
    )
    diary = tmp_path / "diary.csv"
    diary.write_text(
        "date,tags,lights_off,notes\n"
        "2025-11-20,<b>tag</b>,22:00,\"<script>alert('x')</script> & more\"\n"
    )
    page = tmp_path / "trends.html"
    rc, _, err = run("trends", night, "--diary", diary, "--out", page)
    assert rc == 0, err
    html = page.read_text(encoding="utf-8")
    assert "<script" not in html and "<img src=x" not in html and "<b>tag" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html
