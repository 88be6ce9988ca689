"""The content detector (PySceneDetect's ContentDetector): HSV and edge change per frame."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.scenes.adapter import DetectorAdapter, replay_through
from framesift.scenes.exact_score import ExactFastScore
from framesift.scenes.pyscenedetect import (
    ContentDetector,
    FlashFilter,
    FrameTimecode,
    SceneDetector,
)

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

    def push(
        self, detector: SceneDetector, number: int, fps: float, bgr: NDArray[np.uint8]
    ) -> tuple[float, list[int]]:
        """As ``process_frame``, without its per-frame timecode where the frame cannot
        change the flash filter: most frames score under the threshold, and the filter
        (merge mode, its first frame seen, not merging) then reports nothing and keeps its
        state. ``tests/test_scenes.py`` pins the cuts equal to ``process_frame``'s."""
        flash = detector._flash_filter
        if detector.stats_manager is not None or not _filter_at_rest(flash):
            return super().push(detector, number, fps, bgr)
        # The timecode is only handed on to a stats manager, and there is none.
        score = detector._calculate_frame_score(None, bgr)
        detector._frame_score = score
        if score < detector._threshold:
            return float(score), []
        cuts = flash.filter(timecode=FrameTimecode(number, fps=fps), above_threshold=True)
        return float(score), [int(c.frame_num) for c in cuts]

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


def _filter_at_rest(flash: FlashFilter) -> bool:
    """Whether a frame under the threshold leaves ``flash`` as it is and reports nothing
    (PySceneDetect's ``FlashFilter.filter``: off, or merging mode waiting for a frame over
    the threshold)."""
    if flash._is_disabled:
        return True
    return bool(
        flash._mode == FlashFilter.Mode.MERGE
        and flash._last_above is not None
        and not flash._merge_triggered
    )


ADAPTER = ContentAdapter()
