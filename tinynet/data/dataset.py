"""Datasets: PyTorch's ``Dataset``, ``TensorDataset``, ``Subset``, ``ConcatDataset`` and ``random_split``.

A map-style dataset is anything with ``__len__`` and ``__getitem__(i)`` returning
one sample (a Tensor, an array, a number, or a tuple/dict of them). The
:class:`~tinynet.data.DataLoader` draws indices, fetches samples and collates
them into batches.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import warnings
from typing import Sequence

import numpy as np

from tinynet.random import Generator, default_generator
from tinynet.tensor import Tensor

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Base class of map-style datasets: override ``__getitem__`` (and ``__len__``).

    ``a + b`` concatenates two datasets (a :class:`ConcatDataset`).

    Example:
        >>> from tinynet.data import Dataset
        >>> class Squares(Dataset):
        ...     def __len__(self):
        ...         return 4
        ...     def __getitem__(self, i):
        ...         return i * i
        >>> [Squares()[i] for i in range(4)]
        [0, 1, 4, 9]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __add__(self, other: "Dataset") -> "ConcatDataset":
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """Base class of iterable-style datasets (streams): override ``__iter__``.

    The DataLoader batches the stream in order; ``shuffle``, ``sampler`` and
    ``batch_sampler`` do not apply to it.

    Example:
        >>> from tinynet.data import IterableDataset, DataLoader
        >>> class Count(IterableDataset):
        ...     def __iter__(self):
        ...         return iter(range(5))
        >>> [b.tolist() for b in DataLoader(Count(), batch_size=2)]
        [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")

    def __add__(self, other):
        raise TypeError("IterableDataset does not support '+' (it has no random access)")


class TensorDataset(Dataset):
    """Samples are the ``i``-th rows of each tensor: ``dataset[i] == (t0[i], t1[i], ...)``.

    Args:
        *tensors: Tensors (or numpy arrays, wrapped without copying) with the same first dimension.

    Shape:
        - each tensor: ``(N, *)``; ``len(dataset) == N``; ``dataset[i]`` is a tuple of ``(*)``-shaped Tensors.

    Example:
        >>> import tinynet
        >>> from tinynet.data import TensorDataset
        >>> ds = TensorDataset(tinynet.zeros(5, 3), tinynet.arange(5))
        >>> len(ds), ds[2][0].shape, ds[2][1].item()
        (5, (3,), 2)
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        ts = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = Tensor._wrap(t)
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} must be a Tensor or numpy array, got {type(t).__name__}")
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is 0-d; every tensor needs a first (sample) dimension")
            ts.append(t)
        sizes = [t.shape[0] for t in ts]
        if any(n != sizes[0] for n in sizes):
            shapes = ", ".join(str(tuple(t.shape)) for t in ts)
            raise ValueError(
                f"TensorDataset: size mismatch between tensors: first dimensions {sizes} (shapes {shapes})"
            )
        self.tensors = tuple(ts)

    def __getitem__(self, index):
        return tuple(_row(t, index) for t in self.tensors)

    def __getitems__(self, indices) -> list:
        # One fancy-index per tensor instead of one index per sample and tensor.
        idx = np.asarray(indices, dtype=np.int64)
        columns = [_row(t, idx) for t in self.tensors]
        return [tuple(c[k] for c in columns) for k in range(len(idx))]

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


def _row(t: Tensor, index):
    if t.requires_grad:
        return t[index]  # keep the tape, as torch does
    return Tensor._wrap(t.data[index])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Example:
        >>> from tinynet.data import Subset
        >>> s = Subset(list("abcdef"), [4, 0])
        >>> len(s), s[0], s[1]
        (2, 'e', 'a')
    """

    def __init__(self, dataset, indices: Sequence[int]):
        if not hasattr(dataset, "__getitem__"):
            raise TypeError(f"Subset: dataset must support indexing, got {type(dataset).__name__}")
        if not hasattr(indices, "__len__") or not hasattr(indices, "__getitem__"):
            raise TypeError(f"Subset: indices must be a sequence of ints, got {indices!r:.60}")
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices) -> list:
        mapped = [self.indices[i] for i in indices]
        if hasattr(self.dataset, "__getitems__"):
            return self.dataset.__getitems__(mapped)
        return [self.dataset[i] for i in mapped]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several map-style datasets one after the other.

    Example:
        >>> from tinynet.data import ConcatDataset
        >>> c = ConcatDataset([[1, 2], [3, 4, 5]])
        >>> len(c), c[2], c[-1]
        (5, 3, 5)
    """

    def __init__(self, datasets):
        if not hasattr(datasets, "__iter__"):
            raise TypeError(f"ConcatDataset: datasets must be an iterable of datasets, got {type(datasets).__name__}")
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for i, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (it has no random access)")
            if not hasattr(d, "__len__") or not hasattr(d, "__getitem__"):
                raise TypeError(f"ConcatDataset: datasets[{i}] is not a map-style dataset, got {type(d).__name__}")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not exceed dataset length {n}")
            idx += n
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[d - 1] if d > 0 else 0
        return self.datasets[d][idx - start]


def random_split(dataset, lengths: Sequence, generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset`s of the given lengths.

    ``lengths`` are sample counts that sum to ``len(dataset)``, or fractions
    that sum to 1: each split then gets ``floor(frac * len(dataset))`` samples
    and the remainder is dealt out one by one from the first split on
    (PyTorch's rule, so split sizes match torch's exactly). Lengths that are
    all ints are always counts (PyTorch also reads ``[1]`` or ``[1, 0]`` as fractions).

    Args:
        dataset: a map-style dataset (anything with ``len``).
        lengths: ints or fractions.
        generator: the :class:`tinynet.Generator` that draws the permutation
            (default: the global one, see ``tinynet.manual_seed``).

    Example:
        >>> import tinynet
        >>> from tinynet.data import random_split
        >>> train, val = random_split(range(10), [0.8, 0.2], generator=tinynet.Generator(0))
        >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
        (8, 2, True)
    """
    if generator is not None and not isinstance(generator, Generator):
        raise TypeError(f"random_split: generator must be a tinynet.Generator, got {type(generator).__name__}")
    try:
        n = len(dataset)
    except TypeError:
        raise TypeError(f"random_split: dataset must have a length, got {type(dataset).__name__}") from None
    lengths = list(lengths) if not isinstance(lengths, (str, bytes)) else None
    if not lengths or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in lengths):
        raise TypeError(f"random_split: lengths must be a non-empty sequence of ints or fractions, got {lengths!r}")
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1 and not all(isinstance(v, numbers.Integral) for v in lengths):
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is {frac}, not between 0 and 1")
            counts.append(math.floor(n * frac))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0", stacklevel=2)
        lengths = counts
    for i, v in enumerate(lengths):
        if not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(
                f"random_split: lengths must be non-negative ints (or fractions summing to 1); "
                f"entry {i} is {v!r} in {list(lengths)}"
            )
    if sum(lengths) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(lengths)}) does not equal the length of the dataset ({n})"
        )
    g = generator or default_generator()
    perm = g.permutation(n).tolist()
    splits, offset = [], 0
    for length in lengths:
        splits.append(Subset(dataset, perm[offset : offset + int(length)]))
        offset += int(length)
    return splits
