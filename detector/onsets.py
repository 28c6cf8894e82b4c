"""Onsets of short transients, placed where the movement's own envelope rises.

The burst detector opens a burst where the envelope first exceeds twice the noise. For a large,
sharp transient that is too early whenever anything precedes the movement at a few percent of its
size: a sensor's decimation filter spreads ripple ahead of a sharp edge (a linear-phase FIR rings
symmetrically, Gibbs), and the larger the jerk the earlier that ripple crosses a noise-relative
threshold (at 12.5 Hz a 0.5 g jerk opened up to 0.4 s early on the benchmark nights). Here the
onset of a transient is re-measured on its raw samples, with the detector's own filters and
envelope, as the first sample of the run before the peak in which the envelope stays at or above
:data:`ONSET_ENERGY_FRACTION` of the peak: a threshold relative to the movement, so the onset no
longer depends on how large the movement is.

The same snippet gives two measures of the transient's shape (:func:`transient_shape`) that do
not depend on its size or on the sensor's orientation: how much of its movement lies along one
direction, and its mean frequency.
"""

from __future__ import annotations

import numpy as np

from hypnic.detector.bursts import BurstParams, butter2, lowpass_delay_s

#: 2 % of the peak envelope (energy), 14 % of the peak amplitude: above the ripple a decimation
#: filter puts ahead of a sharp edge, and below the first tenth of a jerk's rise. Chosen on the
#: benchmark's jerks at 12.5-100 Hz and amplitudes x1-x2 (onset error within +-0.06 s at every
#: rate; 0.05 and 0.1 were late at 12.5 Hz).
ONSET_ENERGY_FRACTION = 0.02
#: The band-pass needs this much signal before a burst to settle (1 Hz high-pass: ~0.5 s).
SETTLE_S = 1.0


def relative_onset(
    t: np.ndarray, xyz: np.ndarray, onset_s: float, offset_s: float, fs: float, params: BurstParams
) -> float:
    """The onset of one burst re-measured on raw samples around it (see the module docstring).

    Parameters
    ----------
    t : ndarray of float, shape (n,)
        Sample times (s) of a stretch that holds the burst and at least :data:`SETTLE_S` before it.
    xyz : ndarray, shape (n, 3)
        Raw acceleration (g).
    onset_s, offset_s : float
        The detector's burst (same clock as ``t``, delay already removed).
    fs : float
    params : BurstParams

    Returns
    -------
    float
        The relative onset, never earlier than ``onset_s``; ``onset_s`` itself when the samples
        do not allow a measurement (a gap, too little before the burst).
    """
    seg = _band_passed(t, xyz, onset_s, fs, params)
    return float(onset_s) if seg is None else _onset_in(seg, onset_s, offset_s, fs, params)


def _onset_in(
    seg: tuple[np.ndarray, np.ndarray], onset_s: float, offset_s: float, fs: float, params: BurstParams
) -> float:
    """:func:`relative_onset` on an already band-passed stretch (:func:`_band_passed`)."""
    from scipy.signal import lfilter

    ts, y = seg
    alpha = 1.0 - np.exp(-1.0 / (fs * params.envelope_s))
    e2 = lfilter([alpha], [1.0, alpha - 1.0], np.sum(y * y, axis=1))
    idx = np.flatnonzero((ts >= onset_s - 0.5 / fs) & (ts <= offset_s + 0.5 / fs))
    if idx.size == 0:
        return float(onset_s)
    k = int(idx[np.argmax(e2[idx])])
    below = np.flatnonzero(e2[idx[0] : k + 1] < ONSET_ENERGY_FRACTION * e2[k])
    first = idx[0] + (int(below[-1]) + 1 if below.size else 0)
    return float(max(ts[first], onset_s))


def _band_passed(
    t: np.ndarray, xyz: np.ndarray, onset_s: float, fs: float, params: BurstParams
) -> tuple[np.ndarray, np.ndarray] | None:
    """The gap-free stretch of a snippet that holds ``onset_s``, band-passed with the detector's
    filters: (times with the low-pass delay taken off, (n, 3) signal); None when the stretch is
    too short for the filters to settle."""
    from scipy.signal import lfilter  # here: scipy.signal takes seconds to import cold

    t = np.asarray(t, dtype=np.float64)
    if t.size < 3:
        return None
    delay = lowpass_delay_s(fs, params)
    # Only the stretch without a gap that holds the burst: the filters restart at a gap.
    cut = np.flatnonzero(np.diff(t) > 1.5 / fs) + 1
    seg = np.split(np.arange(t.size), cut)
    inside = [s for s in seg if s.size and t[s[0]] <= onset_s + delay <= t[s[-1]]]
    if not inside:
        return None
    s = inside[0]
    if onset_s + delay - t[s[0]] < SETTLE_S:
        return None
    x = np.asarray(xyz, dtype=np.float64)[s]
    hp = butter2(min(params.highpass_hz, 0.2 * fs / 2), fs, highpass=True)
    lp = butter2(min(params.lowpass_hz, 0.8 * fs / 2), fs, highpass=False)
    y = lfilter(hp[:3], [1.0, hp[3], hp[4]], x - x[0], axis=0)
    y = lfilter(lp[:3], [1.0, lp[3], lp[4]], y, axis=0)
    return t[s] - delay, y


def transient_shape(
    t: np.ndarray, xyz: np.ndarray, onset_s: float, offset_s: float, fs: float, params: BurstParams
) -> tuple[float, float]:
    """Linearity and relative mean frequency of one transient, from its raw snippet.

    * linearity: the share of the band-passed movement's variance along its main direction
      (largest eigenvalue of the 3 × 3 covariance over the burst, over their sum). A twitch is one
      brief push of one segment, nearly along one line (≥ 0.98 on the benchmark's nights); a jerk
      contracts several muscle groups at once (DOMAIN.md §1.2) and sets the limb ringing in other
      directions.
    * relative mean frequency: Rice's RMS frequency of the band-passed movement over the burst,
      √(Σ|ẏ|² / Σ|y|²) / 2π, over the top of the detector's band (its low-pass, capped at 0.4 fs),
      so that one scale serves every sample rate. A jerk's EMG burst lasts 75-250 ms;
      fragmentary myoclonus ≤ 150 ms (DOMAIN.md §1.2-1.3): the shorter pulse has the higher
      frequency.

    Both are ratios: the transient's size does not change them, nor does a rotation of the
    sensor. NaN when the snippet does not allow a measurement.
    """
    seg = _band_passed(t, xyz, onset_s, fs, params)
    return (np.nan, np.nan) if seg is None else _shape_in(seg, onset_s, offset_s, fs, params)


def _shape_in(
    seg: tuple[np.ndarray, np.ndarray], onset_s: float, offset_s: float, fs: float, params: BurstParams
) -> tuple[float, float]:
    """:func:`transient_shape` on an already band-passed stretch (:func:`_band_passed`)."""
    ts, y = seg
    inside = (ts >= onset_s - 0.5 / fs) & (ts <= offset_s + 0.5 / fs)
    if np.count_nonzero(inside) < 3:
        return np.nan, np.nan
    yy = y[inside]
    power = float(np.sum(yy * yy))
    if not power > 0:
        return np.nan, np.nan
    eig = np.linalg.eigvalsh(yy.T @ yy)
    linearity = float(eig[-1] / max(eig.sum(), 1e-300))
    d = np.diff(yy, axis=0) * fs
    freq = float(np.sqrt(np.sum(d * d) / power) / (2 * np.pi))
    return linearity, freq / min(params.lowpass_hz, 0.8 * fs / 2)


def measure_transient(
    t: np.ndarray, xyz: np.ndarray, onset_s: float, offset_s: float, fs: float, params: BurstParams
) -> tuple[float, float, float]:
    """Relative onset, linearity and relative mean frequency of one transient, from one
    band-pass of its raw samples (:func:`relative_onset`, then :func:`transient_shape` from the
    re-measured onset: the same gap-free stretch holds both onsets)."""
    seg = _band_passed(t, xyz, onset_s, fs, params)
    if seg is None:
        return float(onset_s), np.nan, np.nan
    on = _onset_in(seg, onset_s, offset_s, fs, params)
    return (on, *_shape_in(seg, on, offset_s, fs, params))


def measure_transients(
    events: np.ndarray,
    which: np.ndarray,
    snippets: dict[float, tuple[np.ndarray, np.ndarray]],
    fs: float,
    params: BurstParams,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`measure_transient` for the bursts ``which`` (bool mask) from their raw snippets.

    ``snippets`` maps a burst's onset to ``(t - onset, xyz)`` (:class:`detector.snippets.
    SnippetCollector`); bursts without one keep their onset and get no shape.

    Returns
    -------
    onsets : ndarray of float, shape (n,)
        Every burst's onset (a copy), re-measured where measured.
    shapes : ndarray of float, shape (n, 2)
        Linearity and relative mean frequency per burst; NaN for the others.
    """
    onsets = events["onset_s"].astype(np.float64, copy=True)
    shapes = np.full((events.shape[0], 2), np.nan)
    for i in np.flatnonzero(which):
        on = float(events["onset_s"][i])
        snip = snippets.get(on)
        if snip is not None:
            onsets[i], shapes[i, 0], shapes[i, 1] = measure_transient(
                snip[0] + on, snip[1], on, float(events["offset_s"][i]), fs, params
            )
    return onsets, shapes
