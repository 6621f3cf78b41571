"""The README's edge-case table, row by row, and detect_anomaly."""

from __future__ import annotations

import math
import pathlib

import pytest

import autograd_tiny as at
from autograd_tiny import Value, detect_anomaly

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _grad_of(f, x: float) -> float:
    v = Value(x)
    f(v).backward()
    return v.grad


# (expression as written in the README, result as written there, how to compute it)
EDGE_CASES = [
    ("1 / 0", "inf", lambda: (Value(1.0) / 0).data),
    ("-1 / 0", "-inf", lambda: (Value(-1.0) / 0).data),
    ("0 / 0", "nan", lambda: (Value(0.0) / 0).data),
    ("0 ** -1", "inf", lambda: (Value(0.0) ** -1).data),
    ("log(0)", "-inf", lambda: at.log(Value(0.0)).data),
    ("log(-1)", "nan", lambda: at.log(Value(-1.0)).data),
    ("log1p(-1)", "-inf", lambda: at.log1p(Value(-1.0)).data),
    ("sqrt(-1)", "nan", lambda: at.sqrt(Value(-1.0)).data),
    ("(-8) ** (1/3)", "nan", lambda: (Value(-8.0) ** (1 / 3)).data),
    ("(-2) ** 3", "-8.0", lambda: (Value(-2.0) ** 3).data),
    ("exp(1000)", "inf", lambda: at.exp(Value(1000.0)).data),
    ("exp(-1000)", "0.0", lambda: at.exp(Value(-1000.0)).data),
    ("10 ** 400", "inf", lambda: (Value(10.0) ** 400).data),
    ("sin(inf)", "nan", lambda: at.sin(Value(math.inf)).data),
    ("tanh(inf)", "1.0", lambda: at.tanh(Value(math.inf)).data),
    ("sigmoid(-1000)", "0.0", lambda: at.sigmoid(Value(-1000.0)).data),
    ("sigmoid(1000)", "1.0", lambda: at.sigmoid(Value(1000.0)).data),
    ("softplus(1000)", "1000.0", lambda: at.softplus(Value(1000.0)).data),
    ("relu(nan)", "nan", lambda: at.relu(Value(math.nan)).data),
    ("relu'(0)", "0.0", lambda: _grad_of(at.relu, 0.0)),
    ("relu'(nan)", "nan", lambda: _grad_of(at.relu, math.nan)),
    ("d/dx x ** 0 at 0", "0.0", lambda: _grad_of(lambda x: x**0, 0.0)),
    ("d²/dx² x ** 1 at 0", "0.0", lambda: at.grad(at.grad(lambda x: x**1))(0.0)),
    ("abs'(0)", "0.0", lambda: _grad_of(abs, 0.0)),
    ("abs'(nan)", "nan", lambda: _grad_of(abs, math.nan)),
    ("leaky_relu'(0)", "0.01", lambda: _grad_of(at.leaky_relu, 0.0)),
    ("sqrt'(0)", "inf", lambda: _grad_of(at.sqrt, 0.0)),
    ("log'(0)", "inf", lambda: _grad_of(at.log, 0.0)),
    ("d/dy (-2) ** y", "0.0", lambda: _grad_of(lambda y: Value(-2.0) ** y, 2.0)),
    ("d/dy nan ** y", "nan", lambda: _grad_of(lambda y: math.nan**y, 1.0)),
    ("tan(inf)", "nan", lambda: at.tan(Value(math.inf)).data),
    ("asin(2)", "nan", lambda: at.asin(Value(2.0)).data),
    ("asin'(1)", "inf", lambda: _grad_of(at.asin, 1.0)),
    ("acos'(1)", "-inf", lambda: _grad_of(at.acos, 1.0)),
    ("atan(inf)", "1.5707963267948966", lambda: at.atan(Value(math.inf)).data),
    ("atan'(inf)", "0.0", lambda: _grad_of(at.atan, math.inf)),
    ("sinh(-1000)", "-inf", lambda: at.sinh(Value(-1000.0)).data),
    ("cosh(1000)", "inf", lambda: at.cosh(Value(1000.0)).data),
    ("log2(0)", "-inf", lambda: at.log2(Value(0.0)).data),
    ("log2'(0)", "inf", lambda: _grad_of(at.log2, 0.0)),
    ("log10(-1)", "nan", lambda: at.log10(Value(-1.0)).data),
    ("erf(inf)", "1.0", lambda: at.erf(Value(math.inf)).data),
    ("atan2(0, -1)", "3.141592653589793", lambda: at.atan2(Value(0.0), -1.0).data),
    ("d/dy atan2(y, x) at (0, 0)", "0.0", lambda: _grad_of(lambda y: at.atan2(y, 0.0), 0.0)),
    ("d/dy atan2(y, 1) at nan", "nan", lambda: _grad_of(lambda y: at.atan2(y, 1.0), math.nan)),
    ("maximum(nan, 1)", "nan", lambda: at.maximum(Value(math.nan), 1.0).data),
    ("d/dx maximum(x, 1) at 1", "0.5", lambda: _grad_of(lambda x: at.maximum(x, 1.0), 1.0)),
    ("d/dx clamp(x, 0, 1) at 1", "1.0", lambda: _grad_of(lambda x: at.clamp(x, 0.0, 1.0), 1.0)),
    ("-7 % 3", "2.0", lambda: (Value(-7.0) % 3).data),
    ("5 % 0", "nan", lambda: (Value(5.0) % 0).data),
    ("d/dy 7 % y at 2", "-3.0", lambda: _grad_of(lambda y: 7.0 % y, 2.0)),
]


@pytest.mark.parametrize(
    "expression, expected, compute", EDGE_CASES, ids=[row[0] for row in EDGE_CASES]
)
def test_edge_case_row(expression, expected, compute):
    result = compute()
    assert isinstance(result, float) and not isinstance(result, complex)
    want = float(expected)
    if math.isnan(want):
        assert math.isnan(result)
    else:
        assert result == want


@pytest.mark.parametrize(
    "expression, expected, compute", EDGE_CASES, ids=[row[0] for row in EDGE_CASES]
)
def test_edge_case_row_is_documented_in_the_readme(expression, expected, compute):
    assert f"| `{expression}` | `{expected}` |" in README.read_text(encoding="utf-8")


def test_module_functions_on_plain_numbers_follow_the_same_table():
    assert at.log(0) == -math.inf
    assert math.isnan(at.sqrt(-1))
    assert at.exp(1000) == math.inf
    assert math.isnan(at.power(-8, 1 / 3))


# -- detect_anomaly ------------------------------------------------------------


def test_detect_anomaly_names_the_op_inputs_and_user_line_in_forward():
    x = Value(-1.0)
    with detect_anomaly(), pytest.raises(FloatingPointError) as info:
        x.log()  # the line the message must name
    message = str(info.value)
    assert "log" in message
    assert "Value(data=-1.0" in message
    assert f"{pathlib.Path(__file__).name}:" in message


def test_detect_anomaly_names_the_creating_line_in_backward():
    x = Value(0.0)
    with detect_anomaly():
        y = x.sqrt()
        line = _line_of("y = x.sqrt()")
        with pytest.raises(FloatingPointError) as info:
            y.backward()
    message = str(info.value)
    assert "backward of sqrt" in message
    assert f"{pathlib.Path(__file__).name}:{line}" in message


def _line_of(source: str) -> int:
    for number, text in enumerate(pathlib.Path(__file__).read_text().splitlines(), start=1):
        if text.strip() == source:
            return number
    raise LookupError(source)


def test_detect_anomaly_stays_quiet_on_finite_graphs_and_is_restored():
    with detect_anomaly():
        x = Value(2.0)
        y = (x * x).log()
        y.backward()
    assert x.grad == pytest.approx(1.0)
    assert at.log(Value(0.0)).data == -math.inf  # no error outside the block


def test_without_detect_anomaly_non_finite_values_flow_silently():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert x.grad == math.inf
