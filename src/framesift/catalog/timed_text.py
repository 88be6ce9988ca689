"""A video's timed text for its commit: subtitle streams and sidecar files, speech and
on-screen text, extracted one source at a time so that the ledger can say how long each
took (stages ``text_subtitles``, ``text_speech``, ``text_ocr``: see
:mod:`framesift.catalog.stages`), then joined on one timeline with each cue once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import polars as pl

from framesift.analyzers import AnalyzerOutput
from framesift.catalog.job import IngestJob
from framesift.catalog.stages import StageClock
from framesift.probe import MediaInfo, probe
from framesift.spec import AnalyzerSpec
from framesift.text.extract import extract_text
from framesift.text.model import TextSegment
from framesift.text.ocr import MIN_LINE_CONFIDENCE, OCR_SIDE_PX

__all__ = ["TEXT_STAGES", "TextProgress", "video_text"]

TextProgress = Callable[[str, float, float], None]
"""What :func:`framesift.text.extract.extract_text` calls: ``(stage, done_s, total_s)``."""

TEXT_STAGES: tuple[tuple[str, frozenset[str]], ...] = (
    ("text_subtitles", frozenset({"subtitles", "sidecars"})),
    ("text_speech", frozenset({"speech"})),
    ("text_ocr", frozenset({"ocr"})),
)
"""Each stage of timed text, and the :class:`~framesift.spec.TextSpec` flags it extracts."""


def video_text(
    job: IngestJob,
    media: Any,
    frames: pl.DataFrame,
    analyzed: AnalyzerOutput | None,
    *,
    clock: StageClock,
    progress: TextProgress,
) -> list[TextSegment]:
    """The video's timed text as ``job.text`` asks (``frames``: its kept frames, for OCR;
    ``media``: its probe, or what a custom sampler returned); a cue found twice (a stream
    and the same sidecar) once."""
    text = job.text
    if not (text.subtitles or text.sidecars or text.speech or text.ocr):
        return []
    if not isinstance(media, MediaInfo):  # a custom sampler without framesift's probe
        with clock.stage("probe"):
            media = probe(job.source, max_pixels=job.spec.decode.limits.max_pixels)
    found: list[TextSegment] = []
    for stage, flags in TEXT_STAGES:
        only = replace(
            text,
            subtitles=text.subtitles and "subtitles" in flags,
            sidecars=text.sidecars and "sidecars" in flags,
            speech=text.speech and "speech" in flags,
            ocr=text.ocr and "ocr" in flags,
        )
        if not (only.subtitles or only.sidecars or only.speech or only.ocr):
            continue
        with clock.stage(stage):
            found += extract_text(
                job.source,
                media,
                only,
                kept_frames=frames,
                ocr_lines=_ocr_lines(job.analyzer_spec, analyzed),
                progress=progress,
            )
    seen: set[tuple[float, float, str]] = set()
    unique: list[TextSegment] = []
    # A cue with a known language (a tagged stream) wins over its untagged twin.
    for segment in sorted(found, key=lambda s: s.language is None):
        key = (round(segment.start_s, 3), round(segment.end_s, 3), segment.text)
        if key not in seen:
            seen.add(key)
            unique.append(segment)
    return sorted(unique, key=lambda s: (s.start_s, s.source, s.language or ""))


def _ocr_lines(spec: AnalyzerSpec, analyzed: AnalyzerOutput | None) -> pl.DataFrame | None:
    """The ocr analyzer's detections when it ran with the text reader's settings."""
    if analyzed is None or "ocr" not in spec.names:
        return None
    if (spec.ocr_min_confidence, spec.ocr_max_side_px) != (MIN_LINE_CONFIDENCE, OCR_SIDE_PX):
        return None  # other settings than the text reader's: it reads for itself
    return analyzed.detections.filter(pl.col("analyzer") == "ocr")
