"""Winograd convolution for stride-1 3x3 kernels: F(2x2,3x3) and F(4x4,3x3) (the fast tier).

A 1-D correlation of a tile ``d`` of ``m + 2`` inputs with a 3-tap kernel ``g`` gives ``m``
outputs. Winograd writes it as three linear maps (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016)::

    y = Aᵀ [(G g) ⊙ (Bᵀ d)]                      (1-D, alpha = m + 2 products instead of 3 m)
    Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ D B)] A               (2-D: the 1-D maps on rows, then on columns)

``Bᵀ`` (alpha x alpha) transforms an input tile, ``G`` (alpha x 3) the kernel and ``Aᵀ``
(m x alpha) maps the alpha² products back to an m x m output tile. Over channels the
elementwise product becomes alpha² independent matrix products, one per position (a, b)::

    M[ab] (tiles, C_out) = V[ab] (tiles, C_in) @ U[ab]ᵀ (C_in, C_out),   U = G w Gᵀ,  V = Bᵀ D B

and these batched GEMMs go to numpy's BLAS. Output tiles do not overlap; input tiles do (by 2).

**The gradients are the same maps transposed.** The forward is the chain gather-tiles -> Bᵀ·B ->
U@ -> Aᵀ·A -> place, every step linear in ``x``. Its adjoint runs the chain backwards with each
step transposed: cut the output gradient Ȳ into tiles, A Ȳ Aᵀ (the transpose of Aᵀ·A), Uᵀ@,
B·Bᵀ (the transpose of Bᵀ·B), then add the alpha x alpha tiles back where they were gathered
from (the transpose of a gather is a scatter-add, so overlapping tiles sum)::

    dx tile = B [Σ_co U ⊙ (A Ȳ Aᵀ)] Bᵀ,        dw = Gᵀ [Σ_tiles (A Ȳ Aᵀ) ⊙ (Bᵀ D B)] G

So two kernels do all the work: :func:`tile_transform` (gather tiles, apply ``L · Lᵀ``) and
:func:`tile_untransform` (apply ``R · Rᵀ``, scatter-add the tiles). The forward uses them with
(Bᵀ, Aᵀ), the input gradient with (A, B): the same two loop nests, matrices transposed. The
stride-1 transposed convolution is the input gradient: ``conv_transpose2d(x, w, stride=1,
padding=p) == winograd_conv3x3_input_grad(x, w, p)`` (see :func:`winograd_conv_transpose3x3`).

**Layout: channels last, for the vector units.** ``V`` and ``M`` are (alpha², tiles, C): each
position's slab is a (tiles, C) matrix that BLAS reads directly, and one tile's values at one
position are a contiguous run of C channels. The kernels vectorise over those channels: a row of
tiles (:func:`tile_transform`) first copies its input rows channels last, then applies the 1-D
transform down the columns (one loop over every column and channel) and along each tile's
columns, C channels at a time, so every load and store is a contiguous run. The way back
(:func:`tile_untransform`) adds a row of tiles into a channels-last buffer of its rows and writes
the finished rows back channels first. The 1-D transforms (:func:`transform_1d`) have the matrices
written out, one branch per matrix, picked at compile time (``kind`` is a literal in every
kernel), so the tile size and every coefficient are constants. The loops index one-dimensional
views with their own loop variables: indices computed inside the loop (``q + ch``) kept Numba's
negative-index wraparound in the loop body and stopped LLVM from vectorising it (6x slower,
benchmarks/WINOGRAD.md).

**One thread.** The kernels run on the calling thread; the 36 GEMMs between them use OpenBLAS's
threads. Parallel (``prange``) versions of the same kernels made a forward 2.8-3.6x and a forward
and backward 1.4-1.6x slower than on one thread: OpenBLAS's threads keep spinning after each GEMM
and took the cores from Numba's (benchmarks/WINOGRAD.md, "Channels last").

**Workspaces.** The batch is processed in chunks of images sized so that ``V`` and ``M`` stay
about :data:`CHUNK_BYTES`; the chunk buffers come from tinynet/kernels/workspace.py and are reused
by every later call, so a training step does not allocate (and page-fault) fresh large
temporaries. Outputs are fresh arrays unless ``out=`` is given.

Accuracy (asserted in tests/test_winograd.py, figures in benchmarks/WINOGRAD.md), as max |error|
over max |exact|: in float64 both tile sizes agree with a direct float64 convolution to 1e-12
(measured: about 1e-15 for F(2x2), 1e-14 for F(4x4)); in float32 F(2x2) stayed below 7e-7, as
im2col does, and F(4x4)'s forward and input gradient below 7e-6 (its transforms hold entries
from 1/24 to 8). F(4x4)'s weight gradient sums products over every tile of the batch and lost
more on the benchmark shapes (N16, 16 to 64 channels): 1.1e-5 to 2.6e-5, against im2col's 5e-7.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit

from tinynet.kernels.workspace import scratch

# The transforms, from the interpolation points 0, ±1 (F(2x2)) and 0, ±1, ±2 (F(4x4)), plus ∞.
_BT2 = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
_G2 = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
_AT2 = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)

_BT4 = np.array(
    [
        [4, 0, -5, 0, 1, 0],
        [0, -4, -4, 1, 1, 0],
        [0, 4, -4, -1, 1, 0],
        [0, -2, -1, 2, 1, 0],
        [0, 2, -1, -2, 1, 0],
        [0, 4, 0, -5, 0, 1],
    ],
    dtype=np.float64,
)
_G4 = np.array(
    [
        [1 / 4, 0, 0],
        [-1 / 6, -1 / 6, -1 / 6],
        [-1 / 6, 1 / 6, -1 / 6],
        [1 / 24, 1 / 12, 1 / 6],
        [1 / 24, -1 / 12, 1 / 6],
        [0, 0, 1],
    ],
    dtype=np.float64,
)
_AT4 = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]], dtype=np.float64)

TILES = (2, 4)  # output tile sizes m: F(2x2,3x3) and F(4x4,3x3)
# Target size of one chunk's V (or M) buffer. With the channels-last kernels (then on numba's threads),
# fwd+bwd of F(4x4) at N16 took 1.1-1.9x as long with 1 MB chunks as with 4 MB ones on the 16-, 32- and
# 64-channel benchmark shapes; 16 MB was faster than 4 MB on the 16-channel shape and slower on the
# 64-channel one (two runs, benchmarks/WINOGRAD.md, "Channels last").
CHUNK_BYTES = 4 << 20


def transform_matrices(tile: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Bᵀ, G, Aᵀ) of F(tile x tile, 3x3) in float64: shapes (α, α), (α, 3), (tile, α), α = tile + 2.

    Example:
        >>> import numpy as np
        >>> BT, G, AT = transform_matrices(2)
        >>> d, g = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 0.0, -1.0])
        >>> AT @ ((G @ g) * (BT @ d))  # the correlation: d[i] - d[i + 2]
        array([-2., -2.])
    """
    if tile == 2:
        return _BT2.copy(), _G2.copy(), _AT2.copy()
    if tile == 4:
        return _BT4.copy(), _G4.copy(), _AT4.copy()
    raise ValueError(f"winograd: tile must be one of {TILES} (F(2x2,3x3) or F(4x4,3x3)), got {tile!r}")


# ----------------------------------------------------------------------------------------- kernels
# The 1-D transforms, matrices written out (rows of the matrices above; kinds name them). Each takes
# up to six values (those past its input length are ignored) and returns six (those past its output
# length are unused); ``c`` holds the constants 2, 4, 5, 8 in the array's dtype, so float32 stays float32.
BT2, BT4, A2, A4, AT2, AT4, B2, B4 = range(8)
KINDS = {2: (BT2, A2, AT2, B2), 4: (BT4, A4, AT4, B4)}  # tile -> the kinds of Bᵀ, A, Aᵀ, B
_LENGTHS = {BT2: (4, 4), BT4: (6, 6), A2: (2, 4), A4: (4, 6), AT2: (4, 2), AT4: (6, 4), B2: (4, 4), B4: (6, 6)}


@njit(cache=True)
def transform_1d(kind, c, d0, d1, d2, d3, d4, d5):
    """(L d) for the 1-D transform L named by ``kind`` (in, out lengths in _LENGTHS)."""
    two, four, five, eight = c
    zero = d0 - d0
    if kind == BT2:  # Bᵀ d, F(2x2)
        return d0 - d2, d1 + d2, d2 - d1, d1 - d3, zero, zero
    if kind == BT4:  # Bᵀ d, F(4x4)
        return (
            four * d0 - five * d2 + d4,
            d3 + d4 - four * (d1 + d2),
            four * (d1 - d2) - d3 + d4,
            two * (d3 - d1) - d2 + d4,
            two * (d1 - d3) - d2 + d4,
            four * d1 - five * d3 + d5,
        )
    if kind == A2:  # A y, F(2x2): 2 -> 4
        return d0, d0 + d1, d0 - d1, -d1, zero, zero
    if kind == A4:  # A y, F(4x4): 4 -> 6
        even, odd = d0 + d2, d1 + d3
        even4, odd2 = d0 + four * d2, two * d1 + eight * d3
        return d0, even + odd, even - odd, even4 + odd2, even4 - odd2, d3
    if kind == AT2:  # Aᵀ m, F(2x2): 4 -> 2
        return d0 + d1 + d2, d1 - d2 - d3, zero, zero, zero, zero
    if kind == AT4:  # Aᵀ m, F(4x4): 6 -> 4
        s12, s34, t12, t34 = d1 + d2, d3 + d4, d1 - d2, d3 - d4
        return d0 + s12 + s34, t12 + two * t34, s12 + four * s34, t12 + eight * t34 + d5, zero, zero
    if kind == B2:  # B v, F(2x2)
        return d0, d1 - d2 + d3, d1 + d2 - d0, -d3, zero, zero
    # B4: B v, F(4x4)
    return (
        four * d0,
        four * (d2 - d1 + d5) + two * (d4 - d3),
        -five * d0 - four * (d1 + d2) - d3 - d4,
        d1 - d2 + two * (d3 - d4) - five * d5,
        d0 + d1 + d2 + d3 + d4,
        d5,
    )


@njit(cache=True)
def _constants(dtype_like):
    """(2, 4, 5, 8) in the dtype of ``dtype_like`` (an array)."""
    one = np.ones(1, dtype=dtype_like.dtype)[0]
    two = one + one
    four = two + two
    return two, four, four + one, four + four


@njit(cache=True)
def _put(dst, i, value, add):
    """dst[i] += value if ``add`` else dst[i] = value (``add`` is a constant where it is called)."""
    if add:
        dst[i] += value
    else:
        dst[i] = value


@njit(cache=True)
def _put_first(d0, d1, d2, d3, d4, d5, i, t, r, add):
    """_put the first ``r`` values of ``t`` at ``i`` of d0, d1, ... (d_k for k >= r may be anything)."""
    _put(d0, i, t[0], add)
    _put(d1, i, t[1], add)
    if r > 2:
        _put(d2, i, t[2], add)
        _put(d3, i, t[3], add)
    if r > 4:
        _put(d4, i, t[4], add)
        _put(d5, i, t[5], add)


@njit(cache=True)
def tile_transform(src, kind, off, th, tw, V):
    """Cut ``src`` into tiles and transform each: V[a*α+b, t, c] = (L D Lᵀ)[a, b], L named by ``kind``.

    src: (N, C, H, W); V: (α², N*th*tw, C), written in full. Tile t = (n*th + i)*tw + j is
    D[k, q] = src[n, c, i*m + k - off, j*m + q - off] for k, q < r (zero outside src): the
    forward's input tiles (L = Bᵀ, r = α, off = padding) or the output gradient's (L = A, r = m).
    One row of tiles at a time: it copies its r input rows channels last, applies L down the
    columns (every column and channel in one loop) and then along each tile's columns, C channels
    at a time, so every load and store is a contiguous run of C values.
    """
    numba.literally(kind)  # a constant in the loops: the tile size, and which branch of transform_1d
    m = 2 + 2 * (kind % 2)  # the tile size: even kinds are F(2x2)
    alpha = m + 2
    r = alpha if kind == BT2 or kind == BT4 else m  # rows and columns of one tile read from src
    N, C, H, W = src.shape
    Wb = (tw - 1) * m + r  # a row of tiles covers Wb padded columns; column u is src column u - off
    L = Wb * C
    c = _constants(src)
    D = np.empty((r, Wb, C), dtype=src.dtype)  # a row of tiles' r input rows, channels last
    Z = np.empty((alpha, Wb, C), dtype=src.dtype)  # L applied down their columns
    Df, Zf = D.reshape(r, L), Z.reshape(alpha, L)
    w0, w1 = max(0, -off), min(W, Wb - off)
    for b in range(N * th):
        n, i = b // th, b % th
        # 1. The tile row's r input rows, channels last: D[k, u, ch] (zeros outside src).
        D[:] = 0
        for k in range(r):
            h = i * m + k - off
            if 0 <= h < H and w1 > w0:
                Dk = D[k, w0 + off : w1 + off]
                for ch in range(C):
                    row = src[n, ch, h, w0:w1]
                    for u in range(w1 - w0):
                        Dk[u, ch] = row[u]
        # 2. L down the columns: Z[a] = Σ_k L[a, k] D[k], every (column, channel) at once.
        d0, d1, d2, d3 = Df[0], Df[1], Df[min(2, r - 1)], Df[min(3, r - 1)]
        d4, d5 = Df[min(4, r - 1)], Df[min(5, r - 1)]
        y0, y1, y2, y3, y4, y5 = Zf[0], Zf[1], Zf[2], Zf[3], Zf[min(4, alpha - 1)], Zf[alpha - 1]
        for e in range(L):
            _put_first(
                y0, y1, y2, y3, y4, y5, e, transform_1d(kind, c, d0[e], d1[e], d2[e], d3[e], d4[e], d5[e]), alpha, False
            )
        # 3. L along each tile's r columns; the α² results go to the slabs, C channels each (contiguous).
        for j in range(tw):
            p, u = b * tw + j, j * m
            for a in range(alpha):
                Za = Z[a]
                z0, z1, z2, z3 = Za[u], Za[u + 1], Za[u + min(2, r - 1)], Za[u + min(3, r - 1)]
                z4, z5 = Za[u + min(4, r - 1)], Za[u + min(5, r - 1)]
                base = a * alpha
                v0, v1, v2, v3 = V[base, p], V[base + 1, p], V[base + 2, p], V[base + 3, p]
                v4, v5 = V[base + min(4, alpha - 1), p], V[base + alpha - 1, p]
                for ch in range(C):
                    t = transform_1d(kind, c, z0[ch], z1[ch], z2[ch], z3[ch], z4[ch], z5[ch])
                    _put_first(v0, v1, v2, v3, v4, v5, ch, t, alpha, False)


@njit(cache=True)
def _rows_out(B, k0, k1, first, off, n, dst):
    """Rows k0..k1-1 of the band buffer B (padded rows first + k) into dst[n], channels first, unpadded."""
    H, W = dst.shape[2], dst.shape[3]
    for k in range(k0, k1):
        h = first + k - off
        if 0 <= h < H:
            Bk = B[k, off : off + W]
            for ch in range(dst.shape[1]):
                row = dst[n, ch, h]
                for u in range(W):
                    row[u] = Bk[u, ch]


@njit(cache=True)
def tile_untransform(M, kind, off, th, tw, dst):
    """The adjoint of :func:`tile_transform`: transform each tile back (R, named by ``kind``) and add it in place.

    M: (α², N*th*tw, C); dst: (N, C, H, W), written in full. dst[n, c, i*m + k - off, j*m + q - off]
    is the sum over the tiles covering it of (R M_t Rᵀ)[k, q]; what falls outside dst is dropped
    (off >= 0). The forward's output tiles (R = Aᵀ, r = m, off = 0: no overlap) or the input
    gradient's (R = B, r = α, off = padding: neighbouring tiles overlap by α - m and add up).
    One row of tiles at a time: its tiles are added into a channels-last buffer of its r rows, C
    channels at a time, and the rows no later row of tiles reaches are written back channels first.
    """
    numba.literally(kind)  # a constant in the loops: the tile size, and which branch of transform_1d
    m = 2 + 2 * (kind % 2)  # the tile size: even kinds are F(2x2)
    alpha = m + 2
    r = alpha if kind == B2 or kind == B4 else m  # rows and columns of one tile written back
    N, C, H, W = dst.shape
    Wb = (tw - 1) * m + r  # the callers make the tiles reach column W-1 + off (and row H-1 + off)
    L = Wb * C
    c = _constants(dst)
    overlap = r > m  # B: neighbouring tiles overlap and add up; Aᵀ: every value is written once
    B = np.empty((r, Wb, C), dtype=dst.dtype)  # the r padded rows of one row of tiles, channels last
    S = np.empty((alpha, Wb, C), dtype=dst.dtype)  # R along the rows of one row of tiles
    Bf, Sf = B.reshape(r, L), S.reshape(alpha, L)
    for n in range(N):
        for i in range(th):
            if overlap:
                S[:] = 0
                if i == 0:
                    B[:] = 0
                else:  # the last r - m rows of the previous row of tiles are the first ones of this one
                    B[: r - m] = B[m:]
                    B[r - m :] = 0
            for j in range(tw):
                p = (n * th + i) * tw + j
                for a in range(alpha):
                    base = a * alpha
                    m0, m1, m2, m3 = M[base, p], M[base + 1, p], M[base + 2, p], M[base + 3, p]
                    m4, m5 = M[base + min(4, alpha - 1), p], M[base + alpha - 1, p]
                    Sa = S[a]
                    s0, s1, s2, s3 = Sa[j * m], Sa[j * m + 1], Sa[j * m + min(2, r - 1)], Sa[j * m + min(3, r - 1)]
                    s4, s5 = Sa[j * m + min(4, r - 1)], Sa[j * m + min(5, r - 1)]
                    for ch in range(C):
                        t = transform_1d(kind, c, m0[ch], m1[ch], m2[ch], m3[ch], m4[ch], m5[ch])
                        _put_first(s0, s1, s2, s3, s4, s5, ch, t, r, overlap)
            # R down the columns, added into the row of tiles' r rows
            S0, S1, S2, S3 = Sf[0], Sf[1], Sf[2], Sf[3]
            S4, S5 = Sf[min(4, alpha - 1)], Sf[alpha - 1]
            b0, b1, b2, b3 = Bf[0], Bf[1], Bf[min(2, r - 1)], Bf[min(3, r - 1)]
            b4, b5 = Bf[min(4, r - 1)], Bf[min(5, r - 1)]
            for e in range(L):
                t = transform_1d(kind, c, S0[e], S1[e], S2[e], S3[e], S4[e], S5[e])
                _put_first(b0, b1, b2, b3, b4, b5, e, t, r, overlap)
            _rows_out(B, 0, m, i * m, off, n, dst)  # finished: no later row of tiles reaches them
        _rows_out(B, m, r, (th - 1) * m, off, n, dst)  # the last row of tiles' overlap (B only)


# tile_transform and tile_untransform take ``kind`` as a compile-time constant; these dispatch a
# run-time one. One per tile size, so that F(4x4) compiles only its own kernels (a dispatcher over
# every kind compiles all its branches on first use: about 3 s each, float32).
@njit(cache=True)
def _transform_f2(src, kind, off, th, tw, V):
    if kind == BT2:
        tile_transform(src, BT2, off, th, tw, V)
    else:
        tile_transform(src, A2, off, th, tw, V)


@njit(cache=True)
def _transform_f4(src, kind, off, th, tw, V):
    if kind == BT4:
        tile_transform(src, BT4, off, th, tw, V)
    else:
        tile_transform(src, A4, off, th, tw, V)


@njit(cache=True)
def _untransform_f2(M, kind, off, th, tw, dst):
    if kind == AT2:
        tile_untransform(M, AT2, off, th, tw, dst)
    else:
        tile_untransform(M, B2, off, th, tw, dst)


@njit(cache=True)
def _untransform_f4(M, kind, off, th, tw, dst):
    if kind == AT4:
        tile_untransform(M, AT4, off, th, tw, dst)
    else:
        tile_untransform(M, B4, off, th, tw, dst)


def transform_tiles(src, kind, off, th, tw, V):
    """:func:`tile_transform` with ``kind`` (Bᵀ or A) a run-time value."""
    (_transform_f4 if kind in (BT4, A4) else _transform_f2)(src, kind, off, th, tw, V)


def untransform_tiles(M, kind, off, th, tw, dst):
    """:func:`tile_untransform` with ``kind`` (Aᵀ or B) a run-time value."""
    (_untransform_f4 if kind in (AT4, B4) else _untransform_f2)(M, kind, off, th, tw, dst)


class _Plan:
    """Tile counts and chunking for one geometry: Ho x Wo outputs in th x tw tiles of m x m."""

    def __init__(self, N: int, C_in: int, C_out: int, Ho: int, Wo: int, tile: int, dtype) -> None:
        self.m = tile
        self.alpha = tile + 2
        self.th = -(-Ho // tile)
        self.tw = -(-Wo // tile)
        per_image = self.alpha**2 * max(C_in, C_out) * self.th * self.tw * np.dtype(dtype).itemsize
        self.chunk = int(max(1, min(N, CHUNK_BYTES // per_image)))
        self.tiles = self.chunk * self.th * self.tw  # tiles per full chunk

    def slabs(self, role: str, channels: int, dtype, count: int) -> np.ndarray:
        """A (α², count, channels) array in a reusable scratch buffer (one per role)."""
        return scratch("winograd " + role, (self.alpha**2, count, channels), dtype)


def _weight_transform(w: np.ndarray, G: np.ndarray) -> np.ndarray:
    """U[a*α+b, co, c] = (G w[co, c] Gᵀ)[a, b]: (C_out, C_in, 3, 3) -> (α², C_out, C_in).

    One GEMM: (G ⊗ G) vec(w) = vec(G w Gᵀ) for every (co, c) at once.
    """
    C_out, C = w.shape[:2]
    return (np.kron(G, G) @ w.reshape(C_out * C, 9).T).reshape(G.shape[0] ** 2, C_out, C)


# ----------------------------------------------------------------------------------------- checks
def _check_array(name: str, a, ndim: int, fn: str) -> None:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: {name} must be a numpy array, got {type(a).__name__}")
    if a.dtype not in (np.float32, np.float64):
        raise TypeError(f"{fn}: {name} must be float32 or float64, got {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{fn}: {name} must be {ndim}-D, got shape {a.shape}")


def _check_weight(w, C_in: int, dtype, fn: str, what: str = "input") -> None:
    _check_array("weight", w, 4, fn)
    if w.shape[1:] != (C_in, 3, 3):
        raise ValueError(
            f"{fn}: weight must have shape (C_out, {C_in}, 3, 3) for an {what} with {C_in} channels, got {w.shape}"
        )
    if w.dtype != dtype:
        raise TypeError(f"{fn}: weight dtype {w.dtype} differs from the input's {dtype}")


def _check_args(padding, tile, fn: str) -> None:
    if isinstance(padding, bool) or not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"{fn}: padding must be a non-negative int, got {padding!r}")
    if isinstance(tile, bool) or tile not in TILES:
        raise ValueError(f"{fn}: tile must be one of {TILES} (F(2x2,3x3) or F(4x4,3x3)), got {tile!r}")


def _output_size(H: int, W: int, padding: int, fn: str) -> tuple[int, int]:
    Ho, Wo = H + 2 * padding - 2, W + 2 * padding - 2
    if Ho < 1 or Wo < 1:
        raise ValueError(f"{fn}: input {H}x{W} with padding {padding} is smaller than the 3x3 kernel")
    return Ho, Wo


# ----------------------------------------------------------------------------------------- entry points
def winograd_conv3x3(
    x: np.ndarray,
    w: np.ndarray,
    padding: int = 1,
    tile: int = 2,
    out: np.ndarray | None = None,
    keep: list | None = None,
    alloc=np.empty,
) -> np.ndarray:
    """conv2d(x, w, padding=padding) for a 3x3 kernel, stride 1, dilation 1, one group, no bias.

    Cross-correlation, as PyTorch: y[n, co, oh, ow] = Σ_{c,kh,kw} w[co, c, kh, kw] x[n, c, oh+kh-p, ow+kw-p].
    ``tile`` picks F(2x2,3x3) or F(4x4,3x3). ``out`` receives the result if given (C-contiguous,
    the right shape and dtype). With a list ``keep``, each chunk's input transform V = Bᵀ D B
    goes into an array of its own (``alloc(shape, dtype)``) appended to it: the weight gradient
    of the same x can take them (``x_transforms`` of :func:`winograd_conv3x3_backward`).

    Shape:
        - x: (N, C_in, H, W), float32 or float64; w: (C_out, C_in, 3, 3), same dtype
        - y: (N, C_out, H + 2p - 2, W + 2p - 2), same dtype

    Example:
        >>> import numpy as np
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> w = np.zeros((1, 1, 3, 3)); w[0, 0, 1, 1] = 2.0
        >>> bool(np.allclose(winograd_conv3x3(x, w, padding=1), 2 * x))
        True
    """
    fn = "winograd_conv3x3"
    _check_array("x", x, 4, fn)
    _check_args(padding, tile, fn)
    N, C, H, W = x.shape
    _check_weight(w, C, x.dtype, fn)
    Ho, Wo = _output_size(H, W, padding, fn)
    C_out = w.shape[0]
    if out is None:
        out = np.empty((N, C_out, Ho, Wo), dtype=x.dtype)
    elif not (isinstance(out, np.ndarray) and out.shape == (N, C_out, Ho, Wo) and out.dtype == x.dtype):
        raise ValueError(f"{fn}: out must be a {x.dtype} array of shape {(N, C_out, Ho, Wo)}")
    elif not out.flags.c_contiguous:
        raise ValueError(f"{fn}: out must be C-contiguous")
    x = np.ascontiguousarray(x)
    UT = _weight_transform(w, transform_matrices(tile)[1].astype(x.dtype)).transpose(0, 2, 1)  # (α², C_in, C_out)
    plan = _Plan(N, C, C_out, Ho, Wo, tile, x.dtype)
    for n0 in range(0, N, plan.chunk):
        n1 = min(N, n0 + plan.chunk)
        count = (n1 - n0) * plan.th * plan.tw
        V = plan.slabs("V", C, x.dtype, count) if keep is None else alloc((plan.alpha**2, count, C), x.dtype)
        M = plan.slabs("M", C_out, x.dtype, count)  # (α², tiles, C_out)
        transform_tiles(x[n0:n1], KINDS[tile][0], padding, plan.th, plan.tw, V)  # V: (α², tiles, C_in)
        if keep is not None:
            keep.append(V)
        np.matmul(V, UT, out=M)
        untransform_tiles(M, KINDS[tile][2], 0, plan.th, plan.tw, out[n0:n1])
    return out


def winograd_conv3x3_backward(
    x: np.ndarray | None,
    gy: np.ndarray,
    w: np.ndarray,
    padding: int = 1,
    tile: int = 2,
    input_grad: bool = True,
    weight_grad: bool = True,
    x_transforms: tuple | None = None,
    gy_transforms: tuple | None = None,
    keep_gy: list | None = None,
    alloc=np.empty,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of :func:`winograd_conv3x3`, sharing the output gradient's transform A Ȳ Aᵀ.

    Returns (dx, dw); an entry not asked for is None (and ``x`` may be None when only dx is
    wanted). dx = B [Σ_co U ⊙ (A Ȳ Aᵀ)] Bᵀ with tiles added where they overlap; dw = Gᵀ [Σ_tiles
    (A Ȳ Aᵀ) ⊙ (Bᵀ D B)] G.

    Transforms made by an earlier call for the same arrays and geometry can stand in for
    computing them again, one array per chunk: ``x_transforms`` (kept by the forward's ``keep``)
    and ``gy_transforms`` (kept by an earlier call's ``keep_gy``, a list that receives each
    chunk's A Ȳ Aᵀ in an array of its own, ``alloc(shape, dtype)``).

    Shape:
        - x: (N, C_in, H, W); gy: (N, C_out, H + 2p - 2, W + 2p - 2); w: (C_out, C_in, 3, 3)
        - dx: (N, C_in, H, W); dw: (C_out, C_in, 3, 3); all one dtype (float32 or float64)
    """
    fn = "winograd_conv3x3_backward"
    _check_array("gy", gy, 4, fn)
    _check_args(padding, tile, fn)
    _check_array("weight", w, 4, fn)
    C_out, C = w.shape[:2]
    _check_weight(w, C, gy.dtype, fn)
    N, C_gy, Ho, Wo = gy.shape
    if C_gy != C_out:
        raise ValueError(f"{fn}: gy has {C_gy} channels but weight has C_out = {C_out} (weight shape {w.shape})")
    H, W = Ho + 2 - 2 * padding, Wo + 2 - 2 * padding
    if H < 1 or W < 1:
        raise ValueError(f"{fn}: a {Ho}x{Wo} output gradient with padding {padding} has no {H}x{W} input")
    if weight_grad:
        if x is None:
            raise ValueError(f"{fn}: the weight gradient needs x")
        _check_array("x", x, 4, fn)
        if x.shape != (N, C, H, W) or x.dtype != gy.dtype:
            raise ValueError(f"{fn}: x must be a {gy.dtype} array of shape {(N, C, H, W)}, got {x.dtype} {x.shape}")
        x = np.ascontiguousarray(x)
    gy = np.ascontiguousarray(gy)
    G = transform_matrices(tile)[1].astype(gy.dtype)
    U = _weight_transform(w, G) if input_grad else None  # (α², C_out, C_in)
    plan = _Plan(N, C, C_out, Ho, Wo, tile, gy.dtype)
    dx = np.empty((N, C, H, W), dtype=gy.dtype) if input_grad else None
    dU = np.zeros((plan.alpha**2, C_out, C), dtype=gy.dtype) if weight_grad else None
    dU_chunk = np.empty_like(dU) if weight_grad else None
    for n0 in range(0, N, plan.chunk):
        n1 = min(N, n0 + plan.chunk)
        count = (n1 - n0) * plan.th * plan.tw
        k = n0 // plan.chunk
        if gy_transforms is not None:
            Mbar = gy_transforms[k]
        else:
            shape = (plan.alpha**2, count, C_out)
            Mbar = plan.slabs("M", C_out, gy.dtype, count) if keep_gy is None else alloc(shape, gy.dtype)
            transform_tiles(gy[n0:n1], KINDS[tile][1], 0, plan.th, plan.tw, Mbar)  # A Ȳ Aᵀ: (α², tiles, C_out)
            if keep_gy is not None:
                keep_gy.append(Mbar)
        if input_grad:
            Vbar = plan.slabs("V", C, gy.dtype, count)  # (α², tiles, C_in)
            np.matmul(Mbar, U, out=Vbar)
            untransform_tiles(Vbar, KINDS[tile][3], padding, plan.th, plan.tw, dx[n0:n1])
        if weight_grad:
            if x_transforms is not None:
                V = x_transforms[k]
            else:
                V = plan.slabs("V", C, gy.dtype, count)  # Bᵀ D B of the input tiles
                transform_tiles(x[n0:n1], KINDS[tile][0], padding, plan.th, plan.tw, V)
            np.matmul(Mbar.transpose(0, 2, 1), V, out=dU_chunk)
            dU += dU_chunk
    return dx, (_weight_from_products(dU, G) if weight_grad else None)


def _weight_from_products(dU: np.ndarray, G: np.ndarray) -> np.ndarray:
    """dw = Gᵀ dU G per (co, c): (α², C_out, C_in) -> (C_out, C_in, 3, 3)."""
    C_out, C = dU.shape[1:]
    dw = np.kron(G, G).T @ dU.reshape(G.shape[0] ** 2, C_out * C)  # (Gᵀ ⊗ Gᵀ) vec(dU), every (co, c) at once
    return np.ascontiguousarray(dw.T).reshape(C_out, C, 3, 3)


def winograd_conv3x3_with_weight_grad(
    x: np.ndarray, w: np.ndarray, gy: np.ndarray, padding: int = 1, tile: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """``(winograd_conv3x3(x, w), winograd_conv3x3_weight_grad(x, gy))`` from one transform of x.

    Both read the input tiles' transform V = Bᵀ D B: the forward multiplies it by U, the weight
    gradient by the output gradient's transform. conv_transpose2d's backward needs exactly this
    pair (its output gradient plays x), so there V is computed once instead of twice.

    Shape:
        - x: (N, C_in, H, W); w: (C_out, C_in, 3, 3); gy: (N, C_out, H + 2p - 2, W + 2p - 2)
        - y: like gy; dw: like w; all one dtype
    """
    fn = "winograd_conv3x3_with_weight_grad"
    _check_array("x", x, 4, fn)
    _check_array("gy", gy, 4, fn)
    _check_args(padding, tile, fn)
    N, C, H, W = x.shape
    _check_weight(w, C, x.dtype, fn)
    Ho, Wo = _output_size(H, W, padding, fn)
    C_out = w.shape[0]
    if gy.shape != (N, C_out, Ho, Wo) or gy.dtype != x.dtype:
        raise ValueError(f"{fn}: gy must be a {x.dtype} array of shape {(N, C_out, Ho, Wo)}, got {gy.dtype} {gy.shape}")
    x, gy = np.ascontiguousarray(x), np.ascontiguousarray(gy)
    G = transform_matrices(tile)[1].astype(x.dtype)
    UT = _weight_transform(w, G).transpose(0, 2, 1)  # (α², C_in, C_out)
    plan = _Plan(N, C, C_out, Ho, Wo, tile, x.dtype)
    y = np.empty((N, C_out, Ho, Wo), dtype=x.dtype)
    dU = np.zeros((plan.alpha**2, C_out, C), dtype=x.dtype)
    dU_chunk = np.empty_like(dU)
    for n0 in range(0, N, plan.chunk):
        n1 = min(N, n0 + plan.chunk)
        count = (n1 - n0) * plan.th * plan.tw
        V = plan.slabs("V", C, x.dtype, count)
        M = plan.slabs("M", C_out, x.dtype, count)
        transform_tiles(x[n0:n1], KINDS[tile][0], padding, plan.th, plan.tw, V)
        np.matmul(V, UT, out=M)
        untransform_tiles(M, KINDS[tile][2], 0, plan.th, plan.tw, y[n0:n1])
        transform_tiles(gy[n0:n1], KINDS[tile][1], 0, plan.th, plan.tw, M)  # M now holds A Ȳ Aᵀ
        np.matmul(M.transpose(0, 2, 1), V, out=dU_chunk)
        dU += dU_chunk
    return y, _weight_from_products(dU, G)


def winograd_conv3x3_input_grad(
    gy: np.ndarray, w: np.ndarray, padding: int = 1, tile: int = 2, keep_gy: list | None = None, alloc=np.empty
) -> np.ndarray:
    """The input gradient of conv2d(x, w, padding=padding): the adjoint of :func:`winograd_conv3x3`.

    Stride 1 fixes the input size: H = H_out + 2 - 2p. ``keep_gy`` and ``alloc``: as in
    :func:`winograd_conv3x3_backward`.

    Shape:
        - gy: (N, C_out, H_out, W_out); w: (C_out, C_in, 3, 3)
        - dx: (N, C_in, H_out + 2 - 2p, W_out + 2 - 2p), gy's dtype

    Example:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x, w, gy = rng.standard_normal((1, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((1, 3, 5, 5))
        >>> lhs = np.vdot(winograd_conv3x3(x, w, 1), gy)   # <A x, gy>
        >>> rhs = np.vdot(x, winograd_conv3x3_input_grad(gy, w, 1))  # <x, A* gy>
        >>> bool(abs(lhs - rhs) < 1e-12 * abs(lhs))
        True
    """
    return winograd_conv3x3_backward(None, gy, w, padding, tile, True, False, keep_gy=keep_gy, alloc=alloc)[0]


def winograd_conv3x3_weight_grad(
    x: np.ndarray,
    gy: np.ndarray,
    padding: int = 1,
    tile: int = 2,
    x_transforms: tuple | None = None,
    gy_transforms: tuple | None = None,
) -> np.ndarray:
    """The weight gradient of conv2d(x, w, padding=padding): dw[co, c] = Σ_n x[n, c] ⋆ gy[n, co].

    ``x_transforms``, ``gy_transforms``: as in :func:`winograd_conv3x3_backward`.

    Shape:
        - x: (N, C_in, H, W); gy: (N, C_out, H + 2p - 2, W + 2p - 2)
        - dw: (C_out, C_in, 3, 3), x's dtype
    """
    fn = "winograd_conv3x3_weight_grad"
    _check_array("x", x, 4, fn)
    _check_array("gy", gy, 4, fn)
    w_like = np.empty((gy.shape[1], x.shape[1], 3, 3), dtype=gy.dtype)  # only its shape is read
    return winograd_conv3x3_backward(x, gy, w_like, padding, tile, False, True, x_transforms, gy_transforms)[1]


def winograd_conv_transpose3x3(x: np.ndarray, w: np.ndarray, padding: int = 1, tile: int = 2) -> np.ndarray:
    """conv_transpose2d(x, w, stride=1, padding=padding) for 3x3 kernels: conv2d's input gradient.

    The transposed convolution *is* the adjoint of the convolution with the same weight, so this
    is :func:`winograd_conv3x3_input_grad` with x in the role of the output gradient. Its own
    gradients are conv2d's forward (for x) and :func:`winograd_conv3x3_weight_grad` with the
    roles of input and output swapped (for w).

    Shape:
        - x: (N, C_in, H, W); w: (C_in, C_out, 3, 3) (PyTorch's transposed-conv layout)
        - y: (N, C_out, H + 2 - 2p, W + 2 - 2p)
    """
    return winograd_conv3x3_input_grad(x, w, padding, tile)
