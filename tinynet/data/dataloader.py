"""``DataLoader``: batches of samples from a dataset, with PyTorch's collation and reproducible shuffling.

One pass (``for batch in loader``) is an epoch. With ``shuffle=True`` every
epoch draws a new permutation from the loader's generator (``generator=`` or
``seed=``) or, without one, from tinynet's global generator; the same seed gives
the same sequence of epochs. ``state_dict()`` / ``load_state_dict()`` save that
generator and, mid-epoch, the epoch's order and position, so a run resumed from
a checkpoint sees exactly the batches it would have seen (``tinynet.io.save_checkpoint``).
"""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any, Callable

import numpy as np

from tinynet.data.dataset import IterableDataset, Subset, TensorDataset
from tinynet.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from tinynet.random import Generator
from tinynet.tensor import Tensor

__all__ = ["DataLoader", "default_collate", "default_convert"]

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def default_collate(batch: list):
    """Merge a list of samples into a batch, recursively, exactly as PyTorch's ``default_collate``.

    * Tensors and numpy arrays are stacked along a new first dimension (dtype kept).
    * Python floats become a float64 Tensor, ints int64, bools bool (PyTorch's dtypes);
      numpy scalars keep their dtype.
    * dicts collate key by key; namedtuples field by field; tuples and lists
      element by element into a **list** (as PyTorch does), so ``x, y = batch`` works.
    * strings are returned as they are (a list/tuple of strings).

    Shape:
        ``B`` samples of shape ``S`` give a Tensor of shape ``(B, *S)``.

    Example:
        >>> import tinynet
        >>> from tinynet.data import default_collate
        >>> x, y = default_collate([(tinynet.zeros(3), 1), (tinynet.ones(3), 0)])
        >>> x.shape, y.tolist(), y.dtype
        ((2, 3), [1, 0], dtype('int64'))
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return Tensor._wrap(_stack([t.data for t in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor._wrap(_stack([np.asarray(a) for a in batch]))
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        if elem.dtype.kind not in "biufc":
            raise TypeError(_COLLATE_ERROR.format(elem.dtype))
        return Tensor._wrap(np.array(batch))
    if isinstance(elem, bool):
        return Tensor._wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, float):
        return Tensor._wrap(np.array(batch, dtype=np.float64))
    if isinstance(elem, numbers.Integral):
        return Tensor._wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:  # a Mapping that cannot be built from a dict
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError(
                    f"default_collate: each element in list of batch should be of equal size; sample 0 has "
                    f"{size} elements and sample {i} has {len(sample)}"
                )
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(_COLLATE_ERROR.format(type(elem)))


def _stack(arrays: list) -> np.ndarray:
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(
                f"default_collate: stack expects each tensor to be equal size, but got {shape} at entry 0 "
                f"and {a.shape} at entry {i} (pass a collate_fn that pads or keeps a list)"
            )
    return np.stack(arrays)


def default_convert(data):
    """What the loader returns when batching is off (``batch_size=None``): arrays become Tensors, recursively.

    Example:
        >>> import numpy as np
        >>> from tinynet.data import default_convert
        >>> default_convert((np.zeros(2), "label"))
        [tensor([0., 0.], dtype=tinynet.float64), 'label']
    """
    if isinstance(data, np.ndarray) and data.dtype.kind in "biufc":
        return Tensor._wrap(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (tuple, list)):  # a tuple becomes a list, as in PyTorch
        return [default_convert(v) for v in data]
    return data


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: {name} must be a bool, got {value!r}")
    return bool(value)


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) batches, as PyTorch's ``DataLoader``.

    Args:
        dataset: a map-style dataset (``__len__`` and ``__getitem__``) or an :class:`IterableDataset`.
        batch_size: samples per batch, or ``None`` to yield single samples without collation.
        shuffle: draw a new random order every epoch.
        sampler: an iterable of indices (instead of ``shuffle``).
        batch_sampler: an iterable of index lists (instead of ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: accepted for compatibility; tinynet always loads in the main process.
        collate_fn: merges a list of samples into a batch (default :func:`default_collate`).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: the :class:`tinynet.Generator` that shuffles (default: the global one).
        seed: shorthand for ``generator=tinynet.Generator(seed)`` (tinynet's addition).

    Shape:
        ``len(loader) = ceil(len(dataset) / batch_size)``, or ``floor(...)`` with ``drop_last``.

    Example:
        >>> import tinynet
        >>> from tinynet.data import DataLoader, TensorDataset
        >>> ds = TensorDataset(tinynet.arange(10).float().reshape(5, 2), tinynet.arange(5))
        >>> loader = DataLoader(ds, batch_size=2, shuffle=True, seed=0)
        >>> len(loader), [y.shape for x, y in loader]
        (3, [(2,), (2,), (1,)])
        >>> first = [y.tolist() for _, y in DataLoader(ds, batch_size=2, shuffle=True, seed=0)]
        >>> again = [y.tolist() for _, y in DataLoader(ds, batch_size=2, shuffle=True, seed=0)]
        >>> first == again
        True
    """

    def __init__(
        self,
        dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler=None,
        batch_sampler=None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable | None = None,
        generator: Generator | None = None,
        *,
        seed: int | None = None,
    ):
        shuffle = _check_flag(shuffle, "shuffle") if shuffle is not None else False
        drop_last = _check_flag(drop_last, "drop_last")
        if batch_size is not None and (
            not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0
        ):
            raise ValueError(f"DataLoader: batch_size should be a positive integer value (or None), got {batch_size!r}")
        if not isinstance(num_workers, numbers.Integral) or isinstance(num_workers, bool) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be a non-negative int, got {num_workers!r}")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn must be callable, got {type(collate_fn).__name__}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(
                f"DataLoader: generator must be a tinynet.Generator, got {type(generator).__name__} "
                "(for an integer seed use seed=...)"
            )
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: pass either generator or seed, not both")
            if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
                raise ValueError(f"DataLoader: seed must be a non-negative int, got {seed!r}")
            generator = Generator(int(seed))
        if not hasattr(dataset, "__getitem__") and not isinstance(dataset, IterableDataset):
            raise TypeError(
                f"DataLoader: dataset must be a map-style dataset (with __getitem__ and __len__) or an "
                f"IterableDataset, got {type(dataset).__name__}"
            )

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, got {shuffle}")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: sampler and batch_sampler do not apply to a stream")
        for name, value in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if value is not None and not hasattr(value, "__iter__"):
                raise TypeError(f"DataLoader: {name} must be an iterable of indices, got {type(value).__name__}")
        if worker_init_fn is not None and not callable(worker_init_fn):
            raise TypeError(f"DataLoader: worker_init_fn must be callable or None, got {worker_init_fn!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                    "and drop_last"
                )
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is mutually exclusive with drop_last"
            )

        if not self._iterable and sampler is None:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if not self._iterable and batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = int(num_workers)
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.collate_fn = collate_fn or (default_collate if batch_size is not None else default_convert)
        self._progress = None  # (batches, yielded) of the epoch in flight
        self._resume = None  # set by load_state_dict: (batches, yielded) to continue from

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError if the stream has no length, as in PyTorch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self._auto_collation else self.sampler)

    def __iter__(self):
        if self._iterable:
            return self._iter_stream()
        if self._resume is not None:
            batches, start = self._resume
            self._resume = None
        else:
            batches, start = list(self.batch_sampler if self._auto_collation else self.sampler), 0
        return self._iter_batches(batches, start)

    def _fetch(self, key):
        if not self._auto_collation:
            return self.collate_fn(self.dataset[key])
        if self.collate_fn is default_collate:
            batch = _tensor_rows(self.dataset, key)
            if batch is not None:
                return batch
        if hasattr(self.dataset, "__getitems__"):
            samples = self.dataset.__getitems__(key)
        else:
            samples = [self.dataset[i] for i in key]
        return self.collate_fn(samples)

    def _iter_batches(self, batches: list, start: int):
        progress = [batches, start]
        self._progress = progress
        try:
            for k in range(start, len(batches)):
                batch = self._fetch(batches[k])
                progress[1] = k + 1
                yield batch
        finally:
            if self._progress is progress:
                self._progress = None if progress[1] >= len(batches) else progress

    def _iter_stream(self):
        if self.batch_size is None:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    # ------------------------------------------------------------------ checkpointing
    def state_dict(self) -> dict:
        """What a checkpoint needs to resume this loader bit-identically.

        ``generator``: the state of the loader's own generator (None when it
        shuffles with the global one, which checkpoints save separately).
        ``indices`` / ``batch_lengths`` / ``batches_yielded``: when saved in the
        middle of an epoch, that epoch's order and how far it got (else None / 0).
        """
        state = {
            "generator": _generator_state(self.sampler) if self.generator is None else self.generator.get_state(),
            "indices": None,
            "batch_lengths": None,
            "batches_yielded": 0,
        }
        if self._progress is not None and 0 < self._progress[1] < len(self._progress[0]):
            batches, done = self._progress
            lengths = [len(b) for b in batches] if self._auto_collation else [1] * len(batches)
            flat = [i for b in batches for i in b] if self._auto_collation else list(batches)
            indices = np.asarray(flat)
            if indices.dtype.kind not in "iu":
                raise TypeError(
                    "DataLoader.state_dict: mid-epoch state needs integer indices; this sampler yields "
                    f"{indices.dtype} values"
                )
            state.update(indices=indices.astype(np.int64), batch_lengths=np.asarray(lengths, np.int64))
            state["batches_yielded"] = int(done)
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`: the generator, and a pending mid-epoch position for the next ``iter()``."""
        if not isinstance(state, collections.abc.Mapping) or "batches_yielded" not in state:
            raise TypeError(f"DataLoader.load_state_dict: expected a dict from DataLoader.state_dict(), got {state!r}")
        gen_state = state.get("generator")
        target = self.generator if self.generator is not None else getattr(self.sampler, "generator", None)
        if gen_state is not None:
            if target is None:
                raise ValueError(
                    "DataLoader.load_state_dict: the state holds a generator state but this loader has no "
                    "generator of its own (pass generator= or seed= when building it)"
                )
            target.set_state(gen_state)
        self._resume = None
        if state.get("indices") is not None:
            flat = np.asarray(state["indices"]).tolist()
            lengths = np.asarray(state["batch_lengths"]).tolist()
            if sum(lengths) != len(flat):
                raise ValueError("DataLoader.load_state_dict: batch_lengths do not add up to the number of indices")
            if self._auto_collation:
                batches, k = [], 0
                for n in lengths:
                    batches.append(flat[k : k + n])
                    k += n
            else:
                batches = flat
            done = int(state["batches_yielded"])
            if not 0 <= done <= len(batches):
                raise ValueError(f"DataLoader.load_state_dict: batches_yielded={done} is outside 0..{len(batches)}")
            self._resume = (batches, done)


def _tensor_rows(dataset, indices):
    """default_collate of a TensorDataset's samples, by one fancy index per tensor (or None for other datasets).

    Equal to ``default_collate([dataset[i] for i in indices])`` (a list of stacked
    tensors), without splitting the rows into samples and stacking them again.
    """
    while isinstance(dataset, Subset):
        indices = [dataset.indices[i] for i in indices]
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset:
        return None
    idx = np.asarray(indices, dtype=np.int64)
    return [Tensor._wrap(t.data[idx]) for t in dataset.tensors]


def _generator_state(sampler):
    g = getattr(sampler, "generator", None)
    return g.get_state() if isinstance(g, Generator) else None
