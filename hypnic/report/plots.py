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

#: label -> (colour, marker); the order is the legend's.
LABEL_STYLE = {
    "hypnic_jerk": (OKABE_ITO["vermillion"], "*"),
    "plm": (OKABE_ITO["blue"], "o"),
    "lm": (OKABE_ITO["sky_blue"], "s"),
    "large_movement": (OKABE_ITO["orange"], "D"),
    "other": (OKABE_ITO["black"], "x"),
}
ONSET_COLOUR = OKABE_ITO["bluish_green"]
NONWEAR_COLOUR = OKABE_ITO["reddish_purple"]
GAP_COLOUR = "#777777"
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


#: Tick spacing (hours) of a time axis: the first that gives at most _MAX_TICKS ticks.
_HOUR_STEPS = (1.0, 2.0, 3.0, 4.0, 6.0, 12.0, 24.0)
_MAX_TICKS = 6


def _clock_axis(ax: Any, start: datetime | None, span_h: float, lang: str) -> None:
    """x in hours from the start: ticks on whole clock hours, labelled HH:MM (or hours)."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    step = next((h for h in _HOUR_STEPS if span_h / h <= _MAX_TICKS), _HOUR_STEPS[-1])
    if start is None:
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.set_xlabel(plain("ax_hours", lang))
        return
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    since_midnight_h = (start - midnight).total_seconds() / 3600.0
    ax.xaxis.set_major_locator(MultipleLocator(step, offset=(-since_midnight_h) % step))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _pos: (start + timedelta(hours=float(x))).strftime("%H:%M"))
    )
    ax.set_xlabel(plain("ax_clock", lang))


def _shade(
    ax: Any, spans: Sequence[Sequence[float]], kind: str, scale: float, shift: float
) -> None:
    for a, b in spans:
        x0, x1 = (a - shift) / scale, (b - shift) / scale
        if kind == "gap":
            ax.axvspan(x0, x1, facecolor="none", edgecolor=GAP_COLOUR, hatch="///", linewidth=0)
        else:
            ax.axvspan(x0, x1, color=NONWEAR_COLOUR, alpha=0.25, linewidth=0)


#: Alpha of the onset's likely range: a faint band on the timeline, a bar along the top of the
#: zoom (where a band would blend with the jerk-counting window).
RANGE_BAND_ALPHA, RANGE_BAR_ALPHA = 0.15, 0.5


def _onset_marks(
    ax: Any, summary: dict[str, Any], scale: float, shift: float, band: bool = True
) -> None:
    on = summary.get("sleep_onset_s")
    if on is None:
        return
    win = summary.get("sleep_onset_window_s")
    if win and win[0] is not None and win[1] is not None:
        x0, x1 = (win[0] - shift) / scale, (win[1] - shift) / scale
        if band:
            ax.axvspan(x0, x1, color=ONSET_COLOUR, alpha=RANGE_BAND_ALPHA, linewidth=0)
        else:
            ax.axvspan(
                x0, x1, ymin=0.94, ymax=1.0, color=ONSET_COLOUR, alpha=RANGE_BAR_ALPHA, linewidth=0
            )
    ax.axvline((on - shift) / scale, color=ONSET_COLOUR, linewidth=2)
    end = summary.get("sleep_end_s")
    if end is not None:
        ax.axvline((end - shift) / scale, color=ONSET_COLOUR, linewidth=1.5, linestyle="--")


def _log_axis(ax: Any) -> None:
    """A log y axis labelled 0.01, 0.1, 1 (no minor labels: they crowd a small figure)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _events(
    ax: Any, events: Sequence[dict[str, Any]], lang: str, scale: float, shift: float
) -> None:
    for label, (colour, marker) in LABEL_STYLE.items():
        mine = [e for e in events if e["label"] == label and e.get("peak_g")]
        if not mine:
            continue
        x = np.array([(e["onset_s"] - shift) / scale for e in mine])
        y = np.array([e["peak_g"] for e in mine])
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
    from matplotlib.patches import Patch

    handles, labels = [], []
    for ax in axes:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    for key, style in extra:
        handles.append(Patch(**style))
        labels.append(plain(key, lang))
    if handles:
        fig.legend(
            handles, labels, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncols=2, frameon=False
        )
    _margins(fig, (len(handles) + 1) // 2)


def _window(summary: dict[str, Any]) -> tuple[float, float]:
    w = summary.get("window_s")
    if w and len(w) == 2:
        return float(w[0]), float(w[1])
    return 0.0, float(summary.get("duration_s") or 0.0)


def timeline_png(
    summary: dict[str, Any],
    events: Sequence[dict[str, Any]],
    traces: dict[str, np.ndarray] | None,
    start: datetime | None,
    lang: str,
) -> bytes:
    """The whole night: movement and posture (from traces) above the events, by label.

    Without ``traces`` only the events panel is drawn.
    """
    import matplotlib

    a, b = _window(summary)
    span_h = max((b - a) / 3600.0, 1e-3)
    with matplotlib.rc_context(_RC):
        if traces is not None:
            fig, axes = _figure(FIG_W_IN, 7.2, 3, (1.0, 1.0, 1.2))
            t = traces["epoch_t_s"]
            sel = (t >= a) & (t < b)
            x = t[sel] / 3600.0
            rms = traces["epoch_rms_g"][sel].astype(float)
            axes[0].plot(x, np.where(rms > 0, rms, np.nan), color=OKABE_ITO["blue"], linewidth=0.7)
            _log_axis(axes[0])
            axes[0].set_ylabel(plain("ax_intensity", lang))
            axes[1].plot(
                x, traces["epoch_angle_z_deg"][sel], color=OKABE_ITO["black"], linewidth=0.7
            )
            axes[1].set_ylim(-95, 95)
            axes[1].set_yticks([-90, 0, 90])
            axes[1].set_ylabel(plain("ax_posture", lang))
        else:
            fig, axes = _figure(FIG_W_IN, 3.6, 1)
        mine = [e for e in events if a <= e["onset_s"] < b]
        _events(axes[-1], mine, lang, 3600.0, 0.0)
        for ax in axes:
            _shade(ax, summary.get("gaps") or [], "gap", 3600.0, 0.0)
            _shade(ax, summary.get("nonwear") or [], "nonwear", 3600.0, 0.0)
            _onset_marks(ax, summary, 3600.0, 0.0)
        axes[-1].set_xlim(a / 3600.0, b / 3600.0)
        _clock_axis(axes[-1], start, span_h, lang)
        _legend_below(fig, axes, lang, _extra_legend(summary))
        return _png(fig)


def _extra_legend(
    summary: dict[str, Any], range_alpha: float = RANGE_BAND_ALPHA
) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    if summary.get("sleep_onset_s") is not None:
        out.append(("legend_onset", {"color": ONSET_COLOUR}))
        out.append(("legend_window", {"color": ONSET_COLOUR, "alpha": range_alpha}))
    if summary.get("gaps"):
        out.append(("legend_gap", {"facecolor": "none", "edgecolor": GAP_COLOUR, "hatch": "///"}))
    if summary.get("nonwear"):
        out.append(("legend_nonwear", {"color": NONWEAR_COLOUR, "alpha": 0.25}))
    return out


def onset_zoom_png(
    summary: dict[str, Any],
    events: Sequence[dict[str, Any]],
    traces: dict[str, np.ndarray] | None,
    count_window_s: tuple[float, float],
    lang: str,
) -> bytes:
    """Minutes around sleep onset: movement (from traces) and events, x in minutes from onset."""
    import matplotlib

    on = float(summary["sleep_onset_s"])
    lo, hi = count_window_s[0] - ZOOM_MARGIN_S, count_window_s[1] + ZOOM_MARGIN_S
    with matplotlib.rc_context(_RC):
        if traces is not None:
            fig, axes = _figure(FIG_W_IN, 5.4, 2, (1.0, 1.2))
            t = traces["epoch_t_s"]
            sel = (t >= on + lo) & (t <= on + hi)
            rms = traces["epoch_rms_g"][sel].astype(float)
            axes[0].plot(
                (t[sel] - on) / 60.0,
                np.where(rms > 0, rms, np.nan),
                color=OKABE_ITO["blue"],
                linewidth=1,
            )
            _log_axis(axes[0])
            axes[0].set_ylabel(plain("ax_intensity", lang))
        else:
            fig, axes = _figure(FIG_W_IN, 3.4, 1)
        mine = [e for e in events if on + lo <= e["onset_s"] <= on + hi]
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
            _shade(ax, summary.get("gaps") or [], "gap", 60.0, on)
            _shade(ax, summary.get("nonwear") or [], "nonwear", 60.0, on)
            _onset_marks(ax, summary, 60.0, on, band=False)
        axes[-1].set_xlim(lo / 60.0, hi / 60.0)
        axes[-1].set_xlabel(plain("ax_minutes_onset", lang))
        extra = [("legend_count_window", {"color": COUNT_WINDOW_COLOUR, "alpha": 0.3})]
        _legend_below(fig, axes, lang, extra + _extra_legend(summary, RANGE_BAR_ALPHA))
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
