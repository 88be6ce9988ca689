"""``ocr``: on-screen text by PP-OCR (detection + recognition, Apache-2.0) through the PyPI
package ``rapidocr``, whose wheel carries the ONNX models: nothing is downloaded.

Each kept frame is looked at as BGR scaled to ``AnalyzerSpec.ocr_max_side_px`` on its
longest side (``Det.limit_type=max``: rapidocr's default enlarges small frames to a
736-pixel short side, which triples the time and reads nothing more). Every text line
read with at least ``ocr_min_confidence`` becomes one detection: label = the text, score
= the recogniser's confidence (0 to 1), box = the line's upright bounding box in display
pixels, its four corners in ``extra``. The floor is high on purpose: a line that is not
there is worse in search than a line missed.

The models run on ONNX Runtime's CPU provider with framesift's settings where rapidocr
takes them: intra-op threads from the cores this worker owns, one inter-op thread.
"""

from __future__ import annotations

import importlib.metadata
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.analyzers.model import Analyzer, AnalyzerFrame, Detection, PictureRequest
from framesift.errors import SettingsError
from framesift.spec import AnalyzerSpec

__all__ = ["OcrAnalyzer", "TextLine", "TextLineReader", "build"]

logger = logging.getLogger(__name__)

_INSTALL = "the ocr analyzer needs rapidocr (PP-OCR): pip install 'framesift[analyze]'"


@dataclass(frozen=True)
class TextLine:
    """One line of text on a picture: what, how sure (0 to 1), and its four corners in
    the picture's pixels (clockwise from top left)."""

    text: str
    confidence: float
    corners_px: tuple[tuple[float, float], ...]


class TextLineReader:
    """PP-OCR through rapidocr, set up once: :meth:`read` gives the lines of a picture."""

    def __init__(self, *, max_side_px: int, min_confidence: float, threads: int) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError:
            raise SettingsError(_INSTALL) from None
        self._min_confidence = min_confidence
        self._engine: Any = RapidOCR(
            params={
                "Det.limit_type": "max",
                "Det.limit_side_len": max_side_px,
                "Global.log_level": "error",
                "Global.text_score": min_confidence,
                "EngineConfig.onnxruntime.intra_op_num_threads": max(1, threads),
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )

    @property
    def engine(self) -> str:
        """What reads the text, for the catalog."""
        versions = []
        for package in ("rapidocr", "onnxruntime"):
            try:
                versions.append(f"{package} {importlib.metadata.version(package)}")
            except importlib.metadata.PackageNotFoundError:
                versions.append(f"{package} ?")
        return f"{' / '.join(versions)} (PP-OCR, CPUExecutionProvider)"

    def read(self, picture_bgr: NDArray[np.uint8]) -> list[TextLine]:
        """The lines read on ``picture_bgr`` (height x width x 3, uint8, BGR) at or above
        the confidence floor, top to bottom."""
        result = self._engine(np.ascontiguousarray(picture_bgr))
        texts = getattr(result, "txts", None)
        if not texts:
            return []
        lines: list[TextLine] = []
        for text, score, box in zip(texts, result.scores, result.boxes, strict=True):
            confidence = float(score)
            cleaned = str(text).strip()
            # One letter or sign alone is a texture read as text (a flag's stars as "K",
            # insignia as "大" at 0.76-0.87 on data/clips/portraits.mp4): kept from two.
            if confidence < self._min_confidence or sum(c.isalnum() for c in cleaned) < 2:
                continue
            corners = tuple((float(x), float(y)) for x, y in np.asarray(box).reshape(-1, 2))
            lines.append(TextLine(cleaned, min(confidence, 1.0), corners))
        return lines


class OcrAnalyzer(Analyzer):
    """Text lines on each kept frame: text, confidence, box."""

    name = "ocr"

    def __init__(self, spec: AnalyzerSpec, *, threads: int) -> None:
        self._reader = TextLineReader(
            max_side_px=spec.ocr_max_side_px,
            min_confidence=spec.ocr_min_confidence,
            threads=threads,
        )
        self.request = PictureRequest(max_side_px=spec.ocr_max_side_px, colour="bgr")
        self.batch_frames = 1

    @property
    def engine(self) -> str:
        return self._reader.engine

    def analyze(self, frames: Sequence[AnalyzerFrame]) -> list[tuple[Detection, ...]]:
        return [self._lines(frame) for frame in frames]

    def _lines(self, frame: AnalyzerFrame) -> tuple[Detection, ...]:
        found: list[Detection] = []
        for line in self._reader.read(frame.picture):
            xs = [x for x, _ in line.corners_px]
            ys = [y for _, y in line.corners_px]
            left, top = min(xs), min(ys)
            x, y, w, h = frame.to_display(left, top, max(xs) - left, max(ys) - top)
            corners = [
                [round(px, 1), round(py, 1)]
                for px, py, _, _ in (
                    frame.to_display(cx, cy, 0.0, 0.0) for cx, cy in line.corners_px
                )
            ]
            found.append(
                Detection(line.text, line.confidence, x, y, w, h, extra={"corners": corners})
            )
        return tuple(found)


def build(spec: AnalyzerSpec, *, threads: int) -> OcrAnalyzer:
    """The registry's constructor (see :mod:`framesift.analyzers.registry`)."""
    return OcrAnalyzer(spec, threads=threads)
