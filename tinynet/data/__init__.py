"""Data loading (PyTorch's ``torch.utils.data``): datasets, samplers, ``DataLoader``, ``random_split``.

Ready-made datasets (``tinynet.data.datasets``) live in their own sub-package.
"""

from tinynet.data.dataloader import DataLoader, default_collate, default_convert
from tinynet.data.dataset import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split
from tinynet.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "DataLoader",
    "default_collate",
    "default_convert",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "BatchSampler",
]
