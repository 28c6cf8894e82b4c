"""The night report: one self-contained HTML page per detect output folder (issue 6 §1).

Sections: the night in numbers (with when the sensor was not worn and why, from the detector's
evidence), plots (timeline with the sensor's temperature where it has one, falling asleep, each
hypnic jerk), what the numbers mean, signs worth discussing with a GP (only those the data point
at) with the questions only the wearer can answer, every night of a long recording, and method
and provenance.

Every number shown is tagged with where it comes from (see :mod:`hypnic.report.markup`); the
``derived:`` sources are computed here from ``summary.json`` and ``events.csv`` only.
"""

from __future__ import annotations

import json
import math
from dataclasses import is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from hypnic.detector import vocabulary
from hypnic.detector.results import Event, NightSummary
from hypnic.detector.vocabulary import PLACEMENTS, UNKNOWN
from hypnic.recordings.errors import InputError
from hypnic.report import clock, plots, signs
from hypnic.report.folder import NightFolder, read_folder
from hypnic.report.markup import (
    DASH,
    Markup,
    check_target,
    data,
    duration,
    esc,
    fmt_clock,
    join,
    number,
    page,
    png_img,
    tag,
    text_value,
    write_html,
)
from hypnic.report.texts import LANGS, plain, reason_text, text

#: A snippet belongs to a jerk whose onset (events.csv, 6 significant digits) is this close.
SNIPPET_MATCH_S = 0.5
#: Checklist of questions only the wearer can answer (text keys).
QUESTIONS = ("q_rls", "q_sleepy", "q_meds", "q_later", "q_breathing", "q_harm")
#: What the sensor did in a non-wear span, by evidence name (summary.json ``nonwear_evidence``;
#: detector/nonwear.py), in the order a sentence tells them.
NONWEAR_DOINGS = (
    ("temperature_drop", "nw_cooled"),
    ("temperature_low", "nw_cold"),
    ("no_movement_60min", "nw_still_hour"),
    ("no_movement", "nw_still"),  # left out when the hour-long stillness is told
    ("no_breathing", "nw_no_breathing"),
    ("temperature_rise", "nw_warmed"),
)
#: Temperature arrays of traces.npz (hypnic.pipeline.night_traces), where the sensor had one.


def lookup(obj: Any, path: str) -> Any:
    """``lookup(summary, "counts.plm")``: a summary's field, a key of a mapping it holds, a list
    item by number (``"nights.0.plms_index"``); None where there is none."""
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        elif isinstance(obj, dict):
            obj = obj.get(part)
        elif is_dataclass(obj):
            obj = getattr(obj, part, None)
        else:
            return None
    return obj


def span_total(spans: Any) -> float:
    """Total length of ``[[start, end], ...]`` (seconds)."""
    return float(sum(e - s for s, e in spans or []))


class _Night:
    """One report being built: the folder, the language and the helpers that tag numbers."""

    def __init__(self, folder: NightFolder, lang: str, lights_off: str | None) -> None:
        if lang not in LANGS:
            raise InputError("--lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")
        self.s = folder.summary
        self.events = folder.events
        self.traces = folder.traces
        self.lang = lang
        self.lights_off = (
            None if lights_off is None else clock.parse_hhmm(lights_off, "--lights-off")
        )
        self.lights_off_text = lights_off
        try:
            self.start: datetime | None = clock.recording_start(self.s)
        except ValueError:
            raise InputError(
                folder.path / "summary.json", "start_utc is not an ISO 8601 time"
            ) from None
        window = self.s.window_s or [0.0, self.s.duration_s]
        self.window = (float(window[0]), float(window[1]))

    # --- tagged values ----------------------------------------------------------------------
    def t(self, key: str, **values: Any) -> Markup:
        return text(key, self.lang, **values)

    def n(self, path: str, places: int = 0) -> Markup:
        return number(lookup(self.s, path), f"summary:{path}", self.lang, places)

    def when(self, seconds: float | None, src: str) -> Markup:
        """Clock time of ``seconds`` from the start, or the time after the start without a clock."""
        if seconds is None:
            return data(None, src, "none", DASH)
        if self.start is None:
            return self.t("after_start", time=duration(seconds, src, self.lang))
        return data(seconds, src, "clock", fmt_clock(clock.at(self.start, seconds)))

    def evening(self, seconds: float, src: str) -> Markup:
        assert self.start is not None
        return data(seconds, src, "evening", clock.evening_of(self.start, seconds).isoformat())

    def const(self, name: str, places: int = 0) -> Markup:
        return number(signs.constant(name), f"const:{name}", self.lang, places)

    def from_file(self, value: Any, src: str) -> Markup:
        """A value of the file shown as is (provenance tables)."""
        if isinstance(value, (dict, list)) and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            shown = json.dumps(value, ensure_ascii=False)
            return data(shown, src, "json", shown)
        if isinstance(value, bool) or value is None:
            return data(json.dumps(value), src, "json", json.dumps(value))
        if isinstance(value, (int, float)):
            return data(value, src, "raw", repr(value))
        return text_value(value, src)

    def placement_word(self) -> Markup:
        place = str(self.s.placement or UNKNOWN)
        try:
            return esc(plain(f"placement_{place}", self.lang))
        except KeyError:
            return text_value(place, "summary:placement")

    def at_wrist(self) -> bool:
        """The night's one sensor was at a wrist (no leg movements scored: the vocabulary's
        placements; two sensors, named ``A+B``, are not one wrist)."""
        place = self.s.placement
        return place in PLACEMENTS and vocabulary.placement(place).wrist

    def placement_row(self) -> Markup:
        """The placement in words, and as the file says it where that differs."""
        word, raw = self.placement_word(), str(self.s.placement or "")
        if word == esc(raw):
            return word
        return join([word, " (", text_value(raw, "summary:placement"), ")"])

    def reason(self, path: str) -> Markup:
        """A reason string of the file, in the page's language where it has a translation."""
        raw = str(lookup(self.s, path) or "")
        shown = reason_text(raw, self.lang)
        return tag(
            "data",
            shown,
            value=raw,
            data_src=f"summary:{path}",
            data_fmt="reason",
            lang=self.lang if shown != raw or self.lang == "en" else "en",
        )

    # --- sections ---------------------------------------------------------------------------
    def header(self) -> Markup:
        onset = self.s.sleep_onset_s
        if self.start is not None:
            ref, src = (
                (onset, "summary:sleep_onset_s")
                if onset is not None
                else (self.window[0], "derived:window_start_s")
            )
            intro = self.t("night_intro", date=self.evening(ref, src))
        else:
            intro = self.t("night_intro_nodate")
        parts = [
            tag("h1", self.t("night_title")),
            tag("p", intro, class_="lead"),
            tag(
                "p",
                self.t(
                    "source_line",
                    source=text_value(self.s.source, "summary:source"),
                    placement=self.placement_word(),
                ),
            ),
        ]
        if self.s.placement_note or self.s.placement == UNKNOWN:
            parts.append(tag("p", self.t("placement_note")))
        parts.append(tag("p", self.t("not_diagnosis"), class_="note"))
        return join(parts)

    def card(self, what: str, big: Markup | None, more: Markup | None) -> Markup:
        return tag(
            "div",
            tag("span", self.t(what), class_="what"),
            tag("span", big, class_="big") if big is not None else "",
            tag("span", more, class_="more") if more is not None else "",
            class_="card",
        )

    def cards(self) -> Markup:
        s = self.s
        onset = s.sleep_onset_s
        cards = []
        total = self.n("counts.hypnic_jerk")
        if s.jerks_first_30_min is not None:
            more = self.t(
                "card_jerks_more",
                before=self.const("JERK_WINDOW_BEFORE_MIN"),
                after=self.const("JERK_WINDOW_AFTER_MIN"),
                total=total,
            )
        else:
            more = self.t("card_jerks_none", total=total)
        cards.append(self.card("card_jerks_what", self.n("jerks_first_30_min"), more))

        if self.at_wrist():
            cards.append(self.card("card_legs_what", None, self.t("card_legs_wrist")))
        else:
            counts = s.counts or {}
            legs = (counts.get("plm") or 0) + (counts.get("lm") or 0)
            cards.append(
                self.card(
                    "card_legs_what",
                    number(legs, "derived:legs_total", self.lang),
                    self.t("card_legs_more", plm=self.n("counts.plm")),
                )
            )
            if s.plms_index is None:
                more = self.t("card_plmsi_none", reason=self.reason("plms_index_reason"))
            else:
                more = self.t("card_plmsi_more", pi=self.n("periodicity_index", 2))
                if s.plms_index_reason:
                    more = join(
                        [
                            more,
                            " ",
                            self.t("card_plmsi_caveat", reason=self.reason("plms_index_reason")),
                        ]
                    )
            cards.append(self.card("card_plmsi_what", self.n("plms_index", 1), more))

        turns = signs.in_sleep(self.events, s, ("large_movement",))
        cards.append(
            self.card(
                "card_turns_what",
                self.n("counts.large_movement"),
                self.t(
                    "card_turns_more",
                    in_sleep=number(turns, "derived:turns_in_sleep", self.lang),
                    per_h=number(
                        signs.per_hour_of_sleep(turns, s),
                        "derived:turns_in_sleep_per_h",
                        self.lang,
                        1,
                    ),
                    other=self.n("counts.other"),
                ),
            )
        )

        if onset is not None:
            win = s.sleep_onset_window_s or [None, None]
            how = self.t(
                "onset_given" if s.sleep_onset_source == "given" else "onset_detected"
            )
            cards.append(
                self.card(
                    "card_onset_what",
                    self.when(onset, "summary:sleep_onset_s"),
                    self.t(
                        "card_onset_more",
                        early=self.when(win[0], "summary:sleep_onset_window_s.0"),
                        late=self.when(win[1], "summary:sleep_onset_window_s.1"),
                        how=how,
                    ),
                )
            )
            cards.append(
                self.card(
                    "card_period_what",
                    duration(s.sleep_period_s, "summary:sleep_period_s", self.lang),
                    self.t(
                        "card_period_more",
                        end=self.when(s.sleep_end_s, "summary:sleep_end_s"),
                    ),
                )
            )
        else:
            cards.append(
                self.card(
                    "card_onset_what",
                    data(None, "summary:sleep_onset_s", "none", DASH),
                    self.t("card_onset_none", reason=self.reason("sleep_onset_reason")),
                )
            )
        cards.append(self.latency_card(onset))
        cards.append(
            self.card(
                "card_quality_what",
                duration(s.duration_s, "summary:duration_s", self.lang),
                self.quality(),
            )
        )
        return join([tag("div", join(cards), class_="cards"), self.nonwear_list()])

    def quality(self) -> Markup:
        """Gaps, non-wear and idle time of the recording, and how non-wear was judged."""
        s = self.s
        parts = [
            self.t(
                "card_quality_more",
                n_gaps=number(len(s.gaps or []), "derived:gaps_n", self.lang),
                gap_time=duration(span_total(s.gaps), "derived:gaps_total_s", self.lang),
                nonwear=duration(
                    span_total(s.nonwear), "derived:nonwear_total_s", self.lang
                ),
            )
        ]
        if s.idle:
            parts.append(
                self.t(
                    "card_quality_idle",
                    idle_n=number(len(s.idle), "derived:idle_n", self.lang),
                    idle_time=duration(span_total(s.idle), "derived:idle_total_s", self.lang),
                )
            )
        if s.temperature_available is False:  # older outputs do not say
            parts.append(self.t("card_quality_notemp"))
        return join(parts, " ")

    def nonwear_list(self) -> Markup:
        """Each span of the night's window in which the sensor was not worn, and why."""
        a, b = self.window
        spans = self.s.nonwear or []
        evidence = self.s.nonwear_evidence or []
        items = []
        for i, (start, end) in enumerate(spans):
            if not (end > a and start < b):
                continue
            src = f"summary:nonwear.{i}"
            values = {
                "start": self.when(start, f"{src}.0"),
                "end": self.when(end, f"{src}.1"),
                "length": duration(end - start, f"derived:nonwear_length_s.{i}", self.lang),
            }
            names = evidence[i] if i < len(evidence) and isinstance(evidence[i], list) else []
            why = self.nonwear_why(names, start, end)
            if why is None:
                items.append(tag("li", self.t("nw_span_plain", **values)))
            else:
                items.append(tag("li", self.t("nw_span", why=why, **values)))
        if not items:
            return Markup("")
        return join([tag("h3", self.t("h_nonwear")), tag("ul", join(items))])

    def nonwear_why(self, names: list[str], start: float, end: float) -> Markup | None:
        """What the sensor did in a non-wear span, from its evidence names (None: nothing known)."""
        names = [str(n) for n in names]
        doings = [
            self.t(key)
            for name, key in NONWEAR_DOINGS
            if name in names and not (name == "no_movement" and "no_movement_60min" in names)
        ]
        context = []
        if "recording_edge" in names:
            # the nearer edge: put on after the start, or taken off before the end
            at_start = start <= float(self.s.duration_s or end) - end
            context.append(self.t("nw_edge_start" if at_start else "nw_edge_end"))
        if "awake_around" in names:
            context.append(self.t("nw_awake"))
        if not doings:
            if not context:
                return None
            doings = [self.t("nw_still")]  # every non-wear span is still (detector/nonwear.py)
        told = doings[0]
        if len(doings) > 1:
            told = self.t("nw_and", first=join(doings[:-1], ", "), last=doings[-1])
        return join([told, *context], ", ")

    def latency_card(self, onset: float | None) -> Markup:
        if self.lights_off is None:
            return self.card("card_latency_what", None, self.t("card_latency_ask"))
        if self.start is None:
            return self.card("card_latency_what", None, self.t("card_latency_noclock"))
        if onset is None:
            return self.card(
                "card_latency_what", data(None, "derived:time_to_sleep_s", "none", DASH), None
            )
        typed = (self.lights_off_text or "").strip()
        lights = data(typed, "option:lights_off", "text", typed)
        latency = onset - clock.lights_off_near(self.start, self.lights_off, onset)
        if latency < 0:
            return self.card("card_latency_what", None, self.t("card_latency_after", lights=lights))
        return self.card(
            "card_latency_what",
            duration(latency, "derived:time_to_sleep_s", self.lang),
            self.t("card_latency_more", lights=lights),
        )

    def plots(self) -> Markup:
        a, b = self.window
        parts = [tag("h2", self.t("h_plots"))]
        if self.traces is None:
            parts.append(tag("p", self.t("no_traces"), class_="note"))
        png = plots.timeline_png(self.s, self.events, self.traces, self.start, self.lang)
        panels = plots.timeline_panels(self.s, self.traces)
        with_temp = "temperature" in panels
        alt = "plot_timeline_alt_temp" if with_temp else "plot_timeline_alt"
        parts.append(png_img(png, plain(alt, self.lang)))
        if self.traces is None:
            cap = self.t("plot_events_caption")
        else:
            cap = self.t("plot_timeline_caption_temp" if with_temp else "plot_timeline_caption")
        parts.append(tag("p", self.with_idle(cap, a, b), class_="lead"))

        parts.append(tag("h2", self.t("h_zoom")))
        if self.s.sleep_onset_s is None:
            parts.append(tag("p", self.t("zoom_none")))
        else:
            png = plots.onset_zoom_png(
                self.s, self.events, self.traces, signs.jerk_window_s(), self.lang
            )
            parts.append(png_img(png, plain("plot_zoom_alt", self.lang)))
            on, (lo, hi) = float(self.s.sleep_onset_s), signs.jerk_window_s()
            cap = self.with_idle(
                self.t("plot_zoom_caption"),
                on + lo - plots.ZOOM_MARGIN_S,
                on + hi + plots.ZOOM_MARGIN_S,
            )
            parts.append(tag("p", cap, class_="lead"))

        parts.append(tag("h2", self.t("h_jerks")))
        jerks = [
            (i, e)
            for i, e in enumerate(self.events)
            if e.label == "hypnic_jerk" and a <= e.onset_s < b
        ]
        if not jerks:
            parts.append(tag("p", self.t("jerks_none")))
            return join(parts)
        parts.append(tag("p", self.t("jerks_intro")))
        if len(jerks) > signs.MAX_CLOSEUPS:
            parts.append(
                tag(
                    "p",
                    self.t(
                        "jerks_more",
                        shown=self.const("MAX_CLOSEUPS"),
                        total=self.n("counts.hypnic_jerk"),
                    ),
                )
            )
        shown = jerks[: signs.MAX_CLOSEUPS]
        snips = [self._snippet(e.onset_s) for _, e in shown]
        pngs: dict[int, bytes] = {}
        if self.traces is not None:
            found = sorted({k for k in snips if k is not None})
            traces = [
                (self.traces["snippet_t_s"][k], self.traces["snippet_xyz_g"][k]) for k in found
            ]
            pngs = dict(zip(found, plots.jerk_pngs(traces, self.lang), strict=True))
        figures = [
            self.closeup(i, e, None if k is None else pngs[k])
            for (i, e), k in zip(shown, snips, strict=True)
        ]
        parts.append(tag("div", join(figures), class_="closeups"))
        return join(parts)

    def with_idle(self, caption: Markup, a: float, b: float) -> Markup:
        """A plot's caption, saying what the idle strip is where the plot shows one."""
        if not any(e > a and s < b for s, e in self.s.idle or []):
            return caption
        return join([caption, " ", self.t("plot_idle_caption")])

    def closeup(self, i: int, ev: Event, png: bytes | None) -> Markup:
        src = f"events:{i}"
        when = self.when(ev.onset_s, f"{src}.onset_s")
        peak = number(ev.peak_g, f"{src}.peak_g", self.lang, 3)
        if ev.minutes_from_onset is not None:
            minutes = number(ev.minutes_from_onset, f"{src}.minutes_from_onset", self.lang, 1)
            cap = self.t("jerk_caption", when=when, minutes=minutes, peak=peak)
        else:
            cap = self.t("jerk_caption_noonset", when=when, peak=peak)
        if png is None:
            body: Markup = tag("p", self.t("jerk_no_trace"))
        else:
            body = png_img(png, plain("plot_jerk_alt", self.lang))
        return tag("figure", body, tag("figcaption", cap))

    def _snippet(self, onset_s: float) -> int | None:
        if self.traces is None or self.traces["snippet_onset_s"].size == 0:
            return None
        d = np.abs(self.traces["snippet_onset_s"] - onset_s)
        k = int(np.argmin(d))
        return k if d[k] <= SNIPPET_MATCH_S else None

    def meaning(self) -> Markup:
        parts = [tag("h2", self.t("h_meaning"))]
        for key in ("mean_jerks", "mean_jerks_more", "mean_onset"):
            parts.append(tag("p", self.t(key)))
        if not self.at_wrist():
            parts.append(tag("p", self.t("mean_legs")))
            parts.append(tag("p", self.t("mean_legs_method")))
            parts.append(
                tag(
                    "p", self.t("mean_legs_nights", diff=self.const("PLMS_NIGHT_TO_NIGHT_PER_H", 1))
                )
            )
        parts.append(
            tag("p", self.t("mean_turns", median=self.const("TURNS_HEALTHY_MEDIAN_PER_H", 1)))
        )
        return join(parts)

    def gp(self) -> Markup:
        parts = [tag("h2", self.t("h_gp"))]
        found = signs.signs(self.s, self.events)
        if found:
            parts.append(tag("p", self.t("gp_intro")))
            for sg in found:
                places = 0 if sg.key == "jerks" else 1
                values = {
                    "value": number(sg.value, sg.src, self.lang, places),
                    "limit": number(sg.limit, sg.limit_src, self.lang, 0),
                }
                if sg.key == "plms":
                    values["ref"] = tag("cite", signs.PLMS_ADULT_REF)
                parts.append(tag("div", self.t(f"sign_{sg.key}", **values), class_="sign"))
        else:
            parts.append(tag("p", self.t("gp_none"), class_="calm"))
        parts.append(tag("h3", self.t("h_check")))
        parts.append(tag("p", self.t("check_intro")))
        items = [
            tag("li", tag("label", tag("input", type="checkbox"), " ", self.t(q)))
            for q in QUESTIONS
        ]
        parts.append(tag("ul", join(items), class_="check"))
        return join(parts)

    def nights(self) -> Markup:
        nights = self.s.nights
        if not nights:
            return Markup("")
        head = ["col_evening", "col_onset", "col_jerks", "col_plmsi", "col_turns", "col_nonwear"]
        rows = [
            tag(
                "tr",
                join(
                    tag("th", self.t(h), class_="n" if i > 1 else None) for i, h in enumerate(head)
                ),
            )
        ]
        for j, night in enumerate(nights):
            p = f"nights.{j}"
            onset = night.sleep_onset_s
            if self.start is None:
                evening: Markup = data(None, f"summary:{p}.window_s.0", "none", DASH)
            elif onset is not None:
                evening = self.evening(onset, f"summary:{p}.sleep_onset_s")
            else:
                evening = self.evening(night.window_s[0], f"summary:{p}.window_s.0")
            cells = [
                tag("td", evening, class_="d"),
                tag("td", self.when(onset, f"summary:{p}.sleep_onset_s"), class_="d"),
                tag("td", self.n(f"{p}.jerks_first_30_min"), class_="n"),
                tag("td", self.n(f"{p}.plms_index", 1), class_="n"),
                tag("td", self.n(f"{p}.counts.large_movement"), class_="n"),
                tag(
                    "td",
                    duration(
                        span_total(night.nonwear) if night.nonwear is not None else None,
                        f"derived:{p}.nonwear_total_s",
                        self.lang,
                    ),
                    class_="n",
                ),
            ]
            rows.append(tag("tr", join(cells)))
        return join(
            [
                tag("h2", self.t("h_nights")),
                tag("p", self.t("nights_intro")),
                tag("div", tag("table", join(rows)), class_="scroll"),
            ]
        )

    def method(self) -> Markup:
        s = self.s
        params = s.parameters or {}
        rows = [
            (
                "m_software",
                join(
                    [
                        text_value(s.software, "summary:software"),
                        " ",
                        text_value(s.version, "summary:version"),
                    ]
                ),
            ),
            ("m_source", text_value(s.source, "summary:source")),
            (
                "m_start",
                text_value(s.start_utc, "summary:start_utc")
                if s.start_utc
                else self.t("m_none"),
            ),
        ]
        if self.start is not None:
            tz = clock.utc_offset_label(self.start)
            rows.append(("m_timezone", data(tz, "derived:timezone", "text", tz)))
        rows += [
            ("m_fs", self.n("fs_hz", 2)),
            ("m_samples", self.n("n_samples")),
            ("m_duration", duration(s.duration_s, "summary:duration_s", self.lang)),
            ("m_placement", self.placement_row()),
            (
                "m_placement_source",
                text_value(params.get("placement_source"), "summary:parameters.placement_source"),
            ),
            ("m_rules", text_value(s.rules, "summary:rules")),
            ("m_labelling", text_value(params.get("labelling"), "summary:parameters.labelling")),
            (
                "m_onset_source",
                text_value(s.sleep_onset_source, "summary:sleep_onset_source"),
            ),
        ]
        table = tag(
            "table",
            join(tag("tr", tag("th", self.t(k)), tag("td", v)) for k, v in rows),
            class_="kv",
        )
        parts = [
            tag("h2", self.t("h_method")),
            tag("p", self.t("method_intro")),
            tag("div", table, class_="scroll"),
        ]
        for title, path in (("m_params", "parameters.burst_detector"), ("m_device", "device")):
            block = lookup(s, path)
            if isinstance(block, dict) and block:
                parts.append(tag("h3", self.t(title)))
                parts.append(tag("div", self.key_table(block, path), class_="scroll"))
        return join(parts)

    def key_table(self, block: dict[str, Any], path: str) -> Markup:
        rows = []
        for key, value in block.items():
            k = f"{path}.{key}"
            name = data(key, f"key:summary:{k}", "key", key)
            rows.append(
                tag(
                    "tr",
                    tag("th", tag("code", name)),
                    tag("td", tag("code", self.from_file(value, f"summary:{k}"))),
                )
            )
        return tag("table", join(rows), class_="kv")

    def footer(self) -> Markup:
        return tag(
            "footer",
            tag(
                "p", self.t("footer", version=text_value(self.s.version, "summary:version"))
            ),
        )

    def html(self) -> str:
        body = join(
            [
                self.header(),
                tag("h2", self.t("h_numbers")),
                self.cards(),
                self.plots(),
                self.meaning(),
                self.gp(),
                self.nights(),
                self.method(),
                self.footer(),
            ]
        )
        return page(plain("night_title", self.lang), self.lang, body)


def build_night_html(folder: NightFolder, lang: str = "en", lights_off: str | None = None) -> str:
    """The report of one detect output as an HTML document.

    Parameters
    ----------
    folder : NightFolder
        What :func:`hypnic.report.folder.read_folder` read.
    lang : {"en", "nl"}
    lights_off : str, optional
        ``HH:MM`` when the lights went out; the report then shows the time to fall asleep.

    Raises
    ------
    InputError
        For a bad ``lang`` or ``lights_off``, or a summary whose start time is not ISO 8601.
    """
    return _Night(folder, lang, lights_off).html()


def _plain_json(obj: Any) -> Any:
    """What ``summary.json`` holds for ``obj``: numpy values as lists/numbers, NaN as null."""
    if isinstance(obj, dict):
        return {str(k): _plain_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain_json(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _plain_json(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _folder_from_analysis(dir_path: Path, analysis: Any) -> NightFolder:
    """The report's view of an analysis not written yet: what its files will hold."""
    events = [Event.from_dict(_plain_json(e.as_dict())) for e in analysis.events]
    summary = NightSummary.from_dict(_plain_json(analysis.summary.as_dict()))
    return NightFolder(dir_path, summary, events, analysis.traces)


def write_night_report(
    dir_path: str | Path,
    analysis: Any = None,
    lang: str = "en",
    lights_off: str | None = None,
    out: str | Path | None = None,
) -> Path:
    """Write the night report of a detect output folder; return the path of the HTML file.

    Parameters
    ----------
    dir_path : str or Path
        The folder holding ``summary.json``, ``events.csv`` and (optionally) ``traces.npz``.
    analysis : hypnic.pipeline.Analysis, optional
        Used when the folder does not hold ``summary.json`` yet (a caller that reports before
        its outputs are moved into place); the files win when they are there.
    lang : {"en", "nl"}
    lights_off : str, optional
        ``HH:MM`` lights-out time (shows the time to fall asleep).
    out : str or Path, optional
        The HTML file (default ``dir_path/report.html``).

    Raises
    ------
    InputError
        When the folder cannot be read or the report cannot be written.
    """
    dir_path = Path(dir_path)
    if analysis is not None and not (dir_path / "summary.json").is_file():
        folder = _folder_from_analysis(dir_path, analysis)
    else:
        folder = read_folder(dir_path)
    target = check_target(Path(out) if out is not None else dir_path / "report.html")
    written = write_html(target, build_night_html(folder, lang, lights_off))
    if out is None:  # DIR/report.html: listed among our files, so a later detect may replace it
        from hypnic.recordings.outputs import note_written

        note_written(dir_path, [target.name])
    return written
