"""What one kept frame of a video costs on disk, measured at points spread over the video.

A collection estimate knows how many frames a video will keep (from its duration and what
the calibration measured), but not what its pictures weigh: a cartoon's thumbnail is a
third of a street scene's, and a video's first seconds (a title, a fade-in) are often
lighter than the rest. So a few frames spread evenly over the whole video are decoded (a
seek to the keyframe before each point, then forward to the first picture at or after it,
B pictures skipped on the way as the fast scan skips them, so reaching a point costs a
third to a half of the pictures before it in its group; at most ``_MAX_SECONDS_PER_POINT``
of video per point: when a point stops short of its time the next one goes on from there),
rendered at the settings' thumbnail size (and full size, when full frames are kept) and
encoded exactly as an ingest encodes a kept frame: their mean encoded size is the video's
bytes per kept frame. Every point is reached: a cap of half a second after the keyframe
(the earlier rule) weighed the start of each group of pictures, which on the trailer's
40-s cut (a keyframe at each cut, scenes opening on fades and titles) said 8.7 KB where
its kept frames weigh 15 KB; reached, 14.6 KB. How many points: :func:`points_for`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
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

_MAX_SECONDS_PER_POINT = 10.0


@dataclass(frozen=True)
class PictureBytes:
    """The encoded size of the pictures of frames spread over one video."""

    source_url: str
    frames: int  # frames measured
    bytes_per_frame: float  # thumbnail, plus the full frame when the settings keep it

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames={self.frames}: a measure needs at least one frame")


def points_for(duration_s: float | None, *, least: int = 16, most: int = 64) -> int:
    """How many points to measure a video at: one per fifteen seconds, ``least`` to
    ``most`` (a ten-minute video: forty, about 5% of its ingest's CPU seconds at 720p)."""
    return max(least, min(most, round((duration_s or 0.0) / 15.0)))


def _points(media: MediaInfo, count: int) -> Iterator[float]:
    """``count`` times spread evenly over the video, each in the middle of its share."""
    duration = media.duration_s or 0.0
    for i in range(count):
        yield media.start_time_s + duration * (i + 0.5) / count


def _spread_frames(
    decoder: VideoDecoder, points: Iterator[float], most: int
) -> Iterator[DecodedFrame]:
    """For each point, the first frame at or after it, found by seeking to the keyframe
    before it and decoding forward; never more than ``most`` frames per point: when that
    stops short (a long group of pictures), the next point goes on from there instead of
    seeking back to the same keyframe."""
    frames: Iterator[DecodedFrame] | None = None
    short = False
    for point in points:
        if frames is None or not short:
            frames = decoder.frames(read_ahead=0, start_s=point)
        last = None
        for n, decoded in enumerate(frames, start=1):
            last = decoded
            if decoded.time_s >= point or n >= most:
                break
        if last is None:
            return
        short = last.time_s < point
        yield last


def measure_picture_bytes(
    source: Source, media: MediaInfo, spec: SamplingSpec, count: int = 16
) -> PictureBytes | None:
    """The mean encoded size of ``count`` frames spread over ``source`` with ``spec``'s
    image settings (None: no duration to spread over, ``count`` < 1, or no frame could be
    reached by seeking; the caller then uses what the calibration measured)."""
    if count < 1 or not media.duration_s:
        return None
    video = media.video
    renderers = make_renderers(video.width, video.height, video.rotation_deg, spec)
    image = spec.image
    sizes: list[int] = []
    seen: set[int] = set()
    most = max(2, round(_MAX_SECONDS_PER_POINT * video.fps))
    references_only = dataclasses.replace(spec.decode, fast=True)  # B pictures skipped
    try:
        with VideoDecoder(source, media, references_only, threads=1) as decoder:
            for frame in _spread_frames(decoder, _points(media, count), most):
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
    return PictureBytes(source.shown, len(sizes), sum(sizes) / len(sizes))
