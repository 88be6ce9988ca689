"""Text on the frames' timeline: subtitle streams and sidecar files, searchable in the
catalog (``Catalog.search``)."""

from framesift.text.extract import extract_text
from framesift.text.model import TEXT_SOURCES, TextSegment, TextSource, segments_frame
from framesift.text.subtitles import (
    SIDECAR_SUFFIXES,
    Sidecar,
    clean_text,
    find_sidecars,
    read_sidecar,
    read_subtitle_streams,
)

__all__ = [
    "SIDECAR_SUFFIXES",
    "TEXT_SOURCES",
    "Sidecar",
    "TextSegment",
    "TextSource",
    "clean_text",
    "extract_text",
    "find_sidecars",
    "read_sidecar",
    "read_subtitle_streams",
    "segments_frame",
]
