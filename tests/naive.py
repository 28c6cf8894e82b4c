"""Slow, obvious reference implementations to test the fast code against.

Written from the algorithm's description with scipy and plain Python loops, never by calling
the code under test (only its parameter values are shared).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

from hypnic.detector.bursts import BurstParams


def bursts(t: np.ndarray, xyz: np.ndarray, fs: float, params: BurstParams | None = None) -> list[dict]:
    """Reference burst detector: scipy filters per gap-free segment, a Python hysteresis loop."""
    p = params or BurstParams()
    nyq = fs / 2
    hp = butter(2, min(p.highpass_hz, 0.2 * nyq), btype="highpass", fs=fs, output="sos")
    lp = butter(2, min(p.lowpass_hz, 0.8 * nyq), btype="lowpass", fs=fs, output="sos")
    alpha = 1 - math.exp(-1 / (fs * p.envelope_s))
    gap_s = max(p.gap_periods / fs, p.gap_min_s)
    block_n = max(1, round(fs * p.noise_block_s))
    n_keep = max(1, round(p.noise_window_s / p.noise_block_s))
    x = np.asarray(xyz, dtype=np.float32).astype(np.float64)
    starts = [0] + list(np.flatnonzero(np.diff(t) > gap_s) + 1) + [len(t)]

    blocks: list[float] = []
    block: list[float] = []
    noise = 0.0
    out: list[dict] = []
    mode = 0
    cur: dict = {}

    delay = math.sqrt(2) / (2 * math.pi * min(p.lowpass_hz, 0.8 * nyq))  # reported times

    def close() -> None:
        e = cur["energy"]
        c = cur["t1"] / e if e > 0 else 0.0
        out.append(
            dict(
                onset_s=cur["onset"] - delay, offset_s=cur["last"] - delay,
                peak_g=math.sqrt(cur["peak2"]), peak_s=cur["peak_t"] - delay, energy_g2s=e, centroid_s=c,
                spread_s=math.sqrt(max(cur["t2"] / e - c * c, 0.0)) if e > 0 else 0.0,
                noise_g=cur["noise"],
            )
        )

    for a, b in zip(starts[:-1], starts[1:]):
        if mode == 2:
            close()
        mode = 0
        seg = x[a:b]
        y = np.empty_like(seg)
        for ax in range(3):
            h = sosfilt(hp, seg[:, ax], zi=sosfilt_zi(hp) * seg[0, ax])[0]
            y[:, ax] = sosfilt(lp, h)
        mag2 = np.sum(y * y, axis=1)
        e2_prev = noise * noise
        for i in range(b - a):
            ti = t[a + i]
            e2 = e2_prev + alpha * (mag2[i] - e2_prev)
            e2_prev = e2
            block.append(e2)
            if len(block) >= block_n:
                blocks.append(sum(block) / len(block))
                block = []
                recent = sorted(blocks[-n_keep:])
                noise = math.sqrt(recent[int(p.noise_quantile * (len(recent) - 1) + 0.5)])
            hi = max(p.k_high * noise, p.floor_high_g)
            lo = max(p.k_low * noise, p.floor_low_g)
            if mode == 2 and e2 < lo * lo and ti - cur["last"] >= p.min_quiet_s:
                close()
                mode = 0
            if e2 >= lo * lo:
                if mode == 0:
                    mode = 1
                    cur = dict(onset=ti, peak2=0.0, peak_t=ti, energy=0.0, t1=0.0, t2=0.0, noise=noise)
                cur["last"] = ti
                if e2 >= hi * hi:
                    mode = 2
            elif mode == 1:
                mode = 0
            if mode:
                if mag2[i] > cur["peak2"]:
                    cur["peak2"] = mag2[i]
                    cur["peak_t"] = ti
                w = mag2[i] / fs
                cur["energy"] += w
                cur["t1"] += w * (ti - cur["onset"])
                cur["t2"] += w * (ti - cur["onset"]) ** 2
    if mode == 2:
        close()
    return out

