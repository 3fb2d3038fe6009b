"""tinynet.autograd.function_hook: a tool watches every op of a forward pass without patching anything."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import autograd, nn
from tinynet import tensor_functions as ops
from tinynet.autograd import Function, function_hook
from tinynet.functional.pooling import MaxPool2dFn, WindowMean


def _recorder():
    calls = []

    def hook(fn, args, kwargs, output):
        calls.append((fn, args, kwargs, output))

    return calls, hook


def _names(calls):
    return [fn.__name__ for fn, *_ in calls]


# ----------------------------------------------------------------------------- what a hook sees
def test_the_hook_sees_every_op_with_its_arguments_and_output():
    x = tinynet.tensor([1.0, -2.0, 3.0], requires_grad=True)
    calls, hook = _recorder()
    with function_hook(hook):
        y = x * 2
        z = y.relu()
        s = z.sum()
    assert _names(calls) == ["Mul", "ReLU", "Sum"]
    fn, args, kwargs, output = calls[0]
    assert fn is ops.Mul and args[0] is x and args[1] == 2 and kwargs == {}
    assert [c[3] for c in calls] == [y, z, s] and all(a is b for a, b in zip([c[3] for c in calls], [y, z, s]))
    assert calls[1][1][0] is y  # the next op receives the very Tensor the hook saw come out


def test_the_node_is_recorded_before_the_hook_runs():
    x = tinynet.ones(2, requires_grad=True)
    seen = []
    with function_hook(lambda fn, args, kwargs, output: seen.append(output.grad_fn is not None)):
        x.exp()
        with tinynet.no_grad():
            x.exp()
    assert seen == [True, False]  # in grad mode or not, and the output is the one apply returns


def test_multi_output_ops_and_keyword_arguments_are_reported():
    x = tinynet.rand(1, 1, 4, 4)
    calls, hook = _recorder()
    with function_hook(hook):
        out, idx = F.max_pool2d(x, 2, return_indices=True)
        F.avg_pool2d(x, 3, stride=1, padding=1)
    (fn, args, _, output), (fn2, _, kwargs2, _) = calls
    assert fn is MaxPool2dFn and args[0] is x and args[1:5] == ((2, 2), (2, 2), (0, 0), (1, 1))
    assert isinstance(output, tuple) and output[0] is out and output[1] is idx
    assert fn2 is WindowMean and kwargs2 == {"window": ((3, 3), (1, 1), (1, 1))}


def test_a_user_defined_function_is_observed():
    class Double(Function):
        @staticmethod
        def forward(ctx, x):
            return 2 * x

        @staticmethod
        def backward(ctx, grad):
            return 2 * grad

    calls, hook = _recorder()
    with function_hook(hook):
        Double.apply(tinynet.ones(3))
    assert [c[0] for c in calls] == [Double]


def test_ops_run_by_a_hook_are_not_reported():
    calls, hook = _recorder()

    def busy(fn, args, kwargs, output):
        hook(fn, args, kwargs, output)
        (output * 0).sum()  # two more ops, inside the hook: no recursion, not reported

    with function_hook(busy):
        tinynet.ones(2).exp()
    assert _names(calls) == ["Exp"]


# ----------------------------------------------------------------------------- nesting and removal
def test_hooks_nest_outer_first_and_leave_with_their_block():
    order = []
    outer = function_hook(lambda fn, *_: order.append(("outer", fn.__name__)))
    inner = function_hook(lambda fn, *_: order.append(("inner", fn.__name__)))
    x = tinynet.ones(2)
    with outer:
        x.exp()
        with inner:
            x.log()
        x.sqrt()
    x.abs()
    assert order == [("outer", "Exp"), ("outer", "Log"), ("inner", "Log"), ("outer", "Sqrt")]
    assert autograd._mode.hooks == ()


def test_a_hook_is_removed_when_its_block_raises():
    calls, hook = _recorder()
    with pytest.raises(ValueError, match="inside"):
        with function_hook(hook):
            tinynet.ones(2).exp()
            raise ValueError("inside")
    tinynet.ones(2).exp()
    assert _names(calls) == ["Exp"] and autograd._mode.hooks == ()


def test_an_exception_in_the_hook_reaches_the_caller_and_removes_it():
    def broken(fn, args, kwargs, output):
        raise RuntimeError("hook failed")

    with pytest.raises(RuntimeError, match="hook failed"):
        with function_hook(broken):
            tinynet.ones(2).exp()
    assert autograd._mode.hooks == ()
    assert tinynet.ones(2).exp().shape == (2,)  # ops work as before


def test_blocks_left_out_of_order_remove_their_own_hook():
    a_calls, a = _recorder()
    b_calls, b = _recorder()
    first, second = function_hook(a), function_hook(b)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the outer block ends first: the inner hook stays
    tinynet.ones(2).exp()
    second.__exit__(None, None, None)
    tinynet.ones(2).exp()
    assert (len(a_calls), len(b_calls)) == (0, 1) and autograd._mode.hooks == ()
    with pytest.raises(RuntimeError, match="without a matching __enter__"):
        second.__exit__(None, None, None)


def test_a_hook_that_is_not_callable_is_refused():
    with pytest.raises(TypeError, match="function_hook: hook must be callable, got int"):
        function_hook(3)


# ----------------------------------------------------------------------------- threads
def test_hooks_belong_to_the_thread_that_registered_them():
    main_calls, main_hook = _recorder()
    thread_calls, thread_hook = _recorder()
    registered, main_done = threading.Event(), threading.Event()
    errors = []

    def worker():
        try:
            with function_hook(thread_hook):
                registered.set()
                main_done.wait(10)  # the main thread runs its ops while this hook is active
                tinynet.ones(2).log()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=worker)
    with function_hook(main_hook):
        t.start()
        registered.wait(10)
        tinynet.ones(2).exp()
        main_done.set()
        t.join(10)
    assert not errors
    assert _names(main_calls) == ["Exp"]  # not the worker's Log
    assert _names(thread_calls) == ["Log"]  # not the main thread's Exp


# ----------------------------------------------------------------------------- summary reads the geometry from the hook
class _Functional(nn.Module):
    """The module's op called as a function inside a custom forward."""

    def __init__(self, op):
        super().__init__()
        self.op = op

    def forward(self, x):
        return self.op(x)


_W = tinynet.ones(1, 1, 3, 3)
_PAIRS = {
    "conv2d": (lambda x: F.conv2d(x, _W, stride=2, padding=1, dilation=2), nn.Conv2d(1, 1, 3, 2, 1, 2, bias=False)),
    "conv_transpose2d": (
        lambda x: F.conv_transpose2d(x, _W, stride=2, padding=1),
        nn.ConvTranspose2d(1, 1, 3, 2, 1, bias=False),
    ),
    "conv1d": (lambda x: F.conv1d(x, _W[:, :, 0], stride=2, padding=1), nn.Conv1d(1, 1, 3, 2, 1, bias=False)),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1), nn.AvgPool2d(3, 2, 1)),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 4)), nn.AdaptiveAvgPool2d((3, 4))),
    "interpolate": (
        lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
        nn.Upsample(scale_factor=2, mode="bilinear"),
    ),
    "pixel_shuffle": (lambda x: F.pixel_shuffle(x.expand(1, 4, 11, 11), 2), None),
}


@pytest.mark.parametrize("name", sorted(_PAIRS))
def test_functional_ops_get_the_fields_of_their_modules(name):
    """The hook reports the op's own geometry (conv's, the pool's window, the resampling tables)."""
    op, module = _PAIRS[name]
    shape = (1, 1, 11) if name == "conv1d" else (1, 1, 11, 11)
    functional = tinynet.summary(_Functional(op), shape, show_start=True).layers[0]
    assert functional.rf_known
    if module is None:  # pixel shuffle: output o reads input o // 2
        assert functional.receptive_field == (1, 1) and functional.jump == (0.5, 0.5)
        return
    reference = tinynet.summary(module, shape, show_start=True).layers[0]
    assert (functional.receptive_field, functional.jump, functional.start) == (
        reference.receptive_field,
        reference.jump,
        reference.start,
    )
    for (lo, hi), (ref_lo, ref_hi) in zip(functional.rf_bounds, reference.rf_bounds):
        assert np.array_equal(lo, ref_lo) and np.array_equal(hi, ref_hi)


def test_max_unpooling_follows_the_window_of_the_pool_that_made_its_switches():
    def pool_unpool(x):
        return F.max_unpool2d(*F.max_pool2d(x, 3, 2, 1, return_indices=True), 3, 2, 1, output_size=(10, 10))

    s = tinynet.summary(_Functional(pool_unpool), (1, 1, 10, 10))
    # pool: r 3, j 2; its transpose adds (3 - 1) * 1 at jump 1: r 5, j 1
    assert s.layers[0].receptive_field == (5, 5) and s.layers[0].jump == (1, 1)

    def unpool_own_indices(x):
        indices = tinynet.tensor(np.arange(25).reshape(1, 1, 5, 5) * 2 % 100)
        return F.max_unpool2d(x[:, :, ::2, ::2], indices, 2, output_size=(10, 10))

    s = tinynet.summary(_Functional(unpool_own_indices), (1, 1, 10, 10))
    assert not s.layers[0].rf_known  # switches of unknown origin: "?" rather than a guess


def test_convolve2d_is_a_convolution_for_the_summary():
    s = tinynet.summary(_Functional(lambda x: F.convolve2d(x, _W, padding=1)), (1, 1, 8, 8))
    assert s.layers[0].receptive_field == (3, 3) and s.layers[0].jump == (1, 1)
