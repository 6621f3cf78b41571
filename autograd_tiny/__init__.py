"""autograd_tiny: a scalar reverse-mode automatic differentiation engine.

>>> from autograd_tiny import Value
>>> x = Value(2.0, label="x")
>>> y = (x * x + 1) ** 3
>>> y.backward()
>>> y.data, x.grad
(125.0, 300.0)
"""

from .engine import (
    RULES,
    Value,
    cos,
    detect_anomaly,
    exp,
    gradients,
    is_grad_enabled,
    leaky_relu,
    log,
    log1p,
    no_grad,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
)
from .functional import grad, hessian, value_and_grad

__version__ = "0.1.0"

__all__ = [
    "RULES",
    "Value",
    "__version__",
    "cos",
    "detect_anomaly",
    "exp",
    "grad",
    "gradients",
    "hessian",
    "is_grad_enabled",
    "leaky_relu",
    "log",
    "log1p",
    "no_grad",
    "power",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "tanh",
    "value_and_grad",
]

# -- checking, pictures, explaining (gradcheck.py, viz.py, explain.py)

# -- training stack (nn.py, losses.py, optim.py, data.py, train.py)

# -- compiled replay (compiler.py)
