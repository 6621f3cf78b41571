"""The expression commands of the command line: graph, explain, gradcheck.

Each ``run_*`` takes the parsed arguments, prints its result and returns the
exit status. The expression goes through ``expr.parse`` (an ``ast``
whitelist, never ``eval``); a bad one, or any failure while computing it,
raises ``UsageError`` (one line, exit status 2). Imports ``cli.args`` and the
package modules it uses; only ``cli`` imports it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

from ..engine import Value, forward_order
from ..explain import explain
from ..expr import Expression, ExpressionError, parse
from ..gradcheck import GradientRow, StepTooSmallError, compare_grad, diagnose, format_rows
from ..viz import graph_size, render_svg
from .args import UsageError, file_target, svg_target, visible

__all__ = ["run_explain", "run_gradcheck", "run_graph"]


@contextlib.contextmanager
def _evaluating(expression: Expression) -> Iterator[None]:
    """Any failure while computing ``expression`` becomes a one-line UsageError."""
    try:
        yield
    except (UsageError, KeyboardInterrupt):
        raise
    except Exception as error:
        raise UsageError(
            f"cannot evaluate {expression.source!r:.80}: {type(error).__name__}: {error}"
        ) from None


def _expression(args: argparse.Namespace) -> tuple[Expression, dict[str, float]]:
    """The parsed expression and its variables; UsageError for anything wrong."""
    variables: dict[str, float] = {}
    for name, value in args.var or []:
        if name in variables:
            raise UsageError(f"--var {name} is given twice")
        variables[name] = value
    try:
        return parse(args.expression, variables), variables
    except ExpressionError as error:
        raise UsageError(f"invalid expression: {error}") from None


def _number(x: float) -> str:
    return format(x + 0.0, ".10g")


def _leaves(variables: dict[str, float]) -> dict[str, Value]:
    return {name: Value(value, label=name) for name, value in variables.items()}


def _result(expression: Expression, leaves: dict[str, Value]) -> Value:
    with _evaluating(expression):
        out = expression.evaluate(leaves)
    return out if isinstance(out, Value) else Value(out)


def _at(variables: dict[str, float]) -> str:
    if not variables:
        return ""
    return " at " + ", ".join(f"{name}={_number(value)}" for name, value in variables.items())


def _print_gradients(leaves: dict[str, Value]) -> None:
    for name, leaf in leaves.items():
        print(f"d/d{name} = {_number(leaf.grad)}")


def run_graph(args: argparse.Namespace) -> int:
    expression, variables = _expression(args)
    target = svg_target(args.out)
    leaves = _leaves(variables)
    out = _result(expression, leaves)
    size = graph_size(out)
    if size > args.max_nodes:
        raise UsageError(
            f"the graph would have {size} nodes (values and ops), more than "
            f"--max-nodes {args.max_nodes}; pass "
            f"--max-nodes {size} to draw it anyway"
        )
    with _evaluating(expression):
        out.backward()
    print(f"{visible(expression.source)} = {_number(out.data)}{_at(variables)}")
    _print_gradients(leaves)
    render_svg(out, target, max_nodes=args.max_nodes)
    print(f"wrote {visible(str(target))}")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    expression, variables = _expression(args)
    page = file_target(args.html, ".html", "--html") if args.html is not None else None
    leaves = _leaves(variables)
    out = _result(expression, leaves)
    with _evaluating(expression):
        steps = explain(out)
    print(f"{visible(expression.source)} = {_number(out.data)}{_at(variables)}")
    print(
        f"backward pass from {steps.root} (the output), {len(steps)} step"
        f"{'' if len(steps) == 1 else 's'}: contribution = local * upstream, "
        f"total = the input's gradient so far"
    )
    print(steps.table())
    _print_gradients(leaves)
    if page is not None:
        steps.to_html(page)
        print(f"wrote {page} (open it in a browser: the arrow keys step through the pass)")
    return 0


def _expected(args: argparse.Namespace, variables: dict[str, float]) -> dict[str, float]:
    """The --expect values: hand-derived derivatives, each by a --var variable."""
    expected: dict[str, float] = {}
    for name, value in args.expect or []:
        if name in expected:
            raise UsageError(f"--expect {name} is given twice")
        if name not in variables:
            raise UsageError(f"--expect {name}: there is no --var {name} to differentiate by")
        expected[name] = value
    return expected


def _report_expected(rows: list[GradientRow], rtol: float, atol: float, tolerances: str) -> int:
    """The verdict on --expect values: the diagnosis, then WRONG and MISMATCH counts."""
    bad = sum(not row.agrees(rtol, atol) for row in rows)
    wrong = sum(row.formula_wrong(rtol, atol) for row in rows)
    if not bad and not wrong:
        print(
            f"ok: your derivatives match the engine's, and the engine's match finite "
            f"differences {tolerances}"
        )
        return 0
    for line in diagnose(rows, rtol, atol):
        print(line)
    if wrong:
        checked = sum(row.expected is not None for row in rows)
        print(
            f"WRONG: {wrong} of {checked} expected derivatives differ from the engine's "
            f"{tolerances}"
        )
    if bad:
        print(f"MISMATCH: {bad} of {len(rows)} derivatives differ {tolerances}")
    return 1


def run_gradcheck(args: argparse.Namespace) -> int:
    expression, variables = _expression(args)
    if not variables:
        raise UsageError("gradcheck needs at least one variable: --var NAME=NUMBER")
    expected = _expected(args, variables)
    names = list(variables)

    def function(*values: Any) -> Any:
        return expression.evaluate(dict(zip(names, values)))

    with _evaluating(expression):
        try:
            rows = compare_grad(
                function, *variables.values(), eps=args.eps, order=args.order, names=names
            )
        except StepTooSmallError as error:  # the option's fault, not the expression's
            raise UsageError(f"--eps: {error}") from None
    rows = [
        dataclasses.replace(row, expected=expected[row.argument])
        if row.argument in expected
        else row
        for row in rows
    ]
    print(f"{visible(expression.source)}{_at(variables)}")
    print(format_rows(rows, args.rtol, args.atol))
    bad = sum(not row.agrees(args.rtol, args.atol) for row in rows)
    tolerances = f"(rtol={args.rtol:g}, atol={args.atol:g})"
    if expected:
        return _report_expected(rows, args.rtol, args.atol, tolerances)
    if not bad:
        print(f"ok: analytic and numeric derivatives agree {tolerances}")
        return 0
    print(f"MISMATCH: {bad} of {len(rows)} derivatives differ {tolerances}")
    kinks = _kinks_reached(expression, variables)
    if kinks:
        are = "is at its kink" if len(kinks) == 1 else "are at their kinks"
        print(
            f"note: {' and '.join(kinks)} {are} (input 0), where the derivative jumps: "
            f"the engine takes {', '.join(KINKS[kink] for kink in kinks)}, as PyTorch "
            f"does, while central differences average the two sides"
        )
    return 1


# Ops whose derivative jumps at an input of 0, and the convention the engine takes there.
KINKS = {"relu": "relu'(0) = 0", "abs": "abs'(0) = 0", "leaky_relu": "leaky_relu'(0) = its slope"}


def _kinks_reached(expression: Expression, variables: dict[str, float]) -> list[str]:
    """The kinked ops (``KINKS``) that the expression evaluates exactly at their kink."""
    with _evaluating(expression):
        out = expression.evaluate(_leaves(variables))
    if not isinstance(out, Value):
        return []
    found = {
        node.op
        for node in forward_order(out)
        if node.op in KINKS and node.parents and node.parents[0].data == 0
    }
    return sorted(found)
