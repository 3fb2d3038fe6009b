"""The reference tier: the plainest loop nests that define every kernel family.

``TINYNET_KERNELS=reference`` (or ``tinynet.kernels.use("reference")``) runs these and
nothing else; the fast tier (the rest of tinynet/kernels) must compute the same numbers
(tests/test_tiers.py). To watch a convolution happen, step through ``conv.im2col`` under
``NUMBA_DISABLE_JIT=1`` (docs/ARCHITECTURE.md, "The two kernel tiers").
"""
