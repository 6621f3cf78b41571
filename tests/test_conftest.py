"""The suite's summary of skipped tests: one line per reason, and how to run them."""

from pathlib import Path

CONFTEST = Path(__file__).resolve().parent / "conftest.py"


def test_skips_are_summarised_per_reason_with_how_to_run_the_torch_tests(pytester):
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8"))
    pytester.makepyfile(
        test_some="""
        import pytest

        @pytest.mark.parametrize("i", range(17))
        def test_parity(i):
            pytest.skip("could not import 'torch': No module named 'torch'")

        def test_needs_proc():
            pytest.skip("needs /proc")

        def test_runs():
            assert True
    """
    )
    result = pytester.runpytest("-rfE", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=18)
    lines = [line for line in result.outlines if "skipped:" in line]
    assert lines == [
        "17 skipped: could not import 'torch': No module named 'torch'; run these PyTorch "
        "parity tests with `make test-torch` (it installs torch into .venv)",
        "1 skipped: needs /proc",
    ]
    assert not any(line.startswith("SKIPPED") for line in result.outlines)
