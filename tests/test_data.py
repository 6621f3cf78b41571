"""Datasets: plain lists, seeded, independent of the global random state."""

from __future__ import annotations

import math
import random

import pytest

from autograd_tiny.data import blobs, circles, moons, train_test_split, xor


def test_xor_is_the_truth_table():
    X, y = xor()
    assert y == [int(a) ^ int(b) for a, b in X]
    assert all(isinstance(v, float) for row in X for v in row)


@pytest.mark.parametrize("make", [lambda: blobs(20), lambda: moons(60), lambda: circles(60)])
def test_same_seed_same_data_whatever_the_global_random_state(make):
    random.seed(1)
    first = make()
    random.seed(2)
    random.random()
    assert make() == first


@pytest.mark.parametrize("make", [blobs, moons, circles])
def test_different_seeds_give_different_data(make):
    assert make(seed=0) != make(seed=1)


def test_blobs_default_centres_and_labels():
    X, y = blobs(3, std=0.0)
    assert sorted(set(map(tuple, X))) == [(-2.0, 2.0), (0.0, -2.0), (2.0, 2.0)]
    assert sorted(y) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert dict(zip(y, map(tuple, X))) == {0: (0.0, -2.0), 1: (2.0, 2.0), 2: (-2.0, 2.0)}


def test_blobs_spread_matches_std():
    X, _y = blobs(2000, centers=[(0.0, 0.0)], std=1.5, seed=3)
    xs = [p[0] for p in X]
    mean = sum(xs) / len(xs)
    assert abs(mean) < 0.1
    assert abs(math.sqrt(sum((v - mean) ** 2 for v in xs) / len(xs)) - 1.5) < 0.1


def test_blobs_other_number_of_centres():
    X, y = blobs(1, centers=4, std=0.0)
    assert sorted(y) == [0, 1, 2, 3]
    assert all(math.isclose(math.hypot(*p), 3.0) for p in X)


def test_moons_without_noise_lie_on_two_half_circles():
    X, y = moons(40, noise=0.0)
    for (a, b), label in zip(X, y):
        centre = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.isclose(math.hypot(a - centre[0], b - centre[1]), 1.0)
    assert sorted(y) == [0] * 20 + [1] * 20


def test_circles_radii_follow_factor():
    X, y = circles(10, noise=0.0, factor=0.3)
    for p, label in zip(X, y):
        assert math.isclose(math.hypot(*p), 1.0 if label == 0 else 0.3)


def test_train_test_split_is_a_seeded_partition():
    X = [[float(i)] for i in range(20)]
    y = list(range(20))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=4)
    assert (len(X_train), len(X_test)) == (15, 5)
    assert sorted(y_train + y_test) == y
    assert [int(p[0]) for p in X_train] == y_train
    assert train_test_split(X, y, seed=4) == (X_train, X_test, y_train, y_test)
    assert len(train_test_split(X, y, test_size=3)[1]) == 3


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: blobs(0), "n_per_class"),
        (lambda: blobs(5, std=-1.0), "std"),
        (lambda: blobs(5, centers=[(0.0, 1.0, 2.0)]), "centers"),
        (lambda: blobs(5, centers=[[math.nan, 0.0]]), r"^blobs: centers\[0\] must be two finite"),
        (lambda: blobs(5, centers=[[0.0, 0.0], [1.0, math.inf]]), r"^blobs: centers\[1\] .*inf"),
        (lambda: blobs(5, centers=["ab"]), r"^blobs: centers\[0\] must be two finite .*'ab'"),
        (
            lambda: blobs(5, centers=[["a", 1.0]]),
            r"^blobs: centers\[0\] must be two finite numbers",
        ),
        (lambda: blobs(5, centers=[1, 2]), r"^blobs: centers\[0\] must be two finite .*got 1"),
        (lambda: blobs(5, centers=[(True, 0.0)]), r"^blobs: centers\[0\]"),
        (lambda: blobs(5, centers=2.5), r"^blobs: centers must be an int or a list of \(x, y\)"),
        (lambda: blobs(5, centers="ab"), r"^blobs: centers must be an int or a list"),
        (lambda: blobs(5, centers=[]), r"^blobs: centers must be a non-empty"),
        (lambda: blobs(5, std=math.nan), r"^blobs: std"),
        (lambda: blobs(5, seed=1.5), r"^blobs: seed must be an int.*1.5"),
        (lambda: blobs(5, seed="0"), r"^blobs: seed"),
        (lambda: blobs(2.5), r"^blobs: n_per_class"),
        (lambda: moons(10, noise=math.inf), r"^moons: noise"),
        (lambda: moons(10, seed=True), r"^moons: seed"),
        (lambda: moons(10.0), r"^moons: n "),
        (lambda: circles(10, noise=-0.1), r"^circles: noise"),
        (lambda: circles(10, factor=math.nan), r"^circles: factor"),
        (lambda: circles(10, seed=[1]), r"^circles: seed"),
        (lambda: train_test_split([1, 2, 3], [1, 2, 3], test_size=math.nan), "test_size"),
        (lambda: train_test_split([1, 2, 3], [1, 2, 3], test_size=-1), "test_size"),
        (lambda: train_test_split([1, 2, 3], [1, 2, 3], seed=0.5), "train_test_split: seed"),
        (lambda: train_test_split(iter([1, 2]), [1, 2]), "train_test_split: X and y must be"),
        (lambda: moons(1), "n"),
        (lambda: circles(10, factor=1.5), "factor"),
        (lambda: train_test_split([1, 2], [1]), "2 samples"),
        (lambda: train_test_split([1, 2, 3], [1, 2, 3], test_size=1.5), "test_size"),
        (lambda: train_test_split([1, 2], [1, 2], test_size=2), "no train"),
    ],
)
def test_bad_arguments_raise_value_errors(call, words):
    with pytest.raises(ValueError, match=words):
        call()


def test_blobs_accepts_centres_given_as_any_pairs_of_real_numbers():
    from fractions import Fraction

    X, y = blobs(1, centers=[[1, 2], (Fraction(1, 2), -3.5)], std=0.0)
    assert sorted(zip(y, X)) == [(0, [1.0, 2.0]), (1, [0.5, -3.5])]
    assert all(type(v) is float for point in X for v in point)
