"""numerical_grad and check_grad, including proof that the checker catches wrong rules."""

from __future__ import annotations

import math

import pytest

import autograd_tiny.engine as engine
from autograd_tiny import Value
from autograd_tiny.gradcheck import GradientCheckError, check_grad, compare_grad, numerical_grad
from autograd_tiny.testing import OPS

# A point per op where every local partial is non-zero and distinct enough to tell apart.
POINTS = {
    "+": (1.5, -0.5), "-": (1.5, -0.5), "*": (1.5, -0.5), "/": (1.5, 2.5), "**": (1.5, 2.5),
    "neg": (1.5,), "abs": (-1.5,), "exp": (0.5,), "log": (1.5,), "log1p": (0.5,),
    "sqrt": (1.5,), "tanh": (0.5,), "sigmoid": (0.5,), "softplus": (0.5,), "relu": (1.5,),
    "leaky_relu": (-1.5, 0.2), "sin": (0.5,), "cos": (0.5,),
    "identity": (1.5,),
}

FAULTS = {
    "scaled": lambda partials: tuple(1.1 * p for p in partials),
    "sign-flipped": lambda partials: tuple(-p for p in partials),
    "swapped": lambda partials: tuple(reversed(partials)),
    "first partial dropped": lambda partials: (0.0,) + tuple(partials[1:]),
}


def test_every_op_has_a_fault_injection_point():
    assert set(POINTS) == set(engine.RULES)


def test_numerical_grad_of_a_product():
    assert numerical_grad(lambda x, y: x * y, 3.0, 4.0) == pytest.approx([4.0, 3.0])


def test_numerical_grad_steps_scale_with_large_arguments():
    (d,) = numerical_grad(lambda x: x * x, 1e8)
    assert d == pytest.approx(2e8, rel=1e-6)


def test_numerical_grad_rejects_a_non_positive_eps():
    with pytest.raises(ValueError, match="eps"):
        numerical_grad(lambda x: x, 1.0, eps=0.0)


def test_check_grad_passes_a_correct_function():
    assert check_grad(lambda x, y: (x * y).tanh() / (1 + y * y), 0.3, -1.2) is True


def test_check_grad_failure_is_a_table_naming_arguments_and_errors():
    with pytest.raises(GradientCheckError) as info:
        check_grad(lambda x, y: x * Value(y.data), 2.0, 5.0, names=["x", "y"])
    message = str(info.value)
    for word in ("argument", "analytic", "numeric", "abs error", "rel error", "mismatch"):
        assert word in message
    (y_row,) = [row for row in info.value.rows if row.argument == "y"]
    assert y_row.analytic == 0.0 and y_row.numeric == pytest.approx(2.0)
    assert "x " in message.splitlines()[2]


def test_check_grad_order_two_catches_a_rule_that_cuts_the_graph(monkeypatch):
    # Right on floats, so first order agrees; float() makes it a constant on Values,
    # so the second derivative loses its term.
    monkeypatch.setitem(engine.RULES, "tanh", lambda x, out: (1 - float(out) * float(out),))
    assert check_grad(lambda x: x.tanh(), 0.7)
    with pytest.raises(GradientCheckError, match="dx0 dx0"):
        check_grad(lambda x: x.tanh(), 0.7, order=2)


def test_check_grad_rejects_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        check_grad(lambda x: x, 1.0, order=3)
    with pytest.raises(ValueError, match="at least one"):
        check_grad(lambda: Value(1.0))


def _changes_partials(op: str, fault: str) -> bool:
    args = POINTS[op]
    right = engine.RULES[op](*args, OPS[op](*args))
    wrong = FAULTS[fault](right)
    return not all(math.isclose(a, b) for a, b in zip(right, wrong))


# Swapping a unary op's single partial, or +'s equal partials, changes nothing to catch.
INJECTIONS = [(op, fault) for op in sorted(POINTS) for fault in sorted(FAULTS)
              if _changes_partials(op, fault)]


def test_only_indistinguishable_faults_are_left_out():
    left_out = {(op, f) for op in POINTS for f in FAULTS} - set(INJECTIONS)
    assert all(f == "swapped" and (len(POINTS[op]) == 1 or op == "+") for op, f in left_out)
    assert len(INJECTIONS) >= 3 * len(POINTS)


@pytest.mark.parametrize("op, fault", INJECTIONS)
def test_check_grad_catches_an_injected_wrong_rule(op, fault, monkeypatch):
    args = POINTS[op]
    correct = engine.RULES[op]
    assert check_grad(OPS[op], *args)
    monkeypatch.setitem(engine.RULES, op, lambda *a: FAULTS[fault](correct(*a)))
    with pytest.raises(GradientCheckError):
        check_grad(OPS[op], *args)


def test_compare_grad_returns_first_then_second_order_rows():
    rows = compare_grad(lambda x, y: x * x * y, 3.0, 2.0, order=2, names=["x", "y"])
    assert [r.argument for r in rows] == ["x", "y", "dx dx", "dx dy", "dy dx", "dy dy"]
    assert [r.analytic for r in rows] == [12.0, 9.0, 4.0, 6.0, 6.0, 0.0]
    assert all(r.agrees(1e-5, 1e-6) for r in rows)


def test_gradient_checks_reject_strings_like_the_engine_does():
    with pytest.raises(TypeError, match="str"):
        check_grad(lambda x: x * x, "1")
    with pytest.raises(TypeError, match="str"):
        numerical_grad(lambda x: x * x, "1")


@pytest.mark.parametrize("name", ["rtol", "atol"])
def test_check_grad_rejects_a_negative_or_nan_tolerance(name):
    with pytest.raises(ValueError, match=name):
        check_grad(lambda x: x * x, 1.0, **{name: -1.0})
    with pytest.raises(ValueError, match=name):
        check_grad(lambda x: x * x, 1.0, **{name: float("nan")})
