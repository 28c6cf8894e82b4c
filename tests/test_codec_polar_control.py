"""Polar PMD control point: settings TLVs, requests, responses, continuation, device side.

The TLV reference serialiser below uses ``struct`` with its own table of value formats
(BLE.md §1.3), independent of the module's. Byte strings marked BLE.md are the research
helper's constructions and its end-to-end check with a fake device (BLE.md §1.3, §4.2).
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError
from hypnic.firmware_bridge.codecs.polar_pmd import (
    AccFrameType,
    MeasurementType,
    counts_from_g,
    decode_acc,
    encode_acc,
)
from hypnic.firmware_bridge.codecs.polar_pmd_control import (
    MeasurementStopped,
    OpCode,
    PmdControlPointServer,
    RecordingType,
    SettingType,
    Status,
    build_features,
    build_measurement_stopped,
    build_request,
    build_response,
    build_settings,
    get_settings_request,
    join_responses,
    parse_control_notification,
    parse_features,
    parse_request,
    parse_response,
    parse_settings,
    split_response,
    start_request,
    stop_request,
)

ACC = MeasurementType.ACC
REF_FORMAT = {0: "<H", 1: "<H", 2: "<H", 3: "<i", 4: "<B", 5: "<f", 6: "<16s"}


def ref_tlv(settings: dict[int, list]) -> bytes:
    out = b""
    for code, values in settings.items():
        out += bytes((code, len(values))) + b"".join(
            struct.pack(REF_FORMAT[code], v) for v in values
        )
    return out


def setting_values(code: int):
    if code in (0, 1, 2):
        return st.integers(0, 0xFFFF)
    if code == 3:
        return st.integers(-(1 << 31), (1 << 31) - 1)
    if code == 4:
        return st.integers(0, 255)
    if code == 5:
        return st.floats(width=32, allow_nan=False)
    return st.binary(min_size=16, max_size=16)


@st.composite
def settings_dicts(draw):
    codes = draw(st.lists(st.integers(0, 6), unique=True, max_size=7))
    return {code: draw(st.lists(setting_values(code), max_size=6)) for code in sorted(codes)}


@given(settings_dicts())
def test_settings_parse_independent_tlv(settings):
    parsed = parse_settings(ref_tlv(settings))
    assert {int(k): list(v) for k, v in parsed.items()} == settings
    assert build_settings(settings) == ref_tlv(settings)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00", "header truncated"),
        (b"\x07\x01\x00", "unknown setting type 7"),
        (b"\x00\x02\x34\x00\x68", "announces 2 values"),
        (b"\x04\x01\x03\x04\x01\x03", "appears twice"),
    ],
)
def test_settings_malformed(data, message):
    with pytest.raises(CodecError, match=message):
        parse_settings(data)


def test_client_requests():
    assert get_settings_request() == b"\x01\x02"
    assert stop_request() == b"\x03\x02"
    start = start_request(
        ACC, {SettingType.SAMPLE_RATE: 200, SettingType.RESOLUTION: 16, SettingType.RANGE: 8}
    )
    assert start.hex() == "020200 01c800 010110 00020108 00".replace(" ", "")  # BLE.md §1.3
    assert build_request(OpCode.REQUEST_MEASUREMENT_START, MeasurementType.SDK_MODE) == b"\x02\x09"
    assert (
        build_request(OpCode.GET_MEASUREMENT_SETTINGS, ACC, recording_type=RecordingType.OFFLINE)
        == b"\x01\x82"
    )
    with pytest.raises(ValueError, match="FACTOR"):
        start_request(ACC, {SettingType.FACTOR: 1.0})


@given(
    st.integers(0, 255),
    st.integers(0, 63),
    st.sampled_from(list(RecordingType)),
    st.binary(max_size=30),
)
def test_request_round_trip(op, mt, recording, params):
    request = parse_request(bytes((op, recording << 7 | mt)) + params)
    assert (
        request.op_code,
        request.measurement_type,
        request.recording_type,
        request.parameters,
    ) == (
        op,
        mt,
        recording,
        params,
    )


@given(st.integers(0, 255), st.integers(0, 63), st.binary(max_size=600), st.integers(6, 250))
def test_response_split_and_join(op, mt, params, max_length):
    parts = split_response(op, mt, Status.SUCCESS, params, max_length)
    assert all(len(p) <= max(max_length, 5) for p in parts)
    parsed = [parse_response(p) for p in parts]
    joined = join_responses(parsed)
    assert (joined.op_code, joined.measurement_type, joined.parameters, joined.more) == (
        op,
        mt,
        params,
        False,
    )
    assert joined.ok


def test_error_response_has_no_parameters():
    response = parse_response(
        build_response(OpCode.REQUEST_MEASUREMENT_START, ACC, Status.INVALID_RANGE)
    )
    assert not response.ok and response.parameters == b"" and not response.more
    assert response.status_text.startswith("INVALID_RANGE: ")
    assert "not a documented" in parse_response(b"\xf0\x01\x02\x63").status_text
    with pytest.raises(ValueError):
        build_response(1, 2, Status.INVALID_RANGE, b"\x00")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xf0\x01\x02", "at least 4"),
        (b"\xf1\x01\x02\x00\x00", "not 0xf0"),
        (b"\xf0\x01\x02\x00", "'more' byte"),
    ],
)
def test_response_malformed(data, message):
    with pytest.raises(CodecError, match=message):
        parse_response(data)


def test_join_rejects_out_of_sequence_parts():
    a = parse_response(build_response(1, 2, parameters=b"ab", more=True))
    b = parse_response(build_response(1, 2, parameters=b"cd"))
    other = parse_response(build_response(1, 6, parameters=b"cd"))
    assert join_responses([a, b]).parameters == b"abcd"
    for parts in ([], [b, a], [a, other], [a]):
        with pytest.raises(CodecError):
            join_responses(parts)


def test_device_initiated_stop():
    note = parse_control_notification(build_measurement_stopped([ACC, MeasurementType.ECG]))
    assert note == MeasurementStopped((2, 0))
    assert isinstance(
        parse_control_notification(b"\xf0\x03\x02\x00\x00"),
        type(parse_response(b"\xf0\x03\x02\x00\x00")),
    )
    for data in (b"", b"\x05\x02"):
        with pytest.raises(CodecError):
            parse_control_notification(data)


@given(st.sets(st.integers(0, 15)))
def test_features_round_trip(types):
    assert parse_features(build_features(types)) == frozenset(types)


def test_features_bytes():
    assert build_features([MeasurementType.ECG, ACC]) == bytes.fromhex("0f0500")  # BLE.md §4.2
    assert parse_features(bytes.fromhex("0f2402")) == {
        ACC,
        MeasurementType.GYRO,
        MeasurementType.SDK_MODE,
    }
    assert parse_features(b"\x0f\x04") == {ACC}
    for data in (b"\x0f", b"\xf0\x04\x00"):
        with pytest.raises(CodecError):
            parse_features(data)


H10 = {
    ACC: {
        SettingType.SAMPLE_RATE: (25, 50, 100, 200),
        SettingType.RESOLUTION: (16,),
        SettingType.RANGE: (2, 4, 8),
    }
}


def test_server_get_settings_matches_fake_device_bytes():
    server = PmdControlPointServer(H10)
    # the fake H10 of BLE.md §4.2 answered exactly this
    assert server.handle(b"\x01\x02") == [
        bytes.fromhex("f0010200000004190032006400c800010110000203020004000800")
    ]
    assert server.features() == bytes.fromhex("0f0400")


def test_server_stream_lifecycle():
    verity = {
        ACC: {
            SettingType.SAMPLE_RATE: (26, 52, 104),
            SettingType.RESOLUTION: (16,),
            SettingType.RANGE: (2, 4, 8, 16),
        }
    }
    server = PmdControlPointServer(verity, factors={ACC: 0.000244})
    start = start_request(ACC, {SettingType.SAMPLE_RATE: 52, SettingType.RANGE: 8})
    (reply,) = server.handle(start)
    response = parse_response(reply)
    assert response.ok
    assert math.isclose(response.settings()[SettingType.FACTOR][0], 0.000244, rel_tol=1e-6)
    assert server.running[ACC] == {
        SettingType.SAMPLE_RATE: 52,
        SettingType.RESOLUTION: 16,
        SettingType.RANGE: 8,
    }
    assert parse_response(server.handle(start)[0]).status == Status.ALREADY_IN_STATE
    assert server.handle(stop_request()) == [bytes.fromhex("f003020000")]
    assert parse_response(server.handle(stop_request())[0]).status == Status.ALREADY_IN_STATE
    server.handle(start)
    assert parse_control_notification(server.stop_all()) == MeasurementStopped((ACC,))
    assert server.stop_all() is None and not server.running


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"\x02", Status.INVALID_LENGTH),
        (b"\x0a\x02", Status.INVALID_OP_CODE),
        (b"\x01\x04", Status.INVALID_MEASUREMENT_TYPE),
        (b"\x01\x00", Status.NOT_SUPPORTED),
        (b"\x01\x82", Status.NOT_SUPPORTED),
        (b"\x05\x02", Status.NOT_SUPPORTED),
        (b"\x01\x02\x00", Status.INVALID_LENGTH),
        (b"\x02\x02\x00\x01\x34", Status.INVALID_LENGTH),
        (b"\x02\x02\x00\x01\x34\x00", Status.INVALID_SAMPLE_RATE),
        (b"\x02\x02\x01\x01\x0e\x00", Status.INVALID_RESOLUTION),
        (b"\x02\x02\x02\x01\x10\x00", Status.INVALID_RANGE),
        (b"\x02\x02\x00\x02\x19\x00\x32\x00", Status.INVALID_PARAMETER),
        (b"\x02\x02\x04\x01\x03", Status.INVALID_PARAMETER),
    ],
)
def test_server_failure_statuses(request_bytes, status):
    (reply,) = PmdControlPointServer(H10).handle(request_bytes)
    response = parse_response(reply)
    assert response.status == status and response.op_code == request_bytes[0]


def test_server_splits_long_responses_by_mtu():
    many = {ACC: {SettingType.SAMPLE_RATE: tuple(range(1, 60)), SettingType.RANGE: (2,)}}
    server = PmdControlPointServer(many, max_notification_length=20)
    parts = server.handle(get_settings_request())
    assert len(parts) > 1 and all(len(p) <= 20 for p in parts)
    joined = join_responses([parse_response(p) for p in parts])
    assert joined.settings()[SettingType.SAMPLE_RATE] == tuple(range(1, 60))


def test_simulated_verity_session_end_to_end():
    """Device side and client side together: start, FACTOR, compressed frames, chained times."""
    verity = {
        ACC: {
            SettingType.SAMPLE_RATE: (52,),
            SettingType.RESOLUTION: (16,),
            SettingType.RANGE: (8,),
        }
    }
    server = PmdControlPointServer(verity, factors={ACC: 0.000244})
    assert parse_features(server.features()) == {ACC}
    offered = parse_response(server.handle(get_settings_request())[0]).settings()
    rate = offered[SettingType.SAMPLE_RATE][0]
    selected = {code: values[0] for code, values in offered.items()}
    factor = parse_response(server.handle(start_request(ACC, selected))[0]).settings()[
        SettingType.FACTOR
    ][0]

    rng = np.random.default_rng(7)
    g = np.cumsum(rng.normal(0, 0.01, (71 * 3, 3)), axis=0) + [0.0, 0.0, 1.0]
    step = round(1e9 / rate)
    t0 = 820_000_000_000_000_000
    prev, times, decoded = 0, [], []
    for k in range(3):
        chunk = g[71 * k : 71 * (k + 1)]
        last_ns = t0 + step * (71 * (k + 1) - 1)
        data = encode_acc(
            counts_from_g(chunk, AccFrameType.DELTA_G, factor), last_ns, AccFrameType.DELTA_G
        )
        frame = decode_acc(data, factor=factor, sample_rate=rate, prev_timestamp_ns=prev)
        prev = frame.frame_time_ns
        times.append(frame.timestamps_ns)
        decoded.append(frame.g)
    assert np.abs(np.concatenate(decoded) - g).max() <= 0.000244 / 2 + 1e-6
    times = np.concatenate(times)
    assert np.all(np.abs(np.diff(times) - step) <= 1)
    assert parse_response(server.handle(stop_request())[0]).ok
