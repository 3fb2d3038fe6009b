"""Optimizers and learning-rate schedulers (PyTorch's ``torch.optim``), updating ``param.data`` in place."""

from tinynet.optim import lr_scheduler
from tinynet.optim.adam import Adam, AdamW
from tinynet.optim.optimizer import Optimizer
from tinynet.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
