"""Tools that prove an op right: gradcheck, the adjoint (dot-product) test, and the explicit matrix.

These are public: students use them to check the backward they wrote, and the
test-suite uses them on every op.

* :func:`gradcheck` compares the tape's gradient with central finite differences.
* :func:`gradgradcheck` does the same for the gradient of the gradient (``create_graph=True``).
* :func:`adjoint_check` checks ⟨A x, y⟩ = ⟨x, A* y⟩ for a linear map A, the
  defining property of the adjoint (the transposed matrix Cᵀ of the lecture notes,
  docs/WORKED_EXAMPLES.md).
* :func:`operator_matrix` builds the dense matrix of a linear map, column by column.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from tinynet.autograd import enable_grad, grad, no_grad
from tinynet.tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "adjoint_check", "operator_matrix", "GradcheckError", "AdjointError"]


class GradcheckError(RuntimeError):
    """The analytical gradient of an op disagrees with finite differences.

    Example:
        >>> import tinynet
        >>> from tinynet.testing import GradcheckError, gradcheck
        >>> x = tinynet.tensor([1.0, 2.0, 3.0], dtype=tinynet.float64, requires_grad=True)
        >>> wrong = lambda t: t.detach() * t  # d(x²)/dx is 2x, but the tape sees only one factor
        >>> try:
        ...     gradcheck(wrong, [x])
        ... except GradcheckError as e:
        ...     print(str(e).split(":")[0])  # the worst element is the largest x
        gradcheck failed for input 0 (shape (3,)) at element (2,)
    """


class AdjointError(RuntimeError):
    """⟨A x, y⟩ ≠ ⟨x, A* y⟩: the adjoint is wrong (or the map is not linear).

    Example:
        >>> from tinynet.testing import AdjointError, adjoint_check
        >>> try:
        ...     adjoint_check(lambda x: x + 1, (3,))  # an offset: not linear
        ... except AdjointError as e:
        ...     print(str(e).split(":")[0])
        adjoint_check
    """


def _check_callable(fn, op: str, name: str = "fn") -> None:
    if not callable(fn):
        raise TypeError(f"{op}: {name} must be callable, got {fn!r}")


def _check_positive(value, op: str, name: str, *, zero_ok: bool = False) -> None:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if not ok or not np.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        want = "a finite number >= 0" if zero_ok else "a finite number > 0"
        raise ValueError(f"{op}: {name} must be {want}, got {value!r}")


def _check_seed(seed, op: str) -> None:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{op}: seed must be a non-negative int, got {seed!r}")


def _check_shape(input_shape, op: str) -> tuple:
    ok = isinstance(input_shape, (tuple, list)) and all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in input_shape
    )
    if not ok:
        raise ValueError(f"{op}: input_shape must be a tuple of non-negative ints, got {input_shape!r}")
    return tuple(int(n) for n in input_shape)


def _checked_inputs(op: str, fn, inputs, eps, atol, rtol, seed) -> tuple:
    """The argument checks gradcheck and gradgradcheck share: ``(inputs as a list, indices of those to check)``."""
    _check_callable(fn, op)
    _check_positive(eps, op, "eps")
    _check_positive(atol, op, "atol", zero_ok=True)
    _check_positive(rtol, op, "rtol", zero_ok=True)
    _check_seed(seed, op)
    if not isinstance(inputs, (Tensor, tuple, list)):
        raise TypeError(f"{op}: inputs must be a Tensor or a sequence of Tensors, got {type(inputs).__name__}")
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    wrt = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not wrt:
        raise ValueError(f"{op}: no input has requires_grad=True, so there is nothing to check")
    for i in wrt:
        if inputs[i].dtype != np.float64:
            raise ValueError(
                f"{op}: input {i} has dtype {inputs[i].dtype}; finite differences need float64 "
                "inputs (use tensor.double())"
            )
    return inputs, wrt


def _outputs(result) -> list:
    """The floating-point Tensor outputs of ``fn`` (tuples allowed, integer outputs ignored)."""
    items = result if isinstance(result, (tuple, list)) else (result,)
    outs = [r for r in items if isinstance(r, Tensor) and r.data.dtype.kind == "f"]
    if not outs:
        raise TypeError("the function must return a floating-point Tensor (or a tuple holding one)")
    return outs


def gradcheck(
    fn: Callable,
    inputs: Sequence[Tensor] | Tensor,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check the tape's gradients of ``fn`` against float64 central differences.

    For each input that requires grad, every element x_i is nudged by ±eps and
    the numerical derivative of ``L = Σ_k v_k · fn(x)_k`` is compared with the
    analytical one from a single ``backward``. ``v`` is a fixed random vector,
    so this checks vᵀJ, which differs from the true vᵀJ with probability 1 when
    any entry of the Jacobian J is wrong (PyTorch's "fast mode" does the same).

    Args:
        fn: maps the inputs (Tensors) to a Tensor or a tuple of Tensors.
        inputs: a Tensor or a sequence of Tensors (other values are passed as they are).
            Inputs that require grad must be float64.
        eps, atol, rtol: step and tolerances; an element fails when
            ``|analytical - numerical| > atol + rtol * |numerical|``.
        seed: seed of the random projection ``v``.

    Returns:
        True, or raises :class:`GradcheckError` naming the input and its worst element.

    Example:
        >>> import tinynet
        >>> from tinynet.testing import gradcheck
        >>> x = tinynet.randn(3, 4, dtype=tinynet.float64, requires_grad=True)
        >>> gradcheck(lambda t: (t * t).sum(dim=1), [x])
        True
    """
    inputs, wrt = _checked_inputs("gradcheck", fn, inputs, eps, atol, rtol, seed)

    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*inputs))
    vs = [rng.standard_normal(o.shape) for o in outs]

    def projected(values: list) -> float:
        with no_grad():
            res = _outputs(fn(*values))
        return float(sum(np.sum(o.data.astype(np.float64) * v) for o, v in zip(res, vs)))

    # analytical: one backward of L = Σ v·out (the inputs' own .grad is put back afterwards)
    loss = None
    for o, v in zip(outs, vs):
        if o.requires_grad:
            term = (o * Tensor._wrap(v.astype(o.dtype))).sum()
            loss = term if loss is None else loss + term
    if loss is None:
        raise GradcheckError("gradcheck: no output of fn depends on an input that requires grad")
    user_grads = {i: inputs[i].grad for i in wrt}
    try:
        for i in wrt:
            inputs[i].grad = None
        loss.backward()
        grads = {
            i: np.zeros(inputs[i].shape) if inputs[i].grad is None else inputs[i].grad.data.astype(np.float64)
            for i in wrt
        }
    finally:
        for i in wrt:
            inputs[i].grad = user_grads[i]

    for i in wrt:
        x = inputs[i]
        analytical = grads[i]
        numerical = np.zeros(x.shape)
        for k in np.ndindex(x.shape):  # nudge x.data itself, whatever its memory layout
            old = x.data[k]
            x.data[k] = old + eps
            plus = projected(inputs)
            x.data[k] = old - eps
            minus = projected(inputs)
            x.data[k] = old
            numerical[k] = (plus - minus) / (2 * eps)
        err = np.abs(analytical - numerical) - (atol + rtol * np.abs(numerical))
        if err.size and err.max() > 0:
            worst = np.unravel_index(int(np.argmax(err)), x.shape)
            raise GradcheckError(
                f"gradcheck failed for input {i} (shape {x.shape}) at element {tuple(int(j) for j in worst)}: "
                f"analytical {analytical[worst]:.6g} vs numerical {numerical[worst]:.6g} "
                f"(|difference| {abs(analytical[worst] - numerical[worst]):.3g} exceeds "
                f"atol + rtol*|numerical| = {atol + rtol * abs(numerical[worst]):.3g}); "
                f"{int((err > 0).sum())} of {err.size} elements fail"
            )
    return True


def gradgradcheck(
    fn: Callable,
    inputs: Sequence[Tensor] | Tensor,
    grad_outputs: Sequence[Tensor] | Tensor | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: :func:`gradcheck` of the first gradient, as a function of inputs and v.

    The first gradient is ``g(x, v) = vᵀ J_fn(x)`` (``autograd.grad`` of ``fn``'s outputs with
    ``grad_outputs=v``, ``create_graph=True``). Its own gradient, taken by the tape through every
    op's backward, is compared with finite differences of ``g`` in both ``x`` (the Hessian part)
    and ``v`` (which checks that the recorded backward is the right linear map of v).

    Args:
        fn: maps the inputs (Tensors) to a Tensor or a tuple of Tensors.
        inputs: a Tensor or a sequence of Tensors; those that require grad must be float64.
        grad_outputs: v, one float64 Tensor per floating-point output (default: random normal).
        eps, atol, rtol, seed: as in :func:`gradcheck`.

    Returns:
        True, or raises :class:`GradcheckError` (input indices past ``len(inputs)`` are the v's).

    Example:
        >>> import tinynet
        >>> from tinynet.testing import gradgradcheck
        >>> x = tinynet.randn(3, dtype=tinynet.float64, requires_grad=True)
        >>> gradgradcheck(lambda t: (t * t * t).sum(), [x])
        True
    """
    inputs, wrt = _checked_inputs("gradgradcheck", fn, inputs, eps, atol, rtol, seed)
    outs = [o for o in _outputs(fn(*inputs)) if o.requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        vs = [Tensor._wrap(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    else:
        if not isinstance(grad_outputs, (Tensor, tuple, list)):
            raise TypeError(
                f"gradgradcheck: grad_outputs must be a Tensor, a sequence of Tensors or None, got {type(grad_outputs).__name__}"
            )
        vs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
        if len(vs) != len(outs) or not all(isinstance(v, Tensor) and v.shape == o.shape for v, o in zip(vs, outs)):
            raise ValueError(
                f"gradgradcheck: grad_outputs must be one Tensor per differentiable output, shapes "
                f"{[o.shape for o in outs]}, got {[getattr(v, 'shape', v) for v in vs]}"
            )
        vs = [Tensor._wrap(v.data.astype(np.float64), requires_grad=True) for v in vs]
    n = len(inputs)

    def first_gradient(*args):
        xs, gs = args[:n], args[n:]
        with enable_grad():
            ys = [o for o in _outputs(fn(*xs)) if o.requires_grad]
            grads = grad(ys, [xs[i] for i in wrt], grad_outputs=list(gs), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Tensor._wrap(np.zeros(xs[i].shape)) for g, i in zip(grads, wrt))

    return gradcheck(first_gradient, [*inputs, *vs], eps=eps, atol=atol, rtol=rtol, seed=seed)


def _as_array(value) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    return np.asarray(value)


def adjoint_check(
    fn: Callable,
    input_shape: Sequence[int],
    adjoint: Callable | None = None,
    trials: int = 3,
    rtol: float = 1e-10,
    seed: int = 0,
) -> bool:
    """The dot-product test: ⟨A x, y⟩ = ⟨x, A* y⟩ for random x and y.

    ``fn`` is the linear map A (a function of one float64 Tensor). ``adjoint``
    is the claimed A*; by default it is the tape's backward (``x.grad`` after
    ``fn(x).backward(y)``), which is what backprop applies. The test also
    checks that ``fn`` is linear, ``A(a x + b z) = a A x + b A z``, since the
    dot-product identity means nothing for a map with an offset such as a bias.

    Returns True, or raises :class:`AdjointError` with both sides printed.

    Example:
        >>> import tinynet
        >>> from tinynet.testing import adjoint_check
        >>> adjoint_check(lambda x: x.transpose(0, 1), (2, 3))
        True
        >>> try:
        ...     adjoint_check(lambda x: x.transpose(0, 1), (2, 3), adjoint=lambda y: y.transpose(0, 1) * 2)
        ... except Exception as e:
        ...     print(type(e).__name__)
        AdjointError
    """
    _check_callable(fn, "adjoint_check")
    if adjoint is not None:
        _check_callable(adjoint, "adjoint_check", "adjoint")
    shape = _check_shape(input_shape, "adjoint_check")
    if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
        raise ValueError(f"adjoint_check: trials must be a positive int (0 trials would check nothing), got {trials!r}")
    _check_positive(rtol, "adjoint_check", "rtol")
    _check_seed(seed, "adjoint_check")
    rng = np.random.default_rng(seed)
    for trial in range(trials):
        x_np = rng.standard_normal(shape)
        z_np = rng.standard_normal(shape)
        x = Tensor._wrap(x_np.copy(), requires_grad=adjoint is None)
        Ax = fn(x)
        if not isinstance(Ax, Tensor):
            raise TypeError(f"adjoint_check: fn must return a Tensor, got {type(Ax).__name__}")
        y_np = rng.standard_normal(Ax.shape)
        with no_grad():
            Az = _as_array(fn(Tensor._wrap(z_np.copy())))
            A_comb = _as_array(fn(Tensor._wrap(2.0 * x_np - 3.0 * z_np)))
        lin_err = np.abs(A_comb - (2.0 * Ax.data - 3.0 * Az))
        scale = np.abs(Ax.data).max(initial=0) + np.abs(Az).max(initial=0) + 1e-300
        if lin_err.max(initial=0) > 1e3 * rtol * scale + 1e-12:
            raise AdjointError(
                f"adjoint_check: fn is not linear (trial {trial}): A(2x - 3z) differs from 2Ax - 3Az by "
                f"up to {lin_err.max():.3g}; the dot-product test needs a linear map (no bias, no offset)"
            )
        if adjoint is None:
            if not Ax.requires_grad:
                raise AdjointError("adjoint_check: fn's output does not depend on its input through the tape")
            Ax.backward(Tensor._wrap(y_np.astype(Ax.dtype)))
            Aty = np.zeros(shape) if x.grad is None else x.grad.data
        else:
            with no_grad():
                Aty = _as_array(adjoint(Tensor._wrap(y_np.copy())))
        if Aty.shape != shape:
            raise AdjointError(
                f"adjoint_check: the adjoint returned shape {Aty.shape}, expected the input shape {shape}"
            )
        lhs = float(np.vdot(Ax.data.astype(np.float64), y_np))
        rhs = float(np.vdot(x_np, Aty.astype(np.float64)))
        tol = rtol * max(abs(lhs), abs(rhs), np.abs(Ax.data).sum() * np.abs(y_np).max(initial=0), 1e-300)
        if not abs(lhs - rhs) <= tol:
            raise AdjointError(
                f"adjoint_check failed (trial {trial}): <A x, y> = {lhs!r} but <x, A* y> = {rhs!r} "
                f"(difference {abs(lhs - rhs):.3g} > tolerance {tol:.3g})"
            )
    return True


def operator_matrix(fn: Callable, input_shape: Sequence[int], dtype=np.float64) -> np.ndarray:
    """The matrix M of a linear ``fn``: ``fn(x).ravel() == M @ x.ravel()``.

    Column j is ``fn`` applied to the j-th unit vector; for a 3×3 convolution
    on a 4×4 input this is the lecture notes' 4×16 matrix C (docs/WORKED_EXAMPLES.md).

    Example:
        >>> import tinynet
        >>> from tinynet.testing import operator_matrix
        >>> operator_matrix(lambda x: x.sum(dim=1), (2, 2))
        array([[1., 1., 0., 0.],
               [0., 0., 1., 1.]])
    """
    _check_callable(fn, "operator_matrix")
    shape = _check_shape(input_shape, "operator_matrix")
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"operator_matrix: dtype must be a floating-point dtype, got {np.dtype(dtype)}")
    n = int(np.prod(shape))
    cols = []
    with no_grad():
        for j in range(n):
            e = np.zeros(n, dtype=dtype)
            e[j] = 1
            cols.append(_as_array(fn(Tensor._wrap(e.reshape(shape)))).reshape(-1))
    if not cols:
        return np.zeros((0, 0), dtype=dtype)
    return np.stack(cols, axis=1).astype(dtype, copy=False)
