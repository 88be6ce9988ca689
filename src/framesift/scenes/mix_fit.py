"""Frames as mixes of two pictures, and where a transition's ramp begins and ends.

The transition tracker (:mod:`framesift.scenes.transitions`) explains each frame of a
stretch as ``a * X + b * Y + c`` (X a picture of the old shot, Y one of the new, c a
plain level: black or white); :func:`mix_fit` gives those weights by least squares.
:func:`place_transition` then places a transition's first frame and clean end by fitting
the ramp of the mix weight: its per-frame steps, one level inside the transition and none
outside, by least squares; so the ends come from the whole ramp, not from one frame
crossing a threshold.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["mix_fit", "place_transition"]

REACH_FRAMES = 12
"""How far outside the transition (as first found) the ramp is fitted; the pictures X and
Y are taken there: clean pictures of their shots, before the shots have moved on much."""
MOVE_FRAMES = 8
"""How far one fit may move an end (the tracker refits until the ends stay put)."""


def mix_fit(
    x: NDArray[np.float32], y: NDArray[np.float32], frames: NDArray[np.float32]
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Each frame as ``a * x + b * y + c`` by least squares (the 3x3 normal equations):
    the weights (a, b, c: one column per frame) and each frame's misfit (root mean
    square residual over that of ``y - x``); None when X or Y is a plain colour or the
    two are alike."""
    scale = float(np.sqrt(np.mean((y - x) ** 2)))
    basis = np.stack([x, y, np.full_like(x, 255.0)])
    gram = (basis @ basis.T).astype(np.float64)
    if scale <= 0.0 or abs(np.linalg.det(gram / gram.max())) < 1e-9:
        return None
    projections = (basis @ frames.T).astype(np.float64)
    weights = np.linalg.solve(gram, projections).astype(np.float64)
    squares = np.einsum("ij,ij->i", frames, frames).astype(np.float64)
    explained = np.einsum("ij,ij->j", weights, projections)
    misfit = np.sqrt(np.maximum(squares - explained, 0.0) / x.size) / scale
    return weights, misfit.astype(np.float64)


def place_transition(
    pictures: NDArray[np.float32],
    numbers: NDArray[np.int64],
    first: int,
    clean: int,
    through_plain: bool,
) -> tuple[int, int] | None:
    """The first frame and the clean end (the first frame of the new shot's clean
    picture) of a transition first found at ``first`` and ``clean``, placed again by
    fitting its mix weight's ramp; each end moves at most ``MOVE_FRAMES``.

    ``pictures`` are consecutive frames (numbered ``numbers``) around the transition;
    ``through_plain`` is true for a fade. Each frame's step from the one before is
    projected on the direction from X (the picture ``REACH_FRAMES`` before the
    transition) to Y (as far after it): the weight's increase per frame. A linear ramp
    rises by the same amount every frame from its first frame to its clean end and not
    at all outside, so the ends are those of the box (a level inside, 0 outside) that
    fits the increases best by least squares. Steps, not the weights themselves, are
    fitted: a weight measured against a picture far away sags as the shot moves, its
    step from one frame to the next does not. A fade is two ramps: out of X into the
    plainest picture between (black or white), then out of it into Y. None when the
    frames held do not reach around the transition.
    """
    i_first = int(np.searchsorted(numbers, first))
    i_clean = int(np.searchsorted(numbers, clean))
    if i_first < 1 or i_clean >= len(numbers) or i_clean - i_first < 2:
        return None
    reach = REACH_FRAMES
    lo = max(i_first - 1 - reach, 0)
    hi = min(i_clean + reach, len(numbers) - 1)
    steps = np.diff(pictures[lo : hi + 1], axis=0)  # steps[k]: frame lo+k+1 minus lo+k
    x, y = pictures[lo], pictures[hi]
    if not through_plain:
        d = y - x
        along = steps @ d / float(d @ d)
        box = _box(along, i_first - lo - 1, i_clean - lo - 1)
        if box is None:
            return None
        return int(numbers[lo + 1 + box[0]]), int(numbers[lo + 1 + box[1]])
    spread = pictures[i_first:i_clean].std(axis=1)
    m = i_first + int(np.argmin(spread))
    plain = pictures[m]
    d1, d2 = plain - x, y - plain
    out = steps[: m - lo] @ d1 / max(float(d1 @ d1), 1e-6)
    inn = steps[m - lo :] @ d2 / max(float(d2 @ d2), 1e-6)
    start = _edge(out, i_first - lo - 1, rising=True)
    end = _edge(inn, i_clean - lo - 1 - (m - lo), rising=False)
    if start is None or end is None:
        return None
    return int(numbers[lo + 1 + start]), int(numbers[m + 1 + end])


def _box(values: NDArray[np.float64], s0: int, e0: int) -> tuple[int, int] | None:
    """The first and last index of the box (one level inside, 0 outside) that fits
    ``values`` best by least squares, each within ``MOVE_FRAMES`` of ``s0`` and ``e0``:
    the box whose sum squared over its length is largest."""
    c = np.concatenate([[0.0], np.cumsum(values)])
    best = None
    for s in range(max(s0 - MOVE_FRAMES, 0), min(s0 + MOVE_FRAMES, len(values) - 1) + 1):
        for e in range(max(e0 - MOVE_FRAMES, s + 2), min(e0 + MOVE_FRAMES, len(values) - 1) + 1):
            total = c[e + 1] - c[s]
            gain = total * total / (e - s + 1)
            if best is None or gain > best[0]:
                best = (gain, s, e)
    return None if best is None else (best[1], best[2])


def _edge(values: NDArray[np.float64], near: int, rising: bool) -> int | None:
    """Where a box fitted to ``values`` by least squares begins (``rising``: it runs to
    the end) or ends (it runs from the start), within ``MOVE_FRAMES`` of ``near``."""
    n = len(values)
    best = None
    for k in range(max(near - MOVE_FRAMES, 0), min(near + MOVE_FRAMES, n - 1) + 1):
        inside = values[k:] if rising else values[: k + 1]
        total = float(inside.sum())
        gain = total * total / len(inside)
        if best is None or gain > best[0]:
            best = (gain, k)
    return None if best is None else best[1]
