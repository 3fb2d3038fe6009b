"""tinynet.save / tinynet.load and the resume helpers: round trips, refusals, atomic writes, bit-identical resume."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet
from tinynet import nn
from tinynet.data import DataLoader, TensorDataset
from tinynet.io import CheckpointError, load_checkpoint, save_checkpoint


# ----------------------------------------------------------------------------- helpers
def _assert_same(a, b, where="obj"):
    """Equal values with equal types (Tensor vs ndarray, tuple vs list, int vs float, dtypes)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, tinynet.Tensor):
        a, b = a.data, b.data
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            _assert_same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}.{i}")
    elif isinstance(a, float):
        assert (a == b) or (a != a and b != b), where
    else:
        assert a == b, where


def _roundtrip(obj):
    buffer = io.BytesIO()
    tinynet.save(obj, buffer)
    buffer.seek(0)
    return tinynet.load(buffer)


_dtypes = st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_, np.float16, np.complex64])


def _arrays(dtypes):
    return st.builds(
        lambda shape, dtype, seed: np.asarray((np.random.default_rng(seed).normal(size=shape) * 3).astype(dtype)),
        st.lists(st.integers(0, 3), max_size=3).map(tuple),
        dtypes,
        st.integers(0, 2**16),
    )


_leaves = st.one_of(
    _arrays(_dtypes),
    _arrays(st.sampled_from([np.float32, np.float64, np.int64, np.uint8, np.bool_])).map(tinynet.from_numpy),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.sampled_from([np.float32(1.5), np.int16(-3), np.bool_(True)]),
)
_keys = st.one_of(
    st.text("abcxyz_ABC0123-", min_size=1, max_size=4).filter(lambda k: not k.isdigit()), st.integers(0, 5)
)
_trees = st.recursive(
    _leaves,
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(_keys, kids, max_size=3),
    ),
    max_leaves=10,
)


def _good_checkpoint_bytes() -> bytes:
    buffer = io.BytesIO()
    tinynet.save(
        {"model": {"fc.weight": tinynet.ones(3, 2), "fc.bias": tinynet.zeros(3)}, "epoch": 2, "name": "run"}, buffer
    )
    return buffer.getvalue()


_GOOD = _good_checkpoint_bytes()


def _load_bytes(data: bytes):
    return tinynet.load(io.BytesIO(data))


# ----------------------------------------------------------------------------- round trips
@given(_trees)
def test_save_load_round_trips_any_tree_with_its_types(tree):
    _assert_same(tree, _roundtrip(tree))


def test_state_dict_round_trip_loads_into_a_module(tmp_path):
    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tinynet.randn(3, 2))
            self.bias = nn.Parameter(tinynet.randn(3))
            self.register_buffer("num_batches_tracked", tinynet.tensor(7))

    src, dst = Affine(), Affine()
    path = tmp_path / "affine.npz"
    tinynet.save(src.state_dict(), path)
    loaded = tinynet.load(path)
    assert all(isinstance(v, tinynet.Tensor) and not v.requires_grad for v in loaded.values())
    dst.load_state_dict(loaded)
    for k, v in src.state_dict().items():
        np.testing.assert_array_equal(dst.state_dict()[k].data, v.data)
        assert dst.state_dict()[k].dtype == v.dtype


def test_state_dict_moves_to_torch_through_the_file(torch, tmp_path):
    class Lin(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(tinynet.randn(4, 3))
            self.bias = nn.Parameter(tinynet.randn(4))

    ours = Lin()
    tinynet.save(ours.state_dict(), tmp_path / "lin.npz")
    theirs = torch.nn.Linear(3, 4)
    state = {k: torch.from_numpy(v.numpy()) for k, v in tinynet.load(tmp_path / "lin.npz").items()}
    theirs.load_state_dict(state, strict=True)
    np.testing.assert_array_equal(theirs.weight.detach().numpy(), ours.weight.data)


def test_file_is_a_plain_npz_of_dotted_names(tmp_path):
    path = tmp_path / "c.npz"
    tinynet.save({"model": {"enc.0.weight": tinynet.ones(2)}, "opt": {"state": {0: {"step": 5}}}, "lr": 0.1}, path)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["__tinynet__", "lr", "model.enc.0.weight", "opt.state.0.step"]
        assert z["opt.state.0.step"].item() == 5 and z["lr"].dtype == np.float64


def test_parameters_stay_parameters_and_generator_states_survive():
    g = tinynet.Generator(3)
    g.random(5)
    out = _roundtrip({"p": nn.Parameter(tinynet.ones(2)), "g": g.get_state()})
    assert isinstance(out["p"], nn.Parameter) and out["p"].requires_grad
    g2 = tinynet.Generator(0)
    g2.set_state(out["g"])
    np.testing.assert_array_equal(g2.random(4), g.random(4))


# ----------------------------------------------------------------------------- what save refuses
@pytest.mark.parametrize(
    "obj, error, match",
    [
        ({"a": {1, 2}}, TypeError, "cannot store a set at a; checkpoints hold"),
        ({"f": len}, TypeError, "cannot store a builtin_function_or_method at f"),
        ([np.array([None], dtype=object)], TypeError, "the array at 0 has dtype object"),
        ({(1, 2): 3}, TypeError, r"dict keys must be str or int, got tuple key \(1, 2\)"),
        ({True: 3}, TypeError, "dict keys must be str or int, got bool"),
        ({"a.b": 1, "a": {"b": 2}}, ValueError, "two entries flatten to the same name 'a.b'"),
        ({"__tinynet__": 1}, ValueError, "two entries flatten to the same name '__tinynet__'"),
    ],
)
def test_save_refuses_what_would_need_pickling_or_is_ambiguous(obj, error, match, tmp_path):
    with pytest.raises(error, match=match):
        tinynet.save(obj, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []  # nothing half-written is left behind


def test_save_to_a_missing_directory_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="directory .*nope.* does not exist"):
        tinynet.save({"a": 1}, tmp_path / "nope" / "x.npz")


# ----------------------------------------------------------------------------- atomic writes
def test_interrupted_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    tinynet.save({"w": tinynet.ones(3)}, path)
    before = path.read_bytes()

    import tinynet.io as tio

    real = tio._write_npz

    def crash(f, arrays):
        real(f, arrays)  # the bytes are written ...
        raise KeyboardInterrupt  # ... and the process is interrupted before the rename

    monkeypatch.setattr(tio, "_write_npz", crash)
    with pytest.raises(KeyboardInterrupt):
        tinynet.save({"w": tinynet.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]


def test_new_files_get_normal_permissions_and_overwrites_keep_them(tmp_path):
    path = tmp_path / "m.npz"
    tinynet.save({"a": 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    os.chmod(path, 0o640)
    tinynet.save({"a": 2}, path)
    assert path.stat().st_mode & 0o777 == 0o640 and tinynet.load(path) == {"a": 2}


# ----------------------------------------------------------------------------- what load refuses
def test_missing_file_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="tinynet.load: no such file: .*absent.npz"):
        tinynet.load(tmp_path / "absent.npz")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        tinynet.load(tmp_path)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p.write_bytes(b""), r"is empty \(0 bytes\)"),
        (lambda p: p.write_text("epoch,loss\n1,0.5\n"), r"not an .npz \(zip\) archive \(it starts with b'epoch,lo'\)"),
        (lambda p: np.save(open(p, "wb"), np.arange(3)), "is a single .npy array"),
        (lambda p: np.savez(open(p, "wb"), weight=np.ones(2)), "plain .npz without tinynet's '__tinynet__' manifest"),
        (lambda p: p.write_bytes(pickle.dumps({"a": 1})), "is a pickle .*never unpickles"),
        (lambda p: zipfile.ZipFile(p, "w").writestr("notes.txt", "hi"), "contains 'notes.txt', which is not an .npy"),
        (
            lambda p: np.savez(open(p, "wb"), __tinynet__=np.array('{"format": "tinynet", "version": 99, "tree": {}}')),
            "written by a newer tinynet",
        ),
        (lambda p: np.savez(open(p, "wb"), __tinynet__=np.array("{not json")), "manifest is not valid JSON"),
        (lambda p: np.savez(open(p, "wb"), __tinynet__=np.array("[1]")), "its manifest is not tinynet's"),
    ],
)
def test_foreign_and_damaged_files_raise_errors_naming_the_path(tmp_path, make, match):
    path = tmp_path / "thing.bin"
    make(path)
    with pytest.raises(CheckpointError, match=match) as info:
        tinynet.load(path)
    assert str(path) in str(info.value)


def test_torch_save_files_are_refused_without_unpickling(torch, tmp_path):
    path = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match=r"PyTorch checkpoint \(torch.save\).*weights_only=True"):
        tinynet.load(path)


def test_manifest_and_arrays_must_agree():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, zipfile.ZipFile(io.BytesIO(_GOOD)) as good:
        for name in good.namelist():
            if name != "epoch.npy":
                zf.writestr(name, good.read(name))
        zf.writestr("extra.npy", _npy(np.ones(2)))
    with pytest.raises(CheckpointError, match="lists the array 'epoch', which is missing"):
        _load_bytes(buffer.getvalue())


def _npy(array) -> bytes:
    b = io.BytesIO()
    np.lib.format.write_array(b, array, allow_pickle=True)
    return b.getvalue()


@settings(max_examples=60)
@given(st.integers(0, len(_GOOD) - 1))
def test_every_truncation_is_refused(cut):
    with pytest.raises(CheckpointError, match="truncated or corrupt|is empty"):
        _load_bytes(_GOOD[:cut])


@settings(max_examples=150)
@given(st.integers(0, len(_GOOD) - 1), st.integers(1, 255))
def test_a_corrupted_byte_is_refused_or_harmless(position, xor):
    """A flipped byte either raises CheckpointError or hits bytes zip ignores (timestamps, ...): never garbage."""
    damaged = bytearray(_GOOD)
    damaged[position] ^= xor
    try:
        out = _load_bytes(bytes(damaged))
    except CheckpointError:
        return
    _assert_same(_load_bytes(_GOOD), out)


_EXPLOSIONS = []


def _explode(*args):
    _EXPLOSIONS.append(args)
    return "pwned"


class _Payload:
    def __reduce__(self):
        return (_explode, ("code ran",))


@settings(max_examples=20)
@given(tree=_trees, name=st.text("abcdef._", min_size=1, max_size=6), replace=st.booleans())
def test_files_holding_pickled_objects_are_refused_and_nothing_runs(tree, name, replace):
    """A valid checkpoint plus an object array (whose unpickling would run code) is refused."""
    buffer = io.BytesIO()
    tinynet.save({"tree": tree}, buffer)
    evil = _npy(np.array([_Payload(), 1], dtype=object))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(out, "w") as dst:
        members = src.namelist()
        victim = members[0] if replace else None
        for m in members:
            dst.writestr(m, evil if m == victim else src.read(m))
        if victim is None:
            dst.writestr(name + ".npy", evil)
    with pytest.raises(CheckpointError, match="holds pickled Python objects .* never unpickles"):
        _load_bytes(out.getvalue())
    assert _EXPLOSIONS == []


def test_a_plain_pickle_payload_never_runs(tmp_path):
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(CheckpointError, match="is a pickle"):
        tinynet.load(path)
    assert _EXPLOSIONS == []


# ----------------------------------------------------------------------------- resuming training
class _Net(nn.Module):
    """Dropout draws from the global generator in training, so the RNG state is part of what must resume."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 8)
        self.drop = nn.Dropout(0.3)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc2(self.bn(self.drop(self.fc1(x).relu())))


def _optimizer(kind, model):
    if kind == "sgd":
        opt = tinynet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)
        return opt, tinynet.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt = tinynet.optim.Adam(model.parameters(), lr=0.01)
    return opt, tinynet.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=3)


def _setup(seed, kind="sgd"):
    tinynet.manual_seed(seed)
    data = TensorDataset(tinynet.randn(22, 3), tinynet.randn(22, 2))
    model = _Net()
    opt, sched = _optimizer(kind, model)
    return data, model, opt, sched, DataLoader(data, batch_size=4, shuffle=True, seed=seed + 1)


def _train(model, opt, sched, loader, epochs, losses, stop_at=None, start_epoch=0):
    """Train; with stop_at=(epoch, batch) return right after that batch (mid-epoch)."""
    for epoch in range(start_epoch, epochs):
        for b, (x, y) in enumerate(loader):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if stop_at == (epoch, b):
                return epoch
        sched.step()
    return epochs


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_resume_mid_epoch_is_bit_identical(tmp_path, kind):
    data, model, opt, sched, loader = _setup(0, kind)
    reference = []
    _train(model, opt, sched, loader, 3, reference)
    want = {k: v.data.copy() for k, v in model.state_dict().items()}

    data, model, opt, sched, loader = _setup(0, kind)
    first = []
    epoch = _train(model, opt, sched, loader, 3, first, stop_at=(1, 2))
    save_checkpoint(tmp_path / "run.ckpt", model=model, optimizer=opt, scheduler=sched, epoch=epoch, dataloader=loader)

    _, model2, opt2, sched2, loader2 = _setup(123, kind)  # a different process: other weights, other RNG states
    loader2 = DataLoader(data, batch_size=4, shuffle=True, seed=77)
    ckpt = load_checkpoint(tmp_path / "run.ckpt", model=model2, optimizer=opt2, scheduler=sched2, dataloader=loader2)
    rest = []
    # Finish the interrupted epoch (the loader continues where it stopped), then the remaining ones.
    for x, y in loader2:
        opt2.zero_grad()
        loss = ((model2(x) - y) ** 2).mean()
        loss.backward()
        opt2.step()
        rest.append(loss.item())
    sched2.step()
    _train(model2, opt2, sched2, loader2, 3, rest, start_epoch=ckpt["epoch"] + 1)

    assert first + rest == reference
    for k, v in model2.state_dict().items():
        assert np.array_equal(v.data, want[k]), k


def test_resume_at_an_epoch_boundary_is_bit_identical_and_needs_the_rng(tmp_path):
    def run(restore_rng):
        data, model, opt, sched, loader = _setup(5)
        reference = []
        _train(model, opt, sched, loader, 2, reference)
        data, model, opt, sched, loader = _setup(5)
        before = []
        _train(model, opt, sched, loader, 1, before)
        save_checkpoint(tmp_path / "e.ckpt", model=model, optimizer=opt, scheduler=sched, epoch=0, dataloader=loader)
        _, model, opt, sched, loader = _setup(9)
        loader = DataLoader(data, batch_size=4, shuffle=True, seed=1)
        ckpt = load_checkpoint(
            tmp_path / "e.ckpt", model=model, optimizer=opt, scheduler=sched, dataloader=loader, restore_rng=restore_rng
        )
        after = []
        _train(model, opt, sched, loader, 2, after, start_epoch=ckpt["epoch"] + 1)
        return reference, before + after

    reference, resumed = run(restore_rng=True)
    assert resumed == reference
    reference, without_rng = run(restore_rng=False)
    assert without_rng[: len(reference) // 2] == reference[: len(reference) // 2]
    assert without_rng != reference  # the global generator's state is what made the difference


def test_checkpoint_with_a_global_generator_loader_resumes_too(tmp_path):
    tinynet.manual_seed(0)
    loader = DataLoader(list(range(10)), batch_size=3, shuffle=True)  # shuffles with the global generator
    epochs = [[b.tolist() for b in loader] for _ in range(2)]
    tinynet.manual_seed(0)
    it = iter(loader)
    head = [next(it).tolist()]
    save_checkpoint(tmp_path / "g.ckpt", dataloader={"train": loader})
    tinynet.manual_seed(42)
    other = DataLoader(list(range(10)), batch_size=3, shuffle=True)
    load_checkpoint(tmp_path / "g.ckpt", dataloader={"train": other})
    assert head + [b.tolist() for b in other] == epochs[0]
    assert [b.tolist() for b in other] == epochs[1]


def test_load_checkpoint_errors(tmp_path):
    tinynet.save({"w": tinynet.ones(2)}, tmp_path / "plain.npz")
    with pytest.raises(CheckpointError, match="not written by tinynet.io.save_checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    net = _Net()
    save_checkpoint(tmp_path / "m.ckpt", model=net, epoch=1)
    with pytest.raises(CheckpointError, match="holds no optimizer state, but a optimizer was passed"):
        load_checkpoint(tmp_path / "m.ckpt", model=net, optimizer=tinynet.optim.SGD(net.parameters(), lr=0.1))
    with pytest.raises(CheckpointError, match=r"no state for dataloader\(s\) \['dataloader'\]"):
        load_checkpoint(tmp_path / "m.ckpt", dataloader=DataLoader([1, 2]))
    with pytest.raises(TypeError, match="epoch must be an int or None"):
        save_checkpoint(tmp_path / "x.ckpt", epoch=1.5)
    with pytest.raises(TypeError, match="model must have a state_dict"):
        save_checkpoint(tmp_path / "x.ckpt", model=object())


def test_load_checkpoint_strict_reports_key_mismatch(tmp_path):
    net = _Net()
    save_checkpoint(tmp_path / "m.ckpt", model=net)

    other = nn.Sequential()
    other.fc1 = nn.Linear(3, 8)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        load_checkpoint(tmp_path / "m.ckpt", model=other)
    load_checkpoint(tmp_path / "m.ckpt", model=other, strict=False)
    np.testing.assert_array_equal(other.fc1.weight.data, net.fc1.weight.data)
