"""The tape: ``Function``, its context, grad mode and the backward walk.

A differentiable operation is a subclass of :class:`Function` with two static
methods that work on **numpy arrays**, never on Tensors::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # x: np.ndarray
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):        # grad: dL/dy, same shape as y
            (y,) = ctx.saved_arrays
            return grad * y             # dL/dx

``Exp.apply(t)`` unwraps Tensor arguments to arrays, runs ``forward``, wraps the
result in a Tensor and, when gradients are wanted, records a node on the tape.
``backward`` returns one gradient per ``forward`` argument (``None`` for the
ones that are not Tensors or need no gradient), exactly as in PyTorch.

The graph holds *nodes* (contexts), not Tensors: a node remembers where each of
its inputs came from (another node's output, or a leaf Tensor) but not the
input's data, so intermediate activations live only as long as somebody saved
them with ``save_for_backward``. After a backward pass those saved arrays are
released unless ``retain_graph=True``.

Broadcasting is undone in exactly one place, :func:`unbroadcast`, which the
walk applies to every gradient before it reaches its input.

A tool that wants to watch every op of a forward pass (``tinynet.summary``)
registers a :class:`function_hook` instead of patching ``Function.apply``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import traceback
import weakref

import numpy as np

__all__ = [
    "Function",
    "Context",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
    "unbroadcast",
    "run_backward",
    "function_hook",
]


# --------------------------------------------------------------------------- grad mode
class _GradMode(threading.local):
    enabled = True
    anomaly = False
    hooks = ()  # the active function_hook guards, innermost last (see function_hook)


_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations are being recorded on the tape (per thread).

    Example:
        >>> import tinynet
        >>> with tinynet.no_grad():
        ...     tinynet.is_grad_enabled()
        False
    """
    return _mode.enabled


class _GradModeGuard(contextlib.ContextDecorator):
    """Sets the grad mode on ``__enter__`` and restores the previous one on ``__exit__``.

    Used as a decorator, each call gets a fresh guard (``_recreate_cm``), so a
    decorated function may recurse or run in several threads at once.
    """

    mode = True

    def __new__(cls, *args, **kwargs):
        # ``@no_grad`` without parentheses, as PyTorch allows.
        if cls is not set_grad_enabled and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    def __init__(self):
        self.prev = None

    def __enter__(self):
        self.prev = _mode.enabled
        _mode.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev
        return False

    def _recreate_cm(self):
        guard = object.__new__(type(self))
        guard.mode, guard.prev = self.mode, None
        return guard


class no_grad(_GradModeGuard):
    """Context manager (and decorator) under which no graph is recorded.

    Use it for evaluation and for parameter updates: inside it, leaves that
    require grad may be modified in place (``p -= lr * p.grad``).

    Example:
        >>> import tinynet
        >>> x = tinynet.ones(3, requires_grad=True)
        >>> with tinynet.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    mode = False


class enable_grad(_GradModeGuard):
    """Context manager (and decorator) that turns recording back on inside ``no_grad``.

    Example:
        >>> import tinynet
        >>> x = tinynet.ones(3, requires_grad=True)
        >>> with tinynet.no_grad():
        ...     with tinynet.enable_grad():
        ...         y = x * 2
        >>> y.requires_grad
        True
    """

    mode = True


class set_grad_enabled(_GradModeGuard):
    """Turn recording on or off: as a function call, a context manager or a decorator.

    As in PyTorch, the call itself sets the mode (``tinynet.set_grad_enabled(False)``
    switches recording off until switched on again); used in a ``with`` block
    the previous mode comes back at the end of the block.

    Args:
        mode: True to record operations on the tape, False not to.

    Example:
        >>> import tinynet
        >>> x = tinynet.ones(2, requires_grad=True)
        >>> with tinynet.set_grad_enabled(False):
        ...     y = x * 2
        >>> y.requires_grad, tinynet.is_grad_enabled()
        (False, True)
    """

    def __init__(self, mode: bool):
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {mode!r}")
        self.mode = bool(mode)
        self.prev = _mode.enabled
        _mode.enabled = self.mode

    def __enter__(self):
        if self.prev is None:  # a fresh guard made for one call of a decorated function
            self.prev = _mode.enabled
        _mode.enabled = self.mode
        return self

    def __call__(self, func):
        _mode.enabled = self.prev  # decorating must not change the mode now
        return super().__call__(func)


# --------------------------------------------------------------------------- anomaly mode
class AnomalyError(RuntimeError):
    """Raised in anomaly mode when an op produces a NaN or an infinity.

    Example:
        >>> import tinynet
        >>> from tinynet.autograd import AnomalyError, detect_anomaly
        >>> x = tinynet.tensor([0.0], requires_grad=True)
        >>> with detect_anomaly():
        ...     try:
        ...         x.sqrt().backward()  # d sqrt(x)/dx = inf at 0
        ...     except AnomalyError as e:
        ...         print(str(e).splitlines()[0])
        Sqrt backward produced inf in gradient 0 (shape (1,))
    """


def is_anomaly_enabled() -> bool:
    """True inside ``detect_anomaly()``.

    Example:
        >>> from tinynet.autograd import detect_anomaly, is_anomaly_enabled
        >>> with detect_anomaly():
        ...     inside = is_anomaly_enabled()
        >>> inside, is_anomaly_enabled()
        (True, False)
    """
    return _mode.anomaly


class detect_anomaly(contextlib.ContextDecorator):
    """Raise at the first NaN or inf produced by any op, forward or backward.

    Inside this context every node remembers the stack where it was created,
    and every forward output and backward gradient is checked. The error names
    the op and, for backward, the line of user code that created it.

    Example:
        >>> import tinynet
        >>> x = tinynet.tensor([-1.0], requires_grad=True)
        >>> with tinynet.autograd.detect_anomaly():
        ...     try:
        ...         x.log()
        ...     except tinynet.autograd.AnomalyError as e:
        ...         print(str(e).splitlines()[0])
        Log forward produced nan in output 0 (shape (1,))
    """

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self.prev = None

    def __enter__(self):
        self.prev = _mode.anomaly
        _mode.anomaly = bool(self.check_nan)
        return self

    def __exit__(self, *exc):
        _mode.anomaly = self.prev
        return False

    def _recreate_cm(self):
        return detect_anomaly(self.check_nan)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _CreationSite:
    """Where anomaly mode saw a node being made: the stack, the user's line and the tinynet call it made.

    The stack is kept as a ``StackSummary`` (file, line and function of each frame, no frame
    objects) and only formatted if an error needs it.
    """

    def __init__(self, stack: traceback.StackSummary):
        self.stack = stack
        frames = list(stack)
        # The innermost frame outside the tinynet package is the user's line; the frame
        # that called Function.apply is the public op (conv2d, sqrt, cross_entropy, ...).
        self.op = frames[-1].name if frames else "?"
        self.user = next((f for f in reversed(frames) if not f.filename.startswith(_PACKAGE_DIR)), None)

    def describe(self) -> str:
        if self.user is None:
            return f"in {self.op} (called from inside tinynet)"
        code = f"\n    {self.user.line}" if self.user.line else ""
        return f"in {self.op}, called at {self.user.filename}, line {self.user.lineno}{code}"

    def full_stack(self) -> str:
        return "".join(traceback.format_list(self.stack))


def _check_finite(arrays, what: str, fn_name: str, site: _CreationSite | None) -> None:
    for i, a in enumerate(arrays):
        if a is None or not isinstance(a, np.ndarray) or a.dtype.kind != "f":
            continue
        if not np.isfinite(a).all():
            bad = "nan" if np.isnan(a).any() else "inf"
            kind = "output" if what == "forward" else "gradient"
            msg = f"{fn_name} {what} produced {bad} in {kind} {i} (shape {a.shape})"
            if site is not None and what == "forward":
                msg += f"\nThe {fn_name} op ran {site.describe()}"
            elif site is not None:
                msg += f"\nThe {fn_name} node was created {site.describe()}"
                msg += f"\nFull stack where it was created:\n{site.full_stack()}"
            raise AnomalyError(msg)


# --------------------------------------------------------------------------- nodes
class Context:
    """What a ``Function`` remembers between forward and backward.

    Attributes set by the tape:
        needs_input_grad: one bool per forward argument.
    Functions may also store small Python values as attributes (``ctx.stride``);
    large arrays belong in :meth:`save_for_backward` so they are released after
    the backward pass.

    Example:
        >>> import tinynet
        >>> x = tinynet.tensor([1.0, -2.0], requires_grad=True)
        >>> y = x.relu()
        >>> ctx = y._node  # the Context of the ReLU node (internal: user code receives it as ``ctx``)
        >>> ctx.fn.__name__, ctx.needs_input_grad, [a.tolist() for a in ctx.saved_arrays]
        ('ReLU', (True,), [[1.0, 0.0]])
    """

    def __init__(self, fn: type, needs_input_grad: tuple):
        self.fn = fn
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        # Filled by Function.apply when the node joins the graph:
        self.parents = ()  # per argument: None, a leaf Tensor, or (node, output index)
        self.in_meta = ()  # per argument: (shape, dtype) of Tensor arguments, else None
        self.out_meta = ()  # per output: (shape, dtype)
        self.freed = False
        self.created_at = None
        # (version box, version, i) of arrays the node saved: argument i, or output -1 - i when i < 0
        self.versions = ()

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays (or anything) for ``backward``; released after it runs."""
        self._saved = arrays

    @property
    def saved_arrays(self) -> tuple:
        """What ``save_for_backward`` kept; raises once the graph has been freed."""
        if self.freed:
            raise _freed_error(self.fn.__name__)
        return self._saved

    # PyTorch's name, for people moving code across.
    saved_tensors = saved_arrays

    def release(self) -> None:
        """Drop the arrays the node holds; a later backward through it raises.

        A node that held no arrays (Add, Reshape, a slice) keeps working, so a
        second backward through it is fine, as in PyTorch.
        """
        dropped = any(a is not None for a in self._saved)
        self._saved = ()
        for name in [k for k, v in self.__dict__.items() if k not in _CONTEXT_FIELDS and _holds_array(v)]:
            del self.__dict__[name]
            dropped = True
        self.freed = self.freed or dropped


_CONTEXT_FIELDS = {
    "fn",
    "needs_input_grad",
    "_saved",
    "parents",
    "in_meta",
    "out_meta",
    "freed",
    "created_at",
    "versions",
}


def _holds_array(value) -> bool:
    if isinstance(value, (tuple, list)):
        return any(isinstance(v, np.ndarray) for v in value)
    return isinstance(value, np.ndarray)


def _freed_error(name: str) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (node {name}): its saved arrays were "
        "freed after the first backward. Specify retain_graph=True on the first backward() call "
        "if you need to backward through the graph again."
    )


class Function:
    """Base class of differentiable operations (see the module docstring).

    Subclass it with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)`` working
    on numpy arrays and call ``YourFunction.apply(...)`` on Tensors.

    Example:
        >>> import numpy as np
        >>> import tinynet
        >>> from tinynet.autograd import Function
        >>> class Cube(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         ctx.save_for_backward(x)
        ...         return x**3
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (x,) = ctx.saved_arrays
        ...         return 3 * x**2 * grad
        >>> x = tinynet.tensor([1.0, 2.0], requires_grad=True)
        >>> Cube.apply(x).sum().backward()
        >>> x.grad
        tensor([ 3., 12.])
    """

    @staticmethod
    def forward(ctx: Context, *args, **kwargs):
        """Compute the output array(s) from arrays; save what backward needs on ``ctx``."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, *grads):
        """Given dL/d(output) per output, return dL/d(input) per forward argument (None where not needed)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on the arrays of the Tensor arguments, wrap the outputs, and record a node.

        A node is recorded when grad mode is on and some Tensor argument requires
        grad; floating-point outputs then require grad, integer outputs never do.
        """
        Tensor = _tensor_class()
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        needs = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        record = _mode.enabled and any(needs)
        ctx = Context(cls, needs if record else (False,) * len(args))
        out = cls.forward(ctx, *raw, **kwargs)
        single = not isinstance(out, tuple)
        outs = [np.asarray(o) for o in ((out,) if single else out)]
        if _mode.anomaly:
            ctx.created_at = _CreationSite(traceback.extract_stack(limit=16)[:-1])
            _check_finite(outs, "forward", cls.__name__, ctx.created_at)
        inputs = [a for a in args if isinstance(a, Tensor)]
        results = [_wrap_output(Tensor, o, inputs) for o in outs]
        if record:
            ctx.parents = tuple(_parent_of(a, n) for a, n in zip(args, needs))
            ctx.in_meta = tuple((a.data.shape, a.data.dtype) if isinstance(a, Tensor) else None for a in args)
            ctx.out_meta = tuple((o.shape, o.dtype) for o in outs)
            ctx.versions = _saved_versions(ctx, args, Tensor)
            for i, t in enumerate(results):
                if t.data.dtype.kind == "f":  # integer outputs (indices) are not differentiable
                    t._requires_grad = True
                    t._node = ctx
                    t._out_idx = i
        output = results[0] if single else tuple(results)
        if _mode.hooks:  # the only cost of function_hook when none is active
            _call_function_hooks(cls, args, kwargs, output)
        return output


# --------------------------------------------------------------------------- observing the tape
class function_hook:
    """Context manager: call ``hook(fn, args, kwargs, output)`` after every ``Function.apply`` in this thread.

    ``fn`` is the :class:`Function` subclass, ``args`` and ``kwargs`` are what ``apply``
    received (Tensors and plain values such as a kernel size or index tables), and
    ``output`` is what it returns (a Tensor, or a tuple of Tensors). This is how a
    tool watches a forward pass op by op without patching anything: ``tinynet.summary``
    follows receptive fields through it. Like a PyTorch forward hook it runs after
    the op, in grad mode or not, and its return value is ignored.

    Hooks are per thread and nest: inside two blocks both hooks run, the outer one
    first. A hook is removed when its block ends, also by an exception. Operations a
    hook runs itself are not reported to any hook (no recursion). With no hook
    active, ``Function.apply`` pays one attribute check.

    Args:
        hook: a callable ``hook(fn, args, kwargs, output)``.

    Example:
        >>> import tinynet
        >>> from tinynet.autograd import function_hook
        >>> seen = []
        >>> with function_hook(lambda fn, args, kwargs, output: seen.append(fn.__name__)):
        ...     y = (tinynet.ones(2) * 3).relu()
        >>> seen
        ['Mul', 'ReLU']
    """

    def __init__(self, hook):
        if not callable(hook):
            raise TypeError(f"function_hook: hook must be callable, got {type(hook).__name__}")
        self.hook = hook

    def __enter__(self):
        _mode.hooks = _mode.hooks + (self,)
        return self

    def __exit__(self, *exc):
        # Remove this guard's latest entry, even if an inner block was left open.
        hooks = _mode.hooks
        at = max((i for i, h in enumerate(hooks) if h is self), default=None)
        if at is None:
            raise RuntimeError("function_hook: __exit__ without a matching __enter__ in this thread")
        _mode.hooks = hooks[:at] + hooks[at + 1 :]
        return False


def _call_function_hooks(fn: type, args: tuple, kwargs: dict, output) -> None:
    hooks = _mode.hooks
    _mode.hooks = ()  # ops run inside a hook are not observed
    try:
        for guard in hooks:
            guard.hook(fn, args, kwargs, output)
    finally:
        _mode.hooks = hooks


_Tensor = None


def _tensor_class() -> type:
    """``tinynet.tensor.Tensor``, imported on first use (tensor.py imports this module)."""
    global _Tensor
    if _Tensor is None:
        from tinynet.tensor import Tensor

        _Tensor = Tensor
    return _Tensor


def _shares_memory(a: np.ndarray, b: np.ndarray) -> bool:
    # Arrays that own their memory (no .base) overlap only if they are the same array.
    return a is b or ((a.base is not None or b.base is not None) and np.may_share_memory(a, b))


def _wrap_output(Tensor: type, array: np.ndarray, inputs: list):
    """Wrap a forward output; a view of an input shares the input's memory, version counter and base.

    ``t._base`` is the tensor that owns the memory (as in PyTorch). Unless the base is a leaf that
    requires grad (whose views may not be written while recording), the view is also listed in
    ``base._views`` so that a recorded in-place write through another view can give it the base's
    new history (see ``Tensor._write_recorded``).
    """
    t = Tensor._wrap(array)
    if array.base is not None:
        for a in inputs:
            if _shares_memory(array, a.data):
                t._version_box = a._version
                base = getattr(a, "_base", None)
                base = a if base is None else base
                t._base = base
                if getattr(a, "_no_grad_view", False) or (not _mode.enabled and base._requires_grad):
                    t._no_grad_view = True  # a recorded in-place write into it is refused (PyTorch's rule)
                if base._node is not None or not base._requires_grad:
                    base._view_list().append(weakref.ref(t))
                break
    return t


def _saved_versions(ctx: Context, args: tuple, Tensor: type) -> tuple:
    """The version of every Tensor argument whose memory the node saved, to detect later in-place writes.

    PyTorch's rule: modifying a saved input in place (``x.mul_(2)`` after ``y = w * x``)
    would make backward silently use the new values, so backward refuses instead.
    """
    saved = [s for s in ctx._saved if isinstance(s, np.ndarray)]
    if not saved:
        return ()
    return tuple(
        (a._version, a._version[0], i)
        for i, a in enumerate(args)
        if isinstance(a, Tensor) and any(_shares_memory(s, a.data) for s in saved)
    )


def protect_saved_output(tensor) -> None:
    """Before ``tensor`` is written in place: make its creator's backward refuse if it saved the old values.

    ``_saved_versions`` covers the inputs a node saved; a node that saved its own output
    (``exp``, ``sigmoid``) is protected here, at the (rare) in-place write, not on every op.
    """
    node = tensor._node
    if node is None or node.freed:
        return
    if any(isinstance(s, np.ndarray) and _shares_memory(s, tensor.data) for s in node._saved):
        box = tensor._version
        entry = (box, box[0], -1 - tensor._out_idx)
        if entry not in node.versions:
            node.versions = (*node.versions, entry)


def _parent_of(t, needs_grad: bool):
    if not needs_grad:
        return None
    if t._node is None:
        return t  # a leaf: its .grad receives the gradient
    return (t._node, t._out_idx)


# --------------------------------------------------------------------------- broadcasting
def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up.

    Broadcasting copies an array along new leading axes and along axes of
    length 1; the adjoint of a copy is a sum, so we sum over exactly those axes.

    Shape:
        grad (..., *B) with B broadcast from ``shape`` -> ``shape``.

    Example:
        >>> import numpy as np
        >>> from tinynet.autograd import unbroadcast
        >>> unbroadcast(np.ones((4, 2, 3)), (2, 1))
        array([[12.],
               [12.]])
    """
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {grad.shape} cannot reduce to input shape {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    g = grad.sum(axis=axes, keepdims=True) if axes else grad
    return g.reshape(shape)


# --------------------------------------------------------------------------- the walk
def _topological_order(root) -> list:
    """Nodes reachable from ``root`` with every node before the nodes it feeds from.

    Iterative depth-first search (a chain of 50,000 ops must not hit Python's
    recursion limit). Reversed post-order is a topological order of a DAG.
    """
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for p in node.parents:
            if isinstance(p, tuple) and id(p[0]) not in visited:
                stack.append((p[0], False))
    order.reverse()
    return order


def run_backward(tensor, gradient=None, retain_graph: bool = False) -> None:
    """Backpropagate from ``tensor`` and accumulate gradients into the leaves' ``.grad``.

    This is ``Tensor.backward``: the nodes are visited once each, in topological
    order (every node after all the nodes it feeds), so a node's output gradient
    is complete, summed over all its uses, before its ``backward`` runs.

    Args:
        tensor: where to start; needs ``gradient`` unless it has one element.
        gradient: dL/d(tensor), same shape as ``tensor``.
        retain_graph: keep the saved arrays for another backward through this graph.

    Example:
        >>> import tinynet
        >>> x = tinynet.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).backward(tinynet.tensor([1.0, 1.0]))
        >>> x.grad
        tensor([2., 4.])
    """
    Tensor = _tensor_class()

    if not tensor.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            "call backward() on a result computed from tensors with requires_grad=True"
        )
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; backward() on a tensor of "
                f"shape {tensor.shape} needs a gradient argument of that shape"
            )
        g = np.ones_like(tensor.data)
    else:
        if not isinstance(gradient, (Tensor, np.ndarray, int, float)):
            raise TypeError(f"backward: gradient must be a Tensor (or None), got {type(gradient).__name__}")
        g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if g.shape != tensor.data.shape:
            raise RuntimeError(f"backward: gradient has shape {g.shape} but the tensor has shape {tensor.shape}")
        g = g.astype(tensor.data.dtype, copy=False)

    if tensor._node is None:  # backward on a leaf: just accumulate
        _accumulate_leaf(tensor, g)
        return

    root = tensor._node
    grads = {id(root): [None] * len(root.out_meta)}
    grads[id(root)][tensor._out_idx] = g
    with no_grad():
        for node in _topological_order(root):
            out_grads = grads.pop(id(node), None)
            if out_grads is None or all(x is None for x in out_grads):
                if not retain_graph:
                    node.release()
                continue
            if node.freed:
                raise _freed_error(node.fn.__name__)
            for box, version, i in node.versions:
                if box[0] != version:
                    what = f"argument {i}" if i >= 0 else f"output {-1 - i}"
                    shape = node.in_meta[i][0] if i >= 0 else node.out_meta[-1 - i][0]
                    raise RuntimeError(
                        f"one of the arrays needed for gradient computation has been modified by an in-place "
                        f"operation: {what} of {node.fn.__name__} (shape {shape}) is at "
                        f"version {box[0]}; expected version {version}. Write out of place (y = x * 2) or "
                        "make the change after backward()"
                    )
            in_grads = node.fn.backward(node, *out_grads)
            if not isinstance(in_grads, tuple):
                in_grads = (in_grads,)
            if len(in_grads) != len(node.parents):
                raise RuntimeError(
                    f"{node.fn.__name__}.backward returned {len(in_grads)} gradients for "
                    f"{len(node.parents)} forward arguments"
                )
            if _mode.anomaly:
                _check_finite(in_grads, "backward", node.fn.__name__, node.created_at)
            for parent, meta, ig in zip(node.parents, node.in_meta, in_grads):
                if parent is None or ig is None:
                    continue
                shape, dtype = meta
                ig = np.asarray(ig)
                ig = unbroadcast(ig, shape)
                if ig.dtype != dtype:
                    ig = ig.astype(dtype)
                if isinstance(parent, tuple):
                    pnode, idx = parent
                    slot = grads.setdefault(id(pnode), [None] * len(pnode.out_meta))
                    slot[idx] = ig if slot[idx] is None else slot[idx] + ig
                else:
                    _accumulate_leaf(parent, ig)
            if not retain_graph:
                node.release()


def _accumulate_leaf(leaf, g: np.ndarray) -> None:
    Tensor = _tensor_class()

    if leaf.grad is None:
        # Own the memory: the same array may reach several leaves or be reused by a kernel.
        leaf.grad = Tensor._wrap(np.array(g, dtype=leaf.data.dtype, copy=True))
    else:
        np.add(leaf.grad.data, g, out=leaf.grad.data)
