"""Non-wear: a sensor on the nightstand must not look like perfect sleep, nor a still sleeper like a
sensor on the nightstand.

Evidence, strongest first:

1. **Movement.** A sensor that moves is worn. GGIR's rule (van Hees et al. 2013; GGIR
   ``detect_nonwear_clipping``: standard deviation < 13 mg and range < 50 mg in at least 2 of 3
   axes) is applied over a sliding minute of the 1-s means (plus each second's own band-passed
   variance): only a span that passes it for at least 5 minutes (2 at the recording's start or
   end, where the sensor was put on late or taken off before recording stopped) can be non-wear.
   Its edges are the last movement before it (the removal) and the first after it (donning).
2. **Skin temperature**, where the sensor has one (DETACH, Vert et al. 2022, BMC Med Res Methodol
   22:147; nimbaldetach's defaults): off the skin the sensor's temperature falls (0.40 ±
   0.17 °C/min in the first 5 min; a start needs ≤ -0.2 °C/min) towards room temperature (below
   26 °C a sensor is off the skin whatever its rate); after donning it rises (≥ 0.1 °C/min). A
   still sensor whose temperature does neither is a still sleeper: worn, whatever else says.
   Acceleration + temperature beat acceleration alone (Zhou et al. 2015, BMJ Open 5:e007447:
   sensitivity 0.94, specificity 0.91).
3. **Breathing**, only where the sensor can show it: a worn limb moves with each breath at the mg
   level (DOMAIN.md §5.2), so the 1-s posture means swing with a 3-5 s period. A sensor can show
   that only if its quantisation step is finer than the motion, or its own noise dithers the
   quantiser so that a second's mean resolves finer than a step. On a coarse sensor at a low
   rate (3.9 mg steps, noise below half a step) a still sleeper and a table look the same.
4. **The sleep period** (acceleration only): a still span inside the night's sleep period that is
   shorter than 75 % of it is sleep (the rule that removed 37 min a night of sleep misclassified
   as non-wear, J Sports Sci 2020). :func:`keep_outside_sleep` applies it once the sleep period is
   known.

Without temperature, a span is non-wear when breathing could be seen and is not (``no_breathing``),
or when nothing at all moved for GGIR's hour (``no_movement_60min``) or at the recording's edge
(``recording_edge``); the last two are pure stillness and give way to the sleep period.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.ndimage import maximum_filter1d, minimum_filter1d

#: GGIR's non-wear criteria (van Hees 2013; GGIR ``sdcriter`` 0.013 g, ``racriter`` 0.05 g, 2 of
#: 3 axes).
STILL_SD_G = 0.013
STILL_RANGE_G = 0.050
STILL_AXES = 2
#: The SD/range window. DETACH measures 1-min standard deviations; GGIR's long window (60 min) is
#: the duration at which stillness alone is non-wear (:data:`LONG_STILL_S`).
STILL_WINDOW_S = 60
#: Seconds at each end of a still span left out of the breathing test: a sensor settles for some
#: seconds after it is put down, and is handled for some before it is picked up.
HANDLING_MARGIN_S = 15
#: Least length of a non-wear span (DETACH's minimum bout).
MIN_NONWEAR_S = 300.0
#: A span cut by the recording's start or end needs 2 min: the sensor was put on after recording
#: began, or taken off shortly before it stopped.
MIN_NONWEAR_EDGE_S = 120.0
#: GGIR's long window: an hour without movement is non-wear by acceleration alone.
LONG_STILL_S = 3600.0

#: DETACH's temperature rules (nimbaldetach defaults: ``low_temperature_cutoff`` 26 °C,
#: ``high_temperature_cutoff`` 30 °C, ``temp_dec_roc`` -0.2 °C/min, ``temp_inc_roc`` 0.1 °C/min,
#: over 5 minutes).
OFF_SKIN_C = 26.0
SKIN_C = 30.0
DROP_C_PER_MIN = -0.2
RISE_C_PER_MIN = 0.1
RATE_WINDOW_S = 300.0
#: Least temperature samples in a rate window for a slope to count (a window of a device that
#: reports once a minute still has five).
MIN_TEMPERATURE_SAMPLES = 4

#: Breathing motion a sensor must resolve to tell a still sleeper from a table: about 1 mg at the
#: wrist (an assumption: DOMAIN.md §5.2 reports breathing rate recovered from wrist accelerometers
#: in sleep, no amplitude; the synthetic nights use 1-3 mg at the wrist).
BREATHING_G = 1e-3
#: A quantiser is dithered by the sensor's own noise when that noise is at least half a step:
#: then a mean of many samples resolves finer than one step.
DITHER_FRACTION = 0.5
#: Breathing rates (Hz): 8-27 breaths a minute, around the 0.2-0.33 Hz of sleep (DOMAIN.md §5.2).
BREATHING_HZ = (0.13, 0.45)
#: Chance that a still span on a table shows a "breathing" peak (over every axis and every
#: frequency of the band): the peak threshold is the periodogram's null quantile at this level.
RHYTHM_FALSE_ALARM = 1e-3

#: The sleep-period rule: non-wear inside the sleep period shorter than this share of it is sleep.
SLEEP_PERIOD_SHARE = 0.75

#: Evidence names, as written into ``summary.json``'s ``nonwear_evidence``.
EVIDENCE = (
    "no_movement",  # GGIR's SD/range rule held over the whole span
    "no_movement_60min",  # ... for at least GGIR's hour
    "recording_edge",  # the span touches the recording's start or end
    "temperature_drop",  # fell off the skin at DETACH's rate
    "temperature_low",  # below skin temperature (DETACH's 26 °C)
    "temperature_rise",  # rose at DETACH's donning rate after the span
    "no_breathing",  # breathing could be seen and was not
    "awake_around",  # inside the sleep period, in an awakening (night's model)
)


@dataclass
class NonwearSpan:
    """A span in which the sensor was, or may have been, off the body.

    Attributes
    ----------
    start_s, end_s : float
        The removal (end of the last movement before it) and donning (first movement after it).
    evidence : list of str
        Names from :data:`EVIDENCE`.
    stands : str
        What the span needs of the night's sleep period to stand (:func:`keep_outside_sleep`):
        ``"always"`` (the skin's temperature decided), ``"unless_asleep"`` (weak evidence: not
        inside the sleep period unless the wearer was awake around it) or ``"if_awake_around"``
        (a sensor that cannot show breathing, still for less than an hour: only inside the sleep
        period with the wearer awake around it).
    """

    start_s: float
    end_s: float
    evidence: list[str]
    stands: str = "always"


@dataclass
class Temperature:
    """The sensor's temperature: sample times (s from the recording's start) and values (°C)."""

    t_s: np.ndarray
    c: np.ndarray

    @classmethod
    def of(cls, t_s: np.ndarray | None, c: np.ndarray | None) -> Temperature | None:
        """The finite samples in time order, or None when there are none."""
        if t_s is None or c is None:
            return None
        t = np.asarray(t_s, dtype=np.float64)
        v = np.asarray(c, dtype=np.float64)
        ok = np.isfinite(t) & np.isfinite(v)
        if not np.any(ok):
            return None
        order = np.argsort(t[ok], kind="stable")
        return cls(t[ok][order], v[ok][order])

    def within(self, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
        i, j = np.searchsorted(self.t_s, [a, b], side="left")
        return self.t_s[i:j], self.c[i:j]

    def slope(self, a: float, b: float) -> float | None:
        """Least-squares slope over [a, b) in °C/min, or None with too few samples."""
        t, c = self.within(a, b)
        if t.size < MIN_TEMPERATURE_SAMPLES or t[-1] - t[0] < 0.5 * (b - a):
            return None
        tc = t - t.mean()
        return float(np.sum(tc * (c - c.mean())) / np.sum(tc * tc) * 60.0)

    def median(self, a: float, b: float) -> float | None:
        _, c = self.within(a, b)
        return float(np.median(c)) if c.size else None


def quantisation_step(xyz: np.ndarray) -> float | None:
    """The sensor's least step (g), from the values it produced: the smallest difference between
    distinct values of an axis, the median over the axes; None when no axis has two values.

    Differences below 1e-7 g are rounding of a decimal file, not steps.
    """
    steps = []
    for j in range(min(3, xyz.shape[1]) if xyz.ndim == 2 else 0):
        u = np.unique(np.asarray(xyz[:, j], dtype=np.float64))
        d = np.diff(u[np.isfinite(u)])
        d = d[d > 1e-7]
        if d.size:
            steps.append(float(d.min()))
    return float(np.median(steps)) if steps else None


def breathing_peak(resid: np.ndarray, present: np.ndarray) -> tuple[float, float]:
    """The strongest spectral peak of the 1-s posture residuals in the breathing band, and the
    level a table's white noise would pass there only once in :data:`RHYTHM_FALSE_ALARM` spans.

    Breathing (DOMAIN.md §5.2) moves a limb mostly along one direction, with one rate over
    minutes: on that axis the periodogram of the 1-s means has a peak in :data:`BREATHING_HZ`.
    Each minute's periodogram (1/60 Hz bins) is averaged over the span, per axis, and divided by
    the median of its bins over 0.05-0.5 Hz (robust to the peak itself). A sensor on a table gives
    white 1-s means: each averaged bin is a Gamma(K, 1/K) variable over K minutes, whose quantile
    gives the threshold. A peak is far more sensitive than an autocorrelation: one bin holds the
    whole of a breath's power.

    Parameters
    ----------
    resid : ndarray, shape (K, 60, 3)
        Residuals of each minute's 1-s means (mean and linear trend removed).
    present : ndarray of bool, shape (K, 60)

    Returns
    -------
    (peak, threshold) : float
    """
    from scipy.special import gammaincinv

    k = present.shape[0]
    x = np.where(present[..., None], resid, 0.0)
    power = (np.abs(np.fft.rfft(x, axis=1)) ** 2).mean(axis=0)  # (31, 3)
    f = np.fft.rfftfreq(x.shape[1], 1.0)
    ref = np.median(power[(f >= 0.05) & (f <= 0.5)], axis=0)
    band = (f >= BREATHING_HZ[0]) & (f <= BREATHING_HZ[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = power[band] / ref
    peak = float(np.nanmax(ratio)) if np.any(ref > 0) else 0.0
    tests = int(band.sum()) * 3
    # Gamma(K, 1/K) quantile over its median (≈ 1 - 1/(3K)) at the per-test false-alarm rate.
    q = gammaincinv(k, 1.0 - RHYTHM_FALSE_ALARM / tests) / gammaincinv(k, 0.5)
    return peak, float(q)


def _rolling(a: np.ndarray, w: int) -> np.ndarray:
    """Centred rolling sum over ``w`` rows (NaN counts as 0)."""
    c = np.concatenate([[0.0], np.cumsum(np.nan_to_num(a))])
    n = a.shape[0]
    lo = np.clip(np.arange(n) - w // 2, 0, n)
    hi = np.clip(np.arange(n) - w // 2 + w, 0, n)
    return c[hi] - c[lo]


def still_seconds(xyz: np.ndarray, rms_g: np.ndarray, present: np.ndarray, floor_g: float) -> np.ndarray:
    """Seconds around which GGIR's non-wear criteria hold over a centred minute, and which do not
    move themselves.

    Per axis, the standard deviation of the samples over the minute is that of the 1-s means plus
    each second's own variance (a third of the band-passed magnitude's mean square per axis), the
    range that of the 1-s means. Still: SD < 13 mg and range < 50 mg in 2 of 3 axes, with at least
    half the minute recorded. A second whose band-passed RMS exceeds ``floor_g`` (the burst
    detector's floor, above any sensor's noise) moved: a twitch or a small leg movement passes
    GGIR's minute but is not a table.
    """
    w = STILL_WINDOW_S
    cnt = _rolling(present.astype(np.float64), w)
    within = _rolling(np.where(present, rms_g.astype(np.float64) ** 2 / 3.0, 0.0), w)
    ok_axes = np.zeros(xyz.shape[0], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        for j in range(3):
            v = np.where(present, xyz[:, j], 0.0)
            s1, s2 = _rolling(v, w), _rolling(v * v, w)
            var = np.maximum(s2 / cnt - (s1 / cnt) ** 2, 0.0) + within / cnt
            hi = maximum_filter1d(np.where(present, xyz[:, j], -np.inf), w, mode="nearest")
            lo = minimum_filter1d(np.where(present, xyz[:, j], np.inf), w, mode="nearest")
            ok_axes += (var < STILL_SD_G**2) & (hi - lo < STILL_RANGE_G)
    with np.errstate(invalid="ignore"):
        moved = rms_g > floor_g
    return (ok_axes >= STILL_AXES) & (cnt >= w / 2) & ~moved


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def _edges(a: int, b: int, xyz: np.ndarray, rms_g: np.ndarray, present: np.ndarray, floor_g: float) -> tuple[int, int]:
    """Move a still run [a, b) to the seconds between the last movement before it (the removal)
    and the first after it (donning): the centred minute blurs each edge by up to half a minute.

    A second moves when its band-passed RMS exceeds ``floor_g`` and four times the run's median,
    or its mean leaves the run's median posture by more than half GGIR's range on any axis.
    Only the minute outside each edge and the half minute inside it are searched: a twitch or a
    knock inside the run does not cut it.
    """
    h = STILL_WINDOW_S // 2
    core = np.zeros_like(present)
    core[a:b] = present[a:b]
    if not np.any(core):
        return a, b
    posture = np.median(xyz[core], axis=0)
    level = float(np.median(rms_g[core]))

    def moving(lo: int, hi: int) -> np.ndarray:
        lo, hi = max(0, lo), min(xyz.shape[0], hi)
        with np.errstate(invalid="ignore"):
            m = (rms_g[lo:hi] > max(floor_g, 4.0 * level)) | np.any(np.abs(xyz[lo:hi] - posture) > 0.5 * STILL_RANGE_G, axis=1)
        return np.flatnonzero(m & present[lo:hi]) + lo

    before, after = moving(a - 2 * h - 1, min(a + h, b)), moving(max(b - h, a), b + 2 * h + 1)
    start = int(before[-1]) + 1 if before.size else a
    end = int(after[0]) if after.size else b
    return start, max(end, start)


def _temperature_evidence(temp: Temperature, start: float, end: float) -> tuple[list[str], str | None]:
    """DETACH's evidence over a still span: its names and a verdict, ``"off"``, ``"on"`` or
    ``"cooling"`` (fell at an off-skin rate but stayed warm: a short removal, or a limb uncovered
    in a cold room), None where the temperature does not cover the span."""
    if temp.median(start, end) is None:
        return [], None
    ev: list[str] = []
    # DETACH's start: a fall of at least 0.2 °C/min over 5 min, judged anywhere in the span's first
    # quarter hour (the sensor may lie a minute before its casing starts to cool).
    w = min(RATE_WINDOW_S, end - start)
    drops = [
        s for a in np.arange(start, max(start, min(end - w, start + 600.0)) + 1.0, 60.0)
        if (s := temp.slope(a, a + w)) is not None
    ]
    if drops and min(drops) <= DROP_C_PER_MIN:
        ev.append("temperature_drop")
    second_half = temp.median(0.5 * (start + end), end)
    if second_half is not None and second_half < OFF_SKIN_C:
        ev.append("temperature_low")
    rise = temp.slope(end, end + RATE_WINDOW_S)
    if rise is not None and rise >= RISE_C_PER_MIN:
        ev.append("temperature_rise")
    if "temperature_low" in ev:
        return ev, "off"
    if "temperature_drop" not in ev:
        return ev, "on"  # at skin temperature and not cooling: worn, however still
    below_skin = (temp.median(end - w, end) or SKIN_C) < SKIN_C
    # DETACH asks a falling sensor to reach below skin temperature (30 °C) too; a short removal
    # from warm skin may not, and is recognised by the rise when it is put back on, or by the
    # breath it does not show (:func:`find_nonwear`).
    return ev, "off" if below_skin or "temperature_rise" in ev else "cooling"


def find_nonwear(
    t_s: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    z: np.ndarray,
    rms_g: np.ndarray,
    fs: float,
    band_hz: tuple[float, float],
    movement_floor_g: float,
    *,
    temperature: Temperature | None = None,
    step_g: float | None = None,
    idle: list[list[float]] | None = None,
) -> list[NonwearSpan]:
    """Find the spans in which the sensor was off the body, on a regular 1-s grid.

    Parameters
    ----------
    t_s : ndarray of float
        Starts of 1-s grid rows.
    x, y, z : ndarray of float
        Mean acceleration per second (NaN where missing).
    rms_g : ndarray of float
        Band-passed movement RMS per second (NaN where missing).
    fs : float
        Sample rate (Hz).
    band_hz : (float, float)
        The detector's pass band (for the sensor's noise per sample).
    movement_floor_g : float
        Band-passed RMS above which a second certainly moved (the edges of a span).
    temperature : Temperature, optional
        The sensor's temperature; decides every still span it covers.
    step_g : float, optional
        The sensor's quantisation step (:func:`quantisation_step`); unknown means fine.
    idle : list of [start_s, end_s], optional
        Seconds the device did not sample because it lay still (filled with its last sample):
        still, but they show no breathing either way.

    Returns
    -------
    list of NonwearSpan
        Sorted; spans that do not stand ``"always"`` still have to meet the sleep period
        (:func:`keep_outside_sleep`).
    """
    n = t_s.shape[0]
    if n == 0:
        return []
    xyz = np.stack([x, y, z], axis=1).astype(np.float64)
    rms = np.asarray(rms_g, dtype=np.float64)
    present = ~np.isnan(xyz[:, 0]) & ~np.isnan(rms)
    if not np.any(present):
        return []
    first, last = int(np.argmax(present)), n - 1 - int(np.argmax(present[::-1]))
    breath_ok = present.copy()
    for a, b in idle or []:
        breath_ok[(t_s >= a) & (t_s < b)] = False
    still = still_seconds(xyz, rms, present, movement_floor_g)
    spans: list[NonwearSpan] = []
    for a, b in _runs(still):
        a, b = _edges(a, b, xyz, rms, present, movement_floor_g)
        at_edge = a <= first or b > last
        length = float(t_s[b - 1] + 1.0 - t_s[a]) if b > a else 0.0
        if length < (MIN_NONWEAR_EDGE_S if at_edge else MIN_NONWEAR_S):
            continue
        start, end = float(t_s[a]), float(t_s[b - 1] + 1.0)
        evidence = ["no_movement"]
        if length >= LONG_STILL_S:
            evidence.append("no_movement_60min")
        if at_edge:
            evidence.append("recording_edge")
        t_ev, t_verdict = _temperature_evidence(temperature, start, end) if temperature else ([], None)
        evidence += t_ev
        # The seconds next to the removal and the donning hold the handling's tail: not judged.
        ia, ib = (a, b) if b - a < 4 * HANDLING_MARGIN_S else (a + HANDLING_MARGIN_S, b - HANDLING_MARGIN_S)
        breathing = _breathing(xyz[ia:ib], rms[ia:ib], breath_ok[ia:ib], fs, band_hz, step_g)
        if breathing is False:
            evidence.append("no_breathing")
        if t_verdict in ("off", "on"):
            off, stands = t_verdict == "off", "always"  # the skin's temperature decides
        elif t_verdict == "cooling":
            off, stands = breathing is not True, "always"
        elif breathing is not None:
            # Breathing that does not show is weak evidence: a shallow breather's ankle does not
            # show it either. It gives way to the sleep period.
            off, stands = not breathing, "unless_asleep"
        elif "no_movement_60min" in evidence or at_edge:
            off, stands = True, "unless_asleep"
        else:
            # A sensor that cannot show breathing, still for less than an hour: an awake wearer
            # can lie that still, so it is off only as a removal in a night-time awakening.
            off, stands = True, "if_awake_around"
        if off:
            spans.append(NonwearSpan(start, end, evidence, stands))
    return spans


def _breathing(
    xyz: np.ndarray, rms: np.ndarray, present: np.ndarray, fs: float, band_hz: tuple[float, float],
    step_g: float | None,
) -> bool | None:
    """True when a breathing rhythm shows, False when it could show and does not, None when the
    sensor cannot show it: its step is more than half the breathing motion (:data:`BREATHING_G`)
    and its noise does not dither it (:data:`DITHER_FRACTION`)."""
    if step_g is not None and step_g > 0.5 * BREATHING_G:
        # Noise per sample from the band-passed RMS: per axis a third of its power, spread over
        # the band, extended to the whole band the sensor delivers (fs / 2).
        lo, hi = band_hz
        bw = max(min(hi, 0.4 * fs) - lo, 0.5)
        level = float(np.median(rms[present])) if np.any(present) else 0.0
        sigma = level / np.sqrt(3.0) * np.sqrt(0.5 * fs / bw)
        if sigma < DITHER_FRACTION * step_g:
            return None
    w = 60
    n_win = xyz.shape[0] // w
    if n_win * w < MIN_NONWEAR_EDGE_S or present.sum() < MIN_NONWEAR_EDGE_S:
        return None
    blk = xyz[: n_win * w].reshape(n_win, w, 3)
    pres = present[: n_win * w].reshape(n_win, w)
    # Residuals of the 1-s means after each minute's own linear trend (slow drift is not breath).
    tt = np.arange(w, dtype=np.float64) - (w - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cnt = pres.sum(axis=1)
        mean = np.where(cnt[:, None] > 0, np.nansum(np.where(pres[..., None], blk, 0.0), axis=1) / cnt[:, None], 0.0)
        dev = np.where(pres[..., None], blk - mean[:, None, :], 0.0)
        tc = np.where(pres, tt[None, :], 0.0)
        den = np.sum(tc * tc, axis=1)[:, None]
        slope = np.where(den > 0, np.sum(dev * tc[..., None], axis=1) / np.where(den > 0, den, 1.0), 0.0)
        resid = np.where(pres[..., None], dev - slope[:, None, :] * tc[..., None], 0.0)
    # A twitch inside the span is one huge residual that would decide the spectrum alone:
    # residuals are clipped at five robust standard deviations of their axis.
    r = resid.reshape(-1, 3)
    spread = 1.4826 * np.median(np.abs(r[pres.reshape(-1)]), axis=0)
    resid = np.clip(resid, -5 * spread, 5 * spread)
    peak, threshold = breathing_peak(resid, pres)
    return bool(peak >= threshold)


#: Either side of a span, the time over which the night's model says whether the wearer was
#: awake: taking a sensor off and putting it on take a minute or two of being awake.
FLANK_S = 120.0


class SleepPeriodLike(Protocol):
    """What the sleep-period rule needs of a night's sleep period
    (:class:`detector.sleep_onset.SleepPeriod`)."""

    onset_s: float | None
    end_s: float | None

    def asleep_between(self, a: float, b: float) -> float | None: ...


def keep_outside_sleep(spans: list[NonwearSpan], periods: list[SleepPeriodLike]) -> list[NonwearSpan]:
    """Apply the sleep-period rule to the spans that need it (:attr:`NonwearSpan.stands`).

    A span lying inside a sleep period and shorter than :data:`SLEEP_PERIOD_SHARE` of it is sleep,
    unless the night's model has the wearer awake on both sides of it: nobody takes a sensor off
    asleep, and a removal in the night lies inside an awakening.

    Parameters
    ----------
    spans : list of NonwearSpan
    periods : list of SleepPeriod
        The nights' sleep periods.
    """
    out = []
    for sp in spans:
        if sp.stands == "always":
            out.append(sp)
            continue
        inside = awake_around = False
        for p in periods:
            if p.onset_s is None or p.end_s is None:
                continue
            s, e = p.onset_s, p.end_s
            if sp.start_s < e and sp.end_s > s and sp.end_s - sp.start_s < SLEEP_PERIOD_SHARE * (e - s):
                inside = True
                before = p.asleep_between(sp.start_s - FLANK_S, sp.start_s)
                after = p.asleep_between(sp.end_s, sp.end_s + FLANK_S)
                awake_around = before is not None and after is not None and max(before, after) < 0.5
        if awake_around:
            out.append(NonwearSpan(sp.start_s, sp.end_s, sp.evidence + ["awake_around"], sp.stands))
        elif sp.stands == "unless_asleep" and not inside:
            out.append(sp)
    return out
