"""The `autograd-tiny` command: real output values, the demo's files, and every bad input.

The CLI runs in-process through `cli.main([...])` (fast, and monkeypatch reaches it);
one test runs `python -m autograd_tiny` and the installed console script for real.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from autograd_tiny import cli, engine
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
    status, out, err = run(capsys, "graph", "x*y + x", "--var", "x=2", "--var", "y=-3",
                           "--out", str(svg))
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
    status, out, _ = run(capsys, "graph", "9**9**9**9**x", "--var", "x=9",
                         "--out", str(tmp_path / "g.svg"))
    assert status == 0
    assert out.splitlines()[0].startswith("9**9**9**9**x = inf")


def test_expression_starting_with_minus_works_with_a_leading_space(capsys, tmp_path):
    status, out, _ = run(capsys, "graph", " -x*y", "--var", "x=1", "--var", "y=2",
                         "--out", str(tmp_path / "g.svg"))
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
    steps = [row for row in (line.split() for line in out.splitlines())
             if row and row[0].isdigit()]
    assert steps == [
        ["1", "n0", "+", "n1", "1", "1", "1", "1"],
        ["2", "n0", "+", "x", "1", "1", "1", "1"],
        ["3", "n1", "*", "x", "-3", "1", "-3", "-2"],
        ["4", "n1", "*", "y", "2", "1", "2", "2"],
    ]
    assert {"d/dx = -2", "d/dy = 2"} <= set(out.splitlines())


# -- gradcheck --------------------------------------------------------------------

def test_gradcheck_passes_with_a_table_and_exit_0(capsys):
    status, out, _ = run(capsys, "gradcheck", "tanh(x*y) + x/y", "--var", "x=0.5",
                         "--var", "y=2")
    assert status == 0
    rows = {row[0]: row for row in table_rows(out, "x") + table_rows(out, "y")}
    assert float(rows["x"][1]) == pytest.approx(2 * (1 - math.tanh(1) ** 2) + 0.5)
    assert rows["x"][-1] == "ok" and rows["y"][-1] == "ok"
    assert out.splitlines()[-1].startswith("ok:")


def test_gradcheck_second_order_passes(capsys):
    status, out, _ = run(capsys, "gradcheck", "sin(x) * exp(y)", "--var", "x=1", "--var",
                         "y=0.5", "--order", "2")
    assert status == 0, out


def test_gradcheck_exits_1_on_a_wrong_rule(capsys, monkeypatch):
    monkeypatch.setitem(engine.RULES, "sin", lambda x, out: (engine.sin(x),))  # should be cos
    status, out, err = run(capsys, "gradcheck", "sin(x) + y", "--var", "x=1", "--var", "y=2")
    assert status == 1
    assert err == ""
    rows = {row[0]: row for row in table_rows(out, "x") + table_rows(out, "y")}
    assert rows["x"][-1] == "MISMATCH"
    assert float(rows["x"][1]) == pytest.approx(math.sin(1.0))
    assert rows["y"][-1] == "ok"
    assert out.splitlines()[-1].startswith("MISMATCH: 1 of 2")


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


@pytest.mark.parametrize("command", ["graph", "explain", "gradcheck"])
@pytest.mark.parametrize("expression", BAD_EXPRESSIONS.values(), ids=BAD_EXPRESSIONS.keys())
def test_bad_expression_is_one_error_line_exit_2_and_runs_nothing(
        capsys, tmp_path, monkeypatch, command, expression):
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


@pytest.mark.parametrize("argv, message", [
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
    (["graph", "+".join(["x"] * 600), "--var", "x=1"], "at most 500"),
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
])
def test_bad_argument_is_one_error_line_naming_the_problem(capsys, tmp_path, monkeypatch,
                                                          argv, message):
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
    assert sorted(FUNCTIONS) == ["abs", "cos", "exp", "leaky_relu", "log", "log1p", "relu",
                                 "sigmoid", "sin", "softplus", "sqrt", "tanh"]
    assert set(FUNCTIONS) <= set(engine.RULES)


@pytest.mark.parametrize("source, expected", [
    ("x*y + x", -4.0),
    ("-x ** 2", -4.0),
    ("+x - -y", -1.0),
    ("x / 4 + 1e-1", 0.6),
    ("2 ** 0.5 * sqrt(2)", 2.0000000000000004),
    ("abs(y) + relu(y) + leaky_relu(y, 0.5)", 1.5),
    ("log(exp(x)) + sin(0) + cos(0) + tanh(0) + sigmoid(0) + softplus(0) + log1p(0)",
     2 + 1 + 0.5 + 0.6931471805599453),
    ("10 / 4", 2.5),  # numbers are floats: no integer arithmetic surprises
])
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


@pytest.mark.parametrize("dataset, argv, architecture", [
    ("blobs", ["--hidden", "4", "--optimizer", "sgd", "--lr", "0.05"], "2-4-3"),
    ("moons", ["--hidden", "3,2", "--activation", "tanh", "--batch-size", "64"], "2-3-2-1"),
    ("circles", ["--hidden", "4", "--seed", "7"], "2-4-1"),
])
def test_train_each_dataset_with_the_given_options(capsys, dataset, argv, architecture):
    status, out, err = run(capsys, "train", dataset, "--epochs", "2", *argv)
    assert status == 0, err
    (row,) = table_rows(out, dataset)
    assert row[2] == architecture
    assert row[5] == "2"  # epochs
    assert re.fullmatch(r"\d+\.\d%", row[8])  # held-out accuracy


def test_train_is_reproducible_with_a_seed(capsys):
    first = run(capsys, "train", "moons", "--hidden", "4", "--epochs", "2", "--seed", "3")[1]
    second = run(capsys, "train", "moons", "--hidden", "4", "--epochs", "2", "--seed", "3")[1]
    strip_time = lambda text: re.sub(r"\d+\.\d s", "", text)  # noqa: E731
    assert strip_time(first) == strip_time(second)


# -- demo --------------------------------------------------------------------------------

DEMO_FILES = ["neuron-graph.svg", "xor-curves.png", "xor-boundary.png", "xor-model.json",
              "blobs-curves.png", "blobs-boundary.png", "blobs-model.json"]


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
    assert all(name in labels for name in ("w1", "w2", "b", "x1", "x2", "out", "tanh"))
    MLP(2, [8, 1], activation="tanh").load(out_dir / "xor-model.json")
    MLP(2, [8, 3], activation="relu").load(out_dir / "blobs-model.json")
    for name in DEMO_FILES:
        if name.endswith(".png"):
            assert (out_dir / name).read_bytes()[:4] == b"\x89PNG"


def test_demo_without_matplotlib_still_writes_svg_and_json_and_says_what_it_skipped(
        capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")  # default folder: ./autograd-tiny-demo/
    assert status == 0, err
    assert [p.name for p in tmp_path.iterdir()] == ["autograd-tiny-demo"]
    assert sorted(p.name for p in (tmp_path / "autograd-tiny-demo").iterdir()) == sorted(
        name for name in DEMO_FILES if not name.endswith(".png"))
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
        done = subprocess.run([*program, "graph", "x*y + x", "--var", "x=2", "--var", "y=-3",
                               "--out", str(tmp_path / "g.svg")],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "d/dx = -2" in done.stdout.splitlines()
        bad = subprocess.run([*program, "graph", "x.__class__", "--var", "x=1"],
                             capture_output=True, text=True, timeout=60)
        assert bad.returncode == 2
        assert bad.stdout == ""
        assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
        assert subprocess.run(program, capture_output=True, text=True,
                              timeout=60).stdout.startswith("usage: autograd-tiny")
