"""Epoch-level views of a night: regular grids of posture (z-angle) and movement.

The burst kernel hands on one row per second that holds samples (mean acceleration, band-passed
RMS, noise). Here those rows are put on a regular grid (missing seconds are NaN, never
interpolated) and aggregated to the 5-s epochs of the sleep literature.
"""

from __future__ import annotations

import warnings

import numpy as np

from hypnic.detector.bursts import EPOCH_DTYPE

#: GGIR / scikit-digital-health z-angle epoch (DOMAIN.md §4.1: anglez per 5-s epoch).
ANGLE_EPOCH_S = 5.0


def regular_grid(epochs: np.ndarray, epoch_s: float, t_end: float | None = None) -> dict[str, np.ndarray]:
    """Put per-second rows on a regular grid starting at t = 0.

    Parameters
    ----------
    epochs : ndarray of EPOCH_DTYPE
        Rows from the burst detector (sorted, unique ``t_s``).
    epoch_s : float
        Grid step of ``epochs`` (the detector's ``epoch_s``).
    t_end : float, optional
        Extend the grid to this time.

    Returns
    -------
    dict of ndarray
        ``t_s`` (grid starts), ``n`` (samples, 0 where missing) and ``x, y, z, rms_g, max_g,
        noise_g`` (NaN where missing).
    """
    if epochs.dtype != EPOCH_DTYPE:
        raise ValueError("epochs must have EPOCH_DTYPE")
    last = epochs["t_s"][-1] if epochs.shape[0] else 0.0
    if t_end is not None:
        last = max(last, t_end)
    first = min(0.0, float(epochs["t_s"][0])) if epochs.shape[0] else 0.0
    i0 = int(np.floor(first / epoch_s))
    n_grid = int(np.floor(last / epoch_s)) - i0 + 1
    idx = np.rint(epochs["t_s"] / epoch_s).astype(np.int64) - i0
    out: dict[str, np.ndarray] = {"t_s": (np.arange(n_grid) + i0) * epoch_s}
    out["n"] = np.zeros(n_grid, dtype=np.int64)
    out["n"][idx] = epochs["n"]
    for name in ("x", "y", "z", "rms_g", "max_g", "noise_g"):
        col = np.full(n_grid, np.nan)
        col[idx] = epochs[name]
        out[name] = col
    return out


def aggregate(grid: dict[str, np.ndarray], factor: int) -> dict[str, np.ndarray]:
    """Aggregate ``factor`` consecutive grid rows: sample-weighted means, RMS of RMS, max, median.

    A last, incomplete block is kept. Blocks without samples are NaN.
    """
    n_rows = grid["n"].shape[0]
    m = -(-n_rows // factor) * factor

    def blocks(a: np.ndarray, fill: float) -> np.ndarray:
        return np.concatenate([a, np.full(m - n_rows, fill, dtype=a.dtype)]).reshape(-1, factor)

    w = blocks(grid["n"].astype(np.float64), 0.0)
    wsum = w.sum(axis=1)
    has = wsum > 0
    out: dict[str, np.ndarray] = {"t_s": blocks(grid["t_s"], np.nan)[:, 0], "n": wsum.astype(np.int64)}
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN blocks are expected (gaps)
        for name in ("x", "y", "z"):
            v = np.nan_to_num(blocks(grid[name], np.nan))
            out[name] = np.where(has, (v * w).sum(axis=1) / wsum, np.nan)
        e2 = np.nan_to_num(blocks(grid["rms_g"], np.nan)) ** 2
        out["rms_g"] = np.where(has, np.sqrt((e2 * w).sum(axis=1) / wsum), np.nan)
        out["max_g"] = np.where(has, np.nanmax(blocks(grid["max_g"], np.nan), axis=1), np.nan)
        out["noise_g"] = np.where(has, np.nanmedian(blocks(grid["noise_g"], np.nan), axis=1), np.nan)
    return out


def z_angle(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
    """anglez = atan(z / sqrt(x² + y²)) in degrees (van Hees 2015/2018; DOMAIN.md §4.1)."""
    return np.degrees(np.arctan2(z, np.hypot(x, y)))


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between rows of two (n, 3) arrays of vectors (orientation change)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.sum(a * b, axis=-1) / (na * nb)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))
