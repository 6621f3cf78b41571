"""The benchmark's workloads, written once and run on every engine.

W1 is micrograd's own demo: one SGD step of an MLP 2-16-16-1 (ReLU) on 100
moons points with the SVM max-margin loss mean(relu(1 - y*score)) + 1e-4*L2.
The MLP is built here from scalar operations, so the same code runs on
micrograd's Value and on autograd_tiny's Value: engine is compared with engine.
``hand_loss_and_grad`` is the same math as plain float code with a backward
pass derived by hand: the practical limit of pure Python.
"""

from __future__ import annotations

import math
import random
from operator import add, mul
from typing import Any, Callable

SIZES = (2, 16, 16, 1)
ALPHA = 1e-4
LEARNING_RATE = 0.05

Matrix = list[list[float]]


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles (as in scikit-learn), labels -1.0 and 1.0."""
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    points: list[list[float]] = []
    labels: list[float] = []
    for i in range(n_outer):
        t = math.pi * i / (n_outer - 1)
        points.append([math.cos(t), math.sin(t)])
        labels.append(-1.0)
    for i in range(n_inner):
        t = math.pi * i / (n_inner - 1)
        points.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        labels.append(1.0)
    for p in points:
        p[0] += rng.gauss(0.0, noise)
        p[1] += rng.gauss(0.0, noise)
    return points, labels


def init_params(seed: int = 1) -> list[float]:
    """MLP parameters as one flat list: per layer, per neuron, its weights then its bias."""
    rng = random.Random(seed)
    flat: list[float] = []
    for nin, nout in zip(SIZES, SIZES[1:]):
        for _ in range(nout):
            flat.extend(rng.uniform(-1.0, 1.0) for _ in range(nin))
            flat.append(rng.uniform(-0.1, 0.1))
    return flat


def unflatten(flat: list[Any]) -> list[list[tuple[list[Any], Any]]]:
    """Flat parameters -> layers of neurons ``(weights, bias)``."""
    layers = []
    k = 0
    for nin, nout in zip(SIZES, SIZES[1:]):
        layer = []
        for _ in range(nout):
            layer.append((flat[k : k + nin], flat[k + nin]))
            k += nin + 1
        layers.append(layer)
    return layers


# -- the model as scalar operations (any engine's Value) ------------------------


def score(layers: list[list[tuple[list[Any], Any]]], x: list[Any]) -> Any:
    """MLP forward pass, micrograd's Neuron: sum(w*x, b), relu on hidden layers."""
    h = x
    last = len(layers) - 1
    for i, layer in enumerate(layers):
        out = []
        for w, b in layer:
            act = b
            for wi, hi in zip(w, h):
                act = act + wi * hi
            out.append(act if i == last else act.relu())
        h = out
    return h[0]


def sample_loss(*args: Any) -> Any:
    """relu(1 - y*score) of one point; args = (*params, x0, x1, y). For compile()."""
    *params, x0, x1, y = args
    return (1 + -y * score(unflatten(params), [x0, x1])).relu()


def regulariser(*params: Any) -> Any:
    """ALPHA * sum(p*p). For compile()."""
    total: Any = 0.0
    for p in params:
        total = total + p * p
    return ALPHA * total


def total_loss(params: list[Any], X: list[list[float]], Y: list[float]) -> Any:
    """micrograd's demo loss: mean hinge loss over the batch plus L2."""
    layers = unflatten(params)
    losses = [(1 + -y * score(layers, x)).relu() for x, y in zip(X, Y)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in params)
    return data_loss + reg_loss


def engine_step(params: list[Any], X: list[list[float]], Y: list[float]) -> float:
    """One SGD step on an engine's Values: zero grads, forward, backward, update."""
    for p in params:
        p.grad = 0.0
    loss = total_loss(params, X, Y)
    loss.backward()
    for p in params:
        p.data -= LEARNING_RATE * p.grad
    return float(loss.data)


# -- the same math by hand ------------------------------------------------------


def hand_split(flat: list[float]) -> tuple[list[Matrix], list[list[float]]]:
    """Flat parameters -> per-layer weight matrices and bias vectors."""
    weights, biases = [], []
    for layer in unflatten(flat):
        weights.append([list(w) for w, _ in layer])
        biases.append([b for _, b in layer])
    return weights, biases


def hand_join(weights: list[Matrix], biases: list[list[float]]) -> list[float]:
    flat: list[float] = []
    for matrix, bias in zip(weights, biases):
        for row, b in zip(matrix, bias):
            flat.extend(row)
            flat.append(b)
    return flat


def hand_loss_and_grad(
    weights: list[Matrix], biases: list[list[float]], X: list[list[float]], Y: list[float]
) -> tuple[float, list[Matrix], list[list[float]]]:
    """W1's loss and gradients in plain floats, backward pass derived by hand."""
    n_layers = len(weights)
    gw = [[[0.0] * len(row) for row in matrix] for matrix in weights]
    gb = [[0.0] * len(bias) for bias in biases]
    scale = 1.0 / len(X)
    data_loss = 0.0
    for x, y in zip(X, Y):
        inputs = []  # the input of each layer
        h = x
        for matrix, bias in zip(weights[:-1], biases[:-1]):
            inputs.append(h)
            h = [max(sum(map(mul, row, h), b), 0.0) for row, b in zip(matrix, bias)]
        inputs.append(h)
        margin = 1.0 - y * sum(map(mul, weights[-1][0], h), biases[-1][0])
        if margin <= 0.0:
            continue  # relu inactive: no gradient from this point
        data_loss += margin
        g = [-y * scale]  # d loss / d score
        for layer in range(n_layers - 1, -1, -1):
            h = inputs[layer]
            matrix, gmatrix, gbias = weights[layer], gw[layer], gb[layer]
            g_in = [0.0] * len(h)
            for j, gj in enumerate(g):
                if gj == 0.0:
                    continue  # inactive relu
                gbias[j] += gj
                gmatrix[j] = [a + gj * hk for a, hk in zip(gmatrix[j], h)]
                if layer:
                    g_in = [a + gj * w for a, w in zip(g_in, matrix[j])]
            if layer:
                g = [gk if hk > 0.0 else 0.0 for gk, hk in zip(g_in, h)]
    for matrix, gmatrix in zip(weights, gw):
        for row, grow in zip(matrix, gmatrix):
            grow[:] = [gk + 2.0 * ALPHA * w for gk, w in zip(grow, row)]
    for bias, gbias in zip(biases, gb):
        gbias[:] = [gk + 2.0 * ALPHA * b for gk, b in zip(gbias, bias)]
    reg = ALPHA * sum(w * w for matrix in weights for row in matrix for w in row)
    reg += ALPHA * sum(b * b for bias in biases for b in bias)
    return data_loss * scale + reg, gw, gb


def hand_step(
    weights: list[Matrix], biases: list[list[float]], X: list[list[float]], Y: list[float]
) -> float:
    loss, gw, gb = hand_loss_and_grad(weights, biases, X, Y)
    for matrix, gmatrix in zip(weights, gw):
        for row, grow in zip(matrix, gmatrix):
            row[:] = [w - LEARNING_RATE * g for w, g in zip(row, grow)]
    for bias, gbias in zip(biases, gb):
        bias[:] = [b - LEARNING_RATE * g for b, g in zip(bias, gbias)]
    return loss


# -- compiled replay --------------------------------------------------------------


def compiled_loss_and_grad(
    per_sample: Any, reg: Any, params: list[float], X: list[list[float]], Y: list[float]
) -> tuple[float, list[float]]:
    """One value_and_grad call per point, gradients summed, then mean and L2."""
    n_params = len(params)
    total = 0.0
    acc = [0.0] * n_params
    value_and_grad = per_sample.value_and_grad
    for (x0, x1), y in zip(X, Y):
        value, grads = value_and_grad(*params, x0, x1, y)
        if value:  # an inactive hinge has a zero gradient
            total += value
            acc = list(map(add, acc, grads))
    scale = 1.0 / len(X)
    reg_value, reg_grads = reg.value_and_grad(*params)
    grads_out = [a * scale + r for a, r in zip(acc, reg_grads)]
    return total * scale + reg_value, grads_out


def batched_loss_and_grad(
    per_sample: Any, reg: Any, params: list[float], rows: list[tuple[float, float, float]]
) -> tuple[float, list[float]]:
    """One generated function loops over the whole batch and sums the gradients."""
    total, acc = per_sample.value_and_grad_batch(params, rows)
    scale = 1.0 / len(rows)
    reg_value, reg_grads = reg.value_and_grad(*params)
    return total * scale + reg_value, [a * scale + r for a, r in zip(acc, reg_grads)]


def sgd(params: list[float], grads: list[float]) -> None:
    params[:] = [p - LEARNING_RATE * g for p, g in zip(params, grads)]


StepFn = Callable[[], float]


# -- W6: grad on plain numbers, against grad as it was before it kept calls apart --------


def rosenbrock(x: Any, y: Any) -> Any:
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def tanh_sum(*ws: Any) -> Any:
    """sum(tanh(w_i * i / 100) * w_i): 50 arguments, ~250 nodes."""
    total: Any = 0.0
    for i, w in enumerate(ws, start=1):
        total = total + (w * (i * 0.01)).tanh() * w
    return total


def grad_before(f: Callable[..., Any], argnums: tuple[int, ...]) -> Callable[..., Any]:
    """``grad`` for plain numbers as the engine had it before each call owned its variables
    (commit c1f0358): Value leaves, a nesting counter, ``gradients()``, floats out."""
    import contextvars

    from autograd_tiny import Value, gradients

    depth: contextvars.ContextVar[int] = contextvars.ContextVar("depth", default=0)

    def wrapped(*args: Any) -> Any:
        for i in argnums:
            if not -len(args) <= i < len(args):
                raise IndexError(i)
        inputs = list(args)
        for i in argnums:
            inputs[i] = Value(inputs[i], label=f"arg{i % len(args)}")
        token = depth.set(depth.get() + 1)
        try:
            out = f(*inputs)
        finally:
            depth.reset(token)
        grads = gradients(out, [inputs[i] for i in argnums], create_graph=False)
        float(out)
        return tuple(float(g) for g in grads)

    return wrapped


# -- W6: exact gradients in scripts ------------------------------------------------
# Each function is written once and run on every engine: ``ops`` is the module that
# holds the engine's tanh and sin (autograd_tiny, autograd.numpy, jax.numpy, torch).

NEURON_ARGS = (2.0, 0.0, -3.0, 1.0, 6.8813735870195432)  # x1, x2, w1, w2, b of the README
CHAIN_STEPS = 30


def make_neuron(ops: Any) -> Callable[..., Any]:
    """The README's neuron tanh(x1*w1 + x2*w2 + b), a function of all five."""

    def neuron(x1: Any, x2: Any, w1: Any, w2: Any, b: Any) -> Any:
        return ops.tanh(x1 * w1 + x2 * w2 + b)

    return neuron


def make_chain(ops: Any, steps: int = CHAIN_STEPS) -> Callable[[Any], Any]:
    """``steps`` times v = sin(0.9 v) + 0.1 v."""

    def chain(v: Any) -> Any:
        for _ in range(steps):
            v = ops.sin(0.9 * v) + 0.1 * v
        return v

    return chain


# The closed forms, written by hand as one would in a script: value and gradient.


def rosenbrock_by_hand(x: float, y: float) -> tuple[float, tuple[float, float]]:
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * b * b, (-2.0 * a - 400.0 * x * b, 200.0 * b)


def neuron_by_hand(
    x1: float, x2: float, w1: float, w2: float, b: float
) -> tuple[float, tuple[float, ...]]:
    o = math.tanh(x1 * w1 + x2 * w2 + b)
    d = 1.0 - o * o
    return o, (w1 * d, w2 * d, x1 * d, x2 * d, d)


def chain_by_hand(v: float) -> tuple[float, tuple[float]]:
    """The derivative carried along the loop (forward mode by hand)."""
    d = 1.0
    sin, cos = math.sin, math.cos
    for _ in range(CHAIN_STEPS):
        u = 0.9 * v
        d *= 0.9 * cos(u) + 0.1
        v = sin(u) + 0.1 * v
    return v, (d,)


def rosenbrock_hessian_by_hand(x: float, y: float) -> tuple[tuple[float, float], ...]:
    xy = -400.0 * x
    return (2.0 - 400.0 * (y - x * x) + 800.0 * x * x, xy), (xy, 200.0)


def rosenbrock_hessian_by_hand_as_rows(x: float, y: float) -> list[list[float]]:
    """The same closed form returning what ``hessian`` returns: a list of rows."""
    xy = -400.0 * x
    return [[2.0 - 400.0 * (y - x * x) + 800.0 * x * x, xy], [xy, 200.0]]
