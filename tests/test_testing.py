"""tinynet.testing proves ops right, so it must also catch ops that are wrong.

Each tool is shown passing on correct ops and failing, with a useful message,
on a deliberately broken Function.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
from tinynet.autograd import Function
from tinynet.testing import AdjointError, GradcheckError, adjoint_check, gradcheck, operator_matrix


def f64(shape, seed=0, requires_grad=True):
    data = np.random.default_rng(seed).standard_normal(shape)
    return tinynet.tensor(data, requires_grad=requires_grad)


# ------------------------------------------------------------ broken Functions
class SquareWrongAtOneElement(Function):
    """x*x whose backward is off by one at flat element 5."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_arrays
        g = 2 * x * grad
        g.reshape(-1)[5] += 1.0
        return g


class MulWrongForSecondInput(Function):
    """a*b whose gradient for b forgets the factor a."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_arrays
        return grad * b, grad


class ReverseWithWrongBackward(Function):
    """Reverses a vector, but its backward forgets to reverse back (the adjoint of a reversal is a reversal)."""

    @staticmethod
    def forward(ctx, x):
        return x[::-1].copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


class ScaleWithWrongBackward(Function):
    """3x, with the backward multiplying by 3.01: a 0.3% error, above gradcheck's default rtol of 0.1%."""

    @staticmethod
    def forward(ctx, x):
        return 3 * x

    @staticmethod
    def backward(ctx, grad):
        return 3.01 * grad


# ------------------------------------------------------------ gradcheck
def test_gradcheck_passes_correct_ops():
    x, w = f64((2, 3)), f64((3, 4), seed=1)
    assert gradcheck(lambda a, b: (a @ b).tanh(), [x, w])
    assert gradcheck(lambda a: a.max(dim=1), [f64((3, 4))])  # (values, indices): the integer output is ignored


def test_gradcheck_catches_a_wrong_backward_and_names_input_and_worst_element():
    x = f64((2, 3))
    with pytest.raises(GradcheckError, match=r"input 0 \(shape \(2, 3\)\) at element \(1, 2\).*1 of 6 elements fail"):
        gradcheck(SquareWrongAtOneElement.apply, [x])


def test_gradcheck_names_the_input_whose_gradient_is_wrong():
    a, b = f64((3,)), f64((3,), seed=1)
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(MulWrongForSecondInput.apply, [a, b])


def test_gradcheck_checks_only_inputs_that_require_grad():
    a, b = f64((3,)), f64((3,), seed=1, requires_grad=False)
    assert gradcheck(MulWrongForSecondInput.apply, [a, b])  # b's wrong gradient is never asked for


def test_gradcheck_catches_a_small_relative_error():
    with pytest.raises(GradcheckError, match="analytical"):
        gradcheck(ScaleWithWrongBackward.apply, [f64((4,))])


def test_gradcheck_needs_float64_inputs_that_require_grad():
    with pytest.raises(ValueError, match=r"float64.*tensor\.double\(\)"):
        gradcheck(lambda t: t * 2, [tinynet.ones(2, requires_grad=True)])
    with pytest.raises(ValueError, match="nothing to check"):
        gradcheck(lambda t: t * 2, [f64((2,), requires_grad=False)])


def test_gradcheck_leaves_inputs_and_their_grads_unchanged():
    x = f64((2, 3))
    before = x.data.copy()
    gradcheck(lambda t: t.exp(), [x])
    np.testing.assert_array_equal(x.data, before)
    assert x.grad is None
    (x * 3).sum().backward()
    with pytest.raises(GradcheckError):
        gradcheck(SquareWrongAtOneElement.apply, [x])
    np.testing.assert_array_equal(x.grad.data, np.full((2, 3), 3.0))


# ------------------------------------------------------------ adjoint_check
LINEAR_MAPS = {
    "transpose": (lambda x: x.transpose(0, 1), (2, 3)),
    "permute": (lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    "T": (lambda x: x.T, (3, 2)),
    "sum_dim": (lambda x: x.sum(dim=1), (2, 3, 2)),
    "mean_keepdim": (lambda x: x.mean(dim=(0, 2), keepdim=True), (2, 3, 2)),
    "reshape": (lambda x: x.reshape(3, -1), (2, 3)),
    "flatten": (lambda x: x.flatten(1), (2, 3, 2)),
    "slice": (lambda x: x[1:, ::2], (3, 5)),
    "index_with_repeats": (lambda x: x[tinynet.tensor([2, 0, 0, 1, 2])], (3, 2)),
    "bool_mask": (lambda x: x[tinynet.tensor([True, False, True])], (3, 2)),
    "matmul_fixed_matrix": (lambda x: tinynet.tensor(np.arange(12.0).reshape(4, 3)) @ x, (3, 2)),
    "expand": (lambda x: x.expand(4, 3, 2), (3, 1)),
    "cat": (lambda x: tinynet.cat([x, 2 * x, x[:1]], dim=0), (2, 3)),
    "stack": (lambda x: tinynet.stack([x, -x], dim=1), (2, 3)),
    "where": (lambda x: tinynet.where(tinynet.tensor([True, False, True]), x, 0.0), (2, 3)),
    "squeeze_unsqueeze": (lambda x: x.unsqueeze(0).squeeze(2), (3, 1)),
}


@pytest.mark.parametrize("name", sorted(LINEAR_MAPS))
def test_adjoint_check_passes_the_tape_backward_of_linear_ops(name):
    fn, shape = LINEAR_MAPS[name]
    assert adjoint_check(fn, shape)


def test_adjoint_check_passes_a_correct_explicit_adjoint():
    assert adjoint_check(lambda x: x.sum(dim=1), (2, 3), adjoint=lambda y: y.unsqueeze(1).expand(2, 3))


def test_adjoint_check_catches_a_wrong_adjoint_passed_in_and_prints_both_sides():
    with pytest.raises(AdjointError, match=r"<A x, y> = .* but <x, A\* y> = "):
        adjoint_check(lambda x: x.transpose(0, 1), (2, 3), adjoint=lambda y: y.transpose(0, 1) * 1.001)
    with pytest.raises(AdjointError, match="<A x, y>"):  # right shape, wrong permutation
        adjoint_check(lambda x: x.permute(2, 0, 1), (2, 3, 4), adjoint=lambda y: y.reshape(2, 3, 4))


def test_adjoint_check_catches_a_wrong_tape_backward():
    with pytest.raises(AdjointError, match="<A x, y>"):
        adjoint_check(ReverseWithWrongBackward.apply, (5,))
    with pytest.raises(AdjointError, match="<A x, y>"):
        adjoint_check(ScaleWithWrongBackward.apply, (4,))


def test_adjoint_check_refuses_maps_that_are_not_linear():
    with pytest.raises(AdjointError, match="not linear"):
        adjoint_check(lambda x: x + 1.0, (3,))
    with pytest.raises(AdjointError, match="not linear"):
        adjoint_check(lambda x: x * x, (3,))


def test_adjoint_check_refuses_an_adjoint_of_the_wrong_shape():
    with pytest.raises(AdjointError, match=r"shape \(3, 2\), expected the input shape \(2, 3\)"):
        adjoint_check(lambda x: x.transpose(0, 1), (2, 3), adjoint=lambda y: y)


# ------------------------------------------------------------ operator_matrix
def test_operator_matrix_of_transpose_is_the_permutation_matrix():
    m = operator_matrix(lambda x: x.transpose(0, 1), (2, 3))
    expected = np.zeros((6, 6))
    for r in range(2):
        for c in range(3):
            expected[c * 2 + r, r * 3 + c] = 1.0  # output (c, r) reads input (r, c)
    np.testing.assert_array_equal(m, expected)


def test_operator_matrix_of_sum_and_index():
    np.testing.assert_array_equal(operator_matrix(lambda x: x.sum(), (3,)), [[1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(
        operator_matrix(lambda x: x[tinynet.tensor([2, 0, 0])], (3,)),
        [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
    )


@pytest.mark.parametrize("name", sorted(LINEAR_MAPS))
@given(seed=st.integers(0, 2**32 - 1))
def test_operator_matrix_applied_to_x_equals_fn_of_x(name, seed):
    fn, shape = LINEAR_MAPS[name]
    m = operator_matrix(fn, shape)
    x = np.random.default_rng(seed).standard_normal(shape)
    np.testing.assert_allclose(fn(tinynet.tensor(x)).data.ravel(), m @ x.ravel(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(LINEAR_MAPS))
def test_tape_backward_is_the_transposed_matrix(name):
    """Row i of M is the gradient of output element i: backprop applies Mᵀ (the lecture notes' Cᵀ)."""
    fn, shape = LINEAR_MAPS[name]
    m = operator_matrix(fn, shape)
    for i in range(m.shape[0]):
        x = tinynet.zeros(shape, dtype=tinynet.float64, requires_grad=True)
        out = fn(x)
        unit = np.zeros(m.shape[0])
        unit[i] = 1.0
        out.backward(tinynet.tensor(unit.reshape(out.shape)))
        np.testing.assert_array_equal(x.grad.data.ravel(), m[i])
