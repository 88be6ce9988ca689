"""What decoding a video costs, from stretches of it measured: CPU seconds per pixel, and
how that cost follows the bits each frame carries.

A decoder's work follows the bytes it decodes: over the looks at one video (2-s stretches
from its keyframes, :mod:`framesift.estimate`), the CPU seconds per frame rise with the
bytes per packet (R^2 0.77-0.84 on the two 10-minute benchmark videos, a slope of 0.19-0.23
ms a frame per KB; benchmarks/RESULTS.md). The looks are no fair sample of those bytes:
they start at keyframes, where an encoder spends the most bits (after a cut, on its
first pictures), and a video's start is often its busiest stretch (the 1080p benchmark
clip's first 20 s hold 16.6 KB a packet, its looks 14.4, the whole clip 13.1). The whole
video's bytes per packet are known (its keyframe scan reads every packet), so each
measured cost is carried along the fitted line to the bytes of the stretch it stands for
(a regression estimator): the looks spread over a video to the whole video's bytes, the
looks at its start to its calibrated stretch's.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from typing import Protocol

__all__ = [
    "MIN_FIT_LOOKS",
    "MIN_FIT_R2",
    "Measured",
    "bytes_slope",
    "cost_ratio",
    "per_pixel",
    "per_pixel_at",
    "whole_cost",
]

MIN_FIT_LOOKS = 4
"""Looks at one video needed to fit its cost to its bytes."""

MIN_FIT_R2 = 0.5
"""The bytes must explain this share of the looks' spread in cost for the slope to be
used: with fewer, the looks differ by what else they show, or by the machine's noise."""

_MOST_CARRIED = 2.0
"""A cost carried along the line moves by at most this factor (a line fitted over the
looks' bytes says little far outside them)."""


class Measured(Protocol):
    """A stretch of one video, measured (:class:`framesift.estimate.Calibration`)."""

    @property
    def cpu_s(self) -> float: ...
    @property
    def frames(self) -> int: ...
    @property
    def pixels(self) -> int: ...
    @property
    def packets(self) -> int: ...
    @property
    def packet_bytes(self) -> int: ...


def per_pixel(c: Measured) -> float | None:
    """CPU seconds per pixel of ``c``'s frames (None: nothing measured)."""
    return c.cpu_s / (c.frames * c.pixels) if c.frames and c.pixels else None


def _bytes_per_packet(c: Measured) -> float | None:
    return c.packet_bytes / c.packets if c.packets else None


def bytes_slope(looks: Sequence[Measured]) -> float | None:
    """The CPU seconds per frame one more byte per packet costs, fitted over ``looks`` at
    one video (least squares); None where it cannot be told: fewer than
    :data:`MIN_FIT_LOOKS` looks with counted packets, bytes explaining less than
    :data:`MIN_FIT_R2` of their spread in cost, or a cost that falls with the bytes."""
    points = [
        (weight, c.cpu_s / c.frames)
        for c in looks
        if c.frames and (weight := _bytes_per_packet(c)) is not None
    ]
    if len(points) < MIN_FIT_LOOKS:
        return None
    weights, costs = zip(*points, strict=True)
    if len(set(weights)) < 2 or len(set(costs)) < 2:
        return None
    slope, _ = statistics.linear_regression(weights, costs)
    if slope <= 0 or statistics.correlation(weights, costs) ** 2 < MIN_FIT_R2:
        return None
    return slope


def per_pixel_at(c: Measured, slope: float | None, bytes_per_packet: float | None) -> float | None:
    """``c``'s CPU seconds per pixel carried along ``slope`` to frames of
    ``bytes_per_packet`` (as measured where either is unknown), by a factor of two at
    most."""
    measured, own = per_pixel(c), _bytes_per_packet(c)
    if measured is None or not slope or bytes_per_packet is None or own is None:
        return measured
    per_frame = c.cpu_s / c.frames
    carried = per_frame + slope * (bytes_per_packet - own)
    carried = min(max(carried, per_frame / _MOST_CARRIED), per_frame * _MOST_CARRIED)
    return carried / c.pixels


def cost_ratio(compared: Iterable[tuple[Measured, Measured | None, float | None]]) -> float:
    """How the calibrated videos' whole stretch compared with their looks at it, in CPU
    seconds per pixel, the looks carried to the stretch's bytes (1.0 where nothing can
    be compared). ``compared``: each calibration, its looks and their slope."""
    costs = []
    for c, look, slope in compared:
        full_c = per_pixel(c)
        look_c = per_pixel_at(look, slope, _bytes_per_packet(c)) if look is not None else None
        if full_c and look_c:
            costs.append(full_c / look_c)
    return sum(costs) / len(costs) if costs else 1.0


def whole_cost(
    c: Measured,
    start: Measured | None,
    spread: Measured | None,
    slope: float | None,
    whole_bytes: float | None,
) -> float:
    """A calibrated video's CPU seconds per pixel over its whole length: its calibration's,
    scaled by how its looks spread over it (carried to the whole video's bytes) compared
    with its looks inside the calibrated stretch (carried to that stretch's bytes). A
    video without looks spread over it has its start looks carried both ways; without
    looks, or with nothing to carry them by, its calibration's alone."""
    calibrated = per_pixel(c) or 0.0
    if start is None or (spread is None and not (slope and whole_bytes)):
        return calibrated
    whole = per_pixel_at(spread or start, slope, whole_bytes)
    begun = per_pixel_at(start, slope, _bytes_per_packet(c))
    return calibrated * whole / begun if whole and begun else calibrated
