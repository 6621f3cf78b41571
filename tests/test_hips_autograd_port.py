"""The scalar parts of HIPS autograd's own test suite, ported to this engine.

Each test names the HIPS test it follows (github.com/HIPS/autograd, tests/...). The
checks are re-written for scalars: HIPS's ``check_grads`` (reverse mode, orders 1 and 2)
becomes this project's ``check_grad(..., order=2)``; its array cases are left out.
"""

from __future__ import annotations

import functools
import math
import random

import pytest

import autograd_tiny as at
from autograd_tiny import check_grad, grad, hessian, hvp, jvp, value_and_grad

RNG = random.Random(1)


def finite_difference(f, x, eps=1e-4):
    return (f(x + eps / 2) - f(x - eps / 2)) / eps


def check_binary(f):
    """As HIPS tests/test_core.py ``check_binary_func``: both partials at (0.7, 1.8)."""
    x, y = 0.7, 1.8
    assert grad(f)(x, y) == pytest.approx(finite_difference(lambda a: f(a, y), x), abs=1e-4)
    assert grad(f, 1)(x, y) == pytest.approx(finite_difference(lambda b: f(x, b), y), abs=1e-4)


@pytest.mark.parametrize(
    "name, f",
    [
        ("add", lambda x, y: x + y),
        ("sub", lambda x, y: x - y),
        ("mul", lambda x, y: x * y),
        ("div", lambda x, y: x / y),
        ("pow", lambda x, y: x**y),
    ],
)
def test_core_binary_ops(name, f):
    """HIPS tests/test_core.py: test_add, test_sub, test_mul, test_div, test_pow."""
    check_binary(f)


@pytest.mark.parametrize(
    "compare",
    [
        lambda x, y: x < y,
        lambda x, y: x <= y,
        lambda x, y: x > y,
        lambda x, y: x >= y,
    ],
)
def test_core_comparisons_are_not_differentiable_outputs(compare):
    """HIPS tests/test_core.py: test_lt/test_leq/... return a zero gradient with a warning;
    here a comparison gives a bool, and differentiating a bool is a clear TypeError."""
    with pytest.raises(TypeError, match="scalar"):
        grad(compare)(0.7, 1.8)


@pytest.mark.parametrize(
    "name, f, point",
    [
        ("abs positive", lambda x: 3.0 * abs(x), 1.1),
        ("abs negative", lambda x: 3.0 * abs(x), -1.1),
        ("sin", lambda x: 3.0 * at.sin(x), RNG.gauss(0, 1)),
        ("cos", lambda x: 3.0 * at.cos(x), RNG.gauss(0, 1)),
        ("exp", lambda x: 3.0 * at.exp(x), RNG.gauss(0, 1)),
        ("log", lambda x: 3.0 * at.log(x), abs(RNG.gauss(0, 1))),
        ("log1p", lambda x: 3.0 * at.log1p(x), abs(RNG.gauss(0, 1))),
        ("neg", lambda x: 3.0 * -x, RNG.gauss(0, 1)),
        ("tanh", lambda x: 3.0 * at.tanh(x), RNG.gauss(0, 1)),
        ("sqrt", lambda x: 3.0 * at.sqrt(x), 10.0 * RNG.random() + 0.1),
        ("power arg0", lambda x: 3.0 * x**1.3, abs(RNG.gauss(0, 1)) + 0.1),
        ("power arg1", lambda y: 3.0 * 1.3**y, RNG.gauss(0, 1)),
        ("reciprocal", lambda x: 3.0 / x, RNG.gauss(0, 1) + 2.5),
    ],
)
def test_scalar_ops_to_second_order(name, f, point):
    """HIPS tests/test_scalar_ops.py: test_abs, test_sin, test_cos, test_exp, test_log,
    test_log1p, test_neg, test_tanh, test_sqrt, test_power_arg0/arg1, test_reciprocal."""
    assert check_grad(f, point, order=2, rtol=1e-4, atol=1e-6)


def test_abs_at_zero_first_order():
    """HIPS tests/test_scalar_ops.py test_abs: ``check_grads(fun, order=1)(0.0)``; both
    one-sided slopes are +-3, and abs'(0) = 0 is the convention, so only the value is checked."""
    assert grad(lambda x: 3.0 * abs(x))(0.0) == 0.0


def test_grad_fanout():
    """HIPS tests/test_graphs.py test_grad_fanout: sin(sin(x) + sin(x)) and its derivative."""
    f = lambda x: at.sin(at.sin(x) + at.sin(x))
    x = RNG.gauss(0, 1)
    assert check_grad(f, x, order=2)
    assert check_grad(grad(f), RNG.random(), order=2, rtol=1e-4, atol=1e-6)


def test_grad_const():
    """HIPS tests/test_graphs.py test_grad_const."""
    assert grad(lambda x: 1.0)(2.0) == 0.0


def test_grad_identity():
    """HIPS tests/test_graphs.py test_grad_identity: f' = 1 and f'' = 0 for f(x) = x."""
    assert grad(lambda x: x)(2.0) == 1.0
    assert grad(grad(lambda x: x))(2.0) == 0.0


def test_hess_vector_prod():
    """HIPS tests/test_graphs.py test_hess_vector_prod, with 3 scalars for the vector:
    differentiating sin(v . grad f(x)) needs the second derivatives of f."""
    r = [RNG.gauss(0, 1) for _ in range(3)]
    fun = lambda *x: at.sin(sum(ri * xi for ri, xi in zip(r, x)))
    df = grad(fun, argnums=(0, 1, 2))

    def vector_product(*xv):
        x, v = xv[:3], xv[3:]
        return at.sin(sum(vi * gi for vi, gi in zip(v, df(*x))))

    point = [RNG.gauss(0, 1) for _ in range(6)]
    assert check_grad(fun, *point[:3], order=2, rtol=1e-4, atol=1e-6)
    assert check_grad(vector_product, *point, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("order", ["x * y", "y * x"])
def test_enclosing_scope_ref(order):
    """HIPS tests/test_graphs.py test_enclosing_scope_ref and _2: an inner grad whose
    function closes over the outer argument, inside a check of the outer function."""

    def fun(x):
        inner = (lambda y: x * y) if order == "x * y" else (lambda y: y * x)
        return x * grad(inner)(2.0)

    assert fun(at.Value(1.0)).data == 1.0
    assert check_grad(fun, 1.0, order=2)  # fun(x) = x**2


def test_mutating_outgrad():
    """HIPS tests/test_graphs.py test_mutating_outgrad: a value reused by later sums."""

    def fun(a):
        b = a + 1.0
        c = b + 1.5
        d = a + b
        return d + c

    assert check_grad(fun, RNG.gauss(0, 1), order=2)
    assert grad(fun)(0.3) == 3.0


@pytest.mark.parametrize("argnums", [(0, 0, 0), (0, 1, 0), (1, 0, 1)])
def test_third_derivative_other_args(argnums):
    """HIPS tests/test_graphs.py test_third_derivative(_other_args, _other_args2): third
    derivatives of sin(sin(x) + sin(y)) through grad in either argument, checked by
    finite differences of the second derivative."""
    fun = lambda x, y: at.sin(at.sin(x) + at.sin(y))
    first, second, third = argnums
    d3 = grad(grad(grad(fun, first), second), third)
    d2 = grad(grad(fun, first), second)
    x, y = RNG.gauss(0, 1), RNG.gauss(0, 1)
    if third == 0:
        numeric = finite_difference(lambda a: d2(a, y), x, eps=1e-5)
    else:
        numeric = finite_difference(lambda b: d2(x, b), y, eps=1e-5)
    assert d3(x, y) == pytest.approx(numeric, rel=1e-5, abs=1e-6)
    assert check_grad(grad(grad(fun, first), second), x, y, rtol=1e-4, atol=1e-6)


def test_return_both():
    """HIPS tests/test_wrappers.py test_return_both: value_and_grad is (f, f')."""
    fun = lambda x: 3.0 * x**3.2
    f, d = value_and_grad(fun)(1.7)
    assert f == fun(1.7) and d == grad(fun)(1.7)


def test_value_of_value_and_grad_is_differentiable():
    """HIPS tests/test_wrappers.py test_value_and_grad: ``fun2 = dfun_both(x)[0]`` is
    checked by check_grads, so the value must keep its dependence on a Value argument."""
    fun = lambda x: at.sin(x) ** 2
    assert check_grad(lambda x: value_and_grad(fun)(x)[0], 0.4, order=2)
    assert check_grad(lambda x: value_and_grad(fun)(x)[1], 0.4, order=2, rtol=1e-4)


def test_hessian_of_a_quadratic_form():
    """HIPS tests/test_wrappers.py test_hessian: the Hessian of x H x is H + H^T."""
    h = [[RNG.gauss(0, 1) for _ in range(3)] for _ in range(3)]
    fun = lambda *x: sum(x[i] * h[i][j] * x[j] for i in range(3) for j in range(3))
    got = hessian(fun, argnums=(0, 1, 2))(*[RNG.gauss(0, 1) for _ in range(3)])
    for i in range(3):
        for j in range(3):
            assert got[i][j] == pytest.approx(h[i][j] + h[j][i])


def complicated_fun(a, b, c, d, e, f=1.1, g=9.0):
    cosh_c = (at.exp(c) + at.exp(-c)) / 2
    tan_e = at.sin(e) / at.cos(e)
    return a + at.sin(b) + cosh_c + at.cos(d) + tan_e + f + g


def test_multigrad_with_keyword_arguments():
    """HIPS tests/test_wrappers.py test_multigrad and test_value_and_multigrad: argnums in
    any order, keyword arguments passed through, against the packed single-argument form."""
    A, B, C, D, E, F, G = 0.5, -0.3, 0.2, -1.1, 0.7, 0.6, -0.1
    wrapped = grad(complicated_fun, argnums=(3, 1))(A, B, C, D, E, f=F, g=G)
    assert wrapped == pytest.approx((-math.sin(D), math.cos(B)))
    value, both = value_and_grad(complicated_fun, argnums=(3, 1))(A, B, C, D, E, f=F, g=G)
    assert value == pytest.approx(complicated_fun(A, B, C, D, E, f=F, g=G))
    assert both == wrapped


def test_multigrad_onearg():
    """HIPS tests/test_wrappers.py test_multigrad_onearg: a one-element argnums gives a tuple."""
    fun = lambda x, y: x + at.sin(y)
    assert grad(fun, argnums=(0,))(0.3, 0.4) == (1.0,)


def test_hvp_against_the_hessian():
    """HIPS tests/test_wrappers.py test_hvp and test_hessian_tensor_product, for sum(sin(a))."""
    fun = lambda *a: sum(at.sin(ai) for ai in a)
    a = [RNG.gauss(0, 1) for _ in range(5)]
    v = [RNG.gauss(0, 1) for _ in range(5)]
    h = hessian(fun, argnums=tuple(range(5)))(*a)
    expected = [sum(h[i][j] * v[j] for j in range(5)) for i in range(5)]
    assert hvp(fun, a, v) == pytest.approx(expected)
    assert expected == pytest.approx([-math.sin(ai) * vi for ai, vi in zip(a, v)])


def test_make_jvp():
    """HIPS tests/test_wrappers.py test_make_jvp: a forward-mode product equals the
    Jacobian times the vector, here for one output of three inputs."""
    fun = lambda x, y, z: at.exp(x) * at.sin(y) + z * z
    point = [RNG.gauss(0, 1) for _ in range(3)]
    v = [RNG.gauss(0, 1) for _ in range(3)]
    g = grad(fun, argnums=(0, 1, 2))(*point)
    assert jvp(fun, point, v)[1] == pytest.approx(sum(gi * vi for gi, vi in zip(g, v)))


def test_grad_and_aux():
    """HIPS tests/test_wrappers.py test_grad_and_aux: has_aux returns the aux untouched."""
    f = lambda x: (at.sin(x), at.cos(x))
    g, aux = grad(f, has_aux=True)(0.3)
    assert g == math.cos(0.3) and aux == math.cos(0.3)


def test_partial():
    """HIPS tests/test_wrappers.py test_partial: grad of a functools.partial."""
    f = lambda x, y: y
    assert grad(functools.partial(f, y=1.0))(2.0) == 0.0
    assert grad(functools.partial(lambda x, y: x * y, y=3.0))(2.0) == 3.0


def test_grad_inside_a_function_called_with_a_product():
    """HIPS tests/test_misc.py test_const_graph: an inner grad evaluated at x * y."""

    def foo(x, y):
        return grad(lambda t: at.sin(t) + t * 2)(x * y)

    assert foo(1.0, 0.5) == pytest.approx(math.cos(0.5) + 2)
    # and differentiated through: d/dx cos(x y) + 2 = -y sin(x y)
    assert grad(foo)(1.0, 0.5) == pytest.approx(-0.5 * math.sin(0.5))
