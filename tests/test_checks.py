"""The shared argument checks: a bool is never a number, and each message names the value."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest

from autograd_tiny import Value
from autograd_tiny._checks import check_int, check_number, is_int, is_integral, is_number, is_real
from autograd_tiny.data import moons
from autograd_tiny.optim import SGD, Adam
from autograd_tiny.train import fit


@pytest.mark.parametrize(
    "x, int_, number, integral, real",
    [
        (3, True, True, True, True),
        (2.5, False, True, False, True),
        (True, False, False, False, False),
        (Fraction(1, 2), False, False, False, True),
        ("3", False, False, False, False),
        (None, False, False, False, False),
    ],
)
def test_predicates_refuse_bools_and_strings(x, int_, number, integral, real):
    assert (is_int(x), is_number(x), is_integral(x), is_real(x)) == (int_, number, integral, real)


@pytest.mark.parametrize(
    "value, minimum, message",
    [
        (True, 1, "f: n must be a positive int, got True"),
        (0, 1, "f: n must be a positive int, got 0"),
        (1, 2, "f: n must be an int >= 2, got 1"),
        (2.0, None, "f: n must be an int, got 2.0"),
        ("x" * 100, None, "f: n must be an int, got '" + "x" * 59),
    ],
)
def test_check_int_names_the_argument_and_the_value(value, minimum, message):
    with pytest.raises(ValueError) as error:
        check_int(value, "n", "f", minimum=minimum)
    assert str(error.value) == message


@pytest.mark.parametrize(
    "value, bounds, message",
    [
        (math.nan, {"at_least": 0}, "f: x must be a number >= 0 (finite), got nan"),
        (math.inf, {"at_least": 0}, "f: x must be a number >= 0 (finite), got inf"),
        (-1, {"at_least": 0, "finite": False}, "f: x must be a number >= 0 (inf allowed), got -1"),
        (0, {"above": 0}, "f: x must be a number > 0 (finite), got 0"),
        (1.0, {"at_least": 0.0, "below": 1.0}, "f: x must be a number in [0.0, 1.0), got 1.0"),
        (False, {}, "f: x must be a number (finite), got False"),
        (10**400, {}, "f: x must be a number (finite), got " + str(10**400)[:60]),
    ],
)
def test_check_number_names_the_argument_and_the_value(value, bounds, message):
    with pytest.raises(ValueError) as error:
        check_number(value, "x", "f", **bounds)
    assert str(error.value) == message


def test_check_number_returns_a_float_and_lets_inf_through_only_when_asked():
    assert check_number(2, "x", "f", at_least=0) == 2.0
    assert type(check_number(2, "x", "f")) is float
    assert check_number(math.inf, "x", "f", above=0, finite=False) == math.inf


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: SGD([Value(1.0)], lr=True), "SGD: lr must be a number >= 0.0 (finite), got True"),
        (lambda: moons(True), "moons: n must be an int >= 2, got True"),
        (lambda: Adam([Value(1.0)], lr=-1), "Adam: lr must be a number >= 0.0 (finite), got -1"),
        (
            lambda: fit(None, [[0.0]], [0], epochs=True),
            "fit: epochs must be a positive int, got True",
        ),
    ],
)
def test_the_modules_use_the_shared_checks(call, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()
