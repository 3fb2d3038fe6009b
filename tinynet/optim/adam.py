"""Adam and AdamW (Kingma & Ba, 2015; Loshchilov & Hutter, 2019) with PyTorch's exact update."""

from __future__ import annotations

import numpy as np

from tinynet.optim.optimizer import Optimizer, check_flag, check_number
from tinynet.tensor import Tensor

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam, step for step the update of ``torch.optim.Adam``.

    With gradient g (negated if ``maximize``) and step count t (starting at 1)::

        θ ← θ (1 - lr · wd)                if decoupled_weight_decay (AdamW)
        g ← g + wd · θ                     otherwise, if wd ≠ 0 (L2 penalty)
        m ← m + (1 - β1) (g - m)           first moment (PyTorch's lerp)
        v ← β2 v + (1 - β2) g²             second moment
        v̂ ← max(v̂, v) if amsgrad else v
        θ ← θ - lr / (1 - β1ᵗ) · m / (sqrt(v̂) / sqrt(1 - β2ᵗ) + eps)

    Per-parameter state: ``step`` (an int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and,
    with amsgrad, ``max_exp_avg_sq`` (v̂).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3).
        betas: (β1, β2), each in [0, 1) (default (0.9, 0.999)).
        eps: added to the denominator (default 1e-8).
        weight_decay: L2 penalty, or decoupled decay with ``decoupled_weight_decay`` (default 0).
        amsgrad: use the running maximum of v (Reddi et al., 2018).
        maximize: ascend instead of descend.
        decoupled_weight_decay: AdamW's decay (what :class:`AdamW` sets).

    Example:
        >>> import tinynet
        >>> from tinynet import optim
        >>> w = tinynet.nn.Parameter(tinynet.tensor([1.0, -1.0]))
        >>> opt = optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()       # the first Adam step moves each weight by about lr, against the gradient's sign
        >>> w
        Parameter containing:
        tensor([ 0.9, -0.9], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, (list, tuple)) else betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        self._check_group(defaults)
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number(group["lr"], "learning rate", minimum=0.0)
        check_number(group["eps"], "epsilon value", minimum=0.0)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Invalid betas: expected a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            check_number(b, f"beta parameter at index {i}", minimum=0.0, below=1.0)
        check_number(group["weight_decay"], "weight_decay value", minimum=0.0)
        for flag in ("amsgrad", "maximize", "decoupled_weight_decay"):
            if flag in group:
                check_flag(group[flag], f"{flag} value")

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            amsgrad, decoupled = group["amsgrad"], group["decoupled_weight_decay"]
            for p, g in self._params_with_grad(group):
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = Tensor._wrap(np.zeros_like(p.data))
                    state["exp_avg_sq"] = Tensor._wrap(np.zeros_like(p.data))
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor._wrap(np.zeros_like(p.data))
                state["step"] += 1
                t = state["step"]
                if weight_decay != 0:
                    if decoupled:
                        p.data *= 1 - lr * weight_decay
                    else:
                        g = g + weight_decay * p.data
                m, v = state["exp_avg"].data, state["exp_avg_sq"].data
                diff = g - m  # m.lerp_(g, 1 - β1) = m + (1 - β1)(g - m)
                diff *= 1 - beta1
                m += diff
                v *= beta2
                v += (1 - beta2) * g * g
                if amsgrad:
                    vmax = state["max_exp_avg_sq"].data
                    np.maximum(vmax, v, out=vmax)
                    v = vmax
                step_size = lr / (1 - beta1**t)
                bias_correction2_sqrt = (1 - beta2**t) ** 0.5  # as PyTorch writes it (bit for bit)
                denom = np.sqrt(v)
                denom /= bias_correction2_sqrt
                denom += eps
                np.divide(m, denom, out=denom)
                denom *= -step_size
                p.data += denom
        self._opt_called = True
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (``θ ← θ (1 - lr · wd)`` before the Adam step).

    Same as ``Adam(..., decoupled_weight_decay=True)``, with PyTorch's default
    ``weight_decay=1e-2``.

    Example:
        >>> import tinynet
        >>> from tinynet import nn, optim
        >>> opt = optim.AdamW(nn.Linear(2, 2).parameters())
        >>> opt.param_groups[0]["weight_decay"], opt.param_groups[0]["decoupled_weight_decay"]
        (0.01, True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # AdamW always decays decoupled, whatever the file says
            group["decoupled_weight_decay"] = True
