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

A video whose keyframes are denser than ``_MIN_KEYFRAME_INTERVAL_S`` (intra-only codecs:
every frame a keyframe) is not scanned: that would be a full decode. Its estimate then
uses the calibration's rate of scene starts per second.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass

import av

from framesift.errors import FramesiftError
from framesift.probe import MediaInfo
from framesift.sample import SamplingPass
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = ["KeyframeScan", "scan_keyframes"]

logger = logging.getLogger(__name__)

_MIN_KEYFRAME_INTERVAL_S = 0.4


@dataclass(frozen=True)
class KeyframeScan:
    """The detector run on one video's keyframes alone."""

    source_url: str
    keyframes: int  # keyframes decoded
    cuts: int  # scene cuts found between them
    cpu_s: float  # what the scan cost, CPU seconds of this process

    def __post_init__(self) -> None:
        if self.keyframes < 1:
            raise ValueError(f"keyframes={self.keyframes}: a scan decodes at least one")


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
    return KeyframeScan(
        source_url=source.shown,
        keyframes=result.analysis.height,
        cuts=max(0, result.scenes.height - 1),
        cpu_s=time.process_time() - started,
    )
