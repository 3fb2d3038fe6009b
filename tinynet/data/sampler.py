"""Samplers: which indices a DataLoader fetches, and in which order (PyTorch's ``torch.utils.data`` samplers).

Shuffling draws from a :class:`tinynet.Generator`: a passed one, or the global
generator (``tinynet.manual_seed``). Each pass over a :class:`RandomSampler`
draws a fresh permutation, so epochs differ, and the same seed gives the same
sequence of epochs.
"""

from __future__ import annotations

import numbers
from typing import Iterator, Sized

from tinynet.random import Generator, default_generator

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "BatchSampler"]


class Sampler:
    """Base class: ``__iter__`` yields dataset indices (and ``__len__`` counts them).

    Example:
        >>> from tinynet.data import DataLoader, Sampler
        >>> class EvenFirst(Sampler):
        ...     def __init__(self, n):
        ...         self.n = n
        ...     def __iter__(self):
        ...         return iter([*range(0, self.n, 2), *range(1, self.n, 2)])
        ...     def __len__(self):
        ...         return self.n
        >>> list(EvenFirst(5))
        [0, 2, 4, 1, 3]
        >>> [b.tolist() for b in DataLoader(list(range(10, 15)), batch_size=2, sampler=EvenFirst(5))]
        [[10, 12], [14, 11], [13]]
    """

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


def _check_sized(data_source, op: str) -> None:
    if not hasattr(data_source, "__len__"):
        raise TypeError(f"{op}: data_source must have a length (a dataset), got {type(data_source).__name__}")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1``.

    Example:
        >>> from tinynet.data import SequentialSampler
        >>> list(SequentialSampler(range(3)))
        [0, 1, 2]
    """

    def __init__(self, data_source: Sized):
        _check_sized(data_source, "SequentialSampler")
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices (or ``num_samples`` draws with replacement).

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw with replacement.
        num_samples: how many indices per pass (default ``len(data_source)``).
        generator: the :class:`tinynet.Generator` to draw from (default: the global one).

    Example:
        >>> import tinynet
        >>> from tinynet.data import RandomSampler
        >>> s = RandomSampler(range(5), generator=tinynet.Generator(0))
        >>> sorted(s)
        [0, 1, 2, 3, 4]
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Generator | None = None,
    ):
        _check_sized(data_source, "RandomSampler")
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, got replacement={replacement!r}")
        if generator is not None and not isinstance(generator, Generator):
            raise TypeError(f"RandomSampler: generator must be a tinynet.Generator, got {type(generator).__name__}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        n = self.num_samples
        if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RandomSampler: num_samples should be a positive integer value, got num_samples={n!r}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        g = self.generator or default_generator()
        n = len(self.data_source)
        if self.replacement:
            yield from g.integers(0, n, size=self.num_samples).tolist()
            return
        full, rest = divmod(self.num_samples, n)
        for _ in range(full):
            yield from g.permutation(n).tolist()
        if rest:
            yield from g.permutation(n)[:rest].tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless ``drop_last``).

    Shape:
        ``len = ceil(len(sampler) / batch_size)``, or ``floor(...)`` with ``drop_last``.

    Example:
        >>> from tinynet.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"BatchSampler: batch_size should be a positive integer value, got batch_size={batch_size!r}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, got drop_last={drop_last!r}")
        if not hasattr(sampler, "__iter__"):
            raise TypeError(f"BatchSampler: sampler must be an iterable of indices, got {type(sampler).__name__}")
        self.sampler = sampler
        self.batch_size = int(batch_size)
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
