"""Frame analyzers: models run on the kept pictures of the one decode pass.

- :mod:`~framesift.analyzers.model`: the interface (:class:`Analyzer`, the frames it gets,
  the :class:`Detection` values it returns);
- :mod:`~framesift.analyzers.registry`: analyzers by name, with install hints;
- :mod:`~framesift.analyzers.faces` (``faces``: YuNet), :mod:`~framesift.analyzers.onnx_model`
  (``onnx``: a model of one's own under a declared contract): one implementation per module;
- :mod:`~framesift.analyzers.onnx_session`: the ONNX Runtime session factory (providers,
  threads, INT8);
- :mod:`~framesift.analyzers.runner`: the worker thread behind the pass's hand-off;
- :mod:`~framesift.analyzers.replay`: the same analyzers on kept frames decoded again.

Settings are :class:`framesift.spec.AnalyzerSpec`; results are the ``detections`` table
(:data:`framesift.schema.DETECTIONS_SCHEMA`). See docs/analyzers.md.
"""

from __future__ import annotations

from framesift.analyzers.model import Analyzer, AnalyzerFrame, Detection, PictureRequest
from framesift.analyzers.onnx_session import (
    PROVIDER_ORDER,
    inference_threads,
    open_session,
    quantize_int8,
)
from framesift.analyzers.registry import KNOWN_ANALYZERS, check_analyzers, make_analyzers
from framesift.analyzers.replay import analyze_kept_frames
from framesift.analyzers.runner import (
    AnalyzerOutput,
    AnalyzerRun,
    AnalyzerRunner,
    detections_frame,
)

__all__ = [
    "KNOWN_ANALYZERS",
    "PROVIDER_ORDER",
    "Analyzer",
    "AnalyzerFrame",
    "AnalyzerOutput",
    "AnalyzerRun",
    "AnalyzerRunner",
    "Detection",
    "PictureRequest",
    "analyze_kept_frames",
    "check_analyzers",
    "detections_frame",
    "inference_threads",
    "make_analyzers",
    "open_session",
    "quantize_int8",
]
