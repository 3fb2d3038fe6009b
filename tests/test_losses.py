"""Losses: values and gradients against torch on hypothesis-drawn shapes, weights, ignore_index,
label smoothing and reductions; float64 gradchecks; the soft Dice loss against hand-computed values;
and the errors raised for bad targets and arguments (before any computation)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.testing import adjoint_check, gradcheck

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _t(a, requires_grad=False):
    return tinynet.tensor(np.asarray(a), requires_grad=requires_grad)


def _compare(torch, ours_fn, theirs_fn, arrays, grad_of, seed=0, rtol=1e-5, atol=1e-6):
    """Run both losses on the same arrays, compare values, then backprop a random upstream gradient."""
    ours_in = [_t(a, i in grad_of) for i, a in enumerate(arrays)]
    theirs_in = [torch.tensor(a, requires_grad=i in grad_of) for i, a in enumerate(arrays)]
    y, yr = ours_fn(*ours_in), theirs_fn(*theirs_in)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=rtol, atol=atol)
    assert y.shape == tuple(yr.shape) and y.dtype == arrays[0].dtype
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(arrays[0].dtype)
    y.backward(_t(g))
    yr.backward(torch.tensor(g))
    for i in grad_of:
        np.testing.assert_allclose(ours_in[i].grad.data, theirs_in[i].grad.numpy(), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- cross-entropy
@st.composite
def classification(draw, min_classes=1):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(min_classes, 5))
    spatial = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((n, c, *spatial)) * 3).astype(np.float32)
    t = rng.integers(0, c, (n, *spatial))
    return x, t, rng


@given(
    data=classification(),
    weighted=st.booleans(),
    ignore=st.sampled_from(["none", "default", "class0"]),
    label_smoothing=st.sampled_from([0.0, 0.1, 0.5, 1.0]),
    reduction=REDUCTIONS,
)
def test_cross_entropy_matches_torch(torch, data, weighted, ignore, label_smoothing, reduction):
    x, t, rng = data
    c = x.shape[1]
    ignore_index = -100 if ignore != "class0" else 0
    if ignore == "default":
        t = np.where(rng.random(t.shape) < 0.3, -100, t)
    w = rng.uniform(0.1, 2.0, c).astype(np.float32) if weighted else None
    arrays = [x, t] + ([w] if weighted else [])

    def call(lib_f):
        def fn(x, t, *w):
            return lib_f(
                x, t, weight=w[0] if w else None, ignore_index=ignore_index, reduction=reduction,
                label_smoothing=label_smoothing,
            )  # fmt: skip

        return fn

    _compare(torch, call(F.cross_entropy), call(torch.nn.functional.cross_entropy), arrays, grad_of=[0], rtol=1e-4)


@given(data=classification(), weighted=st.booleans(), label_smoothing=st.sampled_from([0.0, 0.2]), reduction=REDUCTIONS)
def test_cross_entropy_with_class_probabilities_matches_torch(torch, data, weighted, label_smoothing, reduction):
    x, _, rng = data
    q = rng.random(x.shape).astype(np.float32)
    q /= q.sum(axis=1, keepdims=True)
    w = rng.uniform(0.1, 2.0, x.shape[1]).astype(np.float32)
    arrays = [x, q] + ([w] if weighted else [])

    def call(lib_f):
        def fn(x, q, *w):
            return lib_f(x, q, weight=w[0] if w else None, reduction=reduction, label_smoothing=label_smoothing)

        return fn

    _compare(torch, call(F.cross_entropy), call(torch.nn.functional.cross_entropy), arrays, grad_of=[0, 1], rtol=1e-4)


def test_cross_entropy_on_unbatched_input_matches_torch(torch):
    x = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    for target in (np.array(2), np.array([0.2, 0.3, 0.5], dtype=np.float32)):
        for reduction in ("mean", "none"):
            _compare(
                torch,
                lambda x, t, r=reduction: F.cross_entropy(x, t, reduction=r),
                lambda x, t, r=reduction: torch.nn.functional.cross_entropy(x, t, reduction=r),
                [x, target],
                grad_of=[0],
            )


def test_losses_accept_non_contiguous_logits(torch):
    # channels-last logits permuted to (N, C, H, W): a strided view, as after a permute in a model
    rng = np.random.default_rng(11)
    nhwc = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    t = rng.integers(0, 5, (2, 3, 4))
    for ours_fn, theirs_fn in [
        (F.cross_entropy, torch.nn.functional.cross_entropy),
        (lambda x, t: F.cross_entropy(x, t, label_smoothing=0.2), lambda x, t: torch.nn.functional.cross_entropy(
            x, t, label_smoothing=0.2)),
        (F.nll_loss, lambda x, t: torch.nn.functional.nll_loss(x.contiguous(), t)),  # torch's backward needs it
    ]:  # fmt: skip
        xt = _t(nhwc, True)
        xr = torch.tensor(nhwc, requires_grad=True)
        y = ours_fn(xt.permute(0, 3, 1, 2), _t(t))
        yr = theirs_fn(xr.permute(0, 3, 1, 2), torch.tensor(t))
        np.testing.assert_allclose(y.item(), yr.item(), rtol=1e-5)
        y.backward()
        yr.backward()
        np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-7)
    dice = F.dice_loss(_t(nhwc).permute(0, 3, 1, 2), _t(t)).item()
    assert dice == pytest.approx(F.dice_loss(_t(np.ascontiguousarray(nhwc.transpose(0, 3, 1, 2))), _t(t)).item())


def test_cross_entropy_is_stable_for_huge_logits():
    x = _t(np.array([[1e4, -1e4, 0.0], [-3e4, 3e4, 3e4]], dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(x, _t([1, 2]), reduction="none")
    np.testing.assert_allclose(loss.data, [2e4, np.log(2)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, [[1, -1, 0], [0, 0.5, -0.5]], atol=1e-6)


def test_cross_entropy_with_every_target_ignored_is_nan_with_zero_gradient_like_torch(torch):
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    xt = _t(x, True)
    loss = F.cross_entropy(xt, _t([-100, -100, -100]))
    loss.backward()
    ref = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor([-100, -100, -100]))
    assert np.isnan(loss.item()) and np.isnan(ref.item())
    assert not xt.grad.data.any()


def test_cross_entropy_segmentation_equals_the_mean_over_pixels():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4, 5))
    t = rng.integers(0, 3, (2, 4, 5))
    logp = x - np.log(np.exp(x).sum(axis=1, keepdims=True))
    picked = np.take_along_axis(logp, t[:, None], axis=1)
    assert F.cross_entropy(_t(x), _t(t)).item() == pytest.approx(-picked.mean())


@pytest.mark.parametrize("label_smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradcheck_float64(label_smoothing, reduction):
    rng = np.random.default_rng(2)
    x = _t(rng.standard_normal((3, 4, 2)), True)
    t = _t(np.array([[0, 3], [-100, 2], [1, 1]]))
    w = _t(rng.uniform(0.5, 2, 4))
    assert gradcheck(
        lambda x: F.cross_entropy(x, t, weight=w, reduction=reduction, label_smoothing=label_smoothing), [x]
    )
    q = _t(rng.dirichlet(np.ones(4), size=(3, 2)).transpose(0, 2, 1).copy(), True)
    assert gradcheck(
        lambda x, q: F.cross_entropy(x, q, weight=w, reduction=reduction, label_smoothing=label_smoothing), [x, q]
    )


def test_cross_entropy_loss_module_keeps_weight_as_a_buffer(torch):
    loss_fn = nn.CrossEntropyLoss(weight=tinynet.tensor([1.0, 2.0, 3.0]), ignore_index=1, label_smoothing=0.1)
    assert list(loss_fn.state_dict()) == list(torch.nn.CrossEntropyLoss(weight=torch.ones(3)).state_dict())
    x = np.random.default_rng(3).standard_normal((4, 3)).astype(np.float32)
    t = np.array([0, 1, 2, 2])
    ref = torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0]), ignore_index=1, label_smoothing=0.1)
    assert loss_fn(_t(x), _t(t)).item() == pytest.approx(ref(torch.tensor(x), torch.tensor(t)).item(), rel=1e-6)


# --------------------------------------------------------------------------- nll
@given(data=classification(), weighted=st.booleans(), reduction=REDUCTIONS)
def test_nll_loss_matches_torch(torch, data, weighted, reduction):
    x, t, rng = data
    t = np.where(rng.random(t.shape) < 0.2, -100, t)
    w = rng.uniform(0.1, 2.0, x.shape[1]).astype(np.float32)
    arrays = [x, t] + ([w] if weighted else [])

    def call(lib_f):
        return lambda x, t, *w: lib_f(x, t, weight=w[0] if w else None, reduction=reduction)

    _compare(torch, call(F.nll_loss), call(torch.nn.functional.nll_loss), arrays, grad_of=[0], rtol=1e-5)


def test_nll_loss_is_a_gather_whose_adjoint_is_the_scatter():
    t = _t(np.array([[2, 0], [1, -100], [0, 0]]))
    w = _t(np.array([0.5, 2.0, 1.5]))
    for reduction in ("none", "sum", "mean"):
        assert adjoint_check(lambda x, r=reduction: F.nll_loss(x, t, weight=w, reduction=r), (3, 3, 2))


def test_nll_loss_module_matches_functional():
    x = F.log_softmax(tinynet.randn(4, 3), dim=1)
    t = _t([0, 2, 1, 1])
    assert nn.NLLLoss(reduction="sum")(x, t).item() == pytest.approx(F.nll_loss(x, t, reduction="sum").item())


# --------------------------------------------------------------------------- binary cross-entropy with logits
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    weight=st.sampled_from(["none", "full", "last"]),
    pos_weight=st.booleans(),
    reduction=REDUCTIONS,
    seed=st.integers(0, 2**16),
)
def test_bce_with_logits_matches_torch(torch, shape, weight, pos_weight, reduction, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 4).astype(np.float32)
    t = rng.random(shape).astype(np.float32)
    w = {"none": None, "full": rng.random(shape), "last": rng.random(shape[-1:])}[weight]
    pw = rng.uniform(0.2, 3.0, shape[-1:]).astype(np.float32) if pos_weight else None
    arrays = [x, t] + [a.astype(np.float32) for a in (w, pw) if a is not None]

    def call(lib_f):
        def fn(x, t, *rest):
            rest = list(rest)
            ww = rest.pop(0) if w is not None else None
            pp = rest.pop(0) if pw is not None else None
            return lib_f(x, t, ww, reduction=reduction, pos_weight=pp)

        return fn

    fns = (call(F.binary_cross_entropy_with_logits), call(torch.nn.functional.binary_cross_entropy_with_logits))
    _compare(torch, *fns, arrays, grad_of=[0, 1], rtol=1e-5, atol=1e-5)


def test_bce_with_logits_gradcheck_float64_including_weights():
    rng = np.random.default_rng(4)
    x, t = _t(rng.standard_normal((3, 4)) * 3, True), _t(rng.random((3, 4)), True)
    w, pw = _t(rng.random((3, 4)), True), _t(rng.uniform(0.5, 2, 4), True)
    for reduction in ("mean", "none"):
        assert gradcheck(
            lambda x, t, w, pw, r=reduction: F.binary_cross_entropy_with_logits(x, t, w, reduction=r, pos_weight=pw),
            [x, t, w, pw],
        )


def test_bce_with_logits_is_stable_for_huge_logits():
    x = _t(np.array([200.0, -200.0, 200.0], dtype=np.float32), True)
    loss = F.binary_cross_entropy_with_logits(x, _t(np.array([1.0, 0.0, 0.0], dtype=np.float32)), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 200.0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [0.0, 0.0, 1.0], atol=1e-6)


def test_bce_module_registers_weight_and_pos_weight_buffers(torch):
    ours = nn.BCEWithLogitsLoss(weight=tinynet.ones(3), pos_weight=tinynet.ones(3))
    theirs = torch.nn.BCEWithLogitsLoss(weight=torch.ones(3), pos_weight=torch.ones(3))
    assert list(ours.state_dict()) == list(theirs.state_dict())


# --------------------------------------------------------------------------- regression losses
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple),
    loss=st.sampled_from(["mse_loss", "l1_loss"]),
    weighted=st.booleans(),
    reduction=REDUCTIONS,
    seed=st.integers(0, 2**16),
)
def test_regression_losses_match_torch(torch, shape, loss, weighted, reduction, seed):
    rng = np.random.default_rng(seed)
    x, t = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    arrays = [x, t] + ([rng.random(shape).astype(np.float32)] if weighted else [])

    def call(lib_f):
        return lambda x, t, *w: lib_f(x, t, reduction=reduction, weight=w[0] if w else None)

    _compare(torch, call(getattr(F, loss)), call(getattr(torch.nn.functional, loss)), arrays, grad_of=[0, 1])


def test_regression_losses_broadcast_with_torchs_warning(torch):
    x, t = np.ones((3, 2), dtype=np.float32), np.arange(2, dtype=np.float32)
    for name in ("mse_loss", "l1_loss"):
        with pytest.warns(UserWarning, match="different to the input size"):
            ours = getattr(F, name)(_t(x), _t(t))
        with pytest.warns(UserWarning):
            theirs = getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(t))
        assert ours.item() == pytest.approx(theirs.item())


def test_regression_losses_gradcheck_float64():
    rng = np.random.default_rng(5)
    x, t = _t(rng.standard_normal((3, 2)), True), _t(rng.standard_normal((3, 2)), True)
    w = _t(rng.random((3, 2)), True)
    for fn in (F.mse_loss, F.l1_loss):
        assert gradcheck(lambda x, t, f=fn: f(x, t), [x, t])
        assert gradcheck(lambda x, t, w, f=fn: f(x, t, weight=w), [x, t, w])


def test_regression_loss_modules_and_integer_targets():
    x = _t(np.array([1.0, 2.0], dtype=np.float32))
    assert nn.MSELoss()(x, _t([1, 4])).item() == pytest.approx(2.0)  # int target compared in float32
    assert nn.L1Loss(reduction="sum")(x, _t([0, 0])).item() == pytest.approx(3.0)
    assert nn.MSELoss(reduction="none")(x, x).dtype == np.float32


# --------------------------------------------------------------------------- soft Dice
def _dice_reference(x, t, smooth, ignore_index=-100):
    """Straight from the formula in dice_loss's docstring, with an explicit one-hot, in float64."""
    x = np.asarray(x, dtype=np.float64)
    n, c = x.shape[:2]
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    valid = (t != ignore_index)[:, None]
    y = (np.arange(c).reshape((1, c) + (1,) * (x.ndim - 2)) == t[:, None]) & valid
    axes = tuple(range(2, x.ndim))
    inter = (p * y * valid).sum(axis=axes)
    total = (p * valid).sum(axis=axes) + (y * valid).sum(axis=axes)
    return 1 - (2 * inter + smooth) / (total + smooth)  # (N, C)


def test_dice_loss_hand_computed_values():
    # N=1, C=2, a 1x2 map with equal logits: p = 0.5 everywhere.
    x = _t(np.zeros((1, 2, 1, 2), dtype=np.float32))
    t = _t(np.array([[[0, 0]]]))
    loss = F.dice_loss(x, t, smooth=0.0, reduction="none").data
    # class 0: 2 * (0.5 + 0.5) / ((0.5 + 0.5) + 2) = 2/3; class 1: 0 / (1 + 0) = 0
    np.testing.assert_allclose(loss, [[1 - 2 / 3, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(F.dice_loss(x, t, smooth=1.0, reduction="none").data, [[1 - 3 / 4, 1 - 1 / 2]])
    # a confident, correct prediction scores ~0 for every class (absent classes thanks to smooth)
    sure = _t(np.array([[[[30.0, -30.0]], [[-30.0, 30.0]]]], dtype=np.float32))
    np.testing.assert_allclose(F.dice_loss(sure, _t(np.array([[[0, 1]]])), reduction="sum").data, 0.0, atol=1e-6)


@given(data=classification(min_classes=2), smooth=st.sampled_from([0.5, 1.0]), reduction=REDUCTIONS)
def test_dice_loss_matches_the_written_formula(data, smooth, reduction):
    x, t, rng = data
    t = np.where(rng.random(t.shape) < 0.2, 7, t)  # ignore_index = 7 here
    ref = _dice_reference(x, t, smooth, ignore_index=7)
    ref = {"none": ref, "sum": ref.sum(), "mean": ref.mean()}[reduction]
    ours = F.dice_loss(_t(x), _t(t), smooth=smooth, ignore_index=7, reduction=reduction)
    np.testing.assert_allclose(ours.data, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_dice_loss_gradcheck_float64(reduction):
    rng = np.random.default_rng(6)
    x = _t(rng.standard_normal((2, 3, 2, 3)), True)
    t = _t(np.array([[[0, 1, 2], [2, -100, 1]], [[1, 1, 1], [0, 0, -100]]]))
    assert gradcheck(lambda x: F.dice_loss(x, t, smooth=0.5, reduction=reduction), [x])


def test_dice_loss_ignores_ignored_positions_entirely():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 3, 2, 2))
    t = np.array([[[0, 1], [2, -100]]])
    changed = x.copy()
    changed[0, :, 1, 1] = [9.0, -9.0, 3.0]  # logits at the ignored pixel must not matter
    a = F.dice_loss(_t(x), _t(t)).item()
    b = F.dice_loss(_t(changed), _t(t)).item()
    assert a == pytest.approx(b)
    xt = _t(x, True)
    F.dice_loss(xt, _t(t)).backward()
    assert not xt.grad.data[0, :, 1, 1].any()


def test_dice_loss_module_and_float32():
    loss_fn = nn.DiceLoss(smooth=1.0)
    out = loss_fn(tinynet.randn(2, 4, 3, 3), tinynet.randint(0, 4, (2, 3, 3)))
    assert out.shape == () and out.dtype == np.float32 and 0 <= out.item() <= 1
    assert repr(loss_fn) == "DiceLoss(smooth=1.0, ignore_index=-100, reduction='mean')"


# --------------------------------------------------------------------------- errors (raised before any work)
def test_targets_out_of_range_raise_index_error_naming_the_values():
    x = tinynet.randn(4, 3)
    for fn in (F.cross_entropy, F.nll_loss):
        with pytest.raises(IndexError, match=r"Target 5 is out of bounds.*\[0, 2\].*values: 5, 7"):
            fn(x, _t([0, 5, 7, 1]))
        with pytest.raises(IndexError, match="Target -1 is out of bounds"):
            fn(x, _t([0, -1, 1, 1]))
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.dice_loss(tinynet.randn(1, 3, 2, 2), _t(np.array([[[0, 4], [1, 2]]])))


def test_target_dtype_errors():
    x = tinynet.randn(3, 4)
    with pytest.raises(RuntimeError, match="expected target dtype to be an integer type.*float32"):
        F.cross_entropy(x, tinynet.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="integer type.*bool"):
        F.nll_loss(x, tinynet.tensor([True, False, True]))
    with pytest.raises(RuntimeError, match="target must be floating point"):
        F.binary_cross_entropy_with_logits(x, tinynet.ones(3, 4, dtype=tinynet.int64))
    with pytest.raises(RuntimeError, match="ignore_index is not supported for floating point target"):
        F.cross_entropy(x, tinynet.rand(3, 4), ignore_index=1)
    with pytest.raises(TypeError, match="input must be a floating-point tensor"):
        F.cross_entropy(tinynet.tensor([[1, 2]]), tinynet.tensor([0]))


def test_target_shape_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        F.cross_entropy(tinynet.randn(3, 4), _t([0, 1]))
    with pytest.raises(
        RuntimeError, match=r"target shape \(3, 5\) does not fit input shape \(3, 4, 5, 6\).*\(3, 5, 6\)"
    ):
        F.cross_entropy(tinynet.randn(3, 4, 5, 6), tinynet.zeros(3, 5, dtype=tinynet.int64))
    with pytest.raises(ValueError, match=r"Target size \(\(3,\)\) must be the same as input size \(\(3, 1\)\)"):
        F.binary_cross_entropy_with_logits(tinynet.randn(3, 1), tinynet.rand(3))
    with pytest.raises(RuntimeError, match="must match"):
        F.mse_loss(tinynet.randn(3, 4), tinynet.randn(2, 4))
    with pytest.raises(ValueError, match="pos_weight of shape \\(3,\\) does not broadcast"):
        F.binary_cross_entropy_with_logits(tinynet.randn(2, 4), tinynet.rand(2, 4), pos_weight=tinynet.ones(3))


def test_argument_errors():
    x, t = tinynet.randn(3, 4), _t([0, 1, 2])
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        F.cross_entropy(x, t, reduction="avg")
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        nn.MSELoss(reduction="median")
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes.*\\[5\\]"):
        F.cross_entropy(x, t, weight=tinynet.ones(5))
    with pytest.raises(RuntimeError, match="weight has dtype float64 but input has dtype float32"):
        F.nll_loss(x, t, weight=tinynet.ones(4, dtype=tinynet.float64))
    with pytest.raises(ValueError, match="smooth must be a non-negative number"):
        F.dice_loss(tinynet.randn(1, 2, 2), _t(np.zeros((1, 2), dtype=np.int64)), smooth=-1)
    with pytest.raises(ValueError, match="Weights and input must have the same size"):
        F.mse_loss(x, x, weight=tinynet.ones(4))


def test_legacy_size_average_and_reduce_translate_like_torch(torch):
    x, t = tinynet.randn(3, 4), _t([0, 1, 2])
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        summed = F.cross_entropy(x, t, size_average=False)
    assert summed.item() == pytest.approx(F.cross_entropy(x, t, reduction="sum").item())
    with pytest.warns(UserWarning):
        assert nn.MSELoss(reduce=False).reduction == "none"
