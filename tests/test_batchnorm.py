"""BatchNorm1d/2d and F.batch_norm: outputs, gradients and running statistics against torch over several
steps (train and eval, every momentum/affine/tracking option), float64 gradchecks, and argument errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.testing import gradcheck


def _twin(torch, c, **kwargs):
    ours = nn.BatchNorm2d(c, **kwargs)
    theirs = torch.nn.BatchNorm2d(c, **kwargs)
    rng = np.random.default_rng(c)
    if ours.affine:  # non-trivial gamma and beta, the same on both sides
        ours.weight.data[...] = rng.uniform(0.5, 2.0, c)
        ours.bias.data[...] = rng.standard_normal(c)
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    return ours, theirs


def _step(torch, ours, theirs, x, g):
    xt = tinynet.tensor(x, requires_grad=True)
    xr = torch.tensor(x, requires_grad=True)
    y, yr = ours(xt), theirs(xr)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert y.dtype == np.float32
    y.backward(tinynet.tensor(g))
    yr.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert xt.grad.dtype == np.float32
    if ours.affine:
        # dγ and dβ are sums over N*H*W products; float32 sums differ in their last bits.
        np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-4, atol=1e-4)
        ours.zero_grad()
        theirs.zero_grad()


def _check_buffers(ours, theirs):
    if not ours.track_running_stats:
        assert ours.running_mean is None and theirs.running_mean is None
        return
    np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-5, atol=1e-6)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked)


@settings(max_examples=15)
@given(
    n=st.integers(1, 4),
    c=st.integers(1, 4),
    h=st.integers(1, 5),
    w=st.integers(1, 5),
    momentum=st.sampled_from([0.1, 0.5, 1.0, None]),
    affine=st.booleans(),
    track=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_batchnorm2d_matches_torch_over_training_steps_then_eval(torch, n, c, h, w, momentum, affine, track, seed):
    if n * h * w == 1:
        n = 2  # one value per channel cannot be normalised in training (tested below)
    ours, theirs = _twin(torch, c, momentum=momentum, affine=affine, track_running_stats=track)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        x = (rng.standard_normal((n, c, h, w)) * 3 + 2).astype(np.float32)
        _step(torch, ours, theirs, x, rng.standard_normal((n, c, h, w)).astype(np.float32))
        _check_buffers(ours, theirs)
    ours.eval()
    theirs.eval()
    x = (rng.standard_normal((n, c, h, w)) * 3 + 2).astype(np.float32)
    _step(torch, ours, theirs, x, rng.standard_normal((n, c, h, w)).astype(np.float32))
    _check_buffers(ours, theirs)  # eval must not touch the buffers


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_matches_torch_on_2d_and_3d_inputs(torch, shape):
    ours = nn.BatchNorm1d(3, momentum=0.3)
    theirs = torch.nn.BatchNorm1d(3, momentum=0.3)
    rng = np.random.default_rng(0)
    for mode in ("train", "train", "eval"):
        ours.train(mode == "train")
        theirs.train(mode == "train")
        x = (rng.standard_normal(shape) * 2 - 1).astype(np.float32)
        xt, xr = tinynet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, yr = ours(xt), theirs(xr)
        np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-4, atol=1e-5)
        y.sum().backward()
        (yr.sum()).backward()
        np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), rtol=1e-5)


def test_running_variance_is_unbiased_and_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm2d(1, momentum=None)
    batches = [np.array([1.0, 3.0, 5.0, 7.0]), np.array([0.0, 0.0, 2.0, 2.0])]
    for b in batches:
        bn(tinynet.tensor(b.reshape(2, 1, 2, 1).astype(np.float32)))
    # the cumulative average of the batch means and of the unbiased variances (M = 4, divide by 3)
    assert bn.running_mean.data.tolist() == pytest.approx([(4.0 + 1.0) / 2])
    assert bn.running_var.data.tolist() == pytest.approx([(20 / 3 + 4 / 3) / 2])
    assert int(bn.num_batches_tracked) == 2 and bn.num_batches_tracked.dtype == np.int64


def test_training_normalises_with_the_biased_batch_variance():
    x = np.array([1.0, 3.0, 5.0, 7.0], dtype=np.float32).reshape(4, 1)
    y = F.batch_norm(tinynet.tensor(x), None, None, training=True, eps=1e-5).data.ravel()
    expected = (x.ravel() - 4.0) / np.sqrt(5.0 + 1e-5)  # biased variance of 1,3,5,7 is 5
    np.testing.assert_allclose(y, expected, rtol=1e-6)


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_gradcheck_float64(training):
    rng = np.random.default_rng(5)
    x = tinynet.tensor(rng.standard_normal((3, 2, 2, 3)) * 2 + 1, requires_grad=True)
    w = tinynet.tensor(rng.uniform(0.5, 1.5, 2), requires_grad=True)
    b = tinynet.tensor(rng.standard_normal(2), requires_grad=True)
    rm = tinynet.tensor(rng.standard_normal(2))
    rv = tinynet.tensor(rng.uniform(0.5, 2.0, 2))
    # in training the running buffers are updated but do not affect the output
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=training), [x, w, b])
    assert gradcheck(lambda x: F.batch_norm(x, rm, rv, training=training), [x])


def test_batchnorm_module_gradcheck_after_double():
    bn = nn.BatchNorm2d(2).double()
    x = tinynet.tensor(np.random.default_rng(6).standard_normal((2, 2, 3, 3)), requires_grad=True)
    assert gradcheck(lambda x, w, b: bn(x), [x, bn.weight, bn.bias])
    assert bn.running_mean.dtype == np.float64


def test_eval_mode_with_frozen_statistics_still_trains_gamma_and_beta(torch):
    ours, theirs = _twin(torch, 3)
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(7).standard_normal((2, 3, 4, 4)).astype(np.float32)
    y = ours(tinynet.tensor(x))  # the input needs no gradient here, only gamma and beta
    yr = theirs(torch.tensor(x))
    y.sum().backward()
    yr.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.bias.grad.data, theirs.bias.grad.numpy(), rtol=1e-5)


def test_state_dict_and_buffers_match_torch(torch):
    for kwargs in ({}, {"affine": False}, {"track_running_stats": False}, {"bias": False}):
        ours = nn.BatchNorm2d(5, **kwargs).state_dict()
        theirs = torch.nn.BatchNorm2d(5, **kwargs).state_dict()
        assert list(ours) == list(theirs), kwargs
        for k in ours:
            np.testing.assert_array_equal(ours[k].numpy(), theirs[k].numpy())


def test_batchnorm_errors():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input"):
        bn(tinynet.ones(2, 3, 4))
    with pytest.raises(RuntimeError, match="input has 4 channels .* num_features=3"):
        bn(tinynet.ones(2, 4, 2, 2))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        bn(tinynet.ones(1, 3, 1, 1))
    bn.eval()
    assert bn(tinynet.ones(1, 3, 1, 1)).shape == (1, 3, 1, 1)  # fine in eval
    with pytest.raises(ValueError, match="num_features must be a positive int"):
        nn.BatchNorm2d(0)
    with pytest.raises(ValueError, match="momentum must be a number in"):
        nn.BatchNorm2d(3, momentum=1.5)
    with pytest.raises(RuntimeError, match="running_var should contain 3 elements"):
        F.batch_norm(tinynet.ones(2, 3), tinynet.zeros(3), tinynet.ones(4))
    with pytest.raises(RuntimeError, match="must be defined in evaluation mode"):
        F.batch_norm(tinynet.ones(2, 3), None, None, training=False)
    with pytest.raises(ValueError, match="eps must be positive during training"):
        F.batch_norm(tinynet.ones(2, 3), None, None, training=True, eps=0.0)
    with pytest.raises(TypeError, match="weight .* must have the same dtype"):
        F.batch_norm(tinynet.ones(2, 3), None, None, tinynet.ones(3, dtype=tinynet.float64), training=True)
    with pytest.raises(ValueError, match="expected input of shape \\(N, C, ...\\)"):
        F.batch_norm(tinynet.ones(3), None, None, training=True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_numba_kernels_agree_with_the_numpy_reference(monkeypatch, dtype, affine):
    """Training mode runs tinynet/kernels/norm.py for float32/float64; the numpy code it replaced stays as
    the reference (and the path for other float dtypes): both give the same outputs, statistics and gradients."""
    import tinynet.functional.normalization as normalization

    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 5, 6)).astype(dtype) * 3 + 1
    g = rng.standard_normal(x.shape).astype(dtype)
    w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)

    def run():
        tx = tinynet.tensor(x, requires_grad=True)
        tw, tb = (tinynet.tensor(a, requires_grad=True) if affine else None for a in (w, b))
        rm, rv = tinynet.zeros(3, dtype=dtype), tinynet.ones(3, dtype=dtype)
        y = F.batch_norm(tx, rm, rv, tw, tb, training=True, momentum=0.3)
        y.backward(tinynet.tensor(g))
        grads = [tx.grad.numpy()] + ([tw.grad.numpy(), tb.grad.numpy()] if affine else [])
        return [y.detach().numpy(), rm.numpy(), rv.numpy()] + grads

    calls = []
    for name in ("batch_norm_train_forward", "batch_norm_train_backward"):
        kernel_fn = getattr(normalization, name)
        monkeypatch.setattr(normalization, name, lambda *a, _f=kernel_fn, _n=name: calls.append(_n) or _f(*a))
    kernel = run()
    assert calls == ["batch_norm_train_forward", "batch_norm_train_backward"]  # the kernels ran...
    monkeypatch.setattr(normalization, "_KERNEL_DTYPES", ())
    reference = run()
    assert len(calls) == 2  # ... and the reference did not use them
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for mine, ref in zip(kernel, reference):
        assert mine.dtype == dtype
        np.testing.assert_allclose(mine, ref, rtol=tol, atol=tol)
