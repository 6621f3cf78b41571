"""Losses: values (and gradients) equal torch.nn.functional's; stable at extreme logits."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_tiny.engine import Value
from autograd_tiny.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    log_softmax,
    mse,
    softmax,
)

finite = st.floats(-30.0, 30.0, allow_nan=False)
wide = st.floats(-1000.0, 1000.0, allow_nan=False)
probability = st.floats(0.0, 1.0)


def close(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


@st.composite
def logit_batches(draw, values=wide):
    k = draw(st.integers(1, 5))
    n = draw(st.integers(1, 4))
    rows = [draw(st.lists(values, min_size=k, max_size=k)) for _ in range(n)]
    targets = [draw(st.integers(0, k - 1)) for _ in range(n)]
    return rows, targets


# -- without torch ---------------------------------------------------------------


def test_mse_single_sample_and_batch():
    assert mse(Value(3.0), 1.0).data == 4.0
    assert mse([Value(1.0), Value(2.0)], [1.0, 4.0]).data == 2.0
    assert mse([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 2.0]]).data == 1.0


def test_mse_gradient_is_two_over_n_times_error():
    a, b = Value(3.0), Value(1.0)
    mse([a, b], [1.0, 1.0]).backward()
    assert (a.grad, b.grad) == (2.0, 0.0)


def test_bce_with_logits_is_finite_and_exact_at_800():
    for z, y, want in [(800.0, 0, 800.0), (800.0, 1, 0.0), (-800.0, 1, 800.0), (-800.0, 0, 0.0)]:
        logit = Value(z)
        loss = binary_cross_entropy_with_logits(logit, y)
        loss.backward()
        assert loss.data == want
        assert logit.grad == (1.0 - y if z > 0 else -float(y))


def test_cross_entropy_is_finite_at_logits_of_1000():
    logits = [Value(1000.0), Value(0.0), Value(-1000.0)]
    loss = cross_entropy(logits, 1)
    loss.backward()
    assert loss.data == 1000.0
    assert [z.grad for z in logits] == [1.0, -1.0, 0.0]
    assert [round(p.data, 12) for p in log_softmax([1000.0, 1000.0])] == [-0.693147180560] * 2


def test_softmax_sums_to_one_and_takes_a_batch():
    rows = softmax([[1.0, 2.0, 3.0], [1000.0, 0.0, 0.0]])
    assert all(close(sum(p.data for p in row), 1.0, 1e-15) for row in rows)
    assert rows[1][0].data == 1.0


def test_bce_clamps_log_at_minus_100_like_torch():
    assert binary_cross_entropy(0.0, 1).data == 100.0
    assert binary_cross_entropy([1.0, 0.0], [1, 0]).data == 0.0


TORCH_BCE_EPSILON = 9.999999960041972e-13  # 1e-12 as a float32


@pytest.mark.parametrize(
    "p, y, loss, grad",
    [
        (0.0, 1, 100.0, -1 / TORCH_BCE_EPSILON),  # torch: (p - y) / max(p (1 - p), 1e-12)
        (1.0, 0, 100.0, 1 / TORCH_BCE_EPSILON),
        (0.0, 0, 0.0, 0.0),
        (1.0, 1, 0.0, 0.0),
        (1e-50, 1, 100.0, (1e-50 - 1) / TORCH_BCE_EPSILON),
        (0.5, 1, math.log(2.0), -2.0),
    ],
)
def test_bce_keeps_torch_gradient_where_the_log_is_clamped(p, y, loss, grad):
    prob = Value(p)
    out = binary_cross_entropy(prob, y)
    out.backward()
    assert out.data == pytest.approx(loss, rel=1e-15)
    assert prob.grad == pytest.approx(grad, rel=1e-12)
    prob.grad = 0.0
    out = binary_cross_entropy([prob, Value(0.5)], [y, 1])  # the batch mean halves it
    out.backward()
    assert prob.grad == pytest.approx(grad / 2, rel=1e-12)


def test_hinge_binary_reads_zero_labels_as_minus_one():
    assert hinge([2.0, 0.5], [1, -1]).data == hinge([2.0, 0.5], [1, 0]).data == 0.75


def test_hinge_multiclass_single_and_batch():
    assert hinge([0.0, 1.0, 0.0], 1).data == 0.0
    assert close(hinge([[0.0, 0.5, 0.0]], [1]).data, 1.0 / 3.0)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: mse([1.0, 2.0], [1.0]), ValueError, "2 predictions but 1 target"),
        (
            lambda: mse([1.0, 2.0], 1.0),
            ValueError,
            "mse: 2 predictions but one target (1.0); give a list of 2 targets",
        ),
        (
            lambda: mse([[1.0, 2.0, 3.0]], [0]),
            ValueError,
            "mse: 3 predictions but one target (0); give a list of 3 targets",
        ),
        (lambda: mse(1.0, [1.0, 2.0]), ValueError, "mse: one prediction but 2 targets"),
        (lambda: cross_entropy([0.0, 1.0], 2), ValueError, "class index in 0..1"),
        (lambda: cross_entropy([[0.0, 1.0]], [0, 1]), ValueError, "1 rows"),
        (lambda: binary_cross_entropy(1.5, 1), ValueError, "outside [0, 1]"),
        (lambda: hinge(0.5, 2), ValueError, "-1 or +1"),
        (lambda: mse("1", 1.0), TypeError, "str"),
        (lambda: mse([], []), ValueError, "empty"),
        (lambda: cross_entropy([], 0), TypeError, "cross_entropy"),
    ],
)
def test_bad_input_raises_an_error_naming_the_loss(call, error, words):
    with pytest.raises(error, match=re.escape(words)):
        call()


# -- against torch.nn.functional -------------------------------------------------


@settings(max_examples=40)
@given(logit_batches())
def test_cross_entropy_and_its_gradient_match_torch(batch):
    torch = pytest.importorskip("torch")
    rows, targets = batch
    values = [[Value(z) for z in row] for row in rows]
    loss = cross_entropy(values, targets)
    loss.backward()
    t_logits = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.cross_entropy(t_logits, torch.tensor(targets))
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    for row, t_row in zip(values, t_logits.grad.tolist()):
        assert all(close(v.grad, g) for v, g in zip(row, t_row))


@settings(max_examples=40)
@given(logit_batches())
def test_softmax_and_log_softmax_match_torch(batch):
    torch = pytest.importorskip("torch")
    rows, _ = batch
    t_rows = torch.tensor(rows, dtype=torch.float64)
    for ours, theirs in [
        (softmax(rows), torch.softmax(t_rows, dim=1)),
        (log_softmax(rows), torch.log_softmax(t_rows, dim=1)),
    ]:
        for row, t_row in zip(ours, theirs.tolist()):
            assert all(close(v.data, t) for v, t in zip(row, t_row))


@settings(max_examples=40)
@given(st.lists(st.tuples(st.floats(-800.0, 800.0), probability), min_size=1, max_size=6))
def test_bce_with_logits_and_gradient_match_torch(pairs):
    torch = pytest.importorskip("torch")
    logits = [Value(z) for z, _ in pairs]
    targets = [y for _, y in pairs]
    loss = binary_cross_entropy_with_logits(logits, targets)
    loss.backward()
    t_logits = torch.tensor([z for z, _ in pairs], dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.binary_cross_entropy_with_logits(
        t_logits, torch.tensor(targets, dtype=torch.float64)
    )
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    assert all(close(v.grad, g) for v, g in zip(logits, t_logits.grad.tolist()))


@settings(max_examples=40)
@given(st.lists(st.tuples(probability, probability), min_size=1, max_size=6))
def test_bce_matches_torch(pairs):
    torch = pytest.importorskip("torch")
    probs, targets = [p for p, _ in pairs], [y for _, y in pairs]
    ours = binary_cross_entropy(probs, targets).data
    theirs = torch.nn.functional.binary_cross_entropy(
        torch.tensor(probs, dtype=torch.float64), torch.tensor(targets, dtype=torch.float64)
    )
    assert close(ours, theirs.item())


def _bce_with_torch(torch, probs, targets):
    values = [Value(p) for p in probs]
    loss = binary_cross_entropy(values, targets)
    loss.backward()
    t_probs = torch.tensor(probs, dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.binary_cross_entropy(
        t_probs, torch.tensor(targets, dtype=torch.float64)
    )
    t_loss.backward()
    return loss.data, [v.grad for v in values], t_loss.item(), t_probs.grad.tolist()


EDGE_PROBABILITIES = [0.0, 1e-50, 1e-13, 0.5, 1.0 - 1e-16, 1.0]


@pytest.mark.parametrize("y", [0, 1])
@pytest.mark.parametrize("p", EDGE_PROBABILITIES)
def test_bce_gradient_matches_torch_at_the_edges(p, y):
    torch = pytest.importorskip("torch")
    loss, grads, t_loss, t_grads = _bce_with_torch(torch, [p], [y])
    assert loss == t_loss
    assert close(grads[0], t_grads[0], 1e-12)


def test_bce_gradient_matches_torch_on_a_batch_of_edges():
    torch = pytest.importorskip("torch")
    probs = [p for p in EDGE_PROBABILITIES for _ in (0, 1)]
    targets = [y for _ in EDGE_PROBABILITIES for y in (0, 1)]
    loss, grads, t_loss, t_grads = _bce_with_torch(torch, probs, targets)
    assert close(loss, t_loss)
    assert all(close(g, t, 1e-12) for g, t in zip(grads, t_grads))


@settings(max_examples=60)
@given(st.lists(st.tuples(probability, st.sampled_from([0, 1])), min_size=1, max_size=6))
def test_bce_gradient_matches_torch_on_random_probabilities(pairs):
    torch = pytest.importorskip("torch")
    probs, targets = [p for p, _ in pairs], [y for _, y in pairs]
    loss, grads, t_loss, t_grads = _bce_with_torch(torch, probs, targets)
    assert close(loss, t_loss)
    assert all(close(g, t, 1e-12) for g, t in zip(grads, t_grads))


@settings(max_examples=40)
@given(st.lists(st.tuples(st.floats(1e-6, 1.0 - 1e-6), probability), min_size=1, max_size=6))
def test_bce_gradient_with_soft_targets_matches_torch(pairs):
    torch = pytest.importorskip("torch")
    probs, targets = [p for p, _ in pairs], [y for _, y in pairs]
    _, grads, _, t_grads = _bce_with_torch(torch, probs, targets)
    for p, y, g, t in zip(probs, targets, grads, t_grads):
        # -y/p + (1-y)/(1-p) and torch's (p-y)/(p(1-p)) agree up to rounding of each term.
        assert abs(g - t) <= 1e-13 * (y / p + (1 - y) / (1 - p))


@settings(max_examples=40)
@given(st.lists(st.tuples(finite, finite), min_size=1, max_size=6))
def test_mse_and_gradient_match_torch(pairs):
    torch = pytest.importorskip("torch")
    preds = [Value(p) for p, _ in pairs]
    loss = mse(preds, [t for _, t in pairs])
    loss.backward()
    t_pred = torch.tensor([p for p, _ in pairs], dtype=torch.float64, requires_grad=True)
    t_loss = torch.nn.functional.mse_loss(
        t_pred, torch.tensor([t for _, t in pairs], dtype=torch.float64)
    )
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    assert all(close(v.grad, g) for v, g in zip(preds, t_pred.grad.tolist()))


@settings(max_examples=40)
@given(logit_batches(finite))
def test_multiclass_hinge_matches_torch_multi_margin_loss(batch):
    torch = pytest.importorskip("torch")
    rows, targets = batch
    theirs = torch.nn.functional.multi_margin_loss(
        torch.tensor(rows, dtype=torch.float64), torch.tensor(targets)
    )
    assert close(hinge(rows, targets).data, theirs.item())


@settings(max_examples=40)
@given(st.lists(st.tuples(finite, st.sampled_from([-1, 1])), min_size=1, max_size=6))
def test_binary_hinge_matches_torch_clamped_margin(pairs):
    torch = pytest.importorskip("torch")
    scores = torch.tensor([s for s, _ in pairs], dtype=torch.float64)
    labels = torch.tensor([y for _, y in pairs], dtype=torch.float64)
    theirs = torch.clamp(1.0 - labels * scores, min=0.0).mean().item()
    assert close(hinge([s for s, _ in pairs], [y for _, y in pairs]).data, theirs)


def test_single_sample_equals_batch_of_one():
    assert cross_entropy([1.0, 2.0], 0).data == cross_entropy([[1.0, 2.0]], [0]).data
    assert (
        binary_cross_entropy_with_logits(0.3, 1).data
        == binary_cross_entropy_with_logits([0.3], [1]).data
    )
    assert math.isfinite(binary_cross_entropy_with_logits([800.0, -800.0], [0, 1]).data)
