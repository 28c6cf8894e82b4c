"""Every decoder on truncated and mutated input: a valid result or CodecError, nothing else.

Valid seeds come from the modules' encoders; hypothesis truncates them, overwrites, inserts,
deletes and appends bytes, or replaces them with random bytes. A decoder may accept a
mutation that is still well formed (a changed sample value is indistinguishable from a real
one), but what it returns must be consistent: finite g, shapes that agree, counts within the
transmitted width, and sample times that never run backwards and end (Polar) or start
(Movesense) at the frame's own time stamp. Hypothesis' deadline also catches a decoder that
stalls.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import (
    AccFrame,
    CodecError,
    heart_rate,
    metawear,
    microbit,
    movesense,
    thingy52,
    witmotion,
)
from hypnic.firmware_bridge.codecs import polar_pmd as pmd
from hypnic.firmware_bridge.codecs import polar_pmd_control as cp

int16 = st.integers(-(1 << 15), (1 << 15) - 1)
REAL_TIME = 820_000_000_000_000_000


def triples(min_size=1, max_size=40, values=int16):
    return st.lists(st.tuples(values, values, values), min_size=min_size, max_size=max_size).map(
        np.array
    )


@st.composite
def mutations(draw, seed: st.SearchStrategy[bytes]) -> bytes:
    data = draw(seed)
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "overwrite", "insert", "delete", "append", "random"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, max(n - 1, 0)))]
    if kind == "random":
        return draw(st.binary(max_size=2 * n + 8))
    at = draw(st.integers(0, n))
    if kind == "overwrite" and n:
        at = min(at, n - 1)
        patch = draw(st.binary(min_size=1, max_size=n - at))
        return data[:at] + patch + data[at + len(patch) :]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 8)) :]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data + draw(st.binary(min_size=1, max_size=24))


polar_raw = st.tuples(st.sampled_from([0, 1, 2]), st.data()).map(
    lambda t: pmd.encode_acc(t[1].draw(triples(values=st.integers(-128, 127))), REAL_TIME, t[0])
)
polar_delta = st.tuples(
    st.sampled_from([0x80, 0x81]), triples(max_size=80), st.integers(1, 255)
).map(lambda t: pmd.encode_acc(t[1], REAL_TIME, t[0], block_size=t[2]))
settings_blocks = st.dictionaries(
    st.sampled_from([0, 1, 2, 4]), st.lists(st.integers(0, 255), max_size=5)
).map(cp.build_settings)
cp_notifications = st.one_of(
    st.tuples(st.integers(1, 9), st.integers(0, 14), st.binary(max_size=30), st.booleans()).map(
        lambda t: cp.build_response(t[0], t[1], cp.Status.SUCCESS, t[2], more=t[3])
    ),
    st.lists(st.integers(0, 14), max_size=3).map(cp.build_measurement_stopped),
)
cp_requests = st.one_of(
    st.just(cp.get_settings_request()),
    st.just(cp.stop_request()),
    st.sampled_from([25, 50, 100, 200]).map(
        lambda r: cp.start_request(
            pmd.MeasurementType.ACC, {cp.SettingType.SAMPLE_RATE: r, cp.SettingType.RANGE: 8}
        )
    ),
)
H10 = {pmd.MeasurementType.ACC: {0: (25, 50, 100, 200), 1: (16,), 2: (2, 4, 8)}}

metawear_notes = st.one_of(
    triples(1, 1).map(lambda c: metawear.encode_acc(c, metawear.Chip.BMI160, packed=False)),
    triples(3, 3).map(lambda c: metawear.encode_acc(c, metawear.Chip.BMI270, packed=True)),
)
metawear_commands = st.one_of(
    st.sampled_from(
        [metawear.start_command(), metawear.stop_command(), metawear.sampling_command(True)]
    ),
    st.sampled_from([12.5, 50.0, 100.0]).map(
        lambda hz: metawear.config_command(metawear.Chip.BMI160, hz, 8)
    ),
)
floats32 = st.floats(-100, 100, width=32)
movesense_notes = st.tuples(
    st.integers(1, 255), st.integers(0, 2**32 - 1), triples(1, 10, floats32)
).map(lambda t: movesense.encode_acc(*t))
movesense_commands = st.integers(1, 255).map(
    lambda r: movesense.subscribe_command(r, movesense.acc_path(52))
)
movesense_results = st.integers(1, 255).flatmap(
    lambda r: st.sampled_from(
        [movesense.build_hello_response(r), movesense.build_command_result(r, 507)]
    )
)
thingy_raw = triples(3, 3).map(lambda c: thingy52.encode_raw(c[0], c[1], c[2]))
thingy_configs = st.builds(
    thingy52.MotionConfig,
    st.just(1000),
    st.just(1000),
    st.just(1000),
    st.integers(1, 200),
    st.just(0),
).map(thingy52.build_config)
witmotion_data = st.lists(st.lists(int16, min_size=9, max_size=9), min_size=1, max_size=3).map(
    lambda rows: witmotion.encode_data(np.array(rows))
)
witmotion_mixed = st.tuples(
    witmotion_data,
    st.lists(
        st.lists(int16, min_size=8, max_size=8).map(
            lambda v: witmotion.build_register_reply(0x3A, v)
        ),
        max_size=1,
    ),
).map(lambda t: t[0] + b"".join(t[1]))
hr_notes = st.builds(
    heart_rate.HeartRateMeasurement,
    st.integers(0, 400),
    st.sampled_from([None, True, False]),
    st.one_of(st.none(), st.integers(0, 999)),
    st.lists(st.integers(0, 4000), max_size=4).map(tuple),
).map(heart_rate.encode)


CASES: dict[str, tuple[st.SearchStrategy[bytes], Callable[[bytes], object]]] = {
    "polar_raw": (polar_raw, lambda b: pmd.decode_acc(b, sample_rate=52)),
    "polar_delta": (polar_delta, lambda b: pmd.decode_acc(b, factor=0.000244, sample_rate=52)),
    "polar_delta_prev": (
        polar_delta,
        lambda b: pmd.decode_acc(b, factor=1.0, prev_timestamp_ns=REAL_TIME - 10**9),
    ),
    "polar_settings": (settings_blocks, cp.parse_settings),
    "polar_cp_notification": (cp_notifications, cp.parse_control_notification),
    "polar_features": (st.just(cp.build_features([0, 2])), cp.parse_features),
    "polar_device_side": (cp_requests, lambda b: cp.PmdControlPointServer(H10).handle(b)),
    "metawear_acc": (metawear_notes, lambda b: metawear.decode_acc(b, range_g=8)),
    "metawear_command": (
        metawear_commands,
        lambda b: metawear.parse_command(b, metawear.Chip.BMI160),
    ),
    "movesense_acc": (movesense_notes, lambda b: movesense.decode_acc(b, sample_rate=52)),
    "movesense_command": (movesense_commands, movesense.parse_command),
    "movesense_result": (movesense_results, movesense.parse_command_result),
    "thingy52_raw": (thingy_raw, thingy52.decode_acc),
    "thingy52_config": (thingy_configs, thingy52.parse_config),
    "microbit_acc": (triples(1, 1).map(microbit.encode_acc), microbit.decode_acc),
    "microbit_period": (
        st.sampled_from(microbit.PERIODS_MS).map(microbit.encode_period),
        microbit.parse_period_write,
    ),
    "witmotion_acc": (witmotion_mixed, witmotion.decode_acc),
    "witmotion_registers": (witmotion_mixed, witmotion.decode_register_replies),
    "witmotion_command": (st.just(witmotion.unlock_command()), witmotion.parse_command),
    "heart_rate": (hr_notes, heart_rate.decode),
}


def check_frame(frame: AccFrame) -> None:
    n = len(frame)
    assert n >= 1
    assert np.isfinite(frame.g).all()
    if frame.counts is not None:
        assert frame.counts.shape == (n, 3)
        assert np.abs(frame.counts).max() <= 1 << 23  # no wider than int24 is ever sent
    if frame.timestamps_ns is not None:
        assert frame.timestamps_ns.shape == (n,)
        assert np.all(np.diff(frame.timestamps_ns) >= 0)
        assert frame.timestamps_ns[frame.frame_time_index] == frame.frame_time_ns
    if frame.protocol == "polar_pmd" and frame.frame_type & 0x80:
        assert np.abs(frame.counts).max() <= 1 << 15  # delta frames stay within 16 bits


# structured decoders get the most examples; fixed-layout ones fail fast on any length change
DEEP = {"polar_raw", "polar_delta", "polar_delta_prev", "polar_settings", "polar_cp_notification",
        "polar_device_side", "movesense_acc", "witmotion_acc", "heart_rate"}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
def test_mutated_input_gives_result_or_codec_error(name):
    seed, decode = CASES[name]

    @settings(max_examples=100 if name in DEEP else 40)
    @given(blob=mutations(seed))
    def run(blob: bytes) -> None:
        try:
            result = decode(blob)
        except CodecError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(exc.protocol + ": ")
            return
        if isinstance(result, AccFrame):
            check_frame(result)

    run()


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=25)  # the per-codec modules test valid input in depth
@given(data=st.data())
def test_valid_seeds_decode(name, data):
    seed, decode = CASES[name]
    result = decode(data.draw(seed, label="bytes"))
    if isinstance(result, AccFrame):
        check_frame(result)
