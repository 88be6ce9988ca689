"""The image sink the catalog hands to the sampling pass: thumbnails go under the
generation's ``thumbs/<video_id>/g<generation>/`` prefix, written in parallel threads
through :class:`~framesift.storage.Storage` (atomic writes, retries with backoff). Each
picture's place in the frames table is its key under the root (see
:mod:`framesift.catalog.image_uris`), so a moved or synced catalog still finds it."""

from __future__ import annotations

import logging

from framesift.catalog.faults import fault_point
from framesift.errors import SettingsError, StorageError
from framesift.sink import ThreadedImageSink
from framesift.storage import Storage, join_key

__all__ = ["CatalogImageSink"]

logger = logging.getLogger(__name__)


class CatalogImageSink(ThreadedImageSink):
    """Writes images at ``<prefix>/<key>`` with ``max_workers`` threads and at most
    ``max_pending`` images in memory; :meth:`close` waits and raises the first failure."""

    def __init__(
        self, storage: Storage, prefix: str, *, max_workers: int = 8, max_pending: int = 64
    ) -> None:
        super().__init__(max_workers=max_workers, max_pending=max_pending)
        self._storage = storage
        self._prefix = join_key(prefix)

    def _describe(self) -> str:
        return self._storage.uri(self._prefix)

    def _redact(self, text: str) -> str:
        return self._storage.redact(text)

    def _locate(self, key: str) -> tuple[str, str]:
        try:
            full = join_key(self._prefix, key)
        except SettingsError as exc:
            raise StorageError(f"image key {key!r} is not allowed in a catalog: {exc}") from None
        return full, full  # the frames table stores the key: see catalog.image_uris

    def _store(self, location: str, data: bytes) -> None:
        self._storage.write_bytes(location, data)

    def put(self, key: str, data: bytes) -> str:
        uri = super().put(key, data)
        fault_point("mid_thumbnails")
        return uri
