"""The sampling pass: one decode, every selection, thumbnails, and the analysis cache.

probe -> plan -> decode -> analyse (detector score, perceptual hash, luma) -> select
(interval, keyframe, scene start, representative, near-duplicate skip) -> encode -> sink.

Memory is bounded by design: the pass holds a ring of at most the detector's look-back
(a few frames) plus, when representatives are asked for, a capped reservoir of small
thumbnail candidates for the current scene. Nothing grows with the video's length except
the rows of kept frames and the analysis table (a few tens of bytes per frame).
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import av
import numpy as np
import polars as pl
from numpy.typing import NDArray

from framesift.decode import DecodedFrame, VideoDecoder
from framesift.dedup import hamming, perceptual_hash
from framesift.errors import TruncatedMediaError
from framesift.fastscan import FastScan, Renderers
from framesift.images import (
    EXTENSIONS,
    AnalysisRenderer,
    FrameRenderer,
    encode_image,
    fit_within,
)
from framesift.probe import MediaInfo, probe
from framesift.schema import ANALYSIS_SCHEMA, FRAMES_SCHEMA, SCENES_SCHEMA
from framesift.sink import ImageSink
from framesift.spec import SamplingSpec

if TYPE_CHECKING:
    from framesift.scenes import SceneCutDetector

__all__ = [
    "DecodeMode",
    "KeptFrame",
    "PassStats",
    "ProgressCallback",
    "SampleResult",
    "SamplingPass",
    "candidate_stride",
    "choose_representatives",
    "plan_decode",
    "sample_video",
]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, float], None]
"""Called as ``progress(done_s, total_s)`` in media seconds, a few times a second."""

DecodeMode = Literal["straight", "keyframes", "seek", "fast"]

_EPS = 1e-6
_REPRESENTATIVE_CANDIDATES = 16  # per scene, at least 2k; thumbnails of analysis size


def candidate_cap(k: int) -> int:
    """Most representative candidates held per scene (even, so decimation keeps a grid)."""
    return max(_REPRESENTATIVE_CANDIDATES, 4 * k)


def candidate_stride(frames_in_scene: int, k: int) -> int:
    """The frame stride of the candidate grid once a scene of that length has been seen.

    The pass offers every frame at offset 0, s, 2s ... from the scene start and halves its
    candidates (doubling s) whenever they exceed the cap, so the survivors are exactly the
    offsets that are multiples of the final stride.
    """
    cap = candidate_cap(k)
    stride, count = 1, 0
    for offset in range(frames_in_scene):
        if offset % stride:
            continue
        count += 1
        if count > cap:
            count = (count + 1) // 2
            stride *= 2
    return stride


def choose_representatives(times_s: list[float], start_s: float, end_s: float, k: int) -> list[int]:
    """Positions in ``times_s`` nearest to the centres of k equal parts of the scene."""
    chosen: list[int] = []
    for j in range(k):
        target = start_s + (j + 0.5) * (end_s - start_s) / k
        best = min(range(len(times_s)), key=lambda i: abs(times_s[i] - target))
        if best not in chosen:
            chosen.append(best)
    return chosen


def plan_decode(media: MediaInfo, spec: SamplingSpec) -> DecodeMode:
    """Decode straight through, keyframes only, or seek to each sample time.

    Seeking pays only when nothing needs every frame (no detector, hence no
    representatives) and the interval is at least the keyframe spacing; per-sample
    seeking when samples are closer than keyframes is several times slower than decoding
    straight through.
    """
    if spec.keyframes:
        return "keyframes"
    if spec.decode.fast and spec.detector is not None:
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


@dataclass(frozen=True)
class KeptFrame:
    """One kept frame as the pass decides it (streaming form)."""

    row: dict[str, Any]
    thumbnail: bytes | None


@dataclass(frozen=True)
class SampleResult:
    url: str
    media: MediaInfo
    spec: SamplingSpec
    frames: pl.DataFrame
    scenes: pl.DataFrame
    analysis: pl.DataFrame
    stats: PassStats


@dataclass(slots=True)
class _Pending:
    decoded: DecodedFrame
    phash: int
    interval_hit: bool
    score: float = 0.0
    scene_start: bool = False


@dataclass(slots=True)
class _Candidate:
    index: int
    time_s: float
    pending: _Pending
    thumb_rgb: NDArray[np.uint8] | None
    row: dict[str, Any] | None


@dataclass
class _SceneState:
    index: int = -1
    first_frame: int = 0
    start_s: float = 0.0
    score: float = 0.0
    stride: int = 1
    candidates: list[_Candidate] = field(default_factory=list)


class SamplingPass:
    """One pass over one video; iterate it for kept frames, then read the tables.

    ``sample_video`` is the usual entry point; use this class directly to stream kept
    frames as they are decided (frames kept as scene representatives arrive when their
    scene ends, so the stream is in decision order, not time order).
    """

    def __init__(
        self,
        url: str,
        spec: SamplingSpec | None = None,
        *,
        storage_options: Mapping[str, Any] | None = None,
        sink: ImageSink | None = None,
        progress: ProgressCallback | None = None,
        media: MediaInfo | None = None,
        until_s: float | None = None,
    ) -> None:
        self.url = url
        self.until_s = until_s
        """Stop after this many seconds of video from the first frame (None: the whole video;
        the estimator samples the start of a video this way)."""
        self.spec = spec or SamplingSpec()
        self.storage_options = storage_options
        self.sink = sink
        self.progress = progress
        self.media = media or probe(url, storage_options)
        if self.media.truncated_at_byte is not None and not self.spec.decode.allow_partial:
            raise TruncatedMediaError(
                self.media.url,
                f"cut short: the file has {self.media.size_bytes} bytes but its index "
                f"reaches byte {self.media.truncated_at_byte} (allow_partial=True samples "
                "what is there)",
            )
        self.mode: DecodeMode = plan_decode(self.media, self.spec)
        video = self.media.video
        self._fps = video.fps
        self._rotation = video.rotation_deg
        # Analysis image: analysis_width_px wide after rotation, aspect kept; computed in
        # coded orientation so swscale does the scaling, numpy only rotates.
        disp_w, disp_h = video.width, video.height
        aw = min(self.spec.analysis_width_px, disp_w)
        ah = max(2, round(disp_h * aw / disp_w))
        swap = self._rotation in (90, 270)
        # Point sampling by swscale: cheapest, and its detector scores track PySceneDetect's
        # CLI (full-size BGR, then OpenCV's linear resize) closely: the same cuts on the
        # 1080p benchmark clip (bilinear/bicubic smooth more and score ~1.8 lower).
        analysis_size = (ah, aw) if swap else (aw, ah)
        tw, th = fit_within(disp_w, disp_h, self.spec.image.max_side_px)
        thumb_size = (th, tw) if swap else (tw, th)
        # Full-resolution frames at display size (square pixels), before rotation.
        full_size = (disp_h, disp_w) if swap else (disp_w, disp_h)

        def renderers() -> Renderers:
            return (
                AnalysisRenderer(
                    analysis_size, self._rotation, exact=self.spec.analysis_scaling == "exact"
                ),
                FrameRenderer(thumb_size, self._rotation),
                FrameRenderer(full_size, self._rotation),
            )

        self._make_renderers = renderers
        self._analysis, self._thumbs, self._full = renderers()
        self._ext = EXTENSIONS[self.spec.image.format]
        self._full_ext = EXTENSIONS[self.spec.image.full_format]
        # Results.
        self._rows: list[dict[str, Any]] = []
        self._scene_rows: list[dict[str, Any]] = []
        self._a_index = array("q")
        self._a_time = array("d")
        self._a_pts = array("q")
        self._a_key = array("b")
        self._a_score = array("f")
        self._a_luma = array("f")
        self._a_hash = array("Q")
        self._stats: PassStats | None = None
        self._duplicates = 0
        self._last_kept_hash: int | None = None
        self._consumed = False

    # -- public -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[KeptFrame]:
        if self._consumed:
            raise RuntimeError("a SamplingPass can be iterated once")
        self._consumed = True
        started = time.perf_counter()
        if self.mode == "fast":
            yield from self._run_fast(started)
            return
        if self.mode == "seek" and not self._seeks_cleanly():
            logger.info("%s: keyframes cannot be decoded from after a seek", self.media.url)
            self.mode = "straight"  # the same frames, decoded from the top
        with VideoDecoder(
            self.url,
            self.media,
            self.spec.decode,
            keyframes_only=self.mode == "keyframes",
            storage_options=self.storage_options,
        ) as decoder:
            if self.mode == "seek":
                frames = decoder.frames_at(self._seek_targets())
            else:
                frames = decoder.frames()
            yield from self._run(frames)
            counters = decoder.counters
        self._stats = PassStats(
            mode=self.mode,
            frames_decoded=counters.frames_decoded,
            frames_kept=len(self._rows),
            duplicates_skipped=self._duplicates,
            scenes=len(self._scene_rows),
            damaged_packets=counters.damaged_packets,
            seconds=time.perf_counter() - started,
            hwaccel=counters.hwaccel,
        )

    def result(self) -> SampleResult:
        """Run the pass to the end (if not yet run) and return its tables."""
        if not self._consumed:
            for _ in self:
                pass
        assert self._stats is not None, "the pass was interrupted"
        frames = pl.DataFrame(self._rows, schema=FRAMES_SCHEMA, orient="row").sort("frame_index")
        scenes = pl.DataFrame(self._scene_rows, schema=SCENES_SCHEMA, orient="row")
        analysis = pl.DataFrame(
            {
                "frame_index": np.frombuffer(self._a_index, dtype=np.int64),
                "time_s": np.frombuffer(self._a_time, dtype=np.float64),
                "pts": np.frombuffer(self._a_pts, dtype=np.int64),
                "keyframe": np.frombuffer(self._a_key, dtype=np.int8).astype(bool),
                "score": np.frombuffer(self._a_score, dtype=np.float32),
                "luma": np.frombuffer(self._a_luma, dtype=np.float32),
                "phash": np.frombuffer(self._a_hash, dtype=np.uint64),
            },
            schema=ANALYSIS_SCHEMA,
        )
        return SampleResult(
            url=self.media.url,
            media=self.media,
            spec=self.spec,
            frames=frames,
            scenes=scenes,
            analysis=analysis,
            stats=self._stats,
        )

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
        spec = self.spec
        detector = (
            _scene_detector(spec.detector, spec.threshold, spec.min_scene_len_frames, self._fps)
            if spec.detector is not None
            else None
        )
        lookback = detector.lookback_frames if detector is not None else 1
        # Keyframe passes keep every frame; representatives are picked once a scene ends.
        hold_all = self.mode == "keyframes" or spec.representatives_per_scene > 0
        ring: deque[_Pending] = deque()
        scene = _SceneState()
        next_target: float | None = None
        origin: float | None = None
        total_s = self.media.duration_s or 0.0
        last_progress = time.perf_counter()
        if self.progress is not None:
            self.progress(0.0, total_s)  # started: a listener can time from here

        for decoded in frames:
            if origin is None:
                origin = decoded.time_s
                next_target = origin
            if self.until_s is not None and decoded.time_s - origin >= self.until_s:
                break
            # Analysis image through swscale; rotation by numpy on the small result.
            bgr, gray = self._analysis.render(decoded.frame)
            phash = perceptual_hash(gray)
            luma = self._analysis.mean_luma(gray)
            interval_hit = False
            if (
                spec.interval_s is not None
                and next_target is not None
                and decoded.time_s >= next_target - _EPS
            ):
                interval_hit = True
                steps = math.floor((decoded.time_s - origin) / spec.interval_s + _EPS) + 1
                next_target = origin + steps * spec.interval_s
            pending = _Pending(decoded, phash, interval_hit)
            score = 0.0
            ring.append(pending)
            if detector is not None:
                score, cuts = detector.push(decoded.index, bgr)
                pending.score = score
                self._mark_cuts(ring, cuts)
            if not (hold_all or interval_hit or origin == decoded.time_s) and (
                detector is None or not detector.may_cut_at(score)
            ):
                # This frame can no longer be kept: let its picture go now, so the ring
                # holds timings and hashes, not decoded pictures (the decoder's buffers
                # stay few and warm in cache).
                pending.decoded = replace(decoded, frame=_NO_FRAME)
            self._a_index.append(decoded.index)
            self._a_time.append(decoded.time_s)
            self._a_pts.append(decoded.pts)
            self._a_key.append(1 if decoded.keyframe else 0)
            self._a_score.append(score)
            self._a_luma.append(luma)
            self._a_hash.append(phash)
            while len(ring) > lookback:
                yield from self._finalize(ring.popleft(), scene)
            if self.progress is not None and time.perf_counter() - last_progress > 0.25:
                last_progress = time.perf_counter()
                self.progress(decoded.time_s - (origin or 0.0), total_s)

        if detector is not None:
            self._mark_cuts(ring, detector.finish())
        while ring:
            yield from self._finalize(ring.popleft(), scene)
        if scene.index >= 0:
            end_index = self._a_index[-1] + 1 if self._a_index else 0
            end_s = self._end_time()
            yield from self._close_scene(scene, end_index, end_s)
        if self.progress is not None:
            self.progress(total_s, total_s)

    def _seeks_cleanly(self) -> bool:
        with VideoDecoder(
            self.url, self.media, self.spec.decode, storage_options=self.storage_options
        ) as decoder:
            return decoder.seeks_cleanly()

    def _run_fast(self, started: float) -> Iterator[KeptFrame]:
        """The fast scene-analysis pass (see :mod:`framesift.fastscan`): its kept frames
        come once the whole video has been analysed."""
        scan = FastScan(
            self.url,
            self.media,
            self.spec,
            self._make_renderers,
            storage_options=self.storage_options,
            sink=self.sink,
            progress=self.progress,
            until_s=self.until_s,
            extensions=(self._ext, self._full_ext),
        )
        if self.progress is not None:
            self.progress(0.0, self.media.duration_s or 0.0)
        outcome = scan.run()
        a = outcome.analysis
        self._a_index.extend(a["frame_index"].to_list())
        self._a_time.extend(a["time_s"].to_list())
        self._a_pts.extend(a["pts"].to_list())
        self._a_key.extend(int(k) for k in a["keyframe"].to_list())
        self._a_score.extend(a["score"].to_list())
        self._a_luma.extend(a["luma"].to_list())
        self._a_hash.extend(a["phash"].to_list())
        self._rows = outcome.rows
        self._scene_rows = outcome.scene_rows
        self._duplicates = outcome.duplicates_skipped
        if self.progress is not None:
            total = self.media.duration_s or 0.0
            self.progress(total, total)
        self._stats = PassStats(
            mode=self.mode,
            frames_decoded=a.height,
            frames_kept=len(self._rows),
            duplicates_skipped=self._duplicates,
            scenes=len(self._scene_rows),
            damaged_packets=outcome.damaged_packets,
            seconds=time.perf_counter() - started,
            hwaccel=outcome.hwaccel,
        )
        for row, thumbnail in zip(outcome.rows, outcome.thumbnails, strict=True):
            yield KeptFrame(row=row, thumbnail=thumbnail)

    def _end_time(self) -> float:
        if not self._a_time:
            return 0.0
        last = self._a_time[-1]
        step = (last - self._a_time[-2]) if len(self._a_time) >= 2 else 1.0 / self._fps
        return last + max(step, 0.0)

    @staticmethod
    def _mark_cuts(ring: deque[_Pending], cuts: list[int]) -> None:
        for cut in cuts:
            for pending in ring:
                if pending.decoded.index >= cut:
                    pending.scene_start = True
                    break
            else:
                logger.warning("cut at frame %d reported too late to place; ignored", cut)

    def _finalize(self, pending: _Pending, scene: _SceneState) -> Iterator[KeptFrame]:
        decoded = pending.decoded
        spec = self.spec
        if scene.index < 0 or (pending.scene_start and decoded.index > scene.first_frame):
            if scene.index >= 0:
                yield from self._close_scene(scene, decoded.index, decoded.time_s)
            scene.index += 1
            scene.first_frame = decoded.index
            scene.start_s = decoded.time_s
            scene.score = pending.score
            scene.stride = 1
            scene.candidates = []
            pending.scene_start = spec.detector is not None
        reasons: list[str] = []
        if pending.interval_hit:
            reasons.append("interval")
        if self.mode == "keyframes":
            reasons.append("keyframe")
        if pending.scene_start:
            reasons.append("scene_start")
        row: dict[str, Any] | None = None
        kept: KeptFrame | None = None
        if reasons:
            duplicate = (
                spec.dedup_bits is not None
                and not pending.scene_start
                and self._last_kept_hash is not None
                and hamming(pending.phash, self._last_kept_hash) <= spec.dedup_bits
            )
            if duplicate:
                self._duplicates += 1
            else:
                kept = self._keep(pending, scene.index, reasons, None)
                row = kept.row
        if spec.representatives_per_scene:
            self._offer_candidate(scene, pending, row)
        if kept is not None:
            yield kept

    def _keep(
        self,
        pending: _Pending,
        scene_index: int,
        reasons: list[str],
        thumb_rgb: NDArray[np.uint8] | None,
    ) -> KeptFrame:
        decoded = pending.decoded
        video = self.media.video
        image = self.spec.image
        thumbnail: bytes | None = None
        thumb_uri: str | None = None
        frame_uri: str | None = None
        if self.sink is not None and thumb_rgb is None and decoded.frame is _NO_FRAME:
            # Cannot happen for the detectors framesift knows (see may_cut_at); a
            # detector that did it anyway gets its row, without an image.
            logger.warning("frame %d kept after its picture was released", decoded.index)
        elif self.sink is not None:
            if thumb_rgb is None:
                thumb_rgb = self._thumbs.render(decoded.frame)
            thumbnail = encode_image(thumb_rgb, image.format, image.quality)
            thumb_uri = self.sink.put(f"{decoded.index:08d}.{self._ext}", thumbnail)
            if image.full_frames:
                full = self._full.render(decoded.frame)
                frame_uri = self.sink.put(
                    f"full/{decoded.index:08d}.{self._full_ext}",
                    encode_image(full, image.full_format, image.quality),
                )
        if reasons != ["representative"]:
            # Near-duplicates are judged against the last frame kept in time order;
            # representatives are chosen per scene afterwards and do not count.
            self._last_kept_hash = pending.phash
        row = {
            "frame_index": decoded.index,
            "time_s": decoded.time_s,
            "pts": decoded.pts,
            "keyframe": decoded.keyframe,
            "scene_index": scene_index,
            "reasons": reasons,
            "phash": pending.phash,
            "width": video.width,
            "height": video.height,
            "thumbnail_uri": thumb_uri,
            "frame_uri": frame_uri,
            "thumbnail_bytes": len(thumbnail) if thumbnail is not None else None,
        }
        self._rows.append(row)
        return KeptFrame(row=row, thumbnail=thumbnail)

    # -- representatives ----------------------------------------------------------------

    def _offer_candidate(
        self, scene: _SceneState, pending: _Pending, row: dict[str, Any] | None
    ) -> None:
        offset = pending.decoded.index - scene.first_frame
        if offset % scene.stride:
            return
        thumb = None
        if self.sink is not None and row is None:
            thumb = self._thumbs.render(pending.decoded.frame)
        keep_frame = self.spec.image.full_frames and row is None
        scene.candidates.append(
            _Candidate(
                index=pending.decoded.index,
                time_s=pending.decoded.time_s,
                pending=pending if keep_frame or thumb is None else _strip(pending),
                thumb_rgb=thumb,
                row=row,
            )
        )
        if len(scene.candidates) > candidate_cap(self.spec.representatives_per_scene):
            scene.candidates = scene.candidates[::2]
            scene.stride *= 2

    def _close_scene(self, scene: _SceneState, end_index: int, end_s: float) -> Iterator[KeptFrame]:
        self._scene_rows.append(
            {
                "scene_index": scene.index,
                "start_s": scene.start_s,
                "end_s": end_s,
                "start_frame": scene.first_frame,
                "end_frame": end_index,
                "score": scene.score if scene.index > 0 else 0.0,
            }
        )
        k = self.spec.representatives_per_scene
        if not k or not scene.candidates:
            return
        positions = choose_representatives(
            [c.time_s for c in scene.candidates], scene.start_s, end_s, k
        )
        for candidate in (scene.candidates[i] for i in positions):
            if candidate.row is not None:
                if "representative" not in candidate.row["reasons"]:
                    candidate.row["reasons"].append("representative")
                continue
            kept = self._keep(
                candidate.pending, scene.index, ["representative"], candidate.thumb_rgb
            )
            candidate.row = kept.row
            yield kept
        scene.candidates = []


def _scene_detector(
    name: str, threshold: float | None, min_scene_len_frames: int, fps: float
) -> SceneCutDetector:
    # PySceneDetect is imported when a pass first needs a detector (it takes ~0.3 s).
    from framesift.scenes import SceneCutDetector

    return SceneCutDetector(name, threshold, min_scene_len_frames, fps)


def _strip(pending: _Pending) -> _Pending:
    """The candidate without its decoded picture (its thumbnail is already rendered)."""
    d = pending.decoded
    light = replace(d, frame=_NO_FRAME)
    return _Pending(
        light,
        pending.phash,
        pending.interval_hit,
        pending.score,
        pending.scene_start,
    )


_NO_FRAME = av.VideoFrame(2, 2, "rgb24")
"""Stands in for a decoded picture the pass no longer needs (it is not kept)."""


def sample_video(
    url: str,
    spec: SamplingSpec | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
    sink: ImageSink | None = None,
    progress: ProgressCallback | None = None,
    media: MediaInfo | None = None,
) -> SampleResult:
    """Sample one video in one decode pass; see :class:`SamplingSpec` for what is kept.

    Thumbnails (and full frames when asked) go to ``sink``; without a sink no image is
    encoded and the URIs are empty.
    """
    return SamplingPass(
        url, spec, storage_options=storage_options, sink=sink, progress=progress, media=media
    ).result()
