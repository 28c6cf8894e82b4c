"""What a night's analysis is asked to do: the options of ``hypnic detect`` (and of replay, record,
export and batch), declared once.

The commands build one :class:`AnalysisOptions` from their arguments; the use cases, the
pipeline, the detector's night stage and the benchmark's runners take it whole, so an option is
added here and read where it matters, not threaded through every call between.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypnic.detector.bursts import BurstParams
from hypnic.detector.vocabulary import RULES, UNKNOWN


@dataclass(frozen=True)
class AnalysisOptions:
    """The options of one analysis.

    Attributes
    ----------
    sleep_onset_s : float, optional
        A given sleep onset (s from the start of the recording, sensor A's with two sensors):
        replaces the detected one (``--sleep-onset``).
    placement : str, optional
        Where the sensor (with two, the first) was worn (``--placement``, one of
        :data:`detector.vocabulary.KNOWN_PLACEMENTS`); None: the file's metadata, else unknown.
    placement_b : str, optional
        With two sensors, where the second was worn (``--placement-b``).
    rules : {"wasm", "aasm"}
        PLM scoring rules (:data:`detector.vocabulary.RULES`).
    params : BurstParams
        The burst detector's parameters.
    """

    sleep_onset_s: float | None = None
    placement: str | None = None
    placement_b: str | None = None
    rules: str = RULES[0]
    params: BurstParams = field(default_factory=BurstParams)

    def placement_given(self, sensor: int = 0) -> str | None:
        """The placement the options give sensor ``sensor`` (0 = A, 1 = B), or None."""
        return self.placement if sensor == 0 else self.placement_b


def resolve_placement(given: str | None, from_file: str | None) -> tuple[str, str]:
    """Where a sensor is scored as worn, and where that comes from.

    Parameters
    ----------
    given : str, optional
        The option's placement.
    from_file : str, optional
        The file's metadata (a reader's :attr:`~recordings.samples.StreamInfo.placement`).

    Returns
    -------
    placement : str
        The option, else the file's, else ``unknown``.
    source : {"option", "file", "unknown"}
        ``summary.json``'s ``parameters.placement_source``.
    """
    placement = given or from_file or UNKNOWN
    source = "option" if given else ("file" if from_file != UNKNOWN else UNKNOWN)
    return placement, source
