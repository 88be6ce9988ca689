"""The adaptive detector (PySceneDetect's AdaptiveDetector): the content score against a
rolling average of its neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.scenes.adapter import DetectorAdapter, replay_through
from framesift.scenes.exact_score import ExactFastScore
from framesift.scenes.pyscenedetect import AdaptiveDetector, FrameTimecode, SceneDetector

__all__ = ["ADAPTER", "AdaptiveAdapter", "FastAdaptiveDetector"]


class FastAdaptiveDetector(ExactFastScore, AdaptiveDetector):  # type: ignore[misc]
    """PySceneDetect's AdaptiveDetector with the exact, faster frame score."""


class _ReplayAdaptive(AdaptiveDetector):  # type: ignore[misc]
    """AdaptiveDetector whose 'image' is the precomputed content score of the frame."""

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: Any) -> float:
        return float(frame_img)


class AdaptiveAdapter(DetectorAdapter):
    """The score kept per frame is the content score; a cut can only fall on a frame whose
    content score reached ``min_content_val``."""

    name = "adaptive"

    def make(self, threshold: float, min_scene_len_frames: int) -> SceneDetector:
        return FastAdaptiveDetector(
            adaptive_threshold=threshold, min_scene_len=min_scene_len_frames
        )

    def score(self, detector: SceneDetector, bgr: NDArray[np.uint8]) -> float:
        # AdaptiveDetector (a ContentDetector) keeps the frame's content_val here.
        return float(getattr(detector, "_frame_score", None) or 0.0)

    def may_cut_at(self, detector: SceneDetector, score: float) -> bool:
        return bool(score >= detector.min_content_val)

    def replay(
        self,
        threshold: float,
        min_scene_len_frames: int,
        numbers: Sequence[int],
        scores: Sequence[float],
        fps: float,
    ) -> list[int]:
        detector = _ReplayAdaptive(adaptive_threshold=threshold, min_scene_len=min_scene_len_frames)
        return replay_through(detector, float, numbers, scores, fps)


ADAPTER = AdaptiveAdapter()
