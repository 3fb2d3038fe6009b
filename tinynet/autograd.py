"""The tape: ``Function``, its context, grad mode and the backward walk.

A differentiable operation is a subclass of :class:`Function`. Its ``forward`` works on
**numpy arrays**; its ``backward`` works on **Tensors**, with tinynet's own ops::

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):            # x: np.ndarray
            y = np.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):        # grad: Tensor, dL/dy, the shape of y
            (y,) = ctx.saved_tensors    # y as a Tensor on the tape (the output of this node)
            return grad * y             # dL/dx, a Tensor

``Exp.apply(t)`` unwraps Tensor arguments to arrays, runs ``forward``, wraps the
result in a Tensor and, when gradients are wanted, records a node on the tape.
``backward`` returns one gradient per ``forward`` argument (``None`` for the
ones that are not Tensors or need no gradient), exactly as in PyTorch.

Because a backward is made of ops, it can itself be recorded: ``backward(create_graph=True)``
and :func:`grad` with ``create_graph=True`` run every node's backward with the tape on, so
the gradients they return are Tensors with a history, and differentiating them again gives
second derivatives (Hessian-vector products, gradient penalties). Otherwise the walk runs
under ``no_grad`` and the same ops cost what numpy costs. ``ctx.saved_tensors`` is what
makes this work: an array a node saved that *is* one of its inputs comes back as that input
Tensor, and one that is its output comes back as the output on the tape, so the second
derivative flows through them; any other saved array (indices, masks) comes back as a
constant.

The graph holds *nodes* (contexts), not Tensors: a node remembers where each of
its inputs came from (another node's output, or a leaf Tensor) but not the
input's data, so intermediate activations live only as long as somebody saved
them with ``save_for_backward``. After a backward pass those saved arrays are
released unless ``retain_graph=True`` (the default when ``create_graph=True``).

Broadcasting is undone in exactly one place, :func:`unbroadcast`, which the
walk applies to every gradient before it reaches its input.

Tensor hooks (``Tensor.register_hook``, ``Tensor.retain_grad``) see a tensor's whole
gradient before it is used. A tool that wants to watch every op of a forward pass
(``tinynet.summary``) registers a :class:`function_hook` instead of patching ``Function.apply``.
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
    "grad",
    "function_hook",
    "RemovableHandle",
]


# --------------------------------------------------------------------------- grad mode
class _GradMode(threading.local):
    enabled = True
    anomaly = False
    hooks = ()  # the active function_hook guards, innermost last (see function_hook)
    # True while a first-order backward runs: its ops record nothing and make only transient
    # gradients, so Function.apply skips the bookkeeping of views and observers (see _walk).
    plain_backward = False


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

    # Defaults, set per node only when they change (a node is made for every op, recorded or not):
    _saved = ()
    _saved_from = ()  # per saved item: None, an input Tensor, or the index of an output
    hooks = None  # {output index: [hook, ...]} of Tensor.register_hook on non-leaf outputs
    retained = None  # {output index: weakref to the Tensor} of Tensor.retain_grad
    # Filled by Function.apply when the node joins the graph:
    parents = ()  # per argument: None, a leaf Tensor, or (node, output index)
    in_meta = ()  # per argument: (shape, dtype) of Tensor arguments, else None
    out_meta = ()  # per output: (shape, dtype)
    freed = False
    created_at = None
    # (version box, version, i) of arrays the node saved: argument i, or output -1 - i when i < 0
    versions = ()

    def __init__(self, fn: type, needs_input_grad: tuple):
        self.fn = fn
        self.needs_input_grad = needs_input_grad

    def save_for_backward(self, *arrays) -> None:
        """Keep arrays (or anything) for ``backward``; released after it runs."""
        self._saved = arrays

    @property
    def saved_arrays(self) -> tuple:
        """What ``save_for_backward`` kept, as it was kept (arrays); raises once the graph has been freed."""
        if self.freed:
            raise _freed_error(self.fn.__name__)
        return self._saved

    @property
    def saved_tensors(self) -> tuple:
        """What ``save_for_backward`` kept, as Tensors that a higher derivative can flow through.

        A saved array that is an input argument's data comes back as that input Tensor; one that
        is an output of this node comes back as the output on the tape; any other array (indices,
        masks, a value derived in forward) comes back as a constant Tensor. Non-arrays (shapes,
        None) come back unchanged.
        """
        if self.freed:
            raise _freed_error(self.fn.__name__)
        Tensor = _tensor_class()
        out = []
        for item, source in zip(self._saved, self._saved_from or (None,) * len(self._saved)):
            if isinstance(source, int):  # output `source` of this very node
                t = Tensor._wrap(item)
                if item.dtype.kind == "f" and self.parents:
                    t._requires_grad, t._node, t._out_idx = True, self, source
                out.append(t)
            elif source is not None:  # the input Tensor itself
                out.append(source)
            else:
                out.append(Tensor._wrap(item) if isinstance(item, np.ndarray) else item)
        return tuple(out)

    def name(self) -> str:
        """PyTorch's name of the node: ``'MulBackward0'`` for a node made by ``Mul``."""
        return f"{self.fn.__name__}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object>"

    def release(self) -> None:
        """Drop the arrays the node holds; a later backward through it raises.

        A node that held no arrays (Add, Reshape, a slice) keeps working, so a
        second backward through it is fine, as in PyTorch.
        """
        dropped = any(a is not None for a in self._saved)
        self._saved = ()
        self._saved_from = ()
        for name in [k for k, v in self.__dict__.items() if k not in _CONTEXT_FIELDS and _holds_array(v)]:
            del self.__dict__[name]
            dropped = True
        self.freed = self.freed or dropped


_CONTEXT_FIELDS = {
    "fn",
    "needs_input_grad",
    "_saved",
    "_saved_from",
    "hooks",
    "retained",
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

    Subclass it with a static ``forward(ctx, *args)`` working on numpy arrays and a static
    ``backward(ctx, *grads)`` working on Tensors, and call ``YourFunction.apply(...)`` on
    Tensors. A backward written with tinynet's ops is differentiable in its turn
    (``create_graph=True``); one that returns numpy arrays still serves first derivatives.

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
        ...         (x,) = ctx.saved_tensors
        ...         return 3 * x**2 * grad
        >>> x = tinynet.tensor([1.0, 2.0], requires_grad=True)
        >>> Cube.apply(x).sum().backward(create_graph=True)
        >>> x.grad
        tensor([ 3., 12.], grad_fn=<AddBackward0>)
        >>> (hessian_diagonal,) = tinynet.autograd.grad(x.grad.sum(), x)  # d(3x²)/dx = 6x
        >>> hessian_diagonal
        tensor([ 6., 12.])
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
        Tensor = _Tensor or _tensor_class()
        raw = [a.data if isinstance(a, Tensor) else a for a in args]
        if _mode.plain_backward:  # inside a backward without create_graph: grad mode is off
            out = cls.forward(Context(cls, (False,) * len(args)), *raw, **kwargs)
            if isinstance(out, tuple):
                return tuple(Tensor._wrap(np.asarray(o)) for o in out)
            return Tensor._wrap(out if isinstance(out, np.ndarray) else np.asarray(out))
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
            if ctx._saved:
                ctx.versions, ctx._saved_from = _scan_saved(ctx._saved, args, raw, outs, Tensor)
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


def _scan_saved(saved: tuple, args: tuple, raw: list, outs: list, Tensor: type) -> tuple:
    """One pass over what a node saved: ``(versions, sources)``.

    ``versions``: the version of every Tensor argument whose memory the node saved, to detect
    later in-place writes. PyTorch's rule: modifying a saved input in place (``x.mul_(2)`` after
    ``y = w * x``) would make backward silently use the new values, so backward refuses instead.

    ``sources``: per saved item, the input Tensor whose data it is, the index of the output it is,
    or None (see ``Context.saved_tensors``); ``()`` when no item has a source.
    """
    arrays = [s for s in saved if isinstance(s, np.ndarray)]
    if not arrays:
        return (), ()
    tensors = [(i, a, r) for i, (a, r) in enumerate(zip(args, raw)) if isinstance(a, Tensor)]
    versions = tuple((a._version, a._version[0], i) for i, a, r in tensors if any(_shares_memory(s, r) for s in arrays))
    sources = []
    for item in saved:
        source = None
        if isinstance(item, np.ndarray):
            source = next((a for _, a, r in tensors if r is item), None)
            if source is None:
                source = next((j for j, o in enumerate(outs) if o is item), None)
        sources.append(source)
    return versions, (tuple(sources) if any(s is not None for s in sources) else ())


def protect_saved_output(tensor) -> None:
    """Before ``tensor`` is written in place: make its creator's backward refuse if it saved the old values.

    ``_scan_saved`` covers the inputs a node saved; a node that saved its own output
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
def unbroadcast(grad, shape: tuple):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting ``shape`` up.

    Broadcasting copies an array along new leading axes and along axes of
    length 1; the adjoint of a copy is a sum, so we sum over exactly those axes.
    ``grad`` may be an array or a Tensor (then the sum is an op on the tape).

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
    lead = len(grad.shape) - len(shape)
    if lead < 0:
        raise RuntimeError(f"gradient of shape {grad.shape} cannot reduce to input shape {tuple(shape)}")
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if isinstance(grad, np.ndarray):
        g = grad.sum(axis=axes, keepdims=True) if axes else grad
    else:
        g = grad.sum(dim=axes, keepdim=True) if axes else grad
    return g.reshape(shape)


# --------------------------------------------------------------------------- tensor hooks
class RemovableHandle:
    """What ``Tensor.register_hook`` returns: ``handle.remove()`` takes the hook off again.

    Example:
        >>> import tinynet
        >>> x = tinynet.ones(2, requires_grad=True)
        >>> handle = x.register_hook(lambda g: g * 10)
        >>> (x * 1).sum().backward()
        >>> handle.remove()
        >>> (x * 1).sum().backward()
        >>> x.grad  # 10 from the first backward, 1 from the second
        tensor([11., 11.])
    """

    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Remove the hook (again: nothing happens)."""
        if any(h is self._hook for h in self._hooks):
            self._hooks.remove(self._hook)


def _run_hooks(hooks, g, what: str):
    for hook in list(hooks):
        result = hook(g)
        if result is None:
            continue
        Tensor = _tensor_class()
        if not isinstance(result, Tensor):
            raise TypeError(f"a hook on {what} must return a Tensor or None, got {type(result).__name__}")
        if result.shape != g.shape:
            raise RuntimeError(
                f"a hook on {what} returned a gradient of shape {result.shape}; the gradient has shape {g.shape}"
            )
        if result.dtype != g.dtype:
            raise RuntimeError(
                f"a hook on {what} returned a gradient of dtype {result.dtype}; the gradient has dtype {g.dtype}"
            )
        g = result
    return g


# --------------------------------------------------------------------------- the walk
def _topological_order(roots) -> list:
    """Nodes reachable from the ``roots`` with every node before the nodes it feeds from.

    Iterative depth-first search (a chain of 50,000 ops must not hit Python's
    recursion limit). Reversed post-order is a topological order of a DAG.
    """
    order = []
    visited = set()
    stack = [(root, False) for root in reversed(roots)]
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


def _root_gradient(tensor, gradient, create_graph: bool, call: str, arg: str, of: str):
    """The starting gradient for ``tensor``: ones for one element, else ``gradient`` checked (a Tensor).

    ``call``, ``arg`` and ``of`` name the function, the gradient argument and the tensor in errors
    (``'backward'``, ``'gradient'``, ``'the tensor'``).
    """
    Tensor = _Tensor or _tensor_class()
    if gradient is None:
        if tensor.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs; {call}() on {of} of shape "
                f"{tensor.shape} needs {arg}, a Tensor of that shape"
            )
        return Tensor._wrap(np.ones_like(tensor.data))
    if not isinstance(gradient, (Tensor, np.ndarray, int, float)):
        raise TypeError(f"{call}: {arg} must be a Tensor (or None), got {type(gradient).__name__}")
    if isinstance(gradient, Tensor) and create_graph:
        g = gradient
    else:
        g = Tensor._wrap(gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient))
    if g.data.shape != tensor.data.shape:
        raise RuntimeError(f"{call}: {arg} has shape {g.shape} but {of} has shape {tensor.shape}")
    if g.data.dtype != tensor.data.dtype:
        g = g.to(tensor.dtype) if g.requires_grad else Tensor._wrap(g.data.astype(tensor.dtype))
    return g


def _check_versions(node) -> None:
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


def _call_backward(node, out_grads: list, create_graph: bool) -> tuple:
    """Run the node's backward on its output gradients (Tensors); its input gradients, as Tensors or None."""
    Tensor = _Tensor or _tensor_class()
    name = node.fn.__name__
    in_grads = node.fn.backward(node, *out_grads)
    if not isinstance(in_grads, tuple):
        in_grads = (in_grads,)
    if len(in_grads) != len(node.parents):
        raise RuntimeError(
            f"{name}.backward returned {len(in_grads)} gradients for {len(node.parents)} forward arguments"
        )
    result = []
    for ig in in_grads:
        if ig is not None and not isinstance(ig, Tensor):
            if create_graph:
                raise RuntimeError(
                    f"{name}.backward returned a {type(ig).__name__}, not a Tensor: with create_graph=True "
                    "every backward must compute with Tensor ops so that it is recorded"
                )
            ig = Tensor._wrap(np.asarray(ig))
        result.append(ig)
    return tuple(result)


def _walk(roots: list, root_grads: list, retain_graph: bool, create_graph: bool, targets, accumulate: bool):
    """Backpropagate from ``roots``; accumulate into ``.grad`` (``accumulate``) or return the targets' gradients.

    ``targets`` is None (every leaf receives its gradient) or a list of Tensors: then only the
    nodes on a path to a target run, and only the targets receive (or return) a gradient.
    Returns ``{id(target): gradient Tensor}`` for the targets that were reached.
    """
    Tensor = _Tensor or _tensor_class()
    grads = {}  # id(node) -> [gradient of each output, or None]
    held = {}  # id(leaf) -> (leaf, summed gradient): leaves whose hooks must see the whole gradient
    found = {}  # id(target) -> gradient
    target_ids = None if targets is None else {id(t) for t in targets}
    target_outputs = set()  # (id(node), output index) of non-leaf targets
    target_nodes = set()  # id(node) of the nodes that made them
    for t in targets or ():
        if t._node is not None:
            target_outputs.add((id(t._node), t._out_idx))
            target_nodes.add(id(t._node))

    def add(slot: list, i: int, g) -> None:
        if slot[i] is None:
            slot[i] = g
        elif create_graph:
            slot[i] = slot[i] + g
        else:
            slot[i] = Tensor._wrap(slot[i].data + g.data)

    def to_leaf(leaf, g) -> None:
        if target_ids is not None and id(leaf) not in target_ids:
            return
        hooks = getattr(leaf, "_hooks", None)
        if hooks or not accumulate:  # sum first: hooks and grad() see the whole gradient
            prev = held.get(id(leaf))
            held[id(leaf)] = (
                leaf,
                g if prev is None else (prev[1] + g if create_graph else Tensor._wrap(prev[1].data + g.data)),
            )
        else:
            _store_grad(leaf, g, create_graph)

    roots_nodes = []
    for t, g in zip(roots, root_grads):
        if t._node is None:
            to_leaf(t, g)
            continue
        slot = grads.get(id(t._node))
        if slot is None:
            slot = grads[id(t._node)] = [None] * len(t._node.out_meta)
            roots_nodes.append(t._node)
        add(slot, t._out_idx, g)

    order = _topological_order(roots_nodes)
    needed = None
    if targets is not None:  # run only the nodes from which a target is reached
        needed = set()
        for node in reversed(order):
            for p in node.parents:
                if p is None:
                    continue
                if isinstance(p, tuple):
                    if id(p[0]) in needed or (id(p[0]), p[1]) in target_outputs:
                        needed.add(id(node))
                        break
                elif id(p) in target_ids:
                    needed.add(id(node))
                    break

    saved_hooks, saved_anomaly, saved_plain, saved_enabled = (
        _mode.hooks,
        _mode.anomaly,
        _mode.plain_backward,
        _mode.enabled,
    )
    try:
        _mode.enabled = create_graph  # the walk records only for create_graph (restored below)
        _mode.hooks = ()  # the ops of a backward are not a forward pass to observe
        _mode.plain_backward = not create_graph
        for node in order:
            out_grads = grads.pop(id(node), None)
            runs = needed is None or id(node) in needed
            # As in PyTorch, a node that neither runs nor made a target is not visited at all: the hooks
            # and retain_grad of its outputs do not fire, and it keeps its saved arrays.
            if out_grads is not None and (node.hooks or node.retained) and (runs or id(node) in target_nodes):
                _output_hooks(node, out_grads, target_outputs, found, create_graph, runs)
            elif out_grads is not None and id(node) in target_nodes:
                found.update(((id(node), i), g) for i, g in enumerate(out_grads) if (id(node), i) in target_outputs)
            if out_grads is None or out_grads.count(None) == len(out_grads) or not runs:
                if not retain_graph and runs:
                    node.release()
                continue
            if node.freed:
                raise _freed_error(node.fn.__name__)
            if node.versions:
                _check_versions(node)
            _mode.anomaly = False  # the ops inside a backward are checked as the node's gradients, below
            try:
                in_grads = _call_backward(node, out_grads, create_graph)
            finally:
                _mode.anomaly = saved_anomaly
            if saved_anomaly:
                _check_finite(
                    [None if g is None else g.data for g in in_grads], "backward", node.fn.__name__, node.created_at
                )
            for parent, meta, ig in zip(node.parents, node.in_meta, in_grads):
                if parent is None or ig is None:
                    continue
                shape, dtype = meta
                if create_graph:
                    ig = unbroadcast(ig, shape)
                    ig = ig if ig.dtype == dtype else ig.to(dtype)
                elif ig.data.shape != shape or ig.data.dtype != dtype:
                    ig = Tensor._wrap(unbroadcast(ig.data, shape).astype(dtype, copy=False))
                if isinstance(parent, tuple):
                    pnode, idx = parent
                    slot = grads.get(id(pnode))
                    if slot is None:
                        slot = grads[id(pnode)] = [None] * len(pnode.out_meta)
                    add(slot, idx, ig)
                else:
                    to_leaf(parent, ig)
            if not retain_graph:
                node.release()
        for leaf, g in held.values():
            hooks = getattr(leaf, "_hooks", None)
            if hooks:
                g = _run_hooks(hooks, g, "a leaf tensor")
            if accumulate:
                _store_grad(leaf, g, create_graph)
            else:
                found[id(leaf)] = g
    finally:
        _mode.hooks, _mode.anomaly, _mode.plain_backward = saved_hooks, saved_anomaly, saved_plain
        _mode.enabled = saved_enabled
    return found


def _output_hooks(node, out_grads: list, target_outputs: set, found: dict, create_graph: bool, runs: bool):
    """A node's output gradients are complete: run their tensor hooks, retain_grad, and the targets among them.

    A target's gradient is taken after the hooks, except when the node runs anyway (a target lies
    beyond it): then PyTorch's engine takes it before the hooks, and so do we.
    """
    for idx, g in enumerate(out_grads):
        if g is None:
            continue
        target = (id(node), idx) in target_outputs
        if target and runs:
            found[(id(node), idx)] = g
        if node.hooks and node.hooks.get(idx):
            g = out_grads[idx] = _run_hooks(node.hooks[idx], g, "a non-leaf tensor")
        ref = node.retained.get(idx) if node.retained else None
        t = ref() if ref is not None else None
        if t is not None:
            _store_grad(t, g, create_graph)
        if target and not runs:
            found[(id(node), idx)] = g


def _store_grad(t, g, create_graph: bool) -> None:
    """``t.grad += g`` (or ``= g``): out of place while a graph is being built, else in place (as PyTorch).

    In place also when the old ``.grad`` has a history (made with ``create_graph=True``): it keeps its
    ``grad_fn``, and the write is counted, so a node that saved it refuses a later backward.
    """
    Tensor = _Tensor or _tensor_class()
    if t.grad is None:
        # Own the memory: the same array may reach several tensors or be reused by a kernel.
        t.grad = (
            g.clone() if create_graph and g.requires_grad else Tensor._wrap(np.array(g.data, dtype=t.dtype, copy=True))
        )
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad._check_inplace("backward (accumulating into .grad)")
        np.add(t.grad.data, g.data, out=t.grad.data)


def _as_tensor_list(value, what: str) -> list:
    Tensor = _tensor_class()
    items = [value] if isinstance(value, Tensor) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(t, Tensor) for t in items):
        raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got {value!r:.80}")
    return list(items)


def _check_inputs(inputs: list, what: str) -> None:
    if not inputs:
        raise RuntimeError(f"{what}: inputs must not be empty")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"{what}: input {i} (shape {t.shape}) does not require grad")


def run_backward(tensor, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Backpropagate from ``tensor`` and accumulate gradients into the leaves' ``.grad``.

    This is ``Tensor.backward``: the nodes are visited once each, in topological
    order (every node after all the nodes it feeds), so a node's output gradient
    is complete, summed over all its uses, before its ``backward`` runs.

    Args:
        tensor: where to start; needs ``gradient`` unless it has one element.
        gradient: dL/d(tensor), same shape as ``tensor``.
        retain_graph: keep the saved arrays for another backward through this graph
            (default: ``create_graph``).
        create_graph: record the backward itself, so the gradients can be differentiated.
        inputs: accumulate only into these tensors (leaves, or non-leaves whose ``.grad`` is then filled).

    Example:
        >>> import tinynet
        >>> x = tinynet.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).backward(tinynet.tensor([1.0, 1.0]))
        >>> x.grad
        tensor([2., 4.])
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: "
            "call backward() on a result computed from tensors with requires_grad=True"
        )
    if retain_graph is None:
        retain_graph = create_graph
    targets = None
    if inputs is not None:
        targets = _as_tensor_list(inputs, "backward: inputs")
        _check_inputs(targets, "backward")
        for t in targets:  # a non-leaf input receives its gradient in .grad, from now on (as in PyTorch)
            t.retain_grad()
    g = _root_gradient(tensor, gradient, create_graph, "backward", "gradient", "the tensor")
    _walk([tensor], [g], retain_graph, create_graph, targets, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False, allow_unused: bool = False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is not touched).

    PyTorch's ``torch.autograd.grad``: computes Σ_k ⟨grad_outputs_k, d outputs_k / d input⟩ for every
    input. With ``create_graph=True`` the results are on the tape and can be differentiated again.

    Args:
        outputs: a Tensor or a sequence of Tensors.
        inputs: a Tensor or a sequence of Tensors that require grad.
        grad_outputs: per output its gradient (None: ones, for a one-element output).
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the computation of the gradients.
        allow_unused: an input the outputs do not depend on gets None instead of an error.

    Returns:
        A tuple with one gradient (a Tensor, or None) per input.

    Example (a Hessian-vector product: d/dx ⟨∇f(x), v⟩ = H v):
        >>> import tinynet
        >>> x = tinynet.tensor([1.0, 2.0], requires_grad=True)
        >>> (g,) = tinynet.autograd.grad((x * x * x).sum(), x, create_graph=True)  # 3x²
        >>> (hv,) = tinynet.autograd.grad((g * tinynet.tensor([1.0, 1.0])).sum(), x)  # 6x · v
        >>> g.detach(), hv
        (tensor([ 3., 12.]), tensor([ 6., 12.]))
    """
    outs = _as_tensor_list(outputs, "grad: outputs")
    ins = _as_tensor_list(inputs, "grad: inputs")
    _check_inputs(ins, "grad")
    if grad_outputs is None:
        gos = [None] * len(outs)
    else:
        gos = [grad_outputs] if not isinstance(grad_outputs, (list, tuple)) else list(grad_outputs)
        if len(gos) != len(outs):
            raise RuntimeError(f"grad: got {len(gos)} grad_outputs for {len(outs)} outputs")
    if retain_graph is None:
        retain_graph = create_graph
    roots, root_grads = [], []
    for i, (o, go) in enumerate(zip(outs, gos)):
        if not o.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and does not have a grad_fn")
        roots.append(o)
        root_grads.append(_root_gradient(o, go, create_graph, "grad", f"grad_outputs[{i}]", f"output {i}"))
    found = _walk(roots, root_grads, retain_graph, create_graph, ins, accumulate=False)
    Tensor = _tensor_class()
    result = []
    for i, t in enumerate(ins):
        g = found.get(id(t)) if t._node is None else found.get((id(t._node), t._out_idx))
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) appears not to have been used in the graph; "
                    "set allow_unused=True if this is the desired behavior"
                )
        elif not create_graph:
            g = Tensor._wrap(g.data)
        result.append(g)
    return tuple(result)
