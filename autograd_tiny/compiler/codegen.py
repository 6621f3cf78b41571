"""Source generation: straight-line Python from one traced call's ``Graph``.

Owns ``Program``, the generated functions for one argument count: it traces
the function once (``tracing``), writes the source of ``forward`` and
``value_and_grad`` from the graph and runs it with ``exec``; on
request it writes a ``value_and_grad_batch`` too (a loop over rows summing the
value and the gradients in the first arguments). Each forward line is a
``FORWARD`` formula; each backward line is a rule of ``RULES`` evaluated on
``symbolic``'s expressions that print themselves, with the simplifications
that the package's docstring lists. Imports the engine, ``ir``, ``symbolic``
and ``tracing``; only the package's ``__init__`` imports it.

>>> program = Program(lambda x, y: x * y, [3.0, 4.0], [], False)
>>> print(program.source)
def forward(x, y):
    v0 = x * y
    return v0
<BLANKLINE>
def value_and_grad(x, y):
    v0 = x * y
    g_x = y
    g_y = x
    return v0, (g_x, g_y)
>>> program.value_and_grad(3.0, 4.0), program.batch(1)([2.0], [(1.0,), (3.0,)])
((12.0, (4.0, 3.0)), (8.0, (4.0,)))
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Callable

from ..engine import Value
from .emit import (
    CHUNK,
    OTHER_BRANCH,
    NotFloats,
    argument_names,
    chained_zero,
    define,
    first_assignments,
    fixed_arity,
    guard_condition,
    guarded,
    live,
    run,
    shape_source,
    tuple_display,
)
from .gates import alternatives, conditional_source, peel, symbolic_partials, times
from .ir import Graph
from .symbolic import ATOM, FORWARD, Expr, arithmetic, negated, number_source, source
from .tracing import trace

__all__ = ["OTHER_BRANCH", "NotFloats", "Program"]


class _Writer:
    """Lines of a function body; each statement sits under a tuple of ``if`` conditions.

    Up to ``MAX_DEPTH`` conditions nest as ``if`` blocks. A deeper guard (a chain
    of relus gives one condition per relu) is named by a flag variable instead,
    each flag defined once from the one before it (``k3 = k2 and (v7 > 0.0)``),
    so the code stays linear in the number of conditions at any depth.
    """

    MAX_DEPTH = 8

    def __init__(self, indent: int) -> None:
        self.indent = indent
        self.lines: list[str] = []
        self.open: tuple[str, ...] = ()
        self.flags: dict[tuple[str, ...], str] = {}

    def _flag(self, guard: tuple[str, ...]) -> str:
        """The flag variable for ``guard``, defining it (and missing shorter ones) first."""
        known = len(guard)
        while known > self.MAX_DEPTH and guard[:known] not in self.flags:
            known -= 1
        for length in range(known + 1, len(guard) + 1):
            if length == self.MAX_DEPTH + 1:
                value = " and ".join(f"({c})" for c in guard[:length])
            else:
                value = f"{self.flags[guard[: length - 1]]} and ({guard[length - 1]})"
            name = f"k{len(self.flags)}"
            self._put((), f"{name} = {value}")
            self.flags[guard[:length]] = name
        return self.flags[guard]

    def emit(self, guard: tuple[str, ...], statement: str) -> None:
        if len(guard) > self.MAX_DEPTH:
            guard = (self._flag(guard),)
        self._put(guard, statement)

    def _put(self, guard: tuple[str, ...], statement: str) -> None:
        common = 0
        while (
            common < len(self.open) and common < len(guard) and self.open[common] == guard[common]
        ):
            common += 1
        self.open = self.open[:common]
        for condition in guard[common:]:
            self.lines.append("    " * (self.indent + len(self.open)) + f"if {condition}:")
            self.open += (condition,)
        self.lines.append("    " * (self.indent + len(guard)) + statement)


class _Trace:
    """The source generated from one ``Graph``: forward lines, output and backward sources.

    ``graph.outputs[0]`` is the differentiated output (with ``has_aux``, the rest
    are the aux values, computed by the forward code and never differentiated).
    """

    def __init__(self, graph: Graph, names: list[str], differentiated: bool = True) -> None:
        self.graph = graph
        self.names = names
        self.live = graph.uses_input()
        self.src: list[Any] = [Expr(name) for name in names]  # per slot: Expr or float
        self.owner: dict[str, int] = {}  # variable vN -> the slot that computes it
        self.forward_lines: list[str] = []
        seen: dict[str, Expr] = {}  # formula -> its variable: each is computed once
        counter = 0
        for (op, parents, value), computed in zip(graph.nodes, self.live[graph.inputs :]):
            if not computed:
                self.src.append(float(value))  # a constant, folded at trace time
                continue
            if op not in FORWARD:  # (define_op's ops are: FORWARD asks the registry)
                raise NotImplementedError(f"compile() has no forward formula for op {op!r}")
            operands = [self.src[p] for p in parents]
            if all(type(o) is float for o in operands):  # constant once x ** 0 is 1.0, say
                self.src.append(float(value))
                continue
            same = _unchanged(op, operands, differentiated)
            if same is not None:  # x * 1.0, x + -0.0, identity...: x itself, bit for bit
                self.src.append(same)
                continue
            scaled = None
            negate = False
            if op in _ARITHMETIC:  # signs and scales folded (symbolic.arithmetic)
                expr = arithmetic(op, *operands)
                negate = expr.negates is not None
                expr = expr.negates if negate else expr
                formula, scaled = expr.src, expr.scaled
            else:
                formula = _formula(op, [source(o) for o in operands], operands)
            if formula not in seen:
                name = f"v{counter}"
                counter += 1
                self.forward_lines.append(f"{name} = {formula}")
                self.owner[name] = len(self.src)
                seen[formula] = Expr(name, scaled=scaled)
            self.src.append(negated(seen[formula]) if negate else seen[formula])

    def adjoint_name(self, slot: int) -> str:
        """The variable of a slot's adjoint: g3 for v3's slot, gs12 for a slot that is
        another's variable (an alias or a repeated formula)."""
        expr = self.src[slot]
        if self.owner.get(expr.src) == slot:
            return f"g{expr.src[1:]}"
        return f"gs{slot}"

    def guard_sources(self) -> list[tuple[str, float]]:
        """A decided trace's guards as ``emit.guarded`` takes them; a comparison of
        constants was folded at the trace, and holds."""
        guards: dict[str, float] = {}  # each once, in the order the trace met them
        for slot, number in self.graph.guards:
            if isinstance(slot, int) and not isinstance(self.src[slot], float):
                guards.setdefault(source(self.src[slot]), number)
        return list(guards.items())

    def output_source(self, out: Any) -> str:
        return source(self.src[out]) if isinstance(out, int) else number_source(float(out))

    def result_source(self) -> str:
        return self.output_source(self.graph.outputs[0])

    def outputs_source(self, outputs: Sequence[Any]) -> str:
        """Outputs as a Python tuple display: ``(v3, v5)``, ``(v3,)``, ``()``."""
        return tuple_display([self.output_source(o) for o in outputs])

    def backward_lines(self, wrt: Sequence[int], indent: int) -> list[str]:
        """Statements adding d root / d input to ``g_<name>`` for each input index in ``wrt``."""
        graph, src = self.graph, self.src
        writer = _Writer(indent)
        root = graph.outputs[0]
        if not isinstance(root, int):
            return []
        targets = {i: f"g_{self.names[i]}" for i in wrt}
        needs: set[int] = set(targets)
        uses: dict[int, int] = {}
        first = graph.inputs
        for k in range(graph.root_size):
            parents = graph.nodes[k][1]
            if any(p in needs for p in parents) and isinstance(src[first + k], Expr):
                needs.add(first + k)
                for p in parents:
                    uses[p] = uses.get(p, 0) + 1
        # adjoint of each slot: (source, guard); for slots used more than once a variable
        adjoint: dict[int, tuple[Any, tuple[str, ...]]] = {}
        inits: list[str] = []
        temps: list[str] = []
        if root in targets:
            writer.emit((), f"{targets[root]} += 1.0")
            return writer.lines
        if root not in needs:
            return []
        adjoint[root] = (1.0, ())
        for k in range(graph.root_size - 1, -1, -1):
            key = first + k
            if key not in adjoint:
                continue
            op, parents, _ = graph.nodes[k]
            upstream, guard = adjoint.pop(key)
            operands = [src[p] for p in parents] + [src[key]]
            partials = symbolic_partials(op, operands)
            terms: list[tuple[int, tuple[str, ...], Any, str]] = []  # (slot, guard, expr, text)
            for pkey, local in zip(parents, partials):
                if pkey not in needs:
                    continue
                contribution = times(local, upstream)
                options = alternatives(contribution)
                if not options:
                    continue
                if len(options) == 1:
                    extra, expr = options[0]
                    terms.append((pkey, guard + extra, expr, source(expr)))
                else:
                    extra, rest = peel(contribution)
                    terms.append((pkey, guard + extra, None, conditional_source(rest)))
            if len(terms) == 2 and terms[0][:2] == terms[1][:2] and _shareable(terms):
                # x * x: the same term twice, computed once (the same bits, added twice)
                pkey, where, expr, _ = terms[0]
                sign = isinstance(expr, Expr) and expr.negates is not None
                inner = expr.negates if sign else expr
                name = f"h{len(temps)}"
                temps.append(name)
                writer.emit(where, f"{name} = {source(inner)}")
                shared = negated(Expr(name)) if sign else Expr(name)
                terms = [(pkey, where, shared, source(shared))] * 2
            for pkey, where, expr, text in terms:
                if pkey in targets:
                    writer.emit(where, _add_to(targets[pkey], expr, text))
                elif uses[pkey] == 1:
                    if _passes(expr):
                        adjoint[pkey] = (expr, where)  # pass-through: no statement
                    else:
                        name = self.adjoint_name(pkey)
                        writer.emit(where, f"{name} = {text}")
                        adjoint[pkey] = (Expr(name), where)
                else:
                    name = self.adjoint_name(pkey)
                    if pkey not in adjoint:
                        inits.append(name)
                        adjoint[pkey] = (Expr(name), where)
                    else:
                        old = adjoint[pkey][1]
                        common = 0
                        while common < min(len(old), len(where)) and old[common] == where[common]:
                            common += 1
                        adjoint[pkey] = (Expr(name), old[:common])
                    writer.emit(where, _add_to(name, expr, text))
        lines, inits = first_assignments(writer.lines, inits, indent)
        if inits:
            lines = [chained_zero(inits, indent), *lines]
        return lines


def _add_to(name: str, expr: Any, text: str) -> str:
    """``name += text``; ``name -= b`` where the term is ``-b`` (the same bits, one op less)."""
    if isinstance(expr, Expr) and expr.negates is not None:
        return f"{name} -= {expr.negates.src}"
    return f"{name} += {text}"


def _passes(expr: Any) -> bool:
    """A single-use adjoint that needs no statement: a number, a name, or a name negated
    (its uses absorb the sign: a * -g is -(a * g), and a += -(a * g) is a -= a * g)."""
    if isinstance(expr, float):
        return True
    if isinstance(expr, Expr) and expr.negates is not None:
        expr = expr.negates
    return isinstance(expr, Expr) and expr.prec == ATOM and expr.src.isidentifier()


def _shareable(terms: list[tuple[int, tuple[str, ...], Any, str]]) -> bool:
    """Two terms that are one expression (not a bare name or number: nothing to share)."""
    (_, _, a, text), (_, _, b, other) = terms
    return isinstance(a, Expr) and isinstance(b, Expr) and text == other and not _passes(a)


def _is_number(x: Any, number: float) -> bool:
    """``x`` is the constant ``number``, sign of zero included."""
    return type(x) is float and x == number and math.copysign(1.0, x) == math.copysign(1.0, number)


_ARITHMETIC = ("+", "-", "*", "/")


def _unchanged(op: str, operands: list[Any], differentiated: bool = True) -> Any:
    """The operand (or number) an op gives back exactly, for every input (nan and the
    sign of zero included): ``x * 1.0``, ``x + -0.0``, ``x ** 1.0``, ``identity(x)``,
    a select whose condition is a constant, ``-x`` and ``x * -1.0`` as the operand
    negated (no statement: its uses absorb the sign); else None. ``x ** 0.0`` is 1.0
    for every x, but its derivative at a nan is nan in the eager engine: it stays a
    node where the code is ``differentiated``."""
    if op == "identity":
        return operands[0]
    if op == "neg":
        return negated(operands[0])
    if op == "*":
        x, y = operands
        if _is_number(x, -1.0) or _is_number(y, -1.0):
            return negated(y if _is_number(x, -1.0) else x)
        return y if _is_number(x, 1.0) else x if _is_number(y, 1.0) else None
    if op == "**" and not differentiated and _is_number(operands[1], 0.0):
        return 1.0
    if op == "+":
        x, y = operands
        return y if _is_number(x, -0.0) else x if _is_number(y, -0.0) else None
    if op == "**" and _is_number(operands[1], 1.0):
        return operands[0]
    if op in ("if_true", "if_false") and type(operands[0]) is float:
        taken = (operands[0] > 0.0) == (op == "if_true")
        return operands[1] if taken else -0.0
    return None


def _formula(op: str, texts: list[str], operands: list[Any]) -> str:
    """The forward formula of one node. A power with a constant whole exponent is
    Python's ``**`` (the same C ``pow`` as the engine's, without a call; what it refuses,
    an overflow or 0 to a negative power, sends the call to the eager engine)."""
    y = operands[1] if len(operands) == 2 else None
    if op == "**" and type(y) is float and math.isfinite(y) and y == int(y) and abs(y) <= 64:
        base = texts[0]
        if not (isinstance(operands[0], Expr) and operands[0].prec == ATOM):
            base = f"({base})"
        if y == 2.0:  # as the engine computes it (_ieee.real_pow)
            return f"{base} * {base}"
        return f"{base} ** {texts[1]}"
    return FORWARD[op].format(*texts)


class Program:
    """The generated functions for one argument count, and the traced ``Graph`` they come
    from (which ``replay`` runs on Values)."""

    def __init__(
        self,
        f: Callable[..., Any],
        args: Sequence[Any],
        params: list[Value],
        has_aux: bool,
        decided: bool = False,
    ) -> None:
        self.graph = graph = trace(f, args, params, has_aux, decided)
        self.has_aux = has_aux
        self.params = len(params)
        self.names = names = [f"p{i}" for i in range(len(params))] + argument_names(f, len(args))
        self.fixed = fixed_arity(f, len(args))  # f takes exactly this many: entries may too
        self.trace = trace_ = _Trace(graph, names, differentiated=graph.shape is None)
        signature = ", ".join(names)
        body = ["    " + line for line in trace_.forward_lines]
        # the result's shape: a scalar, or nested tuples/lists (compile(jacobian(f)))
        self.shape: Any = graph.shape
        self.scalar = self.shape is None
        if has_aux:
            result = f"{trace_.result_source()}, {trace_.outputs_source(graph.outputs[1:])}"
        elif self.scalar:
            result = trace_.result_source()
        else:
            result = shape_source(self.shape, [trace_.output_source(o) for o in graph.outputs])
        guards = trace_.guard_sources()
        value = f"({result})" if has_aux else result  # what value_and_grad returns first
        result = guarded(result, guards)
        forward_body = live(body, result)
        forward = [f"def forward({signature}):", *forward_body, f"    return {result}"]
        self.source = "\n".join(forward) + "\n"
        # forward and value_and_grad are defined at their first use (``__getattr__``):
        # a training step never calls forward, and a big function takes long to compile.
        self._pending: dict[str, tuple[list[str], str]] = {"forward": (forward_body, result)}
        # the bodies an entry point may be made of (one function: CHUNK statements at most)
        self._bodies: dict[str, tuple[list[str], str]] = {}
        if len(forward_body) <= CHUNK:
            self._bodies["forward"] = (forward_body, result)
        # forward and value_and_grad as entry points: set by the Compiled that owns them
        self.entry_points: dict[str, Callable[..., Any] | None] = {}
        if self.scalar:
            wrt = names[len(params) :]
            grads = tuple_display([f"g_{n}" for n in wrt])
            backward = trace_.backward_lines(range(len(params), len(names)), 1)
            backward, zeroed = first_assignments(backward, [f"g_{n}" for n in wrt], 1)
            zero = [chained_zero(zeroed, 1)] if zeroed else []
            both = f"{value}, {grads}"
            # a decided trace's guards, checked before any backward line runs
            check = (
                [f"    if not ({guard_condition(guards)}): return _OTHER_BRANCH"] if guards else []
            )
            vg_body = live([*body, *check, *zero, *backward], both)
            value_and_grad = [
                f"def value_and_grad({signature}):",
                *vg_body,
                f"    return {both}",
            ]
            self.source += "\n" + "\n".join(value_and_grad) + "\n"
            self._pending["value_and_grad"] = (vg_body, both)
            if len(vg_body) <= CHUNK:
                self._bodies["value_and_grad"] = self._pending["value_and_grad"]
        if guards:
            self.source = (
                "# decided: the branches this trace's numbers took (a call that takes\n"
                "# others gets _OTHER_BRANCH and traces again: compiler.PATTERNS of them,\n"
                "# then the eager engine)\n" + self.source
            )
        # A model's parameters carry their names (layers[0].weight[3][1]): say which p is which.
        legend = "".join(f"# {name}: {p.label}\n" for name, p in zip(names, params) if p.label)
        self.source = legend + self.source
        self.batches: dict[int, tuple[str, Callable[..., Any]]] = {}

    forward: Callable[..., Any]
    value_and_grad: Callable[..., tuple[Any, tuple[float, ...]]]

    def entry(
        self, name: str, slow: Callable[..., Any], fallback: Callable[..., Any]
    ) -> Callable[..., Any] | None:
        """``forward`` or ``value_and_grad`` as an entry point (see ``emit.define``), or
        None (with params, or too long for one function)."""
        body_result = self._bodies.get(name)
        if self.params or body_result is None or len(body_result[0]) > CHUNK:
            return None
        return define(
            name, self.names, *body_result, slow=slow, fallback=fallback, fixed=self.fixed
        )

    def __getattr__(self, name: str) -> Any:
        """``forward`` or ``value_and_grad``, defined now: the attribute from then on."""
        # Threads may ask at once: the body leaves ``_pending`` only once its function is
        # an attribute, so that any thread finds one or the other (both may define it).
        pending = self.__dict__.get("_pending", {})
        body_result = pending.get(name)
        if body_result is None:
            if name in self.__dict__:  # another thread defined it just now
                return self.__dict__[name]
            if name == "value_and_grad":
                return _not_scalar
            raise AttributeError(name)
        function = define(name, self.names, *body_result)
        setattr(self, name, function)
        pending.pop(name, None)
        return function

    def batch(self, shared: int) -> Callable[..., Any]:
        """A function summing value and d/d the first ``shared`` arguments over rows.

        With aux it also lists each row's aux tuple: ``(total, aux), grads``.
        """
        if not self.scalar:
            _not_scalar()
        if shared not in self.batches:
            names, trace_ = self.names, self.trace
            first, rest = names[:shared], names[shared:]
            body = ["        " + line for line in trace_.forward_lines]
            backward = trace_.backward_lines(range(shared), 2)
            unpack = f"    {', '.join(first)}, = shared" if first else "    pass"
            zero = [chained_zero([f"g_{n}" for n in first] + ["total"], 1)]
            row = ", ".join(rest) + ("," if len(rest) == 1 else "")
            has_aux = self.has_aux
            aux = trace_.outputs_source(self.graph.outputs[1:])
            lines = [
                "def value_and_grad_batch(shared, rows):",
                unpack,
                *zero,
                *(["    aux = []"] if has_aux else []),
                f"    for {row or '_'} in rows:",
                *body,
                f"        total += {trace_.result_source()}",
                *([f"        aux.append({aux})"] if has_aux else []),
                *backward,
                f"    return {'(total, aux)' if has_aux else 'total'}, "
                f"{tuple_display([f'g_{n}' for n in first])}",
            ]
            text = "\n".join(lines) + "\n"
            self.batches[shared] = (text, run(text)["value_and_grad_batch"])
        return self.batches[shared][1]


def _not_scalar(*args: Any) -> Any:
    raise TypeError(
        "value_and_grad of a compiled function needs a scalar output; this one "
        "returns several values (compile each, or take grad inside)"
    )
