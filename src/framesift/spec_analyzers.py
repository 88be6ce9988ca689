"""Settings of the frame analyzers run on the kept pictures of the pass
(:class:`AnalyzerSpec`, with :class:`OnnxModelSpec` for a model of one's own)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from framesift.errors import SettingsError
from framesift.redact import redact_url

__all__ = ["ANALYZER_NAMES", "AnalyzerSpec", "OnnxModelSpec"]

ANALYZER_NAMES: tuple[str, ...] = ("faces", "onnx", "ocr")
"""Frame analyzers framesift can run on the kept pictures of its pass
(:mod:`framesift.analyzers`)."""

ColourOrder = Literal["rgb", "bgr"]
ModelOutput = Literal["labels", "boxes", "embedding"]


@dataclass(frozen=True)
class OnnxModelSpec:
    """A model of one's own for the ``onnx`` analyzer, with the contract it is held to.

    The model takes one picture, ``input_width_px`` x ``input_height_px`` (the kept frame
    stretched to it), ``colour`` order, ``layout`` NCHW or NHWC, float32 values
    ``(pixel / 255 - mean) / std`` per channel. Its first output means ``output``:

    - ``labels``: one score per class, shape (1, classes); ``labels`` names them (a
      detection per class scoring at least ``min_score``, the best ``top_k``);
    - ``boxes``: shape (1, n, 6) rows ``x1, y1, x2, y2, score, class`` with corners as
      fractions of the picture (0 to 1); rows under ``min_score`` are dropped;
    - ``embedding``: shape (1, d), stored as the frame's vector.

    The model is checked against this contract before any video is read
    (:class:`~framesift.errors.ModelContractError` says what differs).
    """

    url: str
    input_width_px: int = 224
    input_height_px: int = 224
    colour: ColourOrder = "rgb"
    layout: Literal["nchw", "nhwc"] = "nchw"
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    output: ModelOutput = "labels"
    labels: tuple[str, ...] = ()
    min_score: float = 0.5
    top_k: int = 5
    int8: bool = False
    """Run an INT8 copy made by ONNX Runtime's dynamic quantisation (weights to 8 bits)."""
    storage_options: Mapping[str, Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        for name in ("mean", "std", "labels"):  # lists from Python callers: hashable values
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.url:
            raise SettingsError("the onnx analyzer needs a model: url='model.onnx' (path or URL)")
        for name in ("input_width_px", "input_height_px"):
            if not 8 <= getattr(self, name) <= 4096:
                raise SettingsError(f"{name}={getattr(self, name)}: allowed 8 to 4096 pixels")
        if self.colour not in ("rgb", "bgr"):
            raise SettingsError(f"colour={self.colour!r}: allowed 'rgb' or 'bgr'")
        if self.layout not in ("nchw", "nhwc"):
            raise SettingsError(f"layout={self.layout!r}: allowed 'nchw' or 'nhwc'")
        if self.output not in ("labels", "boxes", "embedding"):
            raise SettingsError(f"output={self.output!r}: allowed 'labels', 'boxes', 'embedding'")
        if len(self.mean) != 3 or len(self.std) != 3 or not all(s > 0 for s in self.std):
            raise SettingsError(f"mean={self.mean}, std={self.std}: three values each, std > 0")
        if not 0.0 <= self.min_score <= 1.0:
            raise SettingsError(f"min_score={self.min_score}: allowed 0 to 1")
        if not 1 <= self.top_k <= 1000:
            raise SettingsError(f"top_k={self.top_k}: allowed 1 to 1000")

    def contract(self) -> dict[str, Any]:
        """The contract as the settings hash and the catalog record it (no options)."""
        data = asdict(self)
        data.pop("storage_options")
        data["url"] = redact_url(self.url)
        return data


@dataclass(frozen=True)
class AnalyzerSpec:
    """Which frame analyzers run on the kept pictures of the pass (none by default).

    ``names``: from :data:`ANALYZER_NAMES` (``faces``: YuNet face detection; ``onnx``: the
    model of ``model``; ``ocr``: PP-OCR text lines through rapidocr). ``queue_frames``
    bounds the pictures waiting for the analyzers' thread: when they fall behind, decoding
    waits (memory stays bounded).
    ``threads``: inference threads (0: the cores this worker owns).
    """

    names: tuple[str, ...] = ()
    face_min_confidence: float = 0.75
    """Faces scoring below this (0 to 1) are not recorded. Real faces from 12 to 270 pixels
    wide scored 0.83 to 0.94 on the test footage; a cat's face 0.61 (data/LICENSES.md)."""
    face_max_side_px: int = 640
    """Faces are looked for on the picture scaled to this longest side (YuNet finds faces
    from about 10 pixels wide at this scale)."""
    ocr_min_confidence: float = 0.8
    """Lines read with less confidence (0 to 1) are dropped: textures read as "words"."""
    ocr_max_side_px: int = 960
    """Text is looked for on the picture scaled to this longest side (never enlarged)."""
    model: OnnxModelSpec | None = None
    queue_frames: int = 4
    threads: int = 0

    def __post_init__(self) -> None:
        names = tuple(self.names)
        object.__setattr__(self, "names", names)
        unknown = [n for n in names if n not in ANALYZER_NAMES]
        if unknown:
            raise SettingsError(
                f"analyzers {unknown}: allowed {', '.join(ANALYZER_NAMES)} (e.g. --analyze faces)"
            )
        if len(set(names)) != len(names):
            raise SettingsError(f"analyzers {list(names)}: each name once")
        if "onnx" in names and self.model is None:
            raise SettingsError("the onnx analyzer needs model=OnnxModelSpec(url=...)")
        if not 0.0 <= self.face_min_confidence <= 1.0:
            raise SettingsError(f"face_min_confidence={self.face_min_confidence}: allowed 0 to 1")
        if not 32 <= self.face_max_side_px <= 960:  # yuface degrades (and warns) above 960
            raise SettingsError(f"face_max_side_px={self.face_max_side_px}: allowed 32 to 960")
        if not 0.0 <= self.ocr_min_confidence <= 1.0:
            raise SettingsError(f"ocr_min_confidence={self.ocr_min_confidence}: allowed 0 to 1")
        if not 320 <= self.ocr_max_side_px <= 1920:
            raise SettingsError(f"ocr_max_side_px={self.ocr_max_side_px}: allowed 320 to 1920")
        if not 1 <= self.queue_frames <= 64:
            raise SettingsError(f"queue_frames={self.queue_frames}: allowed 1 to 64")
        if self.threads < 0:
            raise SettingsError(f"threads={self.threads}: allowed 0 (automatic) or more")

    @classmethod
    def parse(cls, names: str, **settings: Any) -> AnalyzerSpec:
        """From the CLI's ``--analyze faces,onnx`` (empty: none) and other settings."""
        return cls(tuple(n.strip() for n in names.split(",") if n.strip()), **settings)

    def to_dict(self) -> dict[str, Any]:
        """What changes the analyzers' output (the settings hash, the videos row): the
        names and each one's settings; queue size and threads change nothing."""
        data: dict[str, Any] = {"names": list(self.names)}
        if "faces" in self.names:
            data["faces"] = {
                "min_confidence": self.face_min_confidence,
                "max_side_px": self.face_max_side_px,
            }
        if "onnx" in self.names and self.model is not None:
            data["onnx"] = self.model.contract()
        if "ocr" in self.names:
            data["ocr"] = {
                "min_confidence": self.ocr_min_confidence,
                "max_side_px": self.ocr_max_side_px,
            }
        return data
