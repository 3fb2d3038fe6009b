"""Softmax along the classes, and the gathers and gradient of the losses built on it: the fast tier.

Same entry points and arguments as tinynet/kernels/reference/softmax.py (the plain
definitions; tests/test_tiers.py proves these equal). Arrays are ``(N, C, L)`` or ``(N, L)``.

The reference loops run over positions with the C classes innermost: a stride-L walk
with a scalar exp per entry. Here every loop runs along the L positions of one class
row, contiguous, so it vectorises; and the exponentials go to numpy's ``np.exp``,
which has SIMD kernels, where a loop in Numba calls the scalar libm exp (about 8x slower on
float32 on the benchmark machine, benchmarks/PROFILE.md). So softmax is three passes
over the data: shift by the maximum (Numba), exp (numpy), divide by the total (Numba),
against numpy's five (max, subtract, exp, sum, divide) plus the gather of the target.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _shift_by_max(x, z, shift):
    """shift[n, i] = max_c x[n, c, i] (NaN if any is NaN); z = x - shift."""
    N, C, L = x.shape
    for n in range(N):
        m = shift[n]
        first = x[n, 0]
        for i in range(L):
            m[i] = first[i]
        for c in range(1, C):
            row = x[n, c]
            for i in range(L):
                v = row[i]
                if v > m[i] or v != v:
                    m[i] = v
        for c in range(C):
            row, out = x[n, c], z[n, c]
            for i in range(L):
                out[i] = row[i] - m[i]


# LLVM leaves a loop of divisions scalar (about 1.6 ns an entry here); multiplying by the
# reciprocal vectorises, at most one rounding (1 ulp) away from the quotient.
@njit(cache=True)
def _divide_by_total(p, total):
    """total[n, i] = Σ_c p[n, c, i] (in class order), then p *= 1 / total."""
    N, C, L = p.shape
    inverse = np.empty(L, dtype=p.dtype)
    for n in range(N):
        s = total[n]
        first = p[n, 0]
        for i in range(L):
            s[i] = first[i]
        for c in range(1, C):
            row = p[n, c]
            for i in range(L):
                s[i] += row[i]
        for i in range(L):
            inverse[i] = 1 / s[i]
        for c in range(C):
            row = p[n, c]
            for i in range(L):
                row[i] = row[i] * inverse[i]


def softmax_forward(x, p, shift, log_total):
    """p = softmax(x) along the classes; shift = max_c x and log_total = log Σ_c exp(x - shift)."""
    _shift_by_max(x, p, shift)
    np.exp(p, out=p)
    _divide_by_total(p, log_total)
    np.log(log_total, out=log_total)


@njit(cache=True)
def gather_classes(a, target, out):
    """out[n, i] = a[n, target[n, i], i]."""
    N, L = target.shape
    for n in range(N):
        t, dst = target[n], out[n]
        for i in range(L):
            dst[i] = a[n, t[i], i]


@njit(cache=True)
def scatter_add_classes(values, target, out):
    """out[n, target[n, i], i] += values[n, i]: the adjoint of :func:`gather_classes`."""
    N, L = target.shape
    for n in range(N):
        t, src = target[n], values[n]
        for i in range(L):
            out[n, t[i], i] += src[i]


@njit(cache=True)
def cross_entropy_grad(p, target, scale, at_target, uniform, weight, gx):
    """gx = p scale - uniform weight[c] - at_target [c = target], class row by class row."""
    N, C, L = p.shape
    smoothing = uniform.size > 0
    for n in range(N):
        a = scale[n]
        for c in range(C):
            row, out = p[n, c], gx[n, c]
            if smoothing:
                u, wc = uniform[n], weight[c]
                for i in range(L):
                    out[i] = row[i] * a[i] - u[i] * wc
            else:
                for i in range(L):
                    out[i] = row[i] * a[i]
        t, b = target[n], at_target[n]
        for i in range(L):
            gx[n, t[i], i] -= b[i]


@njit(cache=True)
def softmax_adjoint(p, gp, out):
    """out = p (gp - Σ_c p gp) along the classes, class row by class row (``out`` may be ``gp``)."""
    N, C, L = p.shape
    dot = np.empty(L, dtype=p.dtype)
    for n in range(N):
        first, g = p[n, 0], gp[n, 0]
        for i in range(L):
            dot[i] = first[i] * g[i]
        for c in range(1, C):
            row, g = p[n, c], gp[n, c]
            for i in range(L):
                dot[i] += row[i] * g[i]
        for c in range(C):
            row, g, dst = p[n, c], gp[n, c], out[n, c]
            for i in range(L):
                dst[i] = row[i] * (g[i] - dot[i])


@njit(cache=True)
def class_totals(p, target, valid, inter, count):
    """inter[n, c] = Σ_{i: target = c} valid p[n, c, i] and count[n, c] = Σ_{i: target = c} valid, in float64.

    One pass over the positions per sample, each adding into its target's two totals (the
    reference tier makes one pass per class).
    """
    N, C, L = p.shape
    s = np.empty(C, dtype=np.float64)
    k = np.empty(C, dtype=np.float64)
    for n in range(N):
        s[:] = 0.0
        k[:] = 0.0
        t, v = target[n], valid[n]
        for i in range(L):
            c = t[i]
            s[c] += np.float64(v[i]) * np.float64(p[n, c, i])
            k[c] += np.float64(v[i])
        for c in range(C):
            inter[n, c] = s[c]
            count[n, c] = k[c]
