"""tinynet.metrics on hand-made label maps whose answers are worked out in the comments."""

import numpy as np
import pytest

from tinynet import tensor
from tinynet.metrics import SegmentationMetrics, confusion_matrix, mean_iou, per_class_iou, pixel_accuracy


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    truth = np.array([[0, 0, 1], [1, 2, 2]])
    pred = np.array([[0, 1, 1], [1, 2, 0]])
    # class 0: one pixel right, one predicted 1; class 1: both right; class 2: one right, one predicted 0
    expected = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    np.testing.assert_array_equal(confusion_matrix(pred, truth, 3), expected)


def test_iou_and_accuracy_from_a_hand_computed_case():
    truth = np.array([0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 1, 1, 2, 2])
    cm = confusion_matrix(pred, truth, 3)
    # class 0: TP 2, FP 0, FN 1 -> 2/3; class 1: TP 1, FP 1, FN 1 -> 1/3; class 2: TP 1, FP 1, FN 0 -> 1/2
    np.testing.assert_allclose(per_class_iou(cm), [2 / 3, 1 / 3, 1 / 2])
    assert mean_iou(cm) == pytest.approx((2 / 3 + 1 / 3 + 1 / 2) / 3)
    assert pixel_accuracy(cm) == pytest.approx(4 / 6)


def test_absent_class_is_left_out_of_the_mean():
    cm = confusion_matrix([0, 1, 1], [0, 1, 1], 3)  # class 2 appears nowhere
    iou = per_class_iou(cm)
    assert np.isnan(iou[2]) and mean_iou(cm) == 1.0


def test_perfect_and_all_wrong_predictions():
    y = np.array([0, 1, 2, 3])
    assert mean_iou(confusion_matrix(y, y, 4)) == 1.0
    assert mean_iou(confusion_matrix((y + 1) % 4, y, 4)) == 0.0


def test_accumulator_equals_one_big_confusion_matrix(rng):
    preds = rng.integers(0, 4, size=(3, 8, 8))
    truths = rng.integers(0, 4, size=(3, 8, 8))
    m = SegmentationMetrics(4)
    for p, t in zip(preds, truths):
        m.update(tensor(p), tensor(t))
    np.testing.assert_array_equal(m.cm, confusion_matrix(preds, truths, 4))


def test_ignore_index_drops_those_pixels():
    cm = confusion_matrix([0, 1, 1], [0, 255, 1], 2, ignore_index=255)
    np.testing.assert_array_equal(cm, [[1, 0], [0, 1]])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: confusion_matrix([0, 1], [0], 2), "pred has 2 elements but target has 1"),
        (lambda: confusion_matrix([0, 5], [0, 1], 2), r"pred holds labels outside \[0, 1\]"),
        (lambda: confusion_matrix([0.0, 1.0], [0, 1], 2), "pred must hold integer class labels"),
        (lambda: confusion_matrix([0, 1], [0, 1], 0), "num_classes must be a positive int"),
    ],
)
def test_bad_metric_arguments_raise_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
