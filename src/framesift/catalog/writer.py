"""``VideoWriter``: writes one generation of one video through the commit protocol (see
:mod:`framesift.catalog.commits`); :meth:`framesift.catalog.Catalog.begin_video` makes one.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import polars as pl

from framesift.catalog import layout
from framesift.catalog.commits import (
    Commit,
    commit_video,
    latest_commit,
    marker_generations,
    retire_old_generations,
    write_parts,
)
from framesift.catalog.faults import fault_point
from framesift.catalog.sink import CatalogImageSink
from framesift.catalog.stages import StageClock
from framesift.errors import CatalogError, StorageError
from framesift.storage import Storage

__all__ = ["VideoWriter", "open_writer", "write_tombstone"]

logger = logging.getLogger(__name__)


@dataclass
class VideoWriter:
    """Writes one generation of one video; nothing is visible until :meth:`commit`.

    >>> w = catalog.begin_video(video_id)                     # doctest: +SKIP
    >>> sink = w.image_sink()                                 # thumbnails under thumbs/
    >>> w.commit({"frames": df, ...}, settings_hash=spec.fingerprint())  # doctest: +SKIP
    """

    storage: Storage
    video_id: str
    generation: int
    previous: Commit | None
    on_commit: Callable[[], None] | None = None
    token: str = "0"

    @property
    def thumbs_prefix(self) -> str:
        return layout.thumbs_prefix(self.video_id, self.generation, self.token)

    def image_sink(self, *, max_workers: int = 8) -> CatalogImageSink:
        return CatalogImageSink(self.storage, self.thumbs_prefix, max_workers=max_workers)

    def commit(
        self,
        tables: Mapping[str, pl.DataFrame],
        *,
        settings_hash: str | None,
        source_url: str | None,
        has_thumbnails: bool = True,
        retire: bool = True,
        carry_over: bool = False,
        clock: StageClock | None = None,
    ) -> Commit:
        """Write the parts, then the marker (the commit point), then retire older
        generations. Raises CatalogConflictError if another writer committed first.

        ``carry_over`` keeps the previous generation's parts (and thumbnails) for the
        tables not given: how the text capability adds ``segments`` to a sampled video
        without copying its frames. ``clock`` times the parts (stage ``write``) and the
        marker with the retirement (``commit``)."""
        unknown = set(tables) - set(layout.DATA_TABLES)
        if unknown:
            raise CatalogError(f"no tables {sorted(unknown)}: tables are {layout.DATA_TABLES}")
        with clock.stage("write") if clock is not None else contextlib.nullcontext():
            parts = write_parts(self.storage, self.video_id, self.generation, tables, self.token)
        began = time.perf_counter()
        thumbs = self.thumbs_prefix if has_thumbnails else None
        if carry_over and self.previous is not None and not self.previous.deleted:
            parts = {**self.previous.parts, **parts}
            thumbs = thumbs or self.previous.thumbs_prefix
        fault_point("after_parts")
        commit = commit_video(
            self.storage,
            self.video_id,
            self.generation,
            parts,
            settings_hash=settings_hash,
            source_url=source_url,
            thumbs_prefix=thumbs,
        )
        if self.on_commit is not None:
            self.on_commit()
        fault_point("after_commit")
        if retire and self.previous is not None:
            try:
                retire_old_generations(self.storage, self.video_id, self.generation, commit)
            except StorageError as exc:  # committed already: vacuum finishes the cleanup
                logger.warning("leaving old generations of %s to vacuum: %s", self.video_id, exc)
        if clock is not None:
            clock.add("commit", time.perf_counter() - began)
        return commit


def open_writer(
    storage: Storage,
    video_id: str,
    settings_hash: str | None,
    is_damaged: Callable[[str, int], bool],
    on_commit: Callable[[], None],
) -> VideoWriter:
    """A writer of the next generation of ``video_id``. An unreadable latest marker is
    written over, and a damaged latest generation (``is_damaged``) is not carried over:
    the video is ingested again. ``on_commit`` runs once the new generation is visible."""
    try:
        previous = latest_commit(storage, layout.check_video_id(video_id))
    except CatalogError as exc:  # its latest marker is unreadable: write over it
        logger.warning("%s; writing a new generation over it", exc)
        previous = None
    generation = max([0, *marker_generations(storage, video_id)]) + 1
    if previous is not None and is_damaged(video_id, previous.generation):
        previous = None  # its parts are lost: ingest it again
    token = (settings_hash or "0").lower()
    if not re.fullmatch(r"[0-9a-f]{1,32}", token):
        token = hashlib.sha256(token.encode()).hexdigest()[:16]
    return VideoWriter(storage, video_id, generation, previous, on_commit, token)


def write_tombstone(writer: VideoWriter) -> bool:
    """Hide ``writer``'s video behind a tombstone commit, then retire its files; False when
    there was nothing to delete."""
    if writer.previous is None or writer.previous.deleted:
        return False
    commit_video(
        writer.storage,
        writer.video_id,
        writer.generation,
        {},
        settings_hash=None,
        source_url=None,
        thumbs_prefix=None,
        deleted=True,
    )
    retire_old_generations(writer.storage, writer.video_id, writer.generation)
    return True
