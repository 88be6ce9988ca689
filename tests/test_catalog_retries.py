"""Retries decided by error type and status code, against the S3 test server behind a
proxy that answers 500, 502 and 503 (SlowDown) for a number of requests, and 403 / 404
that must not be retried."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from catalog_support import SECRET, SPEC, FaultProxy, S3Server, Videos
from framesift.batch import ingest
from framesift.catalog import Catalog
from framesift.errors import SettingsError, StorageError
from framesift.storage import RetryPolicy, Storage, is_transient

pytest_plugins = ["fixtures_catalog"]

pytestmark = pytest.mark.s3

RETRY = RetryPolicy(attempts=5, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture
def proxy(s3_server: S3Server) -> Iterator[FaultProxy]:
    fault_proxy = FaultProxy(s3_server.endpoint_url)
    yield fault_proxy
    fault_proxy.stop()


def proxied(s3_server: S3Server, proxy: FaultProxy) -> tuple[str, dict[str, Any]]:
    """A fresh bucket reached through the proxy; s3fs's own retries off, so what is
    retried is decided by framesift alone."""
    options = {**s3_server.options(), "endpoint_url": proxy.endpoint_url}
    return f"s3://{s3_server.create_bucket()}/cat", options


def without_s3fs_retries(storage: Storage) -> Storage:
    """s3fs retries SlowDown on its own (by message text); one try, so that what is
    retried here is decided by framesift alone (the instance is this proxy's only)."""
    storage.fs.retries = 1
    return storage


SERVER_ERRORS = [
    pytest.param(500, "InternalError", "We encountered an internal error.", id="500"),
    pytest.param(502, "html", "", id="502-html-body"),
    pytest.param(503, "SlowDown", "Please reduce your request rate.", id="503-slowdown"),
    pytest.param(503, "ServiceUnavailable", "Service is unable to handle request.", id="503"),
]


@pytest.mark.parametrize(("status", "code", "message"), SERVER_ERRORS)
@pytest.mark.parametrize("method", ["PUT", "GET"])
def test_server_errors_are_retried_until_they_pass(
    s3_server: S3Server,
    proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
    status: int,
    code: str,
    message: str,
    method: str,
) -> None:
    url, options = proxied(s3_server, proxy)
    storage = without_s3fs_retries(Storage(url, options, retry=RETRY))
    storage.write_bytes("k.bin", b"seed")
    proxy.fail(3, status, code, message, methods={method})
    with caplog.at_level(logging.WARNING):
        if method == "PUT":
            storage.write_bytes("k.bin", b"payload")
        else:
            assert storage.read_bytes("k.bin") == b"seed"
    assert proxy.injected == 3
    assert storage.read_bytes("k.bin") == (b"payload" if method == "PUT" else b"seed")
    assert caplog.text.count("retrying in") == 3
    assert f"HTTP {status}" in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        pytest.param(403, "AccessDenied", StorageError, id="403"),
        pytest.param(404, "NoSuchKey", FileNotFoundError, id="404"),
        pytest.param(400, "InvalidRequest", StorageError, id="400"),
    ],
)
def test_client_errors_are_not_retried(
    s3_server: S3Server,
    proxy: FaultProxy,
    caplog: pytest.LogCaptureFixture,
    status: int,
    code: str,
    expected: type[Exception],
) -> None:
    url, options = proxied(s3_server, proxy)
    storage = without_s3fs_retries(Storage(url, options, retry=RETRY))
    storage.write_bytes("k.bin", b"x")
    proxy.fail(10, status, code, "refused", methods={"GET"})
    with caplog.at_level(logging.WARNING), pytest.raises(expected) as info:
        storage.read_bytes("k.bin")
    assert proxy.injected == 1  # one request, no retry
    assert "retrying" not in caplog.text
    assert not is_transient(info.value)
    if expected is StorageError:
        assert f"HTTP {status}" in str(info.value)
        assert url in str(info.value)


def test_a_throttled_ingest_completes(
    s3_server: S3Server, proxy: FaultProxy, videos: Videos
) -> None:
    url, options = proxied(s3_server, proxy)
    cat = Catalog(url, options, retry=RETRY)
    without_s3fs_retries(cat.storage)
    proxy.fail(4, 503, "SlowDown", "Please reduce your request rate.", methods={"PUT"})
    summary = ingest([str(videos.good[0])], cat, SPEC, retry=RETRY)
    assert summary.counts["ingested"] == 1
    assert proxy.injected == 4
    assert cat.videos().height == 1


def test_errors_stay_transient_by_type_without_a_status() -> None:
    assert is_transient(ConnectionResetError("reset by peer"))
    assert is_transient(TimeoutError())
    # message text decides nothing: an OSError saying "SlowDown" without a status is not
    assert not is_transient(OSError(5, "SlowDown: Please reduce your request rate"))


def test_a_malformed_endpoint_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "not a url")
    with pytest.raises(SettingsError, match="AWS_ENDPOINT_URL"):
        Storage("s3://bucket/cat")
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    with pytest.raises(SettingsError, match="endpoint_url"):
        Storage("s3://bucket/cat", {"endpoint_url": "127.0.0.1:9000"})
