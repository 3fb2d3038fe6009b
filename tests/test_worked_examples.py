"""docs/WORKED_EXAMPLES.md: the numbers it gives for the lecture notes' slips, and the places it cites.

The worked examples themselves are tested in test_conv.py, test_conv_modules.py and test_pool.py
(the page names each test); here are the numbers the page states where the notes slip, recomputed,
and a check that every test and notebook section the page cites exists.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import numpy as np
from test_conv import A, K  # the 6x6 image and kernel of part 003 of the lecture notes

import tinynet
import tinynet.nn.functional as F
from tinynet import nn
from tinynet.testing import operator_matrix

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "WORKED_EXAMPLES.md").read_text(encoding="utf-8")


def _img(rows) -> tinynet.Tensor:
    a = np.asarray(rows, dtype=np.float64)
    return tinynet.tensor(a.reshape((1, 1) + a.shape))


def test_the_6x6_example_is_stride_3_its_h13_is_h12_and_stride_2_gives_other_numbers():
    h = F.conv2d(_img(A), _img(K), stride=3).numpy()[0, 0]
    assert h.shape == (2, 2)  # no third column: the notes' "h13" is h12
    window = A[0:3, 3:6]
    assert h[0, 1] == np.sum(window * K) == 54
    np.testing.assert_array_equal(F.conv2d(_img(A), _img(K), stride=2).numpy()[0, 0], [[52, 45], [42, 47]])
    # 'same' recap: (8 - 3)/1 + 1 = 6 with stride 1; the notes' divisor 2 would give 3.
    padded = F.conv2d(_img(A), _img(K), padding=1, stride=2)
    assert F.conv2d(_img(A), _img(K), padding=1).shape[-1] == 6 and padded.shape[-1] == (8 - 3) // 2 + 1 == 3


def test_the_output_size_is_a_floor_not_a_ceiling():
    assert (6 - 3) / 2 + 1 == 2.5
    assert F.conv2d(_img(A), _img(K), stride=2).shape[-2:] == (2, 2)


def test_the_fourth_row_of_c_transposed_is_0_w02_0_0():
    w = np.array([[2.0, 3, 5], [7, 11, 13], [17, 19, 23]])
    ct = operator_matrix(lambda y: F.conv_transpose2d(y, _img(w)), (1, 1, 2, 2))
    np.testing.assert_array_equal(ct[3], [0, w[0, 2], 0, 0])  # the notes print (w00, w02, 0, 0)


def test_the_transposed_example_uses_a_not_n_and_a9_is_9_6():
    kernel = _img([[0, 1], [3, 2]])
    with_n = F.conv_transpose2d(_img([[1, 5, 7], [2, 5, 6], [7, 1, 3]]), kernel).numpy()[0, 0]
    np.testing.assert_array_equal(with_n[:2], [[0, 1, 5, 7], [3, 19, 36, 20]])
    a9 = np.zeros((4, 4))
    a9[2:, 2:] = 3 * np.array([[0, 1], [3, 2]])
    np.testing.assert_array_equal(a9[3], [0, 0, 9, 6])


def test_separable_costs_63_parameters_and_144_fits_no_layer_with_56700_multiplications():
    full = tinynet.summary(nn.Conv2d(3, 12, 3, bias=False), (1, 3, 32, 32))
    separable = tinynet.summary(nn.DepthwiseSeparableConv2d(3, 12, 3, bias=False), (1, 3, 32, 32))
    assert (full.total_params, full.total_mult_adds) == (324, 291_600)
    assert (separable.total_params, separable.total_mult_adds) == (63, 56_700)
    multiplier_4 = nn.Sequential(nn.Conv2d(3, 12, 3, groups=3, bias=False), nn.Conv2d(12, 12, 1, bias=False))
    s4 = tinynet.summary(multiplier_4, (1, 3, 32, 32))
    assert (s4.total_params, s4.total_mult_adds) == (252, 226_800)


# --------------------------------------------------------------------------- the page's citations
def _test_functions(rel: str) -> set:
    tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}


def _headings(number: str) -> set:
    (path,) = ROOT.glob(f"notebooks/{number}_*.ipynb")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = [line for c in cells if c["cell_type"] == "markdown" for line in "".join(c["source"]).splitlines()]
    return {line.lstrip("#").strip() for line in lines if line.startswith("#")}


def test_every_cited_test_exists():
    cited = re.findall(r"`(tests/test_\w+\.py)::(\w+)`", PAGE)
    assert len(cited) >= 12
    for rel, name in cited:
        assert name in _test_functions(rel), f"{rel}::{name}"


def test_every_cited_notebook_section_exists():
    cited = re.findall(r"\b(0[1-5]), \"([^\"]+)\"", PAGE)
    assert len(cited) >= 10
    for number, heading in cited:
        heading = " ".join(heading.split())
        assert heading in _headings(number), f"notebook {number} has no section {heading!r}"
