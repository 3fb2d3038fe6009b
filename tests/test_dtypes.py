"""The dtype policy (docs/DTYPES.md): float32 stays float32, float64 stays float64, integers by family.

* Every public op and layer: float32 inputs give float32 outputs and float32 gradients
  (inputs and parameters), float64 gives float64. Inside, no Function's forward or
  backward returns another float dtype than its inputs' (the tape casts gradients back
  to the input dtype, which would hide an upcast, so each Function is watched directly).
* Optimizer updates, their state and BatchNorm's running statistics keep the parameter's
  dtype; num_batches_tracked stays int64.
* Integer inputs follow one rule per family, with PyTorch as the oracle where it has one.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import nn, optim
from tinynet.autograd import Function
from tinynet.optim import lr_scheduler

FLOATS = [np.float32, np.float64]


def _t(shape, dt, seed=0, requires_grad=True):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dt)
    return tinynet.tensor(a, requires_grad=requires_grad)


def _labels(shape, classes=3):
    return tinynet.tensor(np.random.default_rng(1).integers(0, classes, shape))


# ---------------------------------------------------------------------------- watching every Function
def _functions() -> list:
    found, todo = set(), [Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return sorted(found, key=lambda c: c.__qualname__)


@pytest.fixture
def upcasts(monkeypatch):
    """Records (Function, where, input dtype, result dtype) whenever a Function changes a float dtype.

    ``Cast`` exists to change dtypes (``x.double()``, type promotion) and is not watched.
    """
    seen = []
    for cls in _functions():
        if cls.__name__ == "Cast":
            continue
        if "forward" in vars(cls):
            fwd = (
                vars(cls)["forward"].__func__
                if isinstance(vars(cls)["forward"], staticmethod)
                else vars(cls)["forward"]
            )

            def forward(ctx, *args, _f=fwd, _c=cls, **kw):
                out = _f(ctx, *args, **kw)
                floats = {a.dtype for a in args if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
                for o in out if isinstance(out, tuple) else (out,):
                    o = np.asarray(o)
                    if len(floats) == 1 and o.dtype.kind == "f" and o.dtype not in floats:
                        seen.append((_c.__name__, "forward", next(iter(floats)), o.dtype))
                return out

            monkeypatch.setattr(cls, "forward", staticmethod(forward))
        if "backward" in vars(cls):
            bwd = (
                vars(cls)["backward"].__func__
                if isinstance(vars(cls)["backward"], staticmethod)
                else vars(cls)["backward"]
            )

            def backward(ctx, *grads, _b=bwd, _c=cls):
                res = _b(ctx, *grads)
                for g, meta in zip(res if isinstance(res, tuple) else (res,), ctx.in_meta):
                    if g is not None and meta is not None and np.asarray(g).dtype != meta[1]:
                        seen.append((_c.__name__, "backward", meta[1], np.asarray(g).dtype))
                return res

            monkeypatch.setattr(cls, "backward", staticmethod(backward))
    return seen


class _UpcastingSquare(Function):
    """A deliberately sloppy op (a float64 copy in its backward) to show that the watch catches upcasts."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.double() * 2  # float32 times float64 promotes to float64


def test_the_watch_catches_a_function_that_upcasts(upcasts):
    x = _t((3,), np.float32)
    _UpcastingSquare.apply(x).sum().backward()
    assert x.grad.dtype == np.float32, "the tape casts the gradient back, which is why Functions are watched"
    assert upcasts == [("_UpcastingSquare", "backward", np.float32, np.float64)]


# ---------------------------------------------------------------------------- every op
def _op_cases(dt):
    x = _t((2, 3, 6, 6), dt)
    yield "conv2d", [x, _t((4, 3, 3, 3), dt, 1), _t((4,), dt, 2)], lambda a: F.conv2d(*a, padding=1, dilation=1)
    yield "conv1d", [_t((2, 3, 6), dt), _t((4, 3, 3), dt, 1), _t((4,), dt, 2)], lambda a: F.conv1d(*a, stride=2)
    yield "convolve2d", [x, _t((4, 3, 3, 3), dt, 1)], lambda a: F.convolve2d(*a, padding="same")
    yield "conv_transpose2d", [x, _t((3, 4, 3, 3), dt, 1), _t((4,), dt, 2)], lambda a: F.conv_transpose2d(*a, stride=2)
    yield "conv_transpose1d", [_t((2, 3, 6), dt), _t((3, 4, 3), dt, 1)], lambda a: F.conv_transpose1d(*a, stride=2)
    yield "max_pool2d", [x], lambda a: F.max_pool2d(a[0], 3, 2, 1, ceil_mode=True)
    yield "avg_pool2d", [x], lambda a: F.avg_pool2d(a[0], 3, 2, 1, count_include_pad=False)
    yield "adaptive_avg_pool2d", [x], lambda a: F.adaptive_avg_pool2d(a[0], 4)
    yield "max_unpool2d", [x], lambda a: F.max_unpool2d(*F.max_pool2d(a[0], 2, return_indices=True), 2)
    for mode in ("nearest", "nearest-exact", "bilinear", "bed_of_nails"):
        yield f"interpolate-{mode}", [x], lambda a, m=mode: F.interpolate(a[0], scale_factor=2, mode=m)
    yield "interpolate-area", [x], lambda a: F.interpolate(a[0], size=4, mode="area")
    yield "interpolate-linear", [_t((2, 3, 5), dt)], lambda a: F.interpolate(a[0], scale_factor=2.5, mode="linear")
    yield "pixel_shuffle", [_t((2, 4, 3, 3), dt)], lambda a: F.pixel_shuffle(a[0], 2)
    yield "pixel_unshuffle", [x], lambda a: F.pixel_unshuffle(a[0], 3)
    for name in ("relu", "sigmoid", "tanh"):
        yield name, [x], lambda a, n=name: getattr(F, n)(a[0])
    yield "leaky_relu", [x], lambda a: F.leaky_relu(a[0], 0.2)
    yield "softmax", [x], lambda a: F.softmax(a[0], 1)
    yield "log_softmax", [x], lambda a: F.log_softmax(a[0], 1)
    yield "linear", [_t((2, 3), dt), _t((4, 3), dt, 1), _t((4,), dt, 2)], lambda a: F.linear(*a)
    yield "dropout", [x], lambda a: F.dropout(a[0], 0.3)
    yield "dropout2d", [x], lambda a: F.dropout2d(a[0], 0.3)
    yield (
        "batch_norm-train",
        [x, _t((3,), dt, 1), _t((3,), dt, 2)],
        lambda a: F.batch_norm(a[0], tinynet.zeros(3, dtype=dt), tinynet.ones(3, dtype=dt), a[1], a[2], training=True),
    )
    yield (
        "batch_norm-eval",
        [x, _t((3,), dt, 1)],
        lambda a: F.batch_norm(a[0], tinynet.zeros(3, dtype=dt), tinynet.ones(3, dtype=dt), a[1], None, training=False),
    )
    yield (
        "cross_entropy",
        [x, _t((3,), dt, 3, False).abs()],
        lambda a: F.cross_entropy(a[0], _labels((2, 6, 6)), weight=a[1], label_smoothing=0.1),
    )
    yield "cross_entropy-probabilities", [x, _t((2, 3, 6, 6), dt, 4)], lambda a: F.cross_entropy(a[0], a[1].softmax(1))
    yield "nll_loss", [x], lambda a: F.nll_loss(a[0].log_softmax(1), _labels((2, 6, 6)))
    yield (
        "binary_cross_entropy_with_logits",
        [x, _t((2, 3, 6, 6), dt, 5), _t((6,), dt, 6)],
        lambda a: F.binary_cross_entropy_with_logits(a[0], a[1].sigmoid(), pos_weight=a[2].abs()),
    )
    yield "mse_loss", [x, _t((2, 3, 6, 6), dt, 5)], lambda a: F.mse_loss(a[0], a[1])
    yield "l1_loss", [x, _t((2, 3, 6, 6), dt, 5)], lambda a: F.l1_loss(a[0], a[1], reduction="sum")
    yield "mse_loss-integer-target", [x], lambda a: F.mse_loss(a[0], _labels((2, 3, 6, 6)))
    yield "dice_loss", [x], lambda a: F.dice_loss(a[0], _labels((2, 6, 6)))
    yield "tensor math", [x], lambda a: ((a[0].abs() + 1).log().sqrt().exp() ** 2 / 3.0 - 1).tanh().sigmoid()
    yield "tensor reductions", [x], lambda a: a[0].var(1).mean() + a[0].std() + a[0].max() + a[0].sum(dim=(2, 3)).min()
    yield "tensor shapes", [x], lambda a: tinynet.cat([a[0].permute(0, 2, 3, 1).reshape(2, -1), a[0].flatten(1)], 1)
    yield (
        "matmul and where",
        [_t((3, 4), dt), _t((4, 2), dt, 1)],
        lambda a: tinynet.where((a[0] @ a[1]) > 0, a[0] @ a[1], 0.5),
    )
    yield (
        "int and 0-d tensors mixed in",
        [x],
        lambda a: a[0] * tinynet.tensor([2]) + tinynet.tensor(1.5, dtype=tinynet.float64),
    )


_CASE_NAMES = [name for name, _, _ in _op_cases(np.float32)]


@pytest.mark.parametrize("dt", FLOATS, ids=["float32", "float64"])
@pytest.mark.parametrize("case", _CASE_NAMES)
def test_ops_keep_the_float_dtype_in_outputs_and_gradients(case, dt, upcasts):
    tinynet.manual_seed(0)
    (_, args, fn) = next(c for c in _op_cases(dt) if c[0] == case)
    out = fn(args)
    assert out.dtype == dt, f"{case}: output {out.dtype} from {np.dtype(dt)} inputs"
    out.sum().backward()
    for i, a in enumerate(args):
        if a.requires_grad:
            assert a.grad is not None and a.grad.dtype == dt, (
                f"{case}: gradient of argument {i} is {a.grad and a.grad.dtype}"
            )
    assert not upcasts, f"{case}: a Function changed the float dtype inside: {upcasts}"


# ---------------------------------------------------------------------------- every layer
def _layers():
    yield nn.Conv2d(3, 4, 3, padding=1), (2, 3, 8, 8)
    yield nn.Conv1d(3, 4, 3), (2, 3, 8)
    yield nn.ConvTranspose2d(3, 4, 3, stride=2, output_padding=1), (2, 3, 4, 4)
    yield nn.ConvTranspose1d(3, 4, 2, stride=2), (2, 3, 4)
    yield nn.DepthwiseSeparableConv2d(3, 4, 3, padding=1), (2, 3, 8, 8)
    for merge in ("concat", "sum", "weighted"):
        yield nn.AtrousPyramid(3, 4, rates=(1, 2), merge=merge), (2, 3, 8, 8)
    yield nn.Linear(3, 4), (5, 3)
    yield nn.BatchNorm2d(3), (4, 3, 4, 4)
    yield nn.BatchNorm1d(3), (4, 3)
    yield nn.MaxPool2d(2), (2, 3, 4, 4)
    yield nn.AvgPool2d(2), (2, 3, 4, 4)
    yield nn.AdaptiveAvgPool2d(2), (2, 3, 5, 5)
    yield nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 4, 4)
    yield nn.UpsamplingNearest2d(scale_factor=2), (2, 3, 4, 4)
    yield nn.UpsamplingBilinear2d(size=5), (2, 3, 4, 4)
    yield nn.PixelShuffle(2), (2, 4, 2, 2)
    yield nn.PixelUnshuffle(2), (2, 1, 4, 4)
    yield nn.Dropout(0.3), (4, 5)
    yield nn.Dropout2d(0.3), (2, 3, 4, 4)
    yield nn.Flatten(), (2, 3, 4)
    for cls in (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.Identity):
        yield cls(), (2, 3)
    yield nn.Softmax(dim=1), (2, 3)
    yield nn.LogSoftmax(dim=1), (2, 3)
    yield nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2)), (2, 3, 8, 8)


_LAYER_IDS = [f"{type(m).__name__}-{i}" for i, (m, _) in enumerate(_layers())]


@pytest.mark.parametrize("dt", FLOATS, ids=["float32", "float64"])
@pytest.mark.parametrize("index", range(len(_LAYER_IDS)), ids=_LAYER_IDS)
def test_layers_keep_the_float_dtype_of_their_parameters_and_inputs(index, dt, upcasts):
    tinynet.manual_seed(0)
    layer, shape = list(_layers())[index]
    if dt == np.float64:
        layer = layer.double()
    for p in layer.parameters():
        assert p.dtype == dt
    x = _t(shape, dt)
    y = layer(x)
    assert y.dtype == dt
    y.sum().backward()
    assert x.grad.dtype == dt
    for name, p in layer.named_parameters():
        assert p.grad is not None and p.grad.dtype == dt, name
    for name, b in layer.named_buffers():
        assert b.dtype == (np.int64 if name.endswith("num_batches_tracked") else dt), name
    assert not upcasts, upcasts


def test_the_example_model_trains_in_float32_end_to_end(upcasts):
    from tinynet.models import EncoderDecoder

    tinynet.manual_seed(0)
    model = EncoderDecoder(widths=(4, 8, 8), upsample="unpool")
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(2):
        opt.zero_grad()
        loss = F.cross_entropy(model(tinynet.randn(2, 3, 16, 16)), _labels((2, 16, 16), 4))
        loss.backward()
        opt.step()
    assert loss.dtype == np.float32
    assert all(
        t.dtype == np.float32
        for t in list(model.parameters()) + [b for n, b in model.named_buffers() if "num_batches" not in n]
    )
    assert not upcasts, upcasts


# ---------------------------------------------------------------------------- optimizers and schedulers
_OPTIMIZERS = {
    "SGD": lambda ps: optim.SGD(ps, lr=0.1),
    "SGD-momentum-wd": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, dampening=0.1),
    "SGD-nesterov-maximize": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, maximize=True),
    "Adam": lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.01),
    "Adam-amsgrad": lambda ps: optim.Adam(ps, lr=0.1, amsgrad=True, maximize=True),
    "AdamW": lambda ps: optim.AdamW(ps, lr=0.1),
}


@pytest.mark.parametrize("dt", FLOATS, ids=["float32", "float64"])
@pytest.mark.parametrize("name", sorted(_OPTIMIZERS))
def test_optimizer_updates_and_state_keep_the_parameter_dtype(name, dt):
    tinynet.manual_seed(0)
    layer = nn.Linear(3, 2)
    if dt == np.float64:
        layer = layer.double()
    opt = _OPTIMIZERS[name](layer.parameters())
    sched = lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=5) if "Adam" in name else lr_scheduler.StepLR(opt, 1)
    for _ in range(3):
        opt.zero_grad()
        (layer(_t((4, 3), dt, requires_grad=False)) ** 2).mean().backward()
        opt.step()
        sched.step()
    for p in layer.parameters():
        assert p.dtype == dt and p.data.dtype == dt
        for key, value in opt.state[p].items():
            if isinstance(value, tinynet.Tensor):
                assert value.dtype == dt, f"{name}: state {key} is {value.dtype}"


def test_batchnorm_running_statistics_keep_their_dtype():
    for dt in FLOATS:
        bn = nn.BatchNorm2d(3) if dt == np.float32 else nn.BatchNorm2d(3).double()
        for _ in range(2):
            bn(_t((4, 3, 5, 5), dt))
        assert bn.running_mean.dtype == bn.running_var.dtype == dt
        assert bn.num_batches_tracked.dtype == np.int64 and int(bn.num_batches_tracked) == 2
        bn.eval()
        assert bn(_t((4, 3, 5, 5), dt)).dtype == dt


def test_a_float64_input_to_a_float32_layer_is_refused_not_upcast():
    with pytest.raises(TypeError, match=r"conv2d: input \(float64\) and weight \(float32\) must have the same dtype"):
        nn.Conv2d(3, 4, 3)(_t((1, 3, 5, 5), np.float64))
    with pytest.raises(TypeError, match=r"linear: input \(float64\) and weight \(float32\)"):
        nn.Linear(3, 4)(_t((1, 3), np.float64))


# ---------------------------------------------------------------------------- creation
@pytest.mark.parametrize(
    "make, dtype",
    [
        (lambda m: m.tensor([1.0, 2.0]), "float32"),
        (lambda m: m.tensor([1, 2]), "int64"),
        (lambda m: m.tensor([True]), "bool"),
        (lambda m: m.tensor(np.ones(2)), "float64"),  # numpy arrays keep their dtype
        (lambda m: m.tensor(np.ones(2, np.float32)), "float32"),
        (lambda m: m.tensor(np.arange(3, dtype=np.int32)), "int32"),
        (lambda m: m.from_numpy(np.ones(2)), "float64"),
        (lambda m: m.zeros(2), "float32"),
        (lambda m: m.ones(2, dtype=m.float64), "float64"),
        (lambda m: m.full((2,), 7), "int64"),
        (lambda m: m.full((2,), 0.5), "float32"),
        (lambda m: m.arange(3), "int64"),
        (lambda m: m.arange(0.0, 1.0, 0.5), "float32"),
        (lambda m: m.rand(2), "float32"),
        (lambda m: m.randn(2, dtype=m.float64), "float64"),
        (lambda m: m.randint(0, 5, (2,)), "int64"),
        (lambda m: m.randperm(3), "int64"),
        (lambda m: m.zeros_like(m.ones(2, dtype=m.float64)), "float64"),
    ],
)
def test_creation_dtypes_match_pytorch(torch, make, dtype):
    assert str(make(tinynet).dtype) == dtype
    assert str(make(torch).dtype).replace("torch.", "") == dtype


# ---------------------------------------------------------------------------- integer inputs, by family
def _i64(shape=(2, 3, 4, 4)):
    return np.arange(int(np.prod(shape))).reshape(shape) % 5


# Family 1, pointwise float math and true division: integers are computed in float32, as PyTorch.
# Family 2, integer-closed ops (arithmetic between ints, sum, max, abs, clip, relu, max-pooling,
# unpooling, pixel shuffles, indexing, reshapes): integers stay integers, as PyTorch.
# Family 3, ops PyTorch refuses for integers (mean, var, std, softmax, log_softmax): refused.
_AS_PYTORCH = {
    "exp": lambda m, f, a: m.tensor(a).exp(),
    "log": lambda m, f, a: (m.tensor(a) + 1).log(),
    "sqrt": lambda m, f, a: m.tensor(a).sqrt(),
    "sigmoid": lambda m, f, a: f.sigmoid(m.tensor(a)),
    "tanh": lambda m, f, a: f.tanh(m.tensor(a)),
    "true division": lambda m, f, a: m.tensor(a) / 2,
    "int * float": lambda m, f, a: m.tensor(a) * 2.5,
    "int ** 0.5": lambda m, f, a: m.tensor(a) ** 0.5,
    "int + float32 tensor": lambda m, f, a: m.tensor(a) + m.ones(1),
    "uint8 image * float32": lambda m, f, a: m.tensor(a.astype(np.uint8)) * m.ones(1),
    "int32 + int64": lambda m, f, a: m.tensor(a.astype(np.int32)) + m.tensor(a),
    "int + 0-d float64": lambda m, f, a: m.tensor(a) + m.tensor(1.5, dtype=m.float64),
    "float32 + 0-d float64": lambda m, f, a: m.tensor(a.astype(np.float32)) + m.tensor(1.5, dtype=m.float64),
    "sum": lambda m, f, a: m.tensor(a).sum(),
    "max": lambda m, f, a: m.tensor(a).max(),
    "abs": lambda m, f, a: m.tensor(a).abs(),
    "clip": lambda m, f, a: m.tensor(a).clip(0, 2),
    "relu": lambda m, f, a: f.relu(m.tensor(a)),
    "max_pool2d": lambda m, f, a: f.max_pool2d(m.tensor(a), 2),
    "pixel_shuffle": lambda m, f, a: f.pixel_shuffle(m.tensor(a[:, :2].repeat(2, 1)), 2),
    "bool + bool": lambda m, f, a: m.tensor(a > 1) + m.tensor(a > 2),
}


@pytest.mark.parametrize("name", sorted(_AS_PYTORCH))
def test_integer_inputs_follow_pytorchs_result_dtype(torch, name):
    import torch.nn.functional as TF

    fn = _AS_PYTORCH[name]
    mine = fn(tinynet, F, _i64())
    theirs = fn(torch, TF, _i64())
    assert str(mine.dtype) == str(theirs.dtype).replace("torch.", ""), f"{name}: {mine.dtype} vs {theirs.dtype}"


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda a: tinynet.tensor(a).mean(), r"mean\(\): could not infer output dtype"),
        (lambda a: tinynet.tensor(a).var(), r"var\(\): expected a floating-point tensor, got dtype int64"),
        (lambda a: tinynet.tensor(a).std(), r"var\(\): expected a floating-point tensor"),
        (lambda a: tinynet.tensor(a).softmax(1), r"softmax\(\): expected a floating-point tensor"),
        (lambda a: tinynet.tensor(a).log_softmax(1), r"log_softmax\(\): expected a floating-point tensor"),
    ],
)
def test_integer_inputs_to_float_only_reductions_are_refused_like_pytorch(torch, call, match):
    with pytest.raises(RuntimeError, match=match):
        call(_i64())


# Family 4, the neural-network ops (convolutions, linear, normalisation, average pooling,
# resampling, dropout, leaky_relu, the losses' input): refused with a TypeError naming the
# op. PyTorch refuses most of these too; where it computes in integers (conv2d with an
# integer weight, avg_pool2d, dropout in eval mode) tinynet still refuses, one rule for all.
_NN_OPS = {
    "conv2d": lambda x: F.conv2d(x, tinynet.ones(2, 3, 3, 3, dtype=tinynet.int64)),
    "conv_transpose2d": lambda x: F.conv_transpose2d(x, tinynet.ones(3, 2, 3, 3)),
    "linear": lambda x: F.linear(x, tinynet.ones(2, 4)),
    "batch_norm": lambda x: F.batch_norm(x, None, None, training=True),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, 2),
    "interpolate": lambda x: F.interpolate(x, scale_factor=2),
    "dropout": lambda x: F.dropout(x, 0.5, training=False),
    "dropout2d": lambda x: F.dropout2d(x, 0.5),
    "leaky_relu": lambda x: F.leaky_relu(x),
    "softmax": lambda x: F.softmax(x, 1),
    "cross_entropy": lambda x: F.cross_entropy(x, tinynet.zeros(2, 4, 4, dtype=tinynet.int64)),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, x.float()),
    "mse_loss": lambda x: F.mse_loss(x, x.float()),
    "dice_loss": lambda x: F.dice_loss(x, tinynet.zeros(2, 4, 4, dtype=tinynet.int64)),
}


@pytest.mark.parametrize("name", sorted(_NN_OPS))
def test_integer_inputs_to_nn_ops_are_refused_naming_the_op(name):
    with pytest.raises(
        TypeError, match=rf"{name}: input must be (a floating-point tensor|float32 or float64), got dtype int64"
    ):
        _NN_OPS[name](tinynet.tensor(_i64()))


def test_integer_targets_where_floats_are_needed():
    x = _t((2, 3), np.float32)
    # regression targets are cast to the input's dtype (PyTorch computes in the promoted float type)
    assert F.mse_loss(x, tinynet.tensor([[1, 0, 2], [0, 1, 1]])).dtype == np.float32
    # BCE targets are probabilities: an integer target is refused, not silently cast
    with pytest.raises(
        RuntimeError, match=r"target must be floating point \(probabilities in \[0, 1\]\), got dtype int64"
    ):
        F.binary_cross_entropy_with_logits(x, tinynet.tensor([[1, 0, 1], [0, 1, 1]]))
    # class targets may be any integer dtype (PyTorch wants int64 or uint8; int32 works here too)
    assert F.cross_entropy(x, tinynet.tensor(np.array([0, 2], np.int32))).dtype == np.float32
    with pytest.raises(RuntimeError, match="expected target dtype to be an integer type"):
        F.cross_entropy(x, tinynet.tensor([0.0, 2.0]))


@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "binary_cross_entropy_with_logits", "cross_entropy"])
def test_a_float64_target_for_a_float32_input_is_refused_not_promoted(loss):
    x = _t((2, 3), np.float32)
    target = _t((2, 3), np.float64, requires_grad=False).sigmoid()
    with pytest.raises(RuntimeError, match="target has dtype float64 but input has dtype float32"):
        getattr(F, loss)(x, target)


def test_loading_a_state_dict_casts_to_the_models_dtype():
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": np.ones((2, 2), np.float64), "bias": np.array([1, 2])})
    assert layer.weight.dtype == layer.bias.dtype == np.float32
    np.testing.assert_array_equal(layer.bias.data, [1.0, 2.0])
