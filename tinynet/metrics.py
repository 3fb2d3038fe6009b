"""Segmentation metrics: confusion matrix, pixel accuracy, per-class IoU and mean IoU.

All work on integer label maps (numpy arrays or Tensors) of the same shape.
IoU of class c = TP / (TP + FP + FN); a class absent from both prediction and
truth has an undefined IoU (NaN), and ``mean_iou`` averages over the classes
where it is defined, as most segmentation benchmarks do.
"""

from __future__ import annotations

import numpy as np

from tinynet.tensor import Tensor

__all__ = ["confusion_matrix", "pixel_accuracy", "per_class_iou", "mean_iou", "SegmentationMetrics"]


def _labels(x, name: str) -> np.ndarray:
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"metrics: {name} must hold integer class labels, got dtype {arr.dtype}")
    return arr


def _check_num_classes(num_classes, op: str) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"{op}: num_classes must be a positive int, got {num_classes!r}")
    return int(num_classes)


def _check_ignore_index(ignore_index, op: str) -> None:
    if ignore_index is not None and (isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer))):
        raise TypeError(f"{op}: ignore_index must be an int or None, got {ignore_index!r}")


def _check_cm(cm, op: str) -> np.ndarray:
    """A confusion matrix: a square 2-D array of non-negative counts."""
    arr = cm.data if isinstance(cm, Tensor) else cm
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{op}: cm must be a confusion matrix (a numpy array), got {type(cm).__name__}")
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.dtype.kind not in "iuf":
        raise ValueError(f"{op}: cm must be a square 2-D array of counts, got shape {arr.shape} dtype {arr.dtype}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{op}: cm holds negative counts (min {arr.min()}), so it is not a confusion matrix")
    return arr


def confusion_matrix(pred, target, num_classes: int, ignore_index: int | None = None) -> np.ndarray:
    """``M[t, p]`` = number of pixels of true class t predicted as p (int64, num_classes × num_classes).

    Example:
        >>> from tinynet.metrics import confusion_matrix
        >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], num_classes=3)
        array([[1, 0, 0],
               [0, 1, 0],
               [0, 1, 1]])
    """
    p, t = _labels(pred, "pred").ravel(), _labels(target, "target").ravel()
    if p.shape != t.shape:
        raise ValueError(f"confusion_matrix: pred has {p.size} elements but target has {t.size}")
    num_classes = _check_num_classes(num_classes, "confusion_matrix")
    _check_ignore_index(ignore_index, "confusion_matrix")
    if ignore_index is not None:
        keep = t != ignore_index
        p, t = p[keep], t[keep]
    for name, a in (("pred", p), ("target", t)):
        if a.size and (a.min() < 0 or a.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} holds labels outside [0, {num_classes - 1}] (min {a.min()}, max {a.max()})"
            )
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def pixel_accuracy(cm: np.ndarray) -> float:
    """Correct pixels / all pixels, from a confusion matrix.

    Example:
        >>> import numpy as np
        >>> from tinynet.metrics import pixel_accuracy
        >>> pixel_accuracy(np.array([[2, 1], [0, 1]]))  # 3 of 4 pixels on the diagonal
        0.75
    """
    cm = _check_cm(cm, "pixel_accuracy")
    total = cm.sum()
    return float(np.trace(cm) / total) if total else float("nan")


def per_class_iou(cm: np.ndarray) -> np.ndarray:
    """IoU of each class from a confusion matrix (NaN where the class is absent from truth and prediction).

    Example:
        >>> import numpy as np
        >>> from tinynet.metrics import per_class_iou
        >>> per_class_iou(np.array([[2, 1], [0, 1]]))
        array([0.66666667, 0.5       ])
    """
    cm = _check_cm(cm, "per_class_iou")
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(axis=0) + cm.sum(axis=1) - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


def mean_iou(cm: np.ndarray) -> float:
    """Mean of the defined per-class IoUs (classes absent from truth and prediction are left out).

    Example:
        >>> import numpy as np
        >>> from tinynet.metrics import mean_iou
        >>> round(mean_iou(np.array([[2, 1], [0, 1]])), 4)  # (2/3 + 1/2) / 2
        0.5833
        >>> mean_iou(np.array([[3, 0, 0], [0, 1, 0], [0, 0, 0]]))  # class 2 never occurs: not averaged
        1.0
    """
    iou = per_class_iou(_check_cm(cm, "mean_iou"))
    return float(np.nanmean(iou)) if np.isfinite(iou).any() else float("nan")


class SegmentationMetrics:
    """Accumulates a confusion matrix over batches.

    Example:
        >>> from tinynet.metrics import SegmentationMetrics
        >>> m = SegmentationMetrics(num_classes=2)
        >>> m.update([[0, 1], [1, 1]], [[0, 1], [0, 1]])
        >>> round(m.pixel_accuracy(), 2), round(m.mean_iou(), 3)
        (0.75, 0.583)
    """

    def __init__(self, num_classes: int, ignore_index: int | None = None):
        num_classes = _check_num_classes(num_classes, "SegmentationMetrics")
        _check_ignore_index(ignore_index, "SegmentationMetrics")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.cm = np.zeros((num_classes, num_classes), np.int64)

    def update(self, pred, target) -> None:
        self.cm += confusion_matrix(pred, target, self.num_classes, self.ignore_index)

    def reset(self) -> None:
        self.cm[...] = 0

    def pixel_accuracy(self) -> float:
        return pixel_accuracy(self.cm)

    def per_class_iou(self) -> np.ndarray:
        return per_class_iou(self.cm)

    def mean_iou(self) -> float:
        return mean_iou(self.cm)
