"""The keep rules: which decoded frames a sampling pass keeps, and why.

One rule set, several drivers. The streaming pass (:mod:`framesift.sample`), the
re-selection from a pass's analysis table (:func:`framesift.analysis.reselect`) and the
fast scan (:mod:`framesift.fastscan`) all decide with the pieces here:

- the interval clock (:class:`IntervalClock`): one frame per ``interval_s``, counted from
  the first frame;
- the keyframe rule: a keyframe pass keeps every frame it decodes, or, with an interval,
  the keyframes the interval clock is due at: at most one per ``interval_s``
  (``--keyframes --every N`` thins a preview of short GOPs);
- the scene start: the first frame of every scene when a detector runs, or, when that
  frame shows nothing (black, blank, a fade not yet out of black), the first frame that
  does within a bounded look-ahead (:class:`SceneStartChooser`);
- k representatives per scene (:class:`CandidateGrid`, :func:`candidate_stride`,
  :func:`choose_representatives`): the frames nearest the centres of k equal parts;
- the dedup gate (:class:`DedupGate`): a frame within ``dedup_bits`` of the last frame
  kept (in time order) is skipped, unless it opens a scene;
- one frames-table row (:func:`frame_row`) and one scenes-table row (:func:`scene_row`).

The reasons are :class:`~framesift.schema.KeepReason` values (defined beside the tables'
schemas, re-exported here); rows hold their plain strings (the values are
the strings the tables have always held), so the per-frame loop converts nothing.
This module sits on the ground floor: it knows settings and hashes, not decoding, images
or detectors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, Literal, TypedDict, TypeVar

from framesift.dedup import hamming
from framesift.schema import KeepReason

__all__ = [
    "EPS_S",
    "CandidateGrid",
    "DedupGate",
    "FrameRow",
    "IntervalClock",
    "KeepReason",
    "SceneRow",
    "SceneStartChooser",
    "StartChoice",
    "add_representative",
    "add_scene_start",
    "candidate_cap",
    "candidate_stride",
    "choose_representatives",
    "drop_scene_start",
    "frame_row",
    "interval_slot",
    "is_representative_only",
    "keep_reasons",
    "lookahead_frames",
    "representative_only",
    "scene_row",
    "shows_picture",
    "stream_end_s",
]

EPS_S = 1e-6
"""Slack on time comparisons (seconds): a frame this close to a target counts as on it."""

MIN_CONTRAST = 12.0
"""A picture whose gray levels spread less than this (standard deviation on 0-255) shows
nothing: black, white, a flat colour, or a fade still close to black."""

SCENE_START_LOOKAHEAD_S = 2.0
"""How far past a scene's first frame the pass looks for one that shows the scene."""

REPRESENTATIVE_CANDIDATES = 16
"""Representative candidates held per scene (at least 4k); thumbnails of analysis size."""


# Plain strings for the rows: appended per kept frame, compared by the tables' readers.
_INTERVAL = KeepReason.INTERVAL.value
_KEYFRAME = KeepReason.KEYFRAME.value
_SCENE_START = KeepReason.SCENE_START.value
_REPRESENTATIVE = KeepReason.REPRESENTATIVE.value


# -- rows ---------------------------------------------------------------------------------


class FrameRow(TypedDict):
    """One row of the frames table (``schema.FRAMES_SCHEMA``): a kept frame."""

    frame_index: int
    time_s: float
    pts: int
    keyframe: bool
    scene_index: int
    reasons: list[str]  # KeepReason values
    phash: int
    width: int
    height: int
    thumbnail_uri: str | None
    frame_uri: str | None
    thumbnail_bytes: int | None
    blank_frames_skipped: int | None  # scene starts: frames passed over; None otherwise


class SceneRow(TypedDict):
    """One row of the scenes table (``schema.SCENES_SCHEMA``)."""

    scene_index: int
    start_s: float
    end_s: float
    start_frame: int
    end_frame: int
    score: float
    transition: str | None  # cut, dissolve, fade: set by the transitions mode, else None
    transition_end_frame: int | None
    transition_end_s: float | None


def frame_row(
    *,
    frame_index: int,
    time_s: float,
    pts: int,
    keyframe: bool,
    scene_index: int,
    reasons: list[str],
    phash: int,
    width: int,
    height: int,
    thumbnail_uri: str | None = None,
    frame_uri: str | None = None,
    thumbnail_bytes: int | None = None,
    blank_frames_skipped: int | None = None,
) -> FrameRow:
    """The frames-table row of a kept frame (image columns empty until its pictures are
    written)."""
    return {
        "frame_index": frame_index,
        "time_s": time_s,
        "pts": pts,
        "keyframe": keyframe,
        "scene_index": scene_index,
        "reasons": reasons,
        "phash": phash,
        "width": width,
        "height": height,
        "thumbnail_uri": thumbnail_uri,
        "frame_uri": frame_uri,
        "thumbnail_bytes": thumbnail_bytes,
        "blank_frames_skipped": blank_frames_skipped,
    }


def scene_row(
    scene_index: int,
    *,
    start_s: float,
    end_s: float,
    start_frame: int,
    end_frame: int,
    cut_score: float,
) -> SceneRow:
    """The scenes-table row of a scene; the first scene has no cut, so its score is 0."""
    return {
        "scene_index": scene_index,
        "start_s": start_s,
        "end_s": end_s,
        "start_frame": start_frame,
        "end_frame": end_frame,
        "score": cut_score if scene_index > 0 else 0.0,
        "transition": None,
        "transition_end_frame": None,
        "transition_end_s": None,
    }


# -- per-frame rules ----------------------------------------------------------------------


class IntervalClock:
    """One frame per ``interval_s`` seconds, counted from the first frame offered.

    A frame is due when its time reaches the next target; the target after it is the
    first multiple of the interval (from the origin) past that frame, so a gap in the
    video skips the targets it covers instead of keeping a burst after it.
    """

    __slots__ = ("interval_s", "next_s", "origin_s")

    def __init__(self, interval_s: float | None) -> None:
        self.interval_s = interval_s
        self.origin_s: float | None = None
        self.next_s = 0.0

    def due(self, time_s: float) -> bool:
        """Whether the frame at ``time_s`` (offered in time order) is an interval frame."""
        interval = self.interval_s
        if interval is None:
            return False
        origin = self.origin_s
        if origin is None:
            self.origin_s = origin = self.next_s = time_s
        if time_s < self.next_s - EPS_S:
            return False
        steps = math.floor((time_s - origin) / interval + EPS_S) + 1
        self.next_s = origin + steps * interval
        return True


def interval_slot(time_s: float, origin_s: float, interval_s: float) -> int:
    """Which interval (counted from ``origin_s``) the time falls in; a frame whose slot
    differs from the previous frame's is the one the interval clock would most likely
    keep."""
    return math.floor((time_s - origin_s) / interval_s + EPS_S)


def stream_end_s(last_s: float, previous_s: float | None, fps: float) -> float:
    """Where the last scene ends: one frame step after the last frame (the step between
    the last two frames, or 1/fps when there was one frame)."""
    step = last_s - previous_s if previous_s is not None else 1.0 / fps
    return last_s + max(step, 0.0)


def keep_reasons(
    interval_due: bool, keyframe_pass: bool, scene_start: bool, *, interval_on: bool
) -> list[str]:
    """The reasons a frame is kept for, in the tables' order (empty: not kept).

    A keyframe pass keeps every keyframe it decodes when the interval is off
    (``interval_on`` False); with an interval, the interval thins the keyframes: one is
    kept when the interval clock is due at it, so at most one per interval. Scene starts
    (and representatives, chosen later) are kept as well, whatever the interval.
    """
    reasons: list[str] = []
    if interval_due:
        reasons.append(_INTERVAL)
    if keyframe_pass and (interval_due or not interval_on):
        reasons.append(_KEYFRAME)
    if scene_start:
        reasons.append(_SCENE_START)
    return reasons


def add_representative(reasons: list[str]) -> None:
    """Mark a kept frame as its scene's representative too (once)."""
    if _REPRESENTATIVE not in reasons:
        reasons.append(_REPRESENTATIVE)


def representative_only() -> list[str]:
    """The reasons of a frame kept only as its scene's representative."""
    return [_REPRESENTATIVE]


def is_representative_only(reasons: list[str]) -> bool:
    """Kept only as a representative: such frames do not count for the dedup gate."""
    return reasons == [_REPRESENTATIVE]


def add_scene_start(reasons: list[str]) -> None:
    """Mark a kept frame as its scene's start too (once, in the tables' order)."""
    if _SCENE_START not in reasons:
        reasons.insert(sum(r in (_INTERVAL, _KEYFRAME) for r in reasons), _SCENE_START)


def drop_scene_start(reasons: list[str]) -> None:
    """Withdraw the scene-start reason (its cut was not confirmed)."""
    if _SCENE_START in reasons:
        reasons.remove(_SCENE_START)


# -- the scene start that shows the scene ------------------------------------------------


def shows_picture(contrast: float) -> bool:
    """Whether a frame with this gray-level spread shows something (:data:`MIN_CONTRAST`)."""
    return contrast >= MIN_CONTRAST


def lookahead_frames(fps: float) -> int:
    """Frames of :data:`SCENE_START_LOOKAHEAD_S` at this rate (at least one)."""
    return max(1, round((fps if fps > 0 else 25.0) * SCENE_START_LOOKAHEAD_S))


StartChoice = Literal["wait", "first", "candidate"]
"""What :meth:`SceneStartChooser.offer` decided: look further, or the scene start is the
scene's first frame, or the candidate (the last frame that showed a picture)."""


@dataclass
class SceneStartChooser:
    """Which frame stands for a scene's start, decided frame by frame in time order.

    The first frame, unless it shows nothing (:func:`shows_picture`). Then the frames
    after it are looked at, at most ``lookahead`` of them and never past the scene's end:
    the first that shows a picture and has stopped brightening (the next frame's spread
    is at most 2% above its own: a fade in has settled) is taken; when the look-ahead ends
    first, the last frame that showed a picture; when none did, the first frame after
    all. A driver holds at most two pictures for this: the first frame's and the
    candidate's.
    """

    lookahead: int
    first: int = -1  # position of the scene's first frame; -1: nothing pending
    candidate: int = -1  # position of the last frame that showed a picture
    candidate_contrast: float = 0.0

    @property
    def waiting(self) -> bool:
        return self.first >= 0

    def open(self, position: int, contrast: float) -> bool:
        """A scene opens at ``position``: True when its first frame is its start."""
        if self.lookahead <= 0 or shows_picture(contrast):
            self.first = -1
            return True
        self.first, self.candidate = position, -1
        return False

    def offer(self, position: int, contrast: float) -> StartChoice:
        """The next frame of the same scene (while :attr:`waiting`)."""
        if self.candidate >= 0 and contrast <= self.candidate_contrast * 1.02 + 0.5:
            return self._done("candidate")
        if shows_picture(contrast):
            self.candidate, self.candidate_contrast = position, contrast
        if position - self.first >= self.lookahead:
            return self._done("candidate" if self.candidate >= 0 else "first")
        return "wait"

    def close(self) -> StartChoice:
        """The scene ended (or the stream) while waiting."""
        return self._done("candidate" if self.candidate >= 0 else "first")

    def _done(self, choice: StartChoice) -> StartChoice:
        self.first = -1
        return choice


class DedupGate:
    """Skips near-duplicates: a frame within ``dedup_bits`` of the last frame kept in time
    order. A scene start always passes; representatives (chosen per scene afterwards) are
    not recorded, so they never gate a later frame."""

    __slots__ = ("bits", "last_hash", "skipped")

    def __init__(self, dedup_bits: int | None) -> None:
        self.bits = dedup_bits
        self.last_hash: int | None = None
        self.skipped = 0

    def admits(self, phash: int, scene_start: bool) -> bool:
        """Whether a frame with reasons to be kept passes (counts it when it does not)."""
        bits, last = self.bits, self.last_hash
        if bits is None or scene_start or last is None or hamming(phash, last) > bits:
            return True
        self.skipped += 1
        return False

    def record(self, phash: int) -> None:
        """A frame was kept in time order: later frames are judged against it."""
        self.last_hash = phash


# -- representatives ----------------------------------------------------------------------


def candidate_cap(k: int) -> int:
    """Most representative candidates held per scene (even, so decimation keeps a grid)."""
    return max(REPRESENTATIVE_CANDIDATES, 4 * k)


def candidate_stride(frames_in_scene: int, k: int) -> int:
    """The frame stride of the candidate grid once a scene of that length has been seen.

    The pass offers every frame at offset 0, s, 2s ... from the scene start and halves its
    candidates (doubling s) whenever they exceed the cap (see :class:`CandidateGrid`), so
    the survivors are exactly the offsets that are multiples of the final stride.
    """
    cap = candidate_cap(k)
    stride, count = 1, 0
    for offset in range(frames_in_scene):
        if offset % stride:
            continue
        count += 1
        if count > cap:
            count = (count + 1) // 2
            stride *= 2
    return stride


def choose_representatives(times_s: list[float], start_s: float, end_s: float, k: int) -> list[int]:
    """Positions in ``times_s`` nearest to the centres of k equal parts of the scene."""
    chosen: list[int] = []
    for j in range(k):
        target = start_s + (j + 0.5) * (end_s - start_s) / k
        best = min(range(len(times_s)), key=lambda i: abs(times_s[i] - target))
        if best not in chosen:
            chosen.append(best)
    return chosen


_C = TypeVar("_C")


class CandidateGrid(Generic[_C]):
    """The current scene's representative candidates, held as they stream by.

    Frames at offsets 0, s, 2s ... from the scene's first frame are held (with whatever the
    driver needs to keep one later, ``_C``); past the cap every other one is let go and s
    doubles, so memory stays bounded however long the scene. :func:`candidate_stride` is
    the same rule for a driver that sees the whole scene at once.
    """

    __slots__ = ("_cap", "_first_frame", "_items", "_stride", "_times_s", "k")

    def __init__(self, k: int) -> None:
        self.k = k
        self._cap = candidate_cap(k)
        self._first_frame = 0
        self._stride = 1
        self._items: list[_C] = []
        self._times_s: list[float] = []

    def open_scene(self, first_frame: int) -> None:
        """A new scene starts at frame ``first_frame``: drop the last scene's candidates."""
        self._first_frame = first_frame
        self._stride = 1
        self._items = []
        self._times_s = []

    def wants(self, frame_index: int) -> bool:
        """Whether the frame lies on the grid (and should be offered)."""
        return self.k > 0 and (frame_index - self._first_frame) % self._stride == 0

    def offer(self, time_s: float, item: _C) -> None:
        """Hold a frame the grid wants."""
        self._items.append(item)
        self._times_s.append(time_s)
        if len(self._items) > self._cap:
            self._items = self._items[::2]
            self._times_s = self._times_s[::2]
            self._stride *= 2

    def choose(self, start_s: float, end_s: float) -> list[_C]:
        """The scene (``start_s`` to ``end_s``) has ended: its representatives, and the
        grid emptied."""
        items, times = self._items, self._times_s
        self._items, self._times_s = [], []
        if not self.k or not items:
            return []
        return [items[i] for i in choose_representatives(times, start_s, end_s, self.k)]
