"""``Module`` and ``Parameter``: PyTorch's containers for state, with PyTorch's state_dict keys.

A Module registers what is assigned to it: a ``Parameter`` becomes a parameter,
a ``Module`` a submodule, and tensors passed to ``register_buffer`` buffers.
``state_dict()`` walks them in registration order and names them with dotted
paths (``encoder.0.weight``), exactly as PyTorch does, so weights move between
the two frameworks key for key.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Callable, Iterator

import numpy as np

from tinynet.tensor import Tensor, _as_dtype

__all__ = ["Module", "Parameter"]


class Parameter(Tensor):
    """A Tensor that a Module registers as a learnable parameter (``requires_grad=True``).

    Args:
        data: a Tensor (whose memory the parameter shares), an array or numbers; Python floats
            become float32. ``None`` gives an empty float32 parameter.
        requires_grad: whether the optimizer will update it (default True).

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
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"Parameter: data must be numeric (a Tensor, an array or numbers), got {data!r:.60}")
        # Share memory with the tensor we were given, like torch.nn.Parameter.
        self.data = arr
        self.grad = None
        self._node = None
        self._out_idx = 0
        self._requires_grad = False
        self.requires_grad_(requires_grad)  # checks that it is a bool (and that the data is floating point)

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
        """The computation of the module; subclasses define it and callers use ``module(x)``."""
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
        # Replacing a parameter (or submodule) keeps its place in the registration order, so
        # state_dict keys keep PyTorch's order; the name is removed from the other stores.
        if isinstance(value, Parameter):
            self._check_init()
            self._remove(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_init()
            self._remove(name, keep=self._modules)
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

    def _remove(self, name: str, keep=None) -> None:
        for d in (self.__dict__, self._parameters, self._buffers, self._modules):
            if d is not keep:
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
        """Register a non-learnable tensor (saved in ``state_dict`` unless ``persistent=False``).

        Buffers move with the module (``double()``) and are saved with it; BatchNorm's running
        statistics are buffers. ``None`` reserves the name without a tensor.
        """
        self._check_init()
        if not isinstance(name, str):
            raise TypeError(f"buffer name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"buffer name must be a non-empty string without '.', got {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot register a {type(tensor).__name__} as buffer {name!r} (a Tensor or None is required)"
            )
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register a Parameter (or reserve the name with ``None``, as ``bias=False`` layers do)."""
        self._check_init()
        if not isinstance(name, str):
            raise TypeError(f"parameter name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"parameter name must be a non-empty string without '.', got {name!r}")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot register a {type(param).__name__} as parameter {name!r} (a Parameter or None is required)"
            )
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute {name!r} already exists")
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Register a submodule under ``name`` (what ``self.name = module`` does)."""
        self._check_init()
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f"module name must be a non-empty string without '.', got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        self._modules[name] = module

    register_module = add_module

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True):
        """``(dotted name, module)`` for self and every descendant, depth first in registration order."""
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in memo:
                    continue
                memo.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items() if c is not None]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        """Self and every descendant module, depth first (each shared module once)."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """``(name, module)`` for the direct submodules, in registration order."""
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct submodules, in registration order."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_name, m in mods:
            for k, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield (f"{mod_name}.{k}" if mod_name else k), v

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(dotted name, Parameter)`` pairs, the names of ``state_dict``; a shared Parameter appears once.

        Example:
            >>> from tinynet import nn
            >>> [name for name, _ in nn.Sequential(nn.Linear(2, 2)).named_parameters()]
            ['0.weight', '0.bias']
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every Parameter of the module and its submodules (what an optimizer needs)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(dotted name, Tensor)`` for every buffer, persistent or not."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer of the module and its submodules (e.g. BatchNorm's running statistics)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (``mode=True``) or evaluation mode here and in every submodule.

        Dropout and BatchNorm behave differently in the two modes. Like PyTorch, this calls
        ``train`` on each child, so a submodule that overrides ``train`` is honoured.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode (``train(False)``): dropout off, BatchNorm uses its running statistics."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Turn gradient recording for every parameter on or off (freeze a network with ``False``)."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's ``.grad``: to None (the default, as PyTorch 2.x) or to zeros."""
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

    # ------------------------------------------------------------ dtype
    def _cast_floating(self, dtype) -> "Module":
        """Cast every floating-point parameter, gradient and buffer in place (integer buffers stay)."""
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None or t.dtype.kind != "f" or t.dtype == dtype:
                        continue
                    t.data = t.data.astype(dtype)  # the Parameter object (and its identity) is kept
                    if t.grad is not None:
                        t.grad = Tensor._wrap(t.grad.data.astype(dtype))
        return self

    def float(self) -> "Module":
        """Cast floating-point parameters and buffers to float32 (in place; returns self)."""
        return self._cast_floating(np.dtype(np.float32))

    def double(self) -> "Module":
        """Cast floating-point parameters and buffers to float64, e.g. for ``gradcheck`` (returns self)."""
        return self._cast_floating(np.dtype(np.float64))

    def to(self, *args, **kwargs) -> "Module":
        """``to(dtype)`` casts like ``float()``/``double()``; ``to("cpu")`` is accepted and does nothing.

        tinynet runs on the CPU only, so device arguments are checked and otherwise ignored;
        this keeps PyTorch code such as ``model.to(device)`` running unchanged.
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, str) or a is None:
                device = a
            else:
                dtype = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"tinynet runs on the CPU only; cannot move a module to device {device!r}")
        if dtype is not None:
            dt = _as_dtype(dtype)
            if dt.kind != "f":
                raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dt}")
            self._cast_floating(dt)
        return self

    def cpu(self) -> "Module":
        """Returns self (tinynet modules always live on the CPU)."""
        return self

    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path such as ``"encoder.0"`` (``""`` is self)."""
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if item not in mod._modules or mod._modules[item] is None:
                raise AttributeError(f"{type(mod).__name__} has no submodule {item!r} (looking up {target!r})")
            mod = mod._modules[item]
        return mod

    # ------------------------------------------------------------ state
    def state_dict(
        self, destination: OrderedDict | None = None, prefix: str = "", keep_vars: bool = False
    ) -> OrderedDict:
        """Parameters and persistent buffers by dotted name, in PyTorch's order and with its keys.

        The values are Tensors detached from the tape that share memory with the module
        (as in PyTorch): ``v.numpy()`` is a view, and ``torch.from_numpy(v.numpy())`` makes
        a torch state_dict that ``torch_module.load_state_dict`` accepts for the same
        architecture. BatchNorm's ``num_batches_tracked`` is a 0-d int64 tensor.

        Example:
            >>> from tinynet import nn
            >>> sd = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)).state_dict()
            >>> [(k, tuple(v.shape)) for k, v in sd.items()]  # doctest: +NORMALIZE_WHITESPACE
            [('0.weight', (2, 3)), ('0.bias', (2,)), ('1.weight', (2,)), ('1.bias', (2,)),
             ('1.running_mean', (2,)), ('1.running_var', (2,)), ('1.num_batches_tracked', ())]
        """
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

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values into the parameters and buffers with the same keys (in place).

        Values may be tinynet Tensors, numpy arrays, Python numbers or torch tensors (anything
        with ``.detach().numpy()``), so a torch ``state_dict()`` loads directly. Each value is
        cast to the dtype of the tensor it fills. Nothing is copied unless everything fits:
        with ``strict=True`` missing and unexpected keys are errors, and mismatched shapes are
        errors in either mode; the RuntimeError lists every problem, in PyTorch's words.
        Unlike PyTorch, NaN or infinite values (a checkpoint of a diverged run) and
        non-integer values for integer buffers are refused too.

        Returns:
            ``(missing_keys, unexpected_keys)`` as a named tuple, like PyTorch.

        Example:
            >>> from tinynet import nn
            >>> a, b = nn.Linear(3, 2), nn.Linear(3, 2)
            >>> b.load_state_dict(a.state_dict())
            <All keys matched successfully>
            >>> bool((a.weight == b.weight).all())
            True
        """
        if assign:
            raise NotImplementedError("load_state_dict(assign=True) is not supported; values are copied in place")
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors, converted = [], {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            arr = _to_numpy(state_dict[k])
            if arr is None:
                errors.append(
                    f'While copying the parameter named "{k}", expected a Tensor or an array from '
                    f"checkpoint but received {type(state_dict[k]).__name__}"
                )
                continue
            if target.ndim == 0 and arr.shape == (1,):  # PyTorch's allowance for old 1-element checkpoints
                arr = arr.reshape(())
            if arr.shape != target.shape:
                errors.append(
                    f"size mismatch for {k}: copying a param with shape {arr.shape} from checkpoint, "
                    f"the shape in current model is {tuple(target.shape)}."
                )
            elif arr.dtype.kind not in "fiub":
                errors.append(f"dtype mismatch for {k}: cannot copy an array of dtype {arr.dtype} into a tensor")
            elif arr.dtype.kind == "f" and not np.isfinite(arr).all():
                # PyTorch copies them silently; a NaN weight only shows up later as a NaN loss.
                errors.append(
                    f"non-finite values for {k}: the checkpoint holds {int(np.isnan(arr).sum())} NaN and "
                    f"{int(np.isinf(arr).sum())} inf of {arr.size} values (saved from a diverged run?)"
                )
            elif arr.dtype.kind == "f" and target.dtype.kind in "iu" and not _fits_integers(arr, target.dtype):
                errors.append(
                    f"dtype mismatch for {k}: cannot copy non-integer or out-of-range values into a "
                    f"{target.dtype} buffer"
                )
            else:
                converted[k] = arr
        if strict and unexpected:
            errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        if strict and missing:
            errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for k, arr in converted.items():
            own[k].data[...] = arr.astype(own[k].data.dtype, copy=False)
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside the parentheses of ``repr(module)`` (layers show their arguments)."""
        return ""

    def __repr__(self) -> str:
        # PyTorch's layout: one line when there are no children, else one "(name): child" per line.
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

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


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the keys it did not use."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (blank lines stay empty), as PyTorch's repr does."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return "\n".join([lines[0]] + [pad + line if line.strip() else "" for line in lines[1:]])


def _fits_integers(arr: np.ndarray, dtype: np.dtype) -> bool:
    """Whole numbers within ``dtype``'s range (a cast would otherwise truncate or wrap silently)."""
    info = np.iinfo(dtype)
    return bool(((arr == np.round(arr)) & (arr >= info.min) & (arr <= info.max)).all())


def _to_numpy(value) -> np.ndarray | None:
    """A state_dict value as an array: tinynet Tensor, numpy array, number or torch tensor; else None."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return value.detach().cpu().numpy()
    if isinstance(value, (int, float, bool, np.number, np.bool_)):
        return np.asarray(value)
    return None
