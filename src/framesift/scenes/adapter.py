"""The interface every scene detector meets: one adapter per PySceneDetect detector.

An adapter knows four things about its detector, so that no driver dispatches on the
detector's name:

- ``make``: the PySceneDetect detector, configured as its CLI would be for the same options;
- ``push``: give it one frame (the default: PySceneDetect's ``process_frame``);
- ``score``: the detector's score for the frame it was just given (kept per frame in the
  pass's analysis table);
- ``may_cut_at``: whether a frame with that score can later be reported as a cut (the pass
  lets every other frame's picture go at once);
- ``replay``: the cuts the detector would report from stored scores, with another
  threshold or minimum scene length, without decoding.

The implementations live one per file beside this one (``content``, ``adaptive``,
``threshold``, ``hash``); :mod:`framesift.scenes.registry` finds them by name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from framesift.scenes.pyscenedetect import FrameTimecode, SceneDetector

__all__ = ["DetectorAdapter", "replay_through"]


class DetectorAdapter(ABC):
    """What framesift needs to know about one PySceneDetect detector."""

    name: ClassVar[str]
    """The detector's name in settings (``SamplingSpec.detector``)."""

    @abstractmethod
    def make(self, threshold: float, min_scene_len_frames: int) -> SceneDetector:
        """A fresh detector with this threshold (already resolved: never None)."""

    def push(
        self, detector: SceneDetector, number: int, fps: float, bgr: NDArray[np.uint8]
    ) -> tuple[float, list[int]]:
        """Give frame ``number`` (at ``fps``) to ``detector``: its score, and the frame
        numbers of the cuts the detector reports now."""
        timecode = FrameTimecode(number, fps=fps)
        cuts = [int(c.frame_num) for c in detector.process_frame(timecode, bgr)]
        return self.score(detector, bgr), cuts

    @abstractmethod
    def score(self, detector: SceneDetector, bgr: NDArray[np.uint8]) -> float:
        """The score of the frame ``detector`` (made by :meth:`make`) was just given."""

    @abstractmethod
    def may_cut_at(self, detector: SceneDetector, score: float) -> bool:
        """Whether a frame with this score can later be reported as a cut."""

    @abstractmethod
    def replay(
        self,
        threshold: float,
        min_scene_len_frames: int,
        numbers: Sequence[int],
        scores: Sequence[float],
        fps: float,
    ) -> list[int]:
        """Cut frame numbers the detector reports given its per-frame ``scores`` (exact)."""


def replay_through(
    detector: SceneDetector,
    feed: Callable[[float], Any],
    numbers: Sequence[int],
    scores: Sequence[float],
    fps: float,
) -> list[int]:
    """Run ``detector`` on stored scores, each turned by ``feed`` into what the detector
    takes for a frame, and collect the cuts it reports (post-processing included)."""
    cuts: list[int] = []
    last: FrameTimecode | None = None
    for number, score in zip(numbers, scores, strict=True):
        last = FrameTimecode(int(number), fps=fps)
        cuts.extend(int(c.frame_num) for c in detector.process_frame(last, feed(score)))
    if last is not None:
        cuts.extend(int(c.frame_num) for c in detector.post_process(last))
    return cuts
