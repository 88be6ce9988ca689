"""Column schemas of the catalog tables, and conforming frames to them.

``frames``, ``scenes``, ``analysis`` and ``detections`` are :mod:`framesift.schema`'s
tables with a leading ``video_id``, ``segments`` is its table as it is; ``videos`` and
``jobs`` are defined here.
docs/catalog.md documents every column; a test keeps the two in sync.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import polars as pl

from framesift.catalog.stages import STAGES
from framesift.errors import CatalogError
from framesift.schema import (
    ANALYSIS_SCHEMA,
    DETECTIONS_SCHEMA,
    FRAMES_SCHEMA,
    SCENES_SCHEMA,
    SEGMENTS_SCHEMA,
)

__all__ = [
    "JOBS_SCHEMA",
    "JOB_STATES",
    "SCHEMAS",
    "SEGMENTS_SCHEMA",
    "SORT_KEYS",
    "VIDEOS_SCHEMA",
    "conform",
    "empty",
    "row_frame",
]

logger = logging.getLogger(__name__)

_UTC = pl.Datetime("us", "UTC")
_ID: dict[str, pl.DataType] = {"video_id": pl.String()}

VIDEOS_SCHEMA: dict[str, pl.DataType] = {
    "video_id": pl.String(),  # content fingerprint, see framesift.catalog.fingerprint
    "generation": pl.Int64(),  # commit generation the rows belong to (1, 2, ... on --force)
    "source_url": pl.String(),  # where it was ingested from, credentials removed
    "size_bytes": pl.Int64(),
    "ingested_at": _UTC,
    "settings_hash": pl.String(),  # settings_fingerprint(sampling, text, analyzers)
    "sampling_spec": pl.String(),  # the full SamplingSpec as JSON
    "framesift_version": pl.String(),
    "kept_frames": pl.Int64(),
    "scene_count": pl.Int64(),
    "frames_decoded": pl.Int64(),
    "damaged_packets": pl.Int64(),
    "sample_seconds": pl.Float64(),  # wall time of the sampling pass
    "text_spec": pl.String(),  # the TextSpec as JSON
    "analyzer_spec": pl.String(),  # the AnalyzerSpec's settings as JSON, None: no analyzers
    "analyzer_runs": pl.String(),  # JSON per analyzer: engine (provider), frames, seconds
    # probe fields (MediaInfo.to_row()); declared vs measured is documented in probe.py
    "container": pl.String(),
    "duration_s": pl.Float64(),
    "start_time_s": pl.Float64(),
    "bit_rate": pl.Int64(),
    "codec": pl.String(),
    "profile": pl.String(),
    "pix_fmt": pl.String(),
    "bit_depth": pl.Int32(),
    "coded_width": pl.Int32(),
    "coded_height": pl.Int32(),
    "width": pl.Int32(),
    "height": pl.Int32(),
    "rotation_deg": pl.Int32(),
    "avg_fps": pl.Float64(),
    "nominal_fps": pl.Float64(),
    "vfr": pl.Boolean(),
    "frame_count": pl.Int64(),
    "keyframe_interval_s": pl.Float64(),
    "audio_codecs": pl.String(),
    "subtitle_languages": pl.String(),
}

JOB_STATES: tuple[str, ...] = ("queued", "running", "done", "failed", "interrupted")

JOBS_SCHEMA: dict[str, pl.DataType] = {
    "job_id": pl.String(),  # hash of the source URL
    "source_url": pl.String(),  # credentials removed
    "video_id": pl.String(),  # None until the source was fingerprinted
    "state": pl.String(),  # queued, running, done, failed, interrupted
    "outcome": pl.String(),  # ingested, replaced, skipped (done); None otherwise
    "settings_hash": pl.String(),
    "attempts": pl.Int32(),  # runs started for this source
    "error_type": pl.String(),  # e.g. NotAVideoError, for failed
    "error_message": pl.String(),  # credentials removed
    "started_at": _UTC,
    "finished_at": _UTC,
    "updated_at": _UTC,
    "worker": pl.String(),  # host:pid of the last run
    "run": pl.String(),  # host:pid of the batch that queued it
    "host": pl.String(),  # host of the last run's worker
    "pid": pl.Int64(),  # process id of the last run's worker
    "failure_kind": pl.String(),  # for failed: transient (retried) or deterministic
    # seconds of the last run per stage (framesift.catalog.stages), null where not reached
    **{f"{stage}_s": pl.Float64() for stage in STAGES},
    "wall_s": pl.Float64(),  # the last run's wall time, start to its last ledger write
}

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "videos": VIDEOS_SCHEMA,
    "frames": {**_ID, **FRAMES_SCHEMA},
    "scenes": {**_ID, **SCENES_SCHEMA},
    "analysis": {**_ID, **ANALYSIS_SCHEMA},
    "segments": SEGMENTS_SCHEMA,
    "detections": {**_ID, **DETECTIONS_SCHEMA},
    "jobs": JOBS_SCHEMA,
}

SORT_KEYS: dict[str, tuple[str, ...]] = {
    "videos": ("video_id",),
    "frames": ("video_id", "frame_index"),
    "scenes": ("video_id", "scene_index"),
    "analysis": ("video_id", "frame_index"),
    "segments": ("video_id", "start_s"),
    "detections": ("video_id", "frame_index", "analyzer"),
    "jobs": ("source_url",),
}


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the table's columns and types."""
    return pl.DataFrame(schema=SCHEMAS[table])


def conform(
    df: pl.DataFrame, table: str, *, video_id: str | None = None, strict: bool = True
) -> pl.DataFrame:
    """``df`` with exactly the table's columns, in order, cast to their types.

    ``video_id`` fills (or replaces) the video_id column. Missing columns become nulls
    when ``strict`` is False, an error otherwise; extra columns are dropped with a log line.
    """
    schema = SCHEMAS[table]
    if video_id is not None and "video_id" in schema:
        df = df.with_columns(pl.lit(video_id, dtype=pl.String()).alias("video_id"))
    missing = [c for c in schema if c not in df.columns]
    if missing and strict:
        raise CatalogError(f"rows for table {table!r} lack columns {missing}")
    extra = [c for c in df.columns if c not in schema]
    if extra:
        logger.debug("table %s: dropping columns not in its schema: %s", table, extra)
    try:
        return df.select(
            [
                pl.col(name).cast(dtype, strict=True)
                if name in df.columns
                else pl.lit(None, dtype=dtype).alias(name)
                for name, dtype in schema.items()
            ]
        )
    except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
        raise CatalogError(f"rows for table {table!r} do not fit its schema: {exc}") from exc


def row_frame(row: Mapping[str, object], table: str) -> pl.DataFrame:
    """A one-row frame of ``table`` from a dict (unknown keys dropped, missing ones null)."""
    schema = SCHEMAS[table]
    return pl.DataFrame([{k: row.get(k) for k in schema}], schema=schema)
