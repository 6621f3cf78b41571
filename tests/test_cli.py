"""The `autograd-tiny` command: real output values, the demo's files, and every bad input.

The CLI runs in-process through `cli.main([...])` (fast, and monkeypatch reaches it);
one test runs `python -m autograd_tiny` and the installed console script for real.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from fractions import Fraction
from pathlib import Path
from types import SimpleNamespace

import pytest

from autograd_tiny import cli, engine
from autograd_tiny.cli import train_commands
from autograd_tiny.expr import FUNCTIONS, MAX_LENGTH, ExpressionError, parse
from autograd_tiny.nn import MLP


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def table_rows(text, first_cell):
    """Rows of a printed table whose first cell is `first_cell`, split on whitespace."""
    return [line.split() for line in text.splitlines() if line.split()[:1] == [first_cell]]


# -- graph ------------------------------------------------------------------------


def test_graph_prints_each_gradient_and_writes_parseable_svg(capsys, tmp_path):
    svg = tmp_path / "g.svg"
    status, out, err = run(
        capsys, "graph", "x*y + x", "--var", "x=2", "--var", "y=-3", "--out", str(svg)
    )
    assert status == 0, err
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == "x*y + x = -4 at x=2, y=-3"
    assert "d/dx = -2" in lines
    assert "d/dy = 2" in lines
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    assert "grad -2" in text and "grad 2" in text and "data -4" in text


def test_graph_defaults_to_graph_svg_in_the_current_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "graph", "exp(x)", "--var", "x=0")
    assert status == 0
    assert "d/dx = 1" in out.splitlines()
    assert (tmp_path / "graph.svg").read_text().startswith("<?xml")


def test_graph_of_a_huge_exponent_gives_inf_without_hanging(capsys, tmp_path):
    status, out, _ = run(
        capsys, "graph", "9**9**9**9**x", "--var", "x=9", "--out", str(tmp_path / "g.svg")
    )
    assert status == 0
    assert out.splitlines()[0].startswith("9**9**9**9**x = inf")


def test_expression_starting_with_minus_works_with_a_leading_space(capsys, tmp_path):
    status, out, _ = run(
        capsys, "graph", " -x*y", "--var", "x=1", "--var", "y=2", "--out", str(tmp_path / "g.svg")
    )
    assert status == 0
    assert {"d/dx = -2", "d/dy = -1"} <= set(out.splitlines())


# -- explain ----------------------------------------------------------------------


def test_explain_a_plus_a_shows_both_contributions_and_the_running_total(capsys):
    status, out, _ = run(capsys, "explain", "a + a", "--var", "a=1.5")
    assert status == 0
    assert out.splitlines()[0] == "a + a = 3 at a=1.5"
    # step node op input local upstream contribution total
    assert table_rows(out, "1") == [["1", "n0", "+", "a", "1", "1", "1", "1"]]
    assert table_rows(out, "2") == [["2", "n0", "+", "a", "1", "1", "1", "2"]]
    assert "d/da = 2" in out.splitlines()


def test_explain_shows_the_four_contributions_of_x_times_y_plus_x(capsys):
    status, out, _ = run(capsys, "explain", "x*y + x", "--var", "x=2", "--var", "y=-3")
    assert status == 0
    steps = [row for row in (line.split() for line in out.splitlines()) if row and row[0].isdigit()]
    assert steps == [
        ["1", "n0", "+", "n1", "1", "1", "1", "1"],
        ["2", "n0", "+", "x", "1", "1", "1", "1"],
        ["3", "n1", "*", "x", "-3", "1", "-3", "-2"],
        ["4", "n1", "*", "y", "2", "1", "2", "2"],
    ]
    assert {"d/dx = -2", "d/dy = 2"} <= set(out.splitlines())


# -- gradcheck --------------------------------------------------------------------


def test_gradcheck_passes_with_a_table_and_exit_0(capsys):
    status, out, _ = run(capsys, "gradcheck", "tanh(x*y) + x/y", "--var", "x=0.5", "--var", "y=2")
    assert status == 0
    rows = {row[0]: row for row in table_rows(out, "x") + table_rows(out, "y")}
    assert float(rows["x"][1]) == pytest.approx(2 * (1 - math.tanh(1) ** 2) + 0.5)
    assert float(rows["y"][2]) == pytest.approx(0.5 * (1 - math.tanh(1) ** 2) - 0.125)
    assert len(rows["x"]) == len(rows["y"]) == 5  # no "<- mismatch" mark
    assert out.splitlines()[-1].startswith("ok:")


def second_order_rows(out):
    """Rows like ['dx', 'dy', analytic, numeric, ...] keyed by 'dx dy'."""
    return {
        " ".join(row[:2]): row[2:]
        for row in (line.split() for line in out.splitlines())
        if len(row) >= 2
        and row[0].startswith("d")
        and row[1].startswith("d")
        and not row[0].startswith("d/")
    }


def test_gradcheck_second_order_shows_every_second_derivative(capsys):
    status, out, _ = run(
        capsys, "gradcheck", "sin(x) * exp(y)", "--var", "x=1", "--var", "y=0.5", "--order", "2"
    )
    assert status == 0, out
    rows = second_order_rows(out)
    assert sorted(rows) == ["dx dx", "dx dy", "dy dx", "dy dy"]
    e = math.exp(0.5)
    assert float(rows["dx dx"][0]) == pytest.approx(-math.sin(1) * e)
    assert float(rows["dx dy"][0]) == pytest.approx(math.cos(1) * e)
    assert float(rows["dy dx"][1]) == pytest.approx(math.cos(1) * e, rel=1e-6)
    assert float(rows["dy dy"][0]) == pytest.approx(math.sin(1) * e)
    assert out.splitlines()[-1].startswith("ok:")


def test_gradcheck_second_order_mismatch_exits_1_and_marks_the_row(capsys, monkeypatch):
    # Right first derivative, but computed from x's number: d/dx of it is lost (0).
    monkeypatch.setitem(engine.RULES, "sin", lambda x, out: (math.cos(float(x)),))
    status, out, err = run(capsys, "gradcheck", "sin(x)", "--var", "x=1", "--order", "2")
    assert status == 1
    assert err == ""
    assert table_rows(out, "x")[0][-1] != "mismatch"
    rows = second_order_rows(out)
    assert float(rows["dx dx"][0]) == 0.0
    assert float(rows["dx dx"][1]) == pytest.approx(-math.sin(1.0), rel=1e-6)
    assert rows["dx dx"][-2:] == ["<-", "mismatch"]
    assert out.splitlines()[-1].startswith("MISMATCH: 1 of 2")


def test_gradcheck_exits_1_on_a_wrong_rule(capsys, monkeypatch):
    monkeypatch.setitem(engine.RULES, "sin", lambda x, out: (engine.sin(x),))  # should be cos
    status, out, err = run(capsys, "gradcheck", "sin(x) + y", "--var", "x=1", "--var", "y=2")
    assert status == 1
    assert err == ""
    rows = {row[0]: row for row in table_rows(out, "x") + table_rows(out, "y")}
    assert rows["x"][-2:] == ["<-", "mismatch"]
    assert float(rows["x"][1]) == pytest.approx(math.sin(1.0))
    assert len(rows["y"]) == 5
    assert out.splitlines()[-1].startswith("MISMATCH: 1 of 2")


def test_gradcheck_expect_shows_your_formula_the_engine_and_finite_differences(capsys):
    status, out, err = run(
        capsys,
        "gradcheck",
        "x*x*y",
        "--var",
        "x=3",
        "--var",
        "y=2",
        "--expect",
        "x=12",
        "--expect",
        "y=9",
    )
    assert (status, err) == (0, "")
    assert out.splitlines()[1].split() == [
        "argument",
        "your",
        "formula",
        "engine",
        "finite",
        "diff.",
        "ratio",
    ]
    assert table_rows(out, "x") == [["x", "12", "12", "12", "1"]]
    assert table_rows(out, "y") == [["y", "9", "9", "9", "1"]]
    assert out.splitlines()[-1].startswith("ok: your derivatives match the engine's")


def test_gradcheck_expect_names_a_wrong_derivative_its_ratio_and_the_factor(capsys):
    # d/dx of x*x*y + sin(y) is 2xy = 12; 24 is the classic extra factor 2.
    status, out, err = run(
        capsys, "gradcheck", "x*x*y + sin(y)", "--var", "x=3", "--var", "y=2", "--expect", "x=24"
    )
    assert (status, err) == (1, "")
    assert table_rows(out, "x") == [["x", "24", "12", "12", "2", "<-", "wrong"]]
    (y_row,) = table_rows(out, "y")
    assert y_row[1] == "-" and float(y_row[2]) == pytest.approx(9 + math.cos(2))
    assert "x: 2 times the right value, a likely factor mistake" in out
    assert out.splitlines()[-1].startswith("WRONG: 1 of 1 expected derivatives differ")


def test_gradcheck_expect_calls_out_a_swapped_pair(capsys):
    status, out, _ = run(
        capsys,
        "gradcheck",
        "x*x*y",
        "--var",
        "x=3",
        "--var",
        "y=2",
        "--expect",
        "x=9",
        "--expect",
        "y=12",
    )
    assert status == 1
    assert "x and y look swapped: your x is the right y (9) and your y the right x (12)" in out
    assert out.splitlines()[-1].startswith("WRONG: 2 of 2")


def test_gradcheck_expect_with_a_wrong_engine_rule_reports_both(capsys, monkeypatch):
    monkeypatch.setitem(engine.RULES, "sin", lambda x, out: (engine.sin(x),))  # should be cos
    status, out, _ = run(
        capsys, "gradcheck", "sin(x)", "--var", "x=1", "--expect", f"x={math.cos(1.0)!r}"
    )
    assert status == 1
    assert table_rows(out, "x")[0][-6:] == [
        "<-",
        "engine",
        "and",
        "finite",
        "differences",
        "disagree",
    ]
    assert "your formula agrees with finite differences on x" in out
    assert out.splitlines()[-1].startswith("MISMATCH: 1 of 1")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--expect", "z=1"], "--expect z: there is no --var z to differentiate by"),
        (["--expect", "x=1", "--expect", "x=2"], "--expect x is given twice"),
        (["--expect", "x=abc"], "argument --expect: x: expected a number after '='"),
        (["--expect", "x=inf"], "argument --expect: x: expected a finite number"),
        (["--expect", "12"], "argument --expect: expected NAME=NUMBER"),
    ],
)
def test_gradcheck_bad_expect_is_one_error_line_exit_2(capsys, argv, message):
    status, out, err = run(capsys, "gradcheck", "x*y", "--var", "x=3", "--var", "y=2", *argv)
    assert (status, out) == (2, "")
    assert err.startswith(f"autograd-tiny: error: {message}")
    assert len(err.splitlines()) == 1


# -- evaluation: IEEE arithmetic on constants, never a traceback ----------------------


def test_constants_divided_by_zero_follow_ieee_like_the_engine():
    assert parse("1/0").evaluate({}) == math.inf
    assert parse("-1/0").evaluate({}) == -math.inf
    assert math.isnan(parse("0/0").evaluate({}))
    assert parse("1/0 + x", ["x"]).evaluate({"x": engine.Value(1.0)}).data == math.inf


@pytest.mark.parametrize(
    "source, x, y, expected",
    [
        ("10 ** 400", 10.0, 400.0, math.inf),  # math.pow raises OverflowError
        ("(-10) ** 401", -10.0, 401.0, -math.inf),  # odd exponent keeps the sign
        ("(-8) ** (1/3)", -8.0, 1 / 3, math.nan),  # Python's ** gives a complex number
        ("0 ** -1", 0.0, -1.0, math.inf),  # Python's ** raises ZeroDivisionError
        ("(-0) ** -1", -0.0, -1.0, -math.inf),
        ("2 ** 0.5", 2.0, 0.5, math.sqrt(2)),
    ],
)
def test_constants_raised_to_a_power_follow_ieee_like_the_engine(source, x, y, expected):
    folded = parse(source).evaluate({})
    traced = (engine.Value(x) ** y).data
    assert type(folded) is float
    for result in (folded, traced):
        assert result == expected or (math.isnan(expected) and math.isnan(result))
    assert math.copysign(1.0, folded) == math.copysign(1.0, traced)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("1e308 * 10 - 1e308 * 10", math.nan),  # inf - inf
        ("1 / -0", -math.inf),
        ("(0 - 0) / (0 * 1)", math.nan),
        ("2 * 3 - 1 / 4", 5.75),
    ],
)
def test_constant_arithmetic_gives_a_float_like_the_engine_without_a_graph(source, expected):
    result = parse(source).evaluate({})
    assert type(result) is float
    assert result == expected or (math.isnan(expected) and math.isnan(result))


def test_integer_and_fraction_variables_are_read_as_floats_like_value_does():
    assert repr(parse("x * y", ["x", "y"]).evaluate({"x": 2, "y": 3})) == "6.0"
    assert parse("x / 0", ["x"]).evaluate({"x": Fraction(1, 3)}) == math.inf


def test_explain_folds_a_constant_division_by_zero_to_inf_and_keeps_the_gradient(capsys):
    status, out, err = run(capsys, "explain", "x + 1/0", "--var", "x=1")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "x + 1/0 = inf at x=1"
    # One + node; 1/0 was folded to a constant leaf (n1), so no / step.
    assert table_rows(out, "1") == [["1", "n0", "+", "x", "1", "1", "1", "1"]]
    assert table_rows(out, "2") == [["2", "n0", "+", "n1", "1", "1", "1", "1"]]
    assert table_rows(out, "3") == []
    assert lines[-1] == "d/dx = 1"


def test_explain_of_an_overflowing_constant_power_gives_inf_and_an_inf_gradient(capsys):
    status, out, err = run(capsys, "explain", "x * 10**400 + (-8)**(1/3)", "--var", "x=2")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "x * 10**400 + (-8)**(1/3) = nan at x=2"
    assert lines[-1] == "d/dx = inf"


@pytest.mark.parametrize("expression, shown", [("1/0", "inf"), ("0/0", "nan"), ("-1/0", "-inf")])
def test_explain_and_graph_of_a_constant_division_by_zero_print_ieee_values(
    capsys, tmp_path, expression, shown
):
    # A leading space: '-1/0' alone would read as an option.
    status, out, err = run(capsys, "explain", " " + expression)
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == f"{expression} = {shown}"
    status, out, err = run(capsys, "graph", " " + expression, "--out", str(tmp_path / "g.svg"))
    assert (status, err) == (0, "")
    assert out.splitlines()[0] == f"{expression} = {shown}"
    assert (tmp_path / "g.svg").read_text().startswith("<?xml")


def test_gradcheck_with_an_infinite_constant_reports_a_mismatch_not_a_crash(capsys):
    status, out, err = run(capsys, "gradcheck", "x+1/0", "--var", "x=1")
    assert status == 1 and err == ""
    (row,) = table_rows(out, "x")
    assert float(row[1]) == 1.0 and row[2] == "nan"  # inf - inf differences


@pytest.mark.parametrize("command", ["graph", "explain", "gradcheck"])
def test_any_failure_while_evaluating_is_one_error_line_exit_2(
    capsys, tmp_path, monkeypatch, command
):
    monkeypatch.chdir(tmp_path)

    def broken(*args):
        raise OverflowError("math range error")

    monkeypatch.setitem(FUNCTIONS, "exp", broken)
    status, out, err = run(capsys, command, "exp(x)", "--var", "x=1")
    assert (status, out) == (2, "")
    assert err == (
        "autograd-tiny: error: cannot evaluate 'exp(x)': OverflowError: math range error\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["graph", "explain"])
def test_a_failing_backward_rule_is_one_error_line_exit_2(capsys, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(engine.RULES, "sin", lambda x, out: (1 / 0,))
    status, out, err = run(capsys, command, "sin(x)", "--var", "x=1")
    assert (status, out) == (2, "")
    assert err.startswith("autograd-tiny: error: cannot evaluate 'sin(x)': ZeroDivisionError")
    assert len(err.splitlines()) == 1


def test_memory_error_is_one_error_line_exit_1(capsys, monkeypatch):
    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(train_commands, "_train", exhausted)
    status, out, err = run(capsys, "train", "xor")
    assert (status, out) == (1, "")
    assert err == (
        "autograd-tiny: error: out of memory; try a smaller model, dataset or expression\n"
    )


# -- graph size and --out: checked before any output ----------------------------------


def sum_of_sines(n):
    return " + ".join(["sin(x)"] * n)


def test_graph_larger_than_max_nodes_is_refused_before_printing(capsys, tmp_path):
    svg = tmp_path / "g.svg"
    # 40 sin(x) terms: x, 40 sines, 39 sums = 80 values, 79 ops = 159 nodes.
    status, out, err = run(
        capsys, "graph", sum_of_sines(40), "--var", "x=1", "--out", str(svg), "--max-nodes", "150"
    )
    assert (status, out) == (2, "")
    assert err == (
        "autograd-tiny: error: the graph would have 159 nodes (values and ops), "
        "more than --max-nodes 150; pass --max-nodes 159 "
        "to draw it anyway\n"
    )
    assert not svg.exists()
    # No keyword: the default cap is MAX_NODES (5000), not the old 150.
    status, out, err = run(capsys, "graph", sum_of_sines(40), "--var", "x=1", "--out", str(svg))
    assert status == 0, err
    assert f"d/dx = {40 * math.cos(1):.10g}" in out.splitlines()
    assert svg.read_text().startswith("<?xml")


def test_graph_out_that_is_a_folder_is_refused_before_any_work(capsys, tmp_path):
    folder = tmp_path / "d.svg"
    folder.mkdir()
    for out_arg in (str(folder), str(folder) + "/"):
        status, out, err = run(capsys, "graph", "x*x", "--var", "x=1", "--out", out_arg)
        assert (status, out) == (2, "")
        assert err == (
            f"autograd-tiny: error: --out must name an .svg file, not a folder: {out_arg!r}\n"
        )
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_graph_out_in_an_unwritable_folder_is_refused_before_any_work(capsys):
    status, out, err = run(capsys, "graph", "x*x", "--var", "x=1", "--out", "/proc/g.svg")
    assert (status, out) == (2, "")
    assert err.startswith("autograd-tiny: error: --out: cannot write in the folder '/proc'")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("command", [["train", "xor"], ["demo"]])
def test_train_and_demo_out_that_is_a_file_is_refused_before_training(capsys, tmp_path, command):
    existing = tmp_path / "model.json"
    existing.write_text("keep me")
    status, out, err = run(capsys, *command, "--out", str(existing))
    assert (status, out) == (2, "")
    assert err == f"autograd-tiny: error: --out: {str(existing)!r} is a file, not a folder\n"
    assert existing.read_text() == "keep me"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
@pytest.mark.parametrize("command", [["train", "xor"], ["demo"]])
def test_train_and_demo_out_that_cannot_be_written_is_refused_before_training(capsys, command):
    status, out, err = run(capsys, *command, "--out", "/proc")
    assert (status, out) == (2, "")
    assert err.startswith("autograd-tiny: error: --out: cannot write in the folder '/proc'")


@pytest.mark.parametrize("command", [["train", "xor"], ["demo"]])
def test_empty_out_is_refused(capsys, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *command, "--out", "")
    assert (status, out) == (2, "")
    assert err == "autograd-tiny: error: --out: the folder name is empty\n"
    assert list(tmp_path.iterdir()) == []


# -- bad input: one line on stderr, exit 2, nothing executed -------------------------

BAD_EXPRESSIONS = {
    "import": "__import__('os').system('touch sentinel')",
    "open": "open('sentinel', 'w')",
    "lambda call": "(lambda: __import__('os').system('touch sentinel'))()",
    "attribute": "x.__class__",
    "dunder chain": "x.__class__.__mro__[1].__subclasses__()",
    "lambda": "lambda: 0",
    "subscript": "x[0]",
    "comprehension": "[x for x in (1, 2)]",
    "generator": "sum(x for x in (1, 2))",
    "string": "'touch sentinel'",
    "f-string": "f'{x}'",
    "bytes": "b'x'",
    "complex": "1j * x",
    "bool": "True * x",
    "unknown function": "foo(x)",
    "builtin function": "print(x)",
    "variable as function": "x(1)",
    "keyword argument": "exp(x=1)",
    "starred argument": "exp(*x)",
    "too many arguments": "exp(x, x)",
    "bare function": "exp + x",
    "comparison": "x < 1",
    "boolean operator": "x and 1",
    "conditional": "x if x else 1",
    "walrus": "(y := x)",
    "matmul": "x @ x",
    "floor division": "x // 2",
    "bitwise not": "~x",
    "tuple": "x, x",
    "huge integer literal": "9" * 5000,
    "too long (100,000 chars)": "x" + "+x" * 49_999 + "x",
    "nested parentheses": "(" * 1000 + "x" + ")" * 1000,
    "nested calls": "exp(" * 300 + "x" + ")" * 300,
    "deep unary minus (MemoryError in ast.parse)": " " + "-" * 9000 + "x",
    "long sum (RecursionError in ast.parse)": "+".join(["x"] * 3000),
    "long power chain": "**".join(["x"] * 3000),
    "syntax error": "x +",
    "unclosed": "exp(x",
    "two lines": "x\n+1",
    "statement": "import os",
    "empty": "",
    "blank": "   ",
    "null byte": "x\0",
    "missing variable": "x * zeta",
}
if sys.version_info < (3, 11):  # older parsers take a 3000-term sum, which then just works
    del BAD_EXPRESSIONS["long sum (RecursionError in ast.parse)"]


@pytest.mark.parametrize("command", ["graph", "explain", "gradcheck"])
@pytest.mark.parametrize("expression", BAD_EXPRESSIONS.values(), ids=BAD_EXPRESSIONS.keys())
def test_bad_expression_is_one_error_line_exit_2_and_runs_nothing(
    capsys, tmp_path, monkeypatch, command, expression
):
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(os, "system", lambda *a: calls.append(a) or 0)
    status, out, err = run(capsys, command, expression, "--var", "x=1")
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("autograd-tiny: error: ")
    assert "Traceback" not in err
    assert calls == []
    assert list(tmp_path.iterdir()) == []  # no sentinel, no graph.svg


@pytest.mark.parametrize(
    "argv, message",
    [
        (["graph", "x*zeta*eta", "--var", "x=1"], "no value for 'zeta', 'eta'"),
        (["graph", "x", "--var", "1x=2"], "'1x' is not a Python identifier"),
        (["graph", "x", "--var", "lambda=2"], "'lambda' is a Python keyword"),
        (["graph", "x", "--var", "x"], "expected NAME=NUMBER"),
        (["graph", "x", "--var", "=2"], "expected NAME=NUMBER"),
        (["graph", "x", "--var", "x=abc"], "expected a number after '='"),
        (["graph", "x", "--var", "x=inf"], "finite"),
        (["graph", "x", "--var", "x=nan"], "finite"),
        (["graph", "exp(x)", "--var", "exp=2"], "'exp' is a function name"),
        (["graph", "x", "--var", "x=1", "--var", "x=2"], "--var x is given twice"),
        (["graph", "x"], "no value for 'x'"),
        (["graph", "-x*y", "--var", "x=1", "--var", "y=1"], "leading space"),
        (["graph", "x", "--var", "x=1", "--out", "no/such/folder/g.svg"], "does not exist"),
        (["graph", "x", "--var", "x=1", "--out", "g.png"], ".svg"),
        (
            ["graph", "+".join(["x"] * 600), "--var", "x=1", "--max-nodes", "1000"],
            "pass --max-nodes 1199",
        ),
        (["graph", "x", "--var", "x=1", "--max-nodes", "0"], "--max-nodes"),
        (["gradcheck", "2 * 3"], "at least one variable"),
        (["gradcheck", "x", "--var", "x=1", "--eps", "0"], "--eps"),
        (["gradcheck", "x", "--var", "x=1", "--order", "3"], "--order"),
        (["explain", "x", "--var", "x=1", "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
        (["train", "mnist"], "invalid choice: 'mnist'"),
        (["train"], "required: DATASET"),
        (["train", "xor", "--hidden", "0"], "--hidden"),
        (["train", "xor", "--hidden", ""], "--hidden"),
        (["train", "xor", "--hidden", "16,,16"], "--hidden"),
        (["train", "xor", "--hidden", "a,b"], "--hidden"),
        (["train", "xor", "--hidden", "-4"], "--hidden"),
        (["train", "xor", "--hidden", "\u00b2"], "argument --hidden: expected layer sizes"),
        (["train", "xor", "--hidden", "4,\u0663"], "argument --hidden: expected layer sizes"),
        (["train", "blobs", "--hidden", "100000000"], "at most 4096 neurons, got '100000000'"),
        (["train", "blobs", "--hidden", ",".join(["2"] * 33)], "at most 32 hidden layers, got 33"),
        (
            ["train", "blobs", "--hidden", "4096,4096"],
            "--hidden 4096,4096 makes 16805891 parameters; at most 100000",
        ),
        (["train", "xor", "--epochs", "100001"], "argument --epochs: at most 100000 allowed"),
        (["train", "xor", "--batch-size", "100001"], "argument --batch-size: at most 100000"),
        (["train", "xor", "--activation", "gelu"], "--activation"),
        (["train", "xor", "--optimizer", "rmsprop"], "--optimizer"),
        (["train", "xor", "--lr", "-1"], "--lr"),
        (["train", "xor", "--lr", "nan"], "--lr"),
        (["train", "xor", "--epochs", "0"], "--epochs"),
        (["train", "xor", "--epochs", "1.5"], "--epochs"),
        (["train", "xor", "--batch-size", "x"], "--batch-size"),
        (["train", "xor", "--seed", "s"], "--seed"),
        (["train", "xor", "--epoch", "3"], "unrecognized arguments"),  # no abbreviations
        (["demo", "--out", "/dev/null/demo"], "--out"),
    ],
)
def test_bad_argument_is_one_error_line_naming_the_problem(
    capsys, tmp_path, monkeypatch, argv, message
):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("autograd-tiny: error: ")
    assert message in err
    assert not (tmp_path / "graph.svg").exists()


# -- the expression parser itself ------------------------------------------------------


def test_allowed_functions_come_from_the_rule_table():
    assert sorted(FUNCTIONS) == [
        "abs",
        "acos",
        "asin",
        "atan",
        "atan2",
        "clamp_max",
        "clamp_min",
        "cos",
        "cosh",
        "eq",
        "erf",
        "exp",
        "floor",
        "ge",
        "gt",
        "identity",
        "if_false",
        "if_true",
        "le",
        "leaky_relu",
        "log",
        "log10",
        "log1p",
        "log2",
        "lt",
        "maximum",
        "minimum",
        "ne",
        "relu",
        "sigmoid",
        "sin",
        "sinh",
        "softplus",
        "sqrt",
        "tan",
        "tanh",
    ]
    assert set(FUNCTIONS) <= set(engine.RULES)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("x*y + x", -4.0),
        ("-x ** 2", -4.0),
        ("+x - -y", -1.0),
        ("x / 4 + 1e-1", 0.6),
        ("2 ** 0.5 * sqrt(2)", 2.0000000000000004),
        ("abs(y) + relu(y) + leaky_relu(y, 0.5)", 1.5),
        (
            "log(exp(x)) + sin(0) + cos(0) + tanh(0) + sigmoid(0) + softplus(0) + log1p(0)",
            2 + 1 + 0.5 + 0.6931471805599453,
        ),
        ("10 / 4", 2.5),  # numbers are floats: no integer arithmetic surprises
    ],
)
def test_parse_evaluates_like_the_engine(source, expected):
    assert parse(source, ["x", "y"]).evaluate({"x": 2.0, "y": -3.0}) == pytest.approx(expected)


def test_parse_lists_used_variables_in_reading_order():
    assert parse("b * exp(a) + b + c", ["a", "b", "c", "d"]).names == ("b", "a", "c")


def test_deep_but_parseable_expression_evaluates_without_recursion():
    source = "+".join(["x"] * 900)
    assert parse(source, ["x"]).evaluate({"x": 1.0}) == 900.0


def test_parse_length_cap_counts_the_stripped_text():
    assert parse(" " * 20_000 + "x", ["x"]).names == ("x",)
    with pytest.raises(ExpressionError, match="limit"):
        parse("x+" * (MAX_LENGTH // 2) + "x", ["x"])


# -- train -------------------------------------------------------------------------------


def test_train_xor_reaches_100_percent_and_writes_a_loadable_model(capsys, tmp_path):
    status, out, err = run(capsys, "train", "xor", "--epochs", "200", "--out", str(tmp_path))
    assert status == 0, err
    (row,) = table_rows(out, "XOR")
    assert row[1:4] == ["4/0", "2-8-1", "tanh"]
    assert row[7] == "100.0%"
    model = MLP(2, [8, 1], activation="tanh").load(tmp_path / "xor-model.json")
    from autograd_tiny.data import xor
    from autograd_tiny.train import accuracy

    assert accuracy(model, *xor()) == 1.0
    assert (tmp_path / "xor-curves.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "xor-boundary.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "dataset, argv, architecture",
    [
        ("blobs", ["--hidden", "4", "--optimizer", "sgd", "--lr", "0.05"], "2-4-3"),
        ("moons", ["--hidden", "3,2", "--activation", "tanh", "--batch-size", "64"], "2-3-2-1"),
        ("circles", ["--hidden", "4", "--seed", "7"], "2-4-1"),
    ],
)
def test_train_each_dataset_with_the_given_options(capsys, dataset, argv, architecture):
    status, out, err = run(capsys, "train", dataset, "--epochs", "2", *argv)
    assert status == 0, err
    (row,) = table_rows(out, dataset)
    assert row[2] == architecture
    assert row[5] == "2"  # epochs
    assert re.fullmatch(r"\d+\.\d%", row[8])  # held-out accuracy


def test_train_init_option_reaches_the_model(capsys, monkeypatch):
    made = []
    original = train_commands.MLP

    def recording_mlp(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(train_commands, "MLP", recording_mlp)
    status, out, err = run(capsys, "train", "circles", "--init", "uniform", "--epochs", "1")
    assert status == 0, err
    assert "relu (uniform init)" in out
    assert made[0].init == "uniform"
    assert all(-1.0 <= p.data <= 1.0 for p in made[0].layers[0].parameters())


def test_train_rejects_an_unknown_init_in_one_line(capsys):
    status, _out, err = run(capsys, "train", "xor", "--init", "xavier")
    assert status == 2
    assert err.count("\n") == 1 and "--init" in err and "xavier" in err


def test_hidden_at_the_limits_is_accepted(capsys):
    status, out, err = run(
        capsys, "train", "xor", "--hidden", ",".join(["1"] * 32), "--epochs", "1"
    )
    assert status in (0, 1), err  # trains (1 only if it diverged)
    (row,) = table_rows(out, "XOR")
    assert row[2] == "2-" + "1-" * 32 + "1"


def test_diverged_training_prints_a_compact_table_an_error_and_exits_1(capsys):
    status, out, err = run(
        capsys, "train", "blobs", "--lr", "1e10", "--optimizer", "sgd", "--epochs", "2"
    )
    assert status == 1
    (row,) = table_rows(out, "blobs")
    assert row[5:7] == ["1", "nan"]  # fit stopped in epoch 2; the last finite weights overflow
    assert err == (
        "autograd-tiny: error: training blobs diverged: at epoch 2, batch 2 the "
        "loss is nan, so training stopped there (final loss nan, untrained: 2.003); "
        "try a smaller --lr (it was 1e+10)\n"
    )


def test_huge_final_loss_is_shown_in_four_significant_digits_and_counts_as_diverged(capsys):
    status, out, err = run(capsys, "train", "xor", "--lr", "1e300", "--epochs", "5")
    assert status == 1
    (row,) = table_rows(out, "XOR")
    assert re.fullmatch(r"\d\.\d{3}e\+\d{3}", row[6]), row[6]
    assert float(row[6]) > 1e299
    assert "diverged" in err and len(err.splitlines()) == 1


def test_train_is_reproducible_with_a_seed(capsys):
    first = run(capsys, "train", "moons", "--hidden", "4", "--epochs", "2", "--seed", "3")[1]
    second = run(capsys, "train", "moons", "--hidden", "4", "--epochs", "2", "--seed", "3")[1]
    strip_time = lambda text: re.sub(r"\d+\.\d s", "", text)
    assert strip_time(first) == strip_time(second)


# -- demo --------------------------------------------------------------------------------

DEMO_FILES = [
    "neuron-graph.svg",
    "xor-curves.png",
    "xor-boundary.png",
    "xor-model.json",
    "blobs-curves.png",
    "blobs-boundary.png",
    "blobs-model.json",
]


@pytest.mark.slow
def test_demo_trains_both_datasets_and_writes_every_file(capsys, tmp_path):
    out_dir = tmp_path / "demo"
    status, out, err = run(capsys, "demo", "--out", str(out_dir))
    assert status == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(DEMO_FILES)
    (xor_row,) = table_rows(out, "XOR")
    assert xor_row[7] == "100.0%"  # train accuracy
    (blobs_row,) = table_rows(out, "blobs")
    assert float(blobs_row[8].rstrip("%")) >= 95.0  # held-out accuracy
    assert re.search(r"^done in \d+\.\d s$", out, re.MULTILINE)
    assert "skipped" not in out
    svg = ElementTree.parse(out_dir / "neuron-graph.svg").getroot()
    labels = " ".join(svg.itertext())
    assert all(
        name in labels
        for name in (
            "layers[0].weight[0][0]",
            "layers[0].weight[0][1]",
            "layers[0].bias[0]",
            "x[0]",
            "x[1]",
            "layers[0].out[0]",
            "tanh",
        )
    )
    MLP(2, [8, 1], activation="tanh").load(out_dir / "xor-model.json")
    MLP(2, [8, 3], activation="relu").load(out_dir / "blobs-model.json")
    for name in DEMO_FILES:
        if name.endswith(".png"):
            assert (out_dir / name).read_bytes()[:4] == b"\x89PNG"


def test_demo_neuron_graph_leaves_the_trained_weights_labels_and_grads_alone(tmp_path):
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    neuron = model.layers[0].neurons[0]
    for i, parameter in enumerate(model.parameters()):
        parameter.grad = 0.25 * i
    before = [(p.data, p.label, p.grad) for p in model.parameters()]
    run_ = SimpleNamespace(name="xor", model=model, X_train=[[0.0, 1.0]])
    files = train_commands._Files()
    train_commands._neuron_graph(run_, tmp_path, files)  # type: ignore[arg-type]
    assert [(p.data, p.label, p.grad) for p in model.parameters()] == before
    assert [p.label for p in neuron.parameters()] == [
        "layers[0].weight[0][0]",
        "layers[0].weight[0][1]",
        "layers[0].bias[0]",
    ]
    svg = ElementTree.parse(tmp_path / "neuron-graph.svg").getroot()
    texts = [text.strip() for text in svg.itertext() if text.strip()]
    # Each Value box reads name, data, grad. Drawn at x = (0.75, -0.5): dout/dw_i = tanh' * x_i
    # and dout/db = tanh', three different numbers (at x = (1, 1) all three were equal).
    w0, w1, b = (
        float(texts[texts.index(p.label) + 2].removeprefix("grad ")) for p in neuron.parameters()
    )
    assert w0 == pytest.approx(0.75 * b, rel=1e-3) and w1 == pytest.approx(-0.5 * b, rel=1e-3)
    assert b > 0 and len({w0, w1, b}) == 3
    assert "x = [0.75, -0.5]" in files.written[0][1]
    # Edge labels: the local derivative of * into the weight edge is the input, 0.75.
    assert "0.75" in texts and "-0.5" in texts
    assert [path.name for path, _ in files.written] == ["neuron-graph.svg"]


def test_demo_without_matplotlib_still_writes_svg_and_json_and_says_what_it_skipped(
    capsys, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")  # default folder: ./autograd-tiny-demo/
    assert status == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["autograd-tiny-demo"]
    assert sorted(p.name for p in (tmp_path / "autograd-tiny-demo").iterdir()) == sorted(
        name for name in DEMO_FILES if not name.endswith(".png")
    )
    skipped = [line for line in out.splitlines() if line.startswith("skipped")]
    assert len(skipped) == 2
    assert all("pip install 'autograd-tiny[plot]'" in line for line in skipped)
    assert "xor-curves.png and xor-boundary.png" in skipped[0]


# -- help, version, and the real programs ------------------------------------------------


def test_no_subcommand_prints_help(capsys):
    status, out, _ = run(capsys)
    assert status == 0
    assert out.startswith("usage: autograd-tiny")
    for command in ("demo", "train", "graph", "explain", "gradcheck"):
        assert command in out


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.startswith("autograd-tiny ")


@pytest.mark.slow
def test_python_dash_m_and_the_console_script(tmp_path):
    script = Path(sys.executable).parent / "autograd-tiny"
    if not script.exists():
        script = Path(shutil.which("autograd-tiny") or "missing")
    programs = [[sys.executable, "-m", "autograd_tiny"]]
    if script.exists():
        programs.append([str(script)])
    else:
        pytest.skip("the autograd-tiny console script is not installed")
    for program in programs:
        done = subprocess.run(
            [
                *program,
                "graph",
                "x*y + x",
                "--var",
                "x=2",
                "--var",
                "y=-3",
                "--out",
                str(tmp_path / "g.svg"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "d/dx = -2" in done.stdout.splitlines()
        bad = subprocess.run(
            [*program, "graph", "x.__class__", "--var", "x=1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert bad.returncode == 2
        assert bad.stdout == ""
        assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
        assert subprocess.run(
            program, capture_output=True, text=True, timeout=60
        ).stdout.startswith("usage: autograd-tiny")


# -- the README's console examples ---------------------------------------------------

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_console_examples():
    """(argv, printed text) of every `$ autograd-tiny ...` block in the README."""
    blocks = re.findall(
        r"```console\n\$ autograd-tiny (.*?)\n(.*?)```",
        README.read_text(encoding="utf-8"),
        re.DOTALL,
    )
    return [(shlex.split(command), printed) for command, printed in blocks]


def test_the_readme_shows_at_least_one_console_example():
    assert readme_console_examples()


@pytest.mark.parametrize("argv, printed", readme_console_examples())
def test_readme_console_example_prints_what_the_readme_shows(capsys, argv, printed):
    status, out, err = run(capsys, *argv)
    assert status == 0, err
    assert out == printed
