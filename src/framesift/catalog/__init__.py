"""The framesift catalog: sampled videos as Parquet tables under one URL (a local folder
or any fsspec URL), queried with polars or DuckDB SQL, written through an atomic commit
protocol. See docs/catalog.md for the schema, layout and protocol.

Modules, in data-flow order: ``layout`` (keys), ``tables`` (schemas), ``version``
(``_catalog.json``, migrations), ``commits`` (the protocol), ``jobs`` (ledger), ``sink``
(thumbnails), ``writer`` (``VideoWriter``), ``sources`` (inputs, fingerprints), ``views``
(DuckDB), ``health`` (damage: check, repair), ``visible`` (what a ``Catalog`` shows),
``compact``, ``vacuum``, ``image_uris`` (pictures as keys, resolved on read),
``video_parts`` (one video's rows), ``fullframes`` (full frames decoded on demand),
``sync`` (copying videos to another catalog), ``mirror`` (a sync in the background of a
batch), ``stages`` (where a video's ingest spent its time), ``totals``, ``catalog``
(``Catalog``), ``sampler`` (what ingest needs from a sampling pass), ``job`` (one video's
ingest as a value), ``ingest`` (the per-video unit), ``timed_text`` (its text, one source
at a time), ``display``. The batch loop over many videos, ``framesift.ingest``, is
:mod:`framesift.batch`; the command line is :mod:`framesift.cli`.
"""

from __future__ import annotations

from framesift.catalog.catalog import Catalog
from framesift.catalog.commits import CatalogState, Commit, Snapshot
from framesift.catalog.display import ThumbnailGrid
from framesift.catalog.ingest import ingest_one
from framesift.catalog.job import IngestJob, IngestOutcome
from framesift.catalog.layout import DATA_TABLES, TABLES
from framesift.catalog.mirror import CatalogMirror, MirrorReport
from framesift.catalog.sampler import Sampler
from framesift.catalog.sources import VIDEO_EXTENSIONS, expand_sources, fingerprint
from framesift.catalog.stages import STAGES
from framesift.catalog.sync import SyncFailure, SyncReport, sync_catalog
from framesift.catalog.tables import SCHEMAS
from framesift.catalog.totals import CatalogTotals, FailedSource, StageSeconds
from framesift.catalog.version import CATALOG_VERSION, MIGRATIONS
from framesift.catalog.writer import VideoWriter

__all__ = [
    "CATALOG_VERSION",
    "DATA_TABLES",
    "MIGRATIONS",
    "SCHEMAS",
    "STAGES",
    "TABLES",
    "VIDEO_EXTENSIONS",
    "Catalog",
    "CatalogMirror",
    "CatalogState",
    "CatalogTotals",
    "Commit",
    "FailedSource",
    "IngestJob",
    "IngestOutcome",
    "MirrorReport",
    "Sampler",
    "Snapshot",
    "StageSeconds",
    "SyncFailure",
    "SyncReport",
    "ThumbnailGrid",
    "VideoWriter",
    "expand_sources",
    "fingerprint",
    "ingest_one",
    "sync_catalog",
]
