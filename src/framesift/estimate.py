"""How long a collection will take and how much it will store, before running it.

Every video is probed (headers and a short packet scan: seconds for a whole collection).
The start of a few videos is then sampled for real with the same settings
(``calibrate_s`` seconds each, thumbnails encoded in memory), which measures what cannot be
read from headers: frames kept per second of video (intervals, scene cuts, near-duplicates),
bytes per thumbnail and per table row, and the decode-and-analysis cost per pixel of video.
Each video's estimate scales those by its own duration, frame rate and size.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from framesift.analysis import reselect
from framesift.analyzers import AnalyzerRunner, analyze_kept_frames
from framesift.errors import FramesiftError, SettingsError
from framesift.fullpass import FULL_PASS_MODE, require_full_pass
from framesift.probe import MediaInfo, probe
from framesift.sample import SamplingPass
from framesift.sink import MemoryImageSink
from framesift.source import Source, expand_sources
from framesift.spec import AnalyzerSpec, SamplingSpec

__all__ = ["Calibration", "CollectionEstimate", "estimate_collection", "reestimate"]

logger = logging.getLogger(__name__)

ESTIMATE_SCHEMA: dict[str, pl.DataType] = {
    "source_url": pl.String(),
    "duration_s": pl.Float64(),
    "width": pl.Int32(),
    "height": pl.Int32(),
    "fps": pl.Float64(),
    "kept_frames": pl.Int64(),  # estimated
    "thumbnail_bytes": pl.Int64(),  # estimated
    "table_bytes": pl.Int64(),  # estimated Parquet bytes of its frames, scenes and analysis
    "seconds": pl.Float64(),  # estimated wall time of its sampling pass on this machine
}


@dataclass(frozen=True)
class Calibration:
    """What sampling the start of one video measured."""

    source_url: str
    video_s: float  # seconds of video sampled
    frames: int  # frames analysed
    pixels: int  # display pixels of one frame
    wall_s: float  # the decode-and-analysis loop
    setup_s: float  # opening, probing, first-use imports: paid once per video
    kept: int
    thumbnail_bytes: int
    table_bytes: int
    fps: float = 25.0
    mode: str = FULL_PASS_MODE  # the calibration pass's decode mode
    analysis: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    """Its per-frame analysis: another interval, threshold or dedup setting is re-selected
    from it (:func:`reestimate`) without decoding again."""

    @property
    def seconds_per_megapixel_frame(self) -> float:
        return self.wall_s / max(1e-9, self.frames * self.pixels / 1e6)


@dataclass(frozen=True)
class CollectionEstimate:
    videos: pl.DataFrame  # one row per readable video, see ESTIMATE_SCHEMA
    calibration: tuple[Calibration, ...]
    failed: tuple[tuple[str, str], ...]  # (source, "ErrorType: message") of unreadable ones
    spec: SamplingSpec = field(default_factory=SamplingSpec)
    media: tuple[MediaInfo, ...] = field(default=(), compare=False, repr=False)

    @property
    def totals(self) -> dict[str, float]:
        sums = {c: float(sum(self.videos[c].to_list())) for c in self.videos.columns[5:]}
        return {
            "videos": float(self.videos.height),
            "hours": float(sum(self.videos["duration_s"].to_list())) / 3600.0,
            "kept_frames": sums["kept_frames"],
            "bytes": sums["thumbnail_bytes"] + sums["table_bytes"],
            "seconds": sums["seconds"],
        }

    def __str__(self) -> str:
        t = self.totals
        return (
            f"{int(t['videos'])} videos, {t['hours']:.2f} h of footage: ~{int(t['kept_frames'])} "
            f"kept frames, ~{t['bytes'] / 1e6:.1f} MB in the catalog, ~{t['seconds'] / 60:.1f} "
            f"min of sampling in one process here ({len(self.failed)} unreadable)"
        )


def _calibrate(
    source: Source, media: MediaInfo, spec: SamplingSpec, seconds: float, analyzers: AnalyzerSpec
) -> Calibration:
    """The start of one video sampled as ingest would, the analyzers' time included."""
    sink = MemoryImageSink()
    marks: list[float] = []
    started = time.perf_counter()
    with AnalyzerRunner.of(analyzers) as runner:
        streaming = bool(runner.analyzers) and not spec.decode.fast
        result = SamplingPass(
            source,
            spec,
            sink=sink,
            media=media,
            until_s=seconds,
            progress=lambda done, total: marks.append(time.perf_counter()),
            consumers=(runner,) if streaming else (),
        ).result()
        if streaming:
            runner.finish()
        elif runner.analyzers:
            analyze_kept_frames(source, media, result.frames, runner)
    ended = time.perf_counter()
    loop_start = marks[0] if marks else started  # the pass reports its start, then progress
    analysis = result.analysis
    times: list[float] = analysis["time_s"].to_list()
    video_s = max(times) - min(times) + 1.0 / media.video.fps if times else 0.0
    table_bytes = 0
    for table in (result.frames, result.scenes, analysis):
        buffer = io.BytesIO()
        table.write_parquet(buffer, compression="zstd")
        table_bytes += buffer.tell()
    return Calibration(
        source_url=source.shown,
        video_s=video_s,
        frames=analysis.height,
        pixels=media.video.width * media.video.height,
        wall_s=ended - loop_start,
        setup_s=loop_start - started,
        kept=result.frames.height,
        thumbnail_bytes=sum(len(b) for b in sink.images.values()),
        table_bytes=table_bytes,
        fps=media.video.fps,
        mode=result.stats.mode,
        analysis=analysis,
    )


def estimate_collection(
    sources: Iterable[str],
    spec: SamplingSpec | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
    calibrate_videos: int = 2,
    calibrate_s: float = 20.0,
    analyzers: AnalyzerSpec | None = None,
) -> CollectionEstimate:
    """Estimate kept frames, catalog bytes and sampling time for ``sources`` with ``spec``.

    Sources are files, folders, globs or fsspec URLs, as for ``ingest``. The first
    ``calibrate_videos`` readable videos are sampled for their first ``calibrate_s`` seconds;
    unreadable sources are listed in ``failed``, never raised. ``analyzers`` run on the
    calibration's kept frames, so their time is in the estimate.
    """
    spec = spec or SamplingSpec()
    analyzers = analyzers or AnalyzerSpec()
    media: list[tuple[Source, MediaInfo]] = []
    failed: list[tuple[str, str]] = []
    for url in expand_sources(sources, storage_options):
        source = Source(url, storage_options)
        try:
            media.append((source, probe(source)))
        except FramesiftError as exc:
            failed.append((source.shown, f"{type(exc).__name__}: {exc}"))
    calibration: list[Calibration] = []
    for source, info in media:
        if len(calibration) >= calibrate_videos:
            break
        try:
            calibration.append(_calibrate(source, info, spec, calibrate_s, analyzers))
        except FramesiftError as exc:
            failed.append((source.shown, f"{type(exc).__name__}: {exc}"))
    failed_urls = {u for u, _ in failed}
    readable = [m for source, m in media if source.shown not in failed_urls]
    kept = [c.kept for c in calibration]
    estimate = _project(readable, calibration, kept, spec, failed)
    logger.info("estimate: %s", estimate)
    return estimate


def reestimate(estimate: CollectionEstimate, spec: SamplingSpec) -> CollectionEstimate:
    """The same collection with other selection settings (interval, threshold, minimum scene
    length, near-duplicate bits, representatives): the kept frames of the calibrated
    stretches are re-selected from their analysis, nothing is decoded again. Thumbnail sizes,
    image settings and the decode cost stay as calibrated."""
    kept: list[int] = []
    for c in estimate.calibration:
        require_full_pass(c.mode, c.source_url)
        if c.analysis is None:
            raise SettingsError(f"re-estimating needs the analysis of {c.source_url}'s calibration")
        kept.append(reselect(c.analysis, spec, detector=estimate.spec.detector, fps=c.fps)
                    .frames.height)  # fmt: skip
    return _project(list(estimate.media), estimate.calibration, kept, spec, list(estimate.failed))


def _project(
    media: list[MediaInfo],
    calibration: Iterable[Calibration],
    kept_counts: list[int],
    spec: SamplingSpec,
    failed: list[tuple[str, str]],
) -> CollectionEstimate:
    """Scale what the calibrated stretches measured (with ``kept_counts`` kept frames) to
    every video."""
    calibration = tuple(calibration)
    sampled_s = sum(c.video_s for c in calibration)
    sampled_frames = sum(c.frames for c in calibration)
    kept_per_s = sum(kept_counts) / sampled_s if sampled_s else 0.0
    per_thumb = sum(c.thumbnail_bytes for c in calibration) / max(
        1, sum(c.kept for c in calibration)
    )
    per_frame_table = sum(c.table_bytes for c in calibration) / max(1, sampled_frames)
    cost = (
        sum(c.wall_s for c in calibration)
        / max(1e-9, sum(c.frames * c.pixels for c in calibration) / 1e6)
        if calibration
        else 0.0
    )
    # The first calibration paid the first-use imports; later videos pay only their own set-up.
    setup_s = min((c.setup_s for c in calibration), default=0.0)
    rows = []
    for info in media:
        duration = info.duration_s or 0.0
        fps = info.video.fps
        frames = duration * fps
        kept = round(duration * kept_per_s)
        rows.append(
            {
                "source_url": info.url,
                "duration_s": duration,
                "width": info.video.width,
                "height": info.video.height,
                "fps": fps,
                "kept_frames": kept,
                "thumbnail_bytes": round(kept * per_thumb),
                "table_bytes": round(frames * per_frame_table),
                "seconds": setup_s + frames * info.video.width * info.video.height / 1e6 * cost,
            }
        )
    videos = pl.DataFrame(rows, schema=ESTIMATE_SCHEMA, orient="row")
    return CollectionEstimate(videos, calibration, tuple(failed), spec, tuple(media))
