"""Gradient clipping by norm and by value: torch.nn.utils's formulas, by hand and against torch."""

from __future__ import annotations

import math
import random

import pytest

from autograd_tiny.engine import Value
from autograd_tiny.optim import clip_grad_norm_, clip_grad_value_


def with_grads(*grads: float) -> list[Value]:
    params = [Value(1.0) for _ in grads]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def test_clip_grad_norm_scales_every_gradient_by_one_factor():
    params = with_grads(3.0, -4.0, 0.0)
    total = clip_grad_norm_(params, max_norm=2.5)
    assert total == 5.0
    factor = 2.5 / (5.0 + 1e-6)
    assert [p.grad for p in params] == [3.0 * factor, -4.0 * factor, 0.0]
    assert math.hypot(*(p.grad for p in params)) == pytest.approx(2.5, rel=1e-6)


def test_clip_grad_norm_leaves_small_gradients_alone():
    params = with_grads(0.3, -0.4)
    assert clip_grad_norm_(params, max_norm=1.0) == pytest.approx(0.5, rel=1e-15)
    assert [p.grad for p in params] == [0.3, -0.4]


@pytest.mark.parametrize(
    "norm_type, total",
    [
        (1, 7.0),
        (2.0, 5.0),
        (3, (27 + 64) ** (1 / 3)),
        (math.inf, 4.0),
        (0.5, (3**0.5 + 2) ** 2),
    ],
)
def test_clip_grad_norm_returns_the_p_norm(norm_type, total):
    params = with_grads(3.0, -4.0)
    assert clip_grad_norm_(params, max_norm=math.inf, norm_type=norm_type) == pytest.approx(
        total, rel=1e-15
    )
    assert [p.grad for p in params] == [3.0, -4.0]


def test_clip_grad_norm_does_not_touch_data_and_takes_a_single_value():
    w = Value(2.0)
    w.grad = -10.0
    assert clip_grad_norm_(w, 1.0) == 10.0
    assert w.data == 2.0 and w.grad == pytest.approx(-1.0, rel=1e-6)


def test_clip_grad_norm_of_no_parameters_is_zero():
    assert clip_grad_norm_([], 1.0) == 0.0


def test_a_nan_gradient_makes_every_gradient_nan_like_torch():
    params = with_grads(1.0, math.nan)
    assert math.isnan(clip_grad_norm_(params, 1.0))
    assert all(math.isnan(p.grad) for p in params)


def test_error_if_nonfinite_raises_and_changes_nothing():
    params = with_grads(1.0, math.inf)
    with pytest.raises(FloatingPointError, match=r"2.0-norm of the gradients is inf"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert [p.grad for p in params] == [1.0, math.inf]


def test_clip_grad_value_clamps_each_gradient_on_its_own():
    params = with_grads(3.0, -0.5, -7.0, 1.0, math.nan)
    assert clip_grad_value_(params, 1.0) is None
    assert [p.grad for p in params[:4]] == [1.0, -0.5, -1.0, 1.0]
    assert math.isnan(params[4].grad)
    assert [p.data for p in params] == [1.0] * 5


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: clip_grad_norm_(with_grads(1.0), -1.0), ValueError, r"max_norm.*-1.0"),
        (lambda: clip_grad_norm_(with_grads(1.0), math.nan), ValueError, r"max_norm.*nan"),
        (lambda: clip_grad_norm_(with_grads(1.0), "1"), ValueError, r"max_norm.*'1'"),
        (lambda: clip_grad_norm_(with_grads(1.0), 1.0, norm_type=0), ValueError, r"norm_type.*0"),
        (lambda: clip_grad_norm_(with_grads(1.0), 1.0, norm_type=-2), ValueError, r"norm_type.*-2"),
        (lambda: clip_grad_norm_([1.0], 1.0), TypeError, r"must be Values, got float"),
        (lambda: clip_grad_norm_(3.0, 1.0), TypeError, r"a Value or a list of Values, got float"),
        (lambda: clip_grad_value_(with_grads(1.0), -0.5), ValueError, r"clip_value.*-0.5"),
        (lambda: clip_grad_value_(with_grads(1.0), True), ValueError, r"clip_value.*True"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_a_parameter_listed_twice_is_rejected():
    w = Value(1.0)
    w.grad = 5.0
    with pytest.raises(ValueError, match="parameter 1 is the same Value as parameter 0"):
        clip_grad_norm_([w, w], 1.0)
    assert w.grad == 5.0


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.0, 0.5, 3.0, 100.0])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    torch = pytest.importorskip("torch")
    rng = random.Random(f"{norm_type}-{max_norm}")
    grads = [rng.gauss(0.0, 2.0) for _ in range(7)]
    ours = with_grads(*grads)
    theirs = [torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type).item()
    assert clip_grad_norm_(ours, max_norm, norm_type=norm_type) == pytest.approx(
        expected, rel=1e-12
    )
    for p, t in zip(ours, theirs):
        assert p.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-300)


def test_clip_grad_value_equals_torch():
    torch = pytest.importorskip("torch")
    grads = [3.0, -0.5, -7.0, 1.0, 0.999, -1.0]
    ours = with_grads(*grads)
    theirs = [torch.tensor(1.0, dtype=torch.float64, requires_grad=True) for _ in grads]
    for t, g in zip(theirs, grads):
        t.grad = torch.tensor(g, dtype=torch.float64)
    torch.nn.utils.clip_grad_value_(theirs, 0.75)
    clip_grad_value_(ours, 0.75)
    assert [p.grad for p in ours] == [t.grad.item() for t in theirs]
