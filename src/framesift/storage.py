"""fsspec helpers the catalog (and anything else that writes durable data) stands on.

* Redaction lives in :mod:`framesift.redact`: every message here carries the root URL
  without credentials, and retried errors pass through a :class:`~framesift.redact.Redactor`.
* :func:`safe_key_part`, :func:`join_key`: keys under a root are built from checked parts,
  so nothing a user names can leave the root.
* retries live in :mod:`framesift.retries` (:class:`RetryPolicy`, :func:`with_retries`,
  :func:`is_transient`, re-exported here): transient failures, decided by type and status
  code, are retried with backoff and jitter, then raised as one clear StorageError.
* :class:`Storage`: a root URL plus an fsspec filesystem with atomic writes (local: temp file
  in the same folder, fsync, ``os.replace``; object stores: a single PUT, which appears only
  when complete) and exclusive creates (local: ``os.link``; S3: ``If-None-Match: *``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import fsspec
import fsspec.asyn
from fsspec.implementations.local import LocalFileSystem

from framesift.errors import SettingsError, StorageError
from framesift.redact import Redactor, redact_url
from framesift.retries import RetryPolicy, is_transient, with_retries

__all__ = [
    "TEMP_MARKER",
    "RetryPolicy",
    "Storage",
    "is_transient",
    "join_key",
    "local_atomic_write",
    "safe_key_part",
    "with_retries",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

TEMP_MARKER = ".tmp-"
"""Local temporary files are named ``.<name>.tmp-<random>`` beside their destination."""

_SAFE_PART = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._=-]{0,199}$")


# --------------------------------------------------------------------------- keys


def safe_key_part(part: str) -> str:
    """``part`` if it is one safe path segment (letters, digits, ``._=-``; not starting with
    a dot), else SettingsError. Catalog keys are built only from such parts."""
    if not _SAFE_PART.match(part) or part in {".", ".."}:
        raise SettingsError(
            f"{part!r} is not a safe storage key part: use 1 to 200 of A-Z a-z 0-9 . _ = -, "
            "not starting with a dot"
        )
    return part


def join_key(*parts: str) -> str:
    """Join checked key parts with ``/`` (each part may itself hold ``/``-separated parts)."""
    pieces = [p for part in parts for p in part.split("/")]
    return "/".join(safe_key_part(p) for p in pieces)


# --------------------------------------------------------------------------- storage


_ENDPOINT = re.compile(r"^https?://[A-Za-z0-9._~%\[\]:@-]+(/\S*)?$")


def _endpoint(options: Mapping[str, Any]) -> str:
    """The S3 endpoint the options or the AWS environment name, checked to be a URL
    (botocore would fail later with a ValueError, deep inside the first request)."""
    named = [
        ("storage option endpoint_url", options.get("endpoint_url")),
        (
            "storage option client_kwargs.endpoint_url",
            dict(options.get("client_kwargs") or {}).get("endpoint_url"),
        ),
        ("AWS_ENDPOINT_URL_S3", os.environ.get("AWS_ENDPOINT_URL_S3")),
        ("AWS_ENDPOINT_URL", os.environ.get("AWS_ENDPOINT_URL")),
    ]
    for source, value in named:
        if value:
            if not isinstance(value, str) or not _ENDPOINT.match(value):
                raise SettingsError(
                    f"{source}={redact_url(str(value))!r} is not an endpoint URL: expected "
                    "http://host[:port] or https://host[:port]"
                )
            return value
    return ""


def _protocols(fs: fsspec.AbstractFileSystem) -> tuple[str, ...]:
    proto = fs.protocol
    return tuple(proto) if isinstance(proto, (tuple, list)) else (str(proto),)


def _default_options(url: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    """fsspec options with framesift's defaults: for S3, botocore's own retries are turned
    down to one attempt, because :func:`with_retries` retries with logging and a clear
    error (botocore's defaults would otherwise wait ~8 s per call on a dead endpoint).
    The standard AWS environment (AWS_ENDPOINT_URL, credentials, region, config files)
    is read by botocore itself."""
    opts = dict(options or {})
    if url.startswith(("s3://", "s3a://")):
        config = dict(opts.get("config_kwargs") or {})
        config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
        opts["config_kwargs"] = config
        # Other processes write the catalog: a cached listing would hide their commits.
        opts.setdefault("use_listings_cache", False)
    return opts


class Storage:
    """A root URL and its filesystem; every method takes a key relative to the root.

    All calls go through :func:`with_retries`. Errors carry the redacted URL only.
    """

    def __init__(
        self,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        if not url:
            raise SettingsError("an empty URL: give a local folder or an fsspec URL")
        self.storage_options: dict[str, Any] = _default_options(url, storage_options)
        self.redact = Redactor(self.storage_options, urls=[url])
        if url.startswith(("s3://", "s3a://")) and redact_url(url) != url:
            raise SettingsError(
                f"{redact_url(url)}: credentials in an S3 URL are not supported; give them as "
                "storage options (--storage-option key=... --storage-option secret=...) or "
                "in the standard AWS environment"
            )
        self.retry = retry or RetryPolicy()
        try:
            fs, root = fsspec.core.url_to_fs(url, **self.storage_options)
        except (ValueError, ImportError) as exc:
            raise SettingsError(f"cannot open {redact_url(url)}: {self.redact(str(exc))}") from None
        self.fs: fsspec.AbstractFileSystem = fs
        self.root: str = str(root).rstrip("/") or "/"
        self.is_local: bool = isinstance(fs, LocalFileSystem)
        # Whole-object reads are one GET: s3fs otherwise asks for the size first (a HEAD,
        # doubling the latency of every small read) to split large objects into ranges.
        cat = getattr(fs, "_cat_file", None) or fs.cat_file
        self._cat_options: dict[str, Any] = (
            {"max_concurrency": 1} if "max_concurrency" in inspect.signature(cat).parameters else {}
        )
        protocol = _protocols(fs)[0]
        self.url: str = self.root if self.is_local else f"{protocol}://{self.root}"
        """The root as a URL without credentials (local: an absolute path)."""
        is_s3 = bool({"s3", "s3a"} & set(_protocols(fs)))
        endpoint = _endpoint(self.storage_options) if is_s3 else ""
        self.identity: str = (
            self.url if self.is_local else f"{redact_url(str(endpoint))}|{self.url}"
        )
        """Names the store and root across endpoints (cache keys): ``s3://b/c`` on two
        servers are two catalogs."""

    # paths ---------------------------------------------------------------

    def path(self, key: str) -> str:
        """Filesystem path of ``key`` (checked to be safe) under the root."""
        return f"{self.root}/{join_key(key)}" if key else self.root

    def _listed_path(self, key: str) -> str:
        """Path of a key as listed under the root (temp names allowed), still confined."""
        parts = key.split("/")
        if any(p in {"", ".", ".."} or "\\" in p for p in parts):
            raise SettingsError(f"{key!r} is not a key under {self.url}")
        return f"{self.root}/{key}"

    def uri(self, key: str) -> str:
        """Full URL of ``key`` (local: an absolute path), without credentials."""
        return f"{self.url}/{join_key(key)}"

    def key_of(self, path_or_uri: str) -> str | None:
        """The key of a path or URI inside the root, or None when it lies outside."""
        for prefix in (self.url + "/", self.root + "/"):
            if path_or_uri.startswith(prefix):
                key = path_or_uri[len(prefix) :]
                try:
                    return join_key(key)
                except SettingsError:
                    return None
        return None

    def run(self, what: str, key: str, call: Callable[[], T]) -> T:
        """Run ``call``, an operation on ``key`` that this class has no method for (an S3
        API call), with this storage's retries, typed errors and redaction."""
        return with_retries(
            call, what=f"{what} {self.url}/{key}", policy=self.retry, redact=self.redact
        )

    # reads ---------------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        path = self.path(key)
        return self.run("reading", key, lambda: bytes(self.fs.cat_file(path, **self._cat_options)))

    def read_many(self, keys: Iterable[str], *, concurrency: int = 32) -> dict[str, bytes]:
        """Read several small objects (missing ones are left out); async filesystems (S3)
        fetch them concurrently, one GET each."""
        paths = {k: self.path(k) for k in keys}
        if not paths:
            return {}

        def one(path: str) -> bytes | None:
            try:
                return bytes(self.fs.cat_file(path, **self._cat_options))
            except FileNotFoundError:
                return None

        def call() -> dict[str, bytes]:
            if len(paths) == 1 or not getattr(self.fs, "async_impl", False):
                found = {k: one(p) for k, p in paths.items()}
            else:
                found = dict(
                    zip(
                        paths,
                        fsspec.asyn.sync(
                            self.fs.loop, self._gather, list(paths.values()), concurrency
                        ),
                        strict=True,
                    )
                )
            return {k: v for k, v in found.items() if v is not None}

        return self.run("reading", f"{len(paths)} objects", call)

    async def _gather(self, paths: list[str], concurrency: int) -> list[bytes | None]:
        limit = asyncio.Semaphore(concurrency)

        async def one(path: str) -> bytes | None:
            async with limit:
                try:
                    return bytes(await self.fs._cat_file(path, **self._cat_options))
                except FileNotFoundError:
                    return None

        return list(await asyncio.gather(*(one(p) for p in paths)))

    def exists(self, key: str) -> bool:
        path = self.path(key)
        return bool(self.run("checking", key, lambda: self.fs.exists(path)))

    def list_files(self, prefix: str, *, stat: bool = True) -> dict[str, dict[str, Any]]:
        """Keys of all files under ``prefix`` (recursive), mapped to their info dicts
        (``size``, modification time as ``mtime_s`` and ``etag`` when known; empty dicts
        for local files when ``stat`` is False, which saves a system call per file).
        Always fresh: listing caches are dropped first, so other writers' files are seen."""
        base = self.path(prefix)
        if self.is_local and not stat:
            return self.run("listing", prefix + "/", lambda: _walk_names(self.root, base))

        def call() -> dict[str, dict[str, Any]]:
            self.fs.invalidate_cache(base)
            try:
                found = self.fs.find(base, detail=True, withdirs=False)
            except FileNotFoundError:
                return {}
            return dict(found)

        found = self.run("listing", prefix + "/", call)
        out: dict[str, dict[str, Any]] = {}
        strip = self.root + "/"
        for path, info in found.items():
            path = self.fs._strip_protocol(path)
            if not path.startswith(strip) or info.get("type") == "directory":
                continue
            out[path[len(strip) :]] = {
                "size": info.get("size"),
                "mtime_s": _mtime_s(info),
                "etag": info.get("ETag"),
            }
        return out

    # writes --------------------------------------------------------------

    def write_bytes(self, key: str, data: bytes, *, durable: bool = True) -> str:
        """Write ``data`` at ``key`` atomically: readers see the old object or the whole new
        one, never a part. Returns the URI written. ``durable=False``: a local file is not
        flushed to disk before it replaces the old one (still atomic; a power cut may leave
        the old content), for records that are checked against durable ones when read."""
        path = self.path(key)
        if self.is_local:
            self._write(
                "writing",
                key,
                lambda: local_atomic_write(path, data, exclusive=False, durable=durable),
            )
        else:
            self._write("writing", key, lambda: self.fs.pipe_file(path, data))
        return self.uri(key)

    def _write(self, what: str, key: str, call: Callable[[], None]) -> None:
        """A write, where a missing folder that cannot be made is this storage's failure."""
        try:
            self.run(what, key, call)
        except FileNotFoundError as exc:
            message = self.redact(f"{type(exc).__name__}: {exc}")
            raise StorageError(f"{what} {self.url}/{key} failed ({message})") from None

    def create_exclusive(self, key: str, data: bytes) -> bool:
        """Create ``key`` with ``data`` only if nothing is there yet, atomically.

        Returns False when the key already exists with other content (another writer won).
        A retry after a lost reply that finds its own bytes there counts as success.
        """
        path = self.path(key)

        def call() -> None:
            if self.is_local:
                local_atomic_write(path, data, exclusive=True)
            elif "s3" in _protocols(self.fs) or "s3a" in _protocols(self.fs):
                self.fs.pipe_file(path, data, mode="create")
            else:  # no conditional put: check, then write (documented as not race-free)
                if self.fs.exists(path):
                    raise FileExistsError(path)
                self.fs.pipe_file(path, data)

        try:
            self._write("creating", key, call)
        except FileExistsError:
            try:
                return self.read_bytes(key) == data
            except FileNotFoundError:
                return False
        return True

    def delete(self, keys: Iterable[str]) -> int:
        """Delete files (missing ones are fine); returns how many were asked for."""
        paths = [self._listed_path(k) for k in keys]
        if not paths:
            return 0

        def call() -> None:
            if self.is_local:
                for p in paths:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(p)
                return
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(paths)

        self.run("deleting", f"{len(paths)} objects", call)
        return len(paths)


def _mtime_s(info: Mapping[str, Any]) -> float | None:
    for name in ("mtime", "LastModified", "last_modified", "created"):
        value = info.get(name)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return None


def _walk_names(root: str, base: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    strip = len(root) + 1
    for folder, _, files in os.walk(base):
        for name in files:
            out[os.path.join(folder, name)[strip:]] = {}
    return out


def local_atomic_write(path: str, data: bytes, *, exclusive: bool, durable: bool = True) -> None:
    """Temp file in the destination folder, fsync, then os.replace (or os.link when the
    destination must not exist yet: link fails atomically if it does). ``durable=False``
    skips the fsyncs (caches: atomic still, but a power cut may lose the file)."""
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    temp = os.path.join(folder, f".{name}{TEMP_MARKER}{uuid.uuid4().hex}")
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if exclusive:
            try:
                os.link(temp, path)
            except FileNotFoundError:
                # The temp file went (``vacuum --grace 0`` removes temp files it finds):
                # where the destination is there, the create lost as it would have.
                if os.path.exists(path):
                    raise FileExistsError(path) from None
                raise
        else:
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    if durable and hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
