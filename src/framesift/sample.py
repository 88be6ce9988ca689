"""The sampling pass: one decode, every selection, thumbnails, and the analysis cache.

probe -> plan -> decode -> analyse (detector score, perceptual hash, luma) -> select
(:mod:`framesift.select`'s rules, driven by :mod:`framesift.stream`) -> hand-off
(:mod:`framesift.handoff`: encode -> sink).

This module keeps the plan, the decode loop and the hand-off; the keep rules live in
:mod:`framesift.select`, the scene detectors in :mod:`framesift.scenes`, and the fast
scene analysis (``DecodeSpec(fast=True)``) in :mod:`framesift.fastscan`.

Memory is bounded by design: the pass holds a ring of at most the detector's look-back
(a few frames) plus, when representatives are asked for, a capped reservoir of small
thumbnail candidates for the current scene. Nothing grows with the video's length except
the rows of kept frames and the analysis table (a few tens of bytes per frame).
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from framesift.analysis import AnalysisColumns
from framesift.decode import DecodedFrame, VideoDecoder
from framesift.dedup import perceptual_hash
from framesift.errors import PassStateError, SettingsError, TruncatedMediaError
from framesift.handoff import HeldPicture, ImageWriter, KeptFrame, PictureConsumer
from framesift.images import Renderers, make_renderers
from framesift.pass_tables import PassTables
from framesift.probe import MediaInfo, probe
from framesift.scenes import SceneCutDetector
from framesift.select import (
    FrameRow,
    IntervalClock,
    candidate_stride,
    choose_representatives,
    lookahead_frames,
    shows_picture,
    stream_end_s,
)
from framesift.sink import ImageSink
from framesift.source import Source
from framesift.spec import SamplingSpec
from framesift.stream import PendingFrame, StreamSelector, mark_cuts, release_picture

if TYPE_CHECKING:
    import polars as pl

    from framesift.fastscan import FastScanResult

__all__ = [
    "DecodeMode",
    "KeptFrame",
    "PassStats",
    "ProgressCallback",
    "SampleResult",
    "SamplingPass",
    "candidate_stride",  # re-exported: the rule lives in framesift.select
    "choose_representatives",  # re-exported: the rule lives in framesift.select
    "plan_decode",
    "sample_result",
    "sample_video",
    "scan_stats",
    "scans_fast",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, float], None]
"""Called as ``progress(done_s, total_s)`` in media seconds, a few times a second."""

DecodeMode = Literal["straight", "keyframes", "seek", "fast"]


def plan_decode(media: MediaInfo, spec: SamplingSpec) -> DecodeMode:
    """Decode straight through, keyframes only, or seek to each sample time.

    Seeking pays only when nothing needs every frame (no detector, hence no
    representatives) and the interval is at least the keyframe spacing; per-sample
    seeking when samples are closer than keyframes is several times slower than decoding
    straight through.
    """
    if spec.keyframes:
        return "keyframes"
    if scans_fast(spec):
        return "fast"
    gop = media.video.keyframe_interval_s
    if (
        spec.detector is None
        and spec.interval_s is not None
        and gop is not None
        and spec.interval_s >= gop
    ):
        return "seek"
    return "straight"


def scans_fast(spec: SamplingSpec) -> bool:
    """Whether a pass with ``spec`` is a fast scan (:mod:`framesift.fastscan`)."""
    return bool(not spec.keyframes and spec.decode.fast and spec.detector is not None)


@dataclass(frozen=True)
class PassStats:
    mode: DecodeMode
    frames_decoded: int
    frames_kept: int
    duplicates_skipped: int
    scenes: int
    damaged_packets: int
    seconds: float
    hwaccel: str | None
    scenes_approximate: bool = False
    """Scenes detected on keyframes only (a keyframes pass): each cut is placed at the first
    keyframe after it, so scene times are approximate."""
    encode_seconds: float = 0.0
    """Part of ``seconds`` spent rendering and encoding the kept pictures (the streaming
    pass; the fast scan encodes in its segment threads, beside the decoding: 0)."""
    packets_read: int = 0
    """The video stream's packets the pass read (a keyframes pass reads every one and
    decodes the keyframes; 0 where not counted: the fast scan)."""
    packet_bytes: int = 0
    """Their bytes: a decoder's work follows the bits it decodes."""


@dataclass(frozen=True)
class SampleResult:
    """A pass's video, settings, statistics and tables: polars DataFrames made when first
    read (:func:`framesift.output.write_sample` writes ``tables`` without polars)."""

    url: str
    media: MediaInfo
    spec: SamplingSpec
    stats: PassStats
    tables: PassTables = field(repr=False, compare=False)
    """The rows and columns the pass recorded."""

    @functools.cached_property
    def frames(self) -> pl.DataFrame:
        """The kept frames (``schema.FRAMES_SCHEMA``), by frame index."""
        return self.tables.frame("frames")

    @functools.cached_property
    def scenes(self) -> pl.DataFrame:
        """The scenes (``schema.SCENES_SCHEMA``)."""
        return self.tables.frame("scenes")

    @functools.cached_property
    def analysis(self) -> pl.DataFrame:
        """Every decoded frame's analysis (``schema.ANALYSIS_SCHEMA``)."""
        return self.tables.frame("analysis")


class SamplingPass:
    """One pass over one video; iterate it for kept frames, then read the tables.

    ``sample_video`` is the usual entry point; use this class directly to stream kept
    frames as they are decided (frames kept as scene representatives arrive when their
    scene ends, so the stream is in decision order, not time order).
    """

    def __init__(
        self,
        url: str | Source,
        spec: SamplingSpec | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
        sink: ImageSink | None = None,
        progress: ProgressCallback | None = None,
        media: MediaInfo | None = None,
        until_s: float | None = None,
        consumers: Sequence[PictureConsumer] = (),
        start_s: float | None = None,
    ) -> None:
        self.source = Source.of(url, storage_options)
        self.url = self.source.url
        self.until_s = until_s
        """Stop after this many seconds of video from the first frame (None: the whole video;
        the estimator samples the start of a video this way)."""
        self.start_s = start_s
        """Start at the keyframe at or before this time, frame indices counting from there
        (None: the first frame; a straight pass only, on a file whose keyframes a decoder
        starts at cleanly, see :meth:`VideoDecoder.seeks_cleanly`: the estimator looks at
        stretches spread over a long video this way)."""
        self.spec = spec or SamplingSpec()
        self.storage_options = self.source.storage_options
        self.sink = sink
        self.progress = progress
        self.media = media or probe(self.source, max_pixels=self.spec.decode.limits.max_pixels)
        if self.media.truncated_at_byte is not None and not self.spec.decode.allow_partial:
            raise TruncatedMediaError(
                self.media.url,
                f"cut short: the file has {self.media.size_bytes} bytes but its index "
                f"reaches byte {self.media.truncated_at_byte} (allow_partial=True samples "
                "what is there)",
            )
        self.mode: DecodeMode = plan_decode(self.media, self.spec)
        if start_s is not None and self.mode != "straight":
            raise SettingsError(
                f"start_s={start_s}: a pass starts past the first frame only when it decodes "
                f"straight through (this one: {self.mode})"
            )
        video = self.media.video
        self._fps = video.fps
        self._make_renderers: Callable[[], Renderers] = functools.partial(
            make_renderers, video.width, video.height, video.rotation_deg, self.spec
        )
        self._renderers = self._make_renderers()
        self._images = (
            ImageWriter(sink, self.spec.image, self._renderers.thumbnail, self._renderers.full)
            if sink is not None
            else None
        )
        self._consumers = tuple(consumers)
        """Per-frame analyzers: each takes every kept picture after the image writer (see
        :mod:`framesift.handoff`)."""
        if self._consumers and self.mode == "fast":
            raise SettingsError(
                "picture consumers (analyzers) need the streaming pass: the fast scan "
                "renders its pictures in its segment threads; analyse its kept frames "
                "afterwards with framesift.analyzers.analyze_kept_frames"
            )
        self._selector = StreamSelector(
            self.spec,
            keyframe_pass=self.mode == "keyframes",
            size=(video.width, video.height),
            hand_off=self._hand_off,
            thumbnail_rgb=self._images.thumbnail_rgb if self._images is not None else None,
            lookahead_frames=lookahead_frames(self._fps) if self.spec.detector else 0,
        )
        self._columns = AnalysisColumns()
        self._fast: FastScanResult | None = None
        self._stats: PassStats | None = None
        self._consumed = False

    # -- public -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[KeptFrame]:
        if self._consumed:
            raise PassStateError("a SamplingPass can be iterated once; make a new one")
        self._consumed = True
        started = time.perf_counter()
        for consumer in self._consumers:
            consumer.begin(self.media)
        if self.mode == "fast":
            yield from self._run_fast(started)
            return
        if self.mode == "seek" and not self._seeks_cleanly():
            logger.info("%s: keyframes cannot be decoded from after a seek", self.media.url)
            self.mode = "straight"  # the same frames, decoded from the top
        with VideoDecoder(
            self.source, self.media, self.spec.decode, keyframes_only=self.mode == "keyframes"
        ) as decoder:
            if self.mode == "seek":
                frames = decoder.frames_at(self._seek_targets())
            else:
                # threads=1 asks for one thread in all: decoding and analysis take turns on
                # the caller's thread (one worker per core on a cluster), no read-ahead.
                frames = decoder.frames(
                    read_ahead=0 if self.spec.decode.threads == 1 else 8,
                    start_s=self.start_s,
                    for_s=self.until_s,  # the frames past it are not decoded for nothing
                )
            yield from self._run(frames)
            counters = decoder.counters
        self._stats = PassStats(
            mode=self.mode,
            frames_decoded=counters.frames_decoded,
            frames_kept=len(self._selector.rows),
            duplicates_skipped=self._selector.duplicates_skipped,
            scenes=len(self._selector.scene_rows),
            damaged_packets=counters.damaged_packets,
            seconds=time.perf_counter() - started,
            hwaccel=counters.hwaccel,
            scenes_approximate=self.mode == "keyframes" and self.spec.detector is not None,
            encode_seconds=self._images.seconds if self._images is not None else 0.0,
            packets_read=counters.packets_read,
            packet_bytes=counters.packet_bytes,
        )

    def result(self) -> SampleResult:
        """Run the pass to the end (if not yet run) and return its tables."""
        if not self._consumed:
            for _ in self:
                pass
        if self._stats is None:
            raise PassStateError(
                f"{self.media.url}: the pass was broken off before its last frame, so its "
                "tables are incomplete; iterate a SamplingPass to the end before calling "
                "result(), or call result() on a new one"
            )
        rows: Sequence[Mapping[str, Any]]
        scene_rows: Sequence[Mapping[str, Any]]
        analysis: AnalysisColumns | pl.DataFrame
        if self._fast is not None:
            rows, scene_rows = self._fast.rows, self._fast.scene_rows
            analysis = self._fast.analysis
        else:
            rows, scene_rows = self._selector.rows, self._selector.scene_rows
            analysis = self._columns
        return sample_result(self.media, self.spec, rows, scene_rows, analysis, self._stats)

    # -- the pass -----------------------------------------------------------------------

    def _seek_targets(self) -> Iterator[float]:
        assert self.spec.interval_s is not None
        start = self.media.start_time_s
        end = start + (self.media.duration_s or math.inf)
        k = 0
        while start + k * self.spec.interval_s < end:
            yield start + k * self.spec.interval_s
            k += 1

    def _run(self, frames: Iterator[DecodedFrame]) -> Iterator[KeptFrame]:
        """The decode loop: analyse each frame, hold it for the detector's look-back, then
        offer it to the selection."""
        spec = self.spec
        detector = SceneCutDetector.from_spec(spec, self._fps) if spec.detector else None
        lookback = detector.lookback_frames if detector is not None else 1
        # Keyframe passes without an interval keep every frame (with one, the frames the
        # clock is due at); representatives are picked once a scene ends.
        keep_every_keyframe = self.mode == "keyframes" and spec.interval_s is None
        hold_all = keep_every_keyframe or spec.representatives_per_scene > 0
        analysis, columns, selector = self._renderers.analysis, self._columns, self._selector
        clock = IntervalClock(spec.interval_s)
        ring: deque[PendingFrame] = deque()
        origin: float | None = None
        total_s = self.media.duration_s or 0.0
        last_progress = time.perf_counter()
        if self.progress is not None:
            self.progress(0.0, total_s)  # started: a listener can time from here

        # Frames that may still become a scene start shown past blank frames keep their
        # pictures (select.SceneStartChooser): those that show something, within the
        # look-ahead after a blank frame that may open a scene.
        lookahead = self._selector.lookahead_frames
        blank_start = -lookahead - 1
        for decoded in frames:
            if origin is None:
                origin = decoded.time_s
            if self.until_s is not None and decoded.time_s - origin >= self.until_s:
                break
            # Analysis image through swscale; rotation by numpy on the small result.
            bgr, gray = analysis.render(decoded.frame)
            phash = perceptual_hash(gray)
            luma, contrast = analysis.luma_stats(gray)
            interval_due = clock.due(decoded.time_s)
            pending = PendingFrame(decoded, phash, interval_due, contrast=contrast)
            score = 0.0
            ring.append(pending)
            if detector is not None:
                score, cuts = detector.push(decoded.index, bgr)
                pending.score = score
                mark_cuts(ring, cuts)
            may_open = origin == decoded.time_s or (
                detector is not None and detector.may_cut_at(score)
            )
            if may_open and not shows_picture(contrast):
                blank_start = decoded.index
            after_blank = decoded.index - blank_start <= lookahead and shows_picture(contrast)
            if not (hold_all or interval_due or may_open or after_blank):
                # This frame can no longer be kept: let its picture go now, so the ring
                # holds timings and hashes, not decoded pictures (the decoder's buffers
                # stay few and warm in cache).
                release_picture(pending)
            columns.add(
                decoded.index,
                decoded.time_s,
                decoded.pts,
                decoded.keyframe,
                score,
                phash,
                luma,
                contrast,
            )
            while len(ring) > lookback:
                yield from selector.offer(ring.popleft())
            if self.progress is not None and time.perf_counter() - last_progress > 0.25:
                last_progress = time.perf_counter()
                self.progress(decoded.time_s - origin, total_s)

        if detector is not None:
            mark_cuts(ring, detector.finish())
        while ring:
            yield from selector.offer(ring.popleft())
        yield from selector.finish(*self._stream_end())
        if detector is not None:  # transitions mode: scenes open at a transition's start
            detector.apply_transitions(
                selector.scene_rows, selector.rows, columns.index, columns.time_s
            )
        if self.progress is not None:
            self.progress(total_s, total_s)

    def _stream_end(self) -> tuple[int, float]:
        """Frame index and time just past the last frame analysed."""
        times = self._columns.time_s
        if not times:
            return 0, 0.0
        end_s = stream_end_s(times[-1], times[-2] if len(times) >= 2 else None, self._fps)
        return self._columns.index[-1] + 1, end_s

    def _hand_off(self, row: FrameRow, picture: HeldPicture) -> bytes | None:
        """The one place a kept frame's picture leaves the pass: the image writer encodes
        and stores it (filling the row's image columns), then every consumer takes it."""
        thumbnail = self._images.write(row, picture) if self._images is not None else None
        for consumer in self._consumers:
            consumer.take(row, picture)
        return thumbnail

    def _seeks_cleanly(self) -> bool:
        with VideoDecoder(self.source, self.media, self.spec.decode) as decoder:
            return decoder.seeks_cleanly()

    def _run_fast(self, started: float) -> Iterator[KeptFrame]:
        """The fast scene-analysis pass (see :mod:`framesift.fastscan`): its kept frames
        come once the whole video has been analysed."""
        from framesift.fastscan import FastScan  # start-up: only this mode needs it

        scan = FastScan(
            self.source,
            self.media,
            self.spec,
            self._make_renderers,
            sink=self.sink,
            progress=self.progress,
            until_s=self.until_s,
        )
        total = self.media.duration_s or 0.0
        if self.progress is not None:
            self.progress(0.0, total)
        outcome = self._fast = scan.run()
        if self.progress is not None:
            self.progress(total, total)
        self._stats = scan_stats(outcome, self.mode, time.perf_counter() - started)
        for row, thumbnail in zip(outcome.rows, outcome.thumbnails, strict=True):
            yield KeptFrame(row=row, thumbnail=thumbnail)


def scan_stats(outcome: FastScanResult, mode: DecodeMode, seconds: float) -> PassStats:
    """The statistics of a pass made of scanned ranges (a fast pass, a split video)."""
    return PassStats(
        mode=mode,
        frames_decoded=outcome.analysis.height,
        frames_kept=len(outcome.rows),
        duplicates_skipped=outcome.duplicates_skipped,
        scenes=len(outcome.scene_rows),
        damaged_packets=outcome.damaged_packets,
        seconds=seconds,
        hwaccel=outcome.hwaccel,
    )


def sample_result(
    media: MediaInfo,
    spec: SamplingSpec,
    rows: Sequence[Mapping[str, Any]],
    scene_rows: Sequence[Mapping[str, Any]],
    analysis: AnalysisColumns | pl.DataFrame,
    stats: PassStats,
) -> SampleResult:
    """A pass's result from its kept rows, scene rows and analysis."""
    return SampleResult(
        url=media.url,
        media=media,
        spec=spec,
        stats=stats,
        tables=PassTables(rows, scene_rows, analysis),
    )


def sample_video(
    url: str | Source,
    spec: SamplingSpec | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
    sink: ImageSink | None = None,
    progress: ProgressCallback | None = None,
    media: MediaInfo | None = None,
    consumers: Sequence[PictureConsumer] = (),
) -> SampleResult:
    """Sample one video in one decode pass; see :class:`SamplingSpec` for what is kept.

    Thumbnails (and full frames when asked) go to ``sink``; without a sink no image is
    encoded and the URIs are empty. ``consumers`` take every kept picture as the pass
    hands it on (frame analyzers: :class:`framesift.analyzers.AnalyzerRunner`).
    """
    return SamplingPass(
        url,
        spec,
        storage_options=storage_options,
        sink=sink,
        progress=progress,
        media=media,
        consumers=consumers,
    ).result()
