"""Function transforms: grad, value_and_grad, hessian, jacobian, jvp and hvp, to any order.

Imports only the engine and ``_checks``. Every call of a transformed function makes a fresh
node for each argument it differentiates (a new leaf for a number, a new
``identity`` node on top of a Value) and differentiates with respect to those
nodes only. Nesting therefore cannot confuse two calls' variables: an
enclosing call's variable reaches the inner function as an ordinary Value,
and the inner call differentiates its own node on top of it.

Results carry their dependence. When the function's graph reaches nothing
made before the call (plain-number arguments, no closed-over Values) they
are floats; otherwise they are Values built by the backward pass itself, so
an enclosing ``grad``, ``backward()`` or ``check_grad`` differentiates them
again. That is all higher order takes. Transforms ignore an enclosing
``no_grad()`` (their results are then cut from the graph, as any op's are);
a ``no_grad()`` inside the function still holds.

>>> f = lambda x: x ** 3
>>> grad(f)(2.0), grad(grad(f))(2.0), grad(grad(grad(f)))(2.0)
(12.0, 12.0, 6.0)
>>> grad(lambda x: grad(lambda y: x * y)(x))(2.0)   # d/dx x = 1: each call owns its variable
1.0
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Sequence
from typing import Any, Callable, Union

from ._checks import is_int
from ._forward import _as_tuple, _forward_order, _push_tangents
from .engine import (
    Value,
    _accumulate,
    _propagate,
    _restore,
    clock,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    reaches_older,
    reverse_topological_order,
    to_float,
    variable,
)

__all__ = ["grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad"]

ArgNums = Union[int, Sequence[int]]


def _normalise_argnums(argnums: ArgNums) -> tuple[tuple[int, ...], bool]:
    if is_int(argnums):
        return (argnums,), True
    if not isinstance(argnums, (tuple, list)):
        raise TypeError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
    if not argnums or not all(is_int(i) for i in argnums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return tuple(argnums), False


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _check_positions(
    positions: tuple[int, ...], args: tuple[Any, ...], f: Callable[..., Any]
) -> None:
    for i in positions:
        if not -len(args) <= i < len(args):
            raise IndexError(
                f"argnums {i} is out of range for {_name(f)} called with {len(args)} argument(s)"
            )


def _variables(args: Sequence[Any], positions: Sequence[int]) -> list[Any]:
    """The arguments with a fresh node in place of each one differentiated."""
    inputs = list(args)
    for i in positions:
        inputs[i] = variable(args[i], f"arg{i % len(args)}")
    return inputs


def _call_on_variables(
    f: Callable[..., Any], positions: tuple[int, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[int, list[Value], Any]:
    """One call of ``f`` with fresh variables in place of ``args[positions]``: the birth
    tick taken just before them, the variables, and what ``f`` returned."""
    _check_positions(positions, args, f)
    birth = clock()
    inputs = _variables(args, positions)
    return birth, [inputs[i] for i in positions], f(*inputs, **kwargs)


def _has_values(items: Sequence[Any]) -> bool:
    for item in items:  # noqa: SIM110 - a plain loop: any() of a generator is slower here
        if isinstance(item, Value):
            return True
    return False


def _scalar(out: Any, f: Callable[..., Any], where: str = "") -> Value | float:
    """``f``'s output as a Value or a float, or the TypeError every transform gives."""
    if out.__class__ is Value or isinstance(out, Value):
        return out
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        return float(out)
    raise TypeError(
        f"{_name(f)} must return a scalar Value or number{where} to be differentiated, "
        f"got {type(out).__name__} {out!r}"
    )


def _split_aux(out: Any, has_aux: bool, f: Callable[..., Any]) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError(
            f"with has_aux=True, {_name(f)} must return a pair (output, aux), "
            f"got {type(out).__name__}"
        )
    return out[0], out[1]


def _results(items: Sequence[Any], keep: bool, detach: bool) -> list[Any]:
    """Results as the caller gets them: floats, or Values that carry their dependence."""
    if not keep:
        return [float(x) for x in items]
    if detach:  # under an outer no_grad: cut from the graph, as any op's result would be
        return [Value(x.data if isinstance(x, Value) else x) for x in items]
    return [x if isinstance(x, Value) else Value(x) for x in items]


def _aux_results(aux: Any, given_values: bool, birth: int, detach: bool) -> Any:
    """``has_aux`` output as the caller gets it: each Value in it (inside tuples, lists
    and dicts too) a float unless it depends on Values from outside the call, as the
    derivatives are."""
    if isinstance(aux, Value):
        keep = given_values or reaches_older(reverse_topological_order(aux), birth)
        return _results([aux], keep, detach)[0]
    if isinstance(aux, (tuple, list)):
        return type(aux)(_aux_results(item, given_values, birth, detach) for item in aux)
    if isinstance(aux, dict):
        return {key: _aux_results(item, given_values, birth, detach) for key, item in aux.items()}
    return aux


def _outside_no_grad(call: Callable[..., Any]) -> Callable[..., Any]:
    """Run a transform's call with recording on, even inside ``no_grad()``.

    Its results are computed as usual; ``detach=True`` tells it to cut them
    from the graph, as any op under ``no_grad()`` is.
    """

    @functools.wraps(call)
    def run(*args: Any, **kwargs: Any) -> Any:
        if is_grad_enabled():
            return call(False, *args, **kwargs)
        with enable_grad():
            return call(True, *args, **kwargs)

    return run


def _gradient_of(
    out: Value | float, targets: Sequence[Value], keep_values: bool, birth: int
) -> tuple[bool, list[Any]]:
    """d out / d target for each target, and whether they must stay Values."""
    if not isinstance(out, Value):
        return keep_values, [0.0] * len(targets)
    order = reverse_topological_order(out)
    keep = keep_values or reaches_older(order, birth)
    if not keep and not is_anomaly_enabled():
        # Every node was made by this call (no older leaf), so the engine's fast path
        # may sum into their .grad (backward's own walk, bit for bit the order of
        # _propagate: tests/test_walk.py), from zeros, and every .grad is put back as
        # it was (f may have called backward itself; a jacobian walks once per output).
        held = [(node, node.grad) for node in order if node.grad]
        for node, _ in held:
            node.grad = 0.0
        try:
            _accumulate(order, order[0], 1.0, [])
            return keep, [target.grad for target in targets]
        finally:
            _restore(order, held)
    adjoint = _propagate(order, 1.0, keep)
    return keep, [adjoint.get(target, 0.0) for target in targets]


def value_and_grad(
    f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """Return a function computing ``(f(*args, **kwargs), df/d args[argnums])``.

    ``f`` takes floats or Values and returns a scalar Value or number (with
    ``has_aux=True``, a pair ``(output, aux)``; the result is then
    ``((value, aux), grad)``). Keyword arguments pass through to ``f`` and are
    never differentiated. The gradient is a tuple when ``argnums`` is a tuple.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    >>> value_and_grad(lambda x, scale: scale * x * x)(3.0, scale=0.5)
    (4.5, 3.0)
    """
    return _value_and_grad(f, argnums, has_aux, with_value=True)


def _value_and_grad(
    f: Callable[..., Any], argnums: ArgNums, has_aux: bool, with_value: bool
) -> Callable[..., Any]:
    """``value_and_grad`` (``with_value=True``) or ``grad``: one call of either."""
    positions, single = _normalise_argnums(argnums)

    @_outside_no_grad
    def call(detach: bool, /, *args: Any, **kwargs: Any) -> Any:
        birth, targets, out = _call_on_variables(f, positions, args, kwargs)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, has_aux, f)
            aux = _aux_results(aux, _has_values(args), birth, detach)
        if out.__class__ is not Value:
            out = _scalar(out, f)
        keep, grads = _gradient_of(out, targets, _has_values(args), birth)
        if keep:
            value, *grads = _results([out, *grads], keep, detach)
        else:  # the common case, inline: plain numbers in, floats out
            value = float(out)
            grads = [float(g) for g in grads]
        gradient = grads[0] if single else tuple(grads)
        if not with_value:
            return (gradient, aux) if has_aux else gradient
        return ((value, aux), gradient) if has_aux else (value, gradient)

    return functools.wraps(f)(call)


def grad(f: Callable[..., Any], argnums: ArgNums = 0, has_aux: bool = False) -> Callable[..., Any]:
    """Return a function computing df/dx (a tuple of partials for tuple ``argnums``).

    Nest it for higher derivatives: ``grad(grad(f))`` is the second derivative.
    With ``has_aux=True``, ``f`` returns ``(output, aux)`` and the function
    returns ``(gradient, aux)``. Keyword arguments are passed through, never
    differentiated.

    >>> import autograd_tiny as at
    >>> grad(at.sin)(0.0)
    1.0
    >>> grad(lambda x, y: x * y * y, argnums=1)(3.0, 2.0)
    12.0
    >>> grad(lambda x: (x * x, "aux"), has_aux=True)(3.0)
    (6.0, 'aux')
    """
    return _value_and_grad(f, argnums, has_aux, with_value=False)


def hessian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., list[list[Any]]]:
    """Return a function computing the matrix of second derivatives in ``args[argnums]``.

    Always a list of rows, one row and one column per differentiated argument
    (``[[f'']]`` for one). One forward pass, one backward pass that builds a
    graph, then one backward pass per row.

    >>> hessian(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    [[4.0, 6.0], [6.0, 0.0]]
    >>> hessian(lambda x: x ** 3)(2.0)
    [[12.0]]
    """
    positions, _ = _normalise_argnums(argnums)

    @_outside_no_grad
    def call(detach: bool, /, *args: Any, **kwargs: Any) -> list[list[Any]]:
        birth, targets, out = _call_on_variables(f, positions, args, kwargs)
        out = _scalar(out, f)
        keep = _has_values(args)
        if isinstance(out, Value):
            order = reverse_topological_order(out)
            keep = keep or reaches_older(order, birth)
            first = _propagate(order, 1.0, True)
            rows = [_gradient_of(first.get(t, 0.0), targets, keep, birth)[1] for t in targets]
        else:
            rows = [[0.0] * len(targets) for _ in targets]
        return [_results(row, keep, detach) for row in rows]

    return functools.wraps(f)(call)


def _outputs(out: Any, f: Callable[..., Any]) -> tuple[list[Value | float], bool]:
    """``f``'s outputs as a list, and whether ``f`` returned one scalar."""
    if isinstance(out, (Value, numbers.Real)) and not isinstance(out, bool):
        return [_scalar(out, f)], True
    if isinstance(out, (str, bytes)) or not hasattr(out, "__iter__"):
        raise TypeError(
            f"{_name(f)} must return a scalar or a sequence of scalars to be differentiated, "
            f"got {type(out).__name__} {out!r}"
        )
    return [_scalar(o, f, f" (output {k})") for k, o in enumerate(out)], False


def jacobian(f: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., list[list[Any]]]:
    """Return a function computing the Jacobian of ``f``, which returns a sequence of scalars.

    A list of rows, one per output, each with one partial per differentiated
    argument (row ``i`` is ``grad`` of output ``i``, as a list). Reverse mode:
    one forward pass, one backward pass per output.

    >>> jacobian(lambda x, y: [x * y, x + y], argnums=(0, 1))(2.0, 3.0)
    [[3.0, 2.0], [1.0, 1.0]]
    """
    positions, _ = _normalise_argnums(argnums)

    @_outside_no_grad
    def call(detach: bool, /, *args: Any, **kwargs: Any) -> list[list[Any]]:
        birth, targets, out = _call_on_variables(f, positions, args, kwargs)
        outs, _ = _outputs(out, f)
        orders = [reverse_topological_order(o) for o in outs if isinstance(o, Value)]
        keep = _has_values(args) or any(reaches_older(order, birth) for order in orders)
        rows = [_gradient_of(o, targets, keep, birth)[1] for o in outs]
        return [_results(row, keep, detach) for row in rows]

    return functools.wraps(f)(call)


def jvp(f: Callable[..., Any], primals: Any, tangents: Any) -> tuple[Any, Any]:
    """Forward mode: ``(f(*primals), directional derivative of f along tangents)``.

    ``primals`` and ``tangents`` are tuples of the same length (a single
    number is taken as a tuple of one). The tangents are carried forward
    through the ops in the order they ran, by the same rule table as
    ``grad``, with no backward pass. ``f`` may return a scalar or a sequence
    of scalars (then the derivative is a sequence too).

    >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.5))
    (12.0, 5.5)
    """
    return _jvp(f, _as_tuple(primals, "primals"), _as_tuple(tangents, "tangents"))


@_outside_no_grad
def _jvp(
    detach: bool, /, f: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...]
) -> tuple[Any, Any]:
    if len(primals) != len(tangents):
        raise TypeError(
            f"jvp needs one tangent per primal: got {len(primals)} primals "
            f"and {len(tangents)} tangents"
        )
    seeds = [
        t if isinstance(t, Value) else to_float(t, f"jvp tangent {k}")
        for k, t in enumerate(tangents)
    ]
    birth = clock()
    inputs = _variables(primals, range(len(primals)))
    outs, single = _outputs(f(*inputs), f)
    nodes = [o for o in outs if isinstance(o, Value)]
    order = _forward_order(nodes)
    keep = _has_values(primals) or _has_values(seeds) or reaches_older(order, birth)
    tangent: dict[Value, Any] = {}
    for node, seed in zip(inputs, seeds):
        tangent[node] = tangent[node] + seed if node in tangent else seed
    tangent = _push_tangents(order, tangent, keep)
    values = _results(outs, keep, detach)
    derivatives = _results(
        [tangent.get(o, 0.0) if isinstance(o, Value) else 0.0 for o in outs], keep, detach
    )
    if single:
        return values[0], derivatives[0]
    return tuple(values), tuple(derivatives)


def hvp(f: Callable[..., Any], primals: Any, tangents: Any) -> list[Any]:
    """The Hessian of ``f`` at ``primals`` times the vector ``tangents``, one entry per primal.

    Forward over reverse: ``jvp`` of ``grad(f)``, without building the whole
    Hessian (one forward-mode sweep over the gradient's graph).

    >>> hvp(lambda x, y: x * x * y, (3.0, 2.0), (1.0, 0.0))
    [4.0, 6.0]
    """
    primal_tuple = _as_tuple(primals, "primals")
    everything = tuple(range(len(primal_tuple)))
    if not everything:
        raise TypeError("hvp needs at least one primal")
    _, product = jvp(grad(f, argnums=everything), primal_tuple, tangents)
    return list(product)
