"""How long a collection will take and how much it will store, before running it.

Every video is probed (headers and a short packet scan: seconds for a whole collection).
The start of a few videos is then sampled for real with the same settings (``calibrate_s``
seconds each), which measures what cannot be read from headers: frames kept per second of
video (intervals, scene cuts, near-duplicates), bytes per thumbnail and per table row, the
bytes every video costs whatever its length, and the decode-and-analysis cost per pixel of
video. Each video's estimate scales those by its own duration, frame rate and size.

Two calibrations measure that start (a :data:`Calibrator` is either):

- :func:`calibrate_sampling` (the default here) runs the sampling pass alone, thumbnails
  encoded in memory: kept frames, thumbnails and the pass's own tables;
- :func:`framesift.batch.calibrate_ingest` ingests the start into a throwaway in-memory
  catalog through the real batch loop, so every byte the catalog writes (commit markers,
  the ledger, every table, Parquet overheads, thumbnails) and the time of fingerprinting,
  text extraction and committing are counted. ``framesift estimate`` and the notebook's
  estimator use it (:func:`framesift.batch.estimate_ingest`).

How sure: each calibrated video alone also gives a projection of the whole collection; the
lowest and highest of those are the estimate's range (:attr:`CollectionEstimate.ranges`).
"""

from __future__ import annotations

import functools
import io
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from framesift.analysis import reselect
from framesift.analyzers import AnalyzerRunner, analyze_kept_frames
from framesift.errors import FramesiftError, SettingsError
from framesift.fullpass import FULL_PASS_MODE, require_full_pass
from framesift.probe import MediaInfo, probe
from framesift.sample import SamplingPass
from framesift.schema import KeepReason
from framesift.sink import MemoryImageSink
from framesift.source import Source, find_videos
from framesift.spec import AnalyzerSpec, SamplingSpec

__all__ = [
    "Calibration",
    "Calibrator",
    "CollectionEstimate",
    "calibrate_sampling",
    "estimate_collection",
    "reestimate",
]

logger = logging.getLogger(__name__)

ESTIMATE_SCHEMA: dict[str, pl.DataType] = {
    "source_url": pl.String(),
    "duration_s": pl.Float64(),
    "width": pl.Int32(),
    "height": pl.Int32(),
    "fps": pl.Float64(),
    "kept_frames": pl.Int64(),  # estimated
    "thumbnail_bytes": pl.Int64(),  # estimated
    "table_bytes": pl.Int64(),  # estimated Parquet bytes of its rows (frames ... segments)
    "overhead_bytes": pl.Int64(),  # estimated bytes whatever its length (markers, footers)
    "seconds": pl.Float64(),  # estimated wall time of its ingest on this machine
}

TOTALS = ("kept_frames", "bytes", "seconds")
"""The totals that :attr:`CollectionEstimate.ranges` gives a range for."""


@dataclass(frozen=True)
class Calibration:
    """What sampling (or ingesting) the start of one video measured."""

    source_url: str
    video_s: float  # seconds of video sampled
    frames: int  # frames analysed
    pixels: int  # display pixels of one frame
    wall_s: float  # the decode-and-analysis loop (the fastest of the repeats)
    setup_s: float  # opening, probing, first-use imports: paid once per video
    kept: int
    thumbnail_bytes: int
    table_bytes: int  # Parquet bytes of the stretch's rows, without each part's overhead
    fps: float = 25.0
    mode: str = FULL_PASS_MODE  # the calibration pass's decode mode
    overhead_bytes: int = 0  # per video whatever its length: markers, ledger, footers
    catalog_bytes: int = 0  # once per catalog (its description file)
    text_bytes_per_s: float = 0.0  # timed text per second of video
    other_s: float = 0.0  # per video, outside the pass and text: fingerprint, parts, commit
    text_s_per_s: float = 0.0  # text extraction (speech, OCR) per second of video
    interval_kept: int = 0  # kept frames among ``kept`` that the interval clock chose
    analysis: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    """Its per-frame analysis: another interval, threshold or dedup setting is re-selected
    from it (:func:`reestimate`) without decoding again."""

    @property
    def seconds_per_megapixel_frame(self) -> float:
        return self.wall_s / max(1e-9, self.frames * self.pixels / 1e6)


Calibrator = Callable[[Source, MediaInfo, SamplingSpec, float], Calibration]
"""Measures the first ``seconds`` of one video with ``spec``: :func:`calibrate_sampling`
or :func:`framesift.batch.calibrate_ingest` (with its text settings bound)."""


@dataclass(frozen=True)
class CollectionEstimate:
    videos: pl.DataFrame  # one row per readable video, see ESTIMATE_SCHEMA
    calibration: tuple[Calibration, ...]
    failed: tuple[tuple[str, str], ...]  # (source, "ErrorType: message") of unreadable ones
    spec: SamplingSpec = field(default_factory=SamplingSpec)
    media: tuple[MediaInfo, ...] = field(default=(), compare=False, repr=False)
    looks: tuple[Calibration | None, ...] = field(default=(), compare=False, repr=False)
    """A short look at the start of each video of ``media`` (None where it failed): its own
    thumbnail bytes and decode cost, scaled by what the calibrations measured."""
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict, compare=False)
    """Lowest and highest projection of each total in :data:`TOTALS`, one per calibrated
    video: how sure the estimate is (a single calibrated video gives no range)."""

    @property
    def totals(self) -> dict[str, float]:
        return _totals(self.videos, self.calibration)

    def __str__(self) -> str:
        t = self.totals

        def span(name: str, scale: float, fmt: str) -> str:
            low, high = self.ranges.get(name, (t[name], t[name]))
            if len(self.calibration) < 2:
                return ""
            return f" ({format(low / scale, fmt)}-{format(high / scale, fmt)})"

        return (
            f"{int(t['videos'])} videos, {t['hours']:.2f} h of footage: ~{int(t['kept_frames'])} "
            f"kept frames{span('kept_frames', 1, '.0f')}, ~{t['bytes'] / 1e6:.1f} MB in the "
            f"catalog{span('bytes', 1e6, '.1f')}, ~{t['seconds'] / 60:.1f} min"
            f"{span('seconds', 60, '.1f')} of work in one process here "
            f"({len(self.failed)} unreadable)"
        )


def _totals(videos: pl.DataFrame, calibration: Sequence[Calibration]) -> dict[str, float]:
    def total(column: str) -> float:
        return float(sum(videos[column].to_list()))

    per_catalog = max((c.catalog_bytes for c in calibration), default=0) if videos.height else 0
    return {
        "videos": float(videos.height),
        "hours": total("duration_s") / 3600.0,
        "kept_frames": total("kept_frames"),
        "bytes": total("thumbnail_bytes") + total("table_bytes") + total("overhead_bytes")
        + per_catalog,
        "seconds": total("seconds"),
    }  # fmt: skip


def interval_kept(frames: pl.DataFrame) -> int:
    """How many of the kept ``frames`` the interval clock chose (among other reasons)."""
    if frames.is_empty():
        return 0
    return int(frames["reasons"].list.contains(KeepReason.INTERVAL.value).sum())


def _interval_ticks(seconds: float, interval_s: float) -> int:
    """Ticks of the interval clock in ``seconds`` of video: one at the start, then one each
    ``interval_s`` before the end."""
    return max(1, math.ceil(seconds / interval_s - 1e-6))


def calibrate_sampling(
    source: Source,
    media: MediaInfo,
    spec: SamplingSpec,
    seconds: float,
    *,
    analyzers: AnalyzerSpec | None = None,
) -> Calibration:
    """The sampling pass alone over the first ``seconds`` of ``source``, thumbnails encoded
    in memory: kept frames, thumbnails and the pass's tables (not the catalog's other
    files, nor text); ``analyzers`` run on the kept frames, their time included."""
    sink = MemoryImageSink()
    marks: list[float] = []
    started = time.perf_counter()
    with AnalyzerRunner.of(analyzers or AnalyzerSpec()) as runner:
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
        interval_kept=interval_kept(result.frames),
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
    calibrate: Calibrator | None = None,
    look_s: float = 2.0,
) -> CollectionEstimate:
    """Estimate kept frames, catalog bytes and time for ``sources`` with ``spec``.

    Sources are files, folders, globs or fsspec URLs, as for ``ingest`` (names that hold no
    video at all raise MediaNotFoundError). The first ``calibrate_videos`` readable videos
    are measured for their first ``calibrate_s`` seconds by ``calibrate`` (default
    :func:`calibrate_sampling`; :func:`framesift.batch.estimate_ingest` measures a real
    ingest); unreadable sources are listed in ``failed``, never raised.

    Videos differ (a cartoon's thumbnails are a third of a street scene's; one codec decodes
    faster than another), so every video is also looked at for its first ``look_s`` seconds
    (the sampling pass alone; 0: no look): its own bytes per thumbnail and cost per pixel,
    corrected by how the calibrated videos' looks compared with their calibration.
    ``analyzers`` run on the default calibration's kept frames, so their time is in the
    estimate.
    """
    spec = spec or SamplingSpec()
    calibrate = calibrate or functools.partial(calibrate_sampling, analyzers=analyzers)
    media: list[tuple[Source, MediaInfo]] = []
    failed: list[tuple[str, str]] = []
    for url in find_videos(sources, storage_options):
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
            calibration.append(calibrate(source, info, spec, calibrate_s))
        except FramesiftError as exc:
            failed.append((source.shown, f"{type(exc).__name__}: {exc}"))
    failed_urls = {u for u, _ in failed}
    readable = [(source, m) for source, m in media if source.shown not in failed_urls]
    looks = tuple(_look(source, info, spec, look_s) for source, info in readable)
    kept = [(c.kept, c.interval_kept) for c in calibration]
    estimate = _project([m for _, m in readable], calibration, kept, spec, failed, looks)
    logger.info("estimate: %s", estimate)
    return estimate


def reestimate(estimate: CollectionEstimate, spec: SamplingSpec) -> CollectionEstimate:
    """The same collection with other selection settings (interval, threshold, minimum scene
    length, near-duplicate bits, representatives): the kept frames of the calibrated
    stretches are re-selected from their analysis, nothing is decoded again. Thumbnail sizes,
    image settings and the decode cost stay as calibrated."""
    kept: list[tuple[int, int]] = []
    for c in estimate.calibration:
        require_full_pass(c.mode, c.source_url)
        if c.analysis is None:
            raise SettingsError(f"re-estimating needs the analysis of {c.source_url}'s calibration")
        frames = reselect(c.analysis, spec, detector=estimate.spec.detector, fps=c.fps).frames
        kept.append((frames.height, interval_kept(frames)))
    return _project(
        list(estimate.media),
        estimate.calibration,
        kept,
        spec,
        list(estimate.failed),
        estimate.looks,
    )


def _project(
    media: list[MediaInfo],
    calibration: Iterable[Calibration],
    kept_counts: list[tuple[int, int]],
    spec: SamplingSpec,
    failed: list[tuple[str, str]],
    looks: Sequence[Calibration | None] = (),
) -> CollectionEstimate:
    """Scale what the calibrated stretches measured (with ``kept_counts`` kept frames) to
    every video; each calibration alone gives one end of the range."""
    calibration = tuple(calibration)
    looks = tuple(looks) or (None,) * len(media)
    videos = _videos(media, calibration, kept_counts, looks, spec.interval_s)
    ranges: dict[str, tuple[float, float]] = {}
    if len(calibration) > 1:
        alone = [
            _totals(_videos(media, (c,), [k], looks, spec.interval_s), (c,))
            for c, k in zip(calibration, kept_counts, strict=True)
        ]
        pooled = _totals(videos, calibration)
        for name in TOTALS:
            values = [t[name] for t in alone] + [pooled[name]]
            ranges[name] = (min(values), max(values))
    return CollectionEstimate(videos, calibration, tuple(failed), spec, tuple(media), looks, ranges)


def _look(
    source: Source, media: MediaInfo, spec: SamplingSpec, seconds: float
) -> Calibration | None:
    """The first ``seconds`` of one video, sampled alone (None: no look, or it failed)."""
    if seconds <= 0:
        return None
    try:
        return calibrate_sampling(source, media, spec, seconds)
    except FramesiftError as exc:
        logger.info("%s: no look at its start (%s); the calibration's rates apply", source, exc)
        return None


def _per_thumb(c: Calibration) -> float | None:
    return c.thumbnail_bytes / c.kept if c.kept else None


def _per_pixel(c: Calibration) -> float | None:
    return c.wall_s / (c.frames * c.pixels) if c.frames and c.pixels else None


def _look_ratios(
    calibration: Sequence[Calibration], looks: Mapping[str, Calibration]
) -> tuple[float, float]:
    """How the calibrated videos' whole stretch compared with their short look: bytes per
    thumbnail and cost per pixel (1.0 where nothing can be compared)."""
    thumbs, costs = [], []
    for c in calibration:
        look = looks.get(c.source_url)
        if look is None:
            continue
        full_t, look_t = _per_thumb(c), _per_thumb(look)
        if full_t and look_t:
            thumbs.append(full_t / look_t)
        full_c, look_c = _per_pixel(c), _per_pixel(look)
        if full_c and look_c:
            costs.append(full_c / look_c)
    return (
        sum(thumbs) / len(thumbs) if thumbs else 1.0,
        sum(costs) / len(costs) if costs else 1.0,
    )


def _videos(
    media: Sequence[MediaInfo],
    calibration: Sequence[Calibration],
    kept_counts: Sequence[tuple[int, int]],
    looks: Sequence[Calibration | None],
    interval_s: float | None,
) -> pl.DataFrame:
    """One estimated row per video from the pooled measures of ``calibration``, with each
    video's own thumbnail bytes and decode cost where it was looked at."""
    by_url = {look.source_url: look for look in looks if look is not None}
    thumb_ratio, cost_ratio = _look_ratios(calibration, by_url)
    sampled_s = sum(c.video_s for c in calibration)
    sampled_frames = sum(c.frames for c in calibration)
    n = max(1, len(calibration))
    kept_per_s = sum(k for k, _ in kept_counts) / sampled_s if sampled_s else 0.0
    # The interval clock keeps a known number of frames (less the near-duplicates it
    # skipped); the other reasons (scene starts, representatives) scale with duration.
    ticks = sum(_interval_ticks(c.video_s, interval_s) for c in calibration) if interval_s else 0
    tick_share = sum(i for _, i in kept_counts) / ticks if ticks else 0.0
    other_per_s = sum(k - i for k, i in kept_counts) / sampled_s if sampled_s else 0.0
    per_thumb = sum(c.thumbnail_bytes for c in calibration) / max(
        1, sum(c.kept for c in calibration)
    )
    per_frame_table = sum(c.table_bytes for c in calibration) / max(1, sampled_frames)
    overhead = sum(c.overhead_bytes for c in calibration) / n
    text_per_s = sum(c.text_bytes_per_s for c in calibration) / n
    cost = sum(c.wall_s for c in calibration) / max(
        1e-9, sum(c.frames * c.pixels for c in calibration) / 1e6
    )
    other_s = sum(c.other_s for c in calibration) / n
    text_s_per_s = sum(c.text_s_per_s for c in calibration) / n
    # The first calibration paid the first-use imports; later videos pay only their own set-up.
    setup_s = min((c.setup_s for c in calibration), default=0.0)
    own_calibration = {c.source_url: (c, k) for c, k in zip(calibration, kept_counts, strict=True)}
    rows = []
    for info, look in zip(media, looks, strict=True):
        duration = info.duration_s or 0.0
        fps = info.video.fps
        frames = duration * fps
        kept = round(
            _interval_ticks(duration, interval_s or 1.0) * tick_share + duration * other_per_s
            if ticks
            else duration * kept_per_s
        )
        pixels = info.video.width * info.video.height
        own = own_calibration.get(look.source_url if look is not None else info.url)
        if own is not None:  # a calibrated video: its own measures, scaled to its length
            c, (own_kept, _) = own
            kept = round(own_kept * duration / c.video_s) if c.video_s else kept
            thumb, frame_cost = _per_thumb(c) or per_thumb, (_per_pixel(c) or 0.0) * 1e6 or cost
        else:
            own_thumb = _per_thumb(look) if look is not None else None
            own_cost = _per_pixel(look) if look is not None else None
            thumb = own_thumb * thumb_ratio if own_thumb else per_thumb
            frame_cost = own_cost * cost_ratio * 1e6 if own_cost else cost
        rows.append(
            {
                "source_url": info.url,
                "duration_s": duration,
                "width": info.video.width,
                "height": info.video.height,
                "fps": fps,
                "kept_frames": kept,
                "thumbnail_bytes": round(kept * thumb),
                "table_bytes": round(frames * per_frame_table + duration * text_per_s),
                "overhead_bytes": round(overhead) if calibration else 0,
                "seconds": setup_s + other_s + frames * pixels / 1e6 * frame_cost
                + duration * text_s_per_s,
            }
        )  # fmt: skip
    return pl.DataFrame(rows, schema=ESTIMATE_SCHEMA, orient="row")
