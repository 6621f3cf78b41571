"""Benchmark: autograd_tiny (eager and compiled) against micrograd 0.1.0 and hand-written floats.

Run by ``make bench``. Every engine runs in this one process on the same
seeded inputs, and the engines take turns rep by rep, so that the ratios are
taken in one run (absolute times drift up to 1.7x between runs on shared
machines; ratios much less). Losses and gradients are checked to agree
(1e-9; W6 1e-12) before anything is timed. Prints a table of medians and ratios
and its targets, and writes JSON (``bench/results.json`` or the path given as the
first argument). W6, exact gradients in scripts against HIPS autograd, JAX and
torch, lives in ``w6.py``. ``python bench/run.py --only w6`` runs one workload
(or a comma-separated few) and writes ``bench/results-w6.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc
from typing import Any, Callable, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import workloads as W

from autograd_tiny import Value
from autograd_tiny import compile as compile_function

try:
    from micrograd.engine import Value as MicroValue
except ImportError:  # pragma: no cover - the bench extra installs it
    sys.exit("micrograd is missing: run `make bench` (it installs micrograd==0.1.0)")

TOLERANCE = 1e-9
MiB = 1024 * 1024


def machine() -> str:
    model = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()} "
        f"({platform.python_implementation()}), {platform.system()}"
    )


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class GcClock:
    """Total time spent in the cyclic garbage collector while installed."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = 0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start
            self.collections += 1


# --------------------------------------------------------------------------
# W1: one SGD step of micrograd's demo
# --------------------------------------------------------------------------


def w1(results: dict[str, Any]) -> None:
    X, Y = W.moons(100, noise=0.1, seed=0)
    rows = [(x0, x1, y) for (x0, x1), y in zip(X, Y)]
    flat = W.init_params(seed=1)

    # -- agreement, before any timing ---------------------------------------
    losses: dict[str, float] = {}
    grads: dict[str, list[float]] = {}
    for name, cls in (("micrograd", MicroValue), ("eager", Value)):
        params = [cls(p) for p in flat]
        loss = W.total_loss(params, X, Y)
        loss.backward()
        losses[name], grads[name] = float(loss.data), [float(p.grad) for p in params]
        del loss, params
    weights, biases = W.hand_split(flat)
    loss_h, gw, gb = W.hand_loss_and_grad(weights, biases, X, Y)
    losses["hand"], grads["hand"] = loss_h, W.hand_join(gw, gb)

    start = time.perf_counter()
    per_sample = compile_function(W.sample_loss)
    per_sample.value_and_grad(*flat, *rows[0])
    compile_seconds = time.perf_counter() - start
    regulariser = compile_function(W.regulariser)
    regulariser.value_and_grad(*flat)
    start = time.perf_counter()
    per_sample.value_and_grad_batch(flat, rows[:1])
    batch_compile_seconds = time.perf_counter() - start
    losses["compiled"], grads["compiled"] = W.compiled_loss_and_grad(
        per_sample, regulariser, flat, X, Y
    )
    losses["batched"], grads["batched"] = W.batched_loss_and_grad(
        per_sample, regulariser, flat, rows
    )
    worst = 0.0
    for name in losses:
        worst = max(
            worst,
            abs(losses[name] - losses["eager"]),
            max(abs(a - b) for a, b in zip(grads[name], grads["eager"])),
        )
    if worst > TOLERANCE:
        sys.exit(f"W1: engines disagree by {worst:.3g} (> {TOLERANCE}): {losses}")
    results["w1_check"] = {
        "max_abs_difference": worst,
        "loss": losses["eager"],
        "parameters": len(flat),
    }

    # -- timing: the engines take turns ----------------------------------------
    def engine(cls: Any, gc_on: bool) -> Callable[[], float]:
        # Two steps back to back, as in a training loop, and the second one is
        # timed: with the gc on, it also pays for collecting what the first left
        # behind, as users' steps do. Leftovers are collected outside the timing,
        # so that no engine pays for another's garbage.
        def run() -> float:
            params = [cls(p) for p in flat]
            if not gc_on:
                gc.disable()
            try:
                W.engine_step(params, X, Y)
                return timed(lambda: W.engine_step(params, X, Y))
            finally:
                gc.enable()
                gc.collect()

        return run

    def hand() -> float:
        weights, biases = W.hand_split(flat)
        return timed(lambda: W.hand_step(weights, biases, X, Y))

    def compiled() -> float:
        params = list(flat)
        return timed(
            lambda: W.sgd(
                params, W.compiled_loss_and_grad(per_sample, regulariser, params, X, Y)[1]
            )
        )

    def batched() -> float:
        params = list(flat)
        return timed(
            lambda: W.sgd(params, W.batched_loss_and_grad(per_sample, regulariser, params, rows)[1])
        )

    slow = {
        "micrograd (gc on)": engine(MicroValue, True),
        "micrograd (gc off)": engine(MicroValue, False),
        "autograd_tiny eager (gc on)": engine(Value, True),
        "autograd_tiny eager (gc off)": engine(Value, False),
    }
    fast = {
        "hand-written floats": hand,
        "compiled, per sample": compiled,
        "compiled, batched": batched,
    }
    times: dict[str, list[float]] = {name: [] for name in [*slow, *fast]}
    for run in [*slow.values(), *fast.values()]:
        run()  # warm-up
    for _ in range(results["w1_reps"]):
        for name, run in slow.items():
            times[name].append(run())
        for _ in range(5):
            for name, run in fast.items():
                times[name].append(run())
    medians = {name: statistics.median(t) for name, t in times.items()}

    # how much of a step (gc on) the cyclic garbage collector takes
    def gc_cost(cls: Any) -> tuple[float, float]:
        seconds = passes = 0.0
        for _ in range(3):
            params = [cls(p) for p in flat]
            W.engine_step(params, X, Y)
            clock = GcClock()
            gc.callbacks.append(clock)
            try:
                W.engine_step(params, X, Y)
            finally:
                gc.callbacks.remove(clock)
            seconds += clock.seconds / 3
            passes += clock.collections / 3
            del params
            gc.collect()
        return seconds, passes

    eager_gc, eager_passes = gc_cost(Value)
    micro_gc, _ = gc_cost(MicroValue)

    results["w1"] = {
        "median_seconds": medians,
        "compile_seconds": compile_seconds,
        "batch_compile_seconds": batch_compile_seconds,
        "eager_gc_seconds_per_step": eager_gc,
        "eager_gc_collections_per_step": eager_passes,
        "eager_gc_share": eager_gc / medians["autograd_tiny eager (gc on)"],
        "micrograd_gc_share": micro_gc / medians["micrograd (gc on)"],
    }


# --------------------------------------------------------------------------
# W2: a deep chain
# --------------------------------------------------------------------------


def chain(cls: Any, depth: int) -> tuple[Any, Any]:
    x = cls(1.0)
    y = x
    for _ in range(depth):
        y = y * 1.0001 + 0.5
    return x, y


def w2(results: dict[str, Any]) -> None:
    rows = {}
    for depth in (1_000, 10_000, 100_000, 1_000_000):
        start = time.perf_counter()
        x, y = chain(Value, depth)
        y.backward()
        seconds = time.perf_counter() - start
        expected = 1.0001**depth
        ok = abs(x.grad - expected) <= 1e-9 * expected
        del x, y
        gc.collect()
        micro = "RecursionError"
        if depth <= 1_000:
            mx, my = chain(MicroValue, depth)
            try:
                start = time.perf_counter()
                my.backward()
                micro = f"{time.perf_counter() - start:.3f} s"
            except RecursionError:
                pass
            del mx, my
        rows[depth] = {
            "autograd_tiny_seconds": seconds,
            "autograd_tiny_correct": ok,
            "micrograd": micro,
        }
    # the deepest chain micrograd survives at the default recursion limit
    low, high = 1, 1_000
    while low < high:
        mid = (low + high + 1) // 2
        mx, my = chain(MicroValue, mid)
        try:
            my.backward()
            low = mid
        except RecursionError:
            high = mid - 1
        del mx, my
    results["w2"] = {
        "depths": rows,
        "micrograd_max_depth": low,
        "recursion_limit": sys.getrecursionlimit(),
    }


# --------------------------------------------------------------------------
# W3: a balanced sum of 200,000 products
# --------------------------------------------------------------------------


def balanced_sum(cls: Any, n: int) -> tuple[Any, list[Any]]:
    leaves = [cls(0.001 * (i % 997)) for i in range(2 * n)]
    level = [leaves[2 * i] * leaves[2 * i + 1] for i in range(n)]
    while len(level) > 1:
        pairs = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            pairs.append(level[-1])
        level = pairs
    return level[0], leaves


def w3(results: dict[str, Any], n: int = 200_000) -> None:
    nodes = 2 * n + n + (n - 1)
    out: dict[str, Any] = {"products": n, "nodes": nodes}
    for name, cls in (("autograd_tiny", Value), ("micrograd", MicroValue)):
        gc.collect()
        start = time.perf_counter()
        root, leaves = balanced_sum(cls, n)
        root.backward()
        seconds = time.perf_counter() - start
        ok = abs(leaves[0].grad - float(leaves[1].data)) < 1e-12
        del root, leaves
        gc.collect()
        tracemalloc.start()
        root, leaves = balanced_sum(cls, n)
        graph_bytes = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        root.backward()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        del root, leaves
        gc.collect()
        out[name] = {
            "ns_per_node": seconds / nodes * 1e9,
            "graph_bytes_per_node": graph_bytes / nodes,
            "peak_bytes_per_node": peak / nodes,
            "correct": ok,
        }
    results["w3"] = out


# --------------------------------------------------------------------------
# W4: memory growth per W1 step with the gc disabled
# --------------------------------------------------------------------------


def w4(results: dict[str, Any], steps: int = 5) -> None:
    X, Y = W.moons(100, noise=0.1, seed=0)
    flat = W.init_params(seed=1)
    out = {}
    for name, cls in (("micrograd", MicroValue), ("autograd_tiny eager", Value)):
        params = [cls(p) for p in flat]
        gc.collect()
        gc.disable()
        tracemalloc.start()
        try:
            sizes = []
            for _ in range(steps):
                W.engine_step(params, X, Y)
                sizes.append(tracemalloc.get_traced_memory()[0])
        finally:
            tracemalloc.stop()
            gc.enable()
            del params
            gc.collect()
        out[name] = {
            "growth_mib_per_step": (sizes[-1] - sizes[0]) / (steps - 1) / MiB,
            "after_first_step_mib": sizes[0] / MiB,
        }
    results["w4"] = out


# --------------------------------------------------------------------------
# W5: fit, compiled replay against eager steps
# --------------------------------------------------------------------------


def w5(results: dict[str, Any], epochs: int = 20, reps: int = 3) -> None:
    """fit() on 200 moons points, MLP 2-16-16-1, its defaults: seconds per epoch
    (the compiled run includes its one-off trace and code generation)."""
    from autograd_tiny import MLP, fit
    from autograd_tiny.data import moons

    X, y = moons(200, noise=0.1, seed=0)

    def run(compiled: bool) -> tuple[float, list[float]]:
        model = MLP(2, [16, 16, 1], seed=0)
        start = time.perf_counter()
        history = fit(model, X, y, epochs=epochs, seed=0, compile=compiled, progress=False)
        return (time.perf_counter() - start) / epochs, history.loss

    times: dict[str, list[float]] = {"compiled": [], "eager": []}
    losses = {}
    for _ in range(reps):
        for name in times:
            seconds, losses[name] = run(name == "compiled")
            times[name].append(seconds)
    worst = max(abs(a - b) for a, b in zip(losses["compiled"], losses["eager"]))
    results["w5"] = {
        "epochs": epochs,
        "max_loss_difference": worst,
        "seconds_per_epoch": {k: statistics.median(v) for k, v in times.items()},
    }


# --------------------------------------------------------------------------
# W6: exact gradients in scripts (bench/w6.py), and eager grad on plain numbers
# against the grad before it
# --------------------------------------------------------------------------


def w6(results: dict[str, Any]) -> None:
    import w6 as W6

    W6.run(results)
    grad_before(results)


def grad_before(results: dict[str, Any], reps: int = 15) -> None:
    """First-order ``grad`` on plain numbers (floats out): today's transform, which gives
    every call fresh variables and checks what the function closes over, against the
    previous algorithm (``workloads.grad_before``). Same answers, taking turns."""
    from autograd_tiny import grad

    params = W.init_params()
    cases = {
        "rosenbrock (2 arguments)": (W.rosenbrock, (0.5, 1.5), 2000),
        "tanh sum (50 arguments)": (W.tanh_sum, tuple(0.1 * i for i in range(50)), 100),
        "W1 per-sample loss (340 arguments)": (W.sample_loss, (*params, 0.3, -0.2, 1.0), 20),
    }
    rows = {}
    for name, (f, args, number) in cases.items():
        argnums = tuple(range(len(args)))
        now, before = grad(f, argnums=argnums), W.grad_before(f, argnums)
        if now(*args) != before(*args):
            sys.exit(f"W6 {name}: grad and the previous grad disagree")
        times: dict[str, list[float]] = {"now": [], "before": []}
        for rep in range(reps):  # taking turns, each first in every other rep
            for key, fn in (("before", before), ("now", now))[:: 1 if rep % 2 else -1]:
                start = time.perf_counter()
                for _ in range(number):
                    fn(*args)
                times[key].append((time.perf_counter() - start) / number)
        rows[name] = {key: statistics.median(v) for key, v in times.items()}
    results["w6_grad_before"] = rows


# --------------------------------------------------------------------------
# Report: each workload prints its part and returns its targets (None: not measured)
# --------------------------------------------------------------------------

Checks = list[tuple[str, Optional[bool]]]


def report_w1(results: dict[str, Any]) -> Checks:
    r1 = results["w1"]
    m = r1["median_seconds"]
    mg_on, mg_off = m["micrograd (gc on)"], m["micrograd (gc off)"]
    hand = m["hand-written floats"]
    print(
        f"W1: one SGD step, MLP 2-16-16-1 on 100 moons, SVM loss "
        f"(~65,000 nodes); medians of {results['w1_reps']} reps (fast engines 5x more), "
        f"engines taking turns in one run"
    )
    worst = results["w1_check"]["max_abs_difference"]
    print(f"    all engines agree: max |difference| {worst:.1e}")
    print(
        f"    {'engine':32s}{'median':>11s}{'vs micrograd':>15s}{'vs mg gc off':>15s}"
        f"{'vs hand':>10s}"
    )
    for name, seconds in m.items():
        print(
            f"    {name:32s}{seconds * 1e3:9.2f} ms{mg_on / seconds:14.1f}x"
            f"{mg_off / seconds:14.2f}x{seconds / hand:9.2f}x"
        )
    print(
        "    (vs micrograd: how many times faster than micrograd with gc on; vs hand: "
        "time / hand-written time)"
    )
    print(
        f"    eager gc on: {r1['eager_gc_seconds_per_step'] * 1e3:.1f} ms per step "
        f"({r1['eager_gc_share']:.0%}) in {r1['eager_gc_collections_per_step']:.0f} "
        f"cyclic-GC passes, though the graph has no cycles; micrograd gc on: "
        f"{r1['micrograd_gc_share']:.0%} in the GC"
    )
    print(
        f"    compile time: per-sample function {r1['compile_seconds'] * 1e3:.0f} ms "
        f"(trace + codegen), batched form {r1['batch_compile_seconds'] * 1e3:.0f} ms more"
    )
    eager_on = m["autograd_tiny eager (gc on)"]
    eager_off = m["autograd_tiny eager (gc off)"]
    return [
        ("eager W1 >= 10x faster than micrograd (gc on)", mg_on / eager_on >= 10),
        (
            "eager W1 with the gc paused (as fit() may run steps) >= 10x faster than micrograd",
            mg_on / eager_off >= 10,
        ),
        ("eager W1 (gc on) no slower than micrograd with its gc disabled", eager_on <= mg_off),
        ("eager W1 (gc off) no slower than micrograd with its gc disabled", eager_off <= mg_off),
        (
            "compiled per sample within 1.5x of hand-written",
            m["compiled, per sample"] / hand <= 1.5,
        ),
        ("compiled batched faster than hand-written", m["compiled, batched"] / hand < 1.0),
        ("compile time well under a second", r1["compile_seconds"] < 0.5),
    ]


def report_w2(results: dict[str, Any]) -> Checks:
    r2 = results["w2"]
    print("W2: chain x -> x*1.0001 + 0.5, then backward")
    for depth, row in r2["depths"].items():
        print(
            f"    depth {depth:>9,}: autograd_tiny {row['autograd_tiny_seconds']:7.3f} s "
            f"({'correct' if row['autograd_tiny_correct'] else 'WRONG'}); "
            f"micrograd {row['micrograd']}"
        )
    print(
        f"    micrograd's deepest working chain: {r2['micrograd_max_depth']} "
        f"(recursion limit {r2['recursion_limit']})"
    )
    return [("W2 depth 1,000,000 works", r2["depths"][1_000_000]["autograd_tiny_correct"])]


def report_w3(results: dict[str, Any]) -> Checks:
    r3 = results["w3"]
    print(
        f"W3: balanced sum of {r3['products']:,} products a_i*b_i ({r3['nodes']:,} nodes), "
        f"build + backward, gc on"
    )
    for name in ("autograd_tiny", "micrograd"):
        row = r3[name]
        print(
            f"    {name:14s}{row['ns_per_node']:7.0f} ns/node, graph "
            f"{row['graph_bytes_per_node']:4.0f} B/node, peak with backward "
            f"{row['peak_bytes_per_node']:4.0f} B/node"
        )
    return [
        (
            "W3 <= 300 bytes per node (peak, with backward)",
            r3["autograd_tiny"]["peak_bytes_per_node"] <= 300,
        )
    ]


def report_w4(results: dict[str, Any]) -> Checks:
    r4 = results["w4"]
    print("W4: W1 steps with the gc disabled: memory growth per step")
    for name, row in r4.items():
        print(f"    {name:22s}{row['growth_mib_per_step']:8.2f} MiB/step")
    return [
        (
            "W4 flat (< 0.1 MiB per step)",
            abs(r4["autograd_tiny eager"]["growth_mib_per_step"]) < 0.1,
        )
    ]


def report_w5(results: dict[str, Any]) -> Checks:
    r5 = results["w5"]
    per_epoch = r5["seconds_per_epoch"]
    print(
        f"W5: fit, 200 moons points, MLP 2-16-16-1, defaults, {r5['epochs']} epochs each "
        f"(losses agree to {r5['max_loss_difference']:.1e})"
    )
    print(
        f"    compiled replay {per_epoch['compiled'] * 1e3:7.1f} ms/epoch, eager steps "
        f"{per_epoch['eager'] * 1e3:7.1f} ms/epoch: "
        f"{per_epoch['eager'] / per_epoch['compiled']:.1f}x faster compiled"
    )
    return [("fit: compiled and eager losses agree (1e-9)", r5["max_loss_difference"] <= TOLERANCE)]


def report_w6(results: dict[str, Any]) -> Checks:
    import w6 as W6

    checks = W6.report(results)
    rows = results["w6_grad_before"]
    print(
        "    eager grad on plain numbers, taking turns with the grad before it "
        "(workloads.grad_before), medians:"
    )
    for name, row in rows.items():
        print(
            f"    {name:36s} now {row['now'] * 1e6:9.1f} us, "
            f"before {row['before'] * 1e6:9.1f} us: {row['now'] / row['before']:.3f}x"
        )
    checks.append(
        (
            "W6 grad on plain numbers within 10% of the previous grad on every case",
            all(row["now"] <= 1.10 * row["before"] for row in rows.values()),
        )
    )
    return checks


WORKLOADS: dict[
    str, tuple[Callable[[dict[str, Any]], None], Callable[[dict[str, Any]], Checks]]
] = {
    "w1": (w1, report_w1),
    "w2": (w2, report_w2),
    "w3": (w3, report_w3),
    "w4": (w4, report_w4),
    "w5": (w5, report_w5),
    "w6": (w6, report_w6),
}


def report(results: dict[str, Any], names: list[str]) -> Checks:
    print(f"\nautograd_tiny benchmark - {results['machine']}")
    checks: Checks = []
    for name in names:
        checks += WORKLOADS[name][1](results)
    print("Targets")
    for text, ok in checks:
        mark = "skipped" if ok is None else "met" if ok else "NOT met"
        print(f"    [{mark}] {text}")
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "path",
        nargs="?",
        help="where to write the JSON (default: "
        "bench/results.json, or bench/results-w6.json with --only w6)",
    )
    parser.add_argument(
        "--only",
        default=",".join(WORKLOADS),
        metavar="W6,...",
        help="run only these workloads, comma-separated (default: all)",
    )
    options = parser.parse_args()
    names = [name.strip().lower() for name in options.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown or not names:
        parser.error(f"unknown workload {', '.join(unknown)}: choose from {', '.join(WORKLOADS)}")
    everything = names == list(WORKLOADS)
    path = options.path or os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "results.json" if everything else f"results-{'-'.join(names)}.json",
    )
    results: dict[str, Any] = {"machine": machine(), "w1_reps": 11, "workloads": names}
    started = time.perf_counter()
    for name in names:
        WORKLOADS[name][0](results)
    checks = report(results, names)
    results["targets"] = {text: ok for text, ok in checks}
    results["bench_seconds"] = time.perf_counter() - started
    with open(path, "w") as f:
        json.dump(results, f, indent=2, default=str)
    print(f"JSON written to {path} ({results['bench_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
