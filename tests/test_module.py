"""Module, Parameter and the containers: registration, traversal, modes, state_dict and repr, against torch.

The "twin" tests build the same architecture in tinynet and in torch and check that
state_dict keys, shapes, reprs and traversal orders agree, and that weights move in
both directions (tinynet -> torch via numpy, torch -> tinynet directly).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import tinynet
from tinynet import nn


# --------------------------------------------------------------------------- twins
class _Block:
    """Builds the same model with either library (``lib`` is tinynet.nn or torch.nn)."""

    @staticmethod
    def build(lib):
        class Net(lib.Module):
            def __init__(self):
                super().__init__()
                self.features = lib.Sequential(
                    lib.Linear(6, 8),
                    lib.BatchNorm1d(8),
                    lib.ReLU(),
                    lib.Dropout(0.2),
                    lib.Linear(8, 8, bias=False),
                    lib.BatchNorm1d(8, affine=False),
                    lib.Tanh(),
                )
                self.heads = lib.ModuleDict({"a": lib.Linear(8, 3), "b": lib.Linear(8, 2)})
                self.extra = lib.ModuleList([lib.Linear(8, 8) for _ in range(2)] + [lib.LeakyReLU(0.1)])
                self.norm = lib.BatchNorm1d(8, track_running_stats=False)
                self.register_buffer("scale", _ones(lib, 8))
                self.register_buffer("cache", _ones(lib, 8), persistent=False)

            def forward(self, x):
                h = self.features(x)
                for layer in self.extra:
                    h = layer(h)
                h = self.norm(h) * self.scale
                return self.heads["a"](h), self.heads["b"](h)

        return Net()


def _ones(lib, n):
    if lib is nn:
        return tinynet.ones(n)
    import torch

    return torch.ones(n)


def _to_torch_state(sd):
    import torch

    return {k: torch.from_numpy(np.array(v.numpy())) for k, v in sd.items()}


def test_state_dict_keys_shapes_and_dtypes_match_torch_twin(torch):
    ours = _Block.build(nn).state_dict()
    theirs = _Block.build(torch.nn).state_dict()
    assert list(ours) == list(theirs)
    for k in ours:
        assert tuple(ours[k].shape) == tuple(theirs[k].shape), k
        assert str(ours[k].dtype) == str(theirs[k].dtype).replace("torch.", ""), k
    assert ours["features.1.num_batches_tracked"].dtype == np.int64
    assert ours["features.1.num_batches_tracked"].shape == ()
    assert "cache" not in ours  # persistent=False


def test_weights_move_tinynet_to_torch_and_outputs_agree(torch):
    tinynet.manual_seed(0)
    tiny, ref = _Block.build(nn), _Block.build(torch.nn)
    result = ref.load_state_dict(_to_torch_state(tiny.state_dict()), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    tiny.eval()
    ref.eval()
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    ours = tiny(tinynet.tensor(x))
    with torch.no_grad():
        theirs = ref(torch.from_numpy(x))
    for a, b in zip(ours, theirs):
        # float32 sums of O(1) terms can cancel to small outputs: compare on the scale of the terms
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-5, atol=1e-5)


def test_weights_move_torch_to_tinynet_from_torch_tensors_and_numpy(torch):
    ref = _Block.build(torch.nn)
    with torch.no_grad():  # make the buffers non-trivial so that loading them is checked too
        for b in ref.buffers():
            if b.dtype == torch.float32:
                b.uniform_(0.5, 2.0)
            else:
                b.fill_(7)
    sd = ref.state_dict()
    for source in (sd, {k: v.numpy() for k, v in sd.items()}):
        tiny = _Block.build(nn)
        assert repr(tiny.load_state_dict(source)) == "<All keys matched successfully>"
        for k, v in tiny.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), sd[k].numpy(), err_msg=k)
            assert v.dtype == sd[k].numpy().dtype
    assert int(tiny.features[1].num_batches_tracked) == 7


def test_state_dict_values_are_detached_views_of_the_parameters():
    layer = nn.Linear(3, 2)
    sd = layer.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"].numpy()[0, 0] = 42.0
    assert layer.weight.data[0, 0] == 42.0
    assert layer.state_dict(keep_vars=True)["weight"] is layer.weight


def test_load_state_dict_lists_missing_unexpected_and_mismatched_keys_and_copies_nothing():
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = {k: np.full(v.shape, 5.0, dtype=np.float32) for k, v in before.items()}
    del bad["1.running_var"], bad["0.bias"]
    bad["0.weight"] = np.zeros((4, 3), dtype=np.float32)
    bad["2.weight"] = np.zeros(2, dtype=np.float32)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Sequential" in msg
    assert 'Missing key(s) in state_dict: "0.bias", "1.running_var"' in msg
    assert 'Unexpected key(s) in state_dict: "2.weight"' in msg
    assert "size mismatch for 0.weight: copying a param with shape (4, 3) from checkpoint" in msg
    for k, v in net.state_dict().items():  # nothing was copied
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_state_dict_non_strict_returns_the_keys_and_loads_the_rest():
    net = nn.Linear(3, 2)
    w = np.ones((2, 3), dtype=np.float32)
    result = net.load_state_dict({"weight": w, "other": w}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["other"]
    np.testing.assert_array_equal(net.weight.data, w)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        net.load_state_dict({"weight": np.ones((3, 3))}, strict=False)  # shapes are checked in both modes


def test_load_state_dict_rejects_values_that_are_not_arrays():
    with pytest.raises(RuntimeError, match='While copying the parameter named "weight".*str'):
        nn.Linear(2, 2).load_state_dict({"weight": "nope", "bias": np.zeros(2)})
    with pytest.raises(TypeError, match="dict-like"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_load_state_dict_casts_to_the_parameter_dtype():
    net = nn.Linear(2, 1)
    net.load_state_dict({"weight": np.array([[1.0, 2.0]], dtype=np.float64), "bias": np.array([3])})
    assert net.weight.dtype == np.float32 and net.bias.dtype == np.float32
    assert net.bias.data.tolist() == [3.0]


# --------------------------------------------------------------------------- traversal and modes
def test_named_parameters_buffers_and_modules_follow_torch_order(torch):
    tiny, ref = _Block.build(nn), _Block.build(torch.nn)
    assert [n for n, _ in tiny.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert [n for n, _ in tiny.named_buffers()] == [n for n, _ in ref.named_buffers()]
    assert [n for n, _ in tiny.named_modules()] == [n for n, _ in ref.named_modules()]
    assert [n for n, _ in tiny.named_children()] == [n for n, _ in ref.named_children()]
    assert [type(m).__name__ for m in tiny.modules()] == [type(m).__name__ for m in ref.modules()]


def test_shared_parameters_are_listed_once_but_saved_under_each_key(torch):
    shared = nn.Linear(2, 2)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    ref_shared = torch.nn.Linear(2, 2)
    ref = torch.nn.Sequential(ref_shared, torch.nn.ReLU(), ref_shared)
    assert len(list(net.parameters())) == len(list(ref.parameters())) == 2
    assert list(net.state_dict()) == list(ref.state_dict())


def test_repr_matches_torch_twin(torch):
    assert repr(_Block.build(nn)) == repr(_Block.build(torch.nn))


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.Sequential(lib.Linear(2, 3), lib.Sequential(lib.ReLU(), lib.Linear(3, 1))),
        lambda lib: lib.ModuleList([lib.ReLU(), lib.ReLU(), lib.Linear(1, 1), lib.ReLU()]),
        lambda lib: lib.ModuleList(),
        lambda lib: lib.Sequential(
            OrderedDict([("conv", lib.Identity()), ("act", lib.Softmax(dim=1)), ("out", lib.LogSoftmax(0))])
        ),
        lambda lib: lib.Sequential(lib.Flatten(), lib.Dropout2d(0.3), lib.Sigmoid(), lib.LeakyReLU(0.2, True)),
        lambda lib: lib.BatchNorm2d(4, momentum=None, affine=False),
        lambda lib: lib.CrossEntropyLoss(),
    ],
)
def test_layer_reprs_match_torch(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


def test_train_and_eval_reach_every_submodule_and_honour_overrides():
    calls = []

    class Custom(nn.Module):
        def train(self, mode=True):
            calls.append(mode)
            return super().train(mode)

    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(Custom(), nn.Dropout()))
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    assert calls == [False, True]
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_sets_none_or_zeros():
    net = nn.Linear(3, 2)
    net(tinynet.ones(1, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert net.weight.grad is not None and not net.weight.grad.data.any()
    net.zero_grad()
    assert net.weight.grad is None and net.bias.grad is None


def test_apply_visits_children_before_parents_like_torch(torch):
    order, ref_order = [], []
    _Block.build(nn).apply(lambda m: order.append(type(m).__name__))
    _Block.build(torch.nn).apply(lambda m: ref_order.append(type(m).__name__))
    assert order == ref_order


def test_double_casts_floating_parameters_and_buffers_but_not_counters():
    net = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = net[0].weight
    assert net.double() is net
    assert net[0].weight is weight and weight.dtype == np.float64
    assert net[1].running_mean.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64
    out = net(tinynet.randn(4, 2, dtype=tinynet.float64))
    assert out.dtype == np.float64
    net.to(tinynet.float32)
    assert weight.dtype == np.float32 and net[1].running_var.dtype == np.float32
    assert net.to("cpu") is net and net.cpu() is net
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")
    with pytest.raises(TypeError, match="floating point"):
        net.to(tinynet.int64)


def test_forward_hooks_see_inputs_and_can_replace_outputs():
    net = nn.Linear(2, 2)
    seen = []
    handle = net.register_forward_hook(lambda m, args, out: seen.append((args[0].shape, out.shape)))
    pre = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    y = net(tinynet.ones(3, 2))
    np.testing.assert_allclose(y.data, np.broadcast_to(net.bias.data, (3, 2)))
    assert seen == [((3, 2), (3, 2))]
    handle.remove()
    pre.remove()
    net(tinynet.ones(3, 2))
    assert len(seen) == 1


# --------------------------------------------------------------------------- registration
def test_register_buffer_persistence_and_errors():
    m = nn.Module()
    m.register_buffer("a", tinynet.zeros(2))
    m.register_buffer("b", tinynet.zeros(2), persistent=False)
    m.register_buffer("c", None)
    assert list(m.state_dict()) == ["a"]
    assert [n for n, _ in m.named_buffers()] == ["a", "b"]
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("train", tinynet.zeros(1))
    with pytest.raises(TypeError, match="a Tensor or None is required"):
        m.register_buffer("d", np.zeros(2))
    with pytest.raises(KeyError, match="without '.'"):
        m.register_buffer("x.y", tinynet.zeros(1))
    m.a = tinynet.ones(2)  # assigning a Tensor to a buffer name replaces the buffer
    assert m.state_dict()["a"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="buffer 'a'"):
        m.a = 3


def test_assignment_registers_and_reassignment_keeps_key_order():
    m = nn.Module()
    m.weight = nn.Parameter(tinynet.zeros(2))
    m.bias = nn.Parameter(tinynet.zeros(2))
    m.weight = nn.Parameter(tinynet.ones(2))
    assert list(m.state_dict()) == ["weight", "bias"]
    m.weight = None
    assert list(m.state_dict()) == ["bias"]
    with pytest.raises(TypeError, match="parameter 'weight'"):
        m.weight = tinynet.ones(2)
    with pytest.raises(AttributeError, match="super\\(\\).__init__"):

        class Broken(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(tinynet.zeros(1))

        Broken()


def test_get_submodule_walks_dotted_paths():
    net = nn.Sequential(nn.Sequential(nn.Linear(1, 1)))
    assert net.get_submodule("0.0") is net[0][0]
    assert net.get_submodule("") is net
    with pytest.raises(AttributeError, match="no submodule '3'"):
        net.get_submodule("0.3")


def test_parameter_shares_memory_and_requires_grad():
    arr = np.zeros(3, dtype=np.float32)
    p = nn.Parameter(tinynet.from_numpy(arr))
    assert p.requires_grad and p.data is arr
    assert not nn.Parameter(tinynet.zeros(1), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:")


# --------------------------------------------------------------------------- containers
def test_sequential_delete_insert_and_slice_renumber_like_torch(torch):
    def build(lib):
        return lib.Sequential(*[lib.Linear(2, 2) for _ in range(4)])

    tiny, ref = build(nn), build(torch.nn)
    for s in (tiny, ref):
        del s[1]
        s.insert(0, type(s[0])(2, 2))
        s.append(type(s[0])(2, 2))
        s.pop(-2)
    assert list(tiny.state_dict()) == list(ref.state_dict())
    assert list(tiny[1:].state_dict()) == list(ref[1:].state_dict())
    assert len(tiny + tiny) == 2 * len(tiny)
    with pytest.raises(IndexError, match="out of range"):
        tiny[10]


def test_modulelist_and_moduledict_operations_match_torch(torch):
    def build(lib):
        ml = lib.ModuleList([lib.Linear(1, 1) for _ in range(3)])
        del ml[0]
        ml.insert(1, lib.Linear(1, 2))
        ml += [lib.Linear(2, 2)]
        md = lib.ModuleDict([("x", lib.Linear(1, 1)), ("y", lib.Linear(1, 3))])
        md.update({"z": lib.Linear(3, 1)})
        md.pop("x")
        holder = lib.Module()
        holder.ml, holder.md = ml, md
        return holder

    tiny, ref = build(nn), build(torch.nn)
    assert list(tiny.state_dict()) == list(ref.state_dict())
    assert [tuple(v.shape) for v in tiny.state_dict().values()] == [tuple(v.shape) for v in ref.state_dict().values()]
    assert repr(tiny) == repr(ref)
    assert "z" in tiny.md and len(tiny.md) == 2
    with pytest.raises(NotImplementedError, match="container"):
        tiny.ml(tinynet.ones(1))


def test_identity_ignores_arguments_and_returns_its_input():
    x = tinynet.ones(2)
    assert nn.Identity(54, unused="x")(x) is x


def test_deepcopy_and_pickle_give_independent_modules():
    import copy
    import pickle

    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert type(clone[0].weight) is nn.Parameter and clone[0].weight is not net[0].weight
        assert list(clone.state_dict()) == list(net.state_dict())
        np.testing.assert_array_equal(clone[0].weight.data, net[0].weight.data)
        clone[0].weight.data[...] = 0  # a snapshot must not share memory with the live model
        assert net[0].weight.data.any()
