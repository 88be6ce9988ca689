"""The hash detector (PySceneDetect's HashDetector): perceptual-hash distance per frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.scenes.adapter import DetectorAdapter
from framesift.scenes.pyscenedetect import HashDetector, SceneDetector

__all__ = ["ADAPTER", "HashAdapter"]


class _ScoreRecorder:
    """The part of PySceneDetect's StatsManager a detector calls, keeping the last metric."""

    def __init__(self) -> None:
        self.last: float = float("nan")

    def metrics_exist(self, timecode: Any, keys: Any) -> bool:
        return False

    def set_metrics(self, timecode: Any, metrics: dict[str, float]) -> None:
        for value in metrics.values():
            self.last = float(value)
            return


class HashAdapter(DetectorAdapter):
    """The detector only reports its distance to a stats manager, so each detector made
    here gets a recorder as one (it costs nothing extra there; the content detector, by
    contrast, would compute edges). Replayed by HashDetector's rule: distance at least the
    threshold and the scene long enough."""

    name = "hash"

    def make(self, threshold: float, min_scene_len_frames: int) -> SceneDetector:
        detector = HashDetector(threshold=threshold, min_scene_len=min_scene_len_frames)
        detector.stats_manager = _ScoreRecorder()
        return detector

    def score(self, detector: SceneDetector, bgr: NDArray[np.uint8]) -> float:
        recorder: _ScoreRecorder = detector.stats_manager
        score = recorder.last
        recorder.last = float("nan")
        return score

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
        cuts: list[int] = []
        last_cut: int | None = None
        for i, (number, score) in enumerate(zip(numbers, scores, strict=True)):
            if last_cut is None:
                last_cut = number
            if i > 0 and score >= threshold and number - last_cut >= min_scene_len_frames:
                cuts.append(number)
                last_cut = number
        return cuts


ADAPTER = HashAdapter()
