"""The trends page over eight nights with a diary, in headless Chromium.

Chromium comes from :mod:`tests.test_report_chromium` (installed under ``CI=true``, else the test
is skipped with a message). Screenshots go to ``$HYPNIC_SCREENSHOTS`` when set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hypnic.report.trends import write_trends_report
from tests.test_report_chromium import browser, check_page  # noqa: F401  (browser is a fixture)
from tests.test_report_night import make_night_dir
from tests.test_trends import LONG, NIGHTS, make_trend_dirs


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = os.environ.get("HYPNIC_SCREENSHOTS")
    if where:
        Path(where).mkdir(parents=True, exist_ok=True)
        return Path(where)
    return tmp_path_factory.mktemp("shots")


@pytest.fixture(scope="module")
def trend_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("trends")
    template = make_night_dir(root / "template", seed=7, placement="ankle", hours=2.0)
    return make_trend_dirs(template, root)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_trends_page_renders_in_chromium(browser, trend_dirs, shots, tmp_path, lang):  # noqa: F811
    dirs, diary = trend_dirs
    page = write_trends_report(dirs, tmp_path / f"trends-{lang}.html", diary=diary, lang=lang)
    facts = check_page(browser, page, shots, f"trends-{lang}")
    assert facts["desktop"]["images"] == 1
    rows = browser.js("document.querySelectorAll('table')[0].querySelectorAll('tr').length")
    assert rows == 1 + len(NIGHTS) + len(LONG)
    # the diary note with a script element is shown as the text that was typed
    text = browser.js("document.body.innerText")
    assert "<script>alert('x')</script> & more" in text
    assert browser.js("document.querySelectorAll('script').length") == 0
