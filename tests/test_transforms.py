"""Function transforms that compose: nesting without perturbation confusion, closures over
Values, no_grad, higher order at 0, NaN and inf, jvp / jacobian / hvp and their laws."""

from __future__ import annotations

import math
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_tiny as at
from autograd_tiny import (
    GradientCheckError,
    Value,
    check_grad,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    no_grad,
    value_and_grad,
)
from autograd_tiny import functional as functional_module
from autograd_tiny.testing import expression_cases

# -- the rows of issue 10 ------------------------------------------------------------------


def test_inner_grad_of_a_product_with_the_outer_variable_is_not_confused():
    assert grad(lambda x: grad(lambda y: x * y)(x))(2.0) == 1.0


def test_inner_grad_with_the_outer_variable_used_twice_is_not_confused():
    # d/dy (y * y * x) = 2 y x; at y = x that is 2 x**2, whose derivative at 2 is 8.
    assert grad(lambda x: grad(lambda y: y * y * x)(x))(2.0) == 8.0


def test_grad_closing_over_a_value_passes_its_dependence_to_backward():
    x = Value(1.0)
    (x * grad(lambda t: x * t)(2.0)).backward()
    assert x.grad == 2.0


def test_check_grad_of_a_grad_passes():
    assert check_grad(grad(at.sin), 0.3) is True
    assert check_grad(grad(at.sin), 0.3, order=2) is True


def test_grad_inside_no_grad_still_differentiates():
    with no_grad():
        assert grad(lambda x: x * x * x)(3.0) == 27.0


def test_polynomial_second_derivative_at_zero_is_finite():
    poly = lambda x: sum(c * x**i for i, c in enumerate([1.0, 2.0, 3.0]))
    assert grad(grad(poly))(0.0) == 6.0
    assert hessian(poly)(0.0) == [[6.0]]


def test_nan_base_gives_a_nan_exponent_derivative():
    assert math.isnan(grad(lambda y: math.nan**y)(1.0))


def test_hessian_refuses_a_non_scalar_output_like_grad():
    with pytest.raises(TypeError, match="scalar") as from_grad:
        grad(lambda x: "oops")(2.0)
    with pytest.raises(TypeError, match="scalar") as from_hessian:
        hessian(lambda x: "oops")(2.0)
    assert str(from_grad.value) == str(from_hessian.value)


# -- perturbation confusion, the whole family (after ForwardDiff.jl's ConfusionTest) -------


def test_siskind_pearlmutter_example():
    # d/dx [x * d/dy (x + y)] at any x is d/dx [x * 1] = 1; confusing the two gives 2.
    assert grad(lambda x: x * grad(lambda y: x + y)(1.0))(1.0) == 1.0


def test_inner_derivative_evaluated_at_the_outer_variable():
    # d/dx [x * d/dy (x * y) at y = x] = d/dx [x * x] = 2x.
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == 6.0


def test_three_levels_each_differentiate_their_own_variable():
    # innermost: d/dz (x y z) = x y; middle at y = x: d/dy (x y) = x; outer: d/dx x = 1.
    f = lambda x: grad(lambda y: grad(lambda z: x * y * z)(y))(x)
    assert grad(f)(1.7) == 1.0
    assert f(1.7) == 1.7


def test_nested_grad_matches_the_closed_form_across_points():
    # g(x) = d/dy [sin(x * y) + y**3] at y = x = x cos(x**2) + 3 x**2
    g = lambda x: grad(lambda y: at.sin(x * y) + y**3)(x)
    for point in (-1.3, 0.0, 0.4, 2.2):
        assert g(point) == pytest.approx(point * math.cos(point**2) + 3 * point**2)
        assert grad(g)(point) == pytest.approx(
            math.cos(point**2) - 2 * point**2 * math.sin(point**2) + 6 * point
        )


def test_same_value_passed_to_nested_calls_as_argument_and_closure():
    x = Value(2.0)
    inner = grad(lambda y: x * y * y)(x)  # 2 y x at y = x: 2 x**2 = 8
    assert isinstance(inner, Value) and inner.data == 8.0
    inner.backward()
    assert x.grad == 8.0  # d/dx 2 x**2 = 4x


def test_jvp_inside_grad_is_not_confused():
    # d/dy (x * y) along 1 at y = x is x; d/dx x = 1.
    assert grad(lambda x: jvp(lambda y: x * y, (x,), (1.0,))[1])(2.0) == 1.0


def test_grad_inside_jvp_is_not_confused():
    _, tangent = jvp(lambda x: grad(lambda y: y * y * x)(x), (2.0,), (1.0,))
    assert tangent == 8.0


def test_hessian_inside_grad_with_the_outer_variable():
    # d2/dy2 (x * y**3) at y = x is 6 x**2; d/dx of that is 12 x.
    assert grad(lambda x: hessian(lambda y: x * y**3)(x)[0][0])(2.0) == 24.0


def test_jacobian_inside_grad_with_the_outer_variable():
    rows = lambda x: jacobian(lambda y: [x * y, y * y])(x)
    assert grad(lambda x: rows(x)[0][0] + rows(x)[1][0])(3.0) == 3.0  # d/dx (x + 2x)


# -- closures over Values at every depth ----------------------------------------------------


def test_result_types_follow_the_dependence():
    w = Value(3.0)
    assert type(grad(lambda x: x * x)(2.0)) is float
    assert isinstance(grad(lambda x: w * x)(2.0), Value)
    assert isinstance(grad(lambda x: x * x)(Value(2.0)), Value)
    # Values made inside the function stand for numbers: still floats.
    assert type(grad(lambda x: x * Value(3.0))(2.0)) is float


def test_closure_over_a_value_two_levels_up():
    w = Value(0.5)
    f = lambda x: grad(lambda y: grad(lambda z: w * z * z * y)(y))(x)  # d/dz = 2 w z y at z = y
    # f(x) = d/dy (2 w y**2) = 4 w y at y = x = 4 w x
    out = f(2.0)
    assert isinstance(out, Value) and out.data == 4.0
    out.backward()
    assert w.grad == 8.0  # d/dw (4 w x) at x = 2


def test_closure_over_an_interior_node_reaches_its_leaves():
    a = Value(2.0)
    b = a * a  # closed over; made before the call
    g = grad(lambda x: b * x)(5.0)
    g.backward()
    assert g.data == 4.0 and a.grad == 4.0


def test_gradient_wrt_a_closed_over_parameter_of_a_gradient():
    # sum of squares of a model's input-gradient, differentiated in the weight.
    w = Value(1.5)
    penalty = grad(lambda x: at.tanh(w * x))(0.3) ** 2
    (dw,) = at.gradients(penalty, [w])
    sech2 = 1 - math.tanh(1.5 * 0.3) ** 2
    # d/dw [(w sech2(w x))**2] = 2 w s2 (s2 - 2 w x tanh(w x) s2)
    expected = 2 * 1.5 * sech2 * (sech2 - 2 * 1.5 * 0.3 * math.tanh(0.45) * sech2)
    assert dw == pytest.approx(expected)


def test_grad_does_not_touch_dot_grad_of_closed_over_values():
    w = Value(2.0)
    grad(lambda x: w * x)(3.0)
    assert w.grad == 0.0


def test_value_and_grad_carries_the_value_too():
    w = Value(2.0)
    value, slope = value_and_grad(lambda x: w * x * x)(3.0)
    assert isinstance(value, Value) and value.data == 18.0
    assert isinstance(slope, Value) and slope.data == 12.0
    (d_w,) = at.gradients(value + slope, [w])
    assert d_w == 9.0 + 6.0  # d/dw (w x**2) + d/dw (2 w x) at x = 3


# -- no_grad -----------------------------------------------------------------------------


def test_every_transform_ignores_an_outer_no_grad():
    f = lambda x, y: x * x * y
    with no_grad():
        assert grad(f, argnums=(0, 1))(3.0, 2.0) == (12.0, 9.0)
        assert value_and_grad(f)(3.0, 2.0) == (18.0, 12.0)
        assert hessian(f, argnums=(0, 1))(3.0, 2.0) == [[4.0, 6.0], [6.0, 0.0]]
        assert jacobian(lambda x: [x * x, 3 * x])(2.0) == [[4.0], [3.0]]
        assert jvp(f, (3.0, 2.0), (1.0, 0.0)) == (18.0, 12.0)
        assert hvp(f, (3.0, 2.0), (1.0, 0.0)) == [4.0, 6.0]
        assert grad(grad(lambda x: x**3))(2.0) == 12.0


def test_results_under_an_outer_no_grad_are_cut_from_the_graph():
    w = Value(2.0)
    with no_grad():
        g = grad(lambda x: w * x * x)(3.0)
    assert isinstance(g, Value) and g.data == 12.0 and g.parents == ()


def test_no_grad_inside_the_function_still_holds():
    def f(x):
        with no_grad():
            frozen = x * x  # a leaf: no dependence on x
        return frozen * x

    assert grad(f)(3.0) == 9.0  # d/dx (c * x) with c = 9
    assert grad(grad(f))(3.0) == 0.0


def test_transforms_run_in_threads_without_sharing_state():
    results: dict[int, float] = {}

    def work(k: int) -> None:
        total = 0.0
        for _ in range(200):
            total += grad(lambda x: grad(lambda y: x * y * y)(x))(float(k))
        results[k] = total

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {k: 200 * 4.0 * k for k in range(1, 5)}  # d/dx 2 x**2 = 4x


# -- higher order at 0 and at kinks ----------------------------------------------------------


@pytest.mark.parametrize("order, expected", [(1, 2.0), (2, 6.0), (3, 24.0), (4, 24.0), (5, 0.0)])
def test_derivatives_of_a_quartic_at_zero(order, expected):
    f = lambda x: 1.0 + 2.0 * x + 3.0 * x**2 + 4.0 * x**3 + x**4
    for _ in range(order):
        f = grad(f)
    assert f(0.0) == expected


def test_every_order_of_x_power_n_at_zero():
    for n in range(5):
        f = lambda x, n=n: x**n
        for k in range(1, 6):
            f = grad(f)
            assert f(0.0) == (math.factorial(n) if k == n else 0.0), (n, k)


def test_kinks_decide_on_the_number_at_every_order():
    assert grad(at.relu)(0.0) == 0.0
    assert grad(grad(at.relu))(0.0) == 0.0
    assert grad(abs)(0.0) == 0.0
    assert grad(lambda x: grad(abs)(x) * x)(0.0) == 0.0
    assert grad(lambda x: grad(lambda y: x * abs(y))(x))(-2.0) == -1.0  # d/dx (x sign x)


# -- NaN and inf at every order -----------------------------------------------------------

NAN_FUNCTIONS = {
    "square": lambda x: x * x,
    "cube": lambda x: x**3,
    "sin": at.sin,
    "exp": at.exp,
    "tanh": at.tanh,
    "relu": at.relu,
    "abs": abs,
    "leaky_relu": at.leaky_relu,
    "power base": lambda x: x**2.5,
    "power exponent": lambda x: 2.0**x,
}


@pytest.mark.parametrize("name", sorted(NAN_FUNCTIONS))
def test_nan_in_gives_nan_derivatives(name):
    f = NAN_FUNCTIONS[name]
    assert math.isnan(grad(f)(math.nan))
    assert math.isnan(jvp(f, (math.nan,), (1.0,))[1])


@pytest.mark.parametrize(
    "name", ["sin", "exp", "tanh", "relu", "abs", "leaky_relu", "power base", "power exponent"]
)
def test_nan_in_gives_nan_derivatives_at_every_order(name):
    f = NAN_FUNCTIONS[name]
    for _ in range(4):
        f = grad(f)
        assert math.isnan(f(math.nan))


def test_nan_slope_of_leaky_relu_at_every_order():
    for f in (grad(at.leaky_relu, argnums=1), grad(grad(at.leaky_relu, argnums=1))):
        assert math.isnan(f(math.nan, 0.1))


def test_nan_base_power_exponent_at_every_order():
    assert math.isnan(grad(lambda y: math.nan**y)(2.0))
    assert math.isnan(grad(grad(lambda y: math.nan**y))(2.0))
    assert math.isnan(grad(lambda y: Value(math.nan) ** y)(0.0))


def test_infinities_at_every_order():
    assert grad(at.exp)(math.inf) == math.inf
    assert grad(grad(at.exp))(math.inf) == math.inf
    assert grad(lambda x: x * x)(math.inf) == math.inf
    assert grad(grad(lambda x: x**3))(-math.inf) == -math.inf
    assert grad(at.tanh)(math.inf) == 0.0
    assert math.isnan(grad(at.sin)(math.inf))


# -- keyword arguments, has_aux, errors ----------------------------------------------------


def test_keyword_arguments_pass_through_undifferentiated():
    f = lambda x, *, scale, shift=0.0: scale * x * x + shift
    assert grad(f)(3.0, scale=2.0) == 12.0
    assert value_and_grad(f)(3.0, scale=2.0, shift=1.0) == (19.0, 12.0)
    assert hessian(f)(3.0, scale=2.0) == [[4.0]]
    assert jacobian(lambda x, *, k: [k * x])(1.0, k=5.0) == [[5.0]]


def test_keyword_value_arguments_carry_their_dependence():
    w = Value(2.0)
    g = grad(lambda x, *, scale: scale * x * x)(3.0, scale=w)
    g.backward()
    assert g.data == 12.0 and w.grad == 6.0


def test_has_aux_returns_the_aux_beside_the_gradient():
    f = lambda x: (x * x, {"note": "kept"})
    assert grad(f, has_aux=True)(3.0) == (6.0, {"note": "kept"})
    assert value_and_grad(f, has_aux=True)(3.0) == ((9.0, {"note": "kept"}), 6.0)


def test_has_aux_refuses_a_function_that_returns_one_value():
    with pytest.raises(TypeError, match="pair"):
        grad(lambda x: x * x, has_aux=True)(3.0)


SCALAR_TRANSFORMS = {
    "grad": grad,
    "value_and_grad": value_and_grad,
    "hessian": hessian,
    "hvp": lambda f: lambda x: hvp(f, (x,), (1.0,)),
}


@pytest.mark.parametrize("transform", sorted(SCALAR_TRANSFORMS))
@pytest.mark.parametrize("bad", ["oops", None, [1.0, 2.0], True, 1j])
def test_every_scalar_transform_refuses_what_grad_refuses(transform, bad):
    with pytest.raises(TypeError, match="scalar"):
        SCALAR_TRANSFORMS[transform](lambda x: bad)(1.0)


@pytest.mark.parametrize("bad", ["oops", None, True, 1j, [1.0, "a"]])
def test_jvp_refuses_non_scalar_outputs(bad):
    with pytest.raises(TypeError, match="scalar"):
        jvp(lambda x: bad, (1.0,), (1.0,))


@pytest.mark.parametrize("bad", ["oops", None, ["a"], [Value(1.0), None], True])
def test_jacobian_refuses_non_scalar_outputs(bad):
    with pytest.raises(TypeError, match="scalar"):
        jacobian(lambda x: bad)(1.0)


def test_jvp_needs_one_tangent_per_primal():
    with pytest.raises(TypeError, match="one tangent per primal"):
        jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))


@pytest.mark.parametrize("bad", ["1.0", None, 1j])
def test_bad_arguments_name_the_value(bad):
    with pytest.raises(TypeError, match="got"):
        grad(lambda x: x)(bad)
    with pytest.raises(TypeError, match="got"):
        jvp(lambda x: x, (1.0,), (bad,))


# -- jvp, jacobian, hvp ---------------------------------------------------------------------


def test_jvp_of_a_product():
    assert jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.5)) == (12.0, 5.5)
    assert jvp(at.sin, 0.0, 1.0) == (0.0, 1.0)


def test_jvp_does_no_backward_pass(monkeypatch):
    from autograd_tiny import walk

    def refuse(*args, **kwargs):
        raise AssertionError("jvp must not run a backward pass")

    monkeypatch.setattr(functional_module, "_propagate", refuse)
    monkeypatch.setattr(walk, "_propagate", refuse)
    assert jvp(lambda x: at.exp(x) * x, (1.0,), (2.0,))[1] == pytest.approx(2 * 2 * math.e)


def test_jvp_of_a_function_with_several_outputs():
    value, tangent = jvp(lambda x, y: (x * y, x + y), (2.0, 3.0), (1.0, 1.0))
    assert value == (6.0, 5.0) and tangent == (5.0, 2.0)


def test_jacobian_rows_are_outputs_columns_are_arguments():
    f = lambda x, y: [x * y, at.sin(x), 7.0]
    assert jacobian(f, argnums=(0, 1))(2.0, 3.0) == [[3.0, 2.0], [math.cos(2.0), 0.0], [0.0, 0.0]]
    assert jacobian(f)(2.0, 3.0) == [[3.0], [math.cos(2.0)], [0.0]]


def test_hvp_matches_the_hessian_without_building_it():
    f = lambda x, y, z: x * x * y + at.sin(y * z)
    point, v = (0.5, 1.5, -2.0), (1.0, -2.0, 0.5)
    h = hessian(f, argnums=(0, 1, 2))(*point)
    expected = [sum(h[i][j] * v[j] for j in range(3)) for i in range(3)]
    assert hvp(f, point, v) == pytest.approx(expected)


def test_third_order_through_hvp_and_grad():
    # d/dx of (H v) for f = x**4 with v = 1: d/dx 12 x**2 = 24 x
    assert grad(lambda x: hvp(lambda t: t**4, (x,), (1.0,))[0])(2.0) == 48.0


# -- composition laws on random expressions ------------------------------------------------


def _tangent_vector(n: int) -> st.SearchStrategy[tuple[float, ...]]:
    return st.tuples(*[st.floats(-2, 2, allow_nan=False) for _ in range(n)])


@settings(max_examples=60)
@given(case=expression_cases(), data=st.data())
def test_jvp_equals_gradient_dot_tangent(case, data):
    f, args = case
    v = data.draw(_tangent_vector(len(args)))
    everything = tuple(range(len(args)))
    value, tangent = jvp(f, args, v)
    g = grad(f, argnums=everything)(*args)
    assert value == pytest.approx(float(f(*args)), rel=1e-12, abs=1e-12)
    assert tangent == pytest.approx(sum(gi * vi for gi, vi in zip(g, v)), rel=1e-9, abs=1e-9)


@settings(max_examples=60)
@given(case=expression_cases(), data=st.data())
def test_hvp_equals_hessian_times_vector(case, data):
    f, args = case
    v = data.draw(_tangent_vector(len(args)))
    h = hessian(f, argnums=tuple(range(len(args))))(*args)
    expected = [sum(row[j] * v[j] for j in range(len(v))) for row in h]
    assert hvp(f, args, v) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=40)
@given(first=expression_cases(max_inputs=2), second=expression_cases(max_inputs=2))
def test_each_jacobian_row_is_the_gradient_of_that_output(first, second):
    f, args = first
    g = second[0]
    n = len(args)
    h = lambda *xs: [f(*xs), g(*(xs * 2)[: g.n_inputs])]
    everything = tuple(range(n))
    rows = jacobian(h, argnums=everything)(*args)
    assert rows[0] == list(grad(f, argnums=everything)(*args))
    assert rows[1] == list(grad(lambda *xs: h(*xs)[1], argnums=everything)(*args))


@settings(max_examples=60)
@given(case=expression_cases())
def test_second_derivatives_equal_the_hessian_diagonal(case):
    f, args = case
    everything = tuple(range(len(args)))
    h = hessian(f, argnums=everything)(*args)
    for i in everything:
        assert grad(grad(f, argnums=i), argnums=i)(*args) == pytest.approx(
            h[i][i], rel=1e-12, abs=1e-12
        )


@settings(max_examples=40)
@given(case=expression_cases(max_steps=6, low=-1.5, high=1.5))
def test_check_grad_of_grad_passes(case):
    f, args = case
    for i in range(len(args)):
        assert check_grad(grad(f, argnums=i), *args, rtol=1e-4, atol=1e-6)


@settings(max_examples=40)
@given(case=expression_cases(max_steps=6))
def test_nested_grad_at_the_outer_variable_equals_the_total_derivative(case):
    # d/dx [d/dy f(y, x, ...) at y = x] with f of the same variable twice, against
    # the second derivatives: f_11 + f_12 (chain rule through both slots).
    f, args = case
    if len(args) < 2:
        args = (*args, 0.3)
        g = lambda a, b: f(a)
    else:
        g = lambda a, b: f(a, b, *args[2:])
    x = args[0]
    nested = grad(lambda t: grad(g, argnums=0)(t, t))(x)
    h = hessian(g, argnums=(0, 1))(x, x)
    assert nested == pytest.approx(h[0][0] + h[0][1], rel=1e-9, abs=1e-9)


# -- the checker catches a cut dependence ------------------------------------------------


def test_check_grad_catches_a_grad_that_cuts_its_dependence():
    cut = lambda x: grad(at.sin)(x.data)  # a float: the dependence on x is gone
    with pytest.raises(GradientCheckError):
        check_grad(cut, 0.3)


def test_check_grad_catches_a_transform_that_returns_floats(monkeypatch):
    original = functional_module._results

    def always_floats(items, keep, detach):
        return [float(x) for x in original(items, keep, detach)]

    monkeypatch.setattr(functional_module, "_results", always_floats)
    with pytest.raises(GradientCheckError):
        check_grad(grad(at.sin), 0.3)


# -- has_aux: aux Values follow the derivatives ---------------------------------------------


def test_aux_values_follow_the_same_rule_as_the_derivatives():
    w = Value(2.0)
    g, aux = grad(
        lambda x: (x * x, {"square": x * x, "scaled": [w * x], "tag": "t"}), has_aux=True
    )(3.0)
    assert g == 6.0
    assert type(aux["square"]) is float and aux["square"] == 9.0
    assert isinstance(aux["scaled"][0], Value) and aux["scaled"][0].data == 6.0
    assert aux["tag"] == "t"


# -- compile composed with the transforms: the eager numbers, or a TraceError --------------

COMPOSED = {
    "grad(relu)": lambda: grad(at.relu),
    "grad(abs)": lambda: grad(abs),
    "grad(x ** 2)": lambda: grad(lambda x: x**2),
    "grad(grad(x ** 3))": lambda: grad(grad(lambda x: x**3)),
    "x * grad(y ** 0)(x)": lambda: lambda x: x * grad(lambda y: y**0)(x),
    "grad(sin(x) * x)": lambda: grad(lambda x: at.sin(x) * x),
    "jvp(tanh)": lambda: lambda x: jvp(at.tanh, (x,), (2.0,))[1],
    "hessian(exp(x) * x)": lambda: lambda x: hessian(lambda t: at.exp(t) * t)(x)[0][0],
    "nested at the outer variable": lambda: lambda x: grad(lambda y: x * y * y)(x),
    "grad(leaky_relu)": lambda: grad(at.leaky_relu),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_compile_of_a_transform_gives_the_eager_numbers_or_refuses(name):
    points = (0.0, 2.0, -1.0, 0.5, -3.0)
    for first in points:  # traced at each point in turn, then replayed at all of them
        f = COMPOSED[name]()
        compiled = at.compile(f)
        try:
            compiled(first)
        except at.TraceError:
            continue
        for point in points:
            assert compiled(point) == f(point), (name, first, point)


def test_birth_ticks_stay_the_latest_when_two_threads_race(monkeypatch):
    # clock() is how a transform tells what its function closes over. Here thread A
    # takes tick 1 and is held before publishing it while thread B takes tick 2: the
    # shared epoch must end at 2, or leaves made after B's call would look older.
    import threading

    from autograd_tiny import value

    a_has_its_tick, b_is_done = threading.Event(), threading.Event()

    class HeldTicks:
        count = 0

        def __next__(self) -> int:
            self.count += 1
            tick = self.count
            if tick == 1:
                a_has_its_tick.set()
                b_is_done.wait(0.5)  # B's clock() runs now, unless a lock holds it back
            return tick

    monkeypatch.setattr(value, "_ticks", HeldTicks())
    a = threading.Thread(target=value.clock)
    a.start()
    a_has_its_tick.wait(5)
    b = threading.Thread(target=lambda: (value.clock(), b_is_done.set()))
    b.start()
    a.join()
    b.join()
    assert value._epoch == 2


def test_grad_is_right_when_the_function_ran_backward_itself():
    # grad sums into the .grad of the nodes its call made (the engine's fast path):
    # from zeros, whatever f left there, and it puts every .grad back as f left it.
    seen = []

    def f(x):
        y = x * x
        y.backward()
        seen.append(x)
        return y * 3.0

    assert grad(f)(2.0) == 12.0
    assert seen[0].grad == 4.0
    rows = jacobian(lambda x, y: [x * y, x + y], argnums=(0, 1))(2.0, 3.0)
    assert rows == [[3.0, 2.0], [1.0, 1.0]]  # each row from zeros, not on the last


@settings(max_examples=200, deadline=None)
@given(case=expression_cases(max_inputs=3, max_steps=10, low=-3.0, high=3.0))
def test_grad_on_numbers_sums_as_gradients_does_bit_for_bit(case):
    # grad's float path sums into .grad with backward's walk; gradients() keeps a dict.
    import struct

    from autograd_tiny import gradients

    f, args = case
    argnums = tuple(range(len(args)))
    got = grad(f, argnums=argnums)(*args)
    leaves = [Value(a) for a in args]
    out = f(*leaves)
    want = gradients(out, leaves) if isinstance(out, Value) else [0.0] * len(args)

    def same(a, b):
        return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b) or a == b == 0

    assert all(same(float(g), float(w)) for g, w in zip(got, want)), (got, want)
