"""Progress as values: one event shape for every stage of every video.

The library reports progress through plain callbacks and never draws anything; terminal
lines, tqdm bars and widgets are adapters at the edge (the CLI, the notebook tools) that
turn these events into pictures.

- ``ProgressEvent(url, stage, done, total)``: how far one stage of one source has got.
  ``url`` is the source as it may be shown (credentials redacted); ``done`` and ``total``
  are in the stage's unit (seconds of the video for every stage framesift has today).
- ``ProgressHandler``: a callable that hears events; it must be quick and must not raise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "STAGES",
    "ProgressEvent",
    "ProgressHandler",
    "SecondsProgress",
    "for_stage",
]

# The stages a video goes through, in order; each reports in seconds of the video.
SAMPLE: Final = "sample"  # the one decoding pass: frames, scenes, analysis, images
SPEECH: Final = "speech"  # speech-to-text over the audio
OCR: Final = "ocr"  # on-screen text read from the kept frames
STAGES: Final = (SAMPLE, SPEECH, OCR)


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """How far one stage of one source has got: ``done`` of ``total`` (seconds)."""

    url: str
    stage: str
    done: float
    total: float

    @property
    def fraction(self) -> float:
        """Share done, 0..1 (0 while the total is unknown)."""
        if self.total <= 0:
            return 0.0
        return min(1.0, max(0.0, self.done / self.total))


ProgressHandler = Callable[[ProgressEvent], None]
# What the engine's own loops call: seconds done and the total, for one known source+stage.
SecondsProgress = Callable[[float, float], None]


def for_stage(handler: ProgressHandler, url: str, stage: str) -> SecondsProgress:
    """An engine-level ``(done_s, total_s)`` callback that reports as ``stage`` of ``url``."""

    def report(done_s: float, total_s: float) -> None:
        handler(ProgressEvent(url, stage, done_s, total_s))

    return report
