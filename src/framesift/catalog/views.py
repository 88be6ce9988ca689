"""The catalog's DuckDB views: one in-memory connection whose views ``videos``, ``frames``,
``scenes``, ``analysis``, ``segments`` and ``jobs`` read exactly the files a
:class:`~framesift.catalog.commits.CatalogState` makes visible.

A table's view is the union of its empty schema, the per-video parts committed since the
latest snapshot and, when there is one, the snapshot's compacted file (filtered to the
videos still at the generation it holds). Parts are read where they lie (local folder),
from the local object cache (remote catalog, default) or remotely through the catalog's
fsspec filesystem registered on the connection (no httpfs, nothing downloaded). Lists of
files and ids are bound as DuckDB variables, never pasted into SQL text. A view is bound
again only when what it reads changed, or when it is no longer the view framesift made (a
statement run with ``Catalog.sql(..., unsafe=True)`` or on ``Catalog.connect()`` dropped or
replaced it): a query cannot replace the catalog's views for the next one.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import duckdb

from framesift.catalog import layout
from framesift.catalog.cache import ObjectCache
from framesift.catalog.commits import CatalogState
from framesift.catalog.image_uris import IMAGE_COLUMNS, resolved_uri_sql
from framesift.catalog.jobs import JobLedger, committed_settings
from framesift.catalog.tables import SCHEMAS, empty
from framesift.storage import Storage

__all__ = ["CatalogViews", "tables_named_in"]

_DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    # Offline by design: never try to download an extension (httpfs) behind our back.
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


class _TableRefs(NamedTuple):
    """What one view reads: part files, the compacted file, the videos taken from it."""

    parts: tuple[str, ...]
    compact: str | None
    compact_ids: tuple[str, ...] | None


class CatalogViews:
    """The DuckDB connection of one catalog and what each of its views is bound to.

    Hold :attr:`lock` while using a connection returned by :meth:`bind`: another thread
    binding a newer state would change the views under a running query."""

    def __init__(self, storage: Storage, ledger: JobLedger, cache: ObjectCache | None) -> None:
        self._storage = storage
        self._ledger = ledger
        self._cache = cache
        self.lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._bound: dict[str, object] = {}
        self._made: dict[str, str] = {}  # each view's SQL as DuckDB keeps it, once made
        self._segments_indexed: object = None  # the segments binding the index was built on

    def close(self) -> None:
        with self.lock:
            if self._con is not None:
                self._con.close()
            self._con = None
            self._bound = {}

    def forget(self) -> None:
        """Bind every view again before the next query (a statement may have changed
        them), and build the search index again."""
        with self.lock:
            self._bound = {}
            self._segments_indexed = None

    def _check_intact(self, con: duckdb.DuckDBPyConnection, tables: list[str]) -> None:
        """Forget the bindings of views that are no longer as framesift made them."""
        rows = con.execute(
            "SELECT view_name, sql FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        present = {str(name): str(sql) for name, sql in rows}
        for table in tables:
            if table in self._bound and present.get(table) != self._made.get(table):
                self._bound.pop(table, None)
                if table == "segments":
                    self._segments_indexed = None

    def _made_now(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        rows = con.execute(
            "SELECT sql FROM duckdb_views() WHERE view_name = ? AND NOT internal", [table]
        ).fetchall()  # read to the end: DuckDB refuses other work while a result is open
        self._made[table] = str(rows[0][0]) if rows else ""

    def bind(self, state: CatalogState, tables: Iterable[str]) -> duckdb.DuckDBPyConnection:
        """The connection with the views ``tables`` reading what ``state`` makes visible.
        Raises FileNotFoundError when a part vanished (replaced since ``state`` was listed):
        bind a fresher state then."""
        wanted = list(tables)
        with self.lock:
            con = self._connection()
            self._check_intact(con, wanted)
            for table in wanted:
                if table == "jobs":
                    jobs, token = self._ledger.frame(committed_settings(state))
                    if self._bound.get(table) != token:
                        con.register("_jobs_rows", jobs.to_arrow())
                        con.execute("CREATE OR REPLACE VIEW jobs AS SELECT * FROM _jobs_rows")
                        self._made_now(con, table)
                        self._bound[table] = token
                    continue
                refs = self._table_refs(state, table)
                if self._bound.get(table) != refs:
                    _bind_table(con, table, refs, self._storage.url)
                    self._made_now(con, table)
                    self._bound[table] = refs
            return con

    def index_segments(self, statements: Sequence[tuple[str, Any]]) -> None:
        """Run ``statements`` (SQL, parameters) that build an index over the bound
        ``segments`` view, unless they already ran on this binding of it."""
        with self.lock:
            con = self._connection()
            bound = self._bound.get("segments")
            if self._segments_indexed is bound:
                return
            for statement, params in statements:
                con.execute(statement, params)
            self._segments_indexed = bound

    def keep_copy(self, key: str, version: str, data: bytes) -> None:
        """Put an object just written (a compacted file) into the local cache, if any."""
        if self._cache is not None:
            self._cache.put(key, version, data)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            con = duckdb.connect(":memory:", config=_DUCKDB_CONFIG)
            con.execute("SET TimeZone = 'UTC'")
            if not self._storage.is_local and self._cache is None:
                con.register_filesystem(self._storage.fs)
            for table in SCHEMAS:
                con.register(f"_empty_{table}", empty(table).to_arrow())
            self._con = con
            self._bound = {}
        return self._con

    def _table_refs(self, state: CatalogState, table: str) -> _TableRefs:
        """Where DuckDB reads ``table``: local paths, cached copies, or remote URLs."""
        src = state.sources(table)
        compact_ids = src.compact_video_ids if state.stale_in_snapshot() else None
        items = [(k, state.part_version(k)) for k in src.part_keys]
        compact_item = None
        if src.compact_key is not None and src.compact_video_ids and state.snapshot:
            compact_item = (src.compact_key, state.snapshot.version)
        if self._cache is not None and not self._storage.is_local:
            fetched = self._cache.fetch(items + ([compact_item] if compact_item else []))
            self._prune_cache(state, table, set(fetched))
            parts = tuple(fetched[: len(items)])
            compact = fetched[-1] if compact_item else None
            return _TableRefs(parts, compact, compact_ids)
        located = self._storage.path if self._storage.is_local else self._storage.uri
        parts = tuple(located(k) for k, _ in items)
        compact = located(compact_item[0]) if compact_item else None
        return _TableRefs(parts, compact, compact_ids)

    def _prune_cache(self, state: CatalogState, table: str, fetched: set[str]) -> None:
        """Drop this table's cached files that neither ``state`` nor ``fetched`` uses."""
        assert self._cache is not None
        keep = fetched | {
            self._cache.path(k, state.part_version(k))
            for c in state.live.values()
            if (k := c.parts.get(table)) is not None
        }
        self._cache.prune([f"tables/{table}", f"{layout.COMPACT}/{table}"], keep)


def _bind_table(con: duckdb.DuckDBPyConnection, table: str, refs: _TableRefs, root: str) -> None:
    # File lists and ids are bound as DuckDB variables: nothing is pasted into SQL text.
    pieces = [f"SELECT * FROM _empty_{table}"]
    if refs.parts:
        con.execute(f"SET VARIABLE {table}_parts = ?", [list(refs.parts)])
        pieces.append(
            f"SELECT * FROM read_parquet(getvariable('{table}_parts'), union_by_name=true)"
        )
    if refs.compact is not None:
        con.execute(f"SET VARIABLE {table}_compact = ?", [refs.compact])
        compact = f"SELECT * FROM read_parquet(getvariable('{table}_compact'))"
        if refs.compact_ids is not None:
            con.execute(f"SET VARIABLE {table}_compact_ids = ?", [list(refs.compact_ids)])
            compact += f" WHERE video_id IN (SELECT unnest(getvariable('{table}_compact_ids')))"
        pieces.append(compact)
    body = " UNION ALL BY NAME ".join(pieces)
    if table == "frames":  # pictures are stored as keys: shown as URIs at this root
        con.execute("SET VARIABLE catalog_root = ?", [root])
        root_sql = "getvariable('catalog_root')"
        uris = ", ".join(f"{resolved_uri_sql(c, root_sql)} AS {c}" for c in IMAGE_COLUMNS)
        body = f"SELECT * REPLACE ({uris}) FROM ({body})"
    con.execute(f"CREATE OR REPLACE VIEW {table} AS {body}")


def tables_named_in(query: str) -> set[str]:
    """The catalog views a query can reach: those whose names it contains as words (a view
    that is not named cannot be read, so only these need to be fresh)."""
    return {t for t in layout.TABLES if re.search(rf"\b{t}\b", query, re.IGNORECASE)}
