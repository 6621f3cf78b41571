"""Toy datasets as plain lists: ``xor``, ``blobs``, ``moons``, ``circles``, ``train_test_split``.

Imports only ``_checks`` from the package (and no NumPy). Each generator returns
``(X, y)``: ``X`` a list of ``[x1, x2]`` float lists, ``y`` a list of int
labels, shuffled (except ``xor``'s four fixed points); randomness comes from
a ``random.Random(seed)`` of its own, so a seed gives the same data whatever
the global random state.

>>> X, y = moons(6, seed=0)
>>> len(X), sorted(y)
(6, [0, 0, 0, 1, 1, 1])
>>> moons(6, seed=0) == (X, y)
True
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any, TypeVar, Union

from ._checks import check_int, check_number, is_int, is_number, is_real

__all__ = ["blobs", "circles", "moons", "train_test_split", "xor"]

Dataset = tuple[list[list[float]], list[int]]
T = TypeVar("T")
U = TypeVar("U")

DEFAULT_CENTERS = [(0.0, -2.0), (2.0, 2.0), (-2.0, 2.0)]


def _check_seed(seed: Any, where: str) -> None:
    if seed is not None and not is_int(seed):
        raise ValueError(f"{where}: seed must be an int (or None), got {seed!r:.60}")


def _points(x: Any) -> list[Any] | None:
    """``x`` as a list if it is a collection (list, tuple, array), else None."""
    if isinstance(x, (str, bytes)) or not hasattr(x, "__iter__"):
        return None
    return list(x)


def _check_centres(centers: Any) -> list[tuple[float, float]]:
    centres = _points(centers)
    if centres is None:
        raise ValueError(
            f"blobs: centers must be an int or a list of (x, y) points, got {centers!r:.60}"
        )
    if not centres:
        raise ValueError(
            f"blobs: centers must be a non-empty list of (x, y) points, got {centers!r:.60}"
        )
    points = []
    for i, centre in enumerate(centres):
        xy = _points(centre)
        if xy is None or len(xy) != 2 or not all(is_real(c) and math.isfinite(c) for c in xy):
            raise ValueError(
                f"blobs: centers[{i}] must be two finite numbers (x, y), got {centre!r:.60}"
            )
        points.append((float(xy[0]), float(xy[1])))
    return points


def _shuffled(points: list[list[float]], labels: list[int], rng: random.Random) -> Dataset:
    order = list(range(len(points)))
    rng.shuffle(order)
    return [points[i] for i in order], [labels[i] for i in order]


def xor() -> Dataset:
    """The four XOR points and their labels.

    >>> xor()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]


def blobs(
    n_per_class: int = 50,
    centers: Union[int, Sequence[Sequence[float]]] = 3,
    std: float = 1.0,
    seed: int | None = 0,
) -> Dataset:
    """Gaussian blobs, ``n_per_class`` points around each centre, label = centre index.

    ``centers=3`` means (0, -2), (2, 2), (-2, 2); another int k spreads k
    centres on a circle of radius 3; a list gives the centres themselves.

    >>> X, y = blobs(2, std=0.0)
    >>> sorted(zip(y, X))[0]
    (0, [0.0, -2.0])
    """
    check_int(n_per_class, "n_per_class", "blobs", minimum=1)
    std = check_number(std, "std", "blobs", at_least=0)
    _check_seed(seed, "blobs")
    if is_int(centers):
        k = check_int(centers, "centers", "blobs", minimum=1)
        points = (
            DEFAULT_CENTERS
            if k == 3
            else [
                (
                    3.0 * math.cos(2 * math.pi * i / k - math.pi / 2),
                    3.0 * math.sin(2 * math.pi * i / k - math.pi / 2),
                )
                for i in range(k)
            ]
        )
    else:
        points = _check_centres(centers)
    rng = random.Random(seed)
    X, y = [], []
    for label, (cx, cy) in enumerate(points):
        for _ in range(n_per_class):
            X.append([cx + rng.gauss(0.0, std), cy + rng.gauss(0.0, std)])
            y.append(label)
    return _shuffled(X, y, rng)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = 0) -> Dataset:
    """Two interleaving half circles (as scikit-learn's ``make_moons``), Gaussian noise added.

    >>> X, y = moons(4, noise=0.0)
    >>> sorted(zip(y, X))[0]
    (0, [-1.0, 1.2246467991473532e-16])
    """
    check_int(n, "n", "moons", minimum=2)
    noise = check_number(noise, "noise", "moons", at_least=0)
    _check_seed(seed, "moons")
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    X, y = [], []
    for i in range(n_outer):
        t = math.pi * i / max(n_outer - 1, 1)
        X.append([math.cos(t), math.sin(t)])
        y.append(0)
    for i in range(n_inner):
        t = math.pi * i / max(n_inner - 1, 1)
        X.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        y.append(1)
    X = [[a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] for a, b in X]
    return _shuffled(X, y, rng)


def circles(n: int = 200, noise: float = 0.1, factor: float = 0.5, seed: int | None = 0) -> Dataset:
    """A circle of radius 1 (label 0) around one of radius ``factor`` (label 1), noise added.

    >>> X, y = circles(4, noise=0.0)
    >>> sorted(round(math.hypot(*p), 3) for p in X)
    [0.5, 0.5, 1.0, 1.0]
    """
    check_int(n, "n", "circles", minimum=2)
    noise = check_number(noise, "noise", "circles", at_least=0)
    factor = check_number(factor, "factor", "circles", above=0, below=1)
    _check_seed(seed, "circles")
    rng = random.Random(seed)
    n_outer = n // 2
    X, y = [], []
    for count, radius, label in ((n_outer, 1.0, 0), (n - n_outer, float(factor), 1)):
        for i in range(count):
            t = 2 * math.pi * i / count
            X.append(
                [
                    radius * math.cos(t) + rng.gauss(0.0, noise),
                    radius * math.sin(t) + rng.gauss(0.0, noise),
                ]
            )
            y.append(label)
    return _shuffled(X, y, rng)


def train_test_split(
    X: Sequence[T], y: Sequence[U], test_size: float = 0.25, seed: int | None = 0
) -> tuple[list[T], list[T], list[U], list[U]]:
    """Shuffle with ``seed`` and split: ``(X_train, X_test, y_train, y_test)``.

    ``test_size`` is a fraction in (0, 1) or a count of test samples.

    >>> X_train, X_test, y_train, y_test = train_test_split(list(range(8)), list(range(8)))
    >>> len(X_train), len(X_test), X_train == y_train
    (6, 2, True)
    """
    for data in (X, y):
        if isinstance(data, str) or not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
            raise ValueError(
                f"train_test_split: X and y must be lists (or arrays), got "
                f"{type(X).__name__} and {type(y).__name__}"
            )
    _check_seed(seed, "train_test_split")
    if len(X) != len(y):
        raise ValueError(f"train_test_split: X has {len(X)} samples but y has {len(y)}")
    n = len(X)
    if not is_number(test_size):
        raise ValueError(f"train_test_split: test_size must be a number, got {test_size!r}")
    if isinstance(test_size, int) and test_size >= 1:
        n_test = test_size
    elif 0 < test_size < 1:
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(
            f"train_test_split: test_size must be in (0, 1) or a count >= 1, got {test_size!r}"
        )
    if not 0 < n_test < n:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} leaves no train or "
            f"no test samples out of {n}"
        )
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test, train = order[:n_test], order[n_test:]
    return (
        [X[i] for i in train],
        [X[i] for i in test],
        [y[i] for i in train],
        [y[i] for i in test],
    )
