"""fit uses the learning-rate schedules and gradient clipping of optim, as a torch loop would."""

from __future__ import annotations

import math

import pytest

from autograd_tiny.data import xor
from autograd_tiny.losses import binary_cross_entropy_with_logits
from autograd_tiny.nn import MLP
from autograd_tiny.optim import SGD, Adam, CosineAnnealingLR, StepLR, clip_grad_norm_
from autograd_tiny.train import fit


def test_fit_steps_the_schedule_once_per_epoch():
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.1)
    fit(
        model,
        *xor(),
        epochs=6,
        optimizer=opt,
        schedule=StepLR(opt, step_size=2, gamma=0.5),
        progress=False,
    )
    assert opt.lr == pytest.approx(0.1 * 0.5**3, rel=1e-15)


def test_fit_with_a_cosine_schedule_ends_at_its_minimum():
    model = MLP(2, [4, 1], seed=0)
    opt = Adam(model.parameters(), lr=0.05)
    fit(
        model,
        *xor(),
        epochs=10,
        optimizer=opt,
        schedule=CosineAnnealingLR(opt, T_max=10, eta_min=0.001),
        progress=False,
    )
    assert opt.lr == pytest.approx(0.001, rel=1e-12)


@pytest.mark.parametrize("compile", [True, False])
def test_fit_clips_gradient_values_before_each_step(compile):
    model = MLP(2, [4, 1], seed=0)
    before = [p.data for p in model.parameters()]
    fit(
        model,
        *xor(),
        epochs=3,
        batch_size=4,
        optimizer=SGD(model.parameters(), lr=0.1),
        clip_grad_value=1e-3,
        compile=compile,
        progress=False,
    )
    moved = [abs(p.data - b) for p, b in zip(model.parameters(), before)]
    assert max(moved) <= 3 * 0.1 * 1e-3 * (1 + 1e-12)  # 3 steps of at most lr * clip
    assert max(moved) == pytest.approx(3 * 0.1 * 1e-3)  # some gradient was clipped each time


def test_fit_with_clip_grad_norm_is_the_loop_written_out():
    X, y = xor()
    ours, written = MLP(2, [4, 1], seed=3), MLP(2, [4, 1], seed=3)
    fit(
        ours,
        X,
        y,
        epochs=5,
        batch_size=4,
        shuffle=False,
        compile=False,
        progress=False,
        optimizer=SGD(ours.parameters(), lr=0.5),
        clip_grad_norm=0.1,
    )
    opt = SGD(written.parameters(), lr=0.5)
    for _ in range(5):
        opt.zero_grad()
        binary_cross_entropy_with_logits([written(x) for x in X], y).backward()
        clip_grad_norm_(written.parameters(), 0.1)
        opt.step()
    assert [p.data for p in ours.parameters()] == [p.data for p in written.parameters()]


def test_a_step_that_fit_undoes_puts_back_the_state_of_the_optimizer_inside_the_clipping():
    model = MLP(2, [4, 1], seed=0)
    opt = Adam(model.parameters(), lr=1e300)  # after one step the outputs overflow
    with pytest.raises(FloatingPointError, match="epoch 2, batch 1"):
        fit(
            model,
            *xor(),
            epochs=2,
            batch_size=4,
            optimizer=opt,
            clip_grad_value=1.0,
            progress=False,
        )
    assert opt.t == 1  # as after the one whole step
    assert all(math.isfinite(x) for x in opt.m + opt.v)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"schedule": "other"}, "built on another optimizer"),
        ({"clip_grad_norm": 0.0}, "clip_grad_norm must be a number > 0"),
        ({"clip_grad_value": math.nan}, "clip_grad_value must be a number > 0"),
    ],
)
def test_fit_rejects_bad_schedule_and_clipping_before_training(kwargs, words):
    model = MLP(2, [4, 1], seed=0)
    before = [p.data for p in model.parameters()]
    opt = SGD(model.parameters(), lr=0.1)
    if kwargs.get("schedule") == "other":
        kwargs = {"schedule": StepLR(SGD(model.parameters(), lr=0.1), step_size=1)}
    with pytest.raises(ValueError, match=words):
        fit(model, *xor(), epochs=2, optimizer=opt, progress=False, **kwargs)
    assert [p.data for p in model.parameters()] == before


def test_fit_needs_the_optimizer_a_schedule_drives():
    model = MLP(2, [4, 1], seed=0)
    schedule = StepLR(SGD(model.parameters(), lr=0.1), step_size=1)
    with pytest.raises(ValueError, match="pass that optimizer too"):
        fit(model, *xor(), epochs=1, schedule=schedule, progress=False)


def test_a_non_finite_update_under_clipping_names_the_optimizers_learning_rate():
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(FloatingPointError, match=r"is the learning rate 1e\+308 too large"):
        fit(
            model,
            *xor(),
            epochs=5,
            optimizer=Adam(model.parameters(), lr=1e308),
            clip_grad_norm=1.0,
            progress=False,
        )


def test_a_non_finite_optimizer_state_under_clipping_is_named():
    model = MLP(2, [4, 1], seed=0)

    def huge(outputs, targets):  # finite loss, gradients near 1e200: Adam's v overflows
        return sum(outputs[1:], outputs[0]) * 1e200

    with pytest.raises(FloatingPointError, match=r"the optimizer's v\[0\] is inf"):
        fit(
            model,
            *xor(),
            epochs=2,
            loss=huge,
            optimizer=Adam(model.parameters(), lr=0.01),
            clip_grad_value=1e300,
            progress=False,
        )
