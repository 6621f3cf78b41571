"""Text from users, shown safely: labels render as written (never as Graphviz escapes or
broken XML), the CLI never echoes a control character, names normalise alike, and a
finite-difference step that vanishes is an error that says so."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ElementTree

import pytest

from autograd_tiny import Value, cli
from autograd_tiny._names import visible
from autograd_tiny.gradcheck import (
    StepTooSmallError,
    check_grad,
    compare_grad,
    numerical_grad,
)
from autograd_tiny.viz import draw_dot, render

SVG = "{http://www.w3.org/2000/svg}"

# label as given -> the text the picture shows
LABELS = {
    "escape": ("a\x1b[31mb", r"a\x1b[31mb"),
    "bell": ("t\x07", r"t\x07"),
    "nul": ("a\x00b", r"a\x00b"),
    "delete": ("a\x7fb", r"a\x7fb"),
    "c1 control": ("\x85x", r"\x85x"),
    "noncharacter": ("x\ufffey", r"x\ufffey"),
    "lone surrogate": ("bad\ud800", r"bad\ud800"),
    "bidi override": ("abc\u202exyz", r"abc\u202exyz"),
    "line separator": ("a\u2028b", r"a\u2028b"),
    "newline": ("two\nlines", r"two\nlines"),
    "carriage return and tab": ("a\r\tb", r"a\r\tb"),
    "graphviz node name": (r"\N", r"\N"),
    "graphviz graph name": (r"\G", r"\G"),
    "graphviz justification": (r"\l\r\n", r"\l\r\n"),
    "other graphviz escapes": (r"\E\T\H\L", r"\E\T\H\L"),
    "a backslash at the end": ("end\\", "end\\"),
    "two backslashes": ("\\\\", "\\\\"),
    "markup": ("<b>&amp;</b>", "<b>&amp;</b>"),
    "quotes": ("say \"hi\" 'x'", "say \"hi\" 'x'"),
    "greek and subscripts": ("θ₁·α", "θ₁·α"),
    "emoji": ("🙂", "🙂"),
}


def picture_texts(root: Value) -> list[str]:
    """Every text of the rendered SVG, parsed as XML (entities decoded)."""
    svg = ElementTree.fromstring(render(draw_dot(root)))
    return ["".join(text.itertext()) for text in svg.iter(f"{SVG}text")]


@pytest.mark.parametrize("name", list(LABELS))
def test_every_label_renders_as_written_and_reads_back_from_the_svg(name):
    label, shown = LABELS[name]
    x = Value(2.0, label=label)
    out = x * 3
    out.backward()
    texts = picture_texts(out)
    assert shown in texts, texts
    assert "data 2" in texts and "grad 3" in texts
    assert all(c.isprintable() for text in texts for c in text)


def test_two_labels_that_show_alike_stay_two_nodes():
    texts = picture_texts(Value(1.0, label="\x1b") + Value(2.0, label="\x1b"))
    assert r"\x1b" in texts and r"\x1b#2" in texts


def test_an_op_name_is_shown_as_written_too():
    out = Value(1.0, label="x") * 2
    out.op = r"\N*"  # as a user-defined op might be named
    assert r"\N*" in picture_texts(out)


def test_a_label_that_is_not_a_str_names_the_node_and_the_label():
    x = Value(1.0)
    out = x * 2
    x.label = b"x"  # Value() refuses it, but the attribute can be set later
    with pytest.raises(
        TypeError,
        match=r"node n2 \(Value\(data=1.0.*\)\) has label b'x' of "
        r"type bytes; a label must be a str",
    ):
        draw_dot(out)


def test_visible_escapes_exactly_the_characters_that_do_not_print():
    assert visible("plain \\ text ü") == "plain \\ text ü"
    assert visible("\x1b]0;t\x07") == r"\x1b]0;t\x07"
    assert visible("\u200b\ufeff") == r"\u200b\ufeff"


# ---------------------------------------------------------------- the command line


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def no_controls(text: str) -> bool:
    return all(c.isprintable() or c == "\n" for c in text)


@pytest.mark.parametrize("command", ["explain", "gradcheck"])
def test_the_cli_never_echoes_a_control_sequence_from_the_expression(capsys, command):
    status, out, err = run(capsys, command, "x # \x1b]0;title\x07", "--var", "x=1")
    assert status == 0 and no_controls(out) and no_controls(err)
    assert r"x # \x1b]0;title\x07" in out


def test_graph_escapes_the_expression_and_the_output_path(capsys, tmp_path):
    target = tmp_path / "g\x1b[2J.svg"
    status, out, _err = run(capsys, "graph", "x*x # \x1b[2J", "--var", "x=2", "--out", str(target))
    assert status == 0 and no_controls(out) and target.exists()
    assert r"g\x1b[2J.svg" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", "x\x1b[31m", "--var", "x=1"],
        ["explain", "x", "--var", "x=1\x1b[2J"],
        ["explain", "x", "--var", "\x1b[2J=1"],
        ["graph", "x", "--var", "x=1", "--out", "nowhere\x1b/g.svg"],
        ["train", "xor\x07"],
    ],
)
def test_error_messages_escape_control_characters(capsys, argv):
    status, _out, err = run(capsys, *argv)
    assert status == 2 and err.count("\n") == 1 and no_controls(err), err
    assert any(shown in err for shown in ("\\x1b", "\\x07", "U+001B"))


def test_var_names_are_normalised_like_the_expression(capsys):
    status, out, err = run(capsys, "explain", "ℌ*2", "--var", "ℌ=3")
    assert (status, err) == (0, "")
    assert "d/dH = 2" in out
    status, out, err = run(capsys, "gradcheck", "ﬁ*ﬁ", "--var", "ﬁ=3")  # the ligature: fi
    assert status == 0 and "ok:" in out


def test_two_var_names_that_normalise_alike_are_one_variable_given_twice(capsys):
    status, _out, err = run(capsys, "explain", "H", "--var", "ℌ=3", "--var", "H=4")
    assert status == 2 and "--var H is given twice" in err


# ---------------------------------------------------------------- finite differences


@pytest.mark.parametrize("x, eps", [(1.0, 1e-17), (1.0, 1e-16), (3.0, 1e-17), (1e300, 1e-17)])
def test_a_step_that_vanishes_is_a_value_error_naming_eps_and_the_argument(x, eps):
    expected = re.escape(f"eps={eps!r} is too small at x0 = {x!r}")
    with pytest.raises(StepTooSmallError, match=expected):
        numerical_grad(lambda v: v * v, x, eps=eps)
    assert issubclass(StepTooSmallError, ValueError)


def test_the_step_is_checked_per_argument_and_named_in_check_grad():
    with pytest.raises(StepTooSmallError, match=r"too small at y = 1e\+20"):
        check_grad(lambda x, y: x * y, 0.5, 1e20, eps=7e-17, names=["x", "y"])
    with pytest.raises(StepTooSmallError, match=r"too small at x1"):
        compare_grad(lambda x, y: x * y, 0.0, 2.0, eps=1e-17, order=2)


def test_the_smallest_working_eps_in_the_message_works():
    with pytest.raises(StepTooSmallError) as caught:
        numerical_grad(lambda v: v * v, 1.0, eps=1e-17)
    smallest = float(str(caught.value).split("use eps >= ")[1].split(",")[0])
    assert numerical_grad(lambda v: v * v, 1.0, eps=smallest * 1.01)[0] == pytest.approx(2.0)


@pytest.mark.parametrize("eps", [0.0, -1e-6, math.inf, math.nan])
def test_eps_must_be_a_finite_positive_number(eps):
    with pytest.raises(ValueError, match="finite eps > 0"):
        numerical_grad(lambda v: v, 1.0, eps=eps)


def test_cli_gradcheck_blames_eps_not_the_expression(capsys):
    status, _out, err = run(capsys, "gradcheck", "x*x", "--var", "x=1", "--eps", "1e-17")
    assert status == 2
    assert err.startswith("autograd-tiny: error: --eps: eps=1e-17 is too small at x = 1.0")
    assert "cannot evaluate" not in err
