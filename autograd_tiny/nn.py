"""Neural-network building blocks: ``Module``, ``Neuron``, ``Layer``, ``MLP``, save and load.

Owns the models; ``_model_files`` writes and reads their JSON files and
``_torch_bridge`` converts them to and from torch. Imports only the engine,
``_checks`` and those two (never losses, optim, data, train or the CLI). Every
weight is drawn from a ``random.Random`` owned by the model, so a seed reproduces a
model whatever the global random state; files are JSON (never pickle), written
atomically and validated on load.

>>> model = MLP(2, [4, 1], activation="tanh", seed=0)
>>> len(model.parameters())
17
>>> out = model([1.0, -1.0])
>>> type(out).__name__
'Value'
>>> MLP(2, [4, 1], activation="tanh", seed=0)([1.0, -1.0]).data == out.data
True
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Sequence
from typing import Any, Union

from . import _model_files
from ._checks import check_int
from ._model_files import FORMAT as FORMAT  # the file format's names, as before
from ._model_files import MAX_FILE_BYTES as MAX_FILE_BYTES
from ._model_files import VERSION as VERSION
from ._model_files import check_like
from ._torch_bridge import from_torch, to_torch
from .engine import Value, relu, sigmoid, tanh

__all__ = ["ACTIVATIONS", "INITS", "MLP", "Layer", "Module", "Neuron"]
__all__ += ["from_torch", "to_torch"]

ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
INITS = ("auto", "he", "glorot", "uniform")
# Module functions, not Value's methods taken unbound: a Value subclass (compile's traced
# values) keeps its own methods.
_ACTIVATE = {"relu": relu, "tanh": tanh, "sigmoid": sigmoid}

Input = Union[Value, float, int]


def _check_activation(activation: Any, where: str) -> str:
    if activation is None:
        return "linear"
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"{where}: unknown activation {activation!r} (must be one of {', '.join(ACTIVATIONS)})"
        )
    return str(activation)


def _check_init(init: Any, where: str) -> str:
    if init not in INITS:
        raise ValueError(f"{where}: unknown init {init!r} (must be one of {', '.join(INITS)})")
    return str(init)


def _draw_weights(
    init: str, activation: str, fan_in: int, fan_out: int, rng: random.Random
) -> list[float]:
    # He: N(0, 2 / fan_in); relu zeroes half its inputs, halving the variance it passes on.
    # Glorot: N(0, 2 / (fan_in + fan_out)), balancing the forward and backward signal.
    # Uniform: U(-1, 1) like micrograd, variance 1/3 whatever the layer's size.
    if init == "auto":
        init = "he" if activation == "relu" else "glorot"
    if init == "uniform":
        return [rng.uniform(-1.0, 1.0) for _ in range(fan_in)]
    variance = 2.0 / fan_in if init == "he" else 2.0 / (fan_in + fan_out)
    std = math.sqrt(variance)
    return [rng.gauss(0.0, std) for _ in range(fan_in)]


def _flatten(tree: Any) -> list[Any]:
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _flatten(value)]
    if isinstance(tree, list):
        return [leaf for value in tree for leaf in _flatten(value)]
    return [tree]


def _named(tree: Any, path: str) -> list[tuple[str, Value]]:
    """(path, Value) pairs in ``parameters()`` order, spelled as ``load_state_dict`` errors do."""
    if isinstance(tree, dict):
        return [
            pair
            for key, value in tree.items()
            for pair in _named(value, f"{path}.{key}" if path else key)
        ]
    if isinstance(tree, list):
        return [pair for i, value in enumerate(tree) for pair in _named(value, f"{path}[{i}]")]
    return [(path, tree)]


class Module:
    """Base class: parameters, gradients and JSON state, for a tree of Values.

    Subclasses implement ``_tree()`` (their Values as nested dicts and lists)
    and ``__call__``; everything else derives from the tree.

    >>> n = Neuron(2, seed=0)
    >>> n.zero_grad(); [p.grad for p in n.parameters()]
    [0.0, 0.0, 0.0]
    """

    def _tree(self) -> Any:
        return {}

    def _config(self) -> dict[str, Any]:
        return {}

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        return _flatten(self._tree())

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(path, parameter)`` in ``parameters()`` order; the path indexes ``state_dict()``.

        Each parameter's ``label`` is its path, so graphs, ``explain`` and errors name it.

        >>> [name for name, p in MLP(1, [2, 1], seed=0).named_parameters()][:3]
        ['layers[0].weight[0][0]', 'layers[0].weight[1][0]', 'layers[0].bias[0]']
        >>> MLP(1, [2, 1], seed=0).layers[1].neurons[0].b.label
        'layers[1].bias[0]'
        """
        return _named(self._tree(), "")

    def _name_parameters(self, prefix: str = "") -> None:
        """Label every parameter with its path; a container calls this again after its children."""
        for name, parameter in self.named_parameters():
            parameter.label = prefix + name

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0.0."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, Any]:
        """The parameters' numbers, shaped like the model (plain floats)."""

        def to_data(tree: Any) -> Any:
            if isinstance(tree, dict):
                return {key: to_data(value) for key, value in tree.items()}
            if isinstance(tree, list):
                return [to_data(value) for value in tree]
            return tree.data

        result: dict[str, Any] = to_data(self._tree())
        return result

    def load_state_dict(self, state: Any, *, where: str = "state_dict") -> None:
        """Copy numbers from ``state`` into the parameters; all-or-nothing.

        Raises ``ValueError`` (naming the offending entry) unless ``state`` has
        exactly this model's shape with finite numbers; then nothing changes.
        """
        check_like(self.state_dict(), state, where)
        for p, number in zip(self.parameters(), _flatten(state)):
            p.data = float(number)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to ``path`` as JSON, atomically (temp file, fsync, os.replace)."""
        _model_files.save(self, path)

    def load(self, path: str | os.PathLike[str]) -> Module:
        """Read parameters saved by ``save``; returns the model.

        Every bad file (empty, truncated, not JSON, wrong model or shape,
        non-finite numbers) raises one ``ValueError`` naming the file and the
        problem, and leaves the parameters untouched.
        """
        _model_files.load(self, path)
        return self

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __call__")

    def __repr__(self) -> str:
        arguments = ", ".join(f"{key}={value!r}" for key, value in self._config().items())
        return f"{type(self).__name__}({arguments})"


def _as_inputs(x: Any, nin: int, where: str) -> Sequence[Input]:
    if isinstance(x, (Value, int, float)):
        x = [x]
    try:
        n = len(x)
    except TypeError:
        raise TypeError(
            f"{where} needs a list of {nin} numbers or Values, got {type(x).__name__}"
        ) from None
    if n != nin:
        raise ValueError(f"{where} expects {nin} inputs, got {n}")
    return x


class Neuron(Module):
    """One unit: ``activation(w · x + b)``; weights drawn as ``init`` says (see MLP), bias 0.

    >>> Neuron(3, activation="linear", seed=0)([0.0, 0.0, 0.0])
    Value(data=0.0, grad=0.0)
    """

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        fan_out: int = 1,
        init: str = "auto",
    ) -> None:
        self.nin = check_int(nin, "nin", "Neuron", minimum=1)
        self.activation = _check_activation(activation, "Neuron")
        self.init = _check_init(init, "Neuron")
        rng = rng if rng is not None else random.Random(seed)
        self.w = [Value(w) for w in _draw_weights(self.init, self.activation, nin, fan_out, rng)]
        self.b = Value(0.0)
        self.output_label = "out"
        self._name_parameters()

    def _tree(self) -> Any:
        return {"weight": self.w, "bias": self.b}

    def _config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation}

    def __call__(self, x: Any) -> Value:
        x = _as_inputs(x, self.nin, "Neuron")
        total = self.b
        for i, (wi, xi) in enumerate(zip(self.w, x)):
            total = total + wi * (xi if isinstance(xi, Value) else Value(xi, label=f"x[{i}]"))
        activate = _ACTIVATE.get(self.activation)
        out = activate(total) if activate is not None else total
        out.label = self.output_label
        return out


class Layer(Module):
    """``nout`` neurons on the same inputs; one output gives a Value, more a list.

    >>> layer = Layer(2, 1, activation="tanh", seed=0)
    >>> Layer(1, 2, seed=0)(layer([1.0, 2.0]))  # a one-neuron layer composes
    [Value(...), Value(...)]
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        *,
        seed: int | None = None,
        rng: random.Random | None = None,
        init: str = "auto",
    ) -> None:
        check_int(nin, "nin", "Layer", minimum=1)
        self.nout = check_int(nout, "nout", "Layer", minimum=1)
        self.activation = _check_activation(activation, "Layer")
        self.init = _check_init(init, "Layer")
        rng = rng if rng is not None else random.Random(seed)
        self.neurons = [
            Neuron(nin, self.activation, rng=rng, fan_out=nout, init=self.init) for _ in range(nout)
        ]
        self.nin = nin
        self._name_parameters()

    def _name_parameters(self, prefix: str = "") -> None:
        super()._name_parameters(prefix)
        for j, neuron in enumerate(self.neurons):
            neuron.output_label = f"{prefix}out[{j}]"

    def _tree(self) -> Any:
        return {"weight": [n.w for n in self.neurons], "bias": [n.b for n in self.neurons]}

    def _config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __call__(self, x: Any) -> Any:
        # Wrap plain numbers once, not once per neuron.
        x = [
            xi if isinstance(xi, Value) else Value(xi, label=f"x[{i}]")
            for i, xi in enumerate(_as_inputs(x, self.nin, "Layer"))
        ]
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs


class MLP(Module):
    """A multilayer perceptron: hidden layers use ``activation``, the last ``output_activation``.

    ``output_activation=None`` means linear (logits). A seed reproduces the
    model exactly, whatever the global random state.

    ``init`` chooses how every layer draws its starting weights (biases start
    at 0), for a layer with ``fan_in`` inputs and ``fan_out`` neurons:

    - ``"he"``: normal, variance ``2 / fan_in`` (suits relu, which zeroes half its inputs);
    - ``"glorot"``: normal, variance ``2 / (fan_in + fan_out)`` (suits tanh, sigmoid, linear);
    - ``"uniform"``: uniform on [-1, 1] like micrograd, variance 1/3 whatever the size;
    - ``"auto"`` (the default): ``"he"`` for relu layers, ``"glorot"`` for the others.

    >>> model = MLP(2, [8, 3], seed=0)
    >>> len(model([0.5, -0.5])), len(model.layers)
    (3, 2)
    >>> relu = dict(activation="relu", output_activation="relu", seed=0)
    >>> MLP(2, [8, 3], **relu).state_dict() == MLP(2, [8, 3], init="he", **relu).state_dict()
    True
    >>> max(abs(w.data) for w in MLP(2, [8, 3], init="uniform", seed=0).parameters()) <= 1
    True
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str | None = None,
        seed: int | None = None,
        *,
        init: str = "auto",
    ) -> None:
        check_int(nin, "nin", "MLP", minimum=1)
        if isinstance(nouts, int) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP: nouts must be a non-empty list of layer sizes, got {nouts!r}")
        sizes = [check_int(n, "each of nouts", "MLP", minimum=1) for n in nouts]
        self.nin = nin
        self.nouts = sizes
        self.activation = _check_activation(activation, "MLP")
        self.output_activation = _check_activation(output_activation, "MLP")
        self.init = _check_init(init, "MLP")
        self.seed = seed
        rng = random.Random(seed)
        fans = [nin, *sizes]
        self.layers = [
            Layer(
                fans[i],
                sizes[i],
                self.output_activation if i == len(sizes) - 1 else self.activation,
                rng=rng,
                init=self.init,
            )
            for i in range(len(sizes))
        ]
        for i, layer in enumerate(self.layers):
            layer._name_parameters(f"layers[{i}].")

    @property
    def nout(self) -> int:
        """Number of outputs."""
        return self.nouts[-1]

    def _tree(self) -> Any:
        return {"layers": [layer._tree() for layer in self.layers]}

    def _config(self) -> dict[str, Any]:
        # The architecture only: seed and init chose starting numbers that a file's state
        # replaces, so any model of this shape loads any file of this shape (older ones too).
        return {
            "nin": self.nin,
            "nouts": self.nouts,
            "activation": self.activation,
            "output_activation": self.output_activation,
        }

    def __call__(self, x: Any) -> Any:
        x = _as_inputs(x, self.nin, "MLP")
        for layer in self.layers:
            x = layer(x)
        return x
