"""The streaming side of scene detection: one detector fed frame by frame by a pass.

With the transitions mode on, a :class:`~framesift.scenes.transitions.TransitionTracker`
sees the same analysis images beside the detector and takes its cuts in: the cuts the
pass is told of are then where each transition's new shot is clean
(:attr:`Transition.end_frame`), and :meth:`SceneCutDetector.apply_transitions` opens the
scenes at the transitions' first frames once the pass has ended.
"""

from __future__ import annotations

from collections.abc import MutableSequence, Sequence

import numpy as np
from numpy.typing import NDArray

from framesift.errors import SettingsError
from framesift.scenes.pyscenedetect import FrameTimecode, SceneDetector
from framesift.scenes.registry import adapter_for, resolved_threshold
from framesift.scenes.transitions import Transition, TransitionTracker, apply_transitions
from framesift.select import FrameRow, SceneRow
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
        *,
        transitions: bool = False,
    ) -> None:
        self.name = name
        self._adapter = adapter_for(name)
        self._detector = self._adapter.make(
            resolved_threshold(name, threshold), min_scene_len_frames
        )
        self._fps = fps if fps > 0 else _FALLBACK_FPS
        self._last_number: int | None = None
        self._tracker = TransitionTracker(min_scene_len_frames) if transitions else None
        self.transitions: dict[int, Transition] = {}
        """Every transition reported so far (transitions mode only), by the frame the pass
        was told to open its scene at."""

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
        return cls(spec.detector, spec.threshold, min_len, fps, transitions=spec.transitions)

    def may_cut_at(self, score: float) -> bool:
        """Whether a frame with this score can later be reported as a cut.

        Content and hash detectors only report frames whose score reached the threshold,
        the adaptive detector frames above ``min_content_val``; the threshold detector
        places cuts between fades, so any frame may be one.
        """
        if self._tracker is not None and self._tracker.holding:
            return True
        return self._adapter.may_cut_at(self._detector, score)

    @property
    def lookback_frames(self) -> int:
        """How many frames back a reported cut can lie (PySceneDetect's event buffer, and
        the transition tracker's look-back when it runs)."""
        lookback = int(self._detector.event_buffer_length) + 1
        if self._tracker is not None:
            lookback += self._tracker.lookback_frames
        return lookback

    def push(self, number: int, bgr: NDArray[np.uint8]) -> tuple[float, list[int]]:
        """Give frame ``number`` (strictly increasing) to the detector.

        Returns the detector's score for this frame and the frame numbers of any cuts
        the detector reports now (they may lie up to ``lookback_frames`` back).
        """
        self._last_number = number
        score, cuts = self._adapter.push(self._detector, number, self._fps, bgr)
        if self._tracker is not None:
            cuts = self._report(self._tracker.push(number, bgr, cuts))
        return score, cuts

    def finish(self) -> list[int]:
        """Cuts the detector reports once the stream has ended."""
        cuts: list[int] = []
        if self._last_number is not None:
            last = FrameTimecode(self._last_number, fps=self._fps)
            cuts = [int(c.frame_num) for c in self._detector.post_process(last)]
        if self._tracker is not None:
            cuts = self._report(self._tracker.finish(cuts))
        return cuts

    def apply_transitions(
        self,
        scene_rows: MutableSequence[SceneRow],
        frame_rows: Sequence[FrameRow],
        numbers: Sequence[int],
        times_s: Sequence[float],
    ) -> None:
        """Once the pass has ended (transitions mode only; nothing otherwise): open each
        scene at its transition's first frame and fill the scenes' transition columns
        (see :func:`~framesift.scenes.transitions.apply_transitions`)."""
        if self._tracker is not None:
            apply_transitions(scene_rows, frame_rows, self.transitions, numbers, times_s)

    def _report(self, transitions: list[Transition]) -> list[int]:
        """Transitions become final: the pass marks each scene where its picture is clean
        (and held)."""
        assert self._tracker is not None
        tracker = self._tracker
        marks = [
            t.end_frame if t.kind == "cut" else tracker.held_from(t.end_frame) for t in transitions
        ]
        self.transitions.update(zip(marks, transitions, strict=True))
        return marks


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
