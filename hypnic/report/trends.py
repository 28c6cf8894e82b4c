"""Many nights of one person: nights over time and circumstances from a diary (issue 6 §2).

Each folder is a detect output; a recording longer than a day contributes every night in its
``nights`` list. A night is linked to the diary by its evening's date (12 h before its sleep
onset, the noon-to-noon convention of :mod:`detector.night`). Comparisons per tag are in
:mod:`hypnic.report.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from hypnic import __version__
from hypnic.detector.results import Night
from hypnic.recordings.errors import InputError
from hypnic.report import clock, plots, signs, stats
from hypnic.report.diary import DiaryEntry, read_diary
from hypnic.report.folder import read_summary
from hypnic.report.markup import (
    DASH,
    Markup,
    check_target,
    data,
    duration,
    fmt_clock,
    join,
    number,
    page,
    png_img,
    tag,
    write_html,
)
from hypnic.report.texts import LANGS, plain, text

#: Measures compared per tag: (key in the night's summary, text key, decimals shown).
MEASURES = (("jerks_first_30_min", "metric_jerks", 1), ("plms_index", "metric_plmsi", 1))


@dataclass
class TrendNight:
    """One night of one folder.

    ``src`` is the data-src prefix of its values: ``dir:K:`` for a one-night summary, or
    ``dir:K:nights.J.`` for night J of a long recording (K is the folder's place in the list).
    """

    folder: str
    k: int
    src: str
    summary: Night
    start: datetime | None
    evening: date | None
    entry: DiaryEntry | None = None

    def value(self, key: str) -> Any:
        """The night's field ``key`` (None where its file does not hold it)."""
        return getattr(self.summary, key)

    def time_to_sleep_s(self) -> float | None:
        """Sleep onset minus the diary's lights-out time (``None`` where either is unknown)."""
        onset = self.value("sleep_onset_s")
        if self.entry is None or self.entry.lights_off is None or onset is None:
            return None
        if self.start is None or self.evening is None:
            return None
        latency = onset - clock.lights_off_on_evening(
            self.start, self.evening, self.entry.lights_off
        )
        return latency if latency >= 0 else None


def load_nights(dirs: Sequence[str | Path]) -> list[TrendNight]:
    """Every night of the given detect output folders, dated nights first in date order.

    Raises
    ------
    InputError
        A folder without a readable summary, or two folders holding the same night.
    """
    nights: list[TrendNight] = []
    for k, d in enumerate(dirs):
        folder = Path(d)
        if not folder.is_dir():
            raise InputError(folder, "no such folder (give folders written by hypnic detect --out)")
        summary = read_summary(folder / "summary.json")
        try:
            start = clock.recording_start(summary)
        except ValueError:
            raise InputError(folder / "summary.json", "start_utc is not an ISO 8601 time") from None
        if summary.nights:
            items: list[tuple[str, Night]] = [
                (f"dir:{k}:nights.{j}.", n) for j, n in enumerate(summary.nights)
            ]
        else:
            items = [(f"dir:{k}:", summary)]
        for src, night in items:
            nights.append(TrendNight(str(d), k, src, night, start, _evening(start, night)))
    seen: dict[date, TrendNight] = {}
    for n in nights:
        if n.evening is None:
            continue
        if n.evening in seen:
            other = seen[n.evening]
            raise InputError(
                n.folder,
                f"the night of {n.evening.isoformat()} is also in {other.folder}: give each night once",
            )
        seen[n.evening] = n
    dated = sorted((n for n in nights if n.evening is not None), key=lambda n: n.evening)
    return dated + [n for n in nights if n.evening is None]


def _evening(start: datetime | None, night: Night) -> date | None:
    if start is None:
        return None
    ref = night.sleep_onset_s
    if ref is None:
        ref = (night.window_s or [0.0])[0]
    return clock.evening_of(start, ref)


def link_diary(nights: list[TrendNight], entries: list[DiaryEntry]) -> list[DiaryEntry]:
    """Attach diary entries to nights by evening date; return the entries with no night."""
    by_date = {e.date: e for e in entries}
    used = set()
    for n in nights:
        if n.evening is not None and n.evening in by_date:
            n.entry = by_date[n.evening]
            used.add(n.evening)
    return [e for e in entries if e.date not in used]


def comparisons(nights: list[TrendNight]) -> list[stats.Comparison]:
    """Per tag (most frequent first) and measure: diary nights with the tag against those without."""
    linked = [(n, n.entry.tags) for n in nights if n.entry is not None]
    counts: dict[str, int] = {}
    for _, tags in linked:
        for tg in tags:
            counts[tg] = counts.get(tg, 0) + 1
    out = []
    for tg in sorted(counts, key=lambda t: (-counts[t], t)):
        for key, _label, _places in MEASURES:
            pairs = [(tg in tags, n.value(key)) for n, tags in linked if n.value(key) is not None]
            with_tag = [v for has, v in pairs if has]
            without = [v for has, v in pairs if not has]
            out.append(stats.compare(tg, key, with_tag, without))
    return out


class _Trends:
    def __init__(self, nights: list[TrendNight], diary: list[DiaryEntry] | None, lang: str) -> None:
        if lang not in LANGS:
            raise InputError("--lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
        self.nights = nights
        self.diary = diary
        self.unmatched = link_diary(nights, diary) if diary is not None else []
        self.lang = lang

    def t(self, key: str, **values: Any) -> Markup:
        return text(key, self.lang, **values)

    def diary_text(self, entry: DiaryEntry, field: str, value: str) -> Markup:
        return data(value, f"diary:{entry.line}.{field}", "text", value)

    def header(self) -> Markup:
        evenings = [n.evening for n in self.nights if n.evening is not None]
        count = number(len(self.nights), "derived:n_nights", self.lang)
        if evenings:
            first, last = evenings[0].isoformat(), evenings[-1].isoformat()
            intro = self.t(
                "trends_intro",
                n=count,
                first=data(first, "derived:first_evening", "date", first),
                last=data(last, "derived:last_evening", "date", last),
            )
        else:
            intro = self.t("trends_intro_nodates", n=count)
        parts = [tag("h1", self.t("trends_title")), tag("p", intro, class_="lead")]
        undated = len(self.nights) - len(evenings)
        if evenings and undated:
            parts.append(
                tag(
                    "p", self.t("trends_undated", n=number(undated, "derived:n_undated", self.lang))
                )
            )
        if self.diary is None:
            parts.append(tag("p", self.t("trends_no_diary"), class_="note"))
        elif self.unmatched:
            dates = join(
                [self.diary_text(e, "date", e.date.isoformat()) for e in self.unmatched], ", "
            )
            parts.append(tag("p", self.t("trends_unmatched", dates=dates)))
        parts.append(tag("p", self.t("not_diagnosis"), class_="note"))
        return join(parts)

    def over_time(self) -> Markup:
        evenings = [n.evening for n in self.nights if n.evening is not None]
        when: list[date] | list[int] = (
            evenings if len(evenings) == len(self.nights) else list(range(1, len(self.nights) + 1))
        )
        png = plots.trends_png(
            when,
            [n.value("jerks_first_30_min") for n in self.nights],
            [n.value("plms_index") for n in self.nights],
            [n.entry.tags if n.entry else () for n in self.nights],
            signs.PLMS_ADULT_PER_H,
            self.lang,
        )
        heads = [
            "col_evening",
            "col_folder",
            "col_onset",
            "col_jerks",
            "col_plmsi",
            "col_latency",
            "col_tags",
            "col_notes",
        ]
        numeric = {"col_jerks", "col_plmsi", "col_latency"}
        rows = [
            tag(
                "tr",
                join(tag("th", self.t(h), class_="n" if h in numeric else None) for h in heads),
            )
        ]
        for n in self.nights:
            rows.append(tag("tr", join(tag("td", c, class_=cls) for c, cls in self.night_cells(n))))
        return join(
            [
                tag("h2", self.t("h_over_time")),
                png_img(png, plain("plot_trends_alt", self.lang)),
                tag("p", self.t("plot_trends_caption"), class_="lead"),
                tag("div", tag("table", join(rows)), class_="scroll"),
            ]
        )

    def night_cells(self, n: TrendNight) -> list[tuple[Markup, str | None]]:
        onset = n.value("sleep_onset_s")
        if n.evening is not None:
            ref_src = f"{n.src}sleep_onset_s" if onset is not None else f"{n.src}window_s.0"
            ref = onset if onset is not None else (n.value("window_s") or [0.0])[0]
            evening = data(ref, ref_src, "evening", n.evening.isoformat())
        else:
            evening = data(None, f"{n.src}start_utc", "none", DASH)
        if onset is not None and n.start is not None:
            onset_cell = data(
                onset, f"{n.src}sleep_onset_s", "clock", fmt_clock(clock.at(n.start, onset))
            )
        else:
            onset_cell = data(None, f"{n.src}sleep_onset_s", "none", DASH)
        name = Path(n.folder).name or n.folder  # the full path is in the tooltip
        folder = tag("span", data(name, f"arg:dir.{n.k}.name", "text", name), title=n.folder)
        latency = duration(n.time_to_sleep_s(), f"derived:time_to_sleep_s:{n.src}", self.lang)
        if n.entry is not None:
            tags = self.diary_text(n.entry, "tags", "; ".join(n.entry.tags))
            notes = self.diary_text(n.entry, "notes", n.entry.notes)
        else:
            tags = notes = Markup("")
        return [
            (evening, "d"),
            (tag("span", folder, class_="src"), "d"),
            (onset_cell, "d"),
            (number(n.value("jerks_first_30_min"), f"{n.src}jerks_first_30_min", self.lang), "n"),
            (number(n.value("plms_index"), f"{n.src}plms_index", self.lang, 1), "n"),
            (latency, "n"),
            (tags, None),
            (notes, None),
        ]

    def by_tag(self) -> Markup:
        if self.diary is None:
            return Markup("")
        parts = [tag("h2", self.t("h_by_tag"))]
        comps = comparisons(self.nights)
        if not comps:
            parts.append(tag("p", self.t("by_tag_none")))
            return join(parts)
        level = number(stats.INTERVAL_LEVEL_PCT, "const:INTERVAL_LEVEL_PCT", self.lang)
        parts.append(tag("p", self.t("by_tag_intro", level=level)))
        heads = [
            "col_tag",
            "col_measure",
            "col_with",
            "col_without",
            "col_difference",
            "col_p",
            "col_reading",
        ]
        rows = [tag("tr", join(tag("th", self.t(h)) for h in heads))]
        places = {key: p for key, _label, p in MEASURES}
        labels = {key: label for key, label, _p in MEASURES}
        for c in comps:
            name = data(c.tag, "stat:tag", "text", c.tag)
            cells = [tag("td", name), tag("td", self.t(labels[c.measure]))]
            if not c.enough:
                msg = self.t(
                    "not_enough",
                    n_with=number(c.n_with, "stat:n_with", self.lang),
                    n_without=number(c.n_without, "stat:n_without", self.lang),
                    need=number(stats.MIN_NIGHTS, "const:MIN_NIGHTS", self.lang),
                )
                cells.append(tag("td", msg, colspan="5"))
            else:
                pl = places[c.measure]
                cells += [
                    tag(
                        "td",
                        number(c.mean_with, "stat:mean_with", self.lang, pl),
                        " (",
                        self.t("nights_count", n=number(c.n_with, "stat:n_with", self.lang)),
                        ")",
                    ),
                    tag(
                        "td",
                        number(c.mean_without, "stat:mean_without", self.lang, pl),
                        " (",
                        self.t("nights_count", n=number(c.n_without, "stat:n_without", self.lang)),
                        ")",
                    ),
                    tag(
                        "td",
                        number(c.difference, "stat:difference", self.lang, pl),
                        " (",
                        number(c.low, "stat:low", self.lang, pl),
                        " … ",
                        number(c.high, "stat:high", self.lang, pl),
                        ")",
                        class_="d",
                    ),
                    tag(
                        "td",
                        number(
                            c.p, "stat:p", self.lang, 3 if c.p is not None and c.p < 0.01 else 2
                        ),
                        class_="n",
                    ),
                    tag("td", self.t(f"reading_{c.reading}")),
                ]
            rows.append(tag("tr", join(cells), data_tag=c.tag, data_measure=c.measure))
        parts.append(tag("div", tag("table", join(rows)), class_="scroll"))
        return join(parts)

    def html(self) -> str:
        version = data(__version__, "software:version", "text", __version__)
        body = join(
            [
                self.header(),
                self.over_time(),
                self.by_tag(),
                tag("footer", tag("p", self.t("trends_footer", version=version))),
            ]
        )
        return page(plain("trends_title", self.lang), self.lang, body)


def build_trends_html(
    dirs: Sequence[str | Path], diary: str | Path | None = None, lang: str = "en"
) -> str:
    """The trends page of the given detect output folders (and diary) as an HTML document.

    Raises
    ------
    InputError
        For an unreadable folder or diary, a bad diary row, or the same night given twice.
    """
    if not dirs:
        raise InputError(None, "give at least one folder written by hypnic detect")
    entries = read_diary(diary) if diary is not None else None
    return _Trends(load_nights(dirs), entries, lang).html()


def write_trends_report(
    dirs: Sequence[str | Path], out: str | Path, diary: str | Path | None = None, lang: str = "en"
) -> Path:
    """Write the trends page to ``out``; return its path."""
    target = check_target(Path(out))
    return write_html(target, build_trends_html(dirs, diary, lang))
