"""Damage a catalog can suffer, found and repaired one video at a time.

A committed part can go missing (an object lost on S3, a file deleted by hand, a vacuum of
an older framesift racing a commit) and a file named like a commit marker can be
unreadable. Either hides only its own video: readers leave it out with a warning
(:func:`hide_damaged`), :func:`check_catalog` reports it per video, and
:func:`repair_catalog` commits a tombstone over it (a new generation, created exclusively,
so it never hides a generation committed meanwhile) and retires its files; ingesting its
source again then brings it back whole. A snapshot that is unreadable or names a missing
compacted file is set aside: every video then reads its own parts until the next
compaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from framesift.catalog import layout
from framesift.catalog.commits import (
    CatalogState,
    Snapshot,
    commit_video,
    load_state,
    marker_generations,
    retire_old_generations,
)
from framesift.catalog.faults import fault_point
from framesift.errors import CatalogConflictError
from framesift.storage import Storage

__all__ = [
    "CatalogHealth",
    "RepairOutcome",
    "VideoDamage",
    "check_catalog",
    "find_damage",
    "hide_damaged",
    "repair_catalog",
]

logger = logging.getLogger(__name__)

UNREADABLE_MARKER = "unreadable marker"
MISSING_PARTS = "missing parts"


@dataclass(frozen=True)
class VideoDamage:
    """One damaged video: what is wrong, which keys, and where it came from."""

    video_id: str
    generation: int
    """The generation of its latest marker (the damaged one)."""
    problem: str
    """``unreadable marker`` or ``missing parts``."""
    keys: tuple[str, ...]
    """The unreadable marker, or the missing parts."""
    detail: str
    source_url: str | None = None

    def __str__(self) -> str:
        where = f" (source {self.source_url})" if self.source_url else ""
        return f"video {self.video_id} generation {self.generation}: {self.detail}{where}"


@dataclass(frozen=True)
class CatalogHealth:
    """What :func:`check_catalog` found."""

    url: str
    videos_checked: int
    damaged: tuple[VideoDamage, ...]
    snapshot_problem: str | None = None

    @property
    def ok(self) -> bool:
        return not self.damaged and self.snapshot_problem is None


@dataclass(frozen=True)
class RepairOutcome:
    """What :func:`repair_catalog` did: the videos hidden by a tombstone (ingest their
    sources again to restore them), those skipped because a newer generation appeared
    meanwhile, and whether the snapshot was set aside."""

    tombstoned: tuple[VideoDamage, ...]
    skipped: tuple[VideoDamage, ...]
    snapshot_reset: bool


def find_damage(
    storage: Storage, state: CatalogState
) -> tuple[dict[str, tuple[str, ...]], str | None]:
    """Committed parts that are missing, by video, and what is wrong with the snapshot
    (one listing of ``tables/``, and of ``compact/`` when there is a snapshot)."""
    listed = set(storage.list_files("tables", stat=False))
    missing: dict[str, tuple[str, ...]] = {}
    for video_id, commit in state.commits.items():
        gone = tuple(sorted(k for k in commit.parts.values() if k not in listed))
        if gone and not commit.deleted:
            missing[video_id] = gone
    problem = state.snapshot_problem
    if state.snapshot is not None and state.snapshot.tables:
        compacted = set(storage.list_files(layout.COMPACT, stat=False))
        lost = sorted(k for k in state.snapshot.tables.values() if k not in compacted)
        if lost:
            problem = f"snapshot {state.snapshot.sequence} names missing files {', '.join(lost)}"
    return missing, problem


def hide_damaged(storage: Storage, state: CatalogState) -> CatalogState:
    """``state`` without the videos whose parts are missing and without a broken snapshot,
    each named in a warning (what a reader does when a read failed)."""
    missing, problem = find_damage(storage, state)
    for video_id, keys in missing.items():
        logger.warning(
            "%s: video %s is hidden: its committed parts %s are missing; run framesift "
            "catalog check / catalog repair, then ingest its source again",
            storage.url,
            video_id,
            ", ".join(keys),
        )
    if problem and problem != state.snapshot_problem:
        logger.warning("%s: %s; reading every video's own parts", storage.url, problem)
    damaged = {v: f"{MISSING_PARTS}: {', '.join(k)}" for v, k in missing.items()}
    return state.with_damage(damaged, problem)


def check_catalog(storage: Storage) -> CatalogHealth:
    """Every video's latest marker read and every committed part looked for."""
    state = load_state(storage)
    missing, problem = find_damage(storage, state)
    damaged: list[VideoDamage] = []
    for video_id, why in sorted(state.unreadable.items()):
        generation = max(state.generations[video_id])
        key = layout.commit_key(video_id, generation)
        damaged.append(VideoDamage(video_id, generation, UNREADABLE_MARKER, (key,), why))
    for video_id, keys in sorted(missing.items()):
        commit = state.commits[video_id]
        detail = f"{len(keys)} of {len(commit.parts)} committed parts missing: {', '.join(keys)}"
        damaged.append(
            VideoDamage(video_id, commit.generation, MISSING_PARTS, keys, detail, commit.source_url)
        )
    checked = len([c for c in state.commits.values() if not c.deleted]) + len(state.unreadable)
    return CatalogHealth(storage.url, checked, tuple(damaged), problem)


def repair_catalog(storage: Storage, health: CatalogHealth) -> RepairOutcome:
    """Hide each damaged video of ``health`` behind a tombstone and retire its files; set
    a broken snapshot aside with an empty one. Safe against concurrent writers: a video
    that got a newer generation since the check is left alone."""
    tombstoned: list[VideoDamage] = []
    skipped: list[VideoDamage] = []
    for damage in health.damaged:
        gens = marker_generations(storage, damage.video_id)
        if not gens or max(gens) != damage.generation:
            skipped.append(damage)
            continue
        generation = damage.generation + 1
        try:
            commit_video(
                storage,
                damage.video_id,
                generation,
                {},
                settings_hash=None,
                source_url=damage.source_url,
                thumbs_prefix=None,
                deleted=True,
            )
        except CatalogConflictError:
            skipped.append(damage)
            continue
        fault_point("repair_tombstoned")
        retire_old_generations(storage, damage.video_id, generation)
        logger.info("%s: video %s hidden by a tombstone (%s)", storage.url, damage.video_id, damage)
        tombstoned.append(damage)
    reset = False
    if health.snapshot_problem:
        state = load_state(storage)
        sequence = max([0, *(layout.parse_snapshot_key(k) or 0 for k in state.snapshot_keys)])
        empty = Snapshot(sequence + 1, {}, {}, datetime.now(UTC).isoformat())
        reset = storage.create_exclusive(layout.snapshot_key(sequence + 1), empty.to_json())
    return RepairOutcome(tuple(tombstoned), tuple(skipped), reset)
