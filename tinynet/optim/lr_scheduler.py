"""Learning-rate schedulers: ``StepLR``, ``CosineAnnealingLR`` and ``OneCycleLR``, as in ``torch.optim``.

A scheduler rewrites ``group["lr"]`` of its optimizer's parameter groups each time
``scheduler.step()`` is called (after ``optimizer.step()``). The formulas are
PyTorch's, including its recursive ("chainable") form of cosine annealing, so a
schedule matches ``torch.optim.lr_scheduler`` value for value.

A scheduler's ``state_dict()`` is every attribute except the optimizer, made of
numbers, strings, bools, lists and dicts, as in PyTorch.
"""

from __future__ import annotations

import copy
import math
import numbers
import warnings

from tinynet.optim.optimizer import Optimizer, _as_python

__all__ = ["LRScheduler", "StepLR", "CosineAnnealingLR", "OneCycleLR"]


class LRScheduler:
    """Base class: keeps ``base_lrs`` (each group's ``initial_lr``) and ``last_epoch``.

    Constructing a scheduler performs its first step (epoch 0), so the optimizer's
    learning rates are the schedule's first values right away. ``last_epoch=-1``
    starts a fresh schedule; a resumed one needs ``initial_lr`` in each group.

    Subclasses implement ``get_lr()`` (and ``_get_closed_form_lr()`` for ``step(epoch)``).

    Example:
        >>> from tinynet import nn, optim
        >>> class Halve(optim.lr_scheduler.LRScheduler):   # a custom schedule: halve every step
        ...     def get_lr(self):
        ...         return [base * 0.5**self.last_epoch for base in self.base_lrs]
        >>> opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
        >>> sched = Halve(opt)
        >>> for _ in range(3):
        ...     opt.step()
        ...     sched.step()
        >>> sched.get_last_lr()
        [0.125]
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"{type(self).__name__}: last_epoch must be an int >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with "
                        "last_epoch >= 0 (load the optimizer's state_dict first, or start with last_epoch=-1)"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        """The learning rates for ``last_epoch`` (subclasses implement it)."""
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The learning rates set by the last ``step()``, one per parameter group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance the schedule by one (call it after ``optimizer.step()``) and set each group's lr."""
        if self._step_count == 1 and not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. You should call them in the "
                "order `optimizer.step()` then `lr_scheduler.step()`; otherwise the first value of the learning "
                "rate schedule is skipped.",
                UserWarning,
                stacklevel=2,
            )
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn(
                "The epoch parameter in `scheduler.step()` is deprecated; use `scheduler.step()`. "
                "With an epoch, the closed form of the schedule is used where it exists.",
                UserWarning,
                stacklevel=2,
            )
            self.last_epoch = int(epoch)
            values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute but the optimizer (PyTorch's layout); plain Python values only.

        Example:
            >>> from tinynet import nn, optim
            >>> opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
            >>> sched = optim.lr_scheduler.StepLR(opt, step_size=10)
            >>> sorted(sched.state_dict())
            ['_is_initial', '_last_lr', '_step_count', 'base_lrs', 'gamma', 'last_epoch', 'step_size']
        """
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the attributes saved by ``state_dict()`` (arrays from a checkpoint become numbers)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"{type(self).__name__}.load_state_dict expects a dict, got {type(state_dict).__name__}")
        self.__dict__.update({k: _as_python(v) for k, v in state_dict.items() if k != "optimizer"})


def _positive_int(value, name: str, owner: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


def _number(value, name: str, owner: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a number, got {value!r}")
    return value


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    lr at epoch e = base_lr · gamma^⌊e / step_size⌋ (computed recursively, as PyTorch).

    Args:
        optimizer: the optimizer whose groups are scheduled.
        step_size: period of the decay, in calls to ``step()``.
        gamma: multiplicative factor (default 0.1).
        last_epoch: index of the last epoch when resuming (default -1: start).

    Example:
        >>> from tinynet import nn, optim
        >>> opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
        >>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for _ in range(5):
        ...     opt.step()
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        self.step_size = _positive_int(step_size, "step_size", "StepLR")
        self.gamma = _number(gamma, "gamma", "StepLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Anneal the learning rate from its initial value to ``eta_min`` along half a cosine over ``T_max`` steps.

    lr_t = eta_min + (base_lr - eta_min) · (1 + cos(π t / T_max)) / 2. Like PyTorch, the
    value is updated recursively from the current lr (so other changes to the lr compose)::

        lr_t = eta_min + (lr_{t-1} - eta_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t-1) / T_max))

    Past ``T_max`` the cosine continues (the lr rises again), as in PyTorch.

    Args:
        optimizer: the optimizer whose groups are scheduled.
        T_max: number of steps of the half cosine.
        eta_min: the minimum learning rate (default 0).
        last_epoch: index of the last epoch when resuming (default -1: start).

    Example:
        >>> from tinynet import nn, optim
        >>> opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=1.0)
        >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
        >>> lrs = []
        >>> for _ in range(5):
        ...     opt.step()
        ...     lrs.append(round(sched.get_last_lr()[0], 4))
        ...     sched.step()
        >>> lrs
        [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        self.T_max = _positive_int(T_max, "T_max", "CosineAnnealingLR")
        self.eta_min = _number(eta_min, "eta_min", "CosineAnnealingLR")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        groups = self.optimizer.param_groups
        t, t_max, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:  # resumed at t: use the closed form once
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / t_max)) / 2 for base in self.base_lrs]
        if (t - 1 - t_max) % (2 * t_max) == 0:  # the bottom of a cycle (where the ratio below is 0/0)
            return [
                group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
                for base, group in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * t / t_max)) / (1 + math.cos(math.pi * (t - 1) / t_max)) * (group["lr"] - eta_min)
            + eta_min
            for group in groups
        ]

    def _get_closed_form_lr(self) -> list:
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base in self.base_lrs
        ]


def _per_group(name: str, optimizer: Optimizer, value) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {len(optimizer.param_groups)}."
            )
        values = list(value)
    else:
        values = [value] * len(optimizer.param_groups)
    for v in values:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not v >= 0:
            raise ValueError(
                f"OneCycleLR: {name} must be a non-negative number (or one per param group), got {value!r}"
            )
    return values


def _phase(end_step: float, start_lr: str, end_lr: str, start_momentum: str, end_momentum: str) -> dict:
    """One segment of the 1cycle schedule: it ends at ``end_step``; the values name group keys."""
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_momentum,
        "end_momentum": end_momentum,
    }


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017): warm up to ``max_lr``, then anneal far below the start.

    The learning rate starts at ``max_lr / div_factor``, rises to ``max_lr`` over the first
    ``pct_start`` of ``total_steps`` and then falls to ``initial_lr / final_div_factor``.
    With ``three_phase=True`` it falls back to the initial lr symmetrically first, then to the
    minimum (the paper's schedule). ``anneal_strategy`` is ``'cos'`` (half cosines) or
    ``'linear'``. With ``cycle_momentum`` the momentum (SGD's ``momentum`` or Adam's β1)
    moves inversely, between ``max_momentum`` and ``base_momentum``. Call ``step()`` after
    every batch; stepping beyond ``total_steps`` raises ValueError, as in PyTorch.

    Args:
        optimizer: the optimizer whose groups are scheduled.
        max_lr: peak learning rate (or one per group).
        total_steps: length of the cycle; or give ``epochs`` and ``steps_per_epoch``.
        epochs, steps_per_epoch: total_steps = epochs · steps_per_epoch.
        pct_start: fraction of the cycle spent increasing the lr (default 0.3).
        anneal_strategy: ``'cos'`` (default) or ``'linear'``.
        cycle_momentum: cycle momentum / β1 inversely to the lr (default True).
        base_momentum, max_momentum: the momentum range (default 0.85, 0.95).
        div_factor: initial_lr = max_lr / div_factor (default 25).
        final_div_factor: min_lr = initial_lr / final_div_factor (default 1e4).
        three_phase: use the three-phase schedule (default False).
        last_epoch: index of the last batch when resuming (default -1: start).

    Example:
        >>> from tinynet import nn, optim
        >>> opt = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=0.9)
        >>> sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="linear")
        >>> lrs = []
        >>> for _ in range(10):
        ...     opt.step()
        ...     lrs.append(sched.get_last_lr()[0])
        ...     sched.step()
        >>> [round(lr, 4) for lr in lrs[:4]]   # up from max_lr / 25 to max_lr in 3 steps, then down
        [0.04, 0.52, 1.0, 0.8571]
        >>> f"{lrs[-1]:.2e}"                   # the last step reaches initial_lr / final_div_factor
        '4.00e-06'
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if isinstance(steps_per_epoch, bool) or not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if isinstance(pct_start, bool) or not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        for name, v in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or v <= 0:
                raise ValueError(f"OneCycleLR: {name} must be a positive number, got {v!r}")
        for name, v in (("cycle_momentum", cycle_momentum), ("three_phase", three_phase)):
            if not isinstance(v, bool):
                raise TypeError(f"OneCycleLR: {name} must be a bool, got {v!r}")
        for name, v in (("max_lr", max_lr), ("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            _per_group(name, optimizer, v)  # checked before any param group is modified
        self._anneal_func_type = anneal_strategy
        steps, pct = self.total_steps, pct_start
        if three_phase:  # up, back down to the start (symmetric), then on to the minimum
            self._schedule_phases = [
                _phase(float(pct * steps) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct * steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                _phase(steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:  # up, then down to the minimum
            self._schedule_phases = [
                _phase(float(pct * steps) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        start = 0.0
        for i, phase in enumerate(self._schedule_phases):
            if not phase["end_step"] > start:  # PyTorch would divide by zero when it reaches this phase
                raise ValueError(
                    f"OneCycleLR: phase {i} of the schedule is empty (it would end at step {phase['end_step']} and "
                    f"start at step {start}); with total_steps={steps}, pct_start={pct} is too small or too large"
                )
            start = phase["end_step"]
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = lr / div_factor
                group["max_lr"] = lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            max_moms = _per_group("max_momentum", optimizer, max_momentum)
            base_moms = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for m_max, m_base, group in zip(max_moms, base_moms, optimizer.param_groups):
                    if self.use_beta1:
                        group["betas"] = (m_max, *group["betas"][1:])
                    else:
                        group["momentum"] = m_max
                    group["max_momentum"] = m_max
                    group["base_momentum"] = m_base
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs
