"""Scanning one range of a video: ``[first_pts, stop_pts)`` -> per-frame analysis + pictures.

A range starts at a keyframe (a decoder started there decodes it exactly as a pass from
the top would) and ends before the next range's keyframe. The fast scan cuts a video into
one range per core and scans them side by side (:mod:`framesift.fastscan`); the ranges are
joined into one result by :func:`framesift.fastscan.join.join_ranges`. Splitting one long
video across separate workers is the same two steps with the ranges in other processes.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import numpy as np
from numpy.typing import NDArray

from framesift.analysis import AnalysisColumns
from framesift.decode import DecodedFrame
from framesift.dedup import perceptual_hash
from framesift.errors import FramesiftError
from framesift.fastscan.pictures import Pictures, render_pictures
from framesift.fastscan.setup import ScanSetup
from framesift.scenes import SceneCutDetector
from framesift.select import interval_slot

__all__ = [
    "WHOLE_VIDEO",
    "RangeScan",
    "Segment",
    "equal_cost_times",
    "joined_cleanly",
    "nearest_keyframes",
    "plan_segments",
    "scan_range",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Segment:
    """One range of the video, by the pts of the keyframes it starts and stops at."""

    seek_s: float | None  # None: from the start of the file
    first_pts: int | None  # the keyframe it starts at (None: the first frame)
    stop_pts: int | None  # the next segment's first_pts (None: the end)


WHOLE_VIDEO = Segment(None, None, None)


def plan_segments(setup: ScanSetup, count: int) -> list[Segment]:
    """``count`` ranges (fewer when keyframes are sparse), split at the keyframe a seek to
    each of ``count`` parts of equal cost is nearest to (:func:`equal_cost_times`,
    :func:`nearest_keyframes`; equal durations when the file's byte positions are
    unknown); the whole video when it cannot seek."""
    start = setup.media.start_time_s
    duration = setup.media.duration_s or 0.0
    equal = [start + duration * i / count for i in range(1, count)]
    times = nearest_keyframes(setup, equal_cost_times(setup, count) or equal) or equal
    firsts: list[tuple[float, int]] = []
    with setup.decoder(threads=1) as decoder:
        for seek_s in times:
            try:
                pts = decoder.seek_keyframe(seek_s)
            except (av.error.FFmpegError, OSError) as exc:  # cannot seek: one segment
                logger.debug("%s: cannot seek (%s); one segment", setup.source.shown, exc)
                return [WHOLE_VIDEO]
            if pts is not None and (not firsts or pts > firsts[-1][1]):
                firsts.append((seek_s, pts))
    segments: list[Segment] = []
    previous: tuple[float | None, int | None] = (None, None)
    for seek_s, pts in firsts:
        segments.append(Segment(previous[0], previous[1], pts))
        previous = (seek_s, pts)
    segments.append(Segment(previous[0], previous[1], None))
    return segments


COST_SAMPLES_PER_RANGE = 8
"""Keyframes read per range to see where the video's bytes lie."""
BYTES_SHARE = 0.5
"""Share of a stretch's decoding cost that follows its bytes, the rest its duration. On
the first two minutes of the 1080p benchmark clip (58 % of the bytes in the first half)
the CPU seconds of two ranges followed bytes and frames about equally."""


def equal_cost_times(setup: ScanSetup, count: int) -> list[float] | None:
    """The ``count - 1`` times that cut the video into parts of near-equal cost, the cost
    of a stretch being :data:`BYTES_SHARE` of its share of the file's bytes plus the rest
    of its share of the duration. The bytes come from the demuxer alone: the file position
    of the keyframe each of :data:`COST_SAMPLES_PER_RANGE` seeks per range lands on.
    None when positions are unknown or out of time order."""
    start = setup.media.start_time_s
    end = start + (setup.media.duration_s or 0.0)
    samples = COST_SAMPLES_PER_RANGE * count
    points: list[tuple[float, int]] = []  # (time_s, file position) of keyframes
    try:
        with setup.source.open_container() as container:
            stream = container.streams.video[0]
            base = stream.time_base
            assert base is not None
            for k in range(samples):
                container.seek(int((start + (end - start) * k / samples) / base), stream=stream)
                packet = next((p for p in container.demux(stream) if p.is_keyframe), None)
                if packet is None or packet.pts is None or packet.pos is None:
                    return None
                if not points or float(packet.pts * base) > points[-1][0]:
                    points.append((float(packet.pts * base), int(packet.pos)))
            size = int(container.size)
    except (av.error.FFmpegError, OSError, FramesiftError) as exc:
        logger.debug("%s: no byte positions (%s)", setup.source.shown, exc)
        return None
    points.append((end, size))  # an index at the end of the file counts as video: <1 %
    if len(points) < 3 or any(b[1] <= a[1] for a, b in itertools.pairwise(points)):
        return None
    (t0, b0), (t1, b1) = points[0], points[-1]
    costs = [
        BYTES_SHARE * (b - b0) / (b1 - b0) + (1 - BYTES_SHARE) * (t - t0) / (t1 - t0)
        for t, b in points
    ]
    times: list[float] = []
    for i in range(1, count):
        k = next(k for k, cost in enumerate(costs) if cost >= i / count)
        share = (i / count - costs[k - 1]) / (costs[k] - costs[k - 1])
        times.append(points[k - 1][0] + (points[k][0] - points[k - 1][0]) * share)
    return times


def nearest_keyframes(setup: ScanSetup, times: list[float]) -> list[float] | None:
    """For each of ``times``, a time a seek to which lands on the keyframe nearest to it
    (before or after: a seek lands on the one at or before, which can leave one range a
    whole keyframe interval longer than the other). The demuxer alone reads the packets
    of one keyframe interval per time; nothing is decoded. None when it cannot."""
    out: list[float] = []
    try:
        with setup.source.open_container() as container:
            stream = container.streams.video[0]
            base = stream.time_base
            assert base is not None
            half_frame = 0.5 / setup.fps
            for t in times:
                container.seek(int(t / base), stream=stream, backward=True)
                before: float | None = None
                after: float | None = None
                for packet in container.demux(stream):
                    if packet.pts is None:
                        continue
                    at = float(packet.pts * base)
                    if before is not None and at - t > t - before:
                        break  # the keyframe before is the nearer one
                    if packet.is_keyframe:
                        if before is None:
                            before = at
                        elif at > before:
                            after = at
                            break
                if before is None:
                    return None
                nearest = after if after is not None and after - t < t - before else before
                # Half a frame after it: a seek there lands on it whatever its rounding.
                out.append(nearest + half_frame)
    except (av.error.FFmpegError, OSError, FramesiftError) as exc:
        logger.debug("%s: keyframes not read (%s)", setup.source.shown, exc)
        return None
    return out


def joined_cleanly(segments: list[Segment], scans: list[RangeScan]) -> bool:
    """Each segment after the first starts exactly at its keyframe (no gap)."""
    for segment, scan in zip(segments, scans, strict=True):
        if segment.first_pts is None:
            continue
        if not scan.columns.pts or scan.columns.pts[0] != segment.first_pts:
            return False
    return True


@dataclass
class RangeScan:
    """What scanning one range found; ``frame_index`` of its analysis holds the numbers
    its own detector saw (renumbered when ranges are joined)."""

    columns: AnalysisColumns = field(default_factory=AnalysisColumns)
    intra: array[int] = field(default_factory=lambda: array("b"))
    first_bgr: NDArray[np.uint8] | None = None
    last_bgr: NDArray[np.uint8] | None = None
    pictures: dict[int, Pictures] = field(default_factory=dict)  # by pts
    done_s: float = 0.0
    damaged_packets: int = 0
    hwaccel: str | None = None


def scan_range(
    setup: ScanSetup,
    segment: Segment,
    out: RangeScan,
    threads: int,
    *,
    with_pictures: bool,
    until_s: float | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Decode ``segment`` (I and P pictures), analyse every frame into ``out`` and, with
    ``with_pictures``, render the pictures its selection will most likely want.

    ``stop`` set: return at the next frame. ``progress(done_s)``: a few times a second.
    """
    spec = setup.spec
    analysis, thumbs, full = setup.renderers()
    detector = SceneCutDetector.from_spec(spec, setup.fps)
    # Frames the local detector may still report as cuts (it reports up to its
    # look-back late): their pictures are rendered when it does.
    ring: deque[tuple[int, DecodedFrame]] = deque(maxlen=detector.lookback_frames + 1)
    origin = setup.media.start_time_s
    fps = setup.fps
    number = -1
    slot: int | None = None
    first_time: float | None = None
    last_report = time.perf_counter()
    columns = out.columns
    with setup.decoder(threads) as decoder:
        for decoded in decoder.frames(read_ahead=0, start_s=segment.seek_s):
            if stop is not None and stop.is_set():
                return
            if segment.first_pts is not None and decoded.pts < segment.first_pts:
                continue  # before the keyframe this segment starts at
            if segment.stop_pts is not None and decoded.pts >= segment.stop_pts:
                break  # the next segment's first frame
            if first_time is None:
                first_time = decoded.time_s
            if until_s is not None and decoded.time_s - first_time >= until_s:
                break
            bgr, gray = analysis.render(decoded.frame)
            number = max(number + 1, round((decoded.time_s - origin) * fps))
            score, cuts = detector.push(number, bgr)
            if out.first_bgr is None:
                out.first_bgr = bgr
            out.last_bgr = bgr
            columns.add(
                number,
                decoded.time_s,
                decoded.pts,
                decoded.keyframe,
                score,
                perceptual_hash(gray),
                *analysis.luma_stats(gray),
            )
            out.intra.append(1 if decoded.intra else 0)
            if with_pictures:
                # The pictures this frame's selection will most likely want, rendered
                # while the frame is here (any other is decoded again at the end).
                now_slot = (
                    interval_slot(decoded.time_s, origin, spec.interval_s)
                    if spec.interval_s is not None
                    else None
                )
                if len(columns) == 1 or (now_slot is not None and now_slot != slot):
                    out.pictures[decoded.pts] = render_pictures(decoded, thumbs, full, spec.image)
                slot = now_slot
                if detector.may_cut_at(score):
                    ring.append((number, decoded))
                for cut in cuts:
                    hit = next((d for n, d in ring if n >= cut), None)
                    if hit is not None and hit.pts not in out.pictures:
                        out.pictures[hit.pts] = render_pictures(hit, thumbs, full, spec.image)
            out.done_s = decoded.time_s - first_time
            if progress is not None and time.perf_counter() - last_report > 0.25:
                last_report = time.perf_counter()
                progress(out.done_s)
        out.damaged_packets = decoder.counters.damaged_packets
        out.hwaccel = decoder.counters.hwaccel
