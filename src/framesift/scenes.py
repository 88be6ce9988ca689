"""Scene-cut detection: PySceneDetect's detectors fed from framesift's decode pass.

``SceneCutDetector`` wraps one PySceneDetect detector (content, adaptive, threshold, hash),
gives it each analysis image with a frame-number timecode, and reports cuts as frame
indices of the pass together with the detector's per-frame score. The scores are kept in
the pass's analysis table; ``replay_cuts`` runs the same detector logic again on those
scores with another threshold, without decoding: that is what the tuning widget uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray
from scenedetect import FrameTimecode
from scenedetect.detector import SceneDetector
from scenedetect.detectors import (
    AdaptiveDetector,
    ContentDetector,
    HashDetector,
    ThresholdDetector,
)

from framesift.errors import SettingsError
from framesift.spec import DEFAULT_THRESHOLDS, DETECTOR_NAMES

__all__ = [
    "FastAdaptiveDetector",
    "FastContentDetector",
    "SceneCutDetector",
    "make_detector",
    "replay_cuts",
]

logger = logging.getLogger(__name__)


class _ExactFastScore:
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


class FastContentDetector(_ExactFastScore, ContentDetector):  # type: ignore[misc]
    """PySceneDetect's ContentDetector with the exact, faster frame score."""


class FastAdaptiveDetector(_ExactFastScore, AdaptiveDetector):  # type: ignore[misc]
    """PySceneDetect's AdaptiveDetector with the exact, faster frame score."""


def make_detector(name: str, threshold: float | None, min_scene_len_frames: int) -> SceneDetector:
    """A PySceneDetect detector configured as its CLI would be for the same options."""
    value = DEFAULT_THRESHOLDS[name] if threshold is None else threshold
    factories: dict[str, Callable[[], SceneDetector]] = {
        "content": lambda: FastContentDetector(threshold=value, min_scene_len=min_scene_len_frames),
        "adaptive": lambda: FastAdaptiveDetector(
            adaptive_threshold=value, min_scene_len=min_scene_len_frames
        ),
        "threshold": lambda: ThresholdDetector(threshold=value, min_scene_len=min_scene_len_frames),
        "hash": lambda: HashDetector(threshold=value, min_scene_len=min_scene_len_frames),
    }
    try:
        return factories[name]()
    except KeyError:
        raise SettingsError(f"detector={name!r}: allowed {', '.join(DETECTOR_NAMES)}") from None


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


class SceneCutDetector:
    """Feeds one PySceneDetect detector, frame by frame, and reports cuts as frame indices."""

    def __init__(
        self,
        name: str,
        threshold: float | None,
        min_scene_len_frames: int,
        fps: float,
    ) -> None:
        self.name = name
        self._detector = make_detector(name, threshold, min_scene_len_frames)
        self._fps = fps if fps > 0 else 25.0
        self._recorder: _ScoreRecorder | None = None
        if name == "hash":
            # The hash detector only reports its distance to a stats manager; it costs
            # nothing extra there (the content detector, by contrast, would compute edges).
            self._recorder = _ScoreRecorder()
            self._detector.stats_manager = self._recorder
        self._last_timecode: FrameTimecode | None = None

    def may_cut_at(self, score: float) -> bool:
        """Whether a frame with this score can later be reported as a cut.

        Content and hash detectors only report frames whose score reached the threshold,
        the adaptive detector frames above ``min_content_val``; the threshold detector
        places cuts between fades, so any frame may be one.
        """
        detector = self._detector
        if isinstance(detector, AdaptiveDetector):
            return bool(score >= detector.min_content_val)
        if isinstance(detector, ContentDetector | HashDetector):
            return bool(score >= detector._threshold)
        return True

    @property
    def lookback_frames(self) -> int:
        """How many frames back a reported cut can lie (PySceneDetect's event buffer)."""
        return int(self._detector.event_buffer_length) + 1

    def _timecode(self, number: int) -> FrameTimecode:
        return FrameTimecode(number, fps=self._fps)

    def push(self, number: int, bgr: NDArray[np.uint8]) -> tuple[float, list[int]]:
        """Give frame ``number`` (strictly increasing) to the detector.

        Returns the detector's score for this frame and the frame numbers of any cuts
        the detector reports now (they may lie up to ``lookback_frames`` back).
        """
        timecode = self._timecode(number)
        self._last_timecode = timecode
        cuts = self._detector.process_frame(timecode, bgr)
        return self._score(bgr), [int(c.frame_num) for c in cuts]

    def _score(self, bgr: NDArray[np.uint8]) -> float:
        if self._recorder is not None:
            score = self._recorder.last
            self._recorder.last = float("nan")
            return score
        if self.name == "threshold":
            return float(np.mean(bgr))
        # ContentDetector (and AdaptiveDetector, its subclass) keep the frame's content_val
        # here; tests pin this so an upgrade that moves it fails loudly.
        return float(getattr(self._detector, "_frame_score", None) or 0.0)

    def finish(self) -> list[int]:
        """Cuts the detector reports once the stream has ended."""
        if self._last_timecode is None:
            return []
        return [int(c.frame_num) for c in self._detector.post_process(self._last_timecode)]


class _ReplayContent(ContentDetector):  # type: ignore[misc]
    """ContentDetector whose 'image' is the precomputed score of the frame."""

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: Any) -> float:
        return float(frame_img)


class _ReplayAdaptive(AdaptiveDetector):  # type: ignore[misc]
    """AdaptiveDetector whose 'image' is the precomputed content score of the frame."""

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: Any) -> float:
        return float(frame_img)


def replay_cuts(
    name: str,
    threshold: float | None,
    min_scene_len_frames: int,
    numbers: Sequence[int],
    scores: Sequence[float],
    fps: float,
) -> list[int]:
    """Cut frame numbers the detector would report given its per-frame ``scores``.

    Exact for every detector: content and adaptive run PySceneDetect's own logic on the
    stored content_val; threshold feeds one-pixel images of the stored mean intensity;
    hash applies HashDetector's rule (distance >= threshold and scene long enough).
    """
    value = DEFAULT_THRESHOLDS[name] if threshold is None else threshold
    fps = fps if fps > 0 else 25.0
    cuts: list[int] = []
    if name == "hash":
        last_cut: int | None = None
        for i, (number, score) in enumerate(zip(numbers, scores, strict=True)):
            if last_cut is None:
                last_cut = number
            if i > 0 and score >= value and number - last_cut >= min_scene_len_frames:
                cuts.append(number)
                last_cut = number
        return cuts
    detector: SceneDetector
    feed: Callable[[float], Any]
    if name == "content":
        detector = _ReplayContent(threshold=value, min_scene_len=min_scene_len_frames)
        feed = float
    elif name == "adaptive":
        detector = _ReplayAdaptive(adaptive_threshold=value, min_scene_len=min_scene_len_frames)
        feed = float
    elif name == "threshold":
        detector = ThresholdDetector(threshold=value, min_scene_len=min_scene_len_frames)

        def feed(score: float) -> Any:
            return np.full((1, 1, 1), score, dtype=np.float64)
    else:
        raise SettingsError(f"detector={name!r}: allowed {', '.join(DETECTOR_NAMES)}")
    last: FrameTimecode | None = None
    for number, score in zip(numbers, scores, strict=True):
        last = FrameTimecode(int(number), fps=fps)
        cuts.extend(int(c.frame_num) for c in detector.process_frame(last, feed(score)))
    if last is not None:
        cuts.extend(int(c.frame_num) for c in detector.post_process(last))
    return cuts
