"""Retries of storage operations, decided by error type and status code.

:func:`with_retries` runs a call and retries it while :func:`is_transient` says the failure
may pass, waiting per :class:`RetryPolicy` (exponential backoff, +-50 % jitter), then raises
one clear :class:`~framesift.errors.StorageError`. What is transient is read along the
exception chain, never from message text: s3fs turns an S3 error into an ``OSError`` whose
message is the HTTP reason and whose cause is botocore's ``ClientError`` (with the status
and the service's error code); HTTP 5xx, 408, 429 and S3's throttling codes are transient,
as are connection errors and timeouts; a missing or existing key, a refused permission,
other 4xx and botocore's request errors (no credentials, a bad parameter) are not.

:func:`failure_kind` says the same of a whole video's failure, for the batch to retry it
(with the same backoff) or not, and for its ledger entry: a lost worker and a storage error
that gave up on a transient cause are ``transient``; anything else (a broken file, a bad
setting, a refused permission) is ``deterministic``.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from framesift.errors import SettingsError, StorageError, WorkerLostError
from framesift.redact import redact_url

__all__ = ["FailureKind", "RetryPolicy", "failure_kind", "is_transient", "with_retries"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

FailureKind = Literal["transient", "deterministic"]
"""Whether running a failed video again may succeed (see :func:`failure_kind`)."""


def _transient_types() -> tuple[type[BaseException], ...]:
    """Connection errors of the client libraries already imported (by fsspec's S3 or HTTP
    filesystems, on first use): a library not imported cannot have raised anything, and
    importing aiohttp up front would cost every ``framesift`` command ~0.1 s."""
    types: list[type[BaseException]] = [ConnectionError, TimeoutError]
    bce = sys.modules.get("botocore.exceptions")
    if bce is not None:
        types += [bce.ConnectionError, bce.HTTPClientError]
    aiohttp = sys.modules.get("aiohttp")
    if aiohttp is not None:
        types += [aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError]
    return tuple(types)


def _retryable_types() -> tuple[type[BaseException], ...]:
    return (OSError, *_transient_types(), *_permanent_types())


def _permanent_types() -> tuple[type[BaseException], ...]:
    """Errors that say the request itself is wrong (no credentials, a bad parameter)."""
    bce = sys.modules.get("botocore.exceptions")
    return (bce.BotoCoreError,) if bce is not None else ()


_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_TRANSIENT_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "ServiceUnavailable",
    }
)


def _chain(error: BaseException) -> list[BaseException]:
    """``error`` and its causes and contexts, outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 16:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _http_status(error: BaseException) -> tuple[int | None, str | None]:
    """The HTTP status and service error code an error carries along its chain (a
    botocore ``ClientError``'s response, an aiohttp ``ClientResponseError``'s status),
    or (None, None)."""
    for exc in _chain(error):
        response = getattr(exc, "response", None)
        if isinstance(response, Mapping):
            meta = response.get("ResponseMetadata") or {}
            code = (response.get("Error") or {}).get("Code")
            status = meta.get("HTTPStatusCode")
            if status is not None or code is not None:
                return (int(status) if status is not None else None), (
                    str(code) if code is not None else None
                )
        status = getattr(exc, "status", None)
        if isinstance(status, int) and 100 <= status < 600:
            return status, None
    return None, None


def is_transient(error: BaseException) -> bool:
    """Whether retrying the operation that raised ``error`` may succeed: an HTTP status
    of 5xx, 408 or 429 or a throttling code anywhere along its chain; else a connection
    error or a timeout. A missing or existing key, a refused permission, any other 4xx and
    any other OSError are permanent."""
    status, code = _http_status(error)
    if status is not None or code is not None:
        return (
            code in _TRANSIENT_CODES
            or status in _TRANSIENT_STATUS
            or (status is not None and status >= 500)
        )
    chain = _chain(error)
    if any(isinstance(exc, _permanent_types()) for exc in chain) and not any(
        isinstance(exc, _transient_types()) for exc in chain
    ):
        return False
    return any(isinstance(exc, _transient_types()) for exc in chain)


def failure_kind(error: BaseException) -> FailureKind:
    """``transient`` for a failure that a later try may not meet: a lost worker
    (WorkerLostError), a StorageError that gave up retrying a transient cause (its
    ``transient`` flag), or an error whose chain :func:`is_transient` finds transient (a
    source read through fsspec that met an HTTP 503); ``deterministic`` otherwise."""
    if isinstance(error, WorkerLostError):
        return "transient"
    if isinstance(error, StorageError) and error.transient:
        return "transient"
    return "transient" if is_transient(error) else "deterministic"


@dataclass(frozen=True)
class RetryPolicy:
    """How transient storage failures are retried: ``attempts`` tries in all, waiting
    ``base_delay_s * 2**n`` (capped at ``max_delay_s``, with +-50% jitter) between them."""

    attempts: int = 5
    base_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def __post_init__(self) -> None:
        if not 1 <= self.attempts <= 100:
            raise SettingsError(f"attempts={self.attempts}: allowed 1 to 100")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise SettingsError(
                f"base_delay_s={self.base_delay_s}, max_delay_s={self.max_delay_s}: "
                "need 0 <= base_delay_s <= max_delay_s"
            )

    def delay_s(self, failures: int) -> float:
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (failures - 1))
        return float(delay * random.uniform(0.5, 1.5))


def with_retries(
    call: Callable[[], T],
    *,
    what: str,
    policy: RetryPolicy,
    redact: Callable[[str], str] = redact_url,
) -> T:
    """Run ``call``; retry transient failures per ``policy``; then raise StorageError.

    A missing key (FileNotFoundError) or an existing one (FileExistsError) passes through
    unchanged at once, so callers can handle it; other permanent I/O errors (permission
    denied, a file where a folder should be, ...) become a StorageError at once.
    ``what`` names the operation and URL and must already be free of credentials.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except _retryable_types() as exc:  # evaluated after the call: lazy imports count
            message = redact(_describe(exc))
            if not is_transient(exc):
                if isinstance(exc, FileNotFoundError | FileExistsError):
                    raise
                raise StorageError(f"{what} failed ({message})") from None
            if attempt == policy.attempts:
                gave_up = StorageError(
                    f"{what} failed after {attempt} attempts ({message}); check that the "
                    "storage endpoint is reachable and the credentials are valid, then re-run: "
                    "committed data is unaffected"
                )
                gave_up.transient = True
                raise gave_up from None
            delay = policy.delay_s(attempt)
            logger.warning(
                "%s failed (attempt %d of %d: %s); retrying in %.2f s",
                what,
                attempt,
                policy.attempts,
                message,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _describe(error: BaseException) -> str:
    """``Type: message``, with the HTTP status and error code when the chain has them."""
    status, code = _http_status(error)
    http = " ".join(str(p) for p in (f"HTTP {status}" if status else None, code) if p)
    return f"{type(error).__name__}: {error}" + (f" [{http}]" if http else "")
