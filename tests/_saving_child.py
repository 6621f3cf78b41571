"""A child process that saves models over and over, to be killed mid-save (kill -9 tests)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

CHILD = textwrap.dedent("""
    import os, sys, time
    from autograd_tiny.nn import MLP
    models = [MLP(2, [32, 32, 1], seed=0), MLP(2, [32, 32, 1], seed=1)]
    if sys.argv[2] == "pause":  # stop inside the save: temp file written, not yet renamed
        def replace(source, target):
            print("inside", flush=True)
            time.sleep(60)
        os.replace = replace
    print("ready", flush=True)
    i = 0
    while True:
        models[i % 2].save(sys.argv[1])
        i += 1
""")


def holds_a_saved_model(path: object) -> bool:
    """Whether ``path`` loads, whole, as one of the two models the child saves."""
    from autograd_tiny.nn import MLP

    target = MLP(2, [32, 32, 1], seed=2)
    try:
        target.load(path)
    except ValueError:
        return False
    return target.state_dict() in [MLP(2, [32, 32, 1], seed=s).state_dict() for s in (0, 1)]


def kill_a_saving_child(path: object, mode: str, delay: float) -> None:
    """Start the child saving to ``path`` and SIGKILL it (no cleanup runs): after ``delay``
    seconds of saving in a loop (``mode="loop"``), or inside its first save, between
    writing the temporary file and renaming it (``mode="pause"``)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), mode], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    if mode == "pause":
        assert child.stdout.readline().strip() == "inside"
    time.sleep(delay)
    child.kill()
    child.wait()
    child.stdout.close()
