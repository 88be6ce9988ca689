"""One video's rows read from its own Parquet part (the fast path of ``Catalog.frames(id)``
and the other per-table readers for one video: one small object, no DuckDB)."""

from __future__ import annotations

import io

import polars as pl

from framesift.catalog.cache import ObjectCache
from framesift.catalog.commits import Commit, latest_commit, part_version
from framesift.catalog.image_uris import resolve_image_uris
from framesift.catalog.tables import SORT_KEYS, conform, empty
from framesift.errors import CatalogError
from framesift.storage import Storage

__all__ = ["read_part", "read_video_table"]


def read_part(
    storage: Storage, cache: ObjectCache | None, key: str, commit: Commit
) -> pl.DataFrame:
    """A committed part as stored (remote catalog: through the local cache, when any)."""
    if cache is not None:  # a local copy, downloaded first when missing
        return pl.read_parquet(cache.fetch([(key, part_version(key, commit))])[0])
    return pl.read_parquet(io.BytesIO(storage.read_bytes(key)))


def read_video_table(
    storage: Storage,
    cache: ObjectCache | None,
    table: str,
    video_id: str,
    commit: Commit | None,
    columns: list[str],
) -> pl.DataFrame:
    """``columns`` of ``table`` for one video as ``commit`` (its latest commit as listed)
    holds them; a part replaced since is read at its new generation. The pictures of the
    frames table come as URIs at this catalog's root."""
    for fresh in (False, True):
        if fresh:  # replaced between listing and reading: read the new generation
            commit = latest_commit(storage, video_id)
        if commit is None or commit.deleted or table not in commit.parts:
            return empty(table).select(columns)
        try:
            df = read_part(storage, cache, commit.parts[table], commit)
        except FileNotFoundError:
            continue
        # A part written before a column existed reads it as nulls, as the views do.
        df = conform(df, table, strict=False).sort(list(SORT_KEYS[table])).select(columns)
        return resolve_image_uris(df, storage) if table == "frames" else df
    assert commit is not None
    raise CatalogError(
        f"video {video_id} in {storage.url} is damaged: its committed part "
        f"{commit.parts[table]} is missing; run framesift catalog repair, then ingest its "
        "source again"
    )
