"""Bit-unpacking shared by the device formats that pack 12-bit values (GENEActiv, ActiGraph)."""

from __future__ import annotations

import numpy as np


def unpack12(raw: np.ndarray) -> np.ndarray:
    """Split rows of bytes into big-endian 12-bit two's-complement values.

    Every 3 bytes hold two values, most significant nibble first: ``AB CD EF`` -> ``0xABC``,
    ``0xDEF``. This is the packing of GENEActiv ``.bin`` samples (three 12-bit axes and 12
    bits of light/button per 6 bytes) and of ActiGraph ``ACTIVITY`` records (YXZ, 36 bits a
    sample; see the ActiGraph GT3X-File-Format documentation, LogRecords/Activity.md).

    Parameters
    ----------
    raw : ndarray of uint8, shape (m, 3 * k)

    Returns
    -------
    ndarray of int16, shape (m, 2 * k)
        The values, sign-extended from 12 bits.
    """
    b = raw.reshape(raw.shape[0], -1, 3).astype(np.int16)
    out = np.empty((raw.shape[0], b.shape[1], 2), dtype=np.int16)
    out[:, :, 0] = (b[:, :, 0] << 4) | (b[:, :, 1] >> 4)
    out[:, :, 1] = ((b[:, :, 1] & 0x0F) << 8) | b[:, :, 2]
    out = out.reshape(raw.shape[0], -1)
    out[out >= 2048] -= 4096
    return out
