"""A vectorised numpy/scipy implementation of the detector pipeline: the speed benchmark's yardstick.

This is what a user fluent in numpy and scipy would write instead of the numba kernel
(:mod:`detector._kernels`): whole-array operations, no Python loop over samples.

* band-pass: ``scipy.signal.sosfilt`` per axis and gap-free segment, started from the high-pass
  steady state (``sosfilt_zi``), as the kernel restarts its filters;
* energy envelope: ``scipy.signal.lfilter`` of the squared magnitude (a first-order EMA);
* noise: block means of the envelope and a causal running rank (``scipy.ndimage.rank_filter``)
  over the last ``noise_window_s`` of blocks;
* hysteresis: runs of samples above the low threshold found with ``flatnonzero``; runs joined
  across dips shorter than ``min_quiet_s`` by cumulative sums over the runs;
* burst features: ``ufunc.reduceat`` over the (few) burst samples;
* per-second aggregates: ``np.bincount`` with weights.

The night-level stages (:func:`detector.analysis.analyze_night`: non-wear, classification, HDCZA
sleep period, summary) work on one row per second and are numpy/scipy already, so the reference
pipeline calls them as the real one does: :func:`reference_analyze` differs from
:func:`hypnic.pipeline.analyze_stream` only in how the per-sample work is done.

The reference gives the kernel's events and epochs (``tests/test_speed_reference.py`` checks it)
up to floating-point rounding (sums in another order, ``lfilter`` instead of the kernel's
``e2 + alpha * (mag2 - e2)``).

The one loop is over gap-free segments (a handful per night): after a gap the kernel restarts the
envelope at the current noise level, which depends on the blocks before the gap.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from scipy.ndimage import rank_filter
from scipy.signal import lfilter, sosfilt, sosfilt_zi

from hypnic.detector import _kernels as k
from hypnic.detector.bursts import (
    BurstParams,
    BurstResult,
    _epochs_from_rows,
    _events_from_rows,
    gap_threshold_s,
    kernel_params,
    lowpass_delay_s,
)
from hypnic.detector.options import AnalysisOptions

STAGES = ("bandpass", "envelope", "noise", "hysteresis", "epochs")


class _Clock:
    """Adds the time spent in each stage to a dict (or does nothing without one)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.t = time.perf_counter()

    def lap(self, stage: str) -> None:
        if self.timings is not None:
            now = time.perf_counter()
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.t
            self.t = now


def _sos(p: np.ndarray) -> np.ndarray:
    """The kernel's two biquads (high-pass, low-pass) as a scipy ``sos`` array."""
    hp = [p[k.P_HP_B0], p[k.P_HP_B1], p[k.P_HP_B2], 1.0, p[k.P_HP_A1], p[k.P_HP_A2]]
    lp = [p[k.P_LP_B0], p[k.P_LP_B1], p[k.P_LP_B2], 1.0, p[k.P_LP_A1], p[k.P_LP_A2]]
    return np.array([hp, lp])


def _block_energies(e2: np.ndarray, block_n: int) -> np.ndarray:
    """Mean envelope of each complete block of ``block_n`` samples."""
    m = e2.shape[0] // block_n
    return e2[: m * block_n].reshape(m, block_n).sum(axis=1) / block_n


def _rank(q: float, m: int | np.ndarray) -> int | np.ndarray:
    """The kernel's quantile rank among ``m`` sorted values (nearest rank, rounded half up)."""
    return (q * (np.asarray(m) - 1) + 0.5).astype(np.int64)


def _noise_now(e2: np.ndarray, n_done: int, block_n: int, n_keep: int, q: float) -> float:
    """Noise after the blocks completed within the first ``n_done`` samples."""
    c = n_done // block_n
    if c == 0:
        return 0.0
    be = _block_energies(e2[max(0, c - n_keep) * block_n : c * block_n], block_n)
    r = int(_rank(q, be.shape[0]))
    return float(np.sqrt(np.partition(be, r)[r]))


def running_noise(block_e2: np.ndarray, n_keep: int, q: float) -> np.ndarray:
    """Noise RMS after each number of completed blocks (index 0: no block yet, noise 0).

    Parameters
    ----------
    block_e2 : ndarray of float
        Mean envelope energy of every complete block, in order.
    n_keep : int
        Blocks in the window (``noise_window_s / noise_block_s``).
    q : float
        Quantile taken as the noise.

    Returns
    -------
    ndarray of float, shape (len(block_e2) + 1,)
    """
    m = block_e2.shape[0]
    out = np.zeros(m + 1)
    if m == 0:
        return out
    # Full windows: a causal running rank (the window ends at the current block).
    full = rank_filter(block_e2, rank=int(_rank(q, n_keep)), size=n_keep, origin=n_keep - 1 - n_keep // 2)
    out[1:] = full
    # The first n_keep - 1 blocks see fewer blocks: a small triangular matrix, sorted per row.
    w = min(n_keep - 1, m)
    if w > 0:
        tri = np.where(np.tri(w, dtype=bool), block_e2[None, :w], np.inf)
        tri.sort(axis=1)
        out[1 : w + 1] = tri[np.arange(w), _rank(q, np.arange(1, w + 1))]
    return np.sqrt(out)


def _spans_index(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenated sample indices of [start, stop) spans, the spans' lengths and their offsets."""
    lens = stops - starts
    offsets = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    idx = np.arange(int(lens.sum()), dtype=np.int64) + np.repeat(starts - offsets, lens)
    return idx, lens, offsets


def _hysteresis(
    t: np.ndarray,
    e2: np.ndarray,
    lo2: np.ndarray,
    hi2: np.ndarray,
    seg_start: np.ndarray,
    seg_bounds: np.ndarray,
    min_quiet: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bursts as sample indices: onset, last sample above the low threshold, end (exclusive).

    A run of samples above the low threshold that reaches the high one starts a burst; later
    runs belong to it while the dip before them is shorter than ``min_quiet`` (in the kernel:
    the burst ends at the first sample that has been below for ``min_quiet``). A run that never
    reaches the high threshold and does not continue a burst is dropped. A gap ends everything.
    """
    n = t.shape[0]
    above = e2 >= lo2
    high = above & (e2 >= hi2)
    starts_mask = above.copy()
    starts_mask[1:] &= ~above[:-1] | seg_start[1:]
    ends_mask = above.copy()
    ends_mask[:-1] &= ~above[1:] | seg_start[1:]
    rs = np.flatnonzero(starts_mask)
    re = np.flatnonzero(ends_mask)
    empty = np.empty(0, dtype=np.int64)
    if rs.size == 0:
        return empty, empty, empty
    run_high = np.logical_or.reduceat(high, rs)
    seg_of = np.searchsorted(seg_bounds, rs, side="right") - 1
    join = np.zeros(rs.size, dtype=bool)
    join[1:] = (seg_of[1:] == seg_of[:-1]) & (t[rs[1:] - 1] - t[re[:-1]] < min_quiet)
    chain = np.cumsum(~join) - 1
    chain_last = np.append(np.flatnonzero(~join)[1:] - 1, rs.size - 1)
    hot = np.flatnonzero(run_high)
    if hot.size == 0:
        return empty, empty, empty
    # A chain's burst starts at its first run that reaches the high threshold and takes every
    # later run of the chain.
    chains, first = np.unique(chain[hot], return_index=True)
    onset = rs[hot[first]]
    last = re[chain_last[chains]]
    # The burst ends at the first sample min_quiet after its last sample above (or at the gap).
    stop = np.searchsorted(t, t[last] + min_quiet, side="left")
    j = np.minimum(stop, n - 1)
    stop = np.where((stop < n) & (t[j] - t[last] < min_quiet), stop + 1, stop)
    j = stop - 1
    stop = np.where((j > last) & (t[j] - t[last] >= min_quiet), j, stop)
    seg_end = seg_bounds[np.searchsorted(seg_bounds, last, side="right")]
    return onset, last, np.minimum(stop, seg_end)


def reference_bursts(
    t: np.ndarray,
    xyz: np.ndarray,
    fs: float,
    params: BurstParams | None = None,
    timings: dict[str, float] | None = None,
) -> BurstResult:
    """Bursts, per-second aggregates and gaps of a whole recording, with whole-array numpy/scipy.

    Parameters
    ----------
    t : ndarray of float64, shape (n,)
        Seconds from the start, strictly increasing.
    xyz : ndarray, shape (n, 3)
        Acceleration in g (float32 as readers hand it on; filtered in float64 as the kernel does).
    fs : float
        Nominal sample rate (Hz).
    params : BurstParams, optional
    timings : dict, optional
        When given, the seconds spent in each of :data:`STAGES` are added to it.

    Returns
    -------
    BurstResult
        The same as :func:`detector.bursts.detect_bursts` up to rounding.
    """
    clock = _Clock(timings)
    params = params or BurstParams()
    p = kernel_params(fs, params)
    t = np.ascontiguousarray(t, dtype=np.float64)
    xyz = np.asarray(xyz, dtype=np.float32)
    n = t.shape[0]
    if n == 0:
        return BurstResult()
    gap_s = gap_threshold_s(fs, params)
    gap_at = np.flatnonzero(np.diff(t) > gap_s) + 1
    seg_bounds = np.concatenate([[0], gap_at, [n]]).astype(np.int64)
    seg_start = np.zeros(n, dtype=bool)
    seg_start[seg_bounds[:-1]] = True

    # --- band-pass per axis and segment; jerk = sample-to-sample change, 0 at a restart ---
    sos = _sos(p)
    zi = sosfilt_zi(sos)
    mag2 = np.zeros(n)
    jerk2 = np.zeros(n)
    for ax in range(3):
        x = xyz[:, ax].astype(np.float64)
        y = np.empty(n)
        for a, b in zip(seg_bounds[:-1], seg_bounds[1:]):
            y[a:b] = sosfilt(sos, x[a:b], zi=zi * x[a])[0]
        mag2 += y * y
        d = np.diff(y, prepend=y[0])
        d[seg_start] = 0.0
        jerk2 += d * d
    clock.lap("bandpass")

    # --- envelope per segment; after a gap it restarts at the noise level of that moment ---
    alpha = p[k.P_ENV_ALPHA]
    block_n = int(p[k.P_BLOCK_N])
    n_keep = max(1, round(params.noise_window_s / params.noise_block_s))
    q = p[k.P_NOISE_Q]
    e2 = np.empty(n)
    for a, b in zip(seg_bounds[:-1], seg_bounds[1:]):
        noise0 = _noise_now(e2, int(a), block_n, n_keep, q)
        e2[a:b] = lfilter([alpha], [1.0, alpha - 1.0], mag2[a:b], zi=[(1.0 - alpha) * noise0**2])[0]
    clock.lap("envelope")

    # --- running noise; sample i sees the blocks completed up to and including it ---
    noise_after = running_noise(_block_energies(e2, block_n), n_keep, q)
    noise = np.repeat(noise_after, block_n)[1 : n + 1]
    lo2 = np.maximum(p[k.P_K_LO] * noise, p[k.P_FLOOR_LO]) ** 2
    hi2 = np.maximum(p[k.P_K_HI] * noise, p[k.P_FLOOR_HI]) ** 2
    clock.lap("noise")

    # --- hysteresis and per-burst features over the burst samples only ---
    onset, last, stop = _hysteresis(t, e2, lo2, hi2, seg_start, seg_bounds, p[k.P_MIN_QUIET])
    rows = np.empty((onset.size, k.N_EVENT_COLS))
    if onset.size:
        idx, lens, offsets = _spans_index(onset, stop)
        m2 = mag2[idx]
        peak2 = np.maximum.reduceat(m2, offsets)
        at_peak = np.flatnonzero(m2 == np.repeat(peak2, lens))
        peak_i = idx[at_peak[np.searchsorted(at_peak, offsets)]]
        w = m2 * (1.0 / fs)
        dt_on = t[idx] - np.repeat(t[onset], lens)
        rows[:, k.E_ONSET] = t[onset]
        rows[:, k.E_OFFSET] = t[last]
        rows[:, k.E_PEAK_T] = t[peak_i]
        rows[:, k.E_PEAK_G] = np.sqrt(peak2)
        rows[:, k.E_PEAK_JERK] = np.sqrt(np.maximum.reduceat(jerk2[idx], offsets)) * fs
        rows[:, k.E_ENERGY] = np.add.reduceat(w, offsets)
        rows[:, k.E_NOISE] = noise[onset]
        rows[:, k.E_T1] = np.add.reduceat(w * dt_on, offsets)
        rows[:, k.E_T2] = np.add.reduceat(w * dt_on * dt_on, offsets)
    events = _events_from_rows(rows, lowpass_delay_s(fs, params))
    clock.lap("hysteresis")

    # --- per-epoch aggregates; an epoch's noise is the one when the next epoch opens ---
    ep = np.floor(t * (1.0 / params.epoch_s)).astype(np.int64)
    first = int(ep[0])
    bins = ep - first
    counts = np.bincount(bins)
    filled = np.flatnonzero(counts)
    ep_rows = np.empty((filled.size, k.N_EPOCH_COLS))
    ep_rows[:, k.EP_INDEX] = filled + first
    ep_rows[:, k.EP_N] = counts[filled]
    for col, ax in ((k.EP_X, 0), (k.EP_Y, 1), (k.EP_Z, 2)):
        ep_rows[:, col] = np.bincount(bins, weights=xyz[:, ax])[filled]
    ep_rows[:, k.EP_E2] = np.bincount(bins, weights=mag2)[filled]
    ep_start = np.concatenate([[0], np.cumsum(counts[filled])[:-1]])
    ep_rows[:, k.EP_MAX] = np.sqrt(np.maximum.reduceat(mag2, ep_start))
    ep_rows[:, k.EP_NOISE] = np.append(noise[ep_start[1:]], noise[-1])
    epochs = _epochs_from_rows(ep_rows, params.epoch_s)
    clock.lap("epochs")

    gaps = [[float(t[i - 1]), float(t[i])] for i in gap_at]
    return BurstResult(events, epochs, gaps)


def reference_transients(
    t: np.ndarray, xyz: np.ndarray, events: np.ndarray, fs: float, params: BurstParams
) -> tuple[np.ndarray, np.ndarray]:
    """Transient onsets re-measured, and their shapes measured, on the ±3 s of samples around
    each (as the pipeline's snippets hold them), with :func:`detector.onsets.measure_transient`:
    onsets (n,) and shapes (n, 2)."""
    from hypnic.detector.classify import TRANSIENT_SPREAD_S
    from hypnic.detector.onsets import measure_transient

    out = events["onset_s"].astype(np.float64, copy=True)
    shapes = np.full((events.shape[0], 2), np.nan)
    for i in np.flatnonzero(events["spread_s"] < TRANSIENT_SPREAD_S):
        on = float(events["onset_s"][i])
        off = float(events["offset_s"][i])
        a, b = np.searchsorted(t, on - 3.0, side="left"), np.searchsorted(t, on + 3.0, side="right")
        out[i], shapes[i, 0], shapes[i, 1] = measure_transient(t[a:b], xyz[a:b].astype(np.float32), on, off, fs, params)
    return out, shapes


def reference_analyze(
    t: np.ndarray,
    xyz: np.ndarray,
    info: Any,
    options: AnalysisOptions | None = None,
    *,
    reader_gaps: list[list[float]] | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The whole pipeline on arrays in memory: reference bursts, then the night-level scoring.

    Parameters
    ----------
    t, xyz : ndarray
        The recording (see :func:`reference_bursts`).
    info : recordings.samples.StreamInfo
        Sample rate, placement and start time, as a reader gives them.
    options : detector.options.AnalysisOptions, optional
        As in :func:`hypnic.pipeline.analyze_stream`.
    reader_gaps : list of [float, float], optional
        Spans the reader knows to be missing (``SampleStream.gaps``).
    timings : dict, optional
        Seconds per stage: :data:`STAGES` and ``night`` (the shared night-level scoring).

    Returns
    -------
    events : list of detector.results.Event
    summary : detector.results.NightSummary
    """
    from hypnic.detector.analysis import analyze_night
    from hypnic.detector.night import NightInput
    from hypnic.detector.options import resolve_placement

    options = options or AnalysisOptions()
    params = options.params
    bursts = reference_bursts(t, xyz, info.fs, params, timings)
    t0 = time.perf_counter()
    bursts.events["onset_s"], bursts.shapes = reference_transients(t, xyz, bursts.events, info.fs, params)
    place, place_source = resolve_placement(options.placement, info.placement)
    result = analyze_night(
        [
            NightInput(
                bursts=bursts, fs=info.fs, duration_s=float(t[-1]) + 1.0 / info.fs,
                placement=place, placement_source=place_source, start_utc=info.start_utc,
                utc_offset_s=info.utc_offset_s, reader_gaps=list(reader_gaps or []),
            )
        ],
        options,
    )
    if timings is not None:
        timings["night"] = timings.get("night", 0.0) + time.perf_counter() - t0
    return result.events, result.summary
