"""Second derivatives of a tinynet function against torch's, for the double-backward tests.

``compare_second_order`` takes the same function in both frameworks and float64 arrays, and
compares the gradients of L2 = Σ_i ⟨w_i, dL1/dx_i⟩ with L1 = ⟨v, f(x)⟩: with respect to every
input x_i (the Hessian-vector part) and with respect to v (the first backward as a map of v).
Used by the per-op double-backward tests; torch is imported only by the caller's module.
"""

from __future__ import annotations

import numpy as np

import tinynet
from tinynet.autograd import grad as tn_grad


def _second(first_grads, wrt, v, ws, grad_fn):
    used = [(g, w) for g, w in zip(first_grads, ws) if g is not None]
    if not any(getattr(g, "requires_grad", False) for g, _ in used):
        return [None] * (len(wrt) + 1)
    total = sum((g * w).sum() for g, w in used if g.requires_grad)
    return list(grad_fn(total, [*wrt, v]))


def second_derivatives_tinynet(fn, arrays, requires, v, ws):
    xs = [tinynet.tensor(a, requires_grad=r) if isinstance(a, np.ndarray) else a for a, r in zip(arrays, requires)]
    wrt = [x for x, r in zip(xs, requires) if r]
    out = fn(*xs)
    vt = tinynet.tensor(v, requires_grad=True)
    first = tn_grad(out, wrt, grad_outputs=vt, create_graph=True, allow_unused=True)
    sec = _second(first, wrt, vt, [tinynet.tensor(w) for w in ws], lambda o, i: tn_grad(o, i, allow_unused=True))
    return [None if g is None else g.detach().numpy().astype(np.float64) for g in first], [
        None if s is None else s.numpy().astype(np.float64) for s in sec
    ]


def second_derivatives_torch(torch, fn, arrays, requires, v, ws):
    xs = [torch.tensor(a, requires_grad=r) if isinstance(a, np.ndarray) else a for a, r in zip(arrays, requires)]
    wrt = [x for x, r in zip(xs, requires) if r]
    out = fn(*xs)
    vt = torch.tensor(v, requires_grad=True)
    first = torch.autograd.grad(out, wrt, grad_outputs=vt, create_graph=True, allow_unused=True)
    sec = _second(
        first, wrt, vt, [torch.tensor(w) for w in ws], lambda o, i: torch.autograd.grad(o, i, allow_unused=True)
    )
    return [None if g is None else g.detach().numpy(force=True) for g in first], [
        None if s is None else s.detach().numpy(force=True)
        for s in sec  # force: torch may return a ZeroTensor
    ]


def compare_second_order(torch, tn_fn, torch_fn, arrays, requires, seed=0, rtol=1e-8, atol=1e-10):
    """Assert that first and second derivatives of ``tn_fn`` and ``torch_fn`` agree (float64).

    ``arrays``: the inputs (float64 numpy arrays, or other values passed as they are, such as
    integer targets, which are converted by each framework's own ``tensor``). ``requires``:
    per input, whether it is differentiated. A second derivative that one framework returns as
    None (no dependence) must be zero in the other.
    """
    rng = np.random.default_rng(seed)
    xs_tn = [tinynet.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]
    with tinynet.no_grad():
        out_shape = tn_fn(*xs_tn).shape
    v = rng.standard_normal(out_shape)
    ws = [rng.standard_normal(a.shape) for a, r in zip(arrays, requires) if r]
    f_tn, s_tn = second_derivatives_tinynet(tn_fn, arrays, requires, v, ws)
    f_th, s_th = second_derivatives_torch(torch, torch_fn, arrays, requires, v, ws)
    names = [f"input {i}" for i, r in enumerate(requires) if r] + ["grad_output"]
    for name, a, b in zip(names, f_tn, f_th):
        a = np.zeros_like(b) if a is None and b is not None else a
        b = np.zeros_like(a) if b is None and a is not None else b
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"first derivative, {name}")
    for name, a, b, shape in zip(names, s_tn, s_th, [np.shape(w) for w in ws] + [v.shape]):
        a = np.zeros(shape) if a is None else a
        b = np.zeros(shape) if b is None else b
        scale = max(np.abs(b).max(initial=0.0), 1.0)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol * scale, err_msg=f"second derivative w.r.t. {name}")
