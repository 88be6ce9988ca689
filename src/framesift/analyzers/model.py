"""What a frame analyzer is: the pictures it is given and the results it returns.

An :class:`Analyzer` names the picture it wants (:class:`PictureRequest`: a longest side
or an exact size, RGB or BGR), receives kept frames in small batches
(:class:`AnalyzerFrame`: the picture, the frame's index and time, its display size) and
returns, for each frame, a tuple of :class:`Detection` values: a label with a score, a box
in display pixels of the frame (the frames table's ``width`` x ``height``), details as
JSON-able ``extra``, or an embedding vector. Implementations live one per module beside
this one and are found by name in :mod:`framesift.analyzers.registry`.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

__all__ = ["Analyzer", "AnalyzerFrame", "Detection", "PictureRequest"]


@dataclass(frozen=True)
class PictureRequest:
    """The picture an analyzer wants: scaled so its longest side is ``max_side_px``
    (aspect kept, never enlarged), or stretched to exactly ``size_px`` (width, height);
    channels in ``colour`` order, uint8, height x width x 3."""

    max_side_px: int | None = None
    size_px: tuple[int, int] | None = None
    colour: Literal["rgb", "bgr"] = "rgb"

    def fit(self, width: int, height: int) -> tuple[int, int]:
        """The picture's (width, height) for a frame of this display size."""
        if self.size_px is not None:
            return self.size_px
        if self.max_side_px is None:
            return width, height
        scale = min(1.0, self.max_side_px / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))


@dataclass(frozen=True, slots=True)
class AnalyzerFrame:
    """One kept frame as an analyzer sees it."""

    frame_index: int
    time_s: float
    picture: NDArray[np.uint8]
    """height x width x 3, uint8, at the size and colour order the analyzer asked for."""
    display_width_px: int
    display_height_px: int

    def to_display(
        self, x: float, y: float, w: float, h: float
    ) -> tuple[float, float, float, float]:
        """A box in picture pixels as a box in display pixels of the frame."""
        sx = self.display_width_px / self.picture.shape[1]
        sy = self.display_height_px / self.picture.shape[0]
        return x * sx, y * sy, w * sx, h * sy


@dataclass(frozen=True)
class Detection:
    """One result of an analyzer on one frame: what, how sure, where, and details."""

    label: str
    score: float
    """0 to 1."""
    x_px: float | None = None
    y_px: float | None = None
    w_px: float | None = None
    h_px: float | None = None
    """Box in display pixels of the frame (left, top, width, height); None: no box."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """The analyzer's own details (stored as JSON), e.g. a face's five landmarks."""
    embedding: tuple[float, ...] | None = None


class Analyzer(abc.ABC):
    """A frame analyzer. Built once per video pass (models load in the constructor, so a
    model that cannot run fails before any frame); :meth:`analyze` runs on the analyzers'
    worker thread, one batch at a time."""

    name: str = ""
    """The registry name (``faces``, ``onnx``): the detections' ``analyzer`` column."""
    request: PictureRequest = PictureRequest()
    batch_frames: int = 1
    """At most this many frames per :meth:`analyze` call."""

    @abc.abstractmethod
    def analyze(self, frames: Sequence[AnalyzerFrame]) -> list[tuple[Detection, ...]]:
        """The detections of each frame, in the order of ``frames``."""

    @property
    @abc.abstractmethod
    def engine(self) -> str:
        """What ran the model (e.g. ``onnxruntime 1.32 CPUExecutionProvider``): the
        catalog records it with the video."""

    def close(self) -> None:  # noqa: B027  (optional: most analyzers hold nothing to release)
        """Release the model (sessions, threads)."""
