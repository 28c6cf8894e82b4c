"""Safe HTML for the report pages: escaping, numbers tagged with their source, the page frame.

Everything that comes from a file (source names, device metadata, diary notes) goes through
:func:`esc`; only :class:`Markup` is inserted as is. Every number a page shows is a ``<data>``
element whose ``value`` is the number as the file holds it and whose ``data-src`` says where it
comes from (``summary:counts.plm``, ``events:3.peak_g``, ``const:PLMS_ADULT_PER_H`` ...), so a
test can check each shown number against ``summary.json`` and ``events.csv``.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from hypnic.recordings.errors import InputError


class Markup(str):
    """A string that is already HTML (escaped where needed) and is inserted without escaping."""

    __slots__ = ()


def esc(value: Any) -> Markup:
    """Escape anything for HTML text or a quoted attribute; :class:`Markup` passes through."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    """Concatenate parts, escaping those that are not :class:`Markup`."""
    return Markup(esc(sep).join(esc(p) for p in parts))


def tag(name: str, *content: Any, **attrs: Any) -> Markup:
    """``<name attrs>content</name>``; ``class_`` stands for ``class``, ``data_x`` for ``data-x``.

    Attributes whose value is ``None`` or ``False`` are left out; ``True`` writes a bare attribute.
    """
    out = [f"<{name}"]
    for key, val in attrs.items():
        if val is None or val is False:
            continue
        key = key.rstrip("_").replace("_", "-")
        out.append(f" {key}" if val is True else f' {key}="{esc(val)}"')
    out.append(">")
    if name in ("img", "meta", "input", "br"):
        return Markup("".join(out))
    return Markup("".join(out) + join(content) + f"</{name}>")


# --- numbers as text -------------------------------------------------------------------------

DASH = "—"  # a value that is missing (null in the file)


def fmt_decimal(value: float, places: int, lang: str) -> str:
    """``value`` with ``places`` decimals; Dutch uses a decimal comma."""
    text = f"{value:.{places}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text.replace(".", ",") if lang == "nl" else text


def fmt_duration(seconds: float, lang: str) -> str:
    """``1 h 05 min`` (nl ``1 u 05 min``), ``42 min`` or ``35 s``, rounded to whole units."""
    a = abs(seconds)
    if a < 59.5:
        s = int(round(a))
        return f"{'-' if seconds < 0 and s else ''}{s} s"
    sign = "-" if seconds < 0 else ""
    m = int(round(a / 60.0))  # from the seconds themselves: rounding twice could be 1 min off
    if m < 60:
        return f"{sign}{m} min"
    hour = "u" if lang == "nl" else "h"
    return f"{sign}{m // 60} {hour} {m % 60:02d} min"


def fmt_clock(when: datetime) -> str:
    """Local clock time ``HH:MM``."""
    return when.strftime("%H:%M")


def data(value: Any, src: str, fmt: str, text: str) -> Markup:
    """A shown value: ``<data value=... data-src=... data-fmt=...>text</data>``.

    ``value`` is written with ``repr`` for floats (exact round trip), ``str`` otherwise, and
    the empty string for ``None``.
    """
    if value is None:
        raw = ""
    elif isinstance(value, bool):
        raw = "true" if value else "false"
    elif isinstance(value, float):
        raw = repr(value)
    else:
        raw = str(value)
    return tag("data", text, value=raw, data_src=src, data_fmt=fmt)


def number(value: Any, src: str, lang: str, places: int = 0) -> Markup:
    """A number from a file shown with ``places`` decimals (``places=0``: an integer count)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return data(None, src, "none", DASH)
    if places == 0:
        return data(value, src, "int", str(int(round(value))))
    return data(value, src, f"dec{places}", fmt_decimal(float(value), places, lang))


def duration(seconds: float | None, src: str, lang: str) -> Markup:
    """A length of time from a file, in h/min/s."""
    if seconds is None:
        return data(None, src, "none", DASH)
    return data(seconds, src, "dur", fmt_duration(float(seconds), lang))


def text_value(value: Any, src: str) -> Markup:
    """A string (or list of strings) from a file, shown escaped as it is."""
    if isinstance(value, (list, tuple)):
        shown = ", ".join("" if v is None else str(v) for v in value)
    else:
        shown = "" if value is None else str(value)
    return data(shown, src, "text", shown)


def png_img(png: bytes, alt: str, class_: str = "plot") -> Markup:
    """An ``<img>`` holding the PNG itself (base64 ``data:`` URI): no file, no network."""
    import base64

    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return tag("img", src=uri, alt=alt, class_=class_)


# --- the page ------------------------------------------------------------------------------

#: Colours of the page itself, from the Okabe-Ito palette (colour-blind safe; see plots.py).
_CSS = """
:root { --ink:#1a1a1a; --muted:#555; --line:#ddd; --bg:#fff; --card:#f6f6f4; --warn:#D55E00;
        --ok:#009E73; --link:#0072B2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 60rem; padding: 0.75rem; font: 16px/1.5 system-ui, -apple-system,
       "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--bg);
       overflow-wrap: break-word; }
h1 { font-size: 1.5rem; margin: 0.5rem 0; } h2 { font-size: 1.25rem; margin: 1.75rem 0 0.5rem;
     border-bottom: 2px solid var(--line); } h3 { font-size: 1.05rem; margin: 1rem 0 0.25rem; }
p, li, .sign, .note, .calm { max-width: 42rem; }
cite { font-style: normal; }
.lead { color: var(--muted); }
.note { border-left: 4px solid var(--link); background: var(--card); padding: 0.5rem 0.75rem; }
.sign { border-left: 4px solid var(--warn); background: var(--card); padding: 0.5rem 0.75rem;
        margin: 0.5rem 0; }
.calm { border-left: 4px solid var(--ok); background: var(--card); padding: 0.5rem 0.75rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: 0.6rem; }
.card { background: var(--card); border-radius: 6px; padding: 0.6rem 0.75rem; }
.card .big { font-size: 1.6rem; font-weight: 600; display: block; }
.card .what { font-weight: 600; display: block; }
.card .more { color: var(--muted); font-size: 0.92rem; display: block; }
img.plot { display: block; width: 100%; max-width: 40rem; height: auto; margin: 0.5rem 0;
           border: 1px solid var(--line); }
.closeups img.plot { max-width: 100%; }
table.kv { width: 100%; table-layout: fixed; }
table.kv th { width: 38%; hyphens: auto; }
table.kv td { overflow-wrap: anywhere; }
.closeups { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 0.6rem; }
.closeups figure { margin: 0; } figcaption { font-size: 0.92rem; color: var(--muted); }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.95rem; }
th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid var(--line);
         vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
td.n, td.d { white-space: nowrap; }
.src { overflow-wrap: anywhere; }
code, .src { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.9em; }
ul.check { list-style: none; padding-left: 0; } ul.check li { margin: 0.3rem 0; }
.legend span { display: inline-block; margin-right: 0.9rem; white-space: nowrap; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px;
          vertical-align: -0.1em; margin-right: 0.3em; }
footer { margin-top: 2rem; color: var(--muted); font-size: 0.9rem; }
"""

#: No script runs and nothing is fetched when the page is opened (the page needs neither).
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def page(title: str, lang: str, body: Markup) -> str:
    """A complete, self-contained HTML document."""
    return (
        "<!DOCTYPE html>\n"
        + tag(
            "html",
            Markup(
                "<head>"
                '<meta charset="utf-8">'
                + tag("meta", http_equiv="Content-Security-Policy", content=_CSP)
                + '<meta name="viewport" content="width=device-width, initial-scale=1">'
                + tag("title", title)
                + tag("style", Markup(_CSS))
                + "</head>"
            ),
            tag("body", body),
            lang=lang,
        )
        + "\n"
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_target(path: Path, option: str = "--out") -> Path:
    """Fail early (before any work) when ``path`` cannot be a file to write.

    Raises
    ------
    InputError
        When ``path`` is a folder or its folder does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(path, f"{option} is a folder, give a file name ending in .html")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise InputError(path, f"cannot write the report: folder {folder} does not exist")
    return path


def write_html(path: Path, text: str, option: str = "--out") -> Path:
    """Write ``text`` to ``path`` all at once (temporary file, then rename).

    Raises
    ------
    InputError
        When the folder does not exist or cannot be written.
    """
    path = check_target(path, option)
    folder = path.resolve().parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(path, f"cannot write the report ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is an ordinary file
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(path, f"cannot write the report ({exc.strerror})") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
