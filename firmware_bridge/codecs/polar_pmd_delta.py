"""Polar PMD delta compression: a reference sample, then blocks of packed signed deltas.

Layout (BLE.md §1.6; Polar SDK ``BlePMDClient.parseDeltaFramesAll`` and the PMD PDF
§4.3.2-4.3.3, read for facts only):

- reference sample: ``channels`` little-endian two's-complement integers of
  ``ceil(resolution / 8)`` bytes each, sign-extended from ``resolution`` bits;
- then, until the content ends, byte-aligned blocks ``[bitWidth u8][count u8][packed]``
  where ``packed`` holds ``count * channels`` deltas of ``bitWidth`` bits each, sample by
  sample and channel by channel, taken least-significant bit first from bytes in order, and
  ``ceil(count * channels * bitWidth / 8)`` bytes long;
- ``sample[i] = sample[i - 1] + delta[i]``, so a frame carries ``1 + sum(count)`` samples.

Policies where the SDK is silent or degenerate (BLE.md "Edge cases"):

- bitWidth 1 is read as true two's complement (a set bit is -1); the Kotlin/Swift SDK would
  give +2147483647 and polar-python +1. :func:`encode_delta` never writes widths below 2, so
  every decoder agrees on what it writes.
- bitWidth 0 or above 32, a truncated block header, a block shorter than its count says, and
  a sample outside the ``resolution``-bit range are malformed: :class:`CodecError`.
"""

from __future__ import annotations

import numpy as np

from hypnic.firmware_bridge.codecs.errors import CodecError

PROTOCOL = "polar_pmd"
MAX_BIT_WIDTH = 32  # the SDK decodes into 32-bit Ints; wider deltas cannot occur
MAX_BLOCK_COUNT = 255  # the count is one byte


def _reference_bytes(resolution: int) -> int:
    return (resolution + 7) // 8


def _check_layout(channels: int, resolution: int) -> None:
    if not 1 <= channels <= 255:
        raise ValueError(f"channels must be 1..255, got {channels}")
    if not 1 <= resolution <= 32:
        raise ValueError(f"resolution must be 1..32 bits, got {resolution}")


def decode_delta(content: bytes, channels: int, resolution: int) -> np.ndarray:
    """Decode a delta-compressed PMD frame content into integer samples.

    Parameters
    ----------
    content : bytes
        The frame content after the 10-byte PMD header.
    channels : int
        Channels per sample (3 for ACC).
    resolution : int
        Bits per reference value (16 for ACC, 14 in Polar's old multi-block test).

    Returns
    -------
    ndarray of int64, shape (n, channels)
        The reference sample followed by one sample per delta.

    Raises
    ------
    CodecError
        Content shorter than the reference sample, a truncated block, a bit width of 0 or
        above 32, or a sample outside the ``resolution``-bit signed range.
    """
    _check_layout(channels, resolution)
    nb = _reference_bytes(resolution)
    ref_len = channels * nb
    if len(content) < ref_len:
        raise CodecError(
            PROTOCOL,
            f"delta frame content of {len(content)} bytes is shorter than its reference sample "
            f"({channels} x {nb} bytes)",
        )
    half = 1 << (resolution - 1)
    reference = np.empty(channels, dtype=np.int64)
    for c in range(channels):
        value = int.from_bytes(content[c * nb : (c + 1) * nb], "little", signed=True)
        if value & half:  # values narrower than their bytes are sign-extended from `resolution`
            value |= -half
        reference[c] = value
    deltas = []
    offset = ref_len
    end = len(content)
    while offset < end:
        if end - offset < 2:
            raise CodecError(PROTOCOL, f"delta block header truncated at byte {offset} of {end}")
        width, count = content[offset], content[offset + 1]
        offset += 2
        if not 1 <= width <= MAX_BIT_WIDTH:
            raise CodecError(PROTOCOL, f"delta block bit width {width} outside 1..{MAX_BIT_WIDTH}")
        n_values = count * channels
        n_bytes = (n_values * width + 7) // 8
        if end - offset < n_bytes:
            raise CodecError(
                PROTOCOL,
                f"delta block of {count} samples x {width} bits needs {n_bytes} bytes, "
                f"only {end - offset} left",
            )
        deltas.append(_unpack_signed(content[offset : offset + n_bytes], n_values, width))
        offset += n_bytes
    all_deltas = (
        np.concatenate(deltas).reshape(-1, channels)
        if deltas
        else np.empty((0, channels), dtype=np.int64)
    )
    samples = np.empty((1 + all_deltas.shape[0], channels), dtype=np.int64)
    samples[0] = reference
    np.cumsum(all_deltas, axis=0, out=samples[1:])
    samples[1:] += reference
    lo, hi = samples.min(), samples.max()
    if lo < -half or hi >= half:
        raise CodecError(
            PROTOCOL, f"delta-decoded samples {lo}..{hi} leave the {resolution}-bit range"
        )
    return samples


def _unpack_signed(block: bytes, n_values: int, width: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(block, dtype=np.uint8), bitorder="little")
    bits = bits[: n_values * width].reshape(n_values, width).astype(np.int64)
    values = bits @ (np.int64(1) << np.arange(width, dtype=np.int64))
    return values - (bits[:, -1] << width)  # two's complement: the top bit weighs -2**(w-1)


def signed_bit_width(values: np.ndarray) -> int:
    """Smallest two's-complement width (>= 1) that holds every value in ``values``."""
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return 1
    magnitude = max(int(v.max()), ~int(v.min()))  # ~x maps -1 -> 0, -2**k -> 2**k - 1
    return max(magnitude, 0).bit_length() + 1


def encode_delta(
    samples: np.ndarray,
    resolution: int,
    block_size: int = MAX_BLOCK_COUNT,
    min_bit_width: int = 2,
) -> bytes:
    """Encode integer samples as PMD delta-compressed frame content (the device side).

    Parameters
    ----------
    samples : array of int, shape (n, channels), n >= 1
        Values within the signed ``resolution``-bit range.
    resolution : int
        Bits per reference value.
    block_size : int
        Deltas per block, 1..255; each block gets the smallest bit width that holds its deltas.
    min_bit_width : int
        Narrowest width written; 2 by default so no decoder meets the ambiguous 1-bit case.

    Returns
    -------
    bytes
        Reference sample followed by the blocks, ready to follow a PMD header.
    """
    arr = np.asarray(samples)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"samples must have shape (n, channels) with n >= 1, got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"samples must be integers, got {arr.dtype}")
    arr = arr.astype(np.int64)
    channels = arr.shape[1]
    _check_layout(channels, resolution)
    if not 1 <= block_size <= MAX_BLOCK_COUNT:
        raise ValueError(f"block_size must be 1..{MAX_BLOCK_COUNT}, got {block_size}")
    if not 1 <= min_bit_width <= MAX_BIT_WIDTH:
        raise ValueError(f"min_bit_width must be 1..{MAX_BIT_WIDTH}, got {min_bit_width}")
    half = 1 << (resolution - 1)
    if arr.min() < -half or arr.max() >= half:
        raise ValueError(f"samples {arr.min()}..{arr.max()} leave the {resolution}-bit range")
    nb = _reference_bytes(resolution)
    out = bytearray()
    for value in arr[0]:
        out += int(value).to_bytes(nb, "little", signed=True)
    deltas = np.diff(arr, axis=0)
    for start in range(0, deltas.shape[0], block_size):
        block = deltas[start : start + block_size]
        width = max(min_bit_width, signed_bit_width(block))
        out += bytes((width, block.shape[0]))
        out += _pack_signed(block.ravel(), width)
    return bytes(out)


def _pack_signed(values: np.ndarray, width: int) -> bytes:
    masked = values & ((np.int64(1) << width) - 1)
    bits = ((masked[:, None] >> np.arange(width, dtype=np.int64)) & 1).astype(np.uint8)
    return np.packbits(bits.ravel(), bitorder="little").tobytes()
