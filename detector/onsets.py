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
"""

from __future__ import annotations

import numpy as np

from detector.bursts import BurstParams, butter2, lowpass_delay_s

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
    from scipy.signal import lfilter  # here: scipy.signal takes seconds to import cold

    t = np.asarray(t, dtype=np.float64)
    if t.size < 3:
        return float(onset_s)
    delay = lowpass_delay_s(fs, params)
    # Only the stretch without a gap that holds the burst: the filters restart at a gap.
    cut = np.flatnonzero(np.diff(t) > 1.5 / fs) + 1
    seg = np.split(np.arange(t.size), cut)
    inside = [s for s in seg if s.size and t[s[0]] <= onset_s + delay <= t[s[-1]]]
    if not inside:
        return float(onset_s)
    s = inside[0]
    if onset_s + delay - t[s[0]] < SETTLE_S:
        return float(onset_s)
    x = np.asarray(xyz, dtype=np.float64)[s]
    hp = butter2(min(params.highpass_hz, 0.2 * fs / 2), fs, highpass=True)
    lp = butter2(min(params.lowpass_hz, 0.8 * fs / 2), fs, highpass=False)
    y = lfilter(hp[:3], [1.0, hp[3], hp[4]], x - x[0], axis=0)
    y = lfilter(lp[:3], [1.0, lp[3], lp[4]], y, axis=0)
    alpha = 1.0 - np.exp(-1.0 / (fs * params.envelope_s))
    e2 = lfilter([alpha], [1.0, alpha - 1.0], np.sum(y * y, axis=1))
    ts = t[s] - delay
    idx = np.flatnonzero((ts >= onset_s - 0.5 / fs) & (ts <= offset_s + 0.5 / fs))
    if idx.size == 0:
        return float(onset_s)
    k = int(idx[np.argmax(e2[idx])])
    below = np.flatnonzero(e2[idx[0] : k + 1] < ONSET_ENERGY_FRACTION * e2[k])
    first = idx[0] + (int(below[-1]) + 1 if below.size else 0)
    return float(max(ts[first], onset_s))


def refine_onsets(
    events: np.ndarray,
    which: np.ndarray,
    snippets: dict[float, tuple[np.ndarray, np.ndarray]],
    fs: float,
    params: BurstParams,
) -> np.ndarray:
    """Relative onsets for the bursts ``which`` (bool mask) from their raw snippets.

    ``snippets`` maps a burst's onset to ``(t - onset, xyz)`` (:class:`detector.snippets.
    SnippetCollector`); bursts without one keep their onset. Returns all onsets (a copy).
    """
    out = events["onset_s"].astype(np.float64, copy=True)
    for i in np.flatnonzero(which):
        on = float(events["onset_s"][i])
        snip = snippets.get(on)
        if snip is not None:
            out[i] = relative_onset(snip[0] + on, snip[1], on, float(events["offset_s"][i]), fs, params)
    return out
