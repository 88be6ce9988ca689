"""From decoded frames to display images: scaling by FFmpeg's scaler, rotation, encoding.

Every pixel format FFmpeg decodes (yuv420p, yuvj422p, yuv444p, rgb24, 10-bit ...) is
converted by swscale straight to the size and layout wanted; numpy only rotates the small
result by multiples of 90 degrees.
"""

from __future__ import annotations

import io

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from framesift.spec import ImageFormat

__all__ = ["encode_image", "fit_within", "render_frame"]

_PIL_FORMATS = {"jpeg": "JPEG", "webp": "WEBP", "png": "PNG"}
EXTENSIONS = {"jpeg": "jpg", "webp": "webp", "png": "png"}


def fit_within(width: int, height: int, max_side_px: int) -> tuple[int, int]:
    """Scale (width, height) down so the longer side is at most ``max_side_px`` (even sizes)."""
    scale = min(1.0, max_side_px / max(width, height))
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


def render_frame(
    frame: av.VideoFrame,
    *,
    coded_size: tuple[int, int],
    rotation_deg: int,
    fmt: str = "rgb24",
    interpolation: str = "AREA",
) -> NDArray[np.uint8]:
    """The frame as an (h, w, 3) array of ``coded_size`` (before rotation), rotated for display.

    ``rotation_deg`` is the clockwise display rotation (0, 90, 180, 270).
    """
    width, height = coded_size
    if frame.width == width and frame.height == height and frame.format.name == fmt:
        scaled = frame
    else:
        scaled = frame.reformat(
            width=width, height=height, format=fmt, interpolation=interpolation
        )
    array = scaled.to_ndarray()
    if rotation_deg:
        array = np.ascontiguousarray(np.rot90(array, k=-(rotation_deg // 90)))
    return array


def encode_image(rgb: NDArray[np.uint8], fmt: ImageFormat, quality: int) -> bytes:
    """Encode an RGB array as JPEG, WebP or PNG."""
    buffer = io.BytesIO()
    image = Image.fromarray(rgb)
    if fmt == "png":
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format=_PIL_FORMATS[fmt], quality=quality)
    return buffer.getvalue()
