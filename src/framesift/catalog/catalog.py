"""``Catalog``: open a catalog at a local folder or any fsspec URL, read it with polars or
DuckDB SQL, and write videos into it through the commit protocol (see
:mod:`framesift.catalog.commits`).

``Catalog`` is the user-facing object: it keeps the visible state (the commit markers as
last listed) and hands the state to the rooms that do the work: the DuckDB views
(:mod:`~framesift.catalog.views`), compaction (:mod:`~framesift.catalog.compact`) and
vacuum (:mod:`~framesift.catalog.vacuum`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import duckdb
import polars as pl

from framesift.catalog import layout
from framesift.catalog.cache import ObjectCache, default_cache_dir
from framesift.catalog.commits import CatalogState, Commit, latest_commit
from framesift.catalog.compact import compact
from framesift.catalog.display import ThumbnailGrid, catalog_html, kept_image, show_grid
from framesift.catalog.fullframes import FullFrame, full_frame
from framesift.catalog.health import CatalogHealth, RepairOutcome, check_catalog, repair_catalog
from framesift.catalog.image_uris import image_key
from framesift.catalog.jobs import JobLedger, committed_settings
from framesift.catalog.readonly import check_read_only
from framesift.catalog.sync import SyncReport, sync_catalog
from framesift.catalog.tables import SCHEMAS, SORT_KEYS
from framesift.catalog.totals import CatalogTotals
from framesift.catalog.vacuum import vacuum
from framesift.catalog.version import CatalogInfo, open_catalog_root
from framesift.catalog.video_parts import read_video_table
from framesift.catalog.views import CatalogViews, tables_named_in
from framesift.catalog.visible import VisibleState
from framesift.catalog.writer import VideoWriter, open_writer, write_tombstone
from framesift.errors import CatalogError, StorageError
from framesift.storage import RetryPolicy, Storage
from framesift.text.search import INDEX_SQL, search_query

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["Catalog"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


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
        self._visible = VisibleState(
            self._storage,
            max_staleness_s
            if max_staleness_s is not None
            else (0.0 if self._storage.is_local else 2.0),
        )
        self._ledger = JobLedger(self._storage)
        self._cache: ObjectCache | None = None
        if not self._storage.is_local and cache_dir is not False:
            self._cache = ObjectCache(self._storage, cache_dir or default_cache_dir())
        self._views = CatalogViews(self._storage, self._ledger, self._cache)

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
        self._views.close()

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
        return self._visible.refresh()

    def state(self) -> CatalogState:
        """The visible state, re-listed when older than ``max_staleness_s``."""
        return self._visible.current()

    @property
    def max_staleness_s(self) -> float:
        """Reads reuse the listing of commit markers for this long (seconds): a remote
        listing costs a round trip per 1000 videos. Commits made through this object are
        seen at once; other writers' after at most this long, or after :meth:`refresh`."""
        return self._visible.max_staleness_s

    @max_staleness_s.setter
    def max_staleness_s(self, seconds: float) -> None:
        self._visible.max_staleness_s = seconds

    def _invalidate(self) -> None:
        self._visible.invalidate()

    def video_ids(self) -> list[str]:
        return sorted(self.state().live)

    def commit_of(self, video_id: str) -> Commit | None:
        """The latest commit of a video (a tombstone when it was deleted), or None."""
        return latest_commit(self._storage, video_id)

    # ------------------------------------------------------------------ reading

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
            cached = self._visible.cached()
            commit = (
                cached.commits.get(video_id)
                if cached is not None
                else latest_commit(self._storage, video_id)
            )
            return read_video_table(self._storage, self._cache, table, video_id, commit, cols)
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

    def detections(
        self,
        video_id: str | Sequence[str] | None = None,
        *,
        analyzer: str | None = None,
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """What the frame analyzers found on kept frames (faces, a model's labels, boxes
        in display pixels, embeddings), of one video, several, or all; ``analyzer`` keeps
        one analyzer's rows."""
        wanted = list(columns) if columns is not None else list(SCHEMAS["detections"])
        read = wanted if "analyzer" in wanted else [*wanted, "analyzer"]
        df = self._table("detections", video_id, read)
        if analyzer is not None:
            df = df.filter(pl.col("analyzer") == analyzer)
        return df.select(wanted)

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
        if video_id is not None:
            video_id = layout.check_video_id(video_id)
        sql, params = search_query(
            query, limit=limit, sources=sources, video_id=video_id, language=language
        )

        def run(_: CatalogState, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
            self._views.index_segments(  # again only when segments changed
                [(s, {"split": params["split"]} if "$split" in s else None) for s in INDEX_SQL]
            )
            hits: pl.DataFrame = con.sql(sql, params=params).pl()
            return hits

        return self._read(["segments", "videos", "frames"], run)

    def jobs(self) -> pl.DataFrame:
        """The per-source ledger: state, attempts, typed error of the last run; states
        reconciled with the commits (see :mod:`framesift.catalog.jobs`)."""
        return self._ledger.frame(committed_settings(self.state()))[0]

    def totals(self) -> CatalogTotals:
        """What the catalog holds in numbers (videos, footage, kept frames, scenes, text
        segments) and the sources whose last ingest failed."""
        videos = self.videos(columns=["duration_s", "kept_frames", "scene_count"])
        text_segments = int(self.sql("SELECT count(*) AS n FROM segments")["n"][0])
        return CatalogTotals.of(videos, self.jobs(), text_segments=text_segments)

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
        self,
        query: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        unsafe: bool = False,
    ) -> pl.DataFrame:
        """Run DuckDB SQL over the views videos, frames, scenes, analysis, segments,
        detections, jobs.

        Read-only by default: one SELECT (WITH, DESCRIBE, SHOW, SUMMARIZE) over the views,
        no file, environment or database access (see :mod:`framesift.catalog.readonly`);
        anything else raises QueryNotAllowedError. ``unsafe=True`` runs whatever DuckDB
        runs, on this machine, with this process's rights (for power users; never with
        SQL from someone else); the views are bound afresh for the next query, so even
        then a statement cannot replace them.
        Bind values with ``?`` / ``$name`` placeholders and ``params``; never format them
        into ``query``. Only the views the query names are refreshed (and, for a remote
        catalog, fetched into the local cache).
        """

        def run(_: CatalogState, con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
            if not unsafe:
                check_read_only(con, query, layout.TABLES)
            try:
                relation = con.sql(query, params=params)
                if relation is None:  # a statement without a result (SET, CREATE ...)
                    return pl.DataFrame()
                result: pl.DataFrame = relation.pl()
                return result
            finally:
                if unsafe:  # whatever it did, the next query binds the views afresh
                    self._views.forget()

        return self._read(tables_named_in(query), run)

    def connect(self) -> duckdb.DuckDBPyConnection:
        """The catalog's in-memory DuckDB connection with every view fresh (shared: do not
        close it; use :meth:`close` on the catalog)."""
        return self._connection(layout.TABLES)

    def _connection(self, tables: Iterable[str]) -> duckdb.DuckDBPyConnection:
        return self._read(tables, lambda _, con: con)

    def _read(
        self,
        tables: Iterable[str],
        run: Callable[[CatalogState, duckdb.DuckDBPyConnection], T],
    ) -> T:
        """``run(state, con)`` with ``tables`` bound to the visible state, under the views'
        lock. A file missing underneath makes it look again: first a fresh listing (a part
        replaced since), then one that hides the videos whose parts are lost (each named
        in a warning); a failure after that is a StorageError."""
        tables = list(tables)
        failure: Exception | None = None
        for attempt in range(3):
            with self._views.lock:
                visible = self._visible
                state = (visible.current, visible.refresh, visible.find_damage)[attempt]()
                try:
                    return run(state, self._views.bind(state, tables))
                except (FileNotFoundError, duckdb.IOException) as exc:
                    failure = exc
        raise StorageError(
            f"reading {self.url} failed: {self._storage.redact(str(failure))}"
        ) from None

    # ------------------------------------------------------------------ images

    def thumbnail(
        self,
        video_id: str,
        frame_index: int,
        *,
        full: bool = False,
        source_options: Mapping[str, Any] | None = None,
    ) -> Image:
        """The thumbnail (or, with ``full``, the full-resolution frame: see
        :meth:`full_frame`) of a kept frame, as a picture."""
        if full:
            return self.full_frame(video_id, frame_index, source_options=source_options).image()
        frames = self.frames(video_id, columns=["frame_index", "thumbnail_uri"])
        return kept_image(self._storage, frames, video_id, frame_index, column="thumbnail_uri")

    def full_frame(
        self, video_id: str, frame_index: int, *, source_options: Mapping[str, Any] | None = None
    ) -> FullFrame:
        """A kept frame's full-resolution picture. One not stored at ingest is decoded from
        the video's source by its exact pts and cached in the catalog (see
        :mod:`~framesift.catalog.fullframes`; the source is opened with
        ``source_options``); ``.decoded`` says whether this call decoded it.
        SourceChangedError or MediaNotFoundError when the source holds other content now
        or is gone."""
        return full_frame(self, video_id, frame_index, source_options)

    def image_key(self, uri: str) -> str:
        """The key under the root of an image URI from the frames table (also when the
        catalog was moved or copied since: the key is what follows ``thumbs/``)."""
        return image_key(self._storage, uri)

    def show_thumbnails(
        self,
        frames: pl.DataFrame | str | None = None,
        *,
        limit: int = 48,
        columns: int = 8,
        boxes: bool = True,
        full: bool = False,
        source_options: Mapping[str, Any] | None = None,
    ) -> ThumbnailGrid:
        """A grid of inline thumbnails for a notebook: of ``frames`` (rows of the frames
        table, or search hits), of one video (its id), or of the first frames of the
        catalog; with ``boxes``, what the frame analyzers found is drawn on them; with
        ``full``, the full frames (:meth:`full_frame`: decoded and cached on first use; the
        sources opened with ``source_options``)."""
        return show_grid(self, frames, limit=limit, columns=columns, boxes=boxes,
                         full=full, source_options=source_options)  # fmt: skip

    def _repr_html_(self) -> str:
        return catalog_html(self.url, self.info.version, len(self.state().live))

    # ------------------------------------------------------------------ writing

    def begin_video(self, video_id: str, *, settings_hash: str | None = None) -> VideoWriter:
        """Start writing a new generation of ``video_id`` (see :class:`VideoWriter`).

        ``settings_hash`` (hex) names this writer's files, so a retry with the same
        settings overwrites its own leftovers and a concurrent writer with other settings
        never touches them."""
        return open_writer(
            self._storage, video_id, settings_hash, self._visible.is_damaged, self._invalidate
        )

    def delete_video(self, video_id: str) -> bool:
        """Remove a video: a tombstone commit hides it at once, then its files go."""
        deleted = write_tombstone(self.begin_video(video_id))
        self._invalidate()
        return deleted

    def compact(self, *, min_parts: int = 1) -> int | None:
        """Merge the committed parts of each table into one Parquet file (fast full-table
        queries, especially on S3). Returns the snapshot sequence, None if nothing to do."""
        with self._views.lock:  # one connection, one bound state, for the whole copy
            self.refresh()  # compaction must see every commit, whatever the staleness policy
            snapshot = self._read(
                layout.DATA_TABLES,
                lambda state, con: compact(
                    self._storage, state, con, min_parts=min_parts, on_upload=self._views.keep_copy
                ),
            )
        if snapshot is None:
            return None
        self._invalidate()
        return snapshot.sequence

    def check(self) -> CatalogHealth:
        """Read every video's latest marker and look for every committed part: the damaged
        videos, one by one (``framesift catalog check``)."""
        return check_catalog(self._storage)

    def repair(self, health: CatalogHealth | None = None) -> RepairOutcome:
        """Hide each damaged video of ``health`` (default: a new :meth:`check`) behind a
        tombstone and set a broken snapshot aside; ingest the sources of the hidden videos
        again to restore them (``framesift catalog repair``)."""
        outcome = repair_catalog(self._storage, health or self.check())
        self._invalidate()
        if outcome.snapshot_reset:
            self.compact()
        return outcome

    def sync_to(
        self,
        url: str,
        storage_options: Mapping[str, Any] | None = None,
        *,
        max_workers: int = 16,
        retry: RetryPolicy | None = None,
    ) -> SyncReport:
        """Copy this catalog's committed videos (parts, pictures, commit markers, ledger)
        to the catalog at ``url`` (created when missing), in parallel, resumable and
        idempotent: see :mod:`~framesift.catalog.sync`. Videos that could not be copied
        are in the report (``report.raise_failures()`` raises SyncError for them)."""
        target = Storage(str(url), storage_options, retry=retry or self._storage.retry)
        return sync_catalog(self._storage, target, max_workers=max_workers)

    def vacuum(self, *, grace_s: float = 3600.0, dry_run: bool = False) -> dict[str, int]:
        """Remove leftovers older than ``grace_s``: temp files, parts and thumbnails of
        uncommitted or superseded generations, stale snapshots, incomplete S3 multipart
        uploads. Returns counts by kind."""
        counts = vacuum(self._storage, grace_s=grace_s, dry_run=dry_run)
        self._invalidate()
        return counts


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
