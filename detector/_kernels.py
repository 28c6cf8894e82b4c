"""Private numba kernels of the burst detector.

One pass over the samples does everything that must see every sample: band-pass filtering
(gravity and drift removed, noise above the movement band removed), an energy envelope, a robust
running noise estimate, hysteresis burst detection with per-burst features, and per-second
aggregates (mean acceleration for posture, movement energy) for everything downstream that works
on epochs (sleep onset, non-wear, turn-overs).

All state lives in two float64 arrays that the kernels take and update in place, as
``scipy.signal.sosfilt`` carries ``zi``: feeding a recording in any chunking gives exactly the
batch result. Kernels are valid pure Python too (``NUMBA_DISABLE_JIT=1``).

Only this module imports numba, so commands that need no kernel never pay for it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

# --- parameter vector layout (built by detector.bursts.kernel_params) -------------------------
P_HP_B0, P_HP_B1, P_HP_B2, P_HP_A1, P_HP_A2 = 0, 1, 2, 3, 4
P_LP_B0, P_LP_B1, P_LP_B2, P_LP_A1, P_LP_A2 = 5, 6, 7, 8, 9
P_ENV_ALPHA = 10  # EMA coefficient of the energy envelope
P_K_HI, P_K_LO = 11, 12  # thresholds as multiples of the noise estimate
P_FLOOR_HI, P_FLOOR_LO = 13, 14  # absolute threshold floors (g)
P_MIN_QUIET = 15  # s below the low threshold that ends a burst
P_BLOCK_N = 16  # samples per noise block
P_NOISE_Q = 17  # quantile of the block energies taken as noise
P_GAP_S = 18  # an interval longer than this is a gap: filters restart, bursts end
P_FS = 19
P_EPOCH_S = 20  # length of the aggregate epochs (s)
N_PARAMS = 21

# --- state vector layout ---------------------------------------------------------------------
S_HP = 0  # 6: two delays per axis
S_LP = 6  # 6
S_PREV = 12  # 3: previous band-passed sample (for jerk)
S_E2 = 15  # envelope (mean square, g^2)
S_TPREV = 16  # time of the previous sample (NaN before the first)
S_NSEEN = 17
S_MODE = 18  # 0 idle, 1 candidate (above low), 2 burst (reached high)
S_ONSET = 19
S_LAST_ABOVE = 20
S_PEAK_G = 21  # squared: the kernel compares squares
S_PEAK_T = 22
S_PEAK_JERK = 23  # squared sample-to-sample change (times fs on output)
S_ENERGY = 24
S_NOISE_AT_ONSET = 25
S_BLOCK_COUNT = 26
S_BLOCK_SUM = 27
S_NBLOCKS = 28
S_NOISE = 29
S_EPOCH = 30  # index of the epoch being aggregated (-inf before the first sample)
S_EP_N = 31
S_EP_SUM = 32  # 3: sums of raw x, y, z
S_EP_E2 = 35  # sum of the band-passed magnitude squared
S_EP_MAX = 36  # max band-passed magnitude, squared
S_EP_NOISE = 37  # noise estimate at the end of the epoch
S_T1 = 38  # energy-weighted time since onset (first moment)
S_T2 = 39  # second moment
N_STATE = 40

# --- output row layouts ------------------------------------------------------------------------
E_ONSET, E_OFFSET, E_PEAK_T, E_PEAK_G, E_PEAK_JERK, E_ENERGY, E_NOISE, E_T1, E_T2 = range(9)
N_EVENT_COLS = 9
EP_INDEX, EP_N, EP_X, EP_Y, EP_Z, EP_E2, EP_MAX, EP_NOISE = range(8)
N_EPOCH_COLS = 8


def new_state(noise_blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh state vector and noise ring (the ring holds the last block energies)."""
    state = np.zeros(N_STATE, dtype=np.float64)
    state[S_TPREV] = np.nan
    state[S_EPOCH] = -np.inf  # any first sample, even at t < 0, opens a new epoch
    ring = np.zeros(2 * noise_blocks, dtype=np.float64)  # arrival order, then sorted
    return state, ring


@njit(cache=True, nogil=True, inline="always")
def _write_event(events, ne, onset, offset, peak_t, peak_g, peak_jerk, energy, noise, t1, t2):
    events[ne, E_ONSET] = onset
    events[ne, E_OFFSET] = offset
    events[ne, E_PEAK_T] = peak_t
    events[ne, E_PEAK_G] = peak_g
    events[ne, E_PEAK_JERK] = peak_jerk
    events[ne, E_ENERGY] = energy
    events[ne, E_NOISE] = noise
    events[ne, E_T1] = t1
    events[ne, E_T2] = t2


@njit(cache=True, nogil=True, inline="always")
def _write_epoch(epochs, nep, epoch, n, sx, sy, sz, e2, max2, noise):
    epochs[nep, EP_INDEX] = epoch
    epochs[nep, EP_N] = n
    epochs[nep, EP_X] = sx
    epochs[nep, EP_Y] = sy
    epochs[nep, EP_Z] = sz
    epochs[nep, EP_E2] = e2
    epochs[nep, EP_MAX] = math.sqrt(max2)
    epochs[nep, EP_NOISE] = noise


@njit(cache=True, nogil=True)
def _push_block(p, ring, nblocks, value):
    """Add a block energy; return the noise RMS (a quantile of the recent blocks).

    ``ring`` holds the blocks in arrival order in its first half and the same values sorted in
    its second half, updated by one removal and one insertion: no allocation, no full sort.
    """
    nb = ring.shape[0] // 2
    slot = nblocks % nb
    n = min(nblocks, nb)
    if nblocks >= nb:  # drop the oldest block from the sorted half
        old = ring[slot]
        j = nb
        while ring[j] != old:
            j += 1
        while j < nb + n - 1:
            ring[j] = ring[j + 1]
            j += 1
        n -= 1
    j = nb + n  # insert, keeping the sorted half in order
    while j > nb and ring[j - 1] > value:
        ring[j] = ring[j - 1]
        j -= 1
    ring[j] = value
    ring[slot] = value
    n += 1
    k = int(p[P_NOISE_Q] * (n - 1) + 0.5)
    return math.sqrt(ring[nb + k])


@njit(cache=True, nogil=True)
def _burst_kernel(t, xyz, p, s, ring, events, epochs):
    """Process one chunk; return (number of events written, number of epochs written).

    The state is copied into local variables for the loop and written back at the end: LLVM
    cannot keep array elements in registers across the loop (the arrays might alias), and the
    filter recurrences are latency-bound.
    """
    hb0, hb1, hb2, ha1, ha2 = p[P_HP_B0], p[P_HP_B1], p[P_HP_B2], p[P_HP_A1], p[P_HP_A2]
    lb0, lb1, lb2, la1, la2 = p[P_LP_B0], p[P_LP_B1], p[P_LP_B2], p[P_LP_A1], p[P_LP_A2]
    alpha = p[P_ENV_ALPHA]
    k_hi, k_lo = p[P_K_HI], p[P_K_LO]
    floor_hi, floor_lo = p[P_FLOOR_HI], p[P_FLOOR_LO]
    min_quiet = p[P_MIN_QUIET]
    block_n = p[P_BLOCK_N]
    gap_s = p[P_GAP_S]
    fs = p[P_FS]
    inv_fs = 1.0 / fs
    inv_epoch = 1.0 / p[P_EPOCH_S]
    # filter delays
    hx1, hx2, hy1, hy2, hz1, hz2 = s[0], s[1], s[2], s[3], s[4], s[5]
    lx1, lx2, ly1, ly2, lz1, lz2 = s[6], s[7], s[8], s[9], s[10], s[11]
    px, py, pz = s[S_PREV], s[S_PREV + 1], s[S_PREV + 2]
    e2 = s[S_E2]
    tprev = s[S_TPREV]
    mode = s[S_MODE]
    onset = s[S_ONSET]
    last_above = s[S_LAST_ABOVE]
    peak_g2 = s[S_PEAK_G]
    peak_t = s[S_PEAK_T]
    peak_jerk2 = s[S_PEAK_JERK]
    energy = s[S_ENERGY]
    t1 = s[S_T1]
    t2 = s[S_T2]
    noise_at_onset = s[S_NOISE_AT_ONSET]
    block_count = s[S_BLOCK_COUNT]
    block_sum = s[S_BLOCK_SUM]
    nblocks = int(s[S_NBLOCKS])
    noise = s[S_NOISE]
    epoch = s[S_EPOCH]
    ep_n = s[S_EP_N]
    ep_x, ep_y, ep_z = s[S_EP_SUM], s[S_EP_SUM + 1], s[S_EP_SUM + 2]
    ep_e2 = s[S_EP_E2]
    ep_max2 = s[S_EP_MAX]
    hi2 = max(k_hi * noise, floor_hi) ** 2
    lo2 = max(k_lo * noise, floor_lo) ** 2
    ne = 0
    nep = 0
    n = t.shape[0]
    for i in range(n):
        ti = t[i]
        x0 = np.float64(xyz[i, 0])
        x1 = np.float64(xyz[i, 1])
        x2 = np.float64(xyz[i, 2])
        gap = not (ti - tprev <= gap_s)  # also true for the first sample (tprev is NaN)
        if gap:
            if mode == 2.0:
                _write_event(
                    events, ne, onset, last_above, peak_t, math.sqrt(peak_g2),
                    math.sqrt(peak_jerk2) * fs, energy, noise_at_onset, t1, t2,
                )
                ne += 1
            mode = 0.0
            # Steady state of the high-pass for a constant input equal to this sample (output
            # 0): a restart (first sample, after a gap) makes no step transient.
            hx1 = (hb1 + hb2) * x0
            hx2 = hb2 * x0
            hy1 = (hb1 + hb2) * x1
            hy2 = hb2 * x1
            hz1 = (hb1 + hb2) * x2
            hz2 = hb2 * x2
            lx1 = lx2 = ly1 = ly2 = lz1 = lz2 = 0.0
            px = py = pz = 0.0
            e2 = noise * noise
        # --- band-pass, per axis: TDF-II high-pass then low-pass biquads ---
        h = hb0 * x0 + hx1
        hx1 = hb1 * x0 - ha1 * h + hx2
        hx2 = hb2 * x0 - ha2 * h
        yx = lb0 * h + lx1
        lx1 = lb1 * h - la1 * yx + lx2
        lx2 = lb2 * h - la2 * yx
        h = hb0 * x1 + hy1
        hy1 = hb1 * x1 - ha1 * h + hy2
        hy2 = hb2 * x1 - ha2 * h
        yy = lb0 * h + ly1
        ly1 = lb1 * h - la1 * yy + ly2
        ly2 = lb2 * h - la2 * yy
        h = hb0 * x2 + hz1
        hz1 = hb1 * x2 - ha1 * h + hz2
        hz2 = hb2 * x2 - ha2 * h
        yz = lb0 * h + lz1
        lz1 = lb1 * h - la1 * yz + lz2
        lz2 = lb2 * h - la2 * yz
        # Magnitudes are compared squared; square roots are taken only for what is kept.
        mag2 = yx * yx + yy * yy + yz * yz
        if gap:
            jerk2 = 0.0
        else:
            dx = yx - px
            dy = yy - py
            dz = yz - pz
            jerk2 = dx * dx + dy * dy + dz * dz
        px, py, pz = yx, yy, yz
        e2 = e2 + alpha * (mag2 - e2)

        # --- robust running noise: a low quantile of recent block energies ---
        block_sum += e2
        block_count += 1.0
        if block_count >= block_n:
            noise = _push_block(p, ring, nblocks, block_sum / block_count)
            nblocks += 1
            block_sum = 0.0
            block_count = 0.0
            hi2 = max(k_hi * noise, floor_hi) ** 2
            lo2 = max(k_lo * noise, floor_lo) ** 2

        # --- hysteresis burst detection ---
        if mode == 2.0 and e2 < lo2 and (ti - last_above) >= min_quiet:
            _write_event(
                events, ne, onset, last_above, peak_t, math.sqrt(peak_g2),
                math.sqrt(peak_jerk2) * fs, energy, noise_at_onset, t1, t2,
            )
            ne += 1
            mode = 0.0
        if e2 >= lo2:
            if mode == 0.0:
                mode = 1.0
                onset = ti
                peak_g2 = 0.0
                peak_jerk2 = 0.0
                energy = 0.0
                t1 = 0.0
                t2 = 0.0
                noise_at_onset = noise
            last_above = ti
            if e2 >= hi2:
                mode = 2.0
        elif mode == 1.0:
            mode = 0.0  # never reached the high threshold: not a burst
        if mode != 0.0:
            if mag2 > peak_g2:
                peak_g2 = mag2
                peak_t = ti
            if jerk2 > peak_jerk2:
                peak_jerk2 = jerk2
            w = mag2 * inv_fs
            dt_on = ti - onset
            energy += w
            t1 += w * dt_on
            t2 += w * dt_on * dt_on

        # --- per-epoch aggregates ---
        # floor(ti / epoch_s) changes exactly when ti / epoch_s reaches epoch + 1 (t increases)
        if ti * inv_epoch >= epoch + 1.0:
            ep = math.floor(ti * inv_epoch)
            if ep_n > 0.0:
                _write_epoch(epochs, nep, epoch, ep_n, ep_x, ep_y, ep_z, ep_e2, ep_max2, noise)
                nep += 1
            epoch = ep
            ep_n = 0.0
            ep_x = ep_y = ep_z = ep_e2 = ep_max2 = 0.0
        ep_n += 1.0
        ep_x += x0
        ep_y += x1
        ep_z += x2
        ep_e2 += mag2
        if mag2 > ep_max2:
            ep_max2 = mag2
        tprev = ti

    s[0], s[1], s[2], s[3], s[4], s[5] = hx1, hx2, hy1, hy2, hz1, hz2
    s[6], s[7], s[8], s[9], s[10], s[11] = lx1, lx2, ly1, ly2, lz1, lz2
    s[S_PREV], s[S_PREV + 1], s[S_PREV + 2] = px, py, pz
    s[S_E2] = e2
    s[S_TPREV] = tprev
    s[S_NSEEN] += n
    s[S_MODE] = mode
    s[S_ONSET] = onset
    s[S_LAST_ABOVE] = last_above
    s[S_PEAK_G] = peak_g2
    s[S_PEAK_T] = peak_t
    s[S_PEAK_JERK] = peak_jerk2
    s[S_ENERGY] = energy
    s[S_T1] = t1
    s[S_T2] = t2
    s[S_NOISE_AT_ONSET] = noise_at_onset
    s[S_BLOCK_COUNT] = block_count
    s[S_BLOCK_SUM] = block_sum
    s[S_NBLOCKS] = nblocks
    s[S_NOISE] = noise
    s[S_EPOCH] = epoch
    s[S_EP_N] = ep_n
    s[S_EP_SUM], s[S_EP_SUM + 1], s[S_EP_SUM + 2] = ep_x, ep_y, ep_z
    s[S_EP_E2] = ep_e2
    s[S_EP_MAX] = ep_max2
    return ne, nep


@njit(cache=True, nogil=True)
def _flush_kernel(p, s, events, epochs):
    """End of the recording: close an open burst and the last epoch."""
    ne = 0
    nep = 0
    if s[S_MODE] == 2.0:
        _write_event(
            events, 0, s[S_ONSET], s[S_LAST_ABOVE], s[S_PEAK_T], math.sqrt(s[S_PEAK_G]),
            math.sqrt(s[S_PEAK_JERK]) * p[P_FS],
            s[S_ENERGY], s[S_NOISE_AT_ONSET], s[S_T1], s[S_T2],
        )
        ne = 1
    s[S_MODE] = 0.0
    if s[S_EP_N] > 0.0:
        _write_epoch(
            epochs, 0, s[S_EPOCH], s[S_EP_N], s[S_EP_SUM], s[S_EP_SUM + 1], s[S_EP_SUM + 2],
            s[S_EP_E2], s[S_EP_MAX], s[S_NOISE],
        )
        nep = 1
        for i in range(S_EP_N, S_EP_MAX + 1):  # the epoch is closed: its sums start again
            s[i] = 0.0
    return ne, nep
