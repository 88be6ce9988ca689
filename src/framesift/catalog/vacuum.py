"""Vacuum: remove what no commit marker references, once it is older than a grace period.

Leftovers come from runs that died (temp files, parts and thumbnails of a generation that
never got its marker, incomplete S3 multipart uploads), from replaced generations whose
retirement was cut short, and from older compaction snapshots. The grace period protects
readers still reading a generation that was just replaced. Vacuum never deletes a file
that the latest commit of a video, or the latest snapshot, references, nor the latest
marker of a video (a deleted video keeps its tombstone, so generation numbers never repeat
and no cached copy can be mistaken for a newer commit), nor anything of a damaged video
(``catalog repair`` decides about those).

Files of a generation that has no marker yet may belong to a commit in flight, whatever
their age: vacuum deletes them only after *fencing* that generation, that is after
creating its marker itself (exclusively) as a copy of the video's latest commit (a
tombstone when it has none). The readers' view does not change, and a writer still in
flight can no longer commit the files: its exclusive create fails and that video fails
with CatalogConflictError. Compacted files of a sequence without a snapshot are fenced
the same way, by a copy of the latest snapshot.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from framesift.catalog import layout
from framesift.catalog.commits import CatalogState, Snapshot, commit_video, load_state
from framesift.catalog.faults import fault_point
from framesift.errors import CatalogConflictError
from framesift.storage import TEMP_MARKER, Storage

__all__ = ["vacuum"]

logger = logging.getLogger(__name__)

_DELETE_ORDER = ("temp_files", "parts", "thumbnails", "compacted", "snapshots", "old_markers")
"""Data before markers, so an interrupted vacuum leaves nothing a reader could see."""


def vacuum(storage: Storage, *, grace_s: float = 3600.0, dry_run: bool = False) -> dict[str, int]:
    """Delete the leftovers at ``storage`` older than ``grace_s`` seconds; returns counts by
    kind (nothing is deleted with ``dry_run``)."""
    now = time.time()
    # Files first, commits second: whatever was committed before the second listing is
    # protected. A write still in flight is protected by the grace period, which must
    # exceed the longest ingest of one video (default: one hour).
    listing = storage.list_files("")
    state = load_state(storage)
    kept = _Referenced.by(state)
    doomed: dict[str, list[str]] = {}
    for key, info in listing.items():
        mtime = info.get("mtime_s")
        old = mtime is not None and now - float(mtime) >= grace_s
        kind = kept.leftover_kind(key, old=old)
        if kind is not None:
            doomed.setdefault(kind, []).append(key)
    if dry_run:  # what a real run would delete once it fenced the pending generations
        for kind in ("parts", "thumbnails", "compacted"):
            doomed.setdefault(kind, []).extend(doomed.pop(f"pending_{kind}", []))
    else:
        _fence(storage, state, doomed)
    counts: Counter[str] = Counter({kind: len(keys) for kind, keys in doomed.items()})
    if not dry_run:
        for kind in _DELETE_ORDER:
            storage.delete(doomed.get(kind, []))
    counts["multipart_uploads"] = _abort_multipart_uploads(storage, now, grace_s, dry_run)
    logger.info("vacuum %s%s: %s", storage.url, " (dry run)" if dry_run else "", dict(counts))
    return dict(counts)


@dataclass(frozen=True)
class _Referenced:
    """What a catalog state references: the files vacuum must keep."""

    generations: Mapping[str, int]
    """video_id -> generation of its latest marker (tombstones and unreadable included)."""
    hidden: frozenset[str]
    """Damaged videos: nothing of theirs is deleted."""
    latest_sequence: int
    parts: frozenset[str]
    thumbs_prefixes: frozenset[str]
    compacted: frozenset[str]
    latest_snapshot: str | None

    @classmethod
    def by(cls, state: CatalogState) -> _Referenced:
        live = [c for c in state.commits.values() if not c.deleted]
        return cls(
            generations={v: max(gs) for v, gs in state.generations.items() if gs},
            hidden=frozenset(state.hidden),
            latest_sequence=max(
                [0, *(layout.parse_snapshot_key(k) or 0 for k in state.snapshot_keys)]
            ),
            parts=frozenset(k for c in live for k in c.parts.values()),
            thumbs_prefixes=frozenset(p for c in live if (p := c.pictures_prefix)),
            compacted=frozenset(state.snapshot.tables.values() if state.snapshot else ()),
            latest_snapshot=state.snapshot_keys[-1] if state.snapshot_keys else None,
        )

    def leftover_kind(self, key: str, *, old: bool) -> str | None:
        """What kind of leftover ``key`` is (one of ``_DELETE_ORDER``), None when it stays.
        Only ``old`` files go, except markers older than their video's latest one."""
        name = os.path.basename(key)
        if name.startswith(".") and TEMP_MARKER in name:
            return "temp_files" if old else None
        top = key.split("/", 1)[0]
        if top == layout.COMMITS:
            marker = layout.parse_commit_key(key)
            if marker is None or marker[0] in self.hidden:
                return None
            latest = self.generations.get(marker[0])
            return "old_markers" if latest is not None and marker[1] < latest else None
        if not old:
            return None
        if top == "tables" and (part := layout.parse_part_key(key)) is not None:
            return None if key in self.parts else self._uncommitted(part[1], part[2], "parts")
        if top == layout.THUMBS and (thumb := layout.parse_thumb_key(key)) is not None:
            if thumb[2] in self.thumbs_prefixes:
                return None
            return self._uncommitted(thumb[0], thumb[1], "thumbnails")
        if top == layout.SNAPSHOTS and layout.parse_snapshot_key(key) is not None:
            return None if key == self.latest_snapshot else "snapshots"
        if top == layout.COMPACT and (compacted := layout.parse_compact_key(key)) is not None:
            if key in self.compacted:
                return None
            return "pending_compacted" if compacted[1] > self.latest_sequence else "compacted"
        return None

    def _uncommitted(self, video_id: str, generation: int, kind: str) -> str | None:
        """``kind`` for a file of a generation that can no longer commit, ``pending`` for
        one of a generation without a marker yet (fence first), None for a damaged video."""
        if video_id in self.hidden:
            return None
        latest = self.generations.get(video_id)
        return f"pending_{kind}" if latest is None or generation > latest else kind


def _fence(storage: Storage, state: CatalogState, doomed: dict[str, list[str]]) -> None:
    """Close the generations (and snapshot sequences) that ``doomed``'s pending files
    belong to, so no commit in flight can reference them; pending files whose fence
    failed (a writer committed first) are kept."""
    by_video: dict[str, list[tuple[int, str, str]]] = {}
    for kind in ("parts", "thumbnails"):
        for key in doomed.pop(f"pending_{kind}", []):
            parsed = layout.parse_part_key(key) or layout.parse_thumb_key(key)
            assert parsed is not None
            video_id = parsed[1] if kind == "parts" else parsed[0]
            generation = parsed[2] if kind == "parts" else parsed[1]
            assert isinstance(video_id, str)
            assert isinstance(generation, int)
            by_video.setdefault(video_id, []).append((generation, kind, key))
    for video_id, files in by_video.items():
        generation = max(g for g, _, _ in files)
        if _fence_video(storage, state, video_id, generation):
            for _, kind, key in files:
                doomed.setdefault(kind, []).append(key)
            doomed.setdefault("old_markers", []).extend(
                layout.commit_key(video_id, g) for g in state.generations.get(video_id, ())
            )
    pending = doomed.pop("pending_compacted", [])
    if pending:
        sequence = max(layout.parse_compact_key(k)[1] for k in pending)  # type: ignore[index]
        base = state.snapshot
        fence = Snapshot(
            sequence,
            dict(base.tables) if base else {},
            dict(base.videos) if base else {},
            datetime.now(UTC).isoformat(),
            dict(base.commits) if base else {},
        )
        if storage.create_exclusive(layout.snapshot_key(sequence), fence.to_json()):
            fault_point("vacuum_fenced")
            doomed.setdefault("compacted", []).extend(pending)


def _fence_video(storage: Storage, state: CatalogState, video_id: str, generation: int) -> bool:
    latest = state.commits.get(video_id)
    try:
        commit_video(
            storage,
            video_id,
            generation,
            dict(latest.parts) if latest else {},
            settings_hash=latest.settings_hash if latest else None,
            source_url=latest.source_url if latest else None,
            thumbs_prefix=latest.thumbs_prefix if latest else None,
            deleted=latest.deleted if latest else True,
        )
    except CatalogConflictError:
        logger.info("vacuum: generation %d of %s was committed meanwhile", generation, video_id)
        return False
    fault_point("vacuum_fenced")
    logger.info("vacuum: fenced uncommitted generation %d of %s", generation, video_id)
    return True


def _abort_multipart_uploads(storage: Storage, now: float, grace_s: float, dry_run: bool) -> int:
    """Abort incomplete multipart uploads under the catalog's prefix (S3 only)."""
    protocols = (
        storage.fs.protocol if isinstance(storage.fs.protocol, tuple) else (storage.fs.protocol,)
    )
    if not {"s3", "s3a"} & set(protocols):
        return 0
    bucket, _, prefix = storage.root.partition("/")
    prefix = f"{prefix}/" if prefix else ""

    def call() -> list[dict[str, Any]]:
        uploads: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = storage.fs.call_s3("list_multipart_uploads", **kwargs)
            uploads.extend(page.get("Uploads", []) or [])
            if not page.get("IsTruncated"):
                return uploads
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = page.get("NextUploadIdMarker")

    aborted = 0
    for upload in storage.run("listing multipart uploads of", prefix, call):
        initiated = upload.get("Initiated")
        age = now - initiated.timestamp() if isinstance(initiated, datetime) else grace_s
        if age < grace_s:
            continue
        aborted += 1
        if not dry_run:
            key: str = upload["Key"]
            upload_id: str = upload["UploadId"]

            def abort(key: str = key, upload_id: str = upload_id) -> None:
                storage.fs.call_s3(
                    "abort_multipart_upload", Bucket=bucket, Key=key, UploadId=upload_id
                )

            storage.run("aborting multipart upload of", key, abort)
    if aborted:
        logger.info(
            "%s %d incomplete multipart uploads (as of %s)",
            "would abort" if dry_run else "aborted",
            aborted,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
    return aborted
