"""One sampled video's tables as the catalog stores them: the sampled frames, scenes and
analysis, and its ``videos`` row (probe facts, settings, pass statistics)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import polars as pl

from framesift.catalog.job import IngestJob
from framesift.catalog.sampler import SampledVideo
from framesift.catalog.tables import row_frame
from framesift.catalog.version import framesift_version
from framesift.spec import AnalyzerSpec, TextSpec

__all__ = ["analyzers_json", "text_json", "video_tables"]


def video_tables(
    job: IngestJob, result: SampledVideo, video_id: str, generation: int, size: int
) -> dict[str, pl.DataFrame]:
    """The sampled tables and the video's ``videos`` row (probe, settings, pass statistics)."""
    probed = dict(result.media.to_row())
    probed.pop("url", None)
    stats = result.stats
    row: dict[str, Any] = {
        **probed,
        "video_id": video_id,
        "generation": generation,
        "source_url": job.source.shown,
        "size_bytes": size,
        "ingested_at": datetime.now(UTC),
        "settings_hash": job.settings_hash,
        "sampling_spec": json.dumps(job.sampling_spec.to_dict(), sort_keys=True),
        "framesift_version": framesift_version(),
        "kept_frames": result.frames.height,
        "scene_count": result.scenes.height,
        "frames_decoded": stats.frames_decoded,
        "damaged_packets": stats.damaged_packets,
        "sample_seconds": stats.seconds,
        "text_spec": text_json(job.text),
        "analyzer_spec": analyzers_json(job.analyzers),
    }
    return {
        "videos": row_frame(row, "videos"),
        "frames": result.frames,
        "scenes": result.scenes,
        "analysis": result.analysis,
    }


def text_json(text: TextSpec) -> str:
    """The text settings as the ``videos`` row stores them."""
    return json.dumps(text.to_dict(), sort_keys=True)


def analyzers_json(analyzers: AnalyzerSpec) -> str | None:
    """The analyzer settings as the ``videos`` row stores them (None: it ran none)."""
    return json.dumps(analyzers.to_dict(), sort_keys=True) if analyzers.names else None
