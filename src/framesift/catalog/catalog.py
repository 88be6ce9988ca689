"""``Catalog``: open a catalog at a local folder or any fsspec URL, read it with polars or
DuckDB SQL, and write videos into it through the commit protocol (see
:mod:`framesift.catalog.commits`).

DuckDB runs in memory, one connection per ``Catalog``, with the catalog's fsspec filesystem
registered on it (no httpfs, nothing downloaded). Its views ``videos``, ``frames``,
``scenes``, ``analysis``, ``segments`` and ``jobs`` read exactly the committed parts; the
lists of files are bound as DuckDB variables, never pasted into SQL text.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import duckdb
import polars as pl

from framesift.catalog import layout
from framesift.catalog.cache import ObjectCache, default_cache_dir
from framesift.catalog.commits import (
    CatalogState,
    Commit,
    Snapshot,
    commit_video,
    latest_commit,
    load_state,
    retire_old_generations,
    write_parts,
)
from framesift.catalog.display import ThumbnailGrid
from framesift.catalog.faults import fault_point
from framesift.catalog.jobs import JobLedger
from framesift.catalog.tables import SCHEMAS, SORT_KEYS, empty
from framesift.catalog.version import CatalogInfo, open_catalog_root
from framesift.errors import CatalogError, StorageError
from framesift.storage import RetryPolicy, Storage

if TYPE_CHECKING:
    from PIL.Image import Image

    from framesift.catalog.sink import CatalogImageSink

__all__ = ["Catalog", "VideoWriter"]

logger = logging.getLogger(__name__)

_DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    # Offline by design: never try to download an extension (httpfs) behind our back.
    "autoinstall_known_extensions": "false",
    "autoload_known_extensions": "false",
}


class Catalog:
    """A framesift catalog at ``url`` (a local folder or any fsspec URL).

    >>> cat = Catalog("data/catalog")                                # doctest: +SKIP
    >>> cat.frames(video_id).head()                                   # doctest: +SKIP
    >>> cat.sql("SELECT video_id, count(*) FROM frames GROUP BY 1")   # doctest: +SKIP

    S3 settings come from the standard AWS environment and config files (AWS_ENDPOINT_URL,
    AWS_ACCESS_KEY_ID, AWS_REGION, ~/.aws/config ...) and from ``storage_options``
    (s3fs's ``key``, ``secret``, ``endpoint_url``, ``client_kwargs`` ...).
    A missing catalog is created when ``create`` is true (an empty folder or prefix only).
    A remote catalog's committed files are cached locally under ``cache_dir`` (default
    :func:`~framesift.catalog.cache.default_cache_dir`; False: read remotely every time).
    Reads list the commit markers again once the last listing is older than
    ``max_staleness_s`` (default: 0 for a local folder, 2 s for a remote catalog).
    """

    def __init__(
        self,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        create: bool = True,
        retry: RetryPolicy | None = None,
        cache_dir: str | Literal[False] | None = None,
        max_staleness_s: float | None = None,
    ) -> None:
        self._storage = Storage(str(url), storage_options, retry=retry)
        self.info: CatalogInfo = open_catalog_root(self._storage, create=create)
        self._lock = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._state: CatalogState | None = None
        self._state_at = 0.0
        self.max_staleness_s: float = (
            max_staleness_s
            if max_staleness_s is not None
            else (0.0 if self._storage.is_local else 2.0)
        )
        """Reads reuse the listing of commit markers for this long (seconds): a remote
        listing costs a round trip per 1000 videos. Commits made through this object are
        seen at once; other writers' after at most this long, or after :meth:`refresh`."""
        self._ledger = JobLedger(self._storage)
        self._bound: dict[str, object] = {}
        self._search_indexed: object = None  # the segments binding the search index is of
        self._cache: ObjectCache | None = None
        if not self._storage.is_local and cache_dir is not False:
            self._cache = ObjectCache(self._storage, cache_dir or default_cache_dir())

    # ------------------------------------------------------------------ identity

    @property
    def url(self) -> str:
        """The catalog root, without credentials (local: an absolute path)."""
        return self._storage.url

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def storage_options(self) -> dict[str, Any]:
        return dict(self._storage.storage_options)

    def __repr__(self) -> str:
        return f"Catalog({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a Catalog does not pickle: pass its url and storage_options instead")

    def close(self) -> None:
        with self._lock:
            if self._con is not None:
                self._con.close()
            self._con = None
            self._bound = {}

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ state

    def refresh(self) -> CatalogState:
        """Re-list the commit markers now: what other writers committed becomes visible."""
        state = load_state(self._storage)
        with self._lock:
            self._state = state
            self._state_at = time.monotonic()
        return state

    def state(self) -> CatalogState:
        """The visible state, re-listed when older than ``max_staleness_s``."""
        with self._lock:
            state = self._state
            if state is not None and time.monotonic() - self._state_at <= self.max_staleness_s:
                return state
        return self.refresh()

    def _invalidate(self) -> None:
        with self._lock:
            self._state = None

    def video_ids(self) -> list[str]:
        return sorted(self.state().live)

    def commit_of(self, video_id: str) -> Commit | None:
        """The latest commit of a video (a tombstone when it was deleted), or None."""
        return latest_commit(self._storage, video_id)

    # ------------------------------------------------------------------ reading

    def _read_part(self, key: str, version: str) -> pl.DataFrame:
        if self._cache is not None:
            cached = self._cache.path(key, version)
            if os.path.exists(cached):
                return pl.read_parquet(cached)
            data = self._storage.read_bytes(key)
            self._cache.put(key, version, data)
            return pl.read_parquet(io.BytesIO(data))
        return pl.read_parquet(io.BytesIO(self._storage.read_bytes(key)))

    def _table(
        self,
        table: str,
        video_id: str | Sequence[str] | None,
        columns: Sequence[str] | None,
    ) -> pl.DataFrame:
        schema = SCHEMAS[table]
        cols = list(columns) if columns is not None else list(schema)
        unknown = [c for c in cols if c not in schema]
        if unknown:
            raise CatalogError(f"table {table} has no columns {unknown}; it has {list(schema)}")
        if isinstance(video_id, str):
            # One video: read its own part directly (one small object), no DuckDB needed.
            layout.check_video_id(video_id)
            with self._lock:
                cached = self._state
                fresh = cached is not None and (
                    time.monotonic() - self._state_at <= self.max_staleness_s
                )
            commit = (
                cached.commits.get(video_id)
                if fresh and cached is not None
                else latest_commit(self._storage, video_id)
            )
            if commit is None or commit.deleted or table not in commit.parts:
                return empty(table).select(cols)
            try:
                df = self._read_part(
                    commit.parts[table], f"{commit.parts[table]}@{commit.committed_at}"
                )
            except FileNotFoundError:
                # Replaced between listing and reading: read the new generation.
                return self._table(table, video_id, columns)
            return df.sort(list(SORT_KEYS[table])).select(cols)
        select = ", ".join(_quote_ident(c) for c in cols)
        order = ", ".join(_quote_ident(c) for c in SORT_KEYS[table])
        if video_id is None:
            df = self.sql(f"SELECT {select} FROM {table} ORDER BY {order}")
        else:
            ids = [layout.check_video_id(v) for v in video_id]
            df = self.sql(
                f"SELECT {select} FROM {table} WHERE video_id IN (SELECT unnest($ids)) "
                f"ORDER BY {order}",
                {"ids": ids},
            )
        return df.cast({c: schema[c] for c in cols})

    def videos(self, *, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """One row per committed video."""
        return self._table("videos", None, columns)

    def frames(
        self, video_id: str | Sequence[str] | None = None, *, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Kept frames of one video (fast path: its own Parquet part), several, or all."""
        return self._table("frames", video_id, columns)

    def scenes(
        self, video_id: str | Sequence[str] | None = None, *, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        return self._table("scenes", video_id, columns)

    def analysis(
        self, video_id: str | Sequence[str] | None = None, *, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Per-frame analysis of the sampling pass (re-select without decoding again)."""
        return self._table("analysis", video_id, columns)

    def segments(
        self, video_id: str | Sequence[str] | None = None, *, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """Timed text (subtitles, speech, OCR) filled by the text capability."""
        return self._table("segments", video_id, columns)

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        sources: Sequence[str] | None = None,
        video_id: str | None = None,
        language: str | None = None,
    ) -> pl.DataFrame:
        """Timed text matching ``query``, best first (BM25 over the words of ``segments``).

        One row per matching segment: video_id, source_url, source, start_s, end_s, text,
        language, score, words_matched, and the kept frame on screen at the middle of the
        segment (frame_index, time_s, thumbnail_uri), so ``show_thumbnails(hits)`` shows
        them. Narrow with ``sources`` (subtitles, speech, ocr), ``video_id``, ``language``.
        """
        from framesift.text.search import INDEX_SQL, search_query

        if video_id is not None:
            video_id = layout.check_video_id(video_id)
        sql, params = search_query(
            query, limit=limit, sources=sources, video_id=video_id, language=language
        )
        con = self._connection(["segments", "videos", "frames"])
        with self._lock, self._reading():
            indexed = self._bound.get("segments")
            if self._search_indexed is not indexed:  # segments changed: index them again
                for statement in INDEX_SQL:
                    bound = {"split": params["split"]} if "$split" in statement else None
                    con.execute(statement, bound)
                self._search_indexed = indexed
            hits: pl.DataFrame = con.sql(sql, params=params).pl()
            return hits

    def jobs(self) -> pl.DataFrame:
        """The per-source ledger: state, attempts, typed error of the last run."""
        return self._ledger.frame()[0]

    def summary(self) -> pl.DataFrame:
        """One row per committed video: where from, how long, what was kept; newest first."""
        wanted = [
            "video_id", "source_url", "duration_s", "width", "height", "codec",
            "kept_frames", "scene_count", "frames_decoded", "sample_seconds", "ingested_at",
        ]  # fmt: skip
        videos = self.videos()
        present = [c for c in wanted if c in videos.columns]
        if "ingested_at" in present:
            videos = videos.sort("ingested_at", descending=True)
        return videos.select(present)

    # ------------------------------------------------------------------ SQL

    def sql(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] | None = None
    ) -> pl.DataFrame:
        """Run DuckDB SQL over the views videos, frames, scenes, analysis, segments, jobs.

        Bind values with ``?`` / ``$name`` placeholders and ``params``; never format them
        into ``query``. Only the views the query names are refreshed (and, for a remote
        catalog, fetched into the local cache).
        """
        con = self._connection(_tables_named_in(query))
        with self._lock, self._reading():
            relation = con.sql(query, params=params)
            if relation is None:  # a statement without a result (SET, CREATE ...)
                return pl.DataFrame()
            result: pl.DataFrame = relation.pl()
            return result

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """DuckDB's I/O failures as StorageError, credentials redacted."""
        try:
            yield
        except duckdb.IOException as exc:
            raise StorageError(
                f"reading {self.url} failed: {self._storage.redact(str(exc))}"
            ) from None

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The catalog's in-memory DuckDB connection with every view fresh (shared: do not
        close it; use :meth:`close` on the catalog)."""
        return self._connection(layout.TABLES)

    def _connection(self, tables: Iterable[str]) -> duckdb.DuckDBPyConnection:
        tables = list(tables)
        try:
            return self._bind(self.state(), tables)
        except FileNotFoundError:
            # A part was replaced (and its old generation deleted) after our listing.
            return self._bind(self.refresh(), tables)

    def _bind(self, state: CatalogState, tables: list[str]) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None:
                con = duckdb.connect(":memory:", config=_DUCKDB_CONFIG)
                con.execute("SET TimeZone = 'UTC'")
                if not self._storage.is_local and self._cache is None:
                    con.register_filesystem(self._storage.fs)
                for table in SCHEMAS:
                    con.register(f"_empty_{table}", empty(table).to_arrow())
                self._con = con
                self._bound = {}
            for table in tables:
                if table == "jobs":
                    jobs, token = self._ledger.frame()
                    if self._bound.get(table) != token:
                        self._con.register("_jobs_rows", jobs.to_arrow())
                        self._con.execute("CREATE OR REPLACE VIEW jobs AS SELECT * FROM _jobs_rows")
                        self._bound[table] = token
                    continue
                refs = self._table_refs(state, table)
                if self._bound.get(table) != refs:
                    self._bind_table(self._con, table, refs)
                    self._bound[table] = refs
            return self._con

    def _table_refs(self, state: CatalogState, table: str) -> _TableRefs:
        """Where DuckDB reads ``table``: local paths, cached copies, or remote URLs."""
        src = state.sources(table)
        compact_ids = src.compact_video_ids if state.stale_in_snapshot() else None
        items = [(k, self._part_version(state, k)) for k in src.part_keys]
        compact_item = None
        if src.compact_key is not None and src.compact_video_ids and state.snapshot:
            compact_item = (src.compact_key, _snapshot_version(state.snapshot))
        if self._storage.is_local:
            parts = tuple(self._storage.path(k) for k, _ in items)
            compact = self._storage.path(compact_item[0]) if compact_item else None
        elif self._cache is not None:
            fetched = self._cache.fetch(items + ([compact_item] if compact_item else []))
            parts = tuple(fetched[: len(items)])
            compact = fetched[-1] if compact_item else None
            keep = set(fetched) | {
                self._cache.path(k, self._part_version(state, k))
                for c in state.live.values()
                if (k := c.parts.get(table)) is not None
            }
            self._cache.prune([f"tables/{table}", f"compact/{table}"], keep)
        else:
            parts = tuple(self._storage.uri(k) for k, _ in items)
            compact = self._storage.uri(compact_item[0]) if compact_item else None
        return _TableRefs(parts, compact, compact_ids)

    @staticmethod
    def _part_version(state: CatalogState, key: str) -> str:
        parsed = layout.parse_part_key(key)
        commit = state.commits.get(parsed[1]) if parsed else None
        return f"{key}@{commit.committed_at if commit else ''}"

    @staticmethod
    def _bind_table(con: duckdb.DuckDBPyConnection, table: str, refs: _TableRefs) -> None:
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
        con.execute(f"CREATE OR REPLACE VIEW {table} AS " + " UNION ALL BY NAME ".join(pieces))

    # ------------------------------------------------------------------ images

    def thumbnail(self, video_id: str, frame_index: int, *, full: bool = False) -> Image:
        """The thumbnail (or, with ``full``, the full-resolution frame) of a kept frame."""
        from PIL import Image as PILImage

        column = "frame_uri" if full else "thumbnail_uri"
        rows = self.frames(video_id, columns=["frame_index", column]).filter(
            pl.col("frame_index") == frame_index
        )
        if rows.is_empty():
            raise CatalogError(f"video {video_id} has no kept frame {frame_index} in {self.url}")
        uri = rows[column][0]
        if uri is None:
            raise CatalogError(
                f"frame {frame_index} of video {video_id} has no "
                f"{'full frame' if full else 'thumbnail'}: sample with images turned on"
            )
        image = PILImage.open(io.BytesIO(self._storage.read_bytes(self.image_key(uri))))
        image.load()
        return image

    def image_key(self, uri: str) -> str:
        """The key under the root of an image URI from the frames table (also when the
        catalog was moved or copied since: the key is what follows ``thumbs/``)."""
        key = self._storage.key_of(uri)
        if key is None and "/thumbs/" in uri:
            key = "thumbs/" + uri.rsplit("/thumbs/", 1)[1]
        if key is None or layout.parse_thumb_key(key) is None:
            raise CatalogError(f"image {uri!r} lies outside the catalog's thumbs/ folder")
        return key

    def show_thumbnails(
        self,
        frames: pl.DataFrame | str | None = None,
        *,
        limit: int = 48,
        columns: int = 8,
    ) -> ThumbnailGrid:
        """A grid of inline thumbnails for a notebook: of ``frames`` (rows of the frames
        table, or search hits), of one video (its id), or of the first frames of the
        catalog."""
        if frames is None:
            frames = self.sql(
                "SELECT video_id, frame_index, time_s, thumbnail_uri FROM frames "
                "WHERE thumbnail_uri IS NOT NULL ORDER BY video_id, frame_index LIMIT ?",
                [limit],
            )
        elif isinstance(frames, str):
            frames = self.frames(frames)
        rows = frames.filter(pl.col("thumbnail_uri").is_not_null()).head(limit)
        keys = [self.image_key(u) for u in rows["thumbnail_uri"]]
        images = self._storage.read_many(keys)
        captions = [
            f"{vid[:8]} #{idx} @ {t:.2f}s"
            for vid, idx, t in zip(
                rows["video_id"], rows["frame_index"], rows["time_s"], strict=True
            )
        ]
        if "text" in rows.columns:  # search hits: what was said or shown, and when
            captions = [
                f"{start:.1f}s: {text[:60]}"
                for start, text in zip(rows["start_s"], rows["text"], strict=True)
            ]
        return ThumbnailGrid(
            items=tuple((c, images[k]) for c, k in zip(captions, keys, strict=True) if k in images),
            columns=columns,
        )

    def _repr_html_(self) -> str:
        import html

        state = self.state()
        live = state.live
        return (
            f"<b>framesift catalog</b> <code>{html.escape(self.url)}</code> "
            f"(schema v{self.info.version}): {len(live)} videos"
        )

    # ------------------------------------------------------------------ writing

    def begin_video(self, video_id: str, *, settings_hash: str | None = None) -> VideoWriter:
        """Start writing a new generation of ``video_id`` (see :class:`VideoWriter`).

        ``settings_hash`` (hex) names this writer's files, so a retry with the same
        settings overwrites its own leftovers and a concurrent writer with other settings
        never touches them."""
        previous = latest_commit(self._storage, layout.check_video_id(video_id))
        generation = (previous.generation if previous else 0) + 1
        token = (settings_hash or "0").lower()
        if not re.fullmatch(r"[0-9a-f]{1,32}", token):
            token = hashlib.sha256(token.encode()).hexdigest()[:16]
        return VideoWriter(self._storage, video_id, generation, previous, self._invalidate, token)

    def delete_video(self, video_id: str) -> bool:
        """Remove a video: a tombstone commit hides it at once, then its files go."""
        writer = self.begin_video(video_id)
        if writer.previous is None or writer.previous.deleted:
            return False
        commit_video(
            self._storage,
            video_id,
            writer.generation,
            {},
            settings_hash=None,
            source_url=None,
            thumbs_prefix=None,
            deleted=True,
        )
        self._invalidate()
        retire_old_generations(self._storage, video_id, writer.generation)
        return True

    def compact(self, *, min_parts: int = 1) -> int | None:
        """Merge the committed parts of each table into one Parquet file (fast full-table
        queries, especially on S3). Returns the snapshot sequence, None if nothing to do."""
        from framesift.catalog.compact import compact

        return compact(self, min_parts=min_parts)

    def vacuum(self, *, grace_s: float = 3600.0, dry_run: bool = False) -> dict[str, int]:
        """Remove leftovers older than ``grace_s``: temp files, parts and thumbnails of
        uncommitted or superseded generations, stale snapshots, incomplete S3 multipart
        uploads. Returns counts by kind."""
        from framesift.catalog.vacuum import vacuum

        return vacuum(self, grace_s=grace_s, dry_run=dry_run)


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
        from framesift.catalog.sink import CatalogImageSink

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
    ) -> Commit:
        """Write the parts, then the marker (the commit point), then retire older
        generations. Raises CatalogConflictError if another writer committed first.

        ``carry_over`` keeps the previous generation's parts (and thumbnails) for the
        tables not given: how the text capability adds ``segments`` to a sampled video
        without copying its frames."""
        unknown = set(tables) - set(layout.DATA_TABLES)
        if unknown:
            raise CatalogError(f"no tables {sorted(unknown)}: tables are {layout.DATA_TABLES}")
        parts = write_parts(self.storage, self.video_id, self.generation, tables, self.token)
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
        return commit


class _TableRefs(NamedTuple):
    parts: tuple[str, ...]
    compact: str | None
    compact_ids: tuple[str, ...] | None


def _snapshot_version(snapshot: Snapshot) -> str:
    from framesift.catalog.compact import _version

    return _version(snapshot.sequence, snapshot.created_at)


def _tables_named_in(query: str) -> set[str]:
    """The catalog views a query can reach: those whose names it contains as words (a view
    that is not named cannot be read, so only these need to be fresh)."""
    return {t for t in layout.TABLES if re.search(rf"\b{t}\b", query, re.IGNORECASE)}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
