"""Fast scene analysis: only I and P pictures decoded, GOP-aligned segments side by side.

The decoder skips B pictures (``skip_frame=BIDIR``); nothing the I and P pictures predict
from is skipped, so they decode exactly as in a full decode and their detector scores are
exact. What is left is a chain (each P picture predicts from the one before), and one
decoder's frame threads cannot spread a chain over cores: FFmpeg itself keeps 1.3 of 2
cores busy on it. The chain restarts at every keyframe, so the video is cut at keyframes
into one segment per core and each segment is decoded and analysed by its own decoder, in
threads (PyAV and OpenCV release the GIL while they work).

Then, in order:

1. the segments' per-frame analysis is joined (the first frame of each segment is scored
   against the last of the one before) and numbered as one pass would number it;
2. cuts and kept frames are chosen by :func:`framesift.analysis.reselect`, the pass's own
   rules replayed on that analysis;
3. a cut found after skipped pictures is placed at its exact frame by decoding that
   stretch in full, unless it falls on an I picture (encoders put them at cuts); a
   candidate whose exact scores never reach the threshold is dropped;
4. kept frames get their pictures: the segments rendered the frames their own detector
   cut at and the interval would pick on the way; any other is decoded again.

The result equals a single-segment run exactly (tests pin it). Memory: per segment one
decoder, the detector's look-back and the encoded pictures of frames already kept.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import math
import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import av
import numpy as np
import polars as pl
from numpy.typing import NDArray

from framesift.analysis import reselect
from framesift.decode import DecodedFrame, VideoDecoder
from framesift.dedup import perceptual_hash
from framesift.errors import TruncatedMediaError
from framesift.images import AnalysisRenderer, FrameRenderer, encode_image
from framesift.probe import MediaInfo
from framesift.redact import redact_url
from framesift.schema import ANALYSIS_SCHEMA
from framesift.sink import ImageSink
from framesift.spec import SamplingSpec

if TYPE_CHECKING:
    from framesift.scenes import SceneCutDetector

__all__ = ["FastScan", "FastScanResult", "fast_segment_count"]

logger = logging.getLogger(__name__)

_EPS = 1e-6
_T = TypeVar("_T")
MIN_SEGMENT_S = 20.0
"""Shortest segment worth its own decoder..."""
MIN_SEGMENT_GOPS = 4
"""...and at least this many keyframe intervals (a split costs up to one seek and GOP)."""

Renderers = tuple[AnalysisRenderer, FrameRenderer, FrameRenderer]
"""(analysis, thumbnail, full frame) renderers; each thread makes its own."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def fast_segment_count(media: MediaInfo, spec: SamplingSpec) -> int:
    """How many segments a fast pass decodes side by side: one per core (at most
    ``DecodeSpec.segments`` when set), each at least :data:`MIN_SEGMENT_S` and
    :data:`MIN_SEGMENT_GOPS` keyframe intervals long."""
    cap = spec.decode.segments or _cores()
    duration, gop = media.duration_s, media.video.keyframe_interval_s
    if not duration or not gop:
        return 1
    return max(1, min(cap, int(duration // max(MIN_SEGMENT_S, MIN_SEGMENT_GOPS * gop))))


@dataclass(frozen=True)
class _Segment:
    seek_s: float | None  # None: from the start of the file
    first_pts: int | None  # the keyframe it starts at (None: the first frame)
    stop_pts: int | None  # the next segment's first_pts (None: the end)


@dataclass
class _Pictures:
    thumbnail: bytes
    full: bytes | None


@dataclass
class _SegmentScan:
    pts: array[int] = field(default_factory=lambda: array("q"))
    time_s: array[float] = field(default_factory=lambda: array("d"))
    keyframe: array[int] = field(default_factory=lambda: array("b"))
    intra: array[int] = field(default_factory=lambda: array("b"))
    score: array[float] = field(default_factory=lambda: array("f"))
    luma: array[float] = field(default_factory=lambda: array("f"))
    phash: array[int] = field(default_factory=lambda: array("Q"))
    first_bgr: NDArray[np.uint8] | None = None
    last_bgr: NDArray[np.uint8] | None = None
    pictures: dict[int, _Pictures] = field(default_factory=dict)  # by pts
    done_s: float = 0.0
    damaged_packets: int = 0
    hwaccel: str | None = None


@dataclass(frozen=True)
class FastScanResult:
    """What a fast pass found, in the shapes :class:`~framesift.sample.SamplingPass` keeps."""

    analysis: pl.DataFrame  # ANALYSIS_SCHEMA, I and P pictures only
    rows: list[dict[str, Any]]  # kept frames, FRAMES_SCHEMA, in time order
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
        url: str,
        media: MediaInfo,
        spec: SamplingSpec,
        renderers: Callable[[], Renderers],
        *,
        storage_options: Mapping[str, Any] | None = None,
        sink: ImageSink | None = None,
        progress: Callable[[float, float], None] | None = None,
        until_s: float | None = None,
        extensions: tuple[str, str] = ("jpg", "jpg"),
    ) -> None:
        assert spec.detector is not None, "fast scene analysis needs a detector"
        self.url = url
        self.media = media
        self.spec = spec
        self.storage_options = storage_options
        self.sink = sink
        self.progress = progress
        self.until_s = until_s
        self._renderers = renderers
        self._ext, self._full_ext = extensions
        video = media.video
        self._fps = video.fps
        self._stop = threading.Event()
        self._seekable = True  # decided by run(): see VideoDecoder.seeks_cleanly

    # -- the pass -------------------------------------------------------------------------

    def run(self) -> FastScanResult:
        count = 1 if self.until_s is not None else fast_segment_count(self.media, self.spec)
        with self._decoder(threads=1) as decoder:
            self._seekable = decoder.seeks_cleanly()
        if not self._seekable:
            # Every decode must start at the top of the file: one segment, and refinements
            # and pictures decoded from the start (slow, but right).
            logger.info("%s: keyframes cannot be decoded from after a seek", redact_url(self.url))
            count = 1
        segments = self._plan(count) if count > 1 else [_Segment(None, None, None)]
        scans = self._scan_all(segments)
        if not self._joined_cleanly(segments, scans):
            logger.debug("%s: segments did not join; decoding as one", redact_url(self.url))
            segments = [_Segment(None, None, None)]
            scans = self._scan_all(segments)
        return self._finish(scans, len(segments))

    def _plan(self, count: int) -> list[_Segment]:
        """Split points: the keyframe a seek to each of ``count`` equal parts lands on."""
        start = self.media.start_time_s
        duration = self.media.duration_s or 0.0
        segments: list[_Segment] = []
        firsts: list[tuple[float, int]] = []
        with self._decoder(threads=1) as decoder:
            for i in range(1, count):
                seek_s = start + duration * i / count
                try:
                    pts = decoder.seek_keyframe(seek_s)
                except (av.error.FFmpegError, OSError) as exc:  # cannot seek: one segment
                    logger.debug("%s: cannot seek (%s); one segment", redact_url(self.url), exc)
                    return [_Segment(None, None, None)]
                if pts is not None and (not firsts or pts > firsts[-1][1]):
                    firsts.append((seek_s, pts))
        previous: tuple[float | None, int | None] = (None, None)
        for seek_s, pts in firsts:
            segments.append(_Segment(previous[0], previous[1], pts))
            previous = (seek_s, pts)
        segments.append(_Segment(previous[0], previous[1], None))
        return segments

    def _decoder(self, threads: int) -> VideoDecoder:
        return VideoDecoder(
            self.url,
            self.media,
            self.spec.decode,
            storage_options=self.storage_options,
            threads=threads,
        )

    def _threads_per_segment(self, count: int) -> int:
        if self.spec.decode.threads:
            return max(1, self.spec.decode.threads // count)
        # The segments fill the cores: one thread each (10-minute 1080p clip, 2 cores:
        # 16.1 s and 299 MB peak with one, 16.8 s and 333 MB with two).
        return 1 if count > 1 else min(16, _cores() + 4)

    def _scan_all(self, segments: list[_Segment]) -> list[_SegmentScan]:
        scans = [_SegmentScan() for _ in segments]
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

    def _scan(self, segment: _Segment, out: _SegmentScan, threads: int, *, report: bool) -> None:
        spec = self.spec
        analysis, thumbs, full = self._renderers()
        detector = _scene_detector(spec, self._fps)
        # Frames the local detector may still report as cuts (it reports up to its
        # look-back late): their pictures are rendered when it does.
        ring: deque[tuple[int, DecodedFrame]] = deque(maxlen=detector.lookback_frames + 1)
        origin = self.media.start_time_s
        total = self.media.duration_s or 0.0
        number = -1
        interval_slot: int | None = None
        first_time: float | None = None
        last_report = time.perf_counter()
        with self._decoder(threads) as decoder:
            frames = decoder.frames(read_ahead=0, start_s=segment.seek_s)
            for decoded in frames:
                if self._stop.is_set():
                    return
                if segment.first_pts is not None and decoded.pts < segment.first_pts:
                    continue  # before the keyframe this segment starts at
                if segment.stop_pts is not None and decoded.pts >= segment.stop_pts:
                    break  # the next segment's first frame
                if first_time is None:
                    first_time = decoded.time_s
                if self.until_s is not None and decoded.time_s - first_time >= self.until_s:
                    break
                bgr, gray = analysis.render(decoded.frame)
                number = max(number + 1, round((decoded.time_s - origin) * self._fps))
                score, cuts = detector.push(number, bgr)
                if out.first_bgr is None:
                    out.first_bgr = bgr
                out.last_bgr = bgr
                out.pts.append(decoded.pts)
                out.time_s.append(decoded.time_s)
                out.keyframe.append(1 if decoded.keyframe else 0)
                out.intra.append(1 if decoded.intra else 0)
                out.score.append(score)
                out.luma.append(analysis.mean_luma(gray))
                out.phash.append(perceptual_hash(gray))
                if self.sink is not None:
                    # The pictures this frame's selection will most likely want, rendered
                    # while the frame is here (any other is decoded again at the end).
                    slot = (
                        math.floor((decoded.time_s - origin) / spec.interval_s + _EPS)
                        if spec.interval_s is not None
                        else None
                    )
                    if len(out.pts) == 1 or (slot is not None and slot != interval_slot):
                        out.pictures[decoded.pts] = _render(decoded, thumbs, full, spec)
                    interval_slot = slot
                    if detector.may_cut_at(score):
                        ring.append((number, decoded))
                    for cut in cuts:
                        hit = next((d for n, d in ring if n >= cut), None)
                        if hit is not None and hit.pts not in out.pictures:
                            out.pictures[hit.pts] = _render(hit, thumbs, full, spec)
                out.done_s = decoded.time_s - first_time
                if report and self.progress is not None:
                    now = time.perf_counter()
                    if now - last_report > 0.25:
                        last_report = now
                        self.progress(min(total, out.done_s), total)
            out.damaged_packets = decoder.counters.damaged_packets
            out.hwaccel = decoder.counters.hwaccel

    @staticmethod
    def _joined_cleanly(segments: list[_Segment], scans: list[_SegmentScan]) -> bool:
        """Each segment after the first starts exactly at its keyframe (no gap)."""
        for segment, scan in zip(segments, scans, strict=True):
            if segment.first_pts is None:
                continue
            if not scan.pts or scan.pts[0] != segment.first_pts:
                return False
        return True

    # -- joining, selecting, refining -----------------------------------------------------

    def _finish(self, scans: list[_SegmentScan], segments: int) -> FastScanResult:
        shown = redact_url(self.url)
        pts = [p for s in scans for p in s.pts]
        if not pts:
            raise TruncatedMediaError(shown, "no video frame could be decoded")
        times = [t for s in scans for t in s.time_s]
        scores = [x for s in scans for x in s.score]
        intra = [bool(x) for s in scans for x in s.intra]
        # The first frame of each segment, scored against the last frame before it.
        offset = 0
        for before, after in itertools.pairwise(scans):
            offset += len(before.pts)
            if before.last_bgr is not None and after.first_bgr is not None:
                scorer = _scene_detector(self.spec, self._fps)
                scorer.push(0, before.last_bgr)
                scores[offset] = scorer.push(1, after.first_bgr)[0]
        # Positions from time, as one pass over the skipped stream numbers them.
        index: list[int] = []
        position = -1
        for t in times:
            position = max(position + 1, round((t - times[0]) * self._fps))
            index.append(position)
        analysis = pl.DataFrame(
            {
                "frame_index": index,
                "time_s": times,
                "pts": pts,
                "keyframe": [bool(x) for s in scans for x in s.keyframe],
                "score": scores,
                "luma": [x for s in scans for x in s.luma],
                "phash": [x for s in scans for x in s.phash],
            },
            schema=ANALYSIS_SCHEMA,
        )
        selection = reselect(analysis, self.spec, detector=self.spec.detector, fps=self._fps)
        scene_rows = self._refine(selection.scenes.to_dicts(), index, times, intra, segments)
        starts = [row["start_s"] for row in scene_rows]
        confirmed = {row["start_frame"] for row in scene_rows} | {
            row["source_frame"] for row in scene_rows if "source_frame" in row
        }
        for row in scene_rows:
            row.pop("source_frame", None)

        position_of = {i: n for n, i in enumerate(index)}
        keyframes = analysis["keyframe"].to_list()
        pictures: dict[int, _Pictures] = {}
        for scan in scans:
            pictures.update(scan.pictures)
        video = self.media.video
        rows: list[dict[str, Any]] = []
        for frame in selection.frames.iter_rows(named=True):
            reasons = list(frame["reasons"])
            if "scene_start" in reasons and frame["frame_index"] not in confirmed:
                reasons.remove("scene_start")  # its cut was not confirmed by the refinement
                if not reasons:
                    continue
            n = position_of[frame["frame_index"]]
            rows.append(
                {
                    "frame_index": frame["frame_index"],
                    "time_s": frame["time_s"],
                    "pts": pts[n],
                    "keyframe": keyframes[n],
                    "scene_index": max(0, bisect.bisect_right(starts, frame["time_s"] + _EPS) - 1),
                    "reasons": reasons,
                    "phash": frame["phash"],
                    "width": video.width,
                    "height": video.height,
                    "thumbnail_uri": None,
                    "frame_uri": None,
                    "thumbnail_bytes": None,
                }
            )
        thumbnails: list[bytes | None] = [None] * len(rows)
        if self.sink is not None:
            wanted = sorted({row["pts"] for row in rows if row["pts"] not in pictures})
            pictures.update(self._decode_pictures(wanted, analysis, segments))
            for n, row in enumerate(rows):
                images = pictures[row["pts"]]
                thumbnails[n] = images.thumbnail
                row["thumbnail_uri"] = self.sink.put(
                    f"{row['frame_index']:08d}.{self._ext}", images.thumbnail
                )
                row["thumbnail_bytes"] = len(images.thumbnail)
                if images.full is not None:
                    row["frame_uri"] = self.sink.put(
                        f"full/{row['frame_index']:08d}.{self._full_ext}", images.full
                    )
        return FastScanResult(
            analysis=analysis,
            rows=rows,
            thumbnails=thumbnails,
            scene_rows=scene_rows,
            duplicates_skipped=selection.duplicates_skipped,
            damaged_packets=sum(s.damaged_packets for s in scans),
            hwaccel=scans[0].hwaccel,
            segments=segments,
        )

    def _refine(
        self,
        scene_rows: list[dict[str, Any]],
        index: list[int],
        times: list[float],
        intra: list[bool],
        workers: int,
    ) -> list[dict[str, Any]]:
        """Each cut found after skipped pictures, placed at its exact frame (or dropped).

        A cut on an I picture, or with nothing skipped before it, is kept as it is.
        Refined rows keep the analysed frame they were found at as ``source_frame``.
        """
        position_of = {i: n for n, i in enumerate(index)}
        jobs: list[tuple[int, float, float]] = []  # (row, after_s, until_s)
        for r, row in enumerate(scene_rows[1:], start=1):
            n = position_of.get(row["start_frame"])
            if n is None or n == 0 or intra[n] or index[n] - index[n - 1] < 2:
                continue
            jobs.append((r, times[n - 1], times[n]))
        found: dict[int, tuple[float, float] | None] = {}
        chunks = _chunks(jobs, workers)

        def run(chunk: list[tuple[int, float, float]]) -> None:
            analysis = self._renderers()[0]
            with self._decoder(threads=self._threads_per_segment(len(chunks))) as decoder:
                for r, after_s, until_s in chunk:
                    found[r] = self._exact_cut(decoder, analysis, after_s, until_s)

        _run_parallel(run, chunks)
        keep: list[dict[str, Any]] = []
        for r, row in enumerate(scene_rows):
            if r not in found:
                keep.append(row)
                continue
            exact = found[r]
            if exact is None:
                logger.debug("candidate cut at %.3f s not confirmed", row["start_s"])
                continue
            time_s, score = exact
            shift = round((time_s - row["start_s"]) * self._fps)
            keep.append(
                {
                    **row,
                    "start_s": time_s,
                    "start_frame": row["start_frame"] + shift,
                    "score": score,
                    "source_frame": row["start_frame"],
                }
            )
        for n, row in enumerate(keep):
            row["scene_index"] = n
            if n + 1 < len(keep):
                row["end_s"] = keep[n + 1]["start_s"]
                row["end_frame"] = keep[n + 1]["start_frame"]
            elif scene_rows:
                row["end_s"] = scene_rows[-1]["end_s"]
                row["end_frame"] = scene_rows[-1]["end_frame"]
        return keep

    def _exact_cut(
        self, decoder: VideoDecoder, analysis: AnalysisRenderer, after_s: float, until_s: float
    ) -> tuple[float, float] | None:
        """(time, score) of the highest-scoring frame in (after_s, until_s], fully decoded;
        None when no frame there reaches the threshold."""
        scorer = _scene_detector(self.spec, self._fps, min_scene_len_frames=0)
        best: tuple[float, float] | None = None
        stretch = decoder.frames_from(
            after_s, references_only_before=True, from_start=not self._seekable
        )
        for number, decoded in enumerate(stretch):
            if decoded.time_s > until_s + _EPS:
                break
            score, _ = scorer.push(number, analysis.render(decoded.frame)[0])
            if decoded.time_s > after_s + _EPS and (best is None or score > best[1]):
                best = (decoded.time_s, score)
        if best is None or best[1] < (self.spec.effective_threshold or 0.0):
            return None
        return best

    def _decode_pictures(
        self, wanted: list[int], analysis: pl.DataFrame, workers: int
    ) -> dict[int, _Pictures]:
        """Pictures of the frames at ``wanted`` pts (I or P pictures), decoded again: one
        decode per GOP holding any, from its keyframe, B pictures skipped."""
        if not wanted:
            return {}
        keys = analysis.filter(pl.col("keyframe"))["pts"].to_list()
        groups: dict[int, list[int]] = {}
        for p in wanted:
            g = max(0, bisect.bisect_right(keys, p) - 1)
            groups.setdefault(g, []).append(p)
        jobs = sorted(groups.items())
        out: dict[int, _Pictures] = {}

        def run(chunk: list[tuple[int, list[int]]]) -> None:
            _, thumbs, full = self._renderers()
            with self._decoder(threads=self._threads_per_segment(workers)) as decoder:
                for g, targets in chunk:
                    # Just before the next keyframe: a seek lands on this GOP's keyframe
                    # however the demuxer shifts its index (see frames_spanning).
                    hints = []
                    if g + 1 < len(keys):
                        hints.append(float((keys[g + 1] - 1) * decoder.time_base))
                    want = set(targets)
                    for decoded in decoder.frames_spanning(
                        targets[0], targets[-1], seek_times_s=hints, seek=self._seekable
                    ):
                        if decoded.pts in want:
                            out[decoded.pts] = _render(decoded, thumbs, full, self.spec)
            missing = [p for _, targets in chunk for p in targets if p not in out]
            if missing:
                raise TruncatedMediaError(
                    redact_url(self.url), f"frames at pts {missing[:5]} could not be decoded again"
                )

        _run_parallel(run, _chunks(jobs, workers))
        return out


def _render(
    decoded: DecodedFrame, thumbs: FrameRenderer, full: FrameRenderer, spec: SamplingSpec
) -> _Pictures:
    image = spec.image
    thumbnail = encode_image(thumbs.render(decoded.frame), image.format, image.quality)
    full_bytes = (
        encode_image(full.render(decoded.frame), image.full_format, image.quality)
        if image.full_frames
        else None
    )
    return _Pictures(thumbnail, full_bytes)


def _scene_detector(
    spec: SamplingSpec, fps: float, *, min_scene_len_frames: int | None = None
) -> SceneCutDetector:
    from framesift.scenes import SceneCutDetector

    assert spec.detector is not None
    min_len = spec.min_scene_len_frames if min_scene_len_frames is None else min_scene_len_frames
    return SceneCutDetector(spec.detector, spec.threshold, min_len, fps)


def _chunks(items: Sequence[_T], count: int) -> list[list[_T]]:
    """``items`` in at most ``count`` contiguous runs of near-equal length."""
    count = max(1, min(count, len(items)))
    size, extra = divmod(len(items), count)
    out: list[list[_T]] = []
    start = 0
    for i in range(count):
        end = start + size + (1 if i < extra else 0)
        if end > start:
            out.append(list(items[start:end]))
        start = end
    return out


def _run_parallel(work: Callable[[_T], None], chunks: list[_T]) -> None:
    if len(chunks) <= 1:
        for chunk in chunks:
            work(chunk)
        return
    with ThreadPoolExecutor(len(chunks), thread_name_prefix="framesift-fast") as pool:
        for future in [pool.submit(work, chunk) for chunk in chunks]:
            future.result()
