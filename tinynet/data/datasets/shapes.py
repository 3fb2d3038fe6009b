"""``Shapes``: a synthetic segmentation set of circles, squares and triangles on textured backgrounds.

Every image is 3×64×64 (values in [0, 1]) with a smooth, colourful, noisy
background and one to four objects of random kind, colour, size and position,
drawn in order so later objects cover earlier ones. The label map gives, per
pixel, the kind of the top-most object there: 0 background, 1 circle,
2 square, 3 triangle.

Everything is generated with numpy from a seed, with no download: image ``i``
of a split depends only on ``(seed, split, i)``, so sets are repeatable,
splits never share a generator stream, and a larger set extends a smaller one.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tinynet.data.dataset import Dataset
from tinynet.tensor import Tensor

__all__ = ["Shapes", "ShapeSpec", "CLASSES", "render_scene"]

CLASSES = ("background", "circle", "square", "triangle")
BACKGROUND, CIRCLE, SQUARE, TRIANGLE = range(4)
_SPLITS = {"train": 0, "val": 1, "test": 2}
_DEFAULT_SIZES = {"train": 2000, "val": 200, "test": 500}


class ShapeSpec(NamedTuple):
    """One object: its class (1-3), centre (row, column) in pixels, radius in pixels and RGB colour.

    Example:
        >>> from tinynet.data.datasets.shapes import ShapeSpec, shape_mask
        >>> square = ShapeSpec(kind=2, cy=10.0, cx=10.0, r=4.0, colour=(1.0, 0.0, 0.0))
        >>> int(shape_mask(square, size=20).sum())  # a 7x7 square: half side 0.886 r = 3.5 pixels
        49
    """

    kind: int
    cy: float
    cx: float
    r: float
    colour: tuple


def shape_mask(spec: ShapeSpec, size: int = 64) -> np.ndarray:
    """The boolean (size, size) mask of one object.

    A circle is the disc of radius r; a square is axis-aligned with the disc's
    area (half side 0.886 r); a triangle is upright and equilateral with
    circumradius 1.3 r (apex at cy - 1.3 r, base at cy + 0.65 r).
    """
    yy, xx = np.mgrid[0:size, 0:size]
    if spec.kind == CIRCLE:
        return (yy - spec.cy) ** 2 + (xx - spec.cx) ** 2 <= spec.r**2
    if spec.kind == SQUARE:
        half = 0.886 * spec.r
        return (np.abs(yy - spec.cy) <= half) & (np.abs(xx - spec.cx) <= half)
    if spec.kind == TRIANGLE:
        big_r = 1.3 * spec.r
        top, base = spec.cy - big_r, spec.cy + big_r / 2
        t = (yy - top) / (base - top)  # 0 at the apex, 1 at the base
        return (t >= 0) & (t <= 1) & (np.abs(xx - spec.cx) <= t * big_r * np.sqrt(3) / 2)
    raise ValueError(f"shape_mask: kind must be 1 (circle), 2 (square) or 3 (triangle), got {spec.kind}")


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth texture: per channel, a base level plus three random plane waves.

    Each wave sin(fy y + fx x + φ) is built from 1-D factors,
    sin(fy y + φ) cos(fx x) + cos(fy y + φ) sin(fx x), an outer-product sum
    that is cheaper than evaluating the sine on the whole grid.
    """
    coords = np.arange(size, dtype=np.float64)
    base = rng.uniform(0.2, 0.8, size=3)
    freq = rng.uniform(-0.3, 0.3, size=(3, 3, 2))  # channel, wave, (fy, fx)
    phase = rng.uniform(0, 2 * np.pi, size=(3, 3))
    rows = freq[..., 0, None] * coords + phase[..., None]  # (3, 3, size)
    cols = freq[..., 1, None] * coords
    waves = np.einsum("cwy,cwx->cyx", np.sin(rows), np.cos(cols)) + np.einsum(
        "cwy,cwx->cyx", np.cos(rows), np.sin(cols)
    )
    return (base[:, None, None] + 0.08 * waves).astype(np.float32)


def _sample_specs(rng: np.random.Generator, size: int, max_objects: int) -> list[ShapeSpec]:
    specs = []
    for _ in range(int(rng.integers(1, max_objects + 1))):
        kind = int(rng.integers(1, 4))
        r = float(rng.uniform(6, 14))
        cy, cx = (float(v) for v in rng.uniform(0.6 * r, size - 0.6 * r, size=2))
        specs.append(ShapeSpec(kind, cy, cx, r, tuple(float(v) for v in rng.uniform(0, 1, size=3))))
    return specs


def _check_spec(spec: ShapeSpec, i: int) -> None:
    """One object of ``render_scene``: a known kind, a finite centre, a positive radius and an RGB colour in [0, 1]."""

    def real(v) -> bool:
        return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)

    if spec.kind not in (CIRCLE, SQUARE, TRIANGLE):
        raise ValueError(
            f"render_scene: specs[{i}].kind must be 1 (circle), 2 (square) or 3 (triangle), got {spec.kind!r}"
        )
    for name in ("cy", "cx"):
        if not real(getattr(spec, name)):
            raise TypeError(f"render_scene: specs[{i}].{name} must be a finite number, got {getattr(spec, name)!r}")
    if not real(spec.r) or spec.r <= 0:
        raise ValueError(f"render_scene: specs[{i}].r must be a positive number, got {spec.r!r}")
    colour = spec.colour
    if not (
        isinstance(colour, (tuple, list, np.ndarray))
        and len(colour) == 3
        and all(real(c) and 0 <= c <= 1 for c in colour)
    ):
        raise ValueError(f"render_scene: specs[{i}].colour must be 3 numbers in [0, 1] (RGB), got {colour!r}")


def render_scene(
    specs: list[ShapeSpec], size: int = 64, rng: np.random.Generator | None = None, noise: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Draw objects in order over a textured background; returns (image (3, size, size) float32, labels int64).

    With ``rng=None`` the background is flat grey and there is no noise, which
    makes label checks on hand-placed shapes exact.

    Example:
        >>> from tinynet.data.datasets.shapes import ShapeSpec, render_scene
        >>> img, lab = render_scene([ShapeSpec(1, 32.0, 32.0, 5.0, (1.0, 0.0, 0.0))])
        >>> int(lab[32, 32]), int(lab[32, 38]), img.shape
        (1, 0, (3, 64, 64))
    """
    if not isinstance(specs, (list, tuple)) or not all(isinstance(s, ShapeSpec) for s in specs):
        raise TypeError(f"render_scene: specs must be a list of ShapeSpec, got {specs!r:.60}")
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"render_scene: size must be a positive int, got {size!r}")
    for i, spec in enumerate(specs):
        _check_spec(spec, i)
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"render_scene: rng must be a numpy Generator or None, got {type(rng).__name__}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not 0 <= noise < float("inf"):
        raise ValueError(f"render_scene: noise must be a finite number >= 0, got {noise!r}")
    img = _background(rng, size) if rng is not None else np.full((3, size, size), 0.5, np.float32)
    labels = np.zeros((size, size), np.int64)
    for spec in specs:
        mask = shape_mask(spec, size)
        img[:, mask] = np.asarray(spec.colour, np.float32)[:, None]
        labels[mask] = spec.kind
    if rng is not None and noise:
        img += rng.normal(0.0, noise, size=img.shape).astype(np.float32)
    return np.clip(img, 0.0, 1.0), labels


class Shapes(Dataset):
    """Synthetic segmentation set: (image, labels) pairs of circles, squares and triangles.

    Args:
        split: ``"train"``, ``"val"`` or ``"test"``; splits are generated from separate streams.
        size: number of images (default 2000 / 200 / 500 for train / val / test).
        seed: the data seed; the same (seed, split, size) always gives the same images.
        image_size: side of the square images (default 64).
        max_objects: objects per image are drawn uniformly from 1..max_objects (default 4).

    Shape:
        - image: (3, image_size, image_size), float32 in [0, 1]
        - labels: (image_size, image_size), int64 in {0, 1, 2, 3}

    The whole split is generated up front (about a millisecond an image) and kept
    as arrays ``images`` (N, 3, H, W) and ``labels`` (N, H, W).

    Example:
        >>> from tinynet.data.datasets import Shapes
        >>> ds = Shapes("val", size=4)
        >>> image, labels = ds[0]
        >>> image.shape, labels.shape, len(ds)
        ((3, 64, 64), (64, 64), 4)
    """

    classes = CLASSES

    def __init__(
        self, split: str = "train", size: int | None = None, seed: int = 0, image_size: int = 64, max_objects: int = 4
    ):
        if split not in _SPLITS:
            raise ValueError(f"Shapes: split must be one of {sorted(_SPLITS)}, got {split!r}")
        size = _DEFAULT_SIZES[split] if size is None else size
        for name, value, low in (("size", size, 0), ("image_size", image_size, 32), ("max_objects", max_objects, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"Shapes: {name} must be an int >= {low}, got {value!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"Shapes: seed must be a non-negative int, got {seed!r}")
        self.split, self.seed, self.image_size = split, int(seed), int(image_size)
        self.images = np.empty((size, 3, image_size, image_size), np.float32)
        self.labels = np.empty((size, image_size, image_size), np.int64)
        for i in range(size):
            rng = np.random.default_rng([self.seed, _SPLITS[split], i])
            specs = _sample_specs(rng, image_size, max_objects)
            self.images[i], self.labels[i] = render_scene(specs, image_size, rng)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return Tensor._wrap(self.images[index]), Tensor._wrap(self.labels[index])

    def class_frequencies(self) -> np.ndarray:
        """Fraction of pixels of each class over the split."""
        return np.bincount(self.labels.ravel(), minlength=len(CLASSES)) / self.labels.size
