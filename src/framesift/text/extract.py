"""The text of one video, as its settings ask: subtitle streams, sidecar files, speech, and
on-screen text of the kept frames."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from framesift.probe import MediaInfo
from framesift.source import Source
from framesift.spec import TextSpec
from framesift.text.model import TextSegment
from framesift.text.subtitles import (
    find_sidecars,
    read_sidecar,
    read_subtitle_streams,
    within_video,
)

__all__ = ["extract_text"]


def extract_text(
    url: str | Source,
    media: MediaInfo,
    spec: TextSpec,
    storage_options: Mapping[str, Any] | None = None,
    *,
    kept_frames: pl.DataFrame | None = None,
    ocr_lines: pl.DataFrame | None = None,
    progress: Callable[[str, float, float], None] | None = None,
) -> list[TextSegment]:
    """Every text segment ``spec`` asks for, in time order.

    The container is opened for its subtitle streams only when the probe found some. OCR
    reads ``kept_frames`` (the frames table of the video's sampling pass); with the rapidocr
    engine, ``ocr_lines`` (the ``ocr`` analyzer's detections of those frames, when it ran
    in the pass) are the text read, and nothing is decoded again.
    ``progress(stage, done_s, total_s)`` hears how far speech and OCR have got.
    Subtitle cues outside the video's time span are dropped (counted in a warning).
    Raises SubtitleError (naming the file) for a sidecar that cannot be read or is larger
    than ``spec.max_sidecar_bytes``: the video's
    catalog rows are all-or-nothing, so a subtitle file that is there but unreadable fails
    the video rather than leaving its text out silently.
    """
    source = Source.of(url, storage_options)
    segments: list[TextSegment] = []
    subtitles: list[TextSegment] = []
    if spec.subtitles and media.subtitles:
        subtitles.extend(read_subtitle_streams(source))
    if spec.sidecars:
        for sidecar in find_sidecars(source):
            subtitles.extend(
                read_sidecar(
                    sidecar.url,
                    source.storage_options,
                    language=sidecar.language,
                    offset_s=media.start_time_s,
                    max_bytes=spec.max_sidecar_bytes,
                )
            )
    segments.extend(within_video(subtitles, media.start_time_s, media.duration_s, source.shown))
    if spec.speech and media.audio:
        from framesift.text.speech import transcribe  # faster-whisper: an optional extra

        segments.extend(
            transcribe(
                source,
                model=spec.speech_model,
                language=spec.speech_language,
                progress=_stage(progress, "speech"),
                duration_s=media.duration_s,
            )
        )
    if spec.ocr and kept_frames is not None and kept_frames.height:
        segments.extend(_ocr_segments(source, media, spec, kept_frames, ocr_lines, progress))
    segments.sort(key=lambda s: (s.start_s, s.source, s.language or ""))
    return segments


def _ocr_segments(
    source: Source,
    media: MediaInfo,
    spec: TextSpec,
    kept_frames: pl.DataFrame,
    ocr_lines: pl.DataFrame | None,
    progress: Callable[[str, float, float], None] | None,
) -> list[TextSegment]:
    """The on-screen text of the kept frames: the ocr analyzer's lines when it ran in the
    pass (rapidocr, the same reader), else read by the text engine."""
    from framesift.text.ocr import KeptPicture, read_text, text_from_lines

    pictures = [
        KeptPicture(r["pts"], r["time_s"], r["keyframe"], r["phash"])
        for r in kept_frames.select("pts", "time_s", "keyframe", "phash").iter_rows(named=True)
    ]
    if ocr_lines is not None and spec.ocr_engine == "rapidocr":
        lines = _lines_by_pts(kept_frames, ocr_lines)
        return text_from_lines(media, pictures, lines, language=spec.ocr_language)
    return read_text(
        source,
        media,
        pictures,
        language=spec.ocr_language,
        engine=spec.ocr_engine or "tesseract",
        progress=_stage(progress, "ocr"),
    )


def _lines_by_pts(
    kept_frames: pl.DataFrame, detections: pl.DataFrame
) -> dict[int, list[tuple[str, float]]]:
    """Kept frame's pts -> its (text, confidence) lines, in the order they were read."""
    pts = dict(zip(kept_frames["frame_index"], kept_frames["pts"], strict=True))
    lines: dict[int, list[tuple[str, float]]] = {}
    for row in detections.select("frame_index", "label", "score").iter_rows():
        if row[0] in pts:
            lines.setdefault(int(pts[row[0]]), []).append((str(row[1]), float(row[2])))
    return lines


def _stage(
    progress: Callable[[str, float, float], None] | None, stage: str
) -> Callable[[float, float], None] | None:
    if progress is None:
        return None
    return functools.partial(progress, stage)
