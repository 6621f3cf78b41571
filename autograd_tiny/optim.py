"""Optimizers (``SGD``, ``Adam``, ``AdamW``, ``RMSprop``) on a list of Values, as PyTorch has them.

Gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``) and learning-rate
schedules (``StepLR``, ``CosineAnnealingLR``) live in ``_clipping`` and
``_schedules`` and are re-exported here.

Imports the engine (and ``_ieee``, for division as IEEE floats give it). An
optimizer reads each parameter's ``.grad`` and changes its ``.data`` in place
(no graph is built); ``zero_grad()`` resets the gradients. The formulas follow
``torch.optim`` line by line, so the same gradients give the same trajectory.

>>> w = Value(1.0)
>>> opt = SGD([w], lr=0.1)
>>> (w * w).backward(); opt.step(); opt.zero_grad()
>>> w.data, w.grad
(0.8, 0.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ._checks import check_number
from ._clipping import clip_grad_norm_, clip_grad_value_
from ._ieee import div, sqrt
from ._schedules import CosineAnnealingLR, LRScheduler, StepLR
from .engine import Value

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop"]
__all__ += ["CosineAnnealingLR", "LRScheduler", "StepLR", "clip_grad_norm_", "clip_grad_value_"]


class Optimizer:
    """Base class: holds the parameters; ``step()`` updates them, ``zero_grad()`` clears grads.

    >>> Optimizer([Value(1.0)]).params[0].data
    1.0
    """

    def __init__(self, params: Iterable[Value]) -> None:
        where = type(self).__name__
        if isinstance(params, Value):
            raise TypeError(f"{where} needs a list of Values, got a single Value; wrap it: [v]")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{where} got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Value):
                raise TypeError(
                    f"{where} parameters must be Values, got {type(p).__name__} {p!r:.60}"
                )
        first_index: dict[int, int] = {}
        for i, p in enumerate(self.params):
            j = first_index.setdefault(id(p), i)
            if j != i:  # it would be stepped twice per step()
                raise ValueError(
                    f"{where}: parameter {i} is the same Value as parameter {j} "
                    f"({p!r}); list each parameter once"
                )

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its ``.grad``."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """A copy of everything but the parameters: settings and what ``step()`` keeps.

        ``load_state_dict`` puts it back, so a step can be undone (``fit`` does,
        when a step is interrupted or goes non-finite). Numbers, strings and
        lists, tuples and dicts of them are copied; any other object (a Value, a
        model, a function) is kept as the same object, never duplicated.

        >>> w = Value(1.0); opt = Adam([w], lr=0.1); saved = opt.state_dict()
        >>> w.grad = 3.0; opt.step(); opt.t
        1
        >>> opt.load_state_dict(saved); opt.t, opt.m
        (0, [0.0])
        """
        flat = self._flat_lists
        return {
            key: value.copy() if key in flat else _copy(value)
            for key, value in vars(self).items()
            if key != "params"
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (copied again: ``state`` stays reusable)."""
        flat = self._flat_lists
        for key, value in state.items():
            setattr(self, key, value.copy() if key in flat else _copy(value))

    # Attributes that are lists of floats (or None): copied without looking inside them,
    # which matters because fit copies the state at every step.
    _flat_lists: tuple[str, ...] = ()


_ATOMS = frozenset((float, int, bool, type(None), str))


def _copy(value: Any) -> Any:
    """Containers copied all the way down; numbers and other objects as they are."""
    kind = type(value)
    if kind is list:
        # A list of numbers needs only list.copy, far faster than copying item by item.
        return value.copy() if _ATOMS.issuperset(map(type, value)) else [_copy(v) for v in value]
    if kind is tuple:
        return tuple(_copy(v) for v in value)
    if kind is dict:
        return {key: _copy(v) for key, v in value.items()}
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and L2 weight decay (``torch.optim.SGD``).

    >>> w = Value(1.0); opt = SGD([w], lr=0.5, momentum=0.9)
    >>> w.grad = 1.0; opt.step(); opt.step(); round(w.data, 12)  # 1 - 0.5 * (1 + 1.9)
    -0.45
    """

    _flat_lists = ("buffers",)

    def __init__(
        self, params: Iterable[Value], lr: float, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params)
        self.lr = check_number(lr, "lr", "SGD", at_least=0.0)
        self.momentum = check_number(momentum, "momentum", "SGD", at_least=0.0)
        self.weight_decay = check_number(weight_decay, "weight_decay", "SGD", at_least=0.0)
        self.buffers: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """p -= lr * d, with d = g + wd p, or its momentum buffer b = mu b + d."""
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        buffers = self.buffers
        for i, p in enumerate(self.params):
            d = p.grad
            if wd:
                d = d + wd * p.data
            if mu:
                previous = buffers[i]
                d = d if previous is None else mu * previous + d
                buffers[i] = d
            p.data = p.data - lr * d


class Adam(Optimizer):
    """Adam with bias correction (``torch.optim.Adam``, amsgrad off).

    ``weight_decay`` adds wd * p to the gradient (L2), as torch's Adam does;
    ``AdamW`` decouples it instead.

    >>> w = Value(1.0); opt = Adam([w], lr=0.1)
    >>> w.grad = 3.0; opt.step(); round(w.data, 9)
    0.9
    """

    _flat_lists = ("m", "v")
    _decoupled = False  # AdamW: the decay shrinks p directly and never enters m or v

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        name = type(self).__name__
        self.lr = check_number(lr, "lr", name, at_least=0.0)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair of numbers in [0, 1), got {betas!r}")
        self.betas = (
            check_number(betas[0], "betas[0]", name, at_least=0.0, below=1.0),
            check_number(betas[1], "betas[1]", name, at_least=0.0, below=1.0),
        )
        self.eps = check_number(eps, "eps", name, at_least=0.0)
        self.weight_decay = check_number(weight_decay, "weight_decay", name, at_least=0.0)
        self.t = 0
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def step(self) -> None:
        """m, v <- moving averages of g and g²; p -= (lr / c1) m / (sqrt(v) / sqrt(c2) + eps)."""
        beta1, beta2 = self.betas
        self.t += 1
        step_size = self.lr / (1.0 - beta1**self.t)
        correction2_sqrt = math.sqrt(1.0 - beta2**self.t)
        l2 = 0.0 if self._decoupled else self.weight_decay
        shrink = 1.0 - self.lr * self.weight_decay if self._decoupled else 1.0  # x * 1.0 == x
        eps = self.eps
        m, v = self.m, self.v
        for i, p in enumerate(self.params):
            g = p.grad
            if l2:
                g = g + l2 * p.data
            m[i] = m[i] + (1.0 - beta1) * (g - m[i])  # torch's lerp(m, g, 1 - beta1)
            v[i] = beta2 * v[i] + (1.0 - beta2) * (g * g)
            denominator = math.sqrt(v[i]) / correction2_sqrt + eps  # 0 only when eps = 0
            p.data = p.data * shrink - step_size * div(m[i], denominator)


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``, amsgrad off).

    Each step first shrinks every parameter, p *= 1 - lr * weight_decay, then
    takes Adam's step on the bare gradient: the decay never enters m or v.

    >>> w = Value(1.0); opt = AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = 3.0; opt.step(); round(w.data, 9)  # 1 * (1 - 0.05) - 0.1
    0.85
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop (``torch.optim.RMSprop``): steps scaled by a moving root mean square of g.

    ``centered=True`` divides by the moving standard deviation instead (the
    mean square minus the squared moving mean); ``momentum`` keeps a buffer of
    the scaled steps; ``weight_decay`` adds wd * p to the gradient (L2).

    >>> w = Value(1.0); opt = RMSprop([w], lr=0.1, alpha=0.75)
    >>> w.grad = 3.0; opt.step(); round(w.data, 6)  # 1 - 0.1 * 3 / sqrt(0.25 * 9)
    0.8
    """

    _flat_lists = ("square_avg", "grad_avg", "buffers")

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        super().__init__(params)
        self.lr = check_number(lr, "lr", "RMSprop", at_least=0.0)
        self.alpha = check_number(alpha, "alpha", "RMSprop", at_least=0.0, below=1.0)
        self.eps = check_number(eps, "eps", "RMSprop", at_least=0.0)
        self.weight_decay = check_number(weight_decay, "weight_decay", "RMSprop", at_least=0.0)
        self.momentum = check_number(momentum, "momentum", "RMSprop", at_least=0.0)
        if not isinstance(centered, bool):
            raise ValueError(f"RMSprop: centered must be True or False, got {centered!r}")
        self.centered = centered
        self.square_avg = [0.0] * len(self.params)
        self.grad_avg = [0.0] * len(self.params)
        self.buffers = [0.0] * len(self.params)

    def step(self) -> None:
        """s <- alpha s + (1 - alpha) g²; p -= lr g / (sqrt(s) + eps), or via a momentum buffer."""
        lr, alpha, eps = self.lr, self.alpha, self.eps
        wd, mu, centered = self.weight_decay, self.momentum, self.centered
        square_avg, grad_avg, buffers = self.square_avg, self.grad_avg, self.buffers
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            square_avg[i] = alpha * square_avg[i] + (1.0 - alpha) * (g * g)
            if centered:
                grad_avg[i] = grad_avg[i] + (1.0 - alpha) * (g - grad_avg[i])  # torch's lerp
                # A variance: >= 0 in exact arithmetic, though rounding can dip below.
                average = sqrt(square_avg[i] - grad_avg[i] * grad_avg[i])
            else:
                average = sqrt(square_avg[i])
            scaled = div(g, average + eps)
            if mu:
                buffers[i] = mu * buffers[i] + scaled
                p.data = p.data - lr * buffers[i]
            else:
                p.data = p.data - lr * scaled
