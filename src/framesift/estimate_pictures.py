"""What one kept frame of a video costs on disk, measured at points spread over the video.

A collection estimate knows how many frames a video will keep (from its duration and what
the calibration measured), but not what its pictures weigh: a cartoon's thumbnail is a
third of a street scene's, and a video's first seconds (a title, a fade-in) are often
lighter than the rest. So a few frames spread evenly over the whole video are decoded (a
seek to the keyframe before each point, then forward to the frame shown at it, the
pictures that nothing predicts from skipped on the way, so reaching a point costs about
half of a full decode of the pictures before it in its group), rendered at the settings'
thumbnail size (and full size, when full frames are kept) and encoded exactly as an
ingest encodes a kept frame: their mean encoded size is the video's bytes per kept frame.

Every point is reached, and the frame there is the one shown at it, decoded exactly: a cap
of half a second after the keyframe (the first rule) weighed the start of each group of
pictures (on the trailer's 40-s cut, 8.7 KB where its kept frames weigh 15 KB); every B
picture skipped on the way (the second rule) left the point's picture slightly off where
B pictures are references too (measured at every tick, the 55-s trailer's thumbnails came
out 1.9% heavy, the synthetic patterns clip's 3.0%; exact now, at about twice the cost).
With an interval clock the points are its ticks, where the ingest keeps its frames: every
tick of a short video (the weight then equals its kept ticks'), ticks spread evenly over a
long one (16 points in the middle of equal shares of the synthetic patterns clip put 4 in
its noise scene, which holds 4 of its 20 kept frames). How many points: :func:`points_for`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import av

from framesift.decode import DecodedFrame, VideoDecoder
from framesift.errors import FramesiftError
from framesift.images import encode_image, make_renderers
from framesift.probe import MediaInfo
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = ["PictureBytes", "measure_picture_bytes", "points_for"]

logger = logging.getLogger(__name__)

_SLACK_S = 1e-6  # a frame this close before a point is at it


@dataclass(frozen=True)
class PictureBytes:
    """The encoded size of the pictures of frames spread over one video."""

    source_url: str
    frames: int  # frames measured
    bytes_per_frame: float  # thumbnail, plus the full frame when the settings keep it
    error_bytes: float = 0.0
    """The standard error of ``bytes_per_frame``: the sizes' spread over the square root
    of the frames measured, less the share of the video's ticks (or frames) they were."""

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames={self.frames}: a measure needs at least one frame")


def points_for(duration_s: float | None, *, least: int = 32, most: int = 48) -> int:
    """How many points to measure a video at: one per twenty seconds, ``least`` to
    ``most`` (with a one-second interval, every tick of a video up to 32 s). Fewer points
    are a sampling error: on the ten-minute 1080p benchmark clip, 20 points weighed a kept
    frame 10.8% light, 32 points 1.8% (about 6% of its ingest's CPU seconds); on the 55-s
    trailer, 16 of its 56 ticks spread evenly were within 6.4% (one standard deviation
    over the ticks' phases), 32 within 2.5%."""
    return max(least, min(most, round((duration_s or 0.0) / 20.0)))


def _points(media: MediaInfo, count: int, interval_s: float | None) -> Iterator[float]:
    """``count`` times spread evenly over the video. With an interval clock, ticks of it:
    every tick when there are no more than ``count`` (the very frames the clock keeps),
    else ``count`` of them spread evenly; without, the middle of each of ``count`` equal
    shares."""
    duration = media.duration_s or 0.0
    if interval_s:
        ticks = max(1, math.ceil(duration / interval_s - _SLACK_S))
        for i in range(min(count, ticks)):
            tick = i if count >= ticks else math.floor((i + 0.5) * ticks / count)
            yield media.start_time_s + tick * interval_s - _SLACK_S
        return
    for i in range(count):
        yield media.start_time_s + duration * (i + 0.5) / count


def _spread_frames(decoder: VideoDecoder, points: Iterator[float]) -> Iterator[DecodedFrame]:
    """For each point, the first frame shown at or after it: a seek to the keyframe before
    it, the pictures up to the point that others predict from (those nothing predicts
    from skipped), then every picture, so the frame found is the one the ingest keeps
    there, decoded exactly as the ingest decodes it."""
    for point in points:
        frames = decoder.frames_from(point, references_only_before=True)
        hit = next(iter(frames), None)
        if isinstance(frames, Generator):
            frames.close()  # the decoder's skip setting back before the next seek
        if hit is None:
            return
        yield hit


def measure_picture_bytes(
    source: Source, media: MediaInfo, spec: SamplingSpec, count: int = 16
) -> PictureBytes | None:
    """The mean encoded size of ``count`` frames spread over ``source`` (at the ticks of
    ``spec``'s interval clock, when it has one) with ``spec``'s image settings (None: no
    duration to spread over, ``count`` < 1, or no frame could be reached by seeking; the
    caller then uses what the calibration measured)."""
    if count < 1 or not media.duration_s:
        return None
    video = media.video
    renderers = make_renderers(video.width, video.height, video.rotation_deg, spec)
    image = spec.image
    sizes: list[int] = []
    seen: set[int] = set()
    every_picture = dataclasses.replace(spec.decode, fast=False)
    try:
        with VideoDecoder(source, media, every_picture, threads=1) as decoder:
            for frame in _spread_frames(decoder, _points(media, count, spec.interval_s)):
                if frame.pts in seen or frame.frame.is_corrupt:
                    continue  # the same frame again (one group of pictures), or damaged
                seen.add(frame.pts)
                thumb = renderers.thumbnail.render(frame.frame)
                size = len(encode_image(thumb, image.format, image.quality))
                if image.full_frames:
                    full = renderers.full.render(frame.frame)
                    size += len(encode_image(full, image.full_format, image.quality))
                sizes.append(size)
    except (FramesiftError, av.error.FFmpegError) as exc:
        logger.info("%s: no picture sizes measured (%s)", source.shown, exc)
    if not sizes:
        return None
    mean = sum(sizes) / len(sizes)
    error = 0.0
    if len(sizes) > 1:
        spread = math.sqrt(sum((x - mean) ** 2 for x in sizes) / (len(sizes) - 1))
        step = spec.interval_s or 1.0 / video.fps
        population = max(len(sizes), math.ceil(media.duration_s / step - _SLACK_S))
        error = spread / math.sqrt(len(sizes)) * math.sqrt(1.0 - len(sizes) / population)
    return PictureBytes(source.shown, len(sizes), mean, error)
