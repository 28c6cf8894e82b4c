"""Duplicated, reordered and impossible samples on their way to the detector.

Two paths meet such samples. The live path (a sensor's notifications into the recording
writer) drops late and repeated packets and counts them; test_recording.py checks one repeated
packet, here hypothesis shuffles, repeats and delays whole packets. Every other path (a reader
with a bug, a file whose clock runs backwards) hands chunks straight to the analysis, which must
refuse them with one line naming the input, before anything is written, and leave the streaming
detector as it was, so that what it found stays right.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hypnic.detector.bursts import StreamingDetector
from hypnic.pipeline import analyze_stream, write_outputs
from hypnic.recordings.errors import InputError
from hypnic.recordings.feed import frames
from hypnic.recordings.recording import META_FILE, RecordingWriter, open_recording
from hypnic.recordings.samples import SampleChunk, SampleStream, StreamInfo
from tests.test_fuzz_mutations import one_line_naming

FS = 25.0


def night(n: int = 1500, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A minute of a still sensor with a few movements."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    xyz = np.tile(np.float32([0.0, 0.0, 1.0]), (n, 1)) + rng.normal(0, 0.002, (n, 3)).astype(
        np.float32
    )
    for start in rng.integers(0, max(n - 40, 1), 4) if n > 40 else ():
        xyz[start : start + 12] += rng.normal(0, 0.4, (12, 3)).astype(np.float32)
    return t, xyz


def stream_of(
    parts: list[tuple[np.ndarray, np.ndarray]], source: str = "bad-reader"
) -> SampleStream:
    return SampleStream(StreamInfo(source, FS), (SampleChunk(t, x) for t, x in parts))


def cut(t: np.ndarray, xyz: np.ndarray, edges: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    edges = [0, *sorted(set(e for e in edges if 0 < e < len(t))), len(t)]
    return [(t[a:b].copy(), xyz[a:b].copy()) for a, b in zip(edges[:-1], edges[1:], strict=True)]


DAMAGE = ("repeat_sample", "swap_samples", "repeat_last_of_previous", "step_back", "nan_time",
          "inf_time", "nan_value", "repeat_chunk")  # fmt: skip


def damage(parts: list, kind: str, at: int, where: float) -> list:
    """Damage chunk ``at`` (and, for some kinds, the one before it) as a faulty reader would."""
    parts = [(t.copy(), x.copy()) for t, x in parts]
    t, x = parts[at]
    i = min(int(where * len(t)), len(t) - 1)
    if kind == "repeat_sample":
        parts[at] = (np.insert(t, i, t[i]), np.insert(x, i, x[i], axis=0))
    elif kind == "swap_samples" and len(t) > 1:
        i = min(i, len(t) - 2)
        t[[i, i + 1]] = t[[i + 1, i]]
    elif kind == "repeat_last_of_previous" and at > 0:
        tp, xp = parts[at - 1]
        parts[at] = (np.r_[tp[-1:], t], np.r_[xp[-1:], x])
    elif kind == "step_back" and (i > 0 or at > 0):
        before = t[i - 1] if i > 0 else parts[at - 1][0][-1]
        t[i:] -= t[i] - before + 3.0 / FS  # the clock goes back three samples
    elif kind == "nan_time":
        t[i] = np.nan
    elif kind == "inf_time":
        t[i] = np.inf
    elif kind == "nan_value":
        x[i, 1] = np.nan
    elif kind == "repeat_chunk" and at > 0:
        parts.insert(at, parts[at - 1])
    else:  # the kind does not apply here: a plain repeat, which always does
        parts[at] = (np.insert(t, i, t[i]), np.insert(x, i, x[i], axis=0))
    return parts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edges=st.lists(st.integers(1, 1499), max_size=6),
    kind=st.sampled_from(DAMAGE),
    at=st.integers(0, 6),
    where=st.floats(0, 1),
)
def test_the_analysis_refuses_damaged_chunks_in_one_line_and_writes_nothing(edges, kind, at, where):
    t, xyz = night()
    parts = cut(t, xyz, edges)
    bad = damage(parts, kind, at % len(parts), where)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "out"
        with pytest.raises(InputError) as err:
            write_outputs(analyze_stream(stream_of(bad)), out)  # the analysis raises first
        one_line_naming(err.value, "bad-reader")
        assert not out.exists() and not list(Path(folder).iterdir())


@settings(max_examples=40, deadline=None)
@given(
    edges=st.lists(st.integers(1, 1499), min_size=2, max_size=6),
    kind=st.sampled_from(DAMAGE),
    where=st.floats(0, 1),
)
def test_a_refused_chunk_leaves_the_detector_as_it_was(edges, kind, where):
    t, xyz = night(seed=1)
    parts = cut(t, xyz, edges)
    at = len(parts) // 2
    bad_chunk = damage(parts, kind, at, where)[at]
    clean, probed = StreamingDetector(FS), StreamingDetector(FS)
    found_clean, found_probed = [], []
    for k, (tk, xk) in enumerate(parts):
        if k == at:
            state, ring = probed.state.copy(), probed.ring.copy()
            try:
                probed.process(*bad_chunk)
            except ValueError:
                assert np.array_equal(probed.state, state, equal_nan=True)
                assert np.array_equal(probed.ring, ring, equal_nan=True)
            else:  # accepted: only a chunk that is in fact fine may be
                assert np.all(np.diff(bad_chunk[0]) > 0) and np.isfinite(bad_chunk[1]).all()
                continue
        found_clean.append(clean.process(tk, xk).events)
        found_probed.append(probed.process(tk, xk).events)
    found_clean.append(clean.finish().events)
    found_probed.append(probed.finish().events)
    assert np.array_equal(np.concatenate(found_clean), np.concatenate(found_probed))


def test_replay_frames_meet_the_same_refusal():
    t, xyz = night(seed=2)
    bad = damage(cut(t, xyz, [500, 900]), "repeat_last_of_previous", 1, 0.0)
    with pytest.raises(InputError) as err:
        analyze_stream(frames(stream_of(bad, "rec"), 25))
    one_line_naming(err.value, "rec")
    assert "increasing" in str(err.value)


# --- the live path: packets into the recording writer --------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 60), min_size=3, max_size=25),
    faults=st.lists(st.tuples(st.sampled_from(["repeat", "late", "swap"]), st.integers(0, 100)),
                    max_size=6),
)  # fmt: skip
def test_repeated_late_and_swapped_packets_are_dropped_and_counted(sizes, faults):
    t, xyz = night(n=sum(sizes), seed=3)
    packets = cut(t, xyz, np.cumsum(sizes)[:-1].tolist())
    for kind, where in faults:
        i = where % len(packets)
        if kind == "repeat":
            packets.insert(i, packets[i])
        elif kind == "late" and i + 3 < len(packets):
            packets.insert(i + 3, packets.pop(i))  # arrives after the three behind it
        elif kind == "swap" and i + 1 < len(packets):
            packets[i], packets[i + 1] = packets[i + 1], packets[i]
    handed = sum(len(p[0]) for p in packets)
    with tempfile.TemporaryDirectory() as folder:
        rec = Path(folder) / "rec"
        with RecordingWriter(rec, fs=FS, range_g=8, start_utc="2025-01-01T23:00:00Z") as writer:
            for tp, xp in packets:
                writer.append(tp, xp)
        chunks = list(open_recording(rec))
        meta = json.loads((rec / META_FILE).read_text())
    back = np.concatenate([c.t for c in chunks])
    assert np.all(np.diff(back) > 0)
    # Every sample kept is one that was handed over, at its place on the grid (t[0] = 0).
    assert np.isin(np.rint(back * FS), np.rint(t * FS)).all()
    assert meta["n_samples"] + meta["dropped_samples"] == handed
    assert meta["n_samples"] == back.size
    # Gaps are where whole packets came late or twice: samples never come back out of order.
    first_seen = []
    for tp, _ in packets:
        first_seen.extend(tp.tolist())
    assert back.size <= len(set(np.rint(np.array(first_seen) * FS).tolist()))
