"""The streaming side of scene detection: one detector fed frame by frame by a pass."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scenedetect import FrameTimecode
from scenedetect.detector import SceneDetector

from framesift.errors import SettingsError
from framesift.scenes.registry import adapter_for, resolved_threshold
from framesift.spec import SamplingSpec

__all__ = ["SceneCutDetector", "make_detector", "replay_cuts"]

_FALLBACK_FPS = 25.0  # FrameTimecode needs a positive rate; numbers are what count


class SceneCutDetector:
    """Feeds one PySceneDetect detector, frame by frame, and reports cuts as frame indices
    of the pass together with the detector's per-frame score."""

    def __init__(
        self,
        name: str,
        threshold: float | None,
        min_scene_len_frames: int,
        fps: float,
    ) -> None:
        self.name = name
        self._adapter = adapter_for(name)
        self._detector = self._adapter.make(
            resolved_threshold(name, threshold), min_scene_len_frames
        )
        self._fps = fps if fps > 0 else _FALLBACK_FPS
        self._last_timecode: FrameTimecode | None = None

    @classmethod
    def from_spec(
        cls, spec: SamplingSpec, fps: float, *, min_scene_len_frames: int | None = None
    ) -> SceneCutDetector:
        """The detector ``spec`` asks for (its minimum scene length replaceable: the fast
        scan's exact-cut search runs with none)."""
        if spec.detector is None:
            raise SettingsError("these settings ask for no scene detector (detector=None)")
        min_len = (
            spec.min_scene_len_frames if min_scene_len_frames is None else min_scene_len_frames
        )
        return cls(spec.detector, spec.threshold, min_len, fps)

    def may_cut_at(self, score: float) -> bool:
        """Whether a frame with this score can later be reported as a cut.

        Content and hash detectors only report frames whose score reached the threshold,
        the adaptive detector frames above ``min_content_val``; the threshold detector
        places cuts between fades, so any frame may be one.
        """
        return self._adapter.may_cut_at(self._detector, score)

    @property
    def lookback_frames(self) -> int:
        """How many frames back a reported cut can lie (PySceneDetect's event buffer)."""
        return int(self._detector.event_buffer_length) + 1

    def push(self, number: int, bgr: NDArray[np.uint8]) -> tuple[float, list[int]]:
        """Give frame ``number`` (strictly increasing) to the detector.

        Returns the detector's score for this frame and the frame numbers of any cuts
        the detector reports now (they may lie up to ``lookback_frames`` back).
        """
        timecode = FrameTimecode(number, fps=self._fps)
        self._last_timecode = timecode
        cuts = self._detector.process_frame(timecode, bgr)
        return self._adapter.score(self._detector, bgr), [int(c.frame_num) for c in cuts]

    def finish(self) -> list[int]:
        """Cuts the detector reports once the stream has ended."""
        if self._last_timecode is None:
            return []
        return [int(c.frame_num) for c in self._detector.post_process(self._last_timecode)]


def make_detector(name: str, threshold: float | None, min_scene_len_frames: int) -> SceneDetector:
    """A PySceneDetect detector configured as its CLI would be for the same options."""
    return adapter_for(name).make(resolved_threshold(name, threshold), min_scene_len_frames)


def replay_cuts(
    name: str,
    threshold: float | None,
    min_scene_len_frames: int,
    numbers: Sequence[int],
    scores: Sequence[float],
    fps: float,
) -> list[int]:
    """Cut frame numbers the detector would report given its per-frame ``scores``.

    Exact for every detector (see each adapter's ``replay``).
    """
    fps = fps if fps > 0 else _FALLBACK_FPS
    return adapter_for(name).replay(
        resolved_threshold(name, threshold), min_scene_len_frames, numbers, scores, fps
    )
