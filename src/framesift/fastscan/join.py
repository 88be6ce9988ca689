"""Joining scanned ranges into one analysis, as one pass over the whole video makes it.

The first frame of each range is scored against the last frame of the one before (its own
detector had nothing before it), and the frames are numbered as one pass numbers them:
from time over the skipped stream of a fast pass, by position when every frame was
decoded (a long video split across workers without fast decoding). The result feeds the keep rules
(:func:`framesift.analysis.reselect`) like any pass's analysis table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from framesift.errors import TruncatedMediaError
from framesift.fastscan.pictures import Pictures
from framesift.fastscan.ranges import RangeScan
from framesift.fastscan.setup import ScanSetup
from framesift.scenes import SceneCutDetector
from framesift.schema import ANALYSIS_SCHEMA

__all__ = ["JoinedRanges", "join_ranges"]


@dataclass(frozen=True)
class JoinedRanges:
    """The ranges of one video as one: its analysis table and what the later steps need."""

    analysis: pl.DataFrame  # ANALYSIS_SCHEMA, I and P pictures only
    index: list[int]  # frame_index, per row
    times: list[float]
    pts: list[int]
    intra: list[bool]
    pictures: dict[int, Pictures]  # by pts
    damaged_packets: int
    hwaccel: str | None


def join_ranges(setup: ScanSetup, scans: Sequence[RangeScan]) -> JoinedRanges:
    """One analysis from the scans of consecutive ranges (in order)."""
    pts = [p for s in scans for p in s.columns.pts]
    if not pts:
        raise TruncatedMediaError(setup.source.shown, "no video frame could be decoded")
    times = [t for s in scans for t in s.columns.time_s]
    scores = [x for s in scans for x in s.columns.score]
    offset = 0
    for before, after in itertools.pairwise(scans):
        offset += len(before.columns)
        if before.last_bgr is not None and after.first_bgr is not None:
            scorer = SceneCutDetector.from_spec(setup.spec, setup.fps)
            scorer.push(0, before.last_bgr)
            scores[offset] = scorer.push(1, after.first_bgr)[0]
    index = _numbers(times, setup.fps, every_frame=not setup.spec.decode.fast)
    analysis = pl.DataFrame(
        {
            "frame_index": index,
            "time_s": times,
            "pts": pts,
            "keyframe": [bool(x) for s in scans for x in s.columns.keyframe],
            "score": scores,
            "luma": [x for s in scans for x in s.columns.luma],
            "phash": [x for s in scans for x in s.columns.phash],
            "contrast": [x for s in scans for x in s.columns.contrast],
        },
        schema=ANALYSIS_SCHEMA,
    ).with_columns(pl.col("contrast").fill_nan(None))
    pictures: dict[int, Pictures] = {}
    for scan in scans:
        pictures.update(scan.pictures)
    return JoinedRanges(
        analysis=analysis,
        index=index,
        times=times,
        pts=pts,
        intra=[bool(x) for s in scans for x in s.intra],
        pictures=pictures,
        damaged_packets=sum(s.damaged_packets for s in scans),
        hwaccel=scans[0].hwaccel,
    )


def _numbers(times: Sequence[float], fps: float, *, every_frame: bool) -> list[int]:
    """Frame numbers as :class:`framesift.decode.VideoDecoder` gives them to one pass."""
    if every_frame:
        return list(range(len(times)))
    index: list[int] = []
    position = -1
    for t in times:
        position = max(position + 1, round((t - times[0]) * fps))
        index.append(position)
    return index
