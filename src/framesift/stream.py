"""The streaming pass's selection: frames offered in time order, kept by the rules of
:mod:`framesift.select`, scenes closed and representatives chosen as each scene ends.

The pass (:class:`framesift.sample.SamplingPass`) decodes, analyses and holds a frame for
the detector's look-back; then it offers the frame here (:meth:`StreamSelector.offer`).
Kept frames come back as :class:`~framesift.handoff.KeptFrame` once their pictures have
been handed on (the pass's hand-off is given as ``hand_off``).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import av
import numpy as np
from numpy.typing import NDArray

from framesift.decode import DecodedFrame
from framesift.handoff import NO_FRAME, HeldPicture, KeptFrame
from framesift.select import (
    CandidateGrid,
    DedupGate,
    FrameRow,
    SceneRow,
    SceneStartChooser,
    StartChoice,
    add_representative,
    add_scene_start,
    frame_row,
    is_representative_only,
    keep_reasons,
    representative_only,
    scene_row,
)
from framesift.spec import SamplingSpec

__all__ = ["HandOff", "PendingFrame", "StreamSelector", "mark_cuts", "release_picture"]

logger = logging.getLogger(__name__)

HandOff = Callable[[FrameRow, HeldPicture], bytes | None]
"""The pass's hand-off of a kept picture: returns the thumbnail's bytes (None: no image)."""


@dataclass(slots=True)
class PendingFrame:
    """A decoded frame waiting out the detector's look-back."""

    decoded: DecodedFrame
    phash: int
    interval_due: bool
    score: float = 0.0
    scene_start: bool = False
    contrast: float = 255.0  # gray-level spread of the analysis image (select.shows_picture)
    blank_frames_skipped: int | None = None  # set on a scene start found past blank frames


def release_picture(pending: PendingFrame) -> None:
    """Let the frame's picture go: it can no longer be kept."""
    pending.decoded = _without_frame(pending.decoded)


def _without_frame(decoded: DecodedFrame) -> DecodedFrame:
    """The frame's record without its picture (built directly: ``dataclasses.replace``
    costs several times more, on every decoded frame)."""
    return DecodedFrame(
        decoded.index, decoded.pts, decoded.time_s, decoded.keyframe, NO_FRAME, decoded.intra
    )


def mark_cuts(ring: deque[PendingFrame], cuts: list[int]) -> None:
    """Mark the frames the detector's cuts open scenes at (the first at or after each)."""
    for cut in cuts:
        for pending in ring:
            if pending.decoded.index >= cut:
                pending.scene_start = True
                break
        else:
            logger.warning("cut at frame %d reported too late to place; ignored", cut)


@dataclass(slots=True)
class _Held:
    """A frame the scene-start choice may still take, and its row if it was kept anyway."""

    pending: PendingFrame
    row: FrameRow | None = None


@dataclass(slots=True)
class _Candidate:
    pending: PendingFrame
    thumb_rgb: NDArray[np.uint8] | None
    row: FrameRow | None


class StreamSelector:
    """Keeps frames offered in time order; the rows of kept frames and of scenes grow here."""

    def __init__(
        self,
        spec: SamplingSpec,
        *,
        keyframe_pass: bool,
        size: tuple[int, int],
        hand_off: HandOff,
        thumbnail_rgb: Callable[[av.VideoFrame], NDArray[np.uint8]] | None,
        lookahead_frames: int = 0,
    ) -> None:
        self.spec = spec
        self.keyframe_pass = keyframe_pass
        self._width, self._height = size
        self._hand_off = hand_off
        self._thumbnail_rgb = thumbnail_rgb  # None: no images are written
        self._gate = DedupGate(spec.dedup_bits)
        self._grid: CandidateGrid[_Candidate] = CandidateGrid(spec.representatives_per_scene)
        self._detecting = spec.detector is not None
        self._representatives = spec.representatives_per_scene > 0
        self.rows: list[FrameRow] = []
        self.scene_rows: list[SceneRow] = []
        self._scene = -1
        self._scene_first = 0
        self._scene_start_s = 0.0
        self._scene_score = 0.0
        # The scene start that shows the scene (select.SceneStartChooser); 0: off.
        self.lookahead_frames = lookahead_frames
        self._start = SceneStartChooser(lookahead_frames)
        self._start_first: _Held | None = None
        self._start_candidate: _Held | None = None

    @property
    def duplicates_skipped(self) -> int:
        return self._gate.skipped

    def offer(self, pending: PendingFrame) -> Iterator[KeptFrame]:
        """The next frame in time order, its look-back over: kept or not."""
        decoded = pending.decoded
        if self._scene < 0 or (pending.scene_start and decoded.index > self._scene_first):
            if self._scene >= 0:
                yield from self._settle_start(self._start.close() if self._start.waiting else None)
                yield from self._close_scene(decoded.index, decoded.time_s)
            self._open_scene(pending)
        elif self._start.waiting:
            choice = self._start.offer(decoded.index, pending.contrast)
            if self._start.candidate == decoded.index:
                self._start_candidate = _Held(pending)
            if choice != "wait":
                yield from self._settle_start(choice, pending)
        reasons = keep_reasons(
            pending.interval_due,
            self.keyframe_pass,
            pending.scene_start,
            interval_on=self.spec.interval_s is not None,
        )
        row: FrameRow | None = None
        kept: KeptFrame | None = None
        if reasons and self._gate.admits(pending.phash, pending.scene_start):
            kept = self._keep(pending, reasons, None)
            row = kept.row
        for held in (self._start_first, self._start_candidate):
            if held is not None and held.pending is pending:
                held.row = row
        if self._representatives and self._grid.wants(decoded.index):
            self._offer_candidate(pending, row)
        if kept is not None:
            yield kept

    def finish(self, end_frame: int, end_s: float) -> Iterator[KeptFrame]:
        """The stream has ended (``end_frame``, ``end_s``: just past its last frame)."""
        if self._scene >= 0:
            yield from self._settle_start(self._start.close() if self._start.waiting else None)
            yield from self._close_scene(end_frame, end_s)

    def _settle_start(
        self, choice: StartChoice | None, current: PendingFrame | None = None
    ) -> Iterator[KeptFrame]:
        """The scene start was chosen (None: nothing was pending): mark or keep it.
        ``current`` is the frame being offered now (the selection keeps it next)."""
        first, candidate = self._start_first, self._start_candidate
        self._start_first = self._start_candidate = None
        if choice is None or first is None:
            return
        chosen = candidate if choice == "candidate" and candidate is not None else first
        if chosen.row is None and chosen.pending.decoded.frame is NO_FRAME:
            logger.warning("scene start at frame %d: picture gone", chosen.pending.decoded.index)
            chosen = first
        skipped = chosen.pending.decoded.index - first.pending.decoded.index
        chosen.pending.blank_frames_skipped = skipped
        if chosen.pending is current:
            current.scene_start = True
        elif chosen.row is not None:  # kept already (interval): now the scene start too
            add_scene_start(chosen.row["reasons"])
            chosen.row["blank_frames_skipped"] = skipped
        else:
            chosen.pending.scene_start = True
            reasons = keep_reasons(False, False, True, interval_on=False)
            yield self._keep(chosen.pending, reasons, None)

    def _open_scene(self, pending: PendingFrame) -> None:
        self._scene += 1
        self._scene_first = pending.decoded.index
        self._scene_start_s = pending.decoded.time_s
        self._scene_score = pending.score
        self._grid.open_scene(pending.decoded.index)
        pending.scene_start = self._detecting
        if self._detecting and not self._start.open(pending.decoded.index, pending.contrast):
            # Its first frame shows nothing: the start is chosen over the next frames.
            pending.scene_start = False
            self._start_first = _Held(pending)
            self._start_candidate = None

    def _keep(
        self, pending: PendingFrame, reasons: list[str], thumb_rgb: NDArray[np.uint8] | None
    ) -> KeptFrame:
        decoded = pending.decoded
        row = frame_row(
            frame_index=decoded.index,
            time_s=decoded.time_s,
            pts=decoded.pts,
            keyframe=decoded.keyframe,
            scene_index=self._scene,
            reasons=reasons,
            phash=pending.phash,
            width=self._width,
            height=self._height,
            blank_frames_skipped=(
                pending.blank_frames_skipped
                if pending.blank_frames_skipped is not None
                else 0
                if pending.scene_start
                else None
            ),
        )
        thumbnail = self._hand_off(row, HeldPicture(decoded.frame, thumb_rgb))
        if not is_representative_only(reasons):
            self._gate.record(pending.phash)
        self.rows.append(row)
        return KeptFrame(row=row, thumbnail=thumbnail)

    def _offer_candidate(self, pending: PendingFrame, row: FrameRow | None) -> None:
        thumb = None
        if self._thumbnail_rgb is not None and row is None:
            thumb = self._thumbnail_rgb(pending.decoded.frame)
        keep_frame = self.spec.image.full_frames and row is None
        held = pending if keep_frame or thumb is None else _without_picture(pending)
        self._grid.offer(pending.decoded.time_s, _Candidate(held, thumb, row))

    def _close_scene(self, end_frame: int, end_s: float) -> Iterator[KeptFrame]:
        self.scene_rows.append(
            scene_row(
                self._scene,
                start_s=self._scene_start_s,
                end_s=end_s,
                start_frame=self._scene_first,
                end_frame=end_frame,
                cut_score=self._scene_score,
            )
        )
        for candidate in self._grid.choose(self._scene_start_s, end_s):
            if candidate.row is not None:
                add_representative(candidate.row["reasons"])
                continue
            kept = self._keep(candidate.pending, representative_only(), candidate.thumb_rgb)
            candidate.row = kept.row
            yield kept


def _without_picture(pending: PendingFrame) -> PendingFrame:
    """The candidate without its decoded picture (its thumbnail is already rendered)."""
    return PendingFrame(
        _without_frame(pending.decoded),
        pending.phash,
        pending.interval_due,
        pending.score,
        pending.scene_start,
        pending.contrast,
        pending.blank_frames_skipped,
    )
