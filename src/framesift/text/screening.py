"""Which of Whisper's segments were said: the rules that keep invented speech out of the
catalog.

Whisper writes text for sound that holds no speech: on a game intro's music tiny.en wrote
"I'm gonna go back to the next one." seven times over (confidence 0.72, some 0.02 s long).
The transcriber (:mod:`framesift.text.speech`) runs the Silero voice detector first (a
window without speech is not transcribed) and Whisper with its own guards on; what
Whisper still returns, every segment of one video (:class:`HeardSegment`, with the share
of it that the detector heard as speech), is screened here
(:func:`screen_speech`), in this order:

1. one segment at a time: less than :data:`MIN_VOICED` of it in audio the voice detector
   heard as speech, empty text, confidence (the exponential of Whisper's average
   token log-probability) below :data:`MIN_CONFIDENCE`, a compression ratio above
   :data:`MAX_COMPRESSION_RATIO` (text that repeats itself, "the the the"), Whisper's
   silence rule (no-speech probability above :data:`MAX_NO_SPEECH` with an average
   log-probability below :data:`SILENT_LOGPROB`), and segments too short for their words
   (under :data:`MIN_WORD_S`, or more than :data:`MAX_WORDS_PER_S` words a second) are
   dropped;
2. across the video: the same text :data:`LOOP_REPEATS` or more times in a row, with no
   other speech between (at any distance), is Whisper looping on sound it cannot read:
   every one of them is dropped. Speech repeats itself with other words between; a loop
   does not;
3. the same text twice in a row within :data:`MERGE_GAP_S` is one segment.

Texts compare by their words (lower case, punctuation ignored). The rules are pure: they
see numbers and text, not audio or the model, and the tests pin each one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from framesift.text.model import TextSegment

__all__ = [
    "LOOP_REPEATS",
    "MAX_COMPRESSION_RATIO",
    "MAX_NO_SPEECH",
    "MAX_WORDS_PER_S",
    "MERGE_GAP_S",
    "MIN_CONFIDENCE",
    "MIN_VOICED",
    "MIN_WORD_S",
    "SILENT_LOGPROB",
    "HeardSegment",
    "screen_speech",
]

MIN_VOICED = 0.5
"""Share of a segment's time that must lie in audio the voice detector heard as speech."""
MIN_CONFIDENCE = 0.3
"""Segments below this (Whisper's average token probability) are dropped: on the demo clips'
music and bird calls tiny.en wrote "Mmm." at 0.24; the test voice's words score ~0.5."""
MAX_COMPRESSION_RATIO = 2.4
"""Whisper's own bar (gzip ratio of the text): above it the text repeats itself."""
MAX_NO_SPEECH = 0.6
"""Whisper's silence rule: a segment above this no-speech probability whose average
log-probability is also below :data:`SILENT_LOGPROB` is dropped."""
SILENT_LOGPROB = -1.0
MIN_WORD_S = 0.1
"""No word is said faster than this: a shorter segment was not heard (Whisper's invented
segments on music lasted 0.02 s)."""
MAX_WORDS_PER_S = 10.0
"""Fast speech is 4-6 words a second; more than this is text without the time to say it."""
LOOP_REPEATS = 3
"""The same text this many times in a row, nothing else said between: a loop, dropped."""
MERGE_GAP_S = 1.0
"""The same text twice in a row at most this far apart is one segment."""

_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class HeardSegment:
    """One segment as Whisper returned it, on the video's timeline, before screening."""

    start_s: float
    end_s: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float
    language: str | None = None  # BCP-47 tag
    voiced: float = 1.0  # share of its time in audio the voice detector heard as speech

    @property
    def confidence(self) -> float:
        """Whisper's average token probability, 0 to 1."""
        return min(1.0, math.exp(self.avg_logprob))


def screen_speech(heard: Iterable[HeardSegment]) -> list[TextSegment]:
    """The speech segments of one video that were said (see the module's rules), in time
    order."""
    kept = [h for h in sorted(heard, key=lambda h: h.start_s) if _plausible(h)]
    return [_segment(group) for group in _merged(_without_loops(kept))]


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower()))


def _plausible(heard: HeardSegment) -> bool:
    """Rule 1: one segment on its own."""
    words = _words(heard.text)
    duration = heard.end_s - heard.start_s
    silent = heard.no_speech_prob > MAX_NO_SPEECH and heard.avg_logprob < SILENT_LOGPROB
    return not (
        heard.voiced < MIN_VOICED
        or not words
        or heard.confidence < MIN_CONFIDENCE
        or heard.compression_ratio > MAX_COMPRESSION_RATIO
        or silent
        or duration < MIN_WORD_S
        or len(words) > MAX_WORDS_PER_S * duration
    )


def _runs(heard: Sequence[HeardSegment]) -> list[list[HeardSegment]]:
    """Consecutive segments with the same words, grouped."""
    runs: list[list[HeardSegment]] = []
    for h in heard:
        if runs and _words(runs[-1][-1].text) == _words(h.text):
            runs[-1].append(h)
        else:
            runs.append([h])
    return runs


def _without_loops(heard: Sequence[HeardSegment]) -> list[HeardSegment]:
    """Rule 2: a text said :data:`LOOP_REPEATS` times or more with nothing between."""
    return [h for run in _runs(heard) if len(run) < LOOP_REPEATS for h in run]


def _merged(heard: Sequence[HeardSegment]) -> list[list[HeardSegment]]:
    """Rule 3: the same text twice in a row, close together, as one group."""
    groups: list[list[HeardSegment]] = []
    for run in _runs(heard):
        groups.append([run[0]])
        for h in run[1:]:
            if h.start_s - groups[-1][-1].end_s <= MERGE_GAP_S:
                groups[-1].append(h)
            else:
                groups.append([h])
    return groups


def _segment(group: Sequence[HeardSegment]) -> TextSegment:
    first = group[0]
    confidence = sum(h.confidence for h in group) / len(group)
    return TextSegment(
        "speech", first.start_s, group[-1].end_s, first.text, confidence, first.language
    )
