"""Safe checkpoints: ``tinynet.save`` / ``tinynet.load`` and the resume helpers.

A tinynet checkpoint is an ordinary ``.npz`` archive of named arrays, so
``numpy.load(path)`` can read it too:

* nested dicts, lists and tuples are flattened with dotted keys
  (``{"model": {"fc.weight": w}}`` is stored as the array ``model.fc.weight``);
* numbers (``int``, ``float``, ``bool``, numpy scalars) are stored as 0-d arrays;
* strings, ``None`` and integers beyond int64 (generator states) live in a JSON
  manifest, the array ``__tinynet__``, which also records the nesting and the
  type of every leaf so that :func:`load` returns exactly what was saved.

Loading never executes code: nothing is ever unpickled (arrays are read with
``allow_pickle=False``) and a file holding pickled objects (an object array, a
pickle, a ``torch.save`` file) is refused with :class:`CheckpointError`. Missing,
empty, truncated, corrupt (zip CRC) and foreign files (a plain ``.npz``, a text
file) raise errors that name the path and the problem. Writes are atomic: the
archive is written to a temporary file in the same directory, flushed to disk
and moved over the target with ``os.replace``, so an interrupted save never
leaves a half-written checkpoint behind.

:func:`save_checkpoint` / :func:`load_checkpoint` bundle a training run (model,
optimizer, scheduler, epoch, data loaders and every random generator) so that a
resumed run continues bit-identically.
"""

from __future__ import annotations

import copy
import io as _io
import json
import math
import numbers
import os
import random as _pyrandom
import tempfile
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinynet.random import get_rng_state, set_rng_state
from tinynet.tensor import Tensor

__all__ = ["save", "load", "save_checkpoint", "load_checkpoint", "CheckpointError", "get_rng_states", "set_rng_states"]

MANIFEST = "__tinynet__"
FORMAT = "tinynet"
VERSION = 1
_ROOT = "value"  # the array name when the saved object is itself a single array
_CHECKPOINT_MARK = "tinynet.io.save_checkpoint"


class CheckpointError(ValueError):
    """A file is not a readable tinynet checkpoint (corrupt, truncated, foreign or holding pickles).

    Example:
        >>> import os, tempfile, tinynet
        >>> from tinynet.io import CheckpointError, load_checkpoint
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.npz")
        >>> tinynet.save({"w": tinynet.ones(2)}, path)  # a plain save, not a checkpoint
        >>> try:
        ...     load_checkpoint(path)
        ... except CheckpointError as e:
        ...     print(type(e).__name__, "was not written by tinynet.io.save_checkpoint" in str(e))
        CheckpointError True
    """


# ============================================================================ save
def save(obj: Any, path) -> None:
    """Save ``obj`` (a Tensor, an array, a number, or dicts/lists/tuples of them) to an ``.npz`` file.

    Args:
        obj: a state_dict, an optimizer/scheduler state_dict, or any nesting of
            dicts (str or int keys), lists and tuples whose leaves are Tensors,
            numpy arrays, numbers, bools, strings or None.
        path: a file path (written atomically, exactly at that name: no
            extension is added) or a writable binary file object.

    Raises:
        TypeError: a leaf or key of a type that cannot be stored without pickling.
        ValueError: two keys that flatten to the same dotted name.

    Example:
        >>> import os, tempfile, tinynet
        >>> from tinynet import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> tinynet.save({"weights": {"w": tinynet.ones(2)}, "epoch": 3, "note": "hello"}, path)
        >>> tinynet.load(path)
        {'weights': {'w': tensor([1., 1.])}, 'epoch': 3, 'note': 'hello'}
    """
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, [], arrays)
    manifest = {"format": FORMAT, "version": VERSION, "tree": tree}
    arrays[MANIFEST] = np.array(json.dumps(manifest, ensure_ascii=False))
    if hasattr(path, "write"):
        _write_npz(path, arrays)
        return
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"tinynet.save: path must be a file path or a writable binary file, got {type(path).__name__}")
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"tinynet.save: directory {directory!r} does not exist (saving to {path!r})")
    if os.path.isdir(path):
        raise IsADirectoryError(f"tinynet.save: {path!r} is a directory")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_npz(f, arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_npz(f, arrays: dict) -> None:
    # What numpy.savez does, without its keyword-argument names (a key "file" would clash there).
    with zipfile.ZipFile(f, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, array in arrays.items():
            with zf.open(name + ".npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _file_mode(path: str) -> int:
    """Keep an existing file's permissions; a new file gets the usual 0666 & ~umask (mkstemp makes 0600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_directory(directory: str) -> None:
    # Make the rename itself durable (POSIX); harmless to skip where directories cannot be opened.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _where(keys: list) -> str:
    return ".".join(str(k) for k in keys) if keys else "the top level"


def _encode(obj, keys: list, arrays: dict) -> dict:
    """The manifest node of ``obj``; array leaves go into ``arrays`` under their dotted name."""
    if isinstance(obj, Tensor):
        from tinynet.nn.module import Parameter  # nn imports this package's neighbours; keep it lazy

        node = {"t": "param", "rg": bool(obj.requires_grad)} if isinstance(obj, Parameter) else {"t": "tensor"}
        return _store(node, obj.data, keys, arrays)
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            raise TypeError(
                f"tinynet.save: the array at {_where(keys)} has dtype object; checkpoints hold only "
                "numeric, bool and string arrays (object arrays would need pickling)"
            )
        return _store({"t": "ndarray"}, obj, keys, arrays)
    if obj is None:
        return {"t": "none"}
    if isinstance(obj, (bool, np.bool_)) and not isinstance(obj, np.ndarray):
        return _store({"t": "bool" if isinstance(obj, bool) else "npscalar"}, np.array(obj), keys, arrays)
    if isinstance(obj, (str, np.str_)):
        return {"t": "str", "v": str(obj)}
    if isinstance(obj, (bytes, np.bytes_)):
        return _store({"t": "bytes"}, np.frombuffer(bytes(obj), dtype=np.uint8), keys, arrays)
    if isinstance(obj, np.generic):
        if obj.dtype.hasobject:
            raise TypeError(f"tinynet.save: the numpy scalar at {_where(keys)} has dtype object")
        return _store({"t": "npscalar"}, np.array(obj), keys, arrays)
    if isinstance(obj, numbers.Integral):
        value = int(obj)
        if -(2**63) <= value < 2**63:
            return _store({"t": "int"}, np.array(value, dtype=np.int64), keys, arrays)
        return {"t": "int", "v": value}  # e.g. the 128-bit state of a PCG64 generator
    if isinstance(obj, float):
        return _store({"t": "float"}, np.array(obj, dtype=np.float64), keys, arrays)
    if isinstance(obj, complex):
        return _store({"t": "complex"}, np.array(obj, dtype=np.complex128), keys, arrays)
    if isinstance(obj, Mapping):
        items = []
        for k, v in obj.items():
            if isinstance(k, bool) or not isinstance(k, (str, int, np.integer)):
                raise TypeError(
                    f"tinynet.save: dict keys must be str or int, got {type(k).__name__} key {k!r} at {_where(keys)}"
                )
            k = k if isinstance(k, str) else int(k)
            items.append([k, _encode(v, keys + [k], arrays)])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        kind = "list" if isinstance(obj, list) else "tuple"
        return {"t": kind, "items": [_encode(v, keys + [i], arrays) for i, v in enumerate(obj)]}
    raise TypeError(
        f"tinynet.save: cannot store a {type(obj).__name__} at {_where(keys)}; checkpoints hold Tensors, numpy "
        "arrays, numbers, bools, strings, None and dicts/lists/tuples of them (nothing that needs pickling)"
    )


def _store(node: dict, array: np.ndarray, keys: list, arrays: dict) -> dict:
    name = ".".join(str(k) for k in keys) if keys else _ROOT
    if "\x00" in name:
        raise ValueError(f"tinynet.save: key {name!r} contains a NUL character")
    if name in arrays or name == MANIFEST:
        raise ValueError(
            f"tinynet.save: two entries flatten to the same name {name!r} (a key containing '.' clashes with a "
            "nested key); rename one of them"
        )
    arrays[name] = array
    node["k"] = name
    return node


# ============================================================================ load
def load(path) -> Any:
    """Load what :func:`save` wrote, without ever unpickling anything.

    Returns the saved structure with the saved types: Tensors come back as
    Tensors (``requires_grad=False``; Parameters as Parameters), numpy arrays as
    numpy arrays, numbers, strings, bools and None as themselves, tuples as
    tuples and mappings as plain dicts. So ``model.load_state_dict(tinynet.load(p))``
    works for a file written by ``tinynet.save(model.state_dict(), p)``.

    Args:
        path: a file path or a readable, seekable binary file object.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: the file is empty, truncated, corrupt, holds pickled
            objects, or is not a tinynet checkpoint (a plain ``.npz``, a single
            ``.npy``, a ``torch.save`` file, a text file ...).

    Example:
        >>> import io, tinynet
        >>> buffer = io.BytesIO()
        >>> tinynet.save({"w": tinynet.zeros(2), "betas": (0.9, 0.999)}, buffer)
        >>> _ = buffer.seek(0)
        >>> tinynet.load(buffer)
        {'w': tensor([0., 0.]), 'betas': (0.9, 0.999)}
    """
    if hasattr(path, "read"):
        return _load_from(path, _describe(path))
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"tinynet.load: path must be a file path or a readable binary file, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"tinynet.load: no such file: {path!r}")
    if os.path.isdir(path):
        raise IsADirectoryError(f"tinynet.load: {path!r} is a directory, not a checkpoint file")
    with open(path, "rb") as f:
        return _load_from(f, repr(path))


def _describe(f) -> str:
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


def _load_from(f, where: str):
    def fail(problem: str) -> CheckpointError:
        return CheckpointError(f"tinynet.load: {where} {problem}")

    head = f.read(8)
    f.seek(0)
    if not head:
        raise fail("is empty (0 bytes): the save was interrupted or this is not a checkpoint")
    if head.startswith(b"\x93NUMPY"):
        raise fail(
            "is a single .npy array, not a tinynet checkpoint (.npz written by tinynet.save); "
            "read it with numpy.load(path, allow_pickle=False)"
        )
    if head[:1] == b"\x80":  # the PROTO opcode that starts every pickle since protocol 2
        raise fail(_pickle_refusal("is a pickle (a pickled object or a legacy torch.save file)", True))
    zip_start = head.startswith((b"PK\x03\x04", b"PK\x05\x06")) or (len(head) < 4 and b"PK\x03\x04".startswith(head))
    if not zip_start:
        raise fail(f"is not a tinynet checkpoint: not an .npz (zip) archive (it starts with {head!r})")
    try:
        archive = zipfile.ZipFile(f)
    except Exception as e:  # BadZipFile, EOFError, OSError, ... on a damaged archive
        raise fail(
            f"is truncated or corrupt: it starts like an .npz (zip) archive but cannot be opened ({e})"
        ) from None
    with archive:
        names = archive.namelist()
        if len(set(names)) != len(names):
            twice = sorted({n for n in names if names.count(n) > 1})
            raise fail(f"is corrupt: it holds several members named {', '.join(map(repr, twice[:8]))}")
        for info in archive.infolist():
            _check_claimed_size(info, fail)
        if any(n.endswith("data.pkl") for n in names):
            raise fail(_pickle_refusal("is a PyTorch checkpoint (torch.save), which stores pickled objects", True))
        arrays = {}
        for name in names:
            if not name.endswith(".npy"):
                raise fail(f"is not a tinynet checkpoint: it contains {name!r}, which is not an .npy array")
            arrays[name[: -len(".npy")]] = _read_member(archive, name, fail)
    if MANIFEST not in arrays:
        listed = ", ".join(sorted(arrays)[:8]) + (" ..." if len(arrays) > 8 else "")
        raise fail(
            f"is a plain .npz without tinynet's {MANIFEST!r} manifest (arrays: {listed or 'none'}), so it is not a "
            "tinynet checkpoint; read it with numpy.load(path, allow_pickle=False)"
        )
    manifest = _parse_manifest(arrays.pop(MANIFEST), fail)
    used: set = set()
    try:
        obj = _decode(manifest["tree"], arrays, used, fail)
    except RecursionError:
        raise fail("is corrupt: its manifest nests deeper than any saved structure could") from None
    unused = sorted(set(arrays) - used)
    if unused:
        raise fail(f"is corrupt: it holds arrays its manifest does not list: {', '.join(unused[:8])}")
    return obj


def _pickle_refusal(what: str, torch_file: bool = False) -> str:
    how = (
        "load it with torch.load(path, weights_only=True) and re-save the arrays with "
        "tinynet.save({k: v.numpy() for k, v in state.items()}, new_path)"
        if torch_file
        else "re-save the data as numeric arrays with tinynet.save"
    )
    return f"{what}; tinynet never unpickles files, because unpickling can execute arbitrary code. To convert it, {how}"


# DEFLATE cannot expand data by more than about 1032:1, so a member that claims more is lying.
_MAX_DEFLATE_RATIO = 1100


def _check_claimed_size(info: zipfile.ZipInfo, fail) -> None:
    """Refuse a member whose declared size its stored bytes cannot hold, before allocating that much memory."""
    stored, claimed = info.compress_size, info.file_size
    ratio = 1 if info.compress_type == zipfile.ZIP_STORED else _MAX_DEFLATE_RATIO
    if claimed > ratio * stored + 1024:
        raise fail(
            f"is corrupt: member {info.filename!r} claims {claimed} bytes but stores only {stored} "
            f"(compression type {info.compress_type})"
        )


def _read_member(archive: zipfile.ZipFile, name: str, fail) -> np.ndarray:
    """One .npy member: its bytes (CRC-checked by zipfile), its header (no object dtypes), then the array.

    The bytes are read into a bytearray and the array is a view of it, so each
    array is copied once, from the file into its final memory.
    """
    try:
        with archive.open(name) as member:
            raw = bytearray(archive.getinfo(name).file_size)
            view, n = memoryview(raw), 0
            while n < len(raw):
                got = member.readinto(view[n:])
                if not got:
                    break
                n += got
            if n != len(raw) or member.read(1):  # reading to the end also checks the CRC-32
                raise zipfile.BadZipFile(f"{name!r} is not {len(raw)} bytes long")
    except Exception as e:
        raise fail(f"is truncated or corrupt: reading array {name!r} failed ({type(e).__name__}: {e})") from None
    header = _io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(header)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(header)
    except Exception as e:
        raise fail(f"is corrupt: array {name!r} has a damaged .npy header ({e})") from None
    if dtype.hasobject:
        raise fail(_pickle_refusal(f"holds pickled Python objects (array {name[:-4]!r} has dtype {dtype})"))
    if any(n < 0 for n in shape):
        raise fail(f"is corrupt: array {name!r} has a negative dimension in its shape {shape}")
    count = math.prod(shape)  # Python ints: a forged shape cannot overflow into a small count
    offset = header.tell()
    if len(raw) - offset != count * dtype.itemsize:
        raise fail(f"is corrupt: array {name!r} should hold {count * dtype.itemsize} bytes, it has {len(raw) - offset}")
    try:  # numpy refuses shapes whose nominal size overflows, even with a zero dimension: (0, 2**62)
        array = np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(
            shape, order="F" if fortran else "C"
        )
    except ValueError as e:
        raise fail(f"is corrupt: array {name!r} has an impossible shape {shape} ({e})") from None
    return array if array.flags.aligned else array.copy()


def _parse_manifest(array: np.ndarray, fail) -> dict:
    if array.ndim != 0 or array.dtype.kind != "U":
        raise fail(f"is corrupt: its {MANIFEST!r} entry is not a JSON string")
    try:
        manifest = json.loads(str(array[()]))
    except (ValueError, RecursionError) as e:
        raise fail(f"is corrupt: its manifest is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or "tree" not in manifest:
        raise fail("is not a tinynet checkpoint: its manifest is not tinynet's")
    version = manifest.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise fail(f"was written by a newer tinynet (format version {version!r}; this tinynet reads {VERSION})")
    return manifest


def _decode(node, arrays: dict, used: set, fail):
    if not isinstance(node, dict) or "t" not in node:
        raise fail("is corrupt: its manifest has a malformed entry")
    kind = node["t"]
    if kind == "none":
        return None
    if kind == "str":
        return _checked(node.get("v"), str, fail)
    if kind == "dict":
        out = {}
        for item in _checked(node.get("items"), list, fail):
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))):
                raise fail("is corrupt: its manifest has a malformed dict entry")
            out[item[0]] = _decode(item[1], arrays, used, fail)
        return out
    if kind in ("list", "tuple"):
        items = [_decode(v, arrays, used, fail) for v in _checked(node.get("items"), list, fail)]
        return items if kind == "list" else tuple(items)
    if kind == "int" and "v" in node:
        return _checked(node["v"], int, fail)
    name = node.get("k")
    if not isinstance(name, str) or name not in arrays:
        raise fail(f"is corrupt: its manifest lists the array {name!r}, which is missing")
    used.add(name)
    a = arrays[name]
    scalar = {"int": "i", "float": "f", "bool": "b", "complex": "c"}
    if kind in scalar:
        if a.ndim != 0 or a.dtype.kind != scalar[kind]:
            raise fail(f"is corrupt: {name!r} should be a {kind} scalar, found shape {a.shape} dtype {a.dtype}")
        return {"int": int, "float": float, "bool": bool, "complex": complex}[kind](a[()])
    if kind == "npscalar":
        return a[()]
    if kind == "bytes":
        return a.tobytes()
    if kind == "ndarray":
        return a
    if kind in ("tensor", "param") and a.dtype.kind not in "fiub":
        raise fail(
            f"is corrupt: {name!r} should hold a tensor, but its dtype {a.dtype} is not one tinynet tensors hold"
        )
    if kind == "tensor":
        return Tensor._wrap(a)
    if kind == "param":
        from tinynet.nn.module import Parameter

        return Parameter(a, requires_grad=bool(node.get("rg", True)) and a.dtype.kind == "f")
    raise fail(f"is corrupt or from a newer tinynet: unknown entry type {kind!r} in its manifest")


def _checked(value, kind, fail):
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise fail("is corrupt: its manifest has a malformed entry")
    return value


# ============================================================================ training checkpoints
def get_rng_states() -> dict:
    """Every global random state a training run may use: tinynet's, numpy's legacy ``np.random`` and Python's.

    Example:
        >>> import tinynet
        >>> from tinynet.io import get_rng_states, set_rng_states
        >>> states = get_rng_states()
        >>> a = tinynet.rand(3)
        >>> set_rng_states(states)
        >>> bool((tinynet.rand(3) == a).all())
        True
    """
    version, internal, gauss_next = _pyrandom.getstate()
    return {
        "tinynet": get_rng_state(),
        "numpy": np.random.get_state(legacy=False),
        "python": {"version": version, "state": np.array(internal, dtype=np.int64), "gauss_next": gauss_next},
    }


def set_rng_states(states: Mapping) -> None:
    """Restore what :func:`get_rng_states` returned (keys that are absent are left alone).

    Example:
        >>> import random
        >>> from tinynet.io import get_rng_states, set_rng_states
        >>> states = get_rng_states()
        >>> a = random.random()
        >>> set_rng_states({"python": states["python"]})  # only Python's generator
        >>> random.random() == a
        True
    """
    if not isinstance(states, Mapping):
        raise TypeError(f"set_rng_states: states must be a dict from get_rng_states(), got {type(states).__name__}")
    unknown = sorted(str(k) for k in states if k not in ("tinynet", "numpy", "python"))
    if unknown:
        raise ValueError(f"set_rng_states: unknown generator(s) {unknown}; expected 'tinynet', 'numpy', 'python'")
    if "tinynet" in states:
        set_rng_state(states["tinynet"])
    if "numpy" in states:
        np.random.set_state(states["numpy"])
    if "python" in states:
        p = states["python"]
        _pyrandom.setstate((int(p["version"]), tuple(int(v) for v in np.asarray(p["state"])), p["gauss_next"]))


def _loaders(dataloader) -> dict:
    if dataloader is None:
        return {}
    if isinstance(dataloader, Mapping):
        return dict(dataloader)
    return {"dataloader": dataloader}


def save_checkpoint(
    path,
    *,
    model=None,
    optimizer=None,
    scheduler=None,
    epoch: int | None = None,
    step: int | None = None,
    dataloader=None,
    extra: Any = None,
) -> None:
    """Save everything needed to resume training exactly where it stopped.

    The file (an ordinary tinynet checkpoint, see :func:`save`) holds::

        {"format": "tinynet.io.save_checkpoint", "epoch": ..., "step": ...,
         "model": model.state_dict(), "optimizer": optimizer.state_dict(),
         "scheduler": scheduler.state_dict(), "dataloader": {name: loader.state_dict()},
         "rng": get_rng_states(), "extra": extra}

    with None for what was not given. ``rng`` is the state of tinynet's global
    generator, numpy's and Python's; each DataLoader's state holds its own
    generator and, when saved mid-epoch, the epoch's order and position.

    Args:
        path: where to write (atomically).
        model, optimizer, scheduler: anything with ``state_dict()``.
        epoch, step: progress counters, returned by :func:`load_checkpoint`.
        dataloader: a DataLoader, or a dict ``{name: DataLoader}`` for several.
        extra: anything else :func:`save` can store (metrics, a config dict ...).

    Example:
        >>> import os, tempfile, tinynet
        >>> from tinynet.io import save_checkpoint, load_checkpoint
        >>> from tinynet import nn
        >>> net = nn.Module(); net.w = nn.Parameter(tinynet.ones(2))
        >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
        >>> save_checkpoint(path, model=net, epoch=4, extra={"best_loss": 0.25})
        >>> net2 = nn.Module(); net2.w = nn.Parameter(tinynet.zeros(2))
        >>> ckpt = load_checkpoint(path, model=net2)
        >>> ckpt["epoch"], ckpt["extra"], net2.w.tolist()
        (4, {'best_loss': 0.25}, [1.0, 1.0])
    """
    for name, value in (("epoch", epoch), ("step", step)):
        if value is not None and (not isinstance(value, numbers.Integral) or isinstance(value, bool)):
            raise TypeError(f"save_checkpoint: {name} must be an int or None, got {value!r}")
    parts = {}
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and not callable(getattr(obj, "state_dict", None)):
            raise TypeError(f"save_checkpoint: {name} must have a state_dict() method, got {type(obj).__name__}")
        parts[name] = None if obj is None else obj.state_dict()
    loaders = _loaders(dataloader)
    for name, loader in loaders.items():
        if not callable(getattr(loader, "state_dict", None)):
            raise TypeError(f"save_checkpoint: dataloader {name!r} has no state_dict() (a {type(loader).__name__})")
    save(
        {
            "format": _CHECKPOINT_MARK,
            "epoch": None if epoch is None else int(epoch),
            "step": None if step is None else int(step),
            **parts,
            "dataloader": {name: loader.state_dict() for name, loader in loaders.items()},
            "rng": get_rng_states(),
            "extra": extra,
        },
        path,
    )


def load_checkpoint(
    path,
    *,
    model=None,
    optimizer=None,
    scheduler=None,
    dataloader=None,
    strict: bool = True,
    restore_rng: bool = True,
) -> dict:
    """Restore a :func:`save_checkpoint` file into the objects given, and return its contents.

    Every object passed must have its part in the checkpoint (checked before
    anything is modified). The model is restored first (``strict`` is passed to
    its ``load_state_dict``), then the optimizer, the scheduler, the data
    loaders and, with ``restore_rng``, every global random generator. Continue
    with ``for epoch in range(ckpt["epoch"] + 1, ...)`` when the checkpoint was
    saved at the end of ``ckpt["epoch"]``.

    Returns:
        the checkpoint dict (``epoch``, ``step``, ``extra``, and the raw states).

    Example (more in :func:`save_checkpoint`):
        >>> import os, tempfile, tinynet
        >>> from tinynet import nn, optim
        >>> from tinynet.io import load_checkpoint, save_checkpoint
        >>> net = nn.Linear(2, 1)
        >>> opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        >>> path = os.path.join(tempfile.mkdtemp(), "run.ckpt")
        >>> save_checkpoint(path, model=net, optimizer=opt, epoch=0)
        >>> net2 = nn.Linear(2, 1)
        >>> opt2 = optim.SGD(net2.parameters(), lr=0.1, momentum=0.9)
        >>> ckpt = load_checkpoint(path, model=net2, optimizer=opt2)
        >>> ckpt["epoch"], bool((net2.weight == net.weight).all())
        (0, True)
    """
    for name, obj, method in (
        ("model", model, "load_state_dict"),
        ("optimizer", optimizer, "load_state_dict"),
        ("scheduler", scheduler, "load_state_dict"),
    ):
        if obj is not None and not callable(getattr(obj, method, None)):
            raise TypeError(f"load_checkpoint: {name} must have a {method}() method, got {type(obj).__name__}")
    for name, flag in (("strict", strict), ("restore_rng", restore_rng)):
        if not isinstance(flag, bool):
            raise TypeError(f"load_checkpoint: {name} must be a bool, got {flag!r}")
    ckpt = load(path)
    where = repr(os.fspath(path)) if not hasattr(path, "read") else _describe(path)
    if not isinstance(ckpt, dict) or ckpt.get("format") != _CHECKPOINT_MARK:
        raise CheckpointError(
            f"load_checkpoint: {where} was not written by tinynet.io.save_checkpoint (use tinynet.load for files "
            "written by tinynet.save)"
        )
    loaders = _loaders(dataloader)
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None and ckpt.get(name) is None:
            raise CheckpointError(f"load_checkpoint: {where} holds no {name} state, but a {name} was passed")
    saved_loaders = ckpt.get("dataloader") or {}
    missing = [name for name in loaders if name not in saved_loaders]
    if missing:
        raise CheckpointError(
            f"load_checkpoint: {where} holds no state for dataloader(s) {missing} (it has {sorted(saved_loaders)})"
        )
    targets = [
        (obj, ckpt[name]) for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler))
    ]
    targets += [(loader, saved_loaders[name]) for name, loader in loaders.items()]
    targets = [(obj, state) for obj, state in targets if obj is not None]
    # All or nothing: if a later part does not fit (an optimizer of another model, say), the parts
    # already restored are put back, so a failed resume never leaves a half-loaded training run.
    backups = [(obj, copy.deepcopy(obj.state_dict())) for obj, _ in targets]
    try:
        for obj, state in targets:
            if obj is model:
                obj.load_state_dict(state, strict=strict)
            else:
                obj.load_state_dict(state)
        if restore_rng and ckpt.get("rng") is not None:
            set_rng_states(ckpt["rng"])
    except BaseException:
        for obj, state in backups:
            obj.load_state_dict(state)
        raise
    return ckpt
