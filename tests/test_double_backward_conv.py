"""Double backward of the convolutions, linear and dropout: their backwards are made of ops.

conv2d's backward is conv_transpose2d (input) and ConvWeight (weight), conv_transpose2d's is
conv2d and ConvWeight, and ConvWeight's is conv2d and conv_transpose2d again; so the second
derivative of any of them runs through the same three Functions. Each op gets a float64
gradgradcheck on drawn geometry (finite differences of the recorded first gradient, in the
inputs and in the output gradient) and a comparison of first and second derivatives with torch.
ConvWeight, the one new op, gets its own gradcheck, dot-product tests and gradgradcheck.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from second_order import compare_second_order
from test_conv import _arrays, conv_args

import tinynet
import tinynet.nn.functional as F
from tinynet.autograd import grad
from tinynet.functional.conv import Conv, ConvAndWeight, ConvWeight, _geometry
from tinynet.functional.linear import LinearWeight
from tinynet.testing import adjoint_check, gradcheck, gradgradcheck

# name -> (nd, transposed, tinynet op, torch op as a function of (torch, x, w, b, **args))
OPS = {
    "conv1d": (1, False, F.conv1d, lambda torch, *a, **k: torch.nn.functional.conv1d(*a, **k)),
    "conv2d": (2, False, F.conv2d, lambda torch, *a, **k: torch.nn.functional.conv2d(*a, **k)),
    # convolve2d(x, w) is conv2d with the kernel flipped in both spatial axes
    "convolve2d": (
        2,
        False,
        F.convolve2d,
        lambda torch, x, w, b, **k: torch.nn.functional.conv2d(x, w.flip(-1, -2), b, **k),
    ),
    "conv_transpose1d": (
        1,
        True,
        F.conv_transpose1d,
        lambda torch, *a, **k: torch.nn.functional.conv_transpose1d(*a, **k),
    ),
    "conv_transpose2d": (
        2,
        True,
        F.conv_transpose2d,
        lambda torch, *a, **k: torch.nn.functional.conv_transpose2d(*a, **k),
    ),
}

# Finite differences of a first gradient cost two forward+backward passes per element of
# x, w, b and the output gradient, so gradgradcheck draws tiny geometry (every option still drawn).
TINY = dict(batches=((2,), (1,), ()), max_groups=2, extra=1)


def _tensors(case: dict) -> list:
    return [None if a is None else tinynet.tensor(a, requires_grad=True) for a in _arrays(case)]


def _draw_case(data, name: str, **kwargs) -> dict:
    nd, transposed = OPS[name][:2]
    return data.draw(conv_args(nd=nd, transposed=transposed, **kwargs), label="case")


# --------------------------------------------------------------------------- gradgradcheck per op
@pytest.mark.parametrize("name", list(OPS))
@settings(max_examples=6)
@given(data=st.data())
def test_gradgradcheck_of_every_conv_op_on_drawn_geometry(name, data):
    case = _draw_case(data, name, **TINY)
    op, args = OPS[name][2], case["args"]
    x, w, b = _tensors(case)
    inputs = [x, w] if b is None else [x, w, b]
    assert gradgradcheck(lambda *t: op(*t, **args), inputs)


@settings(max_examples=10)
@given(
    lead=st.sampled_from([(), (3,), (2, 2)]),
    features=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_gradgradcheck_of_linear(lead, features, bias, seed):
    rng = np.random.default_rng(seed)
    n_in, n_out = features
    x = tinynet.tensor(rng.standard_normal(lead + (n_in,)), requires_grad=True)
    w = tinynet.tensor(rng.standard_normal((n_out, n_in)), requires_grad=True)
    inputs = [x, w] + ([tinynet.tensor(rng.standard_normal(n_out), requires_grad=True)] if bias else [])
    assert gradgradcheck(F.linear, inputs)


@settings(max_examples=10)
@given(m=st.integers(1, 4), n_out=st.integers(1, 3), n_in=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_linear_weight_is_g_transposed_x_and_passes_gradcheck_adjoint_and_gradgradcheck(m, n_out, n_in, seed):
    # LinearWeight(G, X) = Gᵀ X, linear's weight gradient as one op; bilinear, with adjoints X Vᵀ and G V.
    rng = np.random.default_rng(seed)
    g = tinynet.tensor(rng.standard_normal((m, n_out)), requires_grad=True)
    x = tinynet.tensor(rng.standard_normal((m, n_in)), requires_grad=True)
    np.testing.assert_allclose(LinearWeight.apply(g, x).data, g.data.T @ x.data, rtol=1e-12, atol=1e-12)
    assert gradcheck(LinearWeight.apply, [g, x])
    assert adjoint_check(lambda a: LinearWeight.apply(a, x.detach()), g.shape)
    assert adjoint_check(lambda a: LinearWeight.apply(g.detach(), a), x.shape)
    assert gradgradcheck(LinearWeight.apply, [g, x])


@pytest.mark.parametrize("op, shape", [(F.dropout, (3, 4)), (F.dropout2d, (2, 3, 2, 2))])
@settings(max_examples=5)
@given(p=st.sampled_from([0.0, 0.3, 0.7, 1.0]), seed=st.integers(0, 2**16))
def test_gradgradcheck_of_dropout_with_a_fixed_mask(op, shape, p, seed):
    x = tinynet.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)
    # A fresh generator with the same seed per call: the mask is the same in every evaluation.
    assert gradgradcheck(lambda t: op(t, p, generator=tinynet.Generator().manual_seed(seed)), [x])


# --------------------------------------------------------------------------- ConvWeight and ConvAndWeight
def _op_geometry(name: str, case: dict, x: tinynet.Tensor, w: tinynet.Tensor):
    """The ConvGeometry that the drawn op builds (and passes to its Functions)."""
    nd, transposed = OPS[name][:2]
    args = dict(case["args"])
    output_padding = args.pop("output_padding", 0)
    flip = name == "convolve2d"
    return _geometry(name, x, w, None, **args, nd=nd, transposed=transposed, output_padding=output_padding, flip=flip)


def _weight_case(data, **kwargs):
    """A drawn op's geometry, ConvWeight's arguments (big, small) and the op's weight, as float64 Tensors."""
    name = data.draw(st.sampled_from(list(OPS)), label="op")
    case = _draw_case(data, name, **kwargs)
    transposed, op = OPS[name][1:3]
    x, w, _ = _tensors(case)
    with tinynet.no_grad():
        y = op(x, w, **case["args"])
    gy = tinynet.tensor(np.random.default_rng(case["seed"] + 2).standard_normal(y.shape), requires_grad=True)
    big, small = (gy, x) if transposed else (x, gy)
    return _op_geometry(name, case, x, w), big, small, w


@settings(max_examples=8)
@given(data=st.data())
def test_conv_weight_is_the_weight_gradient_and_its_defining_identity_holds(data):
    # <ConvWeight(big, small), V> = <small, conv(big, V)> for every V: that is what makes it conv's
    # weight gradient (and, with the roles read the other way, conv_transpose's).
    geom, big, small, w = _weight_case(data, batches=((2,), (1,), ()), max_groups=2, extra=2)
    v = tinynet.tensor(np.random.default_rng(7).standard_normal(w.shape))
    gw = ConvWeight.apply(big, small, geom)
    assert gw.shape == w.shape
    conv = Conv.apply(big, v, None, geom)
    np.testing.assert_allclose(np.sum(gw.data * v.data), np.sum(small.data * conv.data), rtol=1e-10, atol=1e-10)


@settings(max_examples=8)
@given(data=st.data())
def test_conv_weight_passes_gradcheck_and_the_dot_product_test_in_each_argument(data):
    geom, big, small, _ = _weight_case(data, batches=((2,), (1,), ()), max_groups=2, extra=2)
    assert gradcheck(lambda b, s: ConvWeight.apply(b, s, geom), [big, small])
    # bilinear: linear in each argument, whose adjoints are conv_transpose2d and conv2d
    assert adjoint_check(lambda b: ConvWeight.apply(b, small.detach(), geom), big.shape)
    assert adjoint_check(lambda s: ConvWeight.apply(big.detach(), s, geom), small.shape)


@settings(max_examples=5)
@given(data=st.data())
def test_gradgradcheck_of_conv_weight(data):
    geom, big, small, _ = _weight_case(data, **TINY)
    assert gradgradcheck(lambda b, s: ConvWeight.apply(b, s, geom), [big, small])


@settings(max_examples=5)
@given(data=st.data())
def test_conv_and_weight_is_the_pair_it_fuses_and_passes_gradcheck_and_gradgradcheck(data):
    # ConvAndWeight(big, small, w) = (conv2d(big, w), ConvWeight(big, small)): conv_transpose2d's backward
    geom, big, small, w = _weight_case(data, **TINY)
    conv, weight = ConvAndWeight.apply(big, small, w, geom)
    np.testing.assert_array_equal(conv.data, Conv.apply(big, w, None, geom).data)
    np.testing.assert_allclose(weight.data, ConvWeight.apply(big, small, geom).data, rtol=1e-12, atol=1e-12)
    inputs = [big, small, w]
    assert gradcheck(lambda *t: ConvAndWeight.apply(*t, geom), inputs)
    assert gradcheck(lambda *t: ConvAndWeight.apply(*t, geom)[1], inputs)  # one output unused
    assert gradgradcheck(lambda *t: ConvAndWeight.apply(*t, geom), inputs)


def test_double_backward_of_conv2d_runs_through_conv_transpose2d_conv_weight_and_conv2d():
    x = tinynet.randn(1, 2, 5, 5, dtype=tinynet.float64, requires_grad=True)
    w = tinynet.randn(3, 2, 3, 3, dtype=tinynet.float64, requires_grad=True)
    y = F.conv2d(x, w, padding=1)
    v = tinynet.randn(*y.shape, dtype=tinynet.float64, requires_grad=True)
    gx, gw = grad(y, [x, w], grad_outputs=v, create_graph=True)
    assert (gx.grad_fn.name(), gw.grad_fn.name()) == ("ConvTransposeBackward0", "ConvWeightBackward0")
    # differentiating the weight gradient again gives conv2d (in v) and conv_transpose2d (in x)
    u = tinynet.randn(*w.shape, dtype=tinynet.float64)
    gv, gx2 = grad(gw, [v, x], grad_outputs=u, create_graph=True)
    assert (gv.grad_fn.name(), gx2.grad_fn.name()) == ("ConvBackward0", "ConvTransposeBackward0")
    # the input gradient conv_transpose2d(v, w) depends on v and w, so its backward is the fused
    # pair (conv2d(., w), ConvWeight(., v)) of conv_transpose2d's row: one ConvAndWeight node
    (gw2,) = grad(gx, [w], grad_outputs=tinynet.randn(*x.shape, dtype=tinynet.float64), create_graph=True)
    assert gw2.grad_fn.name() == "ConvAndWeightBackward0"


# --------------------------------------------------------------------------- second derivatives vs torch
@pytest.mark.parametrize("name", list(OPS))
@settings(max_examples=12)
@given(data=st.data())
def test_second_derivatives_of_every_conv_op_match_torch(torch, name, data):
    case = _draw_case(data, name, batches=((2,), (1,), ()))
    op, torch_op, args = OPS[name][2], OPS[name][3], case["args"]
    x, w, b = _arrays(case)
    arrays, requires = [x, w, b], [True, True, b is not None]
    if b is None:
        arrays[2] = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch warns that 'same' with an even kernel copies the input
        compare_second_order(
            torch,
            lambda *t: op(*t, **args),
            lambda *t: torch_op(torch, *t, **args),
            arrays,
            requires,
            seed=case["seed"],
        )


@settings(max_examples=15)
@given(
    lead=st.sampled_from([(), (3,), (2, 3)]),
    features=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_second_derivatives_of_linear_match_torch(torch, lead, features, bias, seed):
    rng = np.random.default_rng(seed)
    n_in, n_out = features
    arrays = [rng.standard_normal(lead + (n_in,)), rng.standard_normal((n_out, n_in))]
    arrays.append(rng.standard_normal(n_out) if bias else None)
    compare_second_order(torch, F.linear, torch.nn.functional.linear, arrays, [True, True, bias], seed=seed)


@pytest.mark.parametrize("op, shape", [(F.dropout, (3, 4)), (F.dropout2d, (2, 3, 2, 2))])
@settings(max_examples=8)
@given(p=st.sampled_from([0.0, 0.2, 0.5, 1.0]), seed=st.integers(0, 2**16))
def test_second_derivatives_of_dropout_match_torch_with_the_same_mask(torch, op, shape, p, seed):
    def tn_fn(t):
        return op(t, p, generator=tinynet.Generator().manual_seed(seed))

    scaled_mask = tn_fn(tinynet.ones(*shape, dtype=tinynet.float64)).numpy()  # mask / (1 - p), 0 for p = 1
    x = np.random.default_rng(seed).standard_normal(shape)
    compare_second_order(torch, tn_fn, lambda t: t * torch.tensor(scaled_mask), [x], [True], seed=seed)


# --------------------------------------------------------------------------- float32
@pytest.mark.parametrize(
    "name, fn, shapes",
    [
        ("conv2d", lambda x, w: F.conv2d(x, w, stride=2, padding=1), [(2, 3, 6, 5), (4, 3, 3, 3)]),
        ("convolve2d", lambda x, w: F.convolve2d(x, w, padding="same"), [(3, 5, 5), (2, 3, 2, 3)]),
        ("conv1d", lambda x, w: F.conv1d(x, w, dilation=2, groups=3), [(2, 3, 7), (6, 1, 2)]),
        (
            "conv_transpose2d",
            lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1),
            [(2, 4, 3, 3), (4, 3, 3, 3)],
        ),
        ("conv_transpose1d", lambda x, w: F.conv_transpose1d(x, w, stride=3), [(4, 5), (4, 2, 3)]),
        ("linear", F.linear, [(2, 3, 4), (5, 4)]),
        (
            "dropout",
            lambda x, w: F.dropout(F.linear(x, w), 0.5, generator=tinynet.Generator().manual_seed(0)),
            [(3, 4), (5, 4)],
        ),
    ],
)
def test_float32_second_derivatives_stay_float32(name, fn, shapes):
    x, w = (tinynet.randn(*s, requires_grad=True) for s in shapes)
    assert x.dtype == np.float32
    y = fn(x, w)
    v = tinynet.randn(*y.shape)
    gx, gw = grad(y, [x, w], grad_outputs=v, create_graph=True)
    assert gx.dtype == gw.dtype == np.float32
    hx, hw = grad((gx * gx).sum() + (gw * gw).sum(), [x, w])
    assert hx.dtype == hw.dtype == np.float32
    assert np.abs(hx.data).max() > 0  # a second derivative that ran and is not all zero


# --------------------------------------------------------------------------- composed
def _critic(nn_f, x, params):
    """A small critic of this file's ops (and tanh): conv2d, conv_transpose2d with groups, dilated conv2d, linear."""
    w1, b1, w2, b2, w3, b3, w4, b4 = params
    h = nn_f["conv2d"](x, w1, b1, stride=2, padding=1).tanh()
    h = nn_f["conv_transpose2d"](h, w2, b2, stride=2, output_padding=1, groups=2).tanh()
    h = nn_f["conv2d"](h, w3, b3, padding="same", dilation=2).tanh()
    return nn_f["linear"](h.reshape(h.shape[0], -1), w4, b4)


def test_gradient_penalty_of_a_conv_critic_matches_torch(torch):
    # WGAN-GP: the parameters' gradient of mean((|∇_x D(x)| - 1)²) differentiates every layer's backward.
    rng = np.random.default_rng(3)
    shapes = [(4, 2, 3, 3), (4,), (4, 1, 2, 2), (2,), (3, 2, 3, 3), (3,), (1, 3 * 7 * 7), (1,)]
    arrays = [rng.standard_normal(s) * 0.5 for s in shapes]
    x = rng.standard_normal((2, 2, 6, 6))

    def penalty_grads(tensor, grad_fn, nn_f):
        params = [tensor(a, requires_grad=True) for a in arrays]
        xt = tensor(x, requires_grad=True)
        (gx,) = grad_fn(_critic(nn_f, xt, params).sum(), [xt], create_graph=True)
        norm = ((gx * gx).sum(dim=(1, 2, 3)) + 1e-12) ** 0.5
        grads = grad_fn(((norm - 1) ** 2).mean(), params, allow_unused=True)  # the last bias is unused
        return [np.zeros(a.shape) if g is None else g.detach().numpy() for g, a in zip(grads, arrays)]

    tn_ops = {"conv2d": F.conv2d, "conv_transpose2d": F.conv_transpose2d, "linear": F.linear}
    ours = penalty_grads(tinynet.tensor, grad, tn_ops)
    assert not ours[-1].any() and all(g.any() for g in ours[:-1])
    tf = torch.nn.functional
    th_ops = {"conv2d": tf.conv2d, "conv_transpose2d": tf.conv_transpose2d, "linear": tf.linear}
    theirs = penalty_grads(
        torch.tensor,
        lambda out, ins, **k: torch.autograd.grad(out, ins, **k),
        th_ops,
    )
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12 * max(1.0, np.abs(b).max()), err_msg=f"parameter {i}")
