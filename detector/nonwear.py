"""Non-wear: a sensor on the nightstand must not look like perfect sleep, nor a still sleeper like a
sensor on the nightstand.

Evidence, strongest first:

1. **Movement.** A sensor that moves is worn. GGIR's rule (van Hees et al. 2013; GGIR
   ``detect_nonwear_clipping``: standard deviation < 13 mg and range < 50 mg in at least 2 of 3
   axes) is applied over a sliding minute of the 1-s means (plus each second's own band-passed
   variance), and a second whose band-passed movement exceeds the burst detector's floor moved:
   only a span that stays still for at least 5 minutes (DETACH's least bout; the handling at either
   end counts) can be non-wear. Its edges are the last movement before it (the removal) and the
   first after it (donning).
2. **Skin temperature**, where the sensor has one (DETACH, Vert et al. 2022, BMC Med Res Methodol
   22:147; nimbaldetach's defaults): off the skin the sensor's temperature falls (0.40 ±
   0.17 °C/min in the first 5 min; a start needs ≤ -0.2 °C/min) towards room temperature (below
   26 °C, and not warming, a sensor is off the skin whatever its rate); after donning it rises
   (≥ 0.1 °C/min). A still sensor whose temperature does neither is a still sleeper: worn,
   whatever else says. Acceleration + temperature beat acceleration alone (Zhou et al. 2015, BMJ
   Open 5:e007447: sensitivity 0.94, specificity 0.91).
3. **Breathing**, only where the sensor shows it: a worn limb moves with each breath (DOMAIN.md
   §5.2), so the 1-s posture means carry a spectral peak at the breathing rate. Whether a sensor
   shows it depends on its step and noise (a 3.9 mg step undithered by its noise shows a breath
   only where an axis lies near a step) and on the wearer, so the night itself says: a missing
   breath is evidence only where the night's other still time nearly always showed one.
4. **The sleep period** (without temperature): a still span inside the night's sleep period that
   is shorter than 75 % of it is sleep (the rule that removed 37 min a night of sleep
   misclassified as non-wear, J Sports Sci 2020), unless the night's model has the wearer awake
   on both sides of it (nobody takes a sensor off asleep). :func:`keep_outside_sleep` applies it
   once the sleep period is known.

Without temperature, a span is non-wear when its breath is missing (``no_breathing``), or when
nothing at all moved for GGIR's hour (``no_movement_60min``) or at the recording's edge
(``recording_edge``), and it is outside the sleep period or in an awakening.
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
#: Longest handling counted to a removal's length (taking a sensor off or putting it on).
HANDLING_MAX_S = 30
#: Least length of a non-wear span (DETACH's minimum bout).
MIN_NONWEAR_S = 300.0
#: Least still time a breath is looked for in.
MIN_BREATH_S = 120
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
#: A sensor below skin temperature that climbs at least this fast is on the skin, warming: a
#: bedroom's air changes by a degree or two an hour at most (heating, an open window: an
#: assumption), a sensor put back on climbs at DETACH's 0.36 ± 0.21 °C/min, slower as it nears
#: the skin's temperature.
WARMING_C_PER_MIN = 0.05
#: Least temperature samples in a rate window for a slope to count (a window of a device that
#: reports once a minute still has five).
MIN_TEMPERATURE_SAMPLES = 4

#: Share of a night's other still time in which a breath showed, from which a still span without
#: one counts as missing it (``no_breathing``): the odds of a missing breath on a worn limb are then
#: at most one in ten. Breathing shows by its rhythm only (a spectral peak): its amplitude at the
#: wrist or ankle is not published (DOMAIN.md §5.2 reports the rate recovered from wrist
#: accelerometers in sleep), and a sensor's step and noise decide whether a second's mean can
#: resolve it, so the night itself says whether it does.
BREATH_VISIBLE_SHARE = 0.9
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
        ``"always"`` (the skin's temperature decided) or ``"unless_asleep"`` (weak evidence: not
        inside the sleep period unless the wearer was awake around it).
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


def _run_length(mask: np.ndarray) -> int:
    """How many leading elements of ``mask`` are True."""
    off = np.flatnonzero(~mask)
    return int(off[0]) if off.size else int(mask.size)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


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
    """DETACH's evidence over a still span: its names and a verdict, ``"off"``, ``"on"``,
    ``"cooling"`` (fell at DETACH's off-skin rate but stayed warm: a short removal, or a limb
    uncovered in a cold room) or ``"cooling_slowly"`` (fell at half that rate), None where the
    temperature does not cover the span."""
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
    steepest = min(drops) if drops else 0.0
    if steepest <= DROP_C_PER_MIN:
        ev.append("temperature_drop")
    second_half = temp.median(0.5 * (start + end), end)
    # Below skin temperature and not warming: a sensor just put back on climbs from the room's
    # temperature, and its wearer may lie still meanwhile.
    trend = temp.slope(start, end)
    warming = trend is not None and trend >= WARMING_C_PER_MIN
    if second_half is not None and second_half < OFF_SKIN_C and not warming:
        ev.append("temperature_low")
    rise = temp.slope(end, end + RATE_WINDOW_S)
    if rise is not None and rise >= RISE_C_PER_MIN:
        ev.append("temperature_rise")
    if "temperature_low" in ev:
        return ev, "off"
    if "temperature_drop" in ev:
        below_skin = (temp.median(end - w, end) or SKIN_C) < SKIN_C
        # DETACH asks a falling sensor to reach below skin temperature (30 °C) too; a short
        # removal from warm skin may not, and is recognised by the rise when it is put back on,
        # or by the breath it does not show (:func:`find_nonwear`).
        return ev, "off" if below_skin or "temperature_rise" in ev else "cooling"
    # DETACH's rates spread (0.40 ± 0.17 °C/min): a slow casing cools at half the start rate.
    return ev, "cooling_slowly" if steepest <= 0.5 * DROP_C_PER_MIN else "on"


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
    moving = present & (rms > movement_floor_g)
    runs = []
    for a, b in _runs(still):
        a, b = _edges(a, b, xyz, rms, present, movement_floor_g)
        # A removal lasts from taking the sensor off to putting it on: the handling at either end
        # (the moving seconds next to the still span, up to half a minute) counts to its length.
        lead = _run_length(moving[max(0, a - HANDLING_MAX_S) : a][::-1])
        trail = _run_length(moving[b : b + HANDLING_MAX_S])
        length = float(t_s[b - 1] + 1.0 - t_s[a]) + lead + trail if b > a else 0.0
        if length < MIN_NONWEAR_S:
            continue
        start, end = float(t_s[a]), float(t_s[b - 1] + 1.0)
        t_ev, t_verdict = _temperature_evidence(temperature, start, end) if temperature else ([], None)
        # The seconds next to the removal and the donning hold the handling's tail: not judged.
        ia, ib = (a, b) if b - a < 4 * HANDLING_MARGIN_S else (a + HANDLING_MARGIN_S, b - HANDLING_MARGIN_S)
        breathing = _breathing(xyz[ia:ib], breath_ok[ia:ib])
        runs.append((start, end, length, a <= first or b > last, t_ev, t_verdict, breathing))
    # How reliably this sensor on this wearer shows a breath where the limb lies still: the share
    # of the night's other still time in which it did (a fine sensor on a chest-heavy breather:
    # all of it; a coarse sensor whose axes sit between its steps: less). Only where a breath
    # nearly always shows is its absence evidence.
    seen = np.array([r[1] - r[0] if r[6] else 0.0 for r in runs])
    total = np.array([r[1] - r[0] if r[5] != "off" else 0.0 for r in runs])
    spans: list[NonwearSpan] = []
    for i, (start, end, length, at_edge, t_ev, t_verdict, breathing) in enumerate(runs):
        others = total.sum() - total[i]
        visible = others > 0 and (seen.sum() - seen[i]) / others >= BREATH_VISIBLE_SHARE
        evidence = ["no_movement"]
        if length >= LONG_STILL_S:
            evidence.append("no_movement_60min")
        if at_edge:
            evidence.append("recording_edge")
        evidence += t_ev
        missing = not breathing and visible
        if missing:
            evidence.append("no_breathing")
        if t_verdict in ("off", "on"):
            off, stands = t_verdict == "off", "always"  # the skin's temperature decides
        elif t_verdict == "cooling":
            off, stands = not breathing, "always"  # unless the breath says worn
        elif t_verdict == "cooling_slowly":
            off, stands = missing, "always"  # only with a breath that should have shown
        else:
            # Without temperature every verdict is weak and gives way to the sleep period: a
            # breath that should have shown and did not, else GGIR's hour or the recording's edge.
            off = not breathing and (missing or length >= LONG_STILL_S or at_edge)
            stands = "unless_asleep"
        if off:
            spans.append(NonwearSpan(start, end, evidence, stands))
    return spans


def _breathing(xyz: np.ndarray, present: np.ndarray) -> bool:
    """Whether a breathing rhythm shows in a still span's 1-s means (:func:`breathing_peak`).

    Even a coarse sensor whose noise does not dither its steps shows a breath where an axis lies
    near one of its steps: the breath then times the flicker between two values (measured on
    coarse quiet sleepers: 88 % of worn still spans, no table). Whether a missing breath is
    evidence is judged from the night (:func:`find_nonwear`).
    """
    w = 60
    n_win = xyz.shape[0] // w
    if n_win < 2 or present.sum() < MIN_BREATH_S:
        return False
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
    """Apply the sleep-period rule to the spans whose evidence is weak (:attr:`NonwearSpan.stands`).

    A span lying inside a sleep period and shorter than :data:`SLEEP_PERIOD_SHARE` of it is sleep,
    unless the night's model has the wearer awake around it: nobody takes a sensor off asleep, and
    a removal in the night lies inside an awakening. The model sees a brief awakening only dimly
    (a few movements), so the mean of its sleep probability over both sides is what counts.

    Parameters
    ----------
    spans : list of NonwearSpan
    periods : list of SleepPeriod
        The nights' sleep periods.
    """
    out = []
    for sp in spans:
        inside = awake_around = False
        for p in periods:
            if sp.stands == "always" or p.onset_s is None or p.end_s is None:
                continue
            s, e = p.onset_s, p.end_s
            if sp.start_s < e and sp.end_s > s and sp.end_s - sp.start_s < SLEEP_PERIOD_SHARE * (e - s):
                inside = True
                sides = [p.asleep_between(sp.start_s - FLANK_S, sp.start_s), p.asleep_between(sp.end_s, sp.end_s + FLANK_S)]
                known = [v for v in sides if v is not None]
                awake_around = bool(known) and float(np.mean(known)) < 0.5
        if not inside:
            out.append(sp)
        elif awake_around:
            out.append(NonwearSpan(sp.start_s, sp.end_s, sp.evidence + ["awake_around"], sp.stands))
    return out
