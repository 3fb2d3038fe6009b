"""tinynet.data: datasets, samplers, DataLoader collation and reproducible shuffling (torch as the oracle)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinynet
from tinynet.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _to_np(x):
    """Nested batch (tinynet or torch) -> nested numpy/python, for comparing structures."""
    if isinstance(x, tinynet.Tensor):
        return ("tensor", str(x.dtype), x.data)
    if hasattr(x, "numpy") and hasattr(x, "dtype"):
        return ("tensor", str(x.dtype).replace("torch.", ""), x.numpy())
    if isinstance(x, dict):
        return {k: _to_np(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return (type(x).__name__, [_to_np(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_to_np(v) for v in x])
    return x


def _same(a, b):
    if isinstance(a, tuple) and len(a) == 3 and a[0] == "tensor":
        assert b[0] == "tensor" and a[1] == b[1], (a[1], b[1])
        np.testing.assert_array_equal(a[2], b[2])
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, tuple):
        assert a[0] == b[0] and len(a[1]) == len(b[1]), (a, b)
        for x, y in zip(a[1], b[1]):
            _same(x, y)
    else:
        assert a == b


# ----------------------------------------------------------------------------- collation
Point = namedtuple("Point", "x y")


def _samples(kind: str, n: int, rng):
    if kind == "tuple":
        return [(rng.standard_normal((2, 3)).astype(np.float32), int(rng.integers(10))) for _ in range(n)]
    if kind == "dict":
        return [{"img": rng.standard_normal(4), "label": float(i), "name": f"s{i}", "ok": i % 2 == 0} for i in range(n)]
    if kind == "nested":
        return [{"pair": [np.int32(i), np.float32(i / 2)], "p": Point(i, 2.0 * i)} for i in range(n)]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["tuple", "dict", "nested"])
def test_default_collate_matches_torch_structure_dtypes_and_values(torch, kind, rng):
    from torch.utils.data import default_collate as torch_collate

    samples = _samples(kind, 5, rng)
    ours = default_collate(samples)
    theirs = torch_collate(samples)
    _same(_to_np(ours), _to_np(theirs))


def test_default_collate_stacks_tensors_and_arrays_along_a_new_first_dim(torch):
    samples = [(tinynet.ones(3, 2) * i, np.full((4,), i, dtype=np.int16)) for i in range(6)]
    x, y = default_collate(samples)
    assert x.shape == (6, 3, 2) and x.dtype == np.float32
    assert y.shape == (6, 4) and y.dtype == np.int16
    np.testing.assert_array_equal(x.data[:, 0, 0], np.arange(6, dtype=np.float32))


def test_default_collate_rejects_unequal_shapes_like_torch(torch):
    with pytest.raises(
        RuntimeError, match=r"stack expects each tensor to be equal size.*\(2,\) at entry 0 and \(3,\) at entry 1"
    ):
        default_collate([tinynet.zeros(2), tinynet.zeros(3)])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1, 2, 3]])


@pytest.mark.parametrize("bad", [None, object(), np.array(["a"])])
def test_default_collate_rejects_unsupported_elements(bad):
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([bad, bad])


# ----------------------------------------------------------------------------- DataLoader vs torch
@given(
    n=st.integers(1, 23),
    batch_size=st.integers(1, 9),
    drop_last=st.booleans(),
)
def test_dataloader_batch_shapes_and_len_match_torch(torch, n, batch_size, drop_last):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    ours = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got = list(ours)
    want = list(theirs)
    assert len(got) == len(want)
    for (gx, gy), (wx, wy) in zip(got, want):
        np.testing.assert_array_equal(gx.data, wx.numpy())
        np.testing.assert_array_equal(gy.data, wy.numpy())


def test_dataloader_without_batching_yields_converted_samples_like_torch(torch):
    data = [(np.full(2, i, dtype=np.float32), i) for i in range(4)]
    ours = list(DataLoader(data, batch_size=None))
    theirs = list(torch.utils.data.DataLoader(data, batch_size=None))
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs):
        _same(_to_np(a), _to_np(b))


def test_dataloader_with_batch_sampler_and_custom_collate():
    loader = DataLoader(list(range(10)), batch_sampler=[[0, 1, 2], [9], [4, 5]], collate_fn=lambda b: sum(b))
    assert list(loader) == [3, 9, 9]
    assert len(loader) == 3


def test_tensor_dataset_fast_path_equals_sample_by_sample_collation():
    """The loader fetches TensorDataset batches with one fancy index per tensor; the result must not differ."""
    x = tinynet.randn(13, 2, 3, requires_grad=True)
    ds = TensorDataset(x, np.arange(13, dtype=np.int16), tinynet.from_numpy(np.arange(13) % 2 == 0))
    subset = Subset(Subset(ds, list(range(12, -1, -1))), [0, 5, 2, 7, 1, 9, 3])
    for data in (ds, subset):
        fast = list(DataLoader(data, batch_size=4, shuffle=True, seed=3))
        slow = list(DataLoader(data, batch_size=4, shuffle=True, seed=3, collate_fn=lambda b: default_collate(b)))
        assert len(fast) == len(slow)
        for f, g in zip(fast, slow):
            _same(_to_np(f), _to_np(g))
            assert not f[0].requires_grad


def test_dataloader_uses_getitems_for_a_whole_batch():
    calls = []

    class Batched(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            raise AssertionError("the loader should fetch whole batches")

        def __getitems__(self, idx):
            calls.append(list(idx))
            return [float(i) for i in idx]

    out = [b.tolist() for b in DataLoader(Batched(), batch_size=4)]
    assert out == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]] and calls == [[0, 1, 2, 3], [4, 5]]


def test_dataloader_over_an_iterable_dataset_batches_the_stream():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle"):
        DataLoader(Stream(), shuffle=True)


# ----------------------------------------------------------------------------- shuffling
def _epoch(loader):
    return [y.tolist() for _, y in loader]


def _dataset(n=20):
    return TensorDataset(tinynet.zeros(n, 2), tinynet.arange(n))


def test_same_seed_gives_the_same_batches_and_epochs_differ():
    a = DataLoader(_dataset(), batch_size=4, shuffle=True, seed=7)
    b = DataLoader(_dataset(), batch_size=4, shuffle=True, generator=tinynet.Generator(7))
    epochs_a = [_epoch(a) for _ in range(3)]
    epochs_b = [_epoch(b) for _ in range(3)]
    assert epochs_a == epochs_b
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]
    for e in epochs_a:  # each epoch is a permutation of the dataset
        assert sorted(i for batch in e for i in batch) == list(range(20))
    assert _epoch(DataLoader(_dataset(), batch_size=4, shuffle=True, seed=8)) != epochs_a[0]


def test_shuffle_without_generator_follows_the_global_seed():
    loader = DataLoader(_dataset(), batch_size=5, shuffle=True)
    tinynet.manual_seed(3)
    first = [_epoch(loader), _epoch(loader)]
    tinynet.manual_seed(3)
    assert [_epoch(loader), _epoch(loader)] == first
    assert first[0] != first[1]


def test_unshuffled_loader_is_in_order():
    assert _epoch(DataLoader(_dataset(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]


def test_random_sampler_with_replacement_and_num_samples():
    s = RandomSampler(range(3), replacement=True, num_samples=50, generator=tinynet.Generator(0))
    draws = list(s)
    assert len(draws) == len(s) == 50 and set(draws) <= {0, 1, 2}
    longer = list(RandomSampler(range(4), num_samples=10, generator=tinynet.Generator(0)))
    assert len(longer) == 10 and sorted(longer[:4]) == [0, 1, 2, 3]


def test_dataloader_state_dict_resumes_mid_epoch_exactly():
    reference = DataLoader(_dataset(), batch_size=3, shuffle=True, seed=1)
    want = [_epoch(reference) for _ in range(2)]

    loader = DataLoader(_dataset(), batch_size=3, shuffle=True, seed=1)
    it = iter(loader)
    seen = [next(it)[1].tolist() for _ in range(4)]
    state = loader.state_dict()
    assert state["batches_yielded"] == 4

    fresh = DataLoader(_dataset(), batch_size=3, shuffle=True, seed=99)
    fresh.load_state_dict(state)
    rest = _epoch(fresh)
    assert seen + rest == want[0]
    assert _epoch(fresh) == want[1]


def test_breaking_out_of_an_epoch_starts_a_new_one_next_time():
    loader = DataLoader(_dataset(6), batch_size=2, shuffle=False)
    for _ in loader:
        break
    assert _epoch(loader) == [[0, 1], [2, 3], [4, 5]]


# ----------------------------------------------------------------------------- datasets and random_split
def test_tensor_dataset_rows_and_size_check():
    ds = TensorDataset(tinynet.arange(12).reshape(4, 3), np.arange(4.0))
    x, y = ds[2]
    assert x.tolist() == [6, 7, 8] and y.item() == 2.0 and len(ds) == 4
    with pytest.raises(ValueError, match=r"size mismatch between tensors: first dimensions \[4, 5\]"):
        TensorDataset(tinynet.zeros(4, 2), tinynet.zeros(5))
    with pytest.raises(TypeError, match="argument 1 must be a Tensor or numpy array, got list"):
        TensorDataset(tinynet.zeros(4), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()


def test_subset_and_concat_dataset():
    c = ConcatDataset([list("abc"), list("de")]) + list("f")
    assert len(c) == 6 and [c[i] for i in range(6)] == list("abcdef") and c[-1] == "f"
    s = Subset(c, [5, 0, 3])
    assert [s[i] for i in range(3)] == ["f", "a", "d"]


@given(n=st.integers(0, 60), fractions=st.lists(st.integers(1, 10), min_size=1, max_size=5))
def test_random_split_lengths_match_torch_for_fractions(torch, n, fractions):
    total = sum(fractions)
    fr = [f / total for f in fractions]
    fr[-1] = 1.0 - sum(fr[:-1])  # make the fractions sum to 1 in floating point, as users write them
    if not (abs(sum(fr) - 1) < 1e-12 and sum(fr) <= 1):
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = random_split(range(n), fr, generator=tinynet.Generator(0))
        theirs = torch.utils.data.random_split(range(n), fr, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(n))


def test_random_split_counts_are_reproducible_and_disjoint():
    a = random_split(range(10), [3, 7], generator=tinynet.Generator(5))
    b = random_split(range(10), [3, 7], generator=tinynet.Generator(5))
    assert [list(s) for s in a] == [list(s) for s in b]
    assert sorted(list(a[0]) + list(a[1])) == list(range(10))
    assert [list(s) for s in random_split(range(10), [3, 7], generator=tinynet.Generator(6))] != [list(s) for s in a]


@pytest.mark.parametrize(
    "lengths, error, match",
    [
        ([3, 3], ValueError, r"sum of input lengths \(6\) does not equal the length of the dataset \(10\)"),
        ([0.5, 1.2, -0.7], ValueError, "fraction at index 1 is 1.2, not between 0 and 1"),
        ([11, -1], ValueError, "entry 1 is -1"),
        ([], TypeError, "lengths must be a non-empty sequence"),
        (["a"], TypeError, "lengths must be a non-empty sequence"),
    ],
)
def test_random_split_bad_lengths(lengths, error, match):
    with pytest.raises(error, match=match):
        random_split(range(10), lengths)


def test_random_split_bad_generator():
    with pytest.raises(TypeError, match="generator must be a tinynet.Generator"):
        random_split(range(4), [2, 2], generator=3)


# ----------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, "batch_size should be a positive integer value"),
        ({"batch_size": 2.5}, ValueError, "batch_size should be a positive integer value"),
        ({"batch_size": True}, ValueError, "batch_size should be a positive integer value"),
        ({"shuffle": "yes"}, TypeError, "shuffle must be a bool"),
        ({"drop_last": 1}, TypeError, "drop_last must be a bool"),
        ({"num_workers": -1}, ValueError, "num_workers should be a non-negative int"),
        ({"timeout": -1}, ValueError, "timeout option should be non-negative"),
        ({"collate_fn": 3}, TypeError, "collate_fn must be callable"),
        (
            {"generator": 3},
            TypeError,
            r"generator must be a tinynet.Generator, got int \(for an integer seed use seed=...\)",
        ),
        ({"seed": -2}, ValueError, "seed must be a non-negative int"),
        ({"seed": 1, "generator": tinynet.Generator(1)}, ValueError, "either generator or seed, not both"),
        ({"sampler": [0, 1], "shuffle": True}, ValueError, "sampler option is mutually exclusive with shuffle"),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError, "batch_sampler option is mutually exclusive"),
        ({"batch_size": None, "drop_last": True}, ValueError, "batch_size=None option disables auto-batching"),
    ],
)
def test_dataloader_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        DataLoader(list(range(4)), **kwargs)


def test_dataloader_rejects_a_dataset_without_getitem():
    with pytest.raises(TypeError, match="dataset must be a map-style dataset .* got int"):
        DataLoader(5)


def test_sampler_bad_arguments():
    with pytest.raises(
        ValueError, match="BatchSampler: batch_size should be a positive integer value, got batch_size=0"
    ):
        BatchSampler(SequentialSampler(range(3)), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(SequentialSampler(range(3)), 2, "no")
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler([])


def test_dataloader_load_state_dict_errors():
    loader = DataLoader(list(range(4)), batch_size=2)
    with pytest.raises(TypeError, match="expected a dict from DataLoader.state_dict"):
        loader.load_state_dict([1, 2])
    state = DataLoader(list(range(4)), batch_size=2, shuffle=True, seed=0).state_dict()
    with pytest.raises(ValueError, match="this loader has no generator of its own"):
        loader.load_state_dict(state)
