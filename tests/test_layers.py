"""Linear, Flatten, activations, dropout and nn.init: values and gradients against torch, gradchecks,
adjoint (dot-product) tests for the linear maps, initialisation statistics, and argument errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.nn import init
from tinynet.testing import adjoint_check, gradcheck


def _t(a, requires_grad=False):
    return tinynet.tensor(np.asarray(a), requires_grad=requires_grad)


# --------------------------------------------------------------------------- linear
@given(
    lead=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    fin=st.integers(1, 5),
    fout=st.integers(1, 4),
    bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_linear_forward_and_gradients_match_torch(torch, lead, fin, fout, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((*lead, fin)).astype(np.float32)
    w = rng.standard_normal((fout, fin)).astype(np.float32)
    b = rng.standard_normal(fout).astype(np.float32)
    g = rng.standard_normal((*lead, fout)).astype(np.float32)
    xt, wt, bt = _t(x, True), _t(w, True), _t(b, True)
    xr, wr, br = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(xt, wt, bt if bias else None)
    yr = torch.nn.functional.linear(xr, wr, br if bias else None)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert y.dtype == np.float32
    y.backward(_t(g))
    yr.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(wt.grad.data, wr.grad.numpy(), rtol=1e-5, atol=1e-5)
    if bias:
        np.testing.assert_allclose(bt.grad.data, br.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_linear_gradcheck_float64():
    rng = np.random.default_rng(1)
    x, w, b = (_t(rng.standard_normal(s), True) for s in ((2, 3, 4), (5, 4), (5,)))
    assert gradcheck(F.linear, [x, w, b])


def test_linear_input_map_is_adjoint_to_its_backward():
    w = _t(np.random.default_rng(2).standard_normal((3, 5)))
    assert adjoint_check(lambda x: F.linear(x, w), (4, 5))  # x -> x W^T, adjoint g -> g W


def test_linear_weight_map_is_adjoint_to_its_backward():
    x = _t(np.random.default_rng(3).standard_normal((6, 5)))
    assert adjoint_check(lambda w: F.linear(x, w), (3, 5))  # W -> X W^T, adjoint G -> G^T X


def test_linear_module_default_init_matches_pytorch_distribution():
    tinynet.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.95 * bound
    # U(-b, b) has variance b^2 / 3; 120,000 samples pin it to within ~1%
    assert abs(layer.weight.data.var() / (bound**2 / 3) - 1) < 0.02
    assert abs(layer.weight.data.mean()) < 0.01 * bound
    assert layer.weight.shape == (300, 400) and layer.weight.dtype == np.float32


def test_linear_module_options_and_dtype():
    layer = nn.Linear(3, 2, bias=False, dtype=tinynet.float64)
    assert layer.bias is None and list(layer.state_dict()) == ["weight"]
    assert layer(tinynet.ones(4, 3, dtype=tinynet.float64)).dtype == np.float64
    assert nn.Linear(0, 2).bias.data.tolist() == [0.0, 0.0]  # no fan-in: PyTorch's bound 0


def test_linear_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match=r"input has 4 features .* weight expects 3 \(weight shape \(5, 3\)\)"):
        F.linear(tinynet.ones(2, 4), tinynet.ones(5, 3))
    with pytest.raises(ValueError, match="weight to be 2-D"):
        F.linear(tinynet.ones(2, 3), tinynet.ones(3))
    with pytest.raises(RuntimeError, match=r"bias must have shape \(5,\)"):
        F.linear(tinynet.ones(2, 3), tinynet.ones(5, 3), tinynet.ones(4))
    with pytest.raises(TypeError, match="same dtype"):
        F.linear(tinynet.ones(2, 3, dtype=tinynet.float64), tinynet.ones(5, 3))
    with pytest.raises(TypeError, match="floating-point"):
        F.linear(tinynet.tensor([[1, 2, 3]]), tinynet.ones(5, 3))
    with pytest.raises(ValueError, match="in_features must be a non-negative int"):
        nn.Linear(-1, 2)
    with pytest.raises(TypeError, match="floating-point dtype"):
        nn.Linear(2, 2, dtype=tinynet.int64)


# --------------------------------------------------------------------------- flatten, activations
@pytest.mark.parametrize("start,end", [(1, -1), (0, -1), (1, 2), (2, 3), (-2, -1)])
def test_flatten_matches_torch(torch, start, end):
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    ours = nn.Flatten(start, end)(_t(x))
    theirs = torch.nn.Flatten(start, end)(torch.tensor(x))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.ReLU(),
        lambda lib: lib.LeakyReLU(0.2),
        lambda lib: lib.Sigmoid(),
        lambda lib: lib.Tanh(),
        lambda lib: lib.Softmax(dim=1),
        lambda lib: lib.Softmax(dim=-1),
        lambda lib: lib.LogSoftmax(dim=1),
    ],
    ids=["ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax-dim1", "Softmax-dim-1", "LogSoftmax-dim1"],
)
def test_activation_modules_match_torch_values_and_gradients(torch, make):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((3, 4, 2)) * 3).astype(np.float32)
    g = rng.standard_normal((3, 4, 2)).astype(np.float32)
    xt, xr = _t(x, True), torch.tensor(x, requires_grad=True)
    y, yr = make(nn)(xt), make(torch.nn)(xr)
    np.testing.assert_allclose(y.data, yr.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.backward(_t(g))
    yr.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, xr.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_softmax_without_dim_uses_pytorchs_legacy_choice_and_warns(torch):
    x = np.random.default_rng(5).standard_normal((2, 3, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="Implicit dimension"):
        ours = nn.Softmax()(_t(x))
    with pytest.warns(UserWarning):
        theirs = torch.nn.Softmax()(torch.tensor(x))
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-6)


def test_leaky_relu_rejects_a_non_number_slope():
    with pytest.raises(TypeError, match="negative_slope must be a number"):
        nn.LeakyReLU("0.1")


# --------------------------------------------------------------------------- dropout
def test_dropout_is_identity_in_eval_and_with_p_zero():
    x = tinynet.randn(3, 4)
    assert nn.Dropout(0.5).eval()(x) is x
    assert F.dropout(x, 0.0) is x
    assert F.dropout2d(tinynet.randn(2, 3, 4, 4), 0.5, training=False).shape == (2, 3, 4, 4)


def test_dropout_keeps_each_element_with_probability_1_minus_p_and_rescales():
    g = tinynet.Generator().manual_seed(0)
    y = F.dropout(tinynet.ones(200_000), p=0.3, generator=g).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.005  # 4.4 standard deviations of a Bernoulli mean
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert y.dtype == np.float32


def test_dropout_backward_uses_the_forward_mask():
    x = tinynet.randn(50, 40, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.backward(tinynet.ones(50, 40))
    np.testing.assert_array_equal(x.grad.data, (y.data != 0) * np.float32(2.0))


def test_dropout_for_a_fixed_mask_is_self_adjoint():
    # A fixed seed gives the same mask on every call, so the map is linear and diagonal.
    assert adjoint_check(lambda x: F.dropout(x, 0.4, generator=tinynet.Generator().manual_seed(3)), (6, 5))
    assert adjoint_check(lambda x: F.dropout2d(x, 0.4, generator=tinynet.Generator().manual_seed(3)), (3, 4, 2, 2))


def test_dropout_is_repeatable_from_the_global_seed():
    tinynet.manual_seed(7)
    a = nn.Dropout(0.5)(tinynet.ones(100)).data
    tinynet.manual_seed(7)
    b = nn.Dropout(0.5)(tinynet.ones(100)).data
    np.testing.assert_array_equal(a, b)


def test_dropout_p_one_gives_zeros_and_zero_gradient(torch):
    x = tinynet.ones(2, 3, 2, 2, requires_grad=True)
    for fn in (F.dropout, F.dropout2d):
        x.grad = None
        y = fn(x, 1.0)
        y.sum().backward()
        assert not y.data.any() and not x.grad.data.any() and np.isfinite(x.grad.data).all()


def test_dropout2d_zeroes_whole_channels():
    g = tinynet.Generator().manual_seed(1)
    y = F.dropout2d(tinynet.ones(8, 16, 3, 3), 0.5, generator=g).data
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel.min(axis=2))) <= {0.0, 2.0}
    np.testing.assert_array_equal(per_channel.min(axis=2), per_channel.max(axis=2))
    assert 0.3 < (per_channel[:, :, 0] == 0).mean() < 0.7


def test_dropout2d_on_3d_input_drops_channels_of_n_c_l_like_torch(torch):
    with pytest.warns(UserWarning, match="3D input"):
        y = F.dropout2d(tinynet.ones(6, 5, 7), 0.5, generator=tinynet.Generator().manual_seed(2)).data
    np.testing.assert_array_equal(y.min(axis=2), y.max(axis=2))  # (N, C) mask, as torch 2.13 does


def test_dropout_arguments_are_checked():
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        F.dropout(tinynet.ones(2), 1.5)
    with pytest.raises(ValueError, match="between 0 and 1, but got -0.1"):
        nn.Dropout2d(-0.1)
    with pytest.raises(TypeError, match="p must be a number"):
        nn.Dropout("0.5")
    with pytest.raises(TypeError, match="floating-point"):
        F.dropout(tinynet.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match="4-D"):
        F.dropout2d(tinynet.ones(3), 0.5)


# --------------------------------------------------------------------------- nn.init
@pytest.mark.parametrize(
    "fn,kwargs,expected_std",
    [
        # fan_in = 64 * 3 * 3 = 576, fan_out = 32 * 9 = 288 for a (32, 64, 3, 3) weight
        (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(2 / 576)),
        (init.kaiming_normal_, {"nonlinearity": "relu"}, math.sqrt(2 / 576)),
        (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 288)),
        (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(576) / math.sqrt(3)),
        (init.xavier_uniform_, {}, math.sqrt(2 / (576 + 288))),
        (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(2 / (576 + 288))),
    ],
)
def test_init_standard_deviations_follow_the_formulas(torch, fn, kwargs, expected_std):
    w = tinynet.zeros(32, 64, 3, 3)
    tinynet.manual_seed(0)
    assert fn(w, **kwargs) is w
    ref = torch.empty(32, 64, 3, 3)
    getattr(torch.nn.init, fn.__name__)(ref, **kwargs)
    assert abs(w.data.std() / expected_std - 1) < 0.02  # 18,432 samples
    assert abs(ref.std().item() / expected_std - 1) < 0.02  # torch agrees with the formula
    if "uniform" in fn.__name__:
        bound = expected_std * math.sqrt(3)
        assert np.abs(w.data).max() <= bound * (1 + 1e-6)
        assert np.abs(w.data).max() > 0.99 * bound


def test_constant_initialisers():
    w = tinynet.ones(2, 3)
    assert init.zeros_(w) is w and not w.data.any()
    assert init.ones_(w).data.tolist() == [[1.0] * 3] * 2
    assert init.constant_(w, 0.25).data.tolist() == [[0.25] * 3] * 2


def test_calculate_gain_matches_torch(torch):
    for name, param in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("sigmoid", None), ("selu", None)]:
        assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param))


def test_init_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.kaiming_uniform_(tinynet.zeros(3))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_normal_(tinynet.zeros(2, 2), mode="fan_avg")
    with pytest.raises(TypeError, match="floating-point"):
        init.ones_(tinynet.tensor([1, 2]))
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
