"""Batch normalisation in training mode, channel by channel.

The fast tier (tinynet/kernels/reference/norm.py is the plain definition). The arrays are
``(N, C, L)`` views of the input (L = H*W). Channel c's M = N*L values are
``x[:, c, :]``: N contiguous runs of L. Each kernel does in two or three passes over the
data what takes numpy about ten (sum, centre, square-sum, scale, affine; backward: two
sums, then the fused update); batch norm reads and writes whole feature maps, so the
passes are its cost.

Sums are accumulated in float64 whatever the data's dtype: a channel has up to 10⁵
values, and a float32 running sum of that many loses digits that numpy's pairwise
sums keep. The elementwise passes compute in the data's dtype; outputs keep it.
``fastmath`` "reassoc" lets LLVM split each sum into vector lanes (NaN and inf still
propagate).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _scalar_like(value, a):
    """``value`` as a scalar of ``a``'s dtype (so float32 passes stay in float32)."""
    out = np.empty(1, dtype=a.dtype)
    out[0] = value
    return out[0]


@njit(cache=True, fastmath={"reassoc"})
def batch_norm_train_forward(x, weight, bias, eps, xhat, y, mean, var):
    """x̂ = (x - μ_c) / sqrt(σ²_c + eps) and y = γ_c x̂ + β_c per channel (xhat, y, mean, var written).

    x, xhat, y: (N, C, L); weight, bias: (C,) (ones and zeros for none); mean, var: (C,) float64,
    the batch mean and the *biased* variance (what normalises).
    """
    N, C, L = x.shape
    M = N * L
    for c in range(C):
        total = 0.0
        for n in range(N):
            row = x[n, c]
            for i in range(L):
                total += row[i]
        mu = total / M
        squares = 0.0  # a second pass, Σ (x - μ)²: Σ x² - M μ² would cancel catastrophically
        for n in range(N):
            row = x[n, c]
            for i in range(L):
                d = row[i] - mu
                squares += d * d
        mean[c] = mu
        var[c] = squares / M
        mu_t = _scalar_like(mu, x)
        invstd = _scalar_like(1.0 / np.sqrt(squares / M + eps), x)
        scale, shift = weight[c], bias[c]
        for n in range(N):
            src, xh, out = x[n, c], xhat[n, c], y[n, c]
            for i in range(L):
                v = (src[i] - mu_t) * invstd
                xh[i] = v
                out[i] = scale * v + shift


# Backward (see tinynet/functional/normalization.py for the derivation), per channel:
#     dβ = Σ ĝ,   dγ = Σ ĝ x̂,   dx = γ σ⁻¹ · (ĝ - (dβ + x̂ dγ) / M).
@njit(cache=True, fastmath={"reassoc"})
def batch_norm_train_backward(g, xhat, weight, invstd, gx, dgamma, dbeta):
    """dx into gx (unless gx has no elements) and dγ, dβ (float64, (C,)) from ĝ and the saved x̂."""
    N, C, L = xhat.shape
    M = N * L
    for c in range(C):
        sum_g = 0.0
        sum_gx = 0.0
        for n in range(N):
            gr, xr = g[n, c], xhat[n, c]
            for i in range(L):
                sum_g += gr[i]
                sum_gx += gr[i] * xr[i]
        dbeta[c] = sum_g
        dgamma[c] = sum_gx
        if gx.size == 0:
            continue
        a = _scalar_like(sum_g / M, g)
        b = _scalar_like(sum_gx / M, g)
        k = _scalar_like(invstd[c] * weight[c], g)
        for n in range(N):
            gr, xr, out = g[n, c], xhat[n, c], gx[n, c]
            for i in range(L):
                out[i] = (gr[i] - (a + xr[i] * b)) * k
