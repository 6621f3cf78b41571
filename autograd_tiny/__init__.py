"""autograd_tiny: a scalar reverse-mode automatic differentiation engine.

>>> from autograd_tiny import Value
>>> x = Value(2.0, label="x")
>>> y = (x * x + 1) ** 3
>>> y.backward()
>>> y.data, x.grad
(125.0, 300.0)
"""

from .engine import (
    REGISTRY,
    RULES,
    Value,
    acos,
    asin,
    atan,
    atan2,
    clamp,
    clamp_max,
    clamp_min,
    cos,
    cosh,
    define_op,
    detect_anomaly,
    enable_grad,
    erf,
    exp,
    gradients,
    identity,
    is_grad_enabled,
    leaky_relu,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    no_grad,
    power,
    relu,
    sigmoid,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
    tanh,
)
from .functional import grad, hessian, hvp, jacobian, jvp, value_and_grad

__version__ = "0.1.0"

__all__ = [
    "REGISTRY",
    "RULES",
    "Value",
    "__version__",
    "acos",
    "asin",
    "atan",
    "atan2",
    "clamp",
    "clamp_max",
    "clamp_min",
    "cos",
    "cosh",
    "define_op",
    "detect_anomaly",
    "enable_grad",
    "erf",
    "exp",
    "grad",
    "gradients",
    "hessian",
    "hvp",
    "identity",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "leaky_relu",
    "log",
    "log1p",
    "log2",
    "log10",
    "maximum",
    "minimum",
    "no_grad",
    "power",
    "relu",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
    "tanh",
    "value_and_grad",
]

# -- checking, pictures, explaining (gradcheck.py, viz.py, explain.py)
from .explain import Explanation, explain
from .gradcheck import GradientCheckError, check_grad, numerical_grad
from .viz import RendererNotFoundError, draw_dot, render_svg

__all__ += ["GradientCheckError", "check_grad", "numerical_grad"]
__all__ += ["Explanation", "RendererNotFoundError", "draw_dot", "explain", "render_svg"]

# -- training stack (nn.py, losses.py, optim.py, data.py, train.py)
from . import data, losses, nn, optim, train  # noqa: E402
from .nn import MLP, Layer, Module, Neuron  # noqa: E402
from .train import History, accuracy, evaluate, fit, predict  # noqa: E402

__all__ += [
    "MLP",
    "History",
    "Layer",
    "Module",
    "Neuron",
    "accuracy",
    "data",
    "evaluate",
    "fit",
    "losses",
    "nn",
    "optim",
    "predict",
    "train",
]

# -- compiled replay (compiler.py)
from .compiler import TraceError, compile  # noqa: E402 - the contract's name

__all__ += ["TraceError", "compile"]

# -- errors of safe files and finite differences (_atomic.py, gradcheck.py)
from ._atomic import NotARegularFileError  # noqa: E402
from .gradcheck import StepTooSmallError  # noqa: E402

__all__ += ["NotARegularFileError", "StepTooSmallError"]
