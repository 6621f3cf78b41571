"""define_op: a user's op is first-class everywhere the built-ins are."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings

import autograd_tiny as at
from autograd_tiny import Value, check_grad, define_op, grad, jvp
from autograd_tiny.testing import DOMAINS, OPS, arguments


def _softsign_partials(x, out):
    return (1 / (1 + abs(x)) ** 2,)


softsign = define_op(
    "soft_sign", lambda x: x / (1 + abs(x)), _softsign_partials, domain=((-5, 5, 0.05),)
)
# a binary op whose partials use another user op: at every order through both
scaled_softsign = define_op(
    "scaled_softsign",
    lambda x, k: k * x / (1 + abs(x)),
    lambda x, k, out: (k / (1 + abs(x)) ** 2, softsign(x)),
    domain=((-5, 5, 0.05), (0.5, 2)),
)


def softsign_exact(x):
    return x / (1 + abs(x))


def softsign_derivatives(x):
    """First three derivatives of x / (1 + |x|) away from 0, by hand."""
    s = math.copysign(1.0, x)
    a = 1 + abs(x)
    return 1 / a**2, -2 * s / a**3, 6 / a**4


def test_a_user_op_records_its_name_and_differentiates_to_third_order():
    y = softsign(Value(1.5))
    assert y.op == "soft_sign" and y.data == softsign_exact(1.5)
    for x in (-2.0, -0.3, 0.7, 3.0):
        d1, d2, d3 = softsign_derivatives(x)
        assert grad(softsign)(x) == pytest.approx(d1)
        assert grad(grad(softsign))(x) == pytest.approx(d2)
        assert grad(grad(grad(softsign)))(x) == pytest.approx(d3)


def test_a_user_op_works_on_numbers_like_the_built_ins():
    assert softsign(3) == 0.75 and type(softsign(3)) is float
    with pytest.raises(TypeError, match=r"soft_sign\(\) needs a real number, got str"):
        softsign("3")


def test_a_user_op_goes_forward_with_jvp_and_checks_with_check_grad():
    assert jvp(softsign, (1.0,), (2.0,)) == (0.5, 0.5)
    assert check_grad(softsign, 0.8, order=2)
    assert check_grad(scaled_softsign, 0.8, 1.5, order=2)


def test_a_user_op_compiles_to_a_call_of_its_function():
    f = lambda x, k: scaled_softsign(x, k) * softsign(x) + x
    compiled = at.compile(f)
    for point in [(0.5, 1.2), (-2.0, 0.7)]:
        leaves = [Value(p) for p in point]
        out = f(*leaves)
        out.backward()
        value, grads = compiled.value_and_grad(*point)
        assert value == out.data
        assert grads == pytest.approx([leaf.grad for leaf in leaves], rel=1e-15)
    assert "_op_soft_sign(" in compiled.source


def test_explain_and_draw_dot_name_a_user_op():
    x = Value(2.0, label="x")
    y = softsign(x) * 3
    table = str(at.explain(y))
    assert "soft_sign" in table
    assert "soft_sign" in at.draw_dot(y).source


def test_detect_anomaly_names_a_user_op():
    blow_up = define_op("blow_up", lambda x: math.inf if x > 1 else x, lambda x, out: (1.0,))
    with at.detect_anomaly(), pytest.raises(FloatingPointError, match="blow_up"):
        blow_up(Value(2.0))


def test_errors_in_a_users_functions_name_the_op_and_the_function():
    def broken_forward(x):
        raise ValueError("no")

    def broken_partials(x, out):
        return ("not a number" + 1,)  # a TypeError inside the user's rule

    bad_forward = define_op("bad_forward", broken_forward, lambda x, out: (1.0,))
    with pytest.raises(ValueError, match=r"op 'bad_forward'.*broken_forward"):
        bad_forward(Value(1.0))
    bad_partials = define_op("bad_partials", lambda x: x, broken_partials)
    with pytest.raises(TypeError, match=r"op 'bad_partials'.*broken_partials"):
        bad_partials(Value(1.0)).backward()
    wrong_count = define_op("wrong_count", lambda x: x, lambda x, out: (1.0, 2.0))
    with pytest.raises(TypeError, match=r"op 'wrong_count'.*1 partial"):
        wrong_count(Value(1.0)).backward()


def test_define_op_refuses_what_it_cannot_register():
    with pytest.raises(ValueError, match="built-in"):
        define_op("tan", math.tan, lambda x, out: (1.0,))
    with pytest.raises(ValueError, match="built-in"):
        define_op("exp", math.exp, lambda x, out: (out,))
    with pytest.raises(ValueError, match="identifier"):
        define_op("soft sign", math.tan, lambda x, out: (1.0,))
    with pytest.raises(ValueError, match=r"\(x, out\)"):
        define_op("three", lambda x, y, z: x, lambda x, y, z, out: (1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="domain"):
        define_op("short_domain", lambda x, y: x, lambda x, y, out: (1.0, 0.0), domain=((0, 1),))


def test_defining_a_user_op_again_replaces_it():
    twice = define_op("twice_defined", lambda x: 2 * x, lambda x, out: (2.0,))
    assert grad(twice)(1.0) == 2.0
    twice = define_op("twice_defined", lambda x: 3 * x, lambda x, out: (3.0,))
    assert twice(1.0) == 3.0 and grad(twice)(1.0) == 3.0


def test_the_testing_strategies_cover_a_user_op():
    assert OPS["soft_sign"] is softsign
    assert len(DOMAINS["soft_sign"]) == 1

    @settings(max_examples=30)
    @given(args=arguments("soft_sign"))
    def check(args):
        assert abs(args[0]) >= 0.05
        assert check_grad(OPS["soft_sign"], *args, order=2, rtol=1e-4, atol=1e-6)

    check()
