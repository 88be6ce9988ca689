"""Timed text on a video's timeline: one cue of subtitles, speech or on-screen text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

from framesift.schema import SEGMENTS_SCHEMA

__all__ = ["TEXT_SOURCES", "TextSegment", "TextSource", "segments_frame"]

TextSource = Literal["subtitles", "speech", "ocr"]
TEXT_SOURCES: tuple[TextSource, ...] = ("subtitles", "speech", "ocr")


@dataclass(frozen=True, slots=True)
class TextSegment:
    source: TextSource
    start_s: float  # on the frames' timeline (pts x time_base, start time kept)
    end_s: float
    text: str
    confidence: float | None = None  # 0 to 1, None when the source gives none
    language: str | None = None  # BCP-47 tag (en, fr, pt-BR; framesift.language), None: unknown


def segments_frame(segments: Sequence[TextSegment], video_id: str) -> pl.DataFrame:
    """The catalog's ``segments`` rows for one video."""
    return pl.DataFrame(
        {
            "video_id": [video_id] * len(segments),
            "source": [s.source for s in segments],
            "start_s": [s.start_s for s in segments],
            "end_s": [s.end_s for s in segments],
            "text": [s.text for s in segments],
            "confidence": [s.confidence for s in segments],
            "language": [s.language for s in segments],
        },
        schema=SEGMENTS_SCHEMA,
    )
