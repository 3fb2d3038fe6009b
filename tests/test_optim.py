"""Optimizers and schedulers stepped side by side with torch.optim from the same parameters and gradients;
state_dict layout, round trips in both directions, and argument errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet
from tinynet import nn, optim
from tinynet.optim import lr_scheduler

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def _params(torch, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    ours = [nn.Parameter(tinynet.tensor(a)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    return ours, theirs


def _run_side_by_side(torch, make_ours, make_theirs, steps=6, seed=0, skip=None):
    """Step both optimizers with identical gradients; ``skip`` names a parameter left without a gradient."""
    ours, theirs = _params(torch, seed)
    opt, ref = make_ours(ours), make_theirs(theirs)
    arrays = [p.data for p in ours]
    rng = np.random.default_rng(seed + 1)
    for _ in range(steps):
        opt.zero_grad()
        ref.zero_grad()
        for i, (p, q) in enumerate(zip(ours, theirs)):
            if i == skip:
                continue
            g = rng.standard_normal(p.shape).astype(np.float32)
            p.grad, q.grad = tinynet.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
    for p, q, a in zip(ours, theirs, arrays):
        assert p.data is a and p.dtype == np.float32  # updated in place, still float32
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-5, atol=1e-6)
    return opt, ref, ours, theirs


@settings(max_examples=20)
@given(
    lr=st.sampled_from([0.01, 0.1, 0.5]),
    momentum=st.sampled_from([0.0, 0.5, 0.9]),
    dampening=st.sampled_from([0.0, 0.3]),
    nesterov=st.booleans(),
    weight_decay=st.sampled_from([0.0, 0.05]),
    maximize=st.booleans(),
)
def test_sgd_matches_torch(torch, lr, momentum, dampening, nesterov, weight_decay, maximize):
    if nesterov and (momentum == 0 or dampening != 0):
        nesterov = False
    kw = dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay)
    _run_side_by_side(
        torch,
        lambda p: optim.SGD(p, **kw, maximize=maximize),
        lambda p: torch.optim.SGD(p, **kw, maximize=maximize),
        skip=1,
    )


@settings(max_examples=20)
@given(
    cls=st.sampled_from(["Adam", "AdamW"]),
    lr=st.sampled_from([1e-3, 0.05]),
    betas=st.sampled_from([(0.9, 0.999), (0.5, 0.9), (0.0, 0.99)]),
    eps=st.sampled_from([1e-8, 1e-3]),
    weight_decay=st.sampled_from([0.0, 0.1]),
    amsgrad=st.booleans(),
    maximize=st.booleans(),
)
def test_adam_and_adamw_match_torch(torch, cls, lr, betas, eps, weight_decay, amsgrad, maximize):
    kw = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize)
    _run_side_by_side(
        torch, lambda p: getattr(optim, cls)(p, **kw), lambda p: getattr(torch.optim, cls)(p, **kw), skip=2
    )


def test_param_groups_with_their_own_options_match_torch(torch):
    def groups(params):
        return [{"params": params[:2], "lr": 0.1}, {"params": params[2:], "lr": 0.01, "momentum": 0.5}]

    _run_side_by_side(
        torch,
        lambda p: optim.SGD(groups(p), lr=1.0, momentum=0.9),
        lambda p: torch.optim.SGD(groups(p), lr=1.0, momentum=0.9),
    )


def test_adam_decoupled_weight_decay_flag_equals_adamw(torch):
    _run_side_by_side(
        torch,
        lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
    )


def _is_plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and _is_plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    return isinstance(value, (np.ndarray, bool, int, float, str))


@pytest.mark.parametrize(
    "name,kwargs",
    [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.01, "amsgrad": True}), ("AdamW", {"lr": 0.01})],
)
def test_state_dict_has_torchs_layout_and_moves_both_ways(torch, name, kwargs):
    opt, ref, ours, theirs = _run_side_by_side(
        torch, lambda p: getattr(optim, name)(p, **kwargs), lambda p: getattr(torch.optim, name)(p, **kwargs), steps=3
    )
    sd, rsd = opt.state_dict(), ref.state_dict()
    assert _is_plain(sd)
    assert list(sd["state"]) == list(rsd["state"]) == [0, 1, 2]
    assert sd["param_groups"][0]["params"] == rsd["param_groups"][0]["params"]
    for i in sd["state"]:
        assert set(sd["state"][i]) == set(rsd["state"][i])
        for k, v in sd["state"][i].items():
            np.testing.assert_allclose(np.asarray(v), rsd["state"][i][k].numpy(), rtol=1e-5, atol=1e-7)
    common = {k for k in rsd["param_groups"][0] if k in sd["param_groups"][0]}
    assert common >= {"lr", "weight_decay"}
    for k in common - {"params", "betas"}:
        assert sd["param_groups"][0][k] == rsd["param_groups"][0][k], k

    # tinynet -> torch: a fresh torch optimizer continues exactly like ours
    rng = np.random.default_rng(9)
    fresh_ref_params = [torch.nn.Parameter(torch.tensor(p.data.copy())) for p in ours]
    fresh_ref = getattr(torch.optim, name)(fresh_ref_params, **kwargs)
    fresh_ref.load_state_dict(
        {
            "state": {i: {k: torch.tensor(np.asarray(v)) for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": sd["param_groups"],
        }
    )
    # torch -> tinynet: a fresh tinynet optimizer loads torch's state_dict directly
    fresh_params = [nn.Parameter(tinynet.tensor(q.detach().numpy().copy())) for q in theirs]
    fresh = getattr(optim, name)(fresh_params, **kwargs)
    fresh.load_state_dict(rsd)
    for _ in range(3):
        for p, q, r in zip(fresh_params, fresh_ref_params, theirs):
            g = rng.standard_normal(p.shape).astype(np.float32)
            p.grad, q.grad, r.grad = tinynet.tensor(g), torch.tensor(g), torch.tensor(g)
        fresh.step()
        fresh_ref.step()
        ref.step()
    for p, q, r in zip(fresh_params, fresh_ref_params, theirs):
        np.testing.assert_allclose(p.data, r.detach().numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(q.detach().numpy(), r.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_state_dict_survives_a_checkpoint_round_trip(tmp_path):
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    for _ in range(2):
        opt.zero_grad()
        model(tinynet.ones(4, 3)).sum().backward()
        opt.step()
    tinynet.save(opt.state_dict(), tmp_path / "opt.npz")
    other = optim.Adam(nn.Linear(3, 2).parameters(), lr=0.5, amsgrad=True)
    other.load_state_dict(tinynet.load(tmp_path / "opt.npz"))
    assert other.param_groups[0]["lr"] == 0.01 and other.param_groups[0]["betas"] == (0.9, 0.999)
    p, q = opt.param_groups[0]["params"][0], other.param_groups[0]["params"][0]
    assert other.state[q]["step"] == 2
    np.testing.assert_array_equal(other.state[q]["exp_avg"].data, opt.state[p]["exp_avg"].data)
    assert other.state[q]["exp_avg"].data is not opt.state[p]["exp_avg"].data


def test_load_state_dict_errors():
    opt = optim.SGD(nn.Linear(3, 2).parameters(), lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": sd["param_groups"] * 2})
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict({"state": {}, "param_groups": [{**sd["param_groups"][0], "params": [0]}]})
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' of parameter 0 has shape \(5,\)"):
        opt.load_state_dict({"state": {0: {"momentum_buffer": np.zeros(5)}}, "param_groups": sd["param_groups"]})
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        opt.load_state_dict({"state": {}, "param_groups": [{**sd["param_groups"][0], "lr": -1}]})


def test_zero_grad_and_skipping_parameters_without_gradients():
    a, b = nn.Parameter(tinynet.ones(2)), nn.Parameter(tinynet.ones(2))
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9)
    (a * 3).sum().backward()
    opt.step()
    assert a.data.tolist() == [-0.5, -0.5] and b.data.tolist() == [1.0, 1.0]
    assert b not in opt.state  # no gradient, no state
    opt.zero_grad(set_to_none=False)
    assert a.grad.data.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_step_with_closure_returns_the_loss():
    w = nn.Parameter(tinynet.tensor([2.0]))
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 4.0
    assert w.data.tolist() == [1.0]


def test_optimizer_argument_errors():
    params = list(nn.Linear(2, 2).parameters())
    cases = [
        (lambda: optim.SGD(params, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
        (lambda: optim.SGD(params, momentum=-1), ValueError, "Invalid momentum value: -1"),
        (lambda: optim.SGD(params, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
        (lambda: optim.SGD(params, nesterov=True), ValueError, "Nesterov momentum requires a momentum"),
        (lambda: optim.SGD(params, momentum=0.9, dampening=0.1, nesterov=True), ValueError, "zero dampening"),
        (lambda: optim.SGD(params, lr="fast"), TypeError, "expected a number"),
        (lambda: optim.Adam(params, betas=(1.0, 0.999)), ValueError, "Invalid beta parameter at index 0: 1.0"),
        (lambda: optim.Adam(params, betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
        (lambda: optim.Adam(params, betas=0.9), ValueError, "Invalid betas"),
        (lambda: optim.Adam(params, eps=-1e-8), ValueError, "Invalid epsilon value"),
        (lambda: optim.AdamW(params, lr=-1), ValueError, "Invalid learning rate"),
        (lambda: optim.SGD([], lr=0.1), ValueError, "empty parameter list"),
        (lambda: optim.SGD(params[0], lr=0.1), TypeError, "iterable of Tensors or dicts"),
        (lambda: optim.SGD([np.zeros(2)], lr=0.1), TypeError, "can only optimize Tensors"),
        (lambda: optim.SGD([params[0] * 2], lr=0.1), ValueError, "non-leaf"),
        (lambda: optim.SGD({params[0]}, lr=0.1), TypeError, "ordered collections"),
        (lambda: optim.SGD([{"params": params}, {"params": params[:1]}]), ValueError, "more than one parameter group"),
        (lambda: optim.SGD([{"params": params, "lr": -2.0}]), ValueError, "Invalid learning rate: -2.0"),
    ]
    for make, exc, match in cases:
        with pytest.raises(exc, match=match):
            make()


def test_optimizer_repr_lists_each_group():
    text = repr(optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in text


# --------------------------------------------------------------------------- schedulers
def _lr_sequences(torch, make_ours, make_theirs, steps, opt_name="SGD", **opt_kwargs):
    ours = getattr(optim, opt_name)([nn.Parameter(tinynet.zeros(1))], **opt_kwargs)
    theirs = getattr(torch.optim, opt_name)([torch.nn.Parameter(torch.zeros(1))], **opt_kwargs)
    s, r = make_ours(ours), make_theirs(theirs)
    seq, ref = [], []
    for _ in range(steps):
        ours.step()
        theirs.step()
        g, rg = ours.param_groups[0], theirs.param_groups[0]
        seq.append((s.get_last_lr()[0], g.get("momentum"), g.get("betas")))
        ref.append((r.get_last_lr()[0], rg.get("momentum"), rg.get("betas")))
        s.step()
        r.step()
    return seq, ref


@pytest.mark.parametrize("step_size,gamma", [(1, 0.5), (3, 0.1), (7, 0.9)])
def test_steplr_matches_torch(torch, step_size, gamma):
    seq, ref = _lr_sequences(
        torch,
        lambda o: lr_scheduler.StepLR(o, step_size, gamma),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma),
        steps=20,
        lr=0.3,
    )
    assert seq == ref


@pytest.mark.parametrize("T_max,eta_min", [(5, 0.0), (10, 0.01), (3, 0.05)])
def test_cosine_annealing_matches_torch_exactly_including_past_t_max(torch, T_max, eta_min):
    seq, ref = _lr_sequences(
        torch,
        lambda o: lr_scheduler.CosineAnnealingLR(o, T_max, eta_min),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max, eta_min),
        steps=3 * T_max + 2,
        lr=0.2,
    )
    assert seq == ref  # the same recursive formula, so the same floats


@settings(max_examples=15)
@given(
    total=st.integers(5, 40),
    pct=st.sampled_from([0.1, 0.3, 0.5]),
    anneal=st.sampled_from(["cos", "linear"]),
    three_phase=st.booleans(),
    opt_name=st.sampled_from(["SGD", "Adam"]),
    cycle=st.booleans(),
    div=st.sampled_from([(25.0, 1e4), (10.0, 100.0)]),
)
def test_onecycle_matches_torch_lr_and_momentum(torch, total, pct, anneal, three_phase, opt_name, cycle, div):
    if pct * total <= 1:  # an empty warm-up phase (PyTorch divides by zero; tested below)
        total = int(1 / pct) + 2
    kw = dict(
        max_lr=0.5, total_steps=total, pct_start=pct, anneal_strategy=anneal, three_phase=three_phase,
        cycle_momentum=cycle, div_factor=div[0], final_div_factor=div[1],
    )  # fmt: skip
    opt_kwargs = {"lr": 0.1, "momentum": 0.9} if opt_name == "SGD" else {"lr": 0.1}
    seq, ref = _lr_sequences(
        torch,
        lambda o: lr_scheduler.OneCycleLR(o, **kw),
        lambda o: torch.optim.lr_scheduler.OneCycleLR(o, **kw),
        steps=total,
        opt_name=opt_name,
        **opt_kwargs,
    )
    assert seq == ref


def test_onecycle_with_epochs_and_per_group_max_lr_matches_torch(torch):
    ours = optim.SGD(
        [{"params": [nn.Parameter(tinynet.zeros(1))]}, {"params": [nn.Parameter(tinynet.zeros(1))]}],
        lr=0.1,
        momentum=0.9,
    )
    theirs = torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.zeros(1))]}, {"params": [torch.nn.Parameter(torch.zeros(1))]}],
        lr=0.1,
        momentum=0.9,
    )
    s = lr_scheduler.OneCycleLR(ours, max_lr=[1.0, 0.1], epochs=3, steps_per_epoch=4, base_momentum=[0.8, 0.7])
    r = torch.optim.lr_scheduler.OneCycleLR(
        theirs, max_lr=[1.0, 0.1], epochs=3, steps_per_epoch=4, base_momentum=[0.8, 0.7]
    )
    for _ in range(12):
        ours.step()
        theirs.step()
        assert s.get_last_lr() == r.get_last_lr()
        assert [g["momentum"] for g in ours.param_groups] == [g["momentum"] for g in theirs.param_groups]
        s.step()
        r.step()
    with pytest.raises(ValueError, match="Tried to step 13 times. The specified number of total steps is 12"):
        s.step()


@pytest.mark.parametrize(
    "make",
    [
        lambda o: lr_scheduler.StepLR(o, 3, 0.5),
        lambda o: lr_scheduler.CosineAnnealingLR(o, 7, 0.001),
        lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=20, three_phase=True),
    ],
)
def test_scheduler_resume_from_state_dict_continues_identically(tmp_path, make):
    def run(opt, sched, n):
        out = []
        for _ in range(n):
            opt.step()
            sched.step()
            out.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
        return out

    opt = optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1, momentum=0.9)
    sched = make(opt)
    full = run(opt, sched, 15)

    opt = optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1, momentum=0.9)
    sched = make(opt)
    first = run(opt, sched, 6)
    tinynet.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "ck.npz")
    ck = tinynet.load(tmp_path / "ck.npz")
    opt2 = optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1, momentum=0.9)
    sched2 = make(opt2)
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    assert first + run(opt2, sched2, 9) == full


def test_scheduler_state_dict_keys_match_torch(torch):
    for make in (
        lambda lib, o: lib.StepLR(o, 3),
        lambda lib, o: lib.CosineAnnealingLR(o, 5),
        lambda lib, o: lib.OneCycleLR(o, max_lr=1.0, total_steps=10),
    ):
        ours = make(lr_scheduler, optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1, momentum=0.9)).state_dict()
        theirs = make(
            torch.optim.lr_scheduler, torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
        ).state_dict()
        assert set(ours) == set(theirs) - {"_get_lr_called_within_step"}
        for k in ours:
            assert ours[k] == theirs[k], k


def test_scheduler_warns_when_stepped_before_the_optimizer():
    opt = optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1)
    sched = lr_scheduler.StepLR(opt, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
    opt2 = optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1)
    sched2 = lr_scheduler.StepLR(opt2, 2)
    opt2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched2.step()


def test_scheduler_argument_errors():
    opt = optim.SGD([nn.Parameter(tinynet.zeros(1))], lr=0.1)
    cases = [
        (lambda: lr_scheduler.StepLR("opt", 2), TypeError, "str is not an Optimizer"),
        (lambda: lr_scheduler.StepLR(opt, 0), ValueError, "step_size must be a positive int"),
        (lambda: lr_scheduler.CosineAnnealingLR(opt, 0), ValueError, "T_max must be a positive int"),
        (lambda: lr_scheduler.OneCycleLR(opt, 1.0), ValueError, "total_steps OR \\(epochs AND steps_per_epoch\\)"),
        (lambda: lr_scheduler.OneCycleLR(opt, 1.0, total_steps=0), ValueError, "positive integer total_steps"),
        (lambda: lr_scheduler.OneCycleLR(opt, 1.0, 10, pct_start=1.5), ValueError, "pct_start"),
        (lambda: lr_scheduler.OneCycleLR(opt, 1.0, 10, anneal_strategy="exp"), ValueError, "'cos' or 'linear'"),
        (lambda: lr_scheduler.OneCycleLR(opt, 1.0, 10, pct_start=0.1), ValueError, "phase 0 of the schedule is empty"),
        (lambda: lr_scheduler.OneCycleLR(opt, 1.0, 10, pct_start=1.0), ValueError, "phase 1 of the schedule is empty"),
        (lambda: lr_scheduler.OneCycleLR(opt, [1.0, 2.0], 10), ValueError, "max_lr must have the same length"),
        (lambda: lr_scheduler.StepLR(opt, 2, last_epoch=3), KeyError, "initial_lr"),
    ]
    for make, exc, match in cases:
        with pytest.raises(exc, match=match):
            make()


def test_onecycle_needs_momentum_or_betas_to_cycle():
    class Plain(optim.Optimizer):
        def step(self, closure=None):
            pass

    opt = Plain([nn.Parameter(tinynet.zeros(1))], {"lr": 0.1})
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(opt, 1.0, 10)
    lr_scheduler.OneCycleLR(opt, 1.0, 10, cycle_momentum=False)
