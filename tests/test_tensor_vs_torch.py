"""Every differentiable Tensor op, checked two ways: float64 gradcheck, and forward + gradients against PyTorch.

One table, ``OPS``, lists each op once. Its entry is a hypothesis strategy that
draws the inputs (shapes, broadcasting partners, dims, keepdim, bounds, ...) and
returns a :class:`Case` whose ``fn(lib, *tensors)`` computes the op with either
library: ``lib`` is ``tinynet`` or ``torch``, so the same line is also a check
that the API is PyTorch's. To point students at one op's backward, run e.g.
``pytest tests/test_tensor_vs_torch.py -k "exp"``.

Input values are drawn away from kinks (abs, relu, clip, max) by more than the
finite-difference step, so a central difference is a true derivative there.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinynet
from tinynet.testing import gradcheck


class Case:
    """Inputs (float64 arrays; each becomes a Tensor that requires grad) and the op as ``fn(lib, *tensors)``."""

    def __init__(self, arrays, fn, desc):
        self.arrays, self.fn, self.desc = list(arrays), fn, desc

    def __repr__(self):
        return f"Case({self.desc}; input shapes {[a.shape for a in self.arrays]})"


# ------------------------------------------------------------ input values
def _values(rng: np.random.Generator, shape: tuple, kind: str) -> np.ndarray:
    n = int(np.prod(shape))
    if kind == "normal":
        return rng.standard_normal(shape)
    if kind == "positive":  # log, sqrt, a pow base
        return rng.uniform(0.5, 2.0, shape)
    if kind == "nonzero":  # divisors
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if kind == "grid":  # odd multiples of 0.05: at least 0.05 from 0 and from any bound on the 0.1 grid
        return (rng.integers(-20, 20, shape) + 0.5) / 10
    if kind == "bound":  # multiples of 0.1, for clip bounds
        return rng.integers(-20, 20, shape) / 10.0
    if kind == "distinct":  # no ties, 0.1 apart: max/min pick one element by a clear margin
        return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape)
    raise ValueError(kind)


def _draw_array(draw, shape, kind="normal") -> np.ndarray:
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    return _values(np.random.default_rng(seed), tuple(shape), kind)


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
SHAPES_1D_UP = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


def _dim(draw, ndim: int, label: str = "dim") -> int:
    """A valid dim, negative forms included (a 0-d tensor accepts 0 and -1, as in PyTorch)."""
    n = max(ndim, 1)
    return draw(st.integers(-n, n - 1), label=label)


def _dims(draw, ndim: int, allow_empty: bool = True):
    """None, one dim, a tuple of distinct dims, or () (which reduces everything, like None)."""
    kinds = ["none", "int", "tuple"] + (["empty"] if allow_empty else []) if ndim >= 2 else ["none", "int"]
    choice = draw(st.sampled_from(kinds), label="dims kind")
    if choice == "none":
        return None
    if choice == "empty":  # dim=() reduces everything, as dim=None
        return ()
    if choice == "int":
        return _dim(draw, ndim)
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True), label="dims")
    return tuple(d - ndim if draw(st.booleans(), label="negative") else d for d in picked)


# ------------------------------------------------------------ case builders
def unary(fn, desc: str, kind: str = "normal", shapes=SHAPES):
    @st.composite
    def strategy(draw):
        return Case([_draw_array(draw, draw(shapes), kind)], fn, desc)

    return strategy()


def binary(op, desc: str, kind_a: str = "normal", kind_b: str = "normal"):
    """``op(a, b)`` on two inputs whose shapes broadcast against each other."""

    @st.composite
    def strategy(draw):
        shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3))
        a, b = (_draw_array(draw, s, k) for s, k in zip(shapes.input_shapes, (kind_a, kind_b)))
        return Case([a, b], lambda lib, x, y: op(x, y), desc)

    return strategy()


def with_scalar(fn, desc: str, kind: str = "normal", scalars=(-1.5, 0.5, 2.0, 3)):
    """One input and a Python number (int or float) drawn from ``scalars``."""

    @st.composite
    def strategy(draw):
        c = draw(st.sampled_from(scalars), label="scalar")
        return Case([_draw_array(draw, draw(SHAPES), kind)], lambda lib, x: fn(x, c), desc.replace("c", repr(c)))

    return strategy()


def method(name: str, args_strategy, kind: str = "normal", shapes=SHAPES):
    """``x.<name>(**kwargs)`` with kwargs drawn from the input's shape by ``args_strategy(draw, shape)``."""

    @st.composite
    def strategy(draw):
        shape = draw(shapes)
        kwargs = args_strategy(draw, shape)
        x = _draw_array(draw, shape, kind)
        text = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return Case([x], lambda lib, t: getattr(t, name)(**kwargs), f"x.{name}({text})")

    return strategy()


def reduce_args(draw, shape, allow_empty=True):
    return {"dim": _dims(draw, len(shape), allow_empty), "keepdim": draw(st.booleans(), label="keepdim")}


def var_args(draw, shape):
    # No dim=() here: torch 2.13's var backward treats () as "reduce nothing" while its forward reduces
    # everything, so its gradient is wrong (tinynet's agrees with finite differences).
    args = reduce_args(draw, shape, allow_empty=False)
    args["correction"] = draw(st.sampled_from([0, 1]), label="correction")
    return args


def dim_keepdim_args(draw, shape):
    return {"dim": _dim(draw, len(shape)), "keepdim": draw(st.booleans(), label="keepdim")}


# Shapes with every side >= 2, so that var/std with correction=1 never divide by zero.
SHAPES_MIN2 = hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4)


@st.composite
def max_dim_case(draw, which: str):
    shape = draw(SHAPES)
    dim, keepdim = _dim(draw, len(shape)), draw(st.booleans(), label="keepdim")
    x = _draw_array(draw, shape, "distinct")
    return Case(
        [x], lambda lib, t: getattr(t, which)(dim=dim, keepdim=keepdim).values, f"x.{which}({dim}, {keepdim}).values"
    )


@st.composite
def matmul_case(draw):
    """1-D and 2-D operands and batched stacks whose batch dimensions broadcast."""
    m, k, n = (draw(st.integers(1, 4), label=s) for s in "mkn")
    kind_a, kind_b = (draw(st.sampled_from(["vector", "matrix", "batch"]), label="operand kind") for _ in range(2))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=1, max_dims=2, max_side=3)).input_shapes
    shape_a = {"vector": (k,), "matrix": (m, k), "batch": batch[0] + (m, k)}[kind_a]
    shape_b = {"vector": (k,), "matrix": (k, n), "batch": batch[1] + (k, n)}[kind_b]
    return Case([_draw_array(draw, shape_a), _draw_array(draw, shape_b)], lambda lib, a, b: a @ b, "a @ b")


@st.composite
def softmax_case(draw, name: str):
    shape = draw(SHAPES)
    dim = _dim(draw, len(shape))
    return Case([_draw_array(draw, shape)], lambda lib, x: getattr(x, name)(dim=dim), f"x.{name}(dim={dim})")


@st.composite
def reshape_case(draw, how: str):
    shape = draw(SHAPES)
    target = list(draw(st.permutations(list(shape)), label="target"))
    if draw(st.booleans(), label="insert a 1"):
        target.insert(draw(st.integers(0, len(target)), label="at"), 1)
    if target and draw(st.booleans(), label="use -1"):
        target[draw(st.integers(0, len(target) - 1), label="-1 at")] = -1
    target = tuple(target)
    if how == "reshape":
        return Case([_draw_array(draw, shape)], lambda lib, x: x.reshape(target), f"x.reshape({target})")
    if not target:  # x.view() with no sizes is an error in PyTorch; the tuple form works
        return Case([_draw_array(draw, shape)], lambda lib, x: x.view(()), "x.view(())")
    return Case([_draw_array(draw, shape)], lambda lib, x: x.view(*target), f"x.view(*{target})")


@st.composite
def transpose_case(draw):
    shape = draw(SHAPES_1D_UP)
    d0, d1 = _dim(draw, len(shape), "dim0"), _dim(draw, len(shape), "dim1")
    return Case([_draw_array(draw, shape)], lambda lib, x: x.transpose(d0, d1), f"x.transpose({d0}, {d1})")


@st.composite
def permute_case(draw):
    shape = draw(SHAPES_1D_UP)
    ndim = len(shape)
    dims = tuple(d - ndim if draw(st.booleans()) else d for d in draw(st.permutations(range(ndim)), label="dims"))
    return Case([_draw_array(draw, shape)], lambda lib, x: x.permute(*dims), f"x.permute(*{dims})")


@st.composite
def flatten_case(draw):
    shape = draw(SHAPES_1D_UP)
    ndim = len(shape)
    start = draw(st.integers(0, ndim - 1), label="start")
    end = draw(st.integers(start, ndim - 1), label="end")
    start, end = (d - ndim if draw(st.booleans()) else d for d in (start, end))
    return Case([_draw_array(draw, shape)], lambda lib, x: x.flatten(start, end), f"x.flatten({start}, {end})")


@st.composite
def unsqueeze_case(draw):
    shape = draw(SHAPES)
    d = draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    return Case([_draw_array(draw, shape)], lambda lib, x: x.unsqueeze(d), f"x.unsqueeze({d})")


@st.composite
def squeeze_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=2))
    ndim = len(shape)
    kind = draw(st.sampled_from(["all", "int", "tuple"] if ndim else ["all"]), label="squeeze kind")
    if kind == "all":
        return Case([_draw_array(draw, shape)], lambda lib, x: x.squeeze(), "x.squeeze()")
    if kind == "int":
        d = _dim(draw, ndim)
        return Case([_draw_array(draw, shape)], lambda lib, x: x.squeeze(d), f"x.squeeze({d})")
    dims = tuple(draw(st.lists(st.integers(-ndim, ndim - 1), min_size=1, max_size=ndim, unique_by=lambda d: d % ndim)))
    return Case([_draw_array(draw, shape)], lambda lib, x: x.squeeze(dims), f"x.squeeze({dims})")


@st.composite
def expand_case(draw):
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=2))
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2), label="new leading sizes"))
    body = tuple(
        draw(st.sampled_from([-1, 3]), label="size") if n == 1 else draw(st.sampled_from([-1, n]), label="size")
        for n in shape
    )
    target = lead + body
    if not target:
        return Case([_draw_array(draw, shape)], lambda lib, x: x.expand(()), "x.expand(())")
    return Case([_draw_array(draw, shape)], lambda lib, x: x.expand(*target), f"x.expand(*{target})")


@st.composite
def basic_index_case(draw):
    """Integers, slices with positive steps (PyTorch has no negative steps), None and Ellipsis."""
    shape = draw(SHAPES_1D_UP)
    index = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "full"]), label="index kind")
        if kind == "int":
            index.append(draw(st.integers(-n, n - 1), label="int"))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n), label="start")
            stop = draw(st.none() | st.integers(-n, n), label="stop")
            index.append(slice(start, stop, draw(st.sampled_from([None, 1, 2, 3]), label="step")))
        else:
            index.append(slice(None))
    if draw(st.booleans(), label="insert None"):
        index.insert(draw(st.integers(0, len(index)), label="None at"), None)
    if draw(st.booleans(), label="trailing dims via Ellipsis"):
        index = [Ellipsis] + index[draw(st.integers(1, len(index)), label="keep") :]
    index = tuple(index)
    return Case([_draw_array(draw, shape)], lambda lib, x: x[index], f"x[{index}]")


@st.composite
def int_array_index_case(draw):
    """Integer arrays that repeat elements (the backward must add, not overwrite), alone or with a slice."""
    shape = draw(SHAPES_1D_UP)
    n = shape[0]
    idx = np.array(draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=6), label="indices"), dtype=np.int64)
    idx = idx.reshape(draw(st.sampled_from([(-1,), (1, -1)]), label="index shape"))
    if len(shape) >= 2 and draw(st.booleans(), label="index dim 1 instead"):
        m = shape[1]
        idx = np.clip(idx, -m, m - 1)
        return Case([_draw_array(draw, shape)], lambda lib, x: x[:, lib.tensor(idx)], f"x[:, {idx.tolist()}]")
    if len(shape) >= 2 and draw(st.booleans(), label="with a slice"):
        return Case([_draw_array(draw, shape)], lambda lib, x: x[lib.tensor(idx), 1:], f"x[{idx.tolist()}, 1:]")
    return Case([_draw_array(draw, shape)], lambda lib, x: x[lib.tensor(idx)], f"x[{idx.tolist()}]")


@st.composite
def bool_mask_case(draw):
    shape = draw(SHAPES_1D_UP)
    lead = draw(st.integers(1, len(shape)), label="mask dims")
    seed = draw(st.integers(0, 2**32 - 1), label="mask seed")
    mask = np.random.default_rng(seed).random(shape[:lead]) < 0.5
    return Case([_draw_array(draw, shape)], lambda lib, x: x[lib.tensor(mask)], f"x[mask of shape {mask.shape}]")


@st.composite
def cat_case(draw):
    shape = draw(SHAPES_1D_UP)
    dim = _dim(draw, len(shape))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes along dim")
    shapes = [shape[: dim % len(shape)] + (s,) + shape[dim % len(shape) + 1 :] for s in sizes]
    arrays = [_draw_array(draw, s) for s in shapes]
    return Case(arrays, lambda lib, *xs: lib.cat(list(xs), dim=dim), f"cat(dim={dim})")


@st.composite
def stack_case(draw):
    shape = draw(SHAPES)
    dim = draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    arrays = [_draw_array(draw, shape) for _ in range(draw(st.integers(1, 3), label="count"))]
    return Case(arrays, lambda lib, *xs: lib.stack(list(xs), dim=dim), f"stack(dim={dim})")


@st.composite
def where_case(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)).input_shapes
    seed = draw(st.integers(0, 2**32 - 1), label="condition seed")
    cond = np.random.default_rng(seed).random(shapes[0]) < 0.5
    arrays = [_draw_array(draw, shapes[1]), _draw_array(draw, shapes[2])]
    return Case(arrays, lambda lib, a, b: lib.where(lib.tensor(cond), a, b), "where(cond, a, b)")


@st.composite
def clip_number_case(draw):
    """Bounds are numbers on the 0.1 grid; ``min > max`` included (every element becomes max)."""
    lo = draw(st.none() | st.sampled_from([-1.0, -0.5, 0.0, 0.3]), label="min")
    hi = draw(st.sampled_from([-0.2, 0.0, 0.5, 1.0]) if lo is None else st.none() | st.sampled_from([-0.2, 0.5, 1.0]))
    x = _draw_array(draw, draw(SHAPES), "grid")
    return Case([x], lambda lib, t: t.clip(min=lo, max=hi), f"x.clip(min={lo}, max={hi})")


@st.composite
def clip_tensor_case(draw):
    """Tensor bounds that broadcast to x's shape; min on the 0.1 grid, max 0.03 above it, x 0.05 off it: no ties."""
    which = draw(st.sampled_from(["min", "max", "both"]), label="bounds")
    shape = draw(SHAPES)

    def bound_shape():  # a suffix of x's shape with some sizes replaced by 1
        suffix = shape[draw(st.integers(0, len(shape)), label="drop leading") :]
        return tuple(1 if draw(st.booleans(), label="size 1") else n for n in suffix)

    x = _draw_array(draw, shape, "grid")
    lo = _draw_array(draw, bound_shape(), "bound")
    hi = _draw_array(draw, bound_shape(), "bound") + 0.03
    if which == "min":
        return Case([x, lo], lambda lib, t, a: t.clip(min=a), "x.clip(min=tensor)")
    if which == "max":
        return Case([x, hi], lambda lib, t, b: t.clip(max=b), "x.clip(max=tensor)")
    return Case([x, lo, hi], lambda lib, t, a, b: t.clip(a, b), "x.clip(tensor, tensor)")


OPS = {
    # arithmetic, broadcasting included
    "add": binary(operator.add, "a + b"),
    "sub": binary(operator.sub, "a - b"),
    "mul": binary(operator.mul, "a * b"),
    "div": binary(operator.truediv, "a / b", kind_b="nonzero"),
    "pow": binary(operator.pow, "a ** b", kind_a="positive"),
    "neg": unary(lambda lib, x: -x, "-x"),
    "add_scalar": with_scalar(lambda x, c: x + c, "x + c"),
    "radd_scalar": with_scalar(lambda x, c: c + x, "c + x"),
    "sub_scalar": with_scalar(lambda x, c: x - c, "x - c"),
    "rsub_scalar": with_scalar(lambda x, c: c - x, "c - x"),
    "mul_scalar": with_scalar(lambda x, c: x * c, "x * c"),
    "rmul_scalar": with_scalar(lambda x, c: c * x, "c * x"),
    "div_scalar": with_scalar(lambda x, c: x / c, "x / c"),
    "rdiv_scalar": with_scalar(lambda x, c: c / x, "c / x", kind="nonzero"),
    "pow_scalar": with_scalar(lambda x, c: x**c, "x ** c", kind="positive", scalars=(-1, 0, 0.5, 2, 3.5)),
    "pow_int_negative_base": with_scalar(lambda x, c: x**c, "x ** c", scalars=(0, 1, 2, 3)),
    "rpow_scalar": with_scalar(lambda x, c: c**x, "c ** x", scalars=(0.5, 2.0, 3)),
    "matmul": matmul_case(),
    # pointwise
    "exp": unary(lambda lib, x: x.exp(), "x.exp()"),
    "log": unary(lambda lib, x: x.log(), "x.log()", kind="positive"),
    "sqrt": unary(lambda lib, x: x.sqrt(), "x.sqrt()", kind="positive"),
    "abs": unary(lambda lib, x: x.abs(), "x.abs()", kind="grid"),
    "tanh": unary(lambda lib, x: x.tanh(), "x.tanh()"),
    "sigmoid": unary(lambda lib, x: (3 * x).sigmoid(), "(3x).sigmoid()"),
    "relu": unary(lambda lib, x: x.relu(), "x.relu()", kind="grid"),
    "clip_number": clip_number_case(),
    "clip_tensor": clip_tensor_case(),
    "clamp": unary(lambda lib, x: x.clamp(-0.5, 0.5), "x.clamp(-0.5, 0.5)", kind="grid"),
    "softmax": softmax_case("softmax"),
    "log_softmax": softmax_case("log_softmax"),
    # reductions
    "sum": method("sum", reduce_args),
    "mean": method("mean", reduce_args),
    "var": method("var", var_args, shapes=SHAPES_MIN2),
    "std": method("std", var_args, shapes=SHAPES_MIN2),
    "max_all": unary(lambda lib, x: x.max(), "x.max()", kind="distinct"),
    "min_all": unary(lambda lib, x: x.min(), "x.min()", kind="distinct"),
    "max_dim": max_dim_case("max"),
    "min_dim": max_dim_case("min"),
    # shapes
    "reshape": reshape_case("reshape"),
    "view": reshape_case("view"),
    "transpose": transpose_case(),
    "T": unary(lambda lib, x: x.T, "x.T", shapes=hnp.array_shapes(min_dims=2, max_dims=2, max_side=4)),
    "permute": permute_case(),
    "flatten": flatten_case(),
    "unsqueeze": unsqueeze_case(),
    "squeeze": squeeze_case(),
    "expand": expand_case(),
    "clone": unary(lambda lib, x: x.clone(), "x.clone()"),
    # indexing
    "index_basic": basic_index_case(),
    "index_int_array": int_array_index_case(),
    "index_bool_mask": bool_mask_case(),
    # joining and selecting
    "cat": cat_case(),
    "stack": stack_case(),
    "where": where_case(),
}


# ------------------------------------------------------------ the two checks
@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_gradcheck_float64(name, data):
    """The tape's gradient equals float64 central differences."""
    case = data.draw(OPS[name], label="case")
    inputs = [tinynet.tensor(a, requires_grad=True) for a in case.arrays]
    assert gradcheck(lambda *xs: case.fn(tinynet, *xs), inputs)


TOLERANCE = {"float32": {"rtol": 2e-5, "atol": 2e-6}, "float64": {"rtol": 1e-10, "atol": 1e-12}}


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_forward_and_gradients_match_torch(name, torch, data):
    """Same values, shapes and dtypes as PyTorch, forward and backward, in float32 and float64."""
    case = data.draw(OPS[name], label="case")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    arrays = [a.astype(dtype) for a in case.arrays]
    ours = [tinynet.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = case.fn(tinynet, *ours), case.fn(torch, *theirs)

    assert out.shape == tuple(expected.shape)
    assert str(out.dtype) == str(expected.dtype).removeprefix("torch.") == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **TOLERANCE[dtype])

    upstream = np.random.default_rng(0).standard_normal(out.shape).astype(dtype)
    out.backward(tinynet.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for i, (x, t) in enumerate(zip(ours, theirs)):
        want = np.zeros(t.shape, dtype) if t.grad is None else t.grad.numpy()
        assert x.grad is not None, f"input {i} got no gradient"
        assert x.grad.dtype == x.dtype, f"input {i}: gradient dtype {x.grad.dtype} differs from the input's"
        np.testing.assert_allclose(x.grad.data, want, err_msg=f"gradient of input {i}", **TOLERANCE[dtype])


@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=5)
@given(data=st.data())
def test_float32_in_gives_float32_out_and_float32_grads(name, data):
    """No silent upcast: float32 inputs give a float32 result and float32 gradients (no torch needed)."""
    case = data.draw(OPS[name], label="case")
    inputs = [tinynet.tensor(a.astype(np.float32), requires_grad=True) for a in case.arrays]
    out = case.fn(tinynet, *inputs)
    assert out.dtype == np.float32
    out.backward(tinynet.ones_like(out))
    assert [x.grad.dtype for x in inputs] == [np.float32] * len(inputs)


# ------------------------------------------------------------ no gradient
COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


@given(data=st.data())
def test_comparison_operators_match_torch(torch, data):
    """==, !=, <, <=, >, >= with broadcasting and with Python numbers on either side give torch's bool tensors."""
    op = data.draw(st.sampled_from(COMPARISONS), label="op")
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    a, b = (rng.integers(-2, 3, s).astype(np.float32) for s in shapes)  # small integers: ties happen
    c = data.draw(st.sampled_from([0, 1.0, -1]), label="number")
    for ours, theirs in [
        (op(tinynet.tensor(a), tinynet.tensor(b)), op(torch.tensor(a), torch.tensor(b))),
        (op(tinynet.tensor(a), c), op(torch.tensor(a), c)),
        (op(c, tinynet.tensor(b)), op(c, torch.tensor(b))),
    ]:
        assert ours.dtype == np.bool_
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@given(data=st.data())
def test_argmax_argmin_and_max_indices_match_torch(torch, data):
    shape = data.draw(SHAPES)
    x = _draw_array(data.draw, shape, "distinct")
    dim, keepdim = _dim(data.draw, len(shape)), data.draw(st.booleans(), label="keepdim")
    ours, theirs = tinynet.tensor(x), torch.tensor(x)
    for got, want in [
        (ours.argmax(), theirs.argmax()),
        (ours.argmin(), theirs.argmin()),
        (ours.argmax(keepdim=True), theirs.argmax(keepdim=True)),
        (ours.argmax(dim=dim, keepdim=keepdim), theirs.argmax(dim=dim, keepdim=keepdim)),
        (ours.argmin(dim=dim, keepdim=keepdim), theirs.argmin(dim=dim, keepdim=keepdim)),
        (ours.max(dim=dim, keepdim=keepdim).indices, theirs.max(dim=dim, keepdim=keepdim).indices),
        (ours.min(dim, keepdim).indices, theirs.min(dim, keepdim).indices),
    ]:
        assert got.dtype == np.int64 and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.data, want.numpy())


DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
NUMBERS = [True, 2, 2.5]


def _torch_dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow])
def test_result_dtypes_follow_torch_promotion(op, torch):
    """Tensor-tensor and tensor-number arithmetic: same result dtype as PyTorch, or an error where it errors."""
    values = np.array([1, 2, 3])
    operands = [(a, b) for a in DTYPES for b in DTYPES] + [(a, n) for a in DTYPES for n in NUMBERS]
    operands += [(n, a) for a in DTYPES for n in NUMBERS]
    checked = 0
    for a, b in operands:
        ours = [tinynet.tensor(values.astype(v)) if isinstance(v, str) else v for v in (a, b)]
        theirs = [torch.tensor(values.astype(v)) if isinstance(v, str) else v for v in (a, b)]
        try:
            want = _torch_dtype_name(op(*theirs))
        except (RuntimeError, NotImplementedError):
            with pytest.raises((TypeError, RuntimeError, ValueError)):
                op(*ours)
            continue
        assert str(op(*ours).dtype) == want, f"{op.__name__}({a!r}, {b!r})"
        checked += 1
    assert checked > len(operands) // 2


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor([1, 2, 3]),
        lambda lib: lib.tensor([1.0, 2.0]),
        lambda lib: lib.tensor([[True, False]]),
        lambda lib: lib.tensor(3.5),
        lambda lib: lib.tensor(7),
        lambda lib: lib.tensor(np.arange(6, dtype=np.float64).reshape(2, 3)),
        lambda lib: lib.tensor(np.arange(3, dtype=np.int32)),
        lambda lib: lib.tensor(np.float64(1.5)),
        lambda lib: lib.tensor([1, 2], dtype=lib.float64),
        lambda lib: lib.zeros(2, 3),
        lambda lib: lib.zeros((2, 3), dtype=lib.int64),
        lambda lib: lib.ones(4),
        lambda lib: lib.ones(2, 2, dtype=lib.float64),
        lambda lib: lib.full((2, 2), 7),
        lambda lib: lib.full((2,), 0.5),
        lambda lib: lib.full((2,), True),
        lambda lib: lib.full((3,), 2, dtype=lib.float32),
        lambda lib: lib.arange(5),
        lambda lib: lib.arange(1, 7, 2),
        lambda lib: lib.arange(0.0, 1.0, 0.25),
        lambda lib: lib.arange(3, dtype=lib.float64),
        lambda lib: lib.arange(5, 0, -2),
        lambda lib: lib.zeros_like(lib.ones(2, dtype=lib.float64)),
        lambda lib: lib.ones_like(lib.arange(3)),
        lambda lib: lib.zeros_like(lib.arange(3), dtype=lib.float32),
        lambda lib: lib.cat([lib.ones(2), lib.arange(2)]),
        lambda lib: lib.stack([lib.arange(2), lib.arange(2)], dim=1),
        lambda lib: lib.where(lib.tensor([True, False]), lib.tensor([1.0, 2.0]), 0.0),
        lambda lib: lib.arange(6).sum(),
        lambda lib: lib.tensor([True, True, False]).sum(),
        lambda lib: lib.tensor([1, 2], dtype=lib.int32).sum(),
        lambda lib: lib.tensor([3, 1, 2]).max(),
    ],
)
def test_creation_and_integer_results_match_torch(make, torch):
    ours, theirs = make(tinynet), make(torch)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype) == _torch_dtype_name(theirs)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_max_with_ties_splits_the_gradient_like_torch(torch):
    """max()/min() over everything share the gradient among tied elements; max(dim) gives it to the first."""
    x = np.array([[1.0, 3.0, 3.0], [3.0, 0.0, 0.0]])
    for fn in (lambda t: t.max(), lambda t: t.min(), lambda t: t.max(dim=1).values, lambda t: t.min(dim=0).values):
        ours, theirs = tinynet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        fn(ours).sum().backward()
        fn(theirs).sum().backward()
        np.testing.assert_array_equal(ours.grad.data, theirs.grad.numpy())
