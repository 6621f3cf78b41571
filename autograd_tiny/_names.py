"""Display names of graph nodes, shared by ``viz`` (pictures) and ``explain`` (tables).

Also reads the names ``nn`` gives (``layers[0].weight[3][1]``, ``layers[0].out[3]``)
back into the neuron and layer they belong to. Imports only the engine, for types.
"""

from __future__ import annotations

import re

from .engine import Value

# The labels nn gives: <prefix>weight[j][i], <prefix>bias[j] and <prefix>out[j] for
# neuron j of a layer (prefix "layers[k]." in an MLP, "" for a lone Layer), and
# weight[i], bias and out for a lone Neuron.
_IN_LAYER = re.compile(
    r"(?P<layer>(?:.+\.)?)(?:weight\[(?P<w>\d+)\]\[\d+\]|"
    r"bias\[(?P<b>\d+)\]|out\[(?P<o>\d+)\])"
)
_LONE = re.compile(r"weight\[\d+\]|bias|out")


def unit_of(label: str, unit: str) -> str | None:
    """The neuron (``unit="neuron"``) or layer a parameter or neuron output belongs to.

    None for any other label.

    >>> unit_of("layers[1].weight[3][0]", "neuron"), unit_of("layers[1].out[3]", "layer")
    ('layers[1] neuron 3', 'layers[1]')
    >>> unit_of("bias", "neuron"), unit_of("x", "neuron")
    ('neuron', None)
    """
    match = _IN_LAYER.fullmatch(label)
    if match:
        layer = match["layer"].rstrip(".") or "layer"
        if unit == "layer":
            return layer
        return f"{layer} neuron {match['w'] or match['b'] or match['o']}"
    if _LONE.fullmatch(label):
        return "neuron"
    return None


__all__ = ["node_names", "unit_of", "visible"]


def visible(text: str) -> str:
    r"""``text`` with every character that would not show as itself written as its escape.

    Control characters (newline and tab too), format characters, lone
    surrogates and noncharacters such as U+FFFE become ``\n``, ``\x1b``,
    ``\ufffe``... as Python writes them; everything ``str.isprintable`` accepts
    (letters of any script, symbols, a backslash) stays as it is. So a label
    reaches a picture or a terminal as text, never as a control sequence.

    >>> print(visible("x\x1b[31m\nred"), visible("α₁"), visible("\\N"))
    x\x1b[31m\nred α₁ \N
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def node_names(order: list[Value]) -> dict[Value, str]:
    """Each node's name in pictures and tables: its label, or ``n<i>`` for its place.

    ``order`` is ``reverse_topological_order(root)``, so ``n0`` is the root.
    A name never stands for two nodes: a label already taken (by a node
    earlier in ``forward_order`` with the same label, or by the auto name of
    an unlabelled node) gets the first free ``#2``, ``#3``...

    >>> from autograd_tiny.engine import reverse_topological_order
    >>> x, other_x = Value(1.0, label="x"), Value(2.0, label="x")
    >>> sorted(node_names(reverse_topological_order(x * other_x)).values())
    ['n0', 'x', 'x#2']
    """
    for i, node in enumerate(order):
        if type(node.label) is not str:  # Value() checks it, but .label may be set later
            raise TypeError(
                f"node n{i} ({node!r}) has label {node.label!r:.60} of type "
                f"{type(node.label).__name__}; a label must be a str"
            )
    names = {node: f"n{i}" for i, node in enumerate(order) if not node.label}
    taken = set(names.values())
    for node in reversed(order):  # the first in forward_order keeps its label
        if node.label:
            name = node.label
            suffix = 2
            while name in taken:
                name = f"{node.label}#{suffix}"
                suffix += 1
            names[node] = name
            taken.add(name)
    return names
