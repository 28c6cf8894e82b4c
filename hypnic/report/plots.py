"""The report's plots, drawn with matplotlib's Agg renderer into PNG bytes.

Colours are the Okabe-Ito palette (Okabe & Ito 2008, "Color Universal Design"), which stays
distinguishable with the common colour-vision deficiencies; every label also has its own marker
shape, and the axes of a raw trace their own line style, so nothing depends on colour alone.
Figures are narrow with large type so that they stay readable when a phone shrinks them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from hypnic.detector.results import Event, NightSummary
from hypnic.detector.vocabulary import LABELS
from hypnic.report.texts import plain

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: (colour, marker) of the labels in the vocabulary's order (detector.vocabulary.LABELS), with
#: spares: a new label gets the next style without a change here.
STYLES = (
    (OKABE_ITO["vermillion"], "*"),
    (OKABE_ITO["blue"], "o"),
    (OKABE_ITO["sky_blue"], "s"),
    (OKABE_ITO["orange"], "D"),
    (OKABE_ITO["black"], "x"),
    (OKABE_ITO["reddish_purple"], "^"),
    (OKABE_ITO["yellow"], "v"),
    (OKABE_ITO["bluish_green"], "P"),
)
#: label -> (colour, marker); the order is the legend's.
LABEL_STYLE = dict(zip(LABELS, STYLES, strict=False))
ONSET_COLOUR = OKABE_ITO["bluish_green"]
NONWEAR_COLOUR = OKABE_ITO["reddish_purple"]
NONWEAR_ALPHA = 0.25
GAP_COLOUR = "#777777"
#: Idle (the device lay still and did not sample): a solid strip along the bottom of each panel,
#: unlike a gap (grey hatching) or non-wear (a purple band), both full height.
IDLE_COLOUR = OKABE_ITO["sky_blue"]
IDLE_STRIP = 0.07  # height of the strip, as a share of the panel
TEMPERATURE_COLOUR = OKABE_ITO["vermillion"]
#: The temperature panel's y range (°C) unless readings lie outside it: room to skin temperature.
TEMPERATURE_RANGE_C = (18.0, 38.0)
#: Readings beyond these (°C) are taken as a faulty sensor and do not stretch the y range.
TEMPERATURE_LIMITS_C = (-10.0, 50.0)
#: Temperature readings further apart than this (s, and 3 times their usual spacing) are not
#: joined by the line (a gap in the readings).
TEMPERATURE_BREAK_S = 180.0
#: The temperature traces are medians of whole minutes (hypnic.pipeline.minute_medians).
TEMPERATURE_MINUTE_S = 60.0
COUNT_WINDOW_COLOUR = OKABE_ITO["yellow"]
AXIS_STYLE = (  # x, y, z of a raw trace
    (OKABE_ITO["blue"], "-"),
    (OKABE_ITO["orange"], "--"),
    (OKABE_ITO["bluish_green"], ":"),
)

#: The onset zoom shows 5 min more than the jerk-counting window on either side.
ZOOM_MARGIN_S = 300.0
#: At most this many tags get a row in the trends plot (the table lists all of them).
MAX_TAG_ROWS = 12

_RC = {
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


#: Width of the full-width figures (inches at 150 dpi): narrow enough that a phone shrinks the
#: 12-point type by no more than half.
FIG_W_IN = 5.2
#: Fixed margins (inches): a fixed layout is several times faster than a constrained one.
_LEFT_IN, _RIGHT_IN, _TOP_IN, _XLABEL_IN, _LEGEND_ROW_IN = 0.95, 0.2, 0.15, 0.65, 0.27


def _figure(width_in: float, height_in: float, rows: int, ratios: Sequence[float] | None = None):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=150)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False, gridspec_kw={"height_ratios": ratios})
    _margins(fig, 0)
    return fig, list(axes[:, 0])


def _margins(fig: Any, legend_rows: int) -> None:
    w, h = fig.get_size_inches()
    bottom = _XLABEL_IN + legend_rows * _LEGEND_ROW_IN
    fig.subplots_adjust(
        left=_LEFT_IN / w,
        right=1 - _RIGHT_IN / w,
        top=1 - _TOP_IN / h,
        bottom=bottom / h,
        hspace=0.12,
    )


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _tick_text(s: str, width: int = 12) -> str:
    # Long tags would not fit the fixed margin (the table shows them whole); a "$" in a diary
    # tag would start matplotlib's math mode.
    short = s if len(s) <= width else s[: width - 1] + "…"
    return short.replace("$", r"\$")


#: Tick spacing (hours) of a time axis: the first that gives at most _MAX_TICKS ticks (a
#: recording of minutes gets ticks on whole minutes).
_HOUR_STEPS = (1 / 60, 5 / 60, 0.25, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0)
_MAX_TICKS = 6


def _clock_axis(ax: Any, start: datetime | None, span_h: float, lang: str) -> None:
    """x in hours from the start: ticks on whole clock hours (or minutes, for a recording of
    minutes), labelled HH:MM (or hours)."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    step = next((h for h in _HOUR_STEPS if span_h / h <= _MAX_TICKS), _HOUR_STEPS[-1])
    if start is None:
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{round(x, 2):g}"))
        ax.set_xlabel(plain("ax_hours", lang))
        return
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    since_midnight_h = (start - midnight).total_seconds() / 3600.0
    ax.xaxis.set_major_locator(MultipleLocator(step, offset=(-since_midnight_h) % step))
    ax.xaxis.set_major_formatter(
        # ticks lie on whole minutes: half a minute more keeps rounding from showing the one before
        FuncFormatter(
            lambda x, _pos: (start + timedelta(hours=float(x), seconds=30)).strftime("%H:%M")
        )
    )
    ax.set_xlabel(plain("ax_clock", lang))


def _shade(
    ax: Any, spans: Sequence[Sequence[float]], kind: str, scale: float, shift: float
) -> None:
    """Mark ``spans`` (s) on ``ax``: ``gap`` hatched, ``nonwear`` a band, ``idle`` a strip."""
    if kind == "idle":
        _idle_strip(ax, spans, scale, shift)
        return
    for a, b in spans:
        x0, x1 = (a - shift) / scale, (b - shift) / scale
        if kind == "gap":
            ax.axvspan(x0, x1, facecolor="none", edgecolor=GAP_COLOUR, hatch="///", linewidth=0)
        else:
            ax.axvspan(x0, x1, color=NONWEAR_COLOUR, alpha=NONWEAR_ALPHA, linewidth=0)


def _idle_strip(ax: Any, spans: Sequence[Sequence[float]], scale: float, shift: float) -> None:
    # One collection for all spans: an idle ActiGraph night has hundreds of them.
    from matplotlib.collections import PolyCollection

    verts = []
    for a, b in spans:
        x0, x1 = (a - shift) / scale, (b - shift) / scale
        verts.append([(x0, 0.0), (x1, 0.0), (x1, IDLE_STRIP), (x0, IDLE_STRIP)])
    if verts:
        ax.add_collection(
            PolyCollection(
                verts,
                transform=ax.get_xaxis_transform(),  # x in data, y as a share of the panel
                facecolors=IDLE_COLOUR,
                edgecolors=IDLE_COLOUR,
                linewidths=0.3,  # a second of idle still shows at a night's scale
                zorder=2.5,
            ),
            autolim=False,
        )


def _visible(spans: Any, a: float, b: float) -> list[list[float]]:
    """The spans (s) that overlap ``[a, b]``."""
    return [[float(s), float(e)] for s, e in spans or [] if e > a and s < b]


#: Alpha of the onset's likely range: a faint band on the timeline, a bar along the top of the
#: zoom (where a band would blend with the jerk-counting window).
RANGE_BAND_ALPHA, RANGE_BAR_ALPHA = 0.15, 0.5


#: The lines of sleep onset and of the final awakening (the sleep period's end), as drawn and
#: as shown in the legend.
ONSET_LINE = {"color": ONSET_COLOUR, "linewidth": 2.0}
END_LINE = {"color": ONSET_COLOUR, "linewidth": 1.5, "linestyle": "--"}
#: The skin-temperature line of the temperature panel (below it a sensor is off the skin).
OFF_SKIN_LINE = {"color": OKABE_ITO["black"], "linewidth": 1.0, "linestyle": ":"}


def _onset_marks(
    ax: Any, summary: NightSummary, scale: float, shift: float, band: bool = True
) -> None:
    on = summary.sleep_onset_s
    if on is None:
        return
    win = summary.sleep_onset_window_s
    if win and win[0] is not None and win[1] is not None:
        x0, x1 = (win[0] - shift) / scale, (win[1] - shift) / scale
        if band:
            ax.axvspan(x0, x1, color=ONSET_COLOUR, alpha=RANGE_BAND_ALPHA, linewidth=0)
        else:
            ax.axvspan(
                x0, x1, ymin=0.94, ymax=1.0, color=ONSET_COLOUR, alpha=RANGE_BAR_ALPHA, linewidth=0
            )
    ax.axvline((on - shift) / scale, **ONSET_LINE)
    end = summary.sleep_end_s
    if end is not None:
        ax.axvline((end - shift) / scale, **END_LINE)


#: Movement below this (g) is no movement at all (a device that lay idle repeats one sample,
#: whose rms is zero up to rounding): left out of the log axis, which it would stretch to 1e-16.
#: Every sensor's noise is far above it (DOMAIN §5.1: 22.5-300 µg/√Hz).
MOVEMENT_FLOOR_G = 1e-5


def _movement(rms: np.ndarray) -> np.ndarray:
    return np.where(rms >= MOVEMENT_FLOOR_G, rms, np.nan)


def _log_axis(ax: Any) -> None:
    """A log y axis labelled 0.01, 0.1, 1 (no minor labels: they crowd a small figure)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _events(
    ax: Any, events: Sequence[Event], lang: str, scale: float, shift: float
) -> None:
    for label, (colour, marker) in LABEL_STYLE.items():
        mine = [e for e in events if e.label == label and e.peak_g]
        if not mine:
            continue
        x = np.array([(e.onset_s - shift) / scale for e in mine])
        y = np.array([e.peak_g for e in mine])
        ax.scatter(
            x,
            y,
            s=70 if marker == "*" else 28,
            c=colour,
            marker=marker,
            linewidths=1.2,
            label=plain(f"label_{label}", lang),
            zorder=3,
        )
    _log_axis(ax)
    ax.set_ylabel(plain("ax_strength", lang))


def _legend_below(
    fig: Any, axes: Sequence[Any], lang: str, extra: Sequence[tuple[str, dict]]
) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    for key, style in extra:
        if style.get("line"):
            handles.append(Line2D([], [], **{k: v for k, v in style.items() if k != "line"}))
        else:
            handles.append(Patch(**style))
        labels.append(plain(key, lang))
    if handles:
        fig.legend(
            handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=2, frameon=False
        )
    _margins(fig, (len(handles) + 1) // 2)


def _window(summary: NightSummary) -> tuple[float, float]:
    w = summary.window_s
    if w and len(w) == 2:
        return float(w[0]), float(w[1])
    return 0.0, float(summary.duration_s or 0.0)


def temperature_in(
    traces: dict[str, np.ndarray] | None, a: float, b: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """The sensor's temperature (s, °C) in ``[a, b)``; ``None`` without two readings there.

    ``traces`` holds it as ``temperature_t_s`` (minute starts) and ``temperature_c`` (each
    minute's median) when the recording had a temperature channel; the times returned are the
    minutes' middles.
    """
    if traces is None or "temperature_t_s" not in traces or "temperature_c" not in traces:
        return None
    t = np.asarray(traces["temperature_t_s"], dtype=float)
    c = np.asarray(traces["temperature_c"], dtype=float)
    if t.ndim != 1 or t.shape != c.shape:
        return None
    t = t + TEMPERATURE_MINUTE_S / 2  # a minute's median belongs to its middle
    sel = (t >= a) & (t < b) & np.isfinite(t) & np.isfinite(c)
    if np.count_nonzero(sel) < 2:
        return None
    return t[sel], c[sel]


def timeline_panels(summary: NightSummary, traces: dict[str, np.ndarray] | None) -> list[str]:
    """The panels :func:`timeline_png` draws, top to bottom.

    ``movement`` and ``posture`` where there are traces, ``temperature`` where they hold two or
    more temperature readings in the night's window, and ``events`` always.
    """
    if traces is None:
        return ["events"]
    panels = ["movement", "posture"]
    if temperature_in(traces, *_window(summary)) is not None:
        panels.append("temperature")
    return [*panels, "events"]


def _temperature_panel(ax: Any, t_s: np.ndarray, c: np.ndarray, lang: str) -> None:
    from matplotlib.ticker import MultipleLocator

    from hypnic.detector.nonwear import OFF_SKIN_C

    step = np.diff(t_s)
    usual = float(np.median(step)) if step.size else TEMPERATURE_BREAK_S
    breaks = np.flatnonzero(step > max(TEMPERATURE_BREAK_S, 3.0 * usual)) + 1
    x = np.insert(t_s / 3600.0, breaks, np.nan)
    y = np.insert(c, breaks, np.nan)
    ax.plot(x, y, color=TEMPERATURE_COLOUR, linewidth=1.2)
    ax.axhline(OFF_SKIN_C, **OFF_SKIN_LINE)
    sane = c[(c >= TEMPERATURE_LIMITS_C[0]) & (c <= TEMPERATURE_LIMITS_C[1])]
    lo, hi = TEMPERATURE_RANGE_C
    if sane.size:
        lo = min(lo, float(np.floor(sane.min())) - 1.0)
        hi = max(hi, float(np.ceil(sane.max())) + 1.0)
    ax.set_ylim(lo, hi)
    ax.yaxis.set_major_locator(MultipleLocator(5.0 if hi - lo <= 30 else 10.0))
    ax.set_ylabel(plain("ax_temperature", lang))


def timeline_png(
    summary: NightSummary,
    events: Sequence[Event],
    traces: dict[str, np.ndarray] | None,
    start: datetime | None,
    lang: str,
) -> bytes:
    """The whole night (:func:`timeline_panels`): movement and posture (from traces), the
    sensor's temperature (where traces hold it) and the events, by label.

    Gaps, non-wear and idle time are marked on every panel. Without ``traces`` only the events
    panel is drawn.
    """
    import matplotlib

    a, b = _window(summary)
    span_h = max((b - a) / 3600.0, 1e-3)
    panels = timeline_panels(summary, traces)
    with matplotlib.rc_context(_RC):
        if traces is not None:
            temperature = temperature_in(traces, a, b)
            if temperature is not None:
                fig, axes = _figure(FIG_W_IN, 8.8, 4, (1.0, 1.0, 0.9, 1.2))
            else:
                fig, axes = _figure(FIG_W_IN, 7.2, 3, (1.0, 1.0, 1.2))
            t = traces["epoch_t_s"]
            sel = (t >= a) & (t < b)
            x = t[sel] / 3600.0
            rms = traces["epoch_rms_g"][sel].astype(float)
            axes[0].plot(x, _movement(rms), color=OKABE_ITO["blue"], linewidth=0.7)
            _log_axis(axes[0])
            axes[0].set_ylabel(plain("ax_intensity", lang))
            axes[1].plot(
                x, traces["epoch_angle_z_deg"][sel], color=OKABE_ITO["black"], linewidth=0.7
            )
            axes[1].set_ylim(-95, 95)
            axes[1].set_yticks([-90, 0, 90])
            axes[1].set_ylabel(plain("ax_posture", lang))
            if temperature is not None:
                _temperature_panel(axes[2], *temperature, lang)
        else:
            fig, axes = _figure(FIG_W_IN, 3.6, 1)
        assert len(axes) == len(panels)
        mine = [e for e in events if a <= e.onset_s < b]
        _events(axes[-1], mine, lang, 3600.0, 0.0)
        for ax in axes:
            for kind in ("gap", "nonwear", "idle"):
                _shade(ax, _visible(getattr(summary, _SPANS[kind]), a, b), kind, 3600.0, 0.0)
            _onset_marks(ax, summary, 3600.0, 0.0)
        axes[-1].set_xlim(a / 3600.0, b / 3600.0)
        _clock_axis(axes[-1], start, span_h, lang)
        extra = _extra_legend(summary, (a, b))
        if "temperature" in panels:
            extra.append(("legend_off_skin", {"line": True, **OFF_SKIN_LINE}))
        _legend_below(fig, axes, lang, extra)
        return _png(fig)


#: The summary's list of spans of each kind of mark.
_SPANS = {"gap": "gaps", "nonwear": "nonwear", "idle": "idle"}


def _extra_legend(
    summary: NightSummary,
    shown: tuple[float, float],
    range_alpha: float = RANGE_BAND_ALPHA,
) -> list[tuple[str, dict]]:
    """Legend entries of the marks drawn in ``shown`` (s from the start): onset, its range,
    the final awakening, gaps, non-wear and idle time."""
    a, b = shown
    out: list[tuple[str, dict]] = []
    if summary.sleep_onset_s is not None:
        out.append(("legend_onset", {"line": True, **ONSET_LINE}))
        out.append(("legend_window", {"color": ONSET_COLOUR, "alpha": range_alpha}))
        end = summary.sleep_end_s
        if end is not None and a <= end <= b:
            out.append(("legend_end", {"line": True, **END_LINE}))
    if _visible(summary.gaps, a, b):
        out.append(("legend_gap", {"facecolor": "none", "edgecolor": GAP_COLOUR, "hatch": "///"}))
    if _visible(summary.nonwear, a, b):
        out.append(("legend_nonwear", {"color": NONWEAR_COLOUR, "alpha": NONWEAR_ALPHA}))
    if _visible(summary.idle, a, b):
        out.append(("legend_idle", {"color": IDLE_COLOUR}))
    return out


def onset_zoom_png(
    summary: NightSummary,
    events: Sequence[Event],
    traces: dict[str, np.ndarray] | None,
    count_window_s: tuple[float, float],
    lang: str,
) -> bytes:
    """Minutes around sleep onset: movement (from traces) and events, x in minutes from onset."""
    import matplotlib

    on = float(summary.sleep_onset_s)
    lo, hi = count_window_s[0] - ZOOM_MARGIN_S, count_window_s[1] + ZOOM_MARGIN_S
    with matplotlib.rc_context(_RC):
        if traces is not None:
            fig, axes = _figure(FIG_W_IN, 5.4, 2, (1.0, 1.2))
            t = traces["epoch_t_s"]
            sel = (t >= on + lo) & (t <= on + hi)
            rms = traces["epoch_rms_g"][sel].astype(float)
            axes[0].plot(
                (t[sel] - on) / 60.0,
                _movement(rms),
                color=OKABE_ITO["blue"],
                linewidth=1,
            )
            _log_axis(axes[0])
            axes[0].set_ylabel(plain("ax_intensity", lang))
        else:
            fig, axes = _figure(FIG_W_IN, 3.4, 1)
        mine = [e for e in events if on + lo <= e.onset_s <= on + hi]
        _events(axes[-1], mine, lang, 60.0, on)
        for ax in axes:
            ax.axvspan(
                count_window_s[0] / 60.0,
                count_window_s[1] / 60.0,
                color=COUNT_WINDOW_COLOUR,
                alpha=0.3,
                linewidth=0,
                zorder=0,
            )
            for kind in ("gap", "nonwear", "idle"):
                _shade(ax, _visible(getattr(summary, _SPANS[kind]), on + lo, on + hi), kind, 60.0, on)
            _onset_marks(ax, summary, 60.0, on, band=False)
        axes[-1].set_xlim(lo / 60.0, hi / 60.0)
        axes[-1].set_xlabel(plain("ax_minutes_onset", lang))
        extra = [("legend_count_window", {"color": COUNT_WINDOW_COLOUR, "alpha": 0.3})]
        _legend_below(
            fig, axes, lang, extra + _extra_legend(summary, (on + lo, on + hi), RANGE_BAR_ALPHA)
        )
        return _png(fig)


def jerk_pngs(snippets: Sequence[tuple[np.ndarray, np.ndarray]], lang: str) -> list[bytes]:
    """Each hypnic jerk: the raw x, y, z traces around it, time from its onset.

    Each axis is drawn minus its median over the seconds before the onset (gravity and posture
    put the axes up to 2 g apart, which would flatten a jolt of a tenth of a g). NaN padding is
    dropped. One figure is drawn once and its lines are refilled per jerk (a report can hold
    dozens).
    """
    import matplotlib

    out = []
    with matplotlib.rc_context(_RC):
        fig, (ax,) = _figure(4.2, 3.0, 1)
        lines = [
            ax.plot(
                [],
                [],
                color=colour,
                linestyle=style,
                linewidth=1.3,
                label=plain(f"legend_axis_{'xyz'[i]}", lang),
            )[0]
            for i, (colour, style) in enumerate(AXIS_STYLE)
        ]
        ax.axvline(0.0, color=OKABE_ITO["vermillion"], linewidth=1, alpha=0.6)
        ax.set_xlabel(plain("ax_seconds", lang))
        ax.set_ylabel(plain("ax_accel_change", lang))
        ax.legend(loc="upper left", ncols=3, frameon=False, fontsize=10, handlelength=1.6)
        for t_s, xyz_g in snippets:
            keep = np.isfinite(t_s)
            t, xyz = t_s[keep], np.asarray(xyz_g, dtype=float)[keep]
            before = xyz[t < 0] if np.any(t < 0) else xyz
            rest = np.nanmedian(before, axis=0) if before.size else np.zeros(3)
            for i, line in enumerate(lines):
                line.set_data(t, xyz[:, i] - rest[i])
            ax.relim()
            ax.autoscale_view()
            lo, hi = ax.get_ylim()
            ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # room for the legend above the traces
            out.append(_png(fig))
    return out


def trends_png(
    when: Sequence[date | int],
    jerks: Sequence[float | None],
    plmsi: Sequence[float | None],
    tags: Sequence[Sequence[str]],
    plms_limit: float,
    lang: str,
) -> bytes:
    """Nights over time: jerks around onset, PLMS index (with the adult limit) and diary tags.

    ``when`` holds the evening dates, or the nights' order where the nights have no dates.
    """
    import matplotlib
    import matplotlib.dates as mdates

    dated = bool(when) and isinstance(when[0], date)
    x = np.array([mdates.date2num(w) for w in when] if dated else list(when), dtype=float)
    counts: dict[str, int] = {}
    for ts in tags:
        for tg in ts:
            counts[tg] = counts.get(tg, 0) + 1
    rows = sorted(counts, key=lambda k: (-counts[k], k))[:MAX_TAG_ROWS]
    with matplotlib.rc_context(_RC):
        ratios = (1.0, 1.0, max(0.4, 0.22 * len(rows))) if rows else (1.0, 1.0)
        fig, axes = _figure(
            FIG_W_IN, 5.0 + (0.3 * len(rows) if rows else -1.0), len(ratios), ratios
        )
        jy = np.array([np.nan if v is None else v for v in jerks], dtype=float)
        axes[0].bar(x, np.nan_to_num(jy), width=0.6, color=OKABE_ITO["vermillion"])
        axes[0].set_ylabel(plain("ax_jerks", lang))
        py = np.array([np.nan if v is None else v for v in plmsi], dtype=float)
        axes[1].plot(x, py, color=OKABE_ITO["blue"], marker="o", linewidth=1)
        axes[1].axhline(plms_limit, color=OKABE_ITO["black"], linestyle="--", linewidth=1)
        axes[1].set_ylim(
            bottom=0,
            top=max(plms_limit * 1.2, float(np.nanmax(py)) * 1.1 if np.isfinite(py).any() else 0),
        )
        axes[1].set_ylabel(plain("ax_plmsi", lang))
        if rows:
            for i, tg in enumerate(rows):
                xs = [xi for xi, ts in zip(x, tags, strict=True) if tg in ts]
                axes[2].scatter(
                    xs, [i] * len(xs), marker="s", s=40, color=OKABE_ITO["bluish_green"]
                )
            axes[2].set_yticks(range(len(rows)), [_tick_text(r) for r in rows])
            axes[2].set_ylim(-0.6, len(rows) - 0.4)
            axes[2].invert_yaxis()  # the tag names are their own label
        if dated:
            # day-month as numbers: no month names, so the same in both languages
            axes[-1].xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=7))
            axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%d-%m"))
            axes[-1].set_xlabel(plain("ax_night", lang))
        else:
            axes[-1].set_xlabel(plain("ax_night_order", lang))
        if x.size:
            axes[-1].set_xlim(x.min() - 0.7, x.max() + 0.7)
        return _png(fig)
