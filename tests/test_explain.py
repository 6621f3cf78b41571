"""explain(): the backward pass step by step, and its table."""

from __future__ import annotations

import pytest

from autograd_tiny import Value
from autograd_tiny.engine import reverse_topological_order
from autograd_tiny.explain import Explanation, Step, explain, node_names
from autograd_tiny.viz import to_dot


def neuron() -> tuple[list[Value], Value]:
    """micrograd's neuron: tanh(x1*w1 + x2*w2 + b); returns (leaves, output)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    out = (x1 * w1 + x2 * w2 + b).tanh()
    return [x1, x2, w1, w2, b], out


def rows(explanation: Explanation) -> list[tuple[object, ...]]:
    return [
        (s.node, s.op, s.input, s.local, s.upstream, s.contribution, s.total) for s in explanation
    ]


def test_a_plus_a_then_b_plus_b_takes_four_contributions_to_reach_four() -> None:
    a = Value(2.0, label="a")
    b = a + a
    c = b + b
    explanation = explain(c)
    assert rows(explanation) == [
        ("n0", "+", "n1", 1.0, 1.0, 1.0, 1.0),
        ("n0", "+", "n1", 1.0, 1.0, 1.0, 2.0),
        ("n1", "+", "a", 1.0, 2.0, 2.0, 2.0),
        ("n1", "+", "a", 1.0, 2.0, 2.0, 4.0),
    ]
    assert [s.index for s in explanation] == [1, 2, 3, 4]
    assert explanation[3].node_value is b and explanation[3].input_value is a
    assert (a.grad, b.grad, c.grad) == (4.0, 2.0, 1.0)


def test_steps_follow_reverse_topological_order_and_input_order() -> None:
    x = Value(3.0, label="x")
    y = Value(4.0, label="y")
    z = (x - y) / x
    explanation = explain(z)
    order = [n for n in reverse_topological_order(z) if n.parents]
    expected = [(node, parent) for node in order for parent in node.parents]
    assert [(s.node_value, s.input_value) for s in explanation] == expected
    # d/dx (x - y) = 1, d/dy (x - y) = -1; d/da a/x = 1/x, d/dx a/x = -a/x**2.
    assert [(s.op, s.input, s.local) for s in explanation] == [
        ("/", "n1", 1 / 3),
        ("/", "x", -(-1 / 3) / 3),
        ("-", "x", 1.0),
        ("-", "y", -1.0),
    ]


def test_tanh_neuron_totals_match_backward_grads() -> None:
    leaves, out = neuron()
    explanation = explain(out)
    last_total = {id(s.input_value): s.total for s in explanation}
    for leaf in leaves:
        assert last_total[id(leaf)] == leaf.grad
    assert leaves[0].grad == pytest.approx(-1.5)
    assert leaves[2].grad == pytest.approx(1.0)
    tanh_step = explanation[0]
    assert (tanh_step.op, tanh_step.upstream) == ("tanh", 1.0)
    assert tanh_step.local == pytest.approx(0.5)


def test_grads_are_exactly_those_of_backward() -> None:
    explained_leaves, explained = neuron()
    plain_leaves, plain = neuron()
    explain(explained)
    plain.backward()
    assert [v.grad for v in explained_leaves] == [v.grad for v in plain_leaves]
    assert explained.grad == plain.grad == 1.0


def test_explain_accumulates_like_backward() -> None:
    x = Value(3.0, label="x")
    y = x * x * x
    first = explain(y)
    second = explain(y)
    assert x.grad == 54.0  # 27 twice, never micrograd's compounded 72
    assert rows(first) == rows(second)
    assert [(s.input, s.contribution, s.total) for s in first] == [
        ("n1", 3.0, 3.0),
        ("x", 9.0, 9.0),
        ("x", 9.0, 18.0),
        ("x", 9.0, 27.0),
    ]


def test_gradient_seed_scales_every_step() -> None:
    x = Value(3.0, label="x")
    explanation = explain(x * 2, gradient=0.5)
    assert explanation.seed == 0.5
    assert rows(explanation) == [
        ("n0", "*", "x", 2.0, 0.5, 1.0, 1.0),
        ("n0", "*", "n1", 3.0, 0.5, 1.5, 1.5),
    ]
    assert x.grad == 1.0


def test_leaf_root_has_no_steps_but_gets_its_seed() -> None:
    x = Value(3.0, label="x")
    explanation = explain(x)
    assert len(explanation) == 0 and explanation.steps == ()
    assert x.grad == 1.0
    assert explanation.table() == "step  node  op  input  local  upstream  contribution  total"


def test_table_has_header_and_aligned_rows() -> None:
    a = Value(2.0, label="a")
    b = a + a
    text = str(explain(b + b))
    assert text == (
        "step  node  op  input  local  upstream  contribution  total\n"
        "   1  n0    +   n1         1         1             1      1\n"
        "   2  n0    +   n1         1         1             1      2\n"
        "   3  n1    +   a          1         2             2      2\n"
        "   4  n1    +   a          1         2             2      4"
    )


def test_table_digits_and_non_finite_numbers() -> None:
    x = Value(0.0, label="x")
    text = explain(x.log() * (1 / 3)).table(digits=3)
    assert "0.333" in text and "0.3333" not in text
    assert "inf" in text.splitlines()[2]


def test_repr_is_short_and_steps_are_values() -> None:
    x = Value(1.0, label="x")
    explanation = explain(x.exp())
    assert repr(explanation) == "<Explanation: 1 step from n0>"
    assert isinstance(explanation[0], Step)
    assert "node_value" not in repr(explanation[0])


def test_names_match_the_picture() -> None:
    x = Value(1.5, label="x")
    y = (x * 2).sin()
    explanation = explain(y)
    source = to_dot(y)
    for step in explanation:
        assert f"<td>{step.node}</td>" in source
        assert f"<td>{step.input}</td>" in source


def test_bad_arguments_raise_named_errors() -> None:
    with pytest.raises(TypeError, match="needs a Value, got int"):
        explain(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="explain\\(gradient\\) needs a real number"):
        explain(Value(1.0), gradient="one")


def two_xs_and_an_n0() -> tuple[Value, Value, Value, Value]:
    """(x * other_x) + fake_n0, unlabelled root: two leaves say "x", one says "n0"."""
    x, other_x = Value(2.0, label="x"), Value(5.0, label="x")
    fake_n0 = Value(1.0, label="n0")
    return x, other_x, fake_n0, x * other_x + fake_n0


def test_distinct_nodes_with_the_same_label_get_distinct_names() -> None:
    x, other_x, _fake_n0, root = two_xs_and_an_n0()
    steps = explain(root)
    assert rows(steps) == [
        ("n0", "+", "n2", 1.0, 1.0, 1.0, 1.0),
        ("n0", "+", "n0#2", 1.0, 1.0, 1.0, 1.0),
        ("n2", "*", "x", 5.0, 1.0, 5.0, 5.0),
        ("n2", "*", "x#2", 2.0, 1.0, 2.0, 2.0),
    ]
    assert steps[2].input_value is x and steps[3].input_value is other_x
    assert steps.root == "n0"


def test_the_same_node_used_twice_keeps_one_name() -> None:
    x = Value(3.0, label="x")
    assert [s.input for s in explain(x * x)] == ["x", "x"]


def test_a_name_that_is_already_a_suffixed_label_still_stays_unique() -> None:
    a, b, c = Value(1.0, label="x"), Value(2.0, label="x"), Value(3.0, label="x#2")
    names = node_names(reverse_topological_order(a + b + c))
    assert names[a] == "x" and names[b] == "x#2" and names[c] == "x#2#2"
    assert len(set(names.values())) == len(names)


def test_explain_and_viz_name_every_node_alike() -> None:
    *_, root = two_xs_and_an_n0()
    order = reverse_topological_order(root)
    dot = to_dot(root, show_grad=False)
    for name in node_names(order).values():
        assert f"<td>{name}</td>" in dot


def test_explain_evaluates_each_rule_once(monkeypatch) -> None:
    import autograd_tiny.engine as engine

    calls = []
    real_mul = engine.RULES["*"]
    monkeypatch.setitem(engine.RULES, "*", lambda *a: calls.append(1) or real_mul(*a))
    x = Value(3.0, label="x")
    explain(x * x * x)
    assert len(calls) == 2 and x.grad == 27.0


def test_explain_inside_detect_anomaly_raises_at_a_non_finite_gradient() -> None:
    from autograd_tiny import detect_anomaly

    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt()
        with pytest.raises(FloatingPointError, match="sqrt"):
            explain(y)
