"""Compiled replay: trace a scalar function once, then run it as generated float code.

``compile(f)`` calls ``f`` on traced Values at its first call (again when the
number of arguments changes), records the operations, and writes plain
straight-line Python for the forward pass and for the backward pass. The
backward formulas are not written here: each comes from evaluating the
engine's rule table, ``RULES``, on small expression objects that print Python
source instead of computing (they live in ``_symbolic``). Imports only the
engine and ``_symbolic``.

>>> cf = compile(lambda x, y: x * y + y)
>>> cf(3.0, 4.0)
16.0
>>> cf.value_and_grad(3.0, 4.0)
(16.0, (4.0, 4.0))
>>> print(cf.source)
def forward(x, y):
    v0 = x * y
    v1 = v0 + y
    return v1
<BLANKLINE>
def value_and_grad(x, y):
    v0 = x * y
    v1 = v0 + y
    g_x = g_y = 0.0
    g_y += 1.0
    g_x += y
    g_y += x
    return v1, (g_x, g_y)

``compile(f, has_aux=True)`` is for an ``f`` returning ``(loss, aux)``: the
generated code also returns the aux values (a model's outputs, say), as
floats beside the value, the way JAX's ``value_and_grad(f, has_aux=True)`` does.

The backward statements follow the engine's own ``reverse_topological_order``,
so each gradient is summed in the same order as ``Value.backward`` sums it
and the results equal the eager engine's (where finite). The generated code
keeps a minimal, fixed set of simplifications, the ones a careful person
makes by hand:

- constant folding: operations on constants only are computed once, at trace
  time, and multiplying by a constant 1 or -1 disappears;
- adjoint pass-through: a node used once whose adjoint is a plain name (the
  inputs of ``+``) reuses that name instead of copying it;
- gating: a local derivative that is 0 on one branch (relu, abs) becomes an
  ``if``, and everything downstream of it in the backward pass moves inside
  that ``if`` - the work behind an inactive relu is skipped. A contribution
  that is the constant 0 is skipped too, so an infinite upstream gradient gives
  0 there where the eager engine would give nan (0 * inf).

Limits. The trace records one op sequence: a function whose operations depend
on its inputs' values (``if x > 0: ...``, ``max(x, y)``, a loop over
``int(x)``) cannot be replayed faithfully. Comparing, converting to float,
or reading ``.data`` of, a traced value raises ``TraceError`` at trace time
(Python-level ``if`` on such a read cannot be told apart from a harmless one,
so every read is refused). Arguments are plain numbers; where
the generated code meets a division by zero it falls back to the eager engine,
so IEEE results (inf, nan) match ``Value`` exactly.
"""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Iterable, Sequence
from typing import Any, Callable

from ._symbolic import (
    ATOM,
    FORWARD,
    NAMESPACE,
    Expr,
    alternatives,
    conditional_source,
    number_source,
    source,
    symbolic_partials,
    times,
)
from .engine import Value, forward_order, gradients, reverse_topological_order

__all__ = ["compile", "Compiled", "TraceError", "FORWARD"]


class TraceError(TypeError):
    """The traced function read a traced value as a number: its op sequence may depend on it."""


# --------------------------------------------------------------------------
# Tracing
# --------------------------------------------------------------------------

_DATA_SLOT = Value.__dict__["data"]
_ENGINE_FILE = Value.__init__.__code__.co_filename  # where reading .data is the engine's business


class _Tracer(Value):
    """A Value during tracing: results stay _Tracers; reading one as a number is an error."""

    __slots__ = ()

    def _refuse(self, *args: Any) -> Any:
        raise TraceError(
            "compile() traced a function that compares a traced value or reads it as a "
            "number (<, max, float(), .data...); its operations may then depend on the "
            "input values, and one trace cannot replay that. Use the eager engine for "
            "this function, or pass that input as a constant."
        )

    def _read_data(self) -> float:
        if sys._getframe(1).f_code.co_filename != _ENGINE_FILE:
            self._refuse()
        return _DATA_SLOT.__get__(self)

    def _write_data(self, value: float) -> None:
        _DATA_SLOT.__set__(self, value)

    data = property(_read_data, _write_data)
    __lt__ = __le__ = __gt__ = __ge__ = __float__ = __bool__ = __int__ = __index__ = _refuse
    __hash__ = object.__hash__


_NOT_TRACED = {"__init__", "__float__", "__lt__", "__le__", "__gt__", "__ge__",
               "__hash__", "backward"}


def _keep_tracing(method: Callable[..., Any]) -> Callable[..., Any]:
    def traced(*args: Any, **kwargs: Any) -> Any:
        out = method(*args, **kwargs)
        if out.__class__ is Value:
            out.__class__ = _Tracer
        return out
    traced.__name__ = method.__name__
    return traced


for _name, _attr in list(vars(Value).items()):
    if callable(_attr) and not isinstance(_attr, type) and _name not in _NOT_TRACED \
            and not (_name.startswith("__") and _name.endswith("__") and _name[2:-2] in
                     {"new", "getattribute", "setattr", "delattr", "init_subclass", "class"}):
        setattr(_Tracer, _name, _keep_tracing(_attr))


# --------------------------------------------------------------------------
# Code generation
# --------------------------------------------------------------------------

class _Writer:
    """Lines of a function body; each statement sits under a tuple of ``if`` conditions."""

    def __init__(self, indent: int) -> None:
        self.indent = indent
        self.lines: list[str] = []
        self.open: tuple[str, ...] = ()

    def emit(self, guard: tuple[str, ...], statement: str) -> None:
        common = 0
        while (common < len(self.open) and common < len(guard)
               and self.open[common] == guard[common]):
            common += 1
        self.open = self.open[:common]
        for condition in guard[common:]:
            self.lines.append("    " * (self.indent + len(self.open)) + f"if {condition}:")
            self.open += (condition,)
        self.lines.append("    " * (self.indent + len(guard)) + statement)


class _Trace:
    """One traced op sequence and the source generated from it.

    ``root`` is the differentiated output; ``aux`` the other outputs (None
    without ``has_aux``), computed by the forward code and never differentiated.
    """

    def __init__(self, root: Any, aux: tuple[Any, ...] | None, leaves: list[Value],
                 names: list[str]) -> None:
        self.names = names
        self.leaves = leaves
        self.root = root
        self.aux = aux
        self.order = forward_order(root) if isinstance(root, Value) else []
        self.src: dict[int, Any] = {}  # id(node) -> Expr name or float constant
        self.forward_lines: list[str] = []
        arg_index = {id(leaf): i for i, leaf in enumerate(leaves)}
        self.arg_index = arg_index
        counter = 0
        for node in _forward_order_of(root, *(aux or ())):
            key = id(node)
            if key in arg_index:
                self.src[key] = Expr(names[arg_index[key]])
            elif not node.parents or all(not isinstance(self.src[id(p)], Expr)
                                         for p in node.parents):
                self.src[key] = float(node.data)  # a constant, folded at trace time
            else:
                if node.op not in FORWARD:
                    raise NotImplementedError(
                        f"compile() has no forward formula for op {node.op!r}")
                name = f"v{counter}"
                counter += 1
                operands = [source(self.src[id(p)]) for p in node.parents]
                self.forward_lines.append(f"{name} = {FORWARD[node.op].format(*operands)}")
                self.src[key] = Expr(name)

    def output_source(self, out: Any) -> str:
        if isinstance(out, Value):
            return source(self.src[id(out)])
        return number_source(float(out))

    def result_source(self) -> str:
        return self.output_source(self.root)

    def aux_source(self) -> str:
        """The aux outputs as a Python tuple display: ``(v3, v5)``, ``(v3,)``, ``()``."""
        items = [self.output_source(a) for a in self.aux or ()]
        return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"

    def backward_lines(self, wrt: Sequence[int], indent: int) -> list[str]:
        """Statements adding d root / d argument to ``g_<name>`` for each index in ``wrt``."""
        writer = _Writer(indent)
        if not isinstance(self.root, Value):
            return []
        targets = {id(self.leaves[i]): f"g_{self.names[i]}" for i in wrt}
        needs: set[int] = set(targets)
        uses: dict[int, int] = {}
        for node in self.order:
            if any(id(p) in needs for p in node.parents) and isinstance(self.src[id(node)], Expr):
                needs.add(id(node))
                for p in node.parents:
                    uses[id(p)] = uses.get(id(p), 0) + 1
        # adjoint of each node: (source, guard); for multi-use nodes a variable
        adjoint: dict[int, tuple[Any, tuple[str, ...]]] = {}
        inits: list[str] = []
        root_key = id(self.root)
        if root_key in targets:
            writer.emit((), f"{targets[root_key]} += 1.0")
            return writer.lines
        if root_key not in needs:
            return []
        adjoint[root_key] = (1.0, ())
        for node in reverse_topological_order(self.root):
            key = id(node)
            if key not in adjoint or not node.parents:
                continue
            upstream, guard = adjoint.pop(key)
            operands = [self.src[id(p)] for p in node.parents] + [self.src[key]]
            partials = symbolic_partials(node.op, operands)
            for parent, local in zip(node.parents, partials):
                pkey = id(parent)
                if pkey not in needs:
                    continue
                contribution = times(local, upstream)
                options = alternatives(contribution)
                if not options:
                    continue
                if len(options) == 1:
                    extra, expr = options[0]
                    where = guard + extra
                    text = source(expr)
                else:
                    where, expr, text = guard, None, conditional_source(contribution)
                if pkey in targets:
                    writer.emit(where, f"{targets[pkey]} += {text}")
                elif uses[pkey] == 1:
                    if expr is not None and (isinstance(expr, float)
                                             or (isinstance(expr, Expr) and expr.prec == ATOM
                                                 and expr.src.isidentifier())):
                        adjoint[pkey] = (expr, where)  # pass-through: no statement
                    else:
                        name = f"g{self.src[pkey].src[1:]}"
                        writer.emit(where, f"{name} = {text}")
                        adjoint[pkey] = (Expr(name), where)
                else:
                    name = f"g{self.src[pkey].src[1:]}"
                    if pkey not in adjoint:
                        inits.append(name)
                        adjoint[pkey] = (Expr(name), where)
                    else:
                        old = adjoint[pkey][1]
                        common = 0
                        while common < min(len(old), len(where)) and old[common] == where[common]:
                            common += 1
                        adjoint[pkey] = (Expr(name), old[:common])
                    writer.emit(where, f"{name} += {text}")
        lines = writer.lines
        if inits:
            lines = [_chained_zero(inits, indent)] + lines
        return lines


def _chained_zero(names: list[str], indent: int) -> str:
    return "    " * indent + " = ".join(names) + " = 0.0"


def _forward_order_of(*outputs: Any) -> list[Value]:
    """``forward_order`` of several outputs at once: each node once, inputs before users."""
    order: list[Value] = []
    seen: set[int] = set()
    for out in outputs:
        if isinstance(out, Value):
            for node in forward_order(out):
                if id(node) not in seen:
                    seen.add(id(node))
                    order.append(node)
    return order


def _kind(x: Any) -> str:
    """How an error message names a returned object (a tracer is a Value to the user)."""
    if isinstance(x, Value):
        return "Value"
    if isinstance(x, (tuple, list)):
        return f"a {type(x).__name__} of {len(x)} item{'' if len(x) == 1 else 's'}"
    return type(x).__name__


def _is_scalar(x: Any) -> bool:
    return isinstance(x, (Value, int, float)) and not isinstance(x, bool)


def _split_result(f: Callable[..., Any], out: Any, has_aux: bool
                  ) -> tuple[Any, tuple[Any, ...] | None]:
    """(loss, aux) from what ``f`` returned (aux None without ``has_aux``), or a TypeError."""
    name = getattr(f, "__name__", "f")
    if not has_aux:
        if not _is_scalar(out):
            raise TypeError(f"{name} must return a scalar Value or number to be compiled, "
                            f"got {_kind(out)}")
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(f"{name} must return a pair (loss, aux) with has_aux=True, "
                        f"got {_kind(out)}")
    loss, aux = out
    if not _is_scalar(loss):
        raise TypeError(f"{name} returned (loss, aux) with a loss that is not a scalar Value "
                        f"or number: {_kind(loss)}")
    if not isinstance(aux, (tuple, list)):
        raise TypeError(f"{name} returned (loss, aux) with an aux that is not a tuple or list "
                        f"of Values or numbers: {_kind(aux)}")
    for i, a in enumerate(aux):
        if not _is_scalar(a):
            raise TypeError(f"{name} returned (loss, aux) with aux[{i}] not a Value or "
                            f"number: {_kind(a)}")
    return loss, tuple(aux)


_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_RESERVED = re.compile(r"[vgp][0-9]+\Z")


def _argument_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's own parameter names when they are plain and distinct, else a0, a1, ..."""
    code = getattr(f, "__code__", None)
    if code is not None and code.co_argcount == count and not code.co_flags & 0x04:
        names = list(code.co_varnames[:count])
        if (len(set(names)) == count
                and all(_SAFE_NAME.match(n) and not _RESERVED.match(n)
                        and not keyword.iskeyword(n) and n not in {"total", "rows", "shared", "aux"}
                        for n in names)):
            return names
    return [f"a{i}" for i in range(count)]


class _Program:
    """The generated functions for one argument count."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], params: list[Value],
                 has_aux: bool) -> None:
        leaves = []
        for a in args:
            leaf = Value(a)
            leaf.__class__ = _Tracer
            leaves.append(leaf)
        for p in params:
            p.__class__ = _Tracer
        try:
            out = f(*leaves)
        finally:
            for p in params:
                p.__class__ = Value
        root, aux = _split_result(f, out, has_aux)
        for node in _forward_order_of(root, *(aux or ())):
            node.__class__ = Value  # the graph is plain Values again
        for leaf in leaves:
            leaf.__class__ = Value
        self.names = names = ([f"p{i}" for i in range(len(params))]
                              + _argument_names(f, len(args)))
        self.trace = trace = _Trace(root, aux, [*params, *leaves], names)
        signature = ", ".join(names)
        body = ["    " + line for line in trace.forward_lines]
        result = trace.result_source()
        if has_aux:
            result = f"{result}, {trace.aux_source()}"
        forward = [f"def forward({signature}):", *body, f"    return {result}"]
        wrt = names[len(params):]
        grads = ", ".join(f"g_{n}" for n in wrt)
        backward = trace.backward_lines(range(len(params), len(names)), 1)
        zero = [_chained_zero([f"g_{n}" for n in wrt], 1)] if wrt else []
        tuple_src = f"({grads},)" if len(wrt) == 1 else f"({grads})"
        value = f"({result})" if has_aux else result
        value_and_grad = [f"def value_and_grad({signature}):", *body, *zero, *backward,
                          f"    return {value}, {tuple_src}"]
        self.source = "\n".join(forward) + "\n\n" + "\n".join(value_and_grad) + "\n"
        namespace = dict(NAMESPACE)
        exec(self.source, namespace)  # noqa: S102 - our own generated code
        self.forward: Callable[..., Any] = namespace["forward"]
        self.value_and_grad: Callable[..., tuple[Any, tuple[float, ...]]] = \
            namespace["value_and_grad"]
        self.batches: dict[int, tuple[str, Callable[..., Any]]] = {}

    def batch(self, shared: int) -> Callable[..., Any]:
        """A function summing value and d/d the first ``shared`` arguments over rows.

        With aux it also lists each row's aux tuple: ``(total, aux), grads``.
        """
        if shared not in self.batches:
            names, trace = self.names, self.trace
            first, rest = names[:shared], names[shared:]
            body = ["        " + line for line in trace.forward_lines]
            backward = trace.backward_lines(range(shared), 2)
            unpack = f"    {', '.join(first)}, = shared" if first else "    pass"
            grads = ", ".join(f"g_{n}" for n in first)
            zero = [_chained_zero([f"g_{n}" for n in first] + ["total"], 1)]
            row = ", ".join(rest) + ("," if len(rest) == 1 else "")
            has_aux = trace.aux is not None
            lines = [
                "def value_and_grad_batch(shared, rows):",
                unpack,
                *zero,
                *(["    aux = []"] if has_aux else []),
                f"    for {row or '_'} in rows:",
                *body,
                f"        total += {trace.result_source()}",
                *([f"        aux.append({trace.aux_source()})"] if has_aux else []),
                *backward,
                f"    return {'(total, aux)' if has_aux else 'total'}, "
                f"({grads}{',' if len(first) == 1 else ''})",
            ]
            source = "\n".join(lines) + "\n"
            namespace = dict(NAMESPACE)
            exec(source, namespace)  # noqa: S102 - our own generated code
            self.batches[shared] = (source, namespace["value_and_grad_batch"])
        return self.batches[shared][1]


class Compiled:
    """``f`` traced and replayed as generated float code; see ``compile``."""

    def __init__(self, f: Callable[..., Any], params: Sequence[Value] = (),
                 has_aux: bool = False) -> None:
        self.f = f
        self.params = list(params)
        self.has_aux = has_aux
        for p in self.params:
            if p.__class__ is not Value:
                raise TypeError(f"compile() params must be Values, got {type(p).__name__} {p!r}")
        self._programs: dict[int, _Program] = {}
        self._last: _Program | None = None
        self.__name__ = getattr(f, "__name__", "compiled")
        self.__doc__ = getattr(f, "__doc__", None)

    def _program(self, count: int, args: Sequence[Any]) -> _Program:
        program = self._programs.get(count)
        if program is None:
            program = self._programs[count] = _Program(self.f, args, self.params, self.has_aux)
        self._last = program
        return program

    @property
    def source(self) -> str:
        """The generated Python of the latest trace (call the function first)."""
        if self._last is None:
            return "# not traced yet: call the compiled function once\n"
        batches = "".join("\n" + source for source, _ in self._last.batches.values())
        return self._last.source + batches

    def __call__(self, *args: Any) -> Any:
        """f(*args) as a float; with ``has_aux``, ``(value, aux)``, aux a tuple of floats."""
        program = self._programs.get(len(args)) or self._program(len(args), args)
        try:
            return program.forward(*[p.data for p in self.params], *args)
        except ArithmeticError:
            value, aux, _ = self._eager(args)
            return self._with_aux(value, aux)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple[float, ...]]:
        """(f(*args), tuple of df/d each argument); with ``has_aux``, ((value, aux), grads)."""
        program = self._programs.get(len(args)) or self._program(len(args), args)
        try:
            if self.params:
                return program.value_and_grad(*[p.data for p in self.params], *args)
            return program.value_and_grad(*args)
        except ArithmeticError:
            value, aux, grads = self._eager(args)
            return self._with_aux(value, aux), grads[len(self.params):]

    def value_and_grad_batch(self, shared: Sequence[Any], rows: Iterable[Sequence[Any]]
                             ) -> tuple[Any, tuple[float, ...]]:
        """Sum over rows of f(*shared, *row), and of its gradient in ``shared``.

        One generated function loops over all rows and accumulates the
        gradients itself: what a training step on a batch needs. With
        ``has_aux`` the sum comes with a list of each row's aux:
        ``((total, [aux_row0, aux_row1, ...]), grads)``.

        >>> cf = compile(lambda w, x: w * x)
        >>> cf.value_and_grad_batch([2.0], [(1.0,), (3.0,)])
        (8.0, (4.0,))
        >>> cf = compile(lambda w, x: (w * x, [w + x]), has_aux=True)
        >>> cf.value_and_grad_batch([2.0], [(1.0,), (3.0,)])
        ((8.0, [(3.0,), (5.0,)]), (4.0,))
        """
        shared = [*[p.data for p in self.params], *shared]
        value, grads = self._batch(shared, list(rows))
        return value, grads[len(self.params):]

    def accumulate_grad(self, rows: Iterable[Sequence[Any]]) -> Any:
        """Add d/d p of the sum of f(*row) to ``p.grad`` for each of ``params``; return the sum.

        With ``has_aux``: ``(sum, [aux_row0, aux_row1, ...])``.

        >>> w = Value(2.0)
        >>> step = compile(lambda x, y: (w * x - y) ** 2, params=[w])
        >>> step.accumulate_grad([(1.0, 1.0), (2.0, 3.0)]), w.grad
        (2.0, 6.0)
        >>> step = compile(lambda x, y: ((w * x - y) ** 2, [w * x]), params=[w], has_aux=True)
        >>> step.accumulate_grad([(1.0, 1.0), (2.0, 3.0)])
        (2.0, [(2.0,), (4.0,)])
        """
        value, grads = self._batch([p.data for p in self.params], list(rows))
        for p, g in zip(self.params, grads):
            p.grad += g
        return value

    def _batch(self, shared: list[Any], rows: list[Sequence[Any]]
               ) -> tuple[Any, tuple[float, ...]]:
        if not rows:
            return self._with_aux(0.0, []), (0.0,) * len(shared)
        count = len(shared) - len(self.params) + len(rows[0])
        program = self._program(count, [*shared[len(self.params):], *rows[0]])
        function = program.batch(len(shared))
        try:
            return function(shared, rows)
        except ArithmeticError:
            total, sums, auxes = 0.0, [0.0] * len(shared), []
            for row in rows:
                value, aux, grads = self._eager([*shared[len(self.params):], *row])
                total += value
                sums = [s + g for s, g in zip(sums, grads)]
                auxes.append(aux)
            return self._with_aux(total, auxes), tuple(sums)

    def _with_aux(self, value: float, aux: Any) -> Any:
        return (value, aux) if self.has_aux else value

    def _eager(self, args: Sequence[Any]
               ) -> tuple[float, tuple[float, ...] | None, tuple[float, ...]]:
        """Value, aux (None without ``has_aux``), gradients (params first): the eager engine."""
        leaves = [Value(a) for a in args]
        out, aux = _split_result(self.f, self.f(*leaves), self.has_aux)
        aux_values = None if aux is None else tuple(
            a.data if isinstance(a, Value) else float(a) for a in aux)
        targets = [*self.params, *leaves]
        if not isinstance(out, Value):
            return float(out), aux_values, (0.0,) * len(targets)
        return out.data, aux_values, tuple(float(g) for g in gradients(out, targets))


def compile(f: Callable[..., Any], *, params: Sequence[Value] = (),  # noqa: A001
            has_aux: bool = False) -> Compiled:
    """Trace ``f`` at its first call and replay it as generated straight-line float code.

    ``params``: Values that ``f`` uses without taking them as arguments (a
    model's weights); the replay reads their current ``.data`` at every call,
    and ``accumulate_grad`` adds to their ``.grad``.

    >>> cf = compile(lambda x: (x * x).relu())
    >>> cf.value_and_grad(3.0)
    (9.0, (6.0,))

    ``has_aux``: ``f`` returns a pair ``(loss, aux)``: ``loss`` the scalar that
    is differentiated, ``aux`` a tuple or list of Values or numbers from the
    same computation (a model's outputs, say), given back as a tuple of floats
    and never differentiated. As in JAX, the value becomes the pair:

    >>> cf = compile(lambda x: (x * x, [x + 1.0, 2]), has_aux=True)
    >>> cf(3.0)
    (9.0, (4.0, 2.0))
    >>> cf.value_and_grad(3.0)
    ((9.0, (4.0, 2.0)), (6.0,))
    """
    if not callable(f):
        raise TypeError(f"compile() needs a function, got {type(f).__name__} {f!r}")
    return Compiled(f, params, has_aux)
