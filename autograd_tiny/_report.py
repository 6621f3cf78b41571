"""A gradient check's findings: the compared rows, their table and what a failure suggests.

``gradcheck`` computes the numbers; this module only judges and prints them,
so it imports nothing. A hand-derived formula is judged against the engine
where the engine agrees with finite differences; the ratio of the two (yours
over the right value) tells a factor mistake (2, 1/2, -1), a swapped pair or a
factor that a group of partials share.

>>> rows = [GradientRow("x", 4.0, 4.0, expected=8.0), GradientRow("y", 3.0, 3.0, expected=6.0)]
>>> judge(rows, 1e-5, 1e-8).factor
2.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["GradientRow", "Verdict", "diagnose", "format_rows", "judge"]


def _close(x: float, reference: float, rtol: float, atol: float) -> bool:
    if math.isnan(x) or math.isnan(reference):
        return math.isnan(x) and math.isnan(reference)
    if math.isinf(x) or math.isinf(reference):
        return x == reference
    return abs(x - reference) <= atol + rtol * abs(reference)


@dataclass(frozen=True)
class GradientRow:
    """One compared derivative: which argument, both values and their errors.

    ``expected`` is the value of a hand-derived formula, when one was given;
    ``ratio`` is that value over the engine's (2.0: twice the right value).
    """

    argument: str
    analytic: float
    numeric: float
    expected: float | None = None

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.numeric)

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.analytic), abs(self.numeric))
        return self.abs_error / scale if scale else 0.0

    @property
    def ratio(self) -> float:
        if self.expected is None or (self.expected == 0 and self.analytic == 0):
            return math.nan
        if self.analytic == 0:
            return math.copysign(math.inf, self.expected)
        return self.expected / self.analytic

    def agrees(self, rtol: float, atol: float) -> bool:
        """The engine's value matches finite differences."""
        return _close(self.analytic, self.numeric, rtol, atol)

    def formula_agrees(self, rtol: float, atol: float) -> bool:
        """The hand-derived value matches the engine's (True when there is none)."""
        return self.expected is None or _close(self.expected, self.analytic, rtol, atol)

    def formula_wrong(self, rtol: float, atol: float) -> bool:
        """The formula differs from an engine value that finite differences confirm."""
        return self.agrees(rtol, atol) and not self.formula_agrees(rtol, atol)

    def passes(self, rtol: float, atol: float) -> bool:
        return self.agrees(rtol, atol) and self.formula_agrees(rtol, atol)


def _number(x: float | None, width: int) -> str:
    return f"{'-':>{width}}" if x is None or math.isnan(x) else f"{x:>{width}.8g}"


def format_rows(
    rows: Sequence[GradientRow], rtol: float = 1e-5, atol: float = 1e-8, *, title: str = ""
) -> str:
    """The comparison as a text table: argument, analytic, numeric, abs and rel error.

    Rows with a hand-derived value show three columns instead (your formula, the
    engine, finite differences) and the ratio of yours to the engine's.
    """
    if any(row.expected is not None for row in rows):
        return _format_formula_rows(rows, rtol, atol, title=title)
    header = (
        f"{'argument':<12} {'analytic':>15} {'numeric':>15} {'abs error':>10} {'rel error':>10}"
    )
    lines = [title, header] if title else [header]
    for row in rows:
        mark = "" if row.agrees(rtol, atol) else "  <- mismatch"
        lines.append(
            f"{row.argument:<12} {row.analytic:>15.8g} {row.numeric:>15.8g} "
            f"{row.abs_error:>10.2e} {row.rel_error:>10.2e}{mark}"
        )
    return "\n".join(lines)


def _format_formula_rows(
    rows: Sequence[GradientRow], rtol: float, atol: float, *, title: str
) -> str:
    width = max([12] + [len(row.argument) for row in rows])
    header = (
        f"{'argument':<{width}} {'your formula':>15} {'engine':>15} "
        f"{'finite diff.':>15} {'ratio':>11}"
    )
    lines = [title, header] if title else [header]
    for row in rows:
        if not row.agrees(rtol, atol):
            mark = "  <- engine and finite differences disagree"
        elif not row.formula_agrees(rtol, atol):
            mark = "  <- wrong"
        else:
            mark = ""
        lines.append(
            f"{row.argument:<{width}} {_number(row.expected, 15)} {row.analytic:>15.8g} "
            f"{row.numeric:>15.8g} {_number(row.ratio, 11)}{mark}"
        )
    return "\n".join(lines)


# A ratio p/q with small p and q is the signature of a factor mistake: a 2 lost
# from a square, a mean's 1/n, a sign. Other ratios are just numbers.
def _simple_fraction(ratio: float) -> Fraction | None:
    if not math.isfinite(ratio) or ratio == 0:
        return None
    fraction = Fraction(ratio).limit_denominator(8)
    if abs(fraction.numerator) > 8 or not math.isclose(float(fraction), ratio, rel_tol=1e-9):
        return None
    return fraction


def _ratio_groups(rows: Sequence[GradientRow], rtol: float) -> list[list[GradientRow]]:
    groups: list[list[GradientRow]] = []
    for row in rows:
        for group in groups:
            if math.isclose(group[0].ratio, row.ratio, rel_tol=max(rtol, 1e-9)):
                group.append(row)
                break
        else:
            groups.append([row])
    return groups


def _listing(rows: Sequence[GradientRow], limit: int = 12) -> str:
    names = [row.argument for row in rows]
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _swapped_pairs(
    rows: Sequence[GradientRow], rtol: float, atol: float
) -> list[tuple[GradientRow, GradientRow]]:
    pairs = []
    for i, first in enumerate(rows):
        for second in rows[i + 1 :]:
            if (
                first.expected is not None
                and second.expected is not None
                and _close(first.expected, second.analytic, rtol, atol)
                and _close(second.expected, first.analytic, rtol, atol)
            ):
                pairs.append((first, second))
    return pairs


def _ratio_line(group: Sequence[GradientRow], whom: str) -> str | None:
    ratio = group[0].ratio
    fraction = _simple_fraction(ratio)
    if ratio == 0:
        return f"your formula gives 0 for {whom}: a term is missing"
    if fraction == -1:
        return (
            f"{whom}: the opposite sign of the right value, a likely sign mistake "
            f"(y - y_hat for y_hat - y, or a step up the gradient)"
        )
    if fraction is not None:
        return (
            f"{whom}: {fraction} times the right value, a likely factor mistake "
            f"(a 2 from a square, a 1/2 or a mean's 1/n, a term counted twice)"
        )
    if len(group) > 1 and math.isfinite(ratio):
        return f"{whom}: the same ratio {ratio:.8g} to the right value, from a factor they share"
    return None


@dataclass(frozen=True)
class Verdict:
    """What a comparison found: failed rows by name, a shared ratio, swapped pairs, sentences."""

    wrong: list[str]
    formula_wrong: int
    disagree: int
    factor: float | None
    swapped: list[tuple[str, str]]
    lines: list[str]


def judge(rows: Sequence[GradientRow], rtol: float, atol: float) -> Verdict:
    """Judge every row: which failed and what the failures have in common."""
    wrong = [row.argument for row in rows if not row.passes(rtol, atol)]
    disagree = [row for row in rows if not row.agrees(rtol, atol)]
    formula_rows = [row for row in rows if row.expected is not None]
    wrong_formula = [row for row in formula_rows if row.formula_wrong(rtol, atol)]
    lines = []
    if disagree:
        lines.append(
            f"the engine and finite differences disagree on {_listing(disagree)}: "
            f"the function may cut the graph (.data) or sit on a kink, so the "
            f"right value there is in doubt"
        )
        confirmed = [
            row
            for row in disagree
            if row.expected is not None and _close(row.expected, row.numeric, rtol, atol)
        ]
        if confirmed:
            lines.append(f"your formula agrees with finite differences on {_listing(confirmed)}")
    if not wrong_formula:
        return Verdict(wrong, 0, len(disagree), None, [], lines)
    right = [row for row in formula_rows if row.passes(rtol, atol)]
    lines.append(
        f"your formula is wrong for {len(wrong_formula)} of {len(formula_rows)} "
        f"partials: {_listing(wrong_formula)}" + (f"; right for {_listing(right)}" if right else "")
    )

    # One shared ratio explains every wrong partial more simply than swaps do (x - y
    # written as y - x is a sign, not a swapped pair), so pairs are sought only after.
    shared = _ratio_groups(wrong_formula, rtol)
    one_factor = len(shared) == 1 and math.isfinite(shared[0][0].ratio)
    pairs = [] if one_factor else _swapped_pairs(wrong_formula, rtol, atol)
    for a, b in pairs:
        lines.append(
            f"{a.argument} and {b.argument} look swapped: your {a.argument} is the "
            f"right {b.argument} ({b.analytic:.8g}) and your {b.argument} the right "
            f"{a.argument} ({a.analytic:.8g})"
        )
    paired = {row.argument for pair in pairs for row in pair}
    rest = [row for row in wrong_formula if row.argument not in paired]
    groups = _ratio_groups(rest, rtol)
    factor = None
    if one_factor and shared[0][0].ratio != 0:
        factor = shared[0][0].ratio
    for group in groups:
        every = len(groups) == 1 and len(group) > 1 and not pairs
        line = _ratio_line(group, "every wrong partial" if every else _listing(group))
        if line:
            lines.append(line)
    swapped = [(a.argument, b.argument) for a, b in pairs]
    return Verdict(wrong, len(wrong_formula), len(disagree), factor, swapped, lines)


def diagnose(rows: Sequence[GradientRow], rtol: float = 1e-5, atol: float = 1e-8) -> list[str]:
    """What the failing rows suggest, one sentence each: wrong partials, shared factors, swaps.

    >>> rows = [GradientRow("w", 4.0, 4.0, expected=2.0), GradientRow("b", 3.0, 3.0, 1.5)]
    >>> for line in diagnose(rows):
    ...     print(line)
    your formula is wrong for 2 of 2 partials: w, b
    every wrong partial: 1/2 times the right value, a likely factor mistake ...
    """
    return judge(rows, rtol, atol).lines
