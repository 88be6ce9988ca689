"""One long video cut at keyframes into time ranges that separate processes scan, joined
into the result of one pass.

The fast scan (:mod:`framesift.fastscan`) scans ranges side by side in threads of one
process; a batch splits a long video the same way with each range in a worker of a process
pool or a Dask cluster: :func:`plan_ranges` (where the ranges start), :func:`scan_planned`
(one range, in the worker: a picklable plan in, a :class:`~framesift.fastscan.RangeScan`
out: the range's per-frame analysis, its first and last analysis pictures and the encoded
pictures its selection will most likely keep, a few MB for twenty minutes of video) and
:func:`join_planned` (the ranges as one result: the first frame of each range scored
against the last of the one before, the keep rules run once over the whole analysis, cuts
refined and missing pictures decoded again: :func:`~framesift.fastscan.result_from_ranges`).

A pass that decodes every frame (the streaming pass) splits too: its ranges decode every
frame of their stretch, and the joined analysis, scenes, kept frames and pictures equal the
single pass's (the keep rules replayed on an analysis table give the streaming pass's
selection; :mod:`framesift.analysis`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from framesift.fastscan import FastScanResult, range_count, result_from_ranges
from framesift.fastscan.ranges import RangeScan, Segment, joined_cleanly, plan_segments, scan_range
from framesift.fastscan.setup import ScanSetup
from framesift.images import make_renderers
from framesift.probe import MediaInfo
from framesift.sink import ImageSink
from framesift.source import Source
from framesift.spec import SamplingSpec

__all__ = ["RangePlan", "join_planned", "plan_ranges", "scan_planned"]


@dataclass(frozen=True)
class RangePlan:
    """One video's ranges, as a picklable value each worker scans one range of."""

    setup: ScanSetup
    segments: tuple[Segment, ...]
    threads: int  # decoder threads per range
    with_pictures: bool = True  # render the likely kept pictures while scanning

    @property
    def count(self) -> int:
        return len(self.segments)


def plan_ranges(
    source: Source, media: MediaInfo, spec: SamplingSpec, *, ranges: int, threads: int
) -> RangePlan | None:
    """At most ``ranges`` ranges of the video, split at keyframes; None when it holds
    fewer than two ranges (see :func:`framesift.fastscan.range_count`) or a decoder started
    after a seek does not decode its keyframes exactly."""
    video = media.video
    renderers = functools.partial(
        make_renderers, video.width, video.height, video.rotation_deg, spec
    )
    setup = ScanSetup(source, media, spec, renderers)
    count = range_count(media, ranges)
    if count < 2:
        return None
    with setup.decoder(threads=1) as decoder:
        if not decoder.seeks_cleanly():
            return None
    segments = plan_segments(setup, count)
    if len(segments) < 2:
        return None
    return RangePlan(setup, tuple(segments), max(1, threads))


def scan_planned(plan: RangePlan, number: int) -> RangeScan:
    """Scan range ``number`` of ``plan`` (in a worker); it decodes only that range."""
    out = RangeScan()
    scan_range(
        plan.setup, plan.segments[number], out, plan.threads, with_pictures=plan.with_pictures
    )
    return out


def join_planned(
    plan: RangePlan, scans: Sequence[RangeScan], *, sink: ImageSink | None
) -> FastScanResult | None:
    """The scanned ranges of ``plan`` as one pass's result, pictures put in ``sink``; None
    when a range did not start exactly at its keyframe (decode the video as one)."""
    if not joined_cleanly(list(plan.segments), list(scans)):
        return None
    return result_from_ranges(plan.setup, list(scans), sink=sink, workers=1, threads=plan.threads)
