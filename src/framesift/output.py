"""Writing one sampling pass to a folder or bucket: thumbnails plus Parquet tables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any

from framesift.parquet import write_parquet
from framesift.pass_tables import PASS_TABLES, PassTables
from framesift.sample import ProgressCallback, SampleResult, sample_video, scans_fast
from framesift.schema import COLUMN_KINDS
from framesift.sink import FsspecImageSink, ImageSink
from framesift.source import Source
from framesift.spec import AnalyzerSpec, SamplingSpec

if TYPE_CHECKING:
    import polars as pl

    from framesift.analyzers import AnalyzerOutput

__all__ = ["loads_polars", "write_pass_table", "write_sample", "write_table"]


def write_table(frame: pl.DataFrame, url: str, storage_options: Mapping[str, Any] | None) -> None:
    """Write a DataFrame as Parquet at ``url`` through fsspec (a file on this machine with
    the operating system's own calls, as fsspec would: start-up, as in the image sink)."""
    target = Source(url, storage_options)
    with target.mapped_errors("write"), _open_for_writing(target) as f:
        frame.write_parquet(f)


def write_pass_table(
    tables: PassTables, table: str, url: str, storage_options: Mapping[str, Any] | None
) -> None:
    """Write ``table`` of a pass (one of :data:`PASS_TABLES`) as Parquet at ``url``, without
    polars (:mod:`framesift.parquet`)."""
    target = Source(url, storage_options)
    with target.mapped_errors("write"), _open_for_writing(target) as f:
        write_parquet(f, COLUMN_KINDS[table], tables.columns(table))


def _open_for_writing(target: Source) -> IO[bytes]:
    if target.is_local:
        return open(os.path.expanduser(target.local_path), "wb")
    import fsspec  # start-up: only a remote target needs it

    return fsspec.open(target.url, "wb", **dict(target.storage_options or {})).open()  # type: ignore[no-any-return]


def loads_polars(spec: SamplingSpec, analyzers: AnalyzerSpec | None) -> bool:
    """Whether :func:`write_sample` imports polars: a fast pass selects its frames with it,
    and analyzers' detections are written by it; a streaming pass's own tables are not
    (:mod:`framesift.pass_tables`)."""
    return scans_fast(spec) or bool(analyzers is not None and analyzers.names)


def write_sample(
    video_url: str,
    out_url: str,
    spec: SamplingSpec | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
    analyzers: AnalyzerSpec | None = None,
) -> SampleResult:
    """Sample ``video_url`` and write thumbnails under ``out_url/thumbs/`` and the
    frames, scenes and analysis tables as Parquet files in ``out_url``; with
    ``analyzers``, their results as ``detections.parquet`` too."""
    out = out_url.rstrip("/")
    spec = spec or SamplingSpec()
    analyzed: AnalyzerOutput | None = None
    with FsspecImageSink(f"{out}/thumbs", storage_options) as sink:
        if analyzers is not None and analyzers.names:
            result, analyzed = _sample_analyzed(
                Source(video_url, storage_options), spec, analyzers, sink, progress
            )
        else:
            result = sample_video(
                video_url, spec, storage_options=storage_options, sink=sink, progress=progress
            )
    for name in PASS_TABLES:
        write_pass_table(result.tables, name, f"{out}/{name}.parquet", storage_options)
    if analyzed is not None:
        write_table(analyzed.detections, f"{out}/detections.parquet", storage_options)
    return result


def _sample_analyzed(
    source: Source,
    spec: SamplingSpec,
    analyzers: AnalyzerSpec,
    sink: ImageSink,
    progress: ProgressCallback | None,
) -> tuple[SampleResult, AnalyzerOutput]:
    """The pass with frame analyzers: they take each kept picture as the pass hands it on,
    or, after a fast scan (which hands no pictures on), the kept frames decoded again."""
    # start-up: the analyzers' modules load only for a pass that runs some
    from framesift.analyzers import AnalyzerRunner, analyze_kept_frames

    with AnalyzerRunner.of(analyzers) as runner:
        streaming = not spec.decode.fast
        result = sample_video(
            source,
            spec,
            sink=sink,
            progress=progress,
            consumers=(runner,) if streaming else (),
        )
        if streaming:
            return result, runner.finish()
        return result, analyze_kept_frames(source, result.media, result.frames, runner)
