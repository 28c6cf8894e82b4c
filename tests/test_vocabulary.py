"""One vocabulary: labels and placements are declared once (detector/vocabulary.py) and everything
that lists them derives its list from that declaration, so that a new label or placement is one
entry there and its words in the report's texts."""

from __future__ import annotations

import pytest

from hypnic.detector import vocabulary as v


def test_every_label_and_placement_has_words_in_every_language():
    from hypnic.report.texts import LANGS, TEXTS

    for key in [f"label_{lab}" for lab in v.LABELS] + [f"placement_{p}" for p in v.PLACEMENTS]:
        assert key in TEXTS, key
        assert set(TEXTS[key]) == set(LANGS), key
        assert all(TEXTS[key][lang].strip() for lang in LANGS), key


def test_the_label_sets_are_the_declarations():
    assert v.LEG_LABELS == ("plm", "lm")
    assert v.MOVEMENT_LABELS == ("large_movement", "other")
    assert set(v.SCORED_LABELS) == set(v.LABELS) - {"other"}
    assert len(set(v.LABELS)) == len(v.LABELS)
    assert all(lab.kind in ("jerk", "leg", "movement") for lab in v.LABEL_INFO)


def test_batch_columns_count_every_label_in_order():
    from hypnic.batch import NIGHT_COLUMNS

    counted = [c[2:] for c in NIGHT_COLUMNS if c.startswith("n_") and c[2:] in v.LABELS]
    assert counted == list(v.LABELS)


def test_the_report_legend_is_the_vocabulary():
    from hypnic.report import plots

    assert list(plots.LABEL_STYLE) == list(v.LABELS)
    styles = list(plots.LABEL_STYLE.values())
    assert len(set(styles)) == len(styles), "every label its own colour and marker"
    assert len(plots.STYLES) >= len(v.LABELS), "a style for every label"


def test_the_scoring_tolerances_are_the_labels_onset_tolerances():
    import numpy as np

    from hypnic.benchmarks import scoring
    from hypnic.detector.results import Event

    assert v.ONSET_TOLERANCE_S == {lab.name: lab.onset_tolerance_s for lab in v.LABEL_INFO}
    # A detection just inside a label's tolerance matches, just outside it does not.
    for lab in v.SCORED_LABELS:
        tol = v.ONSET_TOLERANCE_S[lab]
        hit = scoring.score_labels(
            [Event(onset_s=100.0 + 0.99 * tol, label=lab)], [{"onset_s": 100.0, "expected": lab}], [lab]
        )
        miss = scoring.score_labels(
            [Event(onset_s=100.0 + 1.01 * tol, label=lab)], [{"onset_s": 100.0, "expected": lab}], [lab]
        )
        assert (hit[lab].tp, miss[lab].tp) == (1, 0), lab
    assert np.isfinite(list(v.ONSET_TOLERANCE_S.values())).all()


def test_placements_mean_a_limb_and_a_side():
    assert v.KNOWN_PLACEMENTS == ("wrist", "ankle", "left_ankle", "right_ankle")
    assert v.PLACEMENTS == v.KNOWN_PLACEMENTS + ("unknown",)
    assert v.LEG_PLACEMENTS == ("ankle", "left_ankle", "right_ankle", "unknown")
    assert v.placement("left_ankle").side == "left" and v.placement("ankle").side is None
    assert v.ankle_placement("right") == "right_ankle"
    with pytest.raises(ValueError, match="placement must be one of"):
        v.placement("elbow")


def test_every_known_placement_is_rendered_and_can_be_given():
    import argparse

    from hypnic.benchmarks.synth_render import PLACEMENT_TRACK
    from hypnic.benchmarks.synth_waveforms import TRACKS
    from hypnic.cli import build_parser
    from hypnic.detector import plm

    assert set(PLACEMENT_TRACK) == set(v.KNOWN_PLACEMENTS)
    assert set(PLACEMENT_TRACK.values()) <= set(TRACKS)
    assert PLACEMENT_TRACK["ankle"] == "right_ankle"  # a single ankle sensor is on the right leg
    assert [plm.leg_of(p) for p in v.PLACEMENTS] == [
        plm.UNKNOWN_LEG, plm.UNKNOWN_LEG, plm.LEFT, plm.RIGHT, plm.UNKNOWN_LEG
    ]

    def choices(command: str, option: str) -> tuple[str, ...]:
        sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
        p = sub.choices[command]
        return tuple(next(a for a in p._actions if option in a.option_strings).choices)

    for command in ("detect", "replay", "record", "export", "batch", "simulate"):
        assert choices(command, "--placement") == v.KNOWN_PLACEMENTS, command
    for command in ("detect", "replay", "record", "export", "batch"):
        assert choices(command, "--rules") == v.RULES, command


def test_readers_and_sensor_specs_take_the_vocabulary(tmp_path):
    from hypnic.firmware_bridge.spec import parse_sensor
    from hypnic.recordings.devices._stream import placement_from_text
    from hypnic.recordings.recording import RecordingWriter

    for p in v.KNOWN_PLACEMENTS:
        assert parse_sensor(f"sim:placement={p}").placement == p
    with pytest.raises(ValueError, match="is not one of wrist, ankle, left_ankle, right_ankle"):
        parse_sensor("sim:placement=unknown")
    assert placement_from_text("L ankle") in v.PLACEMENTS
    assert placement_from_text("elbow") == v.UNKNOWN
    with pytest.raises(ValueError, match="placement must be one of"):
        RecordingWriter(tmp_path / "rec", fs=50.0, range_g=8.0, placement="elbow")
