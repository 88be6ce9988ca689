"""What the frame analyzers found, drawn on a kept frame's picture: one box per detection,
scaled from the frame's display pixels to the picture, labelled with what it is and its
score, in the analyzer's colour (faces green, OCR text lines magenta, a model's boxes
orange). Every front end (``Catalog.show_thumbnails``, the catalog browser, the collection
overview, the notebooks) shows the same picture, so an exported HTML report carries the
boxes inside its images.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from typing import Any

import polars as pl

__all__ = [
    "ANALYZER_COLOURS",
    "analyzer_colour",
    "analyzers_run",
    "draw_detections",
    "frames_with_boxes",
]

log = logging.getLogger(__name__)

ANALYZER_COLOURS: Mapping[str, tuple[int, int, int]] = {
    "faces": (40, 200, 80),
    "ocr": (230, 40, 200),
    "onnx": (255, 150, 20),
}
"""The colour (RGB) of each analyzer's boxes, and of its lane on the timeline."""

_OTHER_COLOUR = (40, 170, 255)
_LABEL_CHARS = 28


def analyzer_colour(analyzer: str) -> tuple[int, int, int]:
    """The colour of ``analyzer``'s boxes (one for analyzers not built in)."""
    return ANALYZER_COLOURS.get(analyzer, _OTHER_COLOUR)


def analyzers_run(analyzer_spec: str | None) -> tuple[str, ...]:
    """The analyzers that ran on a video, from its ``videos.analyzer_spec`` (JSON, or None
    when none ran)."""
    if not analyzer_spec:
        return ()
    names = json.loads(analyzer_spec).get("names", [])
    return tuple(str(name) for name in names)


def frames_with_boxes(frames: pl.DataFrame, detections: pl.DataFrame | None) -> pl.DataFrame:
    """The rows of ``frames`` on which an analyzer found something with a box (a face, a
    line of text), in time order."""
    if detections is None or detections.is_empty():
        return frames.clear()
    found = (
        detections.filter(pl.col("x_px").is_not_null()).select("video_id", "frame_index").unique()
    )
    return frames.join(found, on=["video_id", "frame_index"], how="semi").sort("time_s")


def _caption(row: Mapping[str, Any]) -> str:
    label = str(row["label"] or row["analyzer"])
    if len(label) > _LABEL_CHARS:
        label = label[: _LABEL_CHARS - 1] + "…"
    score = row["score"]
    return label if score is None else f"{label} {score:.2f}"


def draw_detections(
    image: bytes,
    detections: pl.DataFrame,
    *,
    frame_width_px: int,
    frame_height_px: int,
) -> bytes:
    """``image`` (JPEG, PNG or WebP bytes of one kept frame, any size) with a box for each
    row of ``detections`` that has one (``x_px, y_px, w_px, h_px`` in display pixels of a
    ``frame_width_px`` x ``frame_height_px`` frame) and its label and score, in the same
    image format. Rows without a box (a model's labels, embeddings) draw nothing; without
    any box the bytes come back unchanged."""
    boxed = detections.filter(pl.col("x_px").is_not_null() & pl.col("w_px").is_not_null())
    if boxed.is_empty():
        return image
    if frame_width_px <= 0 or frame_height_px <= 0:
        raise ValueError(f"frame size {frame_width_px}x{frame_height_px}: allowed above 0")
    from PIL import Image, ImageDraw, ImageFont

    with Image.open(io.BytesIO(image)) as opened:
        kind = opened.format or "PNG"
        picture = opened.convert("RGB")
    sx, sy = picture.width / frame_width_px, picture.height / frame_height_px
    line = max(1, round(picture.width / 160))
    font = ImageFont.load_default(size=max(9, round(picture.width / 28)))
    draw = ImageDraw.Draw(picture)
    for row in boxed.iter_rows(named=True):
        colour = analyzer_colour(str(row["analyzer"]))
        x0, y0 = row["x_px"] * sx, row["y_px"] * sy
        x1, y1 = x0 + row["w_px"] * sx, y0 + row["h_px"] * sy
        draw.rectangle((x0, y0, x1, y1), outline=colour, width=line)
        caption = _caption(row)
        left, top, right, bottom = draw.textbbox((0, 0), caption, font=font)
        height = bottom - top + 2
        ty = y0 - height if y0 - height >= 0 else min(y1, picture.height - height)
        draw.rectangle((x0, ty, x0 + right - left + 3, ty + height), fill=colour)
        draw.text((x0 + 2 - left, ty + 1 - top), caption, fill=(0, 0, 0), font=font)
    out = io.BytesIO()
    if kind == "JPEG":
        picture.save(out, format="JPEG", quality=90, subsampling=0)  # thin lines keep colour
    else:
        picture.save(out, format=kind)
    return out.getvalue()
