"""``Module`` and ``Parameter``: PyTorch's containers for state, with PyTorch's state_dict keys.

A Module registers what is assigned to it: a ``Parameter`` becomes a parameter,
a ``Module`` a submodule, and tensors passed to ``register_buffer`` buffers.
``state_dict()`` walks them in registration order and names them with dotted
paths (``encoder.0.weight``), exactly as PyTorch does, so weights move between
the two frameworks key for key.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Iterator

import numpy as np

from tinynet.tensor import Tensor

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter (``requires_grad=True``).

    Example:
        >>> import tinynet
        >>> p = tinynet.nn.Parameter(tinynet.zeros(2))
        >>> p.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty(0, dtype=np.float32)
        arr = data.data if isinstance(data, Tensor) else np.asarray(data)
        if not isinstance(data, (Tensor, np.ndarray)) and arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        # Share memory with the tensor we were given, like torch.nn.Parameter.
        self.data = arr
        self.grad = None
        self._node = None
        self._out_idx = 0
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of layers and models (PyTorch's ``nn.Module``).

    Subclasses set parameters and submodules as attributes in ``__init__`` and
    define ``forward``; calling the module calls ``forward``.

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> class Affine(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = nn.Parameter(tinynet.ones(3))
        ...         self.register_buffer("offset", tinynet.zeros(3))
        ...     def forward(self, x):
        ...         return x * self.scale + self.offset
        >>> list(Affine().state_dict())
        ['scale', 'offset']
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward() method")

    def __call__(self, *args, **kwargs):
        if not self._forward_pre_hooks and not self._forward_hooks:
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            changed = hook(self, args, out)
            if changed is not None:
                out = changed
        return out

    def register_forward_pre_hook(self, hook: Callable) -> "RemovableHandle":
        """Call ``hook(module, args)`` before ``forward``; a non-None result replaces the args."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook: Callable) -> "RemovableHandle":
        """Call ``hook(module, args, output)`` after ``forward``; a non-None result replaces the output."""
        return RemovableHandle(self._forward_hooks, hook)

    # ------------------------------------------------------------ registration
    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign to {type(self).__name__} before Module.__init__() call "
                "(call super().__init__() first in your __init__)"
            )

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, Parameter):
            self._check_init()
            self._remove(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_init()
            self._remove(name)
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to parameter {name!r} (a Parameter or None is required)"
                )
            self._parameters[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to buffer {name!r} (a Tensor or None is required)"
                )
            self._buffers[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to submodule {name!r} (a Module or None is required)"
                )
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _remove(self, name: str) -> None:
        for d in (self.__dict__, self._parameters, self._buffers, self._modules):
            d.pop(name, None)
        self._non_persistent.discard(name)

    def __getattr__(self, name: str):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register a non-learnable tensor (saved in ``state_dict`` unless ``persistent=False``)."""
        self._check_init()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot register a {type(tensor).__name__} as buffer {name!r} (a Tensor or None is required)"
            )
        if name in self.__dict__ or name in self._parameters or name in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_init()
        if not isinstance(name, str) or not name or "." in name:
            raise KeyError(f"parameter name must be a non-empty string without '.', got {name!r}")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register a {type(param).__name__} as parameter {name!r} (a Parameter or None is required)"
            )
        self._remove(name)
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        self._check_init()
        if not isinstance(name, str) or "." in name or name == "":
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._remove(name)
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "") -> Iterator[tuple[str, Module]]:
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # depth-first, children in registration order
            name, m = stack.pop()
            if id(m) in memo:
                continue
            memo.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, m in mods:
            for k, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_name}.{k}" if mod_name else k), v

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], None]) -> "Module":
        """Call ``fn`` on every submodule (children first) and on self, as PyTorch does."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ state
    def state_dict(
        self, destination: OrderedDict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Parameters and persistent buffers by dotted name (detached Tensors sharing memory)."""
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into the parameters and buffers with the same keys.

        Values may be tinynet Tensors, numpy arrays or anything with ``.numpy()``
        (a torch tensor). Shapes must match; with ``strict`` the keys must match
        exactly. Errors list every missing, unexpected and mis-shaped key.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict expects a mapping of names to arrays, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched, converted = [], {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            arr = _to_numpy(state_dict[k], k)
            if arr.shape != target.shape:
                mismatched.append(f"{k}: checkpoint shape {arr.shape}, model shape {tuple(target.shape)}")
            elif arr.dtype.kind not in "fiub":
                mismatched.append(f"{k}: unsupported dtype {arr.dtype}")
            else:
                converted[k] = arr
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(repr(k) for k in missing))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(repr(k) for k in unexpected))
        if mismatched:
            problems.append("Size mismatch: " + "; ".join(mismatched))
        if problems:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(problems))
        for k, arr in converted.items():
            target = own[k]
            target.data[...] = arr.astype(target.data.dtype, copy=False)
        return missing, unexpected

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = [f"({name}): " + _indent(repr(m)) for name, m in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = ([extra] if extra else []) + lines
        return f"{type(self).__name__}(\n  " + "\n  ".join(body) + "\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


class RemovableHandle:
    """Returned by the ``register_*_hook`` methods; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, store: OrderedDict, hook: Callable):
        self.store = store
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1
        store[self.id] = hook

    def remove(self) -> None:
        self.store.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _to_numpy(value, key: str) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    if isinstance(value, (int, float, bool, np.number)):
        return np.asarray(value)
    raise TypeError(f"state_dict[{key!r}] is a {type(value).__name__}; expected a Tensor or an array")
