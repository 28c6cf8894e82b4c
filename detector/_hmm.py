"""Private numba kernel: the forward-backward pass of a small hidden Markov model.

Scaled (Rabiner 1989, §V.A): each step's forward variables are normalised to sum to one and the
scale factors give the log-likelihood, so a night of thousands of steps never underflows. Valid
pure Python too (``NUMBA_DISABLE_JIT=1``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def forward_backward(log_emit: np.ndarray, trans: np.ndarray, init: np.ndarray):
    """Posterior state and transition probabilities of an HMM.

    Parameters
    ----------
    log_emit : ndarray, shape (T, S)
        Log-probability of each step's observation in each state.
    trans : ndarray, shape (S, S)
        Transition probabilities, rows summing to one.
    init : ndarray, shape (S,)
        State probabilities at the first step.

    Returns
    -------
    gamma : ndarray, shape (T, S)
        P(state at step t | all observations).
    xi : ndarray, shape (T, S, S)
        P(state i at step t-1 and state j at step t | all observations); ``xi[0]`` is zero.
    loglik : float
        log P(all observations).
    """
    n_t, n_s = log_emit.shape
    alpha = np.zeros((n_t, n_s))
    beta = np.ones((n_t, n_s))
    emit = np.zeros((n_t, n_s))
    scale = np.zeros(n_t)
    loglik = 0.0
    for t in range(n_t):
        m = -np.inf
        for j in range(n_s):
            if log_emit[t, j] > m:
                m = log_emit[t, j]
        for j in range(n_s):
            emit[t, j] = math.exp(log_emit[t, j] - m)
        c = 0.0
        for j in range(n_s):
            if t == 0:
                a = init[j]
            else:
                a = 0.0
                for i in range(n_s):
                    a += alpha[t - 1, i] * trans[i, j]
            alpha[t, j] = a * emit[t, j]
            c += alpha[t, j]
        if c <= 0.0:  # impossible observations: restart from the prior rather than divide by 0
            for j in range(n_s):
                alpha[t, j] = 1.0 / n_s
            c = 1e-300
        else:
            for j in range(n_s):
                alpha[t, j] /= c
        scale[t] = c
        loglik += math.log(c) + m
    for t in range(n_t - 2, -1, -1):
        for i in range(n_s):
            b = 0.0
            for j in range(n_s):
                b += trans[i, j] * emit[t + 1, j] * beta[t + 1, j]
            beta[t, i] = b / scale[t + 1]
    gamma = alpha * beta
    for t in range(n_t):
        g = 0.0
        for j in range(n_s):
            g += gamma[t, j]
        if g > 0.0:
            for j in range(n_s):
                gamma[t, j] /= g
    xi = np.zeros((n_t, n_s, n_s))
    for t in range(1, n_t):
        tot = 0.0
        for i in range(n_s):
            for j in range(n_s):
                v = alpha[t - 1, i] * trans[i, j] * emit[t, j] * beta[t, j]
                xi[t, i, j] = v
                tot += v
        if tot > 0.0:
            for i in range(n_s):
                for j in range(n_s):
                    xi[t, i, j] /= tot
    return gamma, xi, loglik
