"""Byte-level helpers the codecs share: length checks and little-endian int16 triplets."""

from __future__ import annotations

import numpy as np

from hypnic.firmware_bridge.codecs.errors import CodecError

INT16_MIN, INT16_MAX = -(1 << 15), (1 << 15) - 1


def need_length(protocol: str, data: bytes, expected: int, what: str) -> None:
    """Raise :class:`CodecError` unless ``data`` is exactly ``expected`` bytes long."""
    if len(data) != expected:
        raise CodecError(protocol, f"{what} must be {expected} bytes, got {len(data)}")


def read_int16_triplets(protocol: str, data: bytes, what: str) -> np.ndarray:
    """Decode consecutive little-endian int16 x, y, z triplets into an int32 (n, 3) array."""
    if len(data) == 0 or len(data) % 6:
        raise CodecError(
            protocol,
            f"{what} must be a non-empty multiple of 6 bytes (int16 x,y,z), got {len(data)}",
        )
    return np.frombuffer(data, dtype="<i2").astype(np.int32).reshape(-1, 3)


def int16_values_bytes(values: np.ndarray | list, what: str) -> bytes:
    """Encode integers as consecutive little-endian int16, refusing values out of range."""
    arr = np.asarray(values)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.array_equal(arr, np.round(arr)):
            raise ValueError(f"{what} must be whole numbers (counts), not {arr.dtype} fractions")
        arr = arr.astype(np.int64)
    if arr.size and (arr.min() < INT16_MIN or arr.max() > INT16_MAX):
        raise ValueError(f"{what} out of int16 range: {arr.min()}..{arr.max()}")
    return arr.astype("<i2").tobytes()


def triplets(values: np.ndarray | list, what: str) -> np.ndarray:
    """Return ``values`` as an (n, 3) array with n >= 1, or raise ``ValueError``."""
    arr = np.asarray(values)
    if arr.ndim == 1 and arr.shape[0] == 3:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 3 or arr.shape[0] == 0:
        raise ValueError(f"{what} must have shape (n, 3) with n >= 1, got {arr.shape}")
    return arr
