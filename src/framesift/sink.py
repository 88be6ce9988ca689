"""Where encoded images go: an interface and its fsspec implementation.

A sink takes (relative key, bytes) and returns the URI it wrote. ``FsspecImageSink`` writes
through any fsspec filesystem with a bounded pool of threads, so thumbnails upload to S3 in
parallel with decoding while memory stays bounded (at most ``max_pending`` images queued).
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import fsspec

from framesift.errors import StorageError
from framesift.source import redact_url

__all__ = ["FsspecImageSink", "ImageSink", "MemoryImageSink"]

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


class FsspecImageSink(ImageSink):
    """Writes images under ``base_url`` through fsspec, ``max_workers`` at a time."""

    def __init__(
        self,
        base_url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        max_workers: int = 8,
        max_pending: int = 64,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._fs, self._root = fsspec.core.url_to_fs(base_url, **dict(storage_options or {}))
        self._root = self._root.rstrip("/")
        self._local = "file" in (
            self._fs.protocol if isinstance(self._fs.protocol, tuple) else (self._fs.protocol,)
        )
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sink")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._futures: list[Future[None]] = []
        self._made_dirs: set[str] = set()
        self._dir_lock = threading.Lock()

    def _write(self, path: str, data: bytes) -> None:
        try:
            if self._local:
                parent = path.rsplit("/", 1)[0]
                with self._dir_lock:
                    if parent not in self._made_dirs:
                        self._fs.makedirs(parent, exist_ok=True)
                        self._made_dirs.add(parent)
            with self._fs.open(path, "wb") as handle:
                handle.write(data)
        finally:
            self._slots.release()

    def put(self, key: str, data: bytes) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise StorageError(f"image key {key!r} would leave {redact_url(self.base_url)}")
        path = f"{self._root}/{key}"
        self._slots.acquire()
        self._futures.append(self._pool.submit(self._write, path, data))
        if len(self._futures) > 256:
            self._reap(block=False)
        return f"{self.base_url}/{key}"

    def _reap(self, *, block: bool) -> None:
        pending: list[Future[None]] = []
        for fut in self._futures:
            if block or fut.done():
                exc = fut.exception()
                if exc is not None:
                    self.abort()
                    raise StorageError(
                        f"writing images under {redact_url(self.base_url)} failed: {exc}"
                    ) from exc
            else:
                pending.append(fut)
        self._futures = pending

    def close(self) -> None:
        try:
            self._reap(block=True)
        finally:
            self._pool.shutdown(wait=True)

    def abort(self) -> None:
        for fut in self._futures:
            fut.cancel()
        self._futures = []
        self._pool.shutdown(wait=True, cancel_futures=True)
