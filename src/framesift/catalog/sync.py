"""Sync: copy a catalog's committed videos to another catalog, through the commit protocol.

Local first, S3 later: a catalog made on a laptop is pushed to a bucket (or pulled back, or
copied between any two fsspec locations) with :func:`sync_catalog`
(``Catalog.sync_to``, ``framesift catalog sync SRC DST``). For each video of the source,
its latest commit (a generation, or a tombstone) is compared with what the target holds:

* the target already has that generation: nothing is copied but the pictures it lacks
  (full frames decoded on demand since);
* the target has a newer generation (its own ingest, or a later sync): left alone, so an
  older source never overwrites a newer commit;
* otherwise the files the commit names (its parts, every file under its pictures prefix)
  are copied, in parallel, skipping each one the target already holds with the same size
  (an interrupted sync resumes where it stopped: each write is atomic, so a file that is
  there is whole), and **then** the commit marker, as read, created exclusively: the
  moment the video becomes visible at the target, whole. Older generations at the target
  are retired as a writer retires them. A tombstone is copied as a marker and hides the
  video there too.

A sync killed at any point leaves the target as a writer killed at the same point would:
files without a marker are invisible (vacuum removes them, or the next sync completes
them), and a marker is never written before the files it names. Nothing is duplicated:
a marker key is created once, and a video is visible at one generation.

The ledger (``jobs/``) follows: an entry is copied when the target lacks it or holds an
older one (by ``updated_at``). Snapshots and compacted files are derived and not copied:
compact the target when its full-table queries should be fast.

Files are copied by a bounded thread pool over fsspec (``max_workers`` objects in flight,
each read whole into memory, then written atomically); videos are worked on a few at a
time, so small files of one video and large parts of another overlap.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from framesift.catalog import layout
from framesift.catalog.commits import CatalogState, Commit, load_state, retire_old_generations
from framesift.catalog.faults import fault_point
from framesift.catalog.version import open_catalog_root
from framesift.errors import StorageError, SyncError
from framesift.plural import counted
from framesift.storage import Storage

__all__ = ["SyncFailure", "SyncReport", "sync_catalog"]

logger = logging.getLogger(__name__)

Listing = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class SyncFailure:
    """A video that could not be copied (the rest of the sync went on)."""

    video_id: str
    error_type: str
    message: str
    """Without credentials."""

    def __str__(self) -> str:
        return f"{self.video_id}: {self.error_type}: {self.message}"


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    source_url: str
    target_url: str
    copied: tuple[str, ...] = ()
    """Videos made visible at the target (a new generation)."""
    tombstones: tuple[str, ...] = ()
    """Deletions carried over (the video is hidden at the target too)."""
    present: int = 0
    """Videos the target already held at the source's generation."""
    newer_at_target: tuple[str, ...] = ()
    """Videos the target holds at a newer generation: left alone."""
    conflicts: tuple[str, ...] = ()
    """Videos the target committed at the same generation with other content: left alone."""
    failed: tuple[SyncFailure, ...] = ()
    objects_copied: int = 0
    """Files copied: parts, pictures and commit markers (ledger entries apart)."""
    bytes_copied: int = 0
    objects_present: int = 0
    """Files the target already held (same key and size): not copied again."""
    ledger_entries: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed

    def raise_failures(self) -> None:
        """Raise :class:`~framesift.errors.SyncError` naming the videos that failed."""
        if self.failed:
            raise SyncError(
                f"sync {self.source_url} -> {self.target_url}: "
                f"{counted(len(self.failed), 'video')} not copied ("
                + "; ".join(str(f) for f in self.failed[:3])
                + "); run it again"
            )

    def __str__(self) -> str:
        mb = self.bytes_copied / 1e6
        return (
            f"{counted(len(self.copied), 'video')} copied, "
            f"{counted(len(self.tombstones), 'deletion')}, "
            f"{self.present} already there, {len(self.newer_at_target)} newer there, "
            f"{counted(len(self.conflicts), 'conflict')}, {len(self.failed)} failed; "
            f"{counted(self.objects_copied, 'file')} ({mb:.1f} MB) copied, "
            f"{self.objects_present} already there, "
            f"{counted(self.ledger_entries, 'ledger entry', 'ledger entries')}, "
            f"in {self.seconds:.1f} s"
        )


@dataclass
class _Tally:
    """Counts of a sync in progress (list appends are atomic; counters take the lock)."""

    copied: list[str] = field(default_factory=list)
    tombstones: list[str] = field(default_factory=list)
    present: int = 0
    newer: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    failed: list[SyncFailure] = field(default_factory=list)
    objects: int = 0
    bytes: int = 0
    objects_present: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, *, objects: int = 0, size: int = 0, present: int = 0) -> None:
        with self.lock:
            self.objects += objects
            self.bytes += size
            self.objects_present += present


def sync_catalog(
    source: Storage,
    target: Storage,
    *,
    video_ids: Iterable[str] | None = None,
    ledger: bool = True,
    max_workers: int = 16,
    on_video: Callable[[str], None] | None = None,
) -> SyncReport:
    """Copy the committed videos of the catalog at ``source`` to the one at ``target``
    (created when missing), as the module describes; ``video_ids`` limits it to those
    videos. Per-video failures are in the report (see :meth:`SyncReport.raise_failures`);
    a target or source that cannot be used at all raises at once.
    ``on_video(video_id)`` hears of each video made visible at the target."""
    if max_workers < 1:
        raise ValueError(f"max_workers={max_workers}: allowed 1 or more")
    started = time.perf_counter()
    open_catalog_root(source, create=False)
    open_catalog_root(target, create=True)
    wanted = None if video_ids is None else {layout.check_video_id(v) for v in video_ids}
    src_state, dst_state = load_state(source), load_state(target)
    tally = _Tally()
    for video_id, why in src_state.unreadable.items():
        if wanted is None or video_id in wanted:
            logger.warning("%s: not syncing video %s: %s", source.url, video_id, why)
            tally.failed.append(SyncFailure(video_id, "CatalogError", source.redact(why)))
    commits = {v: c for v, c in src_state.commits.items() if wanted is None or v in wanted}
    src_files = _listing(source, commits)
    dst_files = _listing(target, commits)
    with (
        ThreadPoolExecutor(max_workers, thread_name_prefix="sync-file") as files,
        ThreadPoolExecutor(max(1, max_workers // 4), thread_name_prefix="sync-video") as videos,
    ):
        copier = _Copier(source, target, files, tally, src_files, dst_files)
        pending = [
            videos.submit(copier.video, commit, dst_state, on_video)
            for commit in sorted(commits.values(), key=lambda c: c.video_id)
        ]
        for future in pending:
            future.result()
    entries = _sync_ledger(source, target) if ledger else 0
    report = SyncReport(
        source_url=source.url,
        target_url=target.url,
        copied=tuple(sorted(tally.copied)),
        tombstones=tuple(sorted(tally.tombstones)),
        present=tally.present,
        newer_at_target=tuple(sorted(tally.newer)),
        conflicts=tuple(sorted(tally.conflicts)),
        failed=tuple(sorted(tally.failed, key=lambda f: f.video_id)),
        objects_copied=tally.objects,
        bytes_copied=tally.bytes,
        objects_present=tally.objects_present,
        ledger_entries=entries,
        seconds=time.perf_counter() - started,
    )
    logger.info("sync %s -> %s: %s", source.url, target.url, report)
    return report


def _listing(storage: Storage, commits: Mapping[str, Commit]) -> dict[str, dict[str, Any]]:
    """Sizes of the parts and pictures under ``storage`` of the videos of ``commits``: the
    whole ``tables/`` and ``thumbs/`` folders for many videos, each video's own folders
    for a few (a mirror syncs one video at a time)."""
    if len(commits) > 4:
        return {**storage.list_files(layout.TABLES_DIR), **storage.list_files(layout.THUMBS)}
    found: dict[str, dict[str, Any]] = {}
    for video_id in commits:
        found.update(storage.list_files(f"{layout.THUMBS}/{video_id}"))
        for table in layout.DATA_TABLES:
            found.update(storage.list_files(f"{layout.TABLES_DIR}/{table}/{video_id}"))
    return found


@dataclass
class _Copier:
    source: Storage
    target: Storage
    pool: ThreadPoolExecutor
    tally: _Tally
    src_files: Listing
    dst_files: Listing

    def video(
        self, commit: Commit, dst_state: CatalogState, on_video: Callable[[str], None] | None
    ) -> None:
        """Bring one video's latest commit over (see the module's description)."""
        video_id, generation = commit.video_id, commit.generation
        there = max(dst_state.generations.get(video_id, (0,)))
        try:
            if there > generation:
                logger.info("%s: video %s is newer there", self.target.url, video_id)
                self.tally.newer.append(video_id)
            elif there == generation:
                self._present(commit, dst_state.commits.get(video_id))
            elif self._copy_commit(commit, retire=there > 0):
                (self.tally.tombstones if commit.deleted else self.tally.copied).append(video_id)
                if on_video is not None:
                    on_video(video_id)
        except (StorageError, FileNotFoundError) as exc:
            message = self.target.redact(self.source.redact(str(exc)))
            logger.warning("sync of video %s failed: %s", video_id, message)
            self.tally.failed.append(SyncFailure(video_id, type(exc).__name__, message))

    def _present(self, commit: Commit, theirs: Commit | None) -> None:
        if theirs is not None and theirs.to_json() != commit.to_json():
            logger.warning(
                "%s: generation %d of video %s was committed there with other content; "
                "left alone", self.target.url, commit.generation, commit.video_id,
            )  # fmt: skip
            self.tally.conflicts.append(commit.video_id)
            return
        self._copy_files(self._pictures(commit))  # pictures cached since (full frames)
        with self.tally.lock:
            self.tally.present += 1

    def _pictures(self, commit: Commit) -> list[str]:
        prefix = commit.pictures_prefix
        if prefix is None or commit.deleted:
            return []
        return sorted(k for k in self.src_files if k.startswith(prefix + "/"))

    def _copy_commit(self, commit: Commit, *, retire: bool) -> bool:
        """Files first, the marker last; False when another writer committed the same
        generation there first."""
        files = [] if commit.deleted else [*commit.parts.values(), *self._pictures(commit)]
        self._copy_files(files)
        fault_point("sync_files_copied")
        marker = layout.commit_key(commit.video_id, commit.generation)
        data = commit.to_json()  # as read and checked (a framesift marker's very bytes)
        if not self.target.create_exclusive(marker, data):
            logger.warning(
                "%s: another writer committed generation %d of video %s first; left alone",
                self.target.url, commit.generation, commit.video_id,
            )  # fmt: skip
            self.tally.conflicts.append(commit.video_id)
            return False
        self.tally.count(objects=1, size=len(data))
        fault_point("sync_committed")
        if retire:
            try:
                retire_old_generations(self.target, commit.video_id, commit.generation, commit)
            except StorageError as exc:  # visible already: vacuum finishes the cleanup
                logger.warning("leaving old generations of %s to vacuum: %s", commit.video_id, exc)
        return True

    def _copy_files(self, keys: Iterable[str]) -> None:
        """Copy ``keys`` the target lacks (or holds at another size), in the pool; raises
        the first failure once all are done."""
        futures: list[Future[None]] = []
        for key in keys:
            theirs = self.dst_files.get(key)
            size = (self.src_files.get(key) or {}).get("size")
            if theirs is not None and size is not None and theirs.get("size") == size:
                self.tally.count(present=1)
                continue
            futures.append(self.pool.submit(self._copy_one, key))
        failure: BaseException | None = None
        for future in futures:
            exc = future.exception()
            failure = failure or exc
        if failure is not None:
            raise failure

    def _copy_one(self, key: str) -> None:
        data = self.source.read_bytes(key)
        fault_point("sync_mid_files")
        self.target.write_bytes(key, data)
        self.tally.count(objects=1, size=len(data))


def _sync_ledger(source: Storage, target: Storage) -> int:
    """Copy the ledger entries the target lacks or holds older; how many were copied."""
    keys = [k for k in source.list_files(layout.JOBS, stat=False) if _is_entry(k)]
    theirs = set(k for k in target.list_files(layout.JOBS, stat=False) if _is_entry(k))
    ours = source.read_many(keys)
    old = target.read_many(k for k in keys if k in theirs)
    copied = 0
    for key, data in sorted(ours.items()):
        if key in old and _updated_at(old[key]) >= _updated_at(data):
            continue
        target.write_bytes(key, data)
        copied += 1
    return copied


def _is_entry(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return name.endswith(".json") and not name.startswith(".")


def _updated_at(data: bytes) -> str:
    try:
        return str(json.loads(data).get("updated_at") or "")
    except (ValueError, AttributeError):
        return ""
