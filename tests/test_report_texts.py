"""Texts in both languages, escaping, and the number formats of the report pages."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.report import markup
from hypnic.report.markup import Markup, esc, fmt_decimal, fmt_duration, tag
from hypnic.report.texts import LANGS, TEXTS, placeholders, text

PACKAGE = Path(__file__).resolve().parents[1] / "hypnic" / "report"


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_key_has_both_languages_and_dutch_is_not_english(key):
    entry = TEXTS[key]
    assert set(entry) == set(LANGS)
    assert all(entry[lang].strip() for lang in LANGS)
    assert entry["nl"] != entry["en"], f"{key}: the Dutch text is the English one"


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_both_languages_take_the_same_placeholders(key):
    import string

    fields = {
        lang: {f for _, f, _, _ in string.Formatter().parse(TEXTS[key][lang]) if f}
        for lang in LANGS
    }
    assert fields["en"] == fields["nl"] == placeholders(key)


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_texts_hold_no_numbers_and_no_markup(key):
    # Numbers are placeholders filled with tagged values, so each can be traced to a file.
    for lang in LANGS:
        assert not re.search(r"\d", TEXTS[key][lang]), f"{key}/{lang} has a digit"
        assert "<" not in TEXTS[key][lang] and ">" not in TEXTS[key][lang]


def test_every_key_is_used_and_every_used_key_exists():
    source = "\n".join(p.read_text() for p in PACKAGE.glob("*.py") if p.name != "texts.py")
    dynamic = set(re.findall(r'f"(\w+_)\{', source))  # f"label_{...}", f"sign_{...}" ...
    unused = [
        k for k in TEXTS if f'"{k}"' not in source and not any(k.startswith(p) for p in dynamic)
    ]
    assert unused == []
    literal_calls = re.findall(r'(?:self\.t|text|plain)\(\s*"(\w+)"', source)
    assert literal_calls and [k for k in literal_calls if k not in TEXTS] == []


def test_text_escapes_values_but_not_markup():
    out = text("card_plmsi_none", "en", reason="<b>bad</b>")
    assert out == "Not available: &lt;b&gt;bad&lt;/b&gt;"
    out = text("card_plmsi_none", "nl", reason=Markup("<data>x</data>"))
    assert out == "Niet beschikbaar: <data>x</data>"
    with pytest.raises(KeyError):
        text("card_plmsi_none", "en")


@given(st.text())
def test_escaped_text_holds_no_markup_and_reads_back_the_same(s):
    e = esc(s)
    assert not set("<>\"'") & set(e)
    assert html.unescape(e) == s
    assert esc(e) == e  # Markup is not escaped twice


@given(st.text(), st.text())
def test_attributes_are_escaped(name_value, content):
    out = tag("span", content, title=name_value, data_src=name_value)
    assert out.count("<") == 2 and out.count(">") == 2
    assert out.startswith('<span title="') and out.endswith("</span>")


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 4))
def test_decimals_read_back_within_rounding(value, places):
    for lang in LANGS:
        shown = fmt_decimal(value, places, lang)
        if lang == "nl":
            assert "." not in shown
        assert abs(float(shown.replace(",", ".")) - value) <= 0.5 * 10**-places * (1 + 1e-9) + 1e-9
        assert not re.fullmatch(r"-0([.,]0*)?", shown)  # no negative zero


@given(st.floats(min_value=0, max_value=7 * 86400, allow_nan=False))
def test_durations_read_back_within_a_minute(seconds):
    for lang, hour in (("en", "h"), ("nl", "u")):
        shown = fmt_duration(seconds, lang)
        m = re.fullmatch(rf"(?:(\d+) {hour} (\d\d) min|(\d+) min|(\d+) s)", shown)
        assert m, shown
        if m.group(1):
            back, tol = int(m.group(1)) * 3600 + int(m.group(2)) * 60, 30
        elif m.group(3):
            back, tol = int(m.group(3)) * 60, 30
        else:
            back, tol = int(m.group(4)), 0.5
        assert abs(back - seconds) <= tol + 1e-6


def test_numbers_are_tagged_with_their_source():
    assert (
        markup.number(3, "summary:x", "en")
        == '<data value="3" data-src="summary:x" data-fmt="int">3</data>'
    )
    assert markup.number(2.25, "summary:y", "nl", 1) == (
        '<data value="2.25" data-src="summary:y" data-fmt="dec1">2,2</data>'
    )
    assert markup.number(None, "summary:z", "en", 1).endswith(">—</data>")


def test_page_forbids_scripts_and_network():
    page = markup.page("t", "nl", Markup("<p>x</p>"))
    assert "default-src 'none'; img-src data:" in html.unescape(page) and '<html lang="nl">' in page


def _detector_reasons() -> set[str]:
    """Every reason string the detector can write (literals assigned to a ``reason`` or a
    ``..._REASON`` constant)."""
    root = Path(__file__).resolve().parents[1]
    found = set()
    for path in (root / "detector").glob("*.py"):
        src = path.read_text()
        found |= set(re.findall(r'reason"?\]?\s*=\s*\(?\s*"([^"]+)"', src, re.IGNORECASE))
    return found


def test_every_reason_the_detector_writes_has_a_dutch_text():
    from hypnic.report.texts import REASONS, reason_text

    reasons = _detector_reasons()
    assert len(reasons) >= 8  # the scan does find them
    assert reasons <= set(REASONS), reasons - set(REASONS)
    for r in reasons:
        assert reason_text(r, "en") == r and reason_text(r, "nl") != r
    assert reason_text("something new", "nl") == "something new"


#: Texts that tell a wearer about the sensor's wear, idle time and temperature: plain words, no
#: command, file, path or name from a file.
WEAR_KEYS = sorted(
    k
    for k in TEXTS
    if k.startswith(("nw_", "card_quality_", "h_nonwear", "plot_idle", "legend_"))
    or k in ("ax_temperature", "plot_timeline_caption_temp", "plot_timeline_alt_temp")
)


@pytest.mark.parametrize("key", WEAR_KEYS)
def test_wear_texts_are_plain_words(key):
    for lang in LANGS:
        said = re.sub(r"\{\w+\}", "", TEXTS[key][lang]).lower()  # placeholders are filled in
        for developer in ("hypnic", "--", ".npz", ".json", ".csv", "/", "_", "nonwear"):
            assert developer not in said, f"{key}/{lang}: {developer!r}"


def test_every_evidence_the_detector_writes_is_told_in_both_languages(monkeypatch):
    """A new evidence name in detector/nonwear.py must get words in the report."""
    from hypnic.detector.nonwear import EVIDENCE
    from hypnic.report import plots
    from hypnic.report.night import build_night_html
    from tests.test_report_night import TINY_PNG, _folder, words

    monkeypatch.setattr(plots, "timeline_png", lambda *a, **k: TINY_PNG)
    monkeypatch.setattr(plots, "onset_zoom_png", lambda *a, **k: TINY_PNG)
    told: dict[str, set[str]] = {lang: set() for lang in LANGS}
    for name in EVIDENCE:
        for lang in LANGS:
            page = build_night_html(
                _folder({"nonwear": [[7200.0, 7800.0]], "nonwear_evidence": [[name]]}, []), lang
            )
            item = words(re.search(r"<h3>[^<]*</h3><ul><li>(.*?)</li>", page).group(1))
            sensor = {"en": "the sensor ", "nl": "de sensor "}[lang]
            assert sensor in item, f"{name} ({lang}) is not told: {item!r}"
            told[lang].add(item)
    assert len(told["en"]) == len(EVIDENCE) == len(told["nl"])  # each in words of its own
