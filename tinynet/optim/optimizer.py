"""``Optimizer``: parameter groups, per-parameter state, and PyTorch's state_dict layout.

An optimizer holds ``param_groups`` (a list of dicts: ``params`` plus the
hyperparameters of that group) and ``state`` (a dict from each parameter to its
own state, e.g. a momentum buffer). ``step()`` updates ``param.data`` in place,
so the Parameter objects, and anything sharing their memory, see the new values.

``state_dict()`` has PyTorch's layout, ``{"state": {index: {...}}, "param_groups":
[{..., "params": [indices]}]}``, built only from numpy arrays, numbers, bools,
strings, lists and dicts, so a checkpoint can store it without pickle.
``load_state_dict`` accepts that layout with numpy arrays, tinynet Tensors or
torch tensors as values (a ``torch.optim`` state_dict loads directly).
"""

from __future__ import annotations

import numbers
import warnings
from collections import defaultdict
from itertools import chain

import numpy as np

from tinynet.tensor import Tensor

__all__ = ["Optimizer"]


def _check_grad(p) -> None:
    """A hand-set ``.grad`` must match its parameter, as PyTorch checks on assignment (no silent broadcast or upcast)."""
    g = p.grad
    if not isinstance(g, Tensor):
        raise TypeError(f"optimizer step: a parameter of shape {p.shape} has a .grad that is not a Tensor: {g!r}")
    if g.shape != p.shape or g.dtype != p.dtype:
        raise RuntimeError(
            f"optimizer step: a parameter of shape {p.shape} and dtype {p.dtype} has a .grad of shape {g.shape} "
            f"and dtype {g.dtype}; assigned gradients must match their parameter"
        )


class Optimizer:
    """Base class of the optimizers (PyTorch's ``torch.optim.Optimizer``).

    Args:
        params: an iterable of Parameters, of ``(name, Parameter)`` pairs, or of dicts
            ``{"params": [...], "lr": ...}`` defining parameter groups with their own options.
        defaults: the options a group takes when it does not set them.

    Subclasses implement ``step()`` and ``_check_group(group)`` (argument validation).

    Example:
        >>> import tinynet
        >>> from tinynet import nn, optim
        >>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> opt = optim.SGD([
        ...     {"params": model[0].parameters()},              # uses the defaults below
        ...     {"params": model[2].parameters(), "lr": 0.01},  # its own learning rate
        ... ], lr=0.1, momentum=0.9)
        >>> loss = nn.functional.cross_entropy(model(tinynet.randn(5, 4)), tinynet.tensor([0, 1, 1, 0, 1]))
        >>> opt.zero_grad(); loss.backward(); opt.step()
        >>> [g["lr"] for g in opt.param_groups], len(opt.state)
        ([0.1, 0.01], 4)
    """

    def __init__(self, params, defaults: dict):
        if not isinstance(defaults, dict):
            raise TypeError(f"{type(self).__name__}: defaults must be a dict of hyperparameters, got {defaults!r}")
        self.defaults = defaults
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        self._opt_called = False
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params argument given to the optimizer should be an iterable of Tensors or dicts, "
                "but got a Tensor (pass model.parameters() or [tensor])"
            )
        if isinstance(params, set):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _check_group(self, group: dict) -> None:
        """Validate a group's hyperparameters (subclasses raise ValueError naming the bad value)."""

    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a layer to unfreeze with a smaller lr).

        Example:
            >>> import tinynet
            >>> from tinynet import nn, optim
            >>> a, b = nn.Linear(2, 2), nn.Linear(2, 2)
            >>> opt = optim.SGD(a.parameters(), lr=0.1)
            >>> opt.add_param_group({"params": b.parameters(), "lr": 0.01})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.01]
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                f"{name}: optimizer parameters need to be organized in ordered collections, but the ordering of "
                "tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError(f"{name}: all optimizer params should be with/without names. Some param names are missing")
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: optimizer can only optimize Tensors, but params[{i}] is a {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(
                    f"{name}: params[{i}] has dtype {p.dtype}; only floating-point tensors can be optimized"
                )
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (params[{i}] was computed by an operation)")
        group = dict(param_group)
        group["params"] = params
        if names:
            group["param_names"] = names
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_group(group)
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                f"{name}: optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error",
                UserWarning,
                stacklevel=2,
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen & {id(p) for p in params}:
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters (to None by default, as PyTorch 2.x)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    if set_to_none:
                        p.grad = None
                    else:
                        p.grad.data[...] = 0

    def step(self, closure=None):
        """Update the parameters once (implemented by each optimizer)."""
        raise NotImplementedError

    @staticmethod
    def _params_with_grad(group: dict):
        """``(param, gradient)`` for each parameter of ``group`` that has a ``.grad`` (negated if maximizing)."""
        for p in group["params"]:
            if p.grad is not None:
                _check_grad(p)
                yield p, (-p.grad.data if group["maximize"] else p.grad.data)

    def _closure_loss(self, closure):
        if closure is None:
            return None
        if not callable(closure):
            raise TypeError(f"{type(self).__name__}.step: closure must be callable or None, got {closure!r}")
        from tinynet.autograd import enable_grad

        with enable_grad():
            return closure()

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """The optimizer's state in PyTorch's layout, made of arrays, numbers, strings, lists and dicts.

        Parameters are replaced by their index in the order of ``param_groups``. Arrays are the
        optimizer's own buffers (not copies), like PyTorch's; save them before the next ``step``.

        Example:
            >>> import tinynet
            >>> from tinynet import nn, optim
            >>> opt = optim.SGD(nn.Linear(2, 1).parameters(), lr=0.1, momentum=0.9)
            >>> sd = opt.state_dict()
            >>> sd["param_groups"][0]["params"], sd["param_groups"][0]["momentum"]
            ([0, 1], 0.9)
        """
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: _plain(v) for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: (v.data if isinstance(v, Tensor) else _plain(v)) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state saved by ``state_dict()`` (tinynet's or torch's) into this optimizer.

        The groups must have the same sizes as this optimizer's; each saved index maps to the
        parameter at the same position. State arrays are copied and cast to their parameter's
        dtype; a shape that does not match the parameter is an error naming both.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' (from state_dict())")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}: loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)} saved, {len(self.param_groups)} in this optimizer)"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"{name}: loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group (group {i}: {len(s['params'])} saved, {len(g['params'])} here)"
                )
        saved_ids = [int(np.asarray(k)) for k in chain.from_iterable(s["params"] for s in saved_groups)]
        id_map = dict(zip(saved_ids, chain.from_iterable(g["params"] for g in self.param_groups)))
        new_state: defaultdict = defaultdict(dict)
        for key, values in state_dict["state"].items():
            k = int(key)
            if k not in id_map:
                raise ValueError(f"{name}: state_dict has state for parameter {k}, which no group lists")
            p = id_map[k]
            new_state[p] = {sk: _load_state_value(sk, v, p, k, name) for sk, v in values.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = {k: _loaded_option(v, g.get(k)) for k, v in s.items() if k not in ("params", "param_names")}
            ng["params"] = g["params"]
            if "param_names" in s:
                ng["param_names"] = [str(n) for n in s["param_names"]]
            elif "param_names" in g:
                ng["param_names"] = g["param_names"]
            for key, default in self.defaults.items():
                ng.setdefault(key, default)
            self._check_group(ng)
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


def _plain(value):
    """Group options and state scalars as plain Python values (tuples become lists)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _unwrap(value):
    """tinynet Tensors and torch tensors as numpy arrays; anything else unchanged."""
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    return value


def _as_python(value):
    """A loaded option (possibly a 0-d/1-d array after an .npz round trip) as Python values."""
    value = _unwrap(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_as_python(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_python(v) for k, v in value.items()}
    return value


def _loaded_option(value, current):
    value = _as_python(value)
    if isinstance(current, tuple) and isinstance(value, list):
        return tuple(value)  # Adam's betas
    return value


def _load_state_value(key: str, value, param: Tensor, index: int, name: str):
    if key == "step":
        return int(round(float(np.asarray(_unwrap(value)))))
    if isinstance(value, numbers.Number) or value is None:
        return value
    arr = np.asarray(_unwrap(value))
    if arr.shape != param.shape:
        raise ValueError(
            f"{name}: state {key!r} of parameter {index} has shape {arr.shape}, "
            f"but the parameter has shape {tuple(param.shape)}"
        )
    return Tensor._wrap(np.array(arr, dtype=param.dtype, copy=True))


def check_flag(value, what: str) -> None:
    """A boolean hyperparameter (a string such as 'False' would otherwise be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Invalid {what}: expected a bool, got {value!r}")


def check_number(value, what: str, *, minimum: float | None = None, below: float | None = None) -> None:
    """Raise PyTorch's ValueError (``Invalid learning rate: -1``) for a bad hyperparameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"Invalid {what}: expected a number, got {value!r}")
    if (minimum is not None and not value >= minimum) or (below is not None and not value < below):
        raise ValueError(f"Invalid {what}: {value}")
