"""The night report: every number it shows comes from summary.json / events.csv, in both languages.

Synthetic nights go through the real pipeline (``analyze_stream`` + ``write_outputs``) into a
detect output folder. The page is then read back with an HTML parser: each ``<data>`` element is
resolved from the files by this test's own code (never the report's), its shown text is checked
against its value, and no digit may appear outside such elements (or a ``<cite>`` of a source).
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hypnic.cli
from hypnic.detector.options import AnalysisOptions
from hypnic.detector.results import Event, NightSummary
from hypnic.recordings.errors import InputError
from hypnic.recordings.outputs import MARKER
from hypnic.report import signs
from hypnic.report.folder import NightFolder, read_folder
from hypnic.report.night import build_night_html, write_night_report
from hypnic.report.texts import reason_text

VOID = {"img", "meta", "input", "br", "link"}
#: Text inside these is not "a number shown" (style sheet, a cited source's name like ICSD-3).
SKIP_TEXT = {"style", "cite", "script"}

ANKLE = dict(seed=15, placement="ankle")  # 2 jerks, PLMS index > 15/h: a GP sign
WRIST = dict(seed=2, placement="wrist")
#: Taken off twice (the second time until the recording ends), with a thermometer and gaps.
REMOVED = dict(seed=3, placement="wrist", fs=25.0, removals=True)


# --- building detect outputs -----------------------------------------------------------------


def make_night_dir(
    out: Path,
    seed: int,
    placement: str,
    hours: float = 4.0,
    fs: float = 50.0,
    day_shift: int = 0,
    gaps: bool = True,
    removals: bool = False,
) -> Path:
    """Simulate a night and write what ``hypnic detect`` writes (without the report).

    With ``removals`` the sensor is taken off where people take one off, and it has a
    thermometer (its readings go to the pipeline).
    """
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.benchmarks.synth_params import default_params, with_removals
    from hypnic.pipeline import analyze_stream, write_outputs

    params = with_removals(default_params()) if removals else None
    night = simulate_night(seed, fs, hours, placement, params, gaps=gaps, nonwear=removals)
    start = datetime.fromisoformat(night.info.start_utc) + timedelta(days=day_shift)
    night.info.start_utc = start.isoformat()
    stream = night.stream(temperature=removals)
    write_outputs(analyze_stream(stream, AnalysisOptions(placement=placement)), out, report=False)
    return out


@pytest.fixture(scope="module")
def ankle_dir(tmp_path_factory) -> Path:
    return make_night_dir(tmp_path_factory.mktemp("ankle") / "out", **ANKLE)


@pytest.fixture(scope="module")
def wrist_dir(tmp_path_factory) -> Path:
    return make_night_dir(tmp_path_factory.mktemp("wrist") / "out", **WRIST)


@pytest.fixture(scope="module")
def removed_dir(tmp_path_factory) -> Path:
    return make_night_dir(tmp_path_factory.mktemp("removed") / "out", **REMOVED)


TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5d8a1b90000000049454e44ae426082"
)


@pytest.fixture
def no_plots(monkeypatch):
    """Plots stand-ins for tests about numbers and words (drawing is tested elsewhere)."""
    from hypnic.report import plots

    monkeypatch.setattr(plots, "timeline_png", lambda *a, **k: TINY_PNG)
    monkeypatch.setattr(plots, "onset_zoom_png", lambda *a, **k: TINY_PNG)
    monkeypatch.setattr(plots, "jerk_pngs", lambda snippets, lang: [TINY_PNG for _ in snippets])
    monkeypatch.setattr(plots, "trends_png", lambda *a, **k: TINY_PNG)


def copy_with(src: Path, dst: Path, **changes: Any) -> Path:
    """A copy of a detect output with top-level summary fields changed (None deletes nothing)."""
    shutil.copytree(src, dst)
    summary = json.loads((dst / "summary.json").read_text())
    summary.update(changes)
    (dst / "summary.json").write_text(json.dumps(summary))
    return dst


# --- reading a page back -------------------------------------------------------------------


class Page(HTMLParser):
    """The ``<data>`` elements, images and the text outside ``<data>`` of a page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.values: list[dict[str, Any]] = []
        self.outside: list[str] = []
        self.images: list[dict[str, str]] = []
        self.rows: list[dict[str, str]] = []
        self.row_values: list[list[dict[str, Any]]] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(a)
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "data":
            self.values.append(
                {
                    "value": a.get("value", ""),
                    "src": a["data-src"],
                    "fmt": a["data-fmt"],
                    "text": "",
                    "row": len(self.rows) - 1 if "tr" in self.stack else None,
                }
            )
        if tag == "tr":
            self.rows.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        while self.stack:
            if self.stack.pop() == tag:
                break

    def handle_data(self, d: str) -> None:
        if "data" in self.stack:
            self.values[-1]["text"] += d
        elif not SKIP_TEXT.intersection(self.stack):
            self.outside.append(d)


# --- this test's own idea of where each number comes from ----------------------------------


def walk(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def start_of(summary: dict[str, Any]) -> datetime | None:
    if not summary.get("start_utc"):
        return None
    when = datetime.fromisoformat(summary["start_utc"].replace("Z", "+00:00"))
    if "utc_offset_s" in summary:
        when = when.astimezone(timezone(timedelta(seconds=summary["utc_offset_s"])))
    return when


def raw_events(folder: Path) -> list[dict[str, str]]:
    with open(folder / "events.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def in_period(events: list[dict[str, str]], s: dict[str, Any], labels: tuple[str, ...]) -> int:
    return sum(
        1
        for e in events
        if e["label"] in labels and s["sleep_onset_s"] <= float(e["onset_s"]) <= s["sleep_end_s"]
    )


def derived(
    name: str, s: dict[str, Any], events: list[dict[str, str]], options: dict[str, str]
) -> Any:
    hours = (s["sleep_period_s"] or 0) / 3600.0
    if name == "legs_total":
        return s["counts"]["plm"] + s["counts"]["lm"]
    if name == "turns_in_sleep":
        return in_period(events, s, ("large_movement",))
    if name == "turns_in_sleep_per_h":
        return in_period(events, s, ("large_movement",)) / hours
    if name == "moves_in_sleep_per_h":
        return in_period(events, s, ("large_movement", "other")) / hours
    if name == "gaps_n":
        return len(s["gaps"])
    if name == "gaps_total_s":
        return sum(b - a for a, b in s["gaps"])
    if name == "nonwear_total_s":
        return sum(b - a for a, b in s["nonwear"])
    if name == "idle_n":
        return len(s["idle"])
    if name == "idle_total_s":
        return sum(b - a for a, b in s["idle"])
    if m := re.fullmatch(r"nonwear_length_s\.(\d+)", name):
        a, b = s["nonwear"][int(m.group(1))]
        return b - a
    if m := re.fullmatch(r"nights\.(\d+)\.nonwear_total_s", name):
        night = s["nights"][int(m.group(1))]
        return sum(b - a for a, b in night["nonwear"]) if "nonwear" in night else None
    if name == "window_start_s":
        return (s.get("window_s") or [0.0])[0]
    if name == "timezone":
        off = start_of(s).utcoffset()  # type: ignore[union-attr]
        h, m = divmod(int(off.total_seconds()) // 60, 60)
        return f"UTC+{h:02d}:{m:02d}" if off >= timedelta(0) else f"UTC-{-h:02d}:{m:02d}"
    if name == "time_to_sleep_s":
        start, onset = start_of(s), s["sleep_onset_s"]
        hh, mm = map(int, options["lights_off"].split(":"))
        onset_at = start + timedelta(seconds=onset)  # type: ignore[operator]
        best = None
        for day in range(-1, 2):
            c = (onset_at + timedelta(days=day)).replace(
                hour=hh, minute=mm, second=0, microsecond=0
            )
            if best is None or abs(c - onset_at) < abs(best - onset_at):
                best = c
        return (onset_at - best).total_seconds()  # type: ignore[operator]
    raise AssertionError(f"unknown derived value {name}")


def resolve(
    src: str, s: dict[str, Any], events: list[dict[str, str]], options: dict[str, str]
) -> Any:
    kind, _, rest = src.partition(":")
    if kind == "summary":
        return walk(s, rest)
    if kind == "events":
        i, col = rest.split(".", 1)
        raw = events[int(i)][col]
        return None if raw == "" else float(raw)
    if kind == "const":
        return signs.constant(rest)
    if kind == "option":
        return options[rest]
    if kind == "derived":
        return derived(rest, s, events, options)
    if kind == "key":
        where, path = rest.split(":", 1)
        assert where == "summary"
        walk(s, path)  # exists
        return path.rsplit(".", 1)[-1]
    raise AssertionError(f"unknown source {src}")


DURATION = re.compile(r"^(-?)(?:(\d+) [hu] (\d\d) min|(\d+) min|(\d+) s)$")


def check_shown(v: dict[str, Any], resolved: Any, s: dict[str, Any], lang: str) -> None:
    """The element's value is the resolved one, and its text shows that value."""
    fmt, text, raw = v["fmt"], v["text"], v["value"]
    where = f"{v['src']} ({fmt}) {text!r}"
    if fmt == "none":
        assert resolved is None and text == "—" and raw == "", where
        return
    if fmt == "reason":  # the detector's English reason, shown in the page's language
        assert raw == str(resolved) and text == reason_text(raw, lang), where
        return
    if fmt in ("text", "key"):
        expect = ", ".join(resolved) if isinstance(resolved, list) else str(resolved)
        assert raw == expect and text == expect, where
        return
    if fmt == "date":
        assert text == raw == resolved, where
        return
    if fmt == "json":
        assert json.loads(raw) == resolved and text == raw, where
        return
    if fmt == "raw":
        assert raw == repr(resolved) == text, where
        return
    assert isinstance(resolved, (int, float)) and not isinstance(resolved, bool), where
    assert math.isclose(float(raw), resolved, rel_tol=1e-12, abs_tol=1e-9), where
    if fmt == "int":
        assert text == str(int(round(resolved))), where
    elif fmt.startswith("dec"):
        places = int(fmt[3:])
        if lang == "nl":
            assert "." not in text, where
        assert abs(float(text.replace(",", ".")) - resolved) <= 0.5 * 10**-places + 1e-9, where
    elif fmt == "dur":
        m = DURATION.match(text)
        assert m, where
        sign = -1 if m.group(1) else 1
        if m.group(2):
            assert ("u" if lang == "nl" else "h") in text, where
            shown, tol = int(m.group(2)) * 3600 + int(m.group(3)) * 60, 30.0
        elif m.group(4):
            shown, tol = int(m.group(4)) * 60, 30.0
        else:
            shown, tol = int(m.group(5)), 0.5
        assert abs(sign * shown - resolved) <= tol + 1e-9, where
    elif fmt == "clock":
        assert text == (start_of(s) + timedelta(seconds=resolved)).strftime("%H:%M"), where  # type: ignore[operator]
    elif fmt == "evening":
        assert text == (start_of(s) + timedelta(seconds=resolved - 43200)).date().isoformat(), where  # type: ignore[operator]
    else:
        raise AssertionError(f"unknown format {where}")


def check_numbers(
    html: str, folder: Path, lang: str, options: dict[str, str] | None = None
) -> Page:
    """Every shown value resolves from the files; no digit is shown outside a value."""
    options = options or {}
    s = json.loads((folder / "summary.json").read_text())
    events = raw_events(folder)
    page = Page(html)
    assert page.values
    for v in page.values:
        check_shown(v, resolve(v["src"], s, events, options), s, lang)
    stray = [t for t in page.outside if re.search(r"\d", t)]
    assert stray == [], f"digits outside <data>: {stray}"
    return page


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_number_of_an_ankle_night_comes_from_the_files(ankle_dir, lang):
    html = build_night_html(read_folder(ankle_dir), lang, lights_off="22:40")
    page = check_numbers(html, ankle_dir, lang, {"lights_off": "22:40"})
    srcs = {v["src"] for v in page.values}
    for must in (
        "summary:jerks_first_30_min",
        "summary:plms_index",
        "summary:sleep_onset_s",
        "summary:counts.large_movement",
        "derived:time_to_sleep_s",
        "derived:gaps_total_s",
        "summary:version",
        "summary:parameters.burst_detector.k_high",
    ):
        assert must in srcs, must
    s = json.loads((ankle_dir / "summary.json").read_text())
    n_jerks = s["counts"]["hypnic_jerk"]
    assert n_jerks > 0
    assert sum(1 for v in page.values if re.fullmatch(r"events:\d+\.peak_g", v["src"])) == n_jerks
    # timeline + onset zoom + one close-up per jerk, all embedded
    assert len(page.images) == 2 + n_jerks
    assert all(i["src"].startswith("data:image/png;base64,") and i["alt"] for i in page.images)
    assert f'<html lang="{lang}">' in html


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_every_number_of_a_wrist_night_comes_from_the_files(wrist_dir, lang):
    html = build_night_html(read_folder(wrist_dir), lang)
    page = check_numbers(html, wrist_dir, lang)
    srcs = {v["src"] for v in page.values}
    assert (
        "summary:plms_index" not in srcs and "derived:legs_total" not in srcs
    )  # no legs at a wrist
    assert "derived:time_to_sleep_s" not in srcs  # no lights-out time given


def test_published_constants_are_the_literature_values():
    from hypnic.detector.classify import JERK_WINDOW_S

    assert signs.constant("PLMS_ADULT_PER_H") == 15.0  # ICSD-3 adults, DOMAIN.md §2.3
    assert signs.constant("TURNS_HEALTHY_MEDIAN_PER_H") == 6.8  # DOMAIN.md §1.3
    assert signs.constant("PLMS_NIGHT_TO_NIGHT_PER_H") == 25.1  # DOMAIN.md §2.3
    assert signs.constant("JERK_WINDOW_BEFORE_MIN") == -JERK_WINDOW_S[0] / 60
    assert signs.constant("JERK_WINDOW_AFTER_MIN") == JERK_WINDOW_S[1] / 60
    with pytest.raises(KeyError):
        signs.constant("NO_SUCH")


def test_without_traces_the_report_shows_events_only_and_says_why(ankle_dir, tmp_path):
    d = shutil.copytree(ankle_dir, tmp_path / "old")
    (d / "traces.npz").unlink()
    html = build_night_html(read_folder(d), "en")
    page = check_numbers(html, d, "en")
    assert "traces.npz" in html
    assert len(page.images) == 2  # events timeline and onset zoom, no close-ups
    assert "No raw trace was kept" in html


def test_without_a_start_time_times_are_after_the_start(ankle_dir, tmp_path, no_plots):
    d = copy_with(ankle_dir, tmp_path / "nostart", start_utc=None)
    html = build_night_html(read_folder(d), "nl", lights_off="23:00")
    page = check_numbers(html, d, "nl", {"lights_off": "23:00"})
    assert not any(v["fmt"] in ("clock", "evening") for v in page.values)
    assert "na het begin" in html
    assert "geen begintijd" in html  # lights-out cannot be placed


def test_times_follow_the_summary_utc_offset(ankle_dir, tmp_path, no_plots):
    d = copy_with(ankle_dir, tmp_path / "cet", utc_offset_s=3600.0)
    html = build_night_html(read_folder(d), "en", lights_off="23:50")
    check_numbers(html, d, "en", {"lights_off": "23:50"})
    assert "UTC+01:00" in html


def test_lights_out_after_the_onset_gives_no_time_to_fall_asleep(ankle_dir, no_plots):
    s = json.loads((ankle_dir / "summary.json").read_text())
    onset = start_of(s) + timedelta(seconds=s["sleep_onset_s"])  # type: ignore[operator]
    later = (onset + timedelta(minutes=20)).strftime("%H:%M")
    html = build_night_html(read_folder(ankle_dir), "en", lights_off=later)
    assert "later than the estimated sleep onset" in html
    assert "derived:time_to_sleep_s" not in html


@pytest.mark.parametrize("bad", ["24:00", "7pm", "23.15", "", "23:5"])
def test_a_bad_lights_out_time_is_a_one_line_error(ankle_dir, bad):
    with pytest.raises(InputError) as err:
        build_night_html(read_folder(ankle_dir), "en", lights_off=bad)
    assert err.value.source == "--lights-off" and "HH:MM" in err.value.problem


def test_a_long_recording_lists_every_night(ankle_dir, tmp_path, no_plots):
    s = json.loads((ankle_dir / "summary.json").read_text())
    keys = ("window_s", "sleep_onset_s", "jerks_first_30_min", "plms_index", "counts")
    first = {k: s.get(k, [0.0, s["duration_s"]] if k == "window_s" else None) for k in keys}
    second = dict(
        first,
        window_s=[s["duration_s"], 2 * s["duration_s"]],
        sleep_onset_s=None,
        jerks_first_30_min=None,
        plms_index=None,
        nonwear=[[s["duration_s"] + 600.0, s["duration_s"] + 3000.0]],  # the first has none
        nonwear_evidence=[["no_movement", "temperature_drop"]],
    )
    d = copy_with(ankle_dir, tmp_path / "long", nights=[first, second])
    html = build_night_html(read_folder(d), "en")
    page = check_numbers(html, d, "en")
    assert {v["src"] for v in page.values} >= {
        "summary:nights.0.sleep_onset_s",
        "summary:nights.1.window_s.0",
        "summary:nights.1.plms_index",
        "derived:nights.0.nonwear_total_s",
        "derived:nights.1.nonwear_total_s",
    }
    shown = {v["src"]: v["text"] for v in page.values}
    assert shown["derived:nights.0.nonwear_total_s"] == "—"  # an older night object
    assert shown["derived:nights.1.nonwear_total_s"] == "40 min"


def _folder(summary: dict[str, Any], events: list[dict[str, Any]]) -> NightFolder:
    base = {
        "sleep_onset_s": 1000.0,
        "sleep_onset_window_s": [900.0, 1100.0],
        "sleep_onset_source": "detected",
        "sleep_end_s": 1000.0 + 3 * 3600,
        "sleep_period_s": 3 * 3600.0,
        "placement": "ankle",
        "rules": "wasm",
        "counts": {"hypnic_jerk": 0, "plm": 0, "lm": 0, "large_movement": 0, "other": 0},
        "jerks_first_30_min": 0,
        "plms_index": 1.0,
        "plms_index_reason": None,
        "periodicity_index": 0.1,
        "gaps": [],
        "nonwear": [[20000.0, 21000.0]],
        "software": "hypnic",
        "version": "0.1.0",
        "source": "night.csv",
        "start_utc": "2024-01-15T21:00:00+00:00",
        "duration_s": 4 * 3600.0,
        "fs_hz": 50.0,
        "n_samples": 720000,
        "parameters": {},
        "device": {},
    }
    base.update(summary)
    return NightFolder(
        Path("."), NightSummary.from_dict(base), [Event.from_dict(e) for e in events], None
    )


def _ev(t: float, label: str) -> dict[str, Any]:
    return {
        "onset_s": t,
        "duration_s": 2.0,
        "peak_g": 0.1,
        "label": label,
        "series": None,
        "confidence": 0.9,
        "minutes_from_onset": (t - 1000.0) / 60,
    }


@pytest.mark.parametrize(
    ("summary", "events", "shown"),
    [
        ({}, [], set()),
        ({"plms_index": 15.0}, [], set()),  # the threshold is "> 15/h"
        ({"plms_index": 15.5}, [], {"plms"}),
        ({"jerks_first_30_min": 9}, [], set()),
        ({"jerks_first_30_min": 10}, [], {"jerks"}),
        (
            {},
            [_ev(1000.0 + i * 150.0, "large_movement") for i in range(60)],
            set(),
        ),  # 20/h: not > 20
        (
            {},
            [_ev(1000.0 + i * 100.0, "large_movement") for i in range(61)]
            + [_ev(1050.0 + i * 100.0, "other") for i in range(10)],
            {"moves"},
        ),  # 23.7/h
        (
            {
                "placement": "wrist",
                "plms_index": None,
                "plms_index_reason": "wrist sensor: ...",
                "jerks_first_30_min": 25,
            },
            [],
            {"jerks"},
        ),
    ],
)
def test_gp_signs_only_where_the_data_point_at_them(summary, events, shown, no_plots):
    html = build_night_html(_folder(summary, events), "en")
    found = {
        k for k in ("plms", "moves", "jerks") if 'class="sign"' in html and _sign_text(k) in html
    }
    assert found == shown
    assert ("Nothing in this night" in html) == (not shown)
    assert html.count('type="checkbox"') == 6  # the questions only the person can answer


def _sign_text(key: str) -> str:
    return {
        "plms": "Leg movements went on during sleep",
        "moves": "Many other movements during sleep",
        "jerks": "Very many sleep starts",
    }[key]


def test_strings_from_files_cannot_inject_markup(tmp_path, no_plots):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'
    folder = _folder(
        {
            "source": evil,
            "device": {"serial": evil, "<b>key</b>": 1},
            "sleep_onset_reason": None,
            "parameters": {"labelling": evil},
        },
        [],
    )
    html = build_night_html(folder, "nl")
    assert "<script" not in html and "<img src=x" not in html and "<b>" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") >= 3
    assert "&amp;amp;" in html  # an entity in a file is shown as typed
    page = Page(html)
    assert {i["src"][:22] for i in page.images} == {"data:image/png;base64,"}


def test_write_night_report_writes_report_html_all_at_once(ankle_dir, tmp_path, no_plots):
    d = shutil.copytree(ankle_dir, tmp_path / "out")
    path = write_night_report(d, lang="nl")
    assert path == d / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    hidden = [p.name for p in d.iterdir() if p.name.startswith(".")]
    assert hidden == [MARKER]  # no temporary left; the marker lists report.html as ours
    assert "report.html" in json.loads((d / MARKER).read_text())["files"]
    with pytest.raises(InputError, match="does not exist"):
        write_night_report(d, out=tmp_path / "missing" / "r.html")
    with pytest.raises(InputError, match="no summary.json"):
        write_night_report(tmp_path)


def test_the_pipeline_can_report_from_its_analysis_before_files_exist(tmp_path, no_plots):
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.pipeline import analyze_stream

    night = simulate_night(11, 50.0, 2.0, "ankle")
    analysis = analyze_stream(night.stream(), AnalysisOptions(placement="ankle"))
    stage = tmp_path / "stage"
    stage.mkdir()
    path = write_night_report(stage, analysis, lang="en")
    html = path.read_text()
    assert "synthetic seed 11" in html and "<data" in html


def _cli(monkeypatch, argv: list[str]) -> int:
    if "report" not in hypnic.cli.COMMANDS:  # until the command is listed in hypnic/cli.py
        monkeypatch.setattr(hypnic.cli, "COMMANDS", hypnic.cli.COMMANDS + ("report",))
    return hypnic.cli.main(argv)


def test_cli_prints_the_path_of_the_report(ankle_dir, tmp_path, monkeypatch, capsys, no_plots):
    out = tmp_path / "nacht.html"
    assert (
        _cli(
            monkeypatch,
            ["report", str(ankle_dir), "--lang", "nl", "--lights-off", "22:40", "--out", str(out)],
        )
        == 0
    )
    assert capsys.readouterr().out.strip() == str(out)
    assert 'lang="nl"' in out.read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["report", "{tmp}/nope"], "no such folder"),
        (["report", "{dir}", "--lights-off", "25:00"], "--lights-off: '25:00' is not a clock time"),
        (["report", "{dir}", "--out", "{tmp}/no/such/dir/r.html"], "does not exist"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(
    ankle_dir, tmp_path, monkeypatch, capsys, argv, message
):
    argv = [a.format(tmp=tmp_path, dir=ankle_dir) for a in argv]
    assert _cli(monkeypatch, argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hypnic: error: ") and message in err


def test_damaged_folders_are_one_line_errors(ankle_dir, tmp_path):
    d = shutil.copytree(ankle_dir, tmp_path / "bad")
    (d / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_folder(d)
    (d / "summary.json").write_text('{"counts": {}}')
    with pytest.raises(InputError, match=r"not a hypnic summary \(missing sleep_onset_s, duration_s\)"):
        read_folder(d)
    shutil.copy(ankle_dir / "summary.json", d / "summary.json")
    lines = (d / "events.csv").read_text().splitlines()
    lines[2] = lines[2].replace(lines[2].split(",")[0], "soon", 1)
    (d / "events.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match="line 3: onset_s 'soon' is not a number"):
        read_folder(d)
    shutil.copy(ankle_dir / "events.csv", d / "events.csv")
    (d / "traces.npz").write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(InputError, match="cannot read the traces"):
        read_folder(d)


# --- non-wear, its evidence, the sensor's temperature and idle time --------------------------


def words(page: str) -> str:
    """The text a reader sees (tags dropped, entities decoded)."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", page))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def images_of(html: str) -> list[bytes]:
    import base64

    return [base64.b64decode(i["src"].split(",", 1)[1]) for i in Page(html).images]


def without(src: Path, dst: Path, *keys: str, temperature: bool = True) -> Path:
    """A copy of a detect output as an older hypnic wrote it: without ``keys`` in summary.json
    (and in each night), and without the temperature traces unless ``temperature``."""
    shutil.copytree(src, dst)
    summary = json.loads((dst / "summary.json").read_text())
    for obj in [summary, *summary.get("nights", [])]:
        for k in keys:
            obj.pop(k, None)
    (dst / "summary.json").write_text(json.dumps(summary))
    if not temperature:
        with np.load(dst / "traces.npz") as npz:
            kept = {k: npz[k] for k in npz.files if not k.startswith("temperature_")}
        np.savez_compressed(dst / "traces.npz", **kept)
    return dst


@pytest.fixture
def figures(monkeypatch):
    """The matplotlib figures the report draws, kept to be looked at (the PNGs are not made)."""
    from hypnic.report import plots

    drawn: list[Any] = []

    def keep(fig: Any) -> bytes:
        drawn.append(fig)
        return TINY_PNG

    monkeypatch.setattr(plots, "_png", keep)
    return drawn


def legend_texts(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.legends[0].get_texts()]


def test_the_removed_night_has_what_the_report_is_tested_on(removed_dir):
    s = json.loads((removed_dir / "summary.json").read_text())
    assert len(s["nonwear"]) >= 2 and len(s["nonwear_evidence"]) == len(s["nonwear"])
    assert any("temperature_drop" in ev for ev in s["nonwear_evidence"])
    assert any("recording_edge" in ev for ev in s["nonwear_evidence"])
    assert s["temperature_available"] is True and "nonwear_note" not in s
    assert s["gaps"]
    with np.load(removed_dir / "traces.npz") as npz:
        assert npz["temperature_c"].size > 60


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_night_with_removals_shows_each_one_and_why(removed_dir, lang):
    html = build_night_html(read_folder(removed_dir), lang)
    page = check_numbers(html, removed_dir, lang)
    s = json.loads((removed_dir / "summary.json").read_text())
    srcs = [v["src"] for v in page.values]
    for i in range(len(s["nonwear"])):
        for src in (f"summary:nonwear.{i}.0", f"summary:nonwear.{i}.1"):
            assert src in srcs
        assert f"derived:nonwear_length_s.{i}" in srcs
    heading = {"en": "When the sensor was not worn", "nl": "Wanneer de sensor niet gedragen werd"}
    assert f"<h3>{heading[lang]}</h3>" in html
    text = words(html)
    cooled = {"en": "cooled down as it does when not worn", "nl": "koelde af zoals wanneer hij"}
    edge = {"en": "at the end of the recording, after it was taken off", "nl": "aan het eind van"}
    assert cooled[lang] in text and edge[lang] in text
    assert ("recorded no temperature" in text) is False
    # the timeline: movement, posture, the sensor's temperature, events
    alt = {"en": "the sensor's temperature", "nl": "de temperatuur van de sensor"}
    assert alt[lang] in page.images[0]["alt"]
    third = {"en": "Third: the sensor's temperature", "nl": "Derde: de temperatuur van de sensor"}
    assert third[lang] in text


def test_the_timeline_has_a_temperature_panel_where_traces_hold_temperature(removed_dir, tmp_path):
    from hypnic.report import plots

    folder = read_folder(removed_dir)
    traces = folder.traces
    assert traces is not None and "temperature_c" in traces
    s = folder.summary
    assert plots.timeline_panels(s, traces) == ["movement", "posture", "temperature", "events"]
    no_temp = {k: v for k, v in traces.items() if not k.startswith("temperature")}
    assert plots.timeline_panels(s, no_temp) == ["movement", "posture", "events"]
    assert plots.timeline_panels(s, None) == ["events"]
    # a window without readings has no temperature panel
    later = replace(s, window_s=[s.duration_s + 3600.0, s.duration_s + 7200.0])
    assert "temperature" not in plots.timeline_panels(later, traces)

    with_temp = plots.timeline_png(s, folder.events, traces, None, "en")
    old = without(removed_dir, tmp_path / "old", temperature=False)
    html = build_night_html(read_folder(old), "en")
    no_temp = images_of(html)[0]
    assert png_size(with_temp)[0] == png_size(no_temp)[0]
    assert png_size(with_temp)[1] > png_size(no_temp)[1] * 1.15  # one more panel
    assert "Middle: posture" in html and "Third:" not in html


def test_the_temperature_panel_shows_skin_and_room_temperature(removed_dir, figures):
    from hypnic.report import plots

    folder = read_folder(removed_dir)
    plots.timeline_png(folder.summary, folder.events, folder.traces, None, "nl")
    (fig,) = figures
    axes = fig.axes
    assert len(axes) == 4
    temp = axes[2]
    assert temp.get_ylabel() == "temperatuur (°C)"
    lo, hi = temp.get_ylim()
    assert lo <= 20.0 and hi >= 36.0 and hi - lo <= 30.0
    (curve,) = [ln for ln in temp.get_lines() if len(ln.get_xdata()) > 2]
    y = np.asarray(curve.get_ydata(), dtype=float)
    assert np.nanmax(y) > 28.0 and np.nanmin(y) < 26.0  # worn, and cooled off the skin
    # the non-wear spans are shaded on every panel, temperature included
    for ax in axes:
        colours = [tuple(p.get_facecolor()[:3]) for p in ax.patches]
        purple = [c for c in colours if c == _rgb(plots.NONWEAR_COLOUR)]
        assert len(purple) >= 2
    texts = legend_texts(fig)
    for must in ("niet gedragen", "gat in de gegevens", "eronder: kouder dan de huid"):
        assert must in texts
    assert "apparaat in rust (lag stil)" not in texts  # no idle time in this night


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def test_every_mark_of_the_timeline_is_in_its_legend(ankle_dir, figures):
    from hypnic.report import plots

    folder = read_folder(ankle_dir)
    s = replace(folder.summary, idle=[[600.0, 900.0], [1200.0, 1260.0]], nonwear=[[5000.0, 5600.0]])
    assert s.gaps and s.sleep_end_s is not None
    plots.timeline_png(s, folder.events, folder.traces, None, "en")
    (fig,) = figures
    texts = legend_texts(fig)
    for must in (
        "sleep onset",
        "likely range",
        "final awakening",  # the dashed line
        "gap in the data",
        "not worn",
        "device idle (lay still)",
    ):
        assert must in texts, must
    # the final awakening's dashed line is drawn, and the legend shows it dashed
    handles = fig.legends[0].legend_handles
    end = handles[texts.index("final awakening")]
    assert end.get_linestyle() == "--"
    assert any(ln.get_linestyle() == "--" for ln in fig.axes[0].get_lines())
    # idle: a strip on every panel, one shape a span, unlike gaps (hatched) and non-wear (bands)
    from matplotlib.collections import PolyCollection

    for ax in fig.axes:
        strips = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert [len(c.get_paths()) for c in strips] == [2]
        assert tuple(strips[0].get_facecolor()[0][:3]) == _rgb(plots.IDLE_COLOUR)


def test_marks_outside_the_window_are_not_in_the_legend(ankle_dir, figures):
    from hypnic.report import plots

    folder = read_folder(ankle_dir)
    s = replace(
        folder.summary,
        gaps=[],
        nonwear=[[1e7, 1e7 + 600]],
        idle=[[1e7, 1e7 + 60]],
        sleep_end_s=None,
    )
    plots.timeline_png(s, folder.events, folder.traces, None, "en")
    texts = legend_texts(figures[0])
    assert not {"not worn", "device idle (lay still)", "final awakening"} & set(texts)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_idle_time_is_shown_and_counted_apart_from_gaps(removed_dir, tmp_path, lang):
    s = json.loads((removed_dir / "summary.json").read_text())
    idle = [[1000.0, 1300.0], [2000.0, 2060.0], [2500.0, 2800.0]]
    d = copy_with(removed_dir, tmp_path / "idle", idle=idle)
    html = build_night_html(read_folder(d), lang)
    page = check_numbers(html, d, lang)
    shown = {v["src"]: v["text"] for v in page.values}
    assert shown["derived:idle_n"] == "3" and shown["derived:idle_total_s"] == "11 min"
    assert shown["derived:gaps_n"] == str(len(s["gaps"])) != "3"
    text = words(html)
    said = {
        "en": ("paused measuring", "Blue strip along the bottom"),
        "nl": ("pauzeerde het meten", "Blauwe strook onderaan"),
    }
    for phrase in said[lang]:
        assert phrase in text
    # the onset zoom says so too where idle time lies in it
    from hypnic.report.plots import ZOOM_MARGIN_S

    lo, hi = (s["sleep_onset_s"] + w for w in signs.jerk_window_s())
    in_zoom = any(e > lo - ZOOM_MARGIN_S and a < hi + ZOOM_MARGIN_S for a, e in idle)
    assert in_zoom and text.count(said[lang][1]) == 2


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_without_temperature_the_card_says_movement_alone_in_plain_words(ankle_dir, lang):
    s = json.loads((ankle_dir / "summary.json").read_text())
    assert s["temperature_available"] is False and s["nonwear_note"]
    html = build_night_html(read_folder(ankle_dir), lang)
    card = re.search(r'<span class="what">(?:Recording|Opname)</span>.*?</div>', html)
    assert card
    said = words(card.group(0))
    expect = {"en": "judged from its movement alone", "nl": "alleen uit zijn bewegingen afgeleid"}
    assert expect[lang] in said
    assert s["nonwear_note"] not in html  # the detector's sentence is for developers
    for developer in ("hypnic", "--", ".npz", ".json", "/", "nonwear", "temperature_"):
        assert developer not in said, developer


def test_a_summary_without_the_new_keys_still_renders(removed_dir, tmp_path):
    d = without(
        removed_dir,
        tmp_path / "old",
        "nonwear_evidence",
        "idle",
        "temperature_available",
        "nonwear_note",
        temperature=False,
    )
    for lang in ("en", "nl"):
        html = build_night_html(read_folder(d), lang)
        page = check_numbers(html, d, lang)
        text = words(html)
        assert "When the sensor was not worn" in text or lang == "nl"
        assert "the sensor cooled" not in text and "paused measuring" not in text
        assert "movement alone" not in text
        assert len(page.images) >= 2
    # spans without evidence are listed with their times only
    s = json.loads((d / "summary.json").read_text())
    html = build_night_html(read_folder(d), "en")
    assert html.count("<li>") == len(s["nonwear"]) + 6  # + the questions only you can answer


def test_the_pipeline_analysis_reports_its_temperature(tmp_path, figures):
    """A report made from the analysis itself (before its files exist) has the temperature."""
    from hypnic.benchmarks.synth import simulate_night
    from hypnic.benchmarks.synth_params import default_params, with_removals
    from hypnic.pipeline import analyze_stream

    night = simulate_night(0, 25.0, 2.0, "wrist", with_removals(default_params()), nonwear=True)
    analysis = analyze_stream(night.stream(temperature=True), AnalysisOptions(placement="wrist"))
    stage = tmp_path / "stage"
    stage.mkdir()
    write_night_report(stage, analysis, lang="en")
    assert len(figures[0].axes) == 4


def _why(evidence: list[str], span: list[float], lang: str) -> str:
    folder = _folder({"nonwear": [span], "nonwear_evidence": [evidence]}, [])
    html = build_night_html(folder, lang)
    (item,) = re.findall(r"<li>((?:(?!</li>).)*?)</li>", html.split("<h3>", 1)[1])[:1]
    return words(item)


@pytest.mark.parametrize(
    ("evidence", "span", "en", "nl"),
    [
        (
            ["no_movement", "temperature_drop"],
            [10000.0, 12520.0],
            "23:46 to 00:28 (42 min): the sensor cooled down as it does when not worn and lay "
            "still.",
            "23:46 tot 00:28 (42 min): de sensor koelde af zoals wanneer hij niet gedragen wordt "
            "en lag stil.",
        ),
        (
            ["no_movement", "no_movement_60min", "recording_edge", "temperature_low"],
            [0.0, 4000.0],
            "21:00 to 22:06 (1 h 07 min): the sensor was colder than skin and lay still for an "
            "hour or more, at the start of the recording, before it was put on.",
            "21:00 tot 22:06 (1 u 07 min): de sensor was kouder dan de huid en lag een uur of "
            "langer stil, aan het begin van de opname, voordat hij werd omgedaan.",
        ),
        (
            ["no_movement", "no_breathing", "awake_around", "temperature_rise"],
            [7200.0, 7800.0],
            "23:00 to 23:10 (10 min): the sensor lay still, did not move with your breathing and "
            "warmed up again when it was put back on, while you were awake.",
            "23:00 tot 23:10 (10 min): de sensor lag stil, bewoog niet mee met je ademhaling en "
            "werd weer warm toen hij weer werd omgedaan, terwijl je wakker was.",
        ),
        (
            ["recording_edge"],
            [14000.0, 14400.0],
            "00:53 to 01:00 (7 min): the sensor lay still, at the end of the recording, after it "
            "was taken off.",
            "00:53 tot 01:00 (7 min): de sensor lag stil, aan het eind van de opname, nadat hij "
            "was afgedaan.",
        ),
        (
            ["a_future_reason"],
            [7200.0, 7800.0],
            "23:00 to 23:10 (10 min).",
            "23:00 tot 23:10 (10 min).",
        ),
    ],
)
def test_non_wear_evidence_in_plain_words(evidence, span, en, nl, no_plots):
    assert _why(evidence, span, "en") == en
    assert _why(evidence, span, "nl") == nl
