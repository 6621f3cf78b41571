"""Value construction, graph recording, backward accumulation, no_grad, memory and depth."""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import fractions
import gc
import math
import subprocess
import sys
import textwrap
import threading
import weakref

import pytest

import autograd_tiny as at
from autograd_tiny import Value, no_grad

# -- construction ----------------------------------------------------------


@pytest.mark.parametrize(
    "number, expected",
    [
        (3, 3.0),
        (2.5, 2.5),
        (True, 1.0),
        (False, 0.0),
        (fractions.Fraction(1, 4), 0.25),
        (decimal.Decimal("1.5"), 1.5),
    ],
)
def test_value_converts_real_numbers_to_float(number, expected):
    v = Value(number)
    assert type(v.data) is float
    assert v.data == expected


def test_value_accepts_numpy_scalars():
    np = pytest.importorskip("numpy")
    assert Value(np.float32(0.5)).data == 0.5
    assert Value(np.int64(7)).data == 7.0


@pytest.mark.parametrize("bad", ["3", b"3", None, 1 + 2j, [1.0], object()])
def test_value_rejects_non_real_input_naming_it(bad):
    with pytest.raises(TypeError) as info:
        Value(bad)
    assert type(bad).__name__ in str(info.value)


def test_value_rejects_a_numeric_string_before_float_could_accept_it():
    with pytest.raises(TypeError, match="str '3'"):
        Value("3")


def test_value_of_a_value_suggests_data():
    with pytest.raises(TypeError, match=r"\.data"):
        Value(Value(1.0))


def test_value_of_an_int_too_large_for_float_raises_overflow_naming_it():
    with pytest.raises(OverflowError, match="too large"):
        Value(10**400)


def test_leaf_attributes():
    v = Value(2.0, label="x")
    assert (v.data, v.grad, v.label, v.op, v.parents) == (2.0, 0.0, "x", "", ())


def test_label_must_be_a_string():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)  # type: ignore[arg-type]


def test_repr_and_float():
    v = Value(2.5)
    assert repr(v) == "Value(data=2.5, grad=0.0)"
    assert float(v) == 2.5


def test_values_hash_by_identity_and_equality_is_identity():
    a, b = Value(1.0), Value(1.0)
    assert a != b
    assert a == a
    assert len({a, b, a}) == 2


def test_ordering_compares_data_with_values_and_numbers():
    a, b = Value(1.0), Value(2.0)
    assert a < b and a <= b and b > a and b >= a
    assert a < 1.5 and b > 1.5 and a <= 1 and b >= 2
    assert 0.5 < a and 3 > b  # noqa: SIM300 (the reflected comparisons are the point)
    assert isinstance(a < b, bool)


def test_operand_of_wrong_type_names_the_op():
    with pytest.raises(TypeError, match=r"operand of \+.*str"):
        Value(1.0) + "2"  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"operand of \*"):
        None * Value(1.0)  # type: ignore[operator]


# -- graph recording -------------------------------------------------------


def test_a_plus_a_keeps_both_parents_in_order():
    a = Value(1.0)
    b = a + a
    assert b.parents == (a, a)


def test_parents_keep_operand_order_for_reflected_ops():
    x = Value(3.0)
    out = 2.0 - x
    assert out.op == "-"
    assert out.parents[0].data == 2.0 and out.parents[1] is x
    assert out.data == -1.0


def test_each_written_operator_is_one_node():
    a, b = Value(6.0), Value(3.0)
    for out, op in [
        (a + b, "+"),
        (a - b, "-"),
        (a * b, "*"),
        (a / b, "/"),
        (a**b, "**"),
        (-a, "neg"),
        (abs(a), "abs"),
    ]:
        assert out.op == op
        assert all(p.op == "" for p in out.parents)


def test_module_functions_accept_values_and_numbers():
    x = Value(0.0)
    for name in ["exp", "log1p", "tanh", "sigmoid", "softplus", "relu", "sin", "cos"]:
        fn = getattr(at, name)
        assert isinstance(fn(x), Value)
        assert fn(x).op == name
        assert fn(0.0) == fn(x).data
        assert fn(0) == fn(x).data
    assert at.sqrt(4) == 2.0 and at.log(1) == 0.0 and at.exp(0) == 1.0


def test_forward_values():
    x = Value(0.5)
    assert (x * 4 + 1).data == 3.0
    assert (1 / x).data == 2.0
    assert (2**x).data == pytest.approx(2**0.5)
    assert x.sigmoid().data == pytest.approx(1 / (1 + 2.718281828459045**-0.5))
    assert x.leaky_relu(0.1).data == 0.5
    assert Value(-2.0).leaky_relu(0.1).data == pytest.approx(-0.2)


# -- backward ----------------------------------------------------------------


def test_backward_of_x_cubed():
    x = Value(3.0)
    y = x * x * x
    y.backward()
    assert x.grad == 27.0


def test_backward_accumulates_on_second_call_by_exactly_doubling():
    x = Value(3.0)
    mid = x * x
    y = mid * x
    y.backward()
    first = (x.grad, mid.grad, y.grad)
    y.backward()
    assert (x.grad, mid.grad, y.grad) == tuple(2 * g for g in first)
    assert x.grad == 54.0  # micrograd's compounding gives 72


def test_shared_node_gradients_add_up():
    a = Value(1.0)
    b = a + a
    c = b + b
    c.backward()
    assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)


def test_backward_with_a_gradient_argument_scales_everything():
    x = Value(2.0)
    y = x * x
    y.backward(gradient=0.5)
    assert x.grad == 2.0 and y.grad == 0.5


@pytest.mark.parametrize("bad", ["1", None, [1.0]])
def test_backward_rejects_a_bad_gradient_argument(bad):
    with pytest.raises(TypeError, match="backward"):
        (Value(1.0) * 2).backward(bad)


def test_backward_rejects_a_value_as_gradient():
    with pytest.raises(TypeError, match=r"\.data"):
        Value(1.0).backward(Value(2.0))


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_interrupted_backward_leaves_every_grad_as_it_was(monkeypatch, interruption):
    x, w = Value(0.5, label="x"), Value(3.0, label="w")
    x.grad, w.grad = 10.0, 20.0
    hidden = x * w
    z = hidden.tanh() + x
    hidden.grad = 7.0  # an intermediate node with a grad of its own

    def broken_tanh_rule(x, out):
        raise interruption("stop")

    monkeypatch.setitem(at.RULES, "tanh", broken_tanh_rule)
    with pytest.raises(interruption):
        z.backward()
    assert (x.grad, w.grad, hidden.grad, z.grad) == (10.0, 20.0, 7.0, 0.0)
    monkeypatch.undo()
    z.backward()  # and the next call adds exactly its own contribution
    assert x.grad == pytest.approx(10.0 + 1.0 + 3.0 * (1 - math.tanh(1.5) ** 2))


class _InterruptingGrad(float):
    """A .grad that raises KeyboardInterrupt when backward merges into it (its last loop)."""

    def __add__(self, other):
        raise KeyboardInterrupt


@pytest.mark.parametrize("anomaly", [False, True])
def test_interrupt_in_the_final_merge_of_backward_leaves_every_grad_as_it_was(anomaly):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    out = a * b
    a.grad, b.grad, out.grad = 5.0, _InterruptingGrad(7.0), 11.0
    context = at.detect_anomaly() if anomaly else contextlib.nullcontext()
    with pytest.raises(KeyboardInterrupt), context:
        out.backward()
    assert (a.grad, b.grad, out.grad) == (5.0, 7.0, 11.0)


def test_backward_of_a_leaf_sets_its_own_grad():
    x = Value(5.0)
    x.backward()
    assert x.grad == 1.0


def test_neuron_gradients_match_hand_derivation():
    x1, x2, w1, w2, b = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.backward()
    local = 1 - out.data**2
    assert out.data == pytest.approx(0.7071067811865476)
    assert w1.grad == pytest.approx(local * 2.0)
    assert x1.grad == pytest.approx(local * -3.0)
    assert x2.grad == pytest.approx(local * 1.0)
    assert w2.grad == pytest.approx(0.0)


# -- no_grad -----------------------------------------------------------------


def test_no_grad_records_no_parents_and_is_restored_after_an_exception():
    x = Value(2.0)
    with pytest.raises(RuntimeError), no_grad():
        assert not at.is_grad_enabled()
        y = x * x
        assert y.parents == () and y.op == "" and y.data == 4.0
        raise RuntimeError("boom")
    assert at.is_grad_enabled()
    assert (x * x).parents == (x, x)


def test_no_grad_in_one_thread_does_not_affect_another():
    entered, checked = threading.Event(), threading.Event()
    seen = {}

    def other_thread():
        entered.wait(5)
        seen["parents"] = len((Value(1.0) * 2).parents)
        checked.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with no_grad():
        entered.set()
        checked.wait(5)
    thread.join()
    assert seen["parents"] == 2


def test_no_grad_in_one_asyncio_task_does_not_affect_another():
    async def inside_no_grad(gate):
        with no_grad():
            await gate.wait()
            return len((Value(1.0) * 2).parents)

    async def outside(gate):
        await asyncio.sleep(0)
        count = len((Value(1.0) * 2).parents)
        gate.set()
        return count

    async def main():
        gate = asyncio.Event()
        return await asyncio.gather(inside_no_grad(gate), outside(gate))

    assert asyncio.run(main()) == [0, 2]


# -- memory and depth ------------------------------------------------------------


def test_dropped_graph_is_freed_by_reference_counting_alone():
    gc.disable()
    try:
        x = Value(1.0)
        y = (x * 2).tanh() + x
        inner = weakref.ref(y.parents[0])
        y.backward()
        del y
        assert inner() is None
        assert x.grad != 0.0
    finally:
        gc.enable()


@pytest.mark.slow
def test_a_million_deep_chain_works_at_the_default_recursion_limit():
    script = textwrap.dedent(
        """
        import sys, weakref
        from autograd_tiny import Value
        assert sys.getrecursionlimit() <= 1000
        x = Value(0.0)
        v = x
        for _ in range(1_000_000):
            v = v + 1.0
        v.backward()
        assert v.data == 1_000_000.0, v.data
        assert x.grad == 1.0, x.grad
        probe = weakref.ref(v.parents[0])
        del v
        assert probe() is None
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize("anomaly", [False, True])
def test_one_interrupt_at_any_line_of_backward_leaves_every_grad_before_or_after(anomaly):
    # Deterministic: a trace function raises KeyboardInterrupt at the k-th line the
    # engine's backward runs, for every k, as a Ctrl-C arriving there would.
    def build():
        a, b = Value(0.5, label="a"), Value(-1.5, label="b")
        hidden = (a * b).tanh()
        out = hidden * a + b.exp()
        a.grad, hidden.grad = 3.0, -2.0
        return out, (a, b, hidden, out)

    def grads(nodes):
        return tuple(n.grad for n in nodes)

    out, nodes = build()
    before = grads(nodes)
    with at.detect_anomaly() if anomaly else contextlib.nullcontext():
        out.backward()
    after = grads(nodes)
    engine_files = set(at.engine._ENGINE_FILES)
    WALK = {
        "backward",
        "_backward_into_grad",
        "_accumulate",
        "_propagate",
        "_add_adjoints",
        "_restore",
        "local_partials",
        "reverse_topological_order",
        "forward_order",
        "<listcomp>",
    }

    def run_with_interrupt_at(k):
        out, nodes = build()
        seen = [0]

        def tracer(frame, event, arg):
            # the backward pass's own frames (not detect_anomaly's context manager)
            if frame.f_code.co_filename not in engine_files or frame.f_code.co_name not in WALK:
                return None
            if event == "line":
                seen[0] += 1
                if seen[0] == k:
                    sys.settrace(None)
                    raise KeyboardInterrupt
            return tracer

        interrupted = False
        sys.settrace(tracer)
        try:
            with at.detect_anomaly() if anomaly else contextlib.nullcontext():
                out.backward()
        except KeyboardInterrupt:
            interrupted = True
        finally:
            sys.settrace(None)
        return interrupted, grads(nodes), seen[0]

    k, hits = 1, 0
    while True:
        interrupted, result, _lines = run_with_interrupt_at(k)
        if not interrupted:
            break
        hits += 1
        assert result in (before, after), (k, result)
        k += 1
    assert hits > 20 and result == after


# -- engine re-exports the modules it was split into ---------------------------------------

# Every name engine.py had before the split (bar its own imports of the standard library).
ENGINE_NAMES = (
    "Value",
    "RULES",
    "FLOAT_FUNCTIONS",
    "local_partials",
    "to_float",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "is_anomaly_enabled",
    "variable",
    "clock",
    "reaches_older",
    "detect_anomaly",
    "gradients",
    "reverse_topological_order",
    "forward_order",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "tanh",
    "sigmoid",
    "softplus",
    "relu",
    "leaky_relu",
    "sin",
    "cos",
    "power",
    "identity",
    "Op",
    "REGISTRY",
    "define_op",
    "tan",
    "atan",
    "asin",
    "acos",
    "sinh",
    "cosh",
    "atan2",
    "log2",
    "log10",
    "erf",
    "maximum",
    "minimum",
    "clamp",
    "clamp_min",
    "clamp_max",
    "lt",
    "le",
    "gt",
    "ge",
    "eq",
    "ne",
    "if_true",
    "if_false",
    "where",
    "floor",
    "Domain",
    "Scalar",
    "_ANOMALY",
    "_CMP_TORCH",
    "_CONSTANT_BIRTH",
    "_FIRST_CALLERS",
    "_FIRST_OPS",
    "_LN10",
    "_LN2",
    "_MODE",
    "_NO_GRAD",
    "_ORIGIN",
    "_PACKAGE_DIR",
    "_TRACING",
    "_TWO_OVER_ROOT_PI",
    "_above",
    "_accumulate",
    "_apart",
    "_arity",
    "_at_least",
    "_backward_into_grad",
    "_builtin",
    "_checked_partials",
    "_comparison",
    "_constant",
    "_cos",
    "_data",
    "_div",
    "_epoch",
    "_exp",
    "_floor_of",
    "_function_name",
    "_ieee",
    "_ieee_partials",
    "_log",
    "_log1p",
    "_mod",
    "_new_value",
    "_node",
    "_number",
    "_op_function",
    "_pow",
    "_propagate",
    "_real",
    "_register",
    "_relu",
    "_restore",
    "_sigmoid",
    "_sin",
    "_softplus",
    "_sqrt",
    "_ticks",
    "_undefined",
    "_user_location",
    "_with_arity",
)


def test_engine_still_offers_every_name_it_had_before_the_split():
    from autograd_tiny import engine

    assert [name for name in ENGINE_NAMES if not hasattr(engine, name)] == []
    assert set(engine.__all__) <= set(ENGINE_NAMES)


def test_engine_names_are_the_objects_the_engine_uses():
    from autograd_tiny import engine, modes, ops, rules, value, walk

    assert engine.RULES is rules.RULES and engine.REGISTRY is ops.REGISTRY  # one dict each
    assert engine.FLOAT_FUNCTIONS is rules.FLOAT_FUNCTIONS and engine._MODE is modes._MODE
    assert engine.Value is value.Value is rules.Value and engine._propagate is walk._propagate
    before = engine._epoch
    tick = engine.clock()  # clock() rebinds value._epoch: engine._epoch follows it
    assert engine._epoch == value._epoch == tick > before


def test_engine_files_name_every_module_of_the_engine():
    from autograd_tiny import _ieee, engine, modes, ops, piecewise, rules, value, walk

    files = {m.__file__ for m in (_ieee, engine, modes, ops, piecewise, rules, value, walk)}
    assert set(engine._ENGINE_FILES) == files
    assert Value.__init__.__code__.co_filename in engine._ENGINE_FILES
