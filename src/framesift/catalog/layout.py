"""Where everything lives under a catalog root: one function per kind of key.

Every key is built from a video id (hex), a table name from :data:`TABLES` and a
generation number, never from a user's file name, so nothing can escape the root::

    _catalog.json                                   format and schema version
    commits/<video_id>/<generation:010d>.json       commit markers (immutable, created once)
    tables/<table>/<video_id>/g<generation:010d>-<token>.parquet   one part per video and table
    thumbs/<video_id>/g<generation:010d>-<token>/<name>            thumbnails and full frames
    thumbs/<video_id>/g<generation:010d>-<token>/full/<index:08d>.<ext>  full frames, also
                                                    those decoded on demand and cached later

The frames table names each picture by its key under the root (``thumbs/...``), never by
an absolute URI, so a catalog moved, copied or synced elsewhere still finds its pictures
(see :mod:`framesift.catalog.image_uris`; older catalogs' absolute URIs map on read).

``token`` is the settings hash of the writer (hex): a run that dies and is run again with
the same settings writes the same keys (overwriting its leftovers), while two writers
racing for the same generation with different settings never overwrite each other's files
(only one of them wins the commit marker; vacuum removes the loser's files).
    snapshots/<sequence:010d>.json                  compaction snapshots (immutable)
    compact/<table>/<sequence:010d>-<token>.parquet compacted copies of all parts of a table

A compactor names its files with a random ``token`` of its own, so two compactors aiming
at the same sequence never write the same key; only the one that creates the snapshot
marker is read (older catalogs' ``compact/<table>/<sequence:010d>.parquet`` still parse).
    jobs/<job_id>.json                              the per-source ledger
"""

from __future__ import annotations

import re

from framesift.errors import CatalogError

__all__ = [
    "CATALOG_FILE",
    "COMMITS",
    "COMPACT",
    "DATA_TABLES",
    "JOBS",
    "SNAPSHOTS",
    "TABLES",
    "TABLES_DIR",
    "THUMBS",
    "check_video_id",
    "commit_key",
    "compact_key",
    "job_key",
    "parse_commit_key",
    "parse_compact_key",
    "parse_part_key",
    "parse_snapshot_key",
    "parse_thumb_key",
    "part_key",
    "pictures_beside",
    "snapshot_key",
    "thumbs_prefix",
]

CATALOG_FILE = "_catalog.json"
COMMITS = "commits"
TABLES_DIR = "tables"
THUMBS = "thumbs"
SNAPSHOTS = "snapshots"
COMPACT = "compact"
JOBS = "jobs"

DATA_TABLES: tuple[str, ...] = (
    "videos",
    "frames",
    "scenes",
    "analysis",
    "segments",
    "detections",
)
"""Tables stored as per-video Parquet parts under the commit protocol."""
TABLES: tuple[str, ...] = (*DATA_TABLES, "jobs")
"""Everything ``Catalog.sql`` can query (``jobs`` comes from the ledger)."""

_VIDEO_ID = re.compile(r"^[0-9a-f]{8,64}$")
_JOB_ID = re.compile(r"^[0-9a-f]{8,64}$")
_COMMIT = re.compile(r"^commits/([0-9a-f]{8,64})/(\d{10})\.json$")
_TOKEN = re.compile(r"^[0-9a-f]{1,32}$")
_PART = re.compile(r"^tables/([a-z]+)/([0-9a-f]{8,64})/g(\d{10})-([0-9a-f]{1,32})\.parquet$")
_THUMB = re.compile(r"^(thumbs/([0-9a-f]{8,64})/g(\d{10})-[0-9a-f]{1,32})/")
_SNAPSHOT = re.compile(r"^snapshots/(\d{10})\.json$")
_COMPACT = re.compile(r"^compact/([a-z]+)/(\d{10})(?:-[0-9a-f]{1,32})?\.parquet$")


def check_video_id(video_id: str) -> str:
    """``video_id`` if it is a catalog video id (8 to 64 lowercase hex digits)."""
    if not isinstance(video_id, str) or not _VIDEO_ID.match(video_id):
        raise CatalogError(f"{video_id!r} is not a video id: expected 8 to 64 hex digits")
    return video_id


def _check_table(table: str) -> str:
    if table not in DATA_TABLES:
        raise CatalogError(f"no table {table!r}: tables are {', '.join(DATA_TABLES)}")
    return table


def _check_generation(generation: int) -> int:
    if not 0 < generation < 10**10:
        raise CatalogError(f"generation {generation}: allowed 1 to 9999999999")
    return generation


def _check_token(token: str) -> str:
    if not _TOKEN.match(token):
        raise CatalogError(f"writer token {token!r}: expected 1 to 32 hex digits")
    return token


def commit_key(video_id: str, generation: int) -> str:
    return f"{COMMITS}/{check_video_id(video_id)}/{_check_generation(generation):010d}.json"


def part_key(table: str, video_id: str, generation: int, token: str) -> str:
    return (
        f"{TABLES_DIR}/{_check_table(table)}/{check_video_id(video_id)}/"
        f"g{_check_generation(generation):010d}-{_check_token(token)}.parquet"
    )


def thumbs_prefix(video_id: str, generation: int, token: str) -> str:
    return (
        f"{THUMBS}/{check_video_id(video_id)}/"
        f"g{_check_generation(generation):010d}-{_check_token(token)}"
    )


def pictures_beside(part: str) -> str | None:
    """The thumbnails prefix of the generation and writer that wrote the part ``part``
    (where a commit without thumbnails keeps the full frames decoded on demand)."""
    m = _PART.match(part)
    return thumbs_prefix(m[2], int(m[3]), m[4]) if m else None


def snapshot_key(sequence: int) -> str:
    return f"{SNAPSHOTS}/{_check_generation(sequence):010d}.json"


def compact_key(table: str, sequence: int, token: str) -> str:
    """The compacted file of ``table`` written by the compactor ``token`` for ``sequence``."""
    return (
        f"{COMPACT}/{_check_table(table)}/{_check_generation(sequence):010d}-"
        f"{_check_token(token)}.parquet"
    )


def job_key(job_id: str) -> str:
    if not _JOB_ID.match(job_id):
        raise CatalogError(f"{job_id!r} is not a job id: expected 8 to 64 hex digits")
    return f"{JOBS}/{job_id}.json"


def parse_commit_key(key: str) -> tuple[str, int] | None:
    """(video_id, generation) of a commit marker key, None for anything else."""
    m = _COMMIT.match(key)
    return (m[1], int(m[2])) if m else None


def parse_part_key(key: str) -> tuple[str, str, int] | None:
    """(table, video_id, generation) of a part key, None for anything else."""
    m = _PART.match(key)
    return (m[1], m[2], int(m[3])) if m else None


def parse_thumb_key(key: str) -> tuple[str, int, str] | None:
    """(video_id, generation, prefix) of a thumbnail key, None for anything else."""
    m = _THUMB.match(key)
    return (m[2], int(m[3]), m[1]) if m else None


def parse_snapshot_key(key: str) -> int | None:
    m = _SNAPSHOT.match(key)
    return int(m[1]) if m else None


def parse_compact_key(key: str) -> tuple[str, int] | None:
    m = _COMPACT.match(key)
    return (m[1], int(m[2])) if m else None
