"""Single-use variables written into their one use, in the code that runs.

``inline(body, result)`` takes the lines of a generated function body and its
``return`` expression and writes each variable that is assigned once (at the
top level) and read once into the place that reads it, in parentheses. The
operations and their operands stay the same, so every result is the same to
the bit; only the stores and loads of the temporary go (a few nanoseconds each
in CPython, a tenth of a small gradient's time). Formulas are pure: moving one
later, or into an ``if`` that reads it, changes nothing but whether it runs.
An accumulated variable (``g = a`` then ``g -= b``) becomes one expression
too, ``a - b``, evaluated in the same order: written into its use if it is
read once, else one statement where its last term was.

Nothing moves across an assignment to a name it reads, and an expression
stops growing at a height of ``DEPTH`` (Python's compiler has a recursion
limit): past it the statements stay. ``.source`` shows the code before this
step, one operation per line.

>>> inline(["    v0 = x * y", "    v1 = v0 + 1.0", "    g_x = y", "    g_x -= v1"], "v1, (g_x,)")
(['    v1 = (x * y) + 1.0'], 'v1, ((y - v1),)')
"""

from __future__ import annotations

import re

__all__ = ["DEPTH", "NAME", "inline"]

# How tall one expression may grow: each inlined level and each accumulated term adds
# one. Python's compiler recurses on an expression's height, and its limit shrinks as the
# caller's stack grows: a 1,200-term sum fails 650 frames deep.
DEPTH = 12

# the variables generated code assigns
NAME = re.compile(r"\b(?:[vgkh][0-9]+|gs[0-9]+|g_[A-Za-z0-9]+)\b")
_STATEMENT = re.compile(r"( *)((?:[vgkh][0-9]+|gs[0-9]+|g_[A-Za-z0-9]+)) ([-+]?=) (.*)\Z")
_ATOM = re.compile(r"[A-Za-z0-9_.]+\Z")  # not -x: -x ** 2.0 would be -(x ** 2.0)
_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\(")


def _atomic(text: str) -> bool:
    """``text`` needs no parentheses as an operand: a name, a number, or one call or
    parenthesis spanning it all."""
    if _ATOM.match(text):
        return True
    start = _CALL.match(text)
    opening = start.end() - 1 if start else 0 if text.startswith("(") else -1
    if opening < 0:
        return False
    level = 0
    for i in range(opening, len(text)):
        level += {"(": 1, ")": -1}.get(text[i], 0)
        if level == 0:
            return i == len(text) - 1
    return False


def inline(body: list[str], result: str) -> tuple[list[str], str]:
    """``body`` and ``result`` with single-use variables written into their use."""
    parsed = [
        None if " = " in line.split(" = ", 1)[-1] else _STATEMENT.match(line) for line in body
    ]  # (a chained zero, a = b = 0.0, is no plain statement)
    assigned: dict[str, list[int]] = {}  # name -> the lines that assign it
    reads: dict[str, list[int]] = {}  # name -> the lines that read it (len(body): result)
    read_in: list[list[str]] = []  # per line, the names it reads
    for i, (line, match) in enumerate(zip(body, parsed)):
        if match is None:  # an if, or a chained zero: every name in it counts as read
            parts = line.split(" = ")
            for target in parts[:-1]:
                assigned.setdefault(target.strip(), []).append(i)
            names = NAME.findall(parts[-1])
        else:
            assigned.setdefault(match.group(2), []).append(i)
            names = NAME.findall(match.group(4))
        read_in.append(names)
        for name in names:
            reads.setdefault(name, []).append(i)
    for name in NAME.findall(result):
        reads.setdefault(name, []).append(len(body))

    def stable(name: str) -> bool:
        """Every assignment of ``name`` comes before every read of it: once read, it
        never changes (arguments and constants are never assigned)."""
        lines = assigned.get(name)
        return not lines or lines[-1] < reads[name][0]

    def movable(name: str) -> bool:
        """``name`` is set by plain top-level statements (``=``, then ``+=``/``-=``) that
        all come before its reads and read only names that never change after them."""
        lines, used = assigned[name], reads.get(name)
        if not used or lines[-1] >= used[0] or (len(used) > 1 and len(lines) == 1):
            return False
        for k, i in enumerate(lines):
            m = parsed[i]
            if m is None or m.group(1) != "    " or (m.group(3) == "=") != (k == 0):
                return False
        return all(operand != name and stable(operand) for i in lines for operand in read_in[i])

    moved = {name for name in assigned if movable(name)}
    # an accumulated name read more than once is one statement, at its last assignment
    merged = {name: assigned[name][-1] for name in moved if len(reads[name]) > 1}
    text: dict[str, str] = {}  # moved name -> its expression so far
    depth: dict[str, int] = {}
    out: list[str] = []

    def substitute(line: str, level: list[int]) -> str:
        def put(match: re.Match[str]) -> str:
            name = match.group(0)
            if name not in text:
                return name
            level[0] = max(level[0], depth[name])
            expression = text.pop(name)
            return expression if _atomic(expression) else f"({expression})"

        return NAME.sub(put, line)

    for i, (line, match) in enumerate(zip(body, parsed)):
        name = match.group(2) if match is not None else None
        if name in moved and match is not None:
            level = [0]
            right = match.group(4)
            if text and any(n in text for n in read_in[i]):
                right = substitute(right, level)
            first = match.group(3) == "="
            height = level[0] + 1 if first else max(depth[name], level[0] + 1) + 1
            if height <= DEPTH:
                if first:
                    text[name] = right
                else:
                    wrapped = right if _atomic(right) else f"({right})"
                    text[name] = f"{text[name]} {match.group(3)[0]} {wrapped}"
                depth[name] = height
                if merged.get(name) == i:  # the last term: the statement, read as a name
                    out.append(f"    {name} = {text.pop(name)}")
                    moved.discard(name)
                continue
            moved.discard(name)  # too deep: the statement stays, and so do the rest
            if name in text:
                out.append(f"    {name} = {text.pop(name)}")
            out.append(f"    {name} {match.group(3)} {right}")
            continue
        if text and any(n in text for n in read_in[i]):
            line = substitute(line, [0])
        out.append(line)
    return out, substitute(result, [0])
