"""The threshold detector (PySceneDetect's ThresholdDetector): fades to and from black."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.scenes.adapter import DetectorAdapter, replay_through
from framesift.scenes.pyscenedetect import SceneDetector, ThresholdDetector

__all__ = ["ADAPTER", "ThresholdAdapter"]


def _one_pixel(score: float) -> Any:
    """A one-pixel image of the stored mean intensity: what the detector averages."""
    return np.full((1, 1, 1), score, dtype=np.float64)


class ThresholdAdapter(DetectorAdapter):
    """The score is the frame's mean intensity; cuts are placed between fades, so any
    frame may become one."""

    name = "threshold"

    def make(self, threshold: float, min_scene_len_frames: int) -> SceneDetector:
        return ThresholdDetector(threshold=threshold, min_scene_len=min_scene_len_frames)

    def score(self, detector: SceneDetector, bgr: NDArray[np.uint8]) -> float:
        return float(np.mean(bgr))

    def may_cut_at(self, detector: SceneDetector, score: float) -> bool:
        return True

    def replay(
        self,
        threshold: float,
        min_scene_len_frames: int,
        numbers: Sequence[int],
        scores: Sequence[float],
        fps: float,
    ) -> list[int]:
        detector = ThresholdDetector(threshold=threshold, min_scene_len=min_scene_len_frames)
        return replay_through(detector, _one_pixel, numbers, scores, fps)


ADAPTER = ThresholdAdapter()
