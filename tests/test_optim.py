"""Optimizers: PyTorch's update formulas, hence the same trajectories as torch.optim."""

from __future__ import annotations

import math

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.optim import SGD, Adam, AdamW, RMSprop


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2 + 0.1 * (x * y)


START = (-1.2, 1.0)


def trajectory(x, y, make, read, steps: int = 60) -> list[tuple[float, float]]:
    """(x, y) after each of ``steps`` optimiser steps on the Rosenbrock function."""
    opt = make([x, y])
    path = []
    for _ in range(steps):
        opt.zero_grad()
        rosenbrock(x, y).backward()
        opt.step()
        path.append((read(x), read(y)))
    return path


def our_trajectory(make, steps: int = 60) -> list[tuple[float, float]]:
    return trajectory(Value(START[0]), Value(START[1]), make, lambda v: v.data, steps)


def torch_trajectory(torch, make, steps: int = 60) -> list[tuple[float, float]]:
    x = torch.tensor(START[0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(START[1], dtype=torch.float64, requires_grad=True)
    return trajectory(x, y, make, lambda t: t.item(), steps)


def assert_same_path(ours, theirs):
    for (a, b), (c, d) in zip(ours, theirs):
        assert abs(a - c) <= 1e-9 * max(1.0, abs(c)), (a, c)
        assert abs(b - d) <= 1e-9 * max(1.0, abs(d)), (b, d)


SGD_CONFIGS = [
    {"lr": 1e-3},
    {"lr": 1e-3, "momentum": 0.9},
    {"lr": 5e-4, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 1e-3, "weight_decay": 0.01},
]
ADAM_CONFIGS = [
    {},
    {"lr": 0.05},
    {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6},
    {"lr": 0.01, "weight_decay": 0.1},
]

ADAMW_CONFIGS = [
    {},
    {"lr": 0.05},
    {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.0},
    {"lr": 0.01, "weight_decay": 0.5},
]
RMSPROP_CONFIGS = [
    {},
    {"lr": 1e-3},
    {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6},
    {"lr": 1e-3, "weight_decay": 0.1},
    {"lr": 1e-4, "momentum": 0.9},
    {"lr": 1e-3, "centered": True},
    {"lr": 1e-4, "alpha": 0.95, "momentum": 0.5, "centered": True, "weight_decay": 0.01},
]
# Every optimiser, its torch twin and the configurations both run the trajectory loop with.
TRAJECTORY_CASES = [
    (ours, theirs, config)
    for ours, theirs, configs in [
        (SGD, "SGD", SGD_CONFIGS),
        (Adam, "Adam", ADAM_CONFIGS),
        (AdamW, "AdamW", ADAMW_CONFIGS),
        (RMSprop, "RMSprop", RMSPROP_CONFIGS),
    ]
    for config in configs
]


@pytest.mark.parametrize(
    "ours, theirs, config", TRAJECTORY_CASES, ids=[f"{c[1]}-{c[2]}" for c in TRAJECTORY_CASES]
)
def test_trajectory_matches_torch(ours, theirs, config):
    torch = pytest.importorskip("torch")
    torch_optimizer = getattr(torch.optim, theirs)
    assert_same_path(
        our_trajectory(lambda p: ours(p, **config)),
        torch_trajectory(torch, lambda p: torch_optimizer(p, **config)),
    )


def test_sgd_step_by_hand():
    w = Value(2.0)
    opt = SGD([w], lr=0.1, momentum=0.5, weight_decay=0.5)
    w.grad = 1.0
    opt.step()  # d = 1 + 0.5 * 2 = 2; buffer 2; w = 2 - 0.2
    assert math.isclose(w.data, 1.8)
    opt.step()  # d = 1 + 0.9 = 1.9; buffer 0.5 * 2 + 1.9 = 2.9; w = 1.8 - 0.29
    assert math.isclose(w.data, 1.51)


def test_adam_first_step_moves_each_parameter_by_lr():
    # After one step m / sqrt(v) = sign(g): Adam moves every parameter by lr.
    a, b = Value(1.0), Value(-1.0)
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = 123.0, -0.001
    opt.step()
    assert math.isclose(a.data, 0.9, rel_tol=1e-6)
    assert math.isclose(b.data, -0.9, rel_tol=1e-4)


def test_adamw_first_step_decays_then_moves_by_lr():
    w = Value(2.0)
    opt = AdamW([w], lr=0.1, weight_decay=0.5, eps=0.0)
    w.grad = -4.0
    opt.step()  # 2 * (1 - 0.1 * 0.5) = 1.9; then Adam's first step moves it by lr: 2.0
    assert w.data == pytest.approx(2.0, rel=1e-12)


def test_adamw_decay_is_decoupled_from_the_gradient():
    # A zero gradient: AdamW still shrinks p by lr * wd, while Adam's L2 term becomes the
    # gradient itself, so Adam's first step moves p by lr.
    decoupled, coupled = Value(2.0), Value(2.0)
    adamw = AdamW([decoupled], lr=0.1, weight_decay=0.1)
    adam = Adam([coupled], lr=0.1, weight_decay=0.1, eps=0.0)
    adamw.step()
    adam.step()
    assert decoupled.data == pytest.approx(2.0 * (1 - 0.1 * 0.1), rel=1e-15)
    assert coupled.data == pytest.approx(1.9, rel=1e-12)
    assert adamw.m == [0.0] and adamw.v == [0.0]


def test_adamw_without_weight_decay_is_adam():
    a, b = Value(1.0), Value(1.0)
    adamw, adam = AdamW([a], lr=0.05, weight_decay=0.0), Adam([b], lr=0.05)
    for g in (3.0, -1.0, 0.5):
        a.grad = b.grad = g
        adamw.step()
        adam.step()
        assert a.data == b.data


def test_rmsprop_first_step_by_hand():
    w = Value(1.0)
    opt = RMSprop([w], lr=0.1, alpha=0.75)
    w.grad = 3.0
    opt.step()  # s = 0.25 * 9 = 2.25; w = 1 - 0.1 * 3 / (1.5 + 1e-8)
    assert w.data == pytest.approx(1 - 0.3 / (1.5 + 1e-8), rel=1e-15)
    assert opt.square_avg == [2.25]


def test_rmsprop_default_first_step_moves_by_ten_lr():
    # s = (1 - 0.99) g², so g / sqrt(s) = sign(g) / 0.1 whatever the gradient's size.
    a, b = Value(1.0), Value(1.0)
    opt = RMSprop([a, b])
    a.grad, b.grad = 250.0, -0.02
    opt.step()
    assert a.data == pytest.approx(1 - 0.1, rel=1e-9)
    assert b.data == pytest.approx(1 + 0.1, rel=1e-6)


def test_rmsprop_centered_divides_by_the_moving_standard_deviation():
    w = Value(1.0)
    opt = RMSprop([w], lr=0.1, alpha=0.75, centered=True, eps=0.0)
    w.grad = 3.0
    opt.step()  # s = 0.25 * 9, mean = 0.25 * 3: variance 2.25 - 0.5625 = 1.6875
    assert w.data == pytest.approx(1 - 0.1 * 3 / math.sqrt(1.6875), rel=1e-15)
    assert opt.grad_avg == [0.75]


def test_rmsprop_momentum_two_steps_by_hand():
    w = Value(1.0)
    opt = RMSprop([w], lr=0.1, alpha=0.75, momentum=0.5, eps=0.0)
    w.grad = 3.0
    opt.step()  # s = 2.25, scaled 3 / 1.5 = 2; buffer 2; w = 1 - 0.2
    assert w.data == pytest.approx(0.8, rel=1e-15)
    opt.step()  # s = 0.75 * 2.25 + 0.25 * 9 = 3.9375; buffer 0.5 * 2 + 3 / sqrt(3.9375)
    assert w.data == pytest.approx(0.8 - 0.1 * (1 + 3 / math.sqrt(3.9375)), rel=1e-15)


def test_rmsprop_weight_decay_adds_to_the_gradient():
    w = Value(2.0)
    opt = RMSprop([w], lr=0.1, alpha=0.75, weight_decay=0.5, eps=0.0)
    w.grad = 2.0
    opt.step()  # g = 2 + 0.5 * 2 = 3: the first step of test_rmsprop_first_step_by_hand
    assert w.data == pytest.approx(2.0 - 0.2, rel=1e-15)


def test_new_optimisers_have_torchs_defaults():
    opt = AdamW([Value(1.0)])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    opt = RMSprop([Value(1.0)])
    assert (opt.lr, opt.alpha, opt.eps, opt.weight_decay, opt.momentum, opt.centered) == (
        1e-2,
        0.99,
        1e-8,
        0.0,
        0.0,
        False,
    )


def test_new_optimisers_defaults_equal_torchs_signatures():
    torch = pytest.importorskip("torch")
    import inspect

    for ours, theirs in [(AdamW, torch.optim.AdamW), (RMSprop, torch.optim.RMSprop)]:
        our_defaults = {
            name: p.default
            for name, p in inspect.signature(ours).parameters.items()
            if p.default is not inspect.Parameter.empty
        }
        their_parameters = inspect.signature(theirs).parameters
        assert our_defaults, ours
        for name, default in our_defaults.items():
            assert default == their_parameters[name].default, (ours.__name__, name)


def test_zero_grad_resets_every_parameter():
    params = [Value(1.0), Value(2.0)]
    opt = Adam(params)
    for p in params:
        p.grad = 5.0
    opt.zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


def test_step_builds_no_graph():
    w = Value(1.0)
    opt = SGD([w], lr=0.1)
    w.grad = 1.0
    opt.step()
    assert w.parents == () and w.op == ""


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: SGD([Value(1.0)], lr=-1.0), ValueError, "lr"),
        (lambda: SGD([Value(1.0)], lr="0.1"), ValueError, "lr"),
        (lambda: SGD([], lr=0.1), ValueError, "empty"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "Values"),
        (lambda: SGD(Value(1.0), lr=0.1), TypeError, "single Value"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 1.0)), ValueError, "betas"),
        (lambda: Adam([Value(1.0)], betas=0.9), ValueError, "betas"),
        (lambda: Adam([Value(1.0)], eps=-1.0), ValueError, "eps"),
        (lambda: Adam([Value(1.0)], eps=math.nan), ValueError, "eps.*nan"),
        (lambda: Adam([Value(1.0)], lr=math.inf), ValueError, "lr.*inf"),
        (lambda: Adam([Value(1.0)], betas=(-0.1, 0.9)), ValueError, r"betas\[0\].*-0.1"),
        (lambda: Adam([Value(1.0)], betas=(0.9, math.nan)), ValueError, r"betas\[1\].*nan"),
        (lambda: Adam([Value(1.0)], weight_decay=-1e-3), ValueError, "weight_decay.*-0.001"),
        (lambda: SGD([Value(1.0)], lr=math.nan), ValueError, "lr.*nan"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum=-0.5), ValueError, "momentum.*-0.5"),
        (lambda: SGD([Value(1.0)], lr=0.1, weight_decay=math.inf), ValueError, "weight_decay.*inf"),
        (lambda: AdamW([Value(1.0)], lr=-1e-3), ValueError, r"AdamW: lr.*-0.001"),
        (lambda: AdamW([Value(1.0)], betas=(0.9, 1.5)), ValueError, r"AdamW: betas\[1\].*1.5"),
        (lambda: AdamW([Value(1.0)], betas=[0.9]), ValueError, r"AdamW: betas.*\[0.9\]"),
        (lambda: AdamW([Value(1.0)], eps=math.nan), ValueError, r"AdamW: eps.*nan"),
        (
            lambda: AdamW([Value(1.0)], weight_decay=-0.01),
            ValueError,
            r"AdamW: weight_decay.*-0.01",
        ),
        (lambda: AdamW([], lr=0.1), ValueError, "AdamW got an empty"),
        (lambda: RMSprop([Value(1.0)], lr=math.inf), ValueError, r"RMSprop: lr.*inf"),
        (
            lambda: RMSprop([Value(1.0)], alpha=1.0),
            ValueError,
            r"RMSprop: alpha.*\[0.0, 1.0\).*1.0",
        ),
        (lambda: RMSprop([Value(1.0)], alpha=-0.5), ValueError, r"RMSprop: alpha.*-0.5"),
        (lambda: RMSprop([Value(1.0)], eps=-1e-8), ValueError, r"RMSprop: eps.*-1e-08"),
        (lambda: RMSprop([Value(1.0)], momentum=math.nan), ValueError, r"RMSprop: momentum.*nan"),
        (lambda: RMSprop([Value(1.0)], weight_decay=-2), ValueError, r"RMSprop: weight_decay.*-2"),
        (lambda: RMSprop([Value(1.0)], centered="yes"), ValueError, r"RMSprop: centered.*'yes'"),
        (lambda: RMSprop([1.0]), TypeError, "RMSprop parameters must be Values"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_adam_with_eps_zero_gives_nan_on_a_zero_gradient_like_torch():
    w, u = Value(1.0), Value(2.0)
    opt = Adam([w, u], lr=0.1, eps=0.0)
    w.grad, u.grad = 0.0, 3.0
    opt.step()  # 0 / (sqrt(0) + 0) is nan as IEEE floats (and torch) have it
    assert math.isnan(w.data)
    assert u.data == pytest.approx(1.9, rel=1e-12)


def test_adam_with_eps_zero_matches_torch():
    torch = pytest.importorskip("torch")
    params = [
        torch.tensor(1.0, dtype=torch.float64, requires_grad=True),
        torch.tensor(2.0, dtype=torch.float64, requires_grad=True),
    ]
    opt = torch.optim.Adam(params, lr=0.1, eps=0.0)
    params[0].grad = torch.tensor(0.0, dtype=torch.float64)
    params[1].grad = torch.tensor(3.0, dtype=torch.float64)
    opt.step()
    w, u = Value(1.0), Value(2.0)
    ours = Adam([w, u], lr=0.1, eps=0.0)
    w.grad, u.grad = 0.0, 3.0
    ours.step()
    assert math.isnan(params[0].item()) and math.isnan(w.data)
    assert u.data == pytest.approx(params[1].item(), rel=1e-12)


@pytest.mark.parametrize(
    "make",
    [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps), lambda ps: AdamW(ps), lambda ps: RMSprop(ps)],
)
def test_a_parameter_listed_twice_is_rejected(make):
    w, u = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match=r"parameter 2 is the same Value as parameter 0"):
        make([w, u, w])
    assert (w.data, u.data) == (1.0, 2.0)
    make([Value(1.0), Value(1.0)])  # equal numbers in distinct Values are fine
