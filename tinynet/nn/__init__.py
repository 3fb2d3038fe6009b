"""Layers and models (PyTorch's ``torch.nn``)."""

from tinynet.nn import functional, init
from tinynet.nn.containers import ModuleDict, ModuleList, Sequential
from tinynet.nn.layers import Identity
from tinynet.nn.module import Module, Parameter
