"""The bridge to PyTorch: ``to_torch(model)`` and ``from_torch(seq)``, re-exported by ``nn``.

Owns the translation between an ``MLP`` (or ``Layer``, ``Neuron``) and a
``torch.nn.Sequential`` of ``Linear`` layers and activation modules. Imports
only ``nn``, inside the functions (``nn`` re-exports this module's names).
PyTorch is optional: it is imported when a function is called, and its absence
raises an ``ImportError`` that says how to install it.

Tensors are float64 (``torch.float64``): a ``Value`` holds a Python float, an
IEEE binary64 number, so every weight crosses over exactly and both sides
compute in the same precision (outputs agree to rounding, about 1e-16 relative;
float32 would round each weight to 24 bits and the outputs to ~1e-7). Feed the
torch model float64 inputs, or call ``seq.float()`` to trade that agreement for
float32 speed.

The examples are skipped by the doctest run, which must pass without torch;
tests/test_torch_bridge.py runs them.

>>> from autograd_tiny.nn import MLP
>>> model = MLP(2, [3, 1], activation="tanh", seed=0)
>>> seq = to_torch(model)  # doctest: +SKIP
>>> seq  # doctest: +SKIP
Sequential(
  (0): Linear(in_features=2, out_features=3, bias=True)
  (1): Tanh()
  (2): Linear(in_features=3, out_features=1, bias=True)
)
>>> from_torch(seq).state_dict() == model.state_dict()  # doctest: +SKIP
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["from_torch", "to_torch"]

TORCH_VERSION = "2.13.0"
# activation name -> torch.nn class name, both ways (Identity is linear too).
_TO_TORCH = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid"}
_FROM_TORCH = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Identity": "linear"}


def _import_torch(where: str) -> Any:
    try:
        import torch
    except ImportError as error:
        raise ImportError(
            f"{where} needs PyTorch, which is not installed: run "
            f"pip install torch=={TORCH_VERSION} (or install autograd-tiny "
            f"with its extra: pip install 'autograd-tiny[torch]', "
            f"or pip install -e '.[torch]' in a checkout)"
        ) from error
    return torch


def _layers_of(model: Any) -> list[tuple[list[list[float]], list[float], str]]:
    """(weight rows, biases, activation) for each layer of an MLP, Layer or Neuron."""
    from .nn import MLP, Layer, Neuron

    if isinstance(model, MLP):
        layers = model.layers
    elif isinstance(model, Layer):
        layers = [model]
    elif isinstance(model, Neuron):
        return [([[w.data for w in model.w]], [model.b.data], model.activation)]
    else:
        raise TypeError(f"to_torch converts an MLP, Layer or Neuron, got {type(model).__name__}")
    return [
        (
            [[w.data for w in n.w] for n in layer.neurons],
            [n.b.data for n in layer.neurons],
            layer.activation,
        )
        for layer in layers
    ]


def to_torch(model: Any) -> Any:
    """A ``torch.nn.Sequential`` computing what ``model`` computes, in float64.

    Each layer becomes ``Linear(nin, nout)`` (weights and biases copied) followed by
    ``ReLU()``, ``Tanh()`` or ``Sigmoid()`` (nothing for a linear layer). For
    an input of shape ``(nin,)`` or ``(batch, nin)`` it returns ``(nout,)`` or
    ``(batch, nout)``: a one-output model's ``Value`` is the last column. The
    copy is independent (training one leaves the other alone) and drawing it does
    not touch torch's random state.

    >>> import torch  # doctest: +SKIP
    >>> from autograd_tiny.nn import MLP
    >>> model = MLP(2, [4, 1], activation="tanh", seed=0)
    >>> to_torch(model)(torch.tensor([0.5, -1.0], dtype=torch.float64)).item()  # doctest: +SKIP
    -1.057773216923773
    >>> model([0.5, -1.0]).data
    -1.057773216923773
    """
    layers = _layers_of(model)
    torch = _import_torch("to_torch")
    modules = []
    with torch.no_grad():
        for rows, biases, activation in layers:
            # skip_init: the copied numbers replace torch's draw, so draw nothing.
            linear = torch.nn.utils.skip_init(
                torch.nn.Linear, len(rows[0]), len(rows), dtype=torch.float64
            )
            linear.weight.copy_(torch.tensor(rows, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(biases, dtype=torch.float64))
            modules.append(linear)
            if activation in _TO_TORCH:
                modules.append(getattr(torch.nn, _TO_TORCH[activation])())
    return torch.nn.Sequential(*modules)


def _flat_children(torch: Any, seq: Any, prefix: str = "") -> list[tuple[str, Any]]:
    found = []
    for name, module in seq.named_children():
        if isinstance(module, torch.nn.Sequential):
            found += _flat_children(torch, module, f"{prefix}{name}.")
        else:
            found.append((f"{prefix}{name}", module))
    return found


def _numbers(torch: Any, tensor: Any, what: str, where: str) -> Any:
    if not tensor.is_floating_point():
        raise ValueError(f"{where}: {what} has dtype {tensor.dtype}, not a real float dtype")
    if not bool(torch.isfinite(tensor).all()):
        raise ValueError(f"{where}: {what} holds a non-finite number (nan or inf)")
    return tensor.detach().to(device="cpu", dtype=torch.float64).tolist()


def from_torch(seq: Any) -> Any:
    """An ``MLP`` computing what the ``torch.nn.Sequential`` ``seq`` computes.

    ``seq`` must be ``Linear`` layers (with bias), each followed by at most one
    ``ReLU``, ``Tanh``, ``Sigmoid`` or ``Identity`` (none means linear), the hidden
    layers sharing one activation, as an ``MLP`` has; nested ``Sequential`` blocks
    are read in order. Anything else raises ``ValueError`` naming the layer.
    Weights of any float dtype are read as Python floats (float64). With a single
    layer there is no hidden activation: the MLP gets the default, relu, unused.

    >>> from torch import nn  # doctest: +SKIP
    >>> seq = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 3))  # doctest: +SKIP
    >>> from_torch(seq)  # doctest: +SKIP
    MLP(nin=2, nouts=[8, 3], activation='tanh', output_activation='linear')
    """
    torch = _import_torch("from_torch")
    from .nn import MLP

    if not isinstance(seq, torch.nn.Sequential):
        raise TypeError(
            f"from_torch converts a torch.nn.Sequential, got {type(seq).__name__} "
            f"(wrap a single layer: torch.nn.Sequential(layer))"
        )
    sizes: list[int] = []
    activations: list[str] = []
    state: list[dict[str, Any]] = []
    names: list[str] = []
    for name, module in _flat_children(torch, seq):
        where = f"from_torch: layer {name!r} ({module!r})"
        kind = type(module).__name__
        if isinstance(module, torch.nn.Linear):
            if module.bias is None:
                raise ValueError(
                    f"{where} has no bias; every autograd_tiny neuron has one "
                    f"(use bias=True, with zeros to keep the outputs)"
                )
            if sizes and module.in_features != sizes[-1]:
                raise ValueError(
                    f"{where} takes {module.in_features} inputs, but layer "
                    f"{names[-1]!r} gives {sizes[-1]}"
                )
            if not sizes:
                sizes.append(module.in_features)
            sizes.append(module.out_features)
            activations.append("")
            names.append(name)
            state.append(
                {
                    "weight": _numbers(torch, module.weight, "its weight", where),
                    "bias": _numbers(torch, module.bias, "its bias", where),
                }
            )
        elif type(module) in {getattr(torch.nn, k) for k in _FROM_TORCH}:
            if not activations or activations[-1]:
                if kind == "Identity":
                    continue  # changes nothing, wherever it stands
                after = (
                    "comes before any Linear"
                    if not activations
                    else (f"follows another activation ({activations[-1]})")
                )
                raise ValueError(
                    f"{where} {after}; an MLP has at most one activation after each Linear"
                )
            activations[-1] = _FROM_TORCH[kind]
        else:
            raise ValueError(
                f"{where} cannot be represented by an autograd_tiny MLP: only "
                f"Linear layers, each followed by ReLU, Tanh, Sigmoid or Identity"
            )
    if not state:
        raise ValueError("from_torch: the Sequential holds no Linear layer")
    activations = [a or "linear" for a in activations]
    hidden = activations[:-1]
    for name, activation in zip(names[1:-1], hidden[1:]):
        if activation != hidden[0]:
            raise ValueError(
                f"from_torch: layer {name!r} is followed by {activation}, but "
                f"layer {names[0]!r} by {hidden[0]}; an MLP's hidden layers "
                f"share one activation"
            )
    model = MLP(
        sizes[0],
        sizes[1:],
        activation=hidden[0] if hidden else "relu",
        output_activation=activations[-1],
        seed=0,
    )
    model.load_state_dict({"layers": state}, where="from_torch")
    return model
