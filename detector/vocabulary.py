"""The words every floor shares, each declared once with what it means: the labels an event can
have, where a sensor can be worn, and the PLM scoring rules.

Everything else derives from these declarations: the classifier's and the pair scoring's sets of
labels, batch's ``n_<label>`` columns, the report's legend, the benchmark's renderer and scoring
(its onset tolerances), the commands' ``--placement`` and ``--rules`` choices, the sensor
specifications' and the readers' placement checks. Adding a label or a placement is one entry
here and its words in the report's texts (``label_<name>`` / ``placement_<name>`` in
``hypnic/report/texts.py``, every language); ``tests/test_vocabulary.py`` checks both.
"""

from __future__ import annotations

# NamedTuple, not a dataclass: the commands import this module for their choices, and
# dataclasses (with inspect) would add ~10 ms to ``hypnic --help`` (typing is loaded already).
from typing import NamedTuple


class Label(NamedTuple):
    """One label of ``events.csv``.

    Attributes
    ----------
    name : str
        As written in ``events.csv`` and counted in ``summary.json``'s ``counts``.
    kind : {"jerk", "leg", "movement"}
        ``leg``: a leg movement, which needs an ankle (never at a wrist); ``movement``: a movement of
        the body that is neither a jerk nor a leg movement (a turn-over, a fidget): two sensors
        that both see one report it once, and the report counts these as "other movements during
        sleep".
    onset_tolerance_s : float
        How precisely the label's onset is defined, which is how close a detection must come to
        a true event to match it (:mod:`benchmarks.scoring`): a jerk is one 75-250 ms EMG burst
        (DOMAIN.md §1.2), a leg movement's onset 0.5 s (the Mobilise-D wearable tolerance), a
        turn-over has no sharp onset (2 s).
    scored : bool
        The accuracy benchmark scores it (``other`` is what is left over, with no truth of its own).
    meaning : str
    """

    name: str
    kind: str
    onset_tolerance_s: float
    scored: bool
    meaning: str


#: The labels, in the order of ``counts``, batch's columns and the report's legend.
LABEL_INFO = (
    Label("hypnic_jerk", "jerk", 0.25, True,
          "a hypnic jerk: a brief whole-body contraction at the wake-sleep transition"),
    Label("plm", "leg", 0.5, True, "a leg movement inside a periodic series (WASM/AASM)"),
    Label("lm", "leg", 0.5, True, "a leg movement in the sleep period outside a periodic series"),
    Label("large_movement", "movement", 2.0, True, "a posture change: turning over"),
    Label("other", "movement", 0.5, False,
          "any other movement: arm movements at the wrist, twitches, knocks, tremor, fidgets"),
)  # fmt: skip
LABELS = tuple(lab.name for lab in LABEL_INFO)
#: Leg movements (``plm``, ``lm``): scored at an ankle only.
LEG_LABELS = tuple(lab.name for lab in LABEL_INFO if lab.kind == "leg")
#: Movements that are neither jerks nor leg movements (``large_movement``, ``other``).
MOVEMENT_LABELS = tuple(lab.name for lab in LABEL_INFO if lab.kind == "movement")
#: The labels the accuracy benchmark scores.
SCORED_LABELS = tuple(lab.name for lab in LABEL_INFO if lab.scored)
#: Each label's onset tolerance (s), by name.
ONSET_TOLERANCE_S = {lab.name: lab.onset_tolerance_s for lab in LABEL_INFO}


class Placement(NamedTuple):
    """Where a sensor was worn.

    Attributes
    ----------
    name : str
        As ``--placement`` takes it and ``summary.json`` writes it.
    limb : {"wrist", "ankle", "unknown"}
    side : {"left", "right"} or None
        None where the side is not known (``ankle``: either leg).
    meaning : str
    """

    name: str
    limb: str
    side: str | None
    meaning: str

    @property
    def legs(self) -> bool:
        """Its movements are scored as leg movements: an ankle, and an unknown place (scored as if
        on an ankle, so that nothing is missed; the summary says so)."""
        return self.limb != "wrist"

    @property
    def wrist(self) -> bool:
        return self.limb == "wrist"

    @property
    def known(self) -> bool:
        """A place a person (``--placement``) or a file can name: every one but ``unknown``."""
        return self.limb != UNKNOWN


#: A sensor whose place neither the options nor the file give (CONTRACT: ``unknown``).
UNKNOWN = "unknown"
PLACEMENT_INFO = (
    Placement("wrist", "wrist", None, "a wrist"),
    Placement("ankle", "ankle", None, "an ankle, side not given"),
    Placement("left_ankle", "ankle", "left", "the left ankle"),
    Placement("right_ankle", "ankle", "right", "the right ankle"),
    Placement(UNKNOWN, UNKNOWN, None, "not known: scored as if on an ankle"),
)
#: Every placement name, ``unknown`` included (what a reader may report).
PLACEMENTS = tuple(p.name for p in PLACEMENT_INFO)
#: The placements a person or a file can name (``--placement`` choices, sensor specifications).
KNOWN_PLACEMENTS = tuple(p.name for p in PLACEMENT_INFO if p.known)
#: Placements whose movements are scored as leg movements.
LEG_PLACEMENTS = tuple(p.name for p in PLACEMENT_INFO if p.legs)

#: PLM scoring rules (:mod:`detector.plm`): WASM 2016 (the default) or AASM.
RULES = ("wasm", "aasm")


def placement(name: str) -> Placement:
    """The declaration of the placement called ``name``.

    Raises
    ------
    ValueError
        ``name`` is not one of :data:`PLACEMENTS`.
    """
    for p in PLACEMENT_INFO:
        if p.name == name:
            return p
    raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, got {name!r}")


def ankle_placement(side: str) -> str:
    """The name of the ankle placement on ``side`` (``left`` or ``right``)."""
    return next(p.name for p in PLACEMENT_INFO if p.limb == "ankle" and p.side == side)
