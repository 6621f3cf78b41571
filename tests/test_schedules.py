"""Learning-rate schedules: the rates of torch.optim.lr_scheduler's StepLR and CosineAnnealingLR."""

from __future__ import annotations

import math

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.optim import SGD, Adam, CosineAnnealingLR, RMSprop, StepLR


def rates(schedule, epochs: int) -> list[float]:
    """The rate in force during each epoch 0, 1, ..., epochs - 1."""
    found = []
    for _ in range(epochs):
        found.append(schedule.optimizer.lr)
        schedule.step()
    return found


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    optimizer = SGD([Value(1.0)], lr=0.8)
    assert rates(StepLR(optimizer, step_size=3, gamma=0.5), 8) == [
        0.8,
        0.8,
        0.8,
        0.4,
        0.4,
        0.4,
        0.2,
        0.2,
    ]


def test_cosine_goes_from_the_base_rate_to_eta_min_in_t_max_epochs():
    optimizer = Adam([Value(1.0)], lr=0.5)
    found = rates(CosineAnnealingLR(optimizer, T_max=4, eta_min=0.1), 9)
    middle = 0.1 + 0.4 * (1 + math.cos(math.pi / 4)) / 2
    assert found == pytest.approx(
        [0.5, middle, 0.3, 0.6 - middle, 0.1, 0.6 - middle, 0.3, middle, 0.5], rel=1e-15
    )


def test_step_returns_the_new_rate_and_get_last_lr_reads_it():
    optimizer = RMSprop([Value(1.0)], lr=1.0)
    schedule = CosineAnnealingLR(optimizer, T_max=2)
    assert schedule.get_last_lr() == 1.0
    assert schedule.step() == pytest.approx(0.5, rel=1e-15)
    assert schedule.get_last_lr() == optimizer.lr == schedule.lr_at(1)
    assert schedule.last_epoch == 1


def test_the_schedule_changes_the_optimisers_steps():
    w = Value(0.0)
    optimizer = SGD([w], lr=1.0)
    schedule = StepLR(optimizer, step_size=1, gamma=0.5)
    for _ in range(3):
        w.grad = -1.0
        optimizer.step()
        schedule.step()
    assert w.data == 1.0 + 0.5 + 0.25


def test_a_large_gamma_overflows_to_inf_instead_of_raising():
    schedule = StepLR(SGD([Value(1.0)], lr=1.0), step_size=1, gamma=10.0)
    assert schedule.lr_at(400) == math.inf


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda o: StepLR(o, step_size=0), ValueError, r"StepLR: step_size.*positive int.*0"),
        (lambda o: StepLR(o, step_size=2.5), ValueError, r"StepLR: step_size.*2.5"),
        (lambda o: StepLR(o, step_size=2, gamma=-0.1), ValueError, r"StepLR: gamma.*-0.1"),
        (lambda o: StepLR(o, step_size=2, gamma=math.nan), ValueError, r"StepLR: gamma.*nan"),
        (lambda o: CosineAnnealingLR(o, T_max=-3), ValueError, r"CosineAnnealingLR: T_max.*-3"),
        (lambda o: CosineAnnealingLR(o, T_max=True), ValueError, r"T_max.*True"),
        (lambda o: CosineAnnealingLR(o, 10, eta_min=math.inf), ValueError, r"eta_min.*inf"),
        (lambda o: StepLR([o], step_size=1), TypeError, r"StepLR needs an optimizer.*got list"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(make, error, words):
    with pytest.raises(error, match=words):
        make(SGD([Value(1.0)], lr=0.1))


def torch_rates(torch, make, lr: float, epochs: int) -> list[float]:
    w = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    schedule = make(optimizer)
    found = []
    for _ in range(epochs):
        found.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    return found


@pytest.mark.parametrize(
    "name, arguments",
    [
        ("StepLR", {"step_size": 1}),
        ("StepLR", {"step_size": 4, "gamma": 0.7}),
        ("CosineAnnealingLR", {"T_max": 10}),
        ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.01}),
        ("CosineAnnealingLR", {"T_max": 1, "eta_min": 0.05}),
    ],
)
def test_rates_equal_torchs_over_several_periods(name, arguments):
    torch = pytest.importorskip("torch")
    ours = {"StepLR": StepLR, "CosineAnnealingLR": CosineAnnealingLR}[name]
    theirs = getattr(torch.optim.lr_scheduler, name)
    expected = torch_rates(torch, lambda o: theirs(o, **arguments), 0.3, 30)
    found = rates(ours(SGD([Value(1.0)], lr=0.3), **arguments), 30)
    assert found == pytest.approx(expected, rel=1e-12, abs=1e-15)
