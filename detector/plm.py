"""Leg-movement scoring per WASM 2016 (default) or AASM: candidate LMs, PLM series, indices.

The algorithmic form follows PLMScoRe (S. Fulda, WASM task-force member;
``Steph-Fulda/PLMScoRe:R/lm_score.R``), summarised in DOMAIN.md §2.2:

1. LMs of the same leg are joined when the next onset is < 0.5 s after the previous offset.
2. LMs shorter than 0.5 s are removed; a monolateral LM longer than 10 s is not a candidate
   (it stays, because it breaks a series).
3. With both legs: LMs of the two legs whose onset is < 0.5 s after the other's offset are one
   bilateral LM, which is not a candidate if it joins more than 4 monolateral LMs or lasts more
   than 15 s.
4. A PLM series is a run of at least 4 candidate LMs with onset-to-onset intervals (IMI) of 10 to
   90 s; an IMI outside that range, or a non-candidate LM, ends the run.

``rules="aasm"`` (AASM 2007/2018 wording, DOMAIN.md §2.1-2.2): LM 0.5-10 s, IMI 5-90 s, and
movements of the two legs whose onsets are less than 5 s apart count as one.

All functions are pure: arrays in, arrays out. Times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hypnic.detector import vocabulary

# DOMAIN.md §2.1 / §2.2 (WASM: Ferri et al., Sleep Med 2016; AASM: Berry 2018, NSRR manual).
JOIN_SAME_LEG_S = 0.5
LM_MIN_S = 0.5
CLM_MAX_MONO_S = 10.0
CLM_MAX_BILATERAL_S = 15.0
BILATERAL_MAX_PARTS = 4
MIN_SERIES = 4
IMI_RANGE_S = {"wasm": (10.0, 90.0), "aasm": (5.0, 90.0)}
AASM_BILATERAL_ONSET_S = 5.0

LEFT, RIGHT, UNKNOWN_LEG = 0, 1, -1


def leg_of(placement: str) -> int:
    """Which leg a sensor worn at ``placement`` sees: ``LEFT``, ``RIGHT`` or ``UNKNOWN_LEG``
    (an ankle whose side is not given, or an unknown place scored as an ankle)."""
    return {"left": LEFT, "right": RIGHT}.get(vocabulary.placement(placement).side, UNKNOWN_LEG)

# Rule edges are inclusive; times computed as differences of floats get 1 µs of slack, far below
# any sample period, so 90.0 s is inside and 90.1 s outside however the subtraction rounds.
EPS_S = 1e-6


@dataclass
class LegMovements:
    """Scored leg movements.

    Attributes
    ----------
    onset_s, offset_s : ndarray of float
        The scored LMs after joining and bilateral merging, sorted by onset.
    candidate : ndarray of bool
        Candidate LM (CLM): may be part of a PLM series.
    series : ndarray of int
        PLM series number (1, 2, ...) or 0 when the LM is not in a series.
    members : list of ndarray of int
        Indices of the input movements each scored LM is made of.
    """

    onset_s: np.ndarray
    offset_s: np.ndarray
    candidate: np.ndarray
    series: np.ndarray
    members: list[np.ndarray]

    @property
    def is_plm(self) -> np.ndarray:
        return self.series > 0

    @property
    def n_plm(self) -> int:
        return int(np.count_nonzero(self.series))

    def periodicity_index(self) -> float:
        """Candidate LMs in PLM series / all candidate LMs (Ferri 2006; DOMAIN.md §2.3)."""
        n = int(np.count_nonzero(self.candidate))
        return float("nan") if n == 0 else self.n_plm / n


def _join(onset: np.ndarray, offset: np.ndarray, gap_s: float) -> list[np.ndarray]:
    """Group sorted intervals whose next onset is < ``gap_s`` after the running offset."""
    groups: list[list[int]] = []
    end = -np.inf
    for i in np.argsort(onset, kind="stable"):
        if groups and onset[i] < end + gap_s:
            groups[-1].append(int(i))
            end = max(end, offset[i])
        else:
            groups.append([int(i)])
            end = offset[i]
    return [np.array(g, dtype=np.int64) for g in groups]


def score_leg_movements(
    onset_s: np.ndarray,
    offset_s: np.ndarray,
    leg: np.ndarray | None = None,
    breaks: np.ndarray | None = None,
    rules: str = "wasm",
) -> LegMovements:
    """Score leg movements into candidate LMs and PLM series.

    Parameters
    ----------
    onset_s, offset_s : array_like of float
        Leg movements as seen at the ankle(s).
    leg : array_like of int, optional
        ``LEFT`` (0), ``RIGHT`` (1) or ``UNKNOWN_LEG`` (-1) per movement; default all unknown
        (one ankle sensor: every movement is monolateral).
    breaks : array_like of bool, optional
        Movements that are not leg movements but end a series (large movements, turn-overs).
    rules : {"wasm", "aasm"}

    Returns
    -------
    LegMovements
    """
    if rules not in IMI_RANGE_S:
        raise ValueError(f"rules must be 'wasm' or 'aasm', got {rules!r}")
    onset_s = np.asarray(onset_s, dtype=np.float64)
    offset_s = np.asarray(offset_s, dtype=np.float64)
    n_in = onset_s.shape[0]
    leg = np.full(n_in, UNKNOWN_LEG) if leg is None else np.asarray(leg, dtype=np.int64)
    breaks = np.zeros(n_in, bool) if breaks is None else np.asarray(breaks, dtype=bool)
    if offset_s.shape != onset_s.shape or leg.shape != onset_s.shape or breaks.shape != onset_s.shape:
        raise ValueError("onset_s, offset_s, leg and breaks must have the same length")
    if np.any(offset_s < onset_s):
        raise ValueError("offset before onset")

    # 1. same-leg joining (breaking movements are kept apart: they are not LMs)
    groups: list[np.ndarray] = []
    for side in np.unique(leg[~breaks]):
        idx = np.flatnonzero((leg == side) & ~breaks)
        groups += [idx[g] for g in _join(onset_s[idx], offset_s[idx], JOIN_SAME_LEG_S)]
    on = np.array([onset_s[g].min() for g in groups])
    off = np.array([offset_s[g].max() for g in groups])
    side = np.array([leg[g[0]] for g in groups], dtype=np.int64)

    # 2. too short: not an LM at all
    keep = (off - on) >= LM_MIN_S - EPS_S
    groups = [g for g, k in zip(groups, keep) if k]
    on, off, side = on[keep], off[keep], side[keep]

    # 3. bilateral merging, only when both legs are seen
    two_legs = np.any(side == LEFT) and np.any(side == RIGHT)
    if two_legs and rules == "wasm":
        merged = _join(on, off, JOIN_SAME_LEG_S)
    elif two_legs:  # AASM: two legs with onsets < 5 s apart count as one movement
        merged = _join(on, on, AASM_BILATERAL_ONSET_S)
    else:
        merged = [np.array([i]) for i in range(on.shape[0])]
    m_on = np.array([on[m].min() for m in merged]) if merged else np.empty(0)
    m_off = np.array([off[m].max() for m in merged]) if merged else np.empty(0)
    n_parts = np.array([m.shape[0] for m in merged], dtype=np.int64)
    bilateral = np.array([np.unique(side[m]).shape[0] > 1 for m in merged], dtype=bool)
    members = [np.concatenate([groups[i] for i in m]) for m in merged]
    dur = m_off - m_on
    if rules == "wasm":
        candidate = np.where(
            bilateral,
            (dur <= CLM_MAX_BILATERAL_S + EPS_S) & (n_parts <= BILATERAL_MAX_PARTS),
            dur <= CLM_MAX_MONO_S + EPS_S,
        )
    else:
        candidate = dur <= CLM_MAX_MONO_S + EPS_S

    # 4. series: walk LMs and breaking movements in onset order
    lo, hi = IMI_RANGE_S[rules]
    series = np.zeros(m_on.shape[0], dtype=np.int64)
    order_on = np.concatenate([m_on, onset_s[breaks]])
    is_break = np.concatenate([~candidate, np.ones(int(breaks.sum()), bool)])
    index = np.concatenate([np.arange(m_on.shape[0]), np.full(int(breaks.sum()), -1)])
    run: list[int] = []
    next_id = 1

    def close(run: list[int]) -> None:
        nonlocal next_id
        if len(run) >= MIN_SERIES:
            series[run] = next_id
            next_id += 1

    for j in np.argsort(order_on, kind="stable"):
        if is_break[j]:
            close(run)
            run = []
            continue
        i = int(index[j])
        if run:
            imi = m_on[i] - m_on[run[-1]]
            if not (lo - EPS_S <= imi <= hi + EPS_S):
                close(run)
                run = []
        run.append(i)
    close(run)
    return LegMovements(m_on, m_off, candidate.astype(bool), series, members)
