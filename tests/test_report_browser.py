"""The night report of a synthetic night in headless Chromium: plots load, no console errors.

Chromium is found or installed by :mod:`tests.test_report_chromium` (skipped with a message
where it cannot be had, except under ``CI=true`` where it must run). Screenshots are written to
``$HYPNIC_SCREENSHOTS`` when set (to look at them), else to the test's temporary folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hypnic.report.night import write_night_report
from tests.test_report_chromium import browser, check_page  # noqa: F401  (browser is a fixture)
from tests.test_report_night import ANKLE, make_night_dir


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("HYPNIC_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        return Path(where)
    return tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def night_dir(tmp_path_factory) -> Path:
    return make_night_dir(tmp_path_factory.mktemp("night") / "out", **ANKLE)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_night_report_renders_in_chromium(browser, night_dir, shots, lang):  # noqa: F811
    page = write_night_report(
        night_dir, lang=lang, lights_off="22:40", out=night_dir / f"report-{lang}.html"
    )
    facts = check_page(browser, page, shots, f"night-{lang}")
    n_jerks = browser.js("document.querySelectorAll('.closeups img').length")
    assert facts["phone"]["images"] == 2 + n_jerks and n_jerks > 0
    assert browser.js("document.documentElement.lang") == lang
    # the numbers the reader sees are the tagged ones (the static test checks them against the files)
    shown = browser.js("Array.from(document.querySelectorAll('data')).map(d => d.textContent)")
    assert len(shown) > 40 and all(s.strip() for s in shown)
    words = browser.js("document.body.innerText")
    assert ("inslaapschok" in words.lower()) == (lang == "nl")
    assert "undefined" not in words and "None" not in words and "nan" not in words.split()
