"""Sample times and gaps of live streams (firmware_bridge.timeline), against the truth.

A device is modelled in the test itself: it takes sample ``i`` at ``i / fs`` seconds and
stamps each frame with its last sample's time (Polar, BLE.md §1.7). Streams are delivered
with drops, duplicates, truncated frames, restarts, clock resets and late bursts; every
sample the timeline places must land on its true grid slot, every lost sample must be a gap.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.firmware_bridge.sim_device import H10_DEFAULT_TIME_NS
from hypnic.firmware_bridge.timeline import DeviceClockTimeline, HostClockTimeline, SlotGrid


def naive_slots(times: list[float], fs: float) -> list[int]:
    """The obvious loop: next slot, or as many further as whole periods have passed."""
    slots = []
    for k, t in enumerate(times):
        if k == 0:
            slots.append(0)
        else:
            slots.append(slots[-1] + max(1, round((t - times[k - 1]) * fs)))
    return slots


@given(
    fs=st.sampled_from([12.5, 25.0, 52.0, 100.0]),
    steps=st.lists(
        st.one_of(
            st.floats(0.9, 1.1),  # jittered periods
            st.integers(2, 50).map(float),  # whole missing spans
            st.floats(0.05, 0.45),  # too-close samples (still consecutive)
        ),
        min_size=1,
        max_size=200,
    ),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_slot_grid_matches_naive_loop_in_any_chunking(fs, steps, cuts):
    times = np.concatenate([[10.0], 10.0 + np.cumsum(steps) / fs])
    expected = naive_slots(times.tolist(), fs)
    grid = SlotGrid(fs)
    got, gaps = [], []
    bounds = sorted({0, len(times), *[c % (len(times) + 1) for c in cuts]})
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        slots, g = grid.place(times[a:b])
        got.extend(slots.tolist())
        gaps.extend(g)
    assert got == expected
    diffs = np.diff(expected)
    assert gaps == [(expected[k] + 1, int(d) - 1) for k, d in enumerate(diffs) if d > 1]


# ------------------------------------------------------------------ device-stamped frames


FS = 52.0
PERIOD_NS = 1e9 / FS
EPOCH_NS = 758_000_000_000_000_000  # a device clock in 2024, ns since 2000


def frame_ns(last: int, base: tuple[int, int]) -> int:
    index, ns = base
    return ns + round((last - index) * PERIOD_NS)


@st.composite
def deliveries(draw):
    """A stream of fixed-size frames with faults; returns (n, events)."""
    n = draw(st.sampled_from([3, 36, 71]))
    ops = draw(
        st.lists(
            st.sampled_from(["ok"] * 6 + ["drop", "dup", "truncate", "restart", "reset", "late"]),
            min_size=5,
            max_size=60,
        )
    )
    return n, ops


def play(n: int, ops: list[str]):
    """Run the ops against a DeviceClockTimeline; yield (frame first, last, kind, times)."""
    timeline = DeviceClockTimeline(FS, jitter_s=0.0)
    base = (0, EPOCH_NS)
    out = []
    fresh = True  # first frame of a (re)started stream: a truncation cannot be told
    after_loss = False
    late_until = -1.0
    previous_late = False
    for k, op in enumerate(ops):
        first, last = 100 + k * n, 100 + (k + 1) * n - 1
        arrival = last / FS
        if op == "reset" and (previous_late or arrival < late_until):
            # Host time cannot re-anchor a reset while frames arrive late (a documented limit).
            op = "ok"
        if op == "reset":  # the H10's fall-back time; each reset lands elsewhere in 2019
            base = (first, H10_DEFAULT_TIME_NS + k * 10**12)
        if op == "restart":
            timeline.restart()
            fresh = True
        if op == "late":  # held back with the next frames, then let go at once
            late_until = arrival + 3 * n / FS
        late = arrival < late_until
        arrival = max(arrival, late_until)
        if op == "drop":
            out.append((first, last, "lost", None))
            after_loss = True
            continue
        previous_late = late  # of the last frame that reached the timeline
        ts = frame_ns(last, base)
        if op == "truncate" and not fresh and not after_loss and n > 1:
            placed = timeline.place(ts, n - 1 - k % (n - 1), arrival)
            out.append((first, last, placed.kind, None))
            after_loss = True
            continue
        placed = timeline.place(ts, n, arrival)
        out.append((first, last, placed.kind, placed.times))
        if op == "dup":
            again = timeline.place(ts, n, arrival)
            out.append((first, last, again.kind, None))
        fresh = after_loss = False
    return out


@settings(max_examples=150, deadline=None)
@given(deliveries())
def test_device_timeline_places_every_sample_on_its_true_slot(stream):
    n, ops = stream
    events = play(n, ops)
    grid = SlotGrid(FS)
    placed_first = None
    for first, last, kind, times in events:
        if kind == "ok":
            slots, _ = grid.place(times)
            if placed_first is None:
                placed_first = first
            assert slots.tolist() == list(range(first - placed_first, last + 1 - placed_first))
        else:
            assert kind in ("lost", "suspect", "duplicate")
    kinds = [k for *_, k, _ in events]
    assert kinds.count("duplicate") == ops.count("dup")


def test_truncated_frame_is_dropped_whole_and_becomes_a_gap():
    timeline = DeviceClockTimeline(FS)
    grid = SlotGrid(FS)
    for k, count in enumerate([71, 71, 40, 71]):  # the third lost its tail
        last = (k + 1) * 71 - 1
        placed = timeline.place(frame_ns(last, (0, EPOCH_NS)), count, last / FS)
        if k == 2:
            assert placed.kind == "suspect"
            continue
        slots, gaps = grid.place(placed.times)
        if k == 3:
            assert gaps == [(142, 71)]
            assert slots[0] == 213


def test_frames_after_lost_ones_are_placed_back_from_their_time_stamp():
    timeline = DeviceClockTimeline(FS)
    a = timeline.place(frame_ns(70, (0, EPOCH_NS)), 71, 70 / FS)
    b = timeline.place(frame_ns(70 + 3 * 71, (0, EPOCH_NS)), 71, (70 + 3 * 71) / FS)
    # The SDK would spread 71 samples over 213 periods; they belong to the last 71.
    assert b.times[0] - a.times[-1] == pytest.approx((2 * 71 + 1) / FS, abs=1e-6)
    assert np.diff(b.times) == pytest.approx(np.full(70, 1 / FS), abs=1e-6)


def test_clock_reset_is_reanchored_on_host_time_and_noted():
    timeline = DeviceClockTimeline(FS)
    timeline.place(frame_ns(70, (0, EPOCH_NS)), 71, 70 / FS)
    placed = timeline.place(frame_ns(141, (71, H10_DEFAULT_TIME_NS)), 71, 141 / FS)
    assert placed.kind == "ok"
    assert placed.note is not None and placed.note["kind"] == "device_clock_jump"
    assert placed.times[0] == pytest.approx(71 / FS, abs=1e-6)  # host time: no gap


def test_late_burst_is_not_a_clock_jump():
    """Frames held back 30 s by the host stack arrive together: their stamps rule."""
    timeline = DeviceClockTimeline(FS, jitter_s=0.25)
    timeline.place(frame_ns(70, (0, EPOCH_NS)), 71, 70 / FS)
    late = 70 / FS + 30.0
    for k in range(1, 5):
        placed = timeline.place(frame_ns(70 + k * 71, (0, EPOCH_NS)), 71, late)
        assert placed.kind == "ok" and placed.note is None
        assert placed.times[-1] == pytest.approx((70 + k * 71) / FS, abs=1e-6)


# ------------------------------------------------------------------------- host-timed


@settings(max_examples=150, deadline=None)
@given(
    fs=st.sampled_from([12.5, 50.0, 100.0]),
    ops=st.lists(
        st.sampled_from(["ok"] * 5 + ["drop", "dup", "burst", "restart"]), min_size=3, max_size=80
    ),
)
def test_host_timeline_with_exact_arrivals_places_every_sample_on_its_true_slot(fs, ops):
    """Host time exact (a virtual clock): lost notifications of any length become gaps."""
    n = 3
    timeline = HostClockTimeline(fs, jitter_s=0.0)
    grid = SlotGrid(fs)
    first_placed = None
    k = 0
    pending: list[int] = []  # a burst: notifications held and let go together
    for op in ops:
        firsts = [100 + (k + j) * n for j in range(3 if op == "burst" else 1)]
        k += len(firsts)
        if op == "drop":
            continue
        if op == "restart":
            timeline.restart()
        arrival = (firsts[-1] + n - 1) / fs
        data = bytes([k % 256])
        assert not timeline.is_duplicate(data, arrival, n)
        if op == "dup":
            assert timeline.is_duplicate(data, arrival, n)
        pending = firsts
        placed = timeline.place(n * len(pending), arrival)
        slots, _ = grid.place(placed.times)
        if first_placed is None:
            first_placed = pending[0]
        expected = np.concatenate([np.arange(f, f + n) for f in pending]) - first_placed
        assert slots.tolist() == expected.tolist()


def test_host_timeline_tolerates_jitter_below_its_tolerance():
    timeline = HostClockTimeline(50.0, jitter_s=0.25)
    grid = SlotGrid(50.0)
    rng = np.random.default_rng(1)
    slots = []
    for k in range(200):
        arrival = (k * 3 + 2) / 50.0 + rng.uniform(0, 0.2)  # BLE delivery delay
        s, _ = grid.place(timeline.place(3, arrival).times)
        slots.extend(s.tolist())
    assert slots == list(range(600))
