"""Convolutions: conv1d, conv2d, convolve2d, conv_transpose1d and conv_transpose2d.

What is proved, in order:

1. The lecture notes' worked examples, number for number (docs/WORKED_EXAMPLES.md).
2. The matrices: the operator matrix of a 3x3 conv on a 4x4 image is the lecture notes' 4x16 matrix C,
   the transposed conv's is Cᵀ, and the 1-D strided conv is the lecture notes' 3x7 matrix.
3. The adjoint pair: conv2d's input-gradient *is* conv_transpose2d of the output gradient (and
   the other way round), and the dot-product test holds for every linear map, the
   weight-gradient maps included.
4. float64 gradcheck for input, weight and bias.
5. PyTorch as the oracle on hypothesis-drawn arguments (forward and every gradient).
6. dtypes, unbatched inputs, empty batches, and the kernels without the JIT.

Bad arguments are in ``test_conv_errors.py`` and the layers in ``test_conv_modules.py``.
To point students at one piece: ``pytest tests/test_conv.py -k transpose``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet.testing import adjoint_check, gradcheck, operator_matrix

# --------------------------------------------------------------------------- the lecture notes' numbers (docs/WORKED_EXAMPLES.md)
# Lecture notes, part 003: the 6x6 image A and the 3x3 kernel K used in all its examples.
A = np.array(
    [
        [3, 2, 7, 1, 6, 3],
        [4, 1, 1, 0, 9, 8],
        [8, 2, 0, 1, 2, 4],
        [5, 6, 0, 7, 1, 4],
        [0, 5, 4, 9, 6, 0],
        [4, 6, 2, 4, 0, 5],
    ],
    dtype=np.float64,
)
K = np.array([[1, 2, 2], [2, 1, 2], [2, 2, 1]], dtype=np.float64)


def _t(a, requires_grad: bool = False) -> tinynet.Tensor:
    return tinynet.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def _img(a) -> tinynet.Tensor:
    """A 2-D array as a (1, 1, H, W) batch."""
    a = np.asarray(a, dtype=np.float64)
    return _t(a.reshape((1, 1) + a.shape))


def test_lecture_notes_stride_3_on_the_6x6_image():
    out = F.conv2d(_img(A), _img(K), stride=3)
    np.testing.assert_array_equal(out.data[0, 0], [[52, 54], [52, 54]])


def test_lecture_notes_same_padding_is_padding_1_and_matches_the_padded_matrix():
    # The lecture notes' padded image A_β, written out as they print it.
    A_beta = np.zeros((8, 8))
    A_beta[1:7, 1:7] = A
    by_hand = np.array([[np.sum(A_beta[i : i + 3, j : j + 3] * K) for j in range(6)] for i in range(6)])
    same = F.conv2d(_img(A), _img(K), padding="same").data[0, 0]
    assert same.shape == (6, 6)  # "output size = same as input"
    np.testing.assert_array_equal(same, by_hand)
    np.testing.assert_array_equal(F.conv2d(_img(A), _img(K), padding=1).data[0, 0], by_hand)


def test_lecture_notes_dilation_3_with_padding_1():
    out = F.conv2d(_img(A), _img(K), padding=1, dilation=3)
    np.testing.assert_array_equal(out.data[0, 0], [[17, 33], [28, 22]])


def test_lecture_notes_7x7_dilated_example_gives_1():
    A7 = np.array(
        [
            [0.5, 1, 1, 1, 1, 1, 1],
            [1, 0.5, 0, 0, 0, 0, 0],
            [0, 0, 0.5, 1, 1, 1, 1],
            [1, 1, 1, 0.5, 0, 0, 0],
            [0, 0, 0, 0, 0.5, 1, 1],
            [1, 1, 1, 1, 1, 0.5, 0],
            [0, 0, 0, 0, 0, 0, 0.5],
        ]
    )
    K7 = np.array([[1, 0, -1], [0, 4, 0], [-1, 0, -1]])
    out = F.conv2d(_img(A7), _img(K7), padding=0, dilation=3)
    assert out.shape == (1, 1, 1, 1)
    assert out.item() == 1.0


NOTES_T_INPUT = np.array([[1, 3, 2], [2, 5, 6], [7, 1, 3]])
NOTES_T_KERNEL = np.array([[0, 1], [3, 2]])


def test_lecture_notes_transposed_conv_stride_1_gives_the_4x4_matrix():
    out = F.conv_transpose2d(_img(NOTES_T_INPUT), _img(NOTES_T_KERNEL), stride=1)
    np.testing.assert_array_equal(out.data[0, 0], [[0, 1, 3, 2], [3, 13, 17, 10], [6, 26, 29, 15], [21, 17, 11, 6]])


def test_lecture_notes_transposed_conv_stride_2_gives_the_6x6_matrix():
    out = F.conv_transpose2d(_img(NOTES_T_INPUT), _img(NOTES_T_KERNEL), stride=2)
    np.testing.assert_array_equal(
        out.data[0, 0],
        [
            [0, 1, 0, 3, 0, 2],
            [3, 2, 9, 6, 6, 4],
            [0, 2, 0, 5, 0, 6],
            [6, 4, 15, 10, 18, 12],
            [0, 7, 0, 1, 0, 3],
            [21, 14, 3, 2, 9, 6],
        ],
    )


def test_lecture_notes_transposed_conv_upsamples_2x2_to_3x3():
    out = F.conv_transpose2d(_img([[3, 4], [1, 7]]), _img([[2, 0], [1, -1]]))
    np.testing.assert_array_equal(out.data[0, 0], [[6, 8, 0], [5, 15, -4], [1, 6, -7]])


NOTES_1D_SIGNAL = np.array([1, 0, -2, 3, 1, 2, -1])
NOTES_1D_KERNEL = np.array([0.5, 1, 0.5])
NOTES_1D_MATRIX = np.array(
    [
        [0.5, 1, 0.5, 0, 0, 0, 0],
        [0, 0, 0.5, 1, 0.5, 0, 0],
        [0, 0, 0, 0, 0.5, 1, 0.5],
    ]
)


def test_lecture_notes_1d_valid_convolution_with_stride_2():
    out = F.conv1d(_t(NOTES_1D_SIGNAL.reshape(1, 1, 7)), _t(NOTES_1D_KERNEL.reshape(1, 1, 3)), stride=2)
    np.testing.assert_array_equal(out.data[0, 0], [-0.5, 2.5, 2])


def test_lecture_notes_1d_strided_convolution_is_the_3x7_matrix_and_its_transpose_maps_3_to_7():
    w = _t(NOTES_1D_KERNEL.reshape(1, 1, 3))
    C = operator_matrix(lambda x: F.conv1d(x, w, stride=2), (1, 1, 7))
    np.testing.assert_array_equal(C, NOTES_1D_MATRIX)
    Ct = operator_matrix(lambda y: F.conv_transpose1d(y, w, stride=2), (1, 1, 3))
    np.testing.assert_array_equal(Ct, NOTES_1D_MATRIX.T)


# --------------------------------------------------------------------------- the matrix C
# Lecture notes, parts 000 and 004: the 3x3 conv of a 4x4 image as a 4x16 matrix, written with symbols w_ij.
NOTES_C = [
    ["w00", "w01", "w02", 0, "w10", "w11", "w12", 0, "w20", "w21", "w22", 0, 0, 0, 0, 0],
    [0, "w00", "w01", "w02", 0, "w10", "w11", "w12", 0, "w20", "w21", "w22", 0, 0, 0, 0],
    [0, 0, 0, 0, "w00", "w01", "w02", 0, "w10", "w11", "w12", 0, "w20", "w21", "w22", 0],
    [0, 0, 0, 0, 0, "w00", "w01", "w02", 0, "w10", "w11", "w12", 0, "w20", "w21", "w22"],
]


def _notes_matrix(w: np.ndarray) -> np.ndarray:
    """Substitute w_ij = w[i, j] into the lecture notes' symbolic matrix."""
    return np.array([[w[int(e[1]), int(e[2])] if isinstance(e, str) else 0.0 for e in row] for row in NOTES_C])


# Distinct primes, so a weight in the wrong slot cannot go unnoticed.
W_PRIMES = np.array([[2.0, 3, 5], [7, 11, 13], [17, 19, 23]])


def test_conv2d_operator_matrix_is_the_lecture_notes_4x16_matrix_C():
    w = _img(W_PRIMES)
    C = operator_matrix(lambda x: F.conv2d(x, w), (1, 1, 4, 4))
    assert C.shape == (4, 16)
    np.testing.assert_array_equal(C, _notes_matrix(W_PRIMES))


def test_conv_transpose2d_operator_matrix_is_C_transposed():
    w = _img(W_PRIMES)
    Ct = operator_matrix(lambda y: F.conv_transpose2d(y, w), (1, 1, 2, 2))
    assert Ct.shape == (16, 4)
    np.testing.assert_array_equal(Ct, _notes_matrix(W_PRIMES).T)


def test_convolve2d_is_correlation_with_the_flipped_kernel():
    w = _img(W_PRIMES)
    C = operator_matrix(lambda x: F.convolve2d(x, w), (1, 1, 4, 4))
    np.testing.assert_array_equal(C, _notes_matrix(W_PRIMES[::-1, ::-1]))


def test_convolve2d_follows_the_lecture_notes_formula_y_i_equals_sum_w_k_x_i_minus_k():
    # Lecture notes, part 001: y_i = Σ_{i'=-l..l} w_{i'} x_{i-i'} (valid part), for a tap-3 kernel (l = 1).
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(9), rng.standard_normal(3)  # w[0], w[1], w[2] = w_{-1}, w_0, w_1
    want = [sum(w[j + 1] * x[i - j] for j in (-1, 0, 1)) for i in range(1, 8)]
    got = F.convolve2d(_t(x.reshape(1, 1, 1, 9)), _t(w.reshape(1, 1, 1, 3)))
    np.testing.assert_allclose(got.data.ravel(), want, rtol=1e-13)


# --------------------------------------------------------------------------- hypothesis strategies
@st.composite
def conv_args(
    draw,
    nd: int = 2,
    transposed: bool = False,
    batches=((2,), (1,), (0,), ()),
    paddings=("ints", "ints", "same", "valid"),
    max_groups: int = 3,
    extra: int = 4,
) -> dict:
    """Arguments of a valid conv (or transposed conv) and an input they fit; batch () is unbatched.

    ``extra`` bounds the input's size: at most ``extra`` pixels more than the smallest the kernel
    fits (conv), at most ``extra`` pixels (transposed conv).
    """
    groups = draw(st.integers(1, max_groups))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    span = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
    kind = "ints" if transposed else draw(st.sampled_from(paddings))
    s = (1,) * nd if kind == "same" else tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, 2)) for _ in range(nd)) if kind == "ints" else (0,) * nd
    args = {"stride": s if len(set(s)) > 1 or draw(st.booleans()) else s[0], "dilation": d, "groups": groups}
    if kind == "ints":
        args["padding"] = p if len(set(p)) > 1 or draw(st.booleans()) else p[0]
    else:
        args["padding"] = kind
    if transposed:
        args["output_padding"] = tuple(draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
        size = tuple(draw(st.integers(1, extra)) for _ in range(nd))
        out = [(n - 1) * si - 2 * pi + sp + o for n, si, pi, sp, o in zip(size, s, p, span, args["output_padding"])]
        assume(min(out) >= 1)
        w_shape = (c_in, c_out // groups) + k
    else:
        lo = [max(1, sp - 2 * pi) if kind == "ints" else (sp if kind == "valid" else 1) for sp, pi in zip(span, p)]
        size = tuple(draw(st.integers(n, n + extra)) for n in lo)
        w_shape = (c_out, c_in // groups) + k
    batch = draw(st.sampled_from(batches))
    return {
        "x_shape": batch + (c_in,) + size,
        "w_shape": w_shape,
        "bias": draw(st.booleans()),
        "args": args,
        "seed": draw(st.integers(0, 2**16)),
    }


def _arrays(case: dict, dtype=np.float64):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["x_shape"]).astype(dtype)
    w = rng.standard_normal(case["w_shape"]).astype(dtype)
    out_ch = case["w_shape"][0] if "output_padding" not in case["args"] else case["w_shape"][1] * case["args"]["groups"]
    b = rng.standard_normal(out_ch).astype(dtype) if case["bias"] else None
    return x, w, b


OPS = {
    (2, False): ("conv2d", F.conv2d),
    (1, False): ("conv1d", F.conv1d),
    (2, True): ("conv_transpose2d", F.conv_transpose2d),
    (1, True): ("conv_transpose1d", F.conv_transpose1d),
}


def _compare_with_torch(torch, case: dict, nd: int, transposed: bool, dtype=np.float64, tol=1e-10):
    name, op = OPS[(nd, transposed)]
    torch_op = getattr(torch.nn.functional, name)
    x, w, b = _arrays(case, dtype)
    tx, tw = tinynet.tensor(x, requires_grad=True), tinynet.tensor(w, requires_grad=True)
    tb = None if b is None else tinynet.tensor(b, requires_grad=True)
    px, pw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    pb = None if b is None else torch.tensor(b, requires_grad=True)
    y = op(tx, tw, tb, **case["args"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns that 'same' with an even kernel copies the input
        py = torch_op(px, pw, pb, **case["args"])
    assert y.shape == tuple(py.shape)
    assert y.dtype == dtype
    np.testing.assert_allclose(y.data, py.detach().numpy(), rtol=tol, atol=tol)
    gy = np.random.default_rng(case["seed"] + 1).standard_normal(y.shape).astype(dtype)
    y.backward(tinynet.tensor(gy))
    py.backward(torch.tensor(gy))
    pairs = [(tx, px), (tw, pw)] + ([] if b is None else [(tb, pb)])
    for mine, theirs in pairs:
        assert mine.grad.dtype == dtype
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=tol, atol=tol)


# --------------------------------------------------------------------------- the adjoint pair
def _pair(v) -> tuple:
    return tuple(v) if isinstance(v, tuple) else (v, v)


@given(conv_args(batches=((2,), (1,)), paddings=("ints",)))
def test_conv2d_backward_is_conv_transpose2d_of_the_output_gradient(case):
    x, w, _ = _arrays(case)
    tx, tw = tinynet.tensor(x, requires_grad=True), tinynet.tensor(w)
    a = case["args"]
    y = F.conv2d(tx, tw, **a)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tinynet.tensor(gy))
    s, p, d = _pair(a["stride"]), _pair(a["padding"]), _pair(a["dilation"])
    # conv2d maps several input sizes onto one output size; output_padding picks x's size back.
    op = tuple(
        n - ((m - 1) * si - 2 * pi + di * (ki - 1) + 1)
        for n, m, ki, si, pi, di in zip(x.shape[2:], y.shape[2:], w.shape[2:], s, p, d)
    )
    back = F.conv_transpose2d(
        tinynet.tensor(gy), tw, stride=s, padding=p, output_padding=op, groups=a["groups"], dilation=d
    )
    np.testing.assert_array_equal(tx.grad.data, back.data)  # the same function: equal bit for bit


@given(conv_args(transposed=True, batches=((2,), (1,))))
def test_conv_transpose2d_backward_is_conv2d_of_the_output_gradient(case):
    x, w, _ = _arrays(case)
    tx, tw = tinynet.tensor(x, requires_grad=True), tinynet.tensor(w)
    a = case["args"]
    y = F.conv_transpose2d(tx, tw, **a)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(tinynet.tensor(gy))
    fwd = F.conv2d(
        tinynet.tensor(gy), tw, stride=a["stride"], padding=a["padding"], dilation=a["dilation"], groups=a["groups"]
    )
    # When output_padding >= stride (allowed while it is below the dilation), conv2d of the larger
    # gradient yields extra trailing rows/columns; the adjoint is exactly the x-sized corner. The
    # larger GEMM may sum in another order, hence a tolerance of a few ulps instead of equality.
    np.testing.assert_allclose(tx.grad.data, fwd.data[..., : x.shape[2], : x.shape[3]], rtol=1e-13, atol=1e-15)


# (name, x shape, w shape, the op as a function of x and w): both maps x -> op(x, w) and
# w -> op(x, w) are linear, so both get the dot-product test.
LINEAR_MAPS = [
    ("conv2d", (2, 4, 7, 6), (3, 4, 3, 2), lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    ("conv2d_groups_same", (2, 4, 5, 6), (4, 2, 2, 3), lambda x, w: F.conv2d(x, w, padding="same", groups=2)),
    ("convolve2d", (1, 4, 6, 5), (2, 4, 3, 3), lambda x, w: F.convolve2d(x, w, stride=2, padding=1)),
    ("conv1d", (2, 4, 9), (3, 4, 3), lambda x, w: F.conv1d(x, w, stride=2, padding=1, dilation=2)),
    (
        "conv_transpose2d",
        (2, 4, 3, 4),
        (4, 3, 3, 2),
        lambda x, w: F.conv_transpose2d(x, w, stride=(2, 3), padding=1, output_padding=(1, 2), dilation=(2, 1)),
    ),
    ("conv_transpose1d", (2, 4, 5), (4, 1, 2), lambda x, w: F.conv_transpose1d(x, w, stride=3, groups=2)),
    # depthwise (groups == C_in) runs the direct kernels: wide rows at stride 1, row by row otherwise
    ("depthwise", (2, 3, 6, 5), (6, 1, 3, 3), lambda x, w: F.conv2d(x, w, padding=(2, 1), dilation=(2, 1), groups=3)),
    ("depthwise_strided", (2, 3, 7, 6), (3, 1, 3, 2), lambda x, w: F.conv2d(x, w, stride=(2, 3), padding=1, groups=3)),
    # 1x1, stride 1, no padding: one GEMM per image, no im2col
    ("pointwise", (2, 5, 4, 3), (3, 5, 1, 1), lambda x, w: F.conv2d(x, w)),
    ("pointwise_transposed", (2, 3, 4, 3), (3, 5, 1, 1), lambda x, w: F.conv_transpose2d(x, w)),
]
MAP_IDS = [m[0] for m in LINEAR_MAPS]


@pytest.mark.parametrize("name, x_shape, w_shape, op", LINEAR_MAPS, ids=MAP_IDS)
def test_adjoint_dot_product_test_holds_for_the_input_map(name, x_shape, w_shape, op):
    w = _t(np.random.default_rng(0).standard_normal(w_shape))
    assert adjoint_check(lambda x: op(x, w), x_shape)


@pytest.mark.parametrize("name, x_shape, w_shape, op", LINEAR_MAPS, ids=MAP_IDS)
def test_adjoint_dot_product_test_holds_for_the_weight_gradient_map(name, x_shape, w_shape, op):
    # w -> op(x, w) is linear in w too; its adjoint is the weight gradient (the correlation routine,
    # called with the roles of image and gradient swapped for the transposed ops).
    x = _t(np.random.default_rng(1).standard_normal(x_shape))
    assert adjoint_check(lambda w: op(x, w), w_shape)


def test_conv2d_weight_gradient_is_the_correlation_of_input_and_output_gradient():
    # dL/dw[o, c, kh, kw] = Σ_{n, i, j} gy[n, o, i, j] · x[n, c, i + kh, j + kw] (stride 1, no padding).
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    tw = tinynet.tensor(w, requires_grad=True)
    y = F.conv2d(tinynet.tensor(x), tw)
    gy = rng.standard_normal(y.shape)
    y.backward(tinynet.tensor(gy))
    want = np.zeros_like(w)
    for kh in range(3):
        for kw in range(2):
            window = x[:, :, kh : kh + y.shape[2], kw : kw + y.shape[3]]
            want[:, :, kh, kw] = np.einsum("noij,ncij->oc", gy, window)
    np.testing.assert_allclose(tw.grad.data, want, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- gradcheck
GRADCHECK_CASES = [
    ("conv2d", F.conv2d, (2, 4, 5, 4), (4, 2, 3, 2), 4, dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)),
    ("conv2d_same", F.conv2d, (3, 4, 4), (2, 3, 2, 3), 2, dict(padding="same")),
    ("convolve2d", F.convolve2d, (1, 2, 4, 4), (2, 2, 3, 3), 2, dict(stride=2, padding=1)),
    ("conv1d", F.conv1d, (2, 2, 7), (3, 2, 3), 3, dict(stride=2, padding=2, dilation=2)),
    (
        "conv_transpose2d",
        F.conv_transpose2d,
        (1, 4, 3, 2),
        (4, 1, 2, 3),
        2,
        dict(stride=2, padding=1, output_padding=1, groups=2),
    ),
    ("conv_transpose1d", F.conv_transpose1d, (2, 3, 4), (3, 2, 3), 2, dict(stride=3, dilation=2, output_padding=1)),
    ("depthwise", F.conv2d, (2, 3, 5, 4), (6, 1, 3, 2), 6, dict(padding=1, dilation=(1, 2), groups=3)),
    ("depthwise_strided", F.conv2d, (2, 2, 6, 5), (2, 1, 3, 3), 2, dict(stride=2, padding=1, groups=2)),
    ("depthwise_transposed", F.conv_transpose2d, (2, 3, 3, 4), (3, 1, 3, 3), 3, dict(padding=1, groups=3)),
    ("pointwise", F.conv2d, (2, 4, 3, 5), (3, 4, 1, 1), 3, dict(padding="same")),
    ("pointwise_transposed", F.conv_transpose2d, (2, 3, 3, 2), (3, 4, 1, 1), 4, dict()),
]


@pytest.mark.parametrize(
    "name, op, x_shape, w_shape, n_bias, kwargs", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES]
)
def test_gradcheck_input_weight_and_bias_in_float64(name, op, x_shape, w_shape, n_bias, kwargs):
    rng = np.random.default_rng(0)
    x, w, b = (_t(rng.standard_normal(s), requires_grad=True) for s in (x_shape, w_shape, (n_bias,)))
    assert gradcheck(lambda x, w, b: op(x, w, b, **kwargs), [x, w, b])


# --------------------------------------------------------------------------- torch as the oracle
@given(conv_args())
def test_conv2d_matches_torch_forward_and_all_gradients(torch, case):
    _compare_with_torch(torch, case, nd=2, transposed=False)


@given(conv_args(nd=1))
def test_conv1d_matches_torch_forward_and_all_gradients(torch, case):
    _compare_with_torch(torch, case, nd=1, transposed=False)


@given(conv_args(transposed=True))
def test_conv_transpose2d_matches_torch_forward_and_all_gradients(torch, case):
    _compare_with_torch(torch, case, nd=2, transposed=True)


@given(conv_args(nd=1, transposed=True))
def test_conv_transpose1d_matches_torch_forward_and_all_gradients(torch, case):
    _compare_with_torch(torch, case, nd=1, transposed=True)


def test_convolve2d_matches_torch_conv2d_with_the_flipped_kernel(torch):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    kw = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
    tx, tw, tb = (tinynet.tensor(a, requires_grad=True) for a in (x, w, b))
    px, pw, pb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.convolve2d(tx, tw, tb, **kw)
    py = torch.nn.functional.conv2d(px, pw.flip(-1, -2), pb, **kw)
    np.testing.assert_allclose(y.data, py.detach().numpy(), rtol=1e-12, atol=1e-12)
    gy = rng.standard_normal(y.shape)
    y.backward(tinynet.tensor(gy))
    py.backward(torch.tensor(gy))
    for mine, theirs in [(tx, px), (tw, pw), (tb, pb)]:
        np.testing.assert_allclose(mine.grad.data, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True], ids=["conv2d", "conv_transpose2d"])
def test_float32_stays_float32_and_matches_torch(torch, transposed):
    args = dict(stride=2, padding=1, dilation=1, groups=2)
    if transposed:
        args["output_padding"] = 1
    case = {
        "x_shape": (3, 4, 9, 8),
        "w_shape": (4, 3, 3, 3) if transposed else (6, 2, 3, 3),
        "bias": True,
        "args": args,
        "seed": 0,
    }
    _compare_with_torch(torch, case, nd=2, transposed=transposed, dtype=np.float32, tol=1e-4)


# --------------------------------------------------------------------------- shapes
def test_unbatched_input_gives_unbatched_output_and_gradient():
    rng = np.random.default_rng(0)
    x, w = _t(rng.standard_normal((3, 6, 5)), requires_grad=True), _t(rng.standard_normal((4, 3, 3, 3)))
    y = F.conv2d(x, w, padding=1)
    assert y.shape == (4, 6, 5)
    batched = F.conv2d(_t(x.data[None]), w, padding=1)
    np.testing.assert_array_equal(y.data, batched.data[0])
    y.sum().backward()
    assert x.grad.shape == (3, 6, 5)


@pytest.mark.parametrize("transposed", [False, True])
def test_empty_batch_gives_empty_output_and_zero_weight_gradient(transposed):
    x = _t(np.zeros((0, 3, 5, 5)), requires_grad=True)
    w = _t(np.ones((3, 2, 3, 3)), requires_grad=True)
    b = _t(np.ones(2), requires_grad=True)
    y = (F.conv_transpose2d if transposed else F.conv2d)(x, w if transposed else w.transpose(0, 1), b, stride=2)
    assert y.shape == ((0, 2, 11, 11) if transposed else (0, 2, 2, 2))
    y.sum().backward()
    assert x.grad.shape == (0, 3, 5, 5)
    np.testing.assert_array_equal(w.grad.data, 0)
    np.testing.assert_array_equal(b.grad.data, 0)


def test_output_size_follows_the_floor_formula_with_dilation():
    # H_out = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1 for every small combination.
    for H in range(3, 9):
        for k in (1, 2, 3):
            for s in (1, 2, 3):
                for p in (0, 1):
                    for d in (1, 2):
                        if H + 2 * p < d * (k - 1) + 1:
                            continue
                        y = F.conv2d(
                            _t(np.ones((1, 1, H, 4))),
                            _t(np.ones((1, 1, k, 1))),
                            stride=(s, 1),
                            padding=(p, 0),
                            dilation=(d, 1),
                        )
                        assert y.shape[2] == (H + 2 * p - d * (k - 1) - 1) // s + 1


def test_limits_that_are_allowed_a_dilated_kernel_that_just_fits_and_output_padding_below_the_dilation():
    x = _t(np.ones((2, 3, 5, 5)))
    assert F.conv2d(x, _t(np.ones((4, 3, 3, 3))), padding=1, dilation=3).shape == (2, 4, 1, 1)
    y = F.conv_transpose2d(_t(np.ones((2, 4, 5, 5))), _t(np.ones((4, 3, 3, 3))), dilation=3, output_padding=2)
    assert y.shape == (2, 3, 13, 13)


# --------------------------------------------------------------------------- without the JIT
_NO_JIT_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tinynet
    import tinynet.nn.functional as F

    def results():
        rng = np.random.default_rng(0)
        out = []
        x = tinynet.tensor(rng.standard_normal((2, 4, 5, 6)), requires_grad=True)
        w = tinynet.tensor(rng.standard_normal((4, 2, 3, 2)), requires_grad=True)
        y = F.conv2d(x, w, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)
        y.backward(tinynet.tensor(np.cos(np.arange(y.numel()).reshape(y.shape))))
        out += [y.detach().numpy(), x.grad.numpy(), w.grad.numpy()]
        t = tinynet.tensor(rng.standard_normal((1, 4, 3, 3)), requires_grad=True)
        z = F.conv_transpose2d(t, w, stride=2, padding=1, output_padding=1, groups=2)
        z.sum().backward()
        out += [z.detach().numpy(), t.grad.numpy()]
        return out

    if __name__ == "__main__":
        from numba import config
        assert config.DISABLE_JIT
        np.savez(sys.argv[1], *results())
    """
)


def test_kernels_run_without_the_jit_and_agree_with_the_compiled_ones(tmp_path):
    script = tmp_path / "nojit.py"
    script.write_text(_NO_JIT_SCRIPT)
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "out.npz")], env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    namespace: dict = {}
    exec(compile(_NO_JIT_SCRIPT.replace('if __name__ == "__main__":', "if False:"), "nojit", "exec"), namespace)
    compiled = namespace["results"]()
    plain = np.load(tmp_path / "out.npz")
    assert len(plain.files) == len(compiled) == 5
    for i, want in enumerate(compiled):
        np.testing.assert_allclose(plain[f"arr_{i}"], want, rtol=1e-12, atol=1e-12, err_msg=f"result {i}")
