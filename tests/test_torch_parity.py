"""Values and gradients equal PyTorch's (float64) on every op and on random expressions."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_tiny import REGISTRY, RULES, Value, grad
from autograd_tiny.testing import OPS, arguments, expression_cases

torch = pytest.importorskip("torch")
F = torch.nn.functional

# PyTorch's counterpart of each op, from the op registry (``torch=`` of each entry).
TORCH_OPS = {
    name: eval(op.torch, {"torch": torch, "F": F}) for name, op in REGISTRY.items() if op.torch
}


def _torch_leaf(x: float):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def test_every_built_in_op_has_a_torch_counterpart():
    built_in = {name for name, op in REGISTRY.items() if op.builtin}
    assert built_in == set(RULES) - {name for name, op in REGISTRY.items() if not op.builtin}
    assert set(TORCH_OPS) >= built_in, "give the registry entry its torch= counterpart"


@pytest.mark.parametrize("op", sorted(n for n, op in REGISTRY.items() if op.builtin))
@settings(max_examples=30)
@given(data=st.data())
def test_op_value_and_gradient_equal_torch(op, data):
    assert_op_equals_torch(op, data.draw(arguments(op)))


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-12, abs=1e-12)


def assert_op_equals_torch(op: str, args: tuple[float, ...]) -> None:
    """Value and every gradient of one op at ``args`` equal PyTorch's (float64), nan for nan."""
    ours = [Value(a) for a in args]
    out = OPS[op](*ours)
    out.backward()
    theirs = [_torch_leaf(a) for a in args]
    expected = TORCH_OPS[op](*theirs)
    expected.backward()
    assert _same(out.data, expected.item()), (out.data, expected.item())
    for v, t in zip(ours, theirs):
        assert _same(v.grad, t.grad.item()), (v.grad, t.grad.item())


def _torch_eval(expression, leaves):
    slots = list(leaves)
    for op, operands in expression.steps:
        args = [slots[o] if isinstance(o, int) else o for o in operands]
        if op == "**" and not isinstance(args[1], torch.Tensor):
            slots.append(torch.pow(args[0], args[1]))
        else:
            slots.append(TORCH_OPS[op](*args))
    return slots[-1]


@settings(max_examples=100)
@given(case=expression_cases())
def test_random_expressions_equal_torch(case):
    expression, args = case
    ours = [Value(a) for a in args]
    out = expression(*ours)
    assume(math.isfinite(out.data) and abs(out.data) < 1e8)
    out.backward()
    theirs = [_torch_leaf(a) for a in args]
    expected = _torch_eval(expression, theirs)
    assume(expected.requires_grad)  # an output that depends on no input has no gradient
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-10, abs=1e-10)
    for v, t in zip(ours, theirs):
        torch_grad = 0.0 if t.grad is None else t.grad.item()
        assert v.grad == pytest.approx(torch_grad, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("x", [-1.3, 0.2, 2.0])
def test_second_and_third_derivatives_equal_torch(x):
    f = lambda v: (
        (v * v + 1).log() * v.sin()
        if isinstance(v, Value)
        else (torch.log(v * v + 1) * torch.sin(v))
    )
    t = _torch_leaf(x)
    (d1,) = torch.autograd.grad(f(t), t, create_graph=True)
    (d2,) = torch.autograd.grad(d1, t, create_graph=True)
    (d3,) = torch.autograd.grad(d2, t)
    assert grad(f)(x) == pytest.approx(d1.item(), rel=1e-12)
    assert grad(grad(f))(x) == pytest.approx(d2.item(), rel=1e-12)
    assert grad(grad(grad(f)))(x) == pytest.approx(d3.item(), rel=1e-10)


# The domain edges and conventions of the newer ops, where PyTorch is the reference.
EDGE_POINTS = [
    ("asin", (1.0,)),
    ("asin", (-1.0,)),
    ("acos", (1.0,)),
    ("asin", (2.0,)),
    ("atan", (math.inf,)),
    ("tan", (math.inf,)),
    ("sinh", (-1000.0,)),
    ("cosh", (1000.0,)),
    ("log2", (0.0,)),
    ("log10", (-1.0,)),
    ("log2", (math.inf,)),
    ("erf", (math.inf,)),
    ("atan2", (0.0, -1.0)),
    ("atan2", (1.0, 0.0)),
    ("atan2", (0.0, 0.0)),
    ("maximum", (1.0, 1.0)),
    ("minimum", (2.0, 2.0)),  # (a nan: ours is nan, torch's 1)
    ("clamp_min", (0.0, 0.0)),
    ("clamp_max", (1.0, 1.0)),
    ("clamp_min", (-3.0, 0.5)),
    ("%", (-7.0, 3.0)),
    ("%", (7.0, -3.0)),
    ("%", (5.0, 0.0)),
    ("%", (-0.5, 2.0)),
]


@pytest.mark.parametrize("op, args", EDGE_POINTS, ids=[f"{op}{args}" for op, args in EDGE_POINTS])
def test_edge_values_and_gradients_equal_torch(op, args):
    assert_op_equals_torch(op, args)
