"""Gradual transitions: dissolves and fades found as one transition each, beside the cuts.

The transitions mode (``SamplingSpec.transitions``) runs in the same pass as a cut
detector and sees the same analysis image. :class:`TransitionTracker` keeps a small
colour picture (32x18) of the last frames and, at every frame, tries to explain the
frames of a recent stretch as

    frame_i ~ a_i * X + b_i * Y + c_i

where X is the picture just before the stretch and Y the current one: a dissolve is
``a + b = 1`` with ``b`` rising, a fade to black or white lowers ``a`` towards a constant
``c`` and raises ``b`` out of it. The stretch counts as a gradual transition when X and Y
differ as two shots do (one OpenCV call per frame measures every held picture's
difference from the current one; where none is another shot's, the frame costs no more),
every frame fits that mix closely (camera motion does not: a panned picture is no mix of
its ends) and the weights ramp instead of jumping (a cut jumps). That first fit places
the transition's ends roughly (where the ramps of ``a`` and ``b``, fitted as lines, reach
0 and 1); once the new shot has been seen for
``SETTLE_FRAMES``, :func:`~framesift.scenes.mix_fit.place_transition` places them again by
a least-squares fit of the ramp's steps between clean pictures of the two shots (exact for
the linear ramps editors make, and not bent by the shots' own motion).

The cut detector's own cuts are held for the tracker's look-back: a cut inside a gradual
transition is that transition (one scene boundary, not several), and a cut after which
the picture returns to what it was within a few frames is a flash, not a cut.

A transition is reported once final, as a :class:`Transition`; the pass marks the scene
at the transition's ``end_frame`` (a picture it still holds, and one that shows the new
scene) and :func:`apply_transitions` moves each scene's start back to the transition's
first frame when the pass ends.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import cv2
import numpy as np
from numpy.typing import NDArray

from framesift.scenes.mix_fit import mix_fit, place_transition
from framesift.select import FrameRow, SceneRow

__all__ = [
    "TRANSITION_KINDS",
    "Transition",
    "TransitionKind",
    "TransitionTracker",
    "apply_transitions",
]

TransitionKind = Literal["cut", "dissolve", "fade"]
TRANSITION_KINDS: tuple[str, ...] = ("cut", "dissolve", "fade")

SMALL_SIZE = (32, 18)
"""The picture the tracker compares (width, height): colour layout, not detail, so that
noise and small motion weigh little."""
MAX_TRANSITION_FRAMES = 60
"""The longest gradual transition found (2.4 s at 25 fps); longer ones are missed."""
SHOT_DIFFERENCE = 40.0
"""Mean absolute difference (0-255) between the pictures before and after a transition:
two shots differ at least this much (the benchmark montages' transitions: 40 and more;
a moving shot drifts by up to about 40 in two seconds)."""
MAX_RESIDUAL = 0.45
"""Largest misfit of one frame of a transition (root mean square of the residual over
that of Y - X). Both shots of a dissolve move: about 0.35 at worst on real footage; a
fast pan or zoom: 0.6 and more."""
MIN_RAMP_FRAMES = 2
"""Frames a gradual transition's weights spend between 0.15 and 0.85 (a cut: none)."""
MAX_BEND = 0.1
"""How far (in weight, 0-1) a ramp may stray from its fitted line: an editor's ramp is
straight (0.07 at most on the montages), a shot's own drift mimicking a mix bends (0.08
to 0.26)."""
MIN_TRANSITION_FRAMES = 5
"""The shortest gradual transition (a few bright frames are a flash, not a fade)."""
PLAIN_STD = 6.0
"""A picture whose values spread less than this (standard deviation, 0-255) is one plain
colour (black, white): the middle of a fade, never one of its ends."""
SETTLE_FRAMES = 10
"""Frames of the new shot seen before a transition is final."""
JUMP_SHARE = 0.5
"""A stretch where one frame alone changes this share of the whole change holds a cut (or
a flash), not a gradual transition: such stretches are not fitted."""
FLASH_FRAMES = 6
"""A cut whose picture returns to the one before it within this many frames is a flash."""
FLASH_RETURN = 0.5
"""Returned: the difference to the picture before the cut falls below this share of the
cut's own."""

_TOLERANCE = 0.15


@dataclass(frozen=True)
class Transition:
    """How a scene starts: a cut, or a dissolve or fade over several frames."""

    kind: TransitionKind
    start_frame: int
    """The first frame of the transition: the scene's first frame."""
    end_frame: int
    """The first frame of the new shot's clean picture (exclusive end; a cut's span is
    empty: ``end_frame == start_frame``)."""


@dataclass(slots=True)
class _Fit:
    start: int
    end: int
    kind: TransitionKind


def small_picture(bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
    """The tracker's picture of one analysis image, flattened."""
    return _small_bytes(bgr).astype(np.float32)


def _small_bytes(bgr: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """:func:`small_picture` as it comes out of the resize (whole numbers, 0-255): the
    tracker keeps its pictures so, and the mean differences between them are then exact
    sums of whole numbers, taken by OpenCV in a few microseconds."""
    small = cv2.resize(bgr, SMALL_SIZE, interpolation=cv2.INTER_AREA)
    return cast(NDArray[np.uint8], small.reshape(-1))


def _mean_difference(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> np.float32:
    """Mean absolute difference of two small pictures: numpy's float32 mean of the same
    values (their sum is a whole number, exact in float32 too)."""
    return np.float32(cv2.norm(a, b, cv2.NORM_L1) / a.size)


def _crossing(
    values: NDArray[np.float64], numbers: NDArray[np.int64], level: float
) -> float | None:
    """Where a rising ramp of weights (0 to 1), fitted as a line on its middle part,
    crosses ``level``; None without a ramp, or when the ramp bends away from its line
    (by more than ``MAX_BEND``: the drift of a moving shot, not an editor's ramp)."""
    middle = (values > _TOLERANCE) & (values < 1.0 - _TOLERANCE)
    if int(middle.sum()) < MIN_RAMP_FRAMES:
        return None
    at = numbers[middle].astype(np.float64)
    slope, offset = np.polyfit(at, values[middle], 1)
    if slope < 1.0 / (2 * MAX_TRANSITION_FRAMES):
        return None
    if float(np.abs(values[middle] - (slope * at + offset)).max()) > MAX_BEND:
        return None
    return float((level - offset) / slope)


def _monotone(values: NDArray[np.float64], rising: bool) -> bool:
    steps = np.diff(values) if rising else -np.diff(values)
    return bool(steps.min(initial=0.0) > -_TOLERANCE)


def _fit_window(pictures: NDArray[np.float32], numbers: NDArray[np.int64]) -> _Fit | None:
    """A gradual transition between the first and last of ``pictures`` (consecutive
    frames), or None when the frames between are not one."""
    inner = pictures[1:-1]
    if len(inner) < MIN_RAMP_FRAMES:
        return None
    mixed = mix_fit(pictures[0], pictures[-1], inner)
    if mixed is None:
        return None
    weights, misfit = mixed
    if float(misfit.max()) > MAX_RESIDUAL:
        return None
    a, b = weights[0], weights[1]
    if not (_monotone(a, rising=False) and _monotone(b, rising=True)):
        return None
    if a.max() > 1 + _TOLERANCE or b.min() < -_TOLERANCE or (a + b).max() > 1 + _TOLERANCE:
        return None
    inner_numbers = numbers[1:-1]
    through = float((a + b).min()) < 0.5
    if through and float(inner[int(np.argmin(a + b))].std()) > 2 * PLAIN_STD:
        return None  # what lies between X and Y is a picture of its own, not black or white
    if through:  # a fade: out of X, then into Y, each its own ramp
        out_ramp, in_ramp = 1.0 - a, b
    else:  # a dissolve: Y's share of the mix (detail lost to motion cancels out)
        in_ramp = b / np.maximum(a + b, 1e-6)
        out_ramp = in_ramp
    # The transition starts the frame after the one where X is still whole (a = 1) and
    # ends (its clean new picture) where Y is whole (b = 1); a ramp without middle
    # frames (a cut into or out of black) is placed at its jump.
    leaves = _crossing(out_ramp, inner_numbers, 0.0)
    whole = _crossing(in_ramp, inner_numbers, 1.0)
    if leaves is None and whole is None:
        return None
    if leaves is None:
        leaves = float(inner_numbers[int(np.argmax(out_ramp > 0.5))]) - 1.0
    if whole is None:
        whole = float(inner_numbers[int(np.argmax(in_ramp > 0.5))])
    lo, hi = int(numbers[1]), int(numbers[-1])
    first = min(max(int(np.floor(leaves + 0.5)) + 1, lo), hi)
    clean = min(max(int(np.floor(whole + 0.5)), first + 1), hi)
    if clean - first < MIN_TRANSITION_FRAMES:
        return None
    return _Fit(first, clean, "fade" if through else "dissolve")


def _fits(x: NDArray[np.float32], y: NDArray[np.float32], frame: NDArray[np.float32]) -> bool:
    """Whether one frame is close to a mix of X, Y and a constant (the window test for a
    single frame: a few dot products)."""
    mixed = mix_fit(x, y, frame[None, :])
    return mixed is not None and float(mixed[1][0]) <= MAX_RESIDUAL


class TransitionTracker:
    """Finds gradual transitions frame by frame and merges a cut detector's cuts with them.

    ``push`` takes each frame's number, its analysis image and the cuts the cut detector
    reported at that frame; it returns the transitions that became final, in frame order.
    ``finish`` returns the rest once the stream has ended.
    """

    def __init__(self, min_scene_len_frames: int = 0) -> None:
        self._history = MAX_TRANSITION_FRAMES + SETTLE_FRAMES + 2
        size = SMALL_SIZE[0] * SMALL_SIZE[1] * 3
        # The last pictures in a ring (slot = push count modulo history), for one vector
        # operation over all of them per frame; their numbers, spreads and steps beside.
        self._ring = np.zeros((self._history, size), np.uint8)
        self._distance = np.zeros(self._history, np.float32)  # from the newest, by slot
        self._numbers = np.zeros(self._history, np.int64)
        self._spread = np.zeros(self._history, np.float32)
        self._step = np.zeros(self._history, np.float32)  # change from the frame before
        self._pushed = 0
        self._open: _Fit | None = None
        self._unchecked: list[int] = []  # cuts not yet cleared of being a flash
        self._cuts: list[int] = []  # cuts waiting for the transitions that may take them
        self._min_len = min_scene_len_frames
        self._last_start: int | None = None
        self._last_end: int | None = None
        self._held: deque[int] = deque(maxlen=self._history)  # frames whose picture is held
        self.holding = False
        """Whether the frame just pushed may become the end of a gradual transition
        (the pass must hold its picture)."""

    @property
    def lookback_frames(self) -> int:
        """How far back a reported transition's ``end_frame`` or a cut can lie."""
        return self._history + 1

    def push(self, number: int, bgr: NDArray[np.uint8], cuts: Sequence[int]) -> list[Transition]:
        picture = _small_bytes(bgr)
        slot = self._pushed % self._history
        previous = self._ring[(self._pushed - 1) % self._history]
        self._step[slot] = _mean_difference(picture, previous) if self._pushed else 0.0
        self._ring[slot] = picture
        self._numbers[slot] = number
        self._spread[slot] = cv2.meanStdDev(picture)[1][0, 0]
        self._pushed += 1
        self._unchecked.extend(cuts)
        self._check_flashes(number)
        fit = self._best_fit()
        if fit is not None and self._last_end is not None and fit.start <= self._last_end:
            fit = None  # the transition already reported, seen again from a later frame
        out: list[Transition] = []
        if fit is not None:
            if self._open is not None and fit.start > self._open.end + 1:
                out.extend(self._close())
            self._open = fit
        self.holding = self._open is not None
        if self.holding:
            self._held.append(number)
        if self._open is not None and self._settled(number, self._open):
            out.extend(self._close())
        horizon = number - self._history + 1
        if self._open is not None:
            horizon = min(horizon, self._open.start - 1)
        out.extend(self._release(horizon))
        return out

    def held_from(self, frame: int) -> int:
        """The first frame at or after ``frame`` whose picture the pass was told to hold
        (where the pass can open the scene with a picture); ``frame`` if none."""
        return next((held for held in self._held if held >= frame), frame)

    def finish(self, cuts: Sequence[int]) -> list[Transition]:
        self._unchecked.extend(cuts)
        self._check_flashes(None)
        out = self._close() if self._open is not None else []
        out.extend(self._release(None))
        return out

    # -- internals ----------------------------------------------------------------------

    def _order(self) -> NDArray[np.intp]:
        """The ring's slots in frame order: the oldest picture first, the newest last."""
        n = min(self._pushed, self._history)
        return np.arange(self._pushed - n, self._pushed) % self._history

    def _window(self) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The frames held, oldest first: their numbers and pictures."""
        order = self._order()
        return self._numbers[order], self._ring[order].astype(np.float32)

    def _best_fit(self) -> _Fit | None:
        n = min(self._pushed, self._history)
        if n < MIN_RAMP_FRAMES + 2:
            return None
        current = (self._pushed - 1) % self._history
        if self._spread[current] < PLAIN_STD:
            return None
        # Each picture's mean absolute difference from the current one: whole-number sums
        # (exact; OpenCV returns them nearest first, with their slots), divided as numpy's
        # float32 mean divides them.
        sums, slots = cv2.batchDistance(
            self._ring[current : current + 1],
            self._ring,
            cv2.CV_32S,
            normType=cv2.NORM_L1,
            K=self._history,
        )
        if sums[0, -1] < SHOT_DIFFERENCE * self._ring.shape[1]:
            return None  # no picture held is another shot's: many frames end here
        self._distance[slots[0]] = sums[0] / self._ring.shape[1]
        order = self._order()
        distance = self._distance[order]
        usable = (distance >= SHOT_DIFFERENCE) & (self._spread[order] >= PLAIN_STD)
        numbers = self._numbers[order]
        if self._last_end is not None:  # a window reaching back over the last transition
            usable &= numbers >= self._last_end  # reported finds nothing new
        # The largest one-frame change after each frame, up to the current one.
        steps = self._step[order]
        largest_after = np.maximum.accumulate(steps[::-1])[::-1]
        usable[:-1] &= largest_after[1:] < JUMP_SHARE * distance[:-1]
        candidates = np.flatnonzero(usable[: n - MIN_RAMP_FRAMES - 1])
        if candidates.size == 0:
            return None
        now = self._ring[current].astype(np.float32)
        for p in candidates[:: max(1, candidates.size // 3)][:3]:
            middle = (p + n - 1) // 2
            before = self._ring[order[p]].astype(np.float32)
            if not _fits(before, now, self._ring[order[middle]].astype(np.float32)):
                continue  # its middle frame is no mix of its ends: not one (cheap test)
            fit = _fit_window(self._ring[order[p:]].astype(np.float32), numbers[p:])
            if fit is not None:
                return fit
        return None

    def _settled(self, number: int, fit: _Fit) -> bool:
        """Whether the new shot has been seen for a while after ``fit`` (and the current
        picture is not plain black or white: a fade would still be going)."""
        if number - fit.end < SETTLE_FRAMES:
            return False
        return bool(self._spread[(self._pushed - 1) % self._history] >= PLAIN_STD)

    def _check_flashes(self, number: int | None) -> None:
        """Cuts after which the picture returned to the one before are flashes: dropped."""
        waiting: list[int] = []
        for cut in self._unchecked:
            if number is not None and number - cut < FLASH_FRAMES:
                waiting.append(cut)
            elif not self._is_flash(cut):
                self._cuts.append(cut)
        self._unchecked = waiting

    def _is_flash(self, cut: int) -> bool:
        numbers, pictures = self._window()
        i = int(np.searchsorted(numbers, cut))
        if i == 0 or i >= len(numbers):
            return False
        jump = float(np.mean(np.abs(pictures[i] - pictures[i - 1])))
        for before in range(max(i - FLASH_FRAMES, 0), i):
            for after in range(i, min(before + FLASH_FRAMES + 1, len(numbers))):
                back = float(np.mean(np.abs(pictures[after] - pictures[before])))
                if back < FLASH_RETURN * jump:
                    return True
        return False

    def _returns(self, fit: _Fit) -> bool:
        """Whether the picture after ``fit`` is the one before it (a flash: no transition)."""
        numbers, pictures = self._window()
        first = int(np.searchsorted(numbers, fit.start))
        clean = int(np.searchsorted(numbers, fit.end))
        if clean >= len(numbers):
            return False
        after = pictures[clean]
        return any(
            float(np.mean(np.abs(after - pictures[i]))) < SHOT_DIFFERENCE
            for i in range(max(first - FLASH_FRAMES, 0), first)
        )

    def _close(self) -> list[Transition]:
        fit = self._open
        assert fit is not None
        self._open = None
        if self._returns(fit):
            return self._release(fit.start - 1)
        fit = self._refine(fit)
        out = self._release(fit.start - 1)
        # Cuts inside the transition (or a frame either side) are the transition itself.
        self._cuts = [c for c in self._cuts if not fit.start - 1 <= c <= fit.end + 1]
        self._unchecked = [c for c in self._unchecked if not fit.start - 1 <= c <= fit.end + 1]
        out.extend(self._emit(Transition(fit.kind, fit.start, fit.end)))
        return out

    def _refine(self, fit: _Fit) -> _Fit:
        """The transition's ends placed where its weights' ramps bend
        (:func:`~framesift.scenes.mix_fit.place_transition`), refitted until they stay
        put (or return to where they were)."""
        numbers, pictures = self._window()
        seen: set[tuple[int, int]] = set()
        while (fit.start, fit.end) not in seen:
            seen.add((fit.start, fit.end))
            better = place_transition(pictures, numbers, fit.start, fit.end, fit.kind == "fade")
            if better is None or better[1] - better[0] < MIN_TRANSITION_FRAMES:
                break
            fit = _Fit(better[0], better[1], fit.kind)
        return fit

    def _release(self, horizon: int | None) -> list[Transition]:
        """Cuts before ``horizon`` (all: None), which no transition can take in any more."""
        out: list[Transition] = []
        keep: list[int] = []
        for cut in sorted(self._cuts):
            if horizon is not None and cut >= horizon:
                keep.append(cut)
            else:
                out.extend(self._emit(Transition("cut", cut, cut)))
        self._cuts = keep
        return out

    def _emit(self, transition: Transition) -> list[Transition]:
        last = self._last_start
        if last is not None and transition.start_frame - last < self._min_len:
            return []
        self._last_start = transition.start_frame
        self._last_end = transition.end_frame
        return [transition]


def apply_transitions(
    scene_rows: MutableSequence[SceneRow],
    frame_rows: Sequence[FrameRow],
    opened_at: Mapping[int, Transition],
    numbers: Sequence[int],
    times_s: Sequence[float],
) -> None:
    """Open each scene at its transition's first frame and record the transition.

    The pass opened every scene where its transition's new shot is clean (the frame
    ``opened_at`` maps to the transition: its ``end_frame``, or the first frame after it
    whose picture was held); this moves the scene's start (and the previous scene's end)
    back to the transition's ``start_frame``, moves the kept frames in between into the new
    scene and fills the transition columns. ``numbers`` and ``times_s`` are the frame
    numbers of the pass and their times.
    """

    def time_of(frame: int) -> float:
        i = min(bisect.bisect_left(numbers, frame), len(numbers) - 1)
        return float(times_s[i])

    moved: list[tuple[int, int, int]] = []  # (first frame, clean frame, new scene)
    for k, row in enumerate(scene_rows):
        if k == 0:
            continue
        transition = opened_at.get(row["start_frame"])
        if transition is None:
            row["transition"] = "cut"
            row["transition_end_frame"] = row["start_frame"]
            row["transition_end_s"] = row["start_s"]
            continue
        previous = scene_rows[k - 1]
        start = max(transition.start_frame, previous["start_frame"] + 1)
        start_s = time_of(start)
        row["transition"] = transition.kind
        row["transition_end_frame"] = transition.end_frame
        row["transition_end_s"] = time_of(transition.end_frame)
        moved.append((start, row["start_frame"], k))
        previous["end_frame"], previous["end_s"] = start, start_s
        row["start_frame"], row["start_s"] = start, start_s
    starts = [m[0] for m in moved]
    for frame in frame_rows:
        i = bisect.bisect_right(starts, frame["frame_index"]) - 1
        if (
            i >= 0
            and frame["frame_index"] < moved[i][1]
            and frame["scene_index"] == moved[i][2] - 1
        ):
            frame["scene_index"] = moved[i][2]
