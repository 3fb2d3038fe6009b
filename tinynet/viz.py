"""Plots for training and teaching: curves, segmentation panels, feature maps, and the tape as a graph.

Everything here draws on a :class:`matplotlib.figure.Figure` made directly,
never through ``pyplot``: no GUI backend is touched, so the functions work
headless (Agg), in scripts, in notebooks and in tests. Each returns the Figure
(a notebook shows it) and saves it when given ``path`` (any format matplotlib
knows, from the extension).

``import tinynet`` does not import this module (matplotlib takes a while to
load); ``tinynet.viz`` loads it on first use.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch

from tinynet.autograd import no_grad
from tinynet.nn.module import _to_numpy
from tinynet.tensor import Tensor

__all__ = [
    "plot_training_curves",
    "class_colors",
    "colorize",
    "plot_segmentation",
    "feature_maps",
    "plot_feature_maps",
    "to_dot",
    "draw_graph",
]


def _array(x, what: str) -> np.ndarray:
    """A Tensor, array, torch tensor, number or nested list as an array."""
    arr = _to_numpy(x)
    if arr is not None:
        return arr
    try:
        return np.asarray(x)
    except Exception:
        raise TypeError(f"{what} must be a Tensor or an array, got {type(x).__name__}") from None


def _finish(fig: Figure, path) -> Figure:
    if path is not None:
        path = os.fspath(path)
        fig.savefig(path, dpi=fig.dpi, bbox_inches="tight")
    return fig


# ============================================================================ training curves
def plot_training_curves(history, *, x: str | None = None, path=None, title: str | None = None, logy: bool = False):
    """Plot the series of a training history: losses on the left, other metrics on the right.

    Args:
        history: ``{"train_loss": [...], "val_loss": [...], "val_miou": [...]}`` or a list
            of per-epoch dicts ``[{"epoch": 1, "train_loss": 0.9}, ...]``. Series whose name
            contains "loss" share the left panel; the others (accuracy, IoU, lr...) the right one.
        x: the name of the series to use as the x axis (default: ``"epoch"`` or ``"step"`` if
            present, else 1, 2, 3, ...).
        path: save the figure there.
        title: figure title.
        logy: logarithmic loss axis.

    Returns:
        the matplotlib Figure.

    Example:
        >>> from tinynet.viz import plot_training_curves
        >>> fig = plot_training_curves({"train_loss": [1.0, 0.6, 0.4], "val_acc": [0.5, 0.7, 0.8]})
        >>> [ax.get_title() for ax in fig.axes]
        ['loss', 'metrics']
    """
    series = _history_series(history)
    if x is None:
        x = next((k for k in ("epoch", "step") if k in series), None)
    if x is not None and x not in series:
        raise KeyError(f"plot_training_curves: x={x!r} is not a series of the history (it has {sorted(series)})")
    xs = series.pop(x) if x is not None else None
    if not series:
        raise ValueError("plot_training_curves: the history has no series to plot besides the x axis")
    for name, values in series.items():
        if xs is not None and len(values) != len(xs):
            raise ValueError(f"plot_training_curves: series {name!r} has {len(values)} values but {x!r} has {len(xs)}")
    losses = {k: v for k, v in series.items() if "loss" in k.lower()}
    metrics = {k: v for k, v in series.items() if k not in losses}
    panels = [(t, s) for t, s in (("loss", losses), ("metrics", metrics)) if s]
    fig = Figure(figsize=(5.5 * len(panels), 4), layout="constrained")
    for i, (panel, group) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        for name, values in group.items():
            xv = xs if xs is not None else np.arange(1, len(values) + 1)
            ax.plot(xv, values, marker="o" if len(values) <= 30 else None, markersize=3, label=name)
        ax.set_title(panel)
        ax.set_xlabel(x or "epoch")
        if panel == "loss" and logy:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def _history_series(history) -> dict:
    if isinstance(history, Mapping):
        items = dict(history)
    elif (
        isinstance(history, Sequence) and not isinstance(history, str) and all(isinstance(h, Mapping) for h in history)
    ):
        keys = list(dict.fromkeys(k for h in history for k in h))
        items = {k: [h.get(k, np.nan) for h in history] for k in keys}
    else:
        raise TypeError(
            "plot_training_curves: history must be a dict of lists or a list of per-epoch dicts, "
            f"got {type(history).__name__}"
        )
    if not items:
        raise ValueError("plot_training_curves: the history is empty")
    out = {}
    for name, values in items.items():
        arr = np.asarray(_array(values, f"history[{name!r}]"), dtype=object).ravel()
        try:
            arr = np.array([np.nan if v is None else float(v) for v in arr], dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"plot_training_curves: series {name!r} holds non-numeric values") from None
        if arr.size == 0:
            raise ValueError(f"plot_training_curves: series {name!r} is empty")
        out[str(name)] = arr
    return out


# ============================================================================ segmentation
def class_colors(num_classes: int) -> np.ndarray:
    """A fixed colour per class: the PASCAL VOC palette (class 0 black, 1 dark red, 2 green, ...).

    Shape:
        ``(num_classes, 3)`` uint8 RGB.

    Example:
        >>> from tinynet.viz import class_colors
        >>> class_colors(4).tolist()
        [[0, 0, 0], [128, 0, 0], [0, 128, 0], [128, 128, 0]]
    """
    if not isinstance(num_classes, numbers.Integral) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"class_colors: num_classes must be a positive int, got {num_classes!r}")
    colors = np.zeros((int(num_classes), 3), dtype=np.uint8)
    for k in range(int(num_classes)):
        c, rgb = k, [0, 0, 0]
        for bit in range(7, -1, -1):  # spread the class's bits over the high bits of R, G and B
            for ch in range(3):
                rgb[ch] |= ((c >> ch) & 1) << bit
            c >>= 3
        colors[k] = rgb
    return colors


def colorize(mask, num_classes: int | None = None, ignore_index: int | None = 255) -> np.ndarray:
    """An integer label map as an RGB image with :func:`class_colors`; ``ignore_index`` pixels are white.

    Shape:
        ``(H, W)`` integers -> ``(H, W, 3)`` uint8.

    Example:
        >>> import numpy as np
        >>> from tinynet.viz import colorize
        >>> colorize(np.array([[0, 1], [2, 255]]), num_classes=3)[..., 0].tolist()
        [[0, 128], [0, 255]]
    """
    m = _array(mask, "colorize: mask")
    if m.ndim != 2 or m.dtype.kind not in "iub":
        raise ValueError(f"colorize: mask must be a 2-D integer label map, got shape {m.shape} dtype {m.dtype}")
    m = m.astype(np.int64)
    valid = m != ignore_index if ignore_index is not None else np.ones(m.shape, bool)
    if (m[valid] < 0).any():
        raise ValueError(f"colorize: labels must be >= 0 (or ignore_index={ignore_index}), found {int(m[valid].min())}")
    top = int(m[valid].max()) + 1 if valid.any() else 1
    n = num_classes if num_classes is not None else top
    if top > n:
        raise ValueError(f"colorize: label {top - 1} is out of range for num_classes={n}")
    out = np.full(m.shape + (3,), 255, dtype=np.uint8)
    out[valid] = class_colors(n)[m[valid]]
    return out


def _image_hwc(image: np.ndarray) -> np.ndarray:
    """(C, H, W), (H, W, C) or (H, W) -> something imshow draws: floats scaled to [0, 1] per image."""
    img = image
    if img.ndim == 3 and img.shape[0] in (1, 3):  # channels first (tinynet's layout) wins a tie
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[-1] != 3):
        raise ValueError(
            f"plot_segmentation: image must be (C, H, W), (H, W, C) or (H, W) with C 1 or 3, got {image.shape}"
        )
    if img.dtype == np.uint8:
        return img
    img = img.astype(np.float64)
    lo, hi = np.nanmin(img), np.nanmax(img)
    return (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)


def plot_segmentation(
    image,
    target,
    prediction,
    *,
    num_classes: int | None = None,
    class_names: Sequence[str] | None = None,
    ignore_index: int | None = 255,
    max_rows: int = 4,
    path=None,
):
    """Panels image | truth | prediction, one row per sample, with a fixed colour per class.

    Args:
        image: (C, H, W), (H, W, C) or (H, W), or a batch (N, C, H, W). Float images are
            scaled to [0, 1] per image for display; uint8 images are shown as they are.
        target: (H, W) or (N, H, W) integer labels.
        prediction: labels like ``target``, or logits (C, H, W) / (N, C, H, W) (argmax over C).
        num_classes: fixes the colours (default: the largest label + 1, or C of the logits).
        class_names: legend entries, one per class.
        ignore_index: label drawn white.
        max_rows: at most this many samples of a batch.
        path: save the figure there.

    Example:
        >>> import numpy as np
        >>> from tinynet.viz import plot_segmentation
        >>> img = np.random.default_rng(0).random((3, 8, 8))
        >>> truth = np.zeros((8, 8), dtype=np.int64); truth[2:6, 2:6] = 1
        >>> fig = plot_segmentation(img, truth, truth, class_names=["background", "square"])
        >>> [ax.get_title() for ax in fig.axes]
        ['image', 'truth', 'prediction']
    """
    img, tgt, pred = _array(image, "image"), _array(target, "target"), _array(prediction, "prediction")
    batched = tgt.ndim == 3
    if tgt.ndim not in (2, 3) or tgt.dtype.kind not in "iub":
        raise ValueError(f"plot_segmentation: target must be (H, W) or (N, H, W) integer labels, got shape {tgt.shape}")
    if not batched:
        img, tgt = img[None], tgt[None]
        pred = pred[None]
    if pred.dtype.kind == "f":
        if pred.ndim != 4:
            raise ValueError(
                f"plot_segmentation: float predictions are logits (C, H, W) or (N, C, H, W), got shape {prediction.shape}"
            )
        num_classes = num_classes or pred.shape[1]
        pred = pred.argmax(axis=1)
    if pred.shape != tgt.shape:
        raise ValueError(f"plot_segmentation: prediction {pred.shape} and target {tgt.shape} have different shapes")
    if img.shape[0] != tgt.shape[0]:
        raise ValueError(f"plot_segmentation: {img.shape[0]} images but {tgt.shape[0]} targets")
    if num_classes is None:
        labels = np.concatenate([tgt[tgt != ignore_index].ravel(), pred[pred != ignore_index].ravel()])
        num_classes = max(int(labels.max()) + 1 if labels.size else 1, len(class_names or ()))
    if class_names is not None and len(class_names) != num_classes:
        raise ValueError(f"plot_segmentation: {len(class_names)} class_names for {num_classes} classes")
    rows = min(len(tgt), max_rows)
    fig = Figure(figsize=(9, 3 * rows + (0.6 if class_names else 0)), layout="constrained")
    for r in range(rows):
        panels = (
            ("image", _image_hwc(img[r])),
            ("truth", colorize(tgt[r], num_classes, ignore_index)),
            ("prediction", colorize(pred[r], num_classes, ignore_index)),
        )
        for c, (title, picture) in enumerate(panels):
            ax = fig.add_subplot(rows, 3, 3 * r + c + 1)
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(title)
    if class_names is not None:
        colors = class_colors(num_classes) / 255.0
        handles = [Patch(facecolor=colors[k], edgecolor="0.5", label=name) for k, name in enumerate(class_names)]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 6), frameon=False)
    return _finish(fig, path)


# ============================================================================ feature maps
def _find_layer(model, layer):
    if isinstance(layer, str):
        modules = dict(model.named_modules())
        if layer not in modules:
            names = [n for n in modules if n][:12]
            raise KeyError(f"feature_maps: the model has no submodule {layer!r} (it has {names})")
        return modules[layer], layer
    for name, m in model.named_modules():
        if m is layer:
            return m, name or type(m).__name__
    raise ValueError(f"feature_maps: {type(layer).__name__} is not a submodule of the model")


def feature_maps(model, layer, input) -> Tensor:
    """The output of ``layer`` (a submodule or its dotted name) when ``model(input)`` runs, via a forward hook.

    The forward runs under ``no_grad`` and in the model's current mode (call
    ``model.eval()`` first for inference behaviour).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> net = nn.Sequential(nn.MaxPool2d(2), nn.ReLU())
        >>> feature_maps(net, "0", tinynet.ones(1, 3, 8, 8)).shape
        (1, 3, 4, 4)
    """
    module, name = _find_layer(model, layer)
    captured = []

    def hook(mod, args, out):
        captured.append(out[0] if isinstance(out, (tuple, list)) else out)

    handle = module.register_forward_hook(hook)
    try:
        with no_grad():
            model(input)
    finally:
        handle.remove()
    if not captured:
        raise RuntimeError(f"feature_maps: layer {name!r} was not called by the model's forward")
    return captured[0]


def plot_feature_maps(
    model,
    layer,
    input,
    *,
    sample: int = 0,
    max_maps: int = 16,
    ncols: int | None = None,
    cmap: str = "viridis",
    path=None,
):
    """Show the channels of ``layer``'s output for one sample as a grid of images.

    Args:
        model, layer, input: as for :func:`feature_maps`.
        sample: which sample of the batch.
        max_maps: at most this many channels (the first ones).
        ncols: grid columns (default: about the square root of the count).
        cmap: matplotlib colour map; every map has its own colour scale.
        path: save the figure there.

    Shape:
        the layer's output must be (N, C, H, W) (or (N, C, L), drawn as rows of height 1).

    Example:
        >>> import tinynet
        >>> from tinynet import nn
        >>> net = nn.Sequential(nn.MaxPool2d(2))
        >>> fig = plot_feature_maps(net, net[0], tinynet.rand(2, 5, 8, 8), max_maps=4)
        >>> len([ax for ax in fig.axes if ax.images])
        4
    """
    fmap = _array(feature_maps(model, layer, input), "feature map")
    if fmap.ndim == 3:
        fmap = fmap[:, :, None, :]
    if fmap.ndim != 4:
        raise ValueError(
            f"plot_feature_maps: the layer's output must be (N, C, H, W) or (N, C, L), got shape {fmap.shape}"
        )
    if not 0 <= sample < fmap.shape[0]:
        raise IndexError(f"plot_feature_maps: sample {sample} is out of range for a batch of {fmap.shape[0]}")
    if not isinstance(max_maps, numbers.Integral) or max_maps < 1:
        raise ValueError(f"plot_feature_maps: max_maps must be a positive int, got {max_maps!r}")
    maps = fmap[sample, :max_maps]
    n = len(maps)
    cols = ncols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    module, name = _find_layer(model, layer)
    fig = Figure(figsize=(2.2 * cols, 2.2 * rows + 0.4), layout="constrained")
    for k in range(n):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.imshow(maps[k], cmap=cmap, interpolation="nearest")
        ax.set_title(f"channel {k}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{name} ({type(module).__name__}): {fmap.shape[1]} channels of {fmap.shape[2]}x{fmap.shape[3]}")
    return _finish(fig, path)


# ============================================================================ the tape
def _graph(tensor, params):
    """Nodes and edges of the tape that produced ``tensor`` (sources first).

    nodes: id -> (label, kind) with kind "op", "leaf", "const" or "output"; edges: (src, dst, label).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    names = {}
    if params is not None:
        items = params.items() if isinstance(params, Mapping) else params
        for name, p in items:
            names[id(p)] = str(name)
    nodes, edges = {}, []

    def leaf_id(t):
        key = f"leaf{id(t)}"
        if key not in nodes:
            label = names.get(id(t))
            shape = _fmt_shape(t.shape)
            nodes[key] = (f"{label}\n{shape}" if label else shape, "leaf")
        return key

    if tensor._node is None:
        leaf_id(tensor)
        return nodes, edges
    order, seen, stack = [], set(), [tensor._node]
    while stack:  # every node reachable from the output
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        order.append(node)
        stack.extend(p[0] for p in node.parents if isinstance(p, tuple))
    for node in order:
        op = f"op{id(node)}"
        name = node.fn.__name__
        name = name[:-2] if name.endswith("Fn") and len(name) > 2 else name
        shapes = [m[0] for m in node.out_meta]
        nodes[op] = (f"{name}\n{_fmt_shape(shapes[0])}" if shapes else name, "op")
        for k, (parent, meta) in enumerate(zip(node.parents, node.in_meta)):
            if isinstance(parent, tuple):
                src, idx = parent
                label = f"[{idx}]" if len(src.out_meta) > 1 else ""
                edges.append((f"op{id(src)}", op, label))
            elif parent is not None:
                edges.append((leaf_id(parent), op, ""))
            elif meta is not None:  # a Tensor argument that needs no gradient (an input, a mask)
                const = f"const{id(node)}_{k}"
                nodes[const] = (_fmt_shape(meta[0]), "const")
                edges.append((const, op, ""))
    out = "output"
    nodes[out] = (f"output\n{_fmt_shape(tensor.shape)}", "output")
    edges.append((f"op{id(tensor._node)}", out, f"[{tensor._out_idx}]" if len(tensor._node.out_meta) > 1 else ""))
    return nodes, edges


def _fmt_shape(shape) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"


_STYLE = {
    "op": ("box", "rounded,filled", "#fce5cd"),
    "leaf": ("ellipse", "filled", "#cfe2f3"),
    "const": ("ellipse", "dashed", "#ffffff"),
    "output": ("box", "filled", "#d9ead3"),
}


def to_dot(tensor, params=None) -> str:
    """The tape that produced ``tensor`` as Graphviz DOT text, left to right.

    Ops are boxes labelled with the Function's name and output shape; leaves
    (tensors that require grad) are blue ellipses labelled with their shape and,
    when ``params`` maps names to tensors (``dict(model.named_parameters())``),
    their name; tensors that need no gradient (inputs) are dashed ellipses.
    Render it with ``dot -Tpng`` or paste it into any Graphviz viewer.

    Example:
        >>> import tinynet
        >>> from tinynet.viz import to_dot
        >>> w = tinynet.ones(2, requires_grad=True)
        >>> dot = to_dot((w * 3).sum(), {"w": w})
        >>> "Mul" in dot and "Sum" in dot and dot.startswith("digraph tape {")
        True
    """
    nodes, edges = _graph(tensor, params)
    ids = {key: f"n{k}" for k, key in enumerate(nodes)}
    lines = ["digraph tape {", "  rankdir=LR;", '  node [fontname="Helvetica", fontsize=10];']
    for key, (label, kind) in nodes.items():
        shape, style, fill = _STYLE[kind]
        text = label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines.append(f'  {ids[key]} [label="{text}", shape={shape}, style="{style}", fillcolor="{fill}"];')
    for src, dst, label in edges:
        extra = f' [label="{label}"]' if label else ""
        lines.append(f"  {ids[src]} -> {ids[dst]}{extra};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw_graph(tensor, params=None, *, format: str = "figure", path=None):
    """Draw the tape that produced ``tensor`` as a left-to-right graph of ops.

    Args:
        tensor: a Tensor computed with gradients recorded (a leaf gives a single node).
        params: optional names for leaves: a dict ``{name: tensor}`` or ``model.named_parameters()``.
        format: ``"figure"`` (a matplotlib Figure, drawn with a layered layout: a node's
            column is the length of the longest path to it from a leaf) or ``"dot"``
            (Graphviz text, see :func:`to_dot`).
        path: save the figure (or, for ``"dot"``, the text) there.

    Example:
        >>> import tinynet
        >>> from tinynet.viz import draw_graph
        >>> x = tinynet.ones(2, 3, requires_grad=True)
        >>> fig = draw_graph((x.relu() * 2).sum(), {"x": x})
        >>> print(draw_graph((x * 2).sum(), format="dot").splitlines()[0])
        digraph tape {
    """
    if format == "dot":
        text = to_dot(tensor, params)
        if path is not None:
            with open(os.fspath(path), "w", encoding="utf-8") as f:
                f.write(text)
        return text
    if format != "figure":
        raise ValueError(f"draw_graph: format must be 'figure' or 'dot', got {format!r}")
    nodes, edges = _graph(tensor, params)
    rank = _ranks(nodes, edges)
    columns: dict[int, list] = {}
    for key in nodes:
        columns.setdefault(rank[key], []).append(key)
    preds: dict[str, list] = {}
    for src, dst, _ in edges:
        preds.setdefault(dst, []).append(src)
    y = {}
    for r in sorted(columns):  # order each column by the mean height of its inputs (fewer crossings)
        col = columns[r]
        if r > 0:
            col.sort(key=lambda k: np.mean([y[p] for p in preds.get(k, [])]) if preds.get(k) else 0.0)
        for i, key in enumerate(col):
            y[key] = (len(col) - 1) / 2 - i
    width = max(columns) + 1
    height = max(len(c) for c in columns.values())
    fig = Figure(figsize=(min(2.4 * width + 1, 60), min(1.1 * height + 1, 40)), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    ax.set_xlim(-0.7, width - 0.3)
    ax.set_ylim(-height / 2 - 0.2, height / 2 + 0.2)
    ax.axis("off")
    colours = {"op": "#fce5cd", "leaf": "#cfe2f3", "const": "#ffffff", "output": "#d9ead3"}
    boxes = {}
    for key, (label, kind) in nodes.items():
        style = "round,pad=0.3" if kind != "leaf" and kind != "const" else "ellipse,pad=0.2"
        boxes[key] = ax.text(
            rank[key],
            y[key],
            label,
            ha="center",
            va="center",
            fontsize=8,
            bbox={"boxstyle": style, "fc": colours[kind], "ec": "0.3", "ls": "--" if kind == "const" else "-"},
            zorder=3,
        )
    for src, dst, label in edges:
        arrow = FancyArrowPatch(
            (rank[src], y[src]),
            (rank[dst], y[dst]),
            arrowstyle="-|>",
            mutation_scale=10,
            color="0.35",
            shrinkA=14,
            shrinkB=14,
            zorder=2,
        )
        ax.add_patch(arrow)
        if label:
            ax.text((rank[src] + rank[dst]) / 2, (y[src] + y[dst]) / 2, label, fontsize=7, color="0.3")
    return _finish(fig, path)


def _ranks(nodes: dict, edges: list) -> dict:
    """Column of each op: the longest path to it from a source (Kahn's algorithm); leaves just before their op."""
    preds: dict[str, list] = {k: [] for k in nodes}
    succ: dict[str, list] = {k: [] for k in nodes}
    for src, dst, _ in edges:
        preds[dst].append(src)
        succ[src].append(dst)
    rank = {}
    waiting = {k: len(p) for k, p in preds.items()}
    ready = [k for k, n in waiting.items() if n == 0]
    while ready:
        k = ready.pop()
        rank[k] = max((rank[p] + 1 for p in preds[k]), default=0)
        for s in succ[k]:
            waiting[s] -= 1
            if waiting[s] == 0:
                ready.append(s)
    for k, p in preds.items():  # a leaf sits just before its first consumer, not in the first column
        if not p and succ[k]:
            rank[k] = min(rank[s] for s in succ[k]) - 1
    return rank
