"""How long a collection will take and how much it will store, before running it.

Every video is probed (headers and a short packet scan: seconds for a whole collection).
The start of a few videos is then sampled for real with the same settings (``calibrate_s``
seconds each), which measures what cannot be read from headers: frames kept per second of
video (intervals, scene cuts, near-duplicates), bytes per table row, the bytes every video
costs whatever its length, and the CPU seconds of decoding and analysis per pixel of video.
Every video is also looked at on its own: frames spread over it are encoded as kept
frames are (its bytes per kept frame, :mod:`framesift.estimate_pictures`), the detector
runs over its keyframes (its scene cuts, :mod:`framesift.estimate_keyframes`) and looks of
``look_s`` seconds are sampled (its decode cost): at its start and, over a long video,
spread over it (:func:`look_starts`), since what a video shows, and so what its frames cost
to decode, changes along it. :mod:`framesift.estimate_projection` scales all that to each
video.

Two calibrations measure that start (a :data:`Calibrator` is either):

- :func:`calibrate_sampling` (the default here) runs the sampling pass alone, thumbnails
  encoded in memory: kept frames, thumbnails and the pass's own tables;
- :func:`framesift.batch.calibrate_ingest` ingests the start into a throwaway in-memory
  catalog through the real batch loop, so every byte the catalog writes (commit markers,
  the ledger, every table, Parquet overheads, thumbnails, the compaction) and the time of
  fingerprinting, text extraction, analyzers and committing are counted. ``framesift
  estimate`` and the notebook's estimator use it (:func:`framesift.batch.estimate_ingest`).

Time is measured in CPU seconds (all threads of this process), which a busy machine barely
changes, and turned into wall time by the cores the calibration's work would have got on
a quiet machine (:mod:`framesift.estimate_cores`); each estimate gives both, and its own
cost (:attr:`CollectionEstimate.cpu_s`). How sure: each calibrated video alone also gives
a projection of the whole collection; the lowest and highest of those are the estimate's
range (:attr:`CollectionEstimate.ranges`).
"""

from __future__ import annotations

import dataclasses
import functools
import io
import logging
import math
import statistics
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import av
import polars as pl

from framesift.analysis import reselect
from framesift.analyzers import AnalyzerRunner, analyze_kept_frames
from framesift.decode import VideoDecoder
from framesift.errors import FramesiftError, MediaError, SettingsError
from framesift.estimate_cores import ThreadWatch, cores_got
from framesift.estimate_cost import bytes_slope
from framesift.estimate_keyframes import scan_keyframes
from framesift.estimate_pictures import measure_picture_bytes, points_for
from framesift.estimate_projection import (
    SEEN_WHOLE,
    Calibration,
    Calibrator,
    CollectionEstimate,
    CompactionCost,
    KeptCount,
    Looks,
    project,
)
from framesift.fullpass import require_full_pass
from framesift.probe import MediaInfo, probe
from framesift.sample import SamplingPass, plan_decode
from framesift.schema import KeepReason
from framesift.sink import MemoryImageSink
from framesift.source import Source, find_videos
from framesift.spec import AnalyzerSpec, SamplingSpec

__all__ = [
    "Calibration",
    "Calibrator",
    "CollectionEstimate",
    "CompactionCost",
    "calibrate_sampling",
    "cores_got",
    "cut_times",
    "estimate_collection",
    "interleaved",
    "interval_kept",
    "look_starts",
    "reestimate",
    "relative_error",
]

logger = logging.getLogger(__name__)


def cut_times(scenes: pl.DataFrame) -> tuple[float, ...]:
    """The first frame's time of every scene after a cut."""
    starts: list[float] = scenes["start_s"].to_list()
    return tuple(starts[1:])


def interval_kept(frames: pl.DataFrame) -> int:
    """How many of the kept ``frames`` the interval clock chose (among other reasons)."""
    if frames.is_empty():
        return 0
    return int(frames["reasons"].list.contains(KeepReason.INTERVAL.value).sum())


def calibrate_sampling(
    source: Source,
    media: MediaInfo,
    spec: SamplingSpec,
    seconds: float,
    *,
    analyzers: AnalyzerSpec | None = None,
    start_s: float | None = None,
) -> Calibration:
    """The sampling pass alone over the first ``seconds`` of ``source`` (from the keyframe
    at or before ``start_s``, when given), thumbnails encoded in memory: kept frames,
    thumbnails and the pass's tables (not the catalog's other files, nor text);
    ``analyzers`` run on the kept frames, their time included."""
    sink = MemoryImageSink()
    marks: list[tuple[float, float]] = []  # (wall, CPU) at each progress report
    threads = ThreadWatch()  # the decoder's threads live while the pass reports

    def heard(done: float, total: float) -> None:
        marks.append((time.perf_counter(), time.process_time()))
        threads.mark()

    started, started_cpu = time.perf_counter(), time.process_time()
    with AnalyzerRunner.of(analyzers or AnalyzerSpec()) as runner:
        streaming = bool(runner.analyzers) and not spec.decode.fast
        result = SamplingPass(
            source,
            spec,
            sink=sink,
            media=media,
            until_s=seconds,
            start_s=start_s,
            progress=heard,
            consumers=(runner,) if streaming else (),
        ).result()
        if streaming:
            runner.finish()
        elif runner.analyzers:
            analyze_kept_frames(source, media, result.frames, runner)
    ended, ended_cpu = time.perf_counter(), time.process_time()
    # The pass reports its start, then its progress.
    loop_start, loop_start_cpu = marks[0] if marks else (started, started_cpu)
    cores = threads.quiet_cores(ended_cpu - loop_start_cpu, ended - loop_start)
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
        cpu_s=ended_cpu - loop_start_cpu,
        setup_cpu_s=loop_start_cpu - started_cpu,
        cores=cores,
        loop_cores=cores,  # the watch saw the pass alone
        kept=result.frames.height,
        interval_kept=interval_kept(result.frames),
        cuts=max(0, result.scenes.height - 1),
        start_s=min(times, default=0.0),
        cut_times_s=cut_times(result.scenes),
        thumbnail_bytes=sum(len(b) for b in sink.images.values()),
        table_bytes=table_bytes,
        fps=media.video.fps,
        mode=result.stats.mode,
        analysis=analysis,
        packets=result.stats.packets_read,
        packet_bytes=result.stats.packet_bytes,
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
    picture_points: int | None = None,
    compact_after: int | None = 64,
) -> CollectionEstimate:
    """Estimate kept frames, catalog bytes and time for ``sources`` with ``spec``.

    Sources are files, folders, globs or fsspec URLs, as for ``ingest`` (names that hold no
    video at all raise MediaNotFoundError). The first ``calibrate_videos`` readable videos
    are measured for their first ``calibrate_s`` seconds by ``calibrate`` (default
    :func:`calibrate_sampling`; :func:`framesift.batch.estimate_ingest` measures a real
    ingest); unreadable sources are listed in ``failed``, never raised.

    Videos differ (a cartoon's thumbnails are a third of a street scene's; one codec decodes
    faster than another), so every video is also measured on its own: ``picture_points``
    frames spread over it (default :func:`framesift.estimate_pictures.points_for` its
    duration) encoded as kept frames are (its bytes per kept frame; 0: none),
    and its first ``look_s`` seconds sampled alone (its CPU cost per pixel, corrected by how
    the calibrated videos' looks compared with their calibration; 0: no look).
    ``analyzers`` run on the default calibration's kept frames, so their time is in the
    estimate. ``compact_after``: the ingest's own (a batch of that many videos or more ends
    with a compaction, which the ingest calibration measures).
    """
    started_cpu = time.process_time()
    spec = spec or SamplingSpec()
    calibrate = calibrate or functools.partial(calibrate_sampling, analyzers=analyzers)
    media: list[tuple[Source, MediaInfo]] = []
    failed: list[tuple[str, str]] = []
    for url in find_videos(sources, storage_options):
        source = Source(url, storage_options)
        try:
            media.append((source, probe(source)))
        except FramesiftError as exc:
            failed.append((source.shown, _why(exc)))
    calibration: list[Calibration] = []
    for source, info in media:
        if len(calibration) >= calibrate_videos:
            break
        try:
            calibration.append(calibrate(source, info, spec, calibrate_s))
        except FramesiftError as exc:
            failed.append((source.shown, _why(exc)))
    failed_urls = {u for u, _ in failed}
    readable = [(source, m) for source, m in media if source.shown not in failed_urls]
    looks = _measure_each(readable, calibration, spec, look_s, picture_points)
    kept = [KeptCount(c.kept, c.interval_kept, c.cuts) for c in calibration]
    estimate = project(
        [m for _, m in readable],
        calibration,
        kept,
        spec,
        failed,
        looks,
        compact_after,
        time.process_time() - started_cpu,
    )
    logger.info("estimate: %s", estimate)
    return estimate


def _why(exc: FramesiftError) -> str:
    """Why a video was left out, beside its name: the error's type and its problem (a
    media error's message names the file again)."""
    problem = exc.problem if isinstance(exc, MediaError) else str(exc)
    return f"{type(exc).__name__}: {problem}"


def reestimate(estimate: CollectionEstimate, spec: SamplingSpec) -> CollectionEstimate:
    """The same collection with other selection settings (interval, threshold, minimum scene
    length, near-duplicate bits, representatives): the kept frames of the calibrated
    stretches are re-selected from their analysis, nothing is decoded again. Bytes per kept
    frame, image settings, each video's scene cuts (counted with the first settings) and
    the decode cost stay as measured."""
    kept: list[KeptCount] = []
    for c in estimate.calibration:
        require_full_pass(c.mode, c.source_url)
        if c.analysis is None:
            raise SettingsError(f"re-estimating needs the analysis of {c.source_url}'s calibration")
        frames = reselect(c.analysis, spec, detector=estimate.spec.detector, fps=c.fps).frames
        # Cuts as the keyframe scans counted them, with the first settings: the new kept
        # frames per such cut carry the new settings to every scanned video.
        kept.append(KeptCount(frames.height, interval_kept(frames), c.cuts))
    return project(
        estimate.media,
        estimate.calibration,
        kept,
        spec,
        estimate.failed,
        estimate.looks,
        estimate.compact_after,
        estimate.cpu_s,
    )


def look_starts(
    duration_s: float | None, look_s: float, *, every_s: float = 75.0, most: int = 8
) -> tuple[float, ...]:
    """Where a video's looks start: its first frame and, over a long video, one look per
    ``every_s`` seconds, spread evenly (at most ``most`` in all). A video's start is no fair
    sample of its decode cost: the ten-minute 1080p benchmark clip's first 20 s cost 10-14%
    more per frame than the whole, and its 5-s stretches 2.1-6.5 ms per megapixel frame."""
    duration = duration_s or 0.0
    count = max(1, min(most, round(duration / every_s)))
    if duration < count * look_s * 2:
        count = 1
    return tuple(i * duration / count for i in range(count))


def _measure_each(
    readable: list[tuple[Source, MediaInfo]],
    calibration: list[Calibration],
    spec: SamplingSpec,
    look_s: float,
    picture_points: int | None,
) -> Looks:
    """Each video on its own: looks at its start and spread over it, pictures spread over
    it, its keyframe scan. The looks only compare with a calibration: with no video left
    uncalibrated and every calibrated video seen whole, no look."""
    calibrated = {c.source_url: c for c in calibration}
    if all(
        source.shown in calibrated
        and calibrated[source.shown].video_s >= SEEN_WHOLE * (info.duration_s or 0.0)
        for source, info in readable
    ):
        look_s = 0.0
    looks = [
        _look(source, info, spec, look_s, calibrated.get(source.shown)) for source, info in readable
    ]
    return Looks(
        tuple(looked.start for looked in looks),
        tuple(
            measure_picture_bytes(
                source,
                info,
                spec,
                points_for(info.duration_s) if picture_points is None else picture_points,
            )
            for source, info in readable
        ),
        tuple(scan_keyframes(source, info, spec) for source, info in readable),
        tuple(looked.spread for looked in looks),
        tuple(looked.error for looked in looks),
        tuple(looked.slope for looked in looks),
    )


def _look(
    source: Source,
    media: MediaInfo,
    spec: SamplingSpec,
    seconds: float,
    calibrated: Calibration | None,
) -> _Looked:
    """Looks of ``seconds`` each at one video, sampled alone: at its start, spread over
    it, the relative standard error of the cost they give (:func:`relative_error`) and
    how that cost follows the bytes per packet
    (:func:`framesift.estimate_cost.bytes_slope`, fitted over all of them); None where
    there is no look (or it failed), or no spread (a short video). The
    start of a calibrated video is up to :data:`_STARTS` looks spread over its calibrated
    stretch, which its calibration is compared with. A look past the first frame starts at
    a keyframe (one look per keyframe), and only a pass that decodes straight through,
    from keyframes a decoder can start at (after a seek into some files every picture is
    concealed damage, at twice the cost), looks past the start. The two sets of looks are
    taken in turn (:func:`interleaved`)."""
    if seconds <= 0:
        return _Looked()
    spread_at = look_starts(media.duration_s, seconds)
    start_at: tuple[float, ...] = (0.0,)
    if calibrated is not None:
        count = max(1, min(_STARTS, int(calibrated.video_s / (2 * seconds))))
        start_at = tuple(i * calibrated.video_s / count for i in range(count))
    if len(spread_at) + len(start_at) > 2:
        keyframes = _keyframes_at(source, media, spec, (*start_at, *spread_at))
        if keyframes is None:
            spread_at = start_at = (0.0,)
        else:  # one look per stretch: starts that land on one keyframe are one look
            first = {key: at for at, key in reversed(keyframes.items())}  # earliest asked
            start_at = tuple(dict.fromkeys(first[keyframes[at]] for at in start_at))
            spread_at = tuple(dict.fromkeys(first[keyframes[at]] for at in spread_at))
    windows: dict[float, Calibration] = {}
    try:
        for at in interleaved(start_at, spread_at):
            windows[at] = calibrate_sampling(source, media, spec, seconds, start_s=at or None)
    except FramesiftError as exc:
        logger.info("%s: no look at it (%s); the calibration's rates apply", source, exc)
        return _Looked()
    start = _merged([windows[at] for at in start_at])
    slope = bytes_slope(list(windows.values()))
    if len(spread_at) < 2:
        return _Looked(start, slope=slope)
    error = relative_error([windows[at] for at in spread_at])
    if calibrated is not None:  # its cost: its calibration, times spread over start looks
        error = math.hypot(error, relative_error([windows[at] for at in start_at]))
    return _Looked(start, _merged([windows[at] for at in spread_at]), error, slope)


class _Looked(NamedTuple):
    """What the looks at one video measured (:func:`_look`)."""

    start: Calibration | None = None
    spread: Calibration | None = None
    error: float | None = None
    slope: float | None = None


def relative_error(looks: list[Calibration]) -> float:
    """The standard error of the mean CPU seconds per frame of ``looks``, over that mean
    (0 for fewer than two): what the sample of a video's stretches they are leaves open
    (clip10.mp4's 2-s stretches cost 5.8-13.7 ms a frame)."""
    costs = [c.cpu_s / c.frames for c in looks if c.frames]
    if len(costs) < 2 or not sum(costs):
        return 0.0
    return statistics.stdev(costs) / statistics.fmean(costs) / math.sqrt(len(costs))


def interleaved(*sets: tuple[float, ...]) -> list[float]:
    """The starts of several sets of looks in one order that takes them in turn, each set
    evenly over the whole (a start in two sets once). The machine's speed drifts within
    seconds, and looks taken one set after the other carry that drift into the sets'
    ratio: over eight runs on trailer10.mp4 the spread looks over the start looks moved by
    12.6% (coefficient of variation) taken in turn, 5.5% interleaved."""
    order = sorted(
        ((i + 0.5) / len(starts), n, at)
        for n, starts in enumerate(sets)
        for i, at in enumerate(starts)
    )
    return list(dict.fromkeys(at for _, _, at in order))


_STARTS = 5
"""Looks inside a calibrated stretch at most: one look's cost moves by a quarter with what
its two seconds show, so one look at the start says little of twenty seconds."""


def _keyframes_at(
    source: Source, media: MediaInfo, spec: SamplingSpec, times: tuple[float, ...]
) -> dict[float, int | None] | None:
    """The keyframe (its pts) a look asked to start at each of ``times`` starts at, or None
    where no look starts past the first frame: only a straight pass, on a file whose
    keyframes a decoder starts at cleanly after a seek. Keyframes are seconds apart in
    most files, and looks asked for seconds apart can start at one: trailer10.mp4's first
    20 s hold three keyframes, and three of the five looks at its start looked at its
    first two seconds."""
    if plan_decode(media, spec) != "straight":
        return None
    with VideoDecoder(source, media, spec.decode) as decoder:
        if not decoder.seeks_cleanly():
            return None
        # The look's own seek (SamplingPass(start_s=...)) lands where this one does.
        try:
            return {at: decoder.seek_keyframe(at) for at in dict.fromkeys(times)}
        except (av.error.FFmpegError, OSError) as exc:  # as the fast scan's ranges do
            logger.info("%s: cannot seek (%s); looked at from its start only", source, exc)
            return None


def _merged(looks: list[Calibration]) -> Calibration:
    """Several looks at one video as one: their CPU seconds, frames, seconds and packets
    added."""
    return dataclasses.replace(
        looks[0],
        cpu_s=sum(c.cpu_s for c in looks),
        frames=sum(c.frames for c in looks),
        video_s=sum(c.video_s for c in looks),
        packets=sum(c.packets for c in looks),
        packet_bytes=sum(c.packet_bytes for c in looks),
    )
