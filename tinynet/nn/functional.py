"""``tinynet.nn.functional``: the functional ops, under PyTorch's name (``import ... as F``)."""

from tinynet.functional import *  # noqa: F401,F403
from tinynet.functional import __all__  # noqa: F401
