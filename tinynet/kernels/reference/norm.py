"""The reference batch normalisation (training mode), channel by channel, as the formulas read.

The arrays are ``(N, C, L)`` views of the input (L = H*W); channel c's M = N*L values are
``x[:, c, :]``. Sums are accumulated in float64 whatever the data's dtype; the elementwise
results keep the data's dtype. Same arguments as tinynet/kernels/norm.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def batch_norm_train_forward(x, weight, bias, eps, xhat, y, mean, var):
    """μ_c, σ²_c (biased) into mean, var; x̂ = (x - μ_c) / sqrt(σ²_c + eps) into xhat; y = γ_c x̂ + β_c into y."""
    N, C, L = x.shape
    M = N * L
    for c in range(C):
        total = 0.0
        for n in range(N):
            for i in range(L):
                total += x[n, c, i]
        mean[c] = total / M
        squares = 0.0
        for n in range(N):
            for i in range(L):
                squares += (x[n, c, i] - mean[c]) ** 2
        var[c] = squares / M
        mu = x.dtype.type(mean[c])
        invstd = x.dtype.type(1.0 / np.sqrt(var[c] + eps))
        for n in range(N):
            for i in range(L):
                xhat[n, c, i] = (x[n, c, i] - mu) * invstd
                y[n, c, i] = weight[c] * xhat[n, c, i] + bias[c]


# Backward, per channel with ĝ = dL/dy: y = γ x̂ + β gives dβ = Σ ĝ and dγ = Σ ĝ x̂. Every x_i
# moves μ and σ too, so differentiating x̂_i = (x_i - μ) / σ through them (the derivation is in
# tinynet/functional/normalization.py) gives dx = γ σ⁻¹ · (ĝ - mean(ĝ) - x̂ · mean(ĝ x̂)).
@njit(cache=True)
def batch_norm_train_backward(g, xhat, weight, invstd, gx, dgamma, dbeta):
    """dγ, dβ (float64, (C,)) from ĝ and the saved x̂; dx into gx (unless gx has no elements)."""
    N, C, L = xhat.shape
    M = N * L
    for c in range(C):
        sum_g = 0.0
        sum_g_xhat = 0.0
        for n in range(N):
            for i in range(L):
                sum_g += g[n, c, i]
                sum_g_xhat += g[n, c, i] * xhat[n, c, i]
        dbeta[c] = sum_g
        dgamma[c] = sum_g_xhat
        if gx.size == 0:
            continue
        mean_g = g.dtype.type(sum_g / M)
        mean_g_xhat = g.dtype.type(sum_g_xhat / M)
        scale = g.dtype.type(invstd[c] * weight[c])
        for n in range(N):
            for i in range(L):
                gx[n, c, i] = (g[n, c, i] - (mean_g + xhat[n, c, i] * mean_g_xhat)) * scale
