"""W6, exact gradients in scripts: one gradient of a small scalar function per call.

Rosenbrock in 2 variables, the README's tanh neuron (5 variables), a 30-step chain
v = sin(0.9 v) + 0.1 v and the 2x2 Hessian of Rosenbrock, each called with plain
floats, on every engine that imports here:

- autograd_tiny compiled: ``compile(f).value_and_grad``; for the Hessian
  ``compile(hessian(f))`` and its rows ``compile(grad(f, argnums=i)).value_and_grad``
  (one call per row), printed as skipped with the reason where compile raises (a
  TraceError before the compiler rewrite); the Hessian targets take the faster form;
- autograd_tiny eager: ``grad``, ``value_and_grad``, ``hessian``;
- HIPS autograd: ``grad``; ``hessian`` of f on a 2-vector;
- JAX on the CPU in float64: ``jit(grad)``, ``jit(hessian)``, compiled before timing,
  each call waited for with ``block_until_ready``;
- torch: ``torch.autograd.grad`` on float64 scalar tensors made from the floats at each
  call (the Hessian: a second ``grad`` of each first derivative);
- the closed form written by hand (value and gradient): the practical limit.

Every engine's answers are checked against the closed form (1e-12, relative above 1)
before anything is timed; the engines then take turns rep by rep, so that all ratios
come from one run. An engine that cannot be imported is skipped with its reason.
Results stay as each engine gives them (JAX and torch arrays and tensors, not floats:
``float()`` on a JAX array costs more than the call), so no engine pays for conversion.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from itertools import repeat
from typing import Any, Callable, Optional

import workloads as W

import autograd_tiny as at
from autograd_tiny import compile as compile_function
from autograd_tiny import grad, hessian, value_and_grad

TOLERANCE = 1e-12
BATCH_SECONDS = 0.004  # each timed batch repeats one call for about this long

HAND = "closed form by hand"
HAND_ROWS = "closed form by hand, as a list of rows"
COMPILED = "autograd_tiny compiled value_and_grad"
COMPILED_HESSIAN = "autograd_tiny compile(hessian(f))"
COMPILED_ROWS = "autograd_tiny compile(grad(f, argnums=i)) rows"
COMPILED_ENTRY = "  its generated entry, called as a function"  # context: no class dispatch
EAGER_GRAD = "autograd_tiny eager grad"
EAGER_VG = "autograd_tiny eager value_and_grad"
EAGER_HESSIAN = "autograd_tiny eager hessian"
HIPS = "HIPS autograd grad"
HIPS_HESSIAN = "HIPS autograd hessian"
JAX = "JAX jit(grad)"
JAX_HESSIAN = "JAX jit(hessian)"
TORCH = "torch.autograd.grad"
TORCH_HESSIAN = "torch.autograd.grad, twice"

# name -> label, arguments (every one differentiated)
FUNCTIONS: dict[str, tuple[str, tuple[float, ...]]] = {
    "rosenbrock": ("Rosenbrock, 2 variables", (0.5, 1.5)),
    "neuron": ("tanh neuron of the README, 5 variables", W.NEURON_ARGS),
    "chain": (f"{W.CHAIN_STEPS}-step v = sin(0.9 v) + 0.1 v", (0.5,)),
    "hessian": ("2x2 Hessian of Rosenbrock", (0.5, 1.5)),
}


def make(name: str, ops: Any) -> Callable[..., Any]:
    """The W6 function ``name`` on the engine whose tanh and sin live in ``ops``."""
    if name in ("rosenbrock", "hessian"):
        return W.rosenbrock
    return W.make_neuron(ops) if name == "neuron" else W.make_chain(ops)


BY_HAND: dict[str, Callable[..., Any]] = {
    "rosenbrock": W.rosenbrock_by_hand,
    "neuron": W.neuron_by_hand,
    "chain": W.chain_by_hand,
    "hessian": W.rosenbrock_hessian_by_hand,
}


def flat(result: Any) -> list[float]:
    """Numbers, arrays, tensors and nested sequences of them -> a flat list of floats."""
    try:
        return [float(result)]
    except TypeError:
        return [x for part in result for x in flat(part)]


# An engine's case: the call to time, and how to read (value or None, derivatives) from
# its result for the agreement check.
Case = tuple[Callable[..., Any], Callable[[Any], tuple[Optional[float], list[float]]]]


def gradient_only(result: Any) -> tuple[float | None, list[float]]:
    return None, flat(result)


def with_value(result: Any) -> tuple[float | None, list[float]]:
    return float(result[0]), flat(result[1])


# --------------------------------------------------------------------------
# The engines: each returns {case name: case, or a function that makes the case} for
# one function, or raises ImportError (then the whole engine is skipped).
# --------------------------------------------------------------------------


def reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def short(why: str, width: int = 60) -> str:
    return why if len(why) <= width else why[: width - 3].rstrip() + "..."


def hand_cases(name: str, argnums: tuple[int, ...]) -> dict[str, Case]:
    if name == "hessian":  # also as hessian returns it, for the report's context line
        return {
            HAND: (BY_HAND[name], gradient_only),
            HAND_ROWS: (W.rosenbrock_hessian_by_hand_as_rows, gradient_only),
        }
    return {HAND: (BY_HAND[name], with_value)}


def autograd_tiny_cases(name: str, argnums: tuple[int, ...]) -> dict[str, Any]:
    f = make(name, at)
    if name == "hessian":

        def compiled_hessian() -> Case:
            return compile_function(hessian(f, argnums=argnums)), gradient_only

        def compiled_rows() -> Case:
            compiled = [compile_function(grad(f, argnums=i)) for i in argnums]
            for row in compiled:
                row.value_and_grad(*FUNCTIONS[name][1])  # then it is the generated entry
            rows = [row.value_and_grad for row in compiled]

            def hessian_rows(*args: float) -> list[Any]:
                return [row(*args)[1] for row in rows]

            return hessian_rows, gradient_only

        def compiled_entry() -> Case:
            # What h(...) runs, called without the instance's dispatch (type(h).__call__):
            # the cost of a compiled function being an object with a __call__.
            compiled = compile_function(hessian(f, argnums=argnums))
            compiled(*FUNCTIONS[name][1])
            entry = type(compiled).__call__
            if entry is type(compiled).__bases__[0].__call__:
                raise RuntimeError("this compiled function has no entry point")
            return entry, gradient_only

        # built lazily: they may raise TraceError at their first call, caught there
        return {
            COMPILED_HESSIAN: compiled_hessian,
            COMPILED_ENTRY: compiled_entry,
            COMPILED_ROWS: compiled_rows,
            EAGER_HESSIAN: (hessian(f, argnums=argnums), gradient_only),
        }

    def compiled() -> Case:
        # After its first call cf.value_and_grad is the generated function itself: take
        # it then, as a script calling cf.value_and_grad(...) each time gets it.
        cf = compile_function(f)
        cf.value_and_grad(*FUNCTIONS[name][1])
        return cf.value_and_grad, with_value

    return {
        COMPILED: compiled,
        EAGER_GRAD: (grad(f, argnums=argnums), gradient_only),
        EAGER_VG: (value_and_grad(f, argnums=argnums), with_value),
    }


def hips_cases(name: str, argnums: tuple[int, ...]) -> dict[str, Case]:
    import autograd
    import autograd.numpy as anp

    f = make(name, anp)
    if name == "hessian":
        on_vector = autograd.hessian(lambda v: f(*v))

        def hips_hessian(*args: float) -> Any:
            return on_vector(anp.array(args))

        return {HIPS_HESSIAN: (hips_hessian, gradient_only)}
    return {HIPS: (autograd.grad(f, argnums), gradient_only)}


def jax_cases(name: str, argnums: tuple[int, ...]) -> dict[str, Case]:
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    block_until_ready = jax.block_until_ready
    f = make(name, jnp)
    if name == "hessian":
        jitted = jax.jit(jax.hessian(f, argnums=argnums))

        def jax_hessian(*args: float) -> Any:
            return block_until_ready(jitted(*args))

        return {JAX_HESSIAN: (jax_hessian, gradient_only)}
    jitted = jax.jit(jax.grad(f, argnums=argnums))

    def jax_grad(*args: float) -> Any:
        return block_until_ready(jitted(*args))

    return {JAX: (jax_grad, gradient_only)}


def torch_cases(name: str, argnums: tuple[int, ...]) -> dict[str, Case]:
    import torch

    f = make(name, torch)
    tensor, float64, autograd_grad = torch.tensor, torch.float64, torch.autograd.grad
    if name == "hessian":

        def torch_hessian(*args: float) -> list[Any]:
            xs = [tensor(a, dtype=float64, requires_grad=True) for a in args]
            gs = autograd_grad(f(*xs), xs, create_graph=True)
            return [autograd_grad(g, xs, retain_graph=True) for g in gs]

        return {TORCH_HESSIAN: (torch_hessian, gradient_only)}

    def torch_grad(*args: float) -> Any:
        xs = [tensor(a, dtype=float64, requires_grad=True) for a in args]
        return autograd_grad(f(*xs), xs)

    return {TORCH: (torch_grad, gradient_only)}


ENGINES: dict[str, Callable[[str, tuple[int, ...]], dict[str, Any]]] = {
    "hand": hand_cases,
    "autograd_tiny": autograd_tiny_cases,
    "HIPS autograd": hips_cases,
    "JAX": jax_cases,
    "torch": torch_cases,
}


def per_call(fn: Callable[..., Any], args: tuple[float, ...], number: int) -> float:
    start = time.perf_counter()
    for _ in repeat(None, number):
        fn(*args)
    return (time.perf_counter() - start) / number


def run(results: dict[str, Any], reps: int = 21) -> None:
    engines_skipped: dict[str, str] = {}
    functions: dict[str, Any] = {}
    worst = 0.0
    for fname, (label, args) in FUNCTIONS.items():
        argnums = tuple(range(len(args)))
        cases: dict[str, Case] = {}
        skipped: dict[str, str] = {}
        first_call: dict[str, float] = {}
        expected = BY_HAND[fname](*args)
        if fname == "hessian":
            ref_value, ref = None, flat(expected)
        else:
            ref_value, ref = float(expected[0]), flat(expected[1])
        for engine, build in ENGINES.items():
            if engine in engines_skipped:
                continue
            try:
                built = build(fname, argnums)
            except ImportError as error:
                engines_skipped[engine] = reason(error)
                continue
            for case, made in built.items():
                try:
                    start = time.perf_counter()
                    fn, read = made() if callable(made) else made
                    result = fn(*args)  # the first call traces and compiles (JAX, compile)
                    first_call[case] = time.perf_counter() - start
                    cases[case] = fn, read
                except Exception as error:  # a guarded form the compiler cannot do yet
                    if case not in (COMPILED_HESSIAN, COMPILED_ROWS, COMPILED_ENTRY):
                        raise
                    skipped[case] = reason(error)
                    continue
                # -- agreement, before any timing -----------------------------------
                value, derivatives = read(result)
                if len(derivatives) != len(ref):
                    sys.exit(
                        f"W6 {fname}: {case} gives {len(derivatives)} derivatives, "
                        f"the closed form {len(ref)}"
                    )
                pairs = list(zip(derivatives, ref))
                if value is not None and ref_value is not None:
                    pairs.append((value, ref_value))
                for a, b in pairs:
                    difference = abs(a - b) / max(1.0, abs(b))
                    worst = max(worst, difference)
                    if not difference <= TOLERANCE:
                        sys.exit(
                            f"W6 {fname}: {case} gives {a!r} where the closed form "
                            f"gives {b!r} (> {TOLERANCE})"
                        )

        # -- timing: the engines take turns -------------------------------------
        number = {}
        for case, (fn, _) in cases.items():
            once = min(per_call(fn, args, 1) for _ in range(3))
            number[case] = max(1, int(BATCH_SECONDS / max(once, 1e-7)))
        times: dict[str, list[float]] = {case: [] for case in cases}
        order = list(cases)
        for rep in range(reps):
            turn = rep % len(order)
            for case in order[turn:] + order[:turn]:
                fn, _ = cases[case]
                times[case].append(per_call(fn, args, number[case]))
            gc.collect()
        functions[fname] = {
            "label": label,
            "arguments": list(args),
            "median_seconds": {case: statistics.median(t) for case, t in times.items()},
            "min_seconds": {case: min(t) for case, t in times.items()},  # to judge the noise
            "first_call_seconds": first_call,
            "calls_per_batch": number,
            "skipped": skipped,
        }
    results["w6"] = {
        "reps": reps,
        "max_relative_difference": worst,
        "engines_skipped": engines_skipped,
        "functions": functions,
    }


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------


def compiled_case(row: dict[str, Any]) -> str | None:
    """The compiled row of a function: for the Hessian, the fastest form that runs."""
    medians = row["median_seconds"]
    if COMPILED in medians:
        return COMPILED
    forms = [case for case in (COMPILED_HESSIAN, COMPILED_ROWS) if case in medians]
    return min(forms, key=lambda case: medians[case]) if forms else None


def jax_case(fname: str) -> str:
    return JAX_HESSIAN if fname == "hessian" else JAX


def report(results: dict[str, Any]) -> list[tuple[str, bool | None]]:
    r6 = results["w6"]
    functions = r6["functions"]
    print(
        f"W6: exact gradients in scripts, one call with plain floats; median us per call of "
        f"{r6['reps']} reps, engines taking turns in one run; all agree with the closed "
        f"form to {r6['max_relative_difference']:.1e} (relative above 1)"
    )
    for engine, why in r6["engines_skipped"].items():
        print(f"    {engine}: skipped: {why}")
    print(f"    {'function':28s}{'engine':48s}{'us/call':>10s}{'/ hand':>9s}{'/ JAX':>9s}")
    for fname, row in functions.items():
        medians = row["median_seconds"]
        hand = medians[HAND]
        jax = medians.get(jax_case(fname))
        label = fname
        for case, seconds in medians.items():
            vs_jax = f"{seconds / jax:8.3f}x" if jax else f"{'':9s}"
            print(f"    {label:28s}{case:48s}{seconds * 1e6:10.2f}{seconds / hand:8.2f}x{vs_jax}")
            label = ""
        for case, why in row["skipped"].items():
            print(f"    {label:28s}{case:48s} skipped: {short(why, 90)}")
            label = ""
    print(
        "    (/ hand: time over the closed form's; / JAX: time over JAX jit(grad)'s, "
        "jit(hessian)'s for the Hessian)"
    )
    print("    functions: " + "; ".join(f"{k} = {v['label']}" for k, v in functions.items()))
    hessian_row = functions.get("hessian", {})
    compiled = compiled_case(hessian_row) if hessian_row else None
    if compiled and HAND_ROWS in hessian_row["median_seconds"]:
        medians = hessian_row["median_seconds"]
        ratio = medians[compiled] / medians[HAND_ROWS]
        print(
            f"    the Hessian as hessian() returns it, a list of rows (three lists where the "
            f"closed form builds three tuples): compiled {ratio:.2f}x the closed form "
            f"written so (not a target)"
        )
    firsts = []
    for fname, row in functions.items():
        for case in (compiled_case(row), jax_case(fname)):
            if case and case in row["first_call_seconds"]:
                ms = row["first_call_seconds"][case] * 1e3
                firsts.append(f"{fname} {case.split(' ')[0]} {ms:.0f}")
    print("    first call (trace and compile), ms: " + ", ".join(firsts))
    spread = max(
        row["median_seconds"][case] / row["min_seconds"][case]
        for row in functions.values()
        for case in row["median_seconds"]
    )
    if spread > 1.5:
        print(
            f"    note: the machine was busy (a median up to {spread:.1f}x its fastest rep): "
            f"these ratios are unsure, run again on a quiet machine"
        )
    return checks(results)


def checks(results: dict[str, Any]) -> list[tuple[str, bool | None]]:
    """W6's targets, each with its figures; None where an engine needed was skipped."""
    functions = results["w6"]["functions"]
    out: list[tuple[str, bool | None]] = []

    def compiled_time(fname: str) -> tuple[float | None, str]:
        row = functions[fname]
        case = compiled_case(row)
        if case is None:
            why = ", ".join(sorted({w.split(":")[0] for w in row["skipped"].values()}))
            return None, f"compiled skipped: {why or 'not run'}"
        return row["median_seconds"][case], ""

    # compiled within 1.3x of the closed form, on each function
    for fname, row in functions.items():
        seconds, why = compiled_time(fname)
        if seconds is None:
            out.append((f"W6 compiled within 1.3x of the closed form on {fname} ({why})", False))
            continue
        ratio = seconds / row["median_seconds"][HAND]
        form = "" if fname != "hessian" else f", {compiled_case(row)}"
        out.append(
            (
                f"W6 compiled within 1.3x of the closed form on {fname} (now {ratio:.2f}x{form})",
                ratio <= 1.3,
            )
        )

    # compiled against JAX
    jax_skipped = results["w6"]["engines_skipped"].get("JAX")
    figures, faster = [], {}
    for fname, row in functions.items():
        seconds, why = compiled_time(fname)
        jax = row["median_seconds"].get(jax_case(fname))
        if seconds is None or jax is None:
            figures.append(f"{fname}: {why or 'JAX skipped'}")
            continue
        faster[fname] = jax / seconds
        figures.append(f"{fname} {jax / seconds:.1f}x")
    ok: bool | None = None
    if not jax_skipped:
        ok = len(faster) == len(functions) and all(r > 1 for r in faster.values())
    out.append(
        (
            "W6 compiled faster than JAX jit(grad) / jit(hessian) on every function ("
            + ", ".join(figures)
            + ")",
            ok,
        )
    )
    smallest = ("rosenbrock", "neuron")
    if all(f in faster for f in smallest):
        out.append(
            (
                "W6 compiled >= 10x faster than JAX jit(grad) on the two smallest ("
                + ", ".join(f"{f} {faster[f]:.1f}x" for f in smallest)
                + ")",
                all(faster[f] >= 10 for f in smallest),
            )
        )
    else:
        out.append(
            (
                "W6 compiled >= 10x faster than JAX jit(grad) on the two smallest "
                "(not measured: an engine was skipped)",
                None,
            )
        )
    if "hessian" in faster:
        form = compiled_case(functions["hessian"])
        out.append(
            (
                f"W6 compiled Hessian >= 5x faster than JAX jit(hessian) "
                f"(now {faster['hessian']:.1f}x, {form})",
                faster["hessian"] >= 5,
            )
        )
    else:
        seconds, why = compiled_time("hessian")
        out.append(
            (
                "W6 compiled Hessian >= 5x faster than JAX jit(hessian) ("
                + (why or "JAX skipped")
                + ")",
                False if seconds is None else None,
            )
        )

    # eager grad against HIPS autograd
    figures, ok = [], True
    for fname, row in functions.items():
        if fname == "hessian":
            continue
        medians = row["median_seconds"]
        if HIPS not in medians:
            figures, ok = ["HIPS autograd skipped"], None
            break
        ratio = medians[HIPS] / medians[EAGER_GRAD]
        figures.append(f"{fname} {ratio:.1f}x")
        ok = ok and ratio >= 10
    out.append(
        ("W6 eager grad >= 10x faster than HIPS autograd grad (" + ", ".join(figures) + ")", ok)
    )
    return out
