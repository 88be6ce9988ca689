"""The commit protocol: how a video's rows become visible all at once, or not at all.

Writing generation ``g`` of a video:

1. thumbnails go under ``thumbs/<video_id>/g<g>/`` and one Parquet part per table under
   ``tables/<table>/<video_id>/g<g>.parquet`` (each write atomic; none of it is visible);
2. the commit marker ``commits/<video_id>/<g>.json`` is created *exclusively* (local:
   ``os.link``; S3: ``If-None-Match: *``). It names the parts, the settings hash and the
   source. This one small write is the moment the video becomes visible;
3. the parts, thumbnails and markers of older generations are deleted (best effort:
   ``vacuum`` finishes the job if the process dies here).

Readers list ``commits/`` and take, per video, the marker with the highest generation;
only the parts it names are read. ``g`` is the latest committed generation plus one, so a
run that died before its commit and is run again writes to the same keys (overwriting its
own leftovers, never duplicating), while the previous generation stays visible and intact
until the new marker exists. Two writers racing for the same video both aim at the same
marker key; the exclusive create lets exactly one win and the other gets
:class:`~framesift.errors.CatalogConflictError`.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

import polars as pl

from framesift.catalog import layout
from framesift.catalog.tables import conform
from framesift.catalog.version import framesift_version
from framesift.errors import CatalogConflictError, CatalogError
from framesift.storage import Storage

__all__ = [
    "CatalogState",
    "Commit",
    "Snapshot",
    "commit_video",
    "latest_commit",
    "load_state",
    "marker_generations",
    "parquet_bytes",
    "part_version",
    "retire_old_generations",
    "write_parts",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commit:
    """A commit marker: generation ``generation`` of ``video_id`` is visible."""

    video_id: str
    generation: int
    parts: Mapping[str, str]
    """Table name -> part key (tables without rows have no part)."""
    settings_hash: str | None = None
    source_url: str | None = None
    thumbs_prefix: str | None = None
    committed_at: str = ""
    framesift_version: str = ""
    deleted: bool = False
    """A tombstone: the video was removed from the catalog."""

    @property
    def pictures_prefix(self) -> str | None:
        """Where this generation's pictures live: its thumbnails' prefix or, without
        thumbnails, the one beside its frames part (full frames decoded on demand are
        cached there); None for a commit without frames."""
        if self.thumbs_prefix:
            return self.thumbs_prefix
        frames = self.parts.get("frames")
        return layout.pictures_beside(frames) if frames else None

    def to_json(self) -> bytes:
        data = asdict(self)
        data["parts"] = dict(self.parts)
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes, key: str) -> Commit:
        try:
            raw = json.loads(data)
            commit = cls(
                video_id=layout.check_video_id(raw["video_id"]),
                generation=int(raw["generation"]),
                parts={str(t): str(k) for t, k in raw["parts"].items()},
                settings_hash=raw.get("settings_hash"),
                source_url=raw.get("source_url"),
                thumbs_prefix=raw.get("thumbs_prefix"),
                committed_at=str(raw.get("committed_at", "")),
                framesift_version=str(raw.get("framesift_version", "")),
                deleted=bool(raw.get("deleted", False)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CatalogError(f"commit marker {key} is unreadable ({exc})") from None
        for table, part in commit.parts.items():
            parsed = layout.parse_part_key(part)
            if (
                table not in layout.DATA_TABLES
                or parsed is None
                or parsed[:2]
                != (
                    table,
                    commit.video_id,
                )
            ):
                raise CatalogError(f"commit marker {key} names a foreign part {part!r}")
        return commit


@dataclass(frozen=True)
class Snapshot:
    """A compaction snapshot: per table one Parquet file holding the rows of ``videos``
    (video_id -> generation) as committed when it was made."""

    sequence: int
    tables: Mapping[str, str]
    videos: Mapping[str, int]
    created_at: str = ""
    commits: Mapping[str, Commit] = field(default_factory=dict)
    """Copies of the commit markers it holds, so a reader opening the catalog reads one
    snapshot instead of one marker per video (markers stay the source of truth: a copy
    is used only when the marker listed for that video has the same generation)."""

    @property
    def version(self) -> str:
        """The version its compacted files are cached under (sequence and creation time:
        a compacted key written again by a later snapshot gets a new cache file)."""
        return f"snapshot {self.sequence}@{self.created_at}"

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "sequence": self.sequence,
                "tables": dict(self.tables),
                "videos": dict(self.videos),
                "created_at": self.created_at,
                "commits": {v: json.loads(c.to_json()) for v, c in self.commits.items()},
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, data: bytes, key: str) -> Snapshot:
        try:
            raw = json.loads(data)
            snap = cls(
                sequence=int(raw["sequence"]),
                tables={str(t): str(k) for t, k in raw["tables"].items()},
                videos={layout.check_video_id(v): int(g) for v, g in raw["videos"].items()},
                created_at=str(raw.get("created_at", "")),
                commits={
                    v: Commit.from_json(json.dumps(c).encode(), f"{key}#{v}")
                    for v, c in (raw.get("commits") or {}).items()
                },
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CatalogError(f"snapshot {key} is unreadable ({exc})") from None
        for table, compact in snap.tables.items():
            parsed = layout.parse_compact_key(compact)
            # A snapshot may name an older sequence's files: vacuum's fence is a copy.
            if parsed is None or parsed[0] != table or parsed[1] > snap.sequence:
                raise CatalogError(f"snapshot {key} names a foreign file {compact!r}")
        return snap


@dataclass(frozen=True)
class TableSources:
    """Where a reader finds the visible rows of one table."""

    compact_key: str | None
    """The compacted file, or None."""
    compact_video_ids: tuple[str, ...]
    """Videos whose rows are read from the compacted file (their generation there is the
    committed one); its rows of other videos are stale and must be filtered out."""
    part_keys: tuple[str, ...]
    """Per-video parts of the videos committed since the snapshot."""


@dataclass(frozen=True)
class CatalogState:
    """What a reader sees: the latest commit of every video, and the latest snapshot."""

    commits: Mapping[str, Commit]
    """video_id -> its latest commit (tombstones included)."""
    generations: Mapping[str, tuple[int, ...]]
    """video_id -> every generation with a marker still present (for vacuum)."""
    snapshot: Snapshot | None
    snapshot_keys: tuple[str, ...] = field(default=())
    unreadable: Mapping[str, str] = field(default_factory=dict)
    """video_id -> why its latest commit marker cannot be read (the video is hidden)."""
    damaged: Mapping[str, str] = field(default_factory=dict)
    """video_id -> what is missing of its latest commit (found by a reader or a check;
    the video is hidden until ``catalog repair`` or a re-ingest)."""
    snapshot_problem: str | None = None
    """Why the latest snapshot is not used (unreadable, or a compacted file is missing)."""

    @property
    def live(self) -> dict[str, Commit]:
        """The visible videos: latest commits that are neither tombstones nor damaged."""
        return {v: c for v, c in self.commits.items() if not c.deleted and v not in self.damaged}

    @property
    def hidden(self) -> dict[str, str]:
        """video_id -> why it is not shown (an unreadable marker or missing parts)."""
        return {**self.unreadable, **self.damaged}

    def with_damage(
        self, damaged: Mapping[str, str], snapshot_problem: str | None = None
    ) -> CatalogState:
        """This state with ``damaged`` videos hidden and, given a ``snapshot_problem``,
        without its snapshot (every video then reads its own parts)."""
        return replace(
            self,
            damaged={**self.damaged, **damaged},
            snapshot=None if snapshot_problem else self.snapshot,
            snapshot_problem=snapshot_problem or self.snapshot_problem,
        )

    @property
    def token(self) -> tuple[object, ...]:
        """Equal for equal visible states (cache key for query connections)."""
        return (
            tuple(sorted((v, c.generation) for v, c in self.commits.items())),
            self.snapshot.sequence if self.snapshot else None,
            tuple(sorted(self.damaged)),
        )

    def sources(self, table: str) -> TableSources:
        live = self.live
        covered: list[str] = []
        compact = None
        if self.snapshot is not None and table in self.snapshot.tables:
            compact = self.snapshot.tables[table]
            covered = sorted(
                v for v, g in self.snapshot.videos.items() if v in live and live[v].generation == g
            )
        covered_set = set(covered)
        fresh = sorted(
            c.parts[table] for v, c in live.items() if v not in covered_set and table in c.parts
        )
        return TableSources(compact, tuple(covered), tuple(fresh))

    def part_version(self, key: str) -> str:
        """The version of a part key in this state (see :func:`part_version`)."""
        parsed = layout.parse_part_key(key)
        return part_version(key, self.commits.get(parsed[1]) if parsed else None)

    def stale_in_snapshot(self) -> int:
        """How many videos of the snapshot are superseded or deleted since."""
        if self.snapshot is None:
            return 0
        live = self.live
        return sum(
            1 for v, g in self.snapshot.videos.items() if v not in live or live[v].generation != g
        )


def part_version(key: str, commit: Commit | None) -> str:
    """The version a committed part is cached under: its key and its commit's time, so a key
    written again by a later commit is never mistaken for the old file."""
    return f"{key}@{commit.committed_at if commit else ''}"


_MARKER_CACHE: dict[tuple[str, str], Commit] = {}
"""(catalog identity, marker key) -> Commit. Markers are immutable once created, and
generation numbers never repeat (vacuum keeps every video's latest marker)."""
_SNAPSHOT_CACHE: dict[tuple[str, str], Snapshot] = {}


def _read_markers(
    storage: Storage, keys: Iterable[str], problems: dict[str, str] | None = None
) -> dict[str, Commit]:
    """The markers at ``keys`` (vanished ones left out). An unreadable marker raises
    CatalogError, or, given ``problems``, is recorded there (key -> why) and left out."""
    out: dict[str, Commit] = {}
    missing: list[str] = []
    for key in keys:
        cached = _MARKER_CACHE.get((storage.identity, key))
        if cached is not None:
            out[key] = cached
        else:
            missing.append(key)
    # A marker that vanished between listing and reading (vacuum retiring an old
    # generation) is simply absent from the answer.
    raw = storage.read_many(missing)
    for key, data in raw.items():
        try:
            commit = Commit.from_json(data, key)
            if layout.parse_commit_key(key) != (commit.video_id, commit.generation):
                raise CatalogError(
                    f"commit marker {key} holds generation {commit.generation} of {commit.video_id}"
                )
        except CatalogError as exc:
            if problems is None:
                raise CatalogError(f"{exc}: run framesift catalog repair") from None
            problems[key] = str(exc)
            continue
        _MARKER_CACHE[(storage.identity, key)] = commit
        out[key] = commit
    return out


def load_state(storage: Storage) -> CatalogState:
    """List the markers and snapshots and read the ones not seen before.

    Damage stays local: a video whose latest marker is unreadable is left out (and named
    in ``unreadable``); an unreadable snapshot is not used (``snapshot_problem``)."""
    generations: dict[str, list[int]] = {}
    for key in storage.list_files(layout.COMMITS, stat=False):
        parsed = layout.parse_commit_key(key)
        if parsed is None:
            continue  # a temp file or a stranger: vacuum's business
        generations.setdefault(parsed[0], []).append(parsed[1])
    latest_keys = {v: layout.commit_key(v, max(gs)) for v, gs in generations.items()}
    snapshot_keys = sorted(
        k for k in storage.list_files(layout.SNAPSHOTS, stat=False) if layout.parse_snapshot_key(k)
    )
    snapshot, snapshot_problem = None, None
    if snapshot_keys:
        try:
            snapshot = _read_snapshot(storage, snapshot_keys[-1])
        except (CatalogError, FileNotFoundError) as exc:
            snapshot_problem = f"snapshot {snapshot_keys[-1]} is unreadable ({exc})"
            logger.warning("%s: %s; reading every video's own parts", storage.url, snapshot_problem)
    problems: dict[str, str] = {}
    markers = _read_markers(storage, latest_keys.values(), problems)
    commits: dict[str, Commit] = {}
    unreadable: dict[str, str] = {}
    for video_id, key in latest_keys.items():
        if key in problems:
            unreadable[video_id] = problems[key]
            logger.warning("%s: video %s is hidden: %s", storage.url, video_id, problems[key])
        elif key in markers:
            commits[video_id] = markers[key]
        else:  # the newest marker vanished mid-read: only vacuum deletes markers, and never
            # the newest, so this is a concurrent tombstone purge; treat as gone.
            logger.debug("marker %s vanished while reading", key)
    return CatalogState(
        commits=commits,
        generations={v: tuple(sorted(gs)) for v, gs in generations.items()},
        snapshot=snapshot,
        snapshot_keys=tuple(snapshot_keys),
        unreadable=unreadable,
        snapshot_problem=snapshot_problem,
    )


def _read_snapshot(storage: Storage, key: str) -> Snapshot:
    snapshot = _SNAPSHOT_CACHE.get((storage.identity, key))
    if snapshot is None:
        snapshot = Snapshot.from_json(storage.read_bytes(key), key)
        _SNAPSHOT_CACHE[(storage.identity, key)] = snapshot
        for copy in snapshot.commits.values():  # seed the marker cache
            marker = layout.commit_key(copy.video_id, copy.generation)
            _MARKER_CACHE.setdefault((storage.identity, marker), copy)
    return snapshot


def marker_generations(storage: Storage, video_id: str) -> list[int]:
    """Generations of every marker of one video, readable or not, oldest first."""
    prefix = f"{layout.COMMITS}/{layout.check_video_id(video_id)}"
    return sorted(
        parsed[1]
        for key in storage.list_files(prefix, stat=False)
        if (parsed := layout.parse_commit_key(key)) is not None
    )


def latest_commit(storage: Storage, video_id: str) -> Commit | None:
    """The latest commit of one video (one listing of its marker folder)."""
    gens = marker_generations(storage, video_id)
    while gens:
        key = layout.commit_key(video_id, max(gens))
        found = _read_markers(storage, [key])
        if key in found:
            return found[key]
        gens.remove(max(gens))
    return None


def parquet_bytes(df: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def write_parts(
    storage: Storage,
    video_id: str,
    generation: int,
    tables: Mapping[str, pl.DataFrame],
    token: str = "0",
) -> dict[str, str]:
    """Write one Parquet part per table (rows conformed to the table's schema, the video id
    filled in). Returns table -> key, for the commit marker. Nothing is visible yet."""
    parts: dict[str, str] = {}
    for table, df in tables.items():
        key = layout.part_key(table, video_id, generation, token)
        storage.write_bytes(key, parquet_bytes(conform(df, table, video_id=video_id)))
        parts[table] = key
    return parts


def commit_video(
    storage: Storage,
    video_id: str,
    generation: int,
    parts: Mapping[str, str],
    *,
    settings_hash: str | None,
    source_url: str | None,
    thumbs_prefix: str | None,
    deleted: bool = False,
) -> Commit:
    """Create the commit marker: from here on readers see exactly ``parts``."""
    commit = Commit(
        video_id=video_id,
        generation=generation,
        parts=dict(parts),
        settings_hash=settings_hash,
        source_url=source_url,
        thumbs_prefix=thumbs_prefix,
        committed_at=datetime.now(UTC).isoformat(),
        framesift_version=framesift_version(),
        deleted=deleted,
    )
    key = layout.commit_key(video_id, generation)
    if not storage.create_exclusive(key, commit.to_json()):
        raise CatalogConflictError(
            f"{storage.url}: another writer committed generation {generation} of video "
            f"{video_id} first; its rows stand. Re-run with --force to replace them."
        )
    _MARKER_CACHE[(storage.identity, key)] = commit
    logger.debug("committed %s", key)
    return commit


def retire_old_generations(
    storage: Storage, video_id: str, keep_generation: int, keep: Commit | None = None
) -> int:
    """Delete parts, thumbnails and markers of ``video_id`` older than ``keep_generation``,
    except what the kept commit ``keep`` still references (parts carried over).

    Order matters for a crash in the middle: parts and thumbnails first, markers last, and
    never the kept marker, so whatever is left is invisible and vacuum can finish."""
    kept_parts = set(keep.parts.values()) if keep else set()
    kept_thumbs = keep.pictures_prefix if keep else None
    doomed: list[str] = []
    for table in layout.DATA_TABLES:
        for key in storage.list_files(f"tables/{table}/{video_id}", stat=False):
            parsed = layout.parse_part_key(key)
            if parsed is not None and parsed[2] < keep_generation and key not in kept_parts:
                doomed.append(key)
    for key in storage.list_files(f"{layout.THUMBS}/{video_id}", stat=False):
        thumb = layout.parse_thumb_key(key)
        if thumb is not None and thumb[1] < keep_generation and thumb[2] != kept_thumbs:
            doomed.append(key)
    storage.delete(doomed)
    old_markers = [
        key
        for key in storage.list_files(f"{layout.COMMITS}/{video_id}", stat=False)
        if (marker := layout.parse_commit_key(key)) is not None and marker[1] < keep_generation
    ]
    storage.delete(old_markers)
    return len(doomed) + len(old_markers)
