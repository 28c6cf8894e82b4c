"""Reference numbers the report compares a night with, the signs worth discussing with a GP, and
every number a page names (:func:`constant`).

Each constant says where it comes from. Two of the three signs have no published threshold for an
accelerometer; their limits are this tool's own rules of thumb and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypnic.detector.results import Event, Night
from hypnic.detector.vocabulary import MOVEMENT_LABELS

#: ICSD-3 periodic limb movement disorder: PLMS index > 15/h in adults (DOMAIN.md §2.3;
#: ICSD-3 table in PMC9619152, Clin Neurophysiol Pract 2022;7:285-316).
PLMS_ADULT_PER_H = 15.0
PLMS_ADULT_REF = "ICSD-3"

#: Large muscle group movements in healthy sleepers: median 6.8/h (IQR 4.5-10.8)
#: (DOMAIN.md §1.3, normative values of 100 healthy subjects).
TURNS_HEALTHY_MEDIAN_PER_H = 6.8

#: This tool's own rule of thumb (no published threshold): more than 20 turn-overs and other
#: movements per hour of the sleep period, about twice the healthy medians of 6.8/h large movements
#: (DOMAIN.md §1.3) and 11/h all movements (Montini et al., Sleep 2024;47(9):zsae138).
MOVES_HEURISTIC_PER_H = 20.0

#: This tool's own rule of thumb (no published threshold, DOMAIN.md §1.2): ten or more hypnic
#: jerks around sleep onset, five times the "once or twice per night" usually felt.
JERKS_HEURISTIC = 10

#: Multi-night variability of the PLMS index: lowest vs highest night differ by 25.1/h on average
#: (20 RLS patients, 10-15 nights, ankle accelerometer; DOMAIN.md §2.3).
PLMS_NIGHT_TO_NIGHT_PER_H = 25.1

#: Close-ups of hypnic jerks drawn per night report; a restless night can have many more jerks
#: than anyone reads. Here, with the other numbers a page shows, so that the night report
#: (which draws them) and this module (which names them) do not import each other.
MAX_CLOSEUPS = 24

#: Named constants a page may show (``const:NAME`` in its data-src); see :func:`constant`.
_SHOWN = (
    "PLMS_ADULT_PER_H",
    "TURNS_HEALTHY_MEDIAN_PER_H",
    "MOVES_HEURISTIC_PER_H",
    "JERKS_HEURISTIC",
    "PLMS_NIGHT_TO_NIGHT_PER_H",
    "MAX_CLOSEUPS",
)


def jerk_window_s() -> tuple[float, float]:
    """Where jerks are counted around sleep onset (s), as the detector counts them."""
    from hypnic.detector.classify import JERK_WINDOW_S

    return (float(JERK_WINDOW_S[0]), float(JERK_WINDOW_S[1]))


def constant(name: str) -> float:
    """The value of a named constant shown on a page.

    Besides this module's constants (``MAX_CLOSEUPS`` among them: close-ups per report):
    ``JERK_WINDOW_BEFORE_MIN`` and ``JERK_WINDOW_AFTER_MIN`` (the detector's jerk-counting
    window in minutes), ``MIN_NIGHTS`` and ``INTERVAL_LEVEL_PCT`` (trends comparisons).
    """
    if name in _SHOWN:
        return globals()[name]
    if name == "JERK_WINDOW_BEFORE_MIN":
        return -jerk_window_s()[0] / 60.0
    if name == "JERK_WINDOW_AFTER_MIN":
        return jerk_window_s()[1] / 60.0
    if name in ("MIN_NIGHTS", "INTERVAL_LEVEL_PCT"):
        from hypnic.report import stats

        return getattr(stats, name)
    raise KeyError(name)


@dataclass(frozen=True)
class Sign:
    """A sign the data point at: which one, the night's value, and the limit it passed."""

    key: str  # "plms", "moves" or "jerks" (text key ``sign_<key>``)
    value: float
    src: str  # where the value comes from (data-src of the report)
    limit: float
    limit_src: str


def in_sleep(
    events: list[Event], summary: Night, labels: tuple[str, ...]
) -> int | None:
    """How many events with one of ``labels`` start inside the sleep period (``None``: no period)."""
    on, end = summary.sleep_onset_s, summary.sleep_end_s
    if on is None or end is None:
        return None
    return sum(1 for e in events if e.label in labels and on <= e.onset_s <= end)


def per_hour_of_sleep(count: int | None, summary: Night) -> float | None:
    """``count`` per hour of ``sleep_period_s`` (``None`` without a sleep period)."""
    period = summary.sleep_period_s
    if count is None or not period or period <= 0:
        return None
    return count / (period / 3600.0)


def signs(summary: Night, events: list[Event]) -> list[Sign]:
    """The signs worth discussing with a GP that this night's numbers point at (maybe none)."""
    out = []
    plmsi = summary.plms_index
    if plmsi is not None and plmsi > PLMS_ADULT_PER_H:
        out.append(
            Sign("plms", plmsi, "summary:plms_index", PLMS_ADULT_PER_H, "const:PLMS_ADULT_PER_H")
        )
    moves = per_hour_of_sleep(in_sleep(events, summary, MOVEMENT_LABELS), summary)
    if moves is not None and moves > MOVES_HEURISTIC_PER_H:
        out.append(
            Sign(
                "moves",
                moves,
                "derived:moves_in_sleep_per_h",
                MOVES_HEURISTIC_PER_H,
                "const:MOVES_HEURISTIC_PER_H",
            )
        )
    jerks = summary.jerks_first_30_min
    if jerks is not None and jerks >= JERKS_HEURISTIC:
        out.append(
            Sign(
                "jerks",
                jerks,
                "summary:jerks_first_30_min",
                JERKS_HEURISTIC,
                "const:JERKS_HEURISTIC",
            )
        )
    return out
