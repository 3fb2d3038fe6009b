"""Make the README's pictures in docs/images/.

    python tools/readme_images.py                       # shapes.png: Shapes samples and their labels
    python tools/readme_images.py --run runs/<stamp>    # also copy that run's predictions.png

shapes.png shows the first eight test images of ``Shapes(split="test", seed=0)`` above
their label maps (black background, then one colour per class, as ``tinynet.viz`` draws them).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from tinynet.data.datasets import Shapes  # noqa: E402
from tinynet.data.datasets.shapes import CLASSES  # noqa: E402
from tinynet.viz import class_colors, colorize  # noqa: E402

IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def shapes_picture(path: Path, count: int = 8) -> None:
    data = Shapes(split="test", size=count, seed=0)
    fig, axes = plt.subplots(2, count, figsize=(1.6 * count, 3.6))
    for i in range(count):
        image, label = data[i]
        axes[0, i].imshow(image.numpy().transpose(1, 2, 0))
        axes[1, i].imshow(colorize(label.numpy(), num_classes=len(CLASSES)))
        for ax in axes[:, i]:
            ax.set_axis_off()
    colors = class_colors(len(CLASSES))
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[k] / 255) for k in range(len(CLASSES))]
    fig.legend(handles, CLASSES, loc="lower center", ncol=len(CLASSES), frameon=False)
    fig.suptitle("Shapes: 3x64x64 images (top) and per-pixel labels (bottom)")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, help="a finished run folder whose predictions.png to copy")
    args = parser.parse_args(argv)
    IMAGES.mkdir(parents=True, exist_ok=True)
    shapes_picture(IMAGES / "shapes.png")
    print(f"wrote {IMAGES / 'shapes.png'}")
    if args.run:
        shutil.copyfile(args.run / "predictions.png", IMAGES / "predictions.png")
        print(f"copied {args.run / 'predictions.png'} to {IMAGES / 'predictions.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
