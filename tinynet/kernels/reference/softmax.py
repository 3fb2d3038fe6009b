"""The reference softmax-along-classes kernels behind cross-entropy, NLL and Dice, as the formulas read.

Every array is an ``(N, C, L)`` view of logits or probabilities (C classes at each of
the L positions of a sample) or an ``(N, L)`` array with one value per position; class
targets are ``(N, L)`` int64 in ``[0, C)``. Same arguments as tinynet/kernels/softmax.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def softmax_forward(x, p, shift, log_total):
    """p = softmax(x) along the classes; shift = max_c x and log_total = log Σ_c exp(x - shift) per position.

    Shifting by the maximum keeps every exp(x - shift) in (0, 1], so large logits cannot
    overflow; log softmax is then ``x - shift - log_total`` without the log of a small p.
    A NaN logit makes its position's results NaN, as numpy's max would.
    """
    N, C, L = x.shape
    for n in range(N):
        for i in range(L):
            m = x[n, 0, i]
            for c in range(1, C):
                if x[n, c, i] > m or np.isnan(x[n, c, i]):
                    m = x[n, c, i]
            total = np.exp(x[n, 0, i] - m)
            for c in range(1, C):
                total += np.exp(x[n, c, i] - m)
            for c in range(C):
                p[n, c, i] = np.exp(x[n, c, i] - m) / total
            shift[n, i] = m
            log_total[n, i] = np.log(total)


@njit(cache=True)
def gather_classes(a, target, out):
    """out[n, i] = a[n, target[n, i], i]: the entry of each position's target class."""
    N, L = target.shape
    for n in range(N):
        for i in range(L):
            out[n, i] = a[n, target[n, i], i]


# gather_classes as a matrix has a single 1 per row (position i reads entry (t_i, i)); its
# transpose sends each value back to the one entry it was read from.
@njit(cache=True)
def scatter_add_classes(values, target, out):
    """out[n, target[n, i], i] += values[n, i]: the adjoint of :func:`gather_classes`."""
    N, L = target.shape
    for n in range(N):
        for i in range(L):
            out[n, target[n, i], i] += values[n, i]


# Cross-entropy's gradient with respect to the logits (derived in tinynet/functional/loss.py):
# per position, g (S p - a) with a_c = (1 - ε) w_t [c = t] + (ε / C) w_c. The caller folds the
# per-position factors into scale = g S, at_target = (1 - ε) g w_t and uniform = (ε / C) g.
@njit(cache=True)
def cross_entropy_grad(p, target, scale, at_target, uniform, weight, gx):
    """gx[n, c, i] = p[n, c, i] scale[n, i] - uniform[n, i] weight[c] - at_target[n, i] [c = target[n, i]].

    ``uniform`` may have no elements (no label smoothing): its term is then 0.
    """
    N, C, L = p.shape
    for n in range(N):
        for i in range(L):
            for c in range(C):
                value = p[n, c, i] * scale[n, i]
                if uniform.size:
                    value -= uniform[n, i] * weight[c]
                if c == target[n, i]:
                    value -= at_target[n, i]
                gx[n, c, i] = value


# Softmax's Jacobian is diag(p) - p pᵀ at each position (symmetric, so it is its own adjoint):
# a gradient gp with respect to p becomes p_c (gp_c - Σ_k p_k gp_k) with respect to the logits.
@njit(cache=True)
def softmax_adjoint(p, gp, out):
    """out[n, c, i] = p[n, c, i] (gp[n, c, i] - Σ_k p[n, k, i] gp[n, k, i]); ``out`` may be ``gp``."""
    N, C, L = p.shape
    for n in range(N):
        for i in range(L):
            dot = p[n, 0, i] * gp[n, 0, i]
            for c in range(1, C):
                dot += p[n, c, i] * gp[n, c, i]
            for c in range(C):
                out[n, c, i] = p[n, c, i] * (gp[n, c, i] - dot)


@njit(cache=True)
def class_totals(p, target, valid, inter, count):
    """Per sample n and class c, over the positions i whose target is c:
    inter[n, c] = Σ valid[n, i] p[n, c, i] and count[n, c] = Σ valid[n, i] (Dice's I and Σ y).

    The sums run in float64, in position order, and are rounded once into ``inter`` and ``count``.
    """
    N, C, L = p.shape
    for n in range(N):
        for c in range(C):
            s, k = 0.0, 0.0
            for i in range(L):
                if target[n, i] == c:
                    s += np.float64(valid[n, i]) * np.float64(p[n, c, i])
                    k += np.float64(valid[n, i])
            inter[n, c] = s
            count[n, c] = k
