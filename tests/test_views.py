"""Views write through, as in PyTorch, and the bugs of issue 16, each against torch 2.13.

Every test runs the same code with ``lib`` = tinynet and ``lib`` = torch and compares what comes out:
values, gradients, dtypes, or the error. The random version of these checks is test_fuzz_torch.py.
"""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tinynet

torch = pytest.importorskip("torch")
LIBS = (tinynet, torch)


def _np(t) -> np.ndarray:
    if t is None:
        return None
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(ours, theirs, rtol=1e-6):
    a, b = _np(ours), _np(theirs)
    assert (a is None) == (b is None)
    if a is not None:
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", ""), (a, b)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-6, equal_nan=True)


def both(fn):
    """fn(lib) -> a tuple of tensors/arrays; compared element by element."""
    ours, theirs = fn(tinynet), fn(torch)
    for a, b in zip(ours, theirs, strict=True):
        _same(a, b)


# ------------------------------------------------------------ writes through views (issue 16, item 1)
def test_writes_into_indexed_results_reach_the_base():
    def run(lib):
        x = lib.zeros(2, 3)
        x[0][1] = 5.0
        x[1].fill_(7.0)
        x[:, 2].zero_()
        return (x,)

    both(run)


def test_a_view_sees_later_writes_to_its_base():
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        v, t, r, e = x[1], x.T, x.view(3, 2), x[None, ..., 1]
        x[1, 0] = -1.0
        return v, t, r, e

    both(run)


@pytest.mark.parametrize(
    "make_view",
    [
        lambda x: x[1],
        lambda x: x[:, 1:3],
        lambda x: x[..., None, 0],
        lambda x: x.T,
        lambda x: x.transpose(0, 1),
        lambda x: x.permute(1, 0),
        lambda x: x.view(12),
        lambda x: x.reshape(3, 4),
        lambda x: x.unsqueeze(0),
        lambda x: x[None].squeeze(0),
        lambda x: x.expand(1, 3, 4)[0],
        lambda x: x[1:, ::2].T[1],
    ],
    ids=[
        "int",
        "slices",
        "ellipsis-none",
        "T",
        "transpose",
        "permute",
        "view",
        "reshape",
        "unsqueeze",
        "squeeze",
        "expand-no-stretch",
        "chain",
    ],
)
def test_every_view_kind_writes_through_like_torch(make_view):
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        v = make_view(x)
        v.mul_(10.0)
        v.add_(1.0)
        return x, v

    both(run)


def test_under_no_grad_a_view_of_a_parameter_updates_it():
    def run(lib):
        w = lib.ones(2, 3, requires_grad=True)
        with lib.no_grad():
            w[0].mul_(3)
        return (w,)

    both(run)


def test_advanced_indexing_stays_a_copy():
    def run(lib):
        x = lib.arange(6.0)
        a, m = x[[1, 2]], x[x > 3]
        a.zero_()
        m.zero_()
        return x, a, m

    both(run)


def test_reshape_copies_where_a_view_is_impossible_and_view_refuses():
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        r = x.T.reshape(6)
        r.zero_()
        return x, r

    both(run)
    for lib in LIBS:
        with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
            lib.arange(6.0).reshape(2, 3).T.view(6)


def test_writing_into_an_expanded_tensor_is_refused_like_torch():
    for lib in LIBS:
        e = lib.ones(3, 1).expand(3, 4)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single"):
            e.add_(1.0)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor refers to a single"):
            e[0].copy_(lib.zeros(4))

    def run(lib):  # where no two elements share memory, or for a constant, torch writes through
        x = lib.arange(3.0).reshape(3, 1)
        e = x.expand(3, 4)
        e[:, 1].mul_(2.0)
        e[2].fill_(-1.0)
        return x, e

    both(run)


def test_an_in_place_write_into_an_empty_view_is_allowed_like_torch():
    # Regression: a zero-size view can report a 0 stride, and the overlap check took it for an
    # expanded tensor (`zeros(0, 2, 3, 3)[:, :, :1, :1] += ...` raised; torch writes nothing).
    def run(lib):
        leaf = lib.zeros(0, 2, 3, 3, requires_grad=True)
        x = leaf.clone()
        v = x[:, :, :1, :1]
        v += lib.ones(0, 2, 1, 1)
        x.sum().backward()
        e = lib.zeros(1, 3).expand(0, 3)
        e.add_(1.0)
        return x, leaf.grad, e

    both(run)


def test_a_view_of_a_leaf_that_requires_grad_refuses_in_place_writes_like_torch():
    for lib in LIBS:
        w = lib.ones(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used in an"):
            w[0].mul_(2)


def test_in_place_through_a_view_of_a_non_leaf_rewrites_the_history_like_torch():
    def run(lib):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        b = a * 2
        earlier = b[:, 1]  # a view taken before the write: it must see the new history too
        b[0].mul_(a[1])
        b[1, 2] = a[0, 0] * 7
        loss = (b * b).sum() + (earlier**3).sum()
        loss.backward()
        return a.grad, b, earlier

    both(run)


def test_in_place_on_a_non_leaf_and_writing_a_value_that_requires_grad_like_torch():
    def run(lib):
        w = lib.tensor([1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)
        h = w.exp()  # exp saved its output: writing into h must make exp's backward refuse
        out = lib.zeros(2, 3, dtype=lib.float64)
        out[0] = w * 2
        out[1, 1:] = w[:2]
        out.add_(w)
        y = w * 3
        y.sub_(w * w, alpha=0.5)
        y.div_(2.0)
        (out.sum() + (y * y).sum()).backward()
        h.mul_(2)
        return w.grad, out, y, h

    both(run)
    for lib in LIBS:
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        h = w.exp()
        h.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            h.sum().backward()


def test_the_version_counter_is_shared_by_views():
    for lib in LIBS:
        w = lib.ones(4, dtype=lib.float64, requires_grad=True)
        x = lib.ones(4, dtype=lib.float64)
        loss = (w * x).sum()  # Mul saved x
        x[1:3].mul_(2)  # a write through a view of x
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            loss.backward()


def test_setitem_with_masks_and_indices_keeps_working():
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3)
        x[x > 3] = 0.0
        x[0, 1] = 5
        x[:, [0, 2]] = lib.tensor([-1.0, -2.0])
        return (x,)

    both(run)


# ------------------------------------------------------------ numerical and dtype bugs (issue 16, item 2)
def test_std_backward_is_zero_where_the_std_is_zero():
    def run(lib):
        x = lib.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], dtype=lib.float64, requires_grad=True)
        x.std(dim=1).sum().backward()
        y = lib.tensor([3.0, 3.0], requires_grad=True)
        y.std(correction=0).backward()
        return x.grad, y.grad

    both(run)


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_and_min_send_the_gradient_to_the_nans(reduce):
    def run(lib):
        nan = float("nan")
        x = lib.tensor([1.0, nan, 3.0, nan], requires_grad=True)
        getattr(x, reduce)().backward()
        y = lib.tensor([[1.0, nan, 3.0], [2.0, 5.0, 1.0]], requires_grad=True)
        values, indices = getattr(y, reduce)(dim=1)
        values.sum().backward()
        return x.grad, values, indices, y.grad

    both(run)


@pytest.mark.parametrize("depth", [1, 2])
def test_a_view_made_under_no_grad_refuses_a_recorded_inplace_write(depth):
    # b[:2] *= a[:2] would change b's gradient; a view made under no_grad has no history to rewrite
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        b = a * 2
        with lib.no_grad():
            v = b[:2]
        if depth == 2:
            v = v[1:]  # a view of that view inherits the rule
        with pytest.raises(RuntimeError, match="created in no_grad mode and is being modified inplace"):
            v.mul_(a[: v.shape[0]])
        with lib.no_grad():
            v.mul_(3.0)  # both inside no_grad: allowed, not recorded
        b.sum().backward()
        return a.grad, b

    both(run)


def test_division_by_zero_gives_inf_and_nan_without_a_warning():
    def run(lib):
        x = lib.tensor([1.0, 0.0, -2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # PyTorch is silent; numpy would warn
            y = x / lib.tensor([0.0, 0.0, 1.0])
            y.sum().backward()
            ints = lib.tensor([0, 1]) / lib.tensor([0, 0])
        return y, x.grad, ints

    both(run)


def test_relu_passes_the_gradient_at_a_nan_input_and_stops_it_at_zero():
    def run(lib):
        x = lib.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
        x.relu().backward(lib.tensor([1.0, 2.0, 3.0, 4.0]))
        return x.grad

    both(run)


def test_comparisons_with_a_0d_float64_tensor_follow_the_0d_rule():
    def run(lib):
        x = lib.tensor([0.1, 0.2, 0.3])
        s = lib.tensor(0.1, dtype=lib.float64)
        return x == s, x > s, x <= s, x != s, lib.tensor([1, 2]) < lib.tensor(1.5, dtype=lib.float64)

    both(run)


def test_cross_entropy_with_probability_targets_differentiates_the_class_weight():
    rng = np.random.default_rng(0)
    logits, probs = rng.standard_normal((4, 3, 2)), rng.dirichlet(np.ones(3), size=(4, 2)).transpose(0, 2, 1)

    def run(lib, logits_grad):
        x = lib.tensor(logits, requires_grad=logits_grad)
        w = lib.tensor([1.0, 2.0, 0.5], dtype=lib.float64, requires_grad=True)
        lib.nn.functional.cross_entropy(x, lib.tensor(probs), weight=w, label_smoothing=0.1).backward()
        return w.grad, x.grad

    both(lambda lib: run(lib, True))
    both(lambda lib: run(lib, False))  # only the weight requires grad


def test_cross_entropy_with_class_indices_refuses_a_weight_that_requires_grad_like_torch():
    for lib in LIBS:
        w = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="cannot have requires_grad True"):
            lib.nn.functional.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 2]), weight=w)


def test_integer_sums_are_int64_and_uint8_wraps_python_ints():
    def run(lib):
        u = lib.tensor([200, 100], dtype=lib.uint8)
        v = u.clone()
        v.add_(-1)
        return u.sum(), lib.tensor([True, True]).sum(), u + (-1), u - 300, u * 3, u > -1, v

    both(run)


# ------------------------------------------------------------ names (issue 16, item 3)
def test_summary_is_a_callable_module():
    from tinynet import nn
    from tinynet.summary import summary

    net = nn.Linear(3, 2)
    assert str(tinynet.summary(net, (1, 3))) == str(tinynet.summary.summary(net, (1, 3))) == str(summary(net, (1, 3)))


def test_lazy_names_resolve_after_a_plain_import():
    code = (
        "import tinynet; tinynet.models.EncoderDecoder; tinynet.metrics.mean_iou; tinynet.data.datasets.Shapes; "
        "tinynet.summary.summary; tinynet.viz.plot_segmentation"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
