"""A pytest plugin (``pytest_plugins = ["log_guard"]`` in conftest.py): fail a test that logs
an error it did not declare.

The autouse fixture ``fail_on_logged_errors`` collects every ERROR or CRITICAL record that
reaches the root logger while a test runs (setup, call and teardown of function-scoped
fixtures; any thread of this process) and fails the test if it logged one. A test that logs
errors on purpose says so::

    @pytest.mark.expected_errors                      # any error record
    @pytest.mark.expected_errors(r"cannot open .*")   # only records whose message matches

Records of loggers that do not propagate to the root, and the output of subprocesses
(process pools, the CLI run as a program), are not seen.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

__all__ = ["fail_on_logged_errors", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "expected_errors(*patterns): the test logs ERROR records on purpose: any, or those "
        "whose message matches one of the regular expressions (tests/log_guard.py)",
    )


class _ErrorRecords(logging.Handler):
    """Keeps every record at ERROR or above that reaches it."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_logged_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if it logged an ERROR it did not declare with ``expected_errors``."""
    marker = request.node.get_closest_marker("expected_errors")
    patterns = [re.compile(p) for p in marker.args] if marker is not None else []
    handler = _ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    if marker is not None and not patterns:
        return  # any error is expected
    unexpected = [r for r in handler.records if not any(p.search(r.getMessage()) for p in patterns)]
    if unexpected:
        logged = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in unexpected)
        pytest.fail(
            "the test logged errors it did not declare (if they are the point, mark it "
            f"@pytest.mark.expected_errors(PATTERN, ...)):\n{logged}",
            pytrace=False,
        )
