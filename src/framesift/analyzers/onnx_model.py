"""``onnx``: a model of the user's own, held to the contract its
:class:`~framesift.spec.OnnxModelSpec` declares.

The model is read once (a path or any fsspec URL), optionally quantised to INT8, opened
through :func:`~framesift.analyzers.onnx_session.open_session`, and checked before any
video: one image input of the declared layout and size (or dynamic dimensions), float
input, and a first output whose shape fits the declared meaning; a mismatch raises
:class:`~framesift.errors.ModelContractError` saying what was expected and what the model
has. Each frame is stretched to the input size, put in the declared colour order,
normalised ``(pixel / 255 - mean) / std``, and run one frame at a time.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from framesift.analyzers.model import Analyzer, AnalyzerFrame, Detection, PictureRequest
from framesift.analyzers.onnx_session import open_session, quantize_int8
from framesift.errors import MediaError, ModelContractError
from framesift.source import Source
from framesift.spec import AnalyzerSpec, OnnxModelSpec

__all__ = ["OnnxAnalyzer", "build", "read_model"]


def read_model(model: OnnxModelSpec) -> bytes:
    """The model file's bytes (ModelContractError when it cannot be read)."""
    source = Source.of(model.url, model.storage_options)
    try:
        with source.open_file() as handle:
            return handle.read()
    except MediaError as exc:
        raise ModelContractError(f"model {source.shown}: {exc.problem}") from None


class OnnxAnalyzer(Analyzer):
    """Labels with scores, boxes, or an embedding per kept frame, from a user's model."""

    name = "onnx"

    def __init__(self, model: OnnxModelSpec, *, threads: int) -> None:
        self.model = model
        shown = Source.of(model.url, model.storage_options).shown
        data = read_model(model)
        if model.int8:
            data = _int8_copy(data, shown)
        self._opened = open_session(data, threads=threads, shown=shown)
        session = self._opened.session
        self._input = _check_input(session, model, shown)
        self._output = _check_output(session, model, shown)
        self.request = PictureRequest(
            size_px=(model.input_width_px, model.input_height_px), colour=model.colour
        )
        self.batch_frames = 1
        self._mean = np.asarray(model.mean, dtype=np.float32)
        self._std = np.asarray(model.std, dtype=np.float32)

    @property
    def engine(self) -> str:
        precision = "int8" if self.model.int8 else "fp32"
        return f"{self._opened.engine} {precision}"

    def tensor(self, picture: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The model's input for one picture (already at the input size and colour order)."""
        values = (picture.astype(np.float32) / 255.0 - self._mean) / self._std
        if self.model.layout == "nchw":
            values = values.transpose(2, 0, 1)
        return np.ascontiguousarray(values[np.newaxis], dtype=np.float32)

    def analyze(self, frames: Sequence[AnalyzerFrame]) -> list[tuple[Detection, ...]]:
        session = self._opened.session
        results: list[tuple[Detection, ...]] = []
        for frame in frames:
            (out,) = session.run([self._output], {self._input: self.tensor(frame.picture)})
            results.append(self._detections(np.asarray(out), frame))
        return results

    def _detections(self, out: NDArray[Any], frame: AnalyzerFrame) -> tuple[Detection, ...]:
        model = self.model
        if model.output == "embedding":
            vector = tuple(float(v) for v in out.reshape(-1))
            return (Detection("embedding", 1.0, embedding=vector),)
        if model.output == "labels":
            scores = out.reshape(-1)
            best = np.argsort(-scores, kind="stable")[: model.top_k]
            return tuple(
                Detection(self._label(int(i)), float(scores[i]), extra={"class": int(i)})
                for i in best
                if scores[i] >= model.min_score
            )
        found: list[Detection] = []
        width, height = frame.display_width_px, frame.display_height_px
        for x1, y1, x2, y2, score, cls in out.reshape(-1, 6).tolist():
            if score < model.min_score:
                continue
            left, top = max(0.0, min(x1, x2)), max(0.0, min(y1, y2))
            right, bottom = min(1.0, max(x1, x2)), min(1.0, max(y1, y2))
            found.append(
                Detection(
                    self._label(int(cls)),
                    float(score),
                    left * width,
                    top * height,
                    (right - left) * width,
                    (bottom - top) * height,
                    extra={"class": int(cls)},
                )
            )
        return tuple(found)

    def _label(self, index: int) -> str:
        labels = self.model.labels
        return labels[index] if 0 <= index < len(labels) else str(index)


_INT8_COPIES: dict[str, bytes] = {}
_INT8_LOCK = threading.Lock()


def _int8_copy(data: bytes, shown: str) -> bytes:
    """The INT8 copy of a model, made once per process (each video builds its analyzers;
    quantising takes far longer than opening a session)."""
    digest = hashlib.sha256(data).hexdigest()
    with _INT8_LOCK:
        copy = _INT8_COPIES.get(digest)
        if copy is None:
            copy = _INT8_COPIES[digest] = quantize_int8(data, shown=shown)
        return copy


def build(spec: AnalyzerSpec, *, threads: int) -> OnnxAnalyzer:
    """The registry's constructor (see :mod:`framesift.analyzers.registry`)."""
    assert spec.model is not None  # AnalyzerSpec requires a model for onnx
    return OnnxAnalyzer(spec.model, threads=threads)


def _dims(shape: Sequence[Any]) -> list[int | None]:
    return [d if isinstance(d, int) and d > 0 else None for d in shape]


def _check_input(session: Any, model: OnnxModelSpec, shown: str) -> str:
    inputs = session.get_inputs()
    h, w = model.input_height_px, model.input_width_px
    expected = [1, 3, h, w] if model.layout == "nchw" else [1, h, w, 3]
    said = (
        f"one float32 image input shaped {expected} ({model.layout}, "
        f"{model.input_width_px}x{model.input_height_px}, {model.colour})"
    )
    if len(inputs) != 1:
        raise ModelContractError(
            f"model {shown}: the contract says {said}; the model has {len(inputs)} inputs "
            f"({', '.join(i.name for i in inputs)})"
        )
    (only,) = inputs
    dims = _dims(only.shape)
    fits = len(dims) == 4 and all(d is None or d == e for d, e in zip(dims, expected, strict=True))
    if not fits or only.type != "tensor(float)":
        raise ModelContractError(
            f"model {shown}: the contract says {said}; its input {only.name!r} is "
            f"{only.type} shaped {list(only.shape)}"
        )
    return str(only.name)


def _check_output(session: Any, model: OnnxModelSpec, shown: str) -> str:
    outputs = session.get_outputs()
    first = outputs[0]
    dims = _dims(first.shape)
    if model.output == "boxes":
        fits = len(dims) == 3 and dims[2] in (None, 6)
        said = "boxes shaped (1, n, 6): x1, y1, x2, y2 (fractions), score, class"
    elif model.output == "labels":
        fits = len(dims) == 2 and (
            not model.labels or dims[1] is None or dims[1] == len(model.labels)
        )
        said = f"class scores shaped (1, {len(model.labels) or 'classes'})"
    else:
        fits = len(dims) == 2
        said = "an embedding shaped (1, d)"
    if not fits:
        raise ModelContractError(
            f"model {shown}: the contract says its first output is {said}; "
            f"output {first.name!r} is shaped {list(first.shape)}"
        )
    return str(first.name)
