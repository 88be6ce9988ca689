"""Compaction: one Parquet file per table holding every committed video's rows.

Per-video parts make writes independent and atomic, but a full-table query over thousands
of small objects is slow, on S3 above all. Compaction copies the committed rows into
``compact/<table>/<seq>.parquet`` (sorted by video, then frame or scene), then creates the
snapshot marker ``snapshots/<seq>.json`` exclusively: that is its commit point. The snapshot
lists the generation of every video it holds; readers use the compacted file for those
videos still at that generation and per-video parts for anything committed since. The
per-video parts stay (they are the source of truth and the fast path for one video), so
compacted files are a derived copy that can always be deleted and rebuilt.
"""

from __future__ import annotations

import logging
import os
import tempfile
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from framesift.catalog import layout
from framesift.catalog.commits import Snapshot
from framesift.catalog.tables import SORT_KEYS

if TYPE_CHECKING:
    from framesift.catalog.catalog import Catalog

__all__ = ["compact"]

logger = logging.getLogger(__name__)


def compact(catalog: Catalog, *, min_parts: int = 1) -> int | None:
    """Compact ``catalog``; returns the new snapshot's sequence, None when there was
    nothing to do (fewer than ``min_parts`` fresh parts and nothing stale) or another
    process committed the same snapshot first."""
    storage = catalog.storage
    with catalog._lock:  # one connection, one bound state, for the whole copy
        catalog.refresh()  # compaction must see every commit, whatever the staleness policy
        con = catalog._connection(layout.DATA_TABLES)
        state = catalog._state
        assert state is not None
        live = state.live
        fresh = sum(len(state.sources(t).part_keys) for t in layout.DATA_TABLES)
        if not live or (fresh < min_parts and not state.stale_in_snapshot()):
            return None
        sequence = (state.snapshot.sequence if state.snapshot else 0) + 1
        snapshot = Snapshot(
            sequence=sequence,
            tables={},
            videos={v: c.generation for v, c in live.items()},
            created_at=datetime.now(UTC).isoformat(),
        )
        tables: dict[str, str] = {}
        with tempfile.TemporaryDirectory(prefix="framesift-compact-") as scratch:
            for table in layout.DATA_TABLES:
                src = state.sources(table)
                if not src.part_keys and not src.compact_video_ids:
                    continue
                key = layout.compact_key(table, sequence)
                if storage.is_local:
                    target = storage.path(key)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                else:
                    target = os.path.join(scratch, f"{table}.parquet")
                order = ", ".join(f'"{c}"' for c in SORT_KEYS[table])
                # COPY's target cannot be a bound parameter; it is a path we made, quoted.
                con.execute(
                    f"COPY (SELECT * FROM {table} ORDER BY {order}) TO '{_literal(target)}' "
                    "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 131072)"
                )
                if not storage.is_local:
                    with open(target, "rb") as handle:
                        data = handle.read()
                    storage.write_bytes(key, data)
                    if catalog._cache is not None:
                        catalog._cache.put(key, _version(sequence, snapshot.created_at), data)
                tables[table] = key
        snapshot = Snapshot(sequence, tables, snapshot.videos, snapshot.created_at, live)
        if not storage.create_exclusive(layout.snapshot_key(sequence), snapshot.to_json()):
            logger.info("another process committed snapshot %d first", sequence)
            return None
        catalog._invalidate()
    logger.info("compacted %s: snapshot %d holds %d videos", catalog.url, sequence, len(live))
    return sequence


def _version(sequence: int, created_at: str) -> str:
    return f"snapshot {sequence}@{created_at}"


def _literal(text: str) -> str:
    return text.replace("'", "''")
