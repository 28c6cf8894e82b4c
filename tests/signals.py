"""Small synthetic test signals (seconds long, fast) with known bursts and gaps."""

from __future__ import annotations

import numpy as np


def burst_signal(
    seed: int,
    fs: float,
    seconds: float = 120.0,
    n_bursts: int = 4,
    noise_g: float = 0.003,
    gaps: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gravity along a random direction, white noise, damped-oscillation bursts, optional gaps.

    Returns ``t`` (s), ``xyz`` (float32 g) and the burst onsets (s).
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    g = rng.normal(size=3)
    g /= np.linalg.norm(g)
    xyz = rng.normal(0, noise_g, (n, 3)) + g
    # bursts at least 2 s apart, so each is its own event
    slots = rng.choice(np.arange(5.0, seconds - 5, 2.0), size=n_bursts, replace=False)
    first = np.sort(np.ceil((slots + rng.uniform(0, 1, n_bursts)) * fs).astype(np.int64))
    onsets = first / fs  # the movement starts at a sample (value 0: a sine starts there)
    for i in first:
        k = np.arange(int(0.4 * fs) + 1)
        f = min(8.0, fs / 4)
        pulse = rng.uniform(0.1, 1.0) * np.exp(-k / (0.06 * fs)) * np.sin(2 * np.pi * f * k / fs)
        d = rng.normal(size=3)
        xyz[i : i + k.size] += (pulse[:, None] * d / np.linalg.norm(d))[: n - i]
    keep = np.ones(n, dtype=bool)
    for _ in range(gaps):
        a = int(rng.uniform(0, n - fs * 5))
        keep[a : a + int(rng.uniform(0.5, 4) * fs)] = False
    return t[keep], xyz[keep].astype(np.float32), onsets
