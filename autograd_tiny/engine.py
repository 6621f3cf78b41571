"""The engine: the rule table, the op registry, ``Value`` and the backward pass.

This module re-exports the engine's names; the engine itself is five short modules,
best read in this order (each imports only the ones before it, and ``_ieee``, the
float math beneath them all; ``tests/test_layering.py`` enforces that):

- ``rules``: the math: each op's local partial derivatives, one entry per op
  (``RULES``), and the module functions the rules are written with (``exp``...);
- ``ops``: the op registry (``REGISTRY``, ``define_op``) and the newer built-ins;
- ``modes``: ``no_grad``, ``enable_grad``, ``detect_anomaly``: one context variable;
- ``value``: the ``Value`` node, its operators and methods, the birth ticks (``clock``);
- ``walk``: the orders and the one chain-rule walk behind ``backward``, ``gradients``,
  ``detect_anomaly`` and ``explain``.

Two links point back up, both resolved at run time, never at import: ``value`` hands
its node class to ``rules`` once it exists, and ``Value.backward`` calls ``walk``.

>>> x = Value(3.0, label="x")
>>> y = x * x * x
>>> y.backward()
>>> x.grad
27.0
>>> y.backward()          # gradients accumulate: every .grad doubles
>>> x.grad
54.0
"""

# ruff: noqa: F401 - this module is the engine's names, re-exported from where they live

from __future__ import annotations

from typing import Any

from . import _ieee, modes, ops, piecewise, rules, value, walk
from ._ieee import cos as _cos
from ._ieee import div as _div
from ._ieee import exp as _exp
from ._ieee import log as _log
from ._ieee import log1p as _log1p
from ._ieee import mod as _mod
from ._ieee import real_pow as _pow
from ._ieee import relu as _relu
from ._ieee import sigmoid as _sigmoid
from ._ieee import sin as _sin
from ._ieee import softplus as _softplus
from ._ieee import sqrt as _sqrt
from .modes import (
    _ANOMALY,
    _MODE,
    _NO_GRAD,
    _ORIGIN,
    _PACKAGE_DIR,
    _TRACING,
    _user_location,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from .ops import (
    _FIRST_CALLERS,
    _FIRST_OPS,
    _LN2,
    _LN10,
    _TWO_OVER_ROOT_PI,
    REGISTRY,
    Domain,
    Op,
    _arity,
    _builtin,
    _checked_partials,
    _function_name,
    _op_function,
    _register,
    _with_arity,
    acos,
    asin,
    atan,
    atan2,
    clamp,
    clamp_max,
    clamp_min,
    cosh,
    define_op,
    eq,
    erf,
    floor,
    ge,
    gt,
    if_false,
    if_true,
    le,
    log2,
    log10,
    lt,
    maximum,
    minimum,
    ne,
    sinh,
    tan,
    where,
)
from .piecewise import _CMP_TORCH, _above, _apart, _at_least, _comparison
from .rules import (
    FLOAT_FUNCTIONS,
    RULES,
    _floor_of,
    _number,
    _real,
    _undefined,
    cos,
    exp,
    identity,
    leaky_relu,
    log,
    log1p,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
    to_float,
)
from .value import (
    _CONSTANT_BIRTH,
    Scalar,
    Value,
    _constant,
    _data,
    _new_value,
    _node,
    _ticks,
    clock,
    reaches_older,
    variable,
)
from .walk import (
    _accumulate,
    _add_adjoints,
    _backward_into_grad,
    _ieee_partials,
    _propagate,
    _restore,
    forward_order,
    gradients,
    local_partials,
    reverse_topological_order,
)

__all__ = [
    "FLOAT_FUNCTIONS",
    "REGISTRY",
    "RULES",
    "Op",
    "Value",
    "acos",
    "asin",
    "atan",
    "atan2",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clock",
    "cos",
    "cosh",
    "define_op",
    "detect_anomaly",
    "enable_grad",
    "eq",
    "erf",
    "exp",
    "floor",
    "forward_order",
    "ge",
    "gradients",
    "gt",
    "identity",
    "if_false",
    "if_true",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "le",
    "leaky_relu",
    "local_partials",
    "log",
    "log1p",
    "log2",
    "log10",
    "lt",
    "maximum",
    "minimum",
    "ne",
    "no_grad",
    "power",
    "reaches_older",
    "relu",
    "reverse_topological_order",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
    "tanh",
    "to_float",
    "variable",
    "where",
]

# The files of the engine's own code: where reading a traced Value's ``.data`` is the
# engine's business (the compiler's tracer refuses it anywhere else).
_ENGINE_FILES: tuple[str, ...] = (
    *tuple(str(m.__file__) for m in (rules, ops, piecewise, modes, value, walk, _ieee)),
    __file__,
)


def __getattr__(name: str) -> Any:
    # ``_epoch`` is rebound by ``clock()``: a copy made at import would go stale, so
    # ``engine._epoch`` reads value's current one (code of the engine reads it there).
    if name == "_epoch":
        return value._epoch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
