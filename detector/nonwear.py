"""Non-wear: a sensor lying still on a table must not look like perfect sleep.

A worn sensor, even in the deepest sleep, moves with the body: breathing (0.2-0.33 Hz) and the
heartbeat reach the wrist and the leg at the mg level (DOMAIN.md §5.2: respiration and pulse are
recoverable from wrist accelerometers during sleep). Averaged over one second, white sensor
noise nearly vanishes (its standard deviation is ND/√2 for a noise density ND) while breathing
does not, and it swings with the breath's 3-5 s period. A sensor on a nightstand shows no
movement at all, one-second posture means that wander no more than its own noise predicts, and
no rhythm in them. Such spans of at least 5 minutes (2 at the recording's start or end) are
non-wear.
"""

from __future__ import annotations

import warnings

import numpy as np

#: Minimum length of a non-wear span. GGIR uses 60-min windows for daytime non-wear; at night a
#: still sleeper is common, so the breathing-rhythm test carries the decision and 5 min of
#: 1-s means (900 values, null s.d. of the autocorrelation 0.03) suffice.
MIN_NONWEAR_S = 300.0
#: A span cut by the start or the end of the recording (the sensor put on after recording began,
#: or taken off shortly before it stopped) needs only 2 min: 360 values still put white noise's
#: autocorrelation at s.d. 0.05, half the rhythm threshold, and breathing stays far above it.
MIN_NONWEAR_EDGE_S = 120.0
#: Window over which micro-motion is measured.
WINDOW_S = 60.0
#: A single still minute is a candidate when its micro-motion is below this multiple of the
#: white-noise expectation (a loose first cut: the expectation is only as good as the noise
#: model; the rhythm test decides).
CANDIDATE_RATIO = 1.5
#: Autocorrelation (lags 1-6 s) of the 1-s posture means below which no breathing is present:
#: five minutes of white noise give |r| ≈ 0.03 (1/√(3·300)); breathing even at a third of the
#: noise power gives |r| > 0.2.
RHYTHM_THRESHOLD = 0.1
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


def breathing_rhythm(resid: np.ndarray, present: np.ndarray) -> float:
    """Strongest autocorrelation of the 1-s posture residuals at lags of 1-6 s.

    Breathing (0.2-0.33 Hz, DOMAIN.md §5.2) makes the 1-s means swing with a 3-5 s period, so
    their autocorrelation at some lag in 1-6 s is far from zero; white sensor noise averaged
    over a second is uncorrelated from one second to the next (null s.d. ≈ 1/√(3n)). Needs no
    model of the sensor's noise level, only its whiteness.
    """
    x = np.where(present[..., None], resid, 0.0).reshape(-1, 3)
    m = present.reshape(-1).astype(np.float64)
    best = 0.0
    for lag in range(1, 7):
        a, b = x[:-lag], x[lag:]
        both = (m[:-lag] * m[lag:])[:, None]
        num = np.sum(a * b * both)
        den = np.sqrt(np.sum(a * a * both) * np.sum(b * b * both))
        if den > 0:
            best = max(best, abs(num / den))
    return best


def sparseness(resid: np.ndarray, present: np.ndarray) -> float:
    """How many times fewer independent values the 1-s residuals hold than Gaussian noise would:
    their kurtosis over 3, at least 1.

    A still sensor whose noise is below its resolution (a 14-bit ±8 g part has ~1 mg steps)
    gives 1-s means that are mostly identical, with a few one-step flickers. Their
    autocorrelation is made by those few flickers, so its spread under no rhythm is that of a
    few values, not of hundreds: the rhythm threshold widens by the square root of this factor
    (for a sparse process of k non-zero values among n, kurtosis ≈ n / k). Breathing makes the
    residuals less heavy-tailed (a sinusoid's kurtosis is 1.5), so a worn sensor is not affected.
    """
    x = resid[present].reshape(-1)
    m2 = float(np.mean(x * x)) if x.size else 0.0
    if m2 <= 0:
        return 1.0
    return max(1.0, float(np.mean(x**4)) / (3.0 * m2 * m2))


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
    if n_win * WINDOW_S < MIN_NONWEAR_EDGE_S:
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
    # Each still minute with little micro-motion is a candidate; a run of them is non-wear when
    # the run shows no breathing rhythm. Minutes with movement (putting the sensor down or on)
    # end a run, so the span's edges are exact to the minute.
    ratio2 = np.where(dof > 0, ss / np.maximum(dof, 1) / expected_var, np.inf)
    candidate = ~moved & (cnt >= w // 2) & (ratio2 < CANDIDATE_RATIO**2)
    spans: list[list[float]] = []
    d = np.diff(np.concatenate([[0], candidate.astype(np.int8), [0]]))
    for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        at_edge = a == 0 or b == n_win
        if (b - a) * WINDOW_S < (MIN_NONWEAR_EDGE_S if at_edge else MIN_NONWEAR_S):
            continue
        # White noise's autocorrelation shrinks as 1/√n: the threshold is 0.1 at 5 min and
        # stays as many null standard deviations away on a shorter span at an edge, and on
        # heavy-tailed residuals (:func:`sparseness`).
        threshold = RHYTHM_THRESHOLD * max(1.0, np.sqrt(MIN_NONWEAR_S / ((b - a) * WINDOW_S)))
        threshold *= np.sqrt(sparseness(resid[a:b], present[a:b]))
        if breathing_rhythm(resid[a:b], present[a:b]) < threshold:
            spans.append([float(t_s[a * w]), float(t_s[b * w - 1] + 1.0)])
    return spans
