"""Source generation for ``compiler``: straight-line Python from one traced call.

Owns ``Program``, the generated functions for one argument count: it traces
the function once (``_tracing``), writes the source of ``forward`` and
``value_and_grad`` from the recorded graph and runs it with ``exec``; on
request it writes a ``value_and_grad_batch`` too (a loop over rows summing the
value and the gradients in the first arguments). Each forward line is a
``FORWARD`` formula; each backward line is a rule of ``RULES`` evaluated on
``_symbolic``'s expressions that print themselves, with the simplifications
that ``compiler``'s docstring lists. Imports the engine, ``_symbolic`` and
``_tracing``; only ``compiler`` imports it.

>>> program = Program(lambda x, y: x * y, [3.0, 4.0], [], False)
>>> print(program.source)
def forward(x, y):
    v0 = x * y
    return v0
<BLANKLINE>
def value_and_grad(x, y):
    v0 = x * y
    g_x = g_y = 0.0
    g_x += y
    g_y += x
    return v0, (g_x, g_y)
>>> program.value_and_grad(3.0, 4.0), program.batch(1)([2.0], [(1.0,), (3.0,)])
((12.0, (4.0, 3.0)), (8.0, (4.0,)))
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Sequence
from typing import Any, Callable

from ._symbolic import (
    ATOM,
    FORWARD,
    NAMESPACE,
    Expr,
    alternatives,
    conditional_source,
    number_source,
    peel,
    source,
    symbolic_partials,
    times,
)
from ._tracing import forward_order_of, trace_call
from .engine import Value, forward_order, reverse_topological_order

__all__ = ["Program"]


class _Writer:
    """Lines of a function body; each statement sits under a tuple of ``if`` conditions.

    Past ``MAX_DEPTH`` nested ``if`` blocks the remaining conditions are joined with
    ``and`` on one line (Python refuses 100 levels of indentation; a chain of relus
    would reach them).
    """

    MAX_DEPTH = 24

    def __init__(self, indent: int) -> None:
        self.indent = indent
        self.lines: list[str] = []
        self.open: tuple[str, ...] = ()

    def emit(self, guard: tuple[str, ...], statement: str) -> None:
        if len(guard) > self.MAX_DEPTH:
            deep = guard[self.MAX_DEPTH - 1:]
            guard = guard[:self.MAX_DEPTH - 1] + (" and ".join(f"({c})" for c in deep),)
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
        for node in forward_order_of(root, *(aux or ())):
            key = id(node)
            if key in arg_index:
                self.src[key] = Expr(names[arg_index[key]])
            elif not node.parents or all(not isinstance(self.src[id(p)], Expr)
                                         for p in node.parents):
                self.src[key] = float(node.data)  # a constant, folded at trace time
            else:
                if node.op not in FORWARD:  # (define_op's ops are: FORWARD asks the registry)
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
        return _tuple_display([self.output_source(a) for a in self.aux or ()])

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
                    extra, rest = peel(contribution)
                    where, expr, text = guard + extra, None, conditional_source(rest)
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


_SAFE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z")
_RESERVED = re.compile(r"[vgp][0-9]+\Z")


# Names the generated code uses itself: its batch variables and Python's builtins (abs).
_TAKEN = {"total", "rows", "shared", "aux", *dir(builtins)}


def _argument_names(f: Callable[..., Any], count: int) -> list[str]:
    """f's own parameter names when they are plain and distinct, else a0, a1, ..."""
    code = getattr(f, "__code__", None)
    if code is not None and code.co_argcount == count and not code.co_flags & 0x04:
        names = list(code.co_varnames[:count])
        if (len(set(names)) == count
                and all(_SAFE_NAME.match(n) and not _RESERVED.match(n)
                        and not keyword.iskeyword(n) and n not in _TAKEN for n in names)):
            return names
    return [f"a{i}" for i in range(count)]


def _tuple_display(items: list[str]) -> str:
    """Python source of a tuple of these: ``()``, ``(a,)``, ``(a, b)``."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _run(text: str) -> dict[str, Any]:
    """Run generated source (ours, never the user's): the names it defines."""
    namespace = dict(NAMESPACE)
    exec(text, namespace)  # noqa: S102 - our own generated code
    return namespace


class Program:
    """The generated functions for one argument count."""

    def __init__(self, f: Callable[..., Any], args: Sequence[Any], params: list[Value],
                 has_aux: bool) -> None:
        root, aux, leaves = trace_call(f, args, params, has_aux)
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
        grads = _tuple_display([f"g_{n}" for n in wrt])
        backward = trace.backward_lines(range(len(params), len(names)), 1)
        zero = [_chained_zero([f"g_{n}" for n in wrt], 1)] if wrt else []
        value = f"({result})" if has_aux else result
        value_and_grad = [f"def value_and_grad({signature}):", *body, *zero, *backward,
                          f"    return {value}, {grads}"]
        # A model's parameters carry their names (layers[0].weight[3][1]): say which p is which.
        legend = "".join(f"# {name}: {p.label}\n" for name, p in zip(names, params) if p.label)
        self.source = (legend + "\n".join(forward) + "\n\n" + "\n".join(value_and_grad)
                       + "\n")
        defined = _run(self.source)
        self.forward: Callable[..., Any] = defined["forward"]
        self.value_and_grad: Callable[..., tuple[Any, tuple[float, ...]]] = \
            defined["value_and_grad"]
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
                f"{_tuple_display([f'g_{n}' for n in first])}",
            ]
            text = "\n".join(lines) + "\n"
            self.batches[shared] = (text, _run(text)["value_and_grad_batch"])
        return self.batches[shared][1]
