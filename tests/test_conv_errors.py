"""Bad arguments to the convolutions: each a clear ValueError/TypeError naming the argument and
the values, raised before any kernel runs (the kernels are replaced by a tripwire to prove it)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinynet
import tinynet.functional.conv as conv_module
import tinynet.nn.functional as F


@pytest.fixture(autouse=True)
def no_kernel_may_run(monkeypatch):
    """Every test here must fail in validation: a kernel call would be a bug."""

    def tripwire(*args):
        raise AssertionError("a kernel ran before the arguments were checked")

    for entry in ("correlate", "correlate_adjoint", "correlate_weight", "correlate_and_weight"):
        monkeypatch.setattr(conv_module.kernels, entry, tripwire)


def _x(*shape, dtype=np.float32):
    return tinynet.tensor(np.ones(shape, dtype=dtype))


X = _x(2, 3, 5, 5)
W = _x(4, 3, 3, 3)


def test_channel_mismatch_names_both_counts_and_the_weight_shape():
    with pytest.raises(
        ValueError, match=r"conv2d: input has 3 channels but weight expects 2 \(weight shape \(4, 2, 3, 3\)"
    ):
        F.conv2d(X, _x(4, 2, 3, 3))


def test_channel_mismatch_of_the_transposed_conv():
    with pytest.raises(ValueError, match=r"conv_transpose2d: input has 3 channels but weight expects 4"):
        F.conv_transpose2d(X, _x(4, 2, 3, 3))


def test_kernel_larger_than_the_padded_input():
    with pytest.raises(
        ValueError, match=r"conv2d: the kernel \(size \(7, 7\).*larger than the padded input \(size \(5, 5\)\)"
    ):
        F.conv2d(X, _x(4, 3, 7, 7))


def test_dilated_kernel_larger_than_the_padded_input_counts_the_dilation():
    with pytest.raises(
        ValueError, match=r"dilation \(4, 4\), so spanning \(9, 9\)\) is larger than the padded input \(size \(7, 7\)\)"
    ):
        F.conv2d(X, W, padding=1, dilation=4)


@pytest.mark.parametrize("value", [0, -1, (1, 0)])
def test_stride_must_be_positive(value):
    with pytest.raises(ValueError, match=re.escape(f"conv2d: stride must be >= 1, got {value!r}")):
        F.conv2d(X, W, stride=value)


@pytest.mark.parametrize("value", [0, -2])
def test_dilation_must_be_positive(value):
    with pytest.raises(ValueError, match=rf"conv_transpose2d: dilation must be >= 1, got {value}"):
        F.conv_transpose2d(_x(2, 4, 5, 5), W, dilation=value)


def test_negative_padding():
    with pytest.raises(ValueError, match=r"conv1d: padding must be >= 0, got -1"):
        F.conv1d(_x(2, 3, 5), _x(4, 3, 3), padding=-1)


def test_groups_must_divide_the_input_channels():
    with pytest.raises(ValueError, match=r"conv2d: groups=2 does not divide the input's 3 channels"):
        F.conv2d(X, _x(4, 1, 3, 3), groups=2)


def test_groups_must_divide_the_output_channels():
    with pytest.raises(ValueError, match=r"conv2d: groups=3 does not divide the weight's 4 output channels"):
        F.conv2d(X, _x(4, 1, 3, 3), groups=3)


def test_groups_must_divide_the_transposed_convs_input_channels():
    with pytest.raises(ValueError, match=r"conv_transpose2d: groups=2 does not divide the weight's 3 input channels"):
        F.conv_transpose2d(X, _x(3, 2, 3, 3), groups=2)


@pytest.mark.parametrize("value", [0, -1])
def test_groups_must_be_positive(value):
    with pytest.raises(ValueError, match=rf"conv2d: groups must be a positive int, got {value}"):
        F.conv2d(X, W, groups=value)


def test_groups_must_be_an_int():
    with pytest.raises(TypeError, match=r"conv2d: groups must be an int, got 1.5"):
        F.conv2d(X, W, groups=1.5)


def test_same_padding_with_stride_greater_than_1():
    with pytest.raises(
        ValueError, match=r"conv2d: padding='same' is not supported for strided convolutions \(stride=\(2, 1\)\)"
    ):
        F.conv2d(X, W, padding="same", stride=(2, 1))


@pytest.mark.parametrize("word", ["full", "SAME", ""])
def test_unknown_padding_words(word):
    with pytest.raises(
        ValueError, match=rf"conv2d: padding must be 'valid', 'same', an int or a tuple of 2 ints, got '{word}'"
    ):
        F.conv2d(X, W, padding=word)


def test_padding_words_are_not_accepted_by_the_transposed_conv():
    with pytest.raises(TypeError, match=r"conv_transpose2d: padding must be an int or a tuple of 2 ints, got 'same'"):
        F.conv_transpose2d(_x(2, 4, 5, 5), W, padding="same")


def test_padding_of_the_wrong_length():
    with pytest.raises(TypeError, match=r"conv2d: padding must be an int or a tuple of 2 ints, got \(1, 2, 3\)"):
        F.conv2d(X, W, padding=(1, 2, 3))


def test_output_padding_must_be_smaller_than_stride_or_dilation():
    with pytest.raises(
        ValueError,
        match=r"conv_transpose2d: output_padding \(2, 2\) must be smaller than either stride \(2, 2\) or dilation \(1, 1\)",
    ):
        F.conv_transpose2d(_x(2, 4, 5, 5), W, stride=2, output_padding=2)


def test_transposed_output_size_must_be_positive():
    with pytest.raises(ValueError, match=r"conv_transpose2d: the output size \(-1, -1\) is not positive"):
        F.conv_transpose2d(_x(2, 4, 1, 1), W, padding=2)


@pytest.mark.parametrize("shape", [(4, 3, 3), (4, 3, 3, 3, 1)])
def test_weight_of_the_wrong_rank(shape):
    with pytest.raises(ValueError, match=rf"conv2d: expected weight to be 4-D, got {len(shape)}-D with shape"):
        F.conv2d(X, _x(*shape))


def test_weight_of_the_wrong_rank_for_conv1d():
    with pytest.raises(ValueError, match=r"conv1d: expected weight to be 3-D, got 4-D"):
        F.conv1d(_x(2, 3, 5), W)


@pytest.mark.parametrize("shape", [(2, 3), (1, 2, 3, 5, 5)])
def test_input_of_the_wrong_rank(shape):
    with pytest.raises(ValueError, match=rf"conv2d: expected input to be 3-D or 4-D, got {len(shape)}-D"):
        F.conv2d(_x(*shape), W)


def test_bias_of_the_wrong_length():
    with pytest.raises(
        ValueError, match=r"conv2d: bias must be 1-D with 4 elements \(one per output channel\), got shape \(3,\)"
    ):
        F.conv2d(X, W, _x(3))


def test_bias_of_the_wrong_length_for_the_transposed_conv_counts_its_output_channels():
    with pytest.raises(ValueError, match=r"conv_transpose2d: bias must be 1-D with 6 elements"):
        F.conv_transpose2d(_x(2, 4, 5, 5), _x(4, 3, 3, 3), _x(4), groups=2)


def test_bias_of_the_wrong_rank():
    with pytest.raises(ValueError, match=r"conv2d: bias must be 1-D with 4 elements .* got shape \(1, 4\)"):
        F.conv2d(X, W, _x(1, 4))


def test_input_and_weight_dtypes_must_agree():
    with pytest.raises(TypeError, match=r"conv2d: input \(float32\) and weight \(float64\) must have the same dtype"):
        F.conv2d(X, _x(4, 3, 3, 3, dtype=np.float64))


def test_integer_input_is_rejected():
    with pytest.raises(TypeError, match=r"conv2d: input must be a floating-point tensor, got dtype int64"):
        F.conv2d(tinynet.tensor(np.ones((2, 3, 5, 5), dtype=np.int64)), W)


def test_non_tensor_input_is_rejected():
    with pytest.raises(TypeError, match=r"conv2d: input must be a Tensor, got ndarray"):
        F.conv2d(np.ones((2, 3, 5, 5), dtype=np.float32), W)


def test_zero_sized_spatial_input_is_rejected():
    with pytest.raises(ValueError, match=r"conv2d: input has a zero-sized spatial dimension \(shape \(2, 3, 0, 5\)\)"):
        F.conv2d(_x(2, 3, 0, 5), W, padding=2)


def test_stride_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a tuple of 2 ints, got 1.5"):
        F.conv2d(X, W, stride=1.5)
