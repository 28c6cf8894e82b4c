"""Non-wear: a sensor lying still on a table must not look like perfect sleep.

A worn sensor, even in the deepest sleep, moves with the body: breathing (0.2-0.33 Hz) and the
heartbeat reach the wrist and the leg at the mg level (DOMAIN.md §5.2: respiration and pulse are
recoverable from wrist accelerometers during sleep). Averaged over one second, white sensor
noise nearly vanishes (its standard deviation is ND/√2 for a noise density ND) while breathing
does not. A sensor on a nightstand shows one-second posture means that wander no more than its
own noise predicts, and no movement at all. Such spans of at least 10 minutes are non-wear.
"""

from __future__ import annotations

import warnings

import numpy as np

#: Minimum length of a non-wear span. GGIR uses 60-min windows for daytime non-wear; at night a
#: still sleeper is common, so the micro-motion test carries the decision and 10 min suffices.
MIN_NONWEAR_S = 600.0
#: Window over which micro-motion is measured.
WINDOW_S = 60.0
#: Micro-motion (std of 1-s means) below this multiple of the white-noise expectation, pooled
#: over 10 minutes, counts as "no body". Breathing at the ankle can be a fraction of the noise.
MICROMOTION_RATIO = 1.25
#: A 1-s mean cannot be resolved finer than ~0.1 mg (quantisation of a 16-bit ±8 g sensor is
#: 0.24 mg; averaging dithers it), so a noiseless quantised sensor on a table stays non-wear.
MEAN_STD_FLOOR_G = 1e-4


def expected_mean_std(noise_rms_g: np.ndarray, fs: float, band_hz: tuple[float, float]) -> np.ndarray:
    """Standard deviation of a 1-s mean of white noise, per axis, from the band-passed noise RMS.

    ``noise_rms_g`` is the RMS of the band-passed 3-axis magnitude: per axis σ_band = rms/√3, the
    noise density ND = σ_band/√(bandwidth), and a 1-s mean of white noise has std ND/√2.
    """
    lo, hi = band_hz
    bw = max(min(hi, 0.4 * fs) - lo, 0.5)
    return noise_rms_g / np.sqrt(3.0) / np.sqrt(bw) / np.sqrt(2.0)


def find_nonwear(
    t_s: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    rms_g: np.ndarray,
    noise_g: np.ndarray,
    fs: float,
    band_hz: tuple[float, float],
    movement_floor_g: float,
) -> list[list[float]]:
    """Find non-wear spans on a regular 1-s grid.

    Parameters
    ----------
    t_s : ndarray of float
        Starts of 1-s grid rows.
    x, y, z : ndarray of float
        Mean acceleration per second (NaN where missing).
    rms_g, noise_g : ndarray of float
        Band-passed movement RMS and the detector's running noise estimate per second.
    fs : float
        Sample rate (Hz).
    band_hz : (float, float)
        The detector's pass band.
    movement_floor_g : float
        Movement RMS above ``max(2 × noise, movement_floor_g)`` means the sensor moved.

    Returns
    -------
    list of [start_s, end_s]
    """
    n = t_s.shape[0]
    w = int(WINDOW_S)
    n_win = n // w
    span = int(MIN_NONWEAR_S // WINDOW_S)
    if n_win < span:
        return []
    xyz = np.stack([x, y, z], axis=1)[: n_win * w].reshape(n_win, w, 3)
    present = ~np.isnan(xyz[..., 0])
    # Residuals of the 1-s means after each minute's own linear trend (slow drift is not
    # micro-motion), summed over the three axes.
    tt = np.arange(w, dtype=np.float64) - (w - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cnt = present.sum(axis=1)
        mean = np.nansum(xyz, axis=1) / cnt[:, None]
        dev = np.where(present[..., None], xyz - mean[:, None, :], 0.0)
        tc = np.where(present, tt[None, :], 0.0)
        slope = np.sum(dev * tc[..., None], axis=1) / np.sum(tc * tc, axis=1)[:, None]
        resid = np.where(present[..., None], dev - slope[:, None, :] * tc[..., None], 0.0)
        ss = np.sum(resid**2, axis=(1, 2))
        dof = np.maximum(3 * (cnt - 2), 0).astype(np.float64)
        noise = np.nanmedian(noise_g[: n_win * w].reshape(n_win, w), axis=1)
        expected_var = np.maximum(expected_mean_std(noise, fs, band_hz), MEAN_STD_FLOOR_G) ** 2
        moved = np.nanmax(rms_g[: n_win * w].reshape(n_win, w), axis=1) > np.maximum(
            2 * noise, movement_floor_g
        )
    # Pool 10 minutes: the variance estimate then has ~1,800 degrees of freedom (3 % error), so
    # a body's breathing a fraction of the noise level still shows.
    k = np.ones(span)
    pooled = np.convolve(np.nan_to_num(ss), k, "same") / np.maximum(np.convolve(dof, k, "same"), 1)
    pooled_exp = np.convolve(np.nan_to_num(expected_var) * dof, k, "same") / np.maximum(
        np.convolve(dof, k, "same"), 1
    )
    still_body = pooled < MICROMOTION_RATIO**2 * pooled_exp
    candidate = still_body & ~moved & (cnt >= w // 2)
    spans: list[list[float]] = []
    d = np.diff(np.concatenate([[0], candidate.astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        if (b - a) * WINDOW_S >= MIN_NONWEAR_S:
            spans.append([float(t_s[a * w]), float(t_s[b * w - 1] + 1.0)])
    return spans
