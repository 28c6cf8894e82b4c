"""The events and the summary as types (detector/results.py): each field declared once with its
unit, the files' columns and keys derived from the declarations, and the files read back into the
same types."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest

from hypnic.detector import results
from hypnic.detector.results import (
    CONTRACT_COLUMNS,
    Event,
    Night,
    NightSummary,
    SensorView,
    event_columns,
)

#: CONTRACT.md: events.csv's columns, in this order, before any other.
CONTRACT_EVENTS = "onset_s,duration_s,peak_g,label,series,confidence,minutes_from_onset".split(",")
WHEN = ("always", "set", "one_sensor", "two_sensors")


@pytest.mark.parametrize("cls", [Event, Night, SensorView, NightSummary])
def test_every_field_says_its_unit_what_it_is_and_when_it_is_written(cls):
    for name, meta in results.declared(cls).items():
        assert "unit" in meta and meta["doc"].strip(), f"{cls.__name__}.{name}"
        assert meta["when"] in WHEN, f"{cls.__name__}.{name}"
    assert [f.name for f in fields(Night)] == [f.name for f in fields(NightSummary)][: len(fields(Night))]


def test_the_event_columns_are_the_contracts_first_then_appended():
    assert list(CONTRACT_COLUMNS) == CONTRACT_EVENTS
    one, two = event_columns(), event_columns(two_sensors=True)
    assert list(one[: len(CONTRACT_EVENTS)]) == CONTRACT_EVENTS
    assert "sensors" not in one
    assert two == one[: len(CONTRACT_EVENTS)] + ("sensors",) + one[len(CONTRACT_EVENTS) :]


def _night(**kw):
    base = dict(
        window_s=[0.0, 100.0], complete=True, sleep_onset_s=10.0, sleep_onset_window_s=[9.0, 11.0],
        sleep_onset_source="detected", sleep_end_s=90.0, sleep_onset_reason=None, placement="ankle",
        rules="wasm", counts={"plm": 1}, jerks_first_30_min=0, sleep_period_s=80.0, plms_index=1.5,
        plms_index_reason=None, periodicity_index=None, gaps=[], nonwear=[], nonwear_evidence=[],
    )
    return Night(**{**base, **kw})


def test_summary_json_holds_the_declared_keys_in_their_order():
    one = NightSummary.of(_night(), idle=[], temperature_available=True, software="hypnic",
                          utc_offset_s=3600.0, device={}, parameters={})
    keys = list(one.as_dict())
    assert keys[:3] == ["window_s", "complete", "sleep_onset_s"]
    assert "sleep_onset_sensor" not in keys and "utc_offset_s" in keys
    assert not {"alignment", "sensors", "jerks_seen_by_both", "nights", "nonwear_note", "replay"} & set(keys)
    assert keys.index("parameters") < keys.index("device") < len(keys)

    pair = NightSummary.of(
        _night(sleep_onset_sensor=None), idle=[], temperature_available=False, nonwear_note="n",
        utc_offset_s=3600.0, sensors=[SensorView(name="wrist")], alignment={}, jerks_seen_by_both=0,
        nights=[_night(sleep_onset_sensor="wrist"), _night()],
    )
    d = pair.as_dict()
    assert "sleep_onset_sensor" in d and d["sleep_onset_sensor"] is None  # written, even when None
    assert "utc_offset_s" not in d  # a pair's summary has never had it
    assert d["nights"][0]["sleep_onset_sensor"] == "wrist" and "sleep_onset_sensor" in d["nights"][1]
    assert d["sensors"][0]["name"] == "wrist" and d["nonwear_note"] == "n"


def test_a_summary_read_back_is_the_summary_written(tmp_path):
    from hypnic.recordings.outputs import write_json

    s = NightSummary.of(_night(), idle=[[1.0, 2.0]], temperature_available=True, software="hypnic",
                        nights=[_night(), _night(window_s=[100.0, 200.0], complete=False)])
    write_json(tmp_path / "summary.json", s.as_dict())
    back = NightSummary.from_dict(json.loads((tmp_path / "summary.json").read_text()))
    assert back == s
    # An older or partial file: what it lacks is None, what it holds is kept.
    old = NightSummary.from_dict({"sleep_onset_s": 5.0, "counts": {}, "duration_s": 60.0, "x": 1})
    assert old.sleep_onset_s == 5.0 and old.complete is None and old.night_list() == [old]


def test_events_written_and_read_back(tmp_path):
    from hypnic.recordings.errors import InputError
    from hypnic.recordings.outputs import read_events_csv, write_events_csv

    events = [
        Event(onset_s=12.5, duration_s=0.25, peak_g=0.31, label="hypnic_jerk", confidence=0.9,
              minutes_from_onset=-1.5, peak_jerk_gps=4.0, rise_time_s=0.05,
              orientation_change_deg=0.2, n_bursts=1),
        Event(onset_s=400.0, duration_s=2.0, peak_g=0.1, label="plm", series=3, confidence=0.8,
              minutes_from_onset=None, sensors="left_ankle+right_ankle", n_bursts=2),
    ]
    write_events_csv(tmp_path / "events.csv", events, event_columns(two_sensors=True))
    header = (tmp_path / "events.csv").read_text().splitlines()[0]
    assert header == ",".join(event_columns(two_sensors=True))
    assert read_events_csv(tmp_path / "events.csv") == events
    (tmp_path / "bad.csv").write_text("onset_s,label\nsoon,plm\n")
    with pytest.raises(InputError, match="line 2: onset_s 'soon' is not a number"):
        read_events_csv(tmp_path / "bad.csv")
    (tmp_path / "short.csv").write_text("onset_s,label\n1.0\n")
    with pytest.raises(InputError, match="line 2: 1 fields, the header has 2"):
        read_events_csv(tmp_path / "short.csv")


def test_an_analysis_writes_its_types(tmp_path):
    """The pipeline's events and summary are the declared types and write the files as declared."""
    import csv

    from hypnic.benchmarks.synth import simulate_night
    from hypnic.detector.options import AnalysisOptions
    from hypnic.pipeline import analyze_stream, write_outputs

    analysis = analyze_stream(simulate_night(3, 25.0, 1.0, "ankle").stream(), AnalysisOptions())
    assert all(isinstance(e, Event) for e in analysis.events)
    assert isinstance(analysis.summary, NightSummary)
    write_outputs(analysis, tmp_path / "out", report=False)
    with open(tmp_path / "out" / "events.csv", newline="") as fh:
        assert next(csv.reader(fh)) == list(event_columns())
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert list(written) == list(analysis.summary.as_dict())
