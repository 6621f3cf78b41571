"""The command line's messages for what newcomers type: each one line naming what to type.

And a reader that closes the pipe early (``autograd-tiny ... | head -1``) ends the
command quietly with its own exit status.
"""

import subprocess
import sys

import pytest

from autograd_tiny import cli
from autograd_tiny.expr import FUNCTIONS


def error_of(capsys, *argv):
    """The one error line of a failing command (exit status 2, nothing on stdout)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert len(err.splitlines()) == 1, err
    return err.removeprefix("autograd-tiny: error: ").rstrip("\n")


@pytest.mark.parametrize(
    "expression, message",
    [
        (
            "x*y +",
            "invalid expression: invalid syntax: the expression ends too early "
            "(at column 6, after 'x*y +')",
        ),
        ("x^2", "invalid expression: use ** for powers (^ is not one): write x ** 2 (at column 1)"),
        (
            "exp(x) ^ (y + 1)",
            "invalid expression: use ** for powers (^ is not one): write "
            "exp(x) ** (y + 1) (at column 1)",
        ),
        ("2x", "invalid expression: write 2*x for a product (at column 1)"),
        ("x + 2.5y", "invalid expression: write 2.5*y for a product (at column 5)"),
        ("1e-3x", "invalid expression: write 1e-3*x for a product (at column 1)"),
        ("2(x + 1)", "invalid expression: write 2*(...) for a product, not 2(...) (at column 1)"),
        ("exp(x", "invalid expression: invalid syntax: '(' was never closed (at column 4)"),
    ],
)
def test_syntax_errors_say_what_to_write_and_where(capsys, expression, message):
    if sys.version_info < (3, 10) and expression == "exp(x":
        pytest.skip("Python 3.9's parser calls an unclosed '(' an unexpected end")
    assert error_of(capsys, "explain", expression, "--var", "x=1", "--var", "y=2") == message


@pytest.mark.skipif(
    sys.version_info < (3, 10), reason="Python 3.9's parser calls this an unexpected end"
)
def test_other_syntax_errors_give_the_column(capsys):
    assert error_of(capsys, "explain", "x y", "--var", "x=1", "--var", "y=2") == (
        "invalid expression: invalid syntax (at column 3)"
    )


def test_a_scientific_number_is_not_taken_for_a_product(capsys):
    assert error_of(capsys, "explain", "1e5 +", "--var", "x=1") == (
        "invalid expression: invalid syntax: the expression ends too early "
        "(at column 6, after '1e5 +')"
    )


def test_bare_values_are_pointed_to_var(capsys):
    assert error_of(capsys, "explain", "x*y", "x=1", "y=2") == (
        "unrecognized arguments: x=1 y=2; give values as --var x=1 --var y=2"
    )


def test_other_unrecognized_arguments_get_no_var_hint(capsys):
    assert error_of(capsys, "explain", "x*y", "--var", "x=1", "extra") == (
        "unrecognized arguments: extra"
    )


@pytest.mark.parametrize(
    "argv, suggestion",
    [
        (["explian"], "explain"),
        (["gradchek", "x"], "gradcheck"),
        (["train", "moon"], "moons"),
    ],
)
def test_a_mistyped_choice_gets_the_closest_one(capsys, argv, suggestion):
    message = error_of(capsys, *argv)
    assert "invalid choice" in message
    assert message.endswith(f"; did you mean {suggestion!r}?")


def test_a_choice_nothing_like_any_gets_no_suggestion(capsys):
    assert "did you mean" not in error_of(capsys, "zzzzzz")


def test_gradcheck_at_a_kink_says_why_it_mismatches(capsys):
    status = cli.main(["gradcheck", "relu(x)", "--var", "x=0"])
    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert out[-2] == "MISMATCH: 1 of 1 derivatives differ (rtol=1e-05, atol=1e-08)"
    assert out[-1] == (
        "note: relu is at its kink (input 0), where the derivative jumps: the "
        "engine takes relu'(0) = 0, as PyTorch does, while central differences "
        "average the two sides"
    )


def test_gradcheck_names_every_kinked_op_at_its_kink(capsys):
    assert cli.main(["gradcheck", "abs(x) + relu(x) + exp(x)", "--var", "x=0"]) == 1
    note = capsys.readouterr().out.splitlines()[-1]
    assert note.startswith("note: abs and relu are at their kinks (input 0)")
    assert "abs'(0) = 0, relu'(0) = 0" in note


def test_gradcheck_mismatch_away_from_kinks_has_no_kink_note(capsys):
    # relu at 1 is smooth; an eps far too large for exp is what makes it differ.
    assert cli.main(["gradcheck", "relu(x) * exp(10*x)", "--var", "x=1", "--eps", "0.1"]) == 1
    assert "kink" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, status",
    [
        (["explain", "x*x", "--var", "x=3"], 0),
        (["gradcheck", "x*x", "--var", "x=3"], 0),
        (["gradcheck", "relu(x)", "--var", "x=0"], 1),  # its own status: a mismatch
    ],
)
def test_a_closed_pipe_ends_quietly_with_the_commands_own_status(argv, status):
    process = subprocess.Popen(
        [sys.executable, "-m", "autograd_tiny", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before the command prints a line
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == status
    assert err == ""


def test_expression_help_says_how_to_write_powers_and_products(capsys):
    assert cli.main(["explain", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "powers are x**2, not x^2; products need their *, as in 2*x" in text


def test_expression_help_names_every_function_the_parser_accepts(capsys):
    assert cli.main(["explain", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    listed = text.split("and the functions ")[1].split(".")[0].split()
    assert listed == sorted(FUNCTIONS)


def test_the_product_hint_only_where_the_parser_stopped(capsys):
    # The error is the escape character at column 2; the 31m further on is not its cause.
    message = error_of(capsys, "explain", "x\x1b[31m", "--var", "x=1")
    assert "31*m" not in message and "(at column 2)" in message
