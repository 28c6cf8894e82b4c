"""Trends over many nights: the diary, linking nights to it, comparisons per tag, the page.

Nights are copies of one real detect output whose summary.json gets a new start date and other
counts (trends read nothing else), so the comparisons have known inputs. One folder is a long
recording whose ``nights`` list holds two nights.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import statistics
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hypnic
import hypnic.cli
from hypnic.recordings.errors import InputError
from hypnic.report import signs, stats
from hypnic.report.diary import read_diary
from hypnic.report.trends import build_trends_html, comparisons, link_diary, load_nights
from tests.test_report_night import (  # noqa: F401  (no_plots is a fixture)
    Page,
    check_shown,
    make_night_dir,
    no_plots,
    start_of,
    walk,
)

#: (day after the first evening, jerks around onset, PLMS index, sleep onset in s from the start)
NIGHTS = [
    (0, 4, 3.0, 5400.0),
    (1, 6, 12.5, 3000.0),
    (2, 1, 0.0, 4000.0),
    (3, 5, 20.0, 6000.0),
    (4, 2, 1.5, 2400.0),
    (5, 0, None, 3600.0),
]
#: The long recording: two nights (days 6 and 7) in one summary.
LONG = [(6, 3, 7.0, 5000.0), (7, 2, 9.0, 4800.0)]

DIARY = (
    "\n".join(
        [
            "\ufeffdate,tags,lights_off,notes",
            "{d0},caffeine;stress,22:00,\"<script>alert('x')</script> & more\"",
            '{d1},caffeine,23:00,"late coffee, ""strong"""',
            "{d2},,22:15,quiet",
            "{d3},Caffeine;late_shift,,",
            "{d4},late_shift,22:40,",
            "",
            "{d5},,,",
            "{d6},exercise,21:50,walk",
            "{d7},exercise;caffeine,,",
            "{d9},stress,,no night recorded",
        ]
    )
    + "\n"
)


def _first_evening(template: Path) -> date:
    s = json.loads((template / "summary.json").read_text())
    return (start_of(s) + timedelta(seconds=s["sleep_onset_s"] - 43200)).date()  # type: ignore[operator]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return make_night_dir(
        tmp_path_factory.mktemp("template") / "out", seed=7, placement="ankle", hours=2.0
    )


def make_trend_dirs(template: Path, root: Path) -> tuple[list[Path], Path]:
    """Eight nights in seven folders and their diary (also used by the browser test)."""
    base = json.loads((template / "summary.json").read_text())
    start0 = datetime.fromisoformat(base["start_utc"])
    dirs = []
    for day, jerks, plmsi, onset in NIGHTS:
        d = shutil.copytree(template, root / f"night{day}")
        s = dict(
            base,
            start_utc=(start0 + timedelta(days=day)).isoformat(),
            jerks_first_30_min=jerks,
            plms_index=plmsi,
            sleep_onset_s=onset,
        )
        (d / "summary.json").write_text(json.dumps(s))
        dirs.append(d)
    d = shutil.copytree(template, root / "long")
    nights = [
        dict(
            window_s=[0.0, 43200.0],
            sleep_onset_s=LONG[0][3],
            jerks_first_30_min=LONG[0][1],
            plms_index=LONG[0][2],
        ),
        dict(
            window_s=[43200.0, 129600.0],
            sleep_onset_s=86400.0 + LONG[1][3],
            jerks_first_30_min=LONG[1][1],
            plms_index=LONG[1][2],
        ),
    ]
    (d / "summary.json").write_text(
        json.dumps(dict(base, start_utc=(start0 + timedelta(days=6)).isoformat(), nights=nights))
    )
    dirs.append(d)
    first = _first_evening(template)
    days = {f"d{k}": (first + timedelta(days=k)).isoformat() for k in range(10)}
    diary = root / "diary.csv"
    diary.write_text(DIARY.format(**days), encoding="utf-8")
    return dirs, diary


@pytest.fixture(scope="module")
def trend_dirs(template, tmp_path_factory) -> tuple[list[Path], Path]:
    return make_trend_dirs(template, tmp_path_factory.mktemp("trends"))


# --- the diary -----------------------------------------------------------------------------


def test_diary_reads_tags_times_and_quoted_notes(trend_dirs):
    entries = read_diary(trend_dirs[1])
    assert len(entries) == 9  # the blank line is skipped
    e0, e1, _, e3 = entries[:4]
    assert e0.tags == ("caffeine", "stress") and e0.lights_off.strftime("%H:%M") == "22:00"
    assert e0.notes == "<script>alert('x')</script> & more" and e0.line == 2
    assert e1.notes == 'late coffee, "strong"'
    assert e3.tags == ("caffeine", "late_shift") and e3.lights_off is None
    assert entries[5].line == 8  # after the blank line


HEAD = "date,tags,lights_off,notes\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEAD + "2024-13-01,,,\n", "line 2: date '2024-13-01' is not a date YYYY-MM-DD"),
        (HEAD + "15-01-2024,,,\n", "line 2: date '15-01-2024' is not a date YYYY-MM-DD"),
        (
            "date,tags,notes\n",
            "line 1: the header needs the columns date,tags,lights_off,notes (missing lights_off)",
        ),
        (
            HEAD + "2024-01-15,,22:00,\n2024-01-16,,25:00,\n",
            "line 3: lights_off: '25:00' is not a clock time",
        ),
        (
            HEAD + '2024-01-15,,,"two\nlines"\n2024-01-16,,,\n2024-01-15,,,\n',
            "line 5: date 2024-01-15 is already on line 2",
        ),
        (HEAD + "2024-01-15,a,22:00,tired, very\n", "line 2: 5 fields but the header has 4"),
        ("", "empty file"),
    ],
)
def test_bad_diary_rows_are_one_line_errors_naming_the_line(tmp_path, content, message):
    p = tmp_path / "diary.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_diary(p)
    assert message in err.value.one_line() and "\n" not in err.value.one_line()
    assert str(p) in err.value.one_line()


def test_unreadable_diaries(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_diary(tmp_path / "none.csv")
    p = tmp_path / "latin1.csv"
    p.write_bytes((HEAD + "2024-01-15,café,,\n").encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_diary(p)


# --- nights ------------------------------------------------------------------------------------


def test_nights_of_all_folders_in_date_order_long_recordings_count_each_night(trend_dirs):
    dirs, diary = trend_dirs
    nights = load_nights(list(reversed(dirs)))
    assert len(nights) == len(NIGHTS) + len(LONG)
    evenings = [n.evening for n in nights]
    assert evenings == sorted(evenings)
    assert [n.value("jerks_first_30_min") for n in nights] == [j for _, j, _, _ in NIGHTS + LONG]
    unmatched = link_diary(nights, read_diary(diary))
    assert [e.notes for e in unmatched] == ["no night recorded"]
    assert sum(n.entry is not None for n in nights) == 8


def test_the_same_night_twice_is_an_error(trend_dirs, tmp_path):
    dirs, _ = trend_dirs
    twin = shutil.copytree(dirs[0], tmp_path / "twin")
    with pytest.raises(InputError, match="is also in"):
        load_nights([dirs[0], twin])


def test_nights_without_a_start_time_come_last(trend_dirs, tmp_path):
    dirs, _ = trend_dirs
    d = shutil.copytree(dirs[2], tmp_path / "nostart")
    s = json.loads((d / "summary.json").read_text())
    (d / "summary.json").write_text(json.dumps(dict(s, start_utc=None)))
    nights = load_nights([d, dirs[0]])
    assert [n.evening is None for n in nights] == [False, True]


def test_folders_that_are_not_detect_outputs(tmp_path):
    with pytest.raises(InputError, match="no such folder"):
        load_nights([tmp_path / "missing"])
    with pytest.raises(InputError, match="no summary.json"):
        load_nights([tmp_path])


# --- statistics ------------------------------------------------------------------------------


def slow_interval(
    a: list[float], b: list[float], level: float, n_boot: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, len(a), size=(n_boot, len(a)))
    ib = rng.integers(0, len(b), size=(n_boot, len(b)))
    diffs = []
    for k in range(n_boot):
        diffs.append(sum(a[i] for i in ia[k]) / len(a) - sum(b[i] for i in ib[k]) / len(b))
    tail = (100 - level) / 200
    return float(np.quantile(diffs, tail)), float(np.quantile(diffs, 1 - tail))


small = st.lists(st.floats(0, 60, allow_nan=False), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(small, small, st.integers(0, 2**31))
def test_bootstrap_interval_matches_a_plain_loop(a, b, seed):
    fast = stats.bootstrap_interval(a, b, 95, n_boot=300, seed=seed)
    slow = slow_interval(a, b, 95, 300, seed)
    assert fast == pytest.approx(slow, abs=1e-9)
    assert fast[0] <= fast[1]


@given(st.floats(0, 50), st.floats(0, 50), st.integers(3, 6), st.integers(3, 6))
def test_constant_groups_give_an_exact_interval(x, y, n, m):
    c = stats.compare("t", "plms_index", [x] * n, [y] * m)
    assert c.enough and c.low == pytest.approx(x - y) and c.high == pytest.approx(x - y)
    assert c.difference == pytest.approx(x - y)


def test_small_groups_are_not_enough_and_separated_groups_have_mann_whitney_p():
    c = stats.compare("t", "jerks_first_30_min", [1, 2], [3, 4, 5])
    assert not c.enough and c.p is None and c.low is None and c.reading == "unclear"
    c = stats.compare("t", "jerks_first_30_min", [7, 8, 9], [1, 2, 3])
    assert c.p == pytest.approx(0.1)  # exact two-sided p for 3 against 3, no overlap
    assert c.low > 0 and c.reading == "more"


# --- the page ----------------------------------------------------------------------------------


def diary_rows(path: Path) -> dict[int, dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        lines = fh.read().splitlines()
    rows = {}
    for i, line in enumerate(lines[1:], start=2):
        if line.strip():
            rows[i] = next(csv.DictReader([lines[0], line]))
    return rows


def expected_stat(field: str, tag: str, measure: str, dirs: list[Path], diary: Path) -> Any:
    """This test's own grouping: diary nights with and without the tag."""
    by_date = {r["date"]: r for r in diary_rows(diary).values()}
    with_tag, without = [], []
    for night in _all_nights(dirs):
        row = by_date.get(night["evening"])
        if row is None or night[measure] is None:
            continue
        tags = {t.strip().lower() for t in row["tags"].split(";") if t.strip()}
        (with_tag if tag in tags else without).append(night[measure])
    if field == "tag":
        return tag
    if field == "n_with":
        return len(with_tag)
    if field == "n_without":
        return len(without)
    if field == "mean_with":
        return statistics.fmean(with_tag)
    if field == "mean_without":
        return statistics.fmean(without)
    if field == "difference":
        return statistics.fmean(with_tag) - statistics.fmean(without)
    if field in ("low", "high"):
        return stats.bootstrap_interval(with_tag, without)[field == "high"]
    if field == "p":
        from scipy.stats import mannwhitneyu

        return float(mannwhitneyu(with_tag, without, alternative="two-sided").pvalue)
    raise AssertionError(field)


def _all_nights(dirs: list[Path]) -> list[dict[str, Any]]:
    out = []
    for d in dirs:
        s = json.loads((d / "summary.json").read_text())
        for n in s.get("nights") or [s]:
            ev = (start_of(s) + timedelta(seconds=n["sleep_onset_s"] - 43200)).date().isoformat()  # type: ignore[operator]
            out.append(dict(n, evening=ev, start=start_of(s)))
    return out


def resolve_trends(
    v: dict[str, Any], page: Page, dirs: list[Path], diary: Path | None
) -> tuple[Any, dict]:
    """(value, summary the value belongs to) by this test's own reading of the files."""
    src = v["src"]
    kind, _, rest = src.partition(":")
    if kind == "dir":
        k, path = rest.split(":", 1)
        s = json.loads((dirs[int(k)] / "summary.json").read_text())
        return walk(s, path), s
    if kind == "arg":
        _, k, what = rest.split(".")
        assert what == "name"
        return dirs[int(k)].name, {}
    if kind == "diary":
        line, field = rest.split(".")
        row = diary_rows(diary)[int(line)]  # type: ignore[arg-type]
        if field == "tags":
            tags = []
            for t in row["tags"].split(";"):
                t = t.strip().lower()
                if t and t not in tags:
                    tags.append(t)
            return "; ".join(tags), {}
        return row[field].strip(), {}
    if kind == "stat":
        row = page.rows[v["row"]]
        return expected_stat(rest, row["data-tag"], row["data-measure"], dirs, diary), {}  # type: ignore[arg-type]
    if kind == "const":
        return signs.constant(rest), {}
    if kind == "software":
        return hypnic.__version__, {}
    nights = sorted(_all_nights(dirs), key=lambda n: n["evening"])
    if src == "derived:n_nights":
        return len(nights), {}
    if src == "derived:first_evening":
        return nights[0]["evening"], {}
    if src == "derived:last_evening":
        return nights[-1]["evening"], {}
    if src.startswith("derived:time_to_sleep_s:dir:"):
        k, path = src.removeprefix("derived:time_to_sleep_s:dir:").split(":", 1)
        s = json.loads((dirs[int(k)] / "summary.json").read_text())
        night = walk(s, path.rstrip(".")) if path else s
        ev = (start_of(s) + timedelta(seconds=night["sleep_onset_s"] - 43200)).date()  # type: ignore[operator]
        row = {r["date"]: r for r in diary_rows(diary).values()}.get(ev.isoformat())  # type: ignore[arg-type]
        if row is None or not row["lights_off"]:
            return None, s
        hh, mm = map(int, row["lights_off"].split(":"))
        day = ev if hh >= 12 else ev + timedelta(days=1)
        lights = datetime(day.year, day.month, day.day, hh, mm, tzinfo=start_of(s).tzinfo)  # type: ignore[union-attr]
        latency = (start_of(s) + timedelta(seconds=night["sleep_onset_s"]) - lights).total_seconds()  # type: ignore[operator]
        return (latency if latency >= 0 else None), s
    raise AssertionError(f"unknown source {src}")


@pytest.mark.parametrize("lang", ["en", "nl"])
@pytest.mark.usefixtures("no_plots")
def test_every_number_on_the_trends_page_comes_from_the_files(trend_dirs, lang):
    dirs, diary = trend_dirs
    html = build_trends_html(dirs, diary, lang)
    page = Page(html)
    for v in page.values:
        resolved, s = resolve_trends(v, page, dirs, diary)
        check_shown(v, resolved, s, lang)
    stray = [t for t in page.outside if re.search(r"\d", t)]
    assert stray == [], f"digits outside <data>: {stray}"
    srcs = [v["src"] for v in page.values]
    assert srcs.count("stat:mean_with") >= 1 and "const:MIN_NIGHTS" in srcs  # both branches shown
    assert any(s.startswith("derived:time_to_sleep_s:") for s in srcs)
    assert sum(s.endswith("jerks_first_30_min") for s in srcs) == len(NIGHTS) + len(LONG)


@pytest.mark.usefixtures("no_plots")
def test_a_script_in_a_diary_note_stays_text(trend_dirs):
    dirs, diary = trend_dirs
    html = build_trends_html(dirs, diary, "en")
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in html


@pytest.mark.usefixtures("no_plots")
def test_without_a_diary_the_page_says_how_to_add_one(trend_dirs):
    dirs, _ = trend_dirs
    html = build_trends_html(dirs[:3], None, "nl")
    assert "dagboek" in html and "stat:" not in html


def _cli(monkeypatch, argv: list[str]) -> int:
    if "trends" not in hypnic.cli.COMMANDS:  # until the command is listed in hypnic/cli.py
        monkeypatch.setattr(hypnic.cli, "COMMANDS", hypnic.cli.COMMANDS + ("trends",))
    return hypnic.cli.main(argv)


@pytest.mark.usefixtures("no_plots")
def test_cli_writes_the_page_and_prints_its_path(trend_dirs, tmp_path, monkeypatch, capsys):
    dirs, diary = trend_dirs
    out = tmp_path / "t.html"
    assert (
        _cli(monkeypatch, ["trends", *map(str, dirs), "--diary", str(diary), "--out", str(out)])
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out) and out.is_file()


def test_cli_bad_diary_row_is_one_line_naming_the_line(trend_dirs, tmp_path, monkeypatch, capsys):
    dirs, _ = trend_dirs
    bad = tmp_path / "bad.csv"
    bad.write_text(HEAD + "2024-01-15,,,\n2024-02-30,,,\n")
    out = tmp_path / "t.html"
    assert _cli(monkeypatch, ["trends", str(dirs[0]), "--diary", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"hypnic: error: {bad}: line 3: date '2024-02-30' is not a date YYYY-MM-DD\n"
    assert not out.exists()


def test_comparisons_cover_every_tag_and_measure(trend_dirs):
    dirs, diary = trend_dirs
    nights = load_nights(dirs)
    link_diary(nights, read_diary(diary))
    comps = comparisons(nights)
    assert [(c.tag, c.measure) for c in comps][:2] == [
        ("caffeine", "jerks_first_30_min"),
        ("caffeine", "plms_index"),
    ]
    assert {c.tag for c in comps} == {"caffeine", "stress", "late_shift", "exercise"}
