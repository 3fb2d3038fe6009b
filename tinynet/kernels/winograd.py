"""Winograd convolution for stride-1 3x3 kernels: F(2x2,3x3) and F(4x4,3x3) (the fast tier).

A 1-D correlation of a tile ``d`` of ``m + 2`` inputs with a 3-tap kernel ``g`` gives ``m``
outputs. Winograd writes it as three linear maps (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016)::

    y = Aᵀ [(G g) ⊙ (Bᵀ d)]                      (1-D, alpha = m + 2 products instead of 3 m)
    Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ D B)] A               (2-D: the 1-D maps on rows, then on columns)

``Bᵀ`` (alpha x alpha) transforms an input tile, ``G`` (alpha x 3) the kernel and ``Aᵀ``
(m x alpha) maps the alpha² products back to an m x m output tile. Over channels the
elementwise product becomes alpha² independent matrix products, one per position (a, b)::

    M[ab] (C_out, tiles) = U[ab] (C_out, C_in) @ V[ab] (C_in, tiles),   U = G w Gᵀ,  V = Bᵀ D B

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

**Layout, for bandwidth.** ``V`` and ``M`` are (alpha², C, tiles): each position's slab is a
(C, tiles) matrix that BLAS reads directly, and one (image, channel) plane's tiles are a contiguous
run of ``th * tw`` values in every slab. The kernels work one plane at a time: a gather copies
each tile entry (k, q) of all the plane's tiles into a contiguous run (the only strided step), the
transforms then combine whole runs (long, vectorised loops, zero coefficients skipped), and each
of the alpha² results is stored as one contiguous run, rather than one scalar per position per
tile into alpha² far-apart arrays (the stores that took most of a first prototype's time). The
kernels run on one thread; the GEMMs use OpenBLAS's threads. (Numba-parallel versions over the
planes doubled the cold compile time, 26 s vs 12 s, and their gain could not be measured on the
shared 2-core benchmark machine: benchmarks/WINOGRAD.md.)

**Workspaces.** The batch is processed in chunks of images sized so that ``V`` and ``M`` stay
about :data:`CHUNK_BYTES` (cache-sized, not batch-sized); the chunk buffers live in a small cache
keyed by (role, shape, dtype) and are reused by every later call with the same geometry, so a
training step does not allocate (and page-fault) fresh large temporaries. Pass your own dict as
``workspace=`` to keep buffers apart, or call :func:`clear_workspaces` to free the shared ones.
Outputs are fresh arrays unless ``out=`` is given.

Accuracy (asserted in tests/test_winograd.py, figures in benchmarks/WINOGRAD.md), as max |error|
over max |exact|: in float64 both tile sizes agree with a direct float64 convolution to 1e-12
(measured: about 1e-15 for F(2x2), 1e-14 for F(4x4)); in float32 F(2x2) stayed below 7e-7, as
im2col does, and F(4x4) below 7e-6 (its transforms hold entries from 1/24 to 8).
"""

from __future__ import annotations

import numpy as np
from numba import njit

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
# Target size of one chunk's V (or M) buffer: V and M together then fit the 2.5 MB L2 of the benchmark
# machine. Single-thread CPU time of fwd+bwd was lowest or level at 1 MB among 0.5/1/2/8/64 MB on the
# three shapes measured (N16 C32 32x32: F(2x2) 31.0 ms at 1 MB vs 37.8 at 2 MB, F(4x4) 25.0 vs 29.0).
CHUNK_BYTES = 1 << 20


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
@njit(cache=True)
def combine_runs(coefs, runs, out):
    """out[t] = Σ_u coefs[u] * runs[u, t]: one row of a small matrix applied to every tile at once.

    coefs: (K,); runs: (K, T); out: (T,). Zero coefficients are skipped (the transforms are sparse).
    """
    out[:] = 0
    for u in range(coefs.shape[0]):
        coef = coefs[u]
        if coef != 0:
            for t in range(out.shape[0]):
                out[t] += coef * runs[u, t]


@njit(cache=True)
def tile_transform(src, L, m, off, th, tw, V):
    """Cut ``src`` into tiles and transform each: V[a*α+b, c, t] = (L D Lᵀ)[a, b].

    src: (N, C, H, W); L: (α, r); V: (α², C, N*th*tw), written in full. Tile t = (n*th + i)*tw + j
    is D[k, q] = src[n, c, i*m + k - off, j*m + q - off] for k, q < r (zero outside src): the
    forward's input tiles (L = Bᵀ, r = α, off = padding) or the output gradient's (L = A, r = m).
    """
    N, C, H, W = src.shape
    alpha, r = L.shape
    T = th * tw  # tiles per plane
    Hb = (th - 1) * m + r  # the tiles cover a padded plane of Hb x Wb
    Wb = (tw - 1) * m + r
    h1 = min(Hb, H + off)  # padded-plane rows [off, h1) and columns [off, w1) come from src
    w1 = min(Wb, W + off)
    padded = np.zeros((Hb, Wb), dtype=src.dtype)  # zero borders, never overwritten
    D = np.empty((r, r, T), dtype=src.dtype)  # D[q, k, t]: entry (k, q) of every tile, position-major
    Z = np.empty((alpha, r, T), dtype=src.dtype)  # Z[a, q] = Σ_k L[a, k] D[k, q]
    acc = np.empty(T, dtype=src.dtype)
    for n in range(N):
        for c in range(C):  # (n, c) owns V[:, c, n*T : (n+1)*T]
            padded[off:h1, off:w1] = src[n, c, : h1 - off, : w1 - off]
            for k in range(r):  # the gather: every tile's (k, q) entry, one strided copy each
                for q in range(r):
                    for i in range(th):
                        row = padded[i * m + k]
                        for j in range(tw):
                            D[q, k, i * tw + j] = row[j * m + q]
            for a in range(alpha):  # the transform, on runs of T values
                for q in range(r):
                    combine_runs(L[a], D[q], Z[a, q])  # down the columns: L D
            for a in range(alpha):
                for b in range(alpha):
                    combine_runs(L[b], Z[a], acc)  # along the rows: (L D) Lᵀ
                    V[a * alpha + b, c, n * T : (n + 1) * T] = acc


@njit(cache=True)
def tile_untransform(M, R, m, off, th, tw, dst):
    """The adjoint of :func:`tile_transform` (with R = Lᵀ): transform each tile back and add it in place.

    M: (α², C, N*th*tw); R: (r, α); dst: (N, C, H, W), written in full. dst[n, c, i*m + k - off,
    j*m + q - off] is the sum over the tiles covering it of (R M_t Rᵀ)[k, q]; what falls outside dst
    is dropped (off >= 0). The forward's output tiles (R = Aᵀ, r = m, off = 0: no overlap) or the
    input gradient's (R = B, r = α, off = padding: neighbouring tiles overlap by α - m and add up).
    """
    N, C, H, W = dst.shape
    r, alpha = R.shape
    T = th * tw
    Hb = (th - 1) * m + r  # the tiles cover a plane of Hb rows; the callers make it reach row H-1 + off
    plane = np.empty((Hb, (tw - 1) * m + r), dtype=dst.dtype)
    S = np.empty((r, alpha, T), dtype=dst.dtype)  # S[q, a] = Σ_b R[q, b] M[ab]
    Q = np.empty((r, r, T), dtype=dst.dtype)  # Q[k, q] = Σ_a R[k, a] S[q, a]: the tiles to place
    for n in range(N):
        for c in range(C):  # (n, c) owns dst[n, c]
            for a in range(alpha):  # the transform, on runs of T values
                M_a = M[a * alpha : (a + 1) * alpha, c, n * T : (n + 1) * T]  # (α, T): M[a, b] for every b
                for q in range(r):
                    combine_runs(R[q], M_a, S[q, a])  # along the rows: M Rᵀ
            for k in range(r):
                for q in range(r):
                    combine_runs(R[k], S[q], Q[k, q])  # down the columns: R (M Rᵀ)
            plane[:] = 0
            for k in range(r):  # the scatter-add: the adjoint of tile_transform's gather
                for q in range(r):
                    for i in range(th):
                        row = plane[i * m + k]
                        for j in range(tw):
                            row[j * m + q] += Q[k, q, i * tw + j]
            dst[n, c] = plane[off : off + H, off : off + W]


# ----------------------------------------------------------------------------------------- workspaces
_WORKSPACE: dict = {}


def clear_workspaces() -> None:
    """Free the shared workspace buffers (the next call allocates them again)."""
    _WORKSPACE.clear()


def _buffer(workspace: dict | None, role: str, shape: tuple, dtype) -> np.ndarray:
    """A reusable buffer of ``shape`` for ``role`` (contents undefined)."""
    cache = _WORKSPACE if workspace is None else workspace
    key = (role, shape, np.dtype(dtype).str)
    buf = cache.get(key)
    if buf is None:
        buf = cache[key] = np.empty(shape, dtype=dtype)
    return buf


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

    def slabs(self, workspace, role: str, channels: int, dtype, count: int) -> np.ndarray:
        """A (α², channels, count) view of a reusable (α², channels, tiles) buffer."""
        buf = _buffer(workspace, role, (self.alpha**2, channels, self.tiles), dtype)
        return buf[:, :, :count]


def _matrices(tile: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    BT, G, AT = transform_matrices(tile)
    return BT.astype(dtype), G.astype(dtype), AT.astype(dtype)


def _weight_transform(w: np.ndarray, G: np.ndarray) -> np.ndarray:
    """U[a*α+b, co, c] = (G w[co, c] Gᵀ)[a, b]: (C_out, C_in, 3, 3) -> (α², C_out, C_in)."""
    alpha = G.shape[0]
    U = G @ w @ G.T  # (C_out, C_in, α, α)
    return np.ascontiguousarray(U.transpose(2, 3, 0, 1)).reshape(alpha * alpha, w.shape[0], w.shape[1])


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
    workspace: dict | None = None,
) -> np.ndarray:
    """conv2d(x, w, padding=padding) for a 3x3 kernel, stride 1, dilation 1, one group, no bias.

    Cross-correlation, as PyTorch: y[n, co, oh, ow] = Σ_{c,kh,kw} w[co, c, kh, kw] x[n, c, oh+kh-p, ow+kw-p].
    ``tile`` picks F(2x2,3x3) or F(4x4,3x3). ``out`` receives the result if given (C-contiguous,
    the right shape and dtype); ``workspace`` is a dict holding the reusable buffers (default: a
    shared module-level cache).

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
    BT, G, AT = _matrices(tile, x.dtype)
    U = _weight_transform(w, G)  # (α², C_out, C_in)
    plan = _Plan(N, C, C_out, Ho, Wo, tile, x.dtype)
    for n0 in range(0, N, plan.chunk):
        n1 = min(N, n0 + plan.chunk)
        count = (n1 - n0) * plan.th * plan.tw
        V = plan.slabs(workspace, "V", C, x.dtype, count)  # (α², C_in, tiles)
        M = plan.slabs(workspace, "M", C_out, x.dtype, count)  # (α², C_out, tiles)
        tile_transform(x[n0:n1], BT, plan.m, padding, plan.th, plan.tw, V)
        np.matmul(U, V, out=M)
        tile_untransform(M, AT, plan.m, 0, plan.th, plan.tw, out[n0:n1])
    return out


def winograd_conv3x3_backward(
    x: np.ndarray | None,
    gy: np.ndarray,
    w: np.ndarray,
    padding: int = 1,
    tile: int = 2,
    input_grad: bool = True,
    weight_grad: bool = True,
    workspace: dict | None = None,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Both gradients of :func:`winograd_conv3x3`, sharing the output gradient's transform A Ȳ Aᵀ.

    Returns (dx, dw); an entry not asked for is None (and ``x`` may be None when only dx is
    wanted). dx = B [Σ_co U ⊙ (A Ȳ Aᵀ)] Bᵀ with tiles added where they overlap; dw = Gᵀ [Σ_tiles
    (A Ȳ Aᵀ) ⊙ (Bᵀ D B)] G.

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
    BT, G, AT = _matrices(tile, gy.dtype)
    A, B = np.ascontiguousarray(AT.T), np.ascontiguousarray(BT.T)  # the adjoint's matrices (C order: one compile)
    U = _weight_transform(w, G) if input_grad else None
    UT = U.transpose(0, 2, 1) if input_grad else None  # (α², C_in, C_out)
    plan = _Plan(N, C, C_out, Ho, Wo, tile, gy.dtype)
    dx = np.empty((N, C, H, W), dtype=gy.dtype) if input_grad else None
    dU = np.zeros((plan.alpha**2, C_out, C), dtype=gy.dtype) if weight_grad else None
    dU_chunk = np.empty_like(dU) if weight_grad else None
    for n0 in range(0, N, plan.chunk):
        n1 = min(N, n0 + plan.chunk)
        count = (n1 - n0) * plan.th * plan.tw
        Mbar = plan.slabs(workspace, "M", C_out, gy.dtype, count)  # A Ȳ Aᵀ: (α², C_out, tiles)
        tile_transform(gy[n0:n1], A, plan.m, 0, plan.th, plan.tw, Mbar)
        if input_grad:
            Vbar = plan.slabs(workspace, "V", C, gy.dtype, count)  # (α², C_in, tiles)
            np.matmul(UT, Mbar, out=Vbar)
            tile_untransform(Vbar, B, plan.m, padding, plan.th, plan.tw, dx[n0:n1])
        if weight_grad:
            V = plan.slabs(workspace, "V", C, gy.dtype, count)  # Bᵀ D B of the input tiles
            tile_transform(x[n0:n1], BT, plan.m, padding, plan.th, plan.tw, V)
            np.matmul(Mbar, V.transpose(0, 2, 1), out=dU_chunk)
            dU += dU_chunk
    dw = None
    if weight_grad:
        alpha = plan.alpha
        dU4 = dU.reshape(alpha, alpha, C_out, C).transpose(2, 3, 0, 1)  # (C_out, C_in, α, α)
        dw = np.ascontiguousarray(G.T @ dU4 @ G)
    return dx, dw


def winograd_conv3x3_input_grad(
    gy: np.ndarray, w: np.ndarray, padding: int = 1, tile: int = 2, workspace: dict | None = None
) -> np.ndarray:
    """The input gradient of conv2d(x, w, padding=padding): the adjoint of :func:`winograd_conv3x3`.

    Stride 1 fixes the input size: H = H_out + 2 - 2p.

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
    return winograd_conv3x3_backward(None, gy, w, padding, tile, True, False, workspace)[0]


def winograd_conv3x3_weight_grad(
    x: np.ndarray, gy: np.ndarray, padding: int = 1, tile: int = 2, workspace: dict | None = None
) -> np.ndarray:
    """The weight gradient of conv2d(x, w, padding=padding): dw[co, c] = Σ_n x[n, c] ⋆ gy[n, co].

    Shape:
        - x: (N, C_in, H, W); gy: (N, C_out, H + 2p - 2, W + 2p - 2)
        - dw: (C_out, C_in, 3, 3), x's dtype
    """
    fn = "winograd_conv3x3_weight_grad"
    _check_array("x", x, 4, fn)
    _check_array("gy", gy, 4, fn)
    w_like = np.empty((gy.shape[1], x.shape[1], 3, 3), dtype=gy.dtype)  # only its shape is read
    return winograd_conv3x3_backward(x, gy, w_like, padding, tile, False, True, workspace)[1]


def winograd_conv_transpose3x3(
    x: np.ndarray, w: np.ndarray, padding: int = 1, tile: int = 2, workspace: dict | None = None
) -> np.ndarray:
    """conv_transpose2d(x, w, stride=1, padding=padding) for 3x3 kernels: conv2d's input gradient.

    The transposed convolution *is* the adjoint of the convolution with the same weight, so this
    is :func:`winograd_conv3x3_input_grad` with x in the role of the output gradient. Its own
    gradients are conv2d's forward (for x) and :func:`winograd_conv3x3_weight_grad` with the
    roles of input and output swapped (for w).

    Shape:
        - x: (N, C_in, H, W); w: (C_in, C_out, 3, 3) (PyTorch's transposed-conv layout)
        - y: (N, C_out, H + 2 - 2p, W + 2 - 2p)
    """
    return winograd_conv3x3_input_grad(x, w, padding, tile, workspace)
