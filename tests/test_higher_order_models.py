"""Second derivatives of whole models against torch 2.13, in float64 (issue: higher-order gradients).

* a Hessian-vector product of the example's segmentation network (every decoder), in training mode:
  d/dθ ⟨∇_θ L(θ), v⟩ = H v, with the loss the example's cross-entropy;
* a gradient penalty on a small conv critic (WGAN-GP): the parameters' gradient of
  mean((‖∇_x D(x)‖ − 1)²), which runs the backward of every critic layer and then differentiates it.

Both go through every layer's backward written in tinynet's ops (conv2d's backward is
conv_transpose2d, max-pooling's a scatter at the switches, ...), and agree with torch to 1e-8.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.models import EncoderDecoder
from tinynet.models.encoder_decoder import UPSAMPLE_MODES

RTOL = 1e-8

# The example model's torch twin lives with the benchmarks (not a package on sys.path in a clean install).
_spec = importlib.util.spec_from_file_location(
    "torch_twin", Path(__file__).resolve().parents[1] / "benchmarks" / "torch_twin.py"
)
_twin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_twin)
load_into, torch_twin = _twin.load_into, _twin.torch_twin


def _close(ours, theirs, what, scale=None):
    """Equal to RTOL, relative to ``scale``: the largest entry of the whole set being compared.

    (A bias followed by batch norm has a true gradient of 0: both frameworks return rounding
    noise of order 1e-19 there, which only a tolerance relative to the set's scale can judge.)
    """
    a, b = np.asarray(ours, dtype=np.float64), theirs.detach().numpy()
    scale = max(np.abs(b).max(initial=0.0) if scale is None else scale, 1e-30)
    np.testing.assert_allclose(a, b, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def _scale(tensors) -> float:
    return max(float(t.detach().abs().max()) for t in tensors)


@pytest.mark.parametrize("upsample", UPSAMPLE_MODES)
def test_hessian_vector_product_of_the_example_network_matches_torch(torch, upsample):
    kwargs = dict(in_channels=3, num_classes=3, widths=(4, 6, 8), rates=(1, 2, 3))
    ours = EncoderDecoder(upsample=upsample, **kwargs).double()
    theirs = load_into(torch_twin(upsample, **kwargs).double(), ours)
    ours.train(), theirs.train()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 16, 16))
    target = rng.integers(0, 3, (2, 16, 16))
    names = [n for n, _ in ours.named_parameters()]
    params = [p for _, p in ours.named_parameters()]
    their_params = dict(theirs.named_parameters())
    vs = [rng.standard_normal(p.shape) for p in params]

    loss = F.cross_entropy(ours(tinynet.tensor(x)), tinynet.tensor(target), label_smoothing=0.1)
    grads = tinynet.autograd.grad(loss, params, create_graph=True)
    hv = tinynet.autograd.grad(sum((g * tinynet.tensor(v)).sum() for g, v in zip(grads, vs)), params)

    tp = [their_params[n] for n in names]
    t_loss = torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(target), label_smoothing=0.1)
    t_grads = torch.autograd.grad(t_loss, tp, create_graph=True)
    t_hv = torch.autograd.grad(sum((g * torch.tensor(v)).sum() for g, v in zip(t_grads, vs)), tp)

    _close(loss.item(), t_loss, "loss")
    g_scale, h_scale = _scale(t_grads), _scale(t_hv)
    for n, g, tg, h, th in zip(names, grads, t_grads, hv, t_hv):
        _close(g.detach().numpy(), tg, f"gradient of {n}", g_scale)
        _close(h.numpy(), th, f"Hessian-vector product, {n}", h_scale)


def _critic(lib):
    return lib.Sequential(
        lib.Conv2d(2, 4, 3, padding=1),
        lib.LeakyReLU(0.2),
        lib.Conv2d(4, 6, 3, stride=2, padding=1),
        lib.LeakyReLU(0.2),
        lib.AvgPool2d(2),
        lib.Flatten(),
        lib.Linear(6 * 2 * 2, 1),
    )


def test_gradient_penalty_of_a_conv_critic_matches_torch(torch):
    ours = _critic(nn).double()
    theirs = _critic(torch.nn).double()
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 8, 8))

    xs = tinynet.tensor(x, requires_grad=True)
    (gx,) = tinynet.autograd.grad(ours(xs).sum(), xs, create_graph=True)
    penalty = ((gx.reshape(3, -1).pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
    penalty.backward()

    xt = torch.tensor(x, requires_grad=True)
    (tgx,) = torch.autograd.grad(theirs(xt).sum(), xt, create_graph=True)
    t_penalty = ((tgx.reshape(3, -1).pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
    t_penalty.backward()

    _close(penalty.item(), t_penalty, "penalty")
    their_params = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        theirs_grad = their_params[n].grad
        if p.grad is None:
            # The biases reach ∇_x D only through leaky_relu's mask, a constant in tinynet's tape (the op is
            # piecewise linear): no gradient at all, where torch differentiates the mask and gets exact zeros.
            assert theirs_grad is None or not theirs_grad.any(), n
            continue
        _close(p.grad.numpy(), theirs_grad, f"gradient of the penalty, {n}")
    # ∇_x D is piecewise constant in x (conv, leaky_relu, avg-pool, linear are piecewise linear): the
    # penalty's gradient in x is zero, None in tinynet's tape, zeros or None in torch's
    assert xs.grad is None and (xt.grad is None or not xt.grad.any())
