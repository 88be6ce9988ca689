"""The analyzers on the kept frames of a pass already made, decoding the video once more.

Used where the pass could not hand its pictures over: a fast pass (its pictures are
rendered inside its segment threads), and a catalog video whose analyzers changed while
its sampling settings did not (ingest then re-runs only the analyzers, as it re-runs only
the text extraction when only the text settings changed). The video is decoded straight
through (keyframes only when every kept frame is one) up to the last kept frame; each
decoded frame whose pts is a kept frame's goes to the same :class:`AnalyzerRunner` the
pass would have fed, with the kept frame's row.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from framesift.analyzers.runner import AnalyzerOutput, AnalyzerRunner
from framesift.decode import VideoDecoder
from framesift.handoff import HeldPicture
from framesift.probe import MediaInfo
from framesift.select import FrameRow
from framesift.source import Source
from framesift.spec import DecodeSpec

if TYPE_CHECKING:
    import polars as pl

__all__ = ["analyze_kept_frames"]

logger = logging.getLogger(__name__)


def analyze_kept_frames(
    source: Source, media: MediaInfo, frames: pl.DataFrame, runner: AnalyzerRunner
) -> AnalyzerOutput:
    """Run ``runner``'s analyzers on the kept ``frames`` (rows of the frames table) of
    ``source``; raises AnalyzerError when an analyzer fails."""
    rows = {
        int(row["pts"]): row
        for row in frames.select(
            "frame_index", "time_s", "pts", "keyframe", "width", "height"
        ).to_dicts()
    }
    runner.begin(media)
    if rows:
        last = max(rows)
        keyframes_only = bool(frames["keyframe"].all())
        with VideoDecoder(source, media, DecodeSpec(), keyframes_only=keyframes_only) as decoder:
            for decoded in decoder.frames():
                row = rows.pop(decoded.pts, None)
                if row is not None:
                    runner.take(cast(FrameRow, row), HeldPicture(decoded.frame))
                if decoded.pts >= last:
                    break
        if rows:
            logger.warning(
                "%s: %d kept frame(s) not found again to analyse", source.shown, len(rows)
            )
    return runner.finish()
