"""The generated code's rewrites give the eager engine's numbers for every float.

The compiler writes ``a + -b`` as ``a - b``, ``-a * b`` as ``-(a * b)``,
``(2 * x) * 100`` as ``200 * x``, ``x + x`` as ``2 * x``, the two equal terms
of ``x * x``'s gradient once, and (inlining) single-use variables into their
use; ``cf(...)`` becomes the generated code itself. Each rewrite is exact only
under conditions (a scale folds only when the inner one is a power of two of
at least 1 and the outer at least 1: subnormals and overflow decide the
rest), so each is checked here on every kind of float: subnormal, huge, inf,
nan and both zeros, bit for bit (nans alike; the sign of a zero included, but
for a gradient's first term, documented in ``emit.first_assignments``).
"""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_tiny as at
from autograd_tiny import Value, compile, grad, hessian, value_and_grad
from autograd_tiny.compiler.emit import first_assignments
from autograd_tiny.compiler.inline import DEPTH, inline


def identical(a, b) -> bool:
    """Bit for bit through nested lists and tuples; any nan equals any nan."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(identical, a, b))
    if math.isnan(a) and math.isnan(b):
        return True
    return struct.pack("<d", a) == struct.pack("<d", b)


def same_gradient(a, b) -> bool:
    """``identical``, but a zero may differ in sign: the documented difference of a
    gradient's first term, assigned where eager adds it to 0.0 (0.0 + -0.0 is 0.0)."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same_gradient, a, b))
    return identical(a, b) or a == b == 0.0


def _negated(v):
    return -v


# Each function invites one rewrite; some must not fire (the comment says why).
FUNCTIONS = {
    "a + -b": lambda x, y: x + -y,
    "-a + b": lambda x, y: -x + y,
    "-a + -b": lambda x, y: -x + -y,  # stays: -(a + b) differs at a = -b (0.0 vs -0.0)
    "a - -b": lambda x, y: x - -y,
    "-a - -b": lambda x, y: -x - -y,
    "-a - b": lambda x, y: -x - y,
    "-a * b": lambda x, y: -x * y,
    "a / -b": lambda x, y: x / -y,
    "-a * -b": lambda x, y: (-x) * (-y),
    "c * -a": lambda x, y: 3.0 * -x + y,
    "neg of a neg": lambda x, y: -_negated(x * y),
    "-1 * a": lambda x, y: -1.0 * x + y * -1.0,
    "(2x) * 100": lambda x, y: (2.0 * x) * 100.0 + y,
    "(x + x) * 3": lambda x, y: (x + x) * 3.0 - y,
    "(4x) * 0.75": lambda x, y: (4.0 * x) * 0.75 + y,  # stays: 4x may overflow, 3x not
    "(0.5x) * 4": lambda x, y: (0.5 * x) * 4.0 + y,  # stays: 0.5x may round a subnormal
    "(3x) * 2": lambda x, y: (3.0 * x) * 2.0 + y,  # stays: 3x may round a subnormal
    "-(2x) * 8": lambda x, y: -(2.0 * x) * 8.0 + y,
    "x * x": lambda x, y: x * x * y,
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
    "tanh(-x)": lambda x, y: at.tanh(-x) * y - x * -y,
    "x ** 2 * y": lambda x, y: (x**2) * (-y) + x / y,
}

any_float = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
edge = st.sampled_from(
    [
        0.0,
        -0.0,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1e-310,
        1.7e308,
        -1.7e308,
        8.9e307,
        math.inf,
        -math.inf,
        math.nan,
        1.0,
        -1.0,
        0.5,
    ]
)
argument = st.one_of(edge, any_float)


def eager_value(f, x, y):
    out = f(Value(x), Value(y))
    return float(out.data) if isinstance(out, Value) else float(out)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=80, deadline=None)
@given(x=argument, y=argument)
def test_compiled_value_and_gradient_are_eager_bit_for_bit_on_every_float(name, x, y):
    f = FUNCTIONS[name]
    cf = compile(f)
    assert identical(cf(x, y), eager_value(f, x, y))
    got = cf.value_and_grad(x, y)
    expected = value_and_grad(f, argnums=(0, 1))(x, y)
    assert identical(got[0], expected[0])
    assert same_gradient(list(got[1]), list(expected[1]))


@pytest.mark.parametrize("name", ["rosenbrock", "x * x", "(2x) * 100", "-a * b", "tanh(-x)"])
@settings(max_examples=40, deadline=None)
@given(x=argument, y=argument)
def test_compiled_grad_and_hessian_are_eager_bit_for_bit_on_every_float(name, x, y):
    f = FUNCTIONS[name]
    for transform in (grad(f, argnums=(0, 1)), hessian(f, argnums=(0, 1))):
        expected = transform(x, y)
        if all(map(math.isfinite, _flat(expected))):
            assert same_gradient(compile(transform)(x, y), expected)


def _flat(xs):
    return [x for row in xs for x in (row if isinstance(row, (list, tuple)) else [row])]


def test_the_rewrites_show_in_the_code_that_runs():
    rosenbrock = compile(FUNCTIONS["rosenbrock"])
    rosenbrock.value_and_grad(0.5, 1.5)
    code = rosenbrock.value_and_grad.__code__
    # 200 * (y - x*x) as one product: the 2 of the power rule folded into the 100
    assert 200.0 in code.co_consts and 2.0 in code.co_consts
    assert (
        sorted(code.co_varnames) == ["_rest", "h0", "v0", "v3", "x", "y"]
        or len(code.co_varnames) <= 8
    )  # the temporaries read once are gone
    h = compile(hessian(FUNCTIONS["rosenbrock"], argnums=(0, 1)))
    h(0.5, 1.5)
    assert "0.0 **" not in h.source and "** 0.0" not in h.source  # x ** 0 folded to 1
    assert "-1.0 *" not in h.source  # a negation is no product


def test_scales_fold_only_where_that_is_exact():
    # (4x) * 0.75 at 1e308: 4x overflows, so eager gives inf where 3x would not
    assert compile(FUNCTIONS["(4x) * 0.75"])(1e308, 0.0) == math.inf
    # (0.5x) * 4 at the smallest subnormal: 0.5x rounds to 0, so eager gives 0
    assert compile(FUNCTIONS["(0.5x) * 4"])(5e-324, 0.0) == 0.0
    # (3x) * 2 at a subnormal: 3x rounds first
    x = 3e-323
    assert compile(FUNCTIONS["(3x) * 2"])(x, 0.0) == (3.0 * x) * 2.0
    # -a + -b at a = -b: eager gives +0.0, -(a + b) would give -0.0
    assert identical(compile(FUNCTIONS["-a + -b"])(1.0, -1.0), 0.0)


def test_calling_a_compiled_function_runs_the_generated_entry_and_other_calls_still_work():
    cf = compile(lambda x, y: x / y + x * x)
    other = compile(lambda x, y: x - y)
    assert cf(3.0, 2.0) == 10.5 and other(3.0, 2.0) == 1.0
    entry = type(cf).__dict__["__call__"]
    assert isinstance(entry, staticmethod) and entry.__func__.__name__ == "forward"
    assert type(cf) is not type(other) and isinstance(cf, at.compiler.Compiled)
    assert type(other).__call__ is not type(cf).__call__  # each has its own entry
    assert cf(3.0, 2.0) == 10.5
    assert cf(3, 2) == 10.5  # ints become floats, as Value() makes them
    assert cf(3.0, 0.0) == math.inf  # 1/0 goes back to the eager engine
    out = cf(Value(3.0), 2.0)
    assert isinstance(out, Value) and out.data == 10.5
    with pytest.raises(TypeError, match="str"):
        cf("3", 2.0)
    three = compile(lambda *xs: sum(xs, 0.0))
    assert three(1.0, 2.0) == 3.0 and three(1.0, 2.0, 3.0) == 6.0 and three(1.0, 2.0) == 3.0
    assert grad(cf, argnums=(0, 1))(3.0, 2.0) == (6.5, -0.75)


def test_params_read_at_each_call_may_have_been_set_to_an_int():
    w = Value(2.0)
    cf = compile(lambda x: w * x, params=[w])
    assert cf(3.0) == 6.0
    w.data = 5  # an int
    assert cf(3.0) == 15.0 and cf.value_and_grad(3.0) == (15.0, (5.0,))
    w.data = "5"
    with pytest.raises(TypeError, match=r"params\[0\].*str"):
        cf(3.0)


# -- inline: the text pass itself ------------------------------------------------------


def run(body, result, **names):
    namespace = dict(names)
    exec("def f():\n" + "".join(line + "\n" for line in body) + f"    return {result}\n", namespace)
    return namespace["f"]()


def test_inline_writes_single_use_variables_into_their_use_and_keeps_the_rest():
    body = [
        "    v0 = x * y",
        "    v1 = v0 + 1.0",
        "    v2 = v1 * v1",
        "    g_x = y",
        "    g_x -= v2",
    ]
    lines, result = inline(body, "v2, (g_x,)")
    assert lines == ["    v1 = (x * y) + 1.0", "    v2 = v1 * v1"]
    assert result == "v2, ((y - v2),)"
    assert run(lines, result, x=3.0, y=0.1) == run(body, "v2, (g_x,)", x=3.0, y=0.1)


def test_inline_moves_nothing_across_an_assignment_to_what_it_reads():
    # v0 reads g_a before g_a changes: it must not move below that change
    body = ["    g_a = x", "    v0 = g_a * 2.0", "    g_a += 1.0", "    v1 = v0 + g_a"]
    lines, result = inline(body, "v1")
    assert run(lines, result, x=1.0) == run(body, "v1", x=1.0) == 4.0
    assert "    v0 = g_a * 2.0" in lines


def test_inline_leaves_guarded_and_chained_statements_alone():
    body = [
        "    g_a = g_b = 0.0",
        "    v0 = x * 2.0",
        "    if v0 > 0.0:",
        "        g_a += v0",
        "        g_b += 1.0",
        "    v1 = g_a + g_b",
    ]
    lines, result = inline(body, "v1")
    assert lines[0] == "    g_a = g_b = 0.0" and "        g_a += v0" in lines
    for x in (1.0, -1.0):
        assert run(lines, result, x=x) == run(body, "v1", x=x)


def test_inline_stops_at_its_depth_so_long_chains_stay_statements():
    body = [f"    v{i + 1} = _sin(v{i})" for i in range(3 * DEPTH)]
    lines, result = inline(["    v0 = x * 1.5", *body], f"v{3 * DEPTH}")
    assert 2 <= len(lines) < 3 * DEPTH  # some moved, some statements remain
    assert max(line.count("_sin(") for line in [*lines, result]) <= DEPTH + 1  # its own op
    assert run(lines, result, x=0.3, _sin=math.sin) == run(
        ["    v0 = x * 1.5", *body], f"v{3 * DEPTH}", x=0.3, _sin=math.sin
    )


def test_a_first_subtraction_becomes_a_negated_assignment():
    lines, pending = first_assignments(["    g_x -= a * b", "    g_x -= c"], ["g_x"], 1)
    assert lines == ["    g_x = -(a * b)", "    g_x -= c"] and pending == []


def test_an_accumulated_variable_read_twice_is_one_statement_where_its_last_term_was():
    body = [
        "    v0 = _sin(x)",
        "    g1 = 0.1",
        "    g1 += 0.9 * v0",
        "    g1 -= x",
        "    v2 = g1 * g1",
    ]
    lines, result = inline(body, "v2, g1")
    assert lines == ["    g1 = 0.1 + (0.9 * _sin(x)) - x"] and result == "(g1 * g1), g1"
    assert run(lines, result, x=0.7, _sin=math.sin) == run(body, "v2, g1", x=0.7, _sin=math.sin)


def test_an_entry_for_a_function_of_fixed_arity_has_its_plain_signature():
    def f(x, y):
        return x * y

    cf = compile(f)
    assert cf.value_and_grad(2.0, 3.0) == (6.0, (3.0, 2.0))
    entry = cf.value_and_grad
    assert entry.__code__.co_argcount == 2 and not entry.__code__.co_flags & 0x04  # no *rest
    with pytest.raises(TypeError, match="positional argument"):
        entry(2.0)  # as f(2.0) would
    assert entry(2, 3.0) == (6.0, (3.0, 2.0))  # other types still take the general path
    h = compile(hessian(f, argnums=(0, 1)))  # through functools.wraps: f's own arity
    assert h(2.0, 3.0) == [[0.0, 1.0], [1.0, 0.0]]
    assert type(h).__call__.__code__.co_argcount == 2
    varying = compile(lambda x, *rest: x * sum(rest, 1.0))
    assert varying(2.0, 3.0) == 8.0 and varying(2.0, 3.0, 4.0) == 16.0 and varying(2.0) == 2.0


# -- found in review: names, long sums, keywords, the class of one's own ---------------


def test_arguments_named_like_generated_variables_are_renamed():
    def f(h0):
        return at.sin(h0) + 3.0 * (h0 * h0)  # h0 is also the name of x * x's shared term

    value, gradient = value_and_grad(f)(0.5)
    assert compile(f).value_and_grad(0.5) == (value, (gradient,))

    def g(k0, k1):  # k0, k1 also name the flags past 8 nested guards
        x = k0
        for _ in range(11):
            x = (x * k1 + 0.1).relu()
        return x

    expected = value_and_grad(g, argnums=(0, 1))(1.2, 1.1)
    assert compile(g).value_and_grad(1.2, 1.1) == expected


def _tree(x, depth):
    return x * 3.0 if depth == 0 else _tree(x, depth - 1) + _tree(x, depth - 1)


def test_a_gradient_of_thousands_of_terms_compiles_even_deep_in_the_stack():
    def f(x):
        return _tree(x, 11) + _tree(x, 10) + _tree(x, 9)

    def deep(n):
        return deep(n - 1) if n else compile(f).value_and_grad(1.5)

    assert deep(650) == (16128.0, (10752.0,))
    body = ["    g_x = x"] + [f"    g_x += x * {i}.0" for i in range(1, 1300)]
    lines, result = inline(body, "g_x")
    assert len(lines) > 1300 // DEPTH  # the sum stays in statements of bounded height
    assert run(lines, result, x=0.5) == run(body, "g_x", x=0.5)


def test_keywords_are_refused_before_and_after_the_first_call():
    def f(x, y=10.0):
        return x * 2.0 + y

    cf = compile(f)
    with pytest.raises(TypeError):
        cf(y=5.0)
    assert cf(1.0, 2.0) == 4.0
    with pytest.raises(TypeError):
        cf(y=5.0)
    with pytest.raises(TypeError):
        cf.value_and_grad(1.0, y=5.0)
    assert cf.value_and_grad(1.0, 2.0) == (4.0, (2.0, 1.0))
    with pytest.raises(TypeError):
        cf.value_and_grad(1.0, y=5.0)


def test_a_compiled_function_keeps_its_signature_subclasses_pickles_and_copies():
    import copy
    import inspect
    import pickle

    cf = compile(FUNCTIONS["rosenbrock"])
    cf(0.5, 1.5)
    assert list(inspect.signature(cf).parameters) == ["x", "y"]
    assert list(inspect.signature(grad(cf)).parameters) == ["x", "y"]

    calls = []

    class Counting(at.compiler.Compiled):
        def __call__(self, *args):
            calls.append(args)
            return super().__call__(*args)

    counting = Counting(lambda x: x * 2.0)
    assert [counting(1.0), counting(2.0), counting(3.0)] == [2.0, 4.0, 6.0]
    assert len(calls) == 3  # its own __call__ is never replaced

    twin = copy.copy(cf)
    assert type(twin) is not type(cf) and twin(0.5, 1.5) == cf(0.5, 1.5)
    restored = pickle.loads(pickle.dumps(compile(_tree_of_one)))
    assert restored(2.0) == 6.0 and restored.value_and_grad(2.0) == (6.0, (3.0,))


def _tree_of_one(x):
    return _tree(x, 0)


def _scalar(x):
    while isinstance(x, (list, tuple)):
        (x,) = x
    return x


def test_inline_keeps_a_negated_term_in_parentheses():
    body = ["    g1 = -x", "    v2 = g1 ** 2.0"]  # -x ** 2.0 would be -(x ** 2.0)
    lines, result = inline(body, "v2")
    assert run(lines, result, x=3.0) == run(body, "v2", x=3.0) == 9.0
