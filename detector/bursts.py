"""Burst (movement onset) detection: short high-amplitude transients above the noise floor.

The detector removes gravity and slow posture drift with a high-pass, removes sensor noise above
the movement band with a low-pass, follows the movement energy with a short envelope and flags a
burst where the envelope rises above a high threshold, with its onset and end at a low threshold
(hysteresis). Both thresholds are multiples of a robust running noise estimate (a low quantile of
the last minute's one-second energies) with absolute floors, so the detector adapts to the
sensor's noise floor and to the sample rate.

:class:`StreamingDetector` carries all state in arrays and gives exactly the batch result of
:func:`detect_bursts` for any chunking.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

EVENT_DTYPE = np.dtype(
    [
        ("onset_s", "f8"),
        ("offset_s", "f8"),
        ("duration_s", "f8"),
        ("peak_s", "f8"),
        ("peak_g", "f8"),
        ("peak_jerk_gps", "f8"),
        ("rise_time_s", "f8"),
        ("energy_g2s", "f8"),
        ("centroid_s", "f8"),
        ("spread_s", "f8"),
        ("noise_g", "f8"),
    ]
)

EPOCH_DTYPE = np.dtype(
    [
        ("t_s", "f8"),  # start of the epoch, s from the recording's start
        ("n", "i8"),  # samples in the epoch (0 never appears: empty epochs are not emitted)
        ("x", "f4"),  # mean acceleration (g): the posture
        ("y", "f4"),
        ("z", "f4"),
        ("rms_g", "f4"),  # RMS of the band-passed magnitude: movement
        ("max_g", "f4"),  # largest band-passed magnitude
        ("noise_g", "f4"),  # running noise estimate at the epoch's end
    ]
)


_NO_EVENTS = np.empty(0, dtype=EVENT_DTYPE)
_NO_EPOCHS = np.empty(0, dtype=EPOCH_DTYPE)
_NO_EVENTS.flags.writeable = False
_NO_EPOCHS.flags.writeable = False


@dataclass(frozen=True)
class BurstParams:
    """Parameters of the burst detector, in physical units.

    Attributes
    ----------
    highpass_hz : float
        Corner of the 2nd-order Butterworth high-pass that removes gravity and posture. 1 Hz keeps
        the movement band (hypnic-jerk limb mechanics ring at 5-15 Hz; leg movements 0.5-10 s long)
        and takes out most respiration (0.2-0.33 Hz, DOMAIN.md §5.2).
    lowpass_hz : float
        Corner of the 2nd-order Butterworth low-pass (capped at 0.4 fs). Limb movement energy lies
        below ~20 Hz; cutting above it makes the noise in the band independent of the sensor's
        rate (white MEMS noise, DOMAIN.md §5.1: sigma = ND·sqrt(bandwidth)).
    envelope_s : float
        Time constant of the energy envelope. 50 ms follows a 75-250 ms hypnic-jerk EMG burst
        (DOMAIN.md §1.2) without smearing its onset.
    k_high, k_low : float
        Thresholds as multiples of the noise RMS. For band-limited Gaussian noise the smoothed
        envelope exceeds 4x its RMS with probability ~1e-18 per independent sample, so false bursts
        from sensor noise are negligible; 2x sets onset and end close to the true movement.
    floor_high_g, floor_low_g : float
        Absolute floors (g). Below ~10 mg, breathing and cardiac micro-motion at the wrist
        (DOMAIN.md §5.2) and 12-bit quantisation steps (3.9 mg at ±8 g) would be called movement.
    min_quiet_s : float
        A burst ends after this long below the low threshold; shorter dips belong to the burst.
        Leg movements are joined at 0.5 s later (WASM, DOMAIN.md §2.2); 0.25 s keeps a jerk and
        a turn-over that follows it apart.
    noise_block_s, noise_window_s, noise_quantile : float
        The noise estimate is the ``noise_quantile`` of the mean envelope energy of the
        ``noise_window_s / noise_block_s`` most recent blocks: with 0.2 over one minute it stays at
        the floor even when 45 s of that minute are a turn-over (IRLSSG 3-45 s, DOMAIN.md §1.3).
    gap_periods, gap_min_s : float
        An interval longer than ``max(gap_periods / fs, gap_min_s)`` is a gap: the filters restart
        from the first sample after it (no step transient) and a burst open before it ends there.
    epoch_s : float
        Length of the per-epoch aggregates (posture, movement) handed to the epoch-level stages.
    """

    highpass_hz: float = 1.0
    lowpass_hz: float = 20.0
    envelope_s: float = 0.05
    k_high: float = 4.0
    k_low: float = 2.0
    floor_high_g: float = 0.012
    floor_low_g: float = 0.006
    min_quiet_s: float = 0.25
    noise_block_s: float = 1.0
    noise_window_s: float = 60.0
    noise_quantile: float = 0.2
    gap_periods: float = 3.0
    gap_min_s: float = 0.1
    epoch_s: float = 1.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def gap_threshold_s(fs: float, params: BurstParams) -> float:
    """Longest interval between two samples that is not a gap."""
    return max(params.gap_periods / fs, params.gap_min_s)


def butter2(fc: float, fs: float, highpass: bool) -> tuple[float, float, float, float, float]:
    """2nd-order Butterworth biquad ``(b0, b1, b2, a1, a2)`` by the bilinear transform.

    The same coefficients as ``scipy.signal.butter(2, fc, btype, fs=fs)`` (tested), without
    importing scipy.signal (seconds on a cold start) for five numbers.
    """
    k = np.tan(np.pi * fc / fs)
    norm = 1.0 / (1.0 + np.sqrt(2.0) * k + k * k)
    a1 = 2.0 * (k * k - 1.0) * norm
    a2 = (1.0 - np.sqrt(2.0) * k + k * k) * norm
    if highpass:
        return norm, -2.0 * norm, norm, a1, a2
    b0 = k * k * norm
    return b0, 2.0 * b0, b0, a1, a2


def kernel_params(fs: float, params: BurstParams) -> np.ndarray:
    """The kernel's parameter vector for a sample rate (filter coefficients in float64)."""
    from hypnic.detector import _kernels as k

    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sample rate must be positive, got {fs}")
    nyq = fs / 2.0
    p = np.zeros(k.N_PARAMS, dtype=np.float64)
    p[k.P_HP_B0 : k.P_HP_A2 + 1] = butter2(min(params.highpass_hz, 0.2 * nyq), fs, highpass=True)
    p[k.P_LP_B0 : k.P_LP_A2 + 1] = butter2(min(params.lowpass_hz, 0.8 * nyq), fs, highpass=False)
    p[k.P_ENV_ALPHA] = 1.0 - np.exp(-1.0 / (fs * params.envelope_s))
    p[k.P_K_HI] = params.k_high
    p[k.P_K_LO] = params.k_low
    p[k.P_FLOOR_HI] = params.floor_high_g
    p[k.P_FLOOR_LO] = params.floor_low_g
    p[k.P_MIN_QUIET] = params.min_quiet_s
    p[k.P_BLOCK_N] = max(1, round(fs * params.noise_block_s))
    p[k.P_NOISE_Q] = params.noise_quantile
    p[k.P_GAP_S] = gap_threshold_s(fs, params)
    p[k.P_FS] = fs
    p[k.P_EPOCH_S] = params.epoch_s
    return p


def lowpass_delay_s(fs: float, params: BurstParams) -> float:
    """Group delay at low frequencies of the 2nd-order Butterworth low-pass: √2 / (2π f_c).

    Event times are reported with this delay taken off, so a burst's onset is where the movement
    began, not where the filtered signal caught up (80 ms at 12.5 Hz matters for a jerk).
    """
    fc = min(params.lowpass_hz, 0.8 * fs / 2)
    return float(np.sqrt(2.0) / (2 * np.pi * fc))


def _events_from_rows(rows: np.ndarray, delay_s: float) -> np.ndarray:
    from hypnic.detector import _kernels as k

    out = np.empty(rows.shape[0], dtype=EVENT_DTYPE)
    out["onset_s"] = rows[:, k.E_ONSET] - delay_s
    out["offset_s"] = rows[:, k.E_OFFSET] - delay_s
    out["duration_s"] = rows[:, k.E_OFFSET] - rows[:, k.E_ONSET]
    out["peak_s"] = rows[:, k.E_PEAK_T] - delay_s
    out["peak_g"] = rows[:, k.E_PEAK_G]
    out["peak_jerk_gps"] = rows[:, k.E_PEAK_JERK]
    out["rise_time_s"] = rows[:, k.E_PEAK_T] - rows[:, k.E_ONSET]
    e = rows[:, k.E_ENERGY]
    out["energy_g2s"] = e
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(e > 0, rows[:, k.E_T1] / e, 0.0)
        var = np.where(e > 0, rows[:, k.E_T2] / e - c * c, 0.0)
    out["centroid_s"] = c
    out["spread_s"] = np.sqrt(np.maximum(var, 0.0))
    out["noise_g"] = rows[:, k.E_NOISE]
    return out


def _epochs_from_rows(rows: np.ndarray, epoch_s: float) -> np.ndarray:
    from hypnic.detector import _kernels as k

    out = np.empty(rows.shape[0], dtype=EPOCH_DTYPE)
    n = rows[:, k.EP_N]
    out["t_s"] = rows[:, k.EP_INDEX] * epoch_s
    out["n"] = n
    out["x"] = rows[:, k.EP_X] / n
    out["y"] = rows[:, k.EP_Y] / n
    out["z"] = rows[:, k.EP_Z] / n
    out["rms_g"] = np.sqrt(rows[:, k.EP_E2] / n)
    out["max_g"] = rows[:, k.EP_MAX]
    out["noise_g"] = rows[:, k.EP_NOISE]
    return out


@dataclass
class BurstResult:
    """Bursts, per-epoch aggregates and gaps of a recording (or of one chunk of it).

    Attributes
    ----------
    events : ndarray of EVENT_DTYPE
        One row per burst, sorted by onset.
    epochs : ndarray of EPOCH_DTYPE
        One row per epoch that holds samples, sorted by time.
    gaps : list of [float, float]
        ``[last sample before, first sample after]`` for every interval longer than the gap
        threshold.
    shapes : ndarray of float, shape (n, 2), or None
        Linearity and relative mean frequency of each transient, measured on its raw samples after
        the stream (:func:`detector.onsets.measure_transients`); NaN for other bursts. None where
        nobody measured them (the kernel's own output).
    """

    events: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=EVENT_DTYPE))
    epochs: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=EPOCH_DTYPE))
    gaps: list[list[float]] = field(default_factory=list)
    shapes: np.ndarray | None = None

    @staticmethod
    def concatenate(parts: list[BurstResult]) -> BurstResult:
        return BurstResult(
            events=np.concatenate([p.events for p in parts]) if parts else BurstResult().events,
            epochs=np.concatenate([p.epochs for p in parts]) if parts else BurstResult().epochs,
            gaps=[g for p in parts for g in p.gaps],
        )


class StreamingDetector:
    """Burst detector fed chunk by chunk; the result equals :func:`detect_bursts` on the whole.

    Parameters
    ----------
    fs : float
        Nominal sample rate (Hz): sets the filters, the envelope and the noise blocks.
    params : BurstParams, optional

    Attributes
    ----------
    state, ring : ndarray of float64
        Everything the kernel carries from one chunk to the next (filter delays, envelope,
        hysteresis, the open burst, the noise blocks, the open epoch).
    """

    def __init__(self, fs: float, params: BurstParams | None = None) -> None:
        from hypnic.detector import _kernels as k

        self.fs = float(fs)
        self.params = params or BurstParams()
        self._p = kernel_params(self.fs, self.params)
        n_blocks = max(1, round(self.params.noise_window_s / self.params.noise_block_s))
        self.state, self.ring = k.new_state(n_blocks)
        self._gap_s = gap_threshold_s(self.fs, self.params)
        self._delay_s = lowpass_delay_s(self.fs, self.params)
        self._t_last = -np.inf
        self._finished = False

    def process(self, t: np.ndarray, xyz: np.ndarray) -> BurstResult:
        """Feed the next samples; return the bursts and epochs that closed within them.

        Parameters
        ----------
        t : array_like of float, shape (n,)
            Seconds from the recording's start, strictly increasing, also across calls.
        xyz : array_like of float, shape (n, 3)
            Acceleration in g, finite.
        """
        from hypnic.detector import _kernels as k

        if self._finished:
            raise RuntimeError("process() after finish()")
        t = np.ascontiguousarray(t, dtype=np.float64)
        xyz = np.ascontiguousarray(xyz, dtype=np.float32)
        if t.ndim != 1 or xyz.shape != (t.shape[0], 3):
            raise ValueError(f"expected t (n,) and xyz (n, 3), got {t.shape} and {xyz.shape}")
        if t.shape[0] == 0:
            return BurstResult()
        if not np.all(np.isfinite(t)):
            raise ValueError("t must be finite")
        dt = np.diff(t, prepend=self._t_last)
        if not np.all(dt > 0):
            raise ValueError("t must be strictly increasing")
        if not np.all(np.isfinite(xyz)):
            raise ValueError("acceleration must be finite")
        gap_idx = np.flatnonzero(dt[1:] > self._gap_s) + 1 if t.shape[0] > 1 else np.empty(0, int)
        gaps = [[float(t[i - 1]), float(t[i])] for i in gap_idx]
        if np.isfinite(self._t_last) and dt[0] > self._gap_s:
            gaps.insert(0, [float(self._t_last), float(t[0])])
        self._t_last = float(t[-1])
        # Output bounds: a burst needs min_quiet_s of quiet (or a gap) to close; an epoch needs time.
        # The kernel closes at most one burst and one epoch per sample, which bounds both when
        # t spans far more time than samples (a clock jump in a file): memory stays O(n).
        span = float(t[-1] - t[0])
        n = t.shape[0]
        cap_ev = int(min(span / self.params.min_quiet_s + len(gaps) + 2, n + 2))
        cap_ep = int(min(span / self.params.epoch_s + 2, n + 2))
        ev = np.empty((cap_ev, k.N_EVENT_COLS), dtype=np.float64)
        ep = np.empty((cap_ep, k.N_EPOCH_COLS), dtype=np.float64)
        ne, nep = k._burst_kernel(t, xyz, self._p, self.state, self.ring, ev, ep)
        return self._result(ev, ne, ep, nep, gaps)

    def _result(self, ev: np.ndarray, ne: int, ep: np.ndarray, nep: int, gaps: list) -> BurstResult:
        # Most small chunks close no burst: skip building empty structured arrays (live path).
        events = _events_from_rows(ev[:ne], self._delay_s) if ne else _NO_EVENTS
        epochs = _epochs_from_rows(ep[:nep], self.params.epoch_s) if nep else _NO_EPOCHS
        return BurstResult(events, epochs, gaps)

    def finish(self) -> BurstResult:
        """End of the recording: close the open burst and the last epoch."""
        from hypnic.detector import _kernels as k

        self._finished = True
        ev = np.empty((1, k.N_EVENT_COLS), dtype=np.float64)
        ep = np.empty((1, k.N_EPOCH_COLS), dtype=np.float64)
        ne, nep = k._flush_kernel(self._p, self.state, ev, ep)
        return self._result(ev, ne, ep, nep, [])


def detect_bursts(
    t: np.ndarray, xyz: np.ndarray, fs: float, params: BurstParams | None = None
) -> BurstResult:
    """Find bursts in a whole recording held in memory.

    Parameters
    ----------
    t : array_like of float, shape (n,)
        Seconds from the recording's start, strictly increasing.
    xyz : array_like of float, shape (n, 3)
        Acceleration in g.
    fs : float
        Nominal sample rate in Hz.
    params : BurstParams, optional
        Detector parameters; the defaults cite their sources.

    Returns
    -------
    BurstResult
        Bursts (onset, end, peak, peak jerk, rise time, energy), per-second aggregates and gaps.

    Examples
    --------
    >>> import numpy as np
    >>> fs = 50.0
    >>> t = np.arange(0, 60, 1 / fs)
    >>> xyz = np.zeros((t.size, 3)); xyz[:, 2] = 1.0
    >>> xyz[1500:1510, 0] += 0.5 * np.sin(np.arange(10))
    >>> res = detect_bursts(t, xyz, fs)
    >>> len(res.events), round(float(res.events["onset_s"][0]), 1)
    (1, 30.0)
    """
    det = StreamingDetector(fs, params)
    return BurstResult.concatenate([det.process(t, xyz), det.finish()])
