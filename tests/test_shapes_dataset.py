"""The synthetic Shapes segmentation set: determinism, split separation and label correctness."""

import numpy as np
import pytest

from tinynet.data.datasets import Shapes, ShapeSpec, render_scene
from tinynet.data.datasets.shapes import shape_mask


def test_same_seed_gives_identical_images_and_a_larger_set_extends_a_smaller_one():
    a, b = Shapes("val", size=6, seed=3), Shapes("val", size=9, seed=3)
    np.testing.assert_array_equal(a.images, b.images[:6])
    np.testing.assert_array_equal(a.labels, b.labels[:6])


def test_seeds_and_splits_give_different_images():
    base = Shapes("train", size=4, seed=0).images
    assert not np.array_equal(base, Shapes("train", size=4, seed=1).images)
    assert not np.array_equal(base, Shapes("test", size=4, seed=0).images)


def test_items_have_the_documented_shapes_dtypes_and_ranges():
    ds = Shapes("test", size=20)
    image, labels = ds[0]
    assert image.shape == (3, 64, 64) and image.dtype == np.float32
    assert labels.shape == (64, 64) and labels.dtype == np.int64
    assert ds.images.min() >= 0 and ds.images.max() <= 1
    assert set(np.unique(ds.labels)) <= {0, 1, 2, 3}
    assert all(len(np.unique(lab)) >= 2 for lab in ds.labels)  # every image holds at least one object
    assert set(np.unique(ds.labels)) == {0, 1, 2, 3}  # 20 images hold every class


def test_a_hand_placed_circle_square_and_triangle_are_labelled_where_they_are():
    specs = [
        ShapeSpec(1, 16.0, 16.0, 6.0, (1.0, 0.0, 0.0)),
        ShapeSpec(2, 16.0, 48.0, 6.0, (0.0, 1.0, 0.0)),
        ShapeSpec(3, 46.0, 32.0, 8.0, (0.0, 0.0, 1.0)),
    ]
    image, labels = render_scene(specs)
    # circle: inside at distance 5, outside at distance 7 along the row and at the square's corner direction
    assert labels[16, 21] == 1 and labels[16, 23] == 0 and labels[20, 20] == 1 and labels[21, 21] == 0
    # square with half side 0.886 * 6 = 5.3: its corner (21, 53) is in, (22, 48) is out
    assert labels[21, 53] == 2 and labels[22, 48] == 0
    # triangle: apex at 46 - 10.4 = 35.6, base at 46 + 5.2 = 51.2; at row 51 the half width is
    # (51 - 35.6) / 15.6 * 10.4 * sqrt(3)/2 = 8.89, so columns 24..40 are in and 41 is out
    assert labels[35, 32] == 0 and labels[36, 32] == 3 and labels[52, 32] == 0
    assert labels[51, 40] == 3 and labels[51, 41] == 0 and labels[51, 24] == 3 and labels[51, 23] == 0
    assert labels[50, 22] == 0  # beside the base, outside the slanted edge
    np.testing.assert_array_equal(image[:, labels == 3], np.repeat([[0.0], [0.0], [1.0]], (labels == 3).sum(), axis=1))
    np.testing.assert_array_equal(image[:, labels == 0], 0.5)


def test_later_objects_cover_earlier_ones():
    under = ShapeSpec(2, 32.0, 32.0, 10.0, (1.0, 1.0, 1.0))
    over = ShapeSpec(1, 32.0, 32.0, 4.0, (0.0, 0.0, 0.0))
    _, labels = render_scene([under, over])
    assert labels[32, 32] == 1 and labels[32, 40] == 2
    np.testing.assert_array_equal(labels == 1, shape_mask(over))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "holdout"}, "split must be one of"),
        ({"size": -1}, "size must be an int >= 0"),
        ({"seed": -3}, "seed must be a non-negative int"),
        ({"max_objects": 0}, "max_objects must be an int >= 1"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Shapes(**kwargs)
