"""Nested lists of numbers as flat lists and back: the arguments of a gradient check.

A gradient check differentiates a flat list of numbers; its users pass a
network's weights as nested lists (``W1``, ``b1``, ...) and hand-derived
gradients in the same nesting. This module flattens an argument into named
entries (``W1[0][1]``), rebuilds the nesting around any flat values, and
checks that a gradient has its argument's shape. Imports only the engine.

>>> shape = Shape.of([[1, 2], [3, 4]], "W")
>>> shape.names, shape.values
(['W[0][0]', 'W[0][1]', 'W[1][0]', 'W[1][1]'], [1.0, 2.0, 3.0, 4.0])
>>> shape.rebuild([5.0, 6.0, 7.0, 8.0])
[[5.0, 6.0], [7.0, 8.0]]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .engine import Value, to_float

__all__ = ["Shape"]

# A leaf (None) or a list/tuple of templates: the nesting with the numbers taken out.
Template = Any


def _plain(x: Any) -> Any:
    # NumPy arrays and scalars become lists and floats; everything else is left alone.
    if not isinstance(x, Value) and callable(getattr(x, "tolist", None)):
        return x.tolist()
    return x


def _describe(x: Any) -> str:
    if isinstance(x, (list, tuple)):
        return f"a list of {len(x)}"
    return f"{type(x).__name__} {x!r:.40}"


def _entries(count: int) -> str:
    return f"{count} entr{'y' if count == 1 else 'ies'}"


def _flatten(x: Any, name: str, names: list[str], values: list[float], where: str) -> Template:
    x = _plain(x)
    if isinstance(x, (list, tuple)):
        items = [_flatten(item, f"{name}[{i}]", names, values, where) for i, item in enumerate(x)]
        return tuple(items) if isinstance(x, tuple) else items
    names.append(name)
    values.append(to_float(x, f"{where} {name}"))
    return None


def _fill(template: Template, values: Iterator[Any]) -> Any:
    if template is None:
        return next(values)
    items = [_fill(item, values) for item in template]
    return tuple(items) if isinstance(template, tuple) else items


def _match(template: Template, given: Any, name: str, out: list[float]) -> None:
    given = _plain(given)
    if template is None:
        if isinstance(given, (list, tuple)):
            raise ValueError(
                f"the gradient for {name} should be one number, like {name}; got {_describe(given)}"
            )
        out.append(to_float(given, f"the gradient for {name}"))
        return
    if not isinstance(given, (list, tuple)):
        raise ValueError(
            f"the gradient for {name} should be a list of {len(template)}, "
            f"like {name}; got {_describe(given)}"
        )
    if len(given) != len(template):
        raise ValueError(
            f"the gradient for {name} has {_entries(len(given))}; "
            f"{name} has {_entries(len(template))}"
        )
    for i, (inner, item) in enumerate(zip(template, given)):
        _match(inner, item, f"{name}[{i}]", out)


@dataclass(frozen=True)
class Shape:
    """One argument: a number or nested lists of numbers, flattened into named entries."""

    name: str
    template: Template
    names: list[str] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, x: Any, name: str, where: str = "gradient check argument") -> Shape:
        """Flatten ``x``; entries are named ``name``, ``name[0]``, ``name[0][1]``..."""
        names: list[str] = []
        values: list[float] = []
        template = _flatten(x, name, names, values, where)
        return cls(name, template, names, values)

    @property
    def is_number(self) -> bool:
        return self.template is None

    def rebuild(self, flat: Sequence[Any]) -> Any:
        """``flat`` (one item per entry) in this argument's nesting."""
        return _fill(self.template, iter(flat))

    def match(self, given: Any) -> list[float]:
        """The entries of ``given``, a gradient that must have this shape (else ValueError)."""
        out: list[float] = []
        _match(self.template, given, self.name, out)
        return out
