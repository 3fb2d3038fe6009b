"""Simple layers (the training-toolkit issue fills this file)."""

from __future__ import annotations

from tinynet.nn.module import Module

__all__ = ["Identity"]


class Identity(Module):
    """Returns its input unchanged (a placeholder layer).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.Identity()(tinynet.ones(2))
        tensor([1., 1.])
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
