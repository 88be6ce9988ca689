"""The log guard (tests/log_guard.py) fails undeclared error records and only those."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# The inner runs happen in this process: their records reach this test's guard too.
pytestmark = pytest.mark.expected_errors("^inner: ")

INNER = """
import logging

import pytest

log = logging.getLogger("framesift.inner")


def test_undeclared_error():
    log.error("inner: undeclared")


def test_undeclared_critical():
    log.critical("inner: critical")


def test_warning_is_not_an_error():
    log.warning("inner: only a warning")


@pytest.mark.expected_errors
def test_any_error_declared():
    log.error("inner: anything")


@pytest.mark.expected_errors("cannot open")
def test_matching_error_declared():
    log.error("inner: cannot open the file")


@pytest.mark.expected_errors("cannot open")
def test_other_error_than_declared():
    log.error("inner: disk full")


@pytest.fixture
def noisy_teardown():
    yield
    log.error("inner: in teardown")


def test_error_in_fixture_teardown(noisy_teardown):
    pass
"""


def test_guard_fails_exactly_the_undeclared_errors(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["log_guard"]')
    pytester.makepyfile(test_inner=INNER)
    reports = pytester.inline_run("-p", "no:cacheprovider", "--strict-markers").getreports(
        "pytest_runtest_logreport"
    )
    failed = {r.head_line: r.longreprtext for r in reports if r.failed}
    assert sorted(failed) == [
        "test_error_in_fixture_teardown",
        "test_other_error_than_declared",
        "test_undeclared_critical",
        "test_undeclared_error",
    ]
    assert "did not declare" in failed["test_undeclared_error"]
    assert "ERROR framesift.inner: inner: undeclared" in failed["test_undeclared_error"]
    passed = {r.head_line for r in reports if r.passed and r.when == "call"} - set(failed)
    assert passed == {
        "test_any_error_declared",
        "test_matching_error_declared",
        "test_warning_is_not_an_error",
    }
