"""The night report and the multi-night trends page (HTML, English and Dutch; issue 6).

:func:`write_night_report` turns a ``hypnic detect`` output folder into ``report.html``;
:func:`write_trends_report` compares many nights, optionally with a sleep diary.
"""

from __future__ import annotations

from hypnic.report.night import build_night_html, write_night_report
from hypnic.report.trends import build_trends_html, write_trends_report

__all__ = ["build_night_html", "build_trends_html", "write_night_report", "write_trends_report"]
