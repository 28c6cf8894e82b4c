"""Aligning two sensors of one night: the offset and drift of sensor B's clock against A's.

Two sensors worn at once each count time from their own start on their own crystal. A moment
that B stamps ``t_b`` (seconds from B's start) happens at

    t_a = offset_s + (1 + drift_ppm · 1e-6) · t_b

on A's time line. Crystals differ by tens of ppm: two Polar sensors drifted from 622 ms to 2.4 s
apart in 24 h, about 21 ppm (BLE.md §1.7, polar-ble-sdk issue #674), so after an 8-h night a
fixed offset would be off by ~0.6 s, more than the 0.25 s within which a whole-body jerk shows
on two sensors. The estimate comes in three steps:

1. **prior** — the difference of the two UTC starts when both are known, else none;
2. **coarse lag** — masked normalised cross-correlation of the per-second movement of the two
   sensors (the epochs' band-passed RMS above each sensor's own noise) within ±:data:`MAX_LAG_S`
   of the prior, or over every lag with enough overlap when there is no prior (or the prior
   finds nothing: a clock reset to its default date). Whole-body movements (turning over,
   fidgeting, jerks) show on both sensors. The few highest peaks are candidates;
3. **fine offset and drift** — for each candidate, burst onsets of B matched one to one with the
   nearest onset of A, and a robust straight line through the differences of their onsets and
   ends against time: Theil-Sen (median of pairwise slopes, Sen 1968) to start, then iteratively
   trimmed weighted least squares. The candidate with the most matches wins, if it has clearly
   more than chance coincidences would give.

All functions are pure: arrays in, numbers out. Failures raise :class:`AlignmentError` with a
plain-words reason (the wiring turns it into a one-line input error).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from scipy.signal import correlate, correlation_lags
from scipy.stats import theilslopes

from hypnic.detector.bursts import EVENT_DTYPE
from hypnic.detector.epochs import regular_grid

#: Coarse search range (s) around the UTC prior: clocks set from a phone agree to seconds; a
#: clock left unset resets to a default date (the H10 to 2019-01-01, BLE.md §1.7) and is caught
#: by the search over every lag that follows when nothing lines up near the prior.
MAX_LAG_S = 600.0
#: Largest drift believed (ppm). Bluetooth LE allows a sleep clock of ±500 ppm (Core
#: Specification 5.x, Vol 6 Part B §4.2.2); measured sensor pairs drift ~21 ppm (BLE.md §1.7).
MAX_DRIFT_PPM = 500.0
#: Least overlap (s) of the two recordings at a candidate lag: half an hour holds tens of
#: movements even in quiet sleep (6.8 turn-overs/h, DOMAIN.md §1.3). Short recordings (naps)
#: need half their length instead.
MIN_OVERLAP_S = 1800.0
#: Movement counts above this multiple of the sensor's noise RMS: the burst detector's low
#: threshold (``BurstParams.k_low``), so both sensors speak of movement in the same terms.
MOVEMENT_NOISE_K = 2.0
#: Candidate lags tried, and the least distance between two of them (s): a turn-over lasts
#: 3-45 s (DOMAIN.md §1.3), so the correlation of nearby lags belongs to the same peak.
N_CANDIDATES = 5
PEAK_SEPARATION_S = 30.0
#: Matching tolerances (s): after the coarse lag (1-s bins, up to a bin of error plus drift over
#: the night), then around the fitted line (well above the ~0.1 s spread of one movement's
#: onset at two limbs, well below the seconds between movements).
COARSE_TOL_S = 2.5
FINE_TOL_S = 0.5
#: Trimmed least squares: residuals beyond this many robust SDs are dropped, but never within
#: the floor (s), below which edge differences are sample quantisation and limb mechanics.
#: 2.5 rather than 3: edge differences have heavy tails (a burst that merged with the next
#: movement at one sensor only); on 30 synthetic pairs 2.5 gave 16 ms RMS offset error, 3 gave 19.
TRIM_K = 2.5
TRIM_FLOOR_S = 0.05
#: Spread of one movement's edge at two limbs (s): a jerk reaches the limbs up to 15 ms apart
#: (limb delays of the synthetic generator, benchmarks/synth_params.py) plus filter settling.
LIMB_SIGMA_S = 0.02
#: Time walk per second of rise (or fall) time, capped where the walk stops growing. Chosen on
#: synthetic pairs (onset differences 0.03 s SD at 0.15-s rises, 0.13 s at rises of 2 s and more).
WALK_PER_RISE = 0.06
RISE_CAP_S = 2.0
#: Fewest matched bursts that make an alignment, and how far above the coincidences expected by
#: chance their number must stand (Poisson SDs): a line through fewer is a guess.
MIN_MATCHED = 6
CHANCE_SD = 5.0
#: Theil-Sen on all pairs is O(n²) in memory; longer recordings are thinned evenly for it (the
#: trimmed least squares that follows uses every match).
THEIL_SEN_MAX = 1500


class AlignmentError(ValueError):
    """The two recordings cannot be aligned; the message says why in plain words."""


@dataclass(frozen=True)
class ClockMap:
    """Sensor B's time line on sensor A's: ``t_a = offset_s + (1 + drift_ppm·1e-6) · t_b``."""

    offset_s: float = 0.0
    drift_ppm: float = 0.0

    @property
    def rate(self) -> float:
        return 1.0 + self.drift_ppm * 1e-6

    def to_a(self, t_b: np.ndarray | float) -> np.ndarray:
        """Times of B's clock (s from B's start) on A's clock."""
        return self.offset_s + self.rate * np.asarray(t_b, dtype=np.float64)

    def to_b(self, t_a: np.ndarray | float) -> np.ndarray:
        """Times of A's clock on B's clock."""
        return (np.asarray(t_a, dtype=np.float64) - self.offset_s) / self.rate


@dataclass(frozen=True)
class Alignment:
    """The estimated clock map and how it was found.

    Attributes
    ----------
    clock : ClockMap
    method : str
        ``"utc+xcorr+bursts"`` when the search around the UTC starts found it,
        ``"xcorr+bursts"`` when there was no UTC prior or nothing lined up near it.
    matched_bursts : int
        Bursts seen by both sensors that the final line rests on.
    chance_matches : float
        How many matches coincidence alone would give at that line.
    prior_offset_s : float or None
        Offset from the UTC starts.
    coarse_lag_s : float
        The cross-correlation lag the line started from (1-s resolution).
    residual_s : float
        Robust SD (1.4826 MAD) of the matched edge times about the line.
    """

    clock: ClockMap
    method: str
    matched_bursts: int
    chance_matches: float
    prior_offset_s: float | None
    coarse_lag_s: float
    residual_s: float

    def as_dict(self) -> dict[str, object]:
        """The ``alignment`` object of a two-sensor summary."""
        return {
            "offset_s": round(self.clock.offset_s, 4),
            "drift_ppm": round(self.clock.drift_ppm, 2),
            "method": self.method,
            "matched_bursts": self.matched_bursts,
            "chance_matches": round(self.chance_matches, 2),
            "prior_offset_s": (
                None if self.prior_offset_s is None else round(self.prior_offset_s, 3)
            ),
            "coarse_lag_s": self.coarse_lag_s,
            "residual_s": round(self.residual_s, 4),
        }


def utc_offset_s(start_a: str | None, start_b: str | None) -> float | None:
    """Seconds from A's start to B's start by their ISO 8601 UTC stamps (None if either is
    unknown, or one has a time zone and the other not)."""
    if not start_a or not start_b:
        return None
    a = datetime.fromisoformat(start_a.replace("Z", "+00:00"))
    b = datetime.fromisoformat(start_b.replace("Z", "+00:00"))
    if (a.tzinfo is None) != (b.tzinfo is None):
        return None
    return (b - a).total_seconds()


def movement_signal(epochs: np.ndarray, epoch_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-epoch movement above the sensor's own noise, on a regular grid.

    ``log(rms / (k · noise))`` clipped at 0: zero in stillness whatever the sensor's noise floor
    or gain, growing with the movement. Epochs without samples are NaN.

    Returns
    -------
    t_s, movement : ndarray of float
    """
    grid = regular_grid(epochs, epoch_s)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = grid["rms_g"] / (MOVEMENT_NOISE_K * np.maximum(grid["noise_g"], 1e-9))
        m = np.maximum(np.log(ratio), 0.0)
    m[np.isnan(grid["rms_g"])] = np.nan
    return grid["t_s"], m


def masked_xcorr(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pearson correlation of ``a[i + lag]`` with ``b[i]`` over their overlapping valid samples.

    NaN marks missing samples; each lag is normalised by its own overlap (masked normalised
    cross-correlation, Padfield, IEEE Trans Image Process 2012), so gaps and the ends of the
    recordings do not bias the peak.

    Returns
    -------
    lags : ndarray of int
    r : ndarray of float
        Correlation per lag (NaN where an overlap has no variance).
    n : ndarray of float
        Valid pairs per lag.
    """
    ma = ~np.isnan(a)
    mb = ~np.isnan(b)
    a0 = np.where(ma, a, 0.0)
    b0 = np.where(mb, b, 0.0)
    fa, fb = ma.astype(np.float64), mb.astype(np.float64)

    def xc(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return correlate(u, v, mode="full", method="fft")

    n = np.rint(xc(fa, fb))
    sa, sb = xc(a0, fb), xc(fa, b0)
    sab = xc(a0, b0)
    saa, sbb = xc(a0 * a0, fb), xc(fa, b0 * b0)
    with np.errstate(invalid="ignore", divide="ignore"):
        va = saa - sa * sa / n
        vb = sbb - sb * sb / n
        r = (sab - sa * sb / n) / np.sqrt(va * vb)
    # FFT round-off leaves tiny variances where a window is constant: no information there.
    scale = max(float(np.max(np.abs(saa), initial=0.0)), float(np.max(np.abs(sbb), initial=0.0)))
    tiny = 1e-9 * max(scale, 1.0)
    r[(n < 3) | ~(va > tiny) | ~(vb > tiny)] = np.nan
    return correlation_lags(a.size, b.size), r, n


def peak_lags(
    lag_s: np.ndarray, r: np.ndarray, allowed: np.ndarray, n_peaks: int = N_CANDIDATES
) -> list[float]:
    """The ``n_peaks`` highest correlations among ``allowed`` lags, at least
    :data:`PEAK_SEPARATION_S` apart, best first."""
    cand = np.flatnonzero(allowed & np.isfinite(r))
    order = cand[np.argsort(-r[cand], kind="stable")]
    out: list[float] = []
    for k in order:
        if all(abs(lag_s[k] - x) >= PEAK_SEPARATION_S for x in out):
            out.append(float(lag_s[k]))
            if len(out) == n_peaks:
                break
    return out


def match_onsets(
    on_a: np.ndarray, on_b_in_a: np.ndarray, tol_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i, j) where A's onset i and B's onset j (on A's clock) are each other's nearest
    and within ``tol_s`` (mutual nearest neighbours: one movement, one pair)."""
    on_a = np.asarray(on_a, dtype=np.float64)
    on_b = np.asarray(on_b_in_a, dtype=np.float64)
    if on_a.size == 0 or on_b.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    oa, ob = np.argsort(on_a, kind="stable"), np.argsort(on_b, kind="stable")
    sa, sb = on_a[oa], on_b[ob]
    ja = _nearest(sa, sb)
    jb = _nearest(sb, sa)
    ib = np.arange(sb.size)
    mutual = (jb[ja] == ib) & (np.abs(sa[ja] - sb) <= tol_s)
    return oa[ja[mutual]], ob[ib[mutual]]


def _nearest(sorted_x: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Index of the nearest element of ``sorted_x`` to each ``q`` (the earlier one on a tie)."""
    if sorted_x.size == 1:
        return np.zeros(q.size, dtype=np.int64)
    k = np.clip(np.searchsorted(sorted_x, q), 1, sorted_x.size - 1)
    take_left = np.abs(q - sorted_x[k - 1]) <= np.abs(sorted_x[k] - q)
    return np.where(take_left, k - 1, k)


def chance_matches(on_a: np.ndarray, on_b_in_a: np.ndarray, tol_s: float) -> float:
    """Matches within ``tol_s`` expected by coincidence: two independent point processes over
    their common span meet ``n_a · n_b · 2 tol / span`` times."""
    on_a = np.asarray(on_a, dtype=np.float64)
    on_b = np.asarray(on_b_in_a, dtype=np.float64)
    if on_a.size == 0 or on_b.size == 0:
        return 0.0
    lo, hi = max(on_a.min(), on_b.min()), min(on_a.max(), on_b.max())
    if hi <= lo:
        return 0.0
    n_a = np.count_nonzero((on_a >= lo) & (on_a <= hi))
    n_b = np.count_nonzero((on_b >= lo) & (on_b <= hi))
    return float(n_a * n_b * 2.0 * tol_s / (hi - lo))


def edge_sigma(rise_a: np.ndarray, rise_b: np.ndarray, fs_a: float, fs_b: float) -> np.ndarray:
    """Expected spread (s) of the difference of one movement's edge times at two sensors.

    A burst starts (and ends) where its envelope crosses a threshold, so the edge walks with
    amplitude in proportion to how slowly the envelope rises to its peak (or falls from it):
    time walk of leading-edge timing (Knoll, *Radiation Detection and Measurement*, 4th ed.,
    ch. 17). A jerk that peaks within 0.1 s is timed to a few tens of ms at both sensors, a
    turn-over that builds up over seconds to a tenth of a second. Sample quantisation adds the
    variance of the difference of two uniform errors, (1/fs_a² + 1/fs_b²)/12.

    Parameters
    ----------
    rise_a, rise_b : ndarray of float
        Time between the edge and the peak (s) at each sensor.
    fs_a, fs_b : float
        Sample rates (Hz).
    """
    rise = np.minimum(np.maximum(rise_a, rise_b), RISE_CAP_S)
    q2 = (1.0 / fs_a**2 + 1.0 / fs_b**2) / 12.0
    return np.sqrt(q2 + LIMB_SIGMA_S**2 + (WALK_PER_RISE * rise) ** 2)


def robust_line(
    x: np.ndarray, y: np.ndarray, sigma: np.ndarray | None = None
) -> tuple[float, float, np.ndarray, float]:
    """Fit ``y = a + b x`` robustly: Theil-Sen start, then iteratively trimmed weighted LS.

    Parameters
    ----------
    x, y : ndarray of float
    sigma : ndarray of float, optional
        Expected spread of each ``y`` (weights ``1/sigma²``); equal when omitted.

    Returns
    -------
    a, b : float
    inliers : ndarray of bool
    residual_sd : float
        1.4826 MAD of the inliers' residuals (units of ``y``).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sigma = np.ones_like(x) if sigma is None else np.asarray(sigma, dtype=np.float64)
    sel = np.unique(np.linspace(0, x.size - 1, min(x.size, THEIL_SEN_MAX)).astype(np.int64))
    if sel.size >= 2 and np.ptp(x[sel]) > 0:
        # "joint": intercept = median(y - b x), unbiased when the x are unevenly spread.
        b, a, _, _ = theilslopes(y[sel], x[sel], method="joint")
    else:
        a, b = float(np.median(y)), 0.0
    inl = np.ones(x.size, dtype=bool)
    for it in range(20):
        z = (y - (a + b * x)) / sigma
        zc = z - np.median(z[inl])
        scale = 1.4826 * float(np.median(np.abs(zc[inl])))
        new = np.abs(zc * sigma) <= np.maximum(TRIM_K * scale * sigma, TRIM_FLOOR_S)
        if np.count_nonzero(new) < 3 or (it > 0 and np.array_equal(new, inl)):
            break
        inl = new
        if np.ptp(x[inl]) > 0:
            b, a = np.polyfit(x[inl], y[inl], 1, w=1.0 / sigma[inl])
        else:
            a, b = float(np.average(y[inl], weights=sigma[inl] ** -2)), 0.0
    res = (y - (a + b * x))[inl]
    sd = 1.4826 * float(np.median(np.abs(res - np.median(res)))) if res.size else float("nan")
    return float(a), float(b), inl, sd


def _edges(ev_a: np.ndarray, ev_b: np.ndarray, fs_a: float, fs_b: float) -> tuple[np.ndarray, ...]:
    """Time differences of matched bursts: onsets, then ends, with their expected spreads.

    Both edges of a burst are threshold crossings; a slow edge walks later on the rise and
    earlier on the fall, and each sensor's filters shift both, so the two together cancel much
    of what either alone gets wrong (on 12 synthetic pairs the RMS error of a fixed offset fell
    from 25 ms with onsets alone to 10 ms with both edges).
    """
    x = np.concatenate([ev_b["onset_s"], ev_b["offset_s"]])
    y = np.concatenate([ev_a["onset_s"], ev_a["offset_s"]]) - x
    sigma = np.concatenate(
        [
            edge_sigma(ev_a["rise_time_s"], ev_b["rise_time_s"], fs_a, fs_b),
            edge_sigma(
                ev_a["offset_s"] - ev_a["peak_s"], ev_b["offset_s"] - ev_b["peak_s"], fs_a, fs_b
            ),
        ]
    )
    return x, y, sigma


@dataclass(frozen=True)
class ClockFit:
    """A line through the matched bursts of one candidate lag (see :func:`fit_clock`)."""

    clock: ClockMap
    matched: int
    chance: float
    residual_s: float


def fit_clock(
    events_a: np.ndarray, events_b: np.ndarray, lag_s: float, fs_a: float, fs_b: float
) -> ClockFit:
    """Offset and drift from matched bursts, starting from a coarse lag.

    Bursts are matched around the current line and the line refitted until the matches stop
    changing: with the coarse tolerance first (a large drift is then found from the middle of
    the night outwards as the line improves), then with the fine tolerance.

    Raises
    ------
    AlignmentError
        Too few matches, or a drift beyond :data:`MAX_DRIFT_PPM`.
    """
    on_a, on_b = events_a["onset_s"], events_b["onset_s"]
    clock = ClockMap(lag_s, 0.0)
    inl = np.empty(0, dtype=bool)
    resid = float("nan")
    for tol, rounds in ((COARSE_TOL_S, 10), (FINE_TOL_S, 5)):
        last = None
        for _ in range(rounds):
            ia, ib = match_onsets(on_a, clock.to_a(on_b), tol)
            if ia.size < MIN_MATCHED:
                raise AlignmentError(
                    f"only {ia.size} movements are seen by both sensors "
                    f"(at least {MIN_MATCHED} are needed to align them)"
                )
            x, y, sigma = _edges(events_a[ia], events_b[ib], fs_a, fs_b)
            a, b, inl, resid = robust_line(x, y, sigma)
            clock = ClockMap(a, b * 1e6)
            key = (ia.tobytes(), ib.tobytes())
            if key == last:
                break
            last = key
    if abs(clock.drift_ppm) > MAX_DRIFT_PPM:
        raise AlignmentError(
            f"the clocks would drift {clock.drift_ppm:.0f} ppm apart (more than "
            f"{MAX_DRIFT_PPM:.0f} ppm): the two recordings do not look like the same night"
        )
    matched = int(np.count_nonzero(inl.reshape(2, -1).any(axis=0)))
    # The matches were gathered with the coarse tolerance and the line fitted to them, so
    # coincidences are counted in that wider window (the fine one would flatter a forced line).
    chance = chance_matches(on_a, clock.to_a(on_b), COARSE_TOL_S)
    return ClockFit(clock, matched, chance, resid)


def significant(fit: ClockFit) -> bool:
    """Enough matches, and clearly more than coincidence gives (Poisson tail at CHANCE_SD)."""
    return fit.matched >= max(MIN_MATCHED, fit.chance + CHANCE_SD * np.sqrt(fit.chance))


def align(
    events_a: np.ndarray,
    epochs_a: np.ndarray,
    events_b: np.ndarray,
    epochs_b: np.ndarray,
    *,
    fs_a: float,
    fs_b: float,
    epoch_s: float = 1.0,
    prior_offset_s: float | None = None,
) -> Alignment:
    """Estimate sensor B's clock on sensor A's from their bursts and epochs.

    Parameters
    ----------
    events_a, events_b : ndarray of detector.bursts.EVENT_DTYPE
        Bursts of each sensor, times on its own clock.
    epochs_a, epochs_b : ndarray of detector.bursts.EPOCH_DTYPE
        Per-epoch aggregates of each sensor.
    fs_a, fs_b : float
        Sample rates (Hz): the onsets' quantisation.
    epoch_s : float
        Epoch length of both.
    prior_offset_s : float, optional
        B's start on A's clock from the UTC stamps (:func:`utc_offset_s`).

    Returns
    -------
    Alignment

    Raises
    ------
    AlignmentError
        When the recordings cannot overlap by enough, or no lag gives a line through clearly
        more common movements than chance.
    """
    if events_a.dtype != EVENT_DTYPE or events_b.dtype != EVENT_DTYPE:
        raise ValueError("events must have EVENT_DTYPE")
    t_a, m_a = movement_signal(epochs_a, epoch_s)
    t_b, m_b = movement_signal(epochs_b, epoch_s)
    shorter = min(np.count_nonzero(~np.isnan(m_a)), np.count_nonzero(~np.isnan(m_b))) * epoch_s
    min_overlap = min(MIN_OVERLAP_S, 0.5 * shorter)
    lags, r, n = masked_xcorr(m_a, m_b)
    lag_s = lags * epoch_s + (t_a[0] - t_b[0])
    enough = (n * epoch_s >= min_overlap) & (n > 0)
    searches: list[tuple[str, np.ndarray]] = []
    if prior_offset_s is not None:
        near_prior = np.abs(lag_s - prior_offset_s) <= MAX_LAG_S
        searches.append(("utc+xcorr+bursts", enough & near_prior))
    searches.append(("xcorr+bursts", enough))
    reason = f"the recordings never overlap by {min_overlap / 60:.0f} min or more"
    apart = None
    if prior_offset_s is not None and not searches[0][1].any():
        apart = (
            "the recordings do not overlap in time by their start times "
            f"(the second starts {prior_offset_s / 3600:+.2f} h after the first)"
        )
    for method, allowed in searches:
        best: ClockFit | None = None
        for lag in peak_lags(lag_s, r, allowed):
            try:
                fit = fit_clock(events_a, events_b, lag, fs_a, fs_b)
            except AlignmentError as exc:
                reason = str(exc)
                continue
            if best is None or fit.matched > best.matched:
                best, best_lag = fit, lag
        if best is not None and significant(best):
            return Alignment(
                best.clock, method, best.matched, best.chance, prior_offset_s, best_lag,
                best.residual_s,
            )
        if best is not None:
            reason = (
                f"only {best.matched} movements line up on both sensors, about what chance gives "
                f"({best.chance:.1f})"
            )
    raise AlignmentError(apart or f"cannot align the two sensors: {reason}")
