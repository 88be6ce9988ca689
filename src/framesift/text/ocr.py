"""On-screen text of the kept frames, by OCR, on the frames' timeline.

The kept frames of the sampling pass are decoded once more at full resolution (straight
through, or keyframes only when every kept frame is one; the pass itself keeps no full
pictures) and read by one of two engines (``TextSpec.ocr_engine``):

- ``rapidocr`` (the default when installed): PP-OCR's detection and recognition models
  (:class:`framesift.analyzers.ocr.TextLineReader`, the ``ocr`` analyzer's reader) on the
  colour picture, one picture at a time on the cores this worker owns; lines below
  :data:`MIN_LINE_CONFIDENCE` are dropped.
- ``tesseract``: the command (Debian: ``apt-get install tesseract-ocr``)
  in parallel, one single-threaded process per core, sparse-text mode (``--psm 11``). Words
below :data:`MIN_WORD_CONFIDENCE` are dropped, and a line is kept only when one of its
words looks printed (three or more letters or digits read with at least
:data:`STRONG_WORD_CONFIDENCE`): textures in natural pictures otherwise read as "4", "Bi"
(the four demo clips gave 19 such segments before this rule, none after). A frame whose
perceptual hash is within
:data:`SAME_PICTURE_BITS` of the frame read before it is not read again: it shows the same
text (a title card held for seconds is read once). Each text holds from its frame until the
next kept frame; consecutive frames with the same text make one segment.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import subprocess
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from framesift.analyzers.ocr import TextLineReader
from framesift.analyzers.onnx_session import inference_threads
from framesift.decode import VideoDecoder
from framesift.dedup import hamming
from framesift.errors import SettingsError
from framesift.language import tesseract_names, text_language
from framesift.probe import MediaInfo
from framesift.source import Source
from framesift.spec import DecodeSpec
from framesift.spec_text import OcrEngine
from framesift.text.model import TextSegment

__all__ = [
    "MIN_LINE_CONFIDENCE",
    "MIN_WORD_CONFIDENCE",
    "OCR_SIDE_PX",
    "SAME_PICTURE_BITS",
    "KeptPicture",
    "check_ocr",
    "read_text",
    "text_from_lines",
]

logger = logging.getLogger(__name__)

MIN_WORD_CONFIDENCE = 60.0
OCR_SIDE_PX = 960  # rapidocr: text is detected on the picture scaled to this longest side
MIN_LINE_CONFIDENCE = 0.8
"""rapidocr: lines read with less confidence are dropped (textures in the text-free sample
clips read as "10", "J", "0" at up to 0.49)."""
STRONG_WORD_CONFIDENCE = 85.0
SAME_PICTURE_BITS = 4
_MAX_SIDE_PX = 1920  # larger pictures are scaled down before OCR


@dataclass(frozen=True)
class KeptPicture:
    pts: int
    time_s: float
    keyframe: bool
    phash: int


@dataclass(frozen=True)
class _Engine:
    """What reads one picture: PP-OCR's reader, or the tesseract command's language."""

    reader: TextLineReader | None
    language: str


def check_ocr(language: str, engine: OcrEngine = "tesseract") -> None:
    """Raise SettingsError now, before any video, if OCR cannot run. ``language``: BCP-47
    tags or Tesseract names, joined by ``+`` (``en``, ``en+fr``, ``chi_sim``)."""
    names = tesseract_names(language)
    if engine == "rapidocr":
        _open(engine, names)  # loads the models: a missing package fails here
        return
    binary = shutil.which("tesseract")
    if binary is None:
        raise SettingsError(
            "OCR needs the tesseract command (Debian: apt-get install tesseract-ocr)"
        )
    output = subprocess.run(
        [binary, "--list-langs"], capture_output=True, text=True, check=False
    ).stdout
    # "List of available languages in ... (2):" then one name a line.
    listed = [line.strip() for line in output.splitlines()[1:] if line.strip()]
    missing = [part for part in names.split("+") if part not in listed]
    if missing:
        raise SettingsError(
            f"ocr_language={language!r}: tesseract has {', '.join(listed) or 'none'} "
            f"(Debian: apt-get install {' '.join(f'tesseract-ocr-{m}' for m in missing)})"
        )


def read_text(
    url: str | Source,
    media: MediaInfo,
    kept: Sequence[KeptPicture],
    *,
    language: str = "en",
    engine: OcrEngine = "tesseract",
    storage_options: Mapping[str, Any] | None = None,
    end_s: float | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> list[TextSegment]:
    """Text segments read on the ``kept`` frames (any order); ``end_s`` ends the last one
    (default: the video's end). ``progress(done_s, total_s)`` hears of each picture read.
    ``language``: BCP-47 tags or Tesseract names (``en``, ``en+fr``, ``chi_sim``); the
    segments carry its tag, or None when it names several languages."""
    names = tesseract_names(language)
    if engine == "tesseract":
        check_ocr(language)
    reading = _open(engine, names)
    source = Source.of(url, storage_options)
    kept = sorted(kept, key=lambda k: k.pts)
    if not kept:
        return []
    read_at = _reading_plan(kept)
    wanted = {kept[i].pts: i for i in set(read_at.values())}
    texts = _read_pictures(source, media, kept, wanted, reading, progress)
    missing = set(wanted.values()) - set(texts)
    if missing:
        logger.warning("%s: %d kept frame(s) not found again for OCR", source.shown, len(missing))
    final = end_s if end_s is not None else media.start_time_s + (media.duration_s or 0.0)
    return _segments(kept, read_at, texts, final, text_language(names))


def text_from_lines(
    media: MediaInfo,
    kept: Sequence[KeptPicture],
    lines: Mapping[int, Sequence[tuple[str, float]]],
    *,
    language: str = "en",
    end_s: float | None = None,
) -> list[TextSegment]:
    """Text segments from lines already read on the kept frames (kept frame's pts -> its
    (text, confidence) lines, top to bottom: the ``ocr`` analyzer's detections in the
    pass), placed as :func:`read_text` places them; nothing is decoded or read again."""
    kept = sorted(kept, key=lambda k: k.pts)
    texts: dict[int, tuple[str, float] | None] = {}
    for i, k in enumerate(kept):
        found = lines.get(k.pts)
        if found:
            confidence = sum(c for _, c in found) / len(found)
            texts[i] = ("\n".join(t for t, _ in found), confidence)
    final = end_s if end_s is not None else media.start_time_s + (media.duration_s or 0.0)
    names = tesseract_names(language)
    return _segments(kept, {i: i for i in range(len(kept))}, texts, final, text_language(names))


def _open(engine: OcrEngine, names: str) -> _Engine:
    if engine == "tesseract":
        return _Engine(None, names)
    reader = TextLineReader(
        max_side_px=OCR_SIDE_PX, min_confidence=MIN_LINE_CONFIDENCE, threads=inference_threads()
    )
    return _Engine(reader, names)


def _reading_plan(kept: Sequence[KeptPicture]) -> dict[int, int]:
    """Kept position -> position of the frame whose text it shows: a frame showing the
    same picture as the frame read before it is not read again."""
    read_at: dict[int, int] = {}
    last: int | None = None
    for i, k in enumerate(kept):
        if last is not None and hamming(k.phash, kept[last].phash) <= SAME_PICTURE_BITS:
            read_at[i] = last
        else:
            read_at[i] = last = i
    return read_at


def _read_pictures(
    source: Source,
    media: MediaInfo,
    kept: Sequence[KeptPicture],
    wanted: Mapping[int, int],
    engine: _Engine,
    progress: Callable[[float, float], None] | None,
) -> dict[int, tuple[str, float] | None]:
    """Decode the video once and OCR the frames at the ``wanted`` pts (pts -> kept
    position), a few pictures in flight at a time; returns kept position -> what was read
    (None: nothing). Positions whose frame was not found are left out."""
    texts: dict[int, tuple[str, float] | None] = {}
    # PP-OCR runs one picture at a time on all the worker's cores; tesseract one
    # single-threaded process per core.
    workers = 1 if engine.reader is not None else max(1, os.cpu_count() or 1)
    colour = "gray" if engine.reader is None else "bgr24"
    decoder = VideoDecoder(
        source,
        media,
        DecodeSpec(threads=2),
        keyframes_only=all(kept[i].keyframe for i in wanted.values()),
    )
    pending: deque[tuple[int, Future[tuple[str, float] | None]]] = deque()
    submitted: set[int] = set()
    last_pts = max(wanted)
    origin = media.start_time_s
    total = media.duration_s or 0.0

    def collect(limit: int) -> None:
        while len(pending) > limit:
            done, future = pending.popleft()
            texts[done] = future.result()
            if progress is not None:
                progress(kept[done].time_s - origin, total)

    with decoder, ThreadPoolExecutor(workers, thread_name_prefix="framesift-ocr") as pool:
        for decoded in decoder.frames(read_ahead=0):
            slot = wanted.get(decoded.pts)
            if slot is not None and slot not in submitted:
                submitted.add(slot)
                picture = _upright(decoded.frame, colour, media.video.rotation_deg)
                pending.append((slot, pool.submit(_ocr, picture, engine)))
                collect(2 * workers)  # a few pictures in flight, not the video
            if decoded.pts >= last_pts:
                break
        collect(0)
    return texts


def _upright(frame: av.VideoFrame, colour: str, rotation_deg: int) -> NDArray[np.uint8]:
    """The frame as 8-bit ``gray`` or ``bgr24``, turned upright as it is displayed."""
    picture: NDArray[np.uint8] = np.asarray(frame.to_ndarray(format=colour), dtype=np.uint8)
    if rotation_deg:
        picture = np.ascontiguousarray(np.rot90(picture, k=-(rotation_deg // 90)))
    return picture


def _segments(
    kept: Sequence[KeptPicture],
    read_at: Mapping[int, int],
    texts: Mapping[int, tuple[str, float] | None],
    final_s: float,
    language: str | None,
) -> list[TextSegment]:
    """Each text holds from its frame until the next kept frame (the last until
    ``final_s``); consecutive frames with the same text make one segment."""
    segments: list[TextSegment] = []
    for i, k in enumerate(kept):
        found = texts.get(read_at[i])
        if not found:
            continue
        text, confidence = found
        until = kept[i + 1].time_s if i + 1 < len(kept) else max(final_s, k.time_s)
        previous = segments[-1] if segments else None
        if previous is not None and previous.text == text and previous.end_s >= k.time_s - 1e-6:
            segments[-1] = TextSegment(
                "ocr", previous.start_s, until, text, previous.confidence, previous.language
            )
        else:
            segments.append(TextSegment("ocr", k.time_s, until, text, confidence, language))
    return segments


def _ocr(picture: NDArray[np.uint8], engine: _Engine) -> tuple[str, float] | None:
    """(text, mean confidence 0-1) of one picture (gray for tesseract, BGR for
    rapidocr), None when nothing is read."""
    height, width = picture.shape[:2]
    scale = _MAX_SIDE_PX / max(height, width)
    if scale < 1.0:
        size = (round(width * scale), round(height * scale))
        picture = np.asarray(
            cv2.resize(picture, size, interpolation=cv2.INTER_AREA), dtype=np.uint8
        )
    if engine.reader is None:
        return _tesseract(picture, engine.language)
    lines = engine.reader.read(picture)
    if not lines:
        return None
    text = "\n".join(line.text for line in lines)
    return text, sum(line.confidence for line in lines) / len(lines)


def _tesseract(gray: NDArray[np.uint8], language: str) -> tuple[str, float] | None:
    """(text, mean word confidence 0-1) of one gray picture by the tesseract command."""
    ok, png = cv2.imencode(".png", gray, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        return None
    done = subprocess.run(
        ["tesseract", "stdin", "stdout", "--psm", "11", "-l", language, "tsv"],
        input=png.tobytes(),
        capture_output=True,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        check=False,
    )
    if done.returncode != 0:
        logger.warning("tesseract failed: %s", done.stderr.decode(errors="replace")[-300:])
        return None
    lines: dict[tuple[str, str, str], list[tuple[str, float]]] = {}
    rows = csv.DictReader(io.StringIO(done.stdout.decode(errors="replace")), delimiter="\t")
    for row in rows:
        word = (row.get("text") or "").strip()
        try:
            confidence = float(row.get("conf") or -1)
        except ValueError:
            continue
        if row.get("level") != "5" or confidence < MIN_WORD_CONFIDENCE:
            continue
        if not any(c.isalnum() for c in word):
            continue
        key = (row["block_num"], row["par_num"], row["line_num"])
        lines.setdefault(key, []).append((word, confidence))
    # Textures and edges in natural pictures read as short, confident "words" ("4", "Bi",
    # "(7"); printed text has longer ones. A line counts when one of its words does.
    kept = [words for words in lines.values() if any(_strong(w, c) for w, c in words)]
    if not kept:
        return None
    text = "\n".join(" ".join(w for w, _ in words) for words in kept)
    confidences = [c for words in kept for _, c in words]
    return text, sum(confidences) / len(confidences) / 100.0


def _strong(word: str, confidence: float) -> bool:
    """A word that is very likely printed text: three or more letters or digits, mostly
    letters or digits, read with high confidence."""
    alnum = sum(c.isalnum() for c in word)
    return confidence >= STRONG_WORD_CONFIDENCE and alnum >= 3 and alnum >= 0.6 * len(word)
