"""Compaction: one Parquet file per table holding every committed video's rows.

Per-video parts make writes independent and atomic, but a full-table query over thousands
of small objects is slow, on S3 above all. Compaction copies the committed rows into
``compact/<table>/<seq>-<token>.parquet`` (sorted by video, then frame or scene; ``token``
is this compactor's own, so two compactors never write the same key), then creates the
snapshot marker ``snapshots/<seq>.json`` exclusively: that is its commit point. Of two
compactors aiming at the same sequence exactly one creates the marker; the other deletes
its files and reports that it lost, and every reader sees the winner's files, which hold
exactly the videos its snapshot lists. The snapshot
lists the generation of every video it holds; readers use the compacted file for those
videos still at that generation and per-video parts for anything committed since. The
per-video parts stay (they are the source of truth and the fast path for one video), so
compacted files are a derived copy that can always be deleted and rebuilt.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import duckdb

from framesift.catalog import layout
from framesift.catalog.commits import CatalogState, Snapshot
from framesift.catalog.faults import fault_point
from framesift.catalog.image_uris import IMAGE_COLUMNS, stored_key_sql
from framesift.catalog.tables import SORT_KEYS
from framesift.errors import StorageError
from framesift.storage import Storage

__all__ = ["compact"]

logger = logging.getLogger(__name__)


def compact(
    storage: Storage,
    state: CatalogState,
    con: duckdb.DuckDBPyConnection,
    *,
    min_parts: int = 1,
    on_upload: Callable[[str, str, bytes], None] | None = None,
) -> Snapshot | None:
    """Compact the catalog at ``storage`` as ``state`` shows it, copying each table from
    ``con``, whose views must read exactly ``state`` (hold them so for the whole call).

    ``on_upload(key, version, data)`` sees each compacted file written to a remote
    catalog (to keep a local copy). Returns the new snapshot, None when there was nothing
    to do (fewer than ``min_parts`` fresh parts and nothing stale) or another process
    committed the same snapshot first."""
    live = state.live
    fresh = sum(len(state.sources(t).part_keys) for t in layout.DATA_TABLES)
    if not live or (fresh < min_parts and not state.stale_in_snapshot()):
        return None
    sequence = max([0, *(_sequence(k) for k in state.snapshot_keys)]) + 1
    created_at = datetime.now(UTC).isoformat()
    version = Snapshot(sequence, {}, {}, created_at).version
    token = uuid.uuid4().hex[:16]
    tables: dict[str, str] = {}
    fault_point("compact_listed")
    try:
        _write_tables(storage, state, con, sequence, token, version, tables, on_upload)
    except BaseException:
        _drop(storage, tables.values())  # a part replaced underneath: the caller retries
        raise
    fault_point("compact_files_written")
    videos = {v: c.generation for v, c in live.items()}
    snapshot = Snapshot(sequence, tables, videos, created_at, live)
    if not storage.create_exclusive(layout.snapshot_key(sequence), snapshot.to_json()):
        logger.info("another process committed snapshot %d first", sequence)
        _drop(storage, tables.values())
        return None
    fault_point("compact_published")
    logger.info("compacted %s: snapshot %d holds %d videos", storage.url, sequence, len(live))
    return snapshot


def _write_tables(
    storage: Storage,
    state: CatalogState,
    con: duckdb.DuckDBPyConnection,
    sequence: int,
    token: str,
    version: str,
    tables: dict[str, str],
    on_upload: Callable[[str, str, bytes], None] | None,
) -> None:
    """Copy each table's visible rows to its compacted file; ``tables`` collects the keys
    as they are written (table -> key)."""
    with tempfile.TemporaryDirectory(prefix="framesift-compact-") as scratch:
        for table in layout.DATA_TABLES:
            src = state.sources(table)
            if not src.part_keys and not src.compact_video_ids:
                continue
            key = layout.compact_key(table, sequence, token)
            tables[table] = key
            if storage.is_local:
                target = storage.path(key)
                os.makedirs(os.path.dirname(target), exist_ok=True)
            else:
                target = os.path.join(scratch, f"{table}.parquet")
            _copy_sorted(con, table, target)
            if not storage.is_local:
                with open(target, "rb") as handle:
                    data = handle.read()
                storage.write_bytes(key, data)
                if on_upload is not None:
                    on_upload(key, version, data)


def _sequence(snapshot_key: str) -> int:
    return layout.parse_snapshot_key(snapshot_key) or 0


def _drop(storage: Storage, keys: Iterable[str]) -> None:
    """Best-effort removal of a losing compactor's files (vacuum catches what is left)."""
    try:
        storage.delete(keys)
    except StorageError as exc:
        logger.warning("leaving compacted files to vacuum: %s", exc)


def _copy_sorted(con: duckdb.DuckDBPyConnection, table: str, target: str) -> None:
    """Write the view ``table``, sorted by video then frame or scene, to the file ``target``."""
    order = ", ".join(f'"{c}"' for c in SORT_KEYS[table])
    columns = "*"
    if table == "frames":  # the view shows pictures as URIs at this root; store keys
        keys = ", ".join(f"{stored_key_sql(c)} AS {c}" for c in IMAGE_COLUMNS)
        columns = f"* REPLACE ({keys})"
    # COPY's target cannot be a bound parameter; it is a path we made, quoted.
    con.execute(
        f"COPY (SELECT {columns} FROM {table} ORDER BY {order}) TO '{_literal(target)}' "
        "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 131072)"
    )


def _literal(text: str) -> str:
    return text.replace("'", "''")
