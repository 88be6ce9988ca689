"""Fast scene analysis: only reference pictures decoded, GOP-aligned segments side by side.

The decoder skips the pictures nothing predicts from (``skip_frame=NONREF``: the B pictures
that are not references), so those left decode exactly as in a full decode and their
detector scores are exact. (Skipping every B picture would be faster, but where B pictures
are references, as in x264's B-pyramid, the pictures after them come out damaged: 57 of a
camera clip's 245.) What is left is a chain (each P picture predicts from the one before),
and one decoder's frame threads cannot spread a chain over cores: FFmpeg itself keeps 1.3 of
2 cores busy on it. The chain restarts at every keyframe, so the video is cut at keyframes
into one segment per core and each segment is decoded and analysed by its own decoder, in
threads (PyAV and OpenCV release the GIL while they work).

The rooms, in the order a pass goes through them:

1. planning (this module): the segments, split at the keyframes seeks land on;
2. scanning (:mod:`.ranges`): one range -> its per-frame analysis and likely pictures;
3. joining (:mod:`.join`): the ranges' analyses as one (the first frame of each range
   scored against the last of the one before), numbered as one pass would number it;
4. selecting: the keep rules (:mod:`framesift.select`) replayed on that analysis by
   :func:`framesift.analysis.reselect`;
5. refinement (:mod:`.refine`): a cut found after skipped pictures placed at its exact
   frame by decoding that stretch in full, unless it falls on an I picture (encoders put
   them at cuts); a candidate whose exact scores never reach the threshold is dropped;
6. pictures (:mod:`.pictures`): the segments rendered the frames their own detector cut
   at and the interval would pick on the way; any other is decoded again.

Planning, scanning a range and turning scanned ranges into one result are plain functions
(``plan_segments``, ``scan_range``; ``result_from_ranges``, built on ``join_ranges``):
:class:`FastScan` runs them in threads of one process; :mod:`framesift.fastscan.split`
runs the same functions with each range in another process (a long video split across
the workers of a batch), for a fast pass or a full one.

The result equals a single-segment run exactly (tests pin it). Memory: per segment one
decoder, the detector's look-back and the encoded pictures of frames already kept.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from framesift.analysis import reselect
from framesift.errors import SettingsError
from framesift.fastscan.join import join_ranges
from framesift.fastscan.pictures import decode_pictures, write_pictures
from framesift.fastscan.ranges import (
    WHOLE_VIDEO,
    RangeScan,
    Segment,
    joined_cleanly,
    plan_segments,
    scan_range,
)
from framesift.fastscan.refine import kept_rows, refine_scenes
from framesift.fastscan.setup import ScanSetup
from framesift.images import Renderers
from framesift.probe import MediaInfo
from framesift.select import FrameRow
from framesift.sink import ImageSink
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = [
    "FastScan",
    "FastScanResult",
    "RangeScan",
    "ScanSetup",
    "Segment",
    "fast_segment_count",
    "join_ranges",
    "plan_segments",
    "range_count",
    "result_from_ranges",
    "scan_range",
]

logger = logging.getLogger(__name__)

MIN_SEGMENT_S = 20.0
"""Shortest segment worth its own decoder..."""
MIN_SEGMENT_GOPS = 4
"""...and at least this many keyframe intervals (a split costs up to one seek and GOP)."""

_Segment = Segment  # the name the segment tests know


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fast_segment_count(media: MediaInfo, spec: SamplingSpec) -> int:
    """How many segments a fast pass decodes side by side: one per core (at most
    ``DecodeSpec.segments`` when set), each at least :data:`MIN_SEGMENT_S` and
    :data:`MIN_SEGMENT_GOPS` keyframe intervals long."""
    return range_count(media, spec.decode.segments or _cores())


def range_count(media: MediaInfo, cap: int) -> int:
    """How many ranges of at least :data:`MIN_SEGMENT_S` and :data:`MIN_SEGMENT_GOPS`
    keyframe intervals the video holds, at most ``cap`` (1: do not split)."""
    duration, gop = media.duration_s, media.video.keyframe_interval_s
    if not duration or not gop:
        return 1
    return max(1, min(cap, int(duration // max(MIN_SEGMENT_S, MIN_SEGMENT_GOPS * gop))))


@dataclass(frozen=True)
class FastScanResult:
    """What a fast pass found, in the shapes :class:`~framesift.sample.SamplingPass` keeps."""

    analysis: pl.DataFrame  # ANALYSIS_SCHEMA, I and P pictures only
    rows: list[FrameRow]  # kept frames, FRAMES_SCHEMA, in time order
    thumbnails: list[bytes | None]  # per row
    scene_rows: list[dict[str, Any]]  # SCENES_SCHEMA
    duplicates_skipped: int
    damaged_packets: int
    hwaccel: str | None
    segments: int


class FastScan:
    """One fast scene-analysis pass over one video (see the module's description)."""

    def __init__(
        self,
        source: Source,
        media: MediaInfo,
        spec: SamplingSpec,
        renderers: Callable[[], Renderers],
        *,
        sink: ImageSink | None = None,
        progress: Callable[[float, float], None] | None = None,
        until_s: float | None = None,
    ) -> None:
        if spec.detector is None:
            raise SettingsError("fast scene analysis needs a detector (detector=None given)")
        self.source = source
        self.media = media
        self.spec = spec
        self.sink = sink
        self.progress = progress
        self.until_s = until_s
        self._setup = ScanSetup(source, media, spec, renderers)
        self._stop = threading.Event()

    # -- the pass -------------------------------------------------------------------------

    def run(self) -> FastScanResult:
        count = 1 if self.until_s is not None else fast_segment_count(self.media, self.spec)
        with self._setup.decoder(threads=1) as decoder:
            seekable = decoder.seeks_cleanly()
        if not seekable:
            # Every decode must start at the top of the file: one segment, and refinements
            # and pictures decoded from the start (slow, but right).
            logger.info("%s: keyframes cannot be decoded from after a seek", self.source.shown)
            self._setup = replace(self._setup, seekable=False)
            count = 1
        segments = self._plan(count) if count > 1 else [WHOLE_VIDEO]
        scans = self._scan_all(segments)
        if not joined_cleanly(segments, scans):
            logger.debug("%s: segments did not join; decoding as one", self.source.shown)
            segments = [WHOLE_VIDEO]
            scans = self._scan_all(segments)
        return self._finish(scans, len(segments))

    def _plan(self, count: int) -> list[Segment]:
        """Split points: the keyframe a seek to each of ``count`` equal parts lands on."""
        return plan_segments(self._setup, count)

    def _threads_per_segment(self, count: int) -> int:
        if self.spec.decode.threads:
            return max(1, self.spec.decode.threads // count)
        # The segments fill the cores: one thread each (10-minute 1080p clip, 2 cores:
        # 16.1 s and 299 MB peak with one, 16.8 s and 333 MB with two).
        return 1 if count > 1 else min(16, _cores() + 4)

    def _scan_all(self, segments: list[Segment]) -> list[RangeScan]:
        scans = [RangeScan() for _ in segments]
        threads = self._threads_per_segment(len(segments))
        if len(segments) == 1:
            # Progress from this thread, as the segment goes.
            self._scan(segments[0], scans[0], threads, report=True)
            return scans
        total = self.media.duration_s or 0.0
        self._stop.clear()
        workers = min(len(segments), _cores())
        with ThreadPoolExecutor(workers, thread_name_prefix="framesift-fast") as pool:
            futures: list[Future[None]] = [
                pool.submit(self._scan, seg, scan, threads, report=False)
                for seg, scan in zip(segments, scans, strict=True)
            ]
            pending: set[Future[None]] = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                if any(f.exception() is not None for f in done):
                    self._stop.set()  # the others stop at their next frame
                    wait(pending)
                    break
                if self.progress is not None:
                    self.progress(min(total, sum(s.done_s for s in scans)), total)
            for future in futures:
                future.result()  # re-raises the first failure
        return scans

    def _scan(self, segment: Segment, out: RangeScan, threads: int, *, report: bool) -> None:
        progress = self.progress if report else None
        total = self.media.duration_s or 0.0
        scan_range(
            self._setup,
            segment,
            out,
            threads,
            with_pictures=self.sink is not None,
            until_s=self.until_s,
            stop=self._stop,
            progress=(lambda done: progress(min(total, done), total)) if progress else None,
        )

    def _finish(self, scans: list[RangeScan], segments: int) -> FastScanResult:
        threads = self._threads_per_segment(segments)
        return result_from_ranges(
            self._setup, scans, sink=self.sink, workers=segments, threads=threads
        )


def result_from_ranges(
    setup: ScanSetup,
    scans: list[RangeScan],
    *,
    sink: ImageSink | None,
    workers: int,
    threads: int,
) -> FastScanResult:
    """Join the scans of consecutive ranges, select, refine, then the pictures of the
    frames kept (decoded again by ``workers`` decoders of ``threads`` threads where the
    scans did not render them). The scans may come from anywhere that ran
    :func:`~framesift.fastscan.ranges.scan_range` on the same setup."""
    spec = setup.spec
    joined = join_ranges(setup, scans)
    selection = reselect(joined.analysis, spec, detector=spec.detector, fps=setup.fps)
    scene_rows = refine_scenes(setup, selection.scenes.to_dicts(), joined, workers, threads)
    rows = kept_rows(setup, selection, scene_rows, joined)
    for row in scene_rows:
        row.pop("source_frame", None)
    thumbnails: list[bytes | None] = [None] * len(rows)
    if sink is not None:
        pictures = dict(joined.pictures)
        wanted = sorted({row["pts"] for row in rows if row["pts"] not in pictures})
        pictures.update(decode_pictures(setup, wanted, joined.analysis, workers, threads))
        thumbnails = write_pictures(rows, pictures, sink, spec.image)
    return FastScanResult(
        analysis=joined.analysis,
        rows=rows,
        thumbnails=thumbnails,
        scene_rows=scene_rows,
        duplicates_skipped=selection.duplicates_skipped,
        damaged_packets=joined.damaged_packets,
        hwaccel=joined.hwaccel,
        segments=len(scans),
    )
