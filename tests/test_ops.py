"""Every op in the derivative table against finite differences, first and second order."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_tiny import REGISTRY, RULES, Value, engine
from autograd_tiny.gradcheck import check_grad
from autograd_tiny.testing import DOMAINS, OPS, arguments, expression_cases

ALL_OPS = sorted(name for name, op in REGISTRY.items() if op.builtin)


def test_every_built_in_op_has_a_domain_strategy_and_a_caller():
    assert set(ALL_OPS) >= set(RULES) - {n for n, op in REGISTRY.items() if not op.builtin}
    assert set(DOMAINS) >= set(ALL_OPS), "give the registry entry its domain="
    assert set(OPS) >= set(ALL_OPS)


def test_float_functions_cover_every_unary_call_op_and_agree_with_the_methods():
    unary = {op for op in ALL_OPS if REGISTRY[op].arity == 1}
    assert set(engine.FLOAT_FUNCTIONS) == unary - {"neg", "abs", "identity"}
    for op, function in engine.FLOAT_FUNCTIONS.items():
        for x in (-1.5, -0.0, 0.25, 2.0, 40.0):
            method = getattr(Value(x), op)().data
            expected = function(x)
            assert method == expected or (math.isnan(method) and math.isnan(expected)), (op, x)
            module = getattr(engine, op)(x)
            assert module == expected or (math.isnan(module) and math.isnan(expected)), (op, x)


def test_every_op_records_itself_as_one_node_named_by_its_table_key():
    x, y = Value(1.5), Value(0.5)
    for op in ALL_OPS:
        arity = len(DOMAINS[op])
        out = OPS[op](*(x, y)[:arity])
        assert out.op == op
        assert out.parents == (x, y)[:arity]


def _draw_args(data: st.DataObject, op: str) -> tuple[float, ...]:
    return data.draw(arguments(op), label=f"{op} inputs")


@pytest.mark.parametrize("op", ALL_OPS)
@given(data=st.data())
def test_op_grad_matches_finite_differences(op, data):
    args = _draw_args(data, op)
    assert check_grad(OPS[op], *args, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("op", ALL_OPS)
@settings(max_examples=50)
@given(data=st.data())
def test_op_second_derivative_matches_finite_differences(op, data):
    args = _draw_args(data, op)
    assert check_grad(OPS[op], *args, rtol=1e-4, atol=1e-6, order=2)


@given(x=st.floats(-5, 5).filter(lambda v: abs(v) > 0.01), n=st.integers(-3, 4))
def test_integer_power_of_negative_base_has_finite_gradient(x, n):
    base = Value(x)
    out = base**n
    out.backward()
    assert out.data == pytest.approx(x**n)
    assert base.grad == pytest.approx(n * x ** (n - 1))


@settings(max_examples=200)
@given(case=expression_cases())
def test_random_expression_dags_match_finite_differences(case):
    expression, args = case
    value = expression(*args)
    assume(math.isfinite(value) and abs(value) < 1e6)
    assert check_grad(expression, *args, rtol=1e-4, atol=1e-6)


@settings(max_examples=50)
@given(case=expression_cases(max_steps=5))
def test_random_expression_dags_second_derivatives_match(case):
    expression, args = case
    value = expression(*args)
    assume(math.isfinite(value) and abs(value) < 1e4)
    assert check_grad(expression, *args, rtol=1e-3, atol=1e-5, order=2)


@pytest.mark.parametrize("n, expected", [(0, 0.0), (1, 1.0), (2, 0.0), (3, 0.0)])
def test_integer_power_at_zero_has_the_exact_gradient(n, expected):
    x = Value(0.0)
    (x**n).backward()
    assert x.grad == expected


def test_polynomial_gradient_at_zero_is_its_linear_coefficient():
    x = Value(0.0)
    p = sum(c * x**i for i, c in enumerate([1.0, 2.0, 3.0]))
    p.backward()
    assert (p.data, x.grad) == (1.0, 2.0)


def test_negative_power_at_zero_is_infinite_not_nan():
    x = Value(0.0)
    (x**-1).backward()
    assert x.grad == -math.inf


def test_mixed_second_derivative_of_power_at_zero_exponent_is_one_over_x():
    from autograd_tiny import grad

    d_dx = lambda x, y: grad(lambda a: a**y)(x)
    assert grad(d_dx, argnums=1)(2.0, 0.0) == pytest.approx(0.5)
