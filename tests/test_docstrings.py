"""Every public name of tinynet is documented: a docstring, a runnable ``Example:`` and, where shapes change, ``Shape:``.

The public API is what a user can reach: each module's ``__all__`` and the public names of the
packages users import (tinynet, tinynet.nn, tinynet.nn.functional, tinynet.optim, tinynet.data,
...). For each name defined in tinynet (re-exported numpy dtypes are numpy's business):

* it has a docstring;
* the docstring has an ``Example:`` section (``Example (what it shows):`` counts too) with a ``>>>``
  line, and that example is one pytest's ``--doctest-modules`` collects, so it runs in CI;
* functional ops and ``nn`` modules have a ``Shape:`` section, except the ones listed in
  ``SAME_SHAPE`` whose output has the input's shape;
* functional ops and ``nn`` modules name every argument of their signature (constructor for a
  module) in the docstring, usually in ``Args:`` (``device`` and ``dtype`` are PyTorch's and need
  no words).

Every module under tinynet, private ones included, has a module docstring.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import types

import pytest

import tinynet

PACKAGES = [
    "tinynet",
    "tinynet.nn",
    "tinynet.nn.functional",
    "tinynet.nn.init",
    "tinynet.optim",
    "tinynet.optim.lr_scheduler",
    "tinynet.data",
    "tinynet.data.datasets",
    "tinynet.testing",
    "tinynet.io",
    "tinynet.metrics",
    "tinynet.models",
    "tinynet.summary",
    "tinynet.viz",
    "tinynet.autograd",
    "tinynet.random",
]

# Functional ops and modules whose output has the shape of their input (or that hold other modules):
# they need no Shape: section.
SAME_SHAPE = {
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "dropout",
    "dropout2d",
    "batch_norm",
    "ReLU",
    "LeakyReLU",
    "Sigmoid",
    "Tanh",
    "Softmax",
    "LogSoftmax",
    "Dropout",
    "Dropout2d",
    "Identity",
    "BatchNorm1d",
    "BatchNorm2d",
    "Module",
    "Parameter",
    "Sequential",
    "ModuleList",
    "ModuleDict",
}

EXAMPLE = re.compile(r"^\s*Examples?\b[^\n]*:\s*$", re.MULTILINE)
SHAPE = re.compile(r"^\s*Shapes?\b[^\n]*:", re.MULTILINE)


def _all_modules() -> list[str]:
    names = ["tinynet"]
    for info in pkgutil.walk_packages(tinynet.__path__, "tinynet."):
        names.append(info.name)
    return sorted(names)


def _public_names(module: types.ModuleType) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [n for n in dir(module) if not n.startswith("_")]


def _defined_in_tinynet(obj) -> bool:
    if isinstance(obj, types.ModuleType):
        return False
    if not (inspect.isclass(obj) or inspect.isfunction(obj) or callable(obj)):
        return False
    return (getattr(obj, "__module__", None) or "").startswith("tinynet")


def _public_api() -> dict[str, object]:
    """{qualified name where it is defined: object}, each object once."""
    api: dict[int, tuple[str, object]] = {}
    modules = set(PACKAGES)
    for name in _all_modules():
        module = importlib.import_module(name)
        if hasattr(module, "__all__"):
            modules.add(name)
    for name in sorted(modules):
        module = importlib.import_module(name)
        for attr in _public_names(module):
            obj = getattr(module, attr)
            if _defined_in_tinynet(obj) and id(obj) not in api:
                api[id(obj)] = (f"{obj.__module__}.{getattr(obj, '__qualname__', attr)}", obj)
    return dict(sorted(api.values(), key=lambda item: item[0]))


API = _public_api()
FUNCTIONAL = {name for name in tinynet.nn.functional.__all__}
NN_CLASSES = {
    name
    for name in dir(tinynet.nn)
    if inspect.isclass(getattr(tinynet.nn, name)) and issubclass(getattr(tinynet.nn, name), tinynet.nn.Module)
}
NN_CLASSES.add("Parameter")


def _doctests_of(module_name: str) -> dict[str, int]:
    """{name of a docstring in the module: number of examples} as pytest's --doctest-modules finds them."""
    module = importlib.import_module(module_name)
    return {t.name: len(t.examples) for t in doctest.DocTestFinder().find(module, module_name)}


_DOCTESTS: dict[str, dict[str, int]] = {}


def test_the_public_api_is_not_empty():
    assert len(API) > 150
    for expected in ("tinynet.functional.conv.conv2d", "tinynet.nn.conv.Conv2d", "tinynet.summary.summary"):
        assert expected in API


@pytest.mark.parametrize("module_name", _all_modules())
def test_every_module_has_a_docstring(module_name):
    doc = importlib.import_module(module_name).__doc__
    assert doc and doc.strip(), f"{module_name} has no module docstring"


@pytest.mark.parametrize("qualname", sorted(API))
def test_public_name_has_a_docstring_with_a_runnable_example(qualname):
    obj = API[qualname]
    doc = inspect.getdoc(obj) if not inspect.isclass(obj) else obj.__dict__.get("__doc__")
    assert doc and doc.strip(), f"{qualname} has no docstring"
    match = EXAMPLE.search(doc)
    assert match, f"{qualname}: the docstring has no 'Example:' section"
    assert ">>>" in doc[match.end() :], f"{qualname}: the 'Example:' section has no '>>>' line"
    module_name = obj.__module__
    if module_name not in _DOCTESTS:
        _DOCTESTS[module_name] = _doctests_of(module_name)
    found = _DOCTESTS[module_name].get(f"{module_name}.{obj.__qualname__}", 0)
    assert found > 0, f"{qualname}: doctest does not collect the example (is the docstring set at run time?)"


@pytest.mark.parametrize(
    "qualname",
    sorted(
        q
        for q, obj in API.items()
        if q.split(".")[-1] in FUNCTIONAL | NN_CLASSES and q.split(".")[-1] not in SAME_SHAPE
    ),
)
def test_ops_and_layers_that_change_shapes_have_a_shape_section(qualname):
    obj = API[qualname]
    doc = inspect.getdoc(obj) if not inspect.isclass(obj) else obj.__dict__.get("__doc__")
    assert doc and SHAPE.search(doc), f"{qualname}: the docstring has no 'Shape:' section"


UNDOCUMENTED_OK = {"self", "args", "kwargs", "device", "dtype"}


@pytest.mark.parametrize("qualname", sorted(q for q in API if q.split(".")[-1] in FUNCTIONAL | NN_CLASSES))
def test_ops_and_layers_name_every_argument(qualname):
    obj = API[qualname]
    doc = inspect.getdoc(obj) if not inspect.isclass(obj) else obj.__dict__.get("__doc__")
    target = obj.__init__ if inspect.isclass(obj) else obj
    params = [p for p in inspect.signature(target).parameters if p not in UNDOCUMENTED_OK]
    missing = [p for p in params if not re.search(rf"\b{re.escape(p)}\b", doc or "")]
    assert not missing, f"{qualname}: the docstring does not mention the arguments {missing}"
