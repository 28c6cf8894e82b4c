"""What a night's analysis gives, each field declared once with its unit and meaning: its events
(:class:`Event`, one row of ``events.csv``) and its summary (:class:`NightSummary`, the object of
``summary.json``, with a :class:`Night` per night and, with two sensors, a :class:`SensorView`
per sensor).

A field's metadata holds its ``unit`` (``s``, ``g``, ``min``, ``1/h`` ...; empty for a count or a
ratio, None for text), its ``doc``, and ``when`` it is written: ``always``, ``two_sensors`` or
``one_sensor`` only, or ``set`` (only when not None). The order of the fields is the order of
the columns and keys in the files: the CONTRACT's event columns first (:data:`CONTRACT_COLUMNS`),
new ones appended; the summary's keys as they always were. :meth:`NightSummary.as_dict` is what
``summary.json`` holds; :func:`event_columns` what ``events.csv`` has; ``from_dict`` reads them
back (a file that lacks a field gives None).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any


def _field(unit: str | None, doc: str, *, when: str = "always", contract: bool = False) -> Any:
    """A declared field: None unless set, with its unit, meaning and when it is written."""
    return field(default=None, metadata={"unit": unit, "doc": doc, "when": when, "contract": contract})


def _written(f: Any, value: Any, two_sensors: bool) -> bool:
    when = f.metadata.get("when", "always")
    if when == "set":
        return value is not None
    return when == "always" or (when == "two_sensors") == two_sensors


def _plain(value: Any, two_sensors: bool) -> Any:
    if isinstance(value, (Night, SensorView)):
        return value.as_dict(two_sensors)
    if isinstance(value, list):
        return [_plain(v, two_sensors) for v in value]
    return value


def _read(cls: type, obj: Mapping[str, Any], nested: Mapping[str, type] | None = None) -> Any:
    """An instance of ``cls`` from a mapping (a file read back): the fields it holds, None for the
    rest; ``nested`` names fields holding lists of declared objects (non-objects are dropped)."""
    kw = {}
    for f in fields(cls):
        if f.name not in obj:
            continue
        value = obj[f.name]
        if nested and f.name in nested and isinstance(value, list):
            value = [nested[f.name].from_dict(v) for v in value if isinstance(v, Mapping)]
        kw[f.name] = value
    return cls(**kw)


@dataclass(kw_only=True)
class Event:
    """One movement: a row of ``events.csv``."""

    onset_s: float = field(metadata={
        "unit": "s", "doc": "onset, from the recording's start (sensor A's with two sensors)",
        "when": "always", "contract": True})  # fmt: skip
    duration_s: float | None = _field("s", "from onset to end", contract=True)
    peak_g: float | None = _field("g", "largest band-passed acceleration", contract=True)
    label: str = field(metadata={
        "unit": None, "doc": "one of detector.vocabulary.LABELS", "when": "always",
        "contract": True})  # fmt: skip
    series: int | None = _field("", "its PLM series (plm only), numbered from 1", contract=True)
    confidence: float | None = _field("", "how sure the label is, 0-1", contract=True)
    minutes_from_onset: float | None = _field(
        "min", "from its night's sleep onset (None without one)", contract=True
    )
    sensors: str | None = _field(
        None, "which sensors saw it: one name, or both joined by '+'", when="two_sensors"
    )
    peak_jerk_gps: float | None = _field("g/s", "largest rate of change of the acceleration")
    rise_time_s: float | None = _field("s", "from onset to peak")
    orientation_change_deg: float | None = _field("deg", "lasting tilt of the limb across it")
    n_bursts: int | None = _field("", "bursts joined into this movement")

    def as_dict(self, columns: Sequence[str] | None = None) -> dict[str, Any]:
        """The event as a mapping of ``columns`` (default: every field)."""
        names = columns if columns is not None else [f.name for f in fields(self)]
        return {c: getattr(self, c) for c in names}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Event:
        """An event from a mapping of its columns (fields it lacks are None)."""
        return _read(cls, obj)


#: The columns every ``events.csv`` starts with (CONTRACT.md), in order.
CONTRACT_COLUMNS = tuple(f.name for f in fields(Event) if f.metadata.get("contract"))


def event_columns(two_sensors: bool = False) -> tuple[str, ...]:
    """The columns of ``events.csv``: the CONTRACT's first, then the features (with two sensors,
    ``sensors`` first among them)."""
    return tuple(f.name for f in fields(Event) if _written(f, 0, two_sensors))


@dataclass(kw_only=True)
class Night:
    """One night (noon to noon local time, or the whole recording): an entry of
    ``summary.json``'s ``nights``, and the top of the summary for its headline night."""

    window_s: list[float] | None = _field("s", "[start, end] of the night")
    complete: bool | None = _field(None, "the sleep period lies inside the recording")
    sleep_onset_s: float | None = _field("s", "sleep onset (None: no sleep period found)")
    sleep_onset_window_s: list[float] | None = _field("s", "[earliest, latest] plausible onset")
    sleep_onset_source: str | None = _field(None, "'detected' or 'given'")
    sleep_end_s: float | None = _field("s", "final awakening")
    sleep_onset_reason: str | None = _field(None, "why no sleep period was found")
    sleep_onset_sensor: str | None = _field(
        None, "the sensor whose sleep period it is (None: given, or none found)", when="two_sensors"
    )
    placement: str | None = _field(None, "where the sensor was worn (two sensors: 'A+B')")
    rules: str | None = _field(None, "PLM scoring rules, 'wasm' or 'aasm'")
    counts: dict[str, int] | None = _field("", "events per label (detector.vocabulary.LABELS)")
    jerks_first_30_min: int | None = _field(
        "", "hypnic jerks from 10 min before to 30 min after sleep onset"
    )
    sleep_period_s: float | None = _field("s", "from sleep onset to final awakening")
    plms_index: float | None = _field(
        "1/h", "PLM per hour of the sleep period an ankle recorded and was worn"
    )
    plms_index_reason: str | None = _field(None, "why there is no PLMS index, or how it was scored")
    periodicity_index: float | None = _field("", "PLM / all leg movements in the sleep period")
    gaps: list[list[float]] | None = _field("s", "[start, end] without samples")
    nonwear: list[list[float]] | None = _field("s", "[start, end] the sensor was not worn")
    nonwear_evidence: list[list[str]] | None = _field(
        None, "why, one list per non-wear span (detector.nonwear.EVIDENCE)"
    )

    def as_dict(self, two_sensors: bool = False) -> dict[str, Any]:
        """What the file holds for it (``two_sensors``: the pair's fields too)."""
        return {
            f.name: _plain(getattr(self, f.name), two_sensors)
            for f in fields(self)
            if _written(f, getattr(self, f.name), two_sensors)
        }

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> Night:
        """A night from what a file holds (fields it lacks are None)."""
        return _read(cls, obj)


@dataclass(kw_only=True)
class SensorView:
    """One sensor of a pair, on its own clock: an entry of ``summary.json``'s ``sensors``."""

    name: str | None = _field(None, "its name in the events' 'sensors' column")
    placement: str | None = _field(None, "where it was worn")
    source: str | None = _field(None, "the input it was read from")
    fs_hz: float | None = _field("Hz", "its sample rate")
    start_utc: str | None = _field(None, "its first sample, ISO 8601")
    n_samples: int | None = _field("", "samples read")
    duration_s: float | None = _field("s", "length of its recording")
    clock: dict[str, float] | None = _field(
        None, "its clock on A's: offset_s (s) and drift_ppm (None for A)"
    )
    sleep_onset_s: float | None = _field("s", "its own sleep onset, alone")
    counts: dict[str, int] | None = _field("", "its own events per label, alone")
    gaps: list[list[float]] | None = _field("s", "its gaps, own clock")
    nonwear: list[list[float]] | None = _field("s", "its non-wear, own clock")
    device: dict[str, Any] | None = _field(None, "what its file says about the device")

    def as_dict(self, two_sensors: bool = True) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> SensorView:
        return _read(cls, obj)


@dataclass(kw_only=True)
class NightSummary(Night):
    """``summary.json``: the headline night (the first complete one) on top, the recording's
    gaps, non-wear and idle time, every night where there are several, and where it came from.

    The :class:`Night` fields describe the headline night, except ``gaps``, ``nonwear`` and
    ``nonwear_evidence``, which are the whole recording's.
    """

    idle: list[list[float]] | None = _field(
        "s", "[start, end] the device did not sample because it lay still (not gaps)"
    )
    temperature_available: bool | None = _field(None, "every sensor had a thermometer")
    nonwear_note: str | None = _field(None, "how non-wear was judged without one", when="set")
    nights: list[Night] | None = _field(None, "every night, where there are several", when="set")
    software: str | None = _field(None, "'hypnic'")
    version: str | None = _field(None, "hypnic's version")
    source: str | None = _field(None, "the input (sensor A's with two sensors)")
    start_utc: str | None = _field(None, "the first sample, ISO 8601")
    utc_offset_s: float | None = _field("s", "local time minus UTC", when="one_sensor")
    fs_hz: float | None = _field("Hz", "sample rate")
    n_samples: int | None = _field("", "samples read")
    duration_s: float | None = _field("s", "length of the recording")
    parameters: dict[str, Any] | None = _field(
        None, "burst_detector, labelling, rules, placement_source (two_sensors)"
    )
    device: dict[str, Any] | None = _field(None, "what the file says about the device")
    placement_note: str | None = _field(None, "where a placement is unknown", when="set")
    alignment: dict[str, Any] | None = _field(
        None, "B's clock on A's (detector.alignment.Alignment)", when="two_sensors"
    )
    sensors: list[SensorView] | None = _field(None, "each sensor on its own", when="two_sensors")
    jerks_seen_by_both: int | None = _field("", "hypnic jerks both sensors saw", when="two_sensors")
    replay: dict[str, Any] | None = _field(None, "how a replay fed the samples", when="set")

    @property
    def two_sensors(self) -> bool:
        """The night of two sensors."""
        return self.sensors is not None

    def night_list(self) -> list[Night]:
        """Every night: ``nights``, or the summary itself for a single night."""
        return self.nights or [self]

    def as_dict(self, two_sensors: bool | None = None) -> dict[str, Any]:
        """What ``summary.json`` holds."""
        return super().as_dict(self.two_sensors if two_sensors is None else two_sensors)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> NightSummary:
        """A summary from what ``summary.json`` holds (fields it lacks are None)."""
        return _read(cls, obj, {"nights": Night, "sensors": SensorView})

    @classmethod
    def of(cls, night: Night, **recording: Any) -> NightSummary:
        """The summary with ``night`` on top and the recording's fields."""
        top = {f.name: getattr(night, f.name) for f in fields(Night)}
        return cls(**{**top, **recording})


def declared(cls: type) -> dict[str, dict[str, Any]]:
    """Each field of a declared type with its unit, meaning and when it is written."""
    return {f.name: dict(f.metadata) for f in fields(cls)}
