"""Double backward of the Tensor's own ops (tinynet/tensor_functions.py): the gradient of a gradient.

Every op's backward is written in the same ops, so ``create_graph=True`` records it. For each op:
``gradgradcheck`` (finite differences of the first gradient, in the inputs and in the upstream
gradient) in float64, and the second derivatives against torch 2.13's (``tests/second_order.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from second_order import compare_second_order

import tinynet
import tinynet.nn.functional as F
from tinynet.testing import gradgradcheck


def _positive(shape, seed=0):
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


def _normal(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _distinct(shape, seed=0):
    """Values at least 0.1 apart (no ties for max/min/relu kinks within a finite-difference step)."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n) * 0.1 - n * 0.05 + 0.025).reshape(shape)


# name, tinynet function, torch function (None: same code on torch tensors), input arrays
UNARY = [
    ("neg", lambda x: -x, None, _normal),
    ("exp", lambda x: x.exp(), None, _normal),
    ("log", lambda x: x.log(), None, _positive),
    ("sqrt", lambda x: x.sqrt(), None, _positive),
    ("abs", lambda x: x.abs(), None, _distinct),
    ("tanh", lambda x: x.tanh(), None, _normal),
    ("sigmoid", lambda x: x.sigmoid(), None, _normal),
    ("relu", lambda x: x.relu(), None, _distinct),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2), "leaky", _distinct),
    ("clamp", lambda x: x.clip(-0.3, 0.4), lambda x: x.clamp(-0.3, 0.4), _distinct),
    ("pow scalar", lambda x: x**3, None, _normal),
    ("pow fractional", lambda x: x**1.5, None, _positive),
    ("rpow", lambda x: 2.0**x, None, _normal),
    ("sum dim", lambda x: (x * x).sum(dim=1), None, _normal),
    ("sum keepdim", lambda x: (x * x).sum(dim=(0, 2), keepdim=True), None, _normal),
    ("mean", lambda x: (x * x).mean(), None, _normal),
    ("mean dim", lambda x: (x * x).mean(dim=-1), None, _normal),
    ("var", lambda x: x.var(dim=1), None, _normal),
    ("var all keepdim", lambda x: x.var(keepdim=True, correction=0), "var0", _normal),
    ("std", lambda x: x.std(dim=2), None, _normal),
    ("max all", lambda x: x.max() * x, None, _distinct),
    ("max dim", lambda x: x.max(dim=1)[0] ** 2, lambda x: x.max(dim=1)[0] ** 2, _distinct),
    ("min dim keepdim", lambda x: x.min(dim=2, keepdim=True)[0] * x, None, _distinct),
    ("softmax", lambda x: x.softmax(dim=1), None, _normal),
    ("log_softmax", lambda x: x.log_softmax(dim=-1), None, _normal),
    ("reshape", lambda x: x.reshape(6, 4) ** 2, None, _normal),
    ("permute", lambda x: x.permute(2, 0, 1) ** 2, None, _normal),
    ("expand", lambda x: x[:, :1].expand(2, 5, 4) ** 2, None, _normal),
    ("basic index", lambda x: x[1, ::2] ** 2, None, _normal),
    ("integer index, repeats", lambda x: x[[0, 1, 0]] ** 2, "intindex", _normal),
    ("mask index", lambda x: x[x > 0] ** 2, None, _normal),
    ("cat", lambda x: tinynet.cat([x, x * x], dim=1) ** 2, "cat", _normal),
    ("stack", lambda x: tinynet.stack([x, x.exp()], dim=2) ** 2, "stack", _normal),
    ("where", lambda x: tinynet.where(x > 0, x * x, x.exp()), "where", _normal),
]


def _torch_version(name, fn, torch):
    special = {
        "leaky": lambda x: torch.nn.functional.leaky_relu(x, 0.2),
        "var0": lambda x: x.var(keepdim=True, correction=0),
        "intindex": lambda x: x[[0, 1, 0]] ** 2,
        "cat": lambda x: torch.cat([x, x * x], dim=1) ** 2,
        "stack": lambda x: torch.stack([x, x.exp()], dim=2) ** 2,
        "where": lambda x: torch.where(x > 0, x * x, x.exp()),
    }
    return special.get(fn, fn)


SHAPE = (2, 3, 4)


@pytest.mark.parametrize("name, fn, torch_fn, make", UNARY, ids=[c[0] for c in UNARY])
def test_unary_gradgradcheck(name, fn, torch_fn, make):
    x = tinynet.tensor(make(SHAPE), requires_grad=True)
    assert gradgradcheck(fn, [x])


@pytest.mark.parametrize("name, fn, torch_fn, make", UNARY, ids=[c[0] for c in UNARY])
def test_unary_second_derivatives_match_torch(torch, name, fn, torch_fn, make):
    torch_fn = fn if torch_fn is None else _torch_version(name, torch_fn, torch)
    compare_second_order(torch, fn, torch_fn, [make(SHAPE)], [True])


BINARY = [
    ("add", lambda a, b: (a + b) ** 2),
    ("sub", lambda a, b: (a - b) ** 2),
    ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b),
    ("pow", lambda a, b: a**b),
]


def _broadcastable_shapes():
    return st.sampled_from([((2, 3), (2, 3)), ((2, 3), (3,)), ((1, 3), (2, 1)), ((2, 1, 3), (4, 1)), ((), (2,))])


@pytest.mark.parametrize("name, fn", BINARY, ids=[c[0] for c in BINARY])
@given(shapes=_broadcastable_shapes())
def test_binary_ops_with_broadcasting(torch, name, fn, shapes):
    sa, sb = shapes
    a, b = _positive(sa, 1), _positive(sb, 2)  # positive: a ** b and a / b are smooth there
    x, y = tinynet.tensor(a, requires_grad=True), tinynet.tensor(b, requires_grad=True)
    assert gradgradcheck(fn, [x, y])
    compare_second_order(torch, fn, fn, [a, b], [True, True])


@pytest.mark.parametrize(
    "sa, sb",
    [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (3, 4, 2))],
)
def test_matmul(torch, sa, sb):
    a, b = _normal(sa, 1), _normal(sb, 2)
    fn = lambda p, q: (p @ q) ** 2  # noqa: E731  (squared: the second derivative of a bilinear map alone is constant)
    assert gradgradcheck(fn, [tinynet.tensor(a, requires_grad=True), tinynet.tensor(b, requires_grad=True)])
    compare_second_order(torch, fn, fn, [a, b], [True, True])


def test_clamp_with_tensor_bounds(torch):
    x, lo, hi = _distinct((3, 4), 0), np.full((3, 4), -0.3) + _normal((3, 4), 1) * 0.01, np.full((4,), 0.35)
    fn = lambda x, lo, hi: x.clip(lo, hi) ** 2  # noqa: E731
    torch_fn = lambda x, lo, hi: x.clamp(lo, hi) ** 2  # noqa: E731
    assert gradgradcheck(fn, [tinynet.tensor(a, requires_grad=True) for a in (x, lo, hi)])
    compare_second_order(torch, fn, torch_fn, [x, lo, hi], [True, True, True])


def test_index_put_and_writes_through_views(torch):
    def fn(x, v):
        y = x * 1
        y[1:, ::2] = v * v  # IndexPut on a non-leaf: CopySlices
        z = y[0]  # a view whose history is rewritten (ViewAt) by the next write
        y[0, 1] = v[0, 0] ** 3
        return z * y.sum()

    x, v = _normal((3, 4), 1), _normal((2, 2), 2)
    assert gradgradcheck(fn, [tinynet.tensor(x, requires_grad=True), tinynet.tensor(v, requires_grad=True)])
    compare_second_order(torch, fn, fn, [x, v], [True, True])


def test_setitem_with_an_integer_index(torch):
    def fn(x, v):
        y = x.exp() * 1  # not exp's own output, which exp saved for its backward
        y[[0, 2]] = v * x[1]
        return y**2

    x, v = _normal((3, 4), 1), _normal((4,), 2)
    assert gradgradcheck(fn, [tinynet.tensor(x, requires_grad=True), tinynet.tensor(v, requires_grad=True)])
    compare_second_order(torch, fn, fn, [x, v], [True, True])


def test_cast_passes_second_derivatives_back_across_dtypes(torch):
    # finite differences cannot see through float32 rounding, so only torch's numbers are the oracle here
    fn = lambda x: (x.float() * x.float()).double() * x  # noqa: E731
    compare_second_order(torch, fn, fn, [_normal((2, 3))], [True], rtol=1e-6)


def test_float32_second_derivatives_stay_float32():
    x = tinynet.tensor(_normal((2, 3)).astype(np.float32), requires_grad=True)
    (g,) = tinynet.autograd.grad((x.softmax(dim=1) * x.exp()).sum(), x, create_graph=True)
    (h,) = tinynet.autograd.grad((g * g).sum(), x)
    assert g.dtype == np.float32 and h.dtype == np.float32


def test_first_order_backward_records_nothing():
    x = tinynet.tensor(_normal((2, 3)), requires_grad=True)
    (x.exp() * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


def test_a_backward_returning_an_array_refuses_create_graph():
    class Square(tinynet.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_arrays
            return np.asarray(grad) * 2 * x  # numpy: not recorded

    x = tinynet.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tinynet.autograd.grad(Square.apply(x).sum(), x)
    assert g.tolist() == [2.0, 4.0]
    with pytest.raises(RuntimeError, match="Square.backward returned a ndarray, not a Tensor"):
        tinynet.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
