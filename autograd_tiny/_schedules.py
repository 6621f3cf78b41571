"""Learning-rate schedules: ``StepLR`` and ``CosineAnnealingLR``, as ``torch.optim.lr_scheduler``.

Re-exported by ``optim``. Imports only ``_ieee`` (a power that overflows to
inf): a schedule only reads and writes its optimizer's ``lr``. Call ``step()`` once per epoch, after
the epoch's optimizer steps; the rate for epoch ``t`` comes from a closed
form in ``t`` and the optimizer's rate when the schedule was made.

>>> from autograd_tiny import Value
>>> from autograd_tiny.optim import SGD
>>> optimizer = SGD([Value(1.0)], lr=0.1)
>>> schedule = StepLR(optimizer, step_size=2, gamma=0.5)
>>> for epoch in range(5):
...     optimizer.step()  # the epoch's steps, at optimizer.lr
...     _ = schedule.step()
...     print(epoch, optimizer.lr)
0 0.1
1 0.05
2 0.05
3 0.025
4 0.025
"""

from __future__ import annotations

import math
from typing import Any

from ._checks import check_int, check_number
from ._ieee import real_pow

__all__ = ["CosineAnnealingLR", "LRScheduler", "StepLR"]


class LRScheduler:
    """Base class: sets ``optimizer.lr`` to ``lr_at(epoch)`` at each ``step()``.

    ``base_lr`` is the optimizer's rate when the schedule is made (epoch 0).
    Unlike torch's chained form, each step recomputes the rate from
    ``base_lr``, so a rate set on the optimizer by hand lasts until the next
    ``step()``.

    >>> from types import SimpleNamespace
    >>> LRScheduler(SimpleNamespace(lr=0.1)).get_last_lr()  # anything with an lr attribute
    0.1
    """

    def __init__(self, optimizer: Any) -> None:
        where = type(self).__name__
        if not hasattr(optimizer, "lr"):
            raise TypeError(
                f"{where} needs an optimizer with an lr attribute, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        self.base_lr = check_number(optimizer.lr, "the optimizer's lr", where, at_least=0)
        self.last_epoch = 0

    def lr_at(self, epoch: int) -> float:
        """The learning rate for ``epoch`` (0 is the start)."""
        return self.base_lr

    def step(self) -> float:
        """Move to the next epoch, set the optimizer's ``lr`` and return it."""
        self.last_epoch += 1
        self.optimizer.lr = self.lr_at(self.last_epoch)
        return float(self.optimizer.lr)

    def get_last_lr(self) -> float:
        """The optimizer's current rate (one number: torch returns one per parameter group)."""
        return float(self.optimizer.lr)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs: base_lr gamma ** (t // step_size).

    >>> from autograd_tiny import Value, optim
    >>> schedule = StepLR(optim.SGD([Value(1.0)], lr=1.0), step_size=3)
    >>> schedule.lr_at(2), schedule.lr_at(3), round(schedule.lr_at(6), 12)
    (1.0, 0.1, 0.01)
    """

    def __init__(self, optimizer: Any, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer)
        self.step_size = check_int(step_size, "step_size", "StepLR", minimum=1)
        self.gamma = check_number(gamma, "gamma", "StepLR", at_least=0)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * real_pow(self.gamma, epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from ``base_lr`` down to ``eta_min`` over ``T_max`` epochs.

    lr(t) = eta_min + (base_lr - eta_min) (1 + cos(pi t / T_max)) / 2. As in
    torch, the rate does not stop at ``T_max``: the cosine climbs back to
    ``base_lr`` at 2 ``T_max`` and repeats (no warm restart).

    >>> from autograd_tiny import Value, optim
    >>> schedule = CosineAnnealingLR(optim.Adam([Value(1.0)], lr=1.0), T_max=4, eta_min=0.2)
    >>> [round(schedule.lr_at(t), 6) for t in range(6)]
    [1.0, 0.882843, 0.6, 0.317157, 0.2, 0.317157]
    """

    def __init__(self, optimizer: Any, T_max: int, eta_min: float = 0.0) -> None:
        super().__init__(optimizer)
        self.T_max = check_int(T_max, "T_max", "CosineAnnealingLR", minimum=1)
        self.eta_min = check_number(eta_min, "eta_min", "CosineAnnealingLR", at_least=0)

    def lr_at(self, epoch: int) -> float:
        cosine = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + cosine) / 2.0
