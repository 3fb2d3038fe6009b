"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay (PyTorch's rule)."""

from __future__ import annotations

import numpy as np

from tinynet.optim.optimizer import Optimizer, check_flag, check_number
from tinynet.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD, step for step the update of ``torch.optim.SGD``.

    With gradient g (negated if ``maximize``), for each parameter θ::

        g ← g + weight_decay · θ                         (if weight_decay ≠ 0)
        b ← g on the first step, else momentum · b + (1 - dampening) · g
        g ← g + momentum · b if nesterov else b          (if momentum ≠ 0)
        θ ← θ - lr · g

    Parameters whose ``.grad`` is None are skipped. The momentum buffer ``b`` is the
    per-parameter state ``"momentum_buffer"`` (only kept when momentum ≠ 0).

    Args:
        params: parameters or parameter groups (see :class:`Optimizer`).
        lr: learning rate (default 1e-3, as PyTorch 2.13).
        momentum: momentum factor (default 0).
        dampening: dampening of the momentum (default 0).
        weight_decay: L2 penalty (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.

    Example:
        >>> import tinynet
        >>> from tinynet import optim
        >>> w = tinynet.nn.Parameter(tinynet.tensor([1.0]))
        >>> opt = optim.SGD([w], lr=0.1, momentum=0.9)
        >>> for _ in range(2):
        ...     opt.zero_grad()
        ...     (w * w).sum().backward()   # gradient 2w
        ...     opt.step()
        >>> w   # 1 - 0.1*2 = 0.8, then b = 0.9*2 + 1.6 = 3.4 and 0.8 - 0.34 = 0.46
        Parameter containing:
        tensor([0.46], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        self._check_group(defaults)  # report bad hyperparameters before looking at the parameters
        super().__init__(params, defaults)

    def _check_group(self, group: dict) -> None:
        check_number(group["lr"], "learning rate", minimum=0.0)
        check_number(group["momentum"], "momentum value", minimum=0.0)
        check_number(group["dampening"], "dampening value")
        check_number(group["weight_decay"], "weight_decay value", minimum=0.0)
        check_flag(group["nesterov"], "nesterov value")
        check_flag(group["maximize"], "maximize value")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening "
                f"(got momentum={group['momentum']}, dampening={group['dampening']})"
            )

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss if given."""
        loss = self._closure_loss(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for p, g in self._params_with_grad(group):
                if weight_decay != 0:
                    g = g + weight_decay * p.data  # a new array: .grad itself is left alone
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = Tensor._wrap(np.array(g, copy=True))
                    else:
                        b = buf.data
                        b *= momentum
                        b += g if dampening == 0 else (1 - dampening) * g
                    g = g + momentum * buf.data if nesterov else buf.data
                p.data -= lr * g
        self._opt_called = True
        return loss
