"""grad, value_and_grad and hessian: results, argnums, any order, errors."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import autograd_tiny as at
from autograd_tiny import Value, grad, hessian, value_and_grad


def test_grad_returns_a_float():
    result = grad(lambda x: x * x)(3.0)
    assert type(result) is float and result == 6.0


def test_grad_accepts_ints_and_values():
    assert grad(lambda x: x * x)(3) == 6.0
    result = grad(lambda x: x * x)(Value(3.0))
    assert isinstance(result, Value) and result.data == 6.0


def test_grad_does_not_touch_dot_grad_of_value_arguments():
    x = Value(3.0)
    grad(lambda v: v * v)(x)
    assert x.grad == 0.0


def test_value_and_grad_returns_both():
    assert value_and_grad(lambda x: x**3)(2.0) == (8.0, 12.0)


def test_tuple_argnums_give_a_tuple_of_partials():
    f = lambda x, y, z: x * y + z * z
    assert grad(f, argnums=(0, 1, 2))(2.0, 3.0, 4.0) == (3.0, 2.0, 8.0)
    assert grad(f, argnums=(2,))(2.0, 3.0, 4.0) == (8.0,)
    assert grad(f, argnums=-1)(2.0, 3.0, 4.0) == 8.0


def test_second_and_third_derivatives():
    f = lambda x: x**4
    assert grad(grad(f))(2.0) == 48.0
    assert grad(grad(grad(f)))(2.0) == 48.0
    assert grad(grad(grad(grad(f))))(2.0) == 24.0


def test_higher_derivatives_of_transcendental_functions():
    assert grad(grad(at.sin))(0.3) == pytest.approx(-math.sin(0.3))
    assert grad(grad(grad(at.exp)))(0.7) == pytest.approx(math.exp(0.7))
    assert grad(grad(at.tanh))(0.5) == pytest.approx(
        -2 * math.tanh(0.5) * (1 - math.tanh(0.5) ** 2)
    )


def test_mixed_partials_through_argnums():
    f = lambda x, y: x * x * y * y * y
    d_dx_dy = grad(grad(f, argnums=0), argnums=1)(2.0, 3.0)
    d_dy_dx = grad(grad(f, argnums=1), argnums=0)(2.0, 3.0)
    assert d_dx_dy == d_dy_dx == 2 * 2.0 * 3 * 3.0**2


def test_hessian_of_a_quadratic_form():
    f = lambda x, y: 3 * x * x + 2 * x * y + y * y
    assert hessian(f, argnums=(0, 1))(1.0, -1.0) == [[6.0, 2.0], [2.0, 2.0]]
    assert hessian(f)(1.0, -1.0) == [[6.0]]
    assert hessian(f, argnums=1)(1.0, -1.0) == [[2.0]]


def test_inner_grad_closing_over_an_outer_variable_is_differentiated():
    # d/dx [x * d/dy (x * y)] = d/dx [x * x] = 2x; a float inner result would give x.
    outer = grad(lambda x: x * grad(lambda y: x * y)(2.0))
    assert outer(3.0) == 6.0


def test_constant_function_has_zero_gradient():
    assert grad(lambda x: 5.0)(1.0) == 0.0
    assert grad(lambda x, y: x * 2, argnums=1)(1.0, 2.0) == 0.0


def test_f_returning_a_non_scalar_is_a_clear_error():
    with pytest.raises(TypeError, match="scalar"):
        grad(lambda x: [x, x])(1.0)


@pytest.mark.parametrize("bad", ["0", 1.5, (), True])
def test_bad_argnums_is_a_clear_error(bad):
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda x: x, argnums=bad)


def test_argnums_out_of_range_names_the_function():
    def square(x):
        return x * x

    with pytest.raises(IndexError, match="square"):
        grad(square, argnums=1)(2.0)


@given(x=st.floats(-3, 3), y=st.floats(0.5, 3))
def test_grad_agrees_with_backward(x, y):
    f = lambda a, b: (a * b).sin() / b + a.exp()
    va, vb = Value(x), Value(y)
    f(va, vb).backward()
    assert grad(f, argnums=(0, 1))(x, y) == (va.grad, vb.grad)


def test_hessian_calls_f_once():
    calls = []

    def f(x, y, z):
        calls.append(1)
        return x * y * z + x.sin()

    rows = hessian(f, argnums=(0, 1, 2))(0.5, 2.0, 3.0)
    assert len(calls) == 1
    assert rows[0] == pytest.approx([-math.sin(0.5), 3.0, 2.0])
    assert rows[1] == pytest.approx([3.0, 0.0, 0.5])
    assert rows[2] == pytest.approx([2.0, 0.5, 0.0])


def test_hessian_inside_grad_stays_differentiable():
    # d/dx of the Hessian entry d2/dx2 (x**3) = 6x  ->  6
    assert grad(lambda x: hessian(lambda v: v**3)(x)[0][0])(2.0) == 6.0
