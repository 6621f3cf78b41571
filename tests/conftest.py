"""Shared test settings: hypothesis without deadlines (shared machines are noisy), and
one summary line per reason for skipped tests, saying how to run them."""

from __future__ import annotations

from collections import Counter

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")

# How to run what a skip reason says is missing.
HOW_TO_RUN = {
    "could not import 'torch'": "run these PyTorch parity tests with `make test-torch` "
    "(it installs torch into .venv)",
}


def pytest_collection_modifyitems(items) -> None:
    """The notebooks (executed by nbmake, a second or more each) are slow tests too."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker("slow")


def _reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter) -> None:
    """``N skipped: reason (how to run them)``, instead of one line per skipped test."""
    reasons = Counter(_reason(report) for report in terminalreporter.stats.get("skipped", []))
    if not reasons:
        return
    terminalreporter.section("skipped tests", sep="-")
    for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
        hint = next((how for key, how in HOW_TO_RUN.items() if key in reason), None)
        line = f"{count} skipped: {reason}"
        terminalreporter.write_line(f"{line}; {hint}" if hint else line)
