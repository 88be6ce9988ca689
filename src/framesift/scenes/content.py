"""The content detector (PySceneDetect's ContentDetector): HSV and edge change per frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.scenes.adapter import DetectorAdapter, replay_through
from framesift.scenes.exact_score import ExactFastScore
from framesift.scenes.pyscenedetect import ContentDetector, FrameTimecode, SceneDetector

__all__ = ["ADAPTER", "ContentAdapter", "FastContentDetector"]


class FastContentDetector(ExactFastScore, ContentDetector):  # type: ignore[misc]
    """PySceneDetect's ContentDetector with the exact, faster frame score."""


class _ReplayContent(ContentDetector):  # type: ignore[misc]
    """ContentDetector whose 'image' is the precomputed score of the frame."""

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: Any) -> float:
        return float(frame_img)


class ContentAdapter(DetectorAdapter):
    """Cuts where the content score reaches the threshold; replayed by PySceneDetect's own
    logic on the stored content_val."""

    name = "content"

    def make(self, threshold: float, min_scene_len_frames: int) -> SceneDetector:
        return FastContentDetector(threshold=threshold, min_scene_len=min_scene_len_frames)

    def score(self, detector: SceneDetector, bgr: NDArray[np.uint8]) -> float:
        # ContentDetector keeps the frame's content_val here; tests pin this so an
        # upgrade that moves it fails loudly.
        return float(getattr(detector, "_frame_score", None) or 0.0)

    def may_cut_at(self, detector: SceneDetector, score: float) -> bool:
        return bool(score >= detector._threshold)

    def replay(
        self,
        threshold: float,
        min_scene_len_frames: int,
        numbers: Sequence[int],
        scores: Sequence[float],
        fps: float,
    ) -> list[int]:
        detector = _ReplayContent(threshold=threshold, min_scene_len=min_scene_len_frames)
        return replay_through(detector, float, numbers, scores, fps)


ADAPTER = ContentAdapter()
