"""The image sink the catalog hands to the sampling pass: thumbnails go under the
generation's ``thumbs/<video_id>/g<generation>/`` prefix, written in parallel threads
through :class:`~framesift.storage.Storage` (atomic writes, retries with backoff)."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from framesift.catalog.faults import fault_point
from framesift.errors import SettingsError, StorageError
from framesift.sink import ImageSink
from framesift.storage import Storage, join_key

__all__ = ["CatalogImageSink"]

logger = logging.getLogger(__name__)


class CatalogImageSink(ImageSink):
    """Writes images at ``<prefix>/<key>`` with ``max_workers`` threads and at most
    ``max_pending`` images in memory; :meth:`close` waits and raises the first failure."""

    def __init__(
        self, storage: Storage, prefix: str, *, max_workers: int = 8, max_pending: int = 64
    ) -> None:
        self._storage = storage
        self._prefix = join_key(prefix)
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="thumbs")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._futures: list[Future[str]] = []
        self._failure: BaseException | None = None
        self.written = 0

    @property
    def failure(self) -> BaseException | None:
        """The first write that failed, if any."""
        return self._failure

    def _write(self, key: str, data: bytes) -> str:
        try:
            return self._storage.write_bytes(key, data)
        finally:
            self._slots.release()

    def put(self, key: str, data: bytes) -> str:
        try:
            full = join_key(self._prefix, key)
        except SettingsError as exc:
            raise StorageError(f"image key {key!r} is not allowed in a catalog: {exc}") from None
        self._raise_failure(block=False)
        self._slots.acquire()
        self._futures.append(self._pool.submit(self._write, full, data))
        self.written += 1
        fault_point("mid_thumbnails")
        return self._storage.uri(full)

    def _raise_failure(self, *, block: bool) -> None:
        pending: list[Future[str]] = []
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
                f"writing thumbnails under {self._storage.uri(self._prefix)} failed: "
                f"{self._storage.redact(str(self._failure))}"
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
