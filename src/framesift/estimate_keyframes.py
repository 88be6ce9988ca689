"""What a keyframe pass over a whole video tells an estimate: its scene cuts, for a few
percent of a full decode.

The kept frames of an ingest are the interval clock's ticks (known from the duration) and
the scene starts, which differ from video to video: a trailer cuts every few seconds, a
lecture never. Only a full decode finds every cut, but encoders put a keyframe at most
cuts, so the same detector run on the keyframes alone (the ``keyframes`` pass of
:class:`framesift.sample.SamplingPass`, the fast preview mode) counts about as many cuts
(26 against 23 over the eight real clips of the estimate's benchmark, each within three;
benchmarks/RESULTS.md) while decoding one frame in tens. Its pictures are not a fair sample of the
kept frames' weight: keyframes open scenes, often on a fade or a title (the 55-s trailer's
eleven keyframes weighed 8.9 KB a thumbnail, its kept frames 12.0 KB), so the bytes per
kept frame come from frames spread evenly over the video
(:mod:`framesift.estimate_pictures`).

A scene start adds a kept frame only where it falls between the interval clock's ticks:
on a tick, the tick's frame opens the scene (one frame, two reasons). Where the encoder put
a keyframe at a cut, the scan knows the cut's time to the frame, so a cut on a tick counts
no frame (:func:`scene_starts_off_ticks`): a slideshow cut on whole seconds (the portraits
clip: three cuts, none adding a frame) or a synthetic video whose scenes last whole seconds.
A camera move between two keyframes that the scan reads as a cut costs nothing either when
it lands on a tick; elsewhere it counts one frame too many.

A video whose keyframes are denser than ``_MIN_KEYFRAME_INTERVAL_S`` (intra-only codecs:
every frame a keyframe) is not scanned: that would be a full decode. Its estimate then
uses the calibration's rate of scene starts per second.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import av

from framesift.errors import FramesiftError
from framesift.probe import MediaInfo
from framesift.sample import SamplingPass
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = ["KeyframeScan", "scan_keyframes", "scene_starts_off_ticks"]

logger = logging.getLogger(__name__)

_MIN_KEYFRAME_INTERVAL_S = 0.4
_SLACK_S = 1e-6  # a time this close to a tick is on it


@dataclass(frozen=True)
class KeyframeScan:
    """The detector run on one video's keyframes alone."""

    source_url: str
    keyframes: int  # keyframes decoded
    cuts: int  # scene cuts found between them
    cpu_s: float  # what the scan cost, CPU seconds of this process
    start_s: float = 0.0  # the first keyframe's time: where the interval clock starts
    cut_times_s: tuple[float, ...] = ()  # each cut's keyframe: the new scene's first frame
    frame_s: float = 0.04  # one frame's duration
    packets: int = 0  # the video packets of the whole video (the scan reads every one)
    packet_bytes: int = 0  # their bytes

    @property
    def bytes_per_packet(self) -> float | None:
        """The whole video's mean bytes per packet (None: not counted)."""
        return self.packet_bytes / self.packets if self.packets else None

    def __post_init__(self) -> None:
        if self.keyframes < 1:
            raise ValueError(f"keyframes={self.keyframes}: a scan decodes at least one")

    def new_scene_starts(self, interval_s: float | None) -> int:
        """The cuts whose scene start adds a kept frame to the interval clock's ticks."""
        if len(self.cut_times_s) != self.cuts:  # times unknown: every cut counts
            return self.cuts
        return scene_starts_off_ticks(self.cut_times_s, self.start_s, interval_s, self.frame_s)


def scene_starts_off_ticks(
    cut_times_s: Sequence[float], start_s: float, interval_s: float | None, frame_s: float
) -> int:
    """How many of the scenes starting at ``cut_times_s`` start off the ticks of an interval
    clock that counts ``interval_s`` from ``start_s`` (all of them without a clock): a tick
    falls on a frame when it lies within that frame's duration before it (the clock keeps
    the first frame at or after each tick)."""
    if not interval_s:
        return len(cut_times_s)
    off = 0
    for cut in cut_times_s:
        since = cut - start_s + _SLACK_S
        tick = start_s + math.floor(since / interval_s) * interval_s
        if since < 0 or cut - tick >= frame_s - _SLACK_S:
            off += 1
    return off


def scan_keyframes(source: Source, media: MediaInfo, spec: SamplingSpec) -> KeyframeScan | None:
    """Run ``spec``'s detector over the keyframes of ``source`` (None:
    no detector, keyframes too dense to scan cheaply, or the scan failed; the estimate then
    uses the calibration's rates)."""
    interval = media.video.keyframe_interval_s
    if spec.detector is None or interval is None or interval < _MIN_KEYFRAME_INTERVAL_S:
        return None
    scan_spec = dataclasses.replace(
        spec,
        keyframes=True,
        interval_s=None,
        dedup_bits=None,
        representatives_per_scene=0,
        transitions=False,
        decode=dataclasses.replace(spec.decode, fast=False, segments=0),
    )
    started = time.process_time()
    try:
        result = SamplingPass(source, scan_spec, media=media).result()
    except (FramesiftError, av.error.FFmpegError) as exc:
        logger.info("%s: no keyframe scan (%s)", source.shown, exc)
        return None
    if result.analysis.is_empty():
        return None
    starts: list[float] = result.scenes["start_s"].to_list()
    return KeyframeScan(
        source_url=source.shown,
        keyframes=result.analysis.height,
        cuts=max(0, len(starts) - 1),
        cpu_s=time.process_time() - started,
        start_s=float(result.analysis["time_s"].min()),  # type: ignore[arg-type]
        cut_times_s=tuple(starts[1:]),
        frame_s=1.0 / media.video.fps,
        packets=result.stats.packets_read,
        packet_bytes=result.stats.packet_bytes,
    )
