"""Loss modules: thin wrappers around ``tinynet.functional``'s losses, with PyTorch's arguments.

As in PyTorch, a class ``weight`` (and BCE's ``pos_weight``) is registered as a
buffer, so it appears in ``state_dict()`` and moves with ``double()``.
"""

from __future__ import annotations

from tinynet import functional as F
from tinynet.functional.loss import _check_ignore_index, _check_label_smoothing, _check_smooth, _reduction
from tinynet.nn.module import Module
from tinynet.tensor import Tensor

__all__ = ["CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "DiceLoss"]


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction(reduction, type(self).__name__, size_average, reduce)


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(size_average, reduce, reduction)
        if weight is not None and not isinstance(weight, Tensor):
            raise TypeError(f"{type(self).__name__}: weight must be a Tensor or None, got {type(weight).__name__}")
        self.register_buffer("weight", weight)


class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class indices (or class probabilities); see ``F.cross_entropy``.

    Args:
        weight: optional ``(C,)`` weight per class (a buffer, saved in ``state_dict``).
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        ignore_index: target value that contributes neither loss nor gradient (default -100).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        label_smoothing: ε in [0, 1] (default 0).

    Shape:
        - input: ``(N, C)`` or ``(N, C, d1, ...)`` logits; target: ``(N,)`` or ``(N, d1, ...)`` indices
        - output: scalar, or the target's shape with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> loss_fn = nn.CrossEntropyLoss()
        >>> loss_fn(tinynet.zeros(2, 4), tinynet.tensor([0, 3]))  # uniform over 4 classes: log 4
        tensor(1.3863)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _check_ignore_index(ignore_index, "CrossEntropyLoss")
        self.label_smoothing = _check_label_smoothing(label_smoothing, "CrossEntropyLoss")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities; see ``F.nll_loss``.

    Args:
        weight: optional ``(C,)`` weight per class (a buffer).
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        ignore_index: target value that is skipped (default -100).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Shape:
        - input: ``(N, C)`` or ``(N, C, d1, ...)``; target: ``(N,)`` or ``(N, d1, ...)``
        - output: scalar, or the target's shape with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.NLLLoss()(tinynet.tensor([[-1.0, -2.0]]), tinynet.tensor([1]))
        tensor(2.)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        ignore_index: int = -100,
        reduce=None,
        reduction: str = "mean",
    ):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = _check_ignore_index(ignore_index, "NLLLoss")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid and binary cross-entropy in one stable step; see ``F.binary_cross_entropy_with_logits``.

    Args:
        weight: optional weight broadcast to the input (a buffer).
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.
        pos_weight: optional weight of positives, broadcast along the last dimension (a buffer).

    Shape:
        - input, target: ``(*)``, the same shape
        - output: scalar, or ``(*)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.BCEWithLogitsLoss()(tinynet.zeros(3), tinynet.ones(3))  # log 2
        tensor(0.6931)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        size_average=None,
        reduce=None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ):
        super().__init__(size_average, reduce, reduction)
        for name, t in (("weight", weight), ("pos_weight", pos_weight)):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"BCEWithLogitsLoss: {name} must be a Tensor or None, got {type(t).__name__}")
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, self.weight, pos_weight=self.pos_weight, reduction=self.reduction
        )


class MSELoss(_Loss):
    """Mean squared error; see ``F.mse_loss``.

    Args:
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Shape:
        - input, target: ``(*)``, the same shape
        - output: scalar, or ``(*)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.MSELoss(reduction="sum")(tinynet.tensor([1.0, 2.0]), tinynet.tensor([0.0, 0.0]))
        tensor(5.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error; see ``F.l1_loss``.

    Args:
        size_average, reduce: PyTorch's deprecated spelling of ``reduction``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``.

    Shape:
        - input, target: ``(*)``, the same shape
        - output: scalar, or ``(*)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> nn.L1Loss()(tinynet.tensor([1.0, -2.0]), tinynet.tensor([0.0, 0.0]))
        tensor(1.5)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class DiceLoss(_Loss):
    """Multi-class soft Dice loss on softmax probabilities (not in PyTorch); see ``F.dice_loss``.

    ``loss[n, c] = 1 - (2 Σ p y + smooth) / (Σ p + Σ y + smooth)`` over the positions of sample n
    whose target is not ``ignore_index``, averaged over samples and classes by default.

    Args:
        smooth: additive smoothing, >= 0 (default 1).
        ignore_index: target value excluded from the sums (default -100).
        reduction: ``'mean'`` (over N and C) | ``'sum'`` | ``'none'`` (an ``(N, C)`` tensor).

    Shape:
        - input: ``(N, C, d1, ...)`` logits; target: ``(N, d1, ...)`` class indices
        - output: scalar, or ``(N, C)`` with ``reduction='none'``

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> sure = tinynet.tensor([[[[50.0]], [[-50.0]]]])   # N=1, C=2, a 1x1 map, certain of class 0
        >>> nn.DiceLoss(reduction="none")(sure, tinynet.tensor([[[0]]]))  # right, and class 1 rightly absent
        tensor([[0., 0.]])
    """

    def __init__(self, smooth: float = 1.0, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(None, None, reduction)
        self.smooth = _check_smooth(smooth, "DiceLoss")
        self.ignore_index = _check_ignore_index(ignore_index, "DiceLoss")

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.dice_loss(input, target, smooth=self.smooth, ignore_index=self.ignore_index, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"smooth={self.smooth}, ignore_index={self.ignore_index}, reduction={self.reduction!r}"
