"""Subtitles on the video's timeline: text subtitle streams in the container and sidecar
files (.srt, .vtt, .ass, .ssa) beside the video.

Stream cues keep the container's timestamps, the timeline of the frames (``time_s``).
Sidecar cues count from the start of playback, so the video's start time is added to them
(a file whose first frame is at 10 s shows a sidecar cue at 0:01 at 11 s). Markup is
removed (HTML-like tags, ASS override blocks, entities); bitmap subtitle streams (DVD,
Blu-ray, DVB) hold pictures, not text, and are left out. Languages become BCP-47 tags
(:func:`framesift.language.language_tag`: a stream's ``eng`` or ``fre`` is ``en`` or ``fr``,
``und`` is None).

Bounded: a sidecar file over ``max_bytes`` is refused before it is read (it is read no
further than that), and cues outside the video's time span are dropped with a count
(:func:`within_video`): a subtitle file cannot fill the catalog with text nobody can see.
"""

from __future__ import annotations

import codecs
import html
import logging
import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import av

from framesift.errors import SubtitleError
from framesift.language import language_tag
from framesift.source import Source
from framesift.text.model import TextSegment

__all__ = [
    "SIDECAR_SUFFIXES",
    "Sidecar",
    "clean_text",
    "find_sidecars",
    "read_sidecar",
    "read_subtitle_streams",
    "within_video",
]

logger = logging.getLogger(__name__)

SIDECAR_SUFFIXES: tuple[str, ...] = (".srt", ".vtt", ".ass", ".ssa")
_PYSUBS2_FORMATS = {".srt": "srt", ".vtt": "vtt", ".ass": "ass", ".ssa": "ssa"}
_BITMAP_CODECS = frozenset(
    {"dvd_subtitle", "hdmv_pgs_subtitle", "dvb_subtitle", "xsub", "dvb_teletext"}
)
_ASS_OVERRIDE = re.compile(r"\{[^}]*\}")
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<\d{2}:\d{2}[:.\d]*>")  # tags, VTT inline times


@dataclass(frozen=True)
class Sidecar:
    url: str
    language: str | None  # from the name, as a BCP-47 tag: movie.en.srt, movie.eng.srt -> "en"


def clean_text(text: str) -> str:
    """Plain text of one cue: markup removed, entities decoded, whitespace tidied."""
    text = _ASS_OVERRIDE.sub("", text)
    text = text.replace("\\N", "\n").replace("\\n", "\n").replace("\\h", " ")
    text = html.unescape(_TAG.sub("", text))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def read_subtitle_streams(
    url: str | Source, storage_options: Mapping[str, Any] | None = None
) -> list[TextSegment]:
    """Every cue of every text subtitle stream in the container, in time order."""
    source = Source.of(url, storage_options)
    shown = source.shown
    segments: list[TextSegment] = []
    with source.open_container() as container:
        streams = [
            s for s in container.streams.subtitles if s.codec_context.name not in _BITMAP_CODECS
        ]
        skipped = len(container.streams.subtitles) - len(streams)
        if skipped:
            logger.info("%s: %d bitmap subtitle stream(s) hold no text, left out", shown, skipped)
        if not streams:
            return []
        damaged = 0
        for packet in container.demux(*streams):
            if packet.pts is None or packet.size == 0:
                continue
            try:
                rects = packet.decode()
            except av.error.FFmpegError as exc:
                damaged += 1
                logger.warning("%s: damaged subtitle packet at pts %s: %s", shown, packet.pts, exc)
                continue
            text = "\n".join(t for t in (_rect_text(r) for r in rects) if t)
            if not text:
                continue  # an empty cue clears the screen
            stream = packet.stream
            time_base = packet.time_base or stream.time_base
            if time_base is None:
                continue
            start = float(packet.pts * time_base)
            end = start + float((packet.duration or 0) * time_base)
            segments.append(
                TextSegment("subtitles", start, end, text, None, language_tag(stream.language))
            )
        if damaged:
            logger.warning("%s: %d damaged subtitle packet(s) skipped", shown, damaged)
    segments.sort(key=lambda s: (s.start_s, s.language or ""))
    return segments


def _rect_text(rect: Any) -> str:
    raw = getattr(rect, "dialogue", None)  # ASS events: the text after the event's fields
    if raw is None:
        raw = getattr(rect, "text", None)
    if not raw:
        return ""
    value = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
    return clean_text(value)


def find_sidecars(
    video_url: str | Source, storage_options: Mapping[str, Any] | None = None
) -> list[Sidecar]:
    """Subtitle files beside the video named after it: ``movie.srt``, ``movie.en.vtt``...

    One listing of the video's folder; a folder that cannot be listed has none.
    """
    video = Source.of(video_url, storage_options)
    fs, path = video.filesystem()
    parent, name = posixpath.split(path)
    stem = posixpath.splitext(name)[0]
    try:
        entries = fs.ls(parent or ".", detail=False)
    except (OSError, ValueError) as exc:
        logger.debug("%s: cannot list its folder for subtitles: %s", video.shown, exc)
        return []
    found: list[Sidecar] = []
    for entry in sorted(str(e) for e in entries):
        base = posixpath.basename(entry.rstrip("/"))
        suffix = posixpath.splitext(base)[1].lower()
        if suffix not in SIDECAR_SUFFIXES or not base.startswith(f"{stem}."):
            continue
        middle = base[len(stem) + 1 : -len(suffix)]
        tag = middle.split(".")[0] if middle else ""
        language = language_tag(tag) if tag else None
        url = entry if video.is_local else fs.unstrip_protocol(entry)
        found.append(Sidecar(url, language))
    return found


def read_sidecar(
    url: str | Source,
    storage_options: Mapping[str, Any] | None = None,
    *,
    language: str | None = None,
    offset_s: float = 0.0,
    max_bytes: int | None = None,
) -> list[TextSegment]:
    """The cues of a .srt, .vtt, .ass or .ssa file, shifted by ``offset_s`` (the video's
    start time). Text is read as UTF-8 (with or without BOM), UTF-16 with a BOM, or else
    Windows-1252. ``language`` is read as any language code (``eng`` -> ``en``). Raises
    SubtitleError naming the file when it holds no readable cues, or when it is larger than
    ``max_bytes`` (None: no limit)."""
    import pysubs2  # imported when a subtitle file is first read

    source = Source.of(url, storage_options)
    shown = source.shown
    with source.open_file() as handle, source.mapped_errors("read"):
        raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(raw) > max_bytes:
        raise SubtitleError(
            shown,
            f"larger than the limit of {max_bytes:,} bytes for a subtitle file "
            "(TextSpec.max_sidecar_bytes; --max-sidecar-bytes)",
        )
    text = _decode(raw)
    if not text.strip():
        return []
    fmt = _PYSUBS2_FORMATS.get(posixpath.splitext(source.url)[1].lower())
    if fmt == "vtt" or text.lstrip().startswith("WEBVTT"):
        text = _drop_vtt_blocks(text)
    try:
        subs = pysubs2.SSAFile.from_string(text, format_=fmt)
    except Exception as exc:  # pysubs2 raises many types on bad input
        raise SubtitleError(shown, f"not a readable subtitle file ({exc})") from None
    tag = language_tag(language)
    segments = [
        TextSegment(
            "subtitles",
            event.start / 1000.0 + offset_s,
            event.end / 1000.0 + offset_s,
            cleaned,
            None,
            tag,
        )
        for event in subs
        if not event.is_comment and (cleaned := clean_text(event.text))
    ]
    if not segments:
        raise SubtitleError(shown, f"no subtitle cues found in its {fmt or 'text'} content")
    segments.sort(key=lambda s: s.start_s)
    return segments


def within_video(
    segments: Sequence[TextSegment], start_s: float, duration_s: float | None, shown: str
) -> list[TextSegment]:
    """The cues that show while the video plays (from ``start_s`` for ``duration_s``),
    ends cut at the video's end; the others are dropped and counted in a warning.
    ``duration_s`` None (unknown): all of them."""
    if duration_s is None:
        return list(segments)
    end_s = start_s + duration_s
    kept = [
        s if s.end_s <= end_s else replace(s, end_s=end_s)
        for s in segments
        if s.start_s < end_s and s.end_s >= start_s
    ]
    dropped = len(segments) - len(kept)
    if dropped:
        logger.warning(
            "%s: %d subtitle cue(s) outside the video's %.1f-%.1f s dropped",
            shown,
            dropped,
            start_s,
            end_s,
        )
    return kept


def _drop_vtt_blocks(text: str) -> str:
    """WebVTT without its NOTE, STYLE and REGION blocks (pysubs2 would read them as cue
    text)."""
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    kept = [b for b in blocks if not re.match(r"\s*(NOTE|STYLE|REGION)(\s|$)", b)]
    return "\n\n".join(kept)


def _decode(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")
