"""What a media file holds, with each field marked declared (header) or measured.

Headers lie: declared frame counts, sizes and start times can be wrong. ``probe`` reads the
header, then measures what matters by demuxing video packets (no decoding) and decoding one
frame: pixel format, coded size, rotation, frame-rate variability and keyframe spacing.
``MediaInfo.measured`` names the fields that come from measurement.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from typing import Any

import av
import av.container
import av.video.stream

from framesift.errors import NoVideoStreamError, TruncatedMediaError, UnsupportedCodecError
from framesift.limits import DEFAULT_MAX_PIXELS, capped_pictures, check_picture_size
from framesift.source import Source

__all__ = [
    "AudioStreamInfo",
    "MediaInfo",
    "SubtitleStreamInfo",
    "VideoStreamInfo",
    "probe",
]


logger = logging.getLogger(__name__)

DEFAULT_FPS = 25.0  # when a stream declares no frame rate and too little was seen to measure one


@dataclass(frozen=True)
class VideoStreamInfo:
    index: int
    codec: str
    profile: str | None
    pix_fmt: str
    bit_depth: int
    coded_width: int
    coded_height: int
    width: int  # display width: sample aspect ratio and rotation applied
    height: int
    rotation_deg: int  # clockwise rotation applied for display: 0, 90, 180 or 270
    avg_fps: float | None
    nominal_fps: float | None
    vfr: bool | None  # None when too few packets were seen to tell
    frame_count: int | None  # measured when probed fully, else declared (may be wrong)
    frame_count_declared: int | None
    keyframe_interval_s: float | None
    time_base: str
    sample_aspect_ratio: str = "1:1"  # pixel shape; anamorphic video (DVD, DV) is not 1:1

    @property
    def fps(self) -> float:
        """The frame rate to count frames by: measured, else declared, else 25."""
        return float(self.avg_fps or self.nominal_fps or DEFAULT_FPS)


@dataclass(frozen=True)
class AudioStreamInfo:
    index: int
    codec: str
    language: str | None
    sample_rate: int | None
    channels: int | None


@dataclass(frozen=True)
class SubtitleStreamInfo:
    index: int
    codec: str
    language: str | None


@dataclass(frozen=True)
class MediaInfo:
    url: str
    container: str
    size_bytes: int
    duration_s: float | None
    start_time_s: float
    bit_rate: int | None
    video: VideoStreamInfo
    audio: tuple[AudioStreamInfo, ...] = ()
    subtitles: tuple[SubtitleStreamInfo, ...] = ()
    truncated_at_byte: int | None = None
    """Set when the container's index points past the end of the file (cut short):
    the byte the index reaches, larger than ``size_bytes``."""
    measured: frozenset[str] = field(default_factory=frozenset)
    """Names of fields measured from packets or frames; all others are as declared."""

    def to_row(self) -> dict[str, Any]:
        """A flat dict of scalars, for a catalog row or a table display."""
        v = self.video
        return {
            "url": self.url,
            "container": self.container,
            "size_bytes": self.size_bytes,
            "duration_s": self.duration_s,
            "start_time_s": self.start_time_s,
            "bit_rate": self.bit_rate,
            "codec": v.codec,
            "profile": v.profile,
            "pix_fmt": v.pix_fmt,
            "bit_depth": v.bit_depth,
            "coded_width": v.coded_width,
            "coded_height": v.coded_height,
            "width": v.width,
            "height": v.height,
            "rotation_deg": v.rotation_deg,
            "sample_aspect_ratio": v.sample_aspect_ratio,
            "avg_fps": v.avg_fps,
            "nominal_fps": v.nominal_fps,
            "vfr": v.vfr,
            "frame_count": v.frame_count,
            "keyframe_interval_s": v.keyframe_interval_s,
            "truncated": self.truncated_at_byte is not None,
            "audio_codecs": ",".join(a.codec for a in self.audio),
            "subtitle_languages": ",".join(s.language or "und" for s in self.subtitles),
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["measured"] = sorted(self.measured)
        return data


def _fps(rate: Fraction | None) -> float | None:
    if rate is None or rate <= 0:
        return None
    return float(rate)


def clockwise_rotation(frame_rotation: float) -> int:
    """Clockwise display rotation (0/90/180/270) from PyAV's counter-clockwise angle."""
    return round(-frame_rotation / 90.0) % 4 * 90


@dataclass
class _Scan:
    pts: list[int] = field(default_factory=list)  # sorted at the end
    key_pts: list[int] = field(default_factory=list)
    count: int = 0
    first: av.VideoFrame | None = None
    decode_errors: int = 0


def _packet_scan(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    max_packets: int | None,
    check_first: Callable[[av.VideoFrame], None] | None = None,
) -> _Scan:
    """Demux video packets (no seeking: raw streams cannot), decoding only until the first
    frame comes out; the rest are counted, not decoded. ``check_first(frame)`` sees the
    first frame as soon as it is decoded."""
    scan = _Scan()
    try:
        for packet in container.demux(stream):
            if scan.first is None and scan.decode_errors <= 50:
                try:
                    for frame in packet.decode():
                        if isinstance(frame, av.VideoFrame) and scan.first is None:
                            if check_first is not None:
                                check_first(frame)
                            scan.first = frame
                except av.error.InvalidDataError:
                    scan.decode_errors += 1
            if packet.size == 0:
                continue
            scan.count += 1
            if packet.pts is not None:
                scan.pts.append(packet.pts)
                if packet.is_keyframe:
                    scan.key_pts.append(packet.pts)
            if max_packets is not None and scan.count >= max_packets and scan.first is not None:
                break
    except av.error.FFmpegError as exc:
        logger.warning("demuxing stopped early after %d packets: %s", scan.count, exc)
    if scan.first is None:
        # Frames held back by the decoder (reordering delay) come out on flush.
        try:
            for frame in stream.codec_context.decode(None):
                if isinstance(frame, av.VideoFrame):
                    scan.first = frame
                    break
        except av.error.FFmpegError:
            pass
    scan.pts.sort()
    scan.key_pts.sort()
    return scan


def probe(
    url: str | Source,
    storage_options: Mapping[str, Any] | None = None,
    *,
    full: bool = False,
    scan_packets: int = 1000,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
) -> MediaInfo:
    """Describe the media at ``url``.

    ``full=True`` demuxes every video packet, so ``frame_count`` and ``duration_s`` are
    measured rather than declared; otherwise the first ``scan_packets`` are measured.
    ``max_pixels``: MediaLimitError for larger pictures, checked on the stream's header
    before any decoding and again on the first decoded picture (None: no limit).
    """
    source = Source.of(url, storage_options)
    size = source.size_bytes()
    with source.open_container(**capped_pictures(max_pixels)) as container:
        stream = _video_stream(source, container)
        ctx = stream.codec_context
        check_picture_size(source.shown, ctx.width, ctx.height, max_pixels)
        # Packets tell frame timing and keyframe spacing; one decoded frame tells the true
        # pixel format, coded size and rotation.
        scan = _packet_scan(
            container,
            stream,
            None if full else scan_packets,
            lambda f: check_picture_size(source.shown, f.width, f.height, max_pixels),
        )
        if scan.first is None:
            raise TruncatedMediaError(source.shown, "no decodable video frame")
        measured: set[str] = set()
        timing = _measure_timing(container, stream, scan, full, measured)
        truncated_at = _index_end(stream)
        if truncated_at is not None:
            measured.add("truncated_at_byte")
            truncated_at = truncated_at if truncated_at > size else None
        video = _video_info(stream, scan.first, timing, measured)
        duration_s = timing.duration_s
        return MediaInfo(
            url=source.shown,
            container=container.format.name,
            size_bytes=size,
            duration_s=duration_s if duration_s is None or math.isfinite(duration_s) else None,
            start_time_s=timing.start_time_s,
            bit_rate=container.bit_rate or None,
            video=video,
            audio=_audio_streams(container),
            subtitles=_subtitle_streams(container),
            truncated_at_byte=truncated_at,
            measured=frozenset(measured),
        )


def _video_stream(
    source: Source, container: av.container.InputContainer
) -> av.video.stream.VideoStream:
    """The first video stream, if FFmpeg knows its codec."""
    if not container.streams.video:
        raise NoVideoStreamError(source.shown, "has no video stream")
    stream = container.streams.video[0]
    codec = stream.codec_context.codec
    if codec is None or not codec.name:
        raise UnsupportedCodecError(source.shown, "video codec unknown to this FFmpeg build")
    return stream


@dataclass(frozen=True)
class _Timing:
    """What the packet scan (and the header, where it had to) says about time."""

    avg_fps: float | None
    vfr: bool | None
    keyframe_interval_s: float | None
    frame_count: int | None
    duration_s: float | None
    start_time_s: float


def _measure_timing(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    scan: _Scan,
    full: bool,
    measured: set[str],
) -> _Timing:
    """Frame rate, its variability, keyframe spacing, frame count, duration and start
    time: measured from packet times where enough were seen, else as declared. The names
    of measured fields are added to ``measured``."""
    time_base = stream.time_base or Fraction(1, 90000)
    pts = scan.pts
    avg_fps, vfr = _frame_rate(pts, time_base, _fps(stream.average_rate), measured)
    keyframe_interval_s = _keyframe_interval_s(pts, scan.key_pts, time_base, measured)
    frame_count = stream.frames or None
    duration_s = (
        float(container.duration) / av.time_base if container.duration is not None else None
    )
    start_time_s = (
        float(stream.start_time * time_base)
        if stream.start_time is not None
        else float(container.start_time or 0) / av.time_base
    )
    if full and pts:
        frame_count = scan.count
        measured.add("frame_count")
        last_step = (pts[-1] - pts[-2]) if len(pts) >= 2 else 0
        duration_s = float((pts[-1] - pts[0] + last_step) * time_base)
        start_time_s = float(pts[0] * time_base)
        measured |= {"duration_s", "start_time_s"}
        if len(pts) >= 2:
            avg_fps = (len(pts) - 1) / float((pts[-1] - pts[0]) * time_base) or avg_fps
            measured.add("avg_fps")
    elif pts and abs(float(pts[0] * time_base) - start_time_s) > 1e-3:
        # The header's start time disagrees with the first packet: trust the packet.
        start_time_s = float(pts[0] * time_base)
        measured.add("start_time_s")
    return _Timing(avg_fps, vfr, keyframe_interval_s, frame_count, duration_s, start_time_s)


def _frame_rate(
    pts: list[int], time_base: Fraction, avg_fps: float | None, measured: set[str]
) -> tuple[float | None, bool | None]:
    """(average frame rate, variable?) from the packet times: the declared rate is kept
    when there is one; variability is None when too few packets were seen to tell."""
    if len(pts) < 3:
        return avg_fps, None
    deltas = sorted(b - a for a, b in itertools.pairwise(pts) if b > a)
    if not deltas:
        return avg_fps, None
    # Frame durations off the median by more than half of it, in more than a few places
    # (a partial window can end on a reordering gap): variable rate.
    median = deltas[len(deltas) // 2]
    off = sum(1 for d in deltas if abs(d - median) > median / 2 + 1)
    measured.add("vfr")
    if avg_fps is None and median > 0:
        avg_fps = 1.0 / float(median * time_base)
        measured.add("avg_fps")
    return avg_fps, off > max(2, len(deltas) // 50)


def _keyframe_interval_s(
    pts: list[int], key_pts: list[int], time_base: Fraction, measured: set[str]
) -> float | None:
    """Mean spacing of the keyframes seen, in seconds (None with none seen)."""
    if len(key_pts) >= 2:
        measured.add("keyframe_interval_s")
        return float((key_pts[-1] - key_pts[0]) * time_base / (len(key_pts) - 1))
    if key_pts and len(pts) >= 2:
        # One keyframe in the window: the spacing is at least the window's span.
        measured.add("keyframe_interval_s")
        return float((pts[-1] - pts[0]) * time_base)
    return None


def _video_info(
    stream: av.video.stream.VideoStream,
    first: av.VideoFrame,
    timing: _Timing,
    measured: set[str],
) -> VideoStreamInfo:
    """The video stream's description: picture facts from its first decoded frame, timing
    from the scan."""
    measured |= {"pix_fmt", "coded_width", "coded_height", "rotation_deg", "sample_aspect_ratio"}
    rotation = clockwise_rotation(first.rotation)
    coded_w, coded_h = first.width, first.height
    # Non-square pixels (anamorphic DVD, DV, broadcast): shown wider or narrower than
    # coded, as players do (and ffmpeg's scale=iw*sar:ih): the width follows the ratio.
    ctx = stream.codec_context
    sar = ctx.sample_aspect_ratio or stream.sample_aspect_ratio
    sar = sar if sar is not None and sar > 0 else Fraction(1)
    shown_w = coded_w if sar == 1 else max(2, round(coded_w * sar / 2) * 2)
    disp_w, disp_h = (coded_h, shown_w) if rotation in (90, 270) else (shown_w, coded_h)
    return VideoStreamInfo(
        index=stream.index,
        codec=ctx.codec.name,
        profile=stream.profile,
        pix_fmt=first.format.name,
        bit_depth=_bit_depth(first.format),
        coded_width=coded_w,
        coded_height=coded_h,
        width=disp_w,
        height=disp_h,
        rotation_deg=rotation,
        avg_fps=timing.avg_fps,
        nominal_fps=_fps(stream.guessed_rate or stream.base_rate),
        vfr=timing.vfr,
        frame_count=timing.frame_count,
        frame_count_declared=stream.frames or None,
        keyframe_interval_s=timing.keyframe_interval_s,
        time_base=str(stream.time_base or Fraction(1, 90000)),
        sample_aspect_ratio=f"{sar.numerator}:{sar.denominator}",
    )


def _audio_streams(container: av.container.InputContainer) -> tuple[AudioStreamInfo, ...]:
    return tuple(
        AudioStreamInfo(
            index=a.index,
            codec=a.codec_context.name,
            language=a.language,
            sample_rate=a.codec_context.sample_rate or None,
            channels=a.codec_context.channels or None,
        )
        for a in container.streams.audio
    )


def _subtitle_streams(container: av.container.InputContainer) -> tuple[SubtitleStreamInfo, ...]:
    return tuple(
        SubtitleStreamInfo(index=s.index, codec=s.codec_context.name, language=s.language)
        for s in container.streams.subtitles
    )


def _index_end(stream: av.video.stream.VideoStream) -> int | None:
    """The furthest byte the container's index (mp4 sample table, mkv cues) refers to."""
    try:
        entries = stream.index_entries
        count = len(entries)
    except (AttributeError, av.error.FFmpegError):
        return None
    if not count:
        return None
    tail = (entries[i] for i in range(max(0, count - 64), count))
    return max(entry.pos + entry.size for entry in tail)


def _bit_depth(fmt: av.VideoFormat) -> int:
    components = fmt.components
    return max((c.bits for c in components), default=8) if components else 8
