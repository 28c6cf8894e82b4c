"""Polar PMD delta compression against an independent encoder written here.

The reference encoder below packs with Python big integers (one little-endian integer per
block, deltas OR-ed in at increasing bit offsets), a different route from the module's
numpy ``packbits``; it follows the layout in BLE.md §1.6 and is not derived from any SDK code.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from hypnic.firmware_bridge.codecs import CodecError
from hypnic.firmware_bridge.codecs.polar_pmd_delta import (
    decode_delta,
    encode_delta,
    signed_bit_width,
)


def ref_encode(
    reference: list[int], blocks: list[tuple[int, list[list[int]]]], resolution: int
) -> bytes:
    """Reference sample, then per block ``(bit width, deltas per sample)``."""
    nb = (resolution + 7) // 8
    out = b"".join(v.to_bytes(nb, "little", signed=True) for v in reference)
    for width, deltas in blocks:
        packed, position = 0, 0
        for sample in deltas:
            for delta in sample:
                packed |= (delta & ((1 << width) - 1)) << position
                position += width
        out += bytes((width, len(deltas))) + packed.to_bytes((position + 7) // 8, "little")
    return out


def ref_walk(reference: list[int], blocks) -> list[list[int]]:
    samples = [list(reference)]
    for _, deltas in blocks:
        for sample in deltas:
            samples.append([a + d for a, d in zip(samples[-1], sample, strict=True)])
    return samples


def ref_width(values) -> int:
    """Smallest two's-complement width holding every value (slow and obvious)."""
    width = 1
    while not all(-(1 << (width - 1)) <= v < (1 << (width - 1)) for v in values):
        width += 1
    return width


@st.composite
def delta_frames(draw, channels=None, resolutions=(16,)):
    resolution = draw(st.sampled_from(resolutions))
    channels = channels or draw(st.integers(1, 4))
    half = 1 << (resolution - 1)
    reference = draw(st.lists(st.integers(-half, half - 1), min_size=channels, max_size=channels))
    blocks = []
    for _ in range(draw(st.integers(0, 4))):
        width = draw(st.integers(2, 16))
        lim = 1 << (width - 1)
        count = draw(st.integers(0, 40))
        deltas = draw(
            st.lists(
                st.lists(st.integers(-lim, lim - 1), min_size=channels, max_size=channels),
                min_size=count,
                max_size=count,
            )
        )
        blocks.append((width, deltas))
    return reference, blocks, resolution


@given(delta_frames(resolutions=(16,)))
def test_decode_matches_independent_encoder_acc(frame):
    """Random references, widths 2-16, block sizes 0-40, 0-4 blocks at the ACC resolution:
    the decoder returns the walk, or refuses it exactly when the walk leaves int16."""
    reference, blocks, resolution = frame
    channels = len(reference)
    data = ref_encode(reference, blocks, resolution)
    expected = ref_walk(reference, blocks)
    flat = [v for s in expected for v in s]
    if min(flat) < -(1 << 15) or max(flat) >= 1 << 15:
        event("walk leaves int16")
        with pytest.raises(CodecError, match="range"):
            decode_delta(data, channels, resolution)
    else:
        assert decode_delta(data, channels, resolution).tolist() == expected


@given(delta_frames(resolutions=(8, 12, 14, 22, 24)))
def test_decode_other_resolutions(frame):
    reference, blocks, resolution = frame
    # references are drawn in range; narrow resolutions packed into whole bytes sign-extend
    data = ref_encode(reference, blocks, resolution)
    expected = ref_walk(reference, blocks)
    half = 1 << (resolution - 1)
    flat = [v for s in expected for v in s]
    if min(flat) < -half or max(flat) >= half:
        with pytest.raises(CodecError):
            decode_delta(data, len(reference), resolution)
    else:
        assert decode_delta(data, len(reference), resolution).tolist() == expected


int16_streams = st.lists(
    st.tuples(*[st.integers(-(1 << 15), (1 << 15) - 1)] * 3), min_size=1, max_size=300
)


@given(int16_streams, st.integers(1, 255))
def test_module_encoder_equals_independent_encoder(samples, block_size):
    """Random int16 streams: the module's bytes equal the independent encoder's given the
    same block split and the smallest width (at least 2) per block."""
    arr = np.array(samples, dtype=np.int64)
    deltas = np.diff(arr, axis=0).tolist()
    blocks = []
    for start in range(0, len(deltas), block_size):
        chunk = deltas[start : start + block_size]
        blocks.append((max(2, ref_width([v for s in chunk for v in s])), chunk))
    expected = ref_encode(list(arr[0].tolist()), blocks, 16)
    assert encode_delta(arr, 16, block_size=block_size) == expected
    assert decode_delta(expected, 3, 16).tolist() == arr.tolist()


@given(int16_streams, st.integers(1, 255), st.integers(1, 16))
def test_module_round_trip(samples, block_size, min_width):
    arr = np.array(samples, dtype=np.int64)
    data = encode_delta(arr, 16, block_size=block_size, min_bit_width=min_width)
    assert decode_delta(data, 3, 16).tolist() == arr.tolist()


@given(st.lists(st.integers(-(1 << 40), 1 << 40), max_size=30))
def test_signed_bit_width_matches_slow_reference(values):
    assert signed_bit_width(np.array(values, dtype=np.int64)) == ref_width(values)


def test_bit_width_one_is_twos_complement():
    """Our policy for 1-bit deltas (the SDK gives +2**31-1, polar-python +1): a set bit is -1."""
    data = ref_encode([5, 5, 5], [(1, [[-1, 0, -1], [0, -1, 0]])], 16)
    assert data[6:] == bytes((1, 2, 0b00_010_101))
    assert decode_delta(data, 3, 16).tolist() == [[5, 5, 5], [4, 5, 4], [4, 4, 4]]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(5), "shorter than its reference"),
        (bytes(6) + b"\x04", "header truncated"),
        (bytes(6) + b"\x00\x01", "bit width 0"),
        (bytes(6) + b"\x21\x01" + bytes(13), "bit width 33"),
        (bytes(6) + b"\x08\x02" + bytes(5), "needs 6 bytes"),
        (b"\xff\x7f" + bytes(4) + b"\x02\x01\x01", "range"),  # 32767 + 1
    ],
)
def test_malformed_content(content, message):
    with pytest.raises(CodecError, match=message):
        decode_delta(content, 3, 16)


def test_reference_only_frame_is_one_sample():
    assert decode_delta(b"\x01\x00\x02\x00\x03\x00", 3, 16).tolist() == [[1, 2, 3]]


def test_zero_count_block_is_empty():
    assert decode_delta(bytes(6) + b"\x05\x00" + b"\x02\x01\x3f", 3, 16).tolist() == [
        [0, 0, 0],
        [-1, -1, -1],
    ]
