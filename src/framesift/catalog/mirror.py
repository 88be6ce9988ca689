"""A mirror: each video committed to a catalog is synced to another location in the
background, so searching starts locally at once and the copy follows (``ingest(...,
mirror="s3://bucket/catalog")``, ``framesift ingest --mirror URL``).

:class:`CatalogMirror` holds a bounded queue of committed video ids and one thread that
syncs them (a few at a time, with :func:`~framesift.catalog.sync.sync_catalog`); when the
queue is full, the batch waits for it (memory stays bounded, the copy never falls
arbitrarily far behind). :meth:`CatalogMirror.close` waits for the queue, then runs one
full sync (the ledger, and any video a failed copy left behind), and returns a
:class:`MirrorReport`. A failure to copy never fails the local commit: it is reported as
a typed :class:`~framesift.errors.SyncError` per video, and the next sync (or ingest with
the mirror) copies what is missing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from framesift.catalog.job import IngestOutcome
from framesift.catalog.sync import SyncFailure, SyncReport, sync_catalog
from framesift.errors import FramesiftError, SyncError
from framesift.plural import counted
from framesift.storage import RetryPolicy, Storage

__all__ = ["CatalogMirror", "MirrorReport"]

logger = logging.getLogger(__name__)

_CLOSE = ""
_MIRRORED = ("ingested", "replaced", "updated")


@dataclass(frozen=True)
class MirrorReport:
    """What a mirror copied during a batch, and what it could not."""

    target_url: str
    copied: tuple[str, ...] = ()
    """Videos made visible at the mirror."""
    failed: tuple[SyncFailure, ...] = ()
    """Videos (or, with ``video_id`` ``*``, whole syncs) that could not be copied."""
    seconds: float = 0.0

    @property
    def errors(self) -> tuple[SyncError, ...]:
        """The failures as typed errors (for callers that raise or log them)."""
        return tuple(SyncError(f"mirror {self.target_url}: {f}") for f in self.failed)

    def __str__(self) -> str:
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return f"mirror {self.target_url}: {counted(len(self.copied), 'video')} copied{failed}"


class CatalogMirror:
    """Syncs each committed video of the catalog at ``source`` to ``url`` in a thread."""

    def __init__(
        self,
        source: Storage,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        retry: RetryPolicy | None = None,
        max_pending: int = 256,
        max_workers: int = 8,
    ) -> None:
        self.source = source
        self.target = Storage(url, storage_options, retry=retry)
        self._max_workers = max_workers
        self._queue: queue.Queue[str] = queue.Queue(maxsize=max_pending)
        self._copied: list[str] = []
        self._failed: dict[str, SyncFailure] = {}
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name="framesift-mirror", daemon=True)
        self._thread.start()

    def committed(self, video_id: str) -> None:
        """Queue a video just committed (waits while the queue is full)."""
        self._queue.put(video_id)

    def hear(self, outcome: IngestOutcome) -> None:
        """Queue the video of a batch's outcome when it committed something."""
        if outcome.video_id and outcome.status in _MIRRORED:
            self.committed(outcome.video_id)

    def close(self, *, final_sync: bool = True) -> MirrorReport:
        """Wait for the queued videos, then (``final_sync``) sync everything once more:
        the ledger, and what a failed copy left behind."""
        self._queue.put(_CLOSE)
        self._thread.join()
        if final_sync:
            report = self._sync(None)
            if report is not None:
                self._failed = {f.video_id: f for f in report.failed}
        return MirrorReport(
            self.target.url,
            tuple(sorted(set(self._copied))),
            tuple(self._failed[k] for k in sorted(self._failed)),
            time.perf_counter() - self._started,
        )

    def _run(self) -> None:
        closing = False
        while not closing:
            batch = [self._queue.get()]
            while True:  # whatever else is waiting goes in the same sync
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            closing = _CLOSE in batch
            ids = sorted({v for v in batch if v != _CLOSE})
            if ids:
                self._sync(ids)

    def _sync(self, video_ids: list[str] | None) -> SyncReport | None:
        try:
            report = sync_catalog(
                self.source,
                self.target,
                video_ids=video_ids,
                ledger=video_ids is None,
                max_workers=self._max_workers,
                on_video=self._copied.append,
            )
        except FramesiftError as exc:  # the mirror cannot be reached or used at all
            message = self.target.redact(self.source.redact(str(exc)))
            logger.warning("mirror %s: %s: %s", self.target.url, type(exc).__name__, message)
            for video_id in video_ids or ["*"]:
                self._failed[video_id] = SyncFailure(video_id, type(exc).__name__, message)
            return None
        for failure in report.failed:
            self._failed[failure.video_id] = failure
        for video_id in report.copied:
            self._failed.pop(video_id, None)
        return report
