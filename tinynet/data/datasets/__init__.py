"""Ready-made datasets, generated locally (no downloads)."""

from tinynet.data.datasets.shapes import CLASSES, Shapes, ShapeSpec, render_scene

__all__ = ["Shapes", "ShapeSpec", "CLASSES", "render_scene"]
