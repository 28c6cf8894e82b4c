"""Comparing nights with and without a diary tag, with an honest statement of uncertainty.

A person's nights are few and noisy (the PLMS index of one person can differ by 25/h between
nights, DOMAIN.md §2.3), so every comparison carries a percentile-bootstrap interval of the
difference between the averages and a two-sided Mann-Whitney test (rank based, no normality
assumed), and groups smaller than :data:`MIN_NIGHTS` are reported as "not enough nights".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Fewer nights than this on either side: no comparison. With three against three the smallest
#: possible two-sided Mann-Whitney p is 0.1, so even this minimum cannot make a "finding" alone.
MIN_NIGHTS = 3
#: Coverage of the bootstrap interval, in percent.
INTERVAL_LEVEL_PCT = 95
#: Bootstrap resamples; a fixed seed makes a page the same every time it is made.
N_BOOT = 4000
BOOT_SEED = 20240115


@dataclass(frozen=True)
class Comparison:
    """Nights with a tag against diary nights without it, for one measure."""

    tag: str
    measure: str
    n_with: int
    n_without: int
    mean_with: float | None = None
    mean_without: float | None = None
    difference: float | None = None  # mean_with - mean_without
    low: float | None = None
    high: float | None = None
    p: float | None = None

    @property
    def enough(self) -> bool:
        return self.n_with >= MIN_NIGHTS and self.n_without >= MIN_NIGHTS

    @property
    def reading(self) -> str:
        """``more``, ``less`` or ``unclear``: whether the interval lies wholly above or below 0."""
        if self.low is not None and self.low > 0:
            return "more"
        if self.high is not None and self.high < 0:
            return "less"
        return "unclear"


def bootstrap_interval(
    a: Sequence[float],
    b: Sequence[float],
    level_pct: float = INTERVAL_LEVEL_PCT,
    n_boot: int = N_BOOT,
    seed: int = BOOT_SEED,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``mean(a) - mean(b)``, resampling each group on its own.

    Draws ``n_boot`` index rows for ``a`` and then for ``b`` from ``numpy.random.default_rng(seed)``.
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    ia = rng.integers(0, x.size, size=(n_boot, x.size))
    ib = rng.integers(0, y.size, size=(n_boot, y.size))
    diffs = x[ia].mean(axis=1) - y[ib].mean(axis=1)
    tail = (100.0 - level_pct) / 200.0
    lo, hi = np.quantile(diffs, [tail, 1.0 - tail])
    return float(lo), float(hi)


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided Mann-Whitney U p-value (scipy: exact without ties, else normal approximation)."""
    from scipy.stats import mannwhitneyu

    p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else None


def compare(
    tag: str, measure: str, with_tag: Sequence[float], without: Sequence[float]
) -> Comparison:
    """Compare one measure between nights with and without ``tag`` (values already non-missing)."""
    base = Comparison(tag, measure, len(with_tag), len(without))
    if not base.enough:
        return base
    lo, hi = bootstrap_interval(with_tag, without)
    mw, mo = float(np.mean(with_tag)), float(np.mean(without))
    return Comparison(
        tag,
        measure,
        len(with_tag),
        len(without),
        mw,
        mo,
        mw - mo,
        lo,
        hi,
        mann_whitney_p(with_tag, without),
    )
