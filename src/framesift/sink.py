"""Where encoded images go: an interface and its fsspec implementation.

A sink takes (relative key, bytes) and returns the URI it wrote. ``FsspecImageSink`` writes
through any fsspec filesystem with a bounded pool of threads, so thumbnails upload to S3 in
parallel with decoding while memory stays bounded (at most ``max_pending`` images queued).
"""

from __future__ import annotations

import abc
import logging
import os
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from framesift.errors import StorageError
from framesift.redact import redact_url
from framesift.source import Source

if TYPE_CHECKING:
    import fsspec

__all__ = ["FsspecImageSink", "ImageSink", "MemoryImageSink", "ThreadedImageSink"]

logger = logging.getLogger(__name__)


class ImageSink(abc.ABC):
    """Receives encoded images of kept frames."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> str:
        """Store ``data`` under ``key`` (relative, '/'-separated); return its URI."""

    def close(self) -> None:  # noqa: B027 - optional hook, most sinks need nothing
        """Wait for pending writes; raise StorageError if any failed."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Stop without waiting for writes that have not started."""

    def __enter__(self) -> ImageSink:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class MemoryImageSink(ImageSink):
    """Keeps images in a dict (tests, notebooks previewing a few frames)."""

    def __init__(self) -> None:
        self.images: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> str:
        self.images[key] = data
        return f"memory://{key}"


class ThreadedImageSink(ImageSink):
    """Writes images with ``max_workers`` threads and at most ``max_pending`` in memory.

    Subclasses say where a key goes (:meth:`_locate`) and how bytes are stored there
    (:meth:`_store`); :meth:`close` waits and raises the first failure as StorageError.
    """

    def __init__(self, *, max_workers: int = 8, max_pending: int = 64) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sink")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._futures: list[Future[None]] = []
        self._failure: BaseException | None = None
        self.written = 0

    @abc.abstractmethod
    def _locate(self, key: str) -> tuple[str, str]:
        """(where to store, URI to report) for ``key``; StorageError if not allowed."""

    @abc.abstractmethod
    def _store(self, location: str, data: bytes) -> None:
        """Store ``data`` at ``location`` (runs in a worker thread)."""

    @abc.abstractmethod
    def _describe(self) -> str:
        """Where this sink writes, for messages (no credentials)."""

    def _redact(self, text: str) -> str:
        """``text`` with any credentials masked (messages leave the process)."""
        return redact_url(text)

    @property
    def failure(self) -> BaseException | None:
        """The first write that failed, if any."""
        return self._failure

    def _run(self, location: str, data: bytes) -> None:
        try:
            self._store(location, data)
        finally:
            self._slots.release()

    def put(self, key: str, data: bytes) -> str:
        location, uri = self._locate(key)
        self._raise_failure(block=False)
        self._slots.acquire()
        self._futures.append(self._pool.submit(self._run, location, data))
        self.written += 1
        return uri

    def _raise_failure(self, *, block: bool) -> None:
        pending: list[Future[None]] = []
        for fut in self._futures:
            if block or fut.done():
                exc = fut.exception()
                if exc is not None and self._failure is None:
                    self._failure = exc
            else:
                pending.append(fut)
        self._futures = pending
        if self._failure is not None:
            self.abort()
            if isinstance(self._failure, StorageError):
                raise self._failure
            raise StorageError(
                f"writing images under {self._describe()} failed: "
                f"{self._redact(str(self._failure))}"
            ) from None

    def close(self) -> None:
        try:
            self._raise_failure(block=True)
        finally:
            self._pool.shutdown(wait=True)

    def abort(self) -> None:
        for fut in self._futures:
            fut.cancel()
        self._futures = []
        self._pool.shutdown(wait=True, cancel_futures=True)


class FsspecImageSink(ThreadedImageSink):
    """Writes images under ``base_url`` through fsspec, ``max_workers`` at a time.

    A folder on this machine (a path or ``file://``) is written with the operating
    system's own calls, as fsspec's local filesystem would (start-up: a command writing to
    a local folder need not import fsspec, ~0.2 s of CPU).
    """

    def __init__(
        self,
        base_url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        max_workers: int = 8,
        max_pending: int = 64,
    ) -> None:
        super().__init__(max_workers=max_workers, max_pending=max_pending)
        self.base_url = base_url.rstrip("/")
        self._target = Source(self.base_url or "/", storage_options)
        self._fs: fsspec.AbstractFileSystem | None = None
        if self._target.is_local:
            root = os.path.abspath(os.path.expanduser(self._target.local_path))
        else:
            self._fs, root = self._target.filesystem()
        self._root = root.rstrip("/")
        self._made_dirs: set[str] = set()
        self._dir_lock = threading.Lock()

    def _describe(self) -> str:
        return self._target.shown

    def _redact(self, text: str) -> str:
        return self._target.redact(text)

    def _locate(self, key: str) -> tuple[str, str]:
        if key.startswith("/") or ".." in key.split("/"):
            raise StorageError(f"image key {key!r} would leave {self._target.shown}")
        return f"{self._root}/{key}", f"{self.base_url}/{key}"

    def _store(self, location: str, data: bytes) -> None:
        if self._fs is not None:
            with self._fs.open(location, "wb") as handle:
                handle.write(data)
            return
        parent = location.rsplit("/", 1)[0]
        with self._dir_lock:
            if parent not in self._made_dirs:
                os.makedirs(parent, exist_ok=True)
                self._made_dirs.add(parent)
        with open(location, "wb") as handle:
            handle.write(data)
