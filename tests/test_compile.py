"""compile(): traced straight-line code agrees with the eager engine (no timings here)."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd_tiny as at
from autograd_tiny import RULES, Value, compile, grad, gradients
from autograd_tiny.compiler import FORWARD, TraceError


def eager(f, *args):
    leaves = [Value(a) for a in args]
    out = f(*leaves)
    return out.data, tuple(gradients(out, leaves))


def assert_close(a, b, tol=1e-12):
    if math.isnan(a) or math.isnan(b):
        assert math.isnan(a) and math.isnan(b), (a, b)
    else:
        assert a == b or abs(a - b) <= tol * max(1.0, abs(a), abs(b)), (a, b)


def assert_same(result, expected):
    """Equal values and gradients. Where the eager gradient is inf or nan, the
    compiled one may differ: it skips a local derivative that is the constant 0
    (an inactive relu) instead of computing 0 * inf = nan (documented)."""
    assert_close(result[0], expected[0])
    assert len(result[1]) == len(expected[1])
    for g, e in zip(result[1], expected[1]):
        if math.isfinite(e):
            assert_close(g, e)


def test_every_op_in_the_rule_table_has_a_forward_formula():
    assert all(op in FORWARD for op in RULES)


def test_value_and_gradients_of_a_small_function():
    cf = compile(lambda x, y: x * y + y)
    assert cf(3.0, 4.0) == 16.0
    assert cf.value_and_grad(3.0, 4.0) == (16.0, (4.0, 4.0))


def test_source_is_readable_python_with_both_passes():
    cf = compile(lambda x: (x * x).relu())
    cf(2.0)
    assert "def forward(x):" in cf.source
    assert "def value_and_grad(x):" in cf.source
    assert "if not (v0 <= 0.0):" in cf.source  # relu gating (nan counts as active, as eager)
    compiled = compile(lambda x: x).source
    assert "not traced yet" in compiled


def test_inactive_relu_gives_zero_gradient_and_matches_eager():
    f = lambda x, w: (x * w - 1.0).relu() * 3.0
    cf = compile(f)
    for args in [(2.0, 1.0), (0.1, 1.0), (0.5, 2.0), (-3.0, 2.0)]:
        assert_same(cf.value_and_grad(*args), eager(f, *args))


def test_retraces_when_the_number_of_arguments_changes():
    cf = compile(lambda *xs: sum(xs[1:], xs[0]) * xs[0])
    assert cf.value_and_grad(2.0, 3.0) == (10.0, (7.0, 2.0))
    assert cf.value_and_grad(1.0, 2.0, 3.0) == (6.0, (7.0, 1.0, 1.0))
    assert cf(2.0, 3.0) == 10.0


def test_constants_are_folded_and_a_constant_function_works():
    cf = compile(lambda x: x * (2.0 * 3.0) + at.exp(0.0))
    assert cf.value_and_grad(1.0) == (7.0, (6.0,))
    cf.value_and_grad(1.0)
    assert "6.0" in cf.source
    assert compile(lambda x: 5.0).value_and_grad(1.0) == (5.0, (0.0,))
    assert compile(lambda x: x).value_and_grad(2.0) == (2.0, (1.0,))


def test_a_repeated_argument_gets_both_contributions():
    f = lambda x: x * x + x
    assert compile(f).value_and_grad(3.0) == (12.0, (7.0,))


def test_batched_form_sums_values_and_gradients_of_shared_arguments():
    f = lambda w, b, x, y: ((w * x + b - y) ** 2).relu()
    cf = compile(f)
    rows = [(1.0, 2.0), (2.0, 1.0), (-1.0, 0.5)]
    total, grads = cf.value_and_grad_batch([0.5, 0.1], rows)
    expected = [eager(f, 0.5, 0.1, *row) for row in rows]
    assert_close(total, sum(e[0] for e in expected))
    assert_close(grads[0], sum(e[1][0] for e in expected))
    assert_close(grads[1], sum(e[1][1] for e in expected))
    assert "def value_and_grad_batch(shared, rows):" in cf.source
    assert cf.value_and_grad_batch([0.5, 0.1], []) == (0.0, (0.0, 0.0))


def test_ieee_edge_cases_fall_back_to_the_eager_engine():
    f = lambda x, y: x / y + at.log(x)
    cf = compile(f)
    assert_same(cf.value_and_grad(1.0, 2.0), eager(f, 1.0, 2.0))
    value, _grads = cf.value_and_grad(1.0, 0.0)
    assert value == math.inf and eager(f, 1.0, 0.0)[0] == math.inf
    assert cf(0.0, 1.0) == -math.inf


def test_comparing_a_traced_value_is_detected():
    def branchy(x):
        return x * 2 if x > 0 else -x

    with pytest.raises(TraceError, match="depend on the input values"):
        compile(branchy)(1.0)
    with pytest.raises(TraceError):
        compile(lambda x: Value(math.exp(x)))(1.0)
    with pytest.raises(TraceError):
        compile(lambda x, y: max(x * 1.0, y))(1.0, 2.0)


def test_bad_function_and_bad_result_raise_type_errors():
    with pytest.raises(TypeError, match="needs a function"):
        compile(3.0)
    with pytest.raises(TypeError, match="scalar Value or number"):
        compile(lambda x: {"x": x})(1.0)
    with pytest.raises(TypeError, match="scalar Value or number"):
        compile(lambda x: [x, "two"])(1.0)


def test_a_function_of_several_outputs_gives_them_in_its_shape():
    cf = compile(lambda x, y: [x * y, (x + y, [y])])
    assert cf(2.0, 3.0) == [6.0, (5.0, [3.0])]
    with pytest.raises(TypeError, match="needs a scalar output"):
        cf.value_and_grad(2.0, 3.0)


def test_compiled_mlp_step_matches_the_eager_engine():
    import random

    rng = random.Random(0)
    n_in, n_hidden = 2, 4
    params = [rng.uniform(-1, 1) for _ in range(n_hidden * (n_in + 1) + n_hidden + 1)]

    def loss(*args):
        *w, x0, x1, y = args
        h = []
        k = 0
        for _ in range(n_hidden):
            act = w[k + 2] + w[k] * x0 + w[k + 1] * x1
            h.append(act.relu())
            k += 3
        score = w[k + n_hidden]
        for j in range(n_hidden):
            score = score + w[k + j] * h[j]
        return (1 + -y * score).relu()

    cf = compile(loss)
    for _ in range(20):
        args = (*params, rng.uniform(-2, 2), rng.uniform(-2, 2), rng.choice([-1.0, 1.0]))
        assert_same(cf.value_and_grad(*args), eager(loss, *args))


# -- hypothesis: random graphs of every op ----------------------------------------

BUILT_IN = {name: op for name, op in at.REGISTRY.items() if op.builtin}
UNARY = {name: op.function for name, op in BUILT_IN.items() if op.arity == 1}
BINARY = {name: op.function for name, op in BUILT_IN.items() if op.arity == 2}


def test_the_random_graphs_cover_every_op():
    assert set(BUILT_IN) <= set(UNARY) | set(BINARY)
    assert set(RULES) - set(BUILT_IN) <= {n for n, op in at.REGISTRY.items() if not op.builtin}


# Well-scaled numbers: with |x| down to 1e-308, 1/x overflows and sums of
# opposite huge terms cancel, where any two summation orders differ.
# Exact zeros (and ones) often: that is where rules branch (x ** 0 at 0, relu at 0).
number = st.one_of(
    st.sampled_from([0.0, 1.0, -1.0]), st.floats(-2, 2).filter(lambda v: v == 0.0 or abs(v) >= 1e-3)
)

program = st.lists(
    st.tuples(
        st.sampled_from(sorted(UNARY) + sorted(BINARY)),
        st.integers(0, 50),
        st.integers(0, 50),
        st.one_of(st.none(), number),
    ),
    min_size=1,
    max_size=12,
)


def run_steps(steps, args):
    """The arguments followed by the result of each step of a random program."""
    pool = list(args)
    for op, i, j, constant in steps:
        x = pool[i % len(pool)]
        if op in UNARY:
            pool.append(UNARY[op](x))
        else:
            y = constant if constant is not None else pool[j % len(pool)]
            pool.append(BINARY[op](x, y))
    return pool


def build(steps):
    def f(*args):
        return run_steps(steps, args)[-1]

    return f


@given(program, st.lists(number, min_size=1, max_size=3))
def test_compiled_results_equal_the_eager_engine_on_random_graphs(steps, args):
    # The backward statements follow the engine's own order, so every gradient
    # is summed exactly as Value.backward sums it.
    f = build(steps)
    result = compile(f).value_and_grad(*args)
    expected = eager(f, *args)
    assert_same(result, expected)


def close_to_sum(got, terms):
    scale = max([1.0] + [abs(t) for t in terms])
    assert abs(got - sum(terms)) <= 1e-12 * len(terms) * scale, (got, terms)


@given(program, st.lists(number, min_size=2, max_size=3), st.lists(number, min_size=1, max_size=4))
def test_batched_results_equal_the_eager_engine_on_random_graphs(steps, shared, column):
    f = build(steps)
    rows = [(c,) for c in column]
    per_row = [eager(f, *shared, *row) for row in rows]
    assume(
        all(
            math.isfinite(x) and abs(x) < 1e100 for value, grads in per_row for x in (value, *grads)
        )
    )
    total, grads = compile(f).value_and_grad_batch(shared, rows)
    close_to_sum(total, [value for value, _ in per_row])
    for k in range(len(shared)):
        close_to_sum(grads[k], [g[k] for _, g in per_row])


# -- has_aux: outputs besides the differentiated value ------------------------------


def eager_with_aux(f, *args):
    """((value, aux), grads) from the eager engine, f returning (loss, aux)."""
    leaves = [Value(a) for a in args]
    out, aux = f(*leaves)
    aux = tuple(a.data if isinstance(a, Value) else float(a) for a in aux)
    return (out.data, aux), tuple(gradients(out, leaves))


def same_floats(got, expected):
    """Equal float sequences, nan equal to nan."""
    assert len(got) == len(expected), (got, expected)
    for g, e in zip(got, expected):
        assert g == e or (math.isnan(g) and math.isnan(e)), (got, expected)


def with_aux(steps):
    """The random graph of ``steps``, returning (last node, every node and 1.5) as (loss, aux)."""

    def f(*args):
        pool = run_steps(steps, args)
        return pool[-1], [*pool, 1.5]

    return f


def test_aux_comes_back_as_floats_beside_the_value():
    cf = compile(lambda x, y: (x * y, [x + y, y, 2]), has_aux=True)
    assert cf(3.0, 4.0) == (12.0, (7.0, 4.0, 2.0))
    assert cf.value_and_grad(3.0, 4.0) == ((12.0, (7.0, 4.0, 2.0)), (4.0, 3.0))
    assert compile(lambda x: (x * x, ()), has_aux=True).value_and_grad(3.0) == ((9.0, ()), (6.0,))


def test_aux_is_shown_in_the_generated_source():
    cf = compile(lambda x, y: (x * y, [x - y]), has_aux=True)
    cf.value_and_grad_batch([1.0], [(2.0,)])
    assert "    return v0, (v1,)" in cf.source
    assert "    return (v0, (v1,)), (g_x, g_y)" in cf.source
    assert "        aux.append((v1,))" in cf.source
    assert "    return (total, aux), (g_x,)" in cf.source


@given(program, st.lists(number, min_size=1, max_size=3))
def test_aux_values_equal_the_eager_values_on_random_graphs(steps, args):
    f = with_aux(steps)
    (value, aux), grads = compile(f, has_aux=True).value_and_grad(*args)
    (expected_value, expected_aux), expected_grads = eager_with_aux(f, *args)
    same_floats(aux, expected_aux)
    assert_same((value, grads), (expected_value, expected_grads))
    same_floats(compile(f, has_aux=True)(*args)[1], expected_aux)


@given(program, st.lists(number, min_size=2, max_size=3), st.lists(number, min_size=1, max_size=4))
def test_batched_aux_lists_each_rows_aux_on_random_graphs(steps, shared, column):
    f = with_aux(steps)
    rows = [(c,) for c in column]
    (_total, aux_rows), _ = compile(f, has_aux=True).value_and_grad_batch(shared, rows)
    assert len(aux_rows) == len(rows)
    for aux, row in zip(aux_rows, rows):
        same_floats(aux, eager_with_aux(f, *shared, *row)[0][1])


def test_accumulate_grad_with_aux_gives_each_rows_aux_and_adds_to_params():
    w = Value(2.0)
    cf = compile(lambda x, y: ((w * x - y) ** 2, [w * x, y]), params=[w], has_aux=True)
    assert cf.accumulate_grad([(1.0, 1.0), (2.0, 3.0)]) == (2.0, [(2.0, 1.0), (4.0, 3.0)])
    assert w.grad == 6.0
    assert cf.accumulate_grad([]) == (0.0, [])
    assert cf.value_and_grad_batch([], []) == ((0.0, []), ())


def test_aux_survives_the_fall_back_to_the_eager_engine():
    # x / y with y = 0 raises ZeroDivisionError in the generated code: the eager
    # engine computes that call (or that batch) instead, aux included.
    w = Value(3.0)
    cf = compile(lambda x, y: (w * x / y, [x / y, w * y]), params=[w], has_aux=True)
    assert cf(1.0, 0.0) == (math.inf, (math.inf, 0.0))
    (value, aux), grads = cf.value_and_grad(1.0, 0.0)
    assert (value, aux) == (math.inf, (math.inf, 0.0))
    assert grads[0] == math.inf
    total, aux_rows = cf.accumulate_grad([(1.0, 2.0), (1.0, 0.0)])
    assert total == math.inf
    assert aux_rows == [(0.5, 6.0), (math.inf, 0.0)]
    assert w.grad == math.inf


def test_an_argument_named_like_a_builtin_does_not_shadow_it_in_the_generated_code():
    def f(abs, y):
        return (y - abs).__abs__()

    assert compile(f).value_and_grad(1.0, 3.0) == (2.0, (-1.0, 1.0))


@pytest.mark.parametrize(
    "f, x, expected",
    [
        (lambda x: x**0, 0.0, (1.0, (0.0,))),
        (lambda x: 3 * x**0 + 2 * x**1 + x**2, 0.0, (3.0, (2.0,))),
        (lambda x: 3 * x**0 + 2 * x**1 + x**2, 2.0, (11.0, (6.0,))),
    ],
)
def test_power_at_zero_has_the_eager_engines_gradient_when_compiled(f, x, expected):
    # The rule's "x == 0 and y == 0" is a branch in the generated code, like relu's x <= 0.
    assert compile(f).value_and_grad(x) == expected == eager(f, x)


def test_power_with_both_inputs_traced_branches_on_zero_and_equals_eager():
    cf = compile(lambda x, y: x**y)
    for point in [(0.0, 0.0), (0.0, 2.0), (2.0, 0.0), (2.0, 3.0), (-2.0, 3.0)]:
        assert_same(cf.value_and_grad(*point), eager(lambda x, y: x**y, *point))
    assert "x == 0.0" in cf.source


def test_an_argument_named_aux_does_not_clash_with_the_generated_code():
    cf = compile(lambda aux, total: (aux * total, [aux + total]), has_aux=True)
    assert cf.value_and_grad_batch([2.0], [(3.0,), (4.0,)]) == ((14.0, [(5.0,), (6.0,)]), (7.0,))


@pytest.mark.parametrize(
    "f, words",
    [
        (lambda x: x * 2, r"must return a pair \(loss, aux\) with has_aux=True, got Value"),
        (lambda x: (x, [x], x), r"pair \(loss, aux\).*got a tuple of 3 items"),
        (lambda x: [x, [x]], r"pair \(loss, aux\).*got a list of 2 items"),
        (lambda x: ([x], [x]), r"loss that is not a scalar Value or number: a list of 1 item"),
        (lambda x: (x, x), r"aux that is not a tuple or list of Values or numbers: Value"),
        (lambda x: (x, [x, "label"]), r"aux\[1\] not a Value or number: str"),
        (lambda x: (x, [True]), r"aux\[0\] not a Value or number: bool"),
    ],
)
def test_has_aux_with_a_wrong_result_shape_raises_a_type_error_naming_it(f, words):
    with pytest.raises(TypeError, match=words):
        compile(f, has_aux=True)(1.0)


# -- closed-over Values: read afresh through params=, or refused by name ---------------------


def test_a_closed_over_value_is_refused_by_name_not_frozen():
    w = Value(2.0, label="w")
    compiled = compile(lambda x: w * x)
    with pytest.raises(TraceError, match=r"'w'.*params="):
        compiled(3.0)


def test_a_closed_over_interior_node_is_refused_too():
    w = Value(2.0, label="w")
    scaled = w * 3.0  # made before the trace: its leaf w would be frozen
    with pytest.raises(TraceError, match="'w'"):
        compile(lambda x: scaled * x)(1.0)


def test_params_are_read_afresh_at_every_call():
    w = Value(2.0, label="w")
    compiled = compile(lambda x: w * x, params=[w])
    assert compiled(3.0) == 6.0
    w.data = 5.0
    assert compiled(3.0) == 15.0 and compiled.value_and_grad(3.0) == (15.0, (5.0,))


def test_values_made_inside_the_function_are_constants_of_the_trace():
    compiled = compile(lambda x: x * Value(3.0) + grad(lambda y: y * y)(x))
    assert compiled.value_and_grad(2.0) == (10.0, (5.0,))


# -- arguments convert as Value() converts them ----------------------------------------------


def test_arguments_become_floats_as_value_makes_them():
    import decimal

    np = pytest.importorskip("numpy")
    f = lambda x, y, z: x * y + z - x * y
    compiled = compile(f)
    for args in [(2**53, 1, 1), (np.float32(0.1), 3, True), (decimal.Decimal(1), 2.5, -1)]:
        assert compiled.value_and_grad(*args) == eager(f, *args)
        assert compiled(*args) == eager(f, *args)[0]
    rows = [(1,), (np.float32(0.5),)]
    total, grads = compiled.value_and_grad_batch([2**53, 1], rows)
    per_row = [eager(f, 2**53, 1, *row) for row in rows]
    assert total == sum(value for value, _ in per_row) == 0.0  # float arithmetic, not int's 1.5
    assert grads == tuple(sum(g[k] for _, g in per_row) for k in range(2))


@pytest.mark.parametrize("bad", ["1", None, 1j])
def test_a_non_number_argument_is_a_clear_type_error(bad):
    with pytest.raises(TypeError, match="argument 0 needs a real number"):
        compile(lambda x: x * 2.0)(bad)


def test_values_the_traced_function_keeps_elsewhere_are_plain_values_afterwards():
    kept = []

    def f(x):
        y = x * 2.0
        kept.append(y.exp())  # not part of the result
        return y + 1.0

    assert compile(f)(1.5) == 4.0
    assert kept[0].__class__ is Value and kept[0].data == math.exp(3.0)


def test_a_long_chain_of_relus_compiles_to_code_python_accepts():
    def chain(x, w):
        for _ in range(150):
            x = (x * w + 0.01).relu()
        return x

    compiled = compile(chain)
    for point in [(0.7, 1.01), (0.7, -1.0), (-0.3, 1.02)]:
        assert compiled.value_and_grad(*point) == eager(chain, *point)
    assert max(len(line) - len(line.lstrip()) for line in compiled.source.splitlines()) < 4 * 30
