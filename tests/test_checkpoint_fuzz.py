"""Checkpoint fuzzing: forged, corrupt, foreign and pickle-bearing files and state dicts.

tests/test_io.py already checks every truncation, single flipped bytes, pickled object
arrays inside a valid archive, a plain pickle and a torch.save file. This file adds what
an attacker or a broken disk could craft beyond that, drawn by hypothesis:

* forged ``.npy`` headers (shapes that overflow, negative sizes, object, structured,
  complex and string dtypes), forged manifests (any JSON), forged zip directories
  (members that claim more bytes than they store, duplicate names), random bytes that
  start like a zip, and pickles of every protocol in every place a file can hold them,
  with a payload that would create a file if it ever ran;
* ``Module.load_state_dict`` with wrong shapes, object/str/complex arrays, non-array
  values, missing and extra keys, NaN and inf, and fractional values for integer
  buffers, each refused with an error naming the key and leaving every parameter
  untouched; ``load_checkpoint`` of a checkpoint that does not fit leaves model,
  optimizer, scheduler and random state untouched.

Every outcome is either a clear error (CheckpointError for files) or a correct load:
never another exception type, never a crash, never a run payload.
"""

from __future__ import annotations

import io
import json
import pickle
import re
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import tinynet
from tinynet import nn, optim
from tinynet.io import CheckpointError, load_checkpoint, save_checkpoint


# ---------------------------------------------------------------------------- building files by hand
class _Payload:
    """Unpickling this calls ``open(path, "w")``: a file appearing in the temp dir would prove code ran."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.fixture
def payload(tmp_path):
    """A pickled payload and a check that it never ran."""
    target = tmp_path / "payload-ran"
    blobs = [pickle.dumps(_Payload(str(target)), protocol=p) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
    yield blobs
    assert not target.exists(), "a pickle payload was executed"


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def _npy_header(header: dict, body: bytes = b"") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + body


def _manifest(tree) -> bytes:
    return _npy(np.array(json.dumps({"format": "tinynet", "version": 1, "tree": tree})))


def _zip(members: list[tuple[str, bytes]], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _load(data: bytes):
    return tinynet.load(io.BytesIO(data))


def _refused_or_loaded(data: bytes):
    """Load ``data``: a CheckpointError or a result, anything else fails the test."""
    try:
        return _load(data)
    except CheckpointError:
        return None


_DESCRS = ["<f4", ">f8", "<i8", "|b1", "|u1", "<c16", "<U3", "|S4", "|V8", "<M8[s]", "|O", [("a", "<f4"), ("b", "<i2")]]


# ---------------------------------------------------------------------------- forged arrays, manifests, zips
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    shape=st.lists(st.one_of(st.integers(-3, 6), st.sampled_from([2**31, 2**32, 2**62, 2**63 - 1])), max_size=4),
    descr=st.sampled_from(_DESCRS),
    fortran=st.booleans(),
    body=st.binary(max_size=64),
)
@example(shape=[0, 2**62], descr="<f4", fortran=False, body=b"")  # zero elements, but numpy cannot reshape to it
@example(shape=[2**32, 2**32], descr="<f4", fortran=False, body=b"")  # the element count overflows int64 to 0
def test_forged_npy_headers_are_refused_or_loaded_consistently(shape, descr, fortran, body):
    try:
        member = _npy_header({"descr": descr, "fortran_order": fortran, "shape": tuple(shape)}, body)
    except Exception:  # numpy itself will not write this header; nothing to test
        return
    out = _refused_or_loaded(_zip([("__tinynet__.npy", _manifest({"t": "tensor", "k": "w"})), ("w.npy", member)]))
    if out is not None:  # only a header that describes exactly the bytes present can load, as a numeric tensor
        assert isinstance(out, tinynet.Tensor) and out.dtype.kind in "fiub"
        assert out.shape == tuple(shape) and out.numpy().nbytes == len(body)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=12,
)
_entries = st.fixed_dictionaries(
    {
        "t": st.sampled_from(
            ["none", "str", "dict", "list", "tuple", "int", "float", "bool", "ndarray", "tensor", "param"]
        )
    },
    optional={"k": _json | st.just("w"), "v": _json, "items": _json, "rg": _json},
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(tree=st.one_of(_json, _entries, st.lists(_entries, max_size=3).map(lambda xs: {"t": "list", "items": xs})))
def test_forged_manifests_are_refused_or_decoded(tree):
    _refused_or_loaded(_zip([("__tinynet__.npy", _manifest(tree)), ("w.npy", _npy(np.ones(2, np.float32)))]))


def test_a_manifest_nested_past_the_recursion_limit_is_refused():
    deep = '{"t": "list", "items": [' * 5000 + '{"t": "none"}' + "]}" * 5000
    text = '{"format": "tinynet", "version": 1, "tree": ' + deep + "}"
    with pytest.raises(CheckpointError, match="manifest"):
        _load(_zip([("__tinynet__.npy", _npy(np.array(text)))]))


@settings(max_examples=40)
@given(st.binary(max_size=300))
def test_random_bytes_that_start_like_a_zip_are_refused(tail):
    with pytest.raises(CheckpointError):
        _load(b"PK\x03\x04" + tail)


def _good_archive() -> bytes:
    buf = io.BytesIO()
    tinynet.save({"w": np.arange(6, dtype=np.float32), "step": 3}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("claimed", [10**6, 2**31, 0xFFFFFFF0])
def test_a_member_claiming_more_bytes_than_it_stores_is_refused_before_allocating(claimed):
    raw = bytearray(_good_archive())
    central = raw.rfind(b"PK\x01\x02")  # the last central-directory entry
    struct.pack_into("<I", raw, central + 24, claimed)  # its uncompressed size
    with pytest.raises(CheckpointError, match=rf"claims {claimed} bytes but stores only"):
        _load(bytes(raw))


def test_deflated_archives_load_but_a_zip_bomb_ratio_is_refused():
    members = [("__tinynet__.npy", _manifest({"t": "ndarray", "k": "w"})), ("w.npy", _npy(np.zeros(1000, np.float32)))]
    np.testing.assert_array_equal(_load(_zip(members, zipfile.ZIP_DEFLATED)), np.zeros(1000, np.float32))
    raw = bytearray(_zip(members, zipfile.ZIP_DEFLATED))
    central = raw.rfind(b"PK\x01\x02")
    stored = struct.unpack_from("<I", raw, central + 20)[0]
    struct.pack_into("<I", raw, central + 24, stored * 5000)  # beyond what DEFLATE can expand to
    with pytest.raises(CheckpointError, match="claims .* bytes but stores only"):
        _load(bytes(raw))


def test_duplicate_member_names_are_refused():
    good = zipfile.ZipFile(io.BytesIO(_good_archive()))
    members = [(n, good.read(n)) for n in good.namelist()] + [("w.npy", _npy(np.zeros(6, np.float32)))]
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip(members)
    with pytest.raises(CheckpointError, match=r"holds several members named 'w.npy'"):
        _load(data)


# ---------------------------------------------------------------------------- pickles never run
def test_pickles_of_every_protocol_are_refused_without_running(payload):
    for blob in payload:
        with pytest.raises(CheckpointError, match="is a pickle|not an .npz"):
            _load(blob)


def test_pickles_hidden_inside_archives_are_refused_without_running(payload):
    manifest = ("__tinynet__.npy", _manifest({"t": "ndarray", "k": "w"}))
    for blob in payload:
        for members, match in (
            ([manifest, ("w.npy", blob)], "damaged .npy header"),  # a pickle where an array should be
            ([manifest, ("w.npy", _npy(np.ones(2))), ("archive/data.pkl", blob)], "PyTorch checkpoint"),
            ([manifest, ("w.npy", _npy(np.ones(2))), ("evil.pkl", blob)], "which is not an .npy array"),
            ([("__tinynet__.npy", blob)], "damaged .npy header"),
        ):
            with pytest.raises(CheckpointError, match=match):
                _load(_zip(members))


def test_an_object_array_whose_elements_are_payloads_is_refused_without_running(tmp_path, payload):
    evil = _npy(np.array([_Payload(str(tmp_path / "payload-ran")), 1], dtype=object))
    with pytest.raises(CheckpointError, match="holds pickled Python objects"):
        _load(_zip([("__tinynet__.npy", _manifest({"t": "ndarray", "k": "w"})), ("w.npy", evil)]))
    path = tmp_path / "evil.npz"
    path.write_bytes(_zip([("__tinynet__.npy", evil)]))
    with pytest.raises(CheckpointError, match="holds pickled Python objects"):
        load_checkpoint(path)


# ---------------------------------------------------------------------------- load_state_dict
def _model() -> nn.Module:
    tinynet.manual_seed(0)
    return nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))


def _snapshot(model: nn.Module) -> dict:
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


_KEYS = list(_model().state_dict())
_BAD_VALUES = {
    "wrong shape": lambda a: np.zeros(a.shape + (2,), a.dtype),
    "transposed": lambda a: np.ascontiguousarray(a.T) if a.ndim >= 2 and a.shape != a.T.shape else np.zeros(a.size + 1),
    "object array": lambda a: np.full(a.shape, None, dtype=object),
    "str array": lambda a: np.full(a.shape, "1.0"),
    "complex array": lambda a: np.ones(a.shape, np.complex64),
    "datetime array": lambda a: np.zeros(a.shape, "datetime64[s]"),
    "str": lambda a: "weights",
    "None": lambda a: None,
    "nested list": lambda a: np.atleast_1d(a).tolist(),  # a list even for a 0-d buffer (tolist() gives a number)
    "dict": lambda a: {"data": a},
    "set": lambda a: {1, 2},
    "NaN": lambda a: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a).astype(np.float32),
    "inf": lambda a: np.full(a.shape, -np.inf, np.float32),
}


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(_KEYS), how=st.sampled_from(sorted(_BAD_VALUES)))
def test_a_bad_value_is_refused_naming_its_key_and_nothing_is_copied(key, how):
    model = _model()
    donor = {k: v.detach().numpy() + 1 for k, v in _model().state_dict().items()}  # a valid, different state
    before = _snapshot(model)
    state = dict(donor)
    state[key] = _BAD_VALUES[how](donor[key])
    if how in ("NaN", "inf") and donor[key].dtype.kind != "f":
        state[key] = np.array(np.nan)  # the integer buffer (num_batches_tracked): a NaN where a count belongs
    with pytest.raises((RuntimeError, TypeError), match=rf'(for |named "){re.escape(key)}\b'):
        model.load_state_dict(state)
    after = _snapshot(model)
    assert all(np.array_equal(before[k], after[k]) for k in before), "a failed load_state_dict copied something"


@pytest.mark.parametrize("value", [1.5, np.array(2.5), np.array(1e30), np.array(-np.inf)])
def test_fractional_or_huge_values_for_an_integer_buffer_are_refused(value):
    model = _model()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    state["1.num_batches_tracked"] = value
    with pytest.raises(RuntimeError, match=r"1\.num_batches_tracked"):
        model.load_state_dict(state)


@settings(max_examples=25)
@given(
    drop=st.sets(st.sampled_from(_KEYS), max_size=3), extra=st.sets(st.text("abc.", min_size=1, max_size=5), max_size=3)
)
def test_missing_and_unexpected_keys_are_listed(drop, extra):
    model = _model()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items() if k not in drop}
    extra = {e for e in extra if e not in state}
    state.update({e: np.ones(2, np.float32) for e in extra})
    if not drop and not extra:
        model.load_state_dict(state)
        return
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert all(f'"{k}"' in message for k in drop | extra), message
    result = model.load_state_dict(state, strict=False)
    assert set(result.missing_keys) == drop and set(result.unexpected_keys) == extra


def test_a_state_dict_from_a_file_round_trips_and_a_damaged_one_is_refused(tmp_path):
    model = _model()
    path = tmp_path / "model.npz"
    tinynet.save(model.state_dict(), path)
    other = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    other.load_state_dict(tinynet.load(path))
    assert all(np.array_equal(a, b) for a, b in zip(_snapshot(model).values(), _snapshot(other).values()))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"model\.npz'? is (truncated or )?corrupt"):
        other.load_state_dict(tinynet.load(path))


# ---------------------------------------------------------------------------- load_checkpoint: all or nothing
def _run(width: int):
    tinynet.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, 2))
    opt = optim.Adam(model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, 2)
    for _ in range(3):
        opt.zero_grad()
        loss = (model(tinynet.randn(8, 4)) ** 2).mean()
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched


def _everything(model, opt, sched) -> list:
    states = [_snapshot(model), sched.state_dict(), tinynet.get_rng_state()]
    for s in opt.state.values():
        states.append({k: (v.numpy().copy() if isinstance(v, tinynet.Tensor) else v) for k, v in s.items()})
    return states


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


def test_a_checkpoint_of_another_model_changes_nothing(tmp_path):
    path = tmp_path / "ckpt.npz"
    save_checkpoint(path, model=_run(8)[0], epoch=3)
    model, opt, sched = _run(5)
    before = _everything(model, opt, sched)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        load_checkpoint(path, model=model, optimizer=None)
    assert all(_same(a, b) for a, b in zip(before, _everything(model, opt, sched)))


def test_an_optimizer_that_does_not_fit_rolls_back_the_model_already_loaded(tmp_path):
    path = tmp_path / "ckpt.npz"
    m, o, s = _run(8)
    save_checkpoint(path, model=m, optimizer=o, scheduler=s, epoch=3)
    model, opt, sched = _run(8)
    opt.add_param_group({"params": [nn.Parameter(tinynet.zeros(3))]})  # the optimizer no longer matches
    before = _everything(model, opt, sched)
    with pytest.raises(ValueError, match="parameter groups|param_groups|parameter group"):
        load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    assert all(_same(a, b) for a, b in zip(before, _everything(model, opt, sched)))


@settings(max_examples=20, deadline=None)
@given(cut=st.floats(0.0, 0.999), flip=st.integers(0, 255))
def test_damaged_training_checkpoints_on_disk_change_nothing(tmp_path_factory, cut, flip):
    path = tmp_path_factory.mktemp("ck") / "run.npz"
    m, o, s = _run(8)
    save_checkpoint(path, model=m, optimizer=o, scheduler=s, epoch=3)
    data = bytearray(path.read_bytes())
    at = int(cut * len(data))
    if flip:
        data[at] ^= flip
    else:
        del data[at:]
    path.write_bytes(bytes(data))
    model, opt, sched = _run(8)
    before = _everything(model, opt, sched)
    try:
        load_checkpoint(path, model=model, optimizer=opt, scheduler=sched)
    except CheckpointError:
        assert all(_same(a, b) for a, b in zip(before, _everything(model, opt, sched)))
