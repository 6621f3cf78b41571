"""Model files: a ``Module``'s JSON document, written and read by ``save`` and ``load``.

A file holds the format name, its version, the model's class and config, and its
state dict; ``save`` writes it atomically (never pickle) and ``load`` refuses any bad
file with one ``ValueError`` before a parameter changes. ``check_like`` also checks
the state dicts given to ``load_state_dict``. Works on any object with ``nn.Module``'s
methods (``_config``, ``state_dict``, ``load_state_dict``); imports only ``_atomic``
and ``_checks``, as ``nn`` imports this module.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from ._atomic import read_regular, write_atomic
from ._checks import is_number

__all__ = ["FORMAT", "MAX_FILE_BYTES", "VERSION", "check_like", "load", "save"]

FORMAT = "autograd_tiny.state_dict"
VERSION = 1
MAX_FILE_BYTES = 64 * 2**20


def check_like(expected: Any, got: Any, where: str) -> None:
    """Raise ValueError unless ``got`` has the shape of ``expected`` with finite numbers."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise ValueError(f"{where}: expected an object, got {type(got).__name__}")
        if list(got) != list(expected):
            raise ValueError(f"{where}: expected keys {list(expected)}, got {list(got)}")
        for key in expected:
            check_like(expected[key], got[key], f"{where}.{key}")
    elif isinstance(expected, list):
        if not isinstance(got, list):
            raise ValueError(f"{where}: expected a list, got {type(got).__name__}")
        if len(got) != len(expected):
            raise ValueError(f"{where}: expected {len(expected)} entries, got {len(got)}")
        for i, (want, item) in enumerate(zip(expected, got)):
            check_like(want, item, f"{where}[{i}]")
    elif not is_number(got):
        raise ValueError(f"{where}: expected a number, got {type(got).__name__} {got!r:.40}")
    elif isinstance(got, int) and not _fits_a_float(got):
        raise ValueError(
            f"{where}: expected a finite number, got an integer too large for a "
            f"float ({got.bit_length()} bits, overflows to inf)"
        )
    elif not math.isfinite(got):
        raise ValueError(f"{where}: expected a finite number, got {got!r}")


def _fits_a_float(n: int) -> bool:
    try:
        float(n)
    except OverflowError:
        return False
    return True


def _reject_constant(token: str) -> float:
    raise ValueError(f"non-finite number token {token!r} (JSON has no NaN or Infinity)")


def _same_json(got: Any, expected: Any) -> bool:
    """Equal and of the same JSON type: ``true`` is not 1, ``2.0`` is not 2."""
    return _json_difference(expected, got, "") is None


def _json_difference(expected: Any, got: Any, where: str) -> str | None:
    """The first field where ``got`` differs from ``expected`` in type or value, or None."""
    if type(got) is not type(expected):
        return (
            f"{where}: expected {type(expected).__name__} {expected!r:.40}, got "
            f"{type(got).__name__} {got!r:.40}"
        )
    if isinstance(expected, dict):
        if set(got) != set(expected):
            return f"{where}: expected keys {list(expected)}, got {list(got)}"
        for key in expected:
            found = _json_difference(expected[key], got[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if len(got) != len(expected):
            return f"{where}: expected {len(expected)} entries, got {len(got)}"
        for i, (want, item) in enumerate(zip(expected, got)):
            found = _json_difference(want, item, f"{where}[{i}]")
            if found:
                return found
        return None
    if got != expected:
        return f"{where}: expected {expected!r:.40}, got {got!r:.40}"
    return None


def save(model: Any, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` as JSON, atomically (temp file, fsync, os.replace)."""
    path = os.fspath(path)
    document = {
        "format": FORMAT,
        "version": VERSION,
        "model": type(model).__name__,
        "config": model._config(),
        "state": model.state_dict(),
    }
    try:
        text = json.dumps(document, allow_nan=False, indent=1)
    except ValueError:
        raise ValueError(
            f"cannot save {path!r}: the model has a non-finite parameter (nan or inf)"
        ) from None
    write_atomic(path, (text + "\n").encode("utf-8"))


def load(model: Any, path: str | os.PathLike[str]) -> None:
    """Read into ``model`` the parameters ``save`` wrote; all or nothing.

    Every bad file (empty, truncated, not JSON, wrong model or shape,
    non-finite numbers) raises one ``ValueError`` naming the file and the
    problem, and leaves the parameters untouched.
    """
    path = os.fspath(path)
    raw = read_regular(path, MAX_FILE_BYTES)  # a FIFO or device: refused, never read
    try:
        if len(raw) > MAX_FILE_BYTES:
            raise ValueError(f"larger than {MAX_FILE_BYTES} bytes")
        if not raw.strip():
            raise ValueError("the file is empty")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("not UTF-8 text (a binary or pickle file?)") from None
        try:
            document = json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            raise ValueError(f"not valid JSON (truncated?): {error}") from None
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        _load_document(model, document)
    except ValueError as error:
        raise ValueError(f"cannot load {path!r}: {error}") from None


def _load_document(model: Any, document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f'not an autograd_tiny model file (no "format": {FORMAT!r})')
    version = document.get("version")
    if not _same_json(version, VERSION):
        raise ValueError(
            f"version: unsupported version {type(version).__name__} "
            f"{version!r:.40} (this library reads {VERSION})"
        )
    kind = type(model).__name__
    if not _same_json(document.get("model"), kind):
        raise ValueError(
            f"model: the file holds {document.get('model')!r:.40}, this model is {kind}"
        )
    problem = _json_difference(model._config(), document.get("config"), "config")
    if problem:
        raise ValueError(
            f"{problem}; the file holds {kind} with config "
            f"{document.get('config')!r:.200}, this model has config "
            f"{model._config()!r}"
        )
    model.load_state_dict(document.get("state"), where="state")
