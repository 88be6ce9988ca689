"""ContentDetector's frame score, exact, with fewer and cheaper OpenCV calls.

Shared by the content and adaptive detectors (:mod:`framesift.scenes.content`,
:mod:`framesift.scenes.adaptive`).
"""

from __future__ import annotations

from typing import Any

import cv2
from numpy.typing import NDArray

from framesift.scenes.pyscenedetect import ContentDetector, FrameTimecode

__all__ = ["ExactFastScore"]


class ExactFastScore:
    """ContentDetector's frame score with fewer, cheaper OpenCV calls than PySceneDetect's.

    The same arithmetic as PySceneDetect's ``_mean_pixel_distance`` per HSV channel (the
    exact integer sum of absolute differences over the pixel count): one ``absdiff`` of
    the interleaved HSV images and one per-channel ``sumElems`` replace a channel split
    and three numpy reductions; the luma plane is extracted only when edges are wanted.
    Everything else (weights, edges, the flash filter, adaptive windows) is
    PySceneDetect's own. ``tests/test_scenes.py`` pins the scores equal to the parent
    class's.
    """

    _weights: Any
    stats_manager: Any
    _last_hsv: NDArray[Any] | None = None
    _last_edges: NDArray[Any] | None = None

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: NDArray[Any]) -> float:
        hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
        calculate_edges = self._weights.delta_edges > 0.0 or self.stats_manager is not None
        edges = (
            self._detect_edges(cv2.extractChannel(hsv, 2))  # type: ignore[attr-defined]
            if calculate_edges
            else None
        )
        last, last_edges = self._last_hsv, self._last_edges
        self._last_hsv, self._last_edges = hsv, edges
        if last is None:
            return 0.0
        pixels = float(hsv.shape[0] * hsv.shape[1])
        hue_sum, sat_sum, lum_sum, _ = cv2.sumElems(cv2.absdiff(hsv, last))
        components = ContentDetector.Components(
            delta_hue=hue_sum / pixels,
            delta_sat=sat_sum / pixels,
            delta_lum=lum_sum / pixels,
            delta_edges=(
                0.0
                if edges is None or last_edges is None
                else cv2.norm(edges, last_edges, cv2.NORM_L1) / pixels
            ),
        )
        score: float = sum(c * w for c, w in zip(components, self._weights, strict=True)) / sum(
            abs(w) for w in self._weights
        )
        if self.stats_manager is not None:
            metrics = {ContentDetector.FRAME_SCORE_KEY: score, **components._asdict()}
            self.stats_manager.set_metrics(timecode, metrics)
        return score
