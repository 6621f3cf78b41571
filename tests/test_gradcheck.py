"""numerical_grad and check_grad, including proof that the checker catches wrong rules."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings

import autograd_tiny.engine as engine
from autograd_tiny import Value
from autograd_tiny.gradcheck import GradientCheckError, check_grad, compare_grad, numerical_grad
from autograd_tiny.testing import OPS, expression_cases

# A point per op where every local partial is non-zero and distinct enough to tell apart.
POINTS = {
    "+": (1.5, -0.5),
    "-": (1.5, -0.5),
    "*": (1.5, -0.5),
    "/": (1.5, 2.5),
    "**": (1.5, 2.5),
    "neg": (1.5,),
    "abs": (-1.5,),
    "exp": (0.5,),
    "log": (1.5,),
    "log1p": (0.5,),
    "sqrt": (1.5,),
    "tanh": (0.5,),
    "sigmoid": (0.5,),
    "softplus": (0.5,),
    "relu": (1.5,),
    "leaky_relu": (-1.5, 0.2),
    "sin": (0.5,),
    "cos": (0.5,),
    "identity": (1.5,),
    "%": (5.5, 2.5),
    "tan": (0.5,),
    "atan": (0.5,),
    "asin": (0.5,),
    "acos": (0.5,),
    "sinh": (0.5,),
    "cosh": (0.5,),
    "log2": (1.5,),
    "log10": (1.5,),
    "erf": (0.5,),
    "atan2": (1.5, 2.5),
    "maximum": (1.5, -0.5),
    "minimum": (-0.5, 1.5),
    "clamp_min": (1.5, -0.5),
    "clamp_max": (-1.5, 0.5),
    "if_true": (1.0, 1.5),
    "if_false": (-1.0, 1.5),
}
# Step functions: every partial is 0 everywhere, so no wrong rule can differ from them.
STEPS = {"lt", "le", "gt", "ge", "eq", "ne", "floor"}

FAULTS = {
    "scaled": lambda partials: tuple(1.1 * p for p in partials),
    "sign-flipped": lambda partials: tuple(-p for p in partials),
    "swapped": lambda partials: tuple(reversed(partials)),
    "first partial dropped": lambda partials: (0.0, *tuple(partials[1:])),
}


def test_every_op_has_a_fault_injection_point():
    built_in = {name for name, op in engine.REGISTRY.items() if op.builtin}
    assert set(POINTS) | STEPS == built_in
    for op in STEPS:
        args = (0.5, 1.5)[: engine.REGISTRY[op].arity]
        assert all(p == 0.0 for p in engine.RULES[op](*args, OPS[op](*args)))


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
INJECTIONS = [
    (op, fault) for op in sorted(POINTS) for fault in sorted(FAULTS) if _changes_partials(op, fault)
]


def test_only_indistinguishable_faults_are_left_out():
    left_out = {(op, f) for op in POINTS for f in FAULTS} - set(INJECTIONS)
    assert all(
        (f == "swapped" and (len(POINTS[op]) == 1 or op == "+"))
        or (f == "first partial dropped" and op in ("if_true", "if_false"))
        for op, f in left_out
    )
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


# -- hand-derived gradients: check_grad(..., expected=...) ------------------------


def _sigmoid(z):
    return 1 / (1 + math.exp(-z))


# A 2-2-1 sigmoid network with binary cross-entropy, target 1: the worked case of
# notebook 08. W1 multiplies the input from the left.
X, Y = [0.5, 0.1], 1.0
NETWORK = ([[0.2, 0.8], [0.5, 0.1]], [0.1, 0.2], [0.4, 0.2], 0.3)
NAMES = ["W1", "b1", "w2", "b2"]
ALL = ["W1[0][0]", "W1[0][1]", "W1[1][0]", "W1[1][1]", "b1[0]", "b1[1]", "w2[0]", "w2[1]", "b2"]


def network_loss(W1, b1, w2, b2):
    h = [(W1[i][0] * X[0] + W1[i][1] * X[1] + b1[i]).sigmoid() for i in range(2)]
    y_hat = (w2[0] * h[0] + w2[1] * h[1] + b2).sigmoid()
    return -(Y * y_hat.log() + (1 - Y) * (1 - y_hat).log())


def network_backprop(W1, b1, w2, b2, *, output_delta=None, stale_lr=None):
    """The textbook backward pass, on floats; the keywords inject two classic mistakes."""
    h = [_sigmoid(W1[i][0] * X[0] + W1[i][1] * X[1] + b1[i]) for i in range(2)]
    y_hat = _sigmoid(w2[0] * h[0] + w2[1] * h[1] + b2)
    delta = y_hat - Y if output_delta is None else output_delta(y_hat)
    g_w2 = [delta * h[i] for i in range(2)]
    if stale_lr is not None:  # the second layer updated before the first is differentiated
        w2 = [w2[i] - stale_lr * g_w2[i] for i in range(2)]
    g_b1 = [delta * w2[i] * h[i] * (1 - h[i]) for i in range(2)]
    g_W1 = [[g_b1[i] * X[j] for j in range(2)] for i in range(2)]
    return g_W1, g_b1, g_w2, delta


def test_a_right_hand_gradient_passes_for_many_scalar_arguments():
    def f(x, y, z):
        return x * y.sin() + z * z / x

    def by_hand(x, y, z):
        return (math.sin(y) - z * z / (x * x), x * math.cos(y), 2 * z / x)

    assert check_grad(f, 0.7, -1.2, 2.5, expected=by_hand) is True


def test_a_right_hand_gradient_passes_for_a_whole_network_in_nested_lists():
    assert check_grad(network_loss, *NETWORK, names=NAMES, expected=network_backprop) is True


def test_the_hand_gradient_is_called_with_floats_in_the_arguments_nesting():
    seen = []

    def by_hand(W, b):
        seen.append((W, b))
        return [[b, b], (b, b)], W[0][0] + W[0][1] + W[1][0] + W[1][1]

    assert check_grad(
        lambda W, b: (W[0][0] + W[0][1] + W[1][0] + W[1][1]) * b,
        [[1, 2], (3, 4)],
        0.5,
        expected=by_hand,
    )
    assert seen == [([[1.0, 2.0], (3.0, 4.0)], 0.5)]
    assert all(type(x) is float for x in seen[0][0][0])


def test_the_expected_gradient_may_be_given_as_numbers():
    assert check_grad(lambda x, y: x * y, 3.0, 4.0, expected=[4.0, 3.0])
    assert check_grad(lambda x: x * x, 3.0, expected=6.0)
    assert check_grad(lambda x: x * x, 3.0, expected=(6.0,))  # as grad(argnums=(0,)) gives
    assert check_grad(lambda w: w[0] * w[1], [3.0, 4.0], expected=[4.0, 3.0])


def test_a_gradient_off_by_two_is_named_with_its_ratio_and_called_a_factor_mistake():
    def by_hand(x, y):  # d/dx (x*x*y) written as 4xy, d/dy as 2x²
        return 4 * x * y, 2 * x * x

    with pytest.raises(GradientCheckError) as info:
        check_grad(lambda x, y: x * x * y, 3.0, 2.0, names=["x", "y"], expected=by_hand)
    error = info.value
    assert error.wrong == ["x", "y"]
    assert error.factor == 2.0
    assert [(r.expected, r.analytic, r.ratio) for r in error.rows] == [
        (24.0, 12.0, 2.0),
        (18.0, 9.0, 2.0),
    ]
    message = str(error)
    assert "your formula differs from the engine in 2 of 2 partials" in message
    for word in ("your formula", "engine", "finite diff.", "ratio", "<- wrong"):
        assert word in message
    assert "every wrong partial: 2 times the right value, a likely factor mistake" in message


def test_a_halved_gradient_is_a_factor_one_half_and_only_the_wrong_partials_are_named():
    with pytest.raises(GradientCheckError) as info:
        check_grad(
            lambda x, y: x * x + y, 3.0, 2.0, names=["x", "y"], expected=lambda x, y: (x, 1.0)
        )
    assert info.value.wrong == ["x"]
    assert info.value.factor == 0.5
    assert "your formula is wrong for 1 of 2 partials: x; right for y" in str(info.value)
    assert "x: 1/2 times the right value" in str(info.value)
    (x_row,) = [line.split() for line in str(info.value).splitlines() if line.startswith("x ")]
    assert x_row == ["x", "3", "6", "6", "0.5", "<-", "wrong"]


def test_a_flipped_sign_is_called_a_sign_mistake():
    with pytest.raises(GradientCheckError, match="opposite sign") as info:
        check_grad(lambda x, y: x * y, 1.0, 2.0, expected=[-2.0, -1.0])
    assert info.value.factor == -1.0


def test_a_swapped_pair_of_partials_is_named_as_swapped():
    def by_hand(x, y):  # d/dx (x*x*y) = 2xy and d/dy = x², written the other way round
        return x * x, 2 * x * y

    with pytest.raises(GradientCheckError) as info:
        check_grad(
            lambda x, y, z: x * x * y + z,
            3.0,
            2.0,
            1.0,
            names=["x", "y", "z"],
            expected=lambda x, y, z: (*by_hand(x, y), 1.0),
        )
    assert info.value.swapped == [("x", "y")]
    assert info.value.wrong == ["x", "y"]
    assert info.value.factor is None
    assert "x and y look swapped: your x is the right y (9) and your y the right x (12)" in str(
        info.value
    )


def test_a_missing_term_shows_as_zero():
    with pytest.raises(GradientCheckError, match="your formula gives 0 for x0: a term is missing"):
        check_grad(lambda x, y: x * y + y, 3.0, 2.0, expected=lambda x, y: (0.0, x + 1))


def test_a_sigmoid_derivative_applied_twice_gives_one_shared_ratio_to_every_weight():
    W1, b1, w2, b2 = NETWORK
    with pytest.raises(GradientCheckError) as info:
        check_grad(
            network_loss,
            *NETWORK,
            names=NAMES,
            expected=lambda *weights: network_backprop(
                *weights, output_delta=lambda y_hat: (y_hat - Y) * y_hat * (1 - y_hat)
            ),
        )
    h = [_sigmoid(W1[i][0] * X[0] + W1[i][1] * X[1] + b1[i]) for i in range(2)]
    y_hat = _sigmoid(w2[0] * h[0] + w2[1] * h[1] + b2)
    assert info.value.wrong == ALL
    assert info.value.factor == pytest.approx(y_hat * (1 - y_hat), rel=1e-12)
    assert info.value.factor == pytest.approx(0.22531789298502217, rel=1e-12)
    assert "every wrong partial: the same ratio 0.22531789 to the right value" in str(info.value)


def test_stale_second_layer_weights_give_one_ratio_per_hidden_unit():
    lr = 0.1
    with pytest.raises(GradientCheckError) as info:
        check_grad(
            network_loss,
            *NETWORK,
            names=NAMES,
            expected=lambda *weights: network_backprop(*weights, stale_lr=lr),
        )
    error = info.value
    assert error.wrong == ALL[:6]  # the first layer; w2 and b2 are right
    assert error.factor is None
    right = network_backprop(*NETWORK)
    new_w2 = [w - lr * g for w, g in zip(NETWORK[2], right[2])]
    ratios = {row.argument: row.ratio for row in error.rows}
    for unit in (0, 1):
        expected_ratio = new_w2[unit] / NETWORK[2][unit]
        for name in (f"W1[{unit}][0]", f"W1[{unit}][1]", f"b1[{unit}]"):
            assert ratios[name] == pytest.approx(expected_ratio, rel=1e-9)
    assert f"W1[0][0], W1[0][1], b1[0]: the same ratio {ratios['b1[0]']:.8g}" in str(error)


def test_a_formula_that_finite_differences_confirm_is_not_called_wrong_when_the_engine_is_cut():
    with pytest.raises(GradientCheckError) as info:
        check_grad(
            lambda x, y: x * y.data, 3.0, 2.0, names=["x", "y"], expected=lambda x, y: (y, x)
        )
    message = str(info.value)
    assert info.value.wrong == ["y"]
    assert "differs from the engine in 0 of 2 partials" in message
    assert "the engine differs from finite differences in 1" in message
    assert "your formula agrees with finite differences on y" in message
    assert "<- wrong" not in message


@pytest.mark.parametrize(
    "expected, message",
    [
        ([1.0, 2.0], r"gives 2 gradients for 3 arguments \(W, b, c\)"),
        (5.0, r"gives one number for 3 arguments"),
        ({"W": 1.0}, r"gives a dict for 3 arguments \(W, b, c\); give one per argument, in order"),
        ([[[1.0, 2.0]], [1.0, 2.0], 3.0], r"the gradient for W has 1 entry; W has 2 entries"),
        (
            [[[1.0, 2.0], [3.0]], [1.0, 2.0], 3.0],
            r"the gradient for W\[1\] has 1 entry; W\[1\] has 2 entries",
        ),
        ([[[1.0, 2.0], 3.0], [1.0, 2.0], 3.0], r"the gradient for W\[1\] should be a list of 2"),
        (
            [[[1.0, 2.0], [3.0, [4.0]]], [1.0, 2.0], 3.0],
            r"the gradient for W\[1\]\[1\] should be one number, like W\[1\]\[1\]; got a list of 1",
        ),
        ([[[1.0, 2.0], [3.0, 4.0]], 1.0, 3.0], r"the gradient for b should be a list of 2"),
    ],
)
def test_an_expected_gradient_of_the_wrong_shape_is_a_clear_error(expected, message):
    def f(W, b, c):
        return W[0][0] * W[1][1] + b[0] * b[1] * c

    with pytest.raises(ValueError, match=message):
        check_grad(
            f, [[1.0, 2.0], [3.0, 4.0]], [1.0, 2.0], 3.0, names=["W", "b", "c"], expected=expected
        )


def test_a_non_number_in_the_expected_gradient_names_its_entry():
    with pytest.raises(TypeError, match=r"the gradient for x1 needs a real number, got str"):
        check_grad(lambda x, y: x * y, 3.0, 4.0, expected=[4.0, "3"])


def test_nested_arguments_work_without_an_expected_gradient():
    assert check_grad(lambda w, b: w[0] * w[1] + b, [3.0, 4.0], 1.0)
    with pytest.raises(GradientCheckError) as info:
        check_grad(lambda w: w[0] * w[1].data, [3.0, 4.0], names=["w"])
    assert info.value.wrong == ["w[1]"]
    assert "at ([3.0, 4.0],)" in str(info.value)
    with pytest.raises(ValueError, match="at least one argument"):
        check_grad(lambda w: Value(1.0), [])


def test_numpy_arrays_are_accepted_as_arguments_and_as_expected_gradients():
    np = pytest.importorskip("numpy")
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert check_grad(
        lambda W: W[0][1] * W[1][0],
        W,
        expected=lambda W: np.array([[0.0, W[1][0]], [W[0][1], 0.0]]),
    )


def test_second_order_rows_follow_the_hand_checked_first_order_rows():
    rows = compare_grad(
        lambda x, y: x * x * y,
        3.0,
        2.0,
        order=2,
        names=["x", "y"],
        expected=lambda x, y: (2 * x * y, x * x),
    )
    assert [(r.argument, r.expected) for r in rows] == [
        ("x", 12.0),
        ("y", 9.0),
        ("dx dx", None),
        ("dx dy", None),
        ("dy dx", None),
        ("dy dy", None),
    ]


@settings(max_examples=50, deadline=None)
@given(case=expression_cases(max_steps=5))
def test_on_random_expressions_the_right_gradient_passes_and_a_doubled_one_is_a_factor_two(case):
    expression, args = case
    value = expression(*args)
    assume(math.isfinite(value) and abs(value) < 1e6)
    tolerances = {"rtol": 1e-4, "atol": 1e-6}
    rows = compare_grad(expression, *args)
    assume(all(row.agrees(**tolerances) and math.isfinite(row.analytic) for row in rows))
    right = [row.analytic for row in rows]
    assert check_grad(expression, *args, expected=right, **tolerances)
    doubled = [2 * g for g in right]
    # |2g - g| against the tolerance atol + rtol * |g|: tiny partials stay within it.
    off = [row.argument for row in rows if abs(row.analytic) > 1e-6 + 1e-4 * abs(row.analytic)]
    if not off:
        assert check_grad(expression, *args, expected=doubled, **tolerances)
        return
    with pytest.raises(GradientCheckError) as info:
        check_grad(expression, *args, expected=doubled, **tolerances)
    assert info.value.factor == 2.0
    assert info.value.wrong == off
