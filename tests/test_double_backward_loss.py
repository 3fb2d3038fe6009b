"""Second derivatives of the losses and of batch norm: gradgradcheck, and torch 2.13's double backward.

Every backward in tinynet/functional/loss.py and normalization.py is written in tinynet's ops,
so ``create_graph=True`` records it. Cross-entropy, Dice and batch norm keep their fused
first-order gradient as a Function of its own (CrossEntropyGrad, DiceGrad, BatchNormGrad)
whose backward is written in ops; these tests differentiate through those backwards:
``gradgradcheck`` (finite differences of the first gradient, in the inputs and in the upstream
gradient v) on drawn small arguments, and ``compare_second_order`` against torch (float64,
rtol 1e-8) over the options: class weights, ignore_index, label smoothing, reductions,
probability targets, pos_weight, training/eval, affine or not. Dice, which torch lacks, is
compared with the same formula written in torch's ops.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from second_order import compare_second_order

import tinynet
import tinynet.nn.functional as F
from tinynet.autograd import grad
from tinynet.functional.loss import (
    CrossEntropy,
    CrossEntropyGrad,
    Dice,
    DiceGrad,
    GatherClasses,
    ScatterClasses,
    _check_class_target,
    _target_weights,
)
from tinynet.functional.normalization import BatchNorm, BatchNormGrad
from tinynet.testing import adjoint_check, gradcheck, gradgradcheck

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
FEW = settings(max_examples=10)  # each example differentiates twice through finite differences


def _t(a, requires_grad=False):
    return tinynet.tensor(np.asarray(a), requires_grad=requires_grad)


@st.composite
def classification(draw, min_classes=1):
    """Logits (N, C, *) in float64, integer targets (N, *), and the generator that made them."""
    n = draw(st.integers(1, 3))
    c = draw(st.integers(min_classes, 4))
    spatial = tuple(draw(st.lists(st.integers(1, 2), min_size=0, max_size=2)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, c, *spatial)) * 2
    t = rng.integers(0, c, (n, *spatial))
    return x, t, rng


def _ignore(t, rng, ignore):
    """The targets with some positions ignored (``"default"``: -100, ``"class0"``: class 0), and the index."""
    if ignore == "default":
        return np.where(rng.random(t.shape) < 0.3, -100, t), -100
    return t, (0 if ignore == "class0" else -100)


# --------------------------------------------------------------------------- the gather/scatter pair
@given(data=classification())
@FEW
def test_gather_classes_and_scatter_classes_are_an_adjoint_pair_with_second_derivatives(data):
    x, t, rng = data
    classes = np.expand_dims(t, 1)  # (N, 1, *)
    assert adjoint_check(lambda a: GatherClasses.apply(a, classes), x.shape)
    assert adjoint_check(lambda v: ScatterClasses.apply(v, classes, x.shape), classes.shape)
    a = _t(x, True)
    v = _t(rng.standard_normal(classes.shape), True)
    assert gradcheck(lambda a: GatherClasses.apply(a, classes), [a])
    assert gradcheck(lambda v: ScatterClasses.apply(v, classes, x.shape), [v])
    # linear maps: the second derivative in x is 0 and in the upstream gradient is the adjoint
    assert gradgradcheck(lambda a: GatherClasses.apply(a, classes) ** 2, [a])
    assert gradgradcheck(lambda v: ScatterClasses.apply(v, classes, x.shape) ** 2, [v])


# --------------------------------------------------------------------------- the gradient Functions
def _class_arguments(x, t, weight, ignore_index):
    """What cross_entropy passes its Functions: safe targets (N, 1, *), weights and mask."""
    t1 = _check_class_target(_t(x), _t(t), "test", ignore_index)
    return _target_weights(t1, weight, ignore_index, x.dtype)


def _upstream_shape(loss_shape, reduction):
    return loss_shape if reduction == "none" else ()


@given(data=classification(), weighted=st.booleans(), label_smoothing=st.sampled_from([0.0, 0.3]), reduction=REDUCTIONS)
@FEW
def test_cross_entropy_grad_function_gradcheck(data, weighted, label_smoothing, reduction):
    # dL/dx = g (S p - a) as a function of the upstream gradient and of p (any positive array here)
    x, t, rng = data
    weight = rng.uniform(0.1, 2.0, x.shape[1]) if weighted else None
    safe, w1, valid1 = _class_arguments(x, t, weight, -100)
    upstream = _t(rng.standard_normal(_upstream_shape(t.shape, reduction)), True)
    p = _t(rng.uniform(0.1, 1.0, x.shape), True)
    args = (safe, w1, valid1, weight, reduction, w1.sum(), label_smoothing)
    assert gradcheck(lambda g, p: CrossEntropyGrad.apply(g, p, *args), [upstream, p])
    # p, the hidden output, goes back to x through softmax's adjoint
    hidden = (safe, w1, valid1, weight, reduction, label_smoothing)
    assert gradcheck(lambda x: CrossEntropy.apply(x, *hidden)[1], [_t(x, True)])


@given(data=classification(min_classes=2), reduction=REDUCTIONS)
@FEW
def test_dice_grad_function_gradcheck_in_the_upstream_gradient(data, reduction):
    # DiceGrad's p-derivative also runs through the Dice and den of p, so it is checked by the
    # gradgradcheck of dice_loss below; in the upstream gradient it is a linear map on its own
    x, t, rng = data
    safe, _, valid1 = _target_weights(np.expand_dims(t, 1), None, -100, x.dtype)
    loss, p = Dice.apply(_t(x, True), safe, valid1, 1.0, reduction)
    _, classes, sample_class, valid, dice, den = loss._node.saved_arrays  # what Dice's forward cached
    p = p.detach()
    upstream = _t(rng.standard_normal(loss.shape), True)
    args = (classes, sample_class, valid, dice, den, 1.0, reduction)
    assert gradcheck(lambda g: DiceGrad.apply(g, p, *args), [upstream])
    assert gradcheck(lambda x: Dice.apply(x, safe, valid1, 1.0, reduction)[1], [_t(x, True)])


@given(data=st.integers(0, 2**16), shape=st.sampled_from([(3, 2), (2, 3, 2), (2, 2, 1, 2)]), weighted=st.booleans())
@FEW
def test_batch_norm_grad_function_and_hidden_outputs_gradcheck(data, shape, weighted):
    rng = np.random.default_rng(data)
    n, c = shape[:2]
    length = int(np.prod(shape[2:]))
    upstream = _t(rng.standard_normal(shape), True)
    xhat = _t(rng.standard_normal((n, c, length)), True)
    invstd = _t(rng.uniform(0.5, 2.0, c), True)
    inputs = [upstream, xhat, invstd] + ([_t(rng.uniform(0.5, 2.0, c), True)] if weighted else [])

    def gradient(g, xh, s, *w):
        return BatchNormGrad.apply(g, xh, s, w[0] if w else None, shape)

    assert gradcheck(gradient, inputs)
    # x̂ and 1/σ, the hidden outputs, go back to x through their own adjoints
    x = _t(rng.standard_normal(shape), True)
    assert gradcheck(lambda x: BatchNorm.apply(x, None, None, None, None, True, 0.1, 1e-5)[1], [x])
    assert gradcheck(lambda x: BatchNorm.apply(x, None, None, None, None, True, 0.1, 1e-5)[2], [x])


# --------------------------------------------------------------------------- cross-entropy
@given(
    data=classification(),
    weighted=st.booleans(),
    ignore=st.sampled_from(["none", "default", "class0"]),
    label_smoothing=st.sampled_from([0.0, 0.1, 1.0]),
    reduction=REDUCTIONS,
)
@FEW
def test_cross_entropy_second_derivatives(torch, data, weighted, ignore, label_smoothing, reduction):
    x, t, rng = data
    t, ignore_index = _ignore(t, rng, ignore)
    c = x.shape[1]
    w = rng.uniform(0.1, 2.0, c) if weighted else None
    assume(not (reduction == "mean" and (t == ignore_index).all()))  # a nan loss: no derivatives to compare

    def call(lib, lib_f):
        def fn(x):
            weight = None if w is None else lib.tensor(w)
            return lib_f(
                x, lib.tensor(t), weight=weight, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing,
            )  # fmt: skip

        return fn

    assert gradgradcheck(call(tinynet, F.cross_entropy), [_t(x, True)])
    compare_second_order(torch, call(tinynet, F.cross_entropy), call(torch, torch.nn.functional.cross_entropy),
                         [x], [True])  # fmt: skip


@given(
    data=classification(),
    weighted=st.booleans(),
    label_smoothing=st.sampled_from([0.0, 0.2]),
    reduction=REDUCTIONS,
    wrt_target=st.booleans(),
)
@FEW
def test_cross_entropy_with_class_probabilities_second_derivatives(
    torch, data, weighted, label_smoothing, reduction, wrt_target
):
    x, _, rng = data
    q = rng.dirichlet(np.ones(x.shape[1]), size=x.shape[:1] + x.shape[2:])  # (N, *, C)
    q = np.moveaxis(q, -1, 1).copy()
    w = rng.uniform(0.1, 2.0, x.shape[1]) if weighted else None
    arrays = [x, q] + ([w] if weighted else [])
    requires = [True, wrt_target] + ([True] if weighted else [])

    def call(lib_f):
        def fn(x, q, *w):
            return lib_f(x, q, weight=w[0] if w else None, reduction=reduction, label_smoothing=label_smoothing)

        return fn

    tensors = [_t(a, r) for a, r in zip(arrays, requires)]
    assert gradgradcheck(call(F.cross_entropy), tensors)
    compare_second_order(torch, call(F.cross_entropy), call(torch.nn.functional.cross_entropy), arrays, requires)


def test_cross_entropy_of_one_unbatched_sample_has_second_derivatives(torch):
    x = np.array([0.5, -1.0, 2.0])
    compare_second_order(torch, lambda x: F.cross_entropy(x, _t(2)),
                         lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(2)), [x], [True])  # fmt: skip


def test_cross_entropy_hessian_is_the_softmax_jacobian():
    # d²/dx² of -log softmax(x)[t] = diag(p) - p pᵀ, whatever the target
    x = _t([0.3, -1.2, 2.0], True)
    (g,) = grad(F.cross_entropy(x, _t(1)), x, create_graph=True)
    p = np.exp(x.data) / np.exp(x.data).sum()
    hessian = np.stack([grad(g[i], x, retain_graph=True)[0].numpy() for i in range(3)])
    np.testing.assert_allclose(hessian, np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- nll
@given(
    data=classification(),
    weighted=st.booleans(),
    ignore=st.sampled_from(["none", "default"]),
    reduction=REDUCTIONS,
)
@FEW
def test_nll_loss_second_derivatives(torch, data, weighted, ignore, reduction):
    x, t, rng = data
    t, ignore_index = _ignore(t, rng, ignore)
    assume(not (reduction == "mean" and (t == ignore_index).all()))
    w = rng.uniform(0.1, 2.0, x.shape[1]) if weighted else None

    def call(lib, lib_f):
        def fn(x):
            weight = None if w is None else lib.tensor(w)
            # a curved function of the input, so that the second derivative in x is not trivially 0
            return lib_f(x * x, lib.tensor(t), weight=weight, ignore_index=ignore_index, reduction=reduction)

        return fn

    assert gradgradcheck(call(tinynet, F.nll_loss), [_t(x, True)])
    compare_second_order(torch, call(tinynet, F.nll_loss), call(torch, torch.nn.functional.nll_loss), [x], [True])


# --------------------------------------------------------------------------- binary cross-entropy with logits
@given(
    shape=st.sampled_from([(3,), (2, 3), (2, 1, 2)]),
    weight=st.booleans(),
    pos_weight=st.booleans(),
    reduction=REDUCTIONS,
    seed=st.integers(0, 2**16),
)
@FEW
def test_bce_with_logits_second_derivatives(torch, shape, weight, pos_weight, reduction, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    t = rng.uniform(0, 1, shape)
    arrays = [x, t]
    if weight:
        arrays.append(rng.uniform(0.5, 2.0, shape[-1:]))
    if pos_weight:
        arrays.append(rng.uniform(0.5, 3.0, shape[-1:]))

    def call(lib_f):
        def fn(x, t, *extra):
            w = extra[0] if weight else None
            pw = extra[-1] if pos_weight else None
            return lib_f(x, t, weight=w, pos_weight=pw, reduction=reduction)

        return fn

    assert gradgradcheck(call(F.binary_cross_entropy_with_logits), [_t(a, True) for a in arrays])
    requires = [True, True] + [False] * (len(arrays) - 2)  # torch refuses weight and pos_weight; gradgradcheck has them
    compare_second_order(torch, call(F.binary_cross_entropy_with_logits),
                         call(torch.nn.functional.binary_cross_entropy_with_logits), arrays, requires)  # fmt: skip


def test_bce_with_logits_second_derivative_is_finite_for_huge_logits():
    x = _t([-800.0, 800.0, 0.0], True)
    (g,) = grad(F.binary_cross_entropy_with_logits(x, _t([1.0, 0.0, 0.5]), reduction="sum"), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [0.0, 0.0, 0.25])  # σ'(x) = σ(x) (1 - σ(x))


# --------------------------------------------------------------------------- regression losses
@given(
    shape=st.sampled_from([(3,), (2, 3), (2, 1, 2)]),
    op=st.sampled_from(["mse_loss", "l1_loss"]),
    reduction=REDUCTIONS,
    weighted=st.booleans(),
    seed=st.integers(0, 2**16),
)
@FEW
def test_regression_losses_second_derivatives(torch, shape, op, reduction, weighted, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape), rng.standard_normal(shape)]
    if weighted:
        arrays.append(rng.uniform(0.5, 2.0, shape))

    def call(lib_f):
        def fn(x, t, *w):
            return lib_f(x * x, t, reduction=reduction, weight=w[0] if w else None)  # curved in x

        return fn

    requires = [True] * len(arrays)
    ours, theirs = getattr(F, op), getattr(torch.nn.functional, op)
    assert gradgradcheck(call(ours), [_t(a, True) for a in arrays])
    compare_second_order(torch, call(ours), call(theirs), arrays, requires)


# --------------------------------------------------------------------------- dice
def _dice_in_torch(torch, smooth, ignore_index, reduction):
    """tinynet's dice_loss written with torch's ops (torch has no Dice loss)."""

    def fn(x, t):
        n, c = x.shape[:2]
        valid = (t != ignore_index).to(x.dtype).reshape(n, 1, -1)
        safe = torch.where(t == ignore_index, torch.zeros_like(t), t).reshape(n, -1)
        y = torch.nn.functional.one_hot(safe, c).permute(0, 2, 1).to(x.dtype) * valid
        p = torch.softmax(x, dim=1).reshape(n, c, -1)
        inter = (p * y).sum(2)
        den = (p * valid).sum(2) + y.sum(2) + smooth
        loss = 1 - (2 * inter + smooth) / den
        return loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.mean()

    return fn


@given(
    data=classification(min_classes=2),
    smooth=st.sampled_from([0.5, 1.0]),
    ignore=st.sampled_from(["none", "default"]),
    reduction=REDUCTIONS,
)
@FEW
def test_dice_loss_second_derivatives(torch, data, smooth, ignore, reduction):
    x, t, rng = data
    t, ignore_index = _ignore(t, rng, ignore)

    def ours(x):
        return F.dice_loss(x, _t(t), smooth=smooth, ignore_index=ignore_index, reduction=reduction)

    theirs = _dice_in_torch(torch, smooth, ignore_index, reduction)
    assert gradgradcheck(ours, [_t(x, True)])
    compare_second_order(torch, ours, lambda x: theirs(x, torch.tensor(t)), [x], [True])


# --------------------------------------------------------------------------- batch norm
@st.composite
def batch_norm_case(draw):
    ndim = draw(st.sampled_from([2, 3, 4]))
    n = draw(st.integers(2, 3))
    c = draw(st.integers(1, 3))
    spatial = tuple(draw(st.integers(1, 2)) for _ in range(ndim - 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    return rng.standard_normal((n, c, *spatial)) * 2 + 0.5, rng


@given(
    data=batch_norm_case(),
    training=st.booleans(),
    affine=st.sampled_from(["none", "weight", "bias", "both"]),
)
@FEW
def test_batch_norm_second_derivatives(torch, data, training, affine):
    x, rng = data
    c = x.shape[1]
    running_mean, running_var = rng.standard_normal(c), rng.uniform(0.5, 2.0, c)
    arrays, requires = [x], [True]
    if affine in ("weight", "both"):
        arrays.append(rng.uniform(0.5, 2.0, c))
        requires.append(True)
    if affine in ("bias", "both"):
        arrays.append(rng.standard_normal(c))
        requires.append(True)

    def call(lib, lib_f):
        def fn(x, *params):
            weight = params[0] if affine in ("weight", "both") else None
            bias = params[-1] if affine in ("bias", "both") else None
            rm, rv = lib.tensor(running_mean.copy()), lib.tensor(running_var.copy())  # fresh: training moves them
            if weight is None and lib is not tinynet:  # torch's eval-mode double backward fails on weight=None
                weight = lib.ones(c, dtype=lib.float64)  # the same function
            return lib_f(x, rm, rv, weight, bias, training=training, momentum=0.1, eps=1e-5)

        return fn

    ours = call(tinynet, F.batch_norm)
    assert gradgradcheck(ours, [_t(a, True) for a in arrays])
    compare_second_order(torch, ours, call(torch, torch.nn.functional.batch_norm), arrays, requires)


def test_batch_norm_running_statistics_are_not_differentiated():
    x = _t(np.random.default_rng(0).standard_normal((4, 2)), True)
    rm, rv = tinynet.zeros(2, dtype=tinynet.float64), tinynet.ones(2, dtype=tinynet.float64)
    y = F.batch_norm(x, rm, rv, training=True)
    (g,) = grad((y * y * y).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    assert not rm.requires_grad and not rv.requires_grad and rm.grad is None
    assert np.isfinite(h.numpy()).all()


# --------------------------------------------------------------------------- float32 stays float32
@pytest.mark.parametrize("op", ["cross_entropy", "dice_loss", "nll_loss", "mse_loss", "bce", "batch_norm"])
def test_float32_second_derivatives_stay_float32(op):
    rng = np.random.default_rng(1)
    x = _t(rng.standard_normal((2, 3, 2)).astype(np.float32), True)
    target = _t(rng.integers(0, 3, (2, 2)))
    other = _t(rng.uniform(0, 1, (2, 3, 2)).astype(np.float32))
    losses = {
        "cross_entropy": lambda: F.cross_entropy(x, target, label_smoothing=0.1),
        "dice_loss": lambda: F.dice_loss(x, target),
        "nll_loss": lambda: F.nll_loss(x * x, target),
        "mse_loss": lambda: F.mse_loss(x, other),
        "bce": lambda: F.binary_cross_entropy_with_logits(x, other),
        "batch_norm": lambda: (F.batch_norm(x, None, None, training=True) ** 3).mean(),
    }
    (g,) = grad(losses[op](), x, create_graph=True)
    v = _t(rng.standard_normal(x.shape).astype(np.float32))
    (h,) = grad((g * v).sum(), x, allow_unused=True)
    assert g.dtype == np.float32
    assert h is None or h.dtype == np.float32
