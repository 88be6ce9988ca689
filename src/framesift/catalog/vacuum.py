"""Vacuum: remove what no commit marker references, once it is older than a grace period.

Leftovers come from runs that died (temp files, parts and thumbnails of a generation that
never got its marker, incomplete S3 multipart uploads), from replaced generations whose
retirement was cut short, and from older compaction snapshots. The grace period protects
writes in flight in other processes (their files are not referenced *yet*) and readers
still reading a generation that was just replaced. Vacuum never deletes a file that the
latest commit of a video, or the latest snapshot, references, nor the latest marker of a
video (a deleted video keeps its tombstone, so generation numbers never repeat and no
cached copy can be mistaken for a newer commit).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from framesift.catalog import layout
from framesift.storage import TEMP_MARKER

if TYPE_CHECKING:
    from framesift.catalog.catalog import Catalog

__all__ = ["vacuum"]

logger = logging.getLogger(__name__)


def vacuum(catalog: Catalog, *, grace_s: float = 3600.0, dry_run: bool = False) -> dict[str, int]:
    """Delete leftovers older than ``grace_s`` seconds; returns counts by kind."""
    storage = catalog.storage
    now = time.time()
    # Files first, commits second: whatever was committed before the second listing is
    # protected. A write still in flight is protected by the grace period, which must
    # exceed the longest ingest of one video (default: one hour).
    listing = storage.list_files("")
    state = catalog.refresh()
    live = state.live

    def old(info: dict[str, Any]) -> bool:
        mtime = info.get("mtime_s")
        return mtime is not None and now - float(mtime) >= grace_s

    referenced_parts = {k for c in live.values() for k in c.parts.values()}
    referenced_thumbs = {c.thumbs_prefix for c in live.values() if c.thumbs_prefix}
    snapshot_files = set(state.snapshot.tables.values()) if state.snapshot else set()
    latest_snapshot = state.snapshot_keys[-1] if state.snapshot_keys else None

    doomed: dict[str, list[str]] = {}

    def drop(kind: str, key: str) -> None:
        doomed.setdefault(kind, []).append(key)

    for key, info in listing.items():
        name = os.path.basename(key)
        if name.startswith(".") and TEMP_MARKER in name:
            if old(info):
                drop("temp_files", key)
            continue
        top = key.split("/", 1)[0]
        if top == layout.COMMITS:
            parsed = layout.parse_commit_key(key)
            if parsed is None:
                continue
            video_id, generation = parsed
            latest = state.commits.get(video_id)
            if latest is not None and generation < latest.generation:
                drop("old_markers", key)
        elif top == "tables":
            if layout.parse_part_key(key) is not None and key not in referenced_parts and old(info):
                drop("parts", key)
        elif top == layout.THUMBS:
            parsed_thumb = layout.parse_thumb_key(key)
            if parsed_thumb is None:
                continue
            prefix = parsed_thumb[2]
            if prefix not in referenced_thumbs and old(info):
                drop("thumbnails", key)
        elif top == layout.SNAPSHOTS:
            if layout.parse_snapshot_key(key) is not None and key != latest_snapshot and old(info):
                drop("snapshots", key)
        elif (
            top == layout.COMPACT
            and layout.parse_compact_key(key) is not None
            and key not in snapshot_files
            and old(info)
        ):
            drop("compacted", key)

    counts: Counter[str] = Counter({kind: len(keys) for kind, keys in doomed.items()})
    if not dry_run:
        # Data before markers, so an interrupted vacuum leaves nothing a reader could see.
        for kind in ("temp_files", "parts", "thumbnails", "compacted", "snapshots", "old_markers"):
            storage.delete(doomed.get(kind, []))
    counts["multipart_uploads"] = _abort_multipart_uploads(catalog, now, grace_s, dry_run)
    logger.info("vacuum %s%s: %s", catalog.url, " (dry run)" if dry_run else "", dict(counts))
    return dict(counts)


def _abort_multipart_uploads(catalog: Catalog, now: float, grace_s: float, dry_run: bool) -> int:
    """Abort incomplete multipart uploads under the catalog's prefix (S3 only)."""
    storage = catalog.storage
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
    for upload in storage._run("listing multipart uploads of", prefix, call):
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

            storage._run("aborting multipart upload of", key, abort)
    if aborted:
        logger.info(
            "%s %d incomplete multipart uploads (as of %s)",
            "would abort" if dry_run else "aborted",
            aborted,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )
    return aborted
