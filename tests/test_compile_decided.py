"""Derivatives of compiled transforms through a rule's branches, bit for bit at every order.

A select trace is right for every branch, but where its backward pass is itself
differentiated (``compile(hessian(f))``, ``value_and_grad`` of ``compile(grad(f))``)
it would add eager's terms in another order. There the compiler traces "decided":
the branches these numbers take, guarded, one trace per branch pattern
(``compiler.PATTERNS``), then the eager engine. ``grad`` of such a compiled
function calls ``f`` itself.
"""

from __future__ import annotations

import math
import threading
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compile import BINARY, UNARY, build
from test_compile_transforms import same, same_where_finite

import autograd_tiny as at
from autograd_tiny import compile, grad, hessian, jacobian, relu, value_and_grad
from autograd_tiny.compiler.emit import OTHER_BRANCH
from autograd_tiny.engine import eq, floor, maximum, minimum

# Points enough to take more patterns than are traced (``%``'s floor at 79 points): the
# warning that says so is tested below.
pytestmark = pytest.mark.filterwarnings("ignore:compile... the calls of:RuntimeWarning")


def _scalar(x):
    while isinstance(x, (list, tuple)):
        (x,) = x
    return x


# Where a traced backward pass is itself differentiated through a rule's branches, a
# select trace would add eager's terms in another order (eager's order depends on the
# branch it runs): these took another order, by up to 3.1e-15, before decided traces.
THROUGH_BRANCHES = {
    "log(leaky_relu(x, x))": lambda x: at.log(at.leaky_relu(x, x)),
    "exp(leaky_relu(x, x))": lambda x: at.exp(at.leaky_relu(x, x)),
    "maximum(x * x, sin x + 1) * tanh x": lambda x: at.maximum(x * x, at.sin(x) + 1.0) * at.tanh(x),
    "sin(abs(x) ** (0.2 x))": lambda x: at.sin(abs(x) ** (0.2 * x)),
    "leaky_relu(x, sin x) * cos x": lambda x: at.leaky_relu(x, at.sin(x)) * at.cos(x),
    "(x ** x ** x) % x": lambda x: (x ** (x**x)) % x,
}
EDGES = [0.0, -0.0, 1e-300, -1e-310, math.inf, -math.inf, math.nan]


@pytest.mark.parametrize("name", sorted(THROUGH_BRANCHES))
def test_derivatives_through_branches_equal_eager_bit_for_bit_at_every_order(name):
    f = THROUGH_BRANCHES[name]
    points = [-9.75 + 0.27 * i for i in range(72)] + EDGES
    for transform in (grad, hessian, lambda g: grad(grad(g)), lambda g: grad(grad(grad(g)))):
        compiled, eager = compile(transform(f)), transform(f)
        for x in points:
            assert same(_scalar(compiled(x)), _scalar(_eager_or_nan(eager, x))), (name, x)
    compiled, eager = compile(grad(f)), value_and_grad(grad(f))
    for x in points:
        got, want = compiled.value_and_grad(x), _eager_or_nan(eager, x, (math.nan, math.nan))
        # (where eager's gradient is nan, 0 * inf in a constant-0 partial, the generated
        # backward pass skips that contribution: the documented difference)
        assert same_where_finite([got[0], got[1][0]], [want[0], want[1]]), (name, x, got, want)


def _eager_or_nan(g, x, nan=math.nan):
    try:
        return g(x)
    except (ZeroDivisionError, OverflowError, ValueError):
        return nan  # (compiled code falls back to eager and raises the same)


def test_a_differentiated_select_makes_one_decided_trace_per_branch_pattern():
    f = lambda x: at.log(at.leaky_relu(x, x))
    h = compile(hessian(f))
    assert h(2.0) == hessian(f)(2.0) == [[-0.25]]
    assert h._programs[1].graph.higher and len(h._patterns[1].traces) == 1
    assert "else _OTHER_BRANCH" in h.source and h.source.startswith("# decided:")
    known = h._patterns[1].traces[0]
    assert known.forward(-0.5) is OTHER_BRANCH  # the x <= 0 branch is not this trace's
    assert h(-0.5) == hessian(f)(-0.5) == [[-8.0]]
    assert h(3.0) == hessian(f)(3.0) and len(h._patterns[1].traces) == 2  # x > 0: known


def test_past_its_patterns_a_decided_function_runs_eagerly_with_eager_numbers(monkeypatch):
    monkeypatch.setattr(at.compiler, "PATTERNS", 1)
    f = lambda x: at.leaky_relu(x, x) * at.sin(x)
    h, eager = compile(hessian(f)), hessian(f)
    assert same(h(1.0), eager(1.0))
    with pytest.warns(RuntimeWarning, match=r"more than 1 patterns.*eager engine"):
        assert same(h(-1.0), eager(-1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once
        for x in (-2.0, 2.0, math.nan):
            assert same(h(x), eager(x))
    assert len(h._patterns[1].traces) == 1


def test_first_derivatives_through_branches_keep_one_select_trace():
    def f(x):
        return at.leaky_relu(x, x) * x + relu(x)

    d = compile(grad(f))
    assert [d(x) for x in (2.0, -2.0, 0.0)] == [5.0, 12.0, 0.0]
    program = d._programs[1]
    assert not program.graph.higher and 1 not in d._patterns  # one trace for all branches
    assert program.graph.selects  # so its value_and_grad, a second order, is decided
    value, (second,) = d.value_and_grad(-2.0)
    assert (value, second) == value_and_grad(grad(f))(-2.0) == (12.0, -12.0)
    assert len(d._patterns[1].traces) == 1


def test_the_closed_form_hessians_of_script_functions_stay_select_traces():
    rosenbrock = lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2
    h = compile(hessian(rosenbrock, argnums=(0, 1)))
    assert h(0.5, 1.5) == [[-298.0, -200.0], [-200.0, 200.0]]
    assert not h._programs[2].graph.higher  # no guard, no retrace: the entry point runs
    assert type(h).__call__ is not at.compiler.Compiled.__call__


def test_grad_of_a_compiled_grad_is_eager_where_a_replay_would_give_nan():
    # Replayed on Values, the selects' untaken side met 0 * inf: nan where eager is 0.0.
    def f(x):
        return at.exp(minimum(x * x, 1.0) - 0.05) * maximum(x, -0.5)

    for x in (math.inf, 1e300, 0.0, -1.0, 2.0):
        assert same(grad(compile(grad(f)))(x), grad(grad(f))(x)), x


# Random programs, half their ops from the rules that branch, at well-scaled numbers
# and at the edges (0, -0, subnormals, inf, nan).
BRANCHING = ["relu", "abs", "leaky_relu", "maximum", "minimum", "clamp_min", "clamp_max", "**"]
edge_or_number = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 1e-300, math.inf, -math.inf, math.nan]),
    st.floats(-2, 2).filter(lambda v: v == 0.0 or abs(v) >= 1e-3),
)
branchy_program = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(BRANCHING), st.sampled_from(sorted(UNARY) + sorted(BINARY))),
        st.integers(0, 50),
        st.integers(0, 50),
        st.one_of(st.none(), edge_or_number),
    ),
    min_size=1,
    max_size=10,
)
HIGHER = {
    "hessian": lambda f, n: hessian(f, argnums=tuple(range(n))),
    "grad of grad": lambda f, n: grad(grad(f)),
    "third derivative": lambda f, n: grad(grad(grad(f))),
    "grad of compile(grad)": lambda f, n: grad(compile(grad(f))),
}


@settings(max_examples=40, deadline=None)
@given(branchy_program, st.lists(edge_or_number, min_size=1, max_size=2), st.data())
def test_compiled_higher_derivatives_equal_eager_on_random_branching_graphs(steps, args, data):
    f = build(steps)
    name = data.draw(st.sampled_from(sorted(HIGHER)))
    g = HIGHER[name](f, len(args))
    eager = grad(grad(f)) if name == "grad of compile(grad)" else g
    try:
        expected = eager(*args)
    except (ZeroDivisionError, OverflowError, ValueError):
        return  # the eager engine raised (a number op, no Value involved)
    assert same_where_finite(compile(g)(*args), expected)
    if name != "grad of compile(grad)":
        return
    vg, want = compile(grad(f)).value_and_grad(*args), value_and_grad(grad(f))(*args)
    assert same_where_finite([vg[0], vg[1][0]], [want[0], want[1]])


def test_batches_of_a_compiled_derivative_through_branches_sum_eager_numbers():
    w = at.Value(0.5, label="w")

    def slope(x):  # d/dx of a leaky relu whose slope is a weight: selects in the trace
        return grad(lambda t: at.leaky_relu(t * w, w) * t)(x)

    rows = [(2.0,), (-1.0,), (0.0,), (3.0,)]
    step = compile(slope, params=[w])
    total = step.accumulate_grad(rows)
    expected_total, expected_grad = 0.0, 0.0
    for (x,) in rows:
        out = slope(at.Value(x))
        expected_total += out.data
        expected_grad += float(at.gradients(out, [w])[0])
    assert (total, w.grad) == (expected_total, expected_grad)

    pair = compile(grad(lambda a, x: at.leaky_relu(x * a, a) * x, argnums=1))
    value, grads = pair.value_and_grad_batch([0.5], rows)
    eager = value_and_grad(grad(lambda a, x: at.leaky_relu(x * a, a) * x, argnums=1))
    assert value == sum(eager(0.5, x)[0] for (x,) in rows)
    assert grads == (sum(eager(0.5, x)[1] for (x,) in rows),)


def test_a_decided_function_in_chunks_checks_its_guards_in_every_chunk(monkeypatch):
    # Past CHUNK statements a function is made of chunks; a guard's early return must
    # leave the whole function, not only its chunk.
    monkeypatch.setattr(at.compiler.emit, "CHUNK", 5)
    monkeypatch.setattr(at.compiler.codegen, "CHUNK", 5)

    def f(x):
        y = at.leaky_relu(x, x) * at.sin(x)
        for _ in range(3):
            y = at.tanh(y) + at.leaky_relu(y, x) * x
        return y

    d = compile(grad(f))
    for x in (0.7, -0.4, 1.3, -2.0, 0.0):
        value, (second,) = d.value_and_grad(x)
        expected = value_and_grad(grad(f))(x)
        assert same(value, expected[0]) and same(second, expected[1]), x
    assert len(d._patterns[1].traces) >= 2
    assert all(len(p._bodies) == 0 for p in d._patterns[1].traces)  # chunked: no body kept


def test_jacobian_of_a_compiled_list_through_branches_equals_eager():
    # Each output of a list may be differentiated: replayed selects met 0 * inf (nan).
    def vec(x, y):
        return [grad(minimum)(x, y), x * 2.0]

    for point in [(0.5, math.inf), (0.5, 0.25), (-2.0, 1e300)]:
        got = jacobian(compile(vec), argnums=(0, 1))(*point)
        assert same(got, jacobian(vec, argnums=(0, 1))(*point)), point

    def slopes(x):
        return [grad(lambda t: at.exp(at.leaky_relu(t, t)))(x), x * 2.0]

    for x in [-9.75 + 0.27 * i for i in range(72)]:
        assert same(jacobian(compile(slopes))(x), jacobian(slopes)(x)), x


def test_threads_calling_one_decided_function_each_get_eager_numbers():
    def f(x):
        total = x * 0.0
        for k in range(1, 25):  # a long program: its functions take a while to compile
            total = total + at.leaky_relu(x - k / 60.0, x) * at.sin(x * k)
        return total

    expected = {x: hessian(f)(x) for x in (2.0, -2.0)}
    for _ in range(3):
        h = compile(hessian(f))
        barrier = threading.Barrier(4)
        results, errors = [], []

        def work(xs, h=h, barrier=barrier, results=results, errors=errors):
            barrier.wait()
            for x in xs:
                try:
                    results.append((x, h(x)))
                except Exception as error:  # any error fails the test
                    errors.append(error)

        orders = ([2.0, -2.0], [-2.0, 2.0], [2.0, 2.0, -2.0], [-2.0, -2.0, 2.0])
        threads = [threading.Thread(target=work, args=(xs,)) for xs in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(results) == 10 and all(got == expected[x] for x, got in results)


def test_decided_traces_under_no_grad_and_with_params_read_afresh():
    w = at.Value(0.5, label="w")

    def f(x):  # closes over w: a slope that is a weight, and a kink at w
        return at.leaky_relu(x - w, w * x) * at.sin(x)

    with pytest.raises(at.compiler.TraceError, match="'w'"):
        compile(hessian(f))(1.0)  # w not in params: refused, never frozen
    h = compile(hessian(f), params=[w])
    for data in (0.5, -0.25, 2.0):
        w.data = data
        with at.no_grad():
            for x in (1.0, -1.0, 0.1, math.nan):
                assert same(h(x), hessian(f)(x)), (data, x)
        assert same(h(0.3), hessian(f)(0.3))
    assert w.grad == 0.0  # calling a compiled function never touches a param's .grad


def test_an_aux_that_differentiates_through_branches_is_eager_in_every_path():
    f = lambda x: at.log(at.leaky_relu(x, x))
    compiled = compile(lambda x: (x * x, [grad(grad(f))(x)]), has_aux=True)
    assert compiled._program(1, [1.0]).graph.higher
    for x in [-9.75 + 0.27 * i for i in range(72)]:
        expected = grad(grad(f))(x)
        assert same(compiled(x)[1][0], expected), x
        (_, (aux,)), _ = compiled.value_and_grad(x)
        assert same(aux, expected), x
        (_, [(batch_aux,)]), _ = compiled.value_and_grad_batch([], [(x,)])
        assert same(batch_aux, expected), x


def test_a_point_whose_trace_meets_an_inf_traces_once():
    def f(x):
        return at.log(at.leaky_relu(x, x) * at.leaky_relu(x, x))  # -inf at 0

    d = compile(grad(grad(f)))
    for _ in range(4):
        assert same(d(0.0), grad(grad(f))(0.0))
    assert len(d._patterns[1].traces) == 1
    assert same(d(2.0), grad(grad(f))(2.0)) and len(d._patterns[1].traces) == 2


def test_grad_of_compiled_code_does_what_eager_does_with_plain_numbers():
    # x / y's rule takes 1 / y of a plain 0.0: the engine's IEEE inf, as eager's.
    assert grad(compile(grad(lambda x, y: x * x / y)))(1.0, 0.0) == math.inf
    assert grad(grad(lambda x, y: x * x / y))(1.0, 0.0) == math.inf
    # a division of plain numbers in f itself raises, in eager and compiled alike
    with pytest.raises(ZeroDivisionError):
        grad(lambda x, y: x * (1.0 / y))(1.0, 0.0)
    with pytest.raises(ZeroDivisionError):
        grad(compile(lambda x, y: x * (1.0 / y)))(1.0, 0.0)


def test_a_rule_s_zero_partial_keeps_eager_s_sign_for_what_reads_it():
    # floor' and eq' are 0 by their rules: eager multiplies that 0.0 by the upstream
    # gradient. A compiled -0.0 there was silently wrong once atan2 read it (-pi for pi).
    def angle(x):
        return x * at.atan2(grad(floor)(x), -1.0)

    def angle_of_eq(x):
        return at.atan2(grad(lambda t: eq(t, 1.0) * 3.0)(x), x - 5.0) * x

    for f in (angle, angle_of_eq):
        for x in (2.0, -2.0, 0.5, 0.0, 1.0):
            assert same(compile(f)(x), f(x)), (f.__name__, x)
            assert same(compile(grad(f))(x), grad(f)(x)), (f.__name__, x)
            assert same(grad(compile(f))(x), grad(f)(x)), (f.__name__, x)
    assert compile(angle)(2.0) == angle(2.0) == 2 * math.pi
