"""compile composed with the function transforms, at any depth, in any thread.

compile(grad(f)), compile(hessian(f)), compile(jvp(...)), compile(jacobian(f))
give exactly the eager numbers (bitwise; nan where eager is nan), at kinks, at
0, at inf and nan; grad(compile(f)) works at every order and traces once;
tracing never changes what another thread sees.
"""

from __future__ import annotations

import math
import struct
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compile import BINARY, UNARY, build, number, program

import autograd_tiny as at
from autograd_tiny import (
    Value,
    compile,
    grad,
    hessian,
    jacobian,
    jvp,
    no_grad,
    relu,
    value_and_grad,
)
from autograd_tiny.compiler import TraceError
from autograd_tiny.engine import atan2, clamp, maximum, minimum
from autograd_tiny.nn import MLP


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def same(a, b) -> bool:
    """Equal bit for bit, any nan equal to any nan, through nested lists; a zero may
    differ in sign (an untaken branch's contribution is -0.0, documented)."""
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or bits(a) == bits(b) or a == b == 0.0


def same_where_finite(a, b) -> bool:
    """``same`` wherever the eager result ``b`` is finite. Where eager is nan or inf (a
    0 * inf in a rule's constant-0 partial), compile skips the contribution instead:
    the documented difference, as for compiled first derivatives."""
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same_where_finite, a, b))
    return not math.isfinite(float(b)) or same(a, b)


def equal(a, b) -> bool:
    """Equal as numbers (0.0 == -0.0), nan equal to nan, through nested lists."""
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(equal, a, b))
    a, b = float(a), float(b)
    return (math.isnan(a) and math.isnan(b)) or a == b


# One function per rule that branches, each at its kink and beyond.
KINKED = {
    "relu": lambda x: relu(x) * x,
    "abs": lambda x: abs(x) ** 3,
    "power": lambda x: x**2.5 + x**0 + x**3,
    "leaky_relu": lambda x: at.leaky_relu(x, 0.1) * x,
    "maximum": lambda x: maximum(x, 1.0) * x,
    "minimum": lambda x: minimum(x * x, 1.0) * x,
    "mod": lambda x: (x % 1.5) * x,
    "atan2": lambda x: atan2(x, x * x - 1.0),
    "clamp": lambda x: clamp(x * x, -1.0, 2.0) * x,
}
POINTS = [0.0, -0.0, 1.0, -1.0, 1.5, 2.5, -3.0, 1e-300, math.inf, -math.inf, math.nan]
TRANSFORMS = {
    "grad": grad,
    "grad of grad": lambda f: grad(grad(f)),
    "hessian": hessian,
    "third derivative": lambda f: grad(grad(grad(f))),
    "jvp": lambda f: lambda x: jvp(f, (x,), (0.5,)),
    "jacobian": lambda f: jacobian(lambda x: [f(x), x * f(x)]),
}


@pytest.mark.parametrize("name", sorted(KINKED))
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_compiled_transform_equals_eager_at_kinks_zero_inf_and_nan(name, transform):
    g = TRANSFORMS[transform](KINKED[name])
    compiled = compile(g)
    for x in POINTS:
        assert same(compiled(x), g(x)), (name, transform, x, compiled(x), g(x))


def test_compile_grad_of_relu_gives_each_branch_at_each_call():
    # the rule's branch is a select in the trace, not the branch of the first call
    d = compile(grad(lambda x: relu(x) * x))
    assert [d(x) for x in (2.0, -2.0, 0.0, 3.0)] == [4.0, 0.0, 0.0, 6.0]
    assert "if" in d.source


def test_compile_hessian_gives_the_full_matrix():
    f = lambda x, y: x * x * y + relu(x * y) + (x - y).tanh()
    h = compile(hessian(f, argnums=(0, 1)))
    for point in [(2.0, 3.0), (-1.0, 0.5), (0.0, 0.0), (1.0, -1.0)]:
        assert same(h(*point), hessian(f, argnums=(0, 1))(*point))


@settings(max_examples=60, deadline=None)
@given(program, st.lists(number, min_size=1, max_size=3))
def test_compiled_grad_and_hessian_equal_eager_on_random_graphs(steps, args):
    f = build(steps)
    n = len(args)
    argnums = tuple(range(n))
    for g in (grad(f, argnums=argnums), hessian(f, argnums=argnums)):
        try:
            expected = g(*args)
        except (ZeroDivisionError, OverflowError, ValueError):
            continue  # the eager engine raised (a number op, no Value involved)
        assert same_where_finite(compile(g)(*args), expected)


@settings(max_examples=60, deadline=None)
@given(program, st.lists(number, min_size=1, max_size=3))
def test_grad_of_a_compiled_function_equals_grad_of_the_function(steps, args):
    f = build(steps)
    argnums = tuple(range(len(args)))
    compiled = compile(f)
    assert equal(grad(compiled, argnums=argnums)(*args), grad(f, argnums=argnums)(*args))
    assert equal(hessian(compiled, argnums=argnums)(*args), hessian(f, argnums=argnums)(*args))


def test_grad_of_compile_traces_once_and_returns_a_value_for_values():
    calls = []

    def f(x, y):
        calls.append(1)
        return relu(x * y) * x + at.tanh(y)

    compiled = compile(f)
    assert grad(compiled, argnums=(0, 1))(2.0, 3.0) == grad(f, argnums=(0, 1))(2.0, 3.0)
    assert hessian(compiled)(2.0, 3.0) == hessian(f)(2.0, 3.0)
    x = Value(2.0)
    out = compiled(x, 3.0)
    out.backward()
    assert isinstance(out, Value) and x.grad == 12.0
    assert compiled(2.0, 3.0) == out.data
    assert len(calls) == 1 + 2  # one trace; the eager grad and hessian called f once each


def test_compiled_function_inside_a_compiled_transform():
    inner = compile(lambda x: (x * x).relu() + x.sin())
    outer = compile(grad(grad(inner)))
    for x in (0.5, -0.5, 0.0, 2.0):
        assert same(outer(x), grad(grad(lambda t: (t * t).relu() + t.sin()))(x))


def test_jvp_and_value_and_grad_compile_like_the_others():
    f = lambda x, y: maximum(x, y) * x.exp()
    pushed = compile(lambda x, y: jvp(f, (x, y), (1.0, -2.0)))
    both = compile(value_and_grad(f, argnums=(0, 1)))
    for point in [(1.0, 2.0), (2.0, 1.0), (1.0, 1.0)]:
        assert same(pushed(*point), jvp(f, point, (1.0, -2.0)))
        assert same(both(*point), value_and_grad(f, argnums=(0, 1))(*point))


def test_a_closure_over_params_inside_a_compiled_grad_follows_the_params():
    w = Value(2.0, label="w")
    d = compile(lambda x: grad(lambda t: relu(w * t) * t)(x), params=[w])
    assert d(3.0) == 12.0
    w.data = -2.0
    assert d(3.0) == 0.0  # the relu's branch of the rule follows w: a select, not a replay


def test_comparing_a_params_value_in_the_function_is_refused_by_name():
    w = Value(2.0, label="w")
    with pytest.raises(TraceError, match=r"\(w\)"):
        compile(lambda x: x * (1.0 if w > 0 else 2.0), params=[w])(1.0)
    with pytest.raises(TraceError, match=r"\(w\)"):
        compile(lambda x: x * float(w), params=[w])(1.0)
    assert w > 0 and float(w) == 2.0  # outside a trace a Value compares as ever


def test_backward_inside_the_traced_function_is_refused():
    def f(x):
        y = x * x
        y.backward()
        return y

    with pytest.raises(TraceError, match="backward"):
        compile(f)(2.0)


def test_compile_under_an_outer_no_grad_still_traces_the_function():
    with no_grad():
        cf = compile(lambda x: x * x + 1.0)
        assert cf(3.0) == 10.0
        assert cf.value_and_grad(3.0) == (10.0, (6.0,))
    assert cf(4.0) == 17.0


def test_tracing_in_one_thread_leaves_other_threads_eager_code_alone():
    model = MLP(2, [8, 8, 1], seed=0)
    X = [[0.1 * i, -0.2 * i] for i in range(50)]
    expected = [model(x).data for x in X]
    started, errors, results = threading.Event(), [], []

    def traced(a, b):
        started.set()
        out = model([a, b])
        for _ in range(200):  # a long trace: the other threads run meanwhile
            out = out * 1.0 + 0.0
        return out

    def predict() -> None:
        started.wait(5)
        try:
            for _ in range(20):
                results.append([model(x).data for x in X])
                with no_grad():
                    assert (Value(2.0) * 3.0).op == ""
                assert Value(1.0) < 2.0
        except BaseException as error:
            errors.append(error)

    others = [threading.Thread(target=predict) for _ in range(3)]
    for t in others:
        t.start()
    compiled = compile(traced, params=model.parameters())
    for _ in range(20):
        compiled(0.3, -0.4)
    for t in others:
        t.join()
    assert errors == []
    assert all(r == expected for r in results) and len(results) == 60
    assert all(p.__class__ is Value for p in model.parameters())


def test_ten_thousand_chained_relus_compile_with_linear_code():
    def chain(x, w):
        for _ in range(10_000):
            x = (x * w + 0.01).relu()
        return x

    compiled = compile(chain)
    for point in [(0.7, 1.0001), (0.7, -1.0), (-0.3, 1.0002)]:
        leaves = [Value(v) for v in point]
        out = chain(*leaves)
        out.backward()
        assert compiled.value_and_grad(*point) == (out.data, tuple(v.grad for v in leaves))
    lines = compiled.source.splitlines()
    assert len(lines) < 15 * 10_000  # linear: a few lines per relu in each function
    assert max(len(line) for line in lines) < 300  # bounded: no line grows with depth
    assert max(len(line) - len(line.lstrip()) for line in lines) <= 4 * 12


MILLION = """
import resource, sys
from autograd_tiny import compile
def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
def chain(x):
    for _ in range(500_000):
        x = x * 0.999999 + 1e-6
    return x
with open("/proc/self/status") as status:  # the address space in use now, then 1 KB a node
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
limit = size + 1024 * 2_000_000
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
before = peak()
compiled = compile(chain)
value, (grad,) = compiled.value_and_grad(0.5)
print(value, grad, len(compiled._last.graph.nodes), peak() - before)
"""


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_million_node_chain_compiles_and_runs_in_a_kilobyte_per_node():
    done = subprocess.run(
        [sys.executable, "-c", MILLION], capture_output=True, text=True, timeout=1200
    )
    assert done.returncode == 0, done.stderr[-2000:]
    value, grad_, nodes, grown = map(float, done.stdout.split())
    assert nodes >= 1_000_000  # each step: two ops and their two constants
    assert grown / nodes <= 1024, f"{grown / nodes:.0f} bytes of peak memory per node"
    assert value == pytest.approx(1.0 - 0.5 * 0.999999**500_000, rel=1e-9)
    assert grad_ == pytest.approx(0.999999**500_000, rel=1e-9)


def test_the_random_programs_use_the_branching_ops():
    assert {"relu", "abs"} <= set(UNARY) and {"**", "maximum"} <= set(BINARY)


def test_value_and_grad_becomes_the_generated_entry_and_still_checks_its_arguments():
    cf = compile(lambda x, y: x / y + x * x)
    first = cf.value_and_grad(3.0, 2.0)
    entry = cf.value_and_grad
    assert entry.__name__ == "value_and_grad" and "value_and_grad" in vars(cf)
    assert entry(3.0, 2.0) == first == (10.5, (6.5, -0.75))
    assert entry(3, 2) == first  # ints become floats, as Value() makes them
    assert entry(3.0, 0.0)[0] == math.inf  # 1/0 goes back to the eager engine
    with pytest.raises(TypeError, match="got a Value"):
        entry(Value(3.0), 2.0)
    three = compile(lambda x, y, *z: x * y + sum(z))
    assert three.value_and_grad(2.0, 3.0) == (6.0, (3.0, 2.0))
    assert three.value_and_grad(2.0, 3.0, 1.0) == (7.0, (3.0, 2.0, 1.0))  # a new count
    assert three.value_and_grad(2.0, 3.0) == (6.0, (3.0, 2.0))
