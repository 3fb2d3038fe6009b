"""The tape: accumulation, reuse, depth, freeing, grad modes, memory, the Function API and anomaly mode."""

from __future__ import annotations

import gc
import threading
import weakref

import numpy as np
import pytest

import tinynet
from tinynet.autograd import AnomalyError, Function, detect_anomaly, unbroadcast
from tinynet.testing import adjoint_check


@pytest.fixture
def no_gc():
    """Run a test with the cycle collector off: what dies must die by reference counting alone."""
    gc.collect()
    gc.disable()
    yield
    gc.enable()


def f64(*values, requires_grad=True):
    return tinynet.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------ accumulation and reuse
def test_grad_accumulates_across_backward_calls_like_pytorch():
    x = f64(1.0, 2.0)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data + 3)
    x.grad.zero_()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_setting_grad_to_none_starts_afresh():
    x = f64(1.0)
    (x * 5).sum().backward()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.item() == 2.0


def test_leaf_used_many_times_gets_the_summed_gradient():
    x = f64(0.5, -2.0)
    y = x * x * x + x + x.exp() - x  # x appears five times
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2 + np.exp(x.data))


def test_intermediate_node_used_many_times_gets_the_summed_gradient():
    # Diamond: h feeds both branches, and h itself is used twice in one of them.
    x = f64(0.3, 1.7)
    h = x.tanh()
    loss = (h * h + h.sigmoid() + h).sum()
    loss.backward()
    t = np.tanh(x.data)
    s = 1 / (1 + np.exp(-t))
    np.testing.assert_allclose(x.grad.data, (2 * t + s * (1 - s) + 1) * (1 - t * t))


def test_only_inputs_that_require_grad_receive_gradients():
    w = f64(2.0)
    c = f64(3.0, requires_grad=False)
    (w * c).sum().backward()
    assert w.grad.item() == 3.0
    assert c.grad is None


def test_a_chain_of_50000_ops_backpropagates_without_recursion():
    x = f64(1.0)
    y = x
    for _ in range(25_000):
        y = y * 1.00001
        y = y + 0.5
    y.backward()
    assert x.grad.item() == pytest.approx(1.00001**25_000, rel=1e-9)


def test_backward_on_a_leaf_accumulates_the_given_gradient():
    x = f64(1.0, 2.0)
    x.backward(tinynet.tensor([3.0, 4.0], dtype=tinynet.float64))
    np.testing.assert_array_equal(x.grad.data, [3.0, 4.0])


def test_backward_accepts_a_gradient_of_the_output_shape():
    x = f64(1.0, 2.0, 3.0)
    (x * x).backward(tinynet.tensor([1.0, 0.0, -1.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, 0.0, -6.0])


# ------------------------------------------------------------ freeing
def test_second_backward_through_a_freed_graph_mentions_retain_graph():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_backward_and_gradients_add_up():
    x = f64(1.0, 2.0)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * first)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_graph_that_saved_nothing_can_backward_twice_as_in_pytorch():
    x = f64(1.0, 2.0)
    y = (x + 1).reshape(2, 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_saved_arrays_are_released_after_backward(no_gc):
    x = tinynet.randn(1000, requires_grad=True)
    y = x.exp()  # Exp saves its output
    saved = weakref.ref(y.data)
    loss = y.sum()
    del y
    assert saved() is not None, "the graph should hold what Exp saved until backward"
    loss.backward()
    assert saved() is None, "backward must release the saved arrays"


def test_retain_graph_keeps_saved_arrays(no_gc):
    x = tinynet.randn(10, requires_grad=True)
    y = x.exp()
    saved = weakref.ref(y.data)
    loss = y.sum()
    del y
    loss.backward(retain_graph=True)
    assert saved() is not None
    del loss
    assert saved() is None, "dropping the last reference to the graph frees it"


def _one_training_step(w: tinynet.Tensor, x: tinynet.Tensor, refs: list) -> None:
    h = (x @ w).relu()
    p = h.softmax(dim=1)
    loss = (p * p).mean() + h.var()
    refs.extend(weakref.ref(o) for o in (h, p, loss, h.grad_fn, p.grad_fn, loss.grad_fn))
    loss.backward()


def test_thousand_iterations_leave_no_graph_alive(no_gc):
    """With the cycle collector off, every tensor and node of an iteration dies when the iteration ends."""
    tinynet.manual_seed(0)
    w = tinynet.randn(4, 3, requires_grad=True)
    x = tinynet.randn(5, 4)
    for _ in range(1000):
        refs = []
        _one_training_step(w, x, refs)
        assert all(r() is None for r in refs), "a graph object outlived its iteration (a reference cycle?)"
        with tinynet.no_grad():
            w -= 0.01 * w.grad
        w.grad = None


def test_no_reference_cycles_in_a_graph(no_gc):
    x = tinynet.randn(3, requires_grad=True)
    y = (x * 2).exp().sum()
    node = weakref.ref(y.grad_fn)
    del y
    assert node() is None


# ------------------------------------------------------------ in-place writes after forward
def test_in_place_write_to_a_saved_input_makes_backward_raise():
    w = f64(1.0, 2.0)
    x = f64(3.0, 4.0, requires_grad=False)
    loss = (w * x).sum()  # Mul saved x to compute w's gradient
    x.mul_(10)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation: argument 1 of Mul.*version 1"):
        loss.backward()


def test_in_place_write_to_an_input_that_was_not_saved_is_fine_as_in_pytorch():
    w = f64(1.0, 2.0)
    x = f64(3.0, 4.0, requires_grad=False)
    loss = (w + x).sum()  # Add saves nothing
    x.mul_(10)
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, [1.0, 1.0])


def test_in_place_writes_through_views_and_detach_are_seen():
    for make_alias in (lambda t: t.detach(), lambda t: t.reshape(-1), lambda t: t.T):
        w = tinynet.ones(2, 2, dtype=tinynet.float64, requires_grad=True)
        loss = (w * w).sum()
        with tinynet.no_grad():
            make_alias(w).add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an in-place operation"):
            loss.backward()


def test_parameter_update_after_backward_is_fine():
    w = f64(1.0, 2.0)
    for _ in range(3):
        loss = (w * w).sum()
        loss.backward()
        with tinynet.no_grad():
            w.sub_(w.grad, alpha=0.25)
        w.grad = None
    np.testing.assert_allclose(w.data, [0.125, 0.25])


# ------------------------------------------------------------ grad modes
def test_no_grad_records_nothing():
    x = f64(1.0, 2.0)
    with tinynet.no_grad():
        y = (x * 2).exp()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_keeps_no_saved_arrays(no_gc):
    x = tinynet.randn(100, requires_grad=True)
    with tinynet.no_grad():
        y = x.exp()
        z = y * 2
    saved = weakref.ref(y.data)
    del y
    assert z.grad_fn is None
    assert saved() is None


def test_enable_grad_inside_no_grad_records():
    x = f64(2.0)
    with tinynet.no_grad():
        with tinynet.enable_grad():
            y = x * x
        z = x * x
    assert y.requires_grad and not z.requires_grad
    y.backward()
    assert x.grad.item() == 4.0


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with tinynet.no_grad():
            raise ValueError("boom")
    assert tinynet.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses():
    @tinynet.no_grad()
    def f():
        return tinynet.is_grad_enabled()

    @tinynet.no_grad
    def g():
        return tinynet.is_grad_enabled()

    assert f() is False and g() is False
    assert tinynet.is_grad_enabled()


def test_decorated_function_may_recurse():
    @tinynet.no_grad()
    def depth(n):
        return 0 if n == 0 else 1 + depth(n - 1)

    assert depth(5) == 5
    assert tinynet.is_grad_enabled(), "a recursive no_grad function must restore grad mode"


def test_set_grad_enabled_as_call_context_and_decorator():
    tinynet.set_grad_enabled(False)
    assert not tinynet.is_grad_enabled()
    tinynet.set_grad_enabled(True)
    assert tinynet.is_grad_enabled()
    with tinynet.set_grad_enabled(False):
        assert not tinynet.is_grad_enabled()
    assert tinynet.is_grad_enabled()

    @tinynet.set_grad_enabled(False)
    def f():
        return tinynet.is_grad_enabled()

    assert tinynet.is_grad_enabled(), "decorating must not change the mode"
    assert f() is False and tinynet.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with tinynet.no_grad():
        t = threading.Thread(target=lambda: seen.append(tinynet.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_requires_grad_only_on_floating_point():
    with pytest.raises(RuntimeError, match="only floating-point"):
        tinynet.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="only floating-point"):
        tinynet.arange(3).requires_grad_()
    assert tinynet.tensor([1.0], requires_grad=True).requires_grad
    x = f64(1.0, 2.0)
    assert not (x > 1).requires_grad
    assert not x.argmax().requires_grad
    assert not x.max(dim=0).indices.requires_grad


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf():
    y = f64(1.0) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_detach_cuts_the_tape_and_shares_memory():
    x = f64(1.0, 2.0)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    y = x.detach()
    y.data[0] = 5.0
    assert x.data[0] == 5.0


# ------------------------------------------------------------ errors
def test_backward_on_a_non_scalar_without_gradient_raises():
    y = f64(1.0, 2.0) * 2
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape_raises():
    y = f64(1.0, 2.0) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the tensor has shape \(2,\)"):
        y.backward(tinynet.ones(3))


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tinynet.ones(2).sum().backward()


# ------------------------------------------------------------ dtypes on the tape
def test_float32_graph_gives_float32_gradients():
    w = tinynet.randn(3, 2, requires_grad=True)
    x = tinynet.randn(4, 3)
    loss = (x @ w).tanh().mean()
    loss.backward()
    assert loss.dtype == np.float32 and w.grad.dtype == np.float32


def test_gradient_is_cast_back_to_each_inputs_dtype():
    a = tinynet.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = tinynet.tensor([3.0, 4.0], dtype=tinynet.float64, requires_grad=True)
    y = a * b  # float64, as in PyTorch
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])


def test_cast_between_float_dtypes_is_differentiable():
    x = tinynet.tensor([1.5, 2.5], requires_grad=True)
    x.double().pow(2).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [3.0, 5.0])


# ------------------------------------------------------------ broadcasting is undone in one place
def test_unbroadcast_sums_leading_and_stretched_axes():
    g = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), g.sum(axis=(0, 2)).reshape(3, 1))
    np.testing.assert_array_equal(unbroadcast(g, ()), g.sum())
    assert unbroadcast(g, (2, 3, 4)) is g


def test_broadcasting_backward_is_the_adjoint_of_broadcasting():
    assert adjoint_check(lambda x: x.expand(3, 2, 4), (2, 1))
    assert adjoint_check(lambda x: x + tinynet.zeros(2, 5, 3, dtype=tinynet.float64), (5, 1))


# ------------------------------------------------------------ the Function API
class ScaleAndSplit(Function):
    """forward(x, k) -> (k*x, integer argmax): two outputs, one of them integer, and a non-Tensor argument."""

    calls = []

    @staticmethod
    def forward(ctx, x, k, *, offset=0.0):
        ctx.k = k
        return k * x + offset, np.argmax(x, keepdims=True)

    @staticmethod
    def backward(ctx, grad_y, grad_idx):
        ScaleAndSplit.calls.append((ctx.needs_input_grad, grad_idx))
        return grad_y * ctx.k, None


def test_function_gets_arrays_non_tensor_args_and_keywords_pass_through():
    x = f64(1.0, 3.0, 2.0)
    y, idx = ScaleAndSplit.apply(x, 2.0, offset=1.0)
    np.testing.assert_array_equal(y.data, [3.0, 7.0, 5.0])
    assert idx.dtype == np.int64 and not idx.requires_grad, "integer outputs are not differentiable"
    ScaleAndSplit.calls.clear()
    y.sum().backward()
    assert ScaleAndSplit.calls == [((True, False), None)], "needs_input_grad per argument; None for idle outputs"
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0, 2.0])


class TwoFloatOutputs(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g2, g3):
        out = np.zeros_like(g2 if g2 is not None else g3)
        if g2 is not None:
            out = out + 2 * g2
        if g3 is not None:
            out = out + 3 * g3
        return out


def test_function_with_several_outputs_gets_one_gradient_per_output():
    x = f64(1.0)
    a, b = TwoFloatOutputs.apply(x)
    (a + b).backward()
    assert x.grad.item() == 5.0
    x.grad = None
    a, b = TwoFloatOutputs.apply(x)
    b.backward()  # a got no gradient: backward receives None for it
    assert x.grad.item() == 3.0


class WrongArity(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


def test_backward_returning_the_wrong_number_of_gradients_raises():
    with pytest.raises(RuntimeError, match="returned 2 gradients for 1 forward arguments"):
        WrongArity.apply(f64(1.0)).sum().backward()


def test_needs_input_grad_lets_backward_skip_work():
    a, b = f64(1.0, 2.0), f64(3.0, 4.0, requires_grad=False)
    y = a * b
    assert y.grad_fn.needs_input_grad == (True, False)


# ------------------------------------------------------------ anomaly mode
def test_detect_anomaly_names_the_forward_op():
    x = f64(-1.0)
    with detect_anomaly(), pytest.raises(AnomalyError, match="Log forward produced nan"):
        x.log()


def test_detect_anomaly_names_the_backward_op_and_where_it_was_created():
    x = f64(0.0)
    with detect_anomaly():
        y = x.sqrt()  # fine forward (0), infinite gradient backward
        with pytest.raises(AnomalyError, match="Sqrt backward produced inf") as info:
            y.backward()
    assert "test_autograd.py" in str(info.value)


def test_anomaly_mode_is_off_by_default_and_restored():
    x = f64(-1.0)
    with detect_anomaly():
        pass
    assert np.isnan(x.log().item())
