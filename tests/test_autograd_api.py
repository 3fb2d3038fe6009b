"""PyTorch's autograd API, side by side with torch 2.13: tensor hooks, retain_grad, backward(inputs=...),
autograd.grad, create_graph (Hessian-vector products), the errors, and testing.gradgradcheck.

Most tests run one scenario twice, once with tinynet and once with torch, through the same few calls
(``tensor``, ``grad``, ``no_grad``), and compare everything the scenario observed: gradients, what the
hooks saw, flags, and the type of any error. The ``*_regression`` tests pin deviations from torch that
were found and fixed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinynet
from tinynet.autograd import Function
from tinynet.autograd import grad as tn_grad
from tinynet.tensor_functions import Exp
from tinynet.testing import GradcheckError, gradcheck, gradgradcheck


class _Api:
    """The handful of calls a scenario makes, for one framework."""

    def __init__(self, lib, grad):
        self.lib, self.grad, self.no_grad = lib, grad, lib.no_grad

    def t(self, values, requires_grad: bool = False):
        return self.lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


TN = _Api(tinynet, tn_grad)


def _plain(value):
    """What a scenario observed, as numpy arrays, tuples and plain values (the same for both frameworks)."""
    if isinstance(value, tinynet.Tensor):
        return ("tensor", value.data.dtype.name, value.data.copy())
    if type(value).__name__ == "Tensor":  # torch.Tensor, without importing torch here
        array = value.detach().numpy()
        return ("tensor", array.dtype.name, array.copy())
    if isinstance(value, (tuple, list)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _assert_same(a, b, path="result"):
    if isinstance(a, tuple) and a[:1] == ("tensor",):
        assert isinstance(b, tuple) and b[:1] == ("tensor",), f"{path}: tinynet gave a tensor, torch {b!r}"
        assert a[1] == b[1], f"{path}: dtype {a[1]} vs torch's {b[1]}"
        np.testing.assert_allclose(a[2], b[2], rtol=1e-12, atol=1e-12, err_msg=path)
    elif isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), f"{path}: {a!r} vs torch's {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), f"{path}: keys {sorted(a)} vs torch's {sorted(b)}"
        for k in a:
            _assert_same(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, f"{path}: {a!r} vs torch's {b!r}"


def _error(fn) -> str:
    """The class name of the error ``fn()`` raises, or 'no error'."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type is what is compared
        return type(e).__name__
    return "no error"


def same_as_torch(torch, scenario):
    """Run ``scenario(api)`` with tinynet and with torch; assert that both observed the same things."""
    mine = _plain(scenario(TN))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's reference-cycle note on backward(create_graph=True)
        theirs = _plain(scenario(_Api(torch, torch.autograd.grad)))
    _assert_same(mine, theirs)
    return mine


small_arrays = arrays(np.float64, st.integers(1, 4), elements=st.floats(-2, 2, allow_subnormal=False))


# ------------------------------------------------------------------------------------ tensor hooks
@given(small_arrays)
def test_a_hook_on_a_leaf_replaces_the_gradient_that_reaches_grad(torch, values):
    def scenario(api):
        x = api.t(values, True)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()) or g * 3)
        (x * x).sum().backward()
        return seen, x.grad

    same_as_torch(torch, scenario)


@given(small_arrays)
def test_a_hook_on_a_non_leaf_replaces_the_gradient_that_flows_on(torch, values):
    def scenario(api):
        x = api.t(values, True)
        y = x * x
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()) or g * -2)
        (y * 5).sum().backward()
        return seen, x.grad, y.grad is None

    same_as_torch(torch, scenario)


def test_several_hooks_run_in_registration_order_each_on_the_last_ones_result(torch):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x * 2
        seen = []
        for t, name in ((x, "leaf"), (y, "non-leaf")):
            t.register_hook(lambda g, n=name: seen.append((n, "first", g.clone())) or g * 2)
            t.register_hook(lambda g, n=name: seen.append((n, "second", g.clone())))  # observes only
            t.register_hook(lambda g, n=name: seen.append((n, "third", g.clone())) or g + 1)
        (y * y).sum().backward()
        return seen, x.grad

    seen = same_as_torch(torch, scenario)[0]
    assert [s[:2] for s in seen][:3] == [("non-leaf", "first"), ("non-leaf", "second"), ("non-leaf", "third")]


def test_a_removed_hook_no_longer_runs_and_removing_twice_is_harmless(torch):
    def scenario(api):
        x = api.t([1.0, -1.0], True)
        y = x * 3
        calls = []
        h_leaf = x.register_hook(lambda g: calls.append("leaf") or g * 10)
        h_y = y.register_hook(lambda g: calls.append("y") or g * 100)
        y.sum().backward(retain_graph=True)
        first = x.grad.clone()
        h_leaf.remove()
        h_y.remove()
        h_leaf.remove()
        y.sum().backward()
        return calls, first, x.grad

    calls = same_as_torch(torch, scenario)[0]
    assert calls == ("y", "leaf")


@given(small_arrays)
def test_a_hook_sees_the_whole_summed_gradient_of_a_tensor_used_twice(torch, values):
    def scenario(api):
        x = api.t(values, True)
        y = x.exp()
        seen = []
        x.register_hook(lambda g: seen.append(("x", g.clone())))
        y.register_hook(lambda g: seen.append(("y", g.clone())))
        (y * x + y * y + x).sum().backward()  # x and y are each used three times
        return seen, x.grad

    seen = same_as_torch(torch, scenario)[0]
    assert [s[0] for s in seen] == ["y", "x"]  # once each, with the sum of every use


@pytest.mark.parametrize(
    "bad_hook, kind",
    [
        (lambda g: g.sum(), "another shape"),
        (lambda g: g[:1], "another length"),
        (lambda g: g.float(), "another dtype"),
        (lambda g: 3.0, "not a Tensor"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
@pytest.mark.parametrize("on", ["leaf", "non-leaf"])
def test_a_hook_returning_the_wrong_shape_dtype_or_type_raises_like_torch(torch, bad_hook, kind, on):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x * 2
        (x if on == "leaf" else y).register_hook(bad_hook)
        return _error(lambda: (y * y).sum().backward())

    error = same_as_torch(torch, scenario)
    assert error == ("TypeError" if kind == "not a Tensor" else "RuntimeError")


def test_hook_changing_the_dtype_raises_regression():
    # Before the fix a float32 gradient from a float64 tensor's hook was silently cast back.
    x = tinynet.tensor([1.0, 2.0], dtype=tinynet.float64, requires_grad=True)
    x.register_hook(lambda g: g.float())
    with pytest.raises(RuntimeError, match="hook on a leaf tensor returned a gradient of dtype float32"):
        (x * x).sum().backward()


def test_register_hook_on_a_leaf_made_by_tensor_works_regression():
    # Tensor has __slots__: register_hook on a plain leaf raised AttributeError ('no attribute __dict__').
    x = tinynet.tensor([1.0, 2.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 2)
    (x * 1).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    handle.remove()


def test_hooks_and_retain_grad_of_a_tensor_off_the_path_to_the_inputs_do_not_run_regression(torch):
    # Before the fix they ran: the walk visited every node that received a gradient, needed or not.
    def scenario(api):
        x, w = api.t([1.0, 2.0], True), api.t([3.0, 4.0], True)
        y = w * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.clone()))
        y.retain_grad()
        (x * 3 + y).sum().backward(inputs=[x])
        (g,) = api.grad((x * 3 + y).sum(), x)
        return seen, y.grad, x.grad, g

    seen, y_grad = same_as_torch(torch, scenario)[:2]
    assert seen == () and y_grad is None


def test_register_hook_on_a_tensor_that_does_not_require_grad_raises(torch):
    same_as_torch(torch, lambda api: _error(lambda: api.t([1.0]).register_hook(lambda g: g)))
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        tinynet.ones(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="hook must be callable"):
        tinynet.ones(2, requires_grad=True).register_hook(3)


# ------------------------------------------------------------------------------------ retain_grad
@given(small_arrays)
def test_retain_grad_keeps_a_non_leaf_gradient_and_accumulates_it_across_backwards(torch, values):
    def scenario(api):
        x = api.t(values, True)
        y = x.tanh()
        y.retain_grad()
        (y * y).sum().backward(retain_graph=True)
        first = y.grad.clone()
        (y * 3).sum().backward()
        return first, y.grad, x.grad, y.retains_grad

    same_as_torch(torch, scenario)


def test_retain_grad_on_a_leaf_changes_nothing(torch):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        x.retain_grad()
        (x * x).sum().backward()
        return x.retains_grad, x.grad, x.is_leaf

    same_as_torch(torch, scenario)


@pytest.mark.parametrize("hook_first", [True, False])
def test_the_retained_gradient_is_the_one_after_every_hook(torch, hook_first):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x * 2
        if hook_first:
            y.register_hook(lambda g: g * 10)
        y.retain_grad()
        if not hook_first:
            y.register_hook(lambda g: g * 10)
        (y * 1).sum().backward()
        return y.grad, x.grad

    same_as_torch(torch, scenario)


def test_retain_grad_also_fills_grad_during_autograd_grad(torch):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x * 2
        y.retain_grad()
        (g,) = api.grad((y * y).sum(), x)
        return g, y.grad, x.grad

    same_as_torch(torch, scenario)


def test_retain_grad_on_a_tensor_that_does_not_require_grad_raises(torch):
    same_as_torch(torch, lambda api: _error(lambda: api.t([1.0]).retain_grad()))


# ------------------------------------------------------------------------------------ backward(inputs=...)
def test_backward_inputs_fills_only_the_listed_leaves(torch):
    def scenario(api):
        a, b, c = api.t([1.0, 2.0], True), api.t([3.0, -1.0], True), api.t([0.5, 0.5], True)
        loss = (a * b * c).sum()
        loss.backward(inputs=[a, c], retain_graph=True)
        first = (a.grad.clone(), b.grad, c.grad.clone())
        loss.backward(inputs=b)  # a single Tensor is accepted too
        return first, a.grad, b.grad, c.grad

    same_as_torch(torch, scenario)


def test_backward_inputs_with_a_non_leaf_fills_its_grad_and_not_the_leaves_behind_it(torch):
    def scenario(api):
        x, w = api.t([1.0, 2.0], True), api.t([-1.0, 3.0], True)
        y = x * w
        z = (y * y).sum()
        z.backward(inputs=[y, w], retain_graph=True)
        return y.grad, w.grad, x.grad

    same_as_torch(torch, scenario)


def test_backward_inputs_makes_a_non_leaf_retain_its_grad_regression(torch):
    # torch calls retain_grad() on every input of backward(): a later plain backward fills y.grad too.
    # Before the fix tinynet stored the gradient once and y.retains_grad stayed False.
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x * 2
        (y * y).sum().backward(inputs=[y], retain_graph=True)
        flag = y.retains_grad
        (y * y).sum().backward()
        return flag, y.grad, x.grad

    assert same_as_torch(torch, scenario)[0] is True


def test_backward_inputs_runs_the_hooks_of_the_inputs_only(torch):
    def scenario(api):
        x, w = api.t([1.0, 2.0], True), api.t([1.0, 1.0], True)
        seen = []
        x.register_hook(lambda g: seen.append("x"))
        w.register_hook(lambda g: seen.append("w") or g * 2)
        (x * w).sum().backward(inputs=[w])
        return seen, x.grad, w.grad

    same_as_torch(torch, scenario)


@pytest.mark.parametrize("use_grad", [False, True])
def test_nodes_not_needed_for_the_inputs_keep_their_saved_arrays_regression(torch, use_grad):
    # Before the fix the walk freed every node it reached, so a.sum().backward() raised afterwards.
    def scenario(api):
        x, w = api.t([1.0, 2.0], True), api.t([0.5, 1.0], True)
        a = w.exp()  # saves its output; not on the path to x
        z = (a + x).sum()
        if use_grad:
            api.grad(z, x)
        else:
            z.backward(inputs=[x])
        a.sum().backward()
        return w.grad, x.grad

    same_as_torch(torch, scenario)


@pytest.mark.parametrize(
    "call",
    [
        lambda api, x, c: (x * c).sum().backward(inputs=[c]),  # an input that does not require grad
        lambda api, x, c: (x * c).sum().backward(inputs=[]),
        lambda api, x, c: c.sum().backward(),  # an output that does not require grad
        lambda api, x, c: (x * c).backward(),  # no gradient for a non-scalar
        lambda api, x, c: (x * c).backward(api.t([1.0, 1.0, 1.0])),  # a gradient of the wrong shape
    ],
    ids=["input-without-grad", "no-inputs", "output-without-grad", "non-scalar", "gradient-shape"],
)
def test_backward_errors_are_runtime_errors_like_torch(torch, call):
    def scenario(api):
        x, c = api.t([1.0, 2.0], True), api.t([1.0, 1.0])
        return _error(lambda: call(api, x, c))

    assert same_as_torch(torch, scenario) == "RuntimeError"


# ------------------------------------------------------------------------------------ autograd.grad
@given(small_arrays)
def test_grad_returns_a_tuple_and_leaves_grad_untouched(torch, values):
    def scenario(api):
        x = api.t(values, True)
        x2 = api.t(values * 2, True)
        result = api.grad((x * x * x2).sum(), [x, x2])
        single = api.grad((x * x).sum(), x)
        return type(result).__name__, result, type(single).__name__, len(single), x.grad, x2.grad

    same_as_torch(torch, scenario)


@pytest.mark.parametrize("unused", ["leaf", "non-leaf"])
def test_grad_allow_unused(torch, unused):
    def scenario(api):
        x, u = api.t([1.0, 2.0], True), api.t([3.0], True)
        v = x * 4
        target = u if unused == "leaf" else v
        out = (x * x).sum()
        error = _error(lambda: api.grad(out, [x, target], retain_graph=True))
        return error, api.grad(out, [x, target], allow_unused=True)

    error, (g, none) = same_as_torch(torch, scenario)
    assert error == "RuntimeError" and none is None


def test_grad_outputs_weight_several_outputs(torch):
    def scenario(api):
        x, w = api.t([1.0, -2.0, 0.5], True), api.t([2.0, 1.0, 3.0], True)
        y1, y2 = x * w, (x * x).sum()
        v1 = api.t([1.0, 10.0, 100.0])
        return api.grad([y1, y2], [x, w], grad_outputs=[v1, None])

    same_as_torch(torch, scenario)


def test_grad_with_respect_to_non_leaf_inputs(torch):
    # With a hook on y: torch's engine returns y's gradient after the hooks when nothing beyond y is
    # wanted, and before them when the node that made y runs anyway (x is wanted too).
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x * 2
        y.register_hook(lambda g: g * 10)
        z = (y * y).sum()
        alone = api.grad(z, y, retain_graph=True)
        with_x = api.grad(z, [y, x], retain_graph=True)
        return alone, with_x, api.grad(z, [x, y, x])

    alone, with_x, _ = same_as_torch(torch, scenario)
    np.testing.assert_allclose(alone[0][2], [40.0, 80.0])
    np.testing.assert_allclose(with_x[0][2], [4.0, 8.0])  # captured before the hook
    np.testing.assert_allclose(with_x[1][2], [80.0, 160.0])  # but the hook changed what flowed on to x


def test_grad_frees_the_graph_unless_retain_graph(torch):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x.exp()  # saves its output
        kept = api.grad(y.sum(), x, retain_graph=True)
        again = api.grad(y.sum(), x)
        return kept, again, _error(lambda: api.grad(y.sum(), x))

    assert same_as_torch(torch, scenario)[2] == "RuntimeError"


def test_a_graph_without_saved_arrays_can_be_walked_twice(torch):
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        y = x + x  # Add saves nothing
        return api.grad(y.sum(), x), api.grad(y.sum(), x)

    same_as_torch(torch, scenario)


@pytest.mark.parametrize(
    "call",
    [
        lambda api, x, c: api.grad((x * c).sum(), c),  # an input that does not require grad
        lambda api, x, c: api.grad(c.sum(), x),  # an output that does not require grad
        lambda api, x, c: api.grad(x * c, x),  # no grad_outputs for a non-scalar output
        lambda api, x, c: api.grad(x * c, x, grad_outputs=api.t([1.0, 1.0, 1.0])),  # mismatched shape
        lambda api, x, c: api.grad(x * c, x, grad_outputs=api.t([1.0])),  # broadcastable is not enough
        lambda api, x, c: api.grad([x * c, x.sum()], x, grad_outputs=[api.t([1.0, 1.0])]),  # one too few
    ],
    ids=["input-without-grad", "output-without-grad", "non-scalar", "shape", "broadcast", "count"],
)
def test_grad_errors_are_runtime_errors_like_torch(torch, call):
    def scenario(api):
        x, c = api.t([1.0, 2.0], True), api.t([1.0, 1.0])
        return _error(lambda: call(api, x, c))

    assert same_as_torch(torch, scenario) == "RuntimeError"


def test_grad_error_messages_name_the_argument():
    x = tinynet.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"grad: grad_outputs\[0\] has shape \(3,\) but output 0 has shape \(2,\)"):
        tn_grad(x * 2, x, grad_outputs=tinynet.ones(3))
    with pytest.raises(RuntimeError, match=r"grad\(\) on output 0 of shape \(2,\) needs grad_outputs\[0\]"):
        tn_grad(x * 2, x)
    with pytest.raises(RuntimeError, match=r"grad: input 0 \(shape \(2,\)\) does not require grad"):
        tn_grad((x * 2).sum(), tinynet.ones(2))
    with pytest.raises(TypeError, match="grad: inputs must be a Tensor or a sequence of Tensors"):
        tn_grad((x * 2).sum(), [x, 3])


def test_is_leaf_grad_fn_and_retains_grad_flags_match_torch(torch):
    def scenario(api):
        a, b = api.t([1.0]), api.t([1.0], True)
        c, d = b * 2, a * 2
        with api.no_grad():
            e = b * 2
        flags = [(t.is_leaf, t.grad_fn is None, t.requires_grad) for t in (a, b, c, d, e, c.detach())]
        names = [t.grad_fn.name() for t in (b * b, b + b, b - b, b / 2, b.exp(), b**2, (b * b).sum())]
        return flags, names, c.retains_grad

    same_as_torch(torch, scenario)


# ------------------------------------------------------------------------------------ create_graph
def _elementwise(x):
    return (x * x * x * x.exp() / (1 + x * x)).sum() + x.sum() * x.sum()


@given(small_arrays)
def test_create_graph_gives_x_grad_a_history(torch, values):
    def scenario(api):
        x = api.t(values, True)
        _elementwise(x).backward(create_graph=True)
        return x.grad, x.grad.requires_grad, x.grad.grad_fn is not None, x.grad.is_leaf

    same_as_torch(torch, scenario)


@given(small_arrays, small_arrays)
def test_hessian_vector_product_of_an_elementwise_function(torch, values, direction):
    v_values = np.resize(direction, values.shape)

    def scenario(api):
        x = api.t(values, True)
        (g,) = api.grad(_elementwise(x), x, create_graph=True)
        (hv,) = api.grad((g * api.t(v_values)).sum(), x)
        _elementwise(x).backward(create_graph=True)  # the same through .grad
        (x.grad * api.t(v_values)).sum().backward(inputs=[x])
        return g, hv, x.grad

    g, hv, _ = same_as_torch(torch, scenario)
    # and against the closed form: H = diag(h''(x)) + 2·11ᵀ with h(x) = x³eˣ/(1+x²)
    x = values
    n, d = x**3 * np.exp(x), 1 + x**2
    dn, dd = (3 * x**2 + x**3) * np.exp(x), 2 * x
    ddn, ddd = (6 * x + 6 * x**2 + x**3) * np.exp(x), 2.0
    h2 = (ddn * d - n * ddd) / d**2 - 2 * dd * (dn * d - n * dd) / d**3
    np.testing.assert_allclose(hv[2], h2 * v_values + 2 * v_values.sum(), rtol=1e-9, atol=1e-12)


def test_grad_accumulates_out_of_place_under_create_graph(torch):
    def scenario(api):
        x = api.t([0.5, -1.0], True)
        (x * x * x).sum().backward(create_graph=True)
        first = x.grad
        (x * x * x).sum().backward(create_graph=True)  # 3x² + 3x², still on the tape
        (hessian_diagonal,) = api.grad(x.grad.sum(), x, retain_graph=True)  # 12x
        y = api.t([0.5, -1.0], True)
        (y * y).sum().backward()  # a plain gradient first, then one with a history
        (y * y * y).sum().backward(create_graph=True)
        return first, x.grad, x.grad is first, hessian_diagonal, y.grad, y.grad.requires_grad

    same_as_torch(torch, scenario)


def test_a_first_order_backward_adds_into_a_grad_with_history_in_place_regression(torch):
    # torch adds in place outside create_graph, also into a .grad made with create_graph=True: it keeps
    # its history. Before the fix tinynet replaced it by a new tensor without one.
    def scenario(api):
        x = api.t([1.0, 2.0], True)
        (x * x * x).sum().backward(create_graph=True)
        before = x.grad
        (x * x).sum().backward()
        (hessian_diagonal,) = api.grad(x.grad.sum(), x)  # the history is still that of 3x²
        return x.grad, x.grad is before, x.grad.requires_grad, hessian_diagonal

    same_as_torch(torch, scenario)


def test_accumulating_into_a_grad_that_a_node_saved_makes_its_backward_refuse_regression(torch):
    # The in-place accumulation is counted like any in-place write; before the fix a node that had
    # saved x.grad silently used the accumulated values.
    def scenario(api):
        x, w = api.t([1.0, 2.0], True), api.t([1.0, 3.0], True)
        (x * x).sum().backward()
        z = (w * x.grad).sum()  # saves x.grad
        (x * x).sum().backward()
        return _error(z.backward), w.grad

    assert same_as_torch(torch, scenario)[0] == "RuntimeError"


def test_create_graph_retains_the_graph_and_its_hooks_see_gradients_with_a_history(torch):
    def scenario(api):
        x = api.t([0.3, 0.7], True)
        seen = []
        x.register_hook(lambda g: seen.append(g.requires_grad))
        y = x.exp().sum()
        y.backward(create_graph=True)
        y.backward()  # retain_graph defaults to create_graph
        return seen, x.grad

    same_as_torch(torch, scenario)


def test_without_create_graph_nothing_is_recorded(torch):
    def scenario(api):
        x = api.t([0.3, 0.7], True)
        (x * x * x).sum().backward()
        (g,) = api.grad((x * x * x).sum(), x)
        return x.grad.requires_grad, x.grad.grad_fn is None, g.requires_grad

    same_as_torch(torch, scenario)


def test_the_second_derivative_with_respect_to_grad_outputs(torch):
    def scenario(api):
        x = api.t([0.3, -0.7, 1.1], True)
        v = api.t([1.0, 2.0, -1.0], True)
        (g,) = api.grad(x.exp() * x, x, grad_outputs=v, create_graph=True)
        return api.grad((g * g).sum(), [x, v])

    same_as_torch(torch, scenario)


def test_a_float32_second_derivative_stays_float32(torch):
    x = tinynet.tensor(np.array([0.3, -0.7], dtype=np.float32), requires_grad=True)
    (g,) = tn_grad((x * x * x.exp()).sum(), x, create_graph=True)
    (h,) = tn_grad(g.sum(), x)
    xt = torch.tensor(np.array([0.3, -0.7], dtype=np.float32), requires_grad=True)
    (gt,) = torch.autograd.grad((xt * xt * xt.exp()).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad(gt.sum(), xt)
    assert g.dtype == h.dtype == np.float32
    np.testing.assert_allclose(h.data, ht.numpy(), rtol=1e-5)


# ------------------------------------------------------------------------------------ gradgradcheck
class _Cube(Function):
    """x³ with a backward written in ops: its second derivative is right."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return 3 * x * x * grad


class _CubeWithADetachedInput(_Cube):
    """x³ whose backward uses the saved input as a constant: first derivative right, second wrong."""

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        x = x.detach()  # the mistake: 3x² no longer depends on x on the tape
        return 3 * x * x * grad


def _x64(*values):
    return tinynet.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_gradgradcheck_passes_on_a_function_whose_backward_is_made_of_ops():
    assert gradgradcheck(lambda t: _Cube.apply(t), [_x64(0.5, -1.2, 2.0)])
    assert gradgradcheck(lambda a, b: (a.exp() * b * b).sum(), [_x64(0.1, 0.4), _x64(-0.3, 0.8)])


def test_gradgradcheck_catches_a_backward_that_detaches_a_saved_input():
    x = _x64(0.5, -1.2, 2.0)
    assert gradcheck(lambda t: _CubeWithADetachedInput.apply(t), [x])  # the first derivative is right
    with pytest.raises(GradcheckError, match="gradcheck failed for input 0"):
        gradgradcheck(lambda t: _CubeWithADetachedInput.apply(t), [x])


def test_gradgradcheck_catches_a_backward_computed_on_the_saved_array():
    class ExpOnTheArray(Exp):  # wraps the saved output's array: a constant for the second derivative
        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_arrays
            return grad * tinynet.tensor(y)

    x = _x64(0.5, -1.2, 2.0)
    assert gradcheck(lambda t: ExpOnTheArray.apply(t), [x])
    with pytest.raises(GradcheckError, match="gradcheck failed for input 0"):
        gradgradcheck(lambda t: ExpOnTheArray.apply(t), [x])


# ------------------------------------------------------------------------------------ second derivatives of conv nets
def _conv_net(F, x, w1, b1, w2, b2):
    """conv 3x3 (stride 2) -> tanh -> conv 3x3 (dilation 2): the network of the Hessian-vector product."""
    return F.conv2d(F.conv2d(x, w1, b1, stride=2, padding=1).tanh(), w2, b2, padding=2, dilation=2)


@settings(max_examples=6)  # each example is a few full double backwards in both frameworks
@given(st.integers(0, 2**16))
def test_hessian_vector_product_of_a_small_conv_net_matches_torch(torch, seed):
    rng = np.random.default_rng(seed)
    shapes = [(2, 2, 7, 7), (3, 2, 3, 3), (3,), (2, 3, 3, 3), (2,)]
    arrays = [rng.standard_normal(s) * (0.5 if len(s) > 1 else 0.1) for s in shapes]
    target, direction = rng.standard_normal((2, 2, 4, 4)), [rng.standard_normal(s) for s in shapes[1:]]

    def hvp(lib, F, grad):
        x, *params = [lib.tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays)]
        loss = ((_conv_net(F, x, *params) - lib.tensor(target)) ** 2).mean()
        first = grad(loss, params, create_graph=True)
        return grad(sum((g * lib.tensor(d)).sum() for g, d in zip(first, direction)), params)

    mine = hvp(tinynet, tinynet.nn.functional, tn_grad)
    theirs = hvp(torch, torch.nn.functional, torch.autograd.grad)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-8, atol=1e-12)


@settings(max_examples=6)
@given(st.integers(0, 2**16))
def test_gradient_penalty_on_a_conv_critic_matches_torch(torch, seed):
    rng = np.random.default_rng(seed)
    real, fake = rng.standard_normal((3, 1, 8, 8)), rng.standard_normal((3, 1, 8, 8))
    mix = rng.uniform(size=(3, 1, 1, 1))
    weights = [rng.standard_normal(s) * 0.3 for s in [(4, 1, 4, 4), (4,), (1, 4, 3, 3), (1,)]]

    def critic_loss_gradients(lib, F, grad):
        w1, b1, w2, b2 = [lib.tensor(w, requires_grad=True) for w in weights]

        def critic(x):
            h = F.leaky_relu(F.conv2d(x, w1, b1, stride=2, padding=1), 0.2)
            return F.conv2d(h, w2, b2, stride=2, padding=1).mean(dim=(1, 2, 3))

        x_hat = (lib.tensor(mix) * lib.tensor(real) + (1 - lib.tensor(mix)) * lib.tensor(fake)).requires_grad_()
        (g,) = grad(critic(x_hat).sum(), x_hat, create_graph=True)
        penalty = (((g * g).sum(dim=(1, 2, 3)) + 1e-12).sqrt() - 1) ** 2
        loss = critic(lib.tensor(fake)).mean() - critic(lib.tensor(real)).mean() + 10 * penalty.mean()
        loss.backward()
        return [w1.grad, b1.grad, w2.grad, b2.grad]

    mine = critic_loss_gradients(tinynet, tinynet.nn.functional, tn_grad)
    theirs = critic_loss_gradients(torch, torch.nn.functional, torch.autograd.grad)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-8, atol=1e-12)
