"""Loss functions with PyTorch's semantics: cross-entropy, NLL, BCE-with-logits, MSE, L1, and soft Dice.

Classification losses take logits of shape ``(N, C)`` or ``(N, C, d1, d2, ...)``
(a segmentation map is ``(N, C, H, W)``) and integer class targets of shape
``(N,)`` or ``(N, d1, d2, ...)``. The class axis is always dimension 1.

Two small helpers form the adjoint pair behind every "pick the target class"
step: :func:`_gather_classes` reads ``a[n, t[n, i], i]`` (a matrix with a single
1 per row) and :func:`_scatter_classes` writes each value back to the place it
was read from (its transpose). ``nll_loss`` is exactly this gather, scaled. They,
the softmax and cross-entropy's fused gradient run as kernels (tinynet/kernels/softmax.py)
on ``(N, C, L)`` views, L the positions of a sample.

Every backward is written in tinynet's ops, so losses have second derivatives
(``create_graph=True``). Where the fused first-order gradient is the speed-critical part
(cross-entropy, Dice), it is a Function of its own (``CrossEntropyGrad``, ``DiceGrad``)
whose forward is the fused numpy code and whose backward is its derivative in ops;
the loss returns softmax(x) as a second, hidden output, so that a derivative reaching
p flows back through the softmax's adjoint.

Every loss validates its targets before computing anything: a wrong dtype, a
shape that does not fit the input, or a class index outside ``[0, C)`` (other
than ``ignore_index``) raises an error that names the offending values.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from tinynet.autograd import Function, is_grad_enabled
from tinynet.functional._validate import check_tensor
from tinynet.kernels import (
    class_totals,
    cross_entropy_grad,
    gather_classes,
    scatter_add_classes,
    softmax_adjoint,
    softmax_forward,
)
from tinynet.kernels.workspace import zeros
from tinynet.tensor import Tensor

__all__ = [
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "l1_loss",
    "dice_loss",
]

_REDUCTIONS = ("none", "mean", "sum")


# --------------------------------------------------------------------------- shared pieces
def _reduction(reduction, op: str, size_average=None, reduce=None) -> str:
    """The reduction mode, translating PyTorch's deprecated ``size_average``/``reduce`` like PyTorch."""
    if size_average is not None or reduce is not None:
        warnings.warn(
            "size_average and reduce args will be deprecated, please use reduction='mean', 'sum' or 'none' instead.",
            UserWarning,
            stacklevel=3,
        )
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction (expected 'none', 'mean' or 'sum')")
    return reduction


def _check_label_smoothing(label_smoothing, op: str) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, numbers.Real):
        raise TypeError(f"{op}: label_smoothing must be a number, got {label_smoothing!r}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"{op}: label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    return float(label_smoothing)


def _check_ignore_index(ignore_index, op: str) -> int:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"{op}: ignore_index must be an int, got {ignore_index!r}")
    return int(ignore_index)


def _check_smooth(smooth, op: str) -> float:
    if isinstance(smooth, bool) or not isinstance(smooth, numbers.Real) or not 0 <= smooth < float("inf"):
        raise ValueError(f"{op}: smooth must be a non-negative number (and finite), got {smooth!r}")
    return float(smooth)


def _reduce(loss: np.ndarray, reduction: str, denom) -> np.ndarray:
    """'none' keeps the per-element losses; 'sum' adds them; 'mean' divides the sum by ``denom``."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(total)
    with np.errstate(invalid="ignore", divide="ignore"):  # all targets ignored: 0/0 = nan, like PyTorch
        return np.asarray(total / loss.dtype.type(denom))


def _upstream(grad, reduction: str, denom, class_axis: bool):
    """dL/d(per-element loss): the adjoint of ``_reduce``, shaped to broadcast against the losses.

    ``grad`` is an array or a Tensor (then the result is made of ops). With ``class_axis`` the
    per-element losses are indexed (N, *) and the result gets a length-1 class axis, (N, 1, *),
    so it broadcasts against (N, C, *) arrays.
    """
    if reduction == "none":
        return grad.reshape(grad.shape[:1] + (1,) + grad.shape[1:]) if class_axis else grad
    if reduction == "sum":
        return grad
    if denom == 0:  # every target ignored: the loss is nan but no element contributed, so no gradient
        return grad * grad.dtype.type(0)
    return grad / grad.dtype.type(denom)


def _upstream_adjoint(dg: Tensor, reduction: str, denom, class_axis: bool) -> Tensor:
    """The adjoint of :func:`_upstream` (in ops): a gradient shaped like its result -> the shape of ``grad``."""
    if reduction == "none":
        return dg.squeeze(1) if class_axis else dg
    total = dg.sum()
    if reduction == "sum":
        return total
    return total * 0.0 if denom == 0 else total / float(denom)


def _const(array: np.ndarray) -> Tensor:
    """A constant (non-differentiable) Tensor: targets, masks and weights of positions."""
    return Tensor._wrap(array)


def _by_position(a: np.ndarray) -> np.ndarray:
    """An (N, C, *) array as (N, C, L), L the positions of a sample: the kernels' layout (C-contiguous)."""
    n, c, length = a.shape[0], a.shape[1], math.prod(a.shape[2:])  # explicit L: an empty batch reshapes too
    return np.ascontiguousarray(a).reshape(n, c, length)


def _one_per_position(a: np.ndarray) -> np.ndarray:
    """An (N, 1, *) array (targets, weights, losses) as (N, L) (C-contiguous)."""
    return np.ascontiguousarray(a).reshape(a.shape[0], math.prod(a.shape[2:]))


def _gather_classes(a: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """``a[n, t[n, i], i]`` of an (N, C, *) array for the targets ``classes`` (N, 1, *) in [0, C): shaped (N, 1, *)."""
    out = np.empty(classes.shape, dtype=a.dtype)
    gather_classes(_by_position(a), _one_per_position(classes), _one_per_position(out))
    return out


def _scatter_classes(out: np.ndarray, classes: np.ndarray, values) -> None:
    """``out[n, t[n, i], i] += values[n, 0, i]``: the adjoint of :func:`_gather_classes`.

    The gather reads one entry per position (n, i), so as a matrix it has a single 1 in
    each row; its transpose sends each value back to the one entry it was read from.
    """
    values = np.broadcast_to(np.asarray(values, dtype=out.dtype), classes.shape)
    in_place = out.flags.c_contiguous  # the callers' fresh arrays: out3 is then a view of out
    out3 = _by_position(out)
    scatter_add_classes(_one_per_position(values), _one_per_position(classes), out3)
    if not in_place:
        out[...] = out3.reshape(out.shape)


class GatherClasses(Function):
    """``a[n, t[n, i], i]`` of an (N, C, *) tensor, shaped (N, 1, *): linear, its adjoint is ``ScatterClasses``."""

    @staticmethod
    def forward(ctx, a, classes):
        ctx.shape = a.shape
        ctx.save_for_backward(classes)
        return _gather_classes(a, classes)

    @staticmethod
    def backward(ctx, grad):
        (classes,) = ctx.saved_arrays
        return ScatterClasses.apply(grad, classes, ctx.shape), None


class ScatterClasses(Function):
    """An (N, C, *) tensor of zeros with ``v[n, 0, i]`` at ``[n, t[n, i], i]``: the adjoint of ``GatherClasses``."""

    @staticmethod
    def forward(ctx, v, classes, shape):
        out = zeros(shape, dtype=v.dtype)
        _scatter_classes(out, classes, v)
        ctx.save_for_backward(classes)
        return out

    @staticmethod
    def backward(ctx, grad):
        (classes,) = ctx.saved_arrays
        return GatherClasses.apply(grad, classes), None, None


def _log_softmax_and_softmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log p and p along axis 1, stable for large logits (shifted by the max)."""
    z = x - x.max(axis=1, keepdims=True)
    p = np.exp(z)
    s = p.sum(axis=1, keepdims=True)
    p /= s
    z -= np.log(s)
    return z, p


def _softmax_parts(x3: np.ndarray) -> tuple:
    """For logits x3 (N, C, L): softmax along the classes (N, C, L), and per position (N, L) the shift
    max_c x and log Σ_c exp(x - shift)."""
    p = np.empty(x3.shape, dtype=x3.dtype)
    shift = np.empty((x3.shape[0], x3.shape[2]), dtype=x3.dtype)
    log_total = np.empty_like(shift)
    softmax_forward(x3, p, shift, log_total)
    return p, shift, log_total


def _softmax_adjoint(p: np.ndarray, gp: np.ndarray) -> np.ndarray:
    """dL/dx from dL/dp for p = softmax(x) along axis 1: p ⊙ (gp - Σ_c p gp) (reuses ``gp``, C-contiguous)."""
    gp = np.ascontiguousarray(gp)  # so that its (N, C, L) view below is gp itself, written in place
    g3 = _by_position(gp)
    softmax_adjoint(_by_position(p), g3, g3)
    return gp


def _softmax_adjoint_ops(p: Tensor, gp: Tensor) -> Tensor:
    """:func:`_softmax_adjoint` written in ops (p is on the tape): the path a derivative reaching p takes."""
    return p * (gp - (p * gp).sum(1, keepdim=True))


def _check_logits(input, op: str) -> None:
    check_tensor(input, op, "input", floating=True)
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")


def _num_classes(input: Tensor) -> int:
    return input.shape[1] if input.ndim >= 2 else input.shape[0]


def _check_has_classes(input: Tensor, op: str) -> None:
    """A softmax along the classes needs at least one (PyTorch returns nan or an empty result instead)."""
    if _num_classes(input) == 0:
        raise ValueError(
            f"{op}: input has 0 classes (shape {tuple(input.shape)}): a softmax along the class dimension needs at least one"
        )


def _check_class_target(input: Tensor, target, op: str, ignore_index: int) -> np.ndarray:
    """Validate integer class targets against input (N, C, *) and return them as int64 (N, 1, *)."""
    check_tensor(target, op, "target")
    if target.dtype.kind not in "iu":
        raise RuntimeError(
            f"{op}: expected target dtype to be an integer type (class indices; int64 like PyTorch's Long), "
            f"but got {target.dtype} with shape {tuple(target.shape)}. Class-probability targets must be "
            f"floating point with the input's shape {tuple(input.shape)}."
        )
    _check_ignore_index(ignore_index, op)
    if input.ndim == 1:
        expected = ()
    else:
        expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        if input.ndim >= 2 and target.ndim >= 1 and target.shape[0] != input.shape[0]:
            raise ValueError(
                f"{op}: Expected input batch_size ({input.shape[0]}) to match target batch_size ({target.shape[0]}) "
                f"(input shape {tuple(input.shape)}, target shape {tuple(target.shape)})"
            )
        raise RuntimeError(
            f"{op}: target shape {tuple(target.shape)} does not fit input shape {tuple(input.shape)}: "
            f"class-index targets must have shape {expected} (input (N, C, d1, ...) -> target (N, d1, ...))"
        )
    c = _num_classes(input)
    t = target.data.astype(np.int64, copy=False)
    bad = (t != ignore_index) & ((t < 0) | (t >= c))
    if bad.any():
        values = np.unique(t[bad])
        shown = ", ".join(str(v) for v in values[:8]) + (", ..." if values.size > 8 else "")
        raise IndexError(
            f"{op}: Target {values[0]} is out of bounds: class indices must be in [0, {c - 1}] for {c} classes "
            f"(or equal ignore_index={ignore_index}); {int(bad.sum())} target(s) out of range, values: {shown}"
        )
    t = t.reshape(1) if input.ndim == 1 else t
    return np.expand_dims(t, 1)


def _check_class_weight(weight, input: Tensor, op: str) -> np.ndarray | None:
    if weight is None:
        return None
    check_tensor(weight, op, "weight", floating=True)
    c = _num_classes(input)
    if weight.shape != (c,):
        raise RuntimeError(
            f"{op}: weight tensor should be defined either for all {c} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{op}: weight has dtype {weight.dtype} but input has dtype {input.dtype}; they must match")
    return weight.data


def _check_weight_not_differentiable(weight, op: str) -> None:
    """With class-index targets the weight is not differentiable in PyTorch, which refuses one that requires grad."""
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(
            f"{op}: with class-index targets the loss is not differentiable with respect to weight (as in "
            "PyTorch: 'This input cannot have requires_grad True'); pass weight.detach(), or class "
            "probabilities as the target"
        )


def _class_column(weight: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped (1, C, 1, ...) to broadcast along the class axis of an ndim-array."""
    return weight.reshape((1, -1) + (1,) * (ndim - 2))


def _target_weights(t1: np.ndarray, weight: np.ndarray | None, ignore_index: int, dtype) -> tuple:
    """Safe indices (ignored -> 0), the weight of each target (0 where ignored), and the 0/1 valid mask."""
    valid = t1 != ignore_index
    safe = np.where(valid, t1, 0)
    if weight is None:
        w1 = valid.astype(dtype)
    else:
        w1 = np.where(valid, weight[safe], 0).astype(dtype, copy=False)
    return safe, w1, valid.astype(dtype)


def _as_batched(input: Tensor) -> Tensor:
    return input.reshape(1, input.shape[0]) if input.ndim == 1 else input


def _unbatched_result(out: Tensor, input: Tensor, reduction: str) -> Tensor:
    return out.reshape(()) if input.ndim == 1 and reduction == "none" else out


# --------------------------------------------------------------------------- cross-entropy
class CrossEntropy(Function):
    """Cross-entropy of logits (N, C, *) against class indices, fused with its log-softmax.

    Per position i with target t, target weight w_t and smoothing ε over C classes, the
    loss is -Σ_c a_c log p_c with a_c = (1 - ε) w_t [c = t] + (ε / C) w_c (a = 0 where the
    target is ignored). Its gradient with respect to the logits is ``S p - a`` with
    ``S = Σ_c a_c``: softmax's Jacobian folded into one line, no log of a small number.

    The outputs are the loss and p = softmax(x) (hidden: ``cross_entropy`` returns the loss).
    The gradient is ``CrossEntropyGrad`` of the upstream gradient and p; a derivative that
    reaches p (a second derivative) goes back to x through softmax's adjoint.
    """

    @staticmethod
    def forward(ctx, x, t1, w1, valid1, weight, reduction, label_smoothing):
        c = x.shape[1]
        eps = label_smoothing
        dt = x.dtype.type
        # log p_c = z_c - log s with z = x - max_c x (the shift) and s = Σ_c e^z: the kernel returns
        # p, the shift and log s, and the loss reads z at the target class off x.
        x3 = _by_position(x)  # (N, C, L), copied only if x is not contiguous
        p, shift, log_s = _softmax_parts(x3)  # p (N, C, L); shift, log_s (N, L)
        x_target = np.empty_like(shift)
        gather_classes(x3, _one_per_position(t1), x_target)
        z_target = x_target - shift
        loss = log_s - z_target  # -log p of the target class, (N, L)
        loss *= _one_per_position(w1)
        if eps:
            w_total = c if weight is None else weight.sum()
            z = x3 - shift[:, None, :]
            z_sum = z.sum(axis=1) if weight is None else (z * weight[:, None]).sum(axis=1)
            smooth = dt(w_total) * log_s - z_sum  # -Σ_c w_c log p_c
            smooth *= _one_per_position(valid1)
            loss *= dt(1 - eps)
            loss += dt(eps / c) * smooth
        denom = w1.sum(dtype=np.float64)  # PyTorch's mean divides by the total weight of the targets
        loss = loss.reshape(x.shape[:1] + x.shape[2:])
        p = p.reshape(x.shape)
        ctx.save_for_backward(p, t1, w1, valid1, weight)
        ctx.reduction, ctx.denom, ctx.eps = reduction, denom, eps
        return _reduce(loss, reduction, denom), p

    @staticmethod
    def backward(ctx, grad, grad_p):
        p = ctx.saved_tensors[0]  # output 1, on the tape
        _, t1, w1, valid1, weight = ctx.saved_arrays
        gx = None
        if grad is not None:
            gx = CrossEntropyGrad.apply(grad, p, t1, w1, valid1, weight, ctx.reduction, ctx.denom, ctx.eps)
        if grad_p is not None:
            through_p = _softmax_adjoint_ops(p, grad_p)
            gx = through_p if gx is None else gx + through_p
        return gx, None, None, None, None, None, None


class CrossEntropyGrad(Function):
    """dL/dx = g (S p - a) of :class:`CrossEntropy`, from its upstream gradient and p: linear in each.

    ``forward`` is the fused first-order gradient (one kernel pass, ``kernels.cross_entropy_grad``).
    With g = the upstream gradient spread over the positions (N, 1, *) and W the
    gradient of the result, the backward is: d/dp = g S W and, per position,
    d/dg = S Σ_c W p - Σ_c W a = S Σ_c W p - (1 - ε) w_t W[t] - (ε / C) Σ_c w_c W_c.
    """

    @staticmethod
    def forward(ctx, grad, p, t1, w1, valid1, weight, reduction, denom, eps):
        c = p.shape[1]
        dt = p.dtype.type
        g = _upstream(grad, reduction, denom, class_axis=True)  # (N, 1, *) or 0-d
        w_total = c if weight is None else weight.sum()
        s = dt(1 - eps) * w1 + dt(eps / c) * valid1 * dt(w_total)  # S = Σ_c a_c per position
        # gx = g S p - (1 - ε) g w_t at the target class - (ε / C) g w_c at every class of a counted position
        scale, at_target = _one_per_position(g * s), _one_per_position(dt(1 - eps) * g * w1)
        uniform = _one_per_position(dt(eps / c) * g * valid1) if eps else np.empty((0, 0), dtype=p.dtype)
        class_weight = np.ones(c, dtype=p.dtype) if weight is None else weight
        gx = np.empty(p.shape, dtype=p.dtype)
        cross_entropy_grad(
            _by_position(p), _one_per_position(t1), scale, at_target, uniform, class_weight, _by_position(gx)
        )
        ctx.save_for_backward(grad, p, t1, w1, valid1, weight, s)
        ctx.reduction, ctx.denom, ctx.eps = reduction, denom, eps
        return gx

    @staticmethod
    def backward(ctx, gw):
        grad, p = ctx.saved_tensors[:2]
        _, _, t1, w1, valid1, weight, s = ctx.saved_arrays
        dt = p.dtype.type
        eps, c = ctx.eps, p.shape[1]
        s = _const(s)
        dgrad = dp = None
        if ctx.needs_input_grad[0]:
            w_at_target = GatherClasses.apply(gw, t1)  # W[t] per position, (N, 1, *)
            dg = s * (gw * p).sum(1, keepdim=True) - _const(dt(1 - eps) * w1) * w_at_target
            if eps:
                weighted = gw if weight is None else gw * _const(_class_column(weight, p.ndim))
                dg = dg - _const(dt(eps / c) * valid1) * weighted.sum(1, keepdim=True)
            dgrad = _upstream_adjoint(dg, ctx.reduction, ctx.denom, class_axis=True)
        if ctx.needs_input_grad[1]:
            dp = gw * (_upstream(grad, ctx.reduction, ctx.denom, class_axis=True) * s)
        return dgrad, dp, None, None, None, None, None, None, None


class CrossEntropyProbs(Function):
    """Cross-entropy against class probabilities q (same shape as the logits).

    loss = -Σ_c a_c log p_c with a_c = w_c b_c, b_c = (1 - ε) q_c + ε / C; dloss/dx = S p - a with
    S = Σ_c a_c, dloss/dq_c = -(1 - ε) w_c log p_c and dloss/dw_c = -b_c log p_c (summed over positions).
    The outputs are the loss and log p (hidden), so the backward, written in ops, reads p = exp(log p)
    on the tape and a second derivative reaching log p goes back through log-softmax's adjoint.
    """

    @staticmethod
    def forward(ctx, x, q, weight, reduction, label_smoothing):
        c = x.shape[1]
        eps = label_smoothing
        dt = x.dtype.type
        logp, _ = _log_softmax_and_softmax(x)
        b = q.astype(x.dtype, copy=True)
        if eps:
            b *= dt(1 - eps)
            b += dt(eps / c)
        a = b * _class_column(weight, x.ndim) if weight is not None else b
        loss = -(a * logp).sum(axis=1)
        count = loss.size  # PyTorch's mean divides by N * d1 * ..., not by any weight
        ctx.save_for_backward(logp, q, weight)
        ctx.reduction, ctx.count, ctx.eps = reduction, count, eps
        return _reduce(loss, reduction, count), logp

    @staticmethod
    def backward(ctx, grad, grad_logp):
        logp, q, weight = ctx.saved_tensors
        eps, c = ctx.eps, logp.shape[1]
        need_x, need_q, need_w = ctx.needs_input_grad[:3]
        p = logp.exp()
        b = q * (1 - eps) + eps / c if eps else q
        wcol = None if weight is None else weight.reshape((1, c) + (1,) * (logp.ndim - 2))
        a = b if wcol is None else b * wcol
        gx = gq = gw = None
        if grad is not None:
            g = _upstream(grad, ctx.reduction, ctx.count, class_axis=True)  # (N, 1, *) or 0-d
            if need_x:
                gx = g * (a.sum(1, keepdim=True) * p - a)
            if need_q:
                gq = g * logp * -(1 - eps)
                gq = gq if wcol is None else gq * wcol
            if need_w:
                gw = -(g * b * logp).sum(tuple(i for i in range(logp.ndim) if i != 1))
        if grad_logp is not None and need_x:  # log-softmax's adjoint: G - p Σ_c G
            through_logp = grad_logp - p * grad_logp.sum(1, keepdim=True)
            gx = through_logp if gx is None else gx + through_logp
        return gx, gq, gw, None, None


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and targets (log-softmax and NLL fused, numerically stable).

    For class-index targets, the loss at a position with target t is
    ``-w[t] * log_softmax(input)[t]`` (blended with the uniform distribution by
    ``label_smoothing`` ε: ``(1 - ε) * nll + ε / C * Σ_c -w[c] log p_c``). ``'mean'`` divides
    the sum by the total weight ``Σ w[t]`` of the targets that are not ``ignore_index``
    (so with all targets ignored the mean is nan, as in PyTorch). For class-probability
    targets (floating point, same shape as ``input``) the loss is ``-Σ_c w[c] q_c log p_c``
    and ``'mean'`` divides by the number of positions.

    Args:
        input: logits ``(N, C)``, ``(N, C, d1, ...)`` such as ``(N, C, H, W)``, or ``(C,)``.
        target: class indices (an integer tensor) of shape ``(N,)``, ``(N, d1, ...)`` or ``()``,
            with values in ``[0, C)`` or equal to ``ignore_index``; or probabilities shaped like input.
        weight: optional ``(C,)`` rescaling weight per class.
        size_average, reduce: PyTorch's deprecated spelling of ``reduction`` (with its warning).
        ignore_index: target value that contributes neither loss nor gradient.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        label_smoothing: ε in [0, 1].

    Shape:
        - input: ``(N, C, d1, ..., dk)``; target: ``(N, d1, ..., dk)`` (indices) or as input (probabilities)
        - output: scalar, or ``(N, d1, ..., dk)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> logits = tinynet.tensor([[2.0, 0.0], [0.0, 0.0]])
        >>> F.cross_entropy(logits, tinynet.tensor([0, 1]), reduction="none")
        tensor([0.1269, 0.6931])
        >>> seg = tinynet.zeros(1, 3, 2, 2)   # (N, C, H, W) logits, a 2x2 label map
        >>> F.cross_entropy(seg, tinynet.tensor([[[0, 1], [2, -100]]]))
        tensor(1.0986)
    """
    op = "cross_entropy"
    _check_logits(input, op)
    _check_has_classes(input, op)
    reduction = _reduction(reduction, op, size_average, reduce)
    _check_label_smoothing(label_smoothing, op)
    w = _check_class_weight(weight, input, op)
    check_tensor(target, op, "target")
    eps = float(label_smoothing)
    x = _as_batched(input)
    if target.dtype.kind == "f" and target.shape == input.shape:  # class probabilities
        if ignore_index != -100:
            raise RuntimeError(f"{op}: ignore_index is not supported for floating point target (got {ignore_index})")
        if target.dtype != input.dtype:
            raise RuntimeError(f"{op}: target has dtype {target.dtype} but input has dtype {input.dtype}")
        # the weight goes in as a Tensor: with probabilities it is differentiable, as in PyTorch
        probs = _as_batched(target)
        out = CrossEntropyProbs.apply(x, probs, weight if w is not None else None, reduction, eps)[0]
    else:
        _check_weight_not_differentiable(weight, op)
        t1 = _check_class_target(input, target, op, ignore_index)
        safe, w1, valid1 = _target_weights(t1, w, ignore_index, input.dtype)
        out = CrossEntropy.apply(x, safe, w1, valid1, w, reduction, eps)[0]
    return _unbatched_result(out, input, reduction)


# --------------------------------------------------------------------------- negative log-likelihood
class NLLLoss(Function):
    """-w_t · input[n, t, i]: a weighted gather, so the backward is the matching scatter (``ScatterClasses``)."""

    @staticmethod
    def forward(ctx, x, t1, w1, reduction):
        loss = _gather_classes(x, t1)
        loss *= -w1
        denom = w1.sum(dtype=np.float64)
        ctx.save_for_backward(t1, w1)
        ctx.x_shape, ctx.reduction, ctx.denom = x.shape, reduction, denom
        return _reduce(loss[:, 0], reduction, denom)

    @staticmethod
    def backward(ctx, grad):
        t1, w1 = ctx.saved_arrays
        g = _upstream(grad, ctx.reduction, ctx.denom, class_axis=True)  # (N, 1, *) or 0-d
        return ScatterClasses.apply(g * _const(-w1), t1, ctx.x_shape), None, None, None


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities: ``-w[t] * input[n, t]`` per position.

    Use it after ``log_softmax`` (``cross_entropy`` fuses both). ``'mean'`` divides by the total
    weight of the non-ignored targets, as in PyTorch.

    Args:
        input: log-probabilities ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``.
        target: integer class indices ``(N,)``, ``(N, d1, ...)`` or ``()``.
        weight: optional ``(C,)`` weight per class.
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        ignore_index: target value that is skipped.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Shape:
        - input: ``(N, C, d1, ..., dk)``; target: ``(N, d1, ..., dk)``
        - output: scalar, or ``(N, d1, ..., dk)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> logp = tinynet.tensor([[-0.5, -1.0], [-2.0, -0.1]])
        >>> F.nll_loss(logp, tinynet.tensor([1, 0]), reduction="none")
        tensor([1., 2.])
    """
    op = "nll_loss"
    _check_logits(input, op)
    reduction = _reduction(reduction, op, size_average, reduce)
    w = _check_class_weight(weight, input, op)
    _check_weight_not_differentiable(weight, op)
    t1 = _check_class_target(input, target, op, ignore_index)
    safe, w1, _ = _target_weights(t1, w, ignore_index, input.dtype)
    out = NLLLoss.apply(_as_batched(input), safe, w1, reduction)
    return _unbatched_result(out, input, reduction)


# --------------------------------------------------------------------------- binary cross-entropy
def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = min(x, 0) - log(1 + e^(-|x|)), finite for every x."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class BCEWithLogits(Function):
    """loss = (1 - t) x - l log σ(x) with l = 1 + (pos_weight - 1) t, times ``weight``.

    This is -w [pos_weight · t log σ(x) + (1 - t) log(1 - σ(x))] rewritten with
    log(1 - σ(x)) = log σ(x) - x, so it never takes the log of a rounded-off 0.
    Derivatives: d/dx = w [(1 - t) - l (1 - σ(x))], d/dt = w [-x - (pos_weight - 1) log σ(x)],
    d/dweight = the unweighted loss, d/dpos_weight = -w t log σ(x). The backward computes them
    in ops from the saved arguments, with 1 - σ(x) = σ(-x) and log σ(x) = min(x, 0) - log(1 + e^(-|x|)).
    """

    @staticmethod
    def forward(ctx, x, t, weight, pos_weight, reduction):
        ls = _log_sigmoid(x)
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x - lw * ls
        ctx.save_for_backward(x, t, weight, pos_weight)
        ctx.reduction, ctx.count = reduction, loss.size
        if weight is not None:
            loss = loss * weight
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t, weight, pos_weight = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, ctx.count, class_axis=False)
        gw_ = g if weight is None else g * weight  # upstream times weight
        lw = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        ls = x.clip(max=0) - (1 + (-x.abs()).exp()).log()  # log σ(x), finite for every x
        gx = gt = gweight = gpos = None
        if ctx.needs_input_grad[0]:
            gx = gw_ * ((1 - t) - lw * (-x).sigmoid())
        if ctx.needs_input_grad[1]:
            gt = gw_ * (-x if pos_weight is None else -x - (pos_weight - 1) * ls)
        if ctx.needs_input_grad[2]:
            gweight = g * ((1 - t) * x - lw * ls)
        if ctx.needs_input_grad[3]:
            gpos = gw_ * (-t * ls)
        return gx, gt, gweight, gpos, None


def _check_broadcasts_to(t, shape: tuple, op: str, name: str, dtype) -> None:
    check_tensor(t, op, name, floating=True)
    if not _broadcastable(tuple(t.shape), shape) or np.broadcast_shapes(t.shape, shape) != shape:
        raise ValueError(f"{op}: {name} of shape {tuple(t.shape)} does not broadcast to the input shape {shape}")
    if t.dtype != dtype:
        raise RuntimeError(f"{op}: {name} has dtype {t.dtype} but input has dtype {dtype}; they must match")


def _broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy of logits, with the sigmoid folded in (stable for any logit).

    Per element: ``-weight * [pos_weight * t * log σ(x) + (1 - t) * log(1 - σ(x))]``.

    Args:
        input: logits, any shape.
        target: targets in [0, 1], same shape as ``input`` (floating point).
        weight: optional rescaling weight, broadcast to ``input``'s shape.
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (mean over all elements).
        pos_weight: optional weight of positive examples, broadcast along the last
            dimension (one per class for multi-label problems).

    Shape:
        - input, target: ``(*)``, the same shape
        - output: scalar, or ``(*)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> x = tinynet.tensor([0.0, 100.0, -100.0])    # huge logits stay finite
        >>> loss = F.binary_cross_entropy_with_logits(x, tinynet.tensor([1.0, 1.0, 1.0]), reduction="none")
        >>> [round(v, 4) for v in loss.tolist()]
        [0.6931, 0.0, 100.0]
    """
    op = "binary_cross_entropy_with_logits"
    check_tensor(input, op, "input", floating=True)
    check_tensor(target, op, "target")
    reduction = _reduction(reduction, op, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(
            f"{op}: Target size ({tuple(target.shape)}) must be the same as input size ({tuple(input.shape)})"
        )
    if target.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: target must be floating point (probabilities in [0, 1]), got dtype {target.dtype}; "
            "use target.float()"
        )
    if target.dtype != input.dtype:
        raise RuntimeError(f"{op}: target has dtype {target.dtype} but input has dtype {input.dtype}; they must match")
    for name, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is not None:
            _check_broadcasts_to(t, tuple(input.shape), op, name, input.dtype)
    return BCEWithLogits.apply(input, target, weight, pos_weight, reduction)


# --------------------------------------------------------------------------- regression losses
class SquaredError(Function):
    """(x - t)²; d/dx = 2 (x - t) and d/dt = -2 (x - t), computed in ops from the saved x and t."""

    @staticmethod
    def forward(ctx, x, t, reduction):
        d = np.subtract(x, t)
        loss = d * d
        ctx.save_for_backward(x, t)
        ctx.reduction, ctx.count = reduction, loss.size
        return _reduce(loss, reduction, loss.size)

    @staticmethod
    def backward(ctx, grad):
        x, t = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, ctx.count, class_axis=False)
        gx = (2 * g) * (x - t)
        return gx, (-gx if ctx.needs_input_grad[1] else None), None


class AbsoluteError(Function):
    """|x - t|; d/dx = sign(x - t) (0 where x = t, as PyTorch) and d/dt = -sign(x - t).

    The sign is piecewise constant, so it is saved as a constant: the second derivative in x and t is 0.
    """

    @staticmethod
    def forward(ctx, x, t, reduction):
        d = np.subtract(x, t)
        ctx.save_for_backward(np.sign(d))
        ctx.reduction, ctx.count = reduction, d.size
        return _reduce(np.abs(d), reduction, d.size)

    @staticmethod
    def backward(ctx, grad):
        (sign,) = ctx.saved_tensors
        g = _upstream(grad, ctx.reduction, ctx.count, class_axis=False)
        gx = g * sign
        return gx, (-gx if ctx.needs_input_grad[1] else None), None


def _regression(fn: type, op: str, input, target, size_average, reduce, reduction, weight) -> Tensor:
    check_tensor(input, op, "input", floating=True)
    check_tensor(target, op, "target")
    reduction = _reduction(reduction, op, size_average, reduce)
    if target.dtype.kind not in "fiu":
        raise TypeError(f"{op}: target must be numeric, got dtype {target.dtype}")
    if target.dtype.kind != "f":
        target = target.to(input.dtype)  # integer targets are compared in the input's precision
    elif target.dtype != input.dtype:  # as every loss here: no silent float64 loss from a float32 model
        raise RuntimeError(f"{op}: target has dtype {target.dtype} but input has dtype {input.dtype}; they must match")
    if not _broadcastable(tuple(input.shape), tuple(target.shape)):
        raise RuntimeError(
            f"{op}: The size of input {tuple(input.shape)} and target {tuple(target.shape)} must match "
            "(or broadcast together)"
        )
    if target.shape != input.shape:
        warnings.warn(
            f"{op}: Using a target size ({tuple(target.shape)}) that is different to the input size "
            f"({tuple(input.shape)}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.",
            UserWarning,
            stacklevel=3,
        )
    if weight is None:
        return fn.apply(input, target, reduction)
    check_tensor(weight, op, "weight", floating=True)
    if weight.dtype != input.dtype:
        raise RuntimeError(f"{op}: weight has dtype {weight.dtype} but input has dtype {input.dtype}; they must match")
    if weight.shape != input.shape:
        raise ValueError(
            f"{op}: Weights and input must have the same size, got {tuple(weight.shape)} and {tuple(input.shape)}"
        )
    weighted = fn.apply(input, target, "none") * weight  # PyTorch's weighted form, composed from tensor ops
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    return weighted.sum() / weight.sum()


def mse_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None
) -> Tensor:
    """Mean squared error ``(input - target)²``, reduced over all elements.

    Args:
        input: any shape, floating point.
        target: same shape (broadcasting is allowed, with PyTorch's warning).
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        weight: optional per-element weight of ``input``'s shape; then ``'mean'`` is
            ``Σ w (x - t)² / Σ w`` (PyTorch 2.13's weighted form).

    Shape:
        - input, target: ``(*)``
        - output: scalar, or ``(*)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.mse_loss(tinynet.tensor([1.0, 2.0]), tinynet.tensor([1.0, 4.0]))
        tensor(2.)
    """
    return _regression(SquaredError, "mse_loss", input, target, size_average, reduce, reduction, weight)


def l1_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean", weight=None
) -> Tensor:
    """Mean absolute error ``|input - target|``, reduced over all elements.

    Args:
        input: any shape, floating point.
        target: same shape (broadcasting is allowed, with PyTorch's warning).
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        weight: optional per-element weight of ``input``'s shape (``'mean'`` divides by ``Σ w``).

    Shape:
        - input, target: ``(*)``
        - output: scalar, or ``(*)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> F.l1_loss(tinynet.tensor([1.0, 2.0]), tinynet.tensor([1.0, 4.0]))
        tensor(1.)
    """
    return _regression(AbsoluteError, "l1_loss", input, target, size_average, reduce, reduction, weight)


# --------------------------------------------------------------------------- soft Dice
class Dice(Function):
    """1 - soft Dice per (sample, class) on softmax probabilities; see :func:`dice_loss`.

    With p = softmax(x), y the one-hot target and v the 0/1 mask of non-ignored
    positions, I = Σ_i v p y, U = Σ_i v (p + y) and D = (2I + s) / (U + s):
    dL/dp_i = v_i (D - 2 y_i) / (U + s) for L = 1 - D, then through the softmax.
    The outputs are the loss and p (hidden); the gradient is ``DiceGrad`` of the upstream
    gradient and p, and a derivative reaching p goes back through softmax's adjoint.
    """

    @staticmethod
    def forward(ctx, x, t1, valid1, smooth, reduction):
        n, c = x.shape[:2]
        dt = x.dtype.type
        p = _softmax_parts(_by_position(x))[0].reshape(x.shape)
        positions = math.prod(x.shape[2:])  # L (explicit, so that an empty batch reshapes too)
        p3 = p.reshape(n, c, positions)
        v3 = valid1.reshape(n, positions, 1)  # (N, L, 1)
        p_sum = np.matmul(p3, v3)[..., 0]  # (N, C): Σ_i v_i p_ci as a batched mat-vec
        # Per (sample, class) totals over the positions whose target is that class, summed in float64
        # (no one-hot array of size N*C*L is built); sample_class = n*C + t indexes them flat.
        sample_class = (np.arange(n)[:, None] * c + t1.reshape(n, positions)).ravel()
        inter, y_sum = np.empty((n, c), dtype=x.dtype), np.empty((n, c), dtype=x.dtype)
        class_totals(p3, _one_per_position(t1), _one_per_position(valid1), inter, y_sum)
        den = p_sum + y_sum + dt(smooth)
        with np.errstate(invalid="ignore", divide="ignore"):  # smooth = 0 and an empty class: nan, documented
            dice = (2 * inter + dt(smooth)) / den
        ctx.save_for_backward(p, t1, sample_class, valid1, dice, den)
        ctx.reduction, ctx.smooth = reduction, smooth
        return _reduce(1 - dice, reduction, n * c), p

    @staticmethod
    def backward(ctx, grad, grad_p):
        p = ctx.saved_tensors[0]  # output 1, on the tape
        _, t1, sample_class, valid1, dice, den = ctx.saved_arrays
        gx = None
        if grad is not None:
            gx = DiceGrad.apply(grad, p, t1, sample_class, valid1, dice, den, ctx.smooth, ctx.reduction)
        if grad_p is not None:
            through_p = _softmax_adjoint_ops(p, grad_p)
            gx = through_p if gx is None else gx + through_p
        return gx, None, None, None, None


class DiceGrad(Function):
    """dL/dx of :class:`Dice` from its upstream gradient and p (``forward``: the fused first-order gradient).

    Per (sample, class), with g the upstream gradient: a = g D / den, b = 2 g / den and
    gp = v (a - b y), gx = p ⊙ (gp - Σ_c p gp). The backward differentiates this in ops,
    with I, den and D recomputed from p: for the gradient W of gx, Q = p ⊙ (W - Σ_c W p) is
    the gradient of gp, qa = Σ_i v Q and qb = -Σ_i v y Q those of a and b, and the chain
    goes on through a, b to g, D and den, and through D = (2I + s) / den and den = Σ_i v p + Σ_i v y + s to p.
    """

    @staticmethod
    def forward(ctx, grad, p, t1, sample_class, valid1, dice, den, smooth, reduction):
        n, c = dice.shape
        spatial = (1,) * (p.ndim - 2)
        g = _upstream(grad, reduction, n * c, class_axis=False)
        g = np.broadcast_to(g, (n, c))
        with np.errstate(invalid="ignore", divide="ignore"):
            a = (g * dice / den).reshape((n, c) + spatial)  # dL/dp = v (A - B y)
            b = 2 * g / den  # (N, C)
        gp = a * valid1  # (N, C, *)
        b_at_target = np.take(b, sample_class).reshape(valid1.shape)  # B[n, t] at every position
        _scatter_classes(gp, t1, -b_at_target * valid1)  # the -B y term at the target class
        ctx.save_for_backward(grad, p, t1, valid1)
        ctx.smooth, ctx.reduction = smooth, reduction
        return _softmax_adjoint(p, gp)

    @staticmethod
    def backward(ctx, gw):
        grad, p = ctx.saved_tensors[:2]
        _, _, t1, valid1 = ctx.saved_arrays
        n, c = p.shape[:2]
        length = math.prod(p.shape[2:])
        v3 = _const(valid1.reshape(n, 1, length))
        y = zeros(p.shape, p.dtype)  # the one-hot target of the counted positions, v y (a scatter adds into it)
        _scatter_classes(y, t1, valid1)
        y3 = y.reshape(n, c, length)
        y_sum, y3 = y3.sum(axis=2), _const(y3)
        p3, w3 = p.reshape(n, c, length), gw.reshape(n, c, length)
        inter = (p3 * y3).sum(2)  # (N, C)
        den = (p3 * v3).sum(2) + _const(y_sum) + ctx.smooth
        dice = (2 * inter + ctx.smooth) / den
        g = _upstream(grad, ctx.reduction, n * c, class_axis=False)  # (N, C) or 0-d
        a, b = g * dice / den, 2 * g / den
        gp = v3 * a.unsqueeze(2) - y3 * b.unsqueeze(2)
        w_dot_p = (w3 * p3).sum(1, keepdim=True)
        q = p3 * (w3 - w_dot_p)  # the gradient of gp
        qa, qb = (q * v3).sum(2), -(q * y3).sum(2)
        dgrad = dp = None
        if ctx.needs_input_grad[0]:
            dgrad = _upstream_adjoint(qa * dice / den + 2 * qb / den, ctx.reduction, n * c, class_axis=False)
        if ctx.needs_input_grad[1]:
            d_dice = qa * g / den
            d_den = -(qa * a + qb * b) / den - d_dice * dice / den
            d_inter = 2 * d_dice / den
            dp3 = w3 * (gp - (p3 * gp).sum(1, keepdim=True)) - gp * w_dot_p
            dp3 = dp3 + y3 * d_inter.unsqueeze(2) + v3 * d_den.unsqueeze(2)
            dp = dp3.reshape(p.shape)
        return dgrad, dp, None, None, None, None, None, None, None


def dice_loss(
    input: Tensor, target: Tensor, smooth: float = 1.0, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Multi-class soft Dice loss on softmax probabilities (PyTorch has no built-in Dice loss).

    With p = softmax(input, dim=1), y the one-hot encoding of ``target`` and the sums over
    the spatial positions i of one sample n whose target is not ``ignore_index``::

        dice[n, c] = (2 Σ_i p[n,c,i] y[n,c,i] + smooth) / (Σ_i p[n,c,i] + Σ_i y[n,c,i] + smooth)
        loss[n, c] = 1 - dice[n, c]

    A class absent from a sample and (correctly) not predicted scores dice = 1 thanks to
    ``smooth``; with ``smooth=0`` such a class gives 0/0 = nan. The loss is bounded in [0, 1],
    insensitive to class imbalance, and is often added to cross-entropy for segmentation.

    Args:
        input: logits ``(N, C, *)``, e.g. ``(N, C, H, W)``.
        target: integer class indices ``(N, *)`` in ``[0, C)`` or ``ignore_index``.
        smooth: additive smoothing, >= 0 (default 1).
        ignore_index: positions with this target count in neither sum.
        reduction: ``'mean'`` over N and C (default), ``'sum'``, or ``'none'``.

    Shape:
        - input: ``(N, C, d1, ..., dk)``; target: ``(N, d1, ..., dk)``
        - output: scalar, or ``(N, C)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> import tinynet.nn.functional as F
        >>> logits = tinynet.tensor([[[[0.0, 0.0]], [[0.0, 0.0]]]])     # N=1, C=2, H=1, W=2: p = 0.5 everywhere
        >>> F.dice_loss(logits, tinynet.tensor([[[0, 1]]]), reduction="none")  # (2*0.5 + 1) / (1 + 1 + 1) = 2/3
        tensor([[0.3333, 0.3333]])
    """
    op = "dice_loss"
    _check_logits(input, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C, *), got shape {tuple(input.shape)}")
    _check_has_classes(input, op)
    reduction = _reduction(reduction, op)
    _check_smooth(smooth, op)
    t1 = _check_class_target(input, target, op, ignore_index)
    safe, _, valid1 = _target_weights(t1, None, ignore_index, input.dtype)
    return Dice.apply(input, safe, valid1, float(smooth), reduction)[0]
