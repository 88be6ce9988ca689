"""One decode pass over the video stream with PyAV.

Only the video stream is demuxed. Each frame's time is its pts x time_base (variable frame
rate stays exact, a non-zero start time is kept). Frame threading is on. A damaged packet is
counted and logged, never fatal while later packets still decode. Keyframes-only decoding
hands the decoder keyframe packets only; ``fast`` decoding skips the pictures nothing
predicts from (``skip_frame=NONREF``: those left decode exactly). Hardware decoding is tried
when asked for (or on ``auto``) and falls back to software silently.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import av.container
import av.video.stream
from av.codec.hwaccel import HWAccel, hwdevices_available

from framesift.errors import TruncatedMediaError, UnsupportedCodecError
from framesift.limits import (
    Deadline,
    capped_pictures,
    check_picture_size,
    picture_bytes,
    pictures_within,
)
from framesift.probe import MediaInfo
from framesift.readahead import ReadAhead
from framesift.source import Source
from framesift.spec import DecodeSpec

__all__ = ["DecodeCounters", "DecodedFrame", "VideoDecoder", "default_decode_threads"]

logger = logging.getLogger(__name__)

_HW_PREFERENCE = ("cuda", "videotoolbox", "vaapi", "qsv", "d3d11va")
_MAX_CONSECUTIVE_ERRORS = 500
_INTRA = 1  # AVPictureType I


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    index: int  # position among the frames this pass decoded, in presentation order
    pts: int
    time_s: float
    keyframe: bool
    frame: av.VideoFrame
    intra: bool = False  # an I picture (keyframes are intra; not every intra is a keyframe)


@dataclass
class DecodeCounters:
    """Running counts of one pass (mutable while the pass runs)."""

    frames_decoded: int = 0
    damaged_packets: int = 0
    hwaccel: str | None = None
    packets_read: int = 0  # the video stream's packets the pass read, decoded or skipped
    packet_bytes: int = 0  # their bytes: what decoding them costs follows them


def default_decode_threads() -> int:
    """Frame threads for the decoder: four more than cores, at most 16.

    Frame threads wait on each other (a frame needs the rows of the frames it references),
    and framesift's analysis thread takes its turn on a core while they run: a few frames
    more in flight than cores keeps every core busy. On the 2-core benchmark machine the
    one pass took 6.6 s with 6 threads against 7.3 s with 2 and 6.9 s with 4 (a 2-minute
    1080p excerpt; FFmpeg's own decode alone is no faster with 6 than with 2).
    """
    return min(16, (os.cpu_count() or 2) + 4)


def _hwaccel_candidates(choice: str) -> list[str]:
    if choice == "none":
        return []
    available = set(hwdevices_available())
    if choice == "auto":
        return [name for name in _HW_PREFERENCE if name in available]
    return [choice] if choice in available else []


class VideoDecoder:
    """Decodes the first video stream of ``source`` once, frame by frame.

    ``source`` is a :class:`~framesift.source.Source`, or a URL reached with
    ``storage_options``.

    Use as a context manager; iterate ``frames()`` for every frame in presentation order,
    or ``frames_at(times_s)`` to seek to each time (for sparse sampling of long-GOP files).
    """

    def __init__(
        self,
        source: Source | str,
        media: MediaInfo,
        spec: DecodeSpec,
        *,
        keyframes_only: bool = False,
        storage_options: Mapping[str, Any] | None = None,
        threads: int | None = None,
    ) -> None:
        self.source = Source.of(source, storage_options)
        self._threads = threads
        self._deadline = Deadline(self.source.shown, spec.limits.max_video_s)
        self.media = media
        self.spec = spec
        self.keyframes_only = keyframes_only
        self.counters = DecodeCounters()
        self._stack = ExitStack()
        self._container: av.container.InputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None
        self._reader: ReadAhead[DecodedFrame] | None = None

    def __enter__(self) -> VideoDecoder:
        self._container = self._open()
        stream = self._container.streams.video[0]
        self._stream = stream
        ctx = stream.codec_context
        stream.thread_type = "AUTO"
        threads = self._threads or self.spec.threads
        stream.thread_count = threads or self.within_budget(default_decode_threads())
        if self.keyframes_only:
            ctx.skip_frame = "NONKEY"
        elif self.spec.fast:
            # Skip the pictures nothing predicts from: those that remain decode exactly as
            # in a full decode, so their scores are exact too. Skipping every B picture
            # ("BIDIR") does not: where B pictures are references (x264's B-pyramid) the
            # pictures after them come out damaged (314 of 441 on a real trailer).
            ctx.skip_frame = "NONREF"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.stop()  # the reading thread must be done with the container
        self._stack.close()

    def _open(self) -> av.container.InputContainer:
        limit = capped_pictures(self.spec.limits.max_pixels)
        for device in _hwaccel_candidates(self.spec.hwaccel):
            attempt = ExitStack()
            try:
                container = attempt.enter_context(
                    self.source.open_container(
                        hwaccel=HWAccel(device_type=device, allow_software_fallback=True),
                        **limit,
                    )
                )
            except (av.error.FFmpegError, RuntimeError, ValueError) as exc:
                attempt.close()
                logger.debug("hardware decoding with %s unavailable: %s", device, exc)
                continue
            if container.streams.video and container.streams.video[0].codec_context.is_hwaccel:
                self.counters.hwaccel = device
                self._stack.enter_context(attempt)
                return container
            attempt.close()  # FFmpeg fell back to software: open plainly below
        return self._stack.enter_context(self.source.open_container(**limit))

    @property
    def stream(self) -> av.video.stream.VideoStream:
        assert self._stream is not None, "use VideoDecoder as a context manager"
        return self._stream

    def within_budget(self, wanted: int) -> int:
        """``wanted`` pictures in flight, fewer if over ``limits.decode_memory_mb``."""
        video = self.media.video
        one = picture_bytes(video.coded_width, video.coded_height, video.bit_depth)
        return pictures_within(self.spec.limits.decode_memory_mb, one, wanted)

    @property
    def time_base(self) -> Fraction:
        return self.stream.time_base or Fraction(1, 90000)

    def _packets(self) -> Iterator[av.Packet]:  # type: ignore[type-arg]
        assert self._container is not None
        try:
            for packet in self._container.demux(self.stream):
                self._deadline.check()
                yield packet
        except av.error.FFmpegError as exc:
            # A demuxer error mid-file (cut short, garbage): keep what was decoded.
            self.counters.damaged_packets += 1
            logger.warning("%s: demuxing stopped early: %s", self.source.shown, exc)

    def _packets_before(self, horizon: list[float]) -> Iterator[av.Packet]:  # type: ignore[type-arg]
        """The demuxed packets until one is decoded ``horizon[1]`` seconds or more after
        ``horizon[0]`` (once set: the first frame's time), then an empty packet that drains
        the decoder. A picture shown before the horizon is decoded before it (decoding
        time <= presentation time, compared as the pass compares presentation times), so
        every one of them comes out; without a decoding time the presentation time stands
        in."""
        time_base = self.time_base
        for packet in self._packets():
            if horizon:
                at = packet.dts if packet.dts is not None else packet.pts
                if at is not None and float(at * time_base) - horizon[0] >= horizon[1]:
                    drain = av.Packet()
                    drain.stream = self.stream
                    yield drain
                    return
            yield packet

    def seeks_cleanly(self) -> bool:
        """Whether decoding from a keyframe reached by seeking gives intact pictures.

        Some files hold keyframes a decoder cannot start from (FFmpeg conceals the damage
        and flags the frames corrupt: on one camera clip every picture after a seek came
        out green). Seeks once to the middle and looks at the first frame; then the
        decoder must be seeked again before use.
        """
        duration = self.media.duration_s
        if not duration:
            return True
        try:
            self._seek(self.media.start_time_s + duration / 2)
        except av.error.FFmpegError:
            return False
        for decoded in self._decode_from_here():
            return not decoded.frame.is_corrupt
        return True

    def seek_keyframe(self, time_s: float) -> int | None:
        """Seek to the keyframe at or before ``time_s`` and return its pts (None: no
        keyframe packet follows). ``frames(start_s=time_s)`` starts at the same keyframe:
        both make the same seek call, so they land alike on any demuxer."""
        self._seek(time_s)
        for packet in self._packets():
            if packet.is_keyframe and packet.pts is not None:
                return int(packet.pts)
        return None

    def _seek(self, time_s: float) -> None:
        assert self._container is not None
        self._container.seek(int(time_s / self.time_base), stream=self.stream, backward=True)

    def frames(
        self, *, read_ahead: int = 8, start_s: float | None = None, for_s: float | None = None
    ) -> Iterator[DecodedFrame]:
        """Every frame the decoder outputs, in presentation order.

        ``index`` counts frames; when the decoder skips frames (keyframes only, fast) it is
        the frame's position estimated from its time instead. With ``read_ahead`` > 0 a
        thread keeps up to that many decoded frames ready, so decoding goes on while the
        caller analyses a frame (memory: that many frames, whatever the video's length).
        ``start_s``: seek first to the keyframe at or before that time (see
        :meth:`seek_keyframe`); indices then count from there. ``for_s``: only the frames
        less than that many seconds after the first are wanted: no packet decoded at or
        past that time is sent, and the decoder is drained there (a few frames past it
        come out, those decoded before their time), so a caller that stops there leaves
        no read-ahead nor pictures in the frame threads decoded for nothing.
        """
        if start_s is not None:
            self._seek(start_s)
        if read_ahead <= 0:
            yield from self._frames(for_s)
            return
        reader = ReadAhead(self._frames(for_s), self.within_budget(read_ahead))
        self._reader = reader
        try:
            yield from reader
        finally:
            reader.stop()
            self._reader = None

    def _frames(self, for_s: float | None = None) -> Iterator[DecodedFrame]:
        shown = self.source.shown
        time_base = self.time_base
        tb_num, tb_den = time_base.numerator, time_base.denominator
        index = 0
        consecutive_errors = 0
        last_pts: int | None = None
        # Keyframes-only and fast decoding skip frames: positions are estimated from time
        # at the average frame rate (exact for constant frame rate).
        estimate_index = self.keyframes_only or self.spec.fast
        fps = self.media.video.fps
        origin: float | None = None
        position = -1
        horizon: list[float] = []  # (the first frame's time, for_s), set at the first frame
        counters = self.counters
        for packet in self._packets_before(horizon):
            if packet.size:
                counters.packets_read += 1
                counters.packet_bytes += packet.size
            if self.keyframes_only and packet.size and not packet.is_keyframe:
                # Not even handed to the decoder: skip_frame=NONKEY still parses each one
                # (10-minute 1080p clip: 2.60 s for its 149 keyframes, 1.09 s without).
                continue
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError as exc:
                self.counters.damaged_packets += 1
                consecutive_errors += 1
                logger.warning("%s: damaged packet at pts %s skipped: %s", shown, packet.pts, exc)
                if consecutive_errors > _MAX_CONSECUTIVE_ERRORS:
                    break
                continue
            except av.error.FFmpegError as exc:
                if index == 0:
                    raise UnsupportedCodecError(shown, f"cannot decode video: {exc}") from exc
                self.counters.damaged_packets += 1
                logger.warning("%s: decoder error at pts %s: %s", shown, packet.pts, exc)
                continue
            consecutive_errors = 0
            for frame in decoded:
                assert isinstance(frame, av.VideoFrame)
                if index == 0:  # headers lie: the picture as decoded
                    check_picture_size(
                        shown, frame.width, frame.height, self.spec.limits.max_pixels
                    )
                pts = frame.pts
                if pts is None:
                    # No timestamp from the container: continue from the last one.
                    step = int(1 / (self.media.video.fps * time_base))
                    pts = (last_pts + step) if last_pts is not None else 0
                last_pts = pts
                # pts x time_base, correctly rounded as float(Fraction) rounds it (an int
                # ratio is), without a Fraction per frame (~4 us each)
                time_s = (pts * tb_num) / tb_den
                if estimate_index:
                    # Frames were skipped by the decoder: the position comes from time.
                    if origin is None:
                        origin = time_s
                    position = max(position + 1, round((time_s - origin) * fps))
                else:
                    position = index
                if for_s is not None and not horizon:
                    horizon.extend((time_s, for_s))
                yield DecodedFrame(
                    index=position,
                    pts=pts,
                    time_s=time_s,
                    keyframe=bool(frame.key_frame),
                    frame=frame,
                    intra=frame.pict_type == _INTRA,
                )
                index += 1
                self.counters.frames_decoded = index
        if index == 0:
            raise TruncatedMediaError(shown, "no video frame could be decoded")

    def frames_at(self, times_s: Iterator[float]) -> Iterator[DecodedFrame]:
        """For each requested time, the first frame at or after it, found by seeking.

        Frame indices are estimated from time (frames between seek points are not decoded).
        """
        assert self._container is not None
        shown = self.source.shown
        time_base = self.time_base
        fps = self.media.video.fps
        start = self.media.start_time_s
        last_pts: int | None = None
        found = 0
        for target in times_s:
            target_pts = int(target / time_base)
            if last_pts is not None and last_pts >= target_pts:
                continue
            try:
                self._container.seek(target_pts, stream=self.stream, backward=True)
            except av.error.FFmpegError as exc:
                logger.warning("%s: seek to %.3f s failed: %s", shown, target, exc)
                break
            hit = None
            for decoded in self._decode_from_here():
                if decoded.pts >= target_pts:
                    hit = decoded
                    break
            if hit is None:
                break
            last_pts = hit.pts
            found += 1
            self.counters.frames_decoded = found
            yield DecodedFrame(
                index=round((hit.time_s - start) * fps),
                pts=hit.pts,
                time_s=hit.time_s,
                keyframe=hit.keyframe,
                frame=hit.frame,
            )
        if found == 0:
            raise TruncatedMediaError(shown, "no video frame could be decoded")

    def frames_from(
        self,
        time_s: float,
        *,
        references_only_before: bool = False,
        from_start: bool = False,
    ) -> Iterator[DecodedFrame]:
        """Every frame from the one shown at ``time_s`` on (seeks to the keyframe before
        it and decodes forward); indices are -1.

        ``references_only_before``: until the packets reach ``time_s`` the decoder skips
        the pictures nothing predicts from, as the fast pass does (the pictures that the
        frames from ``time_s`` on predict from still decode exactly); from there on it
        decodes all. (Skipping every B picture would be faster, but where B pictures are
        references too, as in x264's B-pyramid, the pictures after them come out damaged.)
        ``from_start``: decode from the start of the file instead of seeking (for files
        that do not seek cleanly, see :meth:`seeks_cleanly`).
        """
        assert self._container is not None
        target = int(time_s / self.time_base)
        if from_start:
            self._container_seek_start()
        else:
            self._container.seek(target, stream=self.stream, backward=True)
        context = self.stream.codec_context
        previous = context.skip_frame
        context.skip_frame = "NONREF" if references_only_before else "DEFAULT"
        try:
            for decoded in self._decode_from_here(full_from_pts=target):
                if decoded.pts >= target:
                    yield decoded
        finally:
            context.skip_frame = previous

    def frames_spanning(
        self,
        first_pts: int,
        last_pts: int,
        *,
        seek_times_s: Iterable[float] = (),
        seek: bool = True,
    ) -> Iterator[DecodedFrame]:
        """The frames the decoder outputs with ``first_pts <= pts <= last_pts`` (with its
        skip setting: a fast decoder gives I and P pictures only); indices are -1.

        The decode must start at a keyframe at or before ``first_pts``. Demuxers index
        keyframes by their own timestamps (MP4 by decode time, shifted by edit lists), so
        a seek to a frame's own pts can land a GOP early or, rarely, late: each of
        ``seek_times_s`` is tried first (the caller's best guesses), then ``first_pts``
        itself, then the start of the file, keeping the first that lands early enough.
        ``seek=False`` decodes from the start of the file (see :meth:`seeks_cleanly`).
        """
        time_base = self.time_base
        tries = [*seek_times_s, float(first_pts * time_base), None] if seek else [None]
        for seek_s in tries:
            if seek_s is None:
                self._container_seek_start()
            else:
                self._seek(seek_s)
            frames = self._decode_from_here()
            first = next(frames, None)
            if first is None or first.pts > first_pts:
                continue  # landed after the first frame wanted: seek earlier
            for decoded in itertools.chain((first,), frames):
                if decoded.pts > last_pts:
                    return
                if decoded.pts >= first_pts:
                    yield decoded
            return

    def _container_seek_start(self) -> None:
        assert self._container is not None
        try:
            self._container.seek(0, backward=True)
        except av.error.FFmpegError:  # no keyframe at or before 0 (a later start time)
            self._container.seek(0, backward=False)

    def _decode_from_here(self, *, full_from_pts: int | None = None) -> Iterator[DecodedFrame]:
        time_base = self.time_base
        context = self.stream.codec_context
        for packet in self._packets():
            if (
                full_from_pts is not None
                and packet.pts is not None
                and packet.pts > full_from_pts
                and context.skip_frame != "DEFAULT"
            ):
                context.skip_frame = "DEFAULT"  # the stretch itself: every picture
            try:
                decoded = packet.decode()
            except av.error.InvalidDataError:
                self.counters.damaged_packets += 1
                continue
            for frame in decoded:
                assert isinstance(frame, av.VideoFrame)
                if frame.pts is None:
                    continue
                yield DecodedFrame(
                    index=-1,
                    pts=frame.pts,
                    time_s=float(frame.pts * time_base),
                    keyframe=bool(frame.key_frame),
                    frame=frame,
                )
