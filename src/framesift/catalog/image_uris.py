"""Where a kept frame's pictures are, as the frames table says it.

A catalog stores each picture's place as its key under the catalog root
(``thumbs/<video_id>/g<generation>-<token>/<name>``), so the rows stay true when the
catalog is moved, copied or synced elsewhere. Readers resolve a key to a URI at the
catalog's current root (the ``frames`` view and ``Catalog.frames`` show URIs). Catalogs
written before stored absolute URIs at their root of the time: those are mapped on read
to the same key (what follows the root is the key), so they resolve to the current root
too. Compaction stores keys again, never URIs.
"""

from __future__ import annotations

import re

import polars as pl

from framesift.catalog import layout
from framesift.errors import CatalogError
from framesift.storage import Storage

__all__ = [
    "IMAGE_COLUMNS",
    "image_key",
    "resolve_image_uris",
    "resolved_uri_sql",
    "stored_key",
    "stored_key_sql",
]

IMAGE_COLUMNS: tuple[str, ...] = ("thumbnail_uri", "frame_uri")
"""The columns of the frames table that name a picture."""

_KEY = r"thumbs/[0-9a-f]{8,64}/g[0-9]{10}-[0-9a-f]{1,32}/.+"
_KEY_IN_URI = re.compile(rf"(?:^|/)({_KEY})$")


def stored_key(uri: str) -> str | None:
    """The key under the root that an image URI of the frames table names (a key as
    stored now, or an older catalog's absolute URI), None when it names none."""
    found = _KEY_IN_URI.search(uri)
    return found[1] if found else None


def image_key(storage: Storage, uri: str) -> str:
    """The key under ``storage``'s root of an image URI or key from the frames table."""
    key = storage.key_of(uri) or stored_key(uri)
    if key is None or layout.parse_thumb_key(key) is None:
        raise CatalogError(f"image {uri!r} lies outside the catalog's thumbs/ folder")
    return key


def _sql_key(column: str) -> str:
    return f"regexp_extract(\"{column}\", '(?:^|/)({_KEY})$', 1)"


def stored_key_sql(column: str) -> str:
    """SQL of the key stored for ``column`` (what :func:`stored_key` does), keeping a
    value that names no key as it is."""
    key = _sql_key(column)
    return f"CASE WHEN {key} = '' THEN \"{column}\" ELSE {key} END"


def resolved_uri_sql(column: str, root_sql: str) -> str:
    """SQL of ``column`` resolved to a URI under the root that ``root_sql`` evaluates to."""
    key = _sql_key(column)
    return f"CASE WHEN {key} = '' THEN \"{column}\" ELSE {root_sql} || '/' || {key} END"


def resolve_image_uris(frames: pl.DataFrame, storage: Storage) -> pl.DataFrame:
    """``frames`` (rows of the frames table as stored) with the image columns resolved to
    URIs under ``storage``'s root."""
    present = [c for c in IMAGE_COLUMNS if c in frames.columns]
    if not present:
        return frames
    prefix = pl.lit(storage.url + "/")
    keys = {c: pl.col(c).str.extract(_KEY_IN_URI.pattern, 1) for c in present}
    return frames.with_columns(
        pl.when(key.is_null()).then(pl.col(c)).otherwise(prefix + key).alias(c)
        for c, key in keys.items()
    )
