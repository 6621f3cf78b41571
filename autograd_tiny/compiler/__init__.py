"""Compiled replay: trace a function once, then run it as generated float code.

``compile(f)`` calls ``f`` on traced values at its first call (again when the
number of arguments changes), records the operations as a small intermediate
form (``ir.Graph``: ops of the registry over numbered slots) and writes plain
straight-line Python for the forward pass and for the backward pass. The
backward formulas are not written by hand: each comes from evaluating the
engine's rule table, ``RULES``, on small expression objects that print Python
source instead of computing. The package, in the order to read it: ``ir``
(the ``Graph``), ``branches`` (a rule's branches as selects, and their masks;
or decided, and guarded), ``tracing`` (the ``Tracer``, the traced call,
``TraceError``), ``symbolic``
(the printing expressions, ``FORWARD``, the exact sign and scale rewrites),
``gates`` (a rule's partials as branch trees), ``inline`` (single-use
variables into their use), ``emit`` (lines into functions), ``codegen``
(the source of a ``Graph``) and this module, the public face:
``compile`` and ``Compiled`` (calls, batches, the eager fallback). Each
imports only the engine and modules listed before it.

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
    g_y = 1.0
    g_x = y
    g_y += x
    return v1, (g_x, g_y)

``compile(f, has_aux=True)`` is for an ``f`` returning ``(loss, aux)``: the
generated code also returns the aux values (a model's outputs, say), as
floats beside the value, the way JAX's ``value_and_grad(f, has_aux=True)`` does.

The backward statements follow the engine's own ``reverse_topological_order``,
so each gradient is summed in the same order as ``Value.backward`` sums it
and the results equal the eager engine's (where finite). The generated code
keeps a fixed set of simplifications, each exact for every float (nan, inf,
subnormals and the sign of zero included):

- constant folding: operations on constants only are computed once, at trace
  time, and multiplying by a constant 1 or -1 disappears;
- signs and scales (``symbolic.arithmetic``): ``a + -b`` is ``a - b``, a
  product with a negated factor is the negated product, ``x + x`` is
  ``2.0 * x``, and ``(2.0 * x) * 100.0`` is ``200.0 * x`` (only where the
  inner factor is a power of two of at least 1 and the outer at least 1: an
  overflow or a subnormal could tell the two apart otherwise);
- shared terms: equal formulas are computed once, ``x * x``'s two equal
  gradient terms too, and (``inline``) the functions that run write each
  variable read once into its use;
- adjoint pass-through: a node used once whose adjoint is a plain name (the
  inputs of ``+``) reuses that name instead of copying it;
- gating: a local derivative that is 0 on one branch (relu, abs) becomes an
  ``if``, and everything downstream of it in the backward pass moves inside
  that ``if`` - the work behind an inactive relu is skipped. A contribution
  that is the constant 0 is skipped too, so an infinite upstream gradient gives
  0 there where the eager engine would give nan (0 * inf).

Composition. ``compile`` takes any function of numbers, the transforms'
too: ``compile(grad(f))``, ``compile(hessian(f))``, ``compile(jvp(...))``
and ``compile(jacobian(f))`` (a result may be nested tuples or lists of
scalars). A rule that branches (``relu``'s ``x > 0``) is traced once per
branch; its comparison becomes a node (``gt``) and the branches are joined by
``where``, so every call takes the branch its own numbers ask for. Where the
traced backward pass is itself differentiated, each branch's contributions
stay inside that branch (``tracing``'s masks), as the eager rule never
computes the other side: the numbers are the eager ones, except that a zero
may come out as -0.0 (the eager engine itself gives ``grad(f)`` of floats such
a zero as 0.0, summing into ``.grad`` from 0.0, and of Values as -0.0, its
first term; a trace follows the Values). One trace with selects is right for
every branch, but a backward pass through it that is itself differentiated
(``compile(hessian(f))`` of a function with ``leaky_relu``, or
``value_and_grad`` of ``compile(grad(f))``)
would reach an input through the select chain and add eager's terms in another
order (eager's order depends on the branch it runs). There the compiler traces
"decided" instead (``branches``): each comparison is decided by the traced
numbers, as eager decides it, and the generated code checks that a call takes
the same branches (``.source`` shows the guard); a call that takes others
traces again, up to ``PATTERNS`` branch patterns per argument count, and past
them runs eagerly. So derivatives of every order are eager's bit for bit, and
first-order transforms keep their one trace for all branches. Called with
Values, a compiled function replays its traced graph on them:
``grad(compile(f))`` works at every order and traces once (a function whose
trace holds selects, ``compile(grad(f))``, calls ``f`` itself instead: its
selects, differentiated by the eager engine, would meet 0 * inf on their
untaken side).

Closed-over Values. A Value that ``f`` reads from outside its arguments is
never frozen silently: list it in ``params`` (every call reads its current
``.data``, and its gradient is ``accumulate_grad``'s), or the trace is refused
with a ``TraceError`` naming it.

Threads. A trace changes nothing any other code can see: its values are its
own ``Tracer`` objects, the params are read and never changed, and what the
trace needs to know lives in context variables, private to its thread.

Limits. The trace records one op sequence: a function whose operations depend
on its inputs' values (``if x > 0: ...``, ``max(x, y)``, a loop over
``int(x)``) cannot be replayed faithfully. Comparing, converting to float,
or reading ``.data`` of, a traced value raises ``TraceError`` at trace time,
and so does comparing a params Value; reading a params Value's ``.data`` in
``f`` cannot be seen, and is replayed as the number it was. Where the
generated code meets a division by zero, an overflow or ``sin(inf)`` it falls
back to the eager engine, so IEEE results (inf, nan) match ``Value`` exactly.
A function of more than 4,000 statements is generated in chunks that keep
their variables in one list (Python's compiler needs about 2 KB per statement
of a function): a chain of a million nodes compiles in under 1 KB per node.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from ..engine import Value, gradients, to_float
from .codegen import OTHER_BRANCH, Program
from .symbolic import FORWARD
from .tracing import TraceError, flatten, number, split_result, unflatten

_ONLY_FLOATS = {float}
PATTERNS = 8
"""How many decided traces a compiled function keeps per argument count: the branch
patterns its calls take first (see "Composition" above); a call taking another runs
eagerly, with the eager engine's numbers."""


@dataclass
class _Patterns:
    """The decided traces of one argument count, and how calls fared (``_decided``)."""

    traces: list[Program] = field(default_factory=list)  # one per branch pattern
    last: int = 0  # the trace that matched last
    hits: int = 0  # calls that found their trace
    misses: int = 0  # calls that ran eagerly: no trace left for their pattern, or an inf
    eager_only: bool = False  # misses outnumber hits: every call runs eagerly
    warned: bool = False  # that calls took more patterns than are traced


# What generated code raises where the eager engine gives an IEEE inf or nan (1/0, an
# overflow, sin(inf)): the call is redone by the eager engine.
_FALLS_BACK = (ArithmeticError, ValueError)


def _floats(args: Sequence[Any], where: str) -> tuple[Any, ...]:
    """The arguments as ``Value()`` would take them: floats (an int, a NumPy float32 or a
    Decimal would otherwise run the generated code in its own arithmetic)."""
    if set(map(type, args)) <= _ONLY_FLOATS:  # the common case, at C speed
        return tuple(args)
    return tuple(to_float(a, f"{where} argument {i}") for i, a in enumerate(args))


__all__ = ["FORWARD", "PATTERNS", "Compiled", "TraceError", "compile"]


class Compiled:
    """``f`` traced and replayed as generated float code; see ``compile``."""

    def __init__(
        self, f: Callable[..., Any], params: Sequence[Value] = (), has_aux: bool = False
    ) -> None:
        self.f = f
        self.params = list(params)
        self.has_aux = has_aux
        for p in self.params:
            if p.__class__ is not Value:
                raise TypeError(f"compile() params must be Values, got {type(p).__name__} {p!r}")
        self._programs: dict[int, Program] = {}
        self._patterns: dict[int, _Patterns] = {}  # decided traces, per argument count
        self._entry: Callable[..., Any] | None = None  # value_and_grad's generated entry
        self._last: Program | None = None
        self.__name__ = getattr(f, "__name__", "compiled")
        self.__doc__ = getattr(f, "__doc__", None)
        self.__wrapped__ = f  # inspect.signature(cf) is f's

    def _param_data(self) -> list[float]:
        """The params' numbers now, as floats (``w.data = 5`` may have set an int)."""
        return [
            p.data if p.data.__class__ is float else to_float(p.data, f"compile() params[{i}]")
            for i, p in enumerate(self.params)
        ]

    def _program(self, count: int, args: Sequence[Any]) -> Program:
        program = self._programs.get(count)
        if program is None:
            program = self._programs[count] = Program(self.f, args, self.params, self.has_aux)
        self._last = program
        return program

    @property
    def source(self) -> str:
        """The generated Python of the latest trace (call the function first), one
        operation per line. The functions that run are this code with each variable
        read once written into its one use (``compiler.inline``): the same operations
        on the same operands, so the same numbers, without the temporaries."""
        if self._last is None:
            return "# not traced yet: call the compiled function once\n"
        batches = "".join("\n" + source for source, _ in self._last.batches.values())
        return self._last.source + batches

    def __new__(cls, *args: Any, **kwargs: Any) -> Compiled:
        # Each compiled function is the one instance of a class of its own, so that its
        # class's __call__ can become the generated entry point itself (``_general_call``).
        own = type(
            cls.__name__,
            (cls,),
            {
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            },
        )
        return super().__new__(own)

    def __reduce__(self) -> tuple[Any, ...]:
        """A copy or a pickle is the function compiled afresh (its own class, no trace)."""
        return (type(self).__bases__[0], (self.f, self.params, self.has_aux))

    def __call__(self, *args: Any) -> Any:
        """f(*args) as a float; with ``has_aux``, ``(value, aux)``, aux a tuple of floats.

        A function returning tuples or lists of scalars (``compile(jacobian(f))``)
        gives them back as floats in the same shape. With a Value among the
        arguments, the traced ops are replayed on Values: the result is a Value
        (or Values) that any transform differentiates, at any order.
        """
        return self._general_call(*args)

    def _general_call(self, *args: Any) -> Any:
        """``__call__`` for any arguments: Values, other types, a new count.

        Once a call with floats has generated the code, ``cf(...)`` (without params)
        runs the generated ``forward`` as an entry point, as ``value_and_grad`` does:
        it is the ``__call__`` of this instance's own class, so no Python frame
        stands between a script's call and the code (other arguments come back here).
        """
        for a in args:
            if isinstance(a, Value):
                return self._on_values(args)
        args = _floats(args, self.__name__)
        program = self._programs.get(len(args)) or self._program(len(args), args)
        if program.graph.higher:  # exact only as eager's branches: see _decided
            return self._decided("forward", args)
        entry = self._entry_point(program, "forward")
        if entry is not None:  # floats of the traced count: it runs the code (or eager)
            if type(self).__bases__[0].__call__ is Compiled.__call__:  # not overridden
                type(self).__call__ = staticmethod(entry)  # type: ignore[method-assign]
            return entry(*args)
        try:
            if self.params:
                return program.forward(*self._param_data(), *args)
            return program.forward(*args)
        except _FALLS_BACK:
            return self._eager_call(*args)

    def _decided(self, name: str, args: tuple[Any, ...]) -> Any:
        """``name`` (forward or value_and_grad) by a decided trace: where the traced
        backward pass would be differentiated through a rule's branches (``hessian`` of a
        function with ``leaky_relu``), the selects that make one trace right for every
        branch would add eager's terms in another order. A decided trace takes the
        branches these arguments take, as eager does, so its numbers are eager's bit for
        bit; its code checks that a call takes the same branches (``OTHER_BRANCH`` if not).

        The trace that ran last is tried first, then the others; a call matching none
        traces its own, up to ``PATTERNS`` of them. Past that such a call runs eagerly,
        as does one where a trace met an inf or a nan (which may be of its own pattern),
        and once those calls outnumber the calls that found their trace, every call does
        (trying traces that miss would only add to eager's time)."""
        seen = self._patterns.get(len(args)) or self._patterns.setdefault(len(args), _Patterns())
        if not seen.eager_only:
            inputs = (*self._param_data(), *args) if self.params else args
            traces = seen.traces
            count, last = len(traces), seen.last
            raised = False  # a trace met an inf or a nan: maybe of this call's own pattern
            for i in (last, *range(last), *range(last + 1, count)) if count else ():
                try:
                    result = getattr(traces[i], name)(*inputs)
                except _FALLS_BACK:
                    raised = True
                    continue
                if result is not OTHER_BRANCH:
                    seen.last, seen.hits = i, seen.hits + 1
                    return result
            if not raised and count < PATTERNS:  # a pattern no trace has: trace it
                known = Program(self.f, args, self.params, self.has_aux, decided=True)
                traces.append(known)
                seen.last, self._last = count, known
                try:
                    return getattr(known, name)(*inputs)  # (never OTHER_BRANCH here)
                except _FALLS_BACK:
                    pass  # the inf or nan eager gives
            else:
                seen.misses += 1
                seen.eager_only = seen.misses > max(seen.hits, PATTERNS)
                if not raised and not seen.warned:
                    seen.warned = True
                    warnings.warn(
                        f"compile(): the calls of {self.__name__} took more than "
                        f"{PATTERNS} patterns of branches in differentiated rules; calls "
                        f"taking another run with the eager engine, which gives the same "
                        f"numbers more slowly (compiler.PATTERNS sets how many are traced)",
                        RuntimeWarning,
                        stacklevel=4,  # the caller's line: its call, _general_call, _decided
                    )
        if name == "forward":
            return self._eager_call(*args)
        return self._eager_value_and_grad(*args)

    def _entry_point(self, program: Program, name: str) -> Callable[..., Any] | None:
        """``program``'s ``forward`` or ``value_and_grad`` as an entry point whose other
        arguments go to the general path and whose inf or nan goes to the eager engine
        (``Program.entry``); None with params or past one function's size."""
        points = program.entry_points
        if name not in points:
            if name == "forward":
                points[name] = program.entry(name, self._general_call, self._eager_call)
            else:
                points[name] = program.entry(name, self._value_and_grad, self._eager_value_and_grad)
        return points[name]

    def _on_values(self, args: Sequence[Any]) -> Any:
        numbers = [number(a) if isinstance(a, Value) else a for a in args]
        program = self._program(len(args), _floats(numbers, self.__name__))
        given = [
            a if isinstance(a, Value) else to_float(a, f"{self.__name__} argument {i}")
            for i, a in enumerate(args)
        ]
        if not (program.graph.selects or program.graph.higher):
            try:
                outs = program.graph.replay([*self.params, *given])
            except _FALLS_BACK:
                pass  # an op on plain numbers only (1 / 0.0): f itself does what eager does
            else:
                if self.has_aux:
                    return outs[0], tuple(outs[1:])
                return outs[0] if program.scalar else unflatten(program.shape, outs)
        # f itself, as the eager engine calls it: a replay's selects, differentiated by the
        # eager engine, would meet 0 * inf on their untaken side
        out, aux = split_result(self.f, self.f(*given), self.has_aux)
        return (out, aux) if self.has_aux else out

    def _eager_call(self, *args: Any) -> Any:
        """``__call__`` by the eager engine (where the generated code divided by zero)."""
        program = self._programs[len(args)]
        if program.scalar:
            value, aux, _ = self._eager(args, differentiate=False)
            return self._with_aux(value, aux)
        out = self.f(*[Value(a) for a in args])
        return unflatten(
            program.shape,
            [float(x.data) if isinstance(x, Value) else float(x) for x in flatten(out)],
        )

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple[float, ...]]:
        """(f(*args), tuple of df/d each argument); with ``has_aux``, ((value, aux), grads).

        After its first call (without ``params``) ``cf.value_and_grad`` is the
        generated function itself, an entry point that checks its arguments are
        floats and sends anything else back to the general path (``emit.define``):
        nothing else stands between a script's call and the code.
        """
        entry = self._entry
        if entry is not None:
            return entry(*args)
        return self._value_and_grad(*args)

    def _value_and_grad(self, *args: Any) -> tuple[Any, tuple[float, ...]]:
        """``value_and_grad``'s general path: any arguments; traces a new count."""
        args = _floats(args, self.__name__)
        program = self._programs.get(len(args)) or self._program(len(args), args)
        if program.graph.selects or program.graph.higher:  # selects differentiated: _decided
            return self._decided("value_and_grad", args)
        entry = self._entry_point(program, "value_and_grad")
        if entry is not None:  # floats of the traced count: it runs the code (or eager)
            self._entry = self.value_and_grad = entry  # type: ignore[method-assign]
            return entry(*args)
        try:
            if self.params:
                return program.value_and_grad(*self._param_data(), *args)
            return program.value_and_grad(*args)
        except _FALLS_BACK:
            return self._eager_value_and_grad(*args)

    def _eager_value_and_grad(self, *args: Any) -> tuple[Any, tuple[float, ...]]:
        value, aux, grads = self._eager(args)
        return self._with_aux(value, aux), grads[len(self.params) :]

    def value_and_grad_batch(
        self, shared: Sequence[Any], rows: Iterable[Sequence[Any]]
    ) -> tuple[Any, tuple[float, ...]]:
        """Sum over rows of f(*shared, *row), and of its gradient in ``shared``.

        One generated function loops over all rows and accumulates the
        gradients itself: what a training step on a batch needs. (For an ``f`` that
        differentiates through a rule's branches, ``compile(grad(f))``, each row's
        branches may differ: the rows run eagerly, with the eager engine's numbers.) With
        ``has_aux`` the sum comes with a list of each row's aux:
        ``((total, [aux_row0, aux_row1, ...]), grads)``.

        >>> cf = compile(lambda w, x: w * x)
        >>> cf.value_and_grad_batch([2.0], [(1.0,), (3.0,)])
        (8.0, (4.0,))
        >>> cf = compile(lambda w, x: (w * x, [w + x]), has_aux=True)
        >>> cf.value_and_grad_batch([2.0], [(1.0,), (3.0,)])
        ((8.0, [(3.0,), (5.0,)]), (4.0,))
        """
        shared = [*self._param_data(), *_floats(shared, self.__name__)]
        value, grads = self._batch(shared, [_floats(row, self.__name__) for row in rows])
        return value, grads[len(self.params) :]

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
        value, grads = self._batch(
            self._param_data(), [_floats(row, self.__name__) for row in rows]
        )
        for p, g in zip(self.params, grads):
            p.grad += g
        return value

    def _batch(self, shared: list[Any], rows: list[Sequence[Any]]) -> tuple[Any, tuple[float, ...]]:
        if not rows:
            return self._with_aux(0.0, []), (0.0,) * len(shared)
        count = len(shared) - len(self.params) + len(rows[0])
        program = self._program(count, [*shared[len(self.params) :], *rows[0]])
        if program.graph.selects or program.graph.higher:  # rows may take other branches
            return self._eager_batch(shared, rows)  # (see _decided): eager's numbers
        try:
            return program.batch(len(shared))(shared, rows)
        except _FALLS_BACK:
            return self._eager_batch(shared, rows)

    def _eager_batch(
        self, shared: list[Any], rows: list[Sequence[Any]]
    ) -> tuple[Any, tuple[float, ...]]:
        """``_batch`` by the eager engine, row by row, summed as the generated loop sums."""
        total, sums, auxes = 0.0, [0.0] * len(shared), []
        for row in rows:
            value, aux, grads = self._eager([*shared[len(self.params) :], *row])
            total += value
            sums = [s + g for s, g in zip(sums, grads)]
            auxes.append(aux)
        return self._with_aux(total, auxes), tuple(sums)

    def _with_aux(self, value: float, aux: Any) -> Any:
        return (value, aux) if self.has_aux else value

    def _eager(
        self, args: Sequence[Any], differentiate: bool = True
    ) -> tuple[float, tuple[float, ...] | None, tuple[float, ...]]:
        """Value, aux (None without ``has_aux``), gradients (params first): the eager engine."""
        leaves = [Value(a) for a in args]
        out, aux = split_result(self.f, self.f(*leaves), self.has_aux)
        aux_values = (
            None
            if aux is None
            else tuple(a.data if isinstance(a, Value) else float(a) for a in aux)
        )
        targets = [*self.params, *leaves]
        if not differentiate:
            return float(out.data if isinstance(out, Value) else out), aux_values, ()
        if not isinstance(out, Value):
            return float(out), aux_values, (0.0,) * len(targets)
        return out.data, aux_values, tuple(float(g) for g in gradients(out, targets))


def compile(
    f: Callable[..., Any],
    *,
    params: Sequence[Value] = (),
    has_aux: bool = False,
) -> Compiled:
    """Trace ``f`` at its first call and replay it as generated straight-line float code.

    ``params``: Values that ``f`` uses without taking them as arguments (a
    model's weights); the replay reads their current ``.data`` at every call,
    and ``accumulate_grad`` adds to their ``.grad``. Any other Value made
    before the call that ``f`` reads is refused with a ``TraceError`` naming
    it: a replay would otherwise keep its value from the trace, silently.

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
