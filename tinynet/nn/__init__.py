"""Layers and models (PyTorch's ``torch.nn``)."""

from tinynet.nn import functional, init
from tinynet.nn.module import Module, Parameter

__all__ = ["Module", "Parameter", "functional", "init"]
