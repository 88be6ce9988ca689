"""framesift.storage: redaction, safe keys, retries, atomic and exclusive writes."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from catalog_support import SECRET, CatalogTarget
from framesift.catalog import Catalog
from framesift.errors import SettingsError, StorageError
from framesift.redact import Redactor, redact_options, redact_url
from framesift.storage import (
    RetryPolicy,
    Storage,
    is_transient,
    join_key,
    safe_key_part,
    with_retries,
)

pytest_plugins = ["fixtures_catalog"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("s3://AKIA:s3cr3t@bucket/key", "s3://***@bucket/key", id="userinfo"),
        pytest.param("https://u:p@host/a.mp4?x=1", "https://***@host/a.mp4?x=1", id="http"),
        pytest.param(
            "https://host/a.mp4?X-Amz-Signature=abc&X-Amz-Credential=me&part=2",
            "https://host/a.mp4?X-Amz-Signature=***&X-Amz-Credential=***&part=2",
            id="presigned",
        ),
        pytest.param("/data/clip.mp4", "/data/clip.mp4", id="local"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_options_nested() -> None:
    opts = {
        "key": "AKIA",
        "secret": "s",
        "token": "t",
        "endpoint_url": "http://x",
        "client_kwargs": {"aws_secret_access_key": "z", "region_name": "eu"},
    }
    assert redact_options(opts) == {
        "key": "***",
        "secret": "***",
        "token": "***",
        "endpoint_url": "http://x",
        "client_kwargs": {"aws_secret_access_key": "***", "region_name": "eu"},
    }


def test_redactor_masks_values_in_free_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret123")
    redact = Redactor({"secret": SECRET, "client_kwargs": {"aws_session_token": "tok12345"}})
    text = f"failed for s3://a:b@x with {SECRET}, tok12345 and envsecret123"
    assert redact(text) == "failed for s3://***@x with ***, *** and ***"


@pytest.mark.parametrize(
    "part", ["..", ".", "", "a/b", "../x", ".hidden", "a b", "x;y", "é", "a\x00b", "x" * 201]
)
def test_unsafe_key_parts_are_refused(part: str) -> None:
    with pytest.raises(SettingsError):
        safe_key_part(part)


def test_join_key_checks_every_part() -> None:
    assert (
        join_key("thumbs/abc", "g0000000001/00000001.jpg") == "thumbs/abc/g0000000001/00000001.jpg"
    )
    with pytest.raises(SettingsError):
        join_key("thumbs", "../../etc/passwd")


def test_retry_policy_is_validated() -> None:
    with pytest.raises(SettingsError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(SettingsError, match="base_delay_s"):
        RetryPolicy(base_delay_s=2.0, max_delay_s=1.0)


def test_transient_errors_are_retried_then_raised(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        raise ConnectionRefusedError(f"connection refused with {SECRET}")

    policy = RetryPolicy(attempts=3, base_delay_s=0.001, max_delay_s=0.002)
    with caplog.at_level(logging.WARNING), pytest.raises(StorageError) as info:
        with_retries(
            flaky, what="reading s3://b/k", policy=policy, redact=Redactor({"secret": SECRET})
        )
    assert len(calls) == 3
    assert "failed after 3 attempts" in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in caplog.text
    assert caplog.text.count("retrying") == 2


def test_recovering_call_succeeds() -> None:
    calls: list[int] = []

    def flaky() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise TimeoutError("slow")
        return 7

    assert with_retries(flaky, what="x", policy=RetryPolicy(3, 0.0, 0.0)) == 7


@pytest.mark.parametrize(
    "error",
    [PermissionError("x"), NotADirectoryError("x"), IsADirectoryError("x")],
)
def test_other_permanent_io_errors_become_storage_errors_at_once(error: Exception) -> None:
    calls: list[int] = []

    def fails() -> None:
        calls.append(1)
        raise error

    with pytest.raises(StorageError, match=f"^writing s3://b/k failed \\({type(error).__name__}"):
        with_retries(fails, what="writing s3://b/k", policy=RetryPolicy(5, 0.0, 0.0))
    assert calls == [1]
    assert not is_transient(error)


def test_a_catalog_where_no_folder_can_be_made_is_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(StorageError, match="file/catalog"):
        Catalog(str(tmp_path / "file" / "catalog"))
    with pytest.raises(StorageError, match="/proc/framesift/catalog"):
        Catalog("/proc/framesift/catalog")


@pytest.mark.parametrize(
    "error",
    [FileNotFoundError("x"), FileExistsError("x"), ValueError("x")],
)
def test_permanent_errors_pass_through_at_once(error: Exception) -> None:
    calls: list[int] = []

    def fails() -> None:
        calls.append(1)
        raise error

    with pytest.raises(type(error)):
        with_retries(fails, what="x", policy=RetryPolicy(5, 0.0, 0.0))
    assert calls == [1]
    assert not is_transient(error)


def test_storage_round_trip_and_exclusive_create(catalog_url: CatalogTarget) -> None:
    storage = Storage(catalog_url.url, catalog_url.storage_options)
    uri = storage.write_bytes("a/b.bin", b"one")
    assert storage.key_of(uri) == "a/b.bin"
    assert storage.read_bytes("a/b.bin") == b"one"
    storage.write_bytes("a/b.bin", b"two")  # overwrite is atomic and allowed
    assert storage.read_bytes("a/b.bin") == b"two"
    assert storage.create_exclusive("a/m.json", b"first")
    assert storage.create_exclusive("a/m.json", b"first")  # own retry: same bytes, success
    assert not storage.create_exclusive("a/m.json", b"second")
    assert storage.read_bytes("a/m.json") == b"first"
    assert set(storage.list_files("a")) == {"a/b.bin", "a/m.json"}
    assert storage.read_many(["a/b.bin", "a/m.json"]) == {"a/b.bin": b"two", "a/m.json": b"first"}
    storage.delete(["a/b.bin", "a/missing"])
    assert set(storage.list_files("a")) == {"a/m.json"}
    with pytest.raises(FileNotFoundError):
        storage.read_bytes("a/b.bin")


@pytest.mark.s3
def test_s3_reads_are_one_get_each(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # s3fs asks for an object's size (a HEAD) before reading it unless told not to: that
    # doubled the latency of every part and thumbnail read.
    storage = Storage(f"s3://{s3_server.create_bucket()}/c", s3_server.options())
    storage.write_bytes("a.bin", b"a" * 1000)
    storage.write_bytes("b.bin", b"b" * 1000)

    async def no_head(*args: object, **kwargs: object) -> None:
        raise AssertionError("a HEAD request before the GET")

    monkeypatch.setattr(storage.fs, "_info", no_head)
    assert storage.read_bytes("a.bin") == b"a" * 1000
    assert storage.read_many(["a.bin", "b.bin"]) == {"a.bin": b"a" * 1000, "b.bin": b"b" * 1000}


def test_local_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = Storage(str(tmp_path))
    threads = [
        threading.Thread(target=storage.write_bytes, args=("k.bin", bytes([i]) * 100_000))
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    data = storage.read_bytes("k.bin")
    assert len(set(data)) == 1  # one whole writer won, never a mix
    assert os.listdir(tmp_path) == ["k.bin"]


def test_exclusive_create_race_has_one_winner(catalog_url: CatalogTarget) -> None:
    storage = Storage(catalog_url.url, catalog_url.storage_options)
    results: dict[int, bool] = {}

    def create(i: int) -> None:
        results[i] = storage.create_exclusive("race.json", f"writer {i}".encode())

    threads = [threading.Thread(target=create, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, won in results.items() if won]
    assert len(winners) == 1
    assert storage.read_bytes("race.json") == f"writer {winners[0]}".encode()
