"""Optimizers: PyTorch's update formulas, hence the same trajectories as torch.optim."""

from __future__ import annotations

import math

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.optim import SGD, Adam


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


@pytest.mark.parametrize("config", SGD_CONFIGS)
def test_sgd_trajectory_matches_torch(config):
    torch = pytest.importorskip("torch")
    assert_same_path(our_trajectory(lambda p: SGD(p, **config)),
                     torch_trajectory(torch, lambda p: torch.optim.SGD(p, **config)))


@pytest.mark.parametrize("config", ADAM_CONFIGS)
def test_adam_trajectory_matches_torch(config):
    torch = pytest.importorskip("torch")
    assert_same_path(our_trajectory(lambda p: Adam(p, **config)),
                     torch_trajectory(torch, lambda p: torch.optim.Adam(p, **config)))


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


@pytest.mark.parametrize("make, error, words", [
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
])
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
    params = [torch.tensor(1.0, dtype=torch.float64, requires_grad=True),
              torch.tensor(2.0, dtype=torch.float64, requires_grad=True)]
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


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_a_parameter_listed_twice_is_rejected(make):
    w, u = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match=r"parameter 2 is the same Value as parameter 0"):
        make([w, u, w])
    assert (w.data, u.data) == (1.0, 2.0)
    make([Value(1.0), Value(1.0)])  # equal numbers in distinct Values are fine
